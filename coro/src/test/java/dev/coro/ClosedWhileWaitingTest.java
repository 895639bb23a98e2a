package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A coroutine ended from outside while it waits: closed in each kind of wait, or after a wait woke it and
 * before it ran, by main or by another coroutine, and what a wait in its {@code finally} does meanwhile;
 * nothing it waited for is lost or left behind.
 */
@ExtendWith(FreshThread.class)
class ClosedWhileWaitingTest {

    private final List<String> log = new ArrayList<>();

    /** A call that may throw anything, for {@link #attempt}. */
    @FunctionalInterface
    private interface Call {
        Object run() throws Exception;
    }

    /** Runs {@code call}, logging what it returned, or the message of the exit signal it threw. */
    private void attempt(String what, Call call) {
        try {
            log.add(what + " returned " + call.run());
        } catch (CoroutineExit e) {
            log.add(what + ": " + e.getMessage());
        } catch (Exception e) {
            log.add(what + " threw " + e);
        }
    }

    /**
     * A timed {@code tryReceive}, {@code trySend} or {@code tryAcquire} that can complete at once does in the
     * {@code finally} of a coroutine being closed (it is no scheduling point); one that cannot complete at once in the
     * {@code finally} of a coroutine being closed, or in a body whose {@code withTimeout} expired, throws
     * the signal naming the timed call, as a dump or a signal thrown while it waits names it; it was named
     * as the untimed {@code receive} or {@code send}, its timeout set only after the signals were checked.
     * Nothing is left queued: the channel and the semaphore serve the next callers.
     */
    @Test
    @Timeout(10)
    void aTimedCallThatMustWaitWhileTheSignalIsPendingThrowsItNamingTheTimedCall() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Channel<Integer> room = new Channel<>("room", 1);
        Semaphore permits = new Semaphore("permits", 1);
        permits.acquire();
        Coroutine c = Coroutine.create("c", () -> {
            try {
                Coroutine.yield();
            } finally {
                attempt("trySend into room", () -> room.trySend(1, Duration.ofSeconds(1)));
                attempt("tryReceive of a buffered value", () -> room.tryReceive(Duration.ofSeconds(1)));
                attempt("tryReceive", () -> ch.tryReceive(Duration.ofSeconds(1)));
                attempt("trySend", () -> ch.trySend(1, Duration.ofSeconds(1)));
                attempt("tryAcquire", () -> permits.tryAcquire(Duration.ofSeconds(1)));
            }
        });
        c.switchTo();
        c.close();
        assertThat(log).containsExactly("trySend into room returned true", "tryReceive of a buffered value returned Optional[1]",
                "tryReceive: coroutine 'c' is being closed: its tryReceive from channel 'ch' throws this signal so that"
                        + " it unwinds (state RUNNING, closing)",
                "trySend: coroutine 'c' is being closed: its trySend to channel 'ch' throws this signal so that"
                        + " it unwinds (state RUNNING, closing)",
                "tryAcquire: coroutine 'c' is being closed: its tryReceive from channel 'permits (semaphore)' throws"
                        + " this signal so that it unwinds (state RUNNING, closing)");
        log.clear();

        VirtualTime.run(() -> {
            try {
                Coroutine.withTimeout(Duration.ofMillis(5), () -> {
                    try {
                        Coroutine.sleep(Duration.ofMillis(10));
                    } catch (CoroutineExit swallowed) {
                        log.add("swallowed");
                    }
                    attempt("tryReceive", () -> ch.tryReceive(Duration.ofSeconds(1)));
                    Coroutine.yield(); // the scope's signal again, so that the body unwinds to it
                });
            } catch (CoroutineTimeoutException e) {
                log.add("timed out");
            }
        });
        assertThat(log).containsExactly("swallowed",
                "tryReceive: main context 'main': its withTimeout(PT0.005S) expired; its tryReceive from channel 'ch'"
                        + " throws this signal so that the body unwinds to it",
                "timed out");
        assertThat(ch.trySend(2)).as("no receiver left queued").isFalse();
        assertThat(ch.tryReceive()).as("no sender left queued").isEqualTo(Optional.empty());
        permits.release();
        assertThat(permits.availablePermits()).isOne();
        assertThat(c.state()).isEqualTo(State.CLOSED);
    }
}
