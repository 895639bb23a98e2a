package dev.coro;

import static dev.coro.PoolsClosed.GUARD;
import static dev.coro.PoolsClosed.thrownByClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A body's failure that nobody read is still reported by {@code close()} after its caller obtruded
 * another outcome on the future ({@code obtrudeValue}, {@code obtrudeException}): reading or handling
 * what the caller obtruded (on the future, or through a stage derived from it after the obtrusion)
 * hands nobody the body's failure, so it reads nothing of it; reading the body's failure before the
 * obtrusion did, and so does reading it afterwards through a stage derived before, which still holds it.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
@Timeout(60)
class PoolObtrudedOutcomeTest {

    /** A body that fails with an {@code IllegalStateException} of {@code message}, waited for unread. */
    private static CompletableFuture<String> failedUnread(CoroutinePool pool, String message) {
        CompletableFuture<String> f = pool.submit(() -> {
            throw new IllegalStateException(message);
        });
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(f).exceptionally(e -> null)));
        return f;
    }

    /** The report of the failure {@code message} of submit #{@code seq}, the first on thread 0 of {@code pool}. */
    private static String report(CoroutinePool pool, int seq, String message) {
        String name = PoolName.of(pool);
        return name + ": a coroutine failed and nobody observed it: coroutine 'coroutine-" + seq + "' on thread '" + name
                + "-0' (#" + PoolName.threadId(pool, 0) + "), running the body of submit #" + seq + ", threw java.lang.IllegalStateException: " + message;
    }

    @Test
    void aValueObtrudedOverAnUnreadFailureLeavesTheFailureToTheReportOfClose() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<String> f = failedUnread(pool, "under a value");
        f.obtrudeValue("the caller's");
        assertThat(f.join()).isEqualTo("the caller's");
        Throwable report = thrownByClose(pool);
        assertThat(report).isInstanceOf(CoroutineException.class).hasMessage(report(pool, 1, "under a value"));
    }

    @Test
    void readingAnExceptionObtrudedOverAnUnreadFailureReadsNothingOfTheBodysFailure() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<String> joined = failedUnread(pool, "under a joined exception");
        CompletableFuture<String> handled = failedUnread(pool, "under a handled exception");
        CompletableFuture<String> derived = failedUnread(pool, "under an exception read through a stage made after it");
        IllegalArgumentException callers = new IllegalArgumentException("the caller's");
        joined.obtrudeException(callers);
        handled.obtrudeException(callers);
        derived.obtrudeException(callers);
        assertThat(catchThrowable(derived.thenApply(v -> v)::join)).isInstanceOf(CompletionException.class).hasCause(callers);
        assertThat(catchThrowable(joined::join)).isInstanceOf(CompletionException.class).hasCause(callers);
        AtomicReference<Throwable> seen = new AtomicReference<>();
        handled.whenComplete((v, e) -> seen.set(e));
        assertThat(seen.get()).isSameAs(callers);
        Throwable report = thrownByClose(pool);
        assertThat(report).isInstanceOf(CoroutineException.class)
                .hasMessage(report(pool, 1, "under a joined exception") + "; 2 more failures suppressed");
        assertThat(report.getCause().getSuppressed()).extracting(Throwable::getMessage)
                .containsExactly("under a handled exception", "under an exception read through a stage made after it");
    }

    @Test
    void aFailureReadBeforeAnotherOutcomeWasObtrudedIsNotReported() {
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<String> f = failedUnread(pool, "read first");
        assertThat(catchThrowable(f::join)).isInstanceOf(CompletionException.class).hasRootCauseMessage("read first");
        f.obtrudeException(new IllegalArgumentException("the caller's"));
        f.obtrudeValue("the caller's");
        assertThat(thrownByClose(pool)).isNull();
    }

    /**
     * An {@code obtrudeException(null)} is refused with a {@code NullPointerException} naming the argument
     * ({@code ex}), on the future and on a stage derived from it, before anything else: it obtrudes nothing, so a
     * read after it reads the body's failure, which {@code close()} then does not report. The refused call once
     * marked the future obtruded all the same, and a read of a body that failed with a {@code CompletionException}
     * (a {@code join()} of another future that failed) then counted for nothing: the failure read was reported.
     */
    @Test
    void aRefusedObtrudeOfANullExceptionObtrudesNothingAndAReadAfterItReadsTheBodysFailure() {
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<String> another = CompletableFuture.failedFuture(new IllegalStateException("another future's failure"));
        CompletableFuture<String> f = pool.submit(another::join); // fails with the join's CompletionException
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(f).exceptionally(e -> null)));
        CompletableFuture<String> derived = f.thenApply(v -> v);
        Throwable refused = catchThrowable(() -> f.obtrudeException(null));
        Throwable refusedOnTheStage = catchThrowable(() -> derived.obtrudeException(null));
        assertThat(catchThrowable(f::join)).isExactlyInstanceOf(CompletionException.class)
                .hasRootCauseMessage("another future's failure");
        assertThat(thrownByClose(pool)).as("the failure was read").isNull();
        assertThat(refused).isExactlyInstanceOf(NullPointerException.class).hasMessage("ex");
        assertThat(refusedOnTheStage).isExactlyInstanceOf(NullPointerException.class).hasMessage("ex");
    }

    /**
     * A stage derived from the future before its caller obtruded another outcome, failed with the body's failure
     * already, keeps that failure: reading it afterwards ({@code join}), or handling it ({@code whenComplete}), hands
     * its caller the body's failure, which counts as read and is not reported by {@code close()}. Such a read once
     * counted for nothing, the obtruded outcome of the future not being the stage's, and the failure read was
     * reported as nobody's.
     */
    @Test
    void aStageThatFailedWithTheBodysFailureBeforeAnObtrusionHandsItOnAndItsReadCounts() {
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<String> joined = failedUnread(pool, "joined through a stage made before the obtrusion");
        CompletableFuture<String> handled = failedUnread(pool, "handled through a stage made before the obtrusion");
        CompletableFuture<String> joinedStage = joined.thenApply(v -> v);
        CompletableFuture<String> handledStage = handled.thenApply(v -> v);
        joined.obtrudeValue("the caller's");
        handled.obtrudeException(new IllegalArgumentException("the caller's"));
        assertThat(catchThrowable(joinedStage::join)).isInstanceOf(CompletionException.class)
                .hasRootCauseMessage("joined through a stage made before the obtrusion");
        AtomicReference<Throwable> seen = new AtomicReference<>();
        handledStage.whenComplete((v, e) -> seen.set(e));
        assertThat(seen.get()).hasRootCauseMessage("handled through a stage made before the obtrusion");
        assertThat(thrownByClose(pool)).as("both failures were read").isNull();
    }
}
