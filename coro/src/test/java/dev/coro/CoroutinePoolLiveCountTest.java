package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What counts as a live body when a submission is placed: only the submitted bodies, until each has
 * ended; the coroutines a body creates do not count, and a body whose future its caller cancelled with
 * {@code cancel(true)} counts until its thread has closed it, though its future is complete already.
 */
@ExtendWith(FreshThread.class)
class CoroutinePoolLiveCountTest {

    @Test
    @Timeout(20)
    void theCoroutinesABodyCreatedDoNotCountOnceTheBodyHasEnded() {
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            String name = PoolName.of(pool);
            CompletableFuture<Void> gate = new CompletableFuture<>();
            // thread 0; it leaves a coroutine of its own waiting there as it ends
            String first = Coroutine.await(pool.submit(() -> {
                Coroutine.create("left-behind", () -> Coroutine.await(gate));
                return poolThread();
            }));
            String second = Coroutine.await(pool.submit(CoroutinePoolLiveCountTest::poolThread)); // thread 1 by turn
            // no live body on either thread: a tie, and thread 0 has the turn; counted, 'left-behind' would send it to thread 1
            String third = Coroutine.await(pool.submit(CoroutinePoolLiveCountTest::poolThread));
            gate.complete(null);
            assertThat(first).isEqualTo(name + "-0");
            assertThat(second).isEqualTo(name + "-1");
            assertThat(third).isEqualTo(name + "-0");
        }
    }

    @Test
    @Timeout(20)
    void aBodyCancelledWithInterruptCountsUntilItsThreadHasClosedItThoughItsFutureIsComplete() throws Exception {
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            String name = PoolName.of(pool);
            CompletableFuture<Void> gate = new CompletableFuture<>();
            CompletableFuture<String> held = pool.submit(() -> {
                String t = poolThread();
                Coroutine.await(gate);
                return t;
            }); // thread 0
            CompletableFuture<Void> block = new CompletableFuture<>();
            CompletableFuture<String> blocking = new CompletableFuture<>();
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<String> unwound = new CompletableFuture<>();
            CompletableFuture<Void> cancelled = pool.submit(() -> { // thread 1
                Coroutine.create("blocker", () -> {
                    Coroutine.await(block);
                    blocking.complete(poolThread());
                    try {
                        release.await(); // holds the whole thread: its main cannot close the body meanwhile
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                });
                try {
                    Coroutine.await(new CompletableFuture<Void>()); // never completes
                } finally {
                    unwound.complete(poolThread());
                }
                return null;
            });
            block.complete(null);
            assertThat(Coroutine.await(blocking)).isEqualTo(name + "-1");
            assertThat(cancelled.cancel(true)).isTrue();
            assertThat(cancelled).isCancelled();
            // thread 1 has not closed the body yet: it still counts, a tie, and thread 0 has the turn
            CompletableFuture<String> next = pool.submit(CoroutinePoolLiveCountTest::poolThread);
            release.countDown();
            assertThat(Coroutine.await(next)).isEqualTo(name + "-0");
            assertThat(Coroutine.await(unwound)).isEqualTo(name + "-1");
            gate.complete(null);
            assertThat(Coroutine.await(held)).isEqualTo(name + "-0");
        }
    }

    /** The pool thread the calling coroutine belongs to (on the thread engine it runs on a virtual thread of its own). */
    private static String poolThread() {
        return Scheduler.current().owner.getName();
    }
}
