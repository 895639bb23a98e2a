package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The exit signal that unwinds a closed coroutine shows, in its stack trace, where the coroutine was: the
 * call it was suspended or parked in and the body's frames under it, on both engines, not only the closer's
 * call of {@code close()} that made it; so a signal a body logs, or keeps, tells where the body was stopped.
 */
@ExtendWith(FreshThread.class)
class CloseSignalStackTraceTest {

    private static List<String> methods(Throwable t) {
        return Arrays.stream(t.getStackTrace()).map(f -> f.getClassName() + "." + f.getMethodName()).toList();
    }

    /** The body suspended in a yield: hands the signal it is closed with to {@code caught}. */
    private static void suspendedInAYield(AtomicReference<CoroutineExit> caught) {
        try {
            Coroutine.yield();
        } catch (CoroutineExit e) {
            caught.set(e);
            throw e;
        }
    }

    /** The body parked in a receive: hands the signal it is closed with to {@code caught}. */
    private static void parkedInAReceive(Channel<String> ch, AtomicReference<CoroutineExit> caught) {
        try {
            ch.receive();
        } catch (CoroutineExit e) {
            caught.set(e);
            throw e;
        }
    }

    @Test
    @Timeout(10)
    void theSignalOfACoroutineClosedWhileSuspendedShowsItsYieldAndItsBody() {
        AtomicReference<CoroutineExit> caught = new AtomicReference<>();
        Coroutine c = Coroutine.create("suspended", () -> suspendedInAYield(caught));
        c.switchTo();
        c.close();
        assertThat(c.state()).isEqualTo(Coroutine.State.CLOSED);
        assertThat(caught.get()).hasMessage("coroutine 'suspended' is being closed: its yield throws this signal so that"
                + " it unwinds (state RUNNING, closing)");
        assertThat(methods(caught.get())).contains("dev.coro.Coroutine.yield",
                CloseSignalStackTraceTest.class.getName() + ".suspendedInAYield");
    }

    @Test
    @Timeout(10)
    void theSignalOfACoroutineClosedWhileParkedShowsItsReceiveAndItsBody() {
        AtomicReference<CoroutineExit> caught = new AtomicReference<>();
        Channel<String> ch = new Channel<>("ch", 0);
        Coroutine c = Coroutine.create("parked", () -> parkedInAReceive(ch, caught));
        Coroutine.create("sleeper", () -> Coroutine.sleep(Duration.ofMillis(1))); // so that the receive is no deadlock
        Coroutine.yield(); // c parks in its receive
        assertThat(c.state()).isEqualTo(Coroutine.State.PARKED);
        c.close();
        assertThat(c.state()).isEqualTo(Coroutine.State.CLOSED);
        assertThat(caught.get()).hasMessage("coroutine 'parked' is being closed: its receive from channel 'ch' throws this"
                + " signal so that it unwinds (state RUNNING, closing)");
        assertThat(methods(caught.get())).contains("dev.coro.Channel.receive",
                CloseSignalStackTraceTest.class.getName() + ".parkedInAReceive");
    }
}
