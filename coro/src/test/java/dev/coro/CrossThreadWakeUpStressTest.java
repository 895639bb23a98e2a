package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.HashSet;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The wake-up of a wait that another thread completes, under load: the completer posts the wait
 * itself to the waiter's inbox, and the waiter's idle spin may take the completion in before that
 * post arrives, so that the waiter's next wait begins while the post of its last one is still in
 * the inbox. No wake-up is lost (nothing hangs), no post wakes a later wait of its context, no wait
 * is in an inbox twice, and every value is received exactly once, also when the waits are cut short
 * by timeouts and by closes of the waiting coroutine.
 */
@ExtendWith(FreshThread.class)
class CrossThreadWakeUpStressTest {

    /** Values each sender hands over. */
    private static final int VALUES = 4_000;
    /** A guard against a hang, not a performance threshold. */
    private static final Duration GUARD = Duration.ofSeconds(60);

    /** Shares {@code ch}: one operation of another thread, which this thread serves while it awaits it. */
    private static void share(Channel<?> ch) {
        Peer.run("sharer", () -> assertThat(ch.tryReceive()).isEmpty());
    }

    /**
     * A plain thread that sends {@code first .. first + count - 1} to {@code ch} in order, each in
     * place on the shared channel: with {@code timed}, by {@code trySend} with a timeout of a few
     * microseconds, again until it is sent (a send that timed out delivered nothing).
     */
    private static CompletableFuture<Void> sender(String name, Channel<Integer> ch, int first, int count, boolean timed,
                                                  long seed) {
        return Peer.start(name, () -> {
            SplittableRandom random = new SplittableRandom(seed);
            for (int v = first; v < first + count; v++) {
                if (timed) {
                    while (!ch.trySend(v, Duration.ofNanos(1_000 + random.nextInt(40_000)))) {
                        assertThat(ch.isClosed()).as(name + " sending " + v).isFalse();
                    }
                } else {
                    ch.send(v);
                }
            }
            return null;
        });
    }

    /**
     * Main alone parks on two shared rendezvous channels in turn, each filled in place by a plain
     * thread of its own: every wait of main is completed by another thread, and with nothing else to
     * run, main's idle spin watches it and wakes main before the post arrives; main's next wait, on
     * the other channel, then begins while that post is still on its way. Each channel's values come
     * in the order they were sent, none missing and none twice, and no receive fails.
     */
    @Test
    void waitsWokenBeforeTheirPostsArriveReceiveEveryValueInOrderAndNoPostWakesALaterWait() {
        alternate(false);
    }

    /**
     * The same with every operation timed: main's receives by {@code tryReceive} with a timeout of a
     * few microseconds, the senders' by {@code trySend} with one, again until sent; so a timer, an
     * interruption and another thread's completion race for most waits on both sides.
     */
    @Test
    void timedWaitsOnBothSidesWokenBeforeTheirPostsArriveLoseAndRepeatNoValue() {
        alternate(true);
    }

    private static void alternate(boolean timed) {
        List<Channel<Integer>> channels = List.of(new Channel<>("a", 0), new Channel<>("b", 0));
        channels.forEach(CrossThreadWakeUpStressTest::share);
        List<CompletableFuture<Void>> senders = new ArrayList<>();
        for (int i = 0; i < channels.size(); i++) {
            senders.add(sender("sender-" + i, channels.get(i), 0, VALUES, timed, i));
        }
        int[] next = new int[channels.size()];
        int[] timedOut = new int[1];
        SplittableRandom random = new SplittableRandom(7);
        Coroutine.withTimeout(GUARD, () -> {
            while (next[0] < VALUES || next[1] < VALUES) {
                for (int i = 0; i < channels.size(); i++) {
                    if (next[i] == VALUES) {
                        continue;
                    }
                    Channel<Integer> ch = channels.get(i);
                    Optional<Integer> v = timed ? ch.tryReceive(Duration.ofNanos(1_000 + random.nextInt(40_000)))
                            : Optional.of(ch.receive());
                    if (v.isEmpty()) {
                        timedOut[0]++;
                        continue;
                    }
                    assertThat(v.get()).as("value %d of %s", next[i], ch).isEqualTo(next[i]);
                    next[i]++;
                }
            }
        });
        for (CompletableFuture<Void> s : senders) {
            Peer.awaitUnwrapped(s);
        }
        for (Channel<Integer> ch : channels) {
            assertThat(ch.tryReceive()).as("nothing left in " + ch).isEmpty();
        }
        System.out.printf("[wake-up%s] %d values on each of 2 channels, %d receives timed out (engine %s)%n",
                timed ? ", timed" : "", VALUES, timedOut[0], Engines.running());
    }

    /**
     * Main closes the coroutine receiving from a shared rendezvous channel again and again, at random
     * moments (often while its wait has just been completed by another thread, the wake-up still on its
     * way), and starts another; two plain threads send in place, one of them by timed {@code trySend},
     * and a third plain thread receives in place by timed {@code tryReceive}, competing with the
     * coroutines. A value handed to a receiver that is closed before it wakes goes back to the channel:
     * every value sent is received exactly once, on this thread or the other.
     */
    @Test
    void receiversClosedWhileAnotherThreadCompletesThemLoseAndRepeatNoValue() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        share(ch);
        int total = 2 * VALUES;
        AtomicIntegerArray received = new AtomicIntegerArray(total);
        AtomicInteger count = new AtomicInteger();
        List<CompletableFuture<Void>> peers = new ArrayList<>();
        peers.add(sender("sender-0", ch, 0, VALUES, false, 1));
        peers.add(sender("sender-1", ch, VALUES, VALUES, true, 2));
        peers.add(Peer.start("receiver", () -> {
            SplittableRandom random = new SplittableRandom(3);
            while (count.get() < total) {
                ch.tryReceive(Duration.ofNanos(1_000 + random.nextInt(20_000))).ifPresent(v -> {
                    received.incrementAndGet(v);
                    count.incrementAndGet();
                });
            }
            return null;
        }));
        SplittableRandom random = new SplittableRandom(4);
        int[] closes = new int[1];
        Coroutine.withTimeout(GUARD, () -> {
            while (count.get() < total) {
                Coroutine r = Coroutine.create("receiver-" + closes[0], () -> {
                    while (count.get() < total) {
                        Optional<Integer> v = ch.tryReceive(Duration.ofMillis(1));
                        v.ifPresent(x -> {
                            received.incrementAndGet(x);
                            count.incrementAndGet();
                        });
                    }
                });
                for (int k = random.nextInt(4); k >= 0; k--) {
                    Coroutine.yield();
                }
                r.close();
                closes[0]++;
            }
        });
        for (CompletableFuture<Void> p : peers) {
            Peer.awaitUnwrapped(p);
        }
        assertThat(ch.tryReceive()).as("nothing left in the channel").isEmpty();
        List<String> wrong = new ArrayList<>();
        for (int v = 0; v < total && wrong.size() < 10; v++) {
            if (received.get(v) != 1) {
                wrong.add("value " + v + " received " + received.get(v) + " times");
            }
        }
        assertThat(wrong).as("every value received exactly once").isEmpty();
        System.out.printf("[wake-up, closes] %d values, %d receivers closed (engine %s)%n", total, closes[0],
                Engines.running());
    }

    /**
     * A pool thread ends while two plain threads still operate in place on its shared channel (capacity
     * 2), by {@code trySend} and {@code tryReceive} with timeouts of a few microseconds, until their
     * calls fail because the thread has ended; until then a coroutine of the pool thread receives too,
     * woken by the other threads' posts or by its idle spin's watch. Whatever the end interrupts, no
     * value is lost or repeated: the values sent are exactly those received plus those the ended
     * thread's channel still buffers, and a send that timed out or failed delivered nothing.
     */
    @Test
    void aPoolThreadThatEndsWhileOtherThreadsOperateOnItsChannelLosesAndRepeatsNoValue() throws Exception {
        Queue<Integer> received = new ConcurrentLinkedQueue<>();
        Set<Integer> sentOk = ConcurrentHashMap.newKeySet();
        Set<Integer> notSent = ConcurrentHashMap.newKeySet();
        AtomicBoolean stop = new AtomicBoolean();
        CompletableFuture<Channel<Integer>> made = new CompletableFuture<>();
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<Thread> body;
        CompletableFuture<Void> sender;
        CompletableFuture<Void> receiver;
        try {
            body = pool.submit(() -> {
                Channel<Integer> x = new Channel<>("x", 2);
                made.complete(x);
                SplittableRandom random = new SplittableRandom(5);
                while (!stop.get()) {
                    x.tryReceive(Duration.ofNanos(1_000 + random.nextInt(20_000))).ifPresent(received::add);
                }
                return Peer.schedulerThread();
            });
            Channel<Integer> x = Peer.awaitUnwrapped(made);
            sender = Peer.start("sender", () -> {
                SplittableRandom random = new SplittableRandom(6);
                for (int v = 0; ; v++) {
                    boolean sent;
                    try {
                        sent = x.trySend(v, Duration.ofNanos(1_000 + random.nextInt(20_000)));
                    } catch (IllegalStateException e) {
                        assertThat(e).hasMessageContaining("has ended");
                        notSent.add(v);
                        return null;
                    }
                    (sent ? sentOk : notSent).add(v);
                    if (sentOk.size() == VALUES) {
                        stop.set(true); // the pool's body returns, and the pool closes while this goes on
                    }
                }
            });
            receiver = Peer.start("receiver", () -> {
                SplittableRandom random = new SplittableRandom(7);
                while (true) {
                    try {
                        x.tryReceive(Duration.ofNanos(1_000 + random.nextInt(20_000))).ifPresent(received::add);
                    } catch (IllegalStateException e) {
                        assertThat(e).hasMessageContaining("has ended");
                        return null;
                    }
                }
            });
            Coroutine.withTimeout(GUARD, () -> Peer.awaitUnwrapped(body));
        } finally {
            stop.set(true);
            Coroutine.withTimeout(GUARD, pool::close);
        }
        assertThat(body.join().isAlive()).as("the pool thread has ended").isFalse();
        Coroutine.withTimeout(GUARD, () -> {
            Peer.awaitUnwrapped(sender);
            Peer.awaitUnwrapped(receiver);
        });
        Channel<Integer> x = made.join();
        Field f = Channel.class.getDeclaredField("buffer");
        f.setAccessible(true);
        Fifo<?> buffer = (Fifo<?>) f.get(x); // its thread has ended: nobody else takes from it
        List<Integer> left = new ArrayList<>();
        for (Object v; (v = buffer.poll()) != null; ) {
            left.add((Integer) v);
        }
        List<Integer> all = new ArrayList<>(received);
        all.addAll(left);
        assertThat(all).as("values received, and left in the ended thread's channel").doesNotHaveDuplicates();
        assertThat(new HashSet<>(all)).as("values received, and left in the ended thread's channel").isEqualTo(sentOk);
        System.out.printf("[wake-up, pool end] %d values sent, %d not sent, %d left in the channel (engine %s)%n",
                sentOk.size(), notSent.size(), left.size(), Engines.running());
    }
}
