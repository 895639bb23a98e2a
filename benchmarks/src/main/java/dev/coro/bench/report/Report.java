package dev.coro.bench.report;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.awt.Color;
import java.awt.Font;
import java.awt.Paint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.DoublePredicate;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.labels.ItemLabelAnchor;
import org.jfree.chart.labels.ItemLabelPosition;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.data.category.DefaultCategoryDataset;

/**
 * Turns one run's results (JMH JSON, the memory and scale programs' JSON, the machine description)
 * into {@code BENCHMARKS.md}, the chart {@code benchmarks.png} of every benchmark and the chart
 * {@code coro-vs-kotlinx.png} of the coro vs kotlinx.coroutines table.
 *
 * <p>Arguments: {@code <results dir> <docs dir> [analysis.md]}. The results directory holds
 * {@code jmh.json}, {@code memory.json}, {@code scale.json} and {@code env.txt} (any may be missing;
 * the report says so). The analysis file, written by hand, is appended verbatim.
 */
public final class Report {

    /** The file name of the coro vs kotlinx.coroutines chart, beside {@code benchmarks.png}. */
    static final String KOTLIN_CHART = "coro-vs-kotlinx.png";

    /**
     * The format of {@code pattern} with the root locale's symbols, for the numbers a chart draws: ASCII digits, a
     * comma between thousands and a point before the decimals whatever the JVM's default locale, as the tables write
     * them ({@link String#format(Locale, String, Object...)} with {@link Locale#ROOT}), not {@code 1.234,5} under a
     * German default.
     *
     * @param pattern a {@link DecimalFormat} pattern, e.g. {@code #,##0.0}
     * @return a new format, which is not safe for use by several threads at once
     */
    public static DecimalFormat rootFormat(String pattern) {
        return new DecimalFormat(pattern, DecimalFormatSymbols.getInstance(Locale.ROOT));
    }

    private final Map<String, Result> jmh = new LinkedHashMap<>();
    private JsonObject settings;
    private JsonArray memory;
    private JsonArray scale;
    private JsonArray interleaved;
    /** {@code TimerLateness}'s last rounds, one per engine; empty if not measured. */
    private final List<JsonObject> lateness = new ArrayList<>();
    private final List<String[]> env = new ArrayList<>();

    /** One JMH benchmark's score. */
    record Result(String clazz, String method, double score, double error, String unit, double allocNorm,
                  double allocError, double best) {
        String name() {
            return clazz + "." + method;
        }
    }

    /**
     * The virtual-thread handoffs of one transfer the switch is compared with: park/unpark in
     * {@code SwitchBenchmark}, {@code SynchronousQueue} with the channels (one carrier and default scheduler).
     */
    static final List<String> VT_HANDOFFS = List.of("SwitchBenchmark.vtParkUnpark", "SwitchBenchmark.vtParkUnparkParallelism1",
            "CrossThreadChannelBenchmark.vtSynchronousQueue", "ChannelBenchmark.vtSynchronousQueueParallelism1");

    /**
     * One row of the coro vs kotlinx.coroutines table: the question, the coro benchmark and its
     * kotlinx rival (same class, same op). A coro side still to be written is named as it is to be.
     */
    record Rival(String question, String coro, String kotlin) {
    }

    /** The coro vs kotlinx.coroutines comparisons, in the order of the table and the chart. */
    static final List<Rival> KOTLIN_RIVALS = List.of(
            new Rival("generator, `next()` of an endless one", "GeneratorBenchmark.coroGeneratorNext",
                    "GeneratorBenchmark.kotlinSequenceNext"),
            new Rival("generator of 1,000 made, consumed, summed (per element)", "GeneratorBenchmark.coroGeneratorSum1000",
                    "GeneratorBenchmark.kotlinSequenceSum1000"),
            new Rival("read-ahead generator (n = 256), `next()` of an endless one", "GeneratorBenchmark.coroBufferedNext",
                    "GeneratorBenchmark.kotlinSequenceNext"),
            new Rival("read-ahead generator (n = 256) of 1,000 made, consumed, summed (per element)",
                    "GeneratorBenchmark.coroBufferedSum1000", "GeneratorBenchmark.kotlinSequenceSum1000"),
            new Rival("`yield()` ping-pong, 2 contexts (per yield)", "YieldRoundRobinBenchmark.coroYieldN1",
                    "YieldRoundRobinBenchmark.kotlinYieldN1"),
            new Rival("`yield()` round of 3 contexts (per yield)", "YieldRoundRobinBenchmark.coroYieldN2",
                    "YieldRoundRobinBenchmark.kotlinYieldN2"),
            new Rival("rendezvous channel ping-pong, one thread (per message)", "ChannelBenchmark.coroChannelPingPong",
                    "ChannelBenchmark.kotlinChannelPingPong"),
            new Rival("rendezvous channel ping-pong across threads (per message)", "CrossThreadChannelBenchmark.coroCrossThreadPingPong",
                    "CrossThreadChannelBenchmark.kotlinDefaultDispatcherPingPong"),
            new Rival("select over two rendezvous channels (per select)", "SelectBenchmark.coroSelectReceive",
                    "SelectBenchmark.kotlinSelectReceive"),
            new Rival("sleep in virtual time, 1,000 × 100 random delays (per delay)", "VirtualTimeDelayBenchmark.coroVirtualTimeSleep",
                    "VirtualTimeDelayBenchmark.kotlinRunTestDelay"),
            new Rival("skynet, 1,000,000 leaves (per run)", "SkynetBenchmark.coroSkynet",
                    "SkynetBenchmark.kotlinDefaultDispatcher"),
            new Rival("skynet, each subtree walked depth first on both sides (per run)", "SkynetBenchmark.coroSkynet",
                    "SkynetBenchmark.kotlinDefaultDispatcherUndispatched"));

    private Report() {
    }

    /**
     * Writes the report.
     *
     * @param args {@code <results dir> <docs dir> [analysis.md]}
     * @throws IOException if a file cannot be read or written
     */
    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            throw new IllegalArgumentException("usage: Report <results dir> <docs dir> [analysis.md]");
        }
        Path results = Path.of(args[0]);
        Path docs = Path.of(args[1]);
        Report r = new Report();
        r.load(results);
        Files.createDirectories(docs);
        String analysis = args.length > 2 && Files.exists(Path.of(args[2])) ? Files.readString(Path.of(args[2])) : "";
        Files.writeString(docs.resolve("BENCHMARKS.md"), r.markdown(analysis));
        r.chart(docs.resolve("benchmarks.png"));
        r.kotlinChart(docs.resolve(KOTLIN_CHART));
        System.out.println("wrote " + docs.resolve("BENCHMARKS.md") + ", " + docs.resolve("benchmarks.png") + " and "
                + docs.resolve(KOTLIN_CHART));
    }

    private void load(Path dir) throws IOException {
        Path j = dir.resolve("jmh.json");
        if (Files.exists(j)) {
            for (JsonElement e : JsonParser.parseString(Files.readString(j)).getAsJsonArray()) {
                JsonObject o = e.getAsJsonObject();
                settings = o;
                String full = o.get("benchmark").getAsString();
                String[] parts = full.split("\\.");
                JsonObject pm = o.getAsJsonObject("primaryMetric");
                double alloc = Double.NaN;
                double allocErr = Double.NaN;
                JsonObject sec = o.getAsJsonObject("secondaryMetrics");
                if (sec != null && sec.has("gc.alloc.rate.norm")) {
                    alloc = number(sec.getAsJsonObject("gc.alloc.rate.norm").get("score"));
                    allocErr = number(sec.getAsJsonObject("gc.alloc.rate.norm").get("scoreError"));
                }
                double best = Double.NaN;
                if (pm.has("rawData")) {
                    for (JsonElement fork : pm.getAsJsonArray("rawData")) {
                        for (JsonElement it : fork.getAsJsonArray()) {
                            double v = number(it);
                            best = Double.isNaN(best) ? v : Math.min(best, v);
                        }
                    }
                }
                Result res = new Result(parts[parts.length - 2], parts[parts.length - 1], number(pm.get("score")),
                        number(pm.get("scoreError")), pm.get("scoreUnit").getAsString(), alloc, allocErr, best);
                jmh.put(res.name(), res);
            }
        }
        Path m = dir.resolve("memory.json");
        if (Files.exists(m)) {
            memory = JsonParser.parseString(Files.readString(m)).getAsJsonArray();
        }
        Path s = dir.resolve("scale.json");
        if (Files.exists(s)) {
            scale = JsonParser.parseString(Files.readString(s)).getAsJsonArray();
        }
        Path il = dir.resolve("interleaved.json");
        if (Files.exists(il)) {
            interleaved = JsonParser.parseString(Files.readString(il)).getAsJsonArray();
        }
        Path lt = dir.resolve("lateness.jsonl");
        if (Files.exists(lt)) {
            for (String line : Files.readAllLines(lt)) {
                if (!line.isBlank()) {
                    lateness.add(JsonParser.parseString(line).getAsJsonObject());
                }
            }
        }
        Path en = dir.resolve("env.txt");
        if (Files.exists(en)) {
            for (String line : Files.readAllLines(en)) {
                int colon = line.indexOf(':');
                if (colon > 0) {
                    env.add(new String[] {line.substring(0, colon).trim(), line.substring(colon + 1).trim()});
                }
            }
        }
    }

    private static double number(JsonElement e) {
        if (e == null || e.isJsonNull()) {
            return Double.NaN;
        }
        String s = e.getAsString();
        return s.equals("NaN") ? Double.NaN : Double.parseDouble(s);
    }

    // ---- markdown --------------------------------------------------------------------------

    private String markdown(String analysis) {
        StringBuilder md = new StringBuilder();
        md.append("# Benchmarks\n\n");
        md.append("Generated by `benchmarks/run.sh` from one run of the suite; do not edit by hand (the analysis at the end\n"
                + "comes from `benchmarks/ANALYSIS.md`). Only ratios between figures of this one run mean anything:\n"
                + "the machine is shared, so absolute times move between runs.\n\n");
        md.append("![benchmarks](benchmarks.png)\n\n");
        machine(md);
        targets(md);
        kotlinTable(md);
        table(md);
        memoryTable(md);
        scaleTable(md);
        if (!analysis.isBlank()) {
            md.append(analysis.strip()).append("\n");
        }
        return md.toString();
    }

    private void machine(StringBuilder md) {
        md.append("## Machine, JDK and JMH settings\n\n| | |\n| --- | --- |\n");
        for (String[] kv : env) {
            md.append("| ").append(kv[0]).append(" | ").append(kv[1]).append(" |\n");
        }
        if (settings != null) {
            md.append("| JDK | ").append(str("jdkVersion")).append(", ").append(str("vmName")).append(' ')
                    .append(str("vmVersion")).append(" |\n");
            md.append("| JMH | ").append(str("jmhVersion")).append(", mode ").append(str("mode"))
                    .append(", threads ").append(str("threads")).append(", forks ").append(str("forks"))
                    .append(", warm-up ").append(str("warmupIterations")).append(" × ").append(str("warmupTime"))
                    .append(", measurement ").append(str("measurementIterations")).append(" × ")
                    .append(str("measurementTime")).append(", profiler `-prof gc` |\n");
            md.append("| Fork JVM flags | `").append(Jvm()).append("` (plus `-Djdk.virtualThreadScheduler.parallelism=1` or "
                    + "`-Dcoro.engine=threads` where the benchmark's name says so) |\n");
        }
        md.append("\n");
    }

    private String Jvm() {
        return settings.getAsJsonArray("jvmArgs").asList().stream().map(JsonElement::getAsString)
                .filter(a -> a.startsWith("--add-exports")).findFirst().orElse("");
    }

    private String str(String key) {
        JsonElement e = settings.get(key);
        return e == null ? "?" : e.getAsString();
    }

    private double score(String name) {
        Result r = jmh.get(name);
        return r == null ? Double.NaN : r.score();
    }

    /** The score in nanoseconds per op, whatever JMH's unit was; NaN if not measured. */
    private double nanos(String name) {
        Result r = jmh.get(name);
        if (r == null) {
            return Double.NaN;
        }
        return switch (r.unit()) {
            case "ns/op" -> r.score();
            case "us/op" -> r.score() * 1e3;
            case "ms/op" -> r.score() * 1e6;
            case "s/op" -> r.score() * 1e9;
            default -> Double.NaN;
        };
    }

    /** A time in ns, µs or ms, whichever reads best. */
    static String time(double nanos) {
        if (Double.isNaN(nanos)) {
            return "n/a";
        }
        if (nanos >= 1e6) {
            return String.format(Locale.ROOT, "%.1f ms", nanos / 1e6);
        }
        if (nanos >= 1e4) {
            return String.format(Locale.ROOT, "%.1f µs", nanos / 1e3);
        }
        return String.format(Locale.ROOT, "%.1f ns", nanos);
    }

    private boolean has(String name) {
        return jmh.containsKey(name);
    }

    private double alloc(String name) {
        Result r = jmh.get(name);
        return r == null ? Double.NaN : r.allocNorm();
    }

    private void targets(StringBuilder md) {
        md.append("## Targets\n\nMeasured: the ratio of JMH's scores (means over all iterations), which decides met or "
                + "missed. Best iterations: the same ratio over each benchmark's fastest measurement iteration; "
                + "interference from other processes only adds time, so on a loaded machine this is the steadier "
                + "estimate of the floor.\n\n| target | measured | best iterations | goal | |\n| --- | --- | --- | --- | --- |\n");
        scoreRatioRow(md, "Switch vs raw continuation trampoline", "SwitchBenchmark.coroSwitchTo", "SwitchBenchmark.rawTrampoline", 1.10);
        interleavedRow(md, "switch", "Switch vs raw trampoline, interleaved (median of paired slice ratios)");
        scoreRatioRow(md, "Main↔coroutine round trip vs raw `run()`+`yield()`", "RoundTripBenchmark.coroSwitchToAndYield",
                "RoundTripBenchmark.rawRunAndYield", 1.10);
        interleavedRow(md, "round trip", "Round trip vs raw, interleaved (median of paired slice ratios)");
        scoreRatioRow(md, "Generator `next()` vs raw `run()`+`yield()`", "GeneratorBenchmark.coroGeneratorNext",
                "RoundTripBenchmark.rawRunAndYield", 1.10);
        interleavedRow(md, "generator", "Generator `next()` vs raw round trip, interleaved (median of paired slice ratios)");
        interleavedRow(md, "buffered vs sequence",
                "Read-ahead generator (n = 256) `next()` vs kotlinx `sequence {}`, interleaved (median of paired slice ratios)", 1.0);
        scoreRatioRow(md, "Read-ahead generator (n = 256), 1,000 made, consumed, summed, per element vs kotlinx `sequence {}`",
                "GeneratorBenchmark.coroBufferedSum1000", "GeneratorBenchmark.kotlinSequenceSum1000", 1.0);
        interleavedRow(md, "buffered sum vs sequence",
                "Read-ahead sum of 1,000 vs kotlinx `sequence {}` sum, interleaved (median of paired slice ratios)", 1.0);
        scoreRatioRow(md, "Rendezvous channel ping-pong, one thread, per message vs kotlinx", "ChannelBenchmark.coroChannelPingPong",
                "ChannelBenchmark.kotlinChannelPingPong", 1.0);
        interleavedRow(md, "channel vs kotlin",
                "Channel ping-pong vs kotlinx's, interleaved (median of paired slice ratios)", 1.0);
        double y2 = score("YieldRoundRobinBenchmark.coroYieldN2");
        double y100k = score("YieldRoundRobinBenchmark.coroYieldN100000");
        row(md, "Yield with 100,000 coroutines vs with 2", ratio(y100k, y2) + " (" + ns(y100k) + " vs " + ns(y2) + ")",
                bestRatio("YieldRoundRobinBenchmark.coroYieldN100000", "YieldRoundRobinBenchmark.coroYieldN2")
                        + " (raw continuations, 100,000 vs the round trip's one: "
                        + ratio(score("YieldRoundRobinBenchmark.rawYieldN100000"), score("RoundTripBenchmark.rawRunAndYield")) + ")",
                "≤ 1.5×", y100k / y2, x -> x <= 1.5);
        double rawScale = score("YieldRoundRobinBenchmark.rawYieldN100000") / score("RoundTripBenchmark.rawRunAndYield");
        row(md, "Yield with 100,000 vs 2, over the raw continuations' own ratio (100,000 vs one)",
                String.format(Locale.ROOT, "%.2f× (%.2f vs %.2f)", (y100k / y2) / rawScale, y100k / y2, rawScale), "n/a", "≤ 1.15×",
                (y100k / y2) / rawScale, x -> x <= 1.15);
        String sw1 = "SwitchBenchmark.coroSwitchTo";
        double hs = score(sw1);
        String bestVt = null;
        for (String n : VT_HANDOFFS) {
            if (jmh.containsKey(n) && (bestVt == null || score(n) < score(bestVt))) {
                bestVt = n;
            }
        }
        double vt = bestVt == null ? Double.NaN : score(bestVt);
        row(md, "Switch faster than the best virtual-thread handoff (" + (bestVt == null ? "none" : "`" + bestVt + "`") + ")",
                ratio(vt, hs) + " (" + ns(vt) + " vs " + ns(hs) + ")",
                bestVt == null ? "n/a" : bestRatio(bestVt, sw1), "≥ 1.5×", vt / hs, x -> x >= 1.5);
        double pt = score("SwitchBenchmark.platformParkUnpark");
        row(md, "Switch faster than platform-thread park/unpark", ratio(pt, hs) + " (" + ns(pt) + " vs " + ns(hs) + ")",
                bestRatio("SwitchBenchmark.platformParkUnpark", sw1), "≥ 30×", pt / hs, x -> x >= 30);
        if (memory != null) {
            for (JsonElement e : memory) {
                JsonObject o = e.getAsJsonObject();
                double c = o.get("coroBytes").getAsDouble();
                double rw = o.get("rawBytes").getAsDouble();
                row(md, String.format(Locale.ROOT, "Heap per suspended coroutine, depth %d (%,d kept) vs raw continuation",
                        o.get("depth").getAsInt(), o.get("count").getAsInt()),
                        ratio(c, rw) + String.format(Locale.ROOT, " (%.0f B vs %.0f B)", c, rw), "≤ 1.25×", c / rw, x -> x <= 1.25);
            }
        } else {
            md.append("| Heap per suspended coroutine | not measured in this run | | ≤ 1.25× | |\n");
        }
        for (String n : List.of("SwitchBenchmark.coroSwitchTo", "RoundTripBenchmark.coroSwitchToAndYield",
                "YieldRoundRobinBenchmark.coroYieldN2", "YieldRoundRobinBenchmark.coroYieldN1000",
                "YieldRoundRobinBenchmark.coroYieldN100000")) {
            double a = alloc(n);
            row(md, "Bytes allocated per op, `" + n + "`", Double.isNaN(a) ? "n/a" : String.format(Locale.ROOT, "%.3f B/op", a),
                    "0 (< 1 B/op)", a, x -> x < 1.0);
        }
        timeAndSelect(md);
        if (scale != null) {
            double coroWarm = Double.NaN;
            double rawWarm = Double.NaN;
            for (JsonElement e : scale) {
                JsonObject o = e.getAsJsonObject();
                if (!o.get("flags").getAsString().isEmpty()) {
                    continue;
                }
                double warm = o.get("warmMs").getAsDouble();
                if (!o.get("kind").getAsString().equals("coro")) {
                    rawWarm = warm;
                    continue;
                }
                coroWarm = warm;
                double cold = o.get("coldMedianMs").getAsDouble();
                row(md, "1,000,000 coroutines × 10 yields with `-Xmx2g`: completes", "yes", "completes", 1, x -> true);
                row(md, "1,000,000 × 10 yields, cold (wall, JVM start included) vs warm", ratio(cold, warm)
                        + String.format(Locale.ROOT, " (%.1f s vs %.1f s)", cold / 1000, warm / 1000), "≤ 2×", cold / warm, x -> x <= 2);
            }
            row(md, "1,000,000 × 10 yields, warm, vs raw continuations warm", ratio(coroWarm, rawWarm)
                    + String.format(Locale.ROOT, " (%.1f s vs %.1f s)", coroWarm / 1000, rawWarm / 1000), "≤ 1.5×",
                    coroWarm / rawWarm, x -> x <= 1.5);
        } else {
            md.append("| 1,000,000 × 10 yields | not measured in this run | | cold ≤ 2× warm | |\n");
        }
        String te1Name = "SwitchBenchmark.coroSwitchToThreadEngine";
        String te2Name = "SwitchBenchmark.coroSwitchToThreadEngineParallelism1";
        String tv1Name = "SwitchBenchmark.vtParkUnpark";
        String tv2Name = "SwitchBenchmark.vtParkUnparkParallelism1";
        if (has(te2Name)) {
            row(md, "Thread engine switch vs VT park/unpark, default scheduler (same class)",
                    ratio(score(te1Name), score(tv1Name)) + " (" + ns(score(te1Name)) + " vs " + ns(score(tv1Name)) + ")",
                    bestRatio(te1Name, tv1Name), "≤ 1.25× (like with like)", score(te1Name) / score(tv1Name), x -> x <= 1.25);
            row(md, "Thread engine switch vs VT park/unpark, one carrier (same class)",
                    ratio(score(te2Name), score(tv2Name)) + " (" + ns(score(te2Name)) + " vs " + ns(score(tv2Name)) + ")",
                    bestRatio(te2Name, tv2Name), "≤ 1.25× (like with like)", score(te2Name) / score(tv2Name), x -> x <= 1.25);
        }
        String teName = !has(te2Name) || score(te1Name) <= score(te2Name) ? te1Name : te2Name;
        double te = score(teName);
        double tv = Math.min(score(tv1Name), score(tv2Name));
        String tvName = score(tv1Name) <= score(tv2Name) ? tv1Name : tv2Name;
        row(md, "Thread engine (`-Dcoro.engine=threads`), best variant (`" + teName.substring(teName.indexOf('.') + 1)
                + "`) vs best VT park/unpark (`" + tvName.substring(tvName.indexOf('.') + 1) + "`)",
                ratio(te, tv) + " (" + ns(te) + " vs " + ns(tv) + ")", bestRatio(teName, tvName), "≤ 1.25×", te / tv, x -> x <= 1.25);
        threadsRows(md);
        md.append("\nWhere the thread engine does not exist the property is ignored and that row measures the "
                + "continuation engine. The interleaved rows come from `InterleavedRatio`: coroutine and raw baseline "
                + "take turns in slices of 20,000 ops in one JVM, so a burst of load from other processes hits both "
                + "sides; on a shared machine they are the trustworthy answer to questions 1 and 2 (and, against a coro baseline, "
                + "11 and 12: a virtual-time run of 100,000 sleeps against the same with yields, select against the plain "
                + "ping-pong).\n\n");
    }

    /** The targets of questions 11, 12 and 15: sleep, select, timer lateness. */
    private void timeAndSelect(StringBuilder md) {
        String sleep = "VirtualTimeDelayBenchmark.coroVirtualTimeSleep";
        String yield = "VirtualTimeDelayBenchmark.coroVirtualTimeYield";
        String delay = "VirtualTimeDelayBenchmark.kotlinRunTestDelay";
        if (has(sleep)) {
            double s = score(sleep);
            double y = score(yield);
            double k = score(delay);
            row(md, "Sleep in virtual time (1,000 × 100 sleeps of 1-100 ms) vs a yield among as many (same shape)",
                    ratio(s, y) + " (" + ns(s) + " vs " + ns(y) + ")", bestRatio(sleep, yield), "≤ 1.5×", s / y, x -> x <= 1.5);
            interleavedRow(md, "sleep", "Sleep vs yield, same shape, interleaved (median of paired slice ratios)", 1.5);
            row(md, "Sleep in virtual time faster than kotlinx `delay` under `runTest`", ratio(k, s) + " (" + ns(k) + " vs " + ns(s) + ")",
                    bestRatio(delay, sleep), "> 1×", k / s, x -> x > 1);
            double bytes = alloc(sleep) - alloc(yield);
            row(md, "Bytes allocated per sleep, beyond the same shape's with yields (its coroutines' start and end)",
                    String.format(Locale.ROOT, "%.1f B/op (%.1f − %.1f)", bytes, alloc(sleep), alloc(yield)),
                    "the `Sleep` timer entry only (48 B; < 64 B: no second object)", bytes, x -> x < 64);
        }
        String select = "SelectBenchmark.coroSelectReceive";
        String pingPong = "SelectBenchmark.coroChannelPingPong";
        String kotlinSelect = "SelectBenchmark.kotlinSelectReceive";
        if (has(select)) {
            double s = score(select);
            double p = score(pingPong);
            double k = score(kotlinSelect);
            row(md, "`select` receiving from two rendezvous channels vs the plain `receive` ping-pong (per message)",
                    ratio(s, p) + " (" + ns(s) + " vs " + ns(p) + ")", bestRatio(select, pingPong), "≤ 1.25×", s / p, x -> x <= 1.25);
            interleavedRow(md, "select", "`select` vs plain ping-pong, interleaved (median of paired slice ratios)", 1.25);
            row(md, "`select` faster than kotlinx `select`", ratio(k, s) + " (" + ns(k) + " vs " + ns(s) + ")",
                    bestRatio(kotlinSelect, select), "> 1×", k / s, x -> x > 1);
        }
        for (JsonObject o : lateness) {
            double p99 = o.get("p99Ms").getAsDouble();
            row(md, String.format(Locale.ROOT, "Timer lateness, real clock, %,d coroutines × %d sleeps of 1-100 ms, %s engine: p99",
                            o.get("coroutines").getAsInt(), o.get("sleeps").getAsInt(), o.get("engine").getAsString()),
                    String.format(Locale.ROOT, "%.3f ms (p50 %.3f ms, max %.3f ms)", p99, o.get("p50Ms").getAsDouble(),
                            o.get("maxMs").getAsDouble()), "≤ 5 ms", p99, x -> x <= 5);
        }
    }

    /** The targets of many threads: skynet on a pool, the channel across threads, await of a completed future. */
    private void threadsRows(StringBuilder md) {
        timeRow(md, "Skynet on a pool of 2 (`coroSkynet`) vs kotlinx on `Dispatchers.Default`", "SkynetBenchmark.coroSkynet",
                "SkynetBenchmark.kotlinDefaultDispatcher", "≤ 0.8×", x -> x <= 0.8);
        timeRow(md, "Skynet on a pool of 2 (`coroSkynet`) vs a virtual thread per node", "SkynetBenchmark.coroSkynet",
                "SkynetBenchmark.virtualThreads", "≤ 0.5×", x -> x <= 0.5);
        timeRow(md, "Channel ping-pong across two pool threads vs kotlinx on `Dispatchers.Default`",
                "CrossThreadChannelBenchmark.coroCrossThreadPingPong", "CrossThreadChannelBenchmark.kotlinDefaultDispatcherPingPong",
                "< 1×", x -> x < 1);
        timeRow(md, "Channel ping-pong across two pool threads vs `SynchronousQueue` between virtual threads",
                "CrossThreadChannelBenchmark.coroCrossThreadPingPong", "CrossThreadChannelBenchmark.vtSynchronousQueue",
                "< 1×", x -> x < 1);
        timeRow(md, "`Coroutine.await` of a completed future vs its `join()`", "AwaitBenchmark.coroAwaitCompleted",
                "AwaitBenchmark.joinCompleted", "≤ 1.10×", x -> x <= 1.10);
        interleavedRow(md, "await", "`Coroutine.await` of a completed future vs `join()`, interleaved (median of paired slice ratios)");
    }

    /** A target row comparing two benchmarks' times, {@code a / b}, in whatever unit reads best; left out if neither ran. */
    private void timeRow(StringBuilder md, String what, String a, String b, String goal, DoublePredicate ok) {
        if (!has(a) && !has(b)) {
            return;
        }
        double x = nanos(a);
        double y = nanos(b);
        row(md, what, ratio(x, y) + " (" + time(x) + " vs " + time(y) + ")", bestRatio(a, b), goal, x / y, ok);
    }

    private static void row(StringBuilder md, String what, String measured, String goal, double value, DoublePredicate ok) {
        row(md, what, measured, "", goal, value, ok);
    }

    private static void row(StringBuilder md, String what, String measured, String best, String goal, double value,
                            DoublePredicate ok) {
        String verdict = Double.isNaN(value) ? "not measured" : ok.test(value) ? "**met**" : "**missed**";
        md.append("| ").append(what).append(" | ").append(measured).append(" | ").append(best).append(" | ")
                .append(goal).append(" | ").append(verdict).append(" |\n");
    }

    /** A target row from {@code InterleavedRatio}'s comparison {@code name}; the best column is the ratio of the fastest slices. */
    private void interleavedRow(StringBuilder md, String name, String what) {
        interleavedRow(md, name, what, 1.10);
    }

    /** {@link #interleavedRow(StringBuilder, String, String)} with the goal {@code ≤ goal×}. */
    private void interleavedRow(StringBuilder md, String name, String what, double goal) {
        if (interleaved == null) {
            return;
        }
        for (JsonElement e : interleaved) {
            JsonObject o = e.getAsJsonObject();
            if (o.get("name").getAsString().equals(name)) {
                double paired = o.get("pairedMedianRatio").getAsDouble();
                JsonObject min = o.getAsJsonObject("min");
                JsonObject med = o.getAsJsonObject("median");
                row(md, what, String.format(Locale.ROOT, "%.2f× (medians %.1f ns vs %.1f ns)", paired,
                        med.get("coro").getAsDouble(), med.get("raw").getAsDouble()),
                        String.format(Locale.ROOT, "%.2f× (%.1f vs %.1f ns)", min.get("coro").getAsDouble() / min.get("raw").getAsDouble(),
                                min.get("coro").getAsDouble(), min.get("raw").getAsDouble()),
                        String.format(Locale.ROOT, "≤ %.2f×", goal), paired, x -> x <= goal);
            }
        }
    }

    /** A row for {@code coro / base} of two JMH scores, met when at most {@code goal}. */
    private void scoreRatioRow(StringBuilder md, String what, String coro, String base, double goal) {
        double c = score(coro);
        double b = score(base);
        row(md, what, ratio(c, b) + " (" + ns(c) + " vs " + ns(b) + ")", bestRatio(coro, base),
                String.format(Locale.ROOT, "≤ %.2f×", goal), c / b, x -> x <= goal);
    }

    /** The ratio of the two benchmarks' fastest iterations, {@code a / b}. */
    private String bestRatio(String a, String b) {
        Result ra = jmh.get(a);
        Result rb = jmh.get(b);
        return ra == null || rb == null ? "n/a" : ratio(ra.best(), rb.best());
    }

    private static String ratio(double a, double b) {
        return Double.isNaN(a) || Double.isNaN(b) ? "n/a" : String.format(Locale.ROOT, "%.2f×", a / b);
    }

    private static String ns(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.1f ns", v);
    }

    private void kotlinTable(StringBuilder md) {
        md.append("## coro vs kotlinx.coroutines\n\nThe same workload written with each library, in the same JMH class "
                + "(each class's Javadoc says what one op is). The ratio is coro's time over kotlinx's: below 1, coro is "
                + "faster. A coro side marked *not yet* is a question whose rival is measured already and whose coro "
                + "method, of that name, is still to be written.\n\n");
        md.append("![coro vs kotlinx.coroutines](" + KOTLIN_CHART + ")\n\n");
        md.append("| workload | coro | kotlinx.coroutines | coro / kotlinx |\n| --- | ---: | ---: | ---: |\n");
        for (Rival r : KOTLIN_RIVALS) {
            if (!has(r.coro()) && !has(r.kotlin())) {
                continue;
            }
            double c = nanos(r.coro());
            double k = nanos(r.kotlin());
            String coro = has(r.coro()) ? time(c) : "not yet (`" + method(r.coro()) + "`)";
            String kotlin = has(r.kotlin()) ? time(k) : "not measured";
            md.append("| ").append(r.question()).append(" (`").append(clazz(r.kotlin())).append("`) | ")
                    .append(coro).append(" | ").append(kotlin).append(" (`").append(method(r.kotlin())).append("`) | ")
                    .append(ratio(c, k)).append(" |\n");
        }
        md.append("\n");
    }

    private static String clazz(String name) {
        return name.substring(0, name.indexOf('.'));
    }

    private static String method(String name) {
        return name.substring(name.indexOf('.') + 1);
    }

    private void table(StringBuilder md) {
        md.append("## Every benchmark\n\nScore ± error is JMH's 99.9% confidence interval over all measurement "
                + "iterations; allocation is `gc.alloc.rate.norm` from `-prof gc`.\n\n"
                + "| benchmark | time per op | best iteration | bytes allocated per op |\n| --- | ---: | ---: | ---: |\n");
        for (Result r : jmh.values()) {
            md.append(String.format(Locale.ROOT, "| `%s` | %.1f ± %.1f %s | %.1f | %s |%n", r.name(), r.score(),
                    r.error(), r.unit(), r.best(), Double.isNaN(r.allocNorm()) ? "n/a" : String.format(Locale.ROOT, "%.2f ± %.2f", r.allocNorm(), r.allocError())));
        }
        md.append("\n");
    }

    private void memoryTable(StringBuilder md) {
        md.append("## Memory per suspended context\n\n`MemoryFootprint` (a plain program, not JMH): heap in use "
                + "after forced full GCs (`System.gc()`, `MemoryMXBean`), before and after suspending the contexts, "
                + "divided by their count; raw continuations and coroutines in the same process, frames compiled.\n\n");
        if (memory == null) {
            md.append("Not measured in this run.\n\n");
            return;
        }
        md.append("| stack depth | kept | raw continuation | coroutine | ratio |\n| ---: | ---: | ---: | ---: | ---: |\n");
        for (JsonElement e : memory) {
            JsonObject o = e.getAsJsonObject();
            double c = o.get("coroBytes").getAsDouble();
            double rw = o.get("rawBytes").getAsDouble();
            md.append(String.format(Locale.ROOT, "| %d | %,d | %.0f B | %.0f B | %.2f× |%n", o.get("depth").getAsInt(),
                    o.get("count").getAsInt(), rw, c, c / rw));
        }
        md.append("\n");
    }

    private void scaleTable(StringBuilder md) {
        md.append("## Scale: 1,000,000 contexts × 10 yields, `-Xmx2g`\n\n`ScaleRunner` starts `ScaleWorkload` in fresh "
                + "JVMs, one per variant: cold = wall time from starting the JVM to the end of its first run (JVM start "
                + "included), warm = the runs after the first in the same JVM, timed inside it.\n\n");
        if (scale == null) {
            md.append("Not measured in this run.\n\n");
            return;
        }
        md.append("| variant | extra flags | cold (wall) | warm runs | cold | warm | cold / warm |\n"
                + "| --- | --- | --- | --- | ---: | ---: | ---: |\n");
        for (JsonElement e : scale) {
            JsonObject o = e.getAsJsonObject();
            double cold = o.get("coldMedianMs").getAsDouble();
            double warm = o.get("warmMs").getAsDouble();
            md.append(String.format(Locale.ROOT, "| %s | `%s` | %s ms | %s ms | %.1f s | %.1f s | %.2f |%n",
                    o.get("name").getAsString(), o.get("flags").getAsString(), o.get("coldMs"), o.get("warmRunsMs"),
                    cold / 1000, warm / 1000, cold / warm));
        }
        md.append("\n");
    }

    // ---- chart -----------------------------------------------------------------------------

    private void chart(Path png) throws IOException {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        List<String> keys = new ArrayList<>();
        for (Result r : jmh.values()) {
            if (!r.unit().equals("ns/op")) {
                continue;
            }
            String key = r.clazz().replace("Benchmark", "") + " · " + r.method();
            keys.add(key);
            data.addValue(r.score(), "ns/op", key);
        }
        JFreeChart chart = ChartFactory.createBarChart("coro: time per operation, one run (log scale; coroutines dark, rivals light)",
                null, "ns per op", data, PlotOrientation.HORIZONTAL, false, false, false);
        chart.getTitle().setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        CategoryPlot plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        LogAxis axis = new LogAxis("ns per op (log scale)");
        axis.setBase(10);
        axis.setSmallestValue(1);
        axis.setTickUnit(new NumberTickUnit(1));
        axis.setNumberFormatOverride(rootFormat("#,##0"));
        axis.setMinorTickCount(9);
        axis.setUpperMargin(0.12);
        plot.setRangeAxis(axis);
        BarRenderer renderer = new BarRenderer() {
            private static final long serialVersionUID = 1L;

            @Override
            public Paint getItemPaint(int row, int column) {
                return keys.get(column).contains("coro") ? new Color(0x1f4e79) : new Color(0x9dc3e6);
            }
        };
        renderer.setBarPainter(new StandardBarPainter());
        renderer.setShadowVisible(false);
        renderer.setBase(1);
        renderer.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator("{2}", rootFormat("#,##0.0")));
        renderer.setDefaultItemLabelsVisible(true);
        renderer.setDefaultPositiveItemLabelPosition(new ItemLabelPosition(ItemLabelAnchor.OUTSIDE3, TextAnchor.CENTER_LEFT));
        renderer.setDefaultItemLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
        plot.setRenderer(renderer);
        plot.getDomainAxis().setTickLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        ChartUtils.saveChartAsPNG(png.toFile(), chart, 1100, 120 + 28 * keys.size());
    }

    private void kotlinChart(Path png) throws IOException {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        int rows = 0;
        for (Rival r : KOTLIN_RIVALS) {
            if (!has(r.coro()) && !has(r.kotlin())) {
                continue;
            }
            String key = r.question().replace("`", "");
            rows++;
            // a missing side stays empty: no bar, no label
            data.addValue(has(r.coro()) ? nanos(r.coro()) : null, "coro", key);
            data.addValue(has(r.kotlin()) ? nanos(r.kotlin()) : null, "kotlinx.coroutines", key);
        }
        JFreeChart chart = ChartFactory.createBarChart("coro vs kotlinx.coroutines: time per operation, one run (log scale)",
                null, "ns per op", data, PlotOrientation.HORIZONTAL, true, false, false);
        chart.getTitle().setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        CategoryPlot plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        LogAxis axis = new LogAxis("ns per op (log scale)");
        axis.setBase(10);
        axis.setSmallestValue(1);
        axis.setTickUnit(new NumberTickUnit(1));
        axis.setNumberFormatOverride(rootFormat("#,##0"));
        axis.setMinorTickCount(9);
        axis.setUpperMargin(0.15);
        plot.setRangeAxis(axis);
        BarRenderer renderer = new BarRenderer();
        renderer.setSeriesPaint(0, new Color(0x1f4e79));
        renderer.setSeriesPaint(1, new Color(0xf28e2b));
        renderer.setBarPainter(new StandardBarPainter());
        renderer.setShadowVisible(false);
        renderer.setBase(1);
        renderer.setItemMargin(0.05);
        renderer.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator("{2}", rootFormat("#,##0.0")));
        renderer.setDefaultItemLabelsVisible(true);
        renderer.setDefaultPositiveItemLabelPosition(new ItemLabelPosition(ItemLabelAnchor.OUTSIDE3, TextAnchor.CENTER_LEFT));
        renderer.setDefaultItemLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
        plot.setRenderer(renderer);
        plot.getDomainAxis().setTickLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        plot.getDomainAxis().setMaximumCategoryLabelWidthRatio(0.4f); // the workloads' names in full
        ChartUtils.saveChartAsPNG(png.toFile(), chart, 1200, 160 + 48 * Math.max(rows, 1));
    }
}
