package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine.State;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A run of a select whose readiness check runs the user's code that suspends its context (an
 * {@code onComplete} future's {@code isDone()} that yields) while another context runs the same select:
 * the channels are told of the runs once each, so that once both are over other threads operate on a
 * shared channel in place again, and the suspended run, going on to wait after the other ended, holds
 * its channels as any waiting run does, so that a value another thread sends reaches it.
 */
@ExtendWith(FreshThread.class)
class SelectSuspendedBeforeItWaitsTest {

    private final List<String> log = new ArrayList<>();

    /** A future not complete whose {@code isDone()} yields the first time it is asked. */
    static final class YieldingOnce<T> extends CompletableFuture<T> {
        private boolean asked;

        @Override
        public boolean isDone() {
            if (!asked) {
                asked = true;
                Coroutine.yield();
            }
            return super.isDone();
        }

        @Override
        public String toString() {
            return "yielding future";
        }
    }

    private Coroutine selecting(String name, Select<String> sel) {
        return Coroutine.create(name, () -> {
            try {
                log.add(name + " " + sel.select());
            } catch (IllegalStateException e) {
                log.add(name + " threw " + e.getMessage());
            }
        });
    }

    @Test
    @Timeout(20)
    void aRunSuspendedInItsReadinessCheckWhileAnotherWaitsLeavesTheSharedChannelOperatedOnInPlaceOnceBothAreOver()
            throws Exception {
        Channel<Integer> ch = new Channel<>("ch", 1);
        SelectSharingTest.share(ch);
        Select<String> sel = new Select<String>().onReceive(ch, v -> "got " + v).onComplete(new YieldingOnce<String>(), v -> v);
        Coroutine first = selecting("first", sel);
        Coroutine second = selecting("second", sel);
        first.switchTo(); // its readiness check yields: main runs on
        second.switchTo(); // waits in the select
        Coroutine.yield(); // first looks again, and is refused
        assertThat(first.state()).isEqualTo(State.FINISHED);
        assertThat(ch.isSharedInPlace()).as("the refused run leaves the waiting run's hold on it").isFalse();
        assertThat(ch.trySend(5)).as("handed to the waiting run").isTrue();
        while (!second.isFinished()) {
            Coroutine.yield();
        }
        assertThat(log).containsExactly("first threw coroutine 'first' cannot select over receive from channel 'ch',"
                        + " completion of yielding future: this select is waiting already, in coroutine 'second' (state PARKED);"
                        + " a select waits in one context at a time, so give each context its own",
                "second got 5");
        assertThat(ch.isSharedInPlace()).as("no select looks at it any more").isTrue();
    }

    @Test
    @Timeout(20)
    void aRunSuspendedInItsReadinessCheckThatWaitsAfterAnotherRunEndedGetsTheValueAnotherThreadSends() throws Exception {
        Channel<Integer> ch = new Channel<>("ch", 1);
        SelectSharingTest.share(ch);
        Select<String> sel = new Select<String>().onReceive(ch, v -> "got " + v).onComplete(new YieldingOnce<String>(), v -> v);
        Coroutine first = selecting("first", sel);
        Coroutine second = selecting("second", sel);
        first.switchTo(); // its readiness check yields: main runs on
        assertThat(ch.trySend(1)).isTrue();
        second.switchTo(); // takes 1 at once, and its run is over
        Coroutine.yield(); // first looks again and waits
        assertThat(first.state()).isEqualTo(State.PARKED);
        assertThat(ch.isSharedInPlace()).as("the waiting run looks at it").isFalse();
        CompletableFuture<Boolean> sent = new CompletableFuture<>();
        Thread.ofPlatform().name("sender").start(() -> sent.complete(ch.trySend(2))); // posted: the select takes it
        assertThat(Coroutine.await(sent)).isTrue();
        while (!first.isFinished()) {
            Coroutine.yield();
        }
        assertThat(log).containsExactly("second got 1", "first got 2");
        assertThat(ch.isSharedInPlace()).isTrue();
    }
}
