package dev.coro.bench.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report's charts are drawn the same whatever the JVM's default locale, as its tables are written: the numbers
 * on their axes and bars in ASCII digits with a comma between thousands and a point before the decimals, not a
 * German default's {@code 1.234,5} nor an Arabic one's Arabic-Indic digits (this module runs its test classes one at
 * a time, so the default can be set here).
 */
class ReportChartsInEveryLocaleTest {

    @Test
    void bothChartsAreTheSameBytesUnderAnArabicDefault(@TempDir Path dir) throws Exception {
        Path results = Files.createDirectories(dir.resolve("results"));
        // figures past a thousand with decimals: a grouping separator and a decimal separator on the bars
        Files.writeString(results.resolve("jmh.json"), "["
                + ReportTest.entry("dev.coro.bench.GeneratorBenchmark", "coroGeneratorNext", 1234.5, "ns/op") + ","
                + ReportTest.entry("dev.coro.bench.GeneratorBenchmark", "kotlinSequenceNext", 12345.5, "ns/op") + ","
                + ReportTest.entry("dev.coro.bench.SwitchBenchmark", "coroSwitchTo", 105.5, "ns/op") + "]");
        Path root = dir.resolve("root");
        Report.main(new String[] {results.toString(), root.toString()});
        // Arabic-Indic digits, and its own separators between thousands and before the decimals
        for (Locale l : new Locale[] {Locale.forLanguageTag("ar-EG")}) {
            Path docs = dir.resolve(l.toLanguageTag());
            Locale saved = Locale.getDefault();
            Locale display = Locale.getDefault(Locale.Category.DISPLAY);
            Locale format = Locale.getDefault(Locale.Category.FORMAT);
            try {
                Locale.setDefault(l);
                Report.main(new String[] {results.toString(), docs.toString()});
            } finally {
                Locale.setDefault(saved);
                Locale.setDefault(Locale.Category.DISPLAY, display);
                Locale.setDefault(Locale.Category.FORMAT, format);
            }
            for (String chart : new String[] {"benchmarks.png", Report.KOTLIN_CHART}) {
                assertThat(Files.mismatch(docs.resolve(chart), root.resolve(chart)))
                        .as("where %s under %s first differs from the one under the build's default", chart, l).isEqualTo(-1L);
            }
            assertThat(Files.readString(docs.resolve("BENCHMARKS.md"))).as("the report under %s", l)
                    .isEqualTo(Files.readString(root.resolve("BENCHMARKS.md")));
        }
    }
}
