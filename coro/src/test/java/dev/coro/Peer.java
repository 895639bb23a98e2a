package dev.coro;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/**
 * A second platform thread for cross-thread tests: it runs a body with a scheduler of its own while
 * the calling context waits in {@link Coroutine#await}, so that the caller's thread keeps running
 * its scheduler (and serving the operations of other threads on its channels) meanwhile.
 */
final class Peer {

    private Peer() {
    }

    /**
     * Starts {@code body} on a new platform thread named {@code name}.
     *
     * @return a future completed with what the body returned, or exceptionally with what it threw
     */
    static <T> CompletableFuture<T> start(String name, Supplier<T> body) {
        return start(Thread.ofPlatform(), name, body);
    }

    /**
     * Starts {@code body} on a new thread of {@code builder} (platform or virtual) named {@code name}.
     *
     * @return a future completed with what the body returned, or exceptionally with what it threw
     */
    static <T> CompletableFuture<T> start(Thread.Builder builder, String name, Supplier<T> body) {
        CompletableFuture<T> result = new CompletableFuture<>();
        builder.name(name).start(() -> {
            try {
                result.complete(body.get());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        });
        return result;
    }

    /**
     * Runs {@code body} on a new platform thread named {@code name}, the calling context parked in
     * {@link Coroutine#await} until it returns, and returns when that thread has ended.
     *
     * @return what the body returned
     * @throws RuntimeException or Error: what the body threw, as it was thrown
     */
    static <T> T call(String name, Supplier<T> body) {
        return call(Thread.ofPlatform(), name, body);
    }

    /**
     * {@link #call(String, Supplier)} on a new thread of {@code builder} (platform or virtual).
     *
     * @return what the body returned
     * @throws RuntimeException or Error: what the body threw, as it was thrown
     */
    static <T> T call(Thread.Builder builder, String name, Supplier<T> body) {
        CompletableFuture<Thread> thread = new CompletableFuture<>();
        T value = awaitUnwrapped(start(builder, name, () -> {
            thread.complete(Thread.currentThread());
            return body.get();
        }));
        join(thread.join());
        return value;
    }

    /** {@link #call} for a body without a value. */
    static void run(String name, Runnable body) {
        call(name, () -> {
            body.run();
            return null;
        });
    }

    /**
     * {@link Coroutine#await}, with a failure of the future rethrown as it was thrown rather than
     * wrapped in a {@link CompletionException}.
     */
    static <T> T awaitUnwrapped(CompletableFuture<T> f) {
        try {
            return Coroutine.await(f);
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error r) {
                throw r;
            }
            throw e;
        }
    }

    /** Waits, on the calling thread, until {@code t} has ended. */
    static void join(Thread t) {
        Joins.uninterruptibly(t);
    }

    /**
     * Spins (without sleeping) until {@code t} blocks: its state is {@code WAITING} or
     * {@code TIMED_WAITING}, which for a coro thread means it waits in its event loop with nothing
     * to run; or until {@code giveUp} is done (the test failed elsewhere).
     *
     * @return whether {@code t} blocked
     */
    static boolean awaitBlocked(Thread t, CompletableFuture<?> giveUp) {
        while (!giveUp.isDone()) {
            Thread.State s = t.getState();
            if (s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING) {
                return true;
            }
            Thread.onSpinWait();
        }
        return false;
    }

    /** The thread whose scheduler runs the caller: the thread itself, or on the thread engine its coroutine's owner. */
    static Thread schedulerThread() {
        return Scheduler.current().owner;
    }
}
