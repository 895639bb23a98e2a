package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine;
import dev.coro.Coroutine.State;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An {@link Io#await} of {@code OP_CONNECT} whose connect another context finishes while it is parked:
 * the JDK never reports {@code OP_CONNECT} on a connected socket, while the kernel reports the socket
 * writable at every select; the loop finds the connect over at its check of the waiting channels (about
 * once a second), wakes the wait, as readiness would, and stops watching {@code OP_CONNECT}, so that the
 * thread's selects wait again. The wait had parked for good, and the thread spun.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class ConnectFinishedWhileAwaitedTest {

    private final List<String> log = new ArrayList<>();

    @Test
    @Timeout(30)
    void aWaitForOpConnectWhoseConnectAnotherContextFinishedIsWokenAndTheSocketIsNoLongerWatchedForIt() throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(LOOPBACK);
             SocketChannel dialer = SocketChannel.open()) {
            dialer.configureBlocking(false);
            assertThat(dialer.connect(server.getLocalAddress())).as("a non-blocking connect is in progress").isFalse();
            Coroutine connector = Coroutine.create("connector", () -> {
                try {
                    Io.await(dialer, SelectionKey.OP_CONNECT);
                    log.add("connector woken, its finishConnect says " + dialer.finishConnect());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            Coroutine.yield();
            assertThat(connector.state()).isEqualTo(State.PARKED);
            try (SocketChannel accepted = server.accept()) { // blocks the thread until the kernel has connected the socket
                assertThat(dialer.finishConnect()).as("main finishes the connect the connector waits for").isTrue();
                Coroutine reader = Coroutine.create("reader", () -> {
                    try {
                        Io.await(dialer, SelectionKey.OP_READ);
                        log.add("reader woken");
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                // the guard only keeps a failure from hanging: the loop checks its waiting channels about once a second
                Coroutine.withTimeout(Duration.ofSeconds(10), connector::join);
                assertThat(log).containsExactly("connector woken, its finishConnect says true");
                assertThat(reader.state()).isEqualTo(State.PARKED);
                assertThat(LoopProbe.interestOps(dialer)).as("watched for the reader alone").isEqualTo(SelectionKey.OP_READ);
                long before = LoopProbe.idleWaits();
                Coroutine.sleep(Duration.ofMillis(20)); // nothing comes meanwhile: the thread's select waits for the timer
                assertThat(LoopProbe.idleWaits() - before).as("idle waits while the reader waits for 20 ms").isLessThanOrEqualTo(3);

                accepted.write(bytes("x"));
                reader.join();
                assertThat(log).containsExactly("connector woken, its finishConnect says true", "reader woken");
            }
            assertThat(LoopProbe.ioWaits()).isZero();
            assertThat(LoopProbe.registeredChannels()).isZero();
        }
    }
}
