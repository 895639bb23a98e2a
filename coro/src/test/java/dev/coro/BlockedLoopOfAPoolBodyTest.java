package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The running detector on a pool thread: a coroutine of a body that spins without a scheduling point is
 * reported once, naming it, the pool thread and the spinning frames; once it moves on it is not reported
 * again, though the detector goes on sampling its thread, whose next stall is reported in its turn.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
class BlockedLoopOfAPoolBodyTest {

    /**
     * Each spin ends as soon as it is reported, far from ten times the threshold, when it would be reported again;
     * and a switch into a spinner is far shorter than it, even under load or interpreted, so that no stall of the
     * switch itself is reported in the spinner's name before its body spins.
     */
    private static final Duration THRESHOLD = Duration.ofMillis(500);

    /** Written by the spins, so that the JIT keeps their loops. */
    private static volatile int spins;
    /**
     * How many of the test's two stalls were reported: read by the spins in their own frame, which a report's stack
     * then starts with, interpreted too (a latch's count read there shows the JDK's frames on top).
     */
    private static volatile int reported;

    @Test
    @Timeout(60)
    void aSpinningCoroutineOfAPoolBodyIsReportedOnceWithItsFramesAndNotOnceItMovedOn() throws Exception {
        reported = 0;
        List<String> logged = Collections.synchronizedList(new ArrayList<>()); // about the two stalls
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                String m = r.getMessage();
                // the two stalls of the test (under load the thread may stall elsewhere too: a class loaded, say)
                if (m.startsWith("coroutine 'spinner' has blocked ")) {
                    logged.add(m);
                    reported = Math.max(reported, 1);
                } else if (m.startsWith("coroutine 'second' has blocked ")) {
                    logged.add(m);
                    reported = 2;
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger log = Logger.getLogger("dev.coro"); // held: a logger nothing holds may be collected, its handler with it
        log.addHandler(h);
        Thread[] runner = new Thread[1];
        CoroutinePool pool = CoroutinePool.start("spun", 1);
        List<RecordedEvent> events;
        try {
            events = JfrEventsTest.record(r -> r.enable("dev.coro.BlockedLoop"), () -> {
                BlockedLoops.detect(THRESHOLD);
                try {
                    CompletableFuture<Void> first = pool.submit(() -> {
                        Channel<Integer> ch = new Channel<>("ch", 0);
                        Coroutine waiting = Coroutine.create("waiting", () -> {
                            ch.receive();
                        });
                        waiting.switchTo(); // parked: one of the contexts the spin stalls
                        Coroutine.create("spinner", () -> {
                            runner[0] = Thread.currentThread();
                            spinUntil(1);
                        }).switchTo();
                        ch.send(1);
                        waiting.join();
                        return null;
                    });
                    first.join();
                    // the thread idles in its event loop meanwhile; its next stall is one of its own
                    pool.submit(() -> {
                        Coroutine.create("second", () -> spinUntil(2)).switchTo();
                        return null;
                    }).join();
                } finally {
                    BlockedLoops.stop();
                }
            }, t -> "spun-0".equals(t.getJavaName()), "dev.coro.BlockedLoop");
        } finally {
            log.removeHandler(h);
            PoolsClosed.close(pool);
        }
        assertThat(logged).hasSize(2);
        assertThat(logged.get(0)).startsWith("coroutine 'spinner' has blocked thread 'spun-0' (#")
                .contains(" ms without reaching a scheduling point (yield, switchTo, a park, the end of its body): "
                        + "3 other contexts cannot run meanwhile")
                .contains("Its stack (thread " + Scheduler.describe(runner[0]) + "):\n"
                        + "    at dev.coro.BlockedLoopOfAPoolBodyTest.spinUntil(");
        assertThat(logged.get(1)).startsWith("coroutine 'second' has blocked thread 'spun-0' (#");
        assertThat(events).extracting(e -> e.getString("coroutine")).filteredOn(n -> n.equals("spinner") || n.equals("second"))
                .containsExactly("spinner", "second");
        RecordedEvent spinner = events.stream().filter(e -> e.getString("coroutine").equals("spinner")).findFirst().orElseThrow();
        assertThat(spinner.getLong("runningThreadId")).isEqualTo(runner[0].threadId());
        assertThat(spinner.getInt("otherContexts")).isEqualTo(3); // the pool thread's main, the body, 'waiting'
        assertThat(spinner.getBoolean("movedOn")).isFalse();
        assertThat(spinner.getString("stack")).startsWith("    at dev.coro.BlockedLoopOfAPoolBodyTest.spinUntil(");
    }

    /** Spins, reaching no scheduling point, until {@code stalls} stalls were reported. */
    private static void spinUntil(int stalls) {
        while (reported < stalls) {
            spins++;
        }
    }
}
