package dev.coro.bench;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.CoroutinePool;
import dev.coro.Select;
import dev.coro.bench.kotlin.KotlinChannels;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
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
 * Question 14: what does handing one value through a rendezvous channel cost when the two sides run
 * (or may run) on different threads?
 *
 * <p><b>One op</b> = one message, a {@code send} met by a {@code receive}.
 * <ul>
 *   <li>{@code coroCrossThreadPingPong}: a {@code CoroutinePool} of 2 threads (started once per trial);
 *       a submitted pinger makes two coro channels of capacity 0 (its thread owns them) and submits an
 *       echo, which the pool places on the other thread; the pinger sends a value and receives it
 *       back, the echo receives and sends it back: every message crosses threads (the channels are
 *       shared after the echo's first operation: each side operates on them in place and wakes the
 *       other through its event loop); {@value #MESSAGES} messages per
 *       invocation (the two submissions amortised);</li>
 *   <li>{@code kotlinDefaultDispatcherPingPong}: {@code runBlocking(Dispatchers.Default)}, its body and an
 *       echo coroutine on the default dispatcher's worker threads, two rendezvous channels;
 *       {@value #MESSAGES} messages per invocation (start and end amortised);</li>
 *   <li>{@code kotlinThreadPerSidePingPong}: the same ping-pong with each coroutine confined to a
 *       single-thread dispatcher of its own (kotlinx's way to keep a coroutine on a thread), so that
 *       every message crosses threads as coro's do; {@value #MESSAGES} messages per invocation;</li>
 *   <li>{@code vtSynchronousQueue}: two virtual threads (default scheduler) hand a token to each other
 *       through {@code SynchronousQueue}s, {@value Pairs#TRANSFERS} per invocation (its one-carrier
 *       variant is in {@code ChannelBenchmark}).</li>
 * </ul>
 * <p>Run: {@code benchmarks/run.sh jmh CrossThreadChannelBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = Jvm.EXPORTS)
public class CrossThreadChannelBenchmark {

    /** Messages per coro and Kotlin invocation. */
    public static final int MESSAGES = 10_000;
    /** Threads of the coro side's pool. */
    public static final int THREADS = 2;

    /** The coro side's pool, started once per trial. */
    @State(Scope.Benchmark)
    public static class Pool {
        CoroutinePool pool;

        /** Starts the pool. */
        @Setup
        public void setUp() {
            pool = CoroutinePool.start(THREADS);
        }

        /** Closes the pool (every ping-pong has ended by then). */
        @TearDown
        public void tearDown() {
            pool.close();
        }
    }

    /**
     * coro: a pinger and an echo coroutine on the two threads of a pool, rendezvous channels.
     *
     * @param p the pool
     * @return the sum received back
     */
    @Benchmark
    @OperationsPerInvocation(MESSAGES)
    public long coroCrossThreadPingPong(Pool p) {
        return coroPingPong(p.pool, MESSAGES / 2);
    }

    /**
     * On {@code pool}: a submitted pinger makes the channels {@code ping} and {@code pong} of capacity 0
     * on its thread and submits an echo (on another thread, if the pool has one free), then sends
     * {@code 0 .. roundTrips - 1} through {@code ping}, each received back through {@code pong}.
     *
     * @param pool       the pool to run on
     * @param roundTrips values sent and received back: {@code 2 * roundTrips} messages
     * @return the sum of the values received back
     */
    public static long coroPingPong(CoroutinePool pool, int roundTrips) {
        return coroPingPong(pool, roundTrips, false);
    }

    /** {@link #coroPingPong}, the echo receiving through {@code ping.receive()}, or a select over {@code ping} and {@code quiet}. */
    private static long coroPingPong(CoroutinePool pool, int roundTrips, boolean select) {
        return pool.submit(() -> {
            Channel<Integer> ping = new Channel<>("ping", 0);
            Channel<Integer> pong = new Channel<>("pong", 0);
            Channel<Integer> quiet = select ? new Channel<>("quiet", 0) : null;
            CompletableFuture<Void> echo = pool.submit(() -> {
                Supplier<Integer> next = select
                        ? new Select<Integer>().onReceive(ping, v -> v).onReceive(quiet, v -> v)::select
                        : ping::receive;
                for (int i = 0; i < roundTrips; i++) {
                    pong.send(next.get());
                }
                return null;
            });
            long sum = 0;
            for (int i = 0; i < roundTrips; i++) {
                ping.send(i);
                sum += pong.receive();
            }
            Coroutine.await(echo);
            return sum;
        }).join();
    }

    /**
     * {@link #coroPingPong} whose echo receives each value through one {@link Select} over the
     * pinger's channels {@code ping} and {@code quiet} (a second one nobody sends to), made once and
     * run for every value: a select over another thread's channels, each message crossing threads.
     *
     * @param pool       the pool to run on
     * @param roundTrips values sent and received back: {@code 2 * roundTrips} messages
     * @return the sum of the values received back
     */
    public static long coroSelectPingPong(CoroutinePool pool, int roundTrips) {
        return coroPingPong(pool, roundTrips, true);
    }

    /**
     * kotlinx: two coroutines on {@code Dispatchers.Default}, rendezvous channels.
     *
     * @return the sum received back
     */
    @Benchmark
    @OperationsPerInvocation(MESSAGES)
    public long kotlinDefaultDispatcherPingPong() {
        return KotlinChannels.pingPongDefaultDispatcher(MESSAGES / 2);
    }

    /** The kotlinx side with a thread per coroutine: two single-thread dispatchers, started once per trial. */
    @State(Scope.Benchmark)
    public static class KotlinThreads {
        KotlinChannels.TwoThreads threads;

        /** Starts the two threads. */
        @Setup
        public void setUp() {
            threads = new KotlinChannels.TwoThreads();
        }

        /** Stops them. */
        @TearDown
        public void tearDown() {
            threads.close();
        }
    }

    /**
     * kotlinx: two coroutines, each on a single-thread dispatcher of its own, rendezvous channels.
     *
     * @param k the two threads
     * @return the sum received back
     */
    @Benchmark
    @OperationsPerInvocation(MESSAGES)
    public long kotlinThreadPerSidePingPong(KotlinThreads k) {
        return k.threads.pingPong(MESSAGES / 2);
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
