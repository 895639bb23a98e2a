package dev.coro;

import dev.coro.PoolFuture.MinimalFuture;
import dev.coro.PoolFuture.ObservedFuture;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A fixed set of threads, each with its own scheduler and event loop, that run submitted bodies as
 * coroutines: thread-per-core, where each thread stays deterministic and threads talk through
 * channels, futures and wake-ups, never by sharing a run list.
 *
 * <pre>{@code
 * try (CoroutinePool pool = CoroutinePool.start(2)) {
 *     Channel<Integer> ch = new Channel<>("numbers", 16);          // owned by this thread
 *     CompletableFuture<Integer> sum = pool.submit(() -> {         // runs on a pool thread
 *         int s = 0;
 *         for (int v : ch) s += v;
 *         return s;
 *     });
 *     for (int i = 1; i <= 100; i++) ch.send(i);                   // parks this thread's main while full
 *     ch.close();
 *     System.out.println(Coroutine.await(sum));                    // 5050
 * }
 * }</pre>
 *
 * <h2>Placement</h2>
 * A submitted body becomes a coroutine on the pool thread that has the fewest live submitted
 * bodies at that moment (a body counts until it has ended, also after its caller settled its future
 * with {@code cancel(true)}, until its thread has closed it; the coroutines a body creates do not
 * count; ties go round-robin: to the first tied thread after the one last chosen, so a thread that
 * follows a busy one wins no more ties than the others), whoever submits it, a pool thread included.
 * Submissions racing from several threads are each counted on a thread that still has the fewest when
 * its body is counted there: while no body ends, no thread has more than one live body above another,
 * however many threads submit at once. A thread whose loop an {@code Error} of its machinery ended takes
 * no more bodies (see Close). The
 * coroutine stays on that thread for life: inside it, {@link Coroutine#create} makes coroutines on
 * the same thread, which interleave with it in the exact order of the scheduling rules. Work is
 * never moved between threads once placed (no stealing), so what one thread runs stays reproducible.
 *
 * <h2>Waiting for a result</h2>
 * {@link Coroutine#await}, or the future's own {@code join()} and {@code get()}: on a thread with a
 * scheduler they park only the calling context, so the bodies' first operations on the caller's
 * channels (which that thread runs) go on meanwhile (see {@link #submit}). Other blocking waits of
 * such a thread (a latch, {@code Thread.sleep}, another future's {@code join()}) hold it whole: a body
 * using one of its channels for the first time then waits until it runs its scheduler again.
 *
 * <h2>Each pool thread is a plain scheduler</h2>
 * Sleep, select, channels (its own, and other threads'), I/O, {@link Coroutine#await} and
 * {@link Coroutine#dump()} work there as on any thread. A thread's main context is the pool's: it
 * starts the submitted bodies and otherwise waits in the thread's event loop.
 *
 * <h2>Close</h2>
 * {@link #close()} stops taking bodies and waits until every coroutine of the pool has ended
 * (submitted ones and those they created), then ends the threads; a thread that ends closes the
 * listeners and connections ({@code dev.coro.net}) its coroutines left open, and its selector. The first failure that nobody
 * observed (a body run by {@link #execute}, or a {@link #submit} whose future was never read: no
 * {@code join}, {@code get}, {@code getNow}, {@code resultNow}, {@code exceptionNow},
 * {@link Coroutine#await} or {@link Select#onComplete} clause that fired handed its caller the failure,
 * or refused it as {@code resultNow} refuses every failure and {@code exceptionNow} a body's own
 * {@code CancellationException}, telling the caller the outcome, and none of {@code whenComplete}, {@code handle}, {@code exceptionally}, {@code exceptionallyCompose}
 * or their {@code Async} forms (once the executor took the handler's task or the task started, whichever came first,
 * or, given this pool, once the handler started: a handler whose executor refused it, this pool as it closes say, or whose task {@link #closeNow()} dropped,
 * never runs and reads nothing) was called on it, nor on a future derived from it by
 * {@code thenApply}, {@code thenCompose} and the like, which fails with its failure, or through its
 * {@code minimalCompletionStage()}, nor on a stage composed on any pool future ({@code thenCompose},
 * {@code exceptionallyCompose}) whose function returned it or a stage derived from it; a read that
 * found no outcome yet, an await interrupted before it came, an {@code onComplete} clause that lost,
 * {@code isCompletedExceptionally}, {@code state} and {@code CompletableFuture.allOf} read nothing, nor
 * does a read through a future that took it as an argument, {@code other.thenCombine(f, …)} or
 * {@code CompletableFuture.anyOf(f, …)}, which the pool cannot see (but {@code other.applyToEither(f, …)} made
 * while {@code f} was complete and {@code other} pending is {@code f}'s: the JDK makes it with the future complete
 * first), nor a read of a derived future that
 * failed on its own before the body did (its own {@code cancel}, an {@code orTimeout} that expired,
 * another source of an {@code applyToEither} failing first), nor a handler attached to a derived future
 * that settles otherwise, before the handler or after it, or that never runs (its own stage settled first;
 * one attached to a future still pending, the submission's or a derived one, reads the failure as it runs), nor {@code orTimeout} and {@code completeOnTimeout}, whose callback only
 * cancels their timer), and any
 * failure a coroutine of the pool left to its thread's main, or that a pool thread's loop threw (an
 * {@code Error} of its machinery, or of closing what its coroutines left open as it ended: never handed to the
 * thread's uncaught-exception handler), is thrown from
 * {@code close()}; later ones are suppressed in it (in the {@link CoroutineException} report itself if it
 * was made with suppression disabled, so that none is lost, or if one of them holds it as a cause or a
 * suppressed exception, so that no exception is its own suppressed exception's cause; one that a failure
 * reported already carries, as a cause or a suppressed exception, is not reported again). A thread whose loop
 * such an {@code Error} ended while the pool was open loses no body: the one it was making, those waiting
 * to start, those it ran and every one handed to it afterwards fail their futures (or, run by
 * {@code execute}, are reported) with an {@code IllegalStateException} naming the pool, the thread, the
 * submission and the error ({@code coro-pool-1: thread 'coro-pool-1-0' (#22) could not run the body of submit #3:
 * its loop ended (java.lang.InternalError: …)}, {@code … the body of submit #1 to its end: its loop ended while
 * the body ran (…)}), no body is placed there any more, and {@code close()} does not wait for it. First and later are by the order of submission,
 * {@code submit} and {@code execute} alike (a failure left to a thread's main comes after every
 * body submitted before it happened). A future its caller settled itself before the
 * body failed ({@code cancel}, {@code complete}) holds the caller's outcome, not the body's: that
 * failure is not reported (one obtruded afterwards, {@code obtrudeValue} or {@code obtrudeException}, hands
 * nobody the body's failure: reading it reads nothing, and that failure is reported unless read before, or
 * read afterwards through a stage derived before the obtrusion, which still holds it),
 * nor is a body that a {@link Coroutine#close()} of its coroutine unwound
 * (its future fails with that {@link CoroutineExit}). Until then the pool keeps only the failures it may have to
 * report (those of {@code execute} bodies and of a thread's main, and the futures failed and not read yet), and
 * of those the first 100 by the order of submission; a later one is only counted, the report saying how many
 * ({@code ; 58 more not kept}): a long-lived pool does not grow with the number of submissions, failed ones included. While it waits, the calling thread's own event
 * loop keeps running (its channels keep serving the pool's coroutines).
 *
 * <h2>With the JDK's concurrency classes</h2>
 * As an {@code Executor} the pool takes the tasks of {@code CompletableFuture.supplyAsync(s, pool)},
 * {@code runAsync(r, pool)}, the {@code Async} stages given it ({@code thenApplyAsync(f, pool)},
 * {@code thenComposeAsync}, {@code whenCompleteAsync} …), {@code CompletableFuture.delayedExecutor(d, unit, pool)}
 * and an {@code ExecutorCompletionService}: each is a body given to {@link #execute}, run as a coroutine of a
 * pool thread, where {@link Coroutine#await}, sleeps and channels work. The futures those classes make are
 * theirs, not the pool's:
 * <ul>
 * <li>their {@code join()} and {@code get()} hold the whole calling thread, as any plain future's do: on a
 *     thread with coroutines wait for them with {@link Coroutine#await} (a body that joins such a future whose
 *     task is placed on its own thread waits for ever);</li>
 * <li>their task catches what its function throws and completes its future with it, so {@code close()} reports
 *     nothing of it (only a plain {@code Runnable} given to {@code execute} that throws is reported); a task
 *     that {@link #closeNow()} unwinds completes its future with the {@link CoroutineExit};</li>
 * <li>their {@code cancel}, {@code orTimeout} and {@code completeOnTimeout} close no coroutine: they settle the
 *     future, and the body runs on to its end, which {@code close()} waits for; a {@code FutureTask}'s
 *     {@code cancel(true)} interrupts the thread that runs the body, which ends a blocking JDK call there but
 *     no wait of coro's (an await, a sleep, a channel's), after which the body finds its interrupt set (on the
 *     continuation engine the flag is the pool thread's, which its other coroutines share: docs/ENGINES.md);</li>
 * <li>a stage that would start once the pool is closing is refused: the JDK fails it, and the stages after it,
 *     with the {@code RejectedExecutionException}, and {@code close()} waits only for the stages that had
 *     started, so a chain is cut where the close finds it: wait for its last stage before closing; a task
 *     {@code delayedExecutor} hands over after the close is refused on the JDK's thread, and the JDK drops it:
 *     its future never completes;</li>
 * <li>{@link #closeNow()} never starts a task waiting to start, and its future never completes.</li>
 * </ul>
 * A stage attached without an executor ({@code thenApply}) to a {@link #submit} future before its body ends
 * runs in the body's coroutine as the body ends (it may wait there; {@code close()} waits for it); the
 * {@code Async} forms given no executor run on the JDK's default one ({@code defaultExecutor()}: the common pool),
 * as for any {@code CompletableFuture}, not on the pool.
 *
 * <h2>A pool never closed</h2>
 * Its threads are daemons or not as the thread that started it (see {@link #start}): a pool that
 * {@code main} started keeps the JVM alive after {@code main} returns, as an {@code ExecutorService}'s
 * threads do, its bodies running on; one a daemon thread started does not, and when the JVM exits its
 * bodies stop where they are, their {@code finally} blocks never run. Its failures nobody observed
 * are kept for a {@code close()} that never comes: nothing else reports them, neither an
 * uncaught-exception handler nor standard error. A shutdown hook may close a pool, unless a body of
 * it is inside {@code System.exit}, which never returns: that body never ends, so the close would
 * wait for ever (bound it with {@link Coroutine#withTimeout}).
 *
 * <h2>Memory consistency effects</h2>
 * As with an {@code ExecutorService}: actions in a thread before it submits a body ({@link #submit},
 * {@link #submitCallable}, {@link #execute}) <i>happen-before</i> the body begins, and the body's actions
 * happen-before its outcome is read from the returned future ({@code join()}, {@code get()},
 * {@link Coroutine#await}, a dependent stage), by the future's own rules. Everything a pool coroutine did
 * happens-before {@link #close()} returns.
 */
public final class CoroutinePool implements Executor, AutoCloseable {

    /**
     * How many pools without a name of their own ({@link #start(int)}) the JVM has started, for their names
     * ({@code coro-pool-N}) and their threads': a long, so that a program starting pools for months (one per
     * batch of work) never wraps into a negative or repeated name. A pool given its name
     * ({@link #start(String, int)}) takes no number. Set by tests as if the JVM had started that many.
     */
    static final AtomicLong POOLS = new AtomicLong();
    /** How many pools are open (started, not yet closed) in the JVM. */
    private static final AtomicInteger OPEN = new AtomicInteger();

    private final PoolWorker[] workers;
    /**
     * The pool's name as its description and every message show it: {@code coro-pool-N}, or the name it was
     * given made safe for one line ({@link SafeText#name}); its threads are named after the name as given.
     */
    final String name;
    /** The pool's name as {@link #name()} gives it: {@code coro-pool-N}, or the name it was given, as it is. */
    private final String given;
    private final CompletableFuture<Void> ended = new End(this);
    private final AtomicInteger running;
    /** While closing: how many workers have no coroutine left (none gets one again once closing). */
    private final AtomicInteger idle = new AtomicInteger();
    /** Set once every worker is idle: no coroutine of the pool is left to use a pool thread's channels. */
    volatile boolean allIdle;
    /** The thread whose turn it is to take a tie (the one after the thread last chosen): an index of {@link #workers}. */
    private final AtomicInteger next = new AtomicInteger();
    /**
     * The failures of bodies run by {@link #execute} and those left to a pool thread's main, each under
     * its place in {@link #reportOrder}, so that close() reports every failure in the order of the
     * submissions (one left to main: after every submission made before it); those a body's own failure
     * cannot carry are chained after it under the same place ({@link Failure#next}).
     */
    final TreeMap<Long, Failure> failures = new TreeMap<>();
    /**
     * The futures that close() may have to report: failed, and not read yet; by submission order. A
     * future that completes normally, or is read, is not kept (guarded by {@link #failures}).
     */
    private final TreeMap<Long, ObservedFuture<?>> unobserved = new TreeMap<>();
    /**
     * How many failures {@link #failures} and {@link #unobserved} keep at most together: the first by
     * the order of submission; a later one is only counted ({@link #notKept}), so that a long-lived pool
     * whose bodies keep failing unobserved does not grow with them.
     */
    static final int KEPT_FAILURES = 100;
    /**
     * How close()'s report begins a failure left to a pool thread's main, which it names as every message
     * names a main context, then the thread ({@link Scheduler#describe(Thread)}), e.g. {@code left to main
     * context 'main' of thread 'coro-pool-1-0' (#22)}.
     */
    private static final String LEFT_TO_MAIN = "left to main context 'main' of thread ";
    /** How many failures close() would report beyond the {@link #KEPT_FAILURES} kept (guarded by {@link #failures}). */
    private long notKept;
    /**
     * The first failure the pool had no memory to report or keep: of a body that never ran
     * ({@link #failedUnreported}), or one thrown on a pool thread ({@link #failedInMain}, {@link #failedInLoop}; this null then);
     * close() reports it, unless it is a body's whose future was read; a later one is only counted in
     * {@link #notKept}. Guarded by {@link #failures}.
     */
    private Task unreported;
    /** What was thrown: what kept {@link #unreported} from running, or what was thrown on a pool thread; null if none. Guarded by {@link #failures}. */
    private Throwable unreportedCause;
    /** For a failure thrown on a pool thread: that thread, and its place in {@link #reportOrder}. Guarded by {@link #failures}. */
    private Thread unreportedThread;
    private long unreportedOrder;
    /**
     * For a failure thrown on a pool thread: the words its report puts before and after the thread (which it
     * names as every message names a thread, {@link Scheduler#describe(Thread)}), constants kept without
     * allocating ({@link #LEFT_TO_MAIN} and none for a failure left to main). Guarded by {@link #failures}.
     */
    private String unreportedBefore;
    private String unreportedAfter;
    /** Numbers the submissions from 1: their futures and failures are named by it. */
    private final AtomicLong submissions = new AtomicLong();
    /**
     * Places the submissions and the failures left to a pool thread's main in one sequence, the order
     * close() reports failures in; a failure left to main takes no submission's number.
     */
    private final AtomicLong reportOrder = new AtomicLong();
    volatile boolean closing;
    /** Whether {@link #closeNow()} was called: each thread closes its coroutines, and no body starts any more. */
    volatile boolean closingNow;
    /** Whether the pool counts in {@link #OPEN}: from its start until its last thread leaves its loop. */
    private final AtomicBoolean countedOpen = new AtomicBoolean(true);

    /** A pool of {@code threads} threads named {@code given}{@code -i}; with {@code given} null, the next {@code coro-pool-N}. */
    private CoroutinePool(String given, int threads) {
        this.given = given != null ? given : "coro-pool-" + POOLS.incrementAndGet();
        this.name = SafeText.name(this.given); // a coro-pool-N as it is
        Scheduler caller = Scheduler.currentOrNull(); // on the thread engine a coroutine runs on a thread of its own
        Thread startedBy = caller != null ? caller.owner : Thread.currentThread();
        try {
            this.workers = new PoolWorker[threads];
            for (int i = 0; i < threads; i++) {
                workers[i] = new PoolWorker(this, this.given + "-" + i, startedBy);
            }
        } catch (OutOfMemoryError e) {
            // a count the JVM has no room for (an array that large, or that many threads to describe):
            // refused as a thread it cannot start is, nothing started, the pool never counted as open
            throw new IllegalStateException(Scheduler.describeCaller() + " cannot start " + name + " of " + threads
                    + " threads: the JVM has no memory left to make them: " + e, e);
        }
        this.running = new AtomicInteger(threads);
        OPEN.incrementAndGet(); // once every thread is made: from here on a failure to start ends the pool (abandon)
        for (PoolWorker w : workers) {
            try {
                starter.accept(w.thread);
            } catch (OutOfMemoryError | RuntimeException e) {
                // the JVM could make no more threads: those started must end too, or they would wait for
                // work for good, and the pool, which nobody can close, would count as open for good
                abandon();
                throw new IllegalStateException(Scheduler.describeCaller() + " cannot start " + name + ": its thread "
                        + Scheduler.describe(w.thread) + " could not be started: " + e, e);
            }
        }
        for (PoolWorker w : workers) {
            try {
                w.started.join();
            } catch (CompletionException e) {
                // a thread could not make its scheduler (no engine): end the others, refuse to start
                abandon();
                throw new IllegalStateException(Scheduler.describeCaller() + " cannot start " + name + ": its thread "
                        + SafeText.name(w.thread.getName()) + " could not start a scheduler: " + e.getCause().getMessage(), e.getCause());
            }
        }
    }

    /**
     * How the pool starts each of its threads: {@link Thread#start()}, or a test's that fails as the JVM
     * does when it can make no more threads.
     */
    static Consumer<Thread> starter = Thread::start;

    /**
     * Runs in a placement between the choice of a thread and the count of the body there: a test's, which
     * holds several submitters there at once, as the JVM may; null otherwise.
     */
    static Consumer<CoroutinePool> racing;

    /**
     * How a pool thread makes the coroutine of a body: {@link Scheduler#create}, or a test's that fails as
     * the JVM does when it has no memory left for one.
     */
    static BiFunction<Scheduler, Runnable, Context> maker = (s, body) -> s.create(body instanceof PoolWorker.Start start ? start.task().name : null, body);

    /**
     * A pool that failed to start: its threads that did start end once they look (those parked for
     * work are woken), none counts as the pool's any more, and the pool no longer counts as open.
     */
    private void abandon() {
        closing = true;
        allIdle = true;
        countClosed();
        for (PoolWorker other : workers) {
            if (other.started.isDone() && !other.started.isCompletedExceptionally()) {
                other.wakeAgain();
            }
        }
    }

    /**
     * Starts a pool of {@code threads} platform threads, each running a scheduler. They are daemons or
     * not, and of the priority, thread group and context class loader, as the calling thread; called from
     * a coroutine, as its owner thread, on both engines. They inherit none of its inheritable thread locals.
     * The pool is named {@code coro-pool-N}, N counting such pools from 1, and its threads {@code coro-pool-N-0},
     * {@code coro-pool-N-1} …; {@link #start(String, int)} gives it a name of the caller's.
     *
     * @param threads how many threads; typically the number of cores
     * @return the running pool
     * @throws IllegalArgumentException if {@code threads} is less than 1
     * @throws IllegalStateException    if the threads cannot be made (a count the JVM has no memory for,
     *                                  such as {@code Integer.MAX_VALUE}: its {@code OutOfMemoryError} the cause,
     *                                  no thread started), if a thread cannot be started (the JVM can make no more threads:
     *                                  its {@code OutOfMemoryError} the cause) or cannot start a scheduler (no
     *                                  engine can run, e.g. {@code -Dcoro.engine=continuation} without the
     *                                  exports flag), naming the thread; the threads that did start end, and
     *                                  the pool does not count as open (a deadlock is reported again)
     */
    public static CoroutinePool start(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException(Scheduler.describeCaller() + " cannot start a coroutine pool of " + threads
                    + " threads: it needs at least 1");
        }
        return new CoroutinePool(null, threads);
    }

    /**
     * {@link #start(int)}, the pool named {@code name} instead of {@code coro-pool-N}: its threads are
     * {@code name-0}, {@code name-1} … (as thread dumps, JFR and the JMX view show them), and its
     * {@code toString()} ({@code CoroutinePool[name, 2 threads, running]}), its refusals, the report of its
     * failures and a dump of a wait on it name it so ({@code name: a coroutine failed and nobody observed it: …}).
     * The name is taken as it is, an empty one too, and takes no number from the {@code coro-pool-N} count; the
     * threads get it as it is, the description and messages made safe for one line, as a coroutine's name is
     * (a control character, a backslash or a quote escaped as in a Java literal, a name longer than 200 characters
     * cut there, how many more there are said); {@link #name()} gives it back as it is. Several pools may have one
     * name, as threads may: nothing is registered under it, and each works as any pool does.
     *
     * @param name    the pool's name, and its threads' before their index
     * @param threads how many threads; typically the number of cores
     * @return the running pool
     * @throws NullPointerException     if {@code name} is null (checked first)
     * @throws IllegalArgumentException if {@code threads} is less than 1, naming the pool
     * @throws IllegalStateException    as {@link #start(int)}'s, naming the pool: with the count, if the threads
     *                                  cannot be made (a count the JVM has no memory for, such as
     *                                  {@code Integer.MAX_VALUE}); with the thread, if one cannot be started or
     *                                  cannot start a scheduler
     */
    public static CoroutinePool start(String name, int threads) {
        Objects.requireNonNull(name, "name");
        if (threads < 1) {
            throw new IllegalArgumentException(Scheduler.describeCaller() + " cannot start " + SafeText.name(name) + " of "
                    + threads + " threads: it needs at least 1");
        }
        return new CoroutinePool(name, threads);
    }

    /**
     * Runs {@code body} as a coroutine on one of the pool's threads (see Placement). Handing it over is
     * an exchange with another thread for the caller's scheduler, as an await is (docs/THREADS.md).
     *
     * <p>The future's blocking reads wait cooperatively on a thread with a scheduler (one that has made
     * a coroutine or a channel, or a pool thread): a {@code join()}, {@code get()} or
     * {@code get(timeout, unit)} of it while it is not complete parks only the calling context, as
     * {@link Coroutine#await} does, so the thread's other contexts, and the operations other threads
     * posted to it (a body's first use of a channel this thread made), run meanwhile. They give what
     * the JDK's give ({@code join}: the value, {@code CompletionException}, {@code CancellationException};
     * {@code get}: {@code ExecutionException}, {@code CancellationException}, which, as an await's, names
     * the caller, the read and the future, on any thread, the JDK's its cause), and, as an await, throw
     * {@link CoroutineExit} if the caller is closed or a {@link Coroutine#withTimeout} of it expires
     * (the future is left as it is), and in main a {@link CoroutineException} if a coroutine it created
     * fails meanwhile (likewise); an interrupt of the thread does not end the wait, and stays set. A
     * timed {@code get} waits at most that long on the scheduler's clock, then throws
     * {@code TimeoutException} naming the caller, the read and the future (zero or less: at once, unless
     * complete). On a thread without a scheduler they block as any {@code CompletableFuture}'s do, and so
     * do they where the JDK cannot suspend the caller (a class initializer, an FFM upcall: docs/PINNING.md),
     * instead of throwing as an await does there. The
     * futures derived from it ({@code thenApply}, {@code thenCompose} …) wait the same way, and a failure
     * read through them counts as read (see Close); other blocking waits still hold the whole thread. A
     * dump names such a wait by its read and the future by its submission, as the future's
     * {@code toString()} does: {@code join the future of submit #1 to coro-pool-1[Not completed]}.
     *
     * <p>A body whose future its caller settled ({@code cancel}, {@code complete}) before the body
     * started never runs, as the supplier of a {@code supplyAsync} would not. One that has started is
     * closed by {@code cancel(true)}, as a {@code FutureTask}'s {@code cancel(true)} interrupts its
     * thread: its thread's main closes its coroutine at the thread's next scheduling point (unwound by
     * a {@link CoroutineExit} at its wait, its {@code finally} blocks run, as {@link Coroutine#close()}
     * does; one that never reaches a scheduling point runs on until it does; only the call that cancels
     * the future closes it: a {@code cancel(true)} of a future settled already, by a {@code cancel(false)}
     * say, closes nothing); {@code cancel(false)} and {@code complete} leave it to run to its end. {@link #close()} waits for the body either way.
     *
     * @param body the code to run; its value completes the future
     * @param <T>  the type of its value
     * @return a future completed with the body's value, or exceptionally with what it threw, whose
     *         blocking reads wait cooperatively (above); if the body's coroutine cannot be made (no memory
     *         left for it) or run (on the thread engine, no virtual thread can be started for it), or its thread's loop
     *         ended (see Close), exceptionally with an
     *         {@code IllegalStateException} naming the pool, the thread and the submission, the body never run (if
     *         the JVM has no memory left for that either, with the error that kept the body from running)
     * @throws RejectedExecutionException if the pool is closing or closed (the message names the caller, the pool and which)
     * @throws NullPointerException       if {@code body} is null
     */
    public <T> CompletableFuture<T> submit(Supplier<? extends T> body) {
        return submitNamed(null, body);
    }

    /**
     * {@link #submit(Supplier)}, the body's coroutine named {@code name}: dumps, the blocked-loop
     * detector's reports, refusals and {@link #close()}'s report of its failure name it so, instead of
     * {@code coroutine-N} (a server's acceptor and its connections told apart in a dump, say); so does
     * the future, and every stage derived from it, in its {@code toString()}, which a wait on it shows
     * in dumps and refusals: {@code the future of submit #1 (coroutine 'acceptor') to coro-pool-1[Not completed]}.
     *
     * @param name the coroutine's name, as {@link Coroutine#create(String, Runnable)} takes it
     * @param body the code to run; its value completes the future
     * @param <T>  the type of its value
     * @return the body's future, as {@link #submit(Supplier)}'s
     * @throws RejectedExecutionException if the pool is closing or closed (the message names the caller, the pool and which)
     * @throws NullPointerException       if {@code name} or {@code body} is null
     */
    public <T> CompletableFuture<T> submit(String name, Supplier<? extends T> body) {
        Objects.requireNonNull(name, "name");
        return submitNamed(name, body);
    }

    /**
     * {@link #submit(Supplier)} for a body that throws a checked exception (a query, a file's read): what
     * it throws, checked or not, fails the future as it is, as an unchecked one does a {@code submit}'s
     * ({@code join()} and {@link Coroutine#await} throw a {@code CompletionException} whose cause it is,
     * {@code get()} an {@code ExecutionException}), and {@link #close()} reports it if nobody observed it.
     * A separate name, since a lambda that throws nothing fits a {@code Callable} and a {@code Supplier}
     * alike, and {@code submit} would be ambiguous for it.
     *
     * <pre>{@code
     * CompletableFuture<List<String>> lines = pool.submitCallable(() -> Files.readAllLines(path)); // IOException
     * }</pre>
     *
     * @param body the code to run; its value completes the future
     * @param <T>  the type of its value
     * @return the body's future, as {@link #submit(Supplier)}'s
     * @throws RejectedExecutionException if the pool is closing or closed (the message names the caller, the pool and which)
     * @throws NullPointerException       if {@code body} is null
     */
    public <T> CompletableFuture<T> submitCallable(Callable<? extends T> body) {
        return submitNamed(null, calling(body));
    }

    /**
     * {@link #submitCallable(Callable)}, the body's coroutine named {@code name}, as
     * {@link #submit(String, Supplier)} names it.
     *
     * @param name the coroutine's name, as {@link Coroutine#create(String, Runnable)} takes it
     * @param body the code to run; its value completes the future
     * @param <T>  the type of its value
     * @return the body's future, as {@link #submit(Supplier)}'s
     * @throws RejectedExecutionException if the pool is closing or closed (the message names the caller, the pool and which)
     * @throws NullPointerException       if {@code name} or {@code body} is null
     */
    public <T> CompletableFuture<T> submitCallable(String name, Callable<? extends T> body) {
        Objects.requireNonNull(name, "name");
        return submitNamed(name, calling(body));
    }

    /** {@code body} as a supplier that throws what it throws as it is, checked or not. */
    private static <T> Supplier<T> calling(Callable<? extends T> body) {
        Objects.requireNonNull(body, "body");
        return () -> {
            try {
                return body.call();
            } catch (Exception e) {
                throw Coroutine.<RuntimeException>passOn(e); // the future fails with it as it is
            }
        };
    }

    private <T> CompletableFuture<T> submitNamed(String name, Supplier<? extends T> body) {
        Objects.requireNonNull(body, "body");
        ObservedFuture<T> f = new ObservedFuture<>(this, submissions.incrementAndGet(), reportOrder.incrementAndGet(), name);
        Task task = new Task(name, body, f, f.seq, f.order, "submit");
        f.task = task;
        place(task, "submit to");
        return f;
    }

    /**
     * Runs {@code body} as a coroutine on one of the pool's threads (see Placement); if it throws,
     * {@link #close()} throws it, and so it does if the body's coroutine cannot be made (no memory left
     * for it) or run (on the thread engine, no virtual thread can be started for it). There is no future to wait for: to wait for the body, {@link #submit} it
     * (its future's {@code join()} parks only the calling context). The JDK's classes that take an {@code Executor}
     * ({@code CompletableFuture.supplyAsync(s, pool)} …) hand their tasks over here: see With the JDK's
     * concurrency classes.
     *
     * @param body the code to run
     * @throws RejectedExecutionException if the pool is closing or closed (the message names the caller, the pool and
     *                                    which; a {@code CompletableFuture} stage whose task is refused so fails with it)
     * @throws NullPointerException       if {@code body} is null
     */
    @Override
    public void execute(Runnable body) {
        executeNamed(null, body);
    }

    /**
     * {@link #execute(Runnable)}, the body's coroutine named {@code name}, as {@link #submit(String, Supplier)} names it.
     *
     * @param name the coroutine's name, as {@link Coroutine#create(String, Runnable)} takes it
     * @param body the code to run
     * @throws RejectedExecutionException if the pool is closing or closed (the message names the caller, the pool and which)
     * @throws NullPointerException       if {@code name} or {@code body} is null
     */
    public void execute(String name, Runnable body) {
        Objects.requireNonNull(name, "name");
        executeNamed(name, body);
    }

    private void executeNamed(String name, Runnable body) {
        Objects.requireNonNull(body, "body");
        place(new Task(name, () -> {
            body.run();
            return null;
        }, null, submissions.incrementAndGet(), reportOrder.incrementAndGet(), "execute"), "execute on");
    }

    /**
     * Stops taking bodies, waits until every coroutine of the pool has ended, and ends the threads: on
     * return none of them is alive. Closing twice is fine. Called from a coroutine or main of a thread with coroutines, it parks
     * that context (the thread's others run meanwhile); where the JDK cannot suspend the caller (a class
     * initializer, an FFM upcall: docs/PINNING.md), or its park is refused otherwise (on the thread engine, the
     * context it would run gets no thread), it blocks the thread instead, as a submission's {@code join()} does. A coroutine of the pool that never ends (parked
     * on a future nobody completes, or on a channel nobody uses) makes it wait for ever: bound it with
     * {@link Coroutine#withTimeout}. Meanwhile a dump of the closer, and the signal of such a timeout,
     * name its wait as {@code await the close of coro-pool-1 (1 submitted body has not ended)}. A close
     * that ends so, or whose coroutine is closed, has closed the pool to submissions but reported
     * nothing: the failures go to the first close that sees the pool end, and the pool counts as open
     * (no thread reports a deadlock) until its threads have ended. An interrupt of the closing thread
     * neither cancels the pool's bodies (as {@code ExecutorService.close()} would) nor ends the wait: the
     * interrupt stays set and the close goes on waiting, as every wait of coro does (docs/SEMANTICS.md).
     *
     * @throws CoroutineException    with the first unobserved failure as its cause (see the class comment); its
     *                               message names the coroutine, the pool thread and the submission that failed, e.g.
     *                               {@code coro-pool-1: a coroutine failed and nobody observed it: coroutine 'coroutine-2'
     *                               on thread 'coro-pool-1-0' (#22), running the body of execute #2, threw
     *                               java.lang.IllegalStateException: first; 1 more failure suppressed}; or, in
     *                               main, the failure of a coroutine it created that fails while it waits (the wait is
     *                               cancelled, the pool left closing, its failures to the next close)
     * @throws CoroutineExit         if the caller is being closed, or a {@link Coroutine#withTimeout} of it expires,
     *                               while it waits (the pool is left closing, its failures to the next close)
     * @throws IllegalStateException if called from one of the pool's own threads (naming the caller, the pool and its state)
     */
    @Override
    public void close() {
        checkNotOwnThread("close");
        if (!closing) {
            closing = true;
            // posts made with the workers: nothing allocated once closing is set, so no thread parked for
            // work is left unwoken, a later close waiting for it for good (see wakeAgain)
            for (PoolWorker w : workers) {
                w.wakeAgain();
            }
        }
        FutureWait.awaitOrBlock(ended, "await"); // here, not in a method of the pool's own: a dump shows the call of close()
        awaitEnded();
        // whichever close sees the pool end reports: one that gave up waiting (a withTimeout) leaves the failures to the next
        Failure first = null;
        List<Throwable> later = new ArrayList<>();
        long dropped;
        synchronized (failures) {
            if (unreportedCause != null) {
                Task t = unreported;
                if (t == null) {
                    String where = unreportedBefore + Scheduler.describe(unreportedThread) + unreportedAfter;
                    failures.put(unreportedOrder, new Failure(where + " (no memory was left for the report of it): ", unreportedCause));
                } else if (t.future == null || !t.future.observed) {
                    failures.merge(t.order, new Failure("the body of " + t.op + " #" + t.seq
                            + " never ran (no memory was left for the report of its failure): ", unreportedCause), (kept, body) -> body.then(kept));
                }
                unreported = null;
                unreportedCause = null;
                unreportedThread = null;
                unreportedBefore = null;
                unreportedAfter = null;
            }
            List<ObservedFuture<?>> unread = new ArrayList<>(unobserved.values());
            unobserved.clear(); // before reading them: a read takes a future out of the map
            for (ObservedFuture<?> f : unread) {
                if (!f.observed) {
                    // not exceptionNow(): the caller may have obtruded another outcome since; before the failures its
                    // body's own could not carry, kept under its place (a put would drop them)
                    failures.merge(f.order, f.failure, (kept, body) -> body.then(kept));
                }
            }
            Set<Throwable> reported = Collections.newSetFromMap(new IdentityHashMap<>());
            for (Failure kept : failures.values()) {
                for (Failure f = kept; f != null; f = f.next) {
                    if (!reported.add(f.thrown) || first != null && heldByAny(first.thrown, later, f.thrown)) {
                        continue; // an exception several bodies threw, or one a failure reported already carries, is reported once
                    }
                    if (first == null) {
                        first = f;
                    } else {
                        later.add(f.thrown);
                    }
                }
            }
            failures.clear();
            dropped = notKept;
            notKept = 0;
        }
        if (first != null) {
            throw unobservedFailure(first, later, dropped);
        }
    }

    /**
     * Closes the pool as {@link #close()} does, after ending what runs on it, as an
     * {@code ExecutorService}'s {@code shutdownNow()} does: a body not started yet never runs (its future,
     * if it has one, is cancelled), and every coroutine on the pool's threads (the bodies' and those they
     * created) is closed by its thread's main at that thread's next scheduling point: unwound, its wait
     * ended by a {@link CoroutineExit}, its {@code finally} blocks run, as {@link Coroutine#close()}
     * does. A body closed so is no failure: its future completes exceptionally with that signal (or
     * keeps its caller's outcome), and {@code close()} does not report it; a body whose unwinding throws
     * something else has failed with it (its future fails with it, and {@code close()} reports it unless it was read,
     * as any failure of a body; its first such failure carries the later ones suppressed, and those it cannot carry,
     * made with suppression disabled, are each reported beside it), and another coroutine whose unwinding does is a failure reported as
     * {@code close()} reports one left to a thread's main.
     * Nothing preempts a coroutine: one that never reaches a scheduling point (a loop that neither yields
     * nor waits, a blocking JDK call) is closed only once it does. A body given to {@link #execute} that had not
     * started is dropped, never run: a future a JDK class made for it ({@code supplyAsync(s, pool)}'s, a
     * {@code FutureTask}'s) never completes, as with the tasks {@code shutdownNow()} hands back and nobody runs
     * (see With the JDK's concurrency classes). Then waits as {@link #close()} does;
     * calling it after a {@code close()} that is still waiting (a {@code withTimeout} around it gave up,
     * say) ends what that close waits for.
     *
     * @throws CoroutineException    as {@link #close()}
     * @throws CoroutineExit         as {@link #close()}
     * @throws IllegalStateException if called from one of the pool's own threads (naming the caller, the pool and its state)
     */
    public void closeNow() {
        checkNotOwnThread("closeNow");
        closingNow = true;
        closing = true;
        for (PoolWorker w : workers) {
            w.wakeAgain(); // allocates nothing, as close()'s
        }
        close();
    }

    /** Refuses {@code op} ({@code close}, {@code closeNow}) on one of the pool's own threads, which it would wait for. */
    private void checkNotOwnThread(String op) {
        Scheduler caller = Scheduler.currentOrNull(); // on the thread engine a coroutine runs on a thread of its own
        Thread self = caller != null ? caller.owner : Thread.currentThread();
        for (PoolWorker w : workers) {
            if (self == w.thread) {
                throw new IllegalStateException(Scheduler.describeCaller() + " cannot " + op + " " + name + " (" + state() + ") from its own thread "
                        + Scheduler.describe(w.thread) + ": it would wait for itself");
            }
        }
    }

    /**
     * Whether {@code first} or one of {@code later} carries {@code t} (as a cause or a suppressed exception, at any
     * depth): a failure that already shows it, as the failure of a body its thread's ending cut short carries the
     * error that ended the loop, which is then not reported a second time.
     */
    private static boolean heldByAny(Throwable first, List<Throwable> later, Throwable t) {
        return Scheduler.holds(first, t) || later.stream().anyMatch(l -> Scheduler.holds(l, t));
    }

    /**
     * The report of {@code first}, naming where it happened, with the {@code later} failures suppressed in
     * {@code first}'s exception, or in the report itself if that exception was made with suppression disabled
     * or one of them holds it already (as its cause or a suppressed one: suppressed in it, it would make a
     * cycle), and how many more there were beyond those kept ({@code notKept}).
     */
    private CoroutineException unobservedFailure(Failure first, List<Throwable> later, long notKept) {
        boolean holdFirst = later.stream().anyMatch(t -> Scheduler.holds(t, first.thrown));
        boolean inFirst = later.isEmpty() || !holdFirst && Scheduler.addedAsSuppressed(first.thrown, later.get(0));
        String more = later.isEmpty() ? "" : "; " + later.size() + (later.size() == 1 ? " more failure" : " more failures")
                + (inFirst ? " suppressed" : " suppressed in this report (" + (holdFirst
                        ? (later.size() == 1 ? "it holds" : "one of them holds") + " the first as a cause or a suppressed exception"
                        : "the first takes no suppressed exceptions") + ")");
        if (notKept > 0) {
            more += "; " + notKept + " more not kept (a pool keeps the first " + KEPT_FAILURES + " failures nobody observed)";
        }
        CoroutineException report = new CoroutineException(name + ": a coroutine failed and nobody observed it: " + first.where
                + SafeText.of(first.thrown) + more, first.thrown);
        for (int i = inFirst ? 1 : 0; i < later.size(); i++) {
            (inFirst ? first.thrown : report).addSuppressed(later.get(i));
        }
        return report;
    }

    /**
     * Waits until every worker has left its loop ({@code ended}), then until each thread has
     * terminated, which follows at once: a thread of a closed pool is never seen alive. The wait is
     * {@link FutureWait#awaitOrBlock}'s, among the machinery a dump leaves out, so that a dump of the
     * closer shows its call of {@code close()}, not this method's.
     */
    private void awaitEnded() {
        for (PoolWorker w : workers) {
            Joins.uninterruptibly(w.thread);
        }
    }

    /**
     * How many pools are open in the JVM: while one is, no thread reports a deadlock (a pool thread may
     * still wake it), but for one in a {@link VirtualTime#run} that handed no pool a body.
     */
    static int openPools() {
        return OPEN.get();
    }

    /**
     * For tests: how many bodies the queue of bodies waiting to start on pool thread {@code index} has room
     * for without growing. Read on that thread only (in a body it runs): the queue is its own.
     */
    int waitingRoom(int index) {
        return workers[index].tasks.room();
    }

    /**
     * The number of threads.
     *
     * @return how many threads the pool runs
     */
    public int threads() {
        return workers.length;
    }

    /**
     * The pool's name: the one given to {@link #start(String, int)}, as it is (an empty one too, a line break
     * or a quote not escaped, a long one not cut, as its threads' names begin with it), or {@code coro-pool-N}
     * for a pool {@link #start(int)} started. Messages and {@link #toString()} show it made safe for one line.
     * Safe to call from any thread, before and after {@link #close()}.
     *
     * @return the name of the pool, the prefix of its threads' names ({@code name-0}, {@code name-1} …)
     */
    public String name() {
        return given;
    }

    /**
     * The name, the threads and the state, e.g. {@code CoroutinePool[coro-pool-1, 2 threads, running]}:
     * {@code running} until a {@link #close()} starts, {@code closing} while it waits for the pool's
     * coroutines to end, {@code closed} once every thread of the pool has left its loop. Safe to call
     * from any thread.
     *
     * @return a short description
     */
    @Override
    public String toString() {
        return "CoroutinePool[" + name + ", " + workers.length + (workers.length == 1 ? " thread, " : " threads, ") + state() + "]";
    }

    /** The state {@link #toString()} gives: {@code running}, {@code closing} or {@code closed}. */
    private String state() {
        return ended.isDone() ? "closed" : closing ? "closing" : "running";
    }

    // ---- machinery ------------------------------------------------------------------------

    /**
     * Puts {@code task} on the thread with the fewest live bodies, ties round-robin (the first tied one
     * after the thread last chosen); {@code op} names the call for a refusal. If that thread's loop has
     * ended since it was chosen, the body fails there, never run ({@link PoolWorker#notRunThere}).
     */
    private void place(Task task, String op) {
        if (closing) {
            throw rejected(op);
        }
        PoolWorker target = countOnFewest();
        // counted live before it is posted, and closing read again after: a worker that saw closing
        // and no live body may have ended, so the body is then rejected, never posted there and lost
        if (closing) {
            target.live.decrementAndGet();
            target.wakeAgain(); // it may be waiting for this body: it checks again (a post that allocates nothing)
            throw rejected(op);
        }
        task.worker = target;
        // the task is its own post: nothing is allocated once the body is counted live on target, so an
        // OutOfMemoryError cannot leave a count for a body never posted, which close() would wait for for good
        if (!target.loop().inbox.postAsNode(task)) {
            target.notRunThere(task); // refused: target's loop ended (an Error of its machinery) since it was chosen
            return;
        }
        Scheduler s = Scheduler.currentOrNull();
        if (s != null) {
            s.connected = true; // a body handed to another thread, which may use the caller's channels: an exchange
        }
    }

    /**
     * Counts one more live body on the thread that has the fewest, ties going to the first tied one
     * after the thread last chosen, and returns it: of the threads whose loop has not ended
     * ({@link PoolWorker#endedBy}), or, once every one has, the next in turn, where the body fails. The count is taken only if that thread still has
     * the number seen (a compare-and-set), else the choice is made again: submitters racing from
     * several threads never all count on one thread that each saw as the least busy, so while no body
     * ends no thread has more than one live body above another.
     */
    private PoolWorker countOnFewest() {
        int n = workers.length;
        while (true) {
            int start = next.get(); // always in [0, n)
            int chosen = -1;
            int fewest = 0;
            for (int k = 0; k < n; k++) {
                int i = start + k < n ? start + k : start + k - n;
                if (workers[i].endedBy != null) {
                    continue; // its loop ended: it runs nothing any more
                }
                int live = workers[i].live.get();
                if (chosen < 0 || live < fewest) {
                    fewest = live;
                    chosen = i;
                }
            }
            if (chosen < 0) { // every thread's loop has ended: the body is refused there, and fails
                chosen = start;
                fewest = workers[start].live.get();
            }
            Consumer<CoroutinePool> hook = racing;
            if (hook != null) {
                hook.accept(this);
            }
            if (workers[chosen].live.compareAndSet(fewest, fewest + 1)) {
                next.set(chosen + 1 < n ? chosen + 1 : 0); // the next tie goes to the thread after it
                return workers[chosen];
            }
        }
    }

    /**
     * The refusal of {@code op} ("submit to", "execute on") in the shape of every refusal: the caller,
     * the operation, the pool and its state, the reason, e.g. {@code main context 'main' cannot submit
     * to coro-pool-1 (closed): a closed pool takes no more bodies}.
     */
    private RejectedExecutionException rejected(String op) {
        String state = state();
        return new RejectedExecutionException(Scheduler.describeCaller() + " cannot " + op + " " + name + " (" + state
                + "): a " + state + " pool takes no more bodies");
    }

    /** A body run by {@link #execute} failed, or one was left to a thread's main: {@code order} is its place in {@link #reportOrder}. */
    void failed(long order, Failure f) {
        synchronized (failures) {
            failures.merge(order, f, Failure::then); // a body's failures that its own cannot carry come after it
            keepBounded();
        }
    }

    /**
     * Under the lock of {@link #failures}, after one more was kept: while more than {@link #KEPT_FAILURES}
     * are, the last by the order of submission is let go and counted (a future let go that is read later
     * is counted out again: {@link #forget}).
     */
    private void keepBounded() {
        while (failures.size() + unobserved.size() > KEPT_FAILURES) {
            Long lastFailure = failures.isEmpty() ? null : failures.lastKey();
            Long lastFuture = unobserved.isEmpty() ? null : unobserved.lastKey();
            if (lastFuture == null || (lastFailure != null && lastFailure > lastFuture)) {
                notKept += failures.remove(lastFailure).count();
            } else {
                unobserved.remove(lastFuture).letGo = true;
                notKept++;
            }
        }
    }

    /**
     * {@code t}'s body never ran ({@code cause}), and the JVM had no memory for the report of that failure: kept
     * as it is, allocating nothing, for close() to report (the first such body; a later one is counted as not kept).
     */
    void failedUnreported(Task t, Throwable cause) {
        synchronized (failures) {
            if (unreportedCause == null) {
                unreported = t;
                unreportedCause = cause;
            } else {
                notKept++;
            }
        }
    }

    /**
     * A failure was left to the main context of pool thread {@code thread}: it counts from now, after every
     * submission so far. If the JVM has no memory for its report, it is kept as it is, allocating nothing
     * (as {@link #failedUnreported} keeps a body's): the error is not thrown on, which would end the thread.
     */
    void failedInMain(Thread thread, Throwable t) {
        failedOnThread(thread, t, LEFT_TO_MAIN, "");
    }

    /**
     * The loop of pool thread {@code thread} threw {@code t}, an {@code Error} of its machinery: while it
     * served ({@code ended} false; the thread has stopped serving, see {@link PoolWorker#died}), or as it ended,
     * closing what its coroutines left open. Reported by close() as a failure left to that thread's main is,
     * instead of going to the thread's uncaught-exception handler, which the pool's failures never reach.
     */
    void failedInLoop(Thread thread, Throwable t, boolean ended) {
        failedOnThread(thread, t, ended ? "thrown as thread " : "thrown in the loop of thread ", ended ? " ended" : ", which ended");
    }

    /**
     * {@link #failedInMain}, {@link #failedInLoop}: a failure thrown on pool thread {@code thread}, counted from now,
     * after every submission so far, where close()'s report says {@code before}, the thread (named as every
     * message names one, {@link Scheduler#describe(Thread)}: {@code 'coro-pool-1-0' (#22)}), {@code after}, then
     * what was thrown. If the JVM has no memory for that report, it is kept as it is, allocating nothing.
     */
    private void failedOnThread(Thread thread, Throwable t, String before, String after) {
        long order = reportOrder.incrementAndGet();
        try {
            failed(order, new Failure(before + Scheduler.describe(thread) + after + ": ", t));
        } catch (OutOfMemoryError again) {
            keepUnreported(thread, t, order, before, after);
        }
    }

    /**
     * The JVM had no memory for the report of {@code t}, thrown on pool thread {@code thread} and counted
     * {@code order}: kept as it is, allocating nothing, for close() to report in the words its report would
     * have had, {@code before} and {@code after} the thread (the first such failure; a later one is counted as
     * not kept).
     */
    private void keepUnreported(Thread thread, Throwable t, long order, String before, String after) {
        synchronized (failures) {
            if (unreportedCause == null) {
                unreportedCause = t;
                unreportedThread = thread;
                unreportedOrder = order;
                unreportedBefore = before;
                unreportedAfter = after;
            } else {
                notKept++;
            }
        }
    }

    /**
     * {@code f} is about to fail: kept for close() unless someone has read it. A reader that comes
     * later takes it out again ({@link #forget}); of the two checks of {@code observed} and
     * {@code retained}, one always sees the other's write.
     */
    void retainUnlessObserved(ObservedFuture<?> f, Failure failure) {
        if (f.observed) {
            return;
        }
        synchronized (failures) {
            f.failure = failure;
            unobserved.put(f.order, f);
            keepBounded();
        }
        f.retained = true;
        if (f.observed) {
            forget(f);
        }
    }

    /** {@code f} was read: close() will not report it. */
    void forget(ObservedFuture<?> f) {
        synchronized (failures) {
            if (unobserved.remove(f.order) == null && f.letGo) {
                f.letGo = false; // counted as not kept: it is not to be reported after all
                notKept--;
            }
        }
    }

    /** How many failures the pool keeps for close(): those of execute and of a thread's main, and the futures nobody read. */
    int keptFailures() {
        synchronized (failures) {
            return failures.size() + unobserved.size();
        }
    }

    /** How many futures the pool holds for close(): the failed ones nobody has read yet. */
    int retainedFutures() {
        synchronized (failures) {
            return unobserved.size();
        }
    }

    /** A worker has no coroutine left; the last one to get there lets every worker end. */
    void workerIdle() {
        if (idle.incrementAndGet() == workers.length) {
            allIdle = true;
            for (PoolWorker w : workers) {
                w.wakeAgain(); // allocates nothing: no thread is left waiting for good for a wake-up that failed
            }
        }
    }

    void workerEnded() {
        if (running.decrementAndGet() == 0) {
            countClosed(); // not before: a close that gave up waiting leaves the pool open while its threads run
            ended.complete(null);
        }
    }

    /** The pool no longer counts among the open ones (once, however it ends). */
    private void countClosed() {
        if (countedOpen.compareAndSet(true, false)) {
            OPEN.decrementAndGet();
        }
    }

    /**
     * Whether {@code f} is one of the futures a pool makes (a submission's, one derived from it, a pool's end),
     * whose {@code isDone()} is the JDK's: a thread waiting in its event loop may ask it, as a plain future.
     * Not a minimal stage's, whose {@code isDone()} is refused.
     */
    static boolean madeHere(CompletableFuture<?> f) {
        return f instanceof PoolFuture && !(f instanceof MinimalFuture) || f instanceof End;
    }

    /**
     * Completed once every thread of the pool has left its loop: what {@link #close()} waits for, named
     * in a dump of the closer and in the signal of a {@code withTimeout} around it, with what it still
     * waits for.
     */
    private static final class End extends CompletableFuture<Void> {
        private final CoroutinePool pool;

        End(CoroutinePool pool) {
            this.pool = pool;
        }

        /** E.g. {@code the close of coro-pool-1 (1 submitted body has not ended)}. */
        @Override
        public String toString() {
            return "the close of " + pool.name + " (" + pool.describeLeft() + ")";
        }
    }

    /** What the pool's close still waits for, read from any thread. */
    private String describeLeft() {
        if (ended.isDone()) {
            return "every coroutine has ended";
        }
        int bodies = 0;
        for (PoolWorker w : workers) {
            bodies += w.live.get();
        }
        if (bodies > 0) {
            return bodies + (bodies == 1 ? " submitted body has" : " submitted bodies have") + " not ended";
        }
        return "every submitted body has ended, not every coroutine they created";
    }

    /**
     * A failure close() may report: what was thrown, and where, as the start of the report's phrase,
     * e.g. {@code coroutine 'coroutine-2' on thread 'coro-pool-1-0' (#22), running the body of execute #2, threw }; and
     * the next failure kept under the same place in the order of reports ({@code null} if none): a body unwound by a
     * close reports beside its own failure those its own cannot carry, all under the body's place.
     */
    record Failure(String where, Throwable thrown, Failure next) {

        Failure(String where, Throwable thrown) {
            this(where, thrown, null);
        }

        /** This failure, then those kept under its place after it, then {@code later}. */
        Failure then(Failure later) {
            return new Failure(where, thrown, next == null ? later : next.then(later));
        }

        /** How many failures it stands for: itself and those after it. */
        int count() {
            return next == null ? 1 : 1 + next.count();
        }
    }

    /**
     * A submitted body and its future (null for {@link #execute}); its own post to the thread it is handed to
     * ({@link Posted}), which then accepts it.
     */
    static final class Task extends Posted.Linked {
        /** Its coroutine's name; null for the default one. */
        final String name;
        final Supplier<?> body;
        final ObservedFuture<Object> future;
        /** The number of its submission. */
        final long seq;
        /** Its place in the order close() reports failures in. */
        final long order;
        /** The call that submitted it: {@code submit} or {@code execute}. */
        final String op;
        /** The thread it was handed to; null until then. */
        volatile PoolWorker worker;
        /** Its coroutine while the body runs (set and cleared on its thread); null before and after. */
        volatile Context context;
        /** Whether a {@code cancel(true)} asked its thread to close its body ({@link PoolWorker#requestClose}). */
        @SuppressWarnings("unused") // through CLOSE_ASKED
        private volatile boolean closeAsked;
        /** The task asked to be closed before it, below it in its worker's stack of those ({@link PoolWorker#toClose}). */
        Task nextToClose;
        /** {@link #closeAsked}, set once. */
        static final VarHandle CLOSE_ASKED;

        static {
            try {
                CLOSE_ASKED = MethodHandles.lookup().findVarHandle(Task.class, "closeAsked", boolean.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        @SuppressWarnings("unchecked")
        Task(String name, Supplier<?> body, ObservedFuture<?> future, long seq, long order, String op) {
            this.name = name;
            this.body = body;
            this.future = (ObservedFuture<Object>) future;
            this.seq = seq;
            this.order = order;
            this.op = op;
        }

        /** On the thread it was handed to: it arrives there. */
        @Override
        public void runPosted() {
            worker.accept(this);
        }

        /** The loop of the thread it was handed to ended before it arrived (see {@link PoolWorker#died}): it fails, never run. */
        @Override
        public void postRefused() {
            worker.notRunThere(this);
        }
    }
}
