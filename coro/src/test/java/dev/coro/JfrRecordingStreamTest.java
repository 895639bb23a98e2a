package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import jdk.jfr.consumer.RecordingStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * coro's JFR events as a program records them itself, from another thread than the scheduler's: a
 * {@code RecordingStream}'s handlers get every event type with its fields (the statistics of a thread
 * idle in its event loop count nothing running), a park under the recording's threshold is left out, and a recording stopped gets nothing more while another one still records.
 */
@ExtendWith(FreshThread.class)
class JfrRecordingStreamTest {

    @Test
    @Timeout(60)
    void aRecordingStreamStartedOnAnotherThreadGetsStartsParksEndsAndStatisticsWithTheirFields() throws Exception {
        Scheduler.current(); // this thread used coro before the stream starts
        Thread me = Thread.currentThread();
        List<RecordedEvent> events = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch failerEnded = new CountDownLatch(1);
        CountDownLatch statistics = new CountDownLatch(1);
        List<RecordedEvent> firstStatistics = Collections.synchronizedList(new ArrayList<>());
        RecordingStream rs = CompletableFuture.supplyAsync(() -> {
            RecordingStream s = new RecordingStream();
            s.setReuse(false); // the events are kept past their handlers (JfrRecordingStreamKeptEventsTest)
            s.enable("dev.coro.CoroutineStart");
            s.enable("dev.coro.CoroutineEnd");
            s.enable("dev.coro.Park").withThreshold(Duration.ZERO);
            s.enable("dev.coro.SchedulerStatistics").withPeriod(Duration.ofMillis(10));
            for (String type : List.of("dev.coro.CoroutineStart", "dev.coro.CoroutineEnd", "dev.coro.Park")) {
                s.onEvent(type, e -> {
                    if (e.getThread("schedulerThread").getJavaThreadId() == me.threadId()) {
                        events.add(e);
                        if (e.getEventType().getName().equals("dev.coro.CoroutineEnd")
                                && e.getString("coroutine").equals("failer")) {
                            failerEnded.countDown();
                        }
                    }
                });
            }
            s.onEvent("dev.coro.SchedulerStatistics", e -> {
                // the first sample taken once the program below holds main and the parked waiter only
                if (e.getThread("schedulerThread").getJavaThreadId() == me.threadId() && e.getInt("contexts") == 2
                        && e.getInt("parked") == 1 && statistics.getCount() > 0) {
                    firstStatistics.add(e);
                    statistics.countDown();
                }
            });
            s.startAsync();
            return s;
        }, r -> Thread.ofPlatform().name("recorder").start(r)).get(30, TimeUnit.SECONDS);
        try (rs) {
            Channel<Integer> jobs = new Channel<>("jobs", 0);
            Coroutine.create("receiver", () -> jobs.receive()).switchTo(); // parks on receive
            jobs.send(1);
            Coroutine.yield(); // it runs to its end
            Coroutine failer = Coroutine.create("failer", () -> {
                throw new IllegalStateException("boom");
            });
            assertThatThrownBy(failer::switchTo).isInstanceOf(CoroutineException.class);
            Channel<Integer> never = new Channel<>("never", 0);
            Coroutine waiter = Coroutine.create("waiter", () -> never.receive());
            waiter.switchTo(); // stays parked while the statistics are awaited
            assertThat(failerEnded.await(30, TimeUnit.SECONDS)).as("the failer's end was delivered").isTrue();
            assertThat(statistics.await(30, TimeUnit.SECONDS)).as("statistics were delivered").isTrue();
            waiter.close();
        }
        List<RecordedEvent> seen = List.copyOf(events).stream()
                .filter(e -> !e.getString("coroutine").equals("waiter")).toList();
        assertThat(seen).extracting(e -> e.getEventType().getName().substring(9) + " " + e.getString("coroutine")
                        + " #" + e.getLong("coroutineNumber"))
                .containsExactly("CoroutineStart receiver #1", "Park receiver #1", "CoroutineEnd receiver #1",
                        "CoroutineStart failer #2", "CoroutineEnd failer #2");
        assertThat(seen.get(0).getString("creator")).isEqualTo("main");
        assertThat(seen.get(0).getLong("creatorNumber")).isZero();
        assertThat(seen.get(1).getString("reason")).isEqualTo("channel");
        assertThat(seen.get(1).getString("waitsFor")).isEqualTo("receive from channel 'jobs'");
        assertThat(seen.get(1).getDuration()).isPositive();
        assertThat(seen.get(2).getString("ending")).isEqualTo("FINISHED");
        assertThat(seen.get(2).getString("failure")).isEmpty();
        assertThat(seen.get(4).getString("ending")).isEqualTo("FAILED");
        assertThat(seen.get(4).getString("failure")).isEqualTo("java.lang.IllegalStateException: boom");
        for (RecordedEvent e : seen) {
            assertThat(e.getThread("schedulerThread").getJavaName()).as(e.toString()).isEqualTo(me.getName());
        }
        // the park is committed as the receiver runs again: by its scheduler thread, or on the thread engine
        // by the receiver's own virtual thread
        if (Engines.running().equals("threads")) {
            assertThat(seen.get(1).getThread().isVirtual()).as(seen.get(1).toString()).isTrue();
        } else {
            assertThat(seen.get(1).getThread().getJavaName()).isEqualTo(me.getName());
        }
        RecordedEvent s = firstStatistics.get(0);
        assertThat(s.getThread().getJavaName()).as("committed by JFR's periodic thread").isEqualTo("JFR Periodic Tasks");
        assertThat(s.getString("engine")).isEqualTo(Engines.running());
        assertThat(List.of(s.getInt("contexts"), s.getInt("created"), s.getInt("running"), s.getInt("suspended"),
                s.getInt("parked"), s.getInt("timers"), s.getInt("ioWaits"))).containsExactly(2, 0, 1, 0, 1, 0, 0);
    }

    @Test
    @Timeout(60)
    void theStatisticsOfAThreadIdleInItsEventLoopCountNoneRunningAndItsWaitsParkedWithTheirTimer() throws Exception {
        CompletableFuture<String> release = new CompletableFuture<>();
        CountDownLatch idle = new CountDownLatch(1);
        Thread waiting = Thread.ofPlatform().name("idle-waiter").start(() -> {
            Channel<Integer> never = new Channel<>("never", 0);
            Coroutine parked = Coroutine.create("parked", () -> never.receive());
            Coroutine sleeper = Coroutine.create("sleeper", () -> Coroutine.sleep(Duration.ofHours(1)));
            Coroutine.yield(); // both park
            idle.countDown();
            Coroutine.await(release); // main parks too: the thread waits in its event loop
            parked.close();
            sleeper.close();
        });
        CountDownLatch statistics = new CountDownLatch(1);
        List<RecordedEvent> first = Collections.synchronizedList(new ArrayList<>());
        try (RecordingStream rs = new RecordingStream()) {
            rs.setReuse(false); // the event is kept past its handler (JfrRecordingStreamKeptEventsTest)
            rs.enable("dev.coro.SchedulerStatistics").withPeriod(Duration.ofMillis(10));
            rs.onEvent("dev.coro.SchedulerStatistics", e -> {
                if (e.getThread("schedulerThread").getJavaThreadId() == waiting.threadId() && e.getInt("parked") == 3
                        && statistics.getCount() > 0) {
                    first.add(e);
                    statistics.countDown();
                }
            });
            rs.startAsync();
            assertThat(idle.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(statistics.await(30, TimeUnit.SECONDS)).as("statistics of the idle thread were delivered").isTrue();
        } finally {
            release.complete("go");
            waiting.join();
        }
        RecordedEvent s = first.get(0);
        assertThat(s.getThread("schedulerThread").getJavaName()).isEqualTo("idle-waiter");
        assertThat(List.of(s.getInt("contexts"), s.getInt("created"), s.getInt("running"), s.getInt("suspended"),
                s.getInt("parked"), s.getInt("timers"), s.getInt("ioWaits"))).containsExactly(3, 0, 0, 0, 3, 1, 0);
    }

    @Test
    void aParkShorterThanTheRecordingsThresholdIsNotRecordedAndOneWithAZeroThresholdIs() throws Exception {
        Runnable parkOnce = () -> {
            Channel<Integer> jobs = new Channel<>("jobs", 0);
            Coroutine.create("receiver", () -> jobs.receive()).switchTo(); // parks on receive
            jobs.send(1);
            Coroutine.yield(); // it runs again and ends
        };
        assertThat(JfrEventsTest.record(r -> r.enable("dev.coro.Park").withThreshold(Duration.ofHours(1)), parkOnce,
                "dev.coro.Park")).isEmpty();
        assertThat(JfrEventsTest.record(r -> r.enable("dev.coro.Park").withThreshold(Duration.ZERO), parkOnce,
                "dev.coro.Park")).extracting(e -> e.getString("coroutine")).containsExactly("receiver");
    }

    @Test
    void aRecordingStoppedFromAnotherThreadRecordsNothingMoreWhileAnotherStillRecords() throws Exception {
        Path stoppedFile = Files.createTempFile("coro-test-stopped", ".jfr");
        Path goingOnFile = Files.createTempFile("coro-test-going-on", ".jfr");
        try (Recording stopped = new Recording(); Recording goingOn = new Recording()) {
            for (Recording r : List.of(stopped, goingOn)) {
                r.enable("dev.coro.CoroutineStart");
                r.enable("dev.coro.CoroutineEnd");
            }
            CompletableFuture.runAsync(() -> {
                stopped.start();
                goingOn.start();
            }, r -> Thread.ofPlatform().name("recorder").start(r)).get(30, TimeUnit.SECONDS);
            Coroutine.create("during", () -> { }).switchTo();
            CompletableFuture.runAsync(stopped::stop, r -> Thread.ofPlatform().name("stopper").start(r))
                    .get(30, TimeUnit.SECONDS);
            Coroutine.create("after", () -> { }).switchTo();
            goingOn.stop();
            stopped.dump(stoppedFile);
            goingOn.dump(goingOnFile);
            assertThat(startsAndEnds(stoppedFile)).containsExactly("CoroutineStart during", "CoroutineEnd during");
            assertThat(startsAndEnds(goingOnFile)).containsExactly("CoroutineStart during", "CoroutineEnd during",
                    "CoroutineStart after", "CoroutineEnd after");
        } finally {
            Files.deleteIfExists(stoppedFile);
            Files.deleteIfExists(goingOnFile);
        }
    }

    /** This thread's starts and ends in the recording {@code file}, in the order they were committed. */
    private static List<String> startsAndEnds(Path file) throws Exception {
        long me = Thread.currentThread().threadId();
        return RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().startsWith("dev.coro.Coroutine"))
                .filter(e -> e.getThread("schedulerThread").getJavaThreadId() == me)
                .sorted(java.util.Comparator.comparing(RecordedEvent::getStartTime))
                .map(e -> e.getEventType().getName().substring(9) + " " + e.getString("coroutine"))
                .toList();
    }
}
