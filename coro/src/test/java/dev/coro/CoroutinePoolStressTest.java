package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A pool of four threads runs a hundred thousand coroutines that exchange values across threads
 * through channels: every value arrives exactly once, nothing hangs, and after {@code close()}
 * every pool thread has ended.
 *
 * <p>Four spawner bodies land one on each thread (each waits until all four exist). Spawner
 * {@code i} creates channel {@code ch[i]} (capacity 16) on its thread and then 12,500 producers and
 * 12,500 consumers there: each producer sends two values to {@code ch[i+1]}, each consumer receives
 * two from {@code ch[i+2]} (indices mod 4), so every send and every receive is an operation on
 * another thread's channel, and on each channel senders of one thread meet receivers of another.
 * The spawners return at once: {@code close()} waits for the coroutines they created.
 */
@Tag("stress")
@ExtendWith(FreshThread.class)
class CoroutinePoolStressTest {

    private static final int THREADS = 4;
    private static final int PER_SIDE = 12_500;
    private static final int VALUES_EACH = 2;
    /** A guard against a hang, not a performance threshold. */
    private static final Duration GUARD = Duration.ofMinutes(5);

    @Test
    void aHundredThousandCoroutinesOnFourThreadsExchangeEveryValueExactlyOnce() {
        StressFigures figures = StressFigures.start();
        int values = THREADS * PER_SIDE * VALUES_EACH;
        AtomicIntegerArray received = new AtomicIntegerArray(values);
        List<CompletableFuture<Channel<Integer>>> created = new ArrayList<>();
        for (int i = 0; i < THREADS; i++) {
            created.add(new CompletableFuture<>());
        }
        CompletableFuture<Void> allCreated = CompletableFuture.allOf(created.toArray(new CompletableFuture<?>[0]));
        List<CompletableFuture<Thread>> spawnerThreads = new ArrayList<>();
        CoroutinePool pool = CoroutinePool.start(THREADS);
        try {
            for (int i = 0; i < THREADS; i++) {
                int self = i;
                spawnerThreads.add(pool.submit(() -> {
                    created.get(self).complete(new Channel<>("ch" + self, 16));
                    Coroutine.await(allCreated); // keeps this body live: the next spawner goes to another thread
                    Channel<Integer> out = created.get((self + 1) % THREADS).join();
                    Channel<Integer> in = created.get((self + 2) % THREADS).join();
                    for (int p = 0; p < PER_SIDE; p++) {
                        int first = (self * PER_SIDE + p) * VALUES_EACH;
                        Coroutine.create("producer-" + p, () -> {
                            for (int k = 0; k < VALUES_EACH; k++) {
                                out.send(first + k);
                            }
                        });
                        Coroutine.create("consumer-" + p, () -> {
                            for (int k = 0; k < VALUES_EACH; k++) {
                                received.incrementAndGet(in.receive());
                            }
                        });
                    }
                    return Peer.schedulerThread();
                }));
            }
        } finally {
            Coroutine.withTimeout(GUARD, pool::close);
        }
        figures.print(THREADS + " pool threads, " + (THREADS * 2 * PER_SIDE) + " coroutines, " + values
                + " values across threads (engine " + Engines.running() + ")");

        List<Thread> threads = spawnerThreads.stream().map(CompletableFuture::join).toList();
        assertThat(threads).as("one spawner per thread").doesNotHaveDuplicates().hasSize(THREADS);
        assertThat(threads).as("every pool thread has ended").noneMatch(Thread::isAlive);
        List<String> wrong = new ArrayList<>();
        for (int v = 0; v < values && wrong.size() < 10; v++) {
            if (received.get(v) != 1) {
                wrong.add("value " + v + " received " + received.get(v) + " times");
            }
        }
        assertThat(wrong).as("every value received exactly once").isEmpty();
    }
}
