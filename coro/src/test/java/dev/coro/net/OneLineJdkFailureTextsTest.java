package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.FreshThread;
import java.io.IOException;
import java.net.BindException;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The failures of a connect, a bind and an accept name the JDK's exception on one line, as every other text
 * of the library names what it did not make: a line break in that exception's message is escaped, and one
 * without a message is named by its class, never as {@code null}. The JDK's failures are a test's.
 */
@Tag("net")
@ExtendWith(FreshThread.class)
class OneLineJdkFailureTextsTest {

    private final TcpConnection.Opener realOpener = TcpConnection.opener;
    private final TcpListener.Accepter realAccepter = TcpListener.accepter;

    @AfterEach
    void restore() {
        TcpConnection.opener = realOpener;
        TcpListener.accepter = realAccepter;
    }

    /** A connect and a bind whose socket cannot be opened name the JDK's exception on one line. */
    @Test
    void aConnectAndABindWhoseSocketCannotBeOpenedNameTheJdksFailureOnOneLine() {
        IOException none = new IOException("no descriptor\nleft");
        TcpConnection.opener = () -> {
            throw none;
        };
        assertThatThrownBy(() -> TcpConnection.connect(LOOPBACK)).isExactlyInstanceOf(IOException.class)
                .hasMessage("main context 'main' cannot connect to " + LOOPBACK + ": java.io.IOException: no descriptor\\nleft")
                .hasCause(none);
        assertThatThrownBy(() -> TcpListener.bind(LOOPBACK, false, () -> {
            throw none;
        })).isExactlyInstanceOf(IOException.class)
                .hasMessage("main context 'main' cannot bind a listener to " + LOOPBACK
                        + ": java.io.IOException: no descriptor\\nleft")
                .hasCause(none);
    }

    /** A bind that fails once its socket is open names the JDK's exception on one line, and closes the socket. */
    @Test
    void aBindThatFailsNamesTheJdksFailureOnOneLine() {
        BindException inUse = new BindException("Address already in use\r\nby another");
        FakeServerSocket socket = new FakeServerSocket(inUse, null);
        assertThatThrownBy(() -> TcpListener.bind(LOOPBACK, false, () -> socket)).isExactlyInstanceOf(BindException.class)
                .hasMessage(Callers.plainThread() + " cannot bind a listener to " + LOOPBACK
                        + ": java.net.BindException: Address already in use\\r\\nby another")
                .hasCause(inUse);
        assertThat(socket.isOpen()).as("the socket opened for the bind").isFalse();
    }

    /**
     * A platform that refuses {@code SO_REUSEPORT} with an exception of no message is refused naming that
     * exception's class where its message would stand, not {@code (null)}; one whose message spans lines, on one line.
     */
    @Test
    void aReusePortRefusalNamesTheJdksReasonOnOneLineOrByItsClass() {
        UnsupportedOperationException mute = new UnsupportedOperationException();
        assertThatThrownBy(() -> TcpListener.bind(LOOPBACK, true, () -> new FakeServerSocket(null, mute)))
                .isExactlyInstanceOf(UnsupportedOperationException.class)
                .hasMessage(Callers.plainThread() + " cannot bind a listener to " + LOOPBACK + " with SO_REUSEPORT: this "
                        + "platform's sockets do not support that option (java.lang.UnsupportedOperationException); bind a"
                        + " single listener without it")
                .hasCause(mute);
        UnsupportedOperationException twoLines = new UnsupportedOperationException("not\nsupported");
        assertThatThrownBy(() -> TcpListener.bind(LOOPBACK, true, () -> new FakeServerSocket(null, twoLines)))
                .isExactlyInstanceOf(UnsupportedOperationException.class)
                .hasMessage(Callers.plainThread() + " cannot bind a listener to " + LOOPBACK + " with SO_REUSEPORT: this "
                        + "platform's sockets do not support that option (not\\nsupported); bind a single listener"
                        + " without it")
                .hasCause(twoLines);
    }

    /** An accept the JDK fails names its exception on one line, and the listener stays open. */
    @Test
    @Timeout(30)
    void anAcceptTheJdkFailsNamesItsFailureOnOneLine() throws IOException {
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            IOException broken = new IOException("first line\nsecond line");
            TcpListener.accepter = channel -> {
                throw broken;
            };
            assertThatThrownBy(listener::accept).isExactlyInstanceOf(IOException.class)
                    .hasMessage("main context 'main' cannot accept on listener " + listener.localAddress()
                            + " (open): java.io.IOException: first line\\nsecond line")
                    .hasCause(broken);
            assertThat(listener.isOpen()).isTrue();
        }
    }

    /** A server socket whose bind fails with {@code bindFailure} and whose {@code setOption} with {@code optionFailure}. */
    private static final class FakeServerSocket extends StubServerSocketChannel {
        private final IOException bindFailure;
        private final UnsupportedOperationException optionFailure;

        FakeServerSocket(IOException bindFailure, UnsupportedOperationException optionFailure) {
            this.bindFailure = bindFailure;
            this.optionFailure = optionFailure;
        }

        @Override
        public ServerSocketChannel bind(SocketAddress local, int backlog) throws IOException {
            throw bindFailure;
        }

        @Override
        public <T> ServerSocketChannel setOption(SocketOption<T> name, T value) {
            throw optionFailure;
        }

        @Override
        public Set<SocketOption<?>> supportedOptions() {
            return Set.of(StandardSocketOptions.SO_REUSEADDR);
        }
    }

}
