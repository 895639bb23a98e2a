package dev.coro;

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
 * On the real clock, a wake-up another thread posted and a timer both due when the thread reaches its next
 * scheduling point: the point runs the posts first, then expires the due timers (docs/THREADS.md), so a select
 * over the completion and a timeout ends by its completion; and the contexts they woke run in the usual order
 * (the previous runnable entry first), not in the order they were woken (docs/TIME.md).
 */
@ExtendWith(FreshThread.class)
class PostAndTimerDueAtOneSchedulingPointTest {

    /** The sleeps and timeouts here: short, so that the clock passes them while main spins. */
    private static final Duration SHORT = Duration.ofMillis(1);

    private final List<String> log = new ArrayList<>();

    /**
     * Spins, reaching no scheduling point, until the real clock has passed, by {@link #SHORT} again, the deadline
     * of a timer of {@link #SHORT} scheduled before {@code start} (a real deadline is rounded up to the loop's
     * tick, 65.536 µs).
     */
    private static void passTheDeadline(long start) {
        long due = start + 2 * SHORT.toNanos();
        while (Coroutine.nanoTime() - due <= 0) {
            Thread.onSpinWait();
        }
    }

    /** Completes {@code f} on a plain thread and returns once it has: its wake-up is in this thread's inbox then. */
    private static void completeAfar(CompletableFuture<String> f) {
        Peer.join(Thread.ofPlatform().name("completer").start(() -> f.complete("v")));
    }

    @Test
    @Timeout(10)
    void aCompletionPostedAndATimeoutDueAtOneYieldEndTheSelectByTheCompletion() {
        CompletableFuture<String> f = new CompletableFuture<>();
        Coroutine selector = Coroutine.create("selector", () -> log.add(new Select<String>()
                .onComplete(f, v -> "completed " + v)
                .onTimeout(SHORT, () -> "timed out")
                .select()));
        selector.switchTo(); // it parks in the select, its timeout's timer pending
        long start = Coroutine.nanoTime(); // after the timer was scheduled
        completeAfar(f);
        passTheDeadline(start);
        assertThat(selector.state()).as("nothing taken in yet").isEqualTo(State.PARKED);
        Coroutine.yield(); // the post first: the completion wins; then the timer, due, finds the select won
        assertThat(log).containsExactly("completed v");
        assertThat(Scheduler.current().loop.hasPending()).as("no timer or wait left").isFalse();
    }

    @Test
    @Timeout(10)
    void aSleeperAndAnAwaiterWokenAtOneYieldRunInTheUsualOrderNotTheOrderTheyWereWoken() {
        CompletableFuture<String> f = new CompletableFuture<>();
        Coroutine.create("awaiter", () -> log.add("awaiter got " + Coroutine.await(f)));
        Coroutine.create("sleeper", () -> {
            Coroutine.sleep(SHORT);
            log.add("sleeper woke");
        });
        Coroutine.yield(); // both park
        long start = Coroutine.nanoTime(); // after the sleep's timer was scheduled
        completeAfar(f);
        passTheDeadline(start);
        Coroutine.yield(); // the awaiter is woken first (the post), then the sleeper (its timer); main runs the last entry first
        assertThat(log).containsExactly("sleeper woke", "awaiter got v");
    }

    @Test
    @Timeout(10)
    void anAwaiterAndASleeperWokenAtOneYieldRunInTheUsualOrderToo() {
        CompletableFuture<String> f = new CompletableFuture<>();
        Coroutine.create("sleeper", () -> {
            Coroutine.sleep(SHORT);
            log.add("sleeper woke");
        });
        Coroutine.create("awaiter", () -> log.add("awaiter got " + Coroutine.await(f)));
        Coroutine.yield(); // both park
        long start = Coroutine.nanoTime(); // after the sleep's timer was scheduled
        completeAfar(f);
        passTheDeadline(start);
        Coroutine.yield(); // woken in the same order as above; the awaiter is the last entry now, and runs first
        assertThat(log).containsExactly("awaiter got v", "sleeper woke");
    }
}
