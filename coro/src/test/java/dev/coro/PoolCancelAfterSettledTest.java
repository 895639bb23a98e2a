package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A {@code cancel(true)} of a pool future that its caller had settled already ({@code cancel(false)},
 * a {@code completeExceptionally} with a {@code CancellationException}) does not close the started
 * body: only the call that cancels the future interrupts, as a {@code FutureTask}'s second cancel does
 * nothing, so a body left to run to its end by {@code cancel(false)} does run to its end.
 */
@ExtendWith(FreshThread.class)
@Timeout(60)
class PoolCancelAfterSettledTest {

    /** A bound for waits that are expected to end long before it: a guard against a hang. */
    private static final Duration GUARD = Duration.ofSeconds(30);

    @AfterEach
    void everyPoolThisTestStartedIsClosed() {
        assertThat(CoroutinePool.openPools()).as("pools this test left open").isZero();
    }

    /** Submits a body that reports it parked, waits for {@code gate}, and says it ran to its end. */
    private static CompletableFuture<String> parkedUntil(CoroutinePool pool, CompletableFuture<Void> parked,
                                                         CompletableFuture<Void> gate, List<String> events, String name) {
        return pool.submit(() -> {
            try {
                parked.complete(null);
                Coroutine.await(gate);
                events.add(name + " ran to its end");
                return name + "'s own";
            } catch (CoroutineExit e) {
                events.add(name + " was closed");
                throw e;
            }
        });
    }

    @Test
    void aCancelWithInterruptAfterACancelWithoutLeavesTheStartedBodyToRunToItsEnd() {
        CoroutinePool pool = CoroutinePool.start(1);
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Void> parked = new CompletableFuture<>();
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<String> body = parkedUntil(pool, parked, gate, events, "body");
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(parked));
        assertThat(body.cancel(false)).isTrue();
        assertThat(body.cancel(true)).as("a cancel of a future cancelled already").isTrue(); // the JDK's answer
        // a body the second cancel closed would be unwound at the pool thread's next scheduling point: one
        // more body run there after it shows whether it was
        CompletableFuture<String> after = pool.submit(() -> "after");
        assertThat(Coroutine.withTimeout(GUARD, () -> Coroutine.await(after))).isEqualTo("after");
        gate.complete(null);
        assertThat(catchThrowable(() -> Coroutine.withTimeout(GUARD, pool::close))).isNull();
        assertThat(events).containsExactly("body ran to its end");
        assertThat(body.isCancelled()).isTrue();
    }

    @Test
    void aCancelWithInterruptOfAFutureItsCallerFailedWithACancellationLeavesTheStartedBodyToRunToItsEnd() {
        CoroutinePool pool = CoroutinePool.start(1);
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Void> parked = new CompletableFuture<>();
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<String> body = parkedUntil(pool, parked, gate, events, "body");
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(parked));
        assertThat(body.completeExceptionally(new CancellationException("the caller's own"))).isTrue();
        assertThat(body.cancel(true)).as("a cancel of a future that holds a cancellation").isTrue();
        CompletableFuture<String> after = pool.submit(() -> "after");
        assertThat(Coroutine.withTimeout(GUARD, () -> Coroutine.await(after))).isEqualTo("after");
        gate.complete(null);
        assertThat(catchThrowable(() -> Coroutine.withTimeout(GUARD, pool::close))).isNull();
        assertThat(events).containsExactly("body ran to its end");
        assertThat(body.isCancelled()).isTrue();
    }
}
