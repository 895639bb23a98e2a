package dev.coro;

/**
 * How coroutine bodies get stacks of their own and how control moves between them: the machinery
 * under the {@link Scheduler}, which owns every scheduling rule.
 */
abstract class Engine {

    private static final String PACKAGE = "jdk.internal.vm";
    /** Why no engine can run here; set by {@link #select()} when it returns null. */
    private static String unavailable;
    private static final Engine INSTANCE = select();

    /**
     * The engine of this JVM.
     *
     * @throws UnsupportedOperationException naming the JVM flag to add, if no engine can run here
     */
    static Engine get() {
        Engine e = INSTANCE;
        if (e == null) {
            throw new UnsupportedOperationException(unavailable);
        }
        return e;
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

    private static Engine select() {
        if (continuationsExported()) {
            return new ContinuationEngine();
        }
        unavailable = "coro needs the JDK's continuations: add the JVM flag " + exportsFlag()
                + " (the package " + PACKAGE + " is not exported to " + Engine.class.getModule() + ")";
        return null;
    }

    /**
     * A stack for a generator's body, not started. By default a continuation of the generators' own
     * scope; an engine whose coroutines are not continuations may provide another.
     */
    GeneratorStack newGeneratorStack(Runnable body) {
        return new GeneratorContinuation(body);
    }

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
