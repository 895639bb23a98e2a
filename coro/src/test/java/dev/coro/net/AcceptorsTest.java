package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.Coroutine.State;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Several coroutines of one thread parked in {@code accept()} on one listener: a readiness report of
 * the listener wakes one of them, the first to have begun waiting, not all (a thundering herd, where
 * all but one find nothing and wait again); one that takes a connection passes the wake to the next
 * in line, so a burst drains in one round, and the first to find the backlog empty waits again in its
 * place, ending the chain; a woken one closed before it accepts leaves the connection to the next; a
 * close of the listener wakes them all.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
@Timeout(60)
class AcceptorsTest {

    /** Every call of the listener's accept of the backlog, by the coroutine that made it and what it got. */
    private final List<String> accepts = new ArrayList<>();
    /** Each acceptor's end, by name; made by the test's own thread, whose channel it is. */
    private Channel<String> ended;

    /** Counts the listener's calls to take a connection from the backlog: one per wake-up of an acceptor, and one before each wait. */
    private void countAccepts() {
        TcpListener.accepter = channel -> {
            SocketChannel c = channel.accept();
            accepts.add(Coroutine.current().name() + (c == null ? ": none" : ": a connection"));
            return c;
        };
    }

    @AfterEach
    void restoreAccepter() {
        TcpListener.accepter = ServerSocketChannel::accept;
    }

    /**
     * A coroutine that accepts one connection on {@code listener} into {@code got}, or records why it
     * could not; parked in its accept when this returns, after those made before it.
     */
    private Coroutine acceptor(String name, TcpListener listener, List<String> got) {
        if (ended == null) {
            ended = new Channel<>("ended", 8);
        }
        Coroutine a = Coroutine.create(name, () -> {
            try (TcpConnection c = listener.accept()) {
                got.add(name + " accepted");
            } catch (IOException e) {
                got.add(e.getMessage());
            }
            ended.trySend(name);
        });
        Coroutine.yield();
        assertThat(a.state()).isEqualTo(State.PARKED);
        return a;
    }

    @Test
    void oneConnectionWakesTheFirstOfThreeAcceptorsWhichPassesTheWakeToTheSecondOnlyAndTheOrderStays() throws Exception {
        countAccepts();
        List<String> got = new ArrayList<>();
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            Coroutine a1 = acceptor("a1", listener, got);
            Coroutine a2 = acceptor("a2", listener, got);
            Coroutine a3 = acceptor("a3", listener, got);
            assertThat(List.of(a1.state(), a2.state(), a3.state())).containsOnly(State.PARKED);
            assertThat(accepts).containsExactly("a1: none", "a2: none", "a3: none");

            // a blocking connect completes in the kernel: the connection waits in the backlog, one readiness
            try (SocketChannel client = SocketChannel.open(listener.localAddress())) {
                ended.receive(); // main parks: the loop selects, and the listener is reported ready once
                assertThat(got).containsExactly("a1 accepted");
                a1.join();
                Coroutine.yield(); // a2, woken by a1, has run: it found nothing, and waits again
                assertThat(accepts).as("the readiness woke a1, which passed the wake to a2 only")
                        .containsExactly("a1: none", "a2: none", "a3: none", "a1: a connection", "a2: none");
                assertThat(List.of(a2.state(), a3.state())).containsOnly(State.PARKED);
                assertThat(LoopProbe.ioWaits()).isEqualTo(2);

                try (SocketChannel second = SocketChannel.open(listener.localAddress())) {
                    ended.receive(); // the next connection goes to a2, first in line still, and a3 is the next
                    a2.join();
                    Coroutine.yield();
                    assertThat(got).containsExactly("a1 accepted", "a2 accepted");
                    assertThat(accepts).containsExactly("a1: none", "a2: none", "a3: none", "a1: a connection",
                            "a2: none", "a2: a connection", "a3: none");
                    assertThat(a3.state()).isEqualTo(State.PARKED);
                }
            }
            a3.close();
        }
    }

    @Test
    void aBurstOfThreeConnectionsIsAcceptedByThreeAcceptorsAfterOneReadinessReportThroughAChainOfWakes() throws Exception {
        countAccepts();
        List<String> got = new ArrayList<>();
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            Coroutine a1 = acceptor("a1", listener, got);
            Coroutine a2 = acceptor("a2", listener, got);
            Coroutine a3 = acceptor("a3", listener, got);
            // blocking connects from main, which does not park meanwhile: all three wait in the backlog
            // before the loop selects
            long reports = LoopProbe.readyReports();
            try (SocketChannel c1 = SocketChannel.open(listener.localAddress());
                 SocketChannel c2 = SocketChannel.open(listener.localAddress());
                 SocketChannel c3 = SocketChannel.open(listener.localAddress())) {
                a3.join(); // main parks: the loop selects, and the listener is reported ready
                assertThat(List.of(a1.state(), a2.state())).containsOnly(State.FINISHED);
                assertThat(got).containsExactly("a1 accepted", "a2 accepted", "a3 accepted");
                assertThat(LoopProbe.readyReports() - reports).as("a2 woken by a1, a3 by a2: not by a select")
                        .isEqualTo(1);
                assertThat(accepts).as("each wake took a connection; a3 had nobody to pass it to")
                        .containsExactly("a1: none", "a2: none", "a3: none",
                                "a1: a connection", "a2: a connection", "a3: a connection");
                assertThat(LoopProbe.ioWaits()).isZero();
            }
        }
    }

    @Test
    void aBurstIsDrainedInOneRoundByTheAcceptLoopWokenAndTheWakeItPassesOnIsTheOneInVain() throws Exception {
        countAccepts();
        List<String> got = new ArrayList<>();
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            List<TcpConnection> accepted = new ArrayList<>();
            List<Coroutine> loops = new ArrayList<>();
            ended = new Channel<>("ended", 8);
            for (String name : List.of("a1", "a2")) {
                loops.add(Coroutine.create(name, () -> {
                    try {
                        while (true) {
                            accepted.add(listener.accept());
                            got.add(name + " accepted");
                            if (accepted.size() >= 4) {
                                ended.trySend(name);
                            }
                        }
                    } catch (IOException e) {
                        got.add(e.getMessage());
                    }
                }));
                Coroutine.yield(); // parked in its accept, after those made before it
            }
            assertThat(accepts).containsExactly("a1: none", "a2: none");
            long reports = LoopProbe.readyReports();
            try (SocketChannel c1 = SocketChannel.open(listener.localAddress());
                 SocketChannel c2 = SocketChannel.open(listener.localAddress());
                 SocketChannel c3 = SocketChannel.open(listener.localAddress());
                 SocketChannel c4 = SocketChannel.open(listener.localAddress())) {
                ended.receive(); // one select: a1 is woken, takes one and passes the wake to a2
                Coroutine.yield(); // a2 has run
                // a1's loop takes the rest at once, then waits again behind a2; a2, woken, finds the backlog
                // empty and waits again in its place, first in line: the one wake in vain, ending the chain
                assertThat(LoopProbe.readyReports() - reports).isEqualTo(1);
                assertThat(got).containsExactly("a1 accepted", "a1 accepted", "a1 accepted", "a1 accepted");
                assertThat(accepts).containsExactly("a1: none", "a2: none", "a1: a connection", "a1: a connection",
                        "a1: a connection", "a1: a connection", "a1: none", "a2: none");
                assertThat(loops).extracting(Coroutine::state).containsOnly(State.PARKED);
                assertThat(LoopProbe.ioWaits()).isEqualTo(2);

                try (SocketChannel c5 = SocketChannel.open(listener.localAddress())) {
                    assertThat(ended.receive()).as("the next goes to a2, first in line").isEqualTo("a2");
                    assertThat(got).endsWith("a2 accepted");
                }
            } finally {
                for (TcpConnection c : accepted) {
                    c.close();
                }
                for (Coroutine l : loops) {
                    l.close();
                }
            }
        }
    }

    @Test
    void anAcceptorWokenByThePreviousOneAndClosedBeforeItAcceptsLeavesTheConnectionToTheNextInLine() throws Exception {
        countAccepts();
        List<String> got = new ArrayList<>();
        List<String> log = new ArrayList<>();
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            Coroutine[] a2 = new Coroutine[1];
            Coroutine a1 = Coroutine.create("a1", () -> {
                try (TcpConnection c = listener.accept()) {
                    log.add("a1 accepted, and found a2 " + a2[0].state());
                    a2[0].close();
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            });
            Coroutine.yield();
            a2[0] = acceptor("a2", listener, got);
            Coroutine a3 = acceptor("a3", listener, got);
            try (SocketChannel c1 = SocketChannel.open(listener.localAddress());
                 SocketChannel c2 = SocketChannel.open(listener.localAddress())) {
                a3.join(); // the select after a1's round reports the listener ready again: a3 is woken
                assertThat(log).as("a2 woken by a1, not run yet").containsExactly("a1 accepted, and found a2 SUSPENDED");
                assertThat(a2[0].state()).isEqualTo(State.CLOSED);
                assertThat(got).containsExactly("a3 accepted");
                assertThat(accepts).as("a2 never took its turn")
                        .containsExactly("a1: none", "a2: none", "a3: none", "a1: a connection", "a3: a connection");
                assertThat(LoopProbe.ioWaits()).isZero();
            }
        }
    }

    @Test
    void aWokenAcceptorClosedBeforeItAcceptsLeavesTheConnectionToTheNextInLine() throws Exception {
        countAccepts();
        List<String> got = new ArrayList<>();
        List<String> log = new ArrayList<>();
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection bellPush = TcpConnection.connect(listener.localAddress());
             TcpConnection bell = listener.accept()) {
            accepts.clear();
            Coroutine a1 = acceptor("a1", listener, got);
            Coroutine a2 = acceptor("a2", listener, got);
            Coroutine a3 = acceptor("a3", listener, got);
            // made after the acceptors: the same select wakes it, and it runs before them (a read, not an
            // Io.await, whose release would select again before the acceptor it finds woken has run)
            Coroutine closer = Coroutine.create("closer", () -> {
                try {
                    bell.read(ByteBuffer.allocate(1));
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
                log.add("closer found a1 " + a1.state() + ", a2 " + a2.state() + ", a3 " + a3.state());
                a1.close();
            });
            Coroutine.yield();
            assertThat(List.of(a1.state(), a2.state(), a3.state(), closer.state())).containsOnly(State.PARKED);

            bellPush.write(ByteBuffer.wrap(new byte[] {1}));
            try (SocketChannel client = SocketChannel.open(listener.localAddress())) {
                a2.join(); // main parks: one select reports the bell and the listener
                assertThat(log).as("a1 woken, not run yet, and only a1")
                        .containsExactly("closer found a1 SUSPENDED, a2 PARKED, a3 PARKED");
                assertThat(a1.state()).isEqualTo(State.CLOSED);
                assertThat(got).containsExactly("a2 accepted");
                Coroutine.yield(); // a3, woken by a2, has run: it found nothing, and waits again
                assertThat(accepts).as("a1 never took its turn; a2 passed the wake to a3")
                        .containsExactly("a1: none", "a2: none", "a3: none", "a2: a connection", "a3: none");
                assertThat(a3.state()).isEqualTo(State.PARKED);
            }
            a3.close();
        }
    }

    @Test
    void closingTheListenerWakesEveryAcceptorWithAnIOExceptionNamingIt() throws Exception {
        List<String> got = new ArrayList<>();
        TcpListener listener = TcpListener.bind(LOOPBACK);
        List<Coroutine> acceptors = List.of(acceptor("a1", listener, got), acceptor("a2", listener, got),
                acceptor("a3", listener, got));
        assertThat(acceptors).extracting(Coroutine::state).containsOnly(State.PARKED);

        listener.close();
        for (Coroutine a : acceptors) {
            a.join();
        }
        String tail = " cannot accept on listener " + listener.localAddress() + " (closed): the listener was closed while it waited";
        assertThat(got).containsExactlyInAnyOrder("coroutine 'a1'" + tail, "coroutine 'a2'" + tail, "coroutine 'a3'" + tail);
        assertThat(LoopProbe.ioWaits()).isZero();
    }
}
