package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static dev.coro.net.TcpConnectionTest.name;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Coroutine;
import dev.coro.Coroutine.State;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import dev.coro.PoolsClosed;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.net.StandardSocketOptions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A connection {@code adopt} made of a {@code SocketChannel} whose user then closes that channel itself, behind the
 * connection's back: the connection reads as closed at once ({@code isOpen()}, {@code toString()}, the state its
 * messages name), every call on it fails naming the caller, the call, the state {@code closed} and why, a read or a
 * write parked on it fails naming its own caller so, and its {@code close()} still ends it.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith({FreshThread.class, PoolsClosed.class})
@Timeout(30)
class ClosedBehindTheConnectionTest {

    /** What a call on {@code c} is told once its channel was closed behind it, after the call. */
    private static String closedBehind(TcpConnection c) {
        return name(c) + " (closed): its SocketChannel was closed behind the connection's back, not by its close()";
    }

    @Test
    void isOpenAndToStringSayClosedAtOnceWhenTheAdoptedChannelIsClosedBehindTheConnection() throws Exception {
        try (ServerSocketChannel plain = ServerSocketChannel.open().bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(plain.getLocalAddress())) {
            SocketChannel raw = plain.accept();
            try (TcpConnection c = TcpConnection.adopt(raw)) {
                raw.close();
                assertThat(c.isOpen()).isFalse();
                assertThat(c).hasToString("TcpConnection[" + c.localAddress() + " -> " + c.remoteAddress() + ", closed]");
            }
        }
    }

    @Test
    void aCloseOfTheAdoptedChannelByAnotherThreadIsSeenByIsOpenAtOnce() throws Exception {
        try (ServerSocketChannel plain = ServerSocketChannel.open().bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(plain.getLocalAddress())) {
            SocketChannel raw = plain.accept();
            try (TcpConnection c = TcpConnection.adopt(raw)) {
                Thread closer = Thread.ofPlatform().name("closer").start(() -> {
                    try {
                        raw.close();
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                closer.join();
                assertThat(c.isOpen()).isFalse();
            }
        }
    }

    @Test
    void everyCallOnAConnectionWhoseChannelWasClosedBehindItFailsNamingTheCallerTheCallAndTheStateClosed() throws Exception {
        try (ServerSocketChannel plain = ServerSocketChannel.open().bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(plain.getLocalAddress())) {
            SocketChannel raw = plain.accept();
            try (TcpConnection c = TcpConnection.adopt(raw)) {
                raw.close();
                String main = "main context 'main' cannot ";
                List<String> failures = new ArrayList<>();
                for (Call call : List.<Call>of(
                        () -> c.read(ByteBuffer.allocate(1)),
                        () -> c.read(ByteBuffer.allocate(0)),
                        () -> c.write(bytes("x")),
                        () -> c.write(ByteBuffer.allocate(0)),
                        c::shutdownOutput,
                        () -> c.setOption(StandardSocketOptions.SO_KEEPALIVE, true),
                        () -> c.getOption(StandardSocketOptions.SO_KEEPALIVE),
                        () -> c.input().available(),
                        () -> c.input().read(),
                        () -> c.input().readAllBytes(),
                        () -> c.input().readNBytes(4),
                        () -> c.input().skip(3),
                        () -> c.input().transferTo(OutputStream.nullOutputStream()),
                        () -> c.output().write(1))) {
                    try {
                        call.call();
                        failures.add("returned");
                    } catch (IOException e) {
                        assertThat(e).isExactlyInstanceOf(IOException.class);
                        failures.add(e.getMessage());
                    }
                }
                assertThat(failures).containsExactly(
                        main + "read from " + closedBehind(c),
                        main + "read from " + closedBehind(c),
                        main + "write to " + closedBehind(c),
                        main + "write to " + closedBehind(c),
                        main + "shut down the output of " + closedBehind(c),
                        main + "set SO_KEEPALIVE of " + closedBehind(c),
                        main + "get SO_KEEPALIVE of " + closedBehind(c),
                        main + "count the bytes available on " + closedBehind(c),
                        main + "read from " + closedBehind(c),
                        main + "read from " + closedBehind(c),
                        main + "read from " + closedBehind(c),
                        main + "read from " + closedBehind(c),
                        main + "read from " + closedBehind(c),
                        main + "write to " + closedBehind(c));
                assertThatThrownBy(c::detach).isExactlyInstanceOf(IllegalStateException.class)
                        .hasMessage(main + "detach " + closedBehind(c));
            }
        }
    }

    @Test
    void aReadWhosePreviousReadEmptiedTheSocketFailsAsClosedBehindTheConnectionNotAsAClosedChannel() throws Exception {
        try (ServerSocketChannel plain = ServerSocketChannel.open().bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(plain.getLocalAddress())) {
            SocketChannel raw = plain.accept();
            try (TcpConnection c = TcpConnection.adopt(raw)) {
                peer.write(bytes("ab"));
                ByteBuffer b = ByteBuffer.allocate(8);
                while (b.position() < 2) {
                    c.read(b);                                          // the last read got fewer than it asked for
                }
                raw.close();
                assertThatThrownBy(() -> c.read(ByteBuffer.allocate(1))).isExactlyInstanceOf(IOException.class)
                        .hasMessage("main context 'main' cannot read from " + closedBehind(c));
            }
        }
    }

    /**
     * The JDK tells no selector of a close of a registered channel (its key is cancelled, and the descriptor closed
     * at the selector's next select, which reports nothing of it): the loop finds it by its scan of the waits, about
     * once a second, and fails them, each naming its own caller, its call and the state {@code closed}.
     */
    @Test
    void aReadAndAWriteParkedOnTheConnectionWhenItsChannelIsClosedBehindItFailNamingEachItsCallerAndTheStateClosed()
            throws Exception {
        try (ServerSocketChannel plain = ServerSocketChannel.open().bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(plain.getLocalAddress())) {
            SocketChannel raw = plain.accept();
            try (TcpConnection c = TcpConnection.adopt(raw)) {
                List<String> failures = new ArrayList<>();
                Coroutine reader = Coroutine.create("reader", () -> {
                    try {
                        c.read(ByteBuffer.allocate(1));
                        failures.add("read returned");
                    } catch (IOException e) {
                        failures.add(e.getClass().getName() + ": " + e.getMessage());
                    }
                });
                Coroutine writer = Coroutine.create("writer", () -> {
                    try {
                        c.write(ByteBuffer.allocate(64 << 20));         // more than the socket takes: parks part way
                        failures.add("write returned");
                    } catch (IOException e) {
                        failures.add(e.getClass().getName() + ": " + e.getMessage());
                    }
                });
                while (reader.state() != State.PARKED || writer.state() != State.PARKED) {
                    Coroutine.yield();
                }
                raw.close();
                reader.join();
                writer.join();
                String tail = closedBehind(c).replace(", not by its close()", " while it waited");
                assertThat(failures).containsExactlyInAnyOrder(
                        "java.io.IOException: coroutine 'reader' cannot read from " + tail,
                        "java.io.IOException: coroutine 'writer' cannot write to " + tail);
                assertThat(LoopProbe.ioWaits()).isZero();
            }
        }
    }

    @Test
    void theConnectionsCloseAfterItsChannelWasClosedBehindItEndsItAndASecondCloseDoesNothing() throws Exception {
        try (ServerSocketChannel plain = ServerSocketChannel.open().bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(plain.getLocalAddress())) {
            SocketChannel raw = plain.accept();
            TcpConnection c = TcpConnection.adopt(raw);
            raw.close();
            c.close();
            c.close();
            assertThat(c).hasToString("TcpConnection[" + c.localAddress() + " -> " + c.remoteAddress() + ", closed]");
            assertThatThrownBy(() -> c.read(ByteBuffer.allocate(1))).isExactlyInstanceOf(IOException.class)
                    .hasMessage("main context 'main' cannot read from " + name(c) + " (closed): "
                            + new ClosedChannelException());
            assertThat(peer.read(ByteBuffer.allocate(1))).as("the peer reads the end of the stream").isEqualTo(-1);
            assertThatThrownBy(() -> TcpConnection.adopt(raw)).isExactlyInstanceOf(IOException.class)
                    .hasMessage("main context 'main' cannot adopt " + raw + ": it is closed");
        }
    }

    /** A call of a connection. */
    @FunctionalInterface
    private interface Call {
        void call() throws IOException;
    }
}
