package dev.coro;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;

/**
 * A FIFO queue of values between the contexts of one thread, on which a context that cannot go on
 * parks instead of spinning.
 *
 * <p>A channel has a capacity: how many values it buffers; 0 makes it a rendezvous, where each
 * {@link #send} waits for the {@link #receive} that takes its value. It belongs to the thread that
 * created it, like the coroutines that use it; main may use it too.
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
 *       naming every parked context and its wait, and the caller does not park.</li>
 *   <li>If a body ends and every context left is parked, main's wait is cancelled: its pending
 *       operation throws {@link DeadlockException}.</li>
 *   <li>A failed body's {@link CoroutineException} goes to its creator unless the creator is parked
 *       or gone, then to main; if main is parked, its wait is cancelled and its operation throws it.</li>
 *   <li>{@code switchTo()} a parked coroutine throws {@link IllegalStateException}: only the channel
 *       wakes it. {@code close()} a parked coroutine unwinds it: its operation throws
 *       {@link CoroutineExit} and it leaves the channel's queue.</li>
 *   <li>{@code close()} keeps the buffered values for receivers; parked senders and parked
 *       receivers are woken, and their operations throw {@link ChannelClosedException}.</li>
 *   <li>A receiver whose wait is cancelled after it was handed a value puts the value back at the
 *       head of the buffer: nothing is lost.</li>
 * </ul>
 *
 * @param <T> the type of the values; null is not a value
 */
public final class Channel<T> implements Iterable<T>, AutoCloseable {

    private final Scheduler scheduler;
    private final String name;
    private final int capacity;
    private final ArrayDeque<T> buffer = new ArrayDeque<>();
    private final WaitQueue<ChannelWaiter<T>> senders = new WaitQueue<>();
    private final WaitQueue<ChannelWaiter<T>> receivers = new WaitQueue<>();
    private boolean closed;

    /**
     * Creates a channel named {@code channel-N} (N counting the thread's channels from 1).
     *
     * @param capacity how many values it buffers; 0 for a rendezvous
     * @throws IllegalArgumentException if {@code capacity} is negative
     */
    public Channel(int capacity) {
        this(null, capacity);
    }

    /**
     * Creates a named channel.
     *
     * @param name     the name shown by {@link #toString()}, dumps and error messages; null for a default one
     * @param capacity how many values it buffers; 0 for a rendezvous
     * @throws IllegalArgumentException if {@code capacity} is negative
     */
    public Channel(String name, int capacity) {
        this.scheduler = Scheduler.current();
        this.name = name != null ? name : "channel-" + (scheduler.channelsCreated + 1);
        if (capacity < 0) {
            throw new IllegalArgumentException("cannot create " + describe() + " with capacity " + capacity
                    + ": the capacity must be 0 (rendezvous) or more");
        }
        scheduler.channelsCreated++;
        this.capacity = capacity;
    }

    /**
     * Sends {@code value}: hands it to a parked receiver, or buffers it, or parks until a receiver
     * takes it.
     *
     * @param value the value; not null
     * @throws ChannelClosedException if the channel is closed, or gets closed while the caller waits
     * @throws DeadlockException      if waiting would leave no runnable context on this thread
     * @throws CoroutineExit          if the caller is being closed
     * @throws IllegalStateException  if called from a thread other than the channel's
     */
    public void send(T value) {
        Objects.requireNonNull(value, "value");
        checkThread("send to");
        if (closed) {
            throw new ChannelClosedException(scheduler.currentContext().describe() + " cannot send to "
                    + describe() + ": it is closed");
        }
        if (offer(value)) {
            return;
        }
        ChannelWaiter<T> w = new ChannelWaiter<>(this, true, scheduler.currentContext(), value);
        senders.add(w);
        await(w, senders);
        if (w.closed) {
            throw new ChannelClosedException(w.context.describe() + " cannot send to " + describe()
                    + ": the channel was closed while it waited, and the value was not delivered");
        }
    }

    /**
     * Sends {@code value} if that needs no waiting: hands it to a parked receiver or buffers it. Like
     * every {@code try} call it never throws for a closed channel: false then means "not sent", and
     * {@link #isClosed()} tells a closed channel from a full one.
     *
     * @param value the value; not null
     * @return true if it was sent; false if the buffer is full and no receiver waits, or the channel is closed
     * @throws IllegalStateException  if called from a thread other than the channel's
     */
    public boolean trySend(T value) {
        Objects.requireNonNull(value, "value");
        checkThread("trySend to");
        return !closed && offer(value);
    }

    /**
     * Receives the oldest value, parking until there is one.
     *
     * @return the value
     * @throws ChannelClosedException if the channel is closed and drained, or gets closed while the caller waits
     * @throws DeadlockException      if waiting would leave no runnable context on this thread
     * @throws CoroutineExit          if the caller is being closed
     * @throws IllegalStateException  if called from a thread other than the channel's
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
     * @throws IllegalStateException  if called from a thread other than the channel's
     */
    public Optional<T> tryReceive() {
        checkThread("tryReceive from");
        return Optional.ofNullable(poll());
    }

    /**
     * Receives the oldest value, waiting at most {@code timeout} for one. A receive that times out
     * has taken nothing. Like every {@code try} call it never throws for a closed channel: empty then
     * means "nothing to take", also if the channel is closed while the caller waits.
     *
     * @param timeout how long to wait at most, on the scheduler's clock; zero is {@link #tryReceive()}
     * @return the value; empty if none came in time, or the channel is closed and drained
     * @throws IllegalArgumentException if {@code timeout} is negative (naming the caller and the channel)
     * @throws CoroutineExit            if the caller is being closed, or a {@code withTimeout} of it expired
     * @throws IllegalStateException    if called from a thread other than the channel's
     */
    public Optional<T> tryReceive(Duration timeout) {
        checkThread("tryReceive from");
        long nanos = timeoutNanos(timeout, "tryReceive from");
        T v = poll();
        if (v != null || closed || nanos == 0) {
            return Optional.ofNullable(v);
        }
        ChannelWaiter<T> w = new ChannelWaiter<>(this, false, scheduler.currentContext(), null);
        receivers.add(w);
        return awaitAtMost(w, receivers, nanos) && !w.closed ? Optional.of(w.value) : Optional.empty();
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
     * @throws IllegalArgumentException if {@code timeout} is negative (naming the caller and the channel)
     * @throws CoroutineExit            if the caller is being closed, or a {@code withTimeout} of it expired
     * @throws IllegalStateException    if called from a thread other than the channel's
     */
    public boolean trySend(T value, Duration timeout) {
        Objects.requireNonNull(value, "value");
        checkThread("trySend to");
        long nanos = timeoutNanos(timeout, "trySend to");
        if (closed) {
            return false;
        }
        if (offer(value)) {
            return true;
        }
        if (nanos == 0) {
            return false;
        }
        ChannelWaiter<T> w = new ChannelWaiter<>(this, true, scheduler.currentContext(), value);
        senders.add(w);
        return awaitAtMost(w, senders, nanos) && !w.closed;
    }

    /**
     * Closes the channel: no more sends. Buffered values stay for receivers; parked senders and
     * receivers are woken and their operations throw {@link ChannelClosedException}. Closing twice
     * is fine.
     *
     * @throws IllegalStateException if called from a thread other than the channel's
     */
    @Override
    public void close() {
        checkThread("close");
        if (closed) {
            return;
        }
        closed = true;
        for (ChannelWaiter<T> w; (w = receivers.poll()) != null; ) {
            w.complete(true);
        }
        for (ChannelWaiter<T> w; (w = senders.poll()) != null; ) {
            w.complete(true);
        }
    }

    /**
     * An iterator that receives: {@code hasNext()} parks until a value arrives, and returns false
     * once the channel is closed and drained. Each call makes a new iterator on the same channel.
     *
     * @return a receiving iterator
     */
    @Override
    public Iterator<T> iterator() {
        return new Iterator<>() {
            private T next;

            @Override
            public boolean hasNext() {
                if (next == null) {
                    next = receiveOrNull("iterate over");
                }
                return next != null;
            }

            @Override
            public T next() {
                if (!hasNext()) {
                    throw new NoSuchElementException("cannot take the next value of " + describe()
                            + ": it is closed and drained");
                }
                T v = next;
                next = null;
                return v;
            }
        };
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
        return "Channel[" + name + ", capacity " + capacity + ", " + buffer.size() + " buffered, "
                + (closed ? "closed" : "open") + "]";
    }

    // ---- machinery ------------------------------------------------------------------------

    /** Hands {@code value} over or buffers it, on an open channel; on return true, it was sent. */
    private boolean offer(T value) {
        ChannelWaiter<T> r = receivers.poll();
        if (r != null) {
            r.value = value;
            r.complete(false);
            return true;
        }
        if (buffer.size() < capacity) {
            buffer.add(value);
            return true;
        }
        return false;
    }

    /** Takes the next value without waiting; null if there is none. Wakes the sender it took from. */
    private T poll() {
        T v = buffer.poll();
        ChannelWaiter<T> s = senders.poll();
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

    /** Receives, parking while needed; null once the channel is closed and drained. */
    private T receiveOrNull(String op) {
        checkThread(op);
        T v = poll();
        if (v != null || closed) {
            return v;
        }
        ChannelWaiter<T> w = new ChannelWaiter<>(this, false, scheduler.currentContext(), null);
        receivers.add(w);
        await(w, receivers);
        return w.value;
    }

    /**
     * Parks the caller on {@code w}, queued in {@code queue}; on return its wait has completed. If the
     * wait ends otherwise (a close of the caller, a timeout, a failure for main), {@code w} leaves the
     * queue, and a value it was handed just before goes back to the head of the buffer: nothing is lost.
     */
    private void await(ChannelWaiter<T> w, WaitQueue<ChannelWaiter<T>> queue) {
        try {
            scheduler.park(w);
        } catch (Throwable t) {
            cancel(w, queue);
            throw t;
        }
        assert w.done : w.context.describe() + " resumed from " + w + " without being woken";
    }

    /**
     * {@link #await} for at most {@code nanos}: a timer interrupts the wait if nothing completed it by
     * then (it leaves the queue at that moment, so a timed-out wait has taken and delivered nothing).
     *
     * @return whether the wait completed; false if it timed out
     */
    private boolean awaitAtMost(ChannelWaiter<T> w, WaitQueue<ChannelWaiter<T>> queue, long nanos) {
        EventLoop loop = scheduler.loop;
        Timer expiry = new Timer() {
            @Override
            void expire() {
                if (!w.done && w.context.state() == Coroutine.State.PARKED) {
                    queue.remove(w);
                    scheduler.unpark(w.context);
                }
            }
        };
        loop.schedule(expiry, loop.deadlineAfter(nanos));
        try {
            scheduler.park(w);
        } catch (Throwable t) {
            cancel(w, queue);
            throw t;
        } finally {
            loop.cancel(expiry);
        }
        return w.done;
    }

    // ---- what a Select asks of a channel ----------------------------------------------------

    /** A select's thread check for a clause on this channel. */
    void checkSelect(String op) {
        checkThread(op);
    }

    /** Whether a receive would complete now: a value is buffered, a sender waits, or the channel is closed. */
    boolean canReceiveNow() {
        return !buffer.isEmpty() || !senders.isEmpty() || closed;
    }

    /** Whether a send would complete now: a receiver waits, the buffer has room, or the channel is closed. */
    boolean canSendNow() {
        return closed || !receivers.isEmpty() || buffer.size() < capacity;
    }

    /** Takes a value now; null if the channel is closed and drained (it is ready, see {@link #canReceiveNow}). */
    T pollNow() {
        return poll();
    }

    /** Sends now (it is ready, see {@link #canSendNow}); false if the channel is closed. */
    boolean offerNow(T value) {
        return !closed && offer(value);
    }

    /** Queues a select's clause as a waiting sender or receiver. */
    void enqueue(ChannelWaiter<T> w) {
        (w.sender ? senders : receivers).add(w);
    }

    /** A value a select's receive clause was handed, but its caller's park then ended with an exception: back to the head. */
    void giveBack(T value) {
        buffer.addFirst(value);
    }

    /** Takes {@code w} out of the queue it waits in, if it is still there. */
    void dequeue(ChannelWaiter<T> w) {
        (w.sender ? senders : receivers).remove(w);
    }

    /** {@code w}'s wait ended without it: it leaves {@code queue}, or gives back the value it was handed. */
    private void cancel(ChannelWaiter<T> w, WaitQueue<ChannelWaiter<T>> queue) {
        if (!w.done) {
            queue.remove(w);
        } else if (!w.sender && w.value != null) {
            buffer.addFirst(w.value);
            w.value = null;
        }
    }

    private ChannelClosedException closedAndDrained(String op) {
        return new ChannelClosedException(scheduler.currentContext().describe() + " cannot " + op + " "
                + describe() + ": it is closed and drained");
    }

    /** A timed operation's timeout in nanoseconds; the message naming {@code op} and this channel is built only for a negative one. */
    private long timeoutNanos(Duration timeout, String op) {
        Objects.requireNonNull(timeout, "timeout");
        return timeout.isNegative() ? Scheduler.checkTimeout(timeout, scheduler.currentContext(), op + " " + describe())
                : Scheduler.saturatedNanos(timeout);
    }

    private void checkThread(String op) {
        scheduler.checkCaller(op, this);
    }

    /** A phrase naming this channel for messages, e.g. {@code channel 'jobs'}. */
    String describe() {
        return "channel '" + name + "'";
    }
}
