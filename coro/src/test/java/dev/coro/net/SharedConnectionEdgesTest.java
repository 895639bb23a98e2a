package dev.coro.net;

import static dev.coro.net.IoTimeoutTest.patterned;
import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static dev.coro.net.TcpConnectionTest.name;
import static dev.coro.net.TcpConnectionTest.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine;
import dev.coro.Coroutine.State;
import dev.coro.CoroutineTimeoutException;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * One connection used by several coroutines of its thread at once, at its edges: a write parked part
 * way with another waiting behind it when the output is shut down or the connection closed, and a
 * read cut short while bytes wait; each failure names its own caller and the state, and every byte a
 * write reports is read once, none lost.
 */
@Tag("net")
@ExtendWith(FreshThread.class)
class SharedConnectionEdgesTest {

    /**
     * A write parked part way (its buffer far larger than the sockets hold, the peer not reading) and a
     * second one waiting behind it for its turn, when the output is shut down, and when the connection is
     * closed: both fail, each naming its own writer, the connection and the state it finds, the second
     * having written nothing; the peer reads exactly the bytes the first one's buffer says went out, in
     * order, then the end of the stream.
     */
    @Test
    void twoWritesWaitingWhenTheOutputIsShutDownOrTheConnectionClosedFailEachNamingItsWriterAndLoseNothing()
            throws Exception {
        for (boolean shut : new boolean[] {true, false}) {
            try (TcpListener listener = TcpListener.bind(LOOPBACK);
                 SocketChannel peer = SocketChannel.open(listener.localAddress()); // blocking, reads only at the end
                 TcpConnection c = listener.accept()) {
                String connection = name(c);
                byte[] data = patterned(16 << 20);
                ByteBuffer first = ByteBuffer.wrap(data);
                ByteBuffer second = ByteBuffer.wrap(new byte[1000]);
                List<String> log = new ArrayList<>();
                List<Coroutine> writers = new ArrayList<>();
                for (ByteBuffer src : List.of(first, second)) {
                    String who = src == first ? "first" : "second";
                    writers.add(Coroutine.create(who, () -> {
                        try {
                            c.write(src);
                            log.add(who + " wrote all");
                        } catch (IOException e) {
                            log.add(e.getMessage());
                        }
                    }));
                    Coroutine.yield(); // the first writes what the sockets take and parks; the second parks behind it
                }
                assertThat(writers).allMatch(w -> w.state() == State.PARKED);
                assertThat(first.position()).isBetween(1, data.length - 1);
                assertThat(second.position()).isZero();
                assertThat(Coroutine.dump()).contains("coroutine 'first': PARKED, waits to write to " + connection,
                        "coroutine 'second': PARKED, waits to write to " + connection);
                int sent = first.position();
                if (shut) {
                    c.shutdownOutput();
                } else {
                    c.close();
                }
                for (Coroutine w : writers) {
                    w.join();
                }
                String failure = shut ? " (open, output shut down): java.nio.channels.AsynchronousCloseException"
                        : " (closed): the connection was closed while it waited";
                assertThat(log).as(shut ? "shut down" : "closed").containsExactlyInAnyOrder(
                        "coroutine 'first' cannot write to " + connection + failure,
                        "coroutine 'second' cannot write to " + connection + failure);
                assertThat(first.position()).as("the first wrote no more once failed").isEqualTo(sent);
                assertThat(second.position()).as("the second wrote nothing").isZero();
                assertThat(LoopProbe.ioWaits()).isZero();

                ByteBuffer got = ByteBuffer.allocate(data.length);
                while (peer.read(got) >= 0) {
                    // blocking: the bytes sent are in the sockets' buffers, the end of the stream follows them
                }
                assertThat(got.position()).as("bytes the peer read").isEqualTo(sent);
                assertThat(got.flip()).isEqualTo(ByteBuffer.wrap(data, 0, sent));
            }
        }
    }

    /**
     * A read that finds the socket drained by the read before it waits for readiness first: cut short
     * there, in a second coroutine reading the connection, by a timeout that is already due while bytes
     * have arrived meanwhile, it took nothing and left no wait, and the reads that follow get every
     * byte once, in order.
     */
    @Test
    void aReadCutShortByATimeoutWhileBytesWaitLosesNoneOfThem() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection c = listener.accept()) {
            List<String> log = new ArrayList<>();
            ByteBuffer buf = ByteBuffer.allocate(64);
            peer.write(bytes("abc"));
            while (buf.position() < 3) {
                c.read(buf); // the last of these reads fewer bytes than it had room for: the socket is drained
            }
            peer.write(bytes("def")); // a blocking write: the bytes are on their way to the connection's socket
            Coroutine beside = Coroutine.create("beside", () -> log.add("beside " + cutShort(c, buf)));
            beside.join();
            assertThat(LoopProbe.ioWaits()).isZero();
            while (buf.position() < 6) {
                c.read(buf);
            }
            peer.write(bytes("ghi"));
            while (buf.position() < 9) {
                c.read(buf);
            }
            log.add("then read '" + text(buf) + "'");
            assertThat(log).containsExactly("beside timed out having read nothing", "then read 'abcdefghi'");
        }
    }

    /**
     * A read of {@code c} into {@code buf} under a timeout that is due by the time the read parks: the
     * body spins past its deadline first, reaching no scheduling point, so the timer expires at the
     * read's park, before the selector is asked whether bytes came. It spins twice the timeout: the loop
     * rounds a deadline up to its next tick (some tens of microseconds), and a spin of the timeout alone
     * could end before that, the read then parking with the timer not due yet and the bytes winning.
     */
    private static String cutShort(TcpConnection c, ByteBuffer buf) {
        int before = buf.position();
        try {
            int n = Coroutine.callWithTimeout(Duration.ofMillis(1), () -> {
                long due = Coroutine.nanoTime() + 2_000_000;
                while (Coroutine.nanoTime() - due <= 0) {
                    Thread.onSpinWait();
                }
                return c.read(buf);
            });
            return "read " + n + " in time";
        } catch (CoroutineTimeoutException e) {
            return "timed out having read " + (buf.position() == before ? "nothing" : buf.position() - before);
        } catch (IOException e) {
            return "failed: " + e;
        }
    }
}
