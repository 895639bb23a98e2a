package dev.coro;

import static dev.coro.SchedulerClock.ms;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A generator's body and time: the sleeps and {@code withTimeout}s of a body belong to the body, and
 * a timeout the body opened never reaches its consumer once the body has handed control back.
 */
@ExtendWith(FreshThread.class)
class GeneratorTimeTest {

    private final List<String> log = new ArrayList<>();

    private void note(String what) {
        log.add(what + " at " + ms());
    }

    /**
     * A body's receive that was handed a value before its consumer's {@code withTimeout} expired keeps
     * it, and the timeout's signal comes at the consumer's next scheduling point: the body's emit of
     * the value is no such point, so the consumer gets the value, which is neither lost nor left in
     * the channel. (On the real clock: a value handed over, then the deadline passes before the
     * consumer runs again.)
     */
    @Test
    void aValueTheBodyReceivedBeforeItsConsumersTimeoutExpiredReachesTheConsumer() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        List<Integer> received = new ArrayList<>();
        Generator<Integer> relay;
        Coroutine consumer;
        do { // a thread stalled 25 ms before the consumer parked lets it time out first, unwinding the body: then again
            log.clear();
            Generator<Integer> fresh = Generator.of("relay", out -> {
                while (true) {
                    out.emit(ch.receive());
                }
            });
            relay = fresh;
            consumer = Coroutine.create("consumer", () -> {
                try {
                    Coroutine.withTimeout(Duration.ofMillis(25), () -> {
                        received.add(fresh.next());
                        Coroutine.yield();
                        log.add("not reached");
                    });
                } catch (CoroutineTimeoutException e) {
                    log.add("consumer timed out");
                }
            });
            Coroutine.yield();
        } while (consumer.state() != Coroutine.State.PARKED);
        assertThat(ch.trySend(7)).as("handed to the body's receive").isTrue();
        assertThat(consumer.state()).as("handed the value, not yet run").isEqualTo(Coroutine.State.SUSPENDED);
        passRealTime(Duration.ofMillis(25).plusNanos(EventLoop.TICK_NANOS)); // its deadline (rounded up to the tick) passes before it runs again
        Coroutine.yield();
        assertThat(log).containsExactly("consumer timed out");
        assertThat(received).as("the value the send delivered is received, once").containsExactly(7);
        assertThat(ch.tryReceive()).isEmpty();
        relay.close();
    }

    /**
     * The same for a read-ahead body: the value its receive kept is emitted into the batch, the
     * signal unwinds the body at its next receive, and the value stays the consumer's, as every value
     * a read-ahead body emitted before its consumer's timeout does.
     */
    @Test
    void aValueAReadAheadBodyReceivedBeforeItsConsumersTimeoutExpiredReachesTheConsumer() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        List<Integer> received = new ArrayList<>();
        Generator<Integer> relay;
        Coroutine consumer;
        do { // a thread stalled 25 ms before the consumer parked lets it time out first, unwinding the body: then again
            log.clear();
            Generator<Integer> fresh = Generator.buffered("relay", 4, out -> {
                while (true) {
                    out.emit(ch.receive());
                }
            });
            relay = fresh;
            consumer = Coroutine.create("consumer", () -> {
                try {
                    Coroutine.withTimeout(Duration.ofMillis(25), () -> {
                        received.add(fresh.next());
                        log.add("not reached");
                    });
                } catch (CoroutineTimeoutException e) {
                    log.add("consumer timed out");
                }
            });
            Coroutine.yield();
        } while (consumer.state() != Coroutine.State.PARKED);
        assertThat(ch.trySend(7)).as("handed to the body's receive").isTrue();
        passRealTime(Duration.ofMillis(25).plusNanos(EventLoop.TICK_NANOS)); // its deadline (rounded up to the tick) passes before it runs again
        Coroutine.yield();
        assertThat(log).containsExactly("consumer timed out");
        assertThat(ch.tryReceive()).isEmpty();
        relay.forEachRemaining(received::add);
        assertThat(received).as("the value the send delivered is received, once").containsExactly(7);
        assertThat(relay.state()).isEqualTo(Generator.State.CLOSED);
    }

    /** Lets at least {@code d} pass on the real clock without reaching a scheduling point. */
    private static void passRealTime(Duration d) {
        long end = System.nanoTime() + d.toNanos();
        while (System.nanoTime() - end <= 0) {
            Thread.onSpinWait();
        }
    }

    @Test
    void anEmitInsideAWithTimeoutOfItsOwnBodyIsRefusedAndTheConsumersLaterSleepIsNotInterrupted() {
        VirtualTime.run(() -> {
            Generator<Integer> g = Generator.of("g", out -> Coroutine.withTimeout(Duration.ofSeconds(1), () -> {
                out.emit(1);
                out.emit(2);
            }));
            Throwable t = catchThrowable(g::next);
            assertThat(t).isInstanceOf(CoroutineException.class).cause().isInstanceOf(IllegalStateException.class)
                    .hasMessage("main context 'main' cannot emit from generator 'g' (RUNNING): it is inside a"
                            + " withTimeout(PT1S) that its own body opened; a body cannot suspend inside its own"
                            + " withTimeout (its timer would run on against the consumer): emit after it returns");
            assertThat(g.state()).isEqualTo(Generator.State.FAILED);
            Coroutine.sleep(Duration.ofSeconds(5));
            note("main slept");
        });
        assertThat(log).containsExactly("main slept at 5000");
    }

    @Test
    void aCoroutineConsumingAGeneratorThatEmitsInsideItsOwnWithTimeoutIsNotClosedByThatTimeout() {
        VirtualTime.run(() -> {
            Coroutine c = Coroutine.create("consumer", () -> {
                Generator<Integer> g = Generator.of("g", out -> Coroutine.withTimeout(Duration.ofSeconds(1), () -> {
                    out.emit(1);
                }));
                try {
                    note("took " + g.next());
                } catch (CoroutineException e) {
                    note("refused");
                }
                Coroutine.sleep(Duration.ofSeconds(5));
                note("consumer slept");
            });
            while (!c.isFinished()) {
                Coroutine.yield();
            }
            assertThat(c.state()).isEqualTo(Coroutine.State.FINISHED);
        });
        assertThat(log).containsExactly("refused at 0", "consumer slept at 5000");
    }

    @Test
    void aWithTimeoutThatEndsBetweenTwoEmitsTimesTheBodyOnly() {
        VirtualTime.run(() -> {
            Generator<String> g = Generator.of("g", out -> {
                for (int i = 0; i < 2; i++) {
                    String what;
                    try {
                        what = Coroutine.withTimeout(Duration.ofSeconds(1), () -> {
                            Coroutine.sleep(Duration.ofMillis(600));
                            return "in time";
                        });
                    } catch (CoroutineTimeoutException e) {
                        what = "timed out";
                    }
                    out.emit(what + " at " + ms());
                }
            });
            assertThat(g.next()).isEqualTo("in time at 600");
            Coroutine.sleep(Duration.ofSeconds(5)); // the body's timer of the first round was cancelled
            assertThat(g.next()).isEqualTo("in time at 6200");
            assertThat(g.hasNext()).isFalse();
            note("main done");
        });
        assertThat(log).containsExactly("main done at 6200");
    }

    @Test
    @Timeout(10)
    void theSignalOfAWithTimeoutItHasLeftThatABodyThrowsAgainIsItsFailureNotItsConsumersSignal() {
        Channel<Integer> never = new Channel<>("never", 0);
        VirtualTime.run(() -> {
            Generator<Integer> g = Generator.of("rethrows", out -> {
                try {
                    Coroutine.withTimeout(Duration.ofMillis(10), () -> never.receive());
                } catch (CoroutineTimeoutException e) {
                    throw (CoroutineExit) e.getCause(); // its scope is left: the signal unwinds nothing now
                }
            });
            Throwable t = catchThrowable(g::hasNext);
            assertThat(t).isInstanceOf(CoroutineException.class)
                    .hasMessage("generator 'rethrows' failed: dev.coro.CoroutineExit: main context 'main': its"
                            + " withTimeout(PT0.01S) expired; its receive from channel 'never', inside generator 'rethrows', throws"
                            + " this signal so that the body unwinds to it");
            assertThat(t.getCause()).isInstanceOf(CoroutineExit.class);
            assertThat(g.state()).isEqualTo(Generator.State.FAILED);
            assertThat(g.hasNext()).isFalse();
        });
    }

    @Test
    void aConsumersTimeoutThatUnwindsAReadAheadBodyKeepsTheValuesItHadEmittedForTheConsumer() {
        VirtualTime.run(() -> {
            Generator<String> g = Generator.buffered("g", 3, out -> {
                try {
                    for (int i = 0; ; i++) {
                        Coroutine.sleep(Duration.ofMillis(400));
                        out.emit("v" + i + " at " + ms());
                    }
                } finally {
                    note("body unwound");
                }
            });
            Throwable t = catchThrowable(() -> Coroutine.withTimeout(Duration.ofSeconds(1), () -> g.next()));
            assertThat(t).isInstanceOf(CoroutineTimeoutException.class);
            note("timed out");
            // the body is over, but the two values it emitted before the timeout are the consumer's still
            assertThat(g.hasNext()).isTrue();
            assertThat(g.next()).isEqualTo("v0 at 400");
            assertThat(g.next()).isEqualTo("v1 at 800");
            assertThat(g.hasNext()).isFalse();
            assertThat(g.state()).isEqualTo(Generator.State.CLOSED);
        });
        assertThat(log).containsExactly("body unwound at 1000", "timed out at 1000");
    }

    @Test
    void aConsumersTimeoutThatUnwindsAReadAheadBodyLeavesValuesThatCloseDrops() {
        VirtualTime.run(() -> {
            Generator<Integer> g = Generator.buffered("g", 4, out -> {
                for (int i = 0; ; i++) {
                    Coroutine.sleep(Duration.ofMillis(400));
                    out.emit(i);
                }
            });
            assertThat(catchThrowable(() -> Coroutine.withTimeout(Duration.ofSeconds(1), () -> g.next())))
                    .isInstanceOf(CoroutineTimeoutException.class);
            assertThat(g.state()).isEqualTo(Generator.State.SUSPENDED);
            g.close();
            assertThat(g.state()).isEqualTo(Generator.State.CLOSED);
            assertThat(g.hasNext()).isFalse();
            note("closed");
        });
        assertThat(log).containsExactly("closed at 1000");
    }

    @Test
    void anEmitInTheFinallyOfABodyThatItsConsumersTimeoutUnwindsThrowsTheSignalAgainAndNothingStaleComesLater() {
        VirtualTime.run(() -> {
            Coroutine c = Coroutine.create("consumer", () -> {
                Generator<String> g = Generator.of("g", out -> {
                    try {
                        Coroutine.sleep(Duration.ofSeconds(5));
                        out.emit("normal");
                    } finally {
                        try {
                            out.emit("cleanup");
                            note("emit in finally returned");
                        } catch (CoroutineExit e) {
                            note("emit in finally threw the signal");
                        }
                    }
                });
                Object got;
                try {
                    got = Coroutine.withTimeout(Duration.ofSeconds(1), () -> g.next());
                } catch (CoroutineTimeoutException e) {
                    got = "timeout";
                }
                note("consumer got " + got + ", g " + g.state());
                note("hasNext " + g.hasNext());
            });
            while (!c.isFinished()) {
                Coroutine.yield();
            }
            assertThat(c.state()).as("no stale signal closed the consumer").isEqualTo(Coroutine.State.FINISHED);
        });
        assertThat(log).containsExactly("emit in finally threw the signal at 1000", "consumer got timeout, g CLOSED at 1000",
                "hasNext false at 1000");
    }

    @Test
    void aFinallyBlockOfAnExpiredBodyMayStillConsumeAGenerator() {
        VirtualTime.run(() -> {
            Throwable t = catchThrowable(() -> Coroutine.withTimeout(Duration.ofSeconds(1), () -> {
                try {
                    Coroutine.sleep(Duration.ofSeconds(5));
                } finally {
                    Generator<Integer> g = Generator.buffered("g", 2, out -> {
                        for (int i = 1; i <= 3; i++) {
                            out.emit(i);
                        }
                    });
                    List<Integer> all = new ArrayList<>();
                    g.forEachRemaining(all::add);
                    note("finally took " + all);
                }
            }));
            assertThat(t).isInstanceOf(CoroutineTimeoutException.class);
        });
        assertThat(log).containsExactly("finally took [1, 2, 3] at 1000");
    }

    @Test
    void aReadAheadBodyIsRefusedAtItsFirstEmitInsideItsOwnWithTimeoutWhetherOrNotThatEmitWouldSuspend() {
        Generator<Integer> g = Generator.buffered("ahead", 4, out -> {
            out.emit(0);
            Coroutine.withTimeout(Duration.ofSeconds(1), () -> {
                out.emit(1);
            });
        });
        assertThat(g.next()).as("the value emitted before the refusal comes first").isEqualTo(0);
        Throwable t = catchThrowable(g::next);
        assertThat(t).isInstanceOf(CoroutineException.class).cause().isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("main context 'main' cannot emit from generator 'ahead' (RUNNING): it is"
                        + " inside a withTimeout(PT1S) that its own body opened");
        assertThat(g.state()).isEqualTo(Generator.State.FAILED);
        assertThat(g.hasNext()).isFalse();
    }

    /**
     * The refusal of an emit inside a scope the body opened names the call that opened it: a
     * {@code tryWithTimeout} (or {@code tryCallWithTimeout}) is named so, as its signal names it, not as a
     * {@code withTimeout}; the body that catches the refusal goes on and emits after the scope.
     */
    @Test
    void anEmitInsideATryWithTimeoutOfItsOwnBodyIsRefusedNamingTheTryForm() {
        VirtualTime.run(() -> {
            List<String> refusals = new ArrayList<>();
            Generator<Integer> g = Generator.of("g", out -> {
                try {
                    Coroutine.tryWithTimeout(Duration.ofSeconds(1), () -> out.emit(1));
                } catch (IllegalStateException e) {
                    refusals.add(e.getMessage());
                }
                try {
                    Coroutine.tryCallWithTimeout(Duration.ofSeconds(2), () -> out.emit(2));
                } catch (IllegalStateException e) {
                    refusals.add(e.getMessage());
                }
                out.emit(3);
            });
            List<Integer> all = new ArrayList<>();
            g.forEachRemaining(all::add);
            assertThat(all).containsExactly(3);
            assertThat(refusals).containsExactly(
                    "main context 'main' cannot emit from generator 'g' (RUNNING): it is inside a tryWithTimeout(PT1S)"
                            + " that its own body opened; a body cannot suspend inside its own tryWithTimeout (its timer"
                            + " would run on against the consumer): emit after it returns",
                    "main context 'main' cannot emit from generator 'g' (RUNNING): it is inside a tryWithTimeout(PT2S)"
                            + " that its own body opened; a body cannot suspend inside its own tryWithTimeout (its timer"
                            + " would run on against the consumer): emit after it returns");
            Coroutine.sleep(Duration.ofSeconds(5));
            note("main slept");
        });
        assertThat(log).containsExactly("main slept at 5000");
    }

    /** What an emit inside a {@code VirtualTime.run} that generator {@code name}'s own body opened throws. */
    private static String emitInsideItsOwnRun(String name) {
        return "main context 'main' cannot emit from generator '" + name + "' (RUNNING): it is inside a VirtualTime.run"
                + " that its own body opened; a body cannot suspend inside its own VirtualTime.run (its consumer"
                + " would run on the virtual clock): emit after it returns";
    }

    @Test
    void anEmitInsideAVirtualTimeRunOfItsOwnBodyIsRefusedAndTheConsumerStaysOnTheRealClock() {
        Generator<Long> g = Generator.of("g", out -> VirtualTime.run(() -> {
            Coroutine.sleep(Duration.ofSeconds(3));
            note("the body emits");
            out.emit(Coroutine.nanoTime());
        }));
        Throwable t = catchThrowable(g::next);
        assertThat(t).isInstanceOf(CoroutineException.class).cause().isInstanceOf(IllegalStateException.class)
                .hasMessage(emitInsideItsOwnRun("g"));
        assertThat(g.state()).isEqualTo(Generator.State.FAILED);
        // the consumer is not on a virtual clock: it may start a run of its own, whose clock starts at 0
        VirtualTime.run(() -> note("a run of the consumer"));
        assertThat(log).containsExactly("the body emits at 3000", "a run of the consumer at 0");
    }

    @Test
    void aReadAheadBodyIsRefusedAtItsFirstEmitInsideItsOwnVirtualTimeRunAndAnEmitAfterTheRunIsTaken() {
        Generator<Integer> g = Generator.buffered("ahead", 4, out -> {
            VirtualTime.run(() -> out.emit(1)); // would not suspend: three more fit
        });
        Throwable t = catchThrowable(g::next);
        assertThat(t).isInstanceOf(CoroutineException.class).cause().hasMessage(emitInsideItsOwnRun("ahead"));

        Generator<Integer> after = Generator.of("after", out -> {
            VirtualTime.run(() -> Coroutine.sleep(Duration.ofSeconds(1)));
            out.emit(7);
        });
        assertThat(after.next()).isEqualTo(7);
        VirtualTime.run(() -> note("a run of the consumer"));
        assertThat(log).containsExactly("a run of the consumer at 0");
    }
}
