package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.name;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine;
import dev.coro.Coroutine.State;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * One server thread serving two hundred connections at once, whose plain {@code java.net.Socket} peers
 * misbehave in five ways side by side: echoing in lockstep, resetting while the server reads, resetting
 * while the server's write is parked on a full buffer, half-closing, and reading nothing until a large write
 * to them has been cut short part way by a timeout (the server resuming it from where its buffer's position
 * says it stopped): every surviving connection carries each byte once, in order; each reset fails only its
 * own connection's call, naming the coroutine, the call, the connection and its state; the dump shows the
 * parked writes; and nothing is left open or registered.
 */
@Tag("net")
@ExtendWith(FreshThread.class)
class ManyPeersMisbehavingAtOnceTest {

    /** How many peers connect at once. */
    private static final int PEERS = 200;

    /** The kinds of peer, by their index modulo {@link #KINDS}. */
    private static final int LOCKSTEP = 0;
    private static final int RESET_IN_READ = 1;
    private static final int RESET_IN_WRITE = 2;
    private static final int HALF_CLOSE = 3;
    private static final int SLOW_READER = 4;
    private static final int KINDS = 5;

    /** The bytes each surviving peer sends, echoed back to it. */
    private static final int SIZE = 64 * 1024;
    /** The chunk a lockstep peer sends before it reads its echo. */
    private static final int CHUNK = 4 * 1024;
    /** A slow reader's bytes, echoed in one write: more than its small receive buffer and the server's small send buffer hold. */
    private static final int SLOW_SIZE = 256 * 1024;
    /** The buffers a peer whose reads lag sets small, and the server's send buffer for it. */
    private static final int SMALL_BUFFER = 16 * 1024;

    /** How long the test waits for another thread before it fails: a guard against a hang, not a timing assertion. */
    private static final long GUARD_SECONDS = 60;

    /** What the server says to a half-closing peer once it has read the end of its stream. */
    private static final byte[] BYE = "bye".getBytes(StandardCharsets.US_ASCII);

    /** The {@code i}-th peer's bytes, different for each peer and position. */
    private static byte[] data(int peer, int size) {
        byte[] b = new byte[size];
        for (int p = 0; p < size; p++) {
            b[p] = (byte) (peer * 31 + p * 7 + (p >>> 8));
        }
        return b;
    }

    @Test
    @Timeout(120)
    void twoHundredPeersEchoingResettingHalfClosingAndReadingSlowlyAtOnceLoseAndDuplicateNothingAndLeaveNothingOpen()
            throws Exception {
        long socketsBefore = OpenSockets.count();
        int resetInWrite = (PEERS + KINDS - 1 - RESET_IN_WRITE) / KINDS;
        Map<Integer, String> served = new ConcurrentHashMap<>(); // peer -> what its echo coroutine ended with
        Map<Integer, String> names = new ConcurrentHashMap<>(); // peer -> its server connection's name
        AtomicIntegerArray peerOf = new AtomicIntegerArray(PEERS); // echo -> its peer, -1 until its header came
        AtomicIntegerArray writing = new AtomicIntegerArray(PEERS); // echo -> 1 while in write
        List<Coroutine> echoes = new ArrayList<>();
        List<CompletableFuture<String>> peers = new ArrayList<>();
        CompletableFuture<Void> resetNow = new CompletableFuture<>();
        int[] cutPartWay = new int[1]; // writes to slow readers cut short after some of their bytes went out
        List<CompletableFuture<Void>> cut = new ArrayList<>(); // peer -> its echo's first write cut short
        for (int i = 0; i < PEERS; i++) {
            cut.add(new CompletableFuture<>());
        }
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            InetSocketAddress address = (InetSocketAddress) listener.localAddress();
            for (int i = 0; i < PEERS; i++) {
                int peer = i;
                CompletableFuture<String> result = new CompletableFuture<>();
                peers.add(result);
                Thread.ofVirtual().name("peer-" + i).start(() -> {
                    try {
                        result.complete(peer(address, peer, resetNow, cut.get(peer)));
                    } catch (Throwable t) {
                        result.completeExceptionally(t);
                    }
                });
            }
            for (int k = 0; k < PEERS; k++) {
                peerOf.set(k, -1);
                TcpConnection c = listener.accept();
                int echo = k;
                echoes.add(Coroutine.create("echo-" + k, () -> echo(c, echo, peerOf, writing, served, names, cut, cutPartWay)));
            }
            // every echo of a peer that stops reading parks in its write: the dump shows each such wait
            long guard = System.nanoTime() + TimeUnit.SECONDS.toNanos(GUARD_SECONDS);
            List<Integer> parked;
            while ((parked = parkedInWrite(echoes, peerOf, writing)).size() < resetInWrite) {
                assertThat(System.nanoTime() - guard).as("echoes parked in write so far: %s", parked).isNegative();
                Coroutine.yield();
            }
            String dump = Coroutine.dump(PEERS + 1); // every context listed
            for (int k : parked) {
                assertThat(dump).contains("coroutine 'echo-" + k + "': PARKED, waits to write to "
                        + names.get(peerOf.get(k)));
            }
            resetNow.complete(null); // those peers reset now, while the writes are parked
            for (Coroutine echo : echoes) {
                echo.join();
            }
        }
        for (int i = 0; i < PEERS; i++) {
            String name = names.get(i);
            String what = served.get(i);
            String peerSaw = peers.get(i).get(GUARD_SECONDS, TimeUnit.SECONDS);
            switch (i % KINDS) {
                case LOCKSTEP, HALF_CLOSE, SLOW_READER -> {
                    assertThat(peerSaw).as("peer %d", i).isEqualTo("every byte echoed once, in order, then the end");
                    assertThat(what).as("echo of peer %d", i).isEqualTo("ended");
                }
                case RESET_IN_READ -> {
                    assertThat(peerSaw).as("peer %d", i).isEqualTo("reset");
                    assertThat(what).as("echo of peer %d", i).matches("SocketException: coroutine 'echo-\\d+' cannot read from "
                            + quote(name) + " \\(open\\): java.net.SocketException: Connection reset");
                }
                case RESET_IN_WRITE -> {
                    assertThat(peerSaw).as("peer %d", i).isEqualTo("reset");
                    assertThat(what).as("echo of peer %d", i).matches("SocketException: coroutine 'echo-\\d+' cannot write to "
                            + quote(name) + " \\(open\\): java.io.IOException: (Connection reset by peer|Broken pipe)");
                }
                default -> throw new AssertionError(i);
            }
        }
        // each slow reader reads nothing until the write of its echo has been cut short: the socket took part of that
        // write (less than a slice of it, and the small buffers hold less still), and its wait for room timed out
        assertThat(cutPartWay[0]).as("writes to slow readers cut short part way, then resumed")
                .isGreaterThanOrEqualTo(PEERS / KINDS);
        assertThat(LoopProbe.ioWaits()).as("waits left on the loop").isZero();
        assertThat(LoopProbe.registeredChannels()).as("channels left registered").isZero();
        Coroutine.yield(); // a scheduling point: the sockets the thread closed leave its selector
        assertThat(OpenSockets.count()).as("sockets left open").isEqualTo(socketsBefore);
    }

    private static String quote(String s) {
        return java.util.regex.Pattern.quote(s);
    }

    /** The echoes whose peer is known to stop reading and that are parked in their write. */
    private static List<Integer> parkedInWrite(List<Coroutine> echoes, AtomicIntegerArray peerOf, AtomicIntegerArray writing) {
        List<Integer> parked = new ArrayList<>();
        for (int k = 0; k < echoes.size(); k++) {
            int peer = peerOf.get(k);
            if (peer >= 0 && peer % KINDS == RESET_IN_WRITE && writing.get(k) == 1 && echoes.get(k).state() == State.PARKED) {
                parked.add(k);
            }
        }
        return parked;
    }

    /**
     * The server's side of one connection: reads the peer's index, then echoes what it reads until the end of the
     * stream (the write of a slow reader's echo under a short timeout, resumed from where its buffer says it
     * stopped), says {@code bye} to a half-closing peer, and records how it ended.
     */
    private static void echo(TcpConnection c, int k, AtomicIntegerArray peerOf, AtomicIntegerArray writing,
                             Map<Integer, String> served, Map<Integer, String> names, List<CompletableFuture<Void>> cut,
                             int[] cutPartWay) {
        ByteBuffer head = ByteBuffer.allocate(4);
        int peer = -1;
        try (c) {
            while (head.hasRemaining()) {
                if (c.read(head) < 0) {
                    throw new IOException("the stream of echo-" + k + " ended before its header");
                }
            }
            peer = head.getInt(0);
            names.put(peer, name(c));
            if (peer % KINDS == RESET_IN_WRITE || peer % KINDS == SLOW_READER) {
                c.setOption(StandardSocketOptions.SO_SNDBUF, SMALL_BUFFER);
            }
            peerOf.set(k, peer);
            if (peer % KINDS == SLOW_READER) { // all its bytes read first, then echoed in one write
                ByteBuffer all = ByteBuffer.allocate(SLOW_SIZE);
                while (all.hasRemaining() && c.read(all) >= 0) {
                    // until all came, or the stream ended
                }
                all.flip();
                while (all.hasRemaining()) { // what a cut write took is in its position: the rest goes next
                    int before = all.position();
                    if (!Coroutine.tryCallWithTimeout(Duration.ofMillis(1), () -> c.write(all))) {
                        if (all.position() != before) {
                            cutPartWay[0]++;
                        }
                        cut.get(peer).complete(null); // the peer may read now
                    }
                }
            }
            ByteBuffer buf = ByteBuffer.allocate(8192);
            while (c.read(buf.clear()) >= 0) {
                buf.flip();
                writing.set(k, 1);
                c.write(buf);
                writing.set(k, 0);
            }
            if (peer % KINDS == HALF_CLOSE) {
                c.write(ByteBuffer.wrap(BYE));
            }
            served.put(peer, "ended");
        } catch (IOException e) {
            served.put(peer, e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    /** A peer: connects, sends its index, then behaves as its kind; returns what it saw. */
    private static String peer(InetSocketAddress address, int i, CompletableFuture<Void> resetNow,
                               CompletableFuture<Void> cut) throws Exception {
        int kind = i % KINDS;
        try (Socket s = new Socket()) {
            if (kind == RESET_IN_WRITE || kind == SLOW_READER) {
                s.setReceiveBufferSize(SMALL_BUFFER); // before the connect: the window follows it
            }
            s.connect(address);
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            InputStream in = s.getInputStream();
            out.writeInt(i);
            byte[] data = data(i, kind == SLOW_READER ? SLOW_SIZE : SIZE);
            switch (kind) {
                case LOCKSTEP, RESET_IN_READ -> {
                    int upTo = kind == LOCKSTEP ? SIZE : SIZE / 2;
                    for (int at = 0; at < upTo; at += CHUNK) {
                        out.write(data, at, CHUNK);
                        byte[] back = in.readNBytes(CHUNK);
                        if (!Arrays.equals(back, 0, back.length, data, at, at + CHUNK)) {
                            return "chunk at " + at + " echoed wrong: " + back.length + " bytes";
                        }
                    }
                    if (kind == RESET_IN_READ) { // the server parks in its read meanwhile
                        s.setSoLinger(true, 0);
                        s.close(); // a reset
                        return "reset";
                    }
                    s.shutdownOutput();
                    return ended(in, "");
                }
                case RESET_IN_WRITE -> {
                    Thread writer = Thread.ofVirtual().start(() -> { // reads nothing back: the server's write parks
                        try {
                            out.write(new byte[1 << 20]);
                        } catch (IOException e) {
                            // the reset below, if it was still writing
                        }
                    });
                    resetNow.get(GUARD_SECONDS, TimeUnit.SECONDS);
                    s.setSoLinger(true, 0);
                    s.close(); // a reset
                    writer.join();
                    return "reset";
                }
                case HALF_CLOSE -> {
                    out.write(data);
                    s.shutdownOutput();
                    byte[] back = in.readNBytes(SIZE);
                    if (!Arrays.equals(back, data)) {
                        return "echoed wrong: " + back.length + " bytes";
                    }
                    return ended(in, "bye");
                }
                case SLOW_READER -> {
                    Thread writer = Thread.ofVirtual().start(() -> {
                        try {
                            out.write(data);
                            s.shutdownOutput();
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    });
                    cut.get(GUARD_SECONDS, TimeUnit.SECONDS); // reads nothing until a write to it was cut short
                    byte[] back = new byte[SLOW_SIZE];
                    int at = 0;
                    for (int n; at < back.length && (n = in.read(back, at, Math.min(512, back.length - at))) >= 0; ) {
                        at += n; // small reads: the server's writes wait for room
                    }
                    writer.join();
                    if (at != SLOW_SIZE || !Arrays.equals(back, data)) {
                        return "echoed wrong: " + at + " bytes";
                    }
                    return ended(in, "");
                }
                default -> throw new AssertionError(kind);
            }
        }
    }

    /** Reads what follows to the end of the stream, which must be {@code trailer}. */
    private static String ended(InputStream in, String trailer) throws IOException {
        String rest = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        return rest.equals(trailer) ? "every byte echoed once, in order, then the end" : "then more: '" + rest + "'";
    }
}
