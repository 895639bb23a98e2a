package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every text that describes a wait of a channel's receiving iterator on its own thread (a {@code for} loop over
 * the channel, or its {@code hasNext()} and {@code next()} called directly) names the iterator's call,
 * {@code iterate over channel 'c'}, as the iterator's refusals and its waits from another thread do, never the
 * receive it makes underneath; a plain receive by the same context before and after is still named a receive.
 */
@ExtendWith(FreshThread.class)
class IteratorWaitTextsTest {

    /** Coroutines left in a {@code for} loop and in {@code hasNext()} when a run's body returns: its deadlock names each. */
    @Test
    void theDeadlockOfCoroutinesLeftIteratingNamesTheIteratorsCall() {
        assertThatThrownBy(() -> VirtualTime.run(() -> {
            Channel<String> c = new Channel<>("c", 0);
            Coroutine.create("looping", () -> {
                for (String v : c) {
                    throw new AssertionError("nothing is sent, yet it took " + v);
                }
            });
            Coroutine.create("asking", () -> c.iterator().hasNext());
            Coroutine.create("taking", () -> c.iterator().next());
            Coroutine.create("receiving", c::receive);
        })).isInstanceOf(DeadlockException.class)
                .hasMessage("VirtualTime.run cannot return: every coroutine left on thread "
                        + Scheduler.describe(Thread.currentThread()) + " is parked and no timer is pending, so nothing could"
                        + " ever wake them (deadlock):\n"
                        + "  coroutine 'looping' waits to iterate over channel 'c'\n"
                        + "  coroutine 'asking' waits to iterate over channel 'c'\n"
                        + "  coroutine 'taking' waits to iterate over channel 'c'\n"
                        + "  coroutine 'receiving' waits to receive from channel 'c'");
    }

    /** Main alone in a {@code for} loop over an empty open channel is refused as the iterator's call. */
    @Test
    void mainAloneInAForLoopIsRefusedAsADeadlockNamingTheIteratorsCall() {
        Channel<String> c = new Channel<>("c", 0);
        assertThatThrownBy(() -> {
            for (String v : c) {
                throw new AssertionError("nothing is sent, yet it took " + v);
            }
        }).isInstanceOf(DeadlockException.class)
                .hasMessage("main context 'main' cannot iterate over channel 'c': every other context of thread "
                        + Scheduler.describe(Thread.currentThread()) + " is parked and no timer is pending, so nothing"
                        + " could ever wake it (deadlock):\n"
                        + "  main context 'main' would wait to iterate over channel 'c'");
        assertThat(c.trySend("late")).as("main left the channel's queue").isFalse();
    }

    /** A {@code withTimeout} that expires in a {@code for} loop's wait names the iterator's call in its signal. */
    @Test
    void aWithTimeoutThatExpiresInAForLoopNamesTheIteratorsCallInItsSignal() {
        List<String> signals = new ArrayList<>();
        VirtualTime.run(() -> {
            Channel<String> c = new Channel<>("c", 0);
            Throwable t = catchThrowable(() -> Coroutine.withTimeout(Duration.ofMillis(5), () -> {
                for (String v : c) {
                    throw new AssertionError("nothing is sent, yet it took " + v);
                }
            }));
            assertThat(t).isInstanceOf(CoroutineTimeoutException.class);
            signals.add(t.getCause().getMessage());
        });
        assertThat(signals).containsExactly("main context 'main': its withTimeout(PT0.005S) expired; its iterate over"
                + " channel 'c' throws this signal so that the body unwinds to it");
    }

    /**
     * A context that receives, then waits in an iterator, then receives again is shown by the dump as waiting to
     * receive, to iterate, and to receive: the waiter it keeps for its waits is named by each wait's own call.
     */
    @Test
    void aDumpNamesEachWaitOfOneContextByItsOwnCallReceiveThenIterateThenReceive() {
        Channel<String> c = new Channel<>("c", 0);
        List<String> got = new ArrayList<>();
        Coroutine x = Coroutine.create("x", () -> {
            got.add(c.receive());
            Iterator<String> values = c.iterator();
            got.add(values.next());
            got.add(c.receive());
        });
        List<String> waits = new ArrayList<>();
        for (String v : List.of("one", "two", "three")) {
            x.switchTo(); // it parks in its next wait
            waits.add(Coroutine.dump().lines().filter(l -> l.contains("coroutine 'x'")).findFirst().orElseThrow()
                    .replaceFirst("^ *\\[\\d+] ", ""));
            c.send(v);
        }
        x.join();
        assertThat(got).containsExactly("one", "two", "three");
        assertThat(waits).containsExactly("coroutine 'x': PARKED, waits to receive from channel 'c'",
                "coroutine 'x': PARKED, waits to iterate over channel 'c'",
                "coroutine 'x': PARKED, waits to receive from channel 'c'");
    }
}
