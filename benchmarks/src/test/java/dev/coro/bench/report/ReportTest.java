package dev.coro.bench.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report generator turns JMH JSON into the markdown and the charts. */
class ReportTest {

    /** One JMH result of {@code SwitchBenchmark}, in ns/op, as JMH's JSON writes it. */
    static String entry(String method, double score) {
        return entry("dev.coro.bench.SwitchBenchmark", method, score, "ns/op");
    }

    /** One JMH result of {@code clazz.method}, as JMH's JSON writes it. */
    static String entry(String clazz, String method, double score, String unit) {
        return """
                {"jmhVersion": "1.37", "benchmark": "%s.%s", "mode": "avgt",
                 "threads": 1, "forks": 1, "jvm": "java", "jvmArgs": ["--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED"],
                 "jdkVersion": "25", "vmName": "OpenJDK 64-Bit Server VM", "vmVersion": "25",
                 "warmupIterations": 1, "warmupTime": "1 s", "measurementIterations": 1, "measurementTime": "1 s",
                 "primaryMetric": {"score": %s, "scoreError": "NaN", "scoreUnit": "%s", "rawData": [[%s, %s]]},
                 "secondaryMetrics": {"gc.alloc.rate.norm": {"score": 0.001, "scoreError": 0.0, "scoreUnit": "B/op"}}}
                """.formatted(clazz, method, score, unit, score, score * 2);
    }

    @Test
    void writesTheTargetsTableAndAChartFromJmhJson(@TempDir Path dir) throws Exception {
        Path results = Files.createDirectories(dir.resolve("results"));
        Files.writeString(results.resolve("jmh.json"), "[" + entry("coroSwitchTo", 105) + "," + entry("rawTrampoline", 100)
                + "," + entry("vtParkUnpark", 420) + "," + entry("platformParkUnpark", 5250) + "]");
        Files.writeString(results.resolve("env.txt"), "CPU: test cpu, 2 cores\n");
        Path docs = dir.resolve("docs");

        Report.main(new String[] {results.toString(), docs.toString()});

        String md = Files.readString(docs.resolve("BENCHMARKS.md"));
        assertThat(md).contains("| Switch vs raw continuation trampoline | 1.05× (105.0 ns vs 100.0 ns) | 1.05× | ≤ 1.10× | **met** |");
        assertThat(md).contains("| Switch faster than the best virtual-thread handoff (`SwitchBenchmark.vtParkUnpark`) | 4.00× (420.0 ns vs 105.0 ns) |");
        assertThat(md).contains("| Switch faster than platform-thread park/unpark | 50.00× (5250.0 ns vs 105.0 ns) |");
        assertThat(md).contains("`SwitchBenchmark.coroSwitchTo`", "| CPU | test cpu, 2 cores |", "Not measured in this run.");
        assertThat(Files.size(docs.resolve("benchmarks.png"))).isPositive();
    }

    @Test
    void writesTheCoroVsKotlinxTableAndChart(@TempDir Path dir) throws Exception {
        Path results = Files.createDirectories(dir.resolve("results"));
        Files.writeString(results.resolve("jmh.json"), "["
                + entry("dev.coro.bench.GeneratorBenchmark", "coroGeneratorNext", 20, "ns/op") + ","
                + entry("dev.coro.bench.GeneratorBenchmark", "kotlinSequenceNext", 10, "ns/op") + ","
                + entry("dev.coro.bench.ChannelBenchmark", "coroChannelPingPong", 150, "ns/op") + ","
                + entry("dev.coro.bench.ChannelBenchmark", "kotlinChannelPingPong", 300, "ns/op") + ","
                + entry("dev.coro.bench.SkynetBenchmark", "kotlinDefaultDispatcher", 350, "ms/op") + "]");
        Path docs = dir.resolve("docs");

        Report.main(new String[] {results.toString(), docs.toString()});

        String md = Files.readString(docs.resolve("BENCHMARKS.md"));
        assertThat(md).contains("## coro vs kotlinx.coroutines", "![coro vs kotlinx.coroutines](coro-vs-kotlinx.png)");
        assertThat(md).contains("| generator, `next()` of an endless one (`GeneratorBenchmark`) | 20.0 ns | 10.0 ns (`kotlinSequenceNext`) | 2.00× |");
        assertThat(md).contains("| rendezvous channel ping-pong, one thread (per message) (`ChannelBenchmark`) | 150.0 ns | 300.0 ns (`kotlinChannelPingPong`) | 0.50× |");
        // a rival whose coro side is still to be written: its figure, in the unit that reads best, and the method to come
        assertThat(md).contains("| skynet, 1,000,000 leaves (per run) (`SkynetBenchmark`) | not yet (`coroSkynet`) | 350.0 ms (`kotlinDefaultDispatcher`) | n/a |");
        // rows measured on neither side are left out
        assertThat(md).doesNotContain("`SelectBenchmark`) |");
        assertThat(Files.size(docs.resolve("coro-vs-kotlinx.png"))).isPositive();
    }

    @Test
    void writesTheSleepSelectAndLatenessTargets(@TempDir Path dir) throws Exception {
        Path results = Files.createDirectories(dir.resolve("results"));
        Files.writeString(results.resolve("jmh.json"), "["
                + entry("dev.coro.bench.VirtualTimeDelayBenchmark", "coroVirtualTimeSleep", 300, "ns/op") + ","
                + entry("dev.coro.bench.VirtualTimeDelayBenchmark", "coroVirtualTimeYield", 150, "ns/op") + ","
                + entry("dev.coro.bench.VirtualTimeDelayBenchmark", "kotlinRunTestDelay", 600, "ns/op") + ","
                + entry("dev.coro.bench.SelectBenchmark", "coroSelectReceive", 120, "ns/op") + ","
                + entry("dev.coro.bench.SelectBenchmark", "coroChannelPingPong", 100, "ns/op") + ","
                + entry("dev.coro.bench.SelectBenchmark", "kotlinSelectReceive", 360, "ns/op") + "]");
        Files.writeString(results.resolve("lateness.jsonl"), """
                {"engine": "continuation", "coroutines": 100000, "sleeps": 10, "p50Ms": 0.5, "p90Ms": 1, "p99Ms": 4.25, "p999Ms": 6, "maxMs": 9.5, "meanMs": 0.7, "wallMs": 700, "cpuMs": 500, "mainCpuMs": 400}
                {"engine": "threads", "coroutines": 10000, "sleeps": 10, "p50Ms": 1, "p90Ms": 3, "p99Ms": 7.5, "p999Ms": 9, "maxMs": 12, "meanMs": 1.5, "wallMs": 800, "cpuMs": 900, "mainCpuMs": 10}
                """);
        Files.writeString(results.resolve("interleaved.json"), """
                [{"name": "sleep", "benchmark": "VirtualTimeDelayBenchmark", "min": {"coro": 280.0, "raw": 140.0},
                  "p10": {"coro": 290.0, "raw": 145.0}, "median": {"coro": 300.0, "raw": 150.0}, "pairedMedianRatio": 1.9},
                 {"name": "select", "benchmark": "SelectBenchmark", "min": {"coro": 110.0, "raw": 100.0},
                  "p10": {"coro": 115.0, "raw": 100.0}, "median": {"coro": 120.0, "raw": 100.0}, "pairedMedianRatio": 1.2}]
                """);
        Path docs = dir.resolve("docs");

        Report.main(new String[] {results.toString(), docs.toString()});

        String md = Files.readString(docs.resolve("BENCHMARKS.md"));
        assertThat(md).contains(
                "| Sleep vs yield, same shape, interleaved (median of paired slice ratios) | 1.90× (medians 300.0 ns vs 150.0 ns) | 2.00× (280.0 vs 140.0 ns) | ≤ 1.50× | **missed** |",
                "| `select` vs plain ping-pong, interleaved (median of paired slice ratios) | 1.20× (medians 120.0 ns vs 100.0 ns) | 1.10× (110.0 vs 100.0 ns) | ≤ 1.25× | **met** |",
                "| Sleep in virtual time (1,000 × 100 sleeps of 1-100 ms) vs a yield among as many (same shape) | 2.00× (300.0 ns vs 150.0 ns) | 2.00× | ≤ 1.5× | **missed** |",
                "| Sleep in virtual time faster than kotlinx `delay` under `runTest` | 2.00× (600.0 ns vs 300.0 ns) | 2.00× | > 1× | **met** |",
                // every entry allocates 0.001 B/op here
                "| Bytes allocated per sleep, beyond the same shape's with yields (its coroutines' start and end) | 0.0 B/op (0.0 − 0.0) |",
                "| `select` receiving from two rendezvous channels vs the plain `receive` ping-pong (per message) | 1.20× (120.0 ns vs 100.0 ns) | 1.20× | ≤ 1.25× | **met** |",
                "| `select` faster than kotlinx `select` | 3.00× (360.0 ns vs 120.0 ns) | 3.00× | > 1× | **met** |",
                "| Timer lateness, real clock, 100,000 coroutines × 10 sleeps of 1-100 ms, continuation engine: p99 | 4.250 ms (p50 0.500 ms, max 9.500 ms) |  | ≤ 5 ms | **met** |",
                "| Timer lateness, real clock, 10,000 coroutines × 10 sleeps of 1-100 ms, threads engine: p99 | 7.500 ms (p50 1.000 ms, max 12.000 ms) |  | ≤ 5 ms | **missed** |");
    }

    @Test
    void writesTheTargetsOfManyThreads(@TempDir Path dir) throws Exception {
        Path results = Files.createDirectories(dir.resolve("results"));
        Files.writeString(results.resolve("jmh.json"), "["
                + entry("dev.coro.bench.SkynetBenchmark", "coroSkynet", 100, "ms/op") + ","
                + entry("dev.coro.bench.SkynetBenchmark", "kotlinDefaultDispatcher", 200, "ms/op") + ","
                + entry("dev.coro.bench.SkynetBenchmark", "virtualThreads", 400, "ms/op") + ","
                + entry("dev.coro.bench.CrossThreadChannelBenchmark", "coroCrossThreadPingPong", 9000, "ns/op") + ","
                + entry("dev.coro.bench.CrossThreadChannelBenchmark", "kotlinDefaultDispatcherPingPong", 300, "ns/op") + ","
                + entry("dev.coro.bench.AwaitBenchmark", "coroAwaitCompleted", 2.1, "ns/op") + ","
                + entry("dev.coro.bench.AwaitBenchmark", "joinCompleted", 2, "ns/op") + "]");
        Path docs = dir.resolve("docs");

        Report.main(new String[] {results.toString(), docs.toString()});

        String md = Files.readString(docs.resolve("BENCHMARKS.md"));
        assertThat(md).contains("| Skynet on a pool of 2 (`coroSkynet`) vs kotlinx on `Dispatchers.Default` | 0.50× (100.0 ms vs 200.0 ms) | 0.50× | ≤ 0.8× | **met** |");
        assertThat(md).contains("| Skynet on a pool of 2 (`coroSkynet`) vs a virtual thread per node | 0.25× (100.0 ms vs 400.0 ms) | 0.25× | ≤ 0.5× | **met** |");
        assertThat(md).contains("| Channel ping-pong across two pool threads vs kotlinx on `Dispatchers.Default` | 30.00× (9000.0 ns vs 300.0 ns) | 30.00× | < 1× | **missed** |");
        // one side measured: the ratio is not
        assertThat(md).contains("| Channel ping-pong across two pool threads vs `SynchronousQueue` between virtual threads | n/a (9000.0 ns vs n/a) | n/a | < 1× | not measured |");
        assertThat(md).contains("| `Coroutine.await` of a completed future vs its `join()` | 1.05× (2.1 ns vs 2.0 ns) | 1.05× | ≤ 1.10× | **met** |");
    }

    @Test
    void timesReadInTheirBestUnit() {
        assertThat(Report.time(12.34)).isEqualTo("12.3 ns");
        assertThat(Report.time(12_345)).isEqualTo("12.3 µs");
        assertThat(Report.time(12_345_678)).isEqualTo("12.3 ms");
        assertThat(Report.time(Double.NaN)).isEqualTo("n/a");
    }
}
