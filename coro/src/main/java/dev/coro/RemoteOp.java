package dev.coro;

/**
 * An operation on a {@link Channel} by a context of another thread: posted to the channel's thread,
 * which runs it there, or run in place under the lock of a shared channel; if it must wait, it waits
 * in the channel's queue as a waiter like any other, and its completion reaches the caller's thread
 * through the caller's {@link ForeignWait}, on which the caller parks.
 *
 * @param <T> the channel's value type
 */
final class RemoteOp<T> extends ChannelWaiter<T> implements Runnable {

    static final int SEND = 0;
    static final int TRY_SEND = 1;
    static final int RECEIVE = 2;
    static final int TRY_RECEIVE = 3;
    static final int CLOSE = 4;

    final int kind;
    /** What the caller parks on; completed (or interrupted) exactly once. */
    final ForeignWait ticket;
    /** Whether a try call succeeded (a value was sent); a send that completes sets it too. */
    boolean ok;
    /** The operation's phrase, e.g. {@code receive from}. */
    private final String operation;

    RemoteOp(Channel<T> channel, int kind, Context caller, T value, String operation) {
        super(channel, kind == SEND || kind == TRY_SEND, caller, value);
        this.kind = kind;
        this.operation = operation;
        this.ticket = new ForeignWait(caller, channel.owner(), this);
    }

    /** What the caller waits to do, for dumps and errors, e.g. {@code receive from channel 'jobs' of thread main}. */
    @Override
    public String toString() {
        return operation + " " + channel.describe() + " of thread " + channel.ownerName();
    }

    /** On the channel's thread: runs the operation. */
    @Override
    public void run() {
        channel.serve(this);
    }

    @Override
    boolean lock() {
        return ticket.lock();
    }

    @Override
    void unlock() {
        ticket.unlock();
    }

    @Override
    boolean isStale() {
        return ticket.isInterrupted();
    }

    /** Completes the locked operation; its caller's thread is told. */
    @Override
    void complete(boolean closed) {
        this.done = true;
        this.closed = closed;
        if (sender && !closed) {
            ok = true;
        }
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
