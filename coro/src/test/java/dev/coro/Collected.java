package dev.coro;

import java.lang.ref.WeakReference;
import java.util.List;

/**
 * The leak check of the tests: whether the garbage collector clears weak references to what a test
 * dropped, for the tests of this package and of the network package.
 */
public final class Collected {

    private Collected() {
    }

    /**
     * Collects garbage (with some allocation pressure) until every reference is cleared, at most 50 times.
     *
     * @return whether they all were cleared
     */
    public static boolean all(List<? extends WeakReference<?>> refs) {
        return all(refs, 50);
    }

    /**
     * Collects garbage (with some allocation pressure) until every reference is cleared, at most {@code attempts}
     * times: more than 50 for a check whose references a thread of the JDK may hold a moment longer than the test
     * (a check that expects them kept pays every attempt, so the default stays small).
     *
     * @return whether they all were cleared
     */
    public static boolean all(List<? extends WeakReference<?>> refs, int attempts) {
        for (int attempt = 0; attempt < attempts; attempt++) {
            if (refs.stream().allMatch(r -> r.refersTo(null))) {
                return true;
            }
            System.gc();
            byte[][] pressure = new byte[16][];
            for (int k = 0; k < pressure.length; k++) {
                pressure[k] = new byte[1 << 16];
            }
        }
        return refs.stream().allMatch(r -> r.refersTo(null));
    }
}
