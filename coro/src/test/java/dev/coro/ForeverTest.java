package dev.coro;

import static dev.coro.SchedulerClock.ms;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A deadline past the range of the clock never comes: a sleep or a timeout that long is a wait with
 * no timer, which the virtual clock never jumps to, so the clock stays usable afterwards.
 */
@ExtendWith(FreshThread.class)
class ForeverTest {

    private static final Duration FOREVER = Duration.ofSeconds(Long.MAX_VALUE);

    private final List<String> log = new ArrayList<>();

    @Test
    void aWithTimeoutPastTheRangeNeverExpiresEvenWhenNothingElseIsPending() {
        VirtualTime.run(() -> {
            Throwable t = catchThrowable(() -> Coroutine.withTimeout(FOREVER, () -> new Channel<Integer>("idle", 0).receive()));
            assertThat(t).as("the wait is a deadlock, not a timeout at the end of the clock's range")
                    .isInstanceOf(DeadlockException.class);
            assertThat(ms()).isZero();
        });
    }

    @Test
    void aSleepPastTheRangeNeverEndsByItselfAndTheClockStaysUsable() {
        VirtualTime.run(() -> {
            Throwable t = catchThrowable(() -> Coroutine.sleep(FOREVER));
            assertThat(t).isInstanceOf(DeadlockException.class)
                    .hasMessageContaining("main context 'main' would wait to sleep for ever (a duration past the clock's range)");
            assertThat(ms()).as("the clock did not jump to the end of its range").isZero();
            int v = Coroutine.withTimeout(Duration.ofSeconds(2), () -> {
                Coroutine.sleep(Duration.ofSeconds(1));
                return 7;
            });
            assertThat(v).isEqualTo(7);
            assertThat(ms()).isEqualTo(1000);
        });
    }

    @Test
    void aCoroutineSleepingPastTheRangeIsEndedByAWithTimeoutOrAClose() {
        VirtualTime.run(() -> {
            Coroutine timed = Coroutine.create("timed", () -> {
                try {
                    Coroutine.withTimeout(Duration.ofSeconds(3), () -> Coroutine.sleep(FOREVER));
                } catch (CoroutineTimeoutException e) {
                    log.add("timed out at " + ms());
                }
            });
            Coroutine closed = Coroutine.create("closed", () -> {
                try {
                    Coroutine.sleep(FOREVER);
                } finally {
                    log.add("closed at " + ms());
                }
            });
            Coroutine.sleep(Duration.ofSeconds(5));
            assertThat(timed.isFinished()).isTrue();
            assertThat(closed.state()).isEqualTo(Coroutine.State.PARKED);
            closed.close();
        });
        assertThat(log).containsExactly("timed out at 3000", "closed at 5000");
    }
}
