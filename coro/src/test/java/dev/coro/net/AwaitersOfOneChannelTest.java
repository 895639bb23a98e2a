package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static dev.coro.net.TcpConnectionTest.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two coroutines of one thread awaiting the same operation on one channel with {@link Io#await}: a
 * readiness report wakes both, as SEMANTICS says of every wait but an accept; the one that runs first
 * takes what came, the other finds nothing (readiness is a hint) and waits again, and is woken by
 * what comes next: nothing is lost, and the channel stays registered until the last wait ends.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class AwaitersOfOneChannelTest {

    private final List<String> log = new ArrayList<>();

    @Test
    @Timeout(30)
    void oneDatagramWakesBothReadersOfAChannelOneTakesItAndTheOtherWaitsAgainForTheNext() throws Exception {
        try (DatagramChannel receiver = DatagramChannel.open().bind(LOOPBACK);
             DatagramChannel sender = DatagramChannel.open().bind(LOOPBACK)) {
            receiver.configureBlocking(false);
            Crew crew = new Crew();
            for (String name : List.of("first", "second")) {
                crew.spawn(name, () -> {
                    ByteBuffer buf = ByteBuffer.allocate(16);
                    int wakes = 0;
                    while (receiver.receive(buf) == null) {
                        Io.await(receiver, SelectionKey.OP_READ);
                        wakes++;
                    }
                    log.add("got '" + text(buf) + "' after " + wakes + (wakes == 1 ? " wake" : " wakes"));
                });
            }
            Coroutine.yield();
            assertThat(LoopProbe.ioWaits()).as("both wait on the one channel").isEqualTo(2);

            sender.send(bytes("one"), receiver.getLocalAddress());
            crew.awaitOne(); // parks main: the report wakes both readers
            Coroutine.yield(); // the other, woken in vain, has waited again
            assertThat(log).containsExactly("got 'one' after 1 wake");
            assertThat(LoopProbe.ioWaits()).as("the other waits again").isEqualTo(1);
            assertThat(LoopProbe.registeredChannels()).as("still registered for it").isEqualTo(1);

            sender.send(bytes("two"), receiver.getLocalAddress());
            crew.join();
            assertThat(log).containsExactly("got 'one' after 1 wake", "got 'two' after 2 wakes");
            assertThat(LoopProbe.ioWaits()).isZero();
            assertThat(LoopProbe.registeredChannels()).as("released with the last wait").isZero();
            assertThat(LoopProbe.selectorOpen()).isFalse();
        }
    }
}
