package dev.coro.management;

import dev.coro.internal.MonitorBridge;
import java.lang.management.ManagementFactory;
import java.util.List;
import javax.management.InstanceAlreadyExistsException;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;

/**
 * Registers the JMX view of the JVM's coroutines ({@link CoroutinesMXBean}) with the platform MBean
 * server, under {@value #OBJECT_NAME}.
 *
 * <p>Nothing is registered until something asks: {@link #register()}, {@link dev.coro.BlockedLoops#detect},
 * or, at the JVM's first scheduler creation, the system property {@code -Dcoro.jmx=true} or the JMX
 * agent's {@code -Dcom.sun.management.jmxremote} (or {@code .port}). From the registration on, every
 * park records when it happened (one {@link System#nanoTime()} per park), so that the view knows each
 * thread's oldest parked coroutine. Each copy of the library in the JVM (each class loader that loaded
 * it) has a view of its own, registered under a name of its own ({@link #register()}), and taken back by
 * {@link #unregister()}.
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
     * undeploying an application, {@link #unregister()}): then the same view is registered again.
     *
     * <p>Each copy of the library (each class loader that loaded it: two applications of one server) has
     * a view of its own, which sees that copy's schedulers only. The first copy to register takes
     * {@value #OBJECT_NAME}; a copy that finds that name taken by another copy's view registers under
     * {@value #OBJECT_NAME}{@code ,loader="<its class loader's name>@<its identity hash, in hex>"}, e.g.
     * {@code dev.coro:type=Coroutines,loader="app-2@1b6d3586"} (the loader's class name for a loader
     * without a name), and returns that name.
     *
     * @return the name the view is registered under
     * @throws IllegalStateException if the platform MBean server refuses it (naming the name it was
     *                               asked to register the view under, the server's exception the cause)
     */
    public static synchronized ObjectName register() {
        String attempted = OBJECT_NAME; // the name a refusal names: the one the server was asked to take
        try {
            CoroutinesMXBean v = mxBean();
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            ObjectName plain = new ObjectName(OBJECT_NAME);
            ObjectName own = ownName();
            if (isThisCopys(server, plain)) {
                return plain;
            }
            if (isThisCopys(server, own)) {
                return own;
            }
            try {
                server.registerMBean(v, plain);
                return plain;
            } catch (InstanceAlreadyExistsException e) {
                // another copy of the library (another class loader's) has the plain name: this one takes its own
                attempted = own.toString();
                server.registerMBean(v, own);
                return own;
            }
        } catch (JMException e) {
            throw new IllegalStateException("cannot register the JMX view " + attempted + ": " + e, e);
        }
    }

    /**
     * Unregisters this copy's view, under whichever name {@link #register()} gave it, if it is registered:
     * what an application that stops calls (through {@link dev.coro.Unloading#release()}), since the
     * platform MBean server holds the view, and through it this copy's class loader, for the JVM's life.
     * Does nothing if no view of this copy is registered (the MBean server is not even started for it):
     * so a second call returns {@code false}, as does a call after something else unregistered the view.
     * It may be called from any thread; a later {@link #register()} registers the same view again.
     *
     * @return whether a view was unregistered
     * @throws IllegalStateException if the platform MBean server refuses it (naming the name the view
     *                               was registered under, the server's exception the cause)
     */
    public static synchronized boolean unregister() {
        if (view == null) {
            return false; // never made: nothing registered, and no MBean server to start for it
        }
        String attempted = OBJECT_NAME; // the name a refusal names: the one the server was asked to drop
        try {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            for (ObjectName name : List.of(new ObjectName(OBJECT_NAME), ownName())) {
                if (isThisCopys(server, name)) {
                    attempted = name.toString();
                    server.unregisterMBean(name);
                    return true;
                }
            }
            return false;
        } catch (InstanceNotFoundException e) {
            return false; // unregistered by someone else meanwhile
        } catch (JMException e) {
            throw new IllegalStateException("cannot unregister the JMX view " + attempted + ": " + e, e);
        }
    }

    /** The name this copy's view takes where another copy's holds {@value #OBJECT_NAME}. */
    private static ObjectName ownName() throws MalformedObjectNameException {
        ClassLoader l = CoroutinesManagement.class.getClassLoader();
        String loader = l == null ? "bootstrap"
                : (l.getName() != null ? l.getName() : l.getClass().getName()) + "@" + Integer.toHexString(System.identityHashCode(l));
        return new ObjectName(OBJECT_NAME + ",loader=" + ObjectName.quote(loader));
    }

    /** Whether {@code name} is registered with a view of this copy of the library (its class, of this class loader). */
    private static boolean isThisCopys(MBeanServer server, ObjectName name) {
        try {
            return server.isRegistered(name) && server.getClassLoaderFor(name) == CoroutinesManagement.class.getClassLoader();
        } catch (InstanceNotFoundException e) {
            return false; // unregistered meanwhile
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
                throw new IllegalArgumentException(bridge.caller() + " cannot set the blocked-loop threshold to " + millis
                        + " ms: it must be positive, or 0 to turn the detector off");
            }
            bridge.setBlockedThresholdMillis(millis);
        }

        @Override
        public String dump(int maxPerThread) {
            if (maxPerThread < 0) {
                throw new IllegalArgumentException(bridge.caller() + " cannot dump " + maxPerThread
                        + " contexts per thread: the count must be 0 or more");
            }
            return bridge.dump(maxPerThread);
        }
    }
}
