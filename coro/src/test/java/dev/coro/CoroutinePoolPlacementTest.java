package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Placement of later submissions: a body whose future has completed no longer counts, and a call refused for a
 * null body takes no turn of the round-robin that breaks ties.
 */
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

    /**
     * Calls refused for a null body ({@code submit}, {@code execute}, {@code submitCallable}) take no turn: with
     * every thread free, the next bodies go to thread 0, then thread 1, as if those calls had not been made.
     */
    @Test
    void callsRefusedForANullBodyTakeNoTurnOfTheRoundRobin() {
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            Supplier<String> noSupplier = null;
            Callable<String> noCallable = null;
            for (Runnable refused : List.<Runnable>of(() -> pool.submit(noSupplier), () -> pool.execute(null),
                    () -> pool.submitCallable(noCallable))) {
                assertThatThrownBy(refused::run).isExactlyInstanceOf(NullPointerException.class).hasMessage("body");
            }
            // each waited for: its thread counts no live body when the next is placed, so every placement is a tie
            String first = Coroutine.await(pool.submit(() -> poolThread()));
            String second = Coroutine.await(pool.submit(() -> poolThread()));
            assertThat(first).endsWith("-0");
            assertThat(second).endsWith("-1");
        }
    }

    /** The pool thread the calling coroutine belongs to (on the thread engine it runs on a virtual thread of its own). */
    private static String poolThread() {
        return Scheduler.current().owner.getName();
    }
}
