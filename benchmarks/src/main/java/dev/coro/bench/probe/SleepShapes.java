package dev.coro.bench.probe;

import dev.coro.Coroutine;
import dev.coro.VirtualTime;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * What a sleep under virtual time costs depending on how the sleeps fall: 100,000 sleeps per run in
 * several shapes, taken in turn in one JVM so that load hits every shape alike, and the median and
 * fastest of the second half of the runs per shape, in ns per sleep (per yield for the first).
 * <ul>
 *   <li>{@code yield}: 1,000 coroutines × 100 yields, the baseline of {@code VirtualTimeDelayBenchmark};</li>
 *   <li>{@code random 1-100 ms}: 1,000 × 100 sleeps of pseudo-random whole milliseconds (that
 *       benchmark's sleeps): about 20 timers due at each jump of the clock, woken in no relation to
 *       where their coroutines lie in memory;</li>
 *   <li>{@code all 1 ms}: 1,000 × 100 sleeps of 1 ms: every jump wakes all 1,000, in the order they
 *       slept, which is the run list's;</li>
 *   <li>{@code distinct deadlines}: the random sleeps, each coroutine's shifted by its own few
 *       nanoseconds, so that nearly every jump wakes one coroutine;</li>
 *   <li>{@code one sleeper} and {@code ten sleepers}: the random sleeps shared among 1 and 10
 *       coroutines (every sleep a jump, or nearly).</li>
 * </ul>
 *
 * <p>Run: {@code benchmarks/run.sh probe SleepShapes [runs]} (40 by default).
 */
public final class SleepShapes {

    private static final int TOTAL = 100_000;

    private SleepShapes() {
    }

    /**
     * Prints one line per shape.
     *
     * @param args optionally the number of runs of each shape
     */
    public static void main(String[] args) {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 40;
        int[] millis = new SplittableRandom(42).ints(TOTAL, 1, 101).toArray();
        Duration[] random = shared(millis, 0);
        Duration[] oneMilli = new Duration[TOTAL];
        Arrays.fill(oneMilli, Duration.ofMillis(1));
        Duration[] distinct = shared(millis, 1);
        String[] names = {"yield", "random 1-100 ms", "all 1 ms", "distinct deadlines", "one sleeper", "ten sleepers"};
        double[][] ns = new double[names.length][runs];
        for (int r = 0; r < runs; r++) {
            for (int shape = 0; shape < names.length; shape++) {
                long t0 = System.nanoTime();
                switch (shape) {
                    case 0 -> yielders(1000, TOTAL / 1000);
                    case 1 -> sleepers(random, 1000);
                    case 2 -> sleepers(oneMilli, 1000);
                    case 3 -> sleepers(distinct, 1000);
                    case 4 -> sleepers(random, 1);
                    default -> sleepers(random, 10);
                }
                ns[shape][r] = (double) (System.nanoTime() - t0) / TOTAL;
            }
        }
        for (int shape = 0; shape < names.length; shape++) {
            double[] late = Arrays.copyOfRange(ns[shape], runs / 2, runs);
            Arrays.sort(late);
            System.out.printf(Locale.ROOT, "%-20s median %7.1f ns, fastest %7.1f ns per op%n", names[shape],
                    late[late.length / 2], late[0]);
        }
    }

    /**
     * The table as durations, one object per distinct value; with {@code spread} 1, entry {@code i}
     * (of coroutine {@code i / 100}) gets that coroutine's number plus one in nanoseconds added.
     */
    private static Duration[] shared(int[] millis, int spread) {
        Duration[] d = new Duration[millis.length];
        java.util.Map<Long, Duration> distinct = new java.util.HashMap<>();
        for (int i = 0; i < millis.length; i++) {
            long nanos = millis[i] * 1_000_000L + (long) spread * (i / 100 + 1);
            d[i] = distinct.computeIfAbsent(nanos, Duration::ofNanos);
        }
        return d;
    }

    /** In {@code VirtualTime.run}: {@code coroutines} coroutines, each sleeping its slice of {@code table} in turn. */
    private static void sleepers(Duration[] table, int coroutines) {
        int each = table.length / coroutines;
        VirtualTime.run(() -> {
            for (int c = 0; c < coroutines; c++) {
                int base = c * each;
                Coroutine.create(() -> {
                    for (int k = 0; k < each; k++) {
                        Coroutine.sleep(table[base + k]);
                    }
                });
            }
        });
    }

    /** In {@code VirtualTime.run}: {@code coroutines} coroutines that yield {@code each} times. */
    private static void yielders(int coroutines, int each) {
        VirtualTime.run(() -> {
            for (int c = 0; c < coroutines; c++) {
                Coroutine.create(() -> {
                    for (int k = 0; k < each; k++) {
                        Coroutine.yield();
                    }
                });
            }
        });
    }
}
