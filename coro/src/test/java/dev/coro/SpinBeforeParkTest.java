package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The spin before a park: a loop that another thread may wake polls its inbox for a while before it
 * declares itself asleep, and a post that lands anywhere around that moment (during the spin, just
 * after its last look, while the loop sets {@code sleeping}, or once it is parked) is still seen:
 * many rounds of a post racing with a pool thread going to sleep, nothing lost.
 */
@ExtendWith(FreshThread.class)
class SpinBeforeParkTest {

    /** Rounds of each race: enough for posts to land before, across and after the spin's end many times. */
    private static final int ROUNDS = 5_000;
    /** A guard against a hang (a lost wake-up), not a performance threshold. */
    private static final Duration GUARD = Duration.ofMinutes(2);

    /** How long the poster waits before it posts: 0 to twice the spin bound, so it lands on either side of it. */
    private static long delayBound() {
        return 2 * Math.max(EventLoop.SPIN_NANOS, 1_000);
    }

    /** Busy-waits {@code nanos}: the poster must not park, or it could only post after its own wake-up. */
    private static void busyWait(long nanos) {
        long start = System.nanoTime();
        while (System.nanoTime() - start < nanos) {
            Thread.onSpinWait();
        }
    }

    @Test
    void spinsInVainInARowMakeTheNextOneThreeSevenUpToSixtyThreeBlocksParkAtOnceAndACaughtPostResetsThat() {
        EventLoop loop = Scheduler.current().loop;
        long bound = EventLoop.SPIN_NANOS;
        assertThat(bound).as("the spin is on (coro.spinNanos unset)").isPositive();
        assertThat(skipsAfterSpinsInVain(loop, bound, 8)).containsExactly(1, 3, 7, 15, 31, 63, 63, 63);
        // a spin cut short by a timer due sooner says nothing about the partner: the count stays
        assertThat(loop.spin(bound / 2)).isFalse();
        assertThat(loop.spinsToSkip).isZero();
        assertThat(skipsAfterSpinsInVain(loop, bound, 1)).containsExactly(63);
        // a post there when it spins is caught, and the next spin in vain starts the count again
        loop.post(() -> { });
        assertThat(loop.spin(bound)).as("a post caught").isTrue();
        loop.poll();
        assertThat(skipsAfterSpinsInVain(loop, bound, 2)).containsExactly(1, 3);
    }

    /**
     * Spins {@code n} times in vain (the inbox stays empty), each after the blocks the previous one
     * made skip the spin; returns how many blocks each made skip it.
     */
    private static List<Integer> skipsAfterSpinsInVain(EventLoop loop, long bound, int n) {
        List<Integer> skips = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            assertThat(loop.spin(bound)).isFalse();
            int skip = loop.spinsToSkip;
            skips.add(skip);
            for (int j = 0; j < skip; j++) {
                assertThat(loop.spin(bound)).isFalse();
            }
            assertThat(loop.spinsToSkip).isZero();
        }
        return skips;
    }

    @Test
    void aCompletionPostedWhileTheAwaitersThreadSpinsOrFallsAsleepIsNeverLost() throws Exception {
        @SuppressWarnings("unchecked")
        CompletableFuture<Integer>[] futures = new CompletableFuture[ROUNDS];
        for (int i = 0; i < ROUNDS; i++) {
            futures[i] = new CompletableFuture<>();
        }
        AtomicInteger awaiting = new AtomicInteger(-1);
        AtomicReference<Throwable> posterFailure = new AtomicReference<>();
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            CompletableFuture<Long> sum = pool.submit(() -> {
                long s = 0;
                for (int i = 0; i < ROUNDS; i++) {
                    awaiting.set(i);
                    s += Coroutine.await(futures[i]); // nothing else runs here: the thread spins, then parks
                }
                return s;
            });
            Thread poster = Thread.ofPlatform().name("poster").start(() -> {
                try {
                    SplittableRandom random = new SplittableRandom(42);
                    for (int i = 0; i < ROUNDS; i++) {
                        while (awaiting.get() < i) {
                            Thread.onSpinWait();
                        }
                        busyWait(random.nextLong(delayBound()));
                        futures[i].complete(i);
                    }
                } catch (Throwable e) {
                    posterFailure.set(e);
                }
            });
            assertThat(sum.get(GUARD.toSeconds(), TimeUnit.SECONDS))
                    .isEqualTo((long) ROUNDS * (ROUNDS - 1) / 2);
            poster.join();
        }
        assertThat(posterFailure.get()).isNull();
    }

    @Test
    void aBodySubmittedWhileAnIdlePoolThreadSpinsOrFallsAsleepIsNeverLost() throws Exception {
        SplittableRandom random = new SplittableRandom(7);
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            long sum = 0;
            for (int i = 0; i < ROUNDS; i++) {
                int v = i;
                busyWait(random.nextLong(delayBound())); // the pool thread has just gone idle after the last body
                sum += pool.submit(() -> v).get(GUARD.toSeconds(), TimeUnit.SECONDS);
            }
            assertThat(sum).isEqualTo((long) ROUNDS * (ROUNDS - 1) / 2);
        }
    }

    @Test
    void theSpinBoundIsReadFromItsPropertyAndBadValuesAreRefusedNamingIt() {
        assertThat(EventLoop.spinNanos(null)).isEqualTo(EventLoop.DEFAULT_SPIN_NANOS);
        assertThat(EventLoop.spinNanos("0")).isZero();
        assertThat(EventLoop.spinNanos(" 50000 ")).isEqualTo(50_000);
        assertThatThrownBy(() -> EventLoop.spinNanos("-1")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("coro.spinNanos must be 0 (never spin) or more nanoseconds, not -1");
        assertThatThrownBy(() -> EventLoop.spinNanos("20us")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("coro.spinNanos must be a whole number of nanoseconds (0 or more), not '20us'");
    }
}
