package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine;
import dev.coro.Coroutine.State;
import dev.coro.CoroutineTimeoutException;
import dev.coro.FreshThread;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code write(int)} of a connection's {@code output()} view: its bytes arrive in order among array
 * writes, one cut short sends nothing and says so as any write cut short does, one that waits behind
 * another coroutine's parked one never changes the byte that one sends, and it allocates nothing per call.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class SingleByteWriteTest {

    private final List<String> log = new ArrayList<>();

    @Test
    void bytesWrittenOneAtATimeMixedWithArrayWritesArriveInOrderAndComplete() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            byte[] expected = new byte[4 << 20]; // more than the sockets' buffers hold: writes of both kinds park
            for (int i = 0; i < expected.length; i++) {
                expected[i] = (byte) (i * 31 + (i >>> 9));
            }
            Coroutine writer = Coroutine.create("writer", () -> {
                OutputStream out = client.output();
                try {
                    int at = 0;
                    for (int turn = 0; at < expected.length; turn++) {
                        if (turn % 2 == 0) { // a run of single bytes
                            for (int end = Math.min(expected.length, at + 1 + turn % 300); at < end; at++) {
                                out.write(expected[at]);
                            }
                        } else { // then an array, up to 256 KB
                            int len = Math.min(expected.length - at, (turn * 7919) % (256 << 10));
                            out.write(expected, at, len);
                            at += len;
                        }
                    }
                    log.add("writer wrote all");
                    client.shutdownOutput(); // main reads the end of the stream: a byte lost fails the test, not hangs it
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            byte[] got = readToEnd(server, expected.length);
            assertThat(got.length).isEqualTo(expected.length);
            assertThat(Arrays.mismatch(got, expected)).as("the first byte out of place").isEqualTo(-1);
            Coroutine.yield(); // the writer returns from its last write
            assertThat(log).containsExactly("writer wrote all");
            assertThat(writer.isFinished()).isTrue();
        }
    }

    @Test
    void aByteWrittenWhileAnotherCoroutinesSingleByteWriteIsParkedGoesOutAfterItWithoutChangingIt() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            int filled = fill(client);
            // single 'a's until one finds the socket's buffer full and parks
            int sent = 0;
            Coroutine parked = null;
            for (int tries = 0; parked == null && tries < 100_000; tries++) {
                Coroutine a = Coroutine.create("a" + tries, () -> writeByte(client, 'a'));
                Coroutine.yield();
                if (a.state() == State.PARKED) {
                    parked = a;
                } else {
                    assertThat(a.isFinished()).isTrue();
                    sent++;
                }
            }
            assertThat(parked).as("a single-byte write that parks on the full buffer").isNotNull();
            Coroutine b = Coroutine.create("b", () -> {
                writeByte(client, 'b');
                shutdownOutput(client); // main reads the end of the stream: a byte lost fails the test, not hangs it
            });
            Coroutine.yield();
            assertThat(b.state()).as("it waits for the parked write to end").isEqualTo(State.PARKED);

            byte[] got = readToEnd(server, filled + sent + 2);
            assertThat(tail(got, filled)).isEqualTo("a".repeat(sent + 1) + "b");
            Coroutine.yield();
            assertThat(parked.isFinished()).isTrue();
            assertThat(b.isFinished()).isTrue();
        }
    }

    @Test
    void aSingleByteWriteCutShortByATimeoutSendsNothingAddsNothingToTheSignalAndTheNextWritesFollow() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            int filled = fill(client);
            int[] sent = {0};
            CoroutineTimeoutException timeout = null;
            try {
                Coroutine.withTimeout(Duration.ofMillis(20), () -> {
                    for (int i = 0; i < 10_000_000; i++) { // until one finds the buffer full, and is cut short there
                        writeByte(client, 'a');
                        sent[0]++;
                    }
                });
            } catch (CoroutineTimeoutException e) {
                timeout = e;
            }
            assertThat(timeout).as("a write was cut short (after %d single bytes went out)", sent[0]).isNotNull();
            assertThat(timeout.getCause()).as("the signal that unwound it").isNotNull();
            assertThat(timeout.getCause().getSuppressed())
                    .as("none of its one byte went out: nothing to say, as for an array write cut short before its first byte")
                    .isEmpty();
            Coroutine next = Coroutine.create("next", () -> { // the buffer is full: it parks until main reads
                try {
                    client.output().write('x');
                    client.output().write(new byte[] {'y', 'z'});
                    client.output().write('!');
                    client.shutdownOutput();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });

            byte[] got = readToEnd(server, filled + sent[0] + 4);
            assertThat(tail(got, filled)).isEqualTo("a".repeat(sent[0]) + "xyz!");
            Coroutine.yield();
            assertThat(next.isFinished()).isTrue();
        }
    }

    @Test
    void aSingleByteWriteCutShortByACloseOfTheWriterSendsNothingAndTheNextWritesFollow() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            int filled = fill(client);
            int[] sent = {0};
            Coroutine writer = Coroutine.create("writer", () -> {
                try {
                    for (int i = 0; i < 10_000_000; i++) { // until one finds the buffer full and parks
                        writeByte(client, 'a');
                        sent[0]++;
                    }
                    log.add("writer wrote all");
                } finally {
                    log.add("writer's finally");
                }
            });
            Coroutine.yield();
            assertThat(writer.state()).isEqualTo(State.PARKED);
            writer.close();
            assertThat(log).containsExactly("writer's finally");
            assertThat(writer.state()).isEqualTo(State.CLOSED);
            Coroutine next = Coroutine.create("next", () -> {
                writeByte(client, 'x');
                writeByte(client, 'y');
                shutdownOutput(client);
            });

            byte[] got = readToEnd(server, filled + sent[0] + 2);
            assertThat(tail(got, filled)).isEqualTo("a".repeat(sent[0]) + "xy");
            Coroutine.yield();
            assertThat(next.isFinished()).isTrue();
        }
    }

    /**
     * 100,000 calls of {@code write(int)} to a connection whose peer drains it allocate far less than
     * 16 bytes a call (an array of one byte alone takes 16): nothing is made per call.
     */
    @Test
    void writingSingleBytesAllocatesNothingPerCall() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection server = listener.accept()) {
            CompletableFuture<Long> drained = new CompletableFuture<>();
            Thread.ofPlatform().name("peer-drainer").start(() -> {
                try {
                    ByteBuffer in = ByteBuffer.allocate(64 * 1024);
                    long total = 0;
                    for (int n; (n = peer.read(in.clear())) >= 0; ) { // blocking, until the server closes
                        total += n;
                    }
                    drained.complete(total);
                } catch (Throwable e) {
                    drained.completeExceptionally(e);
                }
            });
            int calls = 100_000;
            OutputStream out = server.output();
            Runnable writes = () -> {
                try {
                    for (int i = 0; i < calls; i++) {
                        out.write(i);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            };
            com.sun.management.ThreadMXBean threads =
                    (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
            writes.run(); // to warm up: a class loaded, a method compiled, the JDK's temporary buffer made
            long least = Long.MAX_VALUE;
            for (int run = 0; run < 2; run++) {
                long before = threads.getCurrentThreadAllocatedBytes();
                writes.run();
                least = Math.min(least, threads.getCurrentThreadAllocatedBytes() - before);
            }
            server.close();
            assertThat(Coroutine.await(drained)).as("every byte reached the peer").isEqualTo(3L * calls);
            assertThat(least).as("bytes allocated by %d calls of write(int)", calls).isLessThan(calls * 16L / 10);
        }
    }

    /**
     * Fills the sockets' buffers from {@code client}: a coroutine writes 8 MB of {@code 'w'}, parks
     * on the full buffer, and is closed; returns how many of its bytes went out.
     */
    private static int fill(TcpConnection client) {
        ByteBuffer w = ByteBuffer.allocate(8 << 20);
        Arrays.fill(w.array(), (byte) 'w');
        Coroutine filler = Coroutine.create("filler", () -> {
            try {
                client.write(w);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        Coroutine.yield();
        assertThat(filler.state()).as("the filler parked on the full buffer").isEqualTo(State.PARKED);
        filler.close();
        assertThat(w.position()).isBetween(1, w.capacity() - 1);
        return w.position();
    }

    /**
     * Reads from {@code c} up to the end of the stream, parking as needed: what arrived, up to one
     * byte more than the {@code expected} count (a read past that stops).
     */
    private static byte[] readToEnd(TcpConnection c, int expected) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(expected + 1);
        for (int reads = 0; buf.hasRemaining() && reads < 10_000_000; reads++) {
            if (c.read(buf) < 0) {
                break;
            }
        }
        return Arrays.copyOf(buf.array(), buf.position());
    }

    /** The bytes after the {@code filled} {@code 'w'}s of {@link #fill}, which it checks, as text. */
    private static String tail(byte[] got, int filled) {
        assertThat(got.length).as("bytes read").isGreaterThanOrEqualTo(filled);
        byte[] w = new byte[filled];
        Arrays.fill(w, (byte) 'w');
        assertThat(Arrays.mismatch(got, 0, filled, w, 0, filled)).as("the first of the filler's bytes out of place").isEqualTo(-1);
        return new String(got, filled, got.length - filled, StandardCharsets.US_ASCII);
    }

    private static void shutdownOutput(TcpConnection c) {
        try {
            c.shutdownOutput();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void writeByte(TcpConnection c, char b) {
        try {
            c.output().write(b);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
