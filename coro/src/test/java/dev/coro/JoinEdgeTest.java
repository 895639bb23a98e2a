package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The seed's calls ({@code create}, {@code join}, {@code switchTo}, {@code yield}, {@code close}) made
 * in odd places: join cycles, joins of what ended long ago or belongs to another thread, switches to
 * parked or ended coroutines, and creations inside the unwinding of a close or of an expired timeout.
 */
@ExtendWith(FreshThread.class)
@Timeout(60)
class JoinEdgeTest {

    private final List<String> log = new ArrayList<>();

    @Test
    void aJoinCycleOfThreeThatMainJoinsIsADeadlockThrownInTheLastJoinerAndTheOthersThenEnd() {
        Coroutine[] cs = new Coroutine[3];
        cs[0] = Coroutine.create("a", () -> cs[1].join());
        cs[1] = Coroutine.create("b", () -> cs[2].join());
        cs[2] = Coroutine.create("c", () -> cs[0].join());
        // main parks, c, b and a run in turn; a's join would leave nothing runnable
        assertThatThrownBy(cs[0]::join).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'a' failed: dev.coro.DeadlockException: coroutine 'a' cannot join coroutine 'b': "
                        + "every other context of thread " + ThreadNames.thread() + " is parked and no timer is pending, so nothing could "
                        + "ever wake it (deadlock):\n"
                        + "  main context 'main' waits to join coroutine 'a'\n"
                        + "  coroutine 'a' would wait to join coroutine 'b'\n"
                        + "  coroutine 'b' waits to join coroutine 'c'\n"
                        + "  coroutine 'c' waits to join coroutine 'a'")
                .cause().isInstanceOf(DeadlockException.class);
        // a's end woke c, whose end wakes b: the cycle is broken once, and no join is left
        cs[1].join();
        assertThat(List.of(cs[0].state(), cs[1].state(), cs[2].state()))
                .containsExactly(State.FAILED, State.FINISHED, State.FINISHED);
        assertThat(Scheduler.current().joinWaits()).isZero();
    }

    @Test
    void mainJoiningACoroutineThatWaitsForMainIsADeadlockThrownFromMainsJoinWhichLeavesNoJoinBehind() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine r = Coroutine.create("r", () -> log.add("r got " + ch.receive()));
        r.switchTo();
        assertThatThrownBy(r::join).isInstanceOf(DeadlockException.class)
                .hasMessage("main context 'main' cannot join coroutine 'r': every other context of thread " + ThreadNames.thread()
                        + " is parked and no timer is pending, so nothing could ever wake it (deadlock):\n"
                        + "  main context 'main' would wait to join coroutine 'r'\n"
                        + "  coroutine 'r' waits to receive from channel 'ch'");
        assertThat(Scheduler.current().joinWaits()).isZero();
        ch.send(7); // main was not left parked: it can still feed r, and r's end wakes no stale join
        r.join();
        assertThat(log).containsExactly("r got 7");
        assertThat(Scheduler.current().joinWaits()).isZero();
    }

    @Test
    void aSwitchToEveryKindOfParkedCoroutineIsRefusedNamingItsWaitAndEachWaitStillEndsAsItShould() {
        VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("ch", 0);
            CompletableFuture<String> f = new CompletableFuture<>();
            Coroutine sleeper = Coroutine.create("sleeper", () -> {
                Coroutine.sleep(Duration.ofSeconds(1));
                log.add("sleeper woke at " + Coroutine.nanoTime());
            });
            Coroutine receiver = Coroutine.create("receiver", () -> log.add("receiver got " + ch.receive()));
            Coroutine awaiter = Coroutine.create("awaiter", () -> log.add("awaiter got " + Coroutine.await(f)));
            Coroutine joiner = Coroutine.create("joiner", () -> {
                sleeper.join();
                log.add("joiner joined " + sleeper.state());
            });
            for (Coroutine c : List.of(sleeper, receiver, awaiter, joiner)) {
                c.switchTo();
            }
            String fut = f.toString();
            for (Object[] row : List.of(
                    new Object[] {sleeper, "sleep 1,000.000 ms (t=1,000.000 ms on the virtual clock, 1,000.000 ms left)"},
                    new Object[] {receiver, "receive from channel 'ch'"},
                    new Object[] {awaiter, "await " + fut},
                    new Object[] {joiner, "join coroutine 'sleeper'"})) {
                Coroutine c = (Coroutine) row[0];
                assertThatThrownBy(c::switchTo).isInstanceOf(IllegalStateException.class)
                        .hasMessage("main context 'main' cannot switchTo coroutine '" + c.name() + "' (PARKED): it waits to "
                                + row[1] + "; only what it waits for can wake it");
                assertThat(c.state()).isEqualTo(State.PARKED);
            }
            assertThat(Scheduler.current().joinWaits()).isOne();
            ch.send(1);
            f.complete("v");
            sleeper.join();
            joiner.join();
            awaiter.join();
            assertThat(log).containsExactlyInAnyOrder("receiver got 1", "awaiter got v", "sleeper woke at 1000000000",
                    "joiner joined FINISHED");
            assertThat(Scheduler.current().joinWaits()).isZero();
        });
    }

    @Test
    void aJoinOfACoroutineThatEndedLongAgoHoweverItEndedReturnsAtOnceWithoutASwitchAndThrowsNothing() {
        Coroutine failed = Coroutine.create("failed", () -> {
            throw new IllegalStateException("boom");
        });
        assertThatThrownBy(failed::switchTo).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'failed' failed: java.lang.IllegalStateException: boom");
        Coroutine closedNew = Coroutine.create("closedNew", () -> log.add("closedNew ran"));
        closedNew.close();
        Coroutine closed = Coroutine.create("closed", Coroutine::yield);
        closed.switchTo();
        closed.close();
        Coroutine finished = Coroutine.create("finished", () -> log.add("finished ran"));
        finished.switchTo();
        Coroutine.create("bystander", () -> log.add("bystander ran"));
        for (Coroutine c : List.of(failed, closedNew, closed, finished)) {
            c.join(); // no switch: the bystander does not run, and the failure is not delivered twice
        }
        assertThat(log).containsExactly("finished ran");
        assertThatThrownBy(failed::switchTo).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot switchTo coroutine 'failed' (FAILED): it has ended, its body "
                        + "having thrown; its failure was delivered to its creator, main context 'main'");
        assertThatThrownBy(closedNew::switchTo).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot switchTo coroutine 'closedNew' (CLOSED): it has ended, closed");
        Coroutine.yield();
        assertThat(log).containsExactly("finished ran", "bystander ran");
    }

    @Test
    void joinersClosedOrTimedOutMeanwhileLeaveTheQueueAndTheOthersAreEachWokenOnceInTheUsualOrder() {
        VirtualTime.run(() -> {
            Coroutine t = Coroutine.create("t", () -> Coroutine.sleep(Duration.ofMillis(10)));
            List<Coroutine> joiners = new ArrayList<>();
            for (int i = 1; i <= 6; i++) {
                String name = "j" + i;
                Duration limit = i % 3 == 0 ? Duration.ofMillis(i) : Duration.ofHours(1); // j3 and j6 time out
                joiners.add(Coroutine.create(name, () -> {
                    try {
                        Coroutine.withTimeout(limit, () -> {
                            t.join();
                            log.add(name + " joined at " + Coroutine.nanoTime());
                            return null;
                        });
                    } catch (CoroutineTimeoutException e) {
                        log.add(name + " timed out at " + Coroutine.nanoTime());
                    } finally {
                        log.add(name + " ends");
                    }
                }));
            }
            Coroutine.yield(); // t sleeps, j6 … j1 park in their joins
            assertThat(Scheduler.current().joinWaits()).isEqualTo(6);
            joiners.get(1).close(); // j2
            joiners.get(4).close(); // j5
            assertThat(Scheduler.current().joinWaits()).isEqualTo(4);
            t.join();
            for (Coroutine j : joiners) {
                j.join();
            }
            assertThat(log).containsExactly("j2 ends", "j5 ends", "j3 timed out at 3000000", "j3 ends",
                    "j6 timed out at 6000000", "j6 ends",
                    // woken in the order their joins began (j4 first: j6 … j1 parked in that order), run in the usual order
                    "j1 joined at 10000000", "j1 ends", "j4 joined at 10000000", "j4 ends");
            assertThat(Scheduler.current().joinWaits()).isZero();
            assertThat(Scheduler.current().loop.timerCount()).isZero();
        });
    }

    @Test
    void aCoroutineCreatedInAFinallyOfAClosedCoroutineOutlivesItAndItsFailureGoesToMainAsItsCreatorEnded() {
        Coroutine[] late = new Coroutine[1];
        Coroutine a = Coroutine.create("a", () -> {
            try {
                Coroutine.yield();
            } finally {
                late[0] = Coroutine.create("late", () -> {
                    log.add("late runs, a is " + Coroutine.current().name());
                    throw new IllegalStateException("late fails");
                });
                for (Runnable call : List.<Runnable>of(Coroutine::yield, late[0]::switchTo, late[0]::join)) {
                    try {
                        call.run();
                    } catch (CoroutineExit e) {
                        log.add(e.getMessage());
                    }
                }
            }
        });
        a.switchTo();
        a.close();
        assertThat(a.state()).isEqualTo(State.CLOSED);
        assertThat(late[0].state()).isEqualTo(State.NEW);
        assertThat(log).containsExactly(
                "coroutine 'a' is being closed: its yield throws this signal so that it unwinds (state RUNNING, closing)",
                "coroutine 'a' is being closed: its switchTo throws this signal so that it unwinds (state RUNNING, closing)",
                "coroutine 'a' is being closed: its join coroutine 'late' throws this signal so that it unwinds "
                        + "(state RUNNING, closing)");
        assertThatThrownBy(late[0]::join).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'late' failed: java.lang.IllegalStateException: late fails");
        assertThatThrownBy(late[0]::switchTo).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot switchTo coroutine 'late' (FAILED): it has ended, its body having "
                        + "thrown; its failure was delivered to main context 'main', its creator coroutine 'a' having ended");
        assertThat(log).endsWith("late runs, a is late");
        assertThat(Scheduler.current().joinWaits()).isZero();
    }

    @Test
    void yieldSwitchToAndJoinInAFinallyOfAnExpiredTimeoutThrowItsSignalAgainAndWhatItCreatedRunsLater() {
        VirtualTime.run(() -> {
            Coroutine[] made = new Coroutine[1];
            assertThatThrownBy(() -> Coroutine.withTimeout(Duration.ofMillis(1), () -> {
                try {
                    Coroutine.sleep(Duration.ofSeconds(1));
                } finally {
                    made[0] = Coroutine.create("made", () -> log.add("made runs at " + Coroutine.nanoTime()));
                    for (Runnable call : List.<Runnable>of(Coroutine::yield, made[0]::switchTo, made[0]::join,
                            Coroutine.current()::switchTo)) {
                        try {
                            call.run();
                        } catch (CoroutineExit e) {
                            log.add(e.getMessage());
                        }
                    }
                }
                return null;
            })).isInstanceOf(CoroutineTimeoutException.class)
                    .hasMessage("main context 'main' timed out: withTimeout(PT0.001S) expired before its body returned");
            String signal = "main context 'main': its withTimeout(PT0.001S) expired; its ";
            assertThat(log).containsExactly(signal + "yield throws this signal so that the body unwinds to it",
                    signal + "switchTo throws this signal so that the body unwinds to it",
                    signal + "join coroutine 'made' throws this signal so that the body unwinds to it",
                    signal + "switchTo throws this signal so that the body unwinds to it");
            assertThat(made[0].state()).isEqualTo(State.NEW);
            assertThat(Scheduler.current().joinWaits()).isZero();
            made[0].join();
            assertThat(log).endsWith("made runs at 1000000");
        });
    }

    @Test
    void aCoroutineCreatedInsideAGeneratorBodyIsTheConsumersChildAndItsFailureComesFromTheBodysJoin() {
        VirtualTime.run(() -> {
            Coroutine[] child = new Coroutine[1];
            Generator<Integer> g = Generator.of(em -> {
                child[0] = Coroutine.create("child", () -> {
                    Coroutine.sleep(Duration.ofMillis(3));
                    throw new IllegalStateException("child fails");
                });
                em.emit(1);
                try {
                    child[0].join();
                } catch (CoroutineException e) {
                    log.add("body's join: " + e.getMessage() + " at " + Coroutine.nanoTime());
                }
                em.emit(2);
            });
            Coroutine consumer = Coroutine.create("consumer", () -> {
                for (int v : (Iterable<Integer>) () -> g) {
                    log.add("got " + v);
                }
            });
            consumer.join();
            assertThat(log).containsExactly("got 1",
                    "body's join: coroutine 'child' failed: java.lang.IllegalStateException: child fails at 3000000", "got 2");
            assertThat(child[0].state()).isEqualTo(State.FAILED);
            assertThatThrownBy(child[0]::switchTo).isInstanceOf(IllegalStateException.class)
                    .hasMessageEndingWith("its failure was delivered to its creator, coroutine 'consumer'");
            assertThat(consumer.state()).isEqualTo(State.FINISHED);
        });
    }

    @Test
    void underVirtualTimeALoopOfSwitchesToItselfWithNothingElseToRunLetsTheClockMoveAsOnTheRealClock() {
        // on the real clock the withTimeout's deadline comes while the loop runs; under virtual time the clock
        // moved only at idle points, and a switch to itself was none: the loop spun at t = 0 to its end
        int bound = 100_000;
        VirtualTime.run(() -> {
            int[] spins = {0};
            assertThatThrownBy(() -> Coroutine.withTimeout(Duration.ofMillis(1), () -> {
                Coroutine me = Coroutine.current();
                while (spins[0] < bound) {
                    spins[0]++;
                    me.switchTo();
                }
                return null;
            })).isInstanceOf(CoroutineTimeoutException.class)
                    .hasMessage("main context 'main' timed out: withTimeout(PT0.001S) expired before its body returned");
            log.add("main's loop ended at " + Coroutine.nanoTime() + " after " + spins[0] + " switches");
            Coroutine sleeper = Coroutine.create("sleeper", () -> {
                Coroutine.sleep(Duration.ofMillis(2));
                log.add("sleeper woke at " + Coroutine.nanoTime());
            });
            Coroutine spinner = Coroutine.create("spinner", () -> {
                Coroutine me = Coroutine.current();
                Coroutine.withTimeout(Duration.ofMillis(5), () -> {
                    // the first switch jumps to 2 ms and wakes the sleeper, which a switch to the spinner itself
                    // does not run; with it runnable the clock stays (as with yield loops in two contexts)
                    for (int i = 0; i < bound; i++) {
                        me.switchTo();
                    }
                    log.add("spinner's loop ended at " + Coroutine.nanoTime() + ", sleeper " + sleeper.state());
                    return null;
                });
            });
            sleeper.switchTo();
            spinner.join();
            sleeper.join();
        });
        assertThat(log).containsExactly("main's loop ended at 1000000 after 1 switches",
                "spinner's loop ended at 3000000, sleeper SUSPENDED", "sleeper woke at 3000000");
    }

    @Test
    void aPoolCoroutineIsRefusedToTheJoinsOfAnotherThreadNamingBothAndItsOwnThreadStillJoinsIt() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            CompletableFuture<Void> release = new CompletableFuture<>();
            Coroutine made = pool.submit(() -> {
                Coroutine m = Coroutine.create("made", () -> {
                    Coroutine.await(release);
                    log.add("made ends"); // the pool thread's only write of the log, read once joined below
                });
                m.switchTo(); // back here once it parks in its await
                return m;
            }).join();
            String poolThread = pool.submit(() -> { // the owner, not a coroutine's own thread on the thread engine
                Thread t = Scheduler.current().owner;
                return "thread '" + t.getName() + "' (#" + t.threadId() + ")";
            }).join();
            String testThread = "thread " + ThreadNames.thread();
            try {
                String refusal = "cannot join coroutine 'made' (PARKED): it belongs to " + poolThread;
                Coroutine mine = Coroutine.create("mine", () -> assertThatThrownBy(made::join)
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessage("coroutine 'mine' of " + testThread + " " + refusal));
                mine.switchTo();
                assertThat(mine.state()).isEqualTo(State.FINISHED);
                assertThatThrownBy(made::join).isInstanceOf(IllegalStateException.class)
                        .hasMessage("main context 'main' of " + testThread + " " + refusal);
                CompletableFuture<String> joined = pool.submit(() -> {
                    made.join();
                    return "joined: " + made.state();
                });
                release.complete(null);
                assertThat(joined.join()).isEqualTo("joined: FINISHED");
                assertThat(log).containsExactly("made ends");
            } finally {
                release.complete(null); // a failed assertion leaves no coroutine for the pool's close to wait for
            }
        }
    }

    /** A program mixing cycles, cut-short joins, closes, creations in unwinding and refused switches, traced. */
    private List<String> mixedProgram() {
        List<String> trace = new ArrayList<>();
        VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("ch", 0);
            Coroutine[] cs = new Coroutine[4];
            cs[0] = Coroutine.create("sender", () -> {
                for (int i = 0; i < 3; i++) {
                    Coroutine.sleep(Duration.ofMillis(2));
                    ch.send(i);
                }
            });
            cs[1] = Coroutine.create("receiver", () -> {
                try {
                    while (true) {
                        trace.add("got " + ch.receive() + " at " + Coroutine.nanoTime());
                    }
                } finally {
                    cs[3] = Coroutine.create("heir", () -> {
                        for (int i = 0; i < 2; i++) { // what the receiver, closed at 3 ms, no longer takes
                            trace.add("heir got " + ch.receive() + " at " + Coroutine.nanoTime());
                        }
                        cs[0].join();
                        trace.add("heir joined sender at " + Coroutine.nanoTime());
                    });
                }
            });
            cs[2] = Coroutine.create("impatient", () -> {
                try {
                    Coroutine.withTimeout(Duration.ofMillis(3), () -> {
                        cs[0].join();
                        return null;
                    });
                } catch (CoroutineTimeoutException e) {
                    trace.add("impatient gave up at " + Coroutine.nanoTime());
                }
                try {
                    cs[1].switchTo();
                } catch (IllegalStateException e) {
                    trace.add(e.getMessage());
                }
                Coroutine.yield();
                cs[1].close();
                trace.add("receiver " + cs[1].state() + ", heir " + cs[3].state());
            });
            cs[2].join();
            cs[3].join();
            trace.add("end at " + Coroutine.nanoTime() + ", joins left " + Scheduler.current().joinWaits());
        });
        return trace;
    }

    @Test
    void aProgramMixingTheseCallsTracesTheSameTwice() {
        List<String> first = mixedProgram();
        assertThat(mixedProgram()).isEqualTo(first);
        // every value sent is taken once: 0 by the receiver, 1 and 2 by the heir its unwinding made
        assertThat(first).containsExactly("got 0 at 2000000", "impatient gave up at 3000000",
                "coroutine 'impatient' cannot switchTo coroutine 'receiver' (PARKED): it waits to receive from channel "
                        + "'ch'; only what it waits for can wake it",
                "receiver CLOSED, heir NEW", "heir got 1 at 4000000", "heir got 2 at 6000000",
                "heir joined sender at 6000000", "end at 6000000, joins left 0");
    }
}
