package dev.coro;

import static dev.coro.PoolsClosed.close;
import static dev.coro.PoolsClosed.thrownByClose;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The pool a JVM starts after 2^31 - 1 others (a program starting a pool per batch of work for weeks) is
 * numbered on, {@code coro-pool-2147483648}, and so are its threads and the report of its failures: the
 * JVM's count of pools was an int, which wrapped into {@code coro-pool--2147483648}, a negative name that
 * later pools would repeat. The count is set as if the JVM had started that many.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
@Timeout(60)
class PoolNumberPastIntRangeTest {

    @Test
    void thePoolStartedAfterTwoToTheThirtyOneMinusOneOthersAndItsThreadAreNumberedOnNotNegative() {
        CoroutinePool.POOLS.set(Integer.MAX_VALUE);
        CoroutinePool pool = CoroutinePool.start(1);
        String described = pool.toString();
        Thread poolThread = pool.submit(() -> Scheduler.current().owner).join(); // the pool thread, on either engine
        String thread = poolThread.getName();
        pool.execute(() -> {
            throw new IllegalStateException("boom");
        });
        Throwable report = thrownByClose(pool);
        CoroutinePool next = CoroutinePool.start(1);
        String nextDescribed = next.toString();
        close(next); // both closed before anything is checked

        assertThat(described).isEqualTo("CoroutinePool[coro-pool-2147483648, 1 thread, running]");
        assertThat(thread).isEqualTo("coro-pool-2147483648-0");
        assertThat(report).isInstanceOf(CoroutineException.class).hasMessage("coro-pool-2147483648: a coroutine failed and"
                + " nobody observed it: coroutine 'coroutine-2' on thread 'coro-pool-2147483648-0' (#" + poolThread.threadId() + "), running the body of"
                + " execute #2, threw java.lang.IllegalStateException: boom");
        assertThat(nextDescribed).isEqualTo("CoroutinePool[coro-pool-2147483649, 1 thread, running]");
    }
}
