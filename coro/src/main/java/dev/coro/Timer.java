package dev.coro;

/**
 * Something due at a time on a scheduler's clock: an entry of its {@link TimerQueue} that does its
 * work ({@link #expire}) when the {@link EventLoop} finds it due at a scheduling point or an idle wait.
 *
 * <p>A timer belongs to one scheduler and is touched only by the thread that runs it. It knows its
 * deadline's bucket in the queue and its place there, so cancelling it is O(1) with no search.
 * Timers due at the same time expire in the order they were scheduled.
 */
abstract class Timer {

    /** When it is due, in nanoseconds on its {@link EventLoop}'s clock. */
    long deadline;
    /** Its deadline's bucket in the queue; null when not scheduled. */
    TimerQueue.Bucket bucket;
    /** Its index in its bucket's array. */
    int slot;

    /** Whether it is scheduled and has neither expired nor been cancelled. */
    final boolean isPending() {
        return bucket != null;
    }

    /** Does what is due: wakes a context, or marks a wait as timed out. Called once, on the owner thread. */
    abstract void expire();
}
