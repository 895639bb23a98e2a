package dev.coro.programs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.Channel;
import dev.coro.ChannelClosedException;
import dev.coro.Coroutine;
import dev.coro.CoroutineException;
import dev.coro.CoroutineExit;
import dev.coro.CoroutinePool;
import dev.coro.CoroutineTimeoutException;
import dev.coro.FreshThread;
import dev.coro.PoolsClosed;
import dev.coro.Semaphore;
import dev.coro.VirtualTime;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A service a user would guard with a bulkhead and a rate limiter. The bulkhead is a {@link Semaphore} of a few permits,
 * made on one thread of a {@link CoroutinePool}, called by the coroutines of the pool's threads and by platform and
 * virtual threads, every way the semaphore offers ({@code withPermit}, {@code callWithPermit} with a checked exception
 * thrown through it, {@code acquire} and {@code release} by hand, {@code tryAcquire} now and timed), some calls under a
 * {@code withTimeout} or {@code tryWithTimeout} that expires while they wait for a permit or hold one (the guarded call
 * sleeps, awaits a future a plain thread completes, sends on a channel of the test's thread, or hangs), some callers
 * closed by the coroutine that made them or their submission cancelled, and the pool closed ({@code close()} or
 * {@code closeNow()}) at a random point while the plain threads go on calling. Checked: never more holders than
 * permits; every caller ended once, as its mode allows; every permit free again but those whose release was refused
 * once the semaphore's thread had ended; every refusal naming its caller, the call and the state; the waits shown in
 * a dump as the semaphore's calls; every value sent on the channel received once. The rate limiter is a token bucket, a
 * buffered {@link Channel} a ticker coroutine refills under {@link VirtualTime#run}, whose clients take tokens every way
 * a channel offers, some closed; what each got, and when, is checked against a sequential model.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
@Timeout(120)
class BulkheadProgramTest {

    private static final int POOL_REQUESTS = 150;
    private static final int PLAIN_REQUESTS = 30;
    /** The plain callers: platform threads and virtual ones, in turn. */
    private static final int PLAIN_THREADS = 4;
    private static final int WINDOW = 24;

    /** How a caller gets its permit. */
    enum Mode { WITH_PERMIT, CALL_CHECKED, MANUAL, TRY_NOW, TRY_TIMED, TIMEOUT, TRY_TIMEOUT, CLOSED, CANCELLED }

    /** What the guarded call does while it holds the permit. */
    enum Work { SLEEP, AWAIT, SEND, HANG, THROW }

    /** One call: who makes it, how, and what the guarded call does; {@code inner}: the mode of a closed or cancelled caller. */
    record Req(int id, boolean plain, Mode mode, Mode inner, Work work, int ms, int yields) { }

    /** The service's checked failure, thrown through {@code callWithPermit}. */
    static final class ServiceException extends Exception {
        final int id;

        ServiceException(int id) {
            super("request " + id + " failed");
            this.id = id;
        }
    }

    /** The program of one seed: the service, its bulkhead, and what the callers saw. */
    static final class Program {
        final int permits;
        final Semaphore sem;
        final Thread owner;
        final Channel<Integer> ledger;
        final AtomicInteger inside = new AtomicInteger();
        final AtomicInteger most = new AtomicInteger();
        final AtomicInteger lost = new AtomicInteger();
        final AtomicBoolean closeStarted = new AtomicBoolean();
        final Map<Integer, String> outcomes = new ConcurrentHashMap<>();
        final Set<Integer> sendTried = ConcurrentHashMap.newKeySet();
        final Set<Integer> sendReturned = ConcurrentHashMap.newKeySet();
        final LinkedBlockingQueue<Object[]> completions = new LinkedBlockingQueue<>();
        final CompletableFuture<Integer> never = new CompletableFuture<>();
        final ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        final Map<String, AtomicInteger> seen = new ConcurrentHashMap<>();

        Program(int permits, Semaphore sem, Thread owner, Channel<Integer> ledger) {
            this.permits = permits;
            this.sem = sem;
            this.owner = owner;
            this.ledger = ledger;
        }

        void record(int id, String outcome) {
            if (outcomes.putIfAbsent(id, outcome) != null) {
                problems.add("request " + id + " ended twice: " + outcomes.get(id) + ", then " + outcome);
            }
            seen.computeIfAbsent(outcome, k -> new AtomicInteger()).incrementAndGet();
        }

        /** The guarded call: counts its holders, then does its work. */
        String serve(Req q, AtomicBoolean entered) {
            entered.set(true);
            int now = inside.incrementAndGet();
            most.accumulateAndGet(now, Math::max);
            if (now > permits) {
                problems.add("request " + q.id() + ": " + now + " holders of " + permits + " permits at once");
            }
            try {
                switch (q.work()) {
                    case SLEEP -> Coroutine.sleep(Duration.ofMillis(q.ms() % 3));
                    case AWAIT -> {
                        CompletableFuture<Integer> f = new CompletableFuture<>();
                        completions.add(new Object[] {f, q.id()});
                        int v = Coroutine.await(f);
                        if (v != q.id()) {
                            problems.add("request " + q.id() + " awaited " + v);
                        }
                    }
                    case SEND -> {
                        sendTried.add(q.id());
                        ledger.send(q.id());
                        sendReturned.add(q.id());
                    }
                    case HANG -> {
                        Coroutine.await(never);
                        problems.add("request " + q.id() + " went past a future that never completes");
                    }
                    case THROW -> throw new AssertionError("a THROW outside callWithPermit");
                    default -> throw new AssertionError(q.work());
                }
                return "served";
            } finally {
                inside.decrementAndGet();
            }
        }

        String serveChecked(Req q, AtomicBoolean entered) throws ServiceException {
            if (q.work() == Work.THROW) {
                entered.set(true);
                int now = inside.incrementAndGet();
                most.accumulateAndGet(now, Math::max);
                inside.decrementAndGet();
                throw new ServiceException(q.id());
            }
            return serve(q, entered);
        }

        /** Makes the call of {@code q} in the calling context: in a coroutine of its own that it closes, or in place. */
        void call(Req q) {
            if (q.id() % 5 == 0) {
                lookAtTheWaits(q);
            }
            if (q.mode() == Mode.CLOSED) {
                Coroutine child = Coroutine.create("caller " + q.id(), () -> guarded(q, q.inner()));
                for (int k = 0; k < q.yields(); k++) {
                    Coroutine.yield();
                }
                try {
                    child.close();
                } catch (CoroutineException e) {
                    // its signal carried the refusal of its release (counted by the caller): it ended FAILED by it
                    if (!(q.plain() && e.getCause() instanceof IllegalStateException ise
                            && ise.getMessage().startsWith("coroutine 'caller " + q.id() + "' of thread ")
                            && ise.getMessage().contains(" cannot release ") && ise.getMessage().endsWith(", which has ended"))) {
                        problems.add("request " + q.id() + ": its close threw " + e);
                    }
                }
                if (!outcomes.containsKey(q.id())) {
                    record(q.id(), "closed before it ran"); // closed NEW: its body never ran
                }
                if (!child.isFinished()) {
                    problems.add("request " + q.id() + ": its caller is " + child.state() + " after its close");
                }
            } else {
                guarded(q, q.mode() == Mode.CANCELLED ? q.inner() : q.mode());
            }
        }

        /**
         * Every line of the calling thread's dump that names the semaphore names a wait for a permit as its call, with
         * the semaphore's thread where it is another's, and its permits free within its count; none names the channel
         * of its permits.
         */
        void lookAtTheWaits(Req q) {
            boolean own = Coroutine.current().thread() == owner;
            Pattern wait = Pattern.compile("  \\[\\d+\\] coroutine '(caller \\d+|request \\d+)': PARKED, waits to (acquire|tryAcquire) a permit of "
                    + Pattern.quote("Semaphore[bulkhead, ") + "\\d+" + Pattern.quote(" of " + permits + " permits free]")
                    + (own ? "" : Pattern.quote(" of thread " + describe(owner))));
            String dump = Coroutine.dump(Integer.MAX_VALUE);
            for (String line : dump.lines().toList()) {
                if (line.contains("(semaphore)") || line.contains("Semaphore[") && !wait.matcher(line).matches()) {
                    problems.add("request " + q.id() + ": a dump line reads " + line + "; expected " + wait);
                } else if (line.contains("Semaphore[")) {
                    seen.computeIfAbsent("dump lines of waits for a permit", k -> new AtomicInteger()).incrementAndGet();
                    int free = Integer.parseInt(line.replaceAll(".*Semaphore\\[bulkhead, (\\d+) of.*", "$1"));
                    if (free > permits) {
                        problems.add("request " + q.id() + ": a dump line reads " + line);
                    }
                }
            }
        }

        void guarded(Req q, Mode m) {
            AtomicBoolean entered = new AtomicBoolean();
            Duration d = Duration.ofMillis(1 + q.ms());
            try {
                String out = switch (m) {
                    case WITH_PERMIT -> sem.withPermit(() -> serve(q, entered));
                    case CALL_CHECKED -> {
                        try {
                            yield sem.callWithPermit(() -> serveChecked(q, entered));
                        } catch (ServiceException e) {
                            if (e.id != q.id()) {
                                problems.add("request " + q.id() + " got the failure of " + e.id);
                            }
                            yield "failed: checked" + releaseRefusedIn(e, q);
                        }
                    }
                    case MANUAL -> {
                        sem.acquire();
                        yield servedHolding(q, entered);
                    }
                    case TRY_NOW -> sem.tryAcquire() ? servedHolding(q, entered) : "no permit";
                    case TRY_TIMED -> sem.tryAcquire(d) ? servedHolding(q, entered) : "no permit";
                    case TIMEOUT -> {
                        try {
                            yield Coroutine.withTimeout(d, () -> sem.withPermit(() -> serve(q, entered)));
                        } catch (CoroutineTimeoutException e) {
                            yield (entered.get() ? "timed out holding" : "timed out waiting") + releaseRefusedIn(e, q);
                        }
                    }
                    case TRY_TIMEOUT -> {
                        // the try form swallows the signal, and with it a release refused as it unwound: looked for inside
                        String[] mark = {""};
                        yield Coroutine.tryWithTimeout(d, () -> {
                            try {
                                return sem.withPermit(() -> serve(q, entered));
                            } catch (CoroutineExit e) {
                                mark[0] = releaseRefusedIn(e, q);
                                throw e;
                            }
                        }).orElseGet(() -> (entered.get() ? "timed out holding" : "timed out waiting") + mark[0]);
                    }
                    default -> throw new AssertionError(m);
                };
                record(q.id(), out + releaseMarked.getOrDefault(q.id(), ""));
            } catch (CoroutineExit e) {
                record(q.id(), (entered.get() ? "closed holding" : "closed waiting") + releaseRefusedIn(e, q)
                        + releaseMarked.getOrDefault(q.id(), ""));
                throw e;
            } catch (IllegalStateException e) {
                String where = refusal(e, q, m);
                if (where.equals("release")) {
                    lost.incrementAndGet();
                    record(q.id(), "served, release refused");
                } else {
                    record(q.id(), "refused" + releaseRefusedIn(e, q));
                }
            } catch (RuntimeException | Error e) {
                problems.add("request " + q.id() + " (" + m + ", " + q.work() + ") threw " + e);
                record(q.id(), "threw " + e);
            }
        }

        /** Serves {@code q} holding a permit acquired by hand, and releases it by hand however the service ends. */
        String servedHolding(Req q, AtomicBoolean entered) {
            try {
                return serve(q, entered);
            } finally {
                releaseOrCount(q);
            }
        }

        /** The marks of releases refused by hand ({@link #releaseOrCount}), read as the outcome is recorded. */
        final Map<Integer, String> releaseMarked = new ConcurrentHashMap<>();

        /** A release by hand: one refused once the semaphore's thread has ended is counted, its permit never free again. */
        void releaseOrCount(Req q) {
            try {
                sem.release();
            } catch (IllegalStateException e) {
                if (!refusal(e, q, null).equals("release")) {
                    problems.add("request " + q.id() + ": a release refused as " + e.getMessage());
                }
                lost.incrementAndGet();
                releaseMarked.put(q.id(), ", release refused");
            }
        }

        /**
         * ", release refused" if {@code t} carries a release refused once the semaphore's thread had ended (counted),
         * suppressed in it, or in the signal that is its cause (a {@link CoroutineTimeoutException}'s).
         */
        String releaseRefusedIn(Throwable t, Req q) {
            int n = 0;
            List<Throwable> carried = new ArrayList<>(List.of(t.getSuppressed()));
            if (t instanceof CoroutineTimeoutException && t.getCause() != null) {
                carried.addAll(List.of(t.getCause().getSuppressed())); // the signal that unwound the body is its cause
            }
            for (Throwable s : carried) {
                if (s instanceof IllegalStateException e && refusal(e, q, null).equals("release")) {
                    n++;
                } else {
                    problems.add("request " + q.id() + ": " + t + " carries " + s);
                }
            }
            lost.addAndGet(n);
            return n == 0 ? "" : ", release refused";
        }

        /**
         * Checks the message of a refusal of a plain thread's call once the semaphore's thread has ended, and says which
         * call it refused: the caller (the thread's main, one it had no scheduler for as a thread, or its coroutine), the
         * call, the semaphore with its permits free, its thread.
         */
        String refusal(IllegalStateException e, Req q, Mode m) {
            Thread t = Coroutine.current().thread();
            if (!q.plain()) {
                problems.add("pool request " + q.id() + " (" + m + ") refused: " + e.getMessage());
                return "?";
            }
            if (!closeStarted.get()) {
                problems.add("request " + q.id() + " refused before the pool's close: " + e.getMessage());
            }
            String caller = Coroutine.current().isMain()
                    ? "(main context 'main' of )?thread " + Pattern.quote(describe(t))
                    : Pattern.quote("coroutine 'caller " + q.id() + "' of thread " + describe(t));
            Pattern p = Pattern.compile(caller + " cannot (acquire a permit of|tryAcquire a permit of|release) "
                    + Pattern.quote("Semaphore[bulkhead, ") + "\\d+" + Pattern.quote(" of " + permits + " permits free]: it belongs to thread "
                    + describe(owner) + ", which has ended"));
            var matcher = p.matcher(e.getMessage());
            if (!matcher.matches()) {
                problems.add("request " + q.id() + ": a refusal reads " + e.getMessage() + "; expected " + p);
                return "?";
            }
            String call = e.getMessage().contains(" cannot release ") ? "release" : "acquire";
            if (m == Mode.TRY_NOW || m == Mode.TRY_TIMED) {
                if (call.equals("acquire") && !e.getMessage().contains(" cannot tryAcquire ")) {
                    problems.add("request " + q.id() + " (" + m + "): its refusal names another call: " + e.getMessage());
                }
            } else if (m != null && call.equals("acquire") && !e.getMessage().contains(" cannot acquire ")) {
                problems.add("request " + q.id() + " (" + m + "): its refusal names another call: " + e.getMessage());
            }
            return call;
        }
    }

    /** What {@code call} gives on a new thread of {@code builder} named {@code name}: that thread as messages name it, and the value. */
    private static String[] onAFreshThread(Thread.Builder builder, String name, java.util.function.Supplier<String> call)
            throws InterruptedException {
        String[] got = new String[2];
        Thread t = builder.name(name).start(() -> {
            got[0] = describe(Thread.currentThread());
            got[1] = call.get();
        });
        assertThat(t.join(PoolsClosed.GUARD)).isTrue();
        return got;
    }

    /** Waits for {@code f} to end whichever way (a value, a failure, a cancel); a signal of the caller's comes out. */
    private static void awaitQuietly(CompletableFuture<Void> f) {
        try {
            Coroutine.await(f);
        } catch (RuntimeException e) {
            // the request's outcome is its own record
        }
    }

    /** A thread as every message names it: {@code 'name' (#id)}, {@code 'name' (#id, virtual)}. */
    static String describe(Thread t) {
        return "'" + t.getName() + "' (#" + t.threadId() + (t.isVirtual() ? ", virtual" : "") + ")";
    }

    private static List<Req> plan(Random r) {
        List<Req> reqs = new ArrayList<>();
        Mode[] modes = Mode.values();
        Mode[] inner = {Mode.WITH_PERMIT, Mode.CALL_CHECKED, Mode.MANUAL, Mode.TRY_TIMED};
        for (int i = 0; i < POOL_REQUESTS + PLAIN_THREADS * PLAIN_REQUESTS; i++) {
            boolean plain = i >= POOL_REQUESTS;
            Mode m = modes[r.nextInt(modes.length)];
            if (plain && m == Mode.CANCELLED) {
                m = Mode.CLOSED;
            }
            Mode in = inner[r.nextInt(inner.length)];
            Mode effective = m == Mode.CLOSED || m == Mode.CANCELLED ? in : m;
            boolean ends = m == Mode.CLOSED || m == Mode.CANCELLED || m == Mode.TIMEOUT || m == Mode.TRY_TIMEOUT;
            Work w;
            int roll = r.nextInt(10);
            if (effective == Mode.CALL_CHECKED && roll < 4) {
                w = Work.THROW;
            } else if (ends && roll < 4) {
                w = Work.HANG;
            } else {
                w = roll < 6 ? Work.SLEEP : roll < 8 ? Work.AWAIT : Work.SEND;
            }
            reqs.add(new Req(i, plain, m, in, w, r.nextInt(4), r.nextInt(4)));
        }
        return reqs;
    }

    /** The outcomes a call may end with, none of its calls cut short by the pool's close. */
    private static Set<String> allowed(Req q, Mode m) {
        Set<String> s = new HashSet<>();
        switch (m) {
            case WITH_PERMIT, MANUAL -> s.add("served");
            case CALL_CHECKED -> s.add(q.work() == Work.THROW ? "failed: checked" : "served");
            case TRY_NOW, TRY_TIMED -> {
                s.add("served");
                s.add("no permit");
            }
            case TIMEOUT, TRY_TIMEOUT -> {
                if (q.work() != Work.HANG) {
                    s.add("served");
                }
                s.add("timed out holding");
                s.add("timed out waiting");
            }
            case CLOSED, CANCELLED -> {
                if (q.work() != Work.HANG) {
                    s.addAll(allowed(q, q.inner()));
                }
                s.add("closed holding");
                s.add("closed waiting");
                if (m == Mode.CLOSED) {
                    s.add("closed before it ran");
                }
                if (q.inner() == Mode.TRY_TIMED) {
                    s.add("no permit");
                }
            }
            default -> throw new AssertionError(m);
        }
        return s;
    }

    @Test
    void aBulkheadSharedByPoolAndPlainThreadsHoldsAtMostItsPermitsLosesNoneAndNamesEveryRefusal() throws Exception {
        Map<String, Integer> seen = new TreeMap<>();
        for (long seed = 1; seed <= Long.getLong("bulk.seeds", 8); seed++) {
            run(seed, seen);
        }
        System.out.println("bulkhead outcomes over the seeds: " + seen);
    }

    private static void run(long seed, Map<String, Integer> seenOverall) throws Exception {
        Random r = new Random(seed);
        int poolThreads = 2 + (int) (seed % 2);
        int permits = 1 + r.nextInt(4);
        boolean closeNow = r.nextBoolean();
        int closeAfter = POOL_REQUESTS / 4 + r.nextInt(POOL_REQUESTS);
        String poolName = "bulkhead-" + seed;
        String me = "main context 'main' of thread " + describe(Thread.currentThread());
        CoroutinePool pool = CoroutinePool.start(poolName, poolThreads);
        Object[] made = Coroutine.await(pool.submit("maker",
                () -> new Object[] {new Semaphore("bulkhead", permits), Coroutine.current().thread()}));
        Semaphore sem = (Semaphore) made[0];
        Thread owner = (Thread) made[1];
        assertThat(owner.getName()).startsWith(poolName + "-");
        String full = "Semaphore[bulkhead, " + permits + " of " + permits + " permits free]";

        // a release too many, from a pool body and from the test's thread, is refused naming the caller and the state
        String tooMany = " cannot release " + full + ": all its permits are free already (more releases than acquires)";
        String[] extra = Coroutine.await(pool.submit("extra release", () -> new String[] {
            Coroutine.current().thread() == owner ? "" : " of thread " + describe(Coroutine.current().thread()),
            catchThrowable(sem::release).getMessage()}));
        assertThat(extra[1]).isEqualTo("coroutine 'extra release'" + extra[0] + tooMany);
        assertThatThrownBy(sem::release).isInstanceOf(IllegalStateException.class).hasMessage(me + tooMany);
        // a thread that never used coro, on a semaphore other threads share already: refused in place, named as a thread
        for (Thread.Builder b : List.of(Thread.ofPlatform(), Thread.ofVirtual())) {
            String[] fresh = onAFreshThread(b, "fresh-" + seed, () -> catchThrowable(sem::release).getMessage());
            assertThat(fresh[1]).isEqualTo("thread " + fresh[0] + tooMany);
        }
        assertThat(sem.availablePermits()).isEqualTo(permits);

        waitsShowAsTheSemaphoresCalls(pool, poolThreads, sem, owner, permits);

        Channel<Integer> ledger = new Channel<>("ledger", 2);
        List<Integer> received = Collections.synchronizedList(new ArrayList<>());
        Coroutine reader = Coroutine.create("ledger reader", () -> {
            for (int v : ledger) {
                received.add(v);
            }
        });
        Program p = new Program(permits, sem, owner, ledger);
        List<Req> reqs = plan(r);

        // a plain thread completes the futures the guarded calls await
        Thread completer = Thread.ofPlatform().name("completer-" + seed).start(() -> {
            try {
                while (true) {
                    Object[] c = p.completions.take();
                    if (c.length == 0) {
                        return;
                    }
                    @SuppressWarnings("unchecked")
                    CompletableFuture<Integer> f = (CompletableFuture<Integer>) c[0];
                    f.complete((Integer) c[1]);
                }
            } catch (InterruptedException e) {
                p.problems.add("completer interrupted");
            }
        });
        // the plain callers, platform and virtual threads, race the pool's and its close
        List<CompletableFuture<Void>> plainDone = new ArrayList<>();
        for (int t = 0; t < PLAIN_THREADS; t++) {
            int first = POOL_REQUESTS + t * PLAIN_REQUESTS;
            CompletableFuture<Void> done = new CompletableFuture<>();
            plainDone.add(done);
            (t % 2 == 0 ? Thread.ofPlatform() : Thread.ofVirtual()).name("plain-" + t + "-" + seed).start(() -> {
                try {
                    for (int i = first; i < first + PLAIN_REQUESTS; i++) {
                        p.call(reqs.get(i));
                    }
                } catch (Throwable e) {
                    p.problems.add(Thread.currentThread().getName() + " threw " + e);
                } finally {
                    done.complete(null);
                }
            });
        }
        // the closer closes the pool once closeAfter requests of the pool have ended (or all have been submitted and ended)
        AtomicInteger ended = new AtomicInteger();
        CompletableFuture<Void> closeAt = new CompletableFuture<>();
        CompletableFuture<Throwable> closed = new CompletableFuture<>();
        Thread.ofPlatform().name("closer-" + seed).start(() -> {
            closeAt.join();
            p.closeStarted.set(true);
            Runnable close = closeNow ? pool::closeNow : pool::close;
            closed.complete(catchThrowable(() -> Coroutine.withTimeout(PoolsClosed.GUARD, close)));
        });
        // the canceller cancels the submissions that wait to be cancelled, once they started (or at once, if it comes first)
        List<CompletableFuture<CompletableFuture<Void>>> submitted = new ArrayList<>();
        List<CompletableFuture<Void>> started = new ArrayList<>();
        for (int i = 0; i < POOL_REQUESTS; i++) {
            submitted.add(new CompletableFuture<>());
            started.add(new CompletableFuture<>());
        }
        Map<Integer, Boolean> cancelled = new ConcurrentHashMap<>();
        Thread canceller = Thread.ofPlatform().name("canceller-" + seed).start(() -> {
            for (Req q : reqs.subList(0, POOL_REQUESTS)) {
                if (q.mode() == Mode.CANCELLED) {
                    CompletableFuture<Void> f = submitted.get(q.id()).join();
                    if (f != null) {
                        if (q.yields() != 0) {
                            CompletableFuture.anyOf(started.get(q.id()), f).join();
                        }
                        cancelled.put(q.id(), f.cancel(true));
                    }
                }
            }
        });
        // the test's thread submits the pool's requests, at most WINDOW of them in flight, all under a guard against a hang
        List<CompletableFuture<Void>> futures = new ArrayList<>();
        Map<Integer, String> rejected = new TreeMap<>();
        Throwable hung = catchThrowable(() -> Coroutine.withTimeout(PoolsClosed.GUARD, () -> {
            for (Req q : reqs.subList(0, POOL_REQUESTS)) {
                if (q.id() >= WINDOW && futures.get(q.id() - WINDOW) != null) {
                    awaitQuietly(futures.get(q.id() - WINDOW));
                }
                try {
                    CompletableFuture<Void> f = pool.submit("request " + q.id(), () -> {
                        started.get(q.id()).complete(null);
                        try {
                            p.call(q);
                        } finally {
                            if (ended.incrementAndGet() == closeAfter) {
                                closeAt.complete(null);
                            }
                        }
                        return null;
                    });
                    futures.add(f);
                    submitted.get(q.id()).complete(f);
                } catch (RejectedExecutionException e) {
                    futures.add(null);
                    submitted.get(q.id()).complete(null);
                    rejected.put(q.id(), e.getMessage());
                }
            }
            for (CompletableFuture<Void> f : futures) {
                if (f != null) {
                    awaitQuietly(f);
                }
            }
        }));
        if (hung != null) { // a permit lost for good leaves callers waiting for ever: said here, not found as a hang
            String state = sem + ", " + p.inside.get() + " in the guarded call, problems " + p.problems;
            catchThrowable(() -> Coroutine.withTimeout(PoolsClosed.GUARD, pool::closeNow));
            throw new AssertionError("seed " + seed + ": the pool's requests have not ended within " + PoolsClosed.GUARD + ": " + state,
                    hung);
        }
        closeAt.complete(null);
        Throwable closeThrew = Coroutine.withTimeout(PoolsClosed.GUARD, () -> Coroutine.await(closed));
        for (CompletableFuture<Void> d : plainDone) {
            Coroutine.withTimeout(PoolsClosed.GUARD, () -> Coroutine.await(d));
        }
        assertThat(canceller.join(PoolsClosed.GUARD)).isTrue();
        p.completions.add(new Object[0]);
        assertThat(completer.join(PoolsClosed.GUARD)).isTrue();
        ledger.close();
        reader.join();

        // what the close reported: nothing, every body ended by itself, by its cancel or by the closeNow()
        assertThat(closeThrew).as("what the close threw (seed %d)", seed).isNull();
        assertThat(p.problems).as("problems the callers saw (seed %d)", seed).isEmpty();
        assertThat(p.most.get()).as("holders at once").isBetween(1, permits);
        assertThat(p.inside.get()).as("holders left").isZero();

        // every request ended once, as its mode allows
        Pattern rejection = Pattern.compile(Pattern.quote("main context 'main' cannot submit to " + poolName) + " \\((closing|closed)\\): a \\1 pool"
                + " takes no more bodies");
        boolean sawRejection = false;
        for (Req q : reqs) {
            String o = p.outcomes.get(q.id());
            if (!q.plain() && rejected.containsKey(q.id())) {
                assertThat(rejected.get(q.id())).as("refusal of request %d", q.id()).matches(rejection);
                assertThat(o).as("request %d, refused", q.id()).isNull();
                sawRejection = true;
                continue;
            }
            if (sawRejection) {
                assertThat(q.plain()).as("request %d submitted after one was refused", q.id()).isTrue();
            }
            if (o == null) {
                assertThat(q.plain()).as("request %d (%s) ended without an outcome", q.id(), q.mode()).isFalse();
                CompletableFuture<Void> f = futures.get(q.id());
                if (started.get(q.id()).isDone()) {
                    // a closed caller whose coroutine never ran: the closeNow() closed the body as it yielded
                    assertThat(closeNow && q.mode() == Mode.CLOSED).as("request %d (%s) started and ended without an outcome",
                            q.id(), q.mode()).isTrue();
                    assertThat(catchThrowable(f::join)).as("request %d", q.id()).cause().isInstanceOf(CoroutineExit.class);
                } else {
                    assertThat(f.isCancelled()).as("request %d (%s), never run: its future cancelled", q.id(), q.mode()).isTrue();
                    assertThat(q.mode() == Mode.CANCELLED || closeNow).as("request %d (%s) never ran", q.id(), q.mode()).isTrue();
                }
                continue;
            }
            Set<String> ok = allowed(q, q.mode());
            if (!q.plain() && closeNow || q.mode() == Mode.CANCELLED) {
                ok.add("closed holding");
                ok.add("closed waiting");
            }
            if (q.plain()) {
                for (String s : new ArrayList<>(ok)) {
                    ok.add(s + ", release refused");
                }
                ok.add("served, release refused");
                ok.add("refused");
            }
            assertThat(o).as("request %d (%s, inner %s, %s, seed %d)", q.id(), q.mode(), q.inner(), q.work(), seed).isIn(ok);
        }

        // every permit free again, but those whose release was refused once the semaphore's thread had ended
        StringBuilder dbg = new StringBuilder();
        for (Req q : reqs) {
            if (q.plain() || !"served".equals(p.outcomes.get(q.id()))) {
                dbg.append("\n").append(q).append(" -> ").append(p.outcomes.get(q.id()));
            }
        }
        assertThat(sem.availablePermits()).as("permits free; %d releases refused (seed %d)%s", p.lost.get(), seed, dbg)
                .isEqualTo(permits - p.lost.get());

        // the ledger: every value whose send returned received, none twice, none not sent
        assertThat(new HashSet<>(received)).as("values received once each").hasSize(received.size());
        assertThat(received).as("values received").containsAll(p.sendReturned);
        assertThat(p.sendTried).as("values sent").containsAll(received);

        // after the close: the semaphore's thread has ended, and every call from another thread is refused naming it
        int free = permits - p.lost.get();
        String gone = " Semaphore[bulkhead, " + free + " of " + permits + " permits free]: it belongs to thread " + describe(owner)
                + ", which has ended";
        assertThat(owner.isAlive()).isFalse();
        assertThatThrownBy(sem::acquire).isInstanceOf(IllegalStateException.class).hasMessage(me + " cannot acquire a permit of" + gone);
        assertThatThrownBy(sem::tryAcquire).isInstanceOf(IllegalStateException.class)
                .hasMessage(me + " cannot tryAcquire a permit of" + gone);
        assertThatThrownBy(() -> sem.tryAcquire(Duration.ofMillis(3))).isInstanceOf(IllegalStateException.class)
                .hasMessage(me + " cannot tryAcquire a permit of" + gone);
        List<String> ran = new ArrayList<>();
        assertThatThrownBy(() -> sem.withPermit(() -> ran.add("ran"))).isInstanceOf(IllegalStateException.class)
                .hasMessage(me + " cannot acquire a permit of" + gone);
        assertThatThrownBy(sem::release).isInstanceOf(IllegalStateException.class).hasMessage(me + " cannot release" + gone);
        assertThat(ran).isEmpty();
        assertThat(sem.availablePermits()).isEqualTo(free);
        // so too for a thread that never used coro, named as a thread
        for (Thread.Builder b : List.of(Thread.ofPlatform(), Thread.ofVirtual())) {
            String[] late = onAFreshThread(b, "late-" + seed, () -> String.join("\n", catchThrowable(sem::acquire).getMessage(),
                    catchThrowable(sem::tryAcquire).getMessage(), catchThrowable(sem::release).getMessage()));
            assertThat(late[1]).isEqualTo(String.join("\n", "thread " + late[0] + " cannot acquire a permit of" + gone,
                    "thread " + late[0] + " cannot tryAcquire a permit of" + gone, "thread " + late[0] + " cannot release" + gone));
        }
        assertThat(sem.availablePermits()).isEqualTo(free);
        assertThatThrownBy(() -> pool.submit(() -> 1)).isInstanceOf(RejectedExecutionException.class)
                .hasMessage("main context 'main' cannot submit to " + poolName + " (closed): a closed pool takes no more bodies");

        // every coroutine ended: the pool's threads are gone, and this thread runs main alone
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().startsWith(poolName + "-"));
        assertThat(reader.isFinished()).isTrue();
        assertThat(Coroutine.dump(Integer.MAX_VALUE).lines().filter(l -> l.contains("coroutine '")).toList())
                .as("coroutines left on the test's thread").isEmpty();
        p.seen.forEach((k, v) -> seenOverall.merge(k, v.get(), Integer::sum));
    }

    /**
     * While the test's thread holds every permit, a coroutine waiting for one on each pool thread and on a plain thread
     * shows in its thread's dump as the semaphore's call, with the semaphore's thread where it is another's; closed,
     * it took none.
     */
    private static void waitsShowAsTheSemaphoresCalls(CoroutinePool pool, int poolThreads, Semaphore sem, Thread owner,
            int permits) {
        for (int i = 0; i < permits; i++) {
            sem.acquire();
        }
        String none = "Semaphore[bulkhead, 0 of " + permits + " permits free]";
        List<CompletableFuture<String[]>> looks = new ArrayList<>();
        for (int k = 0; k < poolThreads; k++) {
            boolean timed = k % 2 == 1;
            looks.add(pool.submit("inspector " + k, () -> look(sem, timed, owner)));
        }
        CompletableFuture<String[]> plainLook = new CompletableFuture<>();
        Thread.ofPlatform().name("plain-inspector").start(() -> {
            try {
                plainLook.complete(look(sem, true, owner));
            } catch (Throwable e) {
                plainLook.completeExceptionally(e);
            }
        });
        looks.add(plainLook);
        Set<String> threads = new HashSet<>();
        for (int k = 0; k < looks.size(); k++) {
            CompletableFuture<String[]> f = looks.get(k);
            String[] l = Coroutine.withTimeout(PoolsClosed.GUARD, () -> Coroutine.await(f));
            threads.add(l[2]);
            String call = k % 2 == 1 || k == looks.size() - 1 ? "tryAcquire" : "acquire";
            assertThat(l[0]).as("the dump of thread %s", l[2])
                    .contains("coroutine 'waiter': PARKED, waits to " + call + " a permit of " + none + l[1] + "\n")
                    .doesNotContain("(semaphore)");
        }
        assertThat(threads).as("threads that looked").hasSize(poolThreads + 1);
        for (int i = 0; i < permits; i++) {
            sem.release();
        }
        assertThat(sem.availablePermits()).isEqualTo(permits);
    }

    /** A waiter for a permit on the calling thread, its dump once it waits, then closed: the dump, how it names the semaphore's thread, the thread. */
    private static String[] look(Semaphore sem, boolean timed, Thread owner) {
        AtomicBoolean took = new AtomicBoolean();
        Coroutine waiter = Coroutine.create("waiter", () -> took.set(timed ? sem.tryAcquire(Duration.ofHours(1)) : acquired(sem)));
        Coroutine.yield(); // it runs, and waits for a permit
        String dump = Coroutine.dump(Integer.MAX_VALUE);
        waiter.close();
        if (took.get()) {
            throw new AssertionError("the waiter took a permit");
        }
        Thread here = Coroutine.current().thread();
        return new String[] {dump, here == owner ? "" : " of thread " + describe(owner), here.getName()};
    }

    private static boolean acquired(Semaphore sem) {
        sem.acquire();
        return true;
    }

    // ---- the rate limiter ---------------------------------------------------------------------------------------

    private static final int TICK = 10;

    /** How a client of the bucket waits for a token. */
    enum Wait { RECEIVE, TRY, TIMED, WITH_TIMEOUT }

    /**
     * A client of the bucket: its phase within a tick (its every step falls on it), the tick it comes at, how many
     * tokens it wants, how it waits (for how many ticks, if bounded), how many ticks it works after a token, and the
     * tick at which the supervisor closes it (0: never), at a phase of its own.
     */
    record Client(int index, int phase, int arrive, int wants, Wait how, int waitTicks, int work, int closeTick) {
        int closeAt() {
            return closeTick * TICK + 2 + 2 * index;
        }
    }

    /** What a client took: token and time. */
    record Take(int token, long ms) { }

    @Test
    void aTokenBucketRefilledByATickerHandsOutTokensPerTickAsASequentialModelSaysLosingAndDuplicatingNone() {
        for (long seed = 1; seed <= Long.getLong("bucket.seeds", 60); seed++) {
            bucketRun(seed);
        }
    }

    private static void bucketRun(long seed) {
        Random r = new Random(seed);
        int cap = 1 + r.nextInt(4);
        int rate = 1 + r.nextInt(3);
        int ticks = 10 + r.nextInt(20);
        List<Client> clients = new ArrayList<>();
        int n = 2 + r.nextInt(3);
        for (int i = 0; i < n; i++) {
            clients.add(new Client(i, 1 + 2 * i, r.nextInt(ticks / 2), 1 + r.nextInt(12), Wait.values()[r.nextInt(4)],
                    1 + r.nextInt(3), r.nextInt(3), r.nextInt(3) == 0 ? 1 + r.nextInt(ticks + 2) : 0));
        }
        String expected = model(cap, rate, ticks, clients);
        String actual = VirtualTime.call(() -> program(cap, rate, ticks, clients));
        assertThat(actual).as("seed %d: cap %d, rate %d, %d ticks, clients %s", seed, cap, rate, ticks, clients).isEqualTo(expected);
    }

    private static long ms() {
        return Coroutine.nanoTime() / 1_000_000;
    }

    /** The program: a ticker, the clients, a supervisor; its trace as the model writes it. */
    private static String program(int cap, int rate, int ticks, List<Client> clients) {
        Channel<Integer> bucket = new Channel<>("tokens", cap);
        List<String> perTick = new ArrayList<>();
        Coroutine ticker = Coroutine.create("ticker", () -> {
            int next = 1;
            for (int k = 1; k <= ticks; k++) {
                Coroutine.sleep(Duration.ofMillis(TICK));
                int minted = 0;
                int dropped = 0;
                for (int j = 0; j < rate; j++) {
                    if (bucket.trySend(next)) {
                        next++;
                        minted++;
                    } else {
                        dropped++;
                    }
                }
                perTick.add(ms() + ": " + minted + " minted, " + dropped + " dropped");
            }
            bucket.close();
        });
        List<List<Take>> took = new ArrayList<>();
        String[] ends = new String[clients.size()];
        List<Coroutine> cs = new ArrayList<>();
        for (Client c : clients) {
            List<Take> mine = new ArrayList<>();
            took.add(mine);
            cs.add(Coroutine.create("client " + c.index(), () -> {
                try {
                    Coroutine.sleep(Duration.ofMillis(c.arrive() * TICK + c.phase()));
                    while (mine.size() < c.wants()) {
                        Optional<Integer> t;
                        try {
                            t = switch (c.how()) {
                                case RECEIVE -> Optional.of(bucket.receive());
                                case TRY -> bucket.tryReceive();
                                case TIMED -> bucket.tryReceive(Duration.ofMillis(c.waitTicks() * TICK));
                                case WITH_TIMEOUT -> {
                                    try {
                                        yield Optional.of(Coroutine.withTimeout(Duration.ofMillis(c.waitTicks() * TICK), bucket::receive));
                                    } catch (CoroutineTimeoutException e) {
                                        yield Optional.empty();
                                    }
                                }
                            };
                        } catch (ChannelClosedException e) {
                            ends[c.index()] = "bucket closed at " + ms();
                            return;
                        }
                        long now = ms();
                        if (t.isPresent()) {
                            mine.add(new Take(t.get(), now));
                            long next = align(now, c.phase()) + (long) c.work() * TICK;
                            if (next > now && mine.size() < c.wants()) {
                                Coroutine.sleep(Duration.ofMillis(next - now));
                            }
                        } else if (bucket.isClosed() && bucket.size() == 0) {
                            ends[c.index()] = "bucket closed at " + now;
                            return;
                        } else {
                            Coroutine.sleep(Duration.ofMillis(TICK));
                        }
                    }
                    ends[c.index()] = "done at " + ms();
                } catch (CoroutineExit e) {
                    ends[c.index()] = "closed at " + ms();
                    throw e;
                }
            }));
        }
        Coroutine.create("supervisor", () -> {
            List<Client> byTime = new ArrayList<>(clients);
            byTime.removeIf(c -> c.closeTick() == 0);
            byTime.sort((a, b) -> Integer.compare(a.closeAt(), b.closeAt()));
            for (Client c : byTime) {
                Coroutine.sleep(Duration.ofMillis(c.closeAt() - ms()));
                cs.get(c.index()).close();
            }
        });
        for (Coroutine c : cs) {
            c.join();
        }
        ticker.join(); // the bucket is closed: what is left in it nobody took
        List<Integer> left = new ArrayList<>();
        for (int v : bucket) {
            left.add(v);
        }
        return trace(perTick, took, ends, left);
    }

    /** The next time at or after {@code now} that falls on {@code phase} within a tick. */
    private static long align(long now, int phase) {
        long d = ((phase - now % TICK) % TICK + TICK) % TICK;
        return now + d;
    }

    private static String trace(List<String> perTick, List<List<Take>> took, String[] ends, List<Integer> left) {
        StringBuilder b = new StringBuilder();
        perTick.forEach(t -> b.append(t).append('\n'));
        for (int i = 0; i < took.size(); i++) {
            b.append("client ").append(i).append(": ").append(took.get(i)).append(", ").append(ends[i]).append('\n');
        }
        b.append("left: ").append(left).append('\n');
        return b.toString();
    }

    /** The sequential model: the same program stepped one millisecond at a time, every event at a time of its own. */
    private static String model(int cap, int rate, int ticks, List<Client> clients) {
        int n = clients.size();
        ArrayDeque<Integer> buffer = new ArrayDeque<>();
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        long[] wake = new long[n];
        long[] deadline = new long[n];
        boolean[] waiting = new boolean[n];
        boolean[] done = new boolean[n];
        String[] ends = new String[n];
        List<List<Take>> took = new ArrayList<>();
        List<String> perTick = new ArrayList<>();
        for (Client c : clients) {
            took.add(new ArrayList<>());
            wake[c.index()] = (long) c.arrive() * TICK + c.phase();
        }
        int next = 1;
        boolean closed = false;
        for (long t = 0; !allDone(done) || t <= (long) ticks * TICK; t++) {
            if (t % TICK == 0 && t / TICK >= 1 && t / TICK <= ticks) {
                int minted = 0;
                int dropped = 0;
                for (int j = 0; j < rate; j++) {
                    if (!queue.isEmpty()) {
                        int i = queue.poll();
                        waiting[i] = false;
                        took.get(i).add(new Take(next++, t));
                        minted++;
                        afterTake(clients.get(i), took.get(i), t, wake, done, ends);
                    } else if (buffer.size() < cap) {
                        buffer.add(next++);
                        minted++;
                    } else {
                        dropped++;
                    }
                }
                perTick.add(t + ": " + minted + " minted, " + dropped + " dropped");
                if (t / TICK == ticks) {
                    closed = true;
                    for (int i : queue) {
                        waiting[i] = false;
                        done[i] = true;
                        ends[i] = "bucket closed at " + t;
                    }
                    queue.clear();
                }
            }
            for (Client c : clients) {
                int i = c.index();
                if (!done[i] && c.closeTick() != 0 && c.closeAt() == t) {
                    queue.remove(Integer.valueOf(i));
                    waiting[i] = false;
                    done[i] = true;
                    ends[i] = "closed at " + t;
                }
            }
            for (Client c : clients) {
                int i = c.index();
                if (done[i]) {
                    continue;
                }
                if (waiting[i]) {
                    if (c.how() != Wait.RECEIVE && deadline[i] == t) {
                        queue.remove(Integer.valueOf(i));
                        waiting[i] = false;
                        wake[i] = t + TICK;
                    }
                    continue;
                }
                while (!done[i] && !waiting[i] && wake[i] == t) {
                    if (!buffer.isEmpty()) {
                        took.get(i).add(new Take(buffer.poll(), t));
                        afterTake(c, took.get(i), t, wake, done, ends);
                    } else if (closed) {
                        done[i] = true;
                        ends[i] = "bucket closed at " + t;
                    } else if (c.how() == Wait.TRY) {
                        wake[i] = t + TICK;
                    } else {
                        waiting[i] = true;
                        deadline[i] = t + (long) c.waitTicks() * TICK;
                        queue.add(i);
                    }
                }
            }
        }
        return trace(perTick, took, ends, new ArrayList<>(buffer));
    }

    private static void afterTake(Client c, List<Take> mine, long t, long[] wake, boolean[] done, String[] ends) {
        if (mine.size() == c.wants()) {
            done[c.index()] = true;
            ends[c.index()] = "done at " + t;
        } else {
            wake[c.index()] = align(t, c.phase()) + (long) c.work() * TICK;
        }
    }

    private static boolean allDone(boolean[] done) {
        for (boolean d : done) {
            if (!d) {
                return false;
            }
        }
        return true;
    }
}
