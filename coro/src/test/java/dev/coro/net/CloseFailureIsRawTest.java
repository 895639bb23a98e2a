package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.FreshThread;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A {@code close()} by the owner whose socket fails to close (faked) throws the JDK's exception itself,
 * unwrapped, as NET.md says, and leaves the connection or listener closed all the same, as the JDK marks
 * its socket: {@code isOpen()} false, its text {@code closed}, a second {@code close()} doing nothing,
 * and a later call failing as on any closed connection. In main and in a coroutine.
 */
@Tag("net")
@ExtendWith(FreshThread.class)
class CloseFailureIsRawTest {

    @Test
    @Timeout(30)
    void aConnectionsCloseThatTheJdkFailsThrowsItsExceptionUnwrappedAndLeavesTheConnectionClosedInMainAndInACoroutine()
            throws Exception {
        closeFails("main context 'main'");
        Crew crew = new Crew();
        crew.spawn("closer", () -> closeFails("coroutine 'closer'"));
        crew.join();
    }

    /** A connection on a socket whose close fails, closed by {@code caller}. */
    private static void closeFails(String caller) throws Exception {
        IOException faked = new IOException("faked: the close failed");
        UnclosableSocket socket = new UnclosableSocket(faked);
        TcpConnection.opener = () -> socket;
        TcpConnection c;
        try {
            c = TcpConnection.connect(new InetSocketAddress("127.0.0.1", 1));
        } finally {
            TcpConnection.opener = SocketChannel::open;
        }
        assertThatThrownBy(c::close).isSameAs(faked);
        assertThat(faked.getSuppressed()).isEmpty();
        assertThat(c.isOpen()).isFalse();
        assertThat(socket.isOpen()).isFalse();
        assertThat(c).hasToString("TcpConnection[/127.0.0.1:2 -> /127.0.0.1:1, closed]");
        c.close(); // twice is fine: nothing is closed again
        assertThatThrownBy(() -> c.write(bytes("x"))).isExactlyInstanceOf(IOException.class)
                .hasMessage(caller + " cannot write to connection /127.0.0.1:2 -> /127.0.0.1:1 (closed): java.nio.channels.ClosedChannelException")
                .hasCauseExactlyInstanceOf(ClosedChannelException.class);
    }

    @Test
    @Timeout(30)
    void aListenersCloseThatTheJdkFailsThrowsItsExceptionUnwrappedAndLeavesTheListenerClosed() throws Exception {
        IOException faked = new IOException("faked: the close failed");
        UnclosableServerSocket socket = new UnclosableServerSocket(faked);
        TcpListener listener = TcpListener.bind(LOOPBACK, false, () -> socket);
        assertThatThrownBy(listener::close).isSameAs(faked);
        assertThat(listener.isOpen()).isFalse();
        assertThat(socket.isOpen()).isFalse();
        assertThat(listener).hasToString("TcpListener[" + LOOPBACK + ", closed]");
        listener.close();
    }

    /** A socket that connects at once, without a descriptor, whose writes refuse once closed, and whose close fails (also for CloseFromAnotherThreadTest). */
    static final class UnclosableSocket extends StubSocketChannel {
        private final IOException failure;
        /** Run by its close, on the thread that closes it, just before the close fails. */
        private final Runnable onClose;

        UnclosableSocket(IOException failure) {
            this(failure, () -> { });
        }

        UnclosableSocket(IOException failure, Runnable onClose) {
            this.failure = failure;
            this.onClose = onClose;
        }

        @Override
        public boolean connect(SocketAddress remote) {
            return true;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            if (!isOpen()) {
                throw new ClosedChannelException();
            }
            int n = src.remaining();
            src.position(src.limit());
            return n;
        }

        @Override
        protected void implCloseSelectableChannel() throws IOException {
            onClose.run();
            throw failure;
        }

        @Override
        public <T> SocketChannel setOption(SocketOption<T> name, T value) {
            return this; // TCP_NODELAY, set as the connection is made
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

    /** A server socket that binds at once, without a descriptor, and whose close fails (also for CloseFromAnotherThreadTest). */
    static final class UnclosableServerSocket extends StubServerSocketChannel.BoundAtOnce {
        private final IOException failure;

        UnclosableServerSocket(IOException failure) {
            this.failure = failure;
        }

        @Override
        protected void implCloseSelectableChannel() throws IOException {
            throw failure;
        }
    }
}
