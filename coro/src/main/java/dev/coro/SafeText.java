package dev.coro;

/**
 * The text of a user's object in the library's messages, dumps and events: its {@code toString()},
 * or, if that throws, the class and identity hash that {@link Object#toString()} would give and
 * what was thrown (an exception or an error alike), so that an object that cannot say what it is
 * never makes a message fail. A
 * {@code toString()} that suspends its context and is closed meanwhile (the exit signal thrown out
 * of it) cannot say what it is either.
 */
final class SafeText {

    private SafeText() {
    }

    /**
     * {@code o}'s text: {@code String.valueOf(o)}, or, if its {@code toString()} throws, e.g.
     * {@code app.Job@1b6d3586 (its toString() threw java.lang.IllegalStateException)}.
     */
    static String of(Object o) {
        try {
            return String.valueOf(o);
        } catch (RuntimeException | Error e) { // an Error too (an assertion in it, a stack overflow, an exit signal): a text is never worth a failure
            return o.getClass().getName() + "@" + Integer.toHexString(System.identityHashCode(o))
                    + " (its toString() threw " + e.getClass().getName() + ")";
        }
    }
}
