package dev.coro.bench.net;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The echo benchmark's load generator: C closed-loop connections, each sending 64 bytes and waiting for
 * the whole echo before it sends again, all driven by one thread's hand-written NIO selector loop.
 *
 * <p>The same program, in its own JVM, loads every server. It is meant to cost less than the server: one
 * thread, no allocation per request (buffers are per connection or shared, latencies go into a
 * {@link LatencyHistogram}), every echo byte checked against what was sent.
 *
 * <p>Modes ({@code java -cp benchmarks.jar dev.coro.bench.net.EchoLoad MODE --port P ...}):
 * <ul>
 *   <li>{@code load}: open C connections, then a warm-up window and a measured window (seconds); prints a
 *       human line and a JSON line ({@link LoadResult}) and appends the JSON to {@code --json FILE}.
 *       Starved connections: those that completed no echo in some whole sub-window ({@code --sub-window-ms},
 *       1000) or waited longer than {@code --starve-ms} (1000) once, unanswered requests at the end
 *       included.</li>
 *   <li>{@code idle}: open N connections, one echo on each, then hold them idle for {@code --hold} seconds
 *       while sampling the server's VmRSS ({@code --server-pid}); prints and appends an
 *       {@link IdleResult}.</li>
 *   <li>{@code count}: C connections share {@code --requests} echoes, no timing; prints how many were
 *       checked (a quick sanity check; tests use {@link #exchange}).</li>
 * </ul>
 * Every mode is bounded: connecting gives up after {@code --connect-timeout} seconds (60), the count mode
 * after {@code --deadline} seconds (60). Connections are closed with {@code SO_LINGER 0} (a reset), so no
 * client port is left in TIME_WAIT between runs. Exit status 1 when any echo was wrong or a connection lost.
 */
public final class EchoLoad implements AutoCloseable {

    /** Bytes per request. */
    public static final int REQUEST_BYTES = 64;
    /** At most this many connects in flight, so a burst of C never overflows the server's backlog. */
    private static final int MAX_CONNECTING = 256;

    private final InetSocketAddress server;
    private final Selector selector;
    private final ClientConnection[] connections;
    private final ByteBuffer in = ByteBuffer.allocateDirect(64 * 1024);
    private final LatencyHistogram histogram = new LatencyHistogram();
    private final Consumer<SelectionKey> onConnect = this::connectReady;
    private final Consumer<SelectionKey> onReady = this::ready;

    private int opened;
    private int connecting;
    private int connected;
    /** True in the measured window (and always in the count mode): completions are recorded. */
    private boolean measuring;
    /** True while new requests may be sent. */
    private boolean sending = true;
    private long completed;
    private long unfinished;
    private long errors;
    private long checkedBytes;

    /**
     * Prepares C connections to a server (none is opened yet).
     *
     * @param host the server's address (loopback)
     * @param port the server's port
     * @param count C
     * @throws IOException if no selector can be opened
     */
    public EchoLoad(String host, int port, int count) throws IOException {
        this.server = new InetSocketAddress(host, port);
        this.selector = Selector.open();
        this.connections = new ClientConnection[count];
    }

    /**
     * Opens every connection, at most {@value #MAX_CONNECTING} connects in flight at a time.
     *
     * @param timeoutNanos give up after this long
     * @return how long it took, in milliseconds
     * @throws IOException if a connect fails or the timeout passes
     */
    public long connect(long timeoutNanos) throws IOException {
        long start = System.nanoTime();
        long deadline = start + timeoutNanos;
        while (connected < connections.length) {
            while (opened < connections.length && connecting < MAX_CONNECTING) {
                SocketChannel ch = SocketChannel.open();
                ch.configureBlocking(false);
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                ClientConnection c = new ClientConnection(opened, ch, REQUEST_BYTES);
                connections[opened++] = c;
                if (ch.connect(server)) {
                    c.key = ch.register(selector, SelectionKey.OP_READ, c);
                    connected++;
                } else {
                    c.key = ch.register(selector, SelectionKey.OP_CONNECT, c);
                    connecting++;
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new IOException("connected " + connected + " of " + connections.length + " in "
                        + TimeUnit.NANOSECONDS.toSeconds(timeoutNanos) + " s");
            }
            try {
                selector.select(onConnect, Math.max(1, Math.min(100, TimeUnit.NANOSECONDS.toMillis(left))));
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
        }
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }

    private void connectReady(SelectionKey key) {
        ClientConnection c = (ClientConnection) key.attachment();
        try {
            if (c.channel.finishConnect()) {
                key.interestOps(SelectionKey.OP_READ);
                connecting--;
                connected++;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("connection " + c.id + " to " + server, e);
        }
    }

    /**
     * The count-bounded mode: the connections share {@code requests} echoes (as evenly as they divide),
     * each connection sending its next request as soon as its echo is whole. No warm-up: every echo is
     * recorded. Call {@link #connect} first.
     *
     * @param requests the number of echoes, at least one per connection
     * @param deadlineNanos a guard against a server that stops answering, not a measurement
     * @return the echoes completed (all of them, or an exception is thrown)
     * @throws IOException if the deadline passes first
     */
    public long exchange(long requests, long deadlineNanos) throws IOException {
        if (requests < connections.length) {
            throw new IllegalArgumentException("fewer requests (" + requests + ") than connections");
        }
        long deadline = System.nanoTime() + deadlineNanos;
        measuring = true;
        sending = true;
        unfinished = connections.length;
        for (ClientConnection c : connections) {
            c.quota = requests / connections.length + (c.id < requests % connections.length ? 1 : 0);
            send(c);
        }
        while (unfinished > 0) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new IOException("deadline: " + completed + " of " + requests + " echoes completed");
            }
            selector.select(onReady, Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        }
        measuring = false;
        return completed;
    }

    /**
     * The timed mode: a warm-up, then a measured window divided into sub-windows for the fairness check.
     * Call {@link #connect} first.
     *
     * @param label the server's label, for the result
     * @param rep the repetition number, for the result
     * @param warmupNanos the warm-up window (nothing recorded)
     * @param measureNanos the measured window
     * @param subWindowNanos a connection that completes no echo in one whole sub-window is starved
     * @param starveNanos a connection that waits longer than this for one echo is starved
     * @param serverPid the server's process id for its CPU time, or -1
     * @param connectMillis how long {@link #connect} took, for the result
     * @return what was measured
     * @throws IOException if the selector fails
     */
    public LoadResult timed(String label, int rep, long warmupNanos, long measureNanos, long subWindowNanos,
                            long starveNanos, long serverPid, long connectMillis) throws IOException {
        long start = System.nanoTime();
        long warmEnd = start + warmupNanos;
        long end = warmEnd + measureNanos;
        long nextSub = warmEnd + subWindowNanos;
        long measureStart = 0;
        long serverCpu0 = -1;
        long clientCpu0 = -1;
        sending = true;
        for (ClientConnection c : connections) {
            send(c);
        }
        long now = start;
        while (true) {
            if (!measuring && now >= warmEnd) {
                measuring = true;
                measureStart = now;
                histogram.reset();
                completed = 0;
                for (ClientConnection c : connections) {
                    c.completedInSubWindow = 0;
                    c.worstWait = 0;
                }
                serverCpu0 = serverPid > 0 ? ProcFs.cpuNanos(serverPid) : -1;
                clientCpu0 = ownCpuNanos();
            }
            while (measuring && nextSub <= end && now >= nextSub) {
                for (ClientConnection c : connections) {
                    if (c.completedInSubWindow == 0) {
                        c.missedSubWindow = true;
                    }
                    c.completedInSubWindow = 0;
                }
                nextSub += subWindowNanos;
            }
            if (now >= end) {
                break;
            }
            long wake = !measuring ? warmEnd : Math.min(nextSub <= end ? nextSub : end, end);
            selector.select(onReady, Math.max(1, (wake - now + 999_999) / 1_000_000));
            now = System.nanoTime();
        }
        sending = false;
        measuring = false;
        long measured = now - measureStart;
        long serverCpu = serverCpu0 >= 0 ? ProcFs.cpuNanos(serverPid) - serverCpu0 : -1;
        long clientCpu = clientCpu0 >= 0 ? ownCpuNanos() - clientCpu0 : -1;
        long worst = 0;
        int starved = 0;
        for (ClientConnection c : connections) {
            if (c.waiting && !c.closed) { // unanswered when the window closed: its wait so far counts
                c.worstWait = Math.max(c.worstWait, now - c.sentAt);
            }
            worst = Math.max(worst, c.worstWait);
            if (c.closed || c.missedSubWindow || c.worstWait > starveNanos) {
                starved++;
            }
        }
        return new LoadResult(label, rep, connections.length, warmupNanos / 1e9, measured / 1e9, completed,
                (long) histogram.mean(), histogram.percentile(50), histogram.percentile(99), histogram.percentile(99.9), histogram.max(),
                worst, starved, TimeUnit.NANOSECONDS.toMillis(subWindowNanos),
                TimeUnit.NANOSECONDS.toMillis(starveNanos), errors, connectMillis, serverCpu, clientCpu);
    }

    /**
     * The idle mode: one echo on every connection, then the connections held open and silent while the
     * server's resident memory is sampled. Call {@link #connect} first.
     *
     * @param label the server's label
     * @param rep the repetition number
     * @param forConnections the C of the run this follows
     * @param holdNanos how long to hold
     * @param serverPid the server's process id (-1: memory not sampled)
     * @param rssBeforeKb the server's VmRSS before {@link #connect}
     * @return what was measured
     * @throws IOException if the echoes do not complete within a minute
     */
    public IdleResult idle(String label, int rep, int forConnections, long holdNanos, long serverPid,
                           long rssBeforeKb) throws IOException {
        exchange(connections.length, TimeUnit.SECONDS.toNanos(60));
        sending = false;
        long end = System.nanoTime() + holdNanos;
        long peak = -1;
        long rss = -1;
        long now;
        while ((now = System.nanoTime()) < end) {
            selector.select(onReady, Math.max(1, Math.min(250, (end - now) / 1_000_000)));
            if (serverPid > 0) {
                rss = ProcFs.statusKb(serverPid, "VmRSS");
                peak = Math.max(peak, rss);
            }
        }
        long hwm = serverPid > 0 ? ProcFs.statusKb(serverPid, "VmHWM") : -1;
        return new IdleResult(label, rep, forConnections, connections.length, rssBeforeKb, rss, peak, hwm,
                holdNanos / 1e9, errors);
    }

    private void send(ClientConnection c) {
        if (c.closed) {
            return;
        }
        c.nextRequest();
        c.sentAt = System.nanoTime();
        try {
            c.channel.write(c.out);
            if (c.out.hasRemaining()) {
                c.key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
            }
        } catch (IOException e) {
            lose(c);
        }
    }

    private void ready(SelectionKey key) {
        ClientConnection c = (ClientConnection) key.attachment();
        try {
            if (key.isWritable()) {
                c.channel.write(c.out);
                if (!c.out.hasRemaining()) {
                    key.interestOps(SelectionKey.OP_READ);
                }
            }
            if (key.isReadable()) {
                read(c);
            }
        } catch (IOException e) {
            lose(c);
        }
    }

    private void read(ClientConnection c) throws IOException {
        in.clear();
        int n = c.channel.read(in);
        if (n < 0) {
            lose(c);
            return;
        }
        int expected = c.waiting ? REQUEST_BYTES - c.received : 0;
        if (n > expected) { // bytes nobody asked for
            errors++;
            n = expected;
        }
        for (int i = 0; i < n; i++) {
            if (in.get(i) != c.request[c.received + i]) {
                errors++;
                break;
            }
        }
        checkedBytes += n;
        c.received += n;
        if (c.waiting && c.received == REQUEST_BYTES) {
            complete(c);
        }
    }

    private void complete(ClientConnection c) {
        long wait = System.nanoTime() - c.sentAt;
        c.waiting = false;
        if (measuring) {
            histogram.record(wait);
            completed++;
            c.completedInSubWindow++;
            if (wait > c.worstWait) {
                c.worstWait = wait;
            }
        }
        if (c.quota > 0 && --c.quota == 0) {
            unfinished--;
            return;
        }
        if (sending) {
            send(c);
        }
    }

    private void lose(ClientConnection c) {
        if (c.closed) {
            return;
        }
        errors++;
        c.closed = true;
        c.key.cancel();
        try {
            c.channel.close();
        } catch (IOException e) {
            // gone
        }
        if (c.quota > 0) {
            c.quota = 0;
            unfinished--;
        }
    }

    /** @return wrong or extra echo bytes and lost connections so far */
    public long errors() {
        return errors;
    }

    /** @return echo bytes received and compared with what was sent */
    public long checkedBytes() {
        return checkedBytes;
    }

    /** @return the latencies recorded so far (count mode: all of them) */
    public LatencyHistogram histogram() {
        return histogram;
    }

    /** Closes every connection with a reset (SO_LINGER 0: no TIME_WAIT) and the selector. */
    @Override
    public void close() throws IOException {
        for (ClientConnection c : connections) {
            if (c != null && !c.closed) {
                c.closed = true;
                try {
                    c.channel.setOption(StandardSocketOptions.SO_LINGER, 0);
                } catch (IOException e) {
                    // not connected: close anyway
                }
                c.channel.close();
            }
        }
        selector.close();
    }

    private static long ownCpuNanos() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime() : -1;
    }

    /**
     * Runs one mode (see the class comment).
     *
     * @param args {@code load|idle|count --port P [--host H] [--connections C] [--warmup S] [--measure S]
     *     [--sub-window-ms MS] [--starve-ms MS] [--hold S] [--requests N] [--server-pid PID] [--label L]
     *     [--rep R] [--for-connections C] [--json FILE] [--connect-timeout S] [--deadline S]}
     * @throws IOException if the run fails
     */
    public static void main(String[] args) throws IOException {
        if (args.length == 0 || args[0].startsWith("-")) {
            throw new IllegalArgumentException("usage: EchoLoad load|idle|count --port P [options]: see the Javadoc");
        }
        String mode = args[0];
        Map<String, String> opt = new HashMap<>();
        for (int i = 1; i < args.length; i += 2) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --name value at " + args[i]);
            }
            opt.put(args[i].substring(2), args[i + 1]);
        }
        String host = opt.getOrDefault("host", EchoServer.HOST);
        int port = Integer.parseInt(required(opt, "port"));
        int count = Integer.parseInt(opt.getOrDefault("connections", "100"));
        String label = opt.getOrDefault("label", "server");
        int rep = Integer.parseInt(opt.getOrDefault("rep", "1"));
        long pid = Long.parseLong(opt.getOrDefault("server-pid", "-1"));
        long connectTimeout = seconds(opt.getOrDefault("connect-timeout", "60"));
        Path json = opt.containsKey("json") ? Path.of(opt.get("json")) : null;
        long errors;
        long rssBefore = pid > 0 ? ProcFs.statusKb(pid, "VmRSS") : -1;
        try (EchoLoad load = new EchoLoad(host, port, count)) {
            long connectMillis = load.connect(connectTimeout);
            switch (mode) {
                case "load" -> {
                    LoadResult r = load.timed(label, rep, seconds(opt.getOrDefault("warmup", "5")),
                            seconds(opt.getOrDefault("measure", "10")),
                            TimeUnit.MILLISECONDS.toNanos(Long.parseLong(opt.getOrDefault("sub-window-ms", "1000"))),
                            TimeUnit.MILLISECONDS.toNanos(Long.parseLong(opt.getOrDefault("starve-ms", "1000"))),
                            pid, connectMillis);
                    emit(r.human(), r.json(), json);
                }
                case "idle" -> {
                    IdleResult r = load.idle(label, rep, Integer.parseInt(opt.getOrDefault("for-connections", "0")),
                            seconds(opt.getOrDefault("hold", "5")), pid, rssBefore);
                    emit(r.human(), r.json(), json);
                }
                case "count" -> {
                    long n = load.exchange(Long.parseLong(opt.getOrDefault("requests", "1000")),
                            seconds(opt.getOrDefault("deadline", "60")));
                    System.out.printf(java.util.Locale.ROOT, "%d echoes, %d bytes checked, %d errors, p50 %.1f us, max %.1f us%n", n,
                            load.checkedBytes(), load.errors(), load.histogram().percentile(50) / 1e3,
                            load.histogram().max() / 1e3);
                }
                default -> throw new IllegalArgumentException("unknown mode " + mode);
            }
            errors = load.errors();
        }
        if (errors > 0) {
            System.exit(1);
        }
    }

    private static void emit(String human, String jsonLine, Path file) throws IOException {
        System.out.println(human);
        System.out.println(jsonLine);
        if (file != null) {
            Files.writeString(file, jsonLine + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        }
    }

    private static String required(Map<String, String> opt, String name) {
        String v = opt.get(name);
        if (v == null) {
            throw new IllegalArgumentException("--" + name + " is required");
        }
        return v;
    }

    private static long seconds(String s) {
        return (long) (Double.parseDouble(s) * 1e9);
    }
}
