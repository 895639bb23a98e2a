package dev.coro;

import dev.coro.Coroutine.State;
import java.util.Arrays;

/**
 * A context of a thread's run list as its scheduler sees it: main or a coroutine, with its state,
 * its place in the list, its stack, and what it waits for; the mutable record behind a
 * {@link Coroutine} handle.
 *
 * <p>Only the owner thread's {@link Scheduler} changes these fields (and the engine, which runs on
 * its behalf); {@link Coroutine} reads them for its user. Every state change goes through
 * {@link #moveTo}, which asserts the edge is in {@link State}'s table and keeps the run list's
 * index of runnable entries in step; but for a switch's own moves, which never change whether a
 * context is parked ({@link #moveToSuspended}, {@link #moveToRunning}: one store each, the edge
 * asserted), and the puts back of a transfer that did not happen ({@link #revertTo} and, with no
 * call at all, the scheduler itself).
 */
final class Context extends Fiber {

    /**
     * What {@link #pendingThrow} holds while a clean-up is unfinished ({@link #unfinishedCleanup}) and no
     * throwable is kept: never thrown, and never handed to the program (the checks of this class skip it).
     */
    static final Throwable CLEANUP_LEFT = new Throwable("a wait's clean-up left unfinished", null, false, false) {
    };

    /**
     * What {@link #pendingThrow} holds while this context is current on a thread that makes, waiting in its
     * event loop, a dump another thread asked for ({@link Scheduler#observe}): its next scheduling point (a
     * channel's park, a {@code switchTo}, made by the user's code in the dump's text on the owner thread) throws
     * the scheduler's refusal instead, before it moves anything; kept there until the dump is made.
     */
    static final Throwable OBSERVED = new Throwable("a dump is made while the thread waits in its event loop", null, false, false) {
    };

    /**
     * What {@link #pendingThrow} holds while this context, running, starts a wait for a future of a class of its
     * own (an await, a select's {@code onComplete} clause) and the library calls that future's {@code whenComplete}
     * ({@link FutureWaits#add}): the wait is half made meanwhile, so the next scheduling point the user's code
     * there makes (a {@code yield}, a park, a {@code switchTo}) throws {@link Scheduler#refusedWhileRegistering}
     * instead, before it moves anything; kept there until {@code whenComplete} returns.
     */
    static final Throwable REGISTERING = new Throwable("a wait for a future calls its whenComplete", null, false, false) {
    };

    /** Every state, by ordinal; and the ordinals the hot paths compare with. */
    private static final State[] STATES = State.values();
    /** The states a {@code switchTo} may run, {@code NEW} and {@code SUSPENDED}, as a bit per ordinal. */
    private static final int SWITCHABLE = 1 << State.NEW.ordinal() | 1 << State.SUSPENDED.ordinal();
    /** {@link #state}'s value while running, for the scheduler, which reads and writes the field itself as it puts states back. */
    static final byte RUNNING = (byte) State.RUNNING.ordinal();
    /** {@link #state}'s value while parked (see {@link #RUNNING}). */
    static final byte PARKED = (byte) State.PARKED.ordinal();
    private static final byte SUSPENDED = (byte) State.SUSPENDED.ordinal();

    final Scheduler scheduler;
    /** The public handle of this context. */
    final Coroutine handle;
    /** Who resumes with this coroutine's failure, if still alive; null for main. */
    final Context creator;
    /** The name given at creation; null for a default name, made from {@link #number} when asked for. */
    private final String name;
    /** Which of its thread's creations this is, counting from 1; 0 for main. */
    private final long number;
    /** The body; null for main and once it has ended. */
    private Runnable body;
    /**
     * The state, as its {@link State#ordinal() ordinal}: a byte store per state change, where a
     * reference store would pay the garbage collector's write barrier twice per switch. Written by
     * the moves and {@link #revertTo}, and by the scheduler as it puts back the states of a transfer
     * that did not happen, where no call may be made (the stack may be exhausted).
     */
    byte state;
    /** Index in the scheduler's run list; -1 when not in it. */
    int index = -1;
    /** The engine's stack for the body: its own for a coroutine, the thread's for main. Null once ended. */
    Stack stack;
    /** Who called close() on this coroutine, and resumes when its body has ended. */
    Context closer;
    /**
     * Once it has ended {@code FAILED}: who its failure was delivered to, and why that one, e.g.
     * {@code its closer, coroutine 'a'}, for the refusal of a later {@code switchTo}; null before. Text,
     * not the context, so that an ended coroutine keeps nothing reachable.
     */
    String failureWentTo;
    /**
     * Thrown from this context's pending suspension when it next resumes: a failure or the exit
     * signal. While it runs, what a wait it had completed kept for later ({@link #throwAtNextPoint}):
     * thrown at its next scheduling point.
     */
    Throwable pendingThrow;
    /**
     * Whether a signal pending for this context (its close, an expired {@code withTimeout}) was held
     * back where it would have been thrown: the wait it had parked in had completed, and keeps its
     * result (a value a receive was handed), or it was not parked when the signal arose. The signal
     * comes at its next scheduling point, and until then its code runs as usual: a generator's emit
     * hands its value over ({@link Generator#checkEmitter}) rather than lose the value the wait kept.
     * Cleared at every scheduling point and whenever a signal is thrown at its resumption.
     */
    boolean signalHeldBack;
    /**
     * The clean-up of a wait that its park left by a throw, when a stack overflow may have stopped it
     * before it was done (its waiter still queued, its timer still pending); null if none. Set by field
     * writes alone before the clean-up's first call, and cleared when it is done ({@link #cleanedUp}):
     * near the stack's end any call may overflow. So every place that marks one (each channel operation
     * that parks, {@code Channel.parkOn}, the select's runs, the scheduler's parks, the I/O wait) writes the
     * fields out in its own handler: a method that wrote them would be such a call, and an overflow as it is
     * called would leave the wait unmarked, its waiter or timer behind for good. While it is set
     * {@link #pendingThrow} is not null ({@link #CLEANUP_LEFT} if nothing else is kept there), so that the
     * check every scheduling point makes already ({@link #throwKept}) finishes it there, before anything
     * else of its thread can run and find the wait; the body's end, at the base of its stack, finishes it
     * otherwise ({@link #withKept}).
     */
    Cleanup unfinishedCleanup;
    /**
     * While {@link State#PARKED}: what it waits for (a channel's waiter, a sleep's timer, a select),
     * whose {@code toString()} says it, e.g. {@code receive from channel 'jobs'}; dumps and errors show it.
     */
    Wait waitingFor;
    /**
     * When it last parked, in {@link System#nanoTime()} terms, recorded only while the JMX view is
     * registered ({@link Monitoring#parkTimes}); 0 if not recorded. Read racily by that view.
     */
    long parkedSince;
    /**
     * The timer of its sleeps, kept for all of them ({@link Scheduler#sleep}): made with the coroutine
     * once a context of its thread has slept, otherwise at its first sleep; null before.
     */
    Sleep sleep;
    /**
     * The waiter of its channel operations, made at its first that parks and kept for the next
     * ({@link Channel}): it waits on one channel at a time, so a parked send or receive allocates nothing.
     */
    ChannelWaiter<?> channelWaiter;
    /** Its innermost active {@link Coroutine#withTimeout} scope; null if none. */
    TimeoutScope timeouts;
    /** The innermost generator whose body runs this context's code now; null if none. */
    Generator<?> innermostGenerator;

    /** Creates main's context for {@code scheduler}. */
    Context(Scheduler scheduler) {
        this(scheduler, null, "main", 0, null, State.RUNNING);
    }

    /** Creates a coroutine's context, {@code NEW}; a null {@code name} means {@code coroutine-<number>}. */
    Context(Scheduler scheduler, Context creator, String name, long number, Runnable body) {
        this(scheduler, creator, name, number, body, State.NEW);
    }

    private Context(Scheduler scheduler, Context creator, String name, long number, Runnable body, State state) {
        this.scheduler = scheduler;
        this.creator = creator;
        this.name = name;
        this.number = number;
        this.body = body;
        this.state = (byte) state.ordinal();
        this.handle = new Coroutine(this);
    }

    /** Whether this is main's context: the thread itself. */
    boolean isMain() {
        return number == 0;
    }

    /**
     * Which of its thread's creations this is, counting from 1 (inside a {@link VirtualTime#run}, from
     * 1 again); 0 for main. No two live contexts of a thread share it: the JFR events carry it.
     */
    long number() {
        return number;
    }

    /** The name: the one given, {@code coroutine-N}, or {@code main}. */
    String name() {
        return name != null ? name : "coroutine-" + number;
    }

    State state() {
        return STATES[state];
    }

    /** Whether a {@code switchTo} may run this context: it is {@code SUSPENDED} or {@code NEW}. */
    boolean isSwitchable() {
        return (SWITCHABLE >>> state & 1) != 0; // one test, where two comparisons would branch twice
    }

    /** Whether a run-list selection may pick this context: it is not parked. */
    boolean isRunnable() {
        return state != PARKED;
    }

    /**
     * At a scheduling point ({@code yield}, {@code switchTo}, a park): throws what a completed wait
     * kept for this point ({@link #throwAtNextPoint}), the exit signal if this context is being
     * closed, or the signal of its outermost expired {@code withTimeout}.
     *
     * @param operation what is being attempted, for the signal's message
     */
    void checkSignals(Object operation) {
        signalHeldBack = false;
        if (pendingThrow != null) {
            throwPending(operation);
        }
        checkNotClosing(operation);
        TimeoutScope t = timeouts;
        if (t != null && t.fired != null) {
            throw t.fired.signal(operation);
        }
    }

    /** Whether this context is being closed or a {@code withTimeout} of it has expired: its next scheduling point throws. */
    boolean hasSignalPending() {
        TimeoutScope t = timeouts;
        return closing || t != null && t.fired != null;
    }

    /**
     * {@code t} ended a wait of this context, the running one, that had completed already, and the
     * operation keeps its result (a value handed to it on a channel closed since, which may not go
     * back): {@code t} comes at its next scheduling point instead. The signal of a close or of an
     * expired {@code withTimeout} comes there again by itself; anything else (a failure) waits in
     * {@link #pendingThrow}, and a body that ends before that point fails with it.
     */
    void throwAtNextPoint(Throwable t) {
        if (t instanceof CoroutineExit && (closing || timeouts != null && timeouts.fired != null)) {
            signalHeldBack = true;
            return;
        }
        pendingThrow = t;
    }

    /** Throws what {@link #throwAtNextPoint} kept for this running context, if anything. */
    void throwKept() {
        if (pendingThrow != null) {
            throwPending(null);
        }
    }

    /** {@link #throwKept} at a scheduling point that attempts {@code operation} (null: the start of a {@link VirtualTime#run} or {@link VirtualTime#call}). */
    private void throwPending(Object operation) {
        if (unfinishedCleanup != null) {
            finishCleanup();
        }
        Throwable t = pendingThrow;
        // before it is cleared: a failure to mark it (no memory left) leaves it to be thrown again later
        CoroutineException.throwingAt(t, this);
        pendingThrow = null;
        if (t == null || t == CLEANUP_LEFT) {
            return;
        }
        if (t == OBSERVED) {
            pendingThrow = t; // until the dump is made: every scheduling point in it is refused
            throw scheduler.refusedWhileObserving();
        }
        if (t == REGISTERING) {
            pendingThrow = t; // until whenComplete returns: every scheduling point in it is refused
            throw scheduler.refusedWhileRegistering(this, operation == null ? "start " + scheduler.virtualMethod : Wait.describeOperation(operation));
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw (RuntimeException) t;
    }

    /** No failures: what a signal that carries none gives {@link #withKept}. */
    private static final Throwable[] NONE = {};

    /**
     * What a body that ended by {@code thrown} (null: it returned) ends by, given the failures suppressed
     * in {@code thrown} if it is a signal that unwinds this context ({@link #carriesFailures}: a resource
     * whose close failed as the signal passed), what a wait of it kept for its next scheduling point and
     * never threw ({@link #throwAtNextPoint}), and the failure of a clean-up it left unfinished
     * ({@link #unfinishedCleanup}), finished here: the first of these (the signal's first),
     * if it returned or would end {@code CLOSED} (unwound by its close's signal, which is then dropped:
     * nothing is delivered for a clean end, and the failure would be lost), the other added to it as
     * suppressed; otherwise {@code thrown}, the others added to it as suppressed. If {@code thrown}
     * cannot carry one ({@link Scheduler#addedAsSuppressed}: it takes no suppressed ones, made with
     * suppression disabled, a preallocated signal; or the other holds it already, as the report of a
     * coroutine that threw that very exception does, where adding it would make a cycle), it is still what
     * the body ends by, itself, since its creator finds it as the cause of the report and may compare it
     * by identity; the others, which nothing else could reach, are left in {@link #pendingThrow}, in an
     * {@link Uncarried}, for the scheduler to add to that report ({@link Scheduler#bodyEnded}).
     */
    Throwable withKept(Throwable thrown) {
        Throwable[] carried = carriesFailures(thrown) ? carried(thrown) : NONE;
        if (unfinishedCleanup == null && pendingThrow == null && carried.length == 0) {
            return thrown; // the common end: nothing kept, nothing left to finish
        }
        Throwable cleanupFailure = null;
        if (unfinishedCleanup != null) {
            try {
                finishCleanup();
            } catch (Throwable t) {
                cleanupFailure = t;
            }
        }
        Throwable kept = pendingThrow;
        pendingThrow = null;
        if (kept == CLEANUP_LEFT) {
            kept = null;
        }
        Uncarried left = null;
        Throwable[] others = Arrays.copyOf(carried, carried.length + 2);
        others[carried.length] = cleanupFailure;
        others[carried.length + 1] = kept;
        for (Throwable other : others) {
            if (other == null || other == thrown) {
                continue;
            }
            if (thrown == null || ending(thrown) == Ending.CLOSED) {
                thrown = other; // the body would end cleanly: nothing would carry it
            } else if (!Scheduler.addedAsSuppressed(thrown, other)) {
                if (left == null) {
                    left = new Uncarried();
                }
                left.addSuppressed(other);
            }
        }
        pendingThrow = left;
        return thrown;
    }

    /**
     * What {@link #pendingThrow} holds after the body ended ({@link #withKept}) when the exception it
     * ended by cannot carry them (it takes no suppressed ones, or they hold it): those failures, suppressed in
     * this holder, in the order they came, for the scheduler to add to the body's report. Never thrown.
     */
    static final class Uncarried extends Throwable {
        private static final long serialVersionUID = 1L;

        /** Creates the holder: it takes suppressed exceptions, and has no stack trace (it is never thrown). */
        Uncarried() {
            super("the failures a body's exception could not carry", null, true, false);
        }
    }

    /**
     * Runs the clean-up marked in {@link #unfinishedCleanup}, and unmarks it: where it was marked, and
     * again, if it was stopped there, from a place with more room (this context's next scheduling
     * point, or its body's end). A {@link StackProbe} first: the clean-up mutates queues (a timer's
     * heap, a channel's queue) that a stack overflow must not stop halfway, so it starts only with room
     * for far more than it needs; else the overflow goes on (at a scheduling point: before any switch)
     * and it stays marked.
     */
    void finishCleanup() {
        StackProbe.probe();
        unfinishedCleanup.finish();
        cleanedUp();
    }

    /** The clean-up marked in {@link #unfinishedCleanup} is done. */
    void cleanedUp() {
        unfinishedCleanup = null;
        if (pendingThrow == CLEANUP_LEFT) {
            pendingThrow = null;
        }
    }

    /**
     * {@link #moveTo moveTo(SUSPENDED)} for a running context: the switch's own move, which changes
     * nothing in the run list's index. One byte store, the last thing it does (a stack overflow as it
     * is called changes nothing); asserts the edge.
     */
    void moveToSuspended() {
        assert state == RUNNING : badEdge(State.SUSPENDED);
        state = SUSPENDED;
    }

    /** {@link #moveTo moveTo(RUNNING)} for a context a switch may run, {@code NEW} or {@code SUSPENDED}: as {@link #moveToSuspended}. */
    void moveToRunning() {
        assert isSwitchable() : badEdge(State.RUNNING);
        state = RUNNING;
    }

    /** Moves to {@code to}, keeping the run list's index in step. Asserts the edge is in the table. */
    void moveTo(State to) {
        assert state().canMoveTo(to) : badEdge(to);
        if ((state == PARKED) != (to == State.PARKED)) {
            parkedChanged(to);
        }
        state = (byte) to.ordinal();
    }

    private String badEdge(State to) {
        return name() + ": " + state() + " -> " + to;
    }

    /** Tells the run list that this context parks or is woken (moving to {@code to}). */
    private void parkedChanged(State to) {
        if (index >= 0) {
            scheduler.runList.setRunnable(index, to != State.PARKED);
        }
    }

    /** Puts back the state that a transfer which did not happen had set; bypasses the table on purpose. */
    void revertTo(State to) {
        if ((state == PARKED) != (to == State.PARKED)) {
            parkedChanged(to);
        }
        state = (byte) to.ordinal();
    }

    /** The code the user gave for the body (for diagnostics): the body, or the consumer of a body with an argument. */
    Object code() {
        return body instanceof Coroutine.WithArgument<?> w ? w.body() : body;
    }

    /** Runs the body once; the engine calls this on the coroutine's own stack. */
    void runBody() {
        body.run();
    }

    /** Drops the body of an ended coroutine, before its thread may wait on its stack (see {@link #release}). */
    void releaseBody() {
        body = null;
    }

    /** Drops the body and the stack so that an ended coroutine keeps nothing reachable. */
    void release() {
        body = null;
        stack = null;
        closer = null;
        sleep = null;
    }

    @Override
    String describe() {
        return (isMain() ? "main context '" : "coroutine '") + SafeText.name(name()) + "'";
    }
}
