package dev.coro.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Coroutine;
import dev.coro.CoroutineExit;
import dev.coro.FreshThread;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A connection's turn: of its reads and writes that complete at once, 64 in a row with no scheduling point of its
 * thread between them, the next one waits for the socket's readiness first, so that the thread's other coroutines
 * run; a read or a write whose turn wait is cut short has read or written nothing, and the bytes go to the next call.
 * A listener's accepts that find a connection waiting have a turn too: a burst of connections lets the coroutines of
 * those accepted run every 64, and an accept whose turn wait is cut short leaves its connection to the next accept.
 */
@Tag("net")
@ExtendWith(FreshThread.class)
@Timeout(20)
class ConnectionTurnsTest {

    private static final int TURN = 64;
    /** More bytes (or calls) than two turns take. */
    private static final int N = 2 * TURN + 20;

    private final List<String> log = new ArrayList<>();

    /** A connected pair: {@code [0]} made by a connect, {@code [1]} by the accept of {@code listener}. */
    private static TcpConnection[] pair(TcpListener listener) throws IOException {
        TcpConnection[] accepted = new TcpConnection[1];
        Coroutine acceptor = Coroutine.create("acceptor", () -> {
            try {
                accepted[0] = listener.accept();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        TcpConnection c = TcpConnection.connect(listener.localAddress());
        acceptor.join();
        return new TcpConnection[] {c, accepted[0]};
    }

    /** A coroutine that closes {@code socket} when it runs: a connection or a listener, closed under a wait of its thread. */
    private static Coroutine closerOf(java.io.Closeable socket) {
        return Coroutine.create("closer", () -> {
            try {
                socket.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    private static TcpListener listener() throws IOException {
        return TcpListener.bind(new InetSocketAddress("127.0.0.1", 0));
    }

    /** Waits (yielding, bounded) until {@code n} bytes have arrived at {@code c} unread. */
    private static void awaitArrived(TcpConnection c, int n) throws Exception {
        var in = TcpConnectionTest.socketOf(c).socket().getInputStream();
        for (int i = 0; i < 100_000 && in.available() < n; i++) {
            Coroutine.yield(); // bounded: on loopback the bytes are there once the peer's write returns
        }
        assertThat(in.available()).as("bytes arrived, unread").isEqualTo(n);
    }

    @Test
    void aLoopOfReadsThatFindTheirBytesLetsTheOtherCoroutinesRunAfterEverySixtyFour() throws Exception {
        try (TcpListener listener = listener()) {
            TcpConnection[] p = pair(listener);
            try (TcpConnection reader = p[0]; TcpConnection writer = p[1]) {
                writer.write(ByteBuffer.wrap(new byte[N]));
                awaitArrived(reader, N);
                Coroutine.yield(); // a scheduling point: the loop's count starts from it
                int[] reads = {0};
                Coroutine.create("first", () -> log.add("first after " + reads[0] + " reads"));
                ByteBuffer one = ByteBuffer.allocate(1);
                while (reads[0] < N) {
                    assertThat(reader.read(one.clear())).isEqualTo(1);
                    reads[0]++;
                    if (reads[0] == TURN + 1) {
                        Coroutine.create("second", () -> log.add("second after " + reads[0] + " reads"));
                    }
                }
                assertThat(log).containsExactly("first after " + TURN + " reads", "second after " + (2 * TURN + 1) + " reads");
            }
        }
    }

    @Test
    void aLoopOfWritesThatTheSocketTakesAtOnceLetsTheOtherCoroutinesRunAfterEverySixtyFour() throws Exception {
        try (TcpListener listener = listener()) {
            TcpConnection[] p = pair(listener);
            try (TcpConnection writer = p[0]; TcpConnection reader = p[1]) {
                Coroutine.yield(); // a scheduling point: the loop's count starts from it
                int[] writes = {0};
                Coroutine.create("first", () -> log.add("first after " + writes[0] + " writes"));
                while (writes[0] < N) {
                    writer.write(ByteBuffer.wrap(new byte[] {(byte) writes[0]}));
                    writes[0]++;
                    if (writes[0] == TURN + 1) {
                        Coroutine.create("second", () -> log.add("second after " + writes[0] + " writes"));
                    }
                }
                assertThat(log).containsExactly("first after " + TURN + " writes", "second after " + (2 * TURN + 1) + " writes");
                byte[] got = reader.input().readNBytes(N);
                for (int i = 0; i < N; i++) {
                    assertThat(got[i]).as("byte %d", i).isEqualTo((byte) i);
                }
            }
        }
    }

    @Test
    void theReadsAndWritesOfOneConnectionShareItsTurn() throws Exception {
        try (TcpListener listener = listener()) {
            TcpConnection[] p = pair(listener);
            try (TcpConnection c = p[0]; TcpConnection peer = p[1]) {
                peer.write(ByteBuffer.wrap(new byte[TURN]));
                awaitArrived(c, TURN);
                Coroutine.yield();
                int[] calls = {0};
                Coroutine.create("other", () -> log.add("other after " + calls[0] + " calls"));
                ByteBuffer one = ByteBuffer.allocate(1);
                for (int i = 0; i < TURN; i++) { // a read, then a write: each completes at once
                    assertThat(c.read(one.clear())).isEqualTo(1);
                    calls[0]++;
                    c.write(one.flip());
                    calls[0]++;
                }
                assertThat(log).containsExactly("other after " + TURN + " calls");
                assertThat(peer.input().readNBytes(TURN)).hasSize(TURN);
            }
        }
    }

    @Test
    void aReadWhoseTurnWaitACloseOfItsCoroutineCutsShortReadsNothingAndTheNextReadGetsTheByte() throws Exception {
        try (TcpListener listener = listener()) {
            TcpConnection[] p = pair(listener);
            try (TcpConnection c = p[0]; TcpConnection peer = p[1]) {
                byte[] sent = new byte[N];
                for (int i = 0; i < sent.length; i++) {
                    sent[i] = (byte) i;
                }
                peer.write(ByteBuffer.wrap(sent));
                awaitArrived(c, N);
                ByteBuffer got = ByteBuffer.allocate(N);
                Throwable[] unwound = new Throwable[1];
                Coroutine reader = Coroutine.create("reader", () -> {
                    ByteBuffer one = ByteBuffer.allocate(1);
                    try {
                        while (true) {
                            if (c.read(one.clear()) == 1) {
                                got.put(one.flip());
                            }
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    } catch (Throwable t) {
                        unwound[0] = t;
                        throw t;
                    }
                });
                Coroutine closer = Coroutine.create("closer", reader::close);
                reader.switchTo(); // it reads 64 bytes, then waits its turn: the closer runs and closes it there
                closer.join();
                assertThat(unwound[0]).isInstanceOf(CoroutineExit.class)
                        .hasMessageContaining("its read from " + TcpConnectionTest.name(c));
                assertThat(got.position()).as("bytes the reader took").isEqualTo(TURN);
                ByteBuffer rest = ByteBuffer.allocate(N);
                while (got.position() + rest.position() < N) {
                    assertThat(c.read(rest)).isPositive();
                }
                got.put(rest.flip());
                assertThat(got.array()).containsExactly(sent);
            }
        }
    }

    @Test
    void aWriteWhoseTurnWaitACloseOfItsCoroutineCutsShortWritesNothingAndItsBufferSaysSo() throws Exception {
        try (TcpListener listener = listener()) {
            TcpConnection[] p = pair(listener);
            try (TcpConnection c = p[0]; TcpConnection peer = p[1]) {
                ByteBuffer[] last = new ByteBuffer[1];
                int[] writes = {0};
                Coroutine writer = Coroutine.create("writer", () -> {
                    try {
                        while (true) {
                            last[0] = ByteBuffer.wrap(new byte[] {(byte) writes[0]});
                            c.write(last[0]);
                            writes[0]++;
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                Coroutine closer = Coroutine.create("closer", writer::close);
                writer.switchTo(); // it writes 64 bytes, then waits its turn: the closer runs and closes it there
                closer.join();
                assertThat(writes[0]).isEqualTo(TURN);
                assertThat(last[0].position()).as("the cut write's buffer: nothing went out").isZero();
                c.write(ByteBuffer.wrap(new byte[] {99}));
                byte[] got = peer.input().readNBytes(TURN + 1);
                for (int i = 0; i < TURN; i++) {
                    assertThat(got[i]).as("byte %d", i).isEqualTo((byte) i);
                }
                assertThat(got[TURN]).isEqualTo((byte) 99);
            }
        }
    }

    @Test
    void aTurnWaitOfAConnectionClosedMeanwhileFailsNamingTheCallerAndTheConnection() throws Exception {
        try (TcpListener listener = listener()) {
            TcpConnection[] p = pair(listener);
            try (TcpConnection c = p[0]; TcpConnection peer = p[1]) {
                Throwable[] failed = new Throwable[1];
                Coroutine writer = Coroutine.create("writer", () -> {
                    try {
                        for (int i = 0; i < N; i++) {
                            c.write(ByteBuffer.wrap(new byte[] {1}));
                        }
                    } catch (IOException e) {
                        failed[0] = e;
                    }
                });
                Coroutine closer = closerOf(c);
                writer.switchTo();
                closer.join();
                writer.join();
                assertThat(failed[0]).isInstanceOf(IOException.class)
                        .hasMessage("coroutine 'writer' cannot write to " + TcpConnectionTest.name(c) + " (closed): the connection was closed while it waited");
                assertThat(peer.input().readAllBytes()).hasSize(TURN);
            }
        }
    }

    @Test
    void theTurnOfALoopThatFindsItsBytesComesAlsoWithoutAnyOtherCoroutineAndEveryByteIsReadOnce() throws Exception {
        try (TcpListener listener = listener()) {
            TcpConnection[] p = pair(listener);
            try (TcpConnection c = p[0]; TcpConnection peer = p[1]) {
                byte[] sent = new byte[1000];
                for (int i = 0; i < sent.length; i++) {
                    sent[i] = (byte) (i * 7);
                }
                peer.write(ByteBuffer.wrap(sent));
                peer.shutdownOutput();
                ByteBuffer got = ByteBuffer.allocate(1001);
                ByteBuffer three = ByteBuffer.allocate(3);
                while (c.read(three.clear()) >= 0) {
                    got.put(three.flip());
                }
                assertThat(got.flip().remaining()).isEqualTo(1000);
                assertThat(java.util.Arrays.copyOf(got.array(), 1000)).containsExactly(sent);
                assertThatThrownBy(() -> c.read(null)).isInstanceOf(NullPointerException.class);
            }
        }
    }

    /** Opens {@code n} client sockets to {@code listener}, blocking (on loopback each connect returns once the kernel has queued it). */
    private static List<SocketChannel> clients(TcpListener listener, int n) throws IOException {
        List<SocketChannel> clients = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            clients.add(SocketChannel.open(listener.localAddress()));
        }
        return clients;
    }

    private static void closeAll(List<SocketChannel> clients) throws IOException {
        for (SocketChannel c : clients) {
            c.close();
        }
    }

    @Test
    void aLoopOfAcceptsThatFindConnectionsWaitingLetsTheirCoroutinesRunAfterEverySixtyFour() throws Exception {
        try (TcpListener listener = listener()) {
            List<SocketChannel> clients = clients(listener, N);
            List<TcpConnection> accepted = new ArrayList<>();
            int[] ranAfter = new int[N];
            Coroutine.yield(); // a scheduling point: the loop's count starts from it
            for (int i = 0; i < N; i++) {
                accepted.add(listener.accept());
                int id = i;
                Coroutine.create("connection-" + i, () -> ranAfter[id] = accepted.size());
            }
            Coroutine.yield(); // the last ones run
            for (int i = 0; i < N; i++) {
                int expected = i < TURN ? TURN : i < 2 * TURN + 1 ? 2 * TURN + 1 : N; // the call that waited is the first of the next turn
                assertThat(ranAfter[i]).as("accepts made when connection %d's coroutine ran", i).isEqualTo(expected);
            }
            for (TcpConnection c : accepted) {
                c.close();
            }
            closeAll(clients);
        }
    }

    @Test
    void anAcceptWhoseTurnWaitACloseOfItsCoroutineCutsShortLeavesItsConnectionToTheNextAccept() throws Exception {
        try (TcpListener listener = listener()) {
            int n = TURN + 6;
            List<SocketChannel> clients = clients(listener, n);
            for (int i = 0; i < n; i++) {
                clients.get(i).write(ByteBuffer.wrap(new byte[] {(byte) i}));
            }
            List<TcpConnection> accepted = new ArrayList<>();
            Throwable[] unwound = new Throwable[1];
            Coroutine acceptor = Coroutine.create("acceptor", () -> {
                try {
                    while (true) {
                        accepted.add(listener.accept());
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                } catch (Throwable t) {
                    unwound[0] = t;
                    throw t;
                }
            });
            Coroutine closer = Coroutine.create("closer", acceptor::close);
            acceptor.switchTo(); // it accepts 64, then waits its turn: the closer runs and closes it there
            closer.join();
            assertThat(unwound[0]).isInstanceOf(CoroutineExit.class).hasMessageContaining("its accept on listener");
            assertThat(accepted).hasSize(TURN);
            while (accepted.size() < n) {
                accepted.add(listener.accept()); // each finds its connection waiting: none was lost
            }
            java.util.Set<Integer> seen = new java.util.TreeSet<>();
            for (TcpConnection c : accepted) {
                ByteBuffer one = ByteBuffer.allocate(1);
                assertThat(c.read(one)).isEqualTo(1);
                seen.add((int) one.get(0));
                c.close();
            }
            assertThat(seen).hasSize(n).first().isEqualTo(0);
            assertThat(seen).last().isEqualTo(n - 1);
            closeAll(clients);
        }
    }

    @Test
    void aTurnWaitOfAnAcceptWhoseListenerIsClosedMeanwhileFailsNamingTheCallerAndTheListener() throws Exception {
        TcpListener listener = listener();
        String name = "listener " + listener.localAddress();
        List<SocketChannel> clients = clients(listener, TURN + 6);
        List<TcpConnection> accepted = new ArrayList<>();
        IOException[] failed = new IOException[1];
        Coroutine acceptor = Coroutine.create("acceptor", () -> {
            try {
                while (true) {
                    accepted.add(listener.accept());
                }
            } catch (IOException e) {
                failed[0] = e;
            }
        });
        Coroutine closer = closerOf(listener);
        acceptor.switchTo();
        closer.join();
        acceptor.join();
        assertThat(accepted).hasSize(TURN);
        assertThat(failed[0]).hasMessage("coroutine 'acceptor' cannot accept on " + name
                + " (closed): the listener was closed while it waited");
        for (TcpConnection c : accepted) {
            c.close();
        }
        closeAll(clients);
    }
}
