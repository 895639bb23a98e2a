package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
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

    /** How a refusal of another thread's channel names the test's thread after its caller: {@code " of thread 'test-…' (#<id>)"}. */
    private static String ofThisThread() {
        return " of thread " + Scheduler.describe(Thread.currentThread());
    }


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

        /** The channel the thread made, once it has. */
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

    /**
     * The send clause of a waiting select, queued on another thread's full buffered channel when its receive
     * clause takes the buffered value there, is dropped, not spun on: that channel's thread holds the select's
     * wait locked for the receive, and a lock of it for the send would wait for ever for a hold only it could
     * give back. The channel's thread runs nothing until the select is about to park, so that the select's
     * clauses reach it as posts, in their order, the send first. A watcher then looks at that thread until
     * the wait is completed: a thread spinning for a wait is seen yielding in the spin (its first tries do not
     * yield, and a lock that needs no wait never does), and the watcher then says so and gives the wait back,
     * so that the test ends. The select's caller waits for whichever comes first, the select's clause or the
     * watcher's sighting; no time is measured.
     */
    @Test
    @Timeout(60)
    void theSendClauseLeftQueuedWhenTheReceiveClauseTakesTheBufferedValueIsDroppedNotSpunOn() {
        CompletableFuture<Channel<Integer>> made = new CompletableFuture<>();
        CountDownLatch serve = new CountDownLatch(1);
        CompletableFuture<Void> release = new CompletableFuture<>();
        Thread theirs = Thread.ofPlatform().name("theirs").start(() -> {
            Channel<Integer> ch = new Channel<>("full", 1);
            ch.send(1);
            made.complete(ch);
            try {
                serve.await(); // runs nothing meanwhile: what the select posts waits in its inbox, in order
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            Coroutine.await(release); // runs the posts
        });
        CompletableFuture<String> spun = new CompletableFuture<>();
        CompletableFuture<Thread> watcher = new CompletableFuture<>();
        try {
            Channel<Integer> c = Coroutine.await(made); // not shared yet: the select cannot try it in place
            Select.beforeParkAcross = claim -> {
                watcher.complete(Thread.ofPlatform().name("watcher").start(() -> {
                    while (claim.isOpen()) { // until the receive clause completes it
                        String frames = spinningForAWait(theirs);
                        if (frames != null) {
                            spun.complete(frames);
                            claim.unlock(); // given back: the spin ends, and the test with it
                            return;
                        }
                        Thread.onSpinWait();
                    }
                }));
                serve.countDown();
            };
            String outcome;
            try {
                Select<String> sel = new Select<String>().onSend(c, 2, () -> "sent 2").onReceive(c, v -> "got " + v);
                CompletableFuture<String> fired = new CompletableFuture<>();
                Coroutine.create("selector", () -> fired.complete(sel.select()));
                outcome = Coroutine.withTimeout(GUARD, () -> new Select<String>()
                        .onComplete(spun, frames -> "spun")
                        .onComplete(fired, v -> v)
                        .select());
            } finally {
                Select.beforeParkAcross = null;
            }
            Peer.join(watcher.join());
            assertThat(spun.getNow(null)).as("the frames of the channel's thread seen spinning for the select's wait").isNull();
            assertThat(outcome).isEqualTo("got 1");
            assertThat(c.tryReceive()).as("the send clause left nothing").isEmpty(); // shared now: in place
            assertThat(c.trySend(3)).as("room for one").isTrue();
            assertThat(c.tryReceive()).contains(3);
        } finally {
            serve.countDown();
            release.complete(null);
            Peer.join(theirs);
        }
    }

    /**
     * The frames of {@code t}, one a line, if it is yielding in a spin for a select's wait that another
     * holds locked ({@code ForeignWait.lockSpinning} past its first tries); null if it is not, now.
     */
    private static String spinningForAWait(Thread t) {
        StackTraceElement[] frames = t.getStackTrace();
        for (int i = 1; i < frames.length; i++) {
            if (frames[i].getClassName().equals(ForeignWait.class.getName()) && frames[i].getMethodName().equals("lockSpinning")
                    && frames[i - 1].getClassName().equals(Thread.class.getName())
                    && frames[i - 1].getMethodName().equals("yield")) {
                StringBuilder text = new StringBuilder();
                for (StackTraceElement f : frames) {
                    text.append(f).append('\n');
                }
                return text.toString();
            }
        }
        return null;
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

    /**
     * Two selects of two threads, each offering a value on the other's channel and receiving on its own, run
     * round after round: each round exactly one value crosses, from one to the other (the two selects' waits
     * are locked in one order, so neither both nor neither fire their send, and no thread waits for the other
     * for ever).
     */
    @Test
    @Timeout(60)
    void twoSelectsEachSendingToTheOthersChannelExchangeExactlyOneValueARound() {
        int rounds = 500;
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<Integer> mine = new Channel<>("mine", 0);
            CompletableFuture<Channel<Integer>> theirs = new CompletableFuture<>();
            CompletableFuture<List<String>> other = pool.submit(() -> {
                Channel<Integer> own = new Channel<>("theirs", 0);
                theirs.complete(own);
                List<String> r = new ArrayList<>();
                for (int i = 0; i < rounds; i++) {
                    int v = i;
                    Select<String> sel = new Select<String>().onSend(mine, 1_000_000 + v, () -> "sent " + v)
                            .onReceive(own, x -> "got " + x);
                    r.add(i % 2 == 0 ? sel.select() : sel.selectUnbiased());
                }
                return r;
            });
            Channel<Integer> their = Coroutine.await(theirs);
            List<String> here = new ArrayList<>();
            for (int i = 0; i < rounds; i++) {
                int v = i;
                Select<String> sel = new Select<String>().onReceive(mine, x -> "got " + x).onSend(their, v, () -> "sent " + v);
                here.add(Coroutine.withTimeout(GUARD, () -> v % 3 == 0 ? sel.selectUnbiased() : sel.select()));
            }
            List<String> there = Coroutine.withTimeout(GUARD, () -> Coroutine.await(other));
            for (int i = 0; i < rounds; i++) {
                String a = here.get(i);
                String b = there.get(i);
                if (a.startsWith("sent")) {
                    assertThat(b).as("round " + i).isEqualTo("got " + i);
                } else {
                    assertThat(a).as("round " + i).isEqualTo("got " + (1_000_000 + i));
                    assertThat(b).as("round " + i).isEqualTo("sent " + i);
                }
            }
            assertThat(mine.trySend(0)).as("no clause left").isFalse();
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
                assertThat(t).isInstanceOf(ChannelClosedException.class).hasMessage("main context 'main'" + ofThisThread() + " cannot select"
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
                    .hasMessage("main context 'main'" + ofThisThread() + " cannot select onReceive from channel 'a' (closed): no value is"
                            + " left in it, and none can come; leave the clause out to go on")
                    .hasCause(cause);
            Select<String> bFirst = new Select<String>().onReceive(b, v -> "b" + v).onReceive(a, v -> "a" + v);
            assertThat(bFirst.select()).isEqualTo("b10");
            Throwable s = catchThrowable(() -> new Select<String>().onSend(a, 7, () -> "sent").onReceive(b, v -> "b" + v)
                    .select());
            assertThat(s).isInstanceOf(ChannelClosedException.class).hasMessage("main context 'main'" + ofThisThread() + " cannot select"
                    + " onSend(7) to channel 'a' (closed): a closed channel takes no more values, and the value was not delivered;"
                    + " leave the clause out to go on").hasCause(cause);
            assertThat(takenOn(pool, b)).as("b's second value stayed").contains(11);
            assertThat(Coroutine.withTimeout(GUARD, () -> catchThrowable(new Select<String>().onReceive(a, v -> "a" + v)
                    .onReceive(b, v -> "b" + v).onDefault(() -> "default")::select)))
                    .as("ready: not the default").isInstanceOf(ChannelClosedException.class);
        }
    }

    /**
     * A foreign channel no other thread had used, closed by its thread before the select runs: only that thread
     * can tell it is closed, so the select waits for its answer, and the clause fires as closed (no other clause
     * completes meanwhile).
     */
    @Test
    @Timeout(60)
    void aForeignChannelNotSharedYetClosedBeforeTheSelectFiresAsClosedOnceItsThreadHasAnswered() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<Integer> a = on(pool, () -> {
                Channel<Integer> c = new Channel<>("a", 1);
                c.close(new IllegalStateException("done"));
                return c;
            });
            Channel<Integer> own = new Channel<>("own", 0);
            Throwable t = catchThrowable(() -> Coroutine.withTimeout(GUARD, new Select<String>().onReceive(own, v -> "own")
                    .onReceive(a, v -> "a")::selectUnbiased));
            assertThat(t).isInstanceOf(ChannelClosedException.class).hasMessage("main context 'main'" + ofThisThread() + " cannot select"
                    + " onReceive from channel 'a' (closed): no value is left in it, and none can come; leave the clause"
                    + " out to go on").hasCauseInstanceOf(IllegalStateException.class);
            assertThat(own.trySend(1)).as("no clause left on the caller's own channel").isFalse();
        }
    }


    /**
     * A clause on another thread's channel that no other thread had used is not tried in place by the run
     * that meets it (only that thread may look at it yet), but that run asks the thread to share it: once it
     * has (the next post to that thread has run after it), the clause fires at once when it is ready, first in
     * a biased select and among the ready ones in an unbiased one, though a clause on the caller's own
     * channel is ready every time.
     */
    @Test
    @Timeout(60)
    void aReadyClauseOnAForeignChannelNoOtherThreadHadUsedFiresAtOnceFromTheNextRunsOn() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<Integer> out = channelOf(pool, "out", 1000);
            Channel<Integer> probe = channelOf(pool, "probe", 0);
            Channel<Integer> own = new Channel<>("own", 1000);
            for (int v = 0; v < 1000; v++) {
                own.send(v);
            }
            Select<String> biased = new Select<String>().onSend(out, -1, () -> "sent").onReceive(own, v -> "own");
            assertThat(biased.select()).as("out not tried in place yet: the caller's own fires").isEqualTo("own");
            assertThat(probe.tryReceive()).as("a post that runs after the ask").isEmpty();
            assertThat(biased.select()).as("out tried in place, first").isEqualTo("sent");
            Select<String> unbiased = new Select<String>().onReceive(own, v -> "own").onSend(out, -1, () -> "sent");
            List<String> chosen = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                chosen.add(unbiased.selectUnbiased());
            }
            assertThat(chosen).contains("own", "sent");
            int sent = 1 + Collections.frequency(chosen, "sent");
            assertThat(on(pool, out::size)).as("every send clause that fired sent once").isEqualTo(sent);
            assertThat(own.size()).isEqualTo(1000 - 1 - (200 - (sent - 1)));
        }
    }


    // ---- the channel's thread ends -------------------------------------------------------------------

    /**
     * A plain thread that made the channel returns while the select waits on it: the select fails naming the
     * channel and that thread (found at its next look at the thread, within a second), and its clause on the
     * caller's own channel is gone.
     */
    @Test
    @Timeout(60)
    void aSelectWaitingOnAChannelOfAPlainThreadThatReturnsFailsNamingTheChannelAndThatThread() {
        Keeper keeper = new Keeper("keeper", "kept", 0, c -> { });
        Channel<Integer> kept = keeper.channel();
        Channel<Integer> own = new Channel<>("own", 0);
        Select<String> sel = new Select<String>().onReceive(own, v -> "own " + v).onReceive(kept, v -> "kept " + v);
        whenParked(keeper::end);
        Throwable t = catchThrowable(() -> Coroutine.withTimeout(GUARD, sel::select));
        assertThat(t).isInstanceOf(IllegalStateException.class).hasMessageMatching("main context 'main' of thread"
                + " 'test-[A-Za-z]+' \\(#\\d+\\) cannot select a receive from channel 'kept' \\(open\\): it belongs to"
                + " thread 'keeper' \\(#\\d+\\), which has ended");
        assertThat(own.trySend(1)).as("no clause left on the caller's own channel").isFalse();
        Throwable again = catchThrowable(sel::select);
        assertThat(again).as("at once, the next time").isInstanceOf(IllegalStateException.class).hasMessage(t.getMessage());
    }

    /** The values a thread left in its channel as it ended are each received once by selects, then the channel answers as it was left. */
    @Test
    @Timeout(60)
    void selectsTakeTheValuesLeftInTheChannelOfAnEndedThreadThenFindItAsItWasLeft() {
        for (boolean closed : new boolean[] {true, false}) {
            Keeper keeper = new Keeper("keeper", "kept", 3, c -> {
                c.send(1);
                c.send(2);
                if (closed) {
                    c.close();
                }
            });
            Channel<Integer> kept = keeper.channel();
            keeper.end();
            Channel<Integer> own = new Channel<>("own", 0);
            Select<String> sel = new Select<String>().onReceive(own, v -> "own " + v).onReceive(kept, v -> "kept " + v);
            assertThat(sel.select()).isEqualTo("kept 1");
            assertThat(sel.selectUnbiased()).isEqualTo("kept 2");
            Throwable t = catchThrowable(sel::select);
            if (closed) {
                assertThat(t).isInstanceOf(ChannelClosedException.class).hasMessage("main context 'main'" + ofThisThread() + " cannot select"
                        + " onReceive from channel 'kept' (closed): no value is left in it, and none can come; leave the"
                        + " clause out to go on");
            } else {
                assertThat(t).isInstanceOf(IllegalStateException.class).isNotInstanceOf(ChannelClosedException.class)
                        .hasMessageContaining("cannot select a receive from channel 'kept' (open): it belongs to thread"
                                + " 'keeper' (#").hasMessageEndingWith("), which has ended");
            }
            assertThat(own.trySend(1)).as("no clause left on the caller's own channel").isFalse();
        }
    }

    /**
     * A pool closed with {@code closeNow()} while a select waits on a channel of its thread: the select
     * fails naming the channel and the pool's thread, which has ended; nothing was taken from it.
     */
    @Test
    @Timeout(60)
    void aSelectWaitingOnAChannelOfAPoolThatIsClosedNowFailsNamingThePoolsThread() {
        CoroutinePool pool = CoroutinePool.start(1);
        Channel<Integer> p = channelOf(pool, "p", 0);
        Thread poolThread = Coroutine.await(pool.submit(Peer::schedulerThread));
        assertThat(p.tryReceive()).isEmpty(); // p is shared: the select's clause waits there in place
        Channel<Integer> own = new Channel<>("own", 0);
        Select<String> sel = new Select<String>().onReceive(p, v -> "p " + v).onSend(own, 5, () -> "sent");
        whenParked(() -> Coroutine.withTimeout(GUARD, pool::closeNow));
        Throwable t = catchThrowable(() -> Coroutine.withTimeout(GUARD, sel::select));
        assertThat(poolThread.isAlive()).isFalse();
        assertThat(t).isInstanceOf(IllegalStateException.class).hasMessageMatching("main context 'main' of thread"
                + " 'test-[A-Za-z]+' \\(#\\d+\\) cannot select a receive from channel 'p' \\(open\\): it belongs to"
                + " thread '" + poolThread.getName() + "' \\(#\\d+\\), which has ended");
        assertThat(own.tryReceive()).as("nothing sent by the send clause").isEmpty();
        assertThat(catchThrowable(p::tryReceive)).as("nothing left in p, which stayed open")
                .isInstanceOf(IllegalStateException.class).hasMessageEndingWith("which has ended");
    }

    // ---- selectUnbiased ---------------------------------------------------------------------------

    /** The labels of 60 unbiased runs over three ready channels, two of two pool threads (shared) and one of the caller's. */
    private static List<String> unbiasedChoices(CoroutinePool pool) {
        List<Channel<Integer>> ch = channelsOfTwoThreads(pool, 64);
        Channel<Integer> own = new Channel<>("own", 64);
        for (int v = 0; v < 64; v++) {
            ch.get(0).send(v); // the first is posted and makes the channel shared; the rest go in place
            ch.get(1).send(v);
            own.send(v);
        }
        Select<String> sel = new Select<String>().onReceive(ch.get(0), v -> "a").onReceive(own, v -> "own")
                .onReceive(ch.get(1), v -> "b");
        List<String> chosen = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            chosen.add(sel.selectUnbiased());
        }
        return chosen;
    }

    @Test
    @Timeout(60)
    void anUnbiasedSelectAcrossThreadsChoosesEveryReadyClauseAndTheSameOnesOnEveryFreshThread() {
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            List<String> first = Peer.call("first", () -> unbiasedChoices(pool));
            List<String> second = Peer.call("second", () -> unbiasedChoices(pool));
            assertThat(first).as("every ready clause is chosen").contains("a", "own", "b");
            assertThat(second).as("the scheduler's seeded random: the same choices on every fresh thread")
                    .containsExactlyElementsOf(first);
            assertThat(Collections.frequency(first, "own")).as("not biased to the caller's own channel").isLessThan(40);
        }
    }

    // ---- the select's own coroutine is closed ---------------------------------------------------

    /**
     * A pool body selecting over two channels of the test's thread is cancelled with {@code cancel(true)}
     * while it waits: nothing was taken or sent, and the next send goes to the next receiver.
     */
    @Test
    @Timeout(60)
    void aSelectWhoseBodyIsCancelledWhileItWaitsTakesAndSendsNothingAndTheNextSendGoesToTheNextReceiver() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<Integer> in = new Channel<>("in", 0);
            Channel<Integer> out = new Channel<>("out", 0);
            CompletableFuture<Void> parked = new CompletableFuture<>();
            CompletableFuture<Void> unwound = new CompletableFuture<>();
            CompletableFuture<String> body = pool.submit(() -> {
                assertThat(in.tryReceive()).isEmpty(); // both shared: the clauses wait there in place
                assertThat(out.trySend(0)).isFalse();
                Select<String> sel = new Select<String>().onReceive(in, v -> "in " + v).onSend(out, 42, () -> "sent");
                whenParked(() -> parked.complete(null));
                try {
                    return sel.select();
                } finally {
                    unwound.complete(null);
                }
            });
            Coroutine.withTimeout(GUARD, () -> Coroutine.await(parked));
            assertThat(body.cancel(true)).isTrue();
            Coroutine.withTimeout(GUARD, () -> Coroutine.await(unwound));
            assertThat(out.tryReceive()).as("nothing sent").isEmpty();
            assertThat(in.trySend(1)).as("no receiver left").isFalse();
            CompletableFuture<Integer> next = pool.submit(in::receive);
            Coroutine.withTimeout(GUARD, () -> in.send(2));
            assertThat(Coroutine.await(next)).isEqualTo(2);
            assertThat(body).isCancelled();
        }
    }

    /**
     * A coroutine waiting in a select over channels of two pool threads is closed: its {@code finally} runs,
     * nothing was taken or sent, and a later send and receive on those channels meet the next partners.
     */
    @Test
    @Timeout(60)
    void aSelectWhoseCoroutineIsClosedWhileItWaitsLeavesTheNextOperationsToTheNextPartners() {
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            List<Channel<Integer>> ch = channelsOfTwoThreads(pool, 0);
            Channel<Integer> a = ch.get(0);
            Channel<Integer> b = ch.get(1);
            List<String> events = new ArrayList<>();
            Coroutine selector = Coroutine.create("selector", () -> {
                try {
                    events.add(new Select<String>().onReceive(a, v -> "a " + v).onSend(b, 42, () -> "sent").select());
                } finally {
                    events.add("unwound");
                }
            });
            selector.switchTo(); // parks in the select, its clauses posted
            assertThat(selector.state()).isEqualTo(Coroutine.State.PARKED);
            selector.close();
            assertThat(events).containsExactly("unwound");
            CompletableFuture<Object> sender = pool.submit(() -> {
                a.send(7);
                return null;
            });
            assertThat(Coroutine.withTimeout(GUARD, a::receive)).as("the next receiver").isEqualTo(7);
            Coroutine.await(sender);
            CompletableFuture<Integer> receiver = pool.submit(b::receive);
            Coroutine.withTimeout(GUARD, () -> b.send(8));
            assertThat(Coroutine.await(receiver)).as("the next sender's value, not 42").isEqualTo(8);
        }
    }

    /**
     * Main waiting in a select over a pool thread's channel, a coroutine it created fails: the select throws
     * the failure, having taken and sent nothing, and the next send there goes to the next receiver.
     */
    @Test
    @Timeout(60)
    void aFailureForMainWaitingInASelectAcrossThreadsCancelsItsWaitAndTheNextSendGoesToTheNextReceiver() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<Integer> a = channelOf(pool, "a", 0);
            assertThat(a.tryReceive()).isEmpty(); // a is shared: the clause waits there in place
            Channel<Integer> own = new Channel<>("own", 0);
            Select<String> sel = new Select<String>().onReceive(a, v -> "a " + v).onSend(own, 5, () -> "sent");
            Coroutine.create("failing", () -> {
                throw new IllegalStateException("boom");
            });
            Throwable t = catchThrowable(() -> Coroutine.withTimeout(GUARD, sel::select));
            assertThat(t).isInstanceOf(CoroutineException.class).hasRootCauseMessage("boom");
            assertThat(own.tryReceive()).as("nothing sent").isEmpty();
            CompletableFuture<Object> sender = pool.submit(() -> {
                a.send(7);
                return null;
            });
            assertThat(Coroutine.withTimeout(GUARD, a::receive)).as("the next receiver").isEqualTo(7);
            Coroutine.await(sender);
            assertThat(Coroutine.withTimeout(GUARD, () -> {
                pool.submit(() -> {
                    a.send(8);
                    return null;
                });
                return sel.select();
            })).as("the select runs again").isEqualTo("a 8");
        }
    }

    /**
     * A select over another thread's channel waiting in one coroutine, run by another of the same thread: refused
     * naming both contexts and the waiting one's state; the waiting one still gets the next value.
     */
    @Test
    @Timeout(60)
    void aSelectAcrossThreadsWaitingInOneCoroutineIsRefusedToAnotherAndTheWaitingOneStillGetsTheValue() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<Integer> a = channelOf(pool, "a", 0);
            Select<String> sel = new Select<String>().onReceive(a, v -> "a " + v);
            List<String> events = new ArrayList<>();
            Coroutine waiting = Coroutine.create("waiting", () -> events.add(sel.select()));
            waiting.switchTo();
            assertThat(waiting.state()).isEqualTo(Coroutine.State.PARKED);
            assertThat(catchThrowable(sel::select)).isInstanceOf(IllegalStateException.class).hasMessage("main context"
                    + " 'main' cannot select over receive from channel 'a' of thread " + Scheduler.describe(a.owner())
                    + ": this select is waiting already, in coroutine"
                    + " 'waiting' (state PARKED); a select waits in one context at a time, so give each context its own");
            pool.submit(() -> {
                a.send(3);
                return null;
            });
            Coroutine.withTimeout(GUARD, waiting::join);
            assertThat(events).containsExactly("a 3");
        }
    }


    // ---- sends into buffers, defaults ---------------------------------------------------------

    @Test
    @Timeout(60)
    void anOnSendToAForeignBufferedChannelSendsIntoRoomAndWaitsForRoomWhenFull() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<Integer> c = channelOf(pool, "c", 2);
            Channel<Integer> own = new Channel<>("own", 0);
            assertThat(new Select<String>().onReceive(own, v -> "own").onSend(c, 10, () -> "sent 10").select())
                    .as("not shared yet: posted, and into room").isEqualTo("sent 10");
            assertThat(new Select<String>().onReceive(own, v -> "own").onSend(c, 11, () -> "sent 11").select())
                    .as("shared: in place").isEqualTo("sent 11");
            assertThat(new Select<String>().onSend(c, 12, () -> "sent 12").onDefault(() -> "full").select())
                    .isEqualTo("full");
            whenParked(() -> assertThat(takenOn(pool, c)).contains(10));
            assertThat(Coroutine.withTimeout(GUARD, new Select<String>().onReceive(own, v -> "own")
                    .onSend(c, 12, () -> "sent 12")::select)).as("once there is room").isEqualTo("sent 12");
            assertThat(takenOn(pool, c)).contains(11);
            assertThat(takenOn(pool, c)).contains(12);
            assertThat(takenOn(pool, c)).as("12 sent once, 11 and 10 once").isEmpty();
        }
    }

    /**
     * A select with a default over another thread's channel not shared yet asks that thread (a post) before
     * it takes the default: a value buffered there, or a sender waiting there, is received, not passed over.
     */
    @Test
    @Timeout(60)
    void aDefaultIsTakenOnlyOnceTheForeignChannelsThreadHasAnsweredThatNothingIsReady() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<Integer> buffered = on(pool, () -> {
                Channel<Integer> c = new Channel<>("buffered", 1);
                c.send(5);
                return c;
            });
            Select<String> sel = new Select<String>().onReceive(buffered, v -> "got " + v).onDefault(() -> "default");
            assertThat(sel.select()).isEqualTo("got 5");
            assertThat(sel.select()).isEqualTo("default");
            CompletableFuture<Void> senderParked = new CompletableFuture<>();
            Channel<Integer> rendezvous = on(pool, () -> {
                Channel<Integer> c = new Channel<>("rendezvous", 0);
                Coroutine.create("sender", () -> {
                    whenParked(() -> senderParked.complete(null));
                    c.send(6);
                });
                return c;
            });
            Coroutine.withTimeout(GUARD, () -> Coroutine.await(senderParked));
            Select<String> sel2 = new Select<String>().onReceive(rendezvous, v -> "got " + v).onDefault(() -> "default");
            assertThat(sel2.selectUnbiased()).isEqualTo("got 6");
            assertThat(sel2.selectUnbiased()).isEqualTo("default");
            Select<String> send = new Select<String>().onSend(rendezvous, 7, () -> "sent").onDefault(() -> "default");
            assertThat(send.select()).as("no receiver there").isEqualTo("default");
            assertThat(takenOn(pool, rendezvous)).as("nothing sent by the default run").isEmpty();
            Channel<Integer> another = on(pool, () -> {
                Channel<Integer> c = new Channel<>("another", 2);
                c.send(8);
                c.send(9);
                return c;
            });
            assertThat(new Select<String>().onReceive(another, v -> "got " + v).onTimeout(Duration.ZERO, () -> "zero")
                    .select()).as("a zero timeout after it: the channel's thread asked first").isEqualTo("got 8");
            assertThat(new Select<String>().onTimeout(Duration.ZERO, () -> "zero").onReceive(another, v -> "got " + v)
                    .select()).as("a zero timeout first: ready, it fires").isEqualTo("zero");
            assertThat(takenOn(pool, another)).as("nothing taken by the timeout's run").contains(9);
        }
    }

    // ---- one select, many runs ------------------------------------------------------------------

    /**
     * One select of a receive from a pool thread's channel, a send to another's and a timeout, run hundreds of
     * times, biased and not, while those threads send and receive: every value sent to it is received once,
     * and the receiver got exactly as many of its values as its send clause fired.
     */
    @Test
    @Timeout(60)
    void oneSelectRunManyTimesAcrossThreadsFiresOneClauseEachRunAndLosesNothing() {
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            List<Channel<Integer>> ch = channelsOfTwoThreads(pool, 1);
            Channel<Integer> in = ch.get(0);
            Channel<Integer> out = ch.get(1);
            int n = 400;
            pool.submit(() -> {
                for (int v = 0; v < n; v++) {
                    in.send(v);
                }
                return null;
            });
            CompletableFuture<Integer> counted = pool.submit(() -> {
                int k = 0;
                for (int v : out) {
                    assertThat(v).isEqualTo(-1);
                    k++;
                }
                return k;
            });
            Select<Integer> sel = new Select<Integer>().onReceive(in, v -> v).onSend(out, -1, () -> -1)
                    .onTimeout(Duration.ofNanos(ThreadLocalRandom.current().nextLong(1, 50_000)), () -> -2);
            List<Integer> got = new ArrayList<>();
            int sends = 0;
            for (int i = 0; got.size() < n || sends == 0; i++) { // the send clause fires once in has none left, if not before
                int r = i % 2 == 0 ? sel.select() : sel.selectUnbiased();
                if (r >= 0) {
                    got.add(r);
                } else if (r == -1) {
                    sends++;
                }
            }
            out.close();
            assertThat(got).as("each once, in order").containsExactlyElementsOf(range(0, n));
            assertThat(Coroutine.withTimeout(GUARD, () -> Coroutine.await(counted))).isEqualTo(sends);
        }
    }

    /**
     * A select that ran on one thread, run from a pool thread (or a plain thread, or after its thread ended),
     * is refused naming the caller and its thread, the select's operation, and the thread it belongs to.
     */
    @Test
    @Timeout(60)
    void aSelectRunFromASecondThreadIsRefusedNamingTheCallerTheOperationAndTheThreadItBelongsTo() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<Integer> c = on(pool, () -> {
                Channel<Integer> ch = new Channel<>("c", 4);
                ch.send(1);
                ch.send(2);
                return ch;
            });
            Select<String> sel = new Select<String>().onReceive(c, v -> "got " + v);
            assertThat(sel.select()).isEqualTo("got 1");
            String me = Scheduler.describe(Thread.currentThread());
            String cThread = java.util.regex.Pattern.quote(Scheduler.describe(c.owner())); // named with the clause: not the select's thread
            Throwable fromPool = catchThrowable(() -> Peer.awaitUnwrapped(pool.submit("intruder", sel::select)));
            assertThat(fromPool).isInstanceOf(IllegalStateException.class).hasMessageMatching("coroutine 'intruder'"
                    + " of thread 'coro-pool-\\d+-0' \\(#\\d+\\) cannot select over receive from channel 'c' of thread "
                    + cThread + ": this select"
                    + " belongs to thread " + java.util.regex.Pattern.quote(me) + " \\(which ran it first\\); a select"
                    + " with a channel clause runs on one thread, so give each thread its own");
            Throwable fromPlain = catchThrowable(() -> Peer.call("plain", sel::select));
            assertThat(fromPlain).isInstanceOf(IllegalStateException.class).hasMessageMatching("thread 'plain'"
                    + " \\(#\\d+\\) cannot select over receive from channel 'c' of thread "
                    + cThread + ": this select belongs to thread "
                    + java.util.regex.Pattern.quote(me) + " \\(which ran it first\\); .*");
            assertThat(sel.select()).as("unharmed, and nothing taken by the refused runs").isEqualTo("got 2");
            Select<String> orphan = Peer.call("first", () -> {
                Select<String> s = new Select<String>().onReceive(c, v -> "got " + v).onDefault(() -> "none");
                assertThat(s.select()).isEqualTo("none");
                return s;
            });
            assertThat(catchThrowable(orphan::select)).isInstanceOf(IllegalStateException.class).hasMessageMatching(
                    "main context 'main' of thread " + java.util.regex.Pattern.quote(me) + " cannot select over receive"
                            + " from channel 'c' of thread " + cThread + ": this select belongs to thread"
                            + " 'first' \\(#\\d+\\) \\(which ran"
                            + " it first, and has ended\\); .*");
        }
    }

    // ---- many selects contending for one channel ----------------------------------------------------

    /**
     * Selects of three pool threads contend for one channel of a plain thread (with a timeout clause each
     * run, and a clause on a channel of their own), while plain threads without coroutines send with
     * timeouts: every value whose send succeeded is received once, none whose send timed out.
     */
    @Test
    @Timeout(120)
    void selectsOfSeveralPoolThreadsContendingForOneForeignChannelReceiveEverySentValueOnce() throws InterruptedException {
        contend(3, 2, 600);
    }

    /** {@link #selectsOfSeveralPoolThreadsContendingForOneForeignChannelReceiveEverySentValueOnce}, longer, and repeated. */
    @Test
    @Tag("stress")
    @Timeout(600)
    void selectsContendingForOneForeignChannelStress() throws InterruptedException {
        for (int round = 0; round < 20; round++) {
            contend(4, 3, 5_000);
        }
    }

    private static void contend(int selectors, int producers, int perProducer) throws InterruptedException {
        Keeper keeper = new Keeper("keeper", "jobs", 2, c -> { });
        Channel<Integer> jobs = keeper.channel();
        Set<Integer> ok = ConcurrentHashMap.newKeySet();
        Set<Integer> failed = ConcurrentHashMap.newKeySet();
        ConcurrentLinkedQueue<Integer> received = new ConcurrentLinkedQueue<>();
        try (CoroutinePool pool = CoroutinePool.start(selectors)) {
            List<CompletableFuture<Integer>> bodies = new ArrayList<>();
            for (int s = 0; s < selectors; s++) {
                bodies.add(pool.submit(() -> {
                    Channel<Integer> idle = new Channel<>("idle", 0);
                    int timeouts = 0;
                    try {
                        for (int i = 0; ; i++) {
                            Duration d = Duration.ofNanos(ThreadLocalRandom.current().nextLong(1, 100_000));
                            Select<Integer> sel = new Select<Integer>().onReceive(idle, v -> v).onReceive(jobs, v -> v)
                                    .onTimeout(d, () -> null);
                            Integer v = i % 2 == 0 ? sel.select() : sel.selectUnbiased();
                            if (v == null) {
                                timeouts++;
                            } else {
                                received.add(v);
                            }
                        }
                    } catch (ChannelClosedException e) {
                        return timeouts;
                    }
                }));
            }
            List<Thread> senders = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                int base = p * 1_000_000;
                senders.add(Thread.ofPlatform().name("producer-" + p).start(() -> {
                    for (int v = base; v < base + perProducer; v++) {
                        long nanos = ThreadLocalRandom.current().nextLong(1, 50_000);
                        (jobs.trySend(v, Duration.ofNanos(nanos)) ? ok : failed).add(v);
                    }
                }));
            }
            for (Thread t : senders) {
                t.join();
            }
            jobs.close();
            for (CompletableFuture<Integer> b : bodies) {
                Coroutine.withTimeout(GUARD, () -> Coroutine.await(b));
            }
        } finally {
            keeper.end();
        }
        List<Integer> all = new ArrayList<>(received);
        assertThat(all).as("received once").doesNotHaveDuplicates();
        assertThat(new HashSet<>(all)).as("every value sent, none that timed out").isEqualTo(ok);
        assertThat(ok.size() + failed.size()).isEqualTo(producers * perProducer);
    }

    /**
     * Random selects on four threads (three of a pool, and the test's), each of one to four clauses drawn from
     * receives and sends on channels of all four threads (capacities 0 to 2, so two clauses of a select often
     * share a channel, a send and a receive among them), with a timeout each and now and then a default, while
     * now and then one of the channels is closed: every value whose send clause fired is received exactly once,
     * by a receive clause or from what is left in the buffers; a value whose clause did not fire, never.
     */
    @Test
    @Timeout(120)
    void randomSelectsOfFourThreadsOverEachOthersChannelsLoseAndDuplicateNothing() {
        for (int round = 0; round < 10; round++) {
            randomSelects(ThreadLocalRandom.current().nextLong(), 300);
        }
    }

    /** {@link #randomSelectsOfFourThreadsOverEachOthersChannelsLoseAndDuplicateNothing}, many more rounds. */
    @Test
    @Tag("stress")
    @Timeout(900)
    void randomSelectsOfFourThreadsStress() {
        for (int round = 0; round < 200; round++) {
            randomSelects(ThreadLocalRandom.current().nextLong(), 500);
        }
    }

    private static void randomSelects(long seed, int runs) {
        Random random = new Random(seed);
        ConcurrentLinkedQueue<Integer> sent = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Integer> received = new ConcurrentLinkedQueue<>();
        try (CoroutinePool pool = CoroutinePool.start(3)) {
            List<Channel<Integer>> channels = new ArrayList<>();
            Set<Thread> owners = new HashSet<>();
            for (int k = 0; channels.size() < 3 && k < 300; k++) {
                int capacity = random.nextInt(3);
                Channel<Integer> c = channelOf(pool, "c" + channels.size(), capacity);
                if (owners.add(c.owner())) {
                    channels.add(c);
                }
            }
            assertThat(channels).as("a channel on each pool thread").hasSize(3);
            channels.add(new Channel<>("own", random.nextInt(3)));
            AtomicInteger values = new AtomicInteger();
            List<CompletableFuture<Object>> bodies = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                long s = random.nextLong();
                bodies.add(pool.submit(() -> {
                    selectAtRandom(new Random(s), runs, channels, values, sent, received);
                    return null;
                }));
            }
            selectAtRandom(new Random(random.nextLong()), runs, channels, values, sent, received);
            for (CompletableFuture<Object> b : bodies) {
                Coroutine.withTimeout(GUARD, () -> Coroutine.await(b));
            }
            for (Channel<Integer> c : channels) {
                Supplier<Optional<Integer>> take = c::tryReceive;
                for (Optional<Integer> v; (v = c.owner() == Thread.currentThread() ? take.get()
                        : Coroutine.await(pool.submit(take))).isPresent(); ) {
                    received.add(v.get());
                }
            }
        }
        List<Integer> got = new ArrayList<>(received);
        Collections.sort(got);
        List<Integer> fired = new ArrayList<>(sent);
        Collections.sort(fired);
        assertThat(got).as("seed " + seed + ": received once, each value whose send clause fired").isEqualTo(fired);
    }

    /** {@code runs} random selects over {@code channels}, noting the values sent and received, one of the channels closed halfway now and then. */
    private static void selectAtRandom(Random r, int runs, List<Channel<Integer>> channels, AtomicInteger values,
                                       ConcurrentLinkedQueue<Integer> sent, ConcurrentLinkedQueue<Integer> received) {
        for (int i = 0; i < runs; i++) {
            if (i == runs / 2 && r.nextInt(3) == 0) {
                channels.get(r.nextInt(channels.size())).close();
            }
            Select<Integer> sel = new Select<>();
            for (int j = 1 + r.nextInt(4); j > 0; j--) {
                Channel<Integer> c = channels.get(r.nextInt(channels.size()));
                if (r.nextBoolean()) {
                    sel.onReceive(c, v -> v);
                } else {
                    int v = values.incrementAndGet();
                    sel.onSend(c, v, () -> -v);
                }
            }
            sel.onTimeout(Duration.ofNanos(1 + r.nextInt(200_000)), () -> 0);
            if (r.nextInt(8) == 0) {
                sel.onDefault(() -> 0);
            }
            int result;
            try {
                result = r.nextBoolean() ? sel.select() : sel.selectUnbiased();
            } catch (ChannelClosedException e) {
                continue;
            }
            if (result > 0) {
                received.add(result);
            } else if (result < 0) {
                sent.add(-result);
            }
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
