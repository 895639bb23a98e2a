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
     * Collects garbage (with some allocation pressure) until every reference is cleared, at most 200 times.
     * A thread of the JDK may hold what a test dropped a moment longer than the test: with a Flight Recorder
     * recording running, 50 collections (about 2 s, C1 only, on a loaded machine) once failed to clear a class
     * loader that every run before and after cleared (15 runs in a row under the same flags), and a bound
     * that outlasts the recorder's periodic work (once a second) costs nothing when the references clear.
     *
     * @return whether they all were cleared
     */
    public static boolean all(List<? extends WeakReference<?>> refs) {
        for (int attempt = 0; attempt < 200; attempt++) {
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
