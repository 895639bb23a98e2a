package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@link Coroutine#await} and {@link Select#onComplete} on every kind of stage, complete or not. */
@ExtendWith(FreshThread.class)
class AwaitStagesTest {

    @Test
    void aMinimalStageThatIsCompleteGivesItsValue() {
        CompletionStage<Integer> stage = CompletableFuture.completedFuture(5).minimalCompletionStage();
        assertThat(Coroutine.await(stage)).isEqualTo(5);
    }

    @Test
    void aMinimalStageCompletedByAnotherThreadWakesTheCaller() throws InterruptedException {
        CompletableFuture<Integer> f = new CompletableFuture<>();
        CompletableFuture<Void> waiting = new CompletableFuture<>();
        Coroutine.create("waiter-probe", () -> waiting.complete(null));
        Thread t = Thread.ofPlatform().start(() -> {
            waiting.join();   // the caller is parked in await by then: its coroutine ran while it waited
            f.complete(6);
        });
        assertThat(Coroutine.await(f.minimalCompletionStage())).isEqualTo(6);
        t.join();
    }

    @Test
    void aMinimalStageThatFailedThrowsAsJoinWould() {
        CompletableFuture<Integer> f = CompletableFuture.failedFuture(new IllegalStateException("boom"));
        assertThatThrownBy(() -> Coroutine.await(f.minimalCompletionStage()))
                .isInstanceOf(CompletionException.class)
                .cause().isInstanceOf(IllegalStateException.class).hasMessage("boom");
    }

    @Test
    void aSelectOnAMinimalStageFiresItsClause() {
        CompletionStage<Integer> stage = CompletableFuture.completedFuture(7).minimalCompletionStage();
        String r = new Select<String>().onComplete(stage, v -> "got " + v).select();
        assertThat(r).isEqualTo("got 7");
    }

    @Test
    void aCompleteFutureIsAwaitedWithoutRunningAnythingElse() {
        Coroutine other = Coroutine.create("other", () -> { });
        assertThat(Coroutine.await(CompletableFuture.completedFuture(1))).isEqualTo(1);
        CompletableFuture<Integer> failed = CompletableFuture.failedFuture(new IllegalStateException("no"));
        assertThatThrownBy(() -> Coroutine.await(failed))
                .isInstanceOf(CompletionException.class)
                .cause().isInstanceOf(IllegalStateException.class).hasMessage("no");
        CompletableFuture<Integer> cancelled = new CompletableFuture<>();
        cancelled.cancel(false);
        assertThatThrownBy(() -> Coroutine.await(cancelled)).isInstanceOf(CancellationException.class);
        assertThat(other.state()).isEqualTo(Coroutine.State.NEW);
    }

    @Test
    void awaitingAFailedSubmissionThatIsAlreadyCompleteCountsAsReadingIt() {
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<Integer> failed = pool.submit(() -> {
            throw new IllegalStateException("seen");
        });
        Coroutine.await(CompletableFuture.allOf(failed).exceptionally(e -> null)); // allOf reads none of its futures
        assertThat(failed).isCompletedExceptionally();
        assertThatThrownBy(() -> Coroutine.await(failed))   // complete: no wait, but it is read
                .isInstanceOf(CompletionException.class)
                .cause().isInstanceOf(IllegalStateException.class).hasMessage("seen");
        pool.close();                                          // nothing unobserved: no failure
    }

    @Test
    void aStageThatIsNotItsOwnFutureAwaitedAgainAndAgainHoldsOneCallback() {
        CompletableFuture<String> behindOpaque = new CompletableFuture<>();
        CompletableFuture<String> behindFresh = new CompletableFuture<>();
        CompletionStage<String> opaque = AwaitTest.opaque(behindOpaque); // toCompletableFuture() refuses
        CompletionStage<String> fresh = freshFutureEachTime(behindFresh); // a new future each call, as a minimal stage's
        CompletionStage<String> minimal = new CompletableFuture<String>().minimalCompletionStage();
        for (int i = 0; i < 1_000; i++) {
            for (CompletionStage<String> stage : List.of(opaque, fresh, minimal)) {
                Coroutine awaiter = Coroutine.create("awaiter", () -> Coroutine.await(stage));
                Coroutine.yield(); // it parks in await
                assertThat(awaiter.state()).isEqualTo(Coroutine.State.PARKED);
                awaiter.close();
            }
        }
        assertThat(behindOpaque.getNumberOfDependents()).as("callbacks on the stage that refuses").isEqualTo(1);
        assertThat(behindFresh.getNumberOfDependents()).as("callbacks on the stage that makes a future each time").isEqualTo(1);
        assertThat(Scheduler.current().loop.futureWaits().watchedCount()).isEqualTo(3);

        List<String> got = new ArrayList<>();
        Coroutine.create("last awaiter", () -> got.add(Coroutine.await(opaque) + " " + Coroutine.await(fresh)));
        Coroutine.yield();
        Peer.run("completer", () -> {
            behindOpaque.complete("o");
            behindFresh.complete("f");
        });
        Coroutine.withTimeout(Duration.ofSeconds(30), () -> {
            while (got.isEmpty()) {
                Coroutine.yield();
            }
        });
        assertThat(got).containsExactly("o f");
    }

    /**
     * A stage that is not its own future is named by itself, as the user made it, not by the future the
     * thread waits on for it: in a dump of an await and of a select over it, in the signal of a
     * {@code withTimeout} that expires in such an await, and in the cancellation an {@code onComplete}
     * clause on it throws, as in an await's.
     */
    @Test
    void aStageThatIsNotItsOwnFutureIsNamedByItselfInDumpsSignalsAndTheCancellationOfAClause() {
        CompletableFuture<String> behind = new CompletableFuture<>();
        CompletionStage<String> stage = AwaitTest.opaque(behind); // toCompletableFuture() refuses
        Coroutine awaiter = Coroutine.create("awaiter", () -> Coroutine.await(stage));
        Coroutine selector = Coroutine.create("selector", () -> new Select<String>().onComplete(stage, v -> v).select());
        Coroutine.yield(); // both park
        String waiting = stage.toString();
        assertThat(waiting).startsWith("opaque stage of java.util.concurrent.CompletableFuture@").endsWith("[Not completed, 1 dependents]");
        assertThat(Coroutine.dump()).contains("coroutine 'awaiter': PARKED, waits to await " + waiting + "\n")
                .contains("coroutine 'selector': PARKED, waits to select over completion of " + waiting + "\n");
        assertThatThrownBy(() -> Coroutine.withTimeout(Duration.ofMillis(1), () -> Coroutine.await(stage)))
                .isExactlyInstanceOf(CoroutineTimeoutException.class).cause()
                .hasMessage("main context 'main': its withTimeout(PT0.001S) expired; its await " + waiting
                        + " throws this signal so that the body unwinds to it");
        awaiter.close();
        selector.close();
        behind.cancel(false);
        String cancelled = stage.toString();
        assertThatThrownBy(() -> new Select<String>().onComplete(stage, v -> v).select())
                .isExactlyInstanceOf(CancellationException.class)
                .hasMessage("main context 'main' cannot select: its clause onComplete(" + cancelled + ") fired on a cancelled stage");
        assertThatThrownBy(() -> Coroutine.await(stage)).isExactlyInstanceOf(CancellationException.class)
                .hasMessage("main context 'main' cannot await " + cancelled + ": it was cancelled");
    }

    /**
     * A stage whose {@code toCompletableFuture()} hands over a minimal stage (a wrapper handing over the one it
     * wraps) is named by itself too, not by the minimal stage nor by the future made from that: in a dump of an
     * await and of a select over it, in the signal of a {@code withTimeout} that expires in such an await, and
     * in the failure of an {@code onComplete} clause: a cancellation of the future behind comes through the
     * minimal stage as a failure (what {@code join()} of the future it relays to gives), not a cancellation.
     */
    @Test
    @SuppressWarnings("unchecked")
    void aStageThatHandsOverAMinimalStageAsItsFutureIsNamedByItselfInDumpsSignalsAndTheFailureOfAClause() {
        CompletableFuture<String> behind = new CompletableFuture<>();
        CompletionStage<String> minimal = behind.minimalCompletionStage();
        CompletionStage<String> wrapper = AwaitTest.delegating("wrapper", behind, () -> (CompletableFuture<String>) minimal);
        Coroutine awaiter = Coroutine.create("awaiter", () -> Coroutine.await(wrapper));
        Coroutine selector = Coroutine.create("selector", () -> new Select<String>().onComplete(wrapper, v -> v).select());
        Coroutine.yield(); // both park
        String waiting = wrapper.toString();
        assertThat(waiting).startsWith("wrapper of java.util.concurrent.CompletableFuture@");
        assertThat(Coroutine.dump()).contains("coroutine 'awaiter': PARKED, waits to await " + waiting + "\n")
                .contains("coroutine 'selector': PARKED, waits to select over completion of " + waiting + "\n");
        assertThatThrownBy(() -> Coroutine.withTimeout(Duration.ofMillis(1), () -> Coroutine.await(wrapper)))
                .isExactlyInstanceOf(CoroutineTimeoutException.class).cause()
                .hasMessage("main context 'main': its withTimeout(PT0.001S) expired; its await " + waiting
                        + " throws this signal so that the body unwinds to it");
        awaiter.close();
        selector.close();
        behind.cancel(false);
        // the minimal stage relays the cancellation as a failure, as join() of its own future gives it
        String cancelled = wrapper.toString();
        assertThatThrownBy(() -> new Select<String>().onComplete(wrapper, v -> v).select())
                .isExactlyInstanceOf(CompletionException.class)
                .hasMessage("main context 'main' cannot select: its clause onComplete(" + cancelled
                        + ") fired on a stage that failed: java.util.concurrent.CancellationException")
                .cause().isExactlyInstanceOf(CancellationException.class);
        assertThatThrownBy(() -> Coroutine.await(wrapper)).isExactlyInstanceOf(CompletionException.class)
                .cause().isExactlyInstanceOf(CancellationException.class);
    }

    /**
     * Selects built on a thread that had no scheduler, each with an {@code onComplete} clause on a stage
     * that is not its own future, leave one callback on the stage, as those built on a thread with one
     * do: the thread keeps the future made for the stage (a scheduler made for it at its first such
     * clause), where each clause made a new one, and a stage that never completes (a shutdown signal)
     * held a callback for every select built (here by a dispatcher thread that hands each request's
     * select to a pool body to run).
     */
    @Test
    @Timeout(60)
    void selectsBuiltOnAThreadWithoutASchedulerLeaveOneCallbackOnAStageThatIsNotItsOwnFuture() throws Exception {
        CompletableFuture<String> shutdown = new CompletableFuture<>();
        CompletionStage<String> stage = freshFutureEachTime(shutdown);
        List<String> answers = new ArrayList<>();
        CoroutinePool pool = CoroutinePool.start(1);
        try {
            Throwable thrown = OtherThread.thrownOn("dispatcher", () -> {
                for (int i = 0; i < 100; i++) {
                    int request = i;
                    Select<String> s = new Select<String>().onComplete(stage, v -> "shut down")
                            .onTimeout(Duration.ZERO, () -> "request " + request);
                    answers.add(pool.submit(s::select).join());
                }
            });
            assertThat(thrown).isNull();
        } finally {
            pool.close();
        }
        assertThat(answers).hasSize(100).startsWith("request 0").endsWith("request 99");
        assertThat(shutdown.getNumberOfDependents()).as("callbacks on the stage").isEqualTo(1);
    }

    /** A stage that delegates to {@code f} and answers {@code toCompletableFuture()} with a new dependent of it each call. */
    private static <T> CompletionStage<T> freshFutureEachTime(CompletableFuture<T> f) {
        return AwaitTest.delegating("fresh-future stage", f, () -> f.thenApply(v -> v));
    }
}
