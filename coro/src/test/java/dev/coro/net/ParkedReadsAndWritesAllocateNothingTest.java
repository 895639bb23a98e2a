package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine;
import dev.coro.FreshThread;
import dev.coro.management.CoroutinesManagement;
import dev.coro.management.SchedulerInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A connection's read or write that parks again and again allocates nothing per park: the connection's
 * registration keeps its ended wait and the next wait uses it again. Main parks here, alone on its thread, against a
 * peer on a plain thread of its own, so that the thread measured (main's, on either engine: the thread
 * engine runs main on the owner thread itself) makes every park of the connection and nothing else: no
 * switch to another context (a switch's own objects, which the JIT removes, remain when interpreted; and
 * on the thread engine the JDK's wake of a virtual thread allocates its scheduler's task).
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class ParkedReadsAndWritesAllocateNothingTest {

    /** What one run of a connection's calls allocated on the thread, and how many times its main parked. */
    private record Run(long allocated, long parks) {
    }

    /**
     * Main writes one byte and reads into room for two, 10,000 times, against a peer that echoes each
     * byte: each read is short, so the next one waits for readiness before it asks the socket (and
     * parks), whether the echo has come yet or not: 10,000 parks a run, not one of them allocating.
     */
    @Test
    void aReadThatParksAgainAndAgainAllocatesNothingPerPark() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection server = listener.accept()) {
            CompletableFuture<Long> echoed = new CompletableFuture<>();
            Thread.ofPlatform().name("echo-peer").start(() -> {
                ByteBuffer b = ByteBuffer.allocate(1);
                long n = 0;
                try {
                    while (peer.read(b.clear()) > 0) { // blocking, until the server closes
                        peer.write(b.flip());
                        n++;
                    }
                    echoed.complete(n);
                } catch (Throwable e) {
                    echoed.completeExceptionally(e);
                }
            });
            int rounds = 10_000;
            ByteBuffer buf = ByteBuffer.allocate(2);
            Run least = leastOfThreeRuns(() -> {
                for (int i = 0; i < rounds; i++) {
                    buf.clear().put((byte) i).flip();
                    server.write(buf);
                    int n = server.read(buf.clear());
                    if (n != 1 || buf.get(0) != (byte) i) {
                        throw new AssertionError("round " + i + " read " + n + " bytes: " + buf.get(0));
                    }
                }
            });
            server.close();
            assertThat(Coroutine.await(echoed)).as("the peer echoed every byte").isEqualTo(4L * rounds);
            assertThat(least.parks()).as("every read after the first parked").isGreaterThanOrEqualTo(rounds - 1);
            assertThat(least.allocated()).as("bytes allocated by %d reads that parked", least.parks())
                    .isLessThan(least.parks());
        }
    }

    /**
     * Main writes 64 KiB 64 times to a peer whose socket buffers are small (8 KiB asked), which a plain
     * thread drains: each write parks on the full buffer, once or more, not one of its parks allocating.
     * (A write of at most 128 KiB of a heap buffer: a larger one hands the socket a slice of it per call.)
     */
    @Test
    void aWriteThatParksAgainAndAgainAllocatesNothingPerPark() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open()) {
            peer.setOption(StandardSocketOptions.SO_RCVBUF, 8192);
            peer.connect(listener.localAddress());
            try (TcpConnection server = listener.accept()) {
                server.setOption(StandardSocketOptions.SO_SNDBUF, 8192);
                CompletableFuture<Long> drained = new CompletableFuture<>();
                Thread.ofPlatform().name("drainer").start(() -> {
                    ByteBuffer b = ByteBuffer.allocate(4096); // small reads: slower than the writes, which park
                    long total = 0;
                    try {
                        for (int n; (n = peer.read(b.clear())) >= 0; ) { // blocking, until the server closes
                            total += n;
                        }
                        drained.complete(total);
                    } catch (Throwable e) {
                        drained.completeExceptionally(e);
                    }
                });
                ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
                Run least = leastOfThreeRuns(() -> {
                    for (int i = 0; i < 64; i++) {
                        server.write(chunk.clear());
                    }
                });
                server.close();
                assertThat(Coroutine.await(drained)).as("every byte reached the peer").isEqualTo(4L * 64 * 64 * 1024);
                assertThat(least.parks()).as("the writes parked on the full buffer").isPositive();
                assertThat(least.allocated()).as("bytes allocated by writes that parked %d times", least.parks())
                        .isLessThan(least.parks());
            }
        }
    }

    /** How a connection's calls are made, for one run. */
    private interface Calls {
        void run() throws IOException;
    }

    /**
     * The run that allocated least per park of 3 runs of {@code calls} (of those that parked), after one to warm up (a class loaded, a
     * method compiled, the JDK's temporary buffer made): a one-off allocation does not count, one per
     * park in every run does. The parks are the thread's scheduling points meanwhile: main's, alone.
     */
    private static Run leastOfThreeRuns(Calls calls) throws IOException {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        calls.run();
        Run least = null;
        java.util.List<Run> runs = new java.util.ArrayList<>();
        for (int run = 0; run < 3; run++) {
            long points = schedulingPoints();
            long before = threads.getCurrentThreadAllocatedBytes();
            calls.run();
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            Run r = new Run(allocated, schedulingPoints() - points);
            runs.add(r);
            if (r.parks() > 0 && (least == null || r.allocated() * least.parks() < least.allocated() * r.parks())) {
                least = r; // the fewest bytes per park
            }
        }
        assertThat(least).as("a run that parked, of %s", runs).isNotNull();
        return least;
    }

    /** The scheduling points the calling thread's scheduler has passed, as the JMX view counts them. */
    private static long schedulingPoints() {
        long id = Thread.currentThread().threadId();
        for (SchedulerInfo s : CoroutinesManagement.mxBean().getSchedulers()) {
            if (s.threadId() == id) {
                return s.schedulingPoints();
            }
        }
        throw new AssertionError("the thread has no scheduler");
    }
}
