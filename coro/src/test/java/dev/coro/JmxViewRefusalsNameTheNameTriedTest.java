package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.management.CoroutinesManagement;
import java.lang.management.ManagementFactory;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanRegistrationException;
import javax.management.MBeanServer;
import javax.management.MBeanServerBuilder;
import javax.management.MBeanServerDelegate;
import javax.management.ObjectName;
import javax.management.StandardMBean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A refusal of {@link CoroutinesManagement#register()} or {@link CoroutinesManagement#unregister()} by
 * the platform MBean server names the name the view was to be registered or unregistered under: the
 * loader-suffixed name of a copy that found {@value CoroutinesManagement#OBJECT_NAME} taken, not the
 * plain name (which they named whatever the server was asked). Run in a child JVM, whose platform
 * MBean server is built by {@link RefusingBuilder} to refuse what the test asks it to.
 */
@Tag("child-jvm") // the platform MBean server's builder is chosen once per JVM
class JmxViewRefusalsNameTheNameTriedTest {

    @Test
    @Timeout(120)
    void registerAndUnregisterRefusedUnderTheLoaderSuffixedNameNameThatName() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = List.of(java.toString(), "-Djavax.management.builder.initial=" + RefusingBuilder.class.getName(),
                "-Dcoro.engine=" + System.getProperty("coro.engine", "auto"), "-cp", System.getProperty("java.class.path"),
                Refused.class.getName());
        Process child = ChildJvmLocale.processBuilder(command).redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(2, TimeUnit.MINUTES)).as("the child JVM ended").isTrue();
        assertThat(child.exitValue()).as("exit status; it printed:%n%s", out).isZero();
        List<String> lines = out.lines().toList();
        assertThat(lines).as("it printed:%n%s", out).hasSize(3);
        String own = lines.get(0);
        assertThat(own).matches("dev\\.coro:type=Coroutines,loader=\"app@[0-9a-f]+\"");
        assertThat(lines.get(1)).isEqualTo("register: cannot register the JMX view " + own
                + ": javax.management.MBeanRegistrationException: refused by the test's MBean server"
                + " (cause javax.management.MBeanRegistrationException)");
        assertThat(lines.get(2)).isEqualTo("unregister: cannot unregister the JMX view " + own
                + ": javax.management.MBeanRegistrationException: refused by the test's MBean server"
                + " (cause javax.management.MBeanRegistrationException)");
    }

    /**
     * The child's program: another MBean holds the plain name, so the view goes under its loader's
     * name; the server refuses that registration, then, once it is made, its unregistration. Prints
     * the name the view took, then each refusal's message and its cause's class.
     */
    static final class Refused {
        public static void main(String[] args) throws Exception {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            // a class of the bootstrap loader's: no view of this copy's, as another copy's view would be
            server.registerMBean(new StandardMBean((Runnable) () -> { }, Runnable.class), new ObjectName(CoroutinesManagement.OBJECT_NAME));
            String register;
            RefusingBuilder.refuse = true;
            try {
                register = "register returned " + CoroutinesManagement.register();
            } catch (IllegalStateException e) {
                register = "register: " + e.getMessage() + " (cause " + e.getCause().getClass().getName() + ")";
            }
            RefusingBuilder.refuse = false;
            System.out.println(CoroutinesManagement.register());
            System.out.println(register);
            RefusingBuilder.refuse = true;
            try {
                System.out.println("unregister returned " + CoroutinesManagement.unregister());
            } catch (IllegalStateException e) {
                System.out.println("unregister: " + e.getMessage() + " (cause " + e.getCause().getClass().getName() + ")");
            }
        }
    }

    /**
     * Builds the platform MBean server of the child JVM: the JDK's, but refusing, while {@link #refuse}
     * is set, to register or unregister anything under a name with a {@code loader} key.
     */
    public static final class RefusingBuilder extends MBeanServerBuilder {
        static volatile boolean refuse;

        /** Made by the JDK, by its name in {@code javax.management.builder.initial}. */
        public RefusingBuilder() {
        }

        @Override
        public MBeanServer newMBeanServer(String defaultDomain, MBeanServer outer, MBeanServerDelegate delegate) {
            MBeanServer server = super.newMBeanServer(defaultDomain, outer, delegate);
            return (MBeanServer) Proxy.newProxyInstance(MBeanServer.class.getClassLoader(), new Class<?>[] {MBeanServer.class},
                    (proxy, method, arguments) -> {
                        String m = method.getName();
                        Object name = m.equals("registerMBean") ? arguments[1] : m.equals("unregisterMBean") ? arguments[0] : null;
                        if (refuse && name instanceof ObjectName n && n.getKeyProperty("loader") != null) {
                            throw new MBeanRegistrationException(new Exception("refused"), "refused by the test's MBean server");
                        }
                        try {
                            return method.invoke(server, arguments);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
        }
    }
}
