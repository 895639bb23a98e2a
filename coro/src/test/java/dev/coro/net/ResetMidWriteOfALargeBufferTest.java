package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.name;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine;
import dev.coro.Coroutine.State;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import java.io.IOException;
import java.net.SocketException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A peer that resets the connection while a write of a buffer far larger than the sockets' buffers is
 * parked part way fails that write with a {@code SocketException}, as {@code java.net.Socket}'s stream
 * fails it, naming the writer, the connection and the state, the JDK's plain {@code IOException} its
 * cause; the buffer's position says how far the write got, within the bytes it was given: for a direct
 * buffer (handed to the socket whole), a read-only one, and a slice of a heap array at an offset
 * (handed in windows), in main and in a coroutine. No wait is left behind.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class ResetMidWriteOfALargeBufferTest {

    /** Far more than the two sockets' buffers hold, so that a write parks part way. */
    private static final int LARGE = 8 << 20;

    @Test
    @Timeout(30)
    void aDirectBufferWriteParkedPartWayFailsWithASocketExceptionItsPositionAtTheBytesThatWentOut() throws Exception {
        resetMidWrite(() -> ByteBuffer.allocateDirect(LARGE), 0);
    }

    @Test
    @Timeout(30)
    void aReadOnlyBufferWriteParkedPartWayFailsWithASocketExceptionItsPositionAtTheBytesThatWentOut() throws Exception {
        resetMidWrite(() -> ByteBuffer.allocate(LARGE).asReadOnlyBuffer(), 0);
    }

    @Test
    @Timeout(30)
    void aWriteOfASliceOfAHeapArrayAtAnOffsetParkedPartWayFailsWithASocketExceptionWithinItsOwnBytes() throws Exception {
        resetMidWrite(() -> ByteBuffer.allocate(LARGE + 1000).position(700).slice().position(300).limit(LARGE - 50), 300);
    }

    /** A write of a buffer made by {@code buffers}, from {@code start}, in main and then in a coroutine, the peer resetting it part way. */
    private static void resetMidWrite(Supplier<ByteBuffer> buffers, int start) throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            // in main: a coroutine resets the peer once main parks part way through its write
            try (SocketChannel peer = SocketChannel.open(listener.localAddress());
                 TcpConnection c = listener.accept()) {
                ByteBuffer src = buffers.get();
                int limit = src.limit();
                Coroutine.create("resetter", () -> reset(peer));
                IOException e = thrown(c, src);
                assertResetWrite(e, "main context 'main'", c);
                assertThat(src.position()).as("how far the write got").isBetween(start + 1, limit - 1);
                assertThat(src.limit()).isEqualTo(limit);
                assertThat(LoopProbe.ioWaits()).as("no wait left behind").isZero();
            }
            // in a coroutine: main resets the peer once the writer is parked part way
            try (SocketChannel peer = SocketChannel.open(listener.localAddress());
                 TcpConnection c = listener.accept()) {
                ByteBuffer src = buffers.get();
                int limit = src.limit();
                AtomicReference<IOException> failure = new AtomicReference<>();
                Crew crew = new Crew();
                Coroutine writer = crew.spawn("writer", () -> failure.set(thrown(c, src)));
                while (!writer.isFinished() && writer.state() != State.PARKED) {
                    Coroutine.yield();
                }
                assertThat(writer.state()).as("parked part way").isEqualTo(State.PARKED);
                assertThat(src.position()).isBetween(start + 1, limit - 1);
                reset(peer);
                crew.join();
                assertResetWrite(failure.get(), "coroutine 'writer'", c);
                assertThat(src.position()).as("how far the write got").isBetween(start + 1, limit - 1);
                assertThat(LoopProbe.ioWaits()).as("no wait left behind").isZero();
            }
        }
    }

    /** The failure of a write of {@code c} told of the reset first: a SocketException, the JDK's plain IOException its cause. */
    private static void assertResetWrite(IOException e, String caller, TcpConnection c) {
        assertThat(e.getCause()).as("the kernel's report, as the JDK gives it").isExactlyInstanceOf(IOException.class);
        assertThat(e).isExactlyInstanceOf(SocketException.class)
                .hasMessage(caller + " cannot write to " + name(c) + " (open): " + e.getCause());
        assertThat(c).hasToString("TcpConnection[" + c.localAddress() + " -> " + c.remoteAddress() + ", open, failed]");
    }

    /** What a write of {@code src} to {@code c} throws; fails if it returns. */
    private static IOException thrown(TcpConnection c, ByteBuffer src) {
        try {
            c.write(src);
        } catch (IOException e) {
            return e;
        }
        throw new AssertionError("the write returned");
    }

    /** Resets the connection from the plain peer's side, which never read: a linger of 0, then a close. */
    private static void reset(SocketChannel peer) {
        try {
            peer.setOption(StandardSocketOptions.SO_LINGER, 0);
            peer.close();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
