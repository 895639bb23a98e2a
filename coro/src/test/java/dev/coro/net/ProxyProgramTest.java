package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static dev.coro.net.TcpConnectionTest.name;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.CoroutinePool;
import dev.coro.FreshThread;
import dev.coro.PoolsClosed;
import dev.coro.VirtualTime;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A whole program: a TCP proxy. The first test relays blocking peers on plain threads through two pumping
 * coroutines per client; the others run {@link Proxy}, written against the public API alone, on main's thread
 * and on a pool's, with backends that reply then close, echo, refuse, or reset mid-stream, and clients that
 * half-close, fall idle, vanish mid-transfer, read slowly, or come two hundred at once.
 */
@Tag("net")
@ExtendWith({FreshThread.class, PoolsClosed.class})
class ProxyProgramTest {

    /** The buffer size a test that checks backpressure gives every socket, so that a few MB outrun them all. */
    private static final int SMALL = 64 << 10;

    /** Copies {@code from} to {@code to} until the end of the stream, then half-closes {@code to}; counts the bytes. */
    private static void pump(TcpConnection from, TcpConnection to, AtomicLong count) {
        ByteBuffer buf = ByteBuffer.allocate(7919); // odd-sized, to cut writes anywhere
        try {
            while (from.read(buf.clear()) >= 0) {
                count.addAndGet(buf.flip().remaining());
                to.write(buf);
            }
            to.shutdownOutput();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void aProxyCarriesEveryByteBothWaysInOrderAndPassesEachHalfCloseOn() throws Exception {
        int clients = 4;
        int size = 3 << 20; // past the socket buffers both ways, so every pump parks in its writes too
        try (ServerSocket upstream = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            // upstream: reverses nothing, echoes every byte, then closes once its client half-closed
            Thread echo = Thread.ofPlatform().start(() -> {
                List<Thread> handlers = new ArrayList<>();
                try {
                    for (int i = 0; i < clients; i++) {
                        Socket s = upstream.accept();
                        handlers.add(Thread.ofPlatform().start(() -> {
                            try (s) {
                                s.setSoTimeout(60_000); // a guard: a broken proxy fails the test instead of hanging it
                                s.getInputStream().transferTo(s.getOutputStream());
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                        }));
                    }
                    for (Thread h : handlers) {
                        h.join();
                    }
                } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            CompletableFuture<InetSocketAddress> proxyAddress = new CompletableFuture<>();
            AtomicLong up = new AtomicLong();
            AtomicLong down = new AtomicLong();
            Thread proxy = Thread.ofPlatform().start(() -> {
                try (TcpListener l = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0))) {
                    proxyAddress.complete((InetSocketAddress) l.localAddress());
                    List<Coroutine> pumps = new ArrayList<>();
                    Channel<String> done = new Channel<>("done", 2 * clients);
                    for (int i = 0; i < clients; i++) {
                        TcpConnection client = l.accept();
                        TcpConnection server = TcpConnection.connect(upstream.getLocalSocketAddress());
                        pumps.add(Coroutine.create("up " + i, () -> {
                            try {
                                pump(client, server, up);
                            } finally {
                                done.send("up");
                            }
                        }));
                        pumps.add(Coroutine.create("down " + i, () -> {
                            try (client; server) {
                                pump(server, client, down);
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            } finally {
                                done.send("down");
                            }
                        }));
                    }
                    for (int i = 0; i < 2 * clients; i++) {
                        done.receive(); // parks while the pumps wait on their sockets
                    }
                    Coroutine.yield();
                    assertThat(pumps).allMatch(Coroutine::isFinished);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            InetSocketAddress at = proxyAddress.get();
            List<Thread> users = new ArrayList<>();
            List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int i = 0; i < clients; i++) {
                long seed = i;
                users.add(Thread.ofPlatform().start(() -> {
                    byte[] sent = new byte[size];
                    new Random(seed).nextBytes(sent);
                    try (Socket s = new Socket(at.getAddress(), at.getPort())) {
                        s.setSoTimeout(60_000); // a guard, as above
                        Thread writer = Thread.ofPlatform().start(() -> {
                            try {
                                OutputStream o = s.getOutputStream(); // closing it would close the socket
                                for (int off = 0; off < size; off += 100_003) {
                                    o.write(sent, off, Math.min(100_003, size - off));
                                }
                                s.shutdownOutput();
                            } catch (IOException e) {
                                failures.add(e);
                            }
                        });
                        InputStream in = s.getInputStream();
                        byte[] got = in.readAllBytes(); // up to the proxy passing the upstream's close on
                        writer.join();
                        assertThat(got.length).isEqualTo(size);
                        assertThat(java.util.Arrays.equals(got, sent)).as("every byte back, in order").isTrue();
                    } catch (IOException | InterruptedException | AssertionError e) {
                        failures.add(e);
                    }
                }));
            }
            for (Thread u : users) {
                u.join();
            }
            proxy.join();
            echo.join();
            assertThat(failures).isEmpty();
            assertThat(up.get()).isEqualTo((long) clients * size);
            assertThat(down.get()).isEqualTo((long) clients * size);
        }
    }

    @Test
    @Timeout(30)
    void aClientsHalfCloseReachesTheBackendAsItsEndOfStreamAndTheBackendsLastReplyStillReachesTheClient() throws Exception {
        try (TcpListener backend = TcpListener.bind(LOOPBACK);
             TcpListener front = TcpListener.bind(LOOPBACK)) {
            Proxy proxy = new Proxy(backend.localAddress(), null, 0);
            Crew crew = new Crew();
            crew.spawn("backend", () -> { // replies once it has read the end of the request's stream, then closes
                try (TcpConnection c = backend.accept()) {
                    byte[] request = c.input().readAllBytes();
                    c.write(bytes("got " + new String(request, StandardCharsets.UTF_8)));
                }
            });
            crew.spawn("proxy", () -> proxy.serve(front, 1));
            List<Object> seen = new ArrayList<>();
            crew.spawn("client", () -> {
                try (TcpConnection c = TcpConnection.connect(front.localAddress())) {
                    c.write(bytes("hello"));
                    c.shutdownOutput();
                    seen.add(new String(c.input().readAllBytes(), StandardCharsets.UTF_8));
                    seen.add(c.read(ByteBuffer.allocate(1))); // the end of the stream, again
                }
            });
            crew.join();
            assertThat(seen).containsExactly("got hello", -1);
            assertThat(proxy.log).containsExactly("up 0: end of stream passed on", "down 0: end of stream passed on");
            assertThat(proxy.connections).hasSize(2).noneMatch(TcpConnection::isOpen);
        }
    }

    @Test
    @Timeout(30)
    void aPairThatPassesNothingForItsIdleTimeoutIsClosedAndBothPeersReadTheEndOfTheStream() throws Exception {
        Duration idle = Duration.ofMillis(200);
        try (TcpListener backend = TcpListener.bind(LOOPBACK);
             TcpListener front = TcpListener.bind(LOOPBACK)) {
            Proxy proxy = new Proxy(backend.localAddress(), idle, 0);
            Crew crew = new Crew();
            List<Object> backendSaw = new ArrayList<>();
            crew.spawn("backend", () -> { // echoes until the end of the stream
                try (TcpConnection c = backend.accept()) {
                    ByteBuffer buf = ByteBuffer.allocate(64);
                    int n;
                    while ((n = c.read(buf.clear())) >= 0) {
                        c.write(buf.flip());
                    }
                    backendSaw.add(n);
                }
            });
            crew.spawn("proxy", () -> proxy.serve(front, 1));
            List<Object> clientSaw = new ArrayList<>();
            crew.spawn("client", () -> {
                try (TcpConnection c = TcpConnection.connect(front.localAddress())) {
                    c.write(bytes("ping"));
                    clientSaw.add(new String(c.input().readNBytes(4), StandardCharsets.UTF_8));
                    clientSaw.add(c.read(ByteBuffer.allocate(1))); // parks, passing nothing, until the proxy gives up
                }
            });
            crew.join();
            assertThat(clientSaw).containsExactly("ping", -1);
            assertThat(backendSaw).containsExactly(-1);
            // the pump whose read times out first with the pair idle closes both; the other's read then fails
            // for the close, or times out as well and finds the pair idle (both timers due at one tick)
            TcpConnection client = proxy.connections.get(0);
            TcpConnection server = proxy.connections.get(1);
            String up = "up 0: idle for PT0.2S, closed both";
            String down = "down 0: idle for PT0.2S, closed both";
            String upClosed = "up 0: coroutine 'up 0' cannot read from " + name(client)
                    + " (closed): the connection was closed while it waited";
            String downClosed = "down 0: coroutine 'down 0' cannot read from " + name(server)
                    + " (closed): the connection was closed while it waited";
            assertThat(proxy.log).hasSize(2).isSubsetOf(up, down, upClosed, downClosed).containsAnyOf(up, down)
                    .doesNotContainSequence(upClosed, downClosed);
            assertThat(proxy.connections).noneMatch(TcpConnection::isOpen);
        }
    }

    @Test
    @Timeout(30)
    void underVirtualTimeAnIdlePairIsClosedItsTimeoutAfterItsLastByteAndEachPumpSaysSo() throws Exception {
        List<Object> seen = new ArrayList<>();
        List<Object> backendSaw = new ArrayList<>();
        List<String> log = new ArrayList<>();
        VirtualTime.run(() -> { // I/O is real; the clock jumps to a timer once nothing has come for as long, in real time
            try (TcpListener backend = TcpListener.bind(LOOPBACK);
                 TcpListener front = TcpListener.bind(LOOPBACK)) {
                Proxy proxy = new Proxy(backend.localAddress(), Duration.ofMillis(200), 0);
                Crew crew = new Crew();
                crew.spawn("backend", () -> {
                    try (TcpConnection c = backend.accept()) {
                        ByteBuffer buf = ByteBuffer.allocate(64);
                        while (c.read(buf.clear()) >= 0) {
                            c.write(buf.flip());
                        }
                        backendSaw.add("end of stream at " + Coroutine.nanoTime() / 1_000_000 + " ms");
                    }
                });
                crew.spawn("proxy", () -> proxy.serve(front, 1));
                crew.spawn("client", () -> {
                    try (TcpConnection c = TcpConnection.connect(front.localAddress())) {
                        Coroutine.sleep(Duration.ofMillis(50));
                        c.write(bytes("ping"));
                        seen.add(new String(c.input().readNBytes(4), StandardCharsets.UTF_8) + " at " + Coroutine.nanoTime() / 1_000_000 + " ms");
                        seen.add(c.read(ByteBuffer.allocate(1)) + " at " + Coroutine.nanoTime() / 1_000_000 + " ms");
                    }
                });
                crew.join();
                log.addAll(proxy.log);
                assertThat(proxy.connections).hasSize(2).noneMatch(TcpConnection::isOpen);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        assertThat(seen).containsExactly("ping at 50 ms", "-1 at 250 ms");
        assertThat(backendSaw).containsExactly("end of stream at 250 ms");
        // both pumps' reads began at 50 ms, so both time out at 250 ms, at one jump of the clock: the first to run
        // closes both connections, the other's read was cut by its own timeout before that close, and finds the pair idle too
        assertThat(log).containsExactly("down 0: idle for PT0.2S, closed both", "up 0: idle for PT0.2S, closed both");
    }

    @Test
    @Timeout(30)
    void aBackendThatRefusesClosesTheClientAndTheProxySaysWhichConnectWasRefused() throws Exception {
        SocketAddress nobody;
        try (TcpListener gone = TcpListener.bind(LOOPBACK)) {
            nobody = gone.localAddress(); // closed: nobody listens there any more
        }
        try (TcpListener front = TcpListener.bind(LOOPBACK)) {
            Proxy proxy = new Proxy(nobody, null, 0);
            Crew crew = new Crew();
            crew.spawn("proxy", () -> proxy.serve(front, 1));
            List<Object> clientSaw = new ArrayList<>();
            crew.spawn("client", () -> {
                try (TcpConnection c = TcpConnection.connect(front.localAddress())) {
                    clientSaw.add(c.read(ByteBuffer.allocate(1)));
                }
            });
            crew.join();
            assertThat(clientSaw).containsExactly(-1);
            assertThat(proxy.log).containsExactly("pair 0: coroutine 'pair 0' cannot connect to " + nobody
                    + ": java.net.ConnectException: Connection refused");
            assertThat(proxy.connections).hasSize(1).noneMatch(TcpConnection::isOpen);
        }
    }

    /**
     * The backend writes part of its reply, waits until the client has read all of that part through the proxy,
     * then resets the connection, the rest of the reply never sent: the reset cuts the reply part way, at a byte
     * the test knows. The client reads exactly that prefix, each byte once and in order, then fails for the reset
     * the proxy passes on, naming itself, the call, the connection and its state; so do both pumps.
     */
    @Test
    @Timeout(30)
    void aBackendThatResetsMidStreamResetsTheClientAfterAPrefixOfItsBytesAndEndsBothPumps() throws Exception {
        byte[] reply = pattern(100_000, 7);
        int prefix = 60_001; // where the reset cuts the reply: past the proxy's buffer of 16 KiB, an odd place in it
        try (TcpListener backend = TcpListener.bind(LOOPBACK);
             TcpListener front = TcpListener.bind(LOOPBACK)) {
            Proxy proxy = new Proxy(backend.localAddress(), null, 0);
            Crew crew = new Crew();
            CompletableFuture<Void> prefixRead = new CompletableFuture<>();
            ByteBuffer sent = ByteBuffer.wrap(reply, 0, prefix);
            crew.spawn("backend", () -> { // part of a reply, then, once the client has read it, a reset
                TcpConnection c = backend.accept();
                c.input().readNBytes(3);
                c.write(sent);
                // a guard against a hang, not a cut: a client that never reads the whole prefix is reset after it
                Coroutine.tryWithTimeout(Duration.ofSeconds(20), () -> {
                    Coroutine.await(prefixRead);
                });
                c.setOption(StandardSocketOptions.SO_LINGER, 0);
                c.close(); // the rest of the reply never sent
            });
            crew.spawn("proxy", () -> proxy.serve(front, 1));
            ByteBuffer got = ByteBuffer.allocate(reply.length + 1);
            IOException[] clientEnd = new IOException[1];
            TcpConnection[] client = new TcpConnection[1];
            crew.spawn("client", () -> {
                try (TcpConnection c = TcpConnection.connect(front.localAddress())) {
                    client[0] = c;
                    c.write(bytes("get"));
                    while (c.read(got) >= 0) {
                        if (got.position() == prefix) {
                            prefixRead.complete(null); // and reads on, until the proxy passes the reset on
                        }
                    }
                } catch (IOException e) {
                    clientEnd[0] = e;
                }
            });
            crew.join();
            assertThat(sent.position()).as("what the backend's write reported written").isEqualTo(prefix);
            assertThat(got.position()).as("the bytes the client read, of the %d the backend wrote before its reset", prefix)
                    .isEqualTo(prefix);
            assertThat(Arrays.equals(got.array(), 0, prefix, reply, 0, prefix)).as("the prefix, each byte once and in order")
                    .isTrue();
            assertThat(clientEnd[0]).isInstanceOf(SocketException.class).hasMessage("coroutine 'client' cannot read from "
                    + name(client[0]) + " (open): java.net.SocketException: Connection reset");
            assertThat(proxy.log).containsExactly(
                    "down 0: coroutine 'down 0' cannot read from " + name(proxy.connections.get(1))
                            + " (open): java.net.SocketException: Connection reset",
                    "up 0: coroutine 'up 0' cannot read from " + name(proxy.connections.get(0))
                            + " (closed): the connection was closed while it waited");
            assertThat(proxy.connections).hasSize(2).noneMatch(TcpConnection::isOpen);
        }
    }

    @Test
    @Timeout(30)
    void pumpsOfTransferToPassAHalfCloseOnAndOnABackendsResetSayHowMuchEachHadCarried() throws Exception {
        byte[] reply = pattern(100_000, 11);
        try (TcpListener backend = TcpListener.bind(LOOPBACK);
             TcpListener front = TcpListener.bind(LOOPBACK)) {
            Proxy proxy = Proxy.viaStreams(backend.localAddress());
            Crew crew = new Crew();
            crew.spawn("backend", () -> {
                try (TcpConnection c = backend.accept()) { // the first client: an answer once its request has ended
                    byte[] request = c.input().readAllBytes();
                    c.write(bytes("got " + new String(request, StandardCharsets.UTF_8)));
                }
                TcpConnection c = backend.accept(); // the second: part of a reply, then a reset
                c.input().readNBytes(3);
                c.write(ByteBuffer.wrap(reply));
                c.setOption(StandardSocketOptions.SO_LINGER, 0);
                c.close();
            });
            crew.spawn("proxy", () -> proxy.serve(front, 2));
            List<String> seen = new ArrayList<>();
            TcpConnection[] second = new TcpConnection[1];
            crew.spawn("client", () -> {
                try (TcpConnection c = TcpConnection.connect(front.localAddress())) {
                    c.write(bytes("hello"));
                    c.shutdownOutput();
                    seen.add(new String(c.input().readAllBytes(), StandardCharsets.UTF_8));
                }
                try (TcpConnection c = TcpConnection.connect(front.localAddress())) {
                    second[0] = c;
                    c.write(bytes("get"));
                    c.input().readAllBytes();
                } catch (SocketException e) { // the reset passed on, the count of what came before it suppressed in it
                    seen.add(e.getMessage());
                    seen.add(e.getSuppressed()[0].getMessage());
                }
            });
            crew.join();
            String c = name(second[0]);
            assertThat(seen).hasSize(3).startsWith("got hello",
                    "coroutine 'client' cannot read from " + c + " (open): java.net.SocketException: Connection reset");
            assertThat(seen.get(2)).matches(Pattern.quote("coroutine 'client' failed reading from " + c + " (open, failed): ")
                    + "\\d+" + Pattern.quote(" bytes of this read to the end of the stream were read before it;"
                    + " they are lost with the array it did not return"));
            TcpConnection fromClient = proxy.connections.stream().filter(x -> x.remoteAddress().equals(second[0].localAddress()))
                    .findFirst().orElseThrow();
            TcpConnection toBackend = proxy.backendOf.get(fromClient);
            assertThat(proxy.log).hasSize(4).startsWith("up 0: end of stream passed on", "down 0: end of stream passed on");
            // each pump's transferTo says how much it carried: the one a close cut in its message, the one the
            // reset failed (a SocketException, kept as it is) in an exception suppressed in it
            assertThat(proxy.log.get(2)).matches(Pattern.quote("down 1: coroutine 'down 1' cannot read from " + name(toBackend)
                    + " (open): java.net.SocketException: Connection reset [coroutine 'down 1' failed transferring from "
                    + name(toBackend) + " (open, failed): ") + "\\d+" + Pattern.quote(" bytes of this transfer were written to its output before it]"));
            assertThat(proxy.log.get(3)).isEqualTo("up 1: coroutine 'up 1' cannot read from " + name(fromClient)
                    + " (closed): the connection was closed while it waited; 3 bytes of this transfer were written to its output before it failed");
            // the counts are what went through: the client read at most what the pump carried to it, the pump at most the
            // reply, and both some (the bytes that came before a reset are read before it is reported)
            long carried = count(proxy.log.get(2), " bytes of this transfer");
            long read = count(seen.get(2), " bytes of this read");
            assertThat(List.of(read, carried)).as("what the client read, what the pump carried to it (of %d)", reply.length)
                    .allMatch(n -> n > 0 && n <= reply.length);
            assertThat(read).as("what the client read, of what the pump carried to it").isLessThanOrEqualTo(carried);
            assertThat(proxy.connections).hasSize(4).noneMatch(TcpConnection::isOpen);
        }
    }

    /** The number just before {@code words} in {@code message}. */
    private static long count(String message, String words) {
        Matcher m = Pattern.compile("(\\d+)" + Pattern.quote(words)).matcher(message);
        assertThat(m.find()).as("a count in %s", message).isTrue();
        return Long.parseLong(m.group(1));
    }

    @Test
    @Timeout(30)
    void aClientThatVanishesMidDownloadEndsBothPumpsAndTheBackendsWriteFailsInsteadOfHanging() throws Exception {
        byte[] chunk = pattern(SMALL, 3);
        int chunks = 128; // 8 MB: far more than the buffers between the backend and the client hold
        try (TcpListener backend = TcpListener.bind(LOOPBACK);
             TcpListener front = TcpListener.bind(LOOPBACK)) {
            Proxy proxy = new Proxy(backend.localAddress(), null, SMALL);
            Crew crew = new Crew();
            long[] sent = {0};
            IOException[] backendEnd = new IOException[1];
            TcpConnection[] served = new TcpConnection[1];
            crew.spawn("backend", () -> { // streams its download until the proxy gives up on it
                try (TcpConnection c = backend.accept()) {
                    served[0] = small(c);
                    for (int i = 0; i < chunks; i++) {
                        c.write(ByteBuffer.wrap(chunk));
                        sent[0] += chunk.length;
                    }
                } catch (IOException e) {
                    backendEnd[0] = e;
                }
            });
            crew.spawn("proxy", () -> proxy.serve(front, 1));
            byte[][] got = new byte[1][];
            crew.spawn("client", () -> {
                TcpConnection c = small(TcpConnection.connect(front.localAddress()));
                got[0] = c.input().readNBytes(SMALL);
                c.close(); // the rest of the download unread: a reset
            });
            crew.join();
            assertThat(got[0]).isEqualTo(chunk);
            assertThat(sent[0]).as("what the backend wrote before its write failed").isLessThan((long) chunks * chunk.length);
            assertThat(backendEnd[0]).isInstanceOf(SocketException.class);
            assertThat(backendEnd[0].getMessage()).startsWith("coroutine 'backend' cannot write to " + name(served[0])
                    + " (open): java.io.IOException: "); // the kernel's words: Connection reset by peer, or Broken pipe
            // the first pump told of the reset aborts the pair; the other is failed by that, or told of it too
            assertThat(proxy.log).hasSize(2).anyMatch(l -> l.startsWith("up 0: coroutine 'up 0' cannot read from "))
                    .anyMatch(l -> l.startsWith("down 0: coroutine 'down 0' cannot "));
            assertThat(proxy.connections).hasSize(2).noneMatch(TcpConnection::isOpen);
        }
    }

    @Test
    @Timeout(30)
    void aLargeTransferThroughToASlowReaderHoldsEveryWriterBackThenComesBackByteForByte() throws Exception {
        int size = 4 << 20;
        byte[] sent = new byte[size];
        new Random(42).nextBytes(sent);
        try (TcpListener backend = TcpListener.bind(LOOPBACK);
             TcpListener front = TcpListener.bind(LOOPBACK)) {
            Proxy proxy = new Proxy(backend.localAddress(), null, SMALL);
            Crew crew = new Crew();
            TcpConnection[] echoed = new TcpConnection[1];
            crew.spawn("echo", () -> {
                try (TcpConnection c = small(backend.accept())) {
                    echoed[0] = c;
                    ByteBuffer buf = ByteBuffer.allocate(8192);
                    while (c.read(buf.clear()) >= 0) {
                        c.write(buf.flip());
                    }
                }
            });
            crew.spawn("proxy", () -> proxy.serve(front, 1));
            TcpConnection client = small(TcpConnection.connect(front.localAddress()));
            long[] written = {0};
            crew.spawn("writer", () -> {
                for (int off = 0; off < size; off += SMALL) {
                    client.write(ByteBuffer.wrap(sent, off, SMALL));
                    written[0] += SMALL;
                }
                client.shutdownOutput();
            });
            // nobody reads the client's side yet: every writer along the way fills its buffers and parks
            TcpConnection fromClient = null;
            TcpConnection toBackend = null;
            List<String> parked = List.of();
            for (int round = 0; round < 10_000 && parked.size() < 4; round++) {
                Coroutine.sleep(Duration.ofMillis(1));
                if (proxy.connections.size() == 2 && echoed[0] != null) {
                    fromClient = proxy.connections.get(0);
                    toBackend = proxy.connections.get(1);
                    String dump = Coroutine.dump(Integer.MAX_VALUE);
                    parked = List.of("coroutine 'writer': PARKED, waits to write to " + name(client),
                            "coroutine 'up 0': PARKED, waits to write to " + name(toBackend),
                            "coroutine 'echo': PARKED, waits to write to " + name(echoed[0]),
                            "coroutine 'down 0': PARKED, waits to write to " + name(fromClient));
                    parked = parked.stream().filter(dump::contains).toList();
                }
            }
            assertThat(parked).as("writers parked, with %d of %d bytes written", written[0], size).hasSize(4);
            assertThat(written[0]).as("what the proxy and the echo let through before they were held back")
                    .isLessThan(size);
            ByteBuffer got = ByteBuffer.allocate(size + 1);
            ByteBuffer sip = ByteBuffer.allocate(4096); // a slow reader: a few kilobytes at a time, letting the others run
            while (client.read(sip.clear()) >= 0) {
                got.put(sip.flip());
                Coroutine.yield();
            }
            client.close();
            crew.join();
            assertThat(got.position()).isEqualTo(size);
            assertThat(Arrays.equals(got.array(), 0, size, sent, 0, size)).as("every byte back, in order").isTrue();
            assertThat(proxy.log).containsExactly("up 0: end of stream passed on", "down 0: end of stream passed on");
            assertThat(proxy.connections).noneMatch(TcpConnection::isOpen);
        }
    }

    @Test
    @Timeout(30)
    void twoHundredClientsAtOnceAreEachRelayedTheirOwnBytesBackAndEveryConnectionIsClosed() throws Exception {
        int clients = 200;
        try (TcpListener backend = TcpListener.bind(LOOPBACK);
             TcpListener front = TcpListener.bind(LOOPBACK)) {
            Proxy proxy = new Proxy(backend.localAddress(), null, 0);
            Crew crew = new Crew();
            crew.spawn("backend", () -> echoServer(backend, clients, crew));
            crew.spawn("proxy", () -> proxy.serve(front, clients));
            int[] served = {0};
            for (int i = 0; i < clients; i++) {
                byte[] mine = pattern(2_000 + i, i);
                crew.spawn("client " + i, () -> {
                    try (TcpConnection c = TcpConnection.connect(front.localAddress())) {
                        c.write(ByteBuffer.wrap(mine));
                        c.shutdownOutput();
                        assertThat(c.input().readAllBytes()).isEqualTo(mine);
                        served[0]++;
                    }
                });
            }
            crew.join();
            assertThat(served[0]).isEqualTo(clients);
            assertThat(proxy.log).hasSize(2 * clients).allMatch(l -> l.endsWith(": end of stream passed on"));
            assertThat(proxy.connections).hasSize(2 * clients).noneMatch(TcpConnection::isOpen);
        }
    }

    @Test
    @Timeout(30)
    void onAPoolEachThreadRelaysTheClientsItsOwnListenerAcceptsWithSoReusePort() throws Exception {
        int clients = 40;
        try (TcpListener backend = TcpListener.bind(LOOPBACK)) {
            Crew crew = new Crew();
            crew.spawn("backend", () -> echoServer(backend, clients, crew));
            CompletableFuture<Void> stop = new CompletableFuture<>();
            List<Proxy> proxies = List.of(new Proxy(backend.localAddress(), null, 0), new Proxy(backend.localAddress(), null, 0));
            int[] served = {0};
            try (CoroutinePool pool = CoroutinePool.start(2)) {
                try {
                    // two long-lived bodies: placement puts one on each thread; a connection stays on the thread
                    // that accepted it, so each thread accepts with a listener of its own on the shared port
                    CompletableFuture<SocketAddress> firstBound = new CompletableFuture<>();
                    CompletableFuture<String> first = pool.submit("proxy a", () -> relayUntil(LOOPBACK, proxies.get(0), "a", firstBound, stop));
                    SocketAddress address = Coroutine.await(firstBound);
                    CompletableFuture<SocketAddress> secondBound = new CompletableFuture<>();
                    CompletableFuture<String> second = pool.submit("proxy b", () -> relayUntil(address, proxies.get(1), "b", secondBound, stop));
                    Coroutine.await(secondBound);
                    for (int i = 0; i < clients; i++) {
                        byte[] mine = pattern(5_000 + i, i);
                        crew.spawn("client " + i, () -> {
                            try (TcpConnection c = TcpConnection.connect(address)) {
                                c.write(ByteBuffer.wrap(mine));
                                c.shutdownOutput();
                                assertThat(c.input().readAllBytes()).isEqualTo(mine);
                                served[0]++;
                            }
                        });
                    }
                    crew.join();
                    stop.complete(null);
                    assertThat(List.of(Coroutine.await(first), Coroutine.await(second))).doesNotHaveDuplicates();
                } finally {
                    stop.complete(null); // after a failure too: the pool's close does not wait for ever
                }
            }
            assertThat(served[0]).isEqualTo(clients);
            List<String> log = new ArrayList<>(proxies.get(0).log);
            log.addAll(proxies.get(1).log);
            assertThat(log).hasSize(2 * clients).allMatch(l -> l.endsWith(": end of stream passed on"));
            assertThat(proxies.get(0).connections.size() + proxies.get(1).connections.size()).isEqualTo(2 * clients);
            assertThat(proxies).allSatisfy(p -> assertThat(p.connections).noneMatch(TcpConnection::isOpen));
        }
    }

    @Test
    @Timeout(30)
    void aClientConnectionClosedFromAnotherThreadEndsItsPairAndResetsItsBackendWhileTheOtherPairGoesOn() throws Exception {
        try (TcpListener backend = TcpListener.bind(LOOPBACK)) {
            Crew crew = new Crew();
            List<String> echoEnds = new ArrayList<>();
            crew.spawn("backend", () -> {
                for (int i = 0; i < 2; i++) {
                    TcpConnection c = backend.accept();
                    crew.spawn("echo " + i, () -> {
                        try (c) {
                            ByteBuffer buf = ByteBuffer.allocate(64);
                            while (c.read(buf.clear()) >= 0) {
                                c.write(buf.flip());
                            }
                            echoEnds.add("end of stream");
                        } catch (IOException e) {
                            echoEnds.add(e.getMessage());
                        }
                    });
                }
            });
            Proxy proxy = new Proxy(backend.localAddress(), null, 0);
            CompletableFuture<Void> stop = new CompletableFuture<>();
            List<Object> seen = new ArrayList<>();
            try (CoroutinePool pool = CoroutinePool.start(1)) {
                try {
                    CompletableFuture<SocketAddress> bound = new CompletableFuture<>();
                    CompletableFuture<String> served = pool.submit("proxy", () -> relayUntil(LOOPBACK, proxy, "", bound, stop));
                    SocketAddress address = Coroutine.await(bound);
                    try (TcpConnection first = TcpConnection.connect(address);
                         TcpConnection second = TcpConnection.connect(address)) {
                        for (TcpConnection c : List.of(first, second)) {
                            c.write(bytes("ping"));
                            seen.add(new String(c.input().readNBytes(4), StandardCharsets.UTF_8));
                        }
                        // an admin on this thread drops the first client: its close is posted to the pool's thread.
                        // The pool's thread adds to the list: a copy made under the list's lock, not its stream
                        TcpConnection dropped = List.copyOf(proxy.connections).stream()
                                .filter(p -> p.remoteAddress().equals(first.localAddress())).findFirst().orElseThrow();
                        dropped.close();
                        assertThat(dropped.isOpen()).isFalse();
                        seen.add(first.read(ByteBuffer.allocate(1)));
                        second.write(bytes("pong")); // the other pair goes on
                        seen.add(new String(second.input().readNBytes(4), StandardCharsets.UTF_8));
                        second.shutdownOutput();
                        seen.add(second.read(ByteBuffer.allocate(1)));
                        stop.complete(null);
                        Coroutine.await(served);
                        crew.join();
                        assertThat(proxy.log).startsWith( // the first client connected first, so was accepted first
                                "up 0: coroutine 'up 0' cannot read from " + name(dropped)
                                        + " (closed): the connection was closed while it waited",
                                "down 0: coroutine 'down 0' cannot read from " + name(proxy.backendOf.get(dropped))
                                        + " (closed): the connection was closed while it waited");
                        TcpConnection toBackend = proxy.backendOf.get(dropped);
                        String reset = "' cannot read from connection " + toBackend.remoteAddress() + " -> " + toBackend.localAddress()
                                + " (open): java.net.SocketException: Connection reset"; // the abort's reset
                        assertThat(echoEnds).as("the echo that served it is the first or the second accepted")
                                .containsAnyOf("coroutine 'echo 0" + reset, "coroutine 'echo 1" + reset);
                    }
                } finally {
                    stop.complete(null);
                }
            }
            assertThat(seen).containsExactly("ping", "ping", -1, "pong", -1);
            assertThat(proxy.log).hasSize(4).endsWith("up 1: end of stream passed on", "down 1: end of stream passed on");
            assertThat(echoEnds).hasSize(2).contains("end of stream");
            assertThat(proxy.connections).hasSize(4).noneMatch(TcpConnection::isOpen);
        }
    }

    @Test
    @Timeout(30)
    void aConnectionAcceptedOnOnePoolThreadAndHandedToACoroutineOfTheOtherIsRefusedThereNamingBothThreads() throws Exception {
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            Channel<TcpConnection> handOver = new Channel<>("hand-over", 1);
            CompletableFuture<SocketAddress> bound = new CompletableFuture<>();
            // two long-lived bodies: placement puts the first on the pool's first thread, the second on the other
            CompletableFuture<Void> acceptor = pool.submit("acceptor", () -> {
                try (TcpListener l = TcpListener.bind(LOOPBACK)) {
                    bound.complete(l.localAddress());
                    handOver.send(l.accept());
                    return null;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            CompletableFuture<Void> worker = pool.submit("worker", () -> {
                try (TcpConnection c = handOver.receive()) {
                    c.read(ByteBuffer.allocate(1));
                    return null;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            try (TcpConnection client = TcpConnection.connect(Coroutine.await(bound))) {
                Coroutine.await(acceptor);
                String c = "connection " + client.remoteAddress() + " -> " + client.localAddress();
                assertThatThrownBy(() -> Coroutine.await(worker))
                        .isInstanceOf(java.util.concurrent.CompletionException.class)
                        .cause().isInstanceOf(IllegalStateException.class)
                        .hasMessage("coroutine 'worker' of thread " + poolThread(pool, 1) + " cannot read from " + c
                                + " (open): it belongs to thread " + poolThread(pool, 0));
                assertThat(client.read(ByteBuffer.allocate(1))).as("the worker's close, posted to the acceptor's thread")
                        .isEqualTo(-1);
            }
        }
    }

    /**
     * Thread {@code i} of {@code pool} as messages name a thread: {@code 'coro-pool-N-i' (#id)}. Looked up by its
     * name, since a body's {@code Thread.currentThread()} is its own virtual thread on the thread engine.
     */
    private static String poolThread(CoroutinePool pool, int i) {
        String name = pool.name() + "-" + i;
        Thread t = Thread.getAllStackTraces().keySet().stream().filter(x -> x.getName().equals(name)).findFirst().orElseThrow();
        return "'" + name + "' (#" + t.threadId() + ")";
    }

    @Test
    @Timeout(30)
    void aClientThatClosesMidUploadHasItsPrefixAndItsEndOfStreamPassedToTheBackendWhichStillAnswers() throws Exception {
        byte[] prefix = pattern(100_000, 5);
        try (TcpListener backend = TcpListener.bind(LOOPBACK);
             TcpListener front = TcpListener.bind(LOOPBACK)) {
            Proxy proxy = new Proxy(backend.localAddress(), null, 0);
            Crew crew = new Crew();
            byte[][] upload = new byte[1][];
            crew.spawn("backend", () -> { // reads the upload to its end, answers, closes
                try (TcpConnection c = backend.accept()) {
                    upload[0] = c.input().readAllBytes();
                    c.write(bytes("got " + upload[0].length + " bytes"));
                }
            });
            crew.spawn("proxy", () -> proxy.serve(front, 1));
            crew.spawn("client", () -> {
                TcpConnection c = TcpConnection.connect(front.localAddress());
                c.write(ByteBuffer.wrap(prefix)); // a tenth of an upload, then gone
                c.close();
            });
            crew.join();
            assertThat(upload[0]).isEqualTo(prefix);
            // the answer finds the client gone: passing it on and the end of its stream may fail, or not yet
            assertThat(proxy.log).hasSize(2).contains("up 0: end of stream passed on")
                    .anyMatch(l -> l.startsWith("down 0: "));
            assertThat(proxy.connections).hasSize(2).noneMatch(TcpConnection::isOpen);
        }
    }

    @Test
    @Timeout(60)
    void closingThePoolNowMidTransferUnwindsEveryPairClosesItsConnectionsAndFailsTheClientsWrites() throws Exception {
        int clients = 4;
        byte[] chunk = pattern(SMALL, 9);
        try (TcpListener backend = TcpListener.bind(LOOPBACK)) {
            Crew crew = new Crew();
            List<String> echoEnds = new ArrayList<>();
            crew.spawn("backend", () -> {
                for (int i = 0; i < clients; i++) {
                    TcpConnection c = small(backend.accept());
                    crew.spawn("echo " + i, () -> {
                        try (c) {
                            ByteBuffer buf = ByteBuffer.allocate(4096);
                            while (c.read(buf.clear()) >= 0) {
                                c.write(buf.flip());
                            }
                            echoEnds.add("end of stream");
                        } catch (IOException e) { // the proxy's close may find the echo's bytes unread: a reset
                            echoEnds.add(e.getClass().getSimpleName());
                        }
                    });
                }
            });
            CompletableFuture<Void> never = new CompletableFuture<>();
            List<Proxy> proxies = List.of(new Proxy(backend.localAddress(), null, SMALL), new Proxy(backend.localAddress(), null, SMALL));
            List<TcpConnection> sides = new ArrayList<>();
            IOException[] writeEnds = new IOException[clients];
            CoroutinePool pool = CoroutinePool.start(2);
            try {
                CompletableFuture<SocketAddress> firstBound = new CompletableFuture<>();
                pool.submit("proxy a", () -> relayUntil(LOOPBACK, proxies.get(0), "a", firstBound, never));
                SocketAddress address = Coroutine.await(firstBound);
                CompletableFuture<SocketAddress> secondBound = new CompletableFuture<>();
                pool.submit("proxy b", () -> relayUntil(address, proxies.get(1), "b", secondBound, never));
                Coroutine.await(secondBound);
                for (int i = 0; i < clients; i++) {
                    TcpConnection c = small(TcpConnection.connect(address));
                    sides.add(c);
                    int id = i;
                    crew.spawn("writer " + i, () -> { // writes and never reads: every buffer along the way fills
                        try (c) {
                            for (int k = 0; k < 1_000; k++) {
                                c.write(ByteBuffer.wrap(chunk));
                            }
                        } catch (IOException e) {
                            writeEnds[id] = e;
                        }
                    });
                }
                long giveUp = System.nanoTime() + Duration.ofSeconds(30).toNanos(); // a guard against a hang, not a measure
                while (echoEnds.isEmpty() && proxies.get(0).connections.size() + proxies.get(1).connections.size() < 2 * clients
                        && System.nanoTime() - giveUp < 0) {
                    Coroutine.sleep(Duration.ofMillis(1)); // until every pair is relaying, on the pool's threads
                }
            } finally {
                pool.closeNow(); // unwinds the acceptors, the pairs and their pumps, wherever they wait
            }
            crew.join();
            for (int i = 0; i < clients; i++) {
                assertThat(writeEnds[i]).as("writer %d", i).isInstanceOf(SocketException.class);
                assertThat(writeEnds[i].getMessage()).startsWith("coroutine 'writer " + i + "' cannot write to "
                        + name(sides.get(i)) + " (open): java.io.IOException: "); // the kernel's words
            }
            assertThat(echoEnds).hasSize(clients);
            List<String> log = new ArrayList<>(proxies.get(0).log);
            log.addAll(proxies.get(1).log);
            // a pump unwound logs nothing; one whose pair was unwound first fails for the pair's close
            assertThat(log).allMatch(l -> l.matches("(up|down) [ab]\\d+: coroutine '(up|down) [ab]\\d+' cannot (read from|write to) "
                    + "connection \\S+ -> \\S+ \\(closed\\): the connection was closed while it waited"));
            assertThat(proxies.get(0).connections.size() + proxies.get(1).connections.size()).isEqualTo(2 * clients);
            assertThat(proxies).allSatisfy(p -> assertThat(p.connections).noneMatch(TcpConnection::isOpen));
        }
    }

    /**
     * A pool thread's body: binds a listener to {@code address} with {@code SO_REUSEPORT}, tells where,
     * relays what it accepts through {@code proxy} until {@code stop}, then waits for its pairs; returns the thread's name.
     */
    private static String relayUntil(SocketAddress address, Proxy proxy, String prefix,
                                     CompletableFuture<SocketAddress> bound, CompletableFuture<Void> stop) {
        try (TcpListener listener = TcpListener.bind(address, true)) {
            bound.complete(listener.localAddress());
            Coroutine acceptor = Coroutine.create("acceptor " + prefix, () -> {
                try {
                    proxy.accept(listener, prefix, Integer.MAX_VALUE);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            Coroutine.await(stop);
            acceptor.close(); // unwinds it out of accept
            proxy.join();
            return Thread.currentThread().getName();
        } catch (IOException e) {
            bound.completeExceptionally(e);
            throw new UncheckedIOException(e);
        }
    }

    /** Accepts {@code count} connections on {@code listener}, echoing each until its end of the stream in a coroutine of {@code crew}. */
    private static void echoServer(TcpListener listener, int count, Crew crew) throws IOException {
        for (int i = 0; i < count; i++) {
            TcpConnection c = listener.accept();
            crew.spawn("echo " + i, () -> {
                try (c) {
                    ByteBuffer buf = ByteBuffer.allocate(4096);
                    while (c.read(buf.clear()) >= 0) {
                        c.write(buf.flip());
                    }
                }
            });
        }
    }

    /** {@code c}, its buffers made {@link #SMALL} both ways. */
    private static TcpConnection small(TcpConnection c) throws IOException {
        return c.setOption(StandardSocketOptions.SO_RCVBUF, SMALL).setOption(StandardSocketOptions.SO_SNDBUF, SMALL);
    }

    /** {@code length} bytes that differ from client to client ({@code seed}) and along the way. */
    private static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 31 + seed * 7 + (i >> 8));
        }
        return b;
    }
}
