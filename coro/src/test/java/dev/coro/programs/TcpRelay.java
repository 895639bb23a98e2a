package dev.coro.programs;

import dev.coro.Coroutine;
import dev.coro.CoroutinePool;
import dev.coro.net.TcpConnection;
import dev.coro.net.TcpListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP relay a user would write on coro's public API alone: one thread of a {@link CoroutinePool} of two accepts
 * clients on loopback and hands each to a body of the pool, which connects to the backend and pumps bytes both ways,
 * a coroutine per direction through a buffer of its own, each passing its side's end of the stream on as a half-close;
 * a failure of either side (a reset) aborts both with a reset, a session that passes nothing either way for
 * {@link Settings#idle} is closed in order, and {@link #shutdown} stops accepting, lets the sessions run to their end
 * for a grace period, then cuts those still running.
 */
final class TcpRelay implements AutoCloseable {

    /**
     * How the relay treats its sessions.
     *
     * @param idle         how long a session may pass nothing either way before it is closed
     * @param buffer       the size of each pump's buffer: the most a direction holds that it read and has not written
     * @param socketBuffer the send and receive buffers of the relay's sockets (0: the system's), set on the backend's
     *                     socket before its connect
     */
    record Settings(Duration idle, int buffer, int socketBuffer) {
    }

    /** A session: how it ended, once it has, and the bytes it passed each way. */
    static final class Session {
        final String name;
        final CompletableFuture<String> ended = new CompletableFuture<>();
        /** Bytes passed client to backend, and backend to client; written by the session's thread. */
        volatile long up;
        volatile long down;
        /** Why the session was closed before both ends ended in order (idle, a reset, the shutdown's cut); null if not. */
        private String cut;
        /** When a byte last passed either way, on the session's clock. */
        private long lastPassed;
        private TcpConnection client;
        private TcpConnection server;

        Session(String name) {
            this.name = name;
        }
    }

    private final Settings settings;
    private final SocketAddress backend;
    private final CoroutinePool pool = CoroutinePool.start("relay", 2);
    /** Complete once the shutdown's grace is over: every session still running is closed. */
    private final CompletableFuture<Void> cutAll = new CompletableFuture<>();
    private final CompletableFuture<Void> stopping = new CompletableFuture<>();
    private final AtomicInteger count = new AtomicInteger();
    private volatile TcpListener listener;
    private SocketAddress address;
    /** Every session, in the order accepted. */
    final List<Session> sessions = new CopyOnWriteArrayList<>();
    /** Every connection the relay adopted or made, to check that each was closed. */
    final List<TcpConnection> connections = new CopyOnWriteArrayList<>();

    private TcpRelay(SocketAddress backend, Settings settings) {
        this.backend = backend;
        this.settings = settings;
    }

    /** Starts a relay to {@code backend} on a free port of the loopback; {@link #address()} tells which. */
    static TcpRelay start(SocketAddress backend, Settings settings) {
        TcpRelay relay = new TcpRelay(backend, settings);
        CompletableFuture<SocketAddress> bound = new CompletableFuture<>();
        relay.pool.execute("acceptor", () -> relay.accept(bound));
        relay.address = Coroutine.await(bound);
        return relay;
    }

    SocketAddress address() {
        return address;
    }

    /** The accept loop: each connection is detached here and adopted by a body of the pool, on the thread it picks. */
    private void accept(CompletableFuture<SocketAddress> bound) {
        try (TcpListener l = TcpListener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            listener = l;
            bound.complete(l.localAddress());
            while (true) {
                var accepted = l.accept().detach();
                Session s = new Session("session " + count.incrementAndGet());
                sessions.add(s);
                pool.execute(s.name, () -> serve(s, accepted));
            }
        } catch (IOException e) {
            if (!stopping.isDone()) {
                bound.completeExceptionally(e);
                throw new UncheckedIOException(e);
            }
            // stopAccepting() closed the listener under the accept
        }
    }

    /** Stops accepting: the listener is closed (from the caller's thread, run on the acceptor's); sessions run on. */
    void stopAccepting() throws IOException {
        stopping.complete(null);
        listener.close();
    }

    /**
     * Stops accepting, lets the sessions run for {@code grace}, cuts those still running (closed in order), and closes
     * the pool: returns once every session and connection has ended.
     */
    void shutdown(Duration grace) throws IOException {
        try {
            stopAccepting();
            CompletableFuture<?>[] all = sessions.stream().map(s -> s.ended).toArray(CompletableFuture<?>[]::new);
            Coroutine.tryWithTimeout(grace, () -> Coroutine.await(CompletableFuture.allOf(all)));
            cutAll.complete(null);
        } finally {
            pool.close(); // throws the first failure of a session or the acceptor that nobody observed
        }
    }

    /** Stops accepting and cuts every session at once, then closes the pool; after {@link #shutdown}, does nothing more. */
    @Override
    public void close() throws IOException {
        try {
            if (!stopping.isDone()) {
                stopAccepting();
            }
            cutAll.complete(null);
        } finally {
            pool.close();
        }
    }

    /** Serves one client on this thread: connects to the backend, pumps both ways until both ends, closes both. */
    private void serve(Session s, java.nio.channels.SocketChannel accepted) {
        try (TcpConnection client = TcpConnection.adopt(accepted)) {
            connections.add(client);
            s.client = client;
            size(client);
            Coroutine watcher = Coroutine.create(s.name + " watcher", () -> {
                Coroutine.await(cutAll);
                cut(s, "cut by the shutdown");
            });
            try {
                TcpConnection server;
                try {
                    server = TcpConnection.connect(backend, ch -> {
                        if (settings.socketBuffer() > 0) {
                            ch.setOption(StandardSocketOptions.SO_RCVBUF, settings.socketBuffer());
                            ch.setOption(StandardSocketOptions.SO_SNDBUF, settings.socketBuffer());
                        }
                    });
                } catch (IOException e) {
                    s.ended.complete("backend unreachable: " + e.getMessage());
                    return;
                }
                try (server) {
                    connections.add(server);
                    s.server = server;
                    if (!client.isOpen()) { // cut while it connected
                        s.ended.complete(s.cut);
                        return;
                    }
                    s.lastPassed = Coroutine.nanoTime();
                    Coroutine up = Coroutine.create(s.name + " up", () -> pump(s, client, server, true));
                    Coroutine down = Coroutine.create(s.name + " down", () -> pump(s, server, client, false));
                    up.join();
                    down.join();
                }
            } finally {
                watcher.close();
            }
        } catch (IOException e) {
            s.cut = "failed: " + e.getMessage();
        }
        s.ended.complete(s.cut == null ? "done" : s.cut);
    }

    /**
     * Copies {@code from} to {@code to} through a buffer of its own until {@code from}'s end of the stream, which it
     * passes on with {@code shutdownOutput}; a read that waits {@link Settings#idle} while nothing passed either way
     * closes the session, a failure aborts it.
     */
    private void pump(Session s, TcpConnection from, TcpConnection to, boolean up) {
        ByteBuffer buf = ByteBuffer.allocate(settings.buffer());
        boolean reading = true; // whether a failure is the read's (of from) or the write's (to to)
        try {
            while (true) {
                reading = true;
                Optional<Integer> n = Coroutine.tryCallWithTimeout(settings.idle(), () -> from.read(buf.clear()));
                if (n.isEmpty()) {
                    if (Coroutine.nanoTime() - s.lastPassed >= settings.idle().toNanos()) {
                        cut(s, "idle for " + settings.idle());
                        return;
                    }
                    continue; // the other way passed something meanwhile
                }
                if (n.get() < 0) {
                    reading = false;
                    to.shutdownOutput();
                    return;
                }
                s.lastPassed = Coroutine.nanoTime();
                reading = false;
                to.write(buf.flip());
                s.lastPassed = Coroutine.nanoTime();
                if (up) {
                    s.up += n.get();
                } else {
                    s.down += n.get();
                }
            }
        } catch (IOException e) {
            if (s.cut == null) { // a reset, a write to a peer gone: both peers are told the stream was cut
                s.cut = "aborted: " + e.getClass().getSimpleName() + " from " + (up == reading ? "the client" : "the backend");
                abort(s.client);
                abort(s.server);
            }
            // else the session was closed under this pump: nothing more to pass
        }
    }

    /** Closes both of {@code s}'s connections in order, {@code why} said first, unless it was closed already. */
    private static void cut(Session s, String why) {
        if (s.cut == null) {
            s.cut = why;
        }
        close(s.client);
        close(s.server);
    }

    /** Gives {@code c} the relay's socket buffers, if it has a size for them. */
    private void size(TcpConnection c) throws IOException {
        if (settings.socketBuffer() > 0) {
            c.setOption(StandardSocketOptions.SO_RCVBUF, settings.socketBuffer());
            c.setOption(StandardSocketOptions.SO_SNDBUF, settings.socketBuffer());
        }
    }

    /** Closes {@code c} with a reset, so that its peer is told its stream was cut; null or closed, left. */
    private static void abort(TcpConnection c) {
        if (c != null && c.isOpen()) {
            try {
                c.setOption(StandardSocketOptions.SO_LINGER, 0);
            } catch (IOException e) {
                // closed in order then
            }
            close(c);
        }
    }

    /** Closes {@code c}, which may be null; a failure to close is nothing to pass on. */
    private static void close(TcpConnection c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException e) {
                // closed all the same
            }
        }
    }
}
