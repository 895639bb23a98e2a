package dev.coro.internal;

/**
 * How a bridge finds its one implementation: the class in {@code dev.coro} that installs itself when it
 * is initialized, loaded by name on the first {@code get()}, and installed once only.
 */
final class Bridges {

    private Bridges() {
    }

    /**
     * Initializes {@code implementation}, whose static initializer installs it.
     *
     * @throws IllegalStateException if the class is missing from the library
     */
    static void load(String implementation) {
        try {
            Class.forName(implementation, true, Bridges.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("the coro library is incomplete: " + implementation + " is missing", e);
        }
    }

    /**
     * Refuses a second install.
     *
     * @param installed the bridge installed already, or null
     * @param what      the bridge, for the message, e.g. {@code I/O}
     * @throws IllegalStateException if {@code installed} is not null
     */
    static void checkNotInstalled(Object installed, String what) {
        if (installed != null) {
            throw new IllegalStateException("the " + what + " bridge is installed already");
        }
    }
}
