package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * On a Java runtime without the module {@code java.management} (an image made by {@code jlink} without it,
 * the library on the class path), coroutines and the blocked-loop detector work, and the first attempt to register
 * the JMX view ({@code -Dcoro.jmx=true}, {@link BlockedLoops#detect}) logs a warning naming the module to add,
 * once in the JVM: neither a later {@link BlockedLoops#detect} nor another thread's first scheduler repeats it;
 * {@link Unloading#release()} has no view to unregister there, and says nothing.
 * Checked in a child JVM whose modules are limited to those the library needs otherwise.
 */
@Tag("child-jvm") // its checks run in a child JVM, which mutation testing does not mutate
class WithoutJavaManagementTest {

    @Test
    @Timeout(120)
    void theLibraryWorksAndTheFirstRegistrationOfTheJmxViewWarnsOnceNamingTheModuleToAdd() throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = List.of(java.toString(), "--limit-modules", "java.base,java.logging,jdk.jfr",
                "-Djava.util.logging.SimpleFormatter.format=%4$s: %5$s%n", "-Dcoro.jmx=true", "-Dcoro.engine=threads",
                "-cp", System.getProperty("java.class.path"), WithoutJavaManagementTest.class.getName());
        Process child = ChildJvmLocale.processBuilder(command).redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(100, TimeUnit.SECONDS)).as("the child JVM ended").isTrue();
        String warning = "WARNING: coro could not register its JMX view: this Java runtime lacks the module java.management;"
                + " add it to the runtime image (jlink --add-modules java.management,...)";
        assertThat(out.lines()).as("it printed:%n%s", out)
                .containsExactly(warning, "ran FINISHED", "detecting PT10S", "detecting PT20S", "another thread ran FINISHED", "released");
        assertThat(child.exitValue()).as("exit status; it printed:%n%s", out).isZero();
    }

    /**
     * The child: runs a coroutine (its first scheduler registers the JMX view, as {@code -Dcoro.jmx=true}
     * asks), then turns the blocked-loop detector on twice (each registers the view), runs a coroutine on
     * another thread, turns the detector off, and releases the library.
     *
     * @param args ignored
     * @throws InterruptedException if interrupted while waiting for the other thread
     */
    public static void main(String[] args) throws InterruptedException {
        Coroutine c = Coroutine.create("worker", () -> { });
        c.switchTo();
        System.out.println("ran " + c.state());
        BlockedLoops.detect(Duration.ofSeconds(10));
        System.out.println("detecting " + BlockedLoops.threshold().orElseThrow());
        BlockedLoops.detect(Duration.ofSeconds(20));
        System.out.println("detecting " + BlockedLoops.threshold().orElseThrow());
        Thread other = Thread.ofPlatform().start(() -> {
            Coroutine o = Coroutine.create("other", () -> { });
            o.switchTo();
            System.out.println("another thread ran " + o.state());
        });
        other.join();
        BlockedLoops.stop();
        Unloading.release(); // no view to unregister: nothing to say
        System.out.println("released");
    }
}
