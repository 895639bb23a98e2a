package dev.coro;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * A thread's event loop: its clock, its pending timers, its I/O waits, and the one place where the
 * thread waits when none of its contexts can run.
 *
 * <p>Its {@link Scheduler} asks it at every scheduling point whether anything is pending
 * ({@link #hasPending()} is a field read, so a yield pays nothing while nothing is), and then lets it
 * {@link #poll()}: expire due timers, and every 64th time (parks on I/O not counted) also ask the
 * selector (without waiting) which channels are ready, so that I/O is served even while some context
 * is always runnable. When every context is parked and something can still wake one, the scheduler
 * calls {@link #idle()}: the thread blocks in one {@code select} until the next timer (or, without I/O
 * waits, parks until it; under virtual time with no I/O wait the clock simply jumps there), then
 * completes what is ready.
 * The selector is opened on the first I/O wait and closed when no channel is registered any more.
 * Time is kept in nanoseconds from the loop's origin, so deadlines never wrap;
 * {@link #nanoTime()} gives the user the scheduler's clock in {@link System#nanoTime()}'s terms.
 */
final class EventLoop {

    private final TimerHeap timers = new TimerHeap();
    /** Loop time 0 on the real clock, in {@link System#nanoTime()} terms. */
    private final long origin = System.nanoTime();
    /** How many timers were ever scheduled: the tie-breaker of equal deadlines. */
    private long scheduled;
    /** How many timers and I/O waits are pending: what can still wake a context. */
    private int pending;
    /** How many contexts wait on I/O. */
    private int ioWaits;
    /** How many contexts wait for another thread: a future, a channel of another thread, a shared channel. */
    private int foreignWaits;
    /** Tasks posted by other threads: wake-ups, and operations on this thread's channels. */
    final Inbox inbox = new Inbox();
    /** While the owner blocks in {@link #idle()}: posts must wake it. */
    private volatile boolean sleeping;
    /** The thread blocked in {@link #idle()}, to unpark. */
    private volatile Thread sleeper;
    /** The selector the sleeper blocks in, to wake up; null if it parks. */
    private volatile Selector sleepingIn;
    /** An interrupt that arrived during idle waits, given back to the thread when its wait ends. */
    private boolean interrupted;
    /** The selector; null until the first I/O wait, and again once no channel is registered. */
    private Selector selector;
    /** The keys on which some context waits, for the periodic check for channels closed under them. */
    private final WaitQueue<IoKey> waitingKeys = new WaitQueue<>();
    /** The selector's callback for a ready key. */
    private final Consumer<SelectionKey> onReady = k -> ((IoKey) k.attachment()).ready(k.readyOps());
    /** Counts polls, so that only every 64th asks the selector. */
    private int polls;
    /** When the waiting keys were last checked for closed channels, in {@link System#nanoTime()} terms. */
    private long lastScan = System.nanoTime();
    /** Whether the clock is virtual ({@link VirtualTime#run}). */
    private boolean virtual;
    /** The virtual clock's time, while {@link #virtual}. */
    private long virtualNow;

    /**
     * Whether a timer, an I/O wait, a wait for another thread, or a post from another thread is
     * pending; a field read and a volatile read, for every scheduling point.
     */
    boolean hasPending() {
        return pending != 0 || !inbox.isEmpty();
    }

    /** Whether anything but a timer can wake a context: an I/O wait, a wait for another thread. */
    private boolean outsideCanWake() {
        return ioWaits != 0 || foreignWaits != 0;
    }

    /** Whether any timer is pending. */
    boolean hasTimers() {
        return timers.size() != 0;
    }

    /** Whether a context waits on I/O. */
    boolean hasIoWaits() {
        return ioWaits != 0;
    }

    /** How many contexts wait on I/O. */
    int ioWaitCount() {
        return ioWaits;
    }

    /** Whether the owner blocks in its idle wait now: nothing of its own to do. Read by the blocked-loop watchdog. */
    boolean isIdle() {
        return sleeping;
    }

    /** How many timers are pending. */
    int timerCount() {
        return timers.size();
    }

    /** Whether the clock is virtual. */
    boolean isVirtual() {
        return virtual;
    }

    /** The loop's time: nanoseconds since its origin, or the virtual clock. */
    long now() {
        return virtual ? virtualNow : System.nanoTime() - origin;
    }

    /** The user's clock ({@link Coroutine#nanoTime()}): {@link System#nanoTime()}, or the virtual clock. */
    long nanoTime() {
        return virtual ? virtualNow : System.nanoTime();
    }

    /** The loop time {@code nanos} (positive) from now, saturating instead of wrapping. */
    long deadlineAfter(long nanos) {
        long now = now();
        long d = now + nanos;
        return d < now ? Long.MAX_VALUE : d;
    }

    /** Schedules {@code t}, which is not pending, to expire at loop time {@code deadline}. */
    void schedule(Timer t, long deadline) {
        t.deadline = deadline;
        t.seq = scheduled++;
        timers.add(t);
        pending++;
    }

    /** Cancels {@code t} if it is pending; nothing if it expired already. */
    void cancel(Timer t) {
        if (t.isPending()) {
            timers.remove(t);
            pending--;
        }
    }

    /**
     * Expires every due timer, earliest deadline first, ties in the order they were scheduled.
     *
     * @return whether any timer expired
     */
    boolean runDue() {
        Timer t = timers.peek();
        if (t == null) {
            return false;
        }
        long now = now();
        if (t.deadline > now) {
            return false;
        }
        do {
            timers.poll();
            pending--;
            t.expire();
            t = timers.peek();
        } while (t != null && t.deadline <= now);
        return true;
    }

    /**
     * At a scheduling point: expires due timers and, every 64th time while a context waits on I/O,
     * completes the I/O waits whose channels are ready now.
     */
    void poll() {
        poll(true);
    }

    /**
     * {@link #poll()}, where {@code counts} says whether this scheduling point counts toward the
     * selector check. A park on I/O does not: the check is there for contexts that stay runnable
     * (yielding, or waking each other), and parks on I/O cannot keep the thread busy, since only the
     * selector wakes them again; once the runnable ones are done, the idle wait selects. Counting them
     * would ask the selector in the middle of a batch of connections it has just reported ready, and it
     * would report again every one of them not yet served.
     */
    void poll(boolean counts) {
        if (!inbox.isEmpty()) {
            inbox.drain();
        }
        if (timers.size() != 0) {
            runDue();
        }
        if (counts && ioWaits != 0 && (++polls & 63) == 0) {
            select(-1);
        }
    }

    /**
     * The idle wait: blocks until the earliest timer is due, a channel is ready, or another thread
     * posts (whichever comes first), then runs the posts, completes what is ready and expires every
     * due timer. Under virtual time with nothing but timers pending, the clock jumps to the earliest
     * deadline at once; with an I/O wait or a wait for another thread the wait is real and the clock
     * does not move. Something must be pending. It may return having done nothing (callers loop);
     * an interrupt does not end it, and is given back by {@link #restoreInterrupt()}.
     */
    void idle() {
        Timer first = timers.peek();
        if (virtual && !outsideCanWake() && first != null) {
            if (first.deadline > virtualNow) {
                virtualNow = first.deadline;
            }
        } else {
            long left = first == null || virtual ? Long.MAX_VALUE : first.deadline - now();
            if (left > 0) {
                block(left);
            }
        }
        inbox.drain();
        if (ioWaits != 0) {
            scanIfDue();
        }
        runDue();
    }

    /**
     * With nothing pending here, waits for another thread: blocks until a post arrives, or a second
     * has passed (the caller checks again whether another thread may still wake it), then runs the posts.
     */
    void awaitOthers() {
        block(SCAN_MILLIS * 1_000_000);
        inbox.drain();
        runDue();
    }

    /** Blocks for at most {@code nanos} ({@code Long.MAX_VALUE}: until woken), in the selector if I/O waits exist. */
    private void block(long nanos) {
        if (Thread.interrupted()) {
            interrupted = true;
        }
        Selector s = ioWaits != 0 ? selector : null;
        sleeper = Thread.currentThread();
        sleepingIn = s;
        sleeping = true;
        try {
            if (!inbox.isEmpty()) {
                return;
            }
            if (s != null) {
                select(nanos >= SCAN_MILLIS * 1_000_000 ? SCAN_MILLIS : (nanos + 999_999) / 1_000_000);
            } else if (nanos == Long.MAX_VALUE) {
                LockSupport.park(this);
            } else {
                LockSupport.parkNanos(this, nanos);
            }
        } finally {
            sleeping = false;
            if (Thread.interrupted()) {
                interrupted = true;
            }
        }
    }

    /** Gives back to the thread an interrupt that arrived while it was idle; called when its wait ends. */
    void restoreInterrupt() {
        if (interrupted) {
            interrupted = false;
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Posts {@code task} to run on the owner thread at its next scheduling point or idle wait, waking
     * the owner if it is idle; from any thread.
     */
    void post(Runnable task) {
        inbox.post(task);
        if (sleeping) {
            Selector s = sleepingIn;
            if (s != null) {
                s.wakeup();
            } else {
                LockSupport.unpark(sleeper);
            }
        }
    }

    /** A context starts waiting for another thread: the thread does not report a deadlock meanwhile. */
    void foreignWaitStarted() {
        foreignWaits++;
        pending++;
    }

    /** A wait for another thread ended. */
    void foreignWaitEnded() {
        foreignWaits--;
        pending--;
    }

    /** The longest a select blocks, so that waits on channels closed under them are found. */
    private static final long SCAN_MILLIS = 1000;

    /**
     * One select: {@code millis} -1 for none (just what is ready now), else at most that long.
     * Completes the waits of every ready channel.
     */
    private void select(long millis) {
        try {
            if (millis < 0) {
                selector.selectNow(onReady);
            } else {
                selector.select(onReady, millis);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("the event loop's selector failed", e);
        }
    }

    /** At most once a second: fails the waits on channels that were closed without telling the loop. */
    private void scanIfDue() {
        long now = System.nanoTime();
        if (now - lastScan < SCAN_MILLIS * 1_000_000) {
            return;
        }
        lastScan = now;
        for (IoKey k = waitingKeys.first(), next; k != null; k = next) {
            next = waitingKeys.next(k);
            if (!k.channel.isOpen() || !k.key.isValid()) {
                k.fail("its channel was closed while it waited");
            }
        }
    }

    // ---- I/O waits -----------------------------------------------------------------------------

    /**
     * Starts the wait of {@code context} for {@code channel} (non-blocking) to be ready for {@code ops}:
     * registers the channel with the selector if needed and queues the wait on its key.
     *
     * @param operation what the context is doing, for dumps and messages
     * @throws ClosedChannelException if the channel is closed
     */
    IoWait register(SelectableChannel channel, int ops, Context context, Object operation) throws IOException {
        if (selector == null) {
            selector = Selector.open();
        }
        SelectionKey k = channel.keyFor(selector);
        if (k != null && !k.isValid()) {
            selector.selectNow(IGNORE); // a key cancelled but not yet deregistered: flush it
            k = null;
        }
        IoKey key;
        if (k == null) {
            k = channel.register(selector, 0);
            key = new IoKey(this, channel, k);
            k.attach(key);
        } else {
            key = (IoKey) k.attachment();
        }
        IoWait w = new IoWait(key, context, ops, operation);
        key.add(w);
        ioWaits++;
        pending++;
        return w;
    }

    /** A wait left its key's queue (completed or interrupted). */
    void ioWaitEnded() {
        ioWaits--;
        pending--;
    }

    /** {@code key} has a wait now. */
    void keyWaiting(IoKey key) {
        waitingKeys.add(key);
    }

    /** {@code key} has no wait any more. */
    void keyIdle(IoKey key) {
        waitingKeys.remove(key);
    }

    /**
     * {@code channel} is about to be closed by its owner: every wait on it fails with an exception
     * saying {@code why}, and its registration ends now, so that the close that follows closes the
     * socket at once; the selector closes once no channel is left.
     *
     * <p>The JDK closes a channel that is still registered with a selector (its key cancelled but not
     * yet dropped) only when that selector next selects: until then its descriptor stays open and a
     * listening socket keeps accepting connections into its backlog. So the key is dropped here by a
     * {@code selectNow} whose readiness reports are ignored: the selector is level-triggered, and the
     * next select reports them again.
     */
    void closing(SelectableChannel channel, String why) {
        SelectionKey k = keyOf(channel);
        if (k == null) {
            return;
        }
        ((IoKey) k.attachment()).fail(why);
        deregister(k);
    }

    /**
     * The caller is done with {@code channel} (an {@code Io.await} on it returned or threw): unless a
     * context still waits on it, its registration ends now. The loop never hears of a close by the
     * channel's user, so a registration kept for later would keep the selector, and its descriptors,
     * open after the channel is gone, and after the thread has ended.
     */
    void release(SelectableChannel channel) {
        if (selector == null) {
            return;
        }
        SelectionKey k = channel.keyFor(selector);
        if (k != null) {
            if (((IoKey) k.attachment()).hasWaits()) {
                return;
            }
            k.cancel();
        }
        dropCancelled(); // also when a select dropped the key already: a channel closed while it was awaited
    }

    /** {@code channel}'s key with this loop's selector; null if it has none. */
    private SelectionKey keyOf(SelectableChannel channel) {
        return selector == null ? null : channel.keyFor(selector);
    }

    /** Ends the registration {@code k} at once (see {@link #closing}). */
    private void deregister(SelectionKey k) {
        k.cancel();
        dropCancelled();
    }

    /**
     * Drops the cancelled keys now, by a {@code selectNow} whose reports are ignored (see
     * {@link #closing}); then closes the selector if no channel is registered and nobody waits.
     */
    private void dropCancelled() {
        try {
            selector.selectNow(IGNORE);
        } catch (IOException e) {
            throw new UncheckedIOException("the event loop's selector failed", e);
        }
        if (ioWaits == 0 && selector.keys().isEmpty()) {
            try {
                selector.close();
            } catch (IOException e) {
                // nothing is registered any more: the selector's own descriptors go either way
            }
            selector = null;
        }
    }

    /** A selector callback that drops the report: for a select that only drops cancelled keys. */
    private static final Consumer<SelectionKey> IGNORE = k -> { };

    /** Switches to a virtual clock at 0; no timer may be pending. */
    void startVirtual() {
        virtual = true;
        virtualNow = 0;
    }

    /** Back to the real clock; timers left on the virtual clock are dropped. */
    void stopVirtual() {
        while (timers.size() != 0) {
            timers.poll();
            pending--;
        }
        virtual = false;
    }

    /**
     * A deadline for messages: what is left until it, e.g. {@code 42.000 ms left}, and under virtual
     * time the clock reading too, e.g. {@code t=1,250.000 ms on the virtual clock, 42.000 ms left}.
     */
    String describeDeadline(long deadline) {
        long left = deadline - now();
        String rest = left > 0 ? millis(left) + " left" : "due";
        return virtual ? "t=" + millis(deadline) + " on the virtual clock, " + rest : rest;
    }

    /** Nanoseconds as milliseconds, e.g. {@code 1,012.500 ms}, the same in every locale. */
    static String millis(long nanos) {
        return nanos == Long.MAX_VALUE ? "never" : String.format(Locale.ROOT, "%,.3f ms", nanos / 1e6);
    }
}
