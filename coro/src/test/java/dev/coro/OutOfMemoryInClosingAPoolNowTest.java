package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An {@link OutOfMemoryError} in a pool thread's main as it closes its coroutines for {@code closeNow()} does
 * not end the thread with its bodies left unclosed: the failure is left to the thread's main, the thread tries
 * again, the body is closed (its {@code finally} runs, its future completes), and {@code closeNow()} reports
 * the failure, instead of the thread dying, its body's future never completed and the error handed to the
 * thread's uncaught-exception handler (the JVM's default one, set here, receives nothing; nor when the thread's
 * loop, at its end, refuses the posts it never ran). Each allocation of the pool thread outside the bodies is made to fail
 * in turn ({@link AllocationFailingCopy}), with a new pool each time.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a future never completed is waited for for good
class OutOfMemoryInClosingAPoolNowTest {

    @Test
    void anOutOfMemoryErrorAsAPoolThreadClosesItsBodiesForCloseNowLeavesNoBodyUnclosed() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "closeNow");
    }

    /** Runs in the copy. */
    static final class Scenario {

        private Scenario() {
        }

        static void closeNow() throws InterruptedException {
            InTheCopy.notingUncaught(Scenario::eachInTurn);
        }

        private static void eachInTurn(List<String> uncaught) throws InterruptedException {
            AllocationFailures.eachInTurn(k -> {
                CoroutinePool pool = CoroutinePool.start(1);
                String name = PoolName.of(pool);
                CompletableFuture<Thread> started = new CompletableFuture<>();
                CompletableFuture<String> unwound = new CompletableFuture<>();
                CompletableFuture<String> body = pool.submit(() -> {
                    started.complete(Scheduler.current().owner);
                    try {
                        return Coroutine.await(new CompletableFuture<String>()); // nobody completes it
                    } finally {
                        unwound.complete("unwound");
                    }
                });
                Thread poolThread = started.get(30, TimeUnit.SECONDS);
                BooleanSupplier where = InTheCopy.outsideBodies(poolThread);
                Throwable closed;
                AllocationFailures.failAt(k, where);
                try {
                    closed = catchThrowable(pool::closeNow);
                } finally {
                    AllocationFailures.stop();
                }
                assertThat(unwound.get(30, TimeUnit.SECONDS)).isEqualTo("unwound");
                assertThat(body.isCompletedExceptionally()).isTrue();
                if (closed != null) {
                    assertThat(closed).isInstanceOf(CoroutineException.class).hasMessage(name
                            + ": a coroutine failed and nobody observed it: left to main context 'main' of thread '" + name
                            + "-0' (#" + poolThread.threadId() + "): java.lang.OutOfMemoryError: " + AllocationFailures.MESSAGE);
                }
                assertThat(pool.toString()).isEqualTo("CoroutinePool[" + name + ", 1 thread, closed]");
                assertThat(uncaught).as("handed to an uncaught-exception handler (the pool thread died)").isEmpty();
                return AllocationFailures.stop();
            });
        }
    }
}
