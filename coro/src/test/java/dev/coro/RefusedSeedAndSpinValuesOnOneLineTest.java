package dev.coro;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * The refusal of a {@code -Dcoro.seed} or {@code -Dcoro.spinNanos} value that is not a whole number shows the value as
 * a user-given name is shown, as the refusals of {@code -Dcoro.engine} and {@code -Dcoro.blockedThreshold} do: a line
 * break, a quote or a backslash in it escaped, so that the warning logged at class initialization stays on one line.
 */
class RefusedSeedAndSpinValuesOnOneLineTest {

    @Test
    void aSeedHoldingALineBreakIsRefusedWithTheLineBreakEscaped() {
        assertThatThrownBy(() -> Scheduler.seed("4\n2")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("coro.seed must be a whole number (a long), not '4\\n2'");
        assertThatThrownBy(() -> Scheduler.seed("it's\\42")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("coro.seed must be a whole number (a long), not 'it\\'s\\\\42'");
    }

    @Test
    void aSpinBoundHoldingALineBreakIsRefusedWithTheLineBreakEscaped() {
        assertThatThrownBy(() -> EventLoop.spinNanos("20\r\nus")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("coro.spinNanos must be a whole number of nanoseconds (0 or more), not '20\\r\\nus'");
        assertThatThrownBy(() -> EventLoop.spinNanos("20\u0085us")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("coro.spinNanos must be a whole number of nanoseconds (0 or more), not '20\\u0085us'");
    }
}
