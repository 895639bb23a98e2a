package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A buffered channel closed with a cause gives that cause to the contexts of other threads as to its own: a
 * pool coroutine whose send waits on the full buffer fails with it, and a plain thread that drains the channel of
 * a pool thread that closed it and ended takes the values left, in order, then has its loop, and every later
 * refusal, throw the {@link ChannelClosedException} with that cause, naming the caller and its thread.
 */
@ExtendWith(FreshThread.class)
class ClosedWithACauseAcrossThreadsTest {

    private static final Duration GUARD = Duration.ofSeconds(30);

    /** The caller's thread as refusals name a caller of another thread than the channel's. */
    private static String ofThisThread() {
        return " of thread " + Scheduler.describe(Scheduler.current().owner);
    }

    @Test
    @Timeout(60)
    void aPoolCoroutineWaitingOnTheFullBufferFailsWithTheCauseAndTheBufferedValueStays() {
        Channel<Integer> ch = new Channel<>("ch", 1);
        Peer.run("sharer", () -> assertThat(ch.trySend(0)).isTrue()); // shared, and the buffer full
        IllegalStateException cause = new IllegalStateException("producer failed");
        List<Object> seen;
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            CompletableFuture<Void> parked = new CompletableFuture<>();
            CompletableFuture<List<Object>> there = pool.submit(() -> {
                CompletableFuture<Throwable> outcome = new CompletableFuture<>();
                Coroutine.create("pool-sender", () -> {
                    try {
                        ch.send(1);
                        outcome.complete(null);
                    } catch (ChannelClosedException e) {
                        outcome.complete(e);
                    }
                });
                Coroutine.yield(); // it waits in the channel's queue, put there in place
                parked.complete(null);
                return List.of(ofThisThread(), Coroutine.await(outcome));
            });
            Coroutine.await(parked);
            ch.close(cause);
            seen = Coroutine.withTimeout(GUARD, () -> Coroutine.await(there));
        }
        assertThat((Throwable) seen.get(1)).isInstanceOf(ChannelClosedException.class)
                .hasMessage("coroutine 'pool-sender'" + seen.get(0) + " cannot send to channel 'ch' (closed): the channel was closed"
                        + " while it waited, and the value was not delivered")
                .hasCause(cause);
        assertThat(ch.size()).isEqualTo(1);
        assertThat(ch.receive()).as("the value buffered before the close, not the waiting sender's").isZero();
        assertThat(ch.tryReceive()).isEmpty();
    }

    @Test
    @Timeout(60)
    void aPlainThreadDrainsTheChannelOfAPoolThreadThatClosedItWithACauseAndEndedThenMeetsTheCause() {
        IllegalStateException cause = new IllegalStateException("producer failed");
        Channel<Integer> ch;
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            ch = pool.submit(() -> {
                Channel<Integer> c = new Channel<>("results", 4);
                c.send(1);
                c.send(2);
                c.send(3);
                c.close(cause);
                return c;
            }).join();
        }
        List<String> seen = Peer.call("plain", () -> {
            List<String> s = new ArrayList<>();
            s.add(ofThisThread());
            s.add("size " + ch.size() + ", closed " + ch.isClosed());
            try {
                for (int v : ch) {
                    s.add("got " + v);
                }
                s.add("the loop ended");
            } catch (ChannelClosedException e) {
                s.add(e.getMessage() + " / the cause: " + (e.getCause() == cause));
            }
            try {
                ch.send(4);
            } catch (ChannelClosedException e) {
                s.add(e.getMessage() + " / the cause: " + (e.getCause() == cause));
            }
            s.add("try calls: " + ch.tryReceive() + ", " + ch.tryReceive(Duration.ofSeconds(1)) + ", " + ch.trySend(5) + ", "
                    + ch.trySend(5, Duration.ofSeconds(1)));
            ch.close(new IllegalStateException("a later close"));
            s.add("the cause kept: " + (ch.closeCause().orElseThrow() == cause) + ", size " + ch.size());
            return s;
        });
        String of = seen.getFirst();
        assertThat(of).startsWith(" of thread 'plain' (#");
        assertThat(seen.subList(1, seen.size())).containsExactly(
                "size 3, closed true",
                "got 1", "got 2", "got 3",
                "main context 'main'" + of + " cannot iterate over channel 'results' (closed): no value is left in it, and none can"
                        + " come / the cause: true",
                "main context 'main'" + of + " cannot send to channel 'results' (closed): a closed channel takes no more values, and"
                        + " the value was not delivered / the cause: true",
                "try calls: Optional.empty, Optional.empty, false, false",
                "the cause kept: true, size 0");
    }
}
