package dev.coro;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Tasks posted to a thread's event loop from any thread, which the owner thread runs, oldest first,
 * at its next scheduling point or idle wait: a multi-producer, single-consumer queue.
 *
 * <p>A post is one compare-and-set on a stack of nodes; the owner takes the whole stack with one
 * swap and runs it in the order it was posted. Whether anything is waiting is one volatile read.
 * When the owner's scheduler ends it {@link #close() closes} the inbox: later posts are refused, so
 * that their sender learns that nobody will run them.
 */
final class Inbox {

    private static final VarHandle HEAD;

    static {
        try {
            HEAD = MethodHandles.lookup().findVarHandle(Inbox.class, "head", Node.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final class Node {
        final Runnable task;
        Node next;

        Node(Runnable task) {
            this.task = task;
        }
    }

    /** The head of a closed inbox: no post is taken any more. */
    private static final Node CLOSED = new Node(null);

    /** The posts not yet taken, newest first; {@link #CLOSED} once closed. */
    @SuppressWarnings("unused") // through HEAD
    private volatile Node head;

    /** Whether nothing is waiting; one volatile read (a closed inbox is never empty, and drains nothing). */
    boolean isEmpty() {
        return head == null;
    }

    /**
     * Posts {@code task}; from any thread.
     *
     * @return false if the inbox is closed: the task will never run
     */
    boolean post(Runnable task) {
        Node n = new Node(task);
        Node h;
        do {
            h = head;
            if (h == CLOSED) {
                return false;
            }
            n.next = h;
        } while (!HEAD.compareAndSet(this, h, n));
        return true;
    }

    /**
     * Closes the inbox (owner thread only): later posts are refused.
     *
     * @return the tasks posted but not run, oldest first; they never will be
     */
    List<Runnable> close() {
        Node n = (Node) HEAD.getAndSet(this, CLOSED);
        ArrayList<Runnable> left = new ArrayList<>();
        for (; n != null && n != CLOSED; n = n.next) {
            left.add(n.task);
        }
        Collections.reverse(left);
        return left;
    }

    /** Runs every task posted so far, oldest first (owner thread only). */
    void drain() {
        if (head == CLOSED) {
            return;
        }
        Node n = (Node) HEAD.getAndSet(this, (Node) null);
        Node oldest = null;
        while (n != null) {
            Node next = n.next;
            n.next = oldest;
            oldest = n;
            n = next;
        }
        for (Node k = oldest; k != null; k = k.next) {
            k.task.run();
        }
    }
}
