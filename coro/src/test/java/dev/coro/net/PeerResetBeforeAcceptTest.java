package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static dev.coro.net.TcpConnectionTest.name;
import static dev.coro.net.TcpConnectionTest.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.FreshThread;
import java.io.IOException;
import java.net.SocketException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A peer that connects and resets the connection before it is accepted leaves the listener serving: the
 * accept either skips it or returns it, and a connection returned so fails its first read with a
 * {@code SocketException} naming the reader, the connection and its state (nothing read as the peer's
 * orderly end); the next peer's connection is accepted and served. In main and in a coroutine.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class PeerResetBeforeAcceptTest {

    @Test
    @Timeout(30)
    void aPeerThatResetsBeforeItIsAcceptedFailsItsConnectionsFirstReadAndTheNextPeerIsServedInMainAndInACoroutine()
            throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            serveAfterAReset(listener, "main context 'main'");
            Crew crew = new Crew();
            crew.spawn("server", () -> serveAfterAReset(listener, "coroutine 'server'"));
            crew.join();
        }
    }

    private static void serveAfterAReset(TcpListener listener, String caller) throws IOException {
        SocketChannel hostile = SocketChannel.open(listener.localAddress());
        hostile.setOption(StandardSocketOptions.SO_LINGER, 0);
        hostile.close(); // a reset, before the accept
        try (SocketChannel good = SocketChannel.open(listener.localAddress())) {
            good.write(bytes("hello"));
            TcpConnection accepted = listener.accept();
            if (!accepted.remoteAddress().equals(good.getLocalAddress())) { // the reset one, not skipped
                try (TcpConnection reset = accepted) {
                    assertThatThrownBy(() -> reset.read(ByteBuffer.allocate(8))).isExactlyInstanceOf(SocketException.class)
                            .hasMessage(caller + " cannot read from " + name(reset) + " (open): java.net.SocketException: Connection reset")
                            .hasCauseExactlyInstanceOf(SocketException.class);
                }
                accepted = listener.accept();
            }
            try (TcpConnection c = accepted) {
                assertThat(c.remoteAddress()).isEqualTo(good.getLocalAddress());
                ByteBuffer in = ByteBuffer.allocate(5);
                while (in.hasRemaining()) {
                    assertThat(c.read(in)).isPositive();
                }
                assertThat(text(in)).isEqualTo("hello");
            }
        }
    }
}
