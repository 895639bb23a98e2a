package dev.coro;

/**
 * A thread's contexts as a reader from outside (the JMX view's count, the dump's listing) sees them while
 * the thread switches: main, a coroutine 'waiter' parked on channel 'jobs' and a coroutine 'yielder'
 * suspended, in that order, where reading the waiter's wait moves the thread from main to the yielder, so
 * that main, read first, reads as running and the yielder, read after, does too.
 */
final class SwitchAsAWaitIsRead implements AutoCloseable {

    /** A context's state field while suspended. */
    private static final byte SUSPENDED = (byte) Coroutine.State.SUSPENDED.ordinal();

    /** The channel the waiter is parked on, to receive from. */
    private final Channel<Integer> jobs = new Channel<>("jobs", 0);
    private final Coroutine waiter = Coroutine.create("waiter", () -> jobs.receive());
    private final Coroutine yielder = Coroutine.create("yielder", () -> {
        while (true) {
            Coroutine.yield();
        }
    });
    private final Context main = Scheduler.current().main;
    private final Wait waitersWait;

    /** Makes the scene on the calling thread, which must have no other coroutine. */
    SwitchAsAWaitIsRead() {
        waiter.switchTo();  // parks: run list main, waiter, yielder
        yielder.switchTo(); // yields back: suspended
        waitersWait = waiter.context.waitingFor;
        waiter.context.waitingFor = new Wait() {
            @Override
            public boolean interrupt() {
                return waitersWait.interrupt();
            }

            @Override
            public String reason() { // read after main's state, before the yielder's: the switch happens here
                main.state = SUSPENDED;
                yielder.context.state = Context.RUNNING;
                return waitersWait.reason();
            }

            @Override
            public String toString() {
                return waitersWait.toString();
            }
        };
    }

    /** Undoes the switch the read made, gives the waiter its own wait and a value, and closes the yielder. */
    @Override
    public void close() {
        waiter.context.waitingFor = waitersWait;
        yielder.context.state = SUSPENDED;
        main.state = Context.RUNNING;
        jobs.send(1);
        yielder.close();
    }
}
