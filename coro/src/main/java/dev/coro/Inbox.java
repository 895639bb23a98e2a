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
 * swap and runs it in the order it was posted. A wait that another thread completes is its own node
 * ({@link Posted}): its post allocates nothing, and the owner reads the wait itself, which the
 * completing thread has just written, instead of a node of that thread's first. Whether anything is waiting is one volatile read.
 * When the owner's scheduler ends it {@link #close() closes} the inbox: later posts are refused, so
 * that their sender learns that nobody will run them.
 *
 * <p>It also says whether its owner sleeps in its idle wait, and how to wake it, so that a post
 * touches one cache line of the owner's: the fields other threads read and write sit between
 * padding ({@link InboxFields}), on a line of their own.
 */
final class Inbox extends InboxFields {

    private static final VarHandle HEAD;
    private static final VarHandle TAKES;

    static {
        try {
            HEAD = MethodHandles.lookup().findVarHandle(InboxFields.class, "head", Posted.class);
            TAKES = MethodHandles.lookup().findVarHandle(InboxFields.class, "takes", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused") // padding after the fields other threads use
    private long q1, q2, q3, q4, q5, q6, q7, q8;

    /** The node of a posted task that is not {@link Posted} itself. */
    static final class Node extends Posted.Linked {
        final Runnable task;

        Node(Runnable task) {
            this.task = task;
        }

        @Override
        public void runPosted() {
            task.run();
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
        for (Posted n = head; n != null; n = n.nextPosted()) {
            if (!(n instanceof Node k) || k == CLOSED || !(k.task instanceof Observation)) {
                return false;
            }
        }
        return true;
    }

    /**
     * A post that nobody waits for: it tidies the owner's own state (an operation of another thread
     * whose caller gave up leaves a channel's queue), so an observer of a busy thread does not count
     * it as work ({@link #holdsAwaitedPost()}).
     */
    interface Unawaited extends Runnable {
    }

    /**
     * {@link #holdsAwaitedPost(boolean) holdsAwaitedPost(true)}: about a thread whose main is alone and
     * running with nothing pending ({@link EventLoop#hasPendingForMainAlone}).
     */
    boolean holdsAwaitedPost() {
        return holdsAwaitedPost(true);
    }

    /**
     * Whether a post waiting is one that someone waits for, for an observer on another thread (or the
     * owner itself, outside a scheduling point). An operation of another thread whose caller gave up
     * ({@link RemoteOp#isStale}: a close is never stale, since it still closes and may wake waiters of
     * other threads) waits for nobody, nor does an {@link Unawaited} post, nor an {@link Observation}:
     * a dump's request waits for the thread, the thread for nothing of it, and its asker gives up after
     * a while and lists the thread from outside. With {@code mainAlone} (the thread's main is alone and
     * running) no context of the thread waits either, so a completion (a future's,
     * {@link FutureWaits#isWatch}, or that of a wait another thread completed, a {@link PostedWait})
     * wakes nobody; with other contexts it may wake one, and counts.
     * The posts below the head change only when the owner takes them, so a walk while the owner is
     * blocked sees them as they are, every one of them however many; one that races with the owner
     * taking them may see them relinked (a wait taken may be posted again), and says yes once it sees
     * that the owner took them ({@link InboxFields#takes}): the owner is not blocked then. (It said yes
     * past 64 posts, so that a thread holding that many posts that wake nobody counted as busy.)
     */
    boolean holdsAwaitedPost(boolean mainAlone) {
        int before = (int) TAKES.getAcquire(this);
        int left = 64;
        for (Posted n = head; n != null; n = n.nextPosted()) {
            if (!wakesNobody(n, mainAlone)) {
                return true;
            }
            if (--left == 0) {
                VarHandle.loadLoadFence(); // the links read so far, before the count
                if ((int) TAKES.getAcquire(this) != before) {
                    return true; // the owner took the posts meanwhile: the walk may be in a list relinked under it
                }
                left = 64;
            }
        }
        return false;
    }

    /** Whether {@code n} is a post that nobody waits for (see {@link #holdsAwaitedPost(boolean)}). */
    private static boolean wakesNobody(Posted n, boolean mainAlone) {
        return mainAlone && (FutureWaits.isWatch(n) || n instanceof PostedWait<?>)
                || n instanceof Node k && (k.task instanceof Unawaited || k.task instanceof Observation
                        || k.task instanceof RemoteOp<?> r && r.isStale());
    }

    /**
     * Posts {@code task}, waking the owner if it sleeps in its idle wait; from any thread.
     *
     * @return false if the inbox is closed: the task will never run
     */
    boolean post(Runnable task) {
        return postAsNode(new Node(task));
    }

    /**
     * Posts {@code p} as its own node, waking the owner if it sleeps in its idle wait; from any thread.
     * {@code p} must be in no inbox now.
     *
     * @return false if the inbox is closed: {@code p} will never run
     */
    boolean postAsNode(Posted p) {
        // Most posts find the inbox empty (its owner took the last ones): one compare-and-set that
        // asks for the line for writing at once, instead of a read that fetches it shared first
        p.nextPosted(null);
        if (!HEAD.compareAndSet(this, (Posted) null, p)) {
            Posted h;
            do {
                h = head;
                if (h == CLOSED) {
                    return false;
                }
                p.nextPosted(h);
            } while (!HEAD.compareAndSet(this, h, p));
        }
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

    /**
     * The owner's block ended: posts only queue again. The sleeper is forgotten: on the thread engine it
     * is the thread of whichever context held the turn (a coroutine's virtual thread), which must not be
     * kept, nor its coroutine, once that coroutine has ended. A post that read {@link #sleeping} before
     * this and the sleeper after unparks nobody, and need not: the owner looks at the inbox before it
     * blocks again.
     */
    void awake() {
        sleeping = false;
        sleeper = null;
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
    List<Object> close() {
        ArrayList<Object> left = new ArrayList<>();
        for (Posted n = closeTaking(); n != null; n = after(n)) {
            left.add(task(n));
        }
        Collections.reverse(left);
        return left;
    }

    /**
     * {@link #close()} allocating nothing: the posts not run, newest first, each one's next given by
     * {@link #after} (read before the post is handed on: its poster may post it again); null if none. An
     * owner ending for want of memory still refuses every post it never ran, instead of dropping those
     * after a list that could not grow, their senders left waiting for good.
     */
    Posted closeTaking() {
        Posted n = (Posted) HEAD.getAndSet(this, CLOSED);
        return n == CLOSED ? null : n;
    }

    /** Whether the inbox is closed ({@link #closeTaking()}): every post is refused from now on; from any thread. */
    boolean isClosed() {
        return head == CLOSED;
    }

    /** The post after {@code n} in a chain {@link #closeTaking()} gave; null at its end. */
    static Posted after(Posted n) {
        Posted next = n.nextPosted();
        return next == CLOSED ? null : next;
    }

    /** What {@code n} posted: the task of a {@link Node}, else the post itself. */
    static Object task(Posted n) {
        return n instanceof Node k ? k.task : n;
    }

    /** Runs every task posted so far, oldest first (owner thread only); with none, one volatile read and no swap. */
    void drain() {
        Posted h = head;
        if (h == null || h == CLOSED) {
            return;
        }
        TAKES.setRelease(this, takes + 1); // before the swap, so before any link of the posts taken changes
        Posted n = (Posted) HEAD.getAndSet(this, (Posted) null);
        Posted oldest = null;
        while (n != null) {
            Posted next = n.nextPosted();
            n.nextPosted(oldest);
            oldest = n;
            n = next;
        }
        while (oldest != null) {
            Posted k = oldest;
            oldest = k.nextPosted(); // read first: running k may post it again
            k.nextPosted(null);
            try {
                k.runPosted();
            } catch (Throwable t) {
                giveBack(oldest); // a post that throws (a stack overflow, no memory left) loses none after it
                throw t;
            }
        }
    }

    /**
     * Puts {@code rest}, the posts a drain took but did not run (oldest first), back under every post
     * made since, so that the next drain runs them first, in their order (owner thread only).
     */
    private void giveBack(Posted rest) {
        Posted under = null; // rest, newest first, as the stack holds its posts
        while (rest != null) {
            Posted next = rest.nextPosted();
            rest.nextPosted(under);
            under = rest;
            rest = next;
        }
        if (under == null) {
            return;
        }
        Posted stack = under;
        TAKES.setRelease(this, takes + 1); // the posts made since are taken and relinked below
        while (true) {
            Posted newer = head; // posted since: they go on top
            if (newer == CLOSED) { // closed by the post that threw: nobody runs them, as for any post left at the close
                return;
            }
            if (newer == null) {
                if (HEAD.compareAndSet(this, (Posted) null, stack)) {
                    return;
                }
            } else if (HEAD.compareAndSet(this, newer, (Posted) null)) {
                Posted last = newer;
                while (last.nextPosted() != null) {
                    last = last.nextPosted();
                }
                last.nextPosted(stack);
                stack = newer;
            }
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
    volatile Posted head;
    /**
     * How many times the owner took the posts (and relinked them), counted before it does; an observer
     * walking the posts from another thread knows by it that the links it follows may have changed.
     * Written by the owner only. Through {@code Inbox.TAKES}.
     */
    volatile int takes;
    /** While the owner blocks in its idle wait: posts must wake it. */
    volatile boolean sleeping;
    /** The thread blocked in its idle wait, to unpark; null while none is. */
    volatile Thread sleeper;
    /** The selector the sleeper blocks in, to wake up; null if it parks. */
    volatile Selector sleepingIn;
}
