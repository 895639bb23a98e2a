package dev.coro.bench;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.bench.kotlin.KotlinChannels;
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
 * Question 10: what does handing one value through a rendezvous channel to a context of the same
 * thread cost, coro's {@code Channel} of capacity 0 against kotlinx.coroutines' rendezvous
 * {@code Channel} and a {@code SynchronousQueue} between virtual threads on one carrier?
 *
 * <p><b>One op</b> = one message: a {@code send} met by a {@code receive} (the sender or the receiver
 * parks, the other context runs).
 * <ul>
 *   <li>{@code coroChannelPingPong}: main sends a value to an echo coroutine over one channel of
 *       capacity 0 and receives it back over another: 2 messages per round trip,
 *       {@value Pairs#TRANSFERS} per invocation;</li>
 *   <li>{@code kotlinChannelPingPong}: the same in {@code runBlocking} (its body and one launched echo
 *       coroutine, one thread); one {@code runBlocking} of {@value #KOTLIN_MESSAGES} messages per
 *       invocation, its start and end amortised;</li>
 *   <li>{@code vtSynchronousQueueParallelism1}: two virtual threads hand a token to each other through
 *       {@code SynchronousQueue}s, with {@code -Djdk.virtualThreadScheduler.parallelism=1} (one carrier),
 *       {@value Pairs#TRANSFERS} per invocation (the default-scheduler variant, which may cross
 *       threads, is in {@link CrossThreadChannelBenchmark}).</li>
 * </ul>
 *
 * <p>Run: {@code benchmarks/run.sh jmh ChannelBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = Jvm.EXPORTS)
public class ChannelBenchmark {

    /** Messages per Kotlin invocation. */
    static final int KOTLIN_MESSAGES = 10_000;

    /** Main and an echo coroutine with two rendezvous channels, made on the benchmark thread. */
    @State(Scope.Thread)
    public static class Coro {
        CoroChannelPingPong pair;

        /** Makes the channels and the echo coroutine. */
        @Setup
        public void setUp() {
            pair = new CoroChannelPingPong(Pairs.TRANSFERS);
        }

        /** Unwinds the echo coroutine. */
        @TearDown
        public void tearDown() {
            pair.close();
        }
    }

    /** Main and an echo coroutine ping-pong through coro channels of capacity 0. */
    static final class CoroChannelPingPong implements AutoCloseable {
        private final int roundTrips;
        private final Channel<Integer> ping = new Channel<>("ping", 0);
        private final Channel<Integer> pong = new Channel<>("pong", 0);
        private final Coroutine echo;

        /**
         * Makes the channels and the echo coroutine; nothing runs yet.
         *
         * @param messages messages per {@link #run()}; even
         */
        CoroChannelPingPong(int messages) {
            this.roundTrips = messages / 2;
            echo = Coroutine.create("echo", () -> {
                while (true) {
                    pong.send(ping.receive());
                }
            });
        }

        /** Main sends and receives back {@code messages / 2} values; returns their sum. */
        long run() {
            long sum = 0;
            for (int i = 0; i < roundTrips; i++) {
                ping.send(i);
                sum += pong.receive();
            }
            return sum;
        }

        /** Unwinds the echo coroutine, parked in {@code receive}. */
        @Override
        public void close() {
            echo.close();
        }
    }

    /**
     * coro: main and an echo coroutine through two channels of capacity 0.
     *
     * @param s the channels and the echo coroutine
     * @return the sum received back
     */
    @Benchmark
    @OperationsPerInvocation(Pairs.TRANSFERS)
    public long coroChannelPingPong(Coro s) {
        return s.pair.run();
    }

    /**
     * kotlinx: {@code runBlocking}'s body and an echo coroutine through two rendezvous channels.
     *
     * @return the sum received back
     */
    @Benchmark
    @OperationsPerInvocation(KOTLIN_MESSAGES)
    public long kotlinChannelPingPong() {
        return KotlinChannels.pingPong(KOTLIN_MESSAGES / 2);
    }

    /**
     * Virtual threads on one carrier, {@code SynchronousQueue}s.
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
}
