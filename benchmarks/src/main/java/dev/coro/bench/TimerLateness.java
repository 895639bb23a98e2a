package dev.coro.bench;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.CoroutinePool;
import dev.coro.bench.net.LatencyHistogram;
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Question 15, the real clock: how late does a sleeping coroutine wake when many sleep at once?
 * N coroutines (100,000 by default) each sleep S times (10) for pseudo-random durations of 1 to
 * 100 ms from a fixed seed, on the real clock, and each wake's lateness (the time it runs again minus
 * its deadline, both by {@link Coroutine#nanoTime()}) goes into a {@link LatencyHistogram}.
 *
 * <p>A plain program, not JMH: one round takes about as long as the longest coroutine's sleeps
 * (about 0.5 to 0.8 s at the defaults) plus the time to create the coroutines, or longer if the
 * thread cannot keep up; it runs R rounds (3 by default) in one JVM, all but the last warming up the
 * JIT (a method recompiled while 100,000 coroutines are suspended in its old code deoptimizes each of
 * them as it resumes, so the first rounds measure the JIT), and prints one line per round: p50, p90,
 * p99, p99.9 and max lateness, the wall time, the process CPU time over it (JIT and GC threads
 * included) and the main thread's (on the continuation engine, every coroutine runs there: the event
 * loop's own work; on the thread engine they run on virtual threads instead), and the same percentiles
 * over the wakes from each coroutine's second sleep on. Those leave out the start: every coroutine is
 * created at once and runs in the run list's order, so the first sleeps' timers fall due while the
 * rest are still being started, and the woken wait for that sweep to reach them; the later sleeps
 * show whether the loop keeps up once everything runs. The last round is the figure; target: p99 ≤ 5 ms.
 *
 * <p>Arguments: {@code [coroutines] [sleeps] [rounds] [json file]}; the engine is the library's
 * ({@code -Dcoro.engine=threads} for the thread engine). With {@code -Dlateness.pool=K} the coroutines
 * run on a {@code CoroutinePool} of K threads instead of main's (K bodies submitted, each creating its
 * share of the coroutines on its thread, each thread's lateness recorded apart and added at the end):
 * every thread its own event loop, as a program that uses more than one core would run them; the
 * "main thread CPU" column is then the pool threads' CPU, added. With a file, the last round is appended to it as
 * one JSON line (the full run's {@code lateness.jsonl}, read by the report). Run:
 * {@code benchmarks/run.sh lateness} (both engines).
 */
public final class TimerLateness {

    /** The seed of the durations. */
    static final long SEED = 42;
    /** The target p99 lateness, in ms. */
    static final double TARGET_P99_MS = 5;

    private static final Duration[] MILLIS = new Duration[101];

    static {
        for (int i = 0; i < MILLIS.length; i++) {
            MILLIS[i] = Duration.ofMillis(i);
        }
    }

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private TimerLateness() {
    }

    /** One round's figures. */
    record Round(int coroutines, int sleeps, LatencyHistogram lateness, LatencyHistogram later, double wallMs,
                 double cpuMs, double mainCpuMs, long[] collections, double bytesPerWake) {
        String line(String engine, int round) {
            return String.format(Locale.ROOT,
                    "%s round %d: %,d coroutines x %d sleeps: lateness p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, "
                            + "p99.9 %.3f ms, max %.3f ms, mean %.3f ms; wall %.0f ms, process CPU %.0f ms (%.0f%% of a core), "
                            + "main thread CPU %.0f ms, %d collections (%d ms), %.0f B allocated per wake; from the second sleep on: "
                            + "p50 %.3f ms, p99 %.3f ms, max %.3f ms",
                    engine, round, coroutines, sleeps, ms(lateness.percentile(50)), ms(lateness.percentile(90)),
                    ms(lateness.percentile(99)), ms(lateness.percentile(99.9)), ms(lateness.max()), lateness.mean() / 1e6,
                    wallMs, cpuMs, 100 * cpuMs / wallMs, mainCpuMs, collections[0], collections[1], bytesPerWake,
                    ms(later.percentile(50)),
                    ms(later.percentile(99)),
                    ms(later.max()));
        }

        String json(String engine) {
            return String.format(Locale.ROOT,
                    "{\"engine\": \"%s\", \"coroutines\": %d, \"sleeps\": %d, \"p50Ms\": %.4f, \"p90Ms\": %.4f, "
                            + "\"p99Ms\": %.4f, \"p999Ms\": %.4f, \"maxMs\": %.4f, \"meanMs\": %.4f, \"wallMs\": %.1f, \"cpuMs\": %.1f, "
                            + "\"mainCpuMs\": %.1f}",
                    engine, coroutines, sleeps, ms(lateness.percentile(50)), ms(lateness.percentile(90)),
                    ms(lateness.percentile(99)), ms(lateness.percentile(99.9)), ms(lateness.max()), lateness.mean() / 1e6,
                    wallMs, cpuMs, mainCpuMs);
        }
    }

    /**
     * Runs the rounds and prints them; appends the last as a JSON line if a file is given.
     *
     * @param args {@code [coroutines] [sleeps] [rounds] [json file]}
     * @throws IOException if the JSON cannot be written
     */
    public static void main(String[] args) throws IOException {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        int sleeps = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        int pool = Integer.getInteger("lateness.pool", 0);
        String engine = System.getProperty("coro.engine", "continuation") // the default engine, given the exports flag
                + (pool > 0 ? ", pool of " + pool : "");
        Round last = null;
        for (int r = 1; r <= rounds; r++) {
            last = pool > 0 ? poolRound(n, sleeps, pool) : round(n, sleeps);
            System.out.println(last.line(engine, r) + (r < rounds ? " (warm-up)" : ""));
        }
        double p99 = ms(last.lateness().percentile(99));
        System.out.printf(Locale.ROOT, "%s: p99 lateness %.3f ms, target <= %.0f ms: %s%n", engine, p99, TARGET_P99_MS,
                p99 <= TARGET_P99_MS ? "met" : "missed");
        if (args.length > 3) {
            Files.writeString(Path.of(args[3]), last.json(engine) + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
    }

    /**
     * One round: {@code n} coroutines, each sleeping {@code sleeps} times 1 to 100 ms; main waits for the last.
     *
     * @param n      coroutines
     * @param sleeps sleeps of each
     * @return the lateness of every wake, and the round's wall and CPU time
     */
    static Round round(int n, int sleeps) {
        int[] delays = new SplittableRandom(SEED).ints((long) n * sleeps, 1, 101).toArray();
        LatencyHistogram lateness = new LatencyHistogram();
        LatencyHistogram later = new LatencyHistogram();
        long[] gc0 = collections();
        long bytes0 = allocatedBytes();
        long cpu0 = processCpuNanos();
        long t0 = System.nanoTime();
        long mainCpu = share(delays, 0, n, sleeps, lateness, later)[0];
        double wallMs = (System.nanoTime() - t0) / 1e6;
        double cpuMs = (processCpuNanos() - cpu0) / 1e6;
        double mainCpuMs = mainCpu / 1e6;
        return new Round(n, sleeps, lateness, later, wallMs, cpuMs, mainCpuMs, collectionsSince(gc0),
                (allocatedBytes() - bytes0) / ((double) n * sleeps));
    }

    /**
     * One round on a pool of {@code threads}: each thread creates {@code n / threads} of the coroutines
     * (the first ones one more, for a remainder) and waits for them; the same durations as
     * {@link #round}, coroutine {@code c} sleeping its own slice of the table.
     *
     * @param n       coroutines in all
     * @param sleeps  sleeps of each
     * @param threads pool threads
     * @return the lateness of every wake, the wall time, and the process's and the pool threads' CPU time
     */
    static Round poolRound(int n, int sleeps, int threads) {
        int[] delays = new SplittableRandom(SEED).ints((long) n * sleeps, 1, 101).toArray();
        LatencyHistogram lateness = new LatencyHistogram();
        LatencyHistogram later = new LatencyHistogram();
        long loopCpu = 0;
        long[] gc0 = collections();
        long bytes0 = allocatedBytes();
        long cpu0 = processCpuNanos();
        long t0 = System.nanoTime();
        try (CoroutinePool p = CoroutinePool.start(threads)) {
            List<CompletableFuture<long[]>> shares = new ArrayList<>();
            List<LatencyHistogram> histograms = new ArrayList<>();
            List<LatencyHistogram> laterHistograms = new ArrayList<>();
            int from = 0;
            for (int t = 0; t < threads; t++) {
                int count = n / threads + (t < n % threads ? 1 : 0);
                int first = from;
                LatencyHistogram h = new LatencyHistogram();
                LatencyHistogram hLater = new LatencyHistogram();
                histograms.add(h);
                laterHistograms.add(hLater);
                shares.add(p.submit(() -> share(delays, first, count, sleeps, h, hLater)));
                from += count;
            }
            for (CompletableFuture<long[]> f : shares) {
                loopCpu += f.join()[0];
            }
            histograms.forEach(lateness::add);
            laterHistograms.forEach(later::add);
        }
        double wallMs = (System.nanoTime() - t0) / 1e6;
        double cpuMs = (processCpuNanos() - cpu0) / 1e6;
        return new Round(n, sleeps, lateness, later, wallMs, cpuMs, loopCpu / 1e6, collectionsSince(gc0),
                (allocatedBytes() - bytes0) / ((double) n * sleeps));
    }

    /**
     * Coroutines {@code first} to {@code first + count - 1}, made on the calling thread (main, or a pool
     * thread's share); returns once the last has ended.
     *
     * @return this thread's CPU time over the share, in ns (one element)
     */
    private static long[] share(int[] delays, int first, int count, int sleeps, LatencyHistogram lateness,
                                LatencyHistogram later) {
        long cpu0 = THREADS.getCurrentThreadCpuTime();
        Channel<Boolean> done = new Channel<>("done", 0);
        int[] ended = {0};
        for (int c = first; c < first + count; c++) {
            int base = c * sleeps;
            Coroutine.create("sleeper " + c, () -> {
                for (int k = 0; k < sleeps; k++) {
                    int d = delays[base + k];
                    long deadline = Coroutine.nanoTime() + d * 1_000_000L;
                    Coroutine.sleep(MILLIS[d]);
                    long late = Coroutine.nanoTime() - deadline;
                    lateness.record(late);
                    if (k > 0) {
                        later.record(late);
                    }
                }
                if (++ended[0] == count) {
                    done.send(Boolean.TRUE);
                }
            });
        }
        done.receive();
        return new long[] {THREADS.getCurrentThreadCpuTime() - cpu0};
    }

    /**
     * The collections so far and the time they took, summed over the JVM's collectors: a pause of the
     * thread that runs the coroutines is lateness for every timer due during it.
     *
     * @return {@code {count, milliseconds}}
     */
    public static long[] collections() {
        long count = 0;
        long millis = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            count += Math.max(0, gc.getCollectionCount());
            millis += Math.max(0, gc.getCollectionTime());
        }
        return new long[] {count, millis};
    }

    /**
     * The bytes every platform thread of the JVM has allocated so far (the coroutines' stack chunks among them,
     * on the continuation engine), or 0 where the JVM cannot tell.
     *
     * @return bytes allocated since the JVM started
     */
    public static long allocatedBytes() {
        if (THREADS instanceof com.sun.management.ThreadMXBean t && t.isThreadAllocatedMemorySupported()) {
            return Math.max(0, t.getTotalThreadAllocatedBytes());
        }
        return 0;
    }

    /** The collections since {@code before} (of {@link #collections()}), and their time. */
    public static long[] collectionsSince(long[] before) {
        long[] now = collections();
        return new long[] {now[0] - before[0], now[1] - before[1]};
    }

    private static long processCpuNanos() {
        return ManagementFactory.getPlatformMXBean(com.sun.management.OperatingSystemMXBean.class).getProcessCpuTime();
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }
}
