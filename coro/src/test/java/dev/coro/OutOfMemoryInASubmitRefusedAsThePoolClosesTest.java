package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.lang.reflect.Field;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An {@link OutOfMemoryError} in a submission refused because the pool began to close after its body was
 * counted leaves the pool thread able to end: the count is given back with a wake-up that allocates nothing,
 * so the pool thread, parked while the count stood, looks again, and {@code close()} returns. Each allocation
 * of the submitting thread is made to fail in turn ({@link AllocationFailingCopy}), with a new pool each time.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a close that waits for good ignores interrupts
class OutOfMemoryInASubmitRefusedAsThePoolClosesTest {

    @Test
    void aSubmitRefusedForACloseThatBeganAfterItsCountLeavesThePoolThreadWokenAndCloseReturns() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "refusedWhileClosing");
    }

    /** Runs in the copy. */
    static final class Scenario {

        private Scenario() {
        }

        static void refusedWhileClosing() throws InterruptedException, ReflectiveOperationException {
            Field closing = CoroutinePool.class.getDeclaredField("closing");
            closing.setAccessible(true);
            try {
                AllocationFailures.eachInTurn(k -> {
                    Thread submitter = Thread.currentThread();
                    BooleanSupplier here = InTheCopy.thisThread(); // not the pool thread's
                    CoroutinePool pool = CoroutinePool.start(1);
                    String name = PoolName.of(pool);
                    // the pool thread's main parks for work as the body starts, and nothing wakes it as the body,
                    // woken by the gate, ends: it waits for work with no body live, having seen the pool open
                    CompletableFuture<Integer> gate = new CompletableFuture<>();
                    CompletableFuture<Integer> first = pool.submit(() -> Coroutine.await(gate));
                    gate.complete(1);
                    assertThat(first.get(30, TimeUnit.SECONDS)).isEqualTo(1);
                    // the close begins between the submission's first look and its count: as if the pool thread
                    // had taken the close's wake-up while the count stood, it is parked until woken again
                    CoroutinePool.racing = p -> {
                        if (p == pool) {
                            try {
                                closing.setBoolean(p, true);
                            } catch (IllegalAccessException e) {
                                throw new IllegalStateException(e);
                            }
                        }
                    };
                    Throwable[] refused = new Throwable[1];
                    boolean failed;
                    try {
                        failed = AllocationFailures.failing(k, here, () -> refused[0] = catchThrowable(() -> pool.submit(() -> 2)));
                    } finally {
                        CoroutinePool.racing = null;
                    }
                    if (refused[0] instanceof OutOfMemoryError e && AllocationFailures.injected(e)) {
                        assertThat(failed).isTrue();
                    } else {
                        assertThat(refused[0]).isInstanceOf(java.util.concurrent.RejectedExecutionException.class)
                                // closed already if the pool thread took the wake-up and ended before the refusal was made
                                .hasMessageMatching(Pattern.quote("thread '" + submitter.getName() + "' (#" + submitter.threadId()
                                        + ") cannot submit to " + name) + " \\((closing|closed)\\): a \\1 pool takes no more bodies");
                    }
                    pool.close(); // returns: the pool thread was woken to see the count given back
                    assertThat(pool.toString()).isEqualTo("CoroutinePool[" + name + ", 1 thread, closed]");
                    return failed;
                });
            } finally {
                CoroutinePool.racing = null;
            }
        }
    }
}
