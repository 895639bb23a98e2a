package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static dev.coro.net.TcpConnectionTest.name;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Coroutine;
import dev.coro.FreshThread;
import dev.coro.PoolsClosed;
import java.nio.ByteBuffer;
import java.nio.channels.IllegalBlockingModeException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A connection {@code adopt} made of a {@code SocketChannel} whose user then puts that channel in blocking mode,
 * behind the connection's back, before the connection's first wait registered it: a read or a write is refused,
 * naming its caller, the call, the connection and its state, where it blocked the thread (and every coroutine of
 * it) in the channel's read; once the user puts it back, the connection works again. After a wait the JDK itself
 * refuses the change (the channel is registered with the thread's selector).
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith({FreshThread.class, PoolsClosed.class})
@Timeout(30)
class BlockingBehindTheConnectionTest {

    private static final String WHY = "its SocketChannel was put in blocking mode behind the connection's back"
            + " (configureBlocking(true)), where a read or a write would block the thread and every coroutine of it;"
            + " put it back with configureBlocking(false)";

    @Test
    void aReadAndAWriteAreRefusedNamingTheCallerAndWorkOnceTheChannelIsPutBack() throws Exception {
        try (ServerSocketChannel plain = ServerSocketChannel.open().bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(plain.getLocalAddress())) {
            SocketChannel raw = plain.accept();
            try (TcpConnection c = TcpConnection.adopt(raw)) {
                raw.configureBlocking(true);
                List<String> refused = new ArrayList<>();
                Coroutine reader = Coroutine.create("reader", () -> {
                    try {
                        c.read(ByteBuffer.allocate(8)); // nothing has arrived: the channel's read would block
                        refused.add("read returned");
                    } catch (IllegalStateException e) {
                        refused.add(e.getMessage());
                    } catch (java.io.IOException e) {
                        refused.add("threw " + e);
                    }
                });
                reader.join();
                assertThat(refused).containsExactly("coroutine 'reader' cannot read from " + name(c) + " (open): " + WHY);
                assertThatThrownBy(() -> c.write(bytes("x"))).isExactlyInstanceOf(IllegalStateException.class)
                        .hasMessage("main context 'main' cannot write to " + name(c) + " (open): " + WHY);
                peer.configureBlocking(false);
                assertThat(peer.read(ByteBuffer.allocate(1))).as("nothing was written").isZero();

                raw.configureBlocking(false);
                c.write(bytes("y"));
                peer.configureBlocking(true);
                ByteBuffer got = ByteBuffer.allocate(1);
                assertThat(peer.read(got)).isEqualTo(1);
                assertThat(got.array()).containsExactly('y');
                peer.write(bytes("z"));
                ByteBuffer back = ByteBuffer.allocate(1);
                assertThat(c.read(back)).isEqualTo(1);
                assertThat(back.array()).containsExactly('z');
            }
        }
    }

    @Test
    void afterTheConnectionsFirstWaitTheJdkRefusesToPutTheChannelInBlockingMode() throws Exception {
        try (ServerSocketChannel plain = ServerSocketChannel.open().bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(plain.getLocalAddress())) {
            SocketChannel raw = plain.accept();
            try (TcpConnection c = TcpConnection.adopt(raw)) {
                Coroutine writer = Coroutine.create("writer", () -> {
                    try {
                        peer.write(bytes("w"));
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                ByteBuffer got = ByteBuffer.allocate(1);
                assertThat(c.read(got)).as("main waits for the byte: the channel is registered").isEqualTo(1);
                writer.join();
                assertThatThrownBy(() -> raw.configureBlocking(true)).isInstanceOf(IllegalBlockingModeException.class);
            }
        }
    }
}
