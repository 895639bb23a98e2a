package dev.coro.bench.probe;

import dev.coro.Coroutine;
import jdk.internal.vm.ContinuationScope;
import java.util.Locale;
import jdk.internal.vm.Continuation;

/**
 * Times each round of {@code N} coroutines (or raw continuations) × 10 yields, run after run in one JVM:
 * the round in which every body leaves its loop shows the JIT's deoptimization storm, if there is one.
 *
 * <p>Run: {@code benchmarks/run.sh probe ScaleRounds coro|raw [N] [RUNS]} (100,000 and 4 by default);
 * add JVM flags such as {@code -XX:PerMethodTrapLimit=0 -Xlog:gc} with {@code PROBE_FLAGS}.
 */
public final class ScaleRounds {

    private static final int YIELDS = 10;
    private static final ContinuationScope SCOPE = new ContinuationScope("dev.coro.bench.probe");
    private static int finished;

    private ScaleRounds() {
    }

    /**
     * Prints one line per run: its rounds' times in ms.
     *
     * @param args {@code coro} or {@code raw}, then optionally N and the number of runs
     */
    public static void main(String[] args) {
        boolean coro = args[0].equals("coro");
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 4;
        for (int r = 0; r < runs; r++) {
            System.out.printf(Locale.ROOT, "%s run %d, ms per round: %s%n", args[0], r, coro ? coro(n) : raw(n));
        }
    }

    private static void body() {
        for (int k = 0; k < YIELDS; k++) {
            Coroutine.yield();
        }
        finished++;
    }

    private static String coro(int n) {
        finished = 0;
        for (int i = 0; i < n; i++) {
            Coroutine.create(ScaleRounds::body);
        }
        StringBuilder rounds = new StringBuilder();
        long prev = System.nanoTime();
        while (finished < n) {
            Coroutine.yield();
            long t = System.nanoTime();
            rounds.append((t - prev) / 1_000_000).append(' ');
            prev = t;
        }
        return rounds.toString().trim();
    }

    private static String raw(int n) {
        Runnable body = () -> {
            for (int k = 0; k < YIELDS; k++) {
                Continuation.yield(SCOPE);
            }
        };
        Continuation[] all = new Continuation[n];
        for (int i = 0; i < n; i++) {
            all[i] = new Continuation(SCOPE, body);
        }
        StringBuilder rounds = new StringBuilder();
        long prev = System.nanoTime();
        for (int round = 0; round <= YIELDS; round++) {
            for (Continuation c : all) {
                c.run();
            }
            long t = System.nanoTime();
            rounds.append((t - prev) / 1_000_000).append(' ');
            prev = t;
        }
        return rounds.toString().trim();
    }
}
