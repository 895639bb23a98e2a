package dev.coro;

/**
 * The clean-up of a wait that its park left by a throw (a close, a timeout's signal, a stack
 * overflow), which may be run again until it is done: near the stack's end the clean-up itself may
 * overflow, and then its context finishes it later, from a place with room
 * ({@link Context#unfinishedCleanup}).
 */
interface Cleanup {

    /**
     * Takes the wait out of every queue it is in and cancels its timers. Doing it again, after it was
     * done or stopped by a stack overflow at any call, changes nothing more.
     */
    void finish();
}
