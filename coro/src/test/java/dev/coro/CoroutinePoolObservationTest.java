package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What {@link CoroutinePool#close()} counts as reading the failure of a submitted body: every read
 * that hands the failure to the caller does, a wait that ended before the failure came does not, and
 * a future its caller settled itself is not the body's to report.
 *
 * <p>Every test closes its pool: while one is open no thread of the JVM reports a deadlock.
 */
@ExtendWith(FreshThread.class)
class CoroutinePoolObservationTest {

    /** A bound for waits that are expected to end long before it: a guard against a hang. */
    private static final Duration GUARD = Duration.ofSeconds(30);

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

    @Test
    void aFutureItsCallerCancelledOrCompletedIsNotReportedWhenItsBodyThenFailsAndTheOtherFailuresStillAre() {
        CoroutinePool pool = CoroutinePool.start(2);
        String name = CoroutinePoolTest.nameOf(pool);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<Object> cancelled = failingAfter(pool, gate, "after cancel");
        CompletableFuture<Object> completed = failingAfter(pool, gate, "after complete");
        assertThat(cancelled.cancel(false)).isTrue();
        assertThat(completed.complete("the caller's own value")).isTrue();
        pool.execute(() -> {
            Coroutine.await(gate);
            throw new IllegalArgumentException("unobserved");
        });
        gate.complete(null);
        Throwable thrown = close(pool);
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage(name + ": a coroutine failed and nobody observed it: java.lang.IllegalArgumentException: unobserved");
        assertThat(thrown.getCause().getSuppressed()).as("the bodies whose futures their caller settled").isEmpty();
        assertThat(cancelled.isCancelled()).isTrue();
        assertThat(completed.join()).isEqualTo("the caller's own value");
    }
}
