package dev.coro.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Question 7: 1,000,000 coroutines × 10 yields round robin with {@code -Xmx2g}, from a cold JVM (wall
 * time from process start to exit, JVM start included) and warmed up (the later runs of one JVM).
 *
 * <p>Starts {@link ScaleWorkload} in fresh JDK processes (the {@code java} running this class, the
 * same class path): {@value #COLD_RUNS} single-run JVM(s) for the cold figure (median), and one JVM doing
 * {@value #WARM_RUNS} runs, all but the first giving the warm figure (median). Few runs: one run of the
 * workload takes about a minute on this machine, and the whole suite must fit in 15 minutes. Does it for coroutines and
 * for raw continuations, and for the variants of the investigation (extra JVM flags).
 *
 * <p>Run: {@code benchmarks/run.sh scale} (prints a table; with an argument, also writes JSON there).
 */
public final class ScaleRunner {

    static final int COLD_RUNS = 1;
    static final int WARM_RUNS = 2;

    /** One configuration: which workload, with which extra JVM flags. */
    record Variant(String name, String kind, List<String> flags) {
    }

    /** The configurations of the suite: the library's default first, then the raw baseline. */
    static final List<Variant> VARIANTS = List.of(
            new Variant("coro", "coro", List.of()),
            new Variant("raw", "raw", List.of()));

    private ScaleRunner() {
    }

    /**
     * Measures every variant cold and warm and prints a table; writes JSON to {@code args[0]} if given.
     *
     * @param args optional output file
     * @throws Exception if a child JVM cannot be run or fails
     */
    public static void main(String[] args) throws Exception {
        List<String> json = new ArrayList<>();
        for (Variant v : VARIANTS) {
            double[] cold = new double[COLD_RUNS];
            for (int i = 0; i < COLD_RUNS; i++) {
                long t0 = System.nanoTime();
                List<Double> runs = spawn(v, 1);
                cold[i] = (System.nanoTime() - t0) / 1e6;
                if (runs.size() != 1) {
                    throw new IllegalStateException(v.name() + ": expected one run, got " + runs);
                }
            }
            List<Double> warmRuns = spawn(v, WARM_RUNS);
            double coldMedian = median(cold);
            double warm = median(warmRuns.subList(1, WARM_RUNS).stream().mapToDouble(d -> d).toArray());
            System.out.printf(Locale.ROOT, "%-14s cold %8.0f ms (wall, JVM start included; runs %s)  warm %8.0f ms (runs %s)  cold/warm %.2f%n",
                    v.name(), coldMedian, fmt(Arrays.stream(cold).boxed().toList()), warm, fmt(warmRuns), coldMedian / warm);
            json.add(String.format(Locale.ROOT,
                    "  {\"name\": \"%s\", \"kind\": \"%s\", \"flags\": \"%s\", \"coldMs\": %s, \"warmRunsMs\": %s, \"coldMedianMs\": %.1f, \"warmMs\": %.1f}",
                    v.name(), v.kind(), String.join(" ", v.flags()), fmt(Arrays.stream(cold).boxed().toList()),
                    fmt(warmRuns), coldMedian, warm));
        }
        if (args.length > 0) {
            Files.writeString(Path.of(args[0]), "[\n" + String.join(",\n", json) + "\n]\n");
        }
    }

    /** Runs the workload {@code runs} times in a fresh JVM; returns each run's milliseconds. */
    static List<Double> spawn(Variant v, int runs) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.add("-Xmx2g");
        cmd.add(Jvm.EXPORTS);
        cmd.addAll(v.flags());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), ScaleWorkload.class.getName(),
                v.kind(), Integer.toString(runs)));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        List<Double> times = new ArrayList<>();
        StringBuilder out = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                out.append(line).append('\n');
                if (line.startsWith("run ")) {
                    times.add(Double.parseDouble(line.split(" ")[2]));
                }
            }
        }
        int exit = p.waitFor();
        if (exit != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " exited with " + exit + ":\n" + out);
        }
        return times;
    }

    static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static String fmt(List<Double> xs) {
        return xs.stream().map(d -> String.format(Locale.ROOT, "%.1f", d)).collect(Collectors.joining(", ", "[", "]"));
    }
}
