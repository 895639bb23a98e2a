package dev.coro;

import dev.coro.Coroutine.State;
import java.util.Arrays;

/**
 * One thread's run list and current index: the seed's scheduler, its rules made exact.
 *
 * <p>Every rule of the scheduling semantics lives here, independent of how stacks are switched
 * (that is the {@link Engine}'s job). The run list is an array with swap-remove; each coroutine
 * knows its own index, so {@code switchTo}, {@code yield} and removal are O(1) while nothing is
 * parked. Parked contexts stay in the list and are skipped by a backward scan ({@link #park}), so
 * a program that never parks keeps the seed's exact order.
 */
final class Scheduler {

    private static final ThreadLocal<Scheduler> CURRENT = new ThreadLocal<>();

    /** The thread whose run list this is. */
    final Thread owner;
    final Engine engine;
    /** Main's handle: the owner thread itself, entry 0 of the list once anything was created. */
    final Coroutine main;
    /** The run list {@code L}; entries {@code [0, size)} are live. */
    private Coroutine[] list = new Coroutine[8];
    private int size;
    /** The current index {@code i}. */
    private int current;
    /** How many coroutines this thread created, for default names. */
    private int created;
    /** How many generators this thread created, for their default names. */
    int generatorsCreated;
    /** How many channels this thread created, for their default names. */
    int channelsCreated;
    /** Engine scratch: the context a trampoline runs next (the thread engine: the context holding the turn). */
    Coroutine next;
    /** Engine scratch: what an engine keeps per scheduler (the thread engine: its executor); null until needed. */
    Object engineState;

    private Scheduler(Thread owner) {
        this.engine = Engine.get();
        this.owner = owner;
        this.main = new Coroutine(this, "main");
    }

    /** The calling thread's scheduler; on return it exists. */
    static Scheduler current() {
        Scheduler s = CURRENT.get();
        if (s == null) {
            s = new Scheduler(Thread.currentThread());
            CURRENT.set(s);
        }
        return s;
    }

    /** The calling thread's scheduler, or null if it has none; creates nothing. */
    static Scheduler currentOrNull() {
        return CURRENT.get();
    }

    /** Makes {@code s} the scheduler of the calling thread (an engine's helper thread). */
    static void bind(Scheduler s) {
        CURRENT.set(s);
    }

    /**
     * Checks that the caller runs on this scheduler's thread; on return it does.
     *
     * @throws IllegalStateException naming both threads otherwise
     */
    Scheduler checkCaller(Coroutine target, String operation) {
        if (Thread.currentThread() != owner && CURRENT.get() != this) {
            throw new IllegalStateException("cannot " + operation + " " + target.describe()
                    + " (state " + target.stateUnchecked() + ") from thread " + describe(callingThread())
                    + ": it belongs to thread " + describe(owner));
        }
        return this;
    }

    /** The thread the caller runs as: its scheduler's owner (so an engine's helper thread reads as it), or itself. */
    private static Thread callingThread() {
        Scheduler bound = CURRENT.get();
        return bound != null ? bound.owner : Thread.currentThread();
    }

    // ---- the seed's calls ------------------------------------------------------------------

    Coroutine create(String name, Runnable body) {
        if (size == 0) {
            add(main);
            current = 0;
        }
        created++;
        Coroutine co = new Coroutine(this, list[current], name, created, body);
        co.strand = engine.newStrand(this, co);
        add(co);
        return co;
    }

    void yieldToPrevious() {
        if (size <= 1) {
            return;
        }
        Coroutine from = list[current];
        if (from.closing) {
            throw exit(from, "yield");
        }
        Coroutine to = previousRunnable(current - 1, size - 1);
        if (to != null) {
            transfer(from, to, State.SUSPENDED);
        }
    }

    void switchTo(Coroutine to) {
        Coroutine from = currentContext();
        if (from.closing) {
            throw exit(from, "switchTo");
        }
        if (to == from) {
            return;
        }
        State st = to.stateUnchecked();
        if (st.isTerminal()) {
            throw new IllegalStateException("cannot switchTo " + to.describe() + ": it is " + st
                    + (st == State.FAILED ? " (its failure was delivered to its creator)" : ""));
        }
        if (st == State.PARKED) {
            throw new IllegalStateException("cannot switchTo " + to.describe() + ": it is PARKED (waits to "
                    + to.waitingFor + "); only the channel can wake it");
        }
        transfer(from, to, State.SUSPENDED);
    }

    void close(Coroutine c) {
        State st = c.stateUnchecked();
        if (st.isTerminal()) {
            return;
        }
        if (c == main) {
            throw new IllegalStateException("cannot close " + c.describe() + " of thread " + describe(owner)
                    + ": it is " + st + " and is the thread itself; only coroutines can be closed");
        }
        Coroutine from = currentContext();
        if (c == from) {
            throw new IllegalStateException("cannot close " + c.describe()
                    + ": it is RUNNING; a coroutine cannot close itself (return from its body instead)");
        }
        if (st == State.NEW) {
            remove(c);
            c.moveTo(State.CLOSED);
            c.release();
            return;
        }
        if (st != State.SUSPENDED && st != State.PARKED) {
            throw new IllegalStateException("cannot close " + c.describe() + ": it is " + st);
        }
        c.closing = true;
        c.closer = from;
        c.pendingThrow = exit(c, "suspended call");
        try {
            transfer(from, c, State.SUSPENDED);
        } catch (IllegalStateException e) {
            if (e.getCause() instanceof PinnedException) {
                // the JDK refused to suspend the caller: c never resumed, so it is not being closed
                c.closing = false;
                c.closer = null;
                c.pendingThrow = null;
            }
            throw e;
        }
    }

    /**
     * Parks the current context until {@link #unpark} wakes it and a switch selects it again, running
     * the previous runnable context meanwhile (the order of {@code yield()}, parked ones skipped).
     *
     * @param what what it waits for, e.g. {@code receive from channel 'jobs'}; shown by dumps and errors
     * @throws DeadlockException  if every other context is parked too (the caller is then not parked),
     *                            or, in main, if its wait is cancelled because everything else got stuck
     * @throws CoroutineExit      if the caller is being closed, now or while parked
     * @throws CoroutineException if a coroutine the caller created failed: while it was parked (main
     *                            only, its wait is cancelled), or after it was woken
     */
    void park(String what) {
        Coroutine from = currentContext();
        if (from.closing) {
            throw exit(from, what);
        }
        Coroutine to = size <= 1 ? null : previousRunnable(current - 1, size - 1);
        if (to == null) {
            throw deadlock(from.describe() + " cannot " + what + ": every other context of thread "
                    + describe(owner) + " is parked, so nothing could ever wake it", from, what);
        }
        from.waitingFor = what;
        try {
            transfer(from, to, State.PARKED);
        } finally {
            from.waitingFor = null;
        }
    }

    /** Wakes a parked context: on return it is {@code SUSPENDED}, and {@code yield()} may select it. */
    void unpark(Coroutine c) {
        c.moveTo(State.SUSPENDED);
    }

    /** A snapshot of the run list, entry 0 first; just main before any create. */
    Coroutine[] contexts() {
        return size == 0 ? new Coroutine[] {main} : Arrays.copyOf(list, size);
    }

    int currentIndex() {
        return current;
    }

    Coroutine currentContext() {
        return size == 0 ? main : list[current];
    }

    // ---- moving control --------------------------------------------------------------------

    /**
     * Suspends {@code from} (the running context) and runs {@code to}; on return {@code from} runs
     * again, and throws what was left pending for it.
     */
    private void transfer(Coroutine from, Coroutine to, State fromBecomes) {
        State toWas = to.stateUnchecked();
        from.moveTo(fromBecomes);
        to.moveTo(State.RUNNING);
        current = to.index;
        try {
            engine.transfer(this, from, to);
        } catch (PinnedException e) {
            to.revertTo(toWas);
            from.revertTo(State.RUNNING);
            current = from.index;
            throw new IllegalStateException("cannot suspend " + from.describe() + " to run " + to.describe()
                    + ": the JDK cannot suspend it here because " + e.reason
                    + "; it keeps running (state RUNNING)", e);
        }
        resumed(from);
    }

    /** Throws, in the context that just resumed, what was left pending for it (a failure, or the exit signal). */
    private static void resumed(Coroutine self) {
        Throwable pending = self.pendingThrow;
        if (pending != null) {
            self.pendingThrow = null;
            if (pending instanceof CoroutineExit exit) {
                throw exit;
            }
            throw (RuntimeException) pending;
        }
    }

    /**
     * Runs {@code co}'s body to its end on its own strand, then removes it and decides who runs
     * next; on return, {@code current} is that context's index and it is {@code RUNNING}.
     *
     * @return the context to run next
     */
    Coroutine runToEnd(Coroutine co) {
        Throwable failure = null;
        try {
            co.runBody();
        } catch (Throwable t) {
            failure = t;
        }
        return bodyEnded(co, failure);
    }

    private Coroutine bodyEnded(Coroutine c, Throwable failure) {
        Coroutine next;
        if (c.closing) {
            boolean clean = failure == null || failure instanceof CoroutineExit;
            c.moveTo(clean ? State.CLOSED : State.FAILED);
            int i = current;
            remove(c);
            if (alive(c.closer)) {
                next = c.closer;
            } else if (!clean || main.stateUnchecked() != State.PARKED) {
                next = main; // a parked main has its wait cancelled by the failure
            } else {
                next = previousRunnableOrMain(c, i); // nobody waits for the close: as if the body had returned
            }
            if (!clean) {
                leave(next, new CoroutineException(c.describe() + " failed while being closed: " + failure, failure));
            }
        } else if (failure == null) {
            c.moveTo(State.FINISHED);
            int i = current;
            remove(c);
            next = previousRunnableOrMain(c, i);
        } else {
            c.moveTo(State.FAILED);
            remove(c);
            Coroutine creator = c.creator;
            next = alive(creator) && creator.stateUnchecked() != State.PARKED ? creator : main;
            leave(next, new CoroutineException(c.describe() + " failed: " + failure, failure));
        }
        c.release();
        current = next.index;
        next.moveTo(State.RUNNING);
        return next;
    }

    private static boolean alive(Coroutine c) {
        return c != null && !c.stateUnchecked().isTerminal();
    }

    /**
     * The first context that is not parked among {@code count} entries counted backwards from
     * {@code start}, wrapping from 0 to the last entry; null if all of them are parked.
     */
    private Coroutine previousRunnable(int start, int count) {
        int k = start < 0 ? start + size : start;
        for (int n = 0; n < count; n++) {
            Coroutine c = list[k];
            if (c.stateUnchecked() != State.PARKED) {
                return c;
            }
            k = k == 0 ? size - 1 : k - 1;
        }
        return null;
    }

    /**
     * Who runs after {@code ended} (removed from index {@code i}): the previous runnable entry from
     * {@code i - 1}; if every remaining context is parked, main, whose wait is cancelled by a
     * {@link DeadlockException}.
     */
    private Coroutine previousRunnableOrMain(Coroutine ended, int i) {
        Coroutine next = previousRunnable(i - 1, size);
        if (next != null) {
            return next;
        }
        leave(main, deadlock(ended.describe() + " ended and every context left on thread " + describe(owner)
                + " is parked, so nothing could ever wake them; main's wait is cancelled", null, null));
        return main;
    }

    /** A deadlock report: {@code headline}, then every parked context (and {@code caller}) with its wait. */
    private DeadlockException deadlock(String headline, Coroutine caller, String callerWaits) {
        StringBuilder b = new StringBuilder(headline).append(" (deadlock):");
        for (Coroutine c : contexts()) {
            if (c == caller) {
                b.append("\n  ").append(c.describe()).append(" would wait to ").append(callerWaits);
            } else if (c.stateUnchecked() == State.PARKED) {
                b.append("\n  ").append(c.describe()).append(" waits to ").append(c.waitingFor);
            }
        }
        return new DeadlockException(b.toString());
    }

    private static void leave(Coroutine target, RuntimeException e) {
        if (target.pendingThrow == null) {
            target.pendingThrow = e;
        } else {
            target.pendingThrow.addSuppressed(e);
        }
    }

    private static CoroutineExit exit(Coroutine c, String operation) {
        return new CoroutineExit(c.describe() + " is being closed: its " + operation
                + " throws this signal so that it unwinds (state RUNNING, closing)");
    }

    // ---- the run list ----------------------------------------------------------------------

    private void add(Coroutine c) {
        if (size == list.length) {
            list = Arrays.copyOf(list, size * 2);
        }
        c.index = size;
        list[size++] = c;
    }

    /**
     * Swap-removes {@code c}: the last entry takes its slot. On return {@code c} is not in the list,
     * and if the current context was the moved entry, {@code current} follows it.
     */
    private void remove(Coroutine c) {
        int k = c.index;
        int last = size - 1;
        Coroutine moved = list[last];
        list[k] = moved;
        moved.index = k;
        list[last] = null;
        size = last;
        c.index = -1;
        if (current == last && moved != c) {
            current = k;
        }
        if (list.length > 64 && size < list.length / 4) {
            list = Arrays.copyOf(list, list.length / 2);
        }
    }

    static String describe(Thread t) {
        return "'" + t.getName() + "' (#" + t.threadId() + (t.isVirtual() ? ", virtual" : "") + ")";
    }
}
