package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Values and permits exchanged between threads while virtual clocks jump, every wait under a short
 * {@code withTimeout}, and received through generator bodies that those timeouts unwind: every value
 * whose send completed arrives once, none that timed out arrives, and every permit comes back.
 */
@ExtendWith(FreshThread.class)
class VirtualTimeExchangeUnderTimeoutsTest {

    /** How many seeds each test runs: {@code -Dexchange.seeds=N} (2 by default). */
    private static final int SEEDS = Integer.getInteger("exchange.seeds", 2);
    /** The first seed each test runs: {@code -Dexchange.seed=S} (1 by default). */
    private static final int FIRST = Integer.getInteger("exchange.seed", 1);

    /** A timeout of 50 µs to 3 ms, drawn from {@code r}. */
    private static Duration shortTimeout(SplittableRandom r) {
        return Duration.ofNanos(1000L * r.nextInt(50, 3000));
    }

    /**
     * Inside a {@code VirtualTime.run}, three pool bodies each send 25 values to the run's channel,
     * each send under a {@code withTimeout} inside a {@code withPermit} of the run's semaphore; two
     * coroutines of the run take them through generator bodies (a receive inside {@code withPermit}, or
     * a select) under {@code withTimeout}s that keep unwinding the bodies, a new generator replacing each
     * one closed. The values received are exactly those whose send completed, each once, and the
     * semaphore ends with both its permits free and nothing pending.
     */
    @Test
    @Timeout(60)
    void poolBodiesSendingThroughTheRunsSemaphoreAndChannelToGeneratorRelaysLoseAndDoubleNothing() {
        for (long seed = FIRST; seed < FIRST + SEEDS; seed++) {
            long s = seed;
            Set<Integer> sent = ConcurrentHashMap.newKeySet();
            List<Integer> received = Collections.synchronizedList(new ArrayList<>());
            try (CoroutinePool pool = CoroutinePool.start(2)) {
                VirtualTime.run(s, () -> {
                    Semaphore sem = new Semaphore("sem", 2);
                    Channel<Integer> ch = new Channel<>("ch", 1);
                    List<CompletableFuture<Void>> producers = new ArrayList<>();
                    for (int p = 0; p < 3; p++) {
                        int id = p;
                        producers.add(pool.submit("producer-" + p, () -> {
                            SplittableRandom r = new SplittableRandom(s * 31 + id);
                            for (int i = 0; i < 25; i++) {
                                int v = id * 1000 + i;
                                try {
                                    Coroutine.withTimeout(shortTimeout(r), () -> sem.withPermit(() -> {
                                        ch.send(v);
                                        sent.add(v); // no scheduling point between: recorded once the send completed
                                    }));
                                } catch (CoroutineTimeoutException e) {
                                    // that value was not delivered
                                }
                            }
                            return null;
                        }));
                    }
                    List<Coroutine> consumers = new ArrayList<>();
                    for (int k = 0; k < 2; k++) {
                        SplittableRandom r = new SplittableRandom(s * 17 + k);
                        consumers.add(Coroutine.create("consumer-" + k, () -> relay(r, received, ch, sem)));
                    }
                    producers.forEach(CompletableFuture::join);
                    ch.close();
                    consumers.forEach(Coroutine::join);
                    assertThat(sem.availablePermits()).as("seed " + s + ": permits free").isEqualTo(2);
                    assertThat(Scheduler.current().loop.hasPending()).as("seed " + s + ": a timer or a wait left").isFalse();
                });
            }
            assertSameValues(s, sent, received);
        }
    }

    /**
     * Takes values from {@code ch} through generator bodies under short {@code withTimeout}s, a new
     * generator for each one a timeout closed, until the channel is closed and drained.
     */
    private static void relay(SplittableRandom r, List<Integer> received, Channel<Integer> ch, Semaphore sem) {
        Generator<Integer> g = null;
        while (true) {
            if (g == null || g.state() == Generator.State.CLOSED) {
                g = Generator.of(out -> {
                    while (true) {
                        out.emit(sem != null && r.nextInt(4) == 0 ? sem.withPermit(ch::receive)
                                : new Select<Integer>().onReceive(ch, x -> x).select());
                    }
                });
            }
            Generator<Integer> current = g;
            try {
                received.add(Coroutine.withTimeout(shortTimeout(r), current::next));
            } catch (CoroutineTimeoutException e) {
                assertThat(current.state()).isEqualTo(Generator.State.CLOSED);
            } catch (CoroutineException e) {
                assertThat(e.getCause()).isInstanceOf(ChannelClosedException.class);
                return;
            }
        }
    }

    /**
     * Two threads, each inside its own {@code VirtualTime.run}, exchange 60 values: one sends (or
     * selects a send) to the other's channel under short {@code withTimeout}s and then closes it, the
     * other takes them through generator relays under short {@code withTimeout}s. Each run's clock holds
     * while the other thread may still act and jumps once nothing has come; every value whose send
     * completed arrives once, none other.
     */
    @Test
    @Timeout(60)
    void twoThreadsOnVirtualClocksExchangingUnderTimeoutsLoseAndDoubleNothing() throws Exception {
        for (long seed = FIRST; seed < FIRST + SEEDS; seed++) {
            long s = seed;
            Set<Integer> sent = ConcurrentHashMap.newKeySet();
            List<Integer> received = Collections.synchronizedList(new ArrayList<>());
            CompletableFuture<Channel<Integer>> made = new CompletableFuture<>();
            CompletableFuture<Void> receiver = Peer.start("receiver", () -> {
                VirtualTime.run(s, () -> {
                    Channel<Integer> ch = new Channel<>("ch", 0);
                    made.complete(ch);
                    relay(new SplittableRandom(s), received, ch, null);
                });
                return null;
            });
            Channel<Integer> ch = made.join();
            CompletableFuture<Void> sender = Peer.start("sender", () -> {
                VirtualTime.run(s, () -> {
                    SplittableRandom r = new SplittableRandom(s + 100);
                    for (int i = 0; i < 60; i++) {
                        int v = i;
                        boolean select = r.nextBoolean();
                        try {
                            Coroutine.withTimeout(shortTimeout(r), () -> {
                                if (select) {
                                    new Select<Integer>().onSend(ch, v, () -> 0).select();
                                } else {
                                    ch.send(v);
                                }
                            });
                            sent.add(v);
                        } catch (CoroutineTimeoutException e) {
                            // that value was not delivered
                        }
                    }
                    ch.close();
                });
                return null;
            });
            Peer.awaitUnwrapped(sender);
            Peer.awaitUnwrapped(receiver);
            assertSameValues(s, sent, received);
        }
    }

    /** Every value of {@code sent} was received once, and nothing else. */
    private static void assertSameValues(long seed, Set<Integer> sent, List<Integer> received) {
        List<Integer> got = new ArrayList<>(received);
        Collections.sort(got);
        List<Integer> expected = new ArrayList<>(sent);
        Collections.sort(expected);
        assertThat(got).as("seed " + seed + ": the values received, sorted").isEqualTo(expected);
    }
}
