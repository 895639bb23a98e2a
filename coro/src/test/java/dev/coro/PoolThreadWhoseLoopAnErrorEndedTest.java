package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A pool thread whose loop an {@code Error} of its machinery ended (here: in making a body's coroutine) while
 * the pool is open loses no body: the body it was making, the one it was running and every one submitted to
 * it afterwards (handed to its ended loop) fail their futures, naming the pool, the thread, the submission and
 * the error; {@code close()} returns instead of waiting for good for a thread that will never be idle, and
 * reports the error (the thread's uncaught-exception handler gets nothing), an {@code execute} body refused
 * there suppressed in that report (in the report itself: the refusal holds the error as its cause).
 */
@ExtendWith(FreshThread.class)
class PoolThreadWhoseLoopAnErrorEndedTest {

    @Test
    @Timeout(value = 20, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a future never completed is waited for for good
    void everyBodyOfAPoolThreadWhoseLoopAnErrorEndedFailsItsFutureAndCloseReturnsReportingTheError() throws InterruptedException {
        List<String> uncaught = Collections.synchronizedList(new ArrayList<>());
        Thread.UncaughtExceptionHandler before = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> uncaught.add(t.getName() + ": " + e));
        BiFunction<Scheduler, Runnable, Context> maker = CoroutinePool.maker;
        AtomicInteger refusals = new AtomicInteger();
        CoroutinePool.maker = refusing(maker, refusals);
        try {
            CoroutinePool pool = CoroutinePool.start(1);
            String name = PoolName.of(pool);
            String thread = name + ": thread '" + name + "-0' (#" + PoolName.threadId(pool, 0) + ") could not run the body of ";
            String error = " (java.lang.InternalError: refused for a test)";
            CompletableFuture<Void> gate = new CompletableFuture<>();
            CompletableFuture<Thread> poolThread = new CompletableFuture<>();
            CompletableFuture<String> running = pool.submit(() -> { // #1: parked when the loop ends
                poolThread.complete(Scheduler.current().owner);
                Coroutine.await(gate);
                return "never";
            });
            Thread worker = Coroutine.await(poolThread);
            refusals.set(1);
            CompletableFuture<String> made = pool.submit(() -> "never"); // #2: its making ends the loop

            assertThat(catchThrowable(made::join)).isExactlyInstanceOf(CompletionException.class).cause()
                    .isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessage(thread + "submit #2: its loop ended" + error)
                    .cause().isExactlyInstanceOf(InternalError.class);
            assertThat(catchThrowable(running::join)).isExactlyInstanceOf(CompletionException.class).cause()
                    .isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessage(thread + "submit #1 to its end: its loop ended while the body ran" + error)
                    .cause().isExactlyInstanceOf(InternalError.class);
            worker.join(); // its loop has closed: what is handed to it now is refused
            CompletableFuture<String> late = pool.submit(() -> "never"); // #3
            assertThat(catchThrowable(late::join)).isExactlyInstanceOf(CompletionException.class).cause()
                    .isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessage(thread + "submit #3: its loop ended" + error);
            pool.execute(() -> { }); // #4: refused too, and nobody reads it

            Throwable thrown = catchThrowable(pool::close);
            assertThat(thrown).isExactlyInstanceOf(CoroutineException.class)
                    .hasMessage(name + ": a coroutine failed and nobody observed it: thrown in the loop of thread '" + name
                            + "-0' (#" + PoolName.threadId(pool, 0) + "), which ended: java.lang.InternalError: refused for a test; 1 more failure suppressed in this"
                            + " report (it holds the first as a cause or a suppressed exception)")
                    .cause().isExactlyInstanceOf(InternalError.class);
            assertThat(thrown.getSuppressed()).hasSize(1); // its cause is the error: suppressed in the error, a cycle
            assertThat(thrown.getSuppressed()[0]).isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessage(thread + "execute #4: its loop ended" + error);
            assertThat(pool.toString()).isEqualTo("CoroutinePool[" + name + ", 1 thread, closed]");
            gate.complete(null); // reaches no thread: nothing runs the body any more
            assertThat(uncaught).as("handed to an uncaught-exception handler").isEmpty();
        } finally {
            CoroutinePool.maker = maker;
            Thread.setDefaultUncaughtExceptionHandler(before);
        }
    }
    /**
     * An {@code execute} body that runs as its thread's loop ends has no future to fail: {@code close()} reports
     * it first, as a body that never ended, whose exception carries the error that ended the loop as its cause:
     * that error, a failure of the pool too, is not reported a second time beside it.
     */
    @Test
    @Timeout(value = 20, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a close that waited for good would hang
    void anExecuteBodyRunningAsItsThreadsLoopEndsIsReportedByCloseAsOneThatNeverEnded() throws InterruptedException {
        BiFunction<Scheduler, Runnable, Context> maker = CoroutinePool.maker;
        AtomicInteger refusals = new AtomicInteger();
        CoroutinePool.maker = refusing(maker, refusals);
        try {
            CoroutinePool pool = CoroutinePool.start(1);
            String name = PoolName.of(pool);
            CompletableFuture<Void> gate = new CompletableFuture<>();
            CompletableFuture<Thread> poolThread = new CompletableFuture<>();
            pool.execute(() -> { // #1: parked when the loop ends
                poolThread.complete(Scheduler.current().owner);
                Coroutine.await(gate);
            });
            Thread worker = Coroutine.await(poolThread);
            refusals.set(1);
            CompletableFuture<String> made = pool.submit(() -> "never"); // #2: its making ends the loop
            assertThat(catchThrowable(made::join)).isExactlyInstanceOf(CompletionException.class);
            worker.join();

            Throwable thrown = catchThrowable(pool::close);
            assertThat(thrown).isExactlyInstanceOf(CoroutineException.class).hasMessage(name + ": a coroutine failed and nobody"
                    + " observed it: the body of execute #1 never ended: java.lang.IllegalStateException: " + name + ": thread '"
                    + name + "-0' (#" + PoolName.threadId(pool, 0) + ") could not run the body of execute #1 to its end: its loop ended while the body ran"
                    + " (java.lang.InternalError: refused for a test)");
            assertThat(thrown.getSuppressed()).isEmpty();
            assertThat(thrown.getCause().getCause()).isExactlyInstanceOf(InternalError.class).hasMessage("refused for a test");
            assertThat(thrown.getCause().getSuppressed()).isEmpty();
            gate.complete(null);
        } finally {
            CoroutinePool.maker = maker;
        }
    }

    /**
     * {@code maker}, but for the next {@code refusals} makings (none until the test sets it), which throw an
     * {@code InternalError} instead: the error that ends the pool thread's loop.
     */
    private static BiFunction<Scheduler, Runnable, Context> refusing(BiFunction<Scheduler, Runnable, Context> maker,
                                                                      AtomicInteger refusals) {
        return (s, body) -> {
            if (refusals.getAndDecrement() > 0) {
                throw new InternalError("refused for a test");
            }
            return maker.apply(s, body);
        };
    }
}
