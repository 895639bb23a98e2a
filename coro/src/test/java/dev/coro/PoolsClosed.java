package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Checks after each test that every {@link CoroutinePool} it started is closed, and closes pools under a
 * guard: a pool left open would keep every later test's thread from reporting a deadlock (a pool thread
 * may still wake it), so it is named here, after the test, not found later as a hang.
 *
 * <p>Used with {@code @ExtendWith({FreshThread.class, PoolsClosed.class})}: the check runs on JUnit's
 * thread after the test method returned ({@link FreshThread} joins the test's thread first) and after the
 * class's {@code @AfterEach} methods, as an {@code @AfterEach} of its own did, and reads the JVM-wide count
 * {@link CoroutinePool#openPools()}, so which thread ran the test does not matter. A pool whose close hung
 * is reported by the guard of {@link #close}, not here.
 */
public final class PoolsClosed implements AfterEachCallback {

    /** A bound for waits that are expected to end long before it, a pool's close among them: a guard against a hang. */
    public static final Duration GUARD = Duration.ofSeconds(30);

    /** Fails the test, naming the count, if a pool it started is still open. */
    @Override
    public void afterEach(ExtensionContext context) {
        assertThat(CoroutinePool.openPools()).as("pools this test left open").isZero();
    }

    /** Closes {@code pool}, failing rather than hanging if the close does not end within {@link #GUARD}. */
    public static void close(CoroutinePool pool) {
        Coroutine.withTimeout(GUARD, pool::close);
    }

    /**
     * Closes {@code pool} as {@link #close} does, handing back what the close threw.
     *
     * @return what the close threw (its report of failures nobody observed, or a timeout), or null
     */
    public static Throwable thrownByClose(CoroutinePool pool) {
        return catchThrowable(() -> close(pool));
    }
}
