package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A wait refused as a deadlock leaves nothing of itself behind: a select's clauses are out of their
 * channels (a later partner finds nobody), a join is off the coroutine's joiners, a wait for a permit
 * is out of the semaphore's queue and took none, and no timer of a clause past the clock's range is
 * pending, so the thread's next wait is judged afresh and its next {@code VirtualTime.run} starts; each
 * test on a fresh thread of its own ({@link FreshThread}).
 */
@ExtendWith(FreshThread.class)
@Timeout(20) // a wait left behind could turn the next deadlock into a hang
class RefusedWaitLeavesNothingTest {

    private static final Duration FOREVER = Duration.ofSeconds(Long.MAX_VALUE);

    /** The headline of a deadlock refused to main's {@code call}, on the calling thread. */
    private static String refusedToMain(String call) {
        return "main context 'main' cannot " + call + ": every other context of thread " + Scheduler.describe(Thread.currentThread())
                + " is parked and no timer is pending, so nothing could ever wake it (deadlock):\n  main context 'main' would wait to "
                + call;
    }

    @Test
    void aSelectRefusedAsADeadlockLeavesNoClauseOnItsChannelsAndNoTimer() {
        Channel<Integer> in = new Channel<>("in", 0);
        Channel<Integer> out = new Channel<>("out", 0);
        DeadlockException e = catchThrowableOfType(DeadlockException.class, () -> new Select<Integer>()
                .onReceive(in, v -> v).onSend(out, 3, () -> 0).onTimeout(FOREVER, () -> 9).select());
        assertThat(e).isNotNull();
        assertThat(e.getMessage()).isEqualTo(refusedToMain("select over receive from channel 'in', send to channel 'out', timeout "
                + "PT2562047788015215H30M7S for ever (a duration past the clock's range)"));
        List<Object> found = new ArrayList<>();
        Coroutine.create("partner", () -> {
            found.add(in.trySend(1));
            found.add(out.tryReceive().isPresent());
        });
        Coroutine.yield();
        assertThat(found).as("the refused select's clauses left their channels").containsExactly(false, false);
        assertThat(Scheduler.current().loop.timerCount()).isZero();
        VirtualTime.run(() -> Coroutine.sleep(Duration.ofSeconds(1))); // starts: no timer and no live coroutine left
    }

    @Test
    void aJoinRefusedAsADeadlockLeavesNoJoinerOnTheCoroutine() {
        Channel<Integer> never = new Channel<>("never", 0);
        Coroutine stuck = Coroutine.create("stuck", () -> never.receive());
        Coroutine.yield(); // it parks
        DeadlockException e = catchThrowableOfType(DeadlockException.class, stuck::join);
        assertThat(e).isNotNull();
        assertThat(e.getMessage()).isEqualTo(refusedToMain("join coroutine 'stuck'")
                + "\n  coroutine 'stuck' waits to receive from channel 'never'");
        assertThat(Scheduler.current().joinWaits()).isZero();
        stuck.close();
        assertThat(stuck.state()).isEqualTo(Coroutine.State.CLOSED);
        VirtualTime.run(() -> { }); // starts: no live coroutine left
    }

    @Test
    void anAcquireRefusedAsADeadlockLeavesNoWaiterSoTheReleasedPermitStaysFree() {
        Semaphore s = new Semaphore("s", 1);
        s.acquire();
        DeadlockException plain = catchThrowableOfType(DeadlockException.class, s::acquire);
        DeadlockException timed = catchThrowableOfType(DeadlockException.class, () -> s.tryAcquire(FOREVER));
        assertThat(plain).isNotNull();
        assertThat(timed).isNotNull();
        assertThat(plain.getMessage()).isEqualTo(refusedToMain("acquire a permit of Semaphore[s, 0 of 1 permits free]"));
        assertThat(timed.getMessage()).isEqualTo(refusedToMain(
                "tryAcquire a permit of Semaphore[s, 0 of 1 permits free] for ever (a timeout past the clock's range)"));
        s.release();
        assertThat(s.availablePermits()).as("handed to no refused waiter").isEqualTo(1);
        assertThat(s.tryAcquire()).isTrue();
    }
}
