package dev.coro;

import static dev.coro.PoolsClosed.GUARD;
import static dev.coro.PoolsClosed.thrownByClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A {@code cancel(true)} of a pool future that races its body's end (the body woken on its thread as the
 * caller cancels) leaves the future and the pool's report in agreement whichever wins: cancelled, the
 * body's failure is reported by nobody; failed first, the cancel answers {@code false} and the failure
 * read through the future is not reported either; the body's {@code finally} runs once either way.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
@Timeout(60)
class PoolCancelRacingTheBodysEndTest {

    private static final int ROUNDS = 20;

    @Test
    void aCancelWithInterruptRacingTheBodysFailureAgreesWithTheFutureAndCloseReportsNothing() {
        CoroutinePool pool = CoroutinePool.start(1);
        AtomicInteger finallies = new AtomicInteger();
        int cancelled = 0;
        for (int round = 0; round < ROUNDS; round++) {
            CompletableFuture<Void> gate = new CompletableFuture<>();
            CompletableFuture<Void> parked = new CompletableFuture<>();
            int r = round;
            CompletableFuture<String> body = pool.submit(() -> {
                try {
                    parked.complete(null);
                    Coroutine.await(gate);
                    throw new IllegalStateException("round " + r);
                } finally {
                    finallies.incrementAndGet();
                }
            });
            Coroutine.withTimeout(GUARD, () -> Coroutine.await(parked));
            gate.complete(null); // the body wakes on its thread as the cancel comes
            boolean won = body.cancel(true);
            Throwable read = catchThrowable(() -> Coroutine.withTimeout(GUARD, () -> Coroutine.await(body)));
            if (won) {
                cancelled++;
                assertThat(body.isCancelled()).isTrue();
                assertThat(read).isInstanceOf(CancellationException.class);
            } else {
                assertThat(body.isCancelled()).isFalse();
                assertThat(read).isExactlyInstanceOf(CompletionException.class)
                        .cause().isExactlyInstanceOf(IllegalStateException.class).hasMessage("round " + r);
            }
            // the next round's body goes to the same thread: the body has ended, or ends, there first
        }
        assertThat(thrownByClose(pool)).as("what close reported (cancelled in %d of %d rounds)", cancelled, ROUNDS).isNull();
        assertThat(finallies).hasValue(ROUNDS);
    }
}
