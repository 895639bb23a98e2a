package dev.coro.bench.probe;

import java.util.Locale;

/**
 * The floor of a message between two threads on this machine: two platform threads hand a counter
 * to each other through two volatile fields, each spinning until the other's value arrives; half a
 * round trip is what one cache line costs to cross from one core to the other, with nothing else
 * moving. Any message across threads (a channel's, a completed future's) costs at least this.
 *
 * <p>Run: {@code benchmarks/run.sh probe CrossCoreFloor [round trips]} (5,000,000 by default; five
 * rounds, the first warming up).
 */
public final class CrossCoreFloor {

    private static volatile long ping;
    private static volatile long pong;

    private CrossCoreFloor() {
    }

    /**
     * Prints one line per round.
     *
     * @param args optionally the round trips per round
     * @throws InterruptedException never in practice
     */
    public static void main(String[] args) throws InterruptedException {
        long n = args.length > 0 ? Long.parseLong(args[0]) : 5_000_000L;
        for (int round = 1; round <= 5; round++) {
            ping = 0;
            pong = 0;
            Thread echo = new Thread(() -> {
                for (long i = 1; i <= n; i++) {
                    while (ping != i) {
                        Thread.onSpinWait();
                    }
                    pong = i;
                }
            }, "echo");
            echo.start();
            long t0 = System.nanoTime();
            for (long i = 1; i <= n; i++) {
                ping = i;
                while (pong != i) {
                    Thread.onSpinWait();
                }
            }
            long ns = System.nanoTime() - t0;
            echo.join();
            System.out.printf(Locale.ROOT, "round %d: %.1f ns per round trip, %.1f ns one way%s%n", round,
                    ns / (double) n, ns / (2.0 * n), round == 1 ? " (warm-up)" : "");
        }
    }
}
