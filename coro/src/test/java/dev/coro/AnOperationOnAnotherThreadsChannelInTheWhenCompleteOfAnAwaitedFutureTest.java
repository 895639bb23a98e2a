package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An operation on a channel (or semaphore) of a pool thread made by the user's code in the {@code whenComplete}
 * of a future of its own class, which coro calls as an await of it starts ({@code Context.REGISTERING}), is done
 * or refused, never both: one that must be posted to the channel's thread and wait for its answer (a
 * {@code trySend}, a timed {@code tryReceive}, a {@code close()}, a semaphore's {@code release()}), or wait in a
 * shared channel's queue (a {@code send} to a full one), is refused before it posts or queues anything, naming the
 * caller, the operation and the future, and the channel is as it was; the await is then made whole, and the
 * future's completion wakes it, nothing left behind.
 */
@ExtendWith(FreshThread.class)
@Timeout(20)
class AnOperationOnAnotherThreadsChannelInTheWhenCompleteOfAnAwaitedFutureTest {

    private static String refusal(String operation, Object f) {
        return "coroutine 'awaiter' (state RUNNING) cannot " + operation + " inside the whenComplete of "
                + f.getClass().getName() + "@" + Integer.toHexString(System.identityHashCode(f))
                + ", which coro calls as a wait for that future starts: the wait is half made until it returns, and"
                + " nothing could wake it rightly; a future's whenComplete must not yield, park, switch to or close a"
                + " coroutine";
    }

    /**
     * Coroutine 'awaiter' awaits a {@link HookedFuture} future whose {@code whenComplete} runs {@code call}; the future
     * is then completed. Returns what {@code call} threw (null if nothing), once the await got the value.
     */
    private static Throwable thrownInTheWhenComplete(Runnable call) {
        HookedFuture<String> f = new HookedFuture<>();
        Throwable[] thrown = new Throwable[1];
        List<String> log = new ArrayList<>();
        f.action = () -> thrown[0] = catchThrowable(call::run);
        Coroutine awaiter = Coroutine.create("awaiter", () -> log.add("got " + Coroutine.await(f)));
        awaiter.switchTo();
        f.complete("done");
        for (int i = 0; i < 3 && awaiter.state() != State.FINISHED; i++) {
            Coroutine.yield();
        }
        assertThat(log).as("the await was made whole, and woken once").containsExactly("got done");
        assertThat(LoopProbe.hasPending()).as("no wait left behind").isFalse();
        if (thrown[0] != null) {
            thrown[0] = new RefusedIn(f, thrown[0]);
        }
        return thrown[0];
    }

    /** What {@link #thrownInTheWhenComplete} hands back: the throwable, with the future its refusal names. */
    private static final class RefusedIn extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final transient Object future;

        RefusedIn(Object future, Throwable thrown) {
            super(thrown);
            this.future = future;
        }
    }

    private static void assertRefused(Throwable got, String operation) {
        assertThat(got).isInstanceOf(RefusedIn.class);
        assertThat(got.getCause()).isExactlyInstanceOf(IllegalStateException.class)
                .hasMessage(refusal(operation, ((RefusedIn) got).future));
    }

    @Test
    void aTrySendThatMustBePostedIsRefusedAndSendsNothing() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> theirs = OfAPoolThread.channel(pool);
            assertRefused(thrownInTheWhenComplete(() -> theirs.trySend("x")),
                    "trySend to channel 'theirs' of thread " + theirs.ownerName());
            assertThat(pool.submit(() -> theirs.tryReceive()).join()).as("nothing was sent").isEmpty();
        }
    }

    @Test
    void aTimedTryReceiveThatMustBePostedIsRefusedAndTakesNothing() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> theirs = OfAPoolThread.channel(pool, "x");
            assertRefused(thrownInTheWhenComplete(() -> theirs.tryReceive(Duration.ofDays(1))),
                    "tryReceive from channel 'theirs' of thread " + theirs.ownerName());
            assertThat(pool.submit(() -> List.of(theirs.tryReceive(), theirs.tryReceive())).join())
                    .containsExactly(Optional.of("x"), Optional.empty());
        }
    }

    @Test
    void aCloseThatMustBePostedIsRefusedAndLeavesTheChannelOpen() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> theirs = OfAPoolThread.channel(pool);
            assertRefused(thrownInTheWhenComplete(theirs::close), "close channel 'theirs' of thread " + theirs.ownerName());
            assertThat(pool.submit(theirs::isClosed).join()).isFalse();
        }
    }

    @Test
    void aSemaphoreReleaseThatMustBePostedIsRefusedAndGivesNoPermitBack() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Semaphore theirs = OfAPoolThread.semaphoreTaken(pool);
            String thread = pool.submit(() -> new Channel<String>("probe", 0)).join().ownerName(); // the pool's one thread
            assertRefused(thrownInTheWhenComplete(theirs::release),
                    "release Semaphore[theirs, 0 of 1 permits free] of thread " + thread);
            assertThat(pool.submit(theirs::availablePermits).join()).isZero();
        }
    }

    @Test
    void aSendThatWouldWaitInASharedFullChannelsQueueIsRefusedAndQueuesNothing() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> theirs = pool.submit(() -> {
                Channel<String> ch = new Channel<String>("theirs", 1);
                ch.send("first");
                return ch;
            }).join();
            assertThat(theirs.tryReceive(Duration.ZERO)).contains("first"); // posted to its thread, which shares it
            assertThat(theirs.trySend("second")).isTrue(); // in place: the buffer is full
            assertRefused(thrownInTheWhenComplete(() -> theirs.send("x")),
                    "send to channel 'theirs' of thread " + theirs.ownerName());
            assertThat(pool.submit(() -> List.of(theirs.tryReceive(), theirs.tryReceive())).join())
                    .containsExactly(Optional.of("second"), Optional.empty());
        }
    }
}
