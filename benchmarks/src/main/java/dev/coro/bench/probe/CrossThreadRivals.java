package dev.coro.bench.probe;

import dev.coro.CoroutinePool;
import dev.coro.bench.CrossThreadChannelBenchmark;
import dev.coro.bench.kotlin.KotlinChannels;
import dev.coro.bench.QueuePingPong;
import java.util.Arrays;
import java.util.Locale;

/**
 * The cross-thread ping-pong of {@link CrossThreadChannelBenchmark} against its rivals, interleaved:
 * each round runs coro's (two coroutines on a pool of 2, rendezvous channels), kotlinx's (two
 * coroutines on {@code Dispatchers.Default}, rendezvous channels) and {@code SynchronousQueue}s
 * between two virtual threads, one after the other, so that a change of the machine's load falls on
 * all alike; it prints each one's fastest and median round and coro's ratios to the others.
 * A fourth side runs kotlinx's ping-pong with each coroutine confined to a thread of its own (a
 * single-thread dispatcher per side), so that every message crosses threads as coro's do:
 * {@code Dispatchers.Default} mostly runs its two coroutines on one worker. Two more sides run the
 * ping-pong with the echo receiving through a select over two channels of the other side (the
 * pinger's {@code ping} and one nobody sends to): coro's {@code Select} over another thread's
 * channels, and kotlinx's {@code select} on {@code Dispatchers.Default}.
 *
 * <p>On a shared machine, run it as a real-time process ({@code chrt -f 10}): every thread of the
 * JVM then inherits the policy, other processes cannot take the cores from the spinning threads of
 * any of them, and the figures hold under load. Nothing is pinned: each runtime places its
 * threads as it does.
 *
 * <p>Run: {@code chrt -f 10 java --add-exports=java.base/jdk.internal.vm=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar
 * dev.coro.bench.probe.CrossThreadRivals [round trips] [rounds]} (20,000 and 15 by default, after
 * five rounds of each warming up).
 */
public final class CrossThreadRivals {

    private CrossThreadRivals() {
    }

    /** One round of a workload. */
    private interface Round {
        void run() throws Exception;
    }

    /**
     * Runs the rounds and prints one line per workload, then the ratios.
     *
     * @param args optionally the round trips per round and the rounds
     * @throws Exception if a workload fails
     */
    public static void main(String[] args) throws Exception {
        int roundTrips = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 15;
        int messages = 2 * roundTrips;
        String[] names = {"coro, pool of 2", "kotlinx, Default", "SynchronousQueue, virtual threads",
            "kotlinx, a thread per side", "coro, select across threads, pool of 2",
            "kotlinx, select, Default"};
        long[][] nanos = new long[names.length][rounds];
        try (CoroutinePool pool = CoroutinePool.start(2); QueuePingPong queues = new QueuePingPong(Thread.ofVirtual(), messages);
             KotlinChannels.TwoThreads kotlinThreads = new KotlinChannels.TwoThreads()) {
            Round[] sides = {
                () -> CrossThreadChannelBenchmark.coroPingPong(pool, roundTrips),
                () -> KotlinChannels.pingPongDefaultDispatcher(roundTrips),
                queues::run,
                () -> kotlinThreads.pingPong(roundTrips),
                () -> CrossThreadChannelBenchmark.coroSelectPingPong(pool, roundTrips),
                () -> KotlinChannels.selectPingPongDefaultDispatcher(roundTrips),
            };
            for (int r = -5; r < rounds; r++) {
                for (int k = 0; k < sides.length; k++) {
                    long t0 = System.nanoTime();
                    sides[k].run();
                    if (r >= 0) {
                        nanos[k][r] = (System.nanoTime() - t0) / messages;
                    }
                }
            }
        }
        long[] medians = new long[names.length];
        for (int k = 0; k < names.length; k++) {
            Arrays.sort(nanos[k]);
            medians[k] = nanos[k][rounds / 2];
            System.out.printf(Locale.ROOT, "%-36s fastest round %5d ns, median %5d ns per message%n", names[k], nanos[k][0],
                    medians[k]);
        }
        System.out.printf(Locale.ROOT, "coro / kotlinx %.2f, coro / SynchronousQueue %.2f, coro / kotlinx with a thread per side %.2f (medians)%n",
                (double) medians[0] / medians[1], (double) medians[0] / medians[2], (double) medians[0] / medians[3]);
        System.out.printf(Locale.ROOT, "select: coro / kotlinx %.2f; select over plain receive: coro %.2f, kotlinx %.2f (medians)%n",
                (double) medians[4] / medians[5], (double) medians[4] / medians[0], (double) medians[5] / medians[1]);
    }
}
