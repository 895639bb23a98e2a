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
 * time from process start to the end of the first run, JVM start included) and warmed up (the runs
 * after the first, timed inside the same JVM).
 *
 * <p>Starts {@link ScaleWorkload} in a fresh JDK process per variant (the {@code java} running this
 * class, the same class path), doing {@value #RUNS} runs. Few runs: one run takes about a minute on
 * this shared machine, and the whole suite must fit in 15 minutes. Does it for coroutines, for raw
 * continuations, and for coroutines with the JVM flags of the investigation.
 *
 * <p>Run: {@code benchmarks/run.sh scale} (prints a table; with an argument, also writes JSON there).
 */
public final class ScaleRunner {

    /** Runs per child JVM: the first is the cold one, the others give the warm figure. */
    static final int RUNS = 2;

    /** One configuration: which workload, with which extra JVM flags. */
    record Variant(String name, String kind, List<String> flags) {
    }

    /**
     * The configurations of the suite: the library's default first, then the raw baseline, then the
     * two JVM flags the investigation found (see {@code benchmarks/ANALYSIS.md}): a heap sized up
     * front (fewer young collections copying live stack chunks) and no C2 traps on untaken branches
     * (no deoptimization per coroutine when each leaves its loop).
     */
    static final List<Variant> VARIANTS = List.of(
            new Variant("coro", "coro", List.of()),
            new Variant("raw", "raw", List.of()),
            new Variant("coro, both mitigations", "coro", List.of("-Xms2g", "-XX:PerMethodTrapLimit=0")));

    private ScaleRunner() {
    }

    /**
     * Measures every variant cold and warm and prints a table; writes JSON to {@code args[0]} if given.
     *
     * @param args optional output file, then optionally the number of coroutines (1,000,000)
     * @throws Exception if a child JVM cannot be run or fails
     */
    public static void main(String[] args) throws Exception {
        List<String> json = new ArrayList<>();
        String n = args.length > 1 ? args[1] : "1000000";
        for (Variant v : VARIANTS) {
            Spawned r = spawn(v, RUNS, n);
            double warm = median(r.runsMs().subList(1, RUNS).stream().mapToDouble(d -> d).toArray());
            System.out.printf(Locale.ROOT, "%-34s cold %8.0f ms (wall to the end of run 1, JVM start included)  warm %8.0f ms (runs %s)  cold/warm %.2f%n",
                    v.name(), r.coldWallMs(), warm, fmt(r.runsMs()), r.coldWallMs() / warm);
            json.add(String.format(Locale.ROOT,
                    "  {\"name\": \"%s\", \"kind\": \"%s\", \"flags\": \"%s\", \"coldMs\": [%.1f], \"warmRunsMs\": %s, \"coldMedianMs\": %.1f, \"warmMs\": %.1f}",
                    v.name(), v.kind(), String.join(" ", v.flags()), r.coldWallMs(), fmt(r.runsMs().subList(1, RUNS)),
                    r.coldWallMs(), warm));
        }
        if (args.length > 0) {
            Files.writeString(Path.of(args[0]), "[\n" + String.join(",\n", json) + "\n]\n");
        }
    }

    /** What one child JVM reported: wall time from its start to the end of its first run, and every run's time. */
    record Spawned(double coldWallMs, List<Double> runsMs) {
    }

    /** Runs the workload {@code runs} times in a fresh JVM. */
    static Spawned spawn(Variant v, int runs, String n) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.add("-Xmx2g");
        cmd.add(Jvm.EXPORTS);
        cmd.addAll(v.flags());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), ScaleWorkload.class.getName(),
                v.kind(), Integer.toString(runs), n));
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        double cold = Double.NaN;
        List<Double> times = new ArrayList<>();
        StringBuilder out = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                out.append(line).append('\n');
                if (line.startsWith("run ")) {
                    if (times.isEmpty()) {
                        cold = (System.nanoTime() - t0) / 1e6;
                    }
                    times.add(Double.parseDouble(line.split(" ")[2]));
                }
            }
        }
        int exit = p.waitFor();
        if (exit != 0 || times.size() != runs) {
            throw new IllegalStateException(String.join(" ", cmd) + " exited with " + exit + ":\n" + out);
        }
        return new Spawned(cold, times);
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
