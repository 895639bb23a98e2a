package dev.coro.bench;

import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The JMH states of the A↔B pairs that make {@value #TRANSFERS} one-way transfers per invocation:
 * {@link SwitchBenchmark}'s, and the {@code SynchronousQueue} pair of {@link ChannelBenchmark} and
 * {@link CrossThreadChannelBenchmark}.
 */
public final class Pairs {

    /** One-way transfers per invocation. */
    public static final int TRANSFERS = 1000;

    private Pairs() {
    }

    /** Coroutines A and B of the calling JMH thread. */
    @State(Scope.Thread)
    public static class Coro {
        CoroPingPong pair;

        /** Creates A and B on the benchmark thread. */
        @Setup
        public void setUp() {
            pair = new CoroPingPong(TRANSFERS);
        }

        /** Unwinds A and B. */
        @TearDown
        public void tearDown() {
            pair.close();
        }
    }

    /** Raw continuations A and B. */
    @State(Scope.Thread)
    public static class Raw {
        RawPingPong pair;

        /** Creates A and B. */
        @Setup
        public void setUp() {
            pair = new RawPingPong(TRANSFERS);
        }
    }

    /** Virtual threads A and B with park/unpark. */
    @State(Scope.Thread)
    public static class VirtualPark {
        ParkPingPong pair;

        /** Starts A and B. */
        @Setup
        public void setUp() {
            pair = new ParkPingPong(Thread.ofVirtual(), TRANSFERS);
        }

        /**
         * Stops A and B.
         *
         * @throws InterruptedException if interrupted while joining them
         */
        @TearDown
        public void tearDown() throws InterruptedException {
            pair.close();
        }
    }

    /** Virtual threads A and B with SynchronousQueues. */
    @State(Scope.Thread)
    public static class VirtualQueue {
        /** The pair; {@code run()} makes the transfers. */
        public QueuePingPong pair;

        /** Starts A and B. */
        @Setup
        public void setUp() {
            pair = new QueuePingPong(Thread.ofVirtual(), TRANSFERS);
        }

        /**
         * Stops A and B.
         *
         * @throws InterruptedException if interrupted while joining them
         */
        @TearDown
        public void tearDown() throws InterruptedException {
            pair.close();
        }
    }

    /** Platform threads A and B with park/unpark. */
    @State(Scope.Thread)
    public static class PlatformPark {
        ParkPingPong pair;

        /** Starts A and B. */
        @Setup
        public void setUp() {
            pair = new ParkPingPong(Thread.ofPlatform().daemon(), TRANSFERS);
        }

        /**
         * Stops A and B.
         *
         * @throws InterruptedException if interrupted while joining them
         */
        @TearDown
        public void tearDown() throws InterruptedException {
            pair.close();
        }
    }
}
