package dev.coro.management;

import dev.coro.internal.MonitorBridge;
import java.lang.management.ManagementFactory;
import java.util.List;
import javax.management.InstanceAlreadyExistsException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Registers the JMX view of the JVM's coroutines ({@link CoroutinesMXBean}) with the platform MBean
 * server, under {@value #OBJECT_NAME}.
 *
 * <p>Nothing is registered until something asks: {@link #register()}, {@link dev.coro.BlockedLoops#detect},
 * or, at the JVM's first scheduler creation, the system property {@code -Dcoro.jmx=true} or the JMX
 * agent's {@code -Dcom.sun.management.jmxremote} (or {@code .port}). From the registration on, every
 * park records when it happened (one {@link System#nanoTime()} per park), so that the view knows each
 * thread's oldest parked coroutine.
 */
public final class CoroutinesManagement {

    /** The view's object name. */
    public static final String OBJECT_NAME = "dev.coro:type=Coroutines";

    /** The view, made by the first {@link #mxBean()} (a {@link #register()} makes it through that call). */
    private static CoroutinesMXBean view;

    private CoroutinesManagement() {
    }

    /**
     * Registers the view with the platform MBean server unless it is registered there: the first call
     * registers it, later ones do nothing, unless something unregistered it meanwhile (a container
     * undeploying an application): then the same view is registered again.
     *
     * @return the view's object name
     * @throws IllegalStateException if the platform MBean server refuses it
     */
    public static synchronized ObjectName register() {
        try {
            ObjectName name = new ObjectName(OBJECT_NAME);
            CoroutinesMXBean v = mxBean();
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            if (!server.isRegistered(name)) {
                try {
                    server.registerMBean(v, name);
                } catch (InstanceAlreadyExistsException e) {
                    // registered meanwhile by another copy of the library (another class loader): that one serves
                }
            }
            return name;
        } catch (JMException e) {
            throw new IllegalStateException("cannot register the JMX view " + OBJECT_NAME + ": " + e, e);
        }
    }

    /**
     * The view itself, for a program that reads it without JMX (a health endpoint): the same object
     * at every call, and the one {@link #register()} registers. The first call starts recording park
     * times, like {@link #register()}, but registers nothing.
     *
     * @return the view
     */
    public static synchronized CoroutinesMXBean mxBean() {
        if (view == null) {
            MonitorBridge bridge = MonitorBridge.get();
            bridge.recordParkTimes();
            view = new View(bridge);
        }
        return view;
    }

    /** The view: every read goes to the schedulers through the bridge. */
    private static final class View implements CoroutinesMXBean {
        private final MonitorBridge bridge;

        View(MonitorBridge bridge) {
            this.bridge = bridge;
        }

        @Override
        public List<SchedulerInfo> getSchedulers() {
            return bridge.schedulers();
        }

        @Override
        public int getCoroutineCount() {
            int n = 0;
            for (SchedulerInfo s : bridge.schedulers()) {
                n += Math.max(0, s.contexts() - 1);
            }
            return n;
        }

        @Override
        public long getBlockedThresholdMillis() {
            return bridge.blockedThresholdMillis();
        }

        @Override
        public void setBlockedThresholdMillis(long millis) {
            if (millis < 0) {
                throw new IllegalArgumentException("cannot set the blocked-loop threshold to " + millis
                        + " ms: it must be positive, or 0 to turn the detector off");
            }
            bridge.setBlockedThresholdMillis(millis);
        }

        @Override
        public String dump(int maxPerThread) {
            if (maxPerThread < 0) {
                throw new IllegalArgumentException("cannot dump " + maxPerThread
                        + " contexts per thread: the count must be 0 or more");
            }
            return bridge.dump(maxPerThread);
        }
    }
}
