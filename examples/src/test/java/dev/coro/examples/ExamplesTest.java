package dev.coro.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each example prints exactly its golden file, the C runtime's output. CI runs this once per
 * engine; {@link #theExamplesRunOnTheEngineTheBuildAskedFor()} shows which one ran.
 */
class ExamplesTest {

    private static final Path GOLDEN = Path.of(System.getProperty("coro.example.golden.dir"));

    static Stream<String> names() {
        return Examples.ALL.keySet().stream();
    }

    @ParameterizedTest
    @MethodSource("names")
    void anExamplePrintsItsGoldenFile(String name) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            onFreshThread(() -> Examples.ALL.get(name).accept(out));
        }
        assertThat(bytes.toString(StandardCharsets.UTF_8)).isEqualTo(golden(name));
    }

    @Test
    void everyGoldenFileHasAnExample() throws IOException {
        try (Stream<Path> files = Files.list(GOLDEN)) {
            assertThat(files.map(f -> f.getFileName().toString().replaceFirst("\\.txt$", "")))
                    .containsExactlyInAnyOrderElementsOf(Examples.ALL.keySet());
        }
    }

    @Test
    void theExamplesRunOnTheEngineTheBuildAskedFor() throws Exception {
        AtomicReference<Thread> owner = new AtomicReference<>();
        AtomicReference<Thread> body = new AtomicReference<>();
        onFreshThread(() -> {
            owner.set(Thread.currentThread());
            Coroutine.create("probe", () -> body.set(Thread.currentThread())).switchTo();
        });
        String asked = System.getProperty("coro.engine", "auto");
        boolean exported = Object.class.getModule().isExported("jdk.internal.vm", Coroutine.class.getModule());
        if (asked.equals("threads") || asked.equals("auto") && !exported) {
            assertThat(body.get()).isNotSameAs(owner.get());
            assertThat(body.get().isVirtual()).isTrue();
        } else {
            assertThat(body.get()).isSameAs(owner.get());
        }
    }

    private static String golden(String name) throws IOException {
        return Files.readString(GOLDEN.resolve(name + ".txt"), StandardCharsets.UTF_8);
    }

    /** Runs {@code r} on a new platform thread (a fresh run list) and rethrows what it threw. */
    private static void onFreshThread(Runnable r) throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                r.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "example");
        t.start();
        t.join();
        if (failure.get() instanceof Exception e) {
            throw e;
        } else if (failure.get() instanceof Error e) {
            throw e;
        }
    }
}
