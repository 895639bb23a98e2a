package dev.coro.bench.probe;

import dev.coro.Coroutine;
import dev.coro.CoroutinePool;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

/**
 * {@code Coroutine.await} of a completed future against its {@code join()} on every thread of a pool:
 * the loop of the interleaved benchmark (1,024 completed futures taken in turn), one body per pool
 * thread, each taking slices of await and of join in turn, reported per thread as the median of the
 * paired slice ratios. A thread's await skips its thread-local lookup only where the library knows
 * the thread's scheduler connected without one: the thread that holds its one-entry cache, or a pool's.
 *
 * <p>Run: {@code benchmarks/run.sh probe AwaitOnPoolThreads [threads] [slices]} (2 and 400 by default;
 * the slices after 200 unmeasured), at the normal priority: under a real-time one every thread of the
 * JVM gets it, and with each core held by a pool thread that never blocks the compiler's threads never
 * run, so the loops stay interpreted (~450 ns an op).
 */
public final class AwaitOnPoolThreads {

    private static final int OPS = 20_000;

    private AwaitOnPoolThreads() {
    }

    /**
     * Prints one line per pool thread.
     *
     * @param args optionally the pool's threads and the measured slices
     */
    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int slices = args.length > 1 ? Integer.parseInt(args[1]) : 400;
        @SuppressWarnings("unchecked")
        CompletableFuture<Long>[] done = new CompletableFuture[1024];
        for (int i = 0; i < done.length; i++) {
            done[i] = CompletableFuture.completedFuture((long) i);
        }
        try (CoroutinePool pool = CoroutinePool.start(threads)) {
            @SuppressWarnings("unchecked")
            CompletableFuture<String>[] lines = new CompletableFuture[threads];
            for (int t = 0; t < threads; t++) {
                lines[t] = pool.submit(() -> measure(done, slices));
            }
            for (CompletableFuture<String> line : lines) {
                System.out.println(line.join());
            }
        }
    }

    /** On a pool thread: the slices in turn, and the line that reports them. */
    private static String measure(CompletableFuture<Long>[] done, int slices) {
        long sink = 0;
        double[] ratios = new double[slices];
        long[] awaits = new long[slices];
        long[] joins = new long[slices];
        for (int s = -200; s < slices; s++) {
            long t0 = System.nanoTime();
            sink += awaitSlice(done);
            long t1 = System.nanoTime();
            sink += joinSlice(done);
            long t2 = System.nanoTime();
            if (s >= 0) {
                awaits[s] = t1 - t0;
                joins[s] = t2 - t1;
                ratios[s] = (double) (t1 - t0) / (t2 - t1);
            }
        }
        Arrays.sort(ratios);
        Arrays.sort(awaits);
        Arrays.sort(joins);
        return String.format(Locale.ROOT, "%-16s await %.2f ns, join %.2f ns (medians); median of the %d paired slice ratios: %.3f (%d)",
                Thread.currentThread().getName(), awaits[slices / 2] / (double) OPS, joins[slices / 2] / (double) OPS,
                slices, ratios[slices / 2], sink & 1);
    }

    private static long awaitSlice(CompletableFuture<Long>[] d) {
        long s = 0;
        for (int i = 0; i < OPS; i++) {
            s += Coroutine.await(d[i & 1023]);
        }
        return s;
    }

    private static long joinSlice(CompletableFuture<Long>[] d) {
        long s = 0;
        for (int i = 0; i < OPS; i++) {
            s += d[i & 1023].join();
        }
        return s;
    }
}
