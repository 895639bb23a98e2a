package dev.coro.bench;

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
 * Question 1: what does one symmetric switch cost, against the raw JDK continuation doing the same work?
 *
 * <p><b>One op</b> = one one-way transfer from coroutine A to coroutine B (or B to A).
 * {@code coroSwitchTo}: A and B call {@code other.switchTo()} in turn. {@code rawTrampoline}: two raw
 * {@code jdk.internal.vm.Continuation}s, each names the other and yields to a trampoline loop on
 * main's stack that runs the named one (the floor the library is built on). Each invocation makes
 * {@value #TRANSFERS} transfers plus one entry from main and one exit to it, amortised.
 *
 * <p>Run: {@code benchmarks/run.sh jmh SwitchBenchmark} (or {@code java -jar benchmarks/target/benchmarks.jar
 * SwitchBenchmark -prof gc} with JDK 25). Target: coroSwitchTo ≤ 1.10 × rawTrampoline, 0 B/op.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = Jvm.EXPORTS)
public class SwitchBenchmark {

    /** One-way transfers per invocation. */
    static final int TRANSFERS = 1000;

    /** Coroutines A and B of the calling JMH thread. */
    @State(Scope.Thread)
    public static class Coro {
        CoroPingPong pair;

        /** Creates A and B on the benchmark thread. */
        @Setup
        public void setUp() {
            pair = new CoroPingPong(TRANSFERS);
        }

        /** Unwinds A and B. */
        @TearDown
        public void tearDown() {
            pair.close();
        }
    }

    /** Raw continuations A and B. */
    @State(Scope.Thread)
    public static class Raw {
        RawPingPong pair;

        /** Creates A and B. */
        @Setup
        public void setUp() {
            pair = new RawPingPong(TRANSFERS);
        }
    }

    /**
     * A and B switch to each other with {@code switchTo}.
     *
     * @param s the coroutines
     */
    @Benchmark
    @OperationsPerInvocation(TRANSFERS)
    public void coroSwitchTo(Coro s) {
        s.pair.run();
    }

    /**
     * Raw continuations A and B through a trampoline: a yield and a {@code run()} per transfer.
     *
     * @param s the continuations
     */
    @Benchmark
    @OperationsPerInvocation(TRANSFERS)
    public void rawTrampoline(Raw s) {
        s.pair.run();
    }
}
