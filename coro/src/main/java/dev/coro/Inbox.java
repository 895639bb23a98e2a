package dev.coro;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * Tasks posted to a thread's event loop from any thread, which the owner thread runs, oldest first,
 * at its next scheduling point or idle wait: a multi-producer, single-consumer queue.
 *
 * <p>A post is one compare-and-set on a stack of nodes; the owner takes the whole stack with one
 * swap and runs it in the order it was posted. Whether anything is waiting is one volatile read.
 * When the owner's scheduler ends it {@link #close() closes} the inbox: later posts are refused, so
 * that their sender learns that nobody will run them.
 *
 * <p>It also says whether its owner sleeps in its idle wait, and how to wake it, so that a post
 * touches one cache line of the owner's: the fields other threads read and write sit between
 * padding ({@link InboxFields}), on a line of their own.
 */
final class Inbox extends InboxFields {

    private static final VarHandle HEAD;

    static {
        try {
            HEAD = MethodHandles.lookup().findVarHandle(InboxFields.class, "head", Node.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused") // padding after the fields other threads use
    private long q1, q2, q3, q4, q5, q6, q7, q8;

    static final class Node {
        final Runnable task;
        Node next;

        Node(Runnable task) {
            this.task = task;
        }
    }

    /**
     * A post that only observes the thread (a dump for the JMX view): it wakes the owner like any
     * other, but it is no result that could wake a context, so the virtual clock's quiet wait
     * ({@link EventLoop#quietNanos}) goes on through it.
     */
    interface Observation extends Runnable {
    }

    /** The head of a closed inbox: no post is taken any more. */
    private static final Node CLOSED = new Node(null);

    /** Whether nothing is waiting; one volatile read (a closed inbox is never empty, and drains nothing). */
    boolean isEmpty() {
        return head == null;
    }

    /**
     * Whether every post waiting is an {@link Observation} (owner thread only): true if none is
     * waiting; false once the inbox is closed.
     */
    boolean onlyObservations() {
        for (Node n = head; n != null; n = n.next) {
            if (n == CLOSED || !(n.task instanceof Observation)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Posts {@code task}, waking the owner if it sleeps in its idle wait; from any thread.
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
        if (sleeping) {
            Selector s = sleepingIn;
            if (s != null) {
                s.wakeup();
            } else {
                LockSupport.unpark(sleeper);
            }
        }
        return true;
    }

    /**
     * The owner is about to block (in {@code selector}, or parked if null): from now on a post wakes it.
     * Owner thread only; {@link #awake()} when the block ends.
     */
    void sleeping(Selector selector) {
        sleeper = Thread.currentThread();
        sleepingIn = selector;
        sleeping = true;
    }

    /** The owner's block ended: posts only queue again. */
    void awake() {
        sleeping = false;
    }

    /** Whether the owner blocks in its idle wait now. */
    boolean isSleeping() {
        return sleeping;
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

    /** Runs every task posted so far, oldest first (owner thread only); with none, one volatile read and no swap. */
    void drain() {
        Node h = head;
        if (h == null || h == CLOSED) {
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

/** Padding before the fields of an {@link Inbox} that other threads use, so that they share no cache line with other data. */
abstract class InboxPadding {
    @SuppressWarnings("unused")
    private long p1, p2, p3, p4, p5, p6, p7, p8;
}

/** The fields of an {@link Inbox} that other threads use: the posts, and whether (and how) the owner sleeps. */
abstract class InboxFields extends InboxPadding {
    /** The posts not yet taken, newest first; {@code Inbox.CLOSED} once closed. Through {@code Inbox.HEAD}. */
    volatile Inbox.Node head;
    /** While the owner blocks in its idle wait: posts must wake it. */
    volatile boolean sleeping;
    /** The thread blocked in its idle wait, to unpark. */
    volatile Thread sleeper;
    /** The selector the sleeper blocks in, to wake up; null if it parks. */
    volatile Selector sleepingIn;
}
