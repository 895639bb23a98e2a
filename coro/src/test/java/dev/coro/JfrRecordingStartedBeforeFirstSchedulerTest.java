package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import jdk.jfr.consumer.RecordingStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A recording a program starts itself before the JVM's first scheduler exists (so before coro has added
 * its statistics hook to Flight Recorder) records coro's events: the starts, ends and parks from the first
 * coroutine on, and the periodic statistics once JFR's periodic thread picks up the hook added meanwhile
 * (with the default period, {@code everyChunk}, only those of its end, and none if it is written at the
 * JVM's exit, when main's thread has ended).
 * Run in a child JVM, where no scheduler was made before the recording started.
 */
@Tag("child-jvm") // its checks run in a child JVM, which mutation testing does not mutate
class JfrRecordingStartedBeforeFirstSchedulerTest {

    @Test
    @Timeout(120)
    void aRecordingStartedBeforeTheFirstSchedulerRecordsStartsEndsParksAndThenTheStatistics() throws Exception {
        String out = ChildJvms.run(RecordsFromBeforeTheFirstScheduler.class);
        assertThat(out).as("it printed:%n%s", out).isEqualTo("""
                before: no scheduler yet
                CoroutineStart first #1 by main #0
                Park first #1 channel: receive from channel 'jobs'
                CoroutineEnd first #1 FINISHED
                statistics of main: engine %s, 2 contexts, 1 running, 1 parked
                """.formatted(Engines.running()));
    }

    /**
     * With the statistics' default period, {@code everyChunk}, a recording started before the first scheduler
     * has the statistics of its chunk's end but not of its start, when the hook was not there yet: whenever the
     * periodic thread picks the hook up, since that period has nothing between the two.
     */
    @Test
    @Timeout(120)
    void withTheDefaultPeriodARecordingStartedBeforeTheFirstSchedulerHasTheStatisticsOfItsEndOnly() throws Exception {
        String out = ChildJvms.run(RecordsEveryChunkFromBeforeTheFirstScheduler.class);
        assertThat(out).as("it printed:%n%s", out).isEqualTo("""
                statistics of main: 1, at its end, with 2 contexts
                """);
    }

    /**
     * {@code -XX:StartFlightRecording} with the JDK's settings, its coro events at their defaults: the recording
     * began before the first scheduler, and is written at the JVM's exit, when main's thread has ended, so
     * the sample of its chunk's end finds no live scheduler thread either: a short program has its parks and no
     * statistics.
     */
    @Test
    @Timeout(120)
    void aShortProgramUnderStartFlightRecordingWithTheDefaultPeriodHasItsParksAndNoStatistics() throws Exception {
        Path file = Files.createTempFile("coro-test-start-flight-recording", ".jfr");
        try {
            String out = ChildJvms.run(ParksAndEnds.class, "-XX:StartFlightRecording:settings=default,filename=" + file);
            List<String> coro = RecordingFile.readAllEvents(file).stream()
                    .filter(e -> e.getEventType().getName().startsWith("dev.coro."))
                    .map(e -> e.getEventType().getName() + (e.getEventType().getName().equals("dev.coro.Park")
                            ? " " + e.getString("coroutine") + " " + e.getString("reason") : ""))
                    .sorted().toList();
            assertThat(coro).as("it printed:%n%s", out).containsExactly("dev.coro.Park main sleep", "dev.coro.Park parker sleep");
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Parks main and a coroutine past the default threshold of 20 ms, then ends. */
    static final class ParksAndEnds {
        public static void main(String[] args) {
            Coroutine.create("parker", () -> Coroutine.sleep(Duration.ofMillis(30))).switchTo();
            Coroutine.sleep(Duration.ofMillis(60)); // the parker's sleep ends first
        }
    }

    /**
     * Starts a recording of the statistics at their default period, then makes the JVM's first scheduler
     * with a coroutine parked, stops the recording and prints the statistics it has of main.
     */
    static final class RecordsEveryChunkFromBeforeTheFirstScheduler {
        public static void main(String[] args) throws Exception {
            Path file = Files.createTempFile("coro-test-every-chunk", ".jfr");
            try {
                try (Recording r = new Recording()) {
                    r.enable("dev.coro.SchedulerStatistics");
                    r.start();
                    Channel<Integer> never = new Channel<>("never", 0);
                    Coroutine waiter = Coroutine.create("waiter", () -> never.receive());
                    waiter.switchTo(); // parked: main and it live
                    r.stop();
                    r.dump(file);
                    waiter.close();
                }
                long me = Thread.currentThread().threadId();
                List<RecordedEvent> stats = RecordingFile.readAllEvents(file).stream()
                        .filter(e -> e.getEventType().getName().equals("dev.coro.SchedulerStatistics"))
                        .filter(e -> e.getThread("schedulerThread").getJavaThreadId() == me)
                        .toList();
                System.out.println("statistics of main: " + stats.size() + (stats.size() == 1
                        ? ", at its end, with " + stats.get(0).getInt("contexts") + " contexts" : ": " + stats));
            } finally {
                Files.deleteIfExists(file);
            }
        }
    }

    /**
     * Starts a recording stream of coro's events, then makes the JVM's first scheduler: a coroutine that
     * parks, is woken and ends, then one that stays parked while the statistics are awaited.
     */
    static final class RecordsFromBeforeTheFirstScheduler {
        public static void main(String[] args) throws Exception {
            List<String> seen = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch ended = new CountDownLatch(1);
            CountDownLatch statistics = new CountDownLatch(1);
            List<String> firstStatistics = Collections.synchronizedList(new ArrayList<>());
            Thread main = Thread.currentThread();
            try (RecordingStream rs = new RecordingStream()) {
                rs.enable("dev.coro.CoroutineStart");
                rs.enable("dev.coro.CoroutineEnd");
                rs.enable("dev.coro.Park").withThreshold(Duration.ZERO);
                rs.enable("dev.coro.SchedulerStatistics").withPeriod(Duration.ofMillis(10));
                rs.onEvent("dev.coro.CoroutineStart", e -> {
                    if (e.getString("coroutine").equals("first")) {
                        seen.add("CoroutineStart first #" + e.getLong("coroutineNumber") + " by " + e.getString("creator")
                                + " #" + e.getLong("creatorNumber"));
                    }
                });
                rs.onEvent("dev.coro.Park", e -> {
                    if (e.getString("coroutine").equals("first")) {
                        seen.add("Park first #" + e.getLong("coroutineNumber") + " " + e.getString("reason") + ": "
                                + e.getString("waitsFor"));
                    }
                });
                rs.onEvent("dev.coro.CoroutineEnd", e -> {
                    if (e.getString("coroutine").equals("first")) {
                        seen.add("CoroutineEnd first #" + e.getLong("coroutineNumber") + " " + e.getString("ending"));
                        ended.countDown();
                    }
                });
                rs.onEvent("dev.coro.SchedulerStatistics", e -> {
                    if (statistics.getCount() > 0 && e.getThread("schedulerThread").getJavaThreadId() == main.threadId()
                            && e.getInt("contexts") == 2) {
                        firstStatistics.add(statisticsLine(e));
                        statistics.countDown();
                    }
                });
                rs.startAsync();
                System.out.println("before: " + (Monitoring.live().isEmpty() ? "no scheduler yet" : "a scheduler exists"));
                Channel<Integer> jobs = new Channel<>("jobs", 0);
                Coroutine.create("first", () -> jobs.receive()).switchTo(); // parks on receive
                jobs.send(1);
                Coroutine.yield(); // it runs to its end
                Channel<Integer> never = new Channel<>("never", 0);
                Coroutine.create("waiter", () -> never.receive()).switchTo(); // stays parked: main and it live
                boolean gotEnd = ended.await(30, TimeUnit.SECONDS);
                boolean gotStatistics = statistics.await(30, TimeUnit.SECONDS);
                for (String s : List.copyOf(seen)) {
                    System.out.println(s);
                }
                if (!gotEnd) {
                    System.out.println("no end within 30 s");
                }
                System.out.println(gotStatistics ? firstStatistics.get(0) : "no statistics within 30 s");
            }
        }

        private static String statisticsLine(RecordedEvent e) {
            return "statistics of " + e.getThread("schedulerThread").getJavaName() + ": engine " + e.getString("engine")
                    + ", " + e.getInt("contexts") + " contexts, " + e.getInt("running") + " running, "
                    + e.getInt("parked") + " parked";
        }
    }
}
