package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A channel that nothing sends to does not keep the threads that ended with coroutines parked on it:
 * thread after thread returning with a receive and a select's {@code onReceive} parked in a shared
 * channel of this thread leaves at most a bounded number of waiters queued there, the schedulers of
 * the ended threads (their coroutines, their stacks) become unreachable while the channel lives, and a
 * waiter of a thread still alive stays queued and is handed the next value.
 */
@ExtendWith(FreshThread.class)
class WaitersOfEndedThreadsSweptTest {

    /** How many threads end leaving waiters on the channel. */
    private static final int THREADS = 100;

    /**
     * Runs a plain thread that parks a coroutine in {@code ch.receive()} and another in a select's
     * {@code onReceive} of it (each queued in place: the channel is shared), then returns with both
     * parked; returns a weak reference to that thread's scheduler once the thread has ended.
     */
    private static WeakReference<Scheduler> endsWithTwoWaitersOn(Channel<Integer> ch, int k) throws InterruptedException {
        AtomicReference<WeakReference<Scheduler>> ref = new AtomicReference<>();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("leaver-" + k).start(() -> {
            try {
                ref.set(new WeakReference<>(Scheduler.current()));
                Coroutine receiver = Coroutine.create("receiver", ch::receive);
                Coroutine selector = Coroutine.create("selector", () -> new Select<Integer>().onReceive(ch, v -> v).select());
                while (receiver.state() != Coroutine.State.PARKED || selector.state() != Coroutine.State.PARKED) {
                    Coroutine.yield();
                }
            } catch (Throwable e) {
                failed.set(e);
            }
        }); // main returns with both parked: the thread ends
        t.join();
        assertThat(failed.get()).isNull();
        return ref.get();
    }

    @Test
    @Timeout(60)
    void threadsThatEndedWithWaitersParkedOnAChannelNothingSendsToAreNotKeptByIt() throws InterruptedException {
        Channel<Integer> ch = new Channel<>("notices", 0);
        Peer.run("sharer", () -> assertThat(ch.tryReceive()).isEmpty()); // shared: other threads queue in place
        CountDownLatch queued = new CountDownLatch(1);
        CompletableFuture<Integer> live = Peer.start("live", () -> {
            AtomicReference<Integer> got = new AtomicReference<>();
            Coroutine receiver = Coroutine.create("live-receiver", () -> got.set(ch.receive()));
            while (receiver.state() != Coroutine.State.PARKED) {
                Coroutine.yield();
            }
            queued.countDown();
            receiver.join();
            return got.get();
        });
        assertThat(queued.await(30, TimeUnit.SECONDS)).isTrue();
        List<WeakReference<Scheduler>> ended = new ArrayList<>();
        for (int k = 0; k < THREADS; k++) {
            ended.add(endsWithTwoWaitersOn(ch, k));
        }
        assertThat(QueuedWaiters.of(ch, "receivers")).as("the live waiter and at most the ended ones since the last sweep")
                .isBetween(1, 16);
        assertThat(Collected.all(ended.subList(0, THREADS - 8)))
                .as("the schedulers of the ended threads, all but those of the last few, while the channel lives").isTrue();
        ch.send(7);
        assertThat(Coroutine.await(live)).as("the waiter of the thread still alive is handed the value").isEqualTo(7);
        assertThat(ch.trySend(8)).as("no other receiver that can ever run waits").isFalse();
        assertThat(QueuedWaiters.of(ch, "receivers")).isZero();
        assertThat(Collected.all(ended)).isTrue();
        assertThat(ch.isClosed()).isFalse();
    }
}
