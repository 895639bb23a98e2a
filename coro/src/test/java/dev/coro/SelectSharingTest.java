package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * One {@link Select} object shared by several contexts of a thread: it waits in one context at a
 * time, a second context is refused while it waits, and any context may run it once that wait is over.
 */
@ExtendWith(FreshThread.class)
class SelectSharingTest {

    private final List<String> log = new ArrayList<>();

    private void note(String what) {
        log.add(what + " at " + Coroutine.nanoTime() / 1_000_000);
    }

    /** Runs {@code sel} in a new coroutine named {@code name}, noting what it returned or threw. */
    private Coroutine selecting(String name, Select<String> sel) {
        return Coroutine.create(name, () -> {
            try {
                note(name + " " + sel.select());
            } catch (RuntimeException e) {
                note(name + " threw " + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
        });
    }

    @Test
    void aSelectParkedInOneCoroutineIsRefusedToASecondAndTheParkedOneStillGetsItsValue() {
        VirtualTime.run(() -> {
            Channel<Integer> a = new Channel<>("a", 0);
            Select<String> sel = new Select<String>().onReceive(a, v -> "got " + v);
            Coroutine latecomer = selecting("latecomer", sel);
            Coroutine parker = selecting("parker", sel);
            Coroutine.yield(); // main runs the last created first: parker parks, then latecomer is refused
            assertThat(latecomer.state()).isEqualTo(Coroutine.State.FINISHED);
            assertThat(parker.state()).isEqualTo(Coroutine.State.PARKED);
            a.send(1);
            Coroutine.yield();
            assertThat(parker.state()).isEqualTo(Coroutine.State.FINISHED);
            assertThat(a.trySend(2)).as("nothing is left queued on the channel").isFalse();
        });
        assertThat(log).containsExactly(
                "latecomer threw IllegalStateException: coroutine 'latecomer' cannot select over receive from channel"
                        + " 'a': this select is waiting already, in coroutine 'parker' (state PARKED); a select waits in"
                        + " one context at a time, so give each context its own at 0",
                "parker got 1 at 0");
    }

    @Test
    void onceItsWaitWasInterruptedOrFiredASharedSelectMayWaitInAnotherContext() {
        VirtualTime.run(() -> {
            Channel<Integer> a = new Channel<>("a", 0);
            Select<String> sel = new Select<String>().onReceive(a, v -> "got " + v);
            Coroutine first = selecting("first", sel);
            Coroutine.yield();
            first.close(); // its wait is interrupted
            Coroutine timed = Coroutine.create("timed", () -> {
                try {
                    Coroutine.withTimeout(Duration.ofSeconds(1), sel::select);
                } catch (CoroutineTimeoutException e) {
                    note("timed timed out");
                }
            });
            Coroutine.yield();
            while (!timed.isFinished()) {
                Coroutine.yield();
            }
            Coroutine third = selecting("third", sel);
            Coroutine.yield();
            a.send(3);
            Coroutine.yield();
            assertThat(third.state()).isEqualTo(Coroutine.State.FINISHED);
            Coroutine fourth = selecting("fourth", sel);
            Coroutine.yield();
            a.send(4);
            Coroutine.yield();
            assertThat(fourth.state()).isEqualTo(Coroutine.State.FINISHED);
        });
        assertThat(log).containsExactly("timed timed out at 1000", "third got 3 at 1000", "fourth got 4 at 1000");
    }
}
