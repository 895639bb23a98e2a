package dev.coro;

import static dev.coro.SchedulerClock.ms;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A call that never waits is no scheduling point (docs/TIME.md): a loop of try calls, of selects that fire at
 * once or by their default, of a generator's {@code next()} whose body never parks, of awaits of a complete
 * future, of zero sleeps takes in no due timer and no wake-up another thread posted, and under virtual time
 * the clock stays; the first {@code yield()} after it takes the wake-up in, and the next lets the clock jump.
 * A connection's reads and writes that complete at once are such calls too, but only 64 in a row: {@code ConnectionTurnsTest}.
 */
@ExtendWith(FreshThread.class)
class CallsThatNeverWaitAreNoSchedulingPointsTest {

    /** How many times each loop makes its call: enough to show that none of them is a scheduling point. */
    private static final int CALLS = 1_000;

    private final List<String> log = new ArrayList<>();

    /**
     * Under virtual time: a sleeper due at 1 ms, and an awaiter whose future another thread completes
     * before the loop (its wake-up is in main's inbox); main makes {@code call} {@link #CALLS} times,
     * after which both still wait and the clock is at 0; then one yield runs the awaiter at 0, and a
     * second, with nothing else to run, lets the clock jump to the sleeper.
     */
    private void loopTakesNothingIn(Runnable call) {
        VirtualTime.run(() -> {
            Coroutine sleeper = Coroutine.create("sleeper", () -> {
                Coroutine.sleep(Duration.ofMillis(1));
                log.add("sleeper at " + ms());
            });
            CompletableFuture<String> f = new CompletableFuture<>();
            Coroutine awaiter = Coroutine.create("awaiter", () -> log.add("awaiter got " + Coroutine.await(f) + " at " + ms()));
            Coroutine.yield(); // both park: the awaiter, then the sleeper
            assertThat(List.of(sleeper.state(), awaiter.state())).containsExactly(State.PARKED, State.PARKED);
            Peer.join(Thread.ofPlatform().name("completer").start(() -> f.complete("v")));

            for (int i = 0; i < CALLS; i++) {
                call.run();
            }
            assertThat(List.of(sleeper.state(), awaiter.state())).as("nothing taken in").containsExactly(State.PARKED, State.PARKED);
            assertThat(Coroutine.nanoTime()).as("the clock stood still").isZero();

            Coroutine.yield(); // takes the wake-up in; the awaiter runs and ends
            assertThat(log).containsExactly("awaiter got v at 0");
            Coroutine.yield(); // nothing else to run, a timer pending: the clock jumps
            assertThat(log).containsExactly("awaiter got v at 0", "sleeper at 1");
        });
    }

    @Test
    @Timeout(10)
    void aLoopOfTryReceivesOnAnEmptyChannelTakesNothingIn() {
        Channel<Integer> ch = new Channel<>("polled", 1);
        loopTakesNothingIn(() -> assertThat(ch.tryReceive()).isEmpty());
    }

    @Test
    @Timeout(10)
    void aLoopOfTrySendsOnAFullChannelTakesNothingIn() {
        Channel<Integer> ch = new Channel<>("full", 1);
        assertThat(ch.trySend(0)).isTrue();
        loopTakesNothingIn(() -> assertThat(ch.trySend(1)).isFalse());
    }

    @Test
    @Timeout(10)
    void aLoopOfTryAcquiresOfASemaphoreWithNoPermitFreeTakesNothingIn() {
        Semaphore s = new Semaphore("taken", 1);
        assertThat(s.tryAcquire()).isTrue();
        loopTakesNothingIn(() -> assertThat(s.tryAcquire()).isFalse());
    }

    @Test
    @Timeout(10)
    void aLoopOfSelectsThatFireTheirDefaultTakesNothingIn() {
        Channel<Integer> ch = new Channel<>("quiet", 1);
        Select<String> select = new Select<String>().onReceive(ch, v -> "value").onDefault(() -> "default");
        loopTakesNothingIn(() -> assertThat(select.select()).isEqualTo("default"));
    }

    @Test
    @Timeout(10)
    void aLoopOfSelectsThatFireAZeroTimeoutTakesNothingIn() {
        Channel<Integer> ch = new Channel<>("quiet", 1);
        Select<String> select = new Select<String>().onReceive(ch, v -> "value").onTimeout(Duration.ZERO, () -> "timeout");
        loopTakesNothingIn(() -> assertThat(select.select()).isEqualTo("timeout"));
    }

    @Test
    @Timeout(10)
    void aLoopOfSelectsWithAClauseReadyAtOnceTakesNothingIn() {
        Channel<Integer> ch = new Channel<>("roomy", 1);
        Select<String> select = new Select<String>().onSend(ch, 1, () -> "sent");
        loopTakesNothingIn(() -> {
            assertThat(select.select()).isEqualTo("sent");
            assertThat(ch.tryReceive()).contains(1);
        });
    }

    @Test
    @Timeout(10)
    void aLoopOfNextValuesOfAGeneratorWhoseBodyNeverParksTakesNothingIn() {
        int[] taken = {0};
        loopTakesNothingIn(() -> {
            try (Generator<Integer> counting = Generator.of("counting", out -> {
                for (int i = 0; ; i++) {
                    out.emit(i);
                }
            })) {
                assertThat(counting.next()).isZero();
                assertThat(counting.next()).isOne();
                taken[0] += 2;
            }
        });
        assertThat(taken[0]).isEqualTo(2 * CALLS);
    }

    @Test
    @Timeout(10)
    void aLoopOfAwaitsOfACompleteFutureTakesNothingIn() {
        CompletableFuture<String> done = CompletableFuture.completedFuture("done");
        loopTakesNothingIn(() -> assertThat(Coroutine.await(done)).isEqualTo("done"));
    }

    @Test
    @Timeout(10)
    void aLoopOfZeroSleepsTakesNothingIn() {
        loopTakesNothingIn(() -> Coroutine.sleep(Duration.ZERO));
    }

    /**
     * On the real clock too: calls that never wait, made after a sleeper's deadline has passed (rounded up to the
     * loop's tick), take in no due timer: the sleeper is still parked after them, and the next {@code yield()}
     * wakes it and runs it.
     */
    @Test
    @Timeout(10)
    void onTheRealClockCallsThatNeverWaitMadeAfterADeadlineTakeInNoDueTimer() {
        Channel<Integer> empty = new Channel<>("empty", 1);
        Channel<Integer> full = new Channel<>("full", 1);
        assertThat(full.trySend(0)).isTrue();
        Semaphore taken = new Semaphore("taken", 1);
        assertThat(taken.tryAcquire()).isTrue();
        Select<String> byDefault = new Select<String>().onReceive(empty, v -> "value").onDefault(() -> "default");
        Select<String> zero = new Select<String>().onReceive(empty, v -> "value").onTimeout(Duration.ZERO, () -> "timeout");
        Select<String> ready = new Select<String>().onReceive(full, v -> "value " + v).onSend(full, 0, () -> "sent");
        CompletableFuture<String> done = CompletableFuture.completedFuture("done");
        Coroutine sleeper = Coroutine.create("sleeper", () -> {
            Coroutine.sleep(Duration.ofMillis(1));
            log.add("sleeper woke");
        });
        long start = Coroutine.nanoTime();
        sleeper.switchTo(); // it parks in its sleep; main runs again
        assertThat(sleeper.state()).isEqualTo(State.PARKED);
        long past = Duration.ofMillis(1).toNanos() + 2 * EventLoop.TICK_NANOS;
        while (Coroutine.nanoTime() - start <= past) {
            Thread.onSpinWait(); // the sleeper's timer is due from here on
        }
        for (int i = 0; i < CALLS; i++) {
            assertThat(empty.tryReceive()).isEmpty();
            assertThat(full.trySend(1)).isFalse();
            assertThat(taken.tryAcquire()).isFalse();
            assertThat(byDefault.select()).isEqualTo("default");
            assertThat(zero.select()).isEqualTo("timeout");
            assertThat(ready.select()).isEqualTo("value 0");
            assertThat(ready.select()).isEqualTo("sent");
            assertThat(Coroutine.await(done)).isEqualTo("done");
            Coroutine.sleep(Duration.ZERO);
        }
        assertThat(sleeper.state()).as("its timer, due, not taken in").isEqualTo(State.PARKED);
        assertThat(log).isEmpty();
        Coroutine.yield(); // takes the timer in: the sleeper wakes, runs and ends
        assertThat(log).containsExactly("sleeper woke");
        assertThat(sleeper.state()).isEqualTo(State.FINISHED);
    }
}
