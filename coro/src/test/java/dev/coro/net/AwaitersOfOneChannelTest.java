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
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
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
 * what comes next: nothing is lost, and the channel stays registered until the last wait ends. Of two
 * awaiting {@code OP_ACCEPT}, a report wakes the first alone.
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

    /**
     * A listening channel awaited for {@code OP_ACCEPT} alone by two coroutines: a report of a connection waiting
     * wakes the first to have begun waiting only, as a {@code TcpListener}'s acceptors are woken (one report may mean
     * one connection: waking both would run one in vain), and the other waits on, woken by the next connection (or
     * by the next select's report, the selector's readiness being level-triggered, of one the first left waiting).
     */
    @Test
    @Timeout(30)
    void aConnectionWakesOnlyTheFirstOfTwoAwaitersOfAListeningChannelAndTheNextConnectionTheOther()
            throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(LOOPBACK)) {
            server.configureBlocking(false);
            Crew crew = new Crew();
            List<SocketChannel> accepted = new ArrayList<>();
            for (String name : List.of("first", "second")) {
                crew.spawn(name, () -> {
                    int wakes = 0;
                    SocketChannel c;
                    while ((c = server.accept()) == null) {
                        Io.await(server, SelectionKey.OP_ACCEPT);
                        wakes++;
                        log.add(name + " woken");
                    }
                    accepted.add(c);
                    log.add(name + " accepted after " + wakes + (wakes == 1 ? " wake" : " wakes"));
                });
            }
            Coroutine.yield();
            assertThat(LoopProbe.ioWaits()).as("both wait on the one channel").isEqualTo(2);

            try (SocketChannel one = SocketChannel.open(server.getLocalAddress())) {
                crew.awaitOne(); // parks main: the report wakes one awaiter, which takes the connection
                Coroutine.yield();
                // main's yield ran the last created first: 'second' began waiting first, and is woken alone
                assertThat(log).containsExactly("second woken", "second accepted after 1 wake");
                assertThat(LoopProbe.ioWaits()).as("the other was not woken: it still waits").isEqualTo(1);
                try (SocketChannel two = SocketChannel.open(server.getLocalAddress())) {
                    crew.join();
                    assertThat(log).containsExactly("second woken", "second accepted after 1 wake",
                            "first woken", "first accepted after 1 wake");
                }
            } finally {
                for (SocketChannel c : accepted) {
                    c.close();
                }
            }
            assertThat(LoopProbe.ioWaits()).isZero();
            assertThat(LoopProbe.registeredChannels()).as("released with the last wait").isZero();
        }
    }
}
