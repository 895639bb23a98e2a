package dev.coro.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * Every registered example prints, byte for byte, its golden file: for the C runtime's three
 * examples, what the C runtime printed (kept in the test resources under {@code golden/}).
 * CI runs this once per engine; {@link #theExamplesRunOnTheEngineTheBuildAskedFor()} shows which ran.
 */
class ExamplesTest {

    /** The names of every registered example; each has a golden file. */
    static final Iterable<String> NAMES = Examples.ALL.keySet();

    @ParameterizedTest(name = "{0} prints its golden file")
    @FieldSource("NAMES")
    void examplePrintsItsGoldenFile(String name) throws Exception {
        assertThat(runOnFreshThread(name)).as("output of %s", name).isEqualTo(golden(name));
    }

    @Test
    void theExamplesRunOnTheEngineTheBuildAskedFor() throws Exception {
        AtomicReference<Thread> owner = new AtomicReference<>();
        AtomicReference<Thread> body = new AtomicReference<>();
        Thread t = new Thread(() -> {
            owner.set(Thread.currentThread());
            Coroutine.create("probe", () -> body.set(Thread.currentThread())).switchTo();
        });
        t.start();
        t.join();
        String asked = System.getProperty("coro.engine", "auto");
        boolean exported = Object.class.getModule().isExported("jdk.internal.vm", Coroutine.class.getModule());
        if (asked.equals("threads") || asked.equals("auto") && !exported) {
            assertThat(body.get()).isNotSameAs(owner.get());
            assertThat(body.get().isVirtual()).isTrue();
        } else {
            assertThat(body.get()).isSameAs(owner.get());
        }
    }

    /** Runs the example on a thread of its own, so it starts with an empty run list. */
    static String runOnFreshThread(String name) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
                Examples.ALL.get(name).accept(out);
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "example-" + name);
        t.start();
        t.join();
        if (failure.get() != null) {
            throw new AssertionError("example " + name + " threw", failure.get());
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** The golden file of the example {@code name}: what it must print, byte for byte. */
    static String golden(String name) throws IOException {
        try (InputStream in = ExamplesTest.class.getResourceAsStream("/golden/" + name + ".txt")) {
            assertThat(in).as("golden file golden/%s.txt", name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
