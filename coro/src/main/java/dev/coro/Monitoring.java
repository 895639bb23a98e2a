package dev.coro;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import jdk.jfr.FlightRecorder;
import jdk.jfr.FlightRecorderListener;

/**
 * What observes the schedulers of the JVM: the registry of every live scheduler, and what is turned
 * on once, when the JVM's first scheduler is created.
 *
 * <p>The registry holds each scheduler weakly and drops those whose thread has ended, so it keeps
 * nothing alive; a scheduler joins it once, when its thread first uses the library. At the first
 * creation: the JFR event classes are registered and the statistics hook added when Flight Recorder
 * initializes (at once if it has),
 * the blocked-loop detector starts if {@code -Dcoro.blockedThreshold} is set, and the JMX view is
 * registered if {@code -Dcoro.jmx=true} or the JMX agent's {@code -Dcom.sun.management.jmxremote}
 * (or its {@code .port}) is set. A program that sets none of these pays for a listener on Flight
 * Recorder and nothing else: no event class is loaded until Flight Recorder initializes, since
 * loading one initializes JFR's metadata, and a park, a creation and a body's end read one
 * volatile field ({@link #jfr}) to know. The listener and the statistics hook are held by the JDK for
 * the JVM's life, and hold this copy of the library: {@link #release()} takes them back.
 */
final class Monitoring {

    /** The system property that registers the JMX view at the first scheduler's creation. */
    static final String JMX_PROPERTY = "coro.jmx";
    /**
     * Whether parks record when they happened ({@link Context#parkedSince}), for the JMX view's
     * oldest parked context: on from the view's registration.
     */
    static volatile boolean parkTimes;
    /**
     * Whether Flight Recorder has initialized: until then no event class is even loaded, since
     * loading a {@code jdk.jfr.Event} subclass initializes JFR's metadata (about 0.2 s).
     */
    static volatile boolean jfr;

    /** Every scheduler created, weakly. Guarded by itself. */
    private static final List<WeakReference<Scheduler>> ALL = new ArrayList<>();
    /** The registry's size at which the next {@link #add} drops dead entries first. */
    private static int pruneAt = 64;
    /** Whether the first scheduler was created. Guarded by {@link #ALL}. */
    private static boolean started;
    /**
     * Whether a scheduler registered has taken on {@link #firstScheduler()}'s set-up: false again if that failed
     * for want of memory, so that the next scheduler registered tries it again. Guarded by {@link #ALL}.
     */
    private static boolean setUp;
    /** The listener on Flight Recorder, from the first scheduler until {@link #release()}; null otherwise. Guarded by {@link #ALL}. */
    private static FlightRecorderListener listener;
    /** The statistics' periodic hook, from Flight Recorder's initialization until {@link #release()}; null otherwise. Guarded by {@link #ALL}. */
    private static Runnable hook;
    /** Whether {@link #release()} was called: nothing is handed to the JDK from then on. Guarded by {@link #ALL}. */
    private static boolean released;

    private Monitoring() {
    }

    /**
     * Registers the new scheduler {@code s}, whole or not at all: an {@link OutOfMemoryError} leaves it out.
     * The caller then logs the warnings class initializers deferred ({@link Warnings#logDeferred}), and calls
     * {@link #firstScheduler()} if it was the JVM's first.
     *
     * @return whether it is the first scheduler registered
     */
    static boolean add(Scheduler s) {
        WeakReference<Scheduler> entry = new WeakReference<>(s); // first: the list's growth is the last allocation
        synchronized (ALL) {
            if (ALL.size() >= pruneAt) {
                prune();
                pruneAt = Math.max(64, 2 * ALL.size());
            }
            ALL.add(entry);
            boolean first = !setUp;
            setUp = true;
            started = true;
            return first;
        }
    }

    /** The schedulers whose threads are alive, in the order they were created. */
    static List<Scheduler> live() {
        List<Scheduler> live = new ArrayList<>();
        synchronized (ALL) {
            prune();
            for (WeakReference<Scheduler> r : ALL) {
                Scheduler s = r.get();
                if (s != null) {
                    live.add(s);
                }
            }
        }
        return live;
    }

    /**
     * Drops the schedulers of ended threads, those of ended {@code ForkJoinPool} workers that the
     * scheduler keeps too (once a scheduler was made: a read of the JMX view before any does not
     * initialize the scheduler's class, and its reading of {@code coro.seed}, on the reader's thread).
     */
    private static void prune() {
        ALL.removeIf(r -> {
            Scheduler s = r.get();
            return s == null || !s.owner.isAlive();
        });
        if (started) {
            Scheduler.dropEndedWorkers();
        }
    }

    /**
     * Turns on what the properties ask for; called when the first scheduler was registered ({@link #add}). An
     * {@link OutOfMemoryError} says nothing of the properties or the runtime (a refusal of those is logged, and
     * not tried again): the set-up is undone and thrown, and the next scheduler registered tries it again,
     * instead of Flight Recorder's statistics, the blocked-loop detector and the JMX view staying off for the JVM's life.
     */
    static void firstScheduler() {
        try {
            if (listenToFlightRecorder()) {
                turnOn(System::getProperty);
            }
        } catch (OutOfMemoryError e) {
            synchronized (ALL) {
                setUp = false;
            }
            throw e;
        }
    }

    /**
     * Hands Flight Recorder the listener that registers the events when it initializes, unless an earlier try
     * of {@link #firstScheduler()} did; undone if it fails for want of memory.
     *
     * @return false if this copy of the library was released before or meanwhile: nothing is to be turned on
     */
    private static boolean listenToFlightRecorder() {
        FlightRecorderListener l = null;
        try {
            synchronized (ALL) {
                if (released) {
                    return false; // released before it began: nothing to hand to the JDK that would keep this copy
                }
                if (listener != null) {
                    return true; // handed over by an earlier try, which failed later
                }
            }
            l = new FlightRecorderListener() {
                @Override
                public void recorderInitialized(FlightRecorder recorder) {
                    jfrInitialized();
                }
            };
            synchronized (ALL) {
                if (released) {
                    return false;
                }
                listener = l;
            }
            FlightRecorder.addListener(l);
            return !releasedMeanwhile(l);
        } catch (RuntimeException | LinkageError e) {
            warn("coro's JFR statistics event is not available: " + e);
            return true;
        } catch (OutOfMemoryError e) {
            if (l != null) {
                synchronized (ALL) {
                    if (listener == l) {
                        listener = null;
                    }
                }
                FlightRecorder.removeListener(l); // removing one that was not added does nothing
            }
            throw e;
        }
    }

    /**
     * Whether {@link #release()} came while {@link #firstScheduler} handed Flight Recorder {@code l}, outside
     * the lock: then the release may have tried to remove it before it was added, and it is removed here
     * (removing it twice does nothing), and nothing else is turned on.
     */
    private static boolean releasedMeanwhile(FlightRecorderListener l) {
        synchronized (ALL) {
            if (!released) {
                return false;
            }
        }
        FlightRecorder.removeListener(l);
        return true;
    }

    /**
     * Flight Recorder has initialized: the event classes are registered and the statistics hook added,
     * unless this copy of the library was released ({@link #release()}) meanwhile.
     */
    private static void jfrInitialized() {
        synchronized (ALL) {
            if (released) {
                return;
            }
        }
        registerEvents();
        Runnable h = SchedulerStatistics::emit;
        FlightRecorder.addPeriodicEvent(SchedulerStatistics.class, h);
        boolean late;
        synchronized (ALL) { // no call of the JDK's under this lock: the JDK calls the listener under its own
            late = released;
            if (!late) {
                hook = h;
            }
        }
        if (late) {
            FlightRecorder.removePeriodicEvent(h);
            return;
        }
        jfr = true;
    }

    /**
     * Takes back from the JDK what {@link #firstScheduler} handed it, each of which holds a class of
     * this copy of the library and so its class loader: the listener on Flight Recorder and the
     * statistics hook. Once released, none is handed over again. See {@link Unloading#release()}.
     */
    static void release() {
        FlightRecorderListener l;
        Runnable h;
        synchronized (ALL) {
            released = true;
            l = listener;
            h = hook;
            listener = null;
            hook = null;
        }
        if (l != null) {
            FlightRecorder.removeListener(l);
        }
        if (h != null) {
            FlightRecorder.removePeriodicEvent(h);
        }
    }

    /**
     * Registers the JFR event classes: when Flight Recorder initializes rather than when an event is
     * first used, or the first park would go unrecorded.
     */
    static void registerEvents() {
        FlightRecorder.register(Park.class);
        FlightRecorder.register(CoroutineStart.class);
        FlightRecorder.register(CoroutineEnd.class);
        FlightRecorder.register(BlockedLoop.class);
    }

    /**
     * Turns on what the system properties ask for, read through {@code property}: the blocked-loop
     * detector if its threshold is set (a threshold it cannot read is logged and ignored), the JMX
     * view if {@link #jmxAsked} says so.
     */
    static void turnOn(UnaryOperator<String> property) {
        String threshold = property.apply(BlockedLoops.PROPERTY);
        if (threshold != null) {
            try {
                BlockedLoops.detect(BlockedLoops.parse(threshold));
            } catch (IllegalArgumentException e) {
                warn("coro does not detect blocked loops: " + e.getMessage());
            }
        }
        if (jmxAsked(property)) {
            registerMXBean();
        }
    }

    /**
     * Whether the properties ask for the JMX view: {@code coro.jmx=true}, or the JMX agent's
     * {@code com.sun.management.jmxremote} or its {@code .port} set. {@code coro.jmx} is read as
     * {@code true} or {@code false} in any case, blanks around it ignored (as {@code coro.engine} is); any
     * other value is logged and asks for nothing, so that a {@code yes} or a {@code 1} does not go unseen.
     */
    static boolean jmxAsked(UnaryOperator<String> property) {
        return jmxProperty(property.apply(JMX_PROPERTY))
                || property.apply("com.sun.management.jmxremote") != null
                || property.apply("com.sun.management.jmxremote.port") != null;
    }

    /** {@code coro.jmx}'s value read: whether it says {@code true}; one that says neither is logged. */
    private static boolean jmxProperty(String value) {
        if (value == null) {
            return false;
        }
        String v = value.strip();
        if (v.equalsIgnoreCase("true")) {
            return true;
        }
        if (!v.equalsIgnoreCase("false")) {
            warn("coro does not register its JMX view for -D" + JMX_PROPERTY + "='" + SafeText.name(value)
                    + "': write true or false");
        }
        return false;
    }

    /**
     * Registers the JMX view; a failure is logged, not thrown (the program goes on unobserved), once per
     * cause in the JVM ({@link Warnings#logOnce}): each {@link BlockedLoops#detect} tries again, and a program that
     * turns the detector on per request or per test would log the same warning each time. On a Java
     * runtime without the module {@code java.management} (an image made by {@code jlink} without it, the
     * library on the class path) the warning names the module to add, not the class the JVM could not find.
     */
    static void registerMXBean() {
        try {
            dev.coro.management.CoroutinesManagement.register();
        } catch (RuntimeException | LinkageError e) {
            Warnings.logOnce("coro could not register its JMX view: " + (managementPresent() ? e.toString()
                    : "this Java runtime lacks the module java.management; add it to the runtime image"
                            + " (jlink --add-modules java.management,...)"));
        }
    }

    /**
     * Unregisters this copy's JMX view if it is registered ({@link Unloading#release()}). A runtime without
     * the module {@code java.management} has none; a refusal of the MBean server is logged, not thrown.
     */
    static void unregisterMXBean() {
        try {
            dev.coro.management.CoroutinesManagement.unregister();
        } catch (LinkageError e) {
            // no java.management in this runtime: no view was registered
        } catch (RuntimeException e) {
            warn("coro could not unregister its JMX view: " + e);
        }
    }

    /** Whether the module {@code java.management}, whose classes the JMX view uses, is in the runtime. */
    private static boolean managementPresent() {
        try {
            Class.forName("javax.management.ObjectName", false, Monitoring.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    private static void warn(String message) {
        Warnings.log(message);
    }
}
