package dev.coro;

import static dev.coro.PoolsClosed.GUARD;
import static dev.coro.PoolsClosed.thrownByClose;
import static org.assertj.core.api.Assertions.assertThat;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A {@code cancel(true)} of a pool future that its caller had settled already ({@code cancel(false)},
 * a {@code completeExceptionally} with a {@code CancellationException}) does not close the started
 * body: only the call that cancels the future interrupts, as a {@code FutureTask}'s second cancel does
 * nothing, so a body left to run to its end by {@code cancel(false)} does run to its end.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
@Timeout(60)
class PoolCancelAfterSettledTest {

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
        settledThenCancelledWithInterruptRunsToItsEnd(body -> assertThat(body.cancel(false)).isTrue(),
                "a cancel of a future cancelled already"); // the JDK's answer
    }

    @Test
    void aCancelWithInterruptOfAFutureItsCallerFailedWithACancellationLeavesTheStartedBodyToRunToItsEnd() {
        settledThenCancelledWithInterruptRunsToItsEnd(
                body -> assertThat(body.completeExceptionally(new CancellationException("the caller's own"))).isTrue(),
                "a cancel of a future that holds a cancellation");
    }

    /**
     * A body of a pool of one thread, started and parked, whose future {@code settle} settles; then a
     * {@code cancel(true)} of it, which the JDK answers {@code true} ({@code why}), closes nothing: the body
     * runs to its end once let go, and its future stays cancelled.
     */
    private static void settledThenCancelledWithInterruptRunsToItsEnd(Consumer<CompletableFuture<String>> settle, String why) {
        CoroutinePool pool = CoroutinePool.start(1);
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Void> parked = new CompletableFuture<>();
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<String> body = parkedUntil(pool, parked, gate, events, "body");
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(parked));
        settle.accept(body);
        assertThat(body.cancel(true)).as(why).isTrue();
        // a body the second cancel closed would be unwound at the pool thread's next scheduling point: one
        // more body run there after it shows whether it was
        CompletableFuture<String> after = pool.submit(() -> "after");
        assertThat(Coroutine.withTimeout(GUARD, () -> Coroutine.await(after))).isEqualTo("after");
        gate.complete(null);
        assertThat(thrownByClose(pool)).isNull();
        assertThat(events).containsExactly("body ran to its end");
        assertThat(body.isCancelled()).isTrue();
    }

    /** A body holding {@code payload}, submitted from a method of its own so that it captures nothing else. */
    private static CompletableFuture<String> holding(CoroutinePool pool, Object payload) {
        return pool.submit(() -> "never run: " + payload);
    }

    @Test
    void aBodySkippedBecauseItsFutureWasCancelledBeforeItStartedIsNotKeptAliveByThatFuture() throws Exception {
        CoroutinePool pool = CoroutinePool.start(1);
        CountDownLatch hold = new CountDownLatch(1);
        CompletableFuture<Void> holdingTheThread = new CompletableFuture<>();
        CompletableFuture<String> first = pool.submit(() -> {
            holdingTheThread.complete(null);
            try {
                hold.await(); // holds the pool's one thread: the body submitted meanwhile waits to start
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            return "first";
        });
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(holdingTheThread));
        Object[] payload = {new Object()};
        WeakReference<Object> ref = new WeakReference<>(payload[0]);
        CompletableFuture<String> skipped = holding(pool, payload[0]);
        payload[0] = null;
        assertThat(skipped.cancel(false)).isTrue();
        CompletableFuture<String> after = pool.submit(() -> "after"); // the thread takes its bodies in order
        hold.countDown();
        assertThat(Coroutine.withTimeout(GUARD, () -> Coroutine.await(after))).isEqualTo("after");
        assertThat(Collected.all(List.of(ref))).as("the skipped body, its future still held").isTrue();
        assertThat(skipped.isCancelled()).isTrue();
        assertThat(first.get()).isEqualTo("first");
        assertThat(thrownByClose(pool)).isNull();
    }
}
