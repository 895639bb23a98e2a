package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static java.net.StandardSocketOptions.SO_LINGER;
import static java.net.StandardSocketOptions.SO_RCVBUF;
import static java.net.StandardSocketOptions.SO_REUSEADDR;
import static java.net.StandardSocketOptions.SO_REUSEPORT;
import static java.net.StandardSocketOptions.TCP_NODELAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.FreshThread;
import java.io.IOException;
import java.net.BindException;
import java.net.SocketException;
import java.net.SocketOption;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A listener's socket options: set and read on its listening socket as the JDK's {@code ServerSocketChannel}
 * does, {@code SO_RCVBUF} inherited by the connections it accepts after it, {@code SO_REUSEPORT} left to the
 * bind, and every refusal naming the caller, the option, the listener and its state, as a connection's do
 * ({@link TcpConnectionTest}).
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class ListenerOptionsTest {

    /**
     * What a proxy needs for a large receive window: the listener's {@code SO_RCVBUF} is the buffer each
     * connection accepted after it starts with (Linux chooses the window scale of its handshake from it). The
     * JDK reads back at least the size asked for (Linux doubles it and the JDK halves what it reads), and a
     * connection accepted after the set reads the very same; one accepted before keeps its own.
     */
    @Test
    @Timeout(30)
    void aReceiveBufferSetOnTheListenerIsInheritedByTheConnectionsItAcceptsAfterIt() throws Exception {
        int size = 100_000; // no system's default, and under Linux's default cap (net.core.rmem_max, 212992)
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel first = SocketChannel.open(listener.localAddress());
             TcpConnection early = listener.accept()) {
            int before = early.getOption(SO_RCVBUF);
            assertThat(listener.setOption(SO_RCVBUF, size)).isSameAs(listener);
            int set = listener.getOption(SO_RCVBUF);
            assertThat(set).isGreaterThanOrEqualTo(size).isNotEqualTo(before);
            try (SocketChannel second = SocketChannel.open(listener.localAddress());
                 TcpConnection late = listener.accept()) {
                assertThat(late.getOption(SO_RCVBUF)).as("accepted after the set").isEqualTo(set);
            }
            assertThat(early.getOption(SO_RCVBUF)).as("accepted before the set").isEqualTo(before);
        }
    }

    /**
     * {@code getOption} tells what the bind set: {@code SO_REUSEPORT} as {@code bind(address, true)} asked,
     * {@code SO_REUSEADDR} on (the JDK's); {@code SO_REUSEADDR} turned off is inherited off by the connections
     * accepted after it.
     */
    @Test
    @Timeout(30)
    void getOptionTellsWhatTheBindSetAndReuseAddrTurnedOffIsInheritedByTheConnectionsAcceptedAfter() throws Exception {
        try (TcpListener alone = TcpListener.bind(LOOPBACK);
             TcpListener shared = TcpListener.bind(LOOPBACK, true)) {
            assertThat(alone.getOption(SO_REUSEPORT)).isFalse();
            assertThat(shared.getOption(SO_REUSEPORT)).isTrue();
            assertThat(alone.getOption(SO_REUSEADDR)).as("the JDK's, on").isTrue();
            assertThat(alone.setOption(SO_REUSEADDR, false).getOption(SO_REUSEADDR)).isFalse();
            try (SocketChannel peer = SocketChannel.open(alone.localAddress());
                 TcpConnection c = alone.accept()) {
                assertThat(c.getOption(SO_REUSEADDR)).isFalse();
            }
        }
    }

    /**
     * {@code SO_REUSEPORT} is the bind's: set on a bound listener it is refused, saying so. The JDK would set
     * it, and Linux would then let a listener bound with it share this one's address, which a listener bound
     * without it shares with none: so a second bind with it still fails.
     */
    @Test
    @Timeout(30)
    void reusePortIsRefusedOnceBoundSayingTheBindSetsItAndTheListenerStillSharesItsAddressWithNone() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            String l = "listener " + listener.localAddress();
            assertThatThrownBy(() -> listener.setOption(SO_REUSEPORT, true))
                    .isExactlyInstanceOf(UnsupportedOperationException.class)
                    .hasMessage("main context 'main' cannot set SO_REUSEPORT of " + l
                            + " (open): it is set before the bind, and the listener is bound; bind(address, true) sets it")
                    .hasNoCause();
            assertThat(listener.getOption(SO_REUSEPORT)).isFalse();
            assertThatThrownBy(() -> TcpListener.bind(listener.localAddress(), true)).isInstanceOf(BindException.class);
            listener.close();
            assertThatThrownBy(() -> listener.setOption(SO_REUSEPORT, false))
                    .isExactlyInstanceOf(UnsupportedOperationException.class)
                    .hasMessage("main context 'main' cannot set SO_REUSEPORT of " + l
                            + " (closed): it is set before the bind, and the listener is bound; bind(address, true) sets it");
        }
    }

    @Test
    @Timeout(30)
    void onAClosedListenerAnOptionIsRefusedNamingTheCallerTheOptionTheListenerAndItsState() throws Exception {
        TcpListener listener = TcpListener.bind(LOOPBACK);
        String l = "listener " + listener.localAddress();
        listener.close();
        assertThatThrownBy(() -> listener.setOption(SO_RCVBUF, 100_000))
                .isExactlyInstanceOf(IOException.class)
                .hasMessage("main context 'main' cannot set SO_RCVBUF of " + l + " (closed): java.nio.channels.ClosedChannelException")
                .hasCauseExactlyInstanceOf(ClosedChannelException.class);
        assertThatThrownBy(() -> listener.getOption(SO_RCVBUF))
                .isExactlyInstanceOf(IOException.class)
                .hasMessage("main context 'main' cannot get SO_RCVBUF of " + l + " (closed): java.nio.channels.ClosedChannelException")
                .hasCauseExactlyInstanceOf(ClosedChannelException.class);
        assertThatThrownBy(() -> listener.setOption(TCP_NODELAY, true))
                .isExactlyInstanceOf(UnsupportedOperationException.class)
                .hasMessage("main context 'main' cannot set TCP_NODELAY of " + l
                        + " (closed): a listening TCP socket has no such option ('TCP_NODELAY' not supported)");
    }

    /** As every call that acts on a listener, and as a connection's options ({@link TcpConnectionTest}). */
    @Test
    @Timeout(30)
    void aCallFromAnotherThreadIsRefusedNamingBothThreadsAndTheListenerStaysAsItWas() throws Exception {
        Thread owner = Thread.currentThread();
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            int size = listener.getOption(SO_RCVBUF);
            List<String> refusals = new ArrayList<>();
            Thread t = Thread.ofPlatform().name("intruder").unstarted(() -> {
                refusals.add(refusal(() -> listener.setOption(SO_RCVBUF, size * 2)));
                refusals.add(refusal(() -> listener.getOption(SO_RCVBUF)));
            });
            t.start();
            t.join();
            String intruder = "thread 'intruder' (#" + t.threadId() + ")";
            String belongs = ": it belongs to thread '" + owner.getName() + "' (#" + owner.threadId() + ")";
            assertThat(refusals).containsExactly(
                    "IllegalStateException: " + intruder + " cannot set SO_RCVBUF of listener " + listener.localAddress() + " (open)" + belongs,
                    "IllegalStateException: " + intruder + " cannot get SO_RCVBUF of listener " + listener.localAddress() + " (open)" + belongs);
            assertThat(listener.getOption(SO_RCVBUF)).isEqualTo(size);
        }
    }

    /**
     * An option a listening socket does not have (a connection's: {@code TCP_NODELAY}, {@code SO_LINGER}) is
     * refused with {@code UnsupportedOperationException}, a value the option does not take with
     * {@code IllegalArgumentException}, each naming the caller, the option, the listener and its state (and
     * the value), the JDK's refusal its cause; the listener still accepts.
     */
    @Test
    @Timeout(30)
    void anOptionAListeningSocketLacksOrABadValueIsRefusedNamingTheCallerTheOptionTheListenerAndItsState() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            String l = "listener " + listener.localAddress();
            assertThatThrownBy(() -> listener.setOption(TCP_NODELAY, true))
                    .isExactlyInstanceOf(UnsupportedOperationException.class)
                    .hasMessage("main context 'main' cannot set TCP_NODELAY of " + l
                            + " (open): a listening TCP socket has no such option ('TCP_NODELAY' not supported)")
                    .hasCauseExactlyInstanceOf(UnsupportedOperationException.class);
            assertThatThrownBy(() -> listener.getOption(SO_LINGER))
                    .isExactlyInstanceOf(UnsupportedOperationException.class)
                    .hasMessage("main context 'main' cannot get SO_LINGER of " + l
                            + " (open): a listening TCP socket has no such option ('SO_LINGER' not supported)")
                    .hasCauseExactlyInstanceOf(UnsupportedOperationException.class);
            assertThatThrownBy(() -> listener.setOption(SO_RCVBUF, -1))
                    .isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessage("main context 'main' cannot set SO_RCVBUF of " + l + " (open) to -1: Invalid send/receive buffer size")
                    .hasCauseExactlyInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> listener.setOption(SO_REUSEADDR, null))
                    .isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessage("main context 'main' cannot set SO_REUSEADDR of " + l + " (open) to null: Invalid value 'null'");
            try (SocketChannel peer = SocketChannel.open(listener.localAddress());
                 TcpConnection c = listener.accept()) {
                assertThat(c.remoteAddress()).isEqualTo(peer.getLocalAddress());
            }
        }
    }

    @Test
    @Timeout(30)
    void aNullOptionIsRefusedWithANullPointerException() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            assertThatThrownBy(() -> listener.setOption(null, 1)).isExactlyInstanceOf(NullPointerException.class).hasMessage("option");
            assertThatThrownBy(() -> listener.getOption(null)).isExactlyInstanceOf(NullPointerException.class).hasMessage("option");
        }
    }

    /**
     * An option the JDK fails to set or read throws a {@code SocketException} naming the caller, the option
     * and the listener, the JDK's exception its cause: of its class when that is one of {@code java.net}'s, a
     * {@code SocketException} also when it is the plain {@code IOException}, as a connection's options do.
     */
    @Test
    @Timeout(30)
    void anOptionTheJdkFailsThrowsASocketExceptionNamingTheCallerTheOptionAndTheListener() throws Exception {
        SocketException refused = new SocketException("faked: Invalid argument");
        IOException plain = new IOException("faked: no system says this");
        try (TcpListener listener = TcpListener.bind(LOOPBACK, false, () -> new FailingOptions(refused, plain))) {
            String l = "listener " + LOOPBACK;
            assertThatThrownBy(() -> listener.setOption(SO_RCVBUF, 100_000)).isExactlyInstanceOf(SocketException.class)
                    .hasMessage("main context 'main' cannot set SO_RCVBUF of " + l + " (open): java.net.SocketException: faked: Invalid argument")
                    .cause().isSameAs(refused);
            assertThatThrownBy(() -> listener.getOption(SO_RCVBUF)).isExactlyInstanceOf(SocketException.class)
                    .hasMessage("main context 'main' cannot get SO_RCVBUF of " + l + " (open): java.io.IOException: faked: no system says this")
                    .cause().isSameAs(plain);
        }
    }

    /** A server socket that binds at once, without a descriptor, whose options fail: a set with one exception, a read with another. */
    private static final class FailingOptions extends StubServerSocketChannel.BoundAtOnce {
        private final IOException onSet;
        private final IOException onGet;

        FailingOptions(IOException onSet, IOException onGet) {
            this.onSet = onSet;
            this.onGet = onGet;
        }

        @Override
        public <T> ServerSocketChannel setOption(SocketOption<T> name, T value) throws IOException {
            throw onSet;
        }

        @Override
        public <T> T getOption(SocketOption<T> name) throws IOException {
            throw onGet;
        }
    }

    /** A call on a listener, which may fail with an {@code IOException}. */
    @FunctionalInterface
    private interface Call {
        void run() throws IOException;
    }

    /** What {@code call} throws: its class's simple name and its message. */
    private static String refusal(Call call) {
        try {
            call.run();
            return "no refusal";
        } catch (Throwable e) {
            return e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }
}
