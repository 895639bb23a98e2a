package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A thread's interrupt flag set before or during coro's waits, on both engines: it ends none of them, does
 * not make them spin (each waits in as few idle waits as without it), and is kept once for the context that
 * set it or ran the wait; an interrupt of a pool thread from outside loses nothing and leaves {@code close()}
 * able to end every thread; a scheduler on a worker of a {@code ForkJoinPool} that stops (its managed blocks
 * throwing at once) still parks; and a wait that a class-initializer deadlock ends on the thread engine
 * gives back the interrupt it took.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
class InterruptsTest {

    private static boolean threadEngine() {
        return Engines.running().equals("threads");
    }

    /**
     * Starts a thread that runs {@code then} once {@code waiter} has begun an idle wait (the count {@code idle}
     * reads has passed {@code from}) and is parked in it: what it does comes while the waiter waits.
     */
    private static void onceParked(Thread waiter, LongSupplier idle, long from, Runnable then) {
        Thread.ofPlatform().name("completer").start(() -> {
            while (idle.getAsLong() == from || !parked(waiter)) {
                Thread.onSpinWait();
            }
            then.run();
        });
    }

    private static boolean parked(Thread t) {
        Thread.State s = t.getState();
        return s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING;
    }

    /**
     * Main with its interrupt set waits in each kind of wait that blocks its thread (a sleep, an await, a
     * receive, an acquire, a select and a join over another thread's channel, semaphore or future, a timed
     * receive that times out), what it waits for coming while it is parked: each wait ends as it would without
     * the interrupt, with its value, after a few idle waits (a park that the flag made return at once would
     * begin one after another), and the flag is set afterwards, once.
     */
    @Test
    @Timeout(20)
    void anInterruptSetBeforeEachKindOfWaitOfMainEndsNoneSpinsNoneAndIsKeptOnce() {
        Thread self = Thread.currentThread();
        LongSupplier idle = LoopProbe.idleWaitsReader();
        Map<String, String> outcomes = new LinkedHashMap<>();
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<Integer> values = Coroutine.await(pool.submit(() -> new Channel<Integer>("pool's", 0)));
            Semaphore permits = Coroutine.await(pool.submit(() -> {
                Semaphore s = new Semaphore("pool's", 1);
                s.acquire();
                return s;
            }));
            Map<String, Supplier<String>> waits = new LinkedHashMap<>();
            waits.put("sleep", () -> {
                Coroutine.sleep(Duration.ofMillis(5));
                return "slept";
            });
            waits.put("await", () -> {
                CompletableFuture<String> f = new CompletableFuture<>();
                onceParked(self, idle, idle.getAsLong(), () -> f.complete("completed"));
                return Coroutine.await(f);
            });
            waits.put("receive", () -> {
                sendWhenParked(pool, values, 1, self, idle);
                return "received " + values.receive();
            });
            waits.put("acquire", () -> {
                CompletableFuture<Void> gate = new CompletableFuture<>();
                pool.execute(() -> {
                    Coroutine.await(gate);
                    permits.release();
                });
                onceParked(self, idle, idle.getAsLong(), () -> gate.complete(null));
                permits.acquire();
                permits.release();
                return "acquired";
            });
            waits.put("select", () -> {
                sendWhenParked(pool, values, 2, self, idle);
                return new Select<String>()
                        .onReceive(values, v -> "received " + v)
                        .onTimeout(PoolsClosed.GUARD, () -> "timed out")
                        .select();
            });
            waits.put("join", () -> {
                CompletableFuture<String> gate = new CompletableFuture<>();
                CompletableFuture<String> body = pool.submit(() -> Coroutine.await(gate));
                onceParked(self, idle, idle.getAsLong(), () -> gate.complete("joined"));
                return body.join();
            });
            waits.put("tryReceive", () -> "tried " + new Channel<Integer>("own", 0).tryReceive(Duration.ofMillis(5)));
            waits.forEach((kind, wait) -> {
                Thread.currentThread().interrupt();
                long before = LoopProbe.idleWaits();
                String value = wait.get();
                long waited = LoopProbe.idleWaits() - before;
                outcomes.put(kind, value + ", interrupted " + Thread.interrupted() + " then " + Thread.interrupted());
                assertThat(waited).as("the idle waits of the %s", kind).isBetween(1L, 4L);
            });
        }
        assertThat(outcomes).containsExactly(
                Map.entry("sleep", "slept, interrupted true then false"),
                Map.entry("await", "completed, interrupted true then false"),
                Map.entry("receive", "received 1, interrupted true then false"),
                Map.entry("acquire", "acquired, interrupted true then false"),
                Map.entry("select", "received 2, interrupted true then false"),
                Map.entry("join", "joined, interrupted true then false"),
                Map.entry("tryReceive", "tried Optional.empty, interrupted true then false"));
    }

    /** Has a body of {@code pool} send {@code v} on {@code ch}, its own channel, once the caller is parked. */
    private static void sendWhenParked(CoroutinePool pool, Channel<Integer> ch, int v, Thread self, LongSupplier idle) {
        CompletableFuture<Void> gate = new CompletableFuture<>();
        pool.execute(() -> {
            Coroutine.await(gate);
            ch.send(v);
        });
        onceParked(self, idle, idle.getAsLong(), () -> gate.complete(null));
    }

    /**
     * A coroutine that sets its own interrupt and then waits (a sleep, an await of another thread's future,
     * under the real clock or the virtual one) runs the thread's idle wait, and has the flag set once its
     * wait is over; it ends with it set, and main, which joined it, sees it then, on both engines.
     */
    @Test
    @Timeout(20)
    void aCoroutineThatSetsItsOwnInterruptAndWaitsHasItSetAfterTheWaitAndLeavesItToItsJoiner() {
        List<String> log = new ArrayList<>();
        Runnable sleepThenAwait = () -> {
            Coroutine waiter = Coroutine.create("waiter", () -> {
                Thread.currentThread().interrupt();
                Coroutine.sleep(Duration.ofMillis(5));
                log.add("slept, interrupted " + Thread.currentThread().isInterrupted());
                CompletableFuture<String> f = new CompletableFuture<>();
                LongSupplier idle = LoopProbe.idleWaitsReader();
                onceParked(Thread.currentThread(), idle, idle.getAsLong(), () -> f.complete("completed"));
                log.add(Coroutine.await(f) + ", interrupted " + Thread.currentThread().isInterrupted());
            });
            waiter.join();
            log.add("main joined, interrupted " + Thread.interrupted() + " then " + Thread.interrupted());
        };
        sleepThenAwait.run();
        VirtualTime.run(sleepThenAwait);
        assertThat(log).containsExactly(
                "slept, interrupted true", "completed, interrupted true", "main joined, interrupted true then false",
                "slept, interrupted true", "completed, interrupted true", "main joined, interrupted true then false");
    }

    /**
     * A coroutine that sets its own interrupt and then waits under virtual time on its thread's own channel, which a
     * pool's body sends to once main waits: main, which only waits in {@code VirtualTime.run} for it, waits in the
     * event loop for that send at its yield, a wait that takes the interrupt, and gives it back as the wait ends, so
     * that the receiver has it set once it has its value, on the engine whose contexts share the thread's flag.
     */
    @Test
    @Timeout(20)
    void anInterruptACoroutineSetBeforeItsWaitIsKeptThroughMainsYieldInVirtualTimeRunThatWaitsForAnotherThread() {
        List<String> log = new ArrayList<>();
        Thread self = Thread.currentThread();
        LongSupplier idle = LoopProbe.idleWaitsReader();
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> mail = new Channel<>("mail", 0);
            VirtualTime.run(() -> Coroutine.create("receiver", () -> {
                CompletableFuture<Void> gate = new CompletableFuture<>();
                pool.execute(() -> {
                    Coroutine.await(gate);
                    mail.send("v");
                });
                Thread.currentThread().interrupt();
                onceParked(self, idle, idle.getAsLong(), () -> gate.complete(null)); // main waits for the send by then
                String v = mail.receive();
                log.add("got " + v + ", interrupted " + Thread.interrupted() + " then " + Thread.interrupted());
            }));
        }
        assertThat(log).containsExactly("got v, interrupted true then false");
    }

    /**
     * A pool thread interrupted from outside while its only body waits, and again while it idles with no
     * body at all: the body gets what it waits for and sees the interrupt when it goes on (its thread's on
     * the continuation engine, its own on the thread engine); the idle thread takes the interrupt and goes
     * back to waiting in a few idle waits at most, not spinning; the next body starts with its interrupt
     * clear; and {@code close()} ends every thread, the interrupted one included.
     */
    @Test
    @Timeout(20)
    void aPoolThreadInterruptedFromOutsideLosesNothingAndItsPoolStillCloses() throws InterruptedException {
        AtomicReference<Thread> bodysThread = new AtomicReference<>();
        AtomicReference<Thread> poolThread = new AtomicReference<>();
        AtomicReference<LongSupplier> idle = new AtomicReference<>();
        CountDownLatch waiting = new CountDownLatch(1);
        CompletableFuture<String> gate = new CompletableFuture<>();
        List<String> log = new ArrayList<>();
        CoroutinePool pool = CoroutinePool.start(1);
        try {
            CompletableFuture<String> first = pool.submit(() -> {
                bodysThread.set(Thread.currentThread());
                poolThread.set(Coroutine.current().thread());
                idle.set(LoopProbe.idleWaitsReader());
                Coroutine.create("signal", waiting::countDown); // runs once the body waits
                return Coroutine.await(gate) + ", interrupted " + Thread.interrupted();
            });
            waiting.await();
            bodysThread.get().interrupt();
            gate.complete("completed");
            log.add(Coroutine.await(first));
            while (!parked(poolThread.get())) {
                Thread.onSpinWait();
            }
            long before = idle.get().getAsLong();
            poolThread.get().interrupt();
            // woken, it takes the flag (kept for it) and waits again: in its event loop, or on the thread engine
            // for its turn while the thread of the body that ended last runs the idle wait
            while (poolThread.get().isInterrupted() || !parked(poolThread.get())) {
                Thread.onSpinWait();
            }
            long waited = idle.get().getAsLong() - before;
            assertThat(waited).as("the idle waits of the interrupted pool thread").isBetween(0L, 4L);
            log.add(Coroutine.await(pool.submit(() -> "next body, interrupted " + Thread.interrupted())));
        } finally {
            PoolsClosed.close(pool);
        }
        assertThat(log).containsExactly("completed, interrupted true", "next body, interrupted false");
        assertThat(poolThread.get().isAlive()).as("the interrupted pool thread, after close()").isFalse();
        assertThat(Thread.interrupted()).as("the closer").isFalse();
    }

    /**
     * A pool thread interrupted from outside through {@code Coroutine.current().thread()} (the pool thread
     * itself on both engines, where a body's {@code Thread.currentThread()} is its own virtual thread on the
     * thread engine) while its body waits, in an await, a receive or a sleep: the body gets what it waits for and
     * sees the interrupt as it goes on, on both engines, as the continuation engine's one flag gives it to the
     * context that runs; the pool's own loop, which runs none of the user's code, keeps none of it. The next
     * body starts with its interrupt clear, and {@code close()} ends the interrupted thread.
     */
    @Test
    @Timeout(20)
    void aPoolThreadInterruptedThroughItsSchedulerThreadWhileItsBodyWaitsGivesTheInterruptToTheBody()
            throws InterruptedException {
        List<String> log = new ArrayList<>();
        CoroutinePool pool = CoroutinePool.start(1);
        try {
            for (String kind : List.of("await", "receive", "sleep")) {
                AtomicReference<Thread> poolThread = new AtomicReference<>();
                AtomicReference<Channel<String>> channel = new AtomicReference<>();
                CountDownLatch waiting = new CountDownLatch(1);
                CountDownLatch interrupted = new CountDownLatch(1);
                CompletableFuture<String> gate = new CompletableFuture<>();
                CompletableFuture<String> body = pool.submit(kind, () -> {
                    poolThread.set(Coroutine.current().thread());
                    Channel<String> ch = new Channel<>("values", 0);
                    channel.set(ch);
                    Coroutine.create("signal", waiting::countDown); // runs once the body waits
                    String got = switch (kind) {
                        case "await" -> Coroutine.await(gate);
                        case "receive" -> ch.receive();
                        default -> {
                            // woken by the interrupt's arrival: the sleep ends on its own deadline, later
                            while (interrupted.getCount() > 0) {
                                Coroutine.sleep(Duration.ofMillis(1));
                            }
                            yield "slept";
                        }
                    };
                    return kind + ": " + got + ", interrupted " + Thread.interrupted();
                });
                waiting.await();
                while (!parked(poolThread.get())) {
                    Thread.onSpinWait();
                }
                poolThread.get().interrupt();
                // taken in by the thread's wait: on the thread engine, handed to the holder's thread before that
                while (poolThread.get().isInterrupted()) {
                    Thread.onSpinWait();
                }
                interrupted.countDown();
                gate.complete("completed");
                if (kind.equals("receive")) {
                    channel.get().send("sent"); // posted to the pool thread: no body of its starts to run it
                }
                log.add(Coroutine.await(body));
            }
            log.add(Coroutine.await(pool.submit(() -> "next body, interrupted " + Thread.interrupted())));
        } finally {
            PoolsClosed.close(pool);
        }
        assertThat(log).containsExactly("await: completed, interrupted true", "receive: sent, interrupted true",
                "sleep: slept, interrupted true", "next body, interrupted false");
        assertThat(Thread.interrupted()).as("the closer").isFalse();
    }

    /**
     * A scheduler made on a worker of a {@code ForkJoinPool} (a task that awaits there) waits as a managed
     * block; once the pool is stopping ({@code shutdownNow()}, which interrupts its workers too), each managed
     * block throws {@code InterruptedException} at once, without blocking. Main waiting alone in its event loop,
     * or (on the thread engine) for its turn while a coroutine waits, parks all the same instead of spinning
     * until what it waits for comes: the worker is seen parked, having taken the interrupt, after a few idle
     * waits at most; the await then gets its value, and main has the interrupt set once its wait is over.
     */
    @Test
    @Timeout(10)
    void aSchedulerOnAWorkerOfAForkJoinPoolThatStopsWaitsParkedInsteadOfSpinning() throws Exception {
        assertThat(awaitOnAWorkerOfAPoolThatStops(false)).isEqualTo("main awaited completed, interrupted true then false");
        assertThat(awaitOnAWorkerOfAPoolThatStops(true)).isEqualTo("main joined the coroutine that awaited completed,"
                + " interrupted true then false");
    }

    /**
     * Runs, on a worker of a new {@code ForkJoinPool}, an await of a future (in main, or with {@code inACoroutine}
     * in a coroutine that main joins), stops the pool while the await waits, then completes the future.
     *
     * @return what main saw
     */
    private static String awaitOnAWorkerOfAPoolThatStops(boolean inACoroutine) throws Exception {
        ForkJoinPool workers = new ForkJoinPool(2);
        CompletableFuture<String> gate = new CompletableFuture<>();
        CompletableFuture<Thread> worker = new CompletableFuture<>();
        CompletableFuture<LongSupplier> idle = new CompletableFuture<>();
        CompletableFuture<String> task = CompletableFuture.supplyAsync(() -> {
            idle.complete(LoopProbe.idleWaitsReader());
            worker.complete(Thread.currentThread());
            if (!inACoroutine) {
                String v = Coroutine.await(gate);
                return "main awaited " + v + ", interrupted " + Thread.interrupted() + " then " + Thread.interrupted();
            }
            AtomicReference<String> awaited = new AtomicReference<>();
            Coroutine.create("awaiter", () -> awaited.set(Coroutine.await(gate))).join();
            return "main joined the coroutine that awaited " + awaited.get() + ", interrupted " + Thread.interrupted()
                    + " then " + Thread.interrupted();
        }, workers);
        Thread w = worker.get();
        while (!parked(w)) {
            Thread.onSpinWait();
        }
        long before = idle.get().getAsLong();
        workers.shutdownNow();
        while (w.isInterrupted() || !parked(w)) {
            Thread.onSpinWait();
        }
        assertThat(idle.get().getAsLong() - before).as("the idle waits of the stopped pool's worker").isBetween(0L, 4L);
        gate.complete("completed");
        String seen = task.get();
        workers.close();
        return seen;
    }

    /**
     * What the initializers below record as they run, kept outside their classes: each rethrows the refusal
     * it met, which leaves its class erroneous (so that the body's abandoned thread fails instead of running
     * the body once the initializer is over), and an erroneous class's fields cannot be read. Public: the
     * classes, loaded afresh, see only public code.
     */
    public static final class Seen {
        /** The record, written and read on the test's thread only. */
        public static final List<String> LOG = new ArrayList<>();

        private Seen() {
        }
    }

    /** A static initializer that sets its interrupt and runs a coroutine whose body is a lambda of its class. */
    static final class InterruptedAsItRunsACoroutine {
        static final List<String> LOG = Seen.LOG;

        static {
            Coroutine c = Coroutine.create("initializing", () -> Seen.LOG.add("body ran, interrupted " + Thread.currentThread().isInterrupted()));
            Thread.currentThread().interrupt();
            RuntimeException refused = null;
            try {
                c.switchTo();
                Seen.LOG.add("after: " + c.state());
            } catch (IllegalStateException e) {
                refused = e;
                Seen.LOG.add("refused: " + e.getMessage());
            }
            Seen.LOG.add("interrupted " + Thread.interrupted());
            if (refused != null) {
                throw refused;
            }
        }
    }

    /** A static initializer that sets its interrupt and consumes a generator whose body is a lambda of its class. */
    static final class InterruptedAsItConsumesAGenerator {
        static final List<String> LOG = Seen.LOG;

        static {
            Generator<Integer> squares = Generator.of("squares", out -> {
                Seen.LOG.add("body ran, interrupted " + Thread.currentThread().isInterrupted());
                for (int i = 1; i < 4; i++) {
                    out.emit(i * i);
                }
            });
            Thread.currentThread().interrupt();
            RuntimeException refused = null;
            try {
                Seen.LOG.add("squares " + squares.stream().toList());
            } catch (IllegalStateException e) {
                refused = e;
                Seen.LOG.add("refused: " + e.getMessage());
            }
            Seen.LOG.add("interrupted " + Thread.interrupted());
            if (refused != null) {
                throw refused;
            }
        }
    }

    /**
     * An interrupt set as a class initializer runs a coroutine of its own class is kept: on the continuation
     * engine the body sees it and main has it after the switch; on the thread engine, where the switch is
     * refused once the wait for the body's thread is found to be a deadlock, main has it after the refusal
     * (the wait had taken it, and lost it as it ended so).
     */
    @Test
    @Timeout(10)
    void anInterruptSetAsAClassInitializerRunsACoroutineOfItsClassIsKeptWhetherTheSwitchRunsOrIsRefused() {
        Seen.LOG.clear();
        Throwable t = catchThrowable(() -> FreshlyLoaded.staticField(InterruptedAsItRunsACoroutine.class, "LOG"));
        if (!threadEngine()) {
            assertThat(t).isNull();
            assertThat(Seen.LOG).containsExactly("body ran, interrupted true", "after: FINISHED", "interrupted true");
            return;
        }
        assertThat(t).isInstanceOf(ExceptionInInitializerError.class);
        assertThat(Seen.LOG).containsExactly("refused: cannot suspend main context 'main' at its switchTo to run coroutine"
                + " 'initializing': the body of coroutine 'initializing' is a lambda of class"
                + " dev.coro.InterruptsTest$InterruptedAsItRunsACoroutine, whose static initializer this thread is running:"
                + " no other thread can run the body until that initializer returns, and it waits for the body (on the"
                + " thread engine every body runs on a thread of its own); create it outside the initializer (in a holder"
                + " class, say), or use the continuation engine; it keeps running (state RUNNING)", "interrupted true");
    }

    /**
     * An interrupt set as a class initializer consumes a generator of its own class is kept: on the
     * continuation engine the body runs and the consumer has it after; on the thread engine, where the
     * consumer had handed it to the body's thread, which can never run the body, the consumer takes it back
     * as the resume is refused.
     */
    @Test
    @Timeout(10)
    void anInterruptSetAsAClassInitializerConsumesAGeneratorOfItsClassIsKeptWhetherTheBodyRunsOrIsRefused() {
        Seen.LOG.clear();
        Throwable t = catchThrowable(() -> FreshlyLoaded.staticField(InterruptedAsItConsumesAGenerator.class, "LOG"));
        if (!threadEngine()) {
            assertThat(t).isNull();
            assertThat(Seen.LOG).containsExactly("body ran, interrupted true", "squares [1, 4, 9]", "interrupted true");
            return;
        }
        assertThat(t).isInstanceOf(ExceptionInInitializerError.class);
        assertThat(Seen.LOG).containsExactly("refused: main context 'main' cannot run the body of generator 'squares' (NEW):"
                + " the body of generator 'squares' is a lambda of class dev.coro.InterruptsTest$InterruptedAsItConsumesAGenerator,"
                + " whose static initializer this thread is running: no other thread can run the body until that initializer"
                + " returns, and it waits for the body (on the thread engine every body runs on a thread of its own); create"
                + " it outside the initializer (in a holder class, say), or use the continuation engine; it is FAILED",
                "interrupted true");
    }
}
