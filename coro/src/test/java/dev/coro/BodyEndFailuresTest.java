package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The failures a coroutine's body leaves at its end beside the one it ends by (a failure kept for its
 * next scheduling point, the failure of a clean-up it had left unfinished) are never lost: they are
 * suppressed in what its creator or closer gets, also when the body's own exception takes no
 * suppressed ones.
 */
@ExtendWith(FreshThread.class)
class BodyEndFailuresTest {

    private final List<String> log = new ArrayList<>();

    /** An exception made with suppression disabled, as a preallocated signal is: it keeps no suppressed one. */
    private static RuntimeException signal() {
        return new RuntimeException("stop", null, false, false) {
        };
    }

    /**
     * Main's side of a receive handed a value before its channel closed, with a failure reaching the
     * receiver meanwhile: coroutine 'receiver' creates 'failer' (which throws "late failure") and
     * parks in a receive; main hands it 7 and closes the channel; the receiver, resumed, logs the value,
     * runs {@code beforeThrow} and throws {@code signal}.
     *
     * @return what main's next yield threw: the failure the receiver's end reported
     */
    private Throwable receiverHandedAValueBeforeAFailureThenThrowing(RuntimeException signal, Runnable beforeThrow) {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine.create("receiver", () -> {
            Coroutine.create("failer", () -> {
                throw new IllegalStateException("late failure");
            });
            log.add("receiver got " + ch.receive());
            beforeThrow.run();
            throw signal;
        });
        Coroutine.yield(); // the receiver creates the failer and parks
        assertThat(ch.trySend(7)).as("handed to the parked receiver").isTrue();
        ch.close();
        return catchThrowable(Coroutine::yield); // the failer fails, the receiver gets it and ends
    }

    /**
     * A receive handed a value before its channel closed keeps a failure that reached it meanwhile for
     * the next scheduling point; the body then throws a signal that takes no suppressed exceptions. The
     * creator gets the body's failure with the signal as its cause, itself, and the kept failure
     * suppressed in that report.
     */
    @Test
    void aKeptFailureIsSuppressedInTheReportWhenTheBodysExceptionTakesNoSuppressedOnes() {
        RuntimeException signal = signal();
        Throwable t = receiverHandedAValueBeforeAFailureThenThrowing(signal, () -> { });
        assertThat(log).containsExactly("receiver got 7");
        assertThat(t).isInstanceOf(CoroutineException.class).hasMessage("coroutine 'receiver' failed: " + signal);
        assertThat(t.getCause()).isSameAs(signal);
        assertThat(signal.getSuppressed()).isEmpty();
        assertThat(t.getSuppressed()).extracting(Throwable::getMessage)
                .containsExactly("coroutine 'failer' failed: java.lang.IllegalStateException: late failure");
    }

    /**
     * A clean-up left unfinished (as a stack overflow near the stack's end leaves one) is finished at
     * the body's end; if it fails there and the body threw a signal that takes no suppressed exceptions,
     * the clean-up's failure is suppressed in the creator's report. No public call makes a clean-up
     * fail, so the test plants one, as a wait's park marks it.
     */
    @Test
    void theFailureOfAnUnfinishedCleanUpIsSuppressedInTheReportWhenTheBodysExceptionTakesNoSuppressedOnes() {
        RuntimeException signal = signal();
        Coroutine.create("leaver", () -> {
            Context self = Coroutine.current().context;
            self.unfinishedCleanup = () -> {
                throw new IllegalArgumentException("cannot clean up");
            };
            self.pendingThrow = Context.CLEANUP_LEFT;
            throw signal;
        });
        Throwable t = catchThrowable(Coroutine::yield);
        assertThat(t).isInstanceOf(CoroutineException.class).hasMessage("coroutine 'leaver' failed: " + signal);
        assertThat(t.getCause()).isSameAs(signal);
        assertThat(t.getSuppressed()).extracting(Throwable::toString)
                .containsExactly("java.lang.IllegalArgumentException: cannot clean up");
    }

    /** Both at once: each appears, suppressed in the report, the clean-up's failure first. */
    @Test
    void aKeptFailureAndAFailedCleanUpBothAppearInTheReport() {
        RuntimeException signal = signal();
        Throwable t = receiverHandedAValueBeforeAFailureThenThrowing(signal, () -> {
            Context self = Coroutine.current().context;
            self.unfinishedCleanup = () -> {
                throw new IllegalArgumentException("cannot clean up");
            };
        });
        assertThat(log).containsExactly("receiver got 7");
        assertThat(t).isInstanceOf(CoroutineException.class).hasMessage("coroutine 'receiver' failed: " + signal);
        assertThat(t.getCause()).isSameAs(signal);
        assertThat(t.getSuppressed()).extracting(Throwable::getMessage).containsExactly("cannot clean up",
                "coroutine 'failer' failed: java.lang.IllegalStateException: late failure");
        assertThat(Coroutine.currentId()).isZero();
    }

    /**
     * A receiver keeps a failure for its next scheduling point, then closes a parked coroutine whose
     * {@code finally} closes the receiver back, while the receiver is suspended in that {@code close()}
     * with the failure still kept. The failure is not dropped for the close's signal: it is thrown where
     * the receiver resumes, so its body ends by it while being closed, and the {@code close()} of the
     * receiver throws the report of that, as for any body that throws while it unwinds.
     */
    @Test
    void aFailureKeptForACoroutineThatIsClosedBeforeItsNextSchedulingPointReachesItsCloser() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Channel<Integer> never = new Channel<>("never", 0);
        Coroutine[] receiver = new Coroutine[1];
        Coroutine closer = Coroutine.create("closer", () -> {
            try {
                never.receive();
            } finally {
                try {
                    receiver[0].close();
                    log.add("closer closed the receiver");
                } catch (CoroutineException e) {
                    log.add("closer's close threw " + e.getMessage());
                }
            }
        });
        receiver[0] = Coroutine.create("receiver", () -> {
            Coroutine.create("failer", () -> {
                throw new IllegalStateException("late failure");
            });
            log.add("receiver got " + ch.receive());
            closer.close();
            log.add("not reached: the kept failure comes where the receiver resumes");
        });
        Coroutine.yield(); // the closer and the receiver park
        assertThat(ch.trySend(7)).as("handed to the parked receiver").isTrue();
        ch.close();
        Coroutine.yield(); // the failer fails, the receiver gets it, keeps it, closes the closer
        assertThat(log).containsExactly("receiver got 7", "closer's close threw coroutine 'receiver' failed while"
                + " being closed: dev.coro.CoroutineException: coroutine 'failer' failed: java.lang.IllegalStateException:"
                + " late failure");
        assertThat(receiver[0].state()).isEqualTo(State.FAILED);
        assertThat(closer.state()).isEqualTo(State.CLOSED);
        assertThat(Coroutine.currentId()).isZero();
    }

    /**
     * A clean-up left unfinished that fails at the end of a body unwound by its close: the body would
     * end {@code CLOSED}, and nothing would carry the failure; it ends by it instead, {@code FAILED}, and
     * {@code close()} throws its report, as for a body that throws while it unwinds.
     */
    @Test
    void theFailureOfAnUnfinishedCleanUpAtTheEndOfABodyUnwoundByItsCloseMakesCloseThrowIt() {
        Coroutine c = Coroutine.create("leaver", () -> {
            try {
                Coroutine.yield();
            } finally {
                Context self = Coroutine.current().context;
                self.unfinishedCleanup = () -> {
                    throw new IllegalArgumentException("cannot clean up");
                };
                self.pendingThrow = Context.CLEANUP_LEFT;
            }
        });
        c.switchTo();
        Throwable t = catchThrowable(c::close);
        assertThat(t).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'leaver' failed while being closed: java.lang.IllegalArgumentException: cannot clean up");
        assertThat(c.state()).isEqualTo(State.FAILED);
    }

    /**
     * What waits for a coroutine when it is closed and is no failure, the signal of its expired
     * {@code withTimeout} that woke it, gives way to the close's signal, as it did: the coroutine unwinds
     * by the close, its {@code withTimeout} does not time out, and it ends {@code CLOSED}.
     */
    @Test
    void theSignalOfAnExpiredWithTimeoutWaitingForACoroutineGivesWayToItsClose() {
        VirtualTime.run(() -> {
            Coroutine c = Coroutine.create("sleeper", () -> {
                try {
                    Coroutine.withTimeout(Duration.ofSeconds(1), () -> Coroutine.sleep(Duration.ofHours(1)));
                    log.add("not reached");
                } catch (CoroutineTimeoutException e) {
                    log.add("timed out");
                } finally {
                    log.add("unwound");
                }
            });
            Coroutine.yield(); // it parks in its sleep
            Coroutine.create("closer", () -> {
                Coroutine.sleep(Duration.ofSeconds(1)); // its timeout expires too and wakes it, the signal waiting for it
                log.add("sleeper " + c.state());
                c.close();
                log.add("sleeper " + c.state());
            });
        });
        assertThat(log).containsExactly("sleeper SUSPENDED", "unwound", "sleeper CLOSED");
    }

    /**
     * A generator body runs in its consumer's context, so what a wait of it keeps for the next
     * scheduling point, and a clean-up it left unfinished, are its consumer's: a body that then throws
     * a signal taking no suppressed exceptions loses neither. The consumer gets the generator's failure
     * (a {@link CoroutineException}, the signal its cause, itself); the clean-up is finished at the
     * consumer's next scheduling point, which throws its failure with the kept one suppressed in it, and
     * the consumer's creator gets both. So for a plain generator and a buffered one.
     */
    @Test
    void aGeneratorBodyEndingByASignalLosesNeitherAKeptFailureNorAFailedCleanUpOfItsConsumer() {
        for (boolean buffered : new boolean[] {false, true}) {
            log.clear();
            RuntimeException signal = signal();
            Channel<Integer> ch = new Channel<>("ch", 0);
            Generator.Body<Integer, Void> body = out -> {
                out.emit(ch.receive());
                Context self = Coroutine.current().context;
                boolean[] ran = new boolean[1];
                self.unfinishedCleanup = () -> { // fails once: a failing clean-up stays marked, as an overflow leaves it
                    if (!ran[0]) {
                        ran[0] = true;
                        throw new IllegalArgumentException("cannot clean up");
                    }
                };
                throw signal;
            };
            Coroutine.create("consumer", () -> {
                Coroutine.create("failer", () -> {
                    throw new IllegalStateException("late failure");
                });
                Generator<Integer> g = buffered ? Generator.buffered("g", 1, body) : Generator.of("g", body);
                log.add("consumer got " + g.next());
                Throwable fromGenerator = catchThrowable(g::next);
                log.add("generator: " + fromGenerator.getMessage() + (fromGenerator.getCause() == signal ? " (the signal itself)" : ""));
                Coroutine.yield();
                log.add("not reached");
            });
            Coroutine.yield(); // the consumer creates the failer and parks in the body's receive
            assertThat(ch.trySend(7)).isTrue();
            ch.close();
            Throwable t = catchThrowable(Coroutine::yield);
            assertThat(log).as(buffered ? "buffered" : "plain").containsExactly("consumer got 7",
                    "generator: generator 'g' failed: " + signal + " (the signal itself)");
            assertThat(signal.getSuppressed()).isEmpty();
            assertThat(t).isInstanceOf(CoroutineException.class)
                    .hasMessage("coroutine 'consumer' failed: java.lang.IllegalArgumentException: cannot clean up");
            assertThat(t.getCause()).isExactlyInstanceOf(IllegalArgumentException.class);
            assertThat(t.getCause().getSuppressed()).extracting(Throwable::getMessage)
                    .containsExactly("coroutine 'failer' failed: java.lang.IllegalStateException: late failure");
        }
    }

    /** A resource whose close throws {@code new IOException(message)}, logging it. */
    private AutoCloseable failingResource(String message) {
        return () -> {
            log.add("closing " + message);
            throw new java.io.IOException(message);
        };
    }

    /**
     * A coroutine closed while parked unwinds through a try-with-resources whose resources fail to close:
     * the JDK adds their failures to the close's signal as suppressed, and a body that then ends by its own
     * signal would end {@code CLOSED} and drop them. It ends {@code FAILED} by the first instead (the
     * second suppressed in it), and {@code close()} throws the report, as for a {@code finally} that throws.
     */
    /**
     * The failure kept for a coroutine that its closer closes back while it is suspended in its own close()
     * of that closer is thrown where it resumes, by that close(), not replaced by the signal; the signal
     * comes at its next scheduling point, and a body that caught the failure there ends CLOSED by it, its
     * closer's close() throwing nothing.
     */
    @Test
    void aFailureKeptForACoroutineClosedBeforeItsNextSchedulingPointIsThrownWhereItResumesAndTheSignalAtItsNextPoint() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Channel<Integer> never = new Channel<>("never", 0);
        Coroutine[] receiver = new Coroutine[1];
        Coroutine closer = Coroutine.create("closer", () -> {
            try {
                never.receive();
            } finally {
                receiver[0].close();
                log.add("closer closed the receiver");
            }
        });
        receiver[0] = Coroutine.create("receiver", () -> {
            Coroutine.create("failer", () -> {
                throw new IllegalStateException("late failure");
            });
            log.add("receiver got " + ch.receive());
            try {
                closer.close();
                log.add("not reached: the kept failure comes where the receiver resumes");
            } catch (CoroutineException e) {
                log.add("its close threw " + e.getMessage());
            }
            try {
                Coroutine.yield();
                log.add("not reached: the signal comes at its next scheduling point");
            } catch (CoroutineExit e) {
                log.add("its yield threw " + e.getMessage());
                throw e;
            }
        });
        Coroutine.yield(); // the closer and the receiver park
        assertThat(ch.trySend(7)).as("handed to the parked receiver").isTrue();
        ch.close();
        Coroutine.yield(); // the failer fails, the receiver gets it, keeps it, closes the closer
        assertThat(log).containsExactly("receiver got 7",
                "its close threw coroutine 'failer' failed: java.lang.IllegalStateException: late failure",
                "its yield threw coroutine 'receiver' is being closed: its yield throws this signal so that it unwinds"
                        + " (state RUNNING, closing)",
                "closer closed the receiver");
        assertThat(receiver[0].state()).isEqualTo(State.CLOSED);
        assertThat(closer.state()).isEqualTo(State.CLOSED);
        assertThat(Coroutine.currentId()).isZero();
    }

    @Test
    void failuresSuppressedInAClosedCoroutinesOwnSignalAsItUnwindsReachItsCloser() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine c = Coroutine.create("holder", () -> {
            try (AutoCloseable first = failingResource("first"); AutoCloseable second = failingResource("second")) {
                ch.receive();
            } catch (Exception e) {
                throw new AssertionError("a signal is no Exception", e);
            }
        });
        Coroutine.yield(); // the holder parks in its receive
        Throwable t = catchThrowable(c::close);
        assertThat(log).containsExactly("closing second", "closing first");
        assertThat(c.state()).isEqualTo(State.FAILED);
        assertThat(t).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'holder' failed while being closed: java.io.IOException: second");
        assertThat(t.getCause()).isInstanceOf(java.io.IOException.class).hasMessage("second");
        assertThat(t.getCause().getSuppressed()).extracting(Throwable::getMessage).containsExactly("first");
        assertThat(ch.isClosed()).isFalse();
    }

    /**
     * The same for a generator closed while suspended at an emit: a resource whose close fails as its
     * body unwinds makes it end {@code FAILED} and its {@code close()} throw the report with that failure.
     */
    @Test
    void aFailureSuppressedInAClosedGeneratorsOwnSignalAsItUnwindsReachesItsCloser() {
        Generator<Integer> g = Generator.of("lines", out -> {
            try (AutoCloseable r = failingResource("file")) {
                out.emit(1);
                out.emit(2);
            } catch (Exception e) {
                throw new AssertionError("a signal is no Exception", e);
            }
        });
        assertThat(g.next()).isEqualTo(1);
        Throwable t = catchThrowable(g::close);
        assertThat(log).containsExactly("closing file");
        assertThat(g.state()).isEqualTo(Generator.State.FAILED);
        assertThat(t).isInstanceOf(CoroutineException.class)
                .hasMessage("generator 'lines' failed while being closed: java.io.IOException: file");
        assertThat(t.getCause()).isInstanceOf(java.io.IOException.class).hasMessage("file");
    }

    /**
     * The same for a read-ahead generator closed while values it made ahead wait: they are dropped, and the
     * failure of the resource its body closes as it unwinds reaches its {@code close()}.
     */
    @Test
    void aFailureSuppressedInAClosedReadAheadGeneratorsOwnSignalReachesItsCloser() {
        Generator<Integer> g = Generator.<Integer>buffered("ahead", 4, out -> {
            try (AutoCloseable r = failingResource("socket")) {
                for (int i = 1; i <= 10; i++) {
                    out.emit(i);
                }
            } catch (Exception e) {
                throw new AssertionError("a signal is no Exception", e);
            }
        });
        assertThat(g.next()).isEqualTo(1);
        Throwable t = catchThrowable(g::close);
        assertThat(log).containsExactly("closing socket");
        assertThat(g.state()).isEqualTo(Generator.State.FAILED);
        assertThat(t).isInstanceOf(CoroutineException.class)
                .hasMessage("generator 'ahead' failed while being closed: java.io.IOException: socket");
    }

    /**
     * A coroutine whose close's signal carries no failure still ends {@code CLOSED}, its {@code close()}
     * returning: a try-with-resources whose resource closes cleanly adds nothing to the signal.
     */
    @Test
    void aClosedCoroutineWhoseResourcesCloseCleanlyEndsClosed() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine c = Coroutine.create("holder", () -> {
            try (AutoCloseable r = () -> log.add("closed cleanly")) {
                ch.receive();
            } catch (Exception e) {
                throw new AssertionError("a signal is no Exception", e);
            }
        });
        Coroutine.yield();
        c.close();
        assertThat(log).containsExactly("closed cleanly");
        assertThat(c.state()).isEqualTo(State.CLOSED);
    }
}
