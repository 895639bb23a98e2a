package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(FreshThread.class)
class ThreadsSmokeTest {

    @Test
    void awaitFutureCompletedByAnotherThread() {
        CompletableFuture<Integer> f = new CompletableFuture<>();
        Thread.ofPlatform().start(() -> f.complete(7));
        assertThat(Coroutine.await(f)).isEqualTo(7);
        CompletableFuture<Integer> g = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> g.completeExceptionally(new IllegalStateException("boom")));
        assertThatThrownBy(() -> Coroutine.await(g)).isInstanceOf(CompletionException.class).hasRootCauseMessage("boom");
    }

    @Test
    void awaitUnderWithTimeout() {
        CompletableFuture<Integer> f = new CompletableFuture<>();
        assertThatThrownBy(() -> Coroutine.withTimeout(Duration.ofMillis(20), () -> Coroutine.await(f)))
                .isInstanceOf(CoroutineTimeoutException.class);
    }

    @Test
    void channelAcrossThreads() throws Exception {
        Channel<Integer> ch = new Channel<>("ch", 0);
        AtomicLong sum = new AtomicLong();
        CompletableFuture<Void> ready = new CompletableFuture<>();
        Thread t = Thread.ofPlatform().start(() -> {
            ready.complete(null);
            for (int i = 1; i <= 1000; i++) {
                ch.send(i);
            }
            ch.close();
        });
        Coroutine.await(ready); // from now on this thread has talked to another: its waits are not deadlocks
        for (int v : ch) {
            sum.addAndGet(v);
        }
        t.join();
        assertThat(sum.get()).isEqualTo(500500);
    }

    @Test
    void poolSumsThroughChannels() {
        long total;
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            Channel<Integer> ch = new Channel<>("numbers", 16);
            CompletableFuture<Long> sum = pool.submit(() -> {
                long s = 0;
                for (int v : ch) {
                    s += v;
                }
                return s;
            });
            CompletableFuture<Long> other = pool.submit(() -> {
                Channel<Integer> local = new Channel<>("local", 0);
                Coroutine.create(() -> {
                    for (int i = 0; i < 10; i++) {
                        local.send(i);
                    }
                    local.close();
                });
                long s = 0;
                for (int v : local) {
                    s += v;
                }
                return s;
            });
            for (int i = 1; i <= 100; i++) {
                ch.send(i);
            }
            ch.close();
            total = Coroutine.await(sum) + Coroutine.await(other);
        }
        assertThat(total).isEqualTo(5050 + 45);
    }

    @Test
    void poolCloseThrowsUnobservedFailure() {
        CoroutinePool pool = CoroutinePool.start(2);
        pool.execute(() -> {
            throw new IllegalStateException("lost");
        });
        assertThatThrownBy(pool::close).isInstanceOf(CoroutineException.class).hasRootCauseMessage("lost");
    }
}
