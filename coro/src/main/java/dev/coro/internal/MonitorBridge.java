package dev.coro.internal;

import dev.coro.management.SchedulerInfo;
import java.util.List;

/**
 * The door between the JMX view ({@code dev.coro.management}) and the schedulers: what the view
 * reads of them. This package is not exported; the one implementation lives in {@code dev.coro}
 * and installs itself when first asked for.
 */
public abstract class MonitorBridge {

    private static volatile MonitorBridge instance;

    /** For the one implementation only. */
    protected MonitorBridge() {
    }

    /**
     * The implementation, loading it on first use.
     *
     * @return the bridge
     */
    public static MonitorBridge get() {
        MonitorBridge b = instance;
        if (b == null) {
            Bridges.load("dev.coro.MonitorSupport");
            b = instance;
        }
        return b;
    }

    /**
     * Installs the implementation; once only.
     *
     * @param bridge the implementation
     */
    public static synchronized void install(MonitorBridge bridge) {
        Bridges.checkNotInstalled(instance, "monitoring");
        instance = bridge;
    }

    /**
     * The caller as the library's refusals name it, for the view's own: the calling context ({@code coroutine 'c'},
     * {@code main context 'main'}), or a thread that has no scheduler as a thread ({@code thread 'rmi' (#31)}), none
     * being made for a message.
     *
     * @return the caller's name
     */
    public abstract String caller();

    /** From now on every park records when it happened, so that the oldest parked context is known. */
    public abstract void recordParkTimes();

    /**
     * One row per live scheduler thread, counted without stopping the threads.
     *
     * @return the rows, in the order the schedulers were created
     */
    public abstract List<SchedulerInfo> schedulers();

    /**
     * The dump of every live scheduler, each bounded to {@code maxPerThread} contexts.
     *
     * @param maxPerThread how many contexts to list per thread
     * @return the text
     */
    public abstract String dump(int maxPerThread);

    /**
     * The blocked-loop detector's threshold.
     *
     * @return it in milliseconds, 0 while the detector is off
     */
    public abstract long blockedThresholdMillis();

    /**
     * Turns the blocked-loop detector on with a threshold, or off.
     *
     * @param millis the threshold in milliseconds; 0 turns it off
     */
    public abstract void setBlockedThresholdMillis(long millis);
}
