package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A value handed to a receiver of another thread that gives it back (closed before it ran) while a select of
 * the channel's thread waits on the channel goes to the head of the buffer, and that thread is asked to hand
 * it on: a send, a receive, or another value given back, that comes before that thread has done so still lets it
 * go first, to the select, which waited longest, so that the order of the sends is kept and the longest-waiting
 * receiver is served first. Each test blocks the channel's thread on a latch between the give-back and the later
 * operation, so that they meet in that order.
 */
@ExtendWith(FreshThread.class)
class GivenBackWhileASelectWaitsTest {

    /** A bound for latches that open long before it: a guard against a hang. */
    private static final long GUARD_SECONDS = 30;
    private static final Duration GUARD = Duration.ofSeconds(GUARD_SECONDS);

    private final List<String> log = new ArrayList<>();

    private static void await(CountDownLatch latch) {
        try {
            assertThat(latch.await(GUARD_SECONDS, TimeUnit.SECONDS)).as("within the guard").isTrue();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * Starts a thread whose coroutine 'remote-receiver' waits in {@code ch}'s queue (put there in place, the
     * channel shared), then, once {@code close} opens, closes it, so that it gives back the value it was handed,
     * and opens {@code closed}. Returns once the receiver waits.
     */
    private static CompletableFuture<State> remoteReceiverClosedOn(Channel<String> ch, CountDownLatch close, CountDownLatch closed) {
        CountDownLatch queued = new CountDownLatch(1);
        CompletableFuture<State> result = Peer.start("remote", () -> {
            Coroutine receiver = Coroutine.create("remote-receiver", ch::receive);
            Coroutine.yield(); // it waits in the channel's queue
            queued.countDown();
            await(close); // its thread blocked: the value handed to it meanwhile waits for it, its wake-up unrun
            receiver.close();
            closed.countDown();
            return receiver.state();
        });
        await(queued);
        return result;
    }

    private static void share(Channel<?> ch) {
        Peer.run("sharer", () -> assertThat(ch.tryReceive()).isEmpty());
    }

    @Test
    @Timeout(60)
    void aSendOfTheChannelsThreadBeforeItHandsOnAValueGivenBackLetsTheSelectTakeThatValueFirst() {
        Channel<String> ch = new Channel<>("ch", 1);
        share(ch);
        CountDownLatch selectWaits = new CountDownLatch(1);
        CountDownLatch givenBack = new CountDownLatch(1);
        CompletableFuture<State> remote = remoteReceiverClosedOn(ch, selectWaits, givenBack);
        Coroutine.create("late-sender", () -> {
            selectWaits.countDown();
            await(givenBack); // no scheduling point of this thread since the give-back: its hand-off is still to come
            ch.send("second");
            log.add("sent second");
        });
        ch.send("first"); // handed to the remote receiver
        log.add("select got " + new Select<String>().onReceive(ch, v -> v).select());
        log.add("then " + ch.tryReceive() + ", " + ch.tryReceive());
        assertThat(remote.join()).isEqualTo(State.CLOSED);
        assertThat(log).containsExactly("sent second", "select got first", "then Optional[second], Optional.empty");
    }

    @Test
    @Timeout(60)
    void aSendOfAnotherThreadPostedBeforeTheHandOffOfAValueGivenBackLetsTheSelectTakeThatValueFirst() {
        Channel<String> ch = new Channel<>("ch", 1);
        share(ch);
        CountDownLatch selectWaits = new CountDownLatch(1);
        CountDownLatch secondPosted = new CountDownLatch(1);
        CountDownLatch givenBack = new CountDownLatch(1);
        CompletableFuture<State> remote = remoteReceiverClosedOn(ch, secondPosted, givenBack);
        CompletableFuture<String> late = Peer.start("late", () -> {
            await(selectWaits);
            CompletableFuture<String> sent = new CompletableFuture<>();
            Coroutine.create("late-sender", () -> {
                ch.send("second"); // posted to the channel's thread: a select of it waits on the channel
                sent.complete("sent second");
            });
            Coroutine.yield(); // it waits for the channel's thread to run its post
            secondPosted.countDown();
            return Coroutine.await(sent);
        });
        Coroutine.create("blocker", () -> {
            selectWaits.countDown();
            await(givenBack); // the post of the send, then the one handing on the value given back, wait for this thread
        });
        ch.send("first"); // handed to the remote receiver
        log.add("select got " + new Select<String>().onReceive(ch, v -> v).select());
        log.add(late.join());
        log.add("then " + ch.tryReceive() + ", " + ch.tryReceive());
        assertThat(remote.join()).isEqualTo(State.CLOSED);
        assertThat(log).containsExactly("select got first", "sent second", "then Optional[second], Optional.empty");
    }

    @Test
    @Timeout(60)
    void aValueGivenBackOnTheChannelsThreadBeforeItHandsOnOneGivenBackFromAfarComesAfterIt() {
        Channel<String> ch = new Channel<>("ch", 1);
        share(ch);
        CountDownLatch selectWaits = new CountDownLatch(1);
        CountDownLatch givenBack = new CountDownLatch(1);
        CompletableFuture<State> remote = remoteReceiverClosedOn(ch, selectWaits, givenBack);
        Coroutine local = Coroutine.create("local-receiver", () -> log.add("local got " + ch.receive()));
        Coroutine.yield(); // the local receiver waits, behind the remote one
        assertThat(local.state()).isEqualTo(State.PARKED);
        ch.send("first"); // handed to the remote receiver
        ch.send("second"); // handed to the local one
        Coroutine.create("closer", () -> { // runs first as the select parks: the last entry, before the local receiver
            selectWaits.countDown();
            await(givenBack);
            local.close(); // it gives back the value handed to it, sent after the one given back from afar
        });
        log.add("select got " + new Select<String>().onReceive(ch, v -> v).select());
        log.add("then " + ch.tryReceive() + ", " + ch.tryReceive());
        assertThat(remote.join()).isEqualTo(State.CLOSED);
        assertThat(local.state()).isEqualTo(State.CLOSED);
        assertThat(log).containsExactly("select got first", "then Optional[second], Optional.empty");
    }

    @Test
    @Timeout(60)
    void aReceiveOfTheChannelsThreadBeforeItHandsOnAValueGivenBackLeavesItToTheSelectThatWaitedLonger() {
        Channel<String> ch = new Channel<>("ch", 1);
        share(ch);
        CountDownLatch selectWaits = new CountDownLatch(1);
        CountDownLatch givenBack = new CountDownLatch(1);
        CompletableFuture<State> remote = remoteReceiverClosedOn(ch, selectWaits, givenBack);
        Coroutine.create("late-receiver", () -> {
            selectWaits.countDown();
            await(givenBack); // no scheduling point of this thread since the give-back: its hand-off is still to come
            log.add("late receiver got " + ch.tryReceive());
            ch.send("second");
        });
        ch.send("first"); // handed to the remote receiver
        log.add("select got " + new Select<String>().onReceive(ch, v -> v).select());
        log.add("then " + ch.tryReceive());
        assertThat(remote.join()).isEqualTo(State.CLOSED);
        assertThat(log).containsExactly("late receiver got Optional.empty", "select got first", "then Optional[second]");
    }

    @Test
    @Timeout(60)
    void aReceiveOfAnotherThreadPostedBeforeTheHandOffOfAValueGivenBackLeavesItToTheSelectThatWaitedLonger() {
        Channel<String> ch = new Channel<>("ch", 1);
        share(ch);
        CountDownLatch selectWaits = new CountDownLatch(1);
        CountDownLatch receivePosted = new CountDownLatch(1);
        CountDownLatch givenBack = new CountDownLatch(1);
        CompletableFuture<State> remote = remoteReceiverClosedOn(ch, receivePosted, givenBack);
        CompletableFuture<String> late = Peer.start("late", () -> {
            await(selectWaits);
            CompletableFuture<String> received = new CompletableFuture<>();
            Coroutine.create("late-receiver", () -> received.complete("late receiver got " + ch.tryReceive(Duration.ofHours(1))));
            Coroutine.yield(); // it waits for the channel's thread to run its post
            receivePosted.countDown();
            return Coroutine.await(received);
        });
        Coroutine.create("blocker", () -> {
            selectWaits.countDown();
            await(givenBack); // the post of the receive, then the one handing on the value given back, wait for this thread
        });
        ch.send("first"); // handed to the remote receiver
        // (guarded: were the value handed to the late receiver, nothing would come to the select)
        log.add("select got " + Coroutine.withTimeout(GUARD, () -> new Select<String>().onReceive(ch, v -> v).select()));
        ch.send("second"); // to the late receiver, which waits in the queue now
        log.add(late.join());
        assertThat(remote.join()).isEqualTo(State.CLOSED);
        assertThat(log).containsExactly("select got first", "late receiver got Optional[second]");
    }
}
