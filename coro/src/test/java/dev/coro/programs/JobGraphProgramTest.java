package dev.coro.programs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.CoroutineException;
import dev.coro.CoroutineExit;
import dev.coro.CoroutinePool;
import dev.coro.CoroutineTimeoutException;
import dev.coro.FreshThread;
import dev.coro.PoolName;
import dev.coro.PoolsClosed;
import dev.coro.Select;
import dev.coro.Semaphore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A job graph a user would run on a {@link CoroutinePool} of two threads: a few hundred jobs, each a body
 * that awaits its dependencies' futures (one by one with {@code Coroutine.await}, or whichever comes first
 * with a {@code Select} of {@code onComplete} clauses), then, holding a permit of a semaphore of the test's
 * thread, makes its attempts under a deadline of its own,
 * retrying with a back-off sleep, and sends its outcome through a channel of the test's thread; some jobs
 * break, some outlast their deadline, some are cancelled from the test's thread at random moments. Every
 * job's outcome is checked against a model computed sequentially, and so are its attempts, its runs (never
 * two), its future, and what the pool's close reports: the failures nobody read, in the order of submission.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
@Timeout(120)
class JobGraphProgramTest {

    private static final int JOBS = 300;
    private static final int ATTEMPTS = 3;
    private static final long MOD = 1_000_003;
    private static final Duration SHORT_DEADLINE = Duration.ofMillis(20);
    private static final int PERMITS = 3;

    /** What a job does: completes, fails some attempts first, always fails, outlasts its deadline working or backing off, or waits until cancelled. */
    enum Kind { OK, FLAKY, BROKEN, SLOW, STALLED, CANCELLED }

    /** A job: its kind, how many attempts of a flaky one fail, its dependencies, how it awaits them, whether the test reads its future. */
    record Spec(int id, Kind kind, int failFirst, int[] deps, boolean bySelect, boolean readByTest) { }

    /** What a job's body sends once it has ended by itself. */
    record Result(int id, String outcome) { }

    /** A job's failure: its id and why. */
    static final class JobFailed extends RuntimeException {
        JobFailed(int id, String why) {
            super("job " + id + ": " + why);
        }
    }

    private static List<Spec> graph(long seed) {
        Random r = new Random(seed);
        List<Spec> specs = new ArrayList<>();
        for (int i = 0; i < JOBS; i++) {
            int roll = r.nextInt(100);
            Kind kind = roll < 52 ? Kind.OK : roll < 70 ? Kind.FLAKY : roll < 78 ? Kind.BROKEN : roll < 83 ? Kind.SLOW
                    : roll < 88 ? Kind.STALLED : Kind.CANCELLED;
            Set<Integer> deps = new LinkedHashSet<>();
            if (kind != Kind.CANCELLED && i > 0) {
                int n = r.nextInt(4);
                for (int k = 0; k < n; k++) {
                    deps.add(r.nextInt(i));
                }
            }
            specs.add(new Spec(i, kind, 1 + r.nextInt(ATTEMPTS - 1), deps.stream().mapToInt(Integer::intValue).toArray(),
                    r.nextBoolean(), r.nextInt(3) == 0));
        }
        return specs;
    }

    /** The model: each job's outcome, computed in order (dependencies come first). */
    private static List<String> model(List<Spec> specs) {
        List<String> out = new ArrayList<>();
        List<Long> values = new ArrayList<>();
        for (Spec s : specs) {
            long value = s.id();
            String outcome = null;
            for (int d : s.deps()) {
                if (values.get(d) == null) {
                    outcome = outcome == null ? "dependency job " + d + " failed" : outcome;
                } else {
                    value = (value + values.get(d)) % MOD;
                }
            }
            if (outcome == null) {
                outcome = switch (s.kind()) {
                    case OK, FLAKY -> "value " + value;
                    case BROKEN -> "failed after " + ATTEMPTS + " attempts";
                    case SLOW, STALLED -> "timed out";
                    case CANCELLED -> "cancelled";
                };
            }
            out.add(outcome);
            values.add(outcome.startsWith("value ") ? value : null);
        }
        return out;
    }

    private static int expectedAttempts(Spec s, String outcome) {
        return switch (s.kind()) {
            case CANCELLED -> 0;
            default -> outcome.startsWith("dependency") ? 0 : switch (s.kind()) {
                case FLAKY -> s.failFirst() + 1;
                case BROKEN -> ATTEMPTS;
                default -> 1;
            };
        };
    }

    @Test
    void aGraphOfJobsOnAPoolEndsEachJobAsTheSequentialModelSaysRunsNoneTwiceAndTheCloseReportsTheUnreadFailuresInOrder()
            throws InterruptedException {
        for (long seed = 1; seed <= 3; seed++) {
            run(seed);
        }
    }

    @Test
    void cancelsFromAPlainThreadRacingTheJobsLeaveEachJobAsTheFuturesOfItsDependenciesSayAndNoneRunTwice()
            throws InterruptedException {
        for (long seed = 1; seed <= 3; seed++) {
            runRaced(seed, false);
        }
    }

    @Test
    void aCloseNowFromAPlainThreadAtARandomMomentEndsEveryJobOnceAndLeavesEachAsTheFuturesOfItsDependenciesSay()
            throws InterruptedException {
        for (long seed = 1; seed <= 3; seed++) {
            runRaced(seed, true);
        }
    }

    /**
     * The graph of {@code seed}, a tenth of its jobs also cancelled from a plain thread at random moments, racing
     * their bodies: which cancels win is the race's, so the model is computed afterwards from the futures (a job
     * whose future was cancelled counts as cancelled for its dependents), and every other job must agree with it.
     * With {@code closeNow}, no job is cancelled: the plain thread calls the pool's {@code closeNow()} at a random
     * moment instead, which never starts the bodies waiting to start (their futures cancelled) and unwinds the others
     * (their futures failed with the {@code CoroutineExit}); the jobs that ended before it must agree with the model.
     */
    private static void runRaced(long seed, boolean closeNow) throws InterruptedException {
        List<Spec> specs = graph(seed);
        Random driver = new Random(seed * 17);
        List<Integer> raced = new ArrayList<>();
        for (Spec s : specs) {
            if (!closeNow && s.kind() != Kind.CANCELLED && driver.nextInt(10) == 0) {
                raced.add(s.id());
            }
        }
        java.util.Collections.shuffle(raced, driver);
        String poolName = (closeNow ? "job-graph-closed-now-" : "job-graph-raced-") + seed;
        CoroutinePool pool = CoroutinePool.start(poolName, 2);
        Channel<Result> results = new Channel<>("results", JOBS);
        Semaphore permits = new Semaphore("workers", PERMITS);
        Map<Integer, String> gathered = new ConcurrentHashMap<>();
        List<String> duplicates = new ArrayList<>();
        Coroutine gatherer = Coroutine.create("gatherer", () -> {
            for (Result res : results) {
                if (gathered.putIfAbsent(res.id(), res.outcome()) != null) {
                    duplicates.add(res.id() + ": " + res.outcome());
                }
            }
        });
        AtomicIntegerArray runs = new AtomicIntegerArray(JOBS);
        AtomicIntegerArray attempts = new AtomicIntegerArray(JOBS);
        AtomicReferenceArray<Throwable> unwoundBy = new AtomicReferenceArray<>(JOBS);
        Set<Thread> bodyThreads = ConcurrentHashMap.newKeySet();
        CompletableFuture<Void> never = new CompletableFuture<>();
        List<CompletableFuture<Long>> futures = new ArrayList<>();
        for (Spec s : specs) {
            List<CompletableFuture<Long>> deps = new ArrayList<>();
            for (int d : s.deps()) {
                deps.add(futures.get(d));
            }
            futures.add(pool.submit("job " + s.id(), () -> {
                runs.incrementAndGet(s.id());
                bodyThreads.add(Thread.currentThread());
                try {
                    return job(s, deps, never, attempts, results, permits);
                } catch (CoroutineExit e) {
                    unwoundBy.set(s.id(), e);
                    throw e;
                }
            }));
        }
        Map<Integer, Boolean> answers = new ConcurrentHashMap<>();
        CompletableFuture<Void> cancelled = new CompletableFuture<>();
        AtomicReferenceArray<Throwable> closedNow = new AtomicReferenceArray<>(1);
        long spins = seed * 7919;
        Thread canceller = Thread.ofPlatform().name("canceller").start(() -> {
            Random r = new Random(spins);
            if (closeNow) {
                for (int k = r.nextInt(2_000_000); k > 0; k--) {
                    Thread.onSpinWait();
                }
                closedNow.set(0, catchThrowable(pool::closeNow));
                cancelled.complete(null);
                return;
            }
            for (int id : raced) {
                for (int k = r.nextInt(20_000); k > 0; k--) {
                    Thread.onSpinWait();
                }
                answers.put(id, futures.get(id).cancel(true));
            }
            for (Spec s : specs) {
                if (s.kind() == Kind.CANCELLED) {
                    answers.put(s.id(), futures.get(s.id()).cancel(true));
                }
            }
            cancelled.complete(null);
        });
        Set<Integer> read = new LinkedHashSet<>();
        for (Spec s : specs) {
            if (s.readByTest()) {
                catchThrowable(() -> Coroutine.withTimeout(PoolsClosed.GUARD, () -> Coroutine.await(futures.get(s.id()))));
                read.add(s.id());
            }
        }
        Coroutine.withTimeout(PoolsClosed.GUARD, () -> Coroutine.await(cancelled));
        Throwable report = PoolsClosed.thrownByClose(pool);
        if (closeNow) {
            assertThat(report).as("a close after the closeNow, which reported").isNull();
            report = closedNow.get(0);
        }
        results.close();
        Coroutine.withTimeout(PoolsClosed.GUARD, gatherer::join);
        assertThat(permits.availablePermits()).as("permits free once every job has ended").isEqualTo(PERMITS);
        assertThat(canceller.join(PoolsClosed.GUARD)).isTrue();

        // the model, from the futures: each job's own outcome (what its body makes of its dependencies' futures)
        assertThat(duplicates).as("outcomes sent twice").isEmpty();
        List<Long> values = new ArrayList<>();
        Set<Integer> failing = new LinkedHashSet<>();
        // the test's reads come before the close, but they may come after a closeNow that reported already
        Set<Integer> readForSure = new LinkedHashSet<>(closeNow ? Set.of() : read);
        Set<Integer> readMaybe = new LinkedHashSet<>(read);
        for (Spec s : specs) {
            int id = s.id();
            CompletableFuture<Long> f = futures.get(id);
            long value = id;
            String own = null;
            for (int d : s.deps()) {
                readMaybe.add(d);
                if (!gone(f)) {
                    readForSure.add(d); // a body that was neither cancelled nor unwound awaited every dependency
                }
                if (values.get(d) == null) {
                    own = own == null ? "dependency job " + d + " failed" : own;
                } else {
                    value = (value + values.get(d)) % MOD;
                }
            }
            if (own == null) {
                own = switch (s.kind()) {
                    case OK, FLAKY -> "value " + value;
                    case BROKEN -> "failed after " + ATTEMPTS + " attempts";
                    case SLOW, STALLED -> "timed out";
                    case CANCELLED -> "cancelled";
                };
            }
            assertThat(runs.get(id)).as("runs of job %d (%s)", id, s.kind()).isLessThanOrEqualTo(1);
            if (gone(f)) {
                values.add(null);
                if (closeNow && f.state() == Future.State.CANCELLED) {
                    assertThat(runs.get(id)).as("runs of job %d, which the closeNow kept from starting", id).isZero();
                } else if (closeNow) {
                    assertThat(runs.get(id)).as("runs of job %d, which the closeNow unwound", id).isEqualTo(1);
                    assertThat(unwoundBy.get(id)).as("what ended job %d", id).isSameAs(f.exceptionNow());
                } else {
                    assertThat(answers.get(id)).as("cancel of job %d, whose future is cancelled", id).isTrue();
                }
                assertThat(gathered.get(id)).as("what job %d sent, cancelled", id).isIn(null, own);
                assertThat(attempts.get(id)).as("attempts of job %d, cancelled", id).isLessThanOrEqualTo(expectedAttempts(s, own));
                if (runs.get(id) == 0) {
                    assertThat(gathered).as("job %d never ran", id).doesNotContainKey(id);
                } else if (gathered.get(id) == null && s.kind() != Kind.CANCELLED) {
                    assertThat(unwoundBy.get(id)).as("what ended job %d, which sent nothing", id).isInstanceOf(CoroutineExit.class);
                }
                continue;
            }
            assertThat(s.kind()).as("job %d", id).isNotEqualTo(Kind.CANCELLED);
            assertThat(runs.get(id)).as("runs of job %d", id).isEqualTo(1);
            assertThat(answers.get(id)).as("cancel of job %d, whose future is not cancelled", id).isIn(null, false);
            assertThat(gathered.get(id)).as("what job %d sent", id).isEqualTo(own);
            assertThat(attempts.get(id)).as("attempts of job %d", id).isEqualTo(expectedAttempts(s, own));
            if (own.startsWith("value ")) {
                values.add(value);
                assertThat(f.resultNow()).as("job %d", id).isEqualTo(value);
            } else {
                values.add(null);
                failing.add(id);
                assertThat(f.state()).as("job %d", id).isEqualTo(Future.State.FAILED);
            }
        }
        // the close reports, in the order of submission, every failure nobody may have read, and none surely read
        List<Integer> reported = new ArrayList<>();
        if (report != null) {
            assertThat(report).isExactlyInstanceOf(CoroutineException.class)
                    .hasMessageStartingWith(poolName + ": a coroutine failed and nobody observed it: coroutine 'job ");
            assertThat(report.getCause()).isExactlyInstanceOf(JobFailed.class);
            reported.add(idOf(report.getCause()));
            for (Throwable t : report.getCause().getSuppressed()) {
                assertThat(t).isExactlyInstanceOf(JobFailed.class);
                reported.add(idOf(t));
            }
        }
        List<Integer> mustReport = new ArrayList<>();
        List<Integer> mayReport = new ArrayList<>();
        for (int id : failing) {
            if (!readMaybe.contains(id)) {
                mustReport.add(id);
            }
            if (!readForSure.contains(id)) {
                mayReport.add(id);
            }
        }
        assertThat(reported).as("the failures close reported (seed %d)", seed).isSorted().doesNotHaveDuplicates()
                .containsAll(mustReport).isSubsetOf(mayReport);
        assertThat(Thread.getAllStackTraces().keySet()).as("the pool's threads after its close")
                .noneMatch(t -> t.getName().startsWith(poolName + "-"));
        for (Thread t : bodyThreads) {
            assertThat(t.join(PoolsClosed.GUARD)).as("%s has ended", t).isTrue();
        }
    }

    /** Whether {@code f}'s body was kept from giving its outcome: its future cancelled, or failed with the signal of a close. */
    private static boolean gone(CompletableFuture<Long> f) {
        return f.state() == Future.State.CANCELLED
                || f.state() == Future.State.FAILED && f.exceptionNow() instanceof CoroutineExit;
    }

    private static int idOf(Throwable jobFailed) {
        String m = jobFailed.getMessage();
        return Integer.parseInt(m.substring("job ".length(), m.indexOf(':')));
    }

    private static void run(long seed) throws InterruptedException {
        List<Spec> specs = graph(seed);
        List<String> expected = model(specs);
        Random driver = new Random(seed * 31);
        String poolName = "job-graph-" + seed;
        CoroutinePool pool = CoroutinePool.start(poolName, 2);
        Channel<Result> results = new Channel<>("results", JOBS);
        Semaphore permits = new Semaphore("workers", PERMITS);
        Map<Integer, String> gathered = new ConcurrentHashMap<>();
        List<String> duplicates = new ArrayList<>();
        Coroutine gatherer = Coroutine.create("gatherer", () -> {
            for (Result res : results) {
                if (gathered.putIfAbsent(res.id(), res.outcome()) != null) {
                    duplicates.add(res.id() + ": " + res.outcome());
                }
            }
        });
        AtomicIntegerArray runs = new AtomicIntegerArray(JOBS);
        AtomicIntegerArray attempts = new AtomicIntegerArray(JOBS);
        AtomicReferenceArray<Throwable> unwoundBy = new AtomicReferenceArray<>(JOBS);
        Set<Thread> bodyThreads = ConcurrentHashMap.newKeySet();
        CompletableFuture<Void> never = new CompletableFuture<>();
        List<CompletableFuture<Long>> futures = new ArrayList<>();
        List<CompletableFuture<Void>> started = new ArrayList<>();
        List<Integer> cancelLater = new ArrayList<>();
        Map<Integer, Boolean> cancelAnswers = new HashMap<>();
        for (Spec s : specs) {
            CompletableFuture<Void> go = new CompletableFuture<>();
            started.add(go);
            List<CompletableFuture<Long>> deps = new ArrayList<>();
            for (int d : s.deps()) {
                deps.add(futures.get(d));
            }
            CompletableFuture<Long> f = pool.submit("job " + s.id(), () -> {
                runs.incrementAndGet(s.id());
                bodyThreads.add(Thread.currentThread());
                go.complete(null);
                try {
                    return job(s, deps, never, attempts, results, permits);
                } catch (CoroutineExit e) {
                    unwoundBy.set(s.id(), e);
                    throw e;
                }
            });
            futures.add(f);
            if (s.kind() == Kind.CANCELLED) {
                switch (driver.nextInt(3)) {
                    case 0 -> cancelAnswers.put(s.id(), f.cancel(true)); // before it starts, or as it does
                    case 1 -> {
                        Coroutine.withTimeout(PoolsClosed.GUARD, () -> Coroutine.await(go)); // once it waits
                        cancelAnswers.put(s.id(), f.cancel(true));
                    }
                    default -> cancelLater.add(s.id());
                }
            }
        }
        for (int id : cancelLater) {
            cancelAnswers.put(id, futures.get(id).cancel(true));
        }
        // the test reads some futures itself, waiting for them; the failures it reads are not reported
        Set<Integer> read = new LinkedHashSet<>();
        for (Spec s : specs) {
            if (s.readByTest()) {
                Throwable t = catchThrowable(() -> Coroutine.withTimeout(PoolsClosed.GUARD, () -> Coroutine.await(futures.get(s.id()))));
                read.add(s.id());
                String outcome = expected.get(s.id());
                if (outcome.startsWith("value ")) {
                    assertThat(t).as("job %d", s.id()).isNull();
                } else if (outcome.equals("cancelled")) {
                    assertThat(t).as("job %d", s.id()).isInstanceOf(CancellationException.class);
                } else {
                    assertThat(t).as("job %d", s.id()).isExactlyInstanceOf(CompletionException.class)
                            .cause().isExactlyInstanceOf(JobFailed.class).hasMessage("job " + s.id() + ": " + outcome);
                }
            }
        }
        Throwable report = PoolsClosed.thrownByClose(pool);
        results.close();
        Coroutine.withTimeout(PoolsClosed.GUARD, gatherer::join);
        assertThat(permits.availablePermits()).as("permits free once every job has ended").isEqualTo(PERMITS);

        // every job ended as the model says, once; each that ended by itself sent its outcome once
        assertThat(duplicates).as("outcomes sent twice").isEmpty();
        Map<Integer, String> expectedSent = new HashMap<>();
        Set<Integer> dependedOn = new LinkedHashSet<>();
        for (Spec s : specs) {
            for (int d : s.deps()) {
                dependedOn.add(d);
            }
        }
        List<Integer> unread = new ArrayList<>();
        for (Spec s : specs) {
            int id = s.id();
            String outcome = expected.get(id);
            CompletableFuture<Long> f = futures.get(id);
            assertThat(runs.get(id)).as("runs of job %d (%s)", id, s.kind()).isLessThanOrEqualTo(1);
            assertThat(attempts.get(id)).as("attempts of job %d (%s)", id, s.kind()).isEqualTo(expectedAttempts(s, outcome));
            if (s.kind() == Kind.CANCELLED) {
                assertThat(cancelAnswers.get(id)).as("cancel of job %d", id).isTrue();
                assertThat(f.state()).as("job %d", id).isEqualTo(Future.State.CANCELLED);
                if (runs.get(id) == 1) {
                    assertThat(unwoundBy.get(id)).as("what unwound job %d", id).isInstanceOf(CoroutineExit.class);
                } else {
                    assertThat(started.get(id)).as("job %d never ran", id).isNotDone();
                }
                continue;
            }
            assertThat(runs.get(id)).as("runs of job %d", id).isEqualTo(1);
            expectedSent.put(id, outcome);
            if (outcome.startsWith("value ")) {
                assertThat(f.state()).as("job %d", id).isEqualTo(Future.State.SUCCESS);
                assertThat(f.resultNow()).as("job %d", id).isEqualTo(Long.parseLong(outcome.substring(6)));
            } else {
                assertThat(f.state()).as("job %d", id).isEqualTo(Future.State.FAILED);
                if (!dependedOn.contains(id) && !read.contains(id)) {
                    unread.add(id);
                }
            }
        }
        assertThat(gathered).as("the outcomes the jobs sent (seed %d)", seed).isEqualTo(expectedSent);

        // the close reports the failures nobody read: the first as its cause, the others suppressed in it, in order
        assertThat(unread).as("failures nobody read (seed %d)", seed).isNotEmpty().hasSizeLessThan(100);
        int first = unread.get(0);
        int more = unread.size() - 1;
        assertThat(report).as("what close reported (seed %d)", seed).isExactlyInstanceOf(CoroutineException.class)
                .hasMessageMatching(poolName + ": a coroutine failed and nobody observed it: coroutine 'job " + first + "' on thread "
                        + PoolName.anyThreadPattern(pool) + ", running the body of submit #" + (first + 1) + ", threw "
                        + JobFailed.class.getName().replace("$", "\\$") + ": job " + first + ": " + expected.get(first)
                        + (more == 0 ? "" : "; " + more + " more failures? suppressed"));
        Throwable cause = report.getCause();
        assertThat(cause).isExactlyInstanceOf(JobFailed.class).hasMessage("job " + first + ": " + expected.get(first));
        List<String> suppressed = new ArrayList<>();
        for (Throwable t : cause.getSuppressed()) {
            suppressed.add(t.getMessage());
        }
        List<String> expectedSuppressed = new ArrayList<>();
        for (int id : unread.subList(1, unread.size())) {
            expectedSuppressed.add("job " + id + ": " + expected.get(id));
        }
        assertThat(suppressed).as("the later failures, suppressed in the first").isEqualTo(expectedSuppressed);

        // no thread is left: the pool's threads have ended, and so has every thread a body ran on
        assertThat(Thread.getAllStackTraces().keySet()).as("the pool's threads after its close")
                .noneMatch(t -> t.getName().startsWith(poolName + "-"));
        for (Thread t : bodyThreads) {
            assertThat(t.join(PoolsClosed.GUARD)).as("%s has ended", t).isTrue();
        }
    }

    /** The body of job {@code s}: its dependencies, then its attempts under its deadline; sends its outcome, then returns or throws it. */
    private static long job(Spec s, List<CompletableFuture<Long>> deps, CompletableFuture<Void> never,
            AtomicIntegerArray attempts, Channel<Result> results, Semaphore permits) {
        if (s.kind() == Kind.CANCELLED) {
            Coroutine.await(never); // only its cancel ends it
            throw new AssertionError("job " + s.id() + " went past a future that never completes");
        }
        if (s.bySelect()) {
            List<CompletableFuture<Long>> pending = new ArrayList<>(deps);
            while (!pending.isEmpty()) {
                Select<Integer> sel = new Select<>();
                for (int k = 0; k < pending.size(); k++) {
                    int index = k;
                    sel.onComplete(pending.get(k), v -> index);
                }
                try {
                    sel.select();
                } catch (CompletionException | CancellationException e) {
                    // a dependency failed or was cancelled: read below, in order, with the others
                }
                pending.removeIf(CompletableFuture::isDone);
            }
        }
        long value = s.id();
        String failed = null;
        for (int k = 0; k < deps.size(); k++) {
            try {
                value = (value + Coroutine.await(deps.get(k))) % MOD;
            } catch (CompletionException | CancellationException e) {
                failed = failed == null ? "dependency job " + s.deps()[k] + " failed" : failed;
            }
        }
        if (failed != null) {
            results.send(new Result(s.id(), failed));
            throw new JobFailed(s.id(), failed);
        }
        long v = value;
        Duration deadline = s.kind() == Kind.SLOW || s.kind() == Kind.STALLED ? SHORT_DEADLINE : PoolsClosed.GUARD;
        // a permit of the test thread's semaphore for the attempts: at most PERMITS jobs make theirs at once
        Optional<String> outcome = permits.callWithPermit(() -> {
            if (s.id() % 2 == 0) {
                return Coroutine.tryCallWithTimeout(deadline, () -> attempts(s, v, attempts));
            }
            try {
                return Optional.of(Coroutine.withTimeout(deadline, () -> attempts(s, v, attempts)));
            } catch (CoroutineTimeoutException e) {
                return Optional.empty();
            }
        });
        String o = outcome.orElse("timed out");
        results.send(new Result(s.id(), o));
        if (!o.startsWith("value ")) {
            throw new JobFailed(s.id(), o);
        }
        return v;
    }

    private static String attempts(Spec s, long value, AtomicIntegerArray attempts) {
        for (int a = 0; ; a++) {
            attempts.incrementAndGet(s.id());
            boolean fails = switch (s.kind()) {
                case FLAKY -> a < s.failFirst();
                case BROKEN, STALLED -> true;
                default -> false;
            };
            if (s.kind() == Kind.SLOW) {
                Coroutine.sleep(Duration.ofDays(1)); // its deadline ends it
            }
            if (!fails) {
                return "value " + value;
            }
            if (a + 1 == ATTEMPTS) {
                return "failed after " + ATTEMPTS + " attempts";
            }
            // a stalled job's back-off outlasts its deadline
            Coroutine.sleep(s.kind() == Kind.STALLED ? Duration.ofDays(1) : Duration.ofMillis(1L << a));
        }
    }
}
