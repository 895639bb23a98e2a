package dev.coro.bench.probe;

import dev.coro.bench.GeneratorBenchmark;
import dev.coro.bench.kotlin.KotlinSequences;
import java.util.Arrays;
import java.util.Locale;

/**
 * The read-ahead generator's sum against kotlinx's {@code sequence {}} sum, at 1,000 and at 100,000
 * elements per generator, in alternating slices: whether a gap is per element or per generator.
 *
 * <p>Run: {@code benchmarks/run.sh probe ReadAheadSumRatio}.
 */
public final class ReadAheadSumRatio {

    private static long sink;

    private ReadAheadSumRatio() {
    }

    /**
     * Prints, for each size (twice, in turn), the median and quartiles of coro / kotlinx over 40 paired slices.
     *
     * @param args none
     */
    public static void main(String[] args) {
        for (int n : new int[] {1000, 100_000, 1000, 100_000}) {
            int reps = 2_000_000 / n;
            double[] r = new double[40];
            for (int s = -10; s < r.length; s++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < reps; i++) {
                    sink += GeneratorBenchmark.coroBufferedSum(n);
                }
                long t1 = System.nanoTime();
                for (int i = 0; i < reps; i++) {
                    sink += KotlinSequences.sum(n);
                }
                long t2 = System.nanoTime();
                if (s >= 0) {
                    r[s] = (double) (t1 - t0) / (t2 - t1);
                }
            }
            Arrays.sort(r);
            System.out.printf(Locale.ROOT, "n = %,d: coro / kotlinx median %.3f (p25 %.3f, p75 %.3f)%n", n, r[20], r[10], r[30]);
        }
        System.out.println(sink == 42 ? "" : "done");
    }
}
