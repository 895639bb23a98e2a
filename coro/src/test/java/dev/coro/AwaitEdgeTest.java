package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.ref.WeakReference;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link Coroutine#await} and {@link Select#onComplete} at their edges: stages of other kinds than a
 * plain future (one that hands over a minimal stage as its future, one whose future refers back to it,
 * one made by hand whose callbacks run twice on another thread), every outcome as {@code join()}
 * would give it, one future awaited on many threads at once, and threads that end while they wait.
 */
@ExtendWith(FreshThread.class)
class AwaitEdgeTest {

    /** A guard against a hang, not a performance threshold. */
    private static final Duration GUARD = Duration.ofSeconds(60);

    // ---- stages whose future is not a plain one ---------------------------------------------------

    /**
     * A stage that answers {@code toCompletableFuture()} with a minimal stage (a wrapper handing over the
     * stage it wraps because that is a {@code CompletableFuture}, as adapters often do): the minimal
     * stage's reads throw, and an await of the wrapper threw {@code UnsupportedOperationException} from
     * its first read (the JDK's bare one, or the pool's naming its refusal), as a select over it did. The
     * minimal stage is asked for its own future in turn: the await parks and wakes with the value, the
     * select sees the stage not complete and then complete, a failure comes as {@code join()} gives it,
     * and a submission's failure read so counts as read.
     */
    @Test
    @SuppressWarnings("unchecked")
    void aStageThatHandsOverAMinimalStageAsItsFutureIsAwaitedAndSelectedOn() {
        CompletableFuture<String> behind = new CompletableFuture<>();
        CompletionStage<String> minimal = behind.minimalCompletionStage();
        CompletionStage<String> wrapper = AwaitTest.delegating("wrapper", behind, () -> (CompletableFuture<String>) minimal);
        List<String> log = new ArrayList<>();
        Coroutine awaiter = Coroutine.create("awaiter", () -> log.add("got " + Coroutine.await(wrapper)));
        Coroutine.yield();
        assertThat(awaiter.state()).isEqualTo(Coroutine.State.PARKED);
        Select<String> select = new Select<String>().onComplete(wrapper, v -> "completed " + v).onDefault(() -> "not yet");
        assertThat(select.select()).isEqualTo("not yet");
        Peer.run("completer", () -> behind.complete("v"));
        Coroutine.withTimeout(GUARD, awaiter::join);
        assertThat(log).containsExactly("got v");
        assertThat(select.select()).isEqualTo("completed v");
        assertThat(Coroutine.await(wrapper)).isEqualTo("v");

        IOException disk = new IOException("disk");
        CompletionStage<String> failed = CompletableFuture.<String>failedFuture(disk).minimalCompletionStage();
        CompletionStage<String> failedWrapper = AwaitTest.delegating("failed wrapper", new CompletableFuture<>(),
                () -> (CompletableFuture<String>) failed);
        assertThatThrownBy(() -> Coroutine.await(failedWrapper)).isExactlyInstanceOf(CompletionException.class)
                .cause().isSameAs(disk);

        CoroutinePool pool = CoroutinePool.start(1);
        try {
            CompletableFuture<String> submission = pool.submit("failing", () -> {
                throw new IllegalStateException("seen");
            });
            CompletionStage<String> poolMinimal = submission.minimalCompletionStage();
            CompletionStage<String> poolWrapper = AwaitTest.delegating("pool wrapper", submission,
                    () -> (CompletableFuture<String>) poolMinimal);
            assertThatThrownBy(() -> Coroutine.await(poolWrapper)).isExactlyInstanceOf(CompletionException.class)
                    .cause().isExactlyInstanceOf(IllegalStateException.class).hasMessage("seen");
        } finally {
            pool.close(); // the failure was read through the wrapper: nothing to report
        }
        assertThat(Scheduler.current().loop.hasPending()).as("no wait left behind").isFalse();
    }

    /** A future that refers back to the stage it was made for, as one whose {@code cancel} cancels that stage. */
    private static final class BackReferringFuture<T> extends CompletableFuture<T> {
        @SuppressWarnings("unused") // what keeps the stage reachable from its future
        private final CompletionStage<T> stage;

        BackReferringFuture(CompletionStage<T> stage) {
            this.stage = stage;
        }
    }

    /**
     * A stage whose {@code toCompletableFuture()} makes a future relayed from it that refers back to it.
     */
    private static CompletionStage<String> backReferring(String name, CompletableFuture<String> behind) {
        AtomicReference<CompletionStage<String>> self = new AtomicReference<>();
        CompletionStage<String> stage = AwaitTest.delegating(name, behind, () -> {
            BackReferringFuture<String> f = new BackReferringFuture<>(self.get());
            behind.whenComplete((v, t) -> {
                if (t != null) {
                    f.completeExceptionally(t);
                } else {
                    f.complete(v);
                }
            });
            return f;
        });
        self.set(stage);
        return stage;
    }

    /**
     * Stages whose made future refers back to them, awaited on a thread and dropped, go: the thread held
     * the future it made for each stage strongly, under the stage held weakly, and so kept every such
     * stage, and what it held, for as long as it lived. The future of a stage that is still awaited again
     * and again lives on meanwhile, collections or not: one callback on the stage, however many awaits.
     */
    @Test
    void stagesWhoseFutureRefersBackToThemGoOnceDroppedAndOneStillAwaitedKeepsOneCallback() {
        List<WeakReference<?>> dropped = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            CompletableFuture<String> behind = new CompletableFuture<>();
            CompletionStage<String> stage = backReferring("stage " + i, behind);
            Coroutine awaiter = Coroutine.create("awaiter", () -> Coroutine.await(stage));
            Coroutine.yield(); // it parks
            behind.complete("v" + i);
            Coroutine.withTimeout(GUARD, awaiter::join);
            assertThat(Coroutine.await(stage)).isEqualTo("v" + i);
            dropped.add(new WeakReference<>(stage));
            dropped.add(new WeakReference<>(behind));
        }
        assertThat(Collected.all(dropped)).as("every stage dropped, and what it held").isTrue();

        CompletableFuture<String> never = new CompletableFuture<>();
        CompletionStage<String> kept = backReferring("kept stage", never);
        for (int i = 0; i < 20; i++) {
            Coroutine awaiter = Coroutine.create("awaiter", () -> Coroutine.await(kept));
            Coroutine.yield(); // it parks
            awaiter.close();
            Collected.all(List.of(new WeakReference<>(new Object()))); // a collection between the awaits
        }
        assertThat(never.getNumberOfDependents()).as("callbacks on the stage awaited again and again").isEqualTo(1);
    }
}
