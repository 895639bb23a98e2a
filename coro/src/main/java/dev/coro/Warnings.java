package dev.coro;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The library's warnings about how it was set up (the engine it fell back to, a system property it
 * cannot read): a {@code WARNING} of the {@link System.Logger} named {@code dev.coro}, which a logger
 * that throws never turns into a failure of the caller.
 *
 * <p>Those found by class initializers ({@link Engines}, {@link Scheduler}, {@link EventLoop}) are not logged
 * there but {@linkplain #defer deferred}, and logged once a scheduler has been made with those classes and is
 * its thread's ({@link #logDeferred}): a log handler of the user's that used the library from within the
 * initializer would find a class half made (a scheduler made there had no engine to run on), and one that
 * waited for another thread using the library would wait for good, that thread waiting for the initializer.
 * A warning whose logger throws goes to {@code System.err} instead, with what the logger threw: thrown from
 * a class initializer it would fail that class for the life of the JVM.
 */
final class Warnings {

    /** The logger's name. */
    static final String LOGGER = "dev.coro";

    /** The warnings of class initializers not logged yet, in the order they came. Guarded by itself. */
    private static final List<String> DEFERRED = new ArrayList<>();
    /** Whether {@link #DEFERRED} may hold any: one read for every thread that makes its scheduler. */
    private static volatile boolean anyDeferred;

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

    /** How many texts {@link #LOGGED_ONCE} remembers at most: past that, a warning not among them is logged every time. */
    static final int ONCE_KEPT = 32;
    /** The texts of the warnings {@link #logOnce} has logged. Guarded by itself. */
    private static final Set<String> LOGGED_ONCE = new HashSet<>();

    /**
     * {@link #log}s {@code message} unless a warning of the same text was logged so already in this copy of the
     * library: a warning about how the library is set up says the same each time it is found, and logged for
     * each try it is log spam. The first {@link #ONCE_KEPT} texts are remembered (a failure whose text holds
     * something that varies, a count say, does not grow the set for good).
     */
    static void logOnce(String message) {
        synchronized (LOGGED_ONCE) {
            if (LOGGED_ONCE.contains(message)) {
                return;
            }
            if (LOGGED_ONCE.size() < ONCE_KEPT) {
                LOGGED_ONCE.add(message);
            }
        }
        log(message);
    }

    /**
     * Keeps {@code message}, a warning found by a class initializer, for {@link #logDeferred}: the user's log
     * handler must not run inside the initializer.
     */
    static void defer(String message) {
        synchronized (DEFERRED) {
            DEFERRED.add(message);
            anyDeferred = true;
        }
    }

    /**
     * Logs the deferred warnings, each once: called by a thread whose scheduler has just been made and is its
     * current one (or whose making failed), no class initializer of the library running, so that a handler
     * may use the library there as anywhere. They are taken out before any is logged, so a handler that makes
     * another thread's scheduler does not log them twice.
     */
    static void logDeferred() {
        if (!anyDeferred) {
            return;
        }
        List<String> now;
        synchronized (DEFERRED) {
            now = new ArrayList<>(DEFERRED);
            DEFERRED.clear();
            anyDeferred = false;
        }
        now.forEach(Warnings::log);
    }
}
