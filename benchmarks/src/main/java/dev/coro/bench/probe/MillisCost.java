package dev.coro.bench.probe;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Locale;

/**
 * The cost of a duration's text, as a dump, a timeout's signal and every recorded park event write it:
 * the library's {@code EventLoop.millis} (package-private, reached through a private lookup) against
 * {@code String.format(Locale.ROOT, "%,.3f ms", nanos / 1e6)}, the text it reproduces, on the same
 * durations, in rounds that alternate the two, each side after a collection.
 *
 * <p>Run: {@code benchmarks/run.sh probe MillisCost [calls]} (200,000 a side a round by default; five
 * rounds, the first warming up).
 */
public final class MillisCost {

    /** {@code EventLoop.millis}, a constant so that the JIT calls it directly. */
    private static final MethodHandle MILLIS;

    static {
        try {
            Class<?> loop = Class.forName("dev.coro.EventLoop");
            MILLIS = MethodHandles.privateLookupIn(loop, MethodHandles.lookup())
                    .findStatic(loop, "millis", MethodType.methodType(String.class, long.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private MillisCost() {
    }

    /**
     * Prints one line per round.
     *
     * @param args optionally the calls per round and side
     * @throws Throwable never in practice (the library's method throws nothing checked)
     */
    public static void main(String[] args) throws Throwable {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        long sink = 0;
        for (int round = 1; round <= 5; round++) {
            System.gc(); // the formatter's garbage is collected here, not inside a timed loop
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                sink += ((String) MILLIS.invokeExact(i * 7_919_123L)).length();
            }
            long t1 = System.nanoTime();
            System.gc();
            long t1b = System.nanoTime();
            for (int i = 0; i < n; i++) {
                sink += String.format(Locale.ROOT, "%,.3f ms", i * 7_919_123L / 1e6).length();
            }
            long t2 = System.nanoTime();
            System.out.printf(Locale.ROOT, "round %d: written out %.0f ns, String.format %.0f ns per call%s%n", round,
                    (t1 - t0) / (double) n, (t2 - t1b) / (double) n, round == 1 ? " (warm-up)" : "");
        }
        if (sink == 42) {
            System.out.println(sink); // keeps the texts from being optimized away
        }
    }
}
