package dev.coro;

import static dev.coro.SchedulerClock.ms;
import static dev.coro.ThreadNames.thread;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A deadline past the range of the clock never comes: a sleep or a timeout that long is a wait with
 * no timer, which the virtual clock never jumps to, so the clock stays usable afterwards.
 */
@ExtendWith(FreshThread.class)
class ForeverTest {

    private static final Duration FOREVER = Duration.ofSeconds(Long.MAX_VALUE);

    private final List<String> log = new ArrayList<>();

    @Test
    void aWithTimeoutPastTheRangeNeverExpiresEvenWhenNothingElseIsPending() {
        VirtualTime.run(() -> {
            Throwable t = catchThrowable(() -> Coroutine.withTimeout(FOREVER, () -> new Channel<Integer>("idle", 0).receive()));
            assertThat(t).as("the wait is a deadlock, not a timeout at the end of the clock's range")
                    .isInstanceOf(DeadlockException.class);
            assertThat(ms()).isZero();
        });
    }

    @Test
    void aSleepPastTheRangeNeverEndsByItselfAndTheClockStaysUsable() {
        VirtualTime.run(() -> {
            Throwable t = catchThrowable(() -> Coroutine.sleep(FOREVER));
            assertThat(t).isInstanceOf(DeadlockException.class)
                    .hasMessageContaining("main context 'main' would wait to sleep for ever (a duration past the clock's range)");
            assertThat(ms()).as("the clock did not jump to the end of its range").isZero();
            int v = Coroutine.withTimeout(Duration.ofSeconds(2), () -> {
                Coroutine.sleep(Duration.ofSeconds(1));
                return 7;
            });
            assertThat(v).isEqualTo(7);
            assertThat(ms()).isEqualTo(1000);
        });
    }

    @Test
    void aCoroutineSleepingPastTheRangeIsEndedByAWithTimeoutOrAClose() {
        VirtualTime.run(() -> {
            Coroutine timed = Coroutine.create("timed", () -> {
                try {
                    Coroutine.withTimeout(Duration.ofSeconds(3), () -> Coroutine.sleep(FOREVER));
                } catch (CoroutineTimeoutException e) {
                    log.add("timed out at " + ms());
                }
            });
            Coroutine closed = Coroutine.create("closed", () -> {
                try {
                    Coroutine.sleep(FOREVER);
                } finally {
                    log.add("closed at " + ms());
                }
            });
            Coroutine.sleep(Duration.ofSeconds(5));
            assertThat(timed.isFinished()).isTrue();
            assertThat(closed.state()).isEqualTo(Coroutine.State.PARKED);
            closed.close();
        });
        assertThat(log).containsExactly("timed out at 3000", "closed at 5000");
    }

    /**
     * The deadlock of a timed channel call past the clock's range names the try call that waits, and
     * says why its timeout does not end it, as that of a sleep does; a dump names a timed call that
     * has a timer as the try call too.
     */
    @Test
    void theDeadlockOfATimedChannelCallPastTheRangeNamesTheTryCall() {
        VirtualTime.run(() -> {
            Channel<String> ch = new Channel<>("ch", 0);
            assertThat(catchThrowable(() -> ch.tryReceive(FOREVER))).isInstanceOf(DeadlockException.class)
                    .hasMessageContaining("main context 'main' would wait to tryReceive from channel 'ch' for ever"
                            + " (a timeout past the clock's range)");
            assertThat(catchThrowable(() -> ch.trySend("x", FOREVER))).isInstanceOf(DeadlockException.class)
                    .hasMessageContaining("main context 'main' would wait to trySend to channel 'ch' for ever"
                            + " (a timeout past the clock's range)");
            Coroutine.create("receiver", () -> log.add("receiver got " + ch.tryReceive(Duration.ofSeconds(1))));
            Coroutine.yield();
            log.add(Coroutine.dump());
        });
        assertThat(log.get(0)).contains("[1] coroutine 'receiver': PARKED, waits to tryReceive from channel 'ch'");
        assertThat(log).element(1).isEqualTo("receiver got Optional.empty");
    }

    /**
     * A duration within the range whose deadline, from a clock past 0, saturates is a wait for ever
     * too, and is named so: what counts is the deadline, not the duration.
     */
    @Test
    void aWaitWhoseDeadlineSaturatesFromALaterClockIsNamedAWaitForEver() {
        Duration almostForever = Duration.ofNanos(Long.MAX_VALUE - 1);
        VirtualTime.run(() -> {
            Coroutine.sleep(Duration.ofMillis(1));
            Channel<String> ch = new Channel<>("ch", 0);
            assertThat(catchThrowable(() -> Coroutine.sleep(almostForever))).isInstanceOf(DeadlockException.class)
                    .hasMessageContaining("main context 'main' would wait to sleep for ever (a duration past the clock's range)");
            assertThat(catchThrowable(() -> ch.tryReceive(almostForever))).isInstanceOf(DeadlockException.class)
                    .hasMessageContaining("main context 'main' would wait to tryReceive from channel 'ch' for ever"
                            + " (a timeout past the clock's range)");
            assertThat(catchThrowable(() -> ch.trySend("x", almostForever))).isInstanceOf(DeadlockException.class)
                    .hasMessageContaining("main context 'main' would wait to trySend to channel 'ch' for ever"
                            + " (a timeout past the clock's range)");
            assertThat(catchThrowable(() -> new Select<String>().onReceive(ch, v -> v).onTimeout(almostForever, () -> "timeout")
                    .select())).isInstanceOf(DeadlockException.class)
                    .hasMessageContaining("main context 'main' would wait to select over receive from channel 'ch', timeout "
                            + almostForever + " for ever (a duration past the clock's range)");
            assertThat(ms()).as("no timer was set: the clock stayed").isEqualTo(1);
        });
    }

    /**
     * TIME.md: a timed channel call or an {@code onTimeout} past the clock's range sets no timer,
     * like a sleep: alone it is a deadlock (the clock stays at 0), a value that comes wins, and the
     * clock stays usable after.
     */
    @Test
    void timedChannelCallsAndAnOnTimeoutPastTheRangeSetNoTimer() {
        VirtualTime.run(() -> {
            Channel<String> ch = new Channel<>("ch", 0);
            assertThat(catchThrowable(() -> ch.tryReceive(FOREVER))).isInstanceOf(DeadlockException.class);
            assertThat(catchThrowable(() -> ch.trySend("x", FOREVER))).isInstanceOf(DeadlockException.class);
            assertThat(catchThrowable(() -> new Select<String>().onReceive(ch, v -> v).onTimeout(FOREVER, () -> "timeout")
                    .select())).isInstanceOf(DeadlockException.class);
            assertThat(ms()).as("the clock did not jump to the end of its range").isZero();
            Coroutine.create("sender", () -> {
                Coroutine.sleep(Duration.ofMillis(10));
                ch.send("a");
            });
            log.add("received " + ch.tryReceive(FOREVER).orElseThrow() + " at " + ms());
            Coroutine.create("receiver", () -> {
                Coroutine.sleep(Duration.ofMillis(10));
                log.add("receiver got " + ch.receive());
            });
            log.add("sent " + ch.trySend("b", FOREVER) + " at " + ms());
            Coroutine.create("late sender", () -> {
                Coroutine.sleep(Duration.ofMillis(10));
                ch.send("c");
            });
            log.add(new Select<String>().onReceive(ch, v -> "selected " + v).onTimeout(FOREVER, () -> "timeout").select()
                    + " at " + ms());
            Coroutine.sleep(Duration.ofMillis(5));
            log.add("slept to " + ms());
        });
        assertThat(log).as("waking never switches: the receiver logs before main's send returns")
                .containsExactly("received a at 10", "receiver got b", "sent true at 20", "selected c at 30", "slept to 35");
    }

    /**
     * TIME.md: a timed call on another thread's channel (or semaphore) past the clock's range sets no timer
     * either, and its wait is named a wait for ever, as one on the thread's own channel is: a dump of the
     * caller's thread says so (it named it as a timed call that a timer ends); a value or a permit that
     * comes still wins.
     */
    @Test
    void aTimedCallOnAnotherThreadsChannelPastTheRangeIsNamedAWaitForEver() {
        Channel<String> ch = new Channel<>("ch", 0);
        Semaphore sem = new Semaphore("sem", 1);
        sem.acquire();
        String home = thread();
        String dump = Peer.call("peer", () -> {
            Coroutine receiver = Coroutine.create("receiver", () -> log.add("received " + ch.tryReceive(FOREVER).orElseThrow()));
            Coroutine acquirer = Coroutine.create("acquirer", () -> log.add("acquired " + sem.tryAcquire(FOREVER)));
            Coroutine.yield(); // both post their call and park
            String text = Coroutine.dump();
            ch.send("a");
            sem.release();
            receiver.join();
            acquirer.join();
            return text;
        });
        assertThat(dump).contains("  [1] coroutine 'receiver': PARKED, waits to tryReceive from channel 'ch' of thread " + home
                + " for ever (a timeout past the clock's range)\n");
        assertThat(dump).contains("  [2] coroutine 'acquirer': PARKED, waits to tryAcquire a permit of Semaphore[sem, 0 of 1"
                + " permits free] of thread " + home + " for ever (a timeout past the clock's range)\n");
        assertThat(log).containsExactlyInAnyOrder("received a", "acquired true");
    }
}
