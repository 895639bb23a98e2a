package dev.coro.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * Every example prints its golden file byte for byte whatever the JVM's default locale: its numbers in
 * ASCII digits, as the C runtime prints them in the C locale, not in the digits of an Arabic, Thai or
 * Hindi default (the examples' module runs its test classes one at a time, so the default can be set here).
 */
class ExamplesInEveryLocaleTest {

    /** Locales whose default number format writes other digits than ASCII: Arabic-Indic, Thai, Devanagari. */
    private static final Locale[] OTHER_DIGITS = {Locale.forLanguageTag("ar-EG"), Locale.forLanguageTag("th-TH-u-nu-thai"),
            Locale.forLanguageTag("hi-IN-u-nu-deva")};

    @ParameterizedTest(name = "{0} prints its golden file under a default locale of other digits")
    @FieldSource("dev.coro.examples.ExamplesTest#NAMES")
    void anExamplePrintsItsGoldenFileWhenTheDefaultLocaleWritesNumbersInOtherDigits(String name) throws Exception {
        Locale saved = Locale.getDefault();
        Locale savedDisplay = Locale.getDefault(Locale.Category.DISPLAY);
        Locale savedFormat = Locale.getDefault(Locale.Category.FORMAT);
        try {
            for (Locale l : OTHER_DIGITS) {
                Locale.setDefault(l);
                assertThat(String.format("%d", 7)).as("the default format of %s", l).isNotEqualTo("7");
                assertThat(ExamplesTest.runOnFreshThread(name)).as("output of %s under %s", name, l)
                        .isEqualTo(ExamplesTest.golden(name));
            }
        } finally {
            Locale.setDefault(saved);
            Locale.setDefault(Locale.Category.DISPLAY, savedDisplay);
            Locale.setDefault(Locale.Category.FORMAT, savedFormat);
        }
    }
}
