package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** Ten thousand coroutines suspended inside {@code synchronized}, then closed, release every monitor. */
@Tag("stress")
@ExtendWith(FreshThread.class)
class MonitorStressTest {

    private static final int COROUTINES = 10_000;

    private int inside;
    private int unwoundWithoutTheMonitor;

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES) // a hang guard: a monitor left held blocks the checker forever
    void tenThousandCoroutinesSuspendedInsideSynchronizedReleaseEveryMonitorWhenClosed() throws InterruptedException {
        StressFigures figures = StressFigures.start();
        Object[] monitors = new Object[COROUTINES];
        Coroutine[] holders = new Coroutine[COROUTINES];
        for (int k = 0; k < COROUTINES; k++) {
            Object monitor = new Object();
            monitors[k] = monitor;
            holders[k] = Coroutine.create(() -> {
                try {
                    synchronized (monitor) {
                        inside++;
                        Coroutine.yield();
                        throw new AssertionError("a closed coroutine resumed normally");
                    }
                } finally {
                    if (!Thread.holdsLock(monitor)) {
                        unwoundWithoutTheMonitor++;
                    }
                }
            });
        }
        Coroutine.yield();
        assertThat(inside).isEqualTo(COROUTINES);
        for (Object monitor : monitors) {
            assertThat(Thread.holdsLock(monitor)).as("main does not own a suspended coroutine's monitor").isFalse();
        }

        for (Coroutine holder : holders) {
            holder.close();
        }
        int[] acquired = {0};
        Thread checker = new Thread(() -> {
            for (Object monitor : monitors) {
                synchronized (monitor) {
                    acquired[0]++;
                }
            }
        }, "monitor-checker");
        checker.start();
        checker.join();
        figures.print(COROUTINES + " coroutines suspended in synchronized, then closed");

        assertThat(acquired[0]).isEqualTo(COROUTINES);
        assertThat(unwoundWithoutTheMonitor).isEqualTo(COROUTINES);
        for (Coroutine holder : holders) {
            assertThat(holder.state()).isEqualTo(Coroutine.State.CLOSED);
        }
    }
}
