package dev.coro.management;

import java.util.List;

/**
 * The JMX view of the JVM's coroutines, registered as {@value CoroutinesManagement#OBJECT_NAME}:
 * one row per scheduler thread, a bounded dump of every scheduler, and the blocked-loop detector's
 * threshold. JConsole and VisualVM show it under the MBeans tab, domain {@code dev.coro}. Where the JVM
 * holds several copies of the library (one per class loader), each view shows its own copy's
 * schedulers and detector, under a name of its own ({@link CoroutinesManagement#register()}).
 */
public interface CoroutinesMXBean {

    /**
     * One row per live scheduler thread: coroutines by state, scheduling points, timers, I/O waits,
     * the oldest parked coroutine; counted without stopping the threads.
     *
     * @return the rows, in the order the schedulers were created
     */
    List<SchedulerInfo> getSchedulers();

    /**
     * How many coroutines are alive in the JVM: every scheduler's contexts, mains excluded.
     *
     * @return the count
     */
    int getCoroutineCount();

    /**
     * The blocked-loop detector's threshold ({@link dev.coro.BlockedLoops}).
     *
     * @return it in milliseconds; 0 while the detector is off
     */
    long getBlockedThresholdMillis();

    /**
     * Turns the blocked-loop detector on with this threshold, or off.
     *
     * @param millis the threshold in milliseconds; 0 turns the detector off
     * @throws IllegalArgumentException if {@code millis} is negative, naming the caller (a thread that has no
     *                                  scheduler as a thread, none being made for the message), the call and the value
     */
    void setBlockedThresholdMillis(long millis);

    /**
     * A dump of every scheduler thread of the JVM, as {@code Coroutine.dump(int)} lists its own:
     * name, state, wait and top frames of the first {@code maxPerThread} contexts of each thread,
     * then how many more. Each thread makes its own dump at its next scheduling point (or in its
     * idle wait, which the request wakes); a thread that does not within half a second (it is
     * blocked, or busy outside coroutines) is listed without stopping it: names, states, waits and generators
     * without frames, and the stack of the thread itself; one whose thread ends before it answers
     * is listed so at once, saying that its thread ended. The caller's own thread, if it is a
     * scheduler thread, is dumped at once, its calling context marked {@code (the caller)} with its
     * frames from its call of this method on, as {@code Coroutine.dump} lists its caller.
     *
     * @param maxPerThread how many contexts to list per thread, at least 0
     * @return the dump, one section per thread
     * @throws IllegalArgumentException if {@code maxPerThread} is negative, naming the caller (as
     *                                  {@link #setBlockedThresholdMillis} does) and the count
     */
    String dump(int maxPerThread);
}
