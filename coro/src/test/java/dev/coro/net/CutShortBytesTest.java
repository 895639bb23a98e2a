package dev.coro.net;

import static dev.coro.net.IoTimeoutTest.patterned;
import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static dev.coro.net.TcpConnectionTest.name;
import static dev.coro.net.TcpConnectionTest.text;
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
import java.util.Optional;
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

    /** How many times at most the scenario of a write woken in the same select as its closer is tried. */
    private static final int ATTEMPTS = 5;

    /** How long a test waits for another thread (a peer told of a close, a pool's body) before it goes on anyway: a guard against a hang, not a timing assertion. */
    private static final long GUARD_SECONDS = 30;

    private final List<String> log = new ArrayList<>();

    /** Reads {@code peer} (blocking) to the end of the stream, at most {@code most} bytes. */
    private static byte[] readToEnd(SocketChannel peer, int most) throws IOException {
        ByteBuffer in = ByteBuffer.allocate(most + 1);
        while (peer.read(in) >= 0 && in.hasRemaining()) {
            // until the end of the stream
        }
        return Arrays.copyOf(in.array(), in.position());
    }

    /**
     * {@code closeNow} of a pool whose thread has a coroutine parked part way through a write of 16 MB
     * to a peer that does not read, of a {@code ByteBuffer} and through the {@code java.io} view: the
     * writer is unwound where it waits, the thread's end closes the connection it left open, and the
     * peer reads exactly the bytes the buffer's position says went out (or, through the view, the count
     * the unwinding signal carries), in order, then the end of the stream.
     */
    @Test
    void closeNowOfAPoolWhoseCoroutineIsParkedInALargeWriteLeavesThePeerExactlyTheBytesItWasToldOf() throws Exception {
        for (boolean view : new boolean[] {false, true}) {
            try (ServerSocketChannel server = ServerSocketChannel.open().bind(LOOPBACK)) {
                byte[] data = patterned(16 << 20);
                CompletableFuture<String> parked = new CompletableFuture<>();
                CompletableFuture<String> unwound = new CompletableFuture<>();
                CoroutinePool pool = CoroutinePool.start(1);
                pool.execute(() -> {
                    try {
                        TcpConnection c = TcpConnection.connect(server.getLocalAddress());
                        ByteBuffer src = ByteBuffer.wrap(data);
                        Coroutine w = Coroutine.create("writer", () -> {
                            try {
                                if (view) {
                                    c.output().write(data);
                                } else {
                                    c.write(src);
                                }
                                unwound.complete("returned");
                            } catch (IOException e) {
                                unwound.complete("failed " + e);
                            } catch (CoroutineExit x) {
                                StringBuilder b = new StringBuilder("unwound at " + src.position());
                                for (Throwable s : x.getSuppressed()) {
                                    b.append(" | ").append(s.getMessage());
                                }
                                unwound.complete(b.toString());
                                throw x;
                            }
                        });
                        for (int i = 0; i < 1000 && w.state() != State.PARKED; i++) {
                            Coroutine.yield(); // it writes what the sockets take, then parks
                        }
                        parked.complete(w.state() + " " + name(c));
                    } catch (IOException e) {
                        parked.completeExceptionally(e);
                    }
                });
                try (SocketChannel peer = server.accept()) { // blocking, reads only once the pool is closed
                    String parkedOn = parked.get(GUARD_SECONDS, TimeUnit.SECONDS);
                    assertThat(parkedOn).as("the writer, with the buffers full").startsWith("PARKED ");
                    String connection = parkedOn.substring("PARKED ".length());
                    pool.closeNow();
                    String said = unwound.get(GUARD_SECONDS, TimeUnit.SECONDS);
                    byte[] got = readToEnd(peer, data.length);
                    assertThat(got.length).as("written before the close").isBetween(1, data.length - 1);
                    assertThat(Arrays.equals(data, 0, got.length, got, 0, got.length)).as("in order, each once").isTrue();
                    if (view) { // the view's buffer is hidden: the signal that unwound the write says how far it got
                        assertThat(said).isEqualTo("unwound at 0 | coroutine 'writer' was interrupted writing to " + connection
                                + " (open): " + got.length + " of the " + data.length + " bytes of this write were written before it");
                    } else {
                        assertThat(said).isEqualTo("unwound at " + got.length);
                    }
                }
            }
        }
    }

    /**
     * {@code closeNow} of a pool whose thread has a coroutine part way through a {@code readNBytes}
     * of the input view (3 of its 10 bytes read, waiting for the rest): the reader is unwound where it
     * waits, and the signal that unwinds it says how many bytes it read into the array, which holds
     * exactly those, the peer's first, in order.
     */
    @Test
    void closeNowOfAPoolWhoseCoroutineIsPartWayThroughAReadNBytesSaysHowManyBytesItReadIntoTheArray() throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(LOOPBACK)) {
            CompletableFuture<String> connected = new CompletableFuture<>();
            CompletableFuture<Void> sent = new CompletableFuture<>();
            CompletableFuture<String> parked = new CompletableFuture<>();
            CompletableFuture<String> unwound = new CompletableFuture<>();
            CoroutinePool pool = CoroutinePool.start(1);
            pool.execute(() -> {
                try {
                    TcpConnection c = TcpConnection.connect(server.getLocalAddress());
                    connected.complete(name(c));
                    Coroutine.await(sent);
                    for (int i = 0; i < 1_000_000 && c.input().available() < 3; i++) {
                        Coroutine.yield(); // the peer's three bytes are on their way over the loopback
                    }
                    byte[] b = new byte[10];
                    Coroutine r = Coroutine.create("reader", () -> {
                        try {
                            c.input().readNBytes(b, 0, 10);
                            unwound.complete("returned");
                        } catch (IOException e) {
                            unwound.complete("failed " + e);
                        } catch (CoroutineExit x) {
                            StringBuilder said = new StringBuilder("array '" + new String(b, 0, 3, java.nio.charset.StandardCharsets.US_ASCII)
                                    + "', then " + (b[3] == 0 ? "nothing" : "more"));
                            for (Throwable t : x.getSuppressed()) {
                                said.append(" | ").append(t.getMessage());
                            }
                            unwound.complete(said.toString());
                            throw x;
                        }
                    });
                    Coroutine.yield(); // it reads the three bytes there are, and parks for the rest
                    parked.complete(r.state().toString());
                } catch (IOException e) {
                    connected.completeExceptionally(e);
                }
            });
            try (SocketChannel peer = server.accept()) {
                String connection = connected.get(GUARD_SECONDS, TimeUnit.SECONDS);
                peer.write(bytes("abc"));
                sent.complete(null);
                assertThat(parked.get(GUARD_SECONDS, TimeUnit.SECONDS)).isEqualTo("PARKED");
                pool.closeNow();
                assertThat(unwound.get(GUARD_SECONDS, TimeUnit.SECONDS)).isEqualTo("array 'abc', then nothing"
                        + " | coroutine 'reader' was interrupted reading from " + connection
                        + " (open): 3 of the 10 bytes of this read were read into the array before it");
                assertThat(peer.read(ByteBuffer.allocate(1))).as("the thread's end closed the connection").isEqualTo(-1);
            }
        }
    }

    /**
     * A peer that shuts down its output (the end of its stream) while a coroutine is parked reading
     * the connection and another is parked part way through a write of 16 MB to it: the reader gets
     * the peer's bytes, then -1, and -1 again; the writer, the connection still open that way, goes on
     * as the peer reads, and the peer gets every byte once, in order, then the end of the stream.
     */
    @Test
    void aPeerEndingItsStreamWhileAReadAndALargeWriteAreParkedEndsTheReadAndTheWriteGoesOnWhole() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection c = listener.accept()) {
            byte[] data = patterned(16 << 20); // far more than the two sockets' buffers hold
            ByteBuffer src = ByteBuffer.wrap(data);
            Crew crew = new Crew();
            Coroutine reader = crew.spawn("reader", () -> {
                ByteBuffer in = ByteBuffer.allocate(16);
                int n;
                while ((n = c.read(in)) >= 0) {
                    log.add("reader got " + n);
                }
                log.add("reader got -1, then " + c.read(in));
            });
            Coroutine writer = crew.spawn("writer", () -> {
                c.write(src);
                log.add("writer wrote all");
            });
            Coroutine.yield();
            assertThat(List.of(reader.state(), writer.state())).as("both parked").containsOnly(State.PARKED);
            assertThat(src.position()).as("part way").isBetween(1, data.length - 1);
            peer.write(bytes("bye"));
            peer.shutdownOutput();
            CountDownLatch now = new CountDownLatch(0); // the peer reads at once: the writer goes on as it does
            CompletableFuture<String> peerRead = readAfter(now, peer, data);
            crew.join();
            c.close();
            // the reader's end and the writer's are woken by the peer on another thread: either may come first
            assertThat(log.stream().filter(l -> l.startsWith("reader"))).containsExactly("reader got 3", "reader got -1, then -1");
            assertThat(log).containsExactlyInAnyOrder("reader got 3", "reader got -1, then -1", "writer wrote all");
            assertThat(Coroutine.await(peerRead)).isEqualTo("read once told: " + data.length + " bytes, in order");
        }
    }

    /**
     * A read woken by the bytes that came and a write woken by the room that came, neither of which has
     * run again yet when another coroutine closes the connection, fail as the waits the close finds
     * queued fail, naming each its caller, the connection and the state {@code closed}, with the same
     * message ({@code the connection was closed while it waited}), not the channel's
     * {@code ClosedChannelException}: what a close does to a call waiting on the connection does not
     * depend on whether the kernel's readiness came first. The closer is woken by the same select, by
     * bytes on a second connection, and runs first (the last runnable entry, main having parked).
     */
    @Test
    void aReadAndAWriteWokenButNotRunYetWhenAnotherCoroutineClosesTheConnectionFailAsTheQueuedWaitsDo() throws Exception {
        for (boolean reading : new boolean[] {true, false}) {
            try (TcpListener listener = TcpListener.bind(LOOPBACK);
                 SocketChannel peer = SocketChannel.open(listener.localAddress());
                 TcpConnection c = listener.accept();
                 SocketChannel otherPeer = SocketChannel.open(listener.localAddress());
                 TcpConnection other = listener.accept()) {
                String connection = name(c);
                byte[] data = patterned(16 << 20); // far more than the two sockets' buffers hold
                ByteBuffer src = ByteBuffer.wrap(data);
                Crew crew = new Crew();
                Coroutine waiter = crew.spawn(reading ? "reader" : "writer", () -> {
                    try {
                        if (reading) {
                            log.add("read " + c.read(ByteBuffer.allocate(10)));
                        } else {
                            c.write(src);
                            log.add("wrote all");
                        }
                    } catch (IOException e) {
                        log.add(e.getMessage());
                    }
                });
                crew.spawn("closer", () -> {
                    other.read(ByteBuffer.allocate(1)); // woken by the same select as the waiter
                    log.add("closer woken, " + waiter.name() + " " + waiter.state());
                    c.close();
                });
                Coroutine.yield(); // both park
                assertThat(waiter.state()).isEqualTo(State.PARKED);
                if (reading) {
                    peer.write(bytes("abc"));
                } else {
                    ByteBuffer drained = ByteBuffer.allocate(1 << 20); // less than the sockets hold: no more need be written
                    while (drained.hasRemaining()) {
                        peer.read(drained); // blocking: room comes in the writer's socket
                    }
                }
                otherPeer.write(bytes("x"));
                crew.join();
                assertThat(log).as(waiter.name()).containsExactly("closer woken, " + waiter.name() + " SUSPENDED",
                        "coroutine '" + waiter.name() + "' cannot " + (reading ? "read from " : "write to ") + connection
                                + " (closed): the connection was closed while it waited");
                log.clear();
            }
        }
    }

    /**
     * A read woken by the bytes that came and a write woken by the room that came, neither of which has run again
     * yet when another coroutine closes their coroutine: each unwinds with the close's signal, naming the coroutine
     * and its state, and leaves no wait; the read took nothing, and the next read gets those bytes; the write wrote
     * what its buffer's position says, and the peer gets exactly those bytes and then the rest, each once, in order.
     * The closer is woken by the same select, by bytes on a second connection, and runs first (as in the test above).
     */
    @Test
    void aReadAndAWriteWokenButNotRunYetWhenTheirCoroutineIsClosedTookNothingAndWroteWhatTheirBufferSays() throws Exception {
        for (boolean reading : new boolean[] {true, false}) {
            for (int attempt = 1; ; attempt++) {
                try (TcpListener listener = TcpListener.bind(LOOPBACK);
                     SocketChannel peer = SocketChannel.open(listener.localAddress());
                     TcpConnection c = listener.accept();
                     SocketChannel otherPeer = SocketChannel.open(listener.localAddress());
                     TcpConnection other = listener.accept()) {
                    byte[] data = patterned(16 << 20); // far more than the two sockets' buffers hold
                    ByteBuffer src = ByteBuffer.wrap(data);
                    ByteBuffer dst = ByteBuffer.allocate(10);
                    String name = reading ? "reader" : "writer";
                    Crew crew = new Crew();
                    Coroutine waiter = crew.spawn(name, () -> {
                        try {
                            if (reading) {
                                log.add("read " + c.read(dst));
                            } else {
                                c.write(src);
                                log.add("wrote all");
                            }
                        } catch (CoroutineExit e) {
                            log.add(e.getMessage());
                            throw e;
                        }
                    });
                    crew.spawn("closer", () -> {
                        other.read(ByteBuffer.allocate(1)); // woken by the same select as the waiter
                        log.add("closer woken, " + waiter.name() + " " + waiter.state());
                        waiter.close();
                    });
                    Coroutine.yield(); // both park
                    assertThat(waiter.state()).isEqualTo(State.PARKED);
                    ByteBuffer drained = ByteBuffer.allocate(1 << 20); // less than the sockets hold: no more need be written
                    if (reading) {
                        peer.write(bytes("abc"));
                    } else {
                        while (drained.hasRemaining()) {
                            peer.read(drained); // blocking: room comes in the writer's socket
                        }
                    }
                    otherPeer.write(bytes("x"));
                    crew.join();
                    // the room a drain makes reaches the writer's socket as the kernel gets to it: should "x" have come
                    // first, the closer closed the writer still parked; the same checks hold, and the scenario is tried again
                    boolean raced = !reading && attempt < ATTEMPTS && log.get(0).equals("closer woken, " + name + " PARKED");
                    assertThat(log).as(name).containsExactly("closer woken, " + name + (raced ? " PARKED" : " SUSPENDED"),
                            "coroutine '" + name + "' is being closed: its " + (reading ? "read from " : "write to ") + name(c)
                            + " throws this signal so that it unwinds (state RUNNING, closing)");
                    assertThat(waiter.state()).isEqualTo(State.CLOSED);
                    assertThat(LoopProbe.ioWaits()).isZero();
                    if (reading) {
                        assertThat(dst.position()).as("the read took nothing").isZero();
                        while (dst.position() < 3) {
                            c.read(dst);
                        }
                        assertThat(text(dst)).as("the next read gets the bytes").isEqualTo("abc");
                    } else {
                        int written = src.position();
                        assertThat(written).as("written before the close").isBetween(drained.capacity(), data.length - 1);
                        ByteBuffer rest = ByteBuffer.allocate(data.length - drained.capacity() + 1);
                        CompletableFuture<Void> ended = new CompletableFuture<>();
                        Thread.ofPlatform().name("peer-reader").start(() -> {
                            try {
                                while (peer.read(rest) >= 0) {
                                    // blocking: up to the end of the stream
                                }
                                ended.complete(null);
                            } catch (Throwable e) {
                                ended.completeExceptionally(e);
                            }
                        });
                        c.write(src);
                        c.shutdownOutput();
                        Coroutine.await(ended);
                        assertThat(rest.position()).as("the rest, once").isEqualTo(data.length - drained.capacity());
                        assertThat(Arrays.equals(data, 0, drained.capacity(), drained.array(), 0, drained.capacity())
                                && Arrays.equals(data, drained.capacity(), data.length, rest.array(), 0, rest.position()))
                                .as("every byte once, in order").isTrue();
                    }
                    log.clear();
                    if (!raced) {
                        break;
                    }
                }
            }
        }
    }

    /**
     * Under {@code VirtualTime} a write of 16 MB whose peer, on a thread of its own, reads its first
     * megabyte and then stops: the wait for room is real, and once no room has come for as long, in
     * real time, as the timeout is away, the clock jumps to it and the write is cut short at its
     * virtual deadline, having written what its buffer's position says; the rest, written once the
     * peer reads again, follows in order, every byte once.
     */
    @Test
    void underVirtualTimeAWriteCutShortWroteWhatItsBufferSaysAndTheRestFollowsInOrder() throws Exception {
        VirtualTime.run(() -> {
            try (TcpListener listener = TcpListener.bind(LOOPBACK);
                 SocketChannel peer = SocketChannel.open(listener.localAddress());
                 TcpConnection server = listener.accept()) {
                byte[] data = patterned(16 << 20);
                ByteBuffer src = ByteBuffer.wrap(data);
                CountDownLatch resume = new CountDownLatch(1);
                int first = 1 << 20;
                CompletableFuture<byte[]> received = new CompletableFuture<>();
                Thread.ofPlatform().name("peer-reader").start(() -> {
                    try {
                        ByteBuffer in = ByteBuffer.allocate(data.length + 1);
                        while (in.position() < first) {
                            peer.read(in.limit(first));
                        }
                        in.limit(in.capacity());
                        resume.await(GUARD_SECONDS, TimeUnit.SECONDS); // counted down once the write is cut short
                        while (peer.read(in) >= 0 && in.hasRemaining()) {
                            // until the server closes
                        }
                        received.complete(Arrays.copyOf(in.array(), in.position()));
                    } catch (Throwable e) {
                        received.completeExceptionally(e);
                    }
                });
                long t0 = Coroutine.nanoTime();
                try {
                    Coroutine.callWithTimeout(Duration.ofMillis(50), () -> server.write(src));
                    log.add("returned");
                } catch (CoroutineTimeoutException e) {
                    log.add("timed out at " + (Coroutine.nanoTime() - t0) / 1_000_000 + " ms");
                }
                assertThat(log).containsExactly("timed out at 50 ms");
                assertThat(src.position()).isBetween(first, data.length - 1);
                assertThat(LoopProbe.ioWaits()).isZero();
                resume.countDown();
                server.write(src);
                server.close();
                assertThat(Coroutine.await(received)).isEqualTo(data);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /**
     * The views at the end of the stream, after {@code shutdownOutput()} and after a close, as
     * {@code InputStream} and {@code OutputStream} say: a read of no bytes returns 0, also at the end;
     * {@code read} returns -1 there again and again, {@code available()} 0, {@code skip}, {@code readAllBytes},
     * {@code readNBytes} and {@code transferTo} nothing; a write after the output is shut down, of bytes
     * or of none, fails naming the caller, the connection and the state, and {@code flush} does
     * nothing; closing either view twice is a no-op, and every call but {@code flush} then fails naming
     * the state {@code closed}; the peer reads exactly what was written before the shutdown.
     */
    @Test
    void theViewsKeepTheJavaIoContractsAtTheEndOfTheStreamAfterAShutdownAndAfterAClose() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection c = listener.accept()) {
            String connection = name(c);
            InputStream in = c.input();
            OutputStream out = c.output();
            peer.write(bytes("ab"));
            peer.shutdownOutput();
            byte[] b = new byte[4];
            assertThat(in.readNBytes(b, 0, 4)).isEqualTo(2);
            assertThat(in.read(b, 0, 0)).isZero();
            assertThat(in.read()).isEqualTo(-1);
            assertThat(in.read()).isEqualTo(-1);
            assertThat(in.read(b)).isEqualTo(-1);
            assertThat(in.read(b, 1, 2)).isEqualTo(-1);
            assertThat(in.read(b, 0, 0)).isZero();
            assertThat(in.available()).isZero();
            assertThat(in.skip(5)).isZero();
            assertThat(in.readAllBytes()).isEmpty();
            assertThat(in.readNBytes(5)).isEmpty();
            assertThat(in.transferTo(OutputStream.nullOutputStream())).isZero();
            out.write(bytes("xy").array());
            c.shutdownOutput();
            assertThatThrownBy(() -> out.write(1)).hasMessage("main context 'main' cannot write to " + connection
                    + " (open, output shut down): java.nio.channels.AsynchronousCloseException");
            assertThatThrownBy(() -> out.write(new byte[3], 1, 0)).hasMessage("main context 'main' cannot write to " + connection
                    + " (open, output shut down): java.nio.channels.AsynchronousCloseException");
            out.flush();
            assertThat(in.read()).isEqualTo(-1);
            in.close();
            out.close();
            in.close();
            out.flush();
            assertThatThrownBy(() -> in.read()).hasMessage("main context 'main' cannot read from " + connection
                    + " (closed): java.nio.channels.ClosedChannelException");
            assertThatThrownBy(() -> in.read(b, 0, 0)).hasMessage("main context 'main' cannot read from " + connection
                    + " (closed): java.nio.channels.ClosedChannelException");
            assertThatThrownBy(() -> in.skip(1)).hasMessage("main context 'main' cannot read from " + connection
                    + " (closed): java.nio.channels.ClosedChannelException");
            assertThatThrownBy(() -> in.available()).hasMessage("main context 'main' cannot count the bytes available on " + connection
                    + " (closed): java.nio.channels.ClosedChannelException");
            assertThatThrownBy(() -> out.write(1)).hasMessage("main context 'main' cannot write to " + connection
                    + " (closed): java.nio.channels.ClosedChannelException");
            assertThatThrownBy(() -> in.transferTo(OutputStream.nullOutputStream())).hasMessage("main context 'main' cannot read from " + connection
                    + " (closed): java.nio.channels.ClosedChannelException");
            assertThatThrownBy(() -> in.readAllBytes()).hasMessage("main context 'main' cannot read from " + connection
                    + " (closed): java.nio.channels.ClosedChannelException");
            assertThatThrownBy(() -> in.skipNBytes(0)).hasMessage("main context 'main' cannot read from " + connection
                    + " (closed): java.nio.channels.ClosedChannelException");
            assertThat(readToEnd(peer, 10)).isEqualTo("xy".getBytes());
        }
    }

    /** How many bytes the reader of {@link #aLargeWriteCutShortAgainAndAgainAgainstAReaderOfTheSameThreadLosesAndDoublesNoByteOnBothClocks} reads between its pauses. */
    private static final int READ_BETWEEN_PAUSES = 256 * 1024;

    /** The buffers of that test's two sockets (the writer's send buffer, the reader's receive buffer): far less than its 8 MB. */
    private static final int SMALL_BUFFER = 64 * 1024;

    /**
     * A write of 8 MB cut short again and again by a timeout of 200 microseconds, and written on from
     * its buffer's position each time, while a coroutine of the same thread reads the other end 4 KiB
     * at a time, pausing a millisecond every 256 KiB, on the real clock and under {@code VirtualTime}:
     * the reader gets every byte once, in order, no wait is left behind, and writes were cut part way
     * (after some of their bytes went out), on both clocks. Under virtual time the reader's progress
     * keeps the clock from jumping (each readiness starts the quiet again, docs/TIME.md), so the writer's
     * timeout fires only in the reader's pauses, when the clock jumps to it; on either clock the write
     * under way in a pause is cut there, its deadline before the reader's wake-up, and at least the first
     * one had written bytes (into empty sockets whose small buffers hold far less than the 8 MB).
     */
    @Test
    void aLargeWriteCutShortAgainAndAgainAgainstAReaderOfTheSameThreadLosesAndDoublesNoByteOnBothClocks() throws Exception {
        for (boolean virtual : new boolean[] {false, true}) {
            int[] cuts = new int[2]; // all, and those after some of the write's bytes went out
            Runnable body = () -> {
                try (TcpListener listener = TcpListener.bind(LOOPBACK);
                     TcpConnection client = TcpConnection.connect(listener.localAddress(),
                             ch -> ch.setOption(StandardSocketOptions.SO_RCVBUF, SMALL_BUFFER));
                     TcpConnection server = listener.accept()) {
                    server.setOption(StandardSocketOptions.SO_SNDBUF, SMALL_BUFFER);
                    byte[] data = patterned(8 << 20);
                    ByteBuffer got = ByteBuffer.allocate(data.length);
                    Crew crew = new Crew();
                    long[] read = new long[1]; // to the end of the stream: a writer that sent bytes twice still ends
                    crew.spawn("reader", () -> {
                        ByteBuffer chunk = ByteBuffer.allocate(4096);
                        int n;
                        while ((n = client.read(chunk.clear())) >= 0) {
                            chunk.flip();
                            int fits = Math.min(n, got.remaining());
                            got.put(chunk.limit(fits));
                            if ((read[0] += n) % READ_BETWEEN_PAUSES < n) {
                                Coroutine.sleep(Duration.ofMillis(1)); // the writer's timeout comes first, on either clock
                            }
                        }
                    });
                    crew.spawn("writer", () -> {
                        ByteBuffer src = ByteBuffer.wrap(data);
                        int rounds = 0;
                        try {
                            while (src.hasRemaining() && rounds++ < 1_000_000) {
                                int from = src.position();
                                try {
                                    Coroutine.callWithTimeout(Duration.ofNanos(200_000), () -> server.write(src));
                                } catch (CoroutineTimeoutException e) {
                                    // cut short: its position says how far it got, and the next round goes on from there
                                    cuts[0]++;
                                    if (src.position() != from) {
                                        cuts[1]++;
                                    }
                                }
                            }
                        } finally {
                            server.shutdownOutput(); // the reader's end, whatever the writer did
                        }
                    });
                    crew.join();
                    assertThat(read[0]).as("bytes read").isEqualTo(data.length);
                    assertThat(Arrays.mismatch(got.array(), data)).as("the first byte read that differs from the one written").isEqualTo(-1);
                    assertThat(LoopProbe.ioWaits()).isZero();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            };
            if (virtual) {
                VirtualTime.run(body);
            } else {
                body.run();
            }
            assertThat(cuts[1]).as("writes cut part way on the %s clock (of %d cut)", virtual ? "virtual" : "real", cuts[0]).isPositive();
        }
    }

    /**
     * The reading side of a long transfer cut short again and again: 4 MB written through small socket buffers by a
     * coroutine that pauses a millisecond every 256 KiB, read by a coroutine of the same thread whose every read
     * runs under a timeout of 200 microseconds and, cut short, is simply made again, in turn through the
     * {@code input()} view into the result array and into a direct buffer: the reader gets every byte once, in
     * order, then the end of the stream, and no wait is left behind, on the real clock and under
     * {@code VirtualTime}, where reads were cut (the reader's timeout comes before the writer's wake-up in each
     * pause, the clock jumping to it).
     */
    @Test
    void readsCutShortAgainAndAgainThroughTheInputViewAndIntoDirectBuffersLoseAndDoubleNoByteOnBothClocks() throws Exception {
        for (boolean virtual : new boolean[] {false, true}) {
            int[] cuts = new int[1];
            Runnable body = () -> {
                try (TcpListener listener = TcpListener.bind(LOOPBACK);
                     TcpConnection client = TcpConnection.connect(listener.localAddress(),
                             ch -> ch.setOption(StandardSocketOptions.SO_RCVBUF, SMALL_BUFFER));
                     TcpConnection server = listener.accept()) {
                    server.setOption(StandardSocketOptions.SO_SNDBUF, SMALL_BUFFER);
                    byte[] data = patterned(4 << 20);
                    byte[] got = new byte[data.length + 1]; // a byte more: one sent twice is seen, not thrown
                    int[] at = new int[1];
                    Crew crew = new Crew();
                    crew.spawn("reader", () -> {
                        InputStream in = client.input();
                        ByteBuffer direct = ByteBuffer.allocateDirect(3000);
                        for (int round = 0; ; round++) {
                            boolean view = (round & 1) == 0;
                            int room = Math.min(got.length - at[0], view ? 5000 : direct.capacity());
                            Optional<Integer> n = Coroutine.tryCallWithTimeout(Duration.ofNanos(200_000),
                                    () -> view ? in.read(got, at[0], room) : client.read(direct.clear().limit(room)));
                            if (n.isEmpty()) {
                                cuts[0]++;
                                assertThat(view ? 0 : direct.position()).as("a read cut short took nothing").isZero();
                                continue;
                            }
                            if (n.get() < 0) {
                                break;
                            }
                            if (!view) {
                                direct.flip().get(got, at[0], n.get());
                            }
                            at[0] += n.get();
                        }
                    });
                    crew.spawn("writer", () -> {
                        for (int from = 0; from < data.length; from += READ_BETWEEN_PAUSES) {
                            server.write(ByteBuffer.wrap(data, from, Math.min(READ_BETWEEN_PAUSES, data.length - from)));
                            Coroutine.sleep(Duration.ofMillis(1)); // the reader's timeout comes first, on either clock
                        }
                        server.shutdownOutput();
                    });
                    crew.join();
                    assertThat(at[0]).as("bytes read").isEqualTo(data.length);
                    assertThat(Arrays.mismatch(Arrays.copyOf(got, data.length), data))
                            .as("the first byte read that differs from the one written").isEqualTo(-1);
                    assertThat(LoopProbe.ioWaits()).isZero();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            };
            if (virtual) {
                VirtualTime.run(body);
                assertThat(cuts[0]).as("reads cut under virtual time").isPositive();
            } else {
                body.run();
            }
        }
    }

    /**
     * A {@code transferTo} of the input view that has carried some bytes and waits for more when
     * another coroutine closes the connection fails naming the transferring coroutine, the connection,
     * the state {@code closed} and how many bytes it wrote to its output, which holds exactly those.
     */
    @Test
    void aTransferToPartWayWhenAnotherCoroutineClosesTheConnectionSaysHowManyBytesItCarried() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection c = listener.accept()) {
            String connection = name(c);
            java.io.ByteArrayOutputStream sink = new java.io.ByteArrayOutputStream();
            Crew crew = new Crew();
            Coroutine t = crew.spawn("transfer", () -> {
                try {
                    c.input().transferTo(sink);
                    log.add("returned");
                } catch (IOException e) {
                    log.add(e.getMessage());
                }
            });
            peer.write(bytes("hello"));
            for (int i = 0; i < 100_000 && sink.size() < 5; i++) {
                Coroutine.yield(); // the transfer takes the bytes, writes them to the sink, and waits for more
            }
            assertThat(sink.toString(java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("hello");
            assertThat(t.state()).isEqualTo(State.PARKED);
            c.close();
            crew.join();
            assertThat(log).containsExactly("coroutine 'transfer' cannot read from " + connection
                    + " (closed): the connection was closed while it waited; 5 bytes of this transfer were written to its output before it failed");
        }
    }

    /**
     * A write cut short leaves bytes unsent in the socket of a connection whose {@code SO_LINGER} is
     * positive (a minute, which {@code getOption} gives back), its peer not reading: the connection's close returns at once, where the
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
            c.setOption(StandardSocketOptions.SO_LINGER, 70_000);
            assertThat(c.getOption(StandardSocketOptions.SO_LINGER)).as("at most 65535, as the JDK keeps it").isEqualTo(65535);
            c.setOption(StandardSocketOptions.SO_LINGER, 60);
            assertThat(c.getOption(StandardSocketOptions.SO_LINGER)).as("the interval given back").isEqualTo(60);
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
            closed.countDown(); // told once the close has returned: a close that lingered would wait for its reads
            crew.join();
            assertThat(log).containsExactly("coroutine 'writer' cannot write to " + name(c)
                    + " (closed): the connection was closed while it waited");
            assertThat(Coroutine.await(peerRead)).isEqualTo("read once told: " + src.position() + " bytes, in order");
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
                closed.countDown(); // told once the thread has ended, closing the connection
                assertThat(peerRead.get(2 * GUARD_SECONDS, TimeUnit.SECONDS))
                        .isEqualTo("read once told: " + src.position() + " bytes, in order");
            }
        }
    }

    /**
     * A peer on a thread of its own that reads {@code peer} to the end of the stream once {@code told}
     * is counted down, or once the guard has passed (then saying so: whoever was to tell it was held
     * until it read), and says how many bytes it got and whether they were {@code data}'s first, in order.
     */
    private static CompletableFuture<String> readAfter(CountDownLatch told, SocketChannel peer, byte[] data) {
        CompletableFuture<String> said = new CompletableFuture<>();
        Thread.ofPlatform().name("peer-reader").start(() -> {
            try {
                String when = told.await(GUARD_SECONDS, TimeUnit.SECONDS) ? "once told" : "without being told, the guard passed";
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
