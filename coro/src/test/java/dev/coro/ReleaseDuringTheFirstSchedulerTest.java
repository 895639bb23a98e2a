package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.ref.WeakReference;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A copy of the library released by {@link Unloading#release()} while another thread's first coroutine
 * makes the copy's first scheduler, which is handing Flight Recorder its listener at that moment, is
 * still collected once dropped: the listener handed over after the release is taken back too.
 */
@ExtendWith(FreshThread.class)
@Timeout(60)
class ReleaseDuringTheFirstSchedulerTest {

    /** What {@code FlightRecorder.addListener} and {@code removeListener} lock (static synchronized methods of it). */
    private static final String RECORDER = "jdk.jfr.internal.PlatformRecorder";

    /** Whether {@code t} waits to enter {@code PlatformRecorder.addListener}: its hand-over of the listener. */
    private static boolean handingOverItsListener(Thread t) {
        if (t.getState() != Thread.State.BLOCKED) {
            return false;
        }
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getClassName().equals(RECORDER) && e.getMethodName().equals("addListener")) {
                return true;
            }
        }
        return false;
    }

    private static WeakReference<ClassLoader> releasedWhileItsFirstSchedulerHandsOverItsListener() throws Exception {
        LibraryCopy copy = LibraryCopy.load("app");
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread user = new Thread(() -> {
            try {
                Object c = copy.create("job", () -> copy.yield());
                LibraryCopy.on(c, "join");
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "user of app");
        synchronized (Class.forName(RECORDER)) {
            user.start();
            while (!handingOverItsListener(user)) { // bounded by the class's timeout
                Thread.onSpinWait();
            }
            // this thread holds the lock, which is reentrant: the release runs whole before the hand-over
            copy.call("Unloading", "release");
        }
        user.join();
        if (failure.get() != null) {
            throw new AssertionError("the copy failed on its thread", failure.get());
        }
        return new WeakReference<>(copy.loader);
    }

    @Test
    void aReleaseWhileTheFirstSchedulerHandsFlightRecorderItsListenerStillLetsTheCopyBeCollected() throws Exception {
        assertThat(Collected.all(List.of(releasedWhileItsFirstSchedulerHandsOverItsListener())))
                .as("the copy's class loader collected").isTrue();
    }
}
