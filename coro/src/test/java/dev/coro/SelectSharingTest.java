package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * One {@link Select} object shared by several contexts: it waits in one context at a time, a second
 * context is refused while it waits (of the same thread, or, for a select whose clauses belong to no
 * thread, of another one), and any context may run it once that run is over: once the context it
 * waited in has run again.
 */
@ExtendWith(FreshThread.class)
class SelectSharingTest {

    private final List<String> log = new ArrayList<>();

    private void note(String what) {
        log.add(what + " at " + Coroutine.nanoTime() / 1_000_000);
    }

    /** Runs {@code sel} in a new coroutine named {@code name}, noting what it returned or threw. */
    private Coroutine selecting(String name, Select<String> sel) {
        return Coroutine.create(name, () -> {
            try {
                note(name + " " + sel.select());
            } catch (RuntimeException e) {
                note(name + " threw " + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
        });
    }

    @Test
    void aSelectParkedInOneCoroutineIsRefusedToASecondAndTheParkedOneStillGetsItsValue() {
        VirtualTime.run(() -> {
            Channel<Integer> a = new Channel<>("a", 0);
            Select<String> sel = new Select<String>().onReceive(a, v -> "got " + v);
            Coroutine latecomer = selecting("latecomer", sel);
            Coroutine parker = selecting("parker", sel);
            Coroutine.yield(); // main runs the last created first: parker parks, then latecomer is refused
            assertThat(latecomer.state()).isEqualTo(Coroutine.State.FINISHED);
            assertThat(parker.state()).isEqualTo(Coroutine.State.PARKED);
            a.send(1);
            Coroutine.yield();
            assertThat(parker.state()).isEqualTo(Coroutine.State.FINISHED);
            assertThat(a.trySend(2)).as("nothing is left queued on the channel").isFalse();
        });
        assertThat(log).containsExactly(
                "latecomer threw IllegalStateException: coroutine 'latecomer' cannot select over receive from channel"
                        + " 'a': this select is waiting already, in coroutine 'parker' (state PARKED); a select waits in"
                        + " one context at a time, so give each context its own at 0",
                "parker got 1 at 0");
    }

    /**
     * A run that waited is over only once its context, woken, has run again and taken the outcome: until
     * then the select holds the value its clause was handed, so a run or a clause meanwhile is refused,
     * saying that the run is not over rather than that the select still waits; the woken one is unharmed,
     * and any context may run the select afterwards.
     */
    @Test
    @Timeout(10)
    void aContextWokenFromTheSelectHoldsItUntilItRunsAndARunOrAClauseMeanwhileIsRefusedSayingSo() {
        VirtualTime.run(() -> {
            Channel<Integer> a = new Channel<>("a", 0);
            Select<String> sel = new Select<String>().onReceive(a, v -> "got " + v);
            Coroutine first = selecting("first", sel);
            Coroutine.yield();
            a.send(1); // its clause fires: first is woken, and has not run since
            assertThat(first.state()).isEqualTo(Coroutine.State.SUSPENDED);
            Throwable run = catchThrowable(sel::select);
            Throwable clause = catchThrowable(() -> sel.onTimeout(Duration.ZERO, () -> "timed out"));
            String notOver = "run in coroutine 'first' (state SUSPENDED) is not over: its wait has ended, and that"
                    + " context takes the outcome when it runs again; ";
            assertThat(run).isInstanceOf(IllegalStateException.class).hasMessage("main context 'main' cannot select over"
                    + " receive from channel 'a': this select's " + notOver + "a select waits in one context at a time,"
                    + " so give each context its own");
            assertThat(clause).isInstanceOf(IllegalStateException.class).hasMessage("main context 'main' cannot add an"
                    + " onTimeout clause to a select: its " + notOver + "add clauses before or between its runs");
            Coroutine.yield();
            assertThat(first.state()).isEqualTo(Coroutine.State.FINISHED);
            Coroutine.create("sender", () -> a.send(2));
            note("main " + sel.select());
        });
        assertThat(log).containsExactly("first got 1 at 0", "main got 2 at 0");
    }

    /** Starts a platform thread named {@code name} that runs {@code sel} in its main, noting what it returned or threw. */
    private static Thread selectingThread(String name, Select<String> sel, AtomicReference<Scheduler> scheduler,
                                          CountDownLatch go, AtomicReference<Object> got) {
        return Thread.ofPlatform().daemon().name(name).start(() -> {
            scheduler.set(Scheduler.current());
            try {
                go.await();
                got.set(sel.select());
            } catch (Throwable e) {
                got.set(e);
            }
        });
    }

    /** Spins until the main context of the thread whose scheduler {@code s} will hold is parked. */
    private static void awaitParked(AtomicReference<Scheduler> s) {
        while (s.get() == null || s.get().main.state() != Coroutine.State.PARKED) {
            Thread.onSpinWait();
        }
    }

    @Test
    void aSelectOfTimeoutAndCompletionClausesWaitingOnOneThreadIsRefusedToAContextOfAnotherNamingBothThreads()
            throws Exception {
        CompletableFuture<String> release = new CompletableFuture<>();
        Select<String> sel = new Select<String>().onComplete(release, v -> "got " + v)
                .onTimeout(Duration.ofHours(1), () -> "timed out");
        AtomicReference<Scheduler> waiterThread = new AtomicReference<>();
        AtomicReference<Object> waiterGot = new AtomicReference<>();
        Thread waiter = selectingThread("select-waiter", sel, waiterThread, new CountDownLatch(0), waiterGot);
        awaitParked(waiterThread);
        Coroutine latecomer = selecting("latecomer", sel);
        latecomer.switchTo();
        release.complete("v");
        waiter.join();
        assertThat(latecomer.state()).isEqualTo(Coroutine.State.FINISHED);
        assertThat(log).singleElement().asString()
                .startsWith("latecomer threw IllegalStateException: coroutine 'latecomer' of thread "
                        + Scheduler.describe(Thread.currentThread()) + " cannot select over completion of ")
                .contains(", timeout PT1H (")
                .contains(": this select is waiting already, in main context 'main' of thread "
                        + Scheduler.describe(waiter) + " (state PARKED); a select waits in one context at a time,"
                        + " so give each context its own at ");
        assertThat(waiterGot.get()).as("the waiting one is unharmed").isEqualTo("got v");
    }

    /**
     * The race of two threads that run the same select at once: the second looks at the select while
     * nobody waits in it, and the first parks in it before the second is done checking its clauses.
     * The second must not queue the same clauses again on its own behalf.
     */
    @Test
    void aSelectClaimedByAnotherThreadWhileARunCheckedItsClausesIsRefusedToThatRun() throws Exception {
        Thread[] waiter = new Thread[1];
        AtomicReference<Scheduler> waiterThread = new AtomicReference<>();
        CountDownLatch checked = new CountDownLatch(1);
        /** Its first look from a thread other than the waiter's lets the waiter run and park first. */
        final class Gate extends CompletableFuture<String> {
            volatile boolean armed;

            @Override
            public boolean isDone() {
                if (armed && Thread.currentThread() != waiter[0]) {
                    armed = false;
                    checked.countDown();
                    awaitParked(waiterThread);
                }
                return super.isDone();
            }
        }
        Gate gate = new Gate();
        Select<String> sel = new Select<String>().onComplete(gate, v -> "got " + v);
        AtomicReference<Object> waiterGot = new AtomicReference<>();
        waiter[0] = selectingThread("select-waiter", sel, waiterThread, checked, waiterGot);
        Coroutine latecomer = selecting("latecomer", sel);
        gate.armed = true;
        latecomer.switchTo(); // it checks the clause, the waiter parks, then it goes on
        assertThat(latecomer.state()).as("refused, not parked beside the waiter").isEqualTo(Coroutine.State.FINISHED);
        gate.complete("v");
        waiter[0].join();
        assertThat(log).singleElement().asString()
                .startsWith("latecomer threw IllegalStateException: coroutine 'latecomer' of thread "
                        + Scheduler.describe(Thread.currentThread()) + " cannot select over completion of ")
                .contains(": this select is waiting already, in main context 'main' of thread "
                        + Scheduler.describe(waiter[0]) + " (state PARKED); a select waits in one context at a time,"
                        + " so give each context its own at ");
        assertThat(waiterGot.get()).as("the waiting one is unharmed").isEqualTo("got v");
    }

    @Test
    void onceItsWaitWasInterruptedOrFiredASharedSelectMayWaitInAnotherContext() {
        VirtualTime.run(() -> {
            Channel<Integer> a = new Channel<>("a", 0);
            Select<String> sel = new Select<String>().onReceive(a, v -> "got " + v);
            Coroutine first = selecting("first", sel);
            Coroutine.yield();
            first.close(); // its wait is interrupted
            Coroutine timed = Coroutine.create("timed", () -> {
                try {
                    Coroutine.withTimeout(Duration.ofSeconds(1), sel::select);
                } catch (CoroutineTimeoutException e) {
                    note("timed timed out");
                }
            });
            Coroutine.yield();
            while (!timed.isFinished()) {
                Coroutine.yield();
            }
            Coroutine third = selecting("third", sel);
            Coroutine.yield();
            a.send(3);
            Coroutine.yield();
            assertThat(third.state()).isEqualTo(Coroutine.State.FINISHED);
            Coroutine fourth = selecting("fourth", sel);
            Coroutine.yield();
            a.send(4);
            Coroutine.yield();
            assertThat(fourth.state()).isEqualTo(Coroutine.State.FINISHED);
        });
        assertThat(log).containsExactly("timed timed out at 1000", "third got 3 at 1000", "fourth got 4 at 1000");
    }

    /**
     * THREADS.md: once a select has fired a clause, other threads operate on its channels in place
     * again; so while the clause's function runs (it may suspend, and a generator body's select may
     * never be resumed), the channels are no longer held for the select: both when the clause was
     * ready at once and when it fired while the select waited.
     */
    @Test
    void aClausesFunctionRunsWithTheSelectsChannelsOperatedOnInPlaceAgain() throws Exception {
        Channel<Integer> ch = new Channel<>("ch", 1);
        Channel<Integer> other = new Channel<>("other", 0);
        CompletableFuture<Void> shared = new CompletableFuture<>();
        Thread peer = Thread.ofPlatform().name("peer").start(() -> {
            ch.trySend(1); // posted, run by the channel's thread at its next scheduling point: shared from then on
            shared.complete(null);
        });
        Coroutine.await(shared);
        peer.join();
        List<Boolean> inPlace = new ArrayList<>();
        Select<String> sel = new Select<String>()
                .onReceive(other, v -> "other")
                .onReceive(ch, v -> {
                    inPlace.add(ch.isSharedInPlace());
                    return "got " + v;
                })
                .onTimeout(Duration.ofHours(1), () -> "timeout");
        assertThat(sel.select()).as("ready at once").isEqualTo("got 1");
        Coroutine selector = Coroutine.create("selector", () -> note("selector " + sel.select()));
        Coroutine.yield(); // the selector waits on the empty channel
        assertThat(selector.state()).isEqualTo(Coroutine.State.PARKED);
        CompletableFuture<Boolean> sent = new CompletableFuture<>();
        Thread.ofPlatform().name("sender").start(() -> sent.complete(ch.trySend(2))); // posted: the select takes it
        assertThat(Coroutine.await(sent)).isTrue();
        while (!selector.isFinished()) {
            Coroutine.yield();
        }
        assertThat(log).hasSize(1);
        assertThat(log.get(0)).startsWith("selector got 2");
        assertThat(inPlace).as("in place while each function ran").containsExactly(true, true);
        assertThat(ch.isSharedInPlace()).isTrue();
    }

    @Test
    void aSharedChannelIsOperatedOnInPlaceAgainOnceNoSelectWaitsOnIt() throws Exception {
        Channel<Integer> ch = new Channel<>("ch", 1);
        CompletableFuture<Void> shared = new CompletableFuture<>();
        Thread peer = Thread.ofPlatform().name("peer").start(() -> {
            ch.trySend(1); // posted, run by the channel's thread at its next scheduling point: shared from then on
            shared.complete(null);
        });
        Coroutine.await(shared);
        peer.join();
        assertThat(ch.isSharedInPlace()).isTrue();
        assertThat(new Select<String>().onReceive(ch, v -> "got " + v).select()).isEqualTo("got 1");
        assertThat(ch.isSharedInPlace()).as("the select that took the value is over").isTrue();
        Select<String> waiting = new Select<String>().onReceive(ch, v -> "got " + v)
                .onTimeout(Duration.ofHours(1), () -> "timeout");
        Coroutine selector = Coroutine.create("selector", () -> note("selector " + waiting.select()));
        Coroutine.yield(); // the selector waits on the empty channel
        assertThat(selector.state()).isEqualTo(Coroutine.State.PARKED);
        assertThat(ch.isSharedInPlace()).as("a select waits on it: only this thread may complete its clause").isFalse();
        CompletableFuture<Boolean> sent = new CompletableFuture<>();
        Thread.ofPlatform().name("sender").start(() -> sent.complete(ch.trySend(2))); // posted: the select takes it
        assertThat(Coroutine.await(sent)).isTrue();
        while (!selector.isFinished()) {
            Coroutine.yield();
        }
        assertThat(log).hasSize(1);
        assertThat(log.get(0)).startsWith("selector got 2");
        assertThat(ch.isSharedInPlace()).as("no select looks at it any more").isTrue();
        Select<String> withDefault = new Select<String>().onReceive(ch, v -> "got " + v).onDefault(() -> "nothing");
        assertThat(withDefault.select()).isEqualTo("nothing");
        assertThat(ch.isSharedInPlace()).as("a select with a default never waits, so never changes it").isTrue();
    }
    /**
     * A run's clause function may suspend, and another context may run the same select meanwhile and
     * wait in it. The first run, ending after that, let go of the channels the waiting run held: other
     * threads then operated on them in place, and one completed the waiting clause from its own thread,
     * where nothing woke the select: its value was lost and the run never woke.
     */
    @Test
    @Timeout(20)
    void aRunWhoseFunctionEndsWhileAnotherContextWaitsInTheSameSelectLeavesThatWaitsChannelsHeld() throws Exception {
        Channel<Integer> ch = new Channel<>("ch", 1);
        share(ch);
        ch.send(1);
        Select<String> sel = new Select<String>().onReceive(ch, v -> {
            Coroutine.yield();
            return "got " + v;
        }).onTimeout(Duration.ofHours(1), () -> "timeout");
        Coroutine waiter = selecting("waiter", sel);
        Coroutine first = selecting("first", sel);
        Coroutine.yield(); // first takes 1 and its function yields, then the waiter waits in the select
        assertThat(waiter.state()).isEqualTo(Coroutine.State.PARKED);
        while (!first.isFinished()) {
            Coroutine.yield();
        }
        assertThat(ch.isSharedInPlace()).as("the waiter's run still looks at it").isFalse();
        CompletableFuture<Boolean> sent = new CompletableFuture<>();
        Thread.ofPlatform().name("sender").start(() -> sent.complete(ch.trySend(2))); // posted: the select takes it
        assertThat(Coroutine.await(sent)).isTrue();
        while (!waiter.isFinished()) {
            Coroutine.yield();
        }
        assertThat(log).hasSize(2);
        assertThat(log.get(0)).startsWith("first got 1 at ");
        assertThat(log.get(1)).as("the value the other thread sent").startsWith("waiter got 2 at ");
        assertThat(ch.isSharedInPlace()).isTrue();
    }

    /**
     * A select with an {@code onTimeout} of zero is ready at once, as one with a default is: it never
     * waits, so it must not hold its channels for a wait. Each run held them all the same, so that other
     * threads posted their operations on them to this thread meanwhile: a loop of such selects (Kotlin's
     * poll, {@code select { ch.onReceive { } ; onTimeout(0) { } }}) that reached no scheduling point
     * left a send of another thread posted and waiting for ever (seen on the thread engine), where the
     * same loop with {@code onDefault} took its value in place. The stage's {@code isDone()}, which a
     * run asks while it looks for a ready clause, sees whether the channel is operated on in place.
     */
    @Test
    @Timeout(20)
    void aSelectWithAZeroTimeoutNeverWaitsAndLeavesItsSharedChannelsOperatedOnInPlaceAsADefaultDoes() throws Exception {
        Channel<Integer> ch = new Channel<>("ch", 1);
        share(ch);
        List<Boolean> inPlace = new ArrayList<>();
        CompletableFuture<String> probe = inPlaceProbe(ch, inPlace);
        Select<String> sel = new Select<String>().onComplete(probe, v -> "probe " + v).onReceive(ch, v -> "got " + v)
                .onTimeout(Duration.ZERO, () -> "nothing");
        assertThat(sel.select()).isEqualTo("nothing");
        assertThat(sel.selectUnbiased()).isEqualTo("nothing");
        ch.send(1);
        assertThat(sel.select()).isEqualTo("got 1");
        assertThat(inPlace).as("in place while each run looked for a ready clause").isNotEmpty().containsOnly(true);
        assertThat(ch.isSharedInPlace()).isTrue();
    }

    /**
     * A future never complete whose {@code isDone()}, which a select's run asks while it looks for a ready
     * clause, notes in {@code inPlace} whether {@code ch} is operated on in place then.
     */
    private static CompletableFuture<String> inPlaceProbe(Channel<Integer> ch, List<Boolean> inPlace) {
        return new CompletableFuture<>() {
            @Override
            public boolean isDone() {
                inPlace.add(ch.isSharedInPlace());
                return false;
            }
        };
    }

    /**
     * A select that may wait holds its shared channels from before it looks for a ready clause, not only
     * once it queues its clauses: an operation of another thread run in place between the look and the
     * queueing would queue beside the clause, and neither would complete the other. A future's
     * {@code isDone()}, which the run asks while it looks, sees the channel held; the value another
     * thread sends then is posted and taken by the select.
     */
    @Test
    @Timeout(20)
    void aSelectThatMayWaitHoldsItsSharedChannelsFromBeforeItLooksForAReadyClause() throws Exception {
        Channel<Integer> ch = new Channel<>("ch", 1);
        share(ch);
        List<Boolean> inPlace = new ArrayList<>();
        CompletableFuture<String> probe = inPlaceProbe(ch, inPlace);
        Select<String> sel = new Select<String>().onComplete(probe, v -> "probe " + v).onReceive(ch, v -> "got " + v)
                .onTimeout(Duration.ofHours(1), () -> "timeout");
        Coroutine selector = Coroutine.create("selector", () -> note("selector " + sel.select()));
        Coroutine.yield(); // the selector looks, finds nothing ready and waits
        assertThat(selector.state()).isEqualTo(Coroutine.State.PARKED);
        assertThat(List.copyOf(inPlace)).as("held while the run looked for a ready clause").isNotEmpty().containsOnly(false);
        CompletableFuture<Boolean> sent = new CompletableFuture<>();
        Thread.ofPlatform().name("sender").start(() -> sent.complete(ch.trySend(2))); // posted: the select takes it
        assertThat(Coroutine.await(sent)).isTrue();
        while (!selector.isFinished()) {
            Coroutine.yield();
        }
        assertThat(log).singleElement().asString().startsWith("selector got 2 at ");
        assertThat(ch.isSharedInPlace()).isTrue();
    }

    /** Makes {@code ch} shared: another thread operates on it once, which this thread runs. */
    static void share(Channel<Integer> ch) throws InterruptedException {
        CompletableFuture<Boolean> tried = new CompletableFuture<>();
        Thread peer = Thread.ofPlatform().name("peer").start(() -> tried.complete(ch.trySend(0)));
        Coroutine.await(tried);
        peer.join();
        ch.tryReceive();
    }

    /**
     * A run that may wait tells its channels it looks at them, and then that it is done: only those
     * it told. A clause that a clause function adds to its own select, during the run, was told it was
     * done without having been told it was looked at, and its channel counted a select for good:
     * other threads posted their operations on it for ever after, instead of running them in place.
     */
    @Test
    void aClauseThatAClauseFunctionAddsLeavesItsSharedChannelOperatedOnInPlace() throws Exception {
        Channel<Integer> in = new Channel<>("in", 1);
        Channel<Integer> later = new Channel<>("later", 1);
        share(later);
        assertThat(later.isSharedInPlace()).isTrue();
        in.send(1);
        Select<String> sel = new Select<>();
        sel.onReceive(in, v -> {
            sel.onReceive(later, w -> "later " + w); // for the next run
            return "in " + v;
        });
        assertThat(sel.select()).isEqualTo("in 1");
        assertThat(later.isSharedInPlace()).as("no select looks at it").isTrue();
        later.send(2);
        assertThat(sel.select()).isEqualTo("later 2");
        assertThat(later.isSharedInPlace()).isTrue();
    }

    /**
     * A clause added while a run waits would not wait with it, yet be taken out of the queues and
     * shown in dumps with the others: it is refused, naming the caller, the clause and the context the
     * select waits in, and the waiting run is unharmed.
     */
    @Test
    void addingAClauseWhileTheSelectWaitsIsRefusedNamingTheCallerTheClauseAndTheWaitingContext() {
        Channel<Integer> in = new Channel<>("in", 0);
        Select<String> sel = new Select<String>().onReceive(in, v -> "got " + v);
        Coroutine waiter = Coroutine.create("waiter", () -> note("waiter " + sel.select()));
        waiter.switchTo();
        assertThat(waiter.state()).isEqualTo(Coroutine.State.PARKED);
        String waiting = ": it is waiting in coroutine 'waiter' (state PARKED); add clauses before or between its runs";
        assertThat(catchThrowable(() -> sel.onReceive(new Channel<Integer>("late", 1), v -> "late " + v)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot add an onReceive clause to a select" + waiting);
        assertThat(catchThrowable(() -> sel.onTimeout(Duration.ZERO, () -> "timeout")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot add an onTimeout clause to a select" + waiting);
        assertThat(catchThrowable(() -> sel.onDefault(() -> "default")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot add an onDefault clause to a select" + waiting);
        in.send(3);
        while (!waiter.isFinished()) {
            Coroutine.yield();
        }
        assertThat(log).hasSize(1);
        assertThat(log.get(0)).startsWith("waiter got 3 at ");
    }
    /**
     * A select of timeouts belongs to no thread: a clause added from another thread while it waits is
     * refused the same way, the message naming both threads.
     */
    @Test
    void addingAClauseFromAnotherThreadWhileTheSelectWaitsIsRefusedNamingBothThreads() throws Exception {
        Select<String> sel = new Select<String>().onTimeout(Duration.ofHours(1), () -> "timeout");
        Coroutine waiter = Coroutine.create("waiter", () -> note("waiter " + sel.select()));
        waiter.switchTo();
        assertThat(waiter.state()).isEqualTo(Coroutine.State.PARKED);
        Throwable refused = OtherThread.thrownOn("adder", () -> sel.onTimeout(Duration.ZERO, () -> "now"));
        assertThat(refused).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("thread 'adder' (#")
                .hasMessageContaining(" cannot add an onTimeout clause to a select: it is waiting in coroutine 'waiter'"
                        + " of thread " + ThreadNames.thread() + " (state PARKED)");
        waiter.close();
        assertThat(log).isEmpty();
    }
}
