package dev.coro.bench;

/** JVM flags the benchmark forks need, as compile-time constants for JMH's {@code @Fork}. */
public final class Jvm {
    /** Exports the JDK's continuations to the library and to the raw baselines (class path: unnamed module). */
    public static final String EXPORTS = "--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED";
    /** Runs the virtual-thread scheduler on a single carrier thread. */
    public static final String ONE_CARRIER = "-Djdk.virtualThreadScheduler.parallelism=1";
    /** Selects the thread engine (each coroutine on its own virtual thread); ignored where it does not exist. */
    public static final String THREAD_ENGINE = "-Dcoro.engine=threads";

    private Jvm() {
    }
}
