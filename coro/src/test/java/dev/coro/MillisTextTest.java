package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The text of a duration in dumps, signals and recorded parks: {@code EventLoop.millis}, written out without a formatter. */
class MillisTextTest {

    /**
     * How many random durations are checked: fewer in an interpreter-only JVM (CI's {@code -Xint} pass), where
     * each format takes a hundred times as long and the arithmetic checked is the same.
     */
    private static final int SAMPLES = System.getProperty("java.vm.info", "").contains("interpreted mode") ? 20_000 : 300_000;

    private static String formatted(long nanos) {
        return String.format(Locale.ROOT, "%,.3f ms", nanos / 1e6);
    }

    @Test
    void roundsHalfUpToTheMicrosecondAndGroupsTheThousands() {
        assertThat(EventLoop.millis(0)).isEqualTo("0.000 ms");
        assertThat(EventLoop.millis(499)).isEqualTo("0.000 ms");
        assertThat(EventLoop.millis(500)).isEqualTo("0.001 ms");
        assertThat(EventLoop.millis(1_012_500_000L)).isEqualTo("1,012.500 ms");
        assertThat(EventLoop.millis(3_600_000_000_000L)).isEqualTo("3,600,000.000 ms");
        assertThat(EventLoop.millis(-1_500)).isEqualTo("-0.002 ms");
        assertThat(EventLoop.millis(-1)).isEqualTo("-0.000 ms");
        assertThat(EventLoop.millis(Long.MAX_VALUE)).isEqualTo("never");
    }

    @Test
    @Timeout(60)
    void everyDurationReadsAsTheFormatWouldWriteIt() {
        long[] edges = {1, 999, 1_000, 1_499, 1_500, 2_500, 999_499, 999_500, 999_999_999, (1L << 50) - 1, 1L << 50,
                -(1L << 50) + 1, -(1L << 50), Long.MIN_VALUE, Long.MIN_VALUE + 1, Long.MAX_VALUE - 1};
        for (long n : edges) {
            assertThat(EventLoop.millis(n)).as("%d ns", n).isEqualTo(formatted(n));
        }
        SplittableRandom random = new SplittableRandom(53);
        for (int i = 0; i < SAMPLES; i++) {
            long n = switch (i % 4) {
                case 0 -> random.nextLong(); // mostly past the written-out range: the format itself
                case 1 -> random.nextLong(100_000_000_000L) - 50_000_000_000L;
                case 2 -> (random.nextLong(1L << 50) / 1_000) * 1_000 + 499 + random.nextLong(3); // ties, up to the range's end
                default -> random.nextLong(2_000_000L) - 1_000_000L;
            };
            assertThat(EventLoop.millis(n)).as("%d ns", n).isEqualTo(formatted(n));
        }
    }
}
