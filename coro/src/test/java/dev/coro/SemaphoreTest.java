package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link Semaphore}: at most its permits held at once, waiters served in order, no permit lost or
 * made when a wait is cancelled, timed out or closed, bad calls refused naming the caller, and its
 * use from the threads of a pool.
 */
@ExtendWith(FreshThread.class)
class SemaphoreTest {

    private final List<String> log = new ArrayList<>();

    private static long ms() {
        return Coroutine.nanoTime() / 1_000_000;
    }

    @Test
    void atMostItsPermitsAreHeldAtOnceAndWaitersAreServedInTheOrderTheyCame() {
        int[] holding = {0};
        int[] most = {0};
        VirtualTime.run(() -> {
            Semaphore db = new Semaphore("db", 2);
            for (int i = 1; i <= 5; i++) {
                int n = i;
                Coroutine.create("q" + n, () -> db.withPermit(() -> {
                    most[0] = Math.max(most[0], ++holding[0]);
                    log.add("q" + n + " at " + ms());
                    Coroutine.sleep(Duration.ofMillis(10 * n));
                    holding[0]--;
                }));
            }
        });
        assertThat(most[0]).isEqualTo(2);
        // once main's body returns they run last made first: q5 and q4 take the permits, q3, q2, q1 wait in
        // that order; q3 takes q4's at 40, q2 q5's at 50, and q1 one of the two given back at 70
        assertThat(log).containsExactly("q5 at 0", "q4 at 0", "q3 at 40", "q2 at 50", "q1 at 70");
    }

    @Test
    void aTimedAcquireThatTimesOutTookNoneAndTheNextReleaseGoesToTheNextWaiter() {
        VirtualTime.run(() -> {
            Semaphore s = new Semaphore("s", 1);
            s.acquire();
            Coroutine.create("impatient", () -> log.add("impatient: " + s.tryAcquire(Duration.ofMillis(5)) + " at " + ms()));
            Coroutine.create("patient", () -> {
                s.acquire();
                log.add("patient got it at " + ms());
                s.release();
            });
            Coroutine.sleep(Duration.ofMillis(20));
            s.release();
        });
        assertThat(log).containsExactly("impatient: false at 5", "patient got it at 20");
    }

    @Test
    void aPermitHandedToAWaiterClosedOrTimedOutBeforeItRanIsNeitherLostNorMade() {
        VirtualTime.run(() -> {
            Semaphore s = new Semaphore("s", 1);
            s.acquire();
            Coroutine closed = Coroutine.create("closed", () -> {
                s.acquire();
                log.add("closed got one"); // never: it is closed before it runs
            });
            Coroutine timedOut = Coroutine.create("timedOut", () -> {
                try {
                    Coroutine.withTimeout(Duration.ofMillis(1), s::acquire);
                    log.add("timedOut got one");
                } catch (CoroutineTimeoutException e) {
                    log.add("timedOut timed out holding " + s.availablePermits() + " free");
                }
            });
            Coroutine.yield(); // both wait now, closed first
            s.release(); // handed to closed, woken but not run
            closed.close(); // its permit goes to the next waiter, timedOut
            assertThat(s.availablePermits()).isZero();
            Coroutine.sleep(Duration.ofMillis(2));
            assertThat(timedOut.isFinished()).isTrue();
            log.add("free: " + s.availablePermits());
        });
        assertThat(log).containsExactly("timedOut got one", "free: 0");
    }

    @Test
    void aCoroutineClosedWhileItHoldsAPermitInWithPermitGivesItBack() {
        VirtualTime.run(() -> {
            Semaphore s = new Semaphore("s", 1);
            Coroutine holder = Coroutine.create("holder", () -> s.withPermit(() -> Coroutine.sleep(Duration.ofHours(1))));
            Coroutine.yield();
            assertThat(s.availablePermits()).isZero();
            holder.close();
            log.add("free after the close: " + s.availablePermits());
            Coroutine.create("unwound", () -> {
                try {
                    Coroutine.withTimeout(Duration.ofMillis(3), () -> s.withPermit(() -> Coroutine.sleep(Duration.ofHours(1))));
                } catch (CoroutineTimeoutException e) {
                    log.add("timed out at " + ms() + ", free: " + s.availablePermits());
                }
            });
        });
        assertThat(log).containsExactly("free after the close: 1", "timed out at 3, free: 1");
    }

    /**
     * A permit belongs to no one (the class's Javadoc): a close unwinds its coroutine, but only code that runs as it
     * unwinds (a {@code withPermit}, a {@code finally}) gives back what a bare {@code acquire()} took; any context
     * may release it later.
     */
    @Test
    void aCoroutineClosedBetweenABareAcquireAndItsReleaseKeepsThePermitTakenUntilAnotherContextReleasesIt() {
        VirtualTime.run(() -> {
            Semaphore s = new Semaphore("s", 1);
            Coroutine holder = Coroutine.create("holder", () -> {
                s.acquire();
                Coroutine.sleep(Duration.ofHours(1));
                s.release();
            });
            Coroutine.yield();
            holder.close();
            log.add("after the close: " + s + ", tryAcquire " + s.tryAcquire());
            s.release();
            log.add("after main's release: " + s);
        });
        assertThat(log).containsExactly("after the close: Semaphore[s, 0 of 1 permits free], tryAcquire false",
                "after main's release: Semaphore[s, 1 of 1 permits free]");
    }

    @Test
    void everyContextWaitingForAPermitWithNothingToWakeThemIsADeadlockNamingTheSemaphore() {
        Semaphore s = new Semaphore("pool", 1);
        s.acquire();
        Coroutine.create("waiter", s::acquire);
        // main parks; the waiter's acquire would leave nothing to run: it is refused, and its failure reaches main
        assertThatThrownBy(s::acquire)
                .isInstanceOf(CoroutineException.class)
                .cause().isInstanceOf(DeadlockException.class)
                .hasMessageStartingWith("coroutine 'waiter' cannot acquire a permit of Semaphore[pool, 0 of 1 permits free]: every"
                        + " other context of thread")
                .hasMessageContaining("main context 'main' waits to acquire a permit of Semaphore[pool, 0 of 1 permits free]");
        assertThat(s.availablePermits()).isZero(); // main's wait was cancelled having taken nothing; main holds the one
    }

    /**
     * A release too many on a thread without a scheduler, of a semaphore of another thread that other threads share
     * already (their calls run in place), is refused there naming that thread as the caller, and makes it no
     * scheduler, as every refusal: it made one, to post the release to the semaphore's thread and wait for its answer,
     * which it knew in place. Of one that no other thread has used yet, the release is posted to its thread, as any
     * first call from another thread is (docs/THREADS.md), so the caller waits for the answer as any wait across
     * threads does, in a scheduler made for it: a refusal then names its main context, with its thread. Nothing is
     * lost: every permit stays free, none made.
     */
    @Test
    void aReleaseTooManyOnAThreadWithoutASchedulerOfASharedSemaphoreNamesTheThreadAndMakesNone() {
        Semaphore shared = new Semaphore("db", 2);
        CompletableFuture<Void> used = new CompletableFuture<>(); // awaited: this thread runs the posts that share it
        Thread.ofPlatform().name("sharer").start(() -> used.completeAsync(() -> {
            shared.acquire();
            shared.release();
            return null;
        }, Runnable::run));
        Coroutine.await(used);
        Semaphore fresh = new Semaphore("fresh", 1);
        for (Semaphore s : List.of(shared, fresh)) {
            CompletableFuture<String> refused = new CompletableFuture<>();
            Thread plain = Thread.ofPlatform().name("plain").start(() -> {
                String message;
                try {
                    s.release();
                    message = "no refusal";
                } catch (IllegalStateException e) {
                    message = e.getMessage();
                }
                refused.complete(message + (Scheduler.currentOrNull() != null ? " [a scheduler made]" : ""));
            });
            String caller = "thread 'plain' (#" + plain.threadId() + ")";
            assertThat(Coroutine.await(refused)).isEqualTo(s == shared
                    ? caller + " cannot release Semaphore[db, 2 of 2 permits free]: all its permits are free already (more releases than acquires)"
                    : "main context 'main' of " + caller + " cannot release Semaphore[fresh, 1 of 1 permits free]: all its permits"
                            + " are free already (more releases than acquires) [a scheduler made]");
        }
        assertThat(shared.availablePermits()).isEqualTo(2);
        assertThat(fresh.availablePermits()).isEqualTo(1);
    }

    @Test
    void badCallsAreRefusedNamingTheCallerAndTheSemaphore() {
        Semaphore s = new Semaphore("s", 2); // the thread is a scheduler from here on: its main is the caller
        assertThatThrownBy(() -> new Semaphore("none", 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("main context 'main' cannot create semaphore 'none' with 0 permits: it needs 1 or more");
        assertThat(s.tryAcquire()).isTrue();
        s.release();
        Coroutine.create("releaser", s::release);
        assertThatThrownBy(() -> Coroutine.yield())
                .isInstanceOf(CoroutineException.class)
                .cause().isInstanceOf(IllegalStateException.class)
                .hasMessage("coroutine 'releaser' cannot release Semaphore[s, 2 of 2 permits free]: all its permits are"
                        + " free already (more releases than acquires)");
        assertThatThrownBy(() -> s.tryAcquire(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("main context 'main' (state RUNNING) cannot tryAcquire a permit of Semaphore[s, 2 of 2 permits free]"
                        + " with timeout PT-0.001S: a timeout must be zero or positive");
        assertThat(s.availablePermits()).isEqualTo(2);
        assertThatThrownBy(() -> new Semaphore("minus", -1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("main context 'main' cannot create semaphore 'minus' with -1 permits: it needs 1 or more");
        assertThatThrownBy(() -> s.tryAcquire(null)).isExactlyInstanceOf(NullPointerException.class).hasMessage("timeout");
        List<Runnable> nullBodies = List.of(() -> s.withPermit((Runnable) null),
                () -> s.withPermit((java.util.function.Supplier<String>) null),
                () -> s.callWithPermit((ThrowingRunnable<RuntimeException>) null),
                () -> s.callWithPermit((ThrowingSupplier<String, RuntimeException>) null));
        for (Runnable call : nullBodies) {
            assertThatThrownBy(call::run).isExactlyInstanceOf(NullPointerException.class).hasMessage("body");
        }
        assertThat(s.availablePermits()).as("no refused call took a permit").isEqualTo(2);
    }

    @Test
    void defaultNamesCountTheThreadsSemaphoresAndLeaveTheChannelsNumbersAlone() {
        VirtualTime.run(() -> {
            Semaphore first = new Semaphore(1);
            Channel<Integer> ch = new Channel<>(0);
            Semaphore second = new Semaphore(3);
            log.add(first + " " + second + " " + ch.name());
        });
        assertThat(log).containsExactly("Semaphore[semaphore-1, 1 of 1 permits free] Semaphore[semaphore-2, 3 of 3"
                + " permits free] channel-1");
    }

    @Test
    void coroutinesOfSeveralPoolThreadsShareItsPermitsAndNoneIsLost() {
        int bodies = 200;
        Semaphore s = new Semaphore("shared", 3);
        AtomicInteger holding = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        List<CompletableFuture<Integer>> done = Collections.synchronizedList(new ArrayList<>());
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            for (int i = 0; i < bodies; i++) {
                int n = i;
                done.add(pool.submit(() -> s.withPermit(() -> {
                    most.accumulateAndGet(holding.incrementAndGet(), Math::max);
                    Coroutine.yield();
                    holding.decrementAndGet();
                    return n;
                })));
            }
            // main, the semaphore's thread, takes part too
            for (int i = 0; i < 20; i++) {
                s.withPermit(() -> {
                    most.accumulateAndGet(holding.incrementAndGet(), Math::max);
                    holding.decrementAndGet();
                });
            }
            for (CompletableFuture<Integer> f : done) {
                Coroutine.await(f);
            }
        }
        assertThat(most.get()).isBetween(1, 3);
        assertThat(s.availablePermits()).isEqualTo(3);
        assertThat(done).hasSize(bodies).allMatch(f -> f.isDone() && !f.isCompletedExceptionally());
    }

    /** What a query of the examples does: waits on the virtual clock, then answers or fails with a checked exception. */
    private static String query(String sql) throws IOException {
        Coroutine.sleep(Duration.ofMillis(10));
        if (sql.contains("bad")) {
            throw new IOException("connection reset during " + sql);
        }
        return "row of " + sql;
    }

    @Test
    void aBodyThatThrowsACheckedExceptionRunsUnderCallWithPermitWhichThrowsItAsItIsAndGivesThePermitBack() {
        VirtualTime.run(() -> {
            Semaphore db = new Semaphore("db", 1);
            List<String> rows = new ArrayList<>();
            List<Throwable> failures = new ArrayList<>();
            for (String sql : List.of("a", "bad b", "c")) {
                Coroutine.create("q " + sql, () -> {
                    try {
                        rows.add(db.callWithPermit(() -> query(sql)) + " at " + ms());
                        db.callWithPermit(() -> {
                            log.add("logged " + sql);
                        });
                    } catch (IOException e) {
                        failures.add(e);
                    }
                });
            }
            Coroutine.sleep(Duration.ofMillis(100));
            assertThat(rows).containsExactly("row of c at 10", "row of a at 30");
            assertThat(failures).hasSize(1);
            assertThat(failures.get(0)).isInstanceOf(IOException.class)
                    .hasMessage("connection reset during bad b").hasNoCause();
            assertThat(log).containsExactly("logged c", "logged a");
            assertThat(db.availablePermits()).isEqualTo(1);
        });
    }
}
