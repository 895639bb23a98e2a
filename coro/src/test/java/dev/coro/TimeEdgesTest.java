package dev.coro;

import static dev.coro.SchedulerClock.ms;
import static dev.coro.ThreadNames.thread;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The edges of time: durations at and past the ends of the clock's range, timeouts shorter than the
 * real clock's tick, a body that catches its own timeout's signal, scopes of a generator's body
 * against its consumer's, a timeout in a pool's coroutine, another thread's post that has come before
 * the virtual clock would jump, and that nothing is lost or doubled when waits of every kind time out
 * at random, on the real clock and under {@link VirtualTime}.
 */
@ExtendWith(FreshThread.class)
class TimeEdgesTest {

    /** How many seeds the test on the virtual clock runs: {@code -DtimeEdges.seeds=N} (8 by default). */
    private static final int SEEDS = Integer.getInteger("timeEdges.seeds", 8);
    /** The first seed the test on the virtual clock runs: {@code -DtimeEdges.seed=S} (1 by default). */
    private static final int FIRST = Integer.getInteger("timeEdges.seed", 1);
    /** How many seeds each test on the real clock runs: {@code -DtimeEdges.realSeeds=N} (1 by default). */
    private static final int REAL_SEEDS = Integer.getInteger("timeEdges.realSeeds", 1);
    /**
     * The first seed the tests on the real clock run: {@code -DtimeEdges.realSeed=S} (5 by default). The test on one
     * thread draws from seed S; the one across two threads draws from S + 1 on the receiving thread and S + 2 on the
     * sending thread (6 and 7 by default).
     */
    private static final int REAL_FIRST = Integer.getInteger("timeEdges.realSeed", 5);

    private final List<String> log = new ArrayList<>();

    /**
     * TIME.md: a deadline that fits the clock's range is a timer like any other, and the virtual
     * clock can be carried to its last nanoseconds; there a sleeper is woken at its exact deadline,
     * and every later deadline saturates: a wait for ever, which alone is a deadlock naming it so.
     * The thread's next run starts from 0 again.
     */
    @Test
    void theVirtualClockCarriedToTheEndOfItsRangeWakesASleeperThereAndEveryLaterDeadlineIsAWaitForEver() {
        long last = Long.MAX_VALUE - 1;
        VirtualTime.run(() -> {
            Coroutine late = Coroutine.create("late", () -> {
                Coroutine.sleep(Duration.ofNanos(last));
                log.add("late woke at " + Coroutine.nanoTime());
            });
            Coroutine.yield();
            Coroutine.sleep(Duration.ofNanos(last - 1));
            assertThat(Coroutine.nanoTime()).isEqualTo(last - 1);
            assertThat(Coroutine.dump()).contains("[1] coroutine 'late': PARKED, waits to sleep 9,223,372,036,854.775 ms"
                    + " (t=9,223,372,036,854.775 ms on the virtual clock, 0.000 ms left)");
            late.join();
            assertThat(Coroutine.nanoTime()).isEqualTo(last);
            // one nanosecond more reaches Long.MAX_VALUE, which saturates: no timer for either
            Throwable t = catchThrowable(() -> Coroutine.withTimeout(Duration.ofNanos(1), () -> Coroutine.sleep(Duration.ofNanos(1))));
            assertThat(t).isInstanceOf(DeadlockException.class).hasMessage("main context 'main' cannot sleep for ever (a duration"
                    + " past the clock's range): every other context of thread " + thread() + " is parked and no timer is"
                    + " pending, so nothing could ever wake it (deadlock):\n"
                    + "  main context 'main' would wait to sleep for ever (a duration past the clock's range)");
            Channel<String> ch = new Channel<>("ch", 0);
            assertThat(ch.tryReceive(Duration.ZERO)).isEmpty();
            assertThat(catchThrowable(() -> new Select<String>().onReceive(ch, v -> v).onTimeout(Duration.ofNanos(1), () -> "timeout")
                    .select())).isInstanceOf(DeadlockException.class)
                    .hasMessageContaining("main context 'main' would wait to select over receive from channel 'ch', timeout PT0.000000001S"
                            + " for ever (a duration past the clock's range)");
            assertThat(Coroutine.nanoTime()).as("the clock never reached the end of its range").isEqualTo(last);
        });
        assertThat(log).containsExactly("late woke at " + last);
        VirtualTime.run(() -> {
            Coroutine.sleep(Duration.ofNanos(1));
            log.add("the next run slept to " + Coroutine.nanoTime());
        });
        assertThat(log).endsWith("the next run slept to 1");
    }

    /**
     * TIME.md: timers due at the same instant expire in the order they were scheduled, at the
     * smallest duration too: a withTimeout of one nanosecond, scheduled first, interrupts a sleep of
     * one nanosecond in its body, while a body that reaches no scheduling point keeps its value
     * however late, and main alone yielding under a one-nanosecond timeout is interrupted at t = 1.
     */
    @Test
    void aTimeoutOfOneNanosecondWinsOverASleepDueAtTheSameInstantAndInterruptsAYieldLoopOfMainAlone() {
        Duration ns = Duration.ofNanos(1);
        VirtualTime.run(() -> {
            Throwable t = catchThrowable(() -> Coroutine.withTimeout(ns, () -> {
                Coroutine.sleep(ns);
                log.add("not reached");
            }));
            assertThat(t).isInstanceOf(CoroutineTimeoutException.class)
                    .hasMessage("main context 'main' timed out: withTimeout(PT0.000000001S) expired before its body returned");
            assertThat(t.getCause()).hasMessage("main context 'main': its withTimeout(PT0.000000001S) expired; its sleep 0.000 ms"
                    + " (t=0.000 ms on the virtual clock, due) throws this signal so that the body unwinds to it");
            log.add("sleep interrupted at " + Coroutine.nanoTime());
            log.add(Coroutine.withTimeout(ns, () -> "a body without a scheduling point keeps its value"));
            long start = Coroutine.nanoTime();
            t = catchThrowable(() -> Coroutine.withTimeout(ns, () -> {
                while (true) {
                    Coroutine.yield(); // main alone: an idle point, the clock jumps to the timeout
                }
            }));
            assertThat(t).isInstanceOf(CoroutineTimeoutException.class);
            log.add("yield loop interrupted after " + (Coroutine.nanoTime() - start) + " ns");
            assertThat(Scheduler.current().loop.timerCount()).isZero();
        });
        assertThat(log).containsExactly("sleep interrupted at 1", "a body without a scheduling point keeps its value",
                "yield loop interrupted after 1 ns");
    }

    /**
     * TIME.md: a body that catches its own scope's signal is interrupted again at every wait while the
     * scope is active; one that then returns without reaching another scheduling point returns its
     * value, and {@code withTimeout} returns it (the body chose its outcome, as one that returns
     * before its first scheduling point does); the scope leaves no timer.
     */
    @Test
    void aBodyThatCatchesItsOwnSignalIsInterruptedAtEveryWaitAndMayStillReturnAValue() {
        VirtualTime.run(() -> {
            Coroutine c = Coroutine.create("c", () -> {
                String v = Coroutine.withTimeout(Duration.ofSeconds(1), () -> {
                    for (int i = 0; i < 3; i++) {
                        try {
                            Coroutine.sleep(Duration.ofSeconds(2));
                            return "slept";
                        } catch (CoroutineExit e) {
                            log.add("caught " + e.getMessage() + " at " + ms());
                        }
                    }
                    return "fallback";
                });
                log.add("withTimeout returned " + v + " at " + ms());
            });
            c.join();
            assertThat(c.state()).isEqualTo(State.FINISHED);
            assertThat(Scheduler.current().loop.timerCount()).isZero();
        });
        String signal = "caught coroutine 'c': its withTimeout(PT1S) expired; its sleep 2,000.000 ms (t=";
        String end = " throws this signal so that the body unwinds to it at 1000";
        assertThat(log).hasSize(4);
        assertThat(log.get(0)).isEqualTo(signal + "2,000.000 ms on the virtual clock, 1,000.000 ms left)" + end);
        assertThat(log.get(1)).as("interrupted again at once").isEqualTo(signal + "3,000.000 ms on the virtual clock, 2,000.000 ms left)" + end);
        assertThat(log.get(2)).isEqualTo(log.get(1));
        assertThat(log.get(3)).isEqualTo("withTimeout returned fallback at 1000");
    }

    /**
     * A generator's body that opens a withTimeout of its own around a wait, consumed under a
     * withTimeout of its consumer: a body scope due sooner expires alone (the body catches it and
     * goes on emitting, its values reach the consumer in order); one due at the same instant or later
     * gives way to the consumer's, the outermost, which unwinds the body: a plain generator ends
     * {@code CLOSED}, a read-ahead one keeps the value it had emitted for the consumer.
     */
    @Test
    void aGeneratorBodysOwnTimeoutExpiresAloneWhenDueSoonerAndGivesWayToItsConsumersOtherwise() {
        for (int ahead : new int[] {1, 4}) {
            String timedOut = "body timed out at 500: main context 'main' timed out: withTimeout(PT0.5S), inside 1 enclosing"
                    + " withTimeout, expired before its body returned";
            List<String> sooner = generatorUnderTwoTimeouts(ahead, 500);
            if (ahead == 1) { // each value taken as it is emitted
                assertThat(sooner).as("plain, body's timeout sooner").containsExactly("got first", timedOut,
                        "got after the body's timeout", "got last", "consumer done at 500", "generator FINISHED");
            } else { // the body runs ahead to its end before the consumer takes the first
                assertThat(sooner).as("read-ahead, body's timeout sooner").containsExactly(timedOut, "got first",
                        "got after the body's timeout", "got last", "consumer done at 500", "generator FINISHED");
            }
            for (long bodyMs : new long[] {1000, 1500}) {
                List<String> outcome = generatorUnderTwoTimeouts(ahead, bodyMs);
                String unwound = "body unwound at 1000 by main context 'main': its withTimeout(PT1S) expired";
                if (ahead == 1) {
                    assertThat(outcome).as("plain, body's timeout %d ms", bodyMs).containsExactly("got first", unwound,
                            "consumer timed out at 1000: main context 'main' timed out: withTimeout(PT1S) expired before its body returned",
                            "generator CLOSED", "generator CLOSED");
                } else {
                    assertThat(outcome).as("read-ahead, body's timeout %d ms", bodyMs).containsExactly(unwound,
                            "consumer timed out at 1000: main context 'main' timed out: withTimeout(PT1S) expired before its body returned",
                            "generator SUSPENDED", "later got first", "generator CLOSED");
                }
            }
        }
    }

    /** {@link #aGeneratorBodysOwnTimeoutExpiresAloneWhenDueSoonerAndGivesWayToItsConsumersOtherwise}: one run. */
    private static List<String> generatorUnderTwoTimeouts(int ahead, long bodyMs) {
        List<String> out = new ArrayList<>();
        VirtualTime.run(() -> {
            Generator.Body<String, Void> body = emitter -> {
                emitter.emit("first");
                try {
                    Coroutine.withTimeout(Duration.ofMillis(bodyMs), () -> Coroutine.sleep(Duration.ofSeconds(10)));
                } catch (CoroutineTimeoutException e) {
                    out.add("body timed out at " + ms() + ": " + e.getMessage());
                    emitter.emit("after the body's timeout");
                } catch (CoroutineExit e) {
                    out.add("body unwound at " + ms() + " by " + e.getMessage().substring(0, e.getMessage().indexOf(';')));
                    throw e;
                }
                emitter.emit("last");
            };
            Generator<String> g = ahead > 1 ? Generator.buffered("g", ahead, body) : Generator.of("g", body);
            try {
                Coroutine.withTimeout(Duration.ofSeconds(1), () -> {
                    while (g.hasNext()) {
                        out.add("got " + g.next());
                    }
                });
                out.add("consumer done at " + ms());
            } catch (CoroutineTimeoutException e) {
                out.add("consumer timed out at " + ms() + ": " + e.getMessage());
            }
            out.add("generator " + g.state());
            if (g.state() != Generator.State.FINISHED) {
                while (g.hasNext()) {
                    out.add("later got " + g.next());
                }
                out.add("generator " + g.state());
            }
        });
        return out;
    }

    /**
     * TIME.md: under virtual time a local wait lets the clock jump at once, but not past a post that
     * has come already: another thread's first operation on the thread's channel, posted while the
     * last runnable coroutine ran, is run before the clock moves, whether that coroutine then parks
     * or ends (a park ran such posts first; the idle wait of a body's end let the clock jump past it,
     * and main, handed the value at the deadline, timed out in its next wait). Here main receives at
     * 0 and its 10 ms sleep ends well inside its one-second timeout, either way.
     */
    @Test
    @Timeout(60)
    void aPostThatCameWhileTheLastCoroutineRanIsRunBeforeTheClockJumpsWhetherItParksOrEnds() throws InterruptedException {
        for (boolean ends : new boolean[] {false, true}) {
            Thread[] sender = new Thread[1];
            VirtualTime.run(() -> {
                Channel<String> ch = new Channel<>("ch", 0);
                EventLoop loop = Scheduler.current().loop;
                Coroutine.create("last", () -> {
                    sender[0] = Thread.ofPlatform().name("sender").start(() -> ch.send("v"));
                    awaitPost(loop); // holds the thread, as a computation would, until the send's post has come
                    if (!ends) {
                        Coroutine.sleep(Duration.ofSeconds(5));
                    }
                });
                log.add(Coroutine.withTimeout(Duration.ofSeconds(1), () -> {
                    String v = ch.receive();
                    long at = ms();
                    Coroutine.sleep(Duration.ofMillis(10));
                    return (ends ? "after an end: " : "after a park: ") + v + " received at " + at + ", slept to " + ms();
                }));
            });
            sender[0].join();
        }
        assertThat(log).containsExactly("after a park: v received at 0, slept to 10", "after an end: v received at 0, slept to 10");
    }

    /** Spins, bounded, until another thread's post has come to {@code loop}'s inbox. */
    private static void awaitPost(EventLoop loop) {
        long giveUp = System.nanoTime() + 20_000_000_000L;
        while (loop.inbox.isEmpty()) {
            if (System.nanoTime() - giveUp > 0) {
                throw new AssertionError("no post came in 20 s");
            }
            Thread.onSpinWait();
        }
    }

    /**
     * A pool's coroutine times out on its own thread's real clock, its future failing with the
     * {@code CoroutineTimeoutException} that names it; a pool body may not start a virtual-time run,
     * being a coroutine, and is told so naming it, its state and its thread.
     */
    @Test
    @Timeout(30)
    void aPoolCoroutineTimesOutOnItsThreadsRealClockAndMayNotStartAVirtualTimeRun() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            CompletableFuture<String> timed = pool.submit("timed", () -> Coroutine.withTimeout(Duration.ofMillis(5), () -> {
                new Channel<String>("never", 0).receive();
                return "received";
            }));
            Throwable t = catchThrowable(timed::join);
            assertThat(t).isInstanceOf(CompletionException.class).cause().isInstanceOf(CoroutineTimeoutException.class)
                    .hasMessage("coroutine 'timed' timed out: withTimeout(PT0.005S) expired before its body returned");
            assertThat(t.getCause().getCause()).hasMessage("coroutine 'timed': its withTimeout(PT0.005S) expired; its receive"
                    + " from channel 'never' throws this signal so that the body unwinds to it");
            String[] worker = new String[1];
            CompletableFuture<String> virtual = pool.submit("virtual", () -> {
                Thread owner = Scheduler.current().owner; // the pool's thread (on the thread engine the body runs on one of its own)
                worker[0] = "'" + owner.getName() + "' (#" + owner.threadId() + ")";
                VirtualTime.run(() -> log.add("not reached"));
                return "ran";
            });
            t = catchThrowable(virtual::join);
            assertThat(t).cause().isInstanceOf(IllegalStateException.class).hasMessage("coroutine 'virtual' of thread " + worker[0]
                    + " (state RUNNING) cannot start VirtualTime.run: it is a coroutine"
                    + "; only main may start it, on a thread with no live coroutine");
        }
        assertThat(log).isEmpty();
    }

    /**
     * TIME.md: a run whose body leaves a coroutine sleeping past the clock's range waits for the
     * timers still pending (the other sleeper ends), then reports the one that can never end as a
     * deadlock naming its wait for ever, and closes it.
     */
    @Test
    void aRunLeavingACoroutineThatSleepsForEverReportsItOnceTheOtherTimersAreDoneAndClosesIt() {
        Throwable t = catchThrowable(() -> VirtualTime.run(() -> {
            Coroutine.create("for ever", () -> {
                try {
                    Coroutine.sleep(Duration.ofSeconds(Long.MAX_VALUE));
                } finally {
                    log.add("for ever closed at " + ms());
                }
            });
            Coroutine.create("an hour", () -> {
                Coroutine.sleep(Duration.ofHours(1));
                log.add("an hour ended at " + ms());
            });
        }));
        assertThat(t).isInstanceOf(DeadlockException.class).hasMessage("VirtualTime.run cannot return: every coroutine left"
                + " on thread " + thread() + " is parked and no timer is pending, so nothing could ever wake them (deadlock):\n"
                + "  coroutine 'for ever' waits to sleep for ever (a duration past the clock's range)");
        assertThat(log).containsExactly("an hour ended at 3600000", "for ever closed at 3600000");
    }

    /**
     * Conservation: permits of a semaphore taken through timed acquires, acquires under a
     * withTimeout, {@code withPermit} under one, and timed acquires inside one, while coroutines
     * parked on it are closed, under seeded random timing on the virtual clock: never more holders
     * than permits, every permit back at the end, no timer left, and every way a wait ends happened.
     */
    @Test
    void noPermitIsLostOrMadeWhenAcquiresTimeOutExpireInsideAWithTimeoutOrAreClosed() {
        int[] outcomes = new int[4]; // timed out, took one, closed while parked, most holders at once
        for (long seed = FIRST; seed < FIRST + SEEDS; seed++) {
            long s = seed;
            VirtualTime.run(seed, () -> {
                Random random = new Random(s);
                Semaphore permits = new Semaphore("db", 2);
                int[] holding = {0};
                Runnable hold = () -> {
                    holding[0]++;
                    outcomes[1]++;
                    outcomes[3] = Math.max(outcomes[3], holding[0]);
                    try {
                        Coroutine.sleep(Duration.ofMillis(random.nextInt(4)));
                    } finally {
                        holding[0]--;
                    }
                };
                List<Coroutine> workers = new ArrayList<>();
                for (int w = 0; w < 6; w++) {
                    workers.add(Coroutine.create("worker" + w, () -> {
                        for (int k = 0; k < 30; k++) {
                            Duration d = Duration.ofMillis(random.nextInt(6));
                            try {
                                switch (random.nextInt(4)) {
                                    case 0 -> {
                                        if (!permits.tryAcquire(d)) {
                                            outcomes[0]++;
                                            continue;
                                        }
                                        try {
                                            hold.run();
                                        } finally {
                                            permits.release();
                                        }
                                    }
                                    case 1 -> Coroutine.withTimeout(d, () -> {
                                        permits.acquire();
                                        try {
                                            hold.run();
                                        } finally {
                                            permits.release();
                                        }
                                    });
                                    case 2 -> Coroutine.withTimeout(d, () -> permits.withPermit(hold));
                                    default -> Coroutine.withTimeout(d, () -> {
                                        if (permits.tryAcquire(Duration.ofMillis(random.nextInt(6)))) {
                                            try {
                                                hold.run();
                                            } finally {
                                                permits.release();
                                            }
                                        } else {
                                            outcomes[0]++;
                                        }
                                    });
                                }
                            } catch (CoroutineTimeoutException e) {
                                outcomes[0]++;
                            }
                        }
                    }));
                }
                for (int round = 0; round < 5; round++) {
                    Coroutine.sleep(Duration.ofMillis(7));
                    workers.stream().filter(c -> c.state() == State.PARKED && c.context.waitingFor instanceof ChannelWaiter<?>)
                            .findFirst().ifPresent(victim -> {
                                outcomes[2]++;
                                victim.close();
                            });
                }
                for (Coroutine c : workers) {
                    c.join();
                }
                assertThat(holding[0]).isZero();
                assertThat(permits.availablePermits()).as("seed %d: every permit is back", s).isEqualTo(2);
                assertThat(Scheduler.current().loop.timerCount()).isZero();
            });
        }
        assertThat(outcomes[3]).as("never more holders than permits, and both held at once").isEqualTo(2);
        assertThat(java.util.Arrays.stream(outcomes).boxed().toList()).as("every way of ending a wait happened")
                .allSatisfy(n -> assertThat(n).isPositive());
    }

    /** A timeout for {@link #nothingIsLostOrDoubledWhenWaitsShorterThanTheRealClocksTickTimeOutOnOneThread}: zero, under a tick, about one, a few. */
    private static Duration shortTimeout(Random random) {
        return switch (random.nextInt(4)) {
            case 0 -> Duration.ZERO;
            case 1 -> Duration.ofNanos(1 + random.nextInt(1000));
            case 2 -> Duration.ofNanos(EventLoop.TICK_NANOS - 5_000 + random.nextInt(10_000));
            default -> Duration.ofNanos(random.nextInt(300_000));
        };
    }

    /**
     * A send of {@code v} that waits at most a {@link #shortTimeout}, one of three ways chosen at random: a
     * timed {@code trySend}, a {@code send} under a {@code withTimeout}, a select with an {@code onTimeout}.
     *
     * @return whether it reported the value sent
     */
    private static boolean timedSend(Channel<Integer> ch, int v, Random random) {
        Duration d = shortTimeout(random);
        return switch (random.nextInt(3)) {
            case 0 -> ch.trySend(v, d);
            case 1 -> {
                try {
                    Coroutine.withTimeout(d.plusNanos(1), () -> ch.send(v));
                    yield true;
                } catch (CoroutineTimeoutException e) {
                    yield false;
                }
            }
            default -> new Select<Boolean>().onSend(ch, v, () -> true).onTimeout(d, () -> false).select();
        };
    }

    /** A receive that waits at most a {@link #shortTimeout}, one of the three ways {@link #timedSend} sends: empty if it timed out. */
    private static Optional<Integer> timedReceive(Channel<Integer> ch, Random random) {
        Duration d = shortTimeout(random);
        return switch (random.nextInt(3)) {
            case 0 -> ch.tryReceive(d);
            case 1 -> {
                try {
                    yield Optional.of(Coroutine.withTimeout(d.plusNanos(1), ch::receive));
                } catch (CoroutineTimeoutException e) {
                    yield Optional.empty();
                }
            }
            default -> new Select<Optional<Integer>>().onReceive(ch, Optional::of).onTimeout(d, Optional::empty).select();
        };
    }

    /**
     * Conservation on the real clock, with timeouts from zero to a few of the loop's ticks (deadlines
     * rounded up to a tick, due while the others run): producers deliver through timed sends, sends
     * under a withTimeout and selects with an {@code onTimeout}, consumers take through timed
     * receives, receives under a withTimeout and selects; every value whose send reported success
     * is received exactly once, none that reported failure is, and no timer is left.
     */
    @Test
    @Timeout(60)
    void nothingIsLostOrDoubledWhenWaitsShorterThanTheRealClocksTickTimeOutOnOneThread() {
        for (int seed = REAL_FIRST; seed < REAL_FIRST + REAL_SEEDS; seed++) {
            exchangeOnOneThread(seed);
        }
    }

    /** {@link #nothingIsLostOrDoubledWhenWaitsShorterThanTheRealClocksTickTimeOutOnOneThread} with the timing drawn from {@code seed}. */
    private static void exchangeOnOneThread(int seed) {
        Random random = new Random(seed);
        Set<Integer> delivered = new HashSet<>();
        List<Integer> received = new ArrayList<>();
        int[] failed = new int[2]; // sends, receives that came back empty-handed
        Channel<Integer> ch = new Channel<>("ch", 1);
        List<Coroutine> producers = new ArrayList<>();
        for (int p = 0; p < 3; p++) {
            int id = p;
            producers.add(Coroutine.create("producer" + p, () -> {
                for (int k = 0; k < 1500; k++) {
                    int v = id * 10_000 + k;
                    boolean sent = timedSend(ch, v, random);
                    if (sent) {
                        delivered.add(v);
                    } else {
                        failed[0]++;
                    }
                }
            }));
        }
        List<Coroutine> consumers = new ArrayList<>();
        for (int c = 0; c < 2; c++) {
            consumers.add(Coroutine.create("consumer" + c, () -> {
                while (true) {
                    Optional<Integer> v;
                    try {
                        v = timedReceive(ch, random);
                    } catch (ChannelClosedException e) {
                        return; // closed and drained
                    }
                    if (v.isPresent()) {
                        received.add(v.get());
                    } else if (ch.isClosed()) {
                        return;
                    } else {
                        failed[1]++;
                    }
                }
            }));
        }
        for (Coroutine p : producers) {
            p.join();
        }
        ch.close();
        for (Coroutine c : consumers) {
            c.join();
        }
        assertThat(received).as("seed %d", seed).doesNotHaveDuplicates();
        assertThat(new HashSet<>(received)).as("seed %d", seed).isEqualTo(delivered);
        assertThat(failed[0]).as("seed %d: sends that timed out", seed).isPositive();
        assertThat(failed[1]).as("seed %d: receives that timed out", seed).isPositive();
        assertThat(Scheduler.current().loop.timerCount()).as("seed %d", seed).isZero();
    }

    /**
     * The same across two threads: a plain thread sends through timed sends, sends under a
     * withTimeout and selects with an {@code onTimeout}, all shorter than a few ticks of its clock,
     * to a channel of the test's thread, which receives the same ways; each value sent is received
     * once, none that timed out is, and neither thread is left a timer.
     */
    @Test
    @Timeout(60)
    void nothingIsLostOrDoubledWhenWaitsShorterThanTheRealClocksTickTimeOutAcrossTwoThreads() throws Exception {
        for (int seed = REAL_FIRST; seed < REAL_FIRST + REAL_SEEDS; seed++) {
            exchangeAcrossTwoThreads(seed + 1, seed + 2);
        }
    }

    /**
     * {@link #nothingIsLostOrDoubledWhenWaitsShorterThanTheRealClocksTickTimeOutAcrossTwoThreads} with the
     * receiver's timing drawn from {@code receiverSeed} and the sender's from {@code senderSeed}.
     */
    private static void exchangeAcrossTwoThreads(int receiverSeed, int senderSeed) throws Exception {
        Set<Integer> delivered = ConcurrentHashMap.newKeySet();
        List<Integer> received = new ArrayList<>();
        int[] emptyHanded = {0};
        Channel<Integer> ch = new Channel<>("ch", 0);
        CompletableFuture<Integer> senderTimers = new CompletableFuture<>();
        Thread sender = Thread.ofPlatform().name("sender").start(() -> {
            Random random = new Random(senderSeed);
            try {
                for (int k = 0; k < 2000; k++) {
                    if (timedSend(ch, k, random)) {
                        delivered.add(k);
                    }
                }
                ch.close();
                senderTimers.complete(Scheduler.current().loop.timerCount());
            } catch (Throwable t) {
                senderTimers.completeExceptionally(t);
                ch.close();
            }
        });
        Random random = new Random(receiverSeed);
        while (true) {
            Optional<Integer> v;
            try {
                v = timedReceive(ch, random);
            } catch (ChannelClosedException e) {
                break;
            }
            if (v.isPresent()) {
                received.add(v.get());
            } else if (ch.isClosed()) {
                break;
            } else {
                emptyHanded[0]++;
            }
        }
        sender.join();
        String seeds = "seeds " + receiverSeed + " and " + senderSeed;
        assertThat(senderTimers.join()).as("%s: the sender's timers", seeds).isZero();
        assertThat(received).as(seeds).doesNotHaveDuplicates();
        assertThat(new HashSet<>(received)).as(seeds).isEqualTo(delivered);
        assertThat(delivered).as("%s: some sends timed out", seeds).hasSizeLessThan(2000);
        assertThat(emptyHanded[0]).as("%s: some receives timed out", seeds).isPositive();
        assertThat(Scheduler.current().loop.timerCount()).as(seeds).isZero();
    }
}
