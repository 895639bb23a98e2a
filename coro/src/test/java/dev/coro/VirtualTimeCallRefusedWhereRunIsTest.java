package dev.coro;

import static dev.coro.ThreadNames.thread;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link VirtualTime#call} is refused where {@link VirtualTime#run} is, each refusal naming the method called: in the
 * body of a pool's submission (a coroutine of the pool's thread, named as the pool is), and inside the
 * {@code whenComplete} of a future that main's await calls as its wait starts, whether the thread's last run was
 * a {@code run} or a {@code call}.
 */
@ExtendWith(FreshThread.class)
@Timeout(20)
class VirtualTimeCallRefusedWhereRunIsTest {

    @Test
    void aCallOrARunInTheBodyOfANamedPoolsSubmissionIsRefusedNamingTheMethodAndThePoolsThread() {
        CoroutinePool pool = CoroutinePool.start("sim", 1);
        String poolThread;
        List<String> refusals;
        try {
            poolThread = Coroutine.await(pool.submit(() -> {
                Thread owner = Scheduler.current().owner; // the pool's thread (on the thread engine the body runs on one of its own)
                return "'" + owner.getName() + "' (#" + owner.threadId() + ")";
            }));
            refusals = Coroutine.await(pool.submit("replication", () -> List.of(
                    catchThrowable(() -> VirtualTime.call(() -> "never")).getMessage(),
                    catchThrowable(() -> VirtualTime.call(7, () -> "never")).getMessage(),
                    catchThrowable(() -> VirtualTime.run(() -> { })).getMessage())));
        } finally {
            Coroutine.withTimeout(Duration.ofSeconds(15), pool::close);
        }
        assertThat(poolThread).startsWith("'sim-0' (#");
        String caller = "coroutine 'replication' of thread " + poolThread + " (state RUNNING)";
        String why = ": it is a coroutine; only main may start it, on a thread with no live coroutine";
        assertThat(refusals).containsExactly(
                caller + " cannot start VirtualTime.call" + why,
                caller + " cannot start VirtualTime.call" + why,
                caller + " cannot start VirtualTime.run" + why);
    }

    /** The refusal of {@code operation} by main inside the whenComplete of {@code f}. */
    private static String refusedInTheWhenCompleteOf(Object f, String operation) {
        return "main context 'main' (state RUNNING) cannot " + operation + " inside the whenComplete of " + f.getClass().getName()
                + "@" + Integer.toHexString(System.identityHashCode(f)) + ", which coro calls as a wait for that future starts:"
                + " the wait is half made until it returns, and nothing could wake it rightly; a future's whenComplete must"
                + " not yield, park, switch to or close a coroutine";
    }

    /**
     * Refused at the start it attempts, after the checks of the thread (no coroutine, no clock, no timer) passed: the
     * message names the method called, not the one the thread's last run was opened with.
     */
    @Test
    void aCallOrARunInsideTheWhenCompleteOfAFutureMainAwaitsIsRefusedNamingTheMethodCalled() {
        List<String> log = new ArrayList<>();
        assertThat(VirtualTime.call(() -> "a call first")).isEqualTo("a call first");
        HookedFuture<String> first = new HookedFuture<>();
        first.action = () -> {
            first.complete("done");
            log.add(catchThrowable(() -> VirtualTime.run(() -> log.add("never"))).getMessage());
        };
        log.add("got " + Coroutine.await(first));
        HookedFuture<String> second = new HookedFuture<>();
        second.action = () -> {
            second.complete("done again");
            log.add(catchThrowable(() -> VirtualTime.call(() -> "never")).getMessage());
        };
        log.add("got " + Coroutine.await(second));
        assertThat(log).containsExactly(refusedInTheWhenCompleteOf(first, "start VirtualTime.run"), "got done",
                refusedInTheWhenCompleteOf(second, "start VirtualTime.call"), "got done again");
        assertThat(VirtualTime.call(() -> Coroutine.nanoTime())).as("the thread runs on a virtual clock again").isZero();
    }
}
