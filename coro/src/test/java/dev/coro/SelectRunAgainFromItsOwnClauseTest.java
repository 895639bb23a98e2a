package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A clause's function that runs its own select again, in the same context: the run that fired it is over
 * once the function runs, so the nested run fires a clause of its own (waiting for it if none is ready),
 * each value is taken once, and nothing of either run (no waiter, no timer) is left behind.
 */
@ExtendWith(FreshThread.class)
@Timeout(10)
class SelectRunAgainFromItsOwnClauseTest {

    @Test
    void aReceiveFunctionOfAParkedRunThatRunsTheSelectAgainWaitsForAndTakesTheNextValue() {
        List<String> log = new ArrayList<>();
        VirtualTime.run(() -> {
            Channel<Integer> in = new Channel<>("in", 0);
            Select<String>[] select = new Select[1];
            int[] runs = {0};
            select[0] = new Select<String>().onReceive(in, v -> runs[0]++ == 0 ? "first " + v + ", then " + select[0].select() : "got " + v);
            Coroutine selector = Coroutine.create("selector", () -> log.add(select[0].select()));
            Coroutine.yield();
            assertThat(selector.state()).isEqualTo(State.PARKED);
            in.send(1); // fires the parked run: its function runs the select again when the selector runs
            in.send(2); // the nested run waits: this send parks main until it takes the value
            Coroutine.yield();
            assertThat(selector.state()).isEqualTo(State.FINISHED);
            assertThat(in.trySend(3)).as("no receiver left queued").isFalse();
            assertThat(LoopProbe.hasPending()).as("no wait left behind").isFalse();
        });
        assertThat(log).containsExactly("first 1, then got 2");
    }

    @Test
    void aTimeoutFunctionThatRunsTheSelectAgainUnderAWithTimeoutLeavesNoTimerWhenThatExpires() {
        List<String> log = new ArrayList<>();
        VirtualTime.run(() -> {
            Channel<Integer> in = new Channel<>("in", 0);
            Select<String>[] select = new Select[1];
            select[0] = new Select<String>().onReceive(in, v -> "got " + v).onTimeout(Duration.ofSeconds(1), () -> {
                Throwable cut = catchThrowable(() -> Coroutine.withTimeout(Duration.ofMillis(500), () -> select[0].select()));
                return "timed out, then " + cut.getMessage() + " at " + Coroutine.nanoTime() / 1_000_000 + " ms";
            });
            Coroutine selector = Coroutine.create("selector", () -> log.add(select[0].select()));
            Coroutine.yield();
            while (!selector.isFinished()) {
                Coroutine.yield();
            }
            assertThat(Coroutine.nanoTime()).as("the clock after both").isEqualTo(1_500_000_000L);
            assertThat(in.trySend(3)).as("no receiver left queued").isFalse();
            assertThat(LoopProbe.hasPending()).as("no timer left").isFalse();
        });
        assertThat(log).containsExactly("timed out, then coroutine 'selector' timed out: withTimeout(PT0.5S) expired"
                + " before its body returned at 1500 ms");
    }
}
