package dev.coro;

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
    private final WaitQueue<Waiter<T>> senders = new WaitQueue<>();
    private final WaitQueue<Waiter<T>> receivers = new WaitQueue<>();
    private boolean closed;

    /** A parked context and the value it hands over (a sender's) or is handed (a receiver's). */
    private static final class Waiter<T> extends WaitQueue.Node<Waiter<T>> {
        final Context context;
        T value;
        /** Woken: the value was handed over, or {@link #closed}. */
        boolean done;
        /** Woken because the channel was closed. */
        boolean closed;

        Waiter(Context context, T value) {
            this.context = context;
            this.value = value;
        }
    }

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
        Waiter<T> w = new Waiter<>(scheduler.currentContext(), value);
        senders.add(w);
        await(w, senders, "send to " + describe());
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
        for (Waiter<T> w; (w = receivers.poll()) != null; ) {
            wakeClosed(w);
        }
        for (Waiter<T> w; (w = senders.poll()) != null; ) {
            wakeClosed(w);
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
        Waiter<T> r = receivers.poll();
        if (r != null) {
            r.value = value;
            wake(r);
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
        Waiter<T> s = senders.poll();
        if (s == null) {
            return v;
        }
        if (v == null) {
            v = s.value;
        } else {
            buffer.add(s.value);
        }
        wake(s);
        return v;
    }

    /** Receives, parking while needed; null once the channel is closed and drained. */
    private T receiveOrNull(String op) {
        checkThread(op);
        T v = poll();
        if (v != null || closed) {
            return v;
        }
        Waiter<T> w = new Waiter<>(scheduler.currentContext(), null);
        receivers.add(w);
        await(w, receivers, "receive from " + describe());
        return w.value;
    }

    /** Parks the caller on {@code w}; on return the channel has woken it. Cleans up if the wait ends otherwise. */
    private void await(Waiter<T> w, WaitQueue<Waiter<T>> queue, String what) {
        try {
            scheduler.park(what);
        } catch (Throwable t) {
            if (!w.done) {
                queue.remove(w);
            } else if (queue == receivers && w.value != null) {
                buffer.addFirst(w.value);
            }
            throw t;
        }
        assert w.done : w.context.describe() + " resumed from " + what + " without being woken";
    }

    private void wake(Waiter<T> w) {
        w.done = true;
        scheduler.unpark(w.context);
    }

    private void wakeClosed(Waiter<T> w) {
        w.closed = true;
        wake(w);
    }

    private ChannelClosedException closedAndDrained(String op) {
        return new ChannelClosedException(scheduler.currentContext().describe() + " cannot " + op + " "
                + describe() + ": it is closed and drained");
    }

    private void checkThread(String op) {
        scheduler.checkCaller(op, describe(), closed ? "closed" : "open");
    }

    /** A phrase naming this channel for messages, e.g. {@code channel 'jobs'}. */
    String describe() {
        return "channel '" + name + "'";
    }
}
