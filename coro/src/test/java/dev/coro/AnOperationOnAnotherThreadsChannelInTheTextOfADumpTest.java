package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.JmxDumpWhoseWaitTextCallsCoroTest.Calling;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An operation on a channel (or semaphore) of a pool thread made by the user's code in the text of a dump that
 * another thread asked for, while the thread making it waits in its event loop ({@code Context.OBSERVED}), is done
 * or refused, never both: one that must be posted to the channel's thread and wait for its answer (a
 * {@code trySend}, a timed {@code tryReceive}, a {@code close()}, a semaphore's {@code release()}, a select's
 * {@code onSend} with a default) is refused before it posts anything, naming the thread, and the channel is as it
 * was (no value sent, still open, no permit back); one that runs in place on a shared channel needs no context,
 * and is done. The thread's contexts run on as if never dumped.
 */
@ExtendWith(FreshThread.class)
@Timeout(30)
class AnOperationOnAnotherThreadsChannelInTheTextOfADumpTest {

    /**
     * Makes a dump of an idle thread whose awaited future's text runs {@code call} on what {@code made} holds (made
     * by the pool's thread), then checks that the call was refused there as every call that needs a context is,
     * and hands {@code made} to {@code after} to check what the pool's thread finds.
     */
    private static <X> void refusedInTheText(CoroutinePool pool, X made, Consumer<X> call, Consumer<X> after)
            throws Exception {
        Calling<String> f = new Calling<>();
        f.call = () -> call.accept(made);
        JmxDumpWhoseWaitTextCallsCoroTest.assertAnsweredAndRanOn(
                JmxDumpWhoseWaitTextCallsCoroTest.dumpWhileIdle(f, new CompletableFuture<>(), () -> { }), f);
        after.accept(made);
    }

    @Test
    void aTrySendThatMustBePostedIsRefusedAndSendsNothing() throws Exception {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> theirs = OfAPoolThread.channel(pool);
            refusedInTheText(pool, theirs, ch -> ch.trySend("x"),
                    ch -> assertThat(pool.submit(() -> ch.tryReceive()).join()).isEmpty());
        }
    }

    @Test
    void aTimedTryReceiveThatMustBePostedIsRefusedAndTakesNothing() throws Exception {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> theirs = OfAPoolThread.channel(pool, "x");
            refusedInTheText(pool, theirs, ch -> ch.tryReceive(Duration.ofDays(1)),
                    ch -> assertThat(pool.submit(() -> List.of(ch.tryReceive(), ch.tryReceive())).join())
                            .containsExactly(Optional.of("x"), Optional.empty()));
        }
    }

    @Test
    void aCloseThatMustBePostedIsRefusedAndLeavesTheChannelOpen() throws Exception {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> theirs = OfAPoolThread.channel(pool);
            refusedInTheText(pool, theirs, Channel::close, ch -> assertThat(pool.submit(ch::isClosed).join()).isFalse());
        }
    }

    @Test
    void aSemaphoreReleaseThatMustBePostedIsRefusedAndGivesNoPermitBack() throws Exception {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Semaphore theirs = OfAPoolThread.semaphoreTaken(pool);
            refusedInTheText(pool, theirs, Semaphore::release,
                    s -> assertThat(pool.submit(s::availablePermits).join()).isZero());
        }
    }

    @Test
    void aSelectsOnSendWithADefaultThatMustBePostedIsRefusedAndSendsNothing() throws Exception {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> theirs = OfAPoolThread.channel(pool);
            refusedInTheText(pool, theirs, ch -> new Select<String>().onSend(ch, "x", () -> "sent").onDefault(() -> "none").select(),
                    ch -> assertThat(pool.submit(() -> ch.tryReceive()).join()).isEmpty());
        }
    }

    @Test
    void aTryReceiveOnASharedChannelHoldingAValueIsDoneInPlaceNeedingNoContext() throws Exception {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> theirs = OfAPoolThread.channel(pool, "x", "y");
            assertThat(theirs.tryReceive()).contains("x"); // posted to its thread, which shares it
            Coroutine.await(CompletableFuture.completedFuture("marked")); // as in the trySend's test above
            Calling<String> f = new Calling<>();
            List<Optional<String>> got = new ArrayList<>();
            f.call = () -> got.add(theirs.tryReceive());
            Object[] dumped = JmxDumpWhoseWaitTextCallsCoroTest.dumpWhileIdle(f, new CompletableFuture<>(), () -> { });
            assertThat(f.thrown).isEmpty();
            assertThat((String) dumped[0]).contains("waits to await a calling future");
            assertThat(got).containsExactly(Optional.of("y"));
            assertThat(pool.submit(() -> theirs.tryReceive()).join()).as("taken once").isEmpty();
        }
    }

    @Test
    void aTrySendOnASharedChannelWithRoomIsDoneInPlaceNeedingNoContext() throws Exception {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> theirs = OfAPoolThread.channel(pool);
            assertThat(theirs.tryReceive()).isEmpty(); // posted to its thread, which shares it
            // this thread, alive throughout, is marked as exchanging with others first: if the one-entry cache of
            // such marks is free, it takes it, so the dumping thread never has it and must mark itself in full
            Coroutine.await(CompletableFuture.completedFuture("marked"));
            Calling<String> f = new Calling<>();
            boolean[] sent = new boolean[1];
            f.call = () -> sent[0] = theirs.trySend("x");
            Object[] got = JmxDumpWhoseWaitTextCallsCoroTest.dumpWhileIdle(f, new CompletableFuture<>(), () -> { });
            assertThat(f.thrown).isEmpty();
            assertThat((String) got[0]).contains("waits to await a calling future");
            assertThat(sent[0]).isTrue();
            assertThat(pool.submit(() -> List.of(theirs.tryReceive(), theirs.tryReceive())).join())
                    .containsExactly(Optional.of("x"), Optional.empty());
        }
    }
}
