package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A producer on one pool thread that only sends, to a rendezvous channel of a consumer on another pool thread that
 * yields twice after each receive: every value arrives once and in order, each thread's other coroutine (a sibling
 * that yields until its partner is done) runs meanwhile, the consumer's at each of its yields, and both siblings end.
 *
 * <p>On the thread engine each sibling runs on a virtual thread, which the JDK never preempts: a sibling whose
 * partner waits for the other thread yields with nothing else of its thread to run, so it keeps running, and holds
 * its carrier until its thread's post comes, which only the other pool thread's coroutines, on virtual threads too,
 * can make. With one carrier (a one-core machine) they never run: the test needs two there, and is skipped with one.
 */
@ExtendWith(FreshThread.class)
class PoolProducerAndYieldingConsumerTest {

    /** Values the producer sends. */
    private static final int VALUES = 50;

    /** What one pool body saw: the thread it ran on, and how many turns its sibling had. */
    private record Side(String thread, int siblingTurns) {
    }


    /** Creates a sibling that counts its turns, yielding each time, until {@code done[0]}; returns its counter. */
    private static int[] sibling(String name, boolean[] done) {
        int[] turns = {0};
        Coroutine.create(name, () -> {
            while (!done[0]) {
                turns[0]++;
                Coroutine.yield();
            }
        });
        return turns;
    }

    @Test
    @Timeout(30)
    void everyValueArrivesInOrderAndEachThreadsSiblingRunsMeanwhile() {
        Carriers.assumeASecondOnTheThreadEngine("a sibling yielding with nothing else to run keeps its carrier; the other pool thread's coroutines need one");
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            CompletableFuture<Channel<Integer>> channel = new CompletableFuture<>();
            List<Integer> got = new ArrayList<>();
            CompletableFuture<Side> consumer = pool.submit("consumer", () -> {
                Channel<Integer> ch = new Channel<>("values", 0);
                boolean[] done = {false};
                int[] turns = sibling("consumer's sibling", done);
                channel.complete(ch);
                for (int i = 0; i < VALUES; i++) {
                    got.add(ch.receive());
                    Coroutine.yield(); // to the sibling, the entry before it (the thread's main waits for work)
                    Coroutine.yield();
                }
                done[0] = true;
                return new Side(Peer.schedulerThread().getName(), turns[0]);
            });
            CompletableFuture<Side> producer = pool.submit("producer", () -> {
                Channel<Integer> ch = Coroutine.await(channel);
                boolean[] done = {false};
                int[] turns = sibling("producer's sibling", done);
                for (int i = 0; i < VALUES; i++) {
                    ch.send(i);
                }
                done[0] = true;
                return new Side(Peer.schedulerThread().getName(), turns[0]);
            });
            Side c = Coroutine.await(consumer);
            Side p = Coroutine.await(producer);
            assertThat(c.thread()).as("two pool threads").isNotEqualTo(p.thread());
            assertThat(got).containsExactlyElementsOf(IntStream.range(0, VALUES).boxed().toList());
            assertThat(c.siblingTurns()).as("a turn at each of the consumer's yields, at least")
                    .isGreaterThanOrEqualTo(2 * VALUES);
        } // close() waits for both siblings: each ends once its partner is done
    }
}
