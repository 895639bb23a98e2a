package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An {@link OutOfMemoryError} at any allocation of a {@code CoroutinePool.submit} leaves the pool as it was:
 * the next submission runs, and {@code close()} returns once the bodies that were submitted have ended,
 * instead of waiting for good for a body that was counted but never handed to its thread. Each allocation
 * of the submitting thread is made to fail in turn ({@link AllocationFailingCopy}), with a new pool each time.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a close that waits for good ignores interrupts
class OutOfMemoryInPoolSubmitTest {

    @Test
    void aSubmitThatFailedForWantOfMemoryLeavesNoBodyForCloseToWaitFor() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "submit");
    }

    /** Runs in the copy. */
    static final class Scenario {

        private Scenario() {
        }

        static void submit() throws InterruptedException {
            AllocationFailures.eachInTurn(k -> {
                BooleanSupplier here = InTheCopy.thisThread(); // not the pool thread's
                CoroutinePool pool = CoroutinePool.start(1);
                CompletableFuture<?>[] first = new CompletableFuture<?>[1];
                boolean failed = AllocationFailures.failing(k, here, () -> first[0] = pool.submit(() -> 3));
                assertThat(first[0] == null).as("the submission failed").isEqualTo(failed);
                CompletableFuture<Integer> next = pool.submit(() -> 4);
                assertThat(next.get(30, TimeUnit.SECONDS)).isEqualTo(4);
                if (first[0] != null) {
                    assertThat(first[0].get(30, TimeUnit.SECONDS)).isEqualTo(3);
                }
                pool.close();
                return failed;
            });
        }
    }
}
