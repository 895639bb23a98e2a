package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link CoroutinePool#close()} returns once the pool's coroutines have ended, however the close's
 * wake-up of a pool thread and their ends interleave.
 */
@ExtendWith(FreshThread.class)
class CoroutinePoolCloseTest {

    @Test
    void closeReturnsWhenTheLastBodyEndsAfterThePoolThreadTookTheCloseIn() {
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<Void> closeCalled = new CompletableFuture<>();
        AtomicBoolean ended = new AtomicBoolean();
        pool.execute(() -> {
            Coroutine.await(closeCalled);
            ended.set(true);
        });
        // runs on this thread once close() waits, after close() has posted its wake-up to the pool
        // thread: the pool thread's main takes that in while the body still waits
        Coroutine.create("after-close", () -> closeCalled.complete(null));
        pool.close();
        assertThat(ended).isTrue();
    }

    @Test
    void closeReturnsWhenACoroutineCreatedInABodyEndsLast() {
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        AtomicBoolean ended = new AtomicBoolean();
        pool.execute(() -> Coroutine.create("nested", () -> {
            Coroutine.await(gate);
            ended.set(true);
        }));
        // runs on this thread while close() waits: the nested coroutine ends after the close
        Coroutine.create("opener", () -> gate.complete(null));
        pool.close();
        assertThat(ended).isTrue();
    }

    @Test
    void closeRightAfterASubmissionStillRunsIt() {
        // the pool thread may not have taken the body in when close() begins: it must run it all the same
        // (the race is at the pool thread's start, so the test makes it many times)
        for (int i = 0; i < 50; i++) {
            CoroutinePool pool = CoroutinePool.start(1);
            AtomicBoolean ran = new AtomicBoolean();
            pool.execute(() -> ran.set(true));
            pool.close();
            assertThat(ran).as("round %d", i).isTrue();
        }
    }

    @Test
    void aCloseThatWaitsForACoroutineThatNeverEndsSaysSoInTheDumpAndInItsTimeoutsSignal() {
        CoroutinePool pool = CoroutinePool.start(2);
        String name = CoroutinePoolTest.nameOf(pool);
        Channel<String> never = Coroutine.await(pool.submit(() -> new Channel<String>("never", 0)));
        Channel<String> nestedNever = Coroutine.await(pool.submit(() -> new Channel<String>("nested-never", 0)));
        CompletableFuture<String> parked = pool.submit(never::receive); // parks on its thread's channel for good
        Coroutine.await(pool.submit(() -> Coroutine.create("nested", nestedNever::receive))); // its body ended, its coroutine does not

        Throwable timedOut = org.assertj.core.api.Assertions.catchThrowable(() -> VirtualTime.run(
                () -> Coroutine.withTimeout(java.time.Duration.ofMillis(1), () -> {
                    pool.close();
                    return null;
                })));
        assertThat(timedOut).isInstanceOf(CoroutineTimeoutException.class);
        assertThat(timedOut.getCause()).hasMessage("main context 'main': its withTimeout(PT0.001S) expired; its await the close of "
                + name + " (1 submitted body has not ended) throws this signal so that the body unwinds to it");

        Coroutine closer = Coroutine.create("closer", pool::close);
        Coroutine.yield(); // it parks in close()
        assertThat(Coroutine.dump()).contains("coroutine 'closer': PARKED, waits to await the close of " + name
                + " (1 submitted body has not ended)");
        never.send("go");
        assertThat(Coroutine.await(parked)).isEqualTo("go");
        assertThat(Coroutine.dump()).contains("coroutine 'closer': PARKED, waits to await the close of " + name
                + " (every submitted body has ended, not every coroutine they created)");
        nestedNever.send("go");
        while (!closer.isFinished()) {
            Coroutine.yield();
        }
        assertThat(closer.state()).isEqualTo(Coroutine.State.FINISHED);
    }
}
