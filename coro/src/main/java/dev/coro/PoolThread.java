package dev.coro;

/**
 * A thread of a {@link CoroutinePool}: a platform thread that holds its own scheduler in a field, so
 * that whether that scheduler is {@link Scheduler#connected} (as a pool thread's is, outside a
 * {@link VirtualTime#run}) is two field reads for it, not a thread-local lookup: an
 * {@link Coroutine#await} of a completed future costs as little on every thread of a pool as on the
 * one thread that holds the one-entry cache of {@link Scheduler#isMarkedConnected()}.
 */
final class PoolThread extends Thread {

    /** Its scheduler, once made on it; written and read by this thread only. */
    private Scheduler scheduler;

    /**
     * A pool thread, not started, inheriting no inheritable thread locals.
     *
     * @param group its group; null for the creating thread's
     * @param task  what it runs
     * @param name  its name
     */
    PoolThread(ThreadGroup group, Runnable task, String name) {
        super(group, task, name, 0, false);
    }

    /** On this thread: its scheduler, made. */
    void scheduler(Scheduler s) {
        scheduler = s;
    }

    /** On this thread: whether its scheduler is made and connected. */
    boolean isConnected() {
        Scheduler s = scheduler;
        return s != null && s.connected;
    }
}
