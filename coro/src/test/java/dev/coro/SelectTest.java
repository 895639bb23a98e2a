package dev.coro;

import static dev.coro.SchedulerClock.ms;
import static dev.coro.ThreadNames.thread;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** A {@link Select} fires exactly one of its clauses: the first ready, a random ready one, or the first to complete. */
@ExtendWith(FreshThread.class)
class SelectTest {

    private final List<String> log = new ArrayList<>();

    /** A channel of {@code capacity} holding {@code values}. */
    private static Channel<String> holding(String name, int capacity, String... values) {
        Channel<String> ch = new Channel<>(name, capacity);
        for (String v : values) {
            ch.send(v);
        }
        return ch;
    }

    @Test
    void aBiasedSelectFiresTheFirstReadyClauseInTheOrderGiven() {
        Channel<String> empty = holding("empty", 1);
        Channel<String> a = holding("a", 1, "x");
        Channel<String> b = holding("b", 1, "y");
        String r = new Select<String>().onReceive(empty, v -> "empty " + v).onReceive(b, v -> "b " + v)
                .onReceive(a, v -> "a " + v).select();
        assertThat(r).isEqualTo("b y");
        assertThat(a.tryReceive()).as("the other ready clause took nothing").contains("x");
        assertThat(empty.trySend("z")).as("the clause that was not ready left nothing queued").isTrue();
    }

    @Test
    @Timeout(60)
    void aSelectsToStringNamesItsClausesInTheOrderGivenAndItsDefaultOnAnyThread() throws InterruptedException {
        Channel<String> replies = holding("replies", 1);
        Channel<String> requests = holding("requests", 1);
        Select<String> s = new Select<>();
        assertThat(s).hasToString("Select[]");
        s.onReceive(replies, v -> "reply " + v).onSend(requests, "ping", () -> "sent")
                .onTimeout(Duration.ofMillis(50), () -> "timed out");
        String clauses = "receive from channel 'replies', send to channel 'requests', timeout PT0.05S";
        assertThat(s).hasToString("Select[" + clauses + "]");
        s.onDefault(() -> "none");
        assertThat(s).hasToString("Select[" + clauses + ", default]");
        assertThat(s.select()).isEqualTo("sent");
        assertThat(s).as("after a run").hasToString("Select[" + clauses + ", default]");
        AtomicReference<String> seen = new AtomicReference<>();
        assertThat(OtherThread.thrownOn("reader", () -> seen.set(s.toString()))).isNull();
        assertThat(seen.get()).as("read from another thread").isEqualTo("Select[" + clauses + ", default]");
    }

    @Test
    @Timeout(60)
    void aWaitingSelectsToStringSaysWhenItsTimeoutExpires() {
        VirtualTime.run(() -> {
            Channel<String> replies = new Channel<>("replies", 0);
            Select<String> s = new Select<String>().onReceive(replies, v -> v).onTimeout(Duration.ofMillis(50), () -> "timed out");
            Coroutine waiter = Coroutine.create("waiter", () -> log.add(s.select()));
            waiter.switchTo();
            Coroutine.sleep(Duration.ofMillis(20));
            assertThat(s).hasToString("Select[receive from channel 'replies', timeout PT0.05S"
                    + " (t=50.000 ms on the virtual clock, 30.000 ms left)]");
        });
        assertThat(log).containsExactly("timed out");
    }

    @Test
    void aSelectOfManyClausesKeepsThemAllInTheOrderGiven() {
        Select<String> s = new Select<>();
        List<Channel<String>> channels = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            Channel<String> ch = holding("c" + i, 1);
            channels.add(ch);
            int n = i;
            s.onReceive(ch, v -> "c" + n + " " + v);
        }
        channels.get(9).send("last");
        assertThat(s.select()).as("the tenth clause, the only one ready").isEqualTo("c9 last");
        channels.get(8).send("x");
        channels.get(5).send("y");
        assertThat(s.select()).as("the first ready of two").isEqualTo("c5 y");
        assertThat(s.select()).isEqualTo("c8 x");
        assertThat(s.onDefault(() -> "none").select()).as("none left ready").isEqualTo("none");
    }

    @Test
    void anUnbiasedSelectPicksAtRandomButTheSameSequenceOnEveryFreshRun() throws InterruptedException {
        List<String> first = new ArrayList<>();
        VirtualTime.run(() -> first.addAll(unbiasedPicks()));
        List<String> second = new ArrayList<>();
        VirtualTime.run(() -> second.addAll(unbiasedPicks()));
        AtomicReference<List<String>> third = new AtomicReference<>();
        AtomicReference<List<String>> fourth = new AtomicReference<>();
        assertThat(OtherThread.thrownOn("third", () -> third.set(unbiasedPicks()))).isNull();
        assertThat(OtherThread.thrownOn("fourth", () -> fourth.set(unbiasedPicks()))).isNull();
        assertThat(first).isEqualTo(second).isEqualTo(third.get()).isEqualTo(fourth.get());
        assertThat(Collections.frequency(first, "a")).as("both clauses get chosen").isBetween(1, 199);
        assertThat(first).containsOnly("a", "b");
    }

    @Test
    void aVirtualTimeRunGivenASeedPicksBySeedAndTheSameSeedPicksAlike() {
        List<List<String>> runs = new ArrayList<>();
        for (long seed : new long[] {42, 42, 43, Scheduler.SEED}) {
            List<String> picks = new ArrayList<>();
            VirtualTime.run(seed, () -> picks.addAll(unbiasedPicks()));
            runs.add(picks);
        }
        List<String> byProperty = new ArrayList<>();
        VirtualTime.run(() -> byProperty.addAll(unbiasedPicks()));
        assertThat(runs.get(0)).as("the same seed twice").isEqualTo(runs.get(1));
        assertThat(runs.get(2)).as("another seed").isNotEqualTo(runs.get(0));
        assertThat(runs.get(3)).as("the property's seed given").isEqualTo(byProperty).isNotEqualTo(runs.get(0));
        assertThat(Collections.frequency(runs.get(2), "a")).as("both clauses get chosen").isBetween(1, 199);
    }

    /**
     * The picks of an unbiased select follow from the seed alone, not from the engine: a run of seed 42 picks
     * the same clauses of three always ready on either (the build runs the tests on each).
     */
    @Test
    void anUnbiasedSelectOfAGivenSeedPicksTheSameOnEitherEngine() {
        List<String> picks = new ArrayList<>();
        VirtualTime.run(42, () -> {
            List<Channel<String>> channels = List.of(holding("a", 1, "a"), holding("b", 1, "b"), holding("c", 1, "c"));
            Select<String> s = new Select<>();
            for (Channel<String> ch : channels) {
                s.onReceive(ch, v -> v);
            }
            for (int i = 0; i < 24; i++) {
                String v = s.selectUnbiased();
                picks.add(v);
                channels.get(v.charAt(0) - 'a').send(v);
            }
        });
        assertThat(String.join("", picks)).isEqualTo("acacacbacabacacbcacacccb");
    }

    /** 200 unbiased selects between two channels that are always ready. */
    private static List<String> unbiasedPicks() {
        Channel<String> a = holding("a", 1, "a");
        Channel<String> b = holding("b", 1, "b");
        Select<String> s = new Select<String>().onReceive(a, v -> v).onReceive(b, v -> v);
        List<String> picks = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            String v = s.selectUnbiased();
            picks.add(v);
            (v.equals("a") ? a : b).send(v);
        }
        return picks;
    }

    @Test
    void theDefaultFiresWhenNothingIsReadyAndLeavesNothingQueued() {
        Channel<String> in = holding("in", 0);
        Channel<String> out = holding("out", 0);
        Coroutine other = Coroutine.create("other", () -> log.add("other ran"));
        String r = new Select<String>().onReceive(in, v -> "got " + v).onSend(out, "v", () -> "sent")
                .onTimeout(Duration.ofHours(1), () -> "timeout").onDefault(() -> "default").select();
        assertThat(r).isEqualTo("default");
        assertThat(other.state()).as("no park").isEqualTo(State.NEW);
        assertThat(in.trySend("z")).isFalse();
        assertThat(out.tryReceive()).isEmpty();
    }

    @Test
    void theTimeoutFiresWhenNothingComesAndLeavesNothingQueued() {
        Channel<String> in = holding("in", 0);
        VirtualTime.run(() -> log.add(new Select<String>().onReceive(in, v -> "got " + v)
                .onTimeout(Duration.ofSeconds(1), () -> "timeout at " + ms()).select()));
        assertThat(log).containsExactly("timeout at 1000");
        assertThat(in.trySend("z")).isFalse();
    }

    @Test
    void aValueArrivingBeforeTheTimeoutFiresItsClauseAndCancelsTheTimer() {
        Channel<String> in = holding("in", 0);
        VirtualTime.run(() -> {
            Coroutine.create("sender", () -> {
                Coroutine.sleep(Duration.ofSeconds(1));
                in.send("42");
            });
            log.add(new Select<String>().onReceive(in, v -> "got " + v + " at " + ms())
                    .onTimeout(Duration.ofSeconds(5), () -> "timeout").select());
            assertThatThrownBy(() -> new Channel<String>("idle", 0).receive()).as("no timer left")
                    .isInstanceOf(DeadlockException.class);
            log.add("then at " + ms());
        });
        assertThat(log).containsExactly("got 42 at 1000", "then at 1000");
    }

    @Test
    void onTheRealClockTheTimeoutFiresToo() {
        Channel<String> in = holding("in", 0);
        assertThat(new Select<String>().onReceive(in, v -> "got " + v).onTimeout(Duration.ofMillis(3), () -> "timeout")
                .select()).isEqualTo("timeout");
        assertThat(in.trySend("z")).isFalse();
    }

    @Test
    void aZeroTimeoutIsReadyAtOnce() {
        Channel<String> in = holding("in", 0);
        Coroutine other = Coroutine.create("other", () -> log.add("other ran"));
        assertThat(new Select<String>().onReceive(in, v -> "got " + v).onTimeout(Duration.ZERO, () -> "timeout")
                .select()).isEqualTo("timeout");
        assertThat(other.state()).as("no park").isEqualTo(State.NEW);
    }

    @Test
    void theDumpOfAParkedSelectShowsItsTimeoutWithTheDeadline() {
        Channel<String> in = holding("in", 0);
        VirtualTime.run(() -> {
            Coroutine selector = Coroutine.create("selector", () -> log.add(new Select<String>()
                    .onReceive(in, v -> "got " + v).onTimeout(Duration.ofSeconds(1), () -> "timeout").select()));
            Coroutine.yield();
            assertThat(selector.state()).isEqualTo(State.PARKED);
            assertThat(Coroutine.dump()).contains("\n  [1] coroutine 'selector': PARKED, waits to select over receive from"
                    + " channel 'in', timeout PT1S (t=1,000.000 ms on the virtual clock, 1,000.000 ms left)\n");
            in.send("v");
            Coroutine.yield();
        });
        assertThat(log).containsExactly("got v");
    }

    @Test
    void ofTheClausesOfAParkedSelectExactlyOneFiresAndTheOthersLeaveNoTrace() {
        Channel<String> a = holding("a", 0);
        Channel<String> b = holding("b", 0);
        Channel<String> out = holding("out", 0);
        VirtualTime.run(() -> {
            Coroutine.create("partner", () -> {
                log.add("a took 1: " + a.trySend("1"));
                log.add("b took 2: " + b.trySend("2"));
                log.add("out offered: " + out.tryReceive());
            });
            log.add(new Select<String>().onReceive(a, v -> "a " + v).onReceive(b, v -> "b " + v)
                    .onSend(out, "9", () -> "sent 9").onTimeout(Duration.ofSeconds(1), () -> "timeout").select());
            assertThatThrownBy(() -> new Channel<String>("idle", 0).receive()).as("the timeout clause left no timer")
                    .isInstanceOf(DeadlockException.class);
            assertThat(Coroutine.nanoTime()).isZero();
        });
        assertThat(log).containsExactly("a took 1: true", "b took 2: false", "out offered: Optional.empty", "a 1");
    }

    @Test
    void ofTwoReadyClausesTheLoserTakesAndSendsNothing() {
        Channel<String> a = holding("a", 1, "x");
        Channel<String> out = holding("out", 1);
        assertThat(new Select<String>().onReceive(a, v -> "a " + v).onSend(out, "9", () -> "sent").select())
                .isEqualTo("a x");
        assertThat(out.tryReceive()).isEmpty();
        assertThat(new Select<String>().onSend(out, "9", () -> "sent").onReceive(holding("c", 1, "y"), v -> v).select())
                .isEqualTo("sent");
        assertThat(out.tryReceive()).contains("9");
    }

    @Test
    void twoCoroutinesExchangeValuesBySelectingAsSenderAndReceiver() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        VirtualTime.run(() -> {
            Coroutine.create("sender", () -> {
                for (int i = 1; i <= 3; i++) {
                    int v = i;
                    log.add(new Select<String>().onSend(ch, v, () -> "sent " + v).select());
                }
            });
            Coroutine.create("receiver", () -> {
                for (int i = 1; i <= 3; i++) {
                    log.add(new Select<String>().onReceive(ch, v -> "got " + v).select());
                }
            });
        });
        assertThat(log).containsExactly("sent 1", "got 1", "got 2", "sent 2", "sent 3", "got 3");
    }

    @Test
    void aClauseOnAChannelClosedBeforeTheSelectFiresAndThrows() {
        Channel<String> open = holding("open", 0);
        Channel<String> closed = holding("closed", 1, "last");
        closed.close();
        Select<String> receive = new Select<String>().onReceive(open, v -> v).onReceive(closed, v -> "got " + v);
        assertThat(receive.select()).as("a closed channel's buffered value is still received").isEqualTo("got last");
        assertThatThrownBy(receive::select).isInstanceOf(ChannelClosedException.class)
                .hasMessage("main context 'main' cannot select onReceive from channel 'closed' (closed): no value is left"
                        + " in it, and none can come; leave the clause out to go on");
        assertThatThrownBy(() -> new Select<String>().onSend(closed, "v", () -> "sent").onReceive(open, v -> v).select())
                .isInstanceOf(ChannelClosedException.class)
                .hasMessage("main context 'main' cannot select onSend(v) to channel 'closed' (closed): a closed channel"
                        + " takes no more values, and the value was not delivered; leave the clause out to go on");
        assertThat(open.trySend("z")).as("nothing left queued").isFalse();
    }

    @Test
    void anOnSendClauseOnAClosedChannelThrowsItsOwnExceptionEvenForAValueThatCannotSayWhatItIs() {
        Channel<Object> closed = new Channel<>("closed", 1);
        closed.close();
        Object unprintable = new Object() {
            @Override
            public String toString() {
                throw new IllegalStateException("no text");
            }
        };
        assertThatThrownBy(() -> new Select<String>().onSend(closed, unprintable, () -> "sent").select())
                .isInstanceOf(ChannelClosedException.class)
                .message().matches(Pattern.quote("main context 'main' cannot select onSend(")
                        + "dev\\.coro\\.SelectTest\\$\\d+@\\p{XDigit}+"
                        + Pattern.quote(" (its toString() threw java.lang.IllegalStateException)) to channel 'closed' (closed):"
                        + " a closed channel takes no more values, and the value was not delivered; leave the clause out to go on"));
    }

    @Test
    void aClauseOnAChannelClosedWhileTheSelectIsParkedFiresAndThrows() {
        Channel<String> in = holding("in", 0);
        Channel<String> out = holding("out", 0);
        Channel<String> other = holding("other", 0);
        VirtualTime.run(() -> {
            Coroutine.create("closer", () -> {
                Coroutine.sleep(Duration.ofSeconds(1));
                in.close();
                Coroutine.sleep(Duration.ofSeconds(1));
                out.close();
            });
            assertThatThrownBy(() -> new Select<String>().onReceive(other, v -> v).onReceive(in, v -> v).select())
                    .isInstanceOf(ChannelClosedException.class)
                    .hasMessage("main context 'main' cannot select onReceive from channel 'in' (closed): no value is left"
                            + " in it, and none can come; leave the clause out to go on");
            log.add("receive clause threw at " + ms());
            assertThatThrownBy(() -> new Select<String>().onReceive(other, v -> v).onSend(out, "v", () -> "sent").select())
                    .isInstanceOf(ChannelClosedException.class)
                    .hasMessage("main context 'main' cannot select onSend(v) to channel 'out' (closed): a closed channel"
                            + " takes no more values, and the value was not delivered; leave the clause out to go on");
            log.add("send clause threw at " + ms());
        });
        assertThat(log).containsExactly("receive clause threw at 1000", "send clause threw at 2000");
        assertThat(other.trySend("z")).as("the other clause left nothing queued").isFalse();
    }

    @Test
    void aParkedSelectWhoseCoroutineIsClosedLeavesNothingQueued() {
        Channel<String> in = holding("in", 0);
        Channel<String> out = holding("out", 0);
        VirtualTime.run(() -> {
            Coroutine selector = Coroutine.create("selector", () -> {
                try {
                    new Select<String>().onReceive(in, v -> v).onSend(out, "v", () -> "sent")
                            .onTimeout(Duration.ofHours(1), () -> "timeout").select();
                } finally {
                    log.add("selector finally at " + ms());
                }
            });
            Coroutine.yield();
            assertThat(selector.state()).isEqualTo(State.PARKED);
            selector.close();
            assertNothingQueuedAndNoTimerLeft(in, out);
        });
        assertThat(log).containsExactly("selector finally at 0");
    }

    @Test
    @Timeout(10)
    void aFailureForAMainParkedInASelectCancelsItsWaitAndLeavesNothingQueued() {
        Channel<String> in = holding("in", 0);
        Channel<String> out = holding("out", 0);
        VirtualTime.run(() -> {
            Coroutine parent = Coroutine.create("parent", () -> {
                Coroutine.create("child", () -> {
                    throw new IllegalStateException("bad child");
                });
                new Channel<String>("never", 0).receive(); // parked: the child's failure goes to main
            });
            assertThatThrownBy(() -> new Select<String>().onReceive(in, v -> v).onSend(out, "v", () -> "sent")
                    .onTimeout(Duration.ofHours(1), () -> "timeout").select()).isInstanceOf(CoroutineException.class)
                    .hasMessage("coroutine 'child' failed: java.lang.IllegalStateException: bad child");
            log.add("select threw at " + ms());
            parent.close();
            assertNothingQueuedAndNoTimerLeft(in, out);
        });
        assertThat(log).containsExactly("select threw at 0");
    }

    /**
     * Checks that a select of this thread that waited to receive from {@code in} and to send to {@code out}
     * left nothing queued on them (no receiver waits on {@code in}, no sender on {@code out}) and no timer
     * (a receive that nothing can complete is a deadlock at once).
     */
    private static void assertNothingQueuedAndNoTimerLeft(Channel<String> in, Channel<String> out) {
        assertThat(in.trySend("z")).isFalse();
        assertThat(out.tryReceive()).isEmpty();
        assertThatThrownBy(() -> new Channel<String>("idle", 0).receive()).as("no timer left")
                .isInstanceOf(DeadlockException.class);
    }

    /**
     * A coroutine 'selector' parked in a select receiving from {@code other} or {@code in} (logging
     * {@code "other <v>"} or {@code "in <v>"}, then {@code "selector finally"}), to whose {@code in} clause
     * the value {@code "x"} has just been handed: the select won, its coroutine is woken but has not run.
     */
    private Coroutine selectorHandedX(Channel<String> in, Channel<String> other) {
        Coroutine selector = Coroutine.create("selector", () -> {
            try {
                log.add(new Select<String>().onReceive(other, v -> "other " + v).onReceive(in, v -> "in " + v).select());
            } finally {
                log.add("selector finally");
            }
        });
        selector.switchTo(); // parks in the select
        in.send("x"); // handed to its waiting clause
        return selector;
    }

    /** Checks that the clause on {@code other} (a channel of capacity 1, empty) of a select left nothing queued there. */
    private static void assertTheOtherClauseLeftNothingQueued(Channel<String> other) {
        assertThat(other.trySend("y")).as("the other clause left nothing queued").isTrue();
        assertThat(other.tryReceive()).contains("y");
    }

    @Test
    void aValueHandedToAParkedSelectWhoseCoroutineIsClosedBeforeItRunsGoesBackToItsChannel() {
        Channel<String> in = holding("in", 1);
        Channel<String> other = holding("other", 1);
        Coroutine selector = selectorHandedX(in, other);
        assertThat(selector.state()).isEqualTo(State.SUSPENDED);
        selector.close();
        assertThat(log).containsExactly("selector finally");
        assertThat(in.tryReceive()).as("the value went back to its channel").contains("x");
        assertThat(in.tryReceive()).as("once").isEmpty();
        assertTheOtherClauseLeftNothingQueued(other);
    }

    @Test
    void aValueHandedToAParkedSelectBeforeItsChannelClosedStaysItsResultWhenItsCoroutineIsClosedBeforeItRuns() {
        Channel<String> in = holding("in", 1);
        Channel<String> other = holding("other", 1);
        Coroutine selector = selectorHandedX(in, other);
        in.close();
        assertThat(in.tryReceive()).as("closed and drained").isEmpty();
        selector.close();
        assertThat(log).as("the value is the select's: it fires").containsExactly("in x", "selector finally");
        assertThat(in.tryReceive()).as("nothing lies in the channel everyone was told is drained").isEmpty();
        assertTheOtherClauseLeftNothingQueued(other);
    }

    @Test
    void aSelectInterruptedByWithTimeoutLeavesNothingQueued() {
        Channel<String> in = holding("in", 0);
        Channel<String> out = holding("out", 0);
        VirtualTime.run(() -> {
            assertThatThrownBy(() -> Coroutine.withTimeout(Duration.ofSeconds(1), () -> new Select<String>()
                    .onReceive(in, v -> v).onSend(out, "v", () -> "sent").onTimeout(Duration.ofHours(1), () -> "timeout")
                    .select())).isInstanceOf(CoroutineTimeoutException.class);
            assertNothingQueuedAndNoTimerLeft(in, out);
            assertThat(ms()).isEqualTo(1000);
        });
    }

    @Test
    void aSelectInterruptedByWithTimeoutLeavesItsQueuesAtOnceSoNothingIsHandedToItBeforeItRunsAgain() {
        Channel<String> in = holding("in", 0);
        VirtualTime.run(() -> {
            Coroutine.create("selector", () -> {
                try {
                    Coroutine.withTimeout(Duration.ofSeconds(1), () -> new Select<String>().onReceive(in, v -> "got " + v)
                            .select());
                } catch (CoroutineTimeoutException e) {
                    log.add("selector interrupted");
                }
            });
            Coroutine.create("sender", () -> { // created last: it runs first when both wake at 1000
                Coroutine.sleep(Duration.ofSeconds(1));
                log.add("at " + ms() + " a receiver takes the value: " + in.trySend("v"));
            });
            Coroutine.sleep(Duration.ofSeconds(2));
        });
        assertThat(log).containsExactly("at 1000 a receiver takes the value: false", "selector interrupted");
        assertThat(in.tryReceive()).as("nothing was handed over and given back").isEmpty();
    }

    /**
     * A waiter of another thread as the channel sees it when its own thread interrupts it (a timeout,
     * a close) just after a select found it ready: not stale yet, but it cannot be locked any more.
     */
    private static <T> ChannelWaiter<T> leavingWaiter(Channel<T> ch, boolean sender, T value) {
        return new ChannelWaiter<>(ch, sender, Scheduler.current().main, value) {
            @Override
            boolean lock() {
                return false;
            }
        };
    }

    @Test
    void aClauseWhosePartnerOfAnotherThreadLeftBeforeItFiredIsNotReadyAndTheSelectGoesOn() {
        Channel<String> ch = new Channel<>("ch", 0);
        ch.enqueue(leavingWaiter(ch, true, "gone"));
        assertThat(new Select<String>().onReceive(ch, v -> "received " + v).onDefault(() -> "default").select())
                .as("a receive whose only sender left: no ChannelClosedException on an open channel").isEqualTo("default");
        ch.enqueue(leavingWaiter(ch, false, null));
        assertThat(new Select<String>().onSend(ch, "v", () -> "sent").onDefault(() -> "default").selectUnbiased())
                .as("a send whose only receiver left").isEqualTo("default");

        ch.enqueue(leavingWaiter(ch, true, "gone"));
        Coroutine.create("sender", () -> ch.send("real"));
        assertThat(new Select<String>().onReceive(ch, v -> "received " + v).select())
                .as("without a default it parks, and a real partner completes it").isEqualTo("received real");
        assertThat(ch.tryReceive()).isEmpty();
    }

    /**
     * A clause whose only partner, a waiter of another thread, leaves between the select's check and its firing
     * is not ready, and the select goes on to another clause that is: the first clause's channel is left as it
     * was, the other's value taken; so for a receive and for a send whose partner left, biased or not.
     */
    @Test
    void aClauseWhosePartnerOfAnotherThreadLeftBeforeItFiredLetsTheSelectFireAnotherReadyClause() {
        Channel<String> ch = new Channel<>("ch", 0);
        Channel<String> ready = holding("ready", 1);
        ready.trySend("r1");
        ch.enqueue(leavingWaiter(ch, true, "gone"));
        assertThat(new Select<String>().onReceive(ch, v -> "received " + v).onReceive(ready, v -> "ready " + v)
                .onDefault(() -> "default").select()).as("a receive whose only sender left").isEqualTo("ready r1");
        ready.trySend("r2");
        ch.enqueue(leavingWaiter(ch, false, null));
        assertThat(new Select<String>().onSend(ch, "v", () -> "sent").onReceive(ready, v -> "ready " + v)
                .select()).as("a send whose only receiver left").isEqualTo("ready r2");
        assertThat(ready.tryReceive()).isEmpty();
        assertThat(ch.isClosed()).isFalse();
    }

    /**
     * Queues on {@code ch} an operation of another thread as the channel holds it between its
     * caller's interrupt (a timeout, a close, on the caller's thread) and the removal that follows:
     * stale, waiting to be taken out.
     */
    private static <T> void enqueueLeftOperation(Channel<T> ch, int kind, T value) {
        RemoteOp<T> op = new RemoteOp<>(ch, kind, Scheduler.current().main, value, "left");
        assertThat(op.ticket.interrupt()).isTrue();
        ch.enqueue(op);
    }

    /** Twenty unbiased runs of a select over four channels, two of them with a left operation queued first if {@code left}. */
    private static List<String> unbiasedPicks(boolean left) {
        Channel<String> in = holding("in", 0);
        Channel<String> out = holding("out", 0);
        Channel<String> a = holding("a", 1);
        Channel<String> b = holding("b", 1);
        if (left) {
            enqueueLeftOperation(in, RemoteOp.SEND, "gone");
            enqueueLeftOperation(out, RemoteOp.RECEIVE, null);
        }
        Select<String> s = new Select<String>().onReceive(in, v -> "in " + v).onSend(out, "o", () -> "out")
                .onReceive(a, v -> "a").onSend(b, "w", () -> "b");
        List<String> picks = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            a.trySend("v"); // a always holds a value, b always has room
            b.tryReceive();
            picks.add(s.selectUnbiased());
        }
        return picks;
    }

    @Test
    void operationsOfAnotherThreadThatLeftDoNotCountAmongTheReadyClausesOfAnUnbiasedSelect() {
        List<List<String>> runs = new ArrayList<>();
        VirtualTime.run(() -> runs.add(unbiasedPicks(true)));
        VirtualTime.run(() -> runs.add(unbiasedPicks(false)));
        assertThat(runs.get(0)).as("the picks of the same select without them, from the same seed").isEqualTo(runs.get(1))
                .contains("a", "b");
    }

    /** A null argument of a clause is refused naming its parameter, and adds nothing: the select is as it was. */
    @Test
    void aNullArgumentOfAClauseIsRefusedNamingItAndAddsNothing() {
        Channel<String> ch = holding("ch", 1);
        Select<String> s = new Select<>();
        java.util.concurrent.CompletableFuture<String> stage = new java.util.concurrent.CompletableFuture<>();
        List<Runnable> calls = List.of(() -> s.onReceive((Channel<String>) null, v -> v), () -> s.onReceive(ch, null),
                () -> s.onSend((Channel<String>) null, "v", () -> "sent"), () -> s.onSend(ch, null, () -> "sent"), () -> s.onSend(ch, "v", null),
                () -> s.onTimeout(null, () -> "t"), () -> s.onTimeout(Duration.ZERO, null),
                () -> s.onComplete((java.util.concurrent.CompletionStage<String>) null, v -> v), () -> s.onComplete(stage, null), () -> s.onDefault(null));
        List<String> named = new ArrayList<>();
        for (Runnable call : calls) {
            Throwable e = catchThrowable(call::run);
            assertThat(e).isExactlyInstanceOf(NullPointerException.class);
            named.add(e.getMessage());
        }
        assertThat(named).containsExactly("channel", "f", "channel", "value", "f", "d", "f", "stage", "f", "f");
        assertThat(s).hasToString("Select[]");
        assertThat(ch.trySend("x")).as("nothing was sent").isTrue();
        assertThat(ch.tryReceive()).contains("x");
        assertThat(stage.getNumberOfDependents()).as("nothing was left on the stage").isZero();
    }

    @Test
    void aSelectWithoutAClauseThrows() {
        String refusal = " cannot select: the select has no clause, so it would wait forever";
        assertThatThrownBy(() -> new Select<String>().select()).isInstanceOf(IllegalStateException.class)
                .hasMessage("thread " + thread() + refusal);
        assertThat(Scheduler.currentOrNull()).as("no scheduler made for the refusal").isNull();
        Coroutine.current(); // the thread has a scheduler from here on
        assertThatThrownBy(() -> new Select<String>().select()).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main'" + refusal);
        assertThatThrownBy(() -> new Select<String>().selectUnbiased()).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main'" + refusal);
        Coroutine.create("c", () -> assertThatThrownBy(() -> new Select<String>().select()).hasMessage("coroutine 'c'" + refusal))
                .switchTo();
        assertThat(new Select<String>().onDefault(() -> "default").select()).isEqualTo("default");
    }

    /**
     * A clause on another thread's channel fires as one on the caller's own would: a value there is taken, a
     * zero timeout before a send clause fires first (biased), and one after it comes too late.
     */
    @Test
    void aClauseOnAnotherThreadsChannelFiresFromThatThreadAsOnItsOwn() {
        Channel<String> mine = holding("mine", 1, "x");
        List<String> seen = Peer.call("intruder", () -> List.of(
                new Select<String>().onReceive(mine, v -> "got " + v).select(),
                new Select<String>().onTimeout(Duration.ZERO, () -> "timeout").onSend(mine, "y", () -> "sent").select(),
                new Select<String>().onSend(mine, "z", () -> "sent").onTimeout(Duration.ZERO, () -> "timeout").select()));
        assertThat(seen).containsExactly("got x", "timeout", "sent");
        assertThat(mine.tryReceive()).contains("z");
        assertThat(mine.tryReceive()).isEmpty();
    }

    /**
     * A clause on a channel whose thread has ended: a select that reaches it (waits on it, or, with a
     * default, tries it) throws, naming the channel and that thread; a clause before it that is ready fires
     * first.
     */
    @Test
    void aSelectOverAChannelWhoseThreadHasEndedThrowsNamingItUnlessAnEarlierClauseFires() throws InterruptedException {
        AtomicReference<Channel<String>> theirs = new AtomicReference<>();
        AtomicReference<String> theirThread = new AtomicReference<>();
        assertThat(OtherThread.thrownOn("owner", () -> {
            theirs.set(new Channel<>("theirs", 1));
            theirThread.set(thread());
        })).isNull();
        Channel<String> mine = holding("mine", 1, "x");
        assertThat(new Select<String>().onReceive(mine, v -> v).onReceive(theirs.get(), v -> v).select()).isEqualTo("x");
        String message = "main context 'main' of thread " + thread() + " cannot select a receive from channel 'theirs' (open):"
                + " it belongs to thread " + theirThread.get() + ", which has ended";
        assertThatThrownBy(() -> new Select<String>().onReceive(theirs.get(), v -> v).onReceive(mine, v -> v).select())
                .isInstanceOf(IllegalStateException.class).hasMessage(message);
        assertThatThrownBy(() -> new Select<String>().onReceive(theirs.get(), v -> v).onDefault(() -> "none").select())
                .isInstanceOf(IllegalStateException.class).hasMessage(message);
    }

    @Test
    void aSelectThatRanOnOneThreadIsRefusedWhenRunFromAnotherNamingBoth() throws InterruptedException {
        Channel<String> mine = holding("mine", 1, "x");
        Select<String> s = new Select<String>().onReceive(mine, v -> "got " + v).onDefault(() -> "default");
        assertThat(s.select()).isEqualTo("got x");
        mine.send("y");
        Throwable e = OtherThread.thrownOn("intruder", s::select);
        assertThat(e).isInstanceOf(IllegalStateException.class).hasMessageMatching("thread"
                + " 'intruder' \\(#\\d+\\) cannot select over receive from channel 'mine': this select belongs to thread "
                + Pattern.quote(thread()) + " \\(which ran it first\\); a select with a channel clause runs on one thread, so give"
                + " each thread its own");
        assertThat(mine.tryReceive()).as("untouched").contains("y");
        assertThat(s.select()).as("on its own thread it runs again").isEqualTo("default");
    }

    /**
     * A clause added from another thread to a select with a channel clause that a thread ran first is refused, naming
     * the caller (a coroutine with its thread; a thread without a scheduler as a thread, none being made for the
     * message), the select and the thread it belongs to, as a run from there is: the select runs on that thread alone,
     * whose runs read its clauses without a lock, and one added meanwhile would race with them. The select keeps its
     * clauses. A select that no thread has run yet takes clauses from any thread (it is handed over, built on one
     * thread and run on another), and so does one without a channel clause, which belongs to no thread.
     */
    @Test
    @Timeout(10)
    void aClauseAddedFromAnotherThreadToASelectThatRanOnOneThreadIsRefusedNamingBoth() throws InterruptedException {
        Channel<String> mine = holding("mine", 1, "x");
        Select<String> s = new Select<String>().onReceive(mine, v -> "got " + v).onDefault(() -> "default");
        assertThat(s.select()).isEqualTo("got x");
        List<String> messages = new ArrayList<>();
        List<Boolean> schedulers = new ArrayList<>();
        Thread plain = Thread.ofPlatform().name("plain").start(() -> {
            for (Runnable add : List.<Runnable>of(() -> s.onReceive(mine, v -> "theirs"), () -> s.onSend(mine, "z", () -> "sent"),
                    () -> s.onTimeout(Duration.ofSeconds(1), () -> "timed out"),
                    () -> s.onComplete(new java.util.concurrent.CompletableFuture<String>(), v -> v))) {
                messages.add(catchThrowable(add::run).getMessage());
            }
            schedulers.add(Scheduler.currentOrNull() != null);
        });
        plain.join();
        Throwable fromACoroutine = OtherThread.thrownOn("intruder", () -> Coroutine.create("adder", () -> s.onReceive(mine, v -> "theirs"))
                .switchTo());
        String belongs = " to Select[receive from channel 'mine', default]: this select belongs to thread " + thread()
                + " (which ran it first); a select with a channel clause runs on one thread, so give each thread its own";
        String caller = "thread 'plain' (#" + plain.threadId() + ") cannot add an ";
        assertThat(messages).containsExactly(caller + "onReceive clause" + belongs, caller + "onSend clause" + belongs,
                caller + "onTimeout clause" + belongs, caller + "onComplete clause" + belongs);
        assertThat(schedulers).as("no refusal made the thread a scheduler").containsExactly(false);
        assertThat(fromACoroutine).isInstanceOf(CoroutineException.class).cause().isInstanceOf(IllegalStateException.class)
                .hasMessageMatching("coroutine 'adder' of thread 'intruder' \\(#\\d+\\) cannot add an onReceive clause"
                        + Pattern.quote(belongs));
        assertThat(s.toString()).as("it keeps its clauses").isEqualTo("Select[receive from channel 'mine', default]");
        assertThat(s.select()).as("on its own thread it runs as before").isEqualTo("default");

        Select<String> handed = new Select<>();
        Select<String> timeouts = new Select<String>().onTimeout(Duration.ZERO, () -> "at once");
        assertThat(timeouts.select()).isEqualTo("at once");
        assertThat(OtherThread.thrownOn("builder", () -> {
            handed.onReceive(mine, v -> "handed " + v);
            timeouts.onDefault(() -> "default");
        })).isNull();
        mine.send("y");
        assertThat(handed.select()).as("built on another thread, run first here").isEqualTo("handed y");
        assertThat(timeouts.toString()).isEqualTo("Select[timeout PT0S, default]");
    }

    /**
     * A clause's function runs once its operation has completed: what it throws, the select throws as it
     * is (a checked exception or an {@code Error} too, nothing wrapped), and the operation stays done, a
     * value received taken from its channel, a value sent delivered, whether the clause was ready at once
     * or fired while the select waited.
     */
    @Test
    @Timeout(10)
    void whatAClausesFunctionThrowsTheSelectThrowsAsItIsAndTheOperationStaysDone() {
        IllegalStateException unchecked = new IllegalStateException("unchecked");
        Exception checked = new java.io.IOException("checked");
        Error error = new AssertionError("error");
        Channel<String> in = holding("in", 1, "ready");
        assertThat(catchThrowable(() -> new Select<String>().onReceive(in, v -> {
            throw unchecked;
        }).select())).isSameAs(unchecked);
        assertThat(in.tryReceive()).as("the value received is taken").isEmpty();
        Channel<String> out = holding("out", 1);
        assertThat(catchThrowable(() -> new Select<String>().onSend(out, "sent", () -> sneakyThrow(checked)).select()))
                .isSameAs(checked);
        assertThat(out.tryReceive()).as("the value sent is delivered").contains("sent");
        assertThat(catchThrowable(() -> new Select<String>().onReceive(in, v -> v).onDefault(() -> {
            throw error;
        }).select())).isSameAs(error);
        Channel<String> rendezvous = holding("rendezvous", 0);
        VirtualTime.run(() -> {
            Coroutine.create("partner", () -> {
                rendezvous.send("handed");
                log.add("partner's send returned at " + ms());
                log.add("partner received " + rendezvous.receive() + " at " + ms());
            });
            assertThat(catchThrowable(() -> new Select<String>().onReceive(rendezvous, v -> {
                throw unchecked;
            }).select())).isSameAs(unchecked);
            assertThat(catchThrowable(() -> new Select<String>().onSend(rendezvous, "back", () -> sneakyThrow(checked))
                    .onTimeout(Duration.ofSeconds(1), () -> sneakyThrow(error)).select())).isSameAs(checked);
            Coroutine.yield();
            assertThat(catchThrowable(() -> new Select<String>().onReceive(rendezvous, v -> v)
                    .onTimeout(Duration.ofSeconds(1), () -> sneakyThrow(error)).select())).isSameAs(error);
            log.add("timed out at " + ms());
        });
        assertThat(log).containsExactly("partner's send returned at 0", "partner received back at 0", "timed out at 1000");
    }

    /** Throws {@code t}, checked or not, as a function's body may (a sneaky throw). */
    @SuppressWarnings("unchecked")
    private static <T extends Throwable, R> R sneakyThrow(Throwable t) throws T {
        throw (T) t;
    }

    @Test
    void aSelectMayBeRunAgainEachRunFiringOneClause() {
        Channel<String> in = holding("in", 2, "1", "2");
        Channel<String> out = holding("out", 2);
        Select<String> s = new Select<String>().onReceive(in, v -> "got " + v).onSend(out, "9", () -> "sent 9");
        assertThat(List.of(s.select(), s.select(), s.select(), s.select()))
                .containsExactly("got 1", "got 2", "sent 9", "sent 9");
        assertThat(List.of(out.tryReceive(), out.tryReceive())).allSatisfy(v -> assertThat(v).contains("9"));
        VirtualTime.run(() -> {
            Select<String> t = new Select<String>().onReceive(in, v -> "got " + v)
                    .onTimeout(Duration.ofSeconds(1), () -> "timeout at " + ms());
            log.add(t.select());
            log.add(t.select());
        });
        assertThat(log).as("each run counts its timeout from its start").containsExactly("timeout at 1000",
                "timeout at 2000");
    }

    /**
     * The refusals name the caller: a thread that has no coroutine as a thread (none is made for a
     * message), else its current context.
     */
    @Test
    void aNegativeTimeoutClauseOrASecondDefaultIsRefused() {
        assertThatThrownBy(() -> new Select<String>().onTimeout(Duration.ofSeconds(-1), () -> "t"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("thread " + thread() + " cannot add onTimeout(PT-1S) to a select: a timeout must be zero or positive");
        Throwable e = catchThrowable(() -> new Select<String>().onDefault(() -> "a").onDefault(() -> "b"));
        assertThat(e).isInstanceOf(IllegalStateException.class)
                .hasMessage("thread " + thread() + " cannot add a second onDefault to a select: it has one");
        Coroutine.create("builder", () -> assertThatThrownBy(() -> new Select<String>().onTimeout(Duration.ofSeconds(-1), () -> "t"))
                .hasMessage("coroutine 'builder' (state RUNNING) cannot add onTimeout(PT-1S) to a select: a timeout must be zero or positive"))
                .switchTo();
        assertThatThrownBy(() -> new Select<String>().onDefault(() -> "a").onDefault(() -> "b"))
                .hasMessage("main context 'main' cannot add a second onDefault to a select: it has one");
    }

    /**
     * A negative {@code onTimeout} is refused as every other negative timeout is ({@code withTimeout}, a
     * channel's {@code tryReceive}, a semaphore's {@code tryAcquire}): naming the caller with its state, then the
     * call. It named the caller without its state, unlike the others; a thread without a scheduler is named as a
     * thread by all of them, with no state (it has no context), and none is made for the message.
     */
    @Test
    void aNegativeTimeoutClauseNamesTheCallersStateAsEveryNegativeTimeoutDoes() {
        Duration minus = Duration.ofSeconds(-1);
        String must = " with timeout PT-1S: a timeout must be zero or positive";
        List<String> refused = new ArrayList<>();
        Coroutine.create("builder", () -> {
            Channel<String> ch = new Channel<>("ch", 1);
            refused.add(catchThrowable(() -> ch.tryReceive(minus)).getMessage());
            refused.add(catchThrowable(() -> Coroutine.withTimeout(minus, () -> { })).getMessage());
            refused.add(catchThrowable(() -> new Select<String>().onTimeout(minus, () -> "t")).getMessage());
        }).switchTo();
        assertThat(refused).containsExactly(
                "coroutine 'builder' (state RUNNING) cannot tryReceive from channel 'ch' (open)" + must,
                "coroutine 'builder' (state RUNNING) cannot withTimeout" + must,
                "coroutine 'builder' (state RUNNING) cannot add onTimeout(PT-1S) to a select: a timeout must be zero or positive");
        assertThatThrownBy(() -> new Select<String>().onTimeout(minus, () -> "t"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("main context 'main' (state RUNNING) cannot add onTimeout(PT-1S) to a select: a timeout must be zero or positive");
    }

    @Test
    void theSeedIsReadFromItsPropertyAndABadValueIsRefusedNamingIt() {
        assertThat(Scheduler.seed(null)).isZero();
        assertThat(Scheduler.seed(" 42 ")).isEqualTo(42);
        assertThat(Scheduler.seed("-7")).isEqualTo(-7);
        assertThat(Scheduler.seed("0x2A")).isEqualTo(42);
        assertThatThrownBy(() -> Scheduler.seed("forty-two")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("coro.seed must be a whole number (a long), not 'forty-two'");
        assertThatThrownBy(() -> Scheduler.seed("")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("coro.seed must be a whole number (a long), not ''");
    }
}
