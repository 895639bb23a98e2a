package dev.coro.bench.probe;

import dev.coro.bench.net.LatencyHistogram;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;
import jdk.internal.vm.Continuation;
import jdk.internal.vm.ContinuationScope;

/**
 * The floor under the timer-lateness question: the workload of {@code TimerLateness} (N coroutines each
 * sleeping S times a pseudo-random 1 to 100 ms from the same seed, on the real clock) run on bare JDK
 * continuations by the leanest event loop this probe could write, with none of the library's code: a
 * timing wheel of the library's tick (65.536 µs; one array of continuations per slot, O(1) to add and
 * to take), a run queue that is a ring of continuations, and {@code LockSupport.parkNanos} until the
 * next slot when nothing is due. No wait is cancelled, nothing is named, counted or checked.
 *
 * <p>The lateness of a wake is measured as the library's benchmark measures it (the time the body runs
 * again minus its deadline, both by {@code System.nanoTime()}), and the line printed has the same
 * columns, so that the two can be set side by side: what the bare continuations cannot do, no
 * scheduler built on them can. With a fourth argument K &gt; 1 the coroutines are split over K
 * platform threads, each with its own loop (as {@code -Dlateness.pool=K} splits them over a pool).
 *
 * <p>Arguments: {@code [coroutines] [sleeps] [rounds] [threads]} (100,000, 10, 4, 1). Run:
 * {@code benchmarks/run.sh probe RawLateness 100000 10 4}, alternating with
 * {@code benchmarks/run.sh lateness}'s single run of {@code TimerLateness 100000 10 4} in separate
 * JVMs, so that load from other processes falls on both.
 */
public final class RawLateness {

    private static final ContinuationScope SCOPE = new ContinuationScope("raw-lateness");
    /** The library's real-clock tick: 2^16 ns. */
    private static final int TICK_SHIFT = 16;
    /**
     * Slots of the wheel: 2^13 ticks, about 537 ms, more than the longest sleep plus the longest sweep of
     * the run queue (the wheel is taken in after each sweep, so a slot must not come round meanwhile).
     */
    private static final int WHEEL = 1 << 13;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private RawLateness() {
    }

    /**
     * Prints one line per round; the last is the figure.
     *
     * @param args {@code [coroutines] [sleeps] [rounds] [threads]}
     * @throws InterruptedException if interrupted while joining the loop threads
     */
    public static void main(String[] args) throws InterruptedException {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        int sleeps = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 4;
        int threads = args.length > 3 ? Integer.parseInt(args[3]) : 1;
        for (int r = 1; r <= rounds; r++) {
            int[] delays = new SplittableRandom(42).ints((long) n * sleeps, 1, 101).toArray();
            List<Loop> loops = new ArrayList<>();
            int from = 0;
            for (int t = 0; t < threads; t++) {
                int count = n / threads + (t < n % threads ? 1 : 0);
                loops.add(new Loop(delays, from, count, sleeps));
                from += count;
            }
            long[] gc0 = dev.coro.bench.TimerLateness.collections();
            long bytes0 = dev.coro.bench.TimerLateness.allocatedBytes();
            long t0 = System.nanoTime();
            if (threads == 1) {
                loops.get(0).run();
            } else {
                List<Thread> started = new ArrayList<>();
                for (Loop l : loops) {
                    started.add(Thread.ofPlatform().start(l));
                }
                for (Thread t : started) {
                    t.join();
                }
            }
            double wallMs = (System.nanoTime() - t0) / 1e6;
            long[] gc = dev.coro.bench.TimerLateness.collectionsSince(gc0);
            double bytesPerWake = (dev.coro.bench.TimerLateness.allocatedBytes() - bytes0) / ((double) n * sleeps);
            LatencyHistogram all = new LatencyHistogram();
            LatencyHistogram later = new LatencyHistogram();
            long cpu = 0;
            for (Loop l : loops) {
                all.add(l.lateness);
                later.add(l.later);
                cpu += l.cpuNanos;
            }
            System.out.printf(Locale.ROOT, "raw continuations, %d thread(s), round %d: %,d coroutines x %d sleeps: "
                            + "lateness p50 %.3f ms, p99 %.3f ms, max %.3f ms; wall %.0f ms, loop CPU %.0f ms, %d collections "
                            + "(%d ms), %.0f B allocated per wake; from the second sleep on: p50 %.3f ms, p99 %.3f ms, max %.3f ms%s%n",
                    threads, r, n, sleeps, ms(all.percentile(50)), ms(all.percentile(99)), ms(all.max()), wallMs,
                    cpu / 1e6, gc[0], gc[1], bytesPerWake, ms(later.percentile(50)), ms(later.percentile(99)), ms(later.max()),
                    r < rounds ? " (warm-up)" : "");
        }
    }

    /** One thread's share: its coroutines, its wheel, its run queue, its histograms. */
    private static final class Loop implements Runnable {
        final int[] delays;
        final int first;
        final int count;
        final int sleeps;
        final LatencyHistogram lateness = new LatencyHistogram();
        final LatencyHistogram later = new LatencyHistogram();
        long cpuNanos;

        /** The wheel: slot {@code tick & (WHEEL - 1)} holds the continuations due at that tick. */
        final Continuation[][] slots = new Continuation[WHEEL][];
        final int[] slotSizes = new int[WHEEL];
        /** The run queue: a ring from {@link #head} (inclusive) to {@link #tail} (exclusive), never full. */
        Continuation[] ring = new Continuation[1 << 10];
        int head;
        int tail;
        /** The continuation running now, for its body to file itself under its deadline. */
        Continuation running;

        Loop(int[] delays, int first, int count, int sleeps) {
            this.delays = delays;
            this.first = first;
            this.count = count;
            this.sleeps = sleeps;
        }

        @Override
        public void run() {
            long cpu0 = THREADS.getCurrentThreadCpuTime();
            for (int c = first; c < first + count; c++) {
                int base = c * sleeps;
                enqueue(new Continuation(SCOPE, () -> body(base)));
            }
            int live = count;
            long nextTick = System.nanoTime() >>> TICK_SHIFT; // the first tick not yet taken in
            int pending = 0; // continuations in the wheel
            while (live > 0) {
                while (head != tail) {
                    Continuation c = ring[head];
                    ring[head] = null;
                    head = (head + 1) & (ring.length - 1);
                    running = c;
                    c.run();
                    if (c.isDone()) {
                        live--;
                    } else {
                        pending++;
                    }
                }
                if (live == 0) {
                    break;
                }
                long nowTick = System.nanoTime() >>> TICK_SHIFT;
                if (nextTick > nowTick) { // nothing due: wait for the next tick that holds something
                    long t = nextTick;
                    while (slotSizes[(int) (t & (WHEEL - 1))] == 0) {
                        t++;
                    }
                    LockSupport.parkNanos((t << TICK_SHIFT) - System.nanoTime());
                    continue;
                }
                for (; nextTick <= nowTick && pending > 0; nextTick++) {
                    int s = (int) (nextTick & (WHEEL - 1));
                    int size = slotSizes[s];
                    Continuation[] due = slots[s];
                    for (int i = 0; i < size; i++) {
                        enqueue(due[i]);
                        due[i] = null;
                    }
                    slotSizes[s] = 0;
                    pending -= size;
                }
                if (pending == 0) {
                    nextTick = nowTick + 1;
                }
            }
            cpuNanos = THREADS.getCurrentThreadCpuTime() - cpu0;
        }

        private void body(int base) {
            for (int k = 0; k < sleeps; k++) {
                long deadline = System.nanoTime() + delays[base + k] * 1_000_000L;
                file(running, (deadline + (1L << TICK_SHIFT) - 1) >>> TICK_SHIFT); // rounded up, as the library does
                Continuation.yield(SCOPE);
                long late = System.nanoTime() - deadline;
                lateness.record(late);
                if (k > 0) {
                    later.record(late);
                }
            }
        }

        private void file(Continuation c, long tick) {
            int s = (int) (tick & (WHEEL - 1));
            Continuation[] a = slots[s];
            int size = slotSizes[s];
            if (a == null) {
                a = slots[s] = new Continuation[64];
            } else if (size == a.length) {
                a = slots[s] = java.util.Arrays.copyOf(a, size * 2);
            }
            a[size] = c;
            slotSizes[s] = size + 1;
        }

        private void enqueue(Continuation c) {
            ring[tail] = c;
            tail = (tail + 1) & (ring.length - 1);
            if (tail == head) { // full: double, unrolling the ring
                Continuation[] bigger = new Continuation[ring.length * 2];
                int n = ring.length - head;
                System.arraycopy(ring, head, bigger, 0, n);
                System.arraycopy(ring, 0, bigger, n, head);
                head = 0;
                tail = ring.length;
                ring = bigger;
            }
        }
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }
}
