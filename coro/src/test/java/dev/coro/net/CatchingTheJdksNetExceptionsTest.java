package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static dev.coro.net.TcpConnectionTest.name;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Coroutine;
import dev.coro.Coroutine.State;
import dev.coro.FreshThread;
import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A connection's and a listener's failures on real loopback sockets keep the class of the JDK's exception
 * when it is one of {@code java.net}'s ({@code ConnectException}, {@code BindException},
 * {@code SocketException} …), so that the {@code catch} a user of {@code java.net.Socket} writes still
 * matches, with the library's message (the caller, the call, what it was made on and its state) and the
 * JDK's exception as its cause; the JDK's plain {@code IOException} of a write to a reset peer gives a
 * {@code SocketException}, as {@code java.net.Socket}'s stream makes it. Each in main and in a coroutine; the
 * calls a real socket cannot be made to fail so, on sockets of the test's. Before,
 * every failure was a plain {@code IOException}, and {@code catch (ConnectException e)} matched none.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class CatchingTheJdksNetExceptionsTest {

    @Test
    @Timeout(30)
    void aRefusedConnectThrowsAConnectExceptionNamingTheCallerAndTheAddressInMainAndInACoroutine() throws Exception {
        InetSocketAddress nobody;
        try (ServerSocketChannel bound = ServerSocketChannel.open().bind(LOOPBACK)) {
            nobody = (InetSocketAddress) bound.getLocalAddress(); // a port free again once closed: a connect to it is refused
        }
        Crew.inMainAndInACoroutine("client", caller -> {
            try {
                TcpConnection.connect(nobody).close();
                throw new AssertionError("connected to a closed port");
            } catch (ConnectException e) { // what a java.net.Socket user writes
                assertThat(e).isExactlyInstanceOf(ConnectException.class)
                        .hasMessage(caller + " cannot connect to " + nobody + ": java.net.ConnectException: Connection refused")
                        .cause().isExactlyInstanceOf(ConnectException.class).hasMessage("Connection refused");
            }
        });
    }

    @Test
    @Timeout(30)
    void aBindToAPortInUseThrowsABindExceptionNamingTheCallerAndTheAddressInMainAndInACoroutine() throws Exception {
        try (TcpListener first = TcpListener.bind(LOOPBACK)) {
            SocketAddress taken = first.localAddress();
            Crew.inMainAndInACoroutine("server", caller -> {
                try {
                    TcpListener.bind(taken).close();
                    throw new AssertionError("bound a port in use");
                } catch (BindException e) {
                    assertThat(e).isExactlyInstanceOf(BindException.class)
                            .hasMessage(caller + " cannot bind a listener to " + taken + ": java.net.BindException: Address already in use")
                            .cause().isExactlyInstanceOf(BindException.class).hasMessage("Address already in use");
                }
            });
            assertThat(first.isOpen()).isTrue();
        }
    }

    /** A read that the kernel tells of the reset, and the read after it, which the JDK tells again. */
    @Test
    @Timeout(30)
    void aReadAfterThePeerResetThrowsASocketExceptionNamingTheCallerAndTheConnectionInMainAndInACoroutine() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            Crew.inMainAndInACoroutine("reader", caller -> {
                try (SocketChannel peer = SocketChannel.open(listener.localAddress());
                     TcpConnection c = listener.accept()) {
                    peer.setOption(StandardSocketOptions.SO_LINGER, 0);
                    peer.close(); // linger 0: the close sends a reset, which loopback delivers before the close returns
                    try {
                        c.read(ByteBuffer.allocate(16));
                        throw new AssertionError("read after a reset");
                    } catch (SocketException e) {
                        assertThat(e).isExactlyInstanceOf(SocketException.class)
                                .hasMessage(caller + " cannot read from " + name(c) + " (open): java.net.SocketException: Connection reset")
                                .cause().isExactlyInstanceOf(SocketException.class).hasMessage("Connection reset");
                    }
                    assertThatThrownBy(() -> c.read(ByteBuffer.allocate(16))).isExactlyInstanceOf(SocketException.class)
                            .hasMessage(caller + " cannot read from " + name(c) + " (open, failed): java.net.SocketException: Connection reset")
                            .cause().isExactlyInstanceOf(SocketException.class);
                }
            });
        }
    }

    /**
     * The JDK's {@code SocketChannel} fails a write to a reset peer with a plain {@code IOException}
     * ({@code Connection reset by peer} or {@code Broken pipe}, as the kernel says), which
     * {@code java.net.Socket}'s stream makes a {@code SocketException}: so does the connection, for the
     * write and for the read after it, which finds the end of the stream and reports the write's failure
     * again, the JDK's exception the cause of both. Before, both were plain, and a
     * {@code catch (SocketException e)} moved from {@code java.net.Socket} missed them.
     */
    @Test
    @Timeout(30)
    void aWriteAfterThePeerResetThrowsASocketExceptionAsJavaNetSocketDoesAndSoDoesTheReadThatReportsItAgainInMainAndInACoroutine()
            throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            Crew.inMainAndInACoroutine("writer", caller -> {
                try (SocketChannel peer = SocketChannel.open(listener.localAddress());
                     TcpConnection c = listener.accept()) {
                    peer.setOption(StandardSocketOptions.SO_LINGER, 0);
                    peer.close();
                    IOException write = thrown(() -> c.write(bytes("x")));
                    Throwable jdk = write.getCause();
                    assertThat(jdk).as("the kernel's report of the reset, as the JDK gives it").isExactlyInstanceOf(IOException.class);
                    assertThat(write).isExactlyInstanceOf(SocketException.class)
                            .hasMessage(caller + " cannot write to " + name(c) + " (open): " + jdk);
                    IOException read = thrown(() -> c.read(ByteBuffer.allocate(16)));
                    assertThat(read).isExactlyInstanceOf(SocketException.class)
                            .hasMessage(caller + " cannot read from " + name(c) + " (open, failed): " + jdk
                                    + ", reported to an earlier call; the end of the stream that follows it is not the peer's")
                            .cause().isSameAs(jdk);
                    IOException again = thrown(() -> c.write(bytes("y")));
                    assertThat(again).as("the write after it: whatever the kernel says then, of the class a Socket gives")
                            .isInstanceOf(SocketException.class)
                            .hasMessage(caller + " cannot write to " + name(c) + " (open, failed): " + again.getCause());
                }
            });
        }
    }

    /**
     * A {@code readNBytes} of the input view that read some bytes when the peer reset the connection throws
     * the read's {@code SocketException} itself, its class kept, with the count in an {@code IOException}
     * suppressed in it (its message, of the JDK's class now, no longer takes the count).
     */
    @Test
    @Timeout(30)
    void aReadNBytesPartWayWhenThePeerResetsThrowsTheSocketExceptionWithTheCountSuppressedInItInMainAndInACoroutine()
            throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            // in main: a coroutine resets the peer once main parks, having read the three bytes that came
            try (SocketChannel peer = SocketChannel.open(listener.localAddress());
                 TcpConnection c = listener.accept()) {
                peer.write(bytes("abc"));
                Coroutine.create("resetter", () -> reset(peer));
                assertPartWayReset(c, "main context 'main'",
                        () -> c.input().readNBytes(new byte[10], 0, 10));
            }
            // in a coroutine: main resets the peer once the reader is parked
            try (SocketChannel peer = SocketChannel.open(listener.localAddress());
                 TcpConnection c = listener.accept()) {
                peer.write(bytes("abc"));
                Crew crew = new Crew();
                Coroutine reader = crew.spawn("reader", () -> assertPartWayReset(c, "coroutine 'reader'",
                        () -> c.input().readNBytes(new byte[10], 0, 10)));
                while (!reader.isFinished() && reader.state() != State.PARKED) {
                    Coroutine.yield();
                }
                assertThat(reader.state()).isEqualTo(State.PARKED);
                reset(peer);
                crew.join();
            }
        }
    }

    /** A call of a connection that throws, or a view's read. */
    @FunctionalInterface
    private interface Call {
        void call() throws IOException;
    }

    /** What {@code call} throws; fails if it returns. */
    private static IOException thrown(Call call) {
        try {
            call.call();
        } catch (IOException e) {
            return e;
        }
        throw new AssertionError("returned");
    }

    /** {@code read}, a {@code readNBytes} of 10 bytes of which 3 came before the reset, throws the reset itself, the count suppressed. */
    private static void assertPartWayReset(TcpConnection c, String caller, Call read) {
        assertThatThrownBy(read::call).isExactlyInstanceOf(SocketException.class)
                .hasMessage(caller + " cannot read from " + name(c) + " (open): java.net.SocketException: Connection reset")
                .hasCauseExactlyInstanceOf(SocketException.class)
                .extracting(Throwable::getSuppressed, InstanceOfAssertFactories.array(Throwable[].class))
                .singleElement(InstanceOfAssertFactories.THROWABLE).isExactlyInstanceOf(IOException.class)
                .hasMessage(caller + " failed reading from " + name(c)
                        + " (open, failed): 3 of the 10 bytes of this read were read into the array before it");
    }

    /** Resets the connection from the plain peer's side: a linger of 0, then a close, which sends the reset. */
    private static void reset(SocketChannel peer) {
        try {
            peer.setOption(StandardSocketOptions.SO_LINGER, 0);
            peer.close();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * A failure the connection remembers (the kernel tells one call of a reset, and the read after it
     * finds the end of the stream) is reported by that read in the remembered exception's class: a
     * socket of the test's whose write fails with a {@code SocketException} and whose read then finds
     * the end of the stream.
     */
    @Test
    @Timeout(30)
    void theRememberedFailureIsReportedByTheReadThatFindsTheEndOfTheStreamInItsOwnClass() throws Exception {
        SocketException reset = new SocketException("Connection reset");
        ResetOnWrite socket = new ResetOnWrite(reset);
        TcpConnection.opener = () -> socket;
        TcpConnection c;
        try {
            c = TcpConnection.connect(new InetSocketAddress("127.0.0.1", 1));
        } finally {
            TcpConnection.opener = SocketChannel::open;
        }
        try (c) {
            assertThatThrownBy(() -> c.write(bytes("x"))).isExactlyInstanceOf(SocketException.class)
                    .hasMessage("main context 'main' cannot write to " + name(c) + " (open): java.net.SocketException: Connection reset")
                    .cause().isSameAs(reset);
            assertThatThrownBy(() -> c.read(ByteBuffer.allocate(4))).isExactlyInstanceOf(SocketException.class)
                    .hasMessage("main context 'main' cannot read from " + name(c) + " (open, failed): java.net.SocketException:"
                            + " Connection reset, reported to an earlier call; the end of the stream that follows it is not the peer's")
                    .cause().isSameAs(reset);
        }
    }

    /**
     * The calls a real loopback socket cannot be made to fail with a {@code java.net} exception keep its
     * class as well: an option set or read, a shutdown of the output (on a socket of the test's) and an
     * accept (the listener's, failed by the test), each with the library's message and the JDK's
     * exception as its cause.
     */
    @Test
    @Timeout(30)
    void anOptionAShutdownAndAnAcceptThatTheJdkFailsWithASocketExceptionThrowOneNamingTheCallerAndTheCall() throws Exception {
        SocketException refused = new SocketException("faked: Invalid argument");
        ResetOnWrite socket = new ResetOnWrite(refused);
        TcpConnection.opener = () -> socket;
        TcpConnection c;
        try {
            c = TcpConnection.connect(new InetSocketAddress("127.0.0.1", 1));
        } finally {
            TcpConnection.opener = SocketChannel::open;
        }
        try (c) {
            assertThatThrownBy(() -> c.setOption(StandardSocketOptions.SO_KEEPALIVE, true)).isExactlyInstanceOf(SocketException.class)
                    .hasMessage("main context 'main' cannot set SO_KEEPALIVE of " + name(c) + " (open): java.net.SocketException:"
                            + " faked: Invalid argument")
                    .cause().isSameAs(refused);
            assertThatThrownBy(() -> c.getOption(StandardSocketOptions.SO_KEEPALIVE)).isExactlyInstanceOf(SocketException.class)
                    .hasMessage("main context 'main' cannot get SO_KEEPALIVE of " + name(c) + " (open): java.net.SocketException:"
                            + " faked: Invalid argument")
                    .cause().isSameAs(refused);
            assertThatThrownBy(c::shutdownOutput).isExactlyInstanceOf(SocketException.class)
                    .hasMessage("main context 'main' cannot shut down the output of " + name(c) + " (open): java.net.SocketException:"
                            + " faked: Invalid argument")
                    .cause().isSameAs(refused);
        }
        SocketException aborted = new SocketException("faked: Software caused connection abort");
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            TcpListener.accepter = channel -> {
                throw aborted;
            };
            try {
                assertThatThrownBy(listener::accept).isExactlyInstanceOf(SocketException.class)
                        .hasMessage("main context 'main' cannot accept on listener " + listener.localAddress()
                                + " (open): java.net.SocketException: faked: Software caused connection abort")
                        .cause().isSameAs(aborted);
            } finally {
                TcpListener.accepter = ServerSocketChannel::accept;
            }
        }
    }

    /**
     * The JDK's plain {@code IOException} from any call of an open connection gives a {@code SocketException},
     * told by its class alone, whatever its text (here one no system gives): a write, the read that finds
     * the end of the stream after it, an option set or read and a shutdown of the output, each with the
     * library's message and the JDK's exception as its cause, as {@code java.net.Socket} makes every
     * failure of its socket's I/O one. A subclass of {@code IOException} of no {@code java.net} class (a user's)
     * still gives a plain {@code IOException}.
     */
    @Test
    @Timeout(30)
    void theJdksPlainIOExceptionFromAnyCallOfAnOpenConnectionGivesASocketExceptionWhateverItsText() throws Exception {
        IOException plain = new IOException("faked: no system says this");
        TcpConnection c = connectedTo(new ResetOnWrite(plain));
        try (c) {
            assertThatThrownBy(() -> c.write(bytes("x"))).isExactlyInstanceOf(SocketException.class)
                    .hasMessage("main context 'main' cannot write to " + name(c) + " (open): java.io.IOException: faked: no system says this")
                    .cause().isSameAs(plain);
            assertThatThrownBy(() -> c.read(ByteBuffer.allocate(4))).isExactlyInstanceOf(SocketException.class)
                    .hasMessage("main context 'main' cannot read from " + name(c) + " (open, failed): java.io.IOException:"
                            + " faked: no system says this, reported to an earlier call; the end of the stream that follows it is not the peer's")
                    .cause().isSameAs(plain);
            assertThatThrownBy(() -> c.setOption(StandardSocketOptions.SO_KEEPALIVE, true)).isExactlyInstanceOf(SocketException.class)
                    .hasMessage("main context 'main' cannot set SO_KEEPALIVE of " + name(c) + " (open, failed): java.io.IOException:"
                            + " faked: no system says this")
                    .cause().isSameAs(plain);
            assertThatThrownBy(() -> c.getOption(StandardSocketOptions.SO_KEEPALIVE)).isExactlyInstanceOf(SocketException.class)
                    .hasMessage("main context 'main' cannot get SO_KEEPALIVE of " + name(c) + " (open, failed): java.io.IOException:"
                            + " faked: no system says this")
                    .cause().isSameAs(plain);
            assertThatThrownBy(c::shutdownOutput).isExactlyInstanceOf(SocketException.class)
                    .hasMessage("main context 'main' cannot shut down the output of " + name(c) + " (open, failed): java.io.IOException:"
                            + " faked: no system says this")
                    .cause().isSameAs(plain);
        }
        IOException users = new IOException("a user's") { };
        TcpConnection d = connectedTo(new ResetOnWrite(users));
        try (d) {
            assertThatThrownBy(() -> d.write(bytes("x"))).isExactlyInstanceOf(IOException.class)
                    .hasMessage("main context 'main' cannot write to " + name(d) + " (open): " + users)
                    .cause().isSameAs(users);
        }
    }

    /** A connection made on {@code socket}, a stub that connects at once. */
    private static TcpConnection connectedTo(SocketChannel socket) throws IOException {
        TcpConnection.opener = () -> socket;
        try {
            return TcpConnection.connect(new InetSocketAddress("127.0.0.1", 1));
        } finally {
            TcpConnection.opener = SocketChannel::open;
        }
    }

    /**
     * A connected socket whose write fails with {@code failure} and whose read finds the end of the stream;
     * its shutdown of the output and its option {@code SO_KEEPALIVE}, set or read, fail with {@code failure} too.
     */
    private static final class ResetOnWrite extends StubSocketChannel {
        private final IOException failure;

        ResetOnWrite(IOException failure) {
            this.failure = failure;
        }

        @Override
        public boolean connect(SocketAddress remote) {
            return true;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            throw failure;
        }

        @Override
        public int read(ByteBuffer dst) {
            return -1;
        }

        @Override
        protected void implCloseSelectableChannel() {
        }

        @Override
        public <T> SocketChannel setOption(java.net.SocketOption<T> name, T value) throws IOException {
            if (name == StandardSocketOptions.SO_KEEPALIVE) {
                throw failure;
            }
            return this; // TCP_NODELAY, set as the connection is made
        }

        @Override
        public <T> T getOption(java.net.SocketOption<T> name) throws IOException {
            throw failure;
        }

        @Override
        public SocketChannel shutdownOutput() throws IOException {
            throw failure;
        }

        @Override
        public boolean isConnected() {
            return true;
        }

        @Override
        public SocketAddress getRemoteAddress() {
            return new InetSocketAddress("127.0.0.1", 1);
        }

        @Override
        public SocketAddress getLocalAddress() {
            return new InetSocketAddress("127.0.0.1", 2);
        }
    }
}
