package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A failed submission the pool let go of to keep its failures bounded is counted out of close()'s
 * "more not kept" once, however many times it is taken back: once because its caller had settled its
 * future first, and again when someone reads that future.
 */
@ExtendWith(FreshThread.class)
class CoroutinePoolFailureLetGoCountedOutOnceTest {

    @Test
    @Timeout(60)
    void aFailureLetGoWhoseCallerSettledItFirstAndThatIsReadLaterIsCountedOutOfTheNotKeptOnlyOnce() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        List<CompletableFuture<Integer>> first = new ArrayList<>();
        for (int k = 1; k <= CoroutinePool.KEPT_FAILURES; k++) { // #1 to #100: kept
            int n = k;
            first.add(pool.submit(() -> {
                throw new IllegalStateException("failure " + n);
            }));
        }
        CompletableFuture<CompletableFuture<Integer>> gate = new CompletableFuture<>();
        CompletableFuture<CompletableFuture<Integer>> ended = new CompletableFuture<>();
        CompletableFuture<Integer> settledFirst = pool.submit(() -> { // #101: let go, then taken back
            CompletableFuture<Integer> self = Coroutine.await(gate);
            self.complete(0); // its caller settles it before the body fails
            ended.complete(self); // #102 runs once this coroutine has ended (one thread, no scheduling point before)
            throw new IllegalStateException("failure 101");
        });
        pool.submit(() -> { // #102: reads #101 (taken back again, but counted out already), then fails (let go)
            Coroutine.await(ended).whenComplete((v, e) -> { });
            throw new IllegalStateException("failure 102");
        });
        Coroutine.await(CompletableFuture.allOf(first.toArray(CompletableFuture<?>[]::new)).exceptionally(e -> null));
        gate.complete(settledFirst);
        Throwable thrown = catchThrowable(() -> Coroutine.withTimeout(Duration.ofSeconds(30), pool::close));
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class)
                .hasMessageMatching(name + ": a coroutine failed and nobody observed it: coroutine 'coroutine-\\d+' on thread '" + name
                        + "-0' \\(#" + PoolName.threadId(pool, 0) + "\\), running the body of submit #1, threw java.lang.IllegalStateException: failure 1; 99 more failures"
                        + " suppressed; 1 more not kept \\(a pool keeps the first 100 failures nobody observed\\)");
        assertThat(settledFirst.join()).isZero();
    }
}
