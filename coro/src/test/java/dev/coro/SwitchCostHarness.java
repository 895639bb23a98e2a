package dev.coro;

import java.util.concurrent.locks.LockSupport;

/**
 * A quick standalone measure of one switch between two coroutines against the best raw
 * virtual-thread park/unpark handoff, in the same JVM and the same rounds (the JMH benchmarks are
 * the reference; this is the figure for a note). One op is one transfer of control: a
 * {@code switchTo} from one coroutine to the other, or one handoff from one virtual thread to the other;
 * for scale, it also times main (on a platform, then a virtual thread) and a coroutine yielding to each other.
 *
 * <p>Run after {@code mvn verify}, on the thread engine:
 * <pre>{@code
 * java -Dcoro.engine=threads -cp coro/target/classes:coro/target/test-classes dev.coro.SwitchCostHarness
 * }</pre>
 * or on the continuation engine, with {@code --add-exports java.base/jdk.internal.vm=ALL-UNNAMED}.
 */
final class SwitchCostHarness {

    private static final int OPS = 200_000;
    private static final int ROUNDS = 21;

    private SwitchCostHarness() {
    }

    /**
     * Prints the best ns per op of each variant over the rounds, the ratio of the bests, and the
     * median of the ratios measured round by round (each against that round's best baseline).
     *
     * @param args ignored
     * @throws InterruptedException if interrupted while joining a baseline's threads
     */
    public static void main(String[] args) throws InterruptedException {
        double coro = Double.MAX_VALUE;
        double flag = Double.MAX_VALUE;
        double perThread = Double.MAX_VALUE;
        double withMain = Double.MAX_VALUE;
        double withVirtualMain = Double.MAX_VALUE;
        double[] ratios = new double[ROUNDS];
        for (int round = 0; round < ROUNDS; round++) {
            double c = coroutineSwitch();
            double f = sharedTurnHandoff();
            double p = ownFlagHandoff();
            withMain = Math.min(withMain, mainSwitch(Thread.ofPlatform()));
            withVirtualMain = Math.min(withVirtualMain, mainSwitch(Thread.ofVirtual()));
            ratios[round] = c / Math.min(f, p);
            coro = Math.min(coro, c);
            flag = Math.min(flag, f);
            perThread = Math.min(perThread, p);
        }
        java.util.Arrays.sort(ratios);
        double best = Math.min(flag, perThread);
        System.out.printf("engine                                   %s%n", Engines.running());
        System.out.printf("coroutine switchTo A<->B                 %8.1f ns/op (best of %d rounds)%n", coro, ROUNDS);
        System.out.printf("raw VT handoff, shared volatile turn     %8.1f ns/op%n", flag);
        System.out.printf("raw VT handoff, one volatile flag each   %8.1f ns/op%n", perThread);
        System.out.printf("ratio best coroutine / best raw          %8.2f%n", coro / best);
        System.out.printf("ratio per round, median                  %8.2f%n", ratios[ROUNDS / 2]);
        System.out.printf("main (platform) <-> coroutine, yield     %8.1f ns/op%n", withMain);
        System.out.printf("main (virtual) <-> coroutine, yield      %8.1f ns/op%n", withVirtualMain);
    }

    /** Two coroutines switching to each other {@link #OPS} times; ns per switch, timed inside them. */
    private static double coroutineSwitch() throws InterruptedException {
        double[] result = new double[1];
        Thread owner = Thread.ofPlatform().name("harness-owner").start(() -> {
            Coroutine[] pair = new Coroutine[2];
            pair[0] = Coroutine.create("a", () -> {
                long start = System.nanoTime();
                for (int i = 0; i < OPS / 2; i++) {
                    pair[1].switchTo();
                }
                result[0] = (System.nanoTime() - start) / (double) OPS;
            });
            pair[1] = Coroutine.create("b", () -> {
                while (true) {
                    pair[0].switchTo();
                }
            });
            pair[0].switchTo();
            pair[1].close();
        });
        owner.join();
        return result[0];
    }

    /** Main, on a thread from {@code owners}, and one coroutine yielding to each other; ns per switch, timed in main. */
    private static double mainSwitch(Thread.Builder owners) throws InterruptedException {
        int ops = OPS / 10;
        double[] result = new double[1];
        Thread owner = owners.name("harness-owner").start(() -> {
            Coroutine c = Coroutine.create("c", () -> {
                while (true) {
                    Coroutine.yield();
                }
            });
            long start = System.nanoTime();
            for (int i = 0; i < ops / 2; i++) {
                Coroutine.yield();
            }
            result[0] = (System.nanoTime() - start) / (double) ops;
            c.close();
        });
        owner.join();
        return result[0];
    }

    /** The shared turn of the thread engine, by hand: a volatile field naming who may run. */
    private static volatile Thread turn;

    /** Two virtual threads handing a shared volatile turn back and forth; ns per handoff. */
    private static double sharedTurnHandoff() throws InterruptedException {
        Thread[] pair = new Thread[2];
        long[] time = new long[1];
        pair[0] = Thread.ofVirtual().unstarted(() -> {
            long start = System.nanoTime();
            for (int i = 0; i < OPS / 2; i++) {
                turn = pair[1];
                LockSupport.unpark(pair[1]);
                while (turn != pair[0]) {
                    LockSupport.park();
                }
            }
            time[0] = System.nanoTime() - start;
            turn = null;
            LockSupport.unpark(pair[1]);
        });
        pair[1] = Thread.ofVirtual().unstarted(() -> {
            while (true) {
                Thread t;
                while ((t = turn) != pair[1] && t != null) {
                    LockSupport.park();
                }
                if (t == null) {
                    return;
                }
                turn = pair[0];
                LockSupport.unpark(pair[0]);
            }
        });
        turn = pair[0];
        pair[1].start();
        pair[0].start();
        pair[0].join();
        pair[1].join();
        return time[0] / (double) OPS;
    }

    /** A virtual thread and its own "may run" flag. */
    private static final class Party {
        volatile boolean go;
        Thread thread;
    }

    /** Two virtual threads, each parked on a flag of its own that the other sets; ns per handoff. */
    private static double ownFlagHandoff() throws InterruptedException {
        Party a = new Party();
        Party b = new Party();
        long[] time = new long[1];
        a.thread = Thread.ofVirtual().unstarted(() -> {
            long start = System.nanoTime();
            for (int i = 0; i < OPS / 2; i++) {
                b.go = true;
                LockSupport.unpark(b.thread);
                while (!a.go) {
                    LockSupport.park();
                }
                a.go = false;
            }
            time[0] = System.nanoTime() - start;
        });
        b.thread = Thread.ofVirtual().unstarted(() -> {
            for (int i = 0; i < OPS / 2; i++) {
                while (!b.go) {
                    LockSupport.park();
                }
                b.go = false;
                a.go = true;
                LockSupport.unpark(a.thread);
            }
        });
        b.thread.start();
        a.thread.start();
        a.thread.join();
        b.thread.join();
        return time[0] / (double) OPS;
    }
}
