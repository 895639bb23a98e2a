package dev.coro;

import java.io.IOException;

/**
 * A context's wait for a selectable channel to become ready for some operations: a one-shot wait
 * queued on the channel's {@link IoKey}, completed by the event loop when the selector reports the
 * channel ready, or failed when the channel is closed under it.
 *
 * <p>Its key keeps one ended wait to use again ({@link IoKey#take}, {@link IoKey#recycle}), so a
 * connection read or written again and again allocates nothing per wait.
 */
final class IoWait extends WaitQueue.Node<IoWait> implements Wait, Cleanup {

    final IoKey key;
    /** The waiting context; null while the wait is kept for reuse. */
    Context context;
    /** The operations waited for ({@code SelectionKey.OP_READ} ...). */
    int ops;
    /** What the context is doing, for dumps, e.g. {@code read from connection /127.0.0.1:40000}. */
    private Object operation;
    /** Completed: the channel is ready, or {@link #failure} says why it never will be. */
    boolean done;
    /**
     * Why the wait failed (its channel was closed), e.g. {@code the connection was closed while it
     * waited}; null if it completed by readiness. A text, not an exception: the context makes the
     * exception when it runs again, so that its stack trace is the waiter's, not the closer's.
     */
    String failure;
    /**
     * The thread's selector's failure that ended the wait (the selector is closed), whose text
     * {@link #failure} is; null if the wait completed otherwise, or failed because its channel was closed.
     */
    IOException cause;

    IoWait(IoKey key) {
        this.key = key;
    }

    /** Makes this (new or ended) wait {@code context}'s wait for {@code ops}, not completed. */
    IoWait start(Context context, int ops, Object operation) {
        this.context = context;
        this.ops = ops;
        this.operation = operation;
        this.done = false;
        this.failure = null;
        this.cause = null;
        return this;
    }

    /** Forgets the ended wait's context and operation, so a kept wait holds on to neither. */
    void clear() {
        context = null;
        operation = null;
        failure = null;
        cause = null;
    }

    /** Completes the wait ({@code failure} null: the channel is ready; else why not) and wakes the context. */
    void complete(String failure) {
        this.done = true;
        this.failure = failure;
        context.scheduler.unpark(context);
    }

    /** Fails the wait because the thread's selector failed with {@code e} (see {@link #cause}), and wakes the context. */
    void selectorFailed(IOException e) {
        this.cause = e;
        complete(e.toString());
    }

    /** What the context is doing, as it was given: its {@code toString()} for messages, and maybe the state of what it waits on. */
    Object operation() {
        return operation;
    }

    /** Leaves the key's queue: readiness can no longer complete this wait. */
    @Override
    public boolean interrupt() {
        key.remove(this);
        return true;
    }

    /** The clean-up of a wait whose park threw: it leaves its key's queue ({@link #interrupt}), if it is still there. */
    @Override
    public void finish() {
        interrupt();
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
