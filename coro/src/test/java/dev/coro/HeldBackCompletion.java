package dev.coro;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * A future that a thread of its own completes with {@code "v"} as soon as a loop idles, holding back the
 * wake-up that its completion posts to that loop until {@link #close()}: a callback of its own, added
 * before the loop's, waits there. So a test sees what a thread waiting on a virtual clock does with a
 * future that is complete while the post that says so has yet to arrive. On a loaded machine the
 * completer may come only after the loop's quiet wait has ended; {@link #completedWhileIdle()} tells
 * whether the round proves anything.
 */
final class HeldBackCompletion implements AutoCloseable {

    /** The future, completed with {@code "v"} by the completer, or {@code "late"} by {@link #close()}. */
    final CompletableFuture<String> future = new CompletableFuture<>();
    private final CountDownLatch release = new CountDownLatch(1);
    private final AtomicBoolean gaveUp = new AtomicBoolean();
    private final AtomicBoolean completedWhileIdle = new AtomicBoolean();
    private final Thread completer;

    /**
     * Starts the completer: it waits until {@code loop} idles, then completes the future.
     *
     * @param stillInTheFirstWait read as the future completes: whether the loop's thread is still in the quiet wait
     *                            the test means (not in one after its clock jumped, say)
     */
    HeldBackCompletion(EventLoop loop, BooleanSupplier stillInTheFirstWait) {
        completer = Thread.ofPlatform().name("completer").start(() -> {
            while (!loop.isIdle()) {
                if (gaveUp.get()) {
                    return;
                }
                Thread.onSpinWait();
            }
            future.whenComplete((v, t) -> { // runs before the thread's callback, which posts the wake-up
                completedWhileIdle.set(loop.isIdle() && stillInTheFirstWait.getAsBoolean());
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
            future.complete("v");
        });
    }

    /** Whether the future completed while the loop was still in its quiet wait: the round proves something. */
    boolean completedWhileIdle() {
        return completedWhileIdle.get();
    }

    /** Lets the wake-up go, waits for the completer to end, and completes the future with {@code "late"} if it gave up. */
    @Override
    public void close() {
        gaveUp.set(true);
        release.countDown();
        Peer.join(completer);
        future.complete("late");
    }
}
