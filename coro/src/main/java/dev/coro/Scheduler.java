package dev.coro;

import dev.coro.Coroutine.State;
import java.util.Arrays;

/**
 * One thread's run list and current index: the seed's scheduler, its rules made exact.
 *
 * <p>Every rule of the scheduling semantics lives here, independent of how stacks are switched
 * (that is the {@link Engine}'s job). The run list is an array with swap-remove; each coroutine
 * knows its own index, so {@code switchTo}, {@code yield} and removal are O(1).
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
    /** Engine scratch: the context a trampoline runs next. */
    Coroutine next;

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
                    + " (state " + target.stateUnchecked() + ") from thread " + describe(Thread.currentThread())
                    + ": it belongs to thread " + describe(owner));
        }
        return this;
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
        transfer(from, list[current == 0 ? size - 1 : current - 1]);
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
        transfer(from, to);
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
        if (st != State.SUSPENDED) {
            throw new IllegalStateException("cannot close " + c.describe() + ": it is " + st);
        }
        c.closing = true;
        c.closer = from;
        transfer(from, c);
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
    private void transfer(Coroutine from, Coroutine to) {
        State toWas = to.stateUnchecked();
        from.moveTo(State.SUSPENDED);
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

    /** Throws, in the context that just resumed, what was left pending for it. */
    private static void resumed(Coroutine self) {
        RuntimeException pending = self.pendingThrow;
        if (self.closing) {
            CoroutineExit exit = exit(self, "resume");
            if (pending != null) {
                self.pendingThrow = null;
                exit.addSuppressed(pending);
            }
            throw exit;
        }
        if (pending != null) {
            self.pendingThrow = null;
            throw pending;
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
            remove(c);
            next = aliveOrMain(c.closer);
            if (!clean) {
                leave(next, new CoroutineException(c.describe() + " failed while being closed: " + failure, failure));
            }
        } else if (failure == null) {
            c.moveTo(State.FINISHED);
            int i = current;
            remove(c);
            next = list[i - 1];
        } else {
            c.moveTo(State.FAILED);
            remove(c);
            next = aliveOrMain(c.creator);
            leave(next, new CoroutineException(c.describe() + " failed: " + failure, failure));
        }
        c.release();
        current = next.index;
        next.moveTo(State.RUNNING);
        return next;
    }

    private Coroutine aliveOrMain(Coroutine c) {
        return c != null && !c.stateUnchecked().isTerminal() ? c : main;
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
