package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.management.CoroutinesManagement;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.StandardMBean;
import jdk.jfr.Event;
import jdk.jfr.EventType;
import jdk.jfr.FlightRecorder;
import org.junit.jupiter.api.Test;

/**
 * What the JVM's first scheduler turns on, read from the system properties, checked in this JVM
 * through the properties given to it (the properties themselves, read once per JVM, are checked in
 * child JVMs by {@code CoroutinesMXBeanTest}).
 */
class MonitoringTest {

    private static final List<Class<? extends Event>> EVENTS = List.of(Park.class, CoroutineStart.class,
            CoroutineEnd.class, BlockedLoop.class);

    @Test
    void aThresholdPropertyTurnsTheDetectorOnAndOneItCannotReadIsLoggedAndIgnored() throws Exception {
        try {
            assertThat(warnings(() -> Monitoring.turnOn(properties("coro.blockedThreshold", "150ms")))).isEmpty();
            assertThat(BlockedLoops.threshold()).contains(Duration.ofMillis(150));
        } finally {
            BlockedLoops.stop();
        }
        assertThat(warnings(() -> Monitoring.turnOn(properties("coro.blockedThreshold", "fast"))))
                .containsExactly("coro does not detect blocked loops: -Dcoro.blockedThreshold='fast' is not a threshold:"
                        + " write a positive count of milliseconds or seconds, e.g. 200ms or 2s");
        assertThat(BlockedLoops.threshold()).isEmpty();
        assertThat(warnings(() -> Monitoring.turnOn(properties()))).isEmpty();
        assertThat(BlockedLoops.threshold()).isEmpty();
    }

    @Test
    void theJmxViewIsAskedForByTheLibrarysPropertyOrByTheJmxAgentsOwn() {
        assertThat(Monitoring.jmxAsked(properties())).isFalse();
        assertThat(Monitoring.jmxAsked(properties("coro.jmx", "false"))).isFalse();
        assertThat(Monitoring.jmxAsked(properties("coro.jmx", "true"))).isTrue();
        assertThat(Monitoring.jmxAsked(properties("com.sun.management.jmxremote", ""))).isTrue();
        assertThat(Monitoring.jmxAsked(properties("com.sun.management.jmxremote.port", "9010"))).isTrue();
        // coro.jmx=false asks for nothing: it does not keep the JMX agent's properties from asking
        assertThat(Monitoring.jmxAsked(properties("coro.jmx", "false", "com.sun.management.jmxremote", ""))).isTrue();
        assertThat(Monitoring.jmxAsked(properties("coro.jmx", "false", "com.sun.management.jmxremote.port", "9010"))).isTrue();
    }

    /** {@code coro.jmx} is read as {@code true} or {@code false} in any case, blanks around it ignored; any other value is logged, not ignored unseen. */
    @Test
    void theLibrarysJmxPropertyIsReadInAnyCaseWithBlanksAroundAndAnyOtherValueIsLogged() throws Exception {
        for (String yes : List.of("TRUE", " true", "True\t")) {
            assertThat(warnings(() -> assertThat(Monitoring.jmxAsked(properties("coro.jmx", yes))).as(yes).isTrue())).isEmpty();
        }
        for (String no : List.of("FALSE", " false ")) {
            assertThat(warnings(() -> assertThat(Monitoring.jmxAsked(properties("coro.jmx", no))).as(no).isFalse())).isEmpty();
        }
        assertThat(warnings(() -> assertThat(Monitoring.jmxAsked(properties("coro.jmx", "yes"))).isFalse()))
                .containsExactly("coro does not register its JMX view for -Dcoro.jmx='yes': write true or false");
        assertThat(warnings(() -> assertThat(Monitoring.jmxAsked(properties("coro.jmx", "1\n"))).isFalse()))
                .containsExactly("coro does not register its JMX view for -Dcoro.jmx='1\\n': write true or false");
        assertThat(warnings(() -> assertThat(Monitoring.jmxAsked(properties("coro.jmx", ""))).as("-Dcoro.jmx alone").isFalse()))
                .containsExactly("coro does not register its JMX view for -Dcoro.jmx='': write true or false");
    }

    @Test
    void theEventClassesAreRegisteredWithFlightRecorderBeforeAnyIsUsed() {
        // Flight Recorder initializes first, or it would initialize in the check below (getFlightRecorder
        // does) and run the listener of the JVM's first scheduler, if one was created, which registers the
        // classes again between their unregistering and the check.
        FlightRecorder.getFlightRecorder();
        FlightRecorder.unregister(Park.class);
        FlightRecorder.unregister(CoroutineStart.class);
        FlightRecorder.unregister(CoroutineEnd.class);
        FlightRecorder.unregister(BlockedLoop.class);
        try {
            assertThat(registered()).isEmpty();
        } finally {
            Monitoring.registerEvents();
        }
        assertThat(registered()).containsExactlyElementsOf(EVENTS);
    }

    /**
     * Which of this library's event classes are registered, told by class and not by name: a copy of the library
     * in a class loader of its own ({@link LibraryCopy}, in an earlier test of the JVM) registers event classes of
     * the same names, which stay registered.
     */
    private static List<Class<? extends Event>> registered() {
        return EVENTS.stream().filter(c -> {
            try {
                return EventType.getEventType(c) != null;
            } catch (IllegalStateException e) {
                return false; // Flight Recorder's answer for a class not registered
            }
        }).toList();
    }

    /**
     * A registration of the JMX view that the MBean server refuses for a cause other than a missing module
     * (here both names this copy may take are held by other MBeans) is logged once in the JVM, with the
     * server's refusal: each {@code BlockedLoops.detect} tries again, and logs nothing more; the detector
     * works all the same.
     */
    @Test
    void aRegistrationOfTheJmxViewThatTheServerRefusesIsLoggedOnceAndTheDetectorWorks() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ClassLoader l = CoroutinesManagement.class.getClassLoader();
        String loader = (l.getName() != null ? l.getName() : l.getClass().getName()) + "@"
                + Integer.toHexString(System.identityHashCode(l));
        ObjectName plain = new ObjectName("dev.coro:type=Coroutines");
        ObjectName own = new ObjectName("dev.coro:type=Coroutines,loader=" + ObjectName.quote(loader));
        CoroutinesManagement.unregister();
        List<ObjectName> taken = new ArrayList<>();
        try {
            for (ObjectName n : List.of(plain, own)) {
                if (!server.isRegistered(n)) {
                    // an MBean of another class loader's (the JDK's), as another copy of the library or a tool would hold
                    server.registerMBean(new StandardMBean(Thread.ofPlatform().unstarted(() -> { }), Runnable.class), n);
                    taken.add(n);
                }
            }
            assertThat(taken).as("both names free for the test to take").hasSize(2);
            List<String> logged = warnings(() -> {
                try {
                    BlockedLoops.detect(Duration.ofSeconds(100));
                    assertThat(BlockedLoops.threshold()).contains(Duration.ofSeconds(100));
                    BlockedLoops.detect(Duration.ofSeconds(200)); // tries again, and fails alike
                    assertThat(BlockedLoops.threshold()).contains(Duration.ofSeconds(200));
                } finally {
                    BlockedLoops.stop();
                }
            });
            assertThat(logged).containsExactly("coro could not register its JMX view: java.lang.IllegalStateException: cannot"
                    + " register the JMX view " + own + ": javax.management.InstanceAlreadyExistsException: " + own);
        } finally {
            for (ObjectName n : taken) {
                server.unregisterMBean(n);
            }
            CoroutinesManagement.register();
        }
    }

    private static UnaryOperator<String> properties(String... kv) {
        Map<String, String> m = new HashMap<>();
        for (int k = 0; k < kv.length; k += 2) {
            m.put(kv[k], kv[k + 1]);
        }
        return m::get;
    }

    /** The warnings the {@code dev.coro} logger gets while {@code body} runs. */
    private static List<String> warnings(Runnable body) throws Exception {
        List<String> logged = new ArrayList<>();
        LoggedWarnings.during(logged, m -> true, () -> {
            body.run();
            return null;
        });
        synchronized (logged) {
            return List.copyOf(logged);
        }
    }
}
