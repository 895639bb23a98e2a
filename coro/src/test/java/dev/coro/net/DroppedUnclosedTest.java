package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static dev.coro.net.TcpConnectionTest.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Channel;
import dev.coro.Collected;
import dev.coro.Coroutine;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import java.io.IOException;
import java.lang.ref.WeakReference;
import java.net.ConnectException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What becomes of a listener or a connection that its user drops without closing it: the event loop
 * holds it only weakly, so once nothing else does the garbage collector finds it and its socket is
 * closed, while its thread lives on; one that a coroutine is parked on is held by that coroutine and
 * never closed under it.
 *
 * <p>Each check builds what it drops in a helper that returns only weak references, so no strong
 * reference stays in the test's own frame; then it collects garbage a bounded number of times.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class DroppedUnclosedTest {

    /** Two connections dropped unclosed, and the peer of the one that was made. */
    private record Dropped(WeakReference<TcpConnection> accepted, WeakReference<TcpConnection> made,
                           SocketChannel peerOfMade) {
    }

    /**
     * Accepts {@code client}'s connection and reads from it in a coroutine that parks (so the loop's
     * selector registers it, and keeps the registration after the read), connects to {@code outside}
     * without ever waiting on the connection; then drops both.
     */
    private static Dropped dropTwoConnections(TcpListener listener, SocketChannel client, ServerSocketChannel outside)
            throws Exception {
        TcpConnection accepted = listener.accept();
        Crew crew = new Crew();
        crew.spawn("reader", () -> accepted.read(ByteBuffer.allocate(1)));
        Coroutine.yield();
        assertThat(LoopProbe.registeredChannels()).as("the reader parked: its connection is registered").isEqualTo(1);
        client.write(bytes("x"));
        crew.join();
        assertThat(LoopProbe.registeredChannels()).as("still registered after the read").isEqualTo(1);
        TcpConnection made = TcpConnection.connect(outside.getLocalAddress());
        return new Dropped(new WeakReference<>(accepted), new WeakReference<>(made), outside.accept());
    }

    @Test
    void connectionsDroppedUnclosedAreCollectedAndTheirSocketsClosedWhileTheirThreadLives() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel client = SocketChannel.open(listener.localAddress()); // connected by the backlog
             ServerSocketChannel outside = ServerSocketChannel.open().bind(LOOPBACK)) {
            Dropped d = dropTwoConnections(listener, client, outside);
            try (SocketChannel peer = d.peerOfMade()) {
                assertThat(Collected.all(List.of(d.accepted(), d.made())))
                        .as("connections dropped unclosed are collected while their thread lives").isTrue();
                // blocking reads on this thread: only the cleaning thread can close them meanwhile
                assertThat(client.read(ByteBuffer.allocate(1))).as("the peer of the registered one sees the end").isEqualTo(-1);
                assertThat(peer.read(ByteBuffer.allocate(1))).as("the peer of the never registered one sees the end").isEqualTo(-1);

                long fds = RegistrationTest.openDescriptors();
                Coroutine.yield(); // a scheduling point: the loop ends the registration the cleaning thread posted
                assertThat(RegistrationTest.openDescriptors())
                        .as("the registered one's descriptor, which its registration held, and the selector's").isLessThan(fds);
                assertThat(LoopProbe.registeredChannels()).isZero();
                assertThat(LoopProbe.selectorOpen()).as("closed with its last registration").isFalse();
            }
            assertThat(listener.isOpen()).as("what is still held stays open").isTrue();
        }
    }

    /** A listener a coroutine parked in accept on once (so it is registered), dropped unclosed; and its address. */
    private record DroppedListener(WeakReference<TcpListener> listener, SocketAddress address) {
    }

    private static DroppedListener dropAListener() throws Exception {
        TcpListener listener = TcpListener.bind(LOOPBACK);
        Crew crew = new Crew();
        crew.spawn("acceptor", () -> listener.accept().close());
        Coroutine.yield();
        assertThat(LoopProbe.registeredChannels()).as("the acceptor parked: the listener is registered").isEqualTo(1);
        SocketChannel.open(listener.localAddress()).close();
        crew.join();
        return new DroppedListener(new WeakReference<>(listener), listener.localAddress());
    }

    /**
     * The cleaning thread serves every thread of the JVM, so it takes neither the priority nor the thread
     * group of the thread whose socket happened to start it: a socket opened by a high-priority thread of an
     * application's group (the first of the JVM, or not) leaves it a daemon of normal priority in the JVM's
     * root group, {@code system}. A copy of the library in a class loader of its own has a cleaning thread of
     * the same name (an earlier test of the JVM may have left one): every such thread is checked.
     */
    @Test
    void theCleaningThreadIsADaemonOfNormalPriorityInTheRootGroupWhicheverThreadOpenedTheFirstSocket() throws Exception {
        ThreadGroup application = new ThreadGroup("application");
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread high = Thread.ofPlatform().group(application).priority(Thread.MAX_PRIORITY).name("high").start(() -> {
            try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
                assertThat(listener.isOpen()).isTrue();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        high.join();
        assertThat(failure.get()).isNull();
        assertThat(Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("coro-socket-cleaner"))
                .map(t -> "priority " + t.getPriority() + ", group " + t.getThreadGroup().getName()
                        + (t.isDaemon() ? ", a daemon" : ", not a daemon")))
                .as("the cleaning thread, started by the first socket of the JVM, and those of copies of the library")
                .isNotEmpty().containsOnly("priority 5, group system, a daemon");
    }

    @Test
    void aListenerDroppedUnclosedIsCollectedAndStopsListeningWhileItsThreadLives() throws Exception {
        DroppedListener d = dropAListener();
        assertThat(Collected.all(List.of(d.listener()))).as("a listener dropped unclosed is collected").isTrue();
        while (LoopProbe.selectorOpen()) { // until the cleaning thread's post reaches a scheduling point
            Thread.yield();
            Coroutine.yield();
        }
        assertThat(LoopProbe.registeredChannels()).isZero();
        assertThatThrownBy(() -> SocketChannel.open(d.address()).close())
                .as("nothing listens on %s any more", d.address()).isInstanceOf(ConnectException.class);
    }

    /**
     * The cleaning of a listener dropped unclosed closes its socket even when waking its thread fails
     * (faked: the selector the thread sleeps in throws as the JDK's does, an {@code InternalError}, when
     * it cannot write its wake-up): the post to the thread came first, and the close never ran, the
     * port listening for good.
     */
    @Test
    @Timeout(60)
    void aListenerDroppedUnclosedIsClosedEvenWhenWakingItsThreadFails() throws Exception {
        List<ServerSocketChannel> socket = new ArrayList<>();
        WeakReference<TcpListener> dropped = bindAndDrop(socket);
        SocketAddress address = socket.get(0).getLocalAddress();
        UnwakableSelector unwakable = new UnwakableSelector();
        LoopProbe.sleepingIn(unwakable);
        try {
            assertThat(Collected.all(List.of(dropped))).as("a listener dropped unclosed is collected").isTrue();
            while (socket.get(0).isOpen()) { // until the cleaning thread has closed it
                Thread.onSpinWait();
            }
        } finally {
            LoopProbe.sleepingIn(null);
        }
        assertThat(unwakable.wakeups.get()).as("the cleaning thread tried to wake the thread").isEqualTo(1);
        assertThatThrownBy(() -> SocketChannel.open(address).close())
                .as("nothing listens on %s any more", address).isInstanceOf(ConnectException.class);
        Coroutine.yield(); // the cleaning thread's post runs, and finds the socket closed
        assertThat(LoopProbe.selectorOpen()).isFalse();
    }

    /** Binds a listener whose socket {@code socket} gets, and drops it. */
    private static WeakReference<TcpListener> bindAndDrop(List<ServerSocketChannel> socket) throws IOException {
        TcpListener listener = TcpListener.bind(LOOPBACK, false, () -> {
            ServerSocketChannel c = ServerSocketChannel.open();
            socket.add(c);
            return c;
        });
        return new WeakReference<>(listener);
    }

    /** A selector whose wake-up fails as the JDK's does when it cannot write it; nothing else of it is used. */
    private static final class UnwakableSelector extends Selector {
        final AtomicInteger wakeups = new AtomicInteger();

        @Override
        public Selector wakeup() {
            wakeups.incrementAndGet();
            throw new InternalError("faked: the wake-up could not be written");
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public SelectorProvider provider() {
            return SelectorProvider.provider();
        }

        @Override
        public Set<SelectionKey> keys() {
            return Set.of();
        }

        @Override
        public Set<SelectionKey> selectedKeys() {
            return Set.of();
        }

        @Override
        public int selectNow() {
            throw new AssertionError("not reached");
        }

        @Override
        public int select(long timeout) {
            throw new AssertionError("not reached");
        }

        @Override
        public int select() {
            throw new AssertionError("not reached");
        }

        @Override
        public void close() {
        }
    }

    /** What a coroutine holds alone while it is parked: weak references to what it holds, and its reports. */
    private record HeldByAWaiter(WeakReference<TcpListener> listener, SocketAddress address,
                                 AtomicReference<WeakReference<TcpConnection>> accepted, Channel<String> reports) {
    }

    /**
     * A coroutine that binds a listener, parks in accept, then parks in read on the accepted
     * connection, echoes what it read and closes both: nothing but the coroutine holds either.
     */
    private static HeldByAWaiter parkedOnWhatOnlyItHolds() throws Exception {
        TcpListener listener = TcpListener.bind(LOOPBACK);
        AtomicReference<WeakReference<TcpConnection>> accepted = new AtomicReference<>();
        Channel<String> reports = new Channel<>("reports", 4);
        Coroutine.create("echo", () -> {
            try (listener; TcpConnection c = listener.accept()) {
                accepted.set(new WeakReference<>(c));
                reports.send("accepted");
                ByteBuffer buf = ByteBuffer.allocate(16);
                c.read(buf);
                c.write(buf.flip());
                reports.send("echoed");
            } catch (IOException e) {
                reports.send(e.toString());
            }
        });
        Coroutine.yield();
        assertThat(LoopProbe.ioWaits()).as("parked in accept").isEqualTo(1);
        return new HeldByAWaiter(new WeakReference<>(listener), listener.localAddress(), accepted, reports);
    }

    @Test
    void aListenerAndAConnectionThatACoroutineIsParkedOnAreNeverClosedUnderItThoughNothingElseHoldsThem()
            throws Exception {
        HeldByAWaiter h = parkedOnWhatOnlyItHolds();
        assertThat(Collected.all(List.of(h.listener()))).as("held by the coroutine parked in accept").isFalse();
        try (SocketChannel client = SocketChannel.open(h.address())) {
            assertThat(h.reports().receive()).isEqualTo("accepted");
            Coroutine.yield();
            assertThat(LoopProbe.ioWaits()).as("parked in read").isEqualTo(1);
            assertThat(Collected.all(List.of(h.accepted().get()))).as("held by the coroutine parked in read").isFalse();
            client.write(bytes("ping"));
            assertThat(h.reports().receive()).isEqualTo("echoed");
            ByteBuffer back = ByteBuffer.allocate(16);
            client.read(back);
            assertThat(text(back)).as("both worked throughout").isEqualTo("ping");
        }
    }

    /** A connection of a plain thread that has ended, registered with its selector, dropped unclosed; and that selector. */
    private record LeftByAnEndedThread(WeakReference<TcpConnection> connection, Selector selector) {
    }

    private static LeftByAnEndedThread leftByAThreadThatEnds(ServerSocketChannel outside, CompletableFuture<Void> reading,
                                                           CompletableFuture<SocketChannel> peer) throws Exception {
        AtomicReference<Object> got = new AtomicReference<>();
        Thread owner = Thread.ofPlatform().name("io-owner").start(() -> {
            try {
                TcpConnection made = TcpConnection.connect(outside.getLocalAddress());
                Coroutine.create("reading", () -> reading.complete(null)); // runs once main has parked
                made.read(ByteBuffer.allocate(1)); // parks: the connection is registered with the thread's selector
                got.set(new LeftByAnEndedThread(new WeakReference<>(made), LoopProbe.selector()));
            } catch (Throwable e) {
                got.set(e);
            }
        });
        try {
            SocketChannel p = outside.accept();
            peer.complete(p);
            reading.get();
            p.write(bytes("x"));
        } finally {
            owner.join();
        }
        assertThat(got.get()).isInstanceOf(LeftByAnEndedThread.class);
        return (LeftByAnEndedThread) got.get();
    }

    @Test
    void aConnectionThatAPlainThreadLeftRegisteredWhenItEndedIsClosedWithThatThreadsSelectorOnceCollected()
            throws Exception {
        try (ServerSocketChannel outside = ServerSocketChannel.open().bind(LOOPBACK)) {
            CompletableFuture<SocketChannel> peer = new CompletableFuture<>();
            LeftByAnEndedThread left = leftByAThreadThatEnds(outside, new CompletableFuture<>(), peer);
            try (SocketChannel p = peer.get()) {
                assertThat(left.selector().isOpen()).isTrue();
                assertThat(Collected.all(List.of(left.connection()))).isTrue();
                assertThat(p.read(ByteBuffer.allocate(1))).as("the peer sees the end").isEqualTo(-1);
                while (left.selector().isOpen()) { // the cleaning thread closes it just after the socket
                    Thread.yield();
                }
            }
        }
    }
    /**
     * What a plain thread left when it ended with a coroutine parked in accept on its listener, one
     * parked in read on a connection it made, and one sleeping with another listener in a frame: weak
     * references to the three and their coroutines, the addresses of the listeners, and the thread's selector.
     */
    private record LeftParkedByAnEndedThread(List<WeakReference<?>> dropped, SocketAddress accepting,
                                             SocketAddress sleeping, Selector selector) {
    }

    private static LeftParkedByAnEndedThread leftParkedByAThreadThatEnds(ServerSocketChannel outside) throws Exception {
        AtomicReference<Object> got = new AtomicReference<>();
        Thread owner = Thread.ofPlatform().name("io-owner").start(() -> {
            try {
                TcpListener accepting = TcpListener.bind(LOOPBACK);
                TcpListener sleeping = TcpListener.bind(LOOPBACK);
                TcpConnection made = TcpConnection.connect(outside.getLocalAddress());
                Coroutine acceptor = Coroutine.create("acceptor", () -> accept(accepting));
                Coroutine reader = Coroutine.create("reader", () -> read(made));
                Coroutine sleeper = Coroutine.create("sleeper", () -> {
                    Coroutine.sleep(Duration.ofDays(1));
                    close(sleeping);
                });
                Coroutine.yield(); // each runs once: two park on I/O, one on a timer, and the thread ends
                assertThat(LoopProbe.ioWaits()).isEqualTo(2);
                got.set(new LeftParkedByAnEndedThread(List.of(new WeakReference<>(accepting), new WeakReference<>(made),
                        new WeakReference<>(sleeping), new WeakReference<>(acceptor), new WeakReference<>(reader),
                        new WeakReference<>(sleeper)), accepting.localAddress(), sleeping.localAddress(), LoopProbe.selector()));
            } catch (Throwable e) {
                got.set(e);
            }
        });
        owner.join();
        assertThat(got.get()).isInstanceOf(LeftParkedByAnEndedThread.class);
        return (LeftParkedByAnEndedThread) got.get();
    }

    private static void accept(TcpListener listener) {
        try {
            listener.accept().close();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static void read(TcpConnection c) {
        try {
            c.read(ByteBuffer.allocate(1));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static void close(TcpListener listener) {
        try {
            listener.close();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    @Timeout(60)
    void whatAPlainThreadLeftParkedOrSleepingWhenItEndedIsCollectedWithItsCoroutinesAndClosedWithItsSelector()
            throws Exception {
        try (ServerSocketChannel outside = ServerSocketChannel.open().bind(LOOPBACK)) {
            LeftParkedByAnEndedThread left = leftParkedByAThreadThatEnds(outside);
            try (SocketChannel peer = outside.accept()) {
                assertThat(left.selector().isOpen()).isTrue();
                assertThat(Collected.all(left.dropped()))
                        .as("the listeners, the connection and the coroutines of a thread that ended, nothing else holding them")
                        .isTrue();
                assertThat(peer.read(ByteBuffer.allocate(1))).as("the peer of the connection sees the end").isEqualTo(-1);
                while (left.selector().isOpen()) { // the cleaning thread closes it just after the sockets
                    Thread.yield();
                }
            }
            for (SocketAddress address : List.of(left.accepting(), left.sleeping())) {
                while (Listening.at(address)) { // a selector says it is closed before its close deregisters the sockets
                    Thread.yield();
                }
                assertThatThrownBy(() -> SocketChannel.open(address).close())
                        .as("nothing listens on %s any more", address).isInstanceOf(ConnectException.class);
            }
        }
    }
}
