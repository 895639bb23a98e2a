package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static dev.coro.net.TcpConnectionTest.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every public call of {@code dev.coro.net} made from the wrong place, one row each, as {@code WrongPlaceMatrixTest}
 * for {@code dev.coro}: from a thread other than the connection's or listener's, on one closed, shut down or
 * detached, or with a bad argument. Each is refused with the exception its Javadoc promises, whose message names
 * the caller, the call, the connection or listener and its state (a null argument: the parameter), and a connection
 * refused so still carries its bytes afterwards; nothing is left registered or waiting. Messages are compared whole,
 * a thread's number written {@code #N}, a loopback port {@code P} and the test's own thread {@code T}.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
@Timeout(30)
class WrongPlaceNetMatrixTest {

    /** A call made for a row; what it throws is the row's outcome. */
    @FunctionalInterface
    interface Call {
        void run() throws Throwable;
    }

    /** A call on a connection pair and its listener. */
    @FunctionalInterface
    interface OnPair {
        void run(Pair p) throws Throwable;
    }

    /** A row: sets up, makes the wrong call, checks what it left, and hands back what it threw. */
    @FunctionalInterface
    interface Row {
        Throwable run() throws Throwable;
    }

    /** A listener, a connection to it (the one the rows call) and the connection it accepted. */
    record Pair(TcpListener listener, TcpConnection client, TcpConnection server) implements AutoCloseable {
        static Pair open() throws IOException {
            TcpListener l = TcpListener.bind(LOOPBACK);
            TcpConnection c = TcpConnection.connect(l.localAddress());
            return new Pair(l, c, l.accept());
        }

        /** Checks that a byte written by the client still reaches the server, once. */
        void stillCarries() throws IOException {
            client.write(bytes("x"));
            ByteBuffer in = ByteBuffer.allocate(4);
            assertThat(server.read(in)).isEqualTo(1);
            assertThat(text(in)).isEqualTo("x");
        }

        @Override
        public void close() throws IOException {
            client.close();
            server.close();
            listener.close();
        }
    }

    private static Arguments row(String what, Class<? extends Throwable> type, String message, Row row) {
        return Arguments.of(what, type, message, row);
    }

    static Throwable thrownBy(Call call) {
        try {
            call.run();
        } catch (Throwable e) {
            return e;
        }
        return fail("the call was not refused");
    }

    /** What {@code call} threw on a new platform thread 'B'; a call that returned there fails the row. */
    static Throwable thrownOnB(Call call) throws InterruptedException {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread b = Thread.ofPlatform().name("B").start(() -> thrown.set(thrownBy(call)));
        b.join();
        return thrown.get();
    }

    private static String normalized(String message) {
        return message.replaceAll("\\(#\\d+\\)", "(#N)").replaceAll("/127\\.0\\.0\\.1:\\d+", "/127.0.0.1:P")
                .replace("'" + Thread.currentThread().getName() + "'", "'T'");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void fromAnotherThread(String what, Class<? extends Throwable> type, String message, Row row) throws Throwable {
        check(what, type, message, row);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void onAClosedShutOrDetachedConnection(String what, Class<? extends Throwable> type, String message, Row row) throws Throwable {
        check(what, type, message, row);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void withABadArgument(String what, Class<? extends Throwable> type, String message, Row row) throws Throwable {
        check(what, type, message, row);
    }

    private static void check(String what, Class<? extends Throwable> type, String message, Row row) throws Throwable {
        Throwable thrown = row.run();
        assertThat(thrown).as(what).isInstanceOf(type);
        assertThat(normalized(String.valueOf(thrown.getMessage()))).as(what).isEqualTo(message);
        assertThat(LoopProbe.ioWaits()).as(what + ": no I/O wait left").isZero();
    }

    private static final String CONNECTION = "connection /127.0.0.1:P -> /127.0.0.1:P";
    private static final String LISTENER = "listener /127.0.0.1:P";

    static Stream<Arguments> fromAnotherThread() {
        return Stream.of(
                fromB("read", "read from " + CONNECTION, p -> p.client.read(ByteBuffer.allocate(4))),
                fromB("write", "write to " + CONNECTION, p -> p.client.write(bytes("y"))),
                fromB("shutdownOutput", "shut down the output of " + CONNECTION, p -> p.client.shutdownOutput()),
                fromB("setOption", "set SO_KEEPALIVE of " + CONNECTION, p -> p.client.setOption(StandardSocketOptions.SO_KEEPALIVE, true)),
                fromB("getOption", "get SO_KEEPALIVE of " + CONNECTION, p -> p.client.getOption(StandardSocketOptions.SO_KEEPALIVE)),
                fromB("detach", "detach " + CONNECTION, p -> p.client.detach()),
                fromB("input's read", "read from " + CONNECTION, p -> p.client.input().read()),
                fromB("input's available", "count the bytes available on " + CONNECTION, p -> p.client.input().available()),
                fromB("input's skip of nothing", "read from " + CONNECTION, p -> p.client.input().skip(0)),
                fromB("input's mark", "mark the input of " + CONNECTION, p -> p.client.input().mark(1)),
                fromB("input's reset", "reset the input of " + CONNECTION, p -> p.client.input().reset()),
                fromB("output's write", "write to " + CONNECTION, p -> p.client.output().write(1)),
                fromB("output's write of nothing", "write to " + CONNECTION, p -> p.client.output().write(new byte[0])),
                fromB("accept", "accept on " + LISTENER, p -> p.listener.accept()),
                fromB("listener's setOption", "set SO_RCVBUF of " + LISTENER, p -> p.listener.setOption(StandardSocketOptions.SO_RCVBUF, 4096)),
                fromB("listener's getOption", "get SO_RCVBUF of " + LISTENER, p -> p.listener.getOption(StandardSocketOptions.SO_RCVBUF)));
    }

    /** A call on this thread's pair made from thread 'B': refused naming both threads; the pair still carries bytes. */
    private static Arguments fromB(String what, String op, OnPair call) {
        return row(what, IllegalStateException.class, "thread 'B' (#N) cannot " + op + " (open): it belongs to thread 'T' (#N)", () -> {
            try (Pair p = Pair.open()) {
                Throwable t = thrownOnB(() -> call.run(p));
                assertThat(p.client.isOpen()).isTrue();
                p.stillCarries();
                return t;
            }
        });
    }

    static Stream<Arguments> onAClosedShutOrDetachedConnection() {
        String closed = CONNECTION + " (closed): java.nio.channels.ClosedChannelException";
        return Stream.of(
                closedRow("read", IOException.class, "read from " + closed, p -> p.client.read(ByteBuffer.allocate(4))),
                closedRow("read into no room", IOException.class, "read from " + closed, p -> p.client.read(ByteBuffer.allocate(0))),
                closedRow("write", IOException.class, "write to " + closed, p -> p.client.write(bytes("y"))),
                closedRow("write of nothing", IOException.class, "write to " + closed, p -> p.client.write(ByteBuffer.allocate(0))),
                closedRow("shutdownOutput", IOException.class, "shut down the output of " + closed, p -> p.client.shutdownOutput()),
                closedRow("setOption", IOException.class, "set SO_KEEPALIVE of " + closed,
                        p -> p.client.setOption(StandardSocketOptions.SO_KEEPALIVE, true)),
                closedRow("getOption", IOException.class, "get SO_KEEPALIVE of " + closed, p -> p.client.getOption(StandardSocketOptions.SO_KEEPALIVE)),
                closedRow("detach", IllegalStateException.class, "detach " + CONNECTION + " (closed): it is closed", p -> p.client.detach()),
                closedRow("input's read", IOException.class, "read from " + closed, p -> p.client.input().read()),
                closedRow("input's read of nothing", IOException.class, "read from " + closed, p -> p.client.input().read(new byte[0])),
                closedRow("input's available", IOException.class, "count the bytes available on " + closed, p -> p.client.input().available()),
                closedRow("input's skip of nothing", IOException.class, "read from " + closed, p -> p.client.input().skip(0)),
                closedRow("output's write", IOException.class, "write to " + closed, p -> p.client.output().write(1)),
                closedRow("output's write of nothing", IOException.class, "write to " + closed, p -> p.client.output().write(new byte[0])),
                row("accept on a closed listener", IOException.class,
                        "main context 'main' cannot accept on " + LISTENER + " (closed): java.nio.channels.ClosedChannelException", () -> {
                            try (Pair p = Pair.open()) {
                                p.listener.close();
                                return thrownBy(p.listener::accept);
                            }
                        }),
                row("write after shutdownOutput", IOException.class, "main context 'main' cannot write to " + CONNECTION
                        + " (open, output shut down): java.nio.channels.AsynchronousCloseException", () -> {
                            try (Pair p = Pair.open()) {
                                p.client.shutdownOutput();
                                Throwable t = thrownBy(() -> p.client.write(bytes("y")));
                                assertThat(p.server.read(ByteBuffer.allocate(4))).as("the peer reads the end of the stream, nothing more").isEqualTo(-1);
                                return t;
                            }
                        }),
                row("read of a detached connection", IOException.class, "main context 'main' cannot read from " + CONNECTION
                        + " (detached): its channel was handed on by detach(); use the connection adopt(channel) made of it", () -> {
                            try (Pair p = Pair.open(); SocketChannel ch = p.client.detach()) {
                                Throwable t = thrownBy(() -> p.client.read(ByteBuffer.allocate(4)));
                                assertThat(ch.isOpen()).as("the channel handed on is left open").isTrue();
                                return t;
                            }
                        }),
                row("a second detach", IllegalStateException.class,
                        "main context 'main' cannot detach " + CONNECTION + " (detached): it was detached already", () -> {
                            try (Pair p = Pair.open(); SocketChannel ch = p.client.detach()) {
                                return thrownBy(p.client::detach);
                            }
                        }));
    }

    /** A call on a closed connection: refused with {@code type}, naming the caller, the call, the connection and its state. */
    private static Arguments closedRow(String what, Class<? extends Throwable> type, String op, OnPair call) {
        return row(what, type, "main context 'main' cannot " + op, () -> {
            try (Pair p = Pair.open()) {
                p.client.close();
                Throwable t = thrownBy(() -> call.run(p));
                if (type == IOException.class) {
                    assertThat(t.getCause()).as("the JDK's exception its cause").isInstanceOf(ClosedChannelException.class);
                }
                return t;
            }
        });
    }

    static Stream<Arguments> withABadArgument() {
        return Stream.of(
                nullRow("read's buffer", "dst", p -> p.client.read(null)),
                nullRow("write's buffer", "src", p -> p.client.write(null)),
                nullRow("setOption's option", "option", p -> p.client.setOption(null, 1)),
                nullRow("getOption's option", "option", p -> p.client.getOption(null)),
                nullRow("the listener's setOption's option", "option", p -> p.listener.setOption(null, 1)),
                nullRow("input's read's array", "b", p -> p.client.input().read(null, 0, 1)),
                nullRow("output's write's array", "b", p -> p.client.output().write(null)),
                nullRow("transferTo's stream", "out", p -> p.client.input().transferTo(null)),
                nullRow("connect's address", "address", p -> TcpConnection.connect(null)),
                nullRow("connect's host", "host", p -> TcpConnection.connect(null, 80)),
                nullRow("a configured connect's address", "address", p -> TcpConnection.connect(null, ch -> { })),
                nullRow("connect's configurer", "configurer", p -> TcpConnection.connect(p.listener.localAddress(), null)),
                nullRow("a configured connect's host", "host", p -> TcpConnection.connect(null, 80, ch -> { })),
                nullRow("connect's configurer of a host", "configurer", p -> TcpConnection.connect("localhost", 80, null)),
                nullRow("bind's address", "address", p -> TcpListener.bind(null)),
                nullRow("adopt's channel", "channel", p -> TcpConnection.adopt(null)),
                nullRow("await's channel", "channel", p -> Io.await(null, SelectionKey.OP_READ)),
                onPair("a read-only buffer", IllegalArgumentException.class, "main context 'main' cannot read from " + CONNECTION
                        + " (open) into a read-only buffer: the bytes read must be written into it",
                        p -> p.client.read(ByteBuffer.allocate(4).asReadOnlyBuffer())),
                onPair("an input range past the array", IndexOutOfBoundsException.class, "main context 'main' cannot read from " + CONNECTION
                        + " (open): offset 0 and length 5 do not fit an array of length 4", p -> p.client.input().read(new byte[4], 0, 5)),
                onPair("a negative length to readNBytes", IllegalArgumentException.class, "main context 'main' cannot read from " + CONNECTION
                        + " (open): a length of -1 bytes is negative", p -> p.client.input().readNBytes(-1)),
                onPair("an output range past the array", IndexOutOfBoundsException.class, "main context 'main' cannot write to " + CONNECTION
                        + " (open): offset 2 and length 5 do not fit an array of length 4", p -> p.client.output().write(new byte[4], 2, 5)),
                onPair("a null option value", IllegalArgumentException.class, "main context 'main' cannot set SO_KEEPALIVE of " + CONNECTION
                        + " (open) to null: Invalid value 'null'", p -> p.client.setOption(StandardSocketOptions.SO_KEEPALIVE, null)),
                onPair("a port out of range", IllegalArgumentException.class,
                        "main context 'main' cannot connect to localhost:65536: the port is out of range (0 to 65535)",
                        p -> TcpConnection.connect("localhost", 65536)),
                onPair("a port out of range of a configured connect", IllegalArgumentException.class,
                        "main context 'main' cannot connect to localhost:65536: the port is out of range (0 to 65535)",
                        p -> TcpConnection.connect("localhost", 65536, ch -> {
                            throw new AssertionError("configured");
                        })),
                onPair("a configured connect to an address that is no IP address", IllegalArgumentException.class,
                        "main context 'main' cannot connect to /tmp/coro-no.sock: TCP needs an InetSocketAddress, not a UnixDomainSocketAddress",
                        p -> TcpConnection.connect(UnixDomainSocketAddress.of("/tmp/coro-no.sock"), ch -> {
                            throw new AssertionError("configured");
                        })),
                onPair("a connect to an address that is no IP address", IllegalArgumentException.class,
                        "main context 'main' cannot connect to /tmp/coro-no.sock: TCP needs an InetSocketAddress, not a UnixDomainSocketAddress",
                        p -> TcpConnection.connect(UnixDomainSocketAddress.of("/tmp/coro-no.sock"))),
                onPair("a bind to an unresolved address", UnknownHostException.class,
                        "main context 'main' cannot bind a listener to localhost/<unresolved>:0: its host name is not resolved",
                        p -> TcpListener.bind(InetSocketAddress.createUnresolved("localhost", 0))),
                onPair("an adopt of a socket never connected", IllegalArgumentException.class,
                        "main context 'main' cannot adopt java.nio.channels.SocketChannel[unconnected]: it is not connected; connect it first", p -> {
                            try (SocketChannel ch = SocketChannel.open()) {
                                TcpConnection.adopt(ch);
                            }
                        }),
                onPair("an adopt of a closed socket", IOException.class,
                        "main context 'main' cannot adopt java.nio.channels.SocketChannel[closed]: it is closed", p -> {
                            SocketChannel ch = SocketChannel.open();
                            ch.close();
                            TcpConnection.adopt(ch);
                        }),
                onPair("an adopt of a channel a connection holds", IllegalArgumentException.class,
                        "main context 'main' cannot adopt java.nio.channels.SocketChannel[connected local=/127.0.0.1:P remote=/127.0.0.1:P]: "
                                + CONNECTION + " (open) of thread 'T' (#N) holds it already; detach() that connection to hand the channel on", p -> {
                            SocketChannel ch = p.client.detach();
                            TcpConnection adopted = TcpConnection.adopt(ch);
                            try {
                                TcpConnection.adopt(ch);
                            } finally {
                                adopted.close();
                            }
                        }),
                onPair("an await of no operation", IllegalArgumentException.class,
                        "main context 'main' cannot await 0x0 on java.nio.channels.SocketChannel[unconnected]: it supports OP_READ|OP_WRITE|OP_CONNECT", p -> {
                            try (SocketChannel ch = SocketChannel.open()) {
                                ch.configureBlocking(false);
                                Io.await(ch, 0);
                            }
                        }),
                onPair("an await of an operation the channel lacks", IllegalArgumentException.class,
                        "main context 'main' cannot await OP_ACCEPT on java.nio.channels.SocketChannel[unconnected]: it supports OP_READ|OP_WRITE|OP_CONNECT", p -> {
                            try (SocketChannel ch = SocketChannel.open()) {
                                ch.configureBlocking(false);
                                Io.await(ch, SelectionKey.OP_ACCEPT);
                            }
                        }),
                onPair("an await of an accept on a listening channel never bound", IllegalArgumentException.class,
                        "main context 'main' cannot await OP_ACCEPT on sun.nio.ch.ServerSocketChannelImpl[unbound]: it is not bound; bind it first", p -> {
                            try (ServerSocketChannel ch = ServerSocketChannel.open()) {
                                ch.configureBlocking(false);
                                Io.await(ch, SelectionKey.OP_ACCEPT);
                            }
                        }),
                onPair("an await of a closed channel", ClosedChannelException.class,
                        "main context 'main' cannot await OP_READ on java.nio.channels.SocketChannel[closed] (closed): a closed channel is never ready", p -> {
                            SocketChannel ch = SocketChannel.open();
                            ch.close();
                            Io.await(ch, SelectionKey.OP_READ);
                        }));
    }

    /** A call with a null argument: a {@code NullPointerException} naming the parameter; the pair still carries bytes. */
    private static Arguments nullRow(String what, String parameter, OnPair call) {
        return onPair("null " + what, NullPointerException.class, parameter, call);
    }

    /** A bad call on a fresh pair (its thread then named as main): refused; the pair still carries bytes. */
    private static Arguments onPair(String what, Class<? extends Throwable> type, String message, OnPair call) {
        return row(what, type, message, () -> {
            try (Pair p = Pair.open()) {
                Throwable t = thrownBy(() -> call.run(p));
                if (p.client.isOpen()) {
                    p.stillCarries();
                }
                return t;
            }
        });
    }
}
