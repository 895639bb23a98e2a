package dev.coro.bench.probe;

import dev.coro.Coroutine;
import java.util.concurrent.locks.LockSupport;
import jdk.internal.vm.Continuation;
import jdk.internal.vm.ContinuationScope;

/**
 * Holds {@code N} contexts suspended at depth 1 (coroutines parked in a {@code switchTo} back to main,
 * or raw continuations in {@code Continuation.yield}), made after a warm-up so their frames are
 * compiled ones, and waits, so that {@code jcmd PID GC.class_histogram} can count what each holds.
 *
 * <p>Run: {@code PROBE_FLAGS=-XX:-BackgroundCompilation benchmarks/run.sh probe SuspendedHeap coro|raw [N] &},
 * then {@code jcmd PID GC.class_histogram} with the printed PID; it exits after 10 minutes.
 */
public final class SuspendedHeap {

    private static final ContinuationScope SCOPE = new ContinuationScope("dev.coro.bench.probe");
    private static Coroutine main;

    private SuspendedHeap() {
    }

    private static Object[] make(boolean raw, int n) {
        Object[] held = new Object[n];
        for (int i = 0; i < n; i++) {
            if (raw) {
                Continuation c = new Continuation(SCOPE, () -> {
                    while (true) {
                        Continuation.yield(SCOPE);
                    }
                });
                c.run();
                held[i] = c;
            } else {
                Coroutine c = Coroutine.create(() -> {
                    while (true) {
                        main.switchTo();
                    }
                });
                c.switchTo();
                held[i] = c;
            }
        }
        return held;
    }

    /**
     * Prints {@code READY PID} once the contexts are suspended, then waits.
     *
     * @param args {@code coro} or {@code raw}, then optionally N (100,000)
     */
    public static void main(String[] args) {
        main = Coroutine.current();
        boolean raw = args[0].equals("raw");
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
        for (int r = 0; r < 6; r++) {
            Object[] warm = make(raw, 20_000);
            if (!raw) {
                for (Object o : warm) {
                    ((Coroutine) o).close();
                }
            }
        }
        Object[] held = make(raw, n);
        System.gc();
        System.out.println("READY " + ProcessHandle.current().pid() + " holding " + held.length);
        LockSupport.parkNanos(600_000_000_000L);
        System.out.println(held.length);
    }
}
