package dev.coro.net;

import static dev.coro.net.IoTimeoutTest.patterned;
import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static dev.coro.net.TcpConnectionTest.name;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Coroutine;
import dev.coro.Coroutine.State;
import dev.coro.CoroutineExit;
import dev.coro.CoroutinePool;
import dev.coro.CoroutineTimeoutException;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import dev.coro.VirtualTime;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A connection's bytes when the waits of its reads and writes are cut short (a {@code withTimeout} on
 * the real or the virtual clock, a {@code closeNow} of its pool, a close of the connection by another
 * coroutine) and when it is closed with bytes unsent: every byte the caller is told went out reaches
 * the peer once, in order, none more, and the {@code java.io} views keep the contracts of their types.
 */
@Tag("net")
@ExtendWith(FreshThread.class)
class CutShortBytesTest {

    private final List<String> log = new ArrayList<>();

    /** Reads {@code peer} (blocking) to the end of the stream, at most {@code most} bytes. */
    private static byte[] readToEnd(SocketChannel peer, int most) throws IOException {
        ByteBuffer in = ByteBuffer.allocate(most + 1);
        while (peer.read(in) >= 0 && in.hasRemaining()) {
            // until the end of the stream
        }
        return Arrays.copyOf(in.array(), in.position());
    }

    /** How long a peer waits for the close it is told of before it reads anyway: a guard against a hang, not a timing assertion. */
    private static final long GUARD_SECONDS = 10;

    /**
     * A write cut short leaves bytes unsent in the socket of a connection whose {@code SO_LINGER} is
     * positive (a minute), its peer not reading: the connection's close returns at once, where the
     * kernel's close of the socket would hold the thread, and every coroutine of it, until the peer
     * had read them; the peer, reading only once the close has returned, gets exactly the bytes the
     * writer's buffer says went out, then the end of the stream. So too when a pool thread ending
     * ({@code closeNow}) closes such a connection its coroutine left open under a parked write.
     */
    @Test
    void aCloseWithAPositiveLingerAndBytesUnsentReturnsAtOnceAndThePeerGetsThemAfterIt() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection c = listener.accept()) {
            c.setOption(StandardSocketOptions.SO_LINGER, 60);
            byte[] data = patterned(16 << 20); // far more than the two sockets' buffers hold
            ByteBuffer src = ByteBuffer.wrap(data);
            Crew crew = new Crew();
            Coroutine writer = crew.spawn("writer", () -> {
                try {
                    c.write(src);
                    log.add("wrote all");
                } catch (IOException e) {
                    log.add(e.getMessage());
                }
            });
            Coroutine.yield();
            assertThat(writer.state()).as("parked with the buffers full").isEqualTo(State.PARKED);
            CountDownLatch closed = new CountDownLatch(1);
            CompletableFuture<String> peerRead = readAfter(closed, peer, data);
            c.close();
            closed.countDown();
            crew.join();
            assertThat(log).containsExactly("coroutine 'writer' cannot write to " + name(c)
                    + " (closed): the connection was closed while it waited");
            assertThat(Coroutine.await(peerRead)).isEqualTo("read after the close: " + src.position() + " bytes, in order");
        }
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(LOOPBACK)) {
            byte[] data = patterned(16 << 20);
            ByteBuffer src = ByteBuffer.wrap(data);
            CompletableFuture<State> parked = new CompletableFuture<>();
            CoroutinePool pool = CoroutinePool.start(1);
            pool.execute(() -> {
                try {
                    TcpConnection c = TcpConnection.connect(server.getLocalAddress());
                    c.setOption(StandardSocketOptions.SO_LINGER, 60);
                    Coroutine w = Coroutine.create("writer", () -> {
                        try {
                            c.write(src);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    });
                    for (int i = 0; i < 1000 && w.state() != State.PARKED; i++) {
                        Coroutine.yield(); // it writes what the sockets take, then parks
                    }
                    parked.complete(w.state());
                } catch (IOException e) {
                    parked.completeExceptionally(e);
                }
            });
            try (SocketChannel peer = server.accept()) {
                assertThat(parked.get(GUARD_SECONDS, TimeUnit.SECONDS)).as("the writer, with the buffers full").isEqualTo(State.PARKED);
                CountDownLatch closed = new CountDownLatch(1);
                CompletableFuture<String> peerRead = readAfter(closed, peer, data);
                pool.closeNow(); // unwinds the writer, and the thread's end closes the connection it left open
                closed.countDown();
                assertThat(peerRead.get(2 * GUARD_SECONDS, TimeUnit.SECONDS))
                        .isEqualTo("read after the close: " + src.position() + " bytes, in order");
            }
        }
    }

    /**
     * A peer on a thread of its own that reads {@code peer} to the end of the stream once {@code closed}
     * is counted down, or once the guard has passed (then saying so: the close held its thread until
     * the peer read), and says how many bytes it got and whether they were {@code data}'s first, in order.
     */
    private static CompletableFuture<String> readAfter(CountDownLatch closed, SocketChannel peer, byte[] data) {
        CompletableFuture<String> said = new CompletableFuture<>();
        Thread.ofPlatform().name("peer-reader").start(() -> {
            try {
                String when = closed.await(GUARD_SECONDS, TimeUnit.SECONDS) ? "after the close" : "before the close returned";
                byte[] got = readToEnd(peer, data.length);
                said.complete("read " + when + ": " + got.length + " bytes, "
                        + (Arrays.equals(data, 0, got.length, got, 0, got.length) ? "in order" : "not in order"));
            } catch (Throwable e) {
                said.completeExceptionally(e);
            }
        });
        return said;
    }
}
