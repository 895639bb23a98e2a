package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static dev.coro.net.TcpConnectionTest.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.FreshThread;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A peer that half-closes (its {@code shutdownOutput}) and then reads: the connection reads what it
 * sent, then the end of the stream, again at each later read, and stays open for writing: its answer
 * reaches the peer, and its own half-close gives the peer the end of the stream. In main and in a
 * coroutine, with a direct buffer and a slice of a heap array at an offset.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class HalfClosingPeerTest {

    @Test
    @Timeout(30)
    void afterThePeersHalfCloseReadsGiveItsBytesThenTheEndOfTheStreamAndTheAnswerStillReachesThePeerInMainAndInACoroutine()
            throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            exchange(listener);
            Crew crew = new Crew();
            crew.spawn("server", () -> exchange(listener));
            crew.join();
        }
    }

    /** One exchange with a peer that sends a question, half-closes, and reads the answer to its end. */
    private static void exchange(TcpListener listener) throws Exception {
        try (SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection c = listener.accept()) {
            peer.write(bytes("question"));
            peer.shutdownOutput();
            ByteBuffer in = ByteBuffer.allocateDirect(64);
            while (c.read(in) >= 0) {
                assertThat(in.position()).isLessThanOrEqualTo(8);
            }
            assertThat(text(in)).isEqualTo("question");
            assertThat(c.read(ByteBuffer.allocate(8))).as("the end again").isEqualTo(-1);
            assertThat(c.read(ByteBuffer.allocateDirect(8))).as("and again").isEqualTo(-1);
            assertThat(c).hasToString("TcpConnection[" + c.localAddress() + " -> " + c.remoteAddress() + ", open]");

            byte[] array = new byte[40];
            System.arraycopy("..answer..".getBytes(java.nio.charset.StandardCharsets.UTF_8), 0, array, 10, 10);
            c.write(ByteBuffer.wrap(array).position(8).slice().position(2).limit(12)); // "..answer.." at 10 of the array
            c.shutdownOutput();
            assertThat(c).hasToString("TcpConnection[" + c.localAddress() + " -> " + c.remoteAddress() + ", open, output shut down]");
            ByteBuffer answer = ByteBuffer.allocate(64);
            while (peer.read(answer) >= 0) {
                assertThat(answer.position()).isLessThanOrEqualTo(10);
            }
            assertThat(text(answer)).isEqualTo("..answer..");
        }
    }
}
