package dev.coro;

import java.util.List;
import java.util.stream.Collectors;

/**
 * One thing a body of a random program of the property tests does: the scheduling steps that
 * {@link SchedulingPropertyTest} generates (yield, switchTo, close, throw, create), and the time and
 * channel steps that {@link TimePropertyTest} adds ({@link TimePropertyTest.TimeStep}).
 *
 * <p>Targets are positions in creation order (0 is main), taken modulo the count. Each record's
 * {@code toString()} is how a failing program is printed.
 */
sealed interface Step permits Step.Yield, Step.SwitchTo, Step.Close, Step.Throw, Step.Create, TimePropertyTest.TimeStep {

    /** {@code Coroutine.yield()}. */
    record Yield() implements Step {
        @Override
        public String toString() {
            return "yield";
        }
    }

    /** {@code handles[target % n].switchTo()}. */
    record SwitchTo(int target) implements Step {
        @Override
        public String toString() {
            return "switchTo(#" + target + ")";
        }
    }

    /** {@code handles[target % n].close()}. */
    record Close(int target) implements Step {
        @Override
        public String toString() {
            return "close(#" + target + ")";
        }
    }

    /** The body throws {@link SchedulingPropertyTest.Boom}; never in main's script. */
    record Throw() implements Step {
        @Override
        public String toString() {
            return "throw";
        }
    }

    /** Creates a coroutine running {@code body}; it is numbered by creation order. */
    record Create(Script body) implements Step {
        @Override
        public String toString() {
            return "create" + body;
        }
    }

    /**
     * A body: its steps, and whether it swallows exit signals (going on with its next step) instead
     * of letting them unwind it.
     */
    record Script(List<Step> steps, boolean swallowsExit) {
        @Override
        public String toString() {
            return (swallowsExit ? "!" : "") + steps.stream().map(Step::toString)
                    .collect(Collectors.joining(", ", "{", "}"));
        }
    }
}
