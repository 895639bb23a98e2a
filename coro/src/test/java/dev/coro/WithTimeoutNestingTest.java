package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A {@code withTimeout} entered after an enclosing one has expired does not hide that expiry: the
 * inner body's first scheduling point unwinds to the enclosing scope; and an enclosing one that
 * expires while an inner body runs is not lost when that body returns before any scheduling point.
 */
@ExtendWith(FreshThread.class)
class WithTimeoutNestingTest {

    private final List<String> log = new ArrayList<>();

    private void note(String what) {
        log.add(what + " at " + Coroutine.nanoTime() / 1_000_000);
    }

    @Test
    void aNestedWithTimeoutEnteredAfterTheOuterExpiredWaitsNotAtAll() {
        VirtualTime.run(() -> assertThatThrownBy(() -> Coroutine.withTimeout(Duration.ofMillis(2), () -> {
            try {
                Coroutine.sleep(Duration.ofMillis(5));
            } catch (CoroutineExit swallowed) {
                note("outer signal swallowed");
            }
            try {
                Coroutine.withTimeout(Duration.ofMillis(3), () -> Coroutine.sleep(Duration.ofMillis(1)));
                note("inner returned");
            } catch (CoroutineExit e) {
                note("inner sleep threw the outer signal");
                throw e;
            }
        })).isInstanceOf(CoroutineTimeoutException.class)
                .hasMessage("main context 'main' timed out: withTimeout(PT0.002S) expired before its body returned"));
        assertThat(log).containsExactly("outer signal swallowed at 2", "inner sleep threw the outer signal at 2");
    }

    /**
     * Two nested scopes of one timeout whose deadlines are equal expire at once, the outer's timer (scheduled
     * first) first, and the outer one's withTimeout throws; an inner scope of that timeout that expires on its
     * own says that it is nested, so that the two messages are told apart (they had been the same).
     */
    @Test
    @org.junit.jupiter.api.Timeout(10)
    void ofTwoNestedWithTimeoutsOfEqualDeadlinesTheOuterThrowsAndAnInnerOneSaysItIsNested() {
        Duration second = Duration.ofSeconds(1);
        List<String> messages = new ArrayList<>();
        VirtualTime.run(() -> {
            try {
                Coroutine.withTimeout(second, () -> {
                    try {
                        Coroutine.withTimeout(second, () -> Coroutine.sleep(Duration.ofSeconds(5)));
                    } catch (CoroutineTimeoutException e) {
                        note("the inner one threw");
                    } catch (CoroutineExit e) {
                        messages.add(e.getMessage());
                        throw e;
                    }
                });
            } catch (CoroutineTimeoutException e) {
                note("the outer one threw");
                messages.add(e.getMessage());
            }
            try {
                Coroutine.withTimeout(Duration.ofSeconds(3), () -> Coroutine.withTimeout(second, () -> {
                    try {
                        Coroutine.sleep(Duration.ofSeconds(5));
                    } catch (CoroutineExit e) {
                        messages.add(e.getMessage());
                        throw e;
                    }
                }));
            } catch (CoroutineTimeoutException e) {
                note("an inner one threw");
                messages.add(e.getMessage());
            }
        });
        assertThat(log).containsExactly("the outer one threw at 1000", "an inner one threw at 2000");
        assertThat(messages).containsExactly(
                "main context 'main': its withTimeout(PT1S) expired; its sleep 5,000.000 ms (t=5,000.000 ms on the"
                        + " virtual clock, 4,000.000 ms left) throws this signal so that the body unwinds to it",
                "main context 'main' timed out: withTimeout(PT1S) expired before its body returned",
                "main context 'main': its withTimeout(PT1S), inside 1 enclosing withTimeout, expired; its sleep 5,000.000 ms"
                        + " (t=6,000.000 ms on the virtual clock, 4,000.000 ms left) throws this signal so that the body"
                        + " unwinds to it",
                "main context 'main' timed out: withTimeout(PT1S), inside 1 enclosing withTimeout, expired before its"
                        + " body returned");
    }

    /**
     * Three scopes deep. Of three equal deadlines the outermost's signal comes, to a body that catches
     * everything and waits again (interrupted again at once by the same scope), returns a value from its
     * {@code finally} and lets the middle body reach a scheduling point: the outermost throws there, the two
     * inner ones never. An innermost scope expiring alone inside a {@code tryWithTimeout} and a
     * {@code withTimeout} says it has 2 enclosing scopes, both calls counted; the try form's own expiry then
     * gives {@code false}, and the outer body goes on.
     */
    @Test
    @org.junit.jupiter.api.Timeout(10)
    void ofThreeNestedScopesTheOutermostOfEqualDeadlinesThrowsAndAnInnermostExpiringAloneCountsTwoEnclosing() {
        Duration second = Duration.ofSeconds(1);
        List<String> messages = new ArrayList<>();
        VirtualTime.run(() -> {
            try {
                Coroutine.withTimeout(second, () -> {
                    try {
                        Coroutine.withTimeout(second, () -> {
                            int v = Coroutine.withTimeout(second, () -> {
                                try {
                                    Coroutine.sleep(Duration.ofSeconds(5));
                                } catch (Throwable t) {
                                    messages.add(t.getMessage());
                                    try {
                                        Coroutine.sleep(Duration.ofMillis(1));
                                    } catch (Throwable again) {
                                        messages.add(again.getMessage());
                                    }
                                } finally {
                                    return 7;
                                }
                            });
                            note("the innermost returned " + v);
                            Coroutine.yield();
                            note("the middle body went on");
                        });
                    } catch (CoroutineTimeoutException e) {
                        note("the middle one threw");
                    }
                });
            } catch (CoroutineTimeoutException e) {
                note("the outermost threw");
                messages.add(e.getMessage());
            }
            boolean inTime = Coroutine.withTimeout(Duration.ofSeconds(5), () -> Coroutine.tryWithTimeout(Duration.ofSeconds(2),
                    () -> {
                        try {
                            Coroutine.withTimeout(second, () -> Coroutine.sleep(Duration.ofSeconds(5)));
                        } catch (CoroutineTimeoutException e) {
                            note("the innermost threw");
                            messages.add(e.getMessage());
                        }
                        Coroutine.sleep(Duration.ofSeconds(5));
                    }));
            note("the try form gave " + inTime);
        });
        assertThat(log).containsExactly("the innermost returned 7 at 1000", "the outermost threw at 1000",
                "the innermost threw at 2000", "the try form gave false at 3000");
        assertThat(messages).containsExactly(
                "main context 'main': its withTimeout(PT1S) expired; its sleep 5,000.000 ms (t=5,000.000 ms on the"
                        + " virtual clock, 4,000.000 ms left) throws this signal so that the body unwinds to it",
                "main context 'main': its withTimeout(PT1S) expired; its sleep 1.000 ms (t=1,001.000 ms on the virtual"
                        + " clock, 1.000 ms left) throws this signal so that the body unwinds to it",
                "main context 'main' timed out: withTimeout(PT1S) expired before its body returned",
                "main context 'main' timed out: withTimeout(PT1S), inside 2 enclosing withTimeouts, expired before its"
                        + " body returned");
    }

    @Test
    void aZeroWithTimeoutEnteredAfterTheOuterExpiredThrowsTheOuterSignalNotItsOwnTimeout() {
        VirtualTime.run(() -> assertThatThrownBy(() -> Coroutine.withTimeout(Duration.ofMillis(2), () -> {
            try {
                Coroutine.sleep(Duration.ofMillis(5));
            } catch (CoroutineExit swallowed) {
                note("outer signal swallowed");
            }
            try {
                Coroutine.withTimeout(Duration.ZERO, () -> note("inner body ran"));
            } catch (CoroutineExit e) {
                note("the zero timeout threw the outer signal: " + e.getMessage());
                throw e;
            }
        })).isInstanceOf(CoroutineTimeoutException.class)
                .hasMessage("main context 'main' timed out: withTimeout(PT0.002S) expired before its body returned"));
        assertThat(log).containsExactly("outer signal swallowed at 2", "the zero timeout threw the outer signal: main context 'main':"
                + " its withTimeout(PT0.002S) expired; its withTimeout throws this signal so that the body unwinds to it at 2");
    }

    @Test
    void aFinallyBlockOfAnExpiredBodyThatWaitsInANestedWithTimeoutIsInterruptedAtOnce() {
        VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("ch", 0);
            Coroutine c = Coroutine.create("worker", () -> assertThatThrownBy(() ->
                    Coroutine.withTimeout(Duration.ofMillis(2), () -> {
                        try {
                            ch.receive();
                        } finally {
                            try {
                                Coroutine.withTimeout(Duration.ofMillis(10), () -> ch.send(1));
                            } catch (CoroutineExit e) {
                                note("cleanup send interrupted");
                                throw e;
                            }
                        }
                    })).isInstanceOf(CoroutineTimeoutException.class)
                    .hasMessage("coroutine 'worker' timed out: withTimeout(PT0.002S) expired before its body returned"));
            Coroutine.sleep(Duration.ofMillis(20));
            assertThat(c.state()).isEqualTo(Coroutine.State.FINISHED);
        });
        assertThat(log).containsExactly("cleanup send interrupted at 2");
    }

    @Test
    void anOuterTimeoutSwallowedInsideAnInnerBodyStillUnwindsTheOuterBodyOnceTheInnerScopeEnds() {
        VirtualTime.run(() -> assertThatThrownBy(() -> Coroutine.withTimeout(Duration.ofMillis(2), () -> {
            Coroutine.withTimeout(Duration.ofHours(1), () -> {
                try {
                    Coroutine.sleep(Duration.ofMillis(5));
                } catch (CoroutineExit swallowed) {
                    note("outer signal swallowed in the inner body");
                }
            });
            note("inner scope ended");
            Coroutine.sleep(Duration.ofMillis(1));
            note("outer body not interrupted");
        })).isInstanceOf(CoroutineTimeoutException.class)
                .hasMessage("main context 'main' timed out: withTimeout(PT0.002S) expired before its body returned"));
        assertThat(log).containsExactly("outer signal swallowed in the inner body at 2", "inner scope ended at 2");
    }
    /**
     * An outer expiry that unwinds through an inner {@code withTimeout} (its body threw the signal, so the
     * inner scope ends by its clean-up, not by a return) stays the outer scope's: the outer body that
     * catches the signal as it comes out of the inner {@code withTimeout} is interrupted again at its next
     * scheduling point.
     */
    @Test
    void anOuterSignalCaughtAsItLeavesAnInnerWithTimeoutIsThrownAgainAtTheOuterBodysNextSchedulingPoint() {
        VirtualTime.run(() -> assertThatThrownBy(() -> Coroutine.withTimeout(Duration.ofMillis(2), () -> {
            try {
                Coroutine.withTimeout(Duration.ofHours(1), () -> Coroutine.sleep(Duration.ofMillis(5)));
            } catch (CoroutineExit caught) {
                note("outer signal caught out of the inner scope");
            }
            Coroutine.sleep(Duration.ofMillis(1));
            note("outer body not interrupted");
        })).isInstanceOf(CoroutineTimeoutException.class)
                .hasMessage("main context 'main' timed out: withTimeout(PT0.002S) expired before its body returned"));
        assertThat(log).containsExactly("outer signal caught out of the inner scope at 2");
    }

    @Test
    void nestedTimeoutsDueAtTheSameInstantUnwindToTheOutermostEvenWhenTheSignalIsSwallowedInside() {
        VirtualTime.run(() -> {
            assertThatThrownBy(() -> Coroutine.withTimeout(Duration.ofMillis(4), () -> {
                Coroutine.sleep(Duration.ofMillis(1));
                Coroutine.withTimeout(Duration.ofMillis(3), () -> {
                    Coroutine.sleep(Duration.ofMillis(1));
                    Coroutine.withTimeout(Duration.ofMillis(2), () -> {
                        try {
                            Coroutine.sleep(Duration.ofMillis(9));
                        } catch (CoroutineExit swallowed) {
                            note("signal swallowed");
                        }
                        Coroutine.yield(); // the next scheduling point throws the outermost expired scope's signal
                        note("yield returned");
                    });
                    note("middle body returned");
                });
                note("outer body returned");
            })).isInstanceOf(CoroutineTimeoutException.class)
                    .hasMessage("main context 'main' timed out: withTimeout(PT0.004S) expired before its body returned");
            note("outer threw");
        });
        assertThat(log).containsExactly("signal swallowed at 4", "outer threw at 4");
    }
}
