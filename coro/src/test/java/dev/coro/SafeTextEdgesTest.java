package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * What {@link SafeText} shows at the edges of its rules: every character of the ranges it escapes
 * (C1 controls, the line and paragraph separators, the bidirectional embeddings, overrides and
 * isolates) is escaped up to the range's last one, the characters just outside stay as they are, a
 * text of exactly the limit is shown whole, and a {@code toString()} that answers null is shown as
 * string concatenation shows it.
 */
class SafeTextEdgesTest {

    @Test
    void everyCharacterOfTheEscapedRangesIsEscapedUpToTheRangesLastOne() {
        assertThat(SafeText.name("a\u0080b\u009fc\u2028d\u2029e\u202af\u202eg\u2066h\u2069i"))
                .isEqualTo("a\\u0080b\\u009fc\\u2028d\\u2029e\\u202af\\u202eg\\u2066h\\u2069i");
        assertThat(SafeText.line("a\u009fb\u2029c\u202ed\u2066e"))
                .isEqualTo("a\\u009fb\\u2029c\\u202ed\\u2066e");
    }

    @Test
    void theCharactersJustOutsideTheEscapedRangesStayAsTheyAre() {
        String outside = "a\u00a0b\u2027c\u202fd\u2065e\u206af";
        assertThat(SafeText.name(outside)).isSameAs(outside);
        assertThat(SafeText.line(outside)).isSameAs(outside);
    }

    @Test
    void aTextOfExactlyTheLimitIsShownWholeEvenEndingWithAHighSurrogate() {
        String name = "x".repeat(SafeText.NAME_LIMIT - 1) + '\ud83d'; // a lone high surrogate last
        assertThat(SafeText.name(name)).isSameAs(name);
    }

    @Test
    void aToStringThatAnswersNullIsShownAsNull() {
        Object unset = new Object() {
            @Override
            public String toString() {
                return null;
            }
        };
        assertThat(SafeText.of(unset)).isEqualTo("null");
        assertThat(SafeText.line(unset)).isEqualTo("null");
    }
}
