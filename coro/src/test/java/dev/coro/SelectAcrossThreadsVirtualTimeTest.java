package dev.coro;

import static dev.coro.SchedulerClock.ms;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A {@link Select} inside {@link VirtualTime#run} with clauses on channels of other threads: the clock
 * stands still while a clause may still be completed by the other thread, an {@code onTimeout} or a
 * {@code withTimeout} fires at exactly its virtual deadline once nothing has come, a clause that lost
 * leaves no trace on the other thread's channel, and a run that nothing from the other thread decides
 * traces the same every time.
 */
@ExtendWith(FreshThread.class)
class SelectAcrossThreadsVirtualTimeTest {

    /** A timeout long enough on the real clock that the other thread's answer always comes first. */
    private static final Duration HOUR = Duration.ofHours(1);
    /** A timeout that nothing beats: the run waits this long in real time, then the clock jumps to it. */
    private static final Duration SHORT = Duration.ofMillis(50);

    /** A channel made by a body of {@code pool}: it belongs to that pool's thread. */
    private static <T> Channel<T> channelOf(CoroutinePool pool, String name, int capacity) {
        return Coroutine.await(pool.submit(() -> new Channel<T>(name, capacity)));
    }

    /** What happened, at what time on the scheduler's clock, in nanoseconds. */
    private static String at(String what) {
        return what + " at " + Coroutine.nanoTime();
    }

    // ---- 1. onReceive from another thread's channel with onTimeout -------------------------------

    @Test
    @Timeout(60)
    void aReceiveFromAnotherThreadsChannelThatComesWinsOverAnOnTimeoutAndTheClockStandsStill() {
        Thread self = Thread.currentThread();
        CompletableFuture<Void> giveUp = new CompletableFuture<>();
        List<String> trace = new ArrayList<>();
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            VirtualTime.run(() -> {
                Channel<Integer> foreign = channelOf(pool, "foreign", 0);
                CompletableFuture<Object> sender = pool.submit(() -> {
                    Peer.awaitBlocked(self, giveUp); // most often once the select waits
                    foreign.send(42);
                    foreign.send(43);
                    return null;
                });
                Select<String> sel = new Select<String>().onReceive(foreign, v -> "received " + v)
                        .onTimeout(HOUR, () -> "timed out");
                trace.add(at(sel.select()));
                trace.add(at(sel.selectUnbiased()));
                Coroutine.await(sender);
                trace.add(at("the sender ended"));
            });
        } finally {
            giveUp.complete(null);
        }
        assertThat(trace).as("each value received once, in order, the virtual clock still at 0")
                .containsExactly("received 42 at 0", "received 43 at 0", "the sender ended at 0");
    }

    @Test
    @Timeout(60)
    void anOnTimeoutOverAnotherThreadsChannelThatNothingReachesFiresAtItsDeadlineAndLeavesNoTrace() {
        List<String> trace = new ArrayList<>();
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            VirtualTime.run(() -> {
                Channel<Integer> foreign = channelOf(pool, "foreign", 0);
                trace.add(at(new Select<String>().onReceive(foreign, v -> "received " + v)
                        .onTimeout(SHORT, () -> "timed out").select()));
                trace.add(at("the channel's thread handed a value over: "
                        + Coroutine.await(pool.submit(() -> foreign.trySend(1)))));
                CompletableFuture<Object> sender = pool.submit(() -> {
                    foreign.send(2);
                    foreign.send(3);
                    return null;
                });
                trace.add(at("received " + foreign.receive() + " then " + foreign.receive()));
                Coroutine.await(sender);
                trace.add(at("nothing is left: " + foreign.tryReceive()));
            });
        }
        assertThat(trace).containsExactly("timed out at 50000000",
                "the channel's thread handed a value over: false at 50000000",
                "received 2 then 3 at 50000000",
                "nothing is left: Optional.empty at 50000000");
    }

    /** As above, the channel being a plain thread's, which serves the run's operations while it awaits. */
    @Test
    @Timeout(60)
    void anOnTimeoutOverAPlainThreadsChannelThatNothingReachesFiresAtItsDeadlineAndLeavesNoTrace() {
        List<String> trace = new ArrayList<>();
        CompletableFuture<Channel<Integer>> made = new CompletableFuture<>();
        CompletableFuture<Void> go = new CompletableFuture<>();
        CompletableFuture<Boolean> tried = new CompletableFuture<>();
        VirtualTime.run(() -> {
            CompletableFuture<Object> owner = Peer.start("owner", () -> {
                Channel<Integer> c = new Channel<>("plain", 0);
                made.complete(c);
                Coroutine.await(go); // parked: its event loop serves the run's operations on the channel meanwhile
                tried.complete(c.trySend(1)); // before the run receives again
                c.send(2);
                c.send(3);
                return null;
            });
            Channel<Integer> plain = Coroutine.await(made);
            trace.add(at(new Select<String>().onReceive(plain, v -> "received " + v)
                    .onTimeout(SHORT, () -> "timed out").selectUnbiased()));
            go.complete(null);
            trace.add(at("the channel's thread handed a value over: " + Coroutine.await(tried)));
            trace.add(at("received " + plain.receive() + " then " + plain.receive()));
            Coroutine.await(owner);
        });
        assertThat(trace).containsExactly("timed out at 50000000",
                "the channel's thread handed a value over: false at 50000000", "received 2 then 3 at 50000000");
    }

    /**
     * A select waiting on the channel of a thread that ends: nothing can come, but the clock does not
     * jump to its {@code onTimeout} either (that is an hour away in real time); the caller's liveness
     * check fails the select, naming the channel and its thread, with the clock still.
     */
    @Test
    @Timeout(60)
    void aSelectOnTheChannelOfAThreadThatEndsFailsNamingItWithTheClockStill() {
        Thread self = Thread.currentThread();
        CompletableFuture<Void> giveUp = new CompletableFuture<>();
        CompletableFuture<Channel<Integer>> made = new CompletableFuture<>();
        List<String> trace = new ArrayList<>();
        String[] threads = new String[2];
        try {
            VirtualTime.run(() -> {
                threads[0] = ThreadNames.thread();
                CompletableFuture<String> owner = Peer.start("owner", () -> {
                    made.complete(new Channel<>("plain", 0));
                    Peer.awaitBlocked(self, giveUp); // most often once the select waits
                    Coroutine.yield(); // runs the select's clause if it came as a post
                    return ThreadNames.thread();
                });
                Channel<Integer> plain = Coroutine.await(made);
                Throwable t = catchThrowable(() -> new Select<String>().onReceive(plain, v -> "received " + v)
                        .onTimeout(HOUR, () -> "timed out").select());
                trace.add(at(t.getClass().getSimpleName() + ": " + t.getMessage()));
                threads[1] = Coroutine.await(owner);
            });
        } finally {
            giveUp.complete(null);
        }
        assertThat(trace).containsExactly("IllegalStateException: main context 'main' of thread " + threads[0]
                + " cannot select a receive from channel 'plain' (open): it belongs to thread " + threads[1]
                + ", which has ended at 0");
    }

    /**
     * A select across threads with an {@code onComplete} clause, whose future another thread completes
     * while this thread waits idle but whose wake-up it holds back (a callback registered after the
     * thread's own runs first, and blocks): the completion has come, so once the quiet wait has lasted
     * as long as the {@code onTimeout} is away the completion is taken in and wins, the clock still. A
     * round in which the future completed only after the quiet wait had ended proves nothing and is run again.
     */
    @Test
    @Timeout(120)
    void aCompletionWhoseWakeUpIsHeldBackWinsASelectAcrossThreadsOverItsOnTimeoutWithTheClockStill() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<Integer> foreign = channelOf(pool, "foreign", 0); // before the run: its only idle wait is the select's
            EventLoop loop = Scheduler.current().loop;
            for (int round = 0; ; round++) {
                assertThat(round).as("rounds in which the future completed only after the quiet wait").isLessThan(50);
                HeldBackCompletion completion = new HeldBackCompletion(loop, () -> true); // as the select waits, its thread blocked
                CompletableFuture<String> f = completion.future;
                List<String> trace = new ArrayList<>();
                try (completion) {
                    VirtualTime.run(() -> trace.add(at(new Select<String>().onReceive(foreign, v -> "received " + v)
                            .onComplete(f, v -> "completed " + v).onTimeout(Duration.ofMillis(20), () -> "timed out")
                            .select())));
                }
                if (completion.completedWhileIdle()) {
                    assertThat(trace).containsExactly("completed v at 0");
                    assertThat(Coroutine.await(pool.submit(() -> foreign.trySend(1)))).as("a receiver left on the channel")
                            .isFalse();
                    return;
                }
            }
        }
    }

    // ---- 2. onSend to another thread's channel with onTimeout ------------------------------------

    @Test
    @Timeout(60)
    void anOnSendToAnotherThreadsChannelThatTimedOutDeliveredNothing() {
        List<String> trace = new ArrayList<>();
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            VirtualTime.run(() -> {
                Channel<Integer> foreign = channelOf(pool, "foreign", 0);
                trace.add(at(new Select<String>().onSend(foreign, 99, () -> "sent 99")
                        .onTimeout(SHORT, () -> "timed out").select()));
                trace.add(at("the channel's thread found " + Coroutine.await(pool.submit(() -> foreign.tryReceive()))));
                CompletableFuture<List<Integer>> receiver = pool.submit(() -> List.of(foreign.receive(), foreign.receive()));
                foreign.send(1);
                foreign.send(2);
                trace.add(at("the channel's thread received " + Coroutine.await(receiver)));
            });
        }
        assertThat(trace).containsExactly("timed out at 50000000",
                "the channel's thread found Optional.empty at 50000000",
                "the channel's thread received [1, 2] at 50000000");
    }

    @Test
    @Timeout(60)
    void anOnSendToAnotherThreadsChannelThatWonDeliveredItsValueOnceWithTheClockStill() {
        Thread self = Thread.currentThread();
        CompletableFuture<Void> giveUp = new CompletableFuture<>();
        List<String> trace = new ArrayList<>();
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            VirtualTime.run(() -> {
                Channel<Integer> foreign = channelOf(pool, "foreign", 0);
                CompletableFuture<List<Integer>> receiver = pool.submit(() -> {
                    Peer.awaitBlocked(self, giveUp); // most often once the select waits
                    return List.of(foreign.receive(), foreign.receive());
                });
                trace.add(at(new Select<String>().onSend(foreign, 7, () -> "sent 7")
                        .onTimeout(HOUR, () -> "timed out").select()));
                foreign.send(8);
                trace.add(at("the channel's thread received " + Coroutine.await(receiver)));
                trace.add(at("and nothing more: " + Coroutine.await(pool.submit(() -> foreign.tryReceive()))));
            });
        } finally {
            giveUp.complete(null);
        }
        assertThat(trace).containsExactly("sent 7 at 0", "the channel's thread received [7, 8] at 0",
                "and nothing more: Optional.empty at 0");
    }

    // ---- 3. withTimeout around a select over another thread's channel ----------------------------

    @Test
    @Timeout(60)
    void aWithTimeoutAroundASelectOverAnotherThreadsChannelExpiresAtItsDeadlineAndLosesNothing() {
        List<String> trace = new ArrayList<>();
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            VirtualTime.run(() -> {
                Channel<Integer> in = channelOf(pool, "in", 0);
                Channel<Integer> out = channelOf(pool, "out", 0);
                Channel<Integer> local = new Channel<>("local", 0);
                Select<String> sel = new Select<String>().onReceive(in, v -> "received " + v)
                        .onSend(out, 99, () -> "sent 99").onReceive(local, v -> "local " + v);
                try {
                    trace.add(at(Coroutine.withTimeout(SHORT, sel::select)));
                } catch (CoroutineTimeoutException e) {
                    trace.add(at("withTimeout expired"));
                }
                trace.add(at("the channel's thread handed a value over: "
                        + Coroutine.await(pool.submit(() -> in.trySend(1)))
                        + ", found " + Coroutine.await(pool.submit(() -> out.tryReceive()))));
                CompletableFuture<Object> sender = pool.submit(() -> {
                    in.send(2);
                    in.send(3);
                    return null;
                });
                trace.add(at(Coroutine.withTimeout(HOUR, sel::selectUnbiased)));
                trace.add(at(Coroutine.withTimeout(HOUR, sel::select)));
                Coroutine.await(sender);
                CompletableFuture<Integer> receiver = pool.submit(() -> out.receive());
                trace.add(at(Coroutine.withTimeout(HOUR, sel::select)));
                trace.add(at("the channel's thread received " + Coroutine.await(receiver)));
            });
        }
        assertThat(trace).containsExactly("withTimeout expired at 50000000",
                "the channel's thread handed a value over: false, found Optional.empty at 50000000",
                "received 2 at 50000000", "received 3 at 50000000", "sent 99 at 50000000",
                "the channel's thread received 99 at 50000000");
    }

    /**
     * A {@code withTimeout} and the select's own {@code onTimeout} due at the same instant: timers of one
     * deadline expire in the order they were scheduled, so the {@code withTimeout}, scheduled first, expires
     * first and interrupts the wait, and the {@code onTimeout} never fires; with an {@code onTimeout} due
     * sooner, it fires and the {@code withTimeout} does not. A select across threads ends as one over the
     * thread's own channels does.
     */
    @Test
    @Timeout(60)
    void aWithTimeoutAndAnOnTimeoutDueAtOnceEndASelectAcrossThreadsAsOneOverTheThreadsOwnChannels() {
        List<List<String>> traces = new ArrayList<>();
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            for (boolean across : new boolean[] {false, true}) {
                List<String> trace = new ArrayList<>();
                VirtualTime.run(() -> {
                    Channel<Integer> other = across ? channelOf(pool, "other", 0) : new Channel<>("other", 0);
                    Channel<Integer> local = new Channel<>("local", 0);
                    for (int onTimeout : new int[] {10, 5}) {
                        Select<String> sel = new Select<String>().onReceive(local, v -> "local " + v)
                                .onReceive(other, v -> "other " + v)
                                .onTimeout(Duration.ofMillis(onTimeout), () -> "onTimeout fired");
                        long start = Coroutine.nanoTime();
                        try {
                            String r = Coroutine.withTimeout(Duration.ofMillis(10), sel::select);
                            trace.add(r + " after " + (Coroutine.nanoTime() - start));
                        } catch (CoroutineTimeoutException e) {
                            trace.add("withTimeout expired after " + (Coroutine.nanoTime() - start));
                        }
                    }
                    if (across) {
                        trace.add("the channel's thread handed a value over: "
                                + Coroutine.await(pool.submit(() -> other.trySend(1))));
                    }
                });
                traces.add(trace);
            }
        }
        assertThat(traces.get(0)).containsExactly("withTimeout expired after 10000000", "onTimeout fired after 5000000");
        assertThat(traces.get(1)).containsExactly("withTimeout expired after 10000000", "onTimeout fired after 5000000",
                "the channel's thread handed a value over: false");
    }

    // ---- 4. conservation ------------------------------------------------------------------------

    private static final int LOCAL = 1_000_000;

    /**
     * Rounds of selects, each over a local channel, a pool thread's channel and a timeout (an
     * {@code onTimeout}, zero or not, or a {@code withTimeout} around it), while a pool body sends a
     * counted sequence with try calls that time out on the real clock and a coroutine of the run
     * sends another: every value whose send succeeded is received once, in the order sent, and none
     * whose send failed.
     */
    @Test
    @Timeout(120)
    void selectsMixingALocalChannelAnotherThreadsChannelAndTimeoutsReceiveEverySentValueOnce() {
        int[] outcomes = new int[3]; // selects that timed out, foreign sends that failed, foreign sends that succeeded
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            for (int round = 0; round < 4; round++) {
                int capacity = round % 2;
                VirtualTime.run(() -> conservationRound(pool, capacity, outcomes));
            }
        }
        assertThat(outcomes[2]).as("foreign sends that succeeded").isPositive();
    }

    private static void conservationRound(CoroutinePool pool, int capacity, int[] outcomes) {
        Channel<Integer> foreign = channelOf(pool, "foreign", capacity);
        Channel<Integer> local = new Channel<>("local", capacity);
        Set<Integer> sent = ConcurrentHashMap.newKeySet();
        int n = 400;
        int m = 100;
        CompletableFuture<Integer> sender = pool.submit(() -> {
            int failed = 0;
            for (int v = 0; v < n; v++) {
                boolean ok = v % 3 == 0 ? foreign.trySend(v)
                        : foreign.trySend(v, Duration.ofNanos(ThreadLocalRandom.current().nextLong(1, 200_000)));
                if (ok) {
                    sent.add(v);
                } else {
                    failed++;
                }
                if (v % 50 == 0) {
                    Coroutine.sleep(Duration.ofMillis(1)); // on the real clock: the run's selects time out meanwhile
                }
            }
            return failed;
        });
        Coroutine localSender = Coroutine.create("local sender", () -> {
            for (int v = 0; v < m; v++) {
                local.send(LOCAL + v);
                if (v % 10 == 0) {
                    Coroutine.sleep(Duration.ofMillis(1)); // on the virtual clock
                }
            }
        });
        List<Integer> got = new ArrayList<>();
        for (int i = 0; !sender.isDone() || !localSender.isFinished(); i++) {
            long nanos = ThreadLocalRandom.current().nextLong(1, 300_000);
            Select<Integer> sel = new Select<Integer>().onReceive(local, v -> v).onReceive(foreign, v -> v);
            Integer v = switch (i % 4) {
                case 0 -> sel.onTimeout(Duration.ofNanos(nanos), () -> null).select();
                case 1 -> sel.onTimeout(i % 8 == 1 ? Duration.ZERO : Duration.ofNanos(nanos), () -> null).selectUnbiased();
                case 2 -> {
                    try {
                        yield Coroutine.withTimeout(Duration.ofNanos(nanos), i % 8 == 2 ? sel::select : sel::selectUnbiased);
                    } catch (CoroutineTimeoutException e) {
                        yield null;
                    }
                }
                default -> sel.onComplete(sender, f -> null).onTimeout(Duration.ofNanos(nanos), () -> null).select();
            };
            if (v == null) {
                outcomes[0]++;
            } else {
                got.add(v);
            }
        }
        for (Optional<Integer> v; (v = foreign.tryReceive()).isPresent(); ) {
            got.add(v.get());
        }
        for (Optional<Integer> v; (v = local.tryReceive()).isPresent(); ) {
            got.add(v.get());
        }
        int failed = Coroutine.await(sender);
        outcomes[1] += failed;
        outcomes[2] += sent.size();
        assertThat(sent.size() + failed).isEqualTo(n);
        List<Integer> fromForeign = got.stream().filter(v -> v < LOCAL).toList();
        assertThat(fromForeign).as("every value the other thread sent, once, in the order sent, and none that failed")
                .containsExactlyElementsOf(sent.stream().sorted().toList());
        assertThat(got.stream().filter(v -> v >= LOCAL).toList()).as("every local value, once, in order")
                .containsExactlyElementsOf(java.util.stream.IntStream.range(0, m).mapToObj(v -> LOCAL + v).toList());
    }

    // ---- 5. determinism -------------------------------------------------------------------------

    /**
     * A run whose selects wait on channels of a pool thread that never completes them: its outcome
     * depends on the virtual clock alone (the timeouts, a ticking coroutine, the seeded random of the
     * unbiased selects), so it traces the same on every run.
     */
    @Test
    @Timeout(60)
    void aRunWhoseSelectsOnAnotherThreadsChannelsNothingReachesTracesTheSameEveryTime() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            List<String> first = quietForeignProgram(pool);
            List<String> second = quietForeignProgram(pool);
            assertThat(second).as("the second run's trace").isEqualTo(first);
            assertThat(first).startsWith("4 offerer timed out", "5 main timed out", "7 main tick 1",
                    "8 offerer timed out", "12 main timed out", "14 main tick 2", "19 main timed out",
                    "22 main withTimeout expired");
            assertThat(first.subList(8, first.size())).as("the last two ticks, taken at 22 by unbiased selects")
                    .allMatch(s -> s.startsWith("22 main ")).contains("22 main tick 3", "22 main tick 4")
                    .endsWith("22 main tick 4");
        }
    }

    private static List<String> quietForeignProgram(CoroutinePool pool) {
        List<String> trace = new ArrayList<>();
        VirtualTime.run(() -> {
            Channel<Integer> in = channelOf(pool, "in", 0); // nothing is ever sent to it
            Channel<Integer> out = channelOf(pool, "out", 0); // nothing ever receives from it
            Channel<String> ticks = new Channel<>(0);
            Coroutine.create("ticker", () -> {
                for (int i = 1; i <= 3; i++) {
                    Coroutine.sleep(Duration.ofMillis(7));
                    ticks.send("tick " + i);
                }
                ticks.send("tick 4");
            });
            Coroutine.create("offerer", () -> {
                for (int i = 0; i < 2; i++) {
                    String r = new Select<String>().onSend(out, i, () -> "sent")
                            .onTimeout(Duration.ofMillis(4), () -> "timed out").select();
                    trace.add(ms() + " offerer " + r);
                }
            });
            for (int i = 0; i < 5; i++) {
                String r = new Select<String>().onReceive(in, v -> "received " + v)
                        .onReceive(ticks, v -> v).onTimeout(Duration.ofMillis(5), () -> "timed out").selectUnbiased();
                trace.add(ms() + " main " + r);
            }
            try {
                Coroutine.withTimeout(Duration.ofMillis(3),
                        () -> new Select<String>().onReceive(in, v -> "received " + v).onSend(out, 9, () -> "sent").select());
                trace.add(ms() + " main withTimeout returned");
            } catch (CoroutineTimeoutException e) {
                trace.add(ms() + " main withTimeout expired");
            }
            for (int got = 0; got < 2; ) {
                String r = new Select<String>().onReceive(in, v -> "received " + v).onReceive(ticks, v -> v)
                        .onTimeout(Duration.ZERO, () -> "nothing yet").selectUnbiased();
                trace.add(ms() + " main " + r);
                if (r.startsWith("tick")) {
                    got++;
                } else {
                    Coroutine.yield(); // lets the ticker send its next tick
                }
            }
        });
        return trace;
    }
}
