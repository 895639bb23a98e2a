package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Coroutine.State;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Channels used by contexts of other threads: values arrive in order; timed-out, closed and
 * interrupted operations take and deliver nothing; a channel of an ended thread is refused; a select
 * over another thread's channel fires as on that thread. (What changes once a channel is shared:
 * SharedChannelTest.)
 */
@ExtendWith(FreshThread.class)
class CrossThreadChannelTest {

    private static final int N = 200;
    /** A bound for waits that are expected to complete long before it: a guard against a hang. */
    private static final Duration GUARD = Duration.ofSeconds(30);

    private final List<String> log = new ArrayList<>();

    private static List<Integer> oneTo(int n) {
        return IntStream.rangeClosed(1, n).boxed().toList();
    }

    // ---- values across threads, in order ------------------------------------------------------

    @Test
    void valuesSentByAnotherThreadThroughARendezvousArriveInOrder() {
        sentByAnotherThreadArriveInOrder(0);
    }

    /**
     * A close from another thread of a channel closed already does nothing, at once: it posts nothing
     * and waits for no answer, so it returns even while the channel's thread is blocked outside coro
     * waiting for the closer (here in a plain {@code Future.get}, which runs no post).
     */
    @Test
    void aCloseFromAnotherThreadOfAChannelClosedAlreadyReturnsAtOnceWhileItsThreadIsBlockedOutsideCoro() throws Exception {
        Channel<Integer> ch = new Channel<>("ch", 1);
        ch.send(1);
        ch.close();
        CompletableFuture<String> closer = new CompletableFuture<>();
        Thread.ofPlatform().name("closer").start(() -> {
            try {
                ch.close();
                ch.close(new IllegalStateException("a later cause"));
                closer.complete("closed twice, returned");
            } catch (Throwable t) {
                closer.completeExceptionally(t);
            }
        });
        assertThat(closer.get(GUARD.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)).isEqualTo("closed twice, returned");
        assertThat(ch.closeCause()).isEmpty();
        assertThat(ch.receive()).isEqualTo(1);
        assertThat(ch.tryReceive()).isEmpty();
    }

    @Test
    void valuesSentByAnotherThreadThroughABufferedChannelArriveInOrder() {
        sentByAnotherThreadArriveInOrder(3);
    }

    private void sentByAnotherThreadArriveInOrder(int capacity) {
        Channel<Integer> ch = new Channel<>("ch", capacity);
        List<Integer> got = new ArrayList<>();
        Coroutine consumer = Coroutine.create("consumer", () -> {
            for (int v : ch) {
                got.add(v);
            }
        });
        Peer.run("producer", () -> {
            for (int v : oneTo(N)) {
                ch.send(v);
            }
            ch.close(); // from the other thread too
        });
        yieldUntilFinished(consumer);
        assertThat(got).containsExactlyElementsOf(oneTo(N));
        assertThat(ch.isClosed()).isTrue();
    }

    @Test
    void valuesReceivedByAnotherThreadThroughARendezvousArriveInOrder() {
        receivedByAnotherThreadArriveInOrder(0);
    }

    @Test
    void valuesReceivedByAnotherThreadThroughABufferedChannelArriveInOrder() {
        receivedByAnotherThreadArriveInOrder(3);
    }

    private void receivedByAnotherThreadArriveInOrder(int capacity) {
        Channel<Integer> ch = new Channel<>("ch", capacity);
        Coroutine.create("producer", () -> {
            for (int v : oneTo(N)) {
                ch.send(v);
            }
            ch.close();
        });
        List<Integer> got = Peer.call("consumer", () -> {
            List<Integer> values = new ArrayList<>();
            for (int v : ch) {
                values.add(v);
            }
            return values;
        });
        assertThat(got).containsExactlyElementsOf(oneTo(N));
    }

    @Test
    void aSenderAndAReceiverOfTwoOtherThreadsMeetOnThisThreadsChannel() {
        for (int capacity : new int[] {0, 3}) {
            Channel<Integer> ch = new Channel<>("ch" + capacity, capacity);
            CompletableFuture<List<Integer>> got = Peer.start("consumer", () -> {
                List<Integer> values = new ArrayList<>();
                for (int v : ch) {
                    values.add(v);
                }
                return values;
            });
            Peer.run("producer", () -> {
                for (int v : oneTo(N)) {
                    ch.send(v);
                }
                ch.close();
            });
            assertThat(Coroutine.await(got)).as("capacity " + capacity).containsExactlyElementsOf(oneTo(N));
        }
    }

    // ---- try calls from another thread --------------------------------------------------------

    @Test
    void aTimedCallFromAnotherThreadThatCompletesLeavesNoTimerAndNoWaitOnItsThread() {
        Channel<String> ch = new Channel<>("ch", 1);
        String seen = Peer.call("peer", () -> "trySend within an hour: " + ch.trySend("a", Duration.ofHours(1))
                + ", timers left: " + Scheduler.current().loop.timerCount()
                + "; tryReceive within an hour: " + ch.tryReceive(Duration.ofHours(1))
                + ", timers left: " + Scheduler.current().loop.timerCount()
                + ", a remote wait left: " + Scheduler.current().loop.hasRemoteWaits());
        assertThat(seen).isEqualTo("trySend within an hour: true, timers left: 0;"
                + " tryReceive within an hour: Optional[a], timers left: 0, a remote wait left: false");
    }

    @Test
    void tryCallsFromAnotherThreadNeverWaitAndSeeTheChannelAsItIs() {
        Channel<String> ch = new Channel<>("ch", 1);
        List<String> seen = Peer.call("peer", () -> List.of(
                "trySend a: " + ch.trySend("a"),
                "trySend b: " + ch.trySend("b"),
                "trySend c within 10 ms: " + ch.trySend("c", Duration.ofMillis(10)),
                "tryReceive: " + ch.tryReceive(),
                "tryReceive: " + ch.tryReceive(),
                "tryReceive within 10 ms: " + ch.tryReceive(Duration.ofMillis(10)),
                "trySend d within zero: " + ch.trySend("d", Duration.ZERO),
                "tryReceive within zero: " + ch.tryReceive(Duration.ZERO)));
        assertThat(seen).containsExactly("trySend a: true", "trySend b: false", "trySend c within 10 ms: false",
                "tryReceive: Optional[a]", "tryReceive: Optional.empty", "tryReceive within 10 ms: Optional.empty",
                "trySend d within zero: true", "tryReceive within zero: Optional[d]");
        assertThat(ch.tryReceive()).isEmpty();
    }

    @Test
    void aRemoteTryCallWithAZeroTimeoutSetsNoTimerAndWaitsForTheAnswerHoweverLateItComes() throws InterruptedException {
        CompletableFuture<Void> done = new CompletableFuture<>();
        CountDownLatch serve = new CountDownLatch(1);
        Maker<String> maker = Maker.start(() -> {
            Channel<String> full = new Channel<>("full", 1);
            full.send("v");
            return full;
        }, () -> {
            Maker.blockOn(serve); // blocked outside coro: the calls posted meanwhile wait in its inbox
            Coroutine.await(done); // serves them while it waits
        });
        try {
            Channel<String> ch = maker.channel();
            CompletableFuture<String> received = new CompletableFuture<>();
            CompletableFuture<String> sent = new CompletableFuture<>();
            Coroutine receiver = Coroutine.create("receiver", () -> received.complete("tryReceive within zero: "
                    + ch.tryReceive(Duration.ZERO)));
            Coroutine sender = Coroutine.create("sender", () -> sent.complete("trySend within zero: "
                    + ch.trySend("w", Duration.ZERO)));
            Coroutine.yield(); // both post their call and park
            assertThat(List.of(receiver.state(), sender.state())).containsOnly(State.PARKED);
            assertThat(Scheduler.current().loop.timerCount()).as("a zero timeout is the try call: no timer").isZero();
            serve.countDown();
            Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(received, sent)));
            assertThat(List.of(received.join(), sent.join()))
                    .containsExactly("tryReceive within zero: Optional[v]", "trySend within zero: false");
        } finally {
            serve.countDown();
            done.complete(null);
            maker.thread().join();
        }
    }

    @Test
    void aRemoteTryReceiveWithATimeoutGetsAValueSentWhileItWaits() {
        Channel<String> ch = new Channel<>("ch", 0);
        Coroutine sender = Coroutine.create("sender", () -> {
            while (!ch.trySend("x")) { // true only once the other thread's receiver waits here
                Coroutine.yield();
            }
        });
        assertThat(Peer.call("receiver", () -> ch.tryReceive(GUARD))).contains("x");
        assertThat(sender.isFinished()).isTrue();
    }

    @Test
    void aRemoteTrySendWithATimeoutDeliversToAReceiverThatComesWhileItWaits() {
        Channel<String> ch = new Channel<>("ch", 0);
        List<String> got = new ArrayList<>();
        Coroutine receiver = Coroutine.create("receiver", () -> {
            Optional<String> v;
            while ((v = ch.tryReceive()).isEmpty()) { // present only once the other thread's sender waits here
                Coroutine.yield();
            }
            got.add(v.get());
        });
        assertThat(Peer.call("sender", () -> ch.trySend("x", GUARD))).isTrue();
        yieldUntilFinished(receiver);
        assertThat(got).containsExactly("x");
    }

    // ---- timed out and closed remote waiters leave nothing behind ------------------------------

    @Test
    void aRemoteReceiveThatTimedOutTookNothingAndALaterSendGoesToAnotherReceiver() {
        Channel<String> ch = new Channel<>("ch", 0);
        CompletableFuture<Void> posted = new CompletableFuture<>();
        CompletableFuture<Optional<String>> timedOut = Peer.start("peer", () -> {
            CompletableFuture<Optional<String>> got = new CompletableFuture<>();
            Coroutine.create("remote-receiver", () -> got.complete(ch.tryReceive(Duration.ofMillis(20))));
            Coroutine.yield(); // its operation is posted to the channel's thread; it parks
            posted.complete(null);
            return Coroutine.await(got);
        });
        Coroutine.await(posted); // the channel's thread has queued the remote receiver by now: its post came first
        Coroutine local = Coroutine.create("local-receiver", () -> log.add("local got " + ch.receive()));
        Coroutine.yield();
        assertThat(local.state()).isEqualTo(State.PARKED);
        assertThat(Coroutine.await(timedOut)).isEmpty();
        assertThat(ch.trySend("v")).as("handed to the local receiver, queued after the timed-out one").isTrue();
        yieldUntilFinished(local);
        assertThat(log).containsExactly("local got v");
        assertThat(ch.trySend("w")).as("nobody waits any more").isFalse();
    }

    @Test
    void aRemoteReceiveThatTimedOutTookNothingAndALaterSendStaysBuffered() {
        Channel<String> ch = new Channel<>("ch", 1);
        assertThat(Peer.call("peer", () -> ch.tryReceive(Duration.ofMillis(20)))).isEmpty();
        assertThatThrownBy(() -> Peer.call("peer", () -> Coroutine.withTimeout(Duration.ofMillis(20), ch::receive)))
                .isExactlyInstanceOf(CoroutineTimeoutException.class)
                .hasMessage("main context 'main' timed out: withTimeout(PT0.02S) expired before its body returned");
        assertThat(ch.trySend("v")).isTrue();
        assertThat(ch.toString()).isEqualTo("Channel[ch, capacity 1, 1 buffered, open]");
        assertThat(ch.tryReceive()).contains("v");
    }

    @Test
    void aRemoteSendThatTimedOutDeliveredNothing() {
        Channel<String> full = new Channel<>("full", 1);
        full.send("a");
        Channel<String> rendezvous = new Channel<>("rendezvous", 0);
        List<String> seen = Peer.call("peer", () -> {
            List<String> s = new ArrayList<>();
            s.add("trySend to full: " + full.trySend("b", Duration.ofMillis(20)));
            s.add("trySend to rendezvous: " + rendezvous.trySend("c", Duration.ofMillis(20)));
            try {
                Coroutine.withTimeout(Duration.ofMillis(20), () -> rendezvous.send("d"));
            } catch (CoroutineTimeoutException e) {
                s.add(e.getMessage());
            }
            return s;
        });
        assertThat(seen).containsExactly("trySend to full: false", "trySend to rendezvous: false",
                "main context 'main' timed out: withTimeout(PT0.02S) expired before its body returned");
        assertThat(full.tryReceive()).contains("a");
        assertThat(full.tryReceive()).isEmpty();
        assertThat(rendezvous.tryReceive()).as("no sender waits").isEmpty();
        assertThat(rendezvous.tryReceive(Duration.ofMillis(5))).as("nor comes").isEmpty();
    }

    @Test
    void aRemoteWaiterWhoseCoroutineIsClosedLeavesNothingBehind() {
        Channel<String> in = new Channel<>("in", 0);
        Channel<String> out = new Channel<>("out", 0);
        String peerDump = Peer.call("peer", () -> {
            Coroutine receiver = Coroutine.create("remote-receiver", () -> log.add("got " + in.receive()));
            Coroutine sender = Coroutine.create("remote-sender", () -> {
                out.send("lost");
                log.add("sent");
            });
            Coroutine.yield(); // both post their operation and park
            assertThat(receiver.state()).isEqualTo(State.PARKED);
            assertThat(sender.state()).isEqualTo(State.PARKED);
            receiver.close();
            sender.close();
            assertThat(receiver.state()).isEqualTo(State.CLOSED);
            assertThat(sender.state()).isEqualTo(State.CLOSED);
            assertThat(Scheduler.current().loop.hasPending()).as("no wait left on the peer").isFalse();
            return Coroutine.dump();
        });
        assertThat(peerDump).startsWith("thread 'peer': 1 context, current index 0\n  [0] main: RUNNING (the caller)\n"
                + "        at dev.coro.Coroutine.dump(");
        assertThat(log).isEmpty();
        assertThat(in.trySend("v")).as("no receiver waits").isFalse();
        assertThat(out.tryReceive()).as("no sender waits: the value was not delivered").isEmpty();
        assertThat(in.toString()).isEqualTo("Channel[in, capacity 0, 0 buffered, open]");
    }

    /**
     * On the peer's thread: creates coroutine 'remote-receiver', which logs {@code "got <v>"} for the value
     * {@code v} it receives from {@code ch}, lets it post its receive to {@code ch}'s thread and park, then
     * completes {@code posted}.
     */
    private Coroutine postedRemoteReceiver(Channel<String> ch, CompletableFuture<Void> posted) {
        Coroutine receiver = Coroutine.create("remote-receiver", () -> log.add("got " + ch.receive()));
        Coroutine.yield(); // it posts its receive and parks
        posted.complete(null);
        return receiver;
    }

    /**
     * Makes scheduling points that run nobody (the caller switches to itself) until the parked
     * {@code receiver} has taken in the value handed to it.
     */
    private static void takeInTheHandOver(Coroutine receiver) {
        while (receiver.state() == State.PARKED) {
            Coroutine.current().switchTo();
        }
    }

    @Test
    void aRemoteReceiverClosedAfterItWasHandedAValueGivesTheValueBack() {
        Channel<String> ch = new Channel<>("ch", 0);
        CompletableFuture<Void> posted = new CompletableFuture<>();
        CompletableFuture<String> peer = Peer.start("peer", () -> {
            Coroutine receiver = postedRemoteReceiver(ch, posted);
            takeInTheHandOver(receiver);
            String state = receiver.state().toString();
            receiver.close(); // it was handed "v" but never ran: the value goes back
            return state;
        });
        Coroutine.await(posted);
        Coroutine.yield(); // a scheduling point: runs the receive posted before the future completed
        assertThat(ch.trySend("v")).as("the remote receiver is queued here").isTrue();
        assertThat(Coroutine.await(peer)).isEqualTo("SUSPENDED");
        assertThat(log).isEmpty();
        Coroutine.yield(); // takes the give-back in, if the wake-up came first
        assertThat(ch.tryReceive()).as("the value is not lost").contains("v");
    }

    /**
     * A value a remote receiver gives back after the channel's thread ended is not handed to a
     * coroutine that thread left parked in the channel (nothing will ever run it): it stays in the
     * buffer, and a receive of another thread takes it, as every value left behind.
     */
    @Test
    void aValueGivenBackAfterTheChannelsThreadEndedIsNotHandedToACoroutineItLeftParkedThereButReceived() throws InterruptedException {
        CompletableFuture<Channel<String>> made = new CompletableFuture<>();
        CompletableFuture<Void> remoteQueued = new CompletableFuture<>();
        CompletableFuture<Void> localQueued = new CompletableFuture<>();
        CompletableFuture<Void> sent = new CompletableFuture<>();
        Maker<String> maker = Maker.start(() -> {
            Channel<String> c = new Channel<>("made", 0);
            made.complete(c);
            return c;
        }, () -> {
            Channel<String> c = made.join();
            Coroutine.withTimeout(GUARD, () -> {
                Coroutine.await(remoteQueued);
                while (!c.isSharedInPlace()) {
                    Coroutine.yield(); // runs the receive posted here: it waits in the channel, first
                }
            });
            Coroutine.create("left-parked", () -> log.add("left-parked got " + c.receive()));
            Coroutine.yield(); // it waits in the channel, second
            localQueued.complete(null);
            Coroutine.withTimeout(GUARD, () -> Coroutine.await(sent));
        }); // the thread ends with 'left-parked' still parked in the channel
        Channel<String> ch = maker.channel();
        Coroutine receiver = Coroutine.create("remote-receiver", () -> log.add("got " + ch.receive()));
        Coroutine.yield(); // it posts its receive and parks
        remoteQueued.complete(null);
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(localQueued));
        assertThat(ch.trySend("v")).as("in place, to the first receiver: the remote one").isTrue();
        sent.complete(null);
        maker.thread().join();
        receiver.close(); // it was handed "v" but never ran: the value goes back, the channel's thread has ended
        assertThat(log).isEmpty();
        assertThat(ch.tryReceive()).as("the value given back is left in the channel, not lost").contains("v");
    }

    @Test
    void aRemoteReceiverHandedAValueBeforeTheChannelClosedKeepsItWhenItIsClosedBeforeItRuns() {
        Channel<String> ch = new Channel<>("ch", 0);
        CompletableFuture<Void> posted = new CompletableFuture<>();
        CompletableFuture<Void> drained = new CompletableFuture<>();
        CompletableFuture<String> peer = Peer.start("peer", () -> {
            Coroutine receiver = postedRemoteReceiver(ch, posted);
            takeInTheHandOver(receiver);
            drained.join(); // no scheduling point: the receiver does not run meanwhile
            receiver.close(); // it was handed "v" before the close, and never ran
            return receiver.state().toString();
        });
        Coroutine.await(posted);
        Coroutine.yield(); // a scheduling point: runs the receive posted before the future completed
        assertThat(ch.trySend("v")).as("the remote receiver is queued here").isTrue();
        ch.close();
        assertThat(ch.tryReceive()).as("closed and drained").isEmpty();
        drained.complete(null);
        assertThat(Coroutine.await(peer)).isEqualTo("CLOSED");
        assertThat(log).as("the value handed over before the close is the receiver's").containsExactly("got v");
        Coroutine.yield(); // takes a give-back in, had one been posted
        assertThat(ch.tryReceive()).as("nothing lies in the channel everyone was told is drained").isEmpty();
    }

    @Test
    void aValueARemoteReceiverGivesBackWhileASelectWaitsOnTheChannelReachesTheSelectThoughTheChannelClosesFirst() {
        Channel<String> ch = new Channel<>("ch", 0);
        CompletableFuture<Void> posted = new CompletableFuture<>();
        CompletableFuture<Void> handed = new CompletableFuture<>();
        CompletableFuture<String> peer = Peer.start("peer", () -> {
            Coroutine receiver = postedRemoteReceiver(ch, posted);
            handed.join();
            takeInTheHandOver(receiver);
            receiver.close(); // the channel is open: the value goes back
            return receiver.state().toString();
        });
        Coroutine.await(posted);
        Coroutine.yield(); // runs the posted receive: the remote receiver is queued first
        List<String> seen = new ArrayList<>();
        Coroutine selector = Coroutine.create("selector", () -> {
            try {
                seen.add(new Select<String>().onReceive(ch, v -> "selector got " + v).select());
            } catch (ChannelClosedException e) {
                seen.add(e.getMessage());
            }
        });
        selector.switchTo(); // parks in the select, queued second: only this thread may complete it
        assertThat(ch.trySend("v")).as("to the remote receiver, the longest-waiting").isTrue();
        handed.complete(null);
        assertThat(peer.join()).as("no scheduling point: a give-back posted here is not taken in yet").isEqualTo("CLOSED");
        ch.close();
        Coroutine.yield(); // takes a posted give-back in; the selector runs
        assertThat(seen).as("the value went back before the close: the waiting select takes it")
                .containsExactly("selector got v");
        assertThat(log).isEmpty();
        assertThat(ch.tryReceive()).as("nothing lies in the channel the select was told is drained").isEmpty();
    }

    @Test
    void anOperationOfAnotherThreadThatIsOverLeavesNothingInTheChannelThatHoldsItsValue() {
        Channel<Object> full = new Channel<>("full", 1);
        full.send("filler");
        Channel<Object> rendezvous = new Channel<>("rendezvous", 0);
        Channel<Object> toLocal = new Channel<>("to-local", 0);
        Channel<Object> fromLocal = new Channel<>("from-local", 0);
        List<WeakReference<Object>> values = new ArrayList<>();
        Coroutine.create("local-receiver", toLocal::receive);
        Coroutine.create("local-sender", () -> fromLocal.send(valueTracedIn(values)));
        Coroutine.yield(); // both park: the remote calls below pair with them
        List<String> seen = Peer.call("peer", () -> operationsThatAreOver(full, rendezvous, toLocal, fromLocal, values));
        assertThat(seen).containsExactly("trySend to full within 1 ms: false", "sender: CLOSED", "sent to the local receiver",
                "received from the local sender");
        assertThat(Collected.all(values)).as("no channel holds a value of an operation that is over").isTrue();
        assertThat(full.tryReceive()).contains("filler");
        assertThat(List.of(full.tryReceive(), rendezvous.tryReceive())).as("no sender waits").containsOnly(Optional.empty());
    }

    /** A new value, whose weak reference is added to {@code values}. */
    private static Object valueTracedIn(List<WeakReference<Object>> values) {
        Object v = new Object();
        synchronized (values) {
            values.add(new WeakReference<>(v));
        }
        return v;
    }

    /**
     * On another thread: a send that times out, a send whose coroutine is closed while it waits, a
     * send and a receive that pair with waiters of the channels' thread; keeps none of the values.
     */
    private static List<String> operationsThatAreOver(Channel<Object> full, Channel<Object> rendezvous,
                                                      Channel<Object> toLocal, Channel<Object> fromLocal,
                                                      List<WeakReference<Object>> values) {
        List<String> s = new ArrayList<>();
        s.add("trySend to full within 1 ms: " + full.trySend(valueTracedIn(values), Duration.ofMillis(1)));
        Coroutine sender = Coroutine.create("sender", () -> rendezvous.send(valueTracedIn(values)));
        Coroutine.yield(); // it posts its send and parks
        sender.close();
        s.add("sender: " + sender.state());
        toLocal.send(valueTracedIn(values));
        s.add("sent to the local receiver");
        s.add(fromLocal.receive() != null ? "received from the local sender" : "received nothing");
        return s;
    }

    /**
     * An iterator belongs to the thread that made it: a call of it from another thread (a pool thread,
     * or a plain one) is refused naming the caller, both threads and the channel, and takes nothing,
     * so two threads never receive through one iterator at once (its fields are plain: a value could be
     * overwritten, or one taken twice); the owner's contexts go on with it, and a thread's own iterator
     * of the same channel receives as usual.
     */
    @Test
    @Timeout(30)
    void anIteratorUsedFromAnotherThreadIsRefusedNamingBothThreadsAndTakesNothing() {
        Channel<Integer> ch = new Channel<>("jobs", 4);
        Iterator<Integer> mine = ch.iterator();
        ch.send(1);
        ch.send(2);
        String here = Scheduler.describe(Thread.currentThread());
        List<String> seen = Peer.call("peer", () -> {
            String peer = Scheduler.describe(Thread.currentThread());
            List<String> got = new ArrayList<>();
            got.add(peer);
            for (Runnable call : List.<Runnable>of(mine::hasNext, mine::next)) {
                try {
                    call.run();
                    got.add("no exception");
                } catch (IllegalStateException e) {
                    got.add(e.getMessage());
                }
            }
            Iterator<Integer> own = ch.iterator();
            got.add("own took " + own.next());
            return got;
        });
        String refusal = "thread " + seen.get(0) + " cannot iterate over channel 'jobs' (open) through an"
                + " iterator of thread " + here + ": an iterator belongs to the thread that called iterator(); call it on"
                + " this thread for one of its own";
        assertThat(seen.subList(1, 4)).containsExactly(refusal, refusal, "own took 1");
        assertThat(mine.next()).as("the owner goes on with it").isEqualTo(2);
        ch.close();
        assertThat(mine.hasNext()).isFalse();
    }

    /**
     * A send of main to another thread's channel whose value a receiver there took, its wake-up still on
     * its way, when the refusal of a coroutine chosen as another ended, which gets no thread, ends main's
     * wait (the thread engine): the send throws it as it would a failure, the value delivered all the
     * same, and the refusal says so (it said main's wait was cancelled, as if nothing had been sent).
     */
    @Test
    @Timeout(60)
    @EnabledIf(value = "dev.coro.ThreadEngineTest#threadEngineRuns", disabledReason = "a coroutine of the continuation engine starts no thread")
    void aRefusalEndingARemoteSendWhoseValueWasTakenSaysTheValueWasDelivered() {
        CompletableFuture<String> received = new CompletableFuture<>();
        CompletableFuture<Channel<String>> made = new CompletableFuture<>();
        Thread receiver = Thread.ofPlatform().name("receiver").start(() -> {
            Coroutine.await(CompletableFuture.completedFuture(null)); // an exchange: its receive waits for this thread
            Channel<String> ch = new Channel<>("ch", 0);
            made.complete(ch);
            received.complete(ch.receive());
        });
        Channel<String> ch = Coroutine.await(made);
        Coroutine.create("b", () -> log.add("b ran"));
        Coroutine.create("a", () -> {
            received.join(); // holds this thread: main's wake-up waits in its event loop
            ((ThreadEngine) Scheduler.current().engine).refuseStarts = 1; // b, chosen as a ends, gets no thread
        });
        assertThatThrownBy(() -> ch.send("v")).isExactlyInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot run coroutine 'b' (NEW), chosen as coroutine 'a' ended, at its send to channel"
                        + " 'ch' of thread 'receiver' (#" + receiver.threadId() + "): no virtual thread could be started for"
                        + " coroutine 'b' (java.util.concurrent.RejectedExecutionException: refused for a test); it stays NEW, and"
                        + " main's wait ends here, its value delivered all the same (state RUNNING)");
        assertThat(received).isCompletedWithValue("v");
        Coroutine.yield(); // b gets its thread now; the late wake-up wakes nothing
        assertThat(log).containsExactly("b ran");
        Peer.join(receiver);
    }

    // ---- close from another thread ------------------------------------------------------------

    /**
     * A close by a third thread wakes the parked senders of both threads of a shared channel in place:
     * each says the channel was closed while it waited and its value was not delivered (the other thread's
     * sender said it found the channel closed, as if it had not waited), and the value buffered before stays.
     */
    @Test
    @Timeout(30)
    void aCloseFromAThirdThreadWhileSendersOfBothThreadsAreParkedFailsEachAsClosedWhileItWaited() {
        Channel<Integer> ch = new Channel<>("ch", 1);
        Peer.run("sharer", () -> assertThat(ch.trySend(0)).isTrue()); // shared, and the buffer full
        List<String> outcomes = new ArrayList<>();
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            CompletableFuture<Void> parked = new CompletableFuture<>();
            CompletableFuture<String> there = pool.submit(() -> {
                CompletableFuture<String> outcome = new CompletableFuture<>();
                Coroutine.create("pool-sender", () -> outcome.complete(thrown(() -> ch.send(2))));
                Coroutine.yield(); // it waits in the channel's queue, put there in place
                parked.complete(null);
                return Coroutine.await(outcome) + " | on" + ofThisThread();
            });
            CompletableFuture<String> localOutcome = new CompletableFuture<>();
            Coroutine local = Coroutine.create("local-sender", () -> localOutcome.complete(thrown(() -> ch.send(1))));
            Coroutine.yield(); // it parks: the buffer is full
            Coroutine.await(parked);
            Peer.run("closer", ch::close);
            // the local sender's wake-up and the pool's result reach this thread in either order
            outcomes.add(Coroutine.withTimeout(GUARD, () -> Coroutine.await(localOutcome)));
            outcomes.add(Coroutine.withTimeout(GUARD, () -> Coroutine.await(there)));
            Coroutine.yield(); // the local sender, having completed its outcome, ends
            assertThat(local.state()).isEqualTo(State.FINISHED);
        }
        String ofPool = outcomes.get(1).substring(outcomes.get(1).indexOf(" | on") + 5);
        assertThat(ofPool).startsWith(" of thread 'coro-pool-");
        assertThat(outcomes).containsExactly(
                "coroutine 'local-sender' cannot send to channel 'ch' (closed): the channel was closed while it waited, and the value"
                        + " was not delivered",
                "coroutine 'pool-sender'" + ofPool + " cannot send to channel 'ch' (closed): the channel was closed while it waited, and"
                        + " the value was not delivered | on" + ofPool);
        List<Integer> rest = new ArrayList<>();
        for (int v : ch) {
            rest.add(v);
        }
        assertThat(rest).as("the value buffered before the close, and neither parked sender's").containsExactly(0);
    }

    @Test
    void aCloseWithACauseFromAnotherThreadGivesItsCauseToTheWaitersOfTheChannelsThread() {
        Channel<String> in = new Channel<>("in", 0);
        IllegalStateException failure = new IllegalStateException("upstream failed");
        List<String> seen = new ArrayList<>();
        Coroutine receiver = Coroutine.create("receiver", () -> {
            try {
                for (String v : in) {
                    seen.add(v);
                }
                seen.add("ended");
            } catch (ChannelClosedException e) {
                seen.add("cause: " + e.getCause().getMessage());
            }
        });
        Coroutine.yield();
        assertThat(receiver.state()).isEqualTo(State.PARKED);
        Peer.run("closer", () -> in.close(failure));
        assertThat(in.closeCause()).as("seen from any thread once closed").containsSame(failure);
        Coroutine.withTimeout(GUARD, receiver::join);
        assertThat(seen).containsExactly("cause: upstream failed");
    }

    @Test
    void aCloseFromAnotherThreadWakesEveryWaiterWithChannelClosedException() {
        Channel<String> in = new Channel<>("in", 0);
        Channel<String> out = new Channel<>("out", 0);
        Coroutine.create("local-receiver", () -> expectClosed(in::receive));
        Coroutine.create("local-sender", () -> expectClosed(() -> out.send("x")));
        Coroutine.yield();
        CompletableFuture<Void> posted = new CompletableFuture<>();
        CompletableFuture<List<String>> remote = Peer.start("peer", () -> {
            CompletableFuture<String> r = new CompletableFuture<>();
            CompletableFuture<String> s = new CompletableFuture<>();
            Coroutine.create("remote-receiver", () -> r.complete(thrown(in::receive)));
            Coroutine.create("remote-sender", () -> s.complete(thrown(() -> out.send("y"))));
            Coroutine.yield();
            posted.complete(null);
            return List.of(ofThisThread(), Coroutine.await(r), Coroutine.await(s));
        });
        Coroutine.await(posted); // both remote operations are queued on this thread by now
        Peer.run("closer", () -> {
            in.close();
            out.close();
        });
        List<String> seen = Coroutine.await(remote);
        String ofPeer = seen.getFirst();
        assertThat(ofPeer).startsWith(" of thread 'peer' (#");
        assertThat(seen.subList(1, 3)).containsExactly(
                "coroutine 'remote-receiver'" + ofPeer + " cannot receive from channel 'in' (closed): no value is left in it, and none can come",
                "coroutine 'remote-sender'" + ofPeer + " cannot send to channel 'out' (closed): the channel was closed while it waited, and"
                        + " the value was not delivered");
        for (int i = 0; i < 3 && log.size() < 2; i++) {
            Coroutine.yield();
        }
        assertThat(log).containsExactlyInAnyOrder(
                "coroutine 'local-receiver' cannot receive from channel 'in' (closed): no value is left in it, and none can come",
                "coroutine 'local-sender' cannot send to channel 'out' (closed): the channel was closed while it waited, and the"
                        + " value was not delivered");
    }

    @Test
    void aCoroutineOfAnotherThreadBeingUnwoundStillClosesAndTriesThisThreadsChannelsAsOnThisThread() {
        Channel<String> full = new Channel<>("full", 1);
        full.send("filler");
        Channel<String> empty = new Channel<>("empty", 1);
        Channel<String> shared = new Channel<>("shared", 1);
        Channel<String> fresh = new Channel<>("fresh", 1);
        List<String> seen = Peer.call("peer", () -> {
            assertThat(full.trySend("x")).isFalse(); // posted here: from now on the three are shared
            assertThat(empty.tryReceive()).isEmpty();
            assertThat(shared.tryReceive()).isEmpty();
            List<String> done = new ArrayList<>();
            Coroutine unwinding = Coroutine.create("unwinding", () -> {
                try {
                    Coroutine.yield();
                } finally { // none of these waits in a channel's queue: each is done as on the channel's thread
                    done.add("trySend " + full.trySend("y"));
                    done.add("tryReceive " + empty.tryReceive());
                    shared.close();
                    done.add("closed shared");
                    fresh.close(); // never used by this thread before: posted to the channel's thread
                    done.add("closed fresh");
                }
            });
            unwinding.switchTo();
            unwinding.close();
            assertThat(unwinding.state()).isEqualTo(State.CLOSED);
            return done;
        });
        assertThat(seen).containsExactly("trySend false", "tryReceive Optional.empty", "closed shared", "closed fresh");
        Coroutine.yield(); // a scheduling point: runs what was posted, if the peer's end came first
        assertThat(shared.isClosed()).isTrue();
        assertThat(fresh.isClosed()).isTrue();
        assertThat(full.tryReceive()).contains("filler");
        assertThat(full.tryReceive()).isEmpty();
    }

    /**
     * A close posted to the channel's thread, whose caller is closed, or whose {@code withTimeout}
     * expires, while it waits for that thread to run it, still closes the channel, as one posted with
     * the signal already pending does: a close in a {@code finally} that began before the signal came
     * must not leave the channel open, its receivers waiting for ever.
     */
    @Test
    @Timeout(60)
    void aClosePostedToTheChannelsThreadStillClosesItWhenItsCallerIsClosedOrTimesOutWhileItWaitsForTheAnswer() throws InterruptedException {
        Channel<String> closedCaller = new Channel<>("closed-caller", 1);
        Channel<String> timedOut = new Channel<>("timed-out", 1);
        CountDownLatch posted = new CountDownLatch(1);
        CompletableFuture<List<String>> peer = Peer.start("peer", () -> {
            List<String> seen = new ArrayList<>();
            Coroutine closer = Coroutine.create("closer", () -> {
                try {
                    closedCaller.close(); // never used by this thread before: posted to the channel's thread, whose answer it waits for
                } catch (CoroutineExit e) {
                    seen.add("closer: close threw the exit signal");
                    throw e;
                }
            });
            Coroutine timer = Coroutine.create("timer", () -> {
                try {
                    Coroutine.withTimeout(Duration.ofMillis(1), () -> timedOut.close(new IllegalStateException("producer failed")));
                } catch (CoroutineTimeoutException e) {
                    seen.add("timer: close timed out");
                }
            });
            closer.switchTo(); // parks, its close posted
            timer.switchTo(); // parks too
            closer.close(); // while its close waits for the channel's thread, which runs nothing yet
            timer.join(); // its withTimeout expires meanwhile
            seen.add("closer " + closer.state() + ", timer " + timer.state());
            posted.countDown();
            return seen;
        });
        posted.await(); // blocks this thread outside coro: the two closes stay posted, not run, until now
        Coroutine.yield(); // a scheduling point: runs what was posted
        assertThat(Peer.awaitUnwrapped(peer)).containsExactly("closer: close threw the exit signal", "timer: close timed out",
                "closer CLOSED, timer FINISHED");
        assertThat(closedCaller.isClosed()).as(closedCaller + " closed").isTrue();
        assertThat(timedOut.isClosed()).as(timedOut + " closed").isTrue();
        assertThat(timedOut.closeCause()).get().extracting(Throwable::getMessage).isEqualTo("producer failed");
    }

    /**
     * A try call that must be posted to the channel's thread waits for its answer: a coroutine being
     * unwound gets its exit signal from it, having done nothing, and main, whose wait for the answer a
     * failing coroutine cancels, gets the {@link CoroutineException}, also having done nothing; a
     * close so cancelled throws it too, and the channel's thread closes the channel all the same.
     */
    @Test
    @Timeout(60)
    void aPostedTryCallThrowsTheCallersSignalOrMainsCancellingFailureHavingDoneNothingAndAPostedCloseClosesAllTheSame() throws InterruptedException {
        Channel<String> full = new Channel<>("full", 1);
        full.send("filler");
        Channel<String> empty = new Channel<>("empty", 1);
        Channel<String> other = new Channel<>("other", 1);
        Channel<String> closing = new Channel<>("closing", 1);
        CountDownLatch asked = new CountDownLatch(1);
        CompletableFuture<List<String>> peer = Peer.start("peer", () -> {
            List<String> seen = new ArrayList<>();
            Coroutine unwinding = Coroutine.create("unwinding", () -> {
                try {
                    Coroutine.yield();
                } finally { // never used by this thread before: each must be posted, and would wait for the answer
                    try {
                        seen.add("trySend " + empty.trySend("y"));
                    } catch (CoroutineExit e) {
                        seen.add("trySend threw the exit signal");
                    }
                    try {
                        seen.add("tryReceive " + full.tryReceive());
                    } catch (CoroutineExit e) {
                        seen.add("tryReceive threw the exit signal");
                    }
                }
            });
            unwinding.switchTo();
            unwinding.close();
            Coroutine.create("failing", () -> {
                throw new IllegalStateException("boom");
            });
            try {
                seen.add("main's trySend " + other.trySend("z")); // posted; main waits, and the failing coroutine runs
            } catch (CoroutineException e) {
                seen.add("main's trySend threw " + e.getMessage());
            }
            Coroutine.create("failing-too", () -> {
                throw new IllegalStateException("bang");
            });
            try {
                closing.close(); // posted too: main waits for the answer, and the failing coroutine runs
                seen.add("main's close returned");
            } catch (CoroutineException e) {
                seen.add("main's close threw " + e.getMessage());
            }
            asked.countDown();
            return seen;
        });
        asked.await(); // blocks this thread outside coro: nothing posted here runs until now
        Coroutine.yield(); // runs what was posted: the try send main gave up, which does nothing
        assertThat(Peer.awaitUnwrapped(peer)).containsExactly("trySend threw the exit signal", "tryReceive threw the exit signal",
                "main's trySend threw coroutine 'failing' failed: java.lang.IllegalStateException: boom",
                "main's close threw coroutine 'failing-too' failed: java.lang.IllegalStateException: bang");
        assertThat(closing.isClosed()).as(closing + " closed").isTrue();
        assertThat(empty.tryReceive()).isEmpty();
        assertThat(full.tryReceive()).contains("filler");
        assertThat(other.tryReceive()).isEmpty();
    }

    private void expectClosed(Runnable op) {
        log.add(thrown(op));
    }

    /** What {@code op} threw: its class's simple name and its message. */
    private static String refused(Runnable op) {
        try {
            op.run();
            return "no exception";
        } catch (RuntimeException e) {
            return e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    private static String thrown(Runnable op) {
        try {
            op.run();
            return "no exception";
        } catch (ChannelClosedException e) {
            return e.getMessage();
        }
    }

    /**
     * Runs {@code op} in a coroutine of a new thread, which leaves it parked in this thread's channel
     * and ends; returns once this thread has queued the operation.
     */
    private static void leftWaitingByAThreadThatEnds(String name, Runnable op) throws InterruptedException {
        leftWaitingByAThreadThatEnds(Thread.ofPlatform(), name, op);
    }

    /** {@link #leftWaitingByAThreadThatEnds(String, Runnable)} on a thread of {@code builder} (platform or virtual). */
    private static void leftWaitingByAThreadThatEnds(Thread.Builder builder, String name, Runnable op) throws InterruptedException {
        Thread t = builder.name(name).start(() -> {
            Coroutine.create("left", op); // posts its operation here, and parks
            Coroutine.yield();
        }); // main returns with the coroutine parked: the thread ends
        t.join();
        Coroutine.yield(); // runs the posted operation: it waits in the channel
    }

    @Test
    void aWaiterOfAThreadThatHasEndedIsNeverHandedAValueNorTakenOneFrom() throws InterruptedException {
        Channel<String> ch = new Channel<>("ch", 0);
        List<String> gotByTheEnded = new ArrayList<>();
        leftWaitingByAThreadThatEnds("receiver-that-ends", () -> gotByTheEnded.add(ch.receive()));
        assertThat(ch.trySend("x")).as("no receiver that can ever run waits").isFalse();
        Coroutine r = Coroutine.create("receiver", () -> log.add("receiver got " + ch.receive()));
        Coroutine.yield(); // it parks
        assertThat(ch.trySend("y")).isTrue();
        yieldUntilFinished(r);
        assertThat(new Select<String>().onSend(ch, "z", () -> "sent").onDefault(() -> "nobody there").select())
                .isEqualTo("nobody there");

        Channel<String> other = new Channel<>("other", 0);
        leftWaitingByAThreadThatEnds("sender-that-ends", () -> other.send("from the ended"));
        assertThat(other.tryReceive()).as("no sender that can ever run waits").isEmpty();
        assertThat(new Select<String>().onReceive(other, v -> v).onDefault(() -> "nothing").select()).isEqualTo("nothing");
        assertThat(log).containsExactly("receiver got y");
        assertThat(gotByTheEnded).isEmpty();
    }

    /**
     * THREADS.md: past a waiter of an ended thread, a send that finds no other receiver waits (it is
     * not handed to the dropped one), and a receive that refills a full buffer takes nothing from a
     * sender of an ended thread.
     */
    @Test
    void aParkingSendWaitsPastAnEndedReceiverAndABufferIsNotRefilledFromAnEndedSender() throws InterruptedException {
        Channel<String> ch = new Channel<>("ch", 0);
        leftWaitingByAThreadThatEnds("receiver-that-ends", () -> log.add("the ended got " + ch.receive()));
        Coroutine sender = Coroutine.create("sender", () -> {
            ch.send("x");
            log.add("sent x");
        });
        Coroutine.yield();
        assertThat(sender.state()).as("the send waits for a receiver that can run").isEqualTo(Coroutine.State.PARKED);
        Coroutine receiver = Coroutine.create("receiver", () -> log.add("receiver got " + ch.receive()));
        yieldUntilFinished(receiver);
        yieldUntilFinished(sender);
        assertThat(log).containsExactly("receiver got x", "sent x");

        Channel<String> full = new Channel<>("full", 1);
        full.send("a");
        leftWaitingByAThreadThatEnds("sender-that-ends", () -> full.send("from the ended"));
        assertThat(full.receive()).isEqualTo("a");
        assertThat(full.tryReceive()).as("the buffer was not refilled from the ended thread's sender").isEmpty();
        assertThat(full.trySend("b")).as("there is room").isTrue();
        assertThat(full.tryReceive()).contains("b");
    }

    /**
     * {@link #aWaiterOfAThreadThatHasEndedIsNeverHandedAValueNorTakenOneFrom} for a virtual thread whose main returns with its coroutine waiting in this thread's
     * channel: no value is handed to that coroutine (it would be lost with it), none is taken from it.
     */
    @Test
    void aWaiterOfAVirtualThreadThatHasEndedIsNeverHandedAValueNorTakenOneFrom() throws InterruptedException {
        Channel<String> ch = new Channel<>("ch", 0);
        List<String> gotByTheEnded = new ArrayList<>();
        leftWaitingByAThreadThatEnds(Thread.ofVirtual(), "virtual-receiver-that-ends", () -> gotByTheEnded.add(ch.receive()));
        assertThat(ch.trySend("x")).as("no receiver that can ever run waits").isFalse();
        Coroutine r = Coroutine.create("receiver", () -> log.add("receiver got " + ch.receive()));
        Coroutine.yield(); // it parks
        assertThat(ch.trySend("y")).isTrue();
        yieldUntilFinished(r);

        Channel<String> other = new Channel<>("other", 1);
        assertThat(other.trySend("first")).isTrue();
        leftWaitingByAThreadThatEnds(Thread.ofVirtual(), "virtual-sender-that-ends", () -> other.send("from the ended"));
        assertThat(other.tryReceive()).as("the value sent before").contains("first");
        assertThat(other.tryReceive()).as("no sender that can ever run refills the buffer").isEmpty();
        assertThat(log).containsExactly("receiver got y");
        assertThat(gotByTheEnded).isEmpty();
    }

    // ---- refused ------------------------------------------------------------------------------

    /**
     * Every refusal of an operation on a shared channel made from another thread names the caller and its
     * thread, the operation and the channel with its state; the channel's own thread is named as before,
     * with no thread: there the thread does not matter.
     */
    @Test
    @Timeout(30)
    void theRefusalsOfAClosedSharedChannelToAnotherThreadNameTheCallerAndItsThread() {
        Channel<String> ch = new Channel<>("shared", 1);
        List<String> seen = Peer.call("peer", () -> {
            List<String> s = new ArrayList<>();
            s.add(ofThisThread());
            s.add("sent " + ch.trySend("x")); // the first operation makes the channel shared
            s.add("received " + ch.receive());
            Coroutine c = Coroutine.create("remote", () -> {
                s.add(refused(() -> ch.tryReceive(Duration.ofSeconds(-1))));
                s.add(refused(() -> ch.trySend("y", Duration.ofMillis(-1))));
                ch.close();
                s.add(refused(() -> ch.send("z")));
                s.add(refused(ch::receive));
                s.add(refused(() -> ch.iterator().next()));
            });
            c.switchTo();
            s.add("remote " + c.state());
            return s;
        });
        String peer = seen.getFirst();
        assertThat(peer).startsWith(" of thread 'peer' (#");
        assertThat(seen.subList(1, seen.size())).containsExactly(
                "sent true",
                "received x",
                "IllegalArgumentException: coroutine 'remote'" + peer + " (state RUNNING) cannot tryReceive from channel 'shared' (open) with timeout PT-1S:"
                        + " a timeout must be zero or positive",
                "IllegalArgumentException: coroutine 'remote'" + peer + " (state RUNNING) cannot trySend to channel 'shared' (open) with timeout PT-0.001S:"
                        + " a timeout must be zero or positive",
                "ChannelClosedException: coroutine 'remote'" + peer + " cannot send to channel 'shared' (closed): a closed channel takes no more values,"
                        + " and the value was not delivered",
                "ChannelClosedException: coroutine 'remote'" + peer + " cannot receive from channel 'shared' (closed): no value is left in it, and none can come",
                "NoSuchElementException: coroutine 'remote'" + peer + " cannot take the next value of channel 'shared' (closed): no value is left in it,"
                        + " and none can come",
                "remote FINISHED");
        assertThat(ch.isSharedInPlace()).isTrue();
        assertThat(refused(() -> ch.send("z"))).as("on the channel's own thread")
                .isEqualTo("ChannelClosedException: main context 'main' cannot send to channel 'shared' (closed): a closed channel takes no more values"
                        + ", and the value was not delivered");
        assertThat(refused(() -> ch.tryReceive(Duration.ofSeconds(-1)))).isEqualTo("IllegalArgumentException: main context 'main' (state RUNNING) cannot"
                + " tryReceive from channel 'shared' (closed) with timeout PT-1S: a timeout must be zero or positive");
    }

    /**
     * A send of another thread to a channel closed already is refused at once, as a second close returns
     * at once: nothing but its thread could answer otherwise, and that thread may be blocked outside coro
     * waiting for this one. A trySend (timed or not) and a send were posted and waited for the channel's
     * thread: here until its latch gave up, with the latch waiting for them, a deadlock broken only by
     * the bound. Nothing is lost: the value buffered before the close is received once, after.
     */
    @Test
    @Timeout(60)
    void aSendOfAnotherThreadToAChannelClosedAlreadyIsAnsweredAtOnceThoughItsThreadIsBlockedOutsideCoro() throws Exception {
        CountDownLatch answered = new CountDownLatch(1);
        CompletableFuture<Boolean> inTime = new CompletableFuture<>();
        Maker<Integer> maker = Maker.start(() -> {
            Channel<Integer> c = new Channel<>("done", 2);
            c.send(1);
            c.close();
            return c;
        }, () -> {
            try {
                inTime.complete(answered.await(10, java.util.concurrent.TimeUnit.SECONDS)); // blocked outside coro
            } catch (InterruptedException e) {
                inTime.completeExceptionally(e);
            }
        });
        Channel<Integer> ch = maker.channel();
        List<String> seen = new ArrayList<>();
        seen.add("trySend " + ch.trySend(2));
        seen.add("timed trySend " + ch.trySend(3, Duration.ofSeconds(1)));
        seen.add(refused(() -> ch.send(4)));
        ch.close();
        answered.countDown();
        maker.thread().join();
        assertThat(inTime.join()).as("every call answered while the channel's thread was blocked waiting for them").isTrue();
        assertThat(seen).containsExactly("trySend false", "timed trySend false", "ChannelClosedException: main context 'main'"
                + ofThisThread() + " cannot send to channel 'done' (closed): a closed channel takes no more values, and the value"
                + " was not delivered");
        List<Integer> got = new ArrayList<>();
        for (int v : ch) {
            got.add(v);
        }
        assertThat(got).as("the value buffered before the close, once; none of the refused ones").containsExactly(1);
    }

    /**
     * A channel its thread closed before it ended answers another thread as a closed channel does: the
     * values left are received, then an iterator ends, a receive or a send finds it closed, a try call
     * takes or sends nothing and a close does nothing, as CHANNELS.md says of a closed channel. They
     * threw IllegalStateException: a consumer's loop over the channel of a producer that closed it and
     * ended failed, or ended, depending on whether its last receive came before the producer's end.
     */
    @Test
    @Timeout(30)
    void aChannelClosedByItsThreadBeforeItEndedAnswersAnotherThreadAsAClosedChannel() throws InterruptedException {
        Maker<Integer> maker = Maker.start(() -> {
            Channel<Integer> c = new Channel<>("made", 4);
            c.send(1);
            c.send(2);
            c.close();
            return c;
        }, () -> { });
        maker.thread().join();
        Channel<Integer> ch = maker.channel();
        List<Integer> got = new ArrayList<>();
        for (int v : ch) {
            got.add(v);
        }
        assertThat(got).as("the values left, then the loop ends").containsExactly(1, 2);
        assertThat(ch.tryReceive()).isEmpty();
        assertThat(ch.tryReceive(Duration.ofSeconds(1))).isEmpty();
        assertThat(ch.trySend(3)).isFalse();
        assertThat(ch.trySend(3, Duration.ofSeconds(1))).isFalse();
        ch.close();
        assertThat(ch.isClosed()).isTrue();
        assertThat(refused(ch::receive)).isEqualTo("ChannelClosedException: main context 'main'" + ofThisThread()
                + " cannot receive from channel 'made' (closed): no value is left in it, and none can come");
        assertThat(refused(() -> ch.send(3))).isEqualTo("ChannelClosedException: main context 'main'" + ofThisThread()
                + " cannot send to channel 'made' (closed): a closed channel takes no more values, and the value was not delivered");
        assertThat(refused(() -> ch.iterator().next())).isEqualTo("NoSuchElementException: main context 'main'" + ofThisThread()
                + " cannot take the next value of channel 'made' (closed): no value is left in it, and none can come");
        Coroutine closer = Coroutine.create("closer", () -> {
            try {
                Coroutine.yield();
            } finally {
                ch.close(); // made while its close's signal unwinds it
            }
        });
        closer.switchTo();
        closer.close();
        assertThat(closer.state()).isEqualTo(State.CLOSED);
        assertThat(Scheduler.current().loop.hasPending()).isFalse();
    }

    /**
     * A loop, and a stream, over another thread's channel closed and drained end on the caller's thread, as a receive
     * there is answered: the iterator's {@code hasNext()} is not asked of the channel's thread, which may be blocked
     * outside coro (here, in a join of the looping thread, where it runs no post). It had been posted there, and waited
     * for for ever.
     */
    @Test
    @Timeout(10)
    void aLoopOverAnotherThreadsClosedChannelEndsWithoutAskingItsThread() throws InterruptedException {
        Channel<Integer> ch = new Channel<>("jobs", 1);
        ch.close();
        List<Object> seen = new ArrayList<>();
        Thread looper = Thread.ofPlatform().daemon().name("looper").start(() -> {
            new Channel<Integer>("own", 1); // the thread has a scheduler: its iterators are made for its contexts
            for (Integer v : ch) {
                seen.add(v);
            }
            seen.add(java.util.stream.StreamSupport.stream(ch.spliterator(), false).count());
        });
        looper.join(); // blocked outside coro
        assertThat(seen).containsExactly(0L);
    }

    @Test
    void aChannelOfAnEndedThreadIsRefusedNamingTheChannelAndTheThread() throws InterruptedException {
        List<Channel<String>> made = new ArrayList<>();
        Thread maker = Thread.ofPlatform().name("maker").start(() -> made.add(new Channel<>("made", 1)));
        maker.join();
        Channel<String> ch = made.getFirst();
        String end = " channel 'made' (open): it belongs to thread 'maker' (#" + maker.threadId() + "), which has ended";
        String plain = "thread " + Scheduler.describe(Thread.currentThread()); // it has no scheduler, and no refusal makes one
        assertThatThrownBy(() -> ch.send("x")).isExactlyInstanceOf(IllegalStateException.class)
                .hasMessage(plain + " cannot send to" + end);
        assertThatThrownBy(() -> ch.trySend("x")).isExactlyInstanceOf(IllegalStateException.class)
                .hasMessage(plain + " cannot trySend to" + end);
        assertThatThrownBy(() -> ch.trySend("x", Duration.ofMillis(1))).isExactlyInstanceOf(IllegalStateException.class)
                .hasMessage(plain + " cannot trySend to" + end);
        assertThatThrownBy(ch::receive).isExactlyInstanceOf(IllegalStateException.class)
                .hasMessage(plain + " cannot receive from" + end);
        assertThatThrownBy(ch::tryReceive).isExactlyInstanceOf(IllegalStateException.class)
                .hasMessage(plain + " cannot tryReceive from" + end);
        assertThat(Scheduler.currentOrNull()).as("no refusal made the thread a scheduler").isNull();
        Coroutine c = Coroutine.create("user", () -> log.add(
                assertThrows(() -> ch.tryReceive(Duration.ofMillis(1)))));
        Coroutine.create("iterator", () -> log.add(assertThrows(() -> ch.iterator().hasNext())));
        Coroutine.create("closer", () -> log.add(assertThrows(ch::close)));
        yieldUntilFinished(c);
        assertThat(log).as("in the order of yield: the last created first").containsExactly(
                "coroutine 'closer'" + ofThisThread() + " cannot close" + end,
                "coroutine 'iterator'" + ofThisThread() + " cannot iterate over" + end,
                "coroutine 'user'" + ofThisThread() + " cannot tryReceive from" + end);
        assertThat(Scheduler.current().loop.hasPending()).isFalse();
    }

    /**
     * The channel's thread ends after another thread's send found it alive and before the send runs in
     * place on the shared channel, leaving a coroutine parked in a receive there. The send is refused
     * as one that found the thread ended, and the caller keeps its value: handed to that receiver,
     * which never runs again, it would be lost while the send reported it delivered.
     */
    @Test
    void aSendInPlaceAfterTheChannelsThreadEndedPastItsLivenessCheckIsRefusedNotHandedToAReceiverLeftParked()
            throws Exception {
        CompletableFuture<Void> park = new CompletableFuture<>();
        CompletableFuture<Channel<String>> made = new CompletableFuture<>();
        List<String> received = new ArrayList<>();
        Maker<String> owner = Maker.start(() -> {
            Channel<String> c = new Channel<>("made", 0);
            made.complete(c);
            return c;
        }, () -> {
            Coroutine.await(park); // while it waits here it serves the first operation: the channel is shared
            Coroutine.create("left", () -> received.add(made.join().receive()));
            Coroutine.yield(); // it parks in its receive; then the thread ends with it parked
        });
        Channel<String> ch = owner.channel();
        assertThat(ch.trySend("probe")).as("posted: nobody receives yet").isFalse();
        assertThat(ch.isSharedInPlace()).isTrue();
        Channel.afterLivenessCheck = () -> {
            Channel.afterLivenessCheck = null;
            park.complete(null);
            Peer.join(owner.thread());
        };
        try {
            assertThatThrownBy(() -> ch.send("value")).isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessage("main context 'main'" + ofThisThread() + " cannot send to channel 'made' (open): it belongs to thread " + owner.ended());
        } finally {
            Channel.afterLivenessCheck = null;
        }
        assertThat(received).isEmpty();
        assertThatThrownBy(() -> ch.tryReceive()).as("nothing was left behind either")
                .isExactlyInstanceOf(IllegalStateException.class);
    }

    /**
     * As above, with a coroutine left parked in a send: the receive that runs in place after the
     * channel's thread ended past its liveness check takes nothing from that send, which never
     * returns, as from any waiter whose thread has ended, and is refused (nothing is left in the buffer).
     */
    @Test
    void aReceiveInPlaceAfterTheChannelsThreadEndedPastItsLivenessCheckTakesNothingFromASenderLeftParked()
            throws Exception {
        CompletableFuture<Void> park = new CompletableFuture<>();
        CompletableFuture<Channel<String>> made = new CompletableFuture<>();
        List<String> sent = new ArrayList<>();
        Maker<String> owner = Maker.start(() -> {
            Channel<String> c = new Channel<>("made", 0);
            made.complete(c);
            return c;
        }, () -> {
            Coroutine.await(park); // while it waits here it serves the first operation: the channel is shared
            Coroutine.create("left", () -> {
                made.join().send("never delivered");
                sent.add("sent");
            });
            Coroutine.yield(); // it parks in its send; then the thread ends with it parked
        });
        Channel<String> ch = owner.channel();
        assertThat(ch.tryReceive()).as("posted: nobody sends yet").isEmpty();
        assertThat(ch.isSharedInPlace()).isTrue();
        Channel.afterLivenessCheck = () -> {
            Channel.afterLivenessCheck = null;
            park.complete(null);
            Peer.join(owner.thread());
        };
        try {
            assertThatThrownBy(ch::receive).isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessage("main context 'main'" + ofThisThread() + " cannot receive from channel 'made' (open): it belongs to thread " + owner.ended());
        } finally {
            Channel.afterLivenessCheck = null;
        }
        assertThat(sent).isEmpty();
    }

    /**
     * A value whose send succeeded is received exactly once: the values left in the buffer of a channel
     * whose thread has ended (sent by that thread, and by another one in place on the shared channel)
     * are received by other threads, each once, each taker's in order; once none is left, every
     * operation is refused as for any channel of an ended thread.
     */
    @Test
    void theValuesLeftInTheBufferOfAChannelWhoseThreadEndedAreEachReceivedOnceByOtherThreads() throws Exception {
        int n = 4_000;
        CompletableFuture<Void> sent = new CompletableFuture<>();
        Maker<Integer> maker = Maker.start(() -> {
            Channel<Integer> ch = new Channel<>("left", n);
            for (int i = 0; i < n / 2; i++) {
                ch.send(i);
            }
            return ch;
        }, () -> Coroutine.await(sent)); // serves the first send of the test's thread, which makes the channel shared
        Channel<Integer> ch = maker.channel();
        for (int i = n / 2; i < n; i++) {
            assertThat(ch.trySend(i)).isTrue();
        }
        sent.complete(null);
        maker.thread().join();
        String end = " channel 'left' (open): it belongs to thread " + maker.ended();
        int takers = 4;
        List<List<Integer>> got = new ArrayList<>();
        List<String> refusals = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < takers; t++) {
            List<Integer> mine = new ArrayList<>();
            got.add(mine);
            int kind = t;
            threads.add(Thread.ofPlatform().name("taker-" + t).start(() -> {
                try {
                    while (true) {
                        mine.add(switch (kind) {
                            case 0 -> ch.receive();
                            case 1 -> ch.tryReceive().orElseThrow();
                            case 2 -> ch.tryReceive(Duration.ofSeconds(1)).orElseThrow();
                            default -> ch.iterator().next();
                        });
                    }
                } catch (IllegalStateException e) {
                    synchronized (refusals) {
                        refusals.add(e.getMessage());
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(got.stream().mapToInt(List::size).sum()).as("every value received").isEqualTo(n);
        assertThat(got.stream().flatMap(List::stream).distinct().count()).as("none twice").isEqualTo(n);
        assertThat(got).allSatisfy(mine -> assertThat(mine).isSorted());
        // a taker that took a value left behind did so through a scheduler made for it (the iterator's taker made one
        // for its iterator); one that took none was refused either at once, with none made, named as a thread, or, when
        // it saw a value left that another taker took before it could, after a scheduler was made for that take, named
        // by its main context: which one, the race between the takers decides
        String[] ops = {" cannot receive from", " cannot tryReceive from", " cannot tryReceive from", " cannot iterate over"};
        assertThat(refusals).hasSize(takers);
        for (int t = 0; t < takers; t++) {
            String named = "main context 'main' of thread " + Scheduler.describe(threads.get(t)) + ops[t] + end;
            String asAThread = "thread " + Scheduler.describe(threads.get(t)) + ops[t] + end;
            if (t == 3 || !got.get(t).isEmpty()) {
                assertThat(refusals).as("taker-" + t).contains(named);
            } else {
                assertThat(refusals).as("taker-" + t).containsAnyOf(named, asAThread);
            }
        }
        assertThatThrownBy(() -> ch.trySend(0)).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main'" + ofThisThread() + " cannot trySend to" + end);
    }

    @Test
    void anOperationPostedToAThreadThatEndsBeforeServingItOrWhileItWaitsFailsNamingTheChannel() throws InterruptedException {
        CompletableFuture<Void> served = new CompletableFuture<>();
        CompletableFuture<Void> blocked = new CompletableFuture<>();
        CountDownLatch release = new CountDownLatch(1);
        Maker<String> maker = Maker.start(() -> new Channel<>("made", 0), () -> {
            Coroutine.await(served); // while it waits here it serves the first receive, which waits in the channel
            blocked.complete(null);
            Maker.blockOn(release); // blocked outside coro: the second receive, posted now, is never run
        });
        Channel<String> ch = maker.channel();
        CompletableFuture<String> queued = new CompletableFuture<>();
        CompletableFuture<String> late = new CompletableFuture<>();
        Coroutine.create("queued", () -> queued.complete(assertThrows(ch::receive)));
        Coroutine.yield(); // it posts its receive (the maker is alive) and parks
        served.complete(null); // the maker runs the receive first, then wakes
        Coroutine.await(blocked);
        Coroutine.create("late", () -> late.complete(assertThrows(ch::receive)));
        Coroutine.yield(); // it passes the liveness check, posts its receive and parks
        release.countDown();
        maker.thread().join();
        String end = " cannot receive from channel 'made' (open): it belongs to thread " + maker.ended();
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(queued, late)));
        assertThat(queued.join()).as("waiting in the channel's queue").isEqualTo("coroutine 'queued'" + ofThisThread() + end);
        assertThat(late.join()).as("posted, never run").isEqualTo("coroutine 'late'" + ofThisThread() + end);
        assertThat(Scheduler.current().loop.hasPending()).as("no wait left behind").isFalse();
    }

    @Test
    void anOperationPostedAfterTheChannelsSchedulerEndedFailsAtOnce() throws InterruptedException {
        CompletableFuture<Void> end = new CompletableFuture<>();
        CompletableFuture<Void> ended = new CompletableFuture<>();
        CountDownLatch release = new CountDownLatch(1);
        Maker<String> maker = Maker.start(() -> new Channel<>("made", 1), () -> {
            Coroutine.await(end);
            Scheduler.current().loop.close(); // as a pool thread's scheduler does when it leaves its loop
            ended.complete(null);
            Maker.blockOn(release); // the thread is still alive, its scheduler is not
        });
        Channel<String> ch = maker.channel();
        end.complete(null);
        Coroutine.await(ended);
        try {
            assertThatThrownBy(() -> Coroutine.withTimeout(GUARD, () -> ch.send("x")))
                    .isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessage("main context 'main'" + ofThisThread() + " cannot send to channel 'made' (open): it belongs to thread " + maker.ended());
        } finally {
            release.countDown();
            maker.thread().join();
        }
        Coroutine.yield(); // takes in the (unneeded) wake-up of the ended wait
        assertThat(Scheduler.current().loop.hasPending()).isFalse();
    }

    /**
     * A receive refused at its post because the channel's scheduler has ended (its thread still alive,
     * as a pool thread between leaving its loop and ending) still takes the values left in the buffer,
     * as one that finds the thread ended: a value whose send succeeded is not given up for lost.
     */
    @Test
    void aReceivePostedAfterTheChannelsSchedulerEndedTakesTheValuesLeftInTheBufferFirst() throws InterruptedException {
        CompletableFuture<Void> end = new CompletableFuture<>();
        CompletableFuture<Void> ended = new CompletableFuture<>();
        CountDownLatch release = new CountDownLatch(1);
        Maker<String> maker = Maker.start(CrossThreadChannelTest::madeWithTwoValuesLeft, () -> {
            Coroutine.await(end);
            Scheduler.current().loop.close(); // as a pool thread's scheduler does when it leaves its loop
            ended.complete(null);
            Maker.blockOn(release); // the thread is still alive, its scheduler is not
        });
        Channel<String> ch = maker.channel();
        end.complete(null);
        Coroutine.await(ended);
        try {
            assertThat(Coroutine.withTimeout(GUARD, ch::receive)).isEqualTo("left");
            assertThat(ch.tryReceive(Duration.ofSeconds(1))).contains("also left");
            assertThatThrownBy(ch::tryReceive)
                    .isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessage("main context 'main'" + ofThisThread() + " cannot tryReceive from channel 'made' (open): it belongs to thread " + maker.ended());
        } finally {
            release.countDown();
            maker.thread().join();
        }
        Coroutine.yield(); // takes in the (unneeded) wake-ups of the ended waits
        assertThat(Scheduler.current().loop.hasPending()).isFalse();
    }

    /** A channel 'made' of capacity 2 holding "left" and "also left", made on the calling thread. */
    private static Channel<String> madeWithTwoValuesLeft() {
        Channel<String> c = new Channel<>("made", 2);
        c.send("left");
        c.send("also left");
        return c;
    }

    /**
     * A receive posted and waiting in the channel's thread's inbox when that thread's scheduler ends (the
     * thread still alive), or when the thread itself ends, never run there, takes a value left in the buffer
     * first, as one that finds the thread ended: a value whose send succeeded is not given up for lost. The
     * next receive takes the next value; one that finds none fails, naming the ended thread.
     */
    @Test
    void aReceivePostedButNotRunWhenTheChannelsSchedulerOrThreadEndsTakesAValueLeftInTheBufferFirst() throws InterruptedException {
        for (boolean threadEnds : new boolean[] {false, true}) {
            CountDownLatch posted = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Maker<String> maker = Maker.start(CrossThreadChannelTest::madeWithTwoValuesLeft, () -> {
                Maker.blockOn(posted); // blocked outside coro: the receive posted meanwhile waits in the inbox
                if (!threadEnds && !Thread.currentThread().isInterrupted()) {
                    Scheduler.current().loop.close(); // as a pool thread's scheduler does when it leaves its loop
                    Maker.blockOn(release); // the thread is still alive, its scheduler is not
                }
            });
            try {
                Channel<String> ch = maker.channel();
                CompletableFuture<String> got = new CompletableFuture<>();
                Coroutine receiver = Coroutine.create("receiver", () -> got.complete(ch.receive()));
                Coroutine.yield(); // it posts its receive and parks
                assertThat(receiver.state()).isEqualTo(State.PARKED);
                posted.countDown();
                assertThat(Coroutine.withTimeout(GUARD, () -> Coroutine.await(got))).as("the thread ends: " + threadEnds)
                        .isEqualTo("left");
                assertThat(Coroutine.withTimeout(GUARD, ch::receive)).isEqualTo("also left");
                assertThatThrownBy(ch::tryReceive).isExactlyInstanceOf(IllegalStateException.class)
                        .hasMessage("main context 'main'" + ofThisThread() + " cannot tryReceive from channel 'made' (open):"
                                + " it belongs to thread " + maker.ended());
                assertThat(maker.thread().isAlive()).as("the thread lives on").isEqualTo(!threadEnds);
            } finally {
                posted.countDown();
                release.countDown();
                maker.thread().join();
            }
            Coroutine.yield(); // takes in the (unneeded) wake-ups of the ended waits
            assertThat(Scheduler.current().loop.hasPending()).as("no wait left behind").isFalse();
        }
    }

    @Test
    void anOperationPostedButNotRunWhenTheChannelsSchedulerEndsFailsAtOnceAndTheDumpNamedItsThread() throws InterruptedException {
        CountDownLatch posted = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Maker<String> maker = Maker.start(() -> new Channel<>("made", 0), () -> {
            Maker.blockOn(posted); // blocked outside coro: the receive posted meanwhile waits in the inbox
            if (!Thread.currentThread().isInterrupted()) {
                Scheduler.current().loop.close(); // as a pool thread's scheduler does when it leaves its loop
                Maker.blockOn(release); // the thread is still alive, its scheduler is not
            }
        });
        try {
            Channel<String> ch = maker.channel();
            CompletableFuture<String> failed = new CompletableFuture<>();
            Coroutine.create("receiver", () -> failed.complete(assertThrows(ch::receive)));
            Coroutine.yield(); // it posts its receive and parks
            String makerName = "'maker' (#" + maker.thread().threadId() + ")";
            assertThat(Coroutine.dump()).contains("  [1] coroutine 'receiver': PARKED, waits to receive from channel 'made'"
                    + " of thread " + makerName);
            posted.countDown();
            assertThat(Coroutine.withTimeout(GUARD, () -> Coroutine.await(failed))).as("while the maker is still alive")
                    .isEqualTo("coroutine 'receiver'" + ofThisThread() + " cannot receive from channel 'made' (open): it belongs to thread " + makerName
                            + ", which has ended");
            assertThat(maker.thread().isAlive()).isTrue();
        } finally {
            posted.countDown();
            release.countDown();
            maker.thread().join();
        }
        assertThat(Scheduler.current().loop.hasPending()).as("no wait left behind").isFalse();
    }

    @Test
    void aWaitOnAChannelWhoseThreadEndedFailsWhileAnotherContextKeepsTheThreadBusy() throws InterruptedException {
        CountDownLatch posted = new CountDownLatch(1);
        Maker<String> maker = Maker.start(() -> new Channel<>("made", 0),
                () -> Maker.blockOn(posted)); // blocked outside coro, then ends: the receive posted meanwhile is never run
        Channel<String> ch = maker.channel();
        CompletableFuture<String> failed = new CompletableFuture<>();
        Coroutine.create("receiver", () -> failed.complete(assertThrows(ch::receive)));
        Coroutine.yield(); // it posts its receive and parks
        posted.countDown();
        maker.thread().join();
        // main never idles: it yields until the receive has failed (the guard only stops a hang)
        Coroutine.withTimeout(GUARD, () -> {
            while (!failed.isDone()) {
                Coroutine.yield();
            }
        });
        assertThat(failed.join())
                .isEqualTo("coroutine 'receiver'" + ofThisThread() + " cannot receive from channel 'made' (open): it belongs to thread " + maker.ended());
        assertThat(Scheduler.current().loop.hasPending()).as("no wait left behind").isFalse();
    }

    /** How a refusal names the caller's thread when it is not the channel's: {@code " of thread 'main' (#1)"}. */
    private static String ofThisThread() {
        return " of thread " + Scheduler.describe(Scheduler.current().owner);
    }

    private static String assertThrows(Runnable op) {
        try {
            op.run();
            return "no exception";
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
    }

    @Test
    void aSelectOverAnotherThreadsChannelFiresItsClausesAsOnItsOwn() {
        Channel<String> here = new Channel<>("here", 1);
        List<String> seen = Peer.call("peer", () -> {
            Channel<String> own = new Channel<>("own", 1);
            own.send("mine");
            List<String> s = new ArrayList<>();
            s.add(new Select<String>().onReceive(own, v -> v).onReceive(here, v -> v).select());
            s.add(new Select<String>().onSend(here, "x", () -> "sent").onDefault(() -> "none").select());
            s.add(new Select<String>().onSend(here, "y", () -> "sent").onDefault(() -> "none").select());
            s.add("own holds " + own.tryReceive());
            return s;
        });
        assertThat(seen).containsExactly("mine", "sent", "none", "own holds Optional.empty");
        assertThat(here.tryReceive()).as("the send clause's value").contains("x");
        assertThat(here.tryReceive()).isEmpty();
    }

    // ---- a select whose partner of another thread leaves --------------------------------------

    @Test
    void aSelectWhoseOnlyReadyPartnerOfAnotherThreadLeavesBeforeItFiresGoesOn() {
        Channel<String> ch = new Channel<>("ch", 0);
        CompletableFuture<Void> queued = new CompletableFuture<>();
        CompletableFuture<Void> leave = new CompletableFuture<>();
        CompletableFuture<Void> left = new CompletableFuture<>();
        CompletableFuture<String> peer = Peer.start("peer", () -> {
            Coroutine sender = Coroutine.create("sender", () -> ch.send("x"));
            Coroutine.yield(); // the sender posts its send to the test thread and parks
            queued.complete(null);
            Coroutine.await(leave);
            sender.close(); // its send is interrupted: it leaves the channel having delivered nothing
            left.complete(null);
            return sender.state().toString();
        });
        Coroutine.await(queued); // the send was posted before this wake-up: it waits in ch's queue now
        // a stage whose first isDone() is asked right after the channel's clause was found ready:
        // the other thread's sender leaves exactly then, between the select's check and its firing
        CompletableFuture<String> trap = new CompletableFuture<>() {
            private int asked;

            @Override
            public boolean isDone() {
                if (++asked == 1) {
                    leave.complete(null);
                    left.join();
                }
                return super.isDone();
            }
        };
        Select<String> select = new Select<String>().onReceive(ch, v -> "received " + v).onComplete(trap, v -> v)
                .onDefault(() -> "nothing ready");
        assertThat(select.selectUnbiased()).isEqualTo("nothing ready");
        assertThat(Coroutine.await(peer)).isEqualTo("CLOSED");
        assertThat(ch.tryReceive()).as("nothing was delivered").isEmpty();
        assertThat(ch.isClosed()).isFalse();
    }

    @Test
    void aSelectFindsTheWaitersOfAnotherThreadInItsChannelsReady() {
        Channel<String> in = new Channel<>("in", 0);
        Channel<String> out = new Channel<>("out", 0);
        CompletableFuture<Void> queued = new CompletableFuture<>();
        CompletableFuture<List<String>> peer = Peer.start("peer", () -> {
            CompletableFuture<String> sent = new CompletableFuture<>();
            CompletableFuture<String> received = new CompletableFuture<>();
            Coroutine.create("remote-sender", () -> sent.complete("sent: " + in.trySend("x", GUARD)));
            Coroutine.create("remote-receiver", () -> received.complete("received: " + out.tryReceive(GUARD)));
            Coroutine.yield(); // both post their call and park
            queued.complete(null);
            return List.of(Coroutine.await(sent), Coroutine.await(received));
        });
        Coroutine.await(queued);
        Coroutine.yield(); // a scheduling point: runs the calls posted before the future completed, which queue here
        assertThat(new Select<String>().onReceive(in, v -> "received " + v).onDefault(() -> "nothing ready").select())
                .isEqualTo("received x");
        assertThat(new Select<String>().onSend(out, "y", () -> "sent y").onDefault(() -> "nothing ready").selectUnbiased())
                .isEqualTo("sent y");
        assertThat(Coroutine.await(peer)).containsExactly("sent: true", "received: Optional[y]");
    }

    // ---- deadlocks ----------------------------------------------------------------------------

    @Test
    void aThreadThatNeverExchangedAnythingStillReportsADeadlockExactly() {
        Channel<Integer> ch = new Channel<>("empty", 0);
        Coroutine.create("stuck", () -> new Channel<Integer>("never", 0).receive());
        Coroutine.yield();
        assertThatThrownBy(ch::receive).isExactlyInstanceOf(DeadlockException.class)
                .hasMessage("main context 'main' cannot receive from channel 'empty': every other context of thread '"
                        + Thread.currentThread().getName() + "' (#" + Thread.currentThread().threadId() + ") is parked"
                        + " and no timer is pending, so nothing could ever wake it (deadlock):\n"
                        + "  main context 'main' would wait to receive from channel 'empty'\n"
                        + "  coroutine 'stuck' waits to receive from channel 'never'");
    }

    @Test
    void aThreadThatWaitsOnAFutureIsNotDeadlockedAndAfterwardsItsOwnWaitsAreNotEither() {
        Channel<String> never = new Channel<>("never", 0);
        Coroutine stuck = Coroutine.create("stuck", () -> log.add("stuck got " + never.receive()));
        Coroutine.yield();
        assertThat(stuck.state()).isEqualTo(State.PARKED);
        Thread self = Thread.currentThread();
        CompletableFuture<String> f = new CompletableFuture<>();
        CompletableFuture<Boolean> completer = Peer.start("completer", () -> {
            boolean blocked = Peer.awaitBlocked(self, f); // every context of the test thread is parked now
            f.complete("v");
            return blocked;
        });
        assertThat(Coroutine.await(f)).isEqualTo("v");
        assertThat(Coroutine.await(completer)).as("the test thread blocked in its event loop").isTrue();

        // this thread has exchanged something with another: waiting on its own channel is not a deadlock
        Channel<String> own = new Channel<>("own", 0);
        CompletableFuture<Void> giveUp = new CompletableFuture<>();
        Peer.start("sender", () -> {
            if (Peer.awaitBlocked(self, giveUp)) {
                own.send("w");
            }
            return null;
        });
        try {
            assertThat(own.receive()).isEqualTo("w");
        } finally {
            giveUp.complete(null);
        }
        stuck.close();
        assertThat(log).isEmpty();
    }

    @Test
    void aCoroutineThatEndsWhileEveryOtherContextWaitsOnAConnectedThreadsChannelLeavesTheThreadWaitingForOthers() {
        Thread self = Thread.currentThread();
        Channel<Integer> ours = new Channel<>("ours", 0);
        CompletableFuture<Void> started = new CompletableFuture<>();
        CompletableFuture<Void> briefEnded = new CompletableFuture<>();
        CompletableFuture<Void> giveUp = new CompletableFuture<>();
        CompletableFuture<String> sender = Peer.start("sender", () -> {
            started.complete(null);
            Coroutine.await(briefEnded);
            if (!Peer.awaitBlocked(self, giveUp)) { // sent once this thread waits, after 'brief' ended
                return "gave up";
            }
            ours.send(42);
            return "sent";
        });
        try {
            Coroutine.await(started); // an exchange with another thread: from now on it may wake this one's contexts
            Coroutine brief = Coroutine.create("brief", () -> briefEnded.complete(null));
            // main parks on its own channel, 'brief' runs and ends: every context left is parked and no
            // timer is pending, but another thread may still send, so the thread waits for it (no deadlock)
            assertThat(ours.receive()).isEqualTo(42);
            assertThat(brief.isFinished()).isTrue();
        } finally {
            giveUp.complete(null);
        }
        assertThat(Coroutine.await(sender)).isEqualTo("sent");
    }

    @Test
    void awaitingAFutureAnotherThreadHadAlreadyCompletedIsAnExchangeToo() {
        Thread self = Thread.currentThread();
        Channel<String> ch = new Channel<>("ch", 0);
        CompletableFuture<String> ready = new CompletableFuture<>();
        CompletableFuture<Void> giveUp = new CompletableFuture<>();
        Thread.ofPlatform().name("peer").start(() -> {
            ready.complete("ready");
            if (Peer.awaitBlocked(self, giveUp)) {
                ch.send("v");
            }
        });
        while (!ready.isDone()) { // not join(): this thread must not block before the receive
            Thread.onSpinWait();
        }
        assertThat(Coroutine.await(ready)).isEqualTo("ready");
        try {
            assertThat(ch.receive()).as("a wait for the other thread, not a deadlock").isEqualTo("v");
        } finally {
            giveUp.complete(null);
        }
    }

    /**
     * THREADS.md: a thread that has exchanged something with another does not report a wait with
     * nothing else to run as a deadlock. A select's {@code onComplete} that took a future of another
     * thread is such an exchange, as an await of it is: whether the future was complete already or
     * the select waited for it, a later wait on this thread's own channel, which the other thread
     * then wakes, blocks instead of being reported.
     */
    @Test
    void aSelectThatTookAFutureAnotherThreadHadAlreadyCompletedIsAnExchangeToo() {
        selectOnAFutureThenWaitOnThisThreadsChannel(true);
    }

    @Test
    void aSelectThatWaitedForAFutureAnotherThreadCompletedIsAnExchangeToo() {
        selectOnAFutureThenWaitOnThisThreadsChannel(false);
    }

    private static void selectOnAFutureThenWaitOnThisThreadsChannel(boolean completeFirst) {
        Thread self = Thread.currentThread();
        Channel<String> ch = new Channel<>("ch", 0);
        CompletableFuture<String> ready = new CompletableFuture<>();
        CompletableFuture<Void> selected = new CompletableFuture<>();
        CompletableFuture<Void> giveUp = new CompletableFuture<>();
        Thread.ofPlatform().name("peer").start(() -> {
            if (completeFirst || Peer.awaitBlocked(self, giveUp)) { // else while the select waits for it
                ready.complete("ready");
            }
            while (!selected.isDone() && !giveUp.isDone()) {
                Thread.onSpinWait();
            }
            if (Peer.awaitBlocked(self, giveUp)) {
                ch.send("v");
            }
        });
        while (completeFirst && !ready.isDone()) { // not join(): this thread must not block before the select
            Thread.onSpinWait();
        }
        try {
            assertThat(new Select<String>().onComplete(ready, v -> v).select()).isEqualTo("ready");
            selected.complete(null);
            assertThat(ch.receive()).as("a wait for the other thread, not a deadlock").isEqualTo("v");
        } finally {
            giveUp.complete(null);
        }
    }

    /**
     * THREADS.md: an await counts as an exchange even of a future this thread completed itself (no
     * thread can tell who completed a future): from then on a wait with nothing else to run blocks for
     * a wake-up instead of being reported as a deadlock.
     */
    @Test
    void awaitingAFutureThisThreadCompletedItselfIsAnExchangeToo() {
        Thread self = Thread.currentThread();
        assertThat(Coroutine.await(CompletableFuture.completedFuture("mine"))).isEqualTo("mine");
        Channel<String> ch = new Channel<>("ch", 0);
        CompletableFuture<Void> giveUp = new CompletableFuture<>();
        Thread.ofPlatform().name("peer").start(() -> { // touches nothing of this thread before it blocks
            if (Peer.awaitBlocked(self, giveUp)) {
                ch.send("v");
            }
        });
        try {
            assertThat(ch.receive()).as("a wait that blocks, not a deadlock").isEqualTo("v");
        } finally {
            giveUp.complete(null);
        }
    }

    @Test
    void onceAWaitOnAChannelSharedWithAnotherThreadIsOverTheVirtualClockJumpsAgain() throws InterruptedException {
        Channel<String> ch = new Channel<>("ch", 0);
        CompletableFuture<Void> started = new CompletableFuture<>();
        Thread peer = Thread.ofPlatform().name("peer").unstarted(() -> {
            started.complete(null);
            ch.send("from peer");
        });
        List<String> log = new ArrayList<>();
        VirtualTime.run(() -> {
            peer.start();
            Coroutine.await(started); // an exchange: from now on a wait for the peer is not a deadlock
            log.add(ch.receive()); // served here: the channel is shared from now on
            Coroutine.create("local sender", () -> ch.send("local"));
            log.add(ch.receive()); // a wait on a shared channel: the clock stands still while it lasts
            long before = Coroutine.nanoTime();
            Coroutine.sleep(Duration.ofHours(1)); // nothing else can wake anyone: the clock jumps
            log.add("slept " + Duration.ofNanos(Coroutine.nanoTime() - before));
        });
        peer.join();
        assertThat(log).containsExactly("from peer", "local", "slept PT1H");
    }

    // ---- helpers ------------------------------------------------------------------------------

    /** Yields until {@code c} has finished, at most a few times: each yield runs it if it is runnable. */
    private static void yieldUntilFinished(Coroutine c) {
        for (int i = 0; i < 10 && !c.isFinished(); i++) {
            Coroutine.yield();
        }
        assertThat(c.isFinished()).as(c + " finished").isTrue();
    }
}
