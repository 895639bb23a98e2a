package dev.coro;

/**
 * The text of a user's object in the library's messages, dumps and events: its {@code toString()},
 * or, if that throws, the class and identity hash that {@link Object#toString()} would give and
 * what was thrown (an exception, a checked one thrown sneakily, or an error alike), so that an object that cannot say what it is
 * never makes a message fail. A
 * {@code toString()} that suspends its context and is closed meanwhile (the exit signal thrown out
 * of it) cannot say what it is either.
 */
final class SafeText {

    /** The most characters of a name that a message or a dump shows; the rest is counted, not shown. */
    static final int NAME_LIMIT = 200;

    private SafeText() {
    }

    /**
     * How messages, dumps, deadlock reports and {@code toString()} show a user-given name (of a
     * coroutine, a generator, a channel or a thread), between the quotes they put around it: as it
     * is, unless it holds a control character (a line break would split a dump's line) or a bidirectional
     * override ({@link #inLine}), a backslash
     * or a quote, which are escaped as in a Java literal ({@code \n}, {@code \t}, {@code \\},
     * {@code \'}, any other as {@code \}{@code u} and four hex digits), or is longer than {@link #NAME_LIMIT} characters, whose first
     * ones are shown followed by how many more there are ({@code …(+800 chars)}).
     */
    static String name(String name) {
        return escaped(name, true);
    }

    /**
     * How dumps, deadlock reports, the JMX view and the park event show a user's object that a wait
     * names (an awaited future, a selected stage), after the words of the wait, and how messages show
     * one inline (the value of a refused {@code onSend}, a cancelled or failed stage): {@link #of its
     * text}, kept to one line and to {@link #NAME_LIMIT} characters, so that a {@code toString()} that
     * spans lines cannot split the line of the context that waits (nor pass its lines off as other
     * contexts'), and a huge one does not swell every dump that lists the wait or message that names it. A
     * control character is escaped as in a Java literal ({@code \n}, any other than {@code \r} and
     * {@code \t} as {@code \}{@code u} and four hex digits); the first characters of a longer text are
     * shown followed by how many more there are ({@code …(+800 chars)}). Quotes and backslashes stay as
     * they are: the text is not between quotes.
     */
    static String line(Object o) {
        return escaped(of(o), false);
    }

    /**
     * {@code text} as {@link #name} ({@code quoted}: backslashes and quotes escaped too) or {@link #line}
     * show it: control characters escaped, cut after {@link #NAME_LIMIT} characters.
     */
    private static String escaped(String text, boolean quoted) {
        int n = text.length();
        // cut before a character made of two chars rather than through it
        int shown = n <= NAME_LIMIT ? n : Character.isHighSurrogate(text.charAt(NAME_LIMIT - 1)) ? NAME_LIMIT - 1 : NAME_LIMIT;
        int i = 0;
        while (i < shown && asIs(text.charAt(i), quoted)) {
            i++;
        }
        if (i == n) {
            return text; // the usual case: nothing to escape or cut
        }
        StringBuilder b = new StringBuilder(shown + 24).append(text, 0, i);
        for (; i < shown; i++) {
            char c = text.charAt(i);
            if (asIs(c, quoted)) {
                b.append(c);
                continue;
            }
            switch (c) {
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\\' -> b.append("\\\\");
                case '\'' -> b.append("\\'");
                default -> b.append(String.format("\\u%04x", (int) c));
            }
        }
        if (shown < n) {
            b.append("\u2026(+").append(n - shown).append(" chars)");
        }
        return b.toString();
    }

    /** Whether {@code c} is shown as it is: a character {@link #inLine}, and in a name ({@code quoted}) neither a backslash nor a quote. */
    private static boolean asIs(char c, boolean quoted) {
        return inLine(c) && !(quoted && (c == '\\' || c == '\''));
    }

    /**
     * Whether {@code c} is shown as it is in an object's text on one line: not a control character, a line or
     * paragraph separator, nor a bidirectional embedding, override or isolate (U+202A to U+202E, U+2066 to
     * U+2069), which a viewer that lays out right-to-left text obeys to the end of the line: a name holding one
     * would reorder the words that follow it (the state, the wait, the next name) as they are shown, though
     * not as they are written. Right-to-left letters, and the marks that only attach to them, stay as they are.
     */
    private static boolean inLine(char c) {
        return c >= ' ' && (c < 0x7f || c > 0x9f) && c != '\u2028' && c != '\u2029'
                && (c < '\u202a' || c > '\u202e') && (c < '\u2066' || c > '\u2069');
    }

    /**
     * {@code o}'s text: {@code String.valueOf(o)} ({@code null} for a {@code toString()} that answers null
     * against its contract, as string concatenation shows it), or, if its {@code toString()} throws, e.g.
     * {@code app.Job@1b6d3586 (its toString() threw java.lang.IllegalStateException)}.
     */
    static String of(Object o) {
        try {
            String text = String.valueOf(o);
            return text != null ? text : "null"; // a toString() that answers null (an unset field): as string concatenation shows it
        } catch (Throwable e) { // an Error too (an assertion in it, a stack overflow, an exit signal), and a checked exception thrown sneakily: a text is never worth a failure
            return o.getClass().getName() + "@" + Integer.toHexString(System.identityHashCode(o))
                    + " (its toString() threw " + e.getClass().getName() + ")";
        }
    }
}
