package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
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
                "tryAcquire: coroutine 'c' is being closed: its tryAcquire a permit of Semaphore[permits, 0 of 1 permits free] throws"
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

    /**
     * A coroutine that closes others while they wait in every kind of wait (a sleep, a receive and a send, timed
     * or not, a semaphore's acquire, a select with a timeout and a future, a join, an await, an await under a
     * {@code withTimeout}, a generator's {@code next()} whose body sleeps) unwinds each once, in the order it
     * closes them, and is resumed after each: no timer, queued waiter, join or wait for a future is left
     * behind, so the virtual clock never moves, the channels and the semaphore serve the next callers, and
     * the future completed afterwards wakes nobody.
     */
    @Test
    @Timeout(10)
    void aCoroutineClosingOthersInEveryKindOfWaitUnwindsEachOnceAndLeavesNothingBehind() {
        VirtualTime.run(() -> {
            Channel<Integer> in = new Channel<>("in", 0);
            Channel<Integer> out = new Channel<>("out", 0);
            Semaphore permits = new Semaphore("permits", 1);
            permits.acquire();
            CompletableFuture<String> never = new CompletableFuture<>();
            Coroutine forever = Coroutine.create("forever", () -> in.receive());
            Duration second = Duration.ofSeconds(1);
            List<Coroutine> waiters = new ArrayList<>();
            List<Runnable> waits = List.of(
                    () -> Coroutine.sleep(second),
                    () -> in.receive(),
                    () -> out.send(1),
                    () -> in.tryReceive(second),
                    () -> out.trySend(2, second),
                    () -> permits.acquire(),
                    () -> permits.tryAcquire(second),
                    () -> new Select<String>().onReceive(in, v -> "in").onTimeout(second, () -> "timeout")
                            .onComplete(never, v -> v).select(),
                    () -> forever.join(),
                    () -> Coroutine.await(never),
                    () -> Coroutine.withTimeout(second, () -> Coroutine.await(never)),
                    () -> {
                        try (Generator<Integer> g = Generator.of("sleepy", emit -> {
                            try {
                                Coroutine.sleep(second);
                                emit.emit(1);
                            } finally {
                                log.add("body of sleepy unwound");
                            }
                        })) {
                            g.next();
                        }
                    });
            for (int k = waits.size() - 1; k >= 0; k--) { // created last first: main's yield runs them in order
                String name = "waiter-" + k;
                Runnable wait = waits.get(k);
                waiters.add(0, Coroutine.create(name, () -> {
                    try {
                        wait.run();
                        log.add(name + " returned");
                    } finally {
                        log.add(name + " unwound");
                    }
                }));
            }
            Coroutine.yield();
            for (Coroutine w : waiters) {
                assertThat(w.state()).as(w.name()).isEqualTo(State.PARKED);
            }
            List<String> expected = new ArrayList<>();
            Coroutine.create("closer", () -> {
                for (Coroutine w : waiters) {
                    w.close();
                    log.add("closed " + w.name() + " " + w.state());
                }
            }).switchTo();
            for (int k = 0; k < waits.size(); k++) {
                if (k == waits.size() - 1) {
                    expected.add("body of sleepy unwound");
                }
                expected.add("waiter-" + k + " unwound");
                expected.add("closed waiter-" + k + " CLOSED");
            }
            assertThat(log).containsExactlyElementsOf(expected);
            EventLoop loop = Scheduler.current().loop;
            assertThat(loop.timerCount()).as("timers left").isZero();
            assertThat(loop.hasPending()).as("no timer, I/O wait or wait for another thread counted").isFalse();
            assertThat(Scheduler.current().joinWaits()).as("joins left").isZero();
            assertThat(forever.state()).isEqualTo(State.PARKED);
            never.complete("late");
            Coroutine.yield();
            assertThat(in.trySend(3)).as("taken by the receiver left, the one that was never closed").isTrue();
            assertThat(forever.state()).isEqualTo(State.SUSPENDED);
            assertThat(out.tryReceive()).as("no sender left queued").isEmpty();
            permits.release();
            assertThat(permits.availablePermits()).isOne();
            assertThat(Coroutine.nanoTime()).as("the clock never moved").isZero();
            log.clear();
        });
        assertThat(log).isEmpty();
    }

    /**
     * A value handed to a timed receive, then to a select's receive clause with a timeout, each closed by the
     * sender after the hand-off woke it and before it ran, goes back and on to the next receiver in line, and
     * a permit handed to a timed acquire closed so goes on to the next acquirer: each is taken exactly once,
     * and the closed waiters' timers are gone.
     */
    @Test
    @Timeout(10)
    void aValueOrPermitHandedToATimedWaiterClosedBeforeItRunsGoesOnToTheNextInLine() {
        VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("ch", 0);
            Semaphore permits = new Semaphore("permits", 1);
            permits.acquire();
            Duration second = Duration.ofSeconds(1);
            Coroutine acquirer = Coroutine.create("acquirer", () -> {
                permits.acquire();
                log.add("acquirer took the permit");
                permits.release();
            });
            Coroutine timedAcquirer = Coroutine.create("timedAcquirer", () -> log.add("timedAcquirer " + permits.tryAcquire(second)));
            Coroutine receiver = Coroutine.create("receiver", () -> log.add("receiver " + ch.receive()));
            Coroutine selecting = Coroutine.create("selecting", () -> log.add("selecting " + new Select<String>()
                    .onReceive(ch, v -> "received " + v).onTimeout(second, () -> "timed out").select()));
            Coroutine timed = Coroutine.create("timed", () -> log.add("timed " + ch.tryReceive(second)));
            Coroutine.yield(); // they park in the order timed, selecting, receiver, timedAcquirer, acquirer
            Coroutine.create("handing", () -> {
                ch.send(7);
                log.add("timed " + timed.state());
                timed.close();
                log.add("selecting " + selecting.state());
                selecting.close();
                log.add("receiver " + receiver.state());
                permits.release();
                log.add("timedAcquirer " + timedAcquirer.state());
                timedAcquirer.close();
                log.add("acquirer " + acquirer.state());
            }).switchTo();
            while (!receiver.isFinished() || !acquirer.isFinished()) {
                Coroutine.yield();
            }
            assertThat(log).containsExactly("timed SUSPENDED", "selecting SUSPENDED", "receiver SUSPENDED",
                    "timedAcquirer SUSPENDED", "acquirer SUSPENDED", "acquirer took the permit", "receiver 7");
            assertThat(List.of(timed.state(), selecting.state(), timedAcquirer.state())).containsOnly(State.CLOSED);
            assertThat(ch.trySend(8)).as("no receiver left queued").isFalse();
            assertThat(permits.availablePermits()).isOne();
            assertThat(Scheduler.current().loop.timerCount()).isZero();
            assertThat(Coroutine.nanoTime()).isZero();
        });
    }

    /**
     * A select whose wait its timeout ended (its coroutine woken, not run yet), and one whose future has
     * completed (its wake-up not taken in yet: the coroutine still parked), each in a coroutine closed by
     * another before it ran again, are over: no clause fires in the closed coroutine, and the closer runs
     * each select at once itself, without the refusal of a run not over, its own clauses firing.
     */
    @Test
    @Timeout(10)
    void aSelectWokenAndThenClosedBeforeItsCoroutineRanMayRunAgainInTheCloser() {
        VirtualTime.run(() -> {
            Channel<String> ch = new Channel<>("ch", 1);
            CompletableFuture<String> done = new CompletableFuture<>();
            Select<String> timing = new Select<String>().onReceive(ch, v -> "received " + v)
                    .onTimeout(Duration.ofMillis(5), () -> "timed out");
            Select<String> completing = new Select<String>().onComplete(done, v -> "completed " + v);
            Coroutine timed = Coroutine.create("timed", () -> {
                try {
                    log.add("timed: " + timing.select());
                } finally {
                    log.add("timed unwound");
                }
            });
            Coroutine awaiting = Coroutine.create("awaiting", () -> {
                try {
                    log.add("awaiting: " + completing.select());
                } finally {
                    log.add("awaiting unwound");
                }
            });
            Coroutine.create("closer", () -> {
                Coroutine.sleep(Duration.ofMillis(5)); // due with the select's timeout, after it: woken after it
                done.complete("now"); // the other select's wake-up, taken in at the next scheduling point
                log.add("closing " + timed.state() + " and " + awaiting.state());
                timed.close();
                awaiting.close();
                ch.send("value");
                log.add("closer: " + timing.select());
                log.add("closer: " + completing.select());
            });
            Coroutine.yield(); // every coroutine parks
        });
        assertThat(log).containsExactly("closing SUSPENDED and PARKED", "timed unwound", "awaiting unwound",
                "closer: received value", "closer: completed now");
    }

    /**
     * A coroutine that closes the one parked in a join of it unwinds that joiner, leaving no join behind,
     * and goes on to its own end, which wakes nobody.
     */
    @Test
    @Timeout(10)
    void aCoroutineClosingItsOwnJoinerUnwindsItAndLeavesNoJoinBehind() {
        Coroutine[] joiner = new Coroutine[1];
        Coroutine target = Coroutine.create("target", () -> {
            log.add("target sees the joiner " + joiner[0].state() + ", joins " + Scheduler.current().joinWaits());
            joiner[0].close();
            log.add("target closed it: " + joiner[0].state() + ", joins " + Scheduler.current().joinWaits());
            Coroutine.yield();
            log.add("target ends");
        });
        joiner[0] = Coroutine.create("joiner", () -> {
            try {
                target.join();
                log.add("joiner returned from its join");
            } finally {
                log.add("joiner unwound");
            }
        });
        joiner[0].switchTo(); // it parks in its join; the target runs and closes it
        assertThat(target.state()).isEqualTo(State.SUSPENDED);
        target.switchTo();
        assertThat(target.state()).isEqualTo(State.FINISHED);
        assertThat(log).containsExactly("target sees the joiner PARKED, joins 1", "joiner unwound",
                "target closed it: CLOSED, joins 0", "target ends");
    }
}
