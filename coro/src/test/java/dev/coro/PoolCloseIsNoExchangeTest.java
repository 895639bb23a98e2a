package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A pool's {@code close()} is no exchange with another thread: it waits for the pool's threads to end,
 * which reach nothing of the closing thread's, so once the pool has ended the closing thread reports its
 * deadlocks again (docs/THREADS.md), also inside a {@code VirtualTime.run}, which counts only what it
 * exchanges itself (docs/TIME.md); each test on a fresh thread of its own ({@link FreshThread}).
 */
@ExtendWith(FreshThread.class)
@Timeout(60) // a missed report waits for ever
class PoolCloseIsNoExchangeTest {

    /** A bound for a close, so that a pool that did not end fails the test instead of hanging it. */
    private static final Duration GUARD = Duration.ofSeconds(30);

    /** The deadlock report of main parked on {@code done} while coroutine 'stuck' waits on 'never', on the calling thread. */
    private static String deadlockOfMainAndStuck() {
        return "main context 'main' cannot receive from channel 'done': every other context of thread "
                + Scheduler.describe(Thread.currentThread()) + " is parked and no timer is pending, so nothing could ever wake it"
                + " (deadlock):\n"
                + "  main context 'main' would wait to receive from channel 'done'\n"
                + "  coroutine 'stuck' waits to receive from channel 'never'";
    }

    /** Parks a coroutine 'stuck' on a channel nobody uses, then main on another: the deadlock both are in. */
    private static DeadlockException mainAndACoroutineStuck() {
        Channel<Integer> never = new Channel<>("never", 0);
        Channel<Integer> done = new Channel<>("done", 0);
        Coroutine stuck = Coroutine.create("stuck", () -> never.receive());
        Coroutine.yield(); // it parks
        DeadlockException e = catchThrowableOfType(DeadlockException.class, done::receive);
        assertThat(stuck.state()).as("the coroutine stays parked: only main's wait was refused").isEqualTo(Coroutine.State.PARKED);
        stuck.close();
        return e;
    }

    @Test
    void aThreadThatClosedAPoolItHandedNoBodyReportsItsDeadlockAgain() {
        new Channel<Integer>("used before", 1).trySend(1); // the thread has used coro: not the reason for anything below
        CoroutinePool pool = CoroutinePool.start(1);
        Coroutine.withTimeout(GUARD, pool::close);
        assertThat(CoroutinePool.openPools()).isZero();
        DeadlockException e = mainAndACoroutineStuck();
        assertThat(e).isNotNull();
        assertThat(e.getMessage()).isEqualTo(deadlockOfMainAndStuck());
    }

    @Test
    void aThreadThatHandedAPoolABodyBeforeItUsedCoroReportsItsDeadlockOnceThePoolIsClosed() {
        CoroutinePool pool = CoroutinePool.start(1);
        pool.execute(() -> { }); // no scheduler on this thread yet: no channel of its own for the body to use
        pool.close();
        assertThat(CoroutinePool.openPools()).isZero();
        DeadlockException e = mainAndACoroutineStuck();
        assertThat(e).isNotNull();
        assertThat(e.getMessage()).isEqualTo(deadlockOfMainAndStuck());
    }

    @Test
    void aVirtualTimeRunThatClosesAPoolItHandedNoBodyReportsItsDeadlock() {
        CoroutinePool pool = CoroutinePool.start(1);
        DeadlockException e = catchThrowableOfType(DeadlockException.class, () -> VirtualTime.run(() -> {
            Coroutine.withTimeout(GUARD, pool::close); // holds the clock while the pool's threads end
            Channel<Integer> never = new Channel<>("never", 0);
            Coroutine.create("stuck", () -> never.receive());
        }));
        assertThat(e).isNotNull();
        assertThat(e.getMessage()).isEqualTo("VirtualTime.run cannot return: every coroutine left on thread "
                + Scheduler.describe(Thread.currentThread()) + " is parked and no timer is pending, so nothing could ever wake"
                + " them (deadlock):\n  coroutine 'stuck' waits to receive from channel 'never'");
    }
}
