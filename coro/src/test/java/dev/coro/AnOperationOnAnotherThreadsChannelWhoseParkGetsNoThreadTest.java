package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An operation on another thread's channel that must be posted to the channel's thread, whose caller's park for
 * the answer is refused because the coroutine it would switch to gets no thread (the thread engine), is done or
 * refused, never both, as where the JDK refuses to suspend the caller: if the channel's thread ran it first, it
 * returns what it did (a {@code trySend} true, a {@code send} returns, its value delivered once); if it was
 * withdrawn in time, the refusal is thrown and nothing was done; a close and a semaphore's release, which run once
 * posted whatever becomes of their caller, are not waited for: they return, and the channel's thread does them.
 * Each of these used to throw the refusal although its value had gone into the channel, the channel was closed or
 * the permit went back.
 */
@ExtendWith(FreshThread.class)
@Timeout(20)
@EnabledIf(value = "dev.coro.ThreadEngineTest#threadEngineRuns", disabledReason = "a coroutine of the continuation engine starts no thread")
class AnOperationOnAnotherThreadsChannelWhoseParkGetsNoThreadTest {

    @AfterEach
    void noHookLeft() {
        Channel.beforeParkAcross = null;
    }

    /** What a coroutine 'sender' gets from {@code call}, whose park gets no thread ({@link OfAPoolThread}). */
    private static Object ofACoroutineWhoseParkGetsNoThread(Supplier<?> call) {
        return OfAPoolThread.ofACoroutineWhoseParkGetsNoThread("sender", call);
    }

    /** Lets the channel's thread run each posted operation before its caller parks. */
    private static void letItsThreadRunItFirst() {
        Channel.beforeParkAcross = r -> {
            while (!r.ticket.isDone()) {
                Thread.onSpinWait(); // the channel's thread runs the post meanwhile
            }
        };
    }

    /** The refusal of the park of 'sender' at {@code operation}, its target 'other' getting no thread. */
    private static String refusal(String operation) {
        return "cannot suspend coroutine 'sender' at its " + operation + " to run coroutine 'other': no virtual thread"
                + " could be started for coroutine 'other' (java.util.concurrent.RejectedExecutionException: refused for a"
                + " test); it keeps running (state RUNNING)";
    }

    @Test
    void aTrySendThatTheChannelsThreadRanBeforeItsParkWasRefusedReturnsTrueItsValueDeliveredOnce() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> theirs = OfAPoolThread.channel(pool);
            letItsThreadRunItFirst();
            Object outcome = ofACoroutineWhoseParkGetsNoThread(() -> theirs.trySend("x"));
            assertThat(outcome).isEqualTo(true);
            assertThat(pool.submit(() -> List.of(theirs.tryReceive(), theirs.tryReceive())).join())
                    .containsExactly(Optional.of("x"), Optional.empty());
        }
    }

    @Test
    void aSendThatTheChannelsThreadRanBeforeItsParkWasRefusedReturnsItsValueDeliveredOnce() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> theirs = OfAPoolThread.channel(pool);
            letItsThreadRunItFirst();
            Object outcome = ofACoroutineWhoseParkGetsNoThread(() -> {
                theirs.send("x");
                return "returned";
            });
            assertThat(outcome).isEqualTo("returned");
            assertThat(pool.submit(() -> List.of(theirs.tryReceive(), theirs.tryReceive())).join())
                    .containsExactly(Optional.of("x"), Optional.empty());
        }
    }

    @Test
    void aTimedTryReceiveThatTheChannelsThreadRanBeforeItsParkWasRefusedReturnsTheValueTakenOnce() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> theirs = OfAPoolThread.channel(pool, "x");
            letItsThreadRunItFirst();
            Object outcome = ofACoroutineWhoseParkGetsNoThread(() -> theirs.tryReceive(Duration.ofDays(1)));
            assertThat(outcome).isEqualTo(Optional.of("x"));
            assertThat(pool.submit(() -> theirs.tryReceive()).join()).as("taken once, not given back").isEmpty();
        }
    }

    @Test
    void aSemaphoreAcquireThatTheSemaphoresThreadRanBeforeItsParkWasRefusedReturnsHoldingThePermit() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Semaphore theirs = pool.submit(() -> new Semaphore("theirs", 1)).join();
            letItsThreadRunItFirst();
            Object outcome = ofACoroutineWhoseParkGetsNoThread(() -> {
                theirs.acquire();
                return "acquired";
            });
            assertThat(outcome).isEqualTo("acquired");
            assertThat(pool.submit(theirs::availablePermits).join()).as("the permit is held").isZero();
        }
    }

    @Test
    void aTrySendWhoseParkWasRefusedBeforeTheChannelsThreadRanItThrowsTheRefusalAndSendsNothing() throws Exception {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> theirs = OfAPoolThread.channel(pool);
            String poolThread = theirs.ownerName();
            Object[] refused = new Object[1];
            OfAPoolThread.held(pool, () -> refused[0] = ofACoroutineWhoseParkGetsNoThread(() -> theirs.trySend("x")));
            assertThat(refused[0]).isInstanceOfSatisfying(IllegalStateException.class, e -> assertThat(e)
                    .hasMessage(refusal("trySend to channel 'theirs' of thread " + poolThread)));
            assertThat(pool.submit(() -> theirs.tryReceive()).join()).as("nothing was sent").isEmpty();
        }
    }

    @Test
    void aCloseWhoseParkWasRefusedReturnsAndTheChannelsThreadClosesTheChannel() throws Exception {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> theirs = OfAPoolThread.channel(pool);
            Object[] outcome = new Object[1];
            OfAPoolThread.held(pool, () -> outcome[0] = ofACoroutineWhoseParkGetsNoThread(() -> {
                theirs.close();
                return "returned";
            }));
            assertThat(outcome[0]).isEqualTo("returned");
            assertThat(pool.submit(theirs::isClosed).join()).isTrue();
        }
    }

    @Test
    void aSemaphoreReleaseWhoseParkWasRefusedReturnsAndThePermitGoesBack() throws Exception {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Semaphore theirs = OfAPoolThread.semaphoreTaken(pool);
            Object[] outcome = new Object[1];
            OfAPoolThread.held(pool, () -> outcome[0] = ofACoroutineWhoseParkGetsNoThread(() -> {
                theirs.release();
                return "returned";
            }));
            assertThat(outcome[0]).isEqualTo("returned");
            assertThat(pool.submit(theirs::availablePermits).join()).isEqualTo(1);
        }
    }
}
