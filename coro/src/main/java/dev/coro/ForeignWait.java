package dev.coro;

import dev.coro.Coroutine.State;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A context's wait for an operation that another thread runs (on a channel of that thread): a
 * one-shot wait whose completion and interruption race on one compare-and-set, so exactly one of
 * them wins; the completion reaches the waiter's thread as a post to its event loop.
 *
 * <p>A channel's thread that must pair two such waits (a sender and a receiver of other threads)
 * {@link #lock() locks} each first, and completes both or neither; an interruption that finds the
 * wait locked waits the few instructions until it is done or unlocked.
 *
 * <p>If the thread that was to complete it ends first (its scheduler refuses the post, or the
 * waiter's event loop finds it dead), the wait {@link #end() ends} instead: the waiter's operation
 * then fails, naming that thread.
 */
class ForeignWait extends PostedWait<ForeignWait> implements Runnable {

    private static final int WAITING = 0;
    private static final int DONE = 1;
    private static final int INTERRUPTED = 2;
    private static final int LOCKED = 3;
    private static final int ENDED = 4;
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(ForeignWait.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The waiting context. */
    final Context context;
    /**
     * The waiter's scheduler, its thread and its inbox, kept here so that the completing thread reads
     * no line of the waiter's thread but the inbox's.
     */
    private final Scheduler scheduler;
    private final Thread waiterThread;
    private final Inbox inbox;
    /** The thread that is to complete it. */
    final Thread completer;
    /** What it waits for, for dumps, e.g. {@code await java.util.concurrent.CompletableFuture@1f[Not completed]}. */
    private final Object what;
    @SuppressWarnings("unused") // through STATE
    private volatile int state;

    ForeignWait(Context context, Thread completer, Object what) {
        this.context = context;
        this.completer = completer;
        this.what = what;
        this.scheduler = context.scheduler;
        this.waiterThread = scheduler.owner;
        this.inbox = scheduler.loop.inbox;
    }

    /**
     * Ends the wait because its completer has ended, from any thread, unless it completed or was
     * interrupted first; the waiter's thread is then told (its operation fails).
     */
    final void end() {
        if (STATE.compareAndSet(this, WAITING, ENDED)) {
            deliver(inbox); // refused only if the waiter's scheduler has ended: nothing left to wake
        }
    }

    /** Whether the thread that is to complete it has ended: it never will. */
    boolean completerEnded() {
        return !completer.isAlive();
    }

    /** Whether it ended because its completer's thread ended first. */
    final boolean hasEnded() {
        return state == ENDED;
    }

    /**
     * Locks the wait for completion, so that no interruption can win until {@link #finish()} or
     * {@link #unlock()}.
     *
     * @return false if it was interrupted already (or completed): it must be left alone
     */
    final boolean lock() {
        return STATE.compareAndSet(this, WAITING, LOCKED);
    }

    /**
     * Locks the wait for completion as {@link #lock()} does, but waits while another thread holds it
     * locked, until that thread completes it or gives it back: the wait of a {@link Select} over channels
     * of several threads, which each of them may lock for a clause. A holder never waits for anything
     * while it holds it but for another such wait later in their order ({@link SelectClaim#order}), so the spin is
     * short.
     *
     * @return false if it was interrupted, completed or ended: it must be left alone
     */
    final boolean lockSpinning() {
        for (int spins = 0; ; spins++) {
            if (STATE.compareAndSet(this, WAITING, LOCKED)) {
                return true;
            }
            if (state != LOCKED) {
                return false;
            }
            if (spins < 64) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    /** Whether it still waits, or is locked by a thread that may yet give it back: not over. */
    final boolean isOpen() {
        int s = state;
        return s == WAITING || s == LOCKED;
    }

    /** Whether the thread of the waiting context still runs: once it has ended, nothing will ever wake the context. */
    final boolean waiterThreadAlive() {
        return waiterThread.isAlive();
    }

    /**
     * Locked by the caller ({@link #lock()}), the wait is given up instead of completed: its thread has
     * ended. It counts as interrupted, so that whoever meets it next leaves it alone.
     */
    final void abandon() {
        state = INTERRUPTED;
    }

    /** Gives a locked wait back: it waits again. */
    final void unlock() {
        state = WAITING;
    }

    /**
     * Completes a locked wait: the waiter's thread is told, through its event loop; or at once if
     * that is the calling thread (an operation run in place on a shared channel).
     */
    final void finish() {
        state = DONE;
        // Scheduler.isCaller(), but with the owner kept here rather than read from the scheduler's line
        if (Thread.currentThread() == waiterThread || Scheduler.currentOrNull() == scheduler) {
            run();
        } else {
            deliver(inbox); // refused only if the waiter's scheduler has ended: nothing left to wake
        }
    }

    /** Whether it completed or ended: its post to the waiter's thread is sent, or on its way. */
    @Override
    public final boolean completedAfar() {
        int s = state;
        return s == DONE || s == ENDED;
    }

    /**
     * Whether its operation, a send (or a timed {@code trySend}), completed with its value taken: a
     * receiver has it, whatever ends the wait before the wake-up arrives.
     */
    @Override
    public boolean sentItsValue() {
        return state == DONE && what instanceof RemoteOp<?> r && r.sender && r.ok;
    }

    /** Whether it was interrupted. */
    final boolean isInterrupted() {
        return state == INTERRUPTED;
    }

    /** Whether it completed (rather than waits or was interrupted). */
    final boolean isDone() {
        return state == DONE;
    }

    /** On the waiter's thread, the completion arrives: wakes the context if it still waits here. */
    @Override
    public final void run() {
        if (context.state() == State.PARKED && context.waitingFor == this) {
            context.scheduler.unpark(context);
        }
    }

    /** Delivered to the waiter's thread (posted, or handed to its spin): {@link #run()}. */
    @Override
    final void delivered() {
        run();
    }

    /** Interrupts the wait unless it has completed: exactly one of the two wins. */
    @Override
    public boolean interrupt() {
        for (int spins = 0; ; spins++) {
            if (STATE.compareAndSet(this, WAITING, INTERRUPTED)) {
                return true;
            }
            if (state != LOCKED) {
                return false; // completed, interrupted or ended already
            }
            if (spins < 64) {
                Thread.onSpinWait(); // locked by the thread completing it: a few instructions
            } else {
                Thread.yield(); // unless that thread lost its core meanwhile
            }
        }
    }

    @Override
    public String reason() {
        return "thread";
    }

    @Override
    public String toString() {
        return what.toString();
    }
}
