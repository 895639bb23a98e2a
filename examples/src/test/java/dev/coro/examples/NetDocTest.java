package dev.coro.examples;

import static dev.coro.examples.ReadmeSnippetsTest.echo;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.CoroutinePool;
import dev.coro.net.TcpConnection;
import dev.coro.net.TcpListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * The Java code shown in docs/NET.md is exactly the code between the {@code NET.md:begin} and
 * {@code NET.md:end} markers below (checked as the README's snippets are), and that code serves a
 * loopback port from every thread of its pool, each client once, until it is stopped.
 */
class NetDocTest {

    private static final Path NET = Path.of("..", "docs", "NET.md");
    private static final Path SELF = Path.of("src", "test", "java", "dev", "coro", "examples", "NetDocTest.java");

    /** The doc's blocks are among the snippets between the markers of this file, as the README's are in its test. */
    @Test
    void everyJavaBlockOfNetMdIsASnippetRunHere() throws IOException {
        List<String> docBlocks = ReadmeSnippetsTest.blocks(Files.readString(NET), "```java\\n(.*?)```");
        List<String> snippets = ReadmeSnippetsTest.blocks(Files.readString(SELF), "// NET.md:begin\\n(.*?)\\s*// NET.md:end");
        assertThat(docBlocks).isNotEmpty();
        assertThat(snippets).containsAll(docBlocks);
    }

    // NET.md:begin
    /** Connects to {@code host} on {@code port}, the look-up and the connect bounded by {@code timeout} together. */
    static TcpConnection dial(String host, int port, Duration timeout) throws IOException {
        return Coroutine.callWithTimeout(timeout, () -> TcpConnection.connect(host, port)); // parks the caller alone
    }
    // NET.md:end

    /**
     * The doc's {@code dial} of {@code localhost} reaches a listener on the loopback, whichever of its
     * addresses the host's resolver gives first, while a coroutine of the same thread runs.
     */
    @Test
    void dialLooksTheHostUpAndConnectsWhileTheThreadsOtherCoroutinesRun() throws IOException {
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            int port = ((InetSocketAddress) listener.localAddress()).getPort();
            String[] served = {null};
            Coroutine.create("server", () -> {
                try (TcpConnection c = listener.accept()) {
                    served[0] = "accepted from " + ((InetSocketAddress) c.remoteAddress()).getAddress().isLoopbackAddress();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            try (TcpConnection c = dial("localhost", port, Duration.ofSeconds(30))) {
                assertThat(((InetSocketAddress) c.remoteAddress()).getPort()).isEqualTo(port);
            }
            while (served[0] == null) {
                Coroutine.yield();
            }
            assertThat(served[0]).isEqualTo("accepted from true");
        }
    }

    // NET.md:begin
    /** Connects to {@code backend} from {@code local}, with a receive buffer of {@code window} bytes from its handshake on. */
    static TcpConnection dialWide(SocketAddress backend, InetSocketAddress local, int window) throws IOException {
        return TcpConnection.connect(backend, ch -> {
            ch.setOption(StandardSocketOptions.SO_RCVBUF, window); // before the handshake: the window scale follows it
            ch.bind(local);                                         // leave from this address (port 0: any port)
        });
    }
    // NET.md:end

    /**
     * The doc's {@code dialWide} connects from the loopback address it binds, and its connection has the receive
     * buffer its configurer set, as a socket of the JDK set so reads it, where a plain connect's differs.
     */
    @Test
    void dialWideConnectsFromItsLocalAddressWithItsReceiveBuffer() throws IOException {
        int window = 12 * 1024;
        int asSet;
        try (SocketChannel probe = SocketChannel.open()) {
            probe.setOption(StandardSocketOptions.SO_RCVBUF, window);
            asSet = probe.getOption(StandardSocketOptions.SO_RCVBUF); // what the kernel keeps of it
        }
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress(loopback, 0));
             TcpConnection c = dialWide(listener.localAddress(), new InetSocketAddress(loopback, 0), window);
             TcpConnection plain = TcpConnection.connect(listener.localAddress())) {
            assertThat(c.getOption(StandardSocketOptions.SO_RCVBUF)).isEqualTo(asSet);
            assertThat(plain.getOption(StandardSocketOptions.SO_RCVBUF)).isNotEqualTo(asSet);
            assertThat(((InetSocketAddress) c.localAddress()).getAddress()).isEqualTo(loopback);
        }
    }

    // NET.md:begin
    /** What became of a connect to {@code address}, told apart by the class of its failure. */
    static String reach(InetSocketAddress address) throws IOException {
        try (TcpConnection c = TcpConnection.connect(address)) {
            return "connected";
        } catch (ConnectException e) {      // refused: nobody listens there
            return "refused";
        } catch (SocketException e) {       // a reset peer, among others
            return "failed: " + e.getMessage();
        }
    }
    // NET.md:end

    /**
     * The doc's {@code reach} tells a refused connect (a loopback port bound and closed again, so that nobody
     * listens there) by its {@code ConnectException}, and a listener there by a connection.
     */
    @Test
    void reachTellsARefusedConnectByItsClass() throws IOException {
        InetSocketAddress address;
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            address = (InetSocketAddress) listener.localAddress();
            assertThat(reach(address)).isEqualTo("connected"); // the kernel takes it in the backlog, accepted or not
        }
        assertThat(reach(address)).isEqualTo("refused");
    }

    // NET.md:begin
    /** Serves {@code address} with a listener on each of {@code threads} threads until {@code stop} completes. */
    static void serve(InetSocketAddress address, int threads, CompletableFuture<Void> stop) {
        try (CoroutinePool pool = CoroutinePool.start(threads)) {
            for (int i = 0; i < threads; i++) {                       // n long-lived bodies: one on each thread
                pool.execute(() -> {
                    try (TcpListener listener = TcpListener.bind(address, true)) {
                        Coroutine acceptor = Coroutine.create("acceptor", () -> {
                            try {
                                while (true) {
                                    TcpConnection c = listener.accept();  // a connection of this thread
                                    Coroutine.create("echo", () -> echo(c));
                                }
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                        });
                        Coroutine.await(stop);                        // the acceptor and the echoes run meanwhile
                        acceptor.close();                             // unwinds it out of accept()
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
        }                                                             // returns once every echo has ended
    }
    // NET.md:end

    /**
     * The doc's server on two threads of a loopback port, twenty clients on a thread of their own,
     * each sending its line and reading the echo to the end: every client gets its own line back,
     * once; then the stop ends the server, whose pool has closed when {@code serve} returns.
     */
    @Test
    void theThreadPerCoreServerEchoesEachClientOnceAndEndsAtTheStop() throws Exception {
        int clients = 20;
        InetSocketAddress address = freeLoopbackAddress();
        CompletableFuture<Void> stop = new CompletableFuture<>();
        CompletableFuture<Void> served = new CompletableFuture<>();
        Map<String, String> replies = new ConcurrentHashMap<>();
        CompletableFuture<Void> crewEnded = new CompletableFuture<>();
        Thread.ofPlatform().name("clients").start(() -> {
            try {
                Channel<String> done = new Channel<>("done", clients);
                for (int i = 0; i < clients; i++) {
                    String line = "client " + i + "\n";
                    Coroutine.create("client " + i, () -> {
                        try {
                            replies.put(line, talk(address, line, served));
                        } finally {
                            done.send(line);
                        }
                    });
                }
                for (int i = 0; i < clients; i++) {
                    done.receive(); // parks; the clients run meanwhile
                }
                crewEnded.complete(null);
            } catch (Throwable t) {
                crewEnded.completeExceptionally(t);
            } finally {
                stop.complete(null); // every client has its echo (or failed): the server stops
            }
        });
        try {
            serve(address, 2, stop);
        } finally {
            served.complete(null); // a client still refused gives up: the server has ended
            stop.complete(null);
            crewEnded.join();
        }
        assertThat(replies).hasSize(clients);
        replies.forEach((line, reply) -> assertThat(reply).as("the echo of %s", line.strip()).isEqualTo(line));
    }

    /**
     * A client: connects to {@code address} (again while no listener is bound there yet: the pool's
     * threads bind theirs once they run, and until the first has, the connection is refused), sends
     * {@code line}, half-closes, and reads the echo up to the server's close.
     */
    private static String talk(InetSocketAddress address, String line, CompletableFuture<Void> served) {
        while (true) {
            try (TcpConnection c = TcpConnection.connect(address)) {
                c.output().write(line.getBytes(StandardCharsets.UTF_8));
                c.shutdownOutput();                                   // the echo reads -1 and closes
                return new String(c.input().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                if (!(e.getCause() instanceof ConnectException) || served.isDone()) {
                    throw new UncheckedIOException(e);
                }
                Coroutine.yield(); // refused: no listener bound yet
            }
        }
    }

    /** A loopback address whose port was free a moment ago: the doc's server takes a fixed port. */
    private static InetSocketAddress freeLoopbackAddress() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 0, InetAddress.getLoopbackAddress())) {
            return new InetSocketAddress(InetAddress.getLoopbackAddress(), s.getLocalPort());
        }
    }
}
