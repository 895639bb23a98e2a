package dev.coro;

/**
 * A context parked on a {@link Channel}: a sender with the value it hands over, or a receiver to be
 * handed one; a one-shot wait, completed once by the channel (a partner arrived, or the channel
 * was closed), by its timer, or cancelled by the waiter leaving.
 *
 * <p>A {@link Select} clause is a waiter too: completing it also wins its select, which takes its
 * other clauses out of their queues at once, so a channel never finds a waiter whose select is over.
 *
 * @param <T> the channel's value type
 */
class ChannelWaiter<T> extends PostedWait<ChannelWaiter<T>> implements Cleanup {

    /** The channel it waits on (changes only when a context's waiter is used again, see {@link #reuse}). */
    Channel<T> channel;
    /** A sender (its {@link #value} is handed over) or a receiver (it is handed one). */
    boolean sender;
    /** The context waiting; set when it starts waiting. */
    Context context;
    /** A sender's value, or the value a receiver was handed. */
    T value;
    /**
     * The place of the value a receiver was handed in its channel's order of hand-offs, which it keeps
     * if it gives the value back ({@link Channel#giveBack}).
     */
    long handed;
    /** Completed: the value was handed over, or the channel was closed. */
    boolean done;
    /** Completed because the channel was closed. */
    boolean closed;
    /**
     * Whether its wait counts on its thread as one another thread may complete (it waits on a shared
     * channel); set and cleared by its thread only.
     */
    boolean countedAsForeign;
    /**
     * The timeout of a timed {@code tryReceive}/{@code trySend} waiting here, in nanoseconds
     * ({@code Long.MAX_VALUE}: its deadline past the clock's range, no timer); 0 for an untimed wait,
     * {@link #ITERATING} for the untimed wait of a receiving iterator. Only for naming the wait.
     */
    long timeout;
    /**
     * Whether the park of its wait was refused ({@code PinnedException.refusedTheCallersPark}: by the JDK,
     * docs/PINNING.md; on the thread engine, as the context it would run got no thread) and it is being cleaned up: if it was done
     * first (its park ran its thread's posts, and one completed it), it keeps what it did, a value it was handed
     * too, rather than give it back ({@code Channel.cancel}): its operation returns that instead of the refusal.
     */
    boolean parkRefused;

    /**
     * The {@link #timeout} of a receiving iterator's wait ({@code Channel.iterator()}), named as the
     * iterator's call ({@code iterate over channel 'jobs'}) rather than as a receive.
     */
    static final long ITERATING = -1;

    ChannelWaiter(Channel<T> channel, boolean sender, Context context, T value) {
        this.channel = channel;
        this.sender = sender;
        this.context = context;
        this.value = value;
    }

    /**
     * Makes this waiter, whose last wait has ended and which is in no queue, the fresh wait of its
     * context on {@code channel}: a context keeps one ({@link Context#channelWaiter}).
     */
    final void reuse(Channel<T> channel, boolean sender, T value) {
        this.channel = channel;
        this.sender = sender;
        this.value = value;
        this.done = false;
        this.closed = false;
        this.timeout = 0;
        this.parkRefused = false;
    }

    /**
     * Locks this waiter for completion by the channel's thread: always for a waiter of that thread;
     * for one of another thread, only if it has not been interrupted meanwhile.
     *
     * @return false if it must be left alone (interrupted: it is stale)
     */
    boolean lock() {
        return true;
    }

    /**
     * The wait of the select over channels of several threads this waiter is a clause of, which every
     * clause of it shares (a channel never pairs two of its clauses, nor locks two such waits but in
     * their order); null for any other waiter.
     */
    ForeignWait selectClaim() {
        return null;
    }

    /** Gives back a waiter locked but not completed. */
    void unlock() {
    }

    /** Whether it was interrupted by its own thread and only waits to be taken out of the queue. */
    boolean isStale() {
        return false;
    }

    /**
     * The channel completes the wait ({@code closed}: by closing); wakes the context, through its
     * thread's event loop if another thread completes it (in place on a shared channel).
     */
    void complete(boolean closed) {
        this.done = true;
        this.closed = closed;
        channel.wake(this);
    }

    /**
     * On the context's thread, after another thread completed the wait and delivered it: wakes the
     * context if it still waits here. Nothing but this wakes a wait completed by another thread; a
     * close of the context may unwind it first, and then its context drops this waiter (see
     * {@code Channel.cancel}), so the context never waits on it again for a later wait.
     */
    @Override
    final void delivered() {
        if (context.state() == Coroutine.State.PARKED && context.waitingFor == this) {
            context.scheduler.unpark(context);
        }
    }

    /**
     * Leaves the channel's queue: no partner can complete this wait any more.
     *
     * @return false if another thread completed it first (its wake-up is on its way)
     */
    @Override
    public boolean interrupt() {
        return channel.leave(this);
    }

    /** The clean-up of its wait, which a park that threw left unfinished (a wait with no timer): it leaves its queue. */
    @Override
    public void finish() {
        channel.cleanUp(this);
    }

    /** Whether it is a sender whose value a receiver took. */
    @Override
    public boolean sentItsValue() {
        return sender && done && !closed;
    }

    /** {@code channel}, or {@code semaphore} on a {@link Semaphore}'s permits. */
    @Override
    public String reason() {
        return channel.waitReason();
    }

    /**
     * What the context waits to do, e.g. {@code receive from channel 'jobs'}, or the timed call that
     * waits ({@code tryReceive from channel 'jobs'}, with {@code for ever (a timeout past the clock's
     * range)} if no timer ends it), or a receiving iterator's ({@code iterate over channel 'jobs'}); on a
     * {@link Semaphore}'s permits, the semaphore's call ({@code acquire a permit of Semaphore[db, 0 of 10
     * permits free]}, {@code tryAcquire a permit of …}); shown by dumps and errors.
     */
    @Override
    public String toString() {
        long t = timeout;
        if (t == 0) {
            return channel.describeOperation(sender ? "send to" : "receive from");
        }
        if (t == ITERATING) {
            return channel.describeOperation("iterate over");
        }
        return channel.describeOperation(sender ? "trySend to" : "tryReceive from")
                + (t == Long.MAX_VALUE ? " for ever (a timeout past the clock's range)" : "");
    }
}
