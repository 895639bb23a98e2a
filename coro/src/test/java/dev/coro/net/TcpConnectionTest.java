package dev.coro.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.coro.Coroutine;
import dev.coro.Coroutine.State;
import dev.coro.FreshThread;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * How a {@link TcpConnection} and a {@link TcpListener} fail: a reset or closed peer, a half-close, a
 * close while another coroutine waits, and a call from a thread that does not own them.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class TcpConnectionTest {

    static final InetSocketAddress LOOPBACK = new InetSocketAddress("127.0.0.1", 0);

    private final List<String> log = new ArrayList<>();

    /** {@code connection A -> B} as messages and dumps name it. */
    static String name(TcpConnection c) {
        return "connection " + c.localAddress() + " -> " + c.remoteAddress();
    }

    static String text(ByteBuffer b) {
        return StandardCharsets.UTF_8.decode(b.flip()).toString();
    }

    static ByteBuffer bytes(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aPeerResetFailsThePendingReadWithAnIOExceptionNamingTheReaderAndTheConnection() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             // a plain blocking peer: on loopback the kernel completes its connect through the backlog
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection c = listener.accept()) {
            Crew crew = new Crew();
            AtomicReference<IOException> failure = new AtomicReference<>();
            Coroutine reader = crew.spawn("reader", () -> {
                try {
                    int n = c.read(ByteBuffer.allocate(16));
                    log.add("read returned " + n);
                } catch (IOException e) {
                    failure.set(e);
                } finally {
                    log.add("reader's finally");
                }
            });
            Coroutine.yield();
            assertThat(reader.state()).as("no data yet: parked in read").isEqualTo(State.PARKED);
            assertThat(Coroutine.dump()).contains("coroutine 'reader': PARKED, waits to read from " + name(c));

            peer.setOption(StandardSocketOptions.SO_LINGER, 0);
            peer.close(); // linger 0: the close sends a reset
            crew.join();

            assertThat(log).containsExactly("reader's finally");
            assertThat(failure.get())
                    .hasMessage("coroutine 'reader' cannot read from " + name(c)
                            + " (open): java.net.SocketException: Connection reset")
                    .hasCauseInstanceOf(SocketException.class);
        }
    }

    /**
     * The kernel reports a reset to the first call that looks, and to later ones only the end of the
     * stream: a reader parked beside a writer when the peer resets must not take the reset that the
     * writer was told of for an orderly end of the stream, nor may a read that follows a failed one.
     */
    @Test
    void aPeerResetFailsTheReaderParkedBesideAWriterInsteadOfReadingAnOrderlyEndOfTheStream() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection c = listener.accept()) {
            Crew crew = new Crew();
            List<IOException> failures = new ArrayList<>();
            crew.spawn("reader", () -> {
                try {
                    log.add("reader read " + c.read(ByteBuffer.allocate(16)));
                } catch (IOException e) {
                    failures.add(e);
                    log.add("reader failed");
                }
            });
            crew.spawn("writer", () -> {
                try {
                    c.write(ByteBuffer.allocate(64 << 20)); // the peer never reads: parks with the buffers full
                    log.add("writer wrote it all");
                } catch (IOException e) {
                    failures.add(e);
                    log.add("writer failed");
                }
            });
            Coroutine.yield();
            assertThat(Coroutine.dump())
                    .contains("coroutine 'reader': PARKED, waits to read from " + name(c))
                    .contains("coroutine 'writer': PARKED, waits to write to " + name(c));

            peer.setOption(StandardSocketOptions.SO_LINGER, 0);
            peer.close(); // linger 0: the close sends a reset
            crew.join();

            assertThat(log).containsExactlyInAnyOrder("reader failed", "writer failed");
            for (IOException e : failures) {
                assertThat(e).hasMessageMatching("coroutine '(reader|writer)' cannot (read from|write to) "
                        + java.util.regex.Pattern.quote(name(c)) + " \\(open(, failed)?\\): .+");
            }
            assertThatThrownBy(() -> c.read(ByteBuffer.allocate(16)))
                    .as("a read after the failure")
                    .isInstanceOf(IOException.class)
                    .hasMessageStartingWith("main context 'main' cannot read from " + name(c) + " (open, failed): ");
            assertThat(c.toString()).endsWith(", open, failed]");
        }
    }

    /**
     * A read that returned -1 read the peer's orderly end: a write to that peer failing afterwards
     * (the peer has closed, so the kernel answers with a broken pipe) is no reason for the reads that
     * follow to claim the end was not the peer's: they return -1 again, as the first one did.
     */
    @Test
    void aReadThatReturnedThePeersOrderlyEndReturnsItAgainAfterAWriteToThatPeerFailed() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection c = listener.accept()) {
            peer.close(); // an orderly close: the peer's end of the stream
            assertThat(c.read(ByteBuffer.allocate(4))).isEqualTo(-1);
            IOException failed = null;
            for (int i = 0; i < 10 && failed == null; i++) { // the peer answers the first with a reset
                try {
                    c.write(bytes("x"));
                } catch (IOException e) {
                    failed = e;
                }
                Coroutine.yield();
            }
            assertThat(failed).as("a write to the closed peer fails").isNotNull();
            assertThat(c.toString()).endsWith(", open, failed]");
            assertThat(c.read(ByteBuffer.allocate(4))).as("the end again").isEqualTo(-1);
            assertThat(c.input().read()).as("through the view too").isEqualTo(-1);
        }
    }

    /**
     * The frames of a context parked on the network start at the call it waits in, as a parked
     * receive's start at {@code Channel.receive} ({@code Coroutine.stackTrace()}): {@code TcpListener.accept},
     * {@code TcpConnection.read}, {@code TcpConnection.write} (parked part way), {@code Io.await}, and a
     * view's {@code read} under the {@code BufferedReader} that called it; then the caller's frames, and
     * no frame of the machinery that parks it. The dump shows the same.
     */
    @Test
    @Timeout(30)
    void theFramesOfAContextParkedOnTheNetworkStartAtTheCallItWaitsIn() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress()); // never reads: the writer parks
             TcpConnection c = listener.accept();
             SocketChannel viewPeer = SocketChannel.open(listener.localAddress());
             TcpConnection viewed = listener.accept();
             TcpListener idle = TcpListener.bind(LOOPBACK)) {
            java.nio.channels.Pipe pipe = java.nio.channels.Pipe.open();
            pipe.source().configureBlocking(false);
            java.io.BufferedReader lines = new java.io.BufferedReader(new java.io.InputStreamReader(viewed.input(),
                    StandardCharsets.UTF_8));
            List<Coroutine> parked = List.of(
                    Coroutine.create("accepter", () -> accept(idle)),
                    Coroutine.create("reader", () -> read(c)),
                    Coroutine.create("writer", () -> {
                        try {
                            c.write(ByteBuffer.allocate(64 << 20));
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }),
                    Coroutine.create("awaiter", () -> {
                        try {
                            Io.await(pipe.source(), java.nio.channels.SelectionKey.OP_READ);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }),
                    Coroutine.create("line reader", () -> {
                        try {
                            lines.readLine();
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }));
            Coroutine.yield();
            List<String> tops = new ArrayList<>();
            for (Coroutine p : parked) {
                assertThat(p.state()).as(p.name()).isEqualTo(State.PARKED);
                StackTraceElement[] frames = p.stackTrace();
                assertThat(frames).as(p.name()).noneMatch(f -> f.getClassName().startsWith("dev.coro.")
                        && !f.getClassName().startsWith("dev.coro.net.") && !f.getClassName().startsWith("dev.coro.net.TcpConnectionTest"));
                String next = p.name().equals("line reader") ? frames[1].getClassName() : frames[1].getClassName().replaceAll("\\$.*", "");
                tops.add(p.name() + ": " + frames[0].getClassName() + "." + frames[0].getMethodName() + " < " + next);
            }
            assertThat(tops).containsExactly(
                    "accepter: dev.coro.net.TcpListener.accept < dev.coro.net.TcpConnectionTest",
                    "reader: dev.coro.net.TcpConnection.read < dev.coro.net.TcpConnectionTest",
                    "writer: dev.coro.net.TcpConnection.write < dev.coro.net.TcpConnectionTest",
                    "awaiter: dev.coro.net.Io.await < dev.coro.net.TcpConnectionTest",
                    "line reader: dev.coro.net.ConnectionInput.read < sun.nio.cs.StreamDecoder");
            assertThat(Coroutine.dump()).doesNotContain("dev.coro.IoSupport").contains("at dev.coro.net.TcpConnection.read(");
            for (Coroutine p : parked) {
                p.close();
            }
            pipe.sink().close();
            pipe.source().close();
        }
    }

    /**
     * A connection's waits are kept and used again (nothing is allocated per read), so each wait must
     * name the context and the operation of its own use: two readers one after the other, each parked
     * twice, are each shown as the one parked, reading, and get their own bytes.
     */
    @Test
    void eachWaitOnAConnectionNamesItsOwnReaderEvenWhenTheConnectionsWaitsAreReused() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            List<String> got = new ArrayList<>();
            String parked = ": PARKED, waits to read from " + name(server);
            for (String reader : List.of("first", "second")) {
                Coroutine c = Coroutine.create(reader, () -> {
                    ByteBuffer buf = ByteBuffer.allocate(16);
                    try {
                        for (int i = 0; i < 2; i++) {
                            server.read(buf.clear());
                            got.add(reader + " got " + text(buf));
                        }
                    } catch (IOException e) {
                        got.add(reader + " failed: " + e);
                    }
                });
                for (int i = 0; i < 2; i++) {
                    Coroutine.yield();
                    assertThat(c.state()).isEqualTo(State.PARKED);
                    assertThat(Coroutine.dump()).contains("coroutine '" + reader + "'" + parked)
                            .doesNotContain(reader.equals("first") ? "'second'" : "'first'");
                    client.write(bytes(reader.charAt(0) + "" + i));
                    while (got.size() < (reader.equals("first") ? 1 : 3) + i) {
                        Coroutine.yield();
                    }
                }
                assertThat(c.isFinished()).isTrue();
            }
            assertThat(got).containsExactly("first got f0", "first got f1", "second got s0", "second got s1");
        }
    }

    @Test
    void twoCoroutinesWritingToOneConnectionEachGetTheirBufferOutWholeNotInterleavedWithTheOthers() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            int size = 8 << 20; // past what the socket buffers hold: the first writer parks part way
            List<Coroutine> writers = new ArrayList<>();
            for (char letter : new char[] {'a', 'b'}) {
                byte[] message = new byte[size];
                java.util.Arrays.fill(message, (byte) letter);
                writers.add(Coroutine.create("writer " + letter, () -> {
                    try {
                        client.write(ByteBuffer.wrap(message));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }));
                Coroutine.yield(); // it writes what the socket takes, then parks on the full buffer
                assertThat(writers.getLast().state()).isEqualTo(State.PARKED);
            }
            // main reads on until the socket is drained and it parks: both writers are woken, b runs first
            assertThat(runsOfBytes(server, 2L * size)).as("each write goes out whole, in the order the writes began")
                    .isEqualTo("ab");
            assertThat(writers).allMatch(Coroutine::isFinished);
        }
    }

    @Test
    void aWriteWaitingForAnotherCoroutinesWriteGoesOutWholeOnceThatOneIsCutShortByAClose() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            int size = 8 << 20;
            ByteBuffer a = ByteBuffer.allocate(size);
            java.util.Arrays.fill(a.array(), (byte) 'a');
            byte[] b = new byte[1000];
            java.util.Arrays.fill(b, (byte) 'b');
            List<String> ends = new ArrayList<>();
            Coroutine first = Coroutine.create("first", () -> {
                try {
                    client.write(a);
                } catch (IOException e) {
                    ends.add("first: " + e);
                }
            });
            Coroutine.yield();
            Coroutine second = Coroutine.create("second", () -> {
                try {
                    client.write(ByteBuffer.wrap(b));
                    ends.add("second wrote all");
                } catch (IOException e) {
                    ends.add("second: " + e);
                }
            });
            Coroutine.yield();
            assertThat(second.state()).isEqualTo(State.PARKED);
            first.close();
            int written = a.position();
            assertThat(written).isBetween(1, size - 1);
            assertThat(runsOfBytes(server, written + b.length)).isEqualTo("ab");
            assertThat(ends).containsExactly("second wrote all");
            assertThat(first.state()).isEqualTo(State.CLOSED);
        }
    }

    /**
     * Reads {@code expected} bytes from {@code server} (a bounded number of reads) and returns the
     * runs of equal bytes they came in, one character per run: {@code "ab"} for a's, then b's.
     */
    private static String runsOfBytes(TcpConnection server, long expected) throws IOException {
        StringBuilder runs = new StringBuilder();
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        long total = 0;
        for (int reads = 0; total < expected && reads < 1_000_000; reads++) {
            int n = server.read(buf.clear());
            for (int i = 0; i < n; i++) {
                char c = (char) buf.get(i);
                if (runs.isEmpty() || runs.charAt(runs.length() - 1) != c) {
                    runs.append(c);
                }
            }
            total += n;
        }
        assertThat(total).as("bytes read").isEqualTo(expected);
        return runs.toString();
    }

    @Test
    void aWriteToAClosedPeerFailsWithAnIOExceptionWithinABoundedNumberOfWrites() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection c = listener.accept()) {
            peer.close(); // an orderly close: the first bytes written to it draw a reset
            Crew crew = new Crew();
            AtomicReference<IOException> failure = new AtomicReference<>();
            int[] writes = {0};
            crew.spawn("writer", () -> {
                ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
                try {
                    while (writes[0] < 1000) {
                        c.write(chunk.clear());
                        writes[0]++;
                    }
                } catch (IOException e) {
                    failure.set(e);
                }
            });
            crew.join();

            assertThat(writes[0]).as("writes that succeeded before the failure").isLessThan(1000);
            assertThat(failure.get()).isNotNull();
            assertThat(failure.get().getMessage())
                    .startsWith("coroutine 'writer' cannot write to " + name(c) + " (open): java.");
            assertThat(failure.get().getCause()).isInstanceOf(IOException.class);
            assertThat(failure.get().getMessage()).endsWith(": " + failure.get().getCause());
        }
    }

    /**
     * A write after {@code shutdownOutput()} is refused without reaching the socket: a non-blocking
     * channel's write would call the kernel, which reports a reset to one call only, and the JDK hides
     * what the kernel said behind an {@code AsynchronousCloseException}; the reads that follow would
     * then find the end of the stream and return -1, taking a peer's reset for its orderly end.
     */
    @Test
    void aWriteAfterShutdownOutputLeavesAPeerResetToTheReadsThatFollow() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection c = listener.accept()) {
            c.shutdownOutput();
            peer.setOption(StandardSocketOptions.SO_LINGER, 0);
            peer.close(); // linger 0: the close sends a reset, which loopback delivers before the close returns

            assertThatThrownBy(() -> c.write(bytes("more")))
                    .isInstanceOf(IOException.class)
                    .hasMessage("main context 'main' cannot write to " + name(c)
                            + " (open, output shut down): java.nio.channels.AsynchronousCloseException")
                    .hasCauseInstanceOf(AsynchronousCloseException.class);
            assertThatThrownBy(() -> c.read(ByteBuffer.allocate(16)))
                    .as("the read after it: the peer reset the connection, it did not end it")
                    .isInstanceOf(IOException.class)
                    .hasMessageStartingWith("main context 'main' cannot read from " + name(c) + " (open, output shut down): ")
                    .hasCauseInstanceOf(SocketException.class);
            assertThat(c.toString()).endsWith(", open, output shut down, failed]");
        }
    }

    /**
     * The same for a write parked on a full buffer when its connection's output is shut down: woken,
     * it fails without reaching the socket, and a reset of the peer meanwhile is left to the read.
     */
    @Test
    void aWriteParkedWhenTheOutputIsShutDownLeavesAPeerResetToTheReadsThatFollow() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection c = listener.accept()) {
            Crew crew = new Crew();
            AtomicReference<IOException> failure = new AtomicReference<>();
            Coroutine writer = crew.spawn("writer", () -> {
                ByteBuffer src = ByteBuffer.allocate(64 << 20); // the peer never reads: parks with the buffers full
                try {
                    c.write(src);
                    log.add("wrote it all");
                } catch (IOException e) {
                    failure.set(e);
                }
            });
            Coroutine.yield();
            assertThat(writer.state()).as("parked with the buffers full").isEqualTo(State.PARKED);

            c.shutdownOutput(); // the writer is woken, and runs once main waits
            peer.setOption(StandardSocketOptions.SO_LINGER, 0);
            peer.close(); // linger 0: a reset, delivered on loopback before the close returns
            crew.join();

            assertThat(log).isEmpty();
            assertThat(failure.get())
                    .hasMessageStartingWith("coroutine 'writer' cannot write to " + name(c) + " (open, output shut down): ")
                    .hasCauseInstanceOf(AsynchronousCloseException.class);
            assertThatThrownBy(() -> c.read(ByteBuffer.allocate(16)))
                    .as("the read after it: the peer reset the connection, it did not end it")
                    .isInstanceOf(IOException.class)
                    .hasMessageStartingWith("main context 'main' cannot read from " + name(c) + " (open, output shut down): ")
                    .hasCauseInstanceOf(SocketException.class);
        }
    }

    @Test
    void afterShutdownOutputThePeerReadsTheEndOfTheStreamAndCanStillWriteBack() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            Crew crew = new Crew();
            crew.spawn("server", () -> {
                try (TcpConnection c = listener.accept()) {
                    ByteBuffer buf = ByteBuffer.allocate(100);
                    int n;
                    while ((n = c.read(buf)) >= 0) {
                        log.add("server read " + n);
                    }
                    log.add("server read -1 after '" + text(buf) + "'");
                    assertThat(c.read(ByteBuffer.allocate(1))).as("the end again").isEqualTo(-1);
                    c.write(bytes("reply to " + buf.limit() + " bytes"));
                    log.add("server wrote its reply");
                }
            });
            crew.spawn("client", () -> {
                try (TcpConnection c = TcpConnection.connect(listener.localAddress())) {
                    c.write(bytes("request"));
                    c.shutdownOutput();
                    log.add("client shut its output down");
                    assertThatThrownBy(() -> c.write(bytes("more")))
                            .isInstanceOf(IOException.class)
                            .hasMessage("coroutine 'client' cannot write to " + name(c)
                                    + " (open, output shut down): java.nio.channels.AsynchronousCloseException")
                            .hasCauseInstanceOf(AsynchronousCloseException.class);
                    assertThat(c).hasToString("TcpConnection[" + c.localAddress() + " -> " + c.remoteAddress()
                            + ", open, output shut down]");
                    ByteBuffer buf = ByteBuffer.allocate(100);
                    while (c.read(buf) >= 0) {
                        // until the server closes
                    }
                    log.add("client read '" + text(buf) + "' then -1");
                }
            });
            crew.join();
        }
        assertThat(log).containsExactly(
                "client shut its output down",
                "server read 7",
                "server read -1 after 'request'",
                "server wrote its reply",
                "client read 'reply to 7 bytes' then -1");
    }

    /**
     * The exception of a wait that a close fails is thrown by the waiter: its stack trace must show
     * where the waiter waited ({@code TcpConnection.read} and the waiter's code), not the closer's
     * stack, which says nothing of the call that failed.
     */
    @Test
    void theExceptionOfAWaitFailedByACloseShowsTheWaitersStackNotTheClosers() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection c = listener.accept()) {
            Crew crew = new Crew();
            AtomicReference<IOException> failure = new AtomicReference<>();
            crew.spawn("reader", () -> {
                try {
                    c.read(ByteBuffer.allocate(16));
                } catch (IOException e) {
                    failure.set(e);
                }
            });
            Coroutine.yield();
            closeFromHere(c);
            crew.join();

            assertThat(failure.get()).hasMessage(
                    "coroutine 'reader' cannot read from " + name(c) + " (closed): the connection was closed while it waited");
            List<String> frames = java.util.Arrays.stream(failure.get().getStackTrace())
                    .map(f -> f.getClassName() + "." + f.getMethodName())
                    .toList();
            assertThat(frames).as("the waiter's stack")
                    .contains(TcpConnection.class.getName() + ".read")
                    .noneMatch(f -> f.endsWith(".closeFromHere") || f.equals(TcpConnection.class.getName() + ".close"));
        }
    }

    private static void closeFromHere(TcpConnection c) throws IOException {
        c.close();
    }

    @Test
    void closingAConnectionFailsTheReadAndTheWriteWaitingOnItWithAnIOException() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress())) {
            TcpConnection c = listener.accept();
            Crew crew = new Crew();
            AtomicReference<IOException> readFailure = new AtomicReference<>();
            AtomicReference<IOException> writeFailure = new AtomicReference<>();
            long[] written = {0};
            Coroutine reader = crew.spawn("reader", () -> {
                try {
                    c.read(ByteBuffer.allocate(16));
                } catch (IOException e) {
                    readFailure.set(e);
                }
            });
            Coroutine writer = crew.spawn("writer", () -> {
                // the peer never reads: the write parks once the socket buffers are full
                ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
                try {
                    for (int i = 0; i < 64; i++) {
                        c.write(chunk.clear());
                        written[0] += chunk.capacity();
                    }
                } catch (IOException e) {
                    writeFailure.set(e);
                }
            });
            Coroutine.yield();
            assertThat(writer.state()).as("parked with the buffers full, after %d bytes", written[0])
                    .isEqualTo(State.PARKED);
            assertThat(reader.state()).isEqualTo(State.PARKED);
            assertThat(Coroutine.dump())
                    .contains("coroutine 'reader': PARKED, waits to read from " + name(c))
                    .contains("coroutine 'writer': PARKED, waits to write to " + name(c));

            c.close();
            assertThat(reader.state()).as("woken at once").isEqualTo(State.SUSPENDED);
            assertThat(writer.state()).isEqualTo(State.SUSPENDED);
            crew.join();

            assertThat(readFailure.get()).hasMessage(
                    "coroutine 'reader' cannot read from " + name(c) + " (closed): the connection was closed while it waited");
            assertThat(writeFailure.get()).hasMessage(
                    "coroutine 'writer' cannot write to " + name(c) + " (closed): the connection was closed while it waited");
            assertThat(c).hasToString("TcpConnection[" + c.localAddress() + " -> " + c.remoteAddress() + ", closed]");
            assertThatThrownBy(() -> c.read(ByteBuffer.allocate(1)))
                    .isInstanceOf(IOException.class)
                    .hasMessage("main context 'main' cannot read from " + name(c)
                            + " (closed): java.nio.channels.ClosedChannelException");
            c.close(); // twice is fine
        }
    }

    @Test
    void closeReleasesTheSocketAtOnceWhileTheLoopKeepsOtherRegistrations() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress())) {
            TcpConnection c = listener.accept();
            Crew crew = new Crew();
            crew.spawn("acceptor", () -> {
                try {
                    listener.accept();
                } catch (IOException e) {
                    log.add("acceptor: " + e.getMessage().substring(e.getMessage().lastIndexOf(": ") + 2));
                }
            });
            crew.spawn("reader", () -> {
                ByteBuffer buf = ByteBuffer.allocate(1);
                c.read(buf);
                log.add("reader: '" + text(buf) + "'");
            });
            Coroutine.yield();
            peer.write(bytes("x"));
            assertThat(crew.awaitOne()).isEqualTo("reader");
            // the connection is registered with the selector (the reader waited on it), which stays open
            // for the listener the acceptor waits on: the close must not wait for the selector's next look
            long fds = RegistrationTest.openDescriptors();
            c.close();
            assertThat(RegistrationTest.openDescriptors()).as("its descriptor is closed").isLessThan(fds);
            peer.configureBlocking(false);
            assertThat(peer.read(ByteBuffer.allocate(1))).as("the peer sees the end of the stream at once").isEqualTo(-1);

            listener.close();
            crew.join();
            assertThat(log).containsExactly("reader: 'x'", "acceptor: the listener was closed while it waited");
        }
    }

    @Test
    void closingAListenerReleasesItsPortAtOnceWhileTheLoopKeepsOtherRegistrations() throws Exception {
        TcpListener listener = TcpListener.bind(LOOPBACK);
        InetSocketAddress address = (InetSocketAddress) listener.localAddress();
        try (TcpListener other = TcpListener.bind(LOOPBACK)) {
            Crew crew = new Crew();
            crew.spawn("acceptor", () -> {
                try (TcpConnection c = listener.accept()) {
                    log.add("accepted");
                }
            });
            crew.spawn("other-acceptor", () -> {
                try {
                    other.accept();
                } catch (IOException e) {
                    log.add("other-acceptor: " + e.getMessage().substring(e.getMessage().lastIndexOf(": ") + 2));
                }
            });
            Coroutine.yield();
            try (TcpConnection client = TcpConnection.connect(address)) {
                assertThat(crew.awaitOne()).isEqualTo("acceptor");
            }
            // the listener is registered with the selector (the acceptor waited on it), which stays open
            // for the other listener: the close must not wait for the selector's next look
            long fds = RegistrationTest.openDescriptors();
            listener.close();
            assertThat(RegistrationTest.openDescriptors()).as("its descriptor is closed").isLessThan(fds);
            assertThatThrownBy(() -> SocketChannel.open(address).close())
                    .as("nothing listens on %s any more", address)
                    .isInstanceOf(java.net.ConnectException.class);
            try (TcpListener again = TcpListener.bind(address)) {
                assertThat(again.localAddress()).as("its port is free").isEqualTo(address);
            }

            other.close();
            crew.join();
            assertThat(log).containsExactly("accepted", "other-acceptor: the listener was closed while it waited");
        }
    }

    /**
     * An accept that fails for want of descriptors is a scheduling point: an accept loop that retries
     * lets the thread's other coroutines run, one of which may close a connection and free a
     * descriptor. It had none: the loop failed on and on, the coroutine that would free one never
     * ran, and the thread was the loop's alone. The JDK's failure is faked, a connection waiting in
     * the backlog meanwhile.
     */
    @Test
    @Timeout(30)
    void anAcceptLoopRetryingAfterAFailureForWantOfDescriptorsLetsTheThreadsOtherCoroutinesRun() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel client = SocketChannel.open(listener.localAddress())) { // connected: in the backlog
            boolean[] freed = {false};
            TcpListener.accepter = channel -> {
                if (!freed[0]) {
                    throw new IOException("Too many open files");
                }
                return channel.accept();
            };
            try {
                Coroutine.create("closer", () -> {
                    log.add("closer frees a descriptor"); // as a handler closing its connection would
                    freed[0] = true;
                });
                for (int attempt = 1; attempt <= 100 && !log.contains("accepted"); attempt++) {
                    try (TcpConnection c = listener.accept()) {
                        log.add("accepted");
                    } catch (IOException e) {
                        log.add("attempt " + attempt + " failed: " + e.getMessage());
                    }
                }
            } finally {
                TcpListener.accepter = ServerSocketChannel::accept;
            }
            assertThat(log).containsExactly(
                    "closer frees a descriptor",
                    "attempt 1 failed: main context 'main' cannot accept on listener " + listener.localAddress()
                            + " (open): java.io.IOException: Too many open files; the process is out of file"
                            + " descriptors: the listener stays open, and accepts again once some are closed",
                    "accepted");
        }
    }

    /**
     * The scheduling point of a failed accept lets a coroutine close the listener: the exception then
     * names the state the listener is in when it is thrown. Its message had been made before that
     * point, and said the listener was open and stayed so, to a loop that would retry on a closed
     * listener; it is the refusal of an accept on a closed listener now, the failure for want of
     * descriptors suppressed.
     */
    @Test
    @Timeout(30)
    void anAcceptFailingForWantOfDescriptorsWhileACoroutineClosesTheListenerNamesItClosed() throws Exception {
        TcpListener listener = TcpListener.bind(LOOPBACK);
        String address = listener.localAddress().toString();
        TcpListener.accepter = channel -> {
            throw new IOException("Too many open files");
        };
        IOException failure;
        try {
            Coroutine.create("closer", () -> {
                try {
                    listener.close(); // as a shutdown would, while the accept loop backs off
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            failure = assertThrows(IOException.class, listener::accept);
        } finally {
            TcpListener.accepter = ServerSocketChannel::accept;
        }
        assertThat(listener.isOpen()).isFalse();
        assertThat(failure)
                .hasMessage("main context 'main' cannot accept on listener " + address
                        + " (closed): java.nio.channels.ClosedChannelException")
                .hasCauseInstanceOf(ClosedChannelException.class);
        assertThat(failure.getSuppressed()).hasSize(1);
        assertThat(failure.getSuppressed()[0]).hasMessage("Too many open files");
    }

    /**
     * A failure other than an {@link IOException} while an accepted socket is set up as a connection
     * (faked: configuring, registering or making it may throw a {@code RuntimeException} or run out
     * of memory) reaches the caller as it is, and the socket is closed: its peer reads the end of the
     * stream. It had been left open, a descriptor leaked and a peer waiting for good; the listener
     * accepts the next connection as before.
     */
    @Test
    @Timeout(30)
    void aFailureSettingUpAnAcceptedSocketClosesItAndReachesTheCallerAsItIs() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel first = SocketChannel.open(listener.localAddress()); // connected: in the backlog
             SocketChannel second = SocketChannel.open(listener.localAddress());
             SocketChannel third = SocketChannel.open(listener.localAddress())) {
            List<SocketChannel> accepted = new ArrayList<>();
            List<Throwable> faults = List.of(new IllegalStateException("faked: cannot register"),
                    new OutOfMemoryError("faked: cannot make the connection"));
            TcpListener.wrapper = (channel, io) -> {
                accepted.add(channel);
                if (faults.get(accepted.size() - 1) instanceof Error error) {
                    throw error;
                }
                throw (RuntimeException) faults.get(accepted.size() - 1);
            };
            try {
                assertThatThrownBy(listener::accept).isSameAs(faults.get(0));
                assertThatThrownBy(listener::accept).isSameAs(faults.get(1));
            } finally {
                TcpListener.wrapper = TcpConnection::new;
            }
            assertThat(accepted).hasSize(2);
            assertThat(accepted.get(0).isOpen()).as("the first accepted socket is closed").isFalse();
            assertThat(accepted.get(1).isOpen()).as("the second accepted socket is closed").isFalse();
            assertThat(first.read(ByteBuffer.allocate(1))).as("the first peer reads the end of the stream").isEqualTo(-1);
            assertThat(second.read(ByteBuffer.allocate(1))).as("the second peer reads the end of the stream").isEqualTo(-1);
            try (TcpConnection c = listener.accept()) {
                assertThat(c.remoteAddress()).isEqualTo(third.getLocalAddress());
            }
        }
    }

    /**
     * An accepted socket that cannot be set up as a connection for an {@link IOException} (faked: its peer went
     * away, and configuring it failed) is closed and skipped: the same {@code accept} returns the next connection
     * of the backlog, and the skipped one's peer reads the end of the stream.
     */
    @Test
    @Timeout(30)
    void anAcceptedSocketWhosePeerWentAwayBeforeItWasSetUpIsClosedAndTheAcceptReturnsTheNext() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel gone = SocketChannel.open(listener.localAddress()); // connected: in the backlog
             SocketChannel next = SocketChannel.open(listener.localAddress())) {
            List<SocketChannel> accepted = new ArrayList<>();
            TcpListener.wrapper = (channel, io) -> {
                accepted.add(channel);
                if (accepted.size() == 1) {
                    throw new SocketException("faked: Invalid argument (the peer went away)");
                }
                return new TcpConnection(channel, io);
            };
            try (TcpConnection c = listener.accept()) {
                assertThat(c.remoteAddress()).as("the next connection").isEqualTo(next.getLocalAddress());
            } finally {
                TcpListener.wrapper = TcpConnection::new;
            }
            assertThat(accepted).hasSize(2);
            assertThat(accepted.get(0).isOpen()).as("the skipped socket is closed").isFalse();
            assertThat(gone.read(ByteBuffer.allocate(1))).as("its peer reads the end of the stream").isEqualTo(-1);
        }
    }

    /**
     * A bind or a connect that fails closes the socket it opened; a failure of that close (faked) is
     * suppressed in the failure of the call, which names the caller, the call and the address. The
     * close's own {@code IOException} had replaced it, naming none of them and hiding what went wrong.
     */
    @Test
    @Timeout(30)
    void aFailedBindOrConnectWhoseSocketFailsToCloseThrowsItsOwnFailureWithTheCloseFailureSuppressed() throws Exception {
        UnclosableServerSocket server = new UnclosableServerSocket();
        assertThatThrownBy(() -> TcpListener.bind(LOOPBACK, false, () -> server))
                .isExactlyInstanceOf(java.net.BindException.class)
                .hasMessage(Callers.plainThread() + " cannot bind a listener to " + LOOPBACK
                        + ": java.net.BindException: faked: Address already in use")
                .satisfies(e -> assertThat(e.getSuppressed()).singleElement()
                        .satisfies(f -> assertThat(f).hasMessage("faked: the close failed")))
                .cause().isInstanceOf(java.net.BindException.class);
        assertThat(server.isOpen()).as("closed all the same").isFalse();

        InetSocketAddress address = new InetSocketAddress("127.0.0.1", 1);
        UnclosableSocket socket = new UnclosableSocket();
        TcpConnection.opener = () -> socket;
        try {
            assertThatThrownBy(() -> TcpConnection.connect(address))
                    .isExactlyInstanceOf(java.net.ConnectException.class)
                    .hasMessage("main context 'main' cannot connect to " + address
                            + ": java.net.ConnectException: faked: Connection refused")
                    .satisfies(e -> assertThat(e.getSuppressed()).singleElement()
                            .satisfies(f -> assertThat(f).hasMessage("faked: the close failed")))
                    .cause().isInstanceOf(java.net.ConnectException.class);
        } finally {
            TcpConnection.opener = SocketChannel::open;
        }
        assertThat(socket.isOpen()).as("closed all the same").isFalse();
    }

    /** A server socket whose bind fails as on a port in use, and whose close fails. */
    private static final class UnclosableServerSocket extends StubServerSocketChannel {
        @Override
        public ServerSocketChannel bind(java.net.SocketAddress local, int backlog) throws IOException {
            throw new java.net.BindException("faked: Address already in use");
        }

        @Override
        public <T> ServerSocketChannel setOption(java.net.SocketOption<T> name, T value) {
            return this;
        }

        @Override
        public <T> T getOption(java.net.SocketOption<T> name) {
            return null;
        }

        @Override
        protected void implCloseSelectableChannel() throws IOException {
            throw new IOException("faked: the close failed");
        }
    }


    /** A socket whose connect is refused at once, and whose close fails. */
    private static final class UnclosableSocket extends StubSocketChannel {
        @Override
        public boolean connect(java.net.SocketAddress remote) throws IOException {
            throw new java.net.ConnectException("faked: Connection refused");
        }

        @Override
        protected void implCloseSelectableChannel() throws IOException {
            throw new IOException("faked: the close failed");
        }
    }

    /**
     * A heap buffer is handed to the socket at most {@link TcpConnection#MOST_PER_CALL} bytes at a time,
     * by a write and by a read, as the JDK's own socket streams hand it: the channel copies a heap
     * buffer through a temporary native buffer as large as what it is handed, kept for the thread's
     * life, and a write handed its whole rest copied it all again at each partial write. Here a socket
     * that takes whatever it is handed (so nothing parks) counts what each call is given: a 3 MB array
     * goes out in pieces of 128 KiB, every byte once and in order, and a read into a 1 MB array asks
     * for 128 KiB; a direct buffer, which nothing copies, is handed whole.
     */
    @Test
    void aHeapBufferIsHandedToTheSocketAtMost128KiBAtATimeByWritesAndReadsAndADirectOneWhole() throws Exception {
        CountingSocket socket = new CountingSocket();
        TcpConnection.opener = () -> socket;
        TcpConnection c;
        try {
            c = TcpConnection.connect(new InetSocketAddress("127.0.0.1", 1));
        } finally {
            TcpConnection.opener = SocketChannel::open;
        }
        try (c) {
            byte[] data = new byte[3 * 1024 * 1024 + 5];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) (i * 31 + i / 251);
            }
            ByteBuffer src = ByteBuffer.wrap(data);
            c.write(src);
            assertThat(src.hasRemaining()).isFalse();
            assertThat(socket.written.toByteArray()).as("every byte once, in order").isEqualTo(data);
            assertThat(socket.handed).as("bytes handed to each write of the socket").hasSize(25)
                    .allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(128 * 1024));
            socket.handed.clear();
            c.output().write(data, 5, data.length - 5); // the view's write, a heap buffer too
            assertThat(socket.handed).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(128 * 1024));
            socket.handed.clear();

            ByteBuffer direct = ByteBuffer.allocateDirect(data.length).put(data).flip();
            c.write(direct);
            assertThat(socket.handed).as("a direct buffer, handed whole").containsExactly(data.length);
            socket.handed.clear();

            ByteBuffer dst = ByteBuffer.allocate(1024 * 1024 + 3).position(3);
            int n = c.read(dst);
            assertThat(socket.handed).as("room handed to the socket's read").containsExactly(128 * 1024);
            assertThat(n).isEqualTo(128 * 1024);
            assertThat(dst.position()).isEqualTo(3 + n);
            assertThat(dst.get(3)).isEqualTo((byte) 7);
            assertThat(dst.get(2 + n)).isEqualTo((byte) 7);
            assertThat(dst.get(3 + n)).as("nothing past what was read").isZero();
        }
        assertThat(socket.isOpen()).isFalse();
    }

    /**
     * A read into a direct buffer hands the socket the buffer's whole room, not {@link TcpConnection#MOST_PER_CALL}
     * bytes of it: one read takes every byte that has arrived, more than 128 KiB here. The test makes the room for
     * that itself rather than count on the OS's default buffers (a receive buffer may hold about 128 KiB until its
     * reader reads): it asks for a receive buffer of 1 MiB through the listener, whose connections take it from
     * their start, and a send buffer as large for the peer, reads back what the OS gave, and has the peer send as
     * many bytes as the receive buffer holds for certain, at most 512 KiB: half of what the OS says it gave, since
     * an OS may count its own keeping of the bytes in it (Linux, which may then say twice what it was asked). That
     * must be more than 128 KiB, or the test could show nothing (it says so, rather than wait for bytes that cannot
     * arrive); every byte then arrives without a read, the test waits until {@code available()} counts them all, and
     * one read into a direct buffer of twice that room takes them all.
     */
    @Test
    @Timeout(30)
    void aReadIntoADirectBufferIsHandedItsWholeRoomAndTakesMoreThan128KiBThatHaveArrived() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            listener.setOption(StandardSocketOptions.SO_RCVBUF, 1024 * 1024);
            CompletableFuture<Integer> sendBuffer = new CompletableFuture<>();
            CompletableFuture<byte[]> toSend = new CompletableFuture<>();
            AtomicReference<Throwable> peerFailure = new AtomicReference<>();
            Thread sender = Thread.ofPlatform().name("peer").start(() -> {
                try (TcpConnection peer = TcpConnection.connect(listener.localAddress())) {
                    peer.setOption(StandardSocketOptions.SO_SNDBUF, 1024 * 1024);
                    sendBuffer.complete(peer.getOption(StandardSocketOptions.SO_SNDBUF));
                    peer.write(ByteBuffer.wrap(toSend.join()));
                } catch (IOException | RuntimeException e) {
                    peerFailure.set(e);
                    sendBuffer.completeExceptionally(e);
                }
            });
            try (TcpConnection c = listener.accept()) {
                int receiveBuffer = c.getOption(StandardSocketOptions.SO_RCVBUF);
                int peersSendBuffer = Coroutine.await(sendBuffer);
                int sent = Math.min(receiveBuffer / 2, 512 * 1024);
                assertThat(sent).as("bytes the receive buffer the OS gave (%d bytes, asked for 1 MiB; the peer's send buffer"
                        + " %d bytes) holds for certain: more than 128 KiB, or one read cannot show it takes more",
                        receiveBuffer, peersSendBuffer).isGreaterThan(128 * 1024);
                byte[] data = new byte[sent];
                for (int i = 0; i < data.length; i++) {
                    data[i] = (byte) (i * 31 + i / 251);
                }
                toSend.complete(data);
                while (c.input().available() < sent) {
                    Coroutine.yield(); // the peer's bytes are on their way over the loopback; none is read meanwhile
                }
                ByteBuffer dst = ByteBuffer.allocateDirect(2 * sent);
                int n = c.read(dst);
                assertThat(n).as("one read takes all that had arrived, not 128 KiB of it").isEqualTo(sent);
                byte[] got = new byte[dst.flip().remaining()];
                dst.get(got);
                assertThat(got).as("every byte once, in order").isEqualTo(data);
            } finally {
                toSend.completeExceptionally(new IllegalStateException("the test ended before it had bytes to send"));
                sender.join();
            }
            assertThat(peerFailure.get()).as("what the peer threw").isNull();
        }
    }

    /** A connected socket that takes every byte a write hands it, fills every read with 7s, and counts what each call is handed. */
    private static final class CountingSocket extends StubSocketChannel {
        final List<Integer> handed = new ArrayList<>();
        final java.io.ByteArrayOutputStream written = new java.io.ByteArrayOutputStream();

        @Override
        public boolean connect(java.net.SocketAddress remote) {
            return true;
        }

        @Override
        public int write(ByteBuffer src) {
            int n = src.remaining();
            handed.add(n);
            byte[] b = new byte[n];
            src.get(b);
            written.writeBytes(b);
            return n;
        }

        @Override
        public int read(ByteBuffer dst) {
            int n = dst.remaining();
            handed.add(n);
            while (dst.hasRemaining()) {
                dst.put((byte) 7);
            }
            return n;
        }

        @Override
        protected void implCloseSelectableChannel() {
        }

        @Override
        public <T> SocketChannel setOption(java.net.SocketOption<T> name, T value) {
            return this;
        }

        @Override
        public boolean isConnected() {
            return true;
        }

        @Override
        public boolean finishConnect() {
            return true;
        }

        @Override
        public java.net.SocketAddress getRemoteAddress() {
            return new InetSocketAddress("127.0.0.1", 1);
        }

        @Override
        public java.net.SocketAddress getLocalAddress() {
            return new InetSocketAddress("127.0.0.1", 2);
        }
    }

    @Test
    void closingAListenerFailsTheAcceptWaitingOnItWithAnIOExceptionNamingTheListener() throws Exception {
        TcpListener listener = TcpListener.bind(LOOPBACK);
        String address = listener.localAddress().toString();
        Crew crew = new Crew();
        AtomicReference<IOException> failure = new AtomicReference<>();
        Coroutine acceptor = crew.spawn("acceptor", () -> {
            try {
                listener.accept();
            } catch (IOException e) {
                failure.set(e);
            }
        });
        Coroutine.yield();
        assertThat(acceptor.state()).isEqualTo(State.PARKED);
        assertThat(Coroutine.dump()).contains("coroutine 'acceptor': PARKED, waits to accept on listener " + address);

        listener.close();
        crew.join();

        assertThat(failure.get()).hasMessage("coroutine 'acceptor' cannot accept on listener " + address
                + " (closed): the listener was closed while it waited");
        assertThat(listener).hasToString("TcpListener[" + address + ", closed]");
        assertThatThrownBy(listener::accept)
                .isInstanceOf(IOException.class)
                .hasMessage("main context 'main' cannot accept on listener " + address
                        + " (closed): java.nio.channels.ClosedChannelException");
        listener.close(); // twice is fine
    }

    /**
     * A coroutine relays one connection's input view to another's output view with
     * {@code transferTo} while a second writes three megabytes into the first (far more than the
     * sockets' buffers hold, so both sides park again and again): the far end reads every byte once,
     * in order, then the end of the stream, and {@code transferTo} returns the count.
     */
    @Test
    void transferToBetweenTwoConnectionsCarriesEveryByteOnceInOrder() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection a1 = TcpConnection.connect(listener.localAddress());
             TcpConnection b1 = listener.accept();
             TcpConnection a2 = TcpConnection.connect(listener.localAddress());
             TcpConnection b2 = listener.accept()) {
            byte[] data = new byte[3 << 20];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) (i * 7 + (i >>> 9));
            }
            Crew crew = new Crew();
            crew.spawn("relay", () -> {
                try (a2) {
                    log.add("relayed " + b1.input().transferTo(a2.output()));
                }
            });
            crew.spawn("writer", () -> {
                try (a1) {
                    a1.output().write(data);
                }
            });
            byte[] got = b2.input().readAllBytes();
            crew.join();
            assertThat(log).containsExactly("relayed " + data.length);
            assertThat(got).as("every byte once, in order").isEqualTo(data);
        }
    }

    /**
     * {@code skipNBytes(n)} of the input view that finds the end of the stream before {@code n} bytes
     * throws an {@code EOFException} naming the caller, the connection, its state and how many it
     * skipped (the JDK's names nothing).
     */
    @Test
    @org.junit.jupiter.api.Timeout(20)
    void skipNBytesPastTheEndOfTheStreamThrowsAnEOFExceptionNamingTheCallerTheConnectionAndHowManyItSkipped() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            client.write(bytes("abc"));
            client.shutdownOutput();
            assertThatThrownBy(() -> server.input().skipNBytes(10)).isInstanceOf(java.io.EOFException.class)
                    .hasMessage("main context 'main' cannot skip bytes of " + name(server)
                            + " (open): the stream ended after 3 of the 10 bytes of this skip");
        }
    }

    /**
     * The input view's own loops ({@code skip}, {@code skipNBytes}, {@code readNBytes(len)},
     * {@code transferTo}, {@code readAllBytes}) over a stream far larger than the socket's buffers
     * take every byte once, in order, then find the end of the stream.
     */
    @Test
    @org.junit.jupiter.api.Timeout(20)
    void theInputViewsOwnLoopsSkipReadAndTransferEveryByteOnceInOrder() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            byte[] data = new byte[300_000];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) (i * 31 + (i >>> 8));
            }
            Coroutine writer = Coroutine.create("writer", () -> {
                try {
                    client.output().write(data);
                    client.shutdownOutput();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            java.io.InputStream in = server.input();
            assertThat(in.skip(0)).isZero();
            assertThat(in.skip(-3)).isZero();
            assertThat(in.skip(5)).isEqualTo(5);
            in.skipNBytes(5);
            byte[] some = in.readNBytes(990);
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            assertThat(in.transferTo(out)).isEqualTo(data.length - 1000);
            assertThat(java.util.Arrays.equals(data, 10, 1000, some, 0, 990)).as("what readNBytes read").isTrue();
            assertThat(java.util.Arrays.equals(data, 1000, data.length, out.toByteArray(), 0, data.length - 1000))
                    .as("what transferTo carried").isTrue();
            assertThat(in.readAllBytes()).isEmpty();
            assertThat(in.readNBytes(5)).isEmpty();
            assertThat(in.skip(5)).isZero();
            assertThat(in.read()).isEqualTo(-1);
            while (!writer.isFinished()) {
                Coroutine.yield();
            }
        }
    }

    /**
     * {@code available()} of the input view counts the bytes that have arrived and not been read, as
     * {@code InputStream} promises: the peer's one write of ten bytes arrives whole (one segment on
     * loopback), so once a read has taken its first byte the other nine are there; once they are read
     * it is 0 again, and 0 at the end of the stream.
     */
    @Test
    void availableOfTheInputViewCountsTheBytesThatArrivedAndWereNotRead() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection c = listener.accept()) {
            java.io.InputStream in = c.input();
            assertThat(in.available()).as("nothing sent yet").isZero();
            peer.write(bytes("0123456789"));
            assertThat(in.read()).isEqualTo('0');
            assertThat(in.available()).as("the rest of the write, arrived with its first byte").isEqualTo(9);
            assertThat(new String(in.readNBytes(9), StandardCharsets.UTF_8)).isEqualTo("123456789");
            assertThat(in.available()).as("all read").isZero();
            peer.shutdownOutput();
            assertThat(in.read()).as("the end of the stream").isEqualTo(-1);
            assertThat(in.available()).as("at the end of the stream").isZero();
        }
    }

    /**
     * The bytes that {@code available()} counts a read takes without waiting, also after a read that
     * emptied the socket (after which a read otherwise first waits for readiness): the read returns
     * them before another coroutine runs.
     */
    @Test
    void aReadTakesTheBytesAvailableCountsWithoutWaitingAlsoAfterAShortRead() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection c = listener.accept()) {
            List<String> log = new ArrayList<>();
            ByteBuffer b = ByteBuffer.allocate(16);
            peer.write(bytes("ab"));
            while (b.position() < 2) {
                c.read(b); // short: it empties the socket
            }
            b.clear();
            peer.write(bytes("cde"));
            for (int i = 0; i < 100_000 && c.input().available() < 3; i++) {
                Coroutine.yield(); // bounded: on loopback the bytes are there once the peer's write returns
            }
            assertThat(c.input().available()).isEqualTo(3);
            Coroutine.create("other", () -> log.add("other ran"));
            log.add("read " + c.read(b));
            Coroutine.yield();
            assertThat(log).as("the read did not park").containsExactly("read 3", "other ran");
        }
    }

    /**
     * The cheat sheet says {@code TCP_NODELAY} is on: a small write goes out at once, not held back
     * by Nagle's algorithm for the peer's acknowledgement. So on both ends, connected and accepted.
     */
    @Test
    void tcpNoDelayIsOnForAConnectionConnectedAndForOneAccepted() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            assertThat(socketOf(client).getOption(StandardSocketOptions.TCP_NODELAY)).as("connected").isTrue();
            assertThat(socketOf(server).getOption(StandardSocketOptions.TCP_NODELAY)).as("accepted").isTrue();
        }
    }

    /** The channel under {@code c}, read past the connection (for the net tests that look at the socket itself). */
    static SocketChannel socketOf(TcpConnection c) throws ReflectiveOperationException {
        java.lang.reflect.Field f = TcpConnection.class.getDeclaredField("channel");
        f.setAccessible(true);
        return (SocketChannel) f.get(c);
    }

    /**
     * What only describes a connection or a listener answers any thread as it answers its owner:
     * {@code isOpen()}, the addresses and {@code toString()}; {@code input()} and {@code output()}
     * hand the views, whose reads and writes are confined like the connection's.
     */
    @Test
    void theDescribingCallsAnswerAnyThreadAsTheyAnswerTheOwner() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            client.shutdownOutput();
            List<Object> owners = List.of(listener.isOpen(), listener.localAddress(), listener.toString(),
                    client.isOpen(), client.localAddress(), client.remoteAddress(), client.toString(),
                    client.input(), client.output());
            List<Object> others = new ArrayList<>();
            Thread t = Thread.ofPlatform().name("onlooker").start(() -> others.addAll(List.of(listener.isOpen(),
                    listener.localAddress(), listener.toString(), client.isOpen(), client.localAddress(),
                    client.remoteAddress(), client.toString(), client.input(), client.output())));
            t.join();
            assertThat(others).containsExactlyElementsOf(owners);
            assertThat(client.toString()).endsWith(", open, output shut down]");
        }
    }

    @Test
    void aCallFromAnotherThreadThrowsIllegalStateExceptionNamingBothThreads() throws Exception {
        Thread owner = Thread.currentThread();
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            String l = "listener " + listener.localAddress();
            String c = name(client);
            List<Runnable> calls = List.of(
                    () -> read(client),
                    () -> write(client),
                    () -> shutdownOutput(client),
                    () -> read(client.input()),
                    () -> accept(listener)); // a close is posted to the owner's thread instead: CloseFromAnotherThreadTest
            List<String> expected = List.of(
                    "cannot read from " + c + " (open)",
                    "cannot write to " + c + " (open)",
                    "cannot shut down the output of " + c + " (open)",
                    "cannot read from " + c + " (open)",
                    "cannot accept on " + l + " (open)");
            for (int i = 0; i < calls.size(); i++) {
                AtomicReference<Throwable> thrown = new AtomicReference<>();
                Runnable call = calls.get(i);
                Thread t = Thread.ofPlatform().name("intruder").unstarted(() -> thrown.set(thrownBy(call)));
                t.start();
                t.join();
                assertThat(thrown.get())
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessage("thread 'intruder' (#" + t.threadId() + ") " + expected.get(i)
                                + ": it belongs to thread '" + owner.getName() + "' (#" + owner.threadId() + ")");
            }
            // still usable by its owner
            client.write(bytes("ok"));
            ByteBuffer buf = ByteBuffer.allocate(2);
            while (buf.hasRemaining()) {
                server.read(buf);
            }
            assertThat(text(buf)).isEqualTo("ok");
        }
    }

    /**
     * A refusal to another thread names its calling context as every refusal names the caller: a
     * coroutine of that thread, or its main context, with the thread.
     */
    @Test
    @Timeout(30)
    void aCallFromAContextOfAnotherThreadIsRefusedNamingThatContextAndItsThread() throws Exception {
        String owner = "'" + Thread.currentThread().getName() + "' (#" + Thread.currentThread().threadId() + ")";
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            String c = name(client);
            List<String> refusals = new ArrayList<>();
            Thread t = Thread.ofPlatform().name("intruder").unstarted(() -> {
                Coroutine.create("reader", () -> refusals.add(thrownBy(() -> read(client)).getMessage())).switchTo();
                refusals.add(thrownBy(() -> accept(listener)).getMessage());
            });
            t.start();
            t.join();
            String intruder = "'intruder' (#" + t.threadId() + ")";
            assertThat(refusals).containsExactly(
                    "coroutine 'reader' of thread " + intruder + " cannot read from " + c + " (open): it belongs to thread " + owner,
                    "main context 'main' of thread " + intruder + " cannot accept on listener " + listener.localAddress()
                            + " (open): it belongs to thread " + owner);
            client.write(bytes("ok"));
            ByteBuffer buf = ByteBuffer.allocate(2);
            while (buf.hasRemaining()) {
                server.read(buf);
            }
            assertThat(text(buf)).isEqualTo("ok");
        }
    }

    @Test
    @Timeout(30)
    void theStreamViewsDescribeThemselvesByTheirConnection() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection c = listener.accept()) {
            assertThat(c.input()).hasToString("input of " + c);
            assertThat(c.output()).hasToString("output of " + c);
            c.close();
            assertThat(c.input()).hasToString("input of TcpConnection[" + c.localAddress() + " -> " + c.remoteAddress() + ", closed]");
        }
    }

    @Test
    @Timeout(30)
    void socketOptionsAreSetAndReadAndALingerOfZeroMakesTheCloseAReset() throws Exception {
        String owner = "'" + Thread.currentThread().getName() + "' (#" + Thread.currentThread().threadId() + ")";
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress())) {
            TcpConnection c = listener.accept();
            assertThat(c.getOption(StandardSocketOptions.TCP_NODELAY)).as("on from the start").isTrue();
            assertThat(c.setOption(StandardSocketOptions.SO_KEEPALIVE, true)).isSameAs(c);
            assertThat(c.getOption(StandardSocketOptions.SO_KEEPALIVE)).isTrue();
            assertThatThrownBy(() -> c.setOption(StandardSocketOptions.IP_MULTICAST_LOOP, true))
                    .isInstanceOf(UnsupportedOperationException.class);
            assertThatThrownBy(() -> c.setOption(StandardSocketOptions.SO_LINGER, null))
                    .isInstanceOf(IllegalArgumentException.class);
            List<String> refusals = new ArrayList<>();
            Thread t = Thread.ofPlatform().name("intruder").unstarted(() -> refusals.add(thrownBy(() -> {
                try {
                    c.getOption(StandardSocketOptions.SO_KEEPALIVE);
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            }).getMessage()));
            t.start();
            t.join();
            assertThat(refusals).containsExactly("thread 'intruder' (#" + t.threadId() + ") cannot get SO_KEEPALIVE of "
                    + name(c) + " (open): it belongs to thread " + owner);

            c.write(bytes("unread by the peer"));
            c.setOption(StandardSocketOptions.SO_LINGER, 0);
            c.close();
            assertThePeerReadsAReset(peer); // the close sent one
            assertThatThrownBy(() -> c.getOption(StandardSocketOptions.SO_KEEPALIVE))
                    .isInstanceOf(IOException.class)
                    .hasMessage("main context 'main' cannot get SO_KEEPALIVE of " + name(c)
                            + " (closed): java.nio.channels.ClosedChannelException")
                    .hasCauseInstanceOf(ClosedChannelException.class);
        }
    }

    /** Reads {@code peer} (blocking) until it fails: a reset, not an orderly end. */
    private static void assertThePeerReadsAReset(SocketChannel peer) {
        assertThatThrownBy(() -> {
            ByteBuffer buf = ByteBuffer.allocate(100);
            while (peer.read(buf) >= 0) {
                buf.clear();
            }
        }).isInstanceOf(SocketException.class).hasMessageContaining("reset");
    }

    /**
     * A positive {@code SO_LINGER} the connection keeps (the socket's own off) is forgotten once the linger is set
     * off or to 0, which are the socket's: {@code getOption} then gives the socket's value, not the interval kept
     * before, and {@code detach()} hands the socket on with that value, a close of it a reset.
     */
    @Test
    @Timeout(30)
    void aPositiveLingerThatOffOrZeroReplacesIsForgottenByGetOptionAndByTheSocketDetachHandsOn() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress())) {
            TcpConnection c = listener.accept();
            c.setOption(StandardSocketOptions.SO_LINGER, 60);
            assertThat(c.getOption(StandardSocketOptions.SO_LINGER)).as("kept").isEqualTo(60);
            c.setOption(StandardSocketOptions.SO_LINGER, -1);
            assertThat(c.getOption(StandardSocketOptions.SO_LINGER)).as("off, the socket's").isEqualTo(-1);
            c.setOption(StandardSocketOptions.SO_LINGER, 60);
            c.setOption(StandardSocketOptions.SO_LINGER, 0);
            assertThat(c.getOption(StandardSocketOptions.SO_LINGER)).as("0, the socket's").isZero();
            SocketChannel handed = c.detach();
            try {
                assertThat(handed.getOption(StandardSocketOptions.SO_LINGER)).as("the socket handed on").isZero();
            } finally {
                handed.close();
            }
            assertThePeerReadsAReset(peer); // the close of the socket handed on sent one
        }
    }

    @Test
    @Timeout(30)
    void anOptionRefusedAsUnsupportedOrInvalidIsRefusedNamingTheCallerTheOptionTheConnectionAndItsState() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress())) {
            TcpConnection c = listener.accept();
            assertThatThrownBy(() -> c.setOption(StandardSocketOptions.IP_MULTICAST_LOOP, true))
                    .isInstanceOf(UnsupportedOperationException.class)
                    .hasMessage("main context 'main' cannot set IP_MULTICAST_LOOP of " + name(c)
                            + " (open): a TCP socket has no such option ('IP_MULTICAST_LOOP' not supported)")
                    .hasCauseInstanceOf(UnsupportedOperationException.class);
            assertThatThrownBy(() -> c.getOption(StandardSocketOptions.IP_MULTICAST_LOOP))
                    .isInstanceOf(UnsupportedOperationException.class)
                    .hasMessage("main context 'main' cannot get IP_MULTICAST_LOOP of " + name(c)
                            + " (open): a TCP socket has no such option ('IP_MULTICAST_LOOP' not supported)");
            assertThatThrownBy(() -> c.setOption(StandardSocketOptions.SO_RCVBUF, -1))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("main context 'main' cannot set SO_RCVBUF of " + name(c)
                            + " (open) to -1: Invalid send/receive buffer size")
                    .hasCauseInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> c.setOption(StandardSocketOptions.SO_LINGER, null))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("main context 'main' cannot set SO_LINGER of " + name(c) + " (open) to null: Invalid value 'null'");
            assertThat(c.setOption(StandardSocketOptions.SO_KEEPALIVE, true).getOption(StandardSocketOptions.SO_KEEPALIVE))
                    .as("the connection is still usable").isTrue();
            c.close();
            assertThatThrownBy(() -> c.setOption(StandardSocketOptions.IP_MULTICAST_LOOP, true))
                    .isInstanceOf(UnsupportedOperationException.class)
                    .hasMessage("main context 'main' cannot set IP_MULTICAST_LOOP of " + name(c)
                            + " (closed): a TCP socket has no such option ('IP_MULTICAST_LOOP' not supported)");
        }
    }

    /**
     * A value of the wrong type, which only an unchecked call can pass (options set from a configuration's map
     * of {@code SocketOption<?>} to values, say): {@code SO_LINGER}, which the connection keeps itself, refuses a
     * {@code Long} or a {@code String} as every other option does and as the JDK does, with an
     * {@link IllegalArgumentException} naming the caller, the option, the value, the connection and its state, not
     * a bare {@code ClassCastException}; the linger stays as it was.
     */
    @Test
    @Timeout(30)
    @SuppressWarnings({"unchecked", "rawtypes"})
    void aValueOfTheWrongTypeForSoLingerIsRefusedAsInvalidAsForEveryOtherOption() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection c = listener.accept()) {
            c.setOption(StandardSocketOptions.SO_LINGER, 60);
            SocketOption untyped = StandardSocketOptions.SO_LINGER;
            assertThatThrownBy(() -> c.setOption(untyped, 5L))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("main context 'main' cannot set SO_LINGER of " + name(c) + " (open) to 5: Invalid value '5'")
                    .hasCauseInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> c.setOption(untyped, "off"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("main context 'main' cannot set SO_LINGER of " + name(c) + " (open) to off: Invalid value 'off'");
            SocketOption keepAlive = StandardSocketOptions.SO_KEEPALIVE;
            assertThatThrownBy(() -> c.setOption(keepAlive, "true"))
                    .as("as any other option is refused")
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("main context 'main' cannot set SO_KEEPALIVE of " + name(c) + " (open) to true: Invalid value 'true'");
            assertThat(c.getOption(StandardSocketOptions.SO_LINGER)).as("the linger kept as it was").isEqualTo(60);
        }
    }

    private static Throwable thrownBy(Runnable call) {
        try {
            call.run();
            return null;
        } catch (Throwable e) {
            return e;
        }
    }

    private static void read(TcpConnection c) {
        try {
            c.read(ByteBuffer.allocate(1));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static void read(java.io.InputStream in) {
        try {
            in.read();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static void write(TcpConnection c) {
        try {
            c.write(bytes("x"));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static void shutdownOutput(TcpConnection c) {
        try {
            c.shutdownOutput();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static void close(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static void accept(TcpListener l) {
        try {
            l.accept();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
