package dev.coro.bench;

import dev.coro.Channel;
import dev.coro.ChannelClosedException;
import dev.coro.Coroutine;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Does a thread with many parked coroutines stay fast: does a {@code yield()} cost the same with
 * 100,000 coroutines parked on a channel as with none, and does closing n parked coroutines cost
 * O(n)?
 *
 * <p><b>{@code yieldPastParked}</b>: one op = one {@code yield()} of main and the yield back of one
 * runnable coroutine (a round trip) and {@code parked} coroutines parked on a channel in between in the run
 * list (main's yield runs the last entry; the runnable coroutine is the first created, so every
 * parked entry lies between them). <b>{@code closeParked}</b>: one op = closing all {@code parked}
 * parked coroutines (each unwinds through its pending {@code receive}); the figure at 100,000 against
 * ten times the figure at 10,000 says whether closing is linear.
 *
 * <p>Run: {@code benchmarks/run.sh jmh ParkedScaleBenchmark}. Targets: {@code yieldPastParked} at
 * 100,000 ≤ 1.2 × at 0; {@code closeParked} at 100,000 ≤ 2 × (10 × at 10,000).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {Jvm.EXPORTS, "-Xmx2g"})
public class ParkedScaleBenchmark {

    /** Main, one coroutine that yields forever, and {@code parked} coroutines waiting on a channel. */
    @State(Scope.Thread)
    public static class Yielding {
        @Param({"0", "100000"})
        int parked;
        private Coroutine runnable;
        private Channel<Integer> never;

        @Setup
        public void setUp() {
            runnable = Coroutine.create("runnable", () -> {
                while (true) {
                    Coroutine.yield();
                }
            });
            never = parkMany(parked);
            runnable.switchTo(); // it yields back to main, past the parked ones
        }

        @TearDown
        public void tearDown() {
            never.close();
            runnable.close();
            Coroutine.yield(); // the woken ones end
        }
    }

    /** {@code parked} coroutines waiting on a channel, made afresh for each invocation. */
    @State(Scope.Thread)
    public static class Closing {
        @Param({"10000", "100000"})
        int parked;
        Coroutine[] waiting;

        @Setup(Level.Invocation)
        public void setUp() {
            waiting = new Coroutine[parked];
            Channel<Integer> never = new Channel<>("never", 0);
            for (int i = 0; i < parked; i++) {
                waiting[i] = Coroutine.create(() -> never.receive());
            }
            Coroutine.yield(); // each runs and parks
        }
    }

    /** Creates {@code n} coroutines that park on a new channel, and lets them park; returns the channel. */
    static Channel<Integer> parkMany(int n) {
        Channel<Integer> never = new Channel<>("never", 0);
        for (int i = 0; i < n; i++) {
            Coroutine.create(() -> {
                try {
                    never.receive();
                } catch (ChannelClosedException e) {
                    // woken by the tear-down
                }
            });
        }
        Coroutine.yield();
        return never;
    }

    /** One yield of main past the parked coroutines, to the runnable one, which yields back. */
    @Benchmark
    public void yieldPastParked(Yielding s) {
        Coroutine.yield();
    }

    /** Closes every parked coroutine: one op closes them all. */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 3)
    @Measurement(iterations = 5)
    public void closeParked(Closing s) {
        for (Coroutine c : s.waiting) {
            c.close();
        }
    }
}
