package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * The values {@code -Dcoro.spinNanos} takes: none gives the default, 0 to a second is taken as it is, and a bound
 * past a second (a slip of the unit, which would keep an idle thread's core busy that long) is refused as a negative
 * one is, so that the default is kept and the refusal logged.
 */
class SpinBoundValuesTest {

    @Test
    void noValueGivesTheDefaultAndZeroToOneSecondIsTakenAsItIs() {
        assertThat(EventLoop.spinNanos(null)).isEqualTo(EventLoop.DEFAULT_SPIN_NANOS);
        assertThat(EventLoop.spinNanos("0")).isZero();
        assertThat(EventLoop.spinNanos(" 20000 ")).isEqualTo(20_000);
        assertThat(EventLoop.spinNanos("1000000000")).isEqualTo(1_000_000_000L);
    }

    @Test
    void aBoundPastOneSecondIsRefusedNamingTheLimitAndTheValue() {
        assertThatThrownBy(() -> EventLoop.spinNanos("1000000001")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("coro.spinNanos must be at most 1000000000 nanoseconds (1 s: a longer spin holds a core while its"
                        + " thread has nothing to do, and a wake-up never takes that long), not 1000000001");
        assertThatThrownBy(() -> EventLoop.spinNanos(Long.toString(Long.MAX_VALUE))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageEndingWith("not " + Long.MAX_VALUE);
    }
}
