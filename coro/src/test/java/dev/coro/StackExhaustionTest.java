package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine.State;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A stack overflow that strikes inside a switch (a coroutine recursed to within a few frames of its
 * stack's end, then yields) reaches the right place as a failure, and the scheduler stays consistent
 * and usable: at every depth near the limit, on every engine.
 */
@ExtendWith(FreshThread.class)
@Tag("stack-edge") // CI's C1-only pass leaves it out: see .ci/run
class StackExhaustionTest {

    private static int depthReached;

    private static void recurseThenYield(int n, int target) {
        depthReached = n;
        if (n < target) {
            recurseThenYield(n + 1, target);
        } else {
            Coroutine.yield();
        }
    }

    /** How deep a coroutine body can recurse through {@link #recurseThenYield} before its stack overflows. */
    private static int measuredLimit() {
        int[] limit = {0};
        Coroutine probe = Coroutine.create("probe", () -> {
            try {
                recurseThenYield(0, Integer.MAX_VALUE);
            } catch (StackOverflowError e) {
                limit[0] = depthReached;
            }
        });
        probe.switchTo();
        assertThat(probe.state()).isEqualTo(State.FINISHED);
        return limit[0];
    }

    @Test
    void aStackOverflowInsideAYieldNearTheStacksEndLeavesTheSchedulerConsistentAtEveryDepth() {
        List<String> outcomes = new ArrayList<>();
        int limit = measuredLimit();
        assertThat(limit).isGreaterThan(500);
        // from three quarters of the limit to a quarter past it, about 1,200 depths
        int from = limit * 3 / 4;
        int to = limit * 5 / 4;
        int step = Math.max(1, (to - from) / 1200);
        for (int depth = from; depth <= to; depth += step) {
            int target = depth;
            Coroutine victim = Coroutine.create("victim", () -> recurseThenYield(0, target));
            Throwable failure = null;
            try {
                victim.switchTo();
            } catch (CoroutineException e) {
                failure = e.getCause();
            }
            assertThat(Coroutine.current().isMain()).isTrue();
            assertThat(Coroutine.currentId()).isZero();
            if (failure != null) {
                assertThat(failure).as("depth " + depth).isInstanceOf(StackOverflowError.class);
                assertThat(victim.state()).isEqualTo(State.FAILED);
                outcomes.add("failed");
            } else {
                assertThat(victim.state()).as("depth " + depth).isEqualTo(State.SUSPENDED);
                try {
                    victim.close();
                    assertThat(victim.state()).isEqualTo(State.CLOSED);
                } catch (CoroutineException e) {
                    // resuming so deep overflowed in the victim itself: its own failure, while being closed
                    assertThat(e).hasMessage("coroutine 'victim' failed while being closed: " + e.getCause())
                            .cause().isInstanceOf(StackOverflowError.class);
                    assertThat(victim.state()).isEqualTo(State.FAILED);
                }
                outcomes.add("suspended");
            }
            // the scheduler is usable: a fresh coroutine runs and main is the only context left
            Coroutine after = Coroutine.create("after", Coroutine::yield);
            Coroutine.yield();
            Coroutine.yield();
            assertThat(after.state()).isEqualTo(State.FINISHED);
            assertThat(Coroutine.dump()).startsWith("thread '").contains(": 1 context, current index 0");
        }
        // which depths overflow depends on how the frames were compiled; every depth had to leave the
        // scheduler consistent above, whichever it was
        assertThat(outcomes).hasSize((to - from) / step + 1);
    }

    private static void recurseThenClose(int n, int target, Coroutine victim) {
        depthReached = n;
        if (n < target) {
            recurseThenClose(n + 1, target, victim);
        } else {
            victim.close();
        }
    }

    @Test
    void aCloseThatOverflowsBeforeItsTargetRunsLeavesTheTargetUnclosedAtEveryDepth() {
        Coroutine main = Coroutine.current();
        int[] limit = {0};
        Coroutine probe = Coroutine.create("probe", () -> {
            try {
                recurseThenClose(0, Integer.MAX_VALUE, null);
            } catch (StackOverflowError e) {
                limit[0] = depthReached;
            }
        });
        probe.switchTo();
        assertThat(limit[0]).isGreaterThan(500);
        List<String> outcomes = new ArrayList<>();
        // the last few hundred frames before the limit and a few past it, one depth at a time
        for (int depth = limit[0] - 300; depth <= limit[0] + 20; depth++) {
            int target = depth;
            List<String> victimLog = new ArrayList<>();
            Coroutine victim = Coroutine.create("victim", () -> {
                try {
                    Coroutine.yield();
                    victimLog.add("resumed");
                } catch (CoroutineExit e) {
                    victimLog.add("unwound");
                }
            });
            victim.switchTo();
            StackOverflowError[] overflow = {null};
            Coroutine closer = Coroutine.create("closer", () -> {
                try {
                    recurseThenClose(0, target, victim);
                } catch (StackOverflowError e) {
                    overflow[0] = e;
                }
                main.switchTo(); // stays suspended, so that only main decides what runs next
            });
            closer.switchTo();
            if (overflow[0] != null && victim.state() == State.SUSPENDED) {
                // the close overflowed before the victim ran: it is not being closed, and runs on as before
                victim.switchTo();
                assertThat(victimLog).as("depth " + depth).containsExactly("resumed");
                assertThat(victim.state()).isEqualTo(State.FINISHED);
                assertThat(Coroutine.current().isMain()).as("depth " + depth + ": who runs after the victim ended")
                        .isTrue();
                outcomes.add("not closed");
            } else {
                assertThat(victim.state()).as("depth " + depth).isEqualTo(State.CLOSED);
                assertThat(victimLog).containsExactly("unwound");
                outcomes.add("closed");
            }
            closer.close();
            assertThat(Coroutine.dump()).startsWith("thread '").contains(": 1 context, current index 0");
        }
        assertThat(outcomes).hasSize(321);
    }
}
