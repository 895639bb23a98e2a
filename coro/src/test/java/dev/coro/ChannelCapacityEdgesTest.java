package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The edges of a channel's capacity: {@code Integer.MAX_VALUE} is a buffer that never fills in practice, taking
 * values past its first room without parking and giving them in order, up to the most a buffer holds, past which
 * a send is refused naming the caller, the send, the channel and that most; the most negative capacity is refused as
 * any negative one, naming the caller and the channel, and takes no number from the thread's count.
 */
@ExtendWith(FreshThread.class)
class ChannelCapacityEdgesTest {

    @Test
    void aChannelOfTheLargestCapacityTakesValuesPastItsFirstRoomWithoutParkingAndGivesThemInOrder() {
        Channel<Integer> ch = new Channel<>("big", Integer.MAX_VALUE);
        int n = 3 * Fifo.KEPT_ROOM;
        for (int i = 0; i < n; i++) {
            ch.send(i); // main alone: a send that parked would be a deadlock
        }
        assertThat(ch.trySend(n)).isTrue();
        assertThat(ch.capacity()).isEqualTo(Integer.MAX_VALUE);
        assertThat(ch).hasToString("Channel[big, capacity 2147483647, " + (n + 1) + " buffered, open]");
        ch.close();
        List<Integer> got = new ArrayList<>();
        for (int v : ch) {
            got.add(v);
        }
        assertThat(got).hasSize(n + 1);
        for (int i = 0; i <= n; i++) {
            assertThat(got.get(i)).isEqualTo(i);
        }
        assertThat(ch.bufferRoom()).as("the emptied buffer gave its room back").isLessThanOrEqualTo(Fifo.KEPT_ROOM);
    }

    /**
     * A buffer holds at most 2^30 values, whatever the channel's capacity: a send that would buffer one more is
     * refused with an {@code OutOfMemoryError} naming the caller, the send, the channel with its state and the
     * most a buffer holds, as the channel's other refusals name them, and the value is not sent; the values
     * buffered stay, in order. Reached with a smaller most ({@link Fifo#mostValues}), as 2^30 values would take
     * gigabytes.
     */
    @Test
    void aSendPastTheMostABufferHoldsIsRefusedNamingTheCallerTheSendTheChannelAndTheMost() {
        int most = Fifo.mostValues;
        Fifo.mostValues = 16;
        try {
            Channel<Integer> ch = new Channel<>("jobs", Integer.MAX_VALUE);
            for (int i = 0; i < 16; i++) {
                ch.send(i);
            }
            assertThatThrownBy(() -> ch.send(16)).isExactlyInstanceOf(OutOfMemoryError.class)
                    .hasMessage("main context 'main' cannot send to channel 'jobs' (open): its buffer holds 16 values, the most"
                            + " a buffer holds");
            Coroutine sender = Coroutine.create("sender", () -> assertThatThrownBy(() -> ch.trySend(16))
                    .isExactlyInstanceOf(OutOfMemoryError.class)
                    .hasMessage("coroutine 'sender' cannot send to channel 'jobs' (open): its buffer holds 16 values, the most"
                            + " a buffer holds"));
            sender.switchTo();
            assertThat(sender.isFinished()).isTrue();
            assertThat(ch).hasToString("Channel[jobs, capacity 2147483647, 16 buffered, open]");
            ch.close();
            List<Integer> got = new ArrayList<>();
            for (int v : ch) {
                got.add(v);
            }
            assertThat(got).hasSize(16);
            for (int i = 0; i < 16; i++) {
                assertThat(got.get(i)).isEqualTo(i);
            }
        } finally {
            Fifo.mostValues = most;
        }
    }

    @Test
    void theMostNegativeCapacityIsRefusedNamingTheCallerAndTheChannelAndTakesNoNumber() {
        assertThat(Coroutine.current().isMain()).as("the thread is a scheduler: its main is the caller").isTrue();
        assertThatThrownBy(() -> new Channel<String>(Integer.MIN_VALUE)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("main context 'main' cannot create channel 'channel-1' with capacity -2147483648: the capacity"
                        + " must be 0 (rendezvous) or more");
        Coroutine maker = Coroutine.create("maker", () -> assertThatThrownBy(() -> new Channel<String>("jobs", Integer.MIN_VALUE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("coroutine 'maker' cannot create channel 'jobs' with capacity -2147483648: the capacity must be 0"
                        + " (rendezvous) or more"));
        maker.switchTo();
        assertThat(maker.isFinished()).isTrue();
        assertThat(new Channel<String>(0)).hasToString("Channel[channel-1, capacity 0, 0 buffered, open]");
    }
}
