package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.net.TcpListener;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An {@code Error} thrown as a pool thread ends (here: an {@link OutOfMemoryError} as its loop closes the
 * listener its coroutine left open) is reported by the pool's {@code close()}, as the failures of the pool's
 * threads are, naming the thread, instead of going to the thread's uncaught-exception handler (the JVM's default
 * one, set here, receives nothing) while {@code close()} returns as if nothing had failed. The first allocation
 * of that closing is made to fail ({@link AllocationFailingCopy}).
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a close that waits for good ignores interrupts
class ErrorAsAPoolThreadEndsTest {

    @Test
    void anErrorAsAPoolThreadEndsIsReportedByCloseAndNotHandedToTheUncaughtExceptionHandler() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "ends");
    }

    /** Runs in the copy. */
    static final class Scenario {

        private Scenario() {
        }

        /** Whether the allocation being made is in an event loop's close. */
        private static boolean inLoopClose() {
            return StackWalker.getInstance().walk(frames -> frames.anyMatch(f -> f.getMethodName().equals("close")
                    && f.getClassName().equals(EventLoop.class.getName())));
        }

        static void ends() throws InterruptedException {
            InTheCopy.notingUncaught(uncaught -> {
                CoroutinePool pool = CoroutinePool.start(1);
                String name = PoolName.of(pool);
                Thread poolThread = Coroutine.await(pool.submit(() -> Scheduler.current().owner));
                TcpListener listener = Coroutine.await(pool.submitCallable(
                        () -> TcpListener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)))); // left open
                AllocationFailures.failAt(1, () -> Thread.currentThread() == poolThread && inLoopClose());
                Throwable thrown;
                boolean failed;
                try {
                    thrown = catchThrowable(pool::close);
                } finally {
                    failed = AllocationFailures.stop();
                }
                assertThat(failed).as("an allocation of the loop's close failed").isTrue();
                assertThat(thrown).isExactlyInstanceOf(CoroutineException.class)
                        .hasMessage(name + ": a coroutine failed and nobody observed it: thrown as thread '" + name
                                + "-0' (#" + PoolName.threadId(pool, 0) + ") ended: java.lang.OutOfMemoryError: " + AllocationFailures.MESSAGE);
                assertThat(AllocationFailures.injected(thrown.getCause())).isTrue();
                assertThat(poolThread.isAlive()).isFalse();
                assertThat(uncaught).as("handed to an uncaught-exception handler").isEmpty();
                try {
                    listener.close(); // its thread has ended: any thread may close it, releasing its port at once
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            });
        }
    }
}
