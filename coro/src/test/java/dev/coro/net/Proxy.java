package dev.coro.net;

import dev.coro.Coroutine;
import dev.coro.CoroutineTimeoutException;
import java.io.IOException;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A TCP proxy written against the public API alone, as a user would after the README and NET.md: each
 * client accepted is relayed to a backend, both ways, by coroutines of the thread that accepted it.
 *
 * <p>Each client gets a coroutine {@code pair N} that connects to the backend, then two pumps,
 * {@code up N} (client to backend) and {@code down N} (backend to client), each copying until its side's
 * end of the stream, which it passes on as a half-close ({@code shutdownOutput}). A failure of either
 * pump (a reset, a write to a peer gone) aborts the pair: both connections closed with {@code SO_LINGER}
 * 0, so that each peer is told its stream was cut, not ended in order. With an idle timeout, a pump
 * whose read waits that long while nothing has passed either way closes both connections in order.
 * How each pump and each refused connect ended goes to {@link #log}, one line each, with the library's
 * own message where it threw. A proxy made with {@link #viaStreams} pumps with {@code transferTo} between the
 * connections' {@code java.io} views instead, the shortest copy a user writes, and has no idle timeout.
 */
final class Proxy {

    /** What {@link #read} returns for a pair that passed nothing for its idle timeout. */
    private static final int IDLE = -2;

    private final SocketAddress backend;
    /** How long a pair may pass nothing either way before it is closed; null: for ever. */
    private final Duration idle;
    /** The size the proxy gives its sockets' buffers, both ways (0: the system's, which grow on loopback). */
    private final int buffers;
    /** How each pump, and each connect that failed, ended: {@code name: how}. Any thread adds. */
    final List<String> log = Collections.synchronizedList(new ArrayList<>());
    /** Every connection the proxy accepted or made, to check that none is left open. Any thread adds. */
    final List<TcpConnection> connections = Collections.synchronizedList(new ArrayList<>());
    /** The connection to the backend made for each client. Any thread adds. */
    final Map<TcpConnection, TcpConnection> backendOf = Collections.synchronizedMap(new HashMap<>());
    /** The pairs started on the calling thread, which {@link #join()} waits for. */
    private final List<Coroutine> pairs = new ArrayList<>();

    /** Whether the pumps copy with {@code input().transferTo(output())}. */
    private final boolean streams;

    Proxy(SocketAddress backend, Duration idle, int buffers) {
        this(backend, idle, buffers, false);
    }

    private Proxy(SocketAddress backend, Duration idle, int buffers, boolean streams) {
        this.backend = backend;
        this.idle = idle;
        this.buffers = buffers;
        this.streams = streams;
    }

    /** A proxy to {@code backend} whose pumps copy with {@code transferTo} between the connections' views. */
    static Proxy viaStreams(SocketAddress backend) {
        return new Proxy(backend, null, 0, true);
    }

    /**
     * Accepts up to {@code max} clients on {@code listener}, each relayed by a coroutine {@code pair
     * <prefix>N} of this thread; returns once it has accepted them, without waiting for the pairs.
     */
    void accept(TcpListener listener, String prefix, int max) throws IOException {
        for (int i = 0; i < max; i++) {
            TcpConnection client = listener.accept();
            connections.add(client);
            String id = prefix + i;
            pairs.add(Coroutine.create("pair " + id, () -> relay(client, id)));
        }
    }

    /** Accepts {@code clients} clients on {@code listener} (pairs {@code pair 0} on), then parks until every pair has ended. */
    void serve(TcpListener listener, int clients) throws IOException {
        accept(listener, "", clients);
        join();
    }

    /** Parks the caller until every pair this thread started has ended. */
    void join() {
        for (Coroutine pair : pairs) {
            pair.join();
        }
    }

    /** Connects to the backend for {@code client}, then pumps both ways until both pumps have ended; closes both. */
    private void relay(TcpConnection client, String id) {
        TcpConnection server;
        try {
            server = TcpConnection.connect(backend);
        } catch (IOException e) {
            log.add("pair " + id + ": " + e.getMessage());
            close(client); // the client reads the end of the stream: there is nothing to relay it to
            return;
        }
        connections.add(server);
        backendOf.put(client, server);
        try {
            size(client);
            size(server);
            long[] lastPassed = {Coroutine.nanoTime()};
            Coroutine up = Coroutine.create("up " + id, () -> pump(client, server, client, server, lastPassed));
            Coroutine down = Coroutine.create("down " + id, () -> pump(server, client, client, server, lastPassed));
            up.join();
            down.join();
        } catch (IOException e) {
            log.add("pair " + id + ": " + e.getMessage());
        } finally {
            close(server);
            close(client);
        }
    }

    /**
     * Copies {@code from} to {@code to} until {@code from}'s end of the stream, passed on with
     * {@code shutdownOutput}; a failure aborts the pair, an idle timeout closes it. Logs how it ended.
     */
    private void pump(TcpConnection from, TcpConnection to, TcpConnection client, TcpConnection server, long[] lastPassed) {
        String end;
        try {
            if (streams) {
                from.input().transferTo(to.output());
                to.shutdownOutput();
                end = "end of stream passed on";
            } else {
                end = copy(from, to, lastPassed);
            }
            if (end.startsWith("idle")) {
                close(client);
                close(server);
            }
        } catch (IOException e) {
            end = e.getMessage();
            for (Throwable s : e.getSuppressed()) { // how much a transferTo failed part way had carried
                end += " [" + s.getMessage() + "]";
            }
            abort(client);
            abort(server);
        }
        log.add(Coroutine.current().name() + ": " + end);
    }

    /** Copies {@code from} to {@code to} through a buffer of its own; says how it ended: at the end of the stream, or idle. */
    private String copy(TcpConnection from, TcpConnection to, long[] lastPassed) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(16 << 10);
        while (true) {
            int n = read(from, buf.clear(), lastPassed);
            if (n == IDLE) {
                return "idle for " + idle + ", closed both";
            }
            if (n < 0) {
                to.shutdownOutput();
                return "end of stream passed on";
            }
            lastPassed[0] = Coroutine.nanoTime();
            to.write(buf.flip());
            lastPassed[0] = Coroutine.nanoTime();
        }
    }

    /** A read of {@code from}, or {@link #IDLE} once the pair has passed nothing for the idle timeout. */
    private int read(TcpConnection from, ByteBuffer buf, long[] lastPassed) throws IOException {
        if (idle == null) {
            return from.read(buf);
        }
        while (true) {
            try {
                return Coroutine.callWithTimeout(idle, () -> from.read(buf));
            } catch (CoroutineTimeoutException e) {
                if (Coroutine.nanoTime() - lastPassed[0] >= idle.toNanos()) {
                    return IDLE;
                }
                // the other way passed something meanwhile: wait again
            }
        }
    }

    /** Gives {@code c} the proxy's buffer size, if it has one. */
    private void size(TcpConnection c) throws IOException {
        if (buffers > 0) {
            c.setOption(StandardSocketOptions.SO_RCVBUF, buffers);
            c.setOption(StandardSocketOptions.SO_SNDBUF, buffers);
        }
    }

    /** Closes {@code c} with a reset, so that its peer is told its stream was cut; one closed already is left. */
    private static void abort(TcpConnection c) {
        if (c.isOpen()) {
            try {
                c.setOption(StandardSocketOptions.SO_LINGER, 0);
            } catch (IOException e) {
                // closed in order then
            }
            close(c);
        }
    }

    private static void close(TcpConnection c) {
        try {
            c.close();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
