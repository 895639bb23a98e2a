package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A thread of an executor that runs one task after another is one thread to coro: what a task leaves
 * on it (a coroutine it did not close, that coroutine's failure, the mark of an exchange with another
 * thread) is the next task's, and what a task closes before it returns leaves the next one nothing.
 */
class ReusedPoolThreadTest {

    /** One worker thread, so that every task of a test runs on the same thread, one after the other. */
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> new Thread(r, "worker"));

    @AfterEach
    void shutDown() throws InterruptedException {
        worker.shutdownNow();
        assertThat(worker.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    }

    /** Runs {@code task} on the worker and returns its value; what it threw comes as it is. */
    private <T> T onWorker(Callable<T> task) throws Exception {
        Future<T> f = worker.submit(task);
        try {
            return f.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw e;
        }
    }

    /** Runs {@code task} on the worker and returns what it threw (null if it returned). */
    private Throwable thrownOnWorker(Callable<?> task) throws Exception {
        try {
            onWorker(task);
            return null;
        } catch (Exception e) {
            return e;
        }
    }

    /** The worker as the library's messages name it. */
    private String workerName() throws Exception {
        return onWorker(ThreadNames::thread);
    }

    /** A task that leaves a coroutine 'left' parked in a receive from channel 'jobs', never closed; returns it. */
    private static Coroutine leaveAParkedCoroutine() {
        Channel<String> jobs = new Channel<>("jobs", 0);
        Coroutine left = Coroutine.create("left", () -> jobs.receive());
        left.switchTo();
        return left;
    }

    @Test
    @Timeout(60)
    void aCoroutineATaskLeftParkedIsInTheNextTasksDumpAndDeadlockReport() throws Exception {
        String name = workerName();
        onWorker(ReusedPoolThreadTest::leaveAParkedCoroutine);

        String dump = onWorker(() -> Coroutine.dump());
        Throwable e = thrownOnWorker(() -> new Channel<String>("mine", 0).receive());

        assertThat(dump).startsWith("thread 'worker': 2 contexts, current index 0\n")
                .contains("\n  [1] coroutine 'left': PARKED, waits to receive from channel 'jobs'\n");
        assertThat(e).isInstanceOf(DeadlockException.class);
        assertThat(e.getMessage()).isEqualTo("main context 'main' cannot receive from channel 'mine': every other context of"
                + " thread " + name + " is parked and no timer is pending, so nothing could ever wake it (deadlock):\n"
                + "  main context 'main' would wait to receive from channel 'mine'\n"
                + "  coroutine 'left' waits to receive from channel 'jobs'");
    }

    @Test
    @Timeout(60)
    void theCoroutinesOfATaskThatThrewADeadlockStayParkedForTheNextTask() throws Exception {
        String name = workerName();
        Throwable e = thrownOnWorker(() -> {
            leaveAParkedCoroutine();
            return new Channel<String>("mine", 0).receive();
        });

        String dump = onWorker(() -> Coroutine.dump());

        assertThat(e).isInstanceOf(DeadlockException.class);
        assertThat(e.getMessage()).isEqualTo("main context 'main' cannot receive from channel 'mine': every other context of"
                + " thread " + name + " is parked and no timer is pending, so nothing could ever wake it (deadlock):\n"
                + "  main context 'main' would wait to receive from channel 'mine'\n"
                + "  coroutine 'left' waits to receive from channel 'jobs'");
        assertThat(dump).startsWith("thread 'worker': 2 contexts, current index 0\n")
                .contains("\n  [1] coroutine 'left': PARKED, waits to receive from channel 'jobs'\n");
    }

    @Test
    @Timeout(60)
    void aVirtualTimeRunAfterATaskLeftACoroutineIsRefusedNamingItAndRunsOnceTheNextTaskClosedIt() throws Exception {
        String name = workerName();
        Coroutine left = onWorker(ReusedPoolThreadTest::leaveAParkedCoroutine);

        Throwable refused = thrownOnWorker(() -> {
            VirtualTime.run(() -> { });
            return null;
        });
        String ran = onWorker(() -> {
            left.close();
            List<String> log = new ArrayList<>();
            VirtualTime.run(() -> {
                Coroutine.sleep(Duration.ofSeconds(1));
                log.add("slept until " + Coroutine.nanoTime() / 1_000_000 + " ms");
            });
            return log + " " + left.state();
        });

        assertThat(refused).isInstanceOf(IllegalStateException.class);
        assertThat(refused.getMessage()).isEqualTo("main context 'main' of thread " + name
                + " (state RUNNING) cannot start VirtualTime.run: its thread has 1 live coroutine (coroutine 'left' PARKED, waits to receive from channel 'jobs'); virtual time"
                + " needs a thread with none: close them first, or run on a thread of its own (an earlier task of a pool's"
                + " thread, or a test that failed, leaves on its thread the coroutines it did not close)");
        assertThat(ran).isEqualTo("[slept until 1000 ms] CLOSED");
    }

    @Test
    @Timeout(60)
    void theFailureOfACoroutineATaskLeftSuspendedReachesTheNextTaskAtItsFirstYield() throws Exception {
        onWorker(() -> {
            Coroutine.create("failer", () -> {
                Coroutine.yield();
                throw new IllegalArgumentException("boom");
            }).switchTo();
            return null;
        });

        Throwable e = thrownOnWorker(() -> {
            Coroutine.yield(); // runs failer, which the first task left suspended at its yield
            return null;
        });
        String after = onWorker(() -> {
            Coroutine.yield();
            return "yielded with nothing left";
        });

        assertThat(e).isInstanceOf(CoroutineException.class).hasCauseInstanceOf(IllegalArgumentException.class);
        assertThat(e.getMessage()).isEqualTo("coroutine 'failer' failed: java.lang.IllegalArgumentException: boom");
        assertThat(after).isEqualTo("yielded with nothing left");
    }

    @Test
    @Timeout(60)
    void aTaskThatClosesItsCoroutinesBeforeItReturnsLeavesTheNextTaskOnlyMain() throws Exception {
        String name = workerName();
        onWorker(() -> {
            Channel<String> jobs = new Channel<>("jobs", 0);
            try (Coroutine c = Coroutine.create("closed", () -> jobs.receive())) {
                c.switchTo();
            }
            return null;
        });

        Throwable e = thrownOnWorker(() -> new Channel<String>("mine", 0).receive());

        assertThat(e).isInstanceOf(DeadlockException.class);
        assertThat(e.getMessage()).isEqualTo("main context 'main' cannot receive from channel 'mine': every other context of"
                + " thread " + name + " is parked and no timer is pending, so nothing could ever wake it (deadlock):\n"
                + "  main context 'main' would wait to receive from channel 'mine'");
    }

    @Test
    @Timeout(60)
    void aTaskThatThrowsTheExceptionOfAnExpiredWithTimeoutLeavesNoTimerForTheNextTasksVirtualTimeRun() throws Exception {
        Throwable e = thrownOnWorker(() -> {
            Coroutine.withTimeout(Duration.ofMillis(1), () -> Coroutine.sleep(Duration.ofHours(1)));
            return null;
        });
        String ran = onWorker(() -> {
            List<String> log = new ArrayList<>();
            VirtualTime.run(() -> {
                Coroutine.sleep(Duration.ofSeconds(2));
                log.add("slept until " + Coroutine.nanoTime() / 1_000_000 + " ms");
            });
            return log.toString();
        });

        assertThat(e).isInstanceOf(CoroutineTimeoutException.class);
        assertThat(e.getMessage()).isEqualTo("main context 'main' timed out: withTimeout(PT0.001S) expired before its body returned");
        assertThat(ran).isEqualTo("[slept until 2000 ms]");
    }

    /**
     * An exchange with another thread (here an await) marks the thread for life: a later task's wait on a
     * channel of its own, with nothing else to run, is no deadlock then but a wait for a wake-up that may
     * come from another thread, so it waits (bounded here by a {@code withTimeout}) where a thread that never
     * exchanged anything is told of its deadlock at once.
     */
    @Test
    @Timeout(60)
    void afterATaskAwaitedAFutureALaterTasksWaitOnItsOwnChannelWaitsInsteadOfBeingReportedADeadlock() throws Exception {
        CompletableFuture<String> answer = CompletableFuture.completedFuture("answered");
        assertThat(onWorker(() -> Coroutine.await(answer))).isEqualTo("answered");

        Throwable e = thrownOnWorker(() -> Coroutine.withTimeout(Duration.ofMillis(20),
                () -> new Channel<String>("mine", 0).receive()));

        assertThat(e).isInstanceOf(CoroutineTimeoutException.class);
        assertThat(e.getMessage()).isEqualTo("main context 'main' timed out: withTimeout(PT0.02S) expired before its body returned");
    }

    /**
     * Only a {@code ForkJoinPool} may start another worker while one waits: on a thread of any other
     * executor an await blocks the thread as a {@code get()} there does, so a task that would complete the
     * future, queued behind it on the same thread, runs only once the await has given up.
     */
    @Test
    @Timeout(60)
    void anAwaitOnTheOneThreadOfAnExecutorStarvesTheTaskQueuedBehindItThatWouldCompleteItsFuture() throws Exception {
        CompletableFuture<String> answer = new CompletableFuture<>();
        CompletableFuture<Void> awaiting = new CompletableFuture<>();
        Future<Throwable> first = worker.submit(() -> {
            awaiting.complete(null);
            try {
                return Coroutine.withTimeout(Duration.ofMillis(20), () -> {
                    Coroutine.await(answer);
                    return null;
                });
            } catch (CoroutineTimeoutException t) {
                return t;
            }
        });
        awaiting.get(30, TimeUnit.SECONDS);
        Future<Boolean> second = worker.submit(() -> answer.complete("too late"));

        Throwable e = first.get(30, TimeUnit.SECONDS);
        assertThat(second.get(30, TimeUnit.SECONDS)).isTrue();

        assertThat(e).isInstanceOf(CoroutineTimeoutException.class);
        assertThat(e.getMessage()).isEqualTo("main context 'main' timed out: withTimeout(PT0.02S) expired before its body returned");
        assertThat(answer.getNow(null)).isEqualTo("too late");
    }
}
