package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.UnprintableFailureTest.Unprintable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An {@code onComplete} clause that fires on a stage whose failure cannot say what it is (its
 * {@code toString()} throws) throws what {@code join()} would, a {@code CompletionException} whose
 * cause is that failure, its message naming the failure's class and what its {@code toString()}
 * threw, not the exception that {@code toString()} threw.
 */
@ExtendWith(FreshThread.class)
class UnprintableStageFailureTest {

    private static final String NAMED = "dev\\.coro\\.UnprintableFailureTest\\$Unprintable@[0-9a-f]+"
            + " \\(its toString\\(\\) threw java\\.lang\\.IllegalStateException\\)";

    @Test
    void anOnCompleteClauseReadyAtOnceOnAStageWhoseFailureCannotSayWhatItIsThrowsTheCompletionException() {
        CompletableFuture<String> f = new CompletableFuture<>();
        Unprintable failure = new Unprintable();
        f.completeExceptionally(failure);
        Channel<String> ch = new Channel<>("ch", 1);
        Throwable thrown = catchThrowable(() -> new Select<String>().onReceive(ch, v -> v).onComplete(f, v -> v).select());
        assertThat(thrown).isExactlyInstanceOf(CompletionException.class).cause().isSameAs(failure);
        assertThat(thrown.getMessage()).matches("main context 'main' cannot select: its clause onComplete\\("
                + java.util.regex.Pattern.quote(String.valueOf(f)) + "\\) fired on a stage that failed: " + NAMED);
        assertThat(ch.trySend("x")).as("the receive clause left no trace").isTrue();
    }

    @Test
    void anOnCompleteClauseWokenByAStageFailingWithAFailureThatCannotSayWhatItIsThrowsTheCompletionException() {
        CompletableFuture<String> f = new CompletableFuture<>();
        Unprintable failure = new Unprintable();
        Channel<String> ch = new Channel<>("ch", 0);
        Coroutine.create("failer", () -> f.completeExceptionally(failure)); // runs once main parks in the select
        Throwable thrown = catchThrowable(() -> new Select<String>().onReceive(ch, v -> v).onComplete(f, v -> v).select());
        assertThat(thrown).isExactlyInstanceOf(CompletionException.class).cause().isSameAs(failure);
        assertThat(thrown.getMessage()).matches("main context 'main' cannot select: its clause onComplete\\("
                + java.util.regex.Pattern.quote(String.valueOf(f)) + "\\) fired on a stage that failed: " + NAMED);
        assertThat(ch.trySend("x")).as("the receive clause left the channel's queue").isFalse();
        assertThat(Coroutine.dump()).as("the run list").startsWith("thread '" + Thread.currentThread().getName()
                + "': 1 context, current index 0\n  [0] main: RUNNING (the caller)\n");
    }
}
