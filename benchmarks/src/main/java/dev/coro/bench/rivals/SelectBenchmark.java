package dev.coro.bench.rivals;

import dev.coro.bench.Jvm;
import dev.coro.bench.kotlin.KotlinSelect;
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
 * Question 12 (rival side only, awaiting coro's select): what does receiving from whichever of two
 * rendezvous channels is ready cost?
 *
 * <p><b>One op</b> = one select that receives one value. {@code kotlinSelectReceive}: in
 * {@code runBlocking} (one thread), two producer coroutines send forever, each into its own rendezvous
 * channel, and the body makes {@value #SELECTS} {@code select { a.onReceive; b.onReceive }} per
 * invocation, then cancels them (start and end amortised). The coro side, when it exists, is to be
 * {@code coroSelectReceive}: main selecting over two capacity-0 channels fed by two coroutines.
 *
 * <p>Run: {@code benchmarks/run.sh jmh SelectBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = Jvm.EXPORTS)
public class SelectBenchmark {

    /** Selects per invocation. */
    public static final int SELECTS = 10_000;

    /**
     * kotlinx: {@value #SELECTS} selects over two rendezvous channels.
     *
     * @return the sum of the values received
     */
    @Benchmark
    @OperationsPerInvocation(SELECTS)
    public long kotlinSelectReceive() {
        return KotlinSelect.receive(SELECTS);
    }
}
