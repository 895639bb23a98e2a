package dev.coro.bench;

import dev.coro.Coroutine;
import dev.coro.bench.kotlin.KotlinYield;
import java.util.concurrent.TimeUnit;
import jdk.internal.vm.Continuation;
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
 * Question 3: what does a {@code yield()} cost, does it stay flat as the number of coroutines grows,
 * and how does it compare with kotlinx.coroutines' {@code yield()}?
 *
 * <p><b>One op</b> = one yield. N coroutines (N = 1, 2, 1,000, 100,000) each loop on
 * {@code Coroutine.yield()}; one invocation is main's {@code yield()}, which runs the last created,
 * then each runs the previous index down to main: N + 1 yields, all counted (N = 1 is the ping-pong
 * of main and one coroutine). {@code rawYieldN100000} does the same with 100,000 raw continuations
 * run one after another by a loop on main (100,000 yields, each with its {@code run()}, per
 * invocation): it shows what the JDK itself pays when the stacks no longer fit in cache; its
 * small-N counterpart is {@link RoundTripBenchmark#rawRunAndYield} (the same {@code run()} + yield,
 * measured once there).
 *
 * <p>The kotlinx rivals run the same rings on one thread: {@code kotlinYieldN1} is
 * {@code runBlocking} whose body and one launched coroutine call {@code yield()} in turn (two
 * contexts, like main and one coroutine), {@code kotlinYieldN2} the body and two launched ones (three
 * contexts, like {@code coroYieldN2}); one invocation is one {@code runBlocking} of
 * {@value #KOTLIN_ROUNDS} rounds, its start and end amortised over the yields.
 *
 * <p>Run: {@code benchmarks/run.sh jmh YieldRoundRobinBenchmark}.
 * Target: coroYieldN100000 ≤ 1.5 × coroYieldN2, 0 B/op.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {Jvm.EXPORTS, "-Xmx2g"})
public class YieldRoundRobinBenchmark {

    /** Yields of each Kotlin coroutine per invocation. */
    static final int KOTLIN_ROUNDS = 5000;

    /** A ring of N coroutines that yield forever. */
    abstract static class Ring {
        private Coroutine[] ring;

        void create(int n) {
            ring = new Coroutine[n];
            for (int i = 0; i < n; i++) {
                ring[i] = Coroutine.create(() -> {
                    while (true) {
                        Coroutine.yield();
                    }
                });
            }
        }

        void closeAll() {
            for (Coroutine c : ring) {
                c.close();
            }
        }
    }

    /** One coroutine. */
    @State(Scope.Thread)
    public static class Ring1 extends Ring {
        /** Creates the ring. */
        @Setup
        public void setUp() {
            create(1);
        }

        /** Unwinds the ring. */
        @TearDown
        public void tearDown() {
            closeAll();
        }
    }

    /** Two coroutines. */
    @State(Scope.Thread)
    public static class Ring2 extends Ring {
        /** Creates the ring. */
        @Setup
        public void setUp() {
            create(2);
        }

        /** Unwinds the ring. */
        @TearDown
        public void tearDown() {
            closeAll();
        }
    }

    /** A thousand coroutines. */
    @State(Scope.Thread)
    public static class Ring1000 extends Ring {
        /** Creates the ring. */
        @Setup
        public void setUp() {
            create(1000);
        }

        /** Unwinds the ring. */
        @TearDown
        public void tearDown() {
            closeAll();
        }
    }

    /** A hundred thousand coroutines. */
    @State(Scope.Thread)
    public static class Ring100000 extends Ring {
        /** Creates the ring. */
        @Setup
        public void setUp() {
            create(100_000);
        }

        /** Unwinds the ring. */
        @TearDown
        public void tearDown() {
            closeAll();
        }
    }

    /** A ring of N raw continuations that yield forever. */
    abstract static class RawRing {
        Continuation[] ring;

        void create(int n) {
            ring = new Continuation[n];
            for (int i = 0; i < n; i++) {
                ring[i] = new Continuation(RawPingPong.SCOPE, () -> {
                    while (true) {
                        Continuation.yield(RawPingPong.SCOPE);
                    }
                });
            }
        }

        void runAll() {
            for (Continuation c : ring) {
                c.run();
            }
        }
    }

    /** A hundred thousand raw continuations. */
    @State(Scope.Thread)
    public static class RawRing100000 extends RawRing {
        /** Creates the ring. */
        @Setup
        public void setUp() {
            create(100_000);
        }
    }

    /**
     * One round of 1 coroutine plus main: the yield ping-pong.
     *
     * @param s the ring
     */
    @Benchmark
    @OperationsPerInvocation(2)
    public void coroYieldN1(Ring1 s) {
        Coroutine.yield();
    }

    /**
     * One round of 2 coroutines plus main.
     *
     * @param s the ring
     */
    @Benchmark
    @OperationsPerInvocation(3)
    public void coroYieldN2(Ring2 s) {
        Coroutine.yield();
    }

    /**
     * One round of 1,000 coroutines plus main.
     *
     * @param s the ring
     */
    @Benchmark
    @OperationsPerInvocation(1001)
    public void coroYieldN1000(Ring1000 s) {
        Coroutine.yield();
    }

    /**
     * One round of 100,000 coroutines plus main.
     *
     * @param s the ring
     */
    @Benchmark
    @OperationsPerInvocation(100_001)
    public void coroYieldN100000(Ring100000 s) {
        Coroutine.yield();
    }

    /**
     * One round of 100,000 raw continuations.
     *
     * @param s the ring
     */
    @Benchmark
    @OperationsPerInvocation(100_000)
    public void rawYieldN100000(RawRing100000 s) {
        s.runAll();
    }

    /**
     * kotlinx: {@code runBlocking}'s body and one launched coroutine yield in turn.
     *
     * @return the yields made, for the blackhole
     */
    @Benchmark
    @OperationsPerInvocation(2 * KOTLIN_ROUNDS)
    public long kotlinYieldN1() {
        return KotlinYield.rounds(1, KOTLIN_ROUNDS);
    }

    /**
     * kotlinx: {@code runBlocking}'s body and two launched coroutines yield in turn.
     *
     * @return the yields made, for the blackhole
     */
    @Benchmark
    @OperationsPerInvocation(3 * KOTLIN_ROUNDS)
    public long kotlinYieldN2() {
        return KotlinYield.rounds(2, KOTLIN_ROUNDS);
    }
}
