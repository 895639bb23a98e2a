package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A body that submits from a pool thread is placed as any other: the submitting body counts as a live
 * body of its own thread, so a body it submits to its own pool goes to a thread with fewer even when its
 * own thread has the turn, and one it submits to another pool follows that pool's counts and turn alone.
 */
@ExtendWith(FreshThread.class)
class CoroutinePoolSubmittedFromAPoolThreadTest {

    @Test
    @Timeout(20)
    void aBodySubmittedFromAPoolThreadLeavesTheSubmittersBusyThreadAndAnotherPoolKeepsItsOwnTurn() {
        try (CoroutinePool pool = CoroutinePool.start(2); CoroutinePool other = CoroutinePool.start(2)) {
            String name = PoolName.of(pool);
            String otherName = PoolName.of(other);
            assertThat(Coroutine.await(pool.submit(CoroutinePoolSubmittedFromAPoolThreadTest::poolThread)))
                    .isEqualTo(name + "-0"); // the turn passes to thread 1
            CompletableFuture<Void> go = new CompletableFuture<>();
            CompletableFuture<List<String>> submitter = pool.submit(() -> { // thread 1 by turn; the turn passes to 0
                String self = poolThread();
                Coroutine.await(go);
                CompletableFuture<String> own = pool.submit(CoroutinePoolSubmittedFromAPoolThreadTest::poolThread);
                CompletableFuture<String> elsewhere = other.submit(CoroutinePoolSubmittedFromAPoolThreadTest::poolThread);
                return List.of(self, Coroutine.await(own), Coroutine.await(elsewhere));
            });
            // thread 0 has fewer live bodies; the turn passes back to thread 1, the submitter's
            assertThat(Coroutine.await(pool.submit(CoroutinePoolSubmittedFromAPoolThreadTest::poolThread)))
                    .isEqualTo(name + "-0");
            go.complete(null);
            assertThat(Coroutine.await(submitter)).as("the submitter's own thread has the turn, but counts it: thread 0")
                    .containsExactly(name + "-1", name + "-0", otherName + "-0");
        }
    }

    @Test
    @Timeout(20)
    void aPoolOfOneRunsABodySubmittedFromItsOwnThreadThereAndItsThreadsCountIsOne() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            String name = PoolName.of(pool);
            List<String> placed = Coroutine.await(pool.submit(() -> List.of(poolThread(),
                    Coroutine.await(pool.submit(CoroutinePoolSubmittedFromAPoolThreadTest::poolThread)))));
            assertThat(placed).containsExactly(name + "-0", name + "-0");
            assertThat(pool.threads()).isEqualTo(1);
            assertThat(pool).hasToString("CoroutinePool[" + name + ", 1 thread, running]");
        }
    }

    /** The pool thread the calling coroutine belongs to (on the thread engine it runs on a virtual thread of its own). */
    private static String poolThread() {
        return Scheduler.current().owner.getName();
    }
}
