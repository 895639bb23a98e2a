package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.management.CoroutinesManagement;
import dev.coro.management.SchedulerInfo;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A pool program that really deadlocks on one thread's own channels, seen from outside while it hangs. */
@ExtendWith(FreshThread.class)
class DeadlockedPoolProgramTest {

    /** The pool the test started, closed after it whatever happened. */
    private CoroutinePool opened;

    /**
     * A pool a failed assertion left open would make every later test of the JVM wait where it should
     * report a deadlock (a pool thread might still wake it): its coroutines are closed and it is closed.
     */
    @AfterEach
    void closeWhatTheTestLeftOpen() {
        if (opened != null) {
            Coroutine.withTimeout(Duration.ofSeconds(30), opened::closeNow);
        }
    }

    @Test
    void theDumpAndTheViewOfAPoolThreadDeadlockedOnItsOwnChannelsNameEveryWaitAndTheCloseSaysWhatItWaitsFor() {
        CompletableFuture<Channel<String>> left = new CompletableFuture<>();
        CompletableFuture<Void> stuck = new CompletableFuture<>();
        CoroutinesManagement.mxBean(); // parks are timed from now on
        CoroutinePool pool = opened = CoroutinePool.start(2);
        CompletableFuture<String> a = pool.submit(() -> {
            Channel<String> toLeft = new Channel<>("to-left", 0);
            Channel<String> toRight = new Channel<>("to-right", 0);
            Channel<String> done = new Channel<>("done", 0);
            left.complete(toLeft);
            Coroutine.create("left", () -> {
                String got = toLeft.receive();
                toRight.send("from left after " + got);
                done.send("left had " + toLeft.receive());
            });
            Coroutine.create("right", () -> {
                String got = toRight.receive();
                toLeft.send("from right after " + got);
            });
            Coroutine.create("announcer", () -> stuck.complete(null));
            return done.receive();
        });
        CompletableFuture<Integer> b = pool.submit(() -> {
            Coroutine.sleep(Duration.ofMillis(1));
            return 2;
        });
        try {
            assertThat(Coroutine.await(b)).isEqualTo(2);
            Coroutine.await(stuck);
            String prefix = "coro-pool-" + poolNumber(pool) + "-";
            // until every context of A is parked (A waits in its event loop: with a pool open, no deadlock is reported)
            SchedulerInfo row = null;
            long giveUp = System.nanoTime() + Duration.ofSeconds(30).toNanos(); // a guard against a hang, not a measure
            while (row == null && System.nanoTime() - giveUp < 0) {
                row = CoroutinesManagement.mxBean().getSchedulers().stream()
                        .filter(s -> s.threadName().startsWith(prefix) && s.contexts() == 4 && s.parked() == 4)
                        .findFirst().orElse(null);
                if (row == null) {
                    Coroutine.sleep(Duration.ofMillis(1));
                }
            }
            assertThat(row).isNotNull();
            String name = row.threadName();
            assertThat(row.parked()).isEqualTo(4);
            // the body's coroutine parked first of the four coroutines; main's wait for work is the thread's idle one
            assertThat(row.oldestParked()).isEqualTo("coroutine 'coroutine-1'");
            assertThat(row.oldestParkedWaits()).isEqualTo("receive from channel 'done'");
            String dump = CoroutinesManagement.mxBean().dump(10);
            String section = dump.substring(dump.indexOf("thread '" + name + "'"));
            section = section.contains("\n\n") ? section.substring(0, section.indexOf("\n\n")) : section;
            assertThat(section.lines().filter(l -> l.startsWith("  [")).toList()).containsExactlyInAnyOrder(
                    "  [0] main: PARKED, waits to take work from coro-pool-" + poolNumber(pool),
                    "  [1] coroutine 'coroutine-1': PARKED, waits to receive from channel 'done'",
                    "  [2] coroutine 'left': PARKED (current), waits to receive from channel 'to-left'",
                    "  [3] coroutine 'right': PARKED, waits to receive from channel 'to-right'");
            Throwable closing = catchThrowable(() -> Coroutine.withTimeout(Duration.ofMillis(50), pool::close));
            assertThat(closing).isInstanceOf(CoroutineTimeoutException.class);
            assertThat(closing.getCause()).hasMessageContaining("its await the close of coro-pool-" + poolNumber(pool)
                    + " (1 submitted body has not ended)");
        } finally { // a failed assertion must not leave the pool stuck
            Coroutine.await(left).send("a nudge from " + Thread.currentThread().getName());
        }
        assertThat(Coroutine.await(a)).isEqualTo("left had from right after from left after a nudge from " + Thread.currentThread().getName());
        pool.close();
    }

    /** The pool's number, as its description names it. */
    private static String poolNumber(CoroutinePool pool) {
        String d = pool.toString();
        return d.substring(d.indexOf("coro-pool-") + 10, d.indexOf(','));
    }
}
