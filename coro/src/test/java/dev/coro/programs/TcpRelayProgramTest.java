package dev.coro.programs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.Coroutine;
import dev.coro.CoroutinePool;
import dev.coro.FreshThread;
import dev.coro.PoolsClosed;
import dev.coro.net.OpenSockets;
import dev.coro.net.TcpConnection;
import dev.coro.net.TcpListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.CRC32;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A TCP relay a user would write (TcpRelay), on a pool of two, between clients on the test's thread and a backend,
 * also coro, on a pool of its own, all on loopback: large transfers both ways at once with their checksums, a
 * client's half-close passed on while the backend's reply still comes back, a backend that resets, a slow reader
 * whose backend the relay holds back, an idle session closed, and a shutdown while sessions run. Every socket is
 * counted back at the end.
 */
@Tag("net")
@ExtendWith({FreshThread.class, PoolsClosed.class})
class TcpRelayProgramTest {

    private static final Duration GUARD = PoolsClosed.GUARD;
    private static final TcpRelay.Settings SETTINGS = new TcpRelay.Settings(GUARD, 16 << 10, 0);

    /** What a backend does with each connection it accepts, in a coroutine of its own. */
    @FunctionalInterface
    private interface Handler {
        void serve(TcpConnection c) throws IOException;
    }

    /** A backend on a pool of one thread: each connection it accepts served by {@code handler}, then closed. */
    private static final class Backend implements AutoCloseable {
        final CoroutinePool pool = CoroutinePool.start("backend", 1);
        final CompletableFuture<Void> stopping = new CompletableFuture<>();
        final List<TcpConnection> connections = new CopyOnWriteArrayList<>();
        volatile TcpListener listener;
        final SocketAddress address;
        final List<TcpRelay> relays = new ArrayList<>();

        Backend(Handler handler) {
            CompletableFuture<SocketAddress> bound = new CompletableFuture<>();
            pool.execute("backend acceptor", () -> {
                try (TcpListener l = TcpListener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
                    listener = l;
                    bound.complete(l.localAddress());
                    while (true) {
                        TcpConnection c = l.accept();
                        connections.add(c);
                        Coroutine.create("backend " + connections.size(), () -> {
                            try (c) {
                                handler.serve(c);
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                        });
                    }
                } catch (IOException e) {
                    if (!stopping.isDone()) {
                        bound.completeExceptionally(e);
                        throw new UncheckedIOException(e);
                    }
                }
            });
            address = Coroutine.await(bound);
        }

        /** A relay to this backend, closed before it. */
        TcpRelay relay(TcpRelay.Settings settings) {
            TcpRelay r = TcpRelay.start(address, settings);
            relays.add(r);
            return r;
        }

        @Override
        public void close() throws IOException {
            try {
                for (TcpRelay r : relays) {
                    r.close();
                }
            } finally {
                stopping.complete(null);
                listener.close();
                PoolsClosed.close(pool);
            }
        }
    }

    /** {@code n} bytes of a stream seeded by {@code seed}. */
    private static byte[] data(long seed, int n) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static long crc(byte[] b) {
        CRC32 c = new CRC32();
        c.update(b);
        return c.getValue();
    }

    /** What a read to the end of the stream took: its count and checksum. */
    private record Took(long count, long crc) {
        static Took of(byte[] b) {
            return new Took(b.length, TcpRelayProgramTest.crc(b));
        }
    }

    /** Reads {@code c} to its end of the stream: how many bytes, and their checksum. */
    private static Took readToEnd(TcpConnection c) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(32 << 10);
        CRC32 crc = new CRC32();
        long count = 0;
        for (int n = c.read(buf.clear()); n >= 0; n = c.read(buf.clear())) {
            crc.update(buf.flip());
            count += n;
        }
        return new Took(count, crc.getValue());
    }

    /**
     * Three clients at once each send 3 MB through the relay while the backend sends each 3 MB back, both ways at
     * once, each side half-closing after its last byte: every byte arrives, in order (the checksums agree), each
     * session passed the counts both ways and ended in order, and no socket is left open.
     */
    @Test
    void largeTransfersBothWaysAtOnceArriveWholeAndInOrder() throws Exception {
        long before = OpenSockets.count();
        int size = 3 << 20;
        List<CompletableFuture<Took>> backendTook = new CopyOnWriteArrayList<>();
        try (Backend backend = new Backend(c -> {
            CompletableFuture<Took> took = new CompletableFuture<>();
            backendTook.add(took);
            int which = ByteBuffer.wrap(readExactly(c, 4)).getInt(); // the client's number, its first 4 bytes
            Coroutine reader = Coroutine.create("backend reader", () -> { // the rest, while this one writes
                try {
                    took.complete(readToEnd(c));
                } catch (IOException e) {
                    took.completeExceptionally(e);
                }
            });
            c.write(ByteBuffer.wrap(data(1000 + which, size)));
            c.shutdownOutput();
            reader.join();
        })) {
            TcpRelay relay = backend.relay(SETTINGS);
            List<Coroutine> clients = new ArrayList<>();
            List<String> results = new CopyOnWriteArrayList<>();
            for (int i = 0; i < 3; i++) {
                int which = i;
                clients.add(Coroutine.create("client " + i, () -> {
                    try (TcpConnection c = TcpConnection.connect(relay.address())) {
                        byte[] mine = data(which, size);
                        Coroutine writer = Coroutine.create("writer " + which, () -> {
                            try {
                                c.write(ByteBuffer.allocate(4).putInt(0, which));
                                c.write(ByteBuffer.wrap(mine));
                                c.shutdownOutput();
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                        });
                        Took got = readToEnd(c);
                        writer.join();
                        results.add("client " + which + " got " + (got.equals(Took.of(data(1000 + which, size))) ? "its 3 MB whole" : got));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }));
            }
            for (Coroutine c : clients) {
                c.join();
            }
            assertThat(results).containsExactlyInAnyOrder("client 0 got its 3 MB whole", "client 1 got its 3 MB whole",
                    "client 2 got its 3 MB whole");
            relay.shutdown(GUARD);
            assertThat(backendTook).hasSize(3);
            assertThat(backendTook.stream().map(Coroutine::await).toList()).containsExactlyInAnyOrder(
                    Took.of(data(0, size)), Took.of(data(1, size)), Took.of(data(2, size)));
            for (TcpRelay.Session s : relay.sessions) {
                assertThat(Coroutine.await(s.ended)).isEqualTo("done");
                assertThat(s.up).isEqualTo(size + 4);
                assertThat(s.down).isEqualTo(size);
            }
            assertThat(relay.connections).hasSize(6).noneMatch(TcpConnection::isOpen);
        }
        Coroutine.yield(); // a scheduling point: the sockets the test's thread closed leave its selector
        assertThat(OpenSockets.count()).isEqualTo(before);
    }

    /** Reads exactly {@code n} bytes of {@code c}, failing at an end of the stream before them. */
    private static byte[] readExactly(TcpConnection c, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (c.read(b) < 0) {
                throw new IOException("the stream ended after " + b.position() + " of " + n + " bytes");
            }
        }
        return b.array();
    }

    /**
     * A client sends 1 MB and shuts its output down: the relay passes the half-close on, the backend reads the end of
     * the stream after the 1 MB, and only then sends its 2 MB reply, which the relay still relays to the client up to
     * the backend's close: the byte counts agree at each hop.
     */
    @Test
    void aClientsHalfCloseIsPassedOnAndTheBackendsReplyStillComesBack() throws Exception {
        long before = OpenSockets.count();
        int request = 1 << 20;
        int reply = 2 << 20;
        CompletableFuture<Took> backendTook = new CompletableFuture<>();
        try (Backend backend = new Backend(c -> {
            Took took = readToEnd(c); // up to the client's half-close, passed on
            backendTook.complete(took);
            c.write(ByteBuffer.wrap(data(7, reply)));
        })) {
            TcpRelay relay = backend.relay(SETTINGS);
            Took got;
            try (TcpConnection c = TcpConnection.connect(relay.address())) {
                c.write(ByteBuffer.wrap(data(6, request)));
                c.shutdownOutput();
                got = readToEnd(c);
            }
            assertThat(Coroutine.await(backendTook)).isEqualTo(Took.of(data(6, request)));
            assertThat(got).isEqualTo(Took.of(data(7, reply)));
            relay.shutdown(GUARD);
            TcpRelay.Session s = relay.sessions.get(0);
            assertThat(Coroutine.await(s.ended)).isEqualTo("done");
            assertThat(List.of(s.up, s.down)).containsExactly((long) request, (long) reply);
        }
        Coroutine.yield(); // a scheduling point: the sockets the test's thread closed leave its selector
        assertThat(OpenSockets.count()).isEqualTo(before);
    }

    /**
     * The backend half-closes first, its reply sent, while the client still sends: the client reads the reply and the
     * end of the stream, then sends on, and the backend reads every byte up to the client's own half-close.
     */
    @Test
    void aBackendsHalfCloseIsPassedOnWhileTheClientStillSends() throws Exception {
        long before = OpenSockets.count();
        int reply = 1 << 20;
        int upload = 2 << 20;
        CompletableFuture<Took> backendTook = new CompletableFuture<>();
        try (Backend backend = new Backend(c -> {
            c.write(ByteBuffer.wrap(data(11, reply)));
            c.shutdownOutput(); // first: the client has sent nothing yet
            backendTook.complete(readToEnd(c));
        })) {
            TcpRelay relay = backend.relay(SETTINGS);
            Took got;
            try (TcpConnection c = TcpConnection.connect(relay.address())) {
                got = readToEnd(c); // up to the backend's half-close, passed on
                c.write(ByteBuffer.wrap(data(12, upload)));
                c.shutdownOutput();
                assertThat(Coroutine.await(backendTook)).isEqualTo(Took.of(data(12, upload)));
            }
            assertThat(got).isEqualTo(Took.of(data(11, reply)));
            relay.shutdown(GUARD);
            TcpRelay.Session s = relay.sessions.get(0);
            assertThat(Coroutine.await(s.ended)).isEqualTo("done");
            assertThat(List.of(s.up, s.down)).containsExactly((long) upload, (long) reply);
        }
        Coroutine.yield(); // a scheduling point: the sockets the test's thread closed leave its selector
        assertThat(OpenSockets.count()).isEqualTo(before);
    }

    /**
     * A client that resets its connection part way through an upload: the relay passes the reset on, so the
     * backend's read fails with it rather than reading an orderly end of the stream; both connections are closed.
     */
    @Test
    void aClientThatResetsPartWayIsPassedOnAsAResetToTheBackend() throws Exception {
        long before = OpenSockets.count();
        CompletableFuture<String> backendSaw = new CompletableFuture<>();
        CompletableFuture<Long> backendRead = new CompletableFuture<>();
        try (Backend backend = new Backend(c -> {
            ByteBuffer buf = ByteBuffer.allocate(16 << 10);
            long count = 0;
            try {
                for (int n = c.read(buf.clear()); n >= 0; n = c.read(buf.clear())) {
                    count += n;
                    if (count >= 1000) {
                        backendRead.complete(count);
                    }
                }
                backendSaw.complete("the end of the stream");
            } catch (IOException e) {
                backendSaw.complete(e.getClass().getSimpleName());
            }
        })) {
            TcpRelay relay = backend.relay(SETTINGS);
            try (TcpConnection c = TcpConnection.connect(relay.address())) {
                c.write(ByteBuffer.wrap(data(13, 1000)));
                assertThat(Coroutine.await(backendRead)).isEqualTo(1000); // it went through: now the reset
                c.setOption(StandardSocketOptions.SO_LINGER, 0);
            }
            assertThat(Coroutine.await(backendSaw)).isEqualTo("SocketException");
            relay.shutdown(GUARD);
            TcpRelay.Session s = relay.sessions.get(0);
            assertThat(Coroutine.await(s.ended)).isEqualTo("aborted: SocketException from the client");
            assertThat(relay.connections).hasSize(2).noneMatch(TcpConnection::isOpen);
        }
        Coroutine.yield(); // a scheduling point: the sockets the test's thread closed leave its selector
        assertThat(OpenSockets.count()).isEqualTo(before);
    }

    /**
     * A backend that resets its connection once it has read the client's first bytes: the client's read fails with
     * the reset the relay passes on, the session ends aborted, both its connections are closed, and no socket is left.
     */
    @Test
    void aBackendThatResetsEndsTheClientsConnectionAndTheRelayClosesBoth() throws Exception {
        long before = OpenSockets.count();
        try (Backend backend = new Backend(c -> {
            readExactly(c, 5);
            c.setOption(StandardSocketOptions.SO_LINGER, 0); // its close is a reset
        })) {
            TcpRelay relay = backend.relay(SETTINGS);
            Throwable failed;
            try (TcpConnection c = TcpConnection.connect(relay.address())) {
                c.write(ByteBuffer.wrap("hello".getBytes()));
                failed = catchThrowable(() -> readToEnd(c));
            }
            assertThat(failed).isInstanceOf(SocketException.class).hasMessageEndingWith("Connection reset");
            relay.shutdown(GUARD);
            TcpRelay.Session s = relay.sessions.get(0);
            assertThat(Coroutine.await(s.ended)).isEqualTo("aborted: SocketException from the backend");
            assertThat(s.up).isEqualTo(5);
            assertThat(relay.connections).hasSize(2).noneMatch(TcpConnection::isOpen);
        }
        Coroutine.yield(); // a scheduling point: the sockets the test's thread closed leave its selector
        assertThat(OpenSockets.count()).isEqualTo(before);
    }

    /**
     * A client that reads nothing while its backend sends 8 MB: with the relay's sockets' buffers set small (the
     * backend's socket before its connect), the backend's writes stop long before the 8 MB, held back by the relay's
     * bounded buffers rather than taken into memory; once the client reads, every byte arrives, in order.
     */
    @Test
    void aSlowReadersBackendIsHeldBackByTheRelaysBoundedBuffers() throws Exception {
        long before = OpenSockets.count();
        int size = 8 << 20;
        int small = 64 << 10;
        CompletableFuture<Long> stalledAt = new CompletableFuture<>();
        try (Backend backend = new Backend(c -> {
            c.setOption(StandardSocketOptions.SO_SNDBUF, small);
            ByteBuffer all = ByteBuffer.wrap(data(9, size));
            while (all.hasRemaining()) {
                ByteBuffer chunk = all.slice(all.position(), Math.min(small, all.remaining()));
                boolean whole = Coroutine.tryCallWithTimeout(Duration.ofMillis(300), () -> c.write(chunk));
                all.position(all.position() + chunk.position());
                if (!whole) {
                    stalledAt.complete((long) all.position()); // the first write nobody took for 300 ms
                }
            }
            stalledAt.complete((long) size); // never held back
            c.shutdownOutput();
            readToEnd(c);
        })) {
            TcpRelay relay = backend.relay(new TcpRelay.Settings(GUARD, 16 << 10, small));
            Took got;
            try (TcpConnection c = TcpConnection.connect(relay.address(),
                    ch -> ch.setOption(StandardSocketOptions.SO_RCVBUF, small))) {
                long held = Coroutine.await(stalledAt); // the client has read nothing yet
                assertThat(held).as("bytes the backend wrote before the slow reader held it back").isLessThan(size / 2);
                c.shutdownOutput();
                got = readToEnd(c);
            }
            assertThat(got).isEqualTo(Took.of(data(9, size)));
            relay.shutdown(GUARD);
            assertThat(Coroutine.await(relay.sessions.get(0).ended)).isEqualTo("done");
        }
        Coroutine.yield(); // a scheduling point: the sockets the test's thread closed leave its selector
        assertThat(OpenSockets.count()).isEqualTo(before);
    }

    /**
     * A session that passes nothing either way for its idle timeout is closed in order: its client reads the end of
     * the stream, and so does its backend, which had read nothing.
     */
    @Test
    void anIdleSessionIsClosedInOrderAtBothEnds() throws Exception {
        long before = OpenSockets.count();
        CompletableFuture<Took> backendTook = new CompletableFuture<>();
        try (Backend backend = new Backend(c -> backendTook.complete(readToEnd(c)))) {
            Duration idle = Duration.ofMillis(200);
            TcpRelay relay = backend.relay(new TcpRelay.Settings(idle, 16 << 10, 0));
            try (TcpConnection c = TcpConnection.connect(relay.address())) {
                assertThat(c.read(ByteBuffer.allocate(1))).isEqualTo(-1);
            }
            assertThat(Coroutine.await(backendTook)).isEqualTo(new Took(0, 0));
            relay.shutdown(GUARD);
            assertThat(Coroutine.await(relay.sessions.get(0).ended)).isEqualTo("idle for PT0.2S");
        }
        Coroutine.yield(); // a scheduling point: the sockets the test's thread closed leave its selector
        assertThat(OpenSockets.count()).isEqualTo(before);
    }

    /**
     * The relay shut down while sessions run: once it stops accepting, a new client is refused, the two clients in
     * the middle of an exchange finish it whole, and the shutdown's grace over, the session still open (a client
     * that says nothing) is closed in order at both ends.
     */
    @Test
    void aShutdownWhileSessionsRunLetsThemFinishThenCutsTheRest() throws Exception {
        long before = OpenSockets.count();
        int rounds = 100;
        CompletableFuture<Took> quietBackendTook = new CompletableFuture<>();
        CompletableFuture<Void> quietSeen = new CompletableFuture<>();
        try (Backend backend = new Backend(c -> {
            ByteBuffer buf = ByteBuffer.allocate(1024);
            int n = c.read(buf);
            if (n == 1 && buf.get(0) == 'q') { // the quiet client: its end of the stream, when it comes
                quietSeen.complete(null);
                quietBackendTook.complete(readToEnd(c));
                return;
            }
            while (n >= 0) { // an echo
                c.write(buf.flip());
                n = c.read(buf.clear());
            }
            c.shutdownOutput();
        })) {
            TcpRelay relay = backend.relay(SETTINGS);
            TcpConnection quiet = TcpConnection.connect(relay.address());
            quiet.write(ByteBuffer.wrap(new byte[] {'q'}));
            Coroutine.await(quietSeen); // its session is the first, the talkers' the next two
            CompletableFuture<Void> carryOn = new CompletableFuture<>();
            List<CompletableFuture<Void>> halfway = List.of(new CompletableFuture<>(), new CompletableFuture<>());
            List<String> results = new CopyOnWriteArrayList<>();
            List<Coroutine> talkers = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                int which = i;
                talkers.add(Coroutine.create("talker " + i, () -> {
                    try (TcpConnection c = TcpConnection.connect(relay.address())) {
                        int echoed = 0;
                        for (int r = 0; r < rounds; r++) {
                            if (r == rounds / 2) {
                                halfway.get(which).complete(null);
                                Coroutine.await(carryOn);
                            }
                            byte[] line = ("talker " + which + " round " + r).getBytes();
                            c.write(ByteBuffer.wrap(line));
                            if (new String(readExactly(c, line.length)).equals(new String(line))) {
                                echoed++;
                            }
                        }
                        c.shutdownOutput();
                        results.add("talker " + which + ": " + echoed + " echoed, then " + c.read(ByteBuffer.allocate(1)));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }));
            }
            Coroutine.await(CompletableFuture.allOf(halfway.toArray(CompletableFuture[]::new)));
            relay.stopAccepting();
            assertThat(catchThrowable(() -> TcpConnection.connect(relay.address()).close()))
                    .isInstanceOf(ConnectException.class);
            carryOn.complete(null);
            for (Coroutine t : talkers) {
                t.join();
            }
            assertThat(results).containsExactlyInAnyOrder("talker 0: 100 echoed, then -1", "talker 1: 100 echoed, then -1");
            assertThat(relay.sessions).hasSize(3);
            assertThat(relay.sessions.subList(1, 3).stream().map(s -> Coroutine.await(s.ended)).toList())
                    .containsExactly("done", "done");
            relay.shutdown(Duration.ofMillis(100)); // the quiet one is still open: cut once the grace is over
            assertThat(quiet.read(ByteBuffer.allocate(1))).isEqualTo(-1);
            quiet.close();
            assertThat(Coroutine.await(quietBackendTook)).isEqualTo(new Took(0, 0));
            assertThat(Coroutine.await(relay.sessions.get(0).ended)).isEqualTo("cut by the shutdown");
            assertThat(relay.connections).hasSize(6).noneMatch(TcpConnection::isOpen);
        }
        Coroutine.yield(); // a scheduling point: the sockets the test's thread closed leave its selector
        assertThat(OpenSockets.count()).isEqualTo(before);
    }

    /**
     * The sockets the JDK opens once and keeps (its dispatcher's socket for closes that race a blocked call), opened
     * before the tests count: a loopback connection made, used and closed on a thread of its own.
     */
    @BeforeAll
    static void theJdksOwnSocketsAreOpenedFirst() throws Exception {
        Thread t = Thread.ofPlatform().start(() -> {
            try (TcpListener l = TcpListener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                 TcpConnection c = TcpConnection.connect(l.localAddress());
                 TcpConnection a = l.accept()) {
                c.write(ByteBuffer.wrap(new byte[] {1}));
                a.read(ByteBuffer.allocate(1));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        t.join();
    }
}
