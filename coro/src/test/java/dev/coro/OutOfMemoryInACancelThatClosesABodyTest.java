package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An {@link OutOfMemoryError} at any allocation of a {@code cancel(true)} of a pool body's future, made from
 * another thread, does not lose the close of the body it cancelled: the body, parked on a future nobody
 * completes, is closed (its {@code finally} runs), and {@code close()} returns, instead of waiting for good
 * for a body whose future says cancelled. Each allocation of the cancelling thread is made to fail in turn
 * ({@link AllocationFailingCopy}), with a new pool each time.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a close that waits for good ignores interrupts
class OutOfMemoryInACancelThatClosesABodyTest {

    @Test
    void aCancelThatFailedForWantOfMemoryStillClosesTheBodyItCancelled() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "cancel");
    }

    /** Runs in the copy. */
    static final class Scenario {

        private Scenario() {
        }

        static void cancel() throws InterruptedException {
            AllocationFailures.eachInTurn(k -> {
                BooleanSupplier here = InTheCopy.thisThread(); // not the pool thread's
                CoroutinePool pool = CoroutinePool.start(1);
                CompletableFuture<String> started = new CompletableFuture<>();
                CompletableFuture<String> unwound = new CompletableFuture<>();
                CompletableFuture<String> body = pool.submit(() -> {
                    started.complete("started");
                    try {
                        return Coroutine.await(new CompletableFuture<String>()); // nobody completes it
                    } finally {
                        unwound.complete("unwound");
                    }
                });
                assertThat(started.get(30, TimeUnit.SECONDS)).isEqualTo("started");
                boolean[] cancelled = new boolean[1];
                boolean failed = AllocationFailures.failing(k, here, () -> cancelled[0] = body.cancel(true));
                assertThat(body.isCancelled()).as("cancelled, though the call may have failed after").isTrue();
                assertThat(unwound.get(30, TimeUnit.SECONDS)).isEqualTo("unwound");
                pool.close(); // returns: the body has ended
                assertThat(pool.toString()).endsWith(", 1 thread, closed]");
                assertThat(cancelled[0]).isEqualTo(!failed);
                return failed;
            });
        }
    }
}
