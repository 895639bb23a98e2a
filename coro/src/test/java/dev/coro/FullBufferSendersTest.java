package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Senders waiting on a full buffer: each receive lets the longest-waiting one's value into the room it made, in
 * the order they parked, one that left meanwhile leaving nothing behind; and a close, with a cause or not, fails
 * each of them (a timed one returns false) with none of their values delivered, the buffered values staying for
 * receivers, {@code size()} and {@code isClosed()} telling each state.
 */
@ExtendWith(FreshThread.class)
class FullBufferSendersTest {

    private static final Duration HOUR = Duration.ofHours(1);

    private final List<String> log = new ArrayList<>();

    private Coroutine sender(Channel<String> ch, String value) {
        Coroutine c = Coroutine.create("s-" + value, () -> {
            ch.send(value);
            log.add("sent " + value);
        });
        c.switchTo(); // it parks: the buffer is full
        assertThat(c.state()).isEqualTo(State.PARKED);
        return c;
    }

    @Test
    void eachReceiveLetsTheLongestWaitingSendersValueIntoTheRoomItMadeAndOneThatLeftLeavesNothing() {
        Channel<String> ch = new Channel<>("one", 1);
        ch.send("a");
        Coroutine b = sender(ch, "b");
        Coroutine c = sender(ch, "c");
        Coroutine d = sender(ch, "d");
        assertThat(ch.size()).isEqualTo(1);
        c.close(); // it leaves the queue, its value with it
        assertThat(ch.receive()).isEqualTo("a");
        assertThat(ch.size()).as("b's value took the room at once").isEqualTo(1);
        assertThat(b.state()).isEqualTo(State.SUSPENDED);
        assertThat(d.state()).isEqualTo(State.PARKED);
        assertThat(ch.trySend("e")).as("full again").isFalse();
        assertThat(ch.receive()).isEqualTo("b");
        assertThat(d.state()).isEqualTo(State.SUSPENDED);
        assertThat(ch.receive()).isEqualTo("d");
        assertThat(ch.tryReceive()).isEmpty();
        Coroutine.yield();
        Coroutine.yield();
        assertThat(log).containsExactlyInAnyOrder("sent b", "sent d");
        assertThat(List.of(b.state(), c.state(), d.state())).containsExactly(State.FINISHED, State.CLOSED, State.FINISHED);
    }

    @Test
    void aCloseWithACauseFailsEverySenderWaitingOnTheFullBufferWithItDeliversNoneOfTheirValuesAndLeavesTheBuffer() {
        Channel<String> ch = new Channel<>("full", 2);
        ch.send("a");
        ch.send("b");
        IllegalStateException cause = new IllegalStateException("producer failed");
        List<Throwable> failures = new ArrayList<>();
        Coroutine plain = Coroutine.create("plain", () -> {
            try {
                ch.send("c");
            } catch (ChannelClosedException e) {
                failures.add(e);
            }
        });
        Coroutine timed = Coroutine.create("timed", () -> log.add("timed sent: " + ch.trySend("d", HOUR)));
        plain.switchTo();
        timed.switchTo();
        assertThat(List.of(plain.state(), timed.state())).containsOnly(State.PARKED);
        assertThat(ch.isClosed()).isFalse();
        ch.close(cause);
        assertThat(ch.isClosed()).isTrue();
        assertThat(ch.closeCause()).containsSame(cause);
        assertThat(ch.size()).as("the buffered values stay").isEqualTo(2);
        assertThat(List.of(plain.state(), timed.state())).as("woken, not run").containsOnly(State.SUSPENDED);
        plain.switchTo();
        timed.switchTo();
        assertThat(failures).singleElement().satisfies(e -> assertThat(e).isInstanceOf(ChannelClosedException.class)
                .hasMessage("coroutine 'plain' cannot send to channel 'full' (closed): the channel was closed while it waited,"
                        + " and the value was not delivered")
                .hasCause(cause));
        assertThat(log).containsExactly("timed sent: false");
        List<String> drained = new ArrayList<>();
        Throwable end = null;
        try {
            for (String v : ch) {
                drained.add(v + " (size then " + ch.size() + ")");
            }
        } catch (ChannelClosedException e) {
            end = e;
        }
        assertThat(drained).as("the buffer, and neither waiting sender's value").containsExactly("a (size then 1)", "b (size then 0)");
        assertThat(end).hasMessage("main context 'main' cannot iterate over channel 'full' (closed): no value is left in it,"
                + " and none can come").hasCause(cause);
        assertThat(ch.size()).isZero();
        assertThat(ch.tryReceive(HOUR)).isEmpty();
        assertThat(ch.trySend("e", HOUR)).isFalse();
        assertThat(ch).hasToString("Channel[full, capacity 2, 0 buffered, closed]");
    }
}
