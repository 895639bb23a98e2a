package dev.coro;

/**
 * The wait of a context in {@link Coroutine#join}: parked until another coroutine of its thread has
 * ended, when the scheduler wakes it ({@link Scheduler#joinersOf}).
 *
 * <p>The waits on one coroutine form a queue in the order they began, kept by the scheduler while the
 * coroutine lives; a wait that ends otherwise (a timeout, a close) leaves it at once, in O(1), by its
 * clean-up, which its context finishes later if a stack overflow stops it ({@link Context#unfinishedCleanup}).
 */
final class JoinWait extends WaitQueue.Node<JoinWait> implements Wait, Cleanup {

    /** The context that waits. */
    final Context joiner;
    /** The coroutine it waits for. */
    final Context target;

    JoinWait(Context joiner, Context target) {
        this.joiner = joiner;
        this.target = target;
    }

    /** Leaves the queue of waits on its coroutine: nothing can complete it now. */
    @Override
    public boolean interrupt() {
        joiner.scheduler.leaveJoin(this);
        return true;
    }

    /** The clean-up of a join whose park threw: it leaves the queue of waits on its coroutine. */
    @Override
    public void finish() {
        joiner.scheduler.leaveJoin(this);
    }

    @Override
    public String reason() {
        return "join";
    }

    @Override
    public String toString() {
        return "join " + target.describe();
    }
}
