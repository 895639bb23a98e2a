package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Ended coroutines, their stacks and what their frames held become unreachable, and so does a
 * thread's scheduler once the thread has ended.
 *
 * <p>Each check builds its objects in a helper that returns only weak references, so no strong
 * reference stays in the test's own frame; then it collects garbage a bounded number of times.
 */
@ExtendWith(FreshThread.class)
class CoroutineLeakTest {

    /** A coroutine, its stack, and an object only its frames referenced. */
    private record Traces(WeakReference<Coroutine> coroutine, WeakReference<Object> stack,
                          WeakReference<Object> heldByAFrame) {
        List<WeakReference<?>> all() {
            return List.of(coroutine, stack, heldByAFrame);
        }
    }

    /** Starts a coroutine whose frame holds an object across a yield; it is suspended on return. */
    private static Traces suspendedCoroutine(List<Coroutine> keep) {
        AtomicReference<WeakReference<Object>> held = new AtomicReference<>();
        Coroutine c = Coroutine.create("leaky", () -> {
            Object payload = new byte[1 << 20];
            held.set(new WeakReference<>(payload));
            Coroutine.yield();
            if (payload.hashCode() == 0) {
                throw new AssertionError("unreachable: keeps payload live across the yield");
            }
        });
        Object stack = c.context.stack;
        c.switchTo();
        keep.add(c);
        return new Traces(new WeakReference<>(c), new WeakReference<>(stack), held.get());
    }

    private static Traces finished() {
        List<Coroutine> keep = new ArrayList<>();
        Traces t = suspendedCoroutine(keep);
        keep.getFirst().switchTo();
        assertThat(keep.getFirst().state()).isEqualTo(Coroutine.State.FINISHED);
        return t;
    }

    private static Traces closed() {
        List<Coroutine> keep = new ArrayList<>();
        Traces t = suspendedCoroutine(keep);
        keep.getFirst().close();
        assertThat(keep.getFirst().state()).isEqualTo(Coroutine.State.CLOSED);
        return t;
    }

    private static Traces failed() {
        AtomicReference<WeakReference<Object>> held = new AtomicReference<>();
        Coroutine c = Coroutine.create("failing", () -> {
            Object payload = new byte[1 << 20];
            held.set(new WeakReference<>(payload));
            Coroutine.yield();
            throw new IllegalArgumentException("failed holding " + payload.getClass().getSimpleName());
        });
        Object stack = c.context.stack;
        c.switchTo();
        assertThatThrownBy(c::switchTo).isInstanceOf(CoroutineException.class);
        return new Traces(new WeakReference<>(c), new WeakReference<>(stack), held.get());
    }

    /**
     * Starts a coroutine whose frame holds an object across a yield, and whose body hands the exit signal
     * it is closed with to {@code kept} as it unwinds; then closes it.
     */
    private static Traces closedHandingOverItsSignal(AtomicReference<CoroutineExit> kept) {
        AtomicReference<WeakReference<Object>> held = new AtomicReference<>();
        Coroutine c = Coroutine.create("keeper", () -> {
            Object payload = new byte[1 << 20];
            held.set(new WeakReference<>(payload));
            try {
                Coroutine.yield();
            } catch (CoroutineExit e) {
                kept.set(e);
                throw e;
            }
            if (payload.hashCode() == 0) {
                throw new AssertionError("unreachable: keeps payload live across the yield");
            }
        });
        Object stack = c.context.stack;
        c.switchTo();
        c.close();
        assertThat(c.state()).as("the signal it threw was its own close's").isEqualTo(Coroutine.State.CLOSED);
        return new Traces(new WeakReference<>(c), new WeakReference<>(stack), held.get());
    }

    /**
     * Starts a coroutine whose {@code withTimeout} expires while the body's frame holds an object, and
     * which hands the {@link CoroutineTimeoutException} it caught to {@code kept}; runs it to its end.
     * Returns weak references to the coroutine, its context, its stack and that object.
     */
    private static List<WeakReference<?>> timedOutHandingOverItsException(AtomicReference<CoroutineTimeoutException> kept) {
        AtomicReference<WeakReference<Object>> held = new AtomicReference<>();
        Coroutine c = Coroutine.create("timed", () -> {
            try {
                Coroutine.withTimeout(Duration.ofMillis(1), () -> {
                    Object payload = new byte[1 << 20];
                    held.set(new WeakReference<>(payload));
                    Coroutine.sleep(Duration.ofHours(1));
                    if (payload.hashCode() == 0) {
                        throw new AssertionError("unreachable: keeps payload live across the sleep");
                    }
                });
            } catch (CoroutineTimeoutException e) {
                kept.set(e);
            }
        });
        Object stack = c.context.stack;
        Object context = c.context;
        c.join();
        assertThat(c.state()).isEqualTo(Coroutine.State.FINISHED);
        return List.of(new WeakReference<>(c), new WeakReference<>(context), new WeakReference<>(stack), held.get());
    }

    /** Runs a coroutine that sleeps while main waits for it to end; weak references to it, its context and its stack. */
    private static List<WeakReference<?>> sleptAndEnded() {
        Coroutine c = Coroutine.create("sleeper", () -> Coroutine.sleep(Duration.ofMillis(1)));
        Object stack = c.context.stack;
        Object context = c.context;
        c.join();
        assertThat(c.state()).isEqualTo(Coroutine.State.FINISHED);
        return List.of(new WeakReference<>(c), new WeakReference<>(context), new WeakReference<>(stack));
    }

    private static List<WeakReference<?>> closedBeforeItRan() {
        Coroutine c = Coroutine.create("never-ran", () -> { });
        Object stack = c.context.stack;
        c.close();
        return List.of(new WeakReference<>(c), new WeakReference<>(stack));
    }

    @Test
    void aFinishedCoroutineItsStackAndWhatItsFramesHeldBecomeUnreachable() {
        Traces t = finished();
        assertThat(Collected.all(t.all())).isTrue();
    }

    @Test
    void aClosedCoroutineItsStackAndWhatItsFramesHeldBecomeUnreachable() {
        Traces t = closed();
        assertThat(Collected.all(t.all())).isTrue();
    }

    @Test
    void aFailedCoroutineItsStackAndWhatItsFramesHeldBecomeUnreachable() {
        Traces t = failed();
        assertThat(Collected.all(t.all())).isTrue();
    }

    /**
     * The exit signal of a closed coroutine refers to nothing of it: held after the body ended, here by
     * the test, it keeps neither the coroutine nor its stack nor what its frames held. So does the JVM
     * hold the last exception a thread threw, for a while, in a slot of that thread: on the thread
     * engine, of the carrier that ran the body's virtual thread, idle once that thread ended.
     */
    @Test
    void aClosedCoroutinesExitSignalHeldAfterItsBodyEndedKeepsNothingOfItReachable() {
        AtomicReference<CoroutineExit> kept = new AtomicReference<>();
        Traces t = closedHandingOverItsSignal(kept);
        assertThat(kept.get()).hasMessageStartingWith("coroutine 'keeper' is being closed: its ");
        assertThat(Collected.all(t.all())).isTrue();
    }

    /**
     * The exception of an expired {@code withTimeout}, kept after the coroutine ended (a caller's last
     * error, a log's record), keeps nothing of the coroutine alive: its cause, the signal that unwound
     * the body, refers to the expired scope, and so to the context, only weakly.
     */
    @Test
    void aTimeoutsExceptionHeldAfterTheCoroutineEndedKeepsNothingOfItReachable() {
        AtomicReference<CoroutineTimeoutException> kept = new AtomicReference<>();
        List<WeakReference<?>> refs = timedOutHandingOverItsException(kept);
        assertThat(kept.get()).hasMessageStartingWith("coroutine 'timed' timed out: withTimeout(PT0.001S) expired")
                .cause().isInstanceOf(CoroutineExit.class);
        assertThat(Collected.all(refs)).isTrue();
    }

    /**
     * A coroutine that slept and ended becomes unreachable: on the thread engine the idle wait of its
     * sleep ran on its own thread, which the inbox named as the one to wake for a post; it forgets it
     * once the wait is over.
     */
    @Test
    void aCoroutineThatSleptAndEndedBecomesUnreachable() {
        assertThat(Collected.all(sleptAndEnded())).isTrue();
    }

    @Test
    void aCoroutineClosedBeforeItRanAndItsStackBecomeUnreachable() {
        assertThat(Collected.all(closedBeforeItRan())).isTrue();
    }

    @Test
    void aFinishedCoroutineStillReferencedByItsHandleDropsItsStackAndWhatItsFramesHeld() {
        List<Coroutine> keep = new ArrayList<>();
        Traces t = suspendedCoroutine(keep);
        keep.getFirst().switchTo();
        assertThat(Collected.all(List.of(t.stack(), t.heldByAFrame()))).isTrue();
        assertThat(keep.getFirst().state()).isEqualTo(Coroutine.State.FINISHED);
    }

    @Test
    void aClosedCoroutineStillReferencedByItsHandleDropsItsStackAndWhatItsFramesHeld() {
        List<Coroutine> keep = new ArrayList<>();
        Traces t = suspendedCoroutine(keep);
        keep.getFirst().close();
        assertThat(Collected.all(List.of(t.stack(), t.heldByAFrame()))).isTrue();
        assertThat(keep.getFirst().state()).isEqualTo(Coroutine.State.CLOSED);
    }

    @Test
    void aCoroutineClosedBeforeItRanDropsItsStackWhileItsHandleIsHeld() {
        Coroutine c = Coroutine.create("never-ran", () -> { });
        WeakReference<Object> stack = new WeakReference<>(c.context.stack);
        c.close();
        assertThat(Collected.all(List.of(stack))).isTrue();
        assertThat(c.state()).isEqualTo(Coroutine.State.CLOSED);
    }

    @Test
    void aSuspendedCoroutineStaysReachableWhileItsThreadLives() {
        Traces t = suspendedCoroutine(new ArrayList<>());
        assertThat(Collected.all(t.all())).as("the run list still holds it").isFalse();
        assertThat(t.coroutine().get()).isNotNull().extracting(Coroutine::state).isEqualTo(Coroutine.State.SUSPENDED);
    }

    /** Creates a coroutine whose body holds an object; a weak reference to the object. */
    private static List<WeakReference<?>> coroutineHoldingAnObject() {
        Object payload = new byte[1 << 20];
        Coroutine c = Coroutine.create("ended", () -> {
            if (payload.hashCode() == 0) {
                throw new AssertionError("unreachable: the body holds payload");
            }
        });
        assertThat(c.state()).isEqualTo(Coroutine.State.NEW);
        return List.of(new WeakReference<>(payload));
    }

    /**
     * Starts a thread whose main awaits {@code gate} while a coroutine of it, whose body holds an object,
     * runs to its end; returns, once that thread idles with every context parked, a weak reference to
     * the object.
     */
    private static List<WeakReference<?>> endedWhileTheThreadIdles(java.util.concurrent.CompletableFuture<String> gate,
            List<Thread> started) {
        List<WeakReference<?>> refs = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.CountDownLatch made = new java.util.concurrent.CountDownLatch(1);
        Thread t = Thread.ofPlatform().name("idling").start(() -> {
            refs.addAll(coroutineHoldingAnObject());
            refs.add(new WeakReference<>(Scheduler.current()));
            made.countDown();
            Coroutine.await(gate); // main parks; the coroutine runs to its end, and the thread idles
        });
        started.add(t);
        try {
            made.await();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        Scheduler s = (Scheduler) refs.get(1).get();
        while (!(s.loop.isIdle() && s.runList.size() == 1)) { // only main left, parked, and the thread asleep
            Thread.onSpinWait();
        }
        return List.of(refs.get(0));
    }

    /**
     * A coroutine that ended while every other context of its thread is parked keeps nothing of its
     * body reachable while the thread waits for something to wake one: the last body a pool's thread
     * ran, or a server's last handler, is not kept until the next one comes. (The thread waits on that
     * context's stack, on either engine, so the stack itself, its body's frames gone, lives until then.)
     */
    @Test
    void aCoroutineThatEndedWhileItsThreadIdlesKeepsNothingOfItsBodyReachable() throws InterruptedException {
        java.util.concurrent.CompletableFuture<String> gate = new java.util.concurrent.CompletableFuture<>();
        List<Thread> started = new ArrayList<>();
        try {
            List<WeakReference<?>> refs = endedWhileTheThreadIdles(gate, started);
            assertThat(Collected.all(refs)).as("what the body held, while the thread idles").isTrue();
        } finally {
            gate.complete("go");
            for (Thread t : started) {
                t.join();
            }
        }
    }

    /**
     * Submits to {@code pool} a body whose lambda holds one object and whose frame holds another across a
     * park; returns, once its future has completed and the pool's thread idles waiting for work, weak
     * references to both objects; the future goes to {@code kept}.
     */
    private static List<WeakReference<?>> bodyOfAKeptFuture(CoroutinePool pool, List<java.util.concurrent.Future<?>> kept)
            throws Exception {
        Object captured = new byte[1 << 20];
        AtomicReference<WeakReference<Object>> held = new AtomicReference<>();
        AtomicReference<Scheduler> thread = new AtomicReference<>();
        java.util.concurrent.CompletableFuture<Integer> f = pool.submit(() -> {
            thread.set(Scheduler.current());
            Object payload = new byte[1 << 20];
            held.set(new WeakReference<>(payload));
            Coroutine.sleep(Duration.ofMillis(1));
            return payload.hashCode() + captured.hashCode();
        });
        f.get();
        kept.add(f);
        Scheduler s = thread.get();
        while (!(s.loop.isIdle() && s.runList.size() == 1)) { // the body's coroutine gone, main parked for work
            Thread.onSpinWait();
        }
        return List.of(new WeakReference<>(captured), held.get());
    }

    /**
     * The future of a pool's body, kept after the body ended (a server's map of recent results), keeps
     * neither what the body's lambda held nor what its frames held, while the pool's thread, idle, waits
     * for the next body.
     */
    @Test
    void aPoolBodysFutureKeptAfterItEndedKeepsNothingOfTheBodyReachableWhileThePoolIdles() throws Exception {
        List<java.util.concurrent.Future<?>> kept = new ArrayList<>();
        try (CoroutinePool pool = CoroutinePool.start("leak", 1)) {
            List<WeakReference<?>> refs = bodyOfAKeptFuture(pool, kept);
            assertThat(Collected.all(refs)).as("what the body held, its future kept").isTrue();
        }
        assertThat(kept).singleElement().extracting(java.util.concurrent.Future::isDone).isEqualTo(true);
    }

    /**
     * Creates coroutines that park in every kind of wait, on the channels {@code ch} (receives) and
     * {@code full} (sends), the future {@code never}, the semaphore {@code none} (no permit free) and the
     * coroutine {@code target} (a join), lets them park, and closes them; returns weak references to them
     * and to their contexts.
     */
    private static List<WeakReference<?>> parkedInEveryWaitThenClosed(Channel<String> ch, Channel<String> full,
            java.util.concurrent.CompletableFuture<String> never, Semaphore none, Coroutine target) {
        List<Coroutine> parked = List.of(
                Coroutine.create("sleep", () -> Coroutine.sleep(Duration.ofHours(1))),
                Coroutine.create("receive", () -> ch.receive()),
                Coroutine.create("timed-receive", () -> ch.tryReceive(Duration.ofHours(1))),
                Coroutine.create("send", () -> full.send("x")),
                Coroutine.create("timed-send", () -> full.trySend("x", Duration.ofHours(1))),
                Coroutine.create("acquire", () -> none.tryAcquire(Duration.ofHours(1))),
                Coroutine.create("await", () -> Coroutine.await(never)),
                Coroutine.create("timed-await", () -> Coroutine.withTimeout(Duration.ofHours(1), () -> Coroutine.await(never))),
                Coroutine.create("join", target::join),
                Coroutine.create("select", () -> new Select<String>().onReceive(ch, v -> v).onSend(full, "x", () -> "sent")
                        .onComplete(never, v -> v).onTimeout(Duration.ofHours(1), () -> "late").select()),
                Coroutine.create("in-a-generator", () -> {
                    Generator<String> g = Generator.of("waits", out -> out.emit(ch.receive()));
                    g.next();
                }));
        Coroutine.yield(); // every one parks
        List<WeakReference<?>> refs = new ArrayList<>();
        for (Coroutine c : parked) {
            assertThat(c.state()).as(c.name()).isEqualTo(Coroutine.State.PARKED);
            refs.add(new WeakReference<>(c));
            refs.add(new WeakReference<>(c.context));
            c.close();
        }
        return refs;
    }

    /**
     * A server's loop that closes the coroutines of its requests wherever they wait, over and over, leaves
     * nothing behind: each closed coroutine becomes unreachable, no timer is left, no waiter in a channel's
     * or a semaphore's queue, no join, and the future waited for keeps one callback however often it was.
     */
    @Test
    void coroutinesClosedOverAndOverWhereverTheyWaitLeaveNothingBehind() {
        Channel<String> ch = new Channel<>("requests", 0);
        Channel<String> full = new Channel<>("replies", 1);
        full.send("filling");
        java.util.concurrent.CompletableFuture<String> never = new java.util.concurrent.CompletableFuture<>();
        Semaphore none = new Semaphore("slots", 1);
        none.acquire();
        Coroutine target = Coroutine.create("target", () -> new Channel<String>("idle", 0).receive());
        List<WeakReference<?>> refs = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            List<WeakReference<?>> round = parkedInEveryWaitThenClosed(ch, full, never, none, target);
            if (i % 20 == 0) {
                refs.addAll(round);
            }
        }
        assertThat(Scheduler.current().loop.timerCount()).as("timers left").isZero();
        assertThat(QueuedWaiters.of(ch, "receivers")).as("receivers left").isZero();
        assertThat(QueuedWaiters.of(full, "senders")).as("senders left").isZero();
        Channel<?> permits;
        try {
            java.lang.reflect.Field f = Semaphore.class.getDeclaredField("permits");
            f.setAccessible(true);
            permits = (Channel<?>) f.get(none);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
        assertThat(QueuedWaiters.of(permits, "receivers") + QueuedWaiters.of(permits, "senders")).as("the semaphore's waiters left").isZero();
        assertThat(Scheduler.current().joinWaits()).as("joins left").isZero();
        assertThat(never.getNumberOfDependents()).as("callbacks on the future").isLessThanOrEqualTo(1);
        assertThat(Collected.all(refs)).as("the closed coroutines and their contexts").isTrue();
        target.close();
    }

    /** Runs {@code work} on a new thread that ends; returns its scheduler and a suspended coroutine. */
    private static List<WeakReference<?>> schedulerOfEndedThread(Thread.Builder builder) throws InterruptedException {
        List<WeakReference<?>> refs = new ArrayList<>();
        Thread t = builder.unstarted(() -> {
            refs.add(new WeakReference<>(Scheduler.current()));
            Traces left = suspendedCoroutine(new ArrayList<>());
            refs.addAll(left.all());
            Coroutine.create("never-ran", () -> { });
        });
        t.start();
        t.join();
        assertThat(refs).hasSize(4);
        return refs;
    }

    @Test
    void aPlatformThreadsSchedulerAndItsSuspendedCoroutinesBecomeUnreachableAfterTheThreadEnds()
            throws InterruptedException {
        assertThat(Collected.all(schedulerOfEndedThread(Thread.ofPlatform()))).isTrue();
    }

    @Test
    void aVirtualThreadsSchedulerAndItsSuspendedCoroutinesBecomeUnreachableAfterTheThreadEnds()
            throws InterruptedException {
        assertThat(Collected.all(schedulerOfEndedThread(Thread.ofVirtual()))).isTrue();
    }

    /**
     * Runs, on a new thread that ends, waits on {@code future} that leave it behind: an await whose
     * coroutine was closed, a select whose {@code onComplete} clause lost, and a coroutine still parked
     * on it when the thread ends; returns the thread's scheduler and that coroutine.
     */
    private static List<WeakReference<?>> schedulerOfEndedThreadThatAwaited(Thread.Builder builder,
            java.util.concurrent.CompletableFuture<String> future) throws InterruptedException {
        List<WeakReference<?>> refs = new ArrayList<>();
        Thread t = builder.unstarted(() -> {
            refs.add(new WeakReference<>(Scheduler.current()));
            Coroutine closed = Coroutine.create("closed-awaiter", () -> Coroutine.await(future));
            Coroutine.yield(); // it parks in await
            closed.close();
            Channel<String> ch = new Channel<>("ch", 0);
            Coroutine sender = Coroutine.create("sender", () -> ch.send("x"));
            String got = new Select<String>().onComplete(future, v -> v).onReceive(ch, v -> v).select(); // parks, then the send wins
            assertThat(got).isEqualTo("x");
            assertThat(sender.isFinished()).isTrue();
            Coroutine parked = Coroutine.create("left-awaiting", () -> Coroutine.await(future));
            Coroutine.yield(); // it parks in await, and stays so: the thread ends
            refs.add(new WeakReference<>(parked));
        });
        t.start();
        t.join();
        assertThat(refs).hasSize(2);
        assertThat(future.getNumberOfDependents()).as("the ended thread's one callback stays on the future").isEqualTo(1);
        return refs;
    }

    @Test
    void aPlatformThreadThatAwaitedAFutureThatOutlivesItBecomesUnreachableAfterItEnds() throws InterruptedException {
        java.util.concurrent.CompletableFuture<String> shutdown = new java.util.concurrent.CompletableFuture<>();
        assertThat(Collected.all(schedulerOfEndedThreadThatAwaited(Thread.ofPlatform(), shutdown)))
                .as("the scheduler and the coroutine left awaiting, while the future lives on").isTrue();
        assertThat(shutdown.complete("late")).as("completing it afterwards wakes nothing and throws nothing").isTrue();
    }

    @Test
    void aVirtualThreadThatAwaitedAFutureThatOutlivesItBecomesUnreachableAfterItEnds() throws InterruptedException {
        java.util.concurrent.CompletableFuture<String> shutdown = new java.util.concurrent.CompletableFuture<>();
        assertThat(Collected.all(schedulerOfEndedThreadThatAwaited(Thread.ofVirtual(), shutdown)))
                .as("the scheduler and the coroutine left awaiting, while the future lives on").isTrue();
        assertThat(shutdown.complete("late")).as("completing it afterwards wakes nothing and throws nothing").isTrue();
    }
}
