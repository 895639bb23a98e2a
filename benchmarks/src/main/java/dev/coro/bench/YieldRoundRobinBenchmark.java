package dev.coro.bench;

import dev.coro.Coroutine;
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
 * Question 3: does the cost of a yield stay flat as the number of coroutines grows?
 *
 * <p><b>One op</b> = one yield. N coroutines (N = 2, 1,000, 100,000) each loop on
 * {@code Coroutine.yield()}; one invocation is main's {@code yield()}, which runs the last created,
 * then each runs the previous index down to main: N + 1 yields, all counted. The {@code raw*}
 * baselines do the same with N raw continuations run one after another by a loop on main
 * (N yields per invocation): they show what the JDK itself pays when the stacks no longer fit in cache.
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

    /** Two raw continuations. */
    @State(Scope.Thread)
    public static class RawRing2 extends RawRing {
        /** Creates the ring. */
        @Setup
        public void setUp() {
            create(2);
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
     * One round of 2 raw continuations.
     *
     * @param s the ring
     */
    @Benchmark
    @OperationsPerInvocation(2)
    public void rawYieldN2(RawRing2 s) {
        s.runAll();
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
}
