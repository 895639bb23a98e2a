package dev.coro;

import static dev.coro.PoolsClosed.GUARD;
import static dev.coro.PoolsClosed.thrownByClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link CoroutinePool} as an {@code Executor} and an {@code AutoCloseable}: bad arguments, closes that
 * race, the futures of bodies its caller settled or derived stages settled otherwise, and what
 * {@code close()} reports of them, each failure exactly once.
 *
 * <p>Every test closes its pool: while one is open no thread of the JVM reports a deadlock ({@link PoolsClosed}
 * checks it after each test).
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
class CoroutinePoolContractTest {

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

    /** The report {@code close()} throws for the first failure, {@code message}, of submit #{@code seq} on thread 0 of {@code pool}. */
    private static String report(CoroutinePool pool, int seq, String message, String more) {
        String name = PoolName.of(pool);
        return name + ": a coroutine failed and nobody observed it: coroutine 'coroutine-" + seq + "' on thread '" + name
                + "-0' (#" + PoolName.threadId(pool, 0) + "), running the body of submit #" + seq + ", threw java.lang.IllegalStateException: " + message + more;
    }

    /**
     * A stage derived from a submission that failed on its own before the body did (its own
     * {@code cancel}, an {@code orTimeout} that expired, another source of an {@code applyToEither}
     * that failed first) never hands its reader the body's failure: reading it once the body has
     * failed reads nothing of that failure, which {@code close()} still reports. Such a read once
     * counted as reading the body's failure whenever the submission had failed by then, and the
     * failure nobody saw was lost.
     */
    @Test
    void aReadOfAStageThatFailedOnItsOwnBeforeTheBodyFailedReadsNothingOfTheBodysFailure() throws Exception {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<Object> cancelledStage = failingAfter(pool, gate, "under a cancelled stage");
        CompletableFuture<Object> timedOutStage = failingAfter(pool, gate, "under a stage that timed out");
        CompletableFuture<Object> eitherStage = failingAfter(pool, gate, "under an either whose other failed first");
        CompletableFuture<Object> throwsCancellation = pool.submit(() -> {
            Coroutine.await(gate);
            throw new CancellationException("the body's own"); // as an await of a future somebody cancelled throws
        });
        CompletableFuture<Object> cancelled = cancelledStage.thenApply(v -> v);
        assertThat(cancelled.cancel(false)).isTrue();
        CompletableFuture<Object> timedOut = timedOutStage.thenApply(v -> v).orTimeout(1, TimeUnit.NANOSECONDS);
        awaitAllEnded(timedOut);
        CompletableFuture<Object> either = eitherStage.applyToEither(
                CompletableFuture.failedFuture(new IllegalArgumentException("the other source")), v -> v);
        gate.complete(null);
        awaitAllEnded(cancelledStage, timedOutStage, eitherStage, throwsCancellation);
        assertThat(catchThrowable(() -> throwsCancellation.thenApply(v -> v).join())).as("read through a stage: it is the body's")
                .isExactlyInstanceOf(CompletionException.class).hasCauseExactlyInstanceOf(CancellationException.class);
        assertThat(catchThrowable(cancelled::join)).isExactlyInstanceOf(CancellationException.class);
        assertThat(catchThrowable(timedOut::get)).isExactlyInstanceOf(ExecutionException.class)
                .hasCauseExactlyInstanceOf(TimeoutException.class);
        assertThat(catchThrowable(either::join)).isExactlyInstanceOf(CompletionException.class)
                .hasCauseExactlyInstanceOf(IllegalArgumentException.class);
        Throwable thrown = thrownByClose(pool);
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage(report(pool, 1, "under a cancelled stage", "; 2 more failures suppressed"));
        assertThat(thrown.getCause().getSuppressed()).extracting(Throwable::getMessage)
                .containsExactly("under a stage that timed out", "under an either whose other failed first");
    }

    /**
     * {@code orTimeout} and {@code completeOnTimeout} attach the JDK's callback that cancels their timer
     * through {@code whenComplete}: that reads nothing, and the failure of a body that fails before
     * the timeout, which nobody reads, is reported by {@code close()}. Attaching such a timeout once
     * counted as a handler of the failure, and the failure was lost.
     */
    @Test
    void aTimeoutAttachedToTheFutureReadsNothingOfAFailureThatComesBeforeIt() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<Object> orTimeout = failingAfter(pool, gate, "before its orTimeout");
        CompletableFuture<Object> completeOnTimeout = failingAfter(pool, gate, "before its completeOnTimeout");
        CompletableFuture<Object> onAStage = failingAfter(pool, gate, "before the orTimeout of a stage");
        assertThat(orTimeout.orTimeout(1, TimeUnit.HOURS)).isSameAs(orTimeout);
        assertThat(completeOnTimeout.completeOnTimeout("the caller's", 1, TimeUnit.HOURS)).isSameAs(completeOnTimeout);
        CompletableFuture<Object> stage = onAStage.thenApply(v -> v).orTimeout(1, TimeUnit.HOURS);
        gate.complete(null);
        awaitAllEnded(orTimeout, completeOnTimeout, onAStage, stage);
        Throwable thrown = thrownByClose(pool);
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage(report(pool, 1, "before its orTimeout", "; 2 more failures suppressed"));
        assertThat(thrown.getCause().getSuppressed()).extracting(Throwable::getMessage)
                .containsExactly("before its completeOnTimeout", "before the orTimeout of a stage");
    }

    /**
     * A handler attached to a derived stage that has settled otherwise already (its own cancel, a value
     * of its own) can never see the body's failure: it reads nothing, and {@code close()} reports the
     * failure; one attached to a stage still pending, or failed with the body's failure, has read it.
     */
    @Test
    void aHandlerOnAStageSettledOtherwiseAlreadyReadsNothingOfTheBodysFailure() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<Object> underCancelled = failingAfter(pool, gate, "under a cancelled stage");
        CompletableFuture<Object> underCompleted = failingAfter(pool, gate, "under a stage completed by its caller");
        CompletableFuture<Object> underPending = failingAfter(pool, gate, "under a pending stage");
        CompletableFuture<Object> cancelled = underCancelled.thenApply(v -> v);
        cancelled.cancel(false);
        CompletableFuture<Object> seen = cancelled.exceptionally(e -> e.getClass().getSimpleName());
        CompletableFuture<Object> completed = underCompleted.thenApply(v -> v);
        completed.complete("the caller's");
        completed.whenComplete((v, e) -> { });
        underPending.thenApply(v -> v).handle((v, e) -> e); // pending: it will see the body's failure
        gate.complete(null);
        awaitAllEnded(underCancelled, underCompleted, underPending);
        assertThat(seen.join()).isEqualTo("CancellationException");
        Throwable thrown = thrownByClose(pool);
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage(report(pool, 1, "under a cancelled stage", "; 1 more failure suppressed"));
        assertThat(thrown.getCause().getSuppressed()).extracting(Throwable::getMessage)
                .containsExactly("under a stage completed by its caller");
    }

    /**
     * A handler attached to a derived stage still pending that then settles otherwise before the body fails (its
     * own cancel, an {@code orTimeout} that expires, another source of an {@code applyToEither} failing first) is
     * handed that outcome, never the body's failure: it reads nothing of it, and {@code close()} reports the
     * failure. Attaching such a handler once counted at once as reading whatever failure the stage would come to
     * hold, and the failure nobody saw was lost.
     */
    @Test
    void aHandlerOnAPendingStageThatThenSettlesOtherwiseReadsNothingOfTheBodysFailure() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<Object> underCancelled = failingAfter(pool, gate, "under a stage cancelled after its handler");
        CompletableFuture<Object> underEither = failingAfter(pool, gate, "under an either whose other failed first");
        CompletableFuture<Object> underTimedOut = failingAfter(pool, gate, "under a stage that timed out after its handler");
        CompletableFuture<Object> cancelled = underCancelled.thenApply(v -> v);
        CompletableFuture<Object> seenCancelled = cancelled.exceptionally(e -> e.getClass().getSimpleName());
        assertThat(cancelled.cancel(false)).isTrue();
        CompletableFuture<Object> other = new CompletableFuture<>();
        CompletableFuture<Object> seenOther = underEither.applyToEither(other, v -> v).handle((v, e) -> e.getCause().getMessage());
        other.completeExceptionally(new IllegalArgumentException("the other source"));
        CompletableFuture<Object> seenTimeout = underTimedOut.thenApply(v -> v).orTimeout(1, TimeUnit.NANOSECONDS)
                .exceptionally(e -> e.getClass().getSimpleName());
        awaitAllEnded(seenTimeout);
        gate.complete(null);
        awaitAllEnded(underCancelled, underEither, underTimedOut);
        assertThat(seenCancelled.join()).isEqualTo("CancellationException");
        assertThat(seenOther.join()).isEqualTo("the other source");
        assertThat(seenTimeout.join()).isEqualTo("TimeoutException");
        Throwable thrown = thrownByClose(pool);
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage(report(pool, 1, "under a stage cancelled after its handler", "; 2 more failures suppressed"));
        assertThat(thrown.getCause().getSuppressed()).extracting(Throwable::getMessage)
                .containsExactly("under an either whose other failed first", "under a stage that timed out after its handler");
    }

    /**
     * A handler attached to a pending derived stage that completes as a thread other than the body's settles another
     * source (the minimal stage of a {@code thenCombine}, relayed the body's failure once the other source gets its
     * value) has read the failure by the time it runs: a close made once it has run, while that thread still runs
     * the callbacks of the handler's stage, reports nothing. The handler once counted only after the JDK had run it
     * and its stage's callbacks, and such a close reported the failure the handler had been handed.
     */
    @Test
    void aHandlerOnAPendingStageCompletedOnAnotherThreadHasReadTheFailureOnceItRuns() throws InterruptedException {
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<Object> failing = failingAfter(pool, gate, "handled through a minimal stage");
        CompletableFuture<Object> other = new CompletableFuture<>();
        CompletionStage<Object> stage = failing.thenCombine(other, (v, w) -> v).minimalCompletionStage();
        List<Throwable> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Void> handled = new CompletableFuture<>();
        CountDownLatch closed = new CountDownLatch(1);
        stage.handle((v, e) -> seen.add(e)).thenRun(() -> {
            handled.complete(null);
            try {
                closed.await(); // holds the completing thread, the handler run, until the close has returned
            } catch (InterruptedException interrupted) {
                throw new AssertionError(interrupted);
            }
        });
        gate.complete(null);
        awaitAllEnded(failing);
        Thread completer = Thread.ofPlatform().name("completer").start(() -> other.complete("the other's"));
        Throwable thrown;
        try {
            Coroutine.withTimeout(GUARD, () -> Coroutine.await(handled));
            thrown = thrownByClose(pool);
        } finally {
            closed.countDown();
            completer.join();
        }
        assertThat(seen).extracting(Throwable::getCause).extracting(Throwable::getMessage)
                .containsExactly("handled through a minimal stage");
        assertThat(thrown).as("the handler was handed the failure").isNull();
    }

    /**
     * A handler attached to a pending derived stage whose own stage its caller settled before the body failed (a
     * {@code cancel}, an {@code orTimeout} that expired) never runs: the JDK hands it nothing, and the body's
     * failure, which nobody saw, is reported by {@code close()}. Such a handler once counted as reading the failure
     * once the stage it was attached to failed with it, though it never ran, and the failure was lost.
     */
    @Test
    void aHandlerOnAPendingStageWhoseOwnStageWasSettledFirstNeverRunsAndReadsNothing() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<Object> underCancelled = failingAfter(pool, gate, "its handler's stage cancelled first");
        CompletableFuture<Object> underTimedOut = failingAfter(pool, gate, "its handler's stage timed out first");
        List<Throwable> ran = java.util.Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Object> cancelled = underCancelled.thenApply(v -> v).exceptionally(ran::add);
        assertThat(cancelled.cancel(false)).isTrue();
        CompletableFuture<Boolean> timedOut = underTimedOut.thenApply(v -> v).handle((v, e) -> ran.add(e))
                .orTimeout(1, TimeUnit.NANOSECONDS);
        awaitAllEnded(timedOut);
        gate.complete(null);
        awaitAllEnded(underCancelled, underTimedOut);
        Throwable thrown = thrownByClose(pool);
        assertThat(ran).as("no handler ran").isEmpty();
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage(report(pool, 1, "its handler's stage cancelled first", "; 1 more failure suppressed"));
        assertThat(thrown.getCause().getSuppressed()).extracting(Throwable::getMessage)
                .containsExactly("its handler's stage timed out first");
    }

    /**
     * A handler attached directly to the future of a submission still pending ({@code whenComplete}, {@code handle},
     * {@code exceptionally}, {@code exceptionallyCompose}) whose own stage its caller settled before the body failed (a
     * {@code cancel}, an {@code orTimeout} that expired, a {@code complete}) never runs either: the JDK hands it nothing,
     * and the body's failure, which nobody saw, is reported by {@code close()}, as for a handler on a pending derived
     * stage; one that runs has read it. Such a handler once counted as reading the failure as it was attached, though
     * it never ran, and the failure was lost.
     */
    @Test
    void aHandlerOnTheSubmissionsPendingFutureWhoseOwnStageWasSettledFirstNeverRunsAndReadsNothing() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<Object> underCancelled = failingAfter(pool, gate, "its handler's stage cancelled first");
        CompletableFuture<Object> underTimedOut = failingAfter(pool, gate, "its handler's stage timed out first");
        CompletableFuture<Object> underCompleted = failingAfter(pool, gate, "its handler's stage completed first");
        CompletableFuture<Object> handled = failingAfter(pool, gate, "handled");
        List<Throwable> ran = java.util.Collections.synchronizedList(new ArrayList<>());
        assertThat(underCancelled.whenComplete((v, e) -> ran.add(e)).cancel(false)).isTrue();
        CompletableFuture<Boolean> timedOut = underTimedOut.handle((v, e) -> ran.add(e)).orTimeout(1, TimeUnit.NANOSECONDS);
        awaitAllEnded(timedOut);
        assertThat(underCompleted.exceptionally(e -> ran.add(e)).complete("the caller's")).isTrue();
        CompletableFuture<Object> recovered = handled.exceptionallyCompose(e -> {
            ran.add(e);
            return CompletableFuture.completedFuture("recovered");
        });
        gate.complete(null);
        awaitAllEnded(underCancelled, underTimedOut, underCompleted, handled);
        assertThat(recovered.join()).isEqualTo("recovered");
        Throwable thrown = thrownByClose(pool);
        assertThat(ran).as("only the handler whose stage nobody settled ran").extracting(Throwable::getMessage).containsExactly("handled");
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage(report(pool, 1, "its handler's stage cancelled first", "; 2 more failures suppressed"));
        assertThat(thrown.getCause().getSuppressed()).extracting(Throwable::getMessage)
                .containsExactly("its handler's stage timed out first", "its handler's stage completed first");
    }

    /**
     * A count of threads the JVM has no room for is refused as a thread it cannot start is: an
     * {@code IllegalStateException} naming the caller, the pool and the count, the JVM's
     * {@code OutOfMemoryError} its cause; no thread started, and the pool never counts as open. It
     * was the bare {@code OutOfMemoryError} of the array of threads.
     */
    @Test
    void aCountOfThreadsTheJvmHasNoRoomForIsRefusedNamingTheCallerAndStartsNothing() {
        List<Throwable> refused = new ArrayList<>();
        Coroutine.create("starter", () -> refused.add(catchThrowable(() -> CoroutinePool.start(Integer.MAX_VALUE)))).switchTo();
        Throwable e = refused.get(0);
        assertThat(e).isExactlyInstanceOf(IllegalStateException.class).hasCauseExactlyInstanceOf(OutOfMemoryError.class);
        String pool = e.getMessage().substring("coroutine 'starter' cannot start ".length(), e.getMessage().indexOf(" of "));
        assertThat(pool).matches("coro-pool-\\d+");
        assertThat(e).hasMessage("coroutine 'starter' cannot start " + pool + " of 2147483647 threads: the JVM has no memory"
                + " left to make them: " + e.getCause());
        assertThat(CoroutinePool.openPools()).isZero();
        assertThat(Thread.getAllStackTraces().keySet()).as("no thread of it started").noneMatch(t -> t.getName().startsWith(pool + "-"));
        CoroutinePool next = CoroutinePool.start(1); // the JVM goes on starting pools
        assertThat(Coroutine.withTimeout(GUARD, () -> Coroutine.await(next.submit(() -> "ran")))).isEqualTo("ran");
        assertThat(thrownByClose(next)).isNull();
    }

    /**
     * A null body or name is refused with a {@code NullPointerException} naming the argument, before
     * anything else: on a closed pool too, as {@code ThreadPoolExecutor.execute(null)} is. A refused
     * call takes no submission number, so the next body is submission #1.
     */
    @Test
    void aNullBodyOrNameIsRefusedNamingTheArgumentAndTakesNoSubmissionNumber() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        Supplier<Object> noSupplier = null;
        List<Runnable> calls = List.of(
                () -> pool.execute(null),
                () -> pool.execute("named", null),
                () -> pool.submit(noSupplier),
                () -> pool.submit("named", null),
                () -> pool.submitCallable(null),
                () -> pool.submitCallable("named", null));
        for (Runnable call : calls) {
            assertThatThrownBy(call::run).isExactlyInstanceOf(NullPointerException.class).hasMessage("body");
        }
        assertThatThrownBy(() -> pool.execute(null, () -> { })).isExactlyInstanceOf(NullPointerException.class).hasMessage("name");
        assertThatThrownBy(() -> pool.submit(null, () -> 1)).isExactlyInstanceOf(NullPointerException.class).hasMessage("name");
        assertThatThrownBy(() -> pool.submitCallable(null, () -> 1)).isExactlyInstanceOf(NullPointerException.class).hasMessage("name");
        CompletableFuture<Object> first = pool.submit(() -> {
            throw new IllegalStateException("the first submission");
        });
        awaitAllEnded(first);
        assertThat(first.toString()).startsWith("the future of submit #1 to " + name + "[");
        Throwable thrown = thrownByClose(pool);
        assertThat(thrown).hasMessage(report(pool, 1, "the first submission", ""));
        for (Runnable call : calls) {
            assertThatThrownBy(call::run).as("closed").isExactlyInstanceOf(NullPointerException.class).hasMessage("body");
        }
    }

    /**
     * An {@code Async} method given a null executor, on a submission's future, on a stage derived from it and on its
     * minimal stage, is refused with a {@code NullPointerException} naming the argument, as every null refusal of the
     * library is (the JDK's says nothing), before anything else: the refused handler reads nothing of the failure,
     * which {@code close()} still reports.
     */
    @Test
    void anAsyncMethodGivenANullExecutorIsRefusedNamingTheArgumentAndReadsNothing() {
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<Object> failed = failedSubmission(pool);
        CompletableFuture<Object> other = CompletableFuture.completedFuture("other");
        Map<Function<CompletionStage<Object>, CompletionStage<?>>, String> calls = new LinkedHashMap<>();
        calls.put(s -> s.thenApplyAsync(v -> v, null), "executor");
        calls.put(s -> s.thenAcceptAsync(v -> { }, null), "executor");
        calls.put(s -> s.thenRunAsync(() -> { }, null), "executor");
        calls.put(s -> s.thenCombineAsync(other, (x, y) -> x, null), "executor");
        calls.put(s -> s.thenAcceptBothAsync(other, (x, y) -> { }, null), "executor");
        calls.put(s -> s.runAfterBothAsync(other, () -> { }, null), "executor");
        calls.put(s -> s.applyToEitherAsync(other, v -> v, null), "executor");
        calls.put(s -> s.acceptEitherAsync(other, v -> { }, null), "executor");
        calls.put(s -> s.runAfterEitherAsync(other, () -> { }, null), "executor");
        calls.put(s -> s.thenComposeAsync(v -> other, null), "executor");
        calls.put(s -> s.whenCompleteAsync((v, e) -> { }, null), "executor");
        calls.put(s -> s.handleAsync((v, e) -> v, null), "executor");
        calls.put(s -> s.exceptionallyAsync(e -> e, null), "executor");
        calls.put(s -> s.exceptionallyComposeAsync(e -> other, null), "executor");
        refusedNamingTheArgumentAndReadingNothing(pool, failed, calls, Map.of(f -> f.completeAsync(() -> "value", null), "executor"));
    }

    /**
     * A handler given a null function ({@code handle}, {@code whenComplete}, {@code exceptionally},
     * {@code exceptionallyCompose}, their {@code Async} forms, and every {@code Async} form given an executor), on a
     * submission's future, on a stage derived from it and on its minimal stage, is refused with a
     * {@code NullPointerException} naming the argument, as every null refusal of the library is (the JDK's says
     * nothing), the executor checked first as the JDK checks it: the refused handler reads nothing of the failure,
     * which {@code close()} still reports.
     */
    @Test
    void aHandlerGivenANullFunctionIsRefusedNamingTheArgumentAndReadsNothing() {
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<Object> failed = failedSubmission(pool);
        CompletableFuture<Object> other = CompletableFuture.completedFuture("other");
        java.util.concurrent.Executor direct = Runnable::run;
        Map<Function<CompletionStage<Object>, CompletionStage<?>>, String> calls = new LinkedHashMap<>();
        calls.put(s -> s.handle(null), "fn");
        calls.put(s -> s.handleAsync(null), "fn");
        calls.put(s -> s.handleAsync(null, direct), "fn");
        calls.put(s -> s.handleAsync(null, pool), "fn");
        calls.put(s -> s.handleAsync(null, null), "executor");
        calls.put(s -> s.whenComplete(null), "action");
        calls.put(s -> s.whenCompleteAsync(null), "action");
        calls.put(s -> s.whenCompleteAsync(null, direct), "action");
        calls.put(s -> s.exceptionally(null), "fn");
        calls.put(s -> s.exceptionallyAsync(null), "fn");
        calls.put(s -> s.exceptionallyAsync(null, direct), "fn");
        calls.put(s -> s.exceptionallyCompose(null), "fn");
        calls.put(s -> s.exceptionallyComposeAsync(null), "fn");
        calls.put(s -> s.exceptionallyComposeAsync(null, direct), "fn");
        calls.put(s -> s.thenApplyAsync(null, direct), "fn");
        calls.put(s -> s.thenAcceptAsync(null, direct), "action");
        calls.put(s -> s.thenRunAsync(null, direct), "action");
        calls.put(s -> s.thenCombineAsync(other, null, direct), "fn");
        calls.put(s -> s.thenAcceptBothAsync(other, null, direct), "action");
        calls.put(s -> s.runAfterBothAsync(other, null, direct), "action");
        calls.put(s -> s.applyToEitherAsync(other, null, direct), "fn");
        calls.put(s -> s.acceptEitherAsync(other, null, direct), "action");
        calls.put(s -> s.runAfterEitherAsync(other, null, direct), "action");
        calls.put(s -> s.thenComposeAsync(null, direct), "fn");
        refusedNamingTheArgumentAndReadingNothing(pool, failed, calls, Map.of(f -> f.completeAsync(null, direct), "supplier"));
    }

    /**
     * A stage method that attaches no handler of failures ({@code thenApply}, {@code thenAccept}, {@code thenRun},
     * {@code thenCompose}, the two-stage ones and their {@code Async} forms given no executor), given a null function
     * or a null other stage, {@code orTimeout}, {@code completeOnTimeout}, {@code get} given a null unit, and
     * {@code completeExceptionally}, {@code obtrudeException} given a null exception, on a submission's future, on a
     * stage derived from it and (those of {@code CompletionStage}) on its minimal stage, are refused with a
     * {@code NullPointerException} naming the argument, as every null refusal of the library is, where the JDK's said
     * nothing, or named only a parameter of its own code ({@code "<parameter1>" is null}); the function checked
     * before the other stage, as the JDK checks them. A refused call reads nothing of a failure, which
     * {@code close()} still reports, and leaves the future as it was: a later stage of a body's value has it.
     */
    @Test
    void aNullFunctionOtherStageUnitOrExceptionIsRefusedNamingTheArgumentAndReadsNothing() throws Exception {
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<Object> failed = failedSubmission(pool);
        CompletableFuture<Object> succeeded = pool.submit(() -> "value");
        awaitAllEnded(succeeded);
        CompletableFuture<Object> other = CompletableFuture.completedFuture("other");
        java.util.concurrent.Executor direct = Runnable::run;
        Map<Function<CompletionStage<Object>, CompletionStage<?>>, String> calls = new LinkedHashMap<>();
        calls.put(s -> s.thenApply(null), "fn");
        calls.put(s -> s.thenApplyAsync(null), "fn");
        calls.put(s -> s.thenAccept(null), "action");
        calls.put(s -> s.thenAcceptAsync(null), "action");
        calls.put(s -> s.thenRun(null), "action");
        calls.put(s -> s.thenRunAsync(null), "action");
        calls.put(s -> s.thenCompose(null), "fn");
        calls.put(s -> s.thenComposeAsync(null), "fn");
        calls.put(s -> s.thenCombine(other, null), "fn");
        calls.put(s -> s.thenCombineAsync(other, null), "fn");
        calls.put(s -> s.thenCombine(null, (x, y) -> x), "other");
        calls.put(s -> s.thenCombineAsync(null, (x, y) -> x), "other");
        calls.put(s -> s.thenCombineAsync(null, (x, y) -> x, direct), "other");
        calls.put(s -> s.thenCombine(null, null), "fn");
        calls.put(s -> s.thenAcceptBoth(other, null), "action");
        calls.put(s -> s.thenAcceptBothAsync(other, null), "action");
        calls.put(s -> s.thenAcceptBoth(null, (x, y) -> { }), "other");
        calls.put(s -> s.thenAcceptBothAsync(null, (x, y) -> { }), "other");
        calls.put(s -> s.thenAcceptBothAsync(null, (x, y) -> { }, direct), "other");
        calls.put(s -> s.runAfterBoth(other, null), "action");
        calls.put(s -> s.runAfterBothAsync(other, null), "action");
        calls.put(s -> s.runAfterBoth(null, () -> { }), "other");
        calls.put(s -> s.runAfterBothAsync(null, () -> { }), "other");
        calls.put(s -> s.runAfterBothAsync(null, () -> { }, direct), "other");
        calls.put(s -> s.applyToEither(other, null), "fn");
        calls.put(s -> s.applyToEitherAsync(other, null), "fn");
        calls.put(s -> s.applyToEither(null, v -> v), "other");
        calls.put(s -> s.applyToEitherAsync(null, v -> v), "other");
        calls.put(s -> s.applyToEitherAsync(null, v -> v, direct), "other");
        calls.put(s -> s.acceptEither(other, null), "action");
        calls.put(s -> s.acceptEitherAsync(other, null), "action");
        calls.put(s -> s.acceptEither(null, v -> { }), "other");
        calls.put(s -> s.acceptEitherAsync(null, v -> { }), "other");
        calls.put(s -> s.acceptEitherAsync(null, v -> { }, direct), "other");
        calls.put(s -> s.runAfterEither(other, null), "action");
        calls.put(s -> s.runAfterEitherAsync(other, null), "action");
        calls.put(s -> s.runAfterEither(null, () -> { }), "other");
        calls.put(s -> s.runAfterEitherAsync(null, () -> { }), "other");
        calls.put(s -> s.runAfterEitherAsync(null, () -> { }, direct), "other");
        Map<Function<CompletableFuture<Object>, Object>, String> futureCalls = new LinkedHashMap<>();
        futureCalls.put(f -> f.orTimeout(1, null), "unit");
        futureCalls.put(f -> f.completeOnTimeout("on time", 1, null), "unit");
        futureCalls.put(f -> uncheckedGet(f, null), "unit");
        futureCalls.put(f -> f.completeExceptionally(null), "ex");
        futureCalls.put(f -> {
            f.obtrudeException(null);
            return f;
        }, "ex");
        CompletableFuture<Object> derived = succeeded.thenApply(v -> v);
        refusedNamingTheArgument(calls, futureCalls, succeeded, derived);
        assertThat(succeeded.thenApply(v -> v + " read later").join()).isEqualTo("value read later");
        assertThat(derived.thenCombine(other, (x, y) -> x + " and " + y).join()).isEqualTo("value and other");
        assertThat(succeeded.get(1, TimeUnit.MINUTES)).isEqualTo("value");
        refusedNamingTheArgumentAndReadingNothing(pool, failed, calls, futureCalls);
        assertThat(catchThrowable(failed::join)).as("read after the close").isExactlyInstanceOf(CompletionException.class)
                .hasRootCauseMessage("the body's failure");
    }

    /** {@code f.get(1, unit)}, its checked exceptions thrown as they are. */
    private static Object uncheckedGet(CompletableFuture<Object> f, TimeUnit unit) {
        try {
            return f.get(1, unit);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            throw new AssertionError(e);
        }
    }

    /** A submission to {@code pool} that failed ({@code IllegalStateException("the body's failure")}), its body ended. */
    private static CompletableFuture<Object> failedSubmission(CoroutinePool pool) {
        CompletableFuture<Object> failed = pool.submit(() -> {
            throw new IllegalStateException("the body's failure");
        });
        awaitAllEnded(failed);
        return failed;
    }

    /**
     * Each of {@code calls}, on {@code failed}, on a stage derived from it and on its minimal stage, and each of
     * {@code futureCalls} (methods of {@code CompletableFuture} alone, which a minimal stage refuses) on the first
     * two, throws a {@code NullPointerException} naming its argument; then {@code close()} of {@code pool} still
     * reports the failure: no refused call read it.
     */
    private static void refusedNamingTheArgumentAndReadingNothing(CoroutinePool pool, CompletableFuture<Object> failed,
            Map<Function<CompletionStage<Object>, CompletionStage<?>>, String> calls,
            Map<Function<CompletableFuture<Object>, Object>, String> futureCalls) {
        String name = PoolName.of(pool);
        CompletableFuture<Object> derived = failed.thenApply(v -> v);
        refusedNamingTheArgument(calls, futureCalls, failed, derived);
        assertThat(thrownByClose(pool)).hasMessage(report(pool, 1, "the body's failure", ""));
    }

    /**
     * Each of {@code calls}, on {@code future}, on {@code derived} and on the minimal stage of {@code future}, and
     * each of {@code futureCalls} on the first two, throws a {@code NullPointerException} whose message is the
     * name of its argument.
     */
    private static void refusedNamingTheArgument(Map<Function<CompletionStage<Object>, CompletionStage<?>>, String> calls,
            Map<Function<CompletableFuture<Object>, Object>, String> futureCalls,
            CompletableFuture<Object> future, CompletableFuture<Object> derived) {
        for (CompletionStage<Object> stage : List.of(future, derived, future.minimalCompletionStage())) {
            calls.forEach((call, argument) -> assertThatThrownBy(() -> call.apply(stage)).as(stage + " " + argument)
                    .isExactlyInstanceOf(NullPointerException.class).hasMessage(argument));
        }
        for (CompletableFuture<Object> f : List.of(future, derived)) {
            futureCalls.forEach((call, argument) -> assertThatThrownBy(() -> call.apply(f)).as(f + " " + argument)
                    .isExactlyInstanceOf(NullPointerException.class).hasMessage(argument));
        }
    }

    /**
     * Two closes at once, from two plain threads ({@code close} and {@code closeNow}, or two
     * {@code close}s), both return once every pool thread has ended, and the failures nobody observed
     * are reported by exactly one of them, each once: none lost, none twice.
     */
    @Test
    void twoClosesAtOnceBothWaitForTheEndAndExactlyOneReportsEachFailureOnce() throws InterruptedException {
        for (int round = 0; round < 20; round++) {
            CoroutinePool pool = CoroutinePool.start(2);
            CompletableFuture<Void> executedRuns = new CompletableFuture<>();
            pool.execute(() -> {
                executedRuns.complete(null); // no scheduling point until it throws: a closeNow cannot cut it short
                throw new IllegalStateException("executed");
            });
            CompletableFuture<Object> submitted = pool.submit(() -> {
                throw new IllegalStateException("submitted");
            });
            awaitAllEnded(executedRuns, submitted); // both have run: a closeNow starts neither unrun
            boolean now = round % 2 == 0;
            CountDownLatch go = new CountDownLatch(1);
            List<Throwable> outcomes = java.util.Collections.synchronizedList(new ArrayList<>());
            List<Thread> closers = new ArrayList<>();
            for (int k = 0; k < 2; k++) {
                Runnable closeIt = k == 0 && now ? pool::closeNow : pool::close;
                closers.add(Thread.ofPlatform().name("closer-" + k).start(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                    outcomes.add(catchThrowable(closeIt::run));
                    outcomes.add(new AssertionError(pool.toString())); // what the pool was when this close returned
                }));
            }
            go.countDown();
            for (Thread t : closers) {
                Peer.join(t);
            }
            List<Throwable> reports = outcomes.stream().filter(t -> t instanceof CoroutineException).toList();
            assertThat(reports).as("round " + round).hasSize(1);
            assertThat(reports.get(0).getCause()).hasMessage("executed");
            assertThat(reports.get(0).getCause().getSuppressed()).extracting(Throwable::getMessage).containsExactly("submitted");
            assertThat(outcomes.stream().filter(t -> t instanceof AssertionError).map(Throwable::getMessage))
                    .as("round " + round + ": both returned once the pool had ended").hasSize(2).allMatch(s -> s.endsWith("closed]"));
            assertThat(outcomes).hasSize(4);
        }
    }

    /**
     * A {@code closeNow()} from one thread while a {@code close()} of another waits for bodies that would
     * never end (parked in an await of a future nobody completes, in a receive from a channel nobody sends
     * to): the close waiting already (even rounds) or both called at once (odd rounds), the closeNow ends
     * what the close waits for, both return once the pool has ended, neither reports anything, and every
     * body was unwound once, its future failed with the signal that unwound it.
     */
    @Test
    void aCloseNowWhileACloseOfAnotherThreadWaitsForBodiesThatNeverEndEndsThemAndBothReturn() throws InterruptedException {
        for (int round = 0; round < 20; round++) {
            CoroutinePool pool = CoroutinePool.start(2);
            CompletableFuture<Void> never = new CompletableFuture<>();
            Channel<Integer> silent = Coroutine.await(pool.submit(() -> new Channel<Integer>("silent", 0)));
            CountDownLatch parked = new CountDownLatch(4);
            java.util.concurrent.atomic.AtomicInteger unwound = new java.util.concurrent.atomic.AtomicInteger();
            List<CompletableFuture<Object>> bodies = new ArrayList<>();
            for (int k = 0; k < 4; k++) {
                boolean awaits = k % 2 == 0;
                bodies.add(pool.submit(() -> {
                    parked.countDown();
                    try {
                        return awaits ? Coroutine.await(never) : silent.receive();
                    } finally {
                        unwound.incrementAndGet();
                    }
                }));
            }
            parked.await();
            boolean closeFirst = round % 2 == 0;
            CountDownLatch go = new CountDownLatch(closeFirst ? 0 : 1);
            List<Throwable> thrown = java.util.Collections.synchronizedList(new ArrayList<>());
            Thread closer = Thread.ofPlatform().name("closer").start(() -> {
                try {
                    go.await();
                    pool.close();
                } catch (Throwable t) {
                    thrown.add(t);
                }
            });
            if (closeFirst) {
                while (closer.getState() != Thread.State.WAITING) { // parked in its close, waiting for the bodies
                    assertThat(closer.isAlive()).as("round %d: the close still waits", round).isTrue();
                    Thread.onSpinWait();
                }
            }
            Thread nowCloser = Thread.ofPlatform().name("now-closer").start(() -> {
                try {
                    go.await();
                    pool.closeNow();
                } catch (Throwable t) {
                    thrown.add(t);
                }
            });
            go.countDown();
            assertThat(closer.join(GUARD)).as("round %d: the close returned", round).isTrue();
            assertThat(nowCloser.join(GUARD)).as("round %d: the closeNow returned", round).isTrue();
            assertThat(thrown).as("round %d: what the closes threw", round).isEmpty();
            assertThat(pool.toString()).endsWith("closed]");
            assertThat(unwound.get()).as("round %d: bodies unwound", round).isEqualTo(4);
            for (CompletableFuture<Object> b : bodies) {
                assertThat(b.exceptionNow()).as("round %d", round).isInstanceOf(CoroutineExit.class);
            }
        }
    }

    /**
     * Submissions from two plain threads racing a {@code close()} (or a {@code closeNow()}) from a third:
     * each is refused ({@code RejectedExecutionException} naming the submitter, the pool and its state)
     * or taken, and every body taken runs exactly once, or, under {@code closeNow()}, either runs once
     * or never runs, its future cancelled; none is lost, none run twice, none refused that runs.
     */
    @Test
    void submissionsRacingACloseAreEachRefusedOrRunExactlyOnce() throws InterruptedException {
        for (int round = 0; round < 10; round++) {
            boolean now = round % 2 == 1;
            CoroutinePool pool = CoroutinePool.start(2);
            String name = PoolName.of(pool);
            java.util.Set<Integer> ran = java.util.concurrent.ConcurrentHashMap.newKeySet();
            java.util.concurrent.atomic.AtomicInteger runs = new java.util.concurrent.atomic.AtomicInteger();
            java.util.Map<Integer, CompletableFuture<Integer>> taken = new java.util.concurrent.ConcurrentHashMap<>();
            List<String> refusals = java.util.Collections.synchronizedList(new ArrayList<>());
            CountDownLatch submitting = new CountDownLatch(2);
            List<Thread> submitters = new ArrayList<>();
            for (int k = 0; k < 2; k++) {
                int base = k * 1_000_000;
                submitters.add(Thread.ofPlatform().name("submitter-" + k).start(() -> {
                    long giveUp = System.nanoTime() + GUARD.toNanos();
                    for (int i = 0; i < 200_000 && System.nanoTime() < giveUp; i++) {
                        int id = base + i;
                        try {
                            taken.put(id, pool.submit(() -> {
                                runs.incrementAndGet();
                                ran.add(id);
                                return id;
                            }));
                        } catch (java.util.concurrent.RejectedExecutionException e) {
                            refusals.add(e.getMessage());
                            return;
                        } finally {
                            if (i == 100) {
                                submitting.countDown();
                            }
                        }
                    }
                    throw new AssertionError("never refused");
                }));
            }
            submitting.await();
            Throwable closed = catchThrowable(() -> Coroutine.withTimeout(GUARD, now ? pool::closeNow : pool::close));
            for (Thread t : submitters) {
                Peer.join(t);
            }
            assertThat(closed).as("round " + round).isNull();
            assertThat(refusals).as("round " + round).hasSize(2).allMatch(m -> m.matches(
                    "thread 'submitter-\\d' \\(#\\d+\\) cannot submit to " + name + " \\((closing|closed)\\): a (closing|closed) pool takes no more bodies"));
            int cancelled = 0;
            for (java.util.Map.Entry<Integer, CompletableFuture<Integer>> e : taken.entrySet()) {
                CompletableFuture<Integer> f = e.getValue();
                assertThat(f).as("round " + round + ": every body taken has ended").isDone();
                if (f.isCancelled()) {
                    assertThat(now).as("round " + round + ": only closeNow cancels").isTrue();
                    assertThat(ran).as("round " + round + ": a cancelled body never ran").doesNotContain(e.getKey());
                    cancelled++;
                } else {
                    assertThat(f.join()).isEqualTo(e.getKey());
                }
            }
            assertThat(runs.get()).as("round " + round + ": each ran once").isEqualTo(ran.size());
            assertThat(ran.size() + cancelled).as("round " + round + ": none lost").isEqualTo(taken.size());
        }
    }

    /**
     * A body that blocks its pool thread (a latch: no scheduling point) stalls that thread alone: the
     * bodies submitted meanwhile go to the other thread, which has fewer live bodies, and run there, a
     * plain thread joining them meanwhile; {@code close()} waits for the blocked body.
     */
    @Test
    void aBodyThatBlocksItsThreadStallsOnlyThatThreadAndTheBodiesSubmittedMeanwhileRunOnTheOther() throws InterruptedException {
        CoroutinePool pool = CoroutinePool.start(2);
        String name = PoolName.of(pool);
        CountDownLatch hold = new CountDownLatch(1);
        CompletableFuture<String> blocking = new CompletableFuture<>();
        CompletableFuture<String> blocked = pool.submit(() -> {
            blocking.complete(Peer.schedulerThread().getName());
            try {
                hold.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            return "released";
        });
        String held = Coroutine.withTimeout(GUARD, () -> Coroutine.await(blocking));
        String other = held.equals(name + "-0") ? name + "-1" : name + "-0";
        List<String> ran = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            CompletableFuture<String> f = pool.submit(() -> Peer.schedulerThread().getName());
            ran.add(Peer.call("joiner-" + i, f::join)); // a plain thread's join blocks it, not this thread
        }
        assertThat(ran).containsOnly(other).hasSize(5);
        assertThat(blocked).isNotDone();
        hold.countDown();
        assertThat(thrownByClose(pool)).isNull();
        assertThat(blocked).isCompletedWithValue("released");
    }

    /**
     * An {@code orTimeout} or {@code completeOnTimeout} that settles a future while its body still waits
     * to start (its thread held by a body that blocks it) settles it as its caller would: the body never
     * runs, the future keeps the timeout's outcome, and {@code close()} reports nothing.
     */
    @Test
    void aTimeoutThatSettlesAFutureBeforeItsBodyStartedKeepsTheBodyFromRunning() {
        CoroutinePool pool = CoroutinePool.start(1);
        CountDownLatch hold = new CountDownLatch(1);
        CompletableFuture<Void> holding = new CompletableFuture<>();
        pool.execute(() -> {
            holding.complete(null);
            try {
                hold.await(); // holds the pool's one thread: the bodies submitted meanwhile wait to start
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(holding));
        List<String> ran = java.util.Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<String> timedOut = pool.submit(() -> {
            ran.add("timed out");
            return "the body's";
        }).orTimeout(1, TimeUnit.NANOSECONDS);
        CompletableFuture<String> completed = pool.submit(() -> {
            ran.add("completed on timeout");
            return "the body's";
        }).completeOnTimeout("the timeout's", 1, TimeUnit.NANOSECONDS);
        awaitAllEnded(timedOut, completed);
        hold.countDown();
        assertThat(thrownByClose(pool)).isNull();
        assertThat(ran).as("bodies that ran").isEmpty();
        assertThat(catchThrowable(timedOut::join)).hasCauseExactlyInstanceOf(TimeoutException.class);
        assertThat(completed.join()).isEqualTo("the timeout's");
    }

    /**
     * A body sleeping for a day (inside a {@code withTimeout} of its own too) whose future is cancelled
     * with {@code cancel(true)} is unwound at once: its {@code finally} runs, and its thread is left
     * with no timer of it (the next body there counts none), so nothing of the sleep wakes later.
     */
    @Test
    void aBodyCancelledInALongSleepIsUnwoundAtOnceAndLeavesNoTimerOnItsThread() {
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<Integer> before = pool.submit(() -> Scheduler.current().loop.timerCount());
        assertThat(Coroutine.withTimeout(GUARD, () -> Coroutine.await(before))).isZero();
        List<String> events = java.util.Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Void> sleeping = new CompletableFuture<>();
        CompletableFuture<Void> unwound = new CompletableFuture<>();
        CompletableFuture<String> body = pool.submit(() -> {
            try {
                return Coroutine.withTimeout(Duration.ofDays(2), () -> {
                    sleeping.complete(null);
                    Coroutine.sleep(Duration.ofDays(1));
                    return "slept";
                });
            } finally {
                events.add("finally");
                unwound.complete(null);
            }
        });
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(sleeping));
        assertThat(body.cancel(true)).isTrue();
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(unwound));
        CompletableFuture<Integer> after = pool.submit(() -> Scheduler.current().loop.timerCount());
        assertThat(Coroutine.withTimeout(GUARD, () -> Coroutine.await(after))).as("timers left on the pool thread").isZero();
        assertThat(thrownByClose(pool)).isNull();
        assertThat(events).containsExactly("finally");
        assertThat(body.isCancelled()).isTrue();
    }

    /**
     * A body that cancels its own future with {@code cancel(true)} is closed at its next scheduling
     * point, as if its caller had cancelled it: its {@code finally} runs there, the code after it never
     * does, the future stays cancelled, and {@code close()} reports nothing.
     */
    @Test
    void aBodyThatCancelsItsOwnFutureIsClosedAtItsNextSchedulingPoint() {
        CoroutinePool pool = CoroutinePool.start(1);
        List<String> events = java.util.Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<CompletableFuture<String>> self = new CompletableFuture<>();
        CompletableFuture<String> body = pool.submit(() -> {
            CompletableFuture<String> mine = Coroutine.await(self);
            events.add("cancels itself: " + mine.cancel(true));
            try {
                events.add("runs on to its next scheduling point");
                Coroutine.yield();
                events.add("after the yield");
                return "never";
            } finally {
                events.add("finally");
            }
        });
        self.complete(body);
        assertThat(thrownByClose(pool)).isNull();
        assertThat(events).containsExactly("cancels itself: true", "runs on to its next scheduling point", "finally");
        assertThat(body.isCancelled()).isTrue();
    }

    /**
     * A body that swallows the close of a {@code cancel(true)} and returns a value leaves its future
     * cancelled (the caller's outcome), the value dropped with no report; one that swallows it and waits
     * again is interrupted again there, as every swallowed signal is, and the close ends.
     */
    @Test
    void aBodyThatSwallowsTheCloseOfItsCancelKeepsItsFutureCancelledAndIsInterruptedAgainAtItsNextWait() {
        CoroutinePool pool = CoroutinePool.start(1);
        List<String> events = java.util.Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Void> parked = new CompletableFuture<>();
        CompletableFuture<String> returns = pool.submit(() -> {
            try {
                parked.complete(null);
                Coroutine.await(new CompletableFuture<Void>());
                return "never";
            } catch (CoroutineExit e) {
                events.add("returns swallowed");
                return "its own value";
            }
        });
        CompletableFuture<Void> parkedAgain = new CompletableFuture<>();
        CompletableFuture<String> waitsAgain = pool.submit(() -> {
            try {
                parkedAgain.complete(null);
                Coroutine.await(new CompletableFuture<Void>());
            } catch (CoroutineExit e) {
                events.add("waits again swallowed");
            }
            try {
                Coroutine.await(new CompletableFuture<Void>());
                return "never";
            } catch (CoroutineExit e) {
                events.add("interrupted again");
                throw e;
            }
        });
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(parked, parkedAgain)));
        assertThat(returns.cancel(true)).isTrue();
        assertThat(waitsAgain.cancel(true)).isTrue();
        assertThat(thrownByClose(pool)).isNull();
        assertThat(events).containsExactlyInAnyOrder("returns swallowed", "waits again swallowed", "interrupted again");
        assertThat(returns.isCancelled()).isTrue();
        assertThat(waitsAgain.isCancelled()).isTrue();
    }
}
