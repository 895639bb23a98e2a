package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A channel used at once by coroutines of several threads (pool threads and plain threads): its capacity,
 * its loops, its timed try calls, the end of its thread and the deadlock reports of the threads around it.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
class ChannelSharedByManyThreadsTest {

    /** A bound for waits that are expected to end long before it: a guard against a hang. */
    private static final Duration GUARD = PoolsClosed.GUARD;

    /** Waits outside coro, the thread blocked, until {@code latch} is counted down. */
    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static String thread(Thread t) {
        return "thread '" + t.getName() + "' (#" + t.threadId() + ")";
    }

    /** Sends {@code count} values from {@code first} on, noting the most values seen buffered after each send. */
    private static void sendNoting(Channel<Integer> ch, int first, int count, AtomicInteger most) {
        for (int i = 0; i < count; i++) {
            ch.send(first + i);
            most.accumulateAndGet(ch.size(), Math::max);
        }
    }

    @Test
    @Timeout(60)
    void aBufferedChannelSentToByThreeThreadsNeverHoldsMoreThanItsCapacityAndLosesNoValue() {
        int each = 150;
        Channel<Integer> ch = new Channel<>("ch", 2);
        AtomicInteger most = new AtomicInteger();
        List<Integer> received;
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            List<CompletableFuture<Void>> senders = new ArrayList<>();
            for (int b = 0; b < 2; b++) {
                int first = 1000 * (2 * b + 1);
                senders.add(pool.submit(() -> {
                    Coroutine one = Coroutine.create("s1", () -> sendNoting(ch, first, each, most));
                    Coroutine two = Coroutine.create("s2", () -> sendNoting(ch, first + 1000, each, most));
                    one.join();
                    two.join();
                    return null;
                }));
            }
            Coroutine local = Coroutine.create("local", () -> sendNoting(ch, 0, each, most));
            CompletableFuture<List<Integer>> receiver = Peer.start("receiver", () -> {
                List<Integer> got = new ArrayList<>();
                for (int i = 0; i < 5 * each; i++) {
                    got.add(ch.receive());
                    most.accumulateAndGet(ch.size(), Math::max);
                }
                return got;
            });
            received = Coroutine.withTimeout(GUARD, () -> Peer.awaitUnwrapped(receiver));
            Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(senders.toArray(CompletableFuture[]::new))));
            Coroutine.withTimeout(GUARD, local::join);
        }
        List<Integer> expected = new ArrayList<>();
        for (int s = 0; s < 5; s++) {
            for (int i = 0; i < each; i++) {
                expected.add(1000 * s + i);
            }
        }
        assertThat(received).as("every value sent, once").containsExactlyInAnyOrderElementsOf(expected);
        assertThat(most.get()).as("the most values ever buffered").isLessThanOrEqualTo(2);
        assertThat(ch.size()).isZero();
    }

    @Test
    @Timeout(60)
    void loopsOfTwoPoolThreadsOverAChannelFedByAPlainThreadEndExactlyAfterTheLastValue() {
        int count = 300;
        Channel<Integer> ch = new Channel<>("ch", 1);
        List<Integer> all = new ArrayList<>();
        ConcurrentLinkedQueue<String> ends = new ConcurrentLinkedQueue<>(); // both pool threads add to it
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            List<CompletableFuture<List<Integer>>> loops = new ArrayList<>();
            for (int b = 0; b < 2; b++) {
                loops.add(pool.submit(() -> {
                    List<Integer> got = new ArrayList<>();
                    for (int v : ch) {
                        got.add(v);
                    }
                    got.add(-1); // the loop ended: then the channel must be closed and drained
                    ends.add("closed " + ch.isClosed() + ", " + ch.size() + " left");
                    return got;
                }));
            }
            CompletableFuture<Void> producer = Peer.start("producer", () -> {
                for (int i = 0; i < count; i++) {
                    ch.send(i);
                }
                ch.close();
                return null;
            });
            Coroutine.withTimeout(GUARD, () -> Peer.awaitUnwrapped(producer));
            for (CompletableFuture<List<Integer>> loop : loops) {
                List<Integer> got = Coroutine.withTimeout(GUARD, () -> Peer.awaitUnwrapped(loop));
                assertThat(got.getLast()).isEqualTo(-1);
                assertThat(got.subList(0, got.size() - 1)).as("each loop sees its values in the order sent").isSorted();
                all.addAll(got.subList(0, got.size() - 1));
            }
        }
        assertThat(all).containsExactlyInAnyOrderElementsOf(IntStream.range(0, count).boxed().toList());
        assertThat(ends).containsExactly("closed true, 0 left", "closed true, 0 left");
    }

    @Test
    @Timeout(60)
    void loopsOfTwoPoolThreadsOverAChannelClosedWithACauseByAThirdThreadTakeEveryValueOnceThenThrowTheCause() {
        Channel<Integer> ch = new Channel<>("ch", 4);
        IllegalStateException failure = new IllegalStateException("producer failed");
        List<String> outcomes = new ArrayList<>();
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            CountDownLatch looping = new CountDownLatch(2);
            List<CompletableFuture<String>> loops = new ArrayList<>();
            for (int b = 0; b < 2; b++) {
                loops.add(pool.submit("loop", () -> {
                    String caller = "coroutine 'loop' of " + thread(Peer.schedulerThread());
                    int taken = 0;
                    try {
                        for (int v : ch) {
                            taken += v;
                            looping.countDown();
                        }
                        return "ended";
                    } catch (ChannelClosedException e) {
                        assertThat(e.getCause()).isSameAs(failure);
                        return taken + " then " + e.getMessage().replace(caller, "<caller>");
                    }
                }));
            }
            Coroutine.withTimeout(GUARD, () -> Peer.run("producer", () -> {
                ch.send(1);
                ch.send(1);
                await(looping); // each loop took a value and waits for the next
                ch.send(10);
                ch.send(10);
                ch.send(10);
                ch.send(10);
            }));
            Peer.run("closer", () -> ch.close(failure));
            for (CompletableFuture<String> loop : loops) {
                outcomes.add(Coroutine.withTimeout(GUARD, () -> Peer.awaitUnwrapped(loop)));
            }
        }
        int total = 0;
        for (String o : outcomes) {
            total += Integer.parseInt(o.substring(0, o.indexOf(' ')));
            assertThat(o.substring(o.indexOf(" then ") + 6))
                    .isEqualTo("<caller> cannot iterate over channel 'ch' (closed): no value is left in it, and none can come");
        }
        assertThat(total).as("every value, once").isEqualTo(42);
    }

    @Test
    @Timeout(60)
    void timedTrySendsOfAPlainThreadAndTimedTryReceivesOfTwoPoolThreadsAgreeOnEveryValue() {
        int count = 400;
        Channel<Integer> ch = new Channel<>("ch", 0); // a rendezvous: a trySend true was received
        ConcurrentLinkedQueue<Integer> received = new ConcurrentLinkedQueue<>();
        List<Integer> delivered = new ArrayList<>();
        AtomicBoolean done = new AtomicBoolean();
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            List<CompletableFuture<Void>> consumers = new ArrayList<>();
            for (int b = 0; b < 2; b++) {
                long seed = b;
                consumers.add(pool.submit(() -> {
                    Random random = new Random(seed);
                    for (int i = 0; i < 1_000_000; i++) {
                        boolean last = done.get();
                        Optional<Integer> v = ch.tryReceive(Duration.ofNanos(random.nextInt(200_000)));
                        v.ifPresent(received::add);
                        if (last && v.isEmpty()) {
                            return null;
                        }
                    }
                    throw new AssertionError("the loop never ended");
                }));
            }
            CompletableFuture<Void> producer = Peer.start("producer", () -> {
                Random random = new Random(7);
                for (int i = 0; i < count; i++) {
                    if (ch.trySend(i, Duration.ofNanos(random.nextInt(200_000)))) {
                        delivered.add(i);
                    }
                }
                done.set(true);
                return null;
            });
            Coroutine.withTimeout(GUARD, () -> Peer.awaitUnwrapped(producer));
            Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(consumers.toArray(CompletableFuture[]::new))));
        }
        assertThat(List.copyOf(received)).as("each value whose trySend said so, once, and no other")
                .containsExactlyInAnyOrderElementsOf(delivered);
    }

    @Test
    @Timeout(60)
    void sendsAndReceivesAcrossThreadsCutShortByWithTimeoutEachEitherMovedTheirValueOrLeftItWhereItWas() {
        int count = 400;
        Channel<Integer> ch = new Channel<>("ch", 1);
        ConcurrentLinkedQueue<Integer> sent = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Integer> received = new ConcurrentLinkedQueue<>();
        AtomicBoolean done = new AtomicBoolean();
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            List<CompletableFuture<Void>> receivers = new ArrayList<>();
            for (int b = 0; b < 2; b++) {
                long seed = b;
                receivers.add(pool.submit(() -> {
                    Random random = new Random(seed);
                    for (int i = 0; i < 1_000_000 && !done.get(); i++) {
                        try {
                            Coroutine.withTimeout(Duration.ofNanos(1 + random.nextInt(200_000)), () -> {
                                received.add(ch.receive()); // only once the receive returned
                            });
                        } catch (CoroutineTimeoutException e) {
                            // it took nothing, or what it took is in received
                        }
                    }
                    return null;
                }));
            }
            CompletableFuture<Void> producer = Peer.start("producer", () -> {
                Random random = new Random(7);
                for (int i = 0; i < count; i++) {
                    int v = i;
                    try {
                        Coroutine.withTimeout(Duration.ofNanos(1 + random.nextInt(200_000)), () -> {
                            ch.send(v);
                            sent.add(v); // only once the send returned
                        });
                    } catch (CoroutineTimeoutException e) {
                        // it delivered nothing, or what it delivered is in sent
                    }
                }
                done.set(true);
                return null;
            });
            Coroutine.withTimeout(GUARD, () -> Peer.awaitUnwrapped(producer));
            Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(receivers.toArray(CompletableFuture[]::new))));
        }
        ch.close();
        List<Integer> all = new ArrayList<>(received);
        for (int v : ch) {
            all.add(v);
        }
        assertThat(all).as("every value whose send returned, once (received or left buffered), and no other")
                .containsExactlyInAnyOrderElementsOf(sent);
    }

    /**
     * Sends {@code v}, {@code v + 1} … until the channel refuses one, noting each value whose send returned and the
     * refusal's message with the caller's name and thread cut out (the values of one sender are unique).
     */
    private static void sendUntilClosed(Channel<Integer> ch, int first, ConcurrentLinkedQueue<Integer> sent,
            ConcurrentLinkedQueue<String> refusals, String caller, CountDownLatch started) {
        for (int v = first; v < first + 100_000; v++) {
            try {
                ch.send(v);
            } catch (ChannelClosedException e) {
                refusals.add(e.getMessage().replace(caller, "<caller>"));
                return;
            }
            sent.add(v);
            started.countDown();
        }
        throw new AssertionError("never closed");
    }

    @Test
    @Timeout(60)
    void aCloseFromAThirdThreadAmidSendsAndLoopsOfFourThreadsRefusesEachSenderOnceAndEveryValueSentIsReceivedOnce() throws Exception {
        Channel<Integer> ch = new Channel<>("ch", 2);
        ConcurrentLinkedQueue<Integer> sent = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Integer> received = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<String> refusals = new ConcurrentLinkedQueue<>();
        CountDownLatch started = new CountDownLatch(200);
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            List<CompletableFuture<Void>> all = new ArrayList<>();
            for (int b = 0; b < 2; b++) {
                int first = 1_000_000 * (b + 1);
                all.add(pool.submit(() -> {
                    String caller = "coroutine 'sender'" + " of " + thread(Peer.schedulerThread());
                    Coroutine sender = Coroutine.create("sender", () -> sendUntilClosed(ch, first, sent, refusals, caller, started));
                    for (int v : ch) {
                        received.add(v);
                    }
                    sender.join();
                    return null;
                }));
            }
            all.add(Peer.start("plain", () -> {
                String caller = "coroutine 'sender'" + " of " + thread(Thread.currentThread());
                Coroutine sender = Coroutine.create("sender", () -> sendUntilClosed(ch, 3_000_000, sent, refusals, caller, started));
                for (int v : ch) {
                    received.add(v);
                }
                sender.join();
                return null;
            }));
            Coroutine local = Coroutine.create("sender", () -> sendUntilClosed(ch, 0, sent, refusals, "coroutine 'sender'", started));
            CompletableFuture<Void> closer = Peer.start("closer", () -> {
                await(started);
                ch.close();
                return null;
            });
            Coroutine.withTimeout(GUARD, () -> Peer.awaitUnwrapped(closer));
            Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))));
            Coroutine.withTimeout(GUARD, local::join);
        }
        assertThat(List.copyOf(received)).as("every value whose send returned, once, and no other")
                .containsExactlyInAnyOrderElementsOf(sent);
        // on the channel's thread a send finding it closed says what one of another thread says (SEMANTICS)
        assertThat(refusals).hasSize(4).allSatisfy(m -> assertThat(m).isIn(
                "<caller> cannot send to channel 'ch' (closed): a closed channel takes no more values, and the value was not delivered",
                "<caller> cannot send to channel 'ch' (closed): the channel was closed while it waited, and the value was not"
                        + " delivered"));
    }

    @Test
    @Timeout(60)
    void waitersOfAPlainThreadOnAChannelOfAPoolThreadThatEndsAreRefusedNamingThemselvesAndTheEndedThread() {
        CoroutinePool pool = CoroutinePool.start(1);
        Channel<Integer> p;
        Channel<Integer> q;
        Thread poolThread;
        try {
            p = Coroutine.await(pool.submit(() -> new Channel<Integer>("p", 0)));
            q = Coroutine.await(pool.submit(() -> new Channel<Integer>("q", 0)));
            poolThread = Coroutine.await(pool.submit(Peer::schedulerThread));
        } catch (Throwable e) {
            PoolsClosed.close(pool);
            throw e;
        }
        CountDownLatch parked = new CountDownLatch(1);
        CompletableFuture<List<String>> waiters = Peer.start("waiter", () -> {
            List<String> seen = new ArrayList<>();
            seen.add(thread(Thread.currentThread()));
            Coroutine r = Coroutine.create("r", () -> seen.add(messageOf(IllegalStateException.class, p::receive)));
            Coroutine s = Coroutine.create("s", () -> seen.add(messageOf(IllegalStateException.class, () -> q.send(1))));
            Coroutine.yield(); // both wait for the pool's thread
            parked.countDown();
            Coroutine.withTimeout(GUARD, r::join);
            Coroutine.withTimeout(GUARD, s::join);
            return seen;
        });
        await(parked);
        PoolsClosed.close(pool);
        List<String> seen = Coroutine.withTimeout(GUARD, () -> Peer.awaitUnwrapped(waiters));
        String of = " of " + seen.getFirst();
        String ended = ": it belongs to " + thread(poolThread) + ", which has ended";
        assertThat(seen.subList(1, 3)).containsExactlyInAnyOrder(
                "coroutine 'r'" + of + " cannot receive from channel 'p' (open)" + ended,
                "coroutine 's'" + of + " cannot send to channel 'q' (open)" + ended);
    }

    @Test
    @Timeout(60)
    void sendersParkedOnAFullChannelOfAPoolThreadThatEndsAreRefusedAndOnlyTheBufferedValuesAreReceivedOnce() {
        CoroutinePool pool = CoroutinePool.start(1);
        Channel<Integer> p;
        Thread poolThread;
        try {
            p = Coroutine.await(pool.submit(() -> {
                Channel<Integer> c = new Channel<>("p", 2);
                c.send(1);
                c.send(2);
                return c;
            }));
            poolThread = Coroutine.await(pool.submit(Peer::schedulerThread));
        } catch (Throwable e) {
            PoolsClosed.close(pool);
            throw e;
        }
        CountDownLatch parked = new CountDownLatch(1);
        CompletableFuture<List<String>> senders = Peer.start("senders", () -> {
            List<String> seen = new ArrayList<>();
            seen.add(thread(Thread.currentThread()));
            Coroutine a = Coroutine.create("a", () -> seen.add(messageOf(IllegalStateException.class, () -> p.send(10))));
            Coroutine b = Coroutine.create("b", () -> seen.add(messageOf(IllegalStateException.class, () -> p.send(11))));
            Coroutine.yield(); // both wait for room, posted to the pool's thread or queued in place
            parked.countDown();
            Coroutine.withTimeout(GUARD, a::join);
            Coroutine.withTimeout(GUARD, b::join);
            return seen;
        });
        await(parked);
        PoolsClosed.close(pool);
        List<String> seen = Coroutine.withTimeout(GUARD, () -> Peer.awaitUnwrapped(senders));
        String ended = "channel 'p' (open): it belongs to " + thread(poolThread) + ", which has ended";
        String of = " of " + seen.getFirst();
        assertThat(seen.subList(1, 3)).containsExactlyInAnyOrder(
                "coroutine 'a'" + of + " cannot send to " + ended,
                "coroutine 'b'" + of + " cannot send to " + ended);
        List<Integer> got = new ArrayList<>();
        got.add(Peer.call("receiver", p::receive));
        got.add(p.receive());
        assertThat(got).as("the values buffered before the end, once each, in order; neither refused sender's").containsExactly(1, 2);
        assertThat(messageOf(IllegalStateException.class, p::tryReceive)).isEqualTo("main context 'main' of " + thread(Thread.currentThread())
                + " cannot tryReceive from " + ended);
    }

    @Test
    @Timeout(60)
    void callsOfAnotherThreadAnsweredWithoutTheChannelsThreadLeaveThatThreadsDeadlockReportedExactly() throws Exception {
        Channel<Integer> done = new Channel<>("done", 1);
        done.close();
        Channel<Integer> open = new Channel<>("open", 1);
        List<String> seen = new ArrayList<>();
        // joined outside coro: this thread neither awaits nor serves anything meanwhile
        Throwable thrown = OtherThread.thrownOn("other", () -> {
            seen.add(thread(Thread.currentThread()));
            seen.add("trySend " + done.trySend(1));
            seen.add("timed trySend " + done.trySend(1, Duration.ofSeconds(1)));
            seen.add(messageOf(ChannelClosedException.class, () -> done.send(2)));
            done.close();
            seen.add("size " + open.size() + ", closed " + open.isClosed() + ", cause " + open.closeCause());
        });
        assertThat(thrown).isNull();
        String other = seen.removeFirst();
        // a thread that has never used coro is named as a thread: no scheduler is made for a refusal
        assertThat(seen).containsExactly("trySend false", "timed trySend false",
                other + " cannot send to channel 'done' (closed): a closed channel takes no more"
                        + " values, and the value was not delivered",
                "size 0, closed false, cause Optional.empty");
        Coroutine stuck = Coroutine.create("stuck", () -> open.receive());
        Coroutine.yield();
        String report = messageOf(DeadlockException.class, () -> new Channel<Integer>("empty", 0).receive());
        assertThat(report).isEqualTo("main context 'main' cannot receive from channel 'empty': every other context of "
                + thread(Thread.currentThread()) + " is parked and no timer is pending, so nothing could ever wake it (deadlock):\n"
                + "  main context 'main' would wait to receive from channel 'empty'\n"
                + "  coroutine 'stuck' waits to receive from channel 'open'");
        stuck.close();
    }

    @Test
    @Timeout(60)
    void twoLiveThreadsEachWithCoroutinesParkedOnlyOnTheirOwnChannelsEachReportTheirOwnDeadlockExactly() throws Exception {
        CountDownLatch otherReported = new CountDownLatch(1);
        CountDownLatch mineReported = new CountDownLatch(1);
        Channel<Integer> mine = new Channel<>("mine", 0);
        Coroutine stuck = Coroutine.create("stuck", () -> new Channel<Integer>("never", 0).receive());
        Coroutine.yield();
        CompletableFuture<String> other = Peer.start("other", () -> {
            Coroutine.create("their-stuck", () -> new Channel<Integer>("nothing", 0).send(1));
            Coroutine.yield();
            String report = messageOf(DeadlockException.class, () -> new Channel<Integer>("empty", 0).receive());
            otherReported.countDown();
            await(mineReported); // alive, blocked outside coro, while the test's thread reports
            return report;
        });
        await(otherReported);
        String report = messageOf(DeadlockException.class, mine::receive);
        mineReported.countDown();
        String them = other.get();
        Thread me = Thread.currentThread();
        assertThat(report).isEqualTo("main context 'main' cannot receive from channel 'mine': every other context of "
                + thread(me) + " is parked and no timer is pending, so nothing could ever wake it (deadlock):\n"
                + "  main context 'main' would wait to receive from channel 'mine'\n"
                + "  coroutine 'stuck' waits to receive from channel 'never'");
        assertThat(them).matches("main context 'main' cannot receive from channel 'empty': every other context of"
                + " thread 'other' \\(#\\d+\\) is parked and no timer is pending, so nothing could ever wake it \\(deadlock\\):\n"
                + "  main context 'main' would wait to receive from channel 'empty'\n"
                + "  coroutine 'their-stuck' waits to send to channel 'nothing'");
        stuck.close();
    }

    /** The message of the {@code type} exception {@code op} throws, or {@code no exception}; any other passes on. */
    private static String messageOf(Class<? extends RuntimeException> type, Runnable op) {
        try {
            op.run();
            return "no exception";
        } catch (RuntimeException e) {
            if (!type.isInstance(e)) {
                throw e;
            }
            return e.getMessage();
        }
    }
}
