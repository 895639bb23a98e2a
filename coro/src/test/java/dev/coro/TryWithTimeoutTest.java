package dev.coro;

import static dev.coro.SchedulerClock.ms;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link Coroutine#tryWithTimeout} is {@link Coroutine#withTimeout} that reports its own expiry in its result
 * (empty, or false) instead of throwing {@link CoroutineTimeoutException}; every other outcome is withTimeout's.
 * {@link Coroutine#tryCallWithTimeout} is the same for bodies that throw checked exceptions (a connection's read:
 * {@code IoTimeoutTest}). Its nothing-lost tests are beside withTimeout's, in {@link WithTimeoutTest}.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
class TryWithTimeoutTest {

    private final List<String> log = new ArrayList<>();

    private static final Duration ONE_SECOND = Duration.ofSeconds(1);

    @Test
    void aBodyThatReturnsInTimeGivesItsValueOrTrueAndLeavesNoTimerAndANullValueIsEmpty() {
        VirtualTime.run(() -> {
            log.add("value " + Coroutine.tryWithTimeout(ONE_SECOND, () -> {
                Coroutine.sleep(Duration.ofMillis(500));
                return 7;
            }));
            log.add("null value " + Coroutine.tryWithTimeout(ONE_SECOND, () -> null));
            log.add("returned " + Coroutine.tryWithTimeout(ONE_SECOND, () -> {
                Coroutine.sleep(Duration.ofMillis(500));
            }));
            assertThatThrownBy(() -> new Channel<Integer>("idle", 0).receive()).as("no timer left")
                    .isInstanceOf(DeadlockException.class);
            log.add("at " + ms());
        });
        assertThat(log).containsExactly("value Optional[7]", "null value Optional.empty", "returned true", "at 1000");
    }

    @Test
    void itsOwnExpiryUnwindsTheBodyThroughItsFinallyAndGivesEmptyOrFalseTheInterruptedReceiveHavingTakenNothing() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        VirtualTime.run(() -> {
            Optional<Integer> v = Coroutine.tryWithTimeout(ONE_SECOND, () -> {
                try {
                    return ch.receive();
                } finally {
                    log.add("finally at " + ms());
                }
            });
            log.add("value " + v + " at " + ms());
            boolean returned = Coroutine.tryWithTimeout(ONE_SECOND, () -> {
                try {
                    ch.send(5);
                } finally {
                    log.add("finally at " + ms());
                }
            });
            log.add("returned " + returned + " at " + ms());
        });
        assertThat(log).containsExactly("finally at 1000", "value Optional.empty at 1000", "finally at 2000",
                "returned false at 2000");
        assertThat(ch.trySend(1)).as("no receiver left in the queue").isFalse();
        assertThat(ch.tryReceive()).as("no sender left in the queue").isEmpty();
    }

    /**
     * What the body's unwinding throws at the try form's own expiry: a {@code finally} that throws replaces the signal,
     * as in any Java code, and comes out as it is; a resource's close that throws is suppressed in the signal, as
     * try-with-resources suppresses it in what unwinds it, and goes with the signal the try form swallows, where
     * {@code withTimeout} hands it on in its {@code CoroutineTimeoutException}'s cause (TIME.md says to use that form
     * where such a failure matters).
     */
    @Test
    void aFinallyThatThrowsAtItsExpiryComesOutAndAResourceCloseFailureGoesWithTheSwallowedSignal() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        IllegalStateException thrown = new IllegalStateException("finally threw");
        IllegalStateException closing = new IllegalStateException("close failed");
        VirtualTime.run(() -> {
            assertThat(catchThrowable(() -> Coroutine.tryWithTimeout(ONE_SECOND, () -> {
                try {
                    return ch.receive();
                } finally {
                    throw thrown;
                }
            }))).isSameAs(thrown);
            AutoCloseable resource = () -> {
                throw closing;
            };
            Optional<Integer> v = Coroutine.tryWithTimeout(ONE_SECOND, () -> {
                try (AutoCloseable r = resource) {
                    return ch.receive();
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            assertThat(v).isEmpty();
            Throwable timedOut = catchThrowable(() -> Coroutine.withTimeout(ONE_SECOND, () -> {
                try (AutoCloseable r = resource) {
                    return ch.receive();
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }));
            assertThat(timedOut).isInstanceOf(CoroutineTimeoutException.class);
            assertThat(timedOut.getCause().getSuppressed()).containsExactly(closing);
        });
    }

    @Test
    void inACoroutineItsExpiryInterruptsAYieldLoopAtItsNextYield() {
        VirtualTime.run(() -> Coroutine.create("spinner", () -> {
            int[] yields = new int[1];
            Optional<Object> gave = Coroutine.tryWithTimeout(ONE_SECOND, () -> { // a body that never returns takes the Supplier form
                while (true) {
                    Coroutine.yield();
                    yields[0]++;
                }
            });
            log.add("gave " + gave + " at " + ms() + " after " + yields[0] + " yields");
        }));
        assertThat(log).containsExactly("gave Optional.empty at 1000 after 0 yields");
    }

    @Test
    void aZeroTimeoutGivesEmptyOrFalseAtOnceWithoutRunningTheBody() {
        assertThat(Coroutine.tryWithTimeout(Duration.ZERO, () -> log.add("body ran"))).isEmpty();
        assertThat(Coroutine.tryWithTimeout(Duration.ZERO, () -> {
            log.add("body ran");
        })).isFalse();
        assertThat(log).isEmpty();
    }

    @Test
    void aZeroTryWithTimeoutInsideAnExpiredScopeThrowsThatScopesSignal() {
        VirtualTime.run(() -> {
            Throwable e = catchThrowable(() -> Coroutine.withTimeout(ONE_SECOND, () -> {
                try {
                    Coroutine.sleep(Duration.ofHours(1));
                } finally {
                    try {
                        Coroutine.tryWithTimeout(Duration.ZERO, () -> {
                            log.add("body ran");
                        });
                    } catch (CoroutineExit signal) {
                        log.add(signal.getMessage());
                    }
                }
            }));
            assertThat(e).isInstanceOf(CoroutineTimeoutException.class)
                    .hasMessage("main context 'main' timed out: withTimeout(PT1S) expired before its body returned");
        });
        assertThat(log).containsExactly("main context 'main': its withTimeout(PT1S) expired; its tryWithTimeout throws"
                + " this signal so that the body unwinds to it");
    }

    @Test
    void aNegativeTimeoutAndNullArgumentsAreRefusedWithoutRunningTheBody() {
        Coroutine.current(); // the thread has a scheduler: the refusal names its main (one without is named as a thread, ThreadConfinementTest)
        String negative = "main context 'main' (state RUNNING) cannot tryWithTimeout with timeout PT-1S:"
                + " a timeout must be zero or positive";
        assertThatThrownBy(() -> Coroutine.tryWithTimeout(Duration.ofSeconds(-1), () -> log.add("body ran")))
                .isExactlyInstanceOf(IllegalArgumentException.class).hasMessage(negative);
        assertThatThrownBy(() -> Coroutine.tryWithTimeout(Duration.ofSeconds(-1), () -> {
            log.add("body ran");
        })).isExactlyInstanceOf(IllegalArgumentException.class).hasMessage(negative);
        assertThatThrownBy(() -> Coroutine.tryWithTimeout(null, () -> log.add("body ran")))
                .isExactlyInstanceOf(NullPointerException.class).hasMessage("d");
        assertThatThrownBy(() -> Coroutine.tryWithTimeout(null, () -> {
            log.add("body ran");
        })).isExactlyInstanceOf(NullPointerException.class).hasMessage("d");
        assertThatThrownBy(() -> Coroutine.tryWithTimeout(ONE_SECOND, (Runnable) null))
                .isExactlyInstanceOf(NullPointerException.class).hasMessage("body");
        assertThatThrownBy(() -> Coroutine.tryWithTimeout(ONE_SECOND, (Supplier<Object>) null))
                .isExactlyInstanceOf(NullPointerException.class).hasMessage("body");
        assertThat(log).isEmpty();
    }

    /**
     * {@code tryCallWithTimeout}, the form for bodies that throw checked exceptions: a value in time, empty (or
     * false) at its own expiry with the body unwound and the interrupted receive having taken nothing (the value
     * sent later is the next receive's), a null value empty.
     */
    @Test
    void theCheckedFormsGiveTheValueOrEmptyAndTheirExpiryUnwindsTheBodyTheInterruptedReceiveHavingTakenNothing() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        VirtualTime.run(() -> {
            Coroutine.create("sender", () -> {
                Coroutine.sleep(Duration.ofSeconds(3));
                ch.send(42);
            });
            log.add("value " + Coroutine.tryCallWithTimeout(ONE_SECOND, () -> 7));
            log.add("null " + Coroutine.tryCallWithTimeout(ONE_SECOND, () -> null));
            Optional<Integer> v = Coroutine.tryCallWithTimeout(ONE_SECOND, () -> {
                try {
                    return ch.receive();
                } finally {
                    log.add("finally at " + ms());
                }
            });
            log.add("receive " + v + " at " + ms());
            log.add("returned " + Coroutine.tryCallWithTimeout(ONE_SECOND, () -> {
                ch.receive();
            }) + " at " + ms());
            log.add("then received " + ch.receive() + " at " + ms());
        });
        assertThat(log).containsExactly("value Optional[7]", "null Optional.empty", "finally at 1000",
                "receive Optional.empty at 1000", "returned false at 2000", "then received 42 at 3000");
    }

    /** What the body of a checked form throws, a checked exception included, comes out as it is, not as empty. */
    @Test
    void aCheckedExceptionTheBodyOfACheckedFormThrowsComesOutAsItIs() {
        java.io.IOException failure = new java.io.IOException("disk gone");
        assertThat(catchThrowable(() -> Coroutine.tryCallWithTimeout(ONE_SECOND, () -> {
            if (failure != null) {
                throw failure;
            }
            return 1;
        }))).isSameAs(failure);
        assertThat(catchThrowable(() -> Coroutine.tryCallWithTimeout(ONE_SECOND, () -> {
            throw failure;
        }))).isSameAs(failure);
    }

    @Test
    void theCheckedFormsGiveEmptyOrFalseForAZeroTimeoutAndRefuseANegativeOneAndNullsWithoutRunningTheBody() throws Exception {
        assertThat(Coroutine.tryCallWithTimeout(Duration.ZERO, () -> log.add("body ran"))).isEmpty();
        assertThat(Coroutine.tryCallWithTimeout(Duration.ZERO, () -> {
            log.add("body ran");
        })).isFalse();
        String negative = "main context 'main' (state RUNNING) cannot tryWithTimeout with timeout PT-1S:"
                + " a timeout must be zero or positive";
        assertThatThrownBy(() -> Coroutine.tryCallWithTimeout(Duration.ofSeconds(-1), () -> log.add("body ran")))
                .isExactlyInstanceOf(IllegalArgumentException.class).hasMessage(negative);
        assertThatThrownBy(() -> Coroutine.tryCallWithTimeout(Duration.ofSeconds(-1), () -> {
            log.add("body ran");
        })).isExactlyInstanceOf(IllegalArgumentException.class).hasMessage(negative);
        assertThatThrownBy(() -> Coroutine.tryCallWithTimeout(null, () -> log.add("body ran")))
                .isExactlyInstanceOf(NullPointerException.class).hasMessage("d");
        assertThatThrownBy(() -> Coroutine.tryCallWithTimeout(ONE_SECOND, (ThrowingRunnable<RuntimeException>) null))
                .isExactlyInstanceOf(NullPointerException.class).hasMessage("body");
        assertThatThrownBy(() -> Coroutine.tryCallWithTimeout(ONE_SECOND, (ThrowingSupplier<Object, RuntimeException>) null))
                .isExactlyInstanceOf(NullPointerException.class).hasMessage("body");
        assertThat(log).isEmpty();
    }

    /** The timeout of an inner withTimeout that the body lets out is not this call's expiry: it comes out as it is. */
    @Test
    void anInnerWithTimeoutsExceptionTheBodyLetsOutComesOutAsItIsNotAsEmpty() {
        VirtualTime.run(() -> {
            CoroutineTimeoutException[] inner = new CoroutineTimeoutException[1];
            Throwable e = catchThrowable(() -> Coroutine.tryWithTimeout(Duration.ofSeconds(10), () -> {
                try {
                    return Coroutine.withTimeout(ONE_SECOND, () -> new Channel<Integer>("never", 0).receive());
                } catch (CoroutineTimeoutException t) {
                    inner[0] = t;
                    throw t;
                }
            }));
            assertThat(e).isSameAs(inner[0]).hasMessage("main context 'main' timed out: withTimeout(PT1S), inside 1"
                    + " enclosing withTimeout, expired before its body returned");
            Throwable r = catchThrowable(() -> Coroutine.tryWithTimeout(Duration.ofSeconds(10), () -> {
                Coroutine.withTimeout(ONE_SECOND, () -> Coroutine.sleep(Duration.ofHours(1)));
            }));
            assertThat(r).isInstanceOf(CoroutineTimeoutException.class).hasMessage("main context 'main' timed out:"
                    + " withTimeout(PT1S), inside 1 enclosing withTimeout, expired before its body returned");
            log.add("at " + ms());
        });
        assertThat(log).containsExactly("at 2000");
    }

    /** An inner withTimeout whose exception the body catches expires alone: the try form's body goes on and returns. */
    @Test
    void anInnerWithTimeoutExpiresAloneAndTheBodyOfTheTryFormGoesOnAndReturns() {
        VirtualTime.run(() -> log.add(Coroutine.tryWithTimeout(Duration.ofSeconds(10), () -> {
            try {
                Coroutine.withTimeout(ONE_SECOND, () -> Coroutine.sleep(Duration.ofHours(1)));
            } catch (CoroutineTimeoutException e) {
                log.add("inner timed out at " + ms() + " after " + e.timeout());
            }
            Coroutine.sleep(ONE_SECOND);
            return "returns at " + ms();
        }).orElse("empty")));
        assertThat(log).containsExactly("inner timed out at 1000 after PT1S", "returns at 2000");
    }

    /** An outer withTimeout expiring inside the try form unwinds through it as a signal, never swallowed into an empty result. */
    @Test
    void anOuterWithTimeoutExpiringInsideItUnwindsThroughItAndIsNeverSwallowed() {
        VirtualTime.run(() -> {
            CoroutineExit[] inBody = new CoroutineExit[1];
            CoroutineExit[] outOfTry = new CoroutineExit[1];
            Throwable e = catchThrowable(() -> Coroutine.withTimeout(ONE_SECOND, () -> {
                try {
                    log.add("inner gave " + Coroutine.tryWithTimeout(Duration.ofSeconds(10), () -> {
                        try {
                            Coroutine.sleep(Duration.ofHours(1));
                        } catch (CoroutineExit signal) {
                            inBody[0] = signal;
                            throw signal;
                        } finally {
                            log.add("inner finally at " + ms());
                        }
                    }));
                } catch (CoroutineExit signal) {
                    outOfTry[0] = signal;
                    throw signal;
                }
                log.add("outer body goes on");
            }));
            assertThat(e).isInstanceOf(CoroutineTimeoutException.class)
                    .hasMessage("main context 'main' timed out: withTimeout(PT1S) expired before its body returned");
            assertThat(outOfTry[0]).as("the outer scope's signal, passed on as it is").isSameAs(inBody[0]).isSameAs(e.getCause())
                    .hasMessage("main context 'main': its withTimeout(PT1S) expired; its sleep 3,600,000.000 ms"
                            + " (t=3,600,000.000 ms on the virtual clock, 3,599,000.000 ms left) throws this signal so that"
                            + " the body unwinds to it");
        });
        assertThat(log).containsExactly("inner finally at 1000");
    }

    /**
     * An outer expiry that the try form's body swallows is not lost: the body's return gives its value, and
     * the outer body's next scheduling point unwinds it to the outer withTimeout.
     */
    @Test
    void anOuterExpirySwallowedInItsBodyStillUnwindsTheOuterBodyOnceTheTryFormReturns() {
        VirtualTime.run(() -> {
            Throwable e = catchThrowable(() -> Coroutine.withTimeout(Duration.ofMillis(2), () -> {
                log.add("inner gave " + Coroutine.tryWithTimeout(Duration.ofHours(1), () -> {
                    try {
                        Coroutine.sleep(Duration.ofMillis(5));
                    } catch (CoroutineExit swallowed) {
                        log.add("outer signal swallowed at " + ms());
                    }
                    return "value";
                }));
                Coroutine.sleep(Duration.ofMillis(1));
                log.add("outer body not interrupted");
            }));
            assertThat(e).isInstanceOf(CoroutineTimeoutException.class)
                    .hasMessage("main context 'main' timed out: withTimeout(PT0.002S) expired before its body returned");
        });
        assertThat(log).containsExactly("outer signal swallowed at 2", "inner gave Optional[value]");
    }

    @Test
    void whenAnOuterWithTimeoutAndTheTryFormExpireAtOnceTheOuterOneWins() {
        VirtualTime.run(() -> {
            Throwable e = catchThrowable(() -> Coroutine.withTimeout(ONE_SECOND, () -> {
                log.add("inner returned " + Coroutine.tryWithTimeout(ONE_SECOND, () -> {
                    Coroutine.sleep(Duration.ofHours(1));
                }));
            }));
            assertThat(e).isInstanceOf(CoroutineTimeoutException.class)
                    .hasMessage("main context 'main' timed out: withTimeout(PT1S) expired before its body returned");
            log.add("outer timed out at " + ms());
        });
        assertThat(log).containsExactly("outer timed out at 1000");
    }

    /** The other way round: the try form's expiry unwinds through an inner withTimeout, which never swallows it. */
    @Test
    void itsExpiryInsideAnInnerWithTimeoutUnwindsThroughItNamingTheTryFormAndGivesEmpty() {
        VirtualTime.run(() -> log.add("gave " + Coroutine.tryWithTimeout(ONE_SECOND, () -> {
            try {
                Coroutine.withTimeout(Duration.ofSeconds(10), () -> {
                    try {
                        Coroutine.sleep(Duration.ofHours(1));
                    } catch (CoroutineExit signal) {
                        log.add(signal.getMessage());
                        throw signal;
                    }
                });
            } catch (CoroutineTimeoutException inner) {
                log.add("inner caught " + inner.timeout());
            }
            log.add("outer body goes on");
            return "value";
        }) + " at " + ms()));
        assertThat(log).containsExactly("main context 'main': its tryWithTimeout(PT1S) expired; its sleep 3,600,000.000 ms"
                + " (t=3,600,000.000 ms on the virtual clock, 3,599,000.000 ms left) throws this signal so that the body"
                + " unwinds to it", "gave Optional.empty at 1000");
    }

    /** Two try forms nested: each expires on its own, an outer one's expiry unwinds through the inner one to the outer. */
    @Test
    void nestedTryFormsEachGiveOnlyTheirOwnExpiry() {
        VirtualTime.run(() -> {
            log.add("outer gave " + Coroutine.tryWithTimeout(Duration.ofSeconds(3), () -> {
                log.add("inner gave " + Coroutine.tryWithTimeout(ONE_SECOND, () -> Coroutine.sleep(Duration.ofHours(1)))
                        + " at " + ms());
                log.add("inner gave " + Coroutine.tryWithTimeout(Duration.ofSeconds(10), () -> {
                    Coroutine.sleep(Duration.ofHours(1));
                }) + " at " + ms());
                return "not reached";
            }) + " at " + ms());
        });
        assertThat(log).containsExactly("inner gave false at 1000", "outer gave Optional.empty at 3000");
    }

    @Test
    void aCloseOfTheCoroutineUnwindsThroughItAndTheCoroutineEndsClosed() {
        VirtualTime.run(() -> {
            Coroutine c = Coroutine.create("worker", () -> {
                try {
                    log.add("returned " + Coroutine.tryWithTimeout(ONE_SECOND, () -> {
                        try {
                            Coroutine.sleep(Duration.ofHours(1));
                        } finally {
                            log.add("body finally at " + ms());
                        }
                    }));
                } catch (CoroutineExit e) {
                    log.add(e.getMessage());
                    throw e;
                }
            });
            Coroutine.sleep(Duration.ofMillis(500));
            c.close();
            assertThat(c.state()).isEqualTo(State.CLOSED);
            Coroutine.sleep(ONE_SECOND); // its timer, cancelled, expires to no effect
        });
        assertThat(log).containsExactly("body finally at 500", "coroutine 'worker' is being closed: its sleep 3,600,000.000 ms"
                + " (t=3,600,000.000 ms on the virtual clock, 3,599,500.000 ms left) throws this signal so that it unwinds"
                + " (state RUNNING, closing)");
    }

    @Test
    void onAPoolThreadItExpiresOnTheThreadsRealClockAndGivesAValueInTime() {
        CoroutinePool pool = CoroutinePool.start(1);
        try {
            CompletableFuture<Optional<String>> timed = pool.submit("timed", () -> Coroutine.tryWithTimeout(
                    Duration.ofMillis(5), () -> new Channel<String>("never", 0).receive()));
            CompletableFuture<Boolean> inTime = pool.submit("in time", () -> Coroutine.tryWithTimeout(
                    Duration.ofSeconds(30), () -> Coroutine.sleep(Duration.ofMillis(1))));
            assertThat(timed.join()).isEmpty();
            assertThat(inTime.join()).isTrue();
        } finally {
            PoolsClosed.close(pool);
        }
    }
}
