package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.Coroutine;
import dev.coro.CoroutineTimeoutException;
import dev.coro.FreshThread;
import dev.coro.VirtualTime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code TcpConnection.connect(address, configurer)}: the configurer runs on the socket before its connect (its
 * options and its bind hold for the connection), what it throws comes out as it is with the socket closed, a socket
 * it leaves closed, connected or blocking is refused, a null one is refused before a socket is opened, and a
 * {@code withTimeout} around the connect closes the socket; every socket opened is accounted for.
 */
@Tag("net")
@ExtendWith(FreshThread.class)
class ConnectConfigurerTest {

    private final TcpConnection.Opener realOpener = TcpConnection.opener;
    private final NameLookup.Resolver realResolver = NameLookup.resolver;
    /** Every socket the connects opened, in order. */
    private final List<SocketChannel> opened = new ArrayList<>();

    ConnectConfigurerTest() {
        TcpConnection.opener = () -> {
            SocketChannel ch = realOpener.open();
            synchronized (opened) {
                opened.add(ch);
            }
            return ch;
        };
    }

    @AfterEach
    void restore() {
        TcpConnection.opener = realOpener;
        NameLookup.resolver = realResolver;
    }

    /** How many sockets the connects opened so far, and how many of them are open. */
    private String sockets() {
        synchronized (opened) {
            return opened.size() + " opened, " + opened.stream().filter(SocketChannel::isOpen).count() + " open";
        }
    }

    /**
     * The configurer sees the socket open, unconnected and non-blocking; the receive and send buffers it sets and the
     * local address it binds are the connection's, as the peer sees too.
     */
    @Test
    void theConfigurersOptionsAndBindHoldForTheConnection() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            List<String> seen = new ArrayList<>();
            int[] buffers = new int[2];
            SocketAddress[] bound = new SocketAddress[1];
            CompletableFuture<SocketAddress> peer = new CompletableFuture<>();
            Coroutine.create("acceptor", () -> {
                try (TcpConnection a = listener.accept()) {
                    peer.complete(a.remoteAddress());
                } catch (IOException e) {
                    peer.completeExceptionally(e);
                }
            });
            try (TcpConnection c = TcpConnection.connect(listener.localAddress(), ch -> {
                seen.add("open " + ch.isOpen() + ", connected " + ch.isConnected() + ", blocking " + ch.isBlocking());
                ch.setOption(StandardSocketOptions.SO_RCVBUF, 8192);
                ch.setOption(StandardSocketOptions.SO_SNDBUF, 16384);
                ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                ch.bind(new InetSocketAddress("127.0.0.1", 0));
                buffers[0] = ch.getOption(StandardSocketOptions.SO_RCVBUF);
                buffers[1] = ch.getOption(StandardSocketOptions.SO_SNDBUF);
                bound[0] = ch.getLocalAddress();
            })) {
                assertThat(seen).containsExactly("open true, connected false, blocking false");
                assertThat(c.getOption(StandardSocketOptions.SO_RCVBUF)).isEqualTo(buffers[0]);
                assertThat(c.getOption(StandardSocketOptions.SO_SNDBUF)).isEqualTo(buffers[1]);
                assertThat(c.getOption(StandardSocketOptions.SO_REUSEADDR)).isTrue();
                assertThat(c.localAddress()).isEqualTo(bound[0]);
                assertThat(Coroutine.await(peer)).isEqualTo(bound[0]);
                c.write(ByteBuffer.wrap(new byte[] {1}));
            }
            try (TcpConnection plain = TcpConnection.connect(listener.localAddress())) {
                assertThat(plain.getOption(StandardSocketOptions.SO_RCVBUF)).isNotEqualTo(buffers[0]); // the default differs
            }
        }
        assertThat(sockets()).isEqualTo("2 opened, 0 open");
    }

    /**
     * An {@code IOException} and a {@code RuntimeException} of the configurer come out as they are, the same objects,
     * its socket closed; no socket of the process is left open.
     */
    @Test
    void whatTheConfigurerThrowsComesOutAsItIsAndItsSocketIsClosed() throws Exception {
        long before = OpenSockets.count();
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            IOException refused = new IOException("no such interface");
            IllegalStateException broken = new IllegalStateException("the configurer's own mistake");
            Coroutine dialer = Coroutine.create("dialer", () -> {
                assertThat(catchThrowable(() -> TcpConnection.connect(listener.localAddress(), ch -> {
                    throw refused;
                }))).isSameAs(refused);
                assertThat(catchThrowable(() -> TcpConnection.connect("127.0.0.1",
                        ((InetSocketAddress) listener.localAddress()).getPort(), ch -> {
                            ch.setOption(StandardSocketOptions.SO_RCVBUF, 8192);
                            throw broken;
                        }))).isSameAs(broken);
                assertThat(catchThrowable(() -> TcpConnection.connect(listener.localAddress(),
                        ch -> ch.setOption(StandardSocketOptions.SO_RCVBUF, -1))))
                        .isInstanceOf(IllegalArgumentException.class); // the JDK's own, as it is
            });
            dialer.join();
            assertThat(dialer.state()).isEqualTo(Coroutine.State.FINISHED);
        }
        assertThat(sockets()).isEqualTo("3 opened, 0 open");
        assertThat(OpenSockets.count()).isEqualTo(before);
    }

    /** A null configurer is refused naming it, by both forms, before a socket is opened or a host looked up. */
    @Test
    void aNullConfigurerIsRefusedNamingItAndNoSocketIsOpened() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            assertThatThrownBy(() -> TcpConnection.connect(listener.localAddress(), null))
                    .isInstanceOf(NullPointerException.class).hasMessage("configurer");
            assertThatThrownBy(() -> TcpConnection.connect("localhost", 80, null))
                    .isInstanceOf(NullPointerException.class).hasMessage("configurer");
        }
        assertThat(sockets()).isEqualTo("0 opened, 0 open");
    }

    /**
     * A configurer that closes its socket, connects it or puts it in blocking mode is refused naming the caller, the
     * address and what it did; the socket is closed.
     */
    @Test
    void aConfigurerThatClosesConnectsOrBlocksItsSocketIsRefusedAndTheSocketClosed() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            SocketAddress address = listener.localAddress();
            String to = "coroutine 'dialer' cannot connect to " + address + ": its configurer ";
            String rule = "; a configurer sets options and binds, and leaves the socket open, unconnected and non-blocking";
            Coroutine dialer = Coroutine.create("dialer", () -> {
                assertThatThrownBy(() -> TcpConnection.connect(address, SocketChannel::close))
                        .isExactlyInstanceOf(IOException.class).hasMessage(to + "closed its socket" + rule);
                assertThatThrownBy(() -> TcpConnection.connect(address, ch -> ch.configureBlocking(true)))
                        .isExactlyInstanceOf(IllegalStateException.class).hasMessage(to + "put its socket in blocking mode"
                                + " (configureBlocking(true)), where the connect would block the thread and every coroutine"
                                + " of it" + rule);
                assertThatThrownBy(() -> TcpConnection.connect(address, ch -> ch.connect(address)))
                        .isExactlyInstanceOf(IllegalStateException.class)
                        .hasMessageStartingWith(to + "connected its socket (java.nio.channels.SocketChannel[")
                        .hasMessageEndingWith("remote=" + address + "])" + rule);
            });
            dialer.join();
            assertThat(dialer.state()).isEqualTo(Coroutine.State.FINISHED);
        }
        assertThat(sockets()).isEqualTo("3 opened, 0 open");
    }

    /**
     * For a host of two addresses the configurer runs on the socket of each address tried: its failure for the first
     * is a failure of that address, and the next is tried; failing for both, the first failure comes out as it is, the
     * second suppressed in it.
     */
    @Test
    void forAHostOfTwoAddressesTheConfigurerRunsOnEachSocketAndItsFailureMovesToTheNext() throws Exception {
        InetAddress local = InetAddress.ofLiteral("127.0.0.1");
        NameLookup.resolver = host -> new InetAddress[] {local, local};
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            int port = ((InetSocketAddress) listener.localAddress()).getPort();
            List<String> runs = new ArrayList<>();
            try (TcpConnection c = TcpConnection.connect("two.test", port, ch -> {
                runs.add("run " + runs.size());
                if (runs.size() == 1) {
                    throw new IOException("not this one");
                }
            })) {
                assertThat(c.isOpen()).isTrue();
            }
            assertThat(runs).containsExactly("run 0", "run 1");
            IOException first = new IOException("first");
            IOException second = new IOException("second");
            List<IOException> failures = new ArrayList<>(List.of(first, second));
            Throwable thrown = catchThrowable(() -> TcpConnection.connect("two.test", port, ch -> {
                throw failures.remove(0);
            }));
            assertThat(thrown).isSameAs(first);
            assertThat(thrown.getSuppressed()).containsExactly(second);
        }
        assertThat(sockets()).isEqualTo("4 opened, 0 open");
    }

    /**
     * A configurer that throws the very same {@code IOException} for each address of a host of two (a constant, say)
     * has it come out as it is, the same object: it is not suppressed in itself, which {@code Throwable} refuses with an
     * {@code IllegalArgumentException} that would take its place.
     */
    @Test
    void forAHostOfTwoAddressesTheSameExceptionThrownForBothComesOutAsItIsNotSuppressedInItself() throws Exception {
        InetAddress local = InetAddress.ofLiteral("127.0.0.1");
        NameLookup.resolver = host -> new InetAddress[] {local, local};
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            int port = ((InetSocketAddress) listener.localAddress()).getPort();
            IOException always = new IOException("no such interface");
            List<String> runs = new ArrayList<>();
            Throwable thrown = catchThrowable(() -> TcpConnection.connect("two.test", port, ch -> {
                runs.add("run " + runs.size());
                throw always;
            }));
            assertThat(thrown).isSameAs(always);
            assertThat(thrown.getSuppressed()).isEmpty();
            assertThat(runs).containsExactly("run 0", "run 1");
        }
        assertThat(sockets()).isEqualTo("2 opened, 0 open");
    }

    /**
     * A {@code withTimeout} that expires while a configured connect is in progress, under virtual time: the
     * configurer ran once, the signal names the connect, and its socket is closed.
     */
    @Test
    void aConfiguredConnectInProgressWhenItsTimeoutExpiresClosesItsSocket() throws Exception {
        List<String> trace = new ArrayList<>();
        try (FullBacklog full = new FullBacklog()) {
            SocketAddress busy = full.address();
            VirtualTime.run(() -> {
                try {
                    Coroutine.callWithTimeout(Duration.ofMillis(50), () -> TcpConnection.connect(busy, ch -> {
                        ch.setOption(StandardSocketOptions.SO_RCVBUF, 8192);
                        trace.add("configured");
                    }));
                    trace.add("connected");
                } catch (CoroutineTimeoutException e) {
                    trace.add(e.getCause().getMessage() + " at t=" + Coroutine.nanoTime());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
        assertThat(trace).hasSize(2);
        assertThat(trace.get(0)).isEqualTo("configured");
        assertThat(trace.get(1)).matches("main context '.*': its withTimeout\\(PT0\\.05S\\) expired; its connect to"
                + " /127\\.0\\.0\\.1:\\d+ throws this signal so that the body unwinds to it at t=50000000");
        assertThat(sockets()).isEqualTo("1 opened, 0 open");
    }

    /**
     * A configurer that parks (a sleep) runs inside the connect's {@code withTimeout}: the expiry there unwinds it, the
     * connect throws the timeout, and the socket it was given is closed.
     */
    @Test
    void aConfigurerThatParksIsCutShortByTheConnectsTimeoutAndItsSocketClosed() throws Exception {
        List<String> trace = new ArrayList<>();
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            SocketAddress address = listener.localAddress();
            VirtualTime.run(() -> {
                try {
                    Coroutine.callWithTimeout(Duration.ofMillis(50), () -> TcpConnection.connect(address, ch -> {
                        try {
                            Coroutine.sleep(Duration.ofSeconds(1));
                        } finally {
                            trace.add("configurer unwound, socket open " + ch.isOpen());
                        }
                    }));
                    trace.add("connected");
                } catch (CoroutineTimeoutException e) {
                    trace.add("timed out at t=" + Coroutine.nanoTime());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
        assertThat(trace).containsExactly("configurer unwound, socket open true", "timed out at t=50000000");
        assertThat(sockets()).isEqualTo("1 opened, 0 open");
    }

    /**
     * A listener whose backlog is full, with the filling connects that made it so: a connect to it stays in progress
     * (the kernel drops its first packet while the backlog is full), so its caller parks in {@code connect}.
     */
    private static final class FullBacklog implements AutoCloseable {
        final ServerSocketChannel listener = ServerSocketChannel.open().bind(LOOPBACK, 1);
        final List<SocketChannel> fillers = new ArrayList<>();

        FullBacklog() throws IOException {
            for (int i = 0; i < 2; i++) {
                fillers.add(SocketChannel.open(listener.getLocalAddress()));
            }
        }

        SocketAddress address() throws IOException {
            return listener.getLocalAddress();
        }

        @Override
        public void close() throws IOException {
            for (SocketChannel f : fillers) {
                f.close();
            }
            listener.close();
        }
    }
}
