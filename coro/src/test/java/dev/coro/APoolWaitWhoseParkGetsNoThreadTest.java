package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A wait for a {@link CoroutinePool} (a submission's {@code join()}, {@code get(timeout, unit)}, the pool's
 * {@code close()}) made by a coroutine whose park is refused because the coroutine it would switch to gets no
 * thread (the thread engine) blocks the thread as the JDK's wait does, as where the JDK cannot suspend the caller
 * (docs/PINNING.md), and gives what it would have given: the body's value, a closed pool. A {@code close()} used
 * to throw that refusal, undocumented, having closed the pool to submissions already; a {@code join()} threw it
 * from the JDK's {@code join()}, whose contract has no such exception.
 */
@ExtendWith(FreshThread.class)
@Timeout(20)
@EnabledIf(value = "dev.coro.ThreadEngineTest#threadEngineRuns", disabledReason = "a coroutine of the continuation engine starts no thread")
class APoolWaitWhoseParkGetsNoThreadTest {

    /**
     * What a coroutine 'waiter' gets from {@code call}, whose park switches to the coroutine 'other', NEW, which
     * gets no thread: the park is refused. {@code released} is counted down once the waiter's thread blocks (or
     * the call has ended), so that what it waits for may end then. 'other' runs afterwards.
     */
    private static Object ofACoroutineWhoseParkGetsNoThread(CountDownLatch released, Supplier<?> call) {
        return OfAPoolThread.ofACoroutineWhoseParkGetsNoThread("waiter", () -> {
            Thread self = Thread.currentThread();
            Thread releaser = Thread.ofPlatform().name("releaser").start(() -> {
                while (self.getState() != Thread.State.WAITING && self.getState() != Thread.State.TIMED_WAITING
                        && released.getCount() > 0) {
                    Thread.onSpinWait(); // until the waiter blocks in the JDK's wait
                }
                released.countDown();
            });
            try {
                return call.get();
            } finally {
                released.countDown();
                try {
                    releaser.join();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }
        });
    }

    /** A body that returns {@code value} once {@code released} is counted down. */
    private static Supplier<String> heldUntil(CountDownLatch released, String value) {
        return () -> {
            try {
                released.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            return value;
        };
    }

    @Test
    void aJoinWhoseParkGetsNoThreadBlocksTheThreadAndReturnsTheBodysValue() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            CountDownLatch released = new CountDownLatch(1);
            Object outcome = ofACoroutineWhoseParkGetsNoThread(released, () -> pool.submit(heldUntil(released, "v")).join());
            assertThat(outcome).isEqualTo("v");
        }
    }

    @Test
    void aTimedGetWhoseParkGetsNoThreadBlocksTheThreadAndReturnsTheBodysValue() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            CountDownLatch released = new CountDownLatch(1);
            Object outcome = ofACoroutineWhoseParkGetsNoThread(released, () -> {
                try {
                    return pool.submit(heldUntil(released, "v")).get(1, TimeUnit.DAYS);
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            assertThat(outcome).isEqualTo("v");
        }
    }

    @Test
    void aCloseWhoseParkGetsNoThreadBlocksTheThreadUntilThePoolHasEndedAndReturns() {
        CoroutinePool pool = CoroutinePool.start(1);
        CountDownLatch released = new CountDownLatch(1);
        CompletableFuture<String> body = pool.submit(heldUntil(released, "v"));
        Object outcome = ofACoroutineWhoseParkGetsNoThread(released, () -> {
            pool.close();
            return "returned";
        });
        assertThat(outcome).isEqualTo("returned");
        assertThat(body).as("the close waited for the body").isCompletedWithValue("v");
    }
}
