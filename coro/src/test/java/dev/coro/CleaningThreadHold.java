package dev.coro;

import java.lang.ref.WeakReference;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * A hold on the thread that closes the sockets of listeners and connections dropped unclosed ({@link OpenResource}):
 * a cleaning action of the test's own that waits until {@link #close()}, so that a test can have something collected
 * and act before its cleaning runs, for the tests of this package and of the network package.
 */
public final class CleaningThreadHold implements AutoCloseable {

    private final CountDownLatch release = new CountDownLatch(1);

    private CleaningThreadHold() {
    }

    /**
     * Holds the cleaning thread: returns once it runs this hold's action, which waits until {@link #close()}; the
     * cleaning actions of what is collected meanwhile run after it.
     *
     * @return the hold, to close
     * @throws InterruptedException if interrupted while waiting for the cleaning thread to take the hold
     */
    public static CleaningThreadHold take() throws InterruptedException {
        CleaningThreadHold h = new CleaningThreadHold();
        CountDownLatch running = new CountDownLatch(1);
        WeakReference<Object> dropped = registerDropped(h.release, running);
        if (!Collected.all(List.of(dropped))) {
            throw new AssertionError("the hold's object was not collected");
        }
        running.await();
        return h;
    }

    /** Registers an object of its own with the cleaning thread, an action that waits for {@code release}, and drops it. */
    private static WeakReference<Object> registerDropped(CountDownLatch release, CountDownLatch running) {
        Object dropped = new Object();
        if (OpenResource.register(dropped, () -> {
            running.countDown();
            boolean released = false;
            while (!released) {
                try {
                    release.await();
                    released = true;
                } catch (InterruptedException e) {
                    // the cleaning thread is never interrupted: wait on
                }
            }
        }) == null) {
            throw new AssertionError("the cleaning thread could not be started");
        }
        return new WeakReference<>(dropped);
    }

    /** Lets the cleaning thread go on to the actions queued behind this hold's. */
    @Override
    public void close() {
        release.countDown();
    }
}
