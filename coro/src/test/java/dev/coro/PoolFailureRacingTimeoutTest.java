package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The failures of pool bodies that end about when a {@code withTimeout} around a select's
 * {@code onComplete} clause or an {@code await} of their futures expires are each observed exactly
 * once: read by the clause or await that won (a {@code CompletionException}), or, where the timeout
 * won, reported by the pool's {@code close()}; none is both, none is neither.
 */
@ExtendWith(FreshThread.class)
class PoolFailureRacingTimeoutTest {

    /**
     * Eighty bodies that fail after a random wait of up to 400 µs, each raced against a 200 µs
     * {@code withTimeout} around a select over its future (even ones) or an await of it (odd ones): the
     * failures read plus those {@code close()} reports make eighty, each body's once, and the caller's
     * thread keeps no timer and no callback on any of the futures.
     */
    @Test
    @Timeout(60)
    void eachFailureIsEitherReadByTheClauseOrAwaitThatWonOrReportedByCloseWhereTheTimeoutWon() {
        int n = 80; // under the 100 failures a pool keeps for its report
        SplittableRandom random = new SplittableRandom(1);
        List<String> read = new ArrayList<>();
        List<String> timedOut = new ArrayList<>();
        CoroutinePool pool = CoroutinePool.start(1);
        for (int i = 0; i < n; i++) {
            String failure = "failure " + i;
            Duration delay = Duration.ofNanos(random.nextLong(0, 400_000));
            CompletableFuture<Integer> f = pool.submit("body-" + i, () -> {
                Coroutine.sleep(delay);
                throw new IllegalStateException(failure);
            });
            Duration timeout = Duration.ofNanos(200_000);
            try {
                if (i % 2 == 0) {
                    Coroutine.withTimeout(timeout, () -> new Select<Integer>().onComplete(f, v -> v).select());
                } else {
                    Coroutine.withTimeout(timeout, () -> Coroutine.await(f));
                }
                throw new AssertionError("body-" + i + " returned");
            } catch (CompletionException e) {
                assertThat(e.getCause()).hasMessage(failure);
                read.add(failure);
            } catch (CoroutineTimeoutException e) {
                assertThat(e).hasMessage("main context 'main' timed out: withTimeout(PT0.0002S) expired before its body returned");
                timedOut.add(failure);
            }
        }
        Throwable report = catchThrowable(pool::close);
        List<String> reported = new ArrayList<>();
        if (report != null) {
            assertThat(report).isInstanceOf(CoroutineException.class);
            reported.add(report.getCause().getMessage());
            for (Throwable later : report.getCause().getSuppressed()) {
                reported.add(later.getMessage());
            }
        }
        assertThat(reported).as("reported by close: the failures whose timeout won, in the order of submission")
                .isEqualTo(timedOut);
        assertThat(read.size() + reported.size()).isEqualTo(n);
        // a body's future completed on the pool's thread, whose callback then posted to this thread, before that
        // thread ended; close()'s wait may end on the pool's end, seen as it came, before those posts ran here:
        // the next scheduling point runs them
        Coroutine.yield();
        EventLoop loop = Scheduler.current().loop;
        assertThat(loop.hasTimers()).as("a timer left").isFalse();
        assertThat(loop.futureWaits().watchedCount()).as("futures this thread keeps a callback on").isZero();
    }
}
