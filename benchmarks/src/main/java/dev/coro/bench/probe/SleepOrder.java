package dev.coro.bench.probe;

import dev.coro.bench.VirtualTimeDelayBenchmark;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * What the order of a sleep's wake-ups costs, apart from the number of wake-ups per jump of the virtual
 * clock: for N coroutines (100, 1,000 and 10,000 by default), 100,000 operations per run in three shapes,
 * taken in turn in one JVM (the workloads of {@link VirtualTimeDelayBenchmark}), and the median and fastest of the second half of the runs, in ns per op.
 * <ul>
 *   <li>{@code yield}: N coroutines yielding, each in turn (the baseline of the sleep target at N = 1,000);</li>
 *   <li>{@code random}: N coroutines sleeping pseudo-random whole milliseconds from 1 to N / 10 (at
 *       N = 1,000 the target's workload): about 20 due at each jump, scattered over the run list;</li>
 *   <li>{@code in order}: N coroutines whose first sleep puts them in groups of 20 neighbours (coroutine
 *       {@code c} first sleeps {@code c / 20 + 1} ms), then each sleeping N / 20 ms: exactly 20 due at each
 *       jump, as many jumps as {@code random} makes, but neighbours in the run list (and in memory).</li>
 * </ul>
 * So {@code in order} / {@code yield} is the timer's and the park's own cost, and {@code random} /
 * {@code in order} what the scattered wake-ups add, at a count of coroutines whose stacks fit in the caches
 * (100) and at counts whose do not.
 *
 * <p>Run: {@code benchmarks/run.sh probe SleepOrder [runs [N...]]} (24 runs by default).
 */
public final class SleepOrder {

    private static final int TOTAL = 100_000;
    private static final int GROUP = 20;

    private SleepOrder() {
    }

    /**
     * Prints one line per count and shape.
     *
     * @param args optionally the number of runs, then the counts of coroutines
     */
    public static void main(String[] args) {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 24;
        int[] counts = args.length > 1 ? Arrays.stream(args, 1, args.length).mapToInt(Integer::parseInt).toArray()
                : new int[] {100, 1_000, 10_000};
        int shapes = 3;
        Runnable[] work = new Runnable[counts.length * shapes];
        String[] names = new String[work.length];
        for (int i = 0; i < counts.length; i++) {
            int n = counts[i];
            int each = TOTAL / n;
            Map<Long, Duration> distinct = new HashMap<>();
            int[] millis = new SplittableRandom(42).ints(TOTAL, 1, Math.max(2, n / 10) + 1).toArray();
            Duration[] random = new Duration[TOTAL];
            Duration[] ordered = new Duration[TOTAL];
            for (int c = 0; c < n; c++) {
                for (int k = 0; k < each; k++) {
                    int at = c * each + k;
                    random[at] = distinct.computeIfAbsent((long) millis[at], Duration::ofMillis);
                    long ms = k == 0 ? c / GROUP + 1 : Math.max(1, n / GROUP);
                    ordered[at] = distinct.computeIfAbsent(ms, Duration::ofMillis);
                }
            }
            names[i * shapes] = "yield among " + n;
            work[i * shapes] = () -> VirtualTimeDelayBenchmark.yielders(n, each);
            names[i * shapes + 1] = "random among " + n;
            work[i * shapes + 1] = () -> VirtualTimeDelayBenchmark.sleepers(random, n);
            names[i * shapes + 2] = "in order among " + n;
            work[i * shapes + 2] = () -> VirtualTimeDelayBenchmark.sleepers(ordered, n);
        }
        double[][] ns = new double[work.length][runs];
        for (int r = 0; r < runs; r++) {
            for (int s = 0; s < work.length; s++) {
                long t0 = System.nanoTime();
                work[s].run();
                ns[s][r] = (double) (System.nanoTime() - t0) / TOTAL;
            }
        }
        for (int s = 0; s < work.length; s++) {
            double[] late = Arrays.copyOfRange(ns[s], runs / 2, runs);
            Arrays.sort(late);
            System.out.printf(Locale.ROOT, "%-24s median %7.1f ns, fastest %7.1f ns per op%n", names[s],
                    late[late.length / 2], late[0]);
        }
    }
}
