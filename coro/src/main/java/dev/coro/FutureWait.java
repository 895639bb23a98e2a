package dev.coro;

import dev.coro.Coroutine.State;
import java.util.concurrent.CompletableFuture;

/**
 * A context's wait in {@link Coroutine#await} for a future another thread completes: queued under
 * the future in its thread's {@link FutureWaits}, completed there on the owner thread, or interrupted
 * (a timeout, a close) by leaving the queue, which leaves nothing on the future.
 */
final class FutureWait extends FutureWaits.Waiter implements Wait, Cleanup {

    private final Context context;
    private final CompletableFuture<?> future;
    /** The call that waits, as dumps and signals name it: {@code await}, or a pool future's {@code join}, {@code get} … */
    private final String operation;
    private boolean done;
    /** Whether {@link #finish} has ended its count as a wait for another thread. */
    private boolean uncounted;

    FutureWait(Context context, CompletableFuture<?> future, String operation) {
        this.context = context;
        this.future = future;
        this.operation = operation;
    }

    /** The future completed: wakes the context if it still waits here. */
    @Override
    void completed() {
        done = true;
        if (context.state() == State.PARKED && context.waitingFor == this) {
            context.scheduler.unpark(context);
        }
    }

    /** Leaves the future's queue unless the completion came first (then it keeps it). */
    @Override
    public boolean interrupt() {
        if (done) {
            return false;
        }
        context.scheduler.loop.futureWaits().remove(this);
        return true;
    }

    /**
     * Its future is complete: the thread's callback is posting the wake-up, and the idle spin that
     * watches this wait sees the completion as soon as it is written, a post's latency earlier.
     */
    @Override
    public boolean completedAfar() {
        return future.isDone();
    }

    /**
     * On the owner thread, its future complete before the post came: completes every wait queued
     * under the future now, this one among them, in the order they came, as the post would have.
     */
    @Override
    public void takeInEarly(Context self) {
        context.scheduler.loop.futureWaits().completed(future);
    }

    /**
     * The clean-up of a wait whose park threw: it leaves the future's queue, and its count as a wait
     * for another thread ends, once (the count's end is one call with none inside, the flag set after it).
     */
    @Override
    public void finish() {
        EventLoop loop = context.scheduler.loop;
        loop.futureWaits().remove(this);
        if (!uncounted) {
            loop.foreignWaitEnded();
            uncounted = true;
        }
    }

    @Override
    public String reason() {
        return "thread";
    }

    @Override
    public String toString() {
        return operation + " " + SafeText.of(future);
    }
}
