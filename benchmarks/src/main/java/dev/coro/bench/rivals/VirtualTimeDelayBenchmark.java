package dev.coro.bench.rivals;

import dev.coro.bench.Jvm;
import dev.coro.bench.kotlin.KotlinDelay;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Question 11 (rival side only, awaiting coro's virtual-time sleep): what does one sleep cost in
 * virtual time, where the scheduler jumps the clock instead of waiting?
 *
 * <p><b>One op</b> = one delay: {@value #COROUTINES} coroutines each sleep {@value #DELAYS_EACH} times,
 * for pseudo-random durations of 1 to 100 ms from a fixed seed ({@link #delays()}, the same table for
 * every side), and the clock is virtual: {@value #TOTAL} ops per invocation, the scheduler's start and
 * end amortised. {@code kotlinRunTestDelay}: {@code delay()} under kotlinx-coroutines-test's
 * {@code runTest}. The coro side, when it exists, is to be {@code coroVirtualTimeSleep}, over the same table.
 *
 * <p>Run: {@code benchmarks/run.sh jmh VirtualTimeDelayBenchmark}.
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

    /** The durations table. */
    @State(Scope.Benchmark)
    public static class Table {
        int[] delays;

        /** Draws the durations. */
        @Setup
        public void setUp() {
            delays = delays();
        }
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
