package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Under virtual time, futures of a class of the user's awaited while the thread's quiet wait for other
 * threads ends and it looks, before the clock jumps, for awaited futures that completed with their wake-up
 * held back: that look, made by the idle thread with no context running, never asks such a future's
 * {@code isDone()} (the user's code), neither the thread's first awaited future (kept apart) nor one of the
 * others; their completion's post alone wakes their awaits. (Without virtual time the idle spin's look is
 * checked by {@link IdleThreadAsksNoUsersIsDoneTest}.)
 */
@ExtendWith(FreshThread.class)
class VirtualIdleAsksNoUsersIsDoneTest {

    /** A future of the user's whose {@code isDone()} notes each call made while {@link #noting} is set. */
    static final class Noting<T> extends CompletableFuture<T> {
        final String name;
        final List<String> noted;
        volatile boolean noting;

        Noting(String name, List<String> noted) {
            this.name = name;
            this.noted = noted;
        }

        @Override
        public boolean isDone() {
            if (noting) {
                noted.add(name + ".isDone() asked while main slept, on " + Thread.currentThread().getName());
            }
            return super.isDone();
        }
    }

    @Test
    @Timeout(10)
    void theQuietWaitsEndLooksAtNoAwaitedFutureOfAClassOfTheUsersBeforeTheClockJumps() {
        List<String> noted = new CopyOnWriteArrayList<>();
        Noting<String> first = new Noting<>("first", noted);
        Noting<String> second = new Noting<>("second", noted);
        List<String> log = new ArrayList<>();
        VirtualTime.run(() -> {
            Coroutine.create("a", () -> log.add("a got " + Coroutine.await(first) + " at " + Coroutine.nanoTime() + " ns"));
            Coroutine.create("b", () -> log.add("b got " + Coroutine.await(second) + " at " + Coroutine.nanoTime() + " ns"));
            Coroutine.yield(); // a parks on first (the thread's first future), b on second
            first.noting = true;
            second.noting = true;
            // the awaits wait for other threads: the quiet wait lasts 1 ms of real time, then the thread looks
            // for completed futures before the clock jumps to the sleep's end
            Coroutine.sleep(Duration.ofMillis(1));
            first.noting = false;
            second.noting = false;
            log.add("slept until " + Coroutine.nanoTime() + " ns");
            first.complete("one");
            second.complete("two");
        });
        assertThat(noted).as("isDone() asked of the user's futures by the idle thread").isEmpty();
        assertThat(log).hasSize(3).startsWith("slept until 1000000 ns");
        // the wake-ups of two futures have no order between them
        assertThat(log.subList(1, 3)).containsExactlyInAnyOrder("a got one at 1000000 ns", "b got two at 1000000 ns");
        assertThat(LoopProbe.hasPending()).as("no wait left behind").isFalse();
    }
}
