package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A program that never records pays what OBSERVING.md says: parks, creations and ends of bodies read
 * one field ({@link Monitoring#jfr}, false) and load none of coro's event classes, nor JFR's metadata;
 * the first recording the program starts loads and registers them, and its parks are recorded. Run in
 * a child JVM whose class loading is logged, where nothing initialized Flight Recorder before.
 */
@Tag("child-jvm") // its checks run in a child JVM, which mutation testing does not mutate
class JfrEventClassesUnloadedUntilARecordingTest {

    private static final List<String> EVENTS = List.of("dev.coro.Park", "dev.coro.CoroutineStart",
            "dev.coro.CoroutineEnd", "dev.coro.SchedulerStatistics", "dev.coro.BlockedLoop");

    @Test
    @Timeout(120)
    void noEventClassNorJfrsMetadataIsLoadedUntilTheProgramStartsARecordingThatThenRecordsItsParks() throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-exports")) {
                command.add(a); // the continuation engine's flag, as the build passed it
            }
        }
        command.addAll(List.of("-Dcoro.engine=" + System.getProperty("coro.engine", "auto"), "-Xlog:class+load=info:stdout",
                "-cp", System.getProperty("java.class.path"), ParksThenRecords.class.getName()));
        Process child = ChildJvmLocale.processBuilder(command).redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(1, TimeUnit.MINUTES)).as("the child JVM ended").isTrue();
        assertThat(child.exitValue()).as("exit status; it printed:%n%s", out).isZero();
        int marker = out.indexOf("recording starts\n");
        assertThat(marker).as("it printed:%n%s", out).isPositive();
        String before = out.substring(0, marker);
        String after = out.substring(marker);
        for (String event : EVENTS) {
            assertThat(before).as("loaded before any recording").doesNotContain(" " + event + " source:");
            assertThat(after).as("loaded once a recording started").contains(" " + event + " source:");
        }
        assertThat(before).as("JFR's metadata before any recording")
                .doesNotContain(" jdk.jfr.internal.MetadataRepository source:")
                .contains("Monitoring.jfr after parks, creations and ends: false\n");
        assertThat(after).contains("Monitoring.jfr once recording: true\n")
                .contains("recorded: 'sleeper' sleep, main join\n");
    }

    /** Parks, creates and ends coroutines without a recording, then again under one it starts. */
    static final class ParksThenRecords {
        public static void main(String[] args) throws Exception {
            Channel<Integer> jobs = new Channel<>("jobs", 0);
            Coroutine.create("receiver", () -> jobs.receive()).switchTo(); // parks on receive
            jobs.send(1);
            Coroutine.yield(); // it runs to its end
            Coroutine.sleep(Duration.ofMillis(1)); // main parks alone
            System.out.println("Monitoring.jfr after parks, creations and ends: " + Monitoring.jfr);
            System.out.println("recording starts");
            Path file = Files.createTempFile("coro-test-off", ".jfr");
            try (Recording r = new Recording()) {
                r.enable("dev.coro.Park").withThreshold(Duration.ZERO);
                r.start();
                System.out.println("Monitoring.jfr once recording: " + Monitoring.jfr);
                Coroutine sleeper = Coroutine.create("sleeper", () -> Coroutine.sleep(Duration.ofMillis(1)));
                sleeper.join(); // main parks for it, it parks in its sleep
                r.stop();
                r.dump(file);
                List<String> parks = new ArrayList<>();
                for (var e : RecordingFile.readAllEvents(file)) {
                    if (e.getEventType().getName().equals("dev.coro.Park")
                            && e.getThread("schedulerThread").getJavaThreadId() == Thread.currentThread().threadId()) {
                        parks.add(e.getString("coroutine").equals("main") ? "main " + e.getString("reason")
                                : "'" + e.getString("coroutine") + "' " + e.getString("reason"));
                    }
                }
                System.out.println("recorded: " + String.join(", ", parks));
            } finally {
                Files.deleteIfExists(file);
            }
        }
    }
}
