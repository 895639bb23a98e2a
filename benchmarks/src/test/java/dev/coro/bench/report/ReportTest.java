package dev.coro.bench.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report generator turns JMH JSON into the markdown and the chart. */
class ReportTest {

    private static String entry(String method, double score) {
        return """
                {"jmhVersion": "1.37", "benchmark": "dev.coro.bench.SwitchBenchmark.%s", "mode": "avgt",
                 "threads": 1, "forks": 1, "jvm": "java", "jvmArgs": ["--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED"],
                 "jdkVersion": "25", "vmName": "OpenJDK 64-Bit Server VM", "vmVersion": "25",
                 "warmupIterations": 1, "warmupTime": "1 s", "measurementIterations": 1, "measurementTime": "1 s",
                 "primaryMetric": {"score": %s, "scoreError": "NaN", "scoreUnit": "ns/op", "rawData": [[%s, %s]]},
                 "secondaryMetrics": {"gc.alloc.rate.norm": {"score": 0.001, "scoreError": 0.0, "scoreUnit": "B/op"}}}
                """.formatted(method, score, score, score * 2);
    }

    @Test
    void writesTheTargetsTableAndAChartFromJmhJson(@TempDir Path dir) throws Exception {
        Path results = Files.createDirectories(dir.resolve("results"));
        Files.writeString(results.resolve("jmh.json"), "[" + entry("coroSwitchTo", 105) + "," + entry("rawTrampoline", 100) + "]");
        Files.writeString(results.resolve("env.txt"), "CPU: test cpu, 2 cores\n");
        Path docs = dir.resolve("docs");

        Report.main(new String[] {results.toString(), docs.toString()});

        String md = Files.readString(docs.resolve("BENCHMARKS.md"));
        assertThat(md).contains("| Switch vs raw continuation trampoline | 1.05× (105.0 ns vs 100.0 ns) | 1.05× | ≤ 1.10× | **met** |");
        assertThat(md).contains("`SwitchBenchmark.coroSwitchTo`", "| CPU | test cpu, 2 cores |", "Not measured in this run.");
        assertThat(Files.size(docs.resolve("benchmarks.png"))).isPositive();
    }
}
