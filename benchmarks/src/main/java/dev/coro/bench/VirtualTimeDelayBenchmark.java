package dev.coro.bench;

import dev.coro.Coroutine;
import dev.coro.VirtualTime;
import dev.coro.bench.kotlin.KotlinDelay;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Question 11: what does one sleep cost in virtual time, where the scheduler jumps the clock instead of
 * waiting, against a {@code yield()} among as many coroutines and kotlinx.coroutines' {@code delay()}?
 *
 * <p><b>One op</b> = one sleep (or one yield): {@value #COROUTINES} coroutines each sleep
 * {@value #DELAYS_EACH} times, for pseudo-random durations of 1 to 100 ms from a fixed seed
 * ({@link #delays()}, the same table for every side), and the clock is virtual: {@value #TOTAL} ops
 * per invocation, the start and end of the scheduler and of the coroutines amortised.
 * <ul>
 *   <li>{@code coroVirtualTimeSleep}: {@code Coroutine.sleep} inside {@code VirtualTime.run}; the
 *       {@code Duration}s are made once, in the table, one per distinct value ({@link #durations}: a
 *       sleep's cost, not {@code Duration.ofMillis}'s nor the cache misses of a table of objects);</li>
 *   <li>{@code coroVirtualTimeYield}: the same shape with {@code Coroutine.yield()} instead of each
 *       sleep ({@value #COROUTINES} coroutines × {@value #DELAYS_EACH} yields in {@code VirtualTime.run},
 *       created and ended per invocation like the sleepers): the park and wake of a sleep against a
 *       plain switch among as many coroutines. Target: sleep ≤ 1.5× this;</li>
 *   <li>{@code coroYieldRing1000}: for reference, {@code YieldRoundRobinBenchmark.coroYieldN1000}'s
 *       ring of {@value #COROUTINES} coroutines yielding forever (nothing created per invocation), one
 *       round per invocation;</li>
 *   <li>{@code kotlinRunTestDelay}: {@code delay()} under kotlinx-coroutines-test's {@code runTest},
 *       over the same table. Target: the coro sleep faster.</li>
 * </ul>
 *
 * <p>Run: {@code benchmarks/run.sh jmh VirtualTimeDelayBenchmark} (with {@code -prof gc} for the bytes
 * per sleep).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = Jvm.EXPORTS)
public class VirtualTimeDelayBenchmark {

    /** Sleeping coroutines. */
    public static final int COROUTINES = 1000;
    /** Sleeps per coroutine. */
    public static final int DELAYS_EACH = 100;
    /** Sleeps per invocation. */
    public static final int TOTAL = COROUTINES * DELAYS_EACH;
    /** The seed of the durations. */
    public static final long SEED = 42;

    /**
     * The durations, in milliseconds: coroutine {@code c}'s {@code k}-th sleep is
     * {@code delays()[c * DELAYS_EACH + k]}, 1 to 100, from {@link #SEED}.
     *
     * @return a fresh table of {@link #TOTAL} durations
     */
    public static int[] delays() {
        return new SplittableRandom(SEED).ints(TOTAL, 1, 101).toArray();
    }

    /** The durations table, in milliseconds and as {@code Duration}s. */
    @State(Scope.Benchmark)
    public static class Table {
        int[] delays;
        Duration[] durations;

        /** Draws the durations. */
        @Setup
        public void setUp() {
            delays = delays();
            durations = durations(delays);
        }
    }

    /**
     * The table as {@code Duration}s: one {@code Duration} object per distinct value, shared by every
     * entry of that value, as a program's constants would be. Each coroutine reads its own slice of the
     * array of references, as kotlinx's side reads its slice of the {@code int} array; a hundred
     * thousand distinct objects (2.4 MB) would have a sleep measure the cache misses of reading its
     * duration, which a yield does not read at all.
     *
     * @param delays milliseconds
     * @return one {@code Duration} per entry
     */
    public static Duration[] durations(int[] delays) {
        Map<Integer, Duration> distinct = new HashMap<>();
        Duration[] d = new Duration[delays.length];
        for (int i = 0; i < delays.length; i++) {
            d[i] = distinct.computeIfAbsent(delays[i], Duration::ofMillis);
        }
        return d;
    }

    /**
     * In {@code VirtualTime.run}: {@code coroutines} coroutines, coroutine {@code c} sleeping
     * {@code durations[c * perCoroutine + k]} for {@code k} below {@code perCoroutine}.
     *
     * @param durations  the table
     * @param coroutines how many coroutines share it
     * @return the virtual time at which the last coroutine ended, in ms (the longest coroutine's total)
     */
    public static long sleepers(Duration[] durations, int coroutines) {
        int perCoroutine = durations.length / coroutines;
        long[] end = new long[1];
        VirtualTime.run(() -> {
            for (int c = 0; c < coroutines; c++) {
                int base = c * perCoroutine;
                Coroutine.create(() -> {
                    for (int k = 0; k < perCoroutine; k++) {
                        Coroutine.sleep(durations[base + k]);
                    }
                    end[0] = Math.max(end[0], Coroutine.nanoTime());
                });
            }
        });
        return end[0] / 1_000_000;
    }

    /**
     * In {@code VirtualTime.run}: {@code coroutines} coroutines that each yield {@code yieldsEach} times.
     *
     * @param coroutines how many
     * @param yieldsEach yields of each
     * @return the yields made by the coroutines
     */
    public static long yielders(int coroutines, int yieldsEach) {
        long[] yields = new long[1];
        VirtualTime.run(() -> {
            for (int c = 0; c < coroutines; c++) {
                Coroutine.create(() -> {
                    for (int k = 0; k < yieldsEach; k++) {
                        Coroutine.yield();
                    }
                    yields[0] += yieldsEach;
                });
            }
        });
        return yields[0];
    }

    /** {@value #COROUTINES} coroutines that yield forever, made on the benchmark thread. */
    @State(Scope.Thread)
    public static class Ring {
        private Coroutine[] ring;

        /** Creates the ring. */
        @Setup
        public void setUp() {
            ring = new Coroutine[COROUTINES];
            for (int i = 0; i < COROUTINES; i++) {
                ring[i] = Coroutine.create(() -> {
                    while (true) {
                        Coroutine.yield();
                    }
                });
            }
        }

        /** Unwinds the ring. */
        @TearDown
        public void tearDown() {
            for (Coroutine c : ring) {
                c.close();
            }
        }
    }

    /**
     * coro: {@value #COROUTINES} coroutines × {@value #DELAYS_EACH} {@code Coroutine.sleep}s in {@code VirtualTime.run}.
     *
     * @param t the durations
     * @return the virtual time at the end, in ms
     */
    @Benchmark
    @OperationsPerInvocation(TOTAL)
    public long coroVirtualTimeSleep(Table t) {
        return sleepers(t.durations, COROUTINES);
    }

    /**
     * coro: {@value #COROUTINES} coroutines × {@value #DELAYS_EACH} {@code Coroutine.yield()}s in {@code VirtualTime.run}.
     *
     * @return the yields made
     */
    @Benchmark
    @OperationsPerInvocation(TOTAL)
    public long coroVirtualTimeYield() {
        return yielders(COROUTINES, DELAYS_EACH);
    }

    /**
     * coro, reference: one round of a standing ring of {@value #COROUTINES} coroutines plus main.
     *
     * @param s the ring
     */
    @Benchmark
    @OperationsPerInvocation(COROUTINES + 1)
    public void coroYieldRing1000(Ring s) {
        Coroutine.yield();
    }

    /**
     * kotlinx: {@value #COROUTINES} coroutines × {@value #DELAYS_EACH} {@code delay()}s under {@code runTest}.
     *
     * @param t the durations
     * @return the virtual time at the end, in ms
     */
    @Benchmark
    @OperationsPerInvocation(TOTAL)
    public long kotlinRunTestDelay(Table t) {
        return KotlinDelay.run(t.delays, COROUTINES);
    }
}
