package dev.coro.bench;

import dev.coro.Coroutine;
import java.util.Locale;
import jdk.internal.vm.Continuation;

/**
 * Question 7's workload: N coroutines (1,000,000 by default) each yielding Y times (10) round robin,
 * driven by main's {@code yield()} until all have returned; or the same with raw continuations run
 * round robin by a loop on main.
 *
 * <p>Arguments: {@code coro|raw runs [n] [yields]}. Prints one line per run: {@code run <i> <ms>}.
 * {@link ScaleRunner} starts it in fresh JVMs: one run per JVM for the cold wall time, several in one
 * JVM for the warm figure.
 */
public final class ScaleWorkload {

    private static int finished;

    private ScaleWorkload() {
    }

    /**
     * Runs the workload {@code runs} times and prints each run's time.
     *
     * @param args {@code coro|raw runs [n] [yields]}
     */
    public static void main(String[] args) {
        boolean coro = switch (args[0]) {
            case "coro" -> true;
            case "raw" -> false;
            default -> throw new IllegalArgumentException("first argument must be coro or raw, not " + args[0]);
        };
        int runs = Integer.parseInt(args[1]);
        int n = args.length > 2 ? Integer.parseInt(args[2]) : 1_000_000;
        int yields = args.length > 3 ? Integer.parseInt(args[3]) : 10;
        for (int r = 1; r <= runs; r++) {
            long t0 = System.nanoTime();
            long switches = coro ? coro(n, yields) : raw(n, yields);
            double ms = (System.nanoTime() - t0) / 1e6;
            System.out.printf(Locale.ROOT, "run %d %.1f (%d yields)%n", r, ms, switches);
        }
    }

    /** N coroutines, each yields Y times then returns; main yields until all returned. */
    static long coro(int n, int yields) {
        finished = 0;
        Runnable body = () -> {
            for (int k = 0; k < yields; k++) {
                Coroutine.yield();
            }
            finished++;
        };
        for (int i = 0; i < n; i++) {
            Coroutine.create(body);
        }
        long rounds = 0;
        while (finished < n) {
            Coroutine.yield();
            rounds++;
        }
        return (long) n * yields + rounds;
    }

    /** N raw continuations, each yields Y times then returns; main runs them round robin. */
    static long raw(int n, int yields) {
        Runnable body = () -> {
            for (int k = 0; k < yields; k++) {
                Continuation.yield(RawPingPong.SCOPE);
            }
        };
        Continuation[] all = new Continuation[n];
        for (int i = 0; i < n; i++) {
            all[i] = new Continuation(RawPingPong.SCOPE, body);
        }
        for (int round = 0; round <= yields; round++) {
            for (Continuation c : all) {
                c.run();
            }
        }
        return (long) n * yields;
    }
}
