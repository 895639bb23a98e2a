package dev.coro.bench;

import dev.coro.Coroutine;
import dev.coro.Generator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import jdk.internal.vm.Continuation;

/**
 * Questions 1, 2 and 9 again, measured so that load from other processes cancels out: the coroutine
 * (or generator) and its raw-continuation baseline take turns in short slices within one JVM, and the
 * ratio is taken per percentile of the slices.
 *
 * <p>JMH runs one benchmark after another, so on a shared machine a burst of load can land on one
 * side of a ratio only (in one full run the same {@code CoroPingPong} measured 157, 235 and 1,207 ns
 * in the three classes that then ran it). Here every slice ({@value #SLICE_OPS} ops of each side, the order alternating)
 * sees the same load as its neighbour, and the figure that counts is the median over the slices of
 * the ratio of each coroutine slice to the raw slice next to it. One op is what it is in {@link SwitchBenchmark} (a one-way
 * transfer) and {@link RoundTripBenchmark} (a round trip); {@code generator} and {@code buffered} are
 * one {@code next()} of an endless {@code Generator<Long>}, plain and read-ahead
 * ({@value GeneratorBenchmark#BUFFER} values per resume), against the raw round trip; {@code await} is
 * {@code Coroutine.await} of a completed future against its {@code join()} (1,024 futures, taken in turn;
 * {@link AwaitBenchmark}). {@value #WARMUP} slices warm up, then
 * {@value #SLICES} are measured.
 *
 * <p>Run: {@code benchmarks/run.sh interleaved} (prints a table; with an argument, also writes JSON there).
 */
public final class InterleavedRatio {

    static final int SLICE_OPS = 20_000;
    static final int WARMUP = 100;
    static final int SLICES = 300;

    private InterleavedRatio() {
    }

    /** One side of a comparison: runs {@code SLICE_OPS} ops. */
    private interface Side {
        void slice();
    }

    /**
     * Measures both comparisons and prints them; writes JSON to {@code args[0]} if given.
     *
     * @param args optional output file
     * @throws IOException if the JSON cannot be written
     */
    public static void main(String[] args) throws IOException {
        // the round-trip coroutine first: its yield() then returns to main (index 0)
        Coroutine yielder = Coroutine.create("yielder", () -> {
            while (true) {
                Coroutine.yield();
            }
        });
        Continuation rawYielder = new Continuation(RawPingPong.SCOPE, () -> {
            while (true) {
                Continuation.yield(RawPingPong.SCOPE);
            }
        });
        CoroPingPong coroPair = new CoroPingPong(1000);
        RawPingPong rawPair = new RawPingPong(1000);
        List<String> json = new ArrayList<>();
        json.add(compare("switch", "SwitchBenchmark", () -> {
            for (int i = 0; i < SLICE_OPS / 1000; i++) {
                coroPair.run();
            }
        }, () -> {
            for (int i = 0; i < SLICE_OPS / 1000; i++) {
                rawPair.run();
            }
        }));
        json.add(compare("round trip", "RoundTripBenchmark", () -> {
            for (int i = 0; i < SLICE_OPS; i++) {
                yielder.switchTo();
            }
        }, () -> {
            for (int i = 0; i < SLICE_OPS; i++) {
                rawYielder.run();
            }
        }));
        Generator<Long> naturals = Generator.of("naturals", out -> {
            for (long i = 0; ; i++) {
                out.emit(i);
            }
        });
        Generator<Long> bufferedNaturals = Generator.buffered("buffered naturals", GeneratorBenchmark.BUFFER, out -> {
            for (long i = 0; ; i++) {
                out.emit(i);
            }
        });
        long[] sink = new long[1];
        json.add(compare("generator", "GeneratorBenchmark", () -> {
            long sum = 0;
            for (int i = 0; i < SLICE_OPS; i++) {
                sum += naturals.next();
            }
            sink[0] += sum;
        }, () -> {
            for (int i = 0; i < SLICE_OPS; i++) {
                rawYielder.run();
            }
        }));
        json.add(compare("buffered", "GeneratorBenchmark", () -> {
            long sum = 0;
            for (int i = 0; i < SLICE_OPS; i++) {
                sum += bufferedNaturals.next();
            }
            sink[0] += sum;
        }, () -> {
            for (int i = 0; i < SLICE_OPS; i++) {
                rawYielder.run();
            }
        }));
        @SuppressWarnings("unchecked")
        CompletableFuture<Long>[] done = new CompletableFuture[1024];
        for (int i = 0; i < done.length; i++) {
            done[i] = CompletableFuture.completedFuture((long) i);
        }
        json.add(compare("await", "AwaitBenchmark", () -> {
            long sum = 0;
            for (int i = 0; i < SLICE_OPS; i++) {
                sum += Coroutine.await(done[i & 1023]);
            }
            sink[0] += sum;
        }, () -> {
            long sum = 0;
            for (int i = 0; i < SLICE_OPS; i++) {
                sum += done[i & 1023].join();
            }
            sink[0] += sum;
        }));
        naturals.close();
        bufferedNaturals.close();
        coroPair.close();
        yielder.close();
        if (args.length > 0) {
            Files.writeString(Path.of(args[0]), "[\n" + String.join(",\n", json) + "\n]\n");
        }
    }

    /** Alternates the two sides slice by slice; prints and returns the JSON of their percentiles. */
    private static String compare(String name, String benchmark, Side coro, Side raw) {
        double[] c = new double[SLICES];
        double[] r = new double[SLICES];
        for (int s = -WARMUP; s < SLICES; s++) {
            double tc;
            double tr;
            if ((s & 1) == 0) {
                tc = time(coro);
                tr = time(raw);
            } else {
                tr = time(raw);
                tc = time(coro);
            }
            if (s >= 0) {
                c[s] = tc;
                r[s] = tr;
            }
        }
        double[] paired = new double[SLICES];
        for (int s = 0; s < SLICES; s++) {
            paired[s] = c[s] / r[s];
        }
        Arrays.sort(paired);
        double pairedMedian = paired[SLICES / 2];
        Arrays.sort(c);
        Arrays.sort(r);
        double[] ps = {0, 0.1, 0.5};
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "  {\"name\": \"%s\", \"benchmark\": \"%s\"", name, benchmark));
        for (double p : ps) {
            int k = (int) (p * (SLICES - 1));
            String key = p == 0 ? "min" : p == 0.5 ? "median" : "p10";
            out.append(String.format(Locale.ROOT, ", \"%s\": {\"coro\": %.1f, \"raw\": %.1f}", key, c[k], r[k]));
            System.out.printf(Locale.ROOT, "%-10s %-6s coroutine %7.1f ns, raw %7.1f ns, ratio %.2f%n", name, key, c[k], r[k], c[k] / r[k]);
        }
        System.out.printf(Locale.ROOT, "%-10s median of the %d paired slice ratios: %.3f%n", name, SLICES, pairedMedian);
        return out.append(String.format(Locale.ROOT, ", \"pairedMedianRatio\": %.4f}", pairedMedian)).toString();
    }

    /** Nanoseconds per op of one slice. */
    private static double time(Side side) {
        long t0 = System.nanoTime();
        side.slice();
        return (System.nanoTime() - t0) / (double) SLICE_OPS;
    }
}
