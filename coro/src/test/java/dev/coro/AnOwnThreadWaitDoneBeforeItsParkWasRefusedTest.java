package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A wait on a channel or semaphore of the caller's own thread that is done before its park is refused returns what
 * it did instead of throwing the refusal (docs/PINNING.md), where the JDK refuses the park (on the continuation
 * engine, under an FFM upcall) and where the thread engine does, because the coroutine the park would switch to
 * gets no thread: the park runs the posts other threads left for its thread first, and a receiver of another
 * thread that takes the value of a {@code send}, a timed {@code trySend} or a select's {@code onSend}, a sender that
 * hands a {@code receive} or an {@code onReceive} its value, a {@code release} that hands an {@code acquire} (a
 * timed {@code tryAcquire} too) its permit, complete the wait: the operation returns that, its timer cancelled, and
 * no refusal comes later (each used to throw the refusal although it had taken effect: a value sent went out, so
 * that a caller that sent again sent it twice, and one handed over was given back); a send whose wait a close of
 * another thread ended throws that the channel closed, not the refusal. A wait that no post completed still throws
 * the refusal, leaving nothing behind; and on the thread engine the target, still getting no thread, is refused at
 * the caller's next scheduling point.
 */
@ExtendWith(FreshThread.class)
@Timeout(20)
class AnOwnThreadWaitDoneBeforeItsParkWasRefusedTest {

    @AfterEach
    void noHookLeft() {
        Channel.beforeParkAcross = null;
    }

    /**
     * What coroutine 'waiter' gets from {@code call}, whose park (switching to coroutine 'other', NEW) is refused,
     * made once each of {@code posters}, run in turn, has had an operation of another thread posted to this thread,
     * where it waits in the inbox: the park of the call runs them first, in that order. The park is refused by the
     * JDK on the continuation engine (the call runs under an FFM upcall, {@link Upcalls}), and on the thread engine
     * because 'other' gets no thread. What the caller's next scheduling point, a {@code yield} (outside the upcall),
     * threw, if anything, is added to {@code later}.
     */
    private static Object withPostsWaiting(List<Runnable> posters, Supplier<?> call, List<Throwable> later) {
        return withPostsWaiting(posters, call, 1, later);
    }

    /**
     * {@link #withPostsWaiting(List, Supplier, List)}; on the thread engine the starts of the next {@code refused}
     * threads refused: with 2, 'other' gets no thread at the caller's next scheduling point either.
     */
    private static Object withPostsWaiting(List<Runnable> posters, Supplier<?> call, int refused, List<Throwable> later) {
        java.util.concurrent.Semaphore posted = new java.util.concurrent.Semaphore(0);
        Channel.beforeParkAcross = r -> posted.release();
        Coroutine.create("other", () -> { });
        Object[] outcome = new Object[1];
        Coroutine.create("waiter", () -> {
            Supplier<Object> posting = () -> {
                for (Runnable poster : posters) {
                    poster.run();
                    posted.acquireUninterruptibly(); // its post waits in this thread's inbox
                }
                Channel.beforeParkAcross = null;
                try {
                    return call.get();
                } catch (RuntimeException e) {
                    return e;
                }
            };
            if (threadEngine()) {
                ThreadEngine engine = (ThreadEngine) Scheduler.current().engine;
                engine.refuseStarts = refused; // 'other', chosen by the park, gets no thread
                try {
                    outcome[0] = posting.get();
                    yieldInto(later);
                } finally {
                    engine.refuseStarts = 0;
                }
            } else {
                outcome[0] = Upcalls.inAnUpcall(posting::get);
                yieldInto(later);
            }
        }).switchTo();
        while (Scheduler.current().runList.size() > 1) {
            Coroutine.yield();
        }
        return outcome[0];
    }

    private static void yieldInto(List<Throwable> later) {
        try {
            Coroutine.yield();
        } catch (Throwable e) {
            later.add(e);
        }
    }

    static boolean threadEngine() {
        return Engines.running().equals("threads");
    }

    @Test
    void aSendWhoseValueAReceiverOfAnotherThreadTookAsItsParkWasRefusedReturnsTheValueDeliveredOnce() {
        Channel<String> ch = new Channel<>("ch", 0);
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            List<CompletableFuture<String>> got = new ArrayList<>();
            List<Throwable> later = new ArrayList<>();
            Object outcome = withPostsWaiting(List.of(() -> got.add(pool.submit(ch::receive))), () -> {
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
    void aTimedTrySendWhoseValueAReceiverOfAnotherThreadTookAsItsParkWasRefusedReturnsTrueAndLeavesNoTimer() {
        Channel<String> ch = new Channel<>("ch", 0);
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            List<CompletableFuture<String>> got = new ArrayList<>();
            List<Throwable> later = new ArrayList<>();
            Object outcome = withPostsWaiting(List.of(() -> got.add(pool.submit(ch::receive))),
                    () -> ch.trySend("x", Duration.ofHours(1)), later);
            assertThat(outcome).isEqualTo(true);
            assertThat(got.get(0).join()).isEqualTo("x");
            assertThat(later).isEmpty();
            assertThat(ch.tryReceive()).as("nothing else in the channel").isEmpty();
            assertThat(Scheduler.current().loop.timerCount()).as("its timer cancelled").isZero();
        }
    }

    @Test
    void aReceiveHandedAValueOfAnotherThreadAsItsParkWasRefusedReturnsIt() {
        Channel<String> ch = new Channel<>("ch", 0);
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            List<CompletableFuture<Void>> sent = new ArrayList<>();
            List<Throwable> later = new ArrayList<>();
            Object outcome = withPostsWaiting(List.of(() -> sent.add(pool.submit(() -> {
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
    void aReceiveHandedAValueOnAChannelClosedAsItsParkWasRefusedReturnsItAndLeavesNoRefusalForLater() {
        Channel<String> ch = new Channel<>("ch", 0);
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            List<CompletableFuture<Void>> others = new ArrayList<>();
            List<Throwable> later = new ArrayList<>();
            Object outcome = withPostsWaiting(List.of(() -> others.add(pool.submit(() -> {
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
    void aSelectWhoseOnSendAReceiverOfAnotherThreadTookAsItsParkWasRefusedFiresItAndLeavesNoTimer() {
        Channel<String> ch = new Channel<>("ch", 0);
        Channel<String> idle = new Channel<>("idle", 0);
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            List<CompletableFuture<String>> got = new ArrayList<>();
            List<Throwable> later = new ArrayList<>();
            Object outcome = withPostsWaiting(List.of(() -> got.add(pool.submit(ch::receive))),
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
    void aSelectWhoseOnReceiveWasHandedAValueOfAnotherThreadAsItsParkWasRefusedFiresItWithThatValue() {
        Channel<String> ch = new Channel<>("ch", 0);
        Channel<String> idle = new Channel<>("idle", 0);
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            List<CompletableFuture<Void>> sent = new ArrayList<>();
            List<Throwable> later = new ArrayList<>();
            Object outcome = withPostsWaiting(List.of(() -> sent.add(pool.submit(() -> {
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
    void anAcquireHandedAPermitThatAnotherThreadReleasedAsItsParkWasRefusedHoldsIt() {
        Semaphore s = new Semaphore("s", 1);
        s.acquire();
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            List<CompletableFuture<Void>> released = new ArrayList<>();
            List<Throwable> later = new ArrayList<>();
            Object outcome = withPostsWaiting(List.of(() -> released.add(pool.submit(() -> {
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
    void aSelectAlsoOverAnotherThreadsChannelWhoseOnSendToItsOwnAReceiverTookAsItsParkWasRefusedFiresIt() {
        Channel<String> ch = new Channel<>("ch", 0);
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> theirs = pool.submit(() -> new Channel<String>("theirs", 0)).join();
            List<CompletableFuture<String>> got = new ArrayList<>();
            List<Throwable> later = new ArrayList<>();
            Object outcome = withPostsWaiting(List.of(() -> got.add(pool.submit(ch::receive))),
                    () -> new Select<String>().onReceive(theirs, v -> "received " + v).onSend(ch, "x", () -> "sent").select(), later);
            assertThat(outcome).isEqualTo("sent");
            assertThat(got.get(0).join()).isEqualTo("x");
            assertThat(later).isEmpty();
            assertThat(ch.tryReceive()).as("nothing else in the channel").isEmpty();
            assertThat(pool.submit(() -> theirs.trySend("y")).join()).as("its receive clause left their channel").isFalse();
        }
    }

    @Test
    void aTimedTryAcquireHandedAPermitThatAnotherThreadReleasedAsItsParkWasRefusedReturnsTrueAndLeavesNoTimer() {
        Semaphore s = new Semaphore("s", 1);
        s.acquire();
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            List<CompletableFuture<Void>> released = new ArrayList<>();
            List<Throwable> later = new ArrayList<>();
            Object outcome = withPostsWaiting(List.of(() -> released.add(pool.submit(() -> {
                s.release();
                return null;
            }))), () -> s.tryAcquire(Duration.ofHours(1)), later);
            assertThat(outcome).isEqualTo(true);
            released.get(0).join();
            assertThat(later).isEmpty();
            assertThat(s.availablePermits()).as("the permit is the caller's").isZero();
            assertThat(Scheduler.current().loop.timerCount()).as("its timer cancelled").isZero();
        }
    }

    @Test
    void aSendEndedByACloseOfAnotherThreadAsItsParkWasRefusedThrowsThatTheChannelClosedNotTheRefusal() {
        Channel<String> ch = new Channel<>("ch", 0);
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            List<CompletableFuture<Void>> closed = new ArrayList<>();
            List<Throwable> later = new ArrayList<>();
            Object outcome = withPostsWaiting(List.of(() -> closed.add(pool.submit(() -> {
                ch.close();
                return null;
            }))), () -> {
                ch.send("x");
                return "sent";
            }, later);
            closed.get(0).join();
            assertThat(outcome).isInstanceOfSatisfying(ChannelClosedException.class, e -> assertThat(e).hasMessage(
                    "coroutine 'waiter' cannot send to channel 'ch' (closed): the channel was closed while it waited, and the value was not delivered"));
            assertThat(later).isEmpty();
        }
    }

    /** The refusal of the park of 'waiter' at {@code operation}: the JDK's, or its target 'other' getting no thread. */
    private static String refusal(String operation) {
        String why = threadEngine()
                ? "no virtual thread could be started for coroutine 'other' (java.util.concurrent.RejectedExecutionException:"
                        + " refused for a test)"
                : "the JDK cannot suspend it here because a native frame is on its stack (a JNI call, an FFM upcall, or a"
                        + " class initializer)";
        return "cannot suspend coroutine 'waiter' at its " + operation + " to run coroutine 'other': " + why
                + "; it keeps running (state RUNNING)";
    }

    @Test
    @EnabledIf(value = "threadEngine", disabledReason = "the JDK refuses a park under an upcall only: outside it, 'other' runs")
    void aSendDoneBeforeItsParkGotNoThreadLeavesTheTargetToBeRefusedAtTheNextSchedulingPointThatChoosesIt() {
        Channel<String> ch = new Channel<>("ch", 0);
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            List<CompletableFuture<String>> got = new ArrayList<>();
            List<Throwable> later = new ArrayList<>();
            Object outcome = withPostsWaiting(List.of(() -> got.add(pool.submit(ch::receive))), () -> {
                ch.send("x");
                return "sent";
            }, 2, later);
            assertThat(outcome).isEqualTo("sent");
            assertThat(got.get(0).join()).isEqualTo("x");
            assertThat(later).singleElement().isInstanceOfSatisfying(IllegalStateException.class,
                    e -> assertThat(e).hasMessage(refusal("yield")));
        }
    }

    @Test
    void aReceiveThatNoPostCompletedThrowsTheRefusalOfItsParkAndLeavesNoReceiver() {
        Channel<String> ch = new Channel<>("ch", 0);
        List<Throwable> later = new ArrayList<>();
        Object outcome = withPostsWaiting(List.of(), ch::receive, later);
        assertThat(outcome).isInstanceOfSatisfying(IllegalStateException.class,
                e -> assertThat(e).hasMessage(refusal("receive from channel 'ch'")));
        assertThat(later).isEmpty();
        assertThat(ch.trySend("y")).as("no receiver left waiting").isFalse();
    }

    @Test
    void aSelectThatNoPostCompletedThrowsTheRefusalOfItsParkAndLeavesNoClause() {
        Channel<String> ch = new Channel<>("ch", 0);
        Channel<String> idle = new Channel<>("idle", 0);
        List<Throwable> later = new ArrayList<>();
        Object outcome = withPostsWaiting(List.of(), () -> new Select<String>().onReceive(idle, v -> "received " + v)
                .onSend(ch, "x", () -> "sent").select(), later);
        assertThat(outcome).isInstanceOfSatisfying(IllegalStateException.class, e -> assertThat(e)
                .hasMessage(refusal("select over receive from channel 'idle', send to channel 'ch'")));
        assertThat(later).isEmpty();
        assertThat(idle.trySend("y")).as("its receive clause left its channel").isFalse();
        assertThat(ch.tryReceive()).as("its send clause left its channel").isEmpty();
    }
}
