package dev.coro;

import static dev.coro.PoolsClosed.GUARD;
import static dev.coro.PoolsClosed.thrownByClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A pool body that overflows its stack fails its future with the {@code StackOverflowError}, which a read
 * hands over (so {@code close()} reports nothing), and its pool thread serves on: the next body placed
 * there runs, on both engines.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
@Timeout(60)
class PoolBodyThatOverflowsItsStackTest {

    private static int down(int n) {
        return down(n + 1) + 1;
    }

    @Test
    void aBodyThatOverflowsItsStackFailsItsFutureAndItsThreadServesOn() {
        CoroutinePool pool = CoroutinePool.start(1);
        try {
            CompletableFuture<Integer> deep = pool.submit(() -> down(0));
            Throwable read = catchThrowable(() -> Coroutine.withTimeout(GUARD, () -> Coroutine.await(deep)));
            assertThat(read).isExactlyInstanceOf(CompletionException.class).cause().isExactlyInstanceOf(StackOverflowError.class);
            CompletableFuture<String> next = pool.submit(() -> "served on " + Peer.schedulerThread().getName());
            assertThat(Coroutine.withTimeout(GUARD, () -> Coroutine.await(next))).isEqualTo("served on " + pool.name() + "-0");
        } finally {
            assertThat(thrownByClose(pool)).isNull();
        }
    }
}
