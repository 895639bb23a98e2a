package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A stage whose {@code toCompletableFuture()} or {@code whenComplete} throws a checked exception
 * sneakily (which the compiler cannot see) fails an await, and the building of an {@code onComplete}
 * clause, with that exception as it is, as with an unchecked one, leaving nothing pending.
 */
@ExtendWith(FreshThread.class)
class SneakyStageTest {

    /** Throws {@code t}, checked or not, where the compiler sees no checked exception. */
    @SuppressWarnings("unchecked")
    static <T extends Throwable, R> R sneakyThrow(Throwable t) throws T {
        throw (T) t;
    }

    /** A stage whose {@code toCompletableFuture()} throws {@code refusal}, a checked exception. */
    static final class NoFuture<T> extends CompletableFuture<T> {
        final IOException refusal = new IOException("no future for this stage");

        @Override
        public CompletableFuture<T> toCompletableFuture() {
            return sneakyThrow(refusal);
        }
    }

    /** A stage that refuses {@code toCompletableFuture()} and whose {@code whenComplete} throws {@code refusal}, a checked exception. */
    static final class NoCallbacks<T> extends CompletableFuture<T> {
        final IOException refusal = new IOException("no callbacks on this stage");

        @Override
        public CompletableFuture<T> toCompletableFuture() {
            throw new UnsupportedOperationException("no future");
        }

        @Override
        public CompletableFuture<T> whenComplete(BiConsumer<? super T, ? super Throwable> action) {
            return sneakyThrow(refusal);
        }
    }

    @Test
    void aStageWhoseToCompletableFutureThrowsACheckedExceptionFailsTheAwaitAndTheClauseWithItAsItIs() {
        NoFuture<String> stage = new NoFuture<>();
        assertThat(catchThrowable(() -> Coroutine.await(stage))).isSameAs(stage.refusal);
        assertThat(catchThrowable(() -> new Select<String>().onComplete(stage, v -> v))).isSameAs(stage.refusal);
        assertThat(Scheduler.current().loop.hasPending()).as("no wait left behind").isFalse();
        assertThat(Coroutine.await(CompletableFuture.completedFuture("on"))).isEqualTo("on");
    }

    @Test
    void aStageWhoseCallbacksThrowACheckedExceptionFailsTheAwaitOfACoroutineWithItAsItIs() {
        NoCallbacks<String> stage = new NoCallbacks<>();
        Throwable[] thrown = new Throwable[1];
        Coroutine awaiter = Coroutine.create("awaiter", () -> thrown[0] = catchThrowable(() -> Coroutine.await(stage)));
        awaiter.switchTo();
        assertThat(thrown[0]).isSameAs(stage.refusal);
        assertThat(awaiter.state()).isEqualTo(Coroutine.State.FINISHED);
        assertThat(catchThrowable(() -> new Select<String>().onComplete(stage, v -> v))).isSameAs(stage.refusal);
        assertThat(Scheduler.current().loop.hasPending()).as("no wait left behind").isFalse();
    }
}
