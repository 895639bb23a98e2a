package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
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

/**
 * A recording a program starts itself before the JVM's first scheduler exists (so before coro has added
 * its statistics hook to Flight Recorder) records coro's events: the starts, ends and parks from the first
 * coroutine on, and the periodic statistics once JFR's periodic thread picks up the hook added meanwhile.
 * Run in a child JVM, where no scheduler was made before the recording started.
 */
class JfrRecordingStartedBeforeFirstSchedulerTest {

    @Test
    @Timeout(120)
    void aRecordingStartedBeforeTheFirstSchedulerRecordsStartsEndsParksAndThenTheStatistics() throws Exception {
        List<String> command = new ArrayList<>(List.of(
                java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-exports")) {
                command.add(a); // the continuation engine's flag, as the build passed it
            }
        }
        command.addAll(List.of("-Dcoro.engine=" + System.getProperty("coro.engine", "auto"),
                "-cp", System.getProperty("java.class.path"), RecordsFromBeforeTheFirstScheduler.class.getName()));
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(1, TimeUnit.MINUTES)).as("the child JVM ended").isTrue();
        assertThat(out).as("it printed:%n%s", out).isEqualTo("""
                before: no scheduler yet
                CoroutineStart first #1 by main #0
                Park first #1 channel: receive from channel 'jobs'
                CoroutineEnd first #1 FINISHED
                statistics of main: engine %s, 2 contexts, 1 running, 1 parked
                """.formatted(Engines.running()));
        assertThat(child.exitValue()).as("exit status; it printed:%n%s", out).isZero();
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
                System.out.println(gotEnd ? firstStatistics.isEmpty() ? "no statistics within 30 s" : firstStatistics.get(0)
                        : "no end within 30 s");
                if (!gotStatistics) {
                    System.out.println("no statistics within 30 s");
                }
            }
        }

        private static String statisticsLine(RecordedEvent e) {
            return "statistics of " + e.getThread("schedulerThread").getJavaName() + ": engine " + e.getString("engine")
                    + ", " + e.getInt("contexts") + " contexts, " + e.getInt("running") + " running, "
                    + e.getInt("parked") + " parked";
        }
    }
}
