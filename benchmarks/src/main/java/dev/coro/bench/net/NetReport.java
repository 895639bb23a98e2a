package dev.coro.bench.net;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.coro.bench.report.Report;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.CombinedDomainCategoryPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.data.category.DefaultCategoryDataset;

/**
 * Turns the echo benchmark's JSON lines ({@code results.jsonl}: one {@link LoadResult} and one
 * {@link IdleResult} per server, C and repetition) into a markdown table {@code net.md} and a chart
 * {@code net.png} (requests/s and p99 latency per C, one bar per server).
 *
 * <p>Arguments: {@code <results dir>}; the directory may also hold {@code env.txt}, the machine
 * description, copied into the report. With several repetitions a cell shows the median run (by
 * requests/s) and the table says how many runs there were and their requests/s range.
 */
public final class NetReport {

    /** One (server, C) cell: its timed runs and idle measurements. */
    private static final class Cell {
        final List<JsonObject> loads = new ArrayList<>();
        final List<JsonObject> idles = new ArrayList<>();

        JsonObject medianLoad() {
            List<JsonObject> sorted = new ArrayList<>(loads);
            sorted.sort(Comparator.comparingDouble(o -> o.get("requests_per_s").getAsDouble()));
            return sorted.isEmpty() ? null : sorted.get((sorted.size() - 1) / 2);
        }

        long medianIdleRss() {
            List<Long> rss = new ArrayList<>();
            for (JsonObject o : idles) {
                if (o.get("rss_idle_kb").getAsLong() > 0) {
                    rss.add(o.get("rss_idle_kb").getAsLong());
                }
            }
            rss.sort(null);
            return rss.isEmpty() ? -1 : rss.get((rss.size() - 1) / 2);
        }

        long medianIdleRssBefore() {
            List<Long> rss = new ArrayList<>();
            for (JsonObject o : idles) {
                if (o.get("rss_before_kb").getAsLong() > 0) {
                    rss.add(o.get("rss_before_kb").getAsLong());
                }
            }
            rss.sort(null);
            return rss.isEmpty() ? -1 : rss.get((rss.size() - 1) / 2);
        }
    }

    private final Map<String, Map<Integer, Cell>> cells = new LinkedHashMap<>();
    private final TreeSet<Integer> cs = new TreeSet<>();
    private int idleConnections;

    private NetReport() {
    }

    /**
     * Writes {@code net.md} and {@code net.png} into the results directory.
     *
     * @param args {@code <results dir>}
     * @throws IOException if a file cannot be read or written
     */
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: NetReport <results dir>");
        }
        Path dir = Path.of(args[0]);
        NetReport r = new NetReport();
        for (String line : Files.readAllLines(dir.resolve("results.jsonl"))) {
            if (!line.isBlank()) {
                r.add(JsonParser.parseString(line).getAsJsonObject());
            }
        }
        String env = Files.exists(dir.resolve("env.txt")) ? Files.readString(dir.resolve("env.txt")) : "";
        Files.writeString(dir.resolve("net.md"), r.markdown(env));
        r.chart(dir.resolve("net.png"));
        System.out.println("wrote " + dir.resolve("net.md") + " and " + dir.resolve("net.png"));
    }

    private void add(JsonObject o) {
        String server = o.get("server").getAsString();
        int c = o.get("connections").getAsInt();
        cs.add(c);
        Cell cell = cells.computeIfAbsent(server, k -> new LinkedHashMap<>()).computeIfAbsent(c, k -> new Cell());
        if ("load".equals(o.get("kind").getAsString())) {
            cell.loads.add(o);
        } else {
            cell.idles.add(o);
            idleConnections = o.get("idle_connections").getAsInt();
        }
    }

    String markdown(String env) {
        StringBuilder md = new StringBuilder();
        md.append("# Echo benchmark: one thread of server work, C closed-loop connections\n\n");
        md.append("Each connection sends 64 bytes and waits for the whole echo before sending again; one load-generator\n")
                .append("thread (`EchoLoad`, its own JVM) drives all C of them over loopback. Latency is the wait for one\n")
                .append("echo, measured by the client (so it includes the client's own delays). *Starved*: connections that\n")
                .append("completed no echo in some whole sub-window, or waited longer than the threshold once; where the mean\n")
                .append("wait (about C / throughput) comes near the threshold, as at C = 10,000, part of that count is ordinary\n")
                .append("queueing, not unfairness. *Server CPU*:\n")
                .append("the server process's user + system time in the measured window, per echo (all its threads: GC and\n")
                .append("JIT too). *RSS*: the server's VmRSS with ").append(String.format(Locale.ROOT, "%,d", idleConnections))
                .append(" idle connections open (each has done one echo),\n")
                .append("after the timed run in the same JVM, and in brackets the growth from opening them.\n\n");
        md.append("| server | C | requests/s | mean µs | p50 µs | p99 µs | max µs | worst wait ms | starved | errors | server CPU µs/echo | RSS MiB, idle conns (growth) | runs |\n");
        md.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
        for (int c : cs) {
            for (Map.Entry<String, Map<Integer, Cell>> e : cells.entrySet()) {
                Cell cell = e.getValue().get(c);
                if (cell == null) {
                    continue;
                }
                JsonObject l = cell.medianLoad();
                long rss = cell.medianIdleRss();
                long before = cell.medianIdleRssBefore();
                String rssText = rss < 0 ? "–" : String.format(Locale.ROOT, "%.1f (+%.1f)", rss / 1024.0,
                        (rss - before) / 1024.0);
                if (l == null) {
                    md.append(String.format(Locale.ROOT, "| %s | %d | failed | | | | | | | | | %s | 0 |\n",
                            e.getKey(), c, rssText));
                    continue;
                }
                double min = Double.MAX_VALUE;
                double max = 0;
                for (JsonObject o : cell.loads) {
                    min = Math.min(min, o.get("requests_per_s").getAsDouble());
                    max = Math.max(max, o.get("requests_per_s").getAsDouble());
                }
                String runs = cell.loads.size() == 1 ? "1"
                        : String.format(Locale.ROOT, "%d (%,.0f–%,.0f/s)", cell.loads.size(), min, max);
                double cpu = l.get("server_cpu_us_per_request").getAsDouble();
                md.append(String.format(Locale.ROOT, "| %s | %d | %,.0f | %s | %,.1f | %,.1f | %,.1f | %,.1f | %d / %d | %d | %s | %s | %s |\n",
                        e.getKey(), c, l.get("requests_per_s").getAsDouble(),
                        l.has("mean_us") ? String.format(Locale.ROOT, "%,.1f", l.get("mean_us").getAsDouble()) : "–", l.get("p50_us").getAsDouble(),
                        l.get("p99_us").getAsDouble(), l.get("max_us").getAsDouble(),
                        l.get("worst_wait_us").getAsDouble() / 1000, l.get("starved").getAsInt(), c,
                        l.get("errors").getAsLong(), cpu < 0 ? "–" : String.format(Locale.ROOT, "%.2f", cpu),
                        rssText, runs));
            }
        }
        JsonObject any = cells.values().iterator().next().values().iterator().next().medianLoad();
        if (any != null) {
            md.append(String.format(Locale.ROOT, "%nWindows: %.0f s warm-up, %.0f s measured; sub-window %d ms, starvation threshold %d ms.%n",
                    any.get("warmup_s").getAsDouble(), Math.rint(any.get("measured_s").getAsDouble()),
                    any.get("sub_window_ms").getAsLong(), any.get("starve_ms").getAsLong()));
        }
        if (!env.isBlank()) {
            md.append("\n## Machine\n\n");
            for (String line : env.strip().split("\n")) {
                md.append("- ").append(line).append('\n');
            }
        }
        md.append("\n![requests/s and p99 latency per C](net.png)\n");
        return md.toString();
    }

    private void chart(Path png) throws IOException {
        DefaultCategoryDataset rps = new DefaultCategoryDataset();
        DefaultCategoryDataset p99 = new DefaultCategoryDataset();
        for (int c : cs) {
            for (Map.Entry<String, Map<Integer, Cell>> e : cells.entrySet()) {
                Cell cell = e.getValue().get(c);
                JsonObject l = cell == null ? null : cell.medianLoad();
                if (l != null) {
                    rps.addValue(l.get("requests_per_s").getAsDouble(), e.getKey(), "C = " + c);
                    p99.addValue(Math.max(1, l.get("p99_us").getAsDouble()), e.getKey(), "C = " + c);
                }
            }
        }
        NumberAxis rpsAxis = new NumberAxis("requests/s");
        rpsAxis.setNumberFormatOverride(Report.rootFormat("#,##0")); // not the default locale's, as the table
        CategoryPlot top = new CategoryPlot(rps, null, rpsAxis, renderer(rps));
        LogAxis p99Axis = new LogAxis("p99 latency, µs (log)");
        p99Axis.setBase(10);
        p99Axis.setSmallestValue(1);
        p99Axis.setTickUnit(new NumberTickUnit(1));
        p99Axis.setNumberFormatOverride(Report.rootFormat("#,##0"));
        p99Axis.setMinorTickCount(9);
        CategoryPlot bottom = new CategoryPlot(p99, null, p99Axis, renderer(p99));
        CombinedDomainCategoryPlot plot = new CombinedDomainCategoryPlot(new CategoryAxis("connections"));
        plot.add(top, 3);
        plot.add(bottom, 2);
        plot.setFixedLegendItems(top.getLegendItems()); // one legend entry per server, not one per panel
        for (CategoryPlot p : List.of(top, bottom)) {
            p.setBackgroundPaint(Color.WHITE);
            p.setRangeGridlinePaint(Color.LIGHT_GRAY);
        }
        JFreeChart chart = new JFreeChart("Echo over loopback: one thread of server work (median run per cell)",
                new Font(Font.SANS_SERIF, Font.BOLD, 15), plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, 1000, 700);
    }

    /**
     * Rivals in light colours; the server named "coro" in the dark blue of the main report, any other
     * whose name holds "coro" (coro-threads) in a medium blue.
     */
    private static BarRenderer renderer(DefaultCategoryDataset data) {
        BarRenderer r = new BarRenderer();
        r.setBarPainter(new StandardBarPainter());
        r.setShadowVisible(false);
        r.setItemMargin(0.05);
        Color[] palette = {new Color(0x9dc3e6), new Color(0xf4b183), new Color(0xa9d18e), new Color(0xbfbfbf),
            new Color(0xffd966), new Color(0xc9a0dc)};
        int rival = 0;
        for (int i = 0; i < data.getRowCount(); i++) {
            String name = data.getRowKey(i).toString();
            r.setSeriesPaint(i, name.equals("coro") ? new Color(0x1f4e79)
                    : name.contains("coro") ? new Color(0x2e75b6) : palette[rival++ % palette.length]);
        }
        return r;
    }
}
