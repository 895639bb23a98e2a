package dev.coro;

/**
 * A FIFO queue of waiters that a waiter can leave in O(1) from anywhere in it: the parked senders or
 * receivers of a {@link Channel}. Each waiter is its own node, so a cancelled or closed wait
 * unlinks itself without a scan.
 *
 * @param <W> the waiters' type
 */
final class WaitQueue<W extends WaitQueue.Node<W>> {

    /** A waiter's links in the one queue it may be in at a time. */
    abstract static class Node<W extends Node<W>> {
        W prev;
        W next;
        /** Whether it is in a queue now. */
        boolean queued;
    }

    private W head;
    private W tail;

    /** Whether no waiter is queued. */
    boolean isEmpty() {
        return head == null;
    }

    /** The oldest waiter; null if none. */
    W first() {
        return head;
    }

    /** The waiter after {@code w}, which is queued here; null if it is the last. */
    W next(W w) {
        return w.next;
    }

    /** Appends {@code w}, which is in no queue. */
    void add(W w) {
        w.prev = tail;
        w.next = null;
        if (tail == null) {
            head = w;
        } else {
            tail.next = w;
        }
        tail = w;
        w.queued = true;
    }

    /** Puts {@code w}, which is in no queue, ahead of every waiter queued. */
    void addFirst(W w) {
        w.prev = null;
        w.next = head;
        if (head == null) {
            tail = w;
        } else {
            head.prev = w;
        }
        head = w;
        w.queued = true;
    }

    /** Removes and returns the oldest waiter; null if none. */
    W poll() {
        W w = head;
        if (w != null) {
            remove(w);
        }
        return w;
    }

    /** Removes {@code w} if it is queued here; O(1). */
    void remove(W w) {
        if (!w.queued) {
            return;
        }
        if (w.prev == null) {
            head = w.next;
        } else {
            w.prev.next = w.next;
        }
        if (w.next == null) {
            tail = w.prev;
        } else {
            w.next.prev = w.prev;
        }
        w.prev = null;
        w.next = null;
        w.queued = false;
    }
}
