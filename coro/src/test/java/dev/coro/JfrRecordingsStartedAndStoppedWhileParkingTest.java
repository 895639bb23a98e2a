package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Recordings started and stopped from another thread, one after another, while a thread's coroutines park
 * and wake without pause: every park each recording holds is whole (its coroutine, reason, wait and
 * scheduler thread, a duration that is not negative).
 */
@ExtendWith(FreshThread.class)
class JfrRecordingsStartedAndStoppedWhileParkingTest {

    @Test
    @Timeout(60)
    void everyParkARecordingHoldsIsWholeHoweverTheRecordingsComeAndGo() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong rounds = new AtomicLong();
        Thread parker = Thread.ofPlatform().name("parker").start(() -> {
            Channel<Integer> ch = new Channel<>("ch", 0);
            Coroutine receiver = Coroutine.create("receiver", () -> {
                while (true) {
                    ch.receive();
                }
            });
            receiver.switchTo();
            while (!stop.get()) {
                ch.send(1); // the receiver, parked, takes it; main's send parks until then or not
                Coroutine.yield();
                rounds.incrementAndGet();
            }
            receiver.close();
        });
        List<RecordedEvent> parks = new ArrayList<>();
        try {
            for (int k = 0; k < 5; k++) {
                Path file = Files.createTempFile("coro-test", ".jfr");
                try (Recording r = new Recording()) {
                    r.enable("dev.coro.Park").withThreshold(Duration.ZERO);
                    r.start();
                    long from = rounds.get();
                    while (rounds.get() < from + 100) {
                        Thread.onSpinWait();
                    }
                    r.stop();
                    r.dump(file);
                    for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
                        if (e.getEventType().getName().equals("dev.coro.Park")) {
                            assertThat(e.getStartTime()).isBeforeOrEqualTo(e.getEndTime());
                            parks.add(e);
                        }
                    }
                } finally {
                    Files.deleteIfExists(file);
                }
            }
        } finally {
            stop.set(true);
            parker.join();
        }
        List<RecordedEvent> its = parks.stream().filter(e -> e.getThread("schedulerThread") != null
                && e.getThread("schedulerThread").getJavaThreadId() == parker.threadId()).toList();
        assertThat(its).as("the parks of the thread's coroutines").hasSizeGreaterThanOrEqualTo(5);
        assertThat(its).allSatisfy(e -> {
            assertThat(e.getDuration().isNegative()).isFalse();
            assertThat(e.getString("coroutine") + " #" + e.getLong("coroutineNumber") + " / " + e.getString("reason")
                    + " / " + e.getString("waitsFor")).isIn("receiver #1 / channel / receive from channel 'ch'",
                    "main #0 / channel / send to channel 'ch'");
        });
    }
}
