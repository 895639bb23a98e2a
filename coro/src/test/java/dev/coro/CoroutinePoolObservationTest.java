package dev.coro;

import static dev.coro.PoolsClosed.GUARD;
import static dev.coro.PoolsClosed.thrownByClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What {@link CoroutinePool#close()} counts as reading the failure of a submitted body: every read
 * that hands the failure to the caller does, a wait that ended before the failure came does not, and
 * a future its caller settled itself is not the body's to report.
 *
 * <p>Every test closes its pool: while one is open no thread of the JVM reports a deadlock ({@link PoolsClosed}
 * checks it after each test).
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
class CoroutinePoolObservationTest {

    /**
     * Closes {@code pool} (named {@code name}) and checks that the close threw the {@link CoroutineException}
     * that reports {@code failure} (the text of the first failure nobody observed), naming the coroutine, the
     * pool thread and the submission whose body threw it.
     *
     * @return what the close threw, for the checks of its suppressed failures
     */
    private static Throwable closeReportingUnobserved(CoroutinePool pool, String name, String failure) {
        Throwable thrown = thrownByClose(pool);
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class)
                .hasMessageMatching(java.util.regex.Pattern.quote(name + ": a coroutine failed and nobody observed it: coroutine 'coroutine-")
                        + "\\d+' on thread " + PoolName.anyThreadPattern(pool) + ", running the body of (submit|execute) #\\d+, threw "
                        + java.util.regex.Pattern.quote(failure) + "(; \\d+ more failures? suppressed)?");
        return thrown;
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
        String name = PoolName.of(pool);
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
        Throwable thrown = closeReportingUnobserved(pool, name, "java.lang.IllegalArgumentException: unobserved");
        assertThat(thrown.getCause().getSuppressed()).as("the bodies whose futures their caller settled").isEmpty();
        assertThat(cancelled.isCancelled()).isTrue();
        assertThat(completed.join()).isEqualTo("the caller's own value");
    }

    /**
     * A body in which it yields, closed meanwhile by a coroutine it made on its thread: the close
     * unwinds it with a {@link CoroutineExit}, which is not a failure of the body.
     */
    private static void closedBySibling() {
        Coroutine body = Coroutine.current();
        Coroutine.create("closer", body::close);
        Coroutine.yield(); // runs the closer, which unwinds this body here
        throw new AssertionError("the close did not unwind " + body);
    }

    @Test
    void aBodyClosedByAnotherCoroutineIsNotAFailureToReportForSubmitAndExecuteAlikeAndItsFutureSaysItWasClosed() {
        CoroutinePool pool = CoroutinePool.start(2);
        String name = PoolName.of(pool);
        CompletableFuture<Object> closed = pool.submit(() -> {
            closedBySibling();
            return "never";
        });
        pool.execute(CoroutinePoolObservationTest::closedBySibling);
        pool.execute(() -> {
            throw new IllegalArgumentException("a real failure");
        });
        Throwable thrown = closeReportingUnobserved(pool, name, "java.lang.IllegalArgumentException: a real failure");
        assertThat(thrown.getCause().getSuppressed()).as("the closed bodies, submitted and executed").isEmpty();
        assertThat(catchThrowable(closed::join)).as("the submission's future says how its body ended")
                .hasCauseExactlyInstanceOf(CoroutineExit.class);
    }

    @Test
    void anAwaitInterruptedBeforeTheFailureCameAndAnOnCompleteClauseThatLostHaveNotReadIt() {
        CoroutinePool pool = CoroutinePool.start(2);
        String name = PoolName.of(pool);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<Object> awaited = failingAfter(pool, gate, "awaited too early");
        CompletableFuture<Object> selected = failingAfter(pool, gate, "lost a select");
        Throwable timedOut = catchThrowable(() -> Coroutine.withTimeout(Duration.ofMillis(1), () -> Coroutine.await(awaited)));
        assertThat(timedOut).as("the gate is still shut: the body cannot have failed").isInstanceOf(CoroutineTimeoutException.class);
        Channel<String> ch = new Channel<>("ch", 0);
        Coroutine.create("sender", () -> ch.send("value")); // runs only once the select parks on both clauses
        String fired = new Select<String>().onComplete(selected, v -> "completion").onReceive(ch, v -> v).select();
        assertThat(fired).isEqualTo("value");
        gate.complete(null);
        Throwable thrown = closeReportingUnobserved(pool, name, "java.lang.IllegalStateException: awaited too early");
        assertThat(thrown.getCause().getSuppressed()).extracting(Throwable::getMessage).containsExactly("lost a select");
    }

    @Test
    void aGetNowOrATimedGetThatFoundNoOutcomeYetHasNotReadIt() throws Exception {
        CoroutinePool pool = CoroutinePool.start(2);
        String name = PoolName.of(pool);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<Object> polled = failingAfter(pool, gate, "polled too early");
        CompletableFuture<Object> timed = failingAfter(pool, gate, "timed get too early");
        assertThat(polled.getNow("absent")).isEqualTo("absent");
        assertThat(catchThrowable(() -> timed.get(1, TimeUnit.MILLISECONDS))).isInstanceOf(TimeoutException.class);
        assertThat(catchThrowable(polled::resultNow)).as("no outcome yet").isInstanceOf(IllegalStateException.class);
        assertThat(catchThrowable(timed::exceptionNow)).as("no outcome yet").isInstanceOf(IllegalStateException.class);
        gate.complete(null);
        Throwable thrown = closeReportingUnobserved(pool, name, "java.lang.IllegalStateException: polled too early");
        assertThat(thrown.getCause().getSuppressed()).extracting(Throwable::getMessage).containsExactly("timed get too early");
    }

    @Test
    void anAwaitOrOnCompleteThatGaveTheFailureHasReadIt() {
        CoroutinePool pool = CoroutinePool.start(2);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<Object> awaited = failingAfter(pool, gate, "awaited");
        CompletableFuture<Object> selected = failingAfter(pool, gate, "selected");
        Coroutine awaiter = Coroutine.create("awaiter", () -> catchThrowable(() -> Coroutine.await(awaited)));
        Coroutine selector = Coroutine.create("selector", () -> catchThrowable(() ->
                new Select<String>().onComplete(selected, v -> "completion").select()));
        Coroutine.yield(); // both park on their futures
        gate.complete(null);
        Coroutine.withTimeout(GUARD, () -> {
            while (!awaiter.isFinished() || !selector.isFinished()) {
                Coroutine.yield();
            }
        });
        assertThat(thrownByClose(pool)).isNull();
    }

    @Test
    void theAsynchronousAndComposingReadsOfAFailureCountAsReadingIt() {
        CoroutinePool pool = CoroutinePool.start(2);
        Executor direct = Runnable::run;
        List<CompletableFuture<?>> reads = new ArrayList<>();
        List<CompletableFuture<Object>> futures = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            String message = "failure " + i;
            futures.add(pool.submit(() -> {
                throw new IllegalStateException(message);
            }));
        }
        reads.add(futures.get(0).handleAsync((v, e) -> null));
        reads.add(futures.get(1).handleAsync((v, e) -> null, direct));
        reads.add(futures.get(2).whenCompleteAsync((v, e) -> { }).exceptionally(e -> null));
        reads.add(futures.get(3).whenCompleteAsync((v, e) -> { }, direct).exceptionally(e -> null));
        reads.add(futures.get(4).exceptionallyAsync(e -> null));
        reads.add(futures.get(5).exceptionallyAsync(e -> null, direct));
        reads.add(futures.get(6).exceptionallyCompose(e -> CompletableFuture.completedFuture(null)));
        reads.add(futures.get(7).exceptionallyComposeAsync(e -> CompletableFuture.completedFuture(null)));
        reads.add(futures.get(8).exceptionallyComposeAsync(e -> CompletableFuture.completedFuture(null), direct));
        reads.add(futures.get(9).handleAsync((v, e) -> null, pool)); // the pool itself, which takes the handler's task
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(reads.toArray(CompletableFuture<?>[]::new))));
        assertThat(thrownByClose(pool)).as("every failure was handled by one of the reads").isNull();
    }

    /**
     * A handler attached through an {@code Async} form ({@code whenCompleteAsync}, {@code handleAsync},
     * {@code exceptionallyAsync}, {@code exceptionallyComposeAsync}) whose executor refuses its task never runs:
     * the JDK fails its stage with the refusal, and the failure it was to handle, which nobody saw, is reported by
     * {@code close()}. Given the pool itself, the refusal comes as the body fails while the pool closes. Such a
     * handler once counted as handling the failure from the moment it was attached, and the failure was lost.
     */
    @Test
    void aHandlerWhoseExecutorRefusesItsTaskHasNotReadTheFailure() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        List<CompletableFuture<Object>> futures = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            futures.add(failingAfter(pool, gate, "handled by nobody " + i));
        }
        List<Throwable> ran = java.util.Collections.synchronizedList(new ArrayList<>());
        Executor refusing = task -> {
            throw new RejectedExecutionException("refused");
        };
        List<CompletableFuture<?>> handlers = List.of(
                futures.get(0).whenCompleteAsync((v, e) -> ran.add(e), pool),
                futures.get(1).handleAsync((v, e) -> ran.add(e), pool),
                futures.get(2).exceptionallyAsync(e -> ran.add(e), pool),
                futures.get(3).exceptionallyComposeAsync(e -> {
                    ran.add(e);
                    return CompletableFuture.completedFuture(null);
                }, pool),
                futures.get(4).whenCompleteAsync((v, e) -> ran.add(e), refusing));
        Coroutine.create("opener", () -> gate.complete(null)); // runs once main parks in close(): the bodies fail as the pool closes
        Throwable thrown = closeReportingUnobserved(pool, name, "java.lang.IllegalStateException: handled by nobody 0");
        assertThat(thrown.getCause().getSuppressed()).extracting(Throwable::getMessage)
                .containsExactly("handled by nobody 1", "handled by nobody 2", "handled by nobody 3", "handled by nobody 4");
        assertThat(ran).as("no handler ran").isEmpty();
        for (CompletableFuture<?> handler : handlers) {
            assertThat(catchThrowable(handler::join)).cause().isExactlyInstanceOf(RejectedExecutionException.class);
        }
    }

    /**
     * A handler attached through an {@code Async} form given the submission's own pool, whose task the pool took
     * but {@code closeNow()} then dropped before it started, never ran: the failure it was to handle, which
     * nobody saw, is reported by the close. Such a handler once counted as handling the failure, and the failure
     * was lost.
     */
    @Test
    void aHandlerOnThePoolWhoseTaskCloseNowDroppedBeforeItStartedHasNotReadTheFailure() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<Object> failing = failingAfter(pool, gate, "its handler never started");
        java.util.concurrent.CountDownLatch hold = new java.util.concurrent.CountDownLatch(1);
        CompletableFuture<Void> holding = new CompletableFuture<>();
        CompletableFuture.allOf(failing).whenComplete((v, e) -> { // allOf reads nothing of the failure
            holding.complete(null);
            try {
                hold.await(); // holds the pool thread, the handler's task taken and waiting to start
            } catch (InterruptedException interrupted) {
                throw new AssertionError(interrupted);
            }
        });
        List<Throwable> ran = java.util.Collections.synchronizedList(new ArrayList<>());
        failing.whenCompleteAsync((v, e) -> ran.add(e), pool); // attached last: the JDK hands its task over first
        gate.complete(null);
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(holding));
        Coroutine.create("releaser", hold::countDown); // runs once main parks in closeNow(): the pool thread then sees it
        Throwable thrown = catchThrowable(() -> Coroutine.withTimeout(GUARD, pool::closeNow));
        assertThat(ran).as("the handler never ran").isEmpty();
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class).hasMessage(name
                + ": a coroutine failed and nobody observed it: coroutine 'coroutine-1' on thread '" + name
                + "-0' (#" + PoolName.threadId(pool, 0) + "), running the body of submit #1, threw java.lang.IllegalStateException: its handler never started");
    }

    /**
     * A handler attached through an {@code Async} form whose executor takes its task and runs it later (a
     * queue of the caller's) has read the failure once the executor has taken the task, before it runs: a
     * close then reports nothing, and the handler, run after the close, has the failure. So for a handler
     * attached while the body had not failed yet (its task handed over as the body fails) and for one attached
     * to a future failed already (its task handed over at once).
     */
    @Test
    void aHandlerWhoseExecutorHasTakenItsTaskHasReadTheFailureBeforeTheTaskRuns() {
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<Object> pending = failingAfter(pool, gate, "handled once its task runs");
        CompletableFuture<Object> failed = pool.submit(() -> {
            throw new IllegalStateException("failed before its handler came");
        });
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(failed).exceptionally(e -> null))); // reads nothing of it
        java.util.Queue<Runnable> queued = new java.util.concurrent.ConcurrentLinkedQueue<>();
        CompletableFuture<Void> bothTaken = new CompletableFuture<>();
        Executor later = task -> {
            queued.add(task);
            if (queued.size() == 2) {
                bothTaken.complete(null);
            }
        };
        List<String> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Object> first = pending.whenCompleteAsync((v, e) -> seen.add(e.getMessage()), later);
        CompletableFuture<Object> second = failed.exceptionallyAsync(e -> seen.add(e.getMessage()), later); // taken at once
        gate.complete(null);
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(bothTaken)); // both tasks taken, neither run
        assertThat(seen).as("no handler ran yet").isEmpty();
        assertThat(thrownByClose(pool)).as("both handlers' tasks were taken: they have the failures").isNull();
        queued.forEach(Runnable::run);
        assertThat(seen).containsExactlyInAnyOrder("handled once its task runs", "failed before its handler came");
        assertThat(catchThrowable(first::join)).cause().hasMessage("handled once its task runs");
        assertThat(second.join()).isEqualTo(true);
    }

    /**
     * A handler attached through an {@code Async} form whose executor runs its task before its {@code execute}
     * returns (a direct executor, here on a thread of the test's) has read the failure once it runs: a close
     * that follows it reports nothing, though that {@code execute} has not returned yet. Such a handler once
     * counted only as {@code execute} returned, and a close between the two reported a failure its handler had.
     */
    @Test
    void aHandlerWhoseExecutorRunsItsTaskBeforeItsExecuteReturnsHasReadTheFailureAsItRuns() throws InterruptedException {
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<Object> failing = pool.submit(() -> {
            throw new IllegalStateException("seen by its handler");
        });
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(failing).exceptionally(e -> null))); // reads nothing of it
        List<Throwable> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.CountDownLatch handled = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
        Thread attacher = Thread.ofPlatform().name("attacher").start(() -> failing.whenCompleteAsync((v, e) -> {
            seen.add(e);
            handled.countDown();
            try {
                closed.await(); // the handler has the failure; its executor's execute returns once the pool is closed
            } catch (InterruptedException interrupted) {
                throw new AssertionError(interrupted);
            }
        }, Runnable::run));
        Throwable thrown;
        try {
            handled.await();
            thrown = thrownByClose(pool);
        } finally {
            closed.countDown();
            attacher.join();
        }
        assertThat(seen).extracting(Throwable::getMessage).containsExactly("seen by its handler");
        assertThat(thrown).as("the handler saw the failure").isNull();
    }

    @Test
    void aCloseThatTimedOutLeavesTheFailuresToTheCloseThatSeesThePoolEndAndThePoolCountsAsOpenUntilThen() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        pool.execute(() -> {
            Coroutine.await(gate);
            throw new IllegalStateException("failed after the first close gave up");
        });
        int open = CoroutinePool.openPools();
        Throwable first = catchThrowable(() -> Coroutine.withTimeout(Duration.ofMillis(1), pool::close));
        assertThat(first).as("the gate is shut: the body cannot have ended").isInstanceOf(CoroutineTimeoutException.class);
        assertThat(CoroutinePool.openPools()).as("its threads still run a body").isEqualTo(open);
        gate.complete(null);
        closeReportingUnobserved(pool, name, "java.lang.IllegalStateException: failed after the first close gave up");
        assertThat(CoroutinePool.openPools()).isEqualTo(open - 1);
        assertThat(thrownByClose(pool)).as("reported once").isNull();
    }

    @Test
    void aFailureReadThroughAFutureDerivedFromTheSubmissionHasBeenReadAndOneOnlyDerivedHasNot() {
        CoroutinePool pool = CoroutinePool.start(2);
        String name = PoolName.of(pool);
        CompletableFuture<Object> joined = pool.submit(() -> {
            throw new IllegalStateException("joined through thenApply");
        });
        CompletableFuture<Object> awaited = pool.submit(() -> {
            throw new IllegalStateException("awaited through thenCompose");
        });
        CompletableFuture<Object> handled = pool.submit(() -> {
            throw new IllegalStateException("handled after thenApply");
        });
        CompletableFuture<Object> onlyDerived = pool.submit(() -> {
            throw new IllegalStateException("only derived from");
        });
        assertThat(catchThrowable(() -> joined.thenApply(v -> v).join())).hasRootCauseMessage("joined through thenApply");
        assertThat(catchThrowable(() -> Coroutine.await(awaited.thenCompose(CompletableFuture::completedFuture))))
                .hasRootCauseMessage("awaited through thenCompose");
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(handled.thenApply(v -> v).exceptionally(e -> null)));
        CompletableFuture<Object> derived = onlyDerived.thenApply(v -> v); // nobody reads it
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(derived).exceptionally(e -> null)));
        assertThat(derived).isCompletedExceptionally();
        Throwable thrown = closeReportingUnobserved(pool, name, "java.lang.IllegalStateException: only derived from");
        assertThat(thrown.getCause().getSuppressed()).isEmpty();
    }

    @Test
    void aFailureReadOrHandledThroughTheMinimalStageOfTheSubmissionHasBeenReadAndOneOnlyMadeHasNot() {
        CoroutinePool pool = CoroutinePool.start(2);
        String name = PoolName.of(pool);
        CompletableFuture<Object> awaited = pool.submit(() -> {
            throw new IllegalStateException("awaited through its minimal stage");
        });
        CompletableFuture<Object> joined = pool.submit(() -> {
            throw new IllegalStateException("joined through its minimal stage's future");
        });
        CompletableFuture<Object> handled = pool.submit(() -> {
            throw new IllegalStateException("handled on its minimal stage");
        });
        CompletableFuture<Object> onlyMade = pool.submit(() -> {
            throw new IllegalStateException("only a minimal stage made");
        });
        assertThat(catchThrowable(() -> Coroutine.await(awaited.minimalCompletionStage())))
                .hasRootCauseMessage("awaited through its minimal stage");
        assertThat(catchThrowable(() -> joined.minimalCompletionStage().toCompletableFuture().join()))
                .hasRootCauseMessage("joined through its minimal stage's future");
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(handled.minimalCompletionStage().exceptionally(e -> null)));
        java.util.concurrent.CompletionStage<Object> minimal = onlyMade.minimalCompletionStage(); // nobody reads it
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(onlyMade).exceptionally(e -> null)));
        assertThat(minimal).isNotNull();
        Throwable thrown = closeReportingUnobserved(pool, name, "java.lang.IllegalStateException: only a minimal stage made");
        assertThat(thrown.getCause().getSuppressed()).isEmpty();
    }

    @Test
    void aFailureReadThroughAFutureOfAnotherThatTookTheSubmissionAsItsArgumentHasNotBeenRead() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<Object> combined = pool.submit(() -> {
            throw new IllegalStateException("combined as the argument");
        });
        CompletableFuture<Object> anyOf = pool.submit(() -> {
            throw new IllegalStateException("one of anyOf");
        });
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(combined, anyOf).exceptionally(e -> null)));
        // the futures these make are the other future's, or the JDK's own: the pool cannot see them read
        assertThat(catchThrowable(() -> CompletableFuture.completedFuture(1).thenCombine(combined, (x, y) -> y).join()))
                .hasRootCauseMessage("combined as the argument");
        assertThat(catchThrowable(() -> CompletableFuture.anyOf(anyOf, new CompletableFuture<>()).join()))
                .hasRootCauseMessage("one of anyOf");
        Throwable thrown = closeReportingUnobserved(pool, name, "java.lang.IllegalStateException: combined as the argument");
        assertThat(thrown.getCause().getSuppressed()).extracting(Throwable::getMessage).containsExactly("one of anyOf");
    }

    /**
     * A body that throws a {@code CancellationException} of its own fails its future with it, which the JDK counts as
     * cancelled: {@code exceptionNow()} refuses it with an {@code IllegalStateException}, as {@code resultNow()} refuses
     * any failure. Both told their caller the body's outcome, and both count as reading the failure, as {@code join}
     * and {@code get}, which throw it, do; {@code state()} and {@code isCancelled()}, which only ask, read nothing. An
     * {@code exceptionNow()} refused so once read nothing, where a {@code resultNow()} had, and {@code close()}
     * reported the failure its caller had been told of.
     */
    @Test
    void anExceptionNowRefusedOnTheBodysOwnCancellationHasReadItAsAResultNowHasAndAStateHasNot() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<Object> exceptionNow = pool.submit(() -> {
            throw new java.util.concurrent.CancellationException("refused by exceptionNow");
        });
        CompletableFuture<Object> ofAStage = pool.submit(() -> {
            throw new java.util.concurrent.CancellationException("refused by exceptionNow of its minimal stage's future");
        });
        CompletableFuture<Object> resultNow = pool.submit(() -> {
            throw new java.util.concurrent.CancellationException("refused by resultNow");
        });
        CompletableFuture<Object> state = pool.submit(() -> {
            throw new java.util.concurrent.CancellationException("only asked for its state");
        });
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(
                CompletableFuture.allOf(exceptionNow, ofAStage, resultNow, state).exceptionally(e -> null)));
        assertThat(catchThrowable(exceptionNow::exceptionNow)).isExactlyInstanceOf(IllegalStateException.class);
        CompletableFuture<Object> stage = ofAStage.minimalCompletionStage().toCompletableFuture();
        assertThat(stage.isCancelled()).as("it holds the body's cancellation as it is").isTrue();
        assertThat(catchThrowable(stage::exceptionNow)).isExactlyInstanceOf(IllegalStateException.class);
        assertThat(catchThrowable(resultNow::resultNow)).isExactlyInstanceOf(IllegalStateException.class);
        assertThat(state.state()).isEqualTo(CompletableFuture.State.CANCELLED);
        assertThat(state.isCancelled()).isTrue();
        Throwable thrown = closeReportingUnobserved(pool, name, "java.util.concurrent.CancellationException: only asked for its state");
        assertThat(thrown.getCause().getSuppressed()).isEmpty();
    }

    /**
     * A stage composed on a submission's future ({@code thenCompose}, {@code exceptionallyCompose}, their {@code Async}
     * forms) whose function returns the future of another submission, or a stage derived from it, fails with that
     * other body's failure: a read of it, or a handler on it, that is handed that failure has read it, as a read of
     * the other's future would have. Such a read once counted only for the submission the stage was composed on, and
     * {@code close()} reported the failure its caller had been handed.
     */
    @Test
    void aFailureReadThroughAStageComposedWithAnotherSubmissionsFutureHasBeenRead() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<Object> succeeded = pool.submit(() -> "succeeded");
        CompletableFuture<Object> failed = pool.submit(() -> {
            throw new IllegalStateException("composed on");
        });
        CompletableFuture<Object> joined = pool.submit(() -> {
            throw new IllegalStateException("joined through thenCompose");
        });
        CompletableFuture<Object> handled = pool.submit(() -> {
            throw new IllegalStateException("handled through thenComposeAsync of a stage of it");
        });
        CompletableFuture<Object> awaited = pool.submit(() -> {
            throw new IllegalStateException("awaited through exceptionallyCompose");
        });
        CompletableFuture<Object> onlyReturned = pool.submit(() -> {
            throw new IllegalStateException("only returned by a composing function");
        });
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(succeeded, failed, joined, handled, awaited,
                onlyReturned).exceptionally(e -> null)));
        assertThat(catchThrowable(() -> succeeded.thenCompose(v -> joined).join())).hasRootCauseMessage("joined through thenCompose");
        List<Throwable> seen = new ArrayList<>();
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(succeeded.thenComposeAsync(v -> handled.thenApply(w -> w))
                .exceptionally(e -> seen.add(e))));
        assertThat(seen).extracting(Throwable::getCause).extracting(Throwable::getMessage)
                .containsExactly("handled through thenComposeAsync of a stage of it");
        assertThat(catchThrowable(() -> Coroutine.await(failed.exceptionallyCompose(e -> awaited))))
                .hasRootCauseMessage("awaited through exceptionallyCompose");
        CompletableFuture<Object> unread = succeeded.thenCompose(v -> onlyReturned);
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(unread).exceptionally(e -> null)));
        assertThat(unread).isCompletedExceptionally();
        Throwable thrown = closeReportingUnobserved(pool, name, "java.lang.IllegalStateException: only returned by a composing function");
        assertThat(thrown.getCause().getSuppressed()).isEmpty();
    }

    /**
     * A read of a stage composed, at a depth of two, with a stage composed with a failed submission's future reads
     * that failure; a read of two composed stages whose functions returned each other, failed by their caller, ends
     * its search for a submission whose failure it hands over, and reads nothing.
     */
    @Test
    void aReadThroughCompositionsFindsTheSubmissionAtAnyDepthAndEndsOnACycle() {
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<Object> first = pool.submit(() -> "first");
        CompletableFuture<Object> second = pool.submit(() -> "second");
        CompletableFuture<Object> failed = pool.submit(() -> {
            throw new IllegalStateException("read at a depth of two");
        });
        CompletableFuture<Object> one = pool.submit(() -> Coroutine.await(gate));
        CompletableFuture<Object> other = pool.submit(() -> Coroutine.await(gate));
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(first, second, failed).exceptionally(e -> null)));
        CompletableFuture<Object> deep = first.thenCompose(v -> second.thenCompose(w -> failed));
        assertThat(catchThrowable(deep::join)).hasRootCauseMessage("read at a depth of two");
        List<CompletableFuture<Object>> composed = new ArrayList<>();
        CompletableFuture<Object> a = one.thenCompose(v -> composed.get(1));
        CompletableFuture<Object> b = other.thenCompose(v -> a);
        composed.add(a);
        composed.add(b);
        gate.complete(null); // a relays b, and b relays a: neither completes on its own
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(one, other)));
        assertThat(a.completeExceptionally(new IllegalArgumentException("the caller's"))).isTrue();
        assertThat(catchThrowable(b::join)).hasRootCauseMessage("the caller's");
        assertThat(catchThrowable(a::join)).hasRootCauseMessage("the caller's");
        assertThat(thrownByClose(pool)).isNull();
    }

    /**
     * {@code other.applyToEither(f, fn)} ({@code acceptEither}, {@code runAfterEither}) made while the other is pending
     * and the submission's future {@code f} is complete already is {@code f}'s: the JDK makes it with the future of the
     * source complete first (the caller's if both are), so it is a stage derived from {@code f}, and reading it reads
     * {@code f}'s failure; made while {@code f} is pending, it is the other's, which the pool cannot see read.
     */
    @Test
    void aStageOfAnotherFuturesApplyToEitherMadeOnceTheSubmissionWasCompleteIsTheSubmissionsAndItsReadCounts() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<Object> completeFirst = pool.submit(() -> {
            throw new IllegalStateException("complete before the applyToEither");
        });
        CompletableFuture<Object> pendingThen = failingAfter(pool, gate, "pending at the applyToEither");
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(completeFirst).exceptionally(e -> null)));
        CompletableFuture<Object> ofTheSubmission = new CompletableFuture<>().applyToEither(completeFirst, v -> v);
        CompletableFuture<Object> ofTheOther = new CompletableFuture<>().applyToEither(pendingThen, v -> v);
        assertThat(ofTheSubmission).hasToString("a stage of the future of submit #1 to " + name
                + "[Completed exceptionally: java.util.concurrent.CompletionException]");
        gate.complete(null);
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(ofTheOther).exceptionally(e -> null)));
        assertThat(catchThrowable(ofTheSubmission::join)).hasRootCauseMessage("complete before the applyToEither");
        assertThat(catchThrowable(ofTheOther::join)).hasRootCauseMessage("pending at the applyToEither");
        Throwable thrown = closeReportingUnobserved(pool, name, "java.lang.IllegalStateException: pending at the applyToEither");
        assertThat(thrown.getCause().getSuppressed()).isEmpty();
    }

    /**
     * A body that {@code closeNow()} unwinds and whose unwinding throws something else than the signal (a
     * {@code finally} that throws) has failed with it: its future fails with it, and {@code close()} reports it as
     * that body's failure unless a read or a handler was handed it, as any failure of a body; an {@code execute}
     * body's is reported so too; a coroutine a body created whose unwinding throws leaves its failure to its thread's
     * main, which {@code close()} reports after the bodies' failures.
     */
    @Test
    void aFailureThrownAsCloseNowUnwindsABodyIsThatBodysFailureReportedUnlessItWasRead() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        List<CompletableFuture<Void>> started = List.of(new CompletableFuture<>(), new CompletableFuture<>(),
                new CompletableFuture<>(), new CompletableFuture<>()); // each body, then the child, waits
        CompletableFuture<Object> unread = pool.submit(() -> {
            try {
                started.get(0).complete(null);
                Coroutine.await(new CompletableFuture<>());
            } finally {
                throw new IllegalStateException("thrown as closeNow unwinds submit #1");
            }
        });
        CompletableFuture<Object> handled = pool.submit(() -> {
            try {
                started.get(1).complete(null);
                Coroutine.await(new CompletableFuture<>());
            } finally {
                throw new IllegalStateException("thrown as closeNow unwinds submit #2");
            }
        });
        pool.execute(() -> {
            Coroutine.create("child", () -> {
                try {
                    started.get(3).complete(null);
                    Coroutine.await(new CompletableFuture<>());
                } finally {
                    throw new IllegalStateException("thrown as closeNow unwinds the child");
                }
            });
            started.get(2).complete(null);
            try {
                Coroutine.await(new CompletableFuture<>());
            } finally {
                throw new IllegalStateException("thrown as closeNow unwinds execute #3");
            }
        });
        List<Throwable> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Object> handler = handled.exceptionally(e -> seen.add(e));
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(started.toArray(CompletableFuture<?>[]::new))));
        Throwable thrown = catchThrowable(() -> Coroutine.withTimeout(GUARD, pool::closeNow));
        assertThat(handler.join()).isEqualTo(true);
        assertThat(seen).extracting(Throwable::getMessage).containsExactly("thrown as closeNow unwinds submit #2");
        assertThat(catchThrowable(unread::join)).hasCauseExactlyInstanceOf(IllegalStateException.class)
                .hasRootCauseMessage("thrown as closeNow unwinds submit #1");
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class).hasMessage(name + ": a coroutine failed and nobody"
                + " observed it: coroutine 'coroutine-1' on thread '" + name + "-0' (#" + PoolName.threadId(pool, 0) + "), running the body of submit #1, threw"
                + " java.lang.IllegalStateException: thrown as closeNow unwinds submit #1; 2 more failures suppressed");
        assertThat(thrown.getCause().getSuppressed()).extracting(Throwable::toString).containsExactly(
                "java.lang.IllegalStateException: thrown as closeNow unwinds execute #3",
                "dev.coro.CoroutineException: coroutine 'child' failed while being closed: java.lang.IllegalStateException:"
                        + " thrown as closeNow unwinds the child");
    }

    /**
     * A body that {@code closeNow()} unwinds through a try-with-resources whose resource's close throws (the JDK
     * adds that failure to the close's signal as suppressed) has failed with it, as one whose {@code finally}
     * throws: its future fails with it, and {@code close()} reports it, where it ended closed and the failure was lost.
     */
    @Test
    void aResourceWhoseCloseFailsAsCloseNowUnwindsABodyIsThatBodysFailureReported() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<Void> started = new CompletableFuture<>();
        CompletableFuture<Object> f = pool.submit(() -> {
            try (AutoCloseable r = () -> {
                throw new java.io.IOException("flush failed as closeNow unwound the body");
            }) {
                started.complete(null);
                return Coroutine.await(new CompletableFuture<>());
            } catch (Exception e) {
                throw new AssertionError("a signal is no Exception", e);
            }
        });
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(started));
        Throwable thrown = catchThrowable(() -> Coroutine.withTimeout(GUARD, pool::closeNow));
        assertThat(catchThrowable(f::join)).hasCauseExactlyInstanceOf(java.io.IOException.class)
                .hasRootCauseMessage("flush failed as closeNow unwound the body");
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class).hasMessage(name + ": a coroutine failed and nobody"
                + " observed it: coroutine 'coroutine-1' on thread '" + name + "-0' (#" + PoolName.threadId(pool, 0) + "), running the body of submit #1, threw"
                + " java.io.IOException: flush failed as closeNow unwound the body");
    }
}
