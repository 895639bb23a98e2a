package dev.coro.bench;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.CoroutinePool;
import dev.coro.bench.kotlin.KotlinSkynet;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Question 13: skynet, how long do 1,111,111 lightweight tasks take to be made, run and summed?
 *
 * <p><b>One op</b> = one whole skynet: a 10-ary tree whose {@value #LEAVES} leaves each return their
 * number (0 to 999,999); every inner node starts its 10 children, receives their sums through a
 * channel of capacity 10 (so no child waits to send) and sends the total to its parent; the root's sum
 * is 499,999,500,000. Reported in milliseconds.
 * <ul>
 *   <li>{@code coroSkynet}: every node a coroutine on a {@code CoroutinePool} of 2 threads (started once
 *       per trial): the root is a submitted body that submits the 10 subtrees under it (the pool spreads
 *       them over both threads, 5 each) and sums them with {@code Coroutine.await}; below that, every
 *       node makes each child with {@code Coroutine.create} on its own thread and {@code switchTo}s it at
 *       once (the child runs its whole subtree and ends, control comes back), then receives the ten sums
 *       from its coro {@code Channel} of capacity 10: each subtree is walked depth first, so only a path
 *       of it is alive at a time;</li>
 *   <li>{@code coroSkynetScheduled}: the same, except that a node creates its 10 children and goes
 *       straight to {@code receive}, leaving the order to the scheduler, which walks the tree breadth
 *       first (the previous runnable entry runs next): every node of a subtree exists before the first
 *       leaf runs;</li>
 *   <li>{@code kotlinDefaultDispatcher}: every node a coroutine in {@code runBlocking(Dispatchers.Default)},
 *       a kotlinx {@code Channel(10)} per inner node;</li>
 *   <li>{@code kotlinDefaultDispatcherUndispatched}: the same shaped as {@code coroSkynet}: the root and
 *       the 10 subtrees launched as usual, every node below {@code CoroutineStart.UNDISPATCHED} (it runs
 *       at once in its parent's thread), so each subtree is walked depth first;</li>
 *   <li>{@code virtualThreads}: every node a virtual thread (default scheduler), an
 *       {@code ArrayBlockingQueue(10)} per inner node.</li>
 * </ul>
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
    /** Threads of the coro side's pool. */
    public static final int THREADS = 2;

    /** The coro side's pool, started once per trial. */
    @State(Scope.Benchmark)
    public static class Pool {
        CoroutinePool pool;

        /** Starts the pool. */
        @Setup
        public void setUp() {
            pool = CoroutinePool.start(THREADS);
        }

        /** Closes the pool (every skynet has ended by then). */
        @TearDown
        public void tearDown() {
            pool.close();
        }
    }

    /**
     * coro: one coroutine per node on a pool of {@value #THREADS} threads.
     *
     * @param p the pool
     * @return the root's sum
     */
    @Benchmark
    public long coroSkynet(Pool p) {
        return coroSkynet(p.pool, LEAVES, DIV, true);
    }

    /**
     * coro: the same, the order left to the scheduler (breadth first).
     *
     * @param p the pool
     * @return the root's sum
     */
    @Benchmark
    public long coroSkynetScheduled(Pool p) {
        return coroSkynet(p.pool, LEAVES, DIV, false);
    }

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
     * kotlinx: one coroutine per node on {@code Dispatchers.Default}, below the 10 subtrees undispatched.
     *
     * @return the root's sum
     */
    @Benchmark
    public long kotlinDefaultDispatcherUndispatched() {
        return KotlinSkynet.runUndispatched(LEAVES, DIV);
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
     * Skynet with a coroutine per node on {@code pool}: the root, a submitted body, submits its
     * {@code div} subtrees (the pool places them on its threads) and awaits their sums; inside a
     * subtree every node creates its children on its own thread.
     *
     * @param pool       the pool to run on
     * @param leaves     the leaves, a power of {@code div} greater than 1
     * @param div        children per inner node
     * @param depthFirst whether a node switches to each child as soon as it is created; otherwise the
     *                   scheduler runs them when the node waits for their sums
     * @return the root's sum
     */
    public static long coroSkynet(CoroutinePool pool, long leaves, int div, boolean depthFirst) {
        return pool.submit(() -> {
            long child = leaves / div;
            @SuppressWarnings("unchecked")
            CompletableFuture<Long>[] subtrees = new CompletableFuture[div];
            for (int i = 0; i < div; i++) {
                long first = i * child;
                subtrees[i] = pool.submit(() -> child == 1 ? first : coroNode(first, child, div, depthFirst));
            }
            long sum = 0;
            for (CompletableFuture<Long> s : subtrees) {
                sum += Coroutine.await(s);
            }
            return sum;
        }).join();
    }

    /**
     * An inner node, in the calling coroutine: creates its {@code div} children as coroutines of this
     * thread (switching to each at once if {@code depthFirst}), each sending its sum into a channel of
     * capacity {@code div}, and receives their sums.
     */
    private static long coroNode(long num, long size, int div, boolean depthFirst) {
        Channel<Long> sums = new Channel<>(div);
        long child = size / div;
        for (int i = 0; i < div; i++) {
            long first = num + i * child;
            Coroutine c = child == 1
                    ? Coroutine.create(() -> sums.send(first))
                    : Coroutine.create(() -> sums.send(coroNode(first, child, div, depthFirst)));
            if (depthFirst) {
                c.switchTo();
            }
        }
        long sum = 0;
        for (int i = 0; i < div; i++) {
            sum += sums.receive();
        }
        return sum;
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
