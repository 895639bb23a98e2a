package dev.coro.bench.probe;

import com.sun.management.ThreadMXBean;
import dev.coro.Coroutine;
import java.lang.management.ManagementFactory;
import java.util.Locale;
import jdk.internal.vm.Continuation;
import jdk.internal.vm.ContinuationScope;

/**
 * Time and bytes allocated per yield among {@code N} contexts that yield forever, coroutines or raw
 * continuations, made cold (in a fresh JVM) or after the yield path was compiled (5 × 20,000 coroutines
 * of the same body run first), with a {@code System.gc()} before the third of four phases.
 *
 * <p>Run: {@code benchmarks/run.sh probe YieldCost coro|raw [cold|warm] [N]} (cold, 100,000 by default).
 */
public final class YieldCost {

    private static final ContinuationScope SCOPE = new ContinuationScope("dev.coro.bench.probe");
    private static final int ROUNDS = 10;

    private YieldCost() {
    }

    private static void body() {
        while (true) {
            Coroutine.yield();
        }
    }

    /**
     * Prints one line per phase of {@value #ROUNDS} rounds: ns and bytes per yield.
     *
     * @param args {@code coro} or {@code raw}, then optionally {@code cold} or {@code warm}, and N
     */
    public static void main(String[] args) {
        ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        boolean coro = args[0].equals("coro");
        boolean warm = args.length > 1 && args[1].equals("warm");
        int n = args.length > 2 ? Integer.parseInt(args[2]) : 100_000;
        if (coro && warm) {
            for (int w = 0; w < 5; w++) {
                Coroutine[] cs = new Coroutine[20_000];
                for (int i = 0; i < cs.length; i++) {
                    cs[i] = Coroutine.create(YieldCost::body);
                }
                for (int r = 0; r < 200; r++) {
                    Coroutine.yield();
                }
                for (Coroutine c : cs) {
                    c.close();
                }
            }
        }
        Continuation[] all = new Continuation[coro ? 0 : n];
        for (int i = 0; i < n; i++) {
            if (coro) {
                Coroutine.create(YieldCost::body);
            } else {
                all[i] = new Continuation(SCOPE, () -> {
                    while (true) {
                        Continuation.yield(SCOPE);
                    }
                });
            }
        }
        for (int phase = 0; phase < 4; phase++) {
            if (phase == 2) {
                System.gc();
            }
            long b0 = mx.getCurrentThreadAllocatedBytes();
            long t0 = System.nanoTime();
            for (int round = 0; round < ROUNDS; round++) {
                if (coro) {
                    Coroutine.yield();
                } else {
                    for (Continuation c : all) {
                        c.run();
                    }
                }
            }
            long t1 = System.nanoTime();
            long b1 = mx.getCurrentThreadAllocatedBytes();
            double yields = (double) ROUNDS * n;
            System.out.printf(Locale.ROOT, "%s %s, phase %d%s: %.0f ns and %.2f B per yield%n", args[0], warm ? "warm" : "cold",
                    phase, phase >= 2 ? " (after System.gc())" : "", (t1 - t0) / yields, (b1 - b0) / yields);
        }
    }
}
