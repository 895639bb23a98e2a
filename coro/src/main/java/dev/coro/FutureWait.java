package dev.coro;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A context's wait in {@link Coroutine#await} for a future another thread completes: queued under
 * the future in its thread's {@link FutureWaits}, completed there on the owner thread, or interrupted
 * (a timeout, a close) by leaving the queue, which leaves nothing on the future. The waits of a pool
 * future's {@code join()} and {@code get()} start here too.
 */
final class FutureWait extends FutureWaits.Waiter implements Wait, Cleanup {

    private final Context context;
    private final CompletableFuture<?> future;
    /**
     * What the caller waits for, as dumps and signals name it: {@link #future}, or the stage it was made
     * for; null for a wait that {@link #operation} names whole.
     */
    private final CompletionStage<?> stage;
    /**
     * The call that waits, as dumps and signals name it: {@code await}, or a pool future's {@code join},
     * {@code get} …, followed by {@link #stage}; or, without a stage, the whole wait (a connect's name
     * look-up: {@code connect to db.internal/<unresolved>:5432 (looking up its host)}).
     */
    private final String operation;
    private boolean done;
    /** Whether {@link #finish} has ended its count as a wait for another thread. */
    private boolean uncounted;

    FutureWait(Context context, CompletableFuture<?> future, CompletionStage<?> stage, String operation) {
        this.context = context;
        this.future = future;
        this.stage = stage;
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
     * watches this wait sees the completion as soon as it is written, a post's latency earlier. Not
     * asked of a future whose {@code isDone()} may be the user's code ({@link FutureWaits#watchable}),
     * which the thread waiting in its event loop, no context of it running, does not run: its post alone
     * wakes the wait.
     */
    @Override
    public boolean completedAfar() {
        CompletableFuture<?> f = future;
        return FutureWaits.watchable(f) && f.isDone();
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

    /**
     * The slow path of a pool future's {@code join()} and {@code get()} ({@code PoolFuture})
     * while {@code f} is not complete: on a thread with a scheduler, parks the calling context until
     * it is (the thread's other contexts, and the operations other threads posted to it, run
     * meanwhile); on a thread without one, or where the JDK cannot suspend the caller (a native frame
     * on its stack: a class initializer, an FFM upcall; docs/PINNING.md) or the park is refused otherwise
     * ({@link PinnedException#refusedTheCallersPark}: on the thread engine, the context it would run gets no
     * thread), returns at once, the wait withdrawn, and the JDK's read blocks the thread as it always did. Reads nothing. Here, among the
     * machinery whose frames a dump leaves out ({@link StackTraces}), so that a dump shows the wait from
     * the user's call of {@code join} or {@code get}.
     *
     * @param operation the read, as dumps and signals name the wait: {@code join}, {@code get}
     * @throws CoroutineExit if the caller is being closed, or a {@code withTimeout} of it expired
     */
    static void parkUntilDone(CompletableFuture<?> f, String operation) {
        Scheduler s = Scheduler.currentOrNull();
        if (s != null) {
            try {
                s.await(f, operation);
            } catch (IllegalStateException e) {
                if (!PinnedException.refusedTheCallersPark(e)) {
                    throw e;
                }
            }
        }
    }

    /**
     * A pool's {@code close()} waiting for its threads to leave their loops ({@code f}): as
     * {@link Coroutine#await} (the caller's scheduler made if it has none), it parks the calling
     * context until {@code f} is complete; where the JDK cannot suspend the caller (a native frame on
     * its stack: a class initializer, an FFM upcall; docs/PINNING.md), or the park is refused otherwise (as
     * for {@link #parkUntilDone}), the attempt is withdrawn and the
     * thread blocks until then, as a submission's {@code join()} does there. No exchange with another
     * thread, unlike an await of the user's ({@link Scheduler#awaitLibrary}): the pool's end reaches
     * nothing of the caller's, so the caller's thread still reports its deadlocks once the pool has
     * ended (a body handed to the pool was an exchange already). Here, among the machinery a dump
     * leaves out, so that a dump shows the wait from the user's call of {@code close()}.
     *
     * @param operation the wait, as dumps and signals name it: {@code await}
     * @throws CoroutineExit if the caller is being closed, or a {@code withTimeout} of it expired
     */
    static void awaitOrBlock(CompletableFuture<?> f, String operation) {
        if (f.isDone()) {
            return;
        }
        try {
            Scheduler.current().awaitLibrary(f, f, operation);
        } catch (IllegalStateException e) {
            if (!PinnedException.refusedTheCallersPark(e)) {
                throw e;
            }
            f.join(); // the refused park left no wait behind: the JDK's blocking wait, as for join()
        }
    }

    /**
     * The slow path of a pool future's {@code get(timeout, unit)} while {@code f} is not complete: on a
     * thread with a scheduler, parks the calling context until it is complete or {@code timeout} has
     * passed on the scheduler's clock (a {@code withTimeout} around the wait of {@link #parkUntilDone},
     * named {@code get(20 MILLISECONDS)}); zero or less waits not at all, as the JDK's. On a thread
     * without one, or where the JDK cannot suspend the caller (as for {@link #parkUntilDone}), returns
     * at once, the wait withdrawn (the JDK's read waits).
     *
     * @throws TimeoutException if {@code f} is still not complete, naming the caller, the read and the future
     * @throws CoroutineExit    if the caller is being closed, or a {@code withTimeout} of it (an outer one) expired
     */
    static void parkAtMost(CompletableFuture<?> f, long timeout, TimeUnit unit) throws TimeoutException {
        Scheduler s = Scheduler.currentOrNull();
        if (s == null) {
            return;
        }
        long nanos = unit.toNanos(timeout);
        if (nanos > 0) {
            try {
                String operation = "get(" + timeout + " " + unit + ")";
                s.withTimeout(Duration.ofNanos(nanos), () -> {
                    s.await(f, operation);
                    return null;
                });
            } catch (CoroutineTimeoutException e) {
                // this wait's own timeout (an outer one's expiry is its signal, not this): told below unless it completed meanwhile
            } catch (IllegalStateException e) {
                if (!PinnedException.refusedTheCallersPark(e)) {
                    throw e;
                }
                return; // the JDK cannot suspend the caller here: its timed wait blocks the thread, as before
            }
        }
        if (!f.isDone()) {
            throw timedOut(f, timeout, unit);
        }
    }

    /** The {@code TimeoutException} of a timed {@code get} of {@code f} that expired: the caller, the read and the future. */
    static TimeoutException timedOut(CompletableFuture<?> f, long timeout, TimeUnit unit) {
        return new TimeoutException(Scheduler.describeCaller() + " timed out in get(" + timeout + " " + unit + ") of "
                + SafeText.line(f) + ": it is still not complete");
    }

    @Override
    public String reason() {
        return "thread";
    }

    @Override
    public String toString() {
        return stage == null ? operation : operation + " " + SafeText.line(stage); // one line, however the stage prints
    }
}
