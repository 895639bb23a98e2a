package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A thread's waits on futures, driven directly: one callback per future and thread, the waits of a
 * future completed in the order they came, exactly once, whether the completion is taken in early
 * (the idle spin saw the future complete) or by the callback's post; the one future a thread has waits
 * on is kept apart from the weak map only while waits are queued under it, and futures nobody holds go.
 */
@ExtendWith(FreshThread.class)
class FutureWaitsTest {

    private final List<String> log = new ArrayList<>();
    /** The test thread's loop (each test runs on a fresh thread, after the fields are set). */
    private EventLoop loop;
    private FutureWaits waits;

    /** This thread's loop and its futures' waits, fresh. */
    private void onThisThread() {
        loop = Scheduler.current().loop;
        waits = loop.futureWaits();
        assertThat(waits.watchedCount()).isZero();
    }

    /** A wait that logs its completion. */
    private final class Logged extends FutureWaits.Waiter {
        private final String name;

        Logged(String name) {
            this.name = name;
        }

        @Override
        void completed() {
            log.add(name);
        }
    }

    @Test
    void aCompletionTakenInEarlyWakesEveryWaitInTheOrderTheyCameAndItsPostThenWakesNone() {
        onThisThread();
        CompletableFuture<String> f = new CompletableFuture<>();
        waits.add(f, new Logged("first"));
        waits.add(f, new Logged("second"));
        waits.add(f, new Logged("third"));
        assertThat(f.getNumberOfDependents()).as("one callback for the three waits").isEqualTo(1);
        f.complete("v"); // on this thread: the callback posts to this thread's inbox
        assertThat(loop.inbox.isEmpty()).isFalse();
        waits.completed(f); // as the idle spin that saw the future complete
        assertThat(log).containsExactly("first", "second", "third");
        assertThat(waits.watchedCount()).isZero();
        loop.inbox.drain(); // the post arrives: its queue is empty
        assertThat(log).containsExactly("first", "second", "third");
        assertThat(waits.watchedCount()).isZero();
    }

    @Test
    void aCompletionTakenInByItsPostWakesEveryWaitOnceInTheOrderTheyCame() {
        onThisThread();
        CompletableFuture<String> f = new CompletableFuture<>();
        CompletableFuture<String> g = new CompletableFuture<>();
        waits.add(f, new Logged("f1"));
        waits.add(g, new Logged("g1")); // a second future with waits: in the weak map
        waits.add(f, new Logged("f2"));
        waits.add(g, new Logged("g2"));
        assertThat(waits.watchedCount()).isEqualTo(2);
        g.complete("v");
        f.complete("v");
        loop.inbox.drain();
        assertThat(log).containsExactly("g1", "g2", "f1", "f2");
        assertThat(waits.watchedCount()).isZero();
        waits.completed(f); // a spin that saw it late: nothing left to wake
        assertThat(log).hasSize(4);
    }

    @Test
    void aFutureWhoseLastWaitLeftOtherwiseKeepsItsOneCallbackForTheNextWaitWhicheverWasAddedFirst() {
        onThisThread();
        CompletableFuture<String> f = new CompletableFuture<>();
        CompletableFuture<String> g = new CompletableFuture<>();
        Logged f1 = new Logged("f1");
        Logged g1 = new Logged("g1");
        waits.add(f, f1);
        waits.add(g, g1);
        waits.remove(f1); // interrupted: f's callback stays, its queue is empty
        waits.remove(g1);
        assertThat(waits.hasWaits(f)).isFalse();
        assertThat(waits.hasWaits(g)).isFalse();
        assertThat(waits.watchedCount()).as("each keeps its callback").isEqualTo(2);
        waits.add(f, new Logged("f2"));
        waits.add(g, new Logged("g2"));
        waits.add(f, new Logged("f3"));
        assertThat(f.getNumberOfDependents()).isEqualTo(1);
        assertThat(g.getNumberOfDependents()).isEqualTo(1);
        f.complete("v");
        loop.inbox.drain();
        assertThat(log).containsExactly("f2", "f3");
        g.complete("v");
        waits.completed(g);
        loop.inbox.drain();
        assertThat(log).containsExactly("f2", "f3", "g2");
        assertThat(waits.watchedCount()).isZero();
    }

    @Test
    void takingInTheCompletedFuturesWakesTheWaitsOfEachCompleteOneInTheirOrderWhereverItSitsAndLeavesTheRest() {
        onThisThread();
        CompletableFuture<String> sole = new CompletableFuture<>();
        CompletableFuture<String> mapped = new CompletableFuture<>();
        CompletableFuture<String> pending = new CompletableFuture<>();
        waits.add(sole, new Logged("sole1")); // the first: in the slot apart
        waits.add(mapped, new Logged("mapped1"));
        waits.add(pending, new Logged("pending1"));
        waits.add(sole, new Logged("sole2"));
        waits.add(mapped, new Logged("mapped2"));
        assertThat(waits.takeInCompleted()).as("none complete").isFalse();
        sole.complete("v"); // on this thread: the callbacks post to its inbox, where they wait
        mapped.complete("v");
        assertThat(waits.takeInCompleted()).isTrue();
        assertThat(log).containsExactlyInAnyOrder("sole1", "sole2", "mapped1", "mapped2");
        assertThat(log.indexOf("sole1")).isLessThan(log.indexOf("sole2"));
        assertThat(log.indexOf("mapped1")).isLessThan(log.indexOf("mapped2"));
        assertThat(waits.hasWaits(pending)).isTrue();
        assertThat(waits.watchedCount()).as("pending only").isEqualTo(1);
        assertThat(waits.takeInCompleted()).as("nothing left to take in").isFalse();
        loop.inbox.drain(); // the posts arrive: their queues are empty
        assertThat(log).hasSize(4);
        assertThat(waits.watchedCount()).isEqualTo(1);
    }

    @Test
    void futuresNobodyElseHoldsGoOnceNoWaitIsQueuedUnderThem() {
        onThisThread();
        List<WeakReference<CompletableFuture<String>>> dropped = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            CompletableFuture<String> f = new CompletableFuture<>();
            Logged w = new Logged("w" + i);
            waits.add(f, w);
            waits.remove(w); // the first, kept apart while it had a wait, moves to the weak map too
            dropped.add(new WeakReference<>(f));
        }
        assertThat(waits.watchedCount()).isEqualTo(3);
        assertThat(Collected.all(dropped)).as("futures that never complete, held by nobody else, collected").isTrue();
    }
}
