package dev.coro;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** An ended coroutine cannot be switched to: the exception names it and how it ended. */
@ExtendWith(FreshThread.class)
class EndedCoroutineTest {

    @Test
    void switchToAFinishedCoroutineNamesItAndItsState() {
        Coroutine c = Coroutine.create("done", () -> { });
        c.switchTo();
        assertThatThrownBy(c::switchTo).isInstanceOf(IllegalStateException.class)
                .hasMessage("cannot switchTo coroutine 'done': it is FINISHED");
    }

    @Test
    void switchToAFailedCoroutineSaysItsFailureWasDeliveredToItsCreator() {
        Coroutine c = Coroutine.create("broken", () -> {
            throw new IllegalArgumentException("bad");
        });
        assertThatThrownBy(c::switchTo).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'broken' failed: java.lang.IllegalArgumentException: bad");
        assertThatThrownBy(c::switchTo).isInstanceOf(IllegalStateException.class)
                .hasMessage("cannot switchTo coroutine 'broken': it is FAILED (its failure was delivered to its creator)");
    }

    @Test
    void switchToAClosedCoroutineNamesItAndItsState() {
        Coroutine c = Coroutine.create("shut", () -> { });
        c.close();
        c.close();
        assertThatThrownBy(c::switchTo).isInstanceOf(IllegalStateException.class)
                .hasMessage("cannot switchTo coroutine 'shut': it is CLOSED");
    }
}
