package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static dev.coro.net.TcpConnectionTest.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.Coroutine.State;
import dev.coro.CoroutineException;
import dev.coro.CoroutineTimeoutException;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import dev.coro.VirtualTime;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.Pipe;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.AbstractSelectableChannel;
import java.nio.channels.spi.AbstractSelector;
import java.nio.channels.spi.SelectorProvider;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link Io#await} on channels the network classes do not wrap (a pipe, a datagram channel): it parks
 * until the channel is ready, refuses blocking channels, gives way to a {@code withTimeout} without
 * leaving a stale wait, and is a real wait under {@link VirtualTime}.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class IoAwaitTest {

    private final List<String> log = new ArrayList<>();

    /**
     * A channel awaited by two coroutines for different operations stays registered until the last
     * wait ends: the first to be ready returns, and the other still waits, and is woken in its turn.
     */
    @Test
    void aChannelAwaitedByTwoCoroutinesStaysRegisteredUntilTheLastWaitEnds() throws Exception {
        try (DatagramChannel channel = DatagramChannel.open().bind(LOOPBACK);
             DatagramChannel peer = DatagramChannel.open().bind(LOOPBACK)) {
            channel.configureBlocking(false);
            Coroutine reader = Coroutine.create("reader", () -> awaitLogged(channel, SelectionKey.OP_READ, "readable"));
            Coroutine writer = Coroutine.create("writer", () -> awaitLogged(channel, SelectionKey.OP_WRITE, "writable"));
            Coroutine.yield();
            assertThat(LoopProbe.ioWaits()).as("both wait on the one channel").isEqualTo(2);
            while (!writer.isFinished()) {
                Coroutine.yield(); // every 64th asks the selector: the channel can be written at once
            }
            assertThat(log).containsExactly("writable");
            assertThat(reader.state()).isEqualTo(State.PARKED);
            assertThat(LoopProbe.registeredChannels()).as("still registered for the reader").isEqualTo(1);
            assertThat(LoopProbe.ioWaits()).isEqualTo(1);

            peer.send(bytes("x"), channel.getLocalAddress());
            while (!reader.isFinished()) {
                Coroutine.yield();
            }
            assertThat(log).containsExactly("writable", "readable");
            assertThat(LoopProbe.registeredChannels()).as("released with its last wait").isZero();
        }
    }

    private void awaitLogged(DatagramChannel channel, int ops, String what) {
        try {
            Io.await(channel, ops);
            log.add(what);
        } catch (IOException e) {
            log.add(what + " failed: " + e);
        }
    }

    /**
     * A coroutine main created that fails while main waits on I/O ({@code Io.await}, an accept, a read)
     * ends that wait with the failure, as it ends any park of main; nothing was taken: the bytes and the
     * connection come to the next calls.
     */
    @Test
    void aCoroutineFailingWhileMainWaitsOnIoEndsTheWaitWithItsFailureAndTakesNothing() throws Exception {
        Pipe pipe = Pipe.open();
        try (Pipe.SourceChannel source = pipe.source(); Pipe.SinkChannel sink = pipe.sink();
             TcpListener listener = TcpListener.bind(LOOPBACK)) {
            source.configureBlocking(false);
            failWith("pipe");
            assertThatThrownBy(() -> Io.await(source, SelectionKey.OP_READ)).isExactlyInstanceOf(CoroutineException.class)
                    .hasMessage("coroutine 'bad' failed: java.lang.IllegalStateException: pipe");
            failWith("accept");
            assertThatThrownBy(listener::accept).isExactlyInstanceOf(CoroutineException.class)
                    .hasMessage("coroutine 'bad' failed: java.lang.IllegalStateException: accept");
            assertThat(LoopProbe.ioWaits()).isZero();
            try (Socket peer = new Socket()) {
                peer.connect(listener.localAddress());
                try (TcpConnection c = listener.accept()) {
                    failWith("read");
                    ByteBuffer buf = ByteBuffer.allocate(5);
                    assertThatThrownBy(() -> c.read(buf)).isExactlyInstanceOf(CoroutineException.class)
                            .hasMessage("coroutine 'bad' failed: java.lang.IllegalStateException: read");
                    assertThat(buf.position()).isZero();
                    peer.getOutputStream().write("hello".getBytes(StandardCharsets.UTF_8));
                    sink.write(bytes("pipe!"));
                    while (buf.hasRemaining() && c.read(buf) >= 0) {
                        // the bytes the failed wait did not take
                    }
                    assertThat(text(buf)).isEqualTo("hello");
                }
            }
            ByteBuffer piped = ByteBuffer.allocate(5);
            while (piped.hasRemaining()) {
                if (source.read(piped) == 0) {
                    Io.await(source, SelectionKey.OP_READ);
                }
            }
            assertThat(text(piped)).isEqualTo("pipe!");
            assertThat(LoopProbe.ioWaits()).isZero();
        }
    }

    /** Creates a coroutine 'bad' that fails with {@code message} when it first runs (at main's next park). */
    private static void failWith(String message) {
        Coroutine.create("bad", () -> {
            throw new IllegalStateException(message);
        });
    }

    @Test
    void awaitOnAPipeParksTheCoroutineUntilBytesArrive() throws Exception {
        Pipe pipe = Pipe.open();
        try (Pipe.SourceChannel source = pipe.source(); Pipe.SinkChannel sink = pipe.sink()) {
            source.configureBlocking(false);
            Crew crew = new Crew();
            Coroutine reader = crew.spawn("reader", () -> {
                ByteBuffer buf = ByteBuffer.allocate(5);
                int awaits = 0;
                while (buf.hasRemaining()) {
                    if (source.read(buf) == 0) {
                        Io.await(source, SelectionKey.OP_READ);
                        awaits++;
                    }
                }
                log.add("read '" + text(buf) + "' after " + (awaits > 0 ? "waiting" : "no wait"));
            });
            Coroutine.yield();
            assertThat(reader.state()).isEqualTo(State.PARKED);
            assertThat(Coroutine.dump()).contains("coroutine 'reader': PARKED, waits to await OP_READ on " + source);
            assertThat(LoopProbe.ioWaits()).isEqualTo(1);
            assertThat(LoopProbe.registeredChannels()).as("registered while awaited").isEqualTo(1);
            assertThat(LoopProbe.interestOps(source)).as("the thread's selector watches it for the read")
                    .isEqualTo(SelectionKey.OP_READ);

            sink.write(bytes("hello"));
            assertThat(reader.state()).as("nothing noticed it yet: no scheduling point").isEqualTo(State.PARKED);
            crew.join();
            assertThat(log).containsExactly("read 'hello' after waiting");
            assertThat(LoopProbe.ioWaits()).isZero();
            assertThat(LoopProbe.registeredChannels()).as("registered only while awaited").isZero();
            assertThat(LoopProbe.selectorOpen()).isFalse();
        }
    }

    @Test
    void awaitOnADatagramChannelParksUntilADatagramArrives() throws Exception {
        try (DatagramChannel receiver = DatagramChannel.open().bind(LOOPBACK);
             DatagramChannel sender = DatagramChannel.open().bind(LOOPBACK)) {
            receiver.configureBlocking(false);
            sender.configureBlocking(false);
            Crew crew = new Crew();
            Coroutine listening = crew.spawn("udp", () -> {
                ByteBuffer buf = ByteBuffer.allocate(1500);
                SocketAddress from;
                while ((from = receiver.receive(buf)) == null) {
                    Io.await(receiver, SelectionKey.OP_READ);
                }
                log.add("got '" + text(buf) + "' from " + from);
            });
            Coroutine.yield();
            assertThat(listening.state()).isEqualTo(State.PARKED);
            assertThat(Coroutine.dump()).contains("coroutine 'udp': PARKED, waits to await OP_READ on " + receiver);

            Io.await(sender, SelectionKey.OP_WRITE); // ready at once: main parks only until the selector says so
            assertThat(listening.state()).as("the datagram is not sent yet").isEqualTo(State.PARKED);
            sender.send(bytes("ping"), receiver.getLocalAddress());
            crew.join();
            assertThat(log).containsExactly("got 'ping' from " + sender.getLocalAddress());
        }
    }

    /**
     * Spawns in {@code crew} a coroutine 'waiter' that awaits OP_READ on {@code source} (logging
     * {@code "woken as ready"} if woken, keeping in {@code failure} the IOException if its wait fails),
     * and lets it park there.
     */
    private Coroutine parkedReadWaiter(Crew crew, Pipe.SourceChannel source, AtomicReference<IOException> failure) {
        Coroutine waiter = crew.spawn("waiter", () -> {
            try {
                Io.await(source, SelectionKey.OP_READ);
                log.add("woken as ready");
            } catch (IOException e) {
                failure.set(e);
            }
        });
        Coroutine.yield();
        assertThat(waiter.state()).isEqualTo(State.PARKED);
        return waiter;
    }

    /**
     * Checks that the wait of {@link #parkedReadWaiter} on {@code source} was not woken as ready but failed
     * because the channel was closed, and left no I/O wait and no registration on the loop.
     */
    private void assertTheWaitFailedAsClosedAndLeftNothing(AtomicReference<IOException> failure,
                                                          Pipe.SourceChannel source) {
        assertThat(log).isEmpty();
        assertThat(failure.get()).hasMessage("coroutine 'waiter' cannot await OP_READ on " + source
                + " (closed): its channel was closed while it waited");
        assertThat(LoopProbe.ioWaits()).isZero();
        assertThat(LoopProbe.registeredChannels()).isZero();
    }

    @Test
    void aChannelClosedBehindTheLoopsBackFailsItsWaitAndLeavesNoRegistration() throws Exception {
        Pipe pipe = Pipe.open();
        try (Pipe.SinkChannel sink = pipe.sink()) {
            Pipe.SourceChannel source = pipe.source();
            source.configureBlocking(false);
            Crew crew = new Crew();
            AtomicReference<IOException> failure = new AtomicReference<>();
            parkedReadWaiter(crew, source, failure);
            source.close(); // not through the loop: it finds out on its own, within about a second
            crew.join();
            assertTheWaitFailedAsClosedAndLeftNothing(failure, source);
            assertThat(LoopProbe.selectorOpen()).isFalse();
        }
    }

    /**
     * The loop looks for channels closed behind its back about once a second; it must look while its
     * thread stays busy too (a context that yields on and on never lets it idle), or the wait on such
     * a channel never ends.
     */
    @Test
    void aChannelClosedBehindTheLoopsBackFailsItsWaitWhileAnotherContextKeepsTheThreadBusy() throws Exception {
        Pipe pipe = Pipe.open();
        try (Pipe.SinkChannel sink = pipe.sink()) {
            Pipe.SourceChannel source = pipe.source();
            source.configureBlocking(false);
            Crew crew = new Crew();
            AtomicReference<IOException> failure = new AtomicReference<>();
            Coroutine waiter = parkedReadWaiter(crew, source, failure);
            source.close(); // not through the loop
            // main never parks: the thread never idles; the guard only keeps a failure from hanging
            Coroutine.withTimeout(Duration.ofSeconds(30), () -> {
                while (!waiter.isFinished()) {
                    Coroutine.yield();
                }
            });
            crew.join();
            assertTheWaitFailedAsClosedAndLeftNothing(failure, source);
        }
    }

    /**
     * Another thread may close a channel at any moment, also just after a wait found it open and
     * registered it, before the selector was told what to watch: its key is cancelled then. The wait
     * is refused as one on a closed channel is (the JDK's {@code CancelledKeyException} escaped
     * instead), whether the channel was newly registered or another coroutine already waited on it,
     * and nothing is left registered.
     */
    @Test
    @Timeout(30)
    void aWaitOnAChannelAnotherThreadClosesAsItRegistersIsRefusedAsOnAClosedChannelAndLeavesNothing() throws Exception {
        for (boolean awaitedAlready : new boolean[] {false, true}) {
            Pipe pipe = Pipe.open();
            try (Pipe.SinkChannel sink = pipe.sink()) {
                Pipe.SourceChannel source = pipe.source();
                source.configureBlocking(false);
                Crew crew = new Crew();
                AtomicReference<IOException> first = new AtomicReference<>();
                if (awaitedAlready) {
                    parkedReadWaiter(crew, source, first);
                }
                AtomicReference<Exception> failure = new AtomicReference<>();
                LoopProbe.beforeWatching(channel -> {
                    if (channel != source) {
                        return; // another test's thread, left running
                    }
                    Thread closer = Thread.ofPlatform().name("closer").start(() -> {
                        try {
                            channel.close();
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    });
                    try {
                        closer.join();
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                });
                try {
                    crew.spawn("late", () -> {
                        try {
                            Io.await(source, SelectionKey.OP_READ);
                            log.add("late woken as ready");
                        } catch (IOException | RuntimeException e) {
                            failure.set(e);
                        }
                    });
                    assertThat(crew.awaitOne()).isEqualTo("late");
                } finally {
                    LoopProbe.beforeWatching(null);
                }
                assertThat(failure.get()).as("awaited already: %s", awaitedAlready).isInstanceOf(ClosedChannelException.class)
                        .hasMessage("coroutine 'late' cannot await OP_READ on " + source + " (closed): a closed channel is never ready");
                crew.join(); // the first waiter finds its channel closed within about a second
                if (awaitedAlready) {
                    assertTheWaitFailedAsClosedAndLeftNothing(first, source);
                }
                assertThat(log).isEmpty();
                assertThat(LoopProbe.ioWaits()).isZero();
                assertThat(LoopProbe.registeredChannels()).isZero();
                assertThat(LoopProbe.selectorOpen()).isFalse();
            }
        }
    }

    @Test
    void awaitRefusesABlockingChannelAndOperationsItDoesNotSupport() throws Exception {
        Pipe pipe = Pipe.open();
        try (Pipe.SourceChannel source = pipe.source(); Pipe.SinkChannel sink = pipe.sink()) {
            assertThatThrownBy(() -> Io.await(source, SelectionKey.OP_READ))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage(Callers.plainThread() + " cannot await OP_READ on " + source
                            + ": it is in blocking mode; call configureBlocking(false) first");
            sink.configureBlocking(false);
            assertThatThrownBy(() -> Io.await(sink, SelectionKey.OP_READ | SelectionKey.OP_ACCEPT))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage(Callers.plainThread() + " cannot await OP_READ|OP_ACCEPT on " + sink + ": it supports OP_WRITE");
            assertThatThrownBy(() -> Io.await(sink, 0))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage(Callers.plainThread() + " cannot await 0x0 on " + sink + ": it supports OP_WRITE");
            assertThat(LoopProbe.ioWaits()).isZero();
            assertThat(LoopProbe.selectorOpen()).as("nothing was registered").isFalse();
        }
    }

    /**
     * A closed channel is refused with the JDK's {@link ClosedChannelException}, which a caller of NIO
     * catches, but one that says who waited, for what, and on which channel: the JDK's has no message.
     */
    @Test
    void awaitOnAClosedChannelThrowsAClosedChannelExceptionNamingTheCallerTheWaitAndTheChannel() throws Exception {
        Coroutine.current(); // the thread has a scheduler: the refusal names its main (one without is named as a thread, ThreadConfinementTest)
        Pipe pipe = Pipe.open();
        pipe.source().close();
        Pipe.SinkChannel sink = pipe.sink();
        sink.configureBlocking(false);
        sink.close();
        assertThatThrownBy(() -> Io.await(sink, SelectionKey.OP_WRITE)).isInstanceOf(ClosedChannelException.class)
                .hasMessage("main context 'main' cannot await OP_WRITE on " + sink + " (closed): a closed channel is never ready");
        AtomicReference<IOException> failure = new AtomicReference<>();
        Crew crew = new Crew();
        crew.spawn("writer", () -> {
            try {
                Io.await(sink, SelectionKey.OP_WRITE);
            } catch (IOException e) {
                failure.set(e);
            }
        });
        crew.join();
        assertThat(failure.get()).isInstanceOf(ClosedChannelException.class)
                .hasMessage("coroutine 'writer' cannot await OP_WRITE on " + sink + " (closed): a closed channel is never ready");
        assertThat(LoopProbe.ioWaits()).isZero();
        assertThat(LoopProbe.selectorOpen()).as("nothing was registered").isFalse();
    }

    /**
     * A closed channel is refused as closed whatever mode it was left in, also for {@code OP_CONNECT}:
     * a socket closed with its connect in progress, awaited for {@code OP_CONNECT}, and a channel
     * closed in blocking mode were refused with an {@code IllegalArgumentException} advising a connect
     * or {@code configureBlocking(false)}, neither of which a closed channel takes, where a caller
     * catching the {@code IOException} of a closed channel (as the JDK's register refuses it first) got
     * a runtime exception instead.
     */
    @Test
    @Timeout(20)
    void aClosedChannelIsRefusedAsClosedAlsoWhenItWasBlockingOrItsConnectWasInProgress() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            SocketChannel dialer = SocketChannel.open();
            dialer.configureBlocking(false);
            dialer.connect(listener.localAddress()); // in progress, or made at once: the close ends either
            dialer.close();
            Pipe pipe = Pipe.open();
            Pipe.SourceChannel source = pipe.source(); // left in blocking mode
            source.close();
            pipe.sink().close();
            assertThatThrownBy(() -> Io.await(dialer, SelectionKey.OP_CONNECT)).isInstanceOf(ClosedChannelException.class)
                    .hasMessage("main context 'main' cannot await OP_CONNECT on " + dialer
                            + " (closed): a closed channel is never ready");
            assertThatThrownBy(() -> Io.await(source, SelectionKey.OP_READ)).isInstanceOf(ClosedChannelException.class)
                    .hasMessage("main context 'main' cannot await OP_READ on " + source
                            + " (closed): a closed channel is never ready");
            assertThat(LoopProbe.ioWaits()).isZero();
            assertThat(LoopProbe.selectorOpen()).as("nothing was registered").isFalse();
        }
    }

    /**
     * {@code OP_CONNECT} is ready only while a connect is in progress: on a connected socket the JDK
     * never reports it, while the kernel polls the socket for writability and wakes the selector at
     * every select. Awaited there, it would park the caller for good and spin its thread; so it is
     * refused, as unsupported operations are, the advice to call {@code connect} given only to a socket never
     * connected.
     */
    @Test
    void awaitRefusesOpConnectOnASocketWithNoConnectInProgress() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel connected = SocketChannel.open(listener.localAddress());
             SocketChannel unconnected = SocketChannel.open();
             TcpConnection server = listener.accept()) {
            connected.configureBlocking(false);
            unconnected.configureBlocking(false);
            assertThat(refusalOfAWaiter(unconnected, SelectionKey.OP_CONNECT)).isEqualTo("coroutine 'waiter' cannot await"
                    + " OP_CONNECT on " + unconnected + ": no connect is in progress; call connect first");
            assertThat(refusalOfAWaiter(connected, SelectionKey.OP_CONNECT)).as("no advice to connect a socket connected already")
                    .isEqualTo("coroutine 'waiter' cannot await OP_CONNECT on " + connected + ": no connect is in progress;"
                            + " it is connected already, and OP_CONNECT is never reported on a connected socket");
            assertThat(LoopProbe.ioWaits()).isZero();
            assertThat(LoopProbe.selectorOpen()).as("nothing was registered").isFalse();
        }
    }

    /**
     * A socket never connected (no connect made, none in progress) can neither be read nor written: the
     * JDK's selector reports it ready for both at once (the kernel's poll of an unconnected socket says
     * "hung up"), so an await returned at once and the read that followed threw
     * {@code NotYetConnectedException}. It is refused, as a wait for a connect with none in progress is,
     * before anything is registered.
     */
    @Test
    void awaitRefusesOpReadOrOpWriteOnASocketNeverConnected() throws Exception {
        try (SocketChannel unconnected = SocketChannel.open()) {
            unconnected.configureBlocking(false);
            for (int ops : new int[] {SelectionKey.OP_READ, SelectionKey.OP_WRITE, SelectionKey.OP_READ | SelectionKey.OP_WRITE}) {
                String what = ops == SelectionKey.OP_READ ? "OP_READ" : ops == SelectionKey.OP_WRITE ? "OP_WRITE" : "OP_READ|OP_WRITE";
                assertThat(refusalOfAWaiter(unconnected, ops)).isEqualTo("coroutine 'waiter' cannot await " + what + " on "
                        + unconnected + ": it is not connected; call connect first");
            }
            assertThat(LoopProbe.ioWaits()).isZero();
            assertThat(LoopProbe.selectorOpen()).as("nothing was registered").isFalse();
        }
    }

    /**
     * A listening channel never bound has no connection to accept: the kernel's poll of its socket says
     * "hung up", so the JDK's selector reported it ready at once, and the {@code accept()} that followed threw
     * {@code NotYetBoundException}, which names nothing. It is refused, as a read of a socket never connected
     * is, before anything is registered; once bound, the same channel is awaited as any listener.
     */
    @Test
    void awaitRefusesOpAcceptOnAListeningChannelNeverBound() throws Exception {
        try (ServerSocketChannel unbound = ServerSocketChannel.open()) {
            unbound.configureBlocking(false);
            assertThat(refusalOfAWaiter(unbound, SelectionKey.OP_ACCEPT)).isEqualTo("coroutine 'waiter' cannot await OP_ACCEPT on "
                    + unbound + ": it is not bound; bind it first");
            assertThat(LoopProbe.ioWaits()).isZero();
            assertThat(LoopProbe.selectorOpen()).as("nothing was registered").isFalse();
            unbound.bind(LOOPBACK);
            try (SocketChannel client = SocketChannel.open(unbound.getLocalAddress())) {
                Io.await(unbound, SelectionKey.OP_ACCEPT);
                try (SocketChannel accepted = unbound.accept()) {
                    assertThat(accepted).as("bound, it waits for a connection as any listener").isNotNull();
                }
            }
        }
    }

    /**
     * The message of the refusal of an await of {@code ops} on {@code ch} by a coroutine 'waiter', checked to
     * come at once: the waiter has ended by main's next yield, not parked.
     */
    private String refusalOfAWaiter(SelectableChannel ch, int ops) {
        Coroutine waiter = Coroutine.create("waiter", () -> {
            try {
                Io.await(ch, ops);
                log.add("returned");
            } catch (IllegalArgumentException | IOException e) {
                log.add(e.getMessage());
            }
        });
        Coroutine.yield(); // the waiter runs until its await throws, or parks
        State state = waiter.state();
        waiter.close(); // a no-op once it has ended
        assertThat(state).as("refused at once, not parked").isEqualTo(State.FINISHED);
        assertThat(log).hasSize(1);
        return log.remove(0);
    }

    /**
     * The thread's selector is the JDK's default provider's, which watches only that provider's
     * channels: a channel of another one (a library's own sockets) is refused naming the caller, the
     * channel and both providers, as the other channels no wait can be made on are. The JDK's
     * refusal, a bare {@code IllegalSelectorException} naming nothing, had escaped.
     */
    @Test
    @Timeout(30)
    void awaitRefusesAChannelOfAnotherSelectorProviderNamingIt() throws Exception {
        try (AbstractSelectableChannel ch = foreignChannel()) {
            assertThatThrownBy(() -> Io.await(ch, SelectionKey.OP_READ))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage(Callers.plainThread() + " cannot await OP_READ on ForeignChannel: it belongs to the selector"
                            + " provider ForeignProvider, and the thread's event loop watches only channels of the"
                            + " default one (" + SelectorProvider.provider().getClass().getName() + ")");
            assertThat(LoopProbe.ioWaits()).isZero();
            assertThat(LoopProbe.selectorOpen()).as("nothing was registered").isFalse();
        }
    }

    /**
     * A channel of a {@code SelectorProvider} other than the JDK's default one, in non-blocking mode,
     * named {@code ForeignChannel}, its provider {@code ForeignProvider}; it supports {@code OP_READ}.
     */
    private static AbstractSelectableChannel foreignChannel() throws IOException {
        SelectorProvider foreign = new SelectorProvider() {
            @Override
            public DatagramChannel openDatagramChannel() {
                throw new UnsupportedOperationException();
            }

            @Override
            public DatagramChannel openDatagramChannel(java.net.ProtocolFamily family) {
                throw new UnsupportedOperationException();
            }

            @Override
            public Pipe openPipe() {
                throw new UnsupportedOperationException();
            }

            @Override
            public AbstractSelector openSelector() {
                throw new UnsupportedOperationException();
            }

            @Override
            public java.nio.channels.ServerSocketChannel openServerSocketChannel() {
                throw new UnsupportedOperationException();
            }

            @Override
            public SocketChannel openSocketChannel() {
                throw new UnsupportedOperationException();
            }

            @Override
            public String toString() {
                return "ForeignProvider";
            }
        };
        AbstractSelectableChannel ch = new AbstractSelectableChannel(foreign) {
            @Override
            public int validOps() {
                return SelectionKey.OP_READ;
            }

            @Override
            protected void implCloseSelectableChannel() {
            }

            @Override
            protected void implConfigureBlocking(boolean block) {
            }

            @Override
            public String toString() {
                return "ForeignChannel";
            }
        };
        ch.configureBlocking(false);
        return ch;
    }

    /**
     * A closed channel of another provider is refused as closed, as every closed channel is (and as the
     * JDK's {@code register} refuses it, before it looks at the selector): it was refused for its
     * provider, with an {@code IllegalArgumentException}, where a caller catching the
     * {@code IOException} of a closed channel got a runtime exception instead.
     */
    @Test
    @Timeout(30)
    void aClosedChannelOfAnotherSelectorProviderIsRefusedAsClosed() throws Exception {
        Coroutine.current(); // the thread has a scheduler: the refusal names its main (one without is named as a thread, ThreadConfinementTest)
        AbstractSelectableChannel ch = foreignChannel();
        ch.close();
        assertThatThrownBy(() -> Io.await(ch, SelectionKey.OP_READ)).isInstanceOf(ClosedChannelException.class)
                .hasMessage("main context 'main' cannot await OP_READ on ForeignChannel (closed): a closed channel is never ready");
        assertThat(LoopProbe.ioWaits()).isZero();
        assertThat(LoopProbe.selectorOpen()).as("nothing was registered").isFalse();
    }

    @Test
    void aTimeoutInterruptsAnIoWaitAndLeavesNoStaleWaitBehind() throws Exception {
        Pipe pipe = Pipe.open();
        try (Pipe.SourceChannel source = pipe.source(); Pipe.SinkChannel sink = pipe.sink()) {
            source.configureBlocking(false);
            Channel<String> signals = new Channel<>("signals", 1);
            Channel<String> never = new Channel<>("never", 0);
            Crew crew = new Crew();
            AtomicReference<CoroutineTimeoutException> timeout = new AtomicReference<>();
            Coroutine waiter = crew.spawn("waiter", () -> {
                try {
                    Coroutine.withTimeout(Duration.ofMillis(20), () -> {
                        try {
                            Io.await(source, SelectionKey.OP_READ);
                        } catch (IOException e) {
                            throw new AssertionError(e);
                        }
                        log.add("woken by the pipe");
                    });
                } catch (CoroutineTimeoutException e) {
                    timeout.set(e);
                }
                signals.send("timed out");
                never.receive(); // parked on something else now: a stale I/O wait would wake it
                log.add("woken from 'never'");
            });
            assertThat(signals.receive()).isEqualTo("timed out");
            assertThat(timeout.get()).hasMessage(
                    "coroutine 'waiter' timed out: withTimeout(PT0.02S) expired before its body returned");
            assertThat(LoopProbe.ioWaits()).as("the wait left its key's queue").isZero();
            assertThat(LoopProbe.hasPending()).as("no timer and no I/O wait left").isFalse();

            Coroutine.yield();
            assertThat(waiter.state()).isEqualTo(State.PARKED);
            sink.write(bytes("x"));
            // main waits on the same pipe: the selector reports it ready, and only main's wait completes
            Io.await(source, SelectionKey.OP_READ);
            assertThat(waiter.state()).as("not woken by the pipe it no longer waits on").isEqualTo(State.PARKED);
            assertThat(Coroutine.dump()).contains("coroutine 'waiter': PARKED, waits to receive from channel 'never'");
            ByteBuffer buf = ByteBuffer.allocate(1);
            assertThat(source.read(buf)).isEqualTo(1);
            assertThat(text(buf)).isEqualTo("x");

            waiter.close();
            crew.join();
            assertThat(log).isEmpty();
            assertThat(LoopProbe.ioWaits()).isZero();
        }
    }

    @Test
    void underVirtualTimeAnIoWaitIsRealAndTheClockDoesNotJumpMeanwhile() throws Exception {
        CompletableFuture<SocketAddress> address = new CompletableFuture<>();
        AtomicReference<Throwable> peerFailure = new AtomicReference<>();
        // the peer is another thread: its bytes arrive after some real time, whatever the virtual clock says
        Thread peer = Thread.ofPlatform().name("peer").start(() -> {
            try (Socket s = new Socket()) {
                s.connect(address.get(1, TimeUnit.MINUTES));
                OutputStream out = s.getOutputStream();
                out.write("hi".getBytes(StandardCharsets.UTF_8));
                out.flush();
                s.getInputStream().read(); // until the reader closes
            } catch (Exception e) {
                peerFailure.set(e);
            }
        });
        VirtualTime.run(() -> {
            try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
                Crew crew = new Crew();
                crew.spawn("sleeper", () -> {
                    Coroutine.sleep(Duration.ofHours(1));
                    log.add("sleeper woke at t=" + Coroutine.nanoTime());
                });
                crew.spawn("reader", () -> {
                    try (TcpConnection c = listener.accept()) {
                        ByteBuffer buf = ByteBuffer.allocate(2);
                        while (buf.hasRemaining() && c.read(buf) >= 0) {
                            // until both bytes are in
                        }
                        log.add("reader read '" + text(buf) + "' at t=" + Coroutine.nanoTime());
                    }
                });
                address.complete(listener.localAddress());
                crew.join();
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        });
        peer.join();
        assertThat(peerFailure.get()).isNull();
        assertThat(log).containsExactly("reader read 'hi' at t=0", "sleeper woke at t=3600000000000");
    }
    /**
     * Under {@code VirtualTime} an I/O wait keeps the clock still while bytes may come, but not for
     * ever: as for an await of another thread, once nothing has come for as long, in real time, as the
     * next timer is away, the clock jumps to it. So a {@code withTimeout} around a read that no byte
     * reaches expires, at exactly its virtual deadline, instead of blocking the thread for good; the
     * read took nothing and the connection still works.
     */
    @Test
    void underVirtualTimeAWithTimeoutAroundAReadNothingReachesExpiresAndTheConnectionStillWorks() {
        CompletableFuture<List<String>> done = new CompletableFuture<>();
        Thread.ofPlatform().name("virtual").daemon(true).start(() -> {
            List<String> seen = new ArrayList<>();
            try {
                VirtualTime.run(() -> {
                    try (TcpListener listener = TcpListener.bind(LOOPBACK);
                         TcpConnection client = TcpConnection.connect(listener.localAddress());
                         TcpConnection server = listener.accept()) {
                        ByteBuffer buf = ByteBuffer.allocate(4);
                        try {
                            Coroutine.withTimeout(Duration.ofMillis(50), () -> {
                                try {
                                    server.read(buf);
                                } catch (IOException e) {
                                    throw new AssertionError(e);
                                }
                            });
                            seen.add("read returned");
                        } catch (CoroutineTimeoutException e) {
                            seen.add("read timed out at t=" + Coroutine.nanoTime() + " having read " + buf.position()
                                    + ", " + LoopProbe.ioWaits() + " I/O waits left");
                        }
                        client.write(bytes("late"));
                        while (buf.hasRemaining()) {
                            server.read(buf);
                        }
                        seen.add("then read '" + text(buf) + "' at t=" + Coroutine.nanoTime());
                    } catch (IOException e) {
                        throw new AssertionError(e);
                    }
                });
                done.complete(seen);
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        });
        // the test thread's real clock guards against a hang
        List<String> seen = Coroutine.withTimeout(Duration.ofSeconds(30), () -> Coroutine.await(done));
        assertThat(seen).containsExactly("read timed out at t=50000000 having read 0, 0 I/O waits left",
                "then read 'late' at t=50000000");
    }

    /**
     * TIME.md: under {@code VirtualTime} a {@code yield()} with nothing else to run while a timer is
     * pending is an idle point, so that a loop yielding until a coroutine is done ends. With that
     * coroutine in an I/O wait that no byte reaches, under a {@code withTimeout}, the idle point waits
     * as a park's does: once nothing has come for as long as the timer is away, the clock jumps and the
     * timeout expires, for a loop of main and of a coroutine alike. The loops are bounded, so that a
     * clock that never moves fails the test instead of spinning for good.
     */
    @Test
    @Timeout(30)
    void underVirtualTimeALoopYieldingUntilAnIoWaitUnderATimeoutEndsLetsTheClockJumpToTheTimeout() throws Exception {
        Pipe pipe = Pipe.open();
        try (Pipe.SourceChannel source = pipe.source(); Pipe.SinkChannel sink = pipe.sink()) {
            source.configureBlocking(false);
            VirtualTime.run(() -> {
                yieldUntilEnded(readerUnderTimeout(source, "main's reader"), "main");
                Coroutine reader = readerUnderTimeout(source, "the yielder's reader");
                Coroutine.create("yielder", () -> yieldUntilEnded(reader, "the yielder"));
            });
        }
        assertThat(log).containsExactly("main's reader timed out at t=50000000", "main saw it end at t=50000000",
                "the yielder's reader timed out at t=100000000", "the yielder saw it end at t=100000000");
    }

    /** A coroutine that awaits {@code source} readable under a {@code withTimeout} of 50 ms, and logs how that ended. */
    private Coroutine readerUnderTimeout(Pipe.SourceChannel source, String name) {
        return Coroutine.create(name, () -> {
            try {
                Coroutine.withTimeout(Duration.ofMillis(50), () -> {
                    try {
                        Io.await(source, SelectionKey.OP_READ);
                    } catch (IOException e) {
                        throw new AssertionError(e);
                    }
                    log.add(name + " woken by the pipe");
                });
            } catch (CoroutineTimeoutException e) {
                log.add(name + " timed out at t=" + Coroutine.nanoTime());
            }
        });
    }

    /** Yields until {@code c} has ended, at most 10,000 times, and logs whether it saw the end and when. */
    private void yieldUntilEnded(Coroutine c, String who) {
        int yields = 0;
        while (!c.isFinished() && yields < 10_000) {
            Coroutine.yield();
            yields++;
        }
        log.add(who + (c.isFinished() ? " saw it end" : " gave up after " + yields + " yields") + " at t=" + Coroutine.nanoTime());
    }

    @Test
    void aWaitsOperationsAreNamedInDumpsAndMessagesWithAnyUnknownBitsInHex() {
        assertThat(Io.describeOps(SelectionKey.OP_READ)).isEqualTo("OP_READ");
        assertThat(Io.describeOps(SelectionKey.OP_ACCEPT | SelectionKey.OP_CONNECT | SelectionKey.OP_WRITE | SelectionKey.OP_READ))
                .isEqualTo("OP_READ|OP_WRITE|OP_CONNECT|OP_ACCEPT");
        assertThat(Io.describeOps(SelectionKey.OP_CONNECT)).isEqualTo("OP_CONNECT");
        assertThat(Io.describeOps(SelectionKey.OP_WRITE | 0x40)).isEqualTo("OP_WRITE|0x40");
        assertThat(Io.describeOps(0)).isEqualTo("0x0");
    }
}
