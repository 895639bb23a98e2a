package dev.coro;

import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Spliterator;
import java.util.function.Consumer;

/**
 * A FIFO queue of values between contexts, on which a context that cannot go on parks instead of
 * spinning.
 *
 * <p>A channel has a capacity: how many values it buffers; 0 makes it a rendezvous, where each
 * {@link #send} waits for the {@link #receive} that takes its value. It belongs to the thread that
 * created it, whose scheduler runs every operation on it; main may use it too, and so may contexts
 * of other threads: the first operation of another thread is posted to the channel's thread and run
 * there by the same rules; from then on the channel is <em>shared</em>, and every thread runs its
 * operations on it in place under the channel's lock, a waiter of another thread being woken through
 * its own thread's event loop (see docs/THREADS.md). The channel's thread must stay alive for that:
 * once it has ended, other threads can only receive the values it left in the buffer (each once, in
 * order: a value whose send succeeded is never lost); every other operation is refused.
 *
 * <h2>The rules, one per line</h2>
 * <ul>
 *   <li>{@code send} hands its value to the longest-waiting parked receiver if there is one (which
 *       is woken), else buffers it if the buffer has room, else parks until a receiver takes it.</li>
 *   <li>{@code receive} takes the oldest buffered value (refilling the buffer from the
 *       longest-waiting parked sender, which is woken), else takes a parked sender's value directly
 *       (capacity 0), else parks until a sender hands it one.</li>
 *   <li>Waking never switches: the woken context becomes {@code SUSPENDED} and the waker keeps
 *       running; a later {@code yield()}, switch or body end selects the woken one as usual.</li>
 *   <li>Parking moves the caller to {@link Coroutine.State#PARKED} and runs the previous entry of the
 *       run list that is not parked (the order of {@code yield()}: index - 1, wrapping from main to
 *       the last entry).</li>
 *   <li>{@code yield()} and the end of a body skip parked entries the same way; a program that
 *       never parks runs in exactly the seed's order.</li>
 *   <li>If parking would leave no runnable context, the operation throws {@link DeadlockException}
 *       naming every parked context and its wait, and the caller does not park; unless the thread has
 *       exchanged something with another thread, or a {@link CoroutinePool} is open: another thread may
 *       still wake it then, and the caller waits (docs/THREADS.md).</li>
 *   <li>If a body ends and every context left is parked, main's wait is cancelled: its pending
 *       operation throws {@link DeadlockException}.</li>
 *   <li>A failed body's {@link CoroutineException} goes to its creator unless the creator is parked
 *       or gone, then to main; if main is parked, its wait is cancelled and its operation throws it.</li>
 *   <li>{@code switchTo()} a parked coroutine throws {@link IllegalStateException}: only the channel
 *       wakes it. {@code close()} a parked coroutine unwinds it: its operation throws
 *       {@link CoroutineExit} and it leaves the channel's queue (but see the last rule).</li>
 *   <li>{@code close()} keeps the buffered values for receivers; parked senders and parked
 *       receivers are woken, and their operations throw {@link ChannelClosedException}.</li>
 *   <li>A receiver whose wait is cancelled after it was handed a value (a close of its coroutine, a
 *       failure for it, before it ran) puts the value back while the channel is open: the
 *       longest-waiting receiver takes it, else it goes to the head of the buffer, before every value
 *       buffered and among those given back in the order of their sends. A full buffer then
 *       holds one more than its capacity until that value is taken, and no parked sender's value
 *       joins it before there is room.</li>
 *   <li>Once the channel is closed nothing goes back into it (a receive may have been told it is
 *       closed and drained): a receiver handed a value before the close keeps it. Its operation
 *       ({@code receive}, the iterator, a timed {@code tryReceive}, a select's {@code onReceive})
 *       returns the value, and what cancelled its wait comes at its next scheduling point: the
 *       signal of a close or of an expired {@code withTimeout} again, a failure as it is (a body
 *       that ends before that point fails with it, and {@code VirtualTime.run} throws one kept for
 *       main if it returns first). Nothing is lost: every value whose send succeeded is received
 *       exactly once.</li>
 * </ul>
 *
 * <p>Memory consistency effects: as with a {@link java.util.concurrent.BlockingQueue}, actions in a
 * thread before it sends a value to a channel <i>happen-before</i> the actions that follow the receipt
 * of that value on another thread (a {@code receive}, a {@code tryReceive}, the iterator, a select's
 * {@code onReceive}), and actions before a {@code close()} happen-before those that follow another
 * thread's operation that finds the channel closed. Whichever way the value goes: posted to the
 * channel's thread, handed over under the channel's lock, or taken from the buffer a thread that has
 * ended left behind. Within one thread the contexts run one at a time, in the order the rules above
 * give.
 *
 * @param <T> the type of the values; null is not a value
 */
public final class Channel<T> implements Iterable<T>, AutoCloseable {

    private final Scheduler scheduler;
    /** The channel's thread and its inbox, kept here so that another thread waking a waiter of it reads no line of that thread's but the inbox's. */
    private final Thread ownerThread;
    private final Inbox ownerInbox;
    private final String name;
    private final int capacity;
    private final Fifo<T> buffer;
    /**
     * The values given back ({@link #putBack}), which come out before the buffer's: {@link #back} of
     * them, head first, with their places in the order of hand-offs, ascending.
     */
    private T[] backValues;
    private long[] backOrder;
    private int back;
    /** How many values have been handed to waiting receivers: the last place in the order of hand-offs. */
    private long handOffs;
    private final WaitQueue<ChannelWaiter<T>> senders = new WaitQueue<>();
    private final WaitQueue<ChannelWaiter<T>> receivers = new WaitQueue<>();
    /** The lock of a shared channel: made next to the queues it guards, and apart from the fields every thread reads. */
    private final SpinLock guard = new SpinLock();
    private volatile boolean closed;
    /**
     * What a {@link #close(Throwable)} gave as the reason (a producer's failure); null for a plain close.
     * Written before {@link #closed}, so a thread that sees the channel closed sees it too.
     */
    private volatile Throwable closeCause;
    /**
     * Whether a context of another thread has used it: then every operation takes the lock, and its
     * waits are not deadlocks. Set once, by the channel's thread, when it runs the first operation
     * posted by another thread; never cleared.
     */
    private volatile boolean shared;
    /** Whether a select of another thread has asked this channel's thread to share it ({@link #askToShare}); set once. */
    private volatile boolean shareAsked;
    /**
     * Whether its values are a {@link Semaphore}'s permits: once its thread has ended, a receive of another
     * thread takes none left in the buffer ({@link #ownerEnded(RemoteOp, Context, String)}), as no release
     * could give it back; that acquire is refused instead, as every other operation then is.
     */
    private final boolean permits;
    /**
     * For the channel of a {@link RemoteClose} only: the close of a listener or a connection, run on this
     * channel's thread by the channel's first close, before the channel is marked closed; null for any other.
     */
    private final Runnable beforeClose;
    /**
     * How many runs of a {@link Select} without a default or a zero timeout, of this channel's thread,
     * look at this channel or wait on it now (changed by its thread only, under the lock if it is shared): while
     * one does, a clause may be queued here, and a clause is completed only on the channel's thread
     * (its select's other clauses leave their queues at once), so other threads then post their
     * operations instead of running them in place. Once none does, they run them in place again.
     */
    private int selecting;
    /**
     * How many operations of other threads have been queued here since the queues were last swept of
     * the waiters whose thread has ended ({@link #queueFromAfar}); under the lock if it is shared.
     */
    private int queuedFromAfar;
    /** At how many operations of other threads queued the next sweep comes: as many as the last sweep left queued, at least 16. */
    private int sweepAt = MIN_SWEEP;
    /** The fewest operations of other threads queued between two sweeps. */
    private static final int MIN_SWEEP = 16;
    /**
     * Creates a channel named {@code channel-N} (N counting the thread's channels from 1, or those of
     * the {@link VirtualTime#run} it is created in).
     *
     * @param capacity how many values it buffers; 0 for a rendezvous (a buffer holds at most 2^30 values,
     *                 whatever its capacity: a send that would buffer more throws {@code OutOfMemoryError})
     * @throws IllegalArgumentException if {@code capacity} is negative
     */
    public Channel(int capacity) {
        this(null, capacity);
    }

    /**
     * Creates a named channel.
     *
     * @param name     the name shown by {@link #toString()}, dumps and error messages (made safe for one line as for
     *                 {@link Coroutine#create(String, Runnable)}); null for a default one
     * @param capacity how many values it buffers; 0 for a rendezvous (a buffer holds at most 2^30 values,
     *                 whatever its capacity: a send that would buffer more throws {@code OutOfMemoryError})
     * @throws IllegalArgumentException if {@code capacity} is negative
     */
    public Channel(String name, int capacity) {
        this(name, capacity, null);
    }

    /**
     * Creates a channel; with a {@code permit}, the channel of a {@link Semaphore}'s permits
     * ({@link #permits}): full of {@code capacity} copies of that one value, which its buffer counts
     * instead of holding them ({@link Fifo#Fifo(Object, int)}), so that a semaphore of millions of
     * permits takes no room for them and is made at once; it takes no number from the thread's count,
     * so that the user's channels are named alike with or without it.
     */
    Channel(String name, int capacity, T permit) {
        this.permits = permit != null;
        this.beforeClose = null;
        Scheduler s = Scheduler.currentOrNull(); // a refusal makes the thread no scheduler (SEMANTICS)
        this.name = name != null ? name : "channel-" + ((s == null ? 0 : s.channelsCreated) + 1);
        if (capacity < 0) {
            throw new IllegalArgumentException(Scheduler.describeCaller() + " cannot create " + describe()
                    + " with capacity " + capacity
                    + ": the capacity must be 0 (rendezvous) or more");
        }
        this.scheduler = s != null ? s : Scheduler.current();
        this.ownerThread = scheduler.owner;
        this.ownerInbox = scheduler.loop.inbox;
        if (permit == null) {
            this.buffer = new Fifo<>(this);
            scheduler.channelsCreated++; // counted once it is made: one that failed for want of memory numbers none
        } else {
            this.buffer = new Fifo<>(permit, capacity);
        }
        this.capacity = capacity;
    }

    /**
     * The channel of a {@link RemoteClose}, made by another thread for {@code owner}'s: a rendezvous no value
     * ever passes, whose first close (posted to {@code owner}'s thread when another thread makes it, as
     * any channel's) runs {@code beforeClose} there. It takes no number from the thread's count, and
     * it is described by {@code name} alone, e.g. {@code connection /127.0.0.1:40000 -> /127.0.0.1:8080},
     * so that a wait for it reads {@code close connection ... of thread ...}.
     */
    Channel(Scheduler owner, String name, Runnable beforeClose) {
        this.permits = false;
        this.beforeClose = beforeClose;
        this.scheduler = owner;
        this.ownerThread = owner.owner;
        this.ownerInbox = owner.loop.inbox;
        this.name = name;
        this.buffer = new Fifo<>();
        this.capacity = 0;
    }

    /**
     * Sends {@code value}: hands it to a parked receiver, or buffers it, or parks until a receiver
     * takes it. From another thread, a send to a channel closed already is refused at once, as a
     * second {@link #close()} returns at once: nothing is posted to the channel's thread (as for
     * {@link #trySend}, which then returns false).
     *
     * @param value the value; not null
     * @throws ChannelClosedException if the channel is closed, or gets closed while the caller waits
     * @throws DeadlockException      if waiting would leave nothing to run and nothing pending on this thread
     *                                (no timer, no wait for I/O or for another thread) while the thread has
     *                                exchanged nothing with another thread and no {@link CoroutinePool} is open
     *                                (otherwise it waits for a wake-up, as docs/THREADS.md says); in main, also
     *                                if its wait is cancelled as a body ends leaving every context of such a
     *                                thread parked
     * @throws CoroutineExit          if the caller is being closed, or a {@code withTimeout} of it expired
     * @throws CoroutineException     if a coroutine the caller created failed: while it waited (main only: its
     *                                wait is cancelled, the value not delivered, unless a receiver of another thread
     *                                had taken it, its wake-up on its way), or after it was woken, before it ran
     *                                again (a value already taken stays delivered: see the class comment)
     * @throws IllegalStateException  if called from another thread when the channel's thread has ended leaving it open, or it ends before completing the operation;
     *                                if the caller cannot suspend to wait (the JDK refuses it here, docs/PINNING.md; or, on
     *                                the thread engine, no thread can be started for the context that would run instead, or
     *                                its body waits for a class initializer this thread is running, docs/ENGINES.md), unless a post of
     *                                another thread that the park ran first completed the wait: then it returns what it did; in main, also if no thread can be started for the context chosen as a body
     *                                ends while it waits (its wait is cancelled; a value a receiver took before stays delivered,
     *                                as the message says); the message names the caller, the wait and why
     * @throws NullPointerException   if {@code value} is null
     */
    public void send(T value) {
        Objects.requireNonNull(value, "value");
        if (!scheduler.isCaller()) {
            sendFromAfar(value);
            return;
        }
        ChannelWaiter<T> w = null;
        try {
            boolean locked = acquire();
            try {
                if (closed) {
                    throw sendRefused(scheduler.currentContext(), NOT_DELIVERED);
                }
                if (offer(value)) {
                    return;
                }
                w = queue(senders, waiter(true, value));
            } finally {
                release(locked);
            }
            await(w, senders);
        } catch (Throwable t) {
            Context c;
            if (w != null && w.queued && (c = w.context).unfinishedCleanup == null) {
                // it overflowed before parkOn's guard (whose doc says more): marked by field writes alone
                // (nothing is kept in pendingThrow: queue() checked it, and no switch came since)
                c.unfinishedCleanup = w;
                c.pendingThrow = Context.CLEANUP_LEFT;
                c.finishCleanup();
            }
            throw t;
        }
        taken(w);
        if (w.closed) {
            throw sendRefused(w.context, CLOSED_WHILE_IT_WAITED);
        }
    }

    /**
     * The failure of a send by {@code caller}, refused because {@code why}, in the shape of every refusal:
     * the caller, the operation, this channel and its state, the reason, e.g. {@code coroutine 'p' cannot
     * send to channel 'jobs' (closed): a closed channel takes no more values, and the value was not delivered}.
     * Apart from the send, so that it stays small.
     */
    private ChannelClosedException sendRefused(Context caller, String why) {
        return new ChannelClosedException(caller(caller) + " cannot send to " + describe() + " (" + state() + "): " + why, this);
    }

    /**
     * {@link #send} by another thread than the channel's: in place if the channel is shared, else posted
     * to its thread. A channel closed already refuses it at once, as a second {@link #close()} returns at
     * once, rather than posting it to the channel's thread, which may be blocked outside coro waiting for
     * this one. Apart from the send, so that the send of the channel's own thread stays small.
     */
    private void sendFromAfar(T value) {
        if (closed) {
            throw new ChannelClosedException(callerHere() + " cannot send to " + describe() + " (" + state() + "): "
                    + NOT_DELIVERED, this);
        }
        if (offerFromAfar(value)) {
            return;
        }
        RemoteOp<T> r = remote(RemoteOp.SEND, value, -1, "send to");
        if (r.closed) {
            throw sendRefused(r.context, r.waited ? CLOSED_WHILE_IT_WAITED : NOT_DELIVERED);
        }
    }

    /** Why a send that waited fails when the channel is closed meanwhile, whichever thread the sender's is. */
    private static final String CLOSED_WHILE_IT_WAITED = "the channel was closed while it waited, and the value was not delivered";
    /**
     * Why a closed channel refuses a send (or a select's {@code onSend}), with the value's fate, in the same words on
     * whichever thread the sender's is.
     */
    static final String NOT_DELIVERED = "a closed channel takes no more values, and the value was not delivered";
    /** Why a closed and drained channel refuses a receive (or a select's {@code onReceive}, the iterator's {@code next()}). */
    static final String NONE_LEFT = "no value is left in it, and none can come";

    /**
     * Sends {@code value} if that needs no waiting: hands it to a parked receiver or buffers it. Like
     * every {@code try} call it never throws for a closed channel: false then means "not sent", and
     * {@link #isClosed()} tells a closed channel from a full one.
     *
     * @param value the value; not null
     * @return true if it was sent; false if the buffer is full and no receiver waits, or the channel is closed
     * @throws CoroutineExit          if called from another thread where the call must be posted to the channel's thread and
     *                                wait for its answer (docs/THREADS.md), and the caller is being closed, or a
     *                                {@code withTimeout} of it expired, before the call or while it waits: posted with the
     *                                signal pending, it sent nothing; a value a receiver took meanwhile stays delivered, as for
     *                                {@link #send(Object)}
     * @throws CoroutineException     so posted, in main, if a coroutine it created failed while it waited for the answer, as for
     *                                {@link #send(Object)}
     * @throws IllegalStateException  if called from another thread when the channel's thread has ended leaving it open, or it ends before completing the operation;
     *                                or, so posted, if the caller cannot suspend to wait for the answer (docs/PINNING.md): the
     *                                call is withdrawn and sent nothing, unless the channel's thread ran it first, when it
     *                                returns what it did instead of throwing
     * @throws NullPointerException   if {@code value} is null
     */
    public boolean trySend(T value) {
        Objects.requireNonNull(value, "value");
        if (!scheduler.isCaller()) {
            return !closed && (offerFromAfar(value) || remote(RemoteOp.TRY_SEND, value, -1, "trySend to").ok); // closed: as send
        }
        boolean locked = acquire();
        try {
            return !closed && offer(value);
        } finally {
            release(locked);
        }
    }

    /**
     * {@link #trySend} for a value that must not be lost however its caller ends: a {@link Semaphore}'s
     * permit, given back in a {@code finally}. On this channel's thread, and from another thread where the
     * call runs in place (a shared channel), it is {@code trySend}. Where it must be posted to this
     * channel's thread, it is posted as a close is, not as a try call: with a signal pending for the caller
     * (it is being closed, or a {@code withTimeout} of it expired) it is posted and not waited for, and
     * returns true; once posted it runs, though the caller's wait for the answer is interrupted meanwhile
     * (then it returns true, and the signal, or in main the failure of a coroutine it created, comes at the
     * caller's next scheduling point instead of from this call), or the caller cannot suspend to wait for it
     * (then it returns true, unless this channel's thread ran it first). Only a call that waited for the
     * answer can be told that the value was refused.
     *
     * @param value the value; not null
     * @return false if the channel refused the value (full, or closed); true if it took it, or if the
     *         caller did not wait for the answer: the channel's thread then sends it as it runs the post
     * @throws IllegalStateException if called from another thread when the channel's thread has ended leaving it open, or it ends before completing the operation
     */
    boolean trySendKept(T value) {
        Objects.requireNonNull(value, "value");
        if (!scheduler.isCaller()) {
            int inPlace = keptOfferFromAfar(value);
            if (inPlace != ASK) {
                return inPlace == SENT;
            }
            RemoteOp<T> r = remote(RemoteOp.KEPT_SEND, value, -1, "trySend to");
            return r.unawaited || r.ok;
        }
        boolean locked = acquire();
        try {
            return !closed && offer(value);
        } finally {
            release(locked);
        }
    }

    /**
     * Receives the oldest value, parking until there is one.
     *
     * @return the value
     * @throws ChannelClosedException if the channel is closed and drained, or gets closed while the caller waits
     * @throws DeadlockException      if waiting would leave nothing to run and nothing pending on this thread
     *                                (no timer, no wait for I/O or for another thread) while the thread has
     *                                exchanged nothing with another thread and no {@link CoroutinePool} is open
     *                                (otherwise it waits for a wake-up, as docs/THREADS.md says); in main, also
     *                                if its wait is cancelled as a body ends leaving every context of such a
     *                                thread parked
     * @throws CoroutineExit          if the caller is being closed, or a {@code withTimeout} of it expired
     * @throws CoroutineException     if a coroutine the caller created failed: while it waited (main only: its
     *                                wait is cancelled), or after it was woken, before it ran again (a value it
     *                                was handed goes back; once the channel is closed, the receive returns that
     *                                value instead and the failure comes at the next scheduling point: see the
     *                                class comment)
     * @throws IllegalStateException  if called from another thread when the channel's thread has ended leaving it open and no value in the buffer, or it ends before completing the operation;
     *                                if the caller cannot suspend to wait (the JDK refuses it here, docs/PINNING.md; or, on
     *                                the thread engine, no thread can be started for the context that would run instead, or
     *                                its body waits for a class initializer this thread is running, docs/ENGINES.md), unless a post of
     *                                another thread that the park ran first completed the wait: then it returns what it did; in main, also if no thread can be started for the context chosen as a body
     *                                ends while it waits (its wait is cancelled); the message names the caller, the wait and why
     */
    public T receive() {
        T v = receiveOrNull("receive from");
        if (v == null) {
            throw closedAndDrained("receive from");
        }
        return v;
    }

    /**
     * Receives the oldest value if there is one without waiting. Like every {@code try} call it never
     * throws for a closed channel: empty then means "nothing to take", and {@link #isClosed()} tells a
     * closed and drained channel from an empty open one.
     *
     * @return the value; empty if none is buffered and no sender waits, or the channel is closed and drained
     * @throws CoroutineExit          if called from another thread where the call must be posted to the channel's thread and
     *                                wait for its answer (docs/THREADS.md), and the caller is being closed, or a
     *                                {@code withTimeout} of it expired, before the call or while it waits: it took nothing (a
     *                                value it was handed meanwhile goes back, as for {@link #receive()})
     * @throws CoroutineException     so posted, in main, if a coroutine it created failed while it waited for the answer, as for
     *                                {@link #receive()}
     * @throws IllegalStateException  if called from another thread when the channel's thread has ended leaving it open and no value in the buffer, or it ends before completing the operation;
     *                                or, so posted, if the caller cannot suspend to wait for the answer (docs/PINNING.md): the
     *                                call is withdrawn and took nothing, unless the channel's thread ran it first, when it
     *                                returns what it took instead of throwing
     */
    public Optional<T> tryReceive() {
        if (!scheduler.isCaller()) {
            T v = pollFromAfar();
            return Optional.ofNullable(v != null || closedAndDrainedFromAfar() ? v
                    : remote(RemoteOp.TRY_RECEIVE, null, -1, "tryReceive from").value);
        }
        boolean locked = acquire();
        try {
            return Optional.ofNullable(poll());
        } finally {
            release(locked);
        }
    }

    /**
     * Receives the oldest value, waiting at most {@code timeout} for one. A receive that times out
     * has taken nothing. Like every {@code try} call it never throws for a closed channel: empty then
     * means "nothing to take", also if the channel is closed while the caller waits.
     *
     * @param timeout how long to wait at most, on the scheduler's clock; zero is {@link #tryReceive()}
     * @return the value; empty if none came in time, or the channel is closed and drained
     * @throws IllegalArgumentException if {@code timeout} is negative (naming the caller, the channel and its state)
     * @throws DeadlockException        if its deadline is past the clock's range (no timer is set) and waiting
     *                                  would leave nothing to run and nothing pending on this thread while the
     *                                  thread has exchanged nothing with another thread and no {@link CoroutinePool}
     *                                  is open (otherwise it waits for a wake-up, as docs/THREADS.md says)
     * @throws CoroutineExit            if the caller is being closed, or a {@code withTimeout} of it expired
     * @throws CoroutineException       if a coroutine the caller created failed, as for {@link #receive()}
     * @throws IllegalStateException    if called from another thread when the channel's thread has ended leaving it open and no value in the buffer, or it ends before completing the operation;
     *                                  as for {@link #receive()}, if the caller cannot suspend to wait
     * @throws NullPointerException     if {@code timeout} is null
     */
    public Optional<T> tryReceive(Duration timeout) {
        long nanos = timeoutNanos(timeout, "tryReceive from");
        if (!scheduler.isCaller()) {
            T v = pollFromAfar();
            if (v != null || closedAndDrainedFromAfar()) {
                return Optional.ofNullable(v);
            }
            RemoteOp<T> r = remote(nanos == 0 ? RemoteOp.TRY_RECEIVE : RemoteOp.RECEIVE, null, nanos, "tryReceive from");
            return r.done && !r.closed ? Optional.ofNullable(r.value) : Optional.empty();
        }
        ChannelWaiter<T> w = null;
        boolean got;
        try {
            boolean locked = acquire();
            try {
                T v = poll();
                if (v != null || closed || nanos == 0) {
                    return Optional.ofNullable(v);
                }
                w = queue(receivers, timed(waiter(false, null), nanos));
            } finally {
                release(locked);
            }
            got = awaitAtMost(w, receivers, nanos) && !w.closed;
        } catch (Throwable t) {
            Context c;
            if (w != null && w.queued && (c = w.context).unfinishedCleanup == null) {
                // it overflowed before parkOn's guard (whose doc says more): marked by field writes alone
                // (nothing is kept in pendingThrow: queue() checked it, and no switch came since)
                c.unfinishedCleanup = w;
                c.pendingThrow = Context.CLEANUP_LEFT;
                c.finishCleanup();
            }
            throw t;
        }
        T v = taken(w);
        return got ? Optional.of(v) : Optional.empty();
    }

    /**
     * Sends {@code value}, waiting at most {@code timeout} for a receiver or for room in the buffer.
     * A send that times out has delivered nothing: the value is still the caller's. Like every
     * {@code try} call it never throws for a closed channel: false then means "not sent", also if the
     * channel is closed while the caller waits.
     *
     * @param value   the value; not null
     * @param timeout how long to wait at most, on the scheduler's clock; zero is {@link #trySend(Object)}
     * @return true if it was sent; false if it timed out or the channel is closed
     * @throws IllegalArgumentException if {@code timeout} is negative (naming the caller, the channel and its state)
     * @throws DeadlockException        if its deadline is past the clock's range (no timer is set) and waiting
     *                                  would leave nothing to run and nothing pending on this thread while the
     *                                  thread has exchanged nothing with another thread and no {@link CoroutinePool}
     *                                  is open (otherwise it waits for a wake-up, as docs/THREADS.md says)
     * @throws CoroutineExit            if the caller is being closed, or a {@code withTimeout} of it expired
     * @throws CoroutineException       if a coroutine the caller created failed, as for {@link #send(Object)}
     * @throws IllegalStateException    if called from another thread when the channel's thread has ended leaving it open, or it ends before completing the operation;
     *                                  as for {@link #send(Object)}, if the caller cannot suspend to wait
     * @throws NullPointerException     if {@code value} or {@code timeout} is null
     */
    public boolean trySend(T value, Duration timeout) {
        Objects.requireNonNull(value, "value");
        long nanos = timeoutNanos(timeout, "trySend to");
        if (!scheduler.isCaller()) {
            return !closed // closed: as send
                    && (offerFromAfar(value) || remote(nanos == 0 ? RemoteOp.TRY_SEND : RemoteOp.SEND, value, nanos, "trySend to").ok);
        }
        ChannelWaiter<T> w = null;
        boolean sent;
        try {
            boolean locked = acquire();
            try {
                if (closed) {
                    return false;
                }
                if (offer(value)) {
                    return true;
                }
                if (nanos == 0) {
                    return false;
                }
                w = queue(senders, timed(waiter(true, value), nanos));
            } finally {
                release(locked);
            }
            sent = awaitAtMost(w, senders, nanos) && !w.closed;
        } catch (Throwable t) {
            Context c;
            if (w != null && w.queued && (c = w.context).unfinishedCleanup == null) {
                // it overflowed before parkOn's guard (whose doc says more): marked by field writes alone
                // (nothing is kept in pendingThrow: queue() checked it, and no switch came since)
                c.unfinishedCleanup = w;
                c.pendingThrow = Context.CLEANUP_LEFT;
                c.finishCleanup();
            }
            throw t;
        }
        taken(w);
        return sent;
    }

    /**
     * Closes the channel: no more sends. Buffered values stay for receivers; parked senders and
     * receivers are woken and their operations throw {@link ChannelClosedException}. Closing twice
     * is fine: from another thread too, a close of a channel closed already returns at once, posting
     * nothing to the channel's thread. It never waits in the channel's queue, so a body being unwound (closed, or its
     * {@code withTimeout} expired) may close the channel in a {@code finally}, also from another
     * thread: there a close that must be posted to the channel's thread is then not waited for. One
     * posted that is waited for, its caller closed or its {@code withTimeout} expiring meanwhile,
     * throws the signal, and the channel's thread closes the channel all the same. One whose caller cannot
     * suspend to wait for the answer (docs/PINNING.md) is not waited for: it returns, and that thread closes the
     * channel.
     *
     * @throws CoroutineExit         if called from another thread where the close must be posted to the channel's thread and
     *                               wait for its answer (docs/THREADS.md), and the caller is closed, or a {@code withTimeout}
     *                               of it expires, while it waits: the channel is closed all the same
     * @throws CoroutineException    so posted, in main, if a coroutine it created failed while it waited for the answer: the
     *                               channel is closed all the same
     * @throws IllegalStateException if called from another thread when the channel's thread has ended leaving it open, or it ends before completing the operation
     */
    @Override
    public void close() {
        closeFor(null);
    }

    /**
     * Closes the channel as {@link #close()} does, saying why: {@code cause}, a producer's failure say,
     * becomes the cause of every {@link ChannelClosedException} an operation on the channel throws from
     * then on, and a loop over it no longer ends as if the producer had finished: once the buffered
     * values are taken, the iterator's {@code hasNext()} throws that exception instead of returning
     * false (a stream over the channel too). The {@code try} operations still never throw. Only the
     * first close counts: closing a closed channel, with a cause or not, changes nothing.
     *
     * @param cause why the channel closed
     * @throws NullPointerException  if {@code cause} is null
     * @throws CoroutineExit         as {@link #close()}
     * @throws CoroutineException    as {@link #close()}
     * @throws IllegalStateException as {@link #close()}
     */
    public void close(Throwable cause) {
        closeFor(Objects.requireNonNull(cause, "cause"));
    }

    /**
     * Why the channel was closed: the cause given to {@link #close(Throwable)}. Any thread may ask.
     *
     * @return the cause; empty while open, and if closed by {@link #close()}
     */
    public Optional<Throwable> closeCause() {
        return Optional.ofNullable(closeCause);
    }

    /** {@link #close()} and {@link #close(Throwable)}: {@code cause} null for a plain close. */
    @SuppressWarnings("unchecked")
    private void closeFor(Throwable cause) {
        if (!scheduler.isCaller()) {
            if (closed) {
                return; // only the first close counts: nothing to post, nor to wait for a channel's thread that may be blocked
            }
            remote(RemoteOp.CLOSE, (T) cause, -1, "close"); // a close carries no value: its cause rides in the value's place
            return;
        }
        boolean locked = acquire();
        try {
            closeHere(cause);
        } finally {
            release(locked);
        }
    }

    /**
     * For the channel of a {@link RemoteClose}, from another thread than its own: closes it as {@link #close()}
     * does, and says whether this call's close was the one that closed it, running {@code beforeClose}, and its
     * caller waited for it. A close that found the channel closed, or ran after that one, or whose caller did not
     * wait for it (a signal pending, or a caller that cannot suspend), says false.
     *
     * <p>What {@code beforeClose} wrote on the channel's thread happens-before a true answer: it is written before
     * the close completes the caller's operation ({@link RemoteOp#completeWith}, a volatile write of its
     * ticket's state), which the caller reads done before it reads the answer.
     *
     * @return whether the channel was closed by this call, which waited for it
     * @throws CoroutineExit         as {@link #close()}
     * @throws CoroutineException    as {@link #close()}
     * @throws IllegalStateException as {@link #close()}
     */
    boolean closeFirstFromAfar() {
        assert beforeClose != null && !scheduler.isCaller() : describe() + " closed as a RemoteClose's from its own thread";
        if (closed) {
            return false; // a second close: it returns at once, as close() does
        }
        RemoteOp<T> r = remote(RemoteOp.CLOSE, null, -1, "close");
        return !r.unawaited && r.ticket.isDone() && r.ok; // unawaited: the channel's thread may be writing r meanwhile
    }

    /**
     * Closes the channel, waking every waiter (the lock held, if it is shared). A value given back
     * while a select waited here is buffered with receivers still waiting (see {@link #giveBackFromAfar}):
     * they take the buffered values first, and only the rest learn that it is closed.
     *
     * @return whether this call closed it: false if it was closed already
     */
    private boolean closeHere(Throwable cause) {
        if (closed) {
            return false;
        }
        if (beforeClose != null) {
            beforeClose.run(); // first: a caller that finds the channel closed finds what it closes closed too
        }
        closeCause = cause;
        closed = true;
        handBuffered();
        for (ChannelWaiter<T> w; (w = pollLocked(receivers)) != null; ) {
            w.complete(true);
        }
        for (ChannelWaiter<T> w; (w = pollLocked(senders)) != null; ) {
            w.complete(true);
        }
        return true;
    }

    /**
     * An iterator that receives: {@code hasNext()} parks until a value arrives, and returns false
     * once the channel is closed and drained. Each call makes a new iterator on the same channel. An
     * iterator receives for one context at a time: while one waits in its {@code hasNext()} (or
     * {@code next()}), another context's call throws {@link IllegalStateException} naming both, as each
     * would be handed a value and the iterator holds one; give each context its own. An iterator belongs
     * to the thread that called this method: a call of it from another thread throws
     * {@link IllegalStateException} naming the caller and both threads, taking nothing (each thread makes
     * its own, as a {@code for} loop over the channel does). Made on a thread that has no scheduler yet, it ends
     * (or, on a channel closed with a cause, is refused) there while it finds the channel closed and drained, as a
     * receive is answered there, making none; its first call that must receive makes it.
     *
     * @return a receiving iterator, for the contexts of the calling thread
     */
    @Override
    public Iterator<T> iterator() {
        Scheduler here = Scheduler.currentOrNull();
        return here != null ? new Receiving(here) : new ReceivingWithoutAScheduler();
    }

    /**
     * Receives each value until the channel is closed and drained, handing it to {@code action}, as a
     * {@code for} loop over the channel does (through a new {@link #iterator()}); a null {@code action}
     * is refused naming it before anything is received, where {@link Iterable}'s default names nothing.
     *
     * @param action what each value is handed to
     * @throws NullPointerException  if {@code action} is null
     * @throws ChannelClosedException once the values are taken, if the channel was closed with a cause
     *                               ({@link #close(Throwable)})
     * @throws IllegalStateException as {@link #iterator()}'s {@code hasNext()}
     */
    @Override
    public void forEach(Consumer<? super T> action) {
        Objects.requireNonNull(action, "action");
        for (T v : this) { // Iterable's default, through a frame that tells where the action begins
            Callback.accept(action, v);
        }
    }

    /**
     * The values a receiving iterator ({@link #iterator()}) takes, as the source of a stream over this
     * channel ({@code StreamSupport.stream(channel.spliterator(), parallel)}): ordered, never null (a
     * channel takes no null), of unknown size (estimated as {@code Long.MAX_VALUE} until it has seen the
     * channel closed and drained, then as 0), and never split, so that even a parallel stream receives
     * every value once, in order, on the thread that runs its terminal operation, and no sooner than the
     * stream takes it. {@link Iterable}'s default would split off batches of the iterator, receiving up to
     * thousands of values (and waiting for them) before the stream took the first, and hand the rest of
     * the iterator to worker threads, which it refuses.
     *
     * @return a receiving spliterator, for the contexts of the calling thread, as {@link #iterator()}'s
     */
    @Override
    public Spliterator<T> spliterator() {
        Iterator<T> values = iterator();
        return new OneAtATime<>(values::hasNext, values::next, Spliterator.ORDERED | Spliterator.NONNULL);
    }

    /**
     * The iterator of {@link #iterator()}, a class of its own so that a context parked in it shows
     * {@code Channel$Receiving.hasNext} (or {@code .next}), the call its user made, in stack traces.
     */
    private final class Receiving implements Iterator<T> {
        /**
         * The scheduler of the thread that called {@link #iterator()}: only its contexts may use the
         * iterator, whose fields are then touched by one thread at a time and need no atomic operation
         * (each thread makes its own iterator, as a {@code for} loop does).
         */
        private final Scheduler user;
        /** The value received and not yet taken; null if none. */
        private T next;
        /**
         * The context waiting in this iterator's receive, while one is; null otherwise. Another context's
         * {@code hasNext()} meanwhile is refused: each would be handed a value, and the iterator holds one,
         * so one value would be lost.
         */
        private Context receiving;

        /** An iterator for the contexts of {@code user}'s thread, the calling one. */
        Receiving(Scheduler user) {
            this.user = user;
        }

        @Override
        public boolean hasNext() {
            checkUser("iterate over");
            if (next == null) {
                Context self = user.currentContext();
                Context other = receiving;
                if (other != null) {
                    throw new IllegalStateException(caller(self) + " cannot iterate over " + describe() + " (" + state()
                            + "): this iterator is receiving already, in " + caller(other) + " (state "
                            + other.state() + "); an iterator receives for one context at a time, so give each context its own"
                            + " (each call of iterator() makes a new one)");
                }
                receiving = self;
                try {
                    next = iterateOrNull();
                } finally {
                    receiving = null;
                }
                if (next == null && closeCause != null) {
                    throw closedAndDrained("iterate over"); // closed for a reason: not the end of a producer's values
                }
            }
            return next != null;
        }

        /**
         * Refuses a call from a thread other than the one that made the iterator, naming the caller and
         * its thread, the call, the channel with its state and that thread (saying that it has ended, as
         * the channel's own refusals do): two threads would receive through it at once, and one value
         * overwrite another.
         */
        private void checkUser(String operation) {
            if (!user.isCaller()) {
                throw notTheIteratorsThread(operation, user.owner);
            }
        }

        @Override
        public T next() {
            if (!hasNext()) {
                throw new NoSuchElementException(caller(user.currentContext())
                        + " cannot take the next value of " + describe() + " (" + state() + "): " + NONE_LEFT);
            }
            T v = next;
            next = null;
            return v;
        }

        /** As {@link Iterator}'s default, but a null {@code action} is refused naming it, before the value held or any other is taken. */
        @Override
        public void forEachRemaining(Consumer<? super T> action) {
            Objects.requireNonNull(action, "action");
            Iterator.super.forEachRemaining(action);
        }

        /**
         * Refused: a receive takes a value out of the channel, and there is nothing left to remove. Said in
         * the shape of every refusal, where {@link Iterator}'s default says only {@code remove}.
         */
        @Override
        public void remove() {
            throw removeRefused();
        }
    }

    /**
     * The iterator of {@link #iterator()} made on a thread that has no scheduler: while it finds this channel closed and
     * drained as read in place ({@link #closedAndDrainedFromAfar}), it ends (or, closed with a cause, is refused naming
     * the thread) as a receive from there is answered, making none; its first call that must receive makes the thread's
     * scheduler and a {@link Receiving} of its own, which every later call goes through. It belongs to that thread too.
     */
    private final class ReceivingWithoutAScheduler implements Iterator<T> {
        /** The thread that called {@link #iterator()}. */
        private final Thread user = Thread.currentThread();
        /** The iterator that receives, made on {@link #user} by its first call that must receive; null before. */
        private Receiving receiving;

        @Override
        public boolean hasNext() {
            Receiving r = receiving;
            if (r != null) {
                return r.hasNext();
            }
            if (Thread.currentThread() != user) {
                throw notTheIteratorsThread("iterate over", user);
            }
            if (closedAndDrainedFromAfar()) {
                if (closeCause != null) {
                    throw closedAndDrained("iterate over"); // as Receiving: closed for a reason, not the end of the values
                }
                return false;
            }
            receiving = r = new Receiving(Scheduler.current());
            return r.hasNext();
        }

        @Override
        public T next() {
            if (!hasNext()) {
                throw new NoSuchElementException(callerHere() + " cannot take the next value of " + describe() + " ("
                        + state() + "): " + NONE_LEFT);
            }
            return receiving.next();
        }

        /** As {@link Receiving#forEachRemaining}. */
        @Override
        public void forEachRemaining(Consumer<? super T> action) {
            Objects.requireNonNull(action, "action");
            Iterator.super.forEachRemaining(action);
        }

        /** Refused, as {@link Receiving#remove()}. */
        @Override
        public void remove() {
            throw removeRefused();
        }
    }

    /**
     * The refusal of a call ({@code operation}) of a receiving iterator from another thread than {@code user}, the one
     * that made it, naming the caller and its thread, the call, the channel with its state and that thread (saying that
     * it has ended, as the channel's own refusals do).
     */
    private IllegalStateException notTheIteratorsThread(String operation, Thread user) {
        return new IllegalStateException(callerHere() + " cannot " + operation + " " + describe() + " (" + state()
                + ") through an iterator of thread " + Scheduler.describe(user) + (user.isAlive() ? "" : ", which has ended")
                + ": an iterator belongs to the thread that called iterator(); call it on this thread for one of its own");
    }

    /** The refusal of a receiving iterator's {@code remove()}, naming the caller (a thread without a scheduler as a thread). */
    private UnsupportedOperationException removeRefused() {
        Scheduler here = Scheduler.currentOrNull();
        return new UnsupportedOperationException((here != null ? caller(here.currentContext()) : Scheduler.describeCaller())
                + " cannot remove a value of " + describe()
                + " (" + state() + "): its iterator receives each value, which leaves the channel as it is taken");
    }

    /**
     * Whether {@link #close()} was called.
     *
     * @return true once closed, even while buffered values remain
     */
    public boolean isClosed() {
        return closed;
    }

    /**
     * The capacity given at creation.
     *
     * @return how many values it buffers; 0 for a rendezvous
     */
    public int capacity() {
        return capacity;
    }

    /**
     * How many values are buffered now, waiting for a receiver (Go's {@code len} of a channel): 0 on a
     * rendezvous, whose senders wait instead. At most {@link #capacity()}, but for values given back
     * to the head of the buffer by receivers that gave up after they were handed one (see the class
     * comment). A closed channel still counts the values left for its receivers. Any thread may call
     * it; from another thread than the channel's it is a snapshot that may be stale at once.
     *
     * @return the number of buffered values
     */
    public int size() {
        boolean locked = acquire();
        try {
            return buffered();
        } finally {
            release(locked);
        }
    }

    /**
     * This channel's name: the one given at creation, or {@code channel-N}.
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * Name, capacity and state, e.g. {@code Channel[jobs, capacity 4, 2 buffered, open]}.
     *
     * @return a short description
     */
    @Override
    public String toString() {
        return "Channel[" + SafeText.name(name) + ", capacity " + capacity + ", " + size() + " buffered, "
                + (closed ? "closed" : "open") + "]";
    }

    // ---- machinery ------------------------------------------------------------------------

    /** Hands {@code value} over or buffers it, on an open channel; on return true, it was sent. */
    private boolean offer(T value) {
        ChannelWaiter<T> r = pollLocked(receivers);
        if (r != null) {
            if (back != 0) {
                return offerBehindGivenBack(r, value);
            }
            r.value = value;
            r.handed = ++handOffs;
            r.complete(false);
            return true;
        }
        if (buffered() < capacity) {
            buffer.add(value);
            return true;
        }
        return false;
    }

    /**
     * {@link #offer} of {@code value} that found {@code r}, a receiver waiting (locked, out of the queue),
     * while values given back wait at the head of the buffer: a value given back from another thread while
     * a select of this channel's thread could wait here, whose hand-off to the receivers waiting that thread
     * has yet to run ({@link #giveBackFromAfar}). They were sent before {@code value}, so they go first, to
     * {@code r} and the receivers after it ({@link #handBuffered}); then {@code value} goes as any send's:
     * to a receiver still waiting, else into the buffer if it has room. Apart from the offer, so that it
     * stays small.
     *
     * @return whether {@code value} was sent; false: the buffer is full, and the caller waits or gives up
     */
    private boolean offerBehindGivenBack(ChannelWaiter<T> r, T value) {
        r.handed = headOrder();
        r.value = takeHead();
        r.complete(false);
        handBuffered();
        return offer(value); // no value given back is left once a receiver is: it cannot come here again
    }

    /**
     * Takes the next value without waiting; null if there is none. Wakes the sender it took from. A
     * buffer still full after the take (a value given back overfilled it, see {@link #giveBack}) takes
     * no sender's value: the sender waits until there is room, as for any full buffer.
     */
    private T poll() {
        T v = back == 0 ? buffer.poll() : takeHeadAfterWaitingReceivers(); // takeHead(), its common case inline
        if (v != null && buffered() >= capacity) {
            return v;
        }
        ChannelWaiter<T> s = pollLocked(senders);
        if (s == null) {
            return v;
        }
        if (v == null) {
            v = s.value;
        } else {
            buffer.add(s.value);
        }
        s.complete(false);
        return v;
    }

    /**
     * {@link #takeHead()} for {@link #poll()} while values given back wait at the head of the buffer: receivers
     * that have waited longer than the caller may wait behind them still, a value given back from another thread
     * while a select of this channel's thread could wait here, whose hand-off that thread has yet to run
     * ({@link #giveBackFromAfar}). They take those values first, as the longest-waiting receivers
     * ({@link #handBuffered}); the caller takes what is left, if anything. Apart from the poll, so that it stays small.
     */
    private T takeHeadAfterWaitingReceivers() {
        handBuffered();
        return takeHead();
    }

    /**
     * After a value was taken from the buffer: the longest-waiting sender that can still be completed moves
     * its value into the room left, as {@link #poll()} does; nothing if the buffer is still full.
     */
    private void refill() {
        if (buffered() >= capacity) {
            return;
        }
        ChannelWaiter<T> s = pollLocked(senders);
        if (s != null) {
            buffer.add(s.value);
            s.complete(false);
        }
    }

    /** Receives, parking while needed; null once the channel is closed and drained. */
    private T receiveOrNull(String op) {
        if (!scheduler.isCaller()) {
            T v = pollFromAfar();
            if (v != null || closedAndDrainedFromAfar()) {
                return v;
            }
            RemoteOp<T> r = remote(RemoteOp.RECEIVE, null, -1, op);
            return r.closed ? null : r.value;
        }
        ChannelWaiter<T> w = null;
        try {
            boolean locked = acquire();
            try {
                T v = poll();
                if (v != null || closed) {
                    return v;
                }
                w = queue(receivers, waiter(false, null));
            } finally {
                release(locked);
            }
            await(w, receivers);
        } catch (Throwable t) {
            Context c;
            if (w != null && w.queued && (c = w.context).unfinishedCleanup == null) {
                // it overflowed before parkOn's guard (whose doc says more): marked by field writes alone
                // (nothing is kept in pendingThrow: queue() checked it, and no switch came since)
                c.unfinishedCleanup = w;
                c.pendingThrow = Context.CLEANUP_LEFT;
                c.finishCleanup();
            }
            throw t;
        }
        return taken(w);
    }

    /**
     * {@link #receiveOrNull} for a receiving iterator ({@link #iterator()}): its wait, here or from another
     * thread, is named as the iterator's call ({@code iterate over channel 'jobs'}), not as a receive. A method
     * of its own so that {@link #receive()} does no more for it: its waiter is marked by the field that names
     * a timed wait ({@link ChannelWaiter#ITERATING}), which every fresh wait sets anyway.
     */
    private T iterateOrNull() {
        if (!scheduler.isCaller()) {
            T v = pollFromAfar();
            if (v != null || closedAndDrainedFromAfar()) { // answered in place, as receiveOrNull
                return v;
            }
            RemoteOp<T> r = remote(RemoteOp.RECEIVE, null, -1, "iterate over");
            return r.closed ? null : r.value;
        }
        ChannelWaiter<T> w = null;
        try {
            boolean locked = acquire();
            try {
                T v = poll();
                if (v != null || closed) {
                    return v;
                }
                w = queue(receivers, timed(waiter(false, null), ChannelWaiter.ITERATING));
            } finally {
                release(locked);
            }
            await(w, receivers);
        } catch (Throwable t) {
            Context c;
            if (w != null && w.queued && (c = w.context).unfinishedCleanup == null) {
                // as in receiveOrNull: it overflowed before parkOn's guard, marked by field writes alone
                c.unfinishedCleanup = w;
                c.pendingThrow = Context.CLEANUP_LEFT;
                c.finishCleanup();
            }
            throw t;
        }
        return taken(w);
    }

    /**
     * The value of {@code w}, whose wait has ended (a receiver's: what it was handed; a sender's: what
     * it offered), cleared from it so that the waiter its context keeps holds no value between waits.
     */
    private static <T> T taken(ChannelWaiter<T> w) {
        T v = w.value;
        w.value = null;
        return v;
    }

    /**
     * Queues {@code w}, the caller's fresh waiter, in {@code q}. A signal pending for the caller (a
     * close, an expired {@code withTimeout}) throws first, before the waiter is queued: once queued on
     * a shared channel another thread could complete it at once, and a wait must not complete and
     * then throw for a signal that was there before it began.
     */
    private ChannelWaiter<T> queue(WaitQueue<ChannelWaiter<T>> q, ChannelWaiter<T> w) {
        try {
            w.context.checkSignals(w);
        } catch (Throwable t) {
            w.value = null;
            throw t;
        }
        q.add(w);
        return w;
    }

    /**
     * {@code w}, the fresh waiter of a timed {@code tryReceive} or {@code trySend}, marked with its
     * timeout before {@link #queue} checks the caller's signals: a signal thrown there names the call
     * as the wait's dumps and a signal thrown while it waits do ({@code tryReceive from channel 'jobs'}),
     * not as the untimed one; so is a receiving iterator's, with {@link ChannelWaiter#ITERATING}.
     */
    private static <T> ChannelWaiter<T> timed(ChannelWaiter<T> w, long nanos) {
        w.timeout = nanos;
        return w;
    }

    /**
     * The calling context's waiter, made fresh for a wait on this channel: the one it keeps
     * ({@link Context#channelWaiter}), or a new one the first time. A context parks on one channel
     * at a time and every operation here is over (its waiter out of every queue, its value taken)
     * when it returns or throws, so the waiter is free again at the next; one still queued, which
     * that rule excludes, is not taken.
     */
    @SuppressWarnings("unchecked")
    private ChannelWaiter<T> waiter(boolean sender, T value) {
        Context c = scheduler.currentContext();
        ChannelWaiter<T> w = (ChannelWaiter<T>) c.channelWaiter;
        if (w == null || w.queued || w.completedAfar()) { // in the inbox still: its wake-up was taken in early
            w = new ChannelWaiter<>(this, sender, c, value);
            c.channelWaiter = w;
        } else {
            w.reuse(this, sender, value);
        }
        return w;
    }

    /**
     * Parks the caller on {@code w}, queued in {@code queue}; on return its wait has completed. If the
     * wait ends otherwise (a close of the caller, a timeout, a failure for main), {@code w} leaves the
     * queue, and a value it was handed just before goes back to the head of the buffer: nothing is lost.
     */
    private void await(ChannelWaiter<T> w, WaitQueue<ChannelWaiter<T>> queue) {
        parkOn(w, queue, 0);
        assert w.done : w.context.describe() + " resumed from " + w + " without being woken";
    }

    /**
     * {@link #await} for at most {@code nanos}: a timer interrupts the wait if nothing completed it by
     * then (it leaves the queue at that moment, so a timed-out wait has taken and delivered nothing).
     *
     * @return whether the wait completed; false if it timed out
     */
    private boolean awaitAtMost(ChannelWaiter<T> w, WaitQueue<ChannelWaiter<T>> queue, long nanos) {
        return parkOn(w, queue, nanos);
    }

    /** The timer of {@link #awaitAtMost}: it interrupts the wait of its waiter if nothing completed it by then. */
    private final class Expiry extends Timer implements Cleanup {
        private final ChannelWaiter<T> w;
        private final WaitQueue<ChannelWaiter<T>> queue;

        Expiry(ChannelWaiter<T> w, WaitQueue<ChannelWaiter<T>> queue) {
            this.w = w;
            this.queue = queue;
        }

        @Override
        void expire() {
            boolean locked = acquire();
            try {
                if (w.queued && w.context.state() == Coroutine.State.PARKED) {
                    queue.remove(w); // still waiting: no thread completed it
                    scheduler.unpark(w.context);
                }
            } finally {
                release(locked);
            }
        }

        /** The clean-up of its wait, which a park that threw left unfinished: the waiter's, and this timer cancelled. */
        @Override
        public void finish() {
            cleanUp(w, queue, this);
        }
    }

    /**
     * Parks the caller on {@code w}, queued in {@code queue}, until its wait ends: completed, or
     * interrupted (by a timer after {@code nanos}, if positive, cancelled here either way; or by a close
     * of the caller, a timeout, a failure for main, after which {@code w} leaves the queue and the throw
     * goes on). A receiver handed a value before the channel closed keeps it if its wait ends
     * so afterwards (see {@link #giveBack}): the wait counts as completed, and what ended it comes at
     * the caller's next scheduling point.
     *
     * <p>From the timer's start on, whatever is thrown is caught here, and the clean-up is marked to be
     * done ({@link Context#unfinishedCleanup}) before its first call: near the stack's end that call
     * may overflow, and then the context finishes it at its next scheduling point or at its end. (The
     * callers mark it the same way if the stack overflows between the queueing and the guard here, each
     * with the field writes written out in its own handler: a method that made them would be a call before
     * the mark, as {@link Context#unfinishedCleanup} says.)
     *
     * @return whether the wait completed
     */
    private boolean parkOn(ChannelWaiter<T> w, WaitQueue<ChannelWaiter<T>> queue, long nanos) {
        Expiry expiry = null;
        try {
            if (nanos > 0) {
                EventLoop loop = scheduler.loop;
                expiry = new Expiry(w, queue);
                loop.schedule(expiry, loop.deadlineAfter(nanos));
                if (!expiry.isPending()) {
                    w.timeout = Long.MAX_VALUE; // its deadline saturated: no timer, so it is named a wait for ever
                }
            }
            if (shared) {
                countAsForeign(w);
            }
            scheduler.park(w);
        } catch (Throwable t) {
            // by field writes alone, before the clean-up's first call
            Context c = w.context;
            c.unfinishedCleanup = expiry != null ? expiry : w;
            if (c.pendingThrow == null) {
                c.pendingThrow = Context.CLEANUP_LEFT;
            }
            c.channelWaiter = null; // not to be used again by an operation that comes before that
            if (!abandon(w, t)) {
                throw t;
            }
            return w.done;
        }
        if (expiry != null) {
            scheduler.loop.cancel(expiry);
        }
        uncountAsForeign(w);
        return w.done;
    }

    /**
     * {@link #parkOn} after the park threw {@code t}, the clean-up marked: the clean-up
     * ({@link Context#finishCleanup}), after which {@code t} goes on; unless {@code w} keeps the value it
     * was handed ({@link #cancel}), and then {@code t} comes at the caller's next scheduling point. If
     * {@code t} is the refusal of the caller's park itself ({@link PinnedException#refusedTheCallersPark}: the JDK
     * cannot suspend the caller, docs/PINNING.md; or, on the thread engine, the context it would run gets no
     * thread or waits for a class initializer the caller runs, docs/ENGINES.md) and the wait was done first (the
     * park ran its thread's posts, and one completed it: a receiver of another thread took the value, a sender
     * handed one), the wait counts as completed and {@code t} is dropped: the operation did what it was asked,
     * and must not throw a refusal as well, nor leave one for later. A target that could not run stays runnable,
     * and a later scheduling point that chooses it is refused as clearly while it still cannot.
     *
     * @return whether {@code w} keeps what it did: its wait counts as completed
     */
    private boolean abandon(ChannelWaiter<T> w, Throwable t) {
        Context c = w.context;
        boolean refused = PinnedException.refusedTheCallersPark(t);
        w.parkRefused = refused;
        c.finishCleanup();
        if (!shared && c.channelWaiter == null) {
            c.channelWaiter = w; // out of every queue: the context may use it again
        }
        if (refused && w.done) {
            // done before the park was refused (the park ran the thread's posts first, and one completed it):
            // the operation returns what it did, a value sent stays sent and one handed over is kept, and nothing
            // was refused, so the refusal is neither thrown nor kept for later
            return true;
        }
        boolean kept = w.done && !w.sender && w.value != null; // cancel() cleared the value unless kept
        if (kept) {
            c.throwAtNextPoint(t);
        }
        return kept;
    }

    /**
     * The clean-up of {@code w}'s wait, which ended without it ({@link #cancel}: it leaves
     * {@code queue}, or gives back or keeps the value it was handed); its timer {@code expiry} (if not
     * null) cancelled, its count as a foreign wait undone. Changes nothing more if done again ({@link Cleanup}).
     */
    private void cleanUp(ChannelWaiter<T> w, WaitQueue<ChannelWaiter<T>> queue, Expiry expiry) {
        cancel(w, queue);
        if (expiry != null) {
            scheduler.loop.cancel(expiry);
        }
        uncountAsForeign(w);
    }

    /** {@link #cleanUp} of {@code w}, a waiter of this channel with no timer, from its context's {@link Cleanup}. */
    void cleanUp(ChannelWaiter<T> w) {
        cleanUp(w, w.sender ? senders : receivers, null);
    }

    /**
     * Counts the wait of {@code w}, a waiter of this channel's thread, as one another thread may
     * complete ({@link EventLoop#foreignWaitStarted}): the channel is shared, from the wait's start or
     * since it became shared meanwhile. Then the thread does not take the wait for a deadlock, spins
     * before it blocks, and under virtual time does not jump past it.
     */
    private void countAsForeign(ChannelWaiter<T> w) {
        if (!w.countedAsForeign) {
            w.countedAsForeign = true;
            scheduler.loop.foreignWaitStarted();
        }
    }

    /** The wait of {@code w} has ended (or its select clause left): it no longer counts, if it did. */
    void uncountAsForeign(ChannelWaiter<T> w) {
        if (w.countedAsForeign) {
            w.countedAsForeign = false;
            scheduler.loop.foreignWaitEnded();
        }
    }

    /** The channel has just become shared: the waits of its thread queued here count as foreign from now on. */
    private void countWaitsAsForeign(WaitQueue<ChannelWaiter<T>> q) {
        for (ChannelWaiter<T> w = q.first(); w != null; w = q.next(w)) {
            if (!(w instanceof RemoteOp)) {
                countAsForeign(w);
            }
        }
    }

    // ---- what a Select asks of a channel ----------------------------------------------------

    /** Whether the caller runs on this channel's thread. */
    boolean isCallersOwn() {
        return scheduler.isCaller();
    }

    /**
     * On this channel's thread: {@code op}, a clause of a select over channels of several threads,
     * meets the channel as a send or a receive of another thread would (see {@link #serveOp}): it
     * completes now if it can (its select's wait won), else it waits in the queue.
     */
    void registerHere(RemoteOp<T> op) {
        boolean locked = acquire();
        try {
            serveOp(op);
        } finally {
            release(locked);
        }
    }

    /**
     * On another thread: {@code op}, a clause of a select over channels of several threads, meets the
     * channel as {@link #remote} runs an operation: in place on a shared channel no select of its
     * thread may wait on, posted to its thread otherwise. If that thread has ended, the select's wait
     * ends ({@link ForeignWait#end}).
     */
    void registerFromAfar(RemoteOp<T> op) {
        if (!scheduler.owner.isAlive()) {
            registerAfterOwnerEnded(op);
            return;
        }
        if (shared) {
            int here = serveHere(op);
            if (here == OWNER_ENDED) {
                registerAfterOwnerEnded(op);
                return;
            }
            if (here == SERVED_HERE) {
                return;
            }
        }
        post(op);
    }

    /**
     * On another thread, this channel's thread having ended: {@code op}, a select's clause, meets the channel
     * as {@link #ownerEnded(RemoteOp, Context, String)} answers an operation: a receive takes a value left in
     * the buffer, a closed channel completes it as closed (if its select's wait is still to be won); anything
     * else ends the select's wait, and the select fails naming this channel and its thread.
     */
    private void registerAfterOwnerEnded(RemoteOp<T> op) {
        lock();
        try {
            if (!op.sender && buffered() > 0) {
                if (op.lock()) {
                    op.handed = headOrder();
                    op.value = takeHead();
                    op.complete(false);
                }
                return;
            }
            if (closed) {
                if (op.lock()) {
                    op.complete(true);
                }
                return;
            }
        } finally {
            unlock();
        }
        op.ticket.end();
    }

    /**
     * {@code op}, a clause of a select over channels of several threads that is over (its wait won by
     * another clause, or ended), leaves the queue it may wait in: at once on this channel's thread or a
     * shared channel, else by a post to its thread. (A channel drops such a clause when it meets it anyway.)
     */
    void withdrawClause(RemoteOp<T> op) {
        if (scheduler.isCaller()) {
            dequeue(op);
        } else {
            withdraw(op);
        }
    }

    /**
     * A value handed to {@code op}, a select's receive clause whose wait then ended with an exception, goes
     * back ({@link #giveBack}, or {@link #giveBackFromAfar} from another thread).
     *
     * @return true if it went back; false if the channel is closed and the clause keeps it
     */
    boolean giveBackFromClause(T v, long handed) {
        return scheduler.isCaller() ? giveBack(v, handed) : giveBackFromAfar(v, handed);
    }

    /** From another thread: takes a value in place if it can, as a receive does first ({@link #pollFromAfar}). */
    T pollInPlace() {
        return pollFromAfar();
    }

    /**
     * From another thread, its call having taken nothing in place: whether this channel is closed with no value left
     * in it, so that the call is answered as this channel's thread would answer it (a receive refused, a try call
     * taking nothing) without posting it there: that thread may be blocked outside coro, and a caller that has no
     * scheduler gets none for the answer, as a send refused on a closed channel makes none. Once closed, a channel
     * that is not shared only loses values (its thread takes them; no value comes back without another thread's
     * receive, which would have shared it), so its count read here (after {@link #closed}, which orders every value
     * sent before the close before it) is 0 only once it is drained; a shared one is read under the lock.
     */
    boolean closedAndDrainedFromAfar() {
        if (!closed) {
            return false;
        }
        return shared ? closedAndDrainedInPlace() : buffered() == 0;
    }

    /**
     * From another thread: whether this channel, shared, is closed with no value left in it, read under the lock
     * ({@link #closedAndDrainedFromAfar}'s answer for a shared channel); false if it is not shared.
     */
    private boolean closedAndDrainedInPlace() {
        if (!shared) {
            return false;
        }
        lock();
        try {
            return closed && buffered() == 0;
        } finally {
            unlock();
        }
    }

    /**
     * From a thread without a scheduler, for a select's run whose refusal may be known there ({@code Select}'s
     * {@code refuseInPlace}): whether a clause on this channel, open, is known not to be ready, its operation (a send if
     * {@code sender}) looked at as the run would look at it, changing nothing. A run that may wait ({@code mayWait})
     * tries it in place only (as {@link #pollFromAfar} and {@link #offerFromAfar} do): not ready unless the channel is
     * shared, no select of its thread may wait on it now, its thread lives and a value (or room) is there. A run that
     * never waits also asks this channel's thread where it cannot look in place, so it is known not to be ready only in
     * place, the channel shared and nothing there. False where the clause may fire, or its thread must be asked.
     */
    boolean notReadyInPlace(boolean sender, boolean mayWait) {
        if (!shared) {
            return mayWait;
        }
        lock();
        try {
            if (closed) {
                return false;
            }
            if (selecting != 0 || !ownerThread.isAlive()) {
                return mayWait;
            }
            // a waiter queued may have left already (its wait timed out): counted as there, the clause may be ready
            return sender ? receivers.isEmpty() && buffered() >= capacity : buffered() == 0 && senders.isEmpty();
        } finally {
            unlock();
        }
    }

    /**
     * From a thread without a scheduler, for a select's clause on this channel (a send if {@code sender}) in a run whose
     * refusal may be known there ({@code Select}'s {@code refuseInPlace}): the refusal naming {@code caller} that the
     * run meets on it if this channel's thread has ended leaving it open with nothing in it to take, as the operation
     * is refused ({@link #refusedAsItsThreadEnded}); null otherwise (its thread lives, it is closed, or a receive takes
     * a value left).
     */
    IllegalStateException endedRefusal(boolean sender, String caller) {
        if (scheduler.owner.isAlive() || !refusedAsItsThreadEnded(sender ? RemoteOp.SEND : RemoteOp.RECEIVE)) {
            return null;
        }
        return ownerEnded(caller, sender ? "select a send to" : "select a receive from");
    }

    /**
     * From another thread, for a select's clause on this channel (a send if {@code sender}) in a run that never waits,
     * before it asks this channel's thread ({@link #tryFromAfar}): whether that thread has ended leaving the channel open
     * with nothing in it to take, so that the ask would be refused ({@link #refusedAsItsThreadEnded}) having asked
     * nothing. Its thread living, one read.
     */
    boolean refusesAsItsThreadEnded(boolean sender) {
        return !scheduler.owner.isAlive() && refusedAsItsThreadEnded(sender ? RemoteOp.SEND : RemoteOp.RECEIVE);
    }

    /** The refusal of a select's clause by {@code self} (a send if {@code sender}) that {@link #refusesAsItsThreadEnded}, as {@link #tryFromAfar} throws it. */
    IllegalStateException clauseRefusedAsItsThreadEnded(boolean sender, Context self) {
        return ownerEnded(self, sender ? "select a send to" : "select a receive from");
    }

    /** From another thread: sends in place if it can, as a send does first ({@link #offerFromAfar}). */
    boolean offerInPlace(T value) {
        return offerFromAfar(value);
    }

    /**
     * From another thread: a {@code tryReceive} ({@code sender} false) or a {@code trySend} of {@code value},
     * for a select that never waits: the operation, done (its value taken, or sent: {@code ok}), refused, or
     * done and closed.
     */
    RemoteOp<T> tryFromAfar(boolean sender, T value) {
        return sender ? remote(RemoteOp.TRY_SEND, value, -1, "select a send to")
                : remote(RemoteOp.TRY_RECEIVE, null, -1, "select a receive from");
    }

    /** Whether a receive would complete now: a value is buffered, a sender waits, or the channel is closed. */
    boolean canReceiveNow() {
        boolean locked = acquire();
        try {
            purge(senders);
            return buffered() > 0 || !senders.isEmpty() || closed;
        } finally {
            release(locked);
        }
    }

    /** Whether a send would complete now: a receiver waits, the buffer has room, or the channel is closed. */
    boolean canSendNow() {
        boolean locked = acquire();
        try {
            purge(receivers);
            return closed || !receivers.isEmpty() || buffered() < capacity;
        } finally {
            release(locked);
        }
    }

    /**
     * Takes a value now; null if there is none after all (a waiting sender of another thread was
     * interrupted meanwhile: the channel is open) or the channel is closed and drained.
     */
    T pollNow() {
        boolean locked = acquire();
        try {
            return poll();
        } finally {
            release(locked);
        }
    }

    /**
     * Sends now (it was ready, see {@link #canSendNow}); false if the channel is closed, or if no
     * receiver was left after all (a waiting receiver of another thread was interrupted meanwhile).
     */
    boolean offerNow(T value) {
        boolean locked = acquire();
        try {
            return !closed && offer(value);
        } finally {
            release(locked);
        }
    }

    /**
     * A run of a select that may wait on this channel is about to look at it: until it is over
     * ({@link #selectDone()}) other threads post their operations here instead of running them in
     * place, since only this thread may complete a clause. Before the select's readiness check, not at
     * its queueing: an operation of another thread run in place between the two would queue beside
     * the clause, and neither would complete the other.
     */
    void selectWillWait() {
        boolean locked = acquire();
        try {
            selecting++;
        } finally {
            release(locked);
        }
    }

    /** A run of a select that {@link #selectWillWait} announced is over, its clauses out of the queues. */
    void selectDone() {
        boolean locked = acquire();
        try {
            selecting--;
        } finally {
            release(locked);
        }
    }

    /**
     * Queues a select's clause as a waiting sender or receiver (the select has called
     * {@link #selectWillWait}); on a shared channel its wait counts as foreign until
     * {@link #uncountAsForeign}.
     */
    void enqueue(ChannelWaiter<T> w) {
        boolean locked = acquire();
        try {
            (w.sender ? senders : receivers).add(w);
            if (locked) {
                countAsForeign(w);
            }
        } finally {
            release(locked);
        }
    }

    /**
     * A value a receiver was handed, but whose wait then ended with an exception: while the channel
     * is open, the longest-waiting receiver takes it, else it goes back to the head of the buffer.
     * Once it is closed nothing goes back: receives may have been told it is closed and drained, and
     * a value put back would lie there unseen. The receiver keeps it then: its operation returns it,
     * and what ended its wait comes at its next scheduling point. Nothing is lost or left behind.
     *
     * @param handed the value's place in the order of hand-offs ({@link ChannelWaiter#handed})
     * @return true if it went back; false if the channel is closed and the receiver keeps it
     */
    boolean giveBack(T value, long handed) {
        boolean locked = acquire();
        try {
            if (closed) {
                return false;
            }
            if (back != 0) {
                // values given back before wait at the head, receivers perhaps behind them (giveBackFromAfar):
                // this one takes its place among them in the order of hand-offs, and the oldest go first
                putBack(value, handed);
                handBuffered();
                return true;
            }
            ChannelWaiter<T> r = pollLocked(receivers);
            if (r != null) {
                r.value = value; // another receiver waits: it takes the value, which must not sit buffered
                r.handed = handed;
                r.complete(false);
            } else {
                putBack(value, handed);
            }
            return true;
        } finally {
            release(locked);
        }
    }

    /**
     * Puts {@code value}, given back, at the head of the buffer, before every value buffered, and
     * among the values given back before it in the order they were handed out: values given back in
     * any order come out in the order of their sends. All the memory it needs is taken before its
     * first write (a stack overflow strikes only at a call).
     *
     * <p>A semaphore's permit ({@link #permits}) that finds every permit free already is dropped instead:
     * a release too many came while it was on its way to its waiter (accepted then, as that waiter held
     * it), and with the waiter's acquire undone it would make one more permit than the semaphore has.
     */
    private void putBack(T value, long handed) {
        if (permits && buffered() >= capacity) {
            return;
        }
        T[] values = backValues;
        long[] order = backOrder;
        if (values == null) {
            @SuppressWarnings("unchecked")
            T[] fresh = (T[]) new Object[4];
            values = fresh;
            order = new long[4];
        } else if (back == values.length) {
            values = Arrays.copyOf(values, back * 2);
            order = Arrays.copyOf(order, back * 2);
        }
        int k = back;
        for (; k > 0 && order[k - 1] > handed; k--) {
            values[k] = values[k - 1];
            order[k] = order[k - 1];
        }
        values[k] = value;
        order[k] = handed;
        backValues = values;
        backOrder = order;
        back++;
    }

    /** Takes the value at the head of the buffer, those given back first; null if there is none. */
    private T takeHead() {
        if (back == 0) {
            return buffer.poll();
        }
        T[] values = backValues;
        long[] order = backOrder;
        T v = values[0];
        back--;
        for (int i = 0; i < back; i++) {
            values[i] = values[i + 1];
            order[i] = order[i + 1];
        }
        values[back] = null;
        return v;
    }

    /** For tests: how many values the buffer has room for without growing. */
    int bufferRoom() {
        return buffer.room();
    }

    /** How many values are buffered, those given back included. */
    private int buffered() {
        return buffer.size() + back;
    }

    /** The place in the order of hand-offs of the value at the head of the buffer, about to be handed to a receiver. */
    private long headOrder() {
        return back > 0 ? backOrder[0] : ++handOffs;
    }

    /**
     * Hands buffered values to the receivers still waiting, oldest first: there are such receivers only
     * after a value given back from another thread while a select of this thread may wait here (see
     * {@link #giveBackFromAfar}); the lock held if it is shared, on this channel's thread, or on another
     * where it runs an operation in place (then no select of this thread waits here). A send, a receive or
     * a value given back that meets such receivers runs it first, so that the values given back keep their
     * place before a later send's, and go to the receivers that waited longest.
     */
    private void handBuffered() {
        for (ChannelWaiter<T> r; buffered() > 0 && (r = pollLocked(receivers)) != null; ) {
            r.handed = headOrder();
            r.value = takeHead();
            r.complete(false);
        }
    }

    /** On this channel's thread: {@link #handBuffered} now (posted by {@link #giveBackFromAfar}). */
    private void handBufferedNow() {
        boolean locked = acquire();
        try {
            handBuffered();
        } finally {
            release(locked);
        }
    }

    // ---- other threads ----------------------------------------------------------------------

    /** The oldest waiter of {@code q} that can be completed, locked and out of the queue; stale ones are dropped. */
    private ChannelWaiter<T> pollLocked(WaitQueue<ChannelWaiter<T>> q) {
        for (ChannelWaiter<T> w; (w = q.poll()) != null; ) {
            if (w.lock()) {
                return w;
            }
        }
        return null;
    }

    /** The oldest waiter of {@code q} that can be completed, locked but still queued; stale ones are dropped. */
    private ChannelWaiter<T> firstLocked(WaitQueue<ChannelWaiter<T>> q) {
        for (ChannelWaiter<T> w; (w = q.first()) != null; q.remove(w)) {
            if (w.lock()) {
                return w;
            }
        }
        return null;
    }

    /** Drops the stale waiters at the head of {@code q}. */
    private static <T> void purge(WaitQueue<ChannelWaiter<T>> q) {
        for (ChannelWaiter<T> w; (w = q.first()) != null && w.isStale(); ) {
            q.remove(w);
        }
    }

    /**
     * A call by a context of another thread. On a channel not shared yet it posts the operation to
     * this channel's thread, which runs it there; on a shared one it runs it in place under the lock
     * (unless a select of its thread may wait on it now: then it posts). If the operation must wait, the caller
     * parks on its own thread until it is done (or, with {@code nanos > 0}, until that much time has
     * passed: then the operation did nothing).
     *
     * @return the operation, with its outcome; {@code ticket.isDone()} false if it timed out
     * @throws IllegalStateException if this channel's thread has ended
     */
    private RemoteOp<T> remote(int kind, T value, long nanos, String op) {
        if (!scheduler.owner.isAlive() && Scheduler.currentOrNull() == null && refusedAsItsThreadEnded(kind)) {
            throw ownerEnded(Scheduler.describeCallerAndThread(), op); // none made for a message
        }
        Scheduler home = Scheduler.current();
        Context self = home.currentContext();
        RemoteOp<T> r = new RemoteOp<>(this, kind, self, value, op);
        if (!scheduler.owner.isAlive()) {
            // nothing asked of that thread: refused, or answered closed, as a refusal leaves the caller's thread (not
            // connected by it); a value left behind taken is an exchange, marked as it is taken
            return ownerEnded(r, self, op);
        }
        if (beforeClose == null) {
            home.connected = true;
        } // a RemoteClose's close exchanges nothing (see serve): the caller's own deadlocks are still reported after it
        if (afterLivenessCheck != null) {
            afterLivenessCheck.run();
        }
        boolean mayQueue = kind == RemoteOp.SEND || kind == RemoteOp.RECEIVE;
        if (mayQueue) {
            self.checkSignals(r.ticket); // before anything could complete it: see queue()
        }
        boolean posted = true;
        if (shared) {
            int here = serveHere(r);
            if (here == OWNER_ENDED) {
                return ownerEnded(r, self, op); // it ended since the check: as if found ended before
            }
            posted = here == MUST_POST;
        }
        if (!posted && r.ticket.isDone()) {
            return r; // done in place: nothing to wait for
        }
        if (!mayQueue && postedDespiteSignal(r, self, op)) {
            return r;
        }
        EventLoop loop = home.loop;
        Timer expiry = null;
        loop.foreignWaitStarted();
        loop.remoteWaitStarted(r.ticket);
        try {
            if (posted && !post(r)) {
                return ownerEnded(r, self, op); // a receive takes a value left in the buffer, as when its thread had ended before
            }
            if (nanos > 0) {
                expiry = new Timer() {
                    @Override
                    void expire() {
                        if (r.ticket.interrupt()) {
                            r.ticket.run();
                        }
                    }
                };
                loop.schedule(expiry, loop.deadlineAfter(nanos));
                if (!expiry.isPending()) {
                    r.timeout = Long.MAX_VALUE; // its deadline saturated: no timer, so it is named a wait for ever, as a local one
                }
            }
            if (beforeParkAcross != null) {
                beforeParkAcross.accept(r);
            }
            home.park(r.ticket);
        } catch (Throwable t) {
            if (r.kind == RemoteOp.KEPT_SEND && (t instanceof CoroutineExit || t instanceof CoroutineException)) {
                // its wait interrupted by a signal, or in main by a failure: the post runs all the same, and
                // what interrupted the wait comes at the caller's next scheduling point
                r.ticket.interrupt();
                r.unawaited = true;
                self.throwAtNextPoint(t);
                return r;
            }
            boolean refused = PinnedException.refusedTheCallersPark(t);
            if (!refused || !ranBeforeItCouldBeWithdrawn(r)) {
                if (refused && r.runsWhateverBecameOfItsCaller()) {
                    // a close or a kept send runs all the same once posted: the caller, who cannot wait for the
                    // answer (its wait interrupted by the check above), does not wait for it, as one being unwound
                    r.unawaited = true;
                    return r;
                }
                if (!keeps(r, self, t)) {
                    throw t;
                }
                return r; // handed a value before the channel closed: it is the caller's
            }
        } finally {
            if (expiry != null) {
                loop.cancel(expiry);
            }
            loop.remoteWaitEnded(r.ticket);
            loop.foreignWaitEnded();
        }
        if (r.ticket.hasEnded()) {
            return ownerEnded(r, self, op);
        }
        if (!r.ticket.isDone()) {
            withdraw(r);
        }
        return r;
    }

    /**
     * On another thread: {@code r}, an operation of {@code self}, cannot run because this channel's
     * thread has ended. A receive takes a value left in the buffer ({@link #leftBehind}): its send
     * succeeded, so it must be received; but not a semaphore's permit ({@link #permits}), which no
     * release could give back: that acquire fails, as the semaphore's Javadoc says. A channel closed
     * before then answers the rest as a closed channel does on any thread (a send or a receive finds it
     * closed, a try call sends or takes nothing, a close does nothing): nothing can open it again, so
     * the answer is the one its thread would have given, and an iterator over it ends instead of
     * failing. Anything else, on a channel left open, fails.
     *
     * @return {@code r}, done with the value taken, or done and closed
     * @throws IllegalStateException naming {@code self}, {@code op}, this channel and its thread, which has ended
     */
    private RemoteOp<T> ownerEnded(RemoteOp<T> r, Context self, String op) {
        if ((r.kind == RemoteOp.RECEIVE || r.kind == RemoteOp.TRY_RECEIVE) && !permits) {
            T v = leftBehind();
            if (v != null) {
                r.value = v;
                r.done = true;
                return r;
            }
        }
        if (closed) {
            r.done = true;
            r.closed = true;
            return r;
        }
        throw ownerEnded(self, op);
    }

    /**
     * On another thread, this channel's thread having ended (its end happens-before this call, which
     * saw it through {@code isAlive()}), or its scheduler (whose inbox, closed before anything else of it
     * ended, refused the caller's post): the oldest value left in the buffer, taken under the lock, which
     * every other thread's operation on it takes too; null if none is left. Only the buffer: a waiting
     * sender's value is not taken, its send has not succeeded (its own thread fails it, see {@link #remote}).
     */
    private T leftBehind() {
        T v;
        lock();
        try {
            v = takeHead();
        } finally {
            unlock();
        }
        if (v != null) {
            Scheduler.markConnectedInPlace();
        }
        return v;
    }

    /**
     * On another thread, for {@code r}, a try call or a close (which never waits in the channel's
     * queue) that must be posted to this channel's thread: with no signal pending for {@code self},
     * false (the caller waits for the answer as usual). With one (a close of the caller, an expired
     * {@code withTimeout}), the caller must not wait: a try call throws the signal, having done nothing;
     * a close, or a kept send, is posted without waiting for it, so that a close in a {@code finally} of
     * an unwinding body still closes the channel, and a permit given back there still goes back, as on
     * the channel's own thread.
     *
     * @return true if {@code r}, a close or a kept send, was posted and is not to be waited for
     * @throws CoroutineExit         the signal, for a try call
     * @throws IllegalStateException if this channel's thread has ended before it could run the close, the channel open
     */
    private boolean postedDespiteSignal(RemoteOp<T> r, Context self, String op) {
        try {
            self.checkSignals(r.ticket);
            return false;
        } catch (CoroutineExit e) {
            if (!r.runsWhateverBecameOfItsCaller()) {
                throw e;
            }
        }
        if (!post(r)) {
            ownerEnded(r, self, op); // closed already, it does nothing; else it throws
            return true;
        }
        r.unawaited = true;
        return true;
    }

    /**
     * On another thread: posts {@code r} to this channel's thread.
     *
     * @return false if that thread (or its scheduler) has ended, or ends just now, and will never run
     *         it: its wait has ended, and the caller fails it as for a thread found ended before
     *         ({@link #ownerEnded(RemoteOp, Context, String)}: a receive takes a value left in the buffer)
     */
    private boolean post(RemoteOp<T> r) {
        scheduler.loop.post(r); // refused (the wait ends) if the thread's scheduler has ended meanwhile
        if (!scheduler.owner.isAlive()) {
            r.ticket.end(); // it ended just after the check: the post may never be run
        }
        return !r.ticket.hasEnded();
    }

    /**
     * On another thread: sends {@code value} in place if that needs no waiting and nothing else: the
     * channel is shared, no select may wait on it now, its thread lives, it is open, and a receiver waits or
     * the buffer has room. The caller's operation then allocates nothing. Otherwise nothing happened,
     * and the operation goes through {@link #remote}, which waits and reports as it must.
     *
     * @return whether the value was sent
     */
    private boolean offerFromAfar(T value) {
        if (!shared) {
            return false;
        }
        lock();
        try {
            if (selecting != 0 || closed || !ownerThread.isAlive() || !offer(value)) {
                return false;
            }
        } finally {
            unlock();
        }
        Scheduler.markConnectedInPlace();
        return true;
    }

    /** {@link #keptOfferFromAfar}'s answers: the value was sent in place; refused in place (no room, no receiver); ask this channel's thread. */
    private static final int SENT = 0, REFUSED = 1, ASK = 2;

    /**
     * On another thread, for {@link #trySendKept}: {@link #offerFromAfar}, which also answers a refusal in place, as
     * the channel's thread would (a full buffer and no receiver waiting), where {@link #remote} would run the call in
     * place all the same, under the lock: so the caller needs no scheduler to be refused (a semaphore's release too
     * many, every permit free). Where the call cannot run in place it must be asked of this channel's thread.
     *
     * @return {@link #SENT}, {@link #REFUSED} or {@link #ASK}
     */
    private int keptOfferFromAfar(T value) {
        if (!shared) {
            return ASK;
        }
        lock();
        try {
            if (selecting != 0 || closed || !ownerThread.isAlive()) {
                return ASK;
            }
            if (!offer(value)) {
                return REFUSED;
            }
        } finally {
            unlock();
        }
        Scheduler.markConnectedInPlace();
        return SENT;
    }

    /**
     * On another thread: takes a value in place if one is there (buffered, or a waiting sender's) and
     * the channel is shared, no select may wait on it now and its thread lives; as {@link #offerFromAfar}.
     *
     * @return the value; null if none was taken (nothing happened)
     */
    private T pollFromAfar() {
        if (!shared) {
            return null;
        }
        T v;
        lock();
        try {
            if (selecting != 0 || !ownerThread.isAlive()) {
                return null;
            }
            v = poll();
        } finally {
            unlock();
        }
        if (v != null) {
            Scheduler.markConnectedInPlace();
        }
        return v;
    }

    /** {@link #serveHere}'s answers: {@code r} ran in place; it must be posted; this channel's thread has ended. */
    private static final int SERVED_HERE = 0, MUST_POST = 1, OWNER_ENDED = 2;

    /**
     * On another thread: runs {@code r} in place under the lock, if this channel's thread still lives.
     * Checked here, under the lock, right before the operation, as {@link #offerFromAfar} checks it:
     * a thread that ended since the caller's first check may have left a context parked here, which
     * never runs again, and a value handed to it would be lost.
     *
     * @return {@link #SERVED_HERE}; {@link #MUST_POST} if a select may wait on this channel now:
     *         {@code r} must be posted to its thread instead; {@link #OWNER_ENDED} if that thread has
     *         ended: nothing was done
     */
    private int serveHere(RemoteOp<T> r) {
        lock();
        try {
            if (selecting != 0) {
                return MUST_POST;
            }
            if (!ownerThread.isAlive()) {
                return OWNER_ENDED;
            }
            serveOp(r);
            return SERVED_HERE;
        } finally {
            unlock();
        }
    }

    /**
     * On another thread: the wait of {@code self} for {@code r} ended with {@code t}. If nothing
     * completed {@code r}, it is withdrawn; if it was handed a value, the value goes back
     * ({@link #giveBackFromAfar}), or, the channel closed, {@code r} keeps it and {@code t} comes at
     * the caller's next scheduling point.
     *
     * @return true if {@code r} keeps the value it was handed: the operation returns it
     */
    private boolean keeps(RemoteOp<T> r, Context self, Throwable t) {
        if (r.ticket.interrupt() || r.ticket.isInterrupted()) {
            withdraw(r);
            return false;
        }
        if (r.sender || r.kind == RemoteOp.CLOSE || r.value == null || giveBackFromAfar(r.value, r.handed)) { // a close's value is its cause
            return false;
        }
        self.throwAtNextPoint(t);
        return true;
    }

    /**
     * On another thread, the park of {@code r}'s caller refused ({@link PinnedException#refusedTheCallersPark}: the
     * JDK cannot suspend the caller there, docs/PINNING.md; or, on the thread engine, the context it would run gets
     * no thread): whether {@code r} had run on this channel's thread before it could be withdrawn (or found that
     * thread ended): then it is over, its outcome the caller's as if it had waited for it (a value sent stays sent,
     * and the send says so), not refused while its value went out. Otherwise (it is withdrawn now) a close or a
     * kept send is left to run, not waited for, and any other operation is withdrawn ({@link #keeps}) and the
     * refusal thrown: nothing was done.
     */
    private static boolean ranBeforeItCouldBeWithdrawn(RemoteOp<?> r) {
        return !r.ticket.interrupt() && !r.ticket.isInterrupted();
    }

    /**
     * On another thread: takes the interrupted operation {@code r} out of the queue it may wait in. With no
     * memory left for the post that asks the channel's thread to, {@code r} stays there until that thread meets
     * it and drops it (an interrupted operation cannot be locked for a hand-off: {@link #pairWithFirst}), rather
     * than fail the end of a wait already over (a select's clause that won, its value taken).
     */
    private void withdraw(RemoteOp<T> r) {
        if (shared) {
            dequeue(r); // under the lock; a post of r not run yet finds it interrupted and drops it
        } else {
            try {
                scheduler.loop.post((Inbox.Unawaited) () -> dequeue(r));
            } catch (OutOfMemoryError e) {
                // left for the channel's thread to drop when it meets it (see above)
            }
        }
    }

    /**
     * On another thread: {@link #giveBack} a value handed to an operation whose wait then ended with
     * an exception (the channel is shared: the operation ran on it). In place if no select of this
     * channel's thread may wait here now. Otherwise only that thread may hand the value to a waiting
     * receiver, which may be such a select: the value goes to the head of the buffer at once, so that
     * no receive finds the channel drained while it is on its way, and that thread is asked to
     * {@link #handBuffered hand it on}. Once that thread has ended it goes to the head of the buffer
     * too, and stays there: a receiver of that thread left parked here would never run to take it,
     * and a receive of another thread takes it as a value left behind ({@link #leftBehind}).
     *
     * @return true if it went back; false if the channel is closed and the caller keeps it
     */
    private boolean giveBackFromAfar(T v, long handed) {
        assert shared : "a value handed to an operation of another thread on " + describe() + ", which is not shared";
        lock();
        try {
            if (closed) {
                return false;
            }
            if (!ownerThread.isAlive()) {
                putBack(v, handed); // not to a receiver of that thread left parked here, which never runs: left behind
                return true;
            }
            if (selecting == 0) {
                return giveBack(v, handed);
            }
            putBack(v, handed);
        } finally {
            unlock();
        }
        scheduler.loop.post(this::handBufferedNow);
        return true;
    }

    /** On this channel's thread: runs an operation of a context of another thread. */
    void serve(RemoteOp<T> r) {
        lock(); // before the flip: once shared, other threads change the queues in place while they are walked
        try {
            if (beforeClose == null) {
                scheduler.connected = true; // an exchange with another thread: its deadlocks wait for a wake-up from then on
            } // a RemoteClose's close exchanges nothing: no value ever passes, and nothing can come through it afterwards
            becomeShared();
            serveOp(r);
        } finally {
            unlock();
        }
    }

    /**
     * On this channel's thread, under the lock: makes it shared, if it is not yet. Only that: the thread
     * has exchanged nothing yet ({@link Scheduler#connected} is {@link #serve}'s to set), since a wait of
     * it here counts as one another thread may complete from now on ({@link #countAsForeign}), and a
     * wait elsewhere is still none that another thread could end through this channel.
     */
    private void becomeShared() {
        if (!shared) {
            shared = true; // from now on every thread locks, and other threads run their operations in place
            countWaitsAsForeign(senders);
            countWaitsAsForeign(receivers);
        }
    }

    /**
     * From another thread, for a run of a select that found this channel not shared, and so could not
     * try its clause on it in place: asks this channel's thread to share it, as the first operation of
     * another thread does (a post nobody waits for, made once), so that later runs try their clauses here
     * in place. Without it a clause here would never fire at once while another clause was ready.
     */
    void askToShare() {
        if (shared || shareAsked) {
            return;
        }
        shareAsked = true;
        scheduler.loop.post((Inbox.Unawaited) this::shareHere); // refused once that thread's scheduler has ended: nothing to share
    }

    /**
     * On this channel's thread: {@link #becomeShared}, asked by {@link #askToShare}. Nothing was exchanged
     * (the select that asked took nothing from the channel and gave it nothing), so the thread's deadlocks on
     * its other channels are still reported as they are.
     */
    private void shareHere() {
        lock();
        try {
            becomeShared();
        } finally {
            unlock();
        }
    }

    /** Runs {@code r} under the lock, on this channel's thread or in place on the caller's. */
    private void serveOp(RemoteOp<T> r) {
        switch (r.kind) {
            case RemoteOp.SEND, RemoteOp.TRY_SEND -> serveSend(r);
            case RemoteOp.RECEIVE, RemoteOp.TRY_RECEIVE -> serveReceive(r);
            case RemoteOp.KEPT_SEND -> {
                // sent though its caller's wait for the answer was interrupted meanwhile, as a close closes:
                // a permit given back in a finally must not be lost
                boolean locked = r.lock();
                boolean sent = !closed && offer(r.value);
                if (locked) {
                    r.completeWith(sent);
                }
            }
            default -> {
                // a close once posted closes, though its caller's wait for the answer was interrupted
                // meanwhile (its coroutine closed, its withTimeout expired), as one posted with the signal
                // pending already does: a close in a finally must not leave the channel open
                boolean locked = r.lock();
                boolean closedIt = closeHere((Throwable) r.value); // a close's cause, carried in the value's place
                if (locked) {
                    r.completeWith(closedIt); // whether it was the first close (see closeFirstFromAfar)
                }
            }
        }
    }

    private void serveSend(RemoteOp<T> r) {
        if (back != 0 && !closed) {
            handBuffered(); // values given back go to the receivers waiting before a later send does (see offerBehindGivenBack)
        }
        if (closed) {
            finish(r, true);
        } else if (pairWithFirst(r, receivers)) {
            return;
        } else if (buffered() < capacity) {
            if (r.lock()) {
                buffer.add(r.value);
                r.complete(false);
            }
        } else if (r.kind == RemoteOp.TRY_SEND) {
            refuse(r);
        } else if (!r.isStale()) { // one that timed out before its post ran stays out
            r.waited = true;
            queueFromAfar(senders, r);
        }
    }

    private void serveReceive(RemoteOp<T> r) {
        if (back != 0) {
            handBuffered(); // values given back go to the receivers that waited longer first (see takeHeadAfterWaitingReceivers)
        }
        if (buffered() > 0) {
            if (r.lock()) {
                r.handed = headOrder();
                if (r.selectClaim() == null) {
                    r.value = poll();
                    r.complete(false);
                } else {
                    // a select's clause completes before a waiting sender's value moves into the room it
                    // left: that sender may be the same select's send clause, or a clause of another select
                    // whose wait must not be locked while this one is (two are locked only in their order)
                    r.value = takeHead();
                    r.complete(false);
                    refill();
                }
            }
        } else if (pairWithFirst(r, senders)) {
            return;
        } else if (closed) {
            finish(r, true);
        } else if (r.kind == RemoteOp.TRY_RECEIVE) {
            refuse(r);
        } else if (!r.isStale()) { // one that timed out before its post ran stays out
            queueFromAfar(receivers, r);
        }
    }

    /**
     * Queues {@code r}, an operation of another thread that must wait, in {@code q} (under the lock if the
     * channel is shared); every so often first drops, from both queues, the waiters whose thread has ended
     * ({@link ChannelWaiter#isStale}). Such a waiter (a plain or virtual thread returned with a coroutine
     * parked here) is dropped when an operation meets it anyway, but on a channel whose waiters nothing
     * meets for long (one that is only closed at shutdown, say) every thread that ended so would leave its
     * scheduler, its coroutines and their stacks behind, for as long as the channel lives. Swept after as
     * many such operations as the last sweep left waiting (at least {@link #MIN_SWEEP}), the queues hold at
     * most about twice the waiters still alive, and the sweeps cost O(1) per operation, amortized. Off the
     * paths of the channel's own thread: an operation of another thread that waits here comes through this.
     */
    private void queueFromAfar(WaitQueue<ChannelWaiter<T>> q, RemoteOp<T> r) {
        if (++queuedFromAfar >= sweepAt) {
            int left = sweep(senders) + sweep(receivers);
            queuedFromAfar = 0;
            sweepAt = Math.max(MIN_SWEEP, left);
        }
        q.add(r);
    }

    /** Drops every waiter of {@code q} that only waits to be taken out ({@link ChannelWaiter#isStale}); how many are left. */
    private static <T> int sweep(WaitQueue<ChannelWaiter<T>> q) {
        int left = 0;
        for (ChannelWaiter<T> w = q.first(), next; w != null; w = next) {
            next = q.next(w);
            if (w.isStale()) {
                q.remove(w);
            } else {
                left++;
            }
        }
        return left;
    }

    /**
     * Pairs {@code r} with the first waiter of {@code partners} that can still be locked (its partners:
     * receivers for a send, senders for a receive): the value moves from the sender to the receiver and
     * both complete. False if no waiter is left to pair with; true if they were paired, or if {@code r}
     * itself had left meanwhile (the waiter is then unlocked and stays).
     */
    private boolean pairWithFirst(RemoteOp<T> r, WaitQueue<ChannelWaiter<T>> partners) {
        if (r.selectClaim() != null) {
            return pairClauseWithFirst(r, partners);
        }
        ChannelWaiter<T> x = firstLocked(partners);
        if (x == null) {
            return false;
        }
        if (!r.lock()) {
            x.unlock();
            return true;
        }
        handOff(r, x, partners);
        return true;
    }

    /** Completes {@code r} and {@code x}, both locked, with the value one of them sends; {@code x} leaves {@code partners}. */
    private void handOff(RemoteOp<T> r, ChannelWaiter<T> x, WaitQueue<ChannelWaiter<T>> partners) {
        partners.remove(x);
        if (r.sender) {
            x.value = r.value;
            x.handed = ++handOffs;
        } else {
            r.value = x.value;
            r.handed = ++handOffs;
        }
        x.complete(false);
        r.complete(false);
    }

    /**
     * {@link #pairWithFirst} for {@code r}, a clause of a select over channels of several threads: a
     * waiter that is a clause of the same select is passed over (a select does not meet itself), and
     * when the partner is a clause of another such select the two waits are locked in their order
     * ({@link RemoteOp#claimOrder}), each waiting while another thread holds it: a thread holding one
     * such wait waits only for a later one, so two never wait for each other.
     */
    private boolean pairClauseWithFirst(RemoteOp<T> r, WaitQueue<ChannelWaiter<T>> partners) {
        ForeignWait own = r.selectClaim();
        for (ChannelWaiter<T> x = partners.first(), next; x != null; x = next) {
            next = partners.next(x);
            ForeignWait theirs = x.selectClaim();
            if (theirs == own) {
                continue;
            }
            if (theirs != null && r.claimOrder() < ((RemoteOp<T>) x).claimOrder()) {
                if (!r.lock()) {
                    return true;
                }
                if (!x.lock()) {
                    r.unlock();
                    partners.remove(x); // over: dropped
                    continue;
                }
            } else {
                if (!x.lock()) {
                    partners.remove(x);
                    continue;
                }
                if (!r.lock()) {
                    x.unlock();
                    return true;
                }
            }
            handOff(r, x, partners);
            return true;
        }
        return false;
    }

    /** Completes {@code r}, if it has not left, as finding the channel closed ({@code closed}) or not. */
    private static void finish(RemoteOp<?> r, boolean closed) {
        if (r.lock()) {
            r.complete(closed);
        }
    }

    /** Completes the try-call {@code r}, if it has not left, as refused: full for a send, empty for a receive. */
    private static void refuse(RemoteOp<?> r) {
        if (r.lock()) {
            r.completeWith(false);
        }
    }

    /** For a select: why {@code self} cannot {@code op} this channel, whose thread has ended. */
    IllegalStateException ownerEndedFor(Context self, String op) {
        return ownerEnded(self, op);
    }

    /** Why {@code self} cannot {@code op} this channel: its thread has ended (before running the operation, or completing it). */
    private IllegalStateException ownerEnded(Context self, String op) {
        return ownerEnded(caller(self), op);
    }

    /** {@link #ownerEnded(Context, String)} naming {@code caller} as it is: a thread without a scheduler as a thread. */
    private IllegalStateException ownerEnded(String caller, String op) {
        if (permits) { // a semaphore's permits: refused as the semaphore's own call, in the words of its other refusals
            return new IllegalStateException(caller + " cannot " + describeOperation(op)
                    + ": it belongs to thread " + ownerName() + ", which has ended");
        }
        return new IllegalStateException(caller + " cannot " + op + " " + describe() + " (" + state()
                + "): it belongs to thread " + ownerName() + ", which has ended");
    }

    /**
     * This channel's thread having ended: whether an operation of {@code kind} from another thread is refused for it
     * ({@link #ownerEnded(RemoteOp, Context, String)}), as known before the caller has a scheduler, so that a thread
     * without one gets none for the refusal: the channel is open, and a receive finds no value left in the buffer to
     * take (a semaphore's acquire takes none). Where it is not known so, the operation goes on as before.
     */
    private boolean refusedAsItsThreadEnded(int kind) {
        if (closed) {
            return false;
        }
        if (permits || (kind != RemoteOp.RECEIVE && kind != RemoteOp.TRY_RECEIVE)) {
            return true;
        }
        lock();
        try {
            return buffered() == 0;
        } finally {
            unlock();
        }
    }

    /**
     * {@code op} (e.g. {@code receive from}) on this channel as dumps, events, signals and errors name a
     * wait for it: {@code receive from channel 'jobs'}. On the channel of a {@link Semaphore}'s permits it is
     * the semaphore's call that made {@code op}, on the semaphore with its permits free now, in the words of
     * the semaphore's refusals ({@code acquire a permit of Semaphore[db, 0 of 10 permits free]}): the channel
     * underneath is not the user's. Made only when a wait is described, never by an operation.
     */
    String describeOperation(String op) {
        if (permits) {
            String call = semaphoreCall(op);
            if (call != null) {
                return call + " " + describeSemaphore();
            }
        }
        return op + " " + describe();
    }

    /**
     * {@code op} on this channel as a wait of another thread than this channel's names it: as
     * {@link #describeOperation} does, then this channel's thread, e.g. {@code receive from channel 'jobs' of
     * thread 'main' (#1)}, whether the channel is shared yet or not, and after its thread has ended too (a wait
     * the liveness check has not failed yet). The one text of a plain operation's wait of another thread
     * ({@link RemoteOp}) and of a select's clause over a channel of another thread than the select's; made only
     * when a wait is described, never by an operation.
     */
    String describeOperationAfar(String op) {
        return describeOperation(op) + " of thread " + ownerName();
    }

    /**
     * The call of a {@link Semaphore} that made {@code op} of its permits' channel: a release is a
     * {@code trySend}, a timed or untimed {@code tryAcquire} a {@code tryReceive}, an acquire a receive;
     * null for an operation no call of a semaphore makes.
     */
    private static String semaphoreCall(String op) {
        return switch (op) {
            case "trySend to" -> "release";
            case "tryReceive from" -> "tryAcquire a permit of";
            case "receive from" -> "acquire a permit of";
            default -> null;
        };
    }

    /**
     * The {@link Semaphore} whose permits this channel holds, as its {@code toString()} names it, with the
     * permits free now: {@code Semaphore[db, 3 of 10 permits free]}; any thread may ask, as of its
     * {@link Semaphore#availablePermits()}.
     */
    private String describeSemaphore() {
        return Semaphore.describe(name.substring(0, name.length() - Semaphore.CHANNEL_SUFFIX.length()),
                Semaphore.free(size(), capacity), capacity);
    }

    /**
     * What kind of wait a waiter of this channel's thread is, for observers ({@link Wait#reason()}):
     * {@code semaphore} on a {@link Semaphore}'s permits, else {@code channel}.
     */
    String waitReason() {
        return permits ? "semaphore" : "channel";
    }

    /** This channel's thread. */
    Thread owner() {
        return scheduler.owner;
    }

    /** The name of this channel's thread, for messages. */
    String ownerName() {
        return Scheduler.describe(scheduler.owner);
    }

    /** Takes {@code w} out of the queue it waits in, if it is still there. */
    void dequeue(ChannelWaiter<T> w) {
        boolean locked = acquire();
        try {
            (w.sender ? senders : receivers).remove(w);
        } finally {
            release(locked);
        }
    }

    /**
     * The wait of {@code w}, a waiter of this channel's thread, is interrupted by that thread: it
     * leaves its queue.
     *
     * @return false if another thread completed it first (its wake-up is on its way): it keeps its result
     */
    boolean leave(ChannelWaiter<T> w) {
        boolean locked = acquire();
        try {
            if (locked && !w.queued && w.done) {
                return false;
            }
            (w.sender ? senders : receivers).remove(w);
            return true;
        } finally {
            release(locked);
        }
    }

    /**
     * {@code w}'s wait ended without it: it leaves {@code queue}, or gives back the value it was
     * handed; on a closed channel it keeps that value instead (see {@link #giveBack}), and so too where
     * its park was refused after it was handed the value ({@link ChannelWaiter#parkRefused}).
     *
     * @return true if {@code w} keeps the value it was handed: its operation returns it
     */
    private boolean cancel(ChannelWaiter<T> w, WaitQueue<ChannelWaiter<T>> queue) {
        boolean locked = acquire();
        try {
            boolean kept = false;
            if (!w.done) {
                queue.remove(w);
            } else {
                kept = !w.sender && w.value != null && (w.parkRefused || !giveBack(w.value, w.handed));
                if (locked && w.context.channelWaiter == w) {
                    w.context.channelWaiter = null; // another thread may have completed it: its wake-up must not find it reused
                }
            }
            if (!kept) {
                w.value = null;
            }
            return kept;
        } finally {
            release(locked);
        }
    }

    // ---- the lock of a shared channel ---------------------------------------------------------

    /**
     * Locks the channel if it is shared (only this channel's thread calls it, and only it ever makes
     * the channel shared, so an unshared channel needs no lock).
     *
     * @return whether it locked: pass it to {@link #release}
     */
    private boolean acquire() {
        if (!shared) {
            return false;
        }
        lock();
        return true;
    }

    /** Unlocks what {@link #acquire} locked: the lock itself, one frame fewer (see {@link SpinLock#unlock}). */
    private void release(boolean locked) {
        if (locked) {
            guard.unlock();
        }
    }

    /** Takes the lock, spinning while another thread holds it (for the few steps of one operation); reentrant. */
    private void lock() {
        guard.lock();
    }

    /** Gives back one hold of the lock. */
    private void unlock() {
        guard.unlock();
    }

    /**
     * For tests: run by another thread's operation that goes through {@link #remote} just after it
     * found this channel's thread alive, so that a test can end that thread exactly then. Null (the
     * default) runs nothing.
     */
    static Runnable afterLivenessCheck;

    /**
     * For tests: run by another thread's operation that goes through {@link #remote} with the operation, once
     * it is posted (or queued here) and just before its caller parks to wait for it, so that a test can let
     * this channel's thread run it first. Null (the default) runs nothing.
     */
    static Consumer<RemoteOp<?>> beforeParkAcross;

    /** The thread holding its lock, null if none (for tests). */
    Thread lockHolder() {
        return guard.holder();
    }

    /** Whether a context of another thread has used it through its thread, which then shared it (for tests). */
    boolean isShared() {
        return shared;
    }

    /** Whether other threads run their operations on it in place: it is shared, and no select may wait on it now (for tests). */
    boolean isSharedInPlace() {
        lock();
        try {
            return shared && selecting == 0;
        } finally {
            unlock();
        }
    }

    /**
     * Completing {@code w}, a waiter of this channel's thread: wakes its context now if the caller
     * runs this channel's scheduler, else posts its wake-up to that thread (a shared channel, an
     * operation run in place by another thread).
     */
    void wake(ChannelWaiter<T> w) {
        // Scheduler.isCaller(), but with the owner kept here rather than read from the scheduler's line
        if (shared && Thread.currentThread() != ownerThread && Scheduler.currentOrNull() != scheduler) {
            w.deliver(ownerInbox); // refused only if the thread's scheduler has ended: nothing left to wake
        } else {
            scheduler.unpark(w.context);
        }
    }

    /**
     * The caller's failure: it may be a context of another thread, so it is named from its own scheduler; a thread
     * that has none as a thread ({@link #callerHere()}: none is made for a message).
     */
    private ChannelClosedException closedAndDrained(String op) {
        return new ChannelClosedException(callerHere() + " cannot " + op + " "
                + describe() + " (" + state() + "): " + NONE_LEFT, this);
    }

    /**
     * {@code c}, the caller of a refused operation, for its message: the context, and its thread too if
     * that is not this channel's, e.g. {@code coroutine 'c' of thread 'worker' (#22)}.
     */
    String caller(Context c) {
        return c.scheduler == scheduler ? c.describe() : c.describe() + " of thread " + Scheduler.describe(c.scheduler.owner);
    }

    /**
     * The caller of a refused operation, for its message, as {@link #caller(Context)} names it; a thread
     * that has no scheduler is named as a thread, as every refusal names it (none is made for a message).
     */
    String callerHere() {
        Scheduler here = Scheduler.currentOrNull();
        return here != null ? caller(here.currentContext()) : Scheduler.describeCallerAndThread();
    }

    /**
     * A timed operation's timeout in nanoseconds; the message naming the caller (with its thread, if it is
     * not this channel's), {@code op} and this channel with its state, as the channel's other refusals do,
     * is built only for a negative one.
     */
    private long timeoutNanos(Duration timeout, String op) {
        Objects.requireNonNull(timeout, "timeout");
        if (!timeout.isNegative()) {
            return Scheduler.saturatedNanos(timeout);
        }
        Scheduler here = Scheduler.currentOrNull();
        if (here == null) { // named as a thread, as every refusal names one that has no scheduler: none is made for a message
            throw new IllegalArgumentException(Scheduler.describeCallerAndThread() + " cannot " + op + " " + describe() + " ("
                    + state() + ") with timeout " + timeout + ": a timeout must be zero or positive");
        }
        Context self = here.currentContext();
        return Scheduler.checkTimeout(timeout, self, caller(self), op + " " + describe() + " (" + state() + ")");
    }

    /**
     * The message of a send refused because the buffer holds {@code most} values, the most a buffer holds
     * ({@link Fifo#mostValues}), naming the caller as the channel's other refusals do, e.g. {@code coroutine
     * 'producer' cannot send to channel 'jobs' (open): its buffer holds 1073741824 values, the most a buffer holds}.
     */
    String pastTheMostBuffered(int most) {
        return callerHere() + " cannot send to " + describe() + " (" + state() + "): its buffer holds " + most
                + " values, the most a buffer holds";
    }

    /** This channel's state for messages, which name it in parentheses after the channel: {@code open} or {@code closed}. */
    String state() {
        return closed ? "closed" : "open";
    }

    /** A phrase naming this channel for messages, e.g. {@code channel 'jobs'}. */
    String describe() {
        return beforeClose != null ? name : "channel '" + SafeText.name(name) + "'";
    }
}
