package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.Coroutine.State;
import dev.coro.CoroutinePool;
import dev.coro.CoroutineTimeoutException;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import dev.coro.VirtualTime;
import java.io.IOException;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The edges of several coroutines accepting on one listener: bursts of every size against the
 * acceptors waiting, acceptors closed or timed out while they hold a wake passed to them, the
 * listener closed with acceptors waiting and connections pending, acceptors on pool threads (one
 * listener, listeners sharing a port, a pool closed at once under its acceptors), main among the
 * acceptors, and clients that reset their connection as soon as it is made. Every connection is accepted exactly once, no acceptor waits while a connection is pending,
 * and every failure names the caller, the accept and the listener's state.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
@Timeout(60)
class AcceptorsEdgeTest {

    /** How long a test waits for something that should come at once, so that a lost wake fails instead of hanging. */
    private static final Duration HANG = Duration.ofSeconds(20);

    @AfterEach
    void restoreSeams() {
        TcpListener.accepter = ServerSocketChannel::accept;
        TcpListener.wrapper = TcpConnection::new;
    }

    /** Receives the next value of {@code channel}, failing after {@link #HANG} instead of hanging. */
    private static <T> T next(Channel<T> channel) {
        return channel.tryReceive(HANG).orElseThrow(() -> new AssertionError("nothing came to " + channel + " in " + HANG));
    }

    /** Starts {@code n} coroutines named {@code a1} ... that accept on {@code listener} for ever, each connection into {@code into}. */
    private static List<Coroutine> acceptLoops(int n, TcpListener listener, Channel<TcpConnection> into) {
        List<Coroutine> loops = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            loops.add(Coroutine.create("a" + i, () -> {
                try {
                    while (true) {
                        into.send(listener.accept());
                    }
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            }));
            Coroutine.yield(); // parked in its accept, after those made before it
        }
        return loops;
    }

    /** Yields until every one of {@code acceptors} is parked, a bounded number of times. */
    private static void settle(List<Coroutine> acceptors) {
        for (int i = 0; i < 100 && !acceptors.stream().allMatch(a -> a.state() == State.PARKED); i++) {
            Coroutine.yield();
        }
    }

    @Test
    void burstsSmallerThanEqualToAndLargerThanTheAcceptorsWaitingAreEachAcceptedExactlyOnce() throws Exception {
        int acceptors = 4;
        Channel<TcpConnection> accepted = new Channel<>("accepted", 1_000);
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            List<Coroutine> loops = acceptLoops(acceptors, listener, accepted);
            int[] bursts = {1, 3, 4, 5, 9, 2, 4, 1, 12, 3, 4, 7};
            for (int round = 0; round < bursts.length; round++) {
                int m = bursts[round];
                List<SocketChannel> clients = new ArrayList<>();
                try {
                    // blocking connects from main, which does not park meanwhile: the burst waits in the backlog
                    for (int i = 0; i < m; i++) {
                        clients.add(SocketChannel.open(listener.localAddress()));
                    }
                    Set<SocketAddress> expected = new HashSet<>();
                    for (SocketChannel c : clients) {
                        expected.add(c.getLocalAddress());
                    }
                    Set<SocketAddress> got = new HashSet<>();
                    for (int i = 0; i < m; i++) {
                        try (TcpConnection c = next(accepted)) {
                            // known by its client's address within the round only: the kernel may give a later round's
                            // client the port of a client closed already; one of an earlier round would be missing from
                            // its round and found in none of this round's clients (got, expected)
                            assertThat(got.add(c.remoteAddress())).as("round %d: %s accepted twice", round, c).isTrue();
                        }
                    }
                    assertThat(got).as("round %d: a burst of %d against %d acceptors", round, m, acceptors).isEqualTo(expected);
                    settle(loops);
                    assertThat(loops).as("round %d: every acceptor waits again", round).extracting(Coroutine::state)
                            .containsOnly(State.PARKED);
                    assertThat(LoopProbe.ioWaits()).as("round %d", round).isEqualTo(acceptors);
                    assertThat(accepted.size()).as("round %d: nothing accepted beyond the burst", round).isZero();
                } finally {
                    for (SocketChannel c : clients) {
                        c.close();
                    }
                }
            }
            for (Coroutine l : loops) {
                l.close();
            }
        }
        assertThat(LoopProbe.ioWaits()).isZero();
    }

    @Test
    void oneShotAcceptorsFewerThanTheBurstLeaveTheRestForTheNextAcceptCall() throws Exception {
        Channel<TcpConnection> accepted = new Channel<>("accepted", 100);
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            for (int round = 0; round < 5; round++) {
                List<Coroutine> acceptors = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    acceptors.add(Coroutine.create("once" + i, () -> {
                        try {
                            accepted.send(listener.accept());
                        } catch (IOException e) {
                            throw new AssertionError(e);
                        }
                    }));
                }
                Coroutine.yield(); // all three parked in order
                List<SocketChannel> clients = new ArrayList<>();
                try {
                    for (int i = 0; i < 5; i++) {
                        clients.add(SocketChannel.open(listener.localAddress()));
                    }
                    Set<SocketAddress> got = new HashSet<>();
                    for (int i = 0; i < 3; i++) {
                        try (TcpConnection c = next(accepted)) {
                            got.add(c.remoteAddress());
                        }
                    }
                    for (Coroutine a : acceptors) {
                        a.join();
                    }
                    // the two left wait in the backlog: accepts of main take them at once
                    try (TcpConnection c4 = listener.accept(); TcpConnection c5 = listener.accept()) {
                        got.add(c4.remoteAddress());
                        got.add(c5.remoteAddress());
                    }
                    Set<SocketAddress> expected = new HashSet<>();
                    for (SocketChannel c : clients) {
                        expected.add(c.getLocalAddress());
                    }
                    assertThat(got).as("round %d", round).isEqualTo(expected);
                    assertThat(LoopProbe.ioWaits()).isZero();
                } finally {
                    for (SocketChannel c : clients) {
                        c.close();
                    }
                }
            }
        }
    }

    @Test
    void anAcceptorWhoseTimeoutExpiresWhileItHoldsAPassedWakeTakesTheConnectionWaitingOrLeavesTheNextToTheOthers() throws Exception {
        // a2's deadline passes after a2 was woken by a1 and before a2 runs: a1 takes its connection and,
        // while it sets it up (the wrapper, called after the wake is passed), lets the real clock pass
        // a2's deadline; a1's yield then expires a2's timer. A wait that completed before its deadline
        // keeps its result, so a2 still takes a connection waiting in the backlog and returns it from the
        // withTimeout (no scheduling point in between); with none waiting it times out at its next wait,
        // and the next connection goes to a3. If the machine is so slow that a2's deadline passed before
        // the connections came (or before a3 was made), a2 timed out parked instead: the round is run again,
        // with a longer timeout.
        for (int connections = 1; connections <= 2; connections++) {
            for (int attempt = 0; ; attempt++) {
                assertThat(attempt).as("a2 timed out before it was woken in every attempt").isLessThan(5);
                if (timeOutTheAcceptorHoldingAPassedWake(connections, Duration.ofMillis(100L << attempt))) {
                    break;
                }
            }
        }
    }

    /**
     * One round of {@link #anAcceptorWhoseTimeoutExpiresWhileItHoldsAPassedWakeTakesTheConnectionWaitingOrLeavesTheNextToTheOthers}
     * with {@code connections} in the burst; false if a2 timed out before it was woken.
     */
    private boolean timeOutTheAcceptorHoldingAPassedWake(int connections, Duration timeout) throws Exception {
        List<String> log = new ArrayList<>();
        long[] a2Deadline = {Long.MAX_VALUE};
        Coroutine[] a2 = new Coroutine[1];
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            TcpListener.wrapper = (channel, io) -> {
                TcpConnection c = new TcpConnection(channel, io);
                if (Coroutine.current().name().equals("a1")) {
                    log.add("a1 accepted, a2 " + a2[0].state());
                    while (System.nanoTime() < a2Deadline[0]) {
                        Thread.onSpinWait(); // the real clock passes a2's deadline; no scheduling point
                    }
                }
                return c;
            };
            Coroutine a1 = Coroutine.create("a1", () -> {
                try (TcpConnection c = listener.accept()) {
                    Coroutine.yield(); // a scheduling point: a2's timer, due, expires first
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            });
            Coroutine.yield();
            a2[0] = Coroutine.create("a2", () -> {
                a2Deadline[0] = System.nanoTime() + timeout.toNanos() + TimeUnit.MILLISECONDS.toNanos(2);
                try (TcpConnection c = Coroutine.callWithTimeout(timeout, () -> listener.accept())) {
                    log.add("a2 accepted " + c.remoteAddress());
                } catch (CoroutineTimeoutException e) {
                    log.add("a2 timed out: " + e.getMessage());
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            });
            Coroutine.yield();
            Coroutine a3 = Coroutine.create("a3", () -> {
                try (TcpConnection c = listener.accept()) {
                    log.add("a3 accepted " + c.remoteAddress());
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            });
            Coroutine.yield();
            if (a2[0].isFinished() && log.size() == 1 && log.get(0).startsWith("a2 timed out")) {
                a1.close(); // a stall of the machine outlasted a2's timeout before a3 was made: a round too slow
                a3.close();
                return false;
            }
            assertThat(List.of(a1.state(), a2[0].state(), a3.state())).containsOnly(State.PARKED);
            List<SocketChannel> clients = new ArrayList<>();
            try {
                for (int i = 0; i < connections; i++) {
                    clients.add(SocketChannel.open(listener.localAddress()));
                }
                a2[0].join();
                if (!log.contains("a1 accepted, a2 SUSPENDED")) {
                    a1.close();
                    a3.close();
                    return false;
                }
                a1.join();
                settle(List.of(a3)); // with two, a2 passed its wake to a3, which found nothing and waits again
                assertThat(a3.state()).as("connections %d, log %s", connections, log).isEqualTo(State.PARKED);
                if (connections == 2) {
                    assertThat(log).as("a2's wait had completed: it keeps its result, and takes the connection waiting")
                            .containsExactly("a1 accepted, a2 SUSPENDED", "a2 accepted " + clients.get(1).getLocalAddress());
                } else {
                    assertThat(log).hasSize(2);
                    assertThat(log.get(1)).as("a2 found the backlog empty: its next wait throws the signal")
                            .startsWith("a2 timed out: coroutine 'a2' timed out");
                }
                assertThat(LoopProbe.ioWaits()).as("a3 alone waits").isEqualTo(1);
                clients.add(SocketChannel.open(listener.localAddress()));
                a3.join(); // a hang here is a lost wake: the connection waits in the backlog and a3 with it
                assertThat(log).endsWith("a3 accepted " + clients.get(clients.size() - 1).getLocalAddress());
                assertThat(LoopProbe.ioWaits()).isZero();
                return true;
            } finally {
                for (SocketChannel c : clients) {
                    c.close();
                }
            }
        }
    }

    @Test
    void acceptorsTimingOutAndClosedAtEveryPointOfABurstLoseNoConnectionAndTakeNoneTwice() throws Exception {
        for (long seed = 1; seed <= 8; seed++) {
            chaosRounds(seed, 30);
        }
    }

    @Test
    void underVirtualTimeAcceptorsTimingOutAndClosedAtEveryPointOfABurstLoseNoConnectionAndTakeNoneTwice() {
        // the clock jumps to a timeout only once no readiness has come for as long: the same rounds, the
        // timeouts expiring at other points
        VirtualTime.run(() -> {
            try {
                for (long seed = 1; seed <= 4; seed++) {
                    chaosRounds(seed + 1_000, 30);
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    @Test
    @Tag("stress") // 10,000 rounds on each clock, some twenty seconds: left out of the fast suite, run by `-P stress`
    void manySeedsOfTimeoutAndCloseRoundsOnTheRealAndTheVirtualClockLoseNoConnectionAndTakeNoneTwice() {
        for (long seed = 9; seed <= 208; seed++) {
            long s = seed;
            try {
                chaosRounds(s, 50);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            VirtualTime.run(() -> {
                try {
                    chaosRounds(s + 1_000, 50);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }
    }

    /**
     * {@code rounds} rounds of acceptors, some that give up after one scheduling point or a few
     * ({@code withTimeout} of a nanosecond), one closed by a chaos coroutine, while a burst arrives:
     * whatever the order, each connection is accepted exactly once; while an acceptor that never gives
     * up is left, it (or one like it) takes every connection, and the accepts of main drain what is left
     * otherwise. The sizes and the choices come from a random of {@code seed}.
     */
    private static void chaosRounds(long seed, int rounds) throws IOException {
        Channel<TcpConnection> accepted = new Channel<>("accepted", 1_000);
        java.util.Random random = new java.util.Random(seed);
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            for (int round = 0; round < rounds; round++) {
                // a connection is known by its client's address within its round only: the clients are closed at
                // the round's end, and the kernel may give a later round's client the same port again
                int total = 0;
                Set<SocketAddress> expected = new HashSet<>();
                Set<SocketAddress> got = new HashSet<>();
                List<Coroutine> acceptors = new ArrayList<>();
                Set<Coroutine> untimed = new HashSet<>();
                int n = 1 + random.nextInt(5);
                for (int i = 0; i < n; i++) {
                    boolean timed = random.nextBoolean();
                    Coroutine a = Coroutine.create("r" + round + "a" + i, () -> {
                        try {
                            while (true) {
                                TcpConnection c = timed
                                        ? Coroutine.callWithTimeout(Duration.ofNanos(1), () -> listener.accept())
                                        : listener.accept();
                                accepted.send(c);
                            }
                        } catch (CoroutineTimeoutException e) {
                            // gave up: what it did not take stays in the backlog
                        } catch (IOException e) {
                            throw new AssertionError(e);
                        }
                    });
                    acceptors.add(a);
                    if (!timed) {
                        untimed.add(a);
                    }
                }
                int closeAfter = random.nextInt(4);
                Coroutine chaos = Coroutine.create("chaos" + round, () -> {
                    for (int i = 0; i < closeAfter; i++) {
                        Coroutine.yield();
                    }
                    acceptors.get(random.nextInt(acceptors.size())).close();
                });
                Coroutine.yield();
                int m = 1 + random.nextInt(8);
                List<SocketChannel> clients = new ArrayList<>();
                for (int i = 0; i < m; i++) {
                    SocketChannel c = SocketChannel.open(listener.localAddress());
                    clients.add(c);
                    expected.add(c.getLocalAddress());
                }
                total += m;
                chaos.join();
                if (acceptors.stream().anyMatch(a -> !a.isFinished() && untimed.contains(a))) {
                    // an acceptor that never gives up still waits: it (or one like it) takes every connection
                    while (got.size() + accepted.size() < total) {
                        try (TcpConnection c = next(accepted)) {
                            assertThat(got.add(c.remoteAddress())).as("%s accepted twice", c).isTrue();
                        }
                    }
                }
                for (Coroutine a : acceptors) {
                    a.close();
                }
                // what no acceptor took is still pending: main's accepts take it without waiting
                while (got.size() + accepted.size() < total) {
                    accepted.send(Coroutine.callWithTimeout(HANG, () -> listener.accept()));
                }
                for (Optional<TcpConnection> c; (c = accepted.tryReceive()).isPresent(); ) {
                    try (TcpConnection connection = c.get()) {
                        assertThat(got.add(connection.remoteAddress())).as("%s accepted twice", connection).isTrue();
                    }
                }
                for (SocketChannel c : clients) {
                    c.close();
                }
                assertThat(got).as("round %d", round).isEqualTo(expected);
                assertThat(LoopProbe.ioWaits()).as("round %d", round).isZero();
            }
        }
    }

    @Test
    void mainAcceptingAmongCoroutinesTakesItsTurnFirstOrLastInLineAndPassesTheWakeOn() throws Exception {
        for (boolean mainFirst : new boolean[] {true, false}) {
            List<String> got = new ArrayList<>();
            try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
                List<SocketChannel> clients = new ArrayList<>();
                List<Coroutine> others = new ArrayList<>();
                // makes the other two acceptors (after main's accept has begun waiting, if main is first),
                // then connects three clients, blocking, before any select
                Runnable rest = () -> {
                    others.add(oneAccept("a2", listener, got));
                    others.add(oneAccept("a3", listener, got));
                    try {
                        for (int i = 0; i < 3; i++) {
                            clients.add(SocketChannel.open(listener.localAddress()));
                        }
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                };
                if (mainFirst) {
                    Coroutine.create("starter", rest);
                } else {
                    rest.run();
                }
                try {
                    try (TcpConnection c = Coroutine.callWithTimeout(HANG, listener::accept)) {
                        got.add("main accepted " + c.remoteAddress());
                    }
                    for (Coroutine a : others) {
                        a.join();
                    }
                    Set<String> expected = new HashSet<>();
                    for (SocketChannel c : clients) {
                        expected.add(c.getLocalAddress().toString());
                    }
                    assertThat(got).as("main %s in line", mainFirst ? "first" : "last").hasSize(3)
                            .anyMatch(g -> g.startsWith("main accepted "));
                    assertThat(got.stream().map(g -> g.substring(g.indexOf('/'))).toList())
                            .containsExactlyInAnyOrderElementsOf(expected);
                    assertThat(LoopProbe.ioWaits()).isZero();
                } finally {
                    for (SocketChannel c : clients) {
                        c.close();
                    }
                }
            }
        }
    }

    /**
     * A coroutine that accepts one connection on {@code listener} and closes it, recording what it got
     * or the message of its failure in {@code got}; parked in its accept when this returns.
     */
    private static Coroutine oneAccept(String name, TcpListener listener, List<String> got) {
        Coroutine a = Coroutine.create(name, () -> {
            try (TcpConnection c = listener.accept()) {
                got.add(name + " accepted " + c.remoteAddress());
            } catch (IOException e) {
                got.add(e.getMessage());
            }
        });
        Coroutine.yield();
        assertThat(a.state()).isEqualTo(State.PARKED);
        return a;
    }

    /** What {@code client} reads first, blocking (bounded by {@link #HANG}): -1 for the end of the stream, or the reset it sees. */
    private static String firstRead(SocketChannel client) throws IOException {
        client.socket().setSoTimeout((int) HANG.toMillis());
        try {
            int b = client.socket().getInputStream().read();
            return b < 0 ? "end of stream" : "a byte";
        } catch (java.net.SocketTimeoutException e) {
            return "nothing";
        } catch (IOException e) {
            return "reset";
        }
    }

    @Test
    void closingTheListenerWithAcceptorsWaitingAndConnectionsPendingFailsEachNamingItAndHandsNoneOut() throws Exception {
        List<String> got = new ArrayList<>();
        TcpListener listener = TcpListener.bind(LOOPBACK);
        List<Coroutine> acceptors = List.of(oneAccept("a1", listener, got), oneAccept("a2", listener, got),
                oneAccept("a3", listener, got));
        List<SocketChannel> clients = new ArrayList<>();
        try {
            // blocking connects from main, which does not park: all three wait in the backlog, the listener
            // not reported ready yet, when main closes it
            for (int i = 0; i < 3; i++) {
                clients.add(SocketChannel.open(listener.localAddress()));
            }
            listener.close();
            for (Coroutine a : acceptors) {
                a.join();
            }
            String tail = " cannot accept on listener " + listener.localAddress() + " (closed): the listener was closed while it waited";
            assertThat(got).containsExactlyInAnyOrder("coroutine 'a1'" + tail, "coroutine 'a2'" + tail, "coroutine 'a3'" + tail);
            for (SocketChannel c : clients) {
                assertThat(firstRead(c)).as("a connection pending at the close").isIn("end of stream", "reset");
            }
            assertThatThrownBy(listener::accept).isInstanceOf(IOException.class)
                    .hasMessage("main context 'main' cannot accept on listener " + listener.localAddress()
                            + " (closed): java.nio.channels.ClosedChannelException");
            assertThat(LoopProbe.ioWaits()).isZero();
        } finally {
            for (SocketChannel c : clients) {
                c.close();
            }
        }
    }

    @Test
    void closingTheListenerWhileAnAcceptorHoldsAPassedWakeFailsItAndTheOthersNamingThemAndHandsNoneOut() throws Exception {
        List<String> got = new ArrayList<>();
        TcpListener listener = TcpListener.bind(LOOPBACK);
        Coroutine[] others = new Coroutine[2];
        TcpListener.wrapper = (channel, io) -> {
            TcpConnection c = new TcpConnection(channel, io);
            if (Coroutine.current().name().equals("a1")) {
                got.add("a1 closes the listener, a2 " + others[0].state() + ", a3 " + others[1].state());
                listener.close(); // a2 holds the wake a1 passed it; two connections still wait in the backlog
            }
            return c;
        };
        Coroutine a1 = oneAccept("a1", listener, got);
        others[0] = oneAccept("a2", listener, got);
        others[1] = oneAccept("a3", listener, got);
        List<SocketChannel> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                clients.add(SocketChannel.open(listener.localAddress()));
            }
            a1.join();
            others[0].join();
            others[1].join();
            String listenerName = "listener " + listener.localAddress();
            assertThat(got).containsExactlyInAnyOrder(
                    "a1 closes the listener, a2 SUSPENDED, a3 PARKED",
                    "a1 accepted " + clients.get(0).getLocalAddress(),
                    "coroutine 'a2' cannot accept on " + listenerName + " (closed): the listener was closed while it waited",
                    "coroutine 'a3' cannot accept on " + listenerName + " (closed): the listener was closed while it waited");
            assertThat(firstRead(clients.get(0))).as("a1's connection, closed by a1").isEqualTo("end of stream");
            for (SocketChannel c : clients.subList(1, 3)) {
                assertThat(firstRead(c)).as("a connection pending at the close").isIn("end of stream", "reset");
            }
            assertThat(LoopProbe.ioWaits()).isZero();
        } finally {
            for (SocketChannel c : clients) {
                c.close();
            }
        }
    }

    @Test
    void clientsThatResetAtOnceAmongOthersAreAcceptedWithTheResetOnTheirFirstReadOrSkippedAndTheOthersAreAllAccepted() throws Exception {
        Channel<TcpConnection> accepted = new Channel<>("accepted", 1_000);
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            List<Coroutine> loops = acceptLoops(3, listener, accepted);
            for (int round = 0; round < 5; round++) {
                Set<SocketAddress> plain = new HashSet<>();
                Set<SocketAddress> reset = new HashSet<>();
                List<SocketChannel> open = new ArrayList<>();
                try {
                    for (int i = 0; i < 8; i++) {
                        SocketChannel c = SocketChannel.open(listener.localAddress());
                        if (i % 2 == 0) {
                            reset.add(c.getLocalAddress());
                            c.setOption(StandardSocketOptions.SO_LINGER, 0);
                            c.close(); // a reset, before any acceptor has run
                        } else {
                            plain.add(c.getLocalAddress());
                            c.write(ByteBuffer.wrap(new byte[] {7}));
                            open.add(c);
                        }
                    }
                    Set<SocketAddress> gotPlain = new HashSet<>();
                    Set<SocketAddress> gotReset = new HashSet<>();
                    while (gotPlain.size() < plain.size()) {
                        try (TcpConnection c = next(accepted)) {
                            SocketAddress peer = c.remoteAddress();
                            if (plain.contains(peer)) {
                                assertThat(gotPlain.add(peer)).as("%s accepted twice", c).isTrue();
                                ByteBuffer b = ByteBuffer.allocate(1);
                                assertThat(c.read(b)).isEqualTo(1);
                            } else {
                                assertThat(reset).as("a connection of this round").contains(peer);
                                assertThat(gotReset.add(peer)).as("%s accepted twice", c).isTrue();
                                assertThatThrownBy(() -> c.read(ByteBuffer.allocate(1)))
                                        .as("the first read of a connection reset before it was accepted")
                                        .isInstanceOf(IOException.class)
                                        .hasMessageStartingWith("main context 'main' cannot read from connection ")
                                        .hasMessageContaining(peer.toString());
                            }
                        }
                    }
                    settle(loops);
                    for (Optional<TcpConnection> c; (c = accepted.tryReceive()).isPresent(); ) {
                        try (TcpConnection connection = c.get()) {
                            assertThat(reset).as("only resets can come after every plain one").contains(connection.remoteAddress());
                            assertThat(gotReset.add(connection.remoteAddress())).isTrue();
                        }
                    }
                    assertThat(loops).as("round %d", round).extracting(Coroutine::state).containsOnly(State.PARKED);
                    assertThat(LoopProbe.ioWaits()).isEqualTo(3);
                } finally {
                    for (SocketChannel c : open) {
                        c.close();
                    }
                }
            }
            for (Coroutine l : loops) {
                l.close();
            }
        }
    }

    @Test
    void acceptorsOnAPoolThreadServeEveryConnectionOfClientsOnPlainThreadsExactlyOnce() throws Exception {
        int clientThreads = 3;
        int perThread = 20;
        List<String> served = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Void> done = new CompletableFuture<>();
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            try {
                CompletableFuture<SocketAddress> bound = new CompletableFuture<>();
                CompletableFuture<Integer> server = pool.submit(() -> serveUntil(LOOPBACK, false, "pool", 4, bound, done, served));
                SocketAddress address = Coroutine.await(bound);
                List<String> replies = clients(address, clientThreads, perThread);
                done.complete(null);
                assertThat(Coroutine.await(server)).isEqualTo(clientThreads * perThread);
                assertThat(replies).hasSize(clientThreads * perThread).allMatch(r -> r.startsWith("pool served "));
            } finally {
                done.complete(null);
            }
        }
        assertThat(served).as("each connection served once").hasSize(clientThreads * perThread)
                .doesNotHaveDuplicates();
    }

    @Test
    void listenersSharingAPortOnTwoPoolThreadsWithSeveralAcceptorsEachServeEveryConnectionExactlyOnce() throws Exception {
        int clientThreads = 3;
        int perThread = 20;
        List<String> served = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Void> done = new CompletableFuture<>();
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            try {
                CompletableFuture<SocketAddress> firstBound = new CompletableFuture<>();
                CompletableFuture<Integer> first = pool.submit(() -> serveUntil(LOOPBACK, true, "first", 3, firstBound, done, served));
                SocketAddress address = Coroutine.await(firstBound);
                CompletableFuture<SocketAddress> secondBound = new CompletableFuture<>();
                CompletableFuture<Integer> second = pool.submit(() -> serveUntil(address, true, "second", 3, secondBound, done, served));
                assertThat(Coroutine.await(secondBound)).isEqualTo(address);
                List<String> replies = clients(address, clientThreads, perThread);
                done.complete(null);
                assertThat(Coroutine.await(first) + Coroutine.await(second)).isEqualTo(clientThreads * perThread);
                assertThat(replies).hasSize(clientThreads * perThread).allMatch(r -> r.matches("(first|second) served .*"));
            } finally {
                done.complete(null);
            }
        }
        assertThat(served).as("each connection served once, by one listener").hasSize(clientThreads * perThread)
                .doesNotHaveDuplicates();
    }

    @Test
    void closeNowOfAPoolUnwindsItsAcceptorsAndClosesTheListenerItsThreadLeftOpenAndTheConnectionsHeldOrPending() throws Exception {
        CompletableFuture<TcpListener> bound = new CompletableFuture<>();
        CompletableFuture<Void> tookTwo = new CompletableFuture<>();
        List<String> ends = Collections.synchronizedList(new ArrayList<>());
        List<SocketChannel> clients = new ArrayList<>();
        TcpListener listener;
        try {
            try (CoroutinePool pool = CoroutinePool.start(1)) {
                pool.execute(() -> {
                    try {
                        TcpListener l = TcpListener.bind(LOOPBACK); // left open: the thread's end closes it
                        List<TcpConnection> held = new ArrayList<>();
                        for (int i = 1; i <= 3; i++) {
                            String name = "a" + i;
                            Coroutine.create(name, () -> {
                                try {
                                    while (true) { // each connection taken is held open
                                        held.add(l.accept());
                                        if (held.size() == 2) {
                                            tookTwo.complete(null);
                                        }
                                    }
                                } catch (IOException e) {
                                    ends.add(name + " failed: " + e.getMessage());
                                } finally {
                                    ends.add(name + " ended");
                                }
                            });
                        }
                        bound.complete(l);
                    } catch (IOException e) {
                        bound.completeExceptionally(e);
                    }
                });
                listener = Coroutine.await(bound);
                for (int i = 0; i < 2; i++) {
                    clients.add(SocketChannel.open(listener.localAddress()));
                }
                Coroutine.await(tookTwo);
                assertThat(listener.isOpen()).isTrue();
                // a third, accepted and held, or still in the backlog when the listener is closed
                clients.add(SocketChannel.open(listener.localAddress()));
                pool.closeNow(); // the acceptors are unwound where they wait
            }
            assertThat(ends).as("each acceptor unwound, none failed nor accepted after").containsExactlyInAnyOrder(
                    "a1 ended", "a2 ended", "a3 ended");
            assertThat(listener.isOpen()).as("closed by its thread's end").isFalse();
            for (SocketChannel c : clients.subList(0, 2)) {
                assertThat(firstRead(c)).as("a connection an acceptor held when the thread ended").isEqualTo("end of stream");
            }
            assertThat(firstRead(clients.get(2))).as("held, or pending at the close").isIn("end of stream", "reset");
            assertThatThrownBy(() -> SocketChannel.open(listener.localAddress()).close())
                    .as("nothing listens on the port any more").isInstanceOf(java.net.ConnectException.class);
        } finally {
            for (SocketChannel c : clients) {
                c.close();
            }
        }
    }

    /**
     * {@code threads} plain threads each connect {@code perThread} times to {@code address}, in bursts
     * of five connections open at once, each sending a line naming it and reading the reply; returns
     * the replies, failing if a client failed or a thread did not end in {@link #HANG}.
     */
    private static List<String> clients(SocketAddress address, int threads, int perThread) throws Exception {
        List<String> replies = Collections.synchronizedList(new ArrayList<>());
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch ended = new CountDownLatch(threads);
        for (int t = 0; t < threads; t++) {
            int thread = t;
            Thread.ofPlatform().name("client-" + t).start(() -> {
                try {
                    for (int i = 0; i < perThread; i += 5) {
                        List<SocketChannel> burst = new ArrayList<>();
                        try {
                            for (int j = i; j < Math.min(i + 5, perThread); j++) {
                                SocketChannel c = SocketChannel.open(address);
                                c.socket().setSoTimeout((int) HANG.toMillis());
                                c.write(ByteBuffer.wrap(("client " + thread + "-" + j + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8)));
                                burst.add(c);
                            }
                            for (SocketChannel c : burst) {
                                replies.add(new java.io.BufferedReader(new java.io.InputStreamReader(c.socket().getInputStream(),
                                        java.nio.charset.StandardCharsets.UTF_8)).readLine());
                            }
                        } finally {
                            for (SocketChannel c : burst) {
                                c.close();
                            }
                        }
                    }
                } catch (Throwable e) {
                    failures.add(e);
                } finally {
                    ended.countDown();
                }
            });
        }
        // the clients are plain threads: main blocks for them, its own thread having nothing else to run
        assertThat(ended.await(HANG.toSeconds(), TimeUnit.SECONDS)).as("the clients ended").isTrue();
        assertThat(failures).isEmpty();
        return replies;
    }

    /**
     * A pool thread's body: binds a listener to {@code address} ({@code SO_REUSEPORT} if {@code reusePort}),
     * tells where in {@code bound}, and runs {@code acceptors} accept loops on it, each connection served
     * (a line read and recorded in {@code served}, a line written back naming {@code name}) in a coroutine
     * of its own, until {@code done}; returns how many connections were accepted.
     */
    private static int serveUntil(SocketAddress address, boolean reusePort, String name, int acceptors,
                                  CompletableFuture<SocketAddress> bound, CompletableFuture<Void> done, List<String> served) {
        int[] accepted = {0};
        Crew crew = new Crew();
        List<Coroutine> loops = new ArrayList<>();
        try (TcpListener listener = TcpListener.bind(address, reusePort)) {
            bound.complete(listener.localAddress());
            for (int i = 0; i < acceptors; i++) {
                loops.add(crew.spawn(name + " acceptor " + i, () -> {
                    while (accepted[0] < 1_000) {
                        TcpConnection c = listener.accept();
                        accepted[0]++;
                        crew.spawn(name + " serving", () -> {
                            try (c) {
                                String line = new java.io.BufferedReader(new java.io.InputStreamReader(c.input(),
                                        java.nio.charset.StandardCharsets.UTF_8)).readLine();
                                served.add(line);
                                c.output().write((name + " served " + line + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
                            }
                        });
                    }
                }));
            }
            Coroutine.await(done);
            for (Coroutine l : loops) {
                l.close(); // unwinds it out of accept
            }
            crew.join();
        } catch (IOException e) {
            bound.completeExceptionally(e);
            throw new java.io.UncheckedIOException(e);
        }
        return accepted[0];
    }
}
