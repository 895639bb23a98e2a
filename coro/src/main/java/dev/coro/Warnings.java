package dev.coro;

/**
 * The library's warnings about how it was set up (the engine it fell back to, a system property it
 * cannot read): a {@code WARNING} of the {@link System.Logger} named {@code dev.coro}, which a logger
 * that throws never turns into a failure of the caller.
 *
 * <p>They are logged from class initializers ({@link Engines}, {@link Scheduler}, {@link EventLoop}) and
 * from the JVM's first scheduler: a log handler of the user's that threw there would fail that class's
 * initialization, and every later call of the library would throw {@code NoClassDefFoundError} for
 * the life of the JVM. Such a warning goes to {@code System.err} instead, with what the logger threw.
 */
final class Warnings {

    /** The logger's name. */
    static final String LOGGER = "dev.coro";

    private Warnings() {
    }

    /**
     * Logs {@code message} as a warning; if the logger throws, prints it to {@code System.err} with
     * what was thrown, and returns normally all the same.
     */
    static void log(String message) {
        try {
            System.getLogger(LOGGER).log(System.Logger.Level.WARNING, message);
        } catch (Throwable e) { // a handler of the user's, an exception or an error alike: the warning is worth no failure
            try {
                System.err.println("WARNING (the " + LOGGER + " logger threw " + SafeText.of(e) + "): " + message);
            } catch (Throwable ignored) {
                // nowhere left to say it
            }
        }
    }
}
