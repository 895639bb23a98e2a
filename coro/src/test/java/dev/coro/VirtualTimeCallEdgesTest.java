package dev.coro;

import static dev.coro.ThreadNames.thread;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link VirtualTime#call} where {@code run}'s rules meet a value: a coroutine that fails after the body returned makes
 * it throw that failure, the value lost; a checked exception the body throws sneakily is what it throws, itself; a
 * generator's body gets the value of a call it makes; a {@code run} inside a call is refused naming {@code run}, and the
 * call still names itself when its coroutines deadlock afterwards.
 */
@ExtendWith(FreshThread.class)
@Timeout(20)
class VirtualTimeCallEdgesTest {

    private final List<String> log = new ArrayList<>();

    /** Adds {@code what} to the log with the virtual time in milliseconds. */
    private void note(String what) {
        log.add(what + " at " + Coroutine.nanoTime() / 1_000_000);
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
        Throwable t = catchThrowable(() -> VirtualTime.call(() -> {
            Coroutine.create("left", () -> {
                try {
                    Coroutine.sleep(Duration.ofHours(1));
                } finally {
                    note("left closed");
                }
            });
            Coroutine.yield(); // it parks in its sleep
            throw VirtualTimeCallEdgesTest.<RuntimeException>sneaky(checked);
        }));
        assertThat(t).isSameAs(checked);
        assertThat(t.getSuppressed()).isEmpty();
        assertThat(log).containsExactly("left closed at 0");
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
                .hasMessage("main context 'main' (state RUNNING) of thread " + thread()
                        + " cannot start VirtualTime.run: it already runs on a virtual clock");
        assertThat(t).isExactlyInstanceOf(DeadlockException.class).hasMessage("VirtualTime.call cannot return: every"
                + " coroutine left on thread " + thread() + " is parked and no timer is pending, so nothing could ever wake"
                + " them (deadlock):\n  coroutine 'stuck' waits to receive from channel 'never'");
        assertThat(log).isEmpty();
    }
}
