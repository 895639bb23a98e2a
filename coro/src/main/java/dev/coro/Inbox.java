package dev.coro;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Tasks posted to a thread's event loop from any thread, which the owner thread runs, oldest first,
 * at its next scheduling point or idle wait: a multi-producer, single-consumer queue.
 *
 * <p>A post is one compare-and-set on a stack of nodes; the owner takes the whole stack with one
 * swap and runs it in the order it was posted. Whether anything is waiting is one volatile read.
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

    /** The posts not yet taken, newest first. */
    @SuppressWarnings("unused") // through HEAD
    private volatile Node head;

    /** Whether nothing is waiting; one volatile read. */
    boolean isEmpty() {
        return head == null;
    }

    /** Posts {@code task}; from any thread. */
    void post(Runnable task) {
        Node n = new Node(task);
        Node h;
        do {
            h = head;
            n.next = h;
        } while (!HEAD.compareAndSet(this, h, n));
    }

    /**
     * Runs every task posted so far, oldest first (owner thread only).
     *
     * @return whether any task ran
     */
    boolean drain() {
        Node n = (Node) HEAD.getAndSet(this, (Node) null);
        if (n == null) {
            return false;
        }
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
        return true;
    }
}
