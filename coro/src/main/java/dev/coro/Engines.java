package dev.coro;

import java.util.Locale;
import java.util.function.Function;

/**
 * How the JVM's engine is chosen: once, from the system property {@value #PROPERTY} and whether the
 * JDK's continuations are exported to this library.
 *
 * <p>{@code continuation} and {@code threads} force an engine (a name is read whatever its case, blanks
 * around it ignored; a refusal quotes the value as given, between quotes, a control character, quote or
 * backslash in it escaped as in a user-given name); {@code auto} (the default) takes the
 * continuation engine if {@code jdk.internal.vm} is exported to this library and the JVM supports
 * continuations, otherwise the thread engine with one warning through {@link System.Logger}. Only the chosen engine's classes are loaded.
 * None runs on a Java runtime without the module {@code jdk.jfr} (a runtime image made without it).
 */
final class Engines {

    /** The system property that forces an engine. */
    static final String PROPERTY = "coro.engine";
    private static final String PACKAGE = "jdk.internal.vm";
    /** Why the continuation engine cannot run on a JVM that does not support continuations. */
    private static final String UNSUPPORTED = "this JVM does not support the JDK's continuations"
            + " (it runs with -XX:-VMContinuations, or is a port of the JDK without them)";
    /** Why no engine can run here; set when {@link #FACTORY} is null. */
    private static String unavailable;
    /** The chosen engine's name, or null if none can run. */
    private static String chosen;
    /** Makes the chosen engine's share for a scheduler; null if none can run. */
    private static final Function<Scheduler, Engine> FACTORY = init();
    /**
     * Whether this JVM runs the thread engine: a constant, so that what only that engine needs
     * ({@link LateBinding}) costs the continuation engine nothing where the library tests it.
     */
    static final boolean THREAD_ENGINE = "threads".equals(chosen);

    private Engines() {
    }

    /** What {@link #select} decided: the engine's name, or why none can run; and a warning to log, if any. */
    record Choice(String engine, String failure, String warning) {
    }

    /**
     * The chosen engine's share for the new scheduler {@code s}.
     *
     * @throws UnsupportedOperationException if the engine asked for cannot run here (the message names the flag)
     */
    static Engine open(Scheduler s) {
        if (FACTORY == null) {
            throw new UnsupportedOperationException(unavailable);
        }
        return FACTORY.apply(s);
    }

    /**
     * The name of the engine of this JVM, as {@value #PROPERTY} spells it.
     *
     * @throws UnsupportedOperationException if the engine asked for cannot run here
     */
    static String running() {
        if (FACTORY == null) {
            throw new UnsupportedOperationException(unavailable);
        }
        return chosen;
    }

    /** The exact flag that exports the JDK's continuations to this library, as it is loaded now. */
    static String exportsFlag() {
        Module self = Engines.class.getModule();
        return "--add-exports java.base/" + PACKAGE + "=" + (self.isNamed() ? self.getName() : "ALL-UNNAMED");
    }

    /** Whether {@code jdk.internal.vm} is exported to this library. */
    static boolean continuationsExported() {
        return Object.class.getModule().isExported(PACKAGE, Engines.class.getModule());
    }

    /**
     * Why the JDK's continuations are not exported to this library where the flag alone would not tell, as
     * loaded now: see {@link #whyNotExported(String, boolean, boolean)}; null if the flag alone tells (always so on
     * the class path).
     */
    static String whyNotExported() {
        Module self = Engines.class.getModule();
        return self.isNamed()
                ? whyNotExported(self.getName(), self.getLayer() == ModuleLayer.boot(),
                        Object.class.getModule().isExported(PACKAGE, ClassLoader.getSystemClassLoader().getUnnamedModule()))
                : null;
    }

    /**
     * Why the JDK's continuations are not exported to this library, the named module {@code module}, where the
     * flag alone would not tell; null if it would. (The reverse mistake, the module's flag with the library on
     * the class path, the JVM itself reports as an unknown module at its start.)
     *
     * @param module              the library's module name
     * @param bootLayer           whether that module is in the boot layer (on the module path), the only layer
     *                            a JVM flag reaches
     * @param exportedToClassPath whether the package is exported to the class path ({@code =ALL-UNNAMED})
     */
    static String whyNotExported(String module, boolean bootLayer, boolean exportedToClassPath) {
        if (!bootLayer) {
            return "this library is the module " + module + " of a module layer other than the boot layer, which no JVM"
                    + " flag reaches: load it from the module path";
        }
        return exportedToClassPath
                ? "--add-exports java.base/" + PACKAGE + "=ALL-UNNAMED exports it to the class path only, and this library"
                        + " is the module " + module
                : null;
    }

    /**
     * Decides the engine from the value of {@value #PROPERTY}, whether the continuations are exported and
     * whether the JVM supports them; pure, so that every case can be tested in one JVM.
     *
     * @param property the property's value; null, blank or {@code auto} for the automatic choice
     * @param exported whether {@code jdk.internal.vm} is exported to this library
     * @param supported whether this JVM supports the JDK's continuations ({@link #continuationsSupported()});
     *                 read only if {@code exported}
     * @param flag     the flag that would export it ({@link #exportsFlag()})
     * @param why      why it is not exported where the flag alone would not tell ({@link #whyNotExported()}), or null
     */
    static Choice select(String property, boolean exported, boolean supported, String flag, String why) {
        String asked = property == null ? "auto" : property.strip().toLowerCase(Locale.ROOT);
        return switch (asked) {
            case "", "auto" -> exported && supported
                    ? new Choice("continuation", null, null)
                    : exported
                    ? new Choice("threads", null, "coro runs on its thread engine: " + UNSUPPORTED + ", so each"
                            + " coroutine runs on a virtual thread of its own (which such a JVM backs with a platform"
                            + " thread of its own). Set -D" + PROPERTY + "=threads to choose this engine and silence"
                            + " this warning.")
                    : new Choice("threads", null, "coro runs on its thread engine: " + PACKAGE
                            + " is not exported to this library" + (why == null ? "" : " (" + why + ")")
                            + ", so each coroutine runs on a virtual thread of its own"
                            + " and every switch costs a virtual-thread park/unpark handoff (several times the"
                            + " continuation engine's switch, tens of times when main is a platform thread)."
                            + " Add the JVM flag " + flag
                            + " for the continuation engine, or set -D" + PROPERTY + "=threads to choose this"
                            + " engine and silence this warning.");
            case "continuation" -> exported && supported
                    ? new Choice("continuation", null, null)
                    : exported
                    ? new Choice(null, "cannot use the continuation engine asked for by " + given(property)
                            + ": " + UNSUPPORTED + "; remove the property to fall back to the thread engine", null)
                    : new Choice(null, "cannot use the continuation engine asked for by " + given(property)
                            + ": add the JVM flag " + flag + " (the package " + PACKAGE
                            + " is not exported to this library" + (why == null ? "" : ": " + why)
                            + "), or remove the property to fall back to the thread engine", null);
            case "threads" -> new Choice("threads", null, null);
            default -> new Choice(null, "cannot choose a coroutine engine: " + given(property)
                    + " is not one of auto, continuation, threads", null);
        };
    }

    /**
     * How a refusal quotes the property as the user gave it: {@code -Dcoro.engine='value'}, the value between
     * quotes and shown as {@link SafeText#name} shows a user-given name, so that blanks around it are visible and
     * a control character in it cannot split the message's line.
     */
    private static String given(String property) {
        return "-D" + PROPERTY + "='" + SafeText.name(property) + "'";
    }

    private static Function<Scheduler, Engine> init() {
        if (!jfrPresent()) {
            unavailable = "coro cannot run on this Java runtime: it lacks the module jdk.jfr, whose classes the library's"
                    + " JFR events extend (they cost nothing until a recording starts); add it to the runtime image"
                    + " (jlink --add-modules jdk.jfr,...)";
            return null;
        }
        boolean exported = continuationsExported();
        Choice c = select(System.getProperty(PROPERTY), exported, exported && continuationsSupported(), exportsFlag(),
                whyNotExported());
        if (c.warning() != null) {
            Warnings.defer(c.warning()); // logged once a scheduler is made: not inside this initializer
        }
        if (c.engine() == null) {
            unavailable = c.failure();
            return null;
        }
        chosen = c.engine();
        return chosen.equals("threads") ? ThreadEngine::new : continuationEngine();
    }

    /**
     * Whether the module {@code jdk.jfr} is in the runtime: the library's events extend its classes, and a
     * runtime image made without it (jlink) would fail the first scheduler with a bare {@code NoClassDefFoundError}.
     * (On the module path, {@code requires jdk.jfr} makes the JVM refuse to start without it.)
     */
    private static boolean jfrPresent() {
        try {
            Class.forName("jdk.jfr.Event", false, Engines.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /**
     * Whether this JVM supports the JDK's continuations: not with {@code -XX:-VMContinuations}, nor on a port of
     * the JDK without them, where the first continuation made fails. Called only once {@code jdk.internal.vm} is
     * exported to this library; the class it asks is one the JDK loads at its start.
     */
    private static boolean continuationsSupported() {
        return jdk.internal.vm.ContinuationSupport.isSupported();
    }

    /** Links the continuation engine only here, so that the thread engine never loads {@code jdk.internal.vm}. */
    private static Function<Scheduler, Engine> continuationEngine() {
        return ContinuationEngine::new;
    }
}
