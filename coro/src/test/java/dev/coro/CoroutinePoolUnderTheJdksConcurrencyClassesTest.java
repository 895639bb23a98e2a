package dev.coro;

import static dev.coro.PoolsClosed.GUARD;
import static dev.coro.PoolsClosed.thrownByClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link CoroutinePool} handed as an {@code Executor} to the JDK's own concurrency classes
 * ({@code CompletableFuture}'s async methods and {@code delayedExecutor}, {@code ExecutorCompletionService}),
 * which know nothing of coroutines: where their tasks run, where their failures go, what their
 * {@code cancel} does, and what becomes of them when the pool closes while they are in progress.
 *
 * <p>Every test closes its pool: while one is open no thread of the JVM reports a deadlock ({@link PoolsClosed}
 * checks it after each test).
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
class CoroutinePoolUnderTheJdksConcurrencyClassesTest {

    /** The caller's coroutine and the thread whose scheduler runs it, e.g. {@code coroutine-1 on coro-pool-1-0}. */
    private static String where() {
        return Coroutine.current().name() + " on " + Peer.schedulerThread().getName();
    }

    /** The outcome of {@code f}, awaited under a guard against a hang. */
    private static <T> T awaited(CompletableFuture<T> f) {
        return Coroutine.withTimeout(GUARD, () -> Coroutine.await(f));
    }

    /**
     * {@code supplyAsync}, {@code runAsync} and the {@code Async} stages given the pool run their functions
     * as coroutines of its threads, where {@link Coroutine#await}, {@link Coroutine#sleep} and channels work
     * as in any body; a stage attached without an executor to a submission's future before its body ends
     * runs in the body's coroutine as it ends, where it may wait too. An {@code Async} form given no executor
     * runs on the JDK's default one, as for any {@code CompletableFuture}, not on the pool.
     */
    @Test
    void theJdksAsyncStagesGivenThePoolRunAsCoroutinesOfItsThreadsWhereAwaitSleepAndChannelsWork() {
        CoroutinePool pool = CoroutinePool.start(2);
        String name = PoolName.of(pool);
        String onThePool = "coroutine-\\d+ on " + java.util.regex.Pattern.quote(name) + "-[01]";
        try {
            List<String> ran = Collections.synchronizedList(new ArrayList<>());
            CompletableFuture<String> supplied = CompletableFuture.supplyAsync(() -> {
                Coroutine.sleep(Duration.ofMillis(1));
                Channel<String> relay = new Channel<>("relay", 1);
                relay.send(Coroutine.await(pool.submit(() -> "submitted")));
                return where() + ": " + relay.receive();
            }, pool);
            assertThat(awaited(supplied)).matches(onThePool + ": submitted");
            awaited(CompletableFuture.runAsync(() -> ran.add("runAsync " + where()), pool));
            String applied = awaited(supplied.thenApplyAsync(
                    v -> where() + ": " + Coroutine.await(CompletableFuture.completedFuture("awaited")), pool));
            String composed = awaited(supplied.thenComposeAsync(
                    v -> CompletableFuture.supplyAsync(() -> where() + ": inner", pool), pool));
            awaited(supplied.whenCompleteAsync((v, e) -> ran.add("whenCompleteAsync " + where()), pool));
            String handled = awaited(supplied.handleAsync((v, e) -> {
                Coroutine.yield();
                return where() + ": handled";
            }, pool));
            assertThat(applied).matches(onThePool + ": awaited");
            assertThat(composed).matches(onThePool + ": inner");
            assertThat(handled).matches(onThePool + ": handled");
            assertThat(ran).hasSize(2).anyMatch(s -> s.matches("runAsync " + onThePool))
                    .anyMatch(s -> s.matches("whenCompleteAsync " + onThePool));
            CompletableFuture<Void> gate = new CompletableFuture<>();
            CompletableFuture<String> inTheBody = pool.submit("gated", () -> {
                Coroutine.await(gate);
                return "body";
            }).thenApply(v -> {
                Coroutine.sleep(Duration.ofMillis(1));
                return v + ", then " + where();
            });
            gate.complete(null);
            assertThat(awaited(inTheBody)).matches("body, then gated on " + java.util.regex.Pattern.quote(name) + "-[01]");
            String elsewhere = awaited(pool.submit(() -> "submitted").thenApplyAsync(v -> Thread.currentThread().getName()));
            assertThat(elsewhere).as("an Async form without an executor runs on the JDK's default one").doesNotStartWith(name);
        } finally {
            assertThat(thrownByClose(pool)).isNull();
        }
    }

    /** The kind of thread the caller is, as the JDK's choice of executor shows it: a worker of the common pool, of another fork-join pool, or neither. */
    private static String threadKind() {
        if (Thread.currentThread() instanceof ForkJoinWorkerThread worker) {
            return worker.getPool() == ForkJoinPool.commonPool() ? "a worker of the common pool"
                    : "a worker of another fork-join pool";
        }
        return "a thread of no fork-join pool";
    }

    /**
     * The {@code Async} handlers of a submission's future ({@code whenCompleteAsync}, {@code handleAsync},
     * {@code exceptionallyAsync}, {@code exceptionallyComposeAsync}), which the pool follows to see the failure
     * handled, run where those of a plain {@code CompletableFuture} run: given no executor, on the JDK's default one
     * (the common pool); given {@code ForkJoinPool.commonPool()}, on it. Each counts as handling the failure.
     */
    @Test
    void theAsyncHandlersOfASubmissionsFutureRunOnTheExecutorsAPlainFuturesWould() {
        CoroutinePool pool = CoroutinePool.start(1);
        try {
            ForkJoinPool common = ForkJoinPool.commonPool();
            CompletableFuture<Object> plain = CompletableFuture.failedFuture(new IllegalStateException("plain"));
            String byDefault = awaited(plain.handleAsync((v, e) -> threadKind()));
            String onCommon = awaited(plain.handleAsync((v, e) -> threadKind(), common));
            List<CompletableFuture<Object>> failing = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                failing.add(pool.submit(() -> {
                    throw new IllegalStateException("handled");
                }));
            }
            List<String> givenNone = Collections.synchronizedList(new ArrayList<>());
            List<String> givenCommon = Collections.synchronizedList(new ArrayList<>());
            awaited(CompletableFuture.allOf(
                    failing.get(0).whenCompleteAsync((v, e) -> givenNone.add(threadKind())).exceptionally(e -> null),
                    failing.get(1).handleAsync((v, e) -> givenNone.add(threadKind())),
                    failing.get(2).exceptionallyAsync(e -> givenNone.add(threadKind())),
                    failing.get(3).exceptionallyComposeAsync(e -> CompletableFuture.<Object>completedFuture(givenNone.add(threadKind()))),
                    failing.get(4).whenCompleteAsync((v, e) -> givenCommon.add(threadKind()), common).exceptionally(e -> null),
                    failing.get(5).handleAsync((v, e) -> givenCommon.add(threadKind()), common),
                    failing.get(6).exceptionallyAsync(e -> givenCommon.add(threadKind()), common),
                    failing.get(7).exceptionallyComposeAsync(e -> CompletableFuture.<Object>completedFuture(givenCommon.add(threadKind())), common)));
            assertThat(givenNone).as("given no executor").containsExactly(byDefault, byDefault, byDefault, byDefault);
            assertThat(givenCommon).as("given the common pool").containsExactly(onCommon, onCommon, onCommon, onCommon);
        } finally {
            assertThat(thrownByClose(pool)).as("every failure was handled").isNull();
        }
    }

    /**
     * An executor given an {@code Async} handler of a submission's future ({@code whenCompleteAsync},
     * {@code handleAsync}, {@code exceptionallyAsync}, {@code exceptionallyComposeAsync}), which the pool follows to
     * see the failure handled, is handed a {@code CompletableFuture.AsynchronousCompletionTask}, as a plain future's
     * executor is: the JDK's marker by which an executor tells its async tasks apart.
     */
    @Test
    void anExecutorGivenAnAsyncHandlerOfASubmissionsFutureIsHandedTheJdksKindOfTask() {
        CoroutinePool pool = CoroutinePool.start(1);
        try {
            List<Runnable> handed = Collections.synchronizedList(new ArrayList<>());
            Executor recording = task -> {
                handed.add(task);
                task.run();
            };
            CompletableFuture<Object> failing = pool.submit(() -> {
                throw new IllegalStateException("handled");
            });
            awaited(CompletableFuture.allOf(
                    CompletableFuture.failedFuture(new IllegalStateException("plain")).handleAsync((v, e) -> null, recording),
                    failing.whenCompleteAsync((v, e) -> { }, recording).exceptionally(e -> null),
                    failing.handleAsync((v, e) -> null, recording),
                    failing.exceptionallyAsync(e -> null, recording),
                    failing.exceptionallyComposeAsync(e -> CompletableFuture.completedFuture(null), recording)));
            assertThat(handed).hasSize(5).allMatch(task -> task instanceof CompletableFuture.AsynchronousCompletionTask);
        } finally {
            assertThat(thrownByClose(pool)).as("every failure was handled").isNull();
        }
    }

    /**
     * A chain of {@code thenApplyAsync} stages in progress when {@code close()} is called ends at the first
     * stage that would start after it: the pool refuses to take it, as an {@code ExecutorService} shut down
     * does, and the JDK fails that stage with the refusal, a {@code RejectedExecutionException} naming the
     * coroutine that completed the stage before it, the pool and its state; the stages after it fail with
     * it. {@code close()} waits only for the stage that had started, and reports nothing: the refusal went to
     * the stage's future. A body's own submission during the close is refused likewise, and once the pool has
     * closed, {@code supplyAsync} throws the refusal to its caller.
     */
    @Test
    void aChainOfAsyncStagesInProgressWhenThePoolClosesEndsAtTheFirstStageThePoolRefuses() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<Integer> first = CompletableFuture.supplyAsync(() -> {
            Coroutine.await(gate);
            return 1;
        }, pool);
        CompletableFuture<Integer> second = first.thenApplyAsync(v -> v + 1, pool);
        CompletableFuture<Integer> third = second.thenApplyAsync(v -> v + 1, pool);
        CompletableFuture<String> submittedWhileClosing = pool.submit(() -> {
            Coroutine.await(gate);
            return catchThrowable(() -> pool.submit(() -> "never")).getMessage();
        });
        Coroutine.create("opener", () -> gate.complete(null)); // runs once main parks in close(), the pool closing
        assertThat(thrownByClose(pool)).as("the refusals went to the stages' futures").isNull();
        assertThat(first.join()).isEqualTo(1);
        Throwable refused = catchThrowable(second::join);
        assertThat(refused).isExactlyInstanceOf(CompletionException.class).cause()
                .isExactlyInstanceOf(RejectedExecutionException.class)
                .hasMessage("coroutine 'coroutine-1' cannot execute on " + name + " (closing): a closing pool takes no more bodies");
        assertThat(catchThrowable(third::join)).isSameAs(refused);
        assertThat(submittedWhileClosing.join())
                .isEqualTo("coroutine 'coroutine-2' cannot submit to " + name + " (closing): a closing pool takes no more bodies");
        assertThat(catchThrowable(() -> CompletableFuture.supplyAsync(() -> "never", pool)))
                .isExactlyInstanceOf(RejectedExecutionException.class)
                .hasMessage("main context 'main' cannot execute on " + name + " (closed): a closed pool takes no more bodies");
    }

    /**
     * A task a JDK class hands the pool catches its function's failure and completes its own future with it
     * ({@code supplyAsync}'s, a {@code FutureTask}'s of an {@code ExecutorCompletionService}): the pool sees a
     * body that returned, and {@code close()} reports nothing of it; a plain {@code Runnable} given to
     * {@code execute} that throws has nobody to hand its failure to, and {@code close()} throws it.
     */
    @Test
    void aFailureOfAJdkTaskGoesToItsOwnFutureAndOnlyAPlainRunnablesIsReportedByClose() throws InterruptedException {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<Object> supplied = CompletableFuture.supplyAsync(() -> {
            throw new IllegalStateException("in supplyAsync");
        }, pool);
        ExecutorCompletionService<Object> service = new ExecutorCompletionService<>(pool);
        service.submit(() -> {
            throw new IllegalStateException("in a completion service");
        });
        pool.execute(() -> {
            throw new IllegalStateException("in a plain runnable");
        });
        Throwable reported = thrownByClose(pool);
        assertThat(reported).isExactlyInstanceOf(CoroutineException.class).hasMessage(name
                + ": a coroutine failed and nobody observed it: coroutine 'coroutine-3' on thread '" + name
                + "-0' (#" + PoolName.threadId(pool, 0) + "), running the body of execute #3, threw java.lang.IllegalStateException: in a plain runnable");
        assertThat(reported.getCause().getSuppressed()).isEmpty();
        assertThat(catchThrowable(supplied::join)).cause().hasMessage("in supplyAsync");
        Future<Object> serviced = service.poll(GUARD.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(catchThrowable(serviced::get)).isExactlyInstanceOf(ExecutionException.class)
                .cause().hasMessage("in a completion service");
    }

    /**
     * Only the futures the pool makes know the coroutine of their body: {@code cancel(true)} of a
     * {@code supplyAsync} future cancels the future alone, and the body runs on to its end, which
     * {@code close()} waits for; that of a {@code FutureTask} (an {@code ExecutorCompletionService}'s) interrupts
     * the thread that runs the body, which ends a blocking JDK call there, but no wait of coro's: a body
     * parked in an await waits on, and finds its interrupt set when it goes on, on both engines.
     */
    @Test
    void cancellingAFutureTheJdkMadeClosesNoCoroutineAndAFutureTasksCancelOnlyInterruptsItsBody() throws InterruptedException {
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<String> supplyAsyncBody = new CompletableFuture<>();
        CompletableFuture<String> supplied = CompletableFuture.supplyAsync(() -> {
            Coroutine.await(gate);
            supplyAsyncBody.complete("ran to its end");
            return "value";
        }, pool);
        ExecutorCompletionService<String> service = new ExecutorCompletionService<>(pool);
        CountDownLatch neverCounted = new CountDownLatch(1);
        CompletableFuture<Void> blocking = new CompletableFuture<>();
        CompletableFuture<String> blockedBody = new CompletableFuture<>();
        Future<String> blocked = service.submit(() -> {
            blocking.complete(null);
            try {
                neverCounted.await(); // holds the pool thread: no scheduling point
                blockedBody.complete("counted");
            } catch (InterruptedException e) {
                blockedBody.complete("interrupted");
            }
            return "value";
        });
        awaited(blocking);
        assertThat(blocked.cancel(true)).isTrue();
        assertThat(service.poll(GUARD.toMillis(), TimeUnit.MILLISECONDS)).isSameAs(blocked);
        assertThat(awaited(blockedBody)).isEqualTo("interrupted");
        CompletableFuture<Void> parking = new CompletableFuture<>();
        CompletableFuture<String> parkedBody = new CompletableFuture<>();
        Future<String> parked = service.submit(() -> {
            parking.complete(null);
            Coroutine.await(gate);
            parkedBody.complete("went on, interrupted: " + Thread.currentThread().isInterrupted());
            return "value";
        });
        awaited(parking);
        assertThat(supplied.cancel(true)).isTrue();
        assertThat(parked.cancel(true)).isTrue();
        assertThat(supplyAsyncBody).as("cancelled futures: their bodies still wait").isNotDone();
        assertThat(parkedBody).isNotDone();
        gate.complete(null);
        assertThat(thrownByClose(pool)).isNull();
        assertThat(supplyAsyncBody.join()).isEqualTo("ran to its end");
        assertThat(parkedBody.join()).isEqualTo("went on, interrupted: true");
        assertThat(supplied.isCancelled()).isTrue();
    }

    /**
     * An {@code ExecutorCompletionService} over the pool hands out the bodies' futures in the order the
     * bodies end, whatever the order they were submitted in.
     */
    @Test
    void anExecutorCompletionServiceOverThePoolHandsOutTheFuturesInTheOrderTheBodiesEnd() throws Exception {
        CoroutinePool pool = CoroutinePool.start(2);
        try {
            ExecutorCompletionService<String> service = new ExecutorCompletionService<>(pool);
            List<CompletableFuture<Void>> gates = new ArrayList<>();
            for (String body : List.of("a", "b", "c")) {
                CompletableFuture<Void> gate = new CompletableFuture<>();
                gates.add(gate);
                service.submit(() -> {
                    Coroutine.await(gate);
                    return body;
                });
            }
            List<String> taken = new ArrayList<>();
            for (int i : new int[] {2, 0, 1}) {
                gates.get(i).complete(null);
                taken.add(service.poll(GUARD.toMillis(), TimeUnit.MILLISECONDS).get());
            }
            assertThat(taken).containsExactly("c", "a", "b");
        } finally {
            assertThat(thrownByClose(pool)).isNull();
        }
    }

    /**
     * {@code CompletableFuture.delayedExecutor(d, unit, pool)} hands the task to the pool once the delay is
     * over, from a thread of the JDK's, and it runs as a coroutine of the pool. One whose delay ends after
     * the pool has closed is refused there ({@code RejectedExecutionException} naming that thread and the
     * pool), and the JDK drops it: its future never completes, as over any executor shut down.
     */
    @Test
    void aDelayedExecutorOverThePoolRunsItsTaskAsACoroutineAndOneRefusedOnceThePoolClosedIsDroppedByTheJdk() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<RejectedExecutionException> refused = new CompletableFuture<>();
        Executor recording = task -> {
            try {
                pool.execute(task);
            } catch (RejectedExecutionException e) {
                refused.complete(e);
                throw e;
            }
        };
        Executor delayed = CompletableFuture.delayedExecutor(1, TimeUnit.MILLISECONDS, recording);
        assertThat(awaited(CompletableFuture.supplyAsync(() -> where(), delayed)))
                .isEqualTo("coroutine-1 on " + name + "-0");
        assertThat(thrownByClose(pool)).isNull();
        CompletableFuture<String> late = CompletableFuture.supplyAsync(() -> where(), delayed);
        assertThat(awaited(refused)).hasMessageMatching("thread '.+' \\(#\\d+\\) cannot execute on "
                + java.util.regex.Pattern.quote(name) + " \\(closed\\): a closed pool takes no more bodies");
        assertThat(late).as("dropped by the JDK").isNotDone();
    }

    /**
     * {@code closeNow()} unwinds a started task of a JDK class as any body, and the task, which catches what its
     * function throws, completes its future with the signal; it never starts a body waiting to start: a
     * {@code submit}'s future is cancelled, but a task a JDK class handed to {@code execute} is dropped, never
     * run, and the future that class made for it never completes ({@code supplyAsync}'s, a {@code FutureTask}'s
     * of an {@code ExecutorCompletionService}), as the tasks an {@code ExecutorService}'s {@code shutdownNow()}
     * hands back do unless their caller runs them.
     */
    @Test
    void closeNowDropsTheJdksTasksWaitingToStartSoTheirFuturesNeverComplete() {
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<Void> parking = new CompletableFuture<>();
        CompletableFuture<String> never = new CompletableFuture<>() {
            @Override
            public String toString() {
                return "never"; // one text, as the signal names it
            }
        };
        CompletableFuture<String> parked = CompletableFuture.supplyAsync(() -> {
            parking.complete(null);
            return Coroutine.await(never); // never completed
        }, pool);
        awaited(parking);
        CountDownLatch hold = new CountDownLatch(1);
        CompletableFuture<Void> holding = new CompletableFuture<>();
        pool.execute(() -> {
            holding.complete(null);
            try {
                hold.await(); // holds the pool thread: the bodies below wait to start
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        awaited(holding);
        CompletableFuture<String> supplied = CompletableFuture.supplyAsync(() -> "never", pool);
        ExecutorCompletionService<String> service = new ExecutorCompletionService<>(pool);
        Future<String> serviced = service.submit(() -> "never");
        CompletableFuture<String> submitted = pool.submit(() -> "never");
        Coroutine.create("releaser", hold::countDown); // runs once main parks in closeNow(), the pool closing
        Coroutine.withTimeout(GUARD, pool::closeNow);
        assertThat(submitted.isCancelled()).isTrue();
        assertThat(catchThrowable(parked::join)).as("the JDK's task caught the signal that unwound it")
                .isExactlyInstanceOf(CompletionException.class).cause().isExactlyInstanceOf(CoroutineExit.class)
                .hasMessage("coroutine 'coroutine-1' is being closed: its await never throws this signal so that it unwinds"
                        + " (state RUNNING, closing)");
        assertThat(supplied).isNotDone();
        assertThat(serviced).isNotDone();
        assertThat(service.poll()).isNull();
    }
}
