package dev.coro;

import java.lang.ref.WeakReference;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The leak check of the tests: whether the garbage collector clears weak references to what a test
 * dropped, and what follows once it has, for the tests of this package and of the network package.
 */
public final class Collected {

    private Collected() {
    }

    /**
     * Collects garbage (with some allocation pressure) until every reference is cleared, at most 50 times (a check
     * that expects them kept pays every attempt, so the bound stays small). References that a thread of the JDK may
     * hold a moment longer than the test are waited for with {@link #until} instead, which no number bounds.
     *
     * @return whether they all were cleared
     */
    public static boolean all(List<? extends WeakReference<?>> refs) {
        for (int attempt = 0; attempt < 50; attempt++) {
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

    /**
     * Collects garbage until {@code gone} holds: what comes after a collection at the pace of another thread,
     * which no number of collections bounds (the JDK's Reference Handler queueing the references a collection
     * cleared, so that a weak map sees its entries gone; a cleaner closing what a collected object held; a
     * virtual thread that handed its turn on still mounted on its carrier until it parks). It yields between
     * attempts, and has no bound of its own: the test's {@code @Timeout} (or the suite's default) is the guard
     * against a hang, so that a loaded machine cannot make it fail.
     *
     * @param gone whether what the test waits for has happened; read on the calling thread
     */
    public static void until(BooleanSupplier gone) {
        while (!gone.getAsBoolean()) {
            System.gc();
            Thread.yield();
        }
    }
}
