package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A send or a receive that parked, in main or in a coroutine, ended by its channel's close or cancelled (a
 * close of its coroutine, an expired {@code withTimeout}, a failure of a coroutine main created), throws the
 * same exception with the same full message on both engines, naming the caller, the operation, the channel
 * and its state; a failure that comes after the close ended main's send, before main ran again, is what the
 * send throws on both. (The thread engine's own refusal, when the context chosen next gets no virtual thread,
 * is {@code RefusalAtASendEndedByACloseTest}'s.)
 */
@ExtendWith(FreshThread.class)
@Timeout(20)
class SendAndReceiveEndedByACloseOrACancelTest {

    private static Throwable thrownBy(Runnable call) {
        return catchThrowable(call::run);
    }

    @Test
    void mainsSendAndReceiveEndedByTheChannelsCloseNameMainTheCallAndTheClosedChannel() {
        Channel<Integer> out = new Channel<>("out", 0);
        Coroutine.create("closer", out::close);
        assertThat(thrownBy(() -> out.send(1))).isExactlyInstanceOf(ChannelClosedException.class)
                .hasMessage("main context 'main' cannot send to channel 'out' (closed): the channel was closed while it waited,"
                        + " and the value was not delivered");
        Channel<Integer> in = new Channel<>("in", 0);
        Coroutine.create("closer", in::close);
        assertThat(thrownBy(in::receive)).isExactlyInstanceOf(ChannelClosedException.class)
                .hasMessage("main context 'main' cannot receive from channel 'in' (closed): no value is left in it, and none can come");
    }

    @Test
    void aCoroutinesSendAndReceiveEndedByTheChannelsCloseNameTheCoroutineTheCallAndTheClosedChannel() {
        Channel<Integer> out = new Channel<>("out", 0);
        Channel<Integer> in = new Channel<>("in", 0);
        List<Throwable> sent = new ArrayList<>();
        List<Throwable> received = new ArrayList<>();
        Coroutine sender = Coroutine.create("sender", () -> sent.add(thrownBy(() -> out.send(1))));
        Coroutine receiver = Coroutine.create("receiver", () -> received.add(thrownBy(in::receive)));
        Coroutine.yield(); // both park
        out.close();
        in.close();
        sender.join();
        receiver.join();
        assertThat(sent).hasSize(1);
        assertThat(received).hasSize(1);
        assertThat(sent.get(0)).isExactlyInstanceOf(ChannelClosedException.class)
                .hasMessage("coroutine 'sender' cannot send to channel 'out' (closed): the channel was closed while it waited,"
                        + " and the value was not delivered");
        assertThat(received.get(0)).isExactlyInstanceOf(ChannelClosedException.class)
                .hasMessage("coroutine 'receiver' cannot receive from channel 'in' (closed): no value is left in it, and none can come");
    }

    @Test
    void aCoroutinesSendAndReceiveEndedByItsCloseThrowTheExitSignalNamingIt() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        List<Throwable> thrown = new ArrayList<>();
        Coroutine sender = Coroutine.create("sender", () -> thrown.add(thrownBy(() -> ch.send(1))));
        Coroutine.yield(); // it parks
        sender.close();
        Coroutine receiver = Coroutine.create("receiver", () -> thrown.add(thrownBy(ch::receive)));
        Coroutine.yield(); // it parks: the sender's value left with it
        receiver.close();
        assertThat(thrown).hasSize(2);
        assertThat(thrown.get(0)).isExactlyInstanceOf(CoroutineExit.class)
                .hasMessage("coroutine 'sender' is being closed: its send to channel 'ch' throws this signal so that it unwinds"
                        + " (state RUNNING, closing)");
        assertThat(thrown.get(1)).isExactlyInstanceOf(CoroutineExit.class)
                .hasMessage("coroutine 'receiver' is being closed: its receive from channel 'ch' throws this signal so that it"
                        + " unwinds"
                        + " (state RUNNING, closing)");
    }

    @Test
    void aSendEndedByAnExpiredWithTimeoutNamesTheCallerAndTheTimeoutInMainAndInACoroutine() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        List<Throwable> thrown = new ArrayList<>();
        VirtualTime.run(() -> {
            Coroutine.create("sender", () -> thrown.add(thrownBy(() -> Coroutine.withTimeout(Duration.ofSeconds(1), () -> ch.send(1)))));
            thrown.add(thrownBy(() -> Coroutine.withTimeout(Duration.ofSeconds(2), () -> ch.send(2))));
        });
        assertThat(thrown).hasSize(2);
        assertThat(thrown.get(0)).isExactlyInstanceOf(CoroutineTimeoutException.class)
                .hasMessage("coroutine 'sender' timed out: withTimeout(PT1S) expired before its body returned");
        assertThat(thrown.get(1)).isExactlyInstanceOf(CoroutineTimeoutException.class)
                .hasMessage("main context 'main' timed out: withTimeout(PT2S) expired before its body returned");
    }

    @Test
    void aFailureThatComesAfterTheCloseEndedMainsSendIsWhatTheSendThrows() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine.create("failer", () -> {
            ch.close(); // ends main's send first
            throw new IllegalStateException("boom");
        });
        Throwable thrown = thrownBy(() -> ch.send(1));
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'failer' failed: java.lang.IllegalStateException: boom")
                .cause().isExactlyInstanceOf(IllegalStateException.class);
        assertThat(thrownBy(Coroutine::yield)).as("nothing kept for later").isNull();
        assertThat(ch.isClosed()).isTrue();
    }
}
