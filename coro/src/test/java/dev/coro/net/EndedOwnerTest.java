package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static dev.coro.net.TcpConnectionTest.name;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.CoroutineException;
import dev.coro.CoroutinePool;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import dev.coro.PoolName;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.SocketOption;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What becomes of the listeners and connections a thread leaves open when it ends: a pool thread that
 * leaves its loop closes them and its selector, as an event-loop group's shutdown closes its channels;
 * those of a plain thread that ended can be closed from any other thread, and their descriptors go at once.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class EndedOwnerTest {

    /** What a body left open: a listener, the connection it accepted, one it made, and its thread's selector. */
    private record LeftOpen(TcpListener listener, TcpConnection accepted, TcpConnection made, Selector selector) {
    }

    @Test
    void aPoolThreadThatEndsClosesTheListenersAndConnectionsItLeftOpenAndItsSelector() throws Exception {
        try (ServerSocketChannel outside = ServerSocketChannel.open().bind(LOOPBACK)) {
            CompletableFuture<SocketAddress> listening = new CompletableFuture<>();
            CompletableFuture<Void> reading = new CompletableFuture<>();
            LeftOpen left;
            SocketAddress address;
            SocketChannel client;
            SocketChannel server;
            try (CoroutinePool pool = CoroutinePool.start(1)) {
                CompletableFuture<LeftOpen> body = pool.submit(() -> {
                    try {
                        TcpListener listener = TcpListener.bind(LOOPBACK);
                        // each runs once the body has parked: only then does the client connect, and write
                        Coroutine.create("accepting", () -> listening.complete(listener.localAddress()));
                        TcpConnection accepted = listener.accept();       // parks: the listener is registered
                        Coroutine.create("reading", () -> reading.complete(null));
                        accepted.read(ByteBuffer.allocate(1));            // parks: so is the connection
                        TcpConnection made = TcpConnection.connect(outside.getLocalAddress()); // never waits on reads
                        return new LeftOpen(listener, accepted, made, LoopProbe.selector()); // and the body ends
                    } catch (IOException e) {
                        throw new AssertionError(e);
                    }
                });
                address = listening.get();
                client = SocketChannel.open(address);
                reading.get();
                client.write(bytes("x"));
                server = outside.accept();
                left = body.get();
                assertThat(left.accepted().isOpen()).as("open while its thread runs").isTrue();
                assertThat(left.selector()).isNotNull();
            } // the pool's thread ends
            try (client; server) {
                client.configureBlocking(false);
                server.configureBlocking(false);
                assertThat(client.read(ByteBuffer.allocate(1))).as("the peer of the accepted one sees the end").isEqualTo(-1);
                assertThat(server.read(ByteBuffer.allocate(1))).as("the peer of the one it made sees the end").isEqualTo(-1);
            }
            assertThatThrownBy(() -> SocketChannel.open(address).close())
                    .as("nothing listens on %s any more", address).isInstanceOf(ConnectException.class);
            assertThat(left.selector().isOpen()).as("the thread's selector").isFalse();
            for (TcpConnection c : new TcpConnection[] {left.accepted(), left.made()}) {
                assertThat(c.isOpen()).isFalse();
                assertThat(c).hasToString("TcpConnection[" + c.localAddress() + " -> " + c.remoteAddress() + ", closed]");
                c.close(); // from another thread: harmless
                c.close();
            }
            assertThat(left.listener().isOpen()).isFalse();
            assertThat(left.listener()).hasToString("TcpListener[" + address + ", closed]");
            left.listener().close();
        }
    }

    @Test
    void theListenersAndConnectionsOfAPlainThreadThatEndedAreClosedFromAnotherThreadReleasingTheirDescriptorsAtOnce()
            throws Exception {
        try (ServerSocketChannel outside = ServerSocketChannel.open().bind(LOOPBACK)) {
            AtomicReference<Object> got = new AtomicReference<>();
            CompletableFuture<Void> reading = new CompletableFuture<>();
            Thread owner = Thread.ofPlatform().name("io-owner").start(() -> {
                try {
                    TcpListener listener = TcpListener.bind(LOOPBACK);
                    TcpConnection made = TcpConnection.connect(outside.getLocalAddress());
                    Coroutine.create("reading", () -> reading.complete(null)); // runs once main has parked
                    made.read(ByteBuffer.allocate(1)); // parks: the connection is registered with the thread's selector
                    got.set(new LeftOpen(listener, null, made, LoopProbe.selector()));
                } catch (Throwable e) {
                    got.set(e);
                }
            });
            try (SocketChannel peer = outside.accept()) {
                reading.get();
                peer.write(bytes("x"));
                owner.join();
                assertThat(got.get()).isInstanceOf(LeftOpen.class);
                LeftOpen left = (LeftOpen) got.get();
                TcpConnection c = left.made();
                SocketAddress address = left.listener().localAddress();

                assertThat(c.isOpen()).as("left open by its thread").isTrue();
                assertThatThrownBy(() -> c.read(ByteBuffer.allocate(1)))
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessage("thread " + describe(Thread.currentThread()) + " cannot read from " + name(c)
                                + " (open): it belongs to thread " + describe(owner) + ", which has ended");

                long fds = RegistrationTest.openDescriptors();
                c.close();
                assertThat(RegistrationTest.openDescriptors()).as("its descriptor is closed").isLessThan(fds);
                assertThat(c.isOpen()).isFalse();
                assertThat(c).hasToString("TcpConnection[" + c.localAddress() + " -> " + c.remoteAddress() + ", closed]");
                peer.configureBlocking(false);
                assertThat(peer.read(ByteBuffer.allocate(1))).as("the peer sees the end at once").isEqualTo(-1);
                assertThat(left.selector().isOpen()).as("the ended thread's selector, which held its descriptor").isFalse();
                c.close(); // twice is fine

                assertThat(left.listener().isOpen()).isTrue();
                left.listener().close();
                assertThat(left.listener().isOpen()).isFalse();
                assertThatThrownBy(() -> SocketChannel.open(address).close())
                        .as("nothing listens on %s any more", address).isInstanceOf(ConnectException.class);
                left.listener().close();
            }
        }
    }

    /**
     * A buffering wrapper's {@code close()} flushes before it closes: from another thread, once the
     * connection's thread has ended, the empty flush is let through as the close is, so the wrapper
     * closes the connection without a refusal; a write, which would act, is still refused.
     */
    @Test
    void aBufferingWrapperOfAConnectionWhoseThreadEndedClosesItFromAnotherThreadWithoutARefusal() throws Exception {
        try (ServerSocketChannel outside = ServerSocketChannel.open().bind(LOOPBACK)) {
            AtomicReference<Object> got = new AtomicReference<>();
            Thread owner = Thread.ofPlatform().name("io-owner").start(() -> {
                try {
                    got.set(TcpConnection.connect(outside.getLocalAddress()));
                } catch (Throwable e) {
                    got.set(e);
                }
            });
            try (SocketChannel peer = outside.accept()) {
                owner.join();
                assertThat(got.get()).isInstanceOf(TcpConnection.class);
                TcpConnection c = (TcpConnection) got.get();
                OutputStream wrapper = new BufferedOutputStream(c.output());
                assertThatThrownBy(() -> c.output().write(1))
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessage("thread " + describe(Thread.currentThread()) + " cannot write to " + name(c)
                                + " (open): it belongs to thread " + describe(owner) + ", which has ended");
                c.output().flush(); // nothing to do, as close has nothing to refuse now

                wrapper.close();
                assertThat(c.isOpen()).as("closed through the wrapper").isFalse();
                peer.configureBlocking(false);
                assertThat(peer.read(ByteBuffer.allocate(1))).as("the peer sees the end at once").isEqualTo(-1);
            }
        }
    }

    /**
     * {@code isOpen()} answers another thread while the owner runs, and a close from that thread is posted
     * to the owner's thread, parked meanwhile, which closes the connection: the peer reads its end.
     */
    @Test
    @Timeout(30)
    void isOpenMayBeAskedFromAnyThreadWhileTheOwnerRunsAndACloseFromAnotherThreadClosesIt() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            CompletableFuture<String> seen = new CompletableFuture<>();
            Thread.ofPlatform().name("onlooker").start(() -> {
                boolean open = client.isOpen() && listener.isOpen();
                try {
                    client.close();
                    seen.complete(open + ", then open: " + client.isOpen());
                } catch (Throwable e) {
                    seen.complete(open + " " + e);
                }
            });
            assertThat(Coroutine.await(seen)).isEqualTo("true, then open: false"); // parked: the close runs here meanwhile
            assertThat(client.isOpen()).isFalse();
            assertThat(server.read(ByteBuffer.allocate(1))).as("the peer reads the end of the stream").isEqualTo(-1);
            server.close();
            listener.close();
            assertThat(server.isOpen()).isFalse();
            assertThat(listener.isOpen()).isFalse();
        }
    }

    /**
     * A pool thread whose selector fails with an {@code Error} as the thread ends (faked: dropping a
     * listener's registration throws an {@code InternalError}, as the JDK's selector does when it cannot
     * write its wake-up) still closes every listener it left open, and the pool's close returns, reporting
     * the error: the failure stopped the thread's closes, leaving the other listener listening, and the
     * pool's close waited for the thread for ever; then the close returned as if nothing had failed, the
     * error handed to the thread's uncaught-exception handler.
     */
    @Test
    @Timeout(60)
    void aPoolThreadWhoseSelectorFailsWithAnErrorAsItEndsClosesWhatItLeftOpenAndThePoolCloses() throws Exception {
        List<TcpListener> left;
        AtomicBoolean failed = new AtomicBoolean();
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        try {
            left = pool.submit(() -> {
                try {
                    List<TcpListener> listeners = List.of(TcpListener.bind(LOOPBACK), TcpListener.bind(LOOPBACK));
                    Channel<String> connected = new Channel<>("connected", 2);
                    for (TcpListener l : listeners) {
                        Coroutine.create("client", () -> {
                            try {
                                TcpConnection.connect(l.localAddress());
                            } catch (IOException e) {
                                throw new AssertionError(e);
                            }
                            connected.send("connected");
                        });
                        l.accept(); // parks while the client connects: the listener is registered
                    }
                    connected.receive(); // both connects are over, their registrations ended
                    connected.receive();
                    return listeners;
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            }).get();
            LoopProbe.beforeDropping(selector -> {
                if (failed.compareAndSet(false, true)) {
                    throw new InternalError("faked: the wake-up could not be written");
                }
            });
            assertThatThrownBy(pool::close).isExactlyInstanceOf(CoroutineException.class)
                    .hasMessage(name + ": a coroutine failed and nobody observed it: thrown as thread '" + name + "-0' (#" + PoolName.threadId(pool, 0) + ") ended:"
                            + " java.lang.InternalError: faked: the wake-up could not be written")
                    .cause().isExactlyInstanceOf(InternalError.class);
        } finally {
            LoopProbe.beforeDropping(null);
        }
        assertThat(failed).as("the selector failed").isTrue();
        for (TcpListener l : left) {
            assertThat(l.isOpen()).isFalse();
            assertThatThrownBy(() -> SocketChannel.open(l.localAddress()).close())
                    .as("nothing listens on %s any more", l.localAddress()).isInstanceOf(ConnectException.class);
        }
    }

    /**
     * A close from another thread, once the owner has ended, whose socket fails to close (faked) throws
     * the JDK's failure, and the listener or connection is closed all the same, as the JDK marks the
     * socket: they still said they were open, and a second close acted again.
     */
    @Test
    @Timeout(30)
    void aCloseFromAnotherThreadWhoseSocketFailsToCloseLeavesTheListenerAndTheConnectionClosed() throws Exception {
        UnclosableServerSocket listening = new UnclosableServerSocket();
        UnclosableSocket connected = new UnclosableSocket();
        AtomicReference<Object> got = new AtomicReference<>();
        Thread owner = Thread.ofPlatform().name("unclosable-owner").start(() -> {
            TcpConnection.Opener before = TcpConnection.opener;
            TcpConnection.opener = () -> connected;
            try {
                got.set(List.of(TcpListener.bind(LOOPBACK, false, () -> listening), TcpConnection.connect(LOOPBACK)));
            } catch (Throwable e) {
                got.set(e);
            } finally {
                TcpConnection.opener = before;
            }
        });
        owner.join();
        assertThat(got.get()).isInstanceOf(List.class);
        List<?> left = (List<?>) got.get();
        TcpListener listener = (TcpListener) left.get(0);
        TcpConnection connection = (TcpConnection) left.get(1);
        assertThatThrownBy(listener::close).isInstanceOf(IOException.class).hasMessage("faked: the close failed");
        assertThat(listening.isOpen()).isFalse();
        assertThat(listener.isOpen()).as("closed, as its socket").isFalse();
        assertThat(listener).hasToString("TcpListener[" + LOOPBACK + ", closed]");
        listener.close(); // twice is fine
        assertThatThrownBy(connection::close).isInstanceOf(IOException.class).hasMessage("faked: the close failed");
        assertThat(connected.isOpen()).isFalse();
        assertThat(connection.isOpen()).as("closed, as its socket").isFalse();
        assertThat(connection).hasToString("TcpConnection[" + LOOPBACK + " -> " + LOOPBACK + ", closed]");
        connection.close();
    }

    /** A server socket that binds at once, without a descriptor, and whose close fails. */
    private static final class UnclosableServerSocket extends StubServerSocketChannel {
        @Override
        public ServerSocketChannel bind(SocketAddress local, int backlog) {
            return this;
        }

        @Override
        public <T> ServerSocketChannel setOption(SocketOption<T> name, T value) {
            return this;
        }

        @Override
        public <T> T getOption(SocketOption<T> name) {
            return null;
        }

        @Override
        public SocketAddress getLocalAddress() {
            return LOOPBACK;
        }

        @Override
        protected void implCloseSelectableChannel() throws IOException {
            throw new IOException("faked: the close failed");
        }
    }


    /** A socket that connects at once, without a descriptor, and whose close fails. */
    private static final class UnclosableSocket extends StubSocketChannel {
        @Override
        public boolean connect(SocketAddress remote) {
            return true;
        }

        @Override
        protected void implCloseSelectableChannel() throws IOException {
            throw new IOException("faked: the close failed");
        }

        @Override
        public <T> SocketChannel setOption(SocketOption<T> name, T value) {
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
        public SocketAddress getRemoteAddress() {
            return LOOPBACK;
        }

        @Override
        public SocketAddress getLocalAddress() {
            return LOOPBACK;
        }
    }

    private static String describe(Thread t) {
        return "'" + t.getName() + "' (#" + t.threadId() + ")";
    }
}
