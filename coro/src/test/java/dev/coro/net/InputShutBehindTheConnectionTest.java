package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.FreshThread;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A connection {@code adopt} made of a {@code SocketChannel} whose input its user shut down, before the adoption or
 * behind the connection's back: its reads give the end of the stream, and its input view keeps the {@code java.io}
 * contract there, {@code available()} counting 0 as at any end of the stream, where it failed with the socket
 * adaptor's {@code SocketException: Socket input is shutdown} (until a count asked before the shutdown).
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
@Timeout(30)
class InputShutBehindTheConnectionTest {

    @Test
    void availableCountsNothingAtTheEndOfTheStreamAnInputShutDownBeforeOrAfterTheAdoptionGives() throws Exception {
        for (boolean before : new boolean[] {true, false}) {
            try (ServerSocketChannel plain = ServerSocketChannel.open().bind(LOOPBACK);
                 SocketChannel peer = SocketChannel.open(plain.getLocalAddress())) {
                SocketChannel raw = plain.accept();
                if (before) {
                    raw.shutdownInput();
                }
                try (TcpConnection c = TcpConnection.adopt(raw)) {
                    if (!before) {
                        raw.shutdownInput();
                    }
                    InputStream in = c.input();
                    assertThat(in.available()).as("shut down " + (before ? "before" : "after") + " the adoption").isZero();
                    assertThat(in.read()).as("the end of the stream").isEqualTo(-1);
                    assertThat(in.available()).as("and after a read of it").isZero();
                    assertThat(c).hasToString("TcpConnection[" + c.localAddress() + " -> " + c.remoteAddress() + ", open]");
                    c.write(bytes("x"));
                    ByteBuffer got = ByteBuffer.allocate(1);
                    assertThat(peer.read(got)).as("its output still works").isEqualTo(1);
                }
            }
        }
    }
}
