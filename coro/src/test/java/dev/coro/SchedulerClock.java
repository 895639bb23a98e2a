package dev.coro;

/** The calling thread's scheduler clock as the tests read it: whole milliseconds, virtual under {@link VirtualTime}. */
final class SchedulerClock {

    private SchedulerClock() {
    }

    /** The scheduler's clock in milliseconds ({@link Coroutine#nanoTime()} cut to whole milliseconds). */
    static long ms() {
        return Coroutine.nanoTime() / 1_000_000;
    }
}
