package dev.coro;

/**
 * An operation on a {@link Channel} by a context of another thread: posted to the channel's thread,
 * which runs it there, or run in place under the lock of a shared channel; if it must wait, it waits
 * in the channel's queue as a waiter like any other, and its completion reaches the caller's thread
 * through the caller's {@link ForeignWait}, on which the caller parks.
 *
 * @param <T> the channel's value type
 */
class RemoteOp<T> extends ChannelWaiter<T> implements Runnable {

    static final int SEND = 0;
    static final int TRY_SEND = 1;
    static final int RECEIVE = 2;
    static final int TRY_RECEIVE = 3;
    static final int CLOSE = 4;
    /**
     * A try-send whose value must not be lost however its caller ends (a {@link Semaphore}'s permit): as
     * a close, once posted it runs, whatever became of its caller's wait ({@link Channel#trySendKept}).
     */
    static final int KEPT_SEND = 5;

    final int kind;
    /** What the caller parks on; completed (or interrupted) exactly once. */
    final ForeignWait ticket;
    /** Whether a try call succeeded (a value was sent); a send that completes sets it too. */
    boolean ok;
    /**
     * Whether it waited in the channel's queue (under the channel's lock, before its completion): a send
     * the channel's close then completes says it was closed while it waited, as one of the channel's
     * thread does, not that it found the channel closed.
     */
    boolean waited;
    /**
     * Whether the caller did not wait for its answer, or stopped waiting (a close or a kept send, with a
     * signal pending for the caller, or its wait interrupted): the operation runs all the same. Written and
     * read by the caller's thread only.
     */
    boolean unawaited;
    /** The operation's phrase, e.g. {@code receive from}. */
    private final String operation;

    RemoteOp(Channel<T> channel, int kind, Context caller, T value, String operation) {
        super(channel, kind == SEND || kind == TRY_SEND || kind == KEPT_SEND, caller, value);
        this.kind = kind;
        this.operation = operation;
        this.ticket = new ForeignWait(caller, channel.owner(), this);
    }

    /** An operation whose caller waits on {@code ticket}, which it may share with others (a select's clauses). */
    RemoteOp(Channel<T> channel, int kind, Context caller, T value, String operation, ForeignWait ticket) {
        super(channel, kind == SEND || kind == TRY_SEND, caller, value);
        this.kind = kind;
        this.operation = operation;
        this.ticket = ticket;
    }

    /**
     * Where it comes in the order in which a channel locks two waits of selects over channels of several
     * threads ({@link ChannelWaiter#selectClaim}); only such an operation has one.
     */
    long claimOrder() {
        return 0;
    }

    /**
     * What the caller waits to do, for dumps and errors, e.g. {@code receive from channel 'jobs' of thread 'main' (#1)};
     * on a {@link Semaphore}'s permits, the semaphore's call ({@code acquire a permit of Semaphore[db, 0 of 10 permits
     * free] of thread 'main' (#1)}); a timed call whose deadline is past the clock's range (no timer ends it) as a wait
     * for ever, as one on the caller's own thread is named ({@code tryReceive from channel 'jobs' of thread 'main' (#1)
     * for ever (a timeout past the clock's range)}).
     */
    @Override
    public String toString() {
        String text = channel.describeOperationAfar(operation);
        return timeout == Long.MAX_VALUE ? text + " for ever (a timeout past the clock's range)" : text;
    }

    /** On the channel's thread: runs the operation. */
    @Override
    public void run() {
        channel.serve(this);
    }

    /**
     * Locks it for completion, unless it was interrupted or completed, or it hands a value over (a
     * send or a receive) and its caller's thread has ended: that thread never runs the caller again,
     * so a value handed to it would be lost, and one taken from it was never sent. Such an operation
     * becomes stale, and the channel drops it. A close still closes, and a kept send still sends: its value
     * goes to the channel, not to the caller.
     */
    @Override
    boolean lock() {
        if (!lockTicket()) {
            return false;
        }
        if (runsWhateverBecameOfItsCaller() || ticket.waiterThreadAlive()) {
            return true;
        }
        ticket.abandon();
        return false;
    }

    @Override
    void unlock() {
        ticket.unlock();
    }

    /**
     * Locks {@link #ticket} for completion, as {@link ForeignWait#lock()}: false if it is over. A select's
     * clause waits instead while another thread holds the wait its clauses share ({@link SelectOp}).
     */
    boolean lockTicket() {
        return ticket.lock();
    }

    /**
     * Interrupted by its caller's thread, or left by a thread that has ended (see {@link #lock()}). A
     * close or a kept send never is: once posted it runs, whatever became of its caller's wait.
     */
    @Override
    boolean isStale() {
        return !runsWhateverBecameOfItsCaller() && (ticket.isInterrupted() || !ticket.waiterThreadAlive());
    }

    /** A close or a kept send: once posted it runs, though its caller's wait was interrupted or its thread ended. */
    boolean runsWhateverBecameOfItsCaller() {
        return kind == CLOSE || kind == KEPT_SEND;
    }

    /** Whether it sent a value that a receiver took: a try call may complete with nothing sent. */
    @Override
    public boolean sentItsValue() {
        return ticket.sentItsValue();
    }

    /** Completes the locked operation; its caller's thread is told ({@link #finishTicket}). */
    @Override
    void complete(boolean closed) {
        this.done = true;
        this.closed = closed;
        if (sender && !closed) {
            ok = true;
        }
        finishTicket();
    }

    /**
     * Completes {@link #ticket}, locked by {@link #lockTicket}, once the operation's outcome is written: its
     * caller's thread is told. A select's clause wins instead the run whose wait its clauses share
     * ({@link SelectOp}).
     */
    void finishTicket() {
        ticket.finish();
    }

    /**
     * The channel's thread has ended and will never run this operation (its event loop refused the
     * post, or dropped it unrun): the caller's wait ends, and its operation fails.
     */
    void ownerEnded() {
        ticket.end();
    }

    /** Completes the locked operation with a result of a try call, or of a close. */
    void completeWith(boolean ok) {
        this.done = true;
        this.ok = ok;
        ticket.finish();
    }
}
