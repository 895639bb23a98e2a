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

    /**
     * A pool's later unobserved failure whose cause is the first, and which holds an endless chain as a suppressed
     * exception too, holds the first all the same: the walk looks at what is near before going deep, so the chain's
     * bound is never spent before the first is met, and {@code close()} suppresses the later one in its report, not
     * in the first's exception, where it would make a cycle.
     */
    @Test
    @Timeout(10)
    void aLaterFailureCausedByTheFirstIsFoundToHoldItThoughItAlsoHoldsAnEndlessChain() {
        SuppressedWithoutCyclesTest.TwoFailures failed = SuppressedWithoutCyclesTest.closeAfterTwoFailures(first -> {
            IllegalArgumentException second = new IllegalArgumentException("second", first);
            second.addSuppressed(new EndlessCause("endless", new AtomicInteger()));
            return second;
        });
        Throwable thrown = failed.thrown();
        IllegalStateException first = failed.first();
        // the messages compared as strings: a failed check of the exception itself would print the endless chain
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class);
        assertThat(thrown.getMessage()).isEqualTo(failed.report());
        assertThat(thrown.getCause()).isSameAs(first);
        assertThat(first.getSuppressed().length).as("suppressed in the first").isZero();
        assertThat(thrown.getSuppressed().length).as("suppressed in the report").isOne();
        assertThat(thrown.getSuppressed()[0].getMessage()).isEqualTo("second");
    }
}
