package dev.coro.net;

import static dev.coro.net.IoTimeoutTest.patterned;
import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.name;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.FreshThread;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The {@code readAllBytes()} and {@code readNBytes(len)} of a connection's input view at the largest array they
 * can return: a stream that ends there is read whole, one that goes on past it fails with an
 * {@code OutOfMemoryError} naming the caller, the call, the connection, its state and that size, the bytes it
 * read, lost with the array, counted in a note. The largest array is lowered for these tests to 16 KiB (two of
 * the views' first 8 KiB arrays), so that no gigabyte of bytes is needed to reach it.
 */
@Tag("net")
@ExtendWith(FreshThread.class)
class ReadPastTheLargestArrayTest {

    /** The largest array of these tests. */
    private static final int MOST = 16 * 1024;

    /** What a call of the input view does. */
    private interface Read {
        byte[] from(InputStream in) throws IOException;
    }

    @Test
    void aReadAllBytesOfAStreamLongerThanTheLargestArrayFailsNamingTheCallTheConnectionAndTheSize() throws Exception {
        pastTheLargestArray(InputStream::readAllBytes, "all bytes",
                (MOST + 1) + " bytes of this read to the end of the stream were read");
    }

    @Test
    void aReadNBytesOfMoreThanTheLargestArrayFromALongerStreamFailsNamingTheCallTheConnectionAndTheSize() throws Exception {
        pastTheLargestArray(in -> in.readNBytes(Integer.MAX_VALUE), Integer.MAX_VALUE + " bytes",
                (MOST + 1) + " of the " + Integer.MAX_VALUE + " bytes of this read were read");
    }

    @Test
    void aReadAllBytesOfAStreamThatEndsAtTheLargestArrayReturnsItWhole() throws Exception {
        assertThat(endingAtTheLargestArray(InputStream::readAllBytes)).isEqualTo(patterned(MOST));
    }

    @Test
    void aReadNBytesOfMoreThanTheLargestArrayFromAStreamThatEndsThereReturnsItWhole() throws Exception {
        assertThat(endingAtTheLargestArray(in -> in.readNBytes(Integer.MAX_VALUE))).isEqualTo(patterned(MOST));
    }

    /**
     * What {@code read} gives of a stream of exactly {@code MOST} bytes, whose peer then ends it; it must not throw
     * (an {@code OutOfMemoryError} let out of a test would end the whole run).
     */
    private static byte[] endingAtTheLargestArray(Read read) throws Exception {
        int before = ConnectionInput.maxArray;
        ConnectionInput.maxArray = MOST;
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection c = listener.accept()) {
            Thread writer = sending(peer, MOST);
            byte[][] got = new byte[1][];
            Throwable thrown = catchThrowable(() -> got[0] = read.from(c.input()));
            writer.join();
            assertThat(thrown).as("what the read threw").isNull();
            return got[0];
        } finally {
            ConnectionInput.maxArray = before;
        }
    }

    /**
     * A peer sends {@code MOST + 100} bytes and ends its stream; {@code read}, {@code call} as its message names
     * it, fails once the largest array is full and another byte came, its note saying {@code counted}.
     */
    private static void pastTheLargestArray(Read read, String call, String counted) throws Exception {
        int before = ConnectionInput.maxArray;
        ConnectionInput.maxArray = MOST;
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection c = listener.accept()) {
            Thread writer = sending(peer, MOST + 100);
            Throwable thrown = catchThrowable(() -> read.from(c.input()));
            writer.join();
            assertThat(thrown).isExactlyInstanceOf(OutOfMemoryError.class)
                    .hasMessage("main context 'main' cannot read " + call + " from " + name(c) + " (open): more bytes came than the "
                            + MOST + " an array holds");
            assertThat(thrown.getSuppressed()).hasSize(1);
            assertThat(thrown.getSuppressed()[0]).isExactlyInstanceOf(IOException.class)
                    .hasMessage("main context 'main' was interrupted reading from " + name(c) + " (open): " + counted
                            + " before it; they are lost with the array it did not return");
            assertThat(c.input().readAllBytes()).as("the rest, after what the failed call took").hasSize(100 - 1);
        } finally {
            ConnectionInput.maxArray = before;
        }
    }

    /** A platform thread that writes {@code n} patterned bytes to {@code peer}, then ends its stream. */
    private static Thread sending(SocketChannel peer, int n) {
        return Thread.ofPlatform().name("peer").start(() -> {
            try {
                ByteBuffer b = ByteBuffer.wrap(patterned(n));
                while (b.hasRemaining()) {
                    peer.write(b);
                }
                peer.shutdownOutput();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }
}
