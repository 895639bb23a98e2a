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
 * Questions 1 and 5: what does one transfer of control from A to B cost with a coroutine switch, on
 * either engine, against the raw JDK continuation and against handing control between threads?
 *
 * <p><b>One op</b> = one one-way transfer from A to B (or B to A); each mechanism is measured once, here:
 * <ul>
 *   <li>{@code coroSwitchTo}: two coroutines call {@code other.switchTo()} in turn (continuation engine);</li>
 *   <li>{@code rawTrampoline}: two raw {@code jdk.internal.vm.Continuation}s, each names the other and
 *       yields to a trampoline loop on main's stack that runs the named one (the floor the library is built on);</li>
 *   <li>{@code coroSwitchToThreadEngine}, {@code coroSwitchToThreadEngineParallelism1}: the same two
 *       coroutines in forks started with {@code -Dcoro.engine=threads} (each coroutine on a virtual thread
 *       of its own, strict handoff), with the default virtual-thread scheduler and with one carrier
 *       ({@code -Djdk.virtualThreadScheduler.parallelism=1}); a JVM without that engine ignores the
 *       property and measures the continuation engine;</li>
 *   <li>{@code vtParkUnpark}, {@code vtParkUnparkParallelism1}: two virtual threads, a volatile turn flag,
 *       {@code LockSupport.park/unpark}, default scheduler and one carrier (what the thread engine is
 *       built from, compared like with like);</li>
 *   <li>{@code platformParkUnpark}: two platform threads, the same.</li>
 * </ul>
 * Each invocation makes {@value Pairs#TRANSFERS} transfers plus one entry from the JMH thread and one
 * exit to it, amortised. The handoff through a {@code SynchronousQueue} is a channel, measured with the
 * channels: {@link ChannelBenchmark} (one carrier) and {@link CrossThreadChannelBenchmark}.
 *
 * <p>Run: {@code benchmarks/run.sh jmh SwitchBenchmark} (or {@code java -jar benchmarks/target/benchmarks.jar
 * SwitchBenchmark -prof gc} with JDK 25). Targets: coroSwitchTo ≤ 1.10 × rawTrampoline, 0 B/op;
 * ≥ 1.5 × faster than the best virtual-thread handoff and ≥ 30 × faster than platformParkUnpark;
 * the better thread-engine variant ≤ 1.25 × the park/unpark baseline under the same scheduler.
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

    /**
     * Platform threads, park/unpark with a turn flag.
     *
     * @param s the threads
     */
    @Benchmark
    @OperationsPerInvocation(Pairs.TRANSFERS)
    public void platformParkUnpark(Pairs.PlatformPark s) {
        s.pair.run();
    }
}
