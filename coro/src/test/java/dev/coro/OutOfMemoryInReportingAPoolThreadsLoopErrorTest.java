package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An {@code Error} that ended a pool thread's loop is reported by {@code close()} in the words it would have had,
 * {@code thrown in the loop of thread 'T' (#N), which ended}, also when the JVM had no memory for that report as the
 * error came: kept as it is, it is not reported as a failure left to the thread's main, which it was not. Each
 * allocation of the report is made to fail in turn ({@link AllocationFailingCopy}), with a new pool each time.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a future never completed is waited for for good
class OutOfMemoryInReportingAPoolThreadsLoopErrorTest {

    @Test
    void anErrorThatEndedAPoolThreadsLoopIsReportedAsSuchThoughItsReportFoundNoMemory() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "loopError");
    }

    /** Runs in the copy. */
    static final class Scenario {

        private Scenario() {
        }

        /** Whether the calling thread is making the report of an error thrown on a pool thread. */
        private static boolean inTheReport() {
            return StackWalker.getInstance().walk(frames -> frames.anyMatch(f -> f.getMethodName().equals("failedOnThread")));
        }

        static void loopError() throws InterruptedException {
            BiFunction<Scheduler, Runnable, Context> maker = CoroutinePool.maker;
            InternalError error = new InternalError("refused for a test");
            try {
                AllocationFailures.eachInTurn(k -> {
                    CoroutinePool pool = CoroutinePool.start(1);
                    String name = PoolName.of(pool);
                    CoroutinePool.maker = (s, body) -> {
                        throw error; // the making of the body's coroutine ends the thread's loop
                    };
                    Throwable reported;
                    AllocationFailures.failAt(k, Scenario::inTheReport);
                    try {
                        CompletableFuture<String> made = pool.submit(() -> "never");
                        assertThat(catchThrowable(made::join)).isExactlyInstanceOf(CompletionException.class);
                        reported = catchThrowable(pool::close);
                    } finally {
                        AllocationFailures.stop();
                        CoroutinePool.maker = maker;
                    }
                    boolean noMemory = AllocationFailures.stop(); // the report's allocation k failed
                    String where = name + ": a coroutine failed and nobody observed it: thrown in the loop of thread '" + name
                            + "-0' (#" + PoolName.threadId(pool, 0) + "), which ended";
                    assertThat(reported).isExactlyInstanceOf(CoroutineException.class)
                            .hasMessage(where + (noMemory ? " (no memory was left for the report of it)" : "") + ": " + error)
                            .hasCause(error);
                    assertThat(pool.toString()).isEqualTo("CoroutinePool[" + name + ", 1 thread, closed]");
                    return noMemory;
                });
            } finally {
                CoroutinePool.maker = maker;
            }
        }
    }
}
