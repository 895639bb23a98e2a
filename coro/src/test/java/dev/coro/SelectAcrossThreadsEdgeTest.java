package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The edges of a {@link Select} over channels of other threads, on the real clock: clauses sharing one
 * channel, channels closed or whose thread ends while the select waits, its own coroutine closed, the
 * seeded unbiased choice, sends into buffers with and without room, defaults that need another thread's
 * answer, one select run many times or from a second thread, and many selects contending for one channel;
 * each checks that every value whose send succeeded is received exactly once and none whose send failed.
 */
@ExtendWith(FreshThread.class)
class SelectAcrossThreadsEdgeTest {

    /** How long a test waits at most for what must come; never reached unless it fails. */
    private static final Duration GUARD = Duration.ofSeconds(30);

    /** A channel of capacity {@code capacity} made on the thread of {@code pool}'s next body. */
    private static Channel<Integer> channelOf(CoroutinePool pool, String name, int capacity) {
        return Coroutine.await(pool.submit(() -> new Channel<Integer>(name, capacity)));
    }

    /** Two channels of two different threads of {@code pool}. */
    private static List<Channel<Integer>> channelsOfTwoThreads(CoroutinePool pool, int capacity) {
        Channel<Integer> a = channelOf(pool, "a", capacity);
        for (int k = 0; k < 100; k++) {
            Channel<Integer> b = channelOf(pool, "b", capacity);
            if (b.owner() != a.owner()) {
                return List.of(a, b);
            }
        }
        throw new AssertionError("no body ran on the pool's second thread");
    }

    /** Runs {@code body} on the channel's own thread and returns its value. */
    private static <T> T on(CoroutinePool pool, Supplier<T> body) {
        return Coroutine.await(pool.submit(body));
    }

    /** A {@code tryReceive} of {@code c} on its own thread, a thread of {@code pool}. */
    private static Optional<Integer> takenOn(CoroutinePool pool, Channel<Integer> c) {
        return Coroutine.await(pool.submit(c::tryReceive));
    }

    /** Runs {@code action} in a coroutine of the caller's thread, which first runs once the caller parks. */
    private static void whenParked(Runnable action) {
        Coroutine.create("when parked", action);
    }

    /**
     * A platform thread that makes a channel and then waits in an {@code await} (running the operations
     * other threads post to it) until {@link #end()} lets it return.
     */
    private static final class Keeper {
        final CompletableFuture<Void> release = new CompletableFuture<>();
        final CompletableFuture<Channel<Integer>> made = new CompletableFuture<>();
        final Thread thread;

        Keeper(String threadName, String channel, int capacity, java.util.function.Consumer<Channel<Integer>> first) {
            thread = Thread.ofPlatform().name(threadName).start(() -> {
                Channel<Integer> c = new Channel<>(channel, capacity);
                first.accept(c);
                made.complete(c);
                Coroutine.await(release);
            });
        }

        Channel<Integer> channel() {
            return Coroutine.await(made);
        }

        /** Lets the thread return, and waits until it has ended. */
        void end() {
            release.complete(null);
            Peer.join(thread);
        }
    }

    // ---- clauses sharing a channel ----------------------------------------------------------------

    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aSendAndAReceiveClauseOnOneFullForeignChannelTakeTheBufferedValueAndSendNothing() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            for (boolean sendFirst : new boolean[] {true, false}) {
                for (boolean shared : new boolean[] {false, true}) {
                    Channel<Integer> c = on(pool, () -> {
                        Channel<Integer> ch = new Channel<>("full", 1);
                        ch.send(1);
                        return ch;
                    });
                    if (shared) {
                        assertThat(c.trySend(99)).as("full").isFalse(); // now shared: the select tries it in place
                    }
                    Select<String> sel = new Select<>();
                    if (sendFirst) {
                        sel.onSend(c, 2, () -> "sent 2").onReceive(c, v -> "got " + v);
                    } else {
                        sel.onReceive(c, v -> "got " + v).onSend(c, 2, () -> "sent 2");
                    }
                    String what = "send clause first " + sendFirst + ", shared " + shared;
                    assertThat(Coroutine.withTimeout(GUARD, sel::select)).as(what).isEqualTo("got 1");
                    assertThat(takenOn(pool, c)).as(what + ": the send clause left nothing").isEmpty();
                    assertThat(on(pool, () -> c.trySend(3))).as(what + ": room for one").isTrue();
                    assertThat(takenOn(pool, c)).as(what).contains(3);
                }
            }
        }
    }

    @Test
    @Timeout(60)
    void aSendAndAReceiveClauseOnOneForeignChannelNeverMeetEachOtherAndEachMeetsAPartner() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<Integer> c = channelOf(pool, "c", 0);
            Select<String> sel = new Select<String>().onSend(c, 7, () -> "sent").onReceive(c, v -> "got " + v);
            CompletableFuture<Integer> consumer = pool.submit(c::receive);
            assertThat(Coroutine.withTimeout(GUARD, sel::select)).isEqualTo("sent");
            assertThat(Coroutine.await(consumer)).isEqualTo(7);
            pool.submit(() -> {
                c.send(8);
                return null;
            });
            assertThat(Coroutine.withTimeout(GUARD, sel::select)).isEqualTo("got 8");
            // a lone select waits with both clauses queued, neither completing the other
            whenParked(() -> pool.submit(() -> {
                c.send(9);
                return null;
            }));
            assertThat(Coroutine.withTimeout(GUARD, sel::select)).isEqualTo("got 9");
            assertThat(takenOn(pool, c)).as("no send clause left").isEmpty();
            assertThat(on(pool, () -> c.trySend(1))).as("no receive clause left").isFalse();
        }
    }

    @Test
    @Timeout(60)
    void twoReceiveClausesOnOneForeignChannelTakeEachValueOnceInOrder() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<Integer> c = channelOf(pool, "c", 0);
            int n = 300;
            pool.submit(() -> {
                for (int v = 0; v < n; v++) {
                    c.send(v);
                }
                return null;
            });
            Select<String> sel = new Select<String>().onReceive(c, v -> "first " + v).onReceive(c, v -> "second " + v);
            List<Integer> values = new ArrayList<>();
            Set<String> clauses = new HashSet<>();
            for (int i = 0; i < n; i++) {
                // biased or not, either clause may take a value: the sender may come between the two clauses' checks
                String r = i < n / 2 ? sel.select() : sel.selectUnbiased();
                clauses.add(r.substring(0, r.indexOf(' ')));
                values.add(Integer.parseInt(r.substring(r.indexOf(' ') + 1)));
            }
            assertThat(values).as("each once, in the order sent").containsExactlyElementsOf(range(0, n));
            assertThat(clauses).as("unbiased: either clause").containsExactlyInAnyOrder("first", "second");
            assertThat(on(pool, () -> c.trySend(1))).as("no receive clause left").isFalse();
        }
    }

    /**
     * One channel of a pool thread, received from by selects of that thread (the channel its own) and of
     * the test's thread (another thread's), while a plain thread without coroutines sends to it and then
     * closes it: every value is received once, each receiver's in the order sent, and both end on the close.
     */
    @Test
    @Timeout(60)
    void selectsOfTheChannelsOwnThreadAndOfAnotherShareItsValuesExactlyOnce() throws InterruptedException {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<Integer> c = channelOf(pool, "c", 1);
            int n = 1000;
            List<Integer> byOwner = Collections.synchronizedList(new ArrayList<>());
            CompletableFuture<Object> owner = pool.submit(() -> {
                Channel<Integer> idle = new Channel<>("owner's idle", 0);
                Select<Integer> sel = new Select<Integer>().onReceive(idle, v -> v).onReceive(c, v -> v);
                try {
                    while (true) {
                        byOwner.add(byOwner.size() % 2 == 0 ? sel.select() : sel.selectUnbiased());
                    }
                } catch (ChannelClosedException e) {
                    assertThat(e.channel()).isSameAs(c);
                }
                return null;
            });
            Thread producer = Thread.ofPlatform().name("producer").start(() -> {
                for (int v = 0; v < n; v++) {
                    c.send(v);
                }
                c.close();
            });
            Channel<Integer> idle = new Channel<>("main's idle", 0);
            Select<Integer> sel = new Select<Integer>().onReceive(c, v -> v).onReceive(idle, v -> v);
            List<Integer> byMain = new ArrayList<>();
            Throwable end = catchThrowable(() -> {
                while (true) {
                    byMain.add(byMain.size() % 2 == 0 ? sel.select() : sel.selectUnbiased());
                }
            });
            assertThat(end).isInstanceOf(ChannelClosedException.class);
            Coroutine.await(owner);
            producer.join();
            List<Integer> all = new ArrayList<>(byMain);
            all.addAll(byOwner);
            assertThat(all).as("every value once").containsExactlyInAnyOrderElementsOf(range(0, n));
            assertThat(byMain).as("main's in the order sent").isSorted();
            assertThat(byOwner).as("the owner's in the order sent").isSorted();
            assertThat(idle.trySend(1)).as("no clause left on main's own channel").isFalse();
        }
    }

    // ---- closed channels ----------------------------------------------------------------------------

    @Test
    @Timeout(60)
    void aForeignChannelClosedByAThirdThreadWhileTheSelectWaitsFiresItsClauseAsClosedWithTheCause() {
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            for (boolean withCause : new boolean[] {false, true}) {
                List<Channel<Integer>> ch = channelsOfTwoThreads(pool, 0);
                Channel<Integer> a = ch.get(0);
                Channel<Integer> b = ch.get(1);
                IllegalStateException cause = new IllegalStateException("the producer failed");
                Select<String> sel = new Select<String>().onReceive(b, v -> "b" + v).onReceive(a, v -> "a" + v)
                        .onSend(b, 5, () -> "sent");
                CompletableFuture<Void> parked = new CompletableFuture<>();
                whenParked(() -> parked.complete(null));
                Thread closer = Thread.ofPlatform().name("closer").start(() -> {
                    parked.join();
                    if (withCause) {
                        a.close(cause);
                    } else {
                        a.close();
                    }
                });
                Throwable t = catchThrowable(() -> Coroutine.withTimeout(GUARD, sel::select));
                assertThat(t).isInstanceOf(ChannelClosedException.class).hasMessage("main context 'main' cannot select"
                        + " onReceive from channel 'a' (closed): no value is left in it, and none can come; leave the"
                        + " clause out to go on");
                assertThat(((ChannelClosedException) t).channel()).isSameAs(a);
                if (withCause) {
                    assertThat(t).hasCause(cause);
                } else {
                    assertThat(t.getCause()).isNull();
                }
                Peer.join(closer);
                assertThat(on(pool, () -> b.trySend(1))).as("no receive clause left on b").isFalse();
                assertThat(takenOn(pool, b)).as("no send clause left on b").isEmpty();
                Throwable again = catchThrowable(sel::select);
                assertThat(again).as("ready at once, and fires so again").isInstanceOf(ChannelClosedException.class);
            }
        }
    }

    /**
     * A foreign channel closed (and drained) before the select runs is ready: a biased select fires its
     * clause, as closed, though a clause after it is ready too, as it does for a channel of its own thread;
     * a clause before it fires first, and a value left in it is received first.
     */
    @Test
    @Timeout(60)
    void aForeignChannelClosedBeforeTheSelectIsReadyAndFiresInItsPlaceAmongTheClauses() {
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            List<Channel<Integer>> ch = channelsOfTwoThreads(pool, 4);
            Channel<Integer> a = ch.get(0);
            Channel<Integer> b = ch.get(1);
            RuntimeException cause = new RuntimeException("upstream failed");
            a.send(1); // posted: a is shared from now on
            b.send(10);
            b.send(11);
            on(pool, () -> {
                a.close(cause);
                return null;
            });
            Select<String> aFirst = new Select<String>().onReceive(a, v -> "a" + v).onReceive(b, v -> "b" + v);
            assertThat(aFirst.select()).as("the value left in a first").isEqualTo("a1");
            Throwable t = catchThrowable(aFirst::select);
            assertThat(t).as("a, closed and drained, is ready before b").isInstanceOf(ChannelClosedException.class)
                    .hasMessage("main context 'main' cannot select onReceive from channel 'a' (closed): no value is"
                            + " left in it, and none can come; leave the clause out to go on")
                    .hasCause(cause);
            Select<String> bFirst = new Select<String>().onReceive(b, v -> "b" + v).onReceive(a, v -> "a" + v);
            assertThat(bFirst.select()).isEqualTo("b10");
            Throwable s = catchThrowable(() -> new Select<String>().onSend(a, 7, () -> "sent").onReceive(b, v -> "b" + v)
                    .select());
            assertThat(s).isInstanceOf(ChannelClosedException.class).hasMessage("main context 'main' cannot select"
                    + " onSend(7) to channel 'a' (closed): a closed channel takes no more values, and the value was not delivered;"
                    + " leave the clause out to go on").hasCause(cause);
            assertThat(takenOn(pool, b)).as("b's second value stayed").contains(11);
            assertThat(Coroutine.withTimeout(GUARD, () -> catchThrowable(new Select<String>().onReceive(a, v -> "a" + v)
                    .onReceive(b, v -> "b" + v).onDefault(() -> "default")::select)))
                    .as("ready: not the default").isInstanceOf(ChannelClosedException.class);
        }
    }

    private static List<Integer> range(int from, int n) {
        List<Integer> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(from + i);
        }
        return l;
    }
}
