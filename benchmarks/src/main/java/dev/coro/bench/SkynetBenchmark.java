package dev.coro.bench.rivals;

import dev.coro.bench.Jvm;
import dev.coro.bench.kotlin.KotlinSkynet;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Question 13 (rival side only, awaiting coro's side): skynet, how long do 1,111,111 lightweight
 * tasks take to be made, run and summed?
 *
 * <p><b>One op</b> = one whole skynet: a 10-ary tree whose {@value #LEAVES} leaves each return their
 * number (0 to 999,999); every inner node starts its 10 children, receives their sums through a
 * channel of capacity 10 (so no child waits to send) and sends the total to its parent; the root's sum
 * is 499,999,500,000. Reported in milliseconds.
 * <ul>
 *   <li>{@code kotlinDefaultDispatcher}: every node a coroutine in {@code runBlocking(Dispatchers.Default)},
 *       a kotlinx {@code Channel(10)} per inner node;</li>
 *   <li>{@code virtualThreads}: every node a virtual thread (default scheduler), an
 *       {@code ArrayBlockingQueue(10)} per inner node.</li>
 * </ul>
 * The coro side, when it exists, is to be {@code coroSkynet}.
 *
 * <p>Run: {@code benchmarks/run.sh jmh SkynetBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {Jvm.EXPORTS, "-Xmx2g"})
public class SkynetBenchmark {

    /** Leaves of the tree. */
    public static final long LEAVES = 1_000_000;
    /** Children per inner node. */
    public static final int DIV = 10;

    /**
     * kotlinx: one coroutine per node on {@code Dispatchers.Default}.
     *
     * @return the root's sum
     */
    @Benchmark
    public long kotlinDefaultDispatcher() {
        return KotlinSkynet.run(LEAVES, DIV);
    }

    /**
     * One virtual thread per node, bounded queues.
     *
     * @return the root's sum
     * @throws InterruptedException never in practice
     */
    @Benchmark
    public long virtualThreads() throws InterruptedException {
        return virtualThreadSkynet(LEAVES, DIV);
    }

    /**
     * Skynet with a virtual thread per node.
     *
     * @param leaves the leaves, a power of {@code div}
     * @param div    children per inner node
     * @return the root's sum
     * @throws InterruptedException if interrupted while waiting for the root
     */
    public static long virtualThreadSkynet(long leaves, int div) throws InterruptedException {
        BlockingQueue<Long> root = new ArrayBlockingQueue<>(1);
        Thread.ofVirtual().start(() -> node(root, 0, leaves, div));
        return root.take();
    }

    private static void node(BlockingQueue<Long> parent, long num, long size, int div) {
        try {
            if (size == 1) {
                parent.put(num);
                return;
            }
            BlockingQueue<Long> sums = new ArrayBlockingQueue<>(div);
            long child = size / div;
            for (int i = 0; i < div; i++) {
                long first = num + i * child;
                Thread.ofVirtual().start(() -> node(sums, first, child, div));
            }
            long sum = 0;
            for (int i = 0; i < div; i++) {
                sum += sums.take();
            }
            parent.put(sum);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
