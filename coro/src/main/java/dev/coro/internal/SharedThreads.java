package dev.coro.internal;

import java.util.concurrent.ThreadFactory;

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
     * A factory of shared threads named {@code prefix} and a count from 1 ({@code coro-name-lookup-1},
     * {@code coro-name-lookup-2} ...), for an executor. The factory is the JDK's own, holding no class of
     * this library: an executor keeps its factory as long as any of its threads lives, and its threads
     * serve the whole JVM, so a factory of this library's would keep this copy of it, and its class loader,
     * from being collected for as long as they live (an application server's redeploy).
     *
     * @param prefix the threads' names before their count
     * @return the factory
     */
    public static ThreadFactory factory(String prefix) {
        return builder().name(prefix, 1).factory();
    }

    /**
     * A shared thread named {@code name} that runs {@code task}, not started.
     *
     * @param name the thread's name
     * @param task what it runs
     * @return the thread, unstarted
     */
    public static Thread unstarted(String name, Runnable task) {
        return builder().name(name).unstarted(task);
    }

    /** What every shared thread is, but its name. */
    private static Thread.Builder.OfPlatform builder() {
        return Thread.ofPlatform().group(ROOT).daemon().priority(Thread.NORM_PRIORITY)
                .inheritInheritableThreadLocals(false); // and the system class loader as its context class loader
    }
}
