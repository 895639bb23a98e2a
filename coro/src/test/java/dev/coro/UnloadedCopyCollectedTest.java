package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.lang.ref.WeakReference;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import jdk.jfr.Recording;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A copy of the library that an application used and then released with {@link Unloading#release()} is
 * collected once its class loader is dropped and the threads that used it have ended (an application
 * server's redeploy): nothing the copy handed to the JVM keeps it, neither its listener on Flight
 * Recorder (handed over at its first scheduler, whether or not anything records), its periodic
 * statistics hook, its registered JMX view, its detector's thread, nor an idle name look-up thread.
 */
@ExtendWith(FreshThread.class)
@Timeout(60)
class UnloadedCopyCollectedTest {

    /** Runs {@code use} with the copy on a thread of its own, which has ended when this returns; rethrows its failure. */
    private static void onAThreadThatEnds(LibraryCopy copy, java.util.function.Consumer<LibraryCopy> use) throws InterruptedException {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                use.accept(copy);
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "user of " + copy.loader.getName());
        t.start();
        t.join();
        if (failure.get() != null) {
            throw new AssertionError("the copy failed on its thread", failure.get());
        }
    }

    /** Makes, runs and joins a coroutine of the copy on the calling thread. */
    private static void runACoroutine(LibraryCopy copy) {
        Object c = copy.create("job", () -> copy.yield());
        LibraryCopy.on(c, "join");
        assertThat(LibraryCopy.on(c, "isFinished")).isEqualTo(true);
    }

    private static WeakReference<ClassLoader> usedReleasedAndUsedAgain() throws InterruptedException {
        LibraryCopy copy = LibraryCopy.load("app");
        onAThreadThatEnds(copy, UnloadedCopyCollectedTest::runACoroutine);
        copy.call("Unloading", "release");
        onAThreadThatEnds(copy, UnloadedCopyCollectedTest::runACoroutine); // a late use works, and hands over nothing
        copy.call("Unloading", "release"); // again: nothing more
        return new WeakReference<>(copy.loader);
    }

    @Test
    void aCopyUsedOnThreadsThatEndedIsCollectedOnceReleasedThoughItWasUsedAgainAfterTheRelease() throws Exception {
        assertThat(Collected.all(List.of(usedReleasedAndUsedAgain()))).as("the copy's class loader collected").isTrue();
    }

    private static WeakReference<ClassLoader> releasedBeforeItsFirstScheduler() throws InterruptedException {
        LibraryCopy copy = LibraryCopy.load("app");
        copy.call("Unloading", "release");
        onAThreadThatEnds(copy, UnloadedCopyCollectedTest::runACoroutine);
        return new WeakReference<>(copy.loader);
    }

    @Test
    void aCopyReleasedBeforeItsFirstSchedulerHandsNothingToTheJdkWhenItIsUsed() throws Exception {
        assertThat(Collected.all(List.of(releasedBeforeItsFirstScheduler()))).as("the copy's class loader collected").isTrue();
    }

    private static WeakReference<ClassLoader> observedAndReleased() throws InterruptedException {
        LibraryCopy copy = LibraryCopy.load("app");
        onAThreadThatEnds(copy, c -> {
            runACoroutine(c);
            c.call("BlockedLoops", "detect", Duration.ofSeconds(10));
            ObjectName view = (ObjectName) c.call("management.CoroutinesManagement", "register");
            try { // read as JConsole reads it: the rows' open types are made from the copy's SchedulerInfo
                MBeanServer server = ManagementFactory.getPlatformMBeanServer();
                assertThat((Object[]) server.getAttribute(view, "Schedulers")).isNotEmpty();
                assertThat(server.invoke(view, "dump", new Object[] {1}, new String[] {"int"})).asString().contains("user of app");
            } catch (JMException e) {
                throw new AssertionError(e);
            }
        });
        assertThat(copy.call("BlockedLoops", "threshold")).hasToString("Optional[PT10S]");
        copy.call("Unloading", "release");
        assertThat(copy.call("BlockedLoops", "threshold")).as("the detector stopped").hasToString("Optional.empty");
        assertThat(copy.call("management.CoroutinesManagement", "unregister")).as("the view unregistered already").isEqualTo(false);
        return new WeakReference<>(copy.loader);
    }

    /**
     * The recording runs from before the copy's first scheduler, so that Flight Recorder has initialized
     * when the copy hands it its listener, which registers the copy's event classes and adds its
     * statistics hook at once; it still runs as the copy's class loader is collected. The view is read
     * through the MBean server as JConsole reads it first, which makes the MXBean machinery map the
     * copy's own types: that keeps nothing of the copy either.
     */
    @Test
    void aCopyWithItsViewRegisteredItsDetectorOnAndItsStatisticsRecordedIsCollectedOnceReleased() throws Exception {
        try (Recording r = new Recording()) {
            r.enable("dev.coro.SchedulerStatistics").withPeriod(Duration.ofSeconds(1));
            r.enable("dev.coro.Park").withThreshold(Duration.ZERO);
            r.start();
            // the copy's class loader is collected: with a recording running, 50 collections (about 2 s, C1 only, on a
            // loaded machine) once did not clear the loader that every run before and after cleared, 15 in a row under
            // the same flags; a thread of Flight Recorder's may hold it a moment longer, at its own pace
            WeakReference<ClassLoader> loader = observedAndReleased();
            Collected.until(() -> loader.refersTo(null));
        }
    }

    private static WeakReference<ClassLoader> lookedUpAndReleased() throws Exception {
        LibraryCopy copy = LibraryCopy.load("app");
        onAThreadThatEnds(copy, c -> {
            AutoCloseable listener = (AutoCloseable) c.call("net.TcpListener", "bind",
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            int port = ((InetSocketAddress) LibraryCopy.on(listener, "localAddress")).getPort();
            Object acceptor = c.create("acceptor", () -> {
                try {
                    ((AutoCloseable) LibraryCopy.on(listener, "accept")).close();
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            try (AutoCloseable connection = (AutoCloseable) c.call("net.TcpConnection", "connect", "localhost", port)) {
                LibraryCopy.on(acceptor, "join");
                listener.close();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        copy.call("Unloading", "release");
        return new WeakReference<>(copy.loader);
    }

    /**
     * The connection's host name is looked up on a look-up thread, which then waits 30 s for the next
     * look-up before it ends: it is still alive as the copy is collected.
     */
    @Test
    void aCopyWhoseNameLookUpThreadStillWaitsForWorkIsCollectedOnceReleased() throws Exception {
        assertThat(Collected.all(List.of(lookedUpAndReleased()))).as("the copy's class loader collected").isTrue();
    }
}
