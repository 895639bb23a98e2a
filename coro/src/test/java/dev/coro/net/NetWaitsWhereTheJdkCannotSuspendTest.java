package dev.coro.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import dev.coro.Upcalls;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A wait of {@code dev.coro.net} that a coroutine cannot make because the JDK cannot suspend it there (on the
 * continuation engine, under an FFM upcall) is refused with an {@link IllegalStateException} naming the
 * coroutine, the wait and why, as their {@code @throws} clauses say, as a channel's or a join's is: a read, an
 * accept, an {@link Io#await}, a connect (whose socket is closed) and a write that finds the send buffer full
 * (its buffer's position saying how much went out); nothing is left waiting, and the connection and the
 * listener work on. The upcall is libc's {@code qsort} calling back a Java comparator, as in
 * {@code PinningTest}; the comparator keeps what it caught, since nothing may escape an upcall.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
@Timeout(20)
class NetWaitsWhereTheJdkCannotSuspendTest {

    /** Only the continuation engine refuses: on the thread engine the wait parks the coroutine's virtual thread, pinned. */
    static boolean continuationEngineRuns() {
        return LoopProbe.engine().equals("continuation");
    }

    private static final String WHY = " to run coroutine 'other': the JDK cannot suspend it here because a native frame is on"
            + " its stack (a JNI call, an FFM upcall, or a class initializer); it keeps running (state RUNNING)";

    /** A call of the network API, which may throw a checked exception. */
    interface NetCall {
        void run() throws Exception;
    }

    /** What {@code call} throws inside an FFM upcall ({@link Upcalls}): it must throw. */
    private static Throwable thrownInAnUpcall(NetCall call) {
        Object outcome = Upcalls.inAnUpcall(() -> {
            call.run();
            return "returned";
        });
        assertThat(outcome).as("what the call did in the upcall").isInstanceOf(Throwable.class);
        return (Throwable) outcome;
    }

    /** A coroutine that accepts one connection on {@code listener} into {@code accepted[0]}. */
    static Coroutine acceptor(TcpListener listener, TcpConnection[] accepted) {
        return Coroutine.create("acceptor", () -> {
            try {
                accepted[0] = listener.accept();
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        });
    }

    /**
     * After the refused waits: {@code c} reads on what its {@code peer} (closed here) writes, and {@code listener}
     * accepts the socket of the refused connect, closed.
     */
    static void workOn(TcpConnection c, TcpConnection peer, TcpListener listener) throws IOException {
        try (peer) {
            peer.write(ByteBuffer.wrap(new byte[] {7}));
            ByteBuffer b = ByteBuffer.allocate(4);
            assertThat(c.read(b)).as("the connection reads on").isEqualTo(1);
            assertThat(b.get(0)).isEqualTo((byte) 7);
        }
        try (TcpConnection ofTheRefusedConnect = listener.accept()) {
            assertThat(ofTheRefusedConnect.read(ByteBuffer.allocate(1))).as("the refused connect's socket was closed")
                    .isEqualTo(-1);
        }
    }

    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = "only the continuation engine refuses to suspend under an upcall")
    void aReadAnAcceptAnAwaitOrAConnectUnderAnUpcallIsRefusedNamingTheWaitAndLeavesNothingWaiting() throws Exception {
        List<Throwable> refused = new ArrayList<>();
        List<String> log = new ArrayList<>();
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0));
             Pipe.SourceChannel source = Pipe.open().source()) {
            source.configureBlocking(false);
            TcpConnection[] accepted = new TcpConnection[1];
            Coroutine acceptor = acceptor(listener, accepted);
            try (TcpConnection c = TcpConnection.connect(listener.localAddress())) {
                acceptor.join();
                Coroutine.create("other", () -> log.add("other ran"));
                Coroutine reader = Coroutine.create("reader", () -> {
                    refused.add(thrownInAnUpcall(() -> c.read(ByteBuffer.allocate(4))));
                    refused.add(thrownInAnUpcall(() -> c.input().read()));
                    refused.add(thrownInAnUpcall(listener::accept));
                    refused.add(thrownInAnUpcall(() -> Io.await(source, SelectionKey.OP_READ)));
                    refused.add(thrownInAnUpcall(() -> TcpConnection.connect(listener.localAddress())));
                    log.add("I/O waits left: " + LoopProbe.ioWaits() + ", " + Coroutine.current());
                });
                reader.switchTo();

                String connection = "connection " + c.localAddress() + " -> " + c.remoteAddress();
                assertThat(refused).allSatisfy(e -> assertThat(e).isInstanceOf(IllegalStateException.class))
                        .extracting(Throwable::getMessage).containsExactly(
                                "cannot suspend coroutine 'reader' at its read from " + connection + WHY,
                                "cannot suspend coroutine 'reader' at its read from " + connection + WHY,
                                "cannot suspend coroutine 'reader' at its accept on listener " + listener.localAddress() + WHY,
                                "cannot suspend coroutine 'reader' at its await OP_READ on " + source + WHY,
                                "cannot suspend coroutine 'reader' at its connect to " + listener.localAddress() + WHY);
                assertThat(log).containsExactly("I/O waits left: 0, Coroutine[reader, RUNNING]", "other ran");
                workOn(c, accepted[0], listener);
            }
        }
    }

    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = "only the continuation engine refuses to suspend under an upcall")
    void aWriteUnderAnUpcallThatFindsTheSendBufferFullIsRefusedItsBufferSayingHowMuchWentOut() throws Exception {
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0))) {
            TcpConnection[] accepted = new TcpConnection[1];
            Coroutine acceptor = acceptor(listener, accepted);
            try (TcpConnection c = TcpConnection.connect(listener.localAddress())) {
                acceptor.join();
                TcpConnection peer = accepted[0];
                Coroutine.create("other", () -> { });
                ByteBuffer big = ByteBuffer.allocate(32 << 20); // more than any send and receive buffers hold
                Throwable[] refused = new Throwable[1];
                Coroutine.create("writer", () -> refused[0] = thrownInAnUpcall(() -> c.write(big))).switchTo();
                assertThat(refused[0]).isInstanceOf(IllegalStateException.class).hasMessage(
                        "cannot suspend coroutine 'writer' at its write to connection " + c.localAddress() + " -> " + c.remoteAddress() + WHY);
                assertThat(big.position()).as("bytes written before the refusal").isPositive().isLessThan(big.limit());
                assertThat(peer.input().readNBytes(big.position())).as("the peer reads what went out").hasSize(big.position());
                peer.close();
            }
        }
    }

    /**
     * A write that finds another coroutine's write parked part way waits for it to end (so the two never
     * interleave), though the socket has room again (the peer read some of it); where the JDK cannot suspend
     * the caller, that wait is refused as the wait for room is, before a byte of it went out, leaving nothing
     * waiting but the parked write, which then goes out whole.
     */
    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = "only the continuation engine refuses to suspend under an upcall")
    void aWriteUnderAnUpcallThatFindsAnotherWriteParkedPartWayIsRefusedHavingWrittenNothing() throws Exception {
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0))) {
            TcpConnection[] accepted = new TcpConnection[1];
            Coroutine acceptor = acceptor(listener, accepted);
            try (TcpConnection c = TcpConnection.connect(listener.localAddress())) {
                acceptor.join();
                TcpConnection peer = accepted[0];
                byte[] first = new byte[32 << 20]; // more than any send and receive buffers hold: it parks part way
                Arrays.fill(first, (byte) 'a');
                ByteBuffer big = ByteBuffer.wrap(first);
                Coroutine firstWriter = Coroutine.create("first", () -> {
                    try {
                        c.write(big);
                    } catch (IOException e) {
                        throw new AssertionError(e);
                    }
                });
                firstWriter.switchTo();
                assertThat(big.position()).as("the first write parked part way").isPositive().isLessThan(big.limit());
                int early = big.position() / 2;
                byte[] got = new byte[first.length];
                assertThat(peer.input().readNBytes(got, 0, early)).as("read without a park: the socket has room again")
                        .isEqualTo(early);
                assertThat(firstWriter.isFinished()).isFalse();
                Coroutine.create("other", () -> { });
                ByteBuffer second = ByteBuffer.wrap(new byte[] {'b', 'b'});
                Throwable[] refused = new Throwable[1];
                Coroutine.create("second", () -> refused[0] = thrownInAnUpcall(() -> c.write(second))).switchTo();
                assertThat(refused[0]).isInstanceOf(IllegalStateException.class).hasMessage(
                        "cannot suspend coroutine 'second' at its write to connection " + c.localAddress() + " -> " + c.remoteAddress() + WHY);
                assertThat(second.position()).as("bytes of the refused write that went out").isZero();
                assertThat(LoopProbe.ioWaits()).as("the first write's wait only").isEqualTo(1);
                assertThat(peer.input().readNBytes(got, early, first.length - early)).isEqualTo(first.length - early);
                assertThat(got).as("the first write, whole").isEqualTo(first);
                assertThat(firstWriter.isFinished()).isTrue();
                c.write(second.rewind());
                assertThat(peer.input().readNBytes(2)).as("then what is written next").isEqualTo(new byte[] {'b', 'b'});
                peer.close();
            }
        }
    }

    /**
     * A read after one that emptied the socket (a short read) first looks for readiness; where the JDK cannot
     * suspend the caller, bytes that have arrived since are read all the same, as any read that finds bytes reads
     * them: only a read that finds no byte is refused (its Javadoc's word), on both engines.
     */
    @Test
    void aReadUnderAnUpcallAfterAShortReadTakesTheBytesThatHaveArrivedInsteadOfBeingRefused() throws Exception {
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0))) {
            TcpConnection[] accepted = new TcpConnection[1];
            Coroutine acceptor = acceptor(listener, accepted);
            try (TcpConnection c = TcpConnection.connect(listener.localAddress())) {
                acceptor.join();
                TcpConnection peer = accepted[0];
                peer.write(ByteBuffer.wrap(new byte[] {1, 2}));
                ByteBuffer b = ByteBuffer.allocate(16);
                while (b.position() < 2) {
                    c.read(b); // short: it empties the socket
                }
                peer.write(ByteBuffer.wrap(new byte[] {3, 4, 5}));
                SocketChannel socket = TcpConnectionTest.socketOf(c); // to count what has arrived without a call of the connection
                for (int i = 0; i < 100_000 && socket.socket().getInputStream().available() < 3; i++) {
                    Coroutine.yield(); // bounded: on loopback the bytes are there once the peer's write returns
                }
                assertThat(socket.socket().getInputStream().available()).as("bytes arrived, unread").isEqualTo(3);
                Coroutine.create("other", () -> { });
                Object[] outcome = new Object[1];
                Coroutine reader = Coroutine.create("reader", () -> outcome[0] = Upcalls.inAnUpcall(() -> c.read(b.clear())));
                reader.switchTo();
                reader.join(); // on the thread engine its wait parks its virtual thread, pinned, which may run after main
                assertThat(outcome[0]).as("what the read in the upcall did").isEqualTo(3);
                assertThat(Arrays.copyOf(b.array(), 3)).containsExactly(3, 4, 5);
                peer.close();
            }
        }
    }

    /**
     * A loop of reads and writes that each complete at once spends the connection's turn (64 in a row): the next one
     * waits for readiness first, a courtesy where the JDK cannot suspend the caller: the call goes on without the
     * wait, and every one of 100 writes and 100 reads is made, on both engines.
     */
    @Test
    void aLoopOfReadsAndWritesUnderAnUpcallThatSpendsItsTurnGoesOnWithoutTheWait() throws Exception {
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0))) {
            TcpConnection[] accepted = new TcpConnection[1];
            Coroutine acceptor = acceptor(listener, accepted);
            try (TcpConnection c = TcpConnection.connect(listener.localAddress())) {
                acceptor.join();
                try (TcpConnection peer = accepted[0]) {
                    peer.write(ByteBuffer.wrap(new byte[100]));
                    SocketChannel socket = TcpConnectionTest.socketOf(c);
                    for (int i = 0; i < 100_000 && socket.socket().getInputStream().available() < 100; i++) {
                        Coroutine.yield(); // bounded: on loopback the bytes are there once the peer's write returns
                    }
                    Coroutine.create("other", () -> { });
                    Object[] outcome = new Object[1];
                    Coroutine looper = Coroutine.create("looper", () -> outcome[0] = Upcalls.inAnUpcall(() -> {
                        ByteBuffer one = ByteBuffer.allocate(1);
                        int done = 0;
                        for (int i = 0; i < 100; i++) {
                            done += c.read(one.clear());
                            c.write(one.flip());
                        }
                        return done;
                    }));
                    looper.switchTo();
                    looper.join(); // on the thread engine its waits park its virtual thread, pinned, which may run after main
                    assertThat(outcome[0]).as("what the loop in the upcall did").isEqualTo(100);
                    assertThat(peer.input().readNBytes(100)).hasSize(100);
                }
            }
        }
    }

    /**
     * A loop of accepts that each find a connection waiting spends the listener's turn (64 in a row): the next one
     * waits for readiness first, a courtesy where the JDK cannot suspend the caller: the accept goes on without the
     * wait, and every one of 100 connections is accepted, on both engines.
     */
    @Test
    void aLoopOfAcceptsUnderAnUpcallThatSpendsItsTurnGoesOnWithoutTheWait() throws Exception {
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0))) {
            List<SocketChannel> clients = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                clients.add(SocketChannel.open(listener.localAddress())); // queued by the kernel: on loopback at once
            }
            Coroutine.create("other", () -> { });
            List<TcpConnection> accepted = new ArrayList<>();
            Object[] outcome = new Object[1];
            Coroutine looper = Coroutine.create("looper", () -> outcome[0] = Upcalls.inAnUpcall(() -> {
                for (int i = 0; i < 100; i++) {
                    accepted.add(listener.accept());
                }
                return accepted.size();
            }));
            looper.switchTo();
            looper.join(); // on the thread engine its waits park its virtual thread, pinned, which may run after main
            assertThat(outcome[0]).as("what the loop in the upcall did").isEqualTo(100);
            for (TcpConnection c : accepted) {
                c.close();
            }
            for (SocketChannel c : clients) {
                c.close();
            }
        }
    }

    /**
     * An accept that fails for want of descriptors makes a scheduling point before it throws, so that a loop
     * retrying it lets the thread's other coroutines run (and free some); where the JDK cannot suspend the caller
     * there is none, and the accept throws its own failure, as its Javadoc says, not the refusal of a yield the
     * caller never made. On both engines.
     */
    @Test
    void anAcceptFailingForWantOfDescriptorsUnderAnUpcallThrowsThatFailureNotARefusedYield() throws Exception {
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0))) {
            TcpListener.accepter = channel -> {
                throw new IOException("Too many open files");
            };
            Object[] outcome = new Object[1];
            try {
                Coroutine.create("other", () -> { });
                Coroutine acceptor = Coroutine.create("acceptor", () -> outcome[0] = Upcalls.inAnUpcall(listener::accept));
                acceptor.switchTo();
                acceptor.join();
            } finally {
                TcpListener.accepter = ServerSocketChannel::accept;
            }
            assertThat(outcome[0]).as("what the accept in the upcall threw").isInstanceOf(IOException.class);
            assertThat((IOException) outcome[0]).hasMessage("coroutine 'acceptor' cannot accept on listener "
                    + listener.localAddress() + " (open): java.io.IOException: Too many open files; the process is out of"
                    + " file descriptors: the listener stays open, and accepts again once some are closed");
            assertThat(listener.isOpen()).isTrue();
        }
    }
}
