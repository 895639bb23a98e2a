package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A body whose coroutine a pool thread could not make (no memory left for it) fails, and is not lost, when the
 * JVM has no memory for the report of that failure either: a submission's future completes exceptionally, with
 * the refusal naming the pool, the thread and the submission, or else with the {@link OutOfMemoryError} that
 * kept the coroutine from being made; an {@code execute}'s failure is reported by {@code close()}, likewise; the
 * thread serves on, and {@code close()} returns. Each allocation of the pool thread's report of the body that
 * never ran is made to fail in turn ({@link AllocationFailingCopy}), with a new pool each time.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a future never completed is waited for for good
class OutOfMemoryInFailingABodyThatCouldNotRunTest {

    @Test
    void aBodyThatCouldNotRunFailsAndIsReportedThoughItsReportFoundNoMemory() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "notRun");
    }

    /** Runs in the copy. */
    static final class Scenario {

        private Scenario() {
        }

        /** Whether the calling thread is making the report of a body that never ran. */
        private static boolean inTheReport() {
            return StackWalker.getInstance().walk(frames -> frames.anyMatch(f -> f.getMethodName().equals("failUnrun")));
        }

        static void notRun() throws InterruptedException {
            BiFunction<Scheduler, Runnable, Context> maker = CoroutinePool.maker;
            OutOfMemoryError noRoom = new OutOfMemoryError("no room for the coroutine");
            try {
                AllocationFailures.eachInTurn(k -> {
                    CoroutinePool pool = CoroutinePool.start(1);
                    String name = PoolName.of(pool);
                    String thread = name + "-0' (#" + PoolName.threadId(pool, 0) + ")";
                    CoroutinePool.maker = (s, body) -> {
                        throw noRoom;
                    };
                    BooleanSupplier where = Scenario::inTheReport;
                    CompletableFuture<Integer> submitted;
                    Throwable reported;
                    AllocationFailures.failAt(k, where);
                    try {
                        submitted = pool.submit(() -> 1);
                        pool.execute(() -> { });
                        Throwable read = catchThrowable(submitted::join);
                        assertThat(read).isInstanceOf(CompletionException.class);
                        Throwable cause = read.getCause();
                        if (cause != noRoom) {
                            assertThat(cause).isInstanceOf(IllegalStateException.class).hasMessage(name + ": thread '" + thread
                                    + " could not run the body of submit #1: its coroutine could not be made (" + noRoom + ")")
                                    .hasCause(noRoom);
                        }
                        // the thread serves on: it refuses the execute's body as well, and ends for the close
                        reported = catchThrowable(pool::close);
                    } finally {
                        AllocationFailures.stop();
                        CoroutinePool.maker = maker;
                    }
                    String report = name + ": a coroutine failed and nobody observed it: the body of execute #2 never ran";
                    if (reported.getCause() == noRoom) {
                        assertThat(reported).isInstanceOf(CoroutineException.class)
                                .hasMessage(report + " (no memory was left for the report of its failure): " + noRoom);
                    } else {
                        assertThat(reported).isInstanceOf(CoroutineException.class).hasMessage(report + ": "
                                + "java.lang.IllegalStateException: " + name + ": thread '" + thread
                                + " could not run the body of execute #2: its coroutine could not be made (" + noRoom + ")");
                    }
                    assertThat(pool.toString()).isEqualTo("CoroutinePool[" + name + ", 1 thread, closed]");
                    return AllocationFailures.stop();
                });
            } finally {
                CoroutinePool.maker = maker;
            }
        }
    }
}
