package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static dev.coro.net.TcpConnectionTest.name;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.Coroutine;
import dev.coro.FreshThread;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.UnsupportedAddressTypeException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What the network calls do with bad input and in bad states: a refused connect, a port in use, an
 * accept on a closed listener, a half-close of a closed connection, an empty buffer; and the
 * {@code java.io} views byte by byte, at the end of the stream and when closed.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class BadCallsTest {

    @Test
    void aRefusedConnectThrowsAnIOExceptionNamingTheCallerAndTheAddress() throws Exception {
        SocketAddress gone;
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            gone = listener.localAddress(); // nobody listens there once it is closed
        }
        List<String> log = new ArrayList<>();
        Coroutine.create("dialer", () -> {
            try {
                TcpConnection.connect(gone).close();
                log.add("connected");
            } catch (IOException e) {
                log.add(e.getMessage().substring(0, e.getMessage().indexOf(": ")) + " / "
                        + e.getCause().getClass().getSimpleName());
            }
        });
        while (log.isEmpty()) {
            Coroutine.yield(); // every 64th asks the selector: the dialer's connect completes, refused
        }
        assertThat(log).containsExactly("coroutine 'dialer' cannot connect to " + gone + " / "
                + ConnectException.class.getSimpleName());
    }

    /**
     * An address that TCP cannot use, not an IP address (a connect or a bind) or unresolved (a bind:
     * a connect looks its host up, {@link NameLookupTest}), is refused naming the caller, the call and
     * the address (as a {@code java.net.ServerSocket} refuses an unresolved one, with an
     * {@code UnknownHostException}), and no refusal leaves a socket open behind it.
     */
    @Test
    void anUnresolvedOrNonIpAddressIsRefusedNamingTheCallerAndTheAddressAndLeavesNoSocketOpen() throws Exception {
        InetSocketAddress unresolved = InetSocketAddress.createUnresolved("nowhere.invalid", 80);
        UnixDomainSocketAddress unix = UnixDomainSocketAddress.of("coro-test.sock");
        assertThatThrownBy(() -> TcpListener.bind(unresolved))
                .isInstanceOf(UnknownHostException.class)
                .hasMessage(Callers.plainThread() + " cannot bind a listener to " + unresolved + ": its host name is not resolved");
        assertThatThrownBy(() -> TcpConnection.connect(unix))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(Callers.plainThread() + " cannot connect to " + unix
                        + ": TCP needs an InetSocketAddress, not a UnixDomainSocketAddress");
        assertThatThrownBy(() -> TcpListener.bind(unix))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(Callers.plainThread() + " cannot bind a listener to " + unix
                        + ": TCP needs an InetSocketAddress, not a UnixDomainSocketAddress");

        long before = RegistrationTest.openDescriptors();
        for (int i = 0; i < 100; i++) {
            for (ThrowingCallable call : List.<ThrowingCallable>of(
                    () -> TcpListener.bind(unresolved),
                    () -> TcpConnection.connect(unix), () -> TcpListener.bind(unix))) {
                assertThatThrownBy(call).isInstanceOfAny(IOException.class, IllegalArgumentException.class);
            }
        }
        assertThat(RegistrationTest.openDescriptors()).as("descriptors open before 300 refusals: %d", before)
                .isLessThanOrEqualTo(before + 3);
    }

    /**
     * An IPv6 address where the JVM's sockets are IPv4 only ({@code java.net.preferIPv4Stack}, or a
     * host with no IPv6: {@code SocketChannel.open()} opens IPv4 sockets then, as the opener here does)
     * fails the connect with a {@code SocketException} naming the caller, the address and why, the JDK's
     * {@code UnsupportedAddressTypeException} its cause, and closes the socket. That exception, which
     * names nothing, had escaped bare: a runtime exception, past a caller's catch of the
     * {@code IOException} of a connect that cannot be made; then it was a plain {@code IOException}, where
     * a {@code java.net.Socket} throws a {@code SocketException} ({@code Protocol family unavailable}).
     */
    @Test
    @Timeout(20)
    void anIpv6AddressOnSocketsThatAreIpv4OnlyFailsTheConnectWithASocketExceptionNamingTheCallerAndTheAddress() throws Exception {
        InetSocketAddress v6 = new InetSocketAddress("::1", 9);
        List<SocketChannel> opened = new ArrayList<>();
        TcpConnection.Opener before = TcpConnection.opener;
        TcpConnection.opener = () -> {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.INET);
            opened.add(ch);
            return ch;
        };
        try {
            assertThatThrownBy(() -> TcpConnection.connect(v6))
                    .isExactlyInstanceOf(SocketException.class)
                    .hasMessage("main context 'main' cannot connect to " + v6 + ": this JVM's sockets are IPv4 only"
                            + " (java.net.preferIPv4Stack is set, or the host has no IPv6)")
                    .hasCauseExactlyInstanceOf(UnsupportedAddressTypeException.class);
        } finally {
            TcpConnection.opener = before;
        }
        assertThat(opened).hasSize(1);
        assertThat(opened.get(0).isOpen()).as("the socket of the failed connect").isFalse();
    }

    /**
     * A bind to an IPv6 address on sockets that are IPv4 only (here a socket opened for IPv4, as
     * {@code java.net.preferIPv4Stack} opens every one) fails as a bind that cannot be made, a
     * {@link SocketException} (as a {@code java.net.ServerSocket}'s, {@code Protocol family unavailable})
     * naming the caller, the address and why, and closes the socket; the JDK's own exception, which names
     * nothing and is no {@link IOException}, is its cause.
     */
    @Test
    @Timeout(20)
    void anIpv6AddressOnSocketsThatAreIpv4OnlyFailsTheBindWithASocketExceptionNamingTheCallerAndTheAddress() {
        InetSocketAddress v6 = new InetSocketAddress("::1", 0);
        List<ServerSocketChannel> opened = new ArrayList<>();
        TcpListener.Opener ipv4Only = () -> {
            ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.INET);
            opened.add(ch);
            return ch;
        };
        assertThatThrownBy(() -> TcpListener.bind(v6, false, ipv4Only))
                .isExactlyInstanceOf(SocketException.class)
                .hasMessage(Callers.plainThread() + " cannot bind a listener to " + v6 + ": this JVM's sockets are IPv4 only"
                        + " (java.net.preferIPv4Stack is set, or the host has no IPv6)")
                .hasCauseExactlyInstanceOf(UnsupportedAddressTypeException.class);
        assertThat(opened).hasSize(1);
        assertThat(opened.get(0).isOpen()).as("the socket of the failed bind").isFalse();
    }

    @Test
    void bindingToAPortInUseThrowsAnIOExceptionNamingTheAddress() throws Exception {
        try (TcpListener first = TcpListener.bind(LOOPBACK)) {
            SocketAddress taken = first.localAddress();
            assertThatThrownBy(() -> TcpListener.bind(taken))
                    .isInstanceOf(IOException.class)
                    .hasMessageStartingWith("main context 'main' cannot bind a listener to " + taken + ": ");
            assertThat(first.localAddress()).as("the first listener is untouched").isEqualTo(taken);
        }
    }

    @Test
    void anAcceptOnAClosedListenerThrowsAnIOExceptionNamingItsState() throws Exception {
        TcpListener listener = TcpListener.bind(LOOPBACK);
        SocketAddress address = listener.localAddress();
        listener.close();
        assertThatThrownBy(listener::accept)
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("main context 'main' cannot accept on listener " + address + " (closed): ")
                .hasCauseInstanceOf(ClosedChannelException.class);
    }

    @Test
    void aHalfCloseOfAClosedConnectionThrowsAnIOExceptionNamingItsState() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            String name = name(server);
            server.close();
            assertThatThrownBy(server::shutdownOutput)
                    .isInstanceOf(IOException.class)
                    .hasMessageStartingWith("main context 'main' cannot shut down the output of " + name + " (closed): ")
                    .hasCauseInstanceOf(ClosedChannelException.class);
            assertThat(client.read(ByteBuffer.allocate(1))).as("the peer sees the end of the stream").isEqualTo(-1);
        }
    }

    /**
     * A null buffer is refused naming the parameter, as every other null argument of the library is,
     * before the thread check or any read or write; the connection stays usable.
     */
    @Test
    void aNullBufferIsRefusedNamingTheParameter() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            assertThatThrownBy(() -> server.read(null)).isExactlyInstanceOf(NullPointerException.class).hasMessage("dst");
            assertThatThrownBy(() -> client.write(null)).isExactlyInstanceOf(NullPointerException.class).hasMessage("src");
            client.write(bytes("ok"));
            ByteBuffer into = ByteBuffer.allocate(2);
            while (into.hasRemaining()) {
                server.read(into);
            }
            assertThat(into.flip()).isEqualTo(bytes("ok"));
        }
    }

    /**
     * A null array given to a {@code java.io} view is refused naming the parameter, as a null
     * buffer is, before anything is read, written or waited for (the JVM's own text names only an
     * array length it could not read); the connection stays usable.
     */
    @Test
    void aNullArrayGivenToAViewIsRefusedNamingTheParameter() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            InputStream in = server.input();
            OutputStream out = client.output();
            List<ThrowingCallable> calls = List.of(
                    () -> in.read(null),
                    () -> in.read(null, 0, 0),
                    () -> in.readNBytes(null, 0, 0),
                    () -> out.write(null),
                    () -> out.write(null, 0, 0));
            for (ThrowingCallable call : calls) {
                assertThatThrownBy(call).isExactlyInstanceOf(NullPointerException.class).hasMessage("b");
            }
            out.write(new byte[] {'o', 'k'});
            assertThat(in.readNBytes(2)).as("the connection still works").isEqualTo(new byte[] {'o', 'k'});
        }
    }

    /**
     * A range that does not fit the array given to a {@code java.io} view (a negative offset or
     * length, or one past its end) is refused with the {@code IndexOutOfBoundsException} that
     * {@code InputStream} and {@code OutputStream} promise, but naming the caller, the call, the
     * connection, its state and the range (the JDK's check names none of them), before anything is
     * read, written or waited for; the connection stays usable.
     */
    @Test
    void aRangeThatDoesNotFitAViewsArrayIsRefusedNamingTheCallerTheCallTheConnectionAndTheRange() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            InputStream in = server.input();
            OutputStream out = client.output();
            String reading = "main context 'main' cannot read from " + name(server) + " (open): ";
            String writing = "main context 'main' cannot write to " + name(client) + " (open): ";
            byte[] four = new byte[4];
            List<ThrowingCallable> calls = List.of(
                    () -> in.read(four, -1, 1),
                    () -> in.read(four, 0, -1),
                    () -> in.read(four, 2, 3),
                    () -> in.readNBytes(four, -1, 1),
                    () -> out.write(four, -1, 1),
                    () -> out.write(four, 0, -1),
                    () -> out.write(four, 2, 3));
            List<String> messages = new ArrayList<>();
            for (ThrowingCallable call : calls) {
                Throwable e = org.assertj.core.api.Assertions.catchThrowable(call);
                assertThat(e).isExactlyInstanceOf(IndexOutOfBoundsException.class);
                messages.add(e.getMessage());
            }
            assertThat(messages).containsExactly(
                    reading + "offset -1 and length 1 do not fit an array of length 4",
                    reading + "offset 0 and length -1 do not fit an array of length 4",
                    reading + "offset 2 and length 3 do not fit an array of length 4",
                    reading + "offset -1 and length 1 do not fit an array of length 4",
                    writing + "offset -1 and length 1 do not fit an array of length 4",
                    writing + "offset 0 and length -1 do not fit an array of length 4",
                    writing + "offset 2 and length 3 do not fit an array of length 4");
            out.write(new byte[] {'o', 'k'}, 0, 2);
            assertThat(in.readNBytes(2)).as("nothing was sent or taken by the refused calls").isEqualTo(new byte[] {'o', 'k'});
        }
    }

    /**
     * The input view keeps no mark: {@code reset()} fails as {@code InputStream} says, but with an
     * {@code IOException} naming the caller, the call, the connection and its state, and what to do
     * (the JDK's text is only "mark/reset not supported"); nothing is read, and the connection stays usable.
     * From another thread {@code markSupported()} answers false, and {@code mark} and {@code reset} are refused
     * naming that thread, the call and the owner thread, as a read is.
     */
    @Test
    void aResetOfTheInputViewFailsNamingTheCallerTheConnectionAndItsState() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            InputStream in = server.input();
            assertThat(in.markSupported()).isFalse();
            in.mark(16); // does nothing, as InputStream says
            assertThatThrownBy(in::reset)
                    .isExactlyInstanceOf(IOException.class)
                    .hasMessage("main context 'main' cannot reset the input of " + name(server)
                            + " (open): it keeps no mark (markSupported() is false); read through a"
                            + " BufferedInputStream to mark and reset");

            List<String> fromAnotherThread = new ArrayList<>();
            Thread t = Thread.ofPlatform().name("intruder").start(() -> {
                fromAnotherThread.add("markSupported: " + in.markSupported());
                fromAnotherThread.add(refusal(() -> in.mark(16)));
                fromAnotherThread.add(refusal(in::reset));
            });
            t.join();
            String intruder = "IllegalStateException: thread 'intruder' (#" + t.threadId() + ") cannot ";
            String owner = " (open): it belongs to thread '" + Thread.currentThread().getName() + "' (#"
                    + Thread.currentThread().threadId() + ")";
            assertThat(fromAnotherThread).as("mark and reset are refused from another thread, as a read is").containsExactly(
                    "markSupported: false",
                    intruder + "mark the input of " + name(server) + owner,
                    intruder + "reset the input of " + name(server) + owner);

            client.output().write(new byte[] {'o', 'k'});
            assertThat(in.readNBytes(2)).as("the connection still works").isEqualTo(new byte[] {'o', 'k'});
        }
    }

    /**
     * {@code available()} of the input view is a call on the connection like a read: 0 while it is
     * open and nothing has arrived, refused from another thread, and an {@code IOException} naming the caller, the call, the connection and its state
     * once it is closed, as {@code InputStream} says for a closed stream (it returned 0 there).
     */
    @Test
    void availableOfTheInputViewIsACallOnTheConnectionThatFailsOnceItIsClosed() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            String name = name(server);
            InputStream in = server.input();
            assertThat(in.available()).isZero();

            AtomicReference<Throwable> intruder = new AtomicReference<>();
            Thread t = Thread.ofPlatform().name("intruder").start(() -> {
                try {
                    in.available();
                } catch (Throwable e) {
                    intruder.set(e);
                }
            });
            t.join();
            assertThat(intruder.get()).as("available() from another thread")
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageStartingWith("thread 'intruder' (#" + t.threadId() + ") cannot count the bytes available on " + name + " (open): it belongs to thread ");

            in.close();
            assertThatThrownBy(in::available)
                    .isInstanceOf(IOException.class)
                    .hasMessage("main context 'main' cannot count the bytes available on " + name
                            + " (closed): java.nio.channels.ClosedChannelException")
                    .hasCauseInstanceOf(ClosedChannelException.class);
        }
    }

    /**
     * A read into a read-only buffer is refused before anything is read or waited for, with an
     * {@code IllegalArgumentException} naming the caller, the call, the connection and its state (the
     * channel's own refusal says only "Read-only buffer"), a full one too; the connection stays usable.
     */
    @Test
    void aReadIntoAReadOnlyBufferIsRefusedNamingTheCallerTheConnectionAndItsState() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            String name = name(server);
            String refusal = "main context 'main' cannot read from " + name
                    + " (open) into a read-only buffer: the bytes read must be written into it";
            client.write(bytes("ab"));
            assertThatThrownBy(() -> server.read(ByteBuffer.allocate(4).asReadOnlyBuffer()))
                    .isExactlyInstanceOf(IllegalArgumentException.class).hasMessage(refusal);
            assertThatThrownBy(() -> server.read(ByteBuffer.allocate(4).position(4).asReadOnlyBuffer()))
                    .isExactlyInstanceOf(IllegalArgumentException.class).hasMessage(refusal);
            ByteBuffer into = ByteBuffer.allocate(4);
            while (into.position() < 2) {
                assertThat(server.read(into)).isPositive();
            }
            assertThat(into.flip()).as("nothing was taken by the refused reads").isEqualTo(bytes("ab"));
        }
    }

    @Test
    void aReadIntoAFullBufferReturnsZeroWithoutWaiting() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            ByteBuffer full = ByteBuffer.allocate(4).position(4);
            assertThat(server.read(full)).isZero(); // nothing was sent: a wait would never end
            assertThat(client.read(ByteBuffer.allocate(0))).isZero();
        }
    }

    @Test
    void theStreamsReadAndWriteByteByByteSeeTheEndAndCloseTheConnection() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            OutputStream out = client.output();
            assertThat(client.output()).as("the same view every time").isSameAs(out);
            out.write('h');
            out.write(0x1ff); // the low eight bits only, as OutputStream says
            out.flush();
            InputStream in = server.input();
            assertThat(server.input()).isSameAs(in);
            assertThat(in.read(new byte[4], 0, 0)).as("no room: nothing read, no wait").isZero();
            assertThat(in.read()).isEqualTo('h');
            assertThat(in.read()).isEqualTo(0xff);

            out.close(); // closes the client's connection: the server reads the end of the stream
            assertThat(in.read()).isEqualTo(-1);
            assertThat(in.read()).as("and again after it").isEqualTo(-1);
            assertThatThrownBy(() -> client.write(bytes("x")))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("(closed)");

            in.close(); // closes the server's connection
            assertThatThrownBy(in::read)
                    .isInstanceOf(IOException.class)
                    .hasMessageStartingWith("main context 'main' cannot read from ")
                    .hasMessageContaining("(closed)");
            assertThat(server.toString()).endsWith(", closed]");
        }
    }

    /**
     * A second {@code close()} of a connection (itself or through either view, in any order) or of a
     * listener changes nothing, as {@code Closeable} asks: it throws nothing, the state stays {@code closed},
     * and the calls after it fail as after the first.
     */
    @Test
    void aSecondCloseOfAConnectionOrOfAListenerChangesNothing() throws Exception {
        TcpListener listener = TcpListener.bind(LOOPBACK);
        SocketAddress address = listener.localAddress();
        try (TcpConnection client = TcpConnection.connect(address);
             TcpConnection server = listener.accept()) {
            String name = name(server);
            server.close();
            server.close();
            server.input().close();
            server.output().close();
            server.close();
            assertThat(server.isOpen()).isFalse();
            assertThat(server.toString()).endsWith(", closed]");
            assertThatThrownBy(() -> server.input().read()).isInstanceOf(IOException.class)
                    .hasMessage("main context 'main' cannot read from " + name + " (closed): java.nio.channels.ClosedChannelException");
            assertThat(client.read(ByteBuffer.allocate(1))).as("the peer reads the end of the stream").isEqualTo(-1);
        }
        listener.close();
        listener.close();
        assertThat(listener.isOpen()).isFalse();
        assertThatThrownBy(listener::accept).isInstanceOf(IOException.class)
                .hasMessage("main context 'main' cannot accept on listener " + address + " (closed): java.nio.channels.ClosedChannelException");
    }

    /**
     * {@code read()} gives each of the 256 byte values as 0 to 255, never a byte 0xFF as the -1 of the end of
     * the stream; {@code write(int)} sends the low eight bits of any int, negative or past 255, as
     * {@code OutputStream} says; a range of no bytes at the very end of the array is one that fits (0 read,
     * nothing written, without waiting), one past it is refused naming the caller, the call, the connection,
     * its state and the range; {@code readNBytes(0)} gives an empty array without waiting.
     */
    @Test
    void everyByteValueReadsBackAsZeroTo255AndWriteOfAnyIntSendsItsLowEightBits() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            OutputStream out = client.output();
            InputStream in = server.input();
            for (int v = 0; v < 256; v++) {
                out.write(v < 128 ? v + 256 * v : v - 256); // 0x00 to 0x7f with high bits set, 0x80 to 0xff negative
            }
            for (int v = 0; v < 256; v++) {
                assertThat(in.read()).as("byte %d", v).isEqualTo(v);
            }
            byte[] four = new byte[4];
            assertThat(in.read(four, 4, 0)).as("no room at the end of the array: nothing read, no wait").isZero();
            assertThat(in.readNBytes(four, 4, 0)).isZero();
            assertThat(in.readNBytes(0)).isEmpty();
            out.write(four, 4, 0);
            assertThatThrownBy(() -> in.read(four, 5, 0)).isExactlyInstanceOf(IndexOutOfBoundsException.class)
                    .hasMessage("main context 'main' cannot read from " + name(server) + " (open): offset 5 and length 0 do not"
                            + " fit an array of length 4");
            assertThatThrownBy(() -> out.write(four, 5, 0)).isExactlyInstanceOf(IndexOutOfBoundsException.class)
                    .hasMessage("main context 'main' cannot write to " + name(client) + " (open): offset 5 and length 0 do not"
                            + " fit an array of length 4");
            out.write(-1);
            assertThat(in.read()).as("the last byte written, nothing between").isEqualTo(0xff);
            assertThat(in.available()).isZero();
        }
    }

    /**
     * A read that got fewer bytes than it had room for waits for readiness before its next system
     * call; a close in between must not turn that next read into a bare {@code ClosedChannelException}
     * that names neither the caller nor the connection.
     */
    @Test
    void aReadAfterCloseThatFollowsAShortReadThrowsAnIOExceptionNamingTheCallerTheConnectionAndItsState() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            client.write(bytes("ab"));
            ByteBuffer buf = ByteBuffer.allocate(16);
            while (buf.position() < 2) {
                server.read(buf); // fewer bytes than room: the socket's buffer was emptied
            }
            String name = name(server);
            server.close();
            assertThatThrownBy(() -> server.read(ByteBuffer.allocate(16)))
                    .isInstanceOf(IOException.class)
                    .hasMessage("main context 'main' cannot read from " + name
                            + " (closed): java.nio.channels.ClosedChannelException")
                    .hasCauseInstanceOf(ClosedChannelException.class);
            assertThatThrownBy(() -> server.input().read())
                    .as("through the java.io view too")
                    .isInstanceOf(IOException.class)
                    .hasMessageStartingWith("main context 'main' cannot read from " + name + " (closed): ");
        }
    }

    /**
     * A read or write of no bytes is still a call on the connection: on a closed connection (or a
     * write after {@code shutdownOutput()}) it throws as a call with bytes would, instead of
     * returning as if the connection could be used; through the {@code java.io} views too, which
     * from another thread are refused like every other call.
     */
    @Test
    void aReadOrWriteOfNoBytesOnAClosedConnectionThrowsAsAnyReadOrWriteWould() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            String name = name(server);
            server.shutdownOutput();
            assertThatThrownBy(() -> server.write(ByteBuffer.allocate(0)))
                    .isInstanceOf(IOException.class)
                    .hasMessageStartingWith("main context 'main' cannot write to " + name + " (open, output shut down): ");
            assertThat(server.read(ByteBuffer.allocate(0))).as("the input is still open").isZero();

            AtomicReference<Throwable> intruder = new AtomicReference<>();
            Thread t = Thread.ofPlatform().name("intruder").start(() -> {
                try {
                    server.input().read(new byte[0]);
                } catch (Throwable e) {
                    intruder.set(e);
                }
            });
            t.join();
            assertThat(intruder.get()).as("a read of no bytes from another thread")
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageStartingWith("thread 'intruder' (#" + t.threadId() + ") cannot read from " + name + " (open, output shut down): it belongs to thread ");

            server.close();
            List<ThrowingCallable> calls = List.of(
                    () -> server.read(ByteBuffer.allocate(0)),
                    () -> server.read(ByteBuffer.allocate(4).position(4)),
                    () -> server.input().read(new byte[4], 0, 0),
                    () -> server.write(ByteBuffer.allocate(0)),
                    () -> server.output().write(new byte[0]));
            for (ThrowingCallable call : calls) {
                assertThatThrownBy(call)
                        .isInstanceOf(IOException.class)
                        .hasMessageStartingWith("main context 'main' cannot ")
                        .hasMessageContaining(name + " (closed): ")
                        .hasCauseInstanceOf(ClosedChannelException.class);
            }
        }
    }

    /**
     * {@code readNBytes} of the {@code java.io} view is a read like {@code read(b, off, len)}: with no
     * bytes to read it is still a call on the connection, refused from another thread and failing
     * once the connection is closed, where it returned 0 as if the connection could be used.
     */
    @Test
    void aReadNBytesOfNoBytesIsRefusedFromAnotherThreadAndFailsOnAClosedConnectionAsAnyReadWould() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            String name = name(server);
            assertThat(server.input().readNBytes(new byte[4], 2, 0)).as("on an open connection").isZero();

            AtomicReference<Throwable> intruder = new AtomicReference<>();
            Thread t = Thread.ofPlatform().name("intruder").start(() -> {
                try {
                    server.input().readNBytes(new byte[4], 0, 0);
                } catch (Throwable e) {
                    intruder.set(e);
                }
            });
            t.join();
            assertThat(intruder.get()).as("a readNBytes of no bytes from another thread")
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageStartingWith("thread 'intruder' (#" + t.threadId() + ") cannot read from " + name + " (open): it belongs to thread ");

            server.close();
            assertThatThrownBy(() -> server.input().readNBytes(new byte[4], 0, 0))
                    .isInstanceOf(IOException.class)
                    .hasMessage("main context 'main' cannot read from " + name
                            + " (closed): java.nio.channels.ClosedChannelException")
                    .hasCauseInstanceOf(ClosedChannelException.class);
        }
    }

    /**
     * Every call of a view is a call on the connection, confined as a read or a write is: also those
     * that do nothing (a skip of no bytes or fewer, a mark), which answered any thread while
     * a readNBytes of no bytes was refused; a skip of no bytes fails on a closed connection as that
     * read does. A flush alone, which a wrapper's close makes, perhaps from another thread (a close answers
     * any thread) or after the connection's close, does nothing from any thread.
     */
    @Test
    @Timeout(30)
    void everyCallOfTheViewsIsRefusedFromAnotherThreadAlsoThoseThatDoNothing() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            String name = name(server);
            InputStream in = server.input();
            OutputStream out = server.output();
            assertThat(in.skip(0)).as("on the owner's thread").isZero();
            assertThat(in.skip(-3)).isZero();
            in.skipNBytes(0);
            in.mark(16);
            out.flush();

            List<String> refusals = new ArrayList<>();
            Throwable[] flushed = {null};
            Thread t = Thread.ofPlatform().name("intruder").start(() -> {
                refusals.add(refusal(() -> in.skip(0)));
                refusals.add(refusal(() -> in.skip(-3)));
                refusals.add(refusal(() -> in.skipNBytes(0)));
                refusals.add(refusal(() -> in.mark(16)));
                flushed[0] = catchThrowable(out::flush);
            });
            t.join();
            String caller = "IllegalStateException: thread 'intruder' (#" + t.threadId() + ") cannot ";
            String thread = " (open): it belongs to thread ";
            assertThat(refusals).map(r -> r.substring(0, r.indexOf(": it belongs to thread ") + 23)).containsExactly(
                    caller + "read from " + name + thread,
                    caller + "read from " + name + thread,
                    caller + "read from " + name + thread,
                    caller + "mark the input of " + name + thread);
            assertThat(flushed[0]).as("the flush: nothing to do, as a close from there").isNull();

            server.close();
            String closed = "main context 'main' cannot read from " + name + " (closed): java.nio.channels.ClosedChannelException";
            assertThatThrownBy(() -> in.skip(0)).isInstanceOf(IOException.class).hasMessage(closed)
                    .hasCauseInstanceOf(ClosedChannelException.class);
            assertThatThrownBy(() -> in.skipNBytes(0)).isInstanceOf(IOException.class).hasMessage(closed);
            in.mark(16);
            out.flush();
        }
    }

    /** The simple name of the class and the message of what {@code call} threw; "no refusal: " if it threw nothing. */
    private static String refusal(ThrowingCallable call) {
        try {
            call.call();
            return "no refusal: it belongs to thread ";
        } catch (Throwable e) {
            return e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    /** A readNBytes(len) of a negative length is refused naming the caller, the connection and its state, as a range that does not fit its array is. */
    @Test
    void aReadNBytesOfANegativeLengthIsRefusedNamingTheCallerTheConnectionAndItsState() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            assertThatThrownBy(() -> server.input().readNBytes(-1))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("main context 'main' cannot read from " + name(server) + " (open): a length of -1 bytes is negative");
            client.output().write(new byte[] {7});
            assertThat(server.input().readNBytes(1)).as("the connection still reads").containsExactly(7);
        }
    }
}
