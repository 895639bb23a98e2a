package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A select over another thread's channel whose caller's park is refused (on the continuation engine, under an
 * FFM upcall, where the JDK cannot suspend it; on the thread engine, because the coroutine it would switch to
 * gets no thread) fires exactly one clause or none, never refusing while a clause took effect: a clause that the
 * channel's thread completed before the refusal fires (an {@code onSend} whose value went into the channel, an
 * {@code onReceive} with the value it took); if none had, the refusal is thrown, and no clause is left behind on
 * the channel. A select whose {@code onSend} had won used to throw the refusal although its value had been sent.
 */
@ExtendWith(FreshThread.class)
@Timeout(20)
class ASelectOverAnotherThreadsChannelWhoseParkIsRefusedTest {

    private static boolean threadEngine() {
        return Engines.running().equals("threads");
    }

    @AfterEach
    void noHookLeft() {
        Select.beforeParkAcross = null;
    }

    /**
     * What a coroutine 'selector' gets from {@code call}, whose park (switching to the coroutine 'other', NEW) is
     * refused: under an FFM upcall on the continuation engine, or, on the thread engine, with 'other' given no
     * thread. 'other' runs afterwards.
     */
    private static Object ofACoroutineWhoseParkIsRefused(Supplier<?> call) {
        if (threadEngine()) {
            return OfAPoolThread.ofACoroutineWhoseParkGetsNoThread("selector", call);
        }
        Coroutine.create("other", () -> { });
        Object[] outcome = new Object[1];
        Coroutine.create("selector", () -> outcome[0] = Upcalls.inAnUpcall(call::get)).switchTo();
        Coroutine.yield(); // the other runs and ends
        return outcome[0];
    }

    /** The refusal of the park of 'selector' in {@code select}. */
    private static String refusal(String select) {
        String why = threadEngine()
                ? "no virtual thread could be started for coroutine 'other' (java.util.concurrent.RejectedExecutionException:"
                        + " refused for a test)"
                : "the JDK cannot suspend it here because a native frame is on its stack (a JNI call, an FFM upcall, or a"
                        + " class initializer)";
        return "cannot suspend coroutine 'selector' at its " + select + " to run coroutine 'other': " + why
                + "; it keeps running (state RUNNING)";
    }

    /**
     * A channel of the one thread of {@code pool}, unbuffered and shared already (this thread used it), so that a
     * select's clause on it waits in its queue, put there in place, until that thread's {@code partner} meets it.
     */
    private static Channel<String> aSharedChannelOf(CoroutinePool pool) {
        Channel<String> theirs = pool.submit(() -> new Channel<String>("theirs", 0)).join();
        assertThat(theirs.tryReceive()).isEmpty(); // posted to its thread, which shares it
        return theirs;
    }

    /** Lets the one thread of {@code pool} complete a clause of the select, running {@code partner}, before its caller parks. */
    private static void letItsThreadCompleteAClauseFirst(CoroutinePool pool, Runnable partner) {
        Select.beforeParkAcross = claim -> {
            pool.execute(partner);
            while (!claim.isDone()) {
                Thread.onSpinWait(); // the channel's thread meets the clause meanwhile
            }
        };
    }

    @Test
    void anOnSendThatTheChannelsThreadCompletedBeforeTheParkWasRefusedFiresItsValueDeliveredOnce() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> theirs = aSharedChannelOf(pool);
            CompletableFuture<String> received = new CompletableFuture<>();
            letItsThreadCompleteAClauseFirst(pool, () -> received.complete(theirs.receive()));
            Object outcome = ofACoroutineWhoseParkIsRefused(() -> new Select<String>()
                    .onSend(theirs, "x", () -> "sent")
                    .select());
            assertThat(outcome).isEqualTo("sent");
            assertThat(received.join()).isEqualTo("x");
            assertThat(pool.submit(() -> theirs.tryReceive()).join()).as("sent once").isEmpty();
        }
    }

    @Test
    void anOnReceiveThatTheChannelsThreadCompletedBeforeTheParkWasRefusedFiresWithTheValueItTook() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> theirs = aSharedChannelOf(pool);
            letItsThreadCompleteAClauseFirst(pool, () -> theirs.send("x"));
            Object outcome = ofACoroutineWhoseParkIsRefused(() -> new Select<String>()
                    .onReceive(theirs, v -> "got " + v)
                    .select());
            assertThat(outcome).isEqualTo("got x");
            assertThat(pool.submit(() -> theirs.tryReceive()).join()).as("taken once, not given back").isEmpty();
        }
    }

    @Test
    void aSelectWhoseParkWasRefusedBeforeAnyClauseCompletedThrowsTheRefusalAndLeavesNoClauseBehind() throws Exception {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> theirs = pool.submit(() -> new Channel<String>("theirs", 0)).join();
            String itsThread = pool.submit(() -> Scheduler.describe(Scheduler.current().owner)).join();
            Object[] refused = new Object[1];
            OfAPoolThread.held(pool, () -> refused[0] = ofACoroutineWhoseParkIsRefused(() -> new Select<String>()
                    .onSend(theirs, "x", () -> "sent")
                    .select()));
            assertThat(refused[0]).isInstanceOfSatisfying(IllegalStateException.class, e -> assertThat(e)
                    .hasMessage(refusal("select over send to channel 'theirs' of thread " + itsThread)));
            assertThat(pool.submit(() -> theirs.tryReceive()).join()).as("no send clause is left waiting").isEmpty();
        }
    }
}
