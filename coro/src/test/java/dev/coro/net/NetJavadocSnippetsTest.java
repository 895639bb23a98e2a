package dev.coro.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Coroutine;
import dev.coro.CoroutinePool;
import dev.coro.CoroutineTimeoutException;
import dev.coro.FreshThread;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.net.StandardSocketOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The code blocks of the Javadoc of {@code dev.coro.net}, and those of {@code Coroutine.callWithTimeout} (which
 * need a connection), compile here between the markers that {@code JavadocSnippetsTest} matches them against, and
 * run over loopback doing what their comments say; the two listener snippets bind port 8080 and serve for ever,
 * so they are compiled only (docs/NET.md's server, which {@code NetDocTest} runs, is the same loop on any address).
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
@Timeout(20)
class NetJavadocSnippetsTest {

    // ---- Io ----------------------------------------------------------------------------------

    /** The {@link Io} snippet: the first datagram that reaches {@code address}, and who sent it. */
    private static String ioSnippet(SocketAddress address) throws IOException {
        // JAVADOC:begin
        DatagramChannel udp = DatagramChannel.open().bind(address);
        udp.configureBlocking(false);
        ByteBuffer buf = ByteBuffer.allocate(1500);
        SocketAddress from;
        while ((from = udp.receive(buf)) == null) {
            Io.await(udp, SelectionKey.OP_READ);       // parks this coroutine, not the thread
        }
        // JAVADOC:end
        udp.close();
        return StandardCharsets.UTF_8.decode(buf.flip()) + " from " + from;
    }

    @Test
    void theIoSnippetParksUntilADatagramComesWhileASenderCoroutineOfTheThreadRuns() throws IOException {
        List<String> trace = new ArrayList<>();
        try (DatagramChannel sender = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            InetSocketAddress address;
            try (DatagramChannel probe = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
                address = (InetSocketAddress) probe.getLocalAddress(); // a free port for the snippet to bind
            }
            Coroutine.create("sender", () -> {
                trace.add("sender runs while main waits");
                try {
                    sender.send(ByteBuffer.wrap("hello".getBytes(StandardCharsets.UTF_8)), address);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            trace.add(ioSnippet(address).replace(sender.getLocalAddress().toString(), "the sender"));
        }
        assertThat(trace).containsExactly("sender runs while main waits", "hello from the sender");
    }

    // ---- TcpConnection -----------------------------------------------------------------------

    /** The {@link TcpConnection} snippet: echoes one connection of {@code listener} until its client is done. */
    private static void connectionSnippet(TcpListener listener) throws IOException {
        // JAVADOC:begin
        try (TcpConnection c = listener.accept()) {           // in a coroutine per connection
            ByteBuffer buf = ByteBuffer.allocate(4096);
            while (c.read(buf.clear()) >= 0) {
                c.write(buf.flip());                           // echo
            }
        }
        // JAVADOC:end
    }

    @Test
    void theConnectionSnippetEchoesItsClientUntilTheClientShutsItsOutputDown() throws IOException {
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0))) {
            Coroutine echo = Coroutine.create("echo", () -> {
                try {
                    connectionSnippet(listener);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            try (TcpConnection c = TcpConnection.connect(listener.localAddress())) {
                c.write(ByteBuffer.wrap("hello, echo".getBytes(StandardCharsets.UTF_8)));
                c.shutdownOutput();
                assertThat(new String(c.input().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("hello, echo");
            }
            echo.join();
            assertThat(echo.state()).isEqualTo(Coroutine.State.FINISHED);
        }
    }

    // ---- TcpConnection.detach ----------------------------------------------------------------

    /** What the {@code detach} snippet runs for each connection, on a thread of the pool: echoes it, then names the thread. */
    private static void echo(TcpConnection c) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(64);
        while (c.read(buf.clear()) >= 0) {
            c.write(buf.flip());
        }
        c.write(ByteBuffer.wrap((" served on " + ownerOf(c)).getBytes(StandardCharsets.UTF_8)));
    }

    /** The thread {@code c} belongs to, as the refusal of a call from another thread names it. */
    private static String ownerOf(TcpConnection c) {
        CompletableFuture<String> refusal = new CompletableFuture<>();
        Thread.ofPlatform().start(() -> {
            try {
                c.shutdownOutput();
                refusal.complete("nobody");
            } catch (IllegalStateException e) {
                refusal.complete(e.getMessage().replaceAll(".*: it belongs to thread '([^']*)'.*", "$1"));
            } catch (IOException e) {
                refusal.completeExceptionally(e);
            }
        });
        return Coroutine.await(refusal);
    }

    /** The {@link TcpConnection#detach()} snippet: accepts on this thread, each connection served on a thread of {@code pool}. */
    @SuppressWarnings("InfiniteLoopStatement")
    private static void detachSnippet(TcpListener listener, CoroutinePool pool) throws IOException {
        // JAVADOC:begin
        while (true) {
            SocketChannel accepted = listener.accept().detach();      // this thread lets go of it
            pool.execute(() -> {
                try (TcpConnection c = TcpConnection.adopt(accepted)) { // the pool thread's from here on
                    echo(c);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
        // JAVADOC:end
    }

    @Test
    void theDetachSnippetAcceptsOnOneThreadAndServesEachConnectionOnAThreadOfThePool() throws IOException {
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0));
             CoroutinePool pool = CoroutinePool.start("served", 2)) {
            Coroutine acceptor = Coroutine.create("acceptor", () -> {
                try {
                    detachSnippet(listener, pool);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            List<String> replies = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                try (TcpConnection c = TcpConnection.connect(listener.localAddress())) {
                    c.write(ByteBuffer.wrap(("hello " + i).getBytes(StandardCharsets.UTF_8)));
                    c.shutdownOutput();
                    replies.add(new String(c.input().readAllBytes(), StandardCharsets.UTF_8));
                }
            }
            acceptor.close(); // unwinds it out of accept()
            assertThat(replies).hasSize(4).allSatisfy(r -> assertThat(r).matches("hello \\d served on served-[01]"));
            assertThat(replies).extracting(r -> r.substring(0, 7)).containsExactly("hello 0", "hello 1", "hello 2", "hello 3");
        }
    }

    // ---- Coroutine.callWithTimeout -----------------------------------------------------------

    /** The write snippet of {@code Coroutine.callWithTimeout}: {@code buffer} written whole to {@code connection}. */
    private static void writeSnippet(TcpConnection connection, ByteBuffer buffer) throws IOException {
        // JAVADOC:begin
        Coroutine.callWithTimeout(Duration.ofSeconds(5), () -> connection.write(buffer)); // throws IOException
        // JAVADOC:end
    }

    /** The read snippet of {@code Coroutine.callWithTimeout}: how many bytes a read of {@code connection} took. */
    private static int readSnippet(TcpConnection connection, ByteBuffer buffer) throws IOException {
        // JAVADOC:begin
        int n = Coroutine.callWithTimeout(Duration.ofSeconds(5), () -> connection.read(buffer)); // throws IOException
        // JAVADOC:end
        return n;
    }

    @Test
    void theCallWithTimeoutSnippetsWriteAndReadInTimeAndThrowTheConnectionsIoExceptionAsItIs() throws IOException {
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0));
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            writeSnippet(client, ByteBuffer.wrap("ping".getBytes(StandardCharsets.UTF_8)));
            ByteBuffer buffer = ByteBuffer.allocate(16);
            assertThat(readSnippet(server, buffer)).isEqualTo(4);
            assertThat(StandardCharsets.UTF_8.decode(buffer.flip()).toString()).isEqualTo("ping");
            String connection = server.localAddress() + " -> " + server.remoteAddress();
            server.close();
            assertThatThrownBy(() -> readSnippet(server, ByteBuffer.allocate(16)))
                    .isInstanceOf(IOException.class)
                    .hasMessage("main context 'main' cannot read from connection " + connection + " (closed): java.nio.channels.ClosedChannelException");
        }
    }

    // ---- SocketConfigurer --------------------------------------------------------------------

    /** The {@link SocketConfigurer} snippet: a connection to {@code backend} from {@code local}, with a wide receive buffer. */
    private static TcpConnection configuredSnippet(SocketAddress backend, SocketAddress local) throws IOException {
        // JAVADOC:begin
        TcpConnection c = TcpConnection.connect(backend, ch -> {
            ch.setOption(StandardSocketOptions.SO_RCVBUF, 1 << 20); // before the handshake: a wide window
            ch.bind(local);                                          // leave from this address
        });
        // JAVADOC:end
        return c;
    }

    @Test
    void theSocketConfigurerSnippetConnectsFromItsLocalAddressWithTheBufferItSet() throws IOException {
        int asSet;
        try (SocketChannel probe = SocketChannel.open()) {
            probe.setOption(StandardSocketOptions.SO_RCVBUF, 1 << 20);
            asSet = probe.getOption(StandardSocketOptions.SO_RCVBUF); // what the kernel keeps of it
        }
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0));
             TcpConnection c = configuredSnippet(listener.localAddress(), new InetSocketAddress("127.0.0.1", 0));
             TcpConnection server = listener.accept()) {
            assertThat(c.getOption(StandardSocketOptions.SO_RCVBUF)).isEqualTo(asSet);
            assertThat(server.remoteAddress()).isEqualTo(c.localAddress());
        }
    }

    // ---- Coroutine.tryCallWithTimeout --------------------------------------------------------

    /** The read snippet of {@code Coroutine.tryCallWithTimeout}: what a read of {@code connection} took, or empty (then closed). */
    private static Optional<Integer> tryReadSnippet(TcpConnection connection, ByteBuffer buffer, Duration idleTimeout)
            throws IOException {
        // JAVADOC:begin
        Optional<Integer> n = Coroutine.tryCallWithTimeout(idleTimeout, () -> connection.read(buffer));
        if (n.isEmpty()) {
            connection.close(); // the peer sent nothing for idleTimeout: the read took nothing
        }
        // JAVADOC:end
        return n;
    }

    /**
     * The readLine snippet of {@code Coroutine.tryCallWithTimeout}: the lines of {@code reader} into {@code lines}, up to
     * the end of the stream, or {@code connection} closed once idle for {@code idleTimeout}.
     */
    private static void readLinesSnippet(TcpConnection connection, BufferedReader reader, List<String> lines,
            Duration idleTimeout) throws IOException {
        // JAVADOC:begin
        try {
            for (String line = Coroutine.callWithTimeout(idleTimeout, reader::readLine); line != null;
                    line = Coroutine.callWithTimeout(idleTimeout, reader::readLine)) {
                lines.add(line);    // until the peer ends its stream: readLine's null
            }
        } catch (CoroutineTimeoutException e) {
            connection.close();     // idle for idleTimeout: a line begun is lost with the reader, so close it
        }
        // JAVADOC:end
    }

    @Test
    void theReadLineSnippetReadsUpToTheEndOfTheStreamAndClosesAnIdleConnection() throws IOException {
        for (boolean ends : new boolean[] {true, false}) {
            try (TcpListener listener = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0));
                 TcpConnection client = TcpConnection.connect(listener.localAddress());
                 TcpConnection server = listener.accept()) {
                client.write(ByteBuffer.wrap("a\nb\n".getBytes(StandardCharsets.UTF_8)));
                if (ends) {
                    client.shutdownOutput();
                }
                List<String> lines = new ArrayList<>();
                readLinesSnippet(server, new BufferedReader(new InputStreamReader(server.input(), StandardCharsets.UTF_8)),
                        lines, ends ? Duration.ofSeconds(60) : Duration.ofMillis(20));
                assertThat(lines).containsExactly("a", "b");
                assertThat(server.isOpen()).as("open at the end of the stream, closed once idle").isEqualTo(ends);
            }
        }
    }

    /** The write snippet of {@code Coroutine.tryCallWithTimeout}: {@code buffer} written to {@code connection}, or it closed. */
    private static void tryWriteSnippet(TcpConnection connection, ByteBuffer buffer, Duration writeTimeout) throws IOException {
        // JAVADOC:begin
        if (!Coroutine.tryCallWithTimeout(writeTimeout, () -> connection.write(buffer))) {
            connection.close(); // the peer did not take it all in writeTimeout: buffer.position() says how much it took
        }
        // JAVADOC:end
    }

    @Test
    void theTryCallWithTimeoutSnippetsReadAndWriteInTimeAndCloseAnIdleOrStuckConnection() throws IOException {
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0));
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            tryWriteSnippet(client, ByteBuffer.wrap("ping".getBytes(StandardCharsets.UTF_8)), Duration.ofSeconds(60));
            ByteBuffer buffer = ByteBuffer.allocate(16);
            assertThat(tryReadSnippet(server, buffer, Duration.ofSeconds(60))).contains(4);
            assertThat(StandardCharsets.UTF_8.decode(buffer.flip()).toString()).isEqualTo("ping");
            assertThat(tryReadSnippet(server, ByteBuffer.allocate(16), Duration.ofMillis(20))).isEmpty();
            assertThat(server.isOpen()).as("closed as idle").isFalse();
        }
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0));
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            client.setOption(StandardSocketOptions.SO_SNDBUF, 8 * 1024);
            server.setOption(StandardSocketOptions.SO_RCVBUF, 8 * 1024);
            ByteBuffer big = ByteBuffer.allocate(16 * 1024 * 1024); // far more than both buffers hold: the server reads nothing
            tryWriteSnippet(client, big, Duration.ofMillis(20));
            assertThat(client.isOpen()).as("closed as stuck").isFalse();
            assertThat(big.position()).as("what the kernel took before the timeout").isPositive().isLessThan(big.limit());
        }
    }

    // ---- TcpListener: compiled only ----------------------------------------------------------

    /** What the listener snippets run for each connection. */
    private static void serve(TcpConnection c) {
    }

    /** The class-level snippet of {@link TcpListener}; compiled, not run: it binds port 8080 and accepts for ever. */
    @SuppressWarnings({"InfiniteLoopStatement", "unused"})
    private static void listenerSnippet() throws IOException {
        // JAVADOC:begin
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress("127.0.0.1", 8080))) {
            while (true) {
                TcpConnection c = listener.accept();
                Coroutine.create(() -> serve(c));
            }
        }
        // JAVADOC:end
    }

    /** The snippet of {@link TcpListener#bind(SocketAddress, boolean)}; compiled, not run: it serves port 8080 for ever. */
    @SuppressWarnings("unused")
    private static void reusePortSnippet(int threads) {
        // JAVADOC:begin
        InetSocketAddress address = new InetSocketAddress("0.0.0.0", 8080);
        try (CoroutinePool pool = CoroutinePool.start(threads)) {
            for (int i = 0; i < threads; i++) {         // one long-lived body on each thread
                pool.execute(() -> {
                    try (TcpListener listener = TcpListener.bind(address, true)) {
                        while (true) {
                            TcpConnection c = listener.accept();     // this thread's connection
                            Coroutine.create("serve", () -> serve(c));
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
        }
        // JAVADOC:end
    }
}
