package dev.coro;

import dev.coro.Coroutine.State;

/**
 * The timer of a context in {@link Coroutine#sleep}: when due it wakes the context, and it is what
 * a dump shows the context waiting for (the sleep and its deadline).
 *
 * <p>A context sleeps once at a time, so it keeps one for all its sleeps ({@link Context#sleep}):
 * a sleep allocates nothing.
 */
final class Sleep extends Timer implements Wait, Cleanup {

    private final Context context;
    /** How long the current sleep is, for the dump. */
    long nanos;

    Sleep(Context context) {
        this.context = context;
    }

    @Override
    void expire() {
        if (context.state() == State.PARKED && context.waitingFor == this) {
            context.scheduler.unpark(context);
        }
    }

    /** Nothing to leave: the sleeper cancels this timer when its park ends. */
    @Override
    public boolean interrupt() {
        return true;
    }

    /** The clean-up of a sleep whose park threw: this timer cancelled. */
    @Override
    public void finish() {
        context.scheduler.loop.cancel(this);
    }

    @Override
    public String reason() {
        return "sleep";
    }

    @Override
    public String toString() {
        if (deadline == Long.MAX_VALUE) { // past the clock's range: the duration, or the clock's reading plus it
            return "sleep for ever (a duration past the clock's range)";
        }
        return "sleep " + EventLoop.millis(nanos) + " (" + context.scheduler.loop.describeDeadline(deadline) + ")";
    }
}
