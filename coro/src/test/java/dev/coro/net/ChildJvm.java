package dev.coro.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.ChildJvmLocale;
import dev.coro.Coroutine;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A second JVM running a test's {@code main} on the library as this one sees it (same {@code java},
 * same classes, same engine and exports flag), for what one JVM cannot do to itself: run with fewer
 * file descriptors, or hold more sockets than one process may.
 */
final class ChildJvm {

    /** How the child ended: its exit code and every line it printed (standard output and error). */
    record Result(int exitCode, List<String> lines) {
        /** The output, one line each, for assertion messages. */
        String output() {
            return String.join("\n", lines);
        }

        /** Asserts that the child exited with 0, its output shown if not; this result. */
        Result succeeded() {
            assertThat(exitCode).as("the child's exit code; its output:\n%s", output()).isZero();
            return this;
        }

        /**
         * The rest of the first line that starts with {@code prefix} (a value the child printed, a port say;
         * without the exports flag the engine's one-time warning comes before the child's own lines); asserts
         * that there is one.
         */
        String after(String prefix) {
            String line = lines.stream().filter(l -> l.startsWith(prefix)).findFirst().orElse(null);
            assertThat(line).as("a line starting with '%s'; the output:\n%s", prefix, output()).isNotNull();
            return line.substring(prefix.length());
        }
    }

    private ChildJvm() {
    }

    /**
     * Runs {@code main} in a child JVM with {@code jvmArgs} and {@code args}, under a shell that
     * first runs {@code limits} (e.g. {@code ulimit -n 64}; empty for none), and waits for it to end.
     *
     * @param guard how long to let it run: a guard against a hang, after which it is killed and this fails
     */
    static Result run(String limits, Class<?> main, List<String> jvmArgs, List<String> args, Duration guard)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("sh");
        command.add("-c");
        command.add((limits.isEmpty() ? "" : limits + " && ") + "exec \"$@\"");
        command.add("sh");
        command.add(ProcessHandle.current().info().command().orElse(
                Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-exports")) {
                command.add(a); // the continuation engine's flag, as the build passed it
            }
        }
        command.add("-Dcoro.engine=" + System.getProperty("coro.engine", "auto"));
        command.addAll(jvmArgs);
        command.add("-cp");
        command.add(location(Coroutine.class) + java.io.File.pathSeparator + location(main));
        command.add(main.getName());
        command.addAll(args);

        Process p = ChildJvmLocale.processBuilder(command).redirectErrorStream(true).start();
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        Thread reader = Thread.ofPlatform().daemon(true).name("child-output").start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("(reading the child's output failed: " + e + ")");
            }
        });
        if (!p.waitFor(guard.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly().waitFor();
            reader.join();
            throw new AssertionError("the child JVM ran longer than " + guard + " and was killed; its output:\n"
                    + String.join("\n", lines) + "\ncommand: " + command);
        }
        reader.join();
        return new Result(p.exitValue(), List.copyOf(lines));
    }

    /** The class-path entry (directory or jar) that {@code c} was loaded from. */
    private static String location(Class<?> c) {
        try {
            return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
