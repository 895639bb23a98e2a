package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A coroutine that is being closed may still close others (cleanup in its finally blocks): its
 * exit signal is delivered once, and what happens to the others reaches it from those close calls.
 */
@ExtendWith(FreshThread.class)
class CloseDuringUnwindingTest {

    @Test
    void aClosingCoroutineThatClosesAnotherWhoseUnwindingFailsGetsThatFailureFromClose() {
        List<String> log = new ArrayList<>();
        Coroutine[] inner = new Coroutine[1];
        Coroutine outer = Coroutine.create("outer", () -> {
            try {
                Coroutine.yield();
            } catch (CoroutineExit first) {
                log.add("outer unwinding, closes inner");
                try {
                    inner[0].close();
                    log.add("close returned");
                } catch (CoroutineException e) {
                    log.add("close threw: " + e.getMessage() + " / cause: " + e.getCause().getMessage());
                }
            }
        });
        inner[0] = Coroutine.create("inner", () -> {
            try {
                Coroutine.yield();
            } finally {
                throw new IllegalStateException("inner's finally failed");
            }
        });
        inner[0].switchTo(); // inner yields to outer, which yields to main: both suspended

        outer.close();

        assertThat(log).containsExactly("outer unwinding, closes inner",
                "close threw: coroutine 'inner' failed while being closed:"
                        + " java.lang.IllegalStateException: inner's finally failed / cause: inner's finally failed");
        assertThat(inner[0].state()).isEqualTo(Coroutine.State.FAILED);
        assertThat(outer.state()).isEqualTo(Coroutine.State.CLOSED);
        assertThat(Coroutine.currentId()).isZero();
    }

    @Test
    void aCoroutineThatClosesItsOwnCloserEndsAfterItAndControlGoesToMain() {
        List<String> log = new ArrayList<>();
        Coroutine[] closer = new Coroutine[1];
        Coroutine closed = Coroutine.create("closed", () -> {
            try {
                Coroutine.yield();
            } catch (CoroutineExit e) {
                log.add("closed closes its closer");
                try {
                    closer[0].close();
                } finally {
                    log.add("closed unwinds");
                }
            }
        });
        closer[0] = Coroutine.create("closer", () -> {
            try {
                closed.close();
                log.add("close returned");
            } finally {
                log.add("closer unwinds");
            }
        });
        closed.switchTo();

        closer[0].switchTo();

        assertThat(log).containsExactly("closed closes its closer", "closer unwinds", "closed unwinds");
        assertThat(closed.state()).isEqualTo(Coroutine.State.CLOSED);
        assertThat(closer[0].state()).isEqualTo(Coroutine.State.CLOSED);
        assertThat(Coroutine.currentId()).isZero();
        assertThat(Coroutine.current().isMain()).isTrue();
    }
}
