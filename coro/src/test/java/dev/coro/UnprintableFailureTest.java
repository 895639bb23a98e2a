package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Coroutine.State;
import java.util.List;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A body that fails with an exception whose {@code toString()} throws: it fails as any other, and the
 * failure's message and its {@code CoroutineEnd} event name the exception's class and what it threw.
 */
@ExtendWith(FreshThread.class)
class UnprintableFailureTest {

    /** An exception whose {@code toString()} throws. */
    static final class Unprintable extends RuntimeException {
        @Override
        public String toString() {
            throw new IllegalStateException("no text for this exception");
        }
    }

    private static final String NAMED = "dev\\.coro\\.UnprintableFailureTest\\$Unprintable@[0-9a-f]+"
            + " \\(its toString\\(\\) threw java\\.lang\\.IllegalStateException\\)";

    @Test
    void aBodyThatThrowsAnExceptionThatCannotSayWhatItIsFailsAsAnyOther() {
        Coroutine c = Coroutine.create("unprintable", () -> {
            throw new Unprintable();
        });
        assertThatThrownBy(c::switchTo).isInstanceOf(CoroutineException.class).hasCauseInstanceOf(Unprintable.class)
                .hasMessageMatching("coroutine 'unprintable' failed: " + NAMED);
        assertThat(c.state()).isEqualTo(State.FAILED);
        assertThat(Coroutine.dump()).as("the run list").startsWith("thread '" + Thread.currentThread().getName()
                + "': 1 context, current index 0\n  [0] main: RUNNING (the caller)\n        at dev.coro.Coroutine.dump(");
    }

    @Test
    void theRecordedEndOfABodyThatThrewAnExceptionThatCannotSayWhatItIsNamesItsClass() throws Exception {
        Coroutine[] c = new Coroutine[1];
        Throwable[] thrown = new Throwable[1];
        List<RecordedEvent> ends = JfrEventsTest.record(r -> r.enable("dev.coro.CoroutineEnd"), () -> {
            c[0] = Coroutine.create("unprintable", () -> {
                throw new Unprintable();
            });
            try {
                c[0].switchTo();
            } catch (RuntimeException e) {
                thrown[0] = e;
            }
        }, "dev.coro.CoroutineEnd");
        assertThat(thrown[0]).isInstanceOf(CoroutineException.class).hasCauseInstanceOf(Unprintable.class);
        assertThat(c[0].state()).isEqualTo(State.FAILED);
        assertThat(Coroutine.dump()).as("the run list").doesNotContain("unprintable");
        assertThat(ends).extracting(e -> e.getString("coroutine") + " / " + e.getString("ending")).containsExactly("unprintable / FAILED");
        assertThat(ends.get(0).getString("failure")).matches(NAMED);
    }

    @Test
    void aPoolBodyThatThrowsAnExceptionThatCannotSayWhatItIsIsReportedByCloseAsAnyOther() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        pool.execute(() -> {
            throw new Unprintable();
        });
        pool.submit(() -> {
            throw new IllegalArgumentException("second");
        });
        assertThatThrownBy(pool::close).isInstanceOf(CoroutineException.class).hasCauseInstanceOf(Unprintable.class)
                .hasMessageMatching(name + ": a coroutine failed and nobody observed it: coroutine 'coroutine-1' on thread '" + name
                        + "-0' \\(#" + PoolName.threadId(pool, 0) + "\\), running the body of execute #1, threw " + NAMED + "; 1 more failure suppressed")
                .satisfies(e -> assertThat(e.getCause().getSuppressed()).singleElement()
                        .satisfies(second -> assertThat(second).hasMessage("second")));
    }

    /** An exception whose {@code toString()} throws an error, not an exception. */
    static final class UnprintableByError extends RuntimeException {
        @Override
        public String toString() {
            throw new AssertionError("no text for this exception");
        }
    }

    private static final String NAMED_BY_ERROR = "dev\\.coro\\.UnprintableFailureTest\\$UnprintableByError@[0-9a-f]+"
            + " \\(its toString\\(\\) threw java\\.lang\\.AssertionError\\)";

    @Test
    void aBodyWhoseFailureThrowsAnErrorWhenAskedItsTextFailsAsAnyOtherAndTheThreadRunsOn() {
        Coroutine c = Coroutine.create("unprintable", () -> {
            throw new UnprintableByError();
        });
        assertThatThrownBy(c::switchTo).isInstanceOf(CoroutineException.class).hasCauseInstanceOf(UnprintableByError.class)
                .hasMessageMatching("coroutine 'unprintable' failed: " + NAMED_BY_ERROR);
        assertThat(c.state()).isEqualTo(State.FAILED);
        Coroutine next = Coroutine.create("next", () -> { });
        next.switchTo();
        assertThat(next.state()).as("the scheduler runs on").isEqualTo(State.FINISHED);
    }

    @Test
    void aGeneratorWhoseBodyFailureThrowsAnErrorWhenAskedItsTextFailsAsAnyOther() {
        Generator<Integer> g = Generator.of("unprintable", out -> {
            throw new UnprintableByError();
        });
        assertThatThrownBy(g::next).isInstanceOf(CoroutineException.class).hasCauseInstanceOf(UnprintableByError.class);
        assertThat(g.state()).isEqualTo(Generator.State.FAILED);
        assertThat(g.hasNext()).isFalse();
    }
}
