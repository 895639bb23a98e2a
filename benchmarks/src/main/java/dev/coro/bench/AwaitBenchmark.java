package dev.coro.bench;

import dev.coro.Coroutine;
import dev.coro.CoroutinePool;
import java.util.concurrent.CompletableFuture;
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
 * Question 15: what does {@code Coroutine.await} of a future cost, when the future is already
 * complete and when another thread completes it?
 *
 * <p>Already complete, <b>one op</b> = one call on a future completed at setup:
 * <ul>
 *   <li>{@code coroAwaitCompleted}: {@code Coroutine.await(f)} (no switch: it returns the value at once);</li>
 *   <li>{@code joinCompleted}: {@code f.join()}, the floor.</li>
 * </ul>
 * Completed by another thread, <b>one op</b> = one wait for a future that the other side completes:
 * two contexts on two threads take turns, A completes {@code b[i]} and waits for {@code a[i]}, B waits
 * for {@code b[i]} and completes {@code a[i]} (fresh futures, {@value #ROUNDS} rounds, so
 * {@value #CROSS_OPS} waits per invocation, each woken from the other thread):
 * <ul>
 *   <li>{@code coroAwaitCrossThread}: two coroutines submitted to a {@code CoroutinePool} of 2 threads
 *       (one on each), {@code Coroutine.await};</li>
 *   <li>{@code vtJoinCrossThread}: two virtual threads (default scheduler), {@code join()};</li>
 *   <li>{@code platformJoinCrossThread}: two platform threads, {@code join()}.</li>
 * </ul>
 *
 * <p>Run: {@code benchmarks/run.sh jmh AwaitBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = Jvm.EXPORTS)
public class AwaitBenchmark {

    /** Rounds per cross-thread invocation. */
    public static final int ROUNDS = 1000;
    /** Waits per cross-thread invocation: each round, one on each side. */
    public static final int CROSS_OPS = 2 * ROUNDS;

    /** A future completed at setup. */
    @State(Scope.Thread)
    public static class Completed {
        CompletableFuture<Long> future;

        /** Completes the future. */
        @Setup
        public void setUp() {
            future = CompletableFuture.completedFuture(42L);
        }
    }

    /** The pool of the cross-thread coro side, started once per trial. */
    @State(Scope.Benchmark)
    public static class Pool {
        CoroutinePool pool;

        /** Starts the pool. */
        @Setup
        public void setUp() {
            pool = CoroutinePool.start(2);
        }

        /** Closes the pool. */
        @TearDown
        public void tearDown() {
            pool.close();
        }
    }

    /**
     * coro: {@code Coroutine.await} of a completed future.
     *
     * @param s the future
     * @return its value
     */
    @Benchmark
    public long coroAwaitCompleted(Completed s) {
        return Coroutine.await(s.future);
    }

    /**
     * {@code join()} of a completed future.
     *
     * @param s the future
     * @return its value
     */
    @Benchmark
    public long joinCompleted(Completed s) {
        return s.future.join();
    }

    /**
     * coro: two pool coroutines on two threads, each awaiting futures the other completes.
     *
     * @param p the pool
     * @return the sum of the values awaited
     */
    @Benchmark
    @OperationsPerInvocation(CROSS_OPS)
    public long coroAwaitCrossThread(Pool p) {
        return coroAwaitCrossThread(p.pool, ROUNDS);
    }

    /**
     * Two virtual threads, each joining futures the other completes.
     *
     * @return the sum of the values joined
     * @throws InterruptedException never in practice
     */
    @Benchmark
    @OperationsPerInvocation(CROSS_OPS)
    public long vtJoinCrossThread() throws InterruptedException {
        return threadsJoinCrossThread(Thread.ofVirtual(), ROUNDS);
    }

    /**
     * Two platform threads, each joining futures the other completes.
     *
     * @return the sum of the values joined
     * @throws InterruptedException never in practice
     */
    @Benchmark
    @OperationsPerInvocation(CROSS_OPS)
    public long platformJoinCrossThread() throws InterruptedException {
        return threadsJoinCrossThread(Thread.ofPlatform(), ROUNDS);
    }

    /**
     * Two coroutines of {@code pool} (on two threads when the pool has two free) take {@code rounds}
     * turns: A completes {@code b[i]} with {@code i} and awaits {@code a[i]}; B awaits {@code b[i]} and
     * completes {@code a[i]} with what it got.
     *
     * @param pool   the pool to run on
     * @param rounds the turns
     * @return the sum of every value awaited, on both sides: {@code rounds * (rounds - 1)}
     */
    public static long coroAwaitCrossThread(CoroutinePool pool, int rounds) {
        Futures f = new Futures(rounds);
        CompletableFuture<Long> b = pool.submit(() -> {
            long sum = 0;
            for (int i = 0; i < rounds; i++) {
                long v = Coroutine.await(f.b[i]);
                sum += v;
                f.a[i].complete(v);
            }
            return sum;
        });
        CompletableFuture<Long> a = pool.submit(() -> {
            long sum = 0;
            for (int i = 0; i < rounds; i++) {
                f.b[i].complete((long) i);
                sum += Coroutine.await(f.a[i]);
            }
            return sum;
        });
        return a.join() + b.join();
    }

    /**
     * The same turns as {@link #coroAwaitCrossThread} between two threads of {@code threads}, with {@code join()}.
     *
     * @param threads how to make the two threads
     * @param rounds  the turns
     * @return the sum of every value joined, on both sides
     * @throws InterruptedException if interrupted while waiting for the threads
     */
    public static long threadsJoinCrossThread(Thread.Builder threads, int rounds) throws InterruptedException {
        Futures f = new Futures(rounds);
        long[] sums = new long[2];
        Thread b = threads.start(() -> {
            long sum = 0;
            for (int i = 0; i < rounds; i++) {
                long v = f.b[i].join();
                sum += v;
                f.a[i].complete(v);
            }
            sums[1] = sum;
        });
        Thread a = threads.start(() -> {
            long sum = 0;
            for (int i = 0; i < rounds; i++) {
                f.b[i].complete((long) i);
                sum += f.a[i].join();
            }
            sums[0] = sum;
        });
        a.join();
        b.join();
        return sums[0] + sums[1];
    }

    /** Fresh futures for one invocation's turns. */
    private static final class Futures {
        final CompletableFuture<Long>[] a;
        final CompletableFuture<Long>[] b;

        @SuppressWarnings("unchecked")
        Futures(int rounds) {
            a = new CompletableFuture[rounds];
            b = new CompletableFuture[rounds];
            for (int i = 0; i < rounds; i++) {
                a[i] = new CompletableFuture<>();
                b[i] = new CompletableFuture<>();
            }
        }
    }
}
