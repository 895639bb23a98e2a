package dev.coro.bench;

import dev.coro.Coroutine;
import java.util.concurrent.TimeUnit;
import jdk.internal.vm.Continuation;
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
 * Question 2: what does a round trip from main into a coroutine and back cost, against the raw
 * continuation's {@code run()} + {@code yield()}?
 *
 * <p><b>One op</b> = one round trip. {@code coroSwitchToAndYield}: main calls {@code c.switchTo()},
 * the coroutine calls {@code Coroutine.yield()}, which returns to main (the previous index).
 * {@code rawRunAndYield}: main calls {@code run()} on a raw continuation whose body calls
 * {@code Continuation.yield(scope)}.
 *
 * <p>Run: {@code benchmarks/run.sh jmh RoundTripBenchmark}. Target: coro ≤ 1.10 × raw, 0 B/op.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = Jvm.EXPORTS)
public class RoundTripBenchmark {

    /** One coroutine that yields forever, created by the JMH thread. */
    @State(Scope.Thread)
    public static class Coro {
        Coroutine c;

        /** Creates the coroutine; it does not run yet. */
        @Setup
        public void setUp() {
            c = Coroutine.create("yielder", () -> {
                while (true) {
                    Coroutine.yield();
                }
            });
        }

        /** Unwinds the coroutine. */
        @TearDown
        public void tearDown() {
            c.close();
        }
    }

    /** One raw continuation that yields forever. */
    @State(Scope.Thread)
    public static class Raw {
        Continuation c;

        /** Creates the continuation; it does not run yet. */
        @Setup
        public void setUp() {
            c = new Continuation(RawPingPong.SCOPE, () -> {
                while (true) {
                    Continuation.yield(RawPingPong.SCOPE);
                }
            });
        }
    }

    /**
     * Main switches in, the coroutine yields back.
     *
     * @param s the coroutine
     */
    @Benchmark
    public void coroSwitchToAndYield(Coro s) {
        s.c.switchTo();
    }

    /**
     * Main runs the continuation, it yields back.
     *
     * @param s the continuation
     */
    @Benchmark
    public void rawRunAndYield(Raw s) {
        s.c.run();
    }
}
