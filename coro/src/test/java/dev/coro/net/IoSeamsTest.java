package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.name;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine;
import dev.coro.CoroutineExit;
import dev.coro.CoroutinePool;
import dev.coro.CoroutineTimeoutException;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.Selector;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * No byte is lost or doubled at the seams of network I/O: seeded random programs in which servers
 * and clients exchange numbered records over several loopback connections while their reads and
 * writes are cut short by {@code withTimeout}s (nested now and then), coroutines parked in
 * {@code read}, {@code write} and {@code accept} are closed, connections are closed or shut down
 * mid-stream by either side or reset by a plain socket peer ({@code SO_LINGER} 0), writers park on
 * full buffers while their peer stops reading (some writers with a small send buffer and records up to
 * 128 KiB, so that their timeouts, and a close of their coroutine or of their connection, cut writes part way, as the run
 * asserts they did), and one connection is used by several coroutines of
 * its thread at once (a reader and one or two writers, by {@code write(ByteBuffer)} and by the
 * {@code java.io} view's array and single-byte writes).
 *
 * <p>Each run, from its seed: on a {@code CoroutinePool} of two threads, or on the scheduler of a
 * plain thread, a server body binds a listener per link and accepts its connection (plainly, through
 * accepts that time out, or after a coroutine parked in {@code accept} was closed; now and then a
 * coroutine parks in {@code accept} again and the listener's close fails it); the client of each
 * link is a coroutine of the server's thread (connecting plainly or through connects that time out,
 * whose closed sockets the server accepts and closes), a coroutine of the other pool thread, or a
 * plain {@code java.net.Socket} served by two plain threads. On a pool, some connections are left open for
 * the pool's end to close, one of them under its plain peer's read. Every wait is bounded: a run
 * that does not end within {@link #GUARD} fails naming its seed and where each of its coroutines was.
 *
 * <p>Checked, for each direction of each link: the bytes read are the pieces the writers' calls
 * reported writing (a {@code ByteBuffer}'s position, the count a view's write says, one byte or none
 * for {@code write(int)}), each whole and each writer's in order, mixed only between pieces; all of
 * them, read to the end of the stream, unless the link was aborted (closed mid-stream or reset), and
 * then a prefix: so a read that timed out or whose coroutine was closed took nothing, and a write cut
 * short wrote what it says. A read that timed out left its buffer's position where it was; a read after
 * {@code available()} took at least what it counted. Every {@code IOException} names the coroutine,
 * the operation, the connection and its state, and none comes on a link nobody aborted (but the writes
 * after a shut output); a server whose peer reset the connection never reads the end of the stream;
 * calls after a close fail naming the state {@code closed}; a write from another thread, and a negative
 * timeout, are refused naming them (a close from another thread is not: it is posted to the connection's
 * thread, CloseFromAnotherThreadTest). Once the pool is closed (or, on a plain thread,
 * everything is), no listener, connection or selector is left open, nor a descriptor.
 *
 * <p>{@code -Dioseams.seeds=N} runs N seeds from {@code -Dioseams.seed=S} (1 by default);
 * {@code -Dioseams.guardSeconds} bounds a run (60 by default); {@code -Dioseams.verbose=true} prints each run.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class IoSeamsTest {

    private static final int SEEDS = Integer.getInteger("ioseams.seeds", 8);
    private static final long FIRST = Long.getLong("ioseams.seed", 1);
    /** A bound for a run that is expected to end long before it: a guard against a hang, not a timing assertion. */
    private static final Duration GUARD = Duration.ofSeconds(Long.getLong("ioseams.guardSeconds", 60));
    /** The bytes of a record's header: the writer (1), the record's number (4), the payload's length (2). */
    private static final int HEADER = 7;
    /** The send buffer of a side whose large records are written under short timeouts: less than its records. */
    private static final int SMALL_SEND_BUFFER = 4 * 1024;
    /**
     * How many times larger the records of such a side are (up to 128 KiB; the header's length, a short, then
     * wraps, which the check, comparing bytes, does not read): on Linux loopback the socket takes a write of a
     * few tens of KiB whole or not at all, so only a larger one goes out part by part, parking between, where a
     * timeout cuts it part way.
     */
    private static final int LARGE = 4;
    /** How an IOException's message ends when a view's write failed part way: its count. */
    private static final Pattern PARTLY = Pattern.compile("; (\\d+) of the (\\d+) bytes of this write were written before it failed$");
    /**
     * What a view's write that failed part way with an exception of a subclass of IOException (one of a
     * {@code java.net} class, as the JDK's was) says of itself in an IOException suppressed in it: its count.
     */
    private static final Pattern FAILED = Pattern.compile("failed writing to .*\\): (\\d+) of the (\\d+) bytes of this write were written before it$");
    /** What a view's write cut short by a signal says of itself: its count. */
    private static final Pattern INTERRUPTED = Pattern.compile("was interrupted writing to .*\\): (\\d+) of the (\\d+) bytes of this write");

    @Test
    void everyByteAWriteReportedIsReadOnceInOrderThroughTimeoutsClosesResetsAndFullBuffers() throws Exception {
        long descriptorsBefore = openDescriptors();
        Totals totals = new Totals();
        for (long seed = FIRST; seed < FIRST + SEEDS; seed++) {
            Run run = new Run(seed);
            long t0 = System.nanoTime();
            runGuarded(seed, run::run, run::progress);
            if (Boolean.getBoolean("ioseams.verbose")) {
                System.out.println("[io seams] seed " + seed + ": " + (System.nanoTime() - t0) / 1_000_000 + " ms " + run.progress());
            }
            run.check();
            totals.add(run);
        }
        System.out.println("[io seams] " + SEEDS + " seeds from " + FIRST + ": " + totals);
        assertThat(openDescriptors()).as("descriptors open before the runs: %d", descriptorsBefore)
                .isLessThanOrEqualTo(descriptorsBefore + 8);
        if (SEEDS >= 8) {
            assertThat(totals.counts()).as("bytes checked, read timeouts, write timeouts, write timeouts part way, readers closed, writers closed,"
                    + " writes cut part way by a close of their coroutine, writes cut part way by a close of their connection, links aborted, resets, accept timeouts, decoys closed in accept, accepts failed by a close,"
                    + " connections the pool's end closed, connect timeouts")
                    .doesNotContain(0L);
        }
    }

    /** What the runs did, summed, to show that each seam was crossed. */
    static final class Totals {
        long bytes;
        long readTimeouts;
        long writeTimeouts;
        long writeTimeoutsPartWay;
        long writersClosedPartWay;
        long connectionsClosedPartWay;
        long readersClosed;
        long writersClosed;
        long aborted;
        long resets;
        long acceptTimeouts;
        long decoys;
        long acceptsFailed;
        long closedByThePool;
        long connectTimeouts;
        long connectsCut;

        /** Adds what run {@code r} did. */
        void add(Run r) {
            connectTimeouts += r.connectTimeouts.get();
            connectsCut += r.connectsCut.get();
            for (Link l : r.links) {
                for (Flow f : List.of(l.toServer, l.toClient)) {
                    bytes += f.read;
                    readTimeouts += f.readTimeouts.get();
                    writeTimeouts += f.writeTimeouts.get();
                    writeTimeoutsPartWay += f.writeTimeoutsPartWay.get();
                    writersClosedPartWay += f.writersClosedPartWay.get();
                    connectionsClosedPartWay += f.connectionsClosedPartWay.get();
                    readersClosed += f.readersClosed.get();
                    writersClosed += f.writersClosed.get();
                }
                aborted += l.aborted ? 1 : 0;
                resets += l.reset ? 1 : 0;
                closedByThePool += l.hangsOpen ? 1 : 0;
            }
            acceptTimeouts += r.acceptTimeouts.get();
            decoys += r.decoys.get();
            acceptsFailed += r.acceptsFailed.get();
        }

        /** The counts, in the order the test's assertion names them. */
        long[] counts() {
            return new long[] {bytes, readTimeouts, writeTimeouts, writeTimeoutsPartWay, readersClosed, writersClosed, writersClosedPartWay,
                connectionsClosedPartWay, aborted, resets, acceptTimeouts, decoys, acceptsFailed, closedByThePool, connectTimeouts};
        }

        @Override
        public String toString() {
            return bytes + " bytes checked, " + readTimeouts + " read timeouts, " + writeTimeouts + " write timeouts ("
                    + writeTimeoutsPartWay + " part way), "
                    + readersClosed + " readers and " + writersClosed + " writers closed (" + writersClosedPartWay + " writes part way), "
                    + connectionsClosedPartWay + " writes cut part way by their connection's close, " + aborted + " links aborted ("
                    + resets + " resets), " + acceptTimeouts + " accept timeouts, " + decoys + " coroutines closed in accept, "
                    + acceptsFailed + " accepts failed by the listener's close, " + closedByThePool
                    + " connections left for the pool's end to close under a plain peer's read, " + connectTimeouts
                    + " connect timeouts (" + connectsCut + " of their sockets accepted and closed)";
        }
    }

    // ---- one run -----------------------------------------------------------------------------

    /** One seeded run: its links, where it runs, and what went wrong. */
    static final class Run {
        final long seed;
        final Random random;
        final boolean onPool;
        final List<Link> links = new ArrayList<>();
        final Queue<String> errors = new ConcurrentLinkedQueue<>();
        final Queue<Object> resources = new ConcurrentLinkedQueue<>();
        final Queue<Selector> selectors = new ConcurrentLinkedQueue<>();
        /** Where each coroutine and thread of the run is, for the report of a hang. */
        final java.util.Map<String, String> progress = new java.util.concurrent.ConcurrentSkipListMap<>();
        final AtomicInteger acceptTimeouts = new AtomicInteger();
        final AtomicInteger connectTimeouts = new AtomicInteger();
        final AtomicInteger connectsCut = new AtomicInteger();
        final AtomicInteger decoys = new AtomicInteger();
        final AtomicInteger acceptsFailed = new AtomicInteger();
        final Queue<Thread> threads = new ConcurrentLinkedQueue<>();
        CoroutinePool pool;

        /** Draws the run's plan from {@code seed}: where it runs, its links. */
        Run(long seed) {
            this.seed = seed;
            this.random = new Random(seed);
            this.onPool = seed % 2 == 1 ? random.nextInt(4) != 0 : random.nextInt(4) == 0;
            int n = 2 + random.nextInt(3);
            for (int i = 0; i < n; i++) {
                links.add(new Link(i, random.nextLong(), onPool));
            }
            links.get(random.nextInt(n)).refusesAnotherThread = true;
        }

        /** The plan and where each coroutine and thread is: what a failure or a hang reports. */
        String progress() {
            StringBuilder b = new StringBuilder(onPool ? "on a pool of two" : "on a plain thread");
            for (Link l : links) {
                b.append("\n  ").append(l);
            }
            progress.forEach((who, where) -> b.append("\n  ").append(who).append(": ").append(where));
            return b.toString();
        }

        /** The run, on the calling (plain) thread: the server body there, or on a pool whose close it awaits. */
        Run run() throws Exception {
            try {
                if (onPool) {
                    pool = CoroutinePool.start(2);
                    try {
                        CompletableFuture<Void> server = pool.submit(() -> {
                            serve();
                            return null;
                        });
                        Coroutine.withTimeout(GUARD, () -> Coroutine.await(server));
                    } finally {
                        CoroutinePool p = pool;
                        Coroutine.withTimeout(GUARD, p::close);
                    }
                } else {
                    serve();
                    if (LoopProbe.ioWaits() != 0 || LoopProbe.selectorOpen()) {
                        errors.add("the plain thread has " + LoopProbe.ioWaits() + " I/O waits left, selector open: "
                                + LoopProbe.selectorOpen());
                    }
                }
            } finally {
                for (Thread t : threads) {
                    t.join(GUARD.toMillis());
                    if (t.isAlive()) {
                        errors.add(t + " has not ended");
                    }
                }
            }
            return this;
        }

        /** The server body: per link a listener, its client started, its connection accepted and served; then waits for all. */
        void serve() {
            List<CompletableFuture<Void>> ends = new ArrayList<>();
            try {
                for (Link link : links) {
                    ends.addAll(open(link));
                }
                for (CompletableFuture<Void> end : ends) {
                    Coroutine.withTimeout(GUARD, () -> Coroutine.await(end));
                }
            } catch (IOException e) {
                errors.add("server: " + e);
            }
        }

        /** Binds link's listener, starts its client, accepts its connection and starts serving it; the ends of both sides. */
        List<CompletableFuture<Void>> open(Link link) throws IOException {
            TcpListener listener = TcpListener.bind(LOOPBACK);
            resources.add(listener);
            if (link.acceptMode == 2) {
                closeADecoyParkedInAccept(link, listener);
            }
            List<CompletableFuture<Void>> ends = new ArrayList<>();
            CompletableFuture<Void> client = startClient(link, (InetSocketAddress) listener.localAddress());
            if (!link.hangsOpen) {
                ends.add(client); // else its end comes with the pool's: its thread is joined after the close
            }
            TcpConnection c = acceptTheClient(link, listener);
            CompletableFuture<Void> served = new CompletableFuture<>();
            ends.add(served);
            Coroutine.create("server-" + link.id, () -> {
                try {
                    new End(this, link, c, true).run();
                } catch (CoroutineExit e) {
                    throw e;
                } catch (Throwable e) {
                    errors.add("server-" + link.id + ": " + e);
                } finally {
                    served.complete(null);
                }
            });
            if (link.acceptMode == 3) {
                failAnAcceptByClosingTheListener(link, listener);
            } else if (!(onPool && link.leaveListenerOpen)) {
                listener.close();
            }
            return ends;
        }

        /** A coroutine parks in accept before any client connects and is closed there: it took nothing. */
        void closeADecoyParkedInAccept(Link link, TcpListener listener) {
            Coroutine decoy = Coroutine.create("decoy-" + link.id, () -> {
                try {
                    TcpConnection c = listener.accept();
                    resources.add(c);
                    errors.add("decoy-" + link.id + " accepted " + c + " though no client had connected");
                } catch (IOException e) {
                    errors.add("decoy-" + link.id + ": " + e);
                }
            });
            awaitParked(decoy, "decoy-" + link.id);
            decoy.close();
            decoys.incrementAndGet();
        }

        /**
         * Accepts link's client: a connection from another address is the socket of a connect the
         * client's timeout cut short, which the client closed; the server closes it too and accepts again.
         */
        TcpConnection acceptTheClient(Link link, TcpListener listener) throws IOException {
            SocketAddress client = null;
            while (true) {
                TcpConnection c = accept(link, listener);
                resources.add(c);
                if (client == null) {
                    client = Coroutine.withTimeout(GUARD, () -> Coroutine.await(link.clientAddress));
                }
                if (c.remoteAddress().equals(client)) {
                    return c;
                }
                c.close();
                connectsCut.incrementAndGet();
            }
        }

        /** Accepts link's connection: plainly, or through accepts cut short by short timeouts. */
        TcpConnection accept(Link link, TcpListener listener) throws IOException {
            if (link.acceptMode != 1) {
                return listener.accept();
            }
            Random r = new Random(link.seed);
            while (true) {
                try {
                    return Coroutine.withTimeout(Duration.ofMillis(r.nextInt(3)), () -> {
                        try {
                            return listener.accept();
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    });
                } catch (CoroutineTimeoutException e) {
                    acceptTimeouts.incrementAndGet();
                } catch (UncheckedIOException e) {
                    throw e.getCause();
                }
            }
        }

        /** A coroutine parks in accept and the listener is closed under it: it fails naming itself and the listener. */
        void failAnAcceptByClosingTheListener(Link link, TcpListener listener) throws IOException {
            String who = "acceptor-" + link.id;
            CompletableFuture<Void> ended = new CompletableFuture<>();
            Coroutine acceptor = Coroutine.create(who, () -> {
                try {
                    TcpConnection c = listener.accept();
                    resources.add(c);
                    errors.add(who + " accepted " + c + " though no client connected");
                } catch (IOException e) {
                    String m = String.valueOf(e.getMessage());
                    if (m.equals("coroutine '" + who + "' cannot accept on listener " + listener.localAddress()
                            + " (closed): the listener was closed while it waited")) {
                        acceptsFailed.incrementAndGet();
                    } else {
                        errors.add(who + " failed with a message naming the wrong things: " + e);
                    }
                } finally {
                    ended.complete(null);
                }
            });
            awaitParked(acceptor, who);
            listener.close();
            Coroutine.withTimeout(GUARD, () -> Coroutine.await(ended)); // the acceptor fails and ends
        }

        /**
         * Yields until {@code co}, just made, has parked (in accept: no client has connected), as many
         * times as the thread's other contexts take to let it run; a bounded number of times.
         */
        void awaitParked(Coroutine co, String who) {
            for (int i = 0; i < 100_000 && co.state() != Coroutine.State.PARKED; i++) {
                Coroutine.yield();
            }
            if (co.state() != Coroutine.State.PARKED) {
                errors.add(who + " is " + co.state() + ", not parked in accept");
            }
        }

        /** Connects to {@code address} through connects cut short by timeouts of 0 or 1 ms, as often as it takes. */
        TcpConnection connectThroughTimeouts(Link link, InetSocketAddress address) throws IOException {
            Random r = new Random(link.seed ^ 2);
            while (true) {
                try {
                    return Coroutine.withTimeout(Duration.ofMillis(r.nextInt(2)), () -> {
                        try {
                            return TcpConnection.connect(address);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    });
                } catch (CoroutineTimeoutException e) {
                    connectTimeouts.incrementAndGet();
                } catch (UncheckedIOException e) {
                    throw e.getCause();
                }
            }
        }

        /** Starts link's client: a coroutine of this thread or of the pool's other, or a plain socket on two threads. */
        CompletableFuture<Void> startClient(Link link, InetSocketAddress address) {
            CompletableFuture<Void> end = new CompletableFuture<>();
            if (link.plainPeer) {
                new PlainPeer(this, link, address, end).start();
                return end;
            }
            Runnable client = () -> {
                try {
                    TcpConnection c = link.connectsTimeOut ? connectThroughTimeouts(link, address) : TcpConnection.connect(address);
                    link.clientAddress.complete(c.localAddress());
                    resources.add(c);
                    new End(this, link, c, false).run();
                } catch (CoroutineExit e) {
                    throw e;
                } catch (Throwable e) {
                    errors.add("client-" + link.id + ": " + e);
                } finally {
                    end.complete(null);
                }
            };
            if (onPool && link.clientElsewhere) {
                pool.execute(() -> { // a body of its own: placed on the thread with the fewest, the other one
                    Coroutine.create("client-" + link.id, client);
                    Coroutine.withTimeout(GUARD, () -> Coroutine.await(end));
                });
            } else {
                Coroutine.create("client-" + link.id, client);
            }
            return end;
        }

        /** Fails the test with the run's seed if anything it recorded is wrong. */
        void check() {
            String as = "seed " + seed + " (" + progress() + ")";
            for (Link l : links) {
                l.toServer.check(l, errors);
                l.toClient.check(l, errors);
            }
            for (Object r : resources) {
                boolean open = r instanceof TcpConnection c ? c.isOpen() : ((TcpListener) r).isOpen();
                if (open) {
                    errors.add(r + " is still open at the end");
                }
            }
            for (Selector s : selectors) {
                if (s.isOpen()) {
                    errors.add("a selector of a pool thread is still open after the pool's close");
                }
            }
            assertThat(errors).as(as).isEmpty();
        }
    }

    // ---- the plan of a link ------------------------------------------------------------------

    /** One connection: its plan, drawn from its seed, and its two directions. */
    static final class Link {
        final int id;
        final long seed;
        /** 0 accept, 1 accepts cut short by timeouts, 2 a decoy closed in accept first, 3 an acceptor failed by the listener's close after. */
        final int acceptMode;
        final boolean plainPeer;
        final boolean clientElsewhere;
        final boolean leaveListenerOpen;
        final Side server;
        final Side client;
        /**
         * The server leaves its end open without shutting its output down, for the end of the pool's
         * thread to close: only then does its plain peer read the end of the stream (the server body
         * does not wait for that peer).
         */
        final boolean hangsOpen;
        /**
         * The client connects through connects cut short by timeouts of 0 or 1 ms: each closes its
         * socket, which the server may have in its backlog, accepts, and closes in turn.
         */
        final boolean connectsTimeOut;
        /** The client's address once it has connected: the server closes what it accepted from any other. */
        final CompletableFuture<SocketAddress> clientAddress = new CompletableFuture<>();
        /** A plain peer resets the connection (SO_LINGER 0) after this many of its records; -1 never. */
        final int resetAfter;
        final Flow toServer = new Flow("to the server");
        final Flow toClient = new Flow("to the client");
        /** A side closed it mid-stream or the peer reset it: set before it happens; then only prefixes are promised. */
        volatile boolean aborted;
        volatile boolean reset;
        /** The server closed its end mid-stream (its chaos): its reader may end by that close. */
        volatile boolean serverClosedEarly;
        boolean refusesAnotherThread;

        /** Draws link {@code id}'s plan from {@code seed}; some choices only {@code onPool}. */
        Link(int id, long seed, boolean onPool) {
            this.id = id;
            this.seed = seed;
            Random r = new Random(seed);
            acceptMode = r.nextInt(4);
            plainPeer = r.nextInt(3) == 0;
            clientElsewhere = r.nextBoolean();
            leaveListenerOpen = r.nextBoolean();
            server = new Side(r, onPool);
            client = plainPeer ? new Side(r, false, true) : new Side(r, onPool);
            resetAfter = plainPeer && r.nextBoolean() ? r.nextInt(client.records + 1) : -1;
            hangsOpen = onPool && plainPeer && r.nextInt(3) == 0;
            connectsTimeOut = !plainPeer && r.nextInt(3) == 0;
        }

        @Override
        public String toString() {
            return "link " + id + ": accept mode " + acceptMode + (plainPeer ? ", a plain peer" : clientElsewhere ? ", a client elsewhere" : "")
                    + (hangsOpen ? ", left open by the server for the pool's end to close" : "")
                    + (resetAfter >= 0 ? ", reset after " + resetAfter + " records" : "") + ", server " + server
                    + ", client " + client + (aborted ? ", aborted" : "") + "; " + toServer + "; " + toClient;
        }
    }

    /** What one side of a link does. */
    static final class Side {
        final int writers;
        final int records;
        final int maxRecord;
        /**
         * The highest mode a write takes, each drawn from 0 to it: 0 write, 1 write under short timeouts,
         * 2 the view's write, 3 the view's write under short timeouts, 4 the view's single bytes.
         */
        final int writeModes;
        /**
         * The highest mode a read takes, each drawn from 0 to it: 0 read, 1 read under a short timeout,
         * 2 the view's read, 3 the view's read under a short timeout, 4 a read after the view's {@code available()},
         * 5 the view's {@code read()} of one byte, now and then under a short timeout.
         */
        final int readModes;
        final int readBuffer;
        /** How many times the reader stops reading for a while (each time at a read chosen at random, 1 in 20). */
        final int pauses;
        /** 0 none, 1 close the reader, 2 close the writer, 3 close the connection mid-stream, 4 shut its output down mid-stream. */
        final int chaos;
        final int chaosDelayMillis;
        final boolean leaveOpen;
        /**
         * Whether its connection's send buffer is set small ({@link #SMALL_SEND_BUFFER}) and its records are
         * {@link #LARGE} times as large: so for a side of large records written now and then under short
         * timeouts, whose writes the socket would otherwise take whole, never cut part way.
         */
        final boolean smallSendBuffer;
        final long seed;

        /** A side run by coroutines, drawn from {@code r}. */
        Side(Random r, boolean onPool) {
            this(r, onPool, false);
        }

        /** A side drawn from {@code r}: run by coroutines, or by a {@code plain} socket (one writer, no chaos). */
        Side(Random r, boolean onPool, boolean plain) {
            writers = plain ? 1 : 1 + (r.nextInt(3) == 0 ? 1 : 0);
            records = r.nextInt(40);
            maxRecord = r.nextBoolean() ? 200 : 1 << (12 + r.nextInt(4));
            writeModes = maxRecord == 200 ? r.nextInt(5) : r.nextInt(4); // single bytes (4) for small records only
            readBuffer = 1 + r.nextInt(maxRecord == 200 && r.nextBoolean() ? 16 : 1 << 16);
            readModes = r.nextInt(readBuffer <= 16 ? 6 : 5); // single bytes (5) for small reads only
            pauses = r.nextInt(3) == 0 ? 1 + r.nextInt(5) : 0;
            int c = r.nextInt(7);
            chaos = plain || c > 4 ? 0 : c;
            chaosDelayMillis = r.nextInt(15);
            leaveOpen = onPool && r.nextInt(3) == 0;
            seed = r.nextLong();
            smallSendBuffer = !plain && maxRecord > 200 && writeModes > 0; // not drawn: the plans stay as they were
        }

        @Override
        public String toString() {
            return "{" + writers + " writers of " + records + " records up to " + maxRecord + " bytes, write mode " + writeModes
                    + ", read mode " + readModes + " by " + readBuffer + ", " + pauses + " pauses, chaos " + chaos + " after "
                    + chaosDelayMillis + " ms" + (leaveOpen ? ", left open" : "")
                    + (smallSendBuffer ? ", a small send buffer and records " + LARGE + " times as large" : "") + "}";
        }
    }

    // ---- one direction ---------------------------------------------------------------------------

    /**
     * One direction of a link: the bytes its reader read, the pieces its writers' calls put on the wire,
     * and the check that the first are those pieces, each whole, each writer's in order. A record: the
     * writer's number (1 byte), the record's (4), the payload's length (2), then the payload, whose
     * bytes are a function of all three and their place; its pieces are what each call that wrote it
     * reported written (a buffer's position, a view's count): one for a write that went through, one
     * per try for a write cut short and written on.
     */
    static final class Flow {
        final String name;
        /** Bytes the writers reported written: a buffer's position, a view's count. */
        final AtomicLong written = new AtomicLong();
        /** At most this many may have gone out: {@link #written} and the whole of any write that failed without a count. */
        final AtomicLong writtenAtMost = new AtomicLong();
        final AtomicInteger readTimeouts = new AtomicInteger();
        final AtomicInteger writeTimeouts = new AtomicInteger();
        /** Writes cut short by a timeout after some but not all of their bytes went out. */
        final AtomicInteger writeTimeoutsPartWay = new AtomicInteger();
        /** Writes whose coroutine was closed after some but not all of their bytes went out. */
        final AtomicInteger writersClosedPartWay = new AtomicInteger();
        /** Writes whose connection was closed (by their own side) after some but not all of their bytes went out. */
        final AtomicInteger connectionsClosedPartWay = new AtomicInteger();
        final AtomicInteger readersClosed = new AtomicInteger();
        final AtomicInteger writersClosed = new AtomicInteger();
        /** The writing side shut its output down while its writers wrote: they fail, and the reader gets what they wrote. */
        volatile boolean shutEarly;
        volatile boolean endOfStream;
        volatile String readFailure;
        volatile String writeFailure;
        /** What the readers read, in order. */
        private final java.io.ByteArrayOutputStream wire = new java.io.ByteArrayOutputStream();
        long read;
        /** Per writer, the pieces its calls put on the wire, in order. */
        private final List<List<Piece>> pieces = List.of(new ArrayList<>(), new ArrayList<>());

        /** {@code length} bytes of {@code record} from {@code offset}, as one call wrote them. */
        record Piece(byte[] record, int offset, int length) {}

        /** A direction named {@code name}, e.g. {@code to the server}. */
        Flow(String name) {
            this.name = name;
        }

        /** The bytes of record {@code record} of writer {@code writer}, with a payload of {@code length} bytes. */
        static byte[] record(int writer, int record, int length) {
            byte[] b = new byte[HEADER + length];
            ByteBuffer.wrap(b).put((byte) writer).putInt(record).putShort((short) length);
            for (int k = 0; k < length; k++) {
                b[HEADER + k] = (byte) (record * 31 + k * 7 + (k >>> 8) + writer * 101);
            }
            return b;
        }

        /** A call of writer {@code writer} put {@code length} bytes of {@code rec} from {@code offset} on the wire. */
        synchronized void wrote(int writer, byte[] rec, int offset, int length) {
            if (length > 0) {
                pieces.get(writer).add(new Piece(rec, offset, length));
            }
        }

        /** The reader read {@code n} bytes. */
        synchronized void feed(byte[] b, int off, int n) {
            wire.write(b, off, n);
            read += n;
        }

        /** Records the failure of a read or a write on this flow, as the reader or a writer saw it. */
        void failed(boolean reading, IOException e) {
            if (reading) {
                readFailure = String.valueOf(e);
            } else {
                writeFailure = String.valueOf(e);
            }
        }

        /**
         * How far the bytes read are the writers' pieces, each whole and each writer's in order, mixed
         * only between pieces: the length of the longest such prefix; {@code complete} if it is all of
         * them, and every piece written (or, if {@code prefixOnly}, the bytes end inside a piece or
         * between two).
         */
        private int match(byte[] got, boolean prefixOnly, boolean[] complete) {
            List<Piece> a = pieces.get(0);
            List<Piece> b = pieces.get(1);
            java.util.Set<Long> seen = new java.util.HashSet<>();
            java.util.ArrayDeque<int[]> todo = new java.util.ArrayDeque<>();
            todo.push(new int[] {0, 0, 0});
            int longest = 0;
            while (!todo.isEmpty()) {
                int[] at = todo.pop();
                int pos = at[0];
                if (!seen.add(((long) at[1] << 32) | at[2])) {
                    continue;
                }
                longest = Math.max(longest, pos);
                if (pos == got.length && (prefixOnly || at[1] == a.size() && at[2] == b.size())) {
                    complete[0] = true;
                    return pos;
                }
                for (int w = 0; w < 2; w++) {
                    List<Piece> own = w == 0 ? a : b;
                    int i = at[1 + w];
                    if (i == own.size()) {
                        continue;
                    }
                    Piece p = own.get(i);
                    int m = Math.min(p.length(), got.length - pos);
                    if (!java.util.Arrays.equals(got, pos, pos + m, p.record(), p.offset(), p.offset() + m)) {
                        continue;
                    }
                    if (m < p.length()) {
                        if (prefixOnly) { // the bytes end inside this piece
                            complete[0] = true;
                            return got.length;
                        }
                        continue;
                    }
                    todo.push(w == 0 ? new int[] {pos + m, i + 1, at[2]} : new int[] {pos + m, at[1], i + 1});
                }
            }
            return longest;
        }

        /** The promises of this direction once the run has ended. */
        synchronized void check(Link link, Queue<String> errors) {
            String where = "link " + link.id + " " + name + ": ";
            byte[] got = wire.toByteArray();
            boolean[] complete = new boolean[1];
            int matched = match(got, link.aborted, complete);
            if (!complete[0]) {
                errors.add(where + "the " + got.length + " bytes read are the writers' " + pieces.get(0).size() + " and "
                        + pieces.get(1).size() + " pieces, each whole and in order, only up to byte " + matched
                        + (link.aborted ? "" : " (all of them, read to the end, expected)"));
            }
            if (read > writtenAtMost.get()) {
                errors.add(where + read + " bytes read, but only " + writtenAtMost.get() + " written at most");
            }
            if (link.reset && this == link.toServer && endOfStream && !link.serverClosedEarly) {
                errors.add(where + "the server read the end of the stream though its peer reset the connection and sent no FIN");
            }
            if (link.aborted) {
                return;
            }
            if (readFailure != null || (writeFailure != null && !shutEarly)) {
                errors.add(where + "failed though nobody aborted the link: " + readFailure + ", " + writeFailure);
            }
            if (!endOfStream) {
                errors.add(where + "the reader did not read to the end of the stream");
            }
            if (read != written.get() || written.get() != writtenAtMost.get()) {
                errors.add(where + read + " bytes read, " + written.get() + " reported written (at most "
                        + writtenAtMost.get() + ")");
            }
        }

        @Override
        public synchronized String toString() {
            return name + ": " + read + " read of " + written + " written" + (endOfStream ? ", ended" : "")
                    + (readFailure != null ? ", read failed" : "") + (writeFailure != null ? ", write failed" : "");
        }
    }

    // ---- a side run by coroutines ----------------------------------------------------------------

    /** One side of a link run by coroutines of the calling thread: its writers, its reader, its chaos. */
    static final class End {
        final Run run;
        final Link link;
        final TcpConnection c;
        final Side side;
        final String name;
        final Flow out;
        final Flow in;
        final List<CompletableFuture<Void>> writersEnded = new ArrayList<>();
        final CompletableFuture<Void> readEnded = new CompletableFuture<>();
        final Random random;
        final List<Coroutine> writerCoroutines = new ArrayList<>();
        Coroutine reader;
        int readers;
        /** Per writer: whether it has ended. */
        boolean[] writerDone;
        /** Per writer: the buffer of its {@code write(ByteBuffer)} under way, or null; for the chaos to find a write parked part way. */
        ByteBuffer[] writing;
        /** Per writer: the position at which that write began. */
        int[] writingFrom;

        /** The {@code server} side of {@code link} on connection {@code c}, or its client side. */
        End(Run run, Link link, TcpConnection c, boolean server) {
            this.run = run;
            this.link = link;
            this.c = c;
            this.side = server ? link.server : link.client;
            this.name = (server ? "server-" : "client-") + link.id;
            this.out = server ? link.toClient : link.toServer;
            this.in = server ? link.toServer : link.toClient;
            this.random = new Random(side.seed);
        }

        /** Runs the side: checks the bad calls, starts the coroutines, waits for them, ends the connection, checks the calls after. */
        void run() throws Exception {
            if (side.smallSendBuffer) { // a large record's write does not fit: it goes out part by part, and a timeout may cut it between
                c.setOption(StandardSocketOptions.SO_SNDBUF, SMALL_SEND_BUFFER);
            }
            if (link.refusesAnotherThread && name.startsWith("server")) {
                badCalls();
            }
            writerDone = new boolean[side.writers];
            writing = new ByteBuffer[side.writers];
            writingFrom = new int[side.writers];
            for (int w = 0; w < side.writers; w++) {
                int id = w;
                CompletableFuture<Void> ended = new CompletableFuture<>();
                writersEnded.add(ended);
                Random r = new Random(random.nextLong());
                writerCoroutines.add(Coroutine.create(name + "-writer" + w, () -> {
                    try {
                        write(id, r);
                    } finally {
                        writerDone[id] = true;
                        ended.complete(null);
                    }
                }));
            }
            startReader(new Random(random.nextLong()));
            Coroutine chaos = side.chaos == 0 ? null : Coroutine.create(name + "-chaos", this::chaos);
            run.progress.put(name, "awaits its writers");
            for (CompletableFuture<Void> w : writersEnded) {
                Coroutine.withTimeout(GUARD, () -> Coroutine.await(w));
            }
            boolean hangsOpen = link.hangsOpen && name.startsWith("server");
            if (c.isOpen() && out.writeFailure == null && !out.shutEarly && !hangsOpen) {
                try {
                    c.shutdownOutput();
                } catch (IOException e) {
                    if (!link.aborted) {
                        run.errors.add(name + ": shutdownOutput: " + e);
                    }
                }
            }
            run.progress.put(name, "awaits its reader");
            Coroutine.withTimeout(GUARD, () -> Coroutine.await(readEnded));
            run.progress.put(name, "ends");
            if (chaos != null) {
                chaos.close(); // too late for it: the streams have ended
            }
            if (run.onPool) {
                Selector s = LoopProbe.selector();
                if (s != null) {
                    run.selectors.add(s);
                }
            }
            if ((side.leaveOpen || hangsOpen) && c.isOpen()) {
                run.progress.put(name, "left open");
                return; // the pool thread's end closes it
            }
            c.close();
            callsAfterClose();
            run.progress.put(name, "ended");
        }

        /** A call from another thread is refused naming it; a negative timeout is refused before the read it would bound. */
        private void badCalls() {
            CompletableFuture<String> refused = new CompletableFuture<>();
            Thread.ofPlatform().name("stranger-" + link.id).start(() -> {
                StringBuilder b = new StringBuilder();
                try {
                    c.write(ByteBuffer.wrap(new byte[1]));
                    b.append("a write from another thread went through");
                } catch (IllegalStateException e) {
                    b.append(e.getMessage());
                } catch (Throwable e) {
                    b.append(e);
                }
                refused.complete(b.toString());
            });
            String m = Coroutine.withTimeout(GUARD, () -> Coroutine.await(refused));
            if (!m.contains("write to " + name(c)) || !m.contains("stranger-" + link.id) || !m.contains("(open)")) {
                run.errors.add(name + ": a write from another thread was refused naming the wrong things: " + m);
            }
            if (!c.isOpen()) {
                run.errors.add(name + ": a refused write closed the connection");
            }
            ByteBuffer buf = ByteBuffer.allocate(8);
            try {
                Coroutine.withTimeout(Duration.ofMillis(-1), () -> readInto(buf));
                run.errors.add(name + ": a read under a negative timeout ran");
            } catch (IllegalArgumentException e) {
                if (!String.valueOf(e.getMessage()).contains("coroutine '" + name + "'")) {
                    run.errors.add(name + ": a negative timeout was refused naming the wrong things: " + e);
                }
            }
            if (buf.position() != 0) {
                run.errors.add(name + ": a refused read took " + buf.position() + " bytes");
            }
        }

        /** After the close: a read and a write fail naming the caller, the call, the connection and its state. */
        private void callsAfterClose() {
            String who = "coroutine '" + name + "'";
            try {
                c.read(ByteBuffer.allocate(1));
                run.errors.add(name + ": a read after close returned");
            } catch (IOException e) {
                expectMessage(e, who + " cannot read from " + name(c) + " (closed)");
            }
            try {
                c.write(ByteBuffer.wrap(new byte[] {1}));
                run.errors.add(name + ": a write after close returned");
            } catch (IOException e) {
                expectMessage(e, who + " cannot write to " + name(c) + " (closed)");
            }
        }

        /** Records an error unless {@code e}'s message starts with {@code start}. */
        private void expectMessage(IOException e, String start) {
            if (!String.valueOf(e.getMessage()).startsWith(start)) {
                run.errors.add(name + ": expected a message starting with '" + start + "', got " + e);
            }
        }

        /** An IOException of {@code who}'s {@code operation}: fine on an aborted link if it names the right things. */
        private void failedWith(IOException e, String who, String operation, boolean reading) {
            (reading ? in : out).failed(reading, e);
            String m = String.valueOf(e.getMessage());
            String start = "coroutine '" + who + "' cannot " + operation + " " + name(c);
            if (!m.startsWith(start + " (open") && !m.startsWith(start + " (closed)")) {
                run.errors.add(who + ": an IOException naming the wrong things (expected '" + start + "' and the state): " + e);
            }
            if (!reading && out.shutEarly && !link.aborted) {
                if (!m.startsWith(start + " (open, output shut down)")) {
                    run.errors.add(who + ": a write after the output was shut down failed naming the wrong state: " + e);
                }
                return;
            }
            if (!link.aborted) {
                run.errors.add(who + ": " + e + " on a link nobody aborted");
            }
        }

        /** Starts a reader (the first, or one after the chaos closed the one before), drawing from {@code r}. */
        private void startReader(Random r) {
            String who = name + "-reader" + (readers++ == 0 ? "" : readers);
            reader = Coroutine.create(who, () -> read(who, r));
        }

        /** The reader: reads to the end of the stream (or a failure) in the modes of the plan, checking each byte. */
        private void read(String who, Random r) {
            ByteBuffer buf = ByteBuffer.allocate(side.readBuffer);
            int pauses = side.pauses;
            try {
                while (true) {
                    if (pauses > 0 && r.nextInt(20) == 0) {
                        pauses--;
                        Coroutine.sleep(Duration.ofMillis(1 + r.nextInt(20))); // stops reading for a while
                    }
                    int mode = side.readModes == 0 ? 0 : r.nextInt(side.readModes + 1);
                    run.progress.put(who, "reads in mode " + mode + " after " + in.read + " bytes");
                    buf.clear();
                    int n;
                    try {
                        n = switch (mode) {
                            case 0 -> c.read(buf);
                            case 1 -> within(r, () -> readInto(buf));
                            case 2 -> c.input().read(buf.array(), 0, buf.capacity());
                            case 3 -> within(r, () -> viewRead(buf.array()));
                            case 4 -> readAvailable(who, buf);
                            default -> readByte(buf.array(), r);
                        };
                    } catch (CoroutineTimeoutException e) {
                        in.readTimeouts.incrementAndGet();
                        if (buf.position() != 0) {
                            run.errors.add(who + ": a read that timed out took " + buf.position() + " bytes");
                        }
                        continue;
                    }
                    if (n < 0) {
                        in.endOfStream = true;
                        if (mode == 4) {
                            int left = available(who);
                            if (left != 0) {
                                run.errors.add(who + ": available() is " + left + " at the end of the stream");
                            }
                        }
                        break;
                    }
                    if (mode < 2 || mode == 4) {
                        if (buf.position() != n) {
                            run.errors.add(who + ": a read returned " + n + " but its buffer's position says " + buf.position());
                        }
                    }
                    in.feed(buf.array(), 0, n);
                }
            } catch (UncheckedIOException e) {
                failedWith(e.getCause(), who, "read from", true);
            } catch (AvailableFailed e) {
                failedWith((IOException) e.getCause(), who, "count the bytes available on", true);
            } catch (IOException e) {
                failedWith(e, who, "read from", true);
            } finally {
                run.progress.put(who, "ended");
                if (reader == Coroutine.current()) {
                    readEnded.complete(null); // a reader closed by the chaos leaves the end to the next
                }
            }
        }

        /**
         * A read after {@code available()}: it takes at least what that counted (as much as {@code buf}
         * holds) without waiting, having no scheduling point in between.
         */
        private int readAvailable(String who, ByteBuffer buf) throws IOException {
            int k = available(who);
            int n = c.read(buf);
            if (n >= 0 && n < Math.min(k, buf.capacity())) {
                run.errors.add(who + ": available() counted " + k + " bytes, but the read that followed took " + n);
            }
            return n;
        }

        /** The view's {@code read()} of one byte into {@code b[0]}, half the time under a short timeout: 1, or -1 at the end. */
        private int readByte(byte[] b, Random r) throws IOException {
            int x = r.nextBoolean() ? c.input().read() : within(r, () -> {
                try {
                    return c.input().read();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            if (x < 0) {
                return -1;
            }
            b[0] = (byte) x;
            return 1;
        }

        /** {@code available()} of the input view, its failure told apart from a read's (the call it names differs). */
        private int available(String who) throws IOException {
            try {
                return c.input().available();
            } catch (IOException e) {
                throw new AvailableFailed(e);
            }
        }

        /** The failure of {@code available()}, carried out of the read loop. */
        static final class AvailableFailed extends IOException {
            /** Carries {@code e}, with its message. */
            AvailableFailed(IOException e) {
                super(e.getMessage(), e);
            }
        }

        /** {@code body} under a {@code withTimeout} of 0 to 3 ms, now and then inside an outer one that may expire first. */
        private static <T> T within(Random r, Supplier<T> body) {
            Duration d = Duration.ofMillis(r.nextInt(4));
            return r.nextInt(4) != 0 ? Coroutine.withTimeout(d, body)
                    : Coroutine.withTimeout(Duration.ofMillis(r.nextInt(4)), () -> Coroutine.withTimeout(d, body));
        }

        /** {@code read(buf)}, an {@code IOException} carried unchecked out of a {@code withTimeout}. */
        private int readInto(ByteBuffer buf) {
            try {
                return c.read(buf);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** The view's {@code read(b, 0, b.length)}, an {@code IOException} carried unchecked out of a {@code withTimeout}. */
        private int viewRead(byte[] b) {
            try {
                return c.input().read(b, 0, b.length);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /**
         * Writer {@code id}: its records, each written to the end, going on after each cut, in the
         * modes of the plan; each call's piece is reported to the flow as it ends.
         */
        private void write(int id, Random r) {
            String who = name + "-writer" + id;
            try {
                for (int k = 0; k < side.records; k++) {
                    run.progress.put(who, "writes record " + k);
                    byte[] rec = Flow.record(id, k, r.nextInt(side.maxRecord + 1) * (side.smallSendBuffer ? LARGE : 1));
                    int mode = side.writeModes == 0 ? 0 : r.nextInt(side.writeModes + 1);
                    out.writtenAtMost.addAndGet(rec.length);
                    try {
                        switch (mode) {
                            case 0, 1 -> writeBuffer(id, rec, mode == 1, r);
                            case 2, 3 -> writeView(id, rec, mode == 3, r);
                            default -> writeBytes(id, rec, r.nextBoolean(), r);
                        }
                    } finally {
                        out.written.addAndGet(lastWrote);
                        out.writtenAtMost.addAndGet(lastWrote - rec.length);
                    }
                    if (r.nextInt(8) == 0) {
                        Coroutine.yield();
                    }
                }
            } catch (UncheckedIOException e) {
                failedWith(e.getCause(), who, "write to", false);
            } catch (IOException e) {
                failedWith(e, who, "write to", false);
            } finally {
                run.progress.put(who, "ended");
            }
        }

        /** How many bytes of its record the last record's write put on the wire, also when it threw (a side's writers take turns). */
        private int lastWrote;

        /** Times out a write: {@code body} under a {@code withTimeout} of 0 to 3 ms. */
        private void timed(Random r, IoBody body) {
            within(r, () -> {
                try {
                    body.run();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                return null;
            });
        }

        /** A write that may throw {@code IOException}. */
        @FunctionalInterface
        interface IoBody {
            void run() throws IOException;
        }

        /** Writes {@code rec} by {@code write(ByteBuffer)}, on after each timeout; each call's piece what its position says. */
        private void writeBuffer(int id, byte[] rec, boolean timed, Random r) throws IOException {
            ByteBuffer b = ByteBuffer.wrap(rec);
            try {
                while (b.hasRemaining()) {
                    int from = b.position();
                    writing[id] = b;
                    writingFrom[id] = from;
                    try {
                        if (timed) {
                            timed(r, () -> c.write(b));
                        } else {
                            c.write(b);
                        }
                    } catch (CoroutineTimeoutException e) {
                        out.writeTimeouts.incrementAndGet();
                        if (b.position() != from) {
                            out.writeTimeoutsPartWay.incrementAndGet();
                        }
                    } catch (CoroutineExit e) {
                        if (b.position() != from) {
                            out.writersClosedPartWay.incrementAndGet();
                        }
                        throw e;
                    } catch (IOException | UncheckedIOException e) {
                        if (b.position() != from) {
                            closedPartWay(e);
                        }
                        throw e;
                    } finally {
                        writing[id] = null;
                        out.wrote(id, rec, from, b.position() - from);
                    }
                }
            } finally {
                lastWrote = b.position();
            }
        }

        /** Writes {@code rec} by the view's {@code write(byte[], int, int)}, on after each timeout; each call's piece what it says. */
        private void writeView(int id, byte[] rec, boolean timed, Random r) throws IOException {
            int off = 0;
            try {
                while (off < rec.length) {
                    int from = off;
                    int len = rec.length - from;
                    int n = 0;
                    try {
                        if (timed) {
                            timed(r, () -> c.output().write(rec, from, len));
                        } else {
                            c.output().write(rec, from, len);
                        }
                        n = len;
                    } catch (CoroutineTimeoutException e) {
                        out.writeTimeouts.incrementAndGet();
                        n = said(e.getCause(), len);
                        if (n > 0) {
                            out.writeTimeoutsPartWay.incrementAndGet();
                        }
                    } catch (UncheckedIOException e) {
                        n = said(e.getCause(), len);
                        if (n > 0) {
                            closedPartWay(e);
                        }
                        throw e;
                    } catch (IOException e) {
                        n = said(e, len);
                        if (n > 0) {
                            closedPartWay(e);
                        }
                        throw e;
                    } catch (CoroutineExit e) {
                        n = said(e, len);
                        if (n > 0) {
                            out.writersClosedPartWay.incrementAndGet();
                        }
                        throw e;
                    } finally {
                        out.wrote(id, rec, from, n);
                        off += n;
                    }
                }
            } finally {
                lastWrote = off;
            }
        }

        /**
         * Writes {@code rec} a byte at a time by the view's {@code write(int)}, each byte again after a
         * timeout: a byte goes out whole or not at all, so a call that threw sent nothing.
         */
        private void writeBytes(int id, byte[] rec, boolean timed, Random r) throws IOException {
            int off = 0;
            try {
                while (off < rec.length) {
                    int k = off;
                    try {
                        if (timed) {
                            timed(r, () -> c.output().write(rec[k]));
                        } else {
                            c.output().write(rec[k]);
                        }
                        out.wrote(id, rec, k, 1);
                        off++;
                    } catch (CoroutineTimeoutException e) {
                        out.writeTimeouts.incrementAndGet();
                    }
                }
            } finally {
                lastWrote = off;
            }
        }

        /**
         * A write failed by {@code e} after some but not all of its bytes went out: counted if it failed for the
         * close of its connection (the state its message names is {@code closed}), not for a reset or a shut output.
         */
        private void closedPartWay(Exception e) {
            IOException f = e instanceof UncheckedIOException u ? u.getCause() : (IOException) e;
            if (String.valueOf(f.getMessage()).contains(" (closed): ")) {
                out.connectionsClosedPartWay.incrementAndGet();
            }
        }

        /** How many bytes of a view's write of {@code len} went out, as {@code t} (a failure, or the signal that cut it) says. */
        private int said(Throwable t, int len) {
            if (t == null) {
                return 0;
            }
            if (t instanceof IOException) {
                Matcher m = PARTLY.matcher(String.valueOf(t.getMessage()));
                if (m.find()) {
                    checkLength(m.group(2), len);
                    return Integer.parseInt(m.group(1));
                }
                // else one of a subclass (a SocketException, the JDK's class kept) says it in a suppressed IOException, if anything went out
            }
            int n = 0;
            for (Throwable s : t.getSuppressed()) {
                Matcher m = (t instanceof IOException ? FAILED : INTERRUPTED).matcher(String.valueOf(s.getMessage()));
                if (m.find()) {
                    checkLength(m.group(2), len);
                    n += Integer.parseInt(m.group(1));
                }
            }
            return n;
        }

        /** Records an error unless a view's message {@code said} the write had {@code len} bytes. */
        private void checkLength(String said, int len) {
            if (Integer.parseInt(said) != len) {
                run.errors.add(name + ": a view's write of " + len + " bytes says it was one of " + said);
            }
        }

        /**
         * After a while, closes the reader (and starts another), the writer, or the connection, while they may be
         * parked. On a side of large records and a small send buffer, a close of a writer or of the connection waits
         * instead for a writer parked part way through a {@code write(ByteBuffer)} (a bounded number of yields, and
         * no longer than the writers write), and closes that writer: so that the runs reach, as they assert,
         * writes cut part way by a close of their coroutine and of their connection.
         */
        private void chaos() {
            boolean cutPartWay = side.smallSendBuffer && (side.chaos == 2 || side.chaos == 3);
            run.progress.put(name + "-chaos", "sleeps");
            Coroutine.sleep(Duration.ofMillis(cutPartWay ? 0 : side.chaosDelayMillis));
            int partWay = cutPartWay ? awaitAWriterParkedPartWay() : -1;
            run.progress.put(name + "-chaos", "acts");
            switch (side.chaos) {
                case 1 -> {
                    if (!reader.isFinished()) {
                        Coroutine old = reader;
                        startReader(new Random(random.nextLong())); // the new one is the reader from now on
                        old.close();
                        in.readersClosed.incrementAndGet();
                    }
                }
                case 2 -> {
                    int w = random.nextInt(side.writers); // drawn whether or not it is the one closed: the plan stays as it was
                    if (partWay >= 0) {
                        w = partWay;
                    }
                    if (!writerDone[w]) {
                        writerCoroutines.get(w).close();
                        writersEnded.get(w).complete(null); // closed before it started, it runs no finally
                        out.writersClosed.incrementAndGet();
                    }
                }
                case 4 -> {
                    if (!c.isOpen()) {
                        break;
                    }
                    out.shutEarly = true;
                    try {
                        c.shutdownOutput(); // the writers fail from now on; the peer reads what they wrote
                    } catch (IOException e) {
                        if (!link.aborted) {
                            run.errors.add(name + "-chaos: shutdownOutput: " + e);
                        }
                    }
                }
                default -> {
                    link.aborted = true;
                    link.serverClosedEarly |= name.startsWith("server");
                    try {
                        c.close();
                    } catch (IOException e) {
                        run.errors.add(name + "-chaos: close: " + e);
                    }
                }
            }
            run.progress.put(name + "-chaos", "ended");
        }

        /**
         * Yields until a writer is parked part way through a {@code write(ByteBuffer)} (some of its bytes out, the
         * rest waiting for room) and returns its number; -1 once every writer has ended, the connection is closed,
         * or after a bound (a guard: a write of a large record through a small send buffer parks part way again and
         * again, and a thread whose contexts yield asks its selector for readiness only every so many yields, so a
         * writer parked for room stays parked across many of them).
         */
        private int awaitAWriterParkedPartWay() {
            run.progress.put(name + "-chaos", "awaits a writer parked part way");
            for (int i = 0; i < 1_000_000 && c.isOpen(); i++) {
                boolean allDone = true;
                for (int w = 0; w < side.writers; w++) {
                    allDone &= writerDone[w];
                    ByteBuffer b = writing[w];
                    if (b != null && b.position() > writingFrom[w] && b.hasRemaining()
                            && writerCoroutines.get(w).state() == Coroutine.State.PARKED) {
                        return w;
                    }
                }
                if (allDone) {
                    return -1;
                }
                Coroutine.yield();
            }
            return -1;
        }
    }

    // ---- a side on a plain socket ------------------------------------------------------------------

    /** The client side of a link as a plain blocking socket: a thread writes, another reads; it may reset the connection. */
    static final class PlainPeer {
        final Run run;
        final Link link;
        final InetSocketAddress address;
        final CompletableFuture<Void> end;
        /** Counted down once the writer has reset the connection, or stopped without. */
        final CountDownLatch writerEnded = new CountDownLatch(1);

        /** The plain client of {@code link}, connecting to {@code address}; {@code end} completes once it is done. */
        PlainPeer(Run run, Link link, InetSocketAddress address, CompletableFuture<Void> end) {
            this.run = run;
            this.link = link;
            this.address = address;
            this.end = end;
        }

        /** Starts its thread: it connects, starts the reader thread, writes, and closes once the reader is done. */
        void start() {
            Thread t = Thread.ofPlatform().name("plain-" + link.id).start(() -> {
                try (Socket s = new Socket()) {
                    s.connect(address);
                    link.clientAddress.complete(s.getLocalSocketAddress());
                    s.setSoTimeout((int) GUARD.toMillis());
                    Thread reading = Thread.ofPlatform().name("plain-reader-" + link.id).start(() -> read(s));
                    write(s);
                    reading.join(GUARD.toMillis());
                } catch (Throwable e) {
                    run.errors.add("plain-" + link.id + ": " + e);
                } finally {
                    end.complete(null);
                }
            });
            run.threads.add(t);
        }

        /** Writes the client's records whole, then shuts the output down, or resets the connection where the plan says. */
        private void write(Socket s) throws IOException {
            Flow out = link.toServer;
            Random r = new Random(link.client.seed);
            OutputStream o = s.getOutputStream();
            try {
                for (int k = 0; k < link.client.records; k++) {
                    if (k == link.resetAfter) {
                        reset(s);
                        return;
                    }
                    byte[] rec = Flow.record(0, k, r.nextInt(link.client.maxRecord + 1));
                    out.writtenAtMost.addAndGet(rec.length);
                    out.wrote(0, rec, 0, rec.length); // whole, or the link is aborted (a reset) and a prefix is fine
                    o.write(rec);
                    out.written.addAndGet(rec.length);
                }
                if (link.resetAfter >= 0) {
                    reset(s);
                    return;
                }
                s.shutdownOutput();
            } catch (IOException e) {
                if (!link.aborted) {
                    run.errors.add("plain-" + link.id + " writing: " + e + " on a link nobody aborted");
                }
                out.failed(false, e);
            } finally {
                writerEnded.countDown(); // a reader paused for the reset stops waiting: it may never come
            }
        }

        /** Resets the connection: {@code SO_LINGER} 0, then close. */
        private void reset(Socket s) throws IOException {
            link.aborted = true;
            link.reset = true;
            s.setSoLinger(true, 0);
            s.close(); // linger 0: a reset
        }

        /** Reads to the end of the stream or a failure, pausing until the writer is done now and then if it resets. */
        private void read(Socket s) {
            Flow in = link.toClient;
            Random r = new Random(link.client.seed ^ 1);
            byte[] b = new byte[link.client.readBuffer];
            try {
                InputStream i = s.getInputStream();
                while (true) {
                    if (link.resetAfter >= 0 && r.nextInt(100) < 5) {
                        writerEnded.await(GUARD.toMillis(), TimeUnit.MILLISECONDS); // stops reading until the reset
                    }
                    int n = i.read(b);
                    if (n < 0) {
                        in.endOfStream = true;
                        return;
                    }
                    in.feed(b, 0, n);
                }
            } catch (IOException e) {
                if (!link.aborted) {
                    run.errors.add("plain-reader-" + link.id + ": " + e + " on a link nobody aborted");
                }
                in.failed(true, e);
            } catch (InterruptedException e) {
                run.errors.add("plain-reader-" + link.id + ": " + e);
            }
        }
    }

    // ---- harness ---------------------------------------------------------------------------------

    /** Runs {@code body} on a plain thread of its own; a run that does not end within the guard fails naming its seed. */
    private static void runGuarded(long seed, Callable<?> body, Supplier<String> progress) throws Exception {
        CompletableFuture<Object> done = new CompletableFuture<>();
        Thread thread = Thread.ofPlatform().name("io-seams-" + seed).start(() -> {
            try {
                done.complete(body.call());
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        });
        try {
            done.get(2 * GUARD.toSeconds(), TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("seed " + seed + ": the run hung; its thread: " + thread + "\n" + progress.get(), e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new AssertionError("seed " + seed + ": the run threw " + e.getCause() + "\n" + progress.get(), e.getCause());
        }
    }

    /** The process's open file descriptors, from {@code /proc/self/fd} (Linux). */
    private static long openDescriptors() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }
}
