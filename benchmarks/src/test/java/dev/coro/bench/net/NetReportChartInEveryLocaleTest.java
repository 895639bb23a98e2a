package dev.coro.bench.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The echo benchmark's chart is drawn the same whatever the JVM's default locale, as its table is written: the
 * requests per second and the latencies on its axes in ASCII digits with a comma between thousands, not in an Arabic
 * default's digits and separators (this module runs its test classes one at a time, so the default can be set here).
 */
class NetReportChartInEveryLocaleTest {

    @Test
    void theChartAndTheTableAreTheSameBytesUnderAnArabicDefault(@TempDir Path dir) throws Exception {
        StringBuilder lines = new StringBuilder();
        for (String server : new String[] {"coro", "nio"}) {
            for (int c : new int[] {10, 1000}) {
                long requests = server.equals("coro") ? 1_234_567 : 987_654;
                lines.append(new LoadResult(server, 1, c, 1.0, 1.0, requests, 8_000, 7_000, 1_500_000, 2_500_000,
                        3_000_000, 3_000_000, 0, 100, 1000, 0, 5, 1_000_000_000L, 900_000_000L).json()).append('\n');
                lines.append(new IdleResult(server, 1, c, 1000, 50_000, 60_000, 61_000, 61_000, 1.0, 0).json()).append('\n');
            }
        }
        Path root = Files.createDirectories(dir.resolve("root"));
        Path arabic = Files.createDirectories(dir.resolve("ar-EG"));
        Files.writeString(root.resolve("results.jsonl"), lines);
        Files.writeString(arabic.resolve("results.jsonl"), lines);
        NetReport.main(new String[] {root.toString()});
        Locale saved = Locale.getDefault();
        Locale display = Locale.getDefault(Locale.Category.DISPLAY);
        Locale format = Locale.getDefault(Locale.Category.FORMAT);
        try {
            Locale.setDefault(Locale.forLanguageTag("ar-EG"));
            NetReport.main(new String[] {arabic.toString()});
        } finally {
            Locale.setDefault(saved);
            Locale.setDefault(Locale.Category.DISPLAY, display);
            Locale.setDefault(Locale.Category.FORMAT, format);
        }
        assertThat(Files.mismatch(arabic.resolve("net.png"), root.resolve("net.png")))
                .as("where net.png under ar-EG first differs from the one under the build's default").isEqualTo(-1L);
        assertThat(Files.readString(arabic.resolve("net.md"))).as("net.md under ar-EG")
                .isEqualTo(Files.readString(root.resolve("net.md")));
    }
}
