package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static dev.coro.net.TcpConnectionTest.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Channel;
import dev.coro.Collected;
import dev.coro.Coroutine;
import dev.coro.Coroutine.State;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import dev.coro.VirtualTime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ref.WeakReference;
import java.lang.reflect.Field;
import java.net.ConnectException;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.Pipe;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What an I/O wait leaves behind: a coroutine closed while it waits in {@code read} unwinds and takes
 * its wait with it, a completed read wait leaves its interest with the selector until readiness finds
 * nobody waiting, and ten thousand connect-accept-close cycles leave no descriptor and no selector
 * registration behind.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class RegistrationTest {

    private final List<String> log = new ArrayList<>();

    @Test
    void closingACoroutineParkedInReadUnwindsItAndLeavesNoRegistration() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            Coroutine reader = Coroutine.create("reader", () -> {
                try {
                    server.read(ByteBuffer.allocate(16));
                    log.add("read returned");
                } catch (IOException e) {
                    log.add("read threw " + e);
                } finally {
                    log.add("reader's finally");
                }
            });
            Coroutine.yield();
            assertThat(reader.state()).isEqualTo(State.PARKED);
            assertThat(LoopProbe.ioWaits()).isEqualTo(1);

            reader.close();
            assertThat(reader.state()).isEqualTo(State.CLOSED);
            assertThat(log).as("unwound by the exit signal: no read result, the finally ran").containsExactly("reader's finally");
            assertThat(LoopProbe.ioWaits()).isZero();
            assertThat(LoopProbe.hasPending()).isFalse();

            // bytes arriving later find nobody waiting, and the connection still works
            client.write(bytes("late"));
            ByteBuffer buf = ByteBuffer.allocate(4);
            while (buf.hasRemaining()) {
                server.read(buf);
            }
            assertThat(text(buf)).isEqualTo("late");
            assertThat(log).containsExactly("reader's finally");
        }
        assertThat(LoopProbe.registeredChannels()).as("every channel was closed through its owner").isZero();
        assertThat(LoopProbe.selectorOpen()).as("closed with the last registration").isFalse();
    }

    @Test
    void aCompletedReadWaitKeepsTheReadInterestUntilTheSelectorReportsItWithNobodyWaiting() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            SelectableChannel channel = channelOf(server);
            Channel<String> got = new Channel<>("got", 4);
            Channel<String> go = new Channel<>("go", 1);
            Crew crew = new Crew();
            crew.spawn("acceptor", () -> listener.accept().close()); // an I/O wait: the loop keeps selecting
            crew.spawn("reader", () -> {
                ByteBuffer buf = ByteBuffer.allocate(16);
                for (int i = 0; i < 2; i++) {
                    server.read(buf.clear());
                    got.send(text(buf));
                    go.receive();
                }
            });
            Coroutine.yield();
            assertThat(LoopProbe.ioWaits()).as("the acceptor and the reader wait").isEqualTo(2);
            client.write(bytes("a"));
            assertThat(got.receive()).isEqualTo("a");
            // the reader waits on a channel now, not on I/O: the interest its read wait added is kept,
            // so its next read wait costs no change of the selector's interest set
            assertThat(LoopProbe.ioWaits()).as("only the acceptor's").isEqualTo(1);
            assertThat(LoopProbe.interestOps(channel)).isEqualTo(SelectionKey.OP_READ);

            // bytes arrive while nobody waits: the selector reports them once, and the interest goes
            client.write(bytes("b"));
            for (int i = 0; i < 10_000 && LoopProbe.interestOps(channel) != 0; i++) {
                Coroutine.yield(); // every 64th yield asks the selector
            }
            assertThat(LoopProbe.interestOps(channel)).as("taken out once reported with nobody waiting").isZero();

            go.send("next");   // the reader's next read waits, and the interest comes back
            assertThat(got.receive()).isEqualTo("b");
            go.send("done");
            TcpConnection.connect(listener.localAddress()).close(); // the acceptor's connection
            crew.join();
        }
    }

    /**
     * Closing a connection drops its registration at once by a {@code selectNow}, which also reports
     * every other ready channel: when hundreds of peers reset together, each ready channel must be
     * served by a report or two, not reported again by every one of the hundreds of closes that follow.
     */
    @Test
    void aStormOfResetPeersCostsAReportOrTwoPerConnectionNotOnePerClose() throws Exception {
        int n = 300;
        List<SocketChannel> peers = new ArrayList<>();
        Channel<String> failed = new Channel<>("failed", n);
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            for (int i = 0; i < n; i++) {
                peers.add(SocketChannel.open(listener.localAddress())); // connected by the kernel's backlog
                TcpConnection c = listener.accept();
                Coroutine.create("reader-" + i, () -> {
                    try (c) {
                        c.read(ByteBuffer.allocate(16));
                        failed.send("read returned");
                    } catch (IOException e) {
                        failed.send(e.getCause() == null ? e.toString() : "reset");
                    }
                });
            }
            Coroutine.yield();
            assertThat(LoopProbe.ioWaits()).as("every reader parked in read").isEqualTo(n);
            long before = LoopProbe.readyReports();
            for (SocketChannel p : peers) {
                p.setOption(StandardSocketOptions.SO_LINGER, 0);
                p.close(); // a reset
            }
            for (int i = 0; i < n; i++) {
                assertThat(failed.receive()).isEqualTo("reset");
            }
            assertThat(LoopProbe.readyReports() - before).as("reports for %d resets", n).isBetween((long) n, 3L * n);
        }
        assertThat(LoopProbe.registeredChannels()).isZero();
    }

    /** The socket under a connection, for the selector probe. */
    private static SelectableChannel channelOf(TcpConnection c) throws ReflectiveOperationException {
        Field f = TcpConnection.class.getDeclaredField("channel");
        f.setAccessible(true);
        return (SelectableChannel) f.get(c);
    }

    /**
     * Each cycle: connect (parks main until connected), accept, a coroutine parked in {@code read} on
     * the accepted side, closed; then both ends closed. The same count on both engines: a cycle starts
     * one coroutine, which on the thread engine is one virtual thread, cheap enough for ten thousand.
     */
    @Test
    void tenThousandOpenCloseCyclesLeaveNoDescriptorAndNoRegistrationBehind() throws Exception {
        int cycles = 10_000;
        int[] unwound = {0};
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            cycle(listener, 0, unwound); // the selector and the JDK's lazily opened descriptors, once
            long before = openDescriptors();
            for (int i = 1; i <= cycles; i++) {
                cycle(listener, i, unwound);
            }
            long after = openDescriptors();
            assertThat(after).as("descriptors open before %d cycles: %d", cycles, before).isLessThanOrEqualTo(before + 3);
            assertThat(unwound[0]).isEqualTo(cycles + 1);
            assertThat(LoopProbe.ioWaits()).isZero();
            assertThat(LoopProbe.registeredChannels()).isZero();
            assertThat(LoopProbe.validKeys()).isZero();
            assertThat(LoopProbe.selectorOpen()).as("closed with the last registration").isFalse();
        }
    }

    private static void cycle(TcpListener listener, int i, int[] unwound) throws IOException {
        TcpConnection client = TcpConnection.connect(listener.localAddress());
        TcpConnection server = listener.accept();
        Coroutine reader = Coroutine.create("reader-" + i, () -> {
            try {
                server.read(ByteBuffer.allocate(1));
                throw new AssertionError("read returned: nothing was written");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                unwound[0]++;
            }
        });
        Coroutine.yield();
        if (reader.state() != State.PARKED || LoopProbe.ioWaits() != 1) {
            throw new AssertionError("cycle " + i + ": " + reader + " with " + LoopProbe.ioWaits() + " I/O waits");
        }
        reader.close();
        if (LoopProbe.ioWaits() != 0) {
            throw new AssertionError("cycle " + i + ": " + LoopProbe.ioWaits() + " I/O waits after the close of the reader");
        }
        client.close();
        server.close();
    }

    /**
     * The loop never hears of a channel closed by its user, so an {@code Io.await} must not leave the
     * channel registered: the selector, and its descriptors, would stay open after the channel is
     * gone, and after the thread has ended.
     */
    @Test
    void threadsThatAwaitedChannelsTheyThenClosedLeaveNoSelectorBehind() throws Exception {
        long before = openDescriptors();
        for (int i = 0; i < 20; i++) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread t = Thread.ofPlatform().name("pipe-user-" + i).start(() -> {
                try {
                    Pipe pipe = Pipe.open();
                    try (Pipe.SourceChannel source = pipe.source(); Pipe.SinkChannel sink = pipe.sink()) {
                        source.configureBlocking(false);
                        sink.write(bytes("x"));
                        Io.await(source, SelectionKey.OP_READ);
                        assertThat(LoopProbe.registeredChannels()).as("registered only while awaited").isZero();
                    }
                    assertThat(LoopProbe.selectorOpen()).isFalse();
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            t.join();
            assertThat(failure.get()).isNull();
        }
        assertThat(openDescriptors()).as("descriptors open before 20 threads awaited a pipe each: %d", before)
                .isLessThanOrEqualTo(before + 3);
    }

    /** A coroutine a plain thread left parked in an {@code Io.await} when it ended, held weakly, and that thread's selector. */
    private record LeftAwaiting(WeakReference<Coroutine> awaiter, Selector selector) {
    }

    private static LeftAwaiting leftAwaitingByAThreadThatEnds(Pipe.SourceChannel source) throws Exception {
        AtomicReference<Object> got = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("pipe-awaiter").start(() -> {
            try {
                Coroutine awaiter = Coroutine.create("awaiter", () -> {
                    try {
                        Io.await(source, SelectionKey.OP_READ);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                Coroutine.yield(); // it parks, and stays so: the thread ends
                assertThat(LoopProbe.ioWaits()).isEqualTo(1);
                got.set(new LeftAwaiting(new WeakReference<>(awaiter), LoopProbe.selector()));
            } catch (Throwable e) {
                got.set(e);
            }
        });
        t.join();
        assertThat(got.get()).isInstanceOf(LeftAwaiting.class);
        return (LeftAwaiting) got.get();
    }

    /**
     * A thread that ends with a coroutine parked in {@code Io.await} never closes its selector: once
     * the thread's scheduler is unreachable, nothing may close it but the cleaning of the loop, or its
     * descriptors (and its registration of the channel) stay open for good.
     */
    @Test
    @Timeout(60)
    void aThreadThatEndedWithACoroutineParkedInAwaitLeavesNoSelectorOpenOnceItsSchedulerIsCollected() throws Exception {
        Pipe pipe = Pipe.open();
        try (Pipe.SourceChannel source = pipe.source(); Pipe.SinkChannel sink = pipe.sink()) {
            source.configureBlocking(false);
            LeftAwaiting left = leftAwaitingByAThreadThatEnds(source);
            assertThat(left.selector().isOpen()).isTrue();
            assertThat(Collected.all(List.of(left.awaiter()))).as("the coroutine the ended thread left parked").isTrue();
            Collected.until(() -> !left.selector().isOpen()); // the cleaning thread closes it once the loop is collected
            while (source.isRegistered()) { // a selector says it is closed before its close deregisters its keys
                Thread.yield();
            }
            assertThat(source.isRegistered()).as("its registration ended with the selector").isFalse();
        }
    }

    /**
     * A connect parks for {@code OP_CONNECT}. Left in the selector's interest once the connection is
     * established, that operation keeps the socket in the kernel's poll set for writability, which a
     * connected socket nearly always has: the selector wakes at once at every select while the JDK
     * reports nothing ready, so a thread whose contexts all wait spins instead of blocking.
     */
    @Test
    void aConnectThatParkedLeavesNoConnectInterestBehindOnceConnected() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            SelectableChannel channel = channelOf(client);
            int interest = LoopProbe.interestOps(channel); // -1: not registered at all
            assertThat(interest == -1 ? 0 : interest & SelectionKey.OP_CONNECT)
                    .as("interest %s of the connected client", interest).isZero();

            Crew crew = new Crew();
            crew.spawn("reader", () -> {
                ByteBuffer buf = ByteBuffer.allocate(2);
                while (buf.hasRemaining()) {
                    client.read(buf);
                }
                assertThat(text(buf)).isEqualTo("ok");
            });
            Coroutine.yield();
            assertThat(LoopProbe.interestOps(channel)).as("a read wait watches reads only").isEqualTo(SelectionKey.OP_READ);
            server.write(bytes("ok"));
            crew.join();
        }
        assertThat(LoopProbe.registeredChannels()).isZero();
    }

    /**
     * A connect that parked keeps its socket's registration for the connection: the key that watched
     * {@code OP_CONNECT} watches nothing once connected, and is the one a read waits on later. It was
     * cancelled at the end of every connect (a {@code selectNow} to drop it, the selector closed if
     * nothing else was registered) and made again by the first read (the selector opened again).
     */
    @Test
    void aConnectKeepsItsSocketsRegistrationForTheConnectionOnlyItsInterestChanges() throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(LOOPBACK)) { // a plain server: nothing else registered
            TcpConnection client = TcpConnection.connect(server.getLocalAddress());
            SelectableChannel channel = channelOf(client);
            Selector selector = LoopProbe.selector();
            assertThat(selector).as("the selector the connect waited in, still open").isNotNull();
            SelectionKey key = channel.keyFor(selector);
            assertThat(key).as("the connect's registration").isNotNull();
            assertThat(key.isValid()).isTrue();
            assertThat(key.interestOps()).as("a connected socket's interest").isZero();

            Crew crew = new Crew();
            crew.spawn("reader", () -> {
                ByteBuffer buf = ByteBuffer.allocate(2);
                while (buf.hasRemaining()) {
                    client.read(buf);
                }
                assertThat(text(buf)).isEqualTo("ok");
            });
            Coroutine.yield();
            assertThat(LoopProbe.selector()).as("the same selector").isSameAs(selector);
            assertThat(channel.keyFor(selector)).as("the same key").isSameAs(key);
            assertThat(key.interestOps()).isEqualTo(SelectionKey.OP_READ);
            try (SocketChannel accepted = server.accept()) {
                accepted.write(bytes("ok"));
                crew.join();
            }
            client.close();
            assertThat(key.isValid()).as("its close ends the registration").isFalse();
            assertThat(LoopProbe.registeredChannels()).isZero();
            assertThat(LoopProbe.selectorOpen()).isFalse();
        }
    }

    /**
     * A connect that fails (refused) closes its socket; the JDK closes the descriptor of a channel
     * still registered with a selector only when that selector next selects, so the connect must end
     * its registration: otherwise the socket and the thread's selector stay open, for good once the
     * thread ends.
     */
    @Test
    void threadsWhoseConnectWasRefusedLeaveNoSocketAndNoSelectorBehind() throws Exception {
        SocketAddress gone;
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            gone = listener.localAddress(); // nobody listens there once it is closed
        }
        long before = openDescriptors();
        for (int i = 0; i < 20; i++) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread t = Thread.ofPlatform().name("dialer-" + i).start(() -> {
                try {
                    assertThatThrownBy(() -> TcpConnection.connect(gone))
                            .isInstanceOf(IOException.class)
                            .hasCauseInstanceOf(ConnectException.class);
                    assertThat(LoopProbe.registeredChannels()).as("the refused socket's registration").isZero();
                    assertThat(LoopProbe.selectorOpen()).isFalse();
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            t.join();
            assertThat(failure.get()).isNull();
        }
        assertThat(openDescriptors()).as("descriptors open before 20 threads had a connect refused each: %d", before)
                .isLessThanOrEqualTo(before + 3);
    }

    /** Closing a coroutine parked in {@code connect} unwinds it and closes its socket at once, leaving no registration. */
    @Test
    void closingACoroutineParkedInConnectClosesItsSocketAndLeavesNoRegistration() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            Coroutine.yield(); // nothing to run: just the same state of the loop for both counts below
            long before = openDescriptors();
            List<String> unwound = new ArrayList<>();
            Coroutine dialer = Coroutine.create("dialer", () -> {
                try {
                    TcpConnection.connect(listener.localAddress());
                    unwound.add("connected");
                } catch (IOException e) {
                    unwound.add("threw " + e);
                } finally {
                    unwound.add("finally");
                }
            });
            Coroutine.yield();
            assertThat(dialer.state()).as("a non-blocking connect is in progress").isEqualTo(State.PARKED);
            assertThat(Coroutine.dump()).contains("coroutine 'dialer': PARKED, waits to connect to " + listener.localAddress());

            dialer.close();
            assertThat(unwound).containsExactly("finally");
            assertThat(LoopProbe.ioWaits()).isZero();
            assertThat(LoopProbe.registeredChannels()).as("the dialer's socket's registration").isZero();
            assertThat(LoopProbe.selectorOpen()).isFalse();
            assertThat(openDescriptors()).as("the dialer's socket is closed").isLessThanOrEqualTo(before);
        }
    }

    /**
     * A close in which the thread's selector fails unchecked (dropping the closed socket's registration) throws
     * that failure, having closed the socket all the same and told the coroutine parked on it: the
     * socket was left open, a descriptor lost for good, and a second close did nothing.
     */
    @Test
    @Timeout(60)
    void aListenerOrAConnectionWhoseCloseTheSelectorFailsInIsClosedAllTheSame() throws Exception {
        TcpListener listener = TcpListener.bind(LOOPBACK);
        TcpConnection client = TcpConnection.connect(listener.localAddress());
        TcpConnection server = listener.accept();
        List<String> woken = new ArrayList<>();
        Coroutine.create("acceptor", () -> {
            try {
                listener.accept();
            } catch (IOException e) {
                woken.add(e.getMessage());
            }
        });
        Coroutine.create("reader", () -> {
            try {
                server.read(ByteBuffer.allocate(1));
            } catch (IOException e) {
                woken.add(e.getMessage());
            }
        });
        Coroutine.yield();
        assertThat(LoopProbe.ioWaits()).as("both parked").isEqualTo(2);
        SelectableChannel listening = channelOf(listener);
        SelectableChannel socket = channelOf(server);
        LoopProbe.beforeDropping(s -> {
            throw new UncheckedIOException(new IOException("faked: the selector failed"));
        });
        try {
            assertThatThrownBy(listener::close).isInstanceOf(UncheckedIOException.class)
                    .hasMessage("java.io.IOException: faked: the selector failed");
            assertThatThrownBy(server::close).isInstanceOf(UncheckedIOException.class)
                    .hasMessage("java.io.IOException: faked: the selector failed");
        } finally {
            LoopProbe.beforeDropping(null);
        }
        assertThat(listening.isOpen()).as("the listening socket").isFalse();
        assertThat(socket.isOpen()).as("the connection's socket").isFalse();
        assertThat(listener.isOpen()).isFalse();
        assertThat(server.isOpen()).isFalse();
        listener.close(); // a second close is a no-op
        server.close();
        Coroutine.yield();
        assertThat(woken).containsExactlyInAnyOrder(
                "coroutine 'acceptor' cannot accept on listener " + listener.localAddress()
                        + " (closed): the listener was closed while it waited",
                "coroutine 'reader' cannot read from connection " + server.localAddress() + " -> " + server.remoteAddress() + " (closed): the connection was closed while it waited");
        client.close();
    }

    /**
     * An {@code Io.await} of {@code source} (ready) whose release the selector fails in unchecked: it throws that
     * failure, and leaves the channel's key cancelled, not yet dropped.
     */
    private static void awaitWhoseReleaseTheSelectorFailsIn(Pipe.SourceChannel source) {
        LoopProbe.beforeDropping(s -> {
            throw new UncheckedIOException(new IOException("faked: the selector failed"));
        });
        try {
            assertThatThrownBy(() -> Io.await(source, SelectionKey.OP_READ))
                    .isInstanceOf(UncheckedIOException.class).hasMessage("java.io.IOException: faked: the selector failed");
        } finally {
            LoopProbe.beforeDropping(null);
        }
    }

    /**
     * A release in which the selector failed unchecked leaves the channel's key cancelled, and not yet
     * dropped, while the loop has forgotten the channel: the next wait on it must not take that key for
     * a registration it knows. It did: a wait on the channel, closed meanwhile, threw a
     * {@code NullPointerException} from its release instead of its refusal.
     */
    @Test
    void aWaitAfterAReleaseTheSelectorFailedInIsRefusedAsItShouldBeNotWithANullPointerException() throws Exception {
        Pipe pipe = Pipe.open();
        try (Pipe.SourceChannel source = pipe.source(); Pipe.SinkChannel sink = pipe.sink()) {
            source.configureBlocking(false);
            sink.write(bytes("x"));
            awaitWhoseReleaseTheSelectorFailsIn(source);
            source.close();
            assertThatThrownBy(() -> Io.await(source, SelectionKey.OP_READ))
                    .isInstanceOf(ClosedChannelException.class)
                    .hasMessage("main context 'main' cannot await OP_READ on " + source + " (closed): a closed channel is never ready");
            assertThat(LoopProbe.ioWaits()).isZero();
            assertThat(LoopProbe.registeredChannels()).isZero();
        }
    }

    /**
     * A release in which the selector failed unchecked leaves the channel's key cancelled, and not yet
     * dropped, while the loop has forgotten the channel: the next wait on the channel, still open, is
     * served as on any other channel (the cancelled key flushed, the channel registered again), and its
     * release leaves no registration.
     */
    @Test
    void aWaitAfterAReleaseTheSelectorFailedInIsServedOnAChannelStillOpen() throws Exception {
        Pipe pipe = Pipe.open();
        try (Pipe.SourceChannel source = pipe.source(); Pipe.SinkChannel sink = pipe.sink()) {
            source.configureBlocking(false);
            sink.write(bytes("x"));
            awaitWhoseReleaseTheSelectorFailsIn(source);
            Io.await(source, SelectionKey.OP_READ); // the byte is still there: ready
            ByteBuffer buf = ByteBuffer.allocate(1);
            assertThat(source.read(buf)).isEqualTo(1);
            assertThat(text(buf)).isEqualTo("x");
            assertThat(LoopProbe.ioWaits()).isZero();
            assertThat(LoopProbe.registeredChannels()).isZero();
        }
    }

    /**
     * The thread's selector fails ({@code IOException}) as it drops a registration: every context
     * waiting on I/O is woken with an {@code IOException} naming it, its wait and the state of what it
     * waited on, the selector's failure its cause, as the failure to open the selector is reported;
     * the broken selector is closed, and the next wait opens a new one. The failure escaped from the
     * call that happened to drop a registration, and the waiters stayed parked on the broken selector.
     */
    @Test
    @Timeout(60)
    void aSelectorFailingWithAnIOExceptionFailsEveryWaiterNamingItAndTheThreadGoesOnWithANewSelector() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            List<String> woken = new ArrayList<>();
            List<Throwable> causes = new ArrayList<>();
            Coroutine.create("acceptor", () -> {
                try {
                    listener.accept();
                } catch (IOException e) {
                    woken.add(e.getMessage());
                    causes.add(e.getCause());
                }
            });
            Coroutine.create("reader", () -> {
                try {
                    server.read(ByteBuffer.allocate(1));
                } catch (IOException e) {
                    woken.add(e.getMessage());
                    causes.add(e.getCause());
                }
            });
            Coroutine.yield();
            assertThat(LoopProbe.ioWaits()).as("both parked").isEqualTo(2);
            Selector broken = LoopProbe.selector();
            IOException failure = new IOException("faked: the selector failed");
            Pipe pipe = Pipe.open();
            try (Pipe.SourceChannel source = pipe.source(); Pipe.SinkChannel sink = pipe.sink()) {
                source.configureBlocking(false);
                sink.write(bytes("x"));
                LoopProbe.beforeDropping(s -> {
                    throw failure;
                });
                try {
                    Io.await(source, SelectionKey.OP_READ); // ready at once: its release drops the registration
                } finally {
                    LoopProbe.beforeDropping(null);
                }
            }
            assertThat(LoopProbe.ioWaits()).isZero();
            assertThat(broken.isOpen()).as("the broken selector").isFalse();
            assertThat(LoopProbe.selectorOpen()).isFalse();
            Coroutine.yield();
            Coroutine.yield(); // the acceptor's failed accept is a scheduling point before it throws
            assertThat(woken).containsExactlyInAnyOrder(
                    "coroutine 'acceptor' cannot accept on listener " + listener.localAddress()
                            + " (open): java.io.IOException: faked: the selector failed",
                    "coroutine 'reader' cannot read from connection " + server.localAddress() + " -> "
                            + server.remoteAddress() + " (open): java.io.IOException: faked: the selector failed");
            assertThat(causes).containsOnly(failure);

            // the thread goes on: a new selector serves the next waits
            Crew crew = new Crew();
            crew.spawn("reader-again", () -> {
                ByteBuffer buf = ByteBuffer.allocate(2);
                while (buf.hasRemaining()) {
                    server.read(buf);
                }
                assertThat(text(buf)).isEqualTo("ok");
            });
            Coroutine.yield();
            assertThat(LoopProbe.selectorOpen()).isTrue();
            client.write(bytes("ok"));
            crew.join();
        }
    }

    /**
     * A coroutine 'acceptor' parked in an accept on {@code listener}, then woken by the thread's selector failing
     * with {@code failure} (in the release of a wait of main's), not run yet: what the accept throws goes to
     * {@code failures}, and {@code log} notes when it has.
     */
    private static void acceptorWokenByTheSelectorsFailure(TcpListener listener, List<Throwable> failures, List<String> log,
                                                          IOException failure) throws IOException {
        Coroutine.create("acceptor", () -> {
            try {
                listener.accept();
            } catch (IOException e) {
                failures.add(e);
            }
            log.add("acceptor threw");
        });
        Coroutine.yield();
        assertThat(LoopProbe.ioWaits()).as("parked").isEqualTo(1);
        Pipe pipe = Pipe.open();
        try (Pipe.SourceChannel source = pipe.source(); Pipe.SinkChannel sink = pipe.sink()) {
            source.configureBlocking(false);
            sink.write(bytes("x"));
            LoopProbe.beforeDropping(s -> {
                throw failure;
            });
            try {
                Io.await(source, SelectionKey.OP_READ); // ready at once: its release drops the registration
            } finally {
                LoopProbe.beforeDropping(null);
            }
        }
    }

    /**
     * Runs the thread's other contexts until the acceptor has thrown (a closer among them), and asserts it threw
     * the refusal of an accept on a closed listener, after the closer ran, {@code failure} suppressed in it.
     */
    private static void assertTheAcceptorFailedAsOnAClosedListener(String address, List<Throwable> failures, List<String> log,
                                                                   IOException failure) {
        for (int i = 0; i < 4 && failures.isEmpty(); i++) {
            Coroutine.yield();
        }
        assertThat(log).containsExactly("closer ran", "acceptor threw");
        assertThat(failures).hasSize(1);
        assertThat(failures.get(0))
                .hasMessage("coroutine 'acceptor' cannot accept on listener " + address
                        + " (closed): java.nio.channels.ClosedChannelException")
                .hasCauseInstanceOf(ClosedChannelException.class);
        assertThat(failures.get(0).getSuppressed()).containsExactly(failure);
    }

    /**
     * An accept that the selector's failure wakes is a failed accept, a scheduling point before it
     * throws, as one that finds no descriptor is: a coroutine that runs at that point and closes the
     * listener makes it the refusal of an accept on a closed listener, the selector's failure
     * suppressed, and the listener is not called open after its close.
     */
    @Test
    @Timeout(60)
    void anAcceptTheSelectorsFailureWakesIsASchedulingPointBeforeItThrows() throws Exception {
        acceptorFailedByTheSelectorWhileACloserClosesTheListener(true);
    }

    /**
     * An accept that the selector's failure woke, whose listener another coroutine closes before it runs
     * again, fails as one closed at its back-off does (the test above): the refusal of an accept on a closed
     * listener, the selector's failure suppressed, one close failing it one way whatever the timing. It
     * threw the selector's failure, its state {@code closed}.
     */
    @Test
    @Timeout(60)
    void anAcceptTheSelectorsFailureWokeWhoseListenerIsClosedBeforeItRunsFailsAsOneClosedAtItsBackOff() throws Exception {
        acceptorFailedByTheSelectorWhileACloserClosesTheListener(false);
    }

    /**
     * An acceptor that the selector's failure wakes, and a coroutine that closes its listener: behind the acceptor's
     * wake if {@code atTheBackOff} (it yields first, so it runs as the acceptor's failure yields), else before the
     * acceptor runs again; asserts that the accept failed as one on a closed listener, the selector's failure
     * suppressed.
     */
    private static void acceptorFailedByTheSelectorWhileACloserClosesTheListener(boolean atTheBackOff) throws Exception {
        TcpListener listener = TcpListener.bind(LOOPBACK);
        String address = listener.localAddress().toString();
        List<Throwable> failures = new ArrayList<>();
        List<String> log = new ArrayList<>();
        IOException failure = new IOException("faked: the selector failed");
        acceptorWokenByTheSelectorsFailure(listener, failures, log, failure);
        Coroutine.create("closer", () -> {
            if (atTheBackOff) {
                Coroutine.yield(); // behind the acceptor its wake queued: runs when the acceptor's failure yields
            }
            log.add("closer ran");
            try {
                listener.close(); // as a shutdown would, while the acceptor backs off; or woken, not run yet
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        assertTheAcceptorFailedAsOnAClosedListener(address, failures, log, failure);
    }

    /**
     * The thread's selector fails ({@code IOException}) in the select of an idle wait, the one main's
     * join makes while a coroutine is parked in a read: the reader is woken with an {@code IOException}
     * naming it, its read and the connection's state, the selector's failure its cause, and main's
     * join returns once it has ended; the broken selector is closed. The failure escaped from main's
     * join, naming neither, while the reader stayed parked on the broken selector.
     */
    @Test
    @Timeout(60)
    void aSelectorFailingInAnIdleWaitFailsTheWaiterNamingItNotTheContextWhoseParkMetTheFailure() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            List<String> woken = new ArrayList<>();
            List<Throwable> causes = new ArrayList<>();
            Coroutine reader = Coroutine.create("reader", () -> {
                try {
                    server.read(ByteBuffer.allocate(1));
                } catch (IOException e) {
                    woken.add(e.getMessage());
                    causes.add(e.getCause());
                }
            });
            Coroutine.yield();
            assertThat(reader.state()).isEqualTo(State.PARKED);
            Selector broken = LoopProbe.selector();
            IOException failure = new IOException("faked: the selector failed");
            LoopProbe.beforeSelecting(s -> {
                throw failure;
            });
            try {
                reader.join(); // nothing else runs: main's park selects, and the select fails
            } finally {
                LoopProbe.beforeSelecting(null);
            }
            assertThat(woken).containsExactly("coroutine 'reader' cannot read from connection " + server.localAddress()
                    + " -> " + server.remoteAddress() + " (open): java.io.IOException: faked: the selector failed");
            assertThat(causes).containsExactly(failure);
            assertThat(broken.isOpen()).as("the broken selector").isFalse();
            assertThat(LoopProbe.ioWaits()).isZero();

            client.write(bytes("k"));
            ByteBuffer buf = ByteBuffer.allocate(1);
            server.read(buf); // a new selector, if the byte has not come yet
            assertThat(text(buf)).isEqualTo("k");
        }
    }

    /**
     * Under {@code VirtualTime} the failure of the selector in an idle wait is a result, as a readiness
     * report is: the quiet the clock counts before it jumps to the next timer starts again. The select
     * here blocks (in real time) longer than the sleeper's timer is away before it fails: counted as
     * quiet, that time let the clock jump to the timer before the reader, failed by that select, had
     * run, and the reader saw the clock at the sleeper's deadline.
     */
    @Test
    @Timeout(60)
    void underVirtualTimeASelectorFailingInAnIdleWaitIsAResultAndTheClockDoesNotJumpPastIt() {
        List<String> log = new ArrayList<>();
        VirtualTime.run(() -> {
            try (TcpListener listener = TcpListener.bind(LOOPBACK);
                 TcpConnection client = TcpConnection.connect(listener.localAddress());
                 TcpConnection server = listener.accept()) {
                Coroutine sleeper = Coroutine.create("sleeper", () -> {
                    Coroutine.sleep(Duration.ofMillis(20));
                    log.add("sleeper woke at t=" + Coroutine.nanoTime());
                });
                Coroutine reader = Coroutine.create("reader", () -> {
                    try {
                        server.read(ByteBuffer.allocate(1));
                        log.add("reader read");
                    } catch (IOException e) {
                        log.add("reader failed at t=" + Coroutine.nanoTime());
                    }
                });
                Coroutine.yield();
                assertThat(reader.state()).isEqualTo(State.PARKED);
                LoopProbe.beforeSelecting(s -> {
                    long end = System.nanoTime() + 50_000_000; // the select blocks 50 ms of real time, then fails
                    while (System.nanoTime() < end) {
                        LockSupport.parkNanos(end - System.nanoTime());
                    }
                    throw new IOException("faked: the selector failed");
                });
                try {
                    reader.join();
                } finally {
                    LoopProbe.beforeSelecting(null);
                }
                sleeper.join();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        assertThat(log).containsExactly("reader failed at t=0", "sleeper woke at t=20000000");
    }

    /** The socket under a listener. */
    private static SelectableChannel channelOf(TcpListener l) throws ReflectiveOperationException {
        Field f = TcpListener.class.getDeclaredField("channel");
        f.setAccessible(true);
        return (SelectableChannel) f.get(l);
    }

    /** The process's open file descriptors, from {@code /proc/self/fd} (Linux). */
    static long openDescriptors() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }
}
