package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.Coroutine.State;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An object whose {@code toString()} answers null against its contract (one that returns a field left
 * unset) is named {@code null} wherever the library names it, as string concatenation names it: a
 * refused {@code onSend} of such a value, the cancellation of an await or an {@code onComplete} clause
 * of such a stage, and the dump and a refused {@code switchTo} of a context awaiting it say so, each
 * thrown or shown as for any other object, never a {@code NullPointerException} instead.
 */
@ExtendWith(FreshThread.class)
class NullTextTest {

    /** A value whose {@code toString()} returns its name, which was never set. */
    static final class Unnamed {
        String name;

        @Override
        public String toString() {
            return name;
        }
    }

    /** A future whose {@code toString()} returns its name, which was never set. */
    static final class UnnamedFuture<T> extends CompletableFuture<T> {
        String name;

        @Override
        public String toString() {
            return name;
        }
    }

    @Test
    void anOnSendToAClosedChannelOfAValueWhoseTextIsNullNamesItNull() {
        Channel<Object> ch = new Channel<>("ch", 1);
        ch.close();
        assertThat(catchThrowable(() -> new Select<String>().onSend(ch, new Unnamed(), () -> "sent").select()))
                .isInstanceOf(ChannelClosedException.class)
                .hasMessage("main context 'main' cannot select onSend(null) to channel 'ch' (closed): a closed channel takes"
                        + " no more values, and the value was not delivered; leave the clause out to go on");
    }

    @Test
    void anAwaitAndAClauseOfACancelledStageWhoseTextIsNullThrowTheCancellationNamingItNull() {
        UnnamedFuture<String> cancelled = new UnnamedFuture<>();
        cancelled.cancel(false);
        assertThat(catchThrowable(() -> Coroutine.await(cancelled))).isExactlyInstanceOf(CancellationException.class)
                .hasMessage("main context 'main' cannot await null: it was cancelled");
        assertThat(catchThrowable(() -> new Select<String>().onComplete(cancelled, v -> v).select()))
                .isExactlyInstanceOf(CancellationException.class)
                .hasMessage("main context 'main' cannot select: its clause onComplete(null) fired on a cancelled stage");
    }

    @Test
    void theDumpAndARefusedSwitchToNameTheWaitOfAContextAwaitingAFutureWhoseTextIsNull() {
        UnnamedFuture<String> f = new UnnamedFuture<>();
        Coroutine awaiter = Coroutine.create("awaiter", () -> Coroutine.await(f));
        awaiter.switchTo();
        String dump = Coroutine.dump();
        Throwable refused = catchThrowable(awaiter::switchTo);
        f.complete("done");
        Coroutine.yield();
        assertThat(dump).contains("\n  [1] coroutine 'awaiter': PARKED, waits to await null\n");
        assertThat(refused).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot switchTo coroutine 'awaiter' (PARKED): it waits to await null;"
                        + " only what it waits for can wake it");
        assertThat(awaiter.state()).isEqualTo(State.FINISHED);
    }
}
