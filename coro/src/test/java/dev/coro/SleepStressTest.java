package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A million coroutines each sleeping once under virtual time wake in deadline order, each exactly at
 * its deadline, and all finish.
 *
 * <p>On the thread engine a parked coroutine is a parked virtual thread: a million of them took 90 s
 * and 1.9 GiB of the 2 GiB heap, so that engine runs 300,000.
 */
@Tag("stress")
@ExtendWith(FreshThread.class)
class SleepStressTest {

    private static final int COROUTINES = Engines.running().equals("threads") ? 300_000 : 1_000_000;

    /** The deadline of the last coroutine that woke, and every wake-up that broke the rules. */
    private long lastWake;
    private int outOfOrder;
    private int offDeadline;
    private int finished;

    @Test
    void aMillionSleepersUnderVirtualTimeWakeInDeadlineOrderAndAllFinish() {
        StressFigures figures = StressFigures.start();
        VirtualTime.run(() -> {
            long seed = 42;
            for (int i = 0; i < COROUTINES; i++) {
                seed = seed * 6364136223846793005L + 1442695040888963407L;
                Coroutine.create(this::sleepOnce, 1 + (seed >>> 33) % 1000);
            }
        });
        figures.print(COROUTINES + " coroutines sleeping 1..1000 ms of virtual time");

        assertThat(finished).isEqualTo(COROUTINES);
        assertThat(outOfOrder).isZero();
        assertThat(offDeadline).isZero();
        assertThat(lastWake).isEqualTo(1000_000_000L);
    }

    /** Sleeps {@code millis} from virtual time 0 and checks when it wakes. */
    private void sleepOnce(long millis) {
        Coroutine.sleep(Duration.ofMillis(millis));
        long now = Coroutine.nanoTime();
        if (now != millis * 1_000_000) {
            offDeadline++;
        }
        if (now < lastWake) {
            outOfOrder++;
        }
        lastWake = now;
        finished++;
    }
}
