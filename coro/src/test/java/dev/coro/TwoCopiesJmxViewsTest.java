package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.management.CoroutinesManagement;
import java.lang.management.ManagementFactory;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Each copy of the library in one JVM (each class loader that loaded it) registers a JMX view of its
 * own, which shows that copy's coroutines: the first takes {@code dev.coro:type=Coroutines}, each later
 * one a name of its own that names its class loader, which its {@code register()} returns; each copy's
 * {@code unregister()} takes back its own view only, and a later {@code register()} registers it again.
 * (Before, a later copy's {@code register()} found the name taken and returned it: its view was never
 * registered, and JMX showed the first copy's coroutines alone.)
 */
@ExtendWith(FreshThread.class)
@Timeout(60)
class TwoCopiesJmxViewsTest {

    private static final MBeanServer SERVER = ManagementFactory.getPlatformMBeanServer();

    private static String ownName(LibraryCopy copy) {
        return "dev.coro:type=Coroutines,loader=\"" + copy.loader.getName() + "@"
                + Integer.toHexString(System.identityHashCode(copy.loader)) + "\"";
    }

    @Test
    void theFirstCopyToRegisterTakesTheViewsNameAndALaterOneANameOfItsClassLoaderEachViewShowingItsOwnCopy() throws Exception {
        LibraryCopy a = LibraryCopy.load("app-a");
        LibraryCopy b = LibraryCopy.load("app-b");
        a.create("a1", () -> { });
        a.create("a2", () -> { });
        b.create("b1", () -> { });
        ObjectName plain = new ObjectName(CoroutinesManagement.OBJECT_NAME);
        CoroutinesManagement.unregister(); // the tests' own copy may hold the name: given back for this test
        try {
            ObjectName ofA = (ObjectName) a.call("management.CoroutinesManagement", "register");
            ObjectName ofB = (ObjectName) b.call("management.CoroutinesManagement", "register");
            assertThat(ofA).isEqualTo(plain);
            assertThat(ofB).hasToString(ownName(b));
            assertThat(a.call("management.CoroutinesManagement", "register")).as("again: nothing changes").isEqualTo(ofA);
            assertThat(b.call("management.CoroutinesManagement", "register")).as("again: nothing changes").isEqualTo(ofB);
            assertThat(SERVER.getClassLoaderFor(ofA)).isSameAs(a.loader);
            assertThat(SERVER.getClassLoaderFor(ofB)).isSameAs(b.loader);
            assertThat(SERVER.getAttribute(ofA, "CoroutineCount")).as("copy a's view counts its own coroutines").isEqualTo(2);
            assertThat(SERVER.getAttribute(ofB, "CoroutineCount")).as("copy b's view counts its own coroutines").isEqualTo(1);
        } finally {
            a.call("management.CoroutinesManagement", "unregister");
            b.call("management.CoroutinesManagement", "unregister");
            CoroutinesManagement.register();
        }
    }

    @Test
    void eachCopyUnregistersItsOwnViewAloneAndRegistersItAgainUnderTheSameName() throws Exception {
        ObjectName plain = CoroutinesManagement.register(); // the tests' own copy holds the plain name
        LibraryCopy a = LibraryCopy.load("app-a");
        LibraryCopy b = LibraryCopy.load("app-b");
        assertThat(a.call("management.CoroutinesManagement", "unregister")).as("a copy that made no view").isEqualTo(false);
        try {
            ObjectName ofA = (ObjectName) a.call("management.CoroutinesManagement", "register");
            ObjectName ofB = (ObjectName) b.call("management.CoroutinesManagement", "register");
            assertThat(ofA).hasToString(ownName(a));
            assertThat(ofB).hasToString(ownName(b));
            assertThat(a.call("management.CoroutinesManagement", "unregister")).isEqualTo(true);
            assertThat(SERVER.isRegistered(ofA)).isFalse();
            assertThat(SERVER.isRegistered(ofB)).as("the other copy's view stays").isTrue();
            assertThat(SERVER.getClassLoaderFor(plain)).as("the tests' own view stays").isSameAs(Coroutine.class.getClassLoader());
            assertThat(a.call("management.CoroutinesManagement", "unregister")).as("again: nothing left").isEqualTo(false);
            assertThat(a.call("management.CoroutinesManagement", "register")).as("registered again").isEqualTo(ofA);
            assertThat(SERVER.getClassLoaderFor(ofA)).isSameAs(a.loader);
        } finally {
            a.call("management.CoroutinesManagement", "unregister");
            b.call("management.CoroutinesManagement", "unregister");
        }
        assertThat(SERVER.queryNames(new ObjectName("dev.coro:type=Coroutines,*"), null)).containsExactly(plain);
    }
}
