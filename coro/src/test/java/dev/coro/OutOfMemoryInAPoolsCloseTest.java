package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An {@link OutOfMemoryError} at any allocation of {@code CoroutinePool.close()} leaves no pool thread
 * parked for work unwoken: the close that failed has marked the pool closing, and the next close returns,
 * instead of waiting for good for a thread that never learnt of the first. Each allocation of the closing
 * thread is made to fail in turn ({@link AllocationFailingCopy}), with a new pool of two threads each time.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a close that waits for good ignores interrupts
class OutOfMemoryInAPoolsCloseTest {

    @Test
    void aCloseThatFailedForWantOfMemoryLeavesTheNextCloseToReturnWithEveryThreadEnded() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "close");
    }

    /** Runs in the copy. */
    static final class Scenario {

        private Scenario() {
        }

        static void close() throws InterruptedException {
            AllocationFailures.eachInTurn(k -> {
                BooleanSupplier here = InTheCopy.thisThread(); // not the pool threads'
                CoroutinePool pool = CoroutinePool.start(2);
                String name = PoolName.of(pool);
                // each thread's main parks for work as its body starts, and nothing wakes it as the body, woken
                // by the gate, ends: both wait for work with no body live, having seen the pool open
                CompletableFuture<Integer> gate = new CompletableFuture<>();
                CompletableFuture<Integer> first = pool.submit(() -> Coroutine.await(gate));
                CompletableFuture<Integer> second = pool.submit(() -> Coroutine.await(gate) + 1);
                gate.complete(1);
                assertThat(first.get(30, TimeUnit.SECONDS)).isEqualTo(1);
                assertThat(second.get(30, TimeUnit.SECONDS)).isEqualTo(2);
                boolean failed = AllocationFailures.failing(k, here, pool::close);
                pool.close(); // returns: each thread was woken to see the pool closing
                assertThat(pool.toString()).isEqualTo("CoroutinePool[" + name + ", 2 threads, closed]");
                return failed;
            });
        }
    }
}
