package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.name;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.Coroutine;
import dev.coro.CoroutineExit;
import dev.coro.CoroutinePool;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import dev.coro.PoolsClosed;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A whole program: a client-side connection pool shared by the coroutines of the two threads of a
 * {@code CoroutinePool}, whose idle connections are channels that one thread {@code detach()}-ed and another
 * {@code adopt()}s, against a server on a pool thread of its own that answers framed requests carrying their id, some
 * with replies large enough to park its writer, some by resetting the connection, closing it half-way or answering
 * late. A borrower gives its connection back only once its exchange completed cleanly, and closes one whose exchange
 * was cut short: reset, ended, timed out mid-read or mid-write, or the borrower closed ({@code Coroutine.close()}),
 * its pool future cancelled ({@code cancel(true)}) or its connection closed from the test's thread or the other pool
 * thread while it waited; some borrowers' futures are cancelled, and some connections closed from the test's thread,
 * at a moment the seed picks, each borrower then ending accepted or cut wherever it was (a give back refused once the
 * close was asked, a close after the give back leaving the channel to its next owner). Every reply a borrower accepted is its own request's, whole; no cut exchange's rest reaches
 * anyone (a reused one would hand the next borrower the previous reply's rest); a detach while another coroutine of
 * the thread is parked in a read or a write on the connection, a detach of a reset one, and a detach, an adopt or a
 * read from a thread that does not own it (the test's thread, or a coroutine of the other pool thread), are refused as
 * {@code TcpConnection}'s Javadoc says, naming the caller, the call and the state; a close of a connection given back
 * since, from another thread, leaves its channel to its new owner; and at the end no socket is open, nothing is
 * registered on any thread's selector and every coroutine has ended.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith({FreshThread.class, PoolsClosed.class})
@Timeout(60)
class ConnectionPoolProgramTest {

    /** The send and receive buffers of every socket, in bytes: small, so that a large reply or request parks its writer. */
    private static final int BUFFER = 16 << 10;
    /** How long an exchange may take before the test fails: a guard against a hang, never reached. */
    private static final Duration GUARD = Duration.ofSeconds(20);
    /** The timeout of a late exchange, which expires for sure: the server holds its reply (or its read) until it has. */
    private static final Duration SHORT = Duration.ofMillis(20);
    /** A request's header: its id, its kind, the length of its body and the length of the reply it asks for. */
    private static final int HEAD = 13;
    /** A reply's header: the id of the request it answers and the length of its body. */
    private static final int REPLY_HEAD = 8;
    /** A large reply: far more than both sockets' buffers hold, so the server's write parks. */
    private static final int LARGE = 128 << 10;
    /** The body of a request whose write times out: far more than both sockets' buffers hold. */
    private static final int LARGE_BODY = 256 << 10;
    /** The reply of a request answered half-way or late, of which the server first writes the header and half the body. */
    private static final int HALVED = 2000;
    /** Borrowers in a wave, submitted together; and waves in a pass. */
    private static final int WAVE = 6;
    private static final int WAVES = 11;

    /** What a request asks of the server, and how its borrower goes about it. */
    enum Kind {
        /** A small reply. */
        SMALL,
        /** A large reply: the server's write parks on the small buffers until the borrower has read its start. */
        LARGE,
        /** The server resets the connection instead of answering: the borrower's read fails, and its detach is refused. */
        RESET,
        /** The server writes the header and half the reply, then closes in order: the borrower reads the end of the stream. */
        HALF,
        /** The server writes the header and half the reply, and the rest only once the borrower's timeout has cut its read short. */
        LATE_READ,
        /** The server reads the body only once the borrower's timeout has cut its write short: the body does not fit the buffers. */
        LATE_WRITE,
        /** The server holds the reply; the borrower's pool future is cancelled ({@code cancel(true)}) while it reads. */
        CANCELLED,
        /** The server holds the reply; the borrower, a coroutine of a pool body, is closed by that body while it reads. */
        CLOSED,
        /** The server holds the reply while another coroutine reads it: the borrower's detach is refused, then it reads it. */
        DETACH_WHILE_READ,
        /** The borrower shows its connection to the test's thread, whose detach, adopt and read of it are refused. */
        INSPECTED,
        /** The server holds the reply; the test's thread closes the borrower's connection while it reads. */
        CLOSED_FROM_AFAR,
        /** A large reply read under a timeout of a millisecond or three: accepted whole, or cut short anywhere. */
        RACE,
        /** The server reads the body only once the exchange has ended; the borrower's future is cancelled while it writes it. */
        CANCELLED_IN_WRITE,
        /** The server reads the body only once let go: the borrower's detach is refused while another coroutine's write parks. */
        DETACH_WHILE_WRITE,
        /** A large reply; the borrower's future is cancelled at a moment the seed picks: it ends accepted, or cut anywhere. */
        CANCELLED_ANYWHERE,
        /** The borrower shows its connection to a coroutine of the other pool thread, whose detach, adopt and read are refused. */
        INSPECTED_ACROSS,
        /** The server holds the reply; a coroutine of the other pool thread closes the borrower's connection while it reads. */
        CLOSED_ACROSS,
        /** A small reply; the test's thread closes the borrower's connection at a moment the seed picks, racing the exchange and the give back. */
        CLOSE_RACING
    }

    /** One borrower's plan and what became of it. */
    static final class Borrow {
        final int id;
        final Kind kind;
        /** Where the borrower is, for the record of how it ended. */
        volatile String stage = "borrowing";
        /** How its exchange ended, as {@link #expected} says it. */
        volatile String outcome;
        /** Whether it got a connection a thread had detached, and whether that thread was another. */
        volatile boolean adopted;
        /** Completed once its read is about to park on the held reply (CANCELLED, CLOSED). */
        final CompletableFuture<Void> waiting = new CompletableFuture<>();
        /** Completed with its connection and channel once it holds them (INSPECTED), and by the test once it has looked. */
        final CompletableFuture<Exhibit> shown = new CompletableFuture<>();
        final CompletableFuture<Void> inspected = new CompletableFuture<>();
        /** Completed once it has closed or given back its connection, whatever came. */
        final CompletableFuture<Void> ended = new CompletableFuture<>();

        Borrow(int id, Kind kind) {
            this.id = id;
            this.kind = kind;
        }

        String name() {
            return "b-" + id;
        }
    }

    /** A connection shown to the test's thread, its channel, and the pool thread that owns it. */
    record Exhibit(TcpConnection connection, SocketChannel channel, Thread owner) {
    }

    /** A body that stays on one pool thread for the pass, running there as coroutines the jobs other threads send it. */
    record Resident(Thread thread, dev.coro.Channel<Runnable> jobs) {
    }

    /** A borrowed connection, and the channel it was adopted from (null if it was connected for the borrower). */
    record Lease(TcpConnection connection, SocketChannel channel) {
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4})
    void connectionsMoveBetweenThePoolThreadsAndNoCutExchangeIsReused(long seed) throws Exception {
        long socketsBefore = OpenSockets.count();
        Program p = new Program();
        Server server = new Server(p);
        CoroutinePool clients = CoroutinePool.start("cp", 2);
        List<Borrow> all = new ArrayList<>();
        List<String> probes = new ArrayList<>();
        List<CompletableFuture<Integer>> residentsEnded = new ArrayList<>();
        String serverProbe = null;
        Throwable failed = null;
        try {
            p.pool = new ConnectionPool(server.start());
            relay(clients, p);
            List<CompletableFuture<Resident>> made = List.of(new CompletableFuture<>(), new CompletableFuture<>());
            for (int k = 0; k < 2; k++) { // one after the other: the second goes to the thread the first is not on
                CompletableFuture<Resident> m = made.get(k);
                residentsEnded.add(clients.submitCallable("resident-" + k, () -> resident(m)));
                p.residents.add(Coroutine.await(m));
            }
            assertThat(p.residents.get(1).thread()).as("the residents' threads").isNotSameAs(p.residents.get(0).thread());
            Random random = new Random(seed);
            List<Kind> kinds = plan(random);
            for (int w = 0; w < WAVES; w++) {
                List<Borrow> wave = new ArrayList<>();
                List<CompletableFuture<String>> futures = new ArrayList<>();
                for (int i = 0; i < WAVE; i++) {
                    Borrow b = new Borrow(p.ids.incrementAndGet(), kinds.get(w * WAVE + i));
                    wave.add(b);
                    futures.add(b.kind == Kind.CLOSED
                            ? clients.submitCallable("p-" + b.id, () -> closesItsBorrower(p, b))
                            : clients.submitCallable(b.name(), () -> p.borrower(b)));
                }
                for (int i = 0; i < WAVE; i++) {
                    Borrow b = wave.get(i);
                    if (b.kind == Kind.INSPECTED) {
                        inspect(Coroutine.await(b.shown));
                        b.inspected.complete(null);
                    } else if (b.kind == Kind.CLOSED_FROM_AFAR) {
                        TcpConnection c = Coroutine.await(b.shown).connection();
                        c.close(); // posted to its thread, which closes it while the borrower's read waits
                        assertThat(c.isOpen()).isFalse();
                    } else if (b.kind == Kind.CANCELLED || b.kind == Kind.CANCELLED_IN_WRITE) {
                        Coroutine.await(b.waiting);
                        assertThat(futures.get(i).cancel(true)).as("the cancel of %s", b.name()).isTrue();
                    } else if (b.kind == Kind.CLOSE_RACING) {
                        TcpConnection c = Coroutine.await(b.shown).connection();
                        for (int y = random.nextInt(60); y > 0; y--) {
                            Coroutine.yield(); // the borrower goes on, on its thread, meanwhile
                        }
                        c.close(); // before the exchange, during it, before the give back or after it: which the race decides
                    } else if (b.kind == Kind.CANCELLED_ANYWHERE) {
                        Coroutine.await(b.waiting); // it has started: a cancel closes it, or comes after its end
                        for (int y = random.nextInt(40); y > 0; y--) {
                            Coroutine.yield(); // the borrower goes on, on its thread, meanwhile
                        }
                        if (!futures.get(i).cancel(true)) {
                            assertThat(Coroutine.await(futures.get(i))).as("%s, which ended before its cancel", b.name())
                                    .isEqualTo("accepted");
                        }
                    }
                }
                for (int i = 0; i < WAVE; i++) {
                    Borrow b = wave.get(i);
                    Coroutine.await(b.ended);
                    if (b.kind == Kind.CANCELLED || b.kind == Kind.CANCELLED_IN_WRITE) {
                        assertThat(futures.get(i)).isCancelled();
                    } else if (b.kind == Kind.CANCELLED_ANYWHERE) {
                        assertThat(futures.get(i)).isDone();
                    } else {
                        assertThat(Coroutine.await(futures.get(i))).as("what %s returned", b.name()).isEqualTo(b.outcome);
                    }
                }
                for (Borrow b : wave) {
                    if (b.kind == Kind.INSPECTED || b.kind == Kind.INSPECTED_ACROSS) { // given back since: its channel another's now, which this close leaves open
                        TcpConnection stale = b.shown.join().connection();
                        stale.close();
                        assertThat(stale).hasToString("TcpConnection[" + stale.localAddress() + " -> " + stale.remoteAddress()
                                + ", detached]");
                    }
                }
                all.addAll(wave);
            }
            for (Resident r : p.residents) {
                r.jobs().close();
            }
            int jobs = 0;
            for (CompletableFuture<Integer> r : residentsEnded) {
                jobs += Coroutine.await(r);
            }
            assertThat(jobs).as("jobs the residents ran").isEqualTo(kinds.stream()
                    .filter(k -> k == Kind.INSPECTED_ACROSS || k == Kind.CLOSED_ACROSS).count());
            probes.addAll(probeBothThreads(clients));
        } catch (Throwable e) {
            failed = e;
            clients.closeNow(); // no borrower left waiting for the test
            server.pool.closeNow();
        }
        try {
            PoolsClosed.close(clients);
            for (SocketChannel idle; (idle = p.pool == null ? null : p.pool.idle.pollFirst()) != null; ) {
                idle.close(); // a detached channel is nobody's: its holder closes it
            }
            serverProbe = server.stop();
        } catch (Throwable e) {
            if (failed == null) {
                throw e;
            }
            failed.addSuppressed(e);
        }
        if (failed instanceof Exception x) {
            throw x;
        } else if (failed != null) {
            throw (Error) failed;
        }
        assertThat(p.anomalies).as("replies and requests that were not what they should be").isEmpty();
        assertThat(server.anomalies).as("what the server found wrong").isEmpty();
        for (Borrow b : all) {
            assertThat(b.outcome).as("how %s (%s) ended", b.name(), b.kind).matches(expected(b));
        }
        assertThat(p.pool.moved.get()).as("connections adopted on another thread than the one that gave them back").isPositive();
        assertThat(probes).as("each client thread, at the end").containsExactlyInAnyOrder(
                "thread 'cp-0': 2 contexts, 0 I/O waits, 0 channels registered",
                "thread 'cp-1': 2 contexts, 0 I/O waits, 0 channels registered");
        assertThat(serverProbe).as("the server's thread, at the end").isEqualTo("2 contexts, 0 I/O waits, 0 channels registered");
        joinPoolThreads();
        assertThat(OpenSockets.count()).as("sockets left open").isEqualTo(socketsBefore);
    }

    /**
     * The kinds of a pass's borrowers: each kind three times, the rest small or large replies, shuffled by {@code random}.
     */
    private static List<Kind> plan(Random random) {
        List<Kind> kinds = new ArrayList<>();
        for (Kind k : Kind.values()) {
            kinds.addAll(Collections.nCopies(3, k));
        }
        while (kinds.size() < WAVE * WAVES) {
            kinds.add(random.nextInt(3) == 0 ? Kind.LARGE : Kind.SMALL);
        }
        Collections.shuffle(kinds, random);
        return kinds;
    }

    /**
     * A regular expression of how {@code b}'s exchange ends when the program is right: a clean exchange is accepted; a
     * cut one says how it was cut.
     */
    private static String expected(Borrow b) {
        String q = "coroutine '" + b.name() + "'";
        return switch (b.kind) {
            case SMALL, LARGE, DETACH_WHILE_READ, DETACH_WHILE_WRITE, INSPECTED, INSPECTED_ACROSS -> "accepted";
            case RESET -> "reset: " + java.util.regex.Pattern.quote(q) + " cannot read from connection \\S+ -> \\S+ \\(open\\):"
                    + " java.net.SocketException: Connection reset; detach refused";
            case HALF -> "ended after the header and " + HALVED / 2 + " of " + HALVED + " bytes";
            case LATE_READ -> "timed out after the header and " + HALVED / 2 + " of " + HALVED + " bytes";
            case LATE_WRITE -> "timed out after \\d+ of " + (HEAD + LARGE_BODY) + " bytes written";
            case CANCELLED, CLOSED -> "unwound by CoroutineExit in the read of the reply";
            case CANCELLED_IN_WRITE -> "unwound by CoroutineExit in the write of the request";
            case CLOSED_FROM_AFAR, CLOSED_ACROSS -> "closed from afar: " + java.util.regex.Pattern.quote(q) + " cannot read from connection \\S+ -> \\S+"
                    + " \\(closed\\): the connection was closed while it waited";
            case RACE -> "accepted|timed out";
            case CLOSE_RACING -> "accepted|accepted; give back refused: " + java.util.regex.Pattern.quote(q) + " cannot detach connection"
                    + " \\S+ -> \\S+ \\((open|closed)\\): (another thread has asked for its close, which comes first|it is closed)"
                    + "|cut: " + java.util.regex.Pattern.quote(q) + " cannot (read from|write to) connection \\S+ -> \\S+ \\(closed\\): .*";
            case CANCELLED_ANYWHERE -> "accepted|unwound by CoroutineExit in (borrowing|the write of the request|the read of the reply)";
        };
    }

    /**
     * Two borrowers one after the other, each alone in the pool: the second goes to the other thread (ties go round-robin)
     * and adopts the connection the first gave back.
     */
    private static void relay(CoroutinePool clients, Program p) {
        Borrow first = new Borrow(p.ids.incrementAndGet(), Kind.SMALL);
        Thread one = Coroutine.await(clients.submitCallable(first.name(), () -> {
            assertThat(p.borrower(first)).isEqualTo("accepted");
            return Coroutine.current().thread();
        }));
        Borrow second = new Borrow(p.ids.incrementAndGet(), Kind.SMALL);
        Thread two = Coroutine.await(clients.submitCallable(second.name(), () -> {
            assertThat(p.borrower(second)).isEqualTo("accepted");
            return Coroutine.current().thread();
        }));
        assertThat(first.adopted).as("the first borrower connects").isFalse();
        assertThat(second.adopted).as("the second adopts the first's connection").isTrue();
        assertThat(two).as("the second borrower's thread").isNotSameAs(one);
    }

    /** A pool body whose coroutine borrows (CLOSED): it closes that coroutine once its read waits for the held reply. */
    private static String closesItsBorrower(Program p, Borrow b) {
        Coroutine borrower = Coroutine.create(b.name(), () -> {
            try {
                p.borrower(b);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        Coroutine.await(b.waiting);
        borrower.close();
        assertThat(borrower.isFinished()).as("the borrower, closed").isTrue();
        return b.outcome;
    }

    /**
     * What the test's thread may not do with a connection of a pool thread: adopt its channel, which that connection
     * holds; detach it; read from it. Each refusal names the caller, the call, the connection or channel and its state.
     */
    private static void inspect(Exhibit x) {
        TcpConnection c = x.connection();
        Thread self = Thread.currentThread();
        String me = "main context 'main'";
        String meAndThread = me + " of thread '" + self.getName() + "' (#" + self.threadId() + ")";
        String owner = "'" + x.owner().getName() + "' (#" + x.owner().threadId() + ")";
        String channel = x.channel().toString();
        Throwable adopt = catchThrowable(() -> TcpConnection.adopt(x.channel()));
        assertThat(adopt).isInstanceOf(IllegalArgumentException.class).hasMessage(me + " cannot adopt " + channel + ": " + name(c)
                + " (open) of thread " + owner + " holds it already; detach() that connection to hand the channel on");
        Throwable detach = catchThrowable(c::detach);
        assertThat(detach).isInstanceOf(IllegalStateException.class)
                .hasMessage(meAndThread + " cannot detach " + name(c) + " (open): it belongs to thread " + owner);
        Throwable read = catchThrowable(() -> c.read(ByteBuffer.allocate(1)));
        assertThat(read).isInstanceOf(IllegalStateException.class)
                .hasMessage(meAndThread + " cannot read from " + name(c) + " (open): it belongs to thread " + owner);
        assertThat(c).as("from any thread").hasToString("TcpConnection[" + c.localAddress() + " -> " + c.remoteAddress() + ", open]");
        assertThat(x.channel().isRegistered()).as("the channel, on its owner's selector only while a call waits").isFalse();
    }

    /**
     * A resident: makes its channel of jobs, tells who it is, and runs each job sent to it as a coroutine of its thread
     * until the channel is closed; then waits for those coroutines' end.
     *
     * @return how many jobs it ran
     */
    private static int resident(CompletableFuture<Resident> made) {
        dev.coro.Channel<Runnable> jobs = new dev.coro.Channel<>("jobs", 16);
        made.complete(new Resident(Coroutine.current().thread(), jobs));
        List<Coroutine> ran = new ArrayList<>();
        for (Runnable job : jobs) {
            ran.add(Coroutine.create("job-" + ran.size(), job));
        }
        for (Coroutine c : ran) {
            c.join();
        }
        return ran.size();
    }

    /**
     * {@link #inspect} from a coroutine of another pool thread than the connection's: each refusal names that coroutine
     * and its thread; what is not as documented goes to {@code anomalies}.
     */
    private static void inspectAcross(Exhibit x, Queue<String> anomalies) {
        TcpConnection c = x.connection();
        Thread self = Coroutine.current().thread();
        String me = "coroutine '" + Coroutine.current().name() + "'";
        String meAndThread = me + " of thread '" + self.getName() + "' (#" + self.threadId() + ")";
        String owner = "'" + x.owner().getName() + "' (#" + x.owner().threadId() + ")";
        String channel = x.channel().toString();
        Map<String, Throwable> refused = new java.util.LinkedHashMap<>();
        refused.put(me + " cannot adopt " + channel + ": " + name(c) + " (open) of thread " + owner
                + " holds it already; detach() that connection to hand the channel on", catchThrowable(() -> TcpConnection.adopt(x.channel())));
        refused.put(meAndThread + " cannot detach " + name(c) + " (open): it belongs to thread " + owner, catchThrowable(c::detach));
        refused.put(meAndThread + " cannot read from " + name(c) + " (open): it belongs to thread " + owner,
                catchThrowable(() -> c.read(ByteBuffer.allocate(1))));
        refused.forEach((expected, thrown) -> {
            Class<?> type = expected.contains(" cannot adopt ") ? IllegalArgumentException.class : IllegalStateException.class;
            if (!type.isInstance(thrown) || !expected.equals(thrown.getMessage())) {
                anomalies.add("expected " + type.getSimpleName() + ": " + expected + ", got " + thrown);
            }
        });
    }

    /**
     * What each client thread has left, from a probe body on it: its contexts, I/O waits and registered channels. Probes
     * are submitted one after another until both threads have answered, at most sixteen.
     */
    private static List<String> probeBothThreads(CoroutinePool clients) {
        Map<String, String> byThread = new java.util.TreeMap<>();
        for (int i = 0; i < 16 && byThread.size() < 2; i++) {
            String answer = Coroutine.await(clients.submitCallable("probe", () -> {
                Coroutine.yield(); // a scheduling point: the sockets the thread closed leave its selector
                String dump = Coroutine.dump(16);
                return "thread '" + Coroutine.current().thread().getName() + "': " + contexts(dump) + ", " + LoopProbe.ioWaits()
                        + " I/O waits, " + LoopProbe.registeredChannels() + " channels registered";
            }));
            byThread.put(answer.substring(0, answer.indexOf(':')), answer);
        }
        return new ArrayList<>(byThread.values());
    }

    /** {@code N contexts} of the first line of a dump of the calling thread. */
    private static String contexts(String dump) {
        String first = dump.lines().findFirst().orElse("");
        return first.replaceAll("^thread '[^']*': (\\d+ contexts?).*$", "$1");
    }

    /** Waits for the pools' threads, which their close has ended or is ending, so that their sockets are counted closed. */
    private static void joinPoolThreads() throws InterruptedException {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().matches("cp-\\d+|cp-server-\\d+")) {
                t.join(GUARD.toMillis());
            }
        }
    }

    /** The bytes of request or reply {@code id}'s body at its position {@code at}: they differ from id to id and along the way. */
    private static byte pattern(int id, int at) {
        return (byte) (id * 31 + at * 7 + (at >>> 8));
    }

    /** Fills {@code b} from its position with {@code id}'s pattern, counting from {@code from}. */
    private static void fill(ByteBuffer b, int id, int from) {
        for (int i = 0; b.hasRemaining(); i++) {
            b.put(pattern(id, from + i));
        }
    }

    /** Where {@code b}'s bytes from {@code start} to its position first differ from {@code id}'s pattern; -1 if nowhere. */
    private static int mismatch(ByteBuffer b, int start, int id) {
        for (int i = start; i < b.position(); i++) {
            if (b.get(i) != pattern(id, i - start)) {
                return i - start;
            }
        }
        return -1;
    }

    /** Reads into {@code b} until it is full or the stream ends; how many bytes it read. */
    private static int readFully(TcpConnection c, ByteBuffer b) throws IOException {
        int start = b.position();
        while (b.hasRemaining() && c.read(b) >= 0) {
            // until full, or the end of the stream
        }
        return b.position() - start;
    }

    /** The client side: the connection pool, the borrowers' code, and what they found wrong. */
    static final class Program {
        final AtomicInteger ids = new AtomicInteger();
        final Queue<String> anomalies = new ConcurrentLinkedQueue<>();
        /** The futures by which a borrower lets the server go on with a held request, completed when its exchange has ended. */
        final Map<Integer, CompletableFuture<Void>> released = new ConcurrentHashMap<>();
        volatile ConnectionPool pool;
        /** The residents of the two client threads. */
        final List<Resident> residents = new java.util.concurrent.CopyOnWriteArrayList<>();

        /** The resident of the other client thread than the caller's. */
        Resident other() {
            Thread mine = Coroutine.current().thread();
            return residents.get(0).thread() == mine ? residents.get(1) : residents.get(0);
        }

        CompletableFuture<Void> released(int id) {
            return released.computeIfAbsent(id, k -> new CompletableFuture<>());
        }

        /**
         * A borrower: takes a connection, makes its exchange as its kind says, gives the connection back only if the
         * exchange completed cleanly and closes it otherwise, then lets the server go on with a request it holds.
         *
         * @return how the exchange ended, also kept in {@code b.outcome}
         */
        String borrower(Borrow b) throws IOException {
            TcpConnection c = null;
            boolean given = false;
            try {
                if (b.kind == Kind.CANCELLED_ANYWHERE) {
                    b.waiting.complete(null);
                }
                Lease lease = pool.borrow(b);
                c = lease.connection();
                if (b.kind == Kind.INSPECTED || b.kind == Kind.INSPECTED_ACROSS) {
                    SocketChannel channel = lease.channel();
                    if (channel == null) { // connected for it: adopted once, so that the connection holds a channel it knows
                        channel = c.detach();
                        c = TcpConnection.adopt(channel);
                    }
                    Exhibit x = new Exhibit(c, channel, Coroutine.current().thread());
                    b.shown.complete(x);
                    if (b.kind == Kind.INSPECTED_ACROSS) {
                        other().jobs().send(() -> {
                            try {
                                inspectAcross(x, anomalies);
                            } finally {
                                b.inspected.complete(null);
                            }
                        });
                    }
                    Coroutine.await(b.inspected);
                }
                if (b.kind == Kind.CLOSE_RACING) {
                    b.shown.complete(new Exhibit(c, null, Coroutine.current().thread()));
                }
                TcpConnection on = c;
                try {
                    b.outcome = Coroutine.callWithTimeout(GUARD, () -> exchange(b, on));
                } catch (IOException e) {
                    if (b.kind != Kind.CLOSE_RACING) {
                        throw e;
                    }
                    b.outcome = "cut: " + e.getMessage();
                }
                if (b.outcome.equals("accepted")) {
                    try {
                        pool.giveBack(c);
                        given = true;
                    } catch (IllegalStateException e) {
                        if (b.kind != Kind.CLOSE_RACING) {
                            throw e;
                        }
                        b.outcome = "accepted; give back refused: " + e.getMessage();
                    }
                }
                return b.outcome;
            } catch (CoroutineExit e) {
                b.outcome = "unwound by " + e.getClass().getSimpleName() + " in " + b.stage;
                throw e;
            } finally {
                if (!given && c != null) {
                    c.close(); // cut short, or its give back refused: never reused
                }
                released(b.id).complete(null);
                b.ended.complete(null);
            }
        }

        /** Sends {@code b}'s request on {@code c} and reads the reply as its kind says; how it ended. */
        private String exchange(Borrow b, TcpConnection c) throws IOException {
            int bodyLength = switch (b.kind) {
                case LATE_WRITE, CANCELLED_IN_WRITE, DETACH_WHILE_WRITE -> LARGE_BODY;
                default -> 16 + b.id % 48;
            };
            int replyLength = switch (b.kind) {
                case LARGE, RACE, CANCELLED_ANYWHERE -> LARGE;
                case HALF, LATE_READ -> HALVED;
                default -> 32 + b.id % 200;
            };
            ByteBuffer request = ByteBuffer.allocate(HEAD + bodyLength);
            request.putInt(b.id).put((byte) b.kind.ordinal()).putInt(bodyLength).putInt(replyLength);
            fill(request, b.id, 0);
            request.flip();
            b.stage = "the write of the request";
            if (b.kind == Kind.LATE_WRITE) {
                if (Coroutine.tryCallWithTimeout(SHORT, () -> c.write(request))) {
                    anomalies.add(b.name() + ": a request larger than both buffers was written whole while the server read none of it");
                }
                return "timed out after " + request.position() + " of " + request.limit() + " bytes written";
            }
            if (b.kind == Kind.CANCELLED_IN_WRITE) {
                b.waiting.complete(null); // the server reads none of the body until the exchange has ended: the write parks
            } else if (b.kind == Kind.DETACH_WHILE_WRITE) {
                beside(b, c, "the write of the request", () -> c.write(request));
                b.stage = "the read of the reply";
                return readReply(b, c, replyLength);
            }
            c.write(request);
            b.stage = "the read of the reply";
            if (b.kind == Kind.RACE) {
                return Coroutine.tryCallWithTimeout(Duration.ofMillis(1 + b.id % 3), () -> readReply(b, c, replyLength))
                        .orElse("timed out");
            }
            if (b.kind == Kind.CLOSED_FROM_AFAR || b.kind == Kind.CLOSED_ACROSS) {
                Coroutine self = Coroutine.current();
                Resident other = other();
                Coroutine.create("w-" + b.id, () -> { // shows the connection to the closer once the read below waits
                    for (int i = 0; i < 100 && self.state() != Coroutine.State.PARKED; i++) {
                        Coroutine.yield();
                    }
                    b.shown.complete(new Exhibit(c, null, self.thread()));
                    if (b.kind == Kind.CLOSED_ACROSS) {
                        other.jobs().send(() -> {
                            try {
                                c.close(); // posted to the connection's thread, and waited for
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                            if (c.isOpen()) {
                                anomalies.add(b.name() + ": its connection open after a close from the other thread returned");
                            }
                        });
                    }
                });
                try {
                    return readReply(b, c, replyLength);
                } catch (IOException e) {
                    return "closed from afar: " + e.getMessage();
                }
            }
            if (b.kind == Kind.DETACH_WHILE_READ) {
                return readBesideADetach(b, c, replyLength);
            }
            if (b.kind == Kind.CANCELLED || b.kind == Kind.CLOSED) {
                b.waiting.complete(null); // the server holds the reply: the read below parks until the borrower is unwound
            }
            try {
                return readReply(b, c, replyLength);
            } catch (IOException e) {
                if (b.kind == Kind.RESET) {
                    return resetSeen(b, c, e);
                }
                throw e;
            }
        }

        /**
         * The reply of a DETACH_WHILE_READ request, read by another coroutine of the borrower's thread: while that one is
         * parked in its read, the borrower's detach is refused; then the server is let go on, and the reader reads it.
         */
        private String readBesideADetach(Borrow b, TcpConnection c, int replyLength) {
            String[] read = new String[1];
            beside(b, c, "the read of the reply", () -> read[0] = readReply(b, c, replyLength));
            return read[0];
        }

        /**
         * Runs {@code call} on {@code c} in another coroutine of the borrower's thread, and, while that one is parked in
         * it (the server holds the reply, or the read of the body), checks that the borrower's detach is refused; then
         * lets the server go on, and waits for that coroutine's end.
         */
        private void beside(Borrow b, TcpConnection c, String what, dev.coro.ThrowingRunnable<IOException> call) {
            Coroutine other = Coroutine.create("o-" + b.id, () -> {
                try {
                    call.run();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            for (int i = 0; i < 100 && other.state() != Coroutine.State.PARKED; i++) {
                Coroutine.yield(); // the other runs, and parks in its call
            }
            Throwable refused = catchThrowable(c::detach);
            String expected = "coroutine '" + b.name() + "' cannot detach " + name(c)
                    + " (open): 1 context waits on it in a read or a write; detach it once none does";
            if (!(refused instanceof IllegalStateException) || !expected.equals(refused.getMessage())) {
                anomalies.add(b.name() + ": the detach beside " + what + " parked: " + refused);
            }
            released(b.id).complete(null);
            other.join();
        }

        /** Reads the reply to {@code b}'s request as its kind says; how it ended. */
        private String readReply(Borrow b, TcpConnection c, int replyLength) throws IOException {
            ByteBuffer reply = ByteBuffer.allocate(REPLY_HEAD + replyLength);
            int got = readFully(c, reply.limit(REPLY_HEAD));
            if (got < REPLY_HEAD) {
                return "ended after " + got + " bytes of the header";
            }
            if (reply.getInt(0) != b.id || reply.getInt(4) != replyLength) {
                anomalies.add(b.name() + " read a reply header of id " + reply.getInt(0) + ", length " + reply.getInt(4)
                        + ", where its own is of id " + b.id + ", length " + replyLength);
                return "a wrong reply";
            }
            switch (b.kind) {
                case RESET -> throw new AssertionError(b.name() + ": the server answered a request it resets");
                case CANCELLED, CLOSED, CLOSED_FROM_AFAR, CLOSED_ACROSS -> throw new AssertionError(b.name() + ": the server answered a request it holds");
                case HALF, LATE_READ -> {
                    readFully(c, reply.limit(REPLY_HEAD + replyLength / 2));
                    if (mismatch(reply, REPLY_HEAD, b.id) >= 0) {
                        anomalies.add(b.name() + ": the first half of its reply is not its own");
                    }
                    reply.limit(reply.capacity());
                    if (b.kind == Kind.HALF) {
                        int rest = readFully(c, reply);
                        return rest == 0 ? "ended after the header and " + (replyLength / 2) + " of " + replyLength + " bytes"
                                : "read " + rest + " bytes past the half of a reply cut there";
                    }
                    Optional<Integer> rest = Coroutine.tryCallWithTimeout(SHORT, () -> readFully(c, reply));
                    if (rest.isPresent()) {
                        anomalies.add(b.name() + ": the rest of a reply held until its read timed out came before it did");
                    }
                    return "timed out after the header and " + (reply.position() - REPLY_HEAD) + " of " + replyLength + " bytes";
                }
                default -> {
                }
            }
            int body = readFully(c, reply.limit(reply.capacity()));
            if (body < replyLength) {
                return "ended after the header and " + body + " of " + replyLength + " bytes";
            }
            int wrong = mismatch(reply, REPLY_HEAD, b.id);
            if (wrong >= 0) {
                anomalies.add(b.name() + ": its reply's byte " + wrong + " is not its own");
                return "a wrong reply";
            }
            return "accepted";
        }
    }

    /**
     * The read of the reply to a RESET request, which fails; the refusal of the detach of the connection it failed,
     * which the borrower then closes.
     */
    static String resetSeen(Borrow b, TcpConnection c, IOException e) {
        Throwable detach = catchThrowable(c::detach);
        String failure = "java.net.SocketException: Connection reset";
        String expected = "coroutine '" + b.name() + "' cannot detach " + name(c) + " (open, failed): a call on it failed ("
                + failure + "); close it";
        return "reset: " + e.getMessage() + (detach instanceof IllegalStateException && expected.equals(detach.getMessage())
                ? "; detach refused" : "; detach: " + detach);
    }

    /** The client side's pool of idle connections: channels a thread detached, for any thread to adopt. */
    static final class ConnectionPool {
        final InetSocketAddress server;
        final ConcurrentLinkedDeque<SocketChannel> idle = new ConcurrentLinkedDeque<>();
        /** The thread that gave each idle channel back. */
        final Map<SocketChannel, Thread> givenBackBy = new ConcurrentHashMap<>();
        final AtomicInteger moved = new AtomicInteger();

        ConnectionPool(InetSocketAddress server) {
            this.server = server;
        }

        /** An idle connection, adopted by the calling thread, or a new one. */
        Lease borrow(Borrow b) throws IOException {
            SocketChannel ch = idle.pollFirst();
            if (ch == null) {
                TcpConnection c = TcpConnection.connect(server, s -> {
                    s.setOption(StandardSocketOptions.SO_SNDBUF, BUFFER);
                    s.setOption(StandardSocketOptions.SO_RCVBUF, BUFFER);
                });
                return new Lease(c, null);
            }
            Thread by = givenBackBy.remove(ch);
            TcpConnection c = TcpConnection.adopt(ch);
            b.adopted = true;
            if (by != Coroutine.current().thread()) {
                moved.incrementAndGet();
            }
            return new Lease(c, ch);
        }

        /** Detaches {@code c} and keeps its channel for the next borrower, of whichever thread. */
        void giveBack(TcpConnection c) throws IOException {
            SocketChannel ch = c.detach();
            givenBackBy.put(ch, Coroutine.current().thread());
            idle.addFirst(ch);
        }
    }

    /**
     * The server, on a pool thread of its own: an acceptor that starts a session coroutine per connection, each answering
     * framed requests as their kind says.
     */
    static final class Server {
        final CoroutinePool pool = CoroutinePool.start("cp-server", 1);
        final Program program;
        final Queue<String> anomalies = new ConcurrentLinkedQueue<>();
        private final CompletableFuture<TcpListener> listening = new CompletableFuture<>();
        private CompletableFuture<String> acceptor;

        Server(Program program) {
            this.program = program;
        }

        /** Starts the acceptor; the address it listens on. */
        InetSocketAddress start() {
            acceptor = pool.submitCallable("acceptor", this::accept);
            return (InetSocketAddress) Coroutine.await(listening).localAddress();
        }

        /** Closes the listener from the test's thread, waits for the acceptor and closes the pool; the acceptor's probe. */
        String stop() throws IOException {
            try {
                if (listening.isDone()) {
                    listening.join().close();
                }
                return acceptor == null ? "not started" : Coroutine.withTimeout(GUARD, () -> Coroutine.await(acceptor));
            } finally {
                PoolsClosed.close(pool);
            }
        }

        private String accept() throws IOException {
            List<Coroutine> sessions = new ArrayList<>();
            try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
                listener.setOption(StandardSocketOptions.SO_RCVBUF, BUFFER); // the accepted sockets' too
                listening.complete(listener);
                while (true) {
                    TcpConnection c;
                    try {
                        c = listener.accept();
                    } catch (IOException e) {
                        if (listener.isOpen()) {
                            throw e;
                        }
                        assertThat(e).hasMessage("coroutine 'acceptor' cannot accept on listener " + listener.localAddress()
                                + " (closed): the listener was closed while it waited");
                        break;
                    }
                    sessions.add(Coroutine.create("session-" + sessions.size(), () -> session(c)));
                }
            }
            for (Coroutine s : sessions) {
                s.close(); // those still waiting for a request of an idle connection; nothing to one that ended
            }
            for (Coroutine s : sessions) {
                assertThat(s.isFinished()).as("%s", s).isTrue();
            }
            Coroutine.yield(); // a scheduling point: the sockets the thread closed leave its selector
            return contexts(Coroutine.dump(16)) + ", " + LoopProbe.ioWaits() + " I/O waits, " + LoopProbe.registeredChannels()
                    + " channels registered";
        }

        /** Answers the requests of one connection until its client closes or resets it, or a request asks for its end. */
        private void session(TcpConnection c) {
            try (c) {
                c.setOption(StandardSocketOptions.SO_SNDBUF, BUFFER);
                ByteBuffer head = ByteBuffer.allocate(HEAD);
                while (readFully(c, head.clear()) == HEAD) {
                    int id = head.getInt(0);
                    int k = head.get(4);
                    int bodyLength = head.getInt(5);
                    int replyLength = head.getInt(9);
                    if (k < 0 || k >= Kind.values().length || bodyLength < 0 || bodyLength > LARGE_BODY || replyLength < 0
                            || replyLength > LARGE) {
                        anomalies.add("a request header of id " + id + ", kind " + k + ", body " + bodyLength + ", reply "
                                + replyLength + " on " + name(c));
                        return;
                    }
                    Kind kind = Kind.values()[k];
                    if (kind == Kind.LATE_WRITE || kind == Kind.CANCELLED_IN_WRITE || kind == Kind.DETACH_WHILE_WRITE) {
                        Coroutine.await(program.released(id)); // the client's write parks, then times out
                    }
                    ByteBuffer body = ByteBuffer.allocate(bodyLength);
                    if (readFully(c, body) < bodyLength) {
                        return; // the client cut its request short
                    }
                    int wrong = mismatch(body, 0, id);
                    if (wrong >= 0) {
                        anomalies.add("request " + id + "'s byte " + wrong + " is not its own on " + name(c));
                        return;
                    }
                    ByteBuffer reply = ByteBuffer.allocate(REPLY_HEAD + replyLength).putInt(id).putInt(replyLength);
                    fill(reply, id, 0);
                    reply.flip();
                    switch (kind) {
                        case RESET -> {
                            c.setOption(StandardSocketOptions.SO_LINGER, 0); // the close resets
                            return;
                        }
                        case HALF -> {
                            c.write(reply.limit(REPLY_HEAD + replyLength / 2));
                            return;
                        }
                        case LATE_READ -> {
                            c.write(reply.limit(REPLY_HEAD + replyLength / 2));
                            Coroutine.await(program.released(id));
                            c.write(reply.limit(reply.capacity()));
                        }
                        case CANCELLED, CLOSED, DETACH_WHILE_READ, CLOSED_FROM_AFAR, CLOSED_ACROSS -> {
                            Coroutine.await(program.released(id));
                            c.write(reply);
                        }
                        default -> c.write(reply);
                    }
                }
            } catch (IOException e) {
                // the client closed or reset it in the middle of something: nothing more to do
            }
        }
    }
}
