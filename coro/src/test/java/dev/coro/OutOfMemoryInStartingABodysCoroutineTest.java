package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An {@link OutOfMemoryError} at any allocation of a pool thread's main as it makes and first runs a body's
 * coroutine (on the thread engine: the name and description its virtual thread is started with, as well as
 * the thread) fails that body, its future completing with the refusal naming the pool, the thread and the
 * submission, and the thread serves on; it does not escape the thread's main, which would end the thread with
 * the body's future never completed and hand the error to the uncaught-exception handler (the JVM's default
 * one, set here, receives nothing). Each allocation of the pool thread outside the bodies is made to fail in
 * turn ({@link AllocationFailingCopy}), with a new pool each time.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a future never completed is waited for for good
class OutOfMemoryInStartingABodysCoroutineTest {

    @Test
    void anOutOfMemoryErrorInStartingABodysCoroutineFailsThatBodyAndThePoolThreadServesOn() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "start");
    }

    /** Runs in the copy. */
    static final class Scenario {

        private Scenario() {
        }

        static void start() throws InterruptedException {
            InTheCopy.notingUncaught(Scenario::eachInTurn);
        }

        private static void eachInTurn(List<String> uncaught) throws InterruptedException {
            AllocationFailures.eachInTurn(k -> {
                CoroutinePool pool = CoroutinePool.start(1);
                String name = PoolName.of(pool);
                Thread poolThread = pool.submit(() -> Scheduler.current().owner).get(30, TimeUnit.SECONDS);
                BooleanSupplier where = InTheCopy.outsideBodies(poolThread);
                CompletableFuture<Integer> body;
                Throwable read;
                boolean failed;
                AllocationFailures.failAt(k, where);
                try {
                    body = pool.submit(() -> 1);
                    read = catchThrowable(body::join);
                } finally {
                    failed = AllocationFailures.stop();
                }
                if (read != null) {
                    String refused = name + ": thread '" + name + "-0' (#" + PoolName.threadId(pool, 0) + ") could not run the body of submit #2: ";
                    String injected = "(java.lang.OutOfMemoryError: " + AllocationFailures.MESSAGE + ")";
                    assertThat(read).isInstanceOf(CompletionException.class);
                    assertThat(read.getCause()).isInstanceOf(IllegalStateException.class);
                    assertThat(read.getCause().getMessage()).isIn(refused + "its coroutine could not be made " + injected,
                            refused + "no virtual thread could be started for a coroutine " + injected,
                            refused + "no virtual thread could be started for coroutine 'coroutine-2' " + injected);
                } else {
                    assertThat(body.join()).isEqualTo(1);
                }
                assertThat(pool.submit(() -> 3).get(30, TimeUnit.SECONDS)).as("the thread serves on").isEqualTo(3);
                pool.close(); // the failed body's future was read: nothing to report
                assertThat(pool.toString()).isEqualTo("CoroutinePool[" + name + ", 1 thread, closed]");
                assertThat(uncaught).as("handed to an uncaught-exception handler (the pool thread died)").isEmpty();
                return failed;
            });
        }
    }
}
