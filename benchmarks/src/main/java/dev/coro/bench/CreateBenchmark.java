package dev.coro.bench;

import dev.coro.Coroutine;
import java.util.concurrent.TimeUnit;
import jdk.internal.vm.Continuation;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
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
 * Question 4: what does it cost to create a coroutine and run it, to its end or to its first yield?
 *
 * <p><b>One op</b> = one coroutine created and run. {@code coroCreateRunToCompletion}:
 * {@code Coroutine.create(emptyBody).switchTo()}; the body returns and main resumes.
 * {@code coroCreateRunToFirstYield}: the body suspends once, switching back to main (a plain
 * {@code yield()} would run the previous index, i.e. the coroutine started before it); each
 * invocation creates and starts {@value #BATCH} of them, and a per-invocation tear-down (not timed)
 * lets them all finish with one {@code yield()} from main. The {@code raw*} baselines do
 * the same with {@code new Continuation(scope, body).run()}.
 *
 * <p>Run: {@code benchmarks/run.sh jmh CreateBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = Jvm.EXPORTS)
public class CreateBenchmark {

    /** Coroutines started per invocation of the first-yield benchmarks. */
    static final int BATCH = 256;

    private static final Runnable EMPTY = () -> { };
    private static final Runnable RAW_YIELD_ONCE = () -> Continuation.yield(RawPingPong.SCOPE);

    /** Coroutines suspended at their first yield, finished after each invocation. */
    @State(Scope.Thread)
    public static class Started {
        Runnable suspendOnce;

        /** Makes the body that switches back to this thread's main once. */
        @Setup
        public void setUp() {
            Coroutine main = Coroutine.current();
            suspendOnce = main::switchTo;
        }

        /** Lets every started coroutine return: main's yield runs the last, each removal runs the one before. */
        @TearDown(Level.Invocation)
        public void finishAll() {
            Coroutine.yield();
        }
    }

    /** Raw continuations suspended at their first yield, finished after each invocation. */
    @State(Scope.Thread)
    public static class RawStarted {
        final Continuation[] batch = new Continuation[BATCH];

        /** Runs every started continuation to its end. */
        @TearDown(Level.Invocation)
        public void finishAll() {
            for (Continuation c : batch) {
                c.run();
            }
        }
    }

    /**
     * Creates a coroutine with an empty body and runs it to its end.
     *
     * @return the finished coroutine
     */
    @Benchmark
    public Coroutine coroCreateRunToCompletion() {
        Coroutine c = Coroutine.create(EMPTY);
        c.switchTo();
        return c;
    }

    /**
     * Creates {@value #BATCH} coroutines and runs each to its first yield.
     *
     * @param s where they are finished after the invocation
     * @return the last coroutine
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public Coroutine coroCreateRunToFirstYield(Started s) {
        Coroutine c = null;
        for (int i = 0; i < BATCH; i++) {
            c = Coroutine.create(s.suspendOnce);
            c.switchTo();
        }
        return c;
    }

    /**
     * Creates a raw continuation with an empty body and runs it to its end.
     *
     * @return the finished continuation
     */
    @Benchmark
    public Continuation rawCreateRunToCompletion() {
        Continuation c = new Continuation(RawPingPong.SCOPE, EMPTY);
        c.run();
        return c;
    }

    /**
     * Creates {@value #BATCH} raw continuations and runs each to its first yield.
     *
     * @param s where they are finished after the invocation
     * @return the last continuation
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public Continuation rawCreateRunToFirstYield(RawStarted s) {
        Continuation[] batch = s.batch;
        Continuation c = null;
        for (int i = 0; i < BATCH; i++) {
            c = new Continuation(RawPingPong.SCOPE, RAW_YIELD_ONCE);
            c.run();
            batch[i] = c;
        }
        return c;
    }
}
