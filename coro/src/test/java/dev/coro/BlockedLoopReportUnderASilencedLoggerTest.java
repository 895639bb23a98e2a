package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The blocked-loop detector makes a report only for someone who will see it: with the {@code dev.coro} logger raised
 * to {@code SEVERE} and no recording taking {@code dev.coro.BlockedLoop}, a stall past the threshold takes no stack of
 * the blocked thread (a handshake with it) and logs nothing; a recording that takes the event still gets it, stack and
 * all, without the log line. Sampled by hand with the test's own clock while main stalls a coroutine.
 */
class BlockedLoopReportUnderASilencedLoggerTest {

    private final Logger log = Logger.getLogger("dev.coro");
    private Level before;

    @BeforeEach
    void silenceTheLogger() {
        before = log.getLevel();
        log.setLevel(Level.SEVERE);
    }

    @AfterEach
    void restoreTheLogger() {
        log.setLevel(before);
    }

    @Test
    @Timeout(30)
    void aStallNobodyWouldSeeTakesNoStackAndLogsNothing() throws Exception {
        Coroutine other = Coroutine.create("other", Coroutine::yield);
        Watchdog w = Watchdog.unstarted(Duration.ofMillis(100));
        AtomicInteger stacksTaken = new AtomicInteger();
        w.stackOf = thread -> {
            stacksTaken.incrementAndGet();
            return thread.getStackTrace();
        };
        String me = "thread " + Scheduler.describe(Thread.currentThread()) + " for ";
        List<String> logged = new ArrayList<>();
        long t = System.nanoTime();
        List<String> reports = LoggedWarnings.during(logged, m -> m.contains(me), () -> {
            List<String> made = new ArrayList<>(w.sample(t));
            made.addAll(w.sample(t + TimeUnit.MILLISECONDS.toNanos(100))); // the threshold: a report, were anyone to see it
            return made;
        });
        assertThat(reports).noneMatch(r -> r.contains(me));
        assertThat(logged).isEmpty();
        assertThat(stacksTaken).hasValue(0);
        other.close();
    }

    @Test
    @Timeout(30)
    void aRecordingThatTakesTheEventStillGetsTheStallWithItsStackWithoutALogLine() throws Exception {
        Coroutine other = Coroutine.create("other", Coroutine::yield);
        Watchdog w = Watchdog.unstarted(Duration.ofMillis(100));
        String me = "thread " + Scheduler.describe(Thread.currentThread()) + " for ";
        List<String> logged = new ArrayList<>();
        long t = System.nanoTime();
        List<RecordedEvent> events = JfrEventsTest.record(r -> r.enable("dev.coro.BlockedLoop"), () -> {
            try {
                LoggedWarnings.during(logged, m -> m.contains(me), () -> {
                    w.sample(t);
                    return w.sample(t + TimeUnit.MILLISECONDS.toNanos(100));
                });
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, "dev.coro.BlockedLoop");
        assertThat(logged).isEmpty();
        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.getString("coroutine")).isEqualTo("main");
            assertThat(e.getDuration("blockedFor")).isEqualTo(Duration.ofMillis(100));
            assertThat(e.getString("stack")).contains("at " + BlockedLoopReportUnderASilencedLoggerTest.class.getName() + ".");
        });
        other.close();
    }
}
