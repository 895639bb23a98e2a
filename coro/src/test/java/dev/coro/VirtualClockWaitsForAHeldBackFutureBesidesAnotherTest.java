package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Under virtual time, an awaited future that is not the thread's first one (another coroutine awaits a
 * future that never completes meanwhile) completes by another thread while the thread waits for others,
 * its wake-up held back by a slow callback that the completing thread runs first: once the quiet wait has
 * lasted as long as the next timer is away, the completion is taken in and the clock stays, so the await
 * returns at t = 0 and another coroutine's sleep ends after it, not before. The technique of holding the
 * post back is {@link AwaitRaceTest}'s.
 */
@ExtendWith(FreshThread.class)
class VirtualClockWaitsForAHeldBackFutureBesidesAnotherTest {

    @Test
    @Timeout(30)
    void aFutureAwaitedBesidesAnotherThatCompletesWithItsWakeUpHeldBackComesBeforeTheClockJumpsToASleepsEnd() {
        EventLoop l = Scheduler.current().loop;
        // a round in which the future completed only after the quiet wait had ended (the completing thread came
        // too late, on a loaded machine) proves nothing and is run again
        for (int round = 0; ; round++) {
            assertThat(round).as("rounds in which the future completed only after the quiet wait").isLessThan(50);
            CompletableFuture<String> first = new CompletableFuture<>();
            AtomicBoolean sleeperWoke = new AtomicBoolean();
            // main parks in its await of f, last, and waits for other threads; f completes while main is still in
            // its first quiet wait (not in one after the clock jumped)
            HeldBackCompletion completion = new HeldBackCompletion(l, () -> !sleeperWoke.get());
            CompletableFuture<String> f = completion.future;
            List<String> log = new ArrayList<>();
            try (completion) {
                VirtualTime.run(() -> {
                    Coroutine.create("other", () -> log.add("other got " + Coroutine.await(first)));
                    Coroutine.create("sleeper", () -> {
                        Coroutine.sleep(Duration.ofMillis(20));
                        sleeperWoke.set(true);
                        log.add("sleeper woke at " + Coroutine.nanoTime() + " ns");
                    });
                    Coroutine.yield(); // other parks on first (the thread's first future, kept apart), sleeper sleeps
                    String got;
                    try { // a round whose completer came late times out at 30 ms, after the sleep
                        got = Coroutine.withTimeout(Duration.ofMillis(30), () -> Coroutine.await(f));
                    } catch (CoroutineTimeoutException e) {
                        got = "timed out";
                    }
                    log.add("main got " + got + " at " + Coroutine.nanoTime() + " ns");
                    first.complete("first");
                });
            }
            if (completion.completedWhileIdle()) {
                assertThat(log).hasSize(3).startsWith("main got v at 0 ns")
                        .contains("sleeper woke at 20000000 ns", "other got first");
                return;
            }
        }
    }
}
