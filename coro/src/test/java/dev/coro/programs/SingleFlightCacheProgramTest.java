package dev.coro.programs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.Coroutine;
import dev.coro.CoroutineException;
import dev.coro.CoroutineExit;
import dev.coro.CoroutinePool;
import dev.coro.CoroutineTimeoutException;
import dev.coro.FreshThread;
import dev.coro.PoolsClosed;
import dev.coro.Select;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A request-coalescing cache (single flight) a user would put in front of a slow computation, called by the
 * coroutines of a {@link CoroutinePool} of two threads and by plain threads: the first caller of a missing key
 * starts its computation on the pool and keeps its future; every later caller awaits that same future, some
 * without a bound, some under {@code withTimeout} or {@code tryWithTimeout}, some in a {@code Select} with an
 * {@code onTimeout}, some giving up when their own coroutine is closed or their submission cancelled. A failure
 * is not kept (the next caller starts afresh), and a computation every waiter of which gave up is cancelled, the
 * next caller starting afresh too. What each caller got is checked against the plan of the flight it joined, and
 * so are the flights (never two of a key at once), what the futures hold once waits gave up, and what the pool's
 * close reports: exactly the failures no waiter read.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
@Timeout(120)
class SingleFlightCacheProgramTest {

    private static final int KEYS = 16;
    private static final int POOL_REQUESTS = 240;
    private static final int PLAIN_THREADS = 2;
    private static final int PLAIN_REQUESTS = 30;
    /** The threads that ever await a flight: the pool's two and the plain ones. */
    private static final int AWAITING_THREADS = 2 + PLAIN_THREADS;
    private static final Duration SHORT = Duration.ofMillis(3);

    /** What a key's computation does: completes, fails its first generations, or never completes until cancelled. */
    enum KeyKind { OK, FLAKY, HANG }

    /** How a caller waits for the flight it joined. */
    enum Mode { PATIENT, TIMEOUT, TRY, SELECT, PREFETCH, CLOSED, CANCELLED }

    /** A key's computation failed. */
    static final class ComputeFailed extends RuntimeException {
        ComputeFailed(int key, int gen) {
            super("key " + key + " generation " + gen + " failed");
        }
    }

    /** What a caller got: the flight it joined (its key and generation) and its outcome. */
    record Got(int request, Mode mode, int key, int gen, String outcome) { }

    static long value(int key, int gen) {
        return key * 1000L + gen + 7;
    }

    /** The plan of a key: its kind and, for a flaky one, how many generations fail first. */
    record KeyPlan(KeyKind kind, int failFirst) {
        String outcome(int key, int gen) {
            return switch (kind) {
                case OK -> "value " + value(key, gen);
                case FLAKY -> gen < failFirst ? "failed: key " + key + " generation " + gen + " failed" : "value " + value(key, gen);
                case HANG -> "never";
            };
        }
    }

    /** One computation of a key: its generation, its future, its waiters, whether it was abandoned. */
    static final class Flight {
        final int key;
        final int gen;
        final CompletableFuture<Void> prevEnded;
        final CompletableFuture<Void> ended = new CompletableFuture<>();
        final AtomicBoolean gate = new AtomicBoolean();
        CompletableFuture<Long> future;
        int waiters; // guarded by the cache
        boolean abandoned; // guarded by the cache

        Flight(int key, int gen, CompletableFuture<Void> prevEnded) {
            this.key = key;
            this.gen = gen;
            this.prevEnded = prevEnded;
        }
    }

    /** The cache: flights by key, computations on the pool. */
    static final class Cache {
        final CoroutinePool pool;
        final KeyPlan[] plans;
        final Map<Integer, Flight> flights = new HashMap<>();
        final Map<Integer, List<Flight>> history = new HashMap<>();
        final AtomicInteger[] active = new AtomicInteger[KEYS + 1];
        final AtomicInteger[] maxActive = new AtomicInteger[KEYS + 1];
        final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
        final CompletableFuture<Void> never = new CompletableFuture<>();
        final Set<Thread> bodyThreads = ConcurrentHashMap.newKeySet();

        Cache(CoroutinePool pool, KeyPlan[] plans) {
            this.pool = pool;
            this.plans = plans;
            for (int k = 0; k <= KEYS; k++) {
                active[k] = new AtomicInteger();
                maxActive[k] = new AtomicInteger();
            }
        }

        /** Joins the flight of {@code key}, starting one if there is none, or if the last one failed. */
        Flight join(int key) {
            synchronized (this) {
                Flight f = flights.get(key);
                if (f == null || f.future.isCompletedExceptionally()) {
                    List<Flight> h = history.getOrDefault(key, List.of());
                    Flight last = h.isEmpty() ? null : h.get(h.size() - 1);
                    if (last != null && !last.future.isDone()) {
                        throw new AssertionError("key " + key + ": a flight starts while generation " + last.gen + " is pending");
                    }
                    Flight n = new Flight(key, h.size(), last == null ? CompletableFuture.completedFuture(null) : last.ended);
                    n.future = pool.submit("compute " + key + "/" + n.gen, () -> compute(n));
                    history.computeIfAbsent(key, k -> new ArrayList<>()).add(n);
                    flights.put(key, n);
                    f = n;
                }
                f.waiters++;
                return f;
            }
        }

        /**
         * A waiter of {@code f} is done with it; {@code gaveUp}: without its outcome. The last to give up cancels the
         * flight, before a caller may start the next one.
         */
        void leave(Flight f, boolean gaveUp, boolean failed) {
            synchronized (this) {
                f.waiters--;
                if (failed) {
                    flights.remove(f.key, f);
                }
                if (gaveUp && f.waiters == 0 && !f.future.isDone()) {
                    flights.remove(f.key, f);
                    abandon(f);
                }
            }
        }

        /**
         * Cancels {@code f}, whose body is closed if it runs; it counts as ended once its body and those before it
         * have. Its body may complete the future first: then it keeps that outcome, and is no longer the key's flight.
         */
        private void abandon(Flight f) {
            f.abandoned = f.future.cancel(true);
            if (f.gate.compareAndSet(false, true)) {
                f.prevEnded.thenRun(() -> f.ended.complete(null)); // its body never runs
            }
        }

        /** Cancels the flights still under way (a prefetch nobody waited for), as a cache does when its owner shuts it down. */
        void shutdown() {
            synchronized (this) {
                List<Flight> pending = new ArrayList<>();
                for (Flight f : flights.values()) {
                    if (!f.future.isDone()) {
                        if (f.waiters != 0) {
                            throw new AssertionError("flight " + f.key + "/" + f.gen + " has " + f.waiters + " waiters at shutdown");
                        }
                        pending.add(f);
                    }
                }
                flights.values().removeAll(pending);
                pending.forEach(this::abandon);
            }
        }

        private long compute(Flight f) {
            if (!f.gate.compareAndSet(false, true)) {
                return -1; // cancelled as it started: the cancel ended it
            }
            bodyThreads.add(Thread.currentThread());
            try {
                Coroutine.await(f.prevEnded); // the key's last computation has wound down
                int now = active[f.key].incrementAndGet();
                maxActive[f.key].accumulateAndGet(now, Math::max);
                runs.computeIfAbsent(f.key + "/" + f.gen, x -> new AtomicInteger()).incrementAndGet();
                try {
                    KeyPlan p = plans[f.key];
                    switch (p.kind()) {
                        case HANG -> {
                            Coroutine.await(never);
                            throw new AssertionError("went past a future that never completes");
                        }
                        case FLAKY -> {
                            Coroutine.sleep(Duration.ofMillis(f.gen % 3));
                            if (f.gen < p.failFirst()) {
                                throw new ComputeFailed(f.key, f.gen);
                            }
                        }
                        default -> Coroutine.sleep(Duration.ofMillis((f.key + f.gen) % 4));
                    }
                    return value(f.key, f.gen);
                } finally {
                    active[f.key].decrementAndGet();
                }
            } finally {
                // closed as it awaited its predecessor, it ends only once that one has
                f.prevEnded.thenRun(() -> f.ended.complete(null));
            }
        }
    }

    /** A caller of the cache: joins the flight of {@code key}, waits as {@code mode} says, records what it got. */
    static void get(Cache cache, int request, Mode mode, int key, Map<Integer, Got> got, ConcurrentLinkedQueue<String> problems,
            CompletableFuture<Void> joined) {
        Flight f = cache.join(key);
        joined.complete(null);
        if (mode == Mode.PREFETCH) { // starts the computation if need be, and waits for nothing
            cache.leave(f, false, false);
            if (got.put(request, new Got(request, mode, key, f.gen, "prefetched")) != null) {
                problems.add("request " + request + " recorded twice");
            }
            return;
        }
        String outcome = null;
        boolean failed = false;
        try {
            Optional<Long> v = switch (mode) {
                case PATIENT, CLOSED, CANCELLED -> Optional.of(Coroutine.await(f.future));
                case PREFETCH -> throw new AssertionError(mode);
                case TIMEOUT -> {
                    try {
                        yield Optional.of(Coroutine.withTimeout(SHORT, () -> Coroutine.await(f.future)));
                    } catch (CoroutineTimeoutException e) {
                        yield Optional.empty();
                    }
                }
                case TRY -> Coroutine.tryWithTimeout(SHORT, () -> Coroutine.await(f.future));
                case SELECT -> new Select<Optional<Long>>()
                        .onComplete(f.future, Optional::of)
                        .onTimeout(SHORT, Optional::empty)
                        .select();
            };
            outcome = v.map(x -> "value " + x).orElse("timed out");
        } catch (CompletionException e) {
            failed = true;
            outcome = e.getCause() instanceof ComputeFailed ? "failed: " + e.getCause().getMessage() : "failed with " + e.getCause();
        } catch (CancellationException e) {
            outcome = "cancelled: " + e.getMessage(); // the cache never cancels a flight with a waiter
        } catch (CoroutineExit e) {
            outcome = "gave up";
            throw e;
        } finally {
            boolean gaveUp = outcome == null || outcome.equals("timed out") || outcome.equals("gave up");
            cache.leave(f, gaveUp, failed);
            if (gaveUp && !f.future.isDone() && f.future.getNumberOfDependents() > AWAITING_THREADS) {
                problems.add("request " + request + ": flight " + key + "/" + f.gen + " holds "
                        + f.future.getNumberOfDependents() + " dependents after its waiter gave up");
            }
            if (got.put(request, new Got(request, mode, key, f.gen, outcome == null ? "gave up" : outcome)) != null) {
                problems.add("request " + request + " recorded twice");
            }
        }
    }

    @Test
    void callersOnAPoolAndOnPlainThreadsGetWhatTheFlightTheyJoinedGaveAndTheCloseReportsExactlyTheFailuresNobodyRead()
            throws InterruptedException {
        for (long seed = 1; seed <= 10; seed++) {
            run(seed);
        }
    }

    @Test
    void waitersThatGaveUpOnAFlightOthersStillWaitForLeaveNoTraceInTheDumpNorInTheFuturesDependents() throws InterruptedException {
        String poolName = "single-flight-traces";
        CoroutinePool pool = CoroutinePool.start(poolName, 2);
        KeyPlan[] plans = new KeyPlan[KEYS + 1];
        Arrays.fill(plans, new KeyPlan(KeyKind.HANG, 0));
        Cache cache = new Cache(pool, plans);
        Map<Integer, Got> got = new ConcurrentHashMap<>();
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        int poolWaiters = 30;
        int plainWaiters = 20;
        Mode[] impatient = {Mode.TIMEOUT, Mode.TRY, Mode.SELECT};
        CompletableFuture<Void> keeperIn = new CompletableFuture<>();
        CompletableFuture<Void> plainDone = new CompletableFuture<>();
        // one body: a keeper that waits until it is closed, and waiters beside it on the same thread that time out
        CompletableFuture<List<Object>> seen = pool.submit("gives up", () -> {
            Coroutine keeper = Coroutine.create("keeper", () -> get(cache, 0, Mode.CLOSED, 0, got, problems, keeperIn));
            Coroutine.await(keeperIn);
            List<Coroutine> waiters = new ArrayList<>();
            for (int i = 1; i <= poolWaiters; i++) {
                int req = i;
                waiters.add(Coroutine.create("waiter " + i,
                        () -> get(cache, req, impatient[req % 3], 0, got, problems, new CompletableFuture<>())));
            }
            for (Coroutine w : waiters) {
                w.join();
            }
            Coroutine.await(plainDone);
            Flight f = cache.history.get(0).get(0);
            List<Object> s = List.of(Coroutine.dump(Integer.MAX_VALUE), f.future.getNumberOfDependents(), f.future.isDone());
            keeper.close();
            return s;
        });
        Coroutine.withTimeout(PoolsClosed.GUARD, () -> Coroutine.await(keeperIn));
        Thread plain = Thread.ofPlatform().name("plain").start(() -> {
            for (int i = poolWaiters + 1; i <= poolWaiters + plainWaiters; i++) {
                get(cache, i, impatient[i % 3], 0, got, problems, new CompletableFuture<>());
            }
            plainDone.complete(null);
        });
        List<Object> s = Coroutine.withTimeout(PoolsClosed.GUARD, () -> Coroutine.await(seen));
        assertThat(plain.join(PoolsClosed.GUARD)).isTrue();
        assertThat(PoolsClosed.thrownByClose(pool)).as("what the close reported").isNull();

        assertThat(problems).as("problems seen by the callers").isEmpty();
        for (int i = 1; i <= poolWaiters + plainWaiters; i++) {
            assertThat(got.get(i)).as("request %d", i).isEqualTo(new Got(i, impatient[i % 3], 0, 0, "timed out"));
        }
        assertThat(got.get(0)).as("the keeper, closed").isEqualTo(new Got(0, Mode.CLOSED, 0, 0, "gave up"));
        // while the keeper still waited: its wait alone is in the dump, and the future holds a callback per thread at most
        String dump = (String) s.get(0);
        assertThat(dump.lines().filter(l -> l.contains("'compute 0/0'")).toList()).as("the waits on the flight in:%n%s", dump)
                .singleElement().asString().startsWith("  [2] coroutine 'keeper': PARKED, waits to await the future of submit #2 "
                        + "(coroutine 'compute 0/0') to " + poolName + "[Not completed, ");
        assertThat(dump).as("the dump after the waiters timed out").doesNotContain("'waiter ");
        assertThat((Integer) s.get(1)).as("dependents of the flight, its %d other waiters gone", poolWaiters + plainWaiters)
                .isBetween(1, 2);
        assertThat(s.get(2)).as("the flight was done before the keeper gave up").isEqualTo(false);
        // the keeper's close abandoned the flight: cancelled, its computation unwound, nothing left on the future
        Flight f = cache.history.get(0).get(0);
        assertThat(cache.history.get(0)).as("flights of key 0").hasSize(1);
        assertThat(f.abandoned).isTrue();
        assertThat(f.future.state()).isEqualTo(Future.State.CANCELLED);
        assertThat(f.ended).isDone();
        assertThat(f.future.getNumberOfDependents()).isZero();
        assertThat(cache.flights).isEmpty();
    }

    private static void run(long seed) throws InterruptedException {
        Random r = new Random(seed);
        KeyPlan[] plans = new KeyPlan[KEYS + 1];
        for (int k = 0; k < KEYS; k++) {
            int roll = r.nextInt(10);
            plans[k] = new KeyPlan(roll < 4 ? KeyKind.OK : roll < 7 ? KeyKind.FLAKY : KeyKind.HANG, 1 + r.nextInt(3));
        }
        plans[KEYS] = new KeyPlan(KeyKind.OK, 0); // the key asked for only after the close
        String poolName = "single-flight-" + seed;
        CoroutinePool pool = CoroutinePool.start(poolName, 2);
        Cache cache = new Cache(pool, plans);
        Map<Integer, Got> got = new ConcurrentHashMap<>();
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        Mode[] modes = new Mode[POOL_REQUESTS + PLAIN_THREADS * PLAIN_REQUESTS];
        int[] keys = new int[modes.length];
        Mode[] all = Mode.values();
        for (int i = 0; i < modes.length; i++) {
            keys[i] = r.nextInt(KEYS);
            boolean plain = i >= POOL_REQUESTS;
            Mode m;
            do {
                m = all[r.nextInt(plain ? 5 : all.length)];
            } while (m == Mode.PATIENT && plans[keys[i]].kind() == KeyKind.HANG); // nobody would end that wait
            modes[i] = m;
        }
        List<CompletableFuture<Void>> joined = new ArrayList<>();
        for (int i = 0; i < modes.length; i++) {
            joined.add(new CompletableFuture<>());
        }
        // the plain threads' callers, racing the pool's
        List<Thread> plainThreads = new ArrayList<>();
        for (int t = 0; t < PLAIN_THREADS; t++) {
            int first = POOL_REQUESTS + t * PLAIN_REQUESTS;
            plainThreads.add(Thread.ofPlatform().name("plain-" + t).start(() -> {
                try {
                    for (int i = first; i < first + PLAIN_REQUESTS; i++) {
                        get(cache, i, modes[i], keys[i], got, problems, joined.get(i));
                    }
                } catch (Throwable e) {
                    problems.add(Thread.currentThread().getName() + " threw " + e);
                }
            }));
        }
        List<CompletableFuture<Void>> requests = new ArrayList<>();
        for (int i = 0; i < POOL_REQUESTS; i++) {
            int req = i;
            requests.add(pool.submit("request " + i, () -> {
                if (modes[req] != Mode.CLOSED) {
                    get(cache, req, modes[req], keys[req], got, problems, joined.get(req));
                    return null;
                }
                // the wait in a coroutine of its own, which the request closes once it joined, after a few turns
                CompletableFuture<Void> in = joined.get(req);
                Coroutine w = Coroutine.create("waiter " + req, () -> get(cache, req, modes[req], keys[req], got, problems, in));
                Coroutine.await(in);
                for (int k = req % 3; k > 0; k--) {
                    Coroutine.yield();
                }
                w.close();
                if (Coroutine.dump(Integer.MAX_VALUE).contains("'waiter " + req + "'")) {
                    problems.add("request " + req + ": the closed waiter is still in the dump:\n" + Coroutine.dump(Integer.MAX_VALUE));
                }
                return null;
            }));
        }
        // the test's thread cancels the submissions that wait so, once they joined
        Map<Integer, Boolean> cancelAnswers = new HashMap<>();
        for (int i = 0; i < POOL_REQUESTS; i++) {
            if (modes[i] == Mode.CANCELLED) {
                int req = i;
                Coroutine.withTimeout(PoolsClosed.GUARD, () -> Coroutine.await(joined.get(req)));
                cancelAnswers.put(i, requests.get(i).cancel(true));
            }
        }
        for (int i = 0; i < POOL_REQUESTS; i++) {
            int req = i;
            Throwable t = catchThrowable(() -> Coroutine.withTimeout(PoolsClosed.GUARD, () -> Coroutine.await(requests.get(req))));
            if (modes[i] == Mode.CANCELLED && cancelAnswers.get(i)) {
                assertThat(t).as("request %d, cancelled", i).isInstanceOf(CancellationException.class);
            } else {
                assertThat(t).as("request %d (%s)", i, modes[i]).isNull();
            }
        }
        for (Thread t : plainThreads) {
            assertThat(t.join(PoolsClosed.GUARD)).as("%s has ended", t).isTrue();
        }
        cache.shutdown();
        Throwable report = PoolsClosed.thrownByClose(pool);

        // after the close, a caller that would start a computation is refused, naming itself, the submission and the pool's state
        Throwable[] late = new Throwable[1];
        Thread lateCaller = Thread.ofPlatform().name("late-caller").start(() -> late[0] = catchThrowable(() -> cache.join(KEYS)));
        assertThat(lateCaller.join(PoolsClosed.GUARD)).isTrue();
        assertThat(late[0]).isExactlyInstanceOf(RejectedExecutionException.class)
                .hasMessageMatching("thread 'late-caller' \\(#\\d+\\) cannot submit to " + poolName
                        + " \\(closed\\): a closed pool takes no more bodies");
        assertThat(cache.history).as("the refused caller started no flight").doesNotContainKey(KEYS);

        // every caller got one outcome, as the plan of the flight it joined says
        assertThat(problems).as("problems seen by the callers (seed %d)", seed).isEmpty();
        Set<String> read = new TreeSet<>();
        for (int i = 0; i < modes.length; i++) {
            Got g = got.get(i);
            Mode m = modes[i];
            if (g == null) {
                assertThat(m).as("request %d recorded nothing", i).isEqualTo(Mode.CANCELLED);
                assertThat(cancelAnswers.get(i)).as("cancel of request %d", i).isTrue();
                continue;
            }
            assertThat(g.key()).isEqualTo(keys[i]);
            String planned = plans[g.key()].outcome(g.key(), g.gen());
            String o = g.outcome();
            if (o.startsWith("failed")) {
                read.add(g.key() + "/" + g.gen());
            }
            switch (m) {
                case PATIENT -> assertThat(o).as("request %d (%s) on %d/%d", i, m, g.key(), g.gen()).isEqualTo(planned);
                case TIMEOUT, TRY, SELECT -> assertThat(o).as("request %d (%s) on %d/%d", i, m, g.key(), g.gen())
                        .isIn(planned, "timed out");
                case PREFETCH -> assertThat(o).isEqualTo("prefetched");
                case CLOSED -> assertThat(o).as("request %d (%s) on %d/%d", i, m, g.key(), g.gen()).isIn(planned, "gave up");
                case CANCELLED -> {
                    assertThat(o).as("request %d (%s) on %d/%d", i, m, g.key(), g.gen()).isIn(planned, "gave up");
                    if (o.equals("gave up")) {
                        assertThat(cancelAnswers.get(i)).as("cancel of request %d, which gave up", i).isTrue();
                    }
                }
                default -> throw new AssertionError(m);
            }
        }

        // the flights: one at a time per key, each as its plan says, a hanging one cancelled, each run at most once
        List<String> failedFlights = new ArrayList<>();
        Map<String, Flight> byName = new HashMap<>();
        for (int k = 0; k < KEYS; k++) {
            assertThat(cache.maxActive[k].get()).as("computations of key %d at once", k).isLessThanOrEqualTo(1);
            assertThat(cache.active[k].get()).as("computations of key %d left", k).isZero();
            for (Flight f : cache.history.getOrDefault(k, List.of())) {
                String name = k + "/" + f.gen;
                byName.put(name, f);
                AtomicInteger runs = cache.runs.get(name);
                assertThat(runs == null ? 0 : runs.get()).as("runs of flight %s", name).isLessThanOrEqualTo(1);
                assertThat(f.waiters).as("waiters left on flight %s", name).isZero();
                assertThat(f.ended).as("flight %s wound down", name).isDone();
                String planned = plans[k].outcome(k, f.gen);
                if (f.abandoned) {
                    assertThat(f.future.state()).as("flight %s, abandoned", name).isEqualTo(Future.State.CANCELLED);
                } else if (planned.startsWith("value ")) {
                    assertThat(f.future.resultNow()).as("flight %s", name).isEqualTo(value(k, f.gen));
                } else {
                    assertThat(planned).as("flight %s ended though it hangs", name).startsWith("failed");
                    assertThat(f.future.state()).as("flight %s", name).isEqualTo(Future.State.FAILED);
                    failedFlights.add(name);
                }
                assertThat(f.future.getNumberOfDependents()).as("dependents of flight %s", name).isZero();
            }
        }
        // the close reports exactly the failures no caller read, in the order of their submission
        List<String> unread = new ArrayList<>();
        for (String name : failedFlights) {
            if (!read.contains(name)) {
                unread.add(name);
            }
        }
        unread.sort((a, b) -> Long.compare(submission(byName.get(a)), submission(byName.get(b))));
        List<String> reported = new ArrayList<>();
        if (report != null) {
            assertThat(report).isExactlyInstanceOf(CoroutineException.class)
                    .hasMessageStartingWith(poolName + ": a coroutine failed and nobody observed it: coroutine 'compute ");
            assertThat(report.getCause()).isExactlyInstanceOf(ComputeFailed.class);
            reported.add(flightOf(report.getCause()));
            for (Throwable t : report.getCause().getSuppressed()) {
                assertThat(t).isExactlyInstanceOf(ComputeFailed.class);
                reported.add(flightOf(t));
            }
        }
        assertThat(reported).as("the failures the close reported (seed %d)", seed).isEqualTo(unread);
        assertThat(Thread.getAllStackTraces().keySet()).as("the pool's threads after its close")
                .noneMatch(t -> t.getName().startsWith(poolName + "-"));
        for (Thread t : cache.bodyThreads) {
            assertThat(t.join(PoolsClosed.GUARD)).as("%s has ended", t).isTrue();
        }
    }

    /** The number of a flight's submission, from its future's text ("the future of submit #N ..."). */
    private static long submission(Flight f) {
        String s = f.future.toString();
        int at = s.indexOf("submit #") + "submit #".length();
        int end = at;
        while (end < s.length() && Character.isDigit(s.charAt(end))) {
            end++;
        }
        return Long.parseLong(s.substring(at, end));
    }

    private static String flightOf(Throwable computeFailed) {
        String[] w = computeFailed.getMessage().split(" ");
        return w[1] + "/" + w[3];
    }
}
