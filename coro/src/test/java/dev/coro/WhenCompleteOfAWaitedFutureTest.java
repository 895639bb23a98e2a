package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The {@code whenComplete} of a future of a class of its own, which the library calls as an await or a
 * select's {@code onComplete} clause starts to wait for it, re-entering the library: a scheduling point
 * there (a yield, a switch, a park, a close of another coroutine) is refused naming the caller, the
 * operation and the future, before it runs anything, and a call that never waits (a {@code trySend} to the
 * select's own channel) finds none of the select's other clauses queued yet; either way the wait is then
 * made whole, and a completion or a value that comes later wakes it once, nothing lost.
 */
@ExtendWith(FreshThread.class)
@Timeout(10)
class WhenCompleteOfAWaitedFutureTest {

    private static String named(Object f) {
        return f.getClass().getName() + "@" + Integer.toHexString(System.identityHashCode(f));
    }

    private static String refusal(String caller, String operation, Object f) {
        return caller + " (state RUNNING) cannot " + operation + " inside the whenComplete of " + named(f)
                + ", which coro calls as a wait for that future starts: the wait is half made until it returns, and"
                + " nothing could wake it rightly; a future's whenComplete must not yield, park, switch to or close a"
                + " coroutine";
    }

    /** Yields a few times, enough for a woken coroutine to run to its end. */
    private static void yieldAFewTimes() {
        for (int i = 0; i < 3; i++) {
            Coroutine.yield();
        }
    }

    @Test
    void aYieldInTheWhenCompleteOfAnAwaitedFutureThatCompletedItIsRefusedAndTheAwaitGetsTheValue() {
        HookedFuture<String> f = new HookedFuture<>();
        List<String> log = new ArrayList<>();
        f.action = () -> {
            f.complete("done"); // its completion is posted: a yield that took it in now would wake nothing
            log.add(catchThrowable(Coroutine::yield).getMessage());
        };
        Coroutine awaiter = Coroutine.create("awaiter", () -> log.add("got " + Coroutine.await(f)));
        try {
            awaiter.switchTo();
            yieldAFewTimes();
            assertThat(awaiter.state()).as("the await was woken by the completion").isEqualTo(State.FINISHED);
        } finally {
            awaiter.close();
        }
        assertThat(log).containsExactly(refusal("coroutine 'awaiter'", "yield", f), "got done");
        assertThat(LoopProbe.hasPending()).as("no wait left behind").isFalse();
    }

    @Test
    void everySchedulingPointAndACloseInTheWhenCompleteOfAnAwaitedFutureIsRefusedNamingTheOperation() {
        HookedFuture<String> f = new HookedFuture<>();
        HookedFuture<String> g = new HookedFuture<>();
        List<String> log = new ArrayList<>();
        VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("ch", 0);
            Coroutine awaiter = Coroutine.create("awaiter", () -> log.add("got " + Coroutine.await(f)));
            Coroutine other = Coroutine.create("other", Coroutine::yield);
            f.action = () -> {
                log.add(catchThrowable(other::switchTo).getMessage());
                log.add(catchThrowable(() -> Coroutine.sleep(Duration.ofMillis(1))).getMessage());
                log.add(catchThrowable(ch::receive).getMessage());
                log.add(catchThrowable(other::close).getMessage());
                log.add(catchThrowable(() -> Coroutine.await(g)).getMessage()); // a nested whenComplete, then its park
            };
            other.switchTo(); // its yield runs the awaiter, which parks: main runs next
            assertThat(other.state()).as("nothing ran it since its yield").isEqualTo(State.SUSPENDED);
            assertThat(awaiter.state()).isEqualTo(State.PARKED);
            f.complete("done");
            yieldAFewTimes();
            assertThat(awaiter.state()).isEqualTo(State.FINISHED);
            other.close();
            assertThat(ch.trySend(1)).as("no receiver left queued").isFalse();
            assertThat(LoopProbe.hasPending()).as("no wait and no timer left").isFalse();
            assertThat(Scheduler.current().loop.futureWaits().hasWaits(g)).as("no wait left on the nested future").isFalse();
            assertThat(Coroutine.nanoTime()).as("the refused sleep moved no clock").isZero();
        });
        assertThat(log).containsExactly(
                refusal("coroutine 'awaiter'", "switchTo", f),
                refusal("coroutine 'awaiter'", "sleep 1.000 ms (t=1.000 ms on the virtual clock, 1.000 ms left)", f),
                refusal("coroutine 'awaiter'", "receive from channel 'ch'", f),
                refusal("coroutine 'awaiter'", "close coroutine 'other' (SUSPENDED)", f),
                refusal("coroutine 'awaiter'", "await " + g, f),
                "got done");
    }

    /**
     * A {@code close()} of a parked coroutine (which would run it) in the {@code whenComplete} of an awaited
     * future is refused as one of a suspended coroutine is, naming it and its state: the parked coroutine keeps
     * its wait, and a value sent later reaches it; the await gets the completion.
     */
    @Test
    void aCloseOfAParkedCoroutineInTheWhenCompleteOfAnAwaitedFutureIsRefusedAndItKeepsItsWait() {
        HookedFuture<String> f = new HookedFuture<>();
        Channel<Integer> ch = new Channel<>("ch", 0);
        List<String> log = new ArrayList<>();
        Coroutine parked = Coroutine.create("parked", () -> log.add("parked got " + ch.receive()));
        Coroutine.yield(); // it parks
        assertThat(parked.state()).isEqualTo(State.PARKED);
        f.action = () -> log.add(catchThrowable(parked::close).getMessage());
        Coroutine awaiter = Coroutine.create("awaiter", () -> log.add("got " + Coroutine.await(f)));
        try {
            awaiter.switchTo(); // it starts its wait, the close is refused, and it parks
            assertThat(awaiter.state()).isEqualTo(State.PARKED);
            assertThat(parked.state()).as("the refused close left it waiting").isEqualTo(State.PARKED);
            f.complete("done");
            yieldAFewTimes();
            assertThat(awaiter.state()).isEqualTo(State.FINISHED);
            assertThat(ch.trySend(1)).as("its receive still waits").isTrue();
            yieldAFewTimes();
            assertThat(parked.state()).isEqualTo(State.FINISHED);
        } finally {
            awaiter.close();
            parked.close();
        }
        assertThat(log).containsExactly(refusal("coroutine 'awaiter'", "close coroutine 'parked' (PARKED)", f),
                "got done", "parked got 1");
        assertThat(LoopProbe.hasPending()).as("no wait left behind").isFalse();
    }

    @Test
    void aYieldInTheWhenCompleteOfAFutureASelectWaitsForIsRefusedAndAValueSentLaterFiresItsReceiveClause() {
        HookedFuture<String> f = new HookedFuture<>();
        Channel<Integer> a = new Channel<>("a", 0);
        List<String> log = new ArrayList<>();
        f.action = () -> log.add(catchThrowable(Coroutine::yield).getMessage());
        Select<String> select = new Select<String>().onReceive(a, v -> "received " + v).onComplete(f, v -> "completed " + v);
        Coroutine selector = Coroutine.create("selector", () -> log.add(select.select()));
        try {
            selector.switchTo();
            assertThat(selector.state()).isEqualTo(State.PARKED);
            assertThat(a.trySend(5)).as("the receive clause waits").isTrue();
            yieldAFewTimes();
            assertThat(selector.state()).isEqualTo(State.FINISHED);
        } finally {
            selector.close();
        }
        f.complete("late");
        Coroutine.yield();
        assertThat(log).containsExactly(refusal("coroutine 'selector'", "yield", f), "received 5");
        assertThat(a.trySend(6)).as("no clause left queued").isFalse();
        assertThat(LoopProbe.hasPending()).as("no wait left behind").isFalse();
    }

    @Test
    void aTrySendInTheWhenCompleteOfAFutureASelectWaitsForFindsNoReceiveClauseOfItQueuedYetAndNothingIsLost() {
        HookedFuture<String> f = new HookedFuture<>();
        Channel<Integer> a = new Channel<>("a", 0);
        List<String> log = new ArrayList<>();
        f.action = () -> log.add("trySend " + a.trySend(5));
        Select<String> select = new Select<String>().onReceive(a, v -> "received " + v).onComplete(f, v -> "completed " + v);
        Coroutine selector = Coroutine.create("selector", () -> log.add(select.select()));
        try {
            selector.switchTo();
            assertThat(selector.state()).isEqualTo(State.PARKED);
            assertThat(a.trySend(6)).as("the receive clause waits").isTrue();
            yieldAFewTimes();
            assertThat(selector.state()).isEqualTo(State.FINISHED);
        } finally {
            selector.close();
        }
        assertThat(log).containsExactly("trySend false", "received 6");
        assertThat(a.trySend(7)).as("no clause left queued").isFalse();
        assertThat(LoopProbe.hasPending()).as("no wait left behind").isFalse();
    }
}
