package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.Coroutine.State;
import dev.coro.CoroutineException;
import dev.coro.CoroutinePool;
import dev.coro.CoroutineTimeoutException;
import dev.coro.DeadlockException;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import dev.coro.VirtualTime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The edges of {@code TcpConnection.connect}: a host name's look-up on a look-up thread and a connect
 * that parks, each cut short by a {@code withTimeout}, a close of the caller or the end of its pool
 * thread, on the real clock and the virtual one; every socket a connect opens is handed out in a
 * connection or closed, once, and a look-up answered after its caller gave up opens none. The
 * resolver is a test's, so that nothing here asks a name server; a connect parks on a listener
 * whose backlog is full (the kernel drops the connect's first packet, so it stays in progress).
 */
@Tag("net")
@ExtendWith(FreshThread.class)
class ConnectEdgesTest {

    private final NameLookup.Resolver realResolver = NameLookup.resolver;
    private final TcpConnection.Opener realOpener = TcpConnection.opener;
    /** Every socket the connects opened, in order; any thread's. */
    private final List<SocketChannel> opened = new ArrayList<>();
    /** Complete once a connect has opened its socket. */
    private final CompletableFuture<Void> firstOpened = new CompletableFuture<>();

    ConnectEdgesTest() {
        TcpConnection.opener = () -> {
            SocketChannel ch = realOpener.open();
            synchronized (opened) {
                opened.add(ch);
            }
            firstOpened.complete(null);
            return ch;
        };
    }

    @AfterEach
    void restore() {
        NameLookup.resolver = realResolver;
        TcpConnection.opener = realOpener;
    }

    private static final InetAddress[] LOCAL = {InetAddress.ofLiteral("127.0.0.1")};

    /** How many sockets the connects opened so far, and how many of them are open. */
    private String sockets() {
        synchronized (opened) {
            return opened.size() + " opened, " + opened.stream().filter(SocketChannel::isOpen).count() + " open";
        }
    }

    /** The port {@code listener} is bound to. */
    private static int port(TcpListener listener) {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /**
     * A resolver whose look-ups wait until {@link #answer} is complete, then give what it holds; {@link #asked} is
     * complete once the first look-up has begun, {@link #answered} once it has returned.
     */
    private static final class SlowResolver implements NameLookup.Resolver {
        final CompletableFuture<String> asked = new CompletableFuture<>();
        final CompletableFuture<InetAddress[]> answer = new CompletableFuture<>();
        final CompletableFuture<Void> answered = new CompletableFuture<>();

        @Override
        public InetAddress[] lookUp(String host) {
            asked.complete(host);
            try {
                return answer.join();
            } finally {
                answered.complete(null);
            }
        }
    }

    /**
     * A listener whose backlog is full, with the filling connects that made it so: a connect to it stays
     * in progress (the kernel drops its first packet while the backlog is full, and tries again only a
     * second later), so its caller parks in {@code connect}.
     */
    private static final class FullBacklog implements AutoCloseable {
        final ServerSocketChannel listener = ServerSocketChannel.open().bind(LOOPBACK, 1);
        final List<SocketChannel> fillers = new ArrayList<>();

        FullBacklog() throws IOException {
            for (int i = 0; i < 2; i++) {
                fillers.add(SocketChannel.open(listener.getLocalAddress())); // blocking: completed through the backlog
            }
        }

        SocketAddress address() throws IOException {
            return listener.getLocalAddress();
        }

        @Override
        public void close() throws IOException {
            for (SocketChannel f : fillers) {
                f.close();
            }
            listener.close();
        }
    }

    /**
     * A context parked in a connect's look-up is shown as connecting, as one parked in the connect
     * itself is, with the host being looked up, and its frames start at the {@code connect} it called:
     * not as an await of some future, nor with the look-up's machinery above the call.
     */
    @Test
    void aContextParkedInALookUpIsShownConnectingFromItsConnectCall() throws Exception {
        SlowResolver resolver = new SlowResolver();
        NameLookup.resolver = resolver;
        try (TcpListener listener = TcpListener.bind(LOOPBACK); FullBacklog full = new FullBacklog()) {
            int port = port(listener);
            List<String> log = new ArrayList<>();
            Coroutine dialer = Coroutine.create("dialer", () -> {
                try (TcpConnection c = TcpConnection.connect("slow.test", port)) {
                    log.add("connected to " + c.remoteAddress());
                } catch (IOException e) {
                    log.add("failed: " + e);
                }
            });
            Coroutine parked = Coroutine.create("parked", () -> {
                try {
                    TcpConnection.connect(full.address()).close();
                } catch (IOException e) {
                    log.add("failed: " + e);
                }
            });
            Coroutine.yield();
            assertThat(resolver.asked.join()).isEqualTo("slow.test");
            assertThat(dialer.state()).isEqualTo(State.PARKED);
            assertThat(parked.state()).isEqualTo(State.PARKED);
            assertThat(Coroutine.dump())
                    .contains("coroutine 'dialer': PARKED, waits to connect to slow.test/<unresolved>:" + port
                            + " (looking up its host)")
                    .contains("coroutine 'parked': PARKED, waits to connect to " + full.address());
            for (Coroutine c : List.of(dialer, parked)) {
                StackTraceElement[] frames = c.stackTrace();
                assertThat(frames[0].getClassName() + "." + frames[0].getMethodName()).as(c.name())
                        .isEqualTo("dev.coro.net.TcpConnection.connect");
                assertThat(frames[1].getClassName()).as(c.name()).isEqualTo(ConnectEdgesTest.class.getName());
            }
            parked.close();
            resolver.answer.complete(LOCAL);
            dialer.join();
            assertThat(log).containsExactly("connected to /127.0.0.1:" + port);
        }
        assertThat(sockets()).isEqualTo("2 opened, 0 open");
    }

    /**
     * A connect by host name waits for a look-up thread, which sees nothing of the caller's: no
     * exchange with another thread (as an await of a user's future is), so the thread still reports
     * its deadlocks afterwards instead of waiting for ever for a wake-up that cannot come. The
     * thread is one of the test's own, a daemon; the test thread's real clock guards against a hang.
     */
    @Test
    void aConnectByHostNameLeavesTheThreadReportingItsDeadlocks() throws Exception {
        NameLookup.resolver = host -> LOCAL;
        String outcome = onAThreadOfItsOwn("dialing", () -> {
            try (TcpListener listener = TcpListener.bind(LOOPBACK);
                 TcpConnection c = TcpConnection.connect("service.test", port(listener))) {
                listener.accept().close();
            }
            Channel<String> never = new Channel<>("never", 0);
            try {
                never.receive();
                return "received";
            } catch (DeadlockException e) {
                return e.getMessage();
            }
        });
        assertThat(outcome).startsWith("main context 'main' cannot receive from channel 'never': every other context of"
                + " thread 'dialing'");
    }

    /**
     * Runs {@code body} on a daemon platform thread named {@code name}, which has no coroutine yet, and
     * returns what it returned; the test thread parks for it at most 30 s of its real clock, a guard
     * against a hang. What the body throws fails the test, wrapped in a {@code CompletionException}.
     */
    private static <T> T onAThreadOfItsOwn(String name, Callable<T> body) {
        CompletableFuture<T> done = new CompletableFuture<>();
        Thread.ofPlatform().name(name).daemon(true).start(() -> {
            try {
                done.complete(body.call());
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        });
        return Coroutine.withTimeout(Duration.ofSeconds(30), () -> Coroutine.await(done));
    }

    /**
     * A {@code withTimeout} that expires while its connect is in progress, under virtual time: the
     * clock jumps to the deadline once nothing has come for as long, the connect throws the signal
     * naming what it waited for, its socket is closed and its registration ended (the thread's
     * selector with it), and a connect after it works.
     */
    @Test
    void aConnectInProgressWhenItsTimeoutExpiresClosesItsSocketAndLeavesNoRegistration() throws Exception {
        List<String> seen = onAThreadOfItsOwn("virtual", () -> {
            List<String> trace = new ArrayList<>();
            try (TcpListener listener = TcpListener.bind(LOOPBACK); FullBacklog full = new FullBacklog()) {
                SocketAddress busy = full.address();
                VirtualTime.run(() -> {
                    try {
                        try {
                            Coroutine.callWithTimeout(Duration.ofMillis(50), () -> TcpConnection.connect(busy));
                            trace.add("connected");
                        } catch (CoroutineTimeoutException e) {
                            trace.add(e.getMessage() + " / " + e.getCause().getMessage() + " at t=" + Coroutine.nanoTime());
                        }
                        trace.add(sockets() + ", " + LoopProbe.registeredChannels() + " registered, " + LoopProbe.ioWaits()
                                + " I/O waits, selector open " + LoopProbe.selectorOpen());
                        try (TcpConnection c = TcpConnection.connect(listener.localAddress())) {
                            trace.add("then connected at t=" + Coroutine.nanoTime());
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
            return trace;
        });
        assertThat(seen).hasSize(3);
        assertThat(seen.get(0)).matches("main context 'main' timed out: withTimeout\\(PT0\\.05S\\) expired before its body"
                + " returned / main context 'main': its withTimeout\\(PT0\\.05S\\) expired; its connect to /127\\.0\\.0\\.1:\\d+"
                + " throws this signal so that the body unwinds to it at t=50000000");
        assertThat(seen.subList(1, 3)).containsExactly("1 opened, 0 open, 0 registered, 0 I/O waits, selector open false",
                "then connected at t=50000000");
    }

    /** The body of a dialer: {@code connect}, the connection closed at once; what happened, and that its {@code finally} ran, go to {@code log}. */
    private static void dial(List<String> log, String who, Connect connect) {
        try {
            connect.run().close();
            log(log, who + " connected");
        } catch (IOException e) {
            log(log, who + " failed: " + e.getMessage());
        } finally {
            log(log, who + " unwound");
        }
    }

    /** Adds {@code line} to {@code log}, which the threads of a pool and the test share. */
    private static void log(List<String> log, String line) {
        synchronized (log) {
            log.add(line);
        }
    }

    /** A connect, which may throw. */
    @FunctionalInterface
    private interface Connect {
        TcpConnection run() throws IOException;
    }

    /**
     * A coroutine closed while its connect looks its host up, and one closed while its connect is in
     * progress, unwind through their {@code finally} blocks: the first opened no socket, the second's is
     * closed, no registration or wait is left, and the look-up answered afterwards opens none.
     */
    @Test
    void closingCoroutinesParkedInALookUpAndInAConnectUnwindsThemAndLeavesNoSocketOpen() throws Exception {
        SlowResolver resolver = new SlowResolver();
        NameLookup.resolver = resolver;
        try (TcpListener listener = TcpListener.bind(LOOPBACK); FullBacklog full = new FullBacklog()) {
            SocketAddress busy = full.address();
            List<String> log = new ArrayList<>();
            Coroutine looking = Coroutine.create("looking", () -> dial(log, "looking",
                    () -> TcpConnection.connect("slow.test", port(listener))));
            Coroutine connecting = Coroutine.create("connecting", () -> dial(log, "connecting",
                    () -> TcpConnection.connect(busy)));
            Coroutine.yield();
            Coroutine.await(resolver.asked);
            assertThat(looking.state()).isEqualTo(State.PARKED);
            assertThat(connecting.state()).isEqualTo(State.PARKED);
            looking.close();
            connecting.close();
            assertThat(log).containsExactly("looking unwound", "connecting unwound");
            assertThat(sockets()).isEqualTo("1 opened, 0 open");
            assertThat(LoopProbe.registeredChannels()).isZero();
            assertThat(LoopProbe.ioWaits()).isZero();
            Coroutine.yield(); // takes in the post of the completion main awaited, if it is still on its way
            assertThat(LoopProbe.hasPending()).as("no wait and no timer left").isFalse();

            resolver.answer.complete(LOCAL);
            Coroutine.await(resolver.answered);
            Coroutine.yield(); // a scheduling point: the late answer's post, were it taken in, would act now
            assertThat(sockets()).as("the late answer opened nothing").isEqualTo("1 opened, 0 open");
        }
    }

    /**
     * A connect of main cut short by the failure of a coroutine main created, which reaches main where it waits, as
     * it reaches any park of main: while the connect looks its host up (the resolver asked), and while it is in progress. Each throws
     * that failure; the first opened no socket, the second's is closed, no registration, wait or timer is left,
     * and the look-up answered afterwards opens none; the next connect connects.
     */
    @Test
    void aConnectOfMainCutShortInItsLookUpOrInProgressByACoroutinesFailureLeavesNoSocketOpen() throws Exception {
        SlowResolver resolver = new SlowResolver();
        NameLookup.resolver = resolver;
        try (TcpListener listener = TcpListener.bind(LOOPBACK); FullBacklog full = new FullBacklog()) {
            SocketAddress busy = full.address();
            List<String> log = new ArrayList<>();
            for (String wait : List.of("look-up", "connect")) {
                Coroutine.create("bad", () -> {
                    if (wait.equals("look-up")) {
                        Coroutine.await(resolver.asked); // the look-up under way: one dropped before it started would never answer
                    }
                    throw new IllegalStateException("failed during the " + wait); // runs once main parks
                });
                try (TcpConnection c = wait.equals("look-up") ? TcpConnection.connect("slow.test", port(listener))
                        : TcpConnection.connect(busy)) {
                    log.add("connected to " + c.remoteAddress());
                } catch (CoroutineException e) {
                    log.add(e.getMessage() + ": " + sockets() + ", " + LoopProbe.registeredChannels() + " registered, "
                            + LoopProbe.ioWaits() + " I/O waits, selector open " + LoopProbe.selectorOpen());
                }
            }
            assertThat(log).containsExactly(
                    "coroutine 'bad' failed: java.lang.IllegalStateException: failed during the look-up: 0 opened, 0 open,"
                            + " 0 registered, 0 I/O waits, selector open false",
                    "coroutine 'bad' failed: java.lang.IllegalStateException: failed during the connect: 1 opened, 0 open,"
                            + " 0 registered, 0 I/O waits, selector open false");
            Coroutine.yield(); // takes in the post of the completion main awaited, if it is still on its way
            assertThat(LoopProbe.hasPending()).as("no wait and no timer left").isFalse();

            resolver.answer.complete(LOCAL);
            Coroutine.await(resolver.answered);
            Coroutine.yield(); // a scheduling point: the late answer's post, were it taken in, would act now
            assertThat(sockets()).as("the late answer opened nothing").isEqualTo("1 opened, 0 open");
            try (TcpConnection c = TcpConnection.connect(listener.localAddress());
                 TcpConnection accepted = listener.accept()) {
                assertThat(accepted.remoteAddress()).isEqualTo(c.localAddress());
            }
        }
    }

    /**
     * {@code closeNow} of a pool whose thread has one body parked in a connect's look-up and another in
     * a connect in progress: both unwind (their futures fail with the signal), the socket of the second
     * is closed, and the look-up answered after the thread has ended opens none.
     */
    @Test
    void closeNowOfAPoolWhoseThreadWaitsInALookUpAndInAConnectLeavesNoSocketOpen() throws Exception {
        SlowResolver resolver = new SlowResolver();
        NameLookup.resolver = resolver;
        try (TcpListener listener = TcpListener.bind(LOOPBACK); FullBacklog full = new FullBacklog()) {
            SocketAddress busy = full.address();
            int port = port(listener);
            List<String> log = new ArrayList<>();
            CoroutinePool pool = CoroutinePool.start(1);
            CompletableFuture<Void> looking = pool.submit(() -> {
                dial(log, "looking", () -> TcpConnection.connect("slow.test", port));
                return null;
            });
            CompletableFuture<Void> connecting = pool.submit(() -> {
                dial(log, "connecting", () -> TcpConnection.connect(busy));
                return null;
            });
            Coroutine.await(resolver.asked);
            Coroutine.await(firstOpened); // the second body parks next, before the pool thread takes in anything
            pool.closeNow();
            assertThat(List.of(looking, connecting)).allMatch(CompletableFuture::isCompletedExceptionally);
            synchronized (log) {
                assertThat(log).containsExactlyInAnyOrder("looking unwound", "connecting unwound");
            }
            assertThat(sockets()).isEqualTo("1 opened, 0 open");

            resolver.answer.complete(LOCAL);
            Coroutine.await(resolver.answered);
            assertThat(sockets()).as("the late answer opened nothing").isEqualTo("1 opened, 0 open");
        }
    }

    /**
     * Dialers by host name, each under a {@code withTimeout}, some of whose look-ups answer at once, some
     * only after every timeout has expired, some to a listener that accepts and some to one whose backlog
     * is full: each connects, or times out in its look-up or in its connect, exactly as its case says
     * (the signal naming the wait it cut short);
     * every socket opened is handed out once (the listener accepts exactly the connects that succeeded) or
     * closed, and the late answers open none.
     *
     * <p>A dialer to the full listener times out in its connect only if its look-up, which a look-up thread
     * answers at once, came before its cut: on a machine so loaded that the look-up thread had not answered
     * within the cut, it timed out in its look-up instead (as it should). The round is then played again with
     * a cut ten times as long, up to 3 s.
     */
    @Test
    void everySocketOfConnectsThatTimeOutInTheirLookUpsOrConnectsOrSucceedIsAccountedForOnce() throws Exception {
        Duration cut = Duration.ofMillis(30);
        for (int attempt = 0; !dialersAccountForEverySocket(cut); attempt++) {
            assertThat(attempt).as("a dialer to the full listener timed out in its look-up in every attempt").isLessThan(2);
            cut = cut.multipliedBy(10);
        }
    }

    /**
     * One round of {@link #everySocketOfConnectsThatTimeOutInTheirLookUpsOrConnectsOrSucceedIsAccountedForOnce},
     * the dialers that cannot connect cut after {@code cut}; false if a dialer to the full listener timed out in
     * its look-up (nothing checked then, every look-up answered, and the sockets forgotten).
     */
    private boolean dialersAccountForEverySocket(Duration cut) throws Exception {
        CompletableFuture<InetAddress[]> late = new CompletableFuture<>();
        long lookUpsBefore = NameLookup.EXECUTOR.getCompletedTaskCount();
        try (TcpListener listener = TcpListener.bind(LOOPBACK); FullBacklog full = new FullBacklog()) {
            InetAddress[] good = LOCAL;
            int goodPort = port(listener);
            int busyPort = ((InetSocketAddress) full.address()).getPort();
            NameLookup.resolver = host -> {
                return host.startsWith("late") ? late.join() : good;
            };
            List<String> log = new ArrayList<>();
            Crew crew = new Crew();
            int served = 0;
            for (int i = 0; i < 12; i++) {
                boolean lateAnswer = i % 3 == 0; // 0, 3, 6, 9
                boolean busy = i % 3 == 1;       // 1, 4, 7, 10
                String host = (lateAnswer ? "late" : "quick") + i + ".test";
                int port = busy ? busyPort : goodPort;
                if (!lateAnswer && !busy) {
                    served++;
                }
                String who = "dialer " + i;
                // those that cannot connect time out soon; the others' bound only guards against a hang
                Duration timeout = lateAnswer || busy ? cut : Duration.ofSeconds(30);
                crew.spawn(who, () -> {
                    try (TcpConnection c = Coroutine.callWithTimeout(timeout,
                            () -> TcpConnection.connect(host, port))) {
                        log.add(who + " connected");
                    } catch (CoroutineTimeoutException e) {
                        log.add(who + " timed out: " + e.getCause().getMessage());
                    }
                });
            }
            int accepted = 0;
            while (accepted < served) {
                listener.accept().close();
                accepted++;
            }
            crew.join();
            if (log.stream().anyMatch(line -> line.contains("connect to quick") && line.contains("(looking up its host)"))) {
                late.complete(good);
                awaitLookUpsRun(lookUpsBefore + 12); // no look-up of this round is left to answer during the next
                synchronized (opened) {
                    opened.clear();
                }
                return false;
            }
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                String what = i % 3 == 0 ? "connect to late" + i + ".test/<unresolved>:" + goodPort + " (looking up its host)"
                        : i % 3 == 1 ? "connect to /127.0.0.1:" + busyPort : null;
                expected.add("dialer " + i + (what == null ? " connected"
                        : " timed out: coroutine 'dialer " + i + "': its withTimeout(" + cut + ") expired; its " + what
                        + " throws this signal so that the body unwinds to it"));
            }
            assertThat(log).containsExactlyInAnyOrderElementsOf(expected);
            assertThat(sockets()).isEqualTo("8 opened, 0 open");
            assertThat(LoopProbe.ioWaits()).isZero();

            late.complete(good);
            awaitLookUpsRun(lookUpsBefore + 12);
            Coroutine.yield(); // the late answers' posts taken in: dropped
            assertThat(sockets()).as("the late answers opened nothing").isEqualTo("8 opened, 0 open");
            return true;
        } finally {
            late.complete(LOCAL); // a failed round leaves no look-up thread held for the tests after it
        }
    }

    /**
     * Spins until the look-up threads have run {@code count} tasks since they started, each look-up of the dialers
     * included, whether it asked the resolver or, given up while still queued, did nothing (a look-up given up
     * before it ran never asks the resolver, so the answers to wait for are not known in advance).
     */
    private static void awaitLookUpsRun(long count) {
        long end = System.nanoTime() + 30_000_000_000L; // a guard against a hang, not a measure
        while (NameLookup.EXECUTOR.getCompletedTaskCount() < count && System.nanoTime() < end) {
            Thread.onSpinWait();
        }
        assertThat(NameLookup.EXECUTOR.getCompletedTaskCount()).as("look-ups run").isGreaterThanOrEqualTo(count);
    }

    /**
     * Under virtual time a look-up is a real wait, as an I/O wait is: the clock stands still while it may
     * still be answered, and jumps to the next timer only once nothing has come for as long. A
     * coroutine of the caller's thread that answers the look-up after a virtual sleep does so at that
     * sleep's end; the connect, bounded by an hour, then succeeds with the clock there.
     */
    @Test
    void underVirtualTimeALookUpAnsweredByATimersCoroutineConnectsWithTheClockAtThatTimer() throws Exception {
        SlowResolver resolver = new SlowResolver();
        NameLookup.resolver = resolver;
        List<String> seen = onAThreadOfItsOwn("virtual", () -> {
            List<String> trace = new ArrayList<>();
            try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
                int port = port(listener);
                VirtualTime.run(() -> {
                    Coroutine.create("answerer", () -> {
                        Coroutine.sleep(Duration.ofMillis(20));
                        trace.add("answering at t=" + Coroutine.nanoTime());
                        resolver.answer.complete(LOCAL);
                    });
                    try (TcpConnection c = Coroutine.callWithTimeout(Duration.ofHours(1),
                            () -> TcpConnection.connect("slow.test", port));
                         TcpConnection s = listener.accept()) {
                        trace.add("connected to " + c.remoteAddress() + " at t=" + Coroutine.nanoTime());
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
            return trace;
        });
        assertThat(seen).hasSize(2);
        assertThat(seen.get(0)).isEqualTo("answering at t=20000000");
        assertThat(seen.get(1)).matches("connected to /127\\.0\\.0\\.1:\\d+ at t=20000000");
        assertThat(sockets()).isEqualTo("1 opened, 0 open");
    }

    /**
     * While every look-up thread is held by a slow resolver, a connect whose look-up is still queued
     * when its {@code withTimeout} expires gives the look-up up too: it never runs (the resolver is
     * never asked), so look-ups of callers that gave up do not pile up behind a slow resolver and delay
     * those of callers still waiting. The look-ups under way run to their end, as they must, and their
     * callers connect.
     */
    @Test
    void aLookUpStillQueuedWhenItsCallerGivesUpNeverRuns() throws Exception {
        List<String> asked = new ArrayList<>();
        CompletableFuture<Void> allBusy = new CompletableFuture<>();
        CompletableFuture<Void> release = new CompletableFuture<>();
        NameLookup.resolver = host -> {
            synchronized (asked) {
                asked.add(host);
                if (asked.size() == NameLookup.THREADS) {
                    allBusy.complete(null);
                }
            }
            release.join();
            return LOCAL;
        };
        long before = NameLookup.EXECUTOR.getCompletedTaskCount();
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            int port = port(listener);
            List<String> log = new ArrayList<>();
            Crew crew = new Crew();
            for (int i = 0; i < NameLookup.THREADS; i++) {
                String host = "busy" + i + ".test";
                crew.spawn("busy " + i, () -> {
                    // a guard against a hang, not a cut: each holds a look-up thread until the release (a short
                    // timeout could expire before a loaded machine has started its look-up thread, and give it up)
                    try (TcpConnection c = Coroutine.callWithTimeout(Duration.ofSeconds(30), () -> TcpConnection.connect(host, port))) {
                        log.add("busy connected");
                    }
                });
            }
            Coroutine.withTimeout(Duration.ofSeconds(30), () -> Coroutine.await(allBusy)); // a guard against a hang
            try {
                Coroutine.callWithTimeout(Duration.ofMillis(30), () -> TcpConnection.connect("queued.test", port));
                log.add("queued connected");
            } catch (CoroutineTimeoutException e) {
                log.add("queued: " + e.getCause().getMessage());
            }
            release.complete(null);
            crew.join();
            long end = System.nanoTime() + 30_000_000_000L; // a guard against a hang, not a measure
            while (NameLookup.EXECUTOR.getCompletedTaskCount() < before + NameLookup.THREADS + 1 && System.nanoTime() < end) {
                Thread.onSpinWait(); // until the look-up threads have run their tasks, the queued one's too
            }
            assertThat(NameLookup.EXECUTOR.getCompletedTaskCount()).isGreaterThanOrEqualTo(before + NameLookup.THREADS + 1);
            assertThat(log).hasSize(NameLookup.THREADS + 1).containsOnly("busy connected", "queued: main context 'main': its"
                    + " withTimeout(PT0.03S) expired; its connect to queued.test/<unresolved>:" + port
                    + " (looking up its host) throws this signal so that the body unwinds to it");
            assertThat(log.get(0)).as("the queued caller gave up while every look-up thread was held").startsWith("queued: ");
            synchronized (asked) {
                assertThat(asked).as("hosts the resolver was asked for").hasSize(NameLookup.THREADS)
                        .doesNotContain("queued.test");
            }
            assertThat(sockets()).as("the queued connect got no socket; the busy ones closed theirs")
                    .isEqualTo(NameLookup.THREADS + " opened, 0 open");
        } finally {
            release.complete(null);
        }
    }
}
