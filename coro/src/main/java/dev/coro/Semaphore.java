package dev.coro;

import java.time.Duration;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * A counting semaphore on which a context that finds no permit parks instead of blocking its
 * thread: a bound on how many coroutines do something at once (connections to a database, requests
 * in flight), or, with one permit, a lock held across waits.
 *
 * <pre>{@code
 * Semaphore db = new Semaphore("db", 10);             // at most ten queries at once
 * String row = db.withPermit(() -> query(sql));      // parks while ten are running
 * }</pre>
 *
 * <p>{@link #callWithPermit(ThrowingSupplier)} runs a body that throws a checked exception (a query's
 * {@code SQLException}, a read's {@code IOException}) and throws it as it is.
 *
 * <p>Its permits are the values of a {@link Channel} buffering as many as it was made with: an
 * acquire is a receive, a release a send that finds room. So every rule of a channel holds: waiters
 * are served in the order they came; a permit handed to a waiter whose wait is then cancelled (a
 * close of its coroutine, a {@code withTimeout}) goes back to the next waiter or to the semaphore,
 * and a timed acquire that times out took none, so no permit is ever lost or made; every context of
 * the thread parked in an acquire with nothing else to run is a {@link DeadlockException} naming
 * them; contexts of other threads may acquire and release it too (docs/THREADS.md), while its thread
 * lives. There are two exceptions. Once its thread has ended, another thread's acquire is refused as every other
 * operation then is, where a receive would take a value left in the channel's buffer: no release
 * could give that permit back. And where a release must be posted to the semaphore's thread it is
 * posted as a channel's close is, not as a {@code trySend}, so that a release in a {@code finally} of
 * a body being unwound, on any thread, gives its permit back ({@link #release()}).
 *
 * <p>A permit belongs to no one: any context may release one another acquired. Releasing more than
 * were acquired, so that more permits than it was made with would be free, is refused. A permit handed
 * to a waiter that has not run yet counts as that waiter's, so a release meanwhile is accepted; should
 * the waiter's wait then be cancelled, undoing its acquire, the permit it was handed is dropped if every
 * permit is free already: never are more free than it was made with.
 *
 * <p>A wait for a permit is named as this semaphore's call on it, wherever a text describes it (a dump, the
 * signal of a {@code withTimeout} that interrupts it, a {@link DeadlockException}, the JMX view, the JFR park
 * event), not as the receive of its channel: {@code acquire a permit of Semaphore[db, 0 of 10 permits free]},
 * {@code tryAcquire a permit of …} for a timed acquire, and from another thread, waiting for this one's answer,
 * {@code … of thread 'main' (#1)}; its permits free are counted as the text is made.
 */
public final class Semaphore {

    /** What the name of its permits' channel adds to its own: {@code db (semaphore)}. */
    static final String CHANNEL_SUFFIX = " (semaphore)";

    /** What the channel holds: a permit, one object for all. */
    private static final Object PERMIT = new Object();

    private final Channel<Object> permits;
    private final String name;
    private final int count;

    /**
     * Creates a semaphore named {@code semaphore-N} (N counting the thread's semaphores from 1, or those of
     * the {@link VirtualTime#run} it is created in) with {@code permits} free permits.
     *
     * @param permits how many contexts may hold one at once, 1 or more (up to {@code Integer.MAX_VALUE}: they are
     *                counted, and take no room)
     * @throws IllegalArgumentException if {@code permits} is less than 1, naming the caller
     */
    public Semaphore(int permits) {
        this(null, permits);
    }

    /**
     * Creates a named semaphore with {@code permits} free permits; it belongs to the calling thread,
     * as a channel does.
     *
     * @param name    the name shown by {@link #toString()}, dumps and error messages (made safe for one line as for
     *                {@link Coroutine#create(String, Runnable)}); null for a default one
     * @param permits how many contexts may hold one at once, 1 or more (up to {@code Integer.MAX_VALUE}: they are
     *                counted, and take no room)
     * @throws IllegalArgumentException if {@code permits} is less than 1, naming the caller and the semaphore
     */
    public Semaphore(String name, int permits) {
        Scheduler s = Scheduler.currentOrNull(); // a refusal makes the thread no scheduler (SEMANTICS)
        this.name = name != null ? name : "semaphore-" + ((s == null ? 0 : s.semaphoresCreated) + 1);
        if (permits < 1) {
            throw new IllegalArgumentException(Scheduler.describeCaller() + " cannot create semaphore '"
                    + SafeText.name(this.name) + "' with " + permits + " permits: it needs 1 or more");
        }
        if (s == null) {
            s = Scheduler.current();
        }
        this.count = permits;
        this.permits = new Channel<>(this.name + CHANNEL_SUFFIX, permits, PERMIT); // full: every permit free
        s.semaphoresCreated++; // counted once it is made: one that failed for want of memory numbers none
    }

    /**
     * Takes a permit, parking the caller until one is free.
     *
     * @throws DeadlockException     if waiting would leave nothing to run on this thread and nothing that
     *                               could wake it (as for {@link Channel#receive()})
     * @throws CoroutineExit         if the caller is being closed, or a {@code withTimeout} of it expired: it
     *                               holds no permit then
     * @throws CoroutineException    in main, if a coroutine it created failed while it waited: it holds no permit then
     * @throws IllegalStateException if called from another thread once the semaphore's thread has ended,
     *                               or where the caller cannot suspend, as for {@link Channel#receive()}
     */
    public void acquire() {
        permits.receive();
    }

    /**
     * Takes a permit if one is free now, without waiting for one. From another thread, where the call
     * must be posted to the semaphore's thread (its first use there, docs/THREADS.md), it waits for that
     * thread's answer, as {@link Channel#tryReceive()} does.
     *
     * @return whether it took one
     * @throws CoroutineExit         so posted, if the caller is being closed, or a {@code withTimeout} of it
     *                               expired, before the call or while it waits: it took none
     * @throws CoroutineException    so posted, in main, if a coroutine it created failed while it waited: it took none
     * @throws IllegalStateException if called from another thread once the semaphore's thread has ended
     */
    public boolean tryAcquire() {
        return permits.tryReceive().isPresent();
    }

    /**
     * Takes a permit, waiting at most {@code timeout} for one to be free.
     *
     * @param timeout how long to wait at most, on the scheduler's clock; zero is {@link #tryAcquire()}
     * @return whether it took one; false: it holds none
     * @throws IllegalArgumentException if {@code timeout} is negative, naming the caller (with its thread, if
     *                                  it is not the semaphore's), the call and the semaphore
     * @throws NullPointerException     if {@code timeout} is null
     * @throws DeadlockException        if its deadline is past the clock's range (no timer ends the wait) and
     *                                  waiting would leave nothing to run, as for {@link #acquire()}
     * @throws CoroutineExit            if the caller is being closed, or a {@code withTimeout} of it expired
     * @throws CoroutineException       in main, if a coroutine it created failed while it waited
     * @throws IllegalStateException    as for {@link #acquire()}
     */
    public boolean tryAcquire(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw negativeTimeout(timeout);
        }
        return permits.tryReceive(timeout).isPresent();
    }

    /**
     * The refusal of a {@link #tryAcquire(Duration)} with a negative {@code timeout}, in the shape of every
     * refusal of a timeout: the caller with its state (and its thread, if it is not the semaphore's; a thread
     * that has no scheduler as a thread, none being made for a message), the call, and this semaphore with
     * its permits free, e.g. {@code coroutine 'c' (state RUNNING) cannot tryAcquire a permit of
     * Semaphore[db, 3 of 10 permits free] with timeout PT-1S: a timeout must be zero or positive}.
     */
    private IllegalArgumentException negativeTimeout(Duration timeout) {
        Scheduler here = Scheduler.currentOrNull();
        String caller;
        if (here == null) {
            caller = Scheduler.describeCallerAndThread();
        } else {
            Context self = here.currentContext();
            caller = permits.caller(self) + " (state " + self.state() + ")";
        }
        return new IllegalArgumentException(caller + " cannot tryAcquire a permit of " + this + " with timeout " + timeout
                + ": a timeout must be zero or positive");
    }

    /**
     * Gives a permit back: the longest-waiting acquirer takes it (woken; the caller runs on), else it
     * is free again. It never waits for a permit, nor throws the signal of a caller being closed or
     * timed out: a release in a {@code finally} of a body being unwound gives its permit back. From
     * another thread, the first use of the semaphore there is posted to the semaphore's thread, as a
     * channel's (docs/THREADS.md), and the caller waits for the answer; but a caller being unwound does
     * not wait, and one whose wait for the answer is interrupted (closed, its {@code withTimeout}
     * expired; in main, a coroutine it created failed) stops waiting: the permit goes back all the same,
     * once that thread runs the post, and the interruption comes at the caller's next scheduling point. A
     * caller that cannot suspend to wait for the answer (docs/PINNING.md) does not wait either: the permit
     * goes back all the same. Such a release, not waited for, cannot be told that every permit was free already.
     *
     * @throws IllegalStateException if every permit is free already (more releases than acquires),
     *                               naming the caller (with its thread, if it is not the semaphore's; a thread
     *                               without a scheduler as a thread, refused in place on a semaphore other threads
     *                               share already, none being made for the refusal) and the semaphore; or if called from another
     *                               thread once the semaphore's thread has ended
     */
    public void release() {
        if (!permits.trySendKept(PERMIT)) {
            throw new IllegalStateException(permits.callerHere() + " cannot release " // a thread without a scheduler as a thread
                    + this + ": all its permits are free already (more releases than acquires)");
        }
    }

    /**
     * Runs {@code body} holding a permit: acquires one (parking while none is free), runs the body,
     * and releases the permit however the body ends. If the body threw and the release is refused too
     * (the body released the permit itself), the refusal is suppressed in the body's exception, as
     * try-with-resources suppresses a failing close; if the body returned, the refusal is thrown.
     *
     * @param body what to run
     * @param <T>  the body's result type
     * @return what the body returned
     * @throws NullPointerException if {@code body} is null
     * @throws RuntimeException     what the body threw, or what {@link #acquire()} throws (the body not run)
     * @throws IllegalStateException if the body returned and giving the permit back is refused, as {@link #release()}
     *                              refuses it
     * @throws CoroutineExit        if the caller is being closed, or a {@code withTimeout} of it expired: while it
     *                              waited for a permit (the body not run, no permit held) or in the body (the
     *                              permit given back)
     */
    public <T> T withPermit(Supplier<? extends T> body) {
        Objects.requireNonNull(body, "body");
        return callWithPermit(body::get);
    }

    /**
     * {@link #withPermit(Supplier)} for a body with no result. If the body threw and the release is refused
     * too (the body released the permit itself), the refusal is suppressed in the body's exception; if the
     * body returned, the refusal is thrown.
     *
     * @param body what to run
     * @throws NullPointerException if {@code body} is null
     * @throws RuntimeException     what the body threw, or what {@link #acquire()} throws (the body not run)
     * @throws IllegalStateException if the body returned and giving the permit back is refused, as {@link #release()}
     *                              refuses it
     * @throws CoroutineExit        if the caller is being closed, or a {@code withTimeout} of it expired: while it
     *                              waited for a permit (the body not run, no permit held) or in the body (the
     *                              permit given back)
     */
    public void withPermit(Runnable body) {
        Objects.requireNonNull(body, "body");
        withPermit(() -> {
            body.run();
            return null;
        });
    }

    /**
     * {@link #withPermit(Supplier)} for a body that may throw a checked exception, which comes out as it
     * is, as {@link Coroutine#callWithTimeout(java.time.Duration, ThrowingSupplier)} does for a timeout:
     * a query or a connection's read need not wrap their exceptions. A release refused after the body threw
     * is suppressed in its exception, as for {@link #withPermit(Supplier)}.
     *
     * <pre>{@code
     * String row = db.callWithPermit(() -> query(sql));  // throws SQLException
     * }</pre>
     *
     * @param body what to run
     * @param <T>  the body's result type
     * @param <X>  the checked exception {@code body} may throw
     * @return what the body returned
     * @throws X                    what the body threw
     * @throws NullPointerException if {@code body} is null
     * @throws RuntimeException     what the body threw, or what {@link #acquire()} throws (the body not run)
     * @throws IllegalStateException if the body returned and giving the permit back is refused, as {@link #release()}
     *                              refuses it
     * @throws CoroutineExit        if the caller is being closed, or a {@code withTimeout} of it expired: while it
     *                              waited for a permit (the body not run, no permit held) or in the body (the
     *                              permit given back)
     */
    public <T, X extends Exception> T callWithPermit(ThrowingSupplier<? extends T, X> body) throws X {
        Objects.requireNonNull(body, "body");
        acquire();
        T result;
        try {
            result = Callback.call(body);
        } catch (Throwable t) {
            releaseAfter(t);
            throw t;
        }
        release();
        return result;
    }

    /**
     * Gives back the permit of a body that threw {@code failure}: a release that fails too (refused: the body
     * released more than it acquired, or the semaphore's thread has ended) is suppressed in {@code failure},
     * as try-with-resources suppresses a failing close, not thrown in its place.
     */
    private void releaseAfter(Throwable failure) {
        try {
            release();
        } catch (RuntimeException | Error e) {
            if (e != failure) {
                failure.addSuppressed(e);
            }
        }
    }

    /**
     * {@link #callWithPermit(ThrowingSupplier)} for a body without a value, as
     * {@link #withPermit(Runnable)} is for {@link #withPermit(Supplier)}: a lambda whose expression has
     * a value takes the other form, one without (a block, a call of a {@code void} method) this one. A release
     * refused after the body threw is suppressed in its exception, as for {@link #withPermit(Supplier)}.
     *
     * @param body what to run
     * @param <X>  the checked exception {@code body} may throw
     * @throws X                    what the body threw
     * @throws NullPointerException if {@code body} is null
     * @throws RuntimeException     what the body threw, or what {@link #acquire()} throws (the body not run)
     * @throws IllegalStateException if the body returned and giving the permit back is refused, as {@link #release()}
     *                              refuses it
     * @throws CoroutineExit        if the caller is being closed, or a {@code withTimeout} of it expired: while it
     *                              waited for a permit (the body not run, no permit held) or in the body (the
     *                              permit given back)
     */
    public <X extends Exception> void callWithPermit(ThrowingRunnable<X> body) throws X {
        Objects.requireNonNull(body, "body");
        callWithPermit(() -> {
            body.run();
            return null;
        });
    }

    /**
     * How many permits are free now; any thread may ask.
     *
     * @return the free permits, 0 to the number it was made with
     */
    public int availablePermits() {
        return free(permits.size(), count);
    }

    /**
     * The permits free of a semaphore of {@code count} whose channel buffers {@code buffered}: that many, unless
     * a count read from another thread is out of range. From another thread, before the channel is shared, its
     * two counts (the buffer's, the permits given back) are read without a lock while its thread may move a permit
     * from one to the other (taken by an acquire, handed by a release to a waiter that is then cancelled and gives
     * it back): so the sum may count it twice, or, near {@code Integer.MAX_VALUE} permits, overflow. Never more are
     * free than it was made with.
     */
    static int free(int buffered, int count) {
        return buffered < 0 || buffered > count ? count : buffered;
    }

    /**
     * Its name.
     *
     * @return the name given, or {@code semaphore-N}
     */
    public String name() {
        return name;
    }

    /** For tests: how many slots its channel's buffer holds (none: it counts its permits). */
    int bufferRoom() {
        return permits.bufferRoom();
    }

    /** {@code Semaphore[db, 3 of 10 permits free]}. */
    @Override
    public String toString() {
        return describe(name, availablePermits(), count);
    }

    /**
     * {@code Semaphore[db, 3 of 10 permits free]}: also the words of its permits' channel, whose refusals
     * of the semaphore's calls (its thread having ended) name the semaphore, not the channel.
     */
    static String describe(String name, int free, int count) {
        return "Semaphore[" + SafeText.name(name) + ", " + free + " of " + count + " permits free]";
    }
}
