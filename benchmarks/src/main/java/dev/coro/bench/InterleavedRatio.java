package dev.coro.bench;

import dev.coro.Coroutine;
import dev.coro.Generator;
import dev.coro.bench.kotlin.KotlinChannels;
import dev.coro.bench.kotlin.KotlinSequences;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
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
 * ({@value GeneratorBenchmark#BUFFER} values per resume), against the raw round trip; {@code buffered vs sequence}
 * is the read-ahead one against kotlinx's {@code sequence {}} iterator (its rival), and {@code buffered sum vs
 * sequence} the same pair made, consumed and summed {@value GeneratorBenchmark#SUM_N} elements at a time
 * ({@link GeneratorBenchmark}'s {@code Sum1000}s; one op is one element); {@code channel vs kotlin} is one
 * message of {@link ChannelBenchmark}'s rendezvous ping-pong against kotlinx's (one {@code runBlocking} per
 * slice); {@code await} is
 * {@code Coroutine.await} of a completed future against its {@code join()} (1,024 futures, taken in turn;
 * {@link AwaitBenchmark}). {@value #WARMUP} slices warm up, then
 * {@value #SLICES} are measured.
 *
 * <p>Questions 11 and 12 the same way, against a coro baseline: {@code sleep} is one
 * {@link VirtualTimeDelayBenchmark#coroVirtualTimeSleep} invocation per slice ({@value VirtualTimeDelayBenchmark#TOTAL}
 * sleeps) against one {@code coroVirtualTimeYield} (as many yields, same shape), {@value #SLEEP_WARMUP} slices
 * warming up and {@value #SLEEP_SLICES} measured; {@code select} is {@value #SLICE_OPS} values received by
 * {@link SelectBenchmark}'s select against as many messages of its plain ping-pong.
 *
 * <p>Run: {@code benchmarks/run.sh interleaved} (prints a table; with an argument, also writes JSON there;
 * {@code -Dinterleaved.only=REGEX} makes only the comparisons whose names match, the others skipped).
 */
public final class InterleavedRatio {

    static final int SLICE_OPS = 20_000;
    static final int WARMUP = 100;
    static final int SLICES = 300;
    static final int SLEEP_WARMUP = 20;
    static final int SLEEP_SLICES = 60;
    /** The comparisons to make, by name: {@code -Dinterleaved.only=REGEX} (all by default). */
    private static final java.util.regex.Pattern ONLY = java.util.regex.Pattern.compile(System.getProperty("interleaved.only", ".*"));

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
        List<String> json = new ArrayList<>();
        // first, while the thread has no coroutine (VirtualTime.run needs one with none)
        java.time.Duration[] durations = VirtualTimeDelayBenchmark.durations(VirtualTimeDelayBenchmark.delays());
        long[] sink = new long[1];
        json.add(compare("sleep", "VirtualTimeDelayBenchmark", "yield", () -> {
            sink[0] += VirtualTimeDelayBenchmark.sleepers(durations, VirtualTimeDelayBenchmark.COROUTINES);
        }, () -> {
            sink[0] += VirtualTimeDelayBenchmark.yielders(VirtualTimeDelayBenchmark.COROUTINES, VirtualTimeDelayBenchmark.DELAYS_EACH);
        }, VirtualTimeDelayBenchmark.TOTAL, SLEEP_WARMUP, SLEEP_SLICES));
        // then alone with its own coroutines: a select that parks runs the previous runnable context,
        // which must be a producer, not one of the yielders made below
        SelectBenchmark.Producers producers = new SelectBenchmark.Producers();
        producers.setUp();
        ChannelBenchmark.CoroChannelPingPong channelPair = new ChannelBenchmark.CoroChannelPingPong(SLICE_OPS);
        json.add(compare("select", "SelectBenchmark", "ping-pong", () -> {
            sink[0] += SelectBenchmark.selectReceive(producers, SLICE_OPS);
        }, () -> {
            sink[0] += channelPair.run();
        }, SLICE_OPS, WARMUP, SLICES));
        producers.tearDown();
        json.add(compare("channel vs kotlin", "ChannelBenchmark", "kotlin", () -> {
            sink[0] += channelPair.run();
        }, () -> {
            sink[0] += KotlinChannels.pingPong(SLICE_OPS / 2);
        }, SLICE_OPS, WARMUP, SLICES));
        channelPair.close();
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
        Iterator<Long> sequence = KotlinSequences.naturals();
        json.add(compare("buffered vs sequence", "GeneratorBenchmark", "kotlin", () -> {
            long sum = 0;
            for (int i = 0; i < SLICE_OPS; i++) {
                sum += bufferedNaturals.next();
            }
            sink[0] += sum;
        }, () -> {
            long sum = 0;
            for (int i = 0; i < SLICE_OPS; i++) {
                sum += sequence.next();
            }
            sink[0] += sum;
        }, SLICE_OPS, WARMUP, SLICES));
        json.add(compare("buffered sum vs sequence", "GeneratorBenchmark", "kotlin", () -> {
            for (int i = 0; i < SLICE_OPS / GeneratorBenchmark.SUM_N; i++) {
                sink[0] += GeneratorBenchmark.coroBufferedSum(GeneratorBenchmark.SUM_N);
            }
        }, () -> {
            for (int i = 0; i < SLICE_OPS / GeneratorBenchmark.SUM_N; i++) {
                sink[0] += KotlinSequences.sum(GeneratorBenchmark.SUM_N);
            }
        }, SLICE_OPS, WARMUP, SLICES));
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
            json.removeIf(java.util.Objects::isNull);
            Files.writeString(Path.of(args[0]), "[\n" + String.join(",\n", json) + "\n]\n");
        }
    }

    /** Alternates the coroutine and its raw baseline slice by slice; prints and returns the JSON of their percentiles. */
    private static String compare(String name, String benchmark, Side coro, Side raw) {
        return compare(name, benchmark, "raw", coro, raw, SLICE_OPS, WARMUP, SLICES);
    }

    /**
     * Alternates the two sides slice by slice ({@code ops} each, {@code warmup} slices unmeasured, then
     * {@code slices}); prints and returns the JSON of their percentiles (the baseline under {@code "raw"}); null, measuring nothing, if {@code name} is not one of {@code -Dinterleaved.only}.
     */
    private static String compare(String name, String benchmark, String baseline, Side coro, Side raw, int ops, int warmup,
                                  int slices) {
        if (!ONLY.matcher(name).matches()) {
            return null;
        }
        double[] c = new double[slices];
        double[] r = new double[slices];
        for (int s = -warmup; s < slices; s++) {
            double tc;
            double tr;
            if ((s & 1) == 0) {
                tc = time(coro, ops);
                tr = time(raw, ops);
            } else {
                tr = time(raw, ops);
                tc = time(coro, ops);
            }
            if (s >= 0) {
                c[s] = tc;
                r[s] = tr;
            }
        }
        double[] paired = new double[slices];
        for (int s = 0; s < slices; s++) {
            paired[s] = c[s] / r[s];
        }
        Arrays.sort(paired);
        double pairedMedian = paired[slices / 2];
        Arrays.sort(c);
        Arrays.sort(r);
        double[] ps = {0, 0.1, 0.5};
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "  {\"name\": \"%s\", \"benchmark\": \"%s\"", name, benchmark));
        for (double p : ps) {
            int k = (int) (p * (slices - 1));
            String key = p == 0 ? "min" : p == 0.5 ? "median" : "p10";
            out.append(String.format(Locale.ROOT, ", \"%s\": {\"coro\": %.1f, \"raw\": %.1f}", key, c[k], r[k]));
            System.out.printf(Locale.ROOT, "%-10s %-6s coroutine %7.1f ns, %s %7.1f ns, ratio %.2f%n", name, key, c[k], baseline, r[k],
                    c[k] / r[k]);
        }
        System.out.printf(Locale.ROOT, "%-10s median of the %d paired slice ratios: %.3f%n", name, slices, pairedMedian);
        return out.append(String.format(Locale.ROOT, ", \"pairedMedianRatio\": %.4f}", pairedMedian)).toString();
    }

    /** Nanoseconds per op of one slice of {@code ops} ops. */
    private static double time(Side side, int ops) {
        long t0 = System.nanoTime();
        side.slice();
        return (System.nanoTime() - t0) / (double) ops;
    }
}
