package dev.coro;

import static dev.coro.ThreadNames.thread;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link VirtualTime#call} is {@link VirtualTime#run} that returns the body's value: it returns it once every
 * coroutine created inside has ended, on the virtual clock, its random from the seed given; it refuses, reports a
 * deadlock and rethrows a body's failure as {@code run} does, its messages naming {@code VirtualTime.call}. Where
 * {@code run}'s rules meet a value: a coroutine that fails after the body returned makes it throw that failure, the
 * value lost; a checked exception the body throws sneakily is what it throws, itself; a generator's body gets the value
 * of a call it makes; a {@code run} inside a call is refused naming {@code run}, and the call still names itself when
 * its coroutines deadlock afterwards.
 */
@ExtendWith(FreshThread.class)
@Timeout(20)
class VirtualTimeCallTest {

    private final List<String> log = new ArrayList<>();

    /** Adds {@code what} to the log with the virtual time in milliseconds. */
    private void note(String what) {
        log.add(what + " at " + Coroutine.nanoTime() / 1_000_000);
    }

    @Test
    void callReturnsTheBodysValueOnceEveryCoroutineCreatedInsideHasEnded() {
        String value = VirtualTime.call(() -> {
            Coroutine.create("sleeper", () -> {
                Coroutine.sleep(Duration.ofHours(1));
                note("the sleeper ends");
            });
            Coroutine.sleep(Duration.ofMinutes(1));
            note("the body returns");
            return "t = " + Coroutine.nanoTime();
        });
        log.add("call returned " + value);
        assertThat(log).containsExactly("the body returns at 60000", "the sleeper ends at 3600000",
                "call returned t = 60000000000");
        Object none = VirtualTime.call(() -> null);
        assertThat(none).as("a body that returns null").isNull();
        assertThat(Coroutine.dump()).as("the thread after the runs").doesNotContain("sleeper");
    }

    @Test
    void callWithASeedDrawsTheSameUnbiasedSelectionsAsRunWithThatSeed() {
        Supplier<List<String>> draws = () -> {
            Channel<String> a = new Channel<>("a", 20);
            Channel<String> b = new Channel<>("b", 20);
            List<String> got = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                a.send("a");
                b.send("b");
                got.add(new Select<String>().onReceive(a, v -> v).onReceive(b, v -> v).selectUnbiased());
            }
            return got;
        };
        List<String> byRun = new ArrayList<>();
        VirtualTime.run(42, () -> byRun.addAll(draws.get()));
        List<String> byCall = VirtualTime.call(42, draws);
        List<String> byCallAgain = VirtualTime.call(42, draws);
        List<String> otherSeed = VirtualTime.call(43, draws);
        assertThat(byRun).contains("a", "b");
        assertThat(byCall).isEqualTo(byRun);
        assertThat(byCallAgain).isEqualTo(byRun);
        assertThat(otherSeed).isNotEqualTo(byRun);
    }

    @Test
    void coroutinesThatCanNeverEndMakeCallThrowADeadlockNamingThemAndAreClosed() {
        Coroutine[] stuck = new Coroutine[1];
        Throwable t = catchThrowable(() -> VirtualTime.call(() -> {
            Channel<String> never = new Channel<>("never", 0);
            stuck[0] = Coroutine.create("stuck", () -> {
                try {
                    never.receive();
                } finally {
                    note("stuck closed");
                }
            });
            return "lost";
        }));
        assertThat(t).isExactlyInstanceOf(DeadlockException.class).hasMessage("VirtualTime.call cannot return: every"
                + " coroutine left on thread " + thread() + " is parked and no timer is pending, so nothing could ever wake"
                + " them (deadlock):\n  coroutine 'stuck' waits to receive from channel 'never'");
        assertThat(stuck[0].state()).isEqualTo(Coroutine.State.CLOSED);
        assertThat(log).containsExactly("stuck closed at 0");
    }

    @Test
    void aBodyThatThrowsHasTheLeftoverCoroutinesClosedThenItsExceptionRethrown() {
        IllegalStateException boom = new IllegalStateException("boom");
        assertThat(thrownByACallWhoseBodyLeavesASleeperAndThrows(boom)).isSameAs(boom);
    }

    /**
     * What a {@code call} throws whose body leaves a coroutine parked in a sleep and throws {@code e}, as it is
     * (checked too); the sleeper was closed first, and nothing is suppressed in it.
     */
    private Throwable thrownByACallWhoseBodyLeavesASleeperAndThrows(Throwable e) {
        Throwable t = catchThrowable(() -> VirtualTime.call(() -> {
            Coroutine.create("left", () -> {
                try {
                    Coroutine.sleep(Duration.ofHours(1));
                } finally {
                    note("left closed");
                }
            });
            Coroutine.yield(); // it parks in its sleep
            throw VirtualTimeCallTest.<RuntimeException>sneaky(e);
        }));
        assertThat(t.getSuppressed()).isEmpty();
        assertThat(log).containsExactly("left closed at 0");
        return t;
    }

    @Test
    void aBodyExceptionThatTakesNoSuppressedOnesLeavesTheOtherFailuresToTheUncaughtHandlerInAReportNamingCall() {
        RuntimeException signal = new RuntimeException("stop", null, false, false) { };
        List<Throwable> reported = new ArrayList<>();
        Thread.currentThread().setUncaughtExceptionHandler((t, e) -> reported.add(e));
        Throwable t = catchThrowable(() -> VirtualTime.call(() -> {
            Coroutine.create("stubborn", () -> {
                try {
                    Coroutine.sleep(Duration.ofHours(1));
                } finally {
                    throw new IllegalArgumentException("cannot clean up");
                }
            });
            Coroutine.yield(); // it parks in its sleep
            throw signal;
        }));
        assertThat(t).isSameAs(signal);
        assertThat(reported).hasSize(1);
        assertThat(reported.get(0)).isExactlyInstanceOf(CoroutineException.class).hasCause(signal)
                .hasMessage("VirtualTime.call in main context 'main' of thread " + thread() + " (state RUNNING): its body threw "
                        + signal + ", which takes no suppressed exceptions; the run's other failure is suppressed in this"
                        + " report instead");
        assertThat(reported.get(0).getSuppressed()).extracting(Throwable::getMessage).containsExactly(
                "coroutine 'stubborn' failed while being closed: java.lang.IllegalArgumentException: cannot clean up");
    }

    @Test
    void callFromACoroutineIsRefusedAsRunIsNamingCall() {
        String me = thread();
        List<Throwable> refused = new ArrayList<>();
        Coroutine.create("inner", () -> refused.add(catchThrowable(() -> VirtualTime.call(() -> "never")))).switchTo();
        assertThat(refused).hasSize(1);
        assertThat(refused.get(0)).isExactlyInstanceOf(IllegalStateException.class)
                .hasMessage("coroutine 'inner' of thread " + me + " (state RUNNING) cannot start VirtualTime.call:"
                        + " it is a coroutine; only main may start it, on a thread with no live coroutine");
    }

    @Test
    void callOnAThreadWithALiveCoroutineIsRefusedAsRunIsNamingCall() {
        Coroutine left = Coroutine.create("left", () -> { });
        assertThatThrownBy(() -> VirtualTime.call(() -> "never")).isExactlyInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' of thread " + thread() + " (state RUNNING) cannot start VirtualTime.call:"
                        + " its thread has 1 live coroutine (coroutine 'left' NEW); virtual time needs a thread with none: close them"
                        + " first, or run on a thread of its own (an earlier task of a pool's thread, or a test that failed,"
                        + " leaves on its thread the coroutines it did not close)");
        left.close();
        assertThat(VirtualTime.call(() -> "ran once it was closed")).isEqualTo("ran once it was closed");
    }

    @Test
    void aCallInsideARunIsRefusedNamingCallAndTheRunGoesOnVirtually() {
        VirtualTime.run(() -> {
            Coroutine sleeper = Coroutine.create("sleeper", () -> {
                Coroutine.sleep(Duration.ofMillis(5));
                note("woke");
            });
            Coroutine.yield();
            assertThatThrownBy(() -> VirtualTime.call(() -> "never")).isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessage("main context 'main' of thread " + thread()
                            + " (state RUNNING) cannot start VirtualTime.call: it already runs on a virtual clock");
            sleeper.join();
        });
        assertThat(log).containsExactly("woke at 5");
    }

    @Test
    void anEmitInsideACallOfTheGeneratorsOwnBodyIsRefusedNamingCall() {
        Generator<Long> g = Generator.of("g", out -> {
            long t = VirtualTime.call(() -> {
                out.emit(Coroutine.nanoTime());
                return 0L;
            });
            out.emit(t);
        });
        assertThat(catchThrowable(g::next)).isExactlyInstanceOf(CoroutineException.class).cause()
                .isExactlyInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot emit from generator 'g' (RUNNING): it is inside a VirtualTime.call"
                        + " that its own body opened; a body cannot suspend inside its own VirtualTime.call (its consumer"
                        + " would run on the virtual clock): emit after it returns");
    }

    @Test
    void aNullBodyIsRefusedNamingTheParameter() {
        assertThatThrownBy(() -> VirtualTime.call(null)).isExactlyInstanceOf(NullPointerException.class).hasMessage("body");
        assertThatThrownBy(() -> VirtualTime.call(7, null)).isExactlyInstanceOf(NullPointerException.class).hasMessage("body");
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> RuntimeException sneaky(Throwable t) throws E {
        throw (E) t;
    }

    @Test
    void aCoroutineThatFailsAfterTheBodyReturnedMakesCallThrowItsFailureAndTheValueIsLost() {
        IllegalStateException boom = new IllegalStateException("late boom");
        Throwable t = catchThrowable(() -> log.add("call returned " + VirtualTime.call(() -> {
            Coroutine.create("late", () -> {
                Coroutine.sleep(Duration.ofSeconds(1));
                note("late throws");
                throw boom;
            });
            note("the body returns");
            return "value";
        })));
        assertThat(t).isExactlyInstanceOf(CoroutineException.class).hasCause(boom)
                .hasMessage("coroutine 'late' failed: java.lang.IllegalStateException: late boom");
        assertThat(log).containsExactly("the body returns at 0", "late throws at 1000");
    }

    @Test
    void aCheckedExceptionTheBodyThrowsSneakilyIsWhatCallThrowsItselfTheLeftoversClosedFirst() {
        Exception checked = new Exception("checked");
        assertThat(thrownByACallWhoseBodyLeavesASleeperAndThrows(checked)).isSameAs(checked);
    }

    @Test
    void aGeneratorsBodyGetsTheValueOfACallItMakesAndEmitsItOnceTheCallHasReturned() {
        Generator<Long> g = Generator.of("g", out -> {
            long t = VirtualTime.call(() -> {
                Coroutine.create("sleeper", () -> Coroutine.sleep(Duration.ofHours(1)));
                Coroutine.sleep(Duration.ofSeconds(3));
                return Coroutine.nanoTime();
            });
            out.emit(t);
        });
        assertThat(g.next()).isEqualTo(3_000_000_000L);
        assertThat(g.hasNext()).isFalse();
    }

    @Test
    void aRunInsideACallIsRefusedNamingRunAndTheCallStillNamesItselfWhenItsCoroutinesDeadlock() {
        List<Throwable> refused = new ArrayList<>();
        Throwable t = catchThrowable(() -> VirtualTime.call(() -> {
            Channel<String> never = new Channel<>("never", 0);
            Coroutine.create("stuck", never::receive);
            refused.add(catchThrowable(() -> VirtualTime.run(() -> note("never"))));
            return "lost";
        }));
        assertThat(refused).singleElement().asInstanceOf(InstanceOfAssertFactories.THROWABLE).isExactlyInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' of thread " + thread()
                        + " (state RUNNING) cannot start VirtualTime.run: it already runs on a virtual clock");
        assertThat(t).isExactlyInstanceOf(DeadlockException.class).hasMessage("VirtualTime.call cannot return: every"
                + " coroutine left on thread " + thread() + " is parked and no timer is pending, so nothing could ever wake"
                + " them (deadlock):\n  coroutine 'stuck' waits to receive from channel 'never'");
        assertThat(log).isEmpty();
    }
}
