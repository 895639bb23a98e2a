package dev.coro;

import dev.coro.Coroutine.State;
import java.lang.ref.WeakReference;
import java.time.Duration;

/**
 * One {@link Coroutine#withTimeout} (or {@link Coroutine#tryWithTimeout}) of a context: its deadline
 * timer, and, once expired, the signal that interrupts the body's wait (or its next
 * {@code yield}/{@code switchTo}) so that it unwinds.
 *
 * <p>A context's active scopes form a chain from the innermost ({@link Context#timeouts}) out. The
 * innermost scope records in {@link #fired} the outermost scope that has expired, so every
 * scheduling point needs one check, and a signal always unwinds to the outermost expired scope:
 * an inner {@code withTimeout} never swallows an outer one's signal.
 */
final class TimeoutScope extends Timer implements Cleanup {

    final Context context;
    /** The call that opened it, for messages: {@code withTimeout} or {@code tryWithTimeout}. */
    final String operation;
    final Duration timeout;
    /** The enclosing scope of the same context; null for the outermost. */
    final TimeoutScope parent;
    /**
     * The generator whose body opened this scope (the innermost generator of the context then); null
     * for a scope the context's own code opened. A body may not suspend at an emit inside it.
     */
    final Generator<?> openedBy;
    /** How many scopes enclose this one. */
    private final int depth;
    /** On the innermost scope: the outermost expired scope of the chain; null while none has. */
    TimeoutScope fired;
    /** What {@link #expire()} left for the context it woke, its text not made yet; null if it woke none. */
    private CoroutineExit interruption;

    /** What a signal of a scope holds of it: the scope, weakly ({@link CoroutineExit#source}). */
    static final class Ref extends WeakReference<TimeoutScope> {
        Ref(TimeoutScope scope) {
            super(scope);
        }
    }

    TimeoutScope(Context context, String operation, Duration timeout, TimeoutScope parent) {
        this.context = context;
        this.operation = operation;
        this.timeout = timeout;
        this.parent = parent;
        this.openedBy = context.innermostGenerator;
        this.depth = parent == null ? 0 : parent.depth + 1;
        // an enclosing scope that expired already stays expired inside this one: the body's next
        // scheduling point unwinds to it
        this.fired = parent == null ? null : parent.fired;
    }

    /**
     * Marks the scope expired. A parked context is woken, its wait throwing the signal; a running or
     * suspended one gets it at its next scheduling point (a wait it completed keeps its result).
     *
     * <p>The woken context is left a signal without a text ({@link #interruption}): the text names
     * its wait, which may be the user's code (an awaited future's {@code toString()}), and a timer
     * expires in the middle of another context's park or body end, with the run list half updated.
     * The signal is made when the context runs again ({@link #signalFor}).
     */
    @Override
    void expire() {
        TimeoutScope innermost = context.timeouts;
        if (!isIn(innermost)) {
            return; // its withTimeout was left, and a stack overflow stopped the cancel of this timer
        }
        innermost.fired = outermost(innermost.fired, this);
        if (context.state() == State.PARKED && context.pendingThrow == null) {
            interruption = new CoroutineExit(new Ref(this), null);
            context.scheduler.interrupt(context, interruption);
        } else if (context.state() == State.SUSPENDED) {
            context.signalHeldBack = true; // its wait completed before the expiry, and keeps its result
        }
    }

    /**
     * The signal that the context resuming from {@code wait}, interrupted by this scope's expiry,
     * throws in place of {@code pending} (what {@link #expire()} left), its text made now that the
     * context runs: code of the user's in it sees that context as the caller, and may suspend it.
     */
    CoroutineExit signalFor(CoroutineExit pending, Wait wait) {
        return pending == interruption ? signal(wait, ThreadDump.inside(context)) : pending;
    }

    /**
     * Whether its {@code withTimeout} is still active (its context has not left it): only then does its
     * signal unwind anything; one thrown again after the scope was left is a failure like any other.
     */
    boolean isActive() {
        return isIn(context.timeouts);
    }

    /** Whether this scope is in the chain that starts at {@code innermost}: its withTimeout is active. */
    private boolean isIn(TimeoutScope innermost) {
        for (TimeoutScope t = innermost; t != null; t = t.parent) {
            if (t == this) {
                return true;
            }
        }
        return false;
    }

    /**
     * The clean-up of a scope whose body threw, once its context has left it: an outer expiry passed on
     * ({@link #leave}), its timer cancelled. Both may be done again.
     */
    @Override
    public void finish() {
        leave();
        context.scheduler.loop.cancel(this);
    }

    /** When this scope ends: an outer scope that expired while it was active stays expired for its parent. */
    void leave() {
        TimeoutScope f = fired;
        if (parent != null && f != null && f != this) {
            parent.fired = outermost(parent.fired, f);
        }
    }

    /** The scope, other than this one, whose expiry must unwind past this one; null if none. */
    TimeoutScope outerFired() {
        TimeoutScope f = fired;
        return f != null && f != this ? f : null;
    }

    private static TimeoutScope outermost(TimeoutScope a, TimeoutScope b) {
        return a == null || b.depth < a.depth ? b : a;
    }

    /** The signal that {@code operation} throws so that the body of this scope unwinds. */
    CoroutineExit signal(Object operation) {
        return signal(operation, "");
    }

    /**
     * The signal that {@code operation} throws so that the body of this scope unwinds, {@code inside} the
     * generator whose body made it if not empty ({@code , inside generator 'lines'}), as a dump and a
     * close's signal name a wait: {@code its receive from channel 'jobs', inside generator 'lines', throws …}.
     */
    private CoroutineExit signal(Object operation, String inside) {
        return new CoroutineExit(new Ref(this), context.describe() + ": its " + describe() + " expired; its "
                + Wait.describeOperation(operation) + (inside.isEmpty() ? "" : inside + ",")
                + " throws this signal so that the body unwinds to it");
    }

    /**
     * This scope for messages: {@code withTimeout(PT1S)} (or {@code tryWithTimeout(PT1S)}), and for one
     * nested inside others how many enclose it ({@code withTimeout(PT1S), inside 1 enclosing withTimeout,},
     * scopes of both calls counted), so that two nested scopes of the same timeout are told apart.
     */
    String describe() {
        return operation + "(" + timeout + ")"
                + (depth == 0 ? "" : ", inside " + depth + " enclosing withTimeout" + (depth == 1 ? "," : "s,"));
    }
}
