package dev.coro;

import dev.coro.Coroutine.State;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A context's wait for something another thread completes (a future, an operation on another
 * thread's channel): a one-shot wait whose completion and interruption race on one compare-and-set,
 * so exactly one of them wins; the completion reaches the waiter's thread as a post to its event loop.
 *
 * <p>A channel's thread that must pair two such waits (a sender and a receiver of other threads)
 * {@link #lock() locks} each first, and completes both or neither; an interruption that finds the
 * wait locked waits the few instructions until it is done or unlocked.
 */
class ForeignWait implements Wait, Runnable {

    private static final int WAITING = 0;
    private static final int DONE = 1;
    private static final int INTERRUPTED = 2;
    private static final int LOCKED = 3;
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
    /** What it waits for, for dumps, e.g. {@code await CompletableFuture@1f[Incomplete]}. */
    private final Object what;
    @SuppressWarnings("unused") // through STATE
    private volatile int state;

    ForeignWait(Context context, Object what) {
        this.context = context;
        this.what = what;
    }

    /**
     * Completes the wait, from any thread: if it was still waiting, the waiter's thread is told.
     *
     * @return whether this call completed it (false: it had completed or been interrupted already)
     */
    final boolean complete() {
        if (!STATE.compareAndSet(this, WAITING, DONE)) {
            return false;
        }
        context.scheduler.loop.post(this);
        return true;
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

    /** Gives a locked wait back: it waits again. */
    final void unlock() {
        state = WAITING;
    }

    /** Completes a locked wait: the waiter's thread is told. */
    final void finish() {
        state = DONE;
        context.scheduler.loop.post(this);
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

    /** Interrupts the wait unless it has completed: exactly one of the two wins. */
    @Override
    public boolean interrupt() {
        while (true) {
            if (STATE.compareAndSet(this, WAITING, INTERRUPTED)) {
                return true;
            }
            int s = state;
            if (s == DONE || s == INTERRUPTED) {
                return false;
            }
            Thread.onSpinWait(); // locked by the thread completing it: a few instructions
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
