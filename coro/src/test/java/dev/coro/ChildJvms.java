package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM running a test's {@code main} on this JVM's whole test class path, with its engine and its
 * exports flag: for a check this JVM cannot make of itself (a recording from before the first scheduler,
 * more carrier threads than it has).
 */
final class ChildJvms {

    private ChildJvms() {
    }

    /**
     * Runs {@code main} in a child JVM given {@code jvmArgs} as well, and asserts that it ended within a
     * minute (it is killed otherwise: a hang in it must fail the test, not hang it) with exit status 0.
     *
     * @return what it printed, standard output and error in one
     */
    static String run(Class<?> main, String... jvmArgs) throws IOException, InterruptedException {
        List<String> flags = new ArrayList<>();
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-exports")) {
                flags.add(a); // the continuation engine's flag, as the build passed it
            }
        }
        flags.add("-Dcoro.engine=" + System.getProperty("coro.engine", "auto"));
        flags.addAll(List.of(jvmArgs));
        return runWithOnly(main, flags);
    }

    /**
     * {@link #run}, the child given {@code flags} only: neither this JVM's exports flag nor its engine (a check of
     * what the library does without them).
     */
    static String runWithOnly(Class<?> main, List<String> flags) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(flags);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        Path output = Files.createTempFile("coro-child-jvm", ".txt");
        try {
            Process child = ChildJvmLocale.processBuilder(command).redirectErrorStream(true)
                    .redirectOutput(output.toFile()).start();
            boolean ended = child.waitFor(1, TimeUnit.MINUTES);
            if (!ended) {
                child.destroyForcibly().waitFor();
            }
            String out = Files.readString(output, StandardCharsets.UTF_8);
            assertThat(ended).as("the child JVM ended; it printed:%n%s", out).isTrue();
            assertThat(child.exitValue()).as("exit status; it printed:%n%s", out).isZero();
            return out;
        } finally {
            Files.deleteIfExists(output);
        }
    }
}
