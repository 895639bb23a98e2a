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
 * Question 5: how much faster is a coroutine switch than handing control between threads?
 *
 * <p><b>One op</b> = one one-way transfer of control from A to B (or B to A), the same work as
 * {@link SwitchBenchmark}: {@code coroSwitchTo} (two coroutines), {@code vtParkUnpark} (two virtual
 * threads, a volatile turn flag, {@code LockSupport.park/unpark}), {@code vtSynchronousQueue} (two
 * virtual threads, one {@code SynchronousQueue} rendezvous per transfer), each with the default
 * virtual-thread scheduler and, in a fork of its own, with {@code -Djdk.virtualThreadScheduler.parallelism=1}
 * (one carrier: the handoff never crosses cores), and {@code platformParkUnpark} (two platform threads).
 * Each invocation makes {@value Pairs#TRANSFERS} transfers plus an entry from the JMH thread and an exit to it.
 *
 * <p>Run: {@code benchmarks/run.sh jmh ThreadHandoffBenchmark}. Targets: coroSwitchTo ≥ 1.5 × faster
 * than the best virtual-thread handoff, ≥ 30 × faster than platformParkUnpark.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = Jvm.EXPORTS)
public class ThreadHandoffBenchmark {

    /**
     * Coroutines A and B switch to each other.
     *
     * @param s the coroutines
     */
    @Benchmark
    @OperationsPerInvocation(Pairs.TRANSFERS)
    public void coroSwitchTo(Pairs.Coro s) {
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
     * Virtual threads, SynchronousQueue, default scheduler.
     *
     * @param s the threads
     * @throws InterruptedException never in practice
     */
    @Benchmark
    @OperationsPerInvocation(Pairs.TRANSFERS)
    public void vtSynchronousQueue(Pairs.VirtualQueue s) throws InterruptedException {
        s.pair.run();
    }

    /**
     * Virtual threads, SynchronousQueue, one carrier thread.
     *
     * @param s the threads
     * @throws InterruptedException never in practice
     */
    @Benchmark
    @OperationsPerInvocation(Pairs.TRANSFERS)
    @Fork(value = 2, jvmArgsAppend = {Jvm.EXPORTS, Jvm.ONE_CARRIER})
    public void vtSynchronousQueueParallelism1(Pairs.VirtualQueue s) throws InterruptedException {
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
