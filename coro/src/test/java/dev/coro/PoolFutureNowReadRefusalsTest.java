package dev.coro;

import static dev.coro.PoolsClosed.GUARD;
import static dev.coro.PoolsClosed.thrownByClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A refusal of {@code resultNow()} or {@code exceptionNow()} of a pool future, or of a stage derived from it, is the
 * JDK's {@code IllegalStateException}, but says, as every refusal of the library does, who called, which read, on
 * which future, and why: it has not completed, it failed (with what), it was cancelled (with what, if its
 * {@code CancellationException} says more than its class), or it completed normally. The JDK's own says nothing.
 * The refusals that told the caller a body's failure count as reading it, as before: {@code close()} reports none.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
@Timeout(60)
class PoolFutureNowReadRefusalsTest {

    @Test
    void aResultNowOrExceptionNowRefusedNamesTheCallerTheReadTheFutureAndWhy() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<String> pending = pool.submit(() -> {
            Coroutine.await(gate);
            return "late";
        });
        try {
            CompletableFuture<String> failed = pool.submit(() -> {
                throw new IllegalStateException("boom");
            });
            CompletableFuture<String> succeeded = pool.submit(() -> "done");
            CompletableFuture<String> ownCancellation = pool.submit(() -> {
                throw new CancellationException("its own");
            });
            Coroutine.withTimeout(GUARD, () -> Coroutine.await(
                    CompletableFuture.allOf(failed, succeeded, ownCancellation).exceptionally(e -> null)));
            CompletableFuture<String> submittedCancelled = pool.submit(() -> {
                Coroutine.await(gate);
                return "never";
            });
            submittedCancelled.cancel(false);
            CompletableFuture<String> stage = failed.thenApply(v -> v + "!");

            List<Throwable> thrown = new ArrayList<>();
            thrown.add(catchThrowable(pending::resultNow));
            thrown.add(catchThrowable(pending::exceptionNow));
            thrown.add(catchThrowable(failed::resultNow));
            thrown.add(catchThrowable(succeeded::exceptionNow));
            thrown.add(catchThrowable(submittedCancelled::resultNow));
            thrown.add(catchThrowable(submittedCancelled::exceptionNow));
            thrown.add(catchThrowable(ownCancellation::exceptionNow));
            thrown.add(catchThrowable(stage::resultNow));
            Coroutine.create("reader", () -> thrown.add(catchThrowable(failed::resultNow))).switchTo();

            String main = "main context 'main' cannot ";
            String future = "the future of submit #%d to " + name;
            String failure = "[Completed exceptionally: java.lang.IllegalStateException]";
            assertThat(thrown).allSatisfy(t -> assertThat(t).isExactlyInstanceOf(IllegalStateException.class).hasNoCause())
                    .extracting(Throwable::getMessage).containsExactly(
                            main + "resultNow " + future.formatted(1) + "[Not completed]: it has not completed",
                            main + "exceptionNow " + future.formatted(1) + "[Not completed]: it has not completed",
                            main + "resultNow " + future.formatted(2) + failure + ": it failed with java.lang.IllegalStateException: boom",
                            main + "exceptionNow " + future.formatted(3) + "[Completed normally]: it completed normally",
                            main + "resultNow " + future.formatted(5) + "[Completed exceptionally: java.util.concurrent.CancellationException]"
                                    + ": it was cancelled",
                            main + "exceptionNow " + future.formatted(5) + "[Completed exceptionally: java.util.concurrent.CancellationException]"
                                    + ": it was cancelled",
                            main + "exceptionNow " + future.formatted(4) + "[Completed exceptionally: java.util.concurrent.CancellationException]"
                                    + ": it was cancelled with java.util.concurrent.CancellationException: its own",
                            main + "resultNow a stage of " + future.formatted(2) + "[Completed exceptionally: java.util.concurrent.CompletionException]"
                                    + ": it failed with java.lang.IllegalStateException: boom",
                            "coroutine 'reader' cannot resultNow " + future.formatted(2) + failure
                                    + ": it failed with java.lang.IllegalStateException: boom");
        } finally {
            gate.complete(null);
        }
        assertThat(thrownByClose(pool)).as("each failure was told by a refusal, and counts as read").isNull();
        assertThat(pending.resultNow()).isEqualTo("late");
    }
}
