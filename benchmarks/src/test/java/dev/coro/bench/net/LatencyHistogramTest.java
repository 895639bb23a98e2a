package dev.coro.bench.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The histogram's buckets tile the value range and its percentiles stay within a bucket's width. */
class LatencyHistogramTest {

    @Test
    void bucketsAreContiguousAndContainTheirValues() {
        long[] probes = {0, 1, 127, 128, 129, 255, 256, 1000, 65_535, 1_000_000, 123_456_789, LatencyHistogram.MAX_VALUE};
        for (long v : probes) {
            int b = LatencyHistogram.bucket(v);
            assertThat(LatencyHistogram.lowestInBucket(b)).isLessThanOrEqualTo(v);
            assertThat(LatencyHistogram.highestInBucket(b)).isGreaterThanOrEqualTo(v);
            assertThat(LatencyHistogram.lowestInBucket(b + 1)).isEqualTo(LatencyHistogram.highestInBucket(b) + 1);
        }
    }

    @Test
    void percentilesOfAUniformSpreadAreWithinTwoPercent() {
        LatencyHistogram h = new LatencyHistogram();
        for (long v = 1; v <= 100_000; v++) {
            h.record(v * 1000);
        }
        assertThat(h.count()).isEqualTo(100_000);
        assertThat(h.max()).isEqualTo(100_000_000L);
        assertThat((double) h.percentile(50)).isCloseTo(50_000_000, within(1_000_000.0));
        assertThat((double) h.percentile(99)).isCloseTo(99_000_000, within(2_000_000.0));
        assertThat(h.percentile(100)).isEqualTo(100_000_000L);
        h.reset();
        assertThat(h.count()).isZero();
        assertThat(h.percentile(50)).isZero();
    }

    @Test
    void addingHistogramsRecordedApartGivesTheHistogramOfAllTheirValues() {
        LatencyHistogram odd = new LatencyHistogram();
        LatencyHistogram even = new LatencyHistogram();
        LatencyHistogram all = new LatencyHistogram();
        for (long v = 1; v <= 10_000; v++) {
            (v % 2 == 0 ? even : odd).record(v * 1000);
            all.record(v * 1000);
        }
        odd.add(even);
        assertThat(odd.count()).isEqualTo(all.count());
        assertThat(odd.max()).isEqualTo(10_000_000L);
        assertThat(odd.mean()).isEqualTo(all.mean());
        for (double p : new double[] {1, 50, 90, 99, 99.9, 100}) {
            assertThat(odd.percentile(p)).as("p%s", p).isEqualTo(all.percentile(p));
        }
        assertThat(even.count()).isEqualTo(5_000);
    }
}
