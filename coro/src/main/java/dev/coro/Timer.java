package dev.coro;

/**
 * Something due at a time on a scheduler's clock: an entry of its {@link TimerHeap} that does its
 * work ({@link #expire}) when the {@link EventLoop} finds it due at a scheduling point or an idle wait.
 *
 * <p>A timer belongs to one scheduler and is touched only by the thread that runs it. It knows its
 * place in the heap, so cancelling it is O(log n) with no search. Timers due at the same time
 * expire in the order they were scheduled ({@link #seq}).
 */
abstract class Timer {

    /** When it is due, in nanoseconds on its {@link EventLoop}'s clock. */
    long deadline;
    /** The order of scheduling, which breaks ties between equal deadlines. */
    long seq;
    /** Its index in the heap; -1 when not scheduled. */
    int heapIndex = -1;

    /** Whether it is scheduled and has neither expired nor been cancelled. */
    final boolean isPending() {
        return heapIndex >= 0;
    }

    /** Does what is due: wakes a context, or marks a wait as timed out. Called once, on the owner thread. */
    abstract void expire();

    /** Whether this timer is due before {@code other}. */
    final boolean before(Timer other) {
        return deadline < other.deadline || (deadline == other.deadline && seq < other.seq);
    }
}
