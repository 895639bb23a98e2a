package dev.coro.bench;

import dev.coro.Generator;
import dev.coro.bench.kotlin.KotlinSequences;
import java.util.Iterator;
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
 * Question 9: what does one element of a generator cost, coro's {@code Generator} against Kotlin's
 * {@code sequence { yield(x) }}?
 *
 * <p><b>One op</b> = one element handed from the generator's body to its consumer (a resume of the
 * body up to its next emit/yield, and back).
 * <ul>
 *   <li>{@code coroGeneratorNext}, {@code kotlinSequenceNext}: {@code next()} on an endless generator
 *       of 0, 1, 2, ... made once per fork (one element per invocation);</li>
 *   <li>{@code coroGeneratorSum1000}, {@code kotlinSequenceSum1000}: a generator of {@value #SUM_N}
 *       elements made, consumed with {@code hasNext()}/{@code next()} to its end and summed; its making
 *       and ending are amortised over the {@value #SUM_N} ops of an invocation;</li>
 *   <li>{@code coroBufferedNext}, {@code coroBufferedSum1000}: the same two workloads on a read-ahead
 *       generator, {@code Generator.buffered(}{@value #BUFFER}{@code , body)}, whose body runs on for
 *       {@value #BUFFER} values per resume; one op is still one element, so a resume and a suspension
 *       are shared by {@value #BUFFER} ops (Kotlin's {@code sequence} has no such mode).</li>
 * </ul>
 *
 * <p>Both sides box the {@code long}s alike ({@code Generator<Long>}, {@code Sequence<Long>}). The
 * round trip that {@code coroGeneratorNext} is held against is {@code RoundTripBenchmark.rawRunAndYield}
 * (target: at most 1.10 times it); run them together, and {@code benchmarks/run.sh interleaved} for
 * the same ratio measured in alternating slices.
 *
 * <p>Run: {@code benchmarks/run.sh jmh GeneratorBenchmark}, or with the raw round trip beside it:
 * {@code benchmarks/run.sh jmh 'GeneratorBenchmark|RoundTripBenchmark.rawRunAndYield'}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = Jvm.EXPORTS)
public class GeneratorBenchmark {

    /** Elements per summed generator. */
    static final int SUM_N = 1000;
    /** How far the read-ahead generators run ahead: values per resume. */
    static final int BUFFER = 256;

    /** An endless coro generator of 0, 1, 2, ..., made on the benchmark thread. */
    @State(Scope.Thread)
    public static class CoroNaturals {
        Generator<Long> naturals;

        /** Makes the generator; its body has not run yet. */
        @Setup
        public void setUp() {
            naturals = Generator.of(out -> {
                for (long i = 0; ; i++) {
                    out.emit(i);
                }
            });
        }

        /** Unwinds the body. */
        @TearDown
        public void tearDown() {
            naturals.close();
        }
    }

    /** An endless read-ahead coro generator of 0, 1, 2, ..., {@value #BUFFER} values per resume. */
    @State(Scope.Thread)
    public static class CoroBufferedNaturals {
        Generator<Long> naturals;

        /** Makes the generator; its body has not run yet. */
        @Setup
        public void setUp() {
            naturals = Generator.buffered(BUFFER, out -> {
                for (long i = 0; ; i++) {
                    out.emit(i);
                }
            });
        }

        /** Drops the values read ahead and unwinds the body. */
        @TearDown
        public void tearDown() {
            naturals.close();
        }
    }

    /** An endless Kotlin sequence of 0, 1, 2, .... */
    @State(Scope.Thread)
    public static class KotlinNaturals {
        Iterator<Long> naturals;

        /** Makes the sequence's iterator; its builder has not run yet. */
        @Setup
        public void setUp() {
            naturals = KotlinSequences.naturals();
        }
    }

    /**
     * The next element of an endless coro generator.
     *
     * @param s the generator
     * @return the element
     */
    @Benchmark
    public Long coroGeneratorNext(CoroNaturals s) {
        return s.naturals.next();
    }

    /**
     * The next element of an endless read-ahead coro generator.
     *
     * @param s the generator
     * @return the element
     */
    @Benchmark
    public Long coroBufferedNext(CoroBufferedNaturals s) {
        return s.naturals.next();
    }

    /**
     * The next element of an endless Kotlin sequence.
     *
     * @param s the sequence
     * @return the element
     */
    @Benchmark
    public Long kotlinSequenceNext(KotlinNaturals s) {
        return s.naturals.next();
    }

    /**
     * A coro generator of {@value #SUM_N} elements, made, consumed and summed.
     *
     * @return the sum
     */
    @Benchmark
    @OperationsPerInvocation(SUM_N)
    public long coroGeneratorSum1000() {
        return coroSum(SUM_N);
    }

    /**
     * A read-ahead coro generator of {@value #SUM_N} elements, {@value #BUFFER} per resume, made,
     * consumed and summed.
     *
     * @return the sum
     */
    @Benchmark
    @OperationsPerInvocation(SUM_N)
    public long coroBufferedSum1000() {
        return coroBufferedSum(SUM_N);
    }

    /**
     * A Kotlin sequence of {@value #SUM_N} elements, made, consumed and summed.
     *
     * @return the sum
     */
    @Benchmark
    @OperationsPerInvocation(SUM_N)
    public long kotlinSequenceSum1000() {
        return KotlinSequences.sum(SUM_N);
    }

    /** Sums a coro generator of 0 until n, consumed element by element. */
    static long coroSum(int n) {
        long sum = 0;
        try (Generator<Long> g = Generator.of(out -> {
            for (long i = 0; i < n; i++) {
                out.emit(i);
            }
        })) {
            while (g.hasNext()) {
                sum += g.next();
            }
        }
        return sum;
    }

    /**
     * Sums a read-ahead coro generator of 0 until n ({@value #BUFFER} values per resume), consumed element by element.
     *
     * @param n how many elements
     * @return their sum
     */
    public static long coroBufferedSum(int n) {
        long sum = 0;
        try (Generator<Long> g = Generator.buffered(BUFFER, out -> {
            for (long i = 0; i < n; i++) {
                out.emit(i);
            }
        })) {
            while (g.hasNext()) {
                sum += g.next();
            }
        }
        return sum;
    }
}
