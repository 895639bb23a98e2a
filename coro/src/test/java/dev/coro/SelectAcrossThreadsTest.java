package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A {@link Select} over channels of other threads (the threads of a {@link CoroutinePool}): exactly one
 * clause fires, the others leave no trace, and nothing is lost or received twice when its wait is
 * interrupted (an {@code onTimeout}, a {@code withTimeout}, a close of its coroutine) or a channel closes.
 */
@ExtendWith(FreshThread.class)
class SelectAcrossThreadsTest {

    /** How a refusal of another thread's channel names the test's thread after its caller: {@code " of thread 'test-…' (#<id>)"}. */
    private static String ofThisThread() {
        return " of thread " + Scheduler.describe(Thread.currentThread());
    }


    /** Two channels of two different threads of {@code pool}, of capacities {@code ca} and {@code cb}. */
    private static List<Channel<Integer>> channelsOfTwoThreads(CoroutinePool pool, int ca, int cb) {
        Channel<Integer> a = Coroutine.await(pool.submit(() -> new Channel<Integer>("a", ca)));
        for (int k = 0; k < 100; k++) {
            Channel<Integer> b = Coroutine.await(pool.submit(() -> new Channel<Integer>("b", cb)));
            if (b.owner() != a.owner()) {
                return List.of(a, b);
            }
        }
        throw new AssertionError("no body ran on the pool's second thread");
    }

    private static List<Integer> range(int from, int n) {
        List<Integer> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(from + i);
        }
        return l;
    }

    @Test
    @Timeout(60)
    void aSelectReceivesFromChannelsOfTwoOtherThreadsEveryValueOnce() {
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            List<Channel<Integer>> ch = channelsOfTwoThreads(pool, 0, 1);
            Channel<Integer> a = ch.get(0);
            Channel<Integer> b = ch.get(1);
            int n = 300;
            pool.submit(() -> {
                range(0, n).forEach(a::send);
                return null;
            });
            pool.submit(() -> {
                range(1000, n).forEach(b::send);
                return null;
            });
            Select<String> sel = new Select<String>().onReceive(a, v -> "a" + v).onReceive(b, v -> "b" + v);
            List<String> got = new ArrayList<>();
            for (int i = 0; i < 2 * n; i++) {
                got.add(i % 2 == 0 ? sel.select() : sel.selectUnbiased());
            }
            List<String> expected = new ArrayList<>();
            range(0, n).forEach(v -> expected.add("a" + v));
            range(1000, n).forEach(v -> expected.add("b" + v));
            assertThat(got).containsExactlyInAnyOrderElementsOf(expected);
            assertThat(got.stream().filter(s -> s.startsWith("a"))).as("in the order of their sends")
                    .containsExactlyElementsOf(range(0, n).stream().map(v -> "a" + v).toList());
        }
    }

    @Test
    @Timeout(60)
    void aSelectSendsToChannelsOfTwoOtherThreadsEachValueOnce() {
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            List<Channel<Integer>> ch = channelsOfTwoThreads(pool, 0, 2);
            Set<Integer> received = ConcurrentHashMap.newKeySet();
            ConcurrentLinkedQueue<Integer> all = new ConcurrentLinkedQueue<>();
            List<CompletableFuture<Object>> consumers = new ArrayList<>();
            for (Channel<Integer> c : ch) {
                consumers.add(pool.submit(() -> {
                    for (int v : c) {
                        received.add(v);
                        all.add(v);
                    }
                    return null;
                }));
            }
            int n = 400;
            for (int v = 0; v < n; v++) {
                int value = v;
                Select<String> sel = new Select<String>().onSend(ch.get(0), value, () -> "a").onSend(ch.get(1), value, () -> "b");
                assertThat(v % 2 == 0 ? sel.select() : sel.selectUnbiased()).isIn("a", "b");
            }
            ch.get(0).close();
            ch.get(1).close();
            consumers.forEach(Coroutine::await);
            assertThat(all).hasSize(n);
            assertThat(received).containsExactlyInAnyOrderElementsOf(range(0, n));

        }
    }

    @Test
    @Timeout(60)
    void aSelectOverALocalAndAForeignChannelTakesEveryValueOnceFromBoth() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<Integer> foreign = Coroutine.await(pool.submit(() -> new Channel<Integer>("foreign", 0)));
            Channel<Integer> local = new Channel<>("local", 0);
            int n = 300;
            pool.submit(() -> {
                range(0, n).forEach(foreign::send);
                return null;
            });
            Coroutine.create("local sender", () -> range(1000, n).forEach(local::send));
            Select<Integer> sel = new Select<Integer>().onReceive(local, v -> v).onReceive(foreign, v -> v);
            List<Integer> got = new ArrayList<>();
            for (int i = 0; i < 2 * n; i++) {
                got.add(sel.select());
            }
            List<Integer> expected = range(0, n);
            expected.addAll(range(1000, n));
            assertThat(got).containsExactlyInAnyOrderElementsOf(expected);
        }
    }

    @Test
    @Timeout(60)
    void anOnTimeoutThatFiresLeavesNoClauseOnTheChannelsOfOtherThreads() {
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            List<Channel<Integer>> ch = channelsOfTwoThreads(pool, 0, 0);
            String r = new Select<String>().onReceive(ch.get(0), v -> "a").onSend(ch.get(1), 7, () -> "b")
                    .onTimeout(Duration.ofMillis(5), () -> "timed out").select();
            assertThat(r).isEqualTo("timed out");
            assertThat(Coroutine.await(pool.submit(() -> ch.get(0).trySend(1)))).as("no receiver waits on a").isFalse();
            assertThat(Coroutine.await(pool.submit(() -> ch.get(1).tryReceive()))).as("no sender waits on b").isEmpty();
        }
    }

    @Test
    @Timeout(60)
    void aCloseOfTheCoroutineParkedInTheSelectLeavesNoClauseAndTheSelectRunsAgain() {
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            List<Channel<Integer>> ch = channelsOfTwoThreads(pool, 0, 0);
            Select<String> sel = new Select<String>().onReceive(ch.get(0), v -> "a" + v).onSend(ch.get(1), 7, () -> "b");
            AtomicBoolean unwound = new AtomicBoolean();
            Coroutine selector = Coroutine.create("selector", () -> {
                try {
                    sel.select();
                } catch (CoroutineExit e) {
                    unwound.set(true);
                    throw e;
                }
            });
            Coroutine.yield();
            assertThat(selector.state()).isEqualTo(Coroutine.State.PARKED);
            assertThat(selector.dump()).contains("select over receive from channel 'a' of thread " + Scheduler.describe(ch.get(0).owner())
                    + ", send to channel 'b' of thread " + Scheduler.describe(ch.get(1).owner()) + "\n");
            selector.close();
            assertThat(unwound).isTrue();
            assertThat(Coroutine.await(pool.submit(() -> ch.get(0).trySend(1)))).as("no receiver waits on a").isFalse();
            assertThat(Coroutine.await(pool.submit(() -> ch.get(1).tryReceive()))).as("no sender waits on b").isEmpty();
            pool.submit(() -> {
                ch.get(0).send(2);
                return null;
            });
            assertThat(sel.select()).isEqualTo("a2");
        }
    }

    /**
     * A receive clause that another thread completed (its value handed over, the wake-up on its way)
     * while the select's coroutine is closed before it runs again: the close waits for the wake-up, the
     * coroutine unwinds instead of firing the clause, and the value goes back to the channel, where the
     * next receive takes it: not lost, not received twice. The selecting thread blocks outside coro
     * meanwhile, so that the wake-up is still waiting in its inbox when the close comes.
     */
    @Test
    @Timeout(60)
    void aValueHandedToAReceiveClauseWhoseCoroutineIsClosedBeforeItRunsAgainGoesBackToTheChannel() throws Exception {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<Integer> ch = Coroutine.await(pool.submit(() -> new Channel<Integer>("values", 0)));
            Select<String> sel = new Select<String>().onReceive(ch, v -> "got " + v);
            List<String> fired = new ArrayList<>();
            AtomicBoolean unwound = new AtomicBoolean();
            Coroutine selector = Coroutine.create("selector", () -> {
                try {
                    fired.add(sel.select());
                } catch (CoroutineExit e) {
                    unwound.set(true);
                    throw e;
                }
            });
            Coroutine.yield(); // it registers its clause with the channel's thread and parks
            assertThat(selector.state()).isEqualTo(Coroutine.State.PARKED);
            CountDownLatch sent = new CountDownLatch(1);
            pool.execute(() -> {
                ch.send(1); // meets the clause: the value is handed to the select, its wake-up posted to main's thread
                sent.countDown();
            });
            sent.await(); // outside coro: the wake-up waits in this thread's inbox
            selector.close();
            assertThat(unwound).as("the close unwound it").isTrue();
            assertThat(fired).as("the clause did not fire").isEmpty();
            assertThat(Coroutine.await(pool.submit(ch::receive))).as("the value went back to the channel").isEqualTo(1);
            assertThat(Coroutine.await(pool.submit(() -> ch.tryReceive()))).as("and only once").isEmpty();
        }
    }

    /**
     * As above, but the channel is closed before the close of the select's coroutine: nothing can go
     * back into a closed channel, so the clause keeps the value and fires, and the close unwinds the
     * coroutine at its next scheduling point: the value is received once, by the select.
     */
    @Test
    @Timeout(60)
    void aValueHandedToAReceiveClauseWhoseChannelClosesBeforeItsCoroutineIsClosedIsKeptAndTheClauseFires() throws Exception {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<Integer> ch = Coroutine.await(pool.submit(() -> new Channel<Integer>("values", 0)));
            Select<String> sel = new Select<String>().onReceive(ch, v -> "got " + v);
            List<String> seen = new ArrayList<>();
            Coroutine selector = Coroutine.create("selector", () -> {
                seen.add(sel.select());
                try {
                    Coroutine.yield();
                } catch (CoroutineExit e) {
                    seen.add("unwound at its next scheduling point");
                    throw e;
                }
            });
            Coroutine.yield(); // it registers its clause with the channel's thread and parks
            assertThat(selector.state()).isEqualTo(Coroutine.State.PARKED);
            CountDownLatch sentAndClosed = new CountDownLatch(1);
            pool.execute(() -> {
                ch.send(1); // meets the clause: the value is handed to the select, its wake-up posted to main's thread
                ch.close();
                sentAndClosed.countDown();
            });
            sentAndClosed.await(); // outside coro: the wake-up waits in this thread's inbox
            selector.close();
            assertThat(seen).containsExactly("got 1", "unwound at its next scheduling point");
            assertThat(selector.state()).isEqualTo(Coroutine.State.CLOSED);
            assertThat(Coroutine.await(pool.submit(() -> ch.tryReceive()))).as("nothing went back").isEmpty();
        }
    }

    @Test
    @Timeout(60)
    void aChannelOfAnotherThreadClosedWhileTheSelectWaitsFiresItsClauseAsClosed() {
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            List<Channel<Integer>> ch = channelsOfTwoThreads(pool, 0, 0);
            Select<String> sel = new Select<String>().onReceive(ch.get(0), v -> "a" + v).onReceive(ch.get(1), v -> "b" + v);
            CompletableFuture<Void> waiting = new CompletableFuture<>();
            CompletableFuture<Object> closer = pool.submit(() -> {
                Coroutine.await(waiting);
                ch.get(0).close();
                return null;
            });
            Select.beforeParkAcross = claim -> waiting.complete(null); // the close comes once every clause waits
            Throwable t;
            try {
                t = catchThrowable(sel::select);
            } finally {
                Select.beforeParkAcross = null;
            }
            assertThat(waiting).as("the select waited").isDone();
            assertThat(t).isInstanceOf(ChannelClosedException.class).hasMessage("main context 'main'" + ofThisThread() + " cannot select"
                    + " onReceive from channel 'a' (closed): no value is left in it, and none can come; leave the clause"
                    + " out to go on");
            Coroutine.await(closer);
            assertThat(Coroutine.await(pool.submit(() -> ch.get(1).trySend(1)))).as("no receiver waits on b").isFalse();
        }
    }

    /**
     * A biased run fires the first ready clause in the order given, and a clause on a closed channel is ready: a receive
     * clause on another thread's channel closed and drained that no other thread had used (not shared) is ready as a
     * shared one is, and refuses before a later clause on a closed channel does, in a run that may wait as in one that
     * never waits (it had been passed over as not ready in place, and the later send clause refused instead).
     */
    @Test
    @Timeout(60)
    void aReceiveClauseOnAnotherThreadsClosedChannelNotSharedYetIsReadyInItsPlaceInTheOrder() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            String none = " cannot select onReceive from channel 'a' (closed): no value is left in it, and none can come;"
                    + " leave the clause out to go on";
            for (boolean mayWait : new boolean[] {true, false}) {
                List<Channel<Integer>> closed = Coroutine.await(pool.submit(() -> {
                    Channel<Integer> a = new Channel<>("a", 1);
                    Channel<Integer> b = new Channel<>("b", 1);
                    a.close();
                    b.close();
                    return List.of(a, b);
                }));
                Select<String> sel = new Select<String>().onReceive(closed.get(0), v -> "a").onSend(closed.get(1), 1, () -> "b");
                if (!mayWait) {
                    sel.onDefault(() -> "default");
                }
                assertThat(catchThrowable(sel::select)).as(mayWait ? "a run that may wait" : "a run that never waits")
                        .isInstanceOf(ChannelClosedException.class).hasMessage("main context 'main'" + ofThisThread() + none);
            }
        }
    }

    /**
     * Senders of two pool threads send with timeouts while the main thread selects over both channels with
     * an {@code onTimeout}, or inside a {@code withTimeout}: every value whose send succeeded is received
     * once, and none whose send failed.
     */
    @Test
    @Timeout(120)
    void timeoutsRacingSendersOfOtherThreadsLoseNoValueAndDuplicateNone() {
        int timeouts = 0;
        int failures = 0;
        for (int round = 0; round < 5; round++) {
            try (CoroutinePool pool = CoroutinePool.start(2)) {
                List<Channel<Integer>> ch = channelsOfTwoThreads(pool, round % 2, 0);
                Set<Integer> ok = ConcurrentHashMap.newKeySet();
                Set<Integer> failed = ConcurrentHashMap.newKeySet();
                List<CompletableFuture<Object>> senders = new ArrayList<>();
                int n = 300;
                for (int s = 0; s < 2; s++) {
                    Channel<Integer> c = ch.get(s);
                    int base = s * 10_000;
                    senders.add(pool.submit(() -> {
                        for (int v = base; v < base + n; v++) {
                            long nanos = ThreadLocalRandom.current().nextLong(200_000);
                            (c.trySend(v, Duration.ofNanos(nanos)) ? ok : failed).add(v);
                            if (v % 50 == 0) {
                                Coroutine.sleep(Duration.ofMillis(1)); // the selects time out meanwhile
                            }
                        }
                        return null;
                    }));
                }
                List<Integer> got = new ArrayList<>();
                int i = 0;
                while (!senders.stream().allMatch(CompletableFuture::isDone)) {
                    Duration d = Duration.ofNanos(ThreadLocalRandom.current().nextLong(150_000));
                    Select<Integer> sel = new Select<Integer>().onReceive(ch.get(0), v -> v).onReceive(ch.get(1), v -> v);
                    Integer v;
                    if (i++ % 2 == 0) {
                        v = sel.onTimeout(d, () -> null).select();
                    } else {
                        try {
                            v = Coroutine.withTimeout(d, sel::selectUnbiased);
                        } catch (CoroutineTimeoutException e) {
                            v = null;
                        }
                    }
                    if (i % 40 == 0) {
                        Coroutine.sleep(Duration.ofMillis(1)); // the sends time out meanwhile
                    }
                    if (v == null) {
                        timeouts++;
                    } else {
                        got.add(v);
                    }
                }
                senders.forEach(Coroutine::await);
                for (Channel<Integer> c : ch) {
                    for (Optional<Integer> v; (v = Coroutine.await(pool.submit(c::tryReceive))).isPresent(); ) {
                        got.add(v.get());
                    }
                }
                assertThat(got).as("received").doesNotHaveDuplicates();
                assertThat(new HashSet<>(got)).as("received: every value sent, none that failed").isEqualTo(ok);
                failures += failed.size();
            }
        }
        assertThat(timeouts).as("selects that timed out").isPositive();
        assertThat(failures).as("sends that timed out").isPositive();
    }

    /**
     * A select of the test's thread over the channels of two pool threads, a future and a timeout, while a
     * body of each pool thread sends into its channel and a plain thread completes the future, all at once:
     * each run fires exactly one clause, and the others take nothing (the value of a channel clause that did
     * not fire is still in its channel, both values are after a completion or a timeout).
     */
    @Test
    @Timeout(60)
    void aSelectOverChannelsOfTwoOtherThreadsAFutureAndATimeoutAllRacingFiresOneClauseAndTheOthersTakeNothing()
            throws InterruptedException {
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            List<Channel<Integer>> ch = channelsOfTwoThreads(pool, 1, 1);
            for (int round = 0; round < 300; round++) {
                CompletableFuture<Integer> f = new CompletableFuture<>();
                CompletableFuture<Object> sendA = pool.submit(() -> {
                    ch.get(0).send(1);
                    return null;
                });
                CompletableFuture<Object> sendB = pool.submit(() -> {
                    ch.get(1).send(2);
                    return null;
                });
                Thread completer = Thread.ofPlatform().name("completer").start(() -> f.complete(3));
                String fired = new Select<String>()
                        .onReceive(ch.get(0), v -> "a" + v)
                        .onReceive(ch.get(1), v -> "b" + v)
                        .onComplete(f, v -> "f" + v)
                        .onTimeout(Duration.ofNanos(ThreadLocalRandom.current().nextLong(100_000)), () -> "timeout")
                        .select();
                Coroutine.await(sendA);
                Coroutine.await(sendB);
                completer.join();
                List<Integer> left = new ArrayList<>();
                for (Channel<Integer> c : ch) {
                    Coroutine.await(pool.submit(c::tryReceive)).ifPresent(left::add);
                }
                switch (fired) {
                    case "a1" -> assertThat(left).as("round %d: %s fired", round, fired).containsExactly(2);
                    case "b2" -> assertThat(left).as("round %d: %s fired", round, fired).containsExactly(1);
                    case "f3", "timeout" -> assertThat(left).as("round %d: %s fired", round, fired).containsExactly(1, 2);
                    default -> throw new AssertionError("round " + round + ": " + fired);
                }
            }
        }
    }
}
