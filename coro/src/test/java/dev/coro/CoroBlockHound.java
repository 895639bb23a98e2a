package dev.coro;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * A BlockHound integration for coro: a thread whose scheduler has something to stall (a live
 * coroutine besides main, a timer, an I/O wait, a post from another thread that someone waits for,
 * as the blocked-loop detector counts them: not an operation of another thread whose caller gave up,
 * nor its withdrawal, nor a dump's request, nor a completion that wakes nobody) must not block, so a
 * blocking call there (a {@code Thread.sleep}, a blocking socket read) fails with BlockHound's
 * {@code BlockingOperationError}; the library's own waits (the event loop's idle wait, the thread
 * engine's handoff) are allowed.
 *
 * <p>Every thread is checked at each blocking call (a dynamic predicate), since any thread may
 * become a scheduler thread. On the thread engine a coroutine runs on a virtual thread, where the
 * JDK's own sleep and park do not block the carrier and so are not among BlockHound's blocking
 * methods: a virtual thread's sleep is marked blocking here.
 */
public final class CoroBlockHound implements BlockHoundIntegration {

    @Override
    public void applyTo(BlockHound.Builder builder) {
        builder.addDynamicThreadPredicate(t -> true)
                .nonBlockingThreadPredicate(p -> p.or(t -> busy()))
                .allowBlockingCallsInside(EventLoop.class.getName(), "block")
                .allowBlockingCallsInside(Turn.class.getName(), "await")
                .markAsBlocking("java.lang.VirtualThread", "sleepNanos", "(J)V");
    }

    /** Whether the calling thread runs a scheduler that a block would stall, as the blocked-loop detector tells. */
    static boolean busy() {
        Scheduler s = Scheduler.currentOrNull();
        return s != null && Watchdog.hasWork(s);
    }
}
