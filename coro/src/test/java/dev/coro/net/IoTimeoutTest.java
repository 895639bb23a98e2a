package dev.coro.net;

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
import dev.coro.VirtualTime;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Network calls cut short: a {@code withTimeout} that expires while {@code read}, {@code write} or
 * {@code accept} waits, a close of the coroutine waiting in them, and a peer reset under a parked
 * write; each leaves no wait behind, loses and duplicates no byte, and leaves the connection usable.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class IoTimeoutTest {

    private final List<String> log = new ArrayList<>();

    @Test
    void aReadThatTimedOutTookNothingAndTheConnectionStillWorks() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            ByteBuffer buf = ByteBuffer.allocate(8);
            try {
                Coroutine.withTimeout(Duration.ofMillis(20), () -> read(server, buf));
                log.add("read returned");
            } catch (CoroutineTimeoutException e) {
                log.add("timed out having read " + buf.position());
            }
            assertThat(LoopProbe.ioWaits()).isZero();
            assertThat(LoopProbe.hasPending()).as("no wait and no timer left").isFalse();

            client.write(bytes("abc"));
            while (buf.position() < 3) {
                server.read(buf);
            }
            log.add("then read '" + text(buf) + "'");
            assertThat(log).containsExactly("timed out having read 0", "then read 'abc'");
        }
    }

    /**
     * {@code callWithTimeout} around a connection's reads, with no wrapping of their
     * {@code IOException}: a read in time gives its count, one cut short took nothing and leaves no
     * wait, and a peer's reset comes out as the read's own exception (a {@code SocketException}, the JDK's class), not a wrapper of it.
     */
    @Test
    void callWithTimeoutReadsAConnectionAndItsIOExceptionComesOutAsItIs() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection server = listener.accept()) {
            ByteBuffer buf = ByteBuffer.allocate(8);
            peer.write(bytes("abc"));
            Coroutine.callWithTimeout(Duration.ofSeconds(60), () -> server.write(bytes("xyz"))); // the form without a value
            ByteBuffer echoed = ByteBuffer.allocate(3);
            while (echoed.hasRemaining()) {
                peer.read(echoed); // a blocking read of the plain peer: the bytes are on their way
            }
            log.add("wrote '" + text(echoed) + "'");
            int n = 0;
            while (n < 3) {
                n += Coroutine.callWithTimeout(Duration.ofSeconds(60), () -> server.read(buf)); // a guard against a hang
            }
            log.add("read '" + text(buf) + "'");
            ByteBuffer more = ByteBuffer.allocate(8);
            try {
                Coroutine.callWithTimeout(Duration.ofMillis(20), () -> server.read(more));
                log.add("read returned");
            } catch (CoroutineTimeoutException e) {
                log.add("timed out having read " + more.position());
            }
            assertThat(LoopProbe.hasPending()).as("no wait and no timer left").isFalse();

            peer.setOption(StandardSocketOptions.SO_LINGER, 0);
            peer.close(); // linger 0: the close sends a reset
            try {
                Coroutine.callWithTimeout(Duration.ofSeconds(60), () -> server.read(more));
                log.add("read returned");
            } catch (IOException e) {
                log.add("then " + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
            assertThat(log).containsExactly("wrote 'xyz'", "read 'abc'", "timed out having read 0", "then SocketException: main context"
                    + " 'main' cannot read from " + name(server) + " (open): java.net.SocketException: Connection reset");
            assertThat(LoopProbe.ioWaits()).isZero();
        }
    }

    /**
     * {@code tryCallWithTimeout} around a connection's reads: a read in time gives its count, an idle
     * one gives empty having taken nothing (the bytes the peer writes next are the next read's, none
     * lost), and a peer's reset comes out as the read's own exception, not as empty.
     */
    @Test
    void tryCallWithTimeoutGivesEmptyForAnIdleReadThatTookNothingAndItsIOExceptionComesOutAsItIs() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection server = listener.accept()) {
            ByteBuffer buf = ByteBuffer.allocate(8);
            peer.write(bytes("abc"));
            int n = 0;
            while (n < 3) {
                n += Coroutine.tryCallWithTimeout(Duration.ofSeconds(60), () -> server.read(buf)).orElseThrow();
            }
            log.add("read '" + text(buf) + "'");
            ByteBuffer more = ByteBuffer.allocate(8);
            log.add("idle read gave " + Coroutine.tryCallWithTimeout(Duration.ofMillis(20), () -> server.read(more))
                    + " having read " + more.position());
            log.add("idle read of the form without a value returned " + Coroutine.tryCallWithTimeout(Duration.ofMillis(20), () -> {
                server.read(more);
            }) + " having read " + more.position());
            assertThat(LoopProbe.ioWaits()).isZero();
            assertThat(LoopProbe.hasPending()).as("no wait and no timer left").isFalse();

            peer.write(bytes("de"));
            n = 0;
            while (n < 2) {
                n += Coroutine.tryCallWithTimeout(Duration.ofSeconds(60), () -> server.read(more)).orElseThrow();
            }
            log.add("then read '" + text(more) + "'");
            peer.setOption(StandardSocketOptions.SO_LINGER, 0);
            peer.close(); // linger 0: the close sends a reset
            try {
                log.add("read gave " + Coroutine.tryCallWithTimeout(Duration.ofSeconds(60), () -> server.read(ByteBuffer.allocate(8))));
            } catch (IOException e) {
                log.add("then " + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
            assertThat(log).containsExactly("read 'abc'", "idle read gave Optional.empty having read 0",
                    "idle read of the form without a value returned false having read 0", "then read 'de'",
                    "then SocketException: main context 'main' cannot read from " + name(server)
                            + " (open): java.net.SocketException: Connection reset");
            assertThat(LoopProbe.ioWaits()).isZero();
        }
    }

    /**
     * A timed {@code readLine} of a {@code BufferedReader} over a connection's input: {@code tryCallWithTimeout} gives
     * empty at the end of the stream as at its own expiry (the body's null is empty, as {@code Optional.ofNullable}
     * makes it), so it cannot tell the two apart; {@code callWithTimeout} tells them, returning readLine's null at the
     * end of the stream and throwing {@code CoroutineTimeoutException} at its expiry, and so does a body that wraps
     * the line in an {@code Optional} of its own. An idle read cut short took nothing: the next line is whole.
     */
    @Test
    void aTimedReadLineTellsTheEndOfTheStreamFromItsTimeoutThroughCallWithTimeoutWhereTryCallWithTimeoutGivesEmptyForBoth()
            throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection server = listener.accept()) {
            BufferedReader reader = new BufferedReader(new InputStreamReader(server.input(), StandardCharsets.UTF_8));
            Duration long_ = Duration.ofSeconds(60);
            Duration idle = Duration.ofMillis(20);
            peer.write(bytes("one\n"));
            log.add("in time: " + Coroutine.tryCallWithTimeout(long_, reader::readLine));
            log.add("idle, try form: " + Coroutine.tryCallWithTimeout(idle, reader::readLine));
            try {
                log.add("idle, call form: " + Coroutine.callWithTimeout(idle, reader::readLine));
            } catch (CoroutineTimeoutException e) {
                log.add("idle, call form: timed out");
            }
            log.add("idle, try form of an Optional: "
                    + Coroutine.tryCallWithTimeout(idle, () -> Optional.ofNullable(reader.readLine())));
            peer.write(bytes("two\n"));
            peer.shutdownOutput();
            log.add("then: " + Coroutine.callWithTimeout(long_, reader::readLine));
            log.add("at the end, call form: " + Coroutine.callWithTimeout(long_, reader::readLine));
            log.add("at the end, try form: " + Coroutine.tryCallWithTimeout(long_, reader::readLine));
            log.add("at the end, try form of an Optional: "
                    + Coroutine.tryCallWithTimeout(long_, () -> Optional.ofNullable(reader.readLine())));
            assertThat(log).containsExactly("in time: Optional[one]", "idle, try form: Optional.empty",
                    "idle, call form: timed out", "idle, try form of an Optional: Optional.empty", "then: two",
                    "at the end, call form: null", "at the end, try form: Optional.empty",
                    "at the end, try form of an Optional: Optional[Optional.empty]");
            assertThat(LoopProbe.ioWaits()).isZero();
        }
    }

    /**
     * A peer on another thread (a plain thread, a virtual thread) writes numbered bursts over a
     * blocking socket while a coroutine reads them through reads that keep timing out, by a
     * {@code withTimeout} of their own or by an outer one expiring through an inner one: the peer
     * writes each burst only after one more read has timed out, so reads are cut short all along the
     * stream, and every number arrives exactly once, in order.
     */
    @Test
    void numbersAPeerOnAnotherThreadWritesAreEachReadOnceInOrderThroughReadsThatKeepTimingOut() throws Exception {
        for (Thread.Builder peer : List.of(Thread.ofPlatform(), Thread.ofVirtual())) {
            readEveryNumberOnceThroughTimedOutReads(peer);
        }
    }

    private void readEveryNumberOnceThroughTimedOutReads(Thread.Builder peer) throws Exception {
        int bursts = 100;
        int perBurst = 50;
        Semaphore timedOut = new Semaphore(0);
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            CompletableFuture<Void> wrote = new CompletableFuture<>();
            peer.name("writer").start(() -> {
                try (SocketChannel out = SocketChannel.open(listener.localAddress())) {
                    ByteBuffer burst = ByteBuffer.allocate(4 * perBurst);
                    for (int b = 0; b < bursts; b++) {
                        if (!timedOut.tryAcquire(60, TimeUnit.SECONDS)) { // one more read has timed out
                            throw new AssertionError("no read timed out for a minute: the reader has stopped");
                        }
                        burst.clear();
                        for (int k = 0; k < perBurst; k++) {
                            burst.putInt(b * perBurst + k);
                        }
                        burst.flip();
                        while (burst.hasRemaining()) {
                            out.write(burst);
                        }
                    }
                    wrote.complete(null);
                } catch (Throwable e) {
                    wrote.completeExceptionally(e);
                }
            });
            try (TcpConnection in = listener.accept()) {
                ByteBuffer buf = ByteBuffer.allocate(4 * perBurst * 3);
                List<Integer> numbers = new ArrayList<>();
                int timeouts = 0;
                for (int round = 0; ; round++) {
                    int n;
                    try {
                        n = round % 2 == 0
                                ? Coroutine.withTimeout(Duration.ofMillis(1), () -> readCount(in, buf))
                                : Coroutine.withTimeout(Duration.ofMillis(1), () -> Coroutine.withTimeout(Duration.ofMillis(5),
                                        () -> readCount(in, buf)));
                    } catch (CoroutineTimeoutException e) {
                        timeouts++;
                        timedOut.release();
                        continue;
                    }
                    if (n < 0) {
                        break;
                    }
                    buf.flip();
                    while (buf.remaining() >= 4) {
                        numbers.add(buf.getInt());
                    }
                    buf.compact();
                }
                assertThat(wrote).as("the writer wrote every burst").isCompleted();
                assertThat(buf.position()).as("no partial number left").isZero();
                assertThat(timeouts).as("reads cut short").isGreaterThanOrEqualTo(bursts);
                assertThat(numbers).as("every number once, in order").hasSize(bursts * perBurst);
                for (int i = 0; i < numbers.size(); i++) {
                    if (numbers.get(i) != i) {
                        assertThat(numbers.get(i)).as("number " + i).isEqualTo(i);
                    }
                }
                assertThat(LoopProbe.ioWaits()).isZero();
            }
        }
    }

    /**
     * A write that times out while the peer does not read has written what its buffer's position
     * says and no more: the peer, reading later, gets those bytes and then the rest, each once, in order.
     */
    @Test
    void aWriteThatTimedOutWroteExactlyWhatItsBufferSaysAndTheRestFollowsInOrder() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection server = listener.accept()) {
            byte[] data = patterned(16 << 20); // far more than the two sockets' buffers hold
            ByteBuffer src = ByteBuffer.wrap(data);
            try {
                Coroutine.withTimeout(Duration.ofMillis(20), () -> {
                    try {
                        server.write(src);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                log.add("write returned");
            } catch (CoroutineTimeoutException e) {
                log.add("timed out");
            }
            assertThat(log).containsExactly("timed out");
            assertThat(src.position()).as("written before the timeout").isBetween(1, data.length - 1);
            assertThat(LoopProbe.ioWaits()).isZero();

            CompletableFuture<byte[]> received = new CompletableFuture<>();
            Thread.ofPlatform().name("peer-reader").start(() -> {
                try {
                    ByteBuffer in = ByteBuffer.allocate(data.length + 1);
                    while (peer.read(in) >= 0) {
                        // until the server closes
                    }
                    byte[] got = new byte[in.flip().remaining()];
                    in.get(got);
                    received.complete(got);
                } catch (Throwable e) {
                    received.completeExceptionally(e);
                }
            });
            server.write(src);
            server.close();
            assertThat(Coroutine.await(received)).as("every byte once, in order").isEqualTo(data);
        }
    }

    /**
     * A write through the {@code java.io} view hides its buffer, so a failure part way through must
     * say how many of its bytes went out: a write parked on full buffers, failed by a close of the
     * connection from another coroutine, names that count, and the peer reads exactly those bytes.
     */
    @Test
    void aStreamWriteFailedPartWaySaysHowManyOfItsBytesWentOutAndThePeerGetsExactlyThose() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection server = listener.accept()) {
            byte[] data = patterned(16 << 20); // far more than the two sockets' buffers hold
            Crew crew = new Crew();
            AtomicReference<IOException> failure = new AtomicReference<>();
            Coroutine writer = crew.spawn("writer", () -> {
                try {
                    server.output().write(data);
                    log.add("write returned");
                } catch (IOException e) {
                    failure.set(e);
                }
            });
            Coroutine.yield();
            assertThat(writer.state()).as("parked with the buffers full").isEqualTo(State.PARKED);
            server.close();
            crew.join();

            assertThat(log).isEmpty();
            String message = failure.get().getMessage();
            assertThat(message).matches("coroutine 'writer' cannot write to " + java.util.regex.Pattern.quote(name(server))
                    + " \\(closed\\): the connection was closed while it waited; \\d+ of the " + data.length
                    + " bytes of this write were written before it failed");
            int written = Integer.parseInt(message.substring(message.lastIndexOf("; ") + 2, message.indexOf(" of the ")));
            assertThat(written).isBetween(1, data.length - 1);

            ByteBuffer in = ByteBuffer.allocate(data.length);
            while (peer.read(in) >= 0 && in.hasRemaining()) {
                // what was sent before the close, then the end of the stream
            }
            assertThat(in.position()).as("the peer got what the failure says, no more").isEqualTo(written);
            assertThat(java.util.Arrays.equals(data, 0, written, in.array(), 0, written)).as("in order, each once").isTrue();
        }
    }

    /**
     * A write through the {@code java.io} view hides its buffer, so one cut short by a
     * {@code withTimeout} part way through must say how many of its bytes went out, as a write that
     * fails does: the signal that unwound it (the timeout's cause) carries an {@code IOException}
     * saying so, and the peer reads exactly those bytes before what is written next.
     */
    @Test
    void aStreamWriteCutShortByATimeoutSaysHowManyOfItsBytesWentOutAndThePeerGetsExactlyThose() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection server = listener.accept()) {
            byte[] data = patterned(16 << 20); // far more than the two sockets' buffers hold
            CoroutineTimeoutException timeout = null;
            try {
                Coroutine.withTimeout(Duration.ofMillis(20), () -> {
                    try {
                        server.output().write(data);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            } catch (CoroutineTimeoutException e) {
                timeout = e;
            }
            assertThat(timeout).as("the write was cut short").isNotNull();
            assertThat(timeout.getCause()).as("the signal that unwound it").isNotNull();
            int written = writtenBeforeIt(timeout.getCause(), server, data.length);

            CompletableFuture<byte[]> received = new CompletableFuture<>();
            Thread.ofPlatform().name("peer-reader").start(() -> {
                try {
                    ByteBuffer in = ByteBuffer.allocate(written + 4);
                    while (peer.read(in) >= 0) {
                        // until the server closes
                    }
                    byte[] got = new byte[in.flip().remaining()];
                    in.get(got);
                    received.complete(got);
                } catch (Throwable e) {
                    received.completeExceptionally(e);
                }
            });
            server.output().write(new byte[] {'e', 'n', 'd'});
            server.close();
            byte[] got = Coroutine.await(received);
            assertThat(got.length).as("the bytes the message names, then the next write's").isEqualTo(written + 3);
            assertThat(java.util.Arrays.equals(data, 0, written, got, 0, written)).as("in order, each once").isTrue();
            assertThat(new String(got, written, 3, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("end");
        }
    }

    /**
     * A stream write cut short part way by a {@code tryWithTimeout}'s own expiry answers {@code false}: the count of
     * the bytes that went out went with the signal it swallowed (NET.md says to use {@code withTimeout} where the
     * count matters). The peer has some of the bytes, not all; the connection's own {@code write(ByteBuffer)} cut
     * short so keeps the count in its buffer's position, and the peer gets exactly those bytes.
     */
    @Test
    @Timeout(30)
    void aTryWithTimeoutThatCutsAStreamWriteShortAnswersFalseWhileAConnectionWritesBufferKeepsItsCount() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection server = listener.accept()) {
            byte[] data = patterned(16 << 20); // far more than the two sockets' buffers hold
            boolean wrote = Coroutine.tryCallWithTimeout(Duration.ofMillis(20), () -> server.output().write(data));
            assertThat(wrote).as("the stream write was cut short").isFalse();
            ByteBuffer rest = ByteBuffer.wrap(data);
            assertThat(Coroutine.tryCallWithTimeout(Duration.ofMillis(20), () -> server.write(rest))).as("cut short too").isFalse();
            int byBuffer = rest.position();
            assertThat(byBuffer).as("the buffer's count").isBetween(0, data.length - 1);

            CompletableFuture<Integer> received = new CompletableFuture<>();
            Thread.ofPlatform().name("peer-reader").start(() -> {
                try {
                    ByteBuffer in = ByteBuffer.allocate(64 << 10);
                    int total = 0;
                    for (int n; (n = peer.read(in.clear())) >= 0; ) {
                        total += n;
                    }
                    received.complete(total);
                } catch (Throwable e) {
                    received.completeExceptionally(e);
                }
            });
            server.close();
            int got = Coroutine.await(received);
            int byStream = got - byBuffer;
            assertThat(byStream).as("the bytes of the stream write that went out, unknown to its caller")
                    .isBetween(1, data.length - 1);
        }
    }

    /**
     * A stream write cut short part way by its {@code withTimeout} when an enclosing one has expired too
     * before the writer ran again (the thread busy past both deadlines): the inner scope's signal unwinds the
     * write, and the inner scope, finding the outer expired, throws the outer's signal in its place, which
     * still carries the {@code IOException} saying how many of the write's bytes went out; the peer reads
     * exactly those.
     */
    @Test
    void aStreamWriteCutShortByItsTimeoutWhileAnOuterOneExpiredTooStillSaysHowManyOfItsBytesWentOut() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection server = listener.accept()) {
            byte[] data = patterned(16 << 20); // far more than the two sockets' buffers hold
            AtomicReference<CoroutineTimeoutException> timeout = new AtomicReference<>();
            long[] opened = new long[1];
            Crew crew = new Crew();
            Coroutine writer = crew.spawn("writer", () -> {
                try {
                    Coroutine.withTimeout(Duration.ofMillis(2), () -> Coroutine.withTimeout(Duration.ofMillis(1), () -> {
                        opened[0] = System.nanoTime(); // both scopes open: each deadline at most 2 ms from now
                        try {
                            server.output().write(data);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }));
                } catch (CoroutineTimeoutException e) {
                    timeout.set(e);
                }
            });
            Coroutine.yield(); // it writes what the sockets take, then parks
            assertThat(writer.state()).as("started, not ended").isIn(State.PARKED, State.SUSPENDED);
            while (System.nanoTime() - opened[0] < TimeUnit.MILLISECONDS.toNanos(5)) {
                // busy, no scheduling point, past both deadlines: both scopes expire before the writer runs again
            }
            crew.join();
            assertThat(timeout.get()).as("the write was cut short").isNotNull();
            assertThat(timeout.get()).hasMessage("coroutine 'writer' timed out: withTimeout(PT0.002S) expired before its body returned");
            assertThat(timeout.get().getCause()).as("the signal that unwound it").isNotNull();
            assertThat(timeout.get().getCause().getSuppressed()).as("what it says of the write").hasSize(1);
            String message = timeout.get().getCause().getSuppressed()[0].getMessage();
            assertThat(message).matches("coroutine 'writer' was interrupted writing to "
                    + java.util.regex.Pattern.quote(name(server)) + " \\(open\\): \\d+ of the " + data.length
                    + " bytes of this write were written before it");
            int written = Integer.parseInt(message.substring(message.lastIndexOf("): ") + 3, message.indexOf(" of the ")));
            assertThat(written).isBetween(1, data.length - 1);
            server.close();
            ByteBuffer in = ByteBuffer.allocate(data.length);
            while (peer.read(in) >= 0 && in.hasRemaining()) {
                // what was sent before the close, then the end of the stream
            }
            assertThat(in.position()).as("the peer got what the signal says, no more").isEqualTo(written);
            assertThat(java.util.Arrays.equals(data, 0, written, in.array(), 0, written)).as("in order, each once").isTrue();
        }
    }

    /**
     * {@code readNBytes} of the {@code java.io} view takes bytes from the connection into the array
     * but, cut short part way by a {@code withTimeout}, returns no count: the signal that unwound it
     * (the timeout's cause) carries an {@code IOException} saying how many it read, as a stream
     * write cut short says how many went out, and the next read returns the bytes that come next.
     */
    @Test
    void aStreamReadNBytesCutShortByATimeoutSaysHowManyBytesItReadIntoTheArray() throws Exception {
        byte[] into = new byte[10];
        Throwable[] said = cutShortAfterThreeBytes(in -> in.readNBytes(into, 0, 10));
        assertThat(said).as("what the signal carries").hasSize(1);
        assertThat(said[0]).isInstanceOf(IOException.class).hasMessageMatching("main context 'main' was interrupted"
                + " reading from connection \\S+ -> \\S+ \\(open\\): 3 of the 10 bytes of this read were read into the array before it");
        assertThat(new String(into, 0, 3, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("abc");
    }

    /**
     * {@code readNBytes} of the {@code java.io} view that fails part way (the connection closed
     * while it waits for the rest) says in its message how many bytes it read into the array.
     */
    @Test
    void aStreamReadNBytesFailedPartWaySaysHowManyBytesItReadIntoTheArray() throws Exception {
        byte[] into = new byte[10];
        assertThat(failedAfterThreeBytes(in -> in.readNBytes(into, 0, 10)))
                .isEqualTo("coroutine 'reader' cannot read from NAME (closed): the connection was closed"
                        + " while it waited; 3 of the 10 bytes of this read were read into the array before it failed");
        assertThat(new String(into, 0, 3, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("abc");
    }

    /**
     * {@code readNBytes(len)} of the {@code java.io} view cut short part way by a {@code withTimeout}
     * loses the bytes it took with the array it would have returned: the signal carries an
     * {@code IOException} saying how many, and the next read returns the bytes that come next.
     */
    @Test
    @Timeout(20)
    void aStreamReadNBytesOfALengthCutShortByATimeoutSaysHowManyBytesItTookAndLost() throws Exception {
        Throwable[] said = cutShortAfterThreeBytes(in -> in.readNBytes(10));
        assertThat(said).as("what the signal carries").hasSize(1);
        assertThat(said[0]).isInstanceOf(IOException.class).hasMessageMatching("main context 'main' was interrupted"
                + " reading from connection \\S+ -> \\S+ \\(open\\): 3 of the 10 bytes of this read were read before it;"
                + " they are lost with the array it did not return");
    }

    /** {@code readAllBytes()} of the view cut short part way says how many bytes it took and lost, as {@code readNBytes(len)} does. */
    @Test
    @Timeout(20)
    void aStreamReadAllBytesCutShortByATimeoutSaysHowManyBytesItTookAndLost() throws Exception {
        Throwable[] said = cutShortAfterThreeBytes(java.io.InputStream::readAllBytes);
        assertThat(said).as("what the signal carries").hasSize(1);
        assertThat(said[0]).isInstanceOf(IOException.class).hasMessageMatching("main context 'main' was interrupted"
                + " reading from connection \\S+ -> \\S+ \\(open\\): 3 bytes of this read to the end of the stream were"
                + " read before it; they are lost with the array it did not return");
    }

    /** {@code readNBytes(len)} and {@code readAllBytes()} of the view that fail part way say in their message how many bytes they took and lost. */
    @Test
    @Timeout(20)
    void aStreamReadNBytesOfALengthOrReadAllBytesFailedPartWaySaysHowManyBytesItTookAndLost() throws Exception {
        assertThat(failedAfterThreeBytes(in -> in.readNBytes(10))).isEqualTo(CLOSED_WHILE_READING
                + "; 3 of the 10 bytes of this read were read before it failed; they are lost with the array it did not return");
        assertThat(failedAfterThreeBytes(java.io.InputStream::readAllBytes)).isEqualTo(CLOSED_WHILE_READING
                + "; 3 bytes of this read to the end of the stream were read before it failed;"
                + " they are lost with the array it did not return");
    }

    /**
     * {@code skip(n)} and {@code skipNBytes(n)} of the {@code java.io} view cut short part way by a
     * {@code withTimeout} return no count: the signal carries an {@code IOException} saying how many
     * bytes they skipped, and the next read returns the bytes that come next.
     */
    @Test
    @Timeout(20)
    void aStreamSkipOrSkipNBytesCutShortByATimeoutSaysHowManyBytesItSkipped() throws Exception {
        String said = "main context 'main' was interrupted skipping bytes of connection \\S+ -> \\S+ \\(open\\):"
                + " 3 of the 10 bytes of this skip were skipped before it";
        Throwable[] skip = cutShortAfterThreeBytes(in -> in.skip(10));
        assertThat(skip).as("what the signal carries").hasSize(1);
        assertThat(skip[0]).isInstanceOf(IOException.class).hasMessageMatching(said);
        Throwable[] skipN = cutShortAfterThreeBytes(in -> {
            in.skipNBytes(10);
            return null;
        });
        assertThat(skipN).as("what the signal carries").hasSize(1);
        assertThat(skipN[0]).isInstanceOf(IOException.class).hasMessageMatching(said);
    }

    /** {@code skip(n)} and {@code skipNBytes(n)} of the view that fail part way say in their message how many bytes they skipped. */
    @Test
    @Timeout(20)
    void aStreamSkipOrSkipNBytesFailedPartWaySaysHowManyBytesItSkipped() throws Exception {
        String said = CLOSED_WHILE_READING + "; 3 of the 10 bytes of this skip were skipped before it failed";
        assertThat(failedAfterThreeBytes(in -> in.skip(10))).isEqualTo(said);
        assertThat(failedAfterThreeBytes(in -> {
            in.skipNBytes(10);
            return null;
        })).isEqualTo(said);
    }

    /**
     * {@code transferTo(out)} of the {@code java.io} view cut short part way by a {@code withTimeout}
     * returns no count: the signal carries an {@code IOException} saying how many bytes it wrote to
     * {@code out}, which has exactly those, and the next read returns the bytes that come next.
     */
    @Test
    @Timeout(20)
    void aStreamTransferToCutShortByATimeoutSaysHowManyBytesItWroteToItsOutput() throws Exception {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        Throwable[] said = cutShortAfterThreeBytes(in -> in.transferTo(out));
        assertThat(said).as("what the signal carries").hasSize(1);
        assertThat(said[0]).isInstanceOf(IOException.class).hasMessageMatching("main context 'main' was interrupted"
                + " transferring from connection \\S+ -> \\S+ \\(open\\): 3 bytes of this transfer were written to its"
                + " output before it");
        assertThat(out.toString(java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("abc");
    }

    /**
     * {@code transferTo(out)} of the view that fails part way says how many bytes it wrote to
     * {@code out}: in its message when a read of the connection fails, in an {@code IOException}
     * added to the failure of {@code out} when that fails, naming the bytes it was writing then.
     */
    @Test
    @Timeout(20)
    void aStreamTransferToFailedPartWaySaysHowManyBytesItWroteToItsOutput() throws Exception {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        assertThat(failedAfterThreeBytes(in -> in.transferTo(out)))
                .isEqualTo(CLOSED_WHILE_READING + "; 3 bytes of this transfer were written to its output before it failed");
        assertThat(out.toString(java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("abc");

        IOException full = new IOException("full");
        java.io.OutputStream failing = new java.io.OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw full;
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                throw full;
            }
        };
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            client.write(bytes("abc"));
            IOException thrown = null;
            try {
                server.input().transferTo(failing);
            } catch (IOException e) {
                thrown = e;
            }
            assertThat(thrown).as("out's own failure").isSameAs(full);
            assertThat(full.getSuppressed()).hasSize(1);
            assertThat(full.getSuppressed()[0]).hasMessage("main context 'main' was interrupted transferring from "
                    + name(server) + " (open): 0 bytes of this transfer were written to its output before it,"
                    + " and the 3 read after them were being written to it");
        }
    }

    /**
     * A stream write of main parked part way is cut short by a coroutine's failure too (it reaches
     * main there): the failure carries the {@code IOException} saying how many bytes went out, and
     * the peer reads exactly those.
     */
    @Test
    void aStreamWriteOfMainCutShortByACoroutinesFailureSaysHowManyOfItsBytesWentOut() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection server = listener.accept()) {
            byte[] data = patterned(16 << 20); // far more than the two sockets' buffers hold
            Coroutine.create("failing", () -> {
                throw new IllegalStateException("boom"); // runs once main parks in its write
            });
            RuntimeException failure = null;
            try {
                server.output().write(data);
            } catch (RuntimeException e) {
                failure = e;
            }
            assertThat(failure).as("the write was cut short").isNotNull().hasRootCauseMessage("boom");
            int written = writtenBeforeIt(failure, server, data.length);
            server.close();
            ByteBuffer in = ByteBuffer.allocate(data.length);
            while (peer.read(in) >= 0 && in.hasRemaining()) {
                // what was sent before the close, then the end of the stream
            }
            assertThat(in.position()).as("the peer got what the message says, no more").isEqualTo(written);
            assertThat(java.util.Arrays.equals(data, 0, written, in.array(), 0, written)).as("in order, each once").isTrue();
        }
    }

    /**
     * A {@code BufferedOutputStream} keeps its whole buffer when the write it flushes it with throws,
     * and the view cannot tell its next flush from a new write of the same bytes: a flush cut short by
     * a {@code withTimeout} after N bytes went out (the signal's suppressed {@code IOException} says
     * N) and flushed again sends the whole buffer again, so the peer gets those N bytes twice. The
     * rule the docs state: after a write or flush of a buffering wrapper is cut short, close the
     * connection, not the wrapper (whose close flushes), or go on with the view from byte N of what
     * the wrapper held; never flush the wrapper again.
     */
    @Test
    void aBufferingWrapperFlushedAgainAfterItsFlushWasCutShortSendsTheBytesThatWentOutAgain() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection server = listener.accept()) {
            byte[] data = patterned(16 << 20); // far more than the two sockets' buffers hold
            java.io.BufferedOutputStream out = new java.io.BufferedOutputStream(server.output(), data.length + 1);
            out.write(data); // all in the wrapper's buffer: nothing sent yet
            CoroutineTimeoutException timeout = null;
            try {
                Coroutine.withTimeout(Duration.ofMillis(20), () -> {
                    try {
                        out.flush();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            } catch (CoroutineTimeoutException e) {
                timeout = e;
            }
            assertThat(timeout).as("the flush was cut short").isNotNull();
            String message = timeout.getCause().getSuppressed()[0].getMessage();
            int written = Integer.parseInt(message.substring(message.lastIndexOf("): ") + 3, message.indexOf(" of the ")));
            assertThat(written).isBetween(1, data.length - 1);

            CompletableFuture<byte[]> received = new CompletableFuture<>();
            Thread.ofPlatform().name("peer-reader").start(() -> {
                try {
                    ByteBuffer in = ByteBuffer.allocate(written + data.length + 1);
                    while (peer.read(in) >= 0) {
                        // until the server closes
                    }
                    byte[] got = new byte[in.flip().remaining()];
                    in.get(got);
                    received.complete(got);
                } catch (Throwable e) {
                    received.completeExceptionally(e);
                }
            });
            out.flush(); // what the rule says not to do
            server.close();
            byte[] got = Coroutine.await(received);
            assertThat(got.length).as("the N bytes, then the wrapper's whole buffer again").isEqualTo(written + data.length);
            assertThat(java.util.Arrays.equals(data, 0, written, got, 0, written)).as("the N bytes of the cut flush").isTrue();
            assertThat(java.util.Arrays.equals(data, 0, data.length, got, written, got.length))
                    .as("then the whole buffer from its start: the N bytes twice").isTrue();
        }
    }

    /** A call of a connection or a listener, for {@link #cutShortByItsTimeout}. */
    private interface NetCall {
        Object call() throws IOException;
    }

    /**
     * Runs {@code call} in a coroutine named {@code name} under a {@code withTimeout} of 20 ms that cuts it short,
     * and joins it: the timeout's message, its cause's (the signal that unwound the call) and the clock's time then.
     */
    private static String cutShortByItsTimeout(String name, NetCall call) {
        StringBuilder seen = new StringBuilder();
        Coroutine.create(name, () -> {
            try {
                Coroutine.withTimeout(Duration.ofMillis(20), () -> {
                    try {
                        Object returned = call.call();
                        seen.append("returned ").append(returned);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            } catch (CoroutineTimeoutException e) {
                seen.append(e.getMessage()).append(" / ").append(e.getCause().getMessage()).append(" at t=").append(Coroutine.nanoTime());
            }
        }).join();
        return seen.toString();
    }

    /**
     * A read, a write and an accept cut short by their {@code withTimeout}, on the virtual clock: each throws its
     * scope's {@code CoroutineTimeoutException} at its deadline, whose cause, the signal that unwound the call,
     * names the coroutine, the timeout and the call with what it was made on; none leaves a wait or a timer, nor a
     * registration but the connection's and the listener's, kept for their next calls; and nothing is lost: the read
     * took nothing (the next read gets the bytes the peer writes next), the peer gets the bytes the write's buffer
     * says went out and then the rest, each once, in order, and the listener accepts the next connection.
     */
    @Test
    void aReadAWriteAndAnAcceptCutShortByTheirTimeoutsNameTheirCallInTheSignalAndLoseNothing() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection c = listener.accept()) {
            String connection = name(c);
            byte[] data = patterned(16 << 20); // far more than the two sockets' buffers hold
            ByteBuffer src = ByteBuffer.wrap(data);
            ByteBuffer dst = ByteBuffer.allocate(8);
            VirtualTime.run(() -> {
                log.add(cutShortByItsTimeout("reader", () -> c.read(dst)));
                log.add(cutShortByItsTimeout("writer", () -> {
                    c.write(src);
                    return "all";
                }));
                log.add(cutShortByItsTimeout("acceptor", listener::accept));
                log.add(LoopProbe.ioWaits() + " I/O waits, a timer or wait pending: " + LoopProbe.hasPending() + ", "
                        + LoopProbe.registeredChannels() + " registered");
            });
            String signal = " throws this signal so that the body unwinds to it at t=";
            assertThat(log).containsExactly(
                    "coroutine 'reader' timed out: withTimeout(PT0.02S) expired before its body returned / coroutine 'reader':"
                            + " its withTimeout(PT0.02S) expired; its read from " + connection + signal + "20000000",
                    "coroutine 'writer' timed out: withTimeout(PT0.02S) expired before its body returned / coroutine 'writer':"
                            + " its withTimeout(PT0.02S) expired; its write to " + connection + signal + "40000000",
                    "coroutine 'acceptor' timed out: withTimeout(PT0.02S) expired before its body returned / coroutine"
                            + " 'acceptor': its withTimeout(PT0.02S) expired; its accept on listener " + listener.localAddress()
                            + signal + "60000000",
                    "0 I/O waits, a timer or wait pending: false, 2 registered");
            assertThat(dst.position()).as("the read took nothing").isZero();
            assertThat(src.position()).as("written before the timeout").isBetween(1, data.length - 1);

            CompletableFuture<byte[]> received = new CompletableFuture<>();
            Thread.ofPlatform().name("peer-reader").start(() -> {
                try {
                    ByteBuffer in = ByteBuffer.allocate(data.length + 1);
                    while (peer.read(in) >= 0) {
                        // until the connection's output is shut down
                    }
                    byte[] got = new byte[in.flip().remaining()];
                    in.get(got);
                    peer.write(bytes("abc"));
                    received.complete(got);
                } catch (Throwable e) {
                    received.completeExceptionally(e);
                }
            });
            c.write(src);
            c.shutdownOutput();
            assertThat(Coroutine.await(received)).as("every byte once, in order").isEqualTo(data);
            while (dst.position() < 3) {
                c.read(dst);
            }
            assertThat(text(dst)).isEqualTo("abc");
            try (SocketChannel next = SocketChannel.open(listener.localAddress());
                 TcpConnection accepted = listener.accept()) {
                assertThat(accepted.remoteAddress()).isEqualTo(next.getLocalAddress());
            }
        }
    }

    @Test
    void anAcceptThatTimedOutLeavesNoWaitAndTheListenerStillAccepts() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            try {
                Coroutine.withTimeout(Duration.ofMillis(20), () -> {
                    try {
                        listener.accept().close();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                log.add("accept returned");
            } catch (CoroutineTimeoutException e) {
                log.add("timed out");
            }
            assertThat(log).containsExactly("timed out");
            assertThat(LoopProbe.ioWaits()).isZero();
            try (TcpConnection client = TcpConnection.connect(listener.localAddress());
                 TcpConnection server = listener.accept()) {
                assertThat(server.remoteAddress()).isEqualTo(client.localAddress());
            }
        }
    }

    @Test
    void aPeerResetFailsAWriteParkedOnAFullBufferWithAnIOExceptionNamingTheWriterAndTheConnection() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection c = listener.accept()) {
            Crew crew = new Crew();
            AtomicReference<IOException> failure = new AtomicReference<>();
            Coroutine writer = crew.spawn("writer", () -> {
                ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
                try {
                    for (int i = 0; i < 64; i++) { // 64 MiB: the peer never reads
                        c.write(chunk.clear());
                    }
                    log.add("wrote it all");
                } catch (IOException e) {
                    failure.set(e);
                }
            });
            Coroutine.yield();
            assertThat(writer.state()).as("parked with the buffers full").isEqualTo(State.PARKED);

            peer.setOption(StandardSocketOptions.SO_LINGER, 0);
            peer.close(); // linger 0: the close sends a reset
            crew.join();

            assertThat(log).isEmpty();
            assertThat(failure.get())
                    .hasMessageStartingWith("coroutine 'writer' cannot write to " + name(c) + " (open): ")
                    .hasCauseInstanceOf(IOException.class);
            assertThat(LoopProbe.ioWaits()).isZero();
        }
    }

    @Test
    void closingCoroutinesParkedInWriteAndAcceptUnwindsThemAndLeavesEverythingUsable() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection server = listener.accept()) {
            Coroutine writer = Coroutine.create("writer", () -> {
                ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
                try {
                    for (int i = 0; i < 64; i++) { // the peer does not read yet
                        server.write(chunk.clear());
                    }
                    log.add("writer wrote it all");
                } catch (IOException e) {
                    log.add("writer threw " + e);
                } finally {
                    log.add("writer's finally");
                }
            });
            Coroutine acceptor = Coroutine.create("acceptor", () -> {
                try {
                    listener.accept().close();
                    log.add("acceptor accepted");
                } catch (IOException e) {
                    log.add("acceptor threw " + e);
                } finally {
                    log.add("acceptor's finally");
                }
            });
            Coroutine.yield();
            assertThat(writer.state()).isEqualTo(State.PARKED);
            assertThat(acceptor.state()).isEqualTo(State.PARKED);
            assertThat(LoopProbe.ioWaits()).isEqualTo(2);

            writer.close();
            acceptor.close();
            assertThat(log).containsExactly("writer's finally", "acceptor's finally");
            assertThat(LoopProbe.ioWaits()).isZero();
            assertThat(LoopProbe.hasPending()).isFalse();

            // the listener accepts, and the connection still carries bytes the other way
            try (SocketChannel second = SocketChannel.open(listener.localAddress());
                 TcpConnection accepted = listener.accept()) {
                assertThat(accepted.remoteAddress()).isEqualTo(second.getLocalAddress());
            }
            peer.write(bytes("ok"));
            ByteBuffer buf = ByteBuffer.allocate(2);
            while (buf.hasRemaining()) {
                server.read(buf);
            }
            assertThat(text(buf)).isEqualTo("ok");
        }
    }

    /** A call of the {@code java.io} input view, for the tests of the calls that loop over reads. */
    private interface ViewCall {
        Object call(java.io.InputStream in) throws IOException;
    }

    /**
     * Makes {@code call} of the server's input view find three bytes, then cuts it short by a
     * {@code withTimeout}; checks that the next read returns the byte written next (nothing the call
     * took is read again) and returns what the signal (the timeout's cause) carries.
     */
    private static Throwable[] cutShortAfterThreeBytes(ViewCall call) throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            client.write(bytes("abc"));
            CoroutineTimeoutException timeout = null;
            try {
                Coroutine.withTimeout(Duration.ofMillis(20), () -> {
                    try {
                        return call.call(server.input());
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            } catch (CoroutineTimeoutException e) {
                timeout = e;
            }
            assertThat(timeout).as("the call was cut short").isNotNull();
            client.write(bytes("d"));
            ByteBuffer next = ByteBuffer.allocate(4);
            server.read(next);
            assertThat(text(next)).as("what comes next, nothing taken twice").isEqualTo("d");
            return timeout.getCause().getSuppressed();
        }
    }

    /**
     * Makes {@code call} of the server's input view, in coroutine 'reader', find three bytes, then
     * closes the connection while it waits for more; returns its failure's message, with
     * {@code NAME} in place of the connection's name.
     */
    private static String failedAfterThreeBytes(ViewCall call) throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            client.write(bytes("abc"));
            AtomicReference<IOException> failure = new AtomicReference<>();
            Coroutine reader = Coroutine.create("reader", () -> {
                try {
                    call.call(server.input());
                } catch (IOException e) {
                    failure.set(e);
                }
            });
            while (reader.state() != State.PARKED) {
                Coroutine.yield();
            }
            String name = name(server);
            server.close();
            while (!reader.isFinished()) {
                Coroutine.yield();
            }
            assertThat(failure.get()).as("the call failed").isNotNull();
            return failure.get().getMessage().replace(name, "NAME");
        }
    }

    /** The message of a read of {@code reader} failed by a close while it waited, as {@link #failedAfterThreeBytes} gives it. */
    private static final String CLOSED_WHILE_READING =
            "coroutine 'reader' cannot read from NAME (closed): the connection was closed while it waited";

    /** {@link TcpConnection#read}: how many bytes it read, -1 at the end of the stream. */
    private static int readCount(TcpConnection c, ByteBuffer buf) {
        try {
            return c.read(buf);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void read(TcpConnection c, ByteBuffer buf) {
        try {
            c.read(buf);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * How many bytes of a stream write of {@code len} to {@code server} went out, as the one
     * {@code IOException} among what unwound it ({@code carrier}'s suppressed exceptions) says: part
     * of the write, not all of it, and the message naming main, the connection and its state.
     */
    private static int writtenBeforeIt(Throwable carrier, TcpConnection server, int len) {
        assertThat(carrier.getSuppressed()).as("what it says of the write").hasSize(1);
        String message = carrier.getSuppressed()[0].getMessage();
        assertThat(message).matches("main context 'main' was interrupted writing to "
                + java.util.regex.Pattern.quote(name(server)) + " \\(open\\): \\d+ of the " + len
                + " bytes of this write were written before it");
        int written = Integer.parseInt(message.substring(message.lastIndexOf("): ") + 3, message.indexOf(" of the ")));
        assertThat(written).isBetween(1, len - 1);
        return written;
    }

    /** {@code n} bytes in which each differs from the one before, so that a byte lost, doubled or out of place shows. */
    static byte[] patterned(int n) {
        byte[] data = new byte[n];
        for (int i = 0; i < n; i++) {
            data[i] = (byte) (i * 31 + (i >>> 8));
        }
        return data;
    }
}
