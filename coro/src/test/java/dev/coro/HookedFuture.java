package dev.coro;

import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;

/**
 * A future of the user's own class whose {@code whenComplete} registers the callback, then runs {@link #action}
 * the first time: where a test runs code as coro, starting an await or a select's {@code onComplete} on it,
 * calls into the user's class (the wait half made).
 *
 * @param <T> the value's type
 */
public final class HookedFuture<T> extends CompletableFuture<T> {

    /** What the first {@code whenComplete} runs once it has registered its callback; nothing by default. */
    public Runnable action = () -> { };

    /** Creates an incomplete future that runs nothing yet. */
    public HookedFuture() {
    }

    @Override
    public CompletableFuture<T> whenComplete(BiConsumer<? super T, ? super Throwable> callback) {
        CompletableFuture<T> r = super.whenComplete(callback);
        Runnable a = action;
        action = () -> { };
        a.run();
        return r;
    }
}
