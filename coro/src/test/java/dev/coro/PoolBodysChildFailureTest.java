package dev.coro;

import static dev.coro.PoolsClosed.GUARD;
import static dev.coro.PoolsClosed.thrownByClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A coroutine a pool body creates with {@code Coroutine.create} that fails follows the rule of every failure
 * (docs/SEMANTICS.md, Failures): to its creator, the body, if that is alive and not parked, a {@code join()} of
 * the failing child counting as not parked; else to its thread's main, which for a pool thread is a failure
 * {@code close()} reports as left to that main. So a body gets a sub-job's failure by joining it (or by having
 * the sub-job hand its failure over, closing the channel the body receives from with it); a body parked in a
 * receive does not get it, and waits on.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
@Timeout(60)
class PoolBodysChildFailureTest {

    @Test
    void aBodyJoiningItsFailingChildGetsTheFailureFromTheJoinAndItsFutureFailsWithIt() {
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<String> job = pool.submit("job", () -> {
            Coroutine part = Coroutine.create("part", () -> {
                Coroutine.sleep(Duration.ofMillis(1));
                throw new IllegalStateException("part broke");
            });
            part.join();
            return "the join returned";
        });
        Throwable read = catchThrowable(() -> Coroutine.withTimeout(GUARD, () -> Coroutine.await(job)));
        assertThat(read).isExactlyInstanceOf(CompletionException.class)
                .cause().isExactlyInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'part' failed: java.lang.IllegalStateException: part broke")
                .cause().isExactlyInstanceOf(IllegalStateException.class).hasMessage("part broke");
        assertThat(thrownByClose(pool)).as("the body's failure, read through its future").isNull();
    }

    @Test
    void aBodyParkedInAReceiveDoesNotGetItsChildsFailureWhichItsThreadsMainKeepsForClose() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<Channel<String>> handed = new CompletableFuture<>();
        CompletableFuture<Void> thrown = new CompletableFuture<>();
        CompletableFuture<Thread> thread = new CompletableFuture<>();
        CompletableFuture<String> job = pool.submit("job", () -> {
            Channel<String> results = new Channel<>("results", 1);
            handed.complete(results);
            thread.complete(Peer.schedulerThread());
            Coroutine.create("part", () -> { // runs once the body parks in its receive
                thrown.complete(null);
                throw new IllegalStateException("part broke");
            });
            return "received " + results.receive();
        });
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(thrown));
        // the body waits on: it got nothing of the failure; a value sent now is what its receive returns
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(handed).send("late"));
        assertThat(Coroutine.withTimeout(GUARD, () -> Coroutine.await(job))).isEqualTo("received late");
        assertThat(thrownByClose(pool)).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage(name + ": a coroutine failed and nobody observed it: left to main context 'main' of thread '" + name
                        + "-0' (#" + thread.join().threadId() + "): dev.coro.CoroutineException: coroutine 'part' failed:"
                        + " java.lang.IllegalStateException: part broke")
                .rootCause().isExactlyInstanceOf(IllegalStateException.class).hasMessage("part broke");
    }

    @Test
    void aChildThatClosesTheChannelItsBodyReceivesFromWithItsFailureHandsTheFailureToTheBody() {
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<String> job = pool.submit("job", () -> {
            Channel<String> results = new Channel<>("results", 1);
            Coroutine.create("part", () -> {
                try {
                    throw new IllegalStateException("part broke");
                } catch (IllegalStateException e) {
                    results.close(e);
                }
            });
            try {
                return "received " + results.receive();
            } catch (ChannelClosedException e) {
                return "the part failed: " + e.getCause().getMessage();
            }
        });
        assertThat(Coroutine.withTimeout(GUARD, () -> Coroutine.await(job))).isEqualTo("the part failed: part broke");
        assertThat(thrownByClose(pool)).isNull();
    }
}
