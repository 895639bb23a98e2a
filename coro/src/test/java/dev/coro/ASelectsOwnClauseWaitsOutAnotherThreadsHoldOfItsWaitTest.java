package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A select across threads whose {@code onTimeout} expires, or whose {@code onComplete} stage completes, while
 * another thread holds the run's wait locked (as a channel's thread does for a moment while it pairs one of the
 * select's clauses, and gives it back when the pairing fails) waits that thread out: once the wait is given
 * back, the clause wins and the select fires it. A clause that took a held wait for one that is over would be
 * lost, and the select, with nothing else to come, would wait for ever.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
@Timeout(60)
class ASelectsOwnClauseWaitsOutAnotherThreadsHoldOfItsWaitTest {

    /** Ends a select that lost its clause, so that the test fails instead of hanging. */
    private static final Duration GUARD = Duration.ofSeconds(30);

    @AfterEach
    void noHookLeft() {
        Select.beforeParkAcross = null;
    }

    /** A channel of the one thread of {@code pool}, on which nothing is ever sent. */
    private static Channel<String> aSilentChannelOf(CoroutinePool pool) {
        return pool.submit(() -> new Channel<String>("theirs", 0)).join();
    }

    /**
     * Just before the select's caller parks, the run's wait is locked as another thread locks it, and a thread
     * 'holder' gives it back once the select's thread is seen spinning for it (its clause waits the hold out),
     * or blocked (its clause has come and gone, or has not come yet: then it finds the wait given back).
     */
    private static void holdTheWaitUntilTheSelectsThreadWaitsForIt() {
        Select.beforeParkAcross = claim -> {
            assertThat(claim.lock()).as("the run's wait is open before the park").isTrue();
            Thread selecting = Thread.currentThread();
            Thread.ofPlatform().name("holder").start(() -> {
                while (!spinningForAWait(selecting) && !blocked(selecting)) {
                    Thread.onSpinWait();
                }
                claim.unlock();
            });
        };
    }

    private static boolean spinningForAWait(Thread t) {
        for (StackTraceElement f : t.getStackTrace()) {
            if (f.getClassName().equals(ForeignWait.class.getName()) && f.getMethodName().equals("lockSpinning")) {
                return true;
            }
        }
        return false;
    }

    private static boolean blocked(Thread t) {
        Thread.State s = t.getState();
        return s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING || s == Thread.State.TERMINATED;
    }

    @Test
    void anOnTimeoutThatExpiresWhileAnotherThreadHoldsTheRunsWaitFiresOnceItIsGivenBack() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> theirs = aSilentChannelOf(pool);
            holdTheWaitUntilTheSelectsThreadWaitsForIt();
            String fired = Coroutine.withTimeout(GUARD, () -> new Select<String>()
                    .onReceive(theirs, v -> "got " + v)
                    .onTimeout(Duration.ofNanos(1), () -> "timed out")
                    .select());
            assertThat(fired).isEqualTo("timed out");
            assertThat(pool.submit(() -> theirs.tryReceive()).join()).as("no value moved").isEmpty();
        }
    }

    @Test
    void anOnCompleteWhoseStageCompletesWhileAnotherThreadHoldsTheRunsWaitFiresOnceItIsGivenBack() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> theirs = aSilentChannelOf(pool);
            CompletableFuture<String> stage = new CompletableFuture<>();
            holdTheWaitUntilTheSelectsThreadWaitsForIt();
            Select.beforeParkAcross = Select.beforeParkAcross.andThen(claim -> stage.complete("done"));
            String fired = Coroutine.withTimeout(GUARD, () -> new Select<String>()
                    .onReceive(theirs, v -> "got " + v)
                    .onComplete(stage, v -> "completed " + v)
                    .select());
            assertThat(fired).isEqualTo("completed done");
            assertThat(pool.submit(() -> theirs.tryReceive()).join()).as("no value moved").isEmpty();
        }
    }
}
