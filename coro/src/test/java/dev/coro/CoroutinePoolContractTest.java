package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link CoroutinePool} as an {@code Executor} and an {@code AutoCloseable}: bad arguments, closes that
 * race, the futures of bodies its caller settled or derived stages settled otherwise, and what
 * {@code close()} reports of them, each failure exactly once.
 *
 * <p>Every test closes its pool: while one is open no thread of the JVM reports a deadlock.
 */
@ExtendWith(FreshThread.class)
class CoroutinePoolContractTest {

    /** A bound for waits that are expected to end long before it: a guard against a hang. */
    private static final Duration GUARD = Duration.ofSeconds(30);

    /** Every test closes the pools it started (see {@link CoroutinePoolTest}). */
    @AfterEach
    void everyPoolThisTestStartedIsClosed() {
        assertThat(CoroutinePool.openPools()).as("pools this test left open").isZero();
    }

    /** Closes {@code pool}, failing rather than hanging if the close does not end; what it threw, or null. */
    private static Throwable close(CoroutinePool pool) {
        return catchThrowable(() -> Coroutine.withTimeout(GUARD, pool::close));
    }

    /** Submits a body that waits for {@code gate}, then throws an {@code IllegalStateException} with {@code message}. */
    private static CompletableFuture<Object> failingAfter(CoroutinePool pool, CompletableFuture<Void> gate, String message) {
        return pool.submit(() -> {
            Coroutine.await(gate);
            throw new IllegalStateException(message);
        });
    }

    /** Waits until every one of {@code futures} is complete, reading none of them. */
    private static void awaitAllEnded(CompletableFuture<?>... futures) {
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(futures).exceptionally(e -> null)));
    }

    /** The report {@code close()} throws for the first failure, {@code message}, of submit #{@code seq} on thread 0. */
    private static String report(String name, int seq, String message, String more) {
        return name + ": a coroutine failed and nobody observed it: coroutine 'coroutine-" + seq + "' on thread '" + name
                + "-0', running the body of submit #" + seq + ", threw java.lang.IllegalStateException: " + message + more;
    }

    /**
     * A count of threads the JVM has no room for is refused as a thread it cannot start is: an
     * {@code IllegalStateException} naming the caller, the pool and the count, the JVM's
     * {@code OutOfMemoryError} its cause; no thread started, and the pool never counts as open. It
     * was the bare {@code OutOfMemoryError} of the array of threads.
     */
    @Test
    void aCountOfThreadsTheJvmHasNoRoomForIsRefusedNamingTheCallerAndStartsNothing() {
        int threadsBefore = Thread.activeCount();
        List<Throwable> refused = new ArrayList<>();
        Coroutine.create("starter", () -> refused.add(catchThrowable(() -> CoroutinePool.start(Integer.MAX_VALUE)))).switchTo();
        Throwable e = refused.get(0);
        assertThat(e).isExactlyInstanceOf(IllegalStateException.class).hasCauseExactlyInstanceOf(OutOfMemoryError.class);
        String pool = e.getMessage().substring("coroutine 'starter' cannot start ".length(), e.getMessage().indexOf(" of "));
        assertThat(pool).matches("coro-pool-\\d+");
        assertThat(e).hasMessage("coroutine 'starter' cannot start " + pool + " of 2147483647 threads: the JVM has no memory"
                + " left to make them: " + e.getCause());
        assertThat(CoroutinePool.openPools()).isZero();
        assertThat(Thread.activeCount()).as("no thread started").isLessThanOrEqualTo(threadsBefore);
        CoroutinePool next = CoroutinePool.start(1); // the JVM goes on starting pools
        assertThat(Coroutine.withTimeout(GUARD, () -> Coroutine.await(next.submit(() -> "ran")))).isEqualTo("ran");
        assertThat(close(next)).isNull();
    }
}
