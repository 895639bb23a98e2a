package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A wait on a channel of the caller's own thread that is done before the JDK refuses the caller's park (on
 * the continuation engine, under an FFM upcall) returns what it did instead of throwing the refusal: a send
 * whose value a receiver of another thread took as the park ran that thread's post returns, the value
 * delivered once; a receive handed a value so returns it, and no refusal is left for a later scheduling point;
 * a select fires the clause so completed, one over channels of several threads too.
 * A send used to throw the refusal although its value had been delivered, so that a caller that sent again
 * sent it twice; a receive handed its value on a channel closed meanwhile returned it, and the refusal came
 * again at the caller's next scheduling point, where nothing was refused.
 */
@ExtendWith(FreshThread.class)
@Timeout(20)
class AWaitDoneBeforeTheJdkRefusedItsParkTest {

    static boolean continuationEngineRuns() {
        return Engines.running().equals("continuation");
    }

    private static final String ONLY_THERE = "only the continuation engine refuses to suspend under an upcall; on the"
            + " thread engine the coroutine parks there, pinning its carrier, and its wait ends as any other";

    @AfterEach
    void noHookLeft() {
        Channel.beforeParkAcross = null;
    }

    /**
     * What {@code call} gives or throws inside an FFM upcall of coroutine 'waiter' (with coroutine 'other' ready to
     * run, so that a park would switch to it), made once each of {@code posters}, run in turn, has had an operation
     * of another thread posted to this thread, where it waits in the inbox: the park of the call runs them first, in
     * that order. Then the rest run to their ends; what the caller's next scheduling point, a {@code yield} outside
     * the upcall, threw, if anything, is added to {@code later}.
     */
    private static Object inAnUpcallWithPostsWaiting(List<Runnable> posters, Upcalls.Body call, List<Throwable> later) {
        java.util.concurrent.Semaphore posted = new java.util.concurrent.Semaphore(0);
        Channel.beforeParkAcross = r -> posted.release();
        Coroutine.create("other", () -> { });
        Object[] outcome = new Object[1];
        Coroutine.create("waiter", () -> {
            outcome[0] = Upcalls.inAnUpcall(() -> {
                for (Runnable poster : posters) {
                    poster.run();
                    posted.acquire(); // its post waits in this thread's inbox
                }
                return call.call();
            });
            try {
                Coroutine.yield();
            } catch (Throwable e) {
                later.add(e);
            }
        }).switchTo();
        Channel.beforeParkAcross = null;
        while (Scheduler.current().runList.size() > 1) {
            Coroutine.yield();
        }
        return outcome[0];
    }

    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = ONLY_THERE)
    void aSendWhoseValueAReceiverOfAnotherThreadTookAsItsParkWasRefusedReturnsTheValueDeliveredOnce() {
        Channel<String> ch = new Channel<>("ch", 0);
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            List<CompletableFuture<String>> got = new ArrayList<>();
            List<Throwable> later = new ArrayList<>();
            Object outcome = inAnUpcallWithPostsWaiting(List.of(() -> got.add(pool.submit(ch::receive))), () -> {
                ch.send("x");
                return "sent";
            }, later);
            assertThat(outcome).isEqualTo("sent");
            assertThat(got.get(0).join()).isEqualTo("x");
            assertThat(later).isEmpty();
            assertThat(ch.tryReceive()).as("nothing else in the channel").isEmpty();
            assertThat(ch.trySend("y")).as("no receiver left waiting").isFalse();
            assertThat(Scheduler.current().loop.timerCount()).isZero();
        }
    }

    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = ONLY_THERE)
    void aTimedTrySendWhoseValueAReceiverOfAnotherThreadTookAsItsParkWasRefusedReturnsTrueAndLeavesNoTimer() {
        Channel<String> ch = new Channel<>("ch", 0);
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            List<CompletableFuture<String>> got = new ArrayList<>();
            List<Throwable> later = new ArrayList<>();
            Object outcome = inAnUpcallWithPostsWaiting(List.of(() -> got.add(pool.submit(ch::receive))),
                    () -> ch.trySend("x", Duration.ofHours(1)), later);
            assertThat(outcome).isEqualTo(true);
            assertThat(got.get(0).join()).isEqualTo("x");
            assertThat(later).isEmpty();
            assertThat(ch.tryReceive()).as("nothing else in the channel").isEmpty();
            assertThat(Scheduler.current().loop.timerCount()).as("its timer cancelled").isZero();
        }
    }

    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = ONLY_THERE)
    void aReceiveHandedAValueOfAnotherThreadAsItsParkWasRefusedReturnsIt() {
        Channel<String> ch = new Channel<>("ch", 0);
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            List<CompletableFuture<Void>> sent = new ArrayList<>();
            List<Throwable> later = new ArrayList<>();
            Object outcome = inAnUpcallWithPostsWaiting(List.of(() -> sent.add(pool.submit(() -> {
                ch.send("x");
                return null;
            }))), ch::receive, later);
            assertThat(outcome).isEqualTo("x");
            sent.get(0).join();
            assertThat(later).isEmpty();
            assertThat(ch.tryReceive()).as("taken once").isEmpty();
        }
    }

    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = ONLY_THERE)
    void aReceiveHandedAValueOnAChannelClosedAsItsParkWasRefusedReturnsItAndLeavesNoRefusalForLater() {
        Channel<String> ch = new Channel<>("ch", 0);
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            List<CompletableFuture<Void>> others = new ArrayList<>();
            List<Throwable> later = new ArrayList<>();
            Object outcome = inAnUpcallWithPostsWaiting(List.of(() -> others.add(pool.submit(() -> {
                ch.send("x");
                return null;
            })), () -> others.add(pool.submit(() -> {
                ch.close();
                return null;
            }))), ch::receive, later);
            assertThat(outcome).isEqualTo("x");
            others.forEach(CompletableFuture::join);
            assertThat(later).as("what the caller's next scheduling point threw").isEmpty();
            assertThat(ch.isClosed()).isTrue();
            assertThat(ch.tryReceive()).as("taken once").isEmpty();
        }
    }

    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = ONLY_THERE)
    void aSelectWhoseOnSendAReceiverOfAnotherThreadTookAsItsParkWasRefusedFiresItAndLeavesNoTimer() {
        Channel<String> ch = new Channel<>("ch", 0);
        Channel<String> idle = new Channel<>("idle", 0);
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            List<CompletableFuture<String>> got = new ArrayList<>();
            List<Throwable> later = new ArrayList<>();
            Object outcome = inAnUpcallWithPostsWaiting(List.of(() -> got.add(pool.submit(ch::receive))),
                    () -> new Select<String>().onReceive(idle, v -> "received " + v).onSend(ch, "x", () -> "sent")
                            .onTimeout(Duration.ofHours(1), () -> "timed out").select(), later);
            assertThat(outcome).isEqualTo("sent");
            assertThat(got.get(0).join()).isEqualTo("x");
            assertThat(later).isEmpty();
            assertThat(idle.trySend("y")).as("its receive clause left its channel").isFalse();
            assertThat(ch.tryReceive()).as("nothing else in the channel").isEmpty();
            assertThat(Scheduler.current().loop.timerCount()).as("its timeout's timer cancelled").isZero();
        }
    }

    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = ONLY_THERE)
    void aSelectWhoseOnReceiveWasHandedAValueOfAnotherThreadAsItsParkWasRefusedFiresItWithThatValue() {
        Channel<String> ch = new Channel<>("ch", 0);
        Channel<String> idle = new Channel<>("idle", 0);
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            List<CompletableFuture<Void>> sent = new ArrayList<>();
            List<Throwable> later = new ArrayList<>();
            Object outcome = inAnUpcallWithPostsWaiting(List.of(() -> sent.add(pool.submit(() -> {
                ch.send("x");
                return null;
            }))), () -> new Select<String>().onSend(idle, "y", () -> "sent").onReceive(ch, v -> "received " + v).select(), later);
            assertThat(outcome).isEqualTo("received x");
            sent.get(0).join();
            assertThat(later).isEmpty();
            assertThat(idle.tryReceive()).as("its send clause left its channel").isEmpty();
            assertThat(ch.tryReceive()).as("taken once").isEmpty();
        }
    }

    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = ONLY_THERE)
    void anAcquireHandedAPermitThatAnotherThreadReleasedAsItsParkWasRefusedHoldsIt() {
        Semaphore s = new Semaphore("s", 1);
        s.acquire();
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            List<CompletableFuture<Void>> released = new ArrayList<>();
            List<Throwable> later = new ArrayList<>();
            Object outcome = inAnUpcallWithPostsWaiting(List.of(() -> released.add(pool.submit(() -> {
                s.release();
                return null;
            }))), () -> {
                s.acquire();
                return "acquired";
            }, later);
            assertThat(outcome).isEqualTo("acquired");
            released.get(0).join();
            assertThat(later).isEmpty();
            assertThat(s.availablePermits()).as("the permit is the caller's").isZero();
            s.release();
            assertThat(s.availablePermits()).isEqualTo(1);
        }
    }

    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = ONLY_THERE)
    void aSelectAlsoOverAnotherThreadsChannelWhoseOnSendToItsOwnAReceiverTookAsItsParkWasRefusedFiresIt() {
        Channel<String> ch = new Channel<>("ch", 0);
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> theirs = pool.submit(() -> new Channel<String>("theirs", 0)).join();
            List<CompletableFuture<String>> got = new ArrayList<>();
            List<Throwable> later = new ArrayList<>();
            Object outcome = inAnUpcallWithPostsWaiting(List.of(() -> got.add(pool.submit(ch::receive))),
                    () -> new Select<String>().onReceive(theirs, v -> "received " + v).onSend(ch, "x", () -> "sent").select(), later);
            assertThat(outcome).isEqualTo("sent");
            assertThat(got.get(0).join()).isEqualTo("x");
            assertThat(later).isEmpty();
            assertThat(ch.tryReceive()).as("nothing else in the channel").isEmpty();
            assertThat(pool.submit(() -> theirs.trySend("y")).join()).as("its receive clause left their channel").isFalse();
        }
    }
}
