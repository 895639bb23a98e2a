package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.management.CoroutinesManagement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Supplier;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Seeded random programs over a {@link CoroutinePool} and plain threads, in real time, keep four invariants whatever
 * the interleaving: every value whose send succeeded is received exactly once (or drained from its channel at the
 * end) and none whose send failed ever is; no internal exception reaches anyone, and every refusal names its caller
 * and its operation; the run ends (the pool's {@code close()} returns, every thread the seed started ends); and every
 * failure a body threw is reported exactly once, by the read of its future or by the pool's {@code close()}.
 *
 * <p>A seed's program is a pool of two or three threads, one or two plain threads (platform or virtual) and the
 * driver's own thread, five or six channels (rendezvous and buffered) made on these threads, and four futures.
 * Coroutines on every thread (and a plain thread's main context) take random steps on every channel: {@code send}
 * (under a {@code withTimeout} or a {@code tryWithTimeout}), {@code trySend} with and without a wait, {@code receive}
 * and {@code tryReceive} alike, selects whose {@code onReceive} and {@code onSend} clauses span the channels of
 * several threads with {@code onComplete}, {@code onTimeout} and {@code onDefault} clauses, {@code await} of the
 * futures (which other threads complete, fail or cancel before, during or after the wait) under a timeout, closes of
 * channels with and without a cause, submissions and {@code execute}s of further bodies (which may fail, and take
 * steps in their {@code finally}), reads of the submissions' futures (by {@code await}, or by a select whose
 * {@code onComplete} races a receive and a timeout), cancels of them, coroutines a body creates (which may fail:
 * their failure goes to the body, or to the thread's main and {@code close()}), closes and joins of other coroutines
 * of the thread wherever they wait, short sleeps, yields and a {@code close()} of the pool from one of its own threads
 * (refused). Beside them a relay carries values from a pool thread through the driver's channel, a plain thread's
 * coroutine and a pool thread's channel back to the driver, by waits no timeout bounds, so that a lost wake-up is a
 * hang, not a timeout that hides it. The pool is closed at a random point: once every plain thread's coroutines have
 * ended, or while they run, by {@code close()} or {@code closeNow()}, or by two threads at once.
 *
 * <p>The interleaving across threads is not the seed's, so this checks only what holds whatever it is: submissions
 * are read by the pool's own coroutines and the driver before it closes the pool (which waits for every coroutine of
 * the pool), never racing the close's report. A run that does not end within a generous bound fails with the stacks
 * of every thread. To hunt with more seeds: {@code -Drandom.threaded.seed=S -Drandom.threaded.seeds=N}.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
class RandomThreadedProgramsTest {

    /** The first seed run: {@code -Drandom.threaded.seed=S}. */
    private static final long FIRST = Long.getLong("random.threaded.seed", 0);
    /** How many seeds are run: {@code -Drandom.threaded.seeds=N}. */
    private static final int SEEDS = Integer.getInteger("random.threaded.seeds", 16);
    /** A bound on a seed's run, expected to end long before it: a guard against a hang, never a timing assertion. */
    private static final long GUARD_SECONDS = 60;
    /** How many futures the steps await, select on, complete, fail and cancel. */
    private static final int FUTURES = 4;
    /** The most bodies a run hands the pool, so that a run ends. */
    private static final int MOST_BODIES = 24;
    /** How many values the relay carries, with waits no timeout bounds: a lost wake-up there is a hang the guard reports. */
    private static final int RELAYED = 16;

    /** Each seed's run keeps the four invariants; over the seeds, values were sent and bodies failed. */
    @Test
    void everySeedConservesItsValuesReportsEachFailureOnceAndEnds() {
        runSeeds(FIRST, SEEDS);
    }

    /**
     * The same over five hundred seeds from 1000, for the stress run: a race that a few seeds meet only now and then
     * (a value handed to a select of another thread that is not given back, say) is met there (a trial of that
     * fault failed at 200 seeds; five hundred keep CI's stress phase short).
     */
    @Test
    @Tag("stress")
    void fiveHundredSeedsConserveTheirValuesReportEachFailureOnceAndEnd() {
        runSeeds(1000, 500);
    }

    /** Runs {@code seeds} seeds from {@code first}, each bounded by the guard, and checks each. */
    private static void runSeeds(long first, int seeds) {
        long sent = 0;
        long reported = 0;
        Map<String, Long> met = new TreeMap<>();
        for (long seed = first; seed < first + seeds; seed++) {
            Run run = new Run(seed);
            CompletableFuture<Run> done = Peer.start("driver-" + seed, run::run);
            try {
                done.get(GUARD_SECONDS, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                throw new AssertionError("seed " + seed + " did not end within " + GUARD_SECONDS + " s; steps taken: "
                        + run.progress + "\n" + stacks() + "\n" + CoroutinesManagement.mxBean().dump(20), e);
            } catch (Exception e) {
                throw new AssertionError("seed " + seed + " threw; problems: " + run.problems, e);
            }
            run.check("seed " + seed);
            sent += run.sentOk.size();
            reported += run.thrown.size();
            run.met.forEach((k, v) -> met.merge(k, (long) v.get(), Long::sum));
        }
        System.out.printf("[random threaded programs, engine %s] %d seeds: %d values sent, %d failures thrown; %s%n",
                Engines.running(), seeds, sent, reported, met);
        assertThat(sent).as("values sent over the seeds").isPositive();
        assertThat(reported).as("failures thrown over the seeds").isPositive();
    }

    /** The stacks of every platform thread, for the report of a hang. */
    private static String stacks() {
        StringBuilder b = new StringBuilder();
        Thread.getAllStackTraces().forEach((t, frames) -> {
            b.append(t).append('\n');
            for (StackTraceElement f : frames) {
                b.append("    at ").append(f).append('\n');
            }
        });
        return b.toString();
    }

    /** A submission: its future (null for {@code execute}), whether a reader claimed it, and the failure its body threw. */
    record Submission(String name, CompletableFuture<Integer> future, AtomicBoolean claimed, AtomicReference<RandomApiProgramsTest.Boom> boom,
                      Submission creator) {
    }

    /** One run of a seed's program. */
    static final class Run {
        final long seed;
        final SplittableRandom random;
        final List<Channel<Integer>> channels = new ArrayList<>();
        final AtomicReferenceArray<CompletableFuture<Integer>> futures = new AtomicReferenceArray<>(FUTURES);
        final Queue<Submission> submissions = new ConcurrentLinkedQueue<>();
        /** How many more bodies may be handed to the pool. */
        final AtomicInteger budget = new AtomicInteger(MOST_BODIES);
        final AtomicInteger bodies = new AtomicInteger();
        /** Every failure a body threw, and how many times each was seen: read from its future, or in a close's report. */
        final Map<RandomApiProgramsTest.Boom, AtomicInteger> thrown = new ConcurrentHashMap<>();
        /** How each failure a body threw was seen, in order: what a failure of the check shows. */
        final Map<RandomApiProgramsTest.Boom, Queue<String>> ways = new ConcurrentHashMap<>();
        final Set<Integer> sentOk = ConcurrentHashMap.newKeySet();
        final Set<Integer> sentFailed = ConcurrentHashMap.newKeySet();
        final Set<Integer> sentUnknown = ConcurrentHashMap.newKeySet();
        final Queue<Integer> received = new ConcurrentLinkedQueue<>();
        final Queue<String> problems = new ConcurrentLinkedQueue<>();
        final Map<String, AtomicInteger> progress = new ConcurrentHashMap<>();
        final AtomicInteger values = new AtomicInteger();
        /** What the run met, counted for the summary: failures read and reported, refusals, closes' signals. */
        final Map<String, AtomicInteger> met = new ConcurrentHashMap<>();
        CoroutinePool pool;
        /** The relay's channels: the driver's rendezvous one, and a buffered one of a pool thread. */
        Channel<Integer> relayIn;
        Channel<Integer> relayOut;
        /** Completed by the relay's middle as it passes each value on, awaited by its end. */
        final List<CompletableFuture<Void>> passed = new ArrayList<>();

        Run(long seed) {
            this.seed = seed;
            this.random = new SplittableRandom(seed);
        }

        /** Counts one more of {@code what} met. */
        void met(String what) {
            met.computeIfAbsent(what, k -> new AtomicInteger()).incrementAndGet();
        }

        /** Checks the invariants once the run has ended, {@code as} naming the seed. */
        void check(String as) {
            assertThat(problems).as(as + ": problems").isEmpty();
            Set<Integer> both = new HashSet<>(sentOk);
            both.retainAll(sentFailed);
            assertThat(both).as(as + ": values both sent and not sent").isEmpty();
            assertThat(received).as(as + ": values received").doesNotHaveDuplicates();
            assertThat(received).as(as + ": values received or drained").containsAll(sentOk);
            Set<Integer> allowed = new HashSet<>(sentOk);
            allowed.addAll(sentUnknown);
            assertThat(allowed).as(as + ": values sent, or whose sender was closed in the send").containsAll(received);
            for (Submission s : submissions) {
                RandomApiProgramsTest.Boom b = s.boom.get();
                if (b == null) {
                    continue;
                }
                int seen = thrown.get(b).get();
                if (s.creator != null && s.creator.future != null && s.creator.future.isCancelled()) {
                    // delivered to a body whose future was cancelled before it ended: carried in its failure, not reported
                    assertThat(seen).as(as + ": times the failure of " + s.name + " was seen; how: " + ways.get(b)).isLessThanOrEqualTo(1);
                    continue;
                }
                int expected = s.future != null && s.future.isCancelled() ? 0 : 1; // cancelled before it failed: not reported
                assertThat(seen).as(as + ": times the failure of " + s.name + " (" + (s.future == null ? "no future" : s.future)
                        + ") was seen; how: " + ways.getOrDefault(b, new ConcurrentLinkedQueue<>())).isEqualTo(expected);
            }
            for (Submission s : submissions) {
                if (s.future != null) {
                    assertThat(s.future).as(as + ": the future of " + s.name + " once the pool has closed").isDone();
                }
            }
            assertThat(pool.toString()).as(as + ": the pool").endsWith("closed]");
        }

        /** On the driver's thread: makes the pool, the threads and the channels, runs the program, closes the pool, drains the channels. */
        Run run() {
            for (int k = 0; k < FUTURES; k++) {
                futures.set(k, new CompletableFuture<>());
            }
            // 0: closed once every plain thread's group has ended; 1: closeNow() then; 2: close() and 3: closeNow() at a
            // random point while everything runs; 4: close() by a plain thread's coroutine then too, racing the driver's
            int mode = random.nextInt(5);
            boolean driverReads = mode < 2; // not while a close may be collecting its report
            boolean relays = mode < 2; // the pool is closed once the relay has ended
            int plainCount = 1 + random.nextInt(2);
            pool = CoroutinePool.start("fz" + seed, 2 + random.nextInt(2));
            List<CompletableFuture<Void>> groupsDone = new ArrayList<>();
            List<CompletableFuture<Void>> plainEnds = new ArrayList<>();
            List<CompletableFuture<Thread>> plainThreads = new ArrayList<>();
            CompletableFuture<Void> ready = new CompletableFuture<>();
            CompletableFuture<Void> finish = new CompletableFuture<>();
            try {
                channels.add(new Channel<>("d0", 0));
                channels.add(new Channel<>("d2", 2));
                List<CompletableFuture<Channel<Integer>>> made = new ArrayList<>();
                for (int p = 0; p < plainCount; p++) {
                    String name = "plain" + p;
                    boolean stays = random.nextBoolean(); // its channels' thread alive to the end, or ended after its group
                    boolean closes = mode == 4 && p == 0;
                    long s = random.nextLong();
                    int cap = random.nextInt(3);
                    CompletableFuture<Channel<Integer>> ch = new CompletableFuture<>();
                    made.add(ch);
                    CompletableFuture<Thread> thread = new CompletableFuture<>();
                    plainThreads.add(thread);
                    CompletableFuture<Void> groupDone = new CompletableFuture<>();
                    groupsDone.add(groupDone);
                    Thread.Builder builder = random.nextBoolean() ? Thread.ofVirtual() : Thread.ofPlatform();
                    boolean middle = relays && p == 0;
                    int mainSteps = random.nextInt(6);
                    plainEnds.add(Peer.start(builder, name, () -> {
                        thread.complete(Thread.currentThread());
                        try {
                            ch.complete(new Channel<>("p" + cap + "-" + name, cap));
                            Coroutine.await(ready);
                            CompletableFuture<Void> relayed = middle ? relay("relay-middle", this::passOn) : null;
                            group(name, s, closes);
                            // its main context's own steps, while the other threads' coroutines go on
                            new Body(Coroutine.current().name(), new SplittableRandom(s ^ 1), false).steps(mainSteps);
                            if (relayed != null) {
                                Coroutine.await(relayed);
                            }
                        } finally {
                            groupDone.complete(null);
                        }
                        if (stays) {
                            Coroutine.await(finish);
                        }
                        return null;
                    }));
                }
                relayIn = new Channel<>("relay-in", 0);
                for (int i = 0; i < RELAYED; i++) {
                    passed.add(new CompletableFuture<>());
                }
                relayOut = Coroutine.await(pool.submit(() -> new Channel<>("relay-out", 1)));
                made.add(pool.submit(() -> new Channel<>("q0", 0)));
                made.add(pool.submit(() -> new Channel<>("q3", 3)));
                for (CompletableFuture<Channel<Integer>> m : made) {
                    channels.add(Coroutine.await(m));
                }
                int first = 1 + random.nextInt(3);
                for (int b = 0; b < first; b++) {
                    submit("driver", random.split());
                }
                CompletableFuture<Integer> relayStart = relays ? pool.submit("relay-start", () -> {
                    for (int i = 0; i < RELAYED; i++) {
                        relayIn.send(RELAY_BASE + i);
                    }
                    return 0;
                }) : null;
                CompletableFuture<Void> relayEnd = relays ? relay("relay-end", this::takeRelayed) : null;
                ready.complete(null);
                CompletableFuture<Void> closed = new CompletableFuture<>();
                if (mode == 2 || mode == 3) {
                    boolean now = mode == 3;
                    int after = random.nextInt(1, 6);
                    Coroutine.create("closer", () -> {
                        try {
                            Coroutine.sleep(Duration.ofMillis(after));
                            closePool(now ? pool::closeNow : pool::close, "closer");
                        } finally {
                            closed.complete(null);
                        }
                    });
                } else {
                    closed.complete(null);
                }
                group("driver", random.nextLong(), false);
                if (driverReads) {
                    readAll("driver");
                }
                for (CompletableFuture<Void> g : groupsDone) {
                    Coroutine.await(g);
                }
                if (relays) {
                    Coroutine.await(relayStart);
                    Coroutine.await(relayEnd);
                }
                closePool(mode == 1 ? pool::closeNow : pool::close, "driver");
                Coroutine.await(closed); // the closer has counted what its close reported
                finish.complete(null);
                for (CompletableFuture<Void> end : plainEnds) {
                    Peer.awaitUnwrapped(end);
                }
                for (CompletableFuture<Thread> t : plainThreads) {
                    Peer.join(t.join());
                }
                drain();
            } finally {
                finish.complete(null);
                ready.complete(null);
                PoolsClosed.close(pool);
            }
            return this;
        }

        /** The first value the relay carries: none of the random steps' values, which count up from 1. */
        static final int RELAY_BASE = 1 << 30;

        /** Starts a coroutine of the relay named {@code name} running {@code part}, and returns a future completed as it ends. */
        private CompletableFuture<Void> relay(String name, Runnable part) {
            CompletableFuture<Void> end = new CompletableFuture<>();
            Coroutine.create(name, () -> {
                try {
                    part.run();
                    end.complete(null);
                } catch (Throwable e) {
                    problems.add(name + " threw " + describe(e));
                    end.complete(null);
                    throw e;
                }
            });
            return end;
        }

        /** The relay's middle, on a plain thread: takes each value from the driver's channel and sends it to the pool's, by a send or a select. */
        private void passOn() {
            for (int i = 0; i < RELAYED; i++) {
                int v = i % 3 == 0 ? new Select<Integer>().onReceive(relayIn, x -> x).select() : relayIn.receive();
                if (i % 2 == 0) {
                    relayOut.send(v);
                } else {
                    new Select<Integer>().onSend(relayOut, v, () -> 0).select();
                }
                passed.get(i).complete(null);
            }
        }

        /** The relay's end, on the driver: takes each value from the pool's channel, in order, after awaiting its passing on. */
        private void takeRelayed() {
            for (int i = 0; i < RELAYED; i++) {
                if (i % 2 == 0) {
                    Coroutine.await(passed.get(i));
                }
                int v = i % 3 == 1 ? new Select<Integer>().onReceive(relayOut, x -> x).select() : relayOut.receive();
                if (v != RELAY_BASE + i) {
                    problems.add("relay-end: took " + v + " where " + (RELAY_BASE + i) + " was next");
                }
            }
        }

        /**
         * Closes the pool by {@code how}, bounded by the guard, counting each failure of its report: the first's and
         * those suppressed in it or in the report.
         */
        private void closePool(Runnable how, String who) {
            try {
                Coroutine.withTimeout(Duration.ofSeconds(GUARD_SECONDS), how);
            } catch (CoroutineException e) {
                List<Throwable> all = new ArrayList<>(List.of(e.getCause()));
                all.addAll(List.of(e.getSuppressed()));
                for (Throwable t : all) {
                    if (seen(t, "failures reported by close", who + "'s close, whose report is " + e + " suppressing " + List.of(e.getSuppressed())) == 0) {
                        problems.add(who + ": the close reported what no body threw: " + t + " in " + e);
                    }
                }
                String m = e.getMessage();
                String prefix = pool.name() + ": a coroutine failed and nobody observed it: ";
                if (!m.startsWith(prefix + "coroutine '") && !m.startsWith(prefix + "left to main context 'main' of thread '" + pool.name() + "-")) {
                    problems.add(who + ": the close's report names not the pool and where the failure came from: " + m);
                }
            }
        }

        /**
         * Counts, as seen once more, each failure a body threw that {@code e} is or carries (as a cause or a suppressed
         * exception, at any depth), each once, under {@code how}.
         *
         * @return how many there were
         */
        int seen(Throwable e, String how) {
            return seen(e, how, e.toString());
        }

        /** As {@link #seen(Throwable, String)}, {@code context} saying where {@code e} was met, for the record of how each failure was seen. */
        int seen(Throwable e, String how, String context) {
            Set<Throwable> visited = Collections.newSetFromMap(new IdentityHashMap<>());
            List<Throwable> todo = new ArrayList<>(List.of(e));
            int n = 0;
            while (!todo.isEmpty()) {
                Throwable t = todo.removeLast();
                if (t == null || !visited.add(t)) {
                    continue;
                }
                if (t instanceof RandomApiProgramsTest.Boom b && thrown.containsKey(b)) {
                    thrown.get(b).incrementAndGet();
                    ways.computeIfAbsent(b, k -> new ConcurrentLinkedQueue<>()).add(how + " on " + Thread.currentThread().getName()
                            + ", in " + context + (n == 0 ? "" : ", the " + (n + 1) + "th failure in it"));
                    met(how);
                    n++;
                }
                todo.add(t.getCause());
                todo.addAll(List.of(t.getSuppressed()));
            }
            return n;
        }

        /** Takes every value left in every channel, each once; a channel of an ended thread gives what its buffer holds. */
        private void drain() {
            for (Channel<Integer> c : channels) {
                try {
                    for (Optional<Integer> v; (v = c.tryReceive()).isPresent(); ) {
                        received.add(v.get());
                    }
                } catch (IllegalStateException e) {
                    if (!e.getMessage().contains("which has ended")) {
                        problems.add("drain of " + c + ": " + e);
                    }
                }
            }
        }

        /** Hands the pool a body of random steps, from {@code who}; a refusal of a closing pool must name the caller. */
        private void submit(String who, SplittableRandom r) {
            if (budget.getAndDecrement() <= 0) {
                return;
            }
            String name = "b" + bodies.incrementAndGet();
            boolean fails = r.nextInt(3) == 0;
            boolean execute = r.nextInt(3) == 0;
            AtomicReference<RandomApiProgramsTest.Boom> boom = new AtomicReference<>();
            boolean stepsAsItUnwinds = r.nextInt(3) == 0;
            Supplier<Integer> body = () -> {
                Body program = new Body(name, r, true);
                try {
                    program.steps(3 + r.nextInt(12));
                } finally {
                    if (stepsAsItUnwinds) {
                        program.steps(2); // in the finally of a body closeNow() or a cancel unwinds: every wait throws the signal again
                    }
                }
                if (fails) {
                    RandomApiProgramsTest.Boom b = new RandomApiProgramsTest.Boom("failure of " + name);
                    thrown.put(b, new AtomicInteger());
                    boom.set(b);
                    throw b;
                }
                return 0;
            };
            try {
                if (execute) {
                    submissions.add(new Submission(name, null, new AtomicBoolean(true), boom, null));
                    pool.execute(name, body::get);
                } else {
                    AtomicBoolean claimed = new AtomicBoolean();
                    CompletableFuture<Integer> f = pool.submit(name, body);
                    submissions.add(new Submission(name, f, claimed, boom, null));
                }
            } catch (RejectedExecutionException e) {
                met("submissions refused");
                String m = e.getMessage();
                if (!m.contains("'" + who + "'") || !m.contains(execute ? " cannot execute on " + pool.name() + " (clos"
                        : " cannot submit to " + pool.name() + " (clos") || !m.endsWith(" pool takes no more bodies")) {
                    problems.add(who + ": a refused submission that names not the caller and the call: " + m);
                }
            }
        }

        /** Reads, on the calling thread, the submissions nobody claimed yet: each failure so read is seen once. */
        private void readAll(String who) {
            for (Submission s : submissions) {
                if (s.future != null && s.claimed.compareAndSet(false, true)) {
                    read(who, s, () -> Coroutine.await(s.future), Duration.ofSeconds(GUARD_SECONDS));
                }
            }
        }

        /**
         * Reads submission {@code s} by {@code how} within {@code d}; gives the claim back if nothing was read.
         *
         * @return whether {@code how} returned or threw what a read throws, the claim kept; false if the claim was given back
         */
        private boolean read(String who, Submission s, Supplier<Integer> how, Duration d) {
            boolean read = false;
            try {
                read = Coroutine.tryWithTimeout(d, how).isPresent();
            } catch (CompletionException e) {
                read = true;
                if (seen(e.getCause(), "failures read") == 0 && !(e.getCause() instanceof CoroutineExit)) {
                    problems.add(who + ": the read of " + s.name + " threw " + e);
                }
            } catch (CancellationException e) {
                read = true;
                if (!s.future.isCancelled()) {
                    problems.add(who + ": the read of " + s.name + ", not cancelled, threw " + e);
                }
            } finally {
                if (!read) {
                    s.claimed.set(false);
                }
            }
            return read;
        }

        /** On the calling thread: a group of coroutines with random programs; waits until each has ended. */
        void group(String prefix, long groupSeed, boolean closes) {
            SplittableRandom r = new SplittableRandom(groupSeed);
            int n = 1 + r.nextInt(3);
            List<CompletableFuture<Void>> ends = new ArrayList<>();
            List<Coroutine> kin = new ArrayList<>();
            for (int k = 0; k < n; k++) {
                Body body = new Body(prefix + "-" + k, r.split(), false);
                body.kin = kin;
                body.kinEnds = ends;
                int steps = 5 + r.nextInt(20);
                CompletableFuture<Void> end = new CompletableFuture<>();
                ends.add(end);
                kin.add(Coroutine.create(body.name, () -> {
                    try {
                        body.steps(steps);
                    } finally {
                        end.complete(null);
                    }
                }));
            }
            if (closes) { // a second closer, racing the driver's
                long s = r.nextLong();
                CompletableFuture<Void> end = new CompletableFuture<>();
                ends.add(end);
                Coroutine.create(prefix + "-closer", () -> {
                    try {
                        Coroutine.sleep(Duration.ofMillis(new SplittableRandom(s).nextInt(1, 6)));
                        closePool(pool::close, prefix + "-closer");
                    } finally {
                        end.complete(null);
                    }
                });
            }
            for (CompletableFuture<Void> end : ends) {
                Coroutine.await(end);
            }
        }

        /** One coroutine's random steps. */
        final class Body {
            final String name;
            final SplittableRandom r;
            /** Whether it runs on the pool: it may then read submissions, which end before the pool's close reports. */
            final boolean ofPool;
            final AtomicInteger step = new AtomicInteger();
            int children;
            /** The coroutines of its thread it may close or join: its group's, or those it created. */
            List<Coroutine> kin = new ArrayList<>();
            /** The futures its group's coroutines complete as they end, null for those it created. */
            List<CompletableFuture<Void>> kinEnds;

            Body(String name, SplittableRandom r, boolean ofPool) {
                this.name = name;
                this.r = r;
                this.ofPool = ofPool;
                progress.put(Thread.currentThread().getName() + "/" + name, step);
            }

            /** Takes {@code n} random steps; a failure of a coroutine it created, delivered meanwhile, counts as seen. */
            void steps(int n) {
                for (int i = 0; i < n; i++) {
                    step.set(i);
                    try {
                        step();
                    } catch (CoroutineException e) {
                        // the failure of a coroutine it created, delivered at a scheduling point of the step
                        if (seen(e, "failures delivered to the creator") == 0
                                || !e.getMessage().startsWith("coroutine '" + name + "-c")) {
                            problems.add(name + ": a failure delivered that no child of it threw: " + describe(e));
                        }
                    }
                }
                step.set(-1);
            }

            /** A short random duration: 0 to {@code most} milliseconds. */
            private Duration ms(int most) {
                return Duration.ofMillis(r.nextInt(most + 1));
            }

            /** A random channel, of any thread. */
            private Channel<Integer> channel() {
                return channels.get(r.nextInt(channels.size()));
            }

            /** One random step. */
            private void step() {
                int roll = r.nextInt(100);
                Channel<Integer> c = channel();
                if (roll < 12) {
                    int v = values.incrementAndGet();
                    Duration d = ms(3).plusMillis(1);
                    if (r.nextBoolean()) {
                        send(v, c, "send to", () -> {
                            Coroutine.withTimeout(d, () -> c.send(v));
                            return true;
                        });
                    } else {
                        send(v, c, "send to", () -> Coroutine.tryWithTimeout(d, () -> c.send(v)));
                    }
                } else if (roll < 22) {
                    int v = values.incrementAndGet();
                    Duration d = ms(3);
                    send(v, c, "send to", r.nextInt(3) == 0 ? () -> c.trySend(v) : () -> c.trySend(v, d));
                } else if (roll < 34) {
                    Duration d = ms(3).plusMillis(1);
                    receive(c, r.nextBoolean() ? () -> Coroutine.withTimeout(d, c::receive)
                            : () -> Coroutine.tryWithTimeout(d, c::receive).orElse(null));
                } else if (roll < 44) {
                    Duration d = ms(3);
                    receive(c, r.nextInt(3) == 0 ? () -> c.tryReceive().orElse(null) : () -> c.tryReceive(d).orElse(null));
                } else if (roll < 45) {
                    boolean withCause = r.nextBoolean();
                    attempt("close", c, () -> {
                        if (withCause) {
                            c.close(new IllegalStateException("closed by " + name));
                        } else {
                            c.close();
                        }
                    });
                } else if (roll < 46) {
                    cancelOne();
                } else if (roll < 62) {
                    select();
                } else if (roll < 68) {
                    CompletableFuture<Integer> f = futures.get(r.nextInt(FUTURES));
                    Duration d = ms(3).plusMillis(1);
                    try {
                        if (r.nextBoolean()) {
                            Coroutine.withTimeout(d, () -> Coroutine.await(f));
                        } else {
                            Coroutine.tryWithTimeout(d, () -> Coroutine.await(f));
                        }
                    } catch (CoroutineTimeoutException e) {
                        expectNamed(e, "withTimeout(");
                    } catch (CompletionException e) {
                        if (!(e.getCause() instanceof IllegalArgumentException i) || !i.getMessage().startsWith("failed by ")) {
                            problems.add(name + ": await of a future threw " + e);
                        }
                    } catch (CancellationException e) {
                        expectNamed(e, "await");
                    }
                } else if (roll < 73) {
                    int k = r.nextInt(FUTURES);
                    CompletableFuture<Integer> f = futures.get(k);
                    if (r.nextBoolean()) {
                        futures.compareAndSet(k, f, new CompletableFuture<>());
                    }
                    switch (r.nextInt(3)) {
                        case 0 -> f.complete(values.incrementAndGet());
                        case 1 -> f.completeExceptionally(new IllegalArgumentException("failed by " + name));
                        default -> f.cancel(r.nextBoolean());
                    }
                } else if (roll < 80) {
                    submit(name, r.split());
                } else if (roll < 84) {
                    if (ofPool) {
                        readOne();
                    } else {
                        Coroutine.yield();
                    }
                } else if (roll < 86) {
                    if (ofPool) {
                        child();
                    } else {
                        Coroutine.yield();
                    }
                } else if (roll < 87 && !kin.isEmpty()) {
                    closeOrJoinKin();
                } else if (roll < 88) {
                    if (ofPool) {
                        try {
                            pool.close();
                            problems.add(name + ": a close of the pool from its own thread returned");
                        } catch (IllegalStateException e) {
                            String m = e.getMessage();
                            if (!m.startsWith("coroutine '" + name + "' cannot close " + pool.name() + " (")
                                    || !m.endsWith("): it would wait for itself")) {
                                problems.add(name + ": the refusal of a close from the pool's own thread: " + m);
                            }
                        }
                    }
                } else if (roll < 92) {
                    Coroutine.yield();
                } else if (roll < 95) {
                    long until = System.nanoTime() + 100_000; // busy without a scheduling point: what others post here waits
                    while (System.nanoTime() < until) {
                        Thread.onSpinWait();
                    }
                } else {
                    Coroutine.sleep(ms(2));
                }
            }

            /**
             * Creates a coroutine of random steps on this pool thread, which may fail: its failure goes to this
             * coroutine at a scheduling point, or, this one having ended or being parked, to the thread's main and
             * the pool's {@code close()}.
             */
            private void child() {
                if (budget.getAndDecrement() <= 0) {
                    return;
                }
                String child = name + "-c" + children++;
                SplittableRandom cr = r.split();
                boolean fails = r.nextInt(2) == 0;
                AtomicReference<RandomApiProgramsTest.Boom> boom = new AtomicReference<>();
                Submission mine = null;
                for (Submission s : submissions) {
                    if (s.name.equals(name)) {
                        mine = s;
                    }
                }
                submissions.add(new Submission(child, null, new AtomicBoolean(true), boom, mine));
                kin.add(Coroutine.create(child, () -> {
                    new Body(child, cr, true).steps(2 + cr.nextInt(8));
                    if (fails) {
                        RandomApiProgramsTest.Boom b = new RandomApiProgramsTest.Boom("failure of " + child);
                        thrown.put(b, new AtomicInteger());
                        boom.set(b);
                        throw b;
                    }
                }));
            }

            /**
             * Closes, or joins for a few milliseconds, a coroutine of its own thread (of its group, or one it created),
             * wherever it waits: in a send, a receive or a select over another thread's channel, an await.
             */
            private void closeOrJoinKin() {
                int k = r.nextInt(kin.size());
                Coroutine c = kin.get(k);
                if (c == Coroutine.current()) {
                    return;
                }
                if (r.nextBoolean()) {
                    c.close(); // a body's own steps throw nothing but the close's signal as it unwinds
                    if (kinEnds != null) {
                        kinEnds.get(k).complete(null); // closed before it ran, its finally never ran
                    }
                    met("coroutines closed");
                } else {
                    Duration d = ms(3).plusMillis(1);
                    try {
                        Coroutine.withTimeout(d, c::join);
                    } catch (CoroutineTimeoutException e) {
                        expectNamed(e, "withTimeout(");
                    }
                }
            }

            /** Cancels a submission's future, with or without closing its body: a failure that comes after is not reported. */
            private void cancelOne() {
                List<Submission> all = new ArrayList<>(submissions);
                Submission s = all.isEmpty() ? null : all.get(r.nextInt(all.size()));
                if (s != null && s.future != null && s.future.cancel(r.nextBoolean())) {
                    met("submissions cancelled");
                }
            }

            /** Reads one unclaimed submission, by an await or a select's onComplete, within a few milliseconds. */
            private void readOne() {
                List<Submission> open = new ArrayList<>();
                for (Submission s : submissions) {
                    if (s.future != null && !s.claimed.get()) {
                        open.add(s);
                    }
                }
                if (open.isEmpty()) {
                    return;
                }
                Submission s = open.get(r.nextInt(open.size()));
                if (!s.claimed.compareAndSet(false, true)) {
                    return;
                }
                Duration d = ms(3).plusMillis(1);
                if (r.nextBoolean()) {
                    read(name, s, () -> Coroutine.await(s.future), d);
                } else {
                    // the submission's completion racing a timeout, and a receive from a channel of any thread
                    Duration t = ms(3);
                    AtomicBoolean fired = new AtomicBoolean();
                    Select<Integer> select = new Select<Integer>().onComplete(s.future, v -> {
                        fired.set(true);
                        return 0;
                    });
                    Channel<Integer> c = r.nextBoolean() ? channel() : null;
                    if (c != null) {
                        select.onReceive(c, v -> {
                            received.add(v);
                            return v;
                        });
                    }
                    select.onTimeout(t, () -> -1);
                    boolean kept = false;
                    try {
                        kept = read(name, s, select::selectUnbiased, d);
                    } catch (ChannelClosedException e) {
                        expectClosed(e, c, "cannot select");
                    } catch (IllegalStateException e) {
                        expectEnded(e, "cannot select");
                    }
                    // another clause fired: nothing read, the claim given back; only if it is still this reader's (a
                    // claim read() gave back already may be another reader's by now, which two readers would then hold)
                    if (kept && !fired.get() && !s.future.isDone()) {
                        s.claimed.set(false);
                    }
                }
            }

            /**
             * A select over channels of several threads (up to three clauses, a channel possibly twice), with an
             * {@code onComplete}, {@code onTimeout} or {@code onDefault} clause or none, inside a timeout.
             */
            private void select() {
                Select<Integer> s = new Select<>();
                List<Integer> toSend = new ArrayList<>();
                int clauses = r.nextInt(4);
                for (int i = 0; i < clauses; i++) {
                    Channel<Integer> c = channel();
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
                    case 0 -> s.onTimeout(ms(3), () -> -2);
                    case 1 -> s.onComplete(futures.get(r.nextInt(FUTURES)), v -> -3).onTimeout(ms(3).plusMillis(1), () -> -2);
                    case 2 -> s.onDefault(() -> -2);
                    case 3 -> s.onTimeout(Duration.ZERO, () -> -2);
                    default -> {
                        // no clause of its own: the timeout around it bounds the wait
                    }
                }
                boolean unbiased = r.nextBoolean();
                boolean tryScope = r.nextBoolean();
                Duration bound = ms(3).plusMillis(1);
                Supplier<Integer> run = () -> unbiased ? s.selectUnbiased() : s.select();
                try {
                    Integer got = tryScope ? Coroutine.tryWithTimeout(bound, run).orElse(null) : Coroutine.withTimeout(bound, run);
                    for (int i = 0; i < toSend.size(); i++) {
                        (got != null && got == -100 - i ? sentOk : sentFailed).add(toSend.get(i));
                    }
                    if (got != null && got > 0) {
                        received.add(got);
                    }
                } catch (CoroutineExit | CoroutineException e) {
                    sentUnknown.addAll(toSend);
                    met("selects closed");
                    throw e;
                } catch (CoroutineTimeoutException e) {
                    sentFailed.addAll(toSend);
                    expectNamed(e, "withTimeout(");
                } catch (ChannelClosedException e) {
                    sentFailed.addAll(toSend);
                    expectClosed(e, null, "cannot select");
                } catch (CompletionException | CancellationException e) {
                    sentFailed.addAll(toSend);
                    expectNamed(e, "onComplete(");
                } catch (IllegalStateException e) {
                    sentFailed.addAll(toSend);
                    expectEnded(e, "cannot select");
                } catch (RuntimeException | Error e) {
                    sentUnknown.addAll(toSend);
                    problems.add(name + ": select " + s + " threw " + describe(e));
                }
            }

            /** Sends {@code v} by {@code how}, which says whether it was sent, and records the outcome. */
            private void send(int v, Channel<Integer> c, String op, Supplier<Boolean> how) {
                boolean sent;
                try {
                    sent = how.get();
                } catch (CoroutineExit | CoroutineException e) {
                    sentUnknown.add(v);
                    met("sends closed");
                    throw e;
                } catch (CoroutineTimeoutException e) {
                    sent = false;
                    expectNamed(e, "withTimeout(");
                } catch (ChannelClosedException e) {
                    sent = false;
                    expectClosed(e, c, "cannot send to");
                } catch (IllegalStateException e) {
                    sent = false;
                    expectEnded(e, op);
                } catch (RuntimeException | Error e) {
                    sentUnknown.add(v);
                    problems.add(name + ": " + op + " " + c + " of " + v + " threw " + describe(e));
                    return;
                }
                (sent ? sentOk : sentFailed).add(v);
            }

            /** Receives by {@code how} (null: nothing), and records the value. */
            private void receive(Channel<Integer> c, Supplier<Integer> how) {
                Integer v;
                try {
                    v = how.get();
                } catch (CoroutineExit | CoroutineException e) {
                    throw e;
                } catch (CoroutineTimeoutException e) {
                    expectNamed(e, "withTimeout(");
                    return;
                } catch (ChannelClosedException e) {
                    expectClosed(e, c, "cannot receive from");
                    return;
                } catch (IllegalStateException e) {
                    expectEnded(e, "receive from");
                    return;
                } catch (RuntimeException | Error e) {
                    problems.add(name + ": receive from " + c + " threw " + describe(e));
                    return;
                }
                if (v != null) {
                    received.add(v);
                }
            }

            /** Runs an operation on {@code c} that may only be refused as its thread has ended. */
            private void attempt(String op, Channel<Integer> c, Runnable how) {
                try {
                    how.run();
                } catch (CoroutineExit | CoroutineException e) {
                    throw e;
                } catch (IllegalStateException e) {
                    expectEnded(e, op);
                } catch (RuntimeException | Error e) {
                    problems.add(name + ": " + op + " " + c + " threw " + describe(e));
                }
            }

            /** How a refusal names the caller: a coroutine, or a thread's main context. */
            private String caller() {
                return Coroutine.current().isMain() ? "main context '" + name + "'" : "coroutine '" + name + "'";
            }

            /** Checks that {@code e} names the caller and {@code what}. */
            private void expectNamed(RuntimeException e, String what) {
                String m = e.getMessage();
                if (m == null || !m.contains(caller()) || !m.contains(what)) {
                    problems.add(name + ": an exception that names not the caller and " + what + ": " + describe(e));
                }
            }

            /** Checks that a refusal names the caller, the operation and that the channel's thread has ended. */
            private void expectEnded(IllegalStateException e, String op) {
                met("refused as ended");
                String m = e.getMessage();
                if (m == null || !m.contains(caller()) || !m.toLowerCase().contains(op) || !m.contains("which has ended")) {
                    problems.add(name + ": a refusal of " + op + " that names not the caller, the operation and the ended thread: "
                            + describe(e));
                }
            }

            /** Checks that a refusal of a closed channel names the caller, the operation, the channel's state and carries its cause. */
            private void expectClosed(ChannelClosedException e, Channel<Integer> c, String op) {
                met("refused as closed");
                String m = e.getMessage();
                if (m == null || !m.contains(caller()) || !m.contains(op) || !m.contains("(closed)")
                        || (c != null && !m.contains("'" + c.name() + "'"))) {
                    problems.add(name + ": a refusal of a closed channel that names not the caller, " + op + " and the state: "
                            + describe(e));
                }
                if (c != null && e.getCause() != c.closeCause().orElse(null)) {
                    problems.add(name + ": the refusal's cause is not the close's: " + describe(e) + " vs " + c.closeCause());
                }
            }
        }

        /** An exception with its causes, for a problem's text. */
        private static String describe(Throwable e) {
            StringBuilder b = new StringBuilder();
            for (Throwable t = e; t != null && b.length() < 4000; t = t.getCause()) {
                b.append(b.isEmpty() ? "" : " <- caused by ").append(t);
                StackTraceElement[] frames = t.getStackTrace();
                for (int i = 0; i < Math.min(frames.length, 12); i++) {
                    b.append("\n      at ").append(frames[i]);
                }
            }
            return b.toString();
        }
    }
}
