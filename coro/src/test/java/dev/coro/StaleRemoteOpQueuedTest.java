package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * On a shared channel a select waits on, another thread's timed receive is posted. If it times out
 * before the channel's thread runs the post, its withdrawal finds nothing to take out of the queue;
 * the channel's thread, running the post later, must then leave the timed-out operation out of the
 * queue instead of keeping it there until some send polls it out.
 */
@ExtendWith(FreshThread.class)
class StaleRemoteOpQueuedTest {

    @Test
    void aTimedOutPostedReceiveIsNotQueuedAfterItsWithdraw() throws Exception {
        Channel<Integer> ch = new Channel<>("ch", 0);
        CompletableFuture<Void> shared = new CompletableFuture<>();
        CountDownLatch go = new CountDownLatch(1);
        CountDownLatch timedOut = new CountDownLatch(1);
        CompletableFuture<Optional<Integer>> got = new CompletableFuture<>();
        Thread peer = Thread.ofPlatform().name("peer").start(() -> {
            try {
                ch.tryReceive(); // posted, served while the channel's thread awaits: shared
                shared.complete(null);
                assertThat(go.await(30, TimeUnit.SECONDS)).isTrue();
                got.complete(ch.tryReceive(Duration.ofMillis(5))); // posted (selected); times out unserved
                timedOut.countDown();
            } catch (Throwable t) {
                got.completeExceptionally(t);
                timedOut.countDown();
            }
        });
        Coroutine.await(shared);
        Coroutine selector = Coroutine.create("selector", () -> new Select<String>().onReceive(ch, v -> "got")
                .onTimeout(Duration.ofHours(1), () -> "timeout").select());
        Coroutine.yield(); // the selector waits on the channel: other threads post meanwhile
        assertThat(selector.state()).isEqualTo(Coroutine.State.PARKED);
        assertThat(ch.isSharedInPlace()).isFalse();
        go.countDown();
        assertThat(timedOut.await(30, TimeUnit.SECONDS)).isTrue(); // this thread runs no scheduling point meanwhile
        assertThat(got.join()).isEmpty();
        Coroutine.yield(); // runs the post of the timed-out receive
        peer.join();
        selector.close(); // its clause leaves the receivers
        assertThat(ch.isSharedInPlace()).as("no select looks at it any more").isTrue();
        assertThat(QueuedWaiters.of(ch, "receivers")).as("an interrupted operation left in the receivers").isZero();
    }
}
