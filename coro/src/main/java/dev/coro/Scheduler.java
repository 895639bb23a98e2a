package dev.coro;

import dev.coro.Coroutine.State;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * One thread's run list and current index: the seed's scheduler, its rules made exact.
 *
 * <p>Every rule of the scheduling semantics lives here, independent of how stacks are switched
 * (that is the {@link Engine}'s job). The {@link RunList} is an array with swap-remove; each context
 * knows its own index, so {@code switchTo}, {@code yield} and removal are O(1), and parked contexts
 * stay in the list but are skipped through the list's index of runnable entries, so a program that
 * never parks keeps the seed's exact order and one that parks thousands pays nothing per yield.
 */
final class Scheduler {

    private static final ThreadLocal<Scheduler> CURRENT = new ThreadLocal<>();

    /** The thread whose run list this is. */
    final Thread owner;
    /** This scheduler's share of the JVM's engine: gives contexts stacks and moves control. */
    final Engine engine;
    /**
     * This scheduler, held weakly: what a generator keeps of it (one reference for all of them, so
     * that a generator costs no reference object of its own), see {@code Generator.home}.
     */
    final WeakReference<Scheduler> weakly = new WeakReference<>(this);
    /** Main: the owner thread itself, entry 0 of the list once anything was created. */
    final Context main;
    /** Its event loop: the clock, the timers, and the idle wait. */
    final EventLoop loop = new EventLoop();
    /** The run list {@code L}. */
    final RunList runList = new RunList();
    /** The current index {@code i}. */
    private int current;
    /**
     * Whether this thread has exchanged anything with another thread (an awaited future, a run of a
     * select with an {@code onComplete} clause, a channel operation across threads): from then on a
     * wait with nothing else to run is not a deadlock. An operation refused before anything was looked at
     * or moved (another thread's channel closed, or its thread ended) is no exchange, and leaves it as it
     * was (docs/THREADS.md).
     */
    boolean connected;
    /**
     * Whether the thread waits in its event loop after a body ended, before the next context runs: no
     * context is current then (the index {@code current} still holds is the ended one's, now another's),
     * so a dump made there marks none and reads every context's frames from its own stack.
     */
    boolean idleAfterEnd;
    /**
     * Run on this thread each time a coroutine's body has ended and it has left the run list; null
     * unless a {@link CoroutinePool} thread's main waits for its last coroutine to end.
     */
    Runnable onEnded;
    /**
     * The {@link Coroutine#join} waits by the coroutine they wait for, each queue in the order they
     * began (a wait joins and leaves it in O(1), as a channel's waiters do); null until a context of
     * this thread first joins one.
     */
    private IdentityHashMap<Context, WaitQueue<JoinWait>> joins;
    /**
     * Whether main only waits in {@link VirtualTime#run} for the coroutines to end: a coroutine's
     * {@code yield} that would run main and nothing else is then an idle point, where the virtual clock
     * may jump (otherwise a loop that yields until a sleeper is done would bounce off main forever).
     */
    private boolean mainAwaits;
    /** See {@link #mainRunsNoUserCode()}. */
    private boolean mainRunsNoUserCode;
    /**
     * Whether main is a {@link CoroutinePool} thread's loop, which runs none of the user's code: set once, as
     * the pool thread makes its scheduler ({@link #mainRunsNoUserCode()}).
     */
    boolean mainIsAPoolLoop;
    /**
     * Whether a context of this thread has slept: from then on every coroutine created here gets its
     * sleep timer with it ({@link #create}), so that the first sleep of each takes the same path as
     * the rest. Otherwise a sleep compiled while only later sleeps ran would meet its untaken branch
     * in every new coroutine's first sleep, and the JIT would deoptimize once per coroutine.
     */
    private boolean sleepers;
    /**
     * While a {@link VirtualTime#run} is open: the generator whose body opened it (the innermost
     * generator of main then), which may not emit inside it; null otherwise, or for a run main's own code opened.
     */
    Generator<?> virtualOpenedBy;
    /**
     * How messages name the method that opened the thread's virtual-time run, while one is open (and its
     * last one after it): {@code VirtualTime.run} or {@code VirtualTime.call}, the one the caller wrote.
     * Read only to make a message.
     */
    String virtualMethod = VirtualTime.RUN;
    /**
     * How many coroutines this thread created, for default names and {@link Context}'s number: a long,
     * since a thread that runs for days may create more than an int counts (wrapping to 0 would make a
     * coroutine main). Set by tests as if the thread had created that many.
     */
    long created;
    /** How many generators this thread created, for their default names; a long, as {@link #created}. */
    long generatorsCreated;
    /** How many channels this thread created, for their default names; a long, as {@link #created}. */
    long channelsCreated;
    /** How many semaphores this thread created, for their default names; a long, as {@link #created}. */
    long semaphoresCreated;
    /**
     * How many scheduling points this scheduler has passed: {@code yield}, {@code switchTo}, a park,
     * the end of a body. One plain increment each; the blocked-loop watchdog reads it from its own
     * thread ({@link BlockedLoops}), and the statistics show it.
     */
    long schedulingPoints;
    /**
     * On the thread engine, how many times a context of this thread has resumed a generator's body, which
     * runs on a thread of its own ({@link ThreadGeneratorStack#resume()}): no scheduling point, but the turn
     * passes to the body's thread and back. One plain increment each; the blocked-loop watchdog reads it from
     * its own thread, to tell a context whose code goes on through such handoffs from one whose thread waits
     * for a carrier. Not counted on the continuation engine, where the body runs on its consumer's thread.
     */
    long generatorHandoffs;
    /**
     * The JMX dump's request posted to this thread and not run yet, which later dumps join instead
     * of posting their own; null if none. Guarded by {@link MonitorSupport.DumpRequest}'s class.
     */
    MonitorSupport.DumpRequest dumpRequest;

    private Scheduler(Thread owner) {
        this.owner = owner;
        this.main = new Context(this);
        this.engine = Engines.open(this);
        made = true;
        main.stack = engine.newStack(main);
    }

    /**
     * Whether a scheduler has been made in this JVM, so that {@link Engines} is initialized: the look-ups of the
     * calling thread's scheduler that find none test it before {@link Engines#THREAD_ENGINE}, so that a thread's
     * first use of the library does not initialize {@code Engines} ahead of the classes a new scheduler initializes
     * first (the set-up warnings they defer are logged in that order). Plain: the threads that need it read as true,
     * a thread-engine body's, were started by a thread that had made its scheduler.
     */
    private static boolean made;

    static {
        // A JDK class whose initializer a stack overflow stops stays broken for the JVM's life. The stack
        // walks of this library (a dump's frames, the thread engine's look for an initializer deadlock)
        // initialize StackWalker's options at their first use, which may come near a stack's end, after
        // which every walk of the JVM failed with NoClassDefFoundError: done here, as the first
        // scheduler is made, they are ready before any such use.
        StackWalker.getInstance(EnumSet.of(StackWalker.Option.SHOW_REFLECT_FRAMES));
    }

    /** The calling thread's scheduler; on return it exists. */
    static Scheduler current() {
        Scheduler s = CURRENT.get();
        return s != null ? s : unset();
    }

    /**
     * The scheduler of each live worker of a {@code ForkJoinPool} that made one, by thread id: such a
     * worker may have its thread locals erased between two of its tasks (the common pool's always are),
     * {@link #CURRENT} with them, while the thread lives on. Every other thread's scheduler is its own
     * for its life, held by {@link #CURRENT}; a worker's is held here too, so that its next task finds
     * it again, with what a task left in it (a suspended coroutine or generator, a channel another
     * thread uses), instead of making a second one that knows none of it. The entries of workers that
     * have ended are dropped each time a thread makes its scheduler, and each time the registry of
     * schedulers drops those of ended threads ({@link Monitoring#live()}: every read of the JMX view,
     * every sample of the blocked-loop detector), see {@link #dropEndedWorkers()}.
     */
    private static final ConcurrentHashMap<Long, Scheduler> WORKERS = new ConcurrentHashMap<>();

    /**
     * The scheduler of the calling thread while it makes, waiting in its event loop, a dump another thread
     * asked for ({@link #observeIdle}), its {@link #CURRENT} cleared meanwhile; null otherwise.
     */
    private static final ThreadLocal<Scheduler> OBSERVING_IDLE = new ThreadLocal<>();

    /**
     * Whether this scheduler's thread is making, waiting in its event loop, a dump another thread asked for
     * ({@link #observeIdle}): what a switch and a close made by the user's code in it read, one field (the
     * thread-local {@link #OBSERVING_IDLE} is for calls that have no scheduler at hand). Owner thread only.
     */
    private boolean observingIdle;

    /**
     * The future of a class of its own whose {@code whenComplete} the library calls now, as a wait of the
     * current context for it starts ({@link FutureWaits#add}); null otherwise. A {@code yield} or a
     * {@code switchTo} with posts pending, and a close that would run another coroutine, read it before they
     * run anything (the current context is marked {@link Context#REGISTERING} for the rest). Owner thread only.
     */
    CompletableFuture<?> callbackOf;

    /**
     * Throws {@link #refusedWhileObserving()} if this thread makes, waiting in its event loop, a dump another thread
     * asked for ({@link #observeIdle}): for a call made by the user's code in it that would run code as the calling
     * context, none of which runs (a generator's {@code next()}, which runs its body on its consumer's stack), before
     * it changes anything. Owner thread only.
     */
    void refuseWhileObservingIdle() {
        if (observingIdle) {
            throw refusedWhileObserving();
        }
    }

    /** {@link #current()} on a thread whose {@link #CURRENT} is empty: its scheduler found again, or a new one. */
    private static Scheduler unset() {
        Scheduler observing = OBSERVING_IDLE.get();
        if (observing != null) {
            if (observing.observingIdle) {
                throw observing.refusedWhileObserving();
            }
            return observing.boundAgain(); // an observation ended without the memory to bind it back
        }
        if (made && Engines.THREAD_ENGINE) {
            Scheduler late = LateBinding.bind(); // a body's thread, bound at its first call; refused if given up
            if (late != null) {
                return late;
            }
        }
        Thread self = Thread.currentThread();
        Scheduler s = erased(self);
        if (s != null) {
            return s;
        }
        try {
            s = new Scheduler(self);
        } catch (RuntimeException | Error e) {
            Warnings.logDeferred(); // no engine can run: what the initializers found is still worth saying
            throw e;
        }
        boolean worker = self instanceof ForkJoinWorkerThread;
        boolean first;
        try {
            // each may fail for want of memory, and a thread-local's set may fail after it stored the value:
            // then the thread has no scheduler, as before, and makes one at its next use, instead of keeping
            // one that the dumps, the JMX view and the blocked-loop detector never list
            if (worker) {
                WORKERS.put(self.threadId(), s);
            }
            CURRENT.set(s);
            first = Monitoring.add(s);
        } catch (Throwable e) {
            CURRENT.remove();
            if (worker) {
                WORKERS.remove(self.threadId(), s);
            }
            throw e;
        }
        Warnings.logDeferred(); // the class initializers' warnings, now that the scheduler is its thread's and registered
        if (first) {
            Monitoring.firstScheduler();
        }
        dropEndedWorkers();
        return s;
    }

    /**
     * Drops the schedulers of the {@code ForkJoinPool} workers that have ended from {@link #WORKERS}, as
     * a thread's own goes with its thread: a worker that ended (its pool shut down, or idle too long)
     * kept its scheduler, and the coroutines its tasks left, until another thread made its scheduler,
     * which a program that makes none any more never does. From any thread.
     */
    static void dropEndedWorkers() {
        if (!WORKERS.isEmpty()) {
            WORKERS.values().removeIf(w -> !w.owner.isAlive());
        }
    }

    /**
     * The scheduler {@code t} had before its thread locals were erased (a worker of a
     * {@code ForkJoinPool}: see {@link #WORKERS}), made its current one again; null if it has none.
     */
    private static Scheduler erased(Thread t) {
        if (!(t instanceof ForkJoinWorkerThread)) {
            return null;
        }
        Scheduler s = WORKERS.get(t.threadId());
        if (s != null) {
            CURRENT.set(s);
        }
        return s;
    }

    /**
     * A thread whose scheduler is already {@link #connected}: for it {@link #markConnected()} is one
     * comparison instead of a thread-local lookup. A one-entry cache, claimed by the first thread to
     * mark itself (a pool's thread never does: it is known connected otherwise, see {@link PoolThread})
     * and handed on only once that thread has ended, so threads do not take it from each other. (A scheduler stays its thread's for life and never becomes unconnected.) The thread is
     * held weakly ({@link #connectedOwnerId} is what the callers compare): an ended thread keeps the
     * task it ran, and with it whatever that task kept (a coroutine it left parked, the thread's
     * scheduler and stacks with it), so a strong reference here kept the last such thread of the JVM,
     * a finished request's handler say, until another thread took the cache. Null while none holds it.
     */
    private static WeakReference<Thread> connectedOwner;

    /**
     * The {@linkplain Thread#threadId() id} of {@link #connectedOwner}'s thread, -1 if none (thread ids are positive):
     * ids are never used again, so a thread that finds its own here is the cache's. Written only by that
     * thread (or cleared by it, see {@link #runVirtual}).
     */
    private static long connectedOwnerId = -1;

    /**
     * Whether the calling thread's scheduler is known {@link #connected} without a thread-local lookup: the
     * thread is the one-entry cache's (one comparison), or a {@link PoolThread} whose scheduler is.
     */
    static boolean isMarkedConnected() {
        Thread t = Thread.currentThread();
        return connectedOwnerId == t.threadId() || t instanceof PoolThread p && p.isConnected();
    }

    /**
     * {@link #markConnected()} after an exchange made in place already (a value a shared channel of another
     * thread took or gave under its lock), which must not be refused once it took effect: while the calling
     * thread makes, waiting in its event loop, a dump another thread asked for ({@link #observeIdle}), where
     * {@link #current()} refuses every call that needs a context, the scheduler it observes is marked, which
     * needs none.
     */
    static void markConnectedInPlace() {
        if (!isMarkedConnected()) {
            Scheduler observing = CURRENT.get() == null ? OBSERVING_IDLE.get() : null;
            if (observing != null && observing.observingIdle) {
                observing.connected = true;
            } else {
                markConnected();
            }
        }
    }

    /**
     * Marks the calling thread's scheduler as having exchanged something with another thread
     * ({@link #connected}), creating it if needed; for the cache's thread, one comparison.
     */
    static void markConnected() {
        Thread self = Thread.currentThread();
        if (!isMarkedConnected()) {
            Scheduler mine = current();
            mine.connected = true;
            if (mine.owner == self) {
                WeakReference<Thread> held = connectedOwner;
                Thread cached = held == null ? null : held.get();
                // its own thread too: two threads that claimed at once may have left one's id with the other's reference
                if (cached == null || cached == self || !cached.isAlive()) {
                    connectedOwnerId = self.threadId();
                    connectedOwner = new WeakReference<>(self);
                }
            }
        }
    }

    /**
     * Runs {@code observation}, a dump another thread asked for, posted to this scheduler's thread, where it
     * runs the user's code (the {@code toString()} of an awaited future). At a scheduling point of a running
     * context it runs as it is: that code may use the library as in {@link Coroutine#dump()}, whose caller it
     * is. While the thread waits in its event loop (its current context parked, or none current after a body
     * ended), no context runs to be suspended or named, and a suspension would move a parked context as if it
     * ran, or one that is not current (the thread would never wake it again, and the dump never be answered):
     * every call there that needs the calling context ({@code Coroutine.yield()}, {@code Coroutine.current()},
     * an await, a sleep, a close of a suspended or parked coroutine, which would run it, a generator's {@code next()}, which
     * would run its body as that context) throws {@link #refusedWhileObserving()} instead, before it does anything, and the dump
     * names the object by its class and what its text threw.
     */
    void observe(Runnable observation) {
        if (!idleAfterEnd && currentContext().state == Context.RUNNING) {
            observation.run();
        } else {
            observeIdle(observation);
        }
    }

    /**
     * {@link #observe} while the thread waits in its event loop: {@link #CURRENT} cleared, so that {@link #unset()}
     * refuses a call that looks the scheduler up, and the context a scheduling point would take as the caller
     * (parked, or the one at the ended body's index) marked {@link Context#OBSERVED}, so that one made on the owner
     * thread through a channel or a coroutine (which know their scheduler) is refused by its check of signals.
     */
    private void observeIdle(Runnable observation) {
        Scheduler bound = CURRENT.get();
        Scheduler outer = OBSERVING_IDLE.get();
        try {
            OBSERVING_IDLE.set(this); // first, before anything changes: it may fail for want of memory
        } catch (Throwable e) {
            if (outer == null) {
                OBSERVING_IDLE.remove(); // a thread-local's set may fail after it stored the value
            }
            throw e;
        }
        Context at = runList.size() == 0 ? main : current < runList.size() ? runList.get(current) : null;
        Throwable kept = at != null ? at.pendingThrow : null;
        if (at != null) {
            at.pendingThrow = Context.OBSERVED;
        }
        boolean observingBefore = observingIdle;
        observingIdle = true;
        CURRENT.remove();
        try {
            observation.run();
        } finally {
            observingIdle = observingBefore;
            if (at != null && at.pendingThrow == Context.OBSERVED) {
                // what it kept, or the mark of a clean-up a refused wait left unfinished meanwhile
                at.pendingThrow = kept != null ? kept : at.unfinishedCleanup != null ? Context.CLEANUP_LEFT : null;
            }
            if (bound != null) {
                try {
                    CURRENT.set(bound);
                } catch (Throwable e) {
                    // no memory to bind it back: OBSERVING_IDLE keeps it, no longer observing, and the thread's
                    // next look-up binds it (boundAgain), instead of making it a second scheduler, or refusing for good
                    UNBOUND.incrementAndGet();
                    throw e;
                }
            }
            if (outer == null) {
                OBSERVING_IDLE.remove();
            } else {
                OBSERVING_IDLE.set(outer);
            }
        }
    }

    /**
     * The refusal of a call that needs the calling context, made by the user's code in a dump this thread
     * makes for another while it waits in its event loop ({@link #observe}), e.g. {@code thread 'worker' (#22)
     * cannot use coroutines in the text of a dump it makes for another thread while it waits in its event loop:
     * no context of it runs to yield, park or be named (an awaited future's toString() calls coro)}.
     */
    IllegalStateException refusedWhileObserving() {
        return new IllegalStateException("thread " + describe(owner) + " cannot use coroutines in the text of a dump it"
                + " makes for another thread while it waits in its event loop: no context of it runs to yield, park or be"
                + " named (an awaited future's toString() calls coro)");
    }

    /** The calling thread's scheduler, or null if it has none; creates nothing. */
    static Scheduler currentOrNull() {
        Scheduler s = CURRENT.get();
        return s != null ? s : UNBOUND.get() != 0 ? unboundOrErased() : made && Engines.THREAD_ENGINE ? lateOrErased() : erased(Thread.currentThread());
    }

    /**
     * {@link #currentOrNull()} on the thread engine, for a thread whose {@link #CURRENT} is empty: a body's thread
     * not bound yet, bound now ({@link LateBinding}: none for one given up), else as {@link #erased}.
     */
    private static Scheduler lateOrErased() {
        Scheduler late = LateBinding.bindQuietly();
        return late != null ? late : erased(Thread.currentThread());
    }

    /**
     * How many threads an observation left without their scheduler bound ({@link #observeIdle}: no memory
     * to bind it back), until each looks it up again: while none is, {@link #currentOrNull()} of a thread
     * without a scheduler reads this alone.
     */
    private static final AtomicInteger UNBOUND = new AtomicInteger();

    /** {@link #currentOrNull()} while some thread's scheduler waits to be bound again: this thread's, bound now, if it is one. */
    private static Scheduler unboundOrErased() {
        Scheduler observing = OBSERVING_IDLE.get();
        if (observing != null && !observing.observingIdle) {
            return observing.boundAgain();
        }
        return observing != null ? null : erased(Thread.currentThread());
    }

    /**
     * This scheduler, which an observation of the calling thread could not bind back to it ({@link #observeIdle}),
     * bound now; if the JVM still has no memory for that, the error is thrown and the next look-up tries again.
     */
    private Scheduler boundAgain() {
        CURRENT.set(this);
        OBSERVING_IDLE.remove();
        UNBOUND.decrementAndGet();
        return this;
    }

    /**
     * The calling context, for messages; a thread that has no scheduler is named as a thread (none is
     * made for a message).
     */
    static String describeCaller() {
        Scheduler s = currentOrNull();
        return s != null ? s.currentContext().describe() : "thread " + describe(Thread.currentThread());
    }

    /** Makes {@code s} the scheduler of the calling thread (an engine's helper thread). */
    static void bind(Scheduler s) {
        CURRENT.set(s);
    }

    /**
     * The one thread-confinement check: the caller must run as this scheduler's thread (the owner, or
     * an engine's thread running on its behalf); on return it does.
     *
     * @param operation what was attempted, e.g. {@code switchTo}
     * @param target    a phrase naming what it was attempted on, e.g. {@code coroutine 'ping'}
     * @param state     the target's state, for the message
     * @throws IllegalStateException naming the caller and its thread, the operation, the target, its state and its thread
     */
    void checkCaller(String operation, String target, Object state) {
        if (Thread.currentThread() != owner && CURRENT.get() != this && !boundLate(operation, target, state)) {
            throw notOwner(operation, target, state);
        }
    }

    /**
     * For a caller that does not run as this scheduler's thread as far as {@link #CURRENT} says: whether it
     * does all the same, a thread-engine body's thread bound only now ({@link LateBinding}); refused if that
     * thread was given up, naming {@code operation} on {@code target} in state {@code state} (or, if
     * {@code operation} is null, the public call its frames show).
     */
    private boolean boundLate(String operation, String target, Object state) {
        return Engines.THREAD_ENGINE && LateBinding.bind(operation, target, state) == this;
    }

    /** Whether the caller runs as this scheduler's thread (the owner, or an engine's thread on its behalf). */
    boolean isCaller() {
        return Thread.currentThread() == owner || CURRENT.get() == this || boundLate(null, null, null);
    }

    /** {@link #checkCaller(String, String, Object)} for a context; small, so that the switch inlines it. */
    Scheduler checkCaller(Context target, String operation) {
        if (Thread.currentThread() != owner) {
            checkBound(target, operation);
        }
        return this;
    }

    /** For a caller that is not the owner thread: it must be an engine's thread bound to this scheduler. */
    private void checkBound(Context target, String operation) {
        if (CURRENT.get() != this && !boundLate(operation, target.describe(), target.state())) {
            throw notOwner(operation, target.describe(), target.state());
        }
    }

    /**
     * The refusal of {@code operation} on {@code target} to a caller that does not run as this scheduler's
     * thread, naming the caller first and its state in parentheses as in every refusal, e.g. {@code coroutine
     * 'reader' of thread 'intruder' (#31) cannot read from connection A -> B (open): it belongs to thread
     * 'main' (#1)}.
     */
    IllegalStateException notOwner(String operation, String target, Object state) {
        return notOwner(owner, operation, target, state);
    }

    /**
     * {@link #notOwner(String, String, Object)} for a target of thread {@code owner}, whose scheduler
     * may be gone (the thread has ended, and nothing keeps it); a thread that has ended is said to
     * have, as a channel's refusal says it, since no call of the target can ever be made again.
     */
    static IllegalStateException notOwner(Thread owner, String operation, String target, Object state) {
        return new IllegalStateException(describeCallerAndThread() + " cannot " + operation + " " + target + " ("
                + state + "): it belongs to thread " + describe(owner) + (owner.isAlive() ? "" : ", which has ended"));
    }

    /**
     * {@link #describeCaller()} with its thread, for a refusal to a caller of another thread than the
     * target's, e.g. {@code coroutine 'reader' of thread 'intruder' (#31)}; a thread that has no
     * scheduler is named as a thread (none is made for a message).
     */
    static String describeCallerAndThread() {
        Scheduler s = currentOrNull();
        return s != null ? s.currentContext().describe() + " of thread " + describe(s.owner)
                : "thread " + describe(Thread.currentThread());
    }

    // ---- the seed's calls ------------------------------------------------------------------

    Context create(String name, Runnable body) {
        if (runList.size() == 0) {
            runList.add(main);
            current = 0;
        }
        Context creator = runList.get(current);
        Context co = new Context(this, creator, name, created + 1, body);
        if (sleepers) {
            co.sleep = new Sleep(co);
        }
        co.stack = engine.newStack(co);
        runList.add(co);
        created++; // counted once it is made: a creation that failed for want of memory numbers none
        if (Monitoring.jfr) {
            CoroutineStart.record(co, creator);
        }
        return co;
    }

    void yieldToPrevious() {
        schedulingPoints++;
        if (loop.hasPending()) {
            pollBeforeYield();
        }
        int n = runList.size();
        if (n <= 1) {
            if (loop.hasPending()) {
                idleInYield(main);
            } else {
                main.checkSignals("yield");
            }
            return;
        }
        Context from = runList.get(current);
        from.checkSignals("yield");
        Context to = runList.previousRunnable(current - 1, n - 1);
        if (to == main && mainAwaits && runList.previousRunnable(n - 1, n - 1 - current) == null) {
            to = idleInYield(from); // main only waits in VirtualTime.run for the rest: nothing else is runnable
        }
        if (to == null && (to = idleInYield(from)) == null) {
            return;
        }
        transfer(from, to, YIELD);
    }

    /**
     * A {@code yield} of {@code from} that found nothing else to run while a timer is pending: under
     * virtual time this is an idle point, and the clock jumps to the next timer (so that a loop that
     * yields until a sleeper is done ends); on the real clock it is not (the caller keeps running).
     * With a wait for another thread or for I/O pending too, the idle point waits as a park's does:
     * in real time, until something comes or nothing has for as long as the timer is away, and then the
     * clock jumps; a yield that skipped it would never let the clock move, and a loop yielding until a
     * read under a {@code withTimeout} ends would spin for good.
     * Main's yield while it only waits in {@link VirtualTime#run} is an idle point whatever is
     * pending: it waits in the event loop (for another thread, for I/O) instead of yielding on and on,
     * and with nothing pending on a thread that another may still wake, it waits for a post (as a
     * park does).
     *
     * @return the context to run now; null to keep running {@code from}
     */
    private Context idleInYield(Context from) {
        if (loop.isVirtual() && (loop.hasTimers() || from == main && mainAwaits && loop.hasPending())) {
            loop.idle();
            loop.restoreInterrupt();
        } else if (from == main && mainAwaits && othersMayWake()) {
            loop.awaitOthers(); // nothing pending here, but another thread may still post
            loop.restoreInterrupt();
        }
        from.checkSignals("yield");
        return runList.previousRunnable(current - 1, runList.size() - 1); // none to look at when alone
    }

    void switchTo(Context to) {
        schedulingPoints++;
        if (loop.hasPending()) {
            pollBeforeSwitch();
        }
        Context from = currentContext();
        from.checkSignals("switchTo");
        if (!to.isSwitchable()) { // the running context itself is not, so its check is off the common path
            if (to == from) {
                switchToItself(from);
                return;
            }
            throw cannotSwitchTo(from, to, to.state());
        }
        transfer(from, to, SWITCH);
    }

    /**
     * The posts a {@link #switchTo} runs first, unless it is made by the user's code in a dump this thread makes
     * for another while it waits in its event loop ({@link #observeIdle}): refused there before it runs any, as
     * {@link #observe} promises, since a post taken now would run before those the thread took with the dump's
     * request and runs once the dump is made, out of the order they were made in. Apart from the switch, on the
     * path of pending posts only, so that the switch stays as it was.
     */
    private void pollBeforeSwitch() {
        if (observingIdle) {
            throw refusedWhileObserving();
        }
        if (callbackOf != null) {
            throw refusedWhileRegistering(currentContext(), "switchTo");
        }
        loop.poll();
    }

    /**
     * The posts a {@code yield} runs first, unless it is made by the user's code in the {@code whenComplete} of a
     * future that a wait of the caller starts on ({@link #callbackOf}): refused there before it runs any, since a
     * post taken now (that future's completion) would find the wait half made and wake nothing. On the path of
     * pending posts only, so that the yield stays as it was.
     */
    private void pollBeforeYield() {
        if (callbackOf != null) {
            throw refusedWhileRegistering(currentContext(), "yield");
        }
        loop.poll();
    }

    /**
     * The refusal of {@code operation} (a scheduling point, or a close that would run another coroutine) to
     * {@code self}, made by the user's code in the {@code whenComplete} of {@link #callbackOf}, a future of a
     * class of its own that a wait of {@code self} starts on, e.g. {@code coroutine 'r' (state RUNNING) cannot
     * yield inside the whenComplete of app.Job@1b6d3586, which coro calls as a wait for that future starts: …}.
     * The future is named by its class and identity, not its {@code toString()}, whose own calls would be
     * refused again.
     */
    IllegalStateException refusedWhileRegistering(Context self, String operation) {
        CompletableFuture<?> f = callbackOf;
        String future = f == null ? "a future" : f.getClass().getName() + "@" + Integer.toHexString(System.identityHashCode(f));
        return new IllegalStateException(self.describe() + " (state " + self.state() + ") cannot " + operation
                + " inside the whenComplete of " + future + ", which coro calls as a wait for that future starts:"
                + " the wait is half made until it returns, and nothing could wake it rightly; a future's whenComplete"
                + " must not yield, park, switch to or close a coroutine");
    }

    /**
     * Whether no context but the running one could run now: every other entry is parked, or only main
     * is left besides, waiting in {@link VirtualTime#run} for the rest (as {@link #yieldToPrevious} counts).
     */
    private boolean nothingElseRunnable() {
        int n = runList.size();
        if (n <= 1) {
            return true;
        }
        Context other = runList.previousRunnable(current - 1, n - 1);
        return other == null || other == main && mainAwaits && runList.previousRunnable(n - 1, n - 1 - current) == null;
    }

    /**
     * A {@code switchTo} of the running context itself: returns at once, but under virtual time, with
     * nothing else to run and a timer pending, it is an idle point, as such a {@code yield} is
     * ({@link #idleInYield}): the clock jumps to the next timer, so that a {@code withTimeout} around a
     * loop of such switches expires as it does on the real clock, where its deadline comes while the
     * loop runs. The caller keeps running (a context the jump woke runs at its next scheduling point
     * that chooses it). Apart from the switch, so that the switch stays small.
     */
    private void switchToItself(Context from) {
        if (loop.isVirtual() && loop.hasTimers() && nothingElseRunnable()) {
            loop.idle();
            loop.restoreInterrupt();
            from.checkSignals("switchTo");
        }
    }

    /** Why {@code from} cannot switch to {@code to}, which is {@code st}, as every refusal says it. */
    private static IllegalStateException cannotSwitchTo(Context from, Context to, State st) {
        String why = switch (st) {
            case PARKED -> "it waits to " + Wait.describe(to.waitingFor) + "; only what it waits for can wake it";
            case FINISHED -> "it has ended, its body having returned";
            case CLOSED -> "it has ended, closed";
            case FAILED -> "it has ended, its body having thrown; its failure was delivered to " + to.failureWentTo;
            default -> "only a NEW or SUSPENDED coroutine can be switched to";
        };
        return new IllegalStateException(from.describe() + " cannot switchTo " + to.describe() + " (" + st + "): " + why);
    }

    /**
     * Closes {@code c} for {@link Coroutine#close()}: a {@code NEW} one ends {@code CLOSED} at once; a
     * suspended or parked one is marked closing and run, its pending call throwing the exit signal, until
     * its body has unwound; then the caller runs again, its {@code close()} throwing the body's report if
     * the body failed meanwhile. A {@code c} suspended while a failure was kept for its next scheduling
     * point (it closed another, which closes it back: a {@code close()} throws nothing kept before it
     * switches) throws that failure first, where it resumes, instead of the signal, which would drop it;
     * being closing, its next scheduling point throws the signal. (The signal of an expired
     * {@code withTimeout} that woke {@code c} gives way to the close's, as its scope's signal comes again.)
     */
    void close(Context c) {
        State st = c.state();
        if (st.isTerminal()) {
            return;
        }
        Context from = currentContext();
        if (c == main) {
            throw new IllegalStateException(from.describe() + " cannot close " + c.describe() + " (" + st
                    + ") of thread " + describe(owner) + ": it is the thread itself; only coroutines can be closed");
        }
        if (c == from) {
            throw new IllegalStateException(from.describe() + " cannot close " + c.describe()
                    + " (RUNNING): a coroutine cannot close itself (return from its body instead)");
        }
        if (from.unfinishedCleanup != null) {
            from.finishCleanup(); // before c runs, as a scheduling point would (a close throws nothing kept)
        }
        if (st == State.NEW) {
            remove(c);
            c.moveTo(State.CLOSED);
            c.release();
            if (joins != null) {
                joinersOf(c);
            }
            if (Monitoring.jfr) {
                CoroutineEnd.record(c, Fiber.Ending.CLOSED, null); // its start was recorded: so is its end
            }
            return;
        }
        if (st != State.SUSPENDED && st != State.PARKED) {
            throw new IllegalStateException(from.describe() + " cannot close " + c.describe() + " (" + st
                    + "): only a NEW, SUSPENDED or PARKED coroutine can be closed");
        }
        if (observingIdle) {
            throw refusedWhileObserving(); // it would run c, switching away from a context that does not run
        }
        if (callbackOf != null) {
            throw refusedWhileRegistering(from, "close " + c.describe() + " (" + st + ")"); // it would run c
        }
        Throwable pending = c.pendingThrow;
        Throwable first = pending == null || pending == Context.CLEANUP_LEFT || pending instanceof CoroutineExit
                ? c.exitLeftByClose() // named as c resumes; a timeout's signal waiting for c gives way to the close's
                : pending;
        c.closing = true;
        c.closer = from;
        c.pendingThrow = first;
        try {
            if (st == State.PARKED) {
                c.moveTo(State.SUSPENDED); // woken, to run at once: what transfer takes
            }
            transfer(from, c, CLOSE);
        } catch (Throwable t) {
            if (c.pendingThrow == first && !(first instanceof CoroutineExit exit && exit.taken)) {
                // c never resumed (it takes the signal first thing; one naming no call is marked taken as c names
                // its call, pending meanwhile, and the closer may fail then): the transfer did not happen (the JDK
                // refused to suspend the caller, or its stack overflowed), so c is not being closed. As
                // in run, by field writes alone: a parked c is parked again, its bit in the run list's
                // index cleared on each level that its word's clearing empties
                if (st == State.PARKED && c.state != Context.PARKED) {
                    int k = c.index;
                    for (long[] bits : runList.levels) {
                        int w = k >>> 6;
                        long left = bits[w] & ~(1L << k);
                        bits[w] = left;
                        if (left != 0) {
                            break;
                        }
                        k = w;
                    }
                    c.state = Context.PARKED;
                }
                c.closing = false;
                c.closer = null;
                c.pendingThrow = pending;
            }
            throw t;
        }
    }

    /**
     * Parks the current context until what it waits for wakes it ({@link #unpark}) and a switch
     * selects it again, running the previous runnable context meanwhile (the order of
     * {@code yield()}, parked ones skipped). If no other context can run, the thread waits in its
     * {@link EventLoop} for a timer; with no timer either, nothing could ever wake it.
     *
     * @param wait what it waits for, whose {@code toString()} says it, e.g. {@code receive from channel
     *             'jobs'}; shown by dumps and errors
     * @throws DeadlockException  if every other context is parked too and no timer is pending (the
     *                            caller is then not parked), or, in main, if its wait is cancelled
     *                            because everything else got stuck
     * @throws CoroutineExit      if the caller is being closed, now or while parked, or a
     *                            {@code withTimeout} of it expired
     * @throws CoroutineException if a coroutine the caller created failed: while it was parked (main
     *                            only, its wait is cancelled), or after it was woken
     */
    void park(Wait wait) {
        schedulingPoints++;
        Context from = currentContext();
        from.checkSignals(wait);
        from.waitingFor = wait;
        Park event = Monitoring.jfr ? Park.start() : null;
        if (Monitoring.parkTimes) {
            from.parkedSince = System.nanoTime();
        }
        try {
            Context to;
            if ((to = nextWithoutTheLoop()) == null) {
                if ((to = parkOnLoopCalled(from, wait)) == null) {
                    return;
                }
            } else {
                from.moveTo(State.PARKED);
            }
            transfer(from, to, PARK);
        } catch (Throwable t) {
            // from parked (or a due timer woke it) and control never left: it runs on, put back by field
            // writes alone, as run puts back the rest (see there): a bit on each level of the run list's
            // index makes it runnable again (main alone is in no list)
            if (from.state != Context.RUNNING) {
                event = null; // control never left it: no park to record (a refusal, a stack overflow)
                if (from.state == Context.PARKED && from.index >= 0) {
                    int k = from.index;
                    for (long[] bits : runList.levels) {
                        bits[k >>> 6] |= 1L << k;
                        k >>>= 6;
                    }
                }
                from.state = Context.RUNNING;
            }
            if (t instanceof PinnedException e) { // the JDK refused the switch: named now that from runs again
                throw refusedPark(from, e);
            }
            throw t;
        } finally {
            from.waitingFor = null;
            if (event != null) {
                event.finish(from, wait);
            }
        }
    }

    /**
     * The context a {@link #park} switches to without a turn of the event loop: the previous runnable
     * one, if the loop has nothing to take in now ({@link EventLoop#nothingDue}) and that context is not
     * main waiting in {@link VirtualTime#run} (whose choice {@link #parkOnLoop} makes); so a sleep among
     * runnable contexts leaves its timer and switches as a park with nothing pending does. Null if the
     * loop must choose. Kept out of the park, whose size decides whether its callers inline it.
     */
    private Context nextWithoutTheLoop() {
        boolean pending = loop.hasPending();
        if (pending && !loop.nothingDue()) {
            return null;
        }
        Context to = runList.previousRunnable(current - 1, runList.size() - 1);
        return pending && to == main && mainAwaits ? null : to;
    }

    /**
     * {@link #parkOnLoop}, called through a handle the JIT cannot see through (it is not a constant), as
     * the rest of {@link Coroutine#await} is: compiled into {@link #park} (as it would be, hot), the
     * loop's work would make the park's frame several times larger (163 words frozen with a sleep, 46
     * called), and that frame is frozen and thawed with every sleep and every wait while a timer is
     * pending. Called, it has returned before the switch. Set once, never changed.
     */
    private static MethodHandle parkOnLoopHandle;

    static {
        try {
            parkOnLoopHandle = MethodHandles.lookup().findVirtual(Scheduler.class, "parkOnLoop",
                    MethodType.methodType(Context.class, Context.class, Wait.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** {@link #parkOnLoop} through {@link #parkOnLoopHandle}: what it throws, thrown as it is. */
    private Context parkOnLoopCalled(Context from, Wait wait) {
        try {
            return (Context) parkOnLoopHandle.invokeExact(this, from, wait);
        } catch (Throwable t) {
            throw Coroutine.<RuntimeException>rethrown(t);
        }
    }

    /**
     * {@link #park} when the event loop has something to take in now (a post, a due timer, a wait whose
     * checks count scheduling points: {@link EventLoop#nothingDue}), or nothing else can run, or main
     * waiting in {@link VirtualTime#run} would run next: {@code from} parks first, then
     * due timers expire (one may wake {@code from} itself), then the previous runnable context is
     * chosen; if there is none the thread waits in the event loop for the next timer, and if there is
     * no timer either, the park is refused with a {@link DeadlockException}. Whatever escapes before
     * control reaches the next context (that refusal, a stack overflow at any call of the loop) finds
     * {@code from} running again: {@link #park} puts it back. The switch itself is the park's: made
     * from here, it would freeze and thaw this method's frame (compiled, several times the park's
     * own) with every sleep and every wait while a timer is pending.
     *
     * @return the context to switch to, {@code from} being parked (or suspended, if a due timer woke
     *         it); null if {@code from} runs on, woken in the idle wait, without a switch
     */
    private Context parkOnLoop(Context from, Wait wait) {
        from.moveTo(State.PARKED);
        loop.poll(!(wait instanceof IoWait));
        Context to;
        try {
            while (true) {
                to = runList.previousRunnable(current - 1, runList.size() - 1); // none to look at when alone
                if (to == main && mainAwaits) {
                    to = mainsChoice();
                    if (to == from) { // woken by a timer that main's idle wait expired
                        from.moveTo(State.RUNNING);
                        resumed(from, PARK);
                        return null;
                    }
                }
                if (to != null) {
                    return to; // from is PARKED still, or SUSPENDED if a due timer woke it
                }
                if (from.isRunnable()) {
                    from.moveTo(State.RUNNING);
                    resumed(from, PARK);
                    return null;
                }
                if (!loop.hasPending() && othersMayWake()) {
                    loop.awaitOthers();
                    continue;
                }
                if (!loop.hasPending()) {
                    throw deadlock(from.describe() + " cannot " + Wait.describe(wait) + ": every other context of thread "
                            + describe(owner) + " is parked and no timer is pending, so nothing could ever wake it",
                            from, wait);
                }
                if (loop.hasForeignWaits()) {
                    idleWatching(from, wait);
                } else {
                    loop.idle();
                }
            }
        } finally {
            loop.restoreInterrupt(); // an interrupt the idle waits took, given back however the wait ends
        }
    }

    /**
     * The idle wait of {@link #parkOnLoop} while another thread may complete {@code wait}, the wait of
     * {@code from}, which nothing else of this thread can join: the loop's spin watches it besides the
     * inbox, and a completion seen before its post came wakes {@code from} at once (the post then finds
     * it awake; for a future, every wait on it wakes then, in the order they came, and the post finds
     * none). Apart from the park, so that the park stays small enough to be compiled into its callers.
     */
    private void idleWatching(Context from, Wait wait) {
        loop.watched = wait;
        try {
            loop.idle();
        } finally {
            loop.watched = null;
        }
        if (wait.completedAfar() && from.state() == State.PARKED && from.waitingFor == wait) {
            // a result came, as its post would have: under virtual time the quiet starts again (an idle wait
            // that no post ended, at the second the loop looks at the threads of remote waits, counted it)
            loop.quietNanos = 0;
            wait.takeInEarly(from);
        }
    }

    // ---- join ------------------------------------------------------------------------------

    /**
     * {@link Coroutine#join}: parks the caller until {@code c}, a coroutine of this thread, has ended;
     * returns at once if it has. Its waiters are woken as it ends, in the order they began, as a
     * channel wakes its receivers ({@link #joinersOf}).
     */
    void join(Context c) {
        State st = c.state();
        if (st.isTerminal()) {
            return;
        }
        Context from = currentContext();
        if (c == main) {
            throw new IllegalStateException(from.describe() + " cannot join " + c.describe() + " (" + st
                    + ") of thread " + describe(owner) + ": it is the thread itself, which never ends as a coroutine does");
        }
        if (c == from) {
            throw new IllegalStateException(from.describe() + " cannot join " + c.describe()
                    + " (RUNNING): a coroutine cannot wait for its own end");
        }
        JoinWait w = new JoinWait(from, c);
        if (joins == null) {
            joins = new IdentityHashMap<>();
        }
        try {
            WaitQueue<JoinWait> queue = joins.get(c);
            if (queue == null) {
                joins.put(c, queue = new WaitQueue<>());
            }
            queue.add(w);
            park(w);
        } catch (Throwable t) {
            // w leaves its queue (nothing if c's end took it already) by a clean-up marked by field writes
            // alone (see Channel.parkOn), which the caller finishes later if a stack overflow stops it here;
            // if another clean-up is marked still (the park threw at its check), this one is made at once
            if (from.unfinishedCleanup == null) {
                from.unfinishedCleanup = w;
                if (from.pendingThrow == null) {
                    from.pendingThrow = Context.CLEANUP_LEFT;
                }
                from.finishCleanup();
            } else {
                leaveJoin(w);
            }
            throw t;
        }
    }

    /** How many joins wait on coroutines of this thread: for tests, which check that none is left behind. */
    int joinWaits() {
        int n = 0;
        if (joins != null) {
            for (WaitQueue<JoinWait> queue : joins.values()) {
                for (JoinWait w = queue.first(); w != null; w = queue.next(w)) {
                    n++;
                }
            }
        }
        return n;
    }

    /**
     * Takes {@code w} out of the waits on its coroutine, if it is still there, and forgets the queue it
     * leaves empty. Doing it again changes nothing more.
     */
    void leaveJoin(JoinWait w) {
        WaitQueue<JoinWait> queue = joins.get(w.target);
        if (queue != null) {
            queue.remove(w);
            if (queue.isEmpty()) {
                joins.remove(w.target);
            }
        }
    }

    /**
     * {@code c} has ended: every context still parked in a join of it is woken, in the order they
     * began (each becomes {@code SUSPENDED}, and the usual order selects it).
     */
    void joinersOf(Context c) {
        WaitQueue<JoinWait> queue = joins.remove(c);
        if (queue != null) {
            for (JoinWait w = queue.first(); w != null; w = queue.next(w)) {
                Context j = w.joiner;
                if (j.state() == State.PARKED && j.waitingFor == w) {
                    unpark(j);
                }
            }
        }
    }

    // ---- time ------------------------------------------------------------------------------

    /** {@link Coroutine#sleep}: parks the caller until {@code d} has passed on this scheduler's clock. */
    void sleep(Duration d) {
        long nanos = saturatedNanos(d);
        if (nanos <= 0) {
            return;
        }
        Context self = currentContext();
        Sleep s = self.sleep;
        if (s == null || s.isPending()) {
            s = new Sleep(self); // its first sleep; or one while its kept timer is pending (none does today)
            if (self.sleep == null) {
                self.sleep = s;
            }
            sleepers = true;
        }
        s.nanos = nanos;
        loop.schedule(s, loop.deadlineAfter(nanos));
        try {
            park(s);
        } catch (Throwable t) {
            // its timer is cancelled by a clean-up marked by field writes alone (see Channel.parkOn), which
            // this context finishes later if a stack overflow stops it here; if another clean-up is
            // marked still (the park threw at its check), this one is made at once, unmarked
            if (self.unfinishedCleanup == null) {
                self.unfinishedCleanup = s;
                if (self.pendingThrow == null) {
                    self.pendingThrow = Context.CLEANUP_LEFT;
                }
                self.finishCleanup();
            } else {
                loop.cancel(s);
            }
            throw t;
        }
        loop.cancel(s); // nothing to do if it expired, as it has when the park returns
    }

    /** {@link Coroutine#withTimeout}: runs {@code body} in the caller, interrupted if {@code d} passes first. */
    <T> T withTimeout(Duration d, Supplier<? extends T> body) {
        return withTimeout(d, body, false, null);
    }

    /**
     * {@link Coroutine#tryWithTimeout}: {@link #withTimeout(Duration, Supplier)}, but where that throws
     * {@link CoroutineTimeoutException} for the expiry of its own scope this returns {@code expired}; every
     * other throw (an inner scope's timeout, an outer scope's or a close's signal) is the same.
     */
    <T> T tryWithTimeout(Duration d, Supplier<? extends T> body, T expired) {
        return withTimeout(d, body, true, expired);
    }

    /**
     * The scope of both: runs {@code body} under a {@link TimeoutScope} of {@code d}; its own expiry
     * throws {@link CoroutineTimeoutException}, or, {@code orExpired}, returns {@code expired}.
     */
    private <T> T withTimeout(Duration d, Supplier<? extends T> body, boolean orExpired, T expired) {
        Context self = currentContext();
        String operation = orExpired ? "tryWithTimeout" : "withTimeout";
        long nanos = checkTimeout(d, self, operation);
        TimeoutScope scope = new TimeoutScope(self, operation, d, self.timeouts);
        if (nanos == 0) {
            // what a scheduling point would throw comes first: a close's signal, then an enclosing scope's
            // that expired already, which this one never swallows
            self.checkNotClosing(operation);
            if (scope.fired != null) {
                throw scope.fired.signal(operation);
            }
            if (orExpired) {
                return expired;
            }
            throw new CoroutineTimeoutException(self.describe(), scope, null);
        }
        loop.schedule(scope, loop.deadlineAfter(nanos));
        self.timeouts = scope;
        try {
            T result = Callback.get(body);
            loop.cancel(scope);
            self.timeouts = scope.parent;
            scope.leave();
            return result;
        } catch (Throwable t) {
            // the scope is left by a field write, before any call; then the clean-up (its timer cancelled,
            // an outer expiry passed on) is marked by field writes alone, as a wait's (see Channel.parkOn),
            // so that this context finishes it later if a stack overflow stops it here. If another clean-up
            // is marked still, this one is made at once, unmarked: a timer it leaves expires to no effect
            self.timeouts = scope.parent;
            if (self.unfinishedCleanup == null) {
                self.unfinishedCleanup = scope;
                if (self.pendingThrow == null) {
                    self.pendingThrow = Context.CLEANUP_LEFT;
                }
                self.finishCleanup();
            } else {
                scope.finish();
            }
            if (!(t instanceof CoroutineExit e) || e.timeoutScope() != scope) {
                throw t;
            }
            TimeoutScope outer = scope.outerFired();
            if (outer != null) {
                // what was added to this scope's signal as it unwound (a view's note of how much of a call
                // it cut short had been done, a failure of a finally) goes on with the outer's in its place
                CoroutineExit outerSignal = outer.signal(operation + "(" + d + ")");
                outerSignal.takeOverAdded(e);
                throw outerSignal;
            }
            if (orExpired) {
                return expired;
            }
            throw new CoroutineTimeoutException(self.describe(), scope, e);
        }
    }

    /**
     * {@link Coroutine#await} in the call {@code operation} (a pool future's {@code join},
     * {@code get}, {@code get(20 MILLISECONDS)}), which dumps and signals name the wait by: parks the caller
     * until {@code f} (not done yet) completes, on whatever thread completes it; the completion reaches this
     * thread as a post to its event loop, through the thread's one callback on {@code f} ({@link FutureWaits}).
     */
    void await(CompletableFuture<?> f, String operation) {
        await(f, f, operation);
    }

    /**
     * {@link #await(CompletableFuture, String)} of {@code f}, the future this thread waits on for
     * {@code stage}, which dumps and signals name the wait by: the stage the caller gave, not the future
     * made for it when it is not its own.
     */
    void await(CompletableFuture<?> f, CompletionStage<?> stage, String operation) {
        connected = true;
        Context self = currentContext();
        parkOn(self, f, new FutureWait(self, f, stage, operation));
    }

    /**
     * Parks the caller until {@code f} (not done yet), which only threads of the library's own complete
     * (a connect's name look-up, the end of a pool's threads for its {@code close()}), is complete. The
     * wait is named in dumps and signals as {@code operation} followed by {@code stage} (an await of
     * the pool's end), or, with no stage, as {@code operation} whole ({@code connect to
     * db.internal/<unresolved>:5432 (looking up its host)}). No exchange with another thread, unlike an
     * await of the user's: those threads reach nothing of this one but {@code f}, so this thread's
     * deadlocks are still reported once the wait has ended (while it lasts, it is pending as any wait
     * for another thread is).
     */
    void awaitLibrary(CompletableFuture<?> f, CompletionStage<?> stage, String operation) {
        Context self = currentContext();
        parkOn(self, f, new FutureWait(self, f, stage, operation));
    }

    /** Parks {@code self}, the caller, in {@code w}, its wait for {@code f}, until {@code f} is complete or something ends the wait. */
    private void parkOn(Context self, CompletableFuture<?> f, FutureWait w) {
        FutureWaits waits = loop.futureWaits();
        loop.foreignWaitStarted();
        try {
            waits.add(f, w);
            park(w);
        } catch (Throwable t) {
            // a wait that ended otherwise leaves nothing on the future, nor its count: a clean-up marked
            // by field writes alone (see Channel.parkOn), which self finishes later if a stack overflow
            // stops it here; if another clean-up is marked still, this one is made at once, unmarked
            if (self.unfinishedCleanup == null) {
                self.unfinishedCleanup = w;
                if (self.pendingThrow == null) {
                    self.pendingThrow = Context.CLEANUP_LEFT;
                }
                self.finishCleanup();
            } else {
                w.finish();
            }
            throw t;
        }
        waits.remove(w);
        loop.foreignWaitEnded();
    }

    /**
     * The nanoseconds of a timeout {@code d} given to {@code operation}, saturated.
     *
     * @throws IllegalArgumentException if {@code d} is negative, naming the caller, the operation and its state
     */
    static long checkTimeout(Duration d, Context caller, String operation) {
        return checkTimeout(d, caller, caller.describe(), operation);
    }

    /**
     * {@link #checkTimeout(Duration, Context, String)} with {@code named}, the phrase naming the caller in
     * the message, e.g. with its thread where that matters ({@code coroutine 'c' of thread 'worker' (#22)}).
     */
    static long checkTimeout(Duration d, Context caller, String named, String operation) {
        Objects.requireNonNull(d, "timeout");
        if (d.isNegative()) {
            throw new IllegalArgumentException(named + " (state " + caller.state() + ") cannot "
                    + operation + " with timeout " + d + ": a timeout must be zero or positive");
        }
        return saturatedNanos(d);
    }

    /**
     * The calling thread's scheduler for a scope of {@code d} opened by {@code operation} ({@code withTimeout},
     * {@code tryWithTimeout}): a negative {@code d} on a thread that has none is refused here, naming the thread, so
     * that none is made for the message (the scope's own check names a caller that has one).
     */
    static Scheduler forTimeout(Duration d, String operation) {
        Scheduler s = currentOrNull();
        if (s == null && d.isNegative()) {
            throw new IllegalArgumentException(describeCallerAndThread() + " cannot " + operation + " with timeout " + d
                    + ": a timeout must be zero or positive");
        }
        return s != null ? s : current();
    }

    /** {@code d} in nanoseconds, {@code Long.MAX_VALUE} or {@code MIN_VALUE} past the range. */
    static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return d.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    /**
     * For a park that would run main while main only waits in {@link VirtualTime#run} for the
     * coroutines to end: the context main would run next, found here instead of by switching to main
     * and back. Main's {@link #awaitCoroutines} loop would take the last runnable entry other than
     * itself, and with none, wait in the event loop (where the virtual clock jumps to the next timer)
     * and look again; this does the same on the parker's stack, so the order is main's, and a park
     * that needs the clock to jump costs no switch (none at all if the jump wakes the parker itself).
     * A wait for another thread or for I/O with no timer is waited for here too, in the event loop's
     * blocking wait, where main's loop would yield again and again until it came. With nothing
     * pending at all, main is the answer: its loop reports the deadlock. (Main has no failure to
     * rethrow here: a failure handed to main runs main at once.)
     */
    private Context mainsChoice() {
        assert main.pendingThrow == null : "main has a failure to rethrow and is not run";
        while (true) {
            Context c = runList.previousRunnable(-1, runList.size() - 1);
            if (c != null) {
                return c;
            }
            if (!loop.hasPending()) {
                return main;
            }
            loop.idle();
            loop.restoreInterrupt();
        }
    }

    /**
     * The refusal of {@link VirtualTime#run} (or of {@link VirtualTime#call}, as {@code method} names the
     * one called) to {@code self}: a coroutine (only main may start it), or main of a thread with live coroutines.
     */
    private IllegalStateException cannotRunVirtual(Context self, String method) {
        String why;
        if (self != main) {
            why = "it is a coroutine; only main may start it, on a thread with no live coroutine";
        } else {
            int live = runList.size() - 1;
            why = "its thread has " + live + (live == 1 ? " live coroutine" : " live coroutines")
                    + " (" + describeLive(3) + "); virtual time needs a thread with none: close them first, or run on"
                    + " a thread of its own (an earlier task of a pool's thread, or a test that failed, leaves on its thread"
                    + " the coroutines it did not close)";
        }
        return new IllegalStateException(describeCallerAndThread() + " (state " + self.state() + ") cannot start " + method
                + ": " + why);
    }

    /**
     * The first {@code most} coroutines of the run list, each with its state and, if parked, its wait
     * ({@code coroutine 'c' PARKED, waits to receive from channel 'jobs'}), and how many more there are.
     */
    private String describeLive(int most) {
        StringBuilder b = new StringBuilder();
        int n = runList.size();
        for (int k = 1; k < n && k <= most; k++) {
            Context c = runList.get(k);
            b.append(k > 1 ? ", " : "").append(c.describe()).append(' ').append(c.state());
            if (c.state() == State.PARKED) {
                b.append(", waits to ").append(Wait.describe(c.waitingFor));
            }
        }
        if (n - 1 > most) {
            b.append(" and ").append(n - 1 - most).append(" more");
        }
        return b.toString();
    }

    /**
     * What the {@code timers} pending timers of main, {@code self}, which has no live coroutine, are in a refusal to
     * start a virtual-time run: the scopes around the call whose timers are pending, each by its call and timeout,
     * outermost first ({@code of withTimeout(PT1H) and tryWithTimeout(PT2H) around this call}), the only timers main
     * running alone can have; should they not be every one, they are not named one by one.
     */
    private static String scopesAround(Context self, int timers) {
        List<String> scopes = new ArrayList<>();
        for (TimeoutScope t = self.timeouts; t != null; t = t.parent) {
            if (t.isPending()) {
                scopes.addFirst(t.operation + "(" + t.timeout + ")");
            }
        }
        if (scopes.size() != timers) {
            return "a withTimeout around this call";
        }
        int last = scopes.size() - 1;
        String listed = last == 0 ? scopes.get(0) : String.join(", ", scopes.subList(0, last)) + " and " + scopes.get(last);
        return "of " + listed + " around this call";
    }

    /**
     * {@link VirtualTime#run} and {@link VirtualTime#call}, whose messages name it as {@code method}
     * ({@link VirtualTime#RUN} or {@link VirtualTime#CALL}): runs {@code body} as main on a virtual clock,
     * its random restarted from {@code seed}, then until every coroutine has ended.
     */
    void runVirtual(String method, Runnable body, long seed) {
        Context self = currentContext();
        // main's run inside a run is refused as such, not for the outer run's live coroutines (which every run but
        // the simplest has): closing them, as that refusal advises, would not let it start
        if (self != main || runList.size() > 1 && !loop.isVirtual()) {
            throw cannotRunVirtual(self, method);
        }
        if (loop.isVirtual() || loop.hasTimers()) {
            int timers = loop.timerCount();
            throw new IllegalStateException(describeCallerAndThread() + " (state " + self.state() + ")"
                    + " cannot start " + method + ": " + (loop.isVirtual() ? "it already runs on a virtual clock"
                    : "it has " + timers + (timers == 1 ? " pending timer" : " pending timers")
                    + " (" + scopesAround(self, timers) + ")"));
        }
        if (self.timeouts != null && self.timeouts.fired != null) {
            // its timer is gone, but its signal comes at the next scheduling point: inside the run, cut by the real clock
            TimeoutScope up = self.timeouts.fired;
            throw new IllegalStateException(describeCallerAndThread() + " (state " + self.state() + ")"
                    + " cannot start " + method + ": it runs inside " + up.operation + "(" + up.timeout + "), whose time is up"
                    + " (its body caught the signal)");
        }
        virtualMethod = method; // before throwKept: a refusal there names the start of this run
        self.throwKept(); // a failure kept for main's next scheduling point belongs to what main did before: thrown here, not inside the run
        loop.startVirtual();
        virtualOpenedBy = self.innermostGenerator;
        random = seed;
        // default names count from 1 inside a run, so that a run names alike on every run of the thread
        long coroutines = created;
        long generators = generatorsCreated;
        long channels = channelsCreated;
        long semaphores = semaphoresCreated;
        created = generatorsCreated = channelsCreated = semaphoresCreated = 0;
        // a run starts as a thread that never exchanged anything: its contexts are all new, and what the
        // thread exchanged before (a test thread's await in an earlier test) must not make its deadlock
        // wait for ever; what it exchanges inside counts inside, and both count after it
        boolean connectedBefore = connected;
        connected = false;
        if (connectedOwnerId == owner.threadId()) {
            connectedOwnerId = -1; // the cache says connected: handed back, so that a mark inside the run is made
            connectedOwner = null;
        }
        CoroutineException uncarried = null;
        try {
            body.run();
            awaitCoroutines();
            self.throwKept(); // a failure a completed wait of main kept for a scheduling point that never came
        } catch (Throwable t) {
            List<Throwable> others = new ArrayList<>();
            addKept(self, t, others);
            closeCoroutines(others);
            uncarried = suppressOthers(self, t, others);
            throw t;
        } finally {
            virtualOpenedBy = null;
            connected |= connectedBefore;
            loop.stopVirtual();
            created += coroutines; // outside runs, the thread's creations, those of its runs included
            generatorsCreated += generators;
            channelsCreated += channels;
            semaphoresCreated += semaphores;
            if (uncarried != null) {
                handOver(uncarried);
            }
        }
    }

    /**
     * {@link VirtualTime#call}: {@link #runVirtual} of {@code body}, its value kept as it returns and handed back
     * once the run has returned. The body is run by a lambda of this class, so that main's frames inside the run
     * ({@link StackTraces}) show {@code VirtualTime.call} as they show {@code VirtualTime.run}, and none of the
     * library's machinery.
     */
    <T> T callVirtual(Supplier<? extends T> body, long seed) {
        List<T> value = new ArrayList<>(1);
        runVirtual(VirtualTime.CALL, () -> value.add(body.get()), seed);
        return value.get(0);
    }

    /**
     * Hands {@code report}, the failures of a virtual-time run that the exception it throws cannot carry
     * ({@link #suppressOthers}), to the thread's uncaught-exception handler, once the run is over: its clock
     * stopped and every coroutine of it ended, so that what the handler does with the library (a dump, a
     * coroutine it creates, a sleep there) is the thread's, on the real clock, and outlives no run (a timer
     * it set inside would be dropped as the clock stops, its sleeper never woken). A handler that throws is
     * ignored, as the JVM ignores it.
     */
    private void handOver(CoroutineException report) {
        try {
            owner.getUncaughtExceptionHandler().uncaughtException(owner, report);
        } catch (Throwable ignored) {
            // as the JVM ignores a handler's failure; the run still throws its cause
        }
    }

    /**
     * Whether main runs none of the user's code at its switches now, only {@link VirtualTime#run}'s own:
     * its wait for the coroutines to end, or its closing of those left after the run ended early. On
     * the thread engine an interrupt on main's thread then passes on with the turn to the context main
     * runs (an interrupt a body left set as it ended, handed to main as the context that ran next),
     * as the continuation engine's one flag reaches it. So too, always, on a pool thread, whose main is
     * the pool's loop ({@link #mainIsAPoolLoop}).
     */
    boolean mainRunsNoUserCode() {
        return mainRunsNoUserCode || mainIsAPoolLoop;
    }

    /**
     * Main yields until every coroutine has ended; throws a {@link DeadlockException} if the rest never can.
     * Meanwhile main does not count as runnable for a coroutine's {@code yield} (see {@link #mainAwaits}).
     */
    private void awaitCoroutines() {
        mainAwaits = mainRunsNoUserCode = true;
        try {
            while (runList.size() > 1) {
                if (!loop.hasPending() && !othersMayWake() && runList.previousRunnable(current - 1, runList.size() - 1) == null) {
                    throw deadlock(virtualMethod + " cannot return: every coroutine left on thread " + describe(owner)
                            + " is parked and no timer is pending, so nothing could ever wake them", null, null);
                }
                yieldToPrevious();
            }
        } finally {
            mainAwaits = mainRunsNoUserCode = false;
        }
    }

    /**
     * After {@code cause} ended a virtual-time run early: a failure that a completed wait of
     * {@code self} (main) kept for a scheduling point that never came goes to {@code others}, to be
     * added to it, instead of staying on main to be thrown after the run (in a later run of the thread).
     */
    private static void addKept(Context self, Throwable cause, List<Throwable> others) {
        try {
            self.throwKept();
        } catch (Throwable kept) {
            if (kept != cause) {
                others.add(kept);
            }
        }
    }

    /**
     * After a virtual-time run ended early: closes every coroutine left, so that none outlives it,
     * also those that the {@code finally} blocks of the closed ones create (each is tried once); the
     * failures of the closes go to {@code others}. Also what the blocked-loop detector's thread does with
     * the coroutines a log handler of its report left there ({@link Watchdog}), which nothing would run again.
     */
    void closeCoroutines(List<Throwable> others) {
        Set<Context> tried = Collections.newSetFromMap(new IdentityHashMap<>());
        boolean found = true;
        mainRunsNoUserCode = true;
        try {
            while (found) {
                found = false;
                for (Context c : contexts()) {
                    if (c != main && !c.state().isTerminal() && tried.add(c)) {
                        found = true;
                        try {
                            close(c);
                        } catch (RuntimeException | Error e) {
                            others.add(e);
                        }
                    }
                }
            }
        } finally {
            mainRunsNoUserCode = false;
        }
    }

    /**
     * Adds the {@code others} failures of a virtual-time run that {@code cause} ended to it, suppressed.
     * Those it cannot carry (it takes none, made with suppression disabled: a preallocated signal; or one
     * of them holds it already, as its cause or a suppressed one, so that adding it would make a cycle,
     * {@link #holds}) are not dropped: {@code cause} is still what the run throws, since its caller catches
     * it as it is, and they are handed to the thread's uncaught-exception handler, as failures nothing else
     * can reach, in one {@link CoroutineException} caused by {@code cause} that holds them suppressed, which
     * the run hands over once it is over ({@link #handOver}).
     *
     * @return that report; null if {@code cause} carries them all
     */
    private CoroutineException suppressOthers(Context self, Throwable cause, List<Throwable> others) {
        List<Throwable> left = new ArrayList<>();
        boolean takesNone = false;
        for (Throwable other : others) {
            if (takesNone || holds(other, cause)) {
                left.add(other);
            } else if (!addedAsSuppressed(cause, other)) {
                takesNone = true;
                left.add(other);
            }
        }
        if (left.isEmpty()) {
            return null;
        }
        int n = left.size();
        int m = others.size();
        String why = takesNone // then it took none of them: left holds them all
                ? "which takes no suppressed exceptions; the run's " + (n == 1 ? "other failure is" : n + " other failures are")
                : "which " + (n == m ? "the run's " + (n == 1 ? "other failure holds" : n + " other failures hold")
                        : n + " of the run's " + m + " other failures " + (n == 1 ? "holds" : "hold"))
                        + " already (as a cause or a suppressed exception), so that suppressed there "
                        + (n == 1 ? "it" : "they") + " would make a cycle; " + (n == 1 ? "it is" : "they are");
        CoroutineException report = new CoroutineException(virtualMethod + " in " + describeCallerAndThread() + " (state "
                + self.state() + "): its body threw " + SafeText.of(cause)
                + ", " + why + " suppressed in this report instead", cause);
        left.forEach(report::addSuppressed);
        return report;
    }

    /**
     * Adds {@code t} as suppressed to {@code to}; false if {@code to} kept nothing: it was made with
     * suppression disabled, or {@code t} holds it already ({@link #holds}: {@code t} is {@code to}, or has
     * it as a cause or a suppressed exception), where adding it would make {@code to} its own suppressed
     * exception's cause, a cycle that a log or a serializer walking the chain would loop in.
     */
    static boolean addedAsSuppressed(Throwable to, Throwable t) {
        if (holds(t, to)) {
            return false;
        }
        to.addSuppressed(t);
        for (Throwable kept : to.getSuppressed()) {
            if (kept == t) {
                return true;
            }
        }
        return false;
    }

    /**
     * The most exceptions {@link #holds} visits in one walk: a chain the user's code made endless (a
     * {@code getCause()} that makes a new exception at each call) ends there, as one that holds nothing more.
     */
    static final int MOST_WALKED = 1024;

    /**
     * Whether {@code t} is {@code target} or reaches it through its causes and suppressed exceptions, as
     * {@code printStackTrace} walks them (each exception visited once, so a cycle the user's code made
     * already ends the walk), within the first {@link #MOST_WALKED} exceptions visited, so that an endless
     * chain (a user's {@code getCause()} that makes a new exception at each call) ends the walk too, as one
     * that holds nothing more. The walk goes breadth first, the nearest exceptions first, so that an endless
     * chain among the suppressed ones does not spend the bound before a cause one step away is seen. A cause
     * that cannot be read (a user's {@code getCause()} that throws) ends the walk there, as no cause: what it
     * threw is dropped, never thrown out of the library's handling of a failure.
     */
    static boolean holds(Throwable t, Throwable target) {
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Throwable> next = new ArrayList<>(); // a queue, walked in order: the nearest first
        next.add(t);
        for (int i = 0; i < next.size(); i++) {
            Throwable e = next.get(i);
            if (e == target) {
                return true;
            }
            if (e == null || !seen.add(e)) {
                continue;
            }
            if (seen.size() > MOST_WALKED) {
                return false;
            }
            next.add(causeOf(e));
            next.addAll(List.of(e.getSuppressed()));
        }
        return false;
    }

    /**
     * {@code e}'s cause, or null if its {@code getCause()}, the user's code, throws ({@link #holds}, and every
     * read of the cause of a user's exception): what it threw is dropped, never thrown out of the library's
     * handling of a failure.
     */
    static Throwable causeOf(Throwable e) {
        try {
            return e.getCause();
        } catch (Throwable unreadable) {
            return null;
        }
    }

    /** The seed of every scheduler's random ({@code -Dcoro.seed=N}), used by {@link Select#selectUnbiased()}. */
    static final long SEED = configuredSeed();

    /** {@code coro.seed}, or 0 (with a warning) if it is not a whole number. */
    private static long configuredSeed() {
        try {
            return seed(System.getProperty("coro.seed"));
        } catch (IllegalArgumentException e) {
            Warnings.defer(e.getMessage() + "; seeding with 0 instead"); // logged once a scheduler is made
            return 0;
        }
    }

    /**
     * The seed given by {@code value} (the property's text; null: 0).
     *
     * @throws IllegalArgumentException if it is not a whole number that fits a long (decimal, {@code 0x} hex or {@code 0} octal),
     *         quoting it as {@link SafeText#name} shows a user-given name: blanks around it show, a line break cannot split the warning
     */
    static long seed(String value) {
        if (value == null) {
            return 0;
        }
        try {
            return Long.decode(value.strip()); // as Long.getLong reads it: decimal, or hex with 0x, or octal with 0
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("coro.seed must be a whole number (a long), not '" + SafeText.name(value) + "'", e);
        }
    }
    /** This scheduler's random state (splitmix64). */
    private long random = SEED;

    /** A pseudo-random int in {@code [0, bound)} from this scheduler's seeded sequence. */
    int nextRandom(int bound) {
        return randomAt(random += RANDOM_STEP, bound);
    }

    /** How far {@link #nextRandom} moves a scheduler's random state before each pick (splitmix64's step). */
    static final long RANDOM_STEP = 0x9E3779B97F4A7C15L;

    /**
     * The pick {@link #nextRandom} makes once its state is {@code state} (moved by {@link #RANDOM_STEP} already), for a
     * sequence kept outside a scheduler: a run refused on a thread that has none follows the picks a scheduler made
     * now would make ({@code Select}'s {@code refuseInPlace}, from {@link #SEED}), and the mix of every pick.
     */
    static int randomAt(long state, int bound) {
        long z = state;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return (int) ((z >>> 33) % bound);
    }

    /** Wakes a parked context: on return it is {@code SUSPENDED}, and {@code yield()} may select it. */
    void unpark(Context c) {
        c.moveTo(State.SUSPENDED);
    }

    /**
     * Ends the wait of a parked context without completing it, if it has not completed yet: its wait
     * is {@link Wait#interrupt() interrupted} (it leaves its queues now) and the context is woken, its
     * park throwing {@code signal}. If the wait had completed already (another thread's wake-up is on
     * its way), nothing changes: the context stays parked until that wake-up arrives.
     */
    void interrupt(Context c, Throwable signal) {
        if (c.waitingFor.interrupt()) {
            c.pendingThrow = signal;
            unpark(c);
        } else {
            c.signalHeldBack = true; // its wait completed first, and keeps its result
        }
    }

    /**
     * Whether another thread may still wake a context of this one although nothing is pending here:
     * this thread has exchanged something with another thread (handed a body to a pool included), or,
     * outside a {@link VirtualTime#run}, a {@link CoroutinePool} is open.
     * Then a wait with nothing else to run blocks in the event loop instead of being a deadlock.
     */
    private boolean othersMayWake() {
        return connected || !loop.isVirtual() && CoroutinePool.openPools() > 0; // a run counts a pool it hands a body to (connected)
    }

    /** A snapshot of the run list, entry 0 first; just main before any create. */
    Context[] contexts() {
        return runList.size() == 0 ? new Context[] {main} : runList.toArray();
    }

    int currentIndex() {
        return current;
    }

    Context currentContext() {
        return runList.size() == 0 ? main : runList.get(current);
    }

    // ---- moving control --------------------------------------------------------------------

    /**
     * Suspends {@code from} (the running context) and runs {@code to}; on return {@code from} runs
     * again, and throws what was left pending for it. If the transfer cannot happen (the JDK refuses,
     * or an error such as a stack overflow strikes before {@code to} runs), every state is put back
     * and {@code from} keeps running (see {@link #run}): a refusal throws
     * {@link IllegalStateException} saying why, an error is rethrown as it is.
     *
     * <p>Small enough for the first compiler to inline it into every switch: compiled on its own
     * first, it would be too big in compiled code for the second one to inline it there.
     *
     * @param to {@code NEW} or {@code SUSPENDED} (a close wakes a parked target first)
     * @param op what {@code from} does, as a refusal names it: {@link #YIELD}, {@link #SWITCH} or
     *           {@link #CLOSE}, where {@code from}, {@code RUNNING}, becomes {@code SUSPENDED}; or
     *           {@link #PARK}, which set its state already ({@code PARKED}, or {@code SUSPENDED} if a
     *           due timer woke it since)
     */
    private void transfer(Context from, Context to, int op) {
        run(from, to, op);
        resumed(from, op);
    }

    /** A transfer's {@code op}: a park, whose wait {@code from.waitingFor} names. */
    private static final int PARK = 0;
    /** A transfer's {@code op}: a {@code yield}. */
    private static final int YIELD = 1;
    /** A transfer's {@code op}: a {@code switchTo}. */
    private static final int SWITCH = 2;
    /** A transfer's {@code op}: a {@code close()} of the target. */
    private static final int CLOSE = 3;

    /**
     * The target of a park's transfer that the JDK refused, from {@link #run}'s handler to the park's,
     * which names the refusal once the parker runs again ({@link #refusedPark}); null otherwise.
     */
    private Context refusedTarget;
    /**
     * The last context a park of main chose, or main was given back instead of ({@link #cannotRun}),
     * that could not run, left {@code NEW}: a pool thread's main takes it to fail the body it was to
     * run ({@code CoroutinePool}); null otherwise, and null again once it leaves the run list
     * ({@link #remove}), so that the scheduler of a thread no pool reads it from keeps no ended context.
     */
    Context unrunnable;

    /**
     * {@link #transfer}'s moves and the engine's transfer, guarded: on return control came back to
     * {@code from}; if anything is thrown before control reaches {@code to}, every state is put back.
     *
     * <p>Every state moves inside the {@code try}: a stack overflow may strike at any call, the moves
     * included. The handler puts the states back by field writes alone, before any call
     * ({@link #refusal} comes after): a call needs a frame, and the stack may have none left
     * (the handler may even run interpreted, in frames larger than those of the compiled code that
     * overflowed), so that a call there could overflow again with the states half put back. A
     * {@code from} that parked it leaves to {@link #park}, which parked it in its own guard and puts
     * it back the same way, in the run list's index too. The moves here are the switch's own, one
     * store each ({@link Context#moveToSuspended}), so that this method, inlined into every switch,
     * stays small in compiled code too. What it needs (but {@code this}) it finds in {@code from},
     * {@code to} and two ints: across the transfer the caller's frame (inlined into the user's code,
     * and frozen and thawed with it at every switch) holds no more references than it needs, as the
     * continuation's freeze and thaw pay a barrier for each one.
     */
    private void run(Context from, Context to, int op) {
        int toWas = to.state; // read before anything changes: an overflow up to the first move changes nothing
        try {
            if (op != PARK) {
                from.moveToSuspended();
            }
            to.moveToRunning();
            current = to.index;
            engine.transfer(from.stack, to.stack);
        } catch (Throwable t) {
            // control came back to from first (it is RUNNING and current): t is from's own failure.
            // Otherwise the transfer did not happen: every state back, by field writes alone
            if (current != from.index || from.state != Context.RUNNING) {
                to.state = (byte) toWas;
                if (from.state != Context.PARKED) { // a parked from, and its bit in the run list's index, park puts back
                    from.state = Context.RUNNING;
                }
                current = from.index;
                if (t instanceof PinnedException e) {
                    throw refusal(from, to, op, e);
                }
                if (t instanceof IllegalStateException e && ContinuationEngine.NOT_IN_SCOPE.equals(e.getMessage())) {
                    throw refusal(from, to, op, PinnedException.notOnTheStack(e));
                }
            }
            throw t;
        }
    }

    /**
     * What {@link #run} throws for a transfer the JDK refused ({@code e}), once every state is back: the
     * refusal, or, for a park, {@code e} itself, which the park names once {@code from} runs again
     * ({@link #refusedPark}): its wait's text may run the user's code, which must see the caller running.
     */
    private RuntimeException refusal(Context from, Context to, int op, PinnedException e) {
        if (op == PARK) {
            refusedTarget = to;
            return e;
        }
        return refusedSwitch(from, to, op, e);
    }

    /**
     * The refusal of a switch from {@code from} to {@code to} that the JDK refused ({@code e}), once every
     * state is back, naming what {@code from} did ({@code op}): {@code cannot suspend coroutine 'a' at its
     * yield to run coroutine 'b'}, {@code ... at its receive from channel 'jobs' to run ...}.
     */
    private static IllegalStateException refusedSwitch(Context from, Context to, int op, PinnedException e) {
        return Fiber.refused("cannot suspend " + from.describe() + " at its " + callOf(from, op) + " to run " + to.describe(), e,
                "it keeps running (state RUNNING)");
    }

    /**
     * How errors name the call of {@code c} that is the transfer {@code op}: its wait, as a dump names it
     * ({@code receive from channel 'jobs'}), its {@code yield} ({@link #yieldOf}), {@code switchTo} or
     * {@code close}. A wait's text may run the user's code: {@code c} must be the one running.
     */
    private static String callOf(Context c, int op) {
        return switch (op) {
            case YIELD -> yieldOf(c);
            case SWITCH -> "switchTo";
            case CLOSE -> "close";
            default -> Wait.describe(c.waitingFor);
        };
    }

    /**
     * How errors name a {@code yield} of {@code from}: main's while it waits in {@link VirtualTime#run}
     * for the coroutines to end ({@link #awaitCoroutines}) is no yield of the program's, but that wait.
     */
    private static String yieldOf(Context from) {
        return from.isMain() && from.scheduler.mainAwaits ? from.scheduler.virtualMethod + " (waiting for the coroutines to end)" : "yield";
    }

    /** {@link #refusedSwitch} of a park of {@code from}, whose target {@link #run} kept. */
    private IllegalStateException refusedPark(Context from, PinnedException e) {
        e.refusedAPark = true; // control never left from: see PinnedException.refusedTheCallersPark
        Context to = refusedTarget;
        refusedTarget = null;
        if (from == main) {
            unrunnable = to;
        }
        return refusedSwitch(from, to, PARK, e);
    }

    /**
     * Throws, in the context that just resumed from {@code op} (a transfer's), what was left pending for
     * it (a failure, the exit signal, or the refusal of a context that could not run after a body ended).
     */
    private static void resumed(Context self, int op) {
        Throwable pending = self.pendingThrow;
        if (pending != null) {
            throwPending(self, pending, op);
        }
    }

    /**
     * {@link #resumed}: throws {@code pending}. The signal of an expired {@code withTimeout} is made
     * here, in {@code self}, now running and current ({@link TimeoutScope#signalFor}): its text names
     * the wait, maybe through the user's code; so are the refusal {@link #cannotRun} left, which names
     * {@code self}'s call ({@link NotRun#named}), and the signal a close left ({@link #closedIn}).
     */
    private static void throwPending(Context self, Throwable pending, int op) {
        if (pending instanceof NotRun notRun) {
            // made on main's stack, so its trace shows main's call. Before it is cleared: near the
            // stack's end the text may overflow, and it is thrown again later
            pending = notRun.named(self, op);
        } else if (pending instanceof CoroutineExit exit && exit.namesNoCall) {
            // made on self's stack, so its trace shows where it is thrown. Before it is cleared: near the
            // stack's end the text may overflow, and the signal the close left, naming no call, is thrown again later
            exit.taken = true; // c resumed: a close its text's code makes of its closer, failing there, undoes nothing
            CoroutineExit named = self.exit(closedIn(self, op));
            named.takeOverAdded(exit); // what was added to the signal left, while it waited or its text was made
            pending = named;
        } else if (pending instanceof CoroutineException || pending instanceof DeadlockException
                || pending instanceof CoroutineExit exit && !exit.isTimeout()) {
            // a coroutine's failure, and the deadlock that cancels main's wait as a body ends, are made
            // on the ending body's stack (on the thread engine, another thread's), and an exit signal kept
            // from another context on that one's: their trace shows where they are thrown instead (the call
            // self was suspended or parked in, and the user's frames under it), the same on both engines.
            // Before it is cleared: near the stack's end the walk may overflow, and it is thrown again later
            pending.fillInStackTrace();
        }
        CoroutineException.throwingAt(pending, self); // before it is cleared too: it allocates
        self.pendingThrow = null;
        if (pending instanceof CoroutineExit exit) {
            self.signalHeldBack = false; // thrown now: a wait that keeps its result holds it back again
            throw exit.timeoutScope() instanceof TimeoutScope scope ? scope.signalFor(exit, self.waitingFor) : exit;
        }
        throw (RuntimeException) pending;
    }

    /**
     * Runs {@code co}'s body to its end on its own stack, then removes it and decides who runs
     * next; on return, {@code current} is that context's index and it is {@code RUNNING}.
     *
     * @return the context to run next
     */
    Context runToEnd(Context co) {
        return bodyEnded(co, runBody(co));
    }

    /**
     * Runs {@code co}'s body on its own stack; returns what it threw, null if it returned. A failure
     * that a wait of it kept for its next scheduling point, which never came, or that its own close's
     * signal carries as suppressed, is what the body ended by, or is added to what it threw
     * ({@link Context#withKept}).
     */
    static Throwable runBody(Context co) {
        Throwable thrown;
        try {
            co.runBody();
            thrown = null;
        } catch (Throwable t) {
            thrown = t;
        }
        return keptAfter(co, thrown);
    }

    /** How {@code co}'s body ended, having thrown {@code thrown}, with what its context kept for that end (see {@link Context#withKept}). */
    static Throwable keptAfter(Context co, Throwable thrown) {
        return co.pendingThrow == null && !(thrown instanceof CoroutineExit) ? thrown : co.withKept(thrown);
    }

    /**
     * After {@code c}'s body ended, having thrown {@code thrown} (null if it returned): removes it and
     * decides who runs next; on return, {@code current} is that context's index and it is {@code RUNNING}.
     *
     * @return the context to run next
     */
    Context bodyEnded(Context c, Throwable thrown) {
        // the text of a failure runs the user's toString(): made first, while c is still RUNNING and
        // current, so that code there sees c as the caller (and may even suspend it) and not a run
        // list c has half left
        String text = thrown == null ? null : SafeText.of(thrown);
        schedulingPoints++;
        Context next;
        Fiber.Ending ending = c.ending(thrown);
        if (Monitoring.jfr) {
            CoroutineEnd.record(c, ending, text);
        }
        boolean closing = c.closing;
        c.moveTo(switch (ending) {
            case FINISHED -> State.FINISHED;
            case CLOSED -> State.CLOSED;
            case FAILED -> State.FAILED;
        });
        int i = remove(c);
        if (joins != null) {
            joinersOf(c); // first: a creator that waits here takes the failure, as one not parked does
        }
        if (onEnded != null) {
            onEnded.run();
        }
        if (closing) {
            boolean clean = ending == Fiber.Ending.CLOSED;
            if (alive(c.closer)) {
                next = c.closer;
            } else if (!clean || main.state() != State.PARKED) {
                next = main; // a parked main has its wait cancelled by the failure
            } else {
                next = previousRunnableOrMain(c, i); // nobody waits for the close: as if the body had returned
            }
            if (!clean) {
                c.failureWentTo = next == c.closer ? "its closer, " + next.describe()
                        : next.describe() + ", its closer " + c.closer.describe() + " having ended";
                leave(next, report(c, thrown, text));
            }
        } else if (ending != Fiber.Ending.FAILED) {
            next = previousRunnableOrMain(c, i);
        } else {
            Context creator = c.creator;
            next = alive(creator) && creator.state() != State.PARKED ? creator : main;
            c.failureWentTo = next == creator ? "its creator, " + next.describe()
                    : next.describe() + ", its creator " + creator.describe()
                    + (alive(creator) ? " being parked" : " having ended");
            leave(next, report(c, thrown, text));
        }
        c.release();
        current = next.index;
        next.moveTo(State.RUNNING);
        return next;
    }

    /**
     * The report of {@code c}'s failure, its body having ended by {@code thrown} (its text {@code text}),
     * marked as delivered: {@link Fiber#failure}, with the failures that {@code thrown} could not carry,
     * as it takes no suppressed ones or they hold it ({@link Context#withKept}), suppressed in it instead. The report
     * always takes them, and is the one thing of the body's end its creator (or closer) gets.
     */
    private static CoroutineException report(Context c, Throwable thrown, String text) {
        CoroutineException e = c.failure(thrown, text);
        if (c.pendingThrow instanceof Context.Uncarried left) {
            c.pendingThrow = null;
            for (Throwable other : left.getSuppressed()) {
                e.addSuppressed(other);
            }
        }
        return delivered(e);
    }

    /**
     * Called by an engine when the context {@link #runToEnd} chose as {@code ended} ended cannot be run
     * after all (no thread could be started for it): it stays {@code NEW}, and main runs instead, its
     * pending call throwing an {@link IllegalStateException} that names main, that call, the context
     * and why ({@link NotRun}; a parked main has its wait cancelled).
     *
     * @return main, now {@code RUNNING} and current
     */
    Context cannotRun(Context next, Context ended, PinnedException e) {
        next.revertTo(State.NEW);
        unrunnable = next;
        leave(main, new NotRun(next.describe(), ended.describe(), e));
        current = main.index;
        main.revertTo(State.RUNNING);
        return main;
    }

    /**
     * The call a close ends, {@code self}'s transfer {@code op}, as the close's signal names it: as a dump
     * names a context's wait ({@link #callOf}, then the generator whose body it is in, if any),
     * e.g. {@code receive from channel 'jobs', inside generator 'lines',}. Made as {@code self}, closing,
     * resumes: never by a switch or a park, nor by a close that ends nothing suspended.
     */
    private static String closedIn(Context self, int op) {
        String inside = ThreadDump.inside(self);
        return inside.isEmpty() ? callOf(self, op) : callOf(self, op) + inside + ",";
    }

    /**
     * What {@link #cannotRun} leaves for main: the refusal its pending call throws, made once main runs
     * again ({@link #named}), as it names that call, whose wait's text may run the user's code, which
     * must see main running. Its own text, naming no call, is for a report it would be added to instead.
     */
    private static final class NotRun extends RuntimeException {
        private static final long serialVersionUID = 1L;

        /** The context that could not run, and the one whose end chose it, as errors name them. */
        private final String target;
        private final String ended;

        NotRun(String target, String ended, PinnedException e) {
            super("cannot run " + target + " (NEW) after " + ended + " ended: " + e.why + "; it stays NEW", e, true, false);
            this.target = target;
            this.ended = ended;
        }

        /**
         * The refusal {@code self} (main) throws from {@code op}, a transfer's: {@code main context 'main'
         * cannot run coroutine 'b' (NEW), chosen as coroutine 'a' ended, at its receive from channel 'jobs':
         * no virtual thread could be started for coroutine 'b' (…); it stays NEW, and main's wait is
         * cancelled (state RUNNING)}; it takes what was added to this one.
         */
        IllegalStateException named(Context self, int op) {
            boolean waits = op == PARK || op == YIELD && self.scheduler.mainAwaits;
            // a send whose value a receiver took throws this as it would a failure, the value delivered all the same
            boolean delivered = op == PARK && self.waitingFor != null && self.waitingFor.sentItsValue();
            IllegalStateException e = new IllegalStateException(self.describe() + " cannot run " + target + " (NEW), chosen as "
                    + ended + " ended, at its " + callOf(self, op) + ": " + ((PinnedException) getCause()).why + "; it stays NEW, and "
                    + (delivered ? "main's wait ends here, its value delivered all the same" : waits ? "main's wait is cancelled"
                            : "main runs again") + " (state RUNNING)", getCause());
            for (Throwable t : getSuppressed()) {
                e.addSuppressed(t);
            }
            return e;
        }
    }

    /**
     * Swap-removes {@code c} from the run list; if the current context was the last entry, moved into
     * {@code c}'s slot, {@code current} follows it. If {@code c} is {@link #unrunnable}, that is forgotten.
     *
     * @return the index {@code c} had
     */
    private int remove(Context c) {
        if (unrunnable == c) {
            unrunnable = null;
        }
        int k = runList.remove(c);
        if (current == runList.size() && k != current) {
            current = k;
        }
        return k;
    }

    private static boolean alive(Context c) {
        return c != null && !c.state().isTerminal();
    }

    /**
     * Who runs after {@code ended} (removed from index {@code i}): the previous runnable entry from
     * {@code i - 1}; if every remaining context is parked, main, whose wait is cancelled by a
     * {@link DeadlockException}.
     */
    private Context previousRunnableOrMain(Context ended, int i) {
        Context next;
        idleAfterEnd = true;
        // the thread may idle here, on the ended context's own stack, until something wakes a context: its
        // body (and what the body's lambda holds) is dropped first, not once the wait is over; its stack
        // stays until then (the thread engine finds the thread of that wait through it)
        ended.releaseBody();
        try {
            loop.takeInPosts(); // as a park's poll: what came while the body ran, before the loop may idle (and the clock jump)
            while ((next = runList.previousRunnable(i - 1, runList.size())) == null) {
                if (loop.hasPending()) {
                    loop.idle();
                } else if (othersMayWake()) {
                    loop.awaitOthers();
                } else {
                    break;
                }
            }
        } finally {
            idleAfterEnd = false;
        }
        loop.restoreInterrupt();
        if (next != null) {
            return next;
        }
        leave(main, deadlock(ended.describe() + " ended and every context left on thread " + describe(owner)
                + " is parked with no timer pending, so nothing could ever wake them; main's wait is cancelled",
                null, null));
        return main;
    }

    /**
     * A deadlock report: {@code headline}, then every parked context (and {@code caller}) with its
     * wait, named as dumps name it ({@link Wait#describe}: a wait that cannot say what it is by its kind),
     * and the generator whose body it waits in, if any ({@link ThreadDump#inside}).
     */
    private DeadlockException deadlock(String headline, Context caller, Wait callerWaits) {
        List<String> waits = new ArrayList<>();
        for (Context c : contexts()) {
            if (c == caller) {
                waits.add(c.describe() + " would wait to " + Wait.describe(callerWaits) + ThreadDump.inside(c));
            } else if (c.state() == State.PARKED) {
                waits.add(c.describe() + " waits to " + Wait.describe(c.waitingFor) + ThreadDump.inside(c));
            }
        }
        return new DeadlockException(headline, waits);
    }

    /**
     * {@code failure}, a coroutine's, marked as delivered to the context that gets it: that context's
     * own, so that a generator body it passes through passes it on ({@link Generator#consumers}).
     */
    private static CoroutineException delivered(CoroutineException failure) {
        failure.delivered = true;
        return failure;
    }

    /**
     * Leaves {@code e} for {@code target} to throw when it resumes. A timeout's signal pending there
     * gives way: its scope stays expired, so the signal comes again at the next scheduling point
     * inside it, while {@code e} added to the signal as suppressed would be lost with it.
     */
    private static void leave(Context target, RuntimeException e) {
        Throwable pending = target.pendingThrow;
        if (pending == null || pending instanceof CoroutineExit exit && exit.isTimeout()) {
            target.pendingThrow = e;
        } else {
            pending.addSuppressed(e);
        }
    }

    static String describe(Thread t) {
        return "'" + SafeText.name(t.getName()) + "' (#" + t.threadId() + (t.isVirtual() ? ", virtual" : "") + ")";
    }
}
