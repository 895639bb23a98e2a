package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Coroutine.State;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
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
    private static Integer recurseThenNext(int n, int target, Generator<Integer> g) {
        depthReached = n;
        if (n < target) {
            return recurseThenNext(n + 1, target, g);
        }
        return g.next();
    }

    /** A generator counting 1, 2, 3, ... without end. */
    private static Generator<Integer> counting() {
        return Generator.of("counting", out -> {
            for (int i = 1; ; i++) {
                out.emit(i);
            }
        });
    }

    /** How deep a coroutine can recurse through {@link #recurseThenNext} now (the JIT makes it deeper as it compiles). */
    private static int nextLimit() {
        int[] limit = {0};
        Coroutine probe = Coroutine.create("probe", () -> {
            try {
                recurseThenNext(0, Integer.MAX_VALUE, null);
            } catch (StackOverflowError e) {
                limit[0] = depthReached;
            }
        });
        probe.switchTo();
        assertThat(limit[0]).isGreaterThan(500);
        return limit[0];
    }

    @Test
    void aGeneratorResumedNearTheConsumersStackEndStaysUsableOrFailsNamingItselfAtEveryDepth() {
        List<String> outcomes = new ArrayList<>();
        // the last few hundred frames before the limit, one depth at a time; a generator
        // first resumed there (NEW), and one resumed there after it had emitted once (SUSPENDED)
        for (boolean started : new boolean[] {false, true}) {
            for (int k = 0; k <= 300; k++) {
                // measured again each time, as the JIT changes it: the depth k frames short of the limit
                int depth = nextLimit() - k;
                int target = depth;
                Generator<Integer> g = counting();
                if (started) {
                    assertThat(g.next()).isEqualTo(1);
                }
                Object[] outcome = {null};
                Coroutine consumer = Coroutine.create("consumer", () -> {
                    try {
                        outcome[0] = recurseThenNext(0, target, g);
                    } catch (StackOverflowError | CoroutineException e) {
                        outcome[0] = e;
                    }
                });
                consumer.switchTo();
                assertThat(consumer.state()).isEqualTo(State.FINISHED);
                String at = (started ? "started" : "new") + " generator, depth " + depth + ", outcome " + outcome[0];
                int first = started ? 2 : 1;
                if (outcome[0] instanceof Integer v) {
                    assertThat(v).as(at).isEqualTo(first);
                    outcomes.add("value");
                    first++;
                } else if (outcome[0] instanceof CoroutineException e) {
                    // the overflow struck inside the body: the generator failed, and says so
                    assertThat(e).as(at).hasMessageStartingWith("generator 'counting' failed: ")
                            .cause().isInstanceOf(StackOverflowError.class);
                    outcomes.add("failed");
                } else {
                    // the consumer's own stack overflowed: before the body ran, on the way back after it
                    // emitted, or while reporting the body's failure
                    assertThat(outcome[0]).as(at).isInstanceOf(StackOverflowError.class);
                    outcomes.add("overflowed");
                }
                if (g.state() == Generator.State.FAILED) {
                    assertThatThrownBy(g::next).as(at).isInstanceOf(NoSuchElementException.class)
                            .hasMessageContaining("generator 'counting'").hasMessageContaining("FAILED");
                } else {
                    // the body did not fail: the generator goes on where it was (a value it emitted before the
                    // overflow struck its consumer is the next one), no value lost or repeated
                    Generator.State was = g.state();
                    assertThat(was).as(at).isIn(Generator.State.NEW, Generator.State.SUSPENDED);
                    Object next;
                    try {
                        next = g.next();
                    } catch (IllegalStateException e) {
                        next = e;
                    }
                    if (next instanceof IllegalStateException e) {
                        // the overflow struck inside the JDK's entry into its stack, which can never run again
                        // (it ended it, or left it marked as running): it says so
                        assertThat(e).as(at).hasMessageStartingWith("cannot run the body of generator 'counting' in"
                                + " main context 'main': an error (such as a stack overflow of its consumer's stack)"
                                + " struck as the JDK entered its stack, and left it unable to run again")
                                .hasMessageEndingWith("; it is FAILED");
                        assertThat(g.state()).as(at).isEqualTo(Generator.State.FAILED);
                        outcomes.set(outcomes.size() - 1, "ended on entry");
                    } else {
                        assertThat(next).as(at).isEqualTo(first);
                        assertThat(g.next()).as(at).isEqualTo(first + 1);
                    }
                }
                g.close();
                assertThat(g.state()).as(at).isIn(Generator.State.CLOSED, Generator.State.FAILED);
                assertThat(Coroutine.dump()).startsWith("thread '").contains(": 1 context, current index 0");
            }
        }
        assertThat(outcomes).hasSize(602);
    }
    @Test
    void aGeneratorWhoseBodyEndsNearTheConsumersStackEndReportsItsEndAtEveryDepth() {
        List<String> outcomes = new ArrayList<>();
        for (int k = 0; k <= 300; k++) {
            int depth = nextLimit() - k;
            Generator<Integer> g = Generator.of("once", out -> out.emit(1));
            assertThat(g.next()).isEqualTo(1);
            Object[] outcome = {null};
            Coroutine consumer = Coroutine.create("consumer", () -> {
                try {
                    outcome[0] = recurseThenNext(0, depth, g);
                } catch (StackOverflowError | NoSuchElementException e) {
                    outcome[0] = e;
                }
            });
            consumer.switchTo();
            String at = "depth " + depth + ", outcome " + outcome[0];
            if (outcome[0] instanceof NoSuchElementException e) {
                assertThat(e).as(at).hasMessageContaining("generator 'once'").hasMessageContaining("FINISHED");
                outcomes.add("ended");
            } else {
                // the consumer's stack overflowed on the way in, or on the way back from the body's end
                assertThat(outcome[0]).as(at).isInstanceOf(StackOverflowError.class);
                outcomes.add("overflowed");
            }
            // however far the body got, the next call says it returned; unless the overflow struck inside
            // the JDK's entry into its stack before the body went on, which leaves that stack unable to
            // run again: then the generator is FAILED, and says so
            assertThat(g.hasNext()).as(at).isFalse();
            assertThat(g.state()).as(at).isIn(Generator.State.FINISHED, Generator.State.FAILED);
            assertThat(Coroutine.dump()).startsWith("thread '").contains(": 1 context, current index 0");
        }
        assertThat(outcomes).hasSize(301);
    }
}
