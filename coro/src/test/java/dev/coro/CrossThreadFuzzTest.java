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
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Supplier;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Random programs across threads conserve every value and end: coroutines on the threads of a
 * {@link CoroutinePool} and on two plain threads run random operations on channels of capacities 0, 1
 * and 4 that the hub, a plain thread and the pool's threads made: sends, receives, try calls with and
 * without a timeout, closes with and without a cause, selects over the caller's own channels (with
 * {@code onTimeout}, {@code onDefault}, {@code onComplete} of a future another thread completes),
 * {@code await} of such futures, closes and joins of coroutines parked in any of these. Every value
 * is unique; a run checks that every value whose send succeeded is received exactly once (the
 * channels drained at the end), that no value whose send failed is ever received, that every
 * operation either completes or throws one of the exceptions its Javadoc names (a
 * {@link ChannelClosedException} naming the caller, the operation and the channel, with the cause of
 * the channel's close), and that every thread ends; a run that does not end within a generous bound
 * fails with the stacks of every thread. A seed's run is the same program each time (the interleaving
 * across threads is not): {@code -Dcoro.fuzz.seed=N -Dcoro.fuzz.seeds=M} runs the stress version from
 * seed N.
 *
 * <p>Beside them, submissions of plain threads and of the pool's own bodies race a close of the pool:
 * each is run once, or refused naming the caller, the pool and its state.
 */
@ExtendWith(FreshThread.class)
class CrossThreadFuzzTest {

    /** A bound on a whole run, expected to end long before it: a guard against a hang. */
    private static final long GUARD_SECONDS = 120;
    private static final int FUTURES = 6;

    /** A few seeds, short programs: the fast suite's share. */
    @Test
    @Timeout(300)
    void aFewSeedsOfRandomProgramsAcrossThreadsConserveEveryValueAndEnd() {
        fuzz(1, 40, 60);
    }

    /** Hundreds of seeds, longer programs. */
    @Test
    @Tag("stress")
    @Timeout(3600)
    void manySeedsOfRandomProgramsAcrossThreadsConserveEveryValueAndEnd() {
        fuzz(Long.getLong("coro.fuzz.seed", 1000), Integer.getInteger("coro.fuzz.seeds", 300), 120);
    }

    /**
     * Three plain threads, and bodies of the pool, submit while the pool closes: every submission
     * accepted runs once and its future completes before {@code close()} returns; every other is
     * refused as closing or closed.
     */
    @Test
    @Timeout(300)
    void submissionsRacingACloseFromPlainThreadsAndThePoolsOwnEachRunOnceOrAreRefused() {
        for (int round = 0; round < Integer.getInteger("coro.fuzz.rounds", 30); round++) {
            CoroutinePool pool = CoroutinePool.start(2 + round % 2);
            Set<Integer> ran = ConcurrentHashMap.newKeySet();
            Queue<CompletableFuture<Integer>> accepted = new ConcurrentLinkedQueue<>();
            Queue<Throwable> wrong = new ConcurrentLinkedQueue<>();
            AtomicInteger ids = new AtomicInteger();
            CompletableFuture<Void> go = new CompletableFuture<>();
            Runnable submitter = () -> {
                for (int i = 0; i < 200; i++) {
                    int id = ids.incrementAndGet();
                    try {
                        accepted.add(pool.submit(() -> {
                            if (!ran.add(id)) {
                                wrong.add(new AssertionError("body " + id + " ran twice"));
                            }
                            if (id % 3 == 0) {
                                Coroutine.yield();
                                try {
                                    int inner = -id;
                                    accepted.add(pool.submit(() -> {
                                        ran.add(inner);
                                        return inner;
                                    }));
                                } catch (RejectedExecutionException e) {
                                    if (!e.getMessage().contains(" cannot submit to coro-pool-")) {
                                        wrong.add(e);
                                    }
                                }
                            }
                            return id;
                        }));
                    } catch (RejectedExecutionException e) {
                        if (!e.getMessage().matches("(thread 'submitter-\\d' \\(#\\d+\\)|coroutine 'coroutine-\\d+') cannot submit to coro-pool-\\d+"
                                + " \\((closing|closed)\\): a (closing|closed) pool takes no more bodies")) {
                            wrong.add(e);
                        }
                        return;
                    }
                }
            };
            List<CompletableFuture<Void>> threads = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                threads.add(Peer.start("submitter-" + t, () -> {
                    go.join();
                    submitter.run();
                    return null;
                }));
            }
            go.complete(null);
            pool.close();
            for (CompletableFuture<Void> t : threads) {
                t.join();
            }
            for (CompletableFuture<Integer> f : accepted) {
                assertThat(f).as("an accepted submission of round " + round + " in " + pool).isCompleted();
                int v = f.join();
                assertThat(ran).contains(v);
            }
            assertThat(wrong).isEmpty();
            assertThat(pool.toString()).endsWith("closed]");
        }
    }

    /** Runs the seeds from {@code first}, each coroutine's program {@code opsPerProgram} operations long, and checks each. */
    private static void fuzz(long first, int seeds, int opsPerProgram) {
        Totals totals = new Totals();
        for (long seed = first; seed < first + seeds; seed++) {
            Run run = new Run(seed, opsPerProgram);
            // every fourth hub a virtual thread: its channels' waiters of platform threads, and its waits on theirs
            CompletableFuture<Run> done = Peer.start(seed % 4 == 0 ? Thread.ofVirtual() : Thread.ofPlatform(), "hub-" + seed, run::run);
            try {
                done.get(GUARD_SECONDS, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                StringBuilder stacks = new StringBuilder();
                Thread.getAllStackTraces().forEach((t, frames) -> {
                    stacks.append(t).append('\n');
                    for (StackTraceElement f : frames) {
                        stacks.append("    at ").append(f).append('\n');
                    }
                });
                throw new AssertionError("seed " + seed + " did not end within " + GUARD_SECONDS + " s: " + run.progress
                        + "\n" + stacks);
            } catch (Exception e) {
                throw new AssertionError("seed " + seed + " failed", e);
            }
            run.check("seed " + seed);
            totals.add(run);
        }
        System.out.printf("[cross-thread fuzz, engine %s] %d seeds: %d values sent, %d received, %d sends failed, %d unknown,"
                + " %d operations refused as their channel's thread had ended%n", System.getProperty("coro.engine", "default"), seeds,
                totals.ok, totals.received, totals.failed, totals.unknown, totals.refusedAsEnded);
        assertThat(totals.ok).as("values sent").isPositive();
        assertThat(totals.failed).as("sends that failed").isPositive();
    }

    /** Counts over the seeds. */
    static final class Totals {
        long ok;
        long failed;
        long unknown;
        long received;
        long refusedAsEnded;

        /** Adds the counts of {@code run}. */
        void add(Run run) {
            refusedAsEnded += run.refusedAsEnded.get();
            ok += run.sentOk.size();
            failed += run.sentFailed.size();
            unknown += run.sentUnknown.size();
            received += run.received.size();
        }
    }

    /** One run from a seed. */
    static final class Run {
        final long seed;
        final int opsPerProgram;
        final Random random;
        /** The channels, by index: made on the hub (0, 1), the plain threads (2, 3) and the pool (4, 5). */
        final List<Channel<Integer>> channels = new ArrayList<>();
        /** The thread that made each channel. */
        final Map<Channel<Integer>, Thread> owners = new ConcurrentHashMap<>();
        /** The futures awaited and selected on; one completed is replaced by a new one, so that waits go on meeting futures not complete. */
        final AtomicReferenceArray<CompletableFuture<Integer>> futures = new AtomicReferenceArray<>(FUTURES);
        final Set<Integer> sentOk = ConcurrentHashMap.newKeySet();
        final Set<Integer> sentFailed = ConcurrentHashMap.newKeySet();
        final Set<Integer> sentUnknown = ConcurrentHashMap.newKeySet();
        final Queue<Integer> received = new ConcurrentLinkedQueue<>();
        final Queue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
        final Map<String, AtomicInteger> progress = new ConcurrentHashMap<>();
        /** The channels a close was called on, whether it returned or its caller's signal interrupted it. */
        final Set<Integer> closesBegun = ConcurrentHashMap.newKeySet();
        /** How many operations were refused, their channel's thread having ended. */
        final AtomicInteger refusedAsEnded = new AtomicInteger();
        final AtomicInteger values = new AtomicInteger();

        Run(long seed, int opsPerProgram) {
            this.seed = seed;
            this.opsPerProgram = opsPerProgram;
            this.random = new Random(seed);
        }

        /** Checks conservation and the exceptions seen, {@code as} naming the seed. */
        void check(String as) {
            assertThat(unexpected).as(as + ": unexpected exceptions").isEmpty();
            Set<Integer> both = new HashSet<>(sentOk);
            both.retainAll(sentFailed);
            assertThat(both).as(as + ": values both sent and not sent").isEmpty();
            assertThat(received).as(as + ": values received").doesNotHaveDuplicates();
            assertThat(received).as(as + ": values received (drained at the end)").containsAll(sentOk);
            Set<Integer> allowed = new HashSet<>(sentOk);
            allowed.addAll(sentUnknown);
            assertThat(allowed).as(as + ": values sent, or whose sender was closed in the send").containsAll(received);
        }

        /** On the hub thread: makes the channels, the threads and the pool, runs every group, drains the channels. */
        Run run() {
            int poolThreads = 2 + random.nextInt(2);
            boolean cancel = random.nextInt(4) == 0;
            boolean virtual = random.nextInt(3) == 0;
            boolean closeEarly = random.nextInt(3) == 0;
            boolean closeNow = random.nextInt(4) == 0;
            for (int k = 0; k < FUTURES; k++) {
                futures.set(k, new CompletableFuture<>());
            }
            long hubSeed = random.nextLong();
            long plainSeeds0 = random.nextLong();
            long plainSeeds1 = random.nextLong();
            List<Long> poolSeeds = new ArrayList<>();
            int bodies = 3 + random.nextInt(4);
            for (int b = 0; b < bodies; b++) {
                poolSeeds.add(random.nextLong());
            }
            CoroutinePool pool = CoroutinePool.start(poolThreads);
            CompletableFuture<Void> finish = new CompletableFuture<>();
            List<CompletableFuture<Void>> plains = new ArrayList<>();
            try {
                channels.add(made("h0", 0));
                channels.add(made("h4", 4));
                List<CompletableFuture<Channel<Integer>>> made = new ArrayList<>();
                CompletableFuture<Void> ready = new CompletableFuture<>();
                List<CompletableFuture<Void>> plainDone = new ArrayList<>();
                long[] plainSeeds = {plainSeeds0, plainSeeds1};
                int[] plainCaps = {1, 0};
                for (int p = 0; p < 2; p++) {
                    CompletableFuture<Channel<Integer>> ch = new CompletableFuture<>();
                    made.add(ch);
                    CompletableFuture<Void> pd = new CompletableFuture<>();
                    plainDone.add(pd);
                    int index = 2 + p;
                    int cap = plainCaps[p];
                    long s = plainSeeds[p];
                    String name = "plain" + p;
                    plains.add(Peer.start(virtual ? Thread.ofVirtual() : Thread.ofPlatform(), name, () -> {
                        try {
                            Channel<Integer> c = made("p" + cap + "-" + p(name), cap);
                            ch.complete(c);
                            Coroutine.await(ready);
                            runGroup(name, s, List.of(index));
                            pd.complete(null);
                        } catch (Throwable e) {
                            pd.completeExceptionally(e);
                            throw e;
                        }
                        if (index == 2) {
                            Coroutine.await(finish); // its channel serves the drain
                        } // the other ends now, its channel open: other threads take what it left, or are refused
                        return null;
                    }));
                }
                made.add(pool.submit(() -> made("q4", 4)));
                made.add(pool.submit(() -> made("q1", 1)));
                for (CompletableFuture<Channel<Integer>> m : made) {
                    channels.add(Coroutine.await(m));
                }
                ready.complete(null);
                List<CompletableFuture<Void>> submitted = new ArrayList<>();
                for (int b = 0; b < poolSeeds.size(); b++) {
                    long s = poolSeeds.get(b);
                    String name = "pool" + b;
                    submitted.add(pool.submit(name, () -> {
                        runGroup(name, s, List.of());
                        return null;
                    }));
                }
                int cancelled = cancel ? random.nextInt(submitted.size()) : -1;
                if (cancelled >= 0) {
                    CompletableFuture<Void> f = submitted.get(cancelled);
                    Coroutine.create("canceller", () -> {
                        Coroutine.sleep(Duration.ofMillis(1));
                        f.cancel(true); // closes the body's coroutine; the coroutines it created run on
                    });
                }
                runGroup("hub", hubSeed, List.of(0, 1));
                if (closeNow) {
                    // every coroutine of the pool still running is closed where it waits: in a send, a
                    // receive, a select, an await of another thread's future or channel
                    Coroutine.withTimeout(Duration.ofSeconds(GUARD_SECONDS), pool::closeNow);
                }
                for (CompletableFuture<Void> f : submitted) {
                    try {
                        Coroutine.await(f);
                    } catch (CancellationException e) {
                        assertThat(f.isCancelled()).as("a submission that is cancelled").isTrue();
                    } catch (CompletionException e) {
                        if (!closeNow || !(e.getCause() instanceof CoroutineExit)) {
                            throw e;
                        }
                    }
                }
                if (closeEarly) {
                    closePool(pool); // while the plain threads' coroutines still operate on the pool's channels
                }
                for (CompletableFuture<Void> pd : plainDone) {
                    Peer.awaitUnwrapped(pd);
                }
                closePool(pool); // every coroutine of the pool has ended: a cancelled body's too
                Coroutine.yield();
                drain(0, 6); // the pool's threads have ended: the values left in their channels are each taken once
                for (int i : List.of(0, 1)) { // the hub's: the yield above ran every close other threads posted to it
                    if (closesBegun.contains(i) && !channels.get(i).isClosed()) {
                        unexpected.add(new AssertionError(channels.get(i) + " is open though a close of it began"));
                    }
                }
                finish.complete(null);
                for (CompletableFuture<Void> p : plains) {
                    Peer.awaitUnwrapped(p);
                }
            } finally {
                finish.complete(null);
                closePool(pool);
            }
            return this;
        }

        /** A channel made on the calling thread, which is kept as its owner. */
        private Channel<Integer> made(String name, int capacity) {
            Channel<Integer> c = new Channel<>(name, capacity);
            owners.put(c, Peer.schedulerThread());
            return c;
        }

        /** Closes {@code pool}, bounded by the guard. */
        private static void closePool(CoroutinePool pool) {
            Coroutine.withTimeout(Duration.ofSeconds(GUARD_SECONDS), pool::close);
        }

        /** The number a plain thread's name ends in. */
        private static String p(String name) {
            return name.substring(name.length() - 1);
        }

        /** Takes every value left in channels {@code from} to {@code to} (exclusive). */
        private void drain(int from, int to) {
            for (int i = from; i < to; i++) {
                Channel<Integer> c = channels.get(i);
                try {
                    for (Optional<Integer> v; (v = c.tryReceive()).isPresent(); ) {
                        received.add(v.get());
                    }
                } catch (IllegalStateException e) {
                    // an open channel whose thread has ended, drained
                    assertThat(e.getMessage()).as("the refusal of a drained channel of an ended thread").contains("which has ended");
                }
            }
        }

        /**
         * On the calling thread: a group of coroutines with random programs, then waits until each has
         * ended.
         */
        void runGroup(String prefix, long groupSeed, List<Integer> local) {
            Random r = new Random(groupSeed);
            int n = 1 + r.nextInt(4);
            List<Coroutine> group = new ArrayList<>();
            List<CompletableFuture<Void>> ends = new ArrayList<>();
            for (int k = 0; k < n; k++) {
                String name = prefix + "-" + k;
                Body body = new Body(name, new Random(r.nextLong()), group, ends, local);
                CompletableFuture<Void> end = new CompletableFuture<>();
                ends.add(end);
                group.add(Coroutine.create(name, () -> {
                    try {
                        body.run();
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

        /** One coroutine's random operations. */
        final class Body {
            final String name;
            final Random r;
            final List<Coroutine> group;
            final List<CompletableFuture<Void>> ends;
            final List<Integer> local;
            final AtomicInteger steps = new AtomicInteger();

            Body(String name, Random r, List<Coroutine> group, List<CompletableFuture<Void>> ends, List<Integer> local) {
                this.name = name;
                this.r = r;
                this.group = group;
                this.ends = ends;
                this.local = local;
                progress.put(name, steps);
            }

            /** Runs the program, its progress kept for the report of a hang. */
            void run() {
                for (int i = 0; i < opsPerProgram; i++) {
                    steps.set(i);
                    step();
                }
                steps.set(-1);
            }

            /** A short random duration: 0 to 4 ms. */
            private Duration ms() {
                return Duration.ofMillis(r.nextInt(5));
            }

            /** One random operation. */
            private void step() {
                int ch = r.nextInt(channels.size());
                Channel<Integer> c = channels.get(ch);
                int roll = r.nextInt(100);
                if (roll < 14) {
                    int v = values.incrementAndGet();
                    Duration d = ms().plusMillis(1);
                    send(v, c, "send", () -> {
                        Coroutine.withTimeout(d, () -> c.send(v));
                        return true;
                    });
                } else if (roll < 24) {
                    int v = values.incrementAndGet();
                    if (r.nextBoolean()) {
                        send(v, c, "trySend", () -> c.trySend(v));
                    } else {
                        Duration d = ms();
                        send(v, c, "trySend", () -> c.trySend(v, d));
                    }
                } else if (roll < 38) {
                    Duration d = ms().plusMillis(1);
                    receive(c, () -> Coroutine.withTimeout(d, c::receive));
                } else if (roll < 48) {
                    if (r.nextBoolean()) {
                        receive(c, () -> c.tryReceive().orElse(null));
                    } else {
                        Duration d = ms();
                        receive(c, () -> c.tryReceive(d).orElse(null));
                    }
                } else if (roll < 50) {
                    try {
                        closesBegun.add(ch);
                        if (r.nextBoolean()) {
                            c.close();
                        } else {
                            c.close(new IllegalStateException("cause of " + name));
                        }
                    } catch (IllegalStateException e) {
                        expectEnded(e, c, "close");
                    }
                } else if (roll < 66) {
                    select();
                } else if (roll < 72) {
                    CompletableFuture<Integer> f = futures.get(r.nextInt(FUTURES));
                    Duration d = ms().plusMillis(1);
                    try {
                        Coroutine.withTimeout(d, () -> Coroutine.await(f));
                    } catch (CoroutineTimeoutException e) {
                        // not complete in time
                    } catch (CompletionException e) {
                        if (!(e.getCause() instanceof IllegalArgumentException i) || !i.getMessage().startsWith("failed by ")) {
                            unexpected.add(new AssertionError(name + ": await " + f, e));
                        }
                    } catch (CancellationException e) {
                        expectNamed(e, "await");
                    }
                } else if (roll < 76) {
                    int k = r.nextInt(FUTURES);
                    CompletableFuture<Integer> f = futures.get(k);
                    if (r.nextBoolean()) {
                        futures.compareAndSet(k, f, new CompletableFuture<>());
                    }
                    switch (r.nextInt(3)) {
                        case 0 -> f.complete(values.incrementAndGet());
                        case 1 -> f.completeExceptionally(new IllegalArgumentException("failed by " + name));
                        default -> f.cancel(false);
                    }
                } else if (roll < 80) {
                    int k = r.nextInt(group.size());
                    if (k < group.size() && group.get(k) != Coroutine.current()) {
                        group.get(k).close();
                        ends.get(k).complete(null);
                    }
                } else if (roll < 84) {
                    int k = r.nextInt(group.size());
                    if (k < group.size() && group.get(k) != Coroutine.current()) {
                        Coroutine target = group.get(k);
                        Duration d = ms().plusMillis(1);
                        try {
                            Coroutine.withTimeout(d, target::join);
                        } catch (CoroutineTimeoutException e) {
                            // still running
                        }
                    }
                } else if (roll < 87) {
                    Duration d = ms().plusMillis(1);
                    int most = 1 + r.nextInt(3);
                    try {
                        Coroutine.withTimeout(d, () -> {
                            int n = 0;
                            for (Integer v : c) {
                                received.add(v);
                                if (++n == most) {
                                    break;
                                }
                            }
                        });
                    } catch (CoroutineTimeoutException e) {
                        // no more in time
                    } catch (ChannelClosedException e) {
                        expectClosed(e, c, "iterate over");
                    } catch (IllegalStateException e) {
                        expectEnded(e, c, "iterate over");
                    }
                } else if (roll < 90) {
                    Coroutine.yield();
                } else if (roll < 94) {
                    // busy without a scheduling point: what other threads post here meanwhile waits, and may time out first
                    long until = System.nanoTime() + 200_000;
                    while (System.nanoTime() < until) {
                        Thread.onSpinWait();
                    }
                } else {
                    Coroutine.sleep(ms());
                }
            }

            /**
             * A select over this thread's channels (up to three clauses, a channel possibly twice) with a
             * timeout, a default or a future's completion, biased or not, sometimes inside a {@code withTimeout}.
             */
            private void select() {
                Select<Integer> s = new Select<>();
                List<Integer> toSend = new ArrayList<>();
                int clauses = local.isEmpty() ? 0 : 1 + r.nextInt(3);
                for (int i = 0; i < clauses; i++) {
                    Channel<Integer> c = channels.get(local.get(r.nextInt(local.size())));
                    if (r.nextBoolean()) {
                        int v = values.incrementAndGet();
                        int code = -100 - toSend.size();
                        toSend.add(v);
                        s.onSend(c, v, () -> code);
                    } else {
                        s.onReceive(c, v -> v);
                    }
                }
                switch (r.nextInt(clauses == 0 ? 3 : 5)) {
                    case 0 -> s.onTimeout(ms(), () -> -2);
                    case 1 -> s.onComplete(futures.get(r.nextInt(FUTURES)), v -> -3).onTimeout(ms().plusMillis(1), () -> -2);
                    case 2 -> s.onTimeout(Duration.ZERO, () -> -2);
                    case 3 -> s.onDefault(() -> -2);
                    default -> {
                        // no clause of its own: a withTimeout around it bounds the wait
                    }
                }
                boolean unbiased = r.nextBoolean();
                Duration bound = ms().plusMillis(1);
                try {
                    int got = Coroutine.withTimeout(bound, () -> unbiased ? s.selectUnbiased() : s.select());
                    for (int i = 0; i < toSend.size(); i++) {
                        (got == -100 - i ? sentOk : sentFailed).add(toSend.get(i));
                    }
                    if (got > 0) {
                        received.add(got);
                    }
                } catch (CoroutineExit e) {
                    sentUnknown.addAll(toSend);
                    throw e;
                } catch (CoroutineTimeoutException e) {
                    sentFailed.addAll(toSend);
                } catch (ChannelClosedException e) {
                    sentFailed.addAll(toSend);
                    expectClosed(e, null, null);
                } catch (CompletionException | CancellationException e) {
                    sentFailed.addAll(toSend);
                    expectNamed(e, "onComplete(");
                } catch (RuntimeException | Error e) {
                    sentUnknown.addAll(toSend);
                    unexpected.add(new AssertionError(name + ": select " + s, e));
                }
            }

            /** Sends {@code v} by {@code how}, which says whether it was sent, and records the outcome and what it threw. */
            private void send(int v, Channel<Integer> c, String op, Supplier<Boolean> how) {
                boolean sent;
                try {
                    sent = how.get();
                } catch (CoroutineExit e) {
                    sentUnknown.add(v);
                    throw e;
                } catch (CoroutineTimeoutException e) {
                    sent = false;
                } catch (ChannelClosedException e) {
                    sent = false;
                    expectClosed(e, c, "cannot send to");
                } catch (IllegalStateException e) {
                    sent = false;
                    expectEnded(e, c, "send to");
                } catch (RuntimeException | Error e) {
                    sentUnknown.add(v);
                    unexpected.add(new AssertionError(name + ": " + op + " " + v + " to " + c, e));
                    return;
                }
                (sent ? sentOk : sentFailed).add(v);
            }

            /** Receives by {@code how} (null: nothing), and records the value and what it threw. */
            private void receive(Channel<Integer> c, Supplier<Integer> how) {
                Integer v;
                try {
                    v = how.get();
                } catch (CoroutineTimeoutException e) {
                    return;
                } catch (ChannelClosedException e) {
                    expectClosed(e, c, "cannot receive from");
                    return;
                } catch (IllegalStateException e) {
                    expectEnded(e, c, "receive from");
                    return;
                } catch (CoroutineExit e) {
                    throw e;
                } catch (RuntimeException | Error e) {
                    unexpected.add(new AssertionError(name + ": receive from " + c, e));
                    return;
                }
                if (v != null) {
                    received.add(v);
                }
            }

            /** Checks that the failure of a wait for a future names the caller and the wait. */
            private void expectNamed(RuntimeException e, String wait) {
                String m = e.getMessage();
                if (m == null || !m.contains("coroutine '" + name + "'") || !m.contains(wait)) {
                    unexpected.add(new AssertionError(name + ": the failure of a wait for a future does not name the caller and"
                            + " the wait: " + m, e));
                }
            }

            /** Checks that a refusal of an operation on {@code c} names the caller's thread if and only if it is not the channel's. */
            private void expectCallersThread(RuntimeException e, Channel<Integer> c) {
                if (c == null) {
                    return;
                }
                String m = String.valueOf(e.getMessage());
                boolean named = m.startsWith("coroutine '" + name + "' of thread '");
                if (named != (owners.get(c) != Peer.schedulerThread())) {
                    unexpected.add(new AssertionError(name + " of thread " + Peer.schedulerThread() + " on " + c + " of thread "
                            + owners.get(c) + ": the refusal " + (named ? "names" : "does not name") + " the caller's thread: " + m, e));
                }
            }

            /** Checks that a refusal names the caller, the operation, the channel and that its thread has ended. */
            private void expectEnded(IllegalStateException e, Channel<Integer> c, String op) {
                String m = e.getMessage();
                expectCallersThread(e, c);
                refusedAsEnded.incrementAndGet();
                if (m == null || !m.contains("coroutine '" + name + "'") || !m.toLowerCase().contains(op) || !m.contains("'" + c.name() + "'")
                        || !m.contains("which has ended") || !(c.name().startsWith("p") || c.name().startsWith("q"))) { // plain1 ends once its group has; plain0 once the hub drained, a cancelled body's coroutines still running
                    unexpected.add(new AssertionError(name + ": " + op + " " + c + " refused: " + m, e));
                }
            }

            /** Checks that a refusal of a closed channel names the caller, the operation, the channel and its cause. */
            private void expectClosed(ChannelClosedException e, Channel<Integer> c, String op) {
                String m = e.getMessage();
                expectCallersThread(e, c);
                if (m == null || !m.contains("coroutine '" + name + "'") || !m.contains("(closed)")
                        || (op != null && !m.toLowerCase().contains(op)) || (c != null && !m.contains("'" + c.name() + "'"))) {
                    unexpected.add(new AssertionError(name + ": the refusal does not name the caller, the operation, the channel"
                            + " and its state: " + m, e));
                }
                if (c != null && e.getCause() != c.closeCause().orElse(null)) {
                    unexpected.add(new AssertionError(name + ": the refusal's cause is not the close's: " + e.getCause()
                            + " vs " + c.closeCause(), e));
                }
            }
        }
    }
}
