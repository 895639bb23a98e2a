package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** One select of a timeout and a completion, run in turn by main and by coroutines of a pool. */
@ExtendWith(FreshThread.class)
class SelectAnyThreadProgramTest {

    @Test
    void aSelectOfATimeoutAndACompletionRunsOnOneThreadThenOnAnotherAndFiresOnceEachRun() {
        CompletableFuture<String> shutdown = new CompletableFuture<>();
        Select<String> tick = new Select<String>()
                .onComplete(shutdown, v -> "stop " + v)
                .onTimeout(Duration.ofMillis(1), () -> "tick");
        assertThat(tick.select()).isEqualTo("tick");
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            assertThat(Coroutine.await(pool.submit(tick::select))).isEqualTo("tick");
            CompletableFuture<String> there = pool.submit(() -> {
                String r;
                int ticks = 0;
                while ((r = tick.select()).equals("tick") && ticks < 1_000_000) {
                    ticks++;
                }
                return r;
            });
            shutdown.complete("now");
            assertThat(Coroutine.await(there)).isEqualTo("stop now");
            assertThat(tick.select()).isEqualTo("stop now");
        }
        assertThat(shutdown.getNumberOfDependents()).isLessThanOrEqualTo(3);
    }
}
