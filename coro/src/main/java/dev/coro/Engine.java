package dev.coro;

import java.util.Locale;

/**
 * How coroutine bodies get stacks of their own and how control moves between them: the machinery
 * under the {@link Scheduler}, which owns every scheduling rule.
 *
 * <p>Two engines exist, chosen once per JVM by {@link #select}:
 * <ul>
 *   <li>{@link ContinuationEngine}: each body on a {@code jdk.internal.vm.Continuation}, run on the
 *       owner thread. Needs {@link #exportsFlag()}; the fast one.</li>
 *   <li>{@link ThreadEngine}: each body on a virtual thread of its own, with a strict handoff. Public
 *       API only; runs on any JDK 25, each switch costs a virtual-thread park/unpark.</li>
 * </ul>
 * The system property {@value #PROPERTY} forces one: {@code continuation}, {@code threads}, or
 * {@code auto} (the default): the continuation engine if the package is exported to this library,
 * otherwise the thread engine and one warning through {@link System.Logger}.
 */
abstract class Engine {

    /** The system property that forces an engine. */
    static final String PROPERTY = "coro.engine";
    private static final String PACKAGE = "jdk.internal.vm";
    /** Why no engine can run here; set when {@link #INSTANCE} is null. */
    private static String unavailable;
    private static final Engine INSTANCE = init();

    /**
     * The engine of this JVM.
     *
     * @throws UnsupportedOperationException if the engine asked for cannot run here (the message names the flag)
     */
    static Engine get() {
        Engine e = INSTANCE;
        if (e == null) {
            throw new UnsupportedOperationException(unavailable);
        }
        return e;
    }

    /** The name of the engine of this JVM, as {@value #PROPERTY} spells it: {@code continuation} or {@code threads}. */
    static String running() {
        return get().name();
    }

    /** The exact flag that exports the JDK's continuations to this library, as it is loaded now. */
    static String exportsFlag() {
        Module self = Engine.class.getModule();
        return "--add-exports java.base/" + PACKAGE + "=" + (self.isNamed() ? self.getName() : "ALL-UNNAMED");
    }

    /** Whether {@code jdk.internal.vm} is exported to this library. */
    static boolean continuationsExported() {
        return Object.class.getModule().isExported(PACKAGE, Engine.class.getModule());
    }

    /** What {@link #select} decided: the engine's name, or why none can run; and a warning to log, if any. */
    record Choice(String engine, String failure, String warning) {
    }

    /**
     * A stack for a generator's body, not started. By default a continuation of the generators' own
     * scope; an engine whose coroutines are not continuations provides another.
     *
     * @param s    the scheduler of the thread that creates the generator, which owns it
     * @param name the generator's name, for the engine's threads
     * @param body the body, which catches everything it throws
     */
    GeneratorStack newGeneratorStack(Scheduler s, String name, Runnable body) {
        return new GeneratorContinuation(body);
    }

    /**
     * The frames of {@code c}, a suspended or parked context of {@code s}, innermost first, with the
     * machinery of the switch still in; {@link StackTraces} cuts it off. By default (continuations):
     * a coroutine's continuation's frames, and for main the calling thread's frames below main's
     * trampoline, since every context runs on top of main's stack.
     */
    StackTraceElement[] rawFrames(Scheduler s, Coroutine c) {
        return c.isMain() ? StackTraces.belowTrampoline() : c.strand.stackTrace();
    }

    /**
     * Decides the engine from the value of {@value #PROPERTY} and whether the continuations are
     * exported; pure, so that every case can be tested in one JVM.
     *
     * @param property the property's value; null, blank or {@code auto} for the automatic choice
     * @param exported whether {@code jdk.internal.vm} is exported to this library
     * @param flag     the flag that would export it ({@link #exportsFlag()})
     */
    static Choice select(String property, boolean exported, String flag) {
        String asked = property == null ? "auto" : property.strip().toLowerCase(Locale.ROOT);
        return switch (asked) {
            case "", "auto" -> exported
                    ? new Choice("continuation", null, null)
                    : new Choice("threads", null, "coro runs on its thread engine: " + PACKAGE
                            + " is not exported to this library, so each coroutine runs on a virtual thread of its own"
                            + " and every switch costs a virtual-thread park/unpark handoff (several times the"
                            + " continuation engine's switch, tens of times when main is a platform thread)."
                            + " Add the JVM flag " + flag
                            + " for the continuation engine, or set -D" + PROPERTY + "=threads to choose this"
                            + " engine and silence this warning.");
            case "continuation" -> exported
                    ? new Choice("continuation", null, null)
                    : new Choice(null, "cannot use the continuation engine asked for by -D" + PROPERTY
                            + "=continuation: add the JVM flag " + flag + " (the package " + PACKAGE
                            + " is not exported to this library), or remove the property to fall back to the thread engine", null);
            case "threads" -> new Choice("threads", null, null);
            default -> new Choice(null, "cannot choose a coroutine engine: -D" + PROPERTY + "=" + property
                    + " is not one of auto, continuation, threads", null);
        };
    }

    private static Engine init() {
        Choice c = select(System.getProperty(PROPERTY), continuationsExported(), exportsFlag());
        if (c.warning() != null) {
            System.getLogger("dev.coro").log(System.Logger.Level.WARNING, c.warning());
        }
        if (c.engine() == null) {
            unavailable = c.failure();
            return null;
        }
        return c.engine().equals("threads") ? new ThreadEngine() : newContinuationEngine();
    }

    /** Loads the continuation engine only here, so the thread engine never links {@code jdk.internal.vm}. */
    private static Engine newContinuationEngine() {
        return new ContinuationEngine();
    }

    /** This engine's name, as {@value #PROPERTY} spells it. */
    abstract String name();

    /** A strand that will run {@code co}'s body through {@link Scheduler#runToEnd}; not started. */
    abstract Strand newStrand(Scheduler s, Coroutine co);

    /**
     * Runs on {@code from}, the running context, after the scheduler made {@code to} current:
     * suspends {@code from} and runs {@code to}. On return, some context has transferred back to
     * {@code from}.
     *
     * @throws PinnedException if the JDK cannot suspend {@code from} here; nothing was transferred
     */
    abstract void transfer(Scheduler s, Coroutine from, Coroutine to);
}
