package dev.coro.bench.rivals;

import dev.coro.bench.Jvm;
import dev.coro.bench.Pairs;
import dev.coro.bench.kotlin.KotlinChannels;
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
 * Question 14 (rival side only, awaiting coro's cross-thread channel): what does handing one value
 * through a rendezvous channel cost when the two sides may run on different threads?
 *
 * <p><b>One op</b> = one message, a {@code send} met by a {@code receive}.
 * <ul>
 *   <li>{@code kotlinDefaultDispatcherPingPong}: {@code runBlocking(Dispatchers.Default)}, its body and an
 *       echo coroutine on the default dispatcher's worker threads, two rendezvous channels;
 *       {@value #KOTLIN_MESSAGES} messages per invocation (start and end amortised);</li>
 *   <li>{@code vtSynchronousQueue}: two virtual threads (default scheduler) hand a token to each other
 *       through {@code SynchronousQueue}s, {@value Pairs#TRANSFERS} per invocation (its one-carrier
 *       variant is in {@code ChannelBenchmark}).</li>
 * </ul>
 * The coro side, when it exists, is to be {@code coroCrossThreadPingPong}.
 *
 * <p>Run: {@code benchmarks/run.sh jmh CrossThreadChannelBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = Jvm.EXPORTS)
public class CrossThreadChannelBenchmark {

    /** Messages per Kotlin invocation. */
    public static final int KOTLIN_MESSAGES = 10_000;

    /**
     * kotlinx: two coroutines on {@code Dispatchers.Default}, rendezvous channels.
     *
     * @return the sum received back
     */
    @Benchmark
    @OperationsPerInvocation(KOTLIN_MESSAGES)
    public long kotlinDefaultDispatcherPingPong() {
        return KotlinChannels.pingPongDefaultDispatcher(KOTLIN_MESSAGES / 2);
    }

    /**
     * Virtual threads, default scheduler, {@code SynchronousQueue}s.
     *
     * @param s the threads
     * @throws InterruptedException never in practice
     */
    @Benchmark
    @OperationsPerInvocation(Pairs.TRANSFERS)
    public void vtSynchronousQueue(Pairs.VirtualQueue s) throws InterruptedException {
        s.pair.run();
    }
}
