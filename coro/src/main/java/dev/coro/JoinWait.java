package dev.coro;

/**
 * The wait of a context in {@link Coroutine#join}: parked until another coroutine of its thread has
 * ended, when the scheduler wakes it ({@link Scheduler#joinersOf}).
 *
 * <p>The waits on one coroutine form a queue in the order they began, kept by the scheduler while the
 * coroutine lives; a wait that ends otherwise (a timeout, a close) leaves it at once, in O(1). An entry left
 * behind by a clean-up that could not run (a stack overflow) is harmless: it wakes its context only
 * if that context still waits on it.
 */
final class JoinWait extends WaitQueue.Node<JoinWait> implements Wait {

    /** The context that waits. */
    final Context joiner;
    /** The coroutine it waits for. */
    final Context target;
    JoinWait(Context joiner, Context target) {
        this.joiner = joiner;
        this.target = target;
    }

    /** Leaves the list of waits on its coroutine: nothing can complete it now. */
    @Override
    public boolean interrupt() {
        joiner.scheduler.leaveJoin(this);
        return true;
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
