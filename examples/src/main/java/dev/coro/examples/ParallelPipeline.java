package dev.coro.examples;

import dev.coro.Channel;
import dev.coro.ChannelClosedException;
import dev.coro.Coroutine;
import dev.coro.CoroutinePool;
import dev.coro.Select;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.BiConsumer;

/**
 * A pipeline whose stages run on the threads of a {@link CoroutinePool}, connected by {@link Channel}s:
 * a generator sends 1..12, two transform workers compute each number's Collatz stopping time (the
 * steps of {@code n -> n / 2} or {@code 3n + 1} down to 1), and a sink collects the results.
 *
 * <p>The stages run at the same time on two threads, so the order in which values cross the
 * channels, and which worker gets which number, change from run to run. What is printed does not:
 * the sink keeps the results sorted by number, and only totals are counted per stage. The channels
 * belong to the thread that made them (the caller's): the first operation of a pool thread on one is
 * run there, which works because that thread keeps running its scheduler while it waits for the stages
 * (in a {@link Select} over their futures, as in {@link Coroutine#await}); from then on each stage
 * operates on the shared channel in place.
 *
 * <p>A failure of any stage ends the whole pipeline. The caller waits for whichever stage ends first,
 * again and again, until all have ended ({@link Select#onComplete}); once every worker has ended it
 * closes {@code results}, which ends the sink's loop. The first stage it sees fail makes it close both
 * channels with that failure as the cause ({@link Channel#close(Throwable)}): every other stage, parked
 * on a full channel or an empty one, or about to send, is woken or refused with a
 * {@link ChannelClosedException} carrying that cause, and ends. Once all have ended, the caller throws
 * the first failure, with the failures of other stages that failed on their own suppressed in it (a
 * refusal the closes caused carries the first as its cause, and is not added). Waiting for the stages
 * one by one instead, in order, would miss a sink that failed while the caller waited for the
 * generator: the generator and the workers would stay parked on full channels, and the caller with them.
 */
public final class ParallelPipeline {
    private static final int NUMBERS = 12;
    private static final int WORKERS = 2;

    private final PrintStream out;
    /** Called by each stage before it handles a number (a test's way to make a stage fail). */
    private final BiConsumer<String, Integer> step;

    private ParallelPipeline(PrintStream out, BiConsumer<String, Integer> step) {
        this.out = out;
        this.step = step;
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
        run(out, (stage, n) -> {
        });
    }

    /**
     * Runs the example as {@link #run(PrintStream)} does, calling {@code step} in each stage before it
     * handles a number: with {@code "generator"} before it sends {@code n}, {@code "worker"} before it
     * transforms it, {@code "sink"} before it keeps its result. A step that throws is a failure of that
     * stage, which this call then throws.
     *
     * @param out  where the lines go
     * @param step what each stage does first for each number
     */
    static void run(PrintStream out, BiConsumer<String, Integer> step) {
        new ParallelPipeline(out, step).main();
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
                    step.accept("generator", n);
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
                        step.accept("worker", n);
                        results.send(new Steps(n, collatzSteps(n)));
                        count++;
                    }
                    return count;
                }));
            }
            CompletableFuture<TreeMap<Integer, Integer>> sink = pool.submit(() -> {
                TreeMap<Integer, Integer> sorted = new TreeMap<>();
                for (Steps s : results) {
                    step.accept("sink", s.n());
                    sorted.put(s.n(), s.steps());
                }
                return sorted;
            });

            List<CompletableFuture<?>> stages = new ArrayList<>();
            stages.add(generator);
            stages.addAll(workers);
            stages.add(sink);
            awaitAll(stages, workers, numbers, results);    // throws the first failure, if a stage failed

            int sent = Coroutine.await(generator);
            int transformed = 0;
            for (CompletableFuture<Integer> w : workers) {
                transformed += Coroutine.await(w);          // how they split the work varies; the total does not
            }
            TreeMap<Integer, Integer> steps = Coroutine.await(sink);

            out.printf(Locale.ROOT, "generator: sent %d numbers%n", sent);
            out.printf(Locale.ROOT, "transform: %d workers transformed %d numbers%n", WORKERS, transformed);
            out.printf(Locale.ROOT, "sink: collected %d results, sorted by number:%n", steps.size());
            Map.Entry<Integer, Integer> longest = null;
            for (Map.Entry<Integer, Integer> e : steps.entrySet()) {
                out.printf(Locale.ROOT, "  %2d -> %2d steps%n", e.getKey(), e.getValue());
                if (longest == null || e.getValue() > longest.getValue()) {
                    longest = e;
                }
            }
            out.printf(Locale.ROOT, "longest: %d takes %d steps%n", longest.getKey(), longest.getValue());
        }
    }

    /**
     * Waits until every stage has ended, whichever ends first: once every worker has ended, nothing
     * more will come, and it closes {@code results}, which ends the sink's loop. The first stage it
     * sees fail makes it close both channels with that failure as the cause, which ends every other
     * stage wherever it is (a closed channel refuses its sends, and ends its loop once drained); once
     * all have ended, it throws that failure.
     *
     * @throws RuntimeException the first failure of a stage, with the failures of any other stage that
     *                          failed on its own suppressed in it; those the closes caused (a
     *                          {@link ChannelClosedException} whose cause is the first) are not added
     */
    private static void awaitAll(List<CompletableFuture<?>> stages, List<CompletableFuture<Integer>> workers,
                                 Channel<?> numbers, Channel<?> results) {
        List<CompletableFuture<?>> running = new ArrayList<>(stages);
        Throwable failure = null;
        while (!running.isEmpty()) {
            Select<Object> oneEnds = new Select<>();
            for (CompletableFuture<?> stage : running) {
                oneEnds.onComplete(stage, value -> value);
            }
            try {
                oneEnds.select();                           // parks until a stage ends
            } catch (CompletionException e) {
                // a stage failed: read below, with every other that ended meanwhile
            }
            for (Iterator<CompletableFuture<?>> it = running.iterator(); it.hasNext(); ) {
                CompletableFuture<?> stage = it.next();
                if (!stage.isDone()) {
                    continue;
                }
                it.remove();
                try {
                    Coroutine.await(stage);                 // complete: returns at once
                } catch (CompletionException e) {
                    Throwable f = e.getCause();
                    if (failure == null) {
                        failure = f;
                        numbers.close(f);                   // wakes every stage parked on either channel
                        results.close(f);
                    } else if (f != failure && !(f instanceof ChannelClosedException && f.getCause() == failure)) {
                        failure.addSuppressed(f);
                    }
                }
            }
            if (failure == null && workers.stream().allMatch(CompletableFuture::isDone)) {
                results.close();                            // every worker has ended: nothing more will come
            }
        }
        if (failure instanceof RuntimeException e) {
            throw e;
        } else if (failure instanceof Error e) {
            throw e;
        } else if (failure != null) {
            throw new CompletionException(failure);
        }
    }
}
