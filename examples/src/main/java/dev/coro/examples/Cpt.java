package dev.coro.examples;

import dev.coro.Coroutine;
import java.io.PrintStream;
import java.util.Locale;

/**
 * The C runtime's {@code cpt} example: two counters interleaving through {@link Coroutine#yield()}.
 *
 * <p>Main creates {@code ctx1} (count 10), then {@code ctx2} (count 25), then yields until both
 * are finished. Yield runs the previous index, so {@code ctx2} runs first; when {@code ctx1}
 * finishes, {@code ctx2} is swap-removed into index 1, which its lines show.
 */
public final class Cpt {
    private final PrintStream out;

    private Cpt(PrintStream out) {
        this.out = out;
    }

    /**
     * Runs the example on the calling thread, printing to {@code out}.
     *
     * @param out where the lines go
     */
    public static void run(PrintStream out) {
        new Cpt(out).main();
    }

    /**
     * Runs the example, printing to standard output.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        run(System.out);
    }

    private void count(int count) {
        for (int i = 0; i < count; i++) {
            out.printf(Locale.ROOT, "[%s |%3d] i = %d%n", Coroutine.current().name(), Coroutine.currentId(), i);
            Coroutine.yield();
        }
    }

    private void main() {
        Coroutine a = Coroutine.create("ctx1", this::count, 10);
        Coroutine b = Coroutine.create("ctx2", this::count, 25);
        while (!a.isFinished() || !b.isFinished()) {
            Coroutine.yield();
        }
        a.close();
        b.close();
    }
}
