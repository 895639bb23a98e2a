package dev.coro.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each example prints, byte for byte, what the C runtime's example printed (the golden files,
 * copied from {@code shared/golden} into this module's test resources).
 */
class ExamplesTest {

    @ParameterizedTest(name = "{0} prints its golden file")
    @ValueSource(strings = {"cpt", "ping_pong", "producer_consumer"})
    void theExamplePrintsItsGoldenFileByteForByte(String name) throws Exception {
        assertThat(runOnFreshThread(Examples.ALL.get(name))).isEqualTo(golden(name));
    }

    /** Runs an example on a new thread (a fresh scheduler) and returns what it printed. */
    static String runOnFreshThread(Consumer<PrintStream> example) throws InterruptedException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
                example.accept(out);
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.start();
        t.join();
        assertThat(failure.get()).isNull();
        // the C runtime printed "\n"; PrintStream.printf("%n") is "\n" on Linux, normalise elsewhere
        return bytes.toString(StandardCharsets.UTF_8).replace(System.lineSeparator(), "\n");
    }

    static String golden(String name) throws IOException {
        try (InputStream in = ExamplesTest.class.getResourceAsStream("/golden/" + name + ".txt")) {
            assertThat(in).as("golden file for " + name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
