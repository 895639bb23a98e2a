package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An await whose future another thread has completed while the wake-up it posts is still on its way:
 * the idle spin (or the idle wait's end) sees the future complete and takes the completion in early,
 * waking every wait queued on the future in the order they came, and the post that arrives later
 * finds none. Each test holds the post back for as long as it likes: the completing thread runs the
 * callbacks of a future newest first, so a callback registered after the thread's own one runs
 * first and blocks until the test lets it go; before blocking, it completes another future that a
 * coroutine awaits, whose post wakes the idle thread. So every race here is taken one way for sure.
 */
@ExtendWith(FreshThread.class)
class AwaitRaceTest {

    /** A guard against a hang, not a performance threshold. */
    private static final Duration GUARD = Duration.ofSeconds(60);

    private final List<String> log = new ArrayList<>();
    /** The test thread's loop (each test runs on a fresh thread, after the fields are set). */
    private EventLoop loop;
    private FutureWaits waits;

    /** Reads this thread's loop and its futures' waits (each test runs on a fresh thread). */
    private void onThisThread() {
        loop = Scheduler.current().loop;
        waits = loop.futureWaits();
    }

    /**
     * Starts a platform thread that, once this thread blocks in its idle wait, completes {@code f}
     * with {@code value} while holding this thread's wake-up for {@code f} back until {@code release}
     * is counted down: a callback registered after the thread's own one runs first, completes
     * {@code wake} (whose post wakes the idle thread) and then blocks.
     */
    private Thread completeHoldingThePostBack(CompletableFuture<String> f, String value, CompletableFuture<String> wake,
                                              CountDownLatch release) {
        EventLoop l = loop;
        return Thread.ofPlatform().name("completer").start(() -> {
            while (!l.isIdle()) { // the awaiter parked last, and its thread blocks: nothing else can run
                Thread.onSpinWait();
            }
            f.whenComplete((v, t) -> {
                wake.complete("wake");
                awaitLatch(release);
            });
            f.complete(value);
        });
    }

    /** Waits, on a plain thread, until {@code latch} is counted down. */
    private static void awaitLatch(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** After the thread's last post came: no callback, no wait, nothing pending left behind. */
    private void nothingLeftBehind(CompletableFuture<?>... completed) {
        Coroutine.yield(); // takes in a post still in the inbox
        assertThat(waits.watchedCount()).as("futures with this thread's callback").isZero();
        assertThat(loop.hasPending()).as("anything pending").isFalse();
        for (CompletableFuture<?> f : completed) {
            assertThat(f.getNumberOfDependents()).as("callbacks left on " + f).isZero();
        }
    }

    /**
     * Main parks last on f, after an awaiter and a select with two clauses on f: the completion taken
     * in early wakes them all, in the order they came (the select by its first clause), and takes f
     * out of the thread's futures. The woken then run in the usual order, not in the order they were
     * woken: the selector, created last, first, though it began to wait after the awaiter. While f's
     * post is still held back, main awaits f again, selects on it, and awaits another future; then the
     * post arrives while main waits in a select on a third future, and wakes nothing.
     */
    @Test
    void aCompletionTakenInEarlyWakesEveryWaitOnTheFutureInOrderAndItsLatePostWakesNoLaterWait() {
        onThisThread();
        CompletableFuture<String> f = new CompletableFuture<>();
        CompletableFuture<String> wake = new CompletableFuture<>();
        Channel<String> idle = new Channel<>("idle", 0);
        Coroutine waker = Coroutine.create("waker", () -> log.add("waker got " + Coroutine.await(wake)));
        Coroutine awaiter = Coroutine.create("awaiter", () -> log.add("awaiter got " + Coroutine.await(f)));
        Coroutine selector = Coroutine.create("selector", () -> {
            Coroutine.yield(); // begins to wait after the awaiter, though it runs before it
            log.add("selector got " + new Select<String>()
                    .onComplete(f, v -> "first " + v).onComplete(f, v -> "second " + v).onReceive(idle, v -> v).select());
        });
        Coroutine.yield(); // the selector yields, the awaiter and the waker park
        assertThat(List.of(waker.state(), awaiter.state(), selector.state()))
                .containsExactly(State.PARKED, State.PARKED, State.SUSPENDED);
        Coroutine.yield(); // the selector parks: f's waits are the awaiter's, then the selector's
        assertThat(selector.state()).isEqualTo(State.PARKED);
        assertThat(f.getNumberOfDependents()).as("one callback for the three waits").isEqualTo(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread completer = completeHoldingThePostBack(f, "v", wake, release);

        String got = Coroutine.withTimeout(GUARD, () -> Coroutine.await(f)); // main parks last: its idle watches f
        assertThat(got).isEqualTo("v");
        assertThat(completer.isAlive()).as("the wake-up for f is still held back").isTrue();
        // every wait on f woke with main's, the select by its first clause, and they ran before main in the usual
        // order: main's previous index (wrapping to the last entry, the selector), then the awaiter below it.
        // The waker's wake-up is a post of its own, sent before f's held-back one but after f completed: whether
        // it is in before the idle's spin sees f complete is a race between the two futures, whose wake-ups have
        // no order (as on a pool thread, below); if it is, the waker, below the awaiter, runs next, else it comes
        // at the latest while main waits again, further down
        assertThat(log).as("the woken, in the usual order").isIn(List.of("selector got first v", "awaiter got v"),
                List.of("selector got first v", "awaiter got v", "waker got wake"));
        assertThat(waits.watchedCount()).as("f left the thread's futures when its completion was taken in").isZero();
        assertThat(waits.hasWaits(f)).isFalse();

        // while the post is on its way: the same future again, by await and by select, and another future
        assertThat(Coroutine.await(f)).isEqualTo("v");
        assertThat(new Select<String>().onComplete(f, v -> "ready " + v).onReceive(idle, v -> v).select())
                .isEqualTo("ready v");
        assertThat(Peer.call("other", () -> "other")).isEqualTo("other");
        CompletableFuture<String> later = new CompletableFuture<>();
        Thread releaser = Thread.ofPlatform().name("releaser").start(() -> {
            release.countDown();
            Peer.join(completer); // f's post is in this thread's inbox now, before later's
            later.complete("later");
        });
        String r = Coroutine.withTimeout(GUARD, () -> new Select<String>().onComplete(later, v -> "later " + v)
                .onReceive(idle, v -> v).select()); // the select waits while f's post arrives, then later's
        assertThat(r).isEqualTo("later later");
        Peer.join(releaser);
        nothingLeftBehind(f, wake, later);
        assertThat(log).as("the waker's wake-up came too").contains("waker got wake");
    }

    /**
     * On a pool thread, whose main waits for work: a submitted body parks last on f, after a coroutine
     * of its own on f; the completion taken in early wakes both, while the post is held back, and the
     * post that comes later finds nothing.
     */
    @Test
    void onAPoolThreadACompletionTakenInEarlyWakesEveryWaitOnTheFutureAndItsLatePostFindsNone() {
        onThisThread();
        CompletableFuture<String> f = new CompletableFuture<>();
        CompletableFuture<String> wake = new CompletableFuture<>();
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Thread> completer = new CompletableFuture<>();
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            CompletableFuture<List<String>> seen = pool.submit(() -> {
                EventLoop poolLoop = Scheduler.current().loop;
                List<String> got = new ArrayList<>();
                Coroutine.create("waker", () -> got.add("waker got " + Coroutine.await(wake)));
                Coroutine awaiter = Coroutine.create("awaiter", () -> got.add("awaiter got " + Coroutine.await(f)));
                Coroutine.yield(); // the awaiter and the waker park
                loop = poolLoop; // the completer watches the pool thread's loop
                completer.complete(completeHoldingThePostBack(f, "v", wake, release));
                got.add("body got " + Coroutine.withTimeout(GUARD, () -> Coroutine.await(f))); // parks last
                got.add("the post held back: " + completer.join().isAlive() + ", the awaiter " + awaiter.state());
                got.add("f's waits left: " + poolLoop.futureWaits().hasWaits(f));
                return got;
            });
            try {
                // the waker's wake-up is a post of its own: whether it is in before the spin sees f complete
                // is a race between the two futures, whose wake-ups have no order
                List<String> got = Coroutine.withTimeout(GUARD, () -> Peer.awaitUnwrapped(seen));
                assertThat(got).contains("waker got wake");
                assertThat(got.stream().filter(line -> !line.startsWith("waker")).toList()).containsExactly(
                        "awaiter got v", "body got v", "the post held back: true, the awaiter FINISHED",
                        "f's waits left: false");
            } finally {
                release.countDown();
            }
            Peer.join(completer.join());
            CompletableFuture<Integer> after = pool.submit(() -> { // a task after the late post: nothing left
                Coroutine.yield();
                return Scheduler.current().loop.futureWaits().watchedCount();
            });
            assertThat(Coroutine.withTimeout(GUARD, () -> Peer.awaitUnwrapped(after))).isZero();
        }
        assertThat(f.getNumberOfDependents()).isZero();
    }

    /**
     * The awaiter parked first and main last, on another future: main's idle watches only its own
     * wait, so f's completion, its wake-up held back, is not taken in. A close then comes first on the
     * thread and wins: the await unwinds, and the wake-up, when it comes, finds no wait.
     */
    @Test
    void aCloseThatComesAfterTheFutureCompletedButBeforeItsWakeUpArrivedWinsAndTheWakeUpFindsNothing() {
        onThisThread();
        CompletableFuture<String> f = new CompletableFuture<>();
        CompletableFuture<String> wake = new CompletableFuture<>();
        Coroutine awaiter = Coroutine.create("awaiter", () -> {
            try {
                log.add("awaiter got " + Coroutine.await(f));
            } catch (CoroutineExit e) {
                log.add("awaiter closed");
                throw e;
            }
        });
        Coroutine.yield(); // the awaiter parks
        CountDownLatch release = new CountDownLatch(1);
        Thread completer = completeHoldingThePostBack(f, "v", wake, release);
        assertThat(Coroutine.withTimeout(GUARD, () -> Coroutine.await(wake))).isEqualTo("wake"); // main parks last, on wake
        assertThat(f).isDone();
        assertThat(awaiter.state()).as("f's wake-up is held back, and main's idle watched wake only").isEqualTo(State.PARKED);
        awaiter.close();
        assertThat(awaiter.state()).isEqualTo(State.CLOSED);
        assertThat(log).containsExactly("awaiter closed");
        assertThat(waits.hasWaits(f)).isFalse();
        assertThat(f.getNumberOfDependents()).as("the thread's callback, still to run").isEqualTo(1);
        release.countDown();
        Peer.join(completer);
        nothingLeftBehind(f, wake);
        assertThat(log).as("the late wake-up woke nothing").containsExactly("awaiter closed");
    }

    /**
     * A coroutine woken by a completion taken in early is suspended, as one woken by the post: a close
     * before it runs unwinds it from its await (the value stays in the future), and the post, when it
     * comes, finds nothing.
     */
    @Test
    void aCloseOfACoroutineWhoseAwaitWasTakenInEarlyUnwindsItFromTheAwaitAsAfterThePost() {
        onThisThread();
        CompletableFuture<String> f = new CompletableFuture<>();
        CompletableFuture<String> wake = new CompletableFuture<>();
        Coroutine awaiter = Coroutine.create("awaiter", () -> {
            try {
                log.add("awaiter got " + Coroutine.await(f));
                Coroutine.yield();
                log.add("awaiter yielded");
            } catch (CoroutineExit e) {
                log.add("awaiter closed");
                throw e;
            }
        });
        CountDownLatch release = new CountDownLatch(1);
        Thread completer = completeHoldingThePostBack(f, "v", wake, release);
        // main parks on wake first, then the awaiter on f, last: its idle watches f
        assertThat(Coroutine.withTimeout(GUARD, () -> Coroutine.await(wake))).isEqualTo("wake");
        assertThat(completer.isAlive()).as("the wake-up for f is still held back").isTrue();
        assertThat(awaiter.state()).as("taken in early").isEqualTo(State.SUSPENDED);
        assertThat(waits.hasWaits(f)).isFalse();
        awaiter.close();
        assertThat(awaiter.state()).isEqualTo(State.CLOSED);
        assertThat(log).containsExactly("awaiter closed");
        release.countDown();
        Peer.join(completer);
        nothingLeftBehind(f, wake);
    }

    /**
     * Under virtual time there is no spin, but the end of the idle wait (here woken by another post)
     * still takes a complete future in before its held-back post: the await wins over its timeout at
     * t = 0, and with no wait for another thread left the clock jumps on while the post is in flight.
     */
    @Test
    void underVirtualTimeACompletionTakenInEarlyWinsOverTheTimeoutWithTheClockStill() {
        onThisThread();
        CompletableFuture<String> f = new CompletableFuture<>();
        CompletableFuture<String> wake = new CompletableFuture<>();
        CountDownLatch release = new CountDownLatch(1);
        Thread[] completer = new Thread[1];
        VirtualTime.run(() -> { // the clock stands still while f may complete
            Coroutine.create("waker", () -> log.add("waker got " + Coroutine.await(wake)));
            Coroutine.yield(); // the waker parks
            completer[0] = completeHoldingThePostBack(f, "v", wake, release);
            // the timer pending, main's idle wait is real for up to the timeout's own length: long enough that
            // only the post ends it (a short one, ending between f's completion and the waker's post on a loaded
            // machine, would take f in before the waker was woken)
            log.add("main got " + Coroutine.withTimeout(Duration.ofSeconds(30), () -> Coroutine.await(f)) + " at "
                    + Coroutine.nanoTime() + " ns");
            assertThat(completer[0].isAlive()).as("the wake-up for f is still held back").isTrue();
            Coroutine.sleep(Duration.ofMillis(10)); // no wait for another thread left: the clock jumps, the post in flight
            log.add("slept until " + Coroutine.nanoTime() / 1_000_000 + " ms");
        });
        // which of the two runs first depends on whether the idle wait ended by the waker's post or by its
        // look, once a second, at the threads of remote waits between f's completion and that post
        assertThat(log.subList(0, 2)).containsExactlyInAnyOrder("waker got wake", "main got v at 0 ns");
        assertThat(log).hasSize(3).endsWith("slept until 10 ms");
        release.countDown();
        Peer.join(completer[0]);
        nothingLeftBehind(f, wake);
    }

    /**
     * Under virtual time, with a timeout pending, an await whose future completes while the thread
     * waits for other threads, but whose wake-up is held back (a slow callback that the completing
     * thread runs first), has had its result come: the clock does not jump to the timeout once the
     * quiet wait has lasted as long as the timeout is away, the completion is taken in, and the await
     * returns its value with the clock still. Here main awaits in the run's body, its park the
     * thread's idle point.
     */
    @Test
    void underVirtualTimeAResultWhoseWakeUpIsHeldBackComesBeforeTheClockJumpsToTheTimeout() {
        awaitUnderVirtualTimeWithTheWakeUpHeldBack(Idle.PARK_IN_THE_BODY);
    }

    /** The same in a coroutine that awaits once the run's body has returned: main only waits for it to end. */
    @Test
    void underVirtualTimeAResultWhoseWakeUpIsHeldBackComesBeforeTheClockJumpsWhileMainWaitsForTheRest() {
        awaitUnderVirtualTimeWithTheWakeUpHeldBack(Idle.PARK_AFTER_THE_BODY);
    }

    /** The same in a coroutine that awaits while main yields until it is done: main's yield is the idle point. */
    @Test
    void underVirtualTimeAResultWhoseWakeUpIsHeldBackComesBeforeTheClockJumpsWhileMainYields() {
        awaitUnderVirtualTimeWithTheWakeUpHeldBack(Idle.YIELD_OF_MAIN);
    }

    /**
     * The same for the {@code onComplete} clause of a select of this thread alone (no clause on another
     * thread's channel): under virtual time, a future another thread completes while the select waits, its
     * wake-up held back, has come, and the clause wins over the select's {@code onTimeout} with the clock
     * still. A round in which the future completed only after the quiet wait had ended proves nothing and is
     * run again.
     */
    @Test
    void underVirtualTimeAResultWhoseWakeUpIsHeldBackWinsASelectsOnCompleteOverItsOnTimeoutWithTheClockStill() {
        onThisThread();
        for (int round = 0; ; round++) {
            assertThat(round).as("rounds in which the future completed only after the quiet wait").isLessThan(50);
            HeldBackCompletion completion = new HeldBackCompletion(loop, () -> true); // as the select waits, its thread blocked
            CompletableFuture<String> f = completion.future;
            String[] got = new String[1];
            try (completion) {
                VirtualTime.run(() -> got[0] = new Select<String>().onComplete(f, v -> "completed " + v)
                        .onTimeout(Duration.ofMillis(20), () -> "timed out").select() + " at " + Coroutine.nanoTime() + " ns");
            }
            nothingLeftBehind(f);
            if (completion.completedWhileIdle()) {
                assertThat(got[0]).isEqualTo("completed v at 0 ns");
                return;
            }
        }
    }

    /** Where the thread waits for other threads in {@link #awaitUnderVirtualTimeWithTheWakeUpHeldBack}. */
    private enum Idle { PARK_IN_THE_BODY, PARK_AFTER_THE_BODY, YIELD_OF_MAIN }

    /**
     * Under virtual time, an idle wait that no post ends (it ends after the second at which the loop
     * looks whether the threads of remote waits have ended) and that takes in a complete future whose
     * wake-up is held back has had a result come, as a post's would be: the quiet starts again, so the
     * next wait gets its whole time before the clock jumps. Left at the second counted, it would let a
     * later timeout expire a second of real time early.
     */
    @Test
    void underVirtualTimeACompletionTakenInEarlyAtTheEndOfAnIdleWaitThatNoPostEndedStartsTheQuietAgain() {
        onThisThread();
        CountDownLatch makerDone = new CountDownLatch(1);
        Maker<String> maker = Maker.start(() -> new Channel<>("far", 0), () -> Maker.blockOn(makerDone));
        CompletableFuture<String> f = new CompletableFuture<>();
        CountDownLatch release = new CountDownLatch(1);
        EventLoop l = loop;
        Thread completer = Thread.ofPlatform().name("completer").start(() -> {
            while (!l.isIdle()) { // main parked last, in its await: its thread blocks, waiting for the others
                Thread.onSpinWait();
            }
            f.whenComplete((v, t) -> awaitLatch(release)); // runs before the thread's callback, holding its post back
            f.complete("v");
        });
        long[] quiet = new long[1];
        try {
            VirtualTime.run(() -> {
                Coroutine remote = Coroutine.create("remote", () -> maker.channel().receive()); // a remote wait: the idle wait ends each second
                Coroutine.yield(); // it posts its receive to the blocked maker, and parks
                log.add("main got " + Coroutine.withTimeout(Duration.ofSeconds(30), () -> Coroutine.await(f)) + " at "
                        + Coroutine.nanoTime() + " ns");
                quiet[0] = l.quietNanos;
                log.add("the wake-up held back: " + completer.isAlive());
                remote.close();
            });
        } finally {
            release.countDown();
            makerDone.countDown();
            Peer.join(completer);
            Peer.join(maker.thread());
        }
        assertThat(log).containsExactly("main got v at 0 ns", "the wake-up held back: true");
        assertThat(quiet[0]).as("the quiet after a result came").isZero();
    }

    /**
     * Awaits, under virtual time and a timeout of 20 ms, a future another thread completes as soon as
     * this thread idles, holding the wake-up back until the run is over; asserts that the await
     * returned the value at t = 0. A round in which the future completed only after the quiet wait had
     * ended (the completing thread came too late) proves nothing and is run again.
     */
    private void awaitUnderVirtualTimeWithTheWakeUpHeldBack(Idle idle) {
        onThisThread();
        for (int round = 0; ; round++) {
            assertThat(round).as("rounds in which the future completed only after the quiet wait").isLessThan(50);
            // main parks in its await, and waits for other threads
            HeldBackCompletion completion = new HeldBackCompletion(loop, () -> true);
            CompletableFuture<String> f = completion.future;
            String[] got = new String[1];
            long[] at = new long[1];
            try (completion) {
                Runnable awaiting = () -> {
                    try {
                        got[0] = Coroutine.withTimeout(Duration.ofMillis(20), () -> Coroutine.await(f));
                    } catch (CoroutineTimeoutException e) {
                        got[0] = "timed out";
                    }
                    at[0] = Coroutine.nanoTime();
                };
                VirtualTime.run(switch (idle) {
                    case PARK_IN_THE_BODY -> awaiting;
                    case PARK_AFTER_THE_BODY -> () -> Coroutine.create("awaiter", awaiting);
                    case YIELD_OF_MAIN -> () -> {
                        Coroutine awaiter = Coroutine.create("awaiter", awaiting);
                        while (!awaiter.isFinished()) {
                            Coroutine.yield();
                        }
                    };
                });
            }
            nothingLeftBehind(f);
            if (completion.completedWhileIdle()) {
                assertThat(got[0] + " at " + at[0] + " ns").isEqualTo("v at 0 ns");
                return;
            }
        }
    }

    /**
     * A future that never completes keeps the one callback of the thread through every wait on it that
     * ends by a timeout or a close, whether it held the slot apart from the weak map (it was the first
     * future with waits) or sat in the map: the next wait joins the callback already there.
     */
    @Test
    void aFutureThatNeverCompletesKeepsOneCallbackThroughWaitsThatLeaveWhicheverPlaceItSatIn() {
        onThisThread();
        List<CompletableFuture<String>> nevers = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            CompletableFuture<String> never = new CompletableFuture<>();
            CompletableFuture<String> other = new CompletableFuture<>();
            nevers.add(never);
            boolean neverFirst = i % 2 == 0;
            // the coroutine created last parks first: its future takes the slot apart, the other goes to the map
            Coroutine second = Coroutine.create("second", () -> Coroutine.await(neverFirst ? other : never));
            Coroutine first = Coroutine.create("first", () -> Coroutine.await(neverFirst ? never : other));
            Coroutine.yield(); // both park
            Coroutine neverAwaiter = neverFirst ? first : second;
            Coroutine otherAwaiter = neverFirst ? second : first;
            if (i % 4 < 2) { // a second wait on it, which leaves first
                assertThatThrownBy(() -> Coroutine.withTimeout(Duration.ofMillis(1), () -> Coroutine.await(never)))
                        .isInstanceOf(CoroutineTimeoutException.class);
            }
            neverAwaiter.close(); // the last wait on never leaves
            assertThat(waits.hasWaits(never)).isFalse();
            Coroutine again = Coroutine.create("again", () -> Coroutine.await(never));
            Coroutine.yield(); // it parks on never again
            assertThat(waits.hasWaits(never)).isTrue();
            assertThat(never.getNumberOfDependents()).as("callbacks on never, round " + i).isEqualTo(1);
            again.close();
            Peer.run("completer", () -> other.complete("v"));
            Coroutine.yield();
            assertThat(otherAwaiter.state()).isEqualTo(State.FINISHED);
            assertThat(other.getNumberOfDependents()).isZero();
            assertThat(never.getNumberOfDependents()).as("callbacks on never, round " + i).isEqualTo(1);
            assertThat(waits.watchedCount()).as("the futures that never complete, round " + i).isEqualTo(nevers.size());
        }
        assertThat(loop.hasPending()).isFalse();
    }
}
