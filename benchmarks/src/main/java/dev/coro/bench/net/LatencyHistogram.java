package dev.coro.bench.net;

/**
 * A log-linear histogram of nanosecond values: exact below 128, then 64 linear buckets per power of two
 * (relative error under 1/64), recording with no allocation.
 *
 * <p>The layout is HdrHistogram's with two significant binary digits fewer: a value {@code v} with
 * {@code e = max(0, floor(log2 v) - 6)} goes to bucket {@code e * 64 + (v >> e)}. Values above
 * {@link #MAX_VALUE} (about 18 minutes) are clamped; the exact maximum is kept apart. Not thread-safe:
 * the load generator records from its single thread.
 */
public final class LatencyHistogram {

    /** Bits of the linear part: 2^7 = 128 sub-buckets in the first range, 64 in every later one. */
    private static final int SUB_BITS = 7;
    private static final int SUB = 1 << SUB_BITS;
    private static final int HALF = SUB / 2;
    /** The largest value kept apart from the clamp: 2^40 - 1 ns. */
    public static final long MAX_VALUE = (1L << 40) - 1;

    private final long[] counts = new long[bucket(MAX_VALUE) + 1];
    private long total;
    private long sum;
    private long max;

    /**
     * Records one value.
     *
     * @param nanos the value; negative values count as 0
     */
    public void record(long nanos) {
        long v = nanos < 0 ? 0 : nanos;
        if (v > max) {
            max = v;
        }
        counts[bucket(Math.min(v, MAX_VALUE))]++;
        total++;
        sum += v;
    }

    /**
     * Adds every value recorded by {@code other} (histograms kept per thread, merged at the end).
     *
     * @param other the histogram to add; unchanged
     */
    public void add(LatencyHistogram other) {
        for (int i = 0; i < counts.length; i++) {
            counts[i] += other.counts[i];
        }
        total += other.total;
        sum += other.sum;
        max = Math.max(max, other.max);
    }

    /** Forgets every value (the end of a warm-up). */
    public void reset() {
        java.util.Arrays.fill(counts, 0);
        total = 0;
        sum = 0;
        max = 0;
    }

    /** @return how many values were recorded */
    public long count() {
        return total;
    }

    /** @return the exact mean of the values recorded (0 if none) */
    public double mean() {
        return total == 0 ? 0 : (double) sum / total;
    }

    /** @return the largest value recorded, exactly (0 if none) */
    public long max() {
        return max;
    }

    /**
     * The value at a percentile: the highest value of the bucket that holds the {@code ceil(p% * count)}-th
     * smallest value, capped at the exact maximum (so it never overstates by more than a bucket's width).
     *
     * @param percentile in [0, 100]
     * @return the value in nanoseconds, or 0 if nothing was recorded
     */
    public long percentile(double percentile) {
        if (total == 0) {
            return 0;
        }
        long rank = Math.max(1, (long) Math.ceil(percentile / 100.0 * total));
        long seen = 0;
        for (int i = 0; i < counts.length; i++) {
            seen += counts[i];
            if (seen >= rank) {
                return Math.min(highestInBucket(i), max);
            }
        }
        return max;
    }

    static int bucket(long v) {
        int e = Math.max(0, 63 - Long.numberOfLeadingZeros(v) - (SUB_BITS - 1));
        return e * HALF + (int) (v >>> e);
    }

    static long lowestInBucket(int index) {
        if (index < SUB) {
            return index;
        }
        int e = index / HALF - 1;
        return (long) (index - e * HALF) << e;
    }

    static long highestInBucket(int index) {
        if (index < SUB) {
            return index;
        }
        int e = index / HALF - 1;
        return lowestInBucket(index) + (1L << e) - 1;
    }
}
