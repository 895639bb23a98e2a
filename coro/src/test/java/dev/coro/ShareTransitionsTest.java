package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
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
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The moves of a channel between "its own thread only", "shared" (operated on in place by other threads)
 * and back to posting while a select of its thread waits on it, raced with closes, ends of threads, try
 * calls and other threads' first operations: nothing is lost or duplicated, and a thread's deadlocks on its
 * own channels are reported as before.
 */
@ExtendWith(FreshThread.class)
class ShareTransitionsTest {

    /** How long a test waits at most for what must come; never reached unless it fails. */
    private static final Duration GUARD = Duration.ofSeconds(30);

    /** The test thread, for messages. */
    private static String testThread() {
        Thread t = Thread.currentThread();
        return "thread '" + t.getName() + "' (#" + t.threadId() + ")";
    }

    // ---- deadlocks --------------------------------------------------------------------------------

    /**
     * A select of another thread that looks at a channel of this thread no other thread had used, and fires
     * another clause, asks this thread to share the channel: that shares it, and exchanges nothing, so a
     * deadlock of this thread's contexts on its other channels is still reported, exactly, not waited on for
     * ever (the share used to count as an exchange with another thread).
     */
    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aShareAskedByAnotherThreadsSelectLeavesTheThreadsOwnDeadlockReportedExactly() throws InterruptedException {
        Channel<Integer> looked = new Channel<>("looked", 1);
        Throwable thrown = OtherThread.thrownOn("selector", () -> {
            Channel<Integer> mine = new Channel<>("mine", 1);
            mine.send(7);
            String fired = new Select<String>().onReceive(looked, v -> "looked").onReceive(mine, v -> "mine " + v).select();
            assertThat(fired).isEqualTo("mine 7");
        });
        assertThat(thrown).isNull();
        deadlockIsReportedOnceTheShareHasRun(looked).close();
    }

    /**
     * Runs the share {@code looked} was asked for (a yield), with a coroutine 'stuck' parked on a channel
     * nobody else has, then checks that main's receive from another such channel is reported as the
     * deadlock it is, naming both: the share is no exchange of this thread. Returns 'stuck', parked.
     */
    private static Coroutine deadlockIsReportedOnceTheShareHasRun(Channel<Integer> looked) {
        Channel<Integer> empty = new Channel<>("empty", 0);
        Coroutine stuck = Coroutine.create("stuck", () -> new Channel<Integer>("never", 0).receive());
        Coroutine.yield(); // runs the share asked, and parks 'stuck'
        assertThat(looked.isSharedInPlace()).as("the share asked has run").isTrue();
        assertThatThrownBy(empty::receive).isExactlyInstanceOf(DeadlockException.class)
                .hasMessage("main context 'main' cannot receive from channel 'empty': every other context of "
                        + testThread() + " is parked and no timer is pending, so nothing could ever wake it (deadlock):\n"
                        + "  main context 'main' would wait to receive from channel 'empty'\n"
                        + "  coroutine 'stuck' waits to receive from channel 'never'");
        return stuck;
    }

    /**
     * A wait of this thread that began on the channel before another thread's select asked for the share counts,
     * from the share on, as one another thread may end: with every other context of the thread waiting on a
     * channel no other thread has used, the thread waits instead of reporting a deadlock, and a send of another
     * thread run in place wakes it.
     */
    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aWaitThatBeganBeforeTheShareCountsFromTheShareOnSoNoDeadlockIsReported() throws InterruptedException {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Channel<Integer> relay = new Channel<>("relay", 0);
        Coroutine.create("waiter", () -> relay.send(ch.receive() + 1));
        Coroutine.yield(); // the waiter parks on ch, not shared yet
        assertThat(OtherThread.thrownOn("asker", () -> {
            Channel<Integer> mine = new Channel<>("mine", 1);
            mine.send(1);
            assertThat(new Select<String>().onReceive(ch, v -> "ch").onReceive(mine, v -> "mine").select()).isEqualTo("mine");
        })).isNull();
        Coroutine.yield(); // runs the share asked
        assertThat(ch.isSharedInPlace()).isTrue();
        Thread self = Thread.currentThread();
        CompletableFuture<Void> giveUp = new CompletableFuture<>();
        CompletableFuture<Boolean> sender = Peer.start("sender", () -> {
            boolean blocked = Peer.awaitBlocked(self, giveUp); // every context of the test thread is parked now
            ch.send(41); // in place: the waiter is woken through the test thread's inbox
            return blocked;
        });
        try {
            assertThat(relay.receive()).as("not a deadlock: the waiter's wait counts").isEqualTo(42);
        } finally {
            giveUp.complete(null);
        }
        assertThat(Coroutine.withTimeout(GUARD, () -> Coroutine.await(sender))).as("the test thread blocked, waiting").isTrue();
    }

    /**
     * The same inside a {@code VirtualTime.run}, which starts as a thread that exchanged nothing: a share asked
     * before it and run inside it leaves a deadlock of its contexts reported, not waited on for ever.
     */
    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aShareRunInsideAVirtualTimeRunLeavesItsDeadlockReportedExactly() throws InterruptedException {
        Channel<Integer> looked = new Channel<>("looked", 0);
        assertThat(OtherThread.thrownOn("selector", () -> {
            Channel<Integer> mine = new Channel<>("mine", 1);
            mine.send(7);
            assertThat(new Select<String>().onSend(looked, 1, () -> "sent").onReceive(mine, v -> "mine").select())
                    .isEqualTo("mine");
        })).isNull();
        VirtualTime.run(() -> deadlockIsReportedOnceTheShareHasRun(looked).close());
    }

    /**
     * The share arrives while a select of the channel's own thread waits there: it runs then (the clause counts
     * from then on as a wait another thread may complete), the channel is not operated on in place while the
     * select waits, a send of this thread completes the clause, and once the select is over other threads
     * operate on it in place again; the clause's count is undone, so a deadlock of this thread afterwards is
     * reported exactly.
     */
    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aShareArrivingWhileASelectOfTheChannelsThreadWaitsThereCountsItsClauseOnlyUntilItFires() throws InterruptedException {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Channel<Integer> other = new Channel<>("other", 0);
        List<String> fired = new ArrayList<>();
        Coroutine.create("selector", () -> fired.add(new Select<String>().onReceive(ch, v -> "ch " + v)
                .onReceive(other, v -> "other " + v).select()));
        Coroutine.yield(); // the selector parks in its select
        Throwable thrown = OtherThread.thrownOn("asker", () -> {
            Channel<Integer> mine = new Channel<>("mine", 1);
            mine.send(1);
            assertThat(new Select<String>().onSend(ch, 9, () -> "sent").onReceive(mine, v -> "mine").select()).isEqualTo("mine");
        });
        assertThat(thrown).isNull();
        Coroutine.yield(); // runs the share asked
        assertThat(ch.isSharedInPlace()).as("shared, but posted to while the select waits on it").isFalse();
        ch.send(5);
        Coroutine.yield(); // the selector runs, and ends
        assertThat(fired).containsExactly("ch 5");
        assertThat(ch.isSharedInPlace()).as("operated on in place once the select is over").isTrue();
        Coroutine.create("stuck", () -> other.receive());
        Coroutine.yield();
        Channel<Integer> empty = new Channel<>("empty", 0); // a wait on ch, shared, is one another thread may end
        assertThatThrownBy(empty::receive).isExactlyInstanceOf(DeadlockException.class)
                .hasMessage("main context 'main' cannot receive from channel 'empty': every other context of " + testThread()
                        + " is parked and no timer is pending, so nothing could ever wake it (deadlock):\n"
                        + "  main context 'main' would wait to receive from channel 'empty'\n"
                        + "  coroutine 'stuck' waits to receive from channel 'other'");
    }

    // ---- closes -----------------------------------------------------------------------------------

    /**
     * A channel a select of another thread asked its thread to share, closed after the share by its own thread
     * or by a third thread (in place): the select takes the value left in it first, then fires the clause as
     * closed in its place, before a ready clause of its own thread, with the close's cause; a send clause
     * fires as closed, delivering nothing; both name the caller, the clause, the channel and its state.
     */
    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aChannelClosedAfterTheShareWasAskedFiresAsClosedInItsPlaceWithTheCause() throws InterruptedException {
        for (boolean byThird : new boolean[] {false, true}) {
            try (CoroutinePool pool = CoroutinePool.start(1)) {
                Channel<Integer> a = Coroutine.await(pool.submit(() -> {
                    Channel<Integer> c = new Channel<>("a", 2);
                    c.send(5);
                    return c;
                }));
                Channel<Integer> probe = Coroutine.await(pool.submit(() -> new Channel<Integer>("probe", 0)));
                Channel<Integer> own = new Channel<>("own", 8);
                for (int v = 0; v < 8; v++) {
                    own.send(v);
                }
                Select<String> aFirst = new Select<String>().onReceive(a, v -> "a " + v).onReceive(own, v -> "own " + v);
                assertThat(aFirst.select()).as("a not tried in place yet").isEqualTo("own 0");
                assertThat(probe.tryReceive()).as("a post that runs after the share asked").isEmpty();
                assertThat(a.isSharedInPlace()).isTrue();
                IllegalStateException cause = new IllegalStateException("closed " + (byThird ? "by a third" : "by its own"));
                if (byThird) {
                    assertThat(OtherThread.thrownOn("third", () -> a.close(cause))).isNull();
                } else {
                    Coroutine.await(pool.submit(() -> {
                        a.close(cause);
                        return null;
                    }));
                }
                assertThat(aFirst.select()).as("the value left in a first").isEqualTo("a 5");
                assertThatThrownBy(aFirst::select).isInstanceOf(ChannelClosedException.class).hasCause(cause)
                        .hasMessage("main context 'main' of " + testThread() + " cannot select onReceive from channel 'a' (closed): no value is"
                                + " left in it, and none can come; leave the clause out to go on");
                assertThatThrownBy(new Select<String>().onSend(a, 6, () -> "sent").onReceive(own, v -> "own " + v)::select)
                        .isInstanceOf(ChannelClosedException.class).hasCause(cause)
                        .hasMessage("main context 'main' of " + testThread() + " cannot select onSend(6) to channel 'a' (closed): a closed channel"
                                + " takes no more values, and the value was not delivered; leave the clause out to go on");
                assertThat(own.size()).as("no clause of the caller's own channel fired meanwhile").isEqualTo(7);
                Optional<Integer> left = Coroutine.await(pool.submit(a::tryReceive));
                assertThat(left).as("nothing sent to a").isEmpty();
            }
        }
    }

    // ---- the channel's thread ends ----------------------------------------------------------------

    /**
     * A pool closed with {@code closeNow()} just after a select of another thread asked its thread to share a
     * channel (the share run or dropped): the values left in the channel are each received once, by a select
     * and by one with a default, and then every clause and operation on it is refused naming the caller and its
     * thread, the operation, the channel with its state and the pool's thread, which has ended.
     */
    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aChannelWhosePoolIsClosedNowRightAfterTheShareWasAskedGivesItsValuesOnceThenRefusesNamingTheEndedThread() {
        for (boolean shareRan : new boolean[] {true, false}) {
            CoroutinePool pool = CoroutinePool.start(1);
            Channel<Integer> p = Coroutine.await(pool.submit(() -> {
                Channel<Integer> c = new Channel<>("p", 2);
                c.send(1);
                c.send(2);
                return c;
            }));
            Thread poolThread = Coroutine.await(pool.submit(Peer::schedulerThread));
            Channel<Integer> own = new Channel<>("own", 1);
            own.send(0);
            assertThat(new Select<String>().onReceive(p, v -> "p " + v).onReceive(own, v -> "own " + v).select())
                    .isEqualTo("own 0");
            if (shareRan) {
                assertThat(Coroutine.await(pool.submit(p::isSharedInPlace))).as("a body runs after the share asked").isTrue();
            }
            Coroutine.withTimeout(GUARD, pool::closeNow);
            assertThat(poolThread.isAlive()).isFalse();
            Select<String> sel = new Select<String>().onReceive(p, v -> "p " + v).onReceive(own, v -> "own " + v);
            assertThat(Coroutine.withTimeout(GUARD, sel::select)).isEqualTo("p 1");
            assertThat(new Select<String>().onReceive(p, v -> "p " + v).onDefault(() -> "default").select()).isEqualTo("p 2");
            String ended = "channel 'p' (open): it belongs to thread " + Scheduler.describe(poolThread) + ", which has ended";
            String caller = "main context 'main' of " + testThread();
            assertThatThrownBy(() -> Coroutine.withTimeout(GUARD, sel::selectUnbiased)).isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessage(caller + " cannot select a receive from " + ended);
            assertThatThrownBy(new Select<String>().onSend(p, 3, () -> "sent").onDefault(() -> "default")::select)
                    .isExactlyInstanceOf(IllegalStateException.class).hasMessage(caller + " cannot select a send to " + ended);
            assertThatThrownBy(() -> p.trySend(3, Duration.ofMillis(1))).isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessage(caller + " cannot trySend to " + ended);
            assertThatThrownBy(p::tryReceive).isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessage(caller + " cannot tryReceive from " + ended);
            assertThat(own.tryReceive()).as("no clause left on the caller's own channel").isEmpty();
        }
    }

    /**
     * A plain thread returns with the share a select asked still in its inbox (it was blocked outside coro
     * meanwhile, so never ran it): the channel, never shared, gives the values the thread left in it once each,
     * to selects, closed ones after them as closed, and open ones refuse the next clause naming that thread.
     */
    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aPlainThreadThatReturnsWithTheShareUnrunLeavesItsValuesToSelectsOnceThenAnswersAsItLeftTheChannel()
            throws InterruptedException {
        for (boolean closed : new boolean[] {false, true}) {
            CompletableFuture<Channel<Integer>> made = new CompletableFuture<>();
            CompletableFuture<Void> release = new CompletableFuture<>();
            Thread keeper = Thread.ofPlatform().name("keeper").start(() -> {
                Channel<Integer> c = new Channel<>("kept", 2);
                c.send(1);
                c.send(2);
                if (closed) {
                    c.close();
                }
                made.complete(c);
                release.join(); // the JDK's join: blocked outside coro, the thread never runs the share asked
            });
            Channel<Integer> kept = Coroutine.withTimeout(GUARD, () -> Coroutine.await(made));
            Channel<Integer> own = new Channel<>("own", 1);
            own.send(0);
            Select<String> sel = new Select<String>().onReceive(kept, v -> "kept " + v).onReceive(own, v -> "own " + v);
            assertThat(sel.select()).as("not tried in place: the share is asked").isEqualTo("own 0");
            release.complete(null);
            keeper.join();
            assertThat(kept.isSharedInPlace()).as("the share never ran").isFalse();
            assertThat(Coroutine.withTimeout(GUARD, sel::select)).isEqualTo("kept 1");
            assertThat(Coroutine.withTimeout(GUARD, sel::selectUnbiased)).isEqualTo("kept 2");
            Throwable t = catchThrowable(() -> Coroutine.withTimeout(GUARD, sel::select));
            if (closed) {
                assertThat(t).isExactlyInstanceOf(ChannelClosedException.class).hasMessage("main context 'main' of " + testThread()
                        + " cannot select onReceive from channel 'kept' (closed): no value is left in it, and none can come;"
                        + " leave the clause out to go on");
            } else {
                assertThat(t).isExactlyInstanceOf(IllegalStateException.class).hasMessage("main context 'main' of "
                        + testThread() + " cannot select a receive from channel 'kept' (open): it belongs to thread "
                        + Scheduler.describe(keeper) + ", which has ended");
            }
            assertThat(own.trySend(3)).as("no clause left on the caller's own channel").isTrue();
            assertThat(own.tryReceive()).contains(3);
        }
    }

    /**
     * The thread of a channel not shared yet has left its loop but is still alive (as a pool thread between the
     * end of its scheduler and its own): a select whose clause was posted there and is dropped unrun as the
     * scheduler ends, and one whose clause's post is refused, fail naming that channel and its thread, as a
     * send or a receive does; they used to name no channel (a select over every clause, "a channel's thread has
     * ended") when they looked before the thread itself had ended.
     */
    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aSelectOnAChannelWhoseSchedulerEndedBeforeItsThreadFailsNamingTheChannelAndItsThread() throws InterruptedException {
        CompletableFuture<Void> end = new CompletableFuture<>();
        CompletableFuture<Void> blocking = new CompletableFuture<>();
        CompletableFuture<Void> ended = new CompletableFuture<>();
        CountDownLatch hold = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Maker<Integer> maker = Maker.start(() -> new Channel<>("made", 0), () -> {
            Coroutine.await(end);
            blocking.complete(null);
            Maker.blockOn(hold); // outside coro: a clause posted meanwhile is not run
            Scheduler.current().loop.close(); // as a pool thread's scheduler does when it leaves its loop: the post is dropped
            ended.complete(null);
            Maker.blockOn(release); // the thread is still alive, its scheduler is not
        });
        Channel<Integer> made = maker.channel();
        Channel<Integer> own = new Channel<>("own", 0);
        Select<String> sel = new Select<String>().onReceive(own, v -> "own " + v).onReceive(made, v -> "made " + v);
        String refusal = "main context 'main' of " + testThread() + " cannot select a receive from channel 'made' (open):"
                + " it belongs to thread " + maker.ended();
        try {
            end.complete(null);
            Coroutine.withTimeout(GUARD, () -> Coroutine.await(blocking));
            whenParked(hold::countDown);
            Throwable dropped = catchThrowable(() -> Coroutine.withTimeout(GUARD, sel::select));
            assertThat(dropped).as("posted, then dropped unrun").isExactlyInstanceOf(IllegalStateException.class).hasMessage(refusal);
            Coroutine.withTimeout(GUARD, () -> Coroutine.await(ended));
            assertThat(maker.thread().isAlive()).isTrue();
            Throwable refused = catchThrowable(() -> Coroutine.withTimeout(GUARD, sel::selectUnbiased));
            assertThat(refused).as("refused at its post").isExactlyInstanceOf(IllegalStateException.class).hasMessage(refusal);
            assertThat(own.trySend(1)).as("no clause left on the caller's own channel").isFalse();
        } finally {
            release.countDown();
            maker.thread().join();
        }
    }

    // ---- a select run from the wrong thread ---------------------------------------------------------

    /**
     * A select over a pool thread's channel, which its first run asked that thread to share, run from that
     * thread (whose own channel it is there) is refused, naming the caller and both threads; the refused run
     * leaves the select as it was for the thread it belongs to: its next run there still meets the channel as
     * another thread's (it waits for a send of the channel's thread, and takes it), and the channel is not
     * held by the refused run (other threads operate on it in place). The refused run used to note the clause
     * as on the caller's own channel, and the next run of the owning thread then waited on that channel as if
     * it were its own.
     */
    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aSelectRefusedToTheChannelsOwnThreadIsLeftAsItWasForTheThreadItBelongsTo() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<Integer> c = Coroutine.await(pool.submit(() -> new Channel<Integer>("c", 0)));
            Thread poolThread = Coroutine.await(pool.submit(Peer::schedulerThread));
            Channel<Integer> own = new Channel<>("own", 1);
            own.send(0);
            Select<String> sel = new Select<String>().onReceive(c, v -> "c " + v).onReceive(own, v -> "own " + v);
            assertThat(sel.select()).as("c not tried in place yet: the share is asked").isEqualTo("own 0");
            Throwable refused = catchThrowable(() -> Peer.awaitUnwrapped(pool.submit("intruder", sel::select)));
            assertThat(refused).isExactlyInstanceOf(IllegalStateException.class).hasMessage("coroutine 'intruder' of"
                    + " thread " + Scheduler.describe(poolThread) + " cannot select over receive from channel 'c' of thread "
                    + Scheduler.describe(poolThread) + ", receive from channel 'own': this select belongs to thread " + Scheduler.describe(Thread.currentThread())
                    + " (which ran it first); a select with a channel clause runs on one thread, so give each thread its own");
            assertThat(Coroutine.await(pool.submit(c::isSharedInPlace))).as("not held by the refused run").isTrue();
            CompletableFuture<CompletableFuture<Boolean>> sender = new CompletableFuture<>();
            whenParked(() -> sender.complete(pool.submit(() -> {
                boolean inPlace = c.isSharedInPlace(); // while the select waits there
                c.send(5);
                return inPlace;
            })));
            assertThat(Coroutine.withTimeout(GUARD, sel::select)).isEqualTo("c 5");
            assertThat(Coroutine.withTimeout(GUARD, () -> Coroutine.await(Coroutine.await(sender))))
                    .as("another thread's channel is not held by the select while it waits there").isTrue();
            Coroutine.yield(); // runs what the run posted to this thread, if anything
            assertThat(own.isSharedInPlace()).as("the caller's own channel, which no other thread used, is not shared").isFalse();
        }
    }

    // ---- back to posting while a select of the channel's thread waits --------------------------------

    /**
     * After the share, try calls of other threads with a timeout wait in the channel in place; a select of the
     * channel's thread that then waits there (other threads post to it meanwhile) meets them: it sends to the
     * receiver waiting and receives from the sender waiting; a select of another thread with a default is
     * answered by the channel's thread, whose select takes its value, rather than taking its default. Each
     * value is received once, and the channel is operated on in place again after each select.
     */
    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void trialsWithTimeoutsAndDefaultsOfOtherThreadsMeetASelectOfTheChannelsThreadWaitingAfterTheShare() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Channel<Integer> idle = new Channel<>("idle", 0);
        String asked = Peer.call("asker", () -> {
            Channel<Integer> mine = new Channel<>("mine", 1);
            mine.send(1);
            return new Select<String>().onReceive(ch, v -> "ch").onReceive(mine, v -> "mine").select();
        });
        assertThat(asked).isEqualTo("mine");
        Coroutine.yield(); // runs the share asked, if it has not run yet
        assertThat(ch.isSharedInPlace()).isTrue();
        CompletableFuture<Optional<Integer>> receiver = Peer.start("receiver", () -> ch.tryReceive(GUARD));
        Select<String> send = new Select<String>().onSend(ch, 7, () -> "sent 7").onReceive(idle, v -> "idle");
        assertThat(Coroutine.withTimeout(GUARD, send::select)).isEqualTo("sent 7");
        assertThat(Coroutine.withTimeout(GUARD, () -> Coroutine.await(receiver))).contains(7);
        assertThat(ch.isSharedInPlace()).isTrue();
        CompletableFuture<Boolean> sender = Peer.start("sender", () -> ch.trySend(8, GUARD));
        Select<String> receive = new Select<String>().onReceive(ch, v -> "got " + v).onReceive(idle, v -> "idle");
        assertThat(Coroutine.withTimeout(GUARD, receive::select)).isEqualTo("got 8");
        assertThat(Coroutine.withTimeout(GUARD, () -> Coroutine.await(sender))).isTrue();
        assertThat(ch.isSharedInPlace()).isTrue();
        whenParked(() -> assertThat(Peer.call("defaulter", () -> new Select<String>().onSend(ch, 9, () -> "sent 9")
                .onDefault(() -> "default").select())).as("answered by this thread, whose select waits").isEqualTo("sent 9"));
        assertThat(Coroutine.withTimeout(GUARD, receive::selectUnbiased)).isEqualTo("got 9");
        Coroutine.yield(); // the coroutine that ran the defaulter ends
        assertThat(ch.isSharedInPlace()).isTrue();
        assertThat(Peer.call("zero", () -> new Select<String>().onSend(ch, 10, () -> "sent 10")
                .onTimeout(Duration.ZERO, () -> "zero").select())).as("no receiver: nothing sent").isEqualTo("zero");
        assertThat(ch.tryReceive()).isEmpty();
    }

    /** Runs {@code action} in a coroutine of the caller's thread, which first runs once the caller parks. */
    private static void whenParked(Runnable action) {
        Coroutine.create("when parked", action);
    }

    // ---- conservation under random interleavings ----------------------------------------------------

    /**
     * Random programs on four threads (two of a pool, the test's, and a plain thread that ends halfway) over
     * fresh channels of all four and of a fifth, a pool's thread closed with {@code closeNow()} halfway
     * (capacities 0 to 2), made anew every epoch so that each moves from its own
     * thread only to shared during the epoch: the first operation of another thread, a select of another
     * thread that fires another clause and asks for the share, try calls with and without a timeout, selects
     * with a default or a zero timeout, selects of the channel's own thread that wait on it (other threads then
     * post again), closes by the channel's thread or another; every value whose send succeeded is received
     * exactly once (the rest drained at the end, also from the ended thread's channel), none whose send failed.
     */
    @Test
    @Timeout(value = 300, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void randomTransitionsOnFourThreadsLoseAndDuplicateNothing() throws InterruptedException {
        long seed = ThreadLocalRandom.current().nextLong();
        for (int round = 0; round < 6; round++) {
            transitions(seed + round, 12, 25);
        }
    }

    /**
     * {@link #randomTransitionsOnFourThreadsLoseAndDuplicateNothing}, many more rounds: 60 (about 25 s in CI's
     * stress pass), or {@code -Dcoro.share.rounds=N}.
     */
    @Test
    @Tag("stress")
    @Timeout(value = 3600, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void randomTransitionsStress() throws InterruptedException {
        long seed = Long.getLong("coro.share.seed", ThreadLocalRandom.current().nextLong());
        for (int round = 0; round < Integer.getInteger("coro.share.rounds", 60); round++) {
            transitions(seed + round, 20, 40);
        }
    }

    /** One seed's run: {@code epochs} epochs of fresh channels, {@code ops} random operations a thread an epoch. */
    private static void transitions(long seed, int epochs, int ops) throws InterruptedException {
        Random random = new Random(seed);
        ConcurrentLinkedQueue<Integer> sent = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Integer> received = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
        AtomicInteger values = new AtomicInteger();
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            for (int epoch = 0; epoch < epochs; epoch++) {
                List<Channel<Integer>> channels = new ArrayList<>();
                Set<Thread> owners = new HashSet<>();
                for (int k = 0; channels.size() < 2 && k < 300; k++) {
                    int capacity = random.nextInt(3);
                    String name = "p" + channels.size();
                    Channel<Integer> c = Coroutine.await(pool.submit(() -> new Channel<Integer>(name, capacity)));
                    if (owners.add(c.owner())) {
                        channels.add(c);
                    }
                }
                assertThat(channels).as("a channel on each pool thread").hasSize(2);
                channels.add(new Channel<>("main", random.nextInt(3)));
                CompletableFuture<Channel<Integer>> made = new CompletableFuture<>();
                CompletableFuture<Void> plainDone = new CompletableFuture<>();
                long plainSeed = random.nextLong();
                int plainCapacity = random.nextInt(3);
                List<Channel<Integer>> all = Collections.synchronizedList(channels);
                Thread plain = Thread.ofPlatform().name("plain").start(() -> {
                    try {
                        Channel<Integer> c = new Channel<>("plain", plainCapacity);
                        made.complete(c);
                        Random r = new Random(plainSeed);
                        program(r, ops / 2, all, values, sent, received, unexpected);
                    } catch (Throwable t) {
                        unexpected.add(t);
                    } finally {
                        plainDone.complete(null);
                    }
                });
                all.add(Coroutine.withTimeout(GUARD, () -> Coroutine.await(made))); // the plain thread may be reading the list already
                CoroutinePool doomed = CoroutinePool.start(1); // closed with closeNow() halfway through the test thread's program
                int doomedCapacity = random.nextInt(3);
                all.add(Coroutine.await(doomed.submit(() -> new Channel<Integer>("doomed", doomedCapacity))));
                List<CompletableFuture<Object>> bodies = new ArrayList<>();
                for (int t = 0; t < 2; t++) {
                    long s = random.nextLong();
                    bodies.add(pool.submit(() -> {
                        program(new Random(s), ops, all, values, sent, received, unexpected);
                        return null;
                    }));
                }
                Random mine = new Random(random.nextLong());
                program(mine, ops / 2, all, values, sent, received, unexpected);
                Coroutine.withTimeout(GUARD, doomed::closeNow);
                program(mine, ops - ops / 2, all, values, sent, received, unexpected);
                for (CompletableFuture<Object> b : bodies) {
                    Coroutine.withTimeout(GUARD, () -> Coroutine.await(b));
                }
                Coroutine.withTimeout(GUARD, () -> Coroutine.await(plainDone));
                plain.join();
                for (Channel<Integer> c : channels) {
                    drain(pool, c, received);
                }
            }
        }
        assertThat(unexpected).as("seed " + seed + ": only the failures the operations name").isEmpty();
        List<Integer> got = new ArrayList<>(received);
        Collections.sort(got);
        List<Integer> ok = new ArrayList<>(sent);
        Collections.sort(ok);
        assertThat(got).as("seed " + seed + ": each value whose send succeeded received once, no other").isEqualTo(ok);
    }

    /**
     * Takes every value left in {@code c} into {@code received}: on its own thread, or, its thread having ended,
     * from here as the values it left behind (then, with none left, a channel left open refuses the receive).
     */
    private static void drain(CoroutinePool pool, Channel<Integer> c, ConcurrentLinkedQueue<Integer> received) {
        boolean ended = !c.owner().isAlive();
        while (true) {
            Optional<Integer> v;
            try {
                v = ended || c.owner() == Thread.currentThread() ? c.tryReceive() : Coroutine.await(pool.submit(c::tryReceive));
            } catch (IllegalStateException e) {
                assertThat(ended && !c.isClosed()).as("refused only as a channel left open by a thread that ended: " + e).isTrue();
                assertThat(e).hasMessage("main context 'main' of " + testThread() + " cannot tryReceive from " + c.describe()
                        + " (open): it belongs to thread " + Scheduler.describe(c.owner()) + ", which has ended");
                return;
            }
            if (v.isEmpty()) {
                return;
            }
            received.add(v.get());
        }
    }

    /**
     * {@code ops} random operations over {@code channels} (the thread of the last two may have ended: their sends,
     * and their receives with nothing left, are refused so), noting what was sent and received; a failure that is
     * none of those the operations name goes to {@code unexpected}.
     */
    private static void program(Random r, int ops, List<Channel<Integer>> channels, AtomicInteger values,
                                ConcurrentLinkedQueue<Integer> sent, ConcurrentLinkedQueue<Integer> received,
                                ConcurrentLinkedQueue<Throwable> unexpected) {
        for (int i = 0; i < ops; i++) {
            Channel<Integer> c = channels.get(r.nextInt(channels.size()));
            Duration wait = Duration.ofNanos(1 + r.nextInt(300_000));
            try {
                switch (r.nextInt(10)) {
                    case 0 -> {
                        int v = values.incrementAndGet();
                        if (c.trySend(v)) {
                            sent.add(v);
                        }
                    }
                    case 1 -> {
                        int v = values.incrementAndGet();
                        if (c.trySend(v, wait)) {
                            sent.add(v);
                        }
                    }
                    case 2 -> c.tryReceive().ifPresent(received::add);
                    case 3 -> c.tryReceive(wait).ifPresent(received::add);
                    case 4 -> {
                        if (r.nextInt(4) == 0) {
                            if (r.nextBoolean()) {
                                c.close(new IllegalStateException("closed by " + Thread.currentThread().getName()));
                            } else {
                                c.close();
                            }
                        }
                    }
                    default -> {
                        Select<Integer> sel = new Select<>();
                        for (int j = 1 + r.nextInt(3); j > 0; j--) {
                            Channel<Integer> d = r.nextInt(3) == 0 ? c : channels.get(r.nextInt(channels.size()));
                            if (r.nextBoolean()) {
                                sel.onReceive(d, v -> v);
                            } else {
                                int v = values.incrementAndGet();
                                sel.onSend(d, v, () -> -v);
                            }
                        }
                        switch (r.nextInt(4)) {
                            case 0 -> sel.onDefault(() -> 0);
                            case 1 -> sel.onTimeout(Duration.ZERO, () -> 0);
                            default -> sel.onTimeout(wait, () -> 0);
                        }
                        int result = r.nextBoolean() ? sel.select() : sel.selectUnbiased();
                        if (result > 0) {
                            received.add(result);
                        } else if (result < 0) {
                            sent.add(-result);
                        }
                    }
                }
            } catch (ChannelClosedException e) {
                // a select's clause on a closed channel fired so: it took and sent nothing
            } catch (IllegalStateException e) {
                if (e.getMessage() == null || !e.getMessage().endsWith("which has ended")) {
                    unexpected.add(e);
                }
            }
        }
    }
}
