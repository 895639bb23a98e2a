package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A {@code dev.coro.BlockedLoop} event made by the running detector reaches a program's own
 * {@code RecordingStream}: committed by the detector's thread, about the blocked scheduler thread, with the
 * context, the thread running its code (its id always; the thread field itself may read as null for a
 * virtual thread that committed no event of its own), how long, how many others cannot run and that
 * thread's stack.
 */
@ExtendWith(FreshThread.class)
class JfrBlockedLoopFromTheDetectorTest {

    @Test
    @Timeout(60)
    void theDetectorsThreadCommitsTheBlockedLoopOfACoroutineThatHoldsItsThreadWithItsFields() throws Exception {
        Thread me = Thread.currentThread();
        String it = "thread " + Scheduler.describe(me) + " for ";
        CountDownLatch reported = new CountDownLatch(1);
        List<RecordedEvent> events = Collections.synchronizedList(new ArrayList<>());
        Coroutine starved = Coroutine.create("starved", Coroutine::yield);
        List<String> logged = new ArrayList<>(); // the warnings about this thread
        boolean[] released = new boolean[1];
        Thread[] holderRunner = new Thread[1];
        try (RecordingStream rs = new RecordingStream()) {
            rs.setReuse(false); // the event is kept past its handler (JfrRecordingStreamKeptEventsTest)
            rs.enable("dev.coro.BlockedLoop");
            rs.onEvent("dev.coro.BlockedLoop", e -> {
                if (e.getThread("schedulerThread").getJavaThreadId() == me.threadId()) {
                    events.add(e);
                    reported.countDown();
                }
            });
            rs.startAsync();
            LoggedWarnings.during(logged, m -> m.contains(it), () -> {
                BlockedLoops.detect(Duration.ofMillis(50));
                try {
                    // holds the thread until the event has reached the stream (the guard only bounds a failure)
                    Coroutine.create("holder", () -> {
                        holderRunner[0] = Thread.currentThread();
                        released[0] = awaitReport(reported);
                    }).switchTo();
                } finally {
                    BlockedLoops.stop();
                }
                return null;
            });
        }
        starved.close();
        assertThat(released[0]).as("the blocked loop reached the stream").isTrue();
        RecordedEvent e = events.get(0);
        assertThat(e.getThread().getJavaName()).isEqualTo("coro-blocked-loop-detector");
        assertThat(e.getString("coroutine")).isEqualTo("holder");
        assertThat(e.getLong("coroutineNumber")).isEqualTo(2);
        assertThat(e.getInt("otherContexts")).isEqualTo(2); // main and the starved coroutine
        assertThat(e.getDuration("blockedFor")).isGreaterThanOrEqualTo(Duration.ofMillis(50));
        assertThat(e.getLong("runningThreadId")).isEqualTo(holderRunner[0].threadId());
        if (Engines.running().equals("threads")) {
            assertThat(holderRunner[0].isVirtual()).as("the holder's own virtual thread").isTrue();
            // a virtual thread that committed no event may read as null in a field of the detector's event
            if (e.getThread("runningThread") != null) {
                assertThat(e.getThread("runningThread").getJavaThreadId()).isEqualTo(holderRunner[0].threadId());
            }
        } else {
            assertThat(holderRunner[0]).isSameAs(me);
            assertThat(e.getThread("runningThread").getJavaName()).isEqualTo(me.getName());
        }
        assertThat(e.getString("stack")).contains("at dev.coro.JfrBlockedLoopFromTheDetectorTest.awaitReport(");
        assertThat(e.getStackTrace()).as("its own stack trace, the detector's, is off").isNull();
        // the same stall may be reported again at ten times its first report's length, while the stream delivers
        assertThat(logged).first().asString().startsWith("coroutine 'holder' has blocked " + it);
    }

    /** Blocks the thread until {@code latch} opens; false if the hang guard ran out first. */
    private static boolean awaitReport(CountDownLatch latch) {
        try {
            return latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
