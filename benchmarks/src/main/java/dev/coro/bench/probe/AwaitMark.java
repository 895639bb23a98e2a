package dev.coro.bench.probe;

import dev.coro.Coroutine;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * What {@code Coroutine.await} of a completed future pays above {@code join()}, part by part: the
 * same loop over 1,024 completed futures (the interleaved benchmark's) in five variants, taken in
 * turn slice by slice, each reported as the median of its slices' ratios to the {@code join()} slice
 * beside it.
 * <ul>
 *   <li>{@code await}: {@code Coroutine.await} itself;</li>
 *   <li>{@code no mark}: its fast path without the thread's mark as connected (the stage's own future,
 *       one read with a sentinel);</li>
 *   <li>{@code thread mark}: that plus a mark of the library's shape, {@code Thread.currentThread()}
 *       compared with a one-entry static cache;</li>
 *   <li>{@code process flag}: that plus a process-wide flag instead (a static boolean set once).</li>
 * </ul>
 *
 * <p>With a second argument {@code N}, the thread first awaits {@code N} futures that are not complete
 * yet (a coroutine completes each after the await has parked), as a program that mostly waits does:
 * the slow path of {@code await} is then hot, the JIT compiles it into {@code await}'s own code, and
 * callers stop inlining {@code await} (20,000 makes the difference show).
 *
 * <p>Run: {@code benchmarks/run.sh probe AwaitMark [slices] [pending awaits first]} (400 and 0 by
 * default; the slices after 200 unmeasured).
 */
public final class AwaitMark {

    private static final int OPS = 20_000;
    private static final Object NOT_DONE = new Object();
    private static Thread cachedOwner;
    private static boolean flag;
    private static long sink;

    private AwaitMark() {
    }

    /** One slice of {@link #OPS} ops over the futures. */
    private interface Side {
        long run(CompletableFuture<Long>[] done);
    }

    /**
     * Prints one line per variant.
     *
     * @param args optionally the number of measured slices
     */
    public static void main(String[] args) {
        int slices = args.length > 0 ? Integer.parseInt(args[0]) : 400;
        int pendingFirst = args.length > 1 ? Integer.parseInt(args[1]) : 0;
        for (int k = 0; k < pendingFirst; k++) {
            CompletableFuture<Long> f = new CompletableFuture<>();
            Coroutine.create(() -> f.complete(1L)); // runs once the await below parks
            sink += Coroutine.await(f);
        }
        @SuppressWarnings("unchecked")
        CompletableFuture<Long>[] done = new CompletableFuture[1024];
        for (int i = 0; i < done.length; i++) {
            done[i] = CompletableFuture.completedFuture((long) i);
        }
        String[] names = {"join", "await", "no mark", "thread mark", "process flag"};
        Side[] sides = {
            d -> {
                long s = 0;
                for (int i = 0; i < OPS; i++) {
                    s += d[i & 1023].join();
                }
                return s;
            },
            d -> {
                long s = 0;
                for (int i = 0; i < OPS; i++) {
                    s += Coroutine.await(d[i & 1023]);
                }
                return s;
            },
            d -> {
                long s = 0;
                for (int i = 0; i < OPS; i++) {
                    s += noMark(d[i & 1023]);
                }
                return s;
            },
            d -> {
                long s = 0;
                for (int i = 0; i < OPS; i++) {
                    s += threadMark(d[i & 1023]);
                }
                return s;
            },
            d -> {
                long s = 0;
                for (int i = 0; i < OPS; i++) {
                    s += processFlag(d[i & 1023]);
                }
                return s;
            },
        };
        double[][] ns = new double[sides.length][slices];
        for (int s = -200; s < slices; s++) {
            for (int k = 0; k < sides.length; k++) {
                int j = (s & 1) == 0 ? k : sides.length - 1 - k;
                long t0 = System.nanoTime();
                sink += sides[j].run(done);
                double t = (System.nanoTime() - t0) / (double) OPS;
                if (s >= 0) {
                    ns[j][s] = t;
                }
            }
        }
        for (int k = 0; k < sides.length; k++) {
            double[] ratio = new double[slices];
            for (int s = 0; s < slices; s++) {
                ratio[s] = ns[k][s] / ns[0][s];
            }
            Arrays.sort(ratio);
            double[] t = ns[k].clone();
            Arrays.sort(t);
            System.out.printf(Locale.ROOT, "%-13s median %.2f ns, paired median ratio to join %.3f%n", names[k],
                    t[slices / 2], ratio[slices / 2]);
        }
        if (sink == 42) {
            System.out.println();
        }
    }

    @SuppressWarnings("unchecked")
    private static <T> T noMark(CompletionStage<T> stage) {
        T v = stage.toCompletableFuture().getNow((T) NOT_DONE);
        return v != NOT_DONE ? v : Coroutine.await(stage);
    }

    private static <T> T threadMark(CompletionStage<T> stage) {
        Thread self = Thread.currentThread();
        if (cachedOwner != self) {
            cachedOwner = self;
        }
        return noMark(stage);
    }

    private static <T> T processFlag(CompletionStage<T> stage) {
        if (!flag) {
            flag = true;
        }
        return noMark(stage);
    }
}
