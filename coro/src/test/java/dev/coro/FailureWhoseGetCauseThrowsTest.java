package dev.coro;

import static dev.coro.PoolsClosed.GUARD;
import static dev.coro.PoolsClosed.thrownByClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A user's exception whose {@code getCause()} throws, in a failure the library adds to another as suppressed,
 * neither breaks the body's end nor is lost: the library's check that adding it makes no cycle passes over a
 * cause it cannot read. Nor does a {@code CompletionException} of the user's whose {@code getCause()} throws, as a
 * stage's failure, break the library's reading of it (a select's {@code onComplete}, a {@code join}, {@code get} or
 * {@code exceptionNow} of a pool future or its stage): a cause it cannot read counts as none.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
class FailureWhoseGetCauseThrowsTest {

    /** A failure whose cause cannot be read, as a proxy's or a badly written exception's may be. */
    static final class UnreadableCause extends RuntimeException {
        UnreadableCause(String message) {
            super(message);
        }

        @Override
        public synchronized Throwable getCause() {
            throw new UnsupportedOperationException("no cause here");
        }
    }

    /** A stage's failure as {@code join()} throws it, whose cause cannot be read. */
    static final class UnreadableCompletion extends CompletionException {
        UnreadableCompletion(String message) {
            super(message);
        }

        @Override
        public synchronized Throwable getCause() {
            throw new UnsupportedOperationException("no cause here");
        }
    }

    /**
     * An {@code onComplete} clause that fires on a stage failed with a {@code CompletionException} whose cause cannot
     * be read throws what it throws for any failure, that failure as the cause (as one with no cause), instead of what
     * its {@code getCause()} threw.
     */
    @Test
    @Timeout(10)
    void anOnCompleteClauseOnAStageFailedWithACompletionExceptionWhoseGetCauseThrowsThrowsTheCompletionException() {
        CompletableFuture<String> f = new CompletableFuture<>();
        UnreadableCompletion failure = new UnreadableCompletion("odd");
        f.completeExceptionally(failure);
        Throwable thrown = catchThrowable(() -> new Select<String>().onComplete(f, v -> v).select());
        assertThat(thrown).isExactlyInstanceOf(CompletionException.class)
                .hasMessage("main context 'main' cannot select: its clause onComplete(" + f + ") fired on a stage that failed: "
                        + "dev.coro.FailureWhoseGetCauseThrowsTest$UnreadableCompletion: odd")
                .cause().isSameAs(failure);
    }

    /**
     * A stage derived from a pool's submission whose body threw a {@code CompletionException} whose cause cannot be
     * read hands its reader that failure, as {@code join()} does, and the read counts as observing it: the pool's
     * close reports nothing. The read once threw what that {@code getCause()} threw, from the pool's bookkeeping.
     */
    @Test
    @Timeout(10)
    void aReadOfAStageOfASubmissionThatThrewACompletionExceptionWhoseGetCauseThrowsHandsItOverAndObservesIt() {
        CoroutinePool pool = CoroutinePool.start(1);
        UnreadableCompletion failure = new UnreadableCompletion("odd");
        CompletableFuture<Object> submitted = pool.submit(() -> {
            throw failure;
        });
        CompletableFuture<Object> stage = submitted.thenApply(v -> v);
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(stage).exceptionally(e -> null))); // allOf reads nothing
        assertThat(catchThrowable(stage::join)).isSameAs(failure);
        assertThat(thrownByClose(pool)).isNull();
    }

    /**
     * The same failure read by {@code get()}, a timed {@code get} or {@code exceptionNow()}, of the submission's future
     * and of a stage derived from it, is handed over as for a failure without a cause (the JDK's {@code get()} and
     * {@code exceptionNow()} give such a failure itself, {@code get} in its {@code ExecutionException}), and the read
     * observes it: the pool's close reports nothing. Those reads once let out what that {@code getCause()} threw, the
     * failure neither handed over nor observed, and close() reported it as nobody's.
     */
    @Test
    @Timeout(10)
    void aGetOrExceptionNowOfASubmissionThatThrewACompletionExceptionWhoseGetCauseThrowsHandsItOverAndObservesIt() {
        for (String read : List.of("get", "timed get", "exceptionNow", "get of a stage", "exceptionNow of a stage")) {
            CoroutinePool pool = CoroutinePool.start(1);
            UnreadableCompletion failure = new UnreadableCompletion("odd");
            CompletableFuture<Object> submitted = pool.submit(() -> {
                throw failure;
            });
            Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(submitted).exceptionally(e -> null))); // allOf reads nothing
            CompletableFuture<Object> future = read.endsWith("of a stage") ? submitted.thenApply(v -> v) : submitted;
            if (read.startsWith("exceptionNow")) {
                assertThat(future.exceptionNow()).as(read).isSameAs(failure);
            } else {
                assertThat(catchThrowable(read.equals("timed get") ? () -> future.get(1, TimeUnit.SECONDS) : future::get)).as(read)
                        .isExactlyInstanceOf(ExecutionException.class)
                        .hasMessage("dev.coro.FailureWhoseGetCauseThrowsTest$UnreadableCompletion: odd").cause().isSameAs(failure);
            }
            assertThat(thrownByClose(pool)).as(read).isNull();
        }
    }

    /**
     * The same for a {@code get} of a thread without a scheduler that blocks in the JDK's wait before the body fails
     * (the failure is read once the wait ends, not before it begins): it once let out what that {@code getCause()}
     * threw, as the reads of a failure complete already did.
     */
    @Test
    @Timeout(10)
    void aGetBlockedOnAPlainThreadBeforeTheBodyThrowsACompletionExceptionWhoseGetCauseThrowsHandsItOverAndObservesIt()
            throws Exception {
        for (String read : List.of("get", "timed get")) {
            CoroutinePool pool = CoroutinePool.start(1);
            UnreadableCompletion failure = new UnreadableCompletion("odd");
            CompletableFuture<Void> gate = new CompletableFuture<>();
            CompletableFuture<Object> submitted = pool.submit(() -> {
                Coroutine.await(gate);
                throw failure;
            });
            assertThat(submitted.getNumberOfDependents()).as("nothing waits on it yet").isZero();
            CompletableFuture<Throwable> thrown = new CompletableFuture<>();
            Thread reader = Thread.ofPlatform().name("reader").start(() -> thrown.complete(catchThrowable(
                    read.equals("timed get") ? () -> submitted.get(1, TimeUnit.HOURS) : submitted::get)));
            while (submitted.getNumberOfDependents() == 0) {
                Thread.onSpinWait(); // the reader blocks in the JDK's wait: its signaller is the future's dependent
            }
            gate.complete(null);
            reader.join();
            assertThat(thrown.get()).as(read).isExactlyInstanceOf(ExecutionException.class)
                    .hasMessage("dev.coro.FailureWhoseGetCauseThrowsTest$UnreadableCompletion: odd").cause().isSameAs(failure);
            assertThat(thrownByClose(pool)).as(read).isNull();
        }
    }

    @Test
    @Timeout(10)
    void aKeptReportOfAFailureWhoseGetCauseThrowsIsSuppressedInWhatTheBodyThrew() {
        assertThat(keptReportOf(new UnreadableCause("odd"))).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'worker' failed: dev.coro.FailureWhoseGetCauseThrowsTest$UnreadableCause: odd");
    }

    /**
     * A coroutine 'relay' creates a 'worker' that fails with {@code failure} after a handshake, then fails itself:
     * asserts that the relay's own exception is what its join reports, and gives the report of the worker's failure
     * that the relay's exception carries as its one suppressed exception.
     */
    static Throwable keptReportOf(RuntimeException failure) {
        Channel<String> done = new Channel<>("done", 0);
        IllegalStateException own = new IllegalStateException("relay's own");
        Coroutine relay = Coroutine.create("relay", () -> {
            Coroutine.create("worker", () -> {
                done.send("sent");
                done.close();
                throw failure;
            });
            done.receive();
            throw own;
        });
        Throwable thrown = catchThrowable(relay::join);
        assertThat(thrown).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'relay' failed: java.lang.IllegalStateException: relay's own").cause().isSameAs(own);
        assertThat(own.getSuppressed()).hasSize(1);
        return own.getSuppressed()[0];
    }
}
