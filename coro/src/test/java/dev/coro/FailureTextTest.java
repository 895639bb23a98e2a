package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Coroutine.State;
import java.util.ArrayList;
import java.util.List;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The text of a body's failure is the user's code (its exception's {@code toString()}), run while the
 * failing coroutine is still the running context: code there sees that coroutine as the caller, may
 * suspend it, and leaves the run list as the rules say.
 */
@ExtendWith(FreshThread.class)
class FailureTextTest {

    /** An exception whose {@code toString()} looks at the scheduler and runs {@code inside}. */
    static final class Looking extends RuntimeException {
        private final List<String> log;
        private final Runnable inside;

        Looking(List<String> log, Runnable inside) {
            this.log = log;
            this.inside = inside;
        }

        @Override
        public String toString() {
            log.add("toString in " + Coroutine.current().name() + " (" + Coroutine.current().state() + ", index "
                    + Coroutine.currentId() + ")");
            inside.run();
            log.add("toString returns in " + Coroutine.current().name());
            return "Looking";
        }
    }

    @Test
    void theToStringOfABodysFailureRunsInTheFailingCoroutineStillRunning() {
        List<String> log = new ArrayList<>();
        Coroutine.create("a", () -> { });
        Coroutine.create("b", () -> { });
        Coroutine bad = Coroutine.create("bad", () -> {
            throw new Looking(log, () -> log.add(Coroutine.dump().lines().filter(l -> l.contains("(the caller)"))
                    .findFirst().orElse("no caller in the dump")));
        });

        assertThatThrownBy(bad::switchTo).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'bad' failed: Looking").hasCauseInstanceOf(Looking.class);

        assertThat(log).containsExactly("toString in bad (RUNNING, index 3)", "  [3] coroutine 'bad': RUNNING (the caller)",
                "toString returns in bad");
        assertThat(bad.state()).isEqualTo(State.FAILED);
        assertThat(Coroutine.currentId()).isZero();
        assertThat(Coroutine.dump()).contains(": 3 contexts, current index 0").doesNotContain("bad");
    }

    @Test
    void aYieldInsideTheToStringOfABodysFailureSuspendsItAndTheFailureReachesTheCreatorWhenItResumes() {
        List<String> log = new ArrayList<>();
        Coroutine other = Coroutine.create("other", () -> {
            log.add("other runs");
            Coroutine.yield();
            log.add("other runs again");
        });
        Coroutine bad = Coroutine.create("bad", () -> {
            throw new Looking(log, Coroutine::yield);
        });

        bad.switchTo(); // bad fails; its toString yields: other runs, then yields to main
        log.add("main runs, bad is " + bad.state());
        assertThatThrownBy(Coroutine::yield).as("main's yield runs bad (the last entry), which fails to main")
                .isInstanceOf(CoroutineException.class).hasMessage("coroutine 'bad' failed: Looking");
        Coroutine.yield();

        assertThat(log).containsExactly("toString in bad (RUNNING, index 2)", "other runs", "main runs, bad is SUSPENDED",
                "toString returns in bad", "other runs again");
        assertThat(bad.state()).isEqualTo(State.FAILED);
        assertThat(other.state()).isEqualTo(State.FINISHED);
        assertThat(Coroutine.dump()).contains(": 1 context, current index 0");
    }

    @Test
    void aCoroutineClosedWhileSuspendedInTheToStringOfItsFailureEndsFailedAndItsCloserGetsTheFailure() {
        List<String> log = new ArrayList<>();
        Coroutine bad = Coroutine.create("bad", () -> {
            throw new Looking(log, Coroutine::yield);
        });
        bad.switchTo(); // suspended inside the toString of its failure

        assertThatThrownBy(bad::close).isInstanceOf(CoroutineException.class).hasCauseInstanceOf(Looking.class)
                .hasMessageMatching("coroutine 'bad' failed while being closed: dev\\.coro\\.FailureTextTest\\$Looking@[0-9a-f]+"
                        + " \\(its toString\\(\\) threw dev\\.coro\\.CoroutineExit\\)");

        assertThat(log).containsExactly("toString in bad (RUNNING, index 1)");
        assertThat(bad.state()).isEqualTo(State.FAILED);
        assertThat(Coroutine.dump()).contains(": 1 context, current index 0");
    }

    @Test
    void withItsEndRecordedTheToStringOfABodysFailureRunsOnce() throws Exception {
        List<String> log = new ArrayList<>();
        List<RecordedEvent> ends = JfrEventsTest.record(r -> r.enable("dev.coro.CoroutineEnd"), () -> {
            Coroutine bad = Coroutine.create("bad", () -> {
                throw new Looking(log, () -> { });
            });
            assertThatThrownBy(bad::switchTo).isInstanceOf(CoroutineException.class).hasMessage("coroutine 'bad' failed: Looking");
        }, "dev.coro.CoroutineEnd");

        assertThat(log).containsExactly("toString in bad (RUNNING, index 1)", "toString returns in bad");
        assertThat(ends).extracting(e -> e.getString("coroutine") + " / " + e.getString("ending") + " / " + e.getString("failure"))
                .containsExactly("bad / FAILED / Looking");
    }
}
