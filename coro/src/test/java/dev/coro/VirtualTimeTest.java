package dev.coro;

import static dev.coro.SchedulerClock.ms;
import static dev.coro.ThreadNames.thread;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@link VirtualTime#run} runs a thread on a clock that jumps to the next timer whenever every context would wait. */
@ExtendWith(FreshThread.class)
class VirtualTimeTest {

    private final List<String> log = new ArrayList<>();

    /**
     * A failure kept for main's next scheduling point before the run (main's receive was handed a
     * value before its channel closed, then the sender failed) is thrown by the run before its body
     * starts, not at the body's first yield, which would close the run's coroutines for it.
     */
    @Test
    void aFailureKeptForMainBeforeTheRunIsThrownBeforeTheBodyStarts() {
        Channel<Integer> ch = new Channel<>("kept", 0);
        Coroutine.create("sender", () -> {
            ch.send(1);
            ch.close();
            throw new IllegalStateException("late failure");
        });
        assertThat(ch.receive()).as("main's receive returns the value it was handed").isEqualTo(1);
        List<String> log = new ArrayList<>();
        assertThatThrownBy(() -> VirtualTime.run(() -> {
            log.add("body ran");
            Coroutine.yield();
        })).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'sender' failed: java.lang.IllegalStateException: late failure");
        assertThat(log).as("the body did not start").isEmpty();
        VirtualTime.run(() -> {
            Coroutine.create("inner", () -> log.add("inner ran"));
            Coroutine.yield();
            log.add("body after its yield");
        });
        assertThat(log).as("a run after it starts clean").containsExactly("inner ran", "body after its yield");
    }

    @Test
    void runReturnsOnceTheBodyAndEveryCoroutineCreatedInsideHaveEnded() {
        List<Coroutine> all = new ArrayList<>();
        VirtualTime.run(() -> {
            for (int k = 1; k <= 3; k++) {
                int seconds = k;
                all.add(Coroutine.create("c" + k, () -> {
                    Coroutine.sleep(Duration.ofSeconds(seconds));
                    log.add("c" + seconds + " at " + ms());
                }));
            }
            log.add("body returns at " + ms());
        });
        assertThat(log).containsExactly("body returns at 0", "c1 at 1000", "c2 at 2000", "c3 at 3000");
        assertThat(all).allSatisfy(c -> assertThat(c.state()).isEqualTo(State.FINISHED));
    }

    @Test
    void aCoroutinesYieldLoopEndsWhileRunWaitsForTheRest() {
        VirtualTime.run(() -> Coroutine.create("waiter", () -> {
            Coroutine sleeper = Coroutine.create("sleeper", () -> Coroutine.sleep(Duration.ofSeconds(5)));
            int yields = 0;
            while (!sleeper.isFinished() && yields < 1000) {
                Coroutine.yield();
                yields++;
            }
            log.add("sleeper " + sleeper.state() + " at " + ms() + " after " + yields + " yields");
        }));
        assertThat(log).as("main waiting in run is no runnable context: the waiter's yield lets the clock jump")
                .containsExactly("sleeper FINISHED at 5000 after 2 yields");
    }

    @Test
    void aParkThatLetsTheClockJumpWhileMainOnlyWaitsInRunDoesNotSwitchThroughMain() {
        Scheduler s = Scheduler.current();
        long before = s.schedulingPoints;
        VirtualTime.run(() -> Coroutine.create("sleeper", () -> {
            for (int k = 0; k < 100; k++) {
                Coroutine.sleep(Duration.ofMillis(1));
            }
            log.add("sleeper done at " + ms());
        }));
        assertThat(log).containsExactly("sleeper done at 100");
        assertThat(s.schedulingPoints - before)
                .as("main's first yield, the sleeper's 100 parks and the end of its body: main yields no more, "
                        + "each park jumps the clock itself and wakes in place (through main it would be 202)")
                .isEqualTo(102);
    }

    @Test
    void afterAJumpOfTheClockInAParkTheLastRunnableEntryRunsAsMainWouldChooseNotTheParkersPrevious() {
        VirtualTime.run(() -> {
            for (int k = 1; k <= 3; k++) {
                String name = "c" + k;
                boolean yieldsFirst = k == 2; // c2 parks last, between c1 and c3
                Coroutine.create(name, () -> {
                    if (yieldsFirst) {
                        Coroutine.yield();
                    }
                    Coroutine.sleep(Duration.ofMillis(10));
                    log.add(name + " at " + ms());
                });
            }
        });
        assertThat(log).as("c3, c1 and c2 wake at 10 ms in c2's park; main runs the last entry, c3, then the "
                        + "order of yield: c2, c1 (c2's previous entry would have been c1)")
                .containsExactly("c3 at 10", "c2 at 10", "c1 at 10");
    }

    /**
     * The yield analog of the park's case above: a {@code yield} that lets the clock jump (nothing else to run but
     * main, which only waits in {@code run}) then runs its own previous runnable entry, as any yield does, whatever
     * the jump woke after it in the run list.
     */
    @Test
    void afterAJumpOfTheClockInAYieldTheYieldersPreviousRunnableEntryRunsFirst() {
        VirtualTime.run(() -> {
            Coroutine c1 = Coroutine.create("c1", () -> {
                Coroutine.sleep(Duration.ofMillis(10));
                log.add("c1 at " + ms());
            });
            Coroutine[] c3 = new Coroutine[1];
            Coroutine.create("c2", () -> {
                int yields = 0;
                while (!(c1.isFinished() && c3[0].isFinished()) && yields < 1000) {
                    Coroutine.yield();
                    yields++;
                }
                log.add("c2 after " + yields + " yields");
            });
            c3[0] = Coroutine.create("c3", () -> {
                Coroutine.sleep(Duration.ofMillis(10));
                log.add("c3 at " + ms());
            });
        });
        assertThat(log).as("c3 and c1 park in their sleeps, then c2's yield finds only main, waiting in run: the clock "
                        + "jumps to 10 ms and wakes both, and c2's previous entry, c1, runs first (c3 is after c2)")
                .containsExactly("c1 at 10", "c3 at 10", "c2 after 3 yields");
    }

    @Test
    void aParkForAnotherThreadWithNoTimerWhileMainOnlyWaitsInRunBlocksInsteadOfMainYieldingOnAndOn() {
        CompletableFuture<String> result = new CompletableFuture<>();
        // on a thread of its own, so that a hang fails the test (the test thread's real clock guards it)
        long points = Coroutine.withTimeout(Duration.ofSeconds(30), () -> Peer.awaitUnwrapped(Peer.start("virtual", () -> {
            Scheduler s = Scheduler.current();
            long before = s.schedulingPoints;
            VirtualTime.run(() -> Coroutine.create("awaiter", () -> {
                Peer.start("completer", () -> {
                    while (result.getNumberOfDependents() == 0) { // until the awaiter waits for it
                        Thread.onSpinWait();
                    }
                    return result.complete("v");
                });
                log.add("got " + Coroutine.await(result) + " at " + ms() + " ms");
            }));
            return s.schedulingPoints - before;
        })));
        assertThat(log).containsExactly("got v at 0 ms");
        assertThat(points).as("main's first yield, the awaiter's park and the end of its body: the park waits "
                + "in the event loop, main does not yield in a loop until the result comes").isEqualTo(3);
    }

    @Test
    void mainResumedWhileTheRestWaitForAnotherThreadWithNoTimerBlocksInsteadOfYieldingOnAndOn() {
        CompletableFuture<String> result = new CompletableFuture<>();
        // on a thread of its own, so that a hang fails the test (the test thread's real clock guards it)
        long points = Coroutine.withTimeout(Duration.ofSeconds(30), () -> Peer.awaitUnwrapped(Peer.start("virtual", () -> {
            Scheduler s = Scheduler.current();
            long before = s.schedulingPoints;
            VirtualTime.run(() -> {
                Coroutine.create("awaiter", () -> {
                    Peer.start("completer", () -> {
                        while (result.getNumberOfDependents() == 0) { // until the awaiter waits for it
                            Thread.onSpinWait();
                        }
                        return result.complete("v");
                    });
                    log.add("got " + Coroutine.await(result) + " at " + ms() + " ms");
                });
                Coroutine.create("ender", () -> {
                    Coroutine.yield(); // the awaiter parks meanwhile
                    log.add("ender ends");
                });
            });
            return s.schedulingPoints - before;
        })));
        assertThat(log).containsExactly("ender ends", "got v at 0 ms");
        assertThat(points).as("main's yield, the ender's yield, the awaiter's park, the ender's end, main's "
                + "yield that waits for the result, the awaiter's end: 6; 5 if the result is in before the ender "
                + "ends (its end then runs the awaiter, and main need not wait); a few more if a wait of main's "
                + "ends before the result is in (a wake-up left from before); main yielding in a loop until the "
                + "result comes makes it over a thousand").isBetween(5L, 12L);
    }

    @Test
    void aTimedWaitOnTheThreadsOwnChannelThatNoOtherThreadHasUsedYetLetsTheClockJumpThoughAPoolBodyWillSend()
            throws InterruptedException {
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        List<String> trace = new ArrayList<>();
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            VirtualTime.run(() -> {
                Channel<String> results = new Channel<>("results", 1);
                pool.execute(() -> {
                    try {
                        go.await(); // the pool body sends only after the timed receive is over
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                    results.send("late");
                });
                trace.add("tryReceive " + results.tryReceive(Duration.ofSeconds(5)) + " at " + ms());
                go.countDown();
                trace.add("receive " + results.receive() + " at " + ms()); // a pool is open: waits for the post
            });
        }
        assertThat(trace).as("a local wait: nothing tells the thread that another will use the channel")
                .containsExactly("tryReceive Optional.empty at 5000", "receive late at 5000");
    }

    @Test
    void mainWhileTheRestWaitOnTheThreadsOwnChannelThatAPoolSendsToWaitsForThePostInsteadOfYieldingOnAndOn() {
        // on a thread of its own, so that a hang fails the test (the test thread's real clock guards it)
        long points = Coroutine.withTimeout(Duration.ofSeconds(30), () -> Peer.awaitUnwrapped(Peer.start("virtual", () -> {
            Scheduler s = Scheduler.current();
            long before;
            try (CoroutinePool pool = CoroutinePool.start(1)) { // open: another thread may wake this one
                Channel<String> mail = new Channel<>("mail", 0);
                before = s.schedulingPoints;
                VirtualTime.run(() -> Coroutine.create("receiver", () -> {
                    pool.submit(() -> {
                        mail.send("v");
                        return null;
                    });
                    log.add("got " + mail.receive() + " at " + ms() + " ms");
                }));
            }
            return s.schedulingPoints - before;
        })));
        assertThat(log).containsExactly("got v at 0 ms");
        assertThat(points).as("main's yield, the receiver's park, main's yield that waits for the pool's send, "
                + "the receiver's end: 3 or 4, or a few more if a wait of main's ends before the send is in; "
                + "main yielding in a loop until it comes makes it hundreds").isBetween(3L, 10L);
    }

    @Test
    void coroutinesThatCanNeverEndMakeRunThrowADeadlockNamingThemAndAreClosed() {
        Channel<Integer> jobs = new Channel<>("jobs", 0);
        List<Coroutine> all = new ArrayList<>();
        Throwable e = catchThrowable(() -> VirtualTime.run(() -> {
            all.add(Coroutine.create("consumer", () -> {
                try {
                    jobs.receive();
                } finally {
                    log.add("consumer finally at " + ms());
                }
            }));
            all.add(Coroutine.create("late", () -> {
                try {
                    Coroutine.sleep(Duration.ofSeconds(1));
                    jobs.receive();
                } finally {
                    log.add("late finally at " + ms());
                }
            }));
        }));
        assertThat(e).isInstanceOf(DeadlockException.class).hasMessage("VirtualTime.run cannot return: every coroutine"
                + " left on thread " + thread() + " is parked and no timer is pending, so nothing could ever wake them"
                + " (deadlock):\n  coroutine 'consumer' waits to receive from channel 'jobs'"
                + "\n  coroutine 'late' waits to receive from channel 'jobs'");
        assertThat(((DeadlockException) e).waits()).containsExactly(
                "coroutine 'consumer' waits to receive from channel 'jobs'",
                "coroutine 'late' waits to receive from channel 'jobs'");
        assertThat(log).as("the timer was waited for first").containsExactly(
                "consumer finally at 1000", "late finally at 1000");
        assertThat(all).allSatisfy(c -> assertThat(c.state()).isEqualTo(State.CLOSED));
    }

    @Test
    void aBodyThatThrowsHasTheLeftoverCoroutinesClosedThenItsExceptionRethrown() {
        IllegalStateException boom = new IllegalStateException("boom");
        List<Coroutine> all = new ArrayList<>();
        Throwable e = catchThrowable(() -> VirtualTime.run(() -> {
            all.add(Coroutine.create("sleeper", () -> {
                try {
                    Coroutine.sleep(Duration.ofHours(1));
                } finally {
                    log.add("sleeper finally at " + ms());
                }
            }));
            Coroutine.yield();
            all.add(Coroutine.create("never-ran", () -> log.add("never-ran ran")));
            throw boom;
        }));
        assertThat(e).isSameAs(boom);
        assertThat(boom.getSuppressed()).isEmpty();
        assertThat(log).containsExactly("sleeper finally at 0");
        assertThat(all).allSatisfy(c -> assertThat(c.state()).isEqualTo(State.CLOSED));
    }

    @Test
    void aNestedRunThrowsAndTheOuterRunGoesOnVirtually() {
        String owner = thread();
        VirtualTime.run(() -> {
            assertThatThrownBy(() -> VirtualTime.run(() -> log.add("inner ran")))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("main context 'main' of thread " + thread() + " (state RUNNING) cannot start VirtualTime.run:"
                            + " it already runs on a virtual clock");
            Coroutine.create("c", () -> assertThatThrownBy(() -> VirtualTime.run(() -> log.add("inner ran")))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("coroutine 'c' of thread " + owner + " (state RUNNING) cannot start VirtualTime.run:"
                            + " it is a coroutine; only main may start it, on a thread with no live coroutine"));
            Coroutine.sleep(Duration.ofHours(1));
            log.add("outer at " + ms());
        });
        assertThat(log).containsExactly("outer at 3600000");
    }

    /**
     * The pending timers that refuse a run are those of the scopes around its call, named by their calls: a
     * {@code tryWithTimeout} as such, and the consumer's scope around a generator's {@code next()} whose body starts
     * the run, the refusal being that body's failure.
     */
    @Test
    void aRunRefusedForTheTimersOfScopesAroundItNamesEachScopeByItsCallOutermostFirst() {
        log.add(catchThrowable(() -> Coroutine.tryWithTimeout(Duration.ofHours(1),
                () -> VirtualTime.run(() -> log.add("body ran")))).getMessage());
        Generator<String> g = Generator.of("g", out -> Coroutine.tryWithTimeout(Duration.ofHours(2),
                () -> VirtualTime.call(() -> "body ran")));
        log.add(catchThrowable(() -> Coroutine.withTimeout(Duration.ofHours(1), g::next)).getMessage());
        String refused = "main context 'main' of thread " + thread() + " (state RUNNING) cannot start ";
        assertThat(log).containsExactly(
                refused + "VirtualTime.run: it has 1 pending timer (of tryWithTimeout(PT1H) around this call)",
                "generator 'g' failed: java.lang.IllegalStateException: " + refused + "VirtualTime.call: it has 2 pending"
                        + " timers (of withTimeout(PT1H) and tryWithTimeout(PT2H) around this call)");
        assertThat(VirtualTime.call(() -> Coroutine.nanoTime())).as("no timer is left").isZero();
    }

    @Test
    void runOnAThreadWithALiveCoroutineOrAPendingTimerThrowsWithoutRunningTheBody() {
        String advice = "; virtual time needs a thread with none: close them first, or run on a thread of its own (an"
                + " earlier task of a pool's thread, or a test that failed, leaves on its thread the coroutines it did not close)";
        Channel<Integer> jobs = new Channel<>("jobs", 0);
        Coroutine d = Coroutine.create("stuck", jobs::receive);
        Coroutine.yield();
        assertThatThrownBy(() -> VirtualTime.run(() -> log.add("body ran")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' of thread " + thread() + " (state RUNNING) cannot start VirtualTime.run:"
                        + " its thread has 1 live coroutine (coroutine 'stuck' PARKED, waits to receive from channel 'jobs')" + advice);
        Coroutine c = Coroutine.create("live", () -> { });
        assertThatThrownBy(() -> VirtualTime.run(() -> log.add("body ran")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' of thread " + thread() + " (state RUNNING) cannot start VirtualTime.run:"
                        + " its thread has 2 live coroutines (coroutine 'stuck' PARKED, waits to receive from channel"
                        + " 'jobs', coroutine 'live' NEW)" + advice);
        List<Coroutine> more = new ArrayList<>();
        more.add(Coroutine.create(() -> { }));
        assertThatThrownBy(() -> VirtualTime.run(() -> log.add("body ran")))
                .isInstanceOf(IllegalStateException.class)
                .as("three, each named: none more")
                .hasMessage("main context 'main' of thread " + thread() + " (state RUNNING) cannot start VirtualTime.run:"
                        + " its thread has 3 live coroutines (coroutine 'stuck' PARKED, waits to receive from channel"
                        + " 'jobs', coroutine 'live' NEW, coroutine 'coroutine-3' NEW)" + advice);
        for (int k = 0; k < 2; k++) {
            more.add(Coroutine.create(() -> { }));
        }
        assertThatThrownBy(() -> VirtualTime.run(() -> log.add("body ran")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' of thread " + thread() + " (state RUNNING) cannot start VirtualTime.run:"
                        + " its thread has 5 live coroutines (coroutine 'stuck' PARKED, waits to receive from channel"
                        + " 'jobs', coroutine 'live' NEW, coroutine 'coroutine-3' NEW and 2 more)" + advice);
        assertThat(c.state()).isEqualTo(State.NEW);
        c.close();
        d.close();
        more.forEach(Coroutine::close);
        Coroutine.withTimeout(Duration.ofHours(1), () -> {
            assertThatThrownBy(() -> VirtualTime.run(() -> log.add("body ran")))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("main context 'main' of thread " + thread() + " (state RUNNING) cannot start VirtualTime.run:"
                            + " it has 1 pending timer (of withTimeout(PT1H) around this call)");
            Coroutine.withTimeout(Duration.ofHours(2), () -> assertThatThrownBy(() -> VirtualTime.run(() -> log.add("body ran")))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("main context 'main' of thread " + thread() + " (state RUNNING) cannot start VirtualTime.run:"
                            + " it has 2 pending timers (of withTimeout(PT1H) and withTimeout(PT2H) around this call)"));
        });
        assertThat(log).isEmpty();
        VirtualTime.run(() -> log.add("body ran"));
        assertThat(log).containsExactly("body ran");
    }

    /**
     * A {@code withTimeout} whose time is up and whose signal its body caught has no pending timer left, but
     * its signal comes at the body's next scheduling point: a run started there is refused as under a
     * pending one, before its body runs (which, cut at its first scheduling point by a signal of the real clock, would
     * otherwise end with its coroutines closed), and the signal is thrown again at the body's next scheduling point.
     */
    @Test
    void runInsideAWithTimeoutWhoseSignalTheBodyCaughtIsRefusedAndTheTimeoutThrownAfter() {
        List<String> log = new ArrayList<>();
        Throwable thrown = catchThrowable(() -> Coroutine.withTimeout(Duration.ofMillis(1), () -> {
            try {
                Coroutine.sleep(Duration.ofHours(1));
            } catch (CoroutineExit caught) {
                log.add("caught");
            }
            assertThatThrownBy(() -> VirtualTime.run(() -> log.add("body ran")))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("main context 'main' of thread " + thread() + " (state RUNNING) cannot start VirtualTime.run:"
                            + " it runs inside withTimeout(PT0.001S), whose time is up (its body caught the signal)");
            log.add("refused");
            Coroutine.yield(); // the signal, thrown again at the body's next scheduling point
            log.add("not reached");
        }));
        assertThat(thrown).isInstanceOf(CoroutineTimeoutException.class);
        assertThat(log).containsExactly("caught", "refused");
        VirtualTime.run(() -> log.add("body ran"));
        assertThat(log).containsExactly("caught", "refused", "body ran");
    }

    @Test
    void afterRunTheClockIsTheRealOneAgainAlsoWhenRunThrew() {
        VirtualTime.run(() -> Coroutine.sleep(Duration.ofDays(1)));
        assertRealClock();
        Channel<Integer> ch = new Channel<>("ch", 0);
        assertThatThrownBy(() -> VirtualTime.run(() -> {
            Coroutine.sleep(Duration.ofDays(1));
            ch.receive();
        })).isInstanceOf(DeadlockException.class);
        assertRealClock();
    }

    private static void assertRealClock() {
        long before = System.nanoTime();
        long now = Coroutine.nanoTime();
        long after = System.nanoTime();
        assertThat(now).isBetween(before, after);
    }

    @Test
    void aProgramWithSleepsTimeoutsAndUnbiasedSelectsGivesTheSameTraceEveryRun() throws InterruptedException {
        List<String> first = program();
        List<String> second = program();
        AtomicReference<List<String>> third = new AtomicReference<>();
        assertThat(OtherThread.thrownOn("another", () -> third.set(program()))).isNull();
        assertThat(first).hasSizeGreaterThan(20).isEqualTo(second).isEqualTo(third.get());
        assertThat(first.get(first.size() - 1)).isEqualTo("main ends at 3000");
    }

    /**
     * A test runner runs test after test on one thread, and tests fail half-way, each its own way:
     * after runs whose body threw, whose coroutine failed, that deadlocked (in main and in the rest),
     * whose {@code withTimeout} expired around a sleep, an await and a select, and that left a
     * generator suspended, the thread's next run starts clean and traces as on a fresh thread. On a
     * thread of its own, so that a run that blocks fails the test at the guard instead of hanging it.
     */
    @Test
    void afterRunsThatFailedEachItsOwnWayTheNextRunOfTheThreadTracesAsOnAFreshThread() throws Exception {
        List<String> fresh = program();
        CompletableFuture<List<String>> outcomes = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("runner").start(() -> {
            try {
                outcomes.complete(failedRunsThenProgram());
            } catch (Throwable t) {
                outcomes.completeExceptionally(t);
            }
        });
        List<String> seen;
        try {
            seen = outcomes.get(60, TimeUnit.SECONDS); // a guard against a hang, not a timing assertion
        } catch (TimeoutException t) {
            throw new AssertionError("a run after the failed ones waited for ever", t);
        }
        assertThat(seen.subList(0, 9)).containsExactly("IllegalStateException: boom",
                "CoroutineException: coroutine 'failing' failed: java.lang.IllegalStateException: fails",
                "DeadlockException: VirtualTime.run cannot return",
                "DeadlockException: main context 'main' cannot receive from channel 'never'",
                "CoroutineTimeoutException: main context 'main' timed out: withTimeout(PT1S) expired before its body returned",
                "CoroutineTimeoutException: main context 'main' timed out: withTimeout(PT0.005S) expired before its body returned",
                "CoroutineTimeoutException: main context 'main' timed out: withTimeout(PT0.005S) expired before its body returned",
                "returned, a generator left suspended",
                "state: 1 context, current index 0");
        assertThat(seen.subList(9, seen.size())).isEqualTo(fresh);
    }

    /** {@link #afterRunsThatFailedEachItsOwnWayTheNextRunOfTheThreadTracesAsOnAFreshThread}'s runs, on the calling thread. */
    private static List<String> failedRunsThenProgram() {
        List<String> seen = new ArrayList<>();
        CompletableFuture<Integer> never = new CompletableFuture<>();
        Channel<Integer> idle = new Channel<>("idle", 0);
        List<Runnable> bodies = List.of(
                () -> {
                    Coroutine.create("sleeper", () -> Coroutine.sleep(Duration.ofHours(1)));
                    Coroutine.yield();
                    throw new IllegalStateException("boom");
                },
                () -> {
                    Coroutine.create("failing", () -> {
                        throw new IllegalStateException("fails");
                    });
                    Coroutine.sleep(Duration.ofSeconds(1));
                },
                () -> Coroutine.create("stuck", () -> new Channel<Integer>("never", 0).receive()),
                () -> new Channel<Integer>("never", 0).receive(),
                () -> Coroutine.withTimeout(Duration.ofSeconds(1), () -> Coroutine.sleep(Duration.ofHours(1))),
                () -> Coroutine.withTimeout(Duration.ofMillis(5), () -> Coroutine.await(never)),
                () -> Coroutine.withTimeout(Duration.ofMillis(5), () -> new Select<Integer>().onReceive(idle, v -> v)
                        .onTimeout(Duration.ofSeconds(3), () -> 0).selectUnbiased()),
                () -> Generator.of(out -> {
                    while (true) {
                        Coroutine.sleep(Duration.ofSeconds(1));
                        out.emit(1);
                    }
                }).next());
        for (Runnable body : bodies) {
            try {
                VirtualTime.run(body);
                seen.add("returned, a generator left suspended");
            } catch (RuntimeException e) {
                seen.add(e.getClass().getSimpleName() + ": " + e.getMessage().replaceAll("(?s):( every|\n).*", ""));
            }
        }
        seen.add("state" + Coroutine.dump().lines().findFirst().orElseThrow().replaceAll(".*'runner'", ""));
        seen.addAll(program());
        return seen;
    }

    /**
     * A parallel test runner runs tests on several threads at once: four runs of one program at the
     * same time trace alike, as one alone does (each thread has its clock, its timers, its random and
     * its names; nothing is shared), and every one ends.
     */
    @Test
    void fourRunsOfOneProgramAtOnceOnFourThreadsTraceAlike() throws Exception {
        List<String> alone = program();
        java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
        List<CompletableFuture<List<String>>> runs = new ArrayList<>();
        for (int k = 0; k < 4; k++) {
            runs.add(Peer.start("parallel-" + k, () -> {
                try {
                    start.await(); // all four start together
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                return program();
            }));
        }
        start.countDown();
        for (CompletableFuture<List<String>> run : runs) {
            assertThat(run.get(60, TimeUnit.SECONDS)).isEqualTo(alone); // a guard against a hang, not a timing assertion
        }
    }

    /** A small program mixing every time feature; returns its trace. */
    private static List<String> program() {
        List<String> trace = new ArrayList<>();
        VirtualTime.run(() -> {
            Channel<Integer> a = new Channel<>("a", 1);
            Channel<Integer> b = new Channel<>("b", 0);
            for (int p = 1; p <= 2; p++) {
                int id = p;
                Coroutine.create("producer" + id, () -> {
                    for (int i = 0; i < 5; i++) {
                        Coroutine.sleep(Duration.ofMillis(70 * id + 13 * i));
                        boolean sent = (id == 1 ? a : b).trySend(10 * id + i, Duration.ofMillis(90));
                        trace.add("producer" + id + " " + (10 * id + i) + (sent ? " sent" : " timed out") + " at " + ms());
                    }
                });
            }
            Coroutine.create("consumer", () -> {
                Select<String> s = new Select<String>().onReceive(a, v -> "a " + v).onReceive(b, v -> "b " + v)
                        .onTimeout(Duration.ofMillis(120), () -> "nothing");
                for (int i = 0; i < 12; i++) {
                    trace.add("consumer " + s.selectUnbiased() + " at " + ms());
                }
            });
            try {
                Coroutine.withTimeout(Duration.ofMillis(500), () -> {
                    Optional<Integer> v = a.tryReceive(Duration.ofSeconds(10));
                    trace.add("main took " + v + " at " + ms());
                    Coroutine.sleep(Duration.ofSeconds(1));
                });
            } catch (CoroutineTimeoutException e) {
                trace.add("main timed out at " + ms());
            }
            Coroutine.sleep(Duration.ofMillis(3000 - ms()));
            trace.add("main ends at " + ms());
        });
        return trace;
    }

    @Test
    void aProgramThatNamesNothingGivesTheSameTraceOnEveryRunOfOneThreadAndNamesGoOnAfterIt() {
        Coroutine before = Coroutine.create(() -> { });
        Coroutine.yield();
        Channel<Integer> kept = new Channel<>(1);
        Semaphore keptPermits = new Semaphore(1);
        List<String> first = unnamedProgram();
        List<String> second = unnamedProgram();
        assertThat(first).containsExactly("permits of semaphore-1",
                "coroutine-1 sends 1 through channel-1 from generator-1", "main got 1",
                "[1] coroutine 'coroutine-2': PARKED, waits to receive from channel 'channel-2'",
                "coroutine 'coroutine-2' timed out at 100 ms");
        assertThat(second).isEqualTo(first);
        assertThat(before.name()).isEqualTo("coroutine-1");
        assertThat(kept.name()).isEqualTo("channel-1");
        assertThat(keptPermits.name()).isEqualTo("semaphore-1");
        assertThat(Coroutine.create(() -> { }).name()).as("counting the thread's creations, those of the runs too")
                .isEqualTo("coroutine-6");
        assertThat(new Channel<Integer>(0).name()).isEqualTo("channel-6");
        assertThat(Generator.of(out -> { }).name()).isEqualTo("generator-3");
        assertThat(new Semaphore(1).name()).isEqualTo("semaphore-4");
    }

    /** A program whose coroutines, channels and generator take the default names; returns its trace. */
    private static List<String> unnamedProgram() {
        List<String> trace = new ArrayList<>();
        VirtualTime.run(() -> {
            Channel<Integer> numbers = new Channel<>(0);
            Channel<Integer> never = new Channel<>(0);
            Generator<Integer> g = Generator.of(out -> out.emit(1));
            trace.add("permits of " + new Semaphore(1).name());
            Coroutine.create(() -> {
                int v = g.next();
                trace.add(Coroutine.current().name() + " sends " + v + " through " + numbers.name() + " from " + g.name());
                numbers.send(v);
            });
            Coroutine.create(() -> {
                try {
                    Coroutine.withTimeout(Duration.ofMillis(100), () -> never.receive());
                } catch (CoroutineTimeoutException e) {
                    trace.add(e.getMessage().replaceAll(": withTimeout.*", "") + " at " + ms() + " ms");
                }
            });
            trace.add("main got " + numbers.receive());
            trace.add(Coroutine.dump().lines().filter(l -> l.contains("PARKED")).findFirst().orElseThrow().trim()
                    .replaceAll(" \\(.*", ""));
        });
        return trace;
    }

    // ---- waits for other threads ---------------------------------------------------------------

    @Test
    void aTimeoutAroundAnAwaitThatNeverCompletesExpiresAndAResultThatComesKeepsTheClockStill() {
        CompletableFuture<String> never = new CompletableFuture<>();
        // on a thread of its own, so that a hang fails the test (the test thread's real clock guards it)
        List<String> seen = Coroutine.withTimeout(Duration.ofSeconds(30), () -> Peer.awaitUnwrapped(Peer.start("virtual", () -> {
            List<String> log = new ArrayList<>();
            VirtualTime.run(() -> {
                Coroutine.create("sleeper", () -> {
                    Coroutine.sleep(Duration.ofHours(1));
                    log.add("sleeper woke at " + ms() + " ms");
                });
                try {
                    Coroutine.withTimeout(Duration.ofMillis(50), () -> Coroutine.await(never));
                } catch (CoroutineTimeoutException e) {
                    log.add("await timed out at " + ms() + " ms");
                }
                CompletableFuture<String> soon = Peer.start("completer", () -> "v");
                log.add("await got " + Coroutine.withTimeout(Duration.ofHours(2), () -> Coroutine.await(soon))
                        + " at " + ms() + " ms");
            });
            return log;
        })));
        assertThat(seen).containsExactly("await timed out at 50 ms", "await got v at 50 ms", "sleeper woke at 3600000 ms");
        assertThat(never).isNotDone();
    }

    /**
     * Main's receive, handed a value before its channel closed, keeps a coroutine's failure for main's
     * next scheduling point; a body that throws first (a test's assertion) leaves no point inside the
     * run. The failure goes with the body's exception, suppressed, and not on to the thread: before,
     * main's first scheduling point after the run threw it, in the next test's run on that thread.
     */
    @Test
    void aFailureKeptForMainWhenTheBodyThrowsIsAddedToItsExceptionAndDoesNotReachTheNextRun() {
        AssertionError assertion = new AssertionError("the test's assertion");
        Throwable t = catchThrowable(() -> VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("ch", 0);
            Coroutine.create("sender", () -> {
                ch.send(7); // to main, parked in its receive
                ch.close();
                throw new IllegalStateException("late failure");
            });
            log.add("main got " + ch.receive());
            throw assertion;
        }));
        assertThat(t).isSameAs(assertion);
        assertThat(t.getSuppressed()).hasSize(1);
        assertThat(t.getSuppressed()[0]).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'sender' failed: java.lang.IllegalStateException: late failure");
        VirtualTime.run(() -> {
            Coroutine.sleep(Duration.ofSeconds(1));
            log.add("the next run at " + ms());
        });
        assertThat(log).containsExactly("main got 7", "the next run at 1000");
    }

    @Test
    void aCoroutineThatFailsWhileClosedAfterTheBodyThrewIsAddedToThatFailureAsSuppressed() {
        IllegalStateException boom = new IllegalStateException("boom");
        Throwable t = catchThrowable(() -> VirtualTime.run(() -> {
            Coroutine.create("stubborn", () -> {
                try {
                    Coroutine.sleep(Duration.ofHours(1));
                } finally {
                    throw new IllegalArgumentException("cannot clean up");
                }
            });
            Coroutine.yield(); // it parks in its sleep
            throw boom;
        }));
        assertThat(t).isSameAs(boom);
        assertThat(t.getSuppressed()).hasSize(1);
        assertThat(t.getSuppressed()[0]).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'stubborn' failed while being closed: java.lang.IllegalArgumentException: cannot clean up");
    }

    /**
     * A body's exception made with suppression disabled (a preallocated signal) cannot carry the run's
     * other failures: a failure kept for main and a leftover's failure while it is closed. The body's
     * exception is still what {@code run} throws, itself and bare; the others are not dropped but
     * handed to the thread's uncaught-exception handler in one report, caused by the body's exception,
     * that holds them suppressed.
     */
    @Test
    void aBodyExceptionThatTakesNoSuppressedOnesLeavesTheRunsOtherFailuresToTheThreadsUncaughtExceptionHandler() {
        RuntimeException signal = new RuntimeException("stop", null, false, false) { };
        List<Throwable> reported = new ArrayList<>();
        Thread me = Thread.currentThread();
        me.setUncaughtExceptionHandler((t, e) -> reported.add(e));
        Throwable t = catchThrowable(() -> VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("ch", 0);
            Coroutine.create("stubborn", () -> {
                try {
                    Coroutine.sleep(Duration.ofHours(1));
                } finally {
                    throw new IllegalArgumentException("cannot clean up");
                }
            });
            Coroutine.yield(); // it parks in its sleep
            Coroutine.create("sender", () -> {
                ch.send(7); // to main, parked in its receive
                ch.close();
                throw new IllegalStateException("late failure");
            });
            log.add("main got " + ch.receive());
            throw signal;
        }));
        assertThat(t).isSameAs(signal);
        assertThat(t.getSuppressed()).isEmpty();
        assertThat(log).containsExactly("main got 7");
        assertThat(reported).hasSize(1);
        assertThat(reported.get(0)).isInstanceOf(CoroutineException.class).hasCause(signal)
                .hasMessage("VirtualTime.run in main context 'main' of thread " + Scheduler.describe(me)
                        + " (state RUNNING): its body threw " + signal + ", which takes no suppressed exceptions; the run's 2 other"
                        + " failures are suppressed in this report instead");
        assertThat(reported.get(0).getSuppressed()).extracting(Throwable::getMessage).containsExactly(
                "coroutine 'sender' failed: java.lang.IllegalStateException: late failure",
                "coroutine 'stubborn' failed while being closed: java.lang.IllegalArgumentException: cannot clean up");
    }

    @Test
    void aCoroutineThatAFinallyBlockCreatesWhileTheLeftoversAreClosedIsClosedTooSoNoneOutlivesRun() {
        IllegalStateException boom = new IllegalStateException("boom");
        Coroutine[] late = new Coroutine[1];
        Throwable t = catchThrowable(() -> VirtualTime.run(() -> {
            Coroutine.create("leftover", () -> {
                try {
                    Coroutine.sleep(Duration.ofHours(1));
                } finally {
                    late[0] = Coroutine.create("late", () -> log.add("late ran"));
                }
            });
            Coroutine.yield(); // it parks in its sleep
            throw boom;
        }));
        assertThat(t).isSameAs(boom);
        assertThat(late[0].state()).isEqualTo(State.CLOSED);
        assertThat(Coroutine.dump()).contains(": 1 context, current index 0");
        VirtualTime.run(() -> log.add("a second run at " + ms())); // the thread has no live coroutine left
        assertThat(log).containsExactly("a second run at 0");
    }

    @Test
    void aCoroutineThatAFinallyBlockCreatesWhileTheDeadlockedAreClosedIsClosedTooSoNoneOutlivesRun() {
        Channel<Integer> jobs = new Channel<>("jobs", 0);
        Coroutine[] late = new Coroutine[1];
        Throwable t = catchThrowable(() -> VirtualTime.run(() -> Coroutine.create("consumer", () -> {
            try {
                jobs.receive();
            } finally {
                late[0] = Coroutine.create("late", () -> log.add("late ran"));
            }
        })));
        assertThat(t).isInstanceOf(DeadlockException.class);
        assertThat(late[0].state()).isEqualTo(State.CLOSED);
        assertThat(Coroutine.dump()).contains(": 1 context, current index 0");
        assertThat(log).isEmpty();
    }

    // ---- a run and what its thread exchanged with others before it ----------------------------

    /**
     * A thread that has exchanged something with another thread (here, an await) waits out a wait with
     * nothing else to run instead of reporting it (THREADS.md), for its life; but a run starts afresh:
     * its contexts are all new, so what the thread did before does not make its deadlock wait for
     * ever (a test thread that awaited a future in an earlier test would otherwise hang in every later
     * run that deadlocks). Run on a thread of its own, so that a run that blocks fails the test at the
     * guard instead of hanging it; afterwards the thread counts as connected again.
     */
    @Test
    void aDeadlockInARunIsReportedThoughTheThreadHadExchangedSomethingWithAnotherThreadBeforeIt() throws Exception {
        CompletableFuture<Boolean> connectedAfter = new CompletableFuture<>();
        deadlockedRunOnAThreadOfItsOwn("connected-before", () -> {
            assertThat(Coroutine.await(CompletableFuture.supplyAsync(() -> 1))).isEqualTo(1);
            assertThat(Scheduler.current().connected).as("an await is an exchange").isTrue();
        }, () -> connectedAfter.complete(Scheduler.current().connected));
        assertThat(connectedAfter.get(60, TimeUnit.SECONDS)).as("what the thread exchanged before the run still counts after it")
                .isTrue();
    }

    /**
     * On a new thread: {@code before}, then a run whose one coroutine waits on a channel nobody else
     * has, then {@code after}; asserts that the run reported its deadlock, guarded against a hang (the
     * bug these tests are about) by a bounded wait, not a timing assertion.
     */
    private static void deadlockedRunOnAThreadOfItsOwn(String threadName, Runnable before, Runnable after) throws Exception {
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        AtomicReference<String> name = new AtomicReference<>();
        Thread.ofPlatform().daemon().name(threadName).start(() -> {
            name.set(thread());
            before.run();
            outcome.complete(catchThrowable(() -> VirtualTime.run(() -> {
                Coroutine.create("stuck", () -> new Channel<Integer>("never", 0).receive());
            })));
            after.run();
        });
        Throwable e;
        try {
            e = outcome.get(60, TimeUnit.SECONDS);
        } catch (TimeoutException t) {
            throw new AssertionError("the run waited for ever instead of reporting its deadlock", t);
        }
        assertThat(e).isInstanceOf(DeadlockException.class).hasMessage("VirtualTime.run cannot return: every coroutine"
                + " left on thread " + name.get() + " is parked and no timer is pending, so nothing could ever wake them"
                + " (deadlock):\n  coroutine 'stuck' waits to receive from channel 'never'");
    }

    /**
     * An exchange inside a run counts after it too: a thread that had exchanged nothing before the run (its
     * own waits reported as deadlocks) has, once the run has returned, its waits treated as those of a thread
     * another may wake, as THREADS.md says of any exchange.
     */
    @Test
    void anExchangeInsideARunStillCountsAfterItOnAThreadThatHadExchangedNothingBefore() {
        Channel<String> own = new Channel<>("own", 0);
        assertThat(Scheduler.current().connected).as("nothing exchanged yet").isFalse();
        VirtualTime.run(() -> assertThat(Coroutine.await(CompletableFuture.supplyAsync(() -> "exchange"))).isEqualTo("exchange"));
        assertThat(Scheduler.current().connected).as("the await inside the run counts after it").isTrue();
        Thread self = Thread.currentThread();
        CompletableFuture<Void> giveUp = new CompletableFuture<>();
        try {
            CompletableFuture<Void> sender = Peer.start("sender", () -> {
                if (Peer.awaitBlocked(self, giveUp)) {
                    own.send("w");
                }
                return null;
            });
            assertThat(own.receive()).as("a wait on its own channel waits for the other thread").isEqualTo("w");
            Coroutine.await(sender);
        } finally {
            giveUp.complete(null);
        }
    }

    /** An exchange inside a run counts inside it: a later wait on the thread's own channel waits for the other thread. */
    @Test
    void anExchangeInsideARunMakesAWaitOnItsOwnChannelWaitForTheOtherThread() {
        Thread self = Thread.currentThread();
        CompletableFuture<Void> giveUp = new CompletableFuture<>();
        List<String> got = new ArrayList<>();
        try {
            VirtualTime.run(() -> {
                Channel<String> own = new Channel<>("own", 0);
                CompletableFuture<Void> sender = Peer.start("sender", () -> {
                    if (Peer.awaitBlocked(self, giveUp)) {
                        own.send("w");
                    }
                    return null;
                });
                assertThat(Coroutine.await(CompletableFuture.completedFuture("exchange"))).isEqualTo("exchange");
                got.add(own.receive() + " at " + ms());
                Coroutine.await(sender);
            });
        } finally {
            giveUp.complete(null);
        }
        assertThat(got).containsExactly("w at 0");
    }
    /**
     * A pool open in the JVM keeps every thread from reporting a deadlock outside a run (a pool thread
     * may still wake it); a run counts only a pool it hands a body to, so a test class's pool kept open
     * across its tests does not make a run that deadlocks wait for ever. Run on a thread of its own, as above.
     */
    @Test
    void aDeadlockInARunIsReportedThoughAPoolTheRunDoesNotUseIsOpen() throws Exception {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            assertThat(pool.submit(() -> 1).join()).isEqualTo(1);
            deadlockedRunOnAThreadOfItsOwn("pool-open", () -> { }, () -> { });
        }
    }

    /** A body a run hands to a pool is an exchange: a later wait of the run on its own channel waits for it. */
    @Test
    void aRunThatHandsABodyToAPoolWaitsOnItsOwnChannelForThatBody() {
        Thread self = Thread.currentThread();
        CompletableFuture<Void> giveUp = new CompletableFuture<>();
        List<String> got = new ArrayList<>();
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            VirtualTime.run(() -> {
                Channel<String> own = new Channel<>("own", 0);
                pool.execute(() -> {
                    if (Peer.awaitBlocked(self, giveUp)) {
                        own.send("w");
                    }
                });
                got.add(own.receive() + " at " + ms());
            });
        } finally {
            giveUp.complete(null);
        }
        assertThat(got).containsExactly("w at 0");
    }
}
