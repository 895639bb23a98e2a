package dev.coro;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;

/**
 * A platform thread named 'maker' that makes a channel (so the channel is its thread's), hands it to the
 * test's thread, and then does the rest of its part: a channel owner that a test can block outside coro
 * or let end.
 *
 * @param thread the maker's thread
 * @param channel the channel it made
 */
record Maker<T>(Thread thread, Channel<T> channel) {

    /**
     * Starts the maker: it makes a channel with {@code make}, hands it over, then runs {@code then}. The
     * calling context waits in {@link Coroutine#await} until the channel is made.
     */
    static <T> Maker<T> start(Supplier<Channel<T>> make, Runnable then) {
        CompletableFuture<Channel<T>> made = new CompletableFuture<>();
        Thread thread = Thread.ofPlatform().name("maker").start(() -> {
            made.complete(make.get());
            then.run();
        });
        return new Maker<>(thread, Coroutine.await(made));
    }

    /**
     * Blocks the calling thread outside coro (its scheduler runs nothing meanwhile) until {@code latch}
     * opens; an interrupt ends the wait and stays set.
     */
    static void blockOn(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** How a refusal names the maker's thread once it ended: {@code "'maker' (#<id>), which has ended"}. */
    String ended() {
        return "'maker' (#" + thread.threadId() + "), which has ended";
    }
}
