package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Coroutine.State;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link Coroutine#await} and {@link Select#onComplete}: a context parks until a stage completes on
 * any thread, and the completion reaches its thread as a wake-up that every scheduling point takes in.
 */
@ExtendWith(FreshThread.class)
class AwaitTest {

    private final List<String> log = new ArrayList<>();

    // ---- completed before the call ------------------------------------------------------------

    @Test
    void aCompletedFutureGivesItsOutcomeAtOnceWithoutASwitch() {
        Coroutine other = Coroutine.create("other", () -> log.add("other ran"));
        assertThat(Coroutine.await(CompletableFuture.completedFuture("v"))).isEqualTo("v");
        assertThatThrownBy(() -> Coroutine.await(CompletableFuture.failedFuture(new IOException("disk"))))
                .isExactlyInstanceOf(CompletionException.class)
                .cause().isExactlyInstanceOf(IOException.class).hasMessage("disk");
        CompletableFuture<String> cancelled = new CompletableFuture<>();
        cancelled.cancel(false);
        assertThatThrownBy(() -> Coroutine.await(cancelled)).isInstanceOf(CancellationException.class)
                .hasMessage("main context 'main' cannot await " + cancelled + ": it was cancelled")
                .cause().isInstanceOf(CancellationException.class);
        assertThat(log).as("no switch happened: the other coroutine never ran").isEmpty();
        assertThat(other.state()).isEqualTo(State.NEW);
        assertThat(Scheduler.current().loop.hasPending()).as("no wait left behind").isFalse();
        other.close();
    }

    @Test
    @Timeout(10)
    void aFailureForAMainParkedInAnAwaitCancelsItsWaitAndALaterCompletionWakesNothing() {
        CompletableFuture<String> f = new CompletableFuture<>();
        Channel<String> never = new Channel<>("never", 0);
        Coroutine parent = Coroutine.create("parent", () -> {
            Coroutine.create("child", () -> {
                throw new IllegalStateException("bad child");
            });
            never.receive(); // parked: the child's failure goes to main
        });
        assertThatThrownBy(() -> Coroutine.await(f)).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'child' failed: java.lang.IllegalStateException: bad child");
        f.complete("late");
        Coroutine.yield();
        assertThat(parent.state()).as("nothing woke the parent").isEqualTo(State.PARKED);
        parent.close();
        assertThat(Coroutine.await(f)).as("the future is as it was").isEqualTo("late");
    }

    // ---- completed while the caller goes to park ---------------------------------------------

    @Test
    void aFutureCompletedWhileTheCallerGoesToParkIsNeverMissed() throws InterruptedException {
        int rounds = 2000;
        SynchronousQueue<CompletableFuture<Integer>> handoff = new SynchronousQueue<>();
        Thread completer = Thread.ofPlatform().name("completer").start(() -> {
            try {
                for (int i = 0; i < rounds; i++) {
                    handoff.take().complete(i);
                }
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        for (int i = 0; i < rounds; i++) {
            CompletableFuture<Integer> f = new CompletableFuture<>();
            handoff.put(f); // the completer completes it now, racing with the await
            assertThat(Coroutine.await(f)).isEqualTo(i);
        }
        completer.join();
        // the last await may have returned before its wake-up's post came (the idle spin saw the future
        // complete first): the post is in the inbox now, and the next scheduling point takes it in
        Coroutine.yield();
        assertThat(Scheduler.current().loop.hasPending()).as("no wait left behind").isFalse();
    }

    // ---- completed after the caller parked, from every kind of thread -------------------------

    @Test
    void aFutureCompletedByAPlatformThreadWakesTheParkedCaller() {
        List<Boolean> virtual = new ArrayList<>();
        awaitCompletedAfterTheCallerParked(complete -> Thread.ofPlatform().name("completer").start(() -> {
            virtual.add(Thread.currentThread().isVirtual());
            complete.run();
        }));
        assertThat(virtual).containsExactly(false);
    }

    @Test
    void aFutureCompletedByAVirtualThreadWakesTheParkedCaller() {
        List<Boolean> virtual = new ArrayList<>();
        awaitCompletedAfterTheCallerParked(complete -> Thread.ofVirtual().name("completer").start(() -> {
            virtual.add(Thread.currentThread().isVirtual());
            complete.run();
        }));
        assertThat(virtual).containsExactly(true);
    }

    @Test
    void aFutureCompletedByACoroutinePoolThreadWakesTheParkedCaller() {
        List<String> threads = new ArrayList<>();
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            awaitCompletedAfterTheCallerParked(complete -> pool.execute(() -> {
                threads.add(Peer.schedulerThread().getName());
                complete.run();
            }));
        }
        assertThat(threads).singleElement().asString().startsWith("coro-pool-").endsWith("-0");
    }

    /**
     * An await on a worker of a {@code ForkJoinPool} (its scheduler made there by the await itself, in a
     * {@code supplyAsync} task) lets the pool run the task that completes the awaited future, queued on the
     * same pool, as a {@code join()} there does: the thread's wait is a managed block, and the pool starts
     * another worker meanwhile, where a pool of one worker never ran that task. So for main awaiting
     * alone, and for a coroutine awaiting while main waits on a channel (on the thread engine main then
     * waits for its turn while the coroutine's thread idles).
     */
    @Test
    @Timeout(60)
    void anAwaitOnAWorkerOfAForkJoinPoolLetsThePoolRunTheTaskThatCompletesItsFuture() throws Exception {
        ForkJoinPool oneWorker = new ForkJoinPool(1);
        try {
            CompletableFuture<String> byMain = CompletableFuture.supplyAsync(
                    () -> Coroutine.await(CompletableFuture.supplyAsync(() -> "main's value", oneWorker)), oneWorker);
            assertThat(byMain.get(GUARD_SECONDS, TimeUnit.SECONDS)).isEqualTo("main's value");
            CompletableFuture<String> byCoroutine = CompletableFuture.supplyAsync(() -> {
                Channel<String> reply = new Channel<>("reply", 1);
                Coroutine.create("caller", () -> reply.send(
                        Coroutine.await(CompletableFuture.supplyAsync(() -> "the coroutine's value", oneWorker))));
                return reply.receive();
            }, oneWorker);
            assertThat(byCoroutine.get(GUARD_SECONDS, TimeUnit.SECONDS)).isEqualTo("the coroutine's value");
        } finally {
            oneWorker.shutdownNow();
        }
    }

    /**
     * A {@code join()} of a pool's future on a worker of a {@code ForkJoinPool} whose thread has a scheduler
     * (it parks the caller as an await does) is a managed block too: the body it waits for awaits a task
     * queued on the same pool of one worker, which runs on the worker the pool starts meanwhile.
     */
    @Test
    @Timeout(60)
    void aJoinOfAPoolsFutureOnAWorkerOfAForkJoinPoolLetsThePoolRunTheTaskItsBodyWaitsFor() throws Exception {
        ForkJoinPool oneWorker = new ForkJoinPool(1);
        CoroutinePool pool = CoroutinePool.start(1);
        try {
            CompletableFuture<String> byJoin = CompletableFuture.supplyAsync(() -> {
                Scheduler.current(); // the thread's scheduler: the join parks its caller, as an await
                return pool.submit(() -> Coroutine.await(
                        CompletableFuture.supplyAsync(() -> "the body's value", oneWorker))).join();
            }, oneWorker);
            assertThat(byJoin.get(GUARD_SECONDS, TimeUnit.SECONDS)).isEqualTo("the body's value");
        } finally {
            pool.closeNow();
            oneWorker.shutdownNow();
        }
    }

    /** A bound for waits that are expected to end long before it: a guard against a hang. */
    private static final long GUARD_SECONDS = 20;

    /**
     * A coroutine awaits a future and parks; then {@code completeOn} runs the completion on some
     * thread, while main waits in the event loop until the coroutine reports back.
     */
    private void awaitCompletedAfterTheCallerParked(Consumer<Runnable> completeOn) {
        CompletableFuture<String> f = new CompletableFuture<>();
        CompletableFuture<Void> finished = new CompletableFuture<>();
        Coroutine awaiter = Coroutine.create("awaiter", () -> {
            log.add("got " + Coroutine.await(f));
            finished.complete(null);
        });
        Coroutine.yield();
        assertThat(awaiter.state()).isEqualTo(State.PARKED);
        assertThat(Coroutine.dump()).contains("  [1] coroutine 'awaiter': PARKED, waits to await java.util.concurrent.CompletableFuture@")
                .contains("[Not completed");
        completeOn.accept(() -> f.complete("v"));
        Coroutine.await(finished);
        assertThat(log).containsExactly("got v");
        assertThat(awaiter.state()).isEqualTo(State.FINISHED);
        assertThat(Scheduler.current().loop.hasPending()).as("no wait left behind").isFalse();
    }

    @Test
    void aFutureFailedOrCancelledWhileTheCallerIsParkedThrowsWhatJoinWould() {
        CompletableFuture<String> failed = new CompletableFuture<>();
        CompletableFuture<String> cancelled = new CompletableFuture<>();
        List<Throwable> thrown = new ArrayList<>();
        Coroutine awaiter = Coroutine.create("awaiter", () -> {
            for (CompletableFuture<String> f : List.of(failed, cancelled)) {
                try {
                    log.add("got " + Coroutine.await(f));
                } catch (RuntimeException e) {
                    thrown.add(e);
                }
            }
        });
        Coroutine.yield();
        assertThat(awaiter.state()).isEqualTo(State.PARKED);
        Peer.run("failer", () -> failed.completeExceptionally(new IOException("disk")));
        assertThat(awaiter.state()).as("woken, it went on to await the second future").isEqualTo(State.PARKED);
        Peer.run("canceller", () -> cancelled.cancel(false));
        yieldUntilFinished(awaiter);
        assertThat(log).isEmpty();
        assertThat(thrown).hasSize(2);
        assertThat(thrown.get(0)).isExactlyInstanceOf(CompletionException.class)
                .cause().isExactlyInstanceOf(IOException.class).hasMessage("disk");
        assertThat(thrown.get(1)).isInstanceOf(CancellationException.class)
                .hasMessage("coroutine 'awaiter' cannot await " + cancelled + ": it was cancelled");
    }

    // ---- stages that are not plain CompletableFutures ------------------------------------------

    @Test
    void aMinimalCompletionStageIsAwaitedLikeAFuture() {
        assertThat(Coroutine.await(CompletableFuture.completedStage("v"))).isEqualTo("v");
        assertThatThrownBy(() -> Coroutine.await(CompletableFuture.failedStage(new IOException("disk"))))
                .isExactlyInstanceOf(CompletionException.class)
                .cause().isExactlyInstanceOf(IOException.class).hasMessage("disk");
        assertThat(new Select<String>().onComplete(CompletableFuture.completedStage("v"), v -> "completed " + v).select())
                .isEqualTo("completed v");
        CompletableFuture<String> f = new CompletableFuture<>();
        CompletionStage<String> minimal = f.minimalCompletionStage();
        Coroutine awaiter = Coroutine.create("awaiter", () -> log.add("got " + Coroutine.await(minimal)));
        Coroutine.yield();
        assertThat(awaiter.state()).isEqualTo(State.PARKED);
        Peer.run("completer", () -> f.complete("w"));
        yieldUntilFinished(awaiter);
        assertThat(log).containsExactly("got w");
    }

    @Test
    void aStageThatCannotBeMadeAFutureIsAwaitedThroughItsCompletion() {
        assertThat(Coroutine.await(opaque(CompletableFuture.completedFuture("v")))).isEqualTo("v");
        assertThatThrownBy(() -> Coroutine.await(opaque(CompletableFuture.failedFuture(new IOException("disk")))))
                .isExactlyInstanceOf(CompletionException.class)
                .cause().isExactlyInstanceOf(IOException.class).hasMessage("disk");
        CompletableFuture<String> f = new CompletableFuture<>();
        CompletionStage<String> stage = opaque(f);
        assertThatThrownBy(stage::toCompletableFuture).isExactlyInstanceOf(UnsupportedOperationException.class);
        Coroutine awaiter = Coroutine.create("awaiter", () -> log.add("got " + Coroutine.await(stage)));
        Coroutine.yield();
        assertThat(awaiter.state()).isEqualTo(State.PARKED);
        Peer.run("completer", () -> f.complete("w"));
        yieldUntilFinished(awaiter);
        assertThat(log).containsExactly("got w");
    }

    /** A stage whose {@code toCompletableFuture()} answers null, against its contract, is awaited through its completion too, by await and by a select. */
    @Test
    void aStageWhoseFutureIsNullIsAwaitedThroughItsCompletion() {
        assertThat(Coroutine.await(answeringNull(CompletableFuture.completedFuture("v")))).isEqualTo("v");
        CompletableFuture<String> f = new CompletableFuture<>();
        CompletionStage<String> stage = answeringNull(f);
        assertThat(stage.toCompletableFuture()).isNull();
        Coroutine awaiter = Coroutine.create("awaiter", () -> log.add("got " + Coroutine.await(stage)));
        Coroutine selecting = Coroutine.create("selecting", () -> log.add(new Select<String>()
                .onComplete(stage, v -> "selected " + v).select()));
        Coroutine.yield();
        assertThat(awaiter.state()).isEqualTo(State.PARKED);
        assertThat(selecting.state()).isEqualTo(State.PARKED);
        Peer.run("completer", () -> f.complete("w"));
        yieldUntilFinished(awaiter);
        yieldUntilFinished(selecting);
        assertThat(log).containsExactlyInAnyOrder("got w", "selected w");
    }

    /**
     * A stage that delegates every call to {@code f} but refuses {@code toCompletableFuture()}, as a
     * stage of another library may.
     */
    static <T> CompletionStage<T> opaque(CompletableFuture<T> f) {
        return delegating("opaque stage", f, () -> {
            throw new UnsupportedOperationException("an opaque stage");
        });
    }

    /** A stage that delegates every call to {@code f} but answers {@code toCompletableFuture()} with null. */
    static <T> CompletionStage<T> answeringNull(CompletableFuture<T> f) {
        return delegating("null-future stage", f, () -> null);
    }

    /**
     * A stage named {@code name} that delegates every call to {@code f} but {@code toCompletableFuture()},
     * which {@code future} answers.
     */
    @SuppressWarnings("unchecked")
    static <T> CompletionStage<T> delegating(String name, CompletableFuture<T> f, Supplier<CompletableFuture<T>> future) {
        return (CompletionStage<T>) Proxy.newProxyInstance(AwaitTest.class.getClassLoader(),
                new Class<?>[] {CompletionStage.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "toCompletableFuture" -> future.get();
                    case "equals" -> proxy == args[0];
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "toString" -> name + " of " + f;
                    default -> {
                        try {
                            yield method.invoke(f, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    }
                });
    }

    // ---- under withTimeout ----------------------------------------------------------------------

    @Test
    void withTimeoutWinsOverAnAwaitAndALaterCompletionWakesNothing() {
        CompletableFuture<String> f = new CompletableFuture<>();
        assertThatThrownBy(() -> Coroutine.withTimeout(Duration.ofMillis(10), () -> Coroutine.await(f)))
                .isExactlyInstanceOf(CoroutineTimeoutException.class)
                .hasMessage("main context 'main' timed out: withTimeout(PT0.01S) expired before its body returned")
                .cause().isExactlyInstanceOf(CoroutineExit.class)
                .hasMessageStartingWith("main context 'main': its withTimeout(PT0.01S) expired; its await"
                        + " java.util.concurrent.CompletableFuture@")
                .hasMessageEndingWith(" throws this signal so that the body unwinds to it");
        assertThat(f).as("the future is left as it is").isNotDone();
        assertThat(Scheduler.current().loop.hasPending()).as("no wait left behind").isFalse();

        Peer.run("late", () -> f.complete("late")); // main parks here: a wake-up for the old wait would come in
        assertThatThrownBy(() -> Coroutine.withTimeout(Duration.ofMillis(10), () -> Coroutine.await(new CompletableFuture<>())))
                .as("the thread goes on parking as usual").isExactlyInstanceOf(CoroutineTimeoutException.class);
        assertThat(goOnParkingAndYielding()).isEqualTo("x");
        assertThat(Coroutine.dump()).startsWith("thread '" + Thread.currentThread().getName() + "': 1 context, current index 0\n"
                + "  [0] main: RUNNING (the caller)\n        at dev.coro.Coroutine.dump(");
        assertThat(Scheduler.current().loop.hasPending()).isFalse();
    }

    @Test
    void aCoroutineWhoseAwaitTimesOutUnwindsWhileTheOthersRunOn() {
        CompletableFuture<String> f = new CompletableFuture<>();
        CompletableFuture<Void> awaiterDone = new CompletableFuture<>();
        Coroutine awaiter = Coroutine.create("awaiter", () -> {
            try {
                Coroutine.withTimeout(Duration.ofMillis(10), () -> log.add("got " + Coroutine.await(f)));
            } catch (CoroutineTimeoutException e) {
                log.add(e.getMessage());
            } finally {
                awaiterDone.complete(null);
            }
        });
        Coroutine ticker = Coroutine.create("ticker", () -> {
            while (!awaiterDone.isDone()) {
                Coroutine.yield();
            }
            log.add("ticker saw the awaiter end");
        });
        Coroutine.await(awaiterDone);
        yieldUntilFinished(ticker);
        assertThat(log).containsExactly(
                "coroutine 'awaiter' timed out: withTimeout(PT0.01S) expired before its body returned",
                "ticker saw the awaiter end");
        assertThat(awaiter.state()).isEqualTo(State.FINISHED);
        Peer.run("late", () -> f.complete("late"));
        assertThat(goOnParkingAndYielding()).isEqualTo("x");
        assertThat(log).as("the late completion ran nothing").hasSize(2);
        assertThat(Scheduler.current().loop.hasPending()).isFalse();
    }

    /** Main parks on a channel until a new coroutine sends to it, sleeps, yields: returns what it received. */
    private static String goOnParkingAndYielding() {
        Channel<String> ch = new Channel<>("after", 0);
        Coroutine.create("sender", () -> ch.send("x"));
        String v = ch.receive();
        Coroutine.sleep(Duration.ofMillis(1));
        Coroutine.yield();
        return v;
    }

    // ---- the wake-up comes in at a yield ------------------------------------------------------

    @Test
    void aThreadThatKeepsYieldingTakesTheWakeUpInWithoutEverIdling() {
        CompletableFuture<String> f = new CompletableFuture<>();
        CountDownLatch go = new CountDownLatch(1);
        AtomicBoolean completed = new AtomicBoolean();
        Thread.ofPlatform().name("completer").start(() -> {
            try {
                go.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            f.complete("v");
            completed.set(true); // from here on the wake-up is in the awaiter's inbox
        });
        Coroutine awaiter = Coroutine.create("awaiter", () -> log.add("awaiter got " + Coroutine.await(f)));
        Coroutine.yield();
        assertThat(awaiter.state()).isEqualTo(State.PARKED);

        // The spinner's yield runs the partner (the entry before it), which switches straight back, so
        // the awaiter runs only when the partner is gone and the spinner sees each of its states.
        boolean[] stop = {false};
        Coroutine[] spinner = new Coroutine[1];
        Coroutine.create("partner", () -> {
            while (!stop[0]) {
                spinner[0].switchTo();
            }
        });
        CompletableFuture<List<State>> seen = new CompletableFuture<>();
        spinner[0] = Coroutine.create("spinner", () -> {
            List<State> states = new ArrayList<>();
            record(states, awaiter.state());
            go.countDown();
            while (!completed.get()) {
                Coroutine.yield();
                record(states, awaiter.state());
            }
            Coroutine.yield(); // takes the wake-up in if no earlier scheduling point did
            record(states, awaiter.state());
            stop[0] = true;
            Coroutine.yield(); // the partner ends; the woken awaiter runs, ends, and this resumes
            record(states, awaiter.state());
            seen.complete(states);
        });
        assertThat(Coroutine.await(seen)).containsExactly(State.PARKED, State.SUSPENDED, State.FINISHED);
        assertThat(log).containsExactly("awaiter got v");
    }

    /**
     * THREADS.md: a {@code switchTo()} runs the posts of other threads first, as a yield does: a
     * thread that only switches between two contexts sees an awaiter woken, without idling.
     */
    @Test
    void aThreadThatOnlySwitchesTakesTheWakeUpInWithoutEverIdling() {
        CompletableFuture<String> f = new CompletableFuture<>();
        Coroutine main = Coroutine.current();
        Coroutine awaiter = Coroutine.create("awaiter", () -> log.add("awaiter got " + Coroutine.await(f)));
        Coroutine partner = Coroutine.create("partner", () -> {
            while (true) {
                main.switchTo();
            }
        });
        awaiter.switchTo(); // it parks; main runs again
        assertThat(awaiter.state()).isEqualTo(State.PARKED);
        Thread.ofPlatform().name("completer").start(() -> f.complete("v"));
        while (awaiter.state() == State.PARKED) {
            partner.switchTo(); // and back: no yield, no park, only switches
        }
        assertThat(awaiter.state()).isEqualTo(State.SUSPENDED);
        awaiter.switchTo();
        assertThat(log).containsExactly("awaiter got v");
        partner.close();
    }

    /**
     * THREADS.md: a scheduling point runs the posts first. So a {@code switchTo()} to an awaiter whose
     * wake-up another thread has posted wakes it first and runs it, instead of refusing it as parked.
     */
    @Test
    void aSwitchToAnAwaiterWhoseWakeUpIsPostedWakesItFirstAndRunsIt() throws InterruptedException {
        CompletableFuture<String> f = new CompletableFuture<>();
        Coroutine awaiter = Coroutine.create("awaiter", () -> log.add("awaiter got " + Coroutine.await(f)));
        awaiter.switchTo(); // it parks; main runs again
        Thread completer = Thread.ofPlatform().name("completer").start(() -> f.complete("v"));
        completer.join(); // the wake-up is posted, not taken in: no scheduling point since
        assertThat(awaiter.state()).isEqualTo(State.PARKED);
        awaiter.switchTo();
        assertThat(log).containsExactly("awaiter got v");
        assertThat(awaiter.state()).isEqualTo(State.FINISHED);
    }

    @Test
    void aParkTakesInAWakeUpPostedMeanwhileBeforeItChoosesWhatRunsNext() {
        CompletableFuture<String> f = new CompletableFuture<>();
        Channel<String> ch = new Channel<>("ch", 0);
        Coroutine.create("other", () -> {
            Coroutine.yield(); // back to main: it stays runnable, before the awaiter in the run list
            log.add("other");
        });
        Coroutine.create("awaiter", () -> log.add("awaiter got " + Coroutine.await(f)));
        Coroutine.yield(); // the awaiter parks, the other yields back
        Coroutine.create("parker", () -> {
            Thread completer = Thread.ofPlatform().name("completer").start(() -> f.complete("v"));
            join(completer); // from here on the wake-up is in this thread's inbox
            log.add("parker parks");
            log.add("parker got " + ch.receive()); // the park wakes the awaiter, the entry before it, which runs next
        });
        Coroutine.yield();
        ch.send("x"); // to the parker, the only one left
        Coroutine.yield();
        assertThat(log).containsExactly("parker parks", "awaiter got v", "other", "parker got x");
    }

    private static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static void record(List<State> states, State s) {
        if (states.isEmpty() || states.getLast() != s) {
            states.add(s);
        }
    }

    // ---- Select.onComplete --------------------------------------------------------------------

    @Test
    void onCompleteFiresWhenTheFutureCompletesOnAnotherThread() {
        CompletableFuture<String> f = new CompletableFuture<>();
        Channel<String> ch = new Channel<>("ch", 0);
        Coroutine.create("starter", () -> { // runs once main has parked in the select
            log.add(Coroutine.dump().lines().filter(l -> l.contains("[0] main")).findFirst().orElseThrow());
            Thread.ofPlatform().name("completer").start(() -> f.complete("v"));
        });
        String r = new Select<String>().onReceive(ch, v -> "received " + v).onComplete(f, v -> "completed " + v).select();
        assertThat(r).isEqualTo("completed v");
        assertThat(log).singleElement().asString()
                .startsWith("  [0] main: PARKED, waits to select over receive from channel 'ch', completion of"
                        + " java.util.concurrent.CompletableFuture@");
        assertThat(ch.trySend("x")).as("the receive clause left the channel's queue").isFalse();
        assertThat(Scheduler.current().loop.hasPending()).as("no wait left behind").isFalse();
    }

    @Test
    void onCompleteOfAFailedFutureThrowsWhatJoinWouldNamingTheClauseThatFired() {
        CompletableFuture<String> f = new CompletableFuture<>();
        Channel<String> ch = new Channel<>("ch", 0);
        Coroutine.create("starter", () ->
                Thread.ofPlatform().name("failer").start(() -> f.completeExceptionally(new IOException("disk"))));
        CompletableFuture<String> other = new CompletableFuture<>();
        Select<String> select = new Select<String>().onReceive(ch, v -> v).onComplete(other, v -> v).onComplete(f, v -> v);
        // what join() throws, its cause the failure, its message saying which of the two clauses fired
        assertThatThrownBy(select::select).isExactlyInstanceOf(CompletionException.class)
                .hasMessage("main context 'main' cannot select: its clause onComplete(" + f
                        + ") fired on a stage that failed: java.io.IOException: disk")
                .cause().isExactlyInstanceOf(IOException.class).hasMessage("disk");
        assertThat(ch.trySend("x")).isFalse();
        assertThatThrownBy(() -> new Select<String>().onComplete(f, v -> v).selectUnbiased())
                .as("complete before the select, and an unbiased run")
                .isExactlyInstanceOf(CompletionException.class)
                .hasMessage("main context 'main' cannot select: its clause onComplete(" + f
                        + ") fired on a stage that failed: java.io.IOException: disk");
    }

    /**
     * A cancelled stage's clause throws {@code CancellationException} as {@code join()} would, but
     * naming the caller, the clause and the stage (the JDK's says only {@code join}), whether the
     * stage was cancelled before the select or while it waited, and whether the run is biased or not.
     */
    @Test
    void onCompleteOfACancelledStageThrowsACancellationExceptionNamingTheCallerTheClauseAndTheStage() {
        CompletableFuture<String> before = new CompletableFuture<>();
        before.cancel(false);
        assertThatThrownBy(() -> new Select<String>().onComplete(before, v -> v).select())
                .isExactlyInstanceOf(CancellationException.class)
                .hasMessage("main context 'main' cannot select: its clause onComplete(" + before
                        + ") fired on a cancelled stage")
                .cause().isInstanceOf(CancellationException.class);
        CompletableFuture<String> during = new CompletableFuture<>();
        Coroutine.create("canceller", () ->
                Thread.ofPlatform().name("canceller").start(() -> during.cancel(false)));
        assertThatThrownBy(() -> new Select<String>().onComplete(during, v -> v).select())
                .isExactlyInstanceOf(CancellationException.class)
                .hasMessage("main context 'main' cannot select: its clause onComplete(" + during
                        + ") fired on a cancelled stage");
        assertThatThrownBy(() -> new Select<String>().onComplete(before, v -> v).selectUnbiased())
                .as("an unbiased run throws the same")
                .isExactlyInstanceOf(CancellationException.class)
                .hasMessage("main context 'main' cannot select: its clause onComplete(" + before
                        + ") fired on a cancelled stage");
    }

    /**
     * A coroutine main created that fails while main waits in an await, or in a select on a stage, ends
     * that wait with the failure, as it ends any park of main: the stage is left as it is (awaited again,
     * it gives its value) and no clause fired.
     */
    @Test
    void aCoroutineFailingWhileMainAwaitsEndsTheWaitWithItsFailureAndLeavesTheStageAsItIs() {
        CompletableFuture<String> f = new CompletableFuture<>();
        Coroutine.create("bad", () -> {
            throw new IllegalStateException("boom");
        });
        assertThatThrownBy(() -> Coroutine.await(f)).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'bad' failed: java.lang.IllegalStateException: boom");
        Channel<String> ch = new Channel<>("ch", 0);
        Coroutine.create("worse", () -> {
            throw new IllegalStateException("bang");
        });
        Select<String> select = new Select<String>().onComplete(f, v -> "completed " + v).onReceive(ch, v -> "received " + v);
        assertThatThrownBy(select::select).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'worse' failed: java.lang.IllegalStateException: bang");
        assertThat(ch.trySend("x")).as("the select's receive left the channel's queue").isFalse();
        Coroutine.create("completer", () -> f.complete("done"));
        assertThat(Coroutine.await(f)).isEqualTo("done");
        assertThat(select.select()).isEqualTo("completed done");
    }

    @Test
    void onCompleteLosesToAChannelClauseReadyFirstAndLeavesNoTrace() {
        CompletableFuture<String> f = new CompletableFuture<>();
        Channel<String> ch = new Channel<>("ch", 1);
        Select<String> select = new Select<String>().onComplete(f, v -> "completed " + v).onReceive(ch, v -> "received " + v);
        ch.send("a");
        assertThat(select.select()).as("ready at once, though listed second").isEqualTo("received a");
        Coroutine.create("sender", () -> ch.send("b"));
        assertThat(select.select()).as("parked on both, the channel's clause completes first").isEqualTo("received b");
        assertThat(Scheduler.current().loop.hasPending()).as("no wait left behind").isFalse();

        Peer.run("late", () -> f.complete("late")); // main parks here: the lost clause must not wake it
        assertThat(goOnParkingAndYielding()).isEqualTo("x");
        assertThat(select.select()).as("run again, the complete future is ready and listed first").isEqualTo("completed late");
        assertThat(ch.tryReceive()).isEmpty();
        assertThat(Scheduler.current().loop.hasPending()).isFalse();
    }

    /**
     * A parked select over a receive and a completion, its future completed and a value sent before
     * the select runs again (in either order): exactly one clause fires, and the value is received
     * once if its send succeeded, else it was not delivered and the channel has none.
     */
    @Test
    void aSelectWhoseFutureCompletesAsAValueIsSentFiresOneClauseAndTheValueIsReceivedOnceIfItsSendSucceeded() {
        for (boolean completeFirst : new boolean[] {true, false}) {
            CompletableFuture<String> f = new CompletableFuture<>();
            Channel<String> ch = new Channel<>("ch", 0);
            List<String> fired = new ArrayList<>();
            Coroutine selector = Coroutine.create("selector", () -> fired.add(new Select<String>()
                    .onReceive(ch, v -> "received " + v).onComplete(f, v -> "completed " + v).select()));
            Coroutine.yield();
            assertThat(selector.state()).isEqualTo(State.PARKED);
            boolean sent;
            if (completeFirst) {
                f.complete("f");
                sent = ch.trySend("v");
            } else {
                sent = ch.trySend("v");
                f.complete("f");
            }
            yieldUntilFinished(selector);
            String as = completeFirst ? "future completed first" : "value sent first";
            assertThat(fired).as(as).hasSize(1);
            assertThat(fired.getFirst()).as(as).isEqualTo(sent ? "received v" : "completed f");
            assertThat(ch.tryReceive()).as(as + ": nothing left in the channel").isEmpty();
            assertThat(Scheduler.current().loop.hasPending()).as(as + ": no wait left behind").isFalse();
        }
    }

    @Test
    void onCompleteOfAStageCompleteAlreadyIsReadyAtOnceAndFiresBeforeTheDefault() {
        Coroutine other = Coroutine.create("other", () -> log.add("other ran"));
        assertThat(new Select<String>().onComplete(CompletableFuture.completedFuture("v"), v -> "completed " + v)
                .onDefault(() -> "default").select()).isEqualTo("completed v");
        assertThat(other.state()).as("no park").isEqualTo(State.NEW);
        other.close();
    }

    @Test
    void aSelectWithOnCompleteInterruptedByWithTimeoutLeavesNoTrace() {
        CompletableFuture<String> f = new CompletableFuture<>();
        Channel<String> ch = new Channel<>("ch", 1);
        Select<String> select = new Select<String>().onReceive(ch, v -> v).onComplete(f, v -> v);
        assertThatThrownBy(() -> Coroutine.withTimeout(Duration.ofMillis(10), select::select))
                .isExactlyInstanceOf(CoroutineTimeoutException.class)
                .cause().hasMessageStartingWith("main context 'main': its withTimeout(PT0.01S) expired; its select over"
                        + " receive from channel 'ch', completion of java.util.concurrent.CompletableFuture@");
        assertThat(Scheduler.current().loop.hasPending()).as("no wait left behind").isFalse();
        Peer.run("late", () -> f.complete("late"));
        assertThat(ch.trySend("y")).as("no receiver left queued: the value is buffered").isTrue();
        assertThat(goOnParkingAndYielding()).isEqualTo("x");
        assertThat(ch.tryReceive()).contains("y");
    }

    // ---- waits that end otherwise leave nothing on the future -------------------------------

    @Test
    void losingSelectsAndClosedAwaitsLeaveOneCallbackOnAFutureThatNeverCompletes() {
        CompletableFuture<String> shutdown = new CompletableFuture<>();
        Channel<Integer> work = new Channel<>("work", 0);
        int n = 100_000;
        Coroutine.create("producer", () -> {
            for (int i = 0; i < n; i++) {
                work.send(i);
            }
        });
        Select<Integer> select = new Select<Integer>().onComplete(shutdown, v -> -1).onReceive(work, v -> v);
        long sum = 0;
        int parked = 0;
        for (int i = 0; i < n; i++) {
            long before = Scheduler.current().schedulingPoints;
            sum += select.select();
            parked += Scheduler.current().schedulingPoints != before ? 1 : 0;
        }
        assertThat(sum).as("every value, once").isEqualTo((long) n * (n - 1) / 2);
        assertThat(parked).as("runs that parked on both clauses and lost the completion").isGreaterThanOrEqualTo(n / 2);
        for (int i = 0; i < 10_000; i++) {
            Coroutine awaiter = Coroutine.create("awaiter", () -> Coroutine.await(shutdown));
            Coroutine.yield(); // it parks in await
            awaiter.close();
        }
        assertThat(shutdown.getNumberOfDependents()).as("callbacks left on the future").isEqualTo(1);
        assertThat(Scheduler.current().loop.futureWaits().watchedCount()).isEqualTo(1);
        assertThat(Scheduler.current().loop.hasPending()).as("no wait left behind").isFalse();

        CompletableFuture<String> awaited = Peer.start("completer", () -> {
            shutdown.complete("stop");
            return "done";
        });
        assertThat(Coroutine.await(awaited)).isEqualTo("done");
        assertThat(select.select()).as("the future completed: its clause is ready").isEqualTo(-1);
        assertThat(Coroutine.await(shutdown)).isEqualTo("stop");
        Coroutine.yield(); // takes in the completion's post, if the awaits above did not need it
        assertThat(Scheduler.current().loop.futureWaits().watchedCount()).as("a completed future is dropped").isZero();
    }

    @Test
    void anAwaitInterruptedBeforeItParksLeavesNoWaitOnTheFuture() {
        CompletableFuture<String> never = new CompletableFuture<>();
        List<String> log = new ArrayList<>();
        VirtualTime.run(() -> Coroutine.withTimeout(Duration.ofMillis(1), () -> {
            try {
                Coroutine.sleep(Duration.ofMillis(5));
            } catch (CoroutineExit swallowed) {
                log.add("expired");
            }
            for (int i = 0; i < 3; i++) {
                try {
                    Coroutine.await(never); // the expired scope's signal, before the await parks
                } catch (CoroutineExit e) {
                    log.add("await " + i + " interrupted; a wait left on the future: "
                            + Scheduler.current().loop.futureWaits().hasWaits(never));
                }
            }
        })); // every signal swallowed: the body returns
        assertThat(log).containsExactly("expired", "await 0 interrupted; a wait left on the future: false",
                "await 1 interrupted; a wait left on the future: false",
                "await 2 interrupted; a wait left on the future: false");
    }

    @Test
    void anAwaitInterruptedByWithTimeoutLeavesTheFuturesQueueAtOnceBeforeItsCoroutineRunsAgain() {
        CompletableFuture<String> never = new CompletableFuture<>();
        FutureWaits waits = Scheduler.current().loop.futureWaits();
        VirtualTime.run(() -> {
            Coroutine.create("awaiter", () -> {
                try {
                    Coroutine.withTimeout(Duration.ofMillis(1), () -> Coroutine.await(never));
                } catch (CoroutineTimeoutException e) {
                    log.add("the awaiter unwinds");
                }
            });
            Coroutine.create("observer", () -> { // created last: it runs first when both wake at 1 ms
                Coroutine.sleep(Duration.ofMillis(1));
                log.add("a wait queued on the future: " + waits.hasWaits(never));
            });
            Coroutine.yield(); // the observer goes to sleep, the awaiter parks on the future
            log.add("while it awaits, a wait queued on the future: " + waits.hasWaits(never));
            Coroutine.sleep(Duration.ofMillis(2));
        });
        assertThat(log).containsExactly("while it awaits, a wait queued on the future: true",
                "a wait queued on the future: false", "the awaiter unwinds");
    }

    /** Yields until {@code c} has finished, at most a few times: each yield runs it if it is runnable. */
    private static void yieldUntilFinished(Coroutine c) {
        for (int i = 0; i < 10 && !c.isFinished(); i++) {
            Coroutine.yield();
        }
        assertThat(c.isFinished()).as(c + " finished").isTrue();
    }

    /**
     * Coroutines of one thread awaiting one future, and others whose selects over it and a channel lose to the
     * channel and then await it too: each lost clause leaves the future's queue without taking another wait out
     * of it, and the completion by another thread wakes every waiter once, round after round on the same thread.
     */
    @Test
    @Timeout(60)
    void awaitsOfAFutureWhoseNeighboursLostSelectsOverItAreAllWokenOnceByItsCompletionOnAnotherThread() throws InterruptedException {
        for (int round = 0; round < 50; round++) {
            CompletableFuture<Integer> f = new CompletableFuture<>();
            Channel<Integer> ch = new Channel<>("ch", 0);
            List<String> woken = new ArrayList<>();
            List<Coroutine> waiters = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                String name = "awaiter-" + i;
                waiters.add(Coroutine.create(name, () -> woken.add(name + " " + Coroutine.await(f))));
                String selector = "selector-" + i;
                waiters.add(Coroutine.create(selector, () -> {
                    String fired = new Select<String>().onComplete(f, v -> "completed").onReceive(ch, v -> "received").select();
                    woken.add(selector + " " + fired + " then " + Coroutine.await(f));
                }));
            }
            Coroutine.yield(); // each parks: the awaiters in their await, the selectors in their select
            for (int i = 0; i < 3; i++) {
                assertThat(ch.trySend(i)).as("a selector waits to receive").isTrue(); // its onComplete clause leaves f's queue
            }
            Coroutine.yield(); // the selectors, their selects over, await f too
            Thread completer = Thread.ofPlatform().name("completer").start(() -> f.complete(7));
            try {
                Coroutine.withTimeout(PoolsClosed.GUARD, () -> waiters.forEach(Coroutine::join)); // a guard against a hang
            } catch (CoroutineTimeoutException e) {
                throw new AssertionError("round " + round + ": only these were woken: " + woken, e);
            } finally {
                completer.join();
            }
            assertThat(woken).as("round %d", round).containsExactlyInAnyOrder(
                    "awaiter-0 7", "awaiter-1 7", "awaiter-2 7",
                    "selector-0 received then 7", "selector-1 received then 7", "selector-2 received then 7");
        }
    }
}
