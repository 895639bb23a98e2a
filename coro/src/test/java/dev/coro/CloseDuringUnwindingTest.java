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

    /**
     * Three coroutines after main, created in this order: a bystander that yields once, then logs and
     * runs {@code rest}; {@code closed}, which when closed closes its closer; the closer, which closes
     * {@code closed}. Returns them in that order, after the bystander and {@code closed} have suspended.
     */
    private static Coroutine[] closerClosedByWhatItCloses(List<String> log, Runnable rest) {
        Coroutine[] all = new Coroutine[3];
        all[0] = Coroutine.create("bystander", () -> {
            Coroutine.yield();
            log.add("bystander resumes");
            rest.run();
        });
        all[1] = Coroutine.create("closed", () -> {
            try {
                Coroutine.yield();
            } catch (CoroutineExit e) {
                log.add("closed closes its closer");
                try {
                    all[2].close();
                } finally {
                    log.add("closed unwinds");
                }
            }
        });
        all[2] = Coroutine.create("closer", () -> {
            try {
                all[1].close();
                log.add("close returned");
            } finally {
                log.add("closer unwinds");
            }
        });
        all[1].switchTo(); // closed yields to the bystander, which yields to main
        assertThat(all[0].state()).isEqualTo(Coroutine.State.SUSPENDED);
        assertThat(all[1].state()).isEqualTo(Coroutine.State.SUSPENDED);
        return all;
    }

    @Test
    void aCoroutineWhoseCloserEndedBeforeItGoesOnToMainNotToThePreviousCoroutine() {
        List<String> log = new ArrayList<>();
        Coroutine[] all = closerClosedByWhatItCloses(log, () -> { });

        all[2].switchTo();

        assertThat(log).containsExactly("closed closes its closer", "closer unwinds", "closed unwinds");
        assertThat(all[0].state()).as("the bystander was not resumed").isEqualTo(Coroutine.State.SUSPENDED);
        assertThat(Coroutine.current().isMain()).isTrue();
        Coroutine.yield();
        assertThat(log).endsWith("bystander resumes");
        assertThat(all[0].state()).isEqualTo(Coroutine.State.FINISHED);
    }

    @Test
    void aCoroutineWhoseCloserEndedWhileMainIsParkedGoesOnToThePreviousRunnableCoroutine() {
        List<String> log = new ArrayList<>();
        Channel<String> ch = new Channel<>("wake", 0);
        Coroutine[] all = closerClosedByWhatItCloses(log, () -> {
            ch.send("from the bystander");
            log.add("bystander ends");
        });

        String got = ch.receive(); // main parks: the closer (the last entry) runs

        assertThat(got).isEqualTo("from the bystander");
        assertThat(log).containsExactly("closed closes its closer", "closer unwinds", "closed unwinds",
                "bystander resumes", "bystander ends");
        assertThat(all).extracting(Coroutine::state).containsExactly(Coroutine.State.FINISHED,
                Coroutine.State.CLOSED, Coroutine.State.CLOSED);
    }
}
