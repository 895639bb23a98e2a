package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An {@link OutOfMemoryError} as a pool thread takes a body that arrives (its queue of bodies waiting to start
 * growing past its room, in a burst of more than 16) loses nothing: that body fails visibly, its future
 * completing exceptionally with an {@code IllegalStateException} that names the pool, the thread and the
 * submission, the error as its cause; the others run, and {@code close()} returns. Each allocation of the
 * taking is made to fail in turn ({@link AllocationFailingCopy}), with a new pool each time.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a close that waits for good ignores interrupts
class OutOfMemoryInAPoolThreadsQueueOfWaitingBodiesTest {

    @Test
    void aBodyThatArrivesWhenTheWaitingQueueCannotGrowFailsItsFutureAndTheOthersRunAndCloseReturns() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "queueGrows");
    }

    /** Runs in the copy. */
    static final class Scenario {

        /** How many bodies arrive at once: more than the 16 the pool thread's queue has room for at first. */
        private static final int BURST = 20;

        private Scenario() {
        }

        /** Whether the allocation being made is in a pool thread's taking of a body that arrived. */
        private static boolean inAccept() {
            return StackWalker.getInstance().walk(frames -> frames.anyMatch(f -> f.getMethodName().equals("accept")
                    && f.getClassName().equals(CoroutinePool.class.getName() + "$Worker")));
        }

        static void queueGrows() throws InterruptedException {
            AllocationFailures.eachInTurn(k -> {
                CoroutinePool pool = CoroutinePool.start(1);
                String name = PoolName.of(pool);
                CountDownLatch hold = new CountDownLatch(1);
                CompletableFuture<Void> holding = new CompletableFuture<>();
                CompletableFuture<Integer> first = pool.submit(() -> {
                    holding.complete(null);
                    try {
                        hold.await(); // holds the pool thread whole: the burst arrives at one scheduling point
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                    return 0;
                });
                holding.get(30, TimeUnit.SECONDS);
                List<CompletableFuture<Integer>> burst = new ArrayList<>();
                for (int i = 1; i <= BURST; i++) {
                    int value = i;
                    burst.add(pool.submit(() -> value));
                }
                AllocationFailures.failAt(k, Scenario::inAccept);
                hold.countDown();
                assertThat(first.get(30, TimeUnit.SECONDS)).isEqualTo(0);
                List<Integer> values = new ArrayList<>();
                List<Throwable> failures = new ArrayList<>();
                for (CompletableFuture<Integer> f : burst) {
                    try {
                        values.add(f.get(30, TimeUnit.SECONDS));
                    } catch (ExecutionException e) {
                        failures.add(e.getCause());
                    }
                }
                boolean failed = AllocationFailures.stop();
                if (failed) {
                    // the 17th of the burst, submit #18, found the queue's 16 slots taken
                    assertThat(failures).hasSize(1);
                    assertThat(failures.get(0)).isInstanceOf(IllegalStateException.class)
                            .hasMessage(name + ": thread '" + name + "-0' (#" + PoolName.threadId(pool, 0) + ") could not run the body of submit #18: its queue of"
                                    + " bodies waiting to start could not grow (java.lang.OutOfMemoryError: "
                                    + AllocationFailures.MESSAGE + ")");
                    assertThat(AllocationFailures.injected(failures.get(0).getCause())).isTrue();
                    List<Integer> expected = new ArrayList<>();
                    for (int i = 1; i <= BURST; i++) {
                        if (i != 17) {
                            expected.add(i);
                        }
                    }
                    assertThat(values).containsExactlyElementsOf(expected);
                } else {
                    assertThat(failures).isEmpty();
                    assertThat(values).hasSize(BURST);
                }
                assertThat(pool.submit(() -> 99).get(30, TimeUnit.SECONDS)).isEqualTo(99);
                pool.close(); // returns, and reports nothing: the failed future's get read its failure
                return failed;
            });
        }
    }
}
