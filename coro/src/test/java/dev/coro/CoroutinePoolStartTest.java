package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A pool whose threads cannot start a scheduler (no engine can run) refuses to start, naming the
 * reason, instead of taking bodies it can never run. Checked in a child JVM with
 * {@code -Dcoro.engine=continuation} and without the exports flag.
 */
@Tag("child-jvm") // its checks run in a child JVM, which mutation testing does not mutate
class CoroutinePoolStartTest {

    @Test
    void aPoolWithoutAnEngineRefusesToStartNamingTheFlag() throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = List.of(java.toString(), "-Dcoro.engine=continuation",
                "-cp", System.getProperty("java.class.path"), CoroutinePoolStartTest.class.getName());
        Process child = ChildJvmLocale.processBuilder(command).redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(5, TimeUnit.MINUTES)).as("the child JVM ended").isTrue();
        assertThat(out).matches("(?s)refused: thread 'main' \\(#\\d+\\) cannot start coro-pool-1: its thread coro-pool-1-0 could not"
                + " start a scheduler: cannot use the continuation engine asked for by -Dcoro.engine='continuation': add the JVM"
                + " flag --add-exports java.base/jdk.internal.vm=ALL-UNNAMED.*");
        assertThat(child.exitValue()).as("exit status; it printed:%n%s", out).isZero();
    }

    /**
     * The child: starts a pool of two threads, prints what became of it.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        try {
            CoroutinePool pool = CoroutinePool.start(2);
            System.out.println("started " + pool);
            pool.close();
        } catch (IllegalStateException e) {
            System.out.println("refused: " + e.getMessage());
        }
    }
}
