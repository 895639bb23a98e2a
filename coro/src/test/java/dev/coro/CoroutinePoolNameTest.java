package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link CoroutinePool#name()} gives the pool's name as it was given to {@link CoroutinePool#start(String, int)}, not
 * escaped nor cut as messages show it, the prefix of its threads' names, or {@code coro-pool-N} for a pool
 * {@link CoroutinePool#start(int)} started; the same from any thread, while the pool runs and once it is closed.
 */
@ExtendWith(FreshThread.class)
@Timeout(20)
class CoroutinePoolNameTest {

    private static final Duration GUARD = Duration.ofSeconds(15);

    @AfterEach
    void everyPoolThisTestStartedIsClosed() {
        assertThat(CoroutinePool.openPools()).as("pools this test left open").isZero();
    }

    private static void close(CoroutinePool pool) {
        Coroutine.withTimeout(GUARD, pool::close);
    }

    @Test
    void aNamedPoolsNameIsTheNameGivenAsItIsThePrefixOfItsThreadsNamesBeforeAndAfterItsClose() {
        String given = "in\ngest's \\ " + "x".repeat(250);
        CoroutinePool pool = CoroutinePool.start(given, 1);
        String seenInABody;
        String threadName;
        try {
            assertThat(pool.name()).isEqualTo(given);
            seenInABody = Coroutine.await(pool.submit(pool::name));
            threadName = Coroutine.await(pool.submit(() -> Scheduler.current().owner.getName()));
        } finally {
            close(pool);
        }
        assertThat(seenInABody).as("read on a thread of the pool").isEqualTo(given);
        assertThat(threadName).isEqualTo(given + "-0");
        assertThat(pool.name()).as("once closed").isEqualTo(given);
        assertThat(pool).as("the description shows it escaped and cut")
                .hasToString("CoroutinePool[in\\ngest\\'s \\\\ " + "x".repeat(188) + "\u2026(+62 chars), 1 thread, closed]");
    }

    @Test
    void anEmptyNameIsGivenBackEmpty() {
        CoroutinePool pool = CoroutinePool.start("", 1);
        try {
            assertThat(pool.name()).isEmpty();
        } finally {
            close(pool);
        }
    }

    @Test
    void aPoolStartedWithoutANameIsNamedCoroPoolNItsThreadsNamedAfterIt() {
        CoroutinePool pool = CoroutinePool.start(1);
        String thread;
        try {
            thread = Coroutine.await(pool.submit(() -> Scheduler.current().owner.getName()));
        } finally {
            close(pool);
        }
        assertThat(pool.name()).matches("coro-pool-\\d+").isEqualTo(PoolName.of(pool));
        assertThat(thread).isEqualTo(pool.name() + "-0");
    }

    /**
     * A pool named as an unnamed one is (or will be) is a pool of its own: nothing is kept under a name, so each
     * reports its own failure at its own close, and the count of unnamed pools goes on past it.
     */
    @Test
    void aPoolNamedAsAnUnnamedPoolIsAPoolOfItsOwnAndTheCountGoesOnPastIt() {
        CoroutinePool unnamed = CoroutinePool.start(1);
        CoroutinePool named = CoroutinePool.start(unnamed.name(), 1);
        long n = Long.parseLong(unnamed.name().substring("coro-pool-".length()));
        CoroutinePool next = CoroutinePool.start(1);
        CoroutinePool namedAsTheNext = CoroutinePool.start("coro-pool-" + (n + 2), 1);
        CoroutinePool afterIt = CoroutinePool.start(1);
        Throwable report;
        try {
            assertThat(named.name()).isEqualTo(unnamed.name());
            assertThat(next.name()).isEqualTo("coro-pool-" + (n + 1));
            assertThat(afterIt.name()).as("a pool given a name takes no number").isEqualTo(namedAsTheNext.name());
            named.execute(() -> {
                throw new IllegalStateException("the named one's");
            });
        } finally {
            close(unnamed);
            close(next);
            close(namedAsTheNext);
            close(afterIt);
            report = catchThrowable(() -> close(named));
        }
        assertThat(report).as("the named pool's close reports its own failure").isExactlyInstanceOf(CoroutineException.class)
                .hasMessage(unnamed.name() + ": a coroutine failed and nobody observed it: coroutine 'coroutine-1' on thread '"
                        + unnamed.name() + "-0', running the body of execute #1, threw java.lang.IllegalStateException: the named one's");
    }
}
