package dev.coro;

import static dev.coro.PoolsClosed.GUARD;
import static dev.coro.PoolsClosed.thrownByClose;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A {@code cancel(true)} of a body's future by another body of the same pool thread, while the first is
 * suspended in a {@code yield()} (ready, not parked), has the thread's main close it when main's turn comes
 * in the usual order: the cancelled body, ahead of main in that order, runs one more step first, then is
 * unwound, its {@code finally} run once, the future cancelled and nothing reported, the same on both engines.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
@Timeout(60)
class PoolCancelByAnotherBodyOfTheSameThreadTest {

    private static final int STEPS = 50;

    @Test
    void aYieldingBodyCancelledByAnotherBodyOfItsThreadIsClosedAtMainsTurnAfterOneMoreStep() {
        CoroutinePool pool = CoroutinePool.start(1);
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean cancelled = new AtomicBoolean();
        CompletableFuture<Void> looping = new CompletableFuture<>();
        CompletableFuture<Void> stop = new CompletableFuture<>();
        CompletableFuture<String> loop = pool.submit("loop", () -> {
            try {
                looping.complete(null);
                while (!stop.isDone()) { // steps until the canceller comes, or the test gives up
                    if (cancelled.get()) {
                        events.add("a step after the cancel");
                    }
                    Coroutine.yield();
                }
                return "stopped";
            } finally {
                events.add("loop's finally");
            }
        });
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(looping));
        CompletableFuture<String> canceller = pool.submit("canceller", () -> {
            events.add("cancel: " + loop.cancel(true));
            cancelled.set(true);
            for (int i = 0; i < STEPS && !events.contains("loop's finally"); i++) {
                Coroutine.yield();
            }
            return "finally seen: " + events.contains("loop's finally");
        });
        String seen = Coroutine.withTimeout(GUARD, () -> Coroutine.await(canceller));
        stop.complete(null);
        assertThat(seen).isEqualTo("finally seen: true");
        assertThat(thrownByClose(pool)).isNull();
        assertThat(events).containsExactly("cancel: true", "a step after the cancel", "loop's finally");
        assertThat(loop.isCancelled()).isTrue();
    }
}
