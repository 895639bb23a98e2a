package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@link VirtualTime#run} runs a thread on a clock that jumps to the next timer whenever every context would wait. */
@ExtendWith(FreshThread.class)
class VirtualTimeTest {

    private final List<String> log = new ArrayList<>();

    /** The virtual clock in milliseconds. */
    private static long ms() {
        return Coroutine.nanoTime() / 1_000_000;
    }

    @Test
    void aCoroutinesYieldLoopEndsWhileRunWaitsForTheRest() {
        VirtualTime.run(() -> Coroutine.create("waiter", () -> {
            Coroutine sleeper = Coroutine.create("sleeper", () -> Coroutine.sleep(Duration.ofSeconds(5)));
            int yields = 0;
            while (!sleeper.isFinished() && yields < 1000) {
                Coroutine.yield();
                yields++;
            }
            log.add("sleeper " + sleeper.state() + " at " + ms() + " after " + yields + " yields");
        }));
        assertThat(log).as("main waiting in run is no runnable context: the waiter's yield lets the clock jump")
                .containsExactly("sleeper FINISHED at 5000 after 2 yields");
    }
}
