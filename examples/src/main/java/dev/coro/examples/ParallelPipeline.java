package dev.coro.examples;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.CoroutinePool;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * A pipeline whose stages run on the threads of a {@link CoroutinePool}, connected by {@link Channel}s:
 * a generator sends 1..12, two transform workers compute each number's Collatz stopping time (the
 * steps of {@code n -> n / 2} or {@code 3n + 1} down to 1), and a sink collects the results.
 *
 * <p>The stages run at the same time on two threads, so the order in which values cross the
 * channels, and which worker gets which number, change from run to run. What is printed does not:
 * the sink keeps the results sorted by number, and only totals are counted per stage. The channels
 * belong to the thread that made them (the caller's): the first operation of a pool thread on one is
 * run there, which works because that thread keeps running its scheduler while it waits in
 * {@link Coroutine#await}; from then on each stage operates on the shared channel in place. The
 * generator or a worker that fails ends the others: the caller's wait for it throws, and the caller
 * then closes both channels, whose closes end every stage's loop. The sink is not awaited until the
 * others have ended, so a sink that failed would leave them parked on full channels and the caller
 * waiting for them: a stage whose failure must end the rest closes the channels itself, with its
 * failure as the cause ({@link Channel#close(Throwable)}).
 */
public final class ParallelPipeline {
    private static final int NUMBERS = 12;
    private static final int WORKERS = 2;

    private final PrintStream out;

    private ParallelPipeline(PrintStream out) {
        this.out = out;
    }

    /** A transformed number: {@code n} reaches 1 in {@code steps} steps. */
    private record Steps(int n, int steps) {
    }

    /**
     * Runs the example on the calling thread, printing to {@code out}.
     *
     * @param out where the lines go
     */
    public static void run(PrintStream out) {
        new ParallelPipeline(out).main();
    }

    /**
     * Runs the example, printing to standard output.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        run(System.out);
    }

    /** The number of steps of {@code n -> n / 2} (even) or {@code 3n + 1} (odd) from {@code n} down to 1. */
    static int collatzSteps(int n) {
        int steps = 0;
        for (long x = n; x != 1; steps++) {
            x = x % 2 == 0 ? x / 2 : 3 * x + 1;
        }
        return steps;
    }

    private void main() {
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            Channel<Integer> numbers = new Channel<>("numbers", 4);
            Channel<Steps> results = new Channel<>("results", 4);

            CompletableFuture<Integer> generator = pool.submit(() -> {
                for (int n = 1; n <= NUMBERS; n++) {
                    numbers.send(n);              // parks while 4 numbers wait for a worker
                }
                numbers.close();                  // the workers' loops end once it is drained
                return NUMBERS;
            });
            List<CompletableFuture<Integer>> workers = new ArrayList<>();
            for (int w = 0; w < WORKERS; w++) {
                workers.add(pool.submit(() -> {
                    int count = 0;
                    for (int n : numbers) {
                        results.send(new Steps(n, collatzSteps(n)));
                        count++;
                    }
                    return count;
                }));
            }
            CompletableFuture<TreeMap<Integer, Integer>> sink = pool.submit(() -> {
                TreeMap<Integer, Integer> sorted = new TreeMap<>();
                for (Steps s : results) {
                    sorted.put(s.n(), s.steps());
                }
                return sorted;
            });

            int sent;
            int transformed = 0;
            try {
                sent = Coroutine.await(generator);
                for (CompletableFuture<Integer> w : workers) {
                    transformed += Coroutine.await(w);    // how they split the work varies; the total does not
                }
            } finally {
                // every worker has ended: nothing more will come; and if a stage failed instead, the
                // closes end the others (a closed channel refuses their sends and ends their loops), so
                // that the pool's close() does not wait for ever and reports what failed
                numbers.close();
                results.close();
            }
            TreeMap<Integer, Integer> steps = Coroutine.await(sink);

            out.printf("generator: sent %d numbers%n", sent);
            out.printf("transform: %d workers transformed %d numbers%n", WORKERS, transformed);
            out.printf("sink: collected %d results, sorted by number:%n", steps.size());
            Map.Entry<Integer, Integer> longest = null;
            for (Map.Entry<Integer, Integer> e : steps.entrySet()) {
                out.printf("  %2d -> %2d steps%n", e.getKey(), e.getValue());
                if (longest == null || e.getValue() > longest.getValue()) {
                    longest = e;
                }
            }
            out.printf("longest: %d takes %d steps%n", longest.getKey(), longest.getValue());
        }
    }
}
