package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A body whose future has completed no longer counts for the placement of later submissions. */
@ExtendWith(FreshThread.class)
class CoroutinePoolPlacementTest {

    @Test
    void aSubmissionMadeWhenABodysFutureCompletesGoesToTheThreadThatBodyFreed() {
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            CompletableFuture<Void> holdFirst = new CompletableFuture<>();
            CompletableFuture<Void> releaseSecond = new CompletableFuture<>();
            // thread 0 (a tie, round-robin from 0), then thread 1 (fewer live bodies)
            CompletableFuture<String> first = pool.submit(() -> {
                Coroutine.await(holdFirst);
                return poolThread();
            });
            CompletableFuture<String> second = pool.submit(() -> {
                Coroutine.await(releaseSecond);
                return poolThread();
            });
            // runs on the second body's thread as its future completes: thread 1 must count 0 live
            // bodies then, and thread 0 one, so the new body goes to thread 1 (with thread 1 still
            // counted, the tie would send it to thread 0 by round-robin)
            CompletableFuture<CompletableFuture<String>> next = second.thenApply(
                    v -> pool.submit(() -> poolThread()));
            releaseSecond.complete(null);
            String secondThread = Coroutine.await(second);
            String nextThread = Coroutine.await(Coroutine.await(next));
            holdFirst.complete(null);
            String firstThread = Coroutine.await(first);

            assertThat(secondThread).endsWith("-1");
            assertThat(firstThread).endsWith("-0");
            assertThat(nextThread).isEqualTo(secondThread);
        }
    }

    /** The pool thread the calling coroutine belongs to (on the thread engine it runs on a virtual thread of its own). */
    private static String poolThread() {
        return Scheduler.current().owner.getName();
    }
}
