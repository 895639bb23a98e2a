package dev.coro.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Question 1: what does one symmetric switch cost, against the raw JDK continuation doing the same work?
 *
 * <p><b>One op</b> = one one-way transfer from coroutine A to coroutine B (or B to A).
 * {@code coroSwitchTo}: A and B call {@code other.switchTo()} in turn. {@code rawTrampoline}: two raw
 * {@code jdk.internal.vm.Continuation}s, each names the other and yields to a trampoline loop on
 * main's stack that runs the named one (the floor the library is built on). Each invocation makes
 * {@value Pairs#TRANSFERS} transfers plus one entry from main and one exit to it, amortised.
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

    /**
     * A and B switch to each other with {@code switchTo}.
     *
     * @param s the coroutines
     */
    @Benchmark
    @OperationsPerInvocation(Pairs.TRANSFERS)
    public void coroSwitchTo(Pairs.Coro s) {
        s.pair.run();
    }

    /**
     * Raw continuations A and B through a trampoline: a yield and a {@code run()} per transfer.
     *
     * @param s the continuations
     */
    @Benchmark
    @OperationsPerInvocation(Pairs.TRANSFERS)
    public void rawTrampoline(Pairs.Raw s) {
        s.pair.run();
    }
}
