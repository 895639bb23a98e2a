package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Channels conserve values across threads: with producers and consumers on the threads of a
 * {@link CoroutinePool} and on plain threads, random closes of channels and coroutines and random
 * timeouts, every value whose send succeeded is received exactly once (or is still buffered at the
 * end), and no value whose send failed or timed out is ever received.
 *
 * <p>Each run, from a fixed seed, uses four channels owned by three threads: {@code c0}
 * (rendezvous) and {@code c1} (capacity 2) of a plain "hub" thread, {@code c2} (capacity 1) of
 * another plain thread, {@code c3} (capacity 1) of a pool thread. Groups of coroutines run random
 * lists of operations on any of them: on the hub, on the plain thread, and inside bodies submitted
 * to a pool of two threads. Every wait is bounded (a {@code withTimeout} around {@code send} and
 * {@code receive}, {@code trySend}/{@code tryReceive} with a timeout, a select with
 * {@code onTimeout}), so a run always ends; then the channels are drained.
 *
 * <p>A send succeeded if {@code send} returned, {@code trySend} returned true or the select's
 * {@code onSend} fired; it failed if it threw (closed channel, an expired {@code withTimeout}) or
 * returned false. A send that threw the exit signal of a close of its coroutine may or may not have
 * delivered its value (the close came after it completed, or while it waited): its value may be
 * received once, or not at all. Every value is unique.
 *
 * <p>A third test makes the hub and the plain thread virtual threads, the pool's threads staying
 * platform threads: the other side of a wait is then a virtual thread, a platform thread or both.
 */
@ExtendWith(FreshThread.class)
class CrossThreadConservationTest {

    private static final int CHANNELS = 4;
    /** How many seeds each test runs: {@code -Dconservation.seeds=N} (32 by default). */
    private static final int SEEDS = Integer.getInteger("conservation.seeds", 32);
    /** The first seed each test runs: {@code -Dconservation.seed=S} (1 by default). */
    private static final int FIRST = Integer.getInteger("conservation.seed", 1);
    /** A bound for waits that are expected to end long before it: a guard against a hang. */
    private static final Duration GUARD = Duration.ofSeconds(60);

    /** One operation of a coroutine. */
    sealed interface Op permits Send, TrySend, SelectSend, Receive, TryReceive, SelectReceive, SelectSendAcross,
            SelectReceiveAcross, CloseChannel, CloseSibling, Yield, Sleep {}

    /** {@code send} inside {@code withTimeout(ms)}. */
    record Send(int ch, int ms) implements Op {}

    /** {@code trySend} with a timeout of {@code ms} (0: none). */
    record TrySend(int ch, int ms) implements Op {}

    /** A select: {@code onSend} to a channel of the caller's thread, {@code onTimeout(ms)}; skipped on a thread with none. */
    record SelectSend(int ch, int ms) implements Op {}

    /** {@code receive} inside {@code withTimeout(ms)}. */
    record Receive(int ch, int ms) implements Op {}

    /** {@code tryReceive} with a timeout of {@code ms} (0: none). */
    record TryReceive(int ch, int ms) implements Op {}

    /** A select: {@code onReceive} from a channel of the caller's thread, {@code onTimeout(ms)}; skipped on a thread with none. */
    record SelectReceive(int ch, int ms) implements Op {}

    /**
     * A select of {@code onSend} to channels {@code ch} and {@code other} (of any threads; one clause if they
     * are the same), bounded by {@code onTimeout(ms)} ({@code how} 0), a {@code withTimeout(ms)} around an
     * unbiased run (1), or a default (2).
     */
    record SelectSendAcross(int ch, int other, int ms, int how) implements Op {}

    /** A select of {@code onReceive} from channels {@code ch} and {@code other}, bounded as {@link SelectSendAcross} is. */
    record SelectReceiveAcross(int ch, int other, int ms, int how) implements Op {}

    /** {@code close()} of a channel, whichever thread owns it. */
    record CloseChannel(int ch) implements Op {}

    /** {@code close()} of a coroutine of the caller's group (it unwinds where it is). */
    record CloseSibling(int k) implements Op {}

    /** {@code Coroutine.yield()}. */
    record Yield() implements Op {}

    /** {@code Coroutine.sleep(ms)}. */
    record Sleep(int ms) implements Op {}

    @Test
    void everySentValueIsReceivedExactlyOnceAndNoFailedOneEver() {
        conserve(true);
    }

    /**
     * The same without selects: then no channel goes back to posting, and once shared every
     * operation of every thread runs in place under the channel's lock.
     */
    @Test
    void withoutSelectsEveryThreadOperatesOnTheSharedChannelsInPlaceAndEverySentValueIsReceivedExactlyOnce() {
        conserve(false);
    }

    /**
     * The same with the hub and the plain thread virtual threads: their channels, and the waits on
     * them of the pool's platform threads, conserve every value too.
     */
    @Test
    void withTheHubAndThePlainThreadVirtualEverySentValueIsReceivedExactlyOnceAndNoFailedOneEver() {
        conserve(true, true);
    }

    /**
     * Selects over channels of any threads, and of two channels at once, bounded by an {@code onTimeout}, a
     * {@code withTimeout} or a default: every value whose send succeeded is received exactly once, none whose
     * send failed.
     */
    @Test
    void withSelectsOverChannelsOfOtherThreadsEverySentValueIsReceivedExactlyOnceAndNoFailedOneEver() {
        conserve(true, false, true);
    }

    private static void conserve(boolean selects) {
        conserve(selects, false);
    }

    private static void conserve(boolean selects, boolean virtual) {
        conserve(selects, virtual, false);
    }

    /**
     * Runs every seed, the hub and the plain thread virtual threads if {@code virtual}, the selects over
     * channels of any threads if {@code across}, and checks the counts.
     */
    private static void conserve(boolean selects, boolean virtual, boolean across) {
        int ok = 0;
        int failed = 0;
        int unknown = 0;
        int crossed = 0;
        for (int seed = FIRST; seed < FIRST + SEEDS; seed++) {
            long s = seed;
            Run run = Peer.call(builder(virtual), "hub-" + seed, () -> new Run(s, selects, virtual, across).run());
            String as = "seed " + seed;
            if (!selects) {
                assertThat(run.channels).as(as + ": channels other threads operated on in place").anyMatch(Channel::isSharedInPlace);
            }
            Set<Integer> both = new HashSet<>(run.sentOk);
            both.retainAll(run.sentFailed);
            assertThat(both).as(as + ": values both sent and not sent").isEmpty();
            assertThat(run.received).as(as + ": values received (and drained at the end)").doesNotHaveDuplicates();
            assertThat(run.received).as(as + ": values received (and drained at the end)").containsAll(run.sentOk);
            Set<Integer> allowed = new HashSet<>(run.sentOk);
            allowed.addAll(run.sentUnknown);
            assertThat(allowed).as(as + ": values sent, or whose sender was closed in the send").containsAll(run.received);
            ok += run.sentOk.size();
            failed += run.sentFailed.size();
            unknown += run.sentUnknown.size();
            crossed += run.crossed.get();
        }
        System.out.printf("[conservation%s%s%s] %d seeds: %d values sent, %d received on another thread, %d sends failed or"
                + " timed out, %d sends closed%n", selects ? "" : ", no selects", virtual ? ", virtual threads" : "",
                across ? ", selects across threads" : "", SEEDS, ok, crossed, failed, unknown);
        assertThat(ok).as("values sent").isPositive();
        assertThat(failed).as("sends that failed or timed out").isPositive();
        assertThat(crossed).as("values received on another thread than their sender's").isPositive();
    }

    /** A builder of platform threads, or of virtual ones if {@code virtual}. */
    private static Thread.Builder builder(boolean virtual) {
        return virtual ? Thread.ofVirtual() : Thread.ofPlatform();
    }

    /** One run from a seed: the programs, the channels, and what was sent and received. */
    static final class Run {
        final Random random;
        /** Whether programs select; without, a select is a timed try call instead. */
        final boolean selects;
        final List<Channel<Integer>> channels = new ArrayList<>();
        final Set<Integer> sentOk = ConcurrentHashMap.newKeySet();
        final Set<Integer> sentFailed = ConcurrentHashMap.newKeySet();
        /** Sends that threw the exit signal of a close of their coroutine: delivered or not, either is right. */
        final Set<Integer> sentUnknown = ConcurrentHashMap.newKeySet();
        final Queue<Integer> received = new ConcurrentLinkedQueue<>();
        /** The thread whose scheduler ran each send. */
        final Map<Integer, Thread> senders = new ConcurrentHashMap<>();
        /** How many values were received by a context of another thread than their sender's. */
        final AtomicInteger crossed = new AtomicInteger();
        final AtomicInteger bodies = new AtomicInteger();

        /** Whether the plain thread is a virtual one. */
        final boolean virtual;

        /** Whether selects go over channels of any threads, two at a time. */
        final boolean across;

        Run(long seed, boolean selects, boolean virtual, boolean across) {
            this.random = new Random(seed);
            this.selects = selects;
            this.virtual = virtual;
            this.across = across;
        }

        /** On the hub thread: sets everything up, runs every group to its end, drains the channels. */
        Run run() {
            List<List<Op>> hubPrograms = programs(3);
            List<List<Op>> plainPrograms = programs(4);
            List<List<List<Op>>> poolPrograms = new ArrayList<>();
            for (int b = 0; b < 6; b++) {
                poolPrograms.add(programs(1 + random.nextInt(3)));
            }
            CoroutinePool pool = CoroutinePool.start(2);
            CompletableFuture<Void> finish = new CompletableFuture<>();
            try {
                channels.add(new Channel<>("c0", 0));
                channels.add(new Channel<>("c1", 2));
                CompletableFuture<Channel<Integer>> poolChannel = pool.submit(() -> new Channel<>("c3", 1));
                CompletableFuture<Channel<Integer>> plainChannel = new CompletableFuture<>();
                CompletableFuture<Void> ready = new CompletableFuture<>();
                CompletableFuture<Void> plainDone = new CompletableFuture<>();
                CompletableFuture<Void> plain = Peer.start(builder(virtual), "plain", () -> {
                    try {
                        Channel<Integer> c2 = new Channel<>("c2", 1);
                        plainChannel.complete(c2);
                        Coroutine.await(ready);
                        runGroup("plain-", plainPrograms, List.of(c2));
                        plainDone.complete(null);
                    } catch (Throwable e) {
                        plainDone.completeExceptionally(e);
                        throw e;
                    }
                    Coroutine.await(finish); // its channel serves the drain
                    return null;
                });
                channels.add(Coroutine.await(plainChannel));
                channels.add(Coroutine.await(poolChannel));
                ready.complete(null);
                List<CompletableFuture<Void>> submitted = new ArrayList<>();
                for (int b = 0; b < poolPrograms.size(); b++) {
                    List<List<Op>> programs = poolPrograms.get(b);
                    String prefix = "pool" + b + "-";
                    submitted.add(pool.submit(() -> {
                        runGroup(prefix, programs, List.of());
                        return null;
                    }));
                }
                runGroup("hub-", hubPrograms, List.of(channels.get(0), channels.get(1)));
                for (CompletableFuture<Void> f : submitted) {
                    Peer.awaitUnwrapped(f);
                }
                Peer.awaitUnwrapped(plainDone);
                Coroutine.yield(); // takes in what other threads posted here (values given back)
                for (Channel<Integer> c : channels) {
                    for (Optional<Integer> v; (v = c.tryReceive()).isPresent(); ) {
                        received.add(v.get());
                    }
                }
                finish.complete(null);
                Peer.awaitUnwrapped(plain);
            } finally {
                finish.complete(null);
                Coroutine.withTimeout(GUARD, pool::close);
            }
            return this;
        }

        /** {@code n} random programs. */
        private List<List<Op>> programs(int n) {
            List<List<Op>> programs = new ArrayList<>();
            for (int k = 0; k < n; k++) {
                List<Op> ops = new ArrayList<>();
                int length = 4 + random.nextInt(9);
                for (int i = 0; i < length; i++) {
                    ops.add(op());
                }
                programs.add(ops);
            }
            return programs;
        }

        private Op op() {
            int ch = random.nextInt(CHANNELS);
            int ms = 1 + random.nextInt(3);
            int roll = random.nextInt(100);
            if (roll < 18) {
                return new Send(ch, ms);
            } else if (roll < 32) {
                return new TrySend(ch, random.nextInt(4));
            } else if (roll < 40) {
                if (across) {
                    return new SelectSendAcross(ch, random.nextInt(CHANNELS), ms, random.nextInt(3));
                }
                return selects ? new SelectSend(ch, ms) : new TrySend(ch, ms);
            } else if (roll < 58) {
                return new Receive(ch, ms);
            } else if (roll < 72) {
                return new TryReceive(ch, random.nextInt(4));
            } else if (roll < 80) {
                if (across) {
                    return new SelectReceiveAcross(ch, random.nextInt(CHANNELS), ms, random.nextInt(3));
                }
                return selects ? new SelectReceive(ch, ms) : new TryReceive(ch, ms);
            } else if (roll < 82) {
                return new CloseChannel(ch);
            } else if (roll < 86) {
                return new CloseSibling(random.nextInt(4));
            } else if (roll < 94) {
                return new Yield();
            }
            return new Sleep(random.nextInt(3));
        }

        /**
         * On the calling thread: a coroutine per program, then waits until each has ended (a coroutine
         * closed before it ran never runs its body: its closer reports its end).
         */
        void runGroup(String prefix, List<List<Op>> programs, List<Channel<Integer>> local) {
            List<Coroutine> group = new ArrayList<>();
            List<CompletableFuture<Void>> ends = new ArrayList<>();
            for (int k = 0; k < programs.size(); k++) {
                Body body = new Body(bodies.incrementAndGet(), group, ends, local);
                List<Op> ops = programs.get(k);
                CompletableFuture<Void> end = new CompletableFuture<>();
                ends.add(end);
                group.add(Coroutine.create(prefix + k, () -> {
                    try {
                        body.run(ops);
                    } finally {
                        end.complete(null);
                    }
                }));
            }
            for (CompletableFuture<Void> end : ends) {
                Coroutine.await(end);
            }
            for (Coroutine c : group) {
                assertThat(c.isFinished()).as(c + " has ended").isTrue();
            }
        }

        /** One coroutine's operations; its values are {@code id * 1000 + n} for its n-th send. */
        final class Body {
            final int id;
            final List<Coroutine> group;
            final List<CompletableFuture<Void>> ends;
            final List<Channel<Integer>> local;
            int sends;

            Body(int id, List<Coroutine> group, List<CompletableFuture<Void>> ends, List<Channel<Integer>> local) {
                this.id = id;
                this.group = group;
                this.ends = ends;
                this.local = local;
            }

            void run(List<Op> ops) {
                for (Op op : ops) {
                    perform(op);
                }
            }

            private int nextValue() {
                return id * 1000 + sends++;
            }

            private void perform(Op op) {
                switch (op) {
                    case Send s -> {
                        int v = nextValue();
                        attempt(v, () -> {
                            Coroutine.withTimeout(Duration.ofMillis(s.ms()), () -> channels.get(s.ch()).send(v));
                            return true;
                        });
                    }
                    case TrySend s -> {
                        int v = nextValue();
                        attempt(v, () -> channels.get(s.ch()).trySend(v, Duration.ofMillis(s.ms())));
                    }
                    case SelectSend s -> {
                        if (!local.isEmpty()) {
                            int v = nextValue();
                            Channel<Integer> c = local.get(s.ch() % local.size());
                            attempt(v, () -> new Select<Boolean>().onSend(c, v, () -> true)
                                    .onTimeout(Duration.ofMillis(s.ms()), () -> false).select());
                        }
                    }
                    case Receive r -> {
                        try {
                            got(Coroutine.withTimeout(Duration.ofMillis(r.ms()), () -> channels.get(r.ch()).receive()));
                        } catch (CoroutineTimeoutException | ChannelClosedException e) {
                            // nothing received
                        }
                    }
                    case TryReceive r -> channels.get(r.ch()).tryReceive(Duration.ofMillis(r.ms())).ifPresent(this::got);
                    case SelectReceive s -> {
                        if (!local.isEmpty()) {
                            Channel<Integer> c = local.get(s.ch() % local.size());
                            try {
                                new Select<Void>().onReceive(c, x -> {
                                    got(x);
                                    return null;
                                }).onTimeout(Duration.ofMillis(s.ms()), () -> null).select();
                            } catch (ChannelClosedException e) {
                                // closed and drained: nothing received
                            }
                        }
                    }
                    case SelectSendAcross s -> {
                        int v = nextValue();
                        Channel<Integer> c = channels.get(s.ch());
                        Channel<Integer> other = channels.get(s.other());
                        attempt(v, () -> {
                            Select<Boolean> sel = new Select<Boolean>().onSend(c, v, () -> true);
                            if (other != c) {
                                sel.onSend(other, v, () -> true);
                            }
                            Duration d = Duration.ofMillis(s.ms());
                            return switch (s.how()) {
                                case 0 -> sel.onTimeout(d, () -> false).select();
                                case 1 -> Coroutine.withTimeout(d, sel::selectUnbiased);
                                default -> sel.onDefault(() -> false).select();
                            };
                        });
                    }
                    case SelectReceiveAcross r -> {
                        Channel<Integer> c = channels.get(r.ch());
                        Channel<Integer> other = channels.get(r.other());
                        Select<Void> sel = new Select<Void>().onReceive(c, x -> {
                            got(x);
                            return null;
                        });
                        if (other != c) {
                            sel.onReceive(other, x -> {
                                got(x);
                                return null;
                            });
                        }
                        Duration d = Duration.ofMillis(r.ms());
                        try {
                            switch (r.how()) {
                                case 0 -> sel.onTimeout(d, () -> null).select();
                                case 1 -> Coroutine.withTimeout(d, sel::selectUnbiased);
                                default -> sel.onDefault(() -> null).select();
                            }
                        } catch (ChannelClosedException | CoroutineTimeoutException e) {
                            // closed and drained, or timed out: nothing received
                        }
                    }
                    case CloseChannel c -> channels.get(c.ch()).close();
                    case CloseSibling c -> {
                        int k = c.k() % group.size();
                        Coroutine target = group.get(k);
                        if (target != Coroutine.current()) {
                            target.close();
                            ends.get(k).complete(null); // it has ended, whether or not its body ever ran
                        }
                    }
                    case Yield y -> Coroutine.yield();
                    case Sleep s -> Coroutine.sleep(Duration.ofMillis(s.ms()));
                }
            }

            /** Records a value received by this coroutine. */
            private void got(int v) {
                received.add(v);
                if (senders.get(v) != Peer.schedulerThread()) {
                    crossed.incrementAndGet();
                }
            }

            /** Sends {@code v} by {@code send}, which says whether it was sent; an exception means it was not. */
            private void attempt(int v, BooleanSupplier send) {
                senders.put(v, Peer.schedulerThread());
                boolean sent;
                try {
                    sent = send.getAsBoolean();
                } catch (ChannelClosedException | CoroutineTimeoutException e) {
                    sent = false;
                } catch (CoroutineExit e) {
                    sentUnknown.add(v); // its coroutine is being closed: the send may have completed just before
                    throw e;
                }
                (sent ? sentOk : sentFailed).add(v);
            }
        }
    }
}
