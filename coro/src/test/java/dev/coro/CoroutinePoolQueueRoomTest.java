package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A pool thread's queue of bodies waiting to start gives back the room a burst of submissions took once
 * they have all started, as a channel's buffer does: a burst that reached the thread while it was busy
 * does not leave it holding an array of the burst's size for as long as the pool lives. Checked on the
 * queue's room itself, which no figure of the heap can show once an earlier burst has grown it.
 */
class CoroutinePoolQueueRoomTest {

    @Test
    @Timeout(60)
    void aBurstQueuedWhileThePoolThreadWasBusyLeavesItsQueueNoMoreRoomThanItKeepsOnceEveryBodyStarted() {
        int burst = 8 * Fifo.KEPT_ROOM;
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            assertThat(pool.submit(() -> pool.waitingRoom(0)).join()).as("the room of a queue no burst reached")
                    .isLessThanOrEqualTo(Fifo.KEPT_ROOM);
            for (int round = 0; round < 2; round++) {
                CountDownLatch held = new CountDownLatch(1);
                CompletableFuture<Integer> holding = pool.submit(() -> {
                    try {
                        held.await(); // blocks the pool thread: the burst queues up meanwhile
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                    return 0;
                });
                CompletableFuture<Integer> last = null;
                for (int i = 0; i < burst; i++) {
                    int value = i;
                    last = pool.submit(() -> value);
                }
                held.countDown();
                assertThat(holding.join()).isZero();
                assertThat(last.join()).isEqualTo(burst - 1);
                assertThat(pool.submit(() -> pool.waitingRoom(0)).join())
                        .as("the room of the queue after burst %d of %d submissions", round + 1, burst)
                        .isLessThanOrEqualTo(Fifo.KEPT_ROOM);
            }
        }
    }
}
