package dev.coro;

import java.io.IOException;

/**
 * A context's wait for a selectable channel to become ready for some operations: a one-shot wait
 * queued on the channel's {@link IoKey}, completed by the event loop when the selector reports the
 * channel ready, or failed when the channel is closed under it.
 */
final class IoWait extends WaitQueue.Node<IoWait> implements Wait {

    final IoKey key;
    final Context context;
    /** The operations waited for ({@code SelectionKey.OP_READ} ...). */
    final int ops;
    /** What the context is doing, for dumps, e.g. {@code read from connection /127.0.0.1:40000}. */
    private final Object operation;
    /** Completed: the channel is ready, or {@link #failure} says why it never will be. */
    boolean done;
    /** Why the wait failed (its channel was closed); null if it completed by readiness. */
    IOException failure;

    IoWait(IoKey key, Context context, int ops, Object operation) {
        this.key = key;
        this.context = context;
        this.ops = ops;
        this.operation = operation;
    }

    /** Completes the wait ({@code failure} null: the channel is ready) and wakes the context. */
    void complete(IOException failure) {
        this.done = true;
        this.failure = failure;
        context.scheduler.unpark(context);
    }

    /** Leaves the key's queue: readiness can no longer complete this wait. */
    @Override
    public boolean interrupt() {
        key.remove(this);
        return true;
    }

    @Override
    public String reason() {
        return "io";
    }

    @Override
    public String toString() {
        return operation.toString();
    }
}
