package dev.coro.bench.probe;

import dev.coro.Coroutine;
import dev.coro.CoroutinePool;
import dev.coro.bench.CrossThreadChannelBenchmark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The cross-thread channel ping-pong of {@link CrossThreadChannelBenchmark} with each of the pool's
 * two threads pinned to a core of its own (Linux, {@code taskset}): every message crosses the two
 * cores, and neither thread wanders onto the other's core, so that a run measures the cache-line
 * traffic of a message and not where the kernel put the threads that moment.
 *
 * <p>On a shared machine, run it as a real-time process ({@code chrt -f 10}): other processes then
 * cannot take the cores from the two spinning threads, and the figure holds under load. To compare
 * two builds of the library, put one's jar before the benchmarks jar on the class path, then the
 * other's, and alternate the runs.
 *
 * <p>Run: {@code chrt -f 10 java --add-exports=java.base/jdk.internal.vm=ALL-UNNAMED -cp [coro.jar:]benchmarks/target/benchmarks.jar
 * dev.coro.bench.probe.PinnedPingPong [round trips] [rounds]} (50,000 and 15 by default, after ten
 * rounds of 20,000 warming up): prints the fastest and the median round, in ns per message.
 */
public final class PinnedPingPong {

    private PinnedPingPong() {
    }

    /**
     * Pins the pool's threads, runs the rounds and prints one line.
     *
     * @param args optionally the round trips per round and the rounds
     */
    public static void main(String[] args) {
        int roundTrips = args.length > 0 ? Integer.parseInt(args[0]) : 50_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 15;
        long[] nanos = new long[rounds];
        String pinned;
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            pinned = pinEachThread(pool);
            for (int r = 0; r < 10; r++) {
                CrossThreadChannelBenchmark.coroPingPong(pool, 20_000);
            }
            for (int r = 0; r < rounds; r++) {
                long t0 = System.nanoTime();
                CrossThreadChannelBenchmark.coroPingPong(pool, roundTrips);
                nanos[r] = (System.nanoTime() - t0) / (2L * roundTrips);
            }
        }
        Arrays.sort(nanos);
        System.out.printf(Locale.ROOT, "cross-thread message: fastest round %d ns, median %d ns (%s)%n", nanos[0],
                nanos[rounds / 2], pinned);
    }

    /**
     * Submits one body per pool thread (the second goes to the other thread, the first being still
     * live), each pinning its own thread to core 0 or 1; returns what was done.
     */
    private static String pinEachThread(CoroutinePool pool) {
        CompletableFuture<Void> both = new CompletableFuture<>();
        AtomicInteger next = new AtomicInteger();
        List<CompletableFuture<String>> pins = new ArrayList<>();
        for (int k = 0; k < 2; k++) {
            pins.add(pool.submit(() -> {
                int core = next.getAndIncrement();
                if (core == 1) {
                    both.complete(null);
                }
                String result = pin(core);
                Coroutine.await(both); // keeps the first body live until the second has its thread
                return Thread.currentThread().getName() + result;
            }));
        }
        List<String> done = new ArrayList<>();
        for (CompletableFuture<String> f : pins) {
            done.add(f.join());
        }
        return String.join(", ", done);
    }

    /** Pins the calling thread to {@code core}; says how it went. */
    private static String pin(int core) {
        try {
            String self = Files.readSymbolicLink(Path.of("/proc/thread-self")).toString();
            String tid = self.substring(self.lastIndexOf('/') + 1);
            Process p = new ProcessBuilder("taskset", "-p", "-c", String.valueOf(core), tid)
                    .redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0 ? " on core " + core : " not pinned (taskset failed)";
        } catch (IOException | UnsupportedOperationException e) {
            return " not pinned (" + e + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return " not pinned (interrupted)";
        }
    }
}
