package dev.coro.bench;

import dev.coro.Coroutine;
import java.util.Locale;
import jdk.internal.vm.Continuation;
import jdk.internal.vm.ContinuationScope;

/**
 * The simplest possible measurement of a switch, no harness: two coroutines switch to each other
 * {@value #SWITCHES} times, then two raw continuations do the same through a trampoline loop; five
 * rounds, each printing ns per one-way transfer and the ratio. A sanity check beside the JMH suite.
 *
 * <p>Run: {@code benchmarks/run.sh loop}.
 */
public final class SwitchLoop {
    private static final int SWITCHES = 20_000_000;
    private static final ContinuationScope SCOPE = new ContinuationScope("loop");
    private static Continuation next;

    private SwitchLoop() {
    }

    /**
     * Prints five rounds of both loops.
     *
     * @param args ignored
     * @throws InterruptedException if interrupted while waiting for the coroutines' thread
     */
    public static void main(String[] args) throws InterruptedException {
        for (int round = 0; round < 5; round++) {
            long coro = coroLoop();
            long raw = rawLoop();
            System.out.printf(Locale.ROOT, "coro switchTo: %.1f ns/switch   raw trampoline: %.1f ns/switch   ratio %.2f%n",
                    coro / (double) SWITCHES, raw / (double) SWITCHES, (double) coro / raw);
        }
    }

    /** Nanoseconds for SWITCHES one-way transfers between two coroutines, on a fresh thread. */
    private static long coroLoop() throws InterruptedException {
        long[] elapsed = new long[1];
        Thread t = new Thread(() -> {
            Coroutine[] co = new Coroutine[2];
            co[0] = Coroutine.create(() -> {
                for (int i = 0; i < SWITCHES / 2; i++) {
                    co[1].switchTo();
                }
            });
            co[1] = Coroutine.create(() -> {
                while (true) {
                    co[0].switchTo();
                }
            });
            long t0 = System.nanoTime();
            co[0].switchTo();
            elapsed[0] = System.nanoTime() - t0;
            co[1].close();
        });
        t.start();
        t.join();
        return elapsed[0];
    }

    /** Nanoseconds for SWITCHES one-way transfers between two raw continuations via a trampoline. */
    private static long rawLoop() {
        Continuation[] c = new Continuation[2];
        c[0] = new Continuation(SCOPE, () -> {
            for (int i = 0; i < SWITCHES / 2; i++) {
                next = c[1];
                Continuation.yield(SCOPE);
            }
            next = null;
        });
        c[1] = new Continuation(SCOPE, () -> {
            while (true) {
                next = c[0];
                Continuation.yield(SCOPE);
            }
        });
        long t0 = System.nanoTime();
        next = c[0];
        for (Continuation x; (x = next) != null; ) {
            x.run();
        }
        return System.nanoTime() - t0;
    }
}
