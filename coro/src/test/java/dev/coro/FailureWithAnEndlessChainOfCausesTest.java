package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A user's exception whose {@code getCause()} makes a new exception at each call, an endless chain of causes, in a
 * failure the library adds to another as suppressed, neither holds the body's end in an endless walk nor is lost:
 * the library's check that adding it makes no cycle walks a bounded number of exceptions
 * ({@link Scheduler#MOST_WALKED}), and counts the chain as holding nothing beyond them.
 */
@ExtendWith(FreshThread.class)
class FailureWithAnEndlessChainOfCausesTest {

    /**
     * A failure whose {@code getCause()} makes a new one of its kind at each call, counting them in {@code made};
     * the chain ends after a hundred thousand links only so that a walk with no bound ends too, and a test sees it
     * walk too far instead of hanging.
     */
    static final class EndlessCause extends RuntimeException {
        private final AtomicInteger made;

        EndlessCause(String message, AtomicInteger made) {
            super(message);
            this.made = made;
        }

        private EndlessCause(AtomicInteger made) {
            super("a cause", null, false, false);
            this.made = made;
        }

        @Override
        public synchronized Throwable getCause() {
            return made.incrementAndGet() < 100_000 ? new EndlessCause(made) : null;
        }
    }

    @Test
    @Timeout(10)
    void aKeptReportOfAFailureWithAnEndlessChainOfCausesIsSuppressedInWhatTheBodyThrewAfterABoundedWalk() {
        AtomicInteger causesMade = new AtomicInteger();
        assertThat(FailureWhoseGetCauseThrowsTest.keptReportOf(new EndlessCause("endless", causesMade)))
                .isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'worker' failed: dev.coro.FailureWithAnEndlessChainOfCausesTest$EndlessCause: endless");
        assertThat(causesMade.get()).as("causes asked for").isLessThanOrEqualTo(Scheduler.MOST_WALKED);
    }
}
