package dev.coro;

/**
 * What a host that loads this library in a class loader of its own, and later drops that loader (an
 * application server undeploying an application, a plugin host unloading a plugin), calls so that the
 * loader can be collected: the JVM-wide registrations of this copy of the library taken back.
 *
 * <p>Each copy of the library (each class loader that loaded it) is a library of its own: its own
 * schedulers, its own JMX view, its own detector. Its first scheduler hands the JDK a listener on
 * Flight Recorder, and, once Flight Recorder has initialized, a periodic hook for the statistics event;
 * {@link dev.coro.management.CoroutinesManagement#register()} hands the platform MBean server its view;
 * {@link BlockedLoops#detect} starts a thread. Each of these is held by the JVM for its life and holds a
 * class of the copy, and so its class loader and every class that loader loaded: dropped as they are,
 * the copy is never collected, on every redeploy. {@link #release()} takes them all back.
 *
 * <p>What {@link #release()} cannot take back is in the threads themselves: a thread that used the
 * library keeps its scheduler (an object of the copy) in a thread local until it ends. A host's pooled
 * threads must therefore end once the application is gone (Tomcat renews the threads of its executors
 * when an application stops, by default), or the copy stays until they do. See docs/THREADS.md,
 * "Unloading a copy".
 */
public final class Unloading {

    private Unloading() {
    }

    /**
     * Takes back what this copy of the library registered with the JVM: it stops the blocked-loop
     * detector ({@link BlockedLoops#stop()}, so its thread has ended when this returns), unregisters this
     * copy's JMX view if it is registered
     * ({@link dev.coro.management.CoroutinesManagement#unregister()}), and removes its listener on
     * Flight Recorder and its periodic statistics hook. Call it when the application stops, after its
     * last use of the library (a {@code ServletContextListener}'s {@code contextDestroyed}).
     *
     * <p>The library still works after it (a call that comes late does not fail), but no longer
     * registers anything on its own: coroutines created later are not recorded by Flight Recorder if
     * it had not initialized by the release, and no JMX view is registered at a first scheduler. An
     * explicit {@link BlockedLoops#detect} or
     * {@link dev.coro.management.CoroutinesManagement#register()} after it registers again, and must be
     * released again. Calling it again does nothing more.
     *
     * <p>It may be called from any thread, a coroutine's included. Called from a log handler of a
     * blocked-loop report (on the detector's own thread), it does not wait for that thread, which ends
     * after the report, as {@link BlockedLoops#stop()} says. It throws nothing of its own: a refusal of
     * the platform MBean server to unregister the view is logged, and the release goes on.
     */
    public static void release() {
        BlockedLoops.stop();
        Monitoring.release();
        Monitoring.unregisterMXBean();
    }
}
