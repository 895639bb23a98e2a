package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link CoroutinePool}: where submitted bodies run, what runs on a pool thread, and what
 * {@code close()} waits for, ends and reports.
 *
 * <p>Every test closes its pool: while one is open no thread of the JVM reports a deadlock.
 */
@ExtendWith(FreshThread.class)
class CoroutinePoolTest {

    /** A bound for waits that are expected to end long before it: a guard against a hang. */
    private static final Duration GUARD = Duration.ofSeconds(30);

    /** Closes {@code pool}, failing rather than hanging if the close does not end. */
    private static void close(CoroutinePool pool) {
        Coroutine.withTimeout(GUARD, pool::close);
    }

    // ---- close ----------------------------------------------------------------------------------

    @Test
    void afterCloseEveryPoolThreadHasEnded() {
        for (int round = 0; round < 20; round++) {
            CoroutinePool pool = CoroutinePool.start(2);
            CompletableFuture<Thread> a = pool.submit(Peer::schedulerThread);
            CompletableFuture<Thread> b = pool.submit(Peer::schedulerThread);
            List<Thread> threads = List.of(Coroutine.await(a), Coroutine.await(b));
            close(pool);
            assertThat(threads).as("round " + round).doesNotHaveDuplicates().noneMatch(Thread::isAlive);
        }
    }

}
