package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine.State;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A dump whose text of a wait runs the user's code that lets the context waiting there end (an awaited
 * future's {@code toString()} that completes it and yields, or that closes that context): the dump is
 * made all the same, that context listed with the wait it had, none of its frames, and the dumps that
 * follow no longer list it.
 */
@ExtendWith(FreshThread.class)
class DumpWhoseWaitTextSuspendsTest {

    /** A future whose {@code toString()} runs {@code action} the first time it is asked, then names the future. */
    static final class Acting<T> extends CompletableFuture<T> {
        Runnable action = () -> { };

        @Override
        public String toString() {
            Runnable a = action;
            action = () -> { };
            a.run();
            return "acting future";
        }
    }

    @Test
    void aDumpWhoseWaitTextCompletesTheFutureAndYieldsUntilTheAwaiterEndedIsMadeAllTheSame() {
        Acting<String> f = new Acting<>();
        f.action = () -> {
            f.complete("done");
            Coroutine.yield(); // the awaiter is woken and runs to its end
        };
        Coroutine awaiter = Coroutine.create("awaiter", () -> Coroutine.await(f));
        awaiter.switchTo();
        String dump = Coroutine.dump();
        assertThat(awaiter.state()).isEqualTo(State.FINISHED);
        assertThat(dump).startsWith("thread '" + Thread.currentThread().getName() + "': 2 contexts, current index 0\n"
                + "  [0] main: RUNNING (the caller)\n");
        assertThat(dump).endsWith("  [1] coroutine 'awaiter': PARKED, waits to await acting future\n");
        assertThat(Coroutine.dump()).as("the next dump").doesNotContain("awaiter");
    }

    @Test
    void aDumpWhoseWaitTextClosesTheAwaiterIsMadeAllTheSame() {
        Acting<String> f = new Acting<>();
        Coroutine awaiter = Coroutine.create("awaiter", () -> Coroutine.await(f));
        f.action = awaiter::close;
        awaiter.switchTo();
        String dump = Coroutine.dump();
        assertThat(awaiter.state()).isEqualTo(State.CLOSED);
        assertThat(dump).endsWith("  [1] coroutine 'awaiter': PARKED, waits to await acting future\n");
        assertThat(Coroutine.dump()).as("the next dump").doesNotContain("awaiter");
        f.complete("late");
        Coroutine.yield();
        assertThat(awaiter.state()).as("a later completion wakes nothing").isEqualTo(State.CLOSED);
    }
}
