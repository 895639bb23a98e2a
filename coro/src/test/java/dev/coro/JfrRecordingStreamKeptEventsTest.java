package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What a coro event kept from a {@code RecordingStream}'s handler reads once the stream has delivered a later
 * batch: by default the stream reuses its event objects (the JDK's {@code EventStream.setReuse}), so the
 * object kept for one coroutine's start reads as the next batch's start, and a check that keeps events past
 * their handler (as {@link JfrRecordingStreamTest} does) sees them lost or changed whenever a batch ends
 * between two of them, which under {@code -Xint} happened in about one run in four; with
 * {@code setReuse(false)} each kept event reads as it was delivered.
 */
@ExtendWith(FreshThread.class)
class JfrRecordingStreamKeptEventsTest {

    @Test
    @Timeout(60)
    void byDefaultAStartKeptFromOneBatchReadsAsTheStartDeliveredInALaterBatch() throws Exception {
        RecordedEvent[] kept = startsInTwoBatches(true);
        // the object is reused by its place in the batch: the later batch's start in that place is this
        // thread's second, unless a start of another thread of the JVM came first in that batch
        assertThat(kept[0].getString("coroutine") + " #" + kept[0].getLong("coroutineNumber"))
                .as("the start kept from the first batch").isNotEqualTo("first #1");
    }

    @Test
    @Timeout(60)
    void withReuseOffEachStartKeptFromItsOwnBatchReadsAsItWasDelivered() throws Exception {
        RecordedEvent[] kept = startsInTwoBatches(false);
        assertThat(kept[0].getString("coroutine") + " #" + kept[0].getLong("coroutineNumber")).isEqualTo("first #1");
        assertThat(kept[1].getString("coroutine") + " #" + kept[1].getLong("coroutineNumber")).isEqualTo("second #2");
        assertThat(kept[0]).isNotSameAs(kept[1]);
    }

    /**
     * The {@code CoroutineStart} events of this thread's coroutines {@code first} and {@code second} as a
     * stream with {@code reuse} as given delivered them, kept past their handler and read after the stream
     * closed: {@code second} is created only once the batch that delivered {@code first} has ended (its
     * {@code onFlush}), so it comes in a later batch.
     */
    private static RecordedEvent[] startsInTwoBatches(boolean reuse) throws Exception {
        Scheduler.current(); // this thread used coro before the stream starts
        long me = Thread.currentThread().threadId();
        AtomicReference<RecordedEvent> first = new AtomicReference<>();
        AtomicReference<RecordedEvent> second = new AtomicReference<>();
        CountDownLatch firstBatchEnded = new CountDownLatch(1);
        CountDownLatch secondDelivered = new CountDownLatch(1);
        try (RecordingStream rs = new RecordingStream()) {
            rs.setReuse(reuse);
            rs.enable("dev.coro.CoroutineStart");
            rs.onEvent("dev.coro.CoroutineStart", e -> {
                if (e.getThread("schedulerThread").getJavaThreadId() == me) {
                    String name = e.getString("coroutine");
                    if (name.equals("first")) {
                        first.set(e);
                    } else if (name.equals("second")) {
                        second.set(e);
                        secondDelivered.countDown();
                    }
                }
            });
            rs.onFlush(() -> {
                if (first.get() != null) {
                    firstBatchEnded.countDown();
                }
            });
            rs.startAsync();
            Coroutine.create("first", () -> { }).switchTo();
            assertThat(firstBatchEnded.await(30, TimeUnit.SECONDS)).as("the first start's batch ended").isTrue();
            Coroutine.create("second", () -> { }).switchTo();
            assertThat(secondDelivered.await(30, TimeUnit.SECONDS)).as("the second start was delivered").isTrue();
        }
        return new RecordedEvent[] {first.get(), second.get()};
    }
}
