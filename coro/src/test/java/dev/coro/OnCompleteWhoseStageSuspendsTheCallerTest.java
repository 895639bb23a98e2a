package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.Coroutine.State;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An {@code onComplete} clause whose stage's {@code toCompletableFuture()}, the user's code, suspends the
 * caller while another context runs the select and waits in it: the clause is refused, as any clause added
 * while the select waits, and the waiting run is unharmed, its clauses and text as they were.
 */
@ExtendWith(FreshThread.class)
@Timeout(10)
class OnCompleteWhoseStageSuspendsTheCallerTest {

    /** A future whose {@code toCompletableFuture()} yields before it answers itself. */
    static final class Yielding<T> extends CompletableFuture<T> {
        @Override
        public CompletableFuture<T> toCompletableFuture() {
            Coroutine.yield();
            return this;
        }
    }

    @Test
    void anOnCompleteWhoseStageYieldsWhileAnotherContextWaitsInTheSelectIsRefusedNamingThatContext() {
        Channel<Integer> in = new Channel<>("in", 0);
        Select<String> select = new Select<String>().onReceive(in, v -> "got " + v);
        List<String> log = new ArrayList<>();
        Coroutine waiter = Coroutine.create("waiter", () -> log.add(select.select()));
        Yielding<String> stage = new Yielding<>();
        Throwable refused = catchThrowable(() -> select.onComplete(stage, v -> "completed " + v)); // its yield runs the waiter
        assertThat(waiter.state()).isEqualTo(State.PARKED);
        assertThat(refused).isInstanceOf(IllegalStateException.class).hasMessage("main context 'main' cannot add an"
                + " onComplete clause to a select: it is waiting in coroutine 'waiter' (state PARKED); add clauses before"
                + " or between its runs");
        assertThat(select).hasToString("Select[receive from channel 'in']");
        stage.complete("late");
        Coroutine.yield();
        assertThat(waiter.state()).as("the stage's completion fires nothing").isEqualTo(State.PARKED);
        in.send(3);
        Coroutine.yield();
        assertThat(waiter.state()).isEqualTo(State.FINISHED);
        assertThat(log).containsExactly("got 3");
        assertThat(in.trySend(4)).as("no clause left queued").isFalse();
    }
}
