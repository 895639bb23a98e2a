package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An operation on another thread's channel that a coroutine makes where the JDK cannot suspend it (on the
 * continuation engine, under an FFM upcall) and that must be posted to the channel's thread is either done or
 * refused, never both: if the channel's thread ran it before its caller's wait could be withdrawn, it returns
 * what it did (a {@code trySend} true, its value delivered once); if not, it is withdrawn and the
 * {@link IllegalStateException} of the refusal is thrown, nothing done. A {@code trySend} used to throw the
 * refusal although its value had gone into the channel, so that a caller that sent again sent it twice. A
 * close and a semaphore's release, which run once posted whatever becomes of their caller, are not waited
 * for: they return, and the channel's thread closes the channel or takes the permit back (they used to throw
 * the refusal, and do it all the same).
 */
@ExtendWith(FreshThread.class)
@Timeout(20)
class AnOperationOnAnotherThreadsChannelRefusedToWaitTest {

    static boolean continuationEngineRuns() {
        return Engines.running().equals("continuation");
    }

    private static final String ONLY_THERE = "only the continuation engine refuses to suspend under an upcall";

    /** What {@code call} returns or throws inside an FFM upcall ({@link Upcalls}). */
    private static Object inAnUpcall(Supplier<?> call) {
        return Upcalls.inAnUpcall(call::get);
    }

    /** What a coroutine, with another ready to run (so that its wait would switch to it), gets from {@code call} in an upcall. */
    private static Object ofACoroutineInAnUpcall(Supplier<?> call) {
        Coroutine.create("other", () -> { });
        Object[] outcome = new Object[1];
        Coroutine.create("sender", () -> outcome[0] = inAnUpcall(call)).switchTo();
        Coroutine.yield(); // the other runs and ends
        return outcome[0];
    }

    @AfterEach
    void noHookLeft() {
        Channel.beforeParkAcross = null;
    }

    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = ONLY_THERE)
    void aTrySendThatTheChannelsThreadRanBeforeItsWaitWasRefusedReturnsTrueItsValueDeliveredOnce() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> theirs = OfAPoolThread.channel(pool);
            Channel.beforeParkAcross = r -> {
                while (!r.ticket.isDone()) {
                    Thread.onSpinWait(); // the channel's thread runs the post meanwhile
                }
            };
            Object outcome = ofACoroutineInAnUpcall(() -> theirs.trySend("x"));
            Channel.beforeParkAcross = null;
            assertThat(outcome).isEqualTo(true);
            assertThat(pool.submit(() -> List.of(theirs.tryReceive(), theirs.tryReceive())).join())
                    .containsExactly(Optional.of("x"), Optional.empty());
        }
    }

    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = ONLY_THERE)
    void aCloseWhoseCallerCannotWaitForTheAnswerReturnsAndTheChannelsThreadClosesTheChannel() throws Exception {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> theirs = OfAPoolThread.channel(pool);
            Object[] outcome = new Object[1];
            OfAPoolThread.held(pool, () -> outcome[0] = ofACoroutineInAnUpcall(() -> {
                theirs.close();
                return "returned";
            }));
            assertThat(outcome[0]).isEqualTo("returned");
            assertThat(pool.submit(theirs::isClosed).join()).isTrue();
        }
    }

    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = ONLY_THERE)
    void aSemaphoreReleaseWhoseCallerCannotWaitForTheAnswerReturnsAndThePermitGoesBack() throws Exception {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Semaphore theirs = OfAPoolThread.semaphoreTaken(pool);
            Object[] outcome = new Object[1];
            OfAPoolThread.held(pool, () -> outcome[0] = ofACoroutineInAnUpcall(() -> {
                theirs.release();
                return "returned";
            }));
            assertThat(outcome[0]).isEqualTo("returned");
            assertThat(pool.submit(theirs::availablePermits).join()).isEqualTo(1);
        }
    }

    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = ONLY_THERE)
    void aTrySendWhoseWaitWasRefusedBeforeTheChannelsThreadRanItThrowsTheRefusalAndSendsNothing() throws Exception {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> theirs = OfAPoolThread.channel(pool);
            String poolThread = pool.submit(() -> Scheduler.describe(Thread.currentThread())).join();
            Object[] refused = new Object[1];
            OfAPoolThread.held(pool, () -> refused[0] = ofACoroutineInAnUpcall(() -> theirs.trySend("x")));
            assertThat(refused[0]).isInstanceOfSatisfying(IllegalStateException.class, e -> assertThat(e).hasMessage(
                    "cannot suspend coroutine 'sender' at its trySend to channel 'theirs' of thread " + poolThread
                            + " to run coroutine 'other': the JDK cannot suspend it here because a native"
                            + " frame is on its stack (a JNI call, an FFM upcall, or a class initializer); it keeps running"
                            + " (state RUNNING)"));
            assertThat(pool.submit(() -> theirs.tryReceive()).join()).as("nothing was sent").isEmpty();
        }
    }
}
