package dev.coro;

import java.util.Locale;
import java.util.concurrent.locks.LockSupport;

/**
 * A thread's event loop: its clock, its pending timers, and the one place where the thread waits
 * when none of its contexts can run.
 *
 * <p>Its {@link Scheduler} asks it at every scheduling point whether a timer is due
 * ({@link #hasTimers()} is a field read, so a yield pays nothing while none is pending), and calls
 * {@link #idle()} when every context is parked and a timer can still wake one: the thread then waits
 * until the earliest deadline (really, or, under virtual time, by moving the clock there at once) and
 * expires what is due. Time is kept in nanoseconds from the loop's origin, so deadlines never wrap;
 * {@link #nanoTime()} gives the user the scheduler's clock in {@link System#nanoTime()}'s terms.
 */
final class EventLoop {

    private final TimerHeap timers = new TimerHeap();
    /** Loop time 0 on the real clock, in {@link System#nanoTime()} terms. */
    private final long origin = System.nanoTime();
    /** How many timers were ever scheduled: the tie-breaker of equal deadlines. */
    private long scheduled;
    /** Whether the clock is virtual ({@link VirtualTime#run}). */
    private boolean virtual;
    /** The virtual clock's time, while {@link #virtual}. */
    private long virtualNow;

    /** Whether any timer is pending; a field read, for every scheduling point. */
    boolean hasTimers() {
        return timers.size() != 0;
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
    }

    /** Cancels {@code t} if it is pending; nothing if it expired already. */
    void cancel(Timer t) {
        if (t.isPending()) {
            timers.remove(t);
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
            t.expire();
            t = timers.peek();
        } while (t != null && t.deadline <= now);
        return true;
    }

    /**
     * The idle wait: waits until the earliest timer is due, then expires every due timer. Under
     * virtual time the clock jumps to that deadline at once. A timer must be pending.
     */
    void idle() {
        Timer first = timers.peek();
        if (virtual) {
            if (first.deadline > virtualNow) {
                virtualNow = first.deadline;
            }
        } else {
            waitUntil(first.deadline);
        }
        runDue();
    }

    /**
     * Blocks the thread until loop time {@code deadline}. An interrupt does not end the wait (a
     * coroutine's sleep is not the thread's); it is kept for the thread to see afterwards.
     */
    private void waitUntil(long deadline) {
        boolean interrupted = false;
        for (long left; (left = deadline - now()) > 0; ) {
            LockSupport.parkNanos(this, left);
            if (Thread.interrupted()) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Switches to a virtual clock at 0; no timer may be pending. */
    void startVirtual() {
        virtual = true;
        virtualNow = 0;
    }

    /** Back to the real clock; timers left on the virtual clock are dropped. */
    void stopVirtual() {
        while (timers.size() != 0) {
            timers.poll();
        }
        virtual = false;
    }

    /** A loop time for messages, e.g. {@code 1,250.000 ms}, with what is left until it, e.g. {@code 42.000 ms left}. */
    String describeDeadline(long deadline) {
        long left = deadline - now();
        return (virtual ? "t=" : "loop time ") + millis(deadline) + (virtual ? " (virtual clock), " : ", ")
                + (left > 0 ? millis(left) + " left" : "due");
    }

    /** Nanoseconds as milliseconds, e.g. {@code 1,012.500 ms}, the same in every locale. */
    static String millis(long nanos) {
        return nanos == Long.MAX_VALUE ? "never" : String.format(Locale.ROOT, "%,.3f ms", nanos / 1e6);
    }
}
