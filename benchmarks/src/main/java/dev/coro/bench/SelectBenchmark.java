package dev.coro.bench;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.Select;
import dev.coro.bench.kotlin.KotlinSelect;
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
 * Question 12: what does receiving from whichever of two rendezvous channels is ready cost, against a
 * plain {@code receive} and kotlinx.coroutines' {@code select}?
 *
 * <p><b>One op</b> = one value received (by a select, or by a plain receive). Two producer coroutines
 * send forever, each into its own channel of capacity 0 (1s and 2s); main receives
 * {@value #SELECTS} values per invocation.
 * <ul>
 *   <li>{@code coroSelectReceive}: main runs one {@code Select} ({@code onReceive(a)}, {@code onReceive(b)},
 *       biased), built once and run again for every value, as a loop would;</li>
 *   <li>{@code coroSelectReceiveBuiltEachTime}: the same, with a new {@code Select} built for every
 *       value, as kotlinx's {@code select { }} is;</li>
 *   <li>{@code coroReceiveAlternating}: the same producers, main calls {@code a.receive()} and
 *       {@code b.receive()} in turn: what the select adds over a plain receive, all else equal;</li>
 *   <li>{@code coroChannelPingPong}: {@code ChannelBenchmark}'s plain ping-pong (main sends to an echo
 *       coroutine and receives the value back, two channels of capacity 0; one op = one message).
 *       Target: a select ≤ 1.25× this;</li>
 *   <li>{@code kotlinSelectReceive}: in {@code runBlocking} (one thread), the same two producers and
 *       {@code select { a.onReceive; b.onReceive }}; one {@code runBlocking} per invocation, its start
 *       and end amortised. Target: the coro select faster.</li>
 * </ul>
 *
 * <p>Run: {@code benchmarks/run.sh jmh SelectBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = Jvm.EXPORTS)
public class SelectBenchmark {

    /** Values received per invocation. */
    public static final int SELECTS = 10_000;

    /** Two producers sending 1s and 2s forever into two channels of capacity 0, and a select over them. */
    @State(Scope.Thread)
    public static class Producers {
        Channel<Integer> a;
        Channel<Integer> b;
        private Coroutine[] producers;
        Select<Integer> select;

        /** Makes the channels, the producers and the select; nothing runs yet. */
        @Setup
        public void setUp() {
            a = new Channel<>("a", 0);
            b = new Channel<>("b", 0);
            producers = new Coroutine[] {producer("producer a", a, 1), producer("producer b", b, 2)};
            select = twoReceives(a, b);
        }

        /** Unwinds the producers, parked in {@code send}. */
        @TearDown
        public void tearDown() {
            for (Coroutine p : producers) {
                p.close();
            }
        }

        private static Coroutine producer(String name, Channel<Integer> ch, int value) {
            Integer v = value;
            return Coroutine.create(name, () -> {
                while (true) {
                    ch.send(v);
                }
            });
        }
    }

    /**
     * A biased select receiving from {@code a} or {@code b}.
     *
     * @param a the first channel
     * @param b the second
     * @return the select, whose result is the value received
     */
    static Select<Integer> twoReceives(Channel<Integer> a, Channel<Integer> b) {
        return new Select<Integer>().onReceive(a, v -> v).onReceive(b, v -> v);
    }

    /**
     * Main runs the same select {@code n} times.
     *
     * @param s the producers and the select
     * @param n how many values to receive
     * @return their sum
     */
    static long selectReceive(Producers s, int n) {
        Select<Integer> select = s.select;
        long sum = 0;
        for (int i = 0; i < n; i++) {
            sum += select.select();
        }
        return sum;
    }

    /**
     * Main builds and runs a select {@code n} times.
     *
     * @param s the producers
     * @param n how many values to receive
     * @return their sum
     */
    static long selectReceiveBuiltEachTime(Producers s, int n) {
        long sum = 0;
        for (int i = 0; i < n; i++) {
            sum += twoReceives(s.a, s.b).select();
        }
        return sum;
    }

    /**
     * Main receives from {@code a} and {@code b} in turn, {@code n} values in all.
     *
     * @param s the producers
     * @param n how many values to receive; even
     * @return their sum
     */
    static long receiveAlternating(Producers s, int n) {
        long sum = 0;
        for (int i = 0; i < n; i += 2) {
            sum += s.a.receive();
            sum += s.b.receive();
        }
        return sum;
    }

    /** Main and an echo coroutine with two channels of capacity 0 ({@code ChannelBenchmark}'s pair). */
    @State(Scope.Thread)
    public static class PingPong {
        ChannelBenchmark.CoroChannelPingPong pair;

        /** Makes the channels and the echo coroutine. */
        @Setup
        public void setUp() {
            pair = new ChannelBenchmark.CoroChannelPingPong(SELECTS);
        }

        /** Unwinds the echo coroutine. */
        @TearDown
        public void tearDown() {
            pair.close();
        }
    }

    /**
     * coro: {@value #SELECTS} runs of one select over two channels of capacity 0.
     *
     * @param s the producers and the select
     * @return the sum of the values received
     */
    @Benchmark
    @OperationsPerInvocation(SELECTS)
    public long coroSelectReceive(Producers s) {
        return selectReceive(s, SELECTS);
    }

    /**
     * coro: {@value #SELECTS} selects, each built anew.
     *
     * @param s the producers
     * @return the sum of the values received
     */
    @Benchmark
    @OperationsPerInvocation(SELECTS)
    public long coroSelectReceiveBuiltEachTime(Producers s) {
        return selectReceiveBuiltEachTime(s, SELECTS);
    }

    /**
     * coro: {@value #SELECTS} plain receives, from each channel in turn.
     *
     * @param s the producers
     * @return the sum of the values received
     */
    @Benchmark
    @OperationsPerInvocation(SELECTS)
    public long coroReceiveAlternating(Producers s) {
        return receiveAlternating(s, SELECTS);
    }

    /**
     * coro: {@value #SELECTS} messages of the plain ping-pong.
     *
     * @param s the pair
     * @return the sum received back
     */
    @Benchmark
    @OperationsPerInvocation(SELECTS)
    public long coroChannelPingPong(PingPong s) {
        return s.pair.run();
    }

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
