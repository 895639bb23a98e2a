package dev.coro.internal;

/**
 * How the library makes a thread that serves every thread of the JVM (the name look-ups' threads, the
 * blocked-loop detector, the socket cleaner), alike whichever caller happens to start it: a daemon
 * platform thread of normal priority in the JVM's root thread group ({@code system}, where the JDK's own
 * shared threads are), inheriting no inheritable thread local and, so, having the system class loader as
 * its context class loader. Made by {@link Thread.Builder} alone it would take the group and priority of
 * that caller: from a thread-engine coroutine the virtual threads' group, from a high-priority thread its
 * priority, for every later caller it serves.
 */
public final class SharedThreads {

    /** The JVM's root thread group, {@code system}. */
    private static final ThreadGroup ROOT = root();

    private SharedThreads() {}

    private static ThreadGroup root() {
        ThreadGroup g = Thread.currentThread().getThreadGroup();
        while (g.getParent() != null) {
            g = g.getParent();
        }
        return g;
    }

    /**
     * A shared thread named {@code name} that runs {@code task}, not started.
     *
     * @param name the thread's name
     * @param task what it runs
     * @return the thread, unstarted
     */
    public static Thread unstarted(String name, Runnable task) {
        return Thread.ofPlatform().group(ROOT).daemon().priority(Thread.NORM_PRIORITY).name(name)
                .inheritInheritableThreadLocals(false) // and the system class loader as its context class loader
                .unstarted(task);
    }
}
