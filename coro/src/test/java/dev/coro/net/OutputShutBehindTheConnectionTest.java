package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static dev.coro.net.TcpConnectionTest.name;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Coroutine;
import dev.coro.Coroutine.State;
import dev.coro.FreshThread;
import dev.coro.PoolsClosed;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A connection {@code adopt} made of a {@code SocketChannel} whose user then shuts its output down through that
 * channel, behind the connection's back: the connection's state says {@code open, output shut down} at once, and a
 * write, made then or parked then, fails as after the connection's own {@code shutdownOutput()}, naming its caller.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith({FreshThread.class, PoolsClosed.class})
@Timeout(30)
class OutputShutBehindTheConnectionTest {

    @Test
    void theStateSaysOutputShutDownAtOnceAndAWriteFailsAsAfterTheConnectionsOwnShutdown() throws Exception {
        try (ServerSocketChannel plain = ServerSocketChannel.open().bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(plain.getLocalAddress())) {
            SocketChannel raw = plain.accept();
            try (TcpConnection c = TcpConnection.adopt(raw)) {
                raw.shutdownOutput();
                assertThat(c).hasToString("TcpConnection[" + c.localAddress() + " -> " + c.remoteAddress()
                        + ", open, output shut down]");
                assertThatThrownBy(() -> c.write(bytes("x"))).isExactlyInstanceOf(IOException.class)
                        .hasMessage("main context 'main' cannot write to " + name(c)
                                + " (open, output shut down): java.nio.channels.AsynchronousCloseException");
                assertThat(peer.read(ByteBuffer.allocate(1))).as("the peer reads the end of the stream").isEqualTo(-1);
                peer.write(bytes("y"));
                ByteBuffer got = ByteBuffer.allocate(1);
                assertThat(c.read(got)).as("the peer can still write back").isEqualTo(1);
            }
        }
    }

    @Test
    void aWriteParkedWhenTheOutputIsShutBehindTheConnectionFailsNamingItsWriterAndTheState() throws Exception {
        try (ServerSocketChannel plain = ServerSocketChannel.open().bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(plain.getLocalAddress())) {
            SocketChannel raw = plain.accept();
            try (TcpConnection c = TcpConnection.adopt(raw)) {
                List<String> failures = new ArrayList<>();
                Coroutine writer = Coroutine.create("writer", () -> {
                    try {
                        c.write(ByteBuffer.allocate(64 << 20));         // more than the socket takes: parks part way
                        failures.add("write returned");
                    } catch (IOException e) {
                        failures.add(e.getClass().getName() + ": " + e.getMessage());
                    }
                });
                while (writer.state() != State.PARKED) {
                    Coroutine.yield();
                }
                raw.shutdownOutput();
                writer.join();
                assertThat(failures).containsExactly("java.io.IOException: coroutine 'writer' cannot write to " + name(c)
                        + " (open, output shut down): java.nio.channels.AsynchronousCloseException");
            }
        }
    }
}
