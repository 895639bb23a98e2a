package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static dev.coro.net.TcpConnectionTest.name;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.CleaningThreadHold;
import dev.coro.Collected;
import dev.coro.Coroutine;
import dev.coro.Coroutine.State;
import dev.coro.CoroutinePool;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import dev.coro.PoolsClosed;
import dev.coro.VirtualTime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ref.WeakReference;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.DatagramChannel;
import java.nio.channels.Pipe;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.AbstractSelector;
import java.nio.channels.spi.SelectorProvider;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A connection moved from one thread to another: {@code detach()} hands its open channel back, unregistered and
 * forgotten by its thread, and {@code adopt(channel)} makes it a connection of the calling thread, nothing the peer
 * sent lost or read twice; the detached object is done, its calls failing as on a closed connection but saying it
 * was detached, and neither its thread's end nor its collection closes the channel; every refusal names the caller,
 * the call, the connection or the channel, its state and why.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith({FreshThread.class, PoolsClosed.class})
@Timeout(30)
class DetachAndAdoptTest {

    /** What a call on a detached connection is told, after the call. */
    private static String detached(TcpConnection c) {
        return name(c) + " (detached): its channel was handed on by detach(); use the connection adopt(channel) made of it";
    }

    /** Exactly {@code n} bytes of {@code c} (fewer only at the end of the stream), as text: reads no byte past them. */
    private static String read(TcpConnection c, int n) throws IOException {
        return new String(c.input().readNBytes(n), StandardCharsets.UTF_8);
    }

    /** Exactly {@code n} bytes of the blocking {@code peer}, as text. */
    private static String read(SocketChannel peer, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining() && peer.read(b) >= 0) {
            // a blocking read: no coroutine of this thread needs to run meanwhile
        }
        return StandardCharsets.UTF_8.decode(b.flip()).toString();
    }

    /** Everything the blocking {@code peer} reads up to the end of the stream, as text. */
    private static String readToEnd(SocketChannel peer) throws IOException {
        StringBuilder s = new StringBuilder();
        ByteBuffer b = ByteBuffer.allocate(64);
        while (peer.read(b.clear()) >= 0) {
            s.append(StandardCharsets.UTF_8.decode(b.flip()));
        }
        return s.toString();
    }

    /** The thread that owns {@code c}, as main's refused read of it names it. */
    private static String ownerOf(TcpConnection c) {
        Thread self = Thread.currentThread();
        String prefix = "main context 'main' of thread '" + self.getName() + "' (#" + self.threadId() + ") cannot read from "
                + name(c) + " (open): it belongs to thread ";
        Throwable t = catchThrowable(() -> c.read(ByteBuffer.allocate(1)));
        assertThat(t).isInstanceOf(IllegalStateException.class);
        assertThat(t.getMessage()).startsWith(prefix).matches(".*'handoff-[01]' \\(#\\d+\\)");
        return t.getMessage().substring(prefix.length());
    }

    @Test
    void aConnectionGoesFromMainToAPoolThreadAndOnToTheOtherMidConversationNoByteLostOrReadTwice() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress())) {
            TcpConnection c = listener.accept();
            c.write(bytes("m>"));
            peer.write(bytes("p1"));                                   // in the kernel's buffer as main lets go
            SocketChannel handed = c.detach();
            CompletableFuture<TcpConnection> first = new CompletableFuture<>();
            CompletableFuture<TcpConnection> second = new CompletableFuture<>();
            CompletableFuture<Void> p3Sent = new CompletableFuture<>();
            CompletableFuture<String> readByFirst = new CompletableFuture<>();
            CompletableFuture<String> readBySecond = new CompletableFuture<>();
            CoroutinePool pool = CoroutinePool.start("handoff", 2);
            try {
                pool.execute(() -> {
                    try {
                        TcpConnection a = TcpConnection.adopt(handed);
                        String got = read(a, 2);                       // p1, sent before the hand-off
                        a.write(bytes("a>"));
                        first.complete(a);
                        got += read(a, 2);                             // p2, sent once it had the connection
                        Coroutine.await(p3Sent);                       // p3 in the kernel's buffer as this thread lets go
                        readByFirst.complete(got);
                        SocketChannel next = a.detach();
                        pool.execute(() -> {                           // on the other thread: this one has a live body
                            try (TcpConnection b = TcpConnection.adopt(next)) {
                                String got2 = read(b, 2);              // p3
                                second.complete(b);
                                got2 += read(b, 2);                    // p4
                                b.write(bytes("b>"));
                                readBySecond.complete(got2);
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                        });
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                TcpConnection a = Coroutine.await(first);
                String firstOwner = ownerOf(a);
                peer.write(bytes("p2"));
                peer.write(bytes("p3"));
                p3Sent.complete(null);
                TcpConnection b = Coroutine.await(second);
                String secondOwner = ownerOf(b);
                a.close(); // from another thread while its thread runs: nothing to the channel, which b reads on
                peer.write(bytes("p4"));
                assertThat(Coroutine.await(readByFirst)).isEqualTo("p1p2");
                assertThat(Coroutine.await(readBySecond)).isEqualTo("p3p4");
                assertThat(readToEnd(peer)).as("each write once, in order, then the last owner's close").isEqualTo("m>a>b>");
                assertThat(secondOwner).as("the second pool thread is not the first").isNotEqualTo(firstOwner);
                assertThat(List.of(c, a)).allSatisfy(d -> assertThat(d)
                        .hasToString("TcpConnection[" + d.localAddress() + " -> " + d.remoteAddress() + ", detached]"));
                assertThat(c.isOpen()).isFalse();
            } finally {
                p3Sent.complete(null); // a failure above leaves no body waiting for the peer
                peer.close();
                PoolsClosed.close(pool);
            }
        }
    }

    /**
     * What a thread handed on: a connection it detached, and its channel; and the channel of another it detached
     * and dropped, with a weak reference to that one.
     */
    private record Handed(TcpConnection old, SocketChannel channel, WeakReference<TcpConnection> dropped, SocketChannel ofDropped) {
    }

    @Test
    void thePoolThreadThatDetachedConnectionsEndingLeavesTheirChannelsOpenTheDetachedObjectsKeptOrCollected() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            CompletableFuture<Void> reading = new CompletableFuture<>();
            Handed handed;
            TcpConnection server;
            TcpConnection serverOfDropped;
            CoroutinePool pool = CoroutinePool.start(1);
            try {
                CompletableFuture<Handed> body = pool.submitCallable(() -> {
                    TcpConnection c = TcpConnection.connect(listener.localAddress());
                    Coroutine.create("reading", () -> reading.complete(null)); // runs once the body has parked
                    String got = read(c, 2);                                     // parks: registered with this thread's selector
                    c.write(bytes(got.equals("s1") ? "c1" : "?"));
                    TcpConnection dropped = TcpConnection.connect(listener.localAddress());
                    return new Handed(c, c.detach(), new WeakReference<>(dropped), dropped.detach());
                });
                server = listener.accept();
                Coroutine.await(reading);
                server.write(bytes("s1"));
                handed = Coroutine.await(body);
                serverOfDropped = listener.accept();
                assertThat(Collected.all(List.of(handed.dropped()))).as("the dropped one collected while its thread runs").isTrue();
            } finally {
                PoolsClosed.close(pool);                                          // its thread ends
            }
            TcpConnection old = handed.old();
            old.close(); // from another thread once its thread has ended: nothing to the channel
            assertThat(old.isOpen()).isFalse();
            assertThat(old).hasToString("TcpConnection[" + old.localAddress() + " -> " + old.remoteAddress() + ", detached]");
            assertThat(handed.channel().isOpen()).as("left open by the thread's end").isTrue();
            assertThat(handed.ofDropped().isOpen()).as("left open by the thread's end and the collection").isTrue();
            try (server; serverOfDropped;
                 TcpConnection c = TcpConnection.adopt(handed.channel());
                 TcpConnection d = TcpConnection.adopt(handed.ofDropped())) {
                server.write(bytes("s2"));
                assertThat(read(c, 2)).isEqualTo("s2");
                c.write(bytes("c2"));
                assertThat(read(server, 4)).isEqualTo("c1c2");
                d.write(bytes("d"));
                assertThat(read(serverOfDropped, 1)).isEqualTo("d");
            }
        }
    }

    /** What a plain thread leaves: the channel it detached, a weak reference to the detached object, and one to a connection it dropped unclosed. */
    private record LeftBehind(SocketChannel channel, WeakReference<TcpConnection> detached, WeakReference<TcpConnection> dropped) {
    }

    @Test
    void aPlainThreadThatDetachedAConnectionEndingAndTheDetachedObjectCollectedLeaveItsChannelOpen() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            AtomicReference<Object> left = new AtomicReference<>();
            Thread owner = Thread.ofPlatform().name("first-owner").start(() -> {
                try {
                    TcpConnection c = TcpConnection.connect(listener.localAddress());
                    TcpConnection dropped = TcpConnection.connect(listener.localAddress());
                    left.set(new LeftBehind(c.detach(), new WeakReference<>(c), new WeakReference<>(dropped)));
                } catch (Throwable e) {
                    left.set(e);
                }
            });
            owner.join();
            assertThat(left.get()).isInstanceOf(LeftBehind.class);
            LeftBehind l = (LeftBehind) left.get();
            TcpConnection one = listener.accept();
            TcpConnection two = listener.accept();
            boolean oneIsHanded = one.remoteAddress().equals(l.channel().getLocalAddress());
            try (TcpConnection server = oneIsHanded ? one : two; TcpConnection peerOfDropped = oneIsHanded ? two : one) {
                assertThat(Collected.all(List.of(l.detached(), l.dropped()))).as("both collected").isTrue();
                // parks until the cleaning thread has closed the one dropped unclosed: it ran its cleaning actions
                assertThat(peerOfDropped.read(ByteBuffer.allocate(1))).isEqualTo(-1);
                assertThat(l.channel().isOpen()).as("the detached object's collection closed nothing").isTrue();
                try (TcpConnection c = TcpConnection.adopt(l.channel())) {
                    server.write(bytes("s>"));
                    assertThat(read(c, 2)).isEqualTo("s>");
                    c.write(bytes("c>"));
                    assertThat(read(server, 2)).isEqualTo("c>");
                }
            }
        }
    }

    @Test
    void everyCallOfADetachedConnectionFailsSayingSoAndItsCloseLeavesTheChannelOpen() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            client.write(bytes("x"));
            SocketChannel ch = server.detach();
            String caller = "main context 'main' cannot ";
            assertThatThrownBy(() -> server.read(ByteBuffer.allocate(1)))
                    .isExactlyInstanceOf(IOException.class).hasMessage(caller + "read from " + detached(server));
            assertThatThrownBy(() -> server.write(bytes("y")))
                    .isExactlyInstanceOf(IOException.class).hasMessage(caller + "write to " + detached(server));
            assertThatThrownBy(server::shutdownOutput)
                    .isExactlyInstanceOf(IOException.class).hasMessage(caller + "shut down the output of " + detached(server));
            assertThatThrownBy(() -> server.setOption(StandardSocketOptions.TCP_NODELAY, false))
                    .isExactlyInstanceOf(IOException.class).hasMessage(caller + "set TCP_NODELAY of " + detached(server));
            assertThatThrownBy(() -> server.getOption(StandardSocketOptions.TCP_NODELAY))
                    .isExactlyInstanceOf(IOException.class).hasMessage(caller + "get TCP_NODELAY of " + detached(server));
            assertThatThrownBy(() -> server.input().available())
                    .isExactlyInstanceOf(IOException.class).hasMessage(caller + "count the bytes available on " + detached(server));
            assertThatThrownBy(() -> server.input().read())
                    .isExactlyInstanceOf(IOException.class).hasMessage(caller + "read from " + detached(server));
            assertThatThrownBy(() -> server.output().write('y'))
                    .isExactlyInstanceOf(IOException.class).hasMessage(caller + "write to " + detached(server));
            server.output().flush(); // nothing to do, as on a closed connection
            assertThatThrownBy(server::detach).isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessage(caller + "detach " + name(server) + " (detached): it was detached already");
            server.close();
            server.close();
            assertThat(server.isOpen()).isFalse();
            assertThat(server).hasToString("TcpConnection[" + server.localAddress() + " -> " + server.remoteAddress() + ", detached]");
            assertThat(ch.isOpen()).as("its close did nothing to the channel").isTrue();
            try (TcpConnection c = TcpConnection.adopt(ch)) {
                assertThat(read(c, 1)).as("the byte none of its failed calls took").isEqualTo("x");
                c.write(bytes("z"));
                assertThat(read(client, 1)).isEqualTo("z");
            }
        }
    }

    /**
     * A detached connection is no thread's: a call of its views from another thread (the pool thread that adopted its
     * channel, holding on to the detached object by mistake) is told what its own thread is told, never that the
     * connection belongs to the thread that detached it, whose connection it no longer is.
     */
    @Test
    void everyCallOfTheViewsOfADetachedConnectionFromAnotherThreadIsToldWhatItsOwnThreadIsTold() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            SocketChannel ch = server.detach();
            for (boolean own : new boolean[] {true, false}) {
                Throwable[] thrown = new Throwable[7];
                Runnable calls = () -> {
                    thrown[0] = catchThrowable(() -> server.output().write('y'));
                    thrown[1] = catchThrowable(() -> server.output().write(new byte[] {'y'}));
                    thrown[2] = catchThrowable(() -> server.input().mark(1));
                    thrown[3] = catchThrowable(() -> server.input().read(new byte[1], 1, 1));
                    thrown[4] = catchThrowable(() -> server.input().readNBytes(-1));
                    thrown[5] = catchThrowable(() -> server.input().reset());
                    thrown[6] = catchThrowable(() -> server.output().write(new byte[1], -1, 1));
                };
                String caller;
                if (own) {
                    calls.run();
                    caller = "main context 'main'";
                } else {
                    Thread other = Thread.ofPlatform().name("other").start(calls);
                    other.join();
                    caller = "thread 'other' (#" + other.threadId() + ")"; // no scheduler: none is made for a refusal
                }
                assertThat(thrown[0]).as(caller).isExactlyInstanceOf(IOException.class)
                        .hasMessage(caller + " cannot write to " + detached(server));
                assertThat(thrown[1]).as(caller).isExactlyInstanceOf(IOException.class)
                        .hasMessage(caller + " cannot write to " + detached(server));
                assertThat(thrown[2]).as(caller + ": mark does nothing, as flush does").isNull();
                assertThat(thrown[3]).as(caller).isExactlyInstanceOf(IndexOutOfBoundsException.class)
                        .hasMessage(caller + " cannot read from " + name(server) + " (detached): offset 1 and length 1 do not fit"
                                + " an array of length 1");
                assertThat(thrown[4]).as(caller).isExactlyInstanceOf(IllegalArgumentException.class)
                        .hasMessage(caller + " cannot read from " + name(server) + " (detached): a length of -1 bytes is negative");
                assertThat(thrown[5]).as(caller).isExactlyInstanceOf(IOException.class)
                        .hasMessage(caller + " cannot reset the input of " + name(server) + " (detached): it keeps no mark"
                                + " (markSupported() is false); read through a BufferedInputStream to mark and reset");
                assertThat(thrown[6]).as(caller).isExactlyInstanceOf(IndexOutOfBoundsException.class)
                        .hasMessage(caller + " cannot write to " + name(server) + " (detached): offset -1 and length 1 do not fit"
                                + " an array of length 1");
            }
            try (TcpConnection c = TcpConnection.adopt(ch)) {
                c.write(bytes("z"));
                assertThat(read(client, 1)).as("none of the refused writes reached the channel").isEqualTo("z");
            }
        }
    }

    @Test
    void aDetachIsRefusedWhileAContextWaitsOnTheConnectionAndGoesThroughOnceNoneDoes() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            String[] got = {null};
            Coroutine reader = Coroutine.create("reader", () -> {
                try {
                    got[0] = read(server, 1);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            while (reader.state() != State.PARKED) {
                Coroutine.yield();
            }
            assertThatThrownBy(server::detach).isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessage("main context 'main' cannot detach " + name(server)
                            + " (open): 1 context waits on it in a read or a write; detach it once none does");
            client.write(bytes("x"));
            reader.join();
            assertThat(got[0]).isEqualTo("x");
            try (TcpConnection c = TcpConnection.adopt(server.detach())) {
                client.write(bytes("y"));
                assertThat(read(c, 1)).isEqualTo("y");
            }
        }
    }

    @Test
    void aDetachIsRefusedWhileAContextWaitsOnItsChannelInIoAwaitAndHandsItOnUnregisteredOnceNoneDoes() throws Exception {
        try (ServerSocketChannel plain = ServerSocketChannel.open().bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(plain.getLocalAddress());
             SocketChannel ch = plain.accept()) {
            TcpConnection c = TcpConnection.adopt(ch);
            Coroutine watcher = Coroutine.create("watcher", () -> {
                try {
                    Io.await(ch, SelectionKey.OP_READ);               // the channel the caller gave adopt, awaited itself
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            while (watcher.state() != State.PARKED) {
                Coroutine.yield();
            }
            assertThatThrownBy(c::detach).isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessage("main context 'main' cannot detach " + name(c)
                            + " (open): 1 context waits on its channel in Io.await; detach it once none does");
            peer.write(bytes("x"));
            watcher.join();
            SocketChannel handed = c.detach();
            assertThat(handed.isRegistered()).as("handed on unregistered").isFalse();
            try (TcpConnection d = TcpConnection.adopt(handed)) {
                assertThat(read(d, 1)).isEqualTo("x");
            }
        }
    }

    @Test
    void aDetachGoesThroughOnceAReadAndAWriteCutShortByTimeoutsAndAClosedReaderHaveLeftTheConnectionNothingLost()
            throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            byte[] sent = new byte[8 << 20]; // more than the two sockets' buffers hold while the client reads nothing
            for (int i = 0; i < sent.length; i++) {
                sent[i] = (byte) (i * 31 + (i >>> 11));
            }
            ByteBuffer big = ByteBuffer.wrap(sent);
            boolean[] done = new boolean[2];
            SocketChannel[] handed = {null};
            VirtualTime.run(() -> {
                try {
                    done[0] = Coroutine.tryCallWithTimeout(Duration.ofMillis(10), () -> {
                        server.read(ByteBuffer.allocate(1));
                    });
                    done[1] = Coroutine.tryCallWithTimeout(Duration.ofMillis(10), () -> server.write(big));
                    Coroutine reader = Coroutine.create("reader", () -> {
                        try {
                            server.read(ByteBuffer.allocate(1));
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    });
                    while (reader.state() != State.PARKED) {
                        Coroutine.yield();
                    }
                    reader.close();
                    handed[0] = server.detach();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            assertThat(done).as("both cut short").containsExactly(false, false);
            assertThat(big.position()).as("a part written before the write parked").isPositive().isLessThan(sent.length);
            assertThat(handed[0].isRegistered()).isFalse();
            CoroutinePool pool = CoroutinePool.start(1);
            try {
                CompletableFuture<String> rest = pool.submit(() -> {
                    try (TcpConnection c = TcpConnection.adopt(handed[0])) {
                        c.write(big);                                   // the rest, from where the cut-short write stopped
                        return read(c, 1);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                byte[] got = client.input().readNBytes(sent.length);
                client.write(bytes("!"));
                assertThat(Coroutine.await(rest)).isEqualTo("!");
                assertThat(got).as("every byte once, in order, the cut-short write's part first").isEqualTo(sent);
            } finally {
                PoolsClosed.close(pool);
            }
        }
    }

    @Test
    void aDetachIsRefusedOnAClosedOrFailedConnectionAndFromAnotherThread() throws Exception {
        String owner = "'" + Thread.currentThread().getName() + "' (#" + Thread.currentThread().threadId() + ")";
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            TcpConnection client = TcpConnection.connect(listener.localAddress());
            TcpConnection server = listener.accept();
            Throwable[] refused = {null};
            Thread t = Thread.ofPlatform().name("intruder").start(() -> refused[0] = catchThrowable(server::detach));
            t.join();
            assertThat(refused[0]).isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessage("thread 'intruder' (#" + t.threadId() + ") cannot detach " + name(server)
                            + " (open): it belongs to thread " + owner);

            client.setOption(StandardSocketOptions.SO_LINGER, 0);
            client.close();                                             // a reset
            Throwable reset = catchThrowable(() -> server.read(ByteBuffer.allocate(1)));
            assertThat(reset).isInstanceOf(SocketException.class);
            assertThatThrownBy(server::detach).isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessage("main context 'main' cannot detach " + name(server) + " (open, failed): a call on it failed ("
                            + reset.getCause() + "); close it");

            server.close();
            assertThatThrownBy(server::detach).isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessage("main context 'main' cannot detach " + name(server) + " (closed): it is closed");
        }
    }

    @Test
    void aDetachIsRefusedOnceAnotherThreadHasAskedForTheConnectionsCloseWhichThenRuns() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            CompletableFuture<TcpConnection> made = new CompletableFuture<>();
            CountDownLatch hold = new CountDownLatch(1);
            CoroutinePool pool = CoroutinePool.start(1);
            try {
                CompletableFuture<String> owner = pool.submit("owner", () -> {
                    try {
                        TcpConnection c = TcpConnection.connect(listener.localAddress());
                        made.complete(c);
                        hold.await(); // blocked outside the library: the close posted meanwhile waits
                        String refusal = catchThrowable(c::detach).getMessage();
                        Coroutine.yield(); // a scheduling point: the thread runs the close
                        return refusal + "; open after: " + c.isOpen();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                });
                TcpConnection c = Coroutine.await(made);
                try (TcpConnection server = listener.accept()) {
                    Coroutine closer = Coroutine.create("closer", () -> {
                        try {
                            c.close();
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    });
                    while (closer.state() != State.PARKED) {
                        Coroutine.yield(); // it posts its close and parks for the answer
                    }
                    hold.countDown();
                    closer.join();
                    assertThat(Coroutine.await(owner)).isEqualTo("coroutine 'owner' cannot detach " + name(c)
                            + " (open): another thread has asked for its close, which comes first; open after: false");
                    assertThat(server.read(ByteBuffer.allocate(1))).as("the peer sees the close").isEqualTo(-1);
                }
            } finally {
                hold.countDown();
                PoolsClosed.close(pool);
            }
        }
    }

    @Test
    void adoptRefusesANullAnUnconnectedAConnectingAClosedAndARegisteredChannelLeavingItAsItWas() throws Exception {
        assertThatThrownBy(() -> TcpConnection.adopt(null)).isExactlyInstanceOf(NullPointerException.class).hasMessage("channel");
        try (SocketChannel unconnected = SocketChannel.open()) {
            assertThatThrownBy(() -> TcpConnection.adopt(unconnected)).isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessage("main context 'main' cannot adopt java.nio.channels.SocketChannel[unconnected]: it is not"
                            + " connected; connect it first");
            assertThat(unconnected.isOpen()).isTrue();
            assertThat(unconnected.isBlocking()).as("left as it was").isTrue();
        }
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(LOOPBACK);
             SocketChannel connecting = SocketChannel.open()) {
            connecting.configureBlocking(false);
            assertThat(connecting.connect(server.getLocalAddress())).as("a TCP connect that does not end at once").isFalse();
            assertThatThrownBy(() -> TcpConnection.adopt(connecting)).isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessage("main context 'main' cannot adopt java.nio.channels.SocketChannel[connection-pending remote="
                            + server.getLocalAddress() + "]: it is not connected (its connect is under way: finish it first)");
        }
        SocketChannel closed = SocketChannel.open();
        closed.close();
        assertThatThrownBy(() -> TcpConnection.adopt(closed)).isExactlyInstanceOf(IOException.class)
                .hasMessage("main context 'main' cannot adopt java.nio.channels.SocketChannel[closed]: it is closed");
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(LOOPBACK);
             SocketChannel ch = SocketChannel.open(server.getLocalAddress());
             SocketChannel peer = server.accept();
             Selector selector = Selector.open()) {
            ch.configureBlocking(false);
            SelectionKey key = ch.register(selector, SelectionKey.OP_READ);
            String refusal = "main context 'main' cannot adopt " + ch + ": it is registered with a selector (its key not"
                    + " cancelled, or not yet dropped by that selector's next select); detach() hands a connection's channel"
                    + " on unregistered";
            assertThatThrownBy(() -> TcpConnection.adopt(ch)).isExactlyInstanceOf(IllegalArgumentException.class).hasMessage(refusal);
            key.cancel();
            assertThatThrownBy(() -> TcpConnection.adopt(ch)).as("cancelled, not dropped yet")
                    .isExactlyInstanceOf(IllegalArgumentException.class).hasMessage(refusal);
            selector.selectNow();
            try (TcpConnection c = TcpConnection.adopt(ch)) {
                peer.write(bytes("ok"));
                assertThat(read(c, 2)).isEqualTo("ok");
            }
        }
    }

    /**
     * A refused adoption changes none of the socket's options: a positive {@code SO_LINGER} the channel's user set (which
     * an adoption that goes through takes over, setting the socket's own off) stays on the socket, and so does
     * {@code TCP_NODELAY} off, whatever the documented reason (not connected, its connect under way, registered with a
     * selector, held by a connection an earlier adoption made); the channel stays the caller's, as it was.
     */
    @Test
    void aRefusedAdoptionLeavesTheChannelsLingerAndNoDelayAsItsUserSetThem() throws Exception {
        try (SocketChannel unconnected = SocketChannel.open()) {
            unconnected.setOption(StandardSocketOptions.SO_LINGER, 60);
            assertThatThrownBy(() -> TcpConnection.adopt(unconnected)).isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessageEndingWith(": it is not connected; connect it first");
            assertOptionsAsSet(unconnected, 60);
            assertThat(unconnected.isBlocking()).isTrue();
        }
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(LOOPBACK);
             SocketChannel connecting = SocketChannel.open()) {
            connecting.setOption(StandardSocketOptions.SO_LINGER, 45);
            connecting.configureBlocking(false);
            assertThat(connecting.connect(server.getLocalAddress())).as("a TCP connect that does not end at once").isFalse();
            assertThatThrownBy(() -> TcpConnection.adopt(connecting)).isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessageEndingWith(": it is not connected (its connect is under way: finish it first)");
            assertOptionsAsSet(connecting, 45);
        }
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(LOOPBACK);
             SocketChannel ch = SocketChannel.open(server.getLocalAddress());
             SocketChannel peer = server.accept();
             Selector selector = Selector.open()) {
            ch.setOption(StandardSocketOptions.SO_LINGER, 30);
            ch.configureBlocking(false);
            ch.register(selector, SelectionKey.OP_READ);
            assertThatThrownBy(() -> TcpConnection.adopt(ch)).isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(": it is registered with a selector");
            assertOptionsAsSet(ch, 30);
        }
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(LOOPBACK);
             SocketChannel ch = SocketChannel.open(server.getLocalAddress());
             SocketChannel peer = server.accept()) {
            try (TcpConnection holder = TcpConnection.adopt(ch)) {
                ch.setOption(StandardSocketOptions.TCP_NODELAY, false); // set behind the holder's back, as the user may
                ch.setOption(StandardSocketOptions.SO_LINGER, 20);
                assertThatThrownBy(() -> TcpConnection.adopt(ch)).isExactlyInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining(" holds it already; detach() that connection to hand the channel on");
                assertOptionsAsSet(ch, 20);
            }
        }
    }

    /** {@code ch}, whose adoption was refused, is still open with the positive linger of {@code seconds} and no TCP_NODELAY. */
    private static void assertOptionsAsSet(SocketChannel ch, int seconds) throws IOException {
        assertThat(ch.isOpen()).as("still open").isTrue();
        assertThat(ch.getOption(StandardSocketOptions.SO_LINGER)).as("its SO_LINGER, as its user set it").isEqualTo(seconds);
        assertThat(ch.getOption(StandardSocketOptions.TCP_NODELAY)).as("its TCP_NODELAY, off as it was").isFalse();
    }

    @Test
    void adoptRefusesAChannelAConnectionHoldsOnThisThreadOrAnotherUntilThatOneIsDetachedTheBytesAllItsOwn() throws Exception {
        Thread self = Thread.currentThread();
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            SocketChannel ch = server.detach();
            TcpConnection a = TcpConnection.adopt(ch);
            String held = ch + ": " + name(a) + " (open) of thread '" + self.getName() + "' (#" + self.threadId()
                    + ") holds it already; detach() that connection to hand the channel on";
            assertThatThrownBy(() -> TcpConnection.adopt(ch)).isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessage("main context 'main' cannot adopt " + held);
            CoroutinePool pool = CoroutinePool.start(1);
            try {
                Throwable refused = Coroutine.await(pool.submit("second-adopter", () -> catchThrowable(() -> TcpConnection.adopt(ch))));
                assertThat(refused).isExactlyInstanceOf(IllegalArgumentException.class)
                        .hasMessage("coroutine 'second-adopter' cannot adopt " + held);
            } finally {
                PoolsClosed.close(pool);
            }
            client.write(bytes("ab"));
            assertThat(read(a, 2)).as("every byte the holder's, none read by a second connection").isEqualTo("ab");
            try (TcpConnection b = TcpConnection.adopt(a.detach())) {
                client.write(bytes("c"));
                assertThat(read(b, 1)).isEqualTo("c");
            }
            assertThatThrownBy(() -> TcpConnection.adopt(ch)).as("closed with the connection that held it")
                    .isExactlyInstanceOf(IOException.class).hasMessage("main context 'main' cannot adopt " + ch + ": it is closed");
        }
    }

    @Test
    void adoptRefusesAChannelTheConnectionOfAThreadThatEndedHoldsSayingOnlyItsCloseIsLeft() throws Exception {
        try (ServerSocketChannel plain = ServerSocketChannel.open().bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(plain.getLocalAddress());
             SocketChannel ch = plain.accept()) {
            AtomicReference<Object> adopted = new AtomicReference<>();
            Thread ended = Thread.ofPlatform().name("ended-adopter").start(() -> {
                try {
                    adopted.set(TcpConnection.adopt(ch));               // left open as the thread ends
                } catch (Throwable e) {
                    adopted.set(e);
                }
            });
            ended.join();
            assertThat(adopted.get()).isInstanceOf(TcpConnection.class);
            TcpConnection holder = (TcpConnection) adopted.get();
            assertThatThrownBy(() -> TcpConnection.adopt(ch)).isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessage("main context 'main' cannot adopt " + ch + ": " + name(holder) + " (open) of thread 'ended-adopter' (#"
                            + ended.threadId() + ") holds it already, and that thread has ended: nothing can detach it any more"
                            + " (its close, from any thread, closes the channel)");
            holder.close();
            assertThat(ch.isOpen()).isFalse();
        }
    }

    /** Adopts {@code ch} and drops the connection unclosed, never having waited on it (its channel left unregistered). */
    private static WeakReference<TcpConnection> adoptAndDrop(SocketChannel ch) throws IOException {
        return new WeakReference<>(TcpConnection.adopt(ch));
    }

    /** Two bytes each way between {@code c} and its blocking {@code peer}, the read of {@code c} parked first. */
    private static void exchange(TcpConnection c, SocketChannel peer) throws Exception {
        AtomicReference<String> got = new AtomicReference<>();
        Crew crew = new Crew();
        crew.spawn("reader", () -> got.set(read(c, 2)));
        Coroutine.yield();
        assertThat(LoopProbe.ioWaits()).as("parked in read: the channel is registered with this thread's selector").isEqualTo(1);
        peer.write(bytes("ab"));
        crew.join();
        assertThat(got.get()).isEqualTo("ab");
        c.write(bytes("cd"));
        assertThat(read(peer, 2)).isEqualTo("cd");
    }

    @Test
    void aChannelAdoptedAgainOnceTheConnectionDroppedUnclosedBeforeWasCollectedIsLeftToTheNewOneByThatOnesCleaning()
            throws Exception {
        try (ServerSocketChannel plain = ServerSocketChannel.open().bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(plain.getLocalAddress());
             SocketChannel ch = plain.accept()) {
            TcpConnection again;
            try (CleaningThreadHold hold = CleaningThreadHold.take()) { // the dropped one's cleaning runs after the adopt
                WeakReference<TcpConnection> dropped = adoptAndDrop(ch);
                assertThat(Collected.all(List.of(dropped))).as("dropped unclosed, and collected").isTrue();
                assertThat(LoopProbe.openResources()).as("its cleaning has not run").isEqualTo(1);
                again = TcpConnection.adopt(ch); // the dropped one holds it no more
                assertThat(LoopProbe.openResources()).isEqualTo(2);
            }
            try (again) {
                AtomicReference<String> got = new AtomicReference<>();
                Crew crew = new Crew();
                crew.spawn("reader", () -> got.set(read(again, 2)));
                Coroutine.yield(); // parked in read: the channel is registered with this thread's selector
                while (LoopProbe.openResources() > 1) { // until the dropped one's cleaning has run, and its post here
                    Thread.yield();
                    Coroutine.yield();
                }
                assertThat(ch.isOpen()).as("the dropped one's cleaning left the channel to the new connection").isTrue();
                assertThat(again.isOpen()).isTrue();
                peer.write(bytes("ab"));
                crew.join();
                assertThat(got.get()).as("read by the new connection, still registered").isEqualTo("ab");
                again.write(bytes("cd"));
                assertThat(read(peer, 2)).isEqualTo("cd");
            }
            assertThat(ch.isOpen()).as("closed with the new connection").isFalse();
            assertThat(LoopProbe.openResources()).isZero();
        }
    }

    /** Adopts {@code ch}, reads a byte the peer sent through a wait (so the channel is registered), and drops the connection unclosed. */
    private static WeakReference<TcpConnection> adoptReadAndDrop(SocketChannel ch, SocketChannel peer) throws Exception {
        TcpConnection c = TcpConnection.adopt(ch);
        Crew crew = new Crew();
        crew.spawn("reader", () -> c.read(ByteBuffer.allocate(1)));
        Coroutine.yield(); // parked: the channel is registered with this thread's selector, and stays so
        peer.write(bytes("x"));
        crew.join();
        return new WeakReference<>(c);
    }

    @Test
    void aChannelWhoseConnectionDroppedUnclosedHadWaitedOnItIsRefusedAsRegisteredUntilThatOnesCleaningClosesIt()
            throws Exception {
        try (ServerSocketChannel plain = ServerSocketChannel.open().bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(plain.getLocalAddress());
             SocketChannel ch = plain.accept()) {
            try (CleaningThreadHold hold = CleaningThreadHold.take()) { // the dropped one's cleaning runs after the adopt
                WeakReference<TcpConnection> dropped = adoptReadAndDrop(ch, peer);
                assertThat(Collected.all(List.of(dropped))).as("dropped unclosed, and collected").isTrue();
                assertThatThrownBy(() -> TcpConnection.adopt(ch)).isExactlyInstanceOf(IllegalArgumentException.class)
                        .hasMessage("main context 'main' cannot adopt " + ch + ": it is registered with a selector (its key not"
                                + " cancelled, or not yet dropped by that selector's next select); detach() hands a connection's"
                                + " channel on unregistered");
            }
            while (LoopProbe.openResources() > 0) { // until the dropped one's cleaning has run, and its post here
                Thread.yield();
                Coroutine.yield();
            }
            assertThat(ch.isOpen()).as("closed by the dropped one's cleaning").isFalse();
            assertThat(peer.read(ByteBuffer.allocate(1))).as("the peer reads the end of the stream").isEqualTo(-1);
            assertThatThrownBy(() -> TcpConnection.adopt(ch)).isExactlyInstanceOf(IOException.class)
                    .hasMessage("main context 'main' cannot adopt " + ch + ": it is closed");
            assertThat(LoopProbe.registeredChannels()).isZero();
        }
    }

    @Test
    void aChannelAdoptedAgainOnceTheConnectionAPoolThreadDroppedUnclosedWasCollectedIsLeftToTheNewOneByThatThreadsEnd()
            throws Exception {
        try (ServerSocketChannel plain = ServerSocketChannel.open().bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(plain.getLocalAddress());
             SocketChannel ch = plain.accept()) {
            TcpConnection again;
            try (CleaningThreadHold hold = CleaningThreadHold.take()) { // the dropped one's cleaning waits
                CoroutinePool pool = CoroutinePool.start(1);
                try {
                    WeakReference<TcpConnection> dropped = Coroutine.await(pool.submit("adopter", () -> {
                        try {
                            return adoptAndDrop(ch);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }));
                    assertThat(Collected.all(List.of(dropped))).as("dropped unclosed, and collected").isTrue();
                    again = TcpConnection.adopt(ch); // the dropped one holds it no more
                } finally {
                    PoolsClosed.close(pool); // its thread ends, closing what it holds as open, the dropped one's entry too
                }
            }
            try (again) {
                assertThat(ch.isOpen()).as("the end of the dropped one's thread left the channel to the new connection").isTrue();
                exchange(again, peer);
            }
            assertThat(ch.isOpen()).as("closed with the new connection").isFalse();
        }
    }

    @Test
    void twoThreadsAdoptingOneChannelAtOnceTakeTurnsTheSecondRefused() throws Exception {
        try (ServerSocketChannel plain = ServerSocketChannel.open().bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(plain.getLocalAddress());
             SocketChannel ch = plain.accept()) {
            Object[] outcomes = new Object[2];
            Thread[] adopters = new Thread[2];
            CountDownLatch tried = new CountDownLatch(2); // the winner's thread lives on until the other has been refused
            synchronized (ch.blockingLock()) { // as a register or a configureBlocking of another thread would hold it
                for (int i = 0; i < 2; i++) {
                    int at = i;
                    adopters[i] = Thread.ofPlatform().name("adopter-" + i).unstarted(() -> {
                        try {
                            outcomes[at] = TcpConnection.adopt(ch);
                        } catch (Throwable e) {
                            outcomes[at] = e;
                        }
                        tried.countDown();
                        try {
                            tried.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    });
                    adopters[i].start();
                }
                for (Thread t : adopters) {
                    while (t.getState() != Thread.State.BLOCKED) {
                        Thread.onSpinWait(); // both have passed the checks they make before the channel's lock, if any
                    }
                }
            }
            for (Thread t : adopters) {
                t.join();
            }
            int won = outcomes[0] instanceof TcpConnection ? 0 : 1;
            assertThat(outcomes[won]).isInstanceOf(TcpConnection.class);
            TcpConnection c = (TcpConnection) outcomes[won];
            assertThat(outcomes[1 - won]).as("the second, not a second connection of the socket").isInstanceOf(Throwable.class);
            assertThat((Throwable) outcomes[1 - won]).isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessage("main context 'main' cannot adopt " + ch + ": " + name(c) + " (open) of thread 'adopter-" + won
                            + "' (#" + adopters[won].threadId() + ") holds it already; detach() that connection to hand the channel on");
            c.close(); // from another thread once its thread has ended: closed in place
            assertThat(ch.isOpen()).isFalse();
        }
    }

    @Test
    void adoptRefusesAUnixDomainSocketChannelLeavingItAsItWas(@TempDir Path dir) throws Exception {
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(dir.resolve("s"));
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(address);
             SocketChannel ch = SocketChannel.open(address);
             SocketChannel accepted = server.accept()) {
            assertThatThrownBy(() -> TcpConnection.adopt(ch)).isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessage("main context 'main' cannot adopt " + ch + ": it is not a TCP socket (its peer's address is a"
                            + " UnixDomainSocketAddress, where TCP needs an InetSocketAddress); Io.await parks a coroutine on a"
                            + " channel of any kind");
            assertThat(ch.isOpen()).isTrue();
            assertThat(ch.isBlocking()).as("left as it was").isTrue();
        }
    }

    /** A selector provider of the test's own, which opens nothing: what a channel of another provider belongs to. */
    private static final class OtherProvider extends SelectorProvider {
        @Override
        public DatagramChannel openDatagramChannel() {
            throw new AssertionError("not reached");
        }

        @Override
        public DatagramChannel openDatagramChannel(ProtocolFamily family) {
            throw new AssertionError("not reached");
        }

        @Override
        public Pipe openPipe() {
            throw new AssertionError("not reached");
        }

        @Override
        public AbstractSelector openSelector() {
            throw new AssertionError("not reached");
        }

        @Override
        public ServerSocketChannel openServerSocketChannel() {
            throw new AssertionError("not reached");
        }

        @Override
        public SocketChannel openSocketChannel() {
            throw new AssertionError("not reached");
        }

        @Override
        public String toString() {
            return "provider 'other'";
        }
    }

    /** A connected TCP channel of {@link OtherProvider}, blocking, as a library with a provider of its own makes one. */
    private static final class OtherProvidersChannel extends StubSocketChannel {
        OtherProvidersChannel() {
            super(new OtherProvider());
        }

        @Override
        public boolean isConnected() {
            return true;
        }

        @Override
        public SocketAddress getRemoteAddress() {
            return new InetSocketAddress(InetAddress.getLoopbackAddress(), 7);
        }

        @Override
        protected void implCloseSelectableChannel() {
        }

        @Override
        public String toString() {
            return "channel 'other'";
        }
    }

    /**
     * A channel of another selector provider than the default one is refused up front, left as it was: the thread's
     * event loop watches only the default provider's channels, and the connection's first wait failed, its text saying
     * the channel named the default provider.
     */
    @Test
    void adoptRefusesAChannelOfAnotherSelectorProviderLeavingItAsItWas() throws IOException {
        try (SocketChannel ch = new OtherProvidersChannel()) {
            assertThatThrownBy(() -> TcpConnection.adopt(ch)).isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessage("main context 'main' cannot adopt channel 'other': it belongs to the selector provider"
                            + " provider 'other', and the thread's event loop watches only channels of the default one ("
                            + SelectorProvider.provider().getClass().getName() + ")");
            assertThat(ch.isOpen()).isTrue();
            assertThat(ch.isBlocking()).as("left as it was").isTrue();
        }
    }

    @Test
    void adoptTakesAPlainBlockingChannelAndOneAPlainServerSocketChannelAcceptedAndTheirReadsPark() throws Exception {
        try (ServerSocketChannel plain = ServerSocketChannel.open().bind(LOOPBACK);
             TcpConnection client = TcpConnection.adopt(SocketChannel.open(plain.getLocalAddress()));
             TcpConnection server = TcpConnection.adopt(plain.accept())) {
            assertThat(client.getOption(StandardSocketOptions.TCP_NODELAY)).isTrue();
            assertThat(server.getOption(StandardSocketOptions.TCP_NODELAY)).isTrue();
            String[] got = {null, null};
            Coroutine serving = Coroutine.create("server", () -> {
                try {
                    got[0] = read(server, 4);                           // parks until the client writes
                    server.write(bytes("pong"));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            Coroutine.yield();
            assertThat(serving.state()).isEqualTo(State.PARKED);
            client.write(bytes("ping"));
            got[1] = read(client, 4);                                   // parks until the server answers
            serving.join();
            assertThat(got).containsExactly("ping", "pong");
        }
    }

    @Test
    void aPeerResetReadAfterTheAdoptionIsReportedAsUsual() throws Exception {
        try (ServerSocketChannel plain = ServerSocketChannel.open().bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(plain.getLocalAddress());
             TcpConnection c = TcpConnection.adopt(plain.accept())) {
            peer.setOption(StandardSocketOptions.SO_LINGER, 0);
            peer.close();                                               // a reset
            assertThatThrownBy(() -> c.read(ByteBuffer.allocate(1))).isExactlyInstanceOf(SocketException.class)
                    .hasMessage("main context 'main' cannot read from " + name(c) + " (open): java.net.SocketException: Connection reset");
            assertThat(c).hasToString("TcpConnection[" + c.localAddress() + " -> " + c.remoteAddress() + ", open, failed]");
        }
    }

    @Test
    void aPlainThreadWithNoSchedulerYetAdoptsChannelsWhosePeerClosedOrResetBeforeAndItsReadsSaySo() throws Exception {
        try (ServerSocketChannel plain = ServerSocketChannel.open().bind(LOOPBACK);
             SocketChannel closingPeer = SocketChannel.open(plain.getLocalAddress());
             SocketChannel closed = plain.accept();
             SocketChannel resettingPeer = SocketChannel.open(plain.getLocalAddress());
             SocketChannel reset = plain.accept()) {
            closingPeer.write(bytes("bye"));
            closingPeer.close();                                        // the end of the stream after its bytes
            resettingPeer.setOption(StandardSocketOptions.SO_LINGER, 0);
            resettingPeer.close();                                      // a reset
            AtomicReference<Object> seen = new AtomicReference<>();
            Thread t = Thread.ofPlatform().name("adopter").start(() -> {
                try (TcpConnection a = TcpConnection.adopt(closed); TcpConnection b = TcpConnection.adopt(reset)) {
                    String got = read(a, 3) + " then " + a.read(ByteBuffer.allocate(1));
                    Throwable f = catchThrowable(() -> b.read(ByteBuffer.allocate(1)));
                    seen.set(List.of(got, f, name(b), b.toString()));
                } catch (Throwable e) {
                    seen.set(e);
                }
            });
            t.join();
            assertThat(seen.get()).isInstanceOf(List.class);
            List<?> got = (List<?>) seen.get();
            assertThat(got.get(0)).isEqualTo("bye then -1");
            assertThat((Throwable) got.get(1)).isExactlyInstanceOf(SocketException.class)
                    .hasMessage("main context 'main' cannot read from " + got.get(2) + " (open): java.net.SocketException: Connection reset");
            assertThat(got.get(3)).asString().endsWith(", open, failed]");
        }
    }

    @Test
    void aPoolThreadThatEndsClosesTheConnectionsItAdoptedAndLeftOpen() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            SocketChannel ch = server.detach();
            CoroutinePool pool = CoroutinePool.start(1);
            try {
                CompletableFuture<TcpConnection> adopted = pool.submit(() -> {
                    try {
                        TcpConnection c = TcpConnection.adopt(ch);
                        c.write(bytes("hi"));
                        return c;                                       // left open
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                Coroutine.await(adopted);
            } finally {
                PoolsClosed.close(pool);                                // its thread ends
            }
            assertThat(read(client, 2)).isEqualTo("hi");
            assertThat(client.read(ByteBuffer.allocate(1))).as("closed by the thread's end").isEqualTo(-1);
            assertThat(ch.isOpen()).isFalse();
        }
    }

    @Test
    void aChannelDetachedAfterItsConnectionWasRegisteredCanBePutInBlockingModeAgain() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            Coroutine reader = Coroutine.create("reader", () -> {
                try {
                    read(server, 1);                                    // parks: registered with the thread's selector
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            while (reader.state() != State.PARKED) {
                Coroutine.yield();
            }
            client.write(bytes("x"));
            reader.join();
            int registered = LoopProbe.registeredChannels();
            try (SocketChannel ch = server.detach()) {
                assertThat(LoopProbe.registeredChannels()).as("its registration ended").isEqualTo(registered - 1);
                assertThat(ch.isRegistered()).isFalse();
                ch.configureBlocking(true);
                client.write(bytes("y"));
                assertThat(read(ch, 1)).as("a blocking read").isEqualTo("y");
            }
        }
    }

    @Test
    void anOutputShutDownStaysShutInTheConnectionThatAdoptsItsChannel() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            server.shutdownOutput();
            try (TcpConnection c = TcpConnection.adopt(server.detach())) {
                assertThat(c).hasToString("TcpConnection[" + c.localAddress() + " -> " + c.remoteAddress() + ", open, output shut down]");
                assertThatThrownBy(() -> c.write(bytes("y"))).isExactlyInstanceOf(IOException.class)
                        .hasMessage("main context 'main' cannot write to " + name(c)
                                + " (open, output shut down): java.nio.channels.AsynchronousCloseException");
                assertThat(client.read(ByteBuffer.allocate(1))).isEqualTo(-1);
            }
        }
    }

    /**
     * A channel adopted with a positive {@code SO_LINGER} its maker set on the socket: the connection takes it over as
     * its own {@code setOption} keeps one ({@code getOption} gives it back, the socket's own linger off), so that its
     * close, with bytes unsent to a peer that does not read, returns at once, where the kernel's close of a lingering
     * socket would hold the thread, and every coroutine of it, until the peer had read them; the peer, reading only
     * once the close has returned, gets every byte that went out, then the end of the stream.
     */
    @Test
    void aPositiveLingerSetOnTheAdoptedChannelIsTakenOverSoTheConnectionsCloseReturnsAtOnceWithBytesUnsent() throws Exception {
        try (ServerSocketChannel plain = ServerSocketChannel.open().bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(plain.getLocalAddress())) {
            SocketChannel raw = plain.accept();
            raw.setOption(StandardSocketOptions.SO_LINGER, 60);
            TcpConnection c = TcpConnection.adopt(raw);
            assertThat(c.getOption(StandardSocketOptions.SO_LINGER)).as("the interval given back").isEqualTo(60);
            assertThat(raw.getOption(StandardSocketOptions.SO_LINGER)).as("the socket's own, off").isEqualTo(-1);
            ByteBuffer src = ByteBuffer.allocate(16 << 20);                // far more than the two sockets' buffers hold
            Coroutine writer = Coroutine.create("writer", () -> {
                try {
                    c.write(src);
                } catch (IOException e) {
                    // the close below, while it waits for room
                }
            });
            while (writer.state() != State.PARKED) {
                Coroutine.yield();
            }
            CountDownLatch closed = new CountDownLatch(1);
            CompletableFuture<String> peerRead = new CompletableFuture<>();
            Thread.ofPlatform().name("peer-reader").start(() -> {
                try {
                    String when = closed.await(10, TimeUnit.SECONDS)
                            ? "once told" : "without being told, the guard passed";
                    long n = 0;
                    ByteBuffer b = ByteBuffer.allocate(1 << 16);
                    for (int r; (r = peer.read(b.clear())) >= 0; ) {
                        n += r;
                    }
                    peerRead.complete("read " + when + ": " + n + " bytes");
                } catch (Throwable e) {
                    peerRead.completeExceptionally(e);
                }
            });
            c.close();
            closed.countDown();                                         // told once the close has returned
            writer.join();
            assertThat(Coroutine.await(peerRead)).isEqualTo("read once told: " + src.position() + " bytes");
        }
    }

    /**
     * A positive {@code SO_LINGER} a connection was given goes with its channel: {@code detach()} sets it on the socket
     * it hands back, as the channel's user set it, and the connection that adopts the channel takes it over again.
     */
    @Test
    void aPositiveLingerGoesWithTheDetachedChannelAndIsTakenOverByTheConnectionThatAdoptsIt() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            server.setOption(StandardSocketOptions.SO_LINGER, 30);
            SocketChannel ch = server.detach();
            assertThat(ch.getOption(StandardSocketOptions.SO_LINGER)).as("set on the socket handed back").isEqualTo(30);
            try (TcpConnection c = TcpConnection.adopt(ch)) {
                assertThat(c.getOption(StandardSocketOptions.SO_LINGER)).isEqualTo(30);
                assertThat(ch.getOption(StandardSocketOptions.SO_LINGER)).as("the socket's own, off again").isEqualTo(-1);
                client.write(bytes("ab"));
                assertThat(read(c, 2)).isEqualTo("ab");
            }
        }
    }
}
