package dev.coro.bench.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report generator turns JMH JSON into the markdown and the charts. */
class ReportTest {

    private static String entry(String method, double score) {
        return entry("dev.coro.bench.SwitchBenchmark", method, score, "ns/op");
    }

    private static String entry(String clazz, String method, double score, String unit) {
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
