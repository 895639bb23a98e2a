package dev.coro;

import static dev.coro.SchedulerClock.ms;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every timed call given the durations at the very ends of {@code Duration}'s range: the most negative
 * ones are refused (or, for a sleep, return at once) as any negative one is, naming the caller, its state
 * and the call; the longest ones ({@code Duration.ofSeconds(Long.MAX_VALUE, 999_999_999)},
 * {@code Duration.ofNanos(Long.MAX_VALUE)}) never expire, so the value, permit or body that comes wins
 * however late, and nested scopes of the longest and the shortest durations expire in their order, on
 * the virtual and the real clock; a pool future's timed {@code get} at the ends of {@code TimeUnit}'s range.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
class TimedCallsAtTheEndsOfTheDurationRangeTest {

    /** The longest durations there are: past the nanoseconds' range, and its last nanosecond. */
    private static final Duration[] LONGEST = {Duration.ofSeconds(Long.MAX_VALUE, 999_999_999), Duration.ofNanos(Long.MAX_VALUE)};
    /** The most negative duration there is, and the least negative. */
    private static final Duration[] NEGATIVE = {Duration.ofSeconds(Long.MIN_VALUE), Duration.ofNanos(-1)};

    private final List<String> log = new ArrayList<>();

    /**
     * TIME.md: a negative timeout is refused by every timed call, the most negative duration as the least,
     * the body not run and nothing waited for; a sleep of one returns at once without a scheduling point.
     */
    @Test
    void theMostNegativeDurationIsRefusedByEveryTimedCallAsAnyNegativeOneIsAndASleepOfItReturnsAtOnce() {
        Channel<String> ch = new Channel<>("ch", 0);
        Semaphore sem = new Semaphore("sem", 1);
        Coroutine.create("other", () -> log.add("other ran"));
        Coroutine caller = Coroutine.create("caller", () -> {
            for (Duration d : NEGATIVE) {
                Coroutine.sleep(d);
                String refused = "coroutine 'caller' (state RUNNING) cannot ";
                String must = " with timeout " + d + ": a timeout must be zero or positive";
                assertThatThrownBy(() -> Coroutine.withTimeout(d, () -> log.add("body ran")))
                        .isExactlyInstanceOf(IllegalArgumentException.class).hasMessage(refused + "withTimeout" + must);
                assertThatThrownBy(() -> Coroutine.withTimeout(d, () -> {
                    log.add("body ran");
                })).isExactlyInstanceOf(IllegalArgumentException.class).hasMessage(refused + "withTimeout" + must);
                assertThatThrownBy(() -> Coroutine.callWithTimeout(d, () -> log.add("body ran")))
                        .isExactlyInstanceOf(IllegalArgumentException.class).hasMessage(refused + "withTimeout" + must);
                assertThatThrownBy(() -> Coroutine.tryWithTimeout(d, () -> log.add("body ran")))
                        .isExactlyInstanceOf(IllegalArgumentException.class).hasMessage(refused + "tryWithTimeout" + must);
                assertThatThrownBy(() -> Coroutine.tryWithTimeout(d, () -> {
                    log.add("body ran");
                })).isExactlyInstanceOf(IllegalArgumentException.class).hasMessage(refused + "tryWithTimeout" + must);
                assertThatThrownBy(() -> Coroutine.tryCallWithTimeout(d, () -> log.add("body ran")))
                        .isExactlyInstanceOf(IllegalArgumentException.class).hasMessage(refused + "tryWithTimeout" + must);
                assertThatThrownBy(() -> ch.tryReceive(d)).isExactlyInstanceOf(IllegalArgumentException.class)
                        .hasMessage(refused + "tryReceive from channel 'ch' (open)" + must);
                assertThatThrownBy(() -> ch.trySend("v", d)).isExactlyInstanceOf(IllegalArgumentException.class)
                        .hasMessage(refused + "trySend to channel 'ch' (open)" + must);
                assertThatThrownBy(() -> sem.tryAcquire(d)).isExactlyInstanceOf(IllegalArgumentException.class)
                        .hasMessage(refused + "tryAcquire a permit of Semaphore[sem, 1 of 1 permits free]" + must);
                assertThatThrownBy(() -> new Select<String>().onTimeout(d, () -> "timeout"))
                        .isExactlyInstanceOf(IllegalArgumentException.class)
                        .hasMessage("coroutine 'caller' (state RUNNING) cannot add onTimeout(" + d + ") to a select: a timeout must be zero or positive");
            }
            assertThat(log).as("no body ran, and no scheduling point let the other coroutine run").isEmpty();
            log.add("caller done");
        });
        caller.switchTo();
        assertThat(caller.isFinished()).as("it never waited").isTrue();
        assertThat(log).startsWith("caller done");
        assertThat(sem.availablePermits()).isOne();
        assertThat(ch.trySend("v")).as("no receiver was left waiting").isFalse();
    }

    /**
     * TIME.md: the longest durations never expire: no timer is set, the virtual clock never jumps to the end
     * of its range, and every timed call gets what comes, a second or a year later, at exactly that reading.
     */
    @Test
    void theLongestDurationsNeverExpireSoWhatComesWinsHoweverLateForEveryTimedCall() {
        VirtualTime.run(() -> {
            Channel<String> ch = new Channel<>("ch", 0);
            Semaphore sem = new Semaphore("sem", 1);
            for (Duration d : LONGEST) {
                long t0 = ms();
                log.add(Coroutine.withTimeout(d, () -> {
                    Coroutine.sleep(Duration.ofDays(365));
                    return "withTimeout returned at +" + (ms() - t0);
                }));
                log.add("tryWithTimeout gave " + Coroutine.tryWithTimeout(d, () -> {
                    Coroutine.sleep(Duration.ofSeconds(1));
                    return "+" + (ms() - t0);
                }).orElseThrow());
                log.add("tryCallWithTimeout returned " + Coroutine.tryCallWithTimeout(d, () -> Coroutine.sleep(Duration.ofSeconds(1)))
                        + " at +" + (ms() - t0));
                Coroutine.create("sender", () -> {
                    Coroutine.sleep(Duration.ofSeconds(1));
                    ch.send("a");
                });
                log.add("tryReceive got " + ch.tryReceive(d).orElseThrow() + " at +" + (ms() - t0));
                Coroutine.create("receiver", () -> {
                    Coroutine.sleep(Duration.ofSeconds(1));
                    log.add("receiver got " + ch.receive());
                });
                log.add("trySend delivered " + ch.trySend("b", d) + " at +" + (ms() - t0));
                sem.acquire();
                Coroutine.create("holder", () -> {
                    Coroutine.sleep(Duration.ofSeconds(1));
                    sem.release();
                });
                log.add("tryAcquire took " + sem.tryAcquire(d) + " at +" + (ms() - t0));
                sem.release();
                Coroutine.create("late sender", () -> {
                    Coroutine.sleep(Duration.ofSeconds(1));
                    ch.send("c");
                });
                log.add(new Select<String>().onReceive(ch, v -> "select received " + v).onTimeout(d, () -> "select timed out")
                        .select() + " at +" + (ms() - t0));
                assertThat(Scheduler.current().loop.timerCount()).as("none of them left a timer").isZero();
            }
        });
        long year = Duration.ofDays(365).toMillis();
        List<String> round = List.of("withTimeout returned at +" + year, "tryWithTimeout gave +" + (year + 1000),
                "tryCallWithTimeout returned true at +" + (year + 2000), "tryReceive got a at +" + (year + 3000), "receiver got b",
                "trySend delivered true at +" + (year + 4000), "tryAcquire took true at +" + (year + 5000),
                "select received c at +" + (year + 6000));
        List<String> both = new ArrayList<>(round);
        both.addAll(round);
        assertThat(log).isEqualTo(both);
    }

    /**
     * TIME.md: nested scopes each expire on their own: the shortest inside the longest expires and throws
     * (the longest, which set no timer, never does), the longest inside the shortest is unwound by the
     * shortest's signal, and a {@code tryWithTimeout} of one nanosecond inside the longest gives empty at
     * t = 1 ns while the longest goes on; on the virtual clock.
     */
    @Test
    void nestedScopesOfTheLongestAndTheShortestDurationsExpireInTheirOrderOnTheVirtualClock() {
        Duration ns = Duration.ofNanos(1);
        VirtualTime.run(() -> {
            for (Duration longest : LONGEST) {
                long start = Coroutine.nanoTime();
                Throwable inner = catchThrowable(() -> Coroutine.withTimeout(longest, () -> Coroutine.withTimeout(ns, () -> {
                    Coroutine.sleep(Duration.ofSeconds(1));
                    log.add("not reached");
                })));
                assertThat(inner).isExactlyInstanceOf(CoroutineTimeoutException.class).hasMessage("main context 'main' timed out:"
                        + " withTimeout(PT0.000000001S), inside 1 enclosing withTimeout, expired before its body returned");
                assertThat(((CoroutineTimeoutException) inner).timeout()).isEqualTo(ns);
                log.add("inner expired after " + (Coroutine.nanoTime() - start) + " ns");

                start = Coroutine.nanoTime();
                Throwable outer = catchThrowable(() -> Coroutine.withTimeout(ns, () -> Coroutine.withTimeout(longest, () -> {
                    Coroutine.sleep(Duration.ofSeconds(1));
                    log.add("not reached");
                })));
                assertThat(outer).isExactlyInstanceOf(CoroutineTimeoutException.class)
                        .hasMessage("main context 'main' timed out: withTimeout(PT0.000000001S) expired before its body returned");
                log.add("outer expired after " + (Coroutine.nanoTime() - start) + " ns");

                start = Coroutine.nanoTime();
                String v = Coroutine.withTimeout(longest, () -> {
                    boolean returned = Coroutine.tryWithTimeout(ns, () -> Coroutine.sleep(Duration.ofSeconds(1)));
                    Coroutine.sleep(Duration.ofSeconds(1));
                    return "inner returned " + returned + ", outer returned";
                });
                log.add(v + " after " + (Coroutine.nanoTime() - start) + " ns");
                assertThat(Scheduler.current().loop.timerCount()).as("no scope left a timer").isZero();
            }
        });
        assertThat(log).containsExactly(
                "inner expired after 1 ns", "outer expired after 1 ns", "inner returned false, outer returned after 1000000001 ns",
                "inner expired after 1 ns", "outer expired after 1 ns", "inner returned false, outer returned after 1000000001 ns");
    }

    /**
     * TIME.md: the same on the real clock, around receives that nothing reaches: the shortest scope expires
     * (a tick later at most), the longest never does.
     */
    @Test
    void nestedScopesOfTheLongestAndTheShortestDurationsExpireInTheirOrderOnTheRealClock() {
        Channel<String> idle = new Channel<>("idle", 0);
        Duration milli = Duration.ofMillis(1);
        for (Duration longest : LONGEST) {
            Throwable inner = catchThrowable(() -> Coroutine.withTimeout(longest, () -> Coroutine.withTimeout(milli, idle::receive)));
            assertThat(inner).isExactlyInstanceOf(CoroutineTimeoutException.class).hasMessage("main context 'main' timed out:"
                    + " withTimeout(PT0.001S), inside 1 enclosing withTimeout, expired before its body returned");
            assertThat(inner.getCause()).hasMessage("main context 'main': its withTimeout(PT0.001S), inside 1 enclosing"
                    + " withTimeout, expired; its receive from channel 'idle' throws this signal so that the body unwinds to it");

            Throwable outer = catchThrowable(() -> Coroutine.withTimeout(milli, () -> Coroutine.withTimeout(longest, idle::receive)));
            assertThat(outer).isExactlyInstanceOf(CoroutineTimeoutException.class)
                    .hasMessage("main context 'main' timed out: withTimeout(PT0.001S) expired before its body returned");

            assertThat(Coroutine.withTimeout(longest, () -> Coroutine.tryWithTimeout(milli, idle::receive))).isEmpty();
            assertThat(Scheduler.current().loop.timerCount()).as("no scope left a timer").isZero();
        }
    }

    /**
     * A pool future's timed {@code get} at the ends of {@code TimeUnit}'s range: the most negative timeout
     * waits not at all, as the JDK's, and throws {@code TimeoutException} naming the caller, the read and the
     * future; the longest waits for the value, however long (it saturates instead of wrapping).
     */
    @Test
    void aPoolFuturesTimedGetAtTheEndsOfItsRangeWaitsNotAtAllOrForTheValue() throws Exception {
        Channel<String> gate = new Channel<>("gate", 0);
        CoroutinePool pool = CoroutinePool.start(1);
        try {
            CompletableFuture<String> f = pool.submit(() -> "got " + gate.receive());
            Throwable t = catchThrowable(() -> f.get(Long.MIN_VALUE, TimeUnit.NANOSECONDS));
            assertThat(t).isExactlyInstanceOf(TimeoutException.class).hasMessage("main context 'main' timed out in"
                    + " get(-9223372036854775808 NANOSECONDS) of the future of submit #1 to " + PoolName.of(pool)
                    + "[Not completed]: it is still not complete");
            gate.send("a");
            assertThat(f.get(Long.MAX_VALUE, TimeUnit.DAYS)).isEqualTo("got a");
        } finally {
            PoolsClosed.close(pool);
        }
    }
}
