package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * When a channel becomes shared, the waits of its thread queued on it start counting as waits another
 * thread may complete; another thread running its operations in place at that moment must not cut
 * that short (the channel's thread flips and counts under the lock). Without the lock this failed
 * about once in a hundred runs of 20,000 waiters.
 */
@ExtendWith(FreshThread.class)
class SharedFlipCountTest {

    @RepeatedTest(3)
    void everyWaiterStillQueuedAfterTheFlipCounts() throws Exception {
        int n = Integer.getInteger("flip.n", 10_000);
        Channel<Integer> ch = new Channel<>("ch", 0);
        List<Coroutine> rs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            rs.add(Coroutine.create("r" + i, () -> ch.receive()));
        }
        Coroutine.yield(); // all park
        int sends = 200;
        Thread g = Thread.ofPlatform().start(() -> {
            long guard = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!ch.isSharedInPlace() && System.nanoTime() < guard) {
                Thread.onSpinWait();
            }
            for (int i = 0; i < sends; i++) {
                ch.trySend(i); // in place: completes the head receiver
            }
        });
        Peer.run("sharer", () -> assertThat(ch.trySend(-1)).isTrue()); // posted: serve() flips
        g.join(20_000);
        int uncounted = 0;
        for (Coroutine c : rs) {
            ChannelWaiter<?> w = c.context.channelWaiter;
            if (w != null && w.queued && !w.countedAsForeign) {
                uncounted++;
            }
        }
        // lets them all end
        for (int i = 0; i < n; i++) {
            ch.trySend(i);
        }
        for (int k = 0; k < 3; k++) {
            Coroutine.yield();
        }
        assertThat(uncounted).as("queued waiters of this thread not counted as foreign after the flip").isZero();
    }
}
