package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.Engines.Choice;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The library's texts and the engine property read the same whatever the JVM's default locale: a Turkish default
 * (whose lower case of {@code I} is a dotless {@code ı}) does not change which engine {@code -Dcoro.engine=CONTINUATION}
 * names, and a default that writes numbers in other digits or separators (Arabic-Indic, Thai, Persian, German) does
 * not change a duration or a deadline in a message or a dump. The test classes of this module
 * run one at a time in one JVM, so each test sets the default and puts it back.
 */
@ExtendWith(FreshThread.class)
class TextsInEveryDefaultLocaleTest {

    private static final String FLAG = "--add-exports java.base/jdk.internal.vm=dev.coro";

    /** Defaults whose number format is not the root one: other digits, or a decimal comma. */
    private static final List<Locale> OTHER_NUMBERS = List.of(Locale.forLanguageTag("ar-EG"),
            Locale.forLanguageTag("th-TH-u-nu-thai"), Locale.forLanguageTag("fa-IR"), Locale.GERMANY);

    private final List<String> log = new ArrayList<>();

    /** Runs {@code check} with {@code locale} as the default of every category, then puts the defaults back. */
    private static void underDefault(Locale locale, Runnable check) {
        Locale saved = Locale.getDefault();
        Locale display = Locale.getDefault(Locale.Category.DISPLAY);
        Locale format = Locale.getDefault(Locale.Category.FORMAT);
        try {
            Locale.setDefault(locale);
            check.run();
        } finally {
            Locale.setDefault(saved);
            Locale.setDefault(Locale.Category.DISPLAY, display);
            Locale.setDefault(Locale.Category.FORMAT, format);
        }
    }

    @Test
    void underATurkishDefaultTheEngineNamesInCapitalsStillNameTheirEngines() {
        underDefault(Locale.forLanguageTag("tr-TR"), () -> {
            assertThat("CONTINUATION".toLowerCase()).as("the default's own lower case").isEqualTo("contınuatıon");
            assertThat(Engines.select("CONTINUATION", true, true, FLAG, null)).isEqualTo(new Choice("continuation", null, null));
            assertThat(Engines.select(" Continuation ", true, true, FLAG, null)).isEqualTo(new Choice("continuation", null, null));
            assertThat(Engines.select("THREADS", true, true, FLAG, null)).isEqualTo(new Choice("threads", null, null));
            assertThat(Engines.select("AUTO", true, true, FLAG, null)).isEqualTo(new Choice("continuation", null, null));
        });
    }

    @Test
    void aDurationReadsInAsciiDigitsWithRootSeparatorsUnderEveryDefaultWrittenOutOrFormatted() {
        for (Locale l : OTHER_NUMBERS) {
            underDefault(l, () -> {
                assertThat(String.format("%,.3f", 1012.5)).as("the default's own format").isNotEqualTo("1,012.500");
                assertThat(EventLoop.millis(1_012_500_000L)).as("under %s", l).isEqualTo("1,012.500 ms");
                // past 2^50 ns the text is formatted, not written out
                assertThat(EventLoop.millis(1L << 52)).as("under %s", l).isEqualTo("4,503,599,627.370 ms");
                assertThat(EventLoop.millis(-(1L << 52))).as("under %s", l).isEqualTo("-4,503,599,627.370 ms");
            });
        }
    }

    @Test
    void aSleepInTheDumpAndTheSignalOfAnExpiredTimeoutReadTheSameUnderADefaultOfOtherDigits() {
        for (Locale l : OTHER_NUMBERS.subList(0, 2)) {
            underDefault(l, () -> VirtualTime.run(() -> {
                Coroutine.create("observer", () -> log.add(Coroutine.dump().lines()
                        .filter(line -> line.startsWith("  [0]")).findFirst().orElseThrow()));
                log.add(catchThrowable(() -> Coroutine.withTimeout(Duration.ofMillis(250),
                        () -> Coroutine.sleep(Duration.ofMillis(1500)))).getCause().getMessage());
            }));
        }
        String dumped = "  [0] main: PARKED, waits to sleep 1,500.000 ms (t=1,500.000 ms on the virtual clock,"
                + " 1,500.000 ms left)";
        String signal = "main context 'main': its withTimeout(PT0.25S) expired; its sleep 1,500.000 ms"
                + " (t=1,500.000 ms on the virtual clock, 1,250.000 ms left) throws this signal so that the body unwinds to it";
        assertThat(log).containsExactly(dumped, signal, dumped, signal);
    }
}
