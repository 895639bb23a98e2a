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
 * Several coroutines of one thread parked in {@code accept()} on one listener: a connection that
 * arrives wakes one of them, the first to have begun waiting, not all (a thundering herd, where all
 * but one find nothing and wait again); a woken one closed before it accepts leaves the connection to
 * the next; a close of the listener wakes them all.
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
    void oneConnectionWakesOnlyTheFirstOfThreeAcceptorsAndTheOthersStayParked() throws Exception {
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
                assertThat(accepts).as("one wake-up: the first acceptor's")
                        .containsExactly("a1: none", "a2: none", "a3: none", "a1: a connection");
                assertThat(List.of(a2.state(), a3.state())).containsOnly(State.PARKED);
                assertThat(LoopProbe.ioWaits()).isEqualTo(2);

                try (SocketChannel second = SocketChannel.open(listener.localAddress())) {
                    ended.receive(); // the next connection goes to the next in line
                    assertThat(got).containsExactly("a1 accepted", "a2 accepted");
                    assertThat(accepts).hasSize(5).endsWith("a2: a connection");
                    assertThat(a3.state()).isEqualTo(State.PARKED);
                }
            }
            a3.close();
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
                assertThat(accepts).as("a1 never took its turn, a3 was never woken")
                        .containsExactly("a1: none", "a2: none", "a3: none", "a2: a connection");
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
