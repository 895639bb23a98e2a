package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.ref.WeakReference;
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
 * one made by hand whose callbacks run twice on another thread, one that refuses both its future and
 * its callbacks), every outcome as {@code join()} would give it, one future awaited on many threads at
 * once, and pool threads closed while they wait on a future that completes afterwards.
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
        // a completion's post may come after its waits were taken in early: no future keeps a wait or a callback
        assertThat(Scheduler.current().loop.futureWaits().watchedCount()).as("futures waited on still").isZero();
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

    // ---- every outcome, as join() gives it --------------------------------------------------------

    /**
     * A stage made by hand, as another library may make one: it refuses {@code toCompletableFuture()}, keeps
     * the callbacks {@code whenComplete} is given, and runs each of them twice, on the thread that settles it
     * ({@link #settle}); a callback given once it is settled runs at once, in the caller.
     */
    private static final class HandMade {
        private final List<BiConsumer<Object, Throwable>> callbacks = new ArrayList<>();
        private Object value;
        private Throwable failure;
        private boolean settled;
        final CompletionStage<String> stage;

        @SuppressWarnings("unchecked")
        HandMade(String name) {
            stage = (CompletionStage<String>) Proxy.newProxyInstance(AwaitEdgeTest.class.getClassLoader(),
                    new Class<?>[] {CompletionStage.class}, (proxy, method, args) -> switch (method.getName()) {
                        case "toCompletableFuture" -> throw new UnsupportedOperationException(name + " has no future");
                        case "whenComplete" -> {
                            whenComplete((BiConsumer<Object, Throwable>) args[0]);
                            yield proxy;
                        }
                        case "equals" -> proxy == args[0];
                        case "hashCode" -> System.identityHashCode(proxy);
                        case "toString" -> name;
                        default -> throw new UnsupportedOperationException(name + " has no " + method.getName());
                    });
        }

        private void whenComplete(BiConsumer<Object, Throwable> callback) {
            boolean now;
            synchronized (this) {
                now = settled;
                if (!now) {
                    callbacks.add(callback);
                }
            }
            if (now) {
                callback.accept(value, failure);
            }
        }

        /** Settles it with {@code v}, or {@code t} if not null, running every callback twice. */
        void settle(Object v, Throwable t) {
            List<BiConsumer<Object, Throwable>> toRun;
            synchronized (this) {
                value = v;
                failure = t;
                settled = true;
                toRun = List.copyOf(callbacks);
                callbacks.clear();
            }
            for (int i = 0; i < 2; i++) {
                toRun.forEach(c -> c.accept(v, t));
            }
        }

        synchronized int callbacks() {
            return callbacks.size();
        }
    }

    /** What {@code call} threw, or what it returned. */
    private static Object outcome(Supplier<?> call) {
        try {
            return call.get();
        } catch (RuntimeException | Error e) {
            return e;
        }
    }

    /**
     * The outcomes a stage may settle with (a value, null, a failure, a {@code CompletionException} that
     * wraps one, an {@code Error}, a cancellation), on a plain future, a minimal stage, a stage derived by
     * {@code thenApply} and a stage made by hand whose callbacks run twice on another thread: an await parked
     * before the stage settles, an await after, and an {@code onComplete} clause each give what {@code join()}
     * of a plain future settled so gives (the same object for a value, the same exception class and cause for
     * a failure, which for the clause comes with a message naming the clause), and a cancellation names the
     * caller and the stage. Each parked await wakes once, and leaves no callback on the stage made by hand.
     */
    @Test
    @Timeout(60)
    void everyOutcomeOfEveryKindOfStageComesAsJoinGivesItParkedOrNot() {
        IOException disk = new IOException("disk");
        LinkageError error = new LinkageError("bad class");
        List<String> kinds = List.of("plain", "minimal", "derived", "hand-made");
        Object[][] settles = {
            {"value", "v", null}, {"null", null, null}, {"failure", null, disk},
            {"wrapped failure", null, new CompletionException(disk)}, {"error", null, error},
            {"cancellation", null, new CancellationException("cancelled by hand")},
        };
        for (String kind : kinds) {
            for (Object[] s : settles) {
                String at = kind + " stage settled with " + s[0];
                Object value = s[1];
                Throwable failure = (Throwable) s[2];
                CompletableFuture<Object> behind = new CompletableFuture<>();
                HandMade handMade = new HandMade("hand-made stage");
                @SuppressWarnings("unchecked")
                CompletionStage<Object> stage = switch (kind) {
                    case "plain" -> behind;
                    case "minimal" -> behind.minimalCompletionStage();
                    case "derived" -> behind.thenApply(v -> v);
                    default -> (CompletionStage<Object>) (CompletionStage<?>) handMade.stage;
                };
                List<Object> parked = new ArrayList<>();
                Coroutine awaiter = Coroutine.create("awaiter", () -> parked.add(outcome(() -> Coroutine.await(stage))));
                Coroutine.yield();
                assertThat(awaiter.state()).as(at).isEqualTo(Coroutine.State.PARKED);
                Peer.run("settler", () -> {
                    settle(behind, value, failure);
                    handMade.settle(value, failure);
                });
                Coroutine.withTimeout(GUARD, awaiter::join);
                assertThat(parked).as(at + ": woken once").hasSize(1);
                // what join() of the stage's own future gives; for the hand-made stage, of a future settled alike
                CompletableFuture<Object> reference = new CompletableFuture<>();
                if (failure != null) {
                    reference.completeExceptionally(failure);
                } else {
                    reference.complete(value);
                }
                Object expected = outcome(kind.equals("hand-made") ? reference::join : () -> stage.toCompletableFuture().join());
                Object after = outcome(() -> Coroutine.await(stage));
                Object selected = outcome(() -> new Select<Object>().onComplete(stage, v -> v).select());
                String[] callers = {"coroutine 'awaiter'", "main context 'main'"};
                Object[] awaited = {parked.get(0), after};
                for (int i = 0; i < 2; i++) {
                    if (expected instanceof CancellationException) {
                        assertThat(awaited[i]).as(at).isInstanceOf(CancellationException.class);
                        assertThat(((Throwable) awaited[i])).as(at)
                                .hasMessage(callers[i] + " cannot await " + stage + ": it was cancelled");
                    } else {
                        sameAsJoin(at, awaited[i], expected);
                        if (failure instanceof CompletionException) {
                            assertThat(awaited[i]).as(at + ": the failure as it is").isSameAs(failure);
                        }
                    }
                }
                if (expected instanceof Throwable e && !(expected instanceof CancellationException)) {
                    assertThat(selected).as(at).isExactlyInstanceOf(CompletionException.class);
                    assertThat(((Throwable) selected).getCause()).as(at).isSameAs(e.getCause());
                    assertThat(((Throwable) selected).getMessage()).as(at)
                            .startsWith("main context 'main' cannot select: its clause onComplete(" + stage + ") fired on a stage that failed: ");
                } else if (expected instanceof CancellationException) {
                    assertThat(selected).as(at).isInstanceOf(CancellationException.class);
                    assertThat(((Throwable) selected).getMessage()).as(at)
                            .isEqualTo("main context 'main' cannot select: its clause onComplete(" + stage + ") fired on a cancelled stage");
                } else {
                    assertThat(selected).as(at).isSameAs(expected);
                }
                assertThat(handMade.callbacks()).as(at + ": callbacks left on the hand-made stage").isZero();
            }
        }
        assertThat(Scheduler.current().loop.futureWaits().watchedCount()).as("futures waited on still").isZero();
    }

    /** Settles {@code f} with {@code value}, or {@code failure} if not null (a cancellation as {@code cancel} does). */
    private static void settle(CompletableFuture<Object> f, Object value, Throwable failure) {
        if (failure instanceof CancellationException) {
            f.cancel(false);
        } else if (failure != null) {
            f.completeExceptionally(failure);
        } else {
            f.complete(value);
        }
    }

    /** {@code got} is what {@code join()} gave, {@code expected}: the same value, or an exception of its class and cause. */
    private static void sameAsJoin(String at, Object got, Object expected) {
        if (expected instanceof Throwable e) {
            assertThat(got).as(at).isExactlyInstanceOf(e.getClass());
            assertThat(((Throwable) got).getCause()).as(at).isSameAs(e.getCause());
        } else {
            assertThat(got).as(at).isSameAs(expected);
        }
    }

    /**
     * A stage that refuses {@code toCompletableFuture()} and whose {@code whenComplete} throws cannot be
     * waited on: an await throws what {@code whenComplete} threw, as it is, and so does the building of an
     * {@code onComplete} clause on it; nothing is left pending, and the thread runs on.
     */
    @Test
    void aStageThatRefusesBothItsFutureAndItsCallbacksFailsTheAwaitWithItsOwnRefusal() {
        IllegalStateException refusal = new IllegalStateException("the library is shut down");
        @SuppressWarnings("unchecked")
        CompletionStage<String> stage = (CompletionStage<String>) Proxy.newProxyInstance(AwaitEdgeTest.class.getClassLoader(),
                new Class<?>[] {CompletionStage.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "toCompletableFuture" -> throw new UnsupportedOperationException("no future");
                    case "whenComplete" -> throw refusal;
                    case "equals" -> proxy == args[0];
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "toString" -> "refusing stage";
                    default -> throw new UnsupportedOperationException(method.getName());
                });
        assertThatThrownBy(() -> Coroutine.await(stage)).isSameAs(refusal);
        assertThatThrownBy(() -> new Select<String>().onComplete(stage, v -> v)).isSameAs(refusal);
        assertThat(Scheduler.current().loop.hasPending()).as("no wait left behind").isFalse();
        assertThat(Coroutine.await(CompletableFuture.completedFuture("on"))).isEqualTo("on");
    }

    /**
     * A stage whose {@code toCompletableFuture()} throws anything other than {@code UnsupportedOperationException}
     * (here an {@code IllegalStateException}) fails the await, and the building of an {@code onComplete} clause,
     * with that, as it is: its callbacks, which would answer at once, are never asked, and nothing is left pending.
     */
    @Test
    void aStageWhoseToCompletableFutureThrowsAnythingButUnsupportedFailsTheAwaitAndTheClauseWithThat() {
        IllegalStateException broken = new IllegalStateException("the library is broken");
        List<String> asked = new ArrayList<>();
        @SuppressWarnings("unchecked")
        CompletionStage<String> stage = (CompletionStage<String>) Proxy.newProxyInstance(AwaitEdgeTest.class.getClassLoader(),
                new Class<?>[] {CompletionStage.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "toCompletableFuture" -> throw broken;
                    case "whenComplete" -> {
                        asked.add("whenComplete");
                        ((BiConsumer<Object, Throwable>) args[0]).accept("from the callbacks", null);
                        yield proxy;
                    }
                    case "equals" -> proxy == args[0];
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "toString" -> "broken stage";
                    default -> throw new UnsupportedOperationException(method.getName());
                });
        assertThatThrownBy(() -> Coroutine.await(stage)).isSameAs(broken);
        assertThatThrownBy(() -> new Select<String>().onComplete(stage, v -> v)).isSameAs(broken);
        assertThat(asked).as("its callbacks never asked").isEmpty();
        assertThat(Scheduler.current().loop.hasPending()).as("no wait left behind").isFalse();
        assertThat(Coroutine.await(CompletableFuture.completedFuture("on"))).isEqualTo("on");
    }

    // ---- one future, many threads -----------------------------------------------------------------

    /**
     * One future awaited at once by coroutines and main of two platform threads and two virtual threads
     * (each after a hundred awaits of it that timed out and a hundred whose coroutine was closed), by bodies
     * on two pool threads, and by an await and a select of this thread: it holds one callback per thread,
     * however many waits, and one completion wakes every waiter exactly once, with its value; afterwards no
     * thread has a wait or a callback left, and the future no callback.
     */
    @Test
    @Timeout(120)
    void oneFutureAwaitedOnPlainVirtualAndPoolThreadsHoldsOneCallbackPerThreadAndWakesEveryWaiterOnce() throws Exception {
        CompletableFuture<String> f = new CompletableFuture<>();
        ConcurrentLinkedQueue<String> got = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Throwable> problems = new ConcurrentLinkedQueue<>();
        int threads = 4;
        int perThread = 3;
        CountDownLatch parked = new CountDownLatch(threads);
        List<Thread> started = new ArrayList<>();
        for (int k = 0; k < threads; k++) {
            String name = (k < 2 ? "platform-" : "virtual-") + k;
            Thread.Builder builder = k < 2 ? Thread.ofPlatform() : Thread.ofVirtual();
            started.add(builder.name(name).start(() -> {
                try {
                    for (int i = 0; i < 100; i++) {
                        try {
                            Coroutine.withTimeout(Duration.ofNanos(1), () -> Coroutine.await(f));
                            throw new AssertionError(name + ": an await of a future not complete returned");
                        } catch (CoroutineTimeoutException expected) {
                            // its wait left the future's queue
                        }
                        Coroutine closed = Coroutine.create("closed", () -> Coroutine.await(f));
                        Coroutine.yield();
                        closed.close();
                    }
                    List<Coroutine> waiters = new ArrayList<>();
                    for (int i = 0; i < perThread; i++) {
                        String who = name + "/" + i;
                        waiters.add(Coroutine.create(who, () -> got.add(who + " " + Coroutine.await(f))));
                    }
                    Coroutine.yield(); // they park
                    parked.countDown();
                    got.add(name + "/main " + Coroutine.await(f));
                    for (Coroutine w : waiters) {
                        w.join();
                    }
                    // the completion's post may come after the waits were taken in early, and then finds none
                    FutureWaits waits = Scheduler.current().loop.futureWaits();
                    assertThat(waits.hasWaits(f)).as(name + ": a wait left").isFalse();
                    assertThat(waits.watchedCount()).as(name + ": futures with a callback").isZero();
                } catch (Throwable e) {
                    problems.add(e);
                }
            }));
        }
        CoroutinePool pool = CoroutinePool.start(2);
        List<CompletableFuture<String>> bodies = new ArrayList<>();
        try {
            for (int i = 0; i < 6; i++) {
                String who = "body-" + i;
                bodies.add(pool.submit(who, () -> who + " " + Coroutine.await(f)));
            }
            assertThat(parked.await(60, TimeUnit.SECONDS)).isTrue();
            Coroutine awaiter = Coroutine.create("awaiter", () -> got.add("awaiter " + Coroutine.await(f)));
            Channel<String> nothing = new Channel<>("nothing", 0);
            Coroutine selector = Coroutine.create("selector", () -> got.add(new Select<String>()
                    .onReceive(nothing, v -> "received " + v).onComplete(f, v -> "selector " + v).select()));
            Coroutine.yield(); // both park
            int expected = threads + pool.threads() + 1;
            Coroutine.withTimeout(GUARD, () -> { // the pool bodies reach their awaits
                while (f.getNumberOfDependents() < expected) {
                    Coroutine.yield();
                }
            });
            assertThat(f.getNumberOfDependents()).as("one callback per thread").isEqualTo(expected);
            Peer.run("completer", () -> f.complete("v"));
            Coroutine.withTimeout(GUARD, () -> {
                awaiter.join();
                selector.join();
                for (CompletableFuture<String> b : bodies) {
                    got.add(Coroutine.await(b));
                }
            });
            for (Thread t : started) {
                Peer.join(t);
            }
        } finally {
            Coroutine.withTimeout(GUARD, pool::close);
        }
        assertThat(problems).isEmpty();
        List<String> expectedGot = new ArrayList<>(List.of("awaiter v", "selector v"));
        for (int k = 0; k < threads; k++) {
            String name = (k < 2 ? "platform-" : "virtual-") + k;
            for (int i = 0; i < perThread; i++) {
                expectedGot.add(name + "/" + i + " v");
            }
            expectedGot.add(name + "/main v");
        }
        for (int i = 0; i < 6; i++) {
            expectedGot.add("body-" + i + " v");
        }
        assertThat(got).containsExactlyInAnyOrderElementsOf(expectedGot);
        assertThat(f.getNumberOfDependents()).isZero();
    }

    // ---- threads that end while they wait ---------------------------------------------------------

    /**
     * A pool closed with {@code closeNow()} while a body awaits a future and another selects on it: both are
     * unwound (their futures fail with the {@code CoroutineExit}), the pool thread ends with the future's
     * callback still on it, and the future's completion afterwards, on this thread, throws nothing, wakes
     * nothing, and leaves no callback.
     */
    @Test
    @Timeout(60)
    void aFutureCompletedAfterThePoolThreadsThatAwaitedItWereClosedNowThrowsNothingAndLeavesNothing() {
        CompletableFuture<String> f = new CompletableFuture<>();
        CountDownLatch waiting = new CountDownLatch(2);
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<String> awaiting = pool.submit("awaiting", () -> {
            waiting.countDown();
            return Coroutine.await(f);
        });
        CompletableFuture<String> selecting = pool.submit("selecting", () -> {
            Channel<String> nothing = new Channel<>("nothing", 0);
            waiting.countDown();
            return new Select<String>().onReceive(nothing, v -> v).onComplete(f, v -> v).select();
        });
        Coroutine.withTimeout(GUARD, () -> {
            while (f.getNumberOfDependents() == 0 || waiting.getCount() != 0) { // both bodies began, one waits
                Coroutine.yield();
            }
        });
        Coroutine.withTimeout(GUARD, pool::closeNow);
        for (CompletableFuture<String> body : List.of(awaiting, selecting)) {
            assertThatThrownBy(body::join).isExactlyInstanceOf(CompletionException.class)
                    .cause().isInstanceOf(CoroutineExit.class);
        }
        assertThat(f.getNumberOfDependents()).as("the ended thread's callback stays on the future").isEqualTo(1);
        assertThat(f.complete("late")).as("completing it wakes nothing and throws nothing").isTrue();
        assertThat(f.getNumberOfDependents()).isZero();
    }
}
