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
 * Question 5b: what does a switch cost on the thread engine ({@code -Dcoro.engine=threads}: each
 * coroutine on its own virtual thread, strict handoff), against the raw virtual-thread handoff it is
 * built from?
 *
 * <p><b>One op</b> = one one-way transfer from A to B (or B to A). {@code coroSwitchToThreadEngine}:
 * {@link SwitchBenchmark}'s two coroutines, in a fork started with {@code -Dcoro.engine=threads}
 * (a JVM without that engine ignores the property and measures the continuation engine; the report
 * says which ran). The baselines are {@link ThreadHandoffBenchmark}'s virtual-thread park/unpark, with
 * the default scheduler and with one carrier. {@value Pairs#TRANSFERS} transfers per invocation.
 *
 * Each thread-engine variant runs under the same scheduler configuration as one baseline (default, or
 * one carrier), so the ratios compare like with like.
 *
 * <p>Run: {@code benchmarks/run.sh jmh ThreadEngineBenchmark}. Target: the better thread-engine
 * variant ≤ 1.25 × the better of the two park/unpark baselines.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = Jvm.EXPORTS)
public class ThreadEngineBenchmark {

    /**
     * Coroutines A and B switch to each other, forked with {@code -Dcoro.engine=threads}.
     *
     * @param s the coroutines
     */
    @Benchmark
    @OperationsPerInvocation(Pairs.TRANSFERS)
    @Fork(value = 2, jvmArgsAppend = {Jvm.EXPORTS, Jvm.THREAD_ENGINE})
    public void coroSwitchToThreadEngine(Pairs.Coro s) {
        s.pair.run();
    }

    /**
     * Coroutines A and B switch to each other on the thread engine with one carrier thread, the
     * configuration of {@link #vtParkUnparkParallelism1}.
     *
     * @param s the coroutines
     */
    @Benchmark
    @OperationsPerInvocation(Pairs.TRANSFERS)
    @Fork(value = 2, jvmArgsAppend = {Jvm.EXPORTS, Jvm.THREAD_ENGINE, Jvm.ONE_CARRIER})
    public void coroSwitchToThreadEngineParallelism1(Pairs.Coro s) {
        s.pair.run();
    }

    /**
     * Virtual threads, park/unpark with a turn flag, default scheduler.
     *
     * @param s the threads
     */
    @Benchmark
    @OperationsPerInvocation(Pairs.TRANSFERS)
    public void vtParkUnpark(Pairs.VirtualPark s) {
        s.pair.run();
    }

    /**
     * Virtual threads, park/unpark with a turn flag, one carrier thread.
     *
     * @param s the threads
     */
    @Benchmark
    @OperationsPerInvocation(Pairs.TRANSFERS)
    @Fork(value = 2, jvmArgsAppend = {Jvm.EXPORTS, Jvm.ONE_CARRIER})
    public void vtParkUnparkParallelism1(Pairs.VirtualPark s) {
        s.pair.run();
    }
}
