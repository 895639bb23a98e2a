package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
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

    /** A wait whose wake-up throws {@code thrown}, as one near the end of the thread's stack would. */
    private final class Throwing extends FutureWaits.Waiter {
        private final String name;
        private final Error thrown;

        Throwing(String name, Error thrown) {
            this.name = name;
            this.thrown = thrown;
        }

        @Override
        void completed() {
            log.add(name + " throws");
            throw thrown;
        }
    }

    /**
     * A wake-up that throws as it runs (only an error of the thread can: a stack overflow near the end of
     * its stack, no memory left) loses none of the waits queued after it: the post that ran it throws that,
     * and the next drain wakes the rest, in their order, once; taken in early by the idle spin, the post
     * wakes them. The queue left the thread's futures before the waits were woken, and the waits after the
     * one that threw were never woken.
     */
    @Test
    void aWakeUpThatThrowsLosesNoneOfTheWaitsAfterItWhicheverTookTheCompletionIn() {
        onThisThread();
        StackOverflowError overflow = new StackOverflowError("no room");
        CompletableFuture<String> f = new CompletableFuture<>();
        waits.add(f, new Logged("f1"));
        waits.add(f, new Throwing("f2", overflow));
        waits.add(f, new Logged("f3"));
        waits.add(f, new Logged("f4"));
        f.complete("v"); // on this thread: the callback posts to this thread's inbox
        assertThatThrownBy(loop.inbox::drain).isSameAs(overflow);
        assertThat(log).containsExactly("f1", "f2 throws");
        assertThat(waits.hasWaits(f)).as("the waits after it, still queued").isTrue();
        loop.inbox.drain();
        assertThat(log).containsExactly("f1", "f2 throws", "f3", "f4");
        assertThat(waits.watchedCount()).isZero();
        assertThat(loop.inbox.isEmpty()).isTrue();

        log.clear();
        CompletableFuture<String> g = new CompletableFuture<>();
        waits.add(g, new Throwing("g1", overflow));
        waits.add(g, new Logged("g2"));
        g.complete("v");
        assertThatThrownBy(() -> waits.completed(g)).isSameAs(overflow); // as the idle spin that saw it complete
        assertThat(log).containsExactly("g1 throws");
        loop.inbox.drain(); // the post arrives
        assertThat(log).containsExactly("g1 throws", "g2");
        assertThat(waits.watchedCount()).isZero();
        waits.completed(g);
        loop.inbox.drain();
        assertThat(log).as("each wait woken once").containsExactly("g1 throws", "g2");
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

    @Test
    @Timeout(60)
    void aCrowdOfFuturesOnceCompletedOrCollectedLeavesTheTablesSmall() {
        onThisThread();
        assertThat(waits.footprint()).isEqualTo("futures 16, stages 16");
        for (int crowd = 0; crowd < 2; crowd++) {
            List<CompletableFuture<String>> completed = new ArrayList<>();
            List<CompletableFuture<String>> held = new ArrayList<>(); // until counted, then dropped
            List<WeakReference<CompletableFuture<String>>> dropped = new ArrayList<>();
            for (int i = 0; i < 20_000; i++) {
                CompletableFuture<String> f = new CompletableFuture<>();
                Logged w = new Logged("w" + i);
                waits.add(f, w);
                waits.remove(w); // its wait timed out: the future keeps its callback for the next
                if (i % 2 == 0) {
                    completed.add(f);
                } else {
                    held.add(f);
                    dropped.add(new WeakReference<>(f));
                }
            }
            assertThat(waits.watchedCount()).isEqualTo(20_000);
            assertThat(waits.footprint()).isEqualTo("futures 32768, stages 16");
            completed.forEach(f -> f.complete("late")); // each posts its completion to this thread
            loop.inbox.drain();
            completed.clear();
            held.clear();
            assertThat(Collected.all(dropped)).as("futures that never complete, held by nobody else").isTrue();
            // their entries leave once the JDK's Reference Handler has queued their cleared references, at its own pace
            Collected.until(() -> waits.watchedCount() == 0);
            assertThat(waits.footprint()).as("after crowd %d", crowd).isEqualTo("futures 16, stages 16");
        }
        assertThat(log).isEmpty();
    }

    /** A future that calls every other of its kind equal, as a value class might. */
    private static final class AllEqual<T> extends CompletableFuture<T> {
        @Override
        public boolean equals(Object o) {
            return o instanceof AllEqual;
        }

        @Override
        public int hashCode() {
            return 0;
        }
    }

    @Test
    void futuresThatCallEachOtherEqualKeepTheirWaitsApart() {
        onThisThread();
        CompletableFuture<String> first = new CompletableFuture<>();
        AllEqual<String> a = new AllEqual<>();
        AllEqual<String> b = new AllEqual<>();
        waits.add(first, new Logged("first"));
        waits.add(a, new Logged("a"));
        waits.add(b, new Logged("b"));
        assertThat(waits.hasWaits(b)).isTrue();
        a.complete("v");
        loop.inbox.drain();
        assertThat(log).as("only a's wait wakes").containsExactly("a");
        assertThat(waits.hasWaits(b)).isTrue();
        b.complete("w");
        waits.completed(b);
        assertThat(log).containsExactly("a", "b");
    }

    @Test
    void stagesThatCallEachOtherEqualAreAwaitedEachForItself() {
        onThisThread();
        EqualStage<String> s1 = new EqualStage<>(CompletableFuture.completedFuture("one"));
        EqualStage<String> s2 = new EqualStage<>(CompletableFuture.completedFuture("two"));
        assertThat(Coroutine.await(s1)).isEqualTo("one");
        assertThat(Coroutine.await(s2)).isEqualTo("two");
    }

    /** A stage of another library (not a future) that calls every other of its kind equal, relaying a future. */
    private record EqualStage<T>(CompletableFuture<T> inner) implements CompletionStage<T> {
        @Override
        public boolean equals(Object o) {
            return o instanceof EqualStage;
        }

        @Override
        public int hashCode() {
            return 0;
        }

        @Override
        public CompletableFuture<T> toCompletableFuture() {
            return inner.thenApply(v -> v); // a new future at each call, as a minimal stage's
        }

        // every other operation relays to the inner future
        @Override public <U> CompletionStage<U> thenApply(java.util.function.Function<? super T, ? extends U> fn) { return inner.thenApply(fn); }
        @Override public <U> CompletionStage<U> thenApplyAsync(java.util.function.Function<? super T, ? extends U> fn) { return inner.thenApplyAsync(fn); }
        @Override public <U> CompletionStage<U> thenApplyAsync(java.util.function.Function<? super T, ? extends U> fn, java.util.concurrent.Executor e) { return inner.thenApplyAsync(fn, e); }
        @Override public CompletionStage<Void> thenAccept(java.util.function.Consumer<? super T> a) { return inner.thenAccept(a); }
        @Override public CompletionStage<Void> thenAcceptAsync(java.util.function.Consumer<? super T> a) { return inner.thenAcceptAsync(a); }
        @Override public CompletionStage<Void> thenAcceptAsync(java.util.function.Consumer<? super T> a, java.util.concurrent.Executor e) { return inner.thenAcceptAsync(a, e); }
        @Override public CompletionStage<Void> thenRun(Runnable a) { return inner.thenRun(a); }
        @Override public CompletionStage<Void> thenRunAsync(Runnable a) { return inner.thenRunAsync(a); }
        @Override public CompletionStage<Void> thenRunAsync(Runnable a, java.util.concurrent.Executor e) { return inner.thenRunAsync(a, e); }
        @Override public <U, V> CompletionStage<V> thenCombine(CompletionStage<? extends U> o, java.util.function.BiFunction<? super T, ? super U, ? extends V> fn) { return inner.thenCombine(o, fn); }
        @Override public <U, V> CompletionStage<V> thenCombineAsync(CompletionStage<? extends U> o, java.util.function.BiFunction<? super T, ? super U, ? extends V> fn) { return inner.thenCombineAsync(o, fn); }
        @Override public <U, V> CompletionStage<V> thenCombineAsync(CompletionStage<? extends U> o, java.util.function.BiFunction<? super T, ? super U, ? extends V> fn, java.util.concurrent.Executor e) { return inner.thenCombineAsync(o, fn, e); }
        @Override public <U> CompletionStage<Void> thenAcceptBoth(CompletionStage<? extends U> o, java.util.function.BiConsumer<? super T, ? super U> a) { return inner.thenAcceptBoth(o, a); }
        @Override public <U> CompletionStage<Void> thenAcceptBothAsync(CompletionStage<? extends U> o, java.util.function.BiConsumer<? super T, ? super U> a) { return inner.thenAcceptBothAsync(o, a); }
        @Override public <U> CompletionStage<Void> thenAcceptBothAsync(CompletionStage<? extends U> o, java.util.function.BiConsumer<? super T, ? super U> a, java.util.concurrent.Executor e) { return inner.thenAcceptBothAsync(o, a, e); }
        @Override public CompletionStage<Void> runAfterBoth(CompletionStage<?> o, Runnable a) { return inner.runAfterBoth(o, a); }
        @Override public CompletionStage<Void> runAfterBothAsync(CompletionStage<?> o, Runnable a) { return inner.runAfterBothAsync(o, a); }
        @Override public CompletionStage<Void> runAfterBothAsync(CompletionStage<?> o, Runnable a, java.util.concurrent.Executor e) { return inner.runAfterBothAsync(o, a, e); }
        @Override public <U> CompletionStage<U> applyToEither(CompletionStage<? extends T> o, java.util.function.Function<? super T, U> fn) { return inner.applyToEither(o, fn); }
        @Override public <U> CompletionStage<U> applyToEitherAsync(CompletionStage<? extends T> o, java.util.function.Function<? super T, U> fn) { return inner.applyToEitherAsync(o, fn); }
        @Override public <U> CompletionStage<U> applyToEitherAsync(CompletionStage<? extends T> o, java.util.function.Function<? super T, U> fn, java.util.concurrent.Executor e) { return inner.applyToEitherAsync(o, fn, e); }
        @Override public CompletionStage<Void> acceptEither(CompletionStage<? extends T> o, java.util.function.Consumer<? super T> a) { return inner.acceptEither(o, a); }
        @Override public CompletionStage<Void> acceptEitherAsync(CompletionStage<? extends T> o, java.util.function.Consumer<? super T> a) { return inner.acceptEitherAsync(o, a); }
        @Override public CompletionStage<Void> acceptEitherAsync(CompletionStage<? extends T> o, java.util.function.Consumer<? super T> a, java.util.concurrent.Executor e) { return inner.acceptEitherAsync(o, a, e); }
        @Override public CompletionStage<Void> runAfterEither(CompletionStage<?> o, Runnable a) { return inner.runAfterEither(o, a); }
        @Override public CompletionStage<Void> runAfterEitherAsync(CompletionStage<?> o, Runnable a) { return inner.runAfterEitherAsync(o, a); }
        @Override public CompletionStage<Void> runAfterEitherAsync(CompletionStage<?> o, Runnable a, java.util.concurrent.Executor e) { return inner.runAfterEitherAsync(o, a, e); }
        @Override public <U> CompletionStage<U> thenCompose(java.util.function.Function<? super T, ? extends CompletionStage<U>> fn) { return inner.thenCompose(fn); }
        @Override public <U> CompletionStage<U> thenComposeAsync(java.util.function.Function<? super T, ? extends CompletionStage<U>> fn) { return inner.thenComposeAsync(fn); }
        @Override public <U> CompletionStage<U> thenComposeAsync(java.util.function.Function<? super T, ? extends CompletionStage<U>> fn, java.util.concurrent.Executor e) { return inner.thenComposeAsync(fn, e); }
        @Override public <U> CompletionStage<U> handle(java.util.function.BiFunction<? super T, Throwable, ? extends U> fn) { return inner.handle(fn); }
        @Override public <U> CompletionStage<U> handleAsync(java.util.function.BiFunction<? super T, Throwable, ? extends U> fn) { return inner.handleAsync(fn); }
        @Override public <U> CompletionStage<U> handleAsync(java.util.function.BiFunction<? super T, Throwable, ? extends U> fn, java.util.concurrent.Executor e) { return inner.handleAsync(fn, e); }
        @Override public CompletionStage<T> whenComplete(java.util.function.BiConsumer<? super T, ? super Throwable> a) { return inner.whenComplete(a); }
        @Override public CompletionStage<T> whenCompleteAsync(java.util.function.BiConsumer<? super T, ? super Throwable> a) { return inner.whenCompleteAsync(a); }
        @Override public CompletionStage<T> whenCompleteAsync(java.util.function.BiConsumer<? super T, ? super Throwable> a, java.util.concurrent.Executor e) { return inner.whenCompleteAsync(a, e); }
        @Override public CompletionStage<T> exceptionally(java.util.function.Function<Throwable, ? extends T> fn) { return inner.exceptionally(fn); }
    }
}
