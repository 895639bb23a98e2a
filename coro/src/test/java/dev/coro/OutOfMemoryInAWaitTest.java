package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An {@link OutOfMemoryError} at any allocation of a coroutine's wait (a sleep, a {@code withTimeout}, a send
 * that parks, a select, over other threads' channels too, a join, an await, an acquire of another thread's
 * semaphore) leaves no part of the wait behind: the coroutine goes on, its next wait of the same kind works (the
 * same select too), and the others wake as they would have, with no value lost or taken twice. Each allocation of
 * the waiting coroutine is made to fail in turn ({@link AllocationFailingCopy}), each time on a fresh thread; what
 * the others allocate meanwhile does not fail. So too for the allocations of a send that wakes a parked select.
 */
@Timeout(60)
class OutOfMemoryInAWaitTest {

    @Test
    void aSleepThatFailedForWantOfMemoryLeavesNoTimerAndTheNextSleepsAndTheOthersWakeOnTime() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "sleep");
    }

    @Test
    void aWithTimeoutThatFailedForWantOfMemoryLeavesNoScopeAndTheNextTimesOut() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "withTimeout");
    }

    @Test
    void aSendThatFailedForWantOfMemoryBeforeAReceiverCameDeliversNothingAndTheNextSendsDeliverInOrder() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "parkedSend");
    }

    @Test
    void aSelectOfTwentyChannelsThatFailedForWantOfMemoryLeavesNoClauseWaitingAndTheNextTakesTheValueOnce() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "select");
    }

    @Test
    void aSelectOverAnotherThreadsChannelThatFailedForWantOfMemoryLeavesNoClauseWaitingAndItsNextRunTakesTheValueOnce()
            throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "selectAcross");
    }

    @Test
    void aSelectOfEveryKindOfClauseThatFailedForWantOfMemoryLeavesNothingWaitingAndItsNextRunTakesTheValueOnce()
            throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "selectOfEveryKind");
    }

    @Test
    void aSendThatWakesASelectAndFailsForWantOfMemoryDeliversItsValueOnceAndLeavesNothingWaiting() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "sendWakingASelect");
    }

    @Test
    void anAcquireOfAnotherThreadsSemaphoreThatFailedForWantOfMemoryHoldsNoPermitAndLosesNone() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "acquireAcross");
    }

    @Test
    void aJoinThatFailedForWantOfMemoryLeavesNoJoinWaitingAndTheNextJoinEnds() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "join");
    }

    @Test
    void anAwaitThatFailedForWantOfMemoryLeavesNoCallbackWaitingAndTheNextAwaitTakesTheValue() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "await");
    }

    /** Runs in the copy. */
    static final class Scenario {

        private Scenario() {
        }

        static void sleep() throws InterruptedException {
            AllocationFailures.eachInTurn(k -> {
                boolean[] failed = new boolean[1];
                List<String> log = new ArrayList<>();
                VirtualTime.run(() -> {
                    Coroutine a = Coroutine.create("a", () -> {
                        Coroutine.sleep(Duration.ofMillis(10));
                        log.add("a " + Coroutine.nanoTime());
                    });
                    Coroutine b = Coroutine.create("b", () -> {
                        failed[0] = AllocationFailures.failing(k, InTheCopy.here(), () -> Coroutine.sleep(Duration.ofMillis(20)));
                        log.add("b1 " + failed[0]);
                        Coroutine.sleep(Duration.ofMillis(30));
                        log.add("b2 " + Coroutine.nanoTime());
                    });
                    a.join();
                    b.join();
                });
                assertThat(log).contains("a 10000000");
                // failed before its timer was due: no time passed; after (as its park ended): the 20 ms passed
                assertThat(log.get(log.size() - 1)).isIn(failed[0] ? List.of("b2 30000000", "b2 50000000") : List.of("b2 50000000"));
                return failed[0];
            });
        }

        static void withTimeout() throws InterruptedException {
            AllocationFailures.eachInTurn(k -> {
                boolean[] failed = new boolean[1];
                List<String> log = new ArrayList<>();
                VirtualTime.run(() -> {
                    Coroutine b = Coroutine.create("b", () -> {
                        failed[0] = AllocationFailures.failing(k, InTheCopy.here(),
                                () -> Coroutine.withTimeout(Duration.ofMillis(5), () -> Coroutine.sleep(Duration.ofMillis(1))));
                        try {
                            Coroutine.withTimeout(Duration.ofMillis(5), () -> Coroutine.sleep(Duration.ofMillis(10)));
                        } catch (CoroutineTimeoutException e) {
                            log.add("timed out");
                        }
                        Coroutine.sleep(Duration.ofMillis(10));
                        log.add("slept");
                    });
                    b.join();
                });
                assertThat(log).containsExactly("timed out", "slept");
                return failed[0];
            });
        }

        static void parkedSend() throws InterruptedException {
            AllocationFailures.eachInTurn(k -> {
                Channel<Integer> c = new Channel<>(0);
                boolean[] failed = new boolean[1];
                List<Object> got = new ArrayList<>();
                Coroutine s = Coroutine.create("s", () -> {
                    failed[0] = AllocationFailures.failing(k, InTheCopy.here(), () -> c.send(1));
                    if (failed[0]) {
                        c.send(1);
                    }
                    c.send(2);
                });
                Coroutine r = Coroutine.create("r", () -> {
                    got.add(c.receive());
                    got.add(c.receive());
                });
                s.join();
                r.join();
                assertThat(got).containsExactly(1, 2);
                return failed[0];
            });
        }

        static void select() throws InterruptedException {
            AllocationFailures.eachInTurn(k -> {
                List<Channel<Integer>> cs = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    cs.add(new Channel<>(0));
                }
                boolean[] failed = new boolean[1];
                List<Object> got = new ArrayList<>();
                Coroutine s = Coroutine.create("s", () -> {
                    Runnable op = () -> {
                        Select<Integer> sel = new Select<>();
                        for (Channel<Integer> c : cs) {
                            sel.onReceive(c, v -> v);
                        }
                        got.add(sel.select());
                    };
                    failed[0] = AllocationFailures.failing(k, InTheCopy.here(), op);
                    if (failed[0]) {
                        op.run();
                    }
                });
                Coroutine r = Coroutine.create("r", () -> cs.get(7).send(7));
                s.join();
                r.join();
                assertThat(got).containsExactly(7);
                return failed[0];
            });
        }

        /**
         * One select, run again once its first run failed: a run over a channel of another thread (a pool's)
         * that failed at any allocation leaves the select free for its next run, which takes the value once.
         */
        static void selectAcross() throws InterruptedException {
            AllocationFailures.eachInTurn(k -> {
                CoroutinePool pool = CoroutinePool.start(1);
                try {
                    Channel<Integer> theirs = pool.submit(() -> new Channel<Integer>("theirs", 0)).join();
                    Select<Integer> sel = new Select<Integer>().onReceive(theirs, v -> v);
                    boolean[] failed = new boolean[1];
                    List<Object> got = new ArrayList<>();
                    Coroutine s = Coroutine.create("s", () -> {
                        failed[0] = AllocationFailures.failing(k, InTheCopy.here(), () -> got.add(sel.select()));
                        if (failed[0]) {
                            got.add(sel.select());
                        }
                    });
                    CompletableFuture<Object> sent = pool.submit(() -> {
                        theirs.send(7);
                        return null;
                    });
                    s.join();
                    sent.join();
                    assertThat(got).containsExactly(7);
                    return failed[0];
                } finally {
                    pool.closeNow();
                }
            });
        }

        /**
         * One select of a receive from a channel of its thread, a receive from a pool thread's channel (or not:
         * its runs then stay on its thread), a timeout and a completion, run again once its first run failed at
         * any allocation: the next run takes the value sent once, and nothing of the first is left waiting.
         */
        static void selectOfEveryKind() throws InterruptedException {
            for (boolean across : new boolean[] {false, true}) {
                AllocationFailures.eachInTurn(k -> {
                    CoroutinePool pool = CoroutinePool.start(1);
                    try {
                        Channel<Integer> mine = new Channel<>("mine", 0);
                        Channel<Integer> theirs = pool.submit(() -> new Channel<Integer>("theirs", 0)).join();
                        CompletableFuture<Integer> never = new CompletableFuture<>();
                        Select<Integer> sel = new Select<Integer>().onReceive(mine, v -> v).onTimeout(Duration.ofSeconds(30), () -> -1)
                                .onComplete(never, v -> -2);
                        if (across) {
                            sel.onReceive(theirs, v -> v);
                        }
                        boolean[] failed = new boolean[1];
                        List<Object> got = new ArrayList<>();
                        Coroutine s = Coroutine.create("s", () -> {
                            failed[0] = AllocationFailures.failing(k, InTheCopy.here(), () -> got.add(sel.select()));
                            if (got.isEmpty()) { // it failed before a clause won: the value comes to the next run (or, lost, its timeout fires)
                                got.add(sel.select());
                            }
                        });
                        Coroutine.yield();
                        mine.send(7);
                        s.join();
                        assertThat(got).containsExactly(7);
                        assertThat(mine.trySend(8)).as("no receive clause left on its channel").isFalse();
                        assertThat(Scheduler.current().loop.hasTimers()).as("no timer left").isFalse();
                        assertThat(Scheduler.current().loop.futureWaits().hasWaits(never)).as("no wait left on the future").isFalse();
                        return failed[0];
                    } finally {
                        pool.closeNow();
                    }
                });
            }
        }

        /**
         * A send that hands its value to a parked select of a receive, a completion and a timeout, failing at any
         * allocation of the sender's: the select fires its receive with the value, once, and nothing of its run is
         * left waiting (a failure as the completion's clause left its future held the select parked, its timeout
         * firing later and the value lost).
         */
        static void sendWakingASelect() throws InterruptedException {
            AllocationFailures.eachInTurn(k -> {
                Channel<Integer> mine = new Channel<>("mine", 0);
                CompletableFuture<Integer> never = new CompletableFuture<>();
                Select<Integer> sel = new Select<Integer>().onReceive(mine, v -> v).onComplete(never, v -> -2)
                        .onTimeout(Duration.ofSeconds(30), () -> -1);
                List<Object> got = new ArrayList<>();
                Coroutine s = Coroutine.create("s", () -> got.add(sel.select()));
                Coroutine.yield();
                boolean failed = AllocationFailures.failing(k, InTheCopy.here(), () -> mine.send(7));
                if (failed) {
                    mine.trySend(7); // taken only if the send failed before it handed its value over
                }
                s.join();
                assertThat(got).containsExactly(7);
                assertThat(mine.trySend(8)).as("no receive clause left on its channel").isFalse();
                assertThat(Scheduler.current().loop.hasTimers()).as("no timer left").isFalse();
                assertThat(Scheduler.current().loop.futureWaits().hasWaits(never)).as("no wait left on the future").isFalse();
                return failed;
            });
        }

        /**
         * An acquire of a pool thread's semaphore, whose one permit a body of that thread holds until the acquire
         * waits, failing at any allocation: it holds no permit, and none is lost (the next acquire takes it).
         */
        static void acquireAcross() throws InterruptedException {
            AllocationFailures.eachInTurn(k -> {
                CoroutinePool pool = CoroutinePool.start(1);
                try {
                    Semaphore theirs = pool.submit(() -> new Semaphore("theirs", 1)).join();
                    Channel<Integer> gate = pool.submit(() -> new Channel<Integer>("gate", 0)).join();
                    CompletableFuture<Object> holder = pool.submit(() -> {
                        theirs.acquire();
                        gate.receive();
                        theirs.release();
                        return null;
                    });
                    boolean[] failed = new boolean[1];
                    List<String> log = new ArrayList<>();
                    Coroutine s = Coroutine.create("s", () -> {
                        failed[0] = AllocationFailures.failing(k, InTheCopy.here(), theirs::acquire);
                        if (!failed[0]) {
                            log.add("held");
                            theirs.release();
                        }
                        theirs.acquire();
                        log.add("held again");
                        theirs.release();
                    });
                    Coroutine.yield();
                    gate.send(1);
                    s.join();
                    holder.join();
                    assertThat(log).endsWith("held again");
                    assertThat(pool.submit(theirs::availablePermits).join()).isEqualTo(1);
                    return failed[0];
                } finally {
                    pool.closeNow();
                }
            });
        }

        static void join() throws InterruptedException {
            AllocationFailures.eachInTurn(k -> {
                Channel<Integer> gate = new Channel<>(0);
                Coroutine t = Coroutine.create("t", () -> gate.receive());
                boolean[] failed = new boolean[1];
                List<String> log = new ArrayList<>();
                Coroutine j = Coroutine.create("j", () -> {
                    failed[0] = AllocationFailures.failing(k, InTheCopy.here(), t::join);
                    t.join();
                    log.add("joined");
                });
                Coroutine.yield();
                gate.send(1);
                j.join();
                assertThat(log).containsExactly("joined");
                assertThat(Scheduler.current().joinWaits()).isZero();
                return failed[0];
            });
        }

        static void await() throws InterruptedException {
            AllocationFailures.eachInTurn(k -> {
                CompletableFuture<Integer> f = new CompletableFuture<>();
                boolean[] failed = new boolean[1];
                List<Object> got = new ArrayList<>();
                Coroutine r = Coroutine.create("r", () -> {
                    failed[0] = AllocationFailures.failing(k, InTheCopy.here(), () -> got.add(Coroutine.await(f)));
                    if (failed[0]) {
                        got.add(Coroutine.await(f));
                    }
                });
                Coroutine.yield();
                f.complete(5);
                r.join();
                assertThat(got).containsExactly(5);
                return failed[0];
            });
        }
    }
}
