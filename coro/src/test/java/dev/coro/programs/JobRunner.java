package dev.coro.programs;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.CoroutineExit;
import dev.coro.CoroutinePool;
import dev.coro.Select;
import dev.coro.Semaphore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * A job runner a user would write on coro's public API alone: jobs taken from a channel, each run under a
 * deadline with retries and exponential back-off, at most a semaphore's permits at once, fanned out into
 * sub-jobs or hedged, cancellable as a whole, every job's outcome written once in a {@link Ledger}.
 */
final class JobRunner {

    /** What a job does on one attempt (numbered from 0); it may sleep, await, fan out or hedge through the runner. */
    interface Work {
        String run(JobRunner runner, int attempt) throws Exception;
    }

    /** A job: its id, its deadline (null: the runner's) and its work. */
    record Job(String id, Duration deadline, Work work) {
        Job(String id, Work work) {
            this(id, null, work);
        }
    }

    /** Every job's outcome, written once; a second write of a job is kept as a duplicate for the test to see. */
    static final class Ledger {
        final Map<String, String> outcomes = new ConcurrentHashMap<>();
        final List<String> duplicates = new CopyOnWriteArrayList<>();

        void record(String id, String outcome) {
            String before = outcomes.putIfAbsent(id, outcome);
            if (before != null) {
                duplicates.add(id + ": " + before + ", then " + outcome);
            }
        }
    }

    final Ledger ledger = new Ledger();
    private final Semaphore permits;
    private final Duration deadline;
    private final int attempts;
    private final Duration backOff;
    private final List<String> trace;
    private final Map<String, CompletableFuture<CompletableFuture<Void>>> running = new ConcurrentHashMap<>();
    private final Set<String> claimed = ConcurrentHashMap.newKeySet();
    private final Map<String, Coroutine> here = new ConcurrentHashMap<>();

    JobRunner(Semaphore permits, Duration deadline, int attempts, Duration backOff, List<String> trace) {
        this.permits = permits;
        this.deadline = deadline;
        this.attempts = attempts;
        this.backOff = backOff;
        this.trace = trace;
    }

    /** Notes an event, with the time on the caller's clock. */
    void note(String what) {
        trace.add(Coroutine.nanoTime() / 1_000_000 + " ms " + what);
    }

    /** Runs every job of {@code jobs} as a coroutine of this thread until the channel is closed and drained, then joins them. */
    List<Coroutine> runHere(Channel<Job> jobs) {
        List<Coroutine> started = new ArrayList<>();
        for (Job j : jobs) {
            Coroutine c = Coroutine.create("job " + j.id(), () -> run(j));
            here.put(j.id(), c);
            started.add(c);
        }
        for (Coroutine c : started) {
            c.join();
        }
        return started;
    }

    /** Runs every job of {@code jobs} as a body of {@code pool} until the channel is closed and drained; gives their futures. */
    List<CompletableFuture<Void>> runOn(CoroutinePool pool, Channel<Job> jobs) {
        List<CompletableFuture<Void>> started = new ArrayList<>();
        for (Job j : jobs) {
            CompletableFuture<Void> f = pool.submit("job " + j.id(), () -> {
                if (claim(j.id())) {
                    run(j);
                }
                return null;
            });
            slot(j.id()).complete(f);
            started.add(f);
        }
        return started;
    }

    /**
     * Cancels job {@code id}: one run by {@link #runHere} from its own thread (its coroutine is closed); one run by
     * {@link #runOn} from any thread, once it has been handed to the pool (its body is closed, or never runs);
     * its sub-jobs are closed with it.
     */
    boolean cancel(String id) {
        Coroutine c = here.get(id);
        if (c != null) {
            c.close();
            return true;
        }
        // the body may start before submit gives its future back: wait for the dispatcher to have it
        boolean cancelled = slot(id).join().cancel(true);
        if (cancelled && claim(id)) {
            // a body whose future was cancelled before it started never runs: nobody else writes its outcome
            ledger.record(id, "cancelled before it started");
            note(id + " cancelled before it started");
        }
        return cancelled;
    }

    private CompletableFuture<CompletableFuture<Void>> slot(String id) {
        return running.computeIfAbsent(id, k -> new CompletableFuture<>());
    }

    /** True for the first of the job's body and its cancel to ask: that one writes the job's outcome. */
    private boolean claim(String id) {
        return claimed.add(id);
    }

    /** Runs one job: a permit, then its attempts under its deadline; writes its outcome in the ledger once. */
    void run(Job job) {
        String outcome;
        try {
            outcome = permits.callWithPermit(() -> Coroutine.tryCallWithTimeout(
                    job.deadline() == null ? deadline : job.deadline(), () -> attempts(job))
                    .orElse("timed out"));
        } catch (CoroutineExit e) {
            ledger.record(job.id(), "cancelled");
            note(job.id() + " cancelled");
            throw e;
        } catch (Exception e) {
            outcome = "broken: " + e;
        }
        ledger.record(job.id(), outcome);
        note(job.id() + " " + outcome);
    }

    private String attempts(Job job) throws Exception {
        for (int a = 0; ; a++) {
            try {
                return "completed " + job.work().run(this, a);
            } catch (RuntimeException e) {
                note(job.id() + " attempt " + a + " failed: " + e.getMessage());
                if (a + 1 == attempts) {
                    return "failed after " + attempts + " attempts";
                }
                Coroutine.sleep(backOff.multipliedBy(1L << a));
            }
        }
    }

    /**
     * Runs each part as a coroutine of this thread, gathers their results through a channel in the order
     * they come, and closes the parts still running when the caller leaves (a failure, a timeout, a cancel).
     */
    List<Integer> fanOut(String id, List<Supplier<Integer>> parts) {
        Channel<Integer> results = new Channel<>(id + " results", parts.size());
        List<Coroutine> subs = new ArrayList<>();
        try {
            for (int i = 0; i < parts.size(); i++) {
                Supplier<Integer> p = parts.get(i);
                // a part's failure would go to main, not to this caller parked in its receive (docs/SEMANTICS.md):
                // it closes the channel with it instead, and the receive throws it here
                subs.add(Coroutine.create(id + "/" + i, () -> {
                    Integer v;
                    try {
                        v = p.get();
                    } catch (RuntimeException e) {
                        results.close(e);
                        return;
                    }
                    results.send(v);
                }));
            }
            List<Integer> got = new ArrayList<>();
            for (int i = 0; i < parts.size(); i++) {
                got.add(results.receive());
            }
            return got;
        } finally {
            for (Coroutine c : subs) {
                c.close();
            }
        }
    }

    /** Runs each part as a body of {@code pool}, awaits their results in order, cancels those left when the caller leaves. */
    List<Integer> fanOutOn(CoroutinePool pool, String id, List<Supplier<Integer>> parts) {
        List<CompletableFuture<Integer>> subs = new ArrayList<>();
        try {
            for (int i = 0; i < parts.size(); i++) {
                subs.add(pool.submit(id + "/" + i, parts.get(i)));
            }
            List<Integer> got = new ArrayList<>();
            for (CompletableFuture<Integer> f : subs) {
                got.add(Coroutine.await(f));
            }
            return got;
        } finally {
            for (CompletableFuture<Integer> f : subs) {
                f.cancel(true);
            }
        }
    }

    /**
     * A hedged request: a primary replica answering through a channel and a backup answering through a future,
     * both started at once; the first answer wins, or {@code none} after {@code patience}; both replicas are
     * closed as the caller leaves.
     */
    String hedge(String id, Supplier<String> primary, Supplier<String> backup, Duration patience) {
        Channel<String> fromPrimary = new Channel<>(id + " primary", 1);
        CompletableFuture<String> fromBackup = new CompletableFuture<>();
        Coroutine p = Coroutine.create(id + "/primary", () -> fromPrimary.send(primary.get()));
        Coroutine b = Coroutine.create(id + "/backup", () -> fromBackup.complete(backup.get()));
        try {
            return new Select<String>()
                    .onReceive(fromPrimary, v -> "primary " + v)
                    .onComplete(fromBackup, v -> "backup " + v)
                    .onTimeout(patience, () -> "none")
                    .select();
        } finally {
            p.close();
            b.close();
        }
    }

    /**
     * A hedged request across threads: a primary replica of this thread answering through a channel and a backup
     * run as a body of {@code pool}; the first answer wins, or {@code none} after {@code patience}. The primary is
     * closed as the caller leaves, the backup cancelled; a backup that failed before its cancel has its failure
     * read, or the pool's close would report it as a failure nobody observed.
     */
    String hedgeOn(CoroutinePool pool, String id, Supplier<String> primary, Supplier<String> backup, Duration patience) {
        Channel<String> fromPrimary = new Channel<>(id + " primary", 1);
        Coroutine p = Coroutine.create(id + "/primary", () -> fromPrimary.send(primary.get()));
        CompletableFuture<String> b = pool.submit(id + "/backup", backup);
        try {
            return new Select<String>()
                    .onReceive(fromPrimary, v -> "primary " + v)
                    .onComplete(b, v -> "backup " + v)
                    .onTimeout(patience, () -> "none")
                    .select();
        } finally {
            p.close();
            if (!b.cancel(true) && b.isCompletedExceptionally()) {
                b.exceptionNow();
            }
        }
    }
}
