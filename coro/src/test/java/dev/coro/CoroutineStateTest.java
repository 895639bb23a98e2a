package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine.State;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The life cycle's transition table allows exactly the edges its Javadoc lists. */
class CoroutineStateTest {

    private static Set<State> targetsOf(State from) {
        Set<State> to = EnumSet.noneOf(State.class);
        for (State s : State.values()) {
            if (from.canMoveTo(s)) {
                to.add(s);
            }
        }
        return to;
    }

    @Test
    void aNewCoroutineCanOnlyStartRunningOrBeClosed() {
        assertThat(targetsOf(State.NEW)).containsExactlyInAnyOrder(State.RUNNING, State.CLOSED);
    }

    @Test
    void aRunningCoroutineCanSuspendParkOrEndInAnyOfTheThreeWays() {
        assertThat(targetsOf(State.RUNNING)).containsExactlyInAnyOrder(State.SUSPENDED, State.PARKED,
                State.FINISHED, State.FAILED, State.CLOSED);
    }

    @Test
    void aParkedCoroutineIsWokenOrResumedDirectly() {
        assertThat(targetsOf(State.PARKED)).containsExactlyInAnyOrder(State.SUSPENDED, State.RUNNING);
    }

    @Test
    void aSuspendedCoroutineCanOnlyRunAgain() {
        assertThat(targetsOf(State.SUSPENDED)).containsExactly(State.RUNNING);
    }

    @Test
    void anEndedCoroutineNeverMovesAgain() {
        for (State ended : EnumSet.of(State.FINISHED, State.FAILED, State.CLOSED)) {
            assertThat(targetsOf(ended)).as(ended.name()).isEmpty();
        }
    }

    @Test
    void exactlyFinishedFailedAndClosedAreTerminal() {
        assertThat(EnumSet.allOf(State.class).stream().filter(State::isTerminal))
                .containsExactlyInAnyOrder(State.FINISHED, State.FAILED, State.CLOSED);
    }
}
