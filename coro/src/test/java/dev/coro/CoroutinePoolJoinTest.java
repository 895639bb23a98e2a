package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The blocking reads of a {@link CoroutinePool#submit} future ({@code join()}, {@code get()}, a timed
 * {@code get}) on a thread with a scheduler park only the calling context, as {@link Coroutine#await}
 * does: the thread's other contexts, and the operations other threads posted to it (the first use of
 * one of its channels), run meanwhile. A thread without a scheduler blocks as the JDK does.
 *
 * <p>Each program runs on a thread of its own, bounded by {@link #GUARD}: a read that blocks its
 * thread leaves a pool body waiting on that thread's channel for ever, and the test then fails
 * instead of hanging.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
class CoroutinePoolJoinTest {

    /** A bound for programs that are expected to end long before it: a guard against a hang. */
    static final Duration GUARD = Duration.ofSeconds(20);

    private final List<String> events = Collections.synchronizedList(new ArrayList<>());

    /**
     * Runs {@code program} on a new platform thread (which has no scheduler until the program makes
     * one) and returns its value or rethrows what it threw; fails the test, with the thread's stack,
     * if it has not finished within {@link #GUARD}.
     */
    static <T> T finishing(Callable<T> program) throws Exception {
        CompletableFuture<T> outcome = new CompletableFuture<>();
        Thread thread = new Thread(() -> {
            try {
                outcome.complete(program.call());
            } catch (Throwable e) {
                outcome.completeExceptionally(e);
            }
        }, "program");
        thread.setDaemon(true);
        thread.start();
        try {
            return outcome.get(GUARD.toSeconds(), TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("the program hung (not finished after " + GUARD + "); its thread's stack:\n"
                    + Arrays.toString(thread.getStackTrace()).replace(", ", "\n    "));
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception x) {
                throw x;
            }
            throw (Error) e.getCause();
        }
    }

    /** Closes {@code pool}, failing rather than hanging if the close does not end within {@link #GUARD}. */
    static void close(CoroutinePool pool) {
        Coroutine.withTimeout(GUARD, pool::close);
    }

    /** The program of docs/THREADS.md: two bodies use a channel of the submitting thread; the sum is read with {@code read}. */
    private static int sumOfTheNumbers(ThrowingRead<Integer> read) throws Exception {
        CoroutinePool pool = CoroutinePool.start(2);
        try {
            Channel<Integer> ch = new Channel<>("numbers", 0); // made by this thread
            pool.submit(() -> {
                for (int i = 1; i <= 3; i++) {
                    ch.send(i);
                }
                ch.close();
                return null;
            });
            CompletableFuture<Integer> sum = pool.submit(() -> {
                int s = 0;
                for (int v : ch) {
                    s += v;
                }
                return s;
            });
            return read.read(sum);
        } finally {
            close(pool);
        }
    }

    /** A read of a future that may throw what {@code get()} throws. */
    private interface ThrowingRead<T> {
        T read(CompletableFuture<T> f) throws Exception;
    }

    @Test
    void joinOfABodyThatUsesTheCallersChannelGivesItsValue() throws Exception {
        assertThat(finishing(() -> sumOfTheNumbers(CompletableFuture::join))).isEqualTo(6);
    }

    @Test
    void getOfABodyThatUsesTheCallersChannelGivesItsValue() throws Exception {
        assertThat(finishing(() -> sumOfTheNumbers(CompletableFuture::get))).isEqualTo(6);
    }

    /** A body that first sends on {@code ch}, a buffered channel of the caller's (posted to the caller), then throws. */
    private static CompletableFuture<String> failingAfterUsing(CoroutinePool pool, Channel<String> ch) {
        return pool.submit(() -> {
            ch.send("sent");
            throw new IllegalStateException("body failed");
        });
    }

    @Test
    void joinOfAFailedBodyThrowsCompletionExceptionWithTheFailureAndCloseDoesNotReportIt() throws Exception {
        Throwable thrown = finishing(() -> {
            CoroutinePool pool = CoroutinePool.start(1);
            try {
                Channel<String> ch = new Channel<>("replies", 1);
                return catchThrowable(failingAfterUsing(pool, ch)::join);
            } finally {
                close(pool); // throws if the failure read through join() did not count as read
            }
        });
        assertThat(thrown).isExactlyInstanceOf(CompletionException.class)
                .cause().isExactlyInstanceOf(IllegalStateException.class).hasMessage("body failed");
    }

    @Test
    void getOfAFailedBodyThrowsExecutionExceptionWithTheFailureAndCloseDoesNotReportIt() throws Exception {
        Throwable thrown = finishing(() -> {
            CoroutinePool pool = CoroutinePool.start(1);
            try {
                Channel<String> ch = new Channel<>("replies", 1);
                return catchThrowable(failingAfterUsing(pool, ch)::get);
            } finally {
                close(pool);
            }
        });
        assertThat(thrown).isExactlyInstanceOf(ExecutionException.class)
                .cause().isExactlyInstanceOf(IllegalStateException.class).hasMessage("body failed");
    }

    /** A future cancelled by another coroutine of the joining thread, which runs while the caller waits in join() / get(). */
    @Test
    void aFutureCancelledByAnotherCoroutineOfTheThreadWhileTheCallerWaitsThrowsCancellationException() throws Exception {
        List<Throwable> thrown = finishing(() -> {
            CoroutinePool pool = CoroutinePool.start(1);
            CompletableFuture<Void> gate = new CompletableFuture<>();
            try {
                List<Throwable> seen = new ArrayList<>();
                for (ThrowingRead<String> read : List.<ThrowingRead<String>>of(CompletableFuture::join, CompletableFuture::get)) {
                    CompletableFuture<String> f = pool.submit(() -> {
                        Coroutine.await(gate);
                        return "too late";
                    });
                    Coroutine.create("canceller", () -> {
                        events.add("canceller runs");
                        f.cancel(false);
                    });
                    events.add("main reads");
                    seen.add(catchThrowable(() -> read.read(f)));
                    events.add("main was told");
                }
                return seen;
            } finally {
                gate.complete(null);
                close(pool);
            }
        });
        assertThat(thrown).hasSize(2).allSatisfy(t -> assertThat(t).isInstanceOf(CancellationException.class));
        assertThat(events).containsExactly("main reads", "canceller runs", "main was told",
                "main reads", "canceller runs", "main was told");
    }

    /**
     * The {@link CancellationException} of a read of a cancelled future names the caller, the read and
     * the future, as an await of it does (the JDK's, which names only the JDK's method, is its cause): in a
     * coroutine, in the main context of a thread with a scheduler, and on a thread without one (which
     * still gets none); an await of it is unchanged.
     */
    @Test
    void theReadsOfACancelledFutureThrowACancellationExceptionNamingTheCallerTheReadAndTheFuture() throws Exception {
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        try {
            CompletableFuture<String> f = pool.submit(() -> {
                Coroutine.await(gate);
                return "too late";
            });
            f.cancel(false);
            List<ThrowingRead<String>> reads = List.of(CompletableFuture::join, CompletableFuture::get, g -> g.get(1, TimeUnit.DAYS));
            List<Object> plain = finishing(() -> {
                List<Object> seen = new ArrayList<>();
                for (ThrowingRead<String> read : reads) {
                    seen.add(catchThrowable(() -> read.read(f)));
                }
                seen.add(Scheduler.currentOrNull() == null);
                return seen;
            });
            assertThat(plain.getLast()).as("the thread still has no scheduler").isEqualTo(true);
            List<Throwable> inReader = new ArrayList<>();
            Coroutine.create("reader", () -> reads.forEach(read -> inReader.add(catchThrowable(() -> read.read(f))))).switchTo();
            Throwable inMain = catchThrowable(f::join);
            String future = "the future of submit #1 to " + PoolName.of(pool)
                    + "[Completed exceptionally: java.util.concurrent.CancellationException]";
            List<String> expected = new ArrayList<>();
            for (String who : List.of("thread 'program' \\(#\\d+\\)", "coroutine 'reader'")) {
                for (String read : List.of("join", "get", "get")) {
                    expected.add(who + " cannot " + read + " " + java.util.regex.Pattern.quote(future) + ": it was cancelled");
                }
            }
            expected.add("main context 'main' cannot join " + java.util.regex.Pattern.quote(future) + ": it was cancelled");
            List<Throwable> thrown = new ArrayList<>();
            plain.subList(0, 3).forEach(t -> thrown.add((Throwable) t));
            thrown.addAll(inReader);
            thrown.add(inMain);
            assertThat(thrown).hasSize(7);
            for (int i = 0; i < thrown.size(); i++) {
                assertThat(thrown.get(i)).as("read %d", i).isExactlyInstanceOf(CancellationException.class)
                        .hasMessageMatching(expected.get(i))
                        .cause().isExactlyInstanceOf(CancellationException.class);
            }
            assertThat(catchThrowable(() -> Coroutine.await(f))).isExactlyInstanceOf(CancellationException.class)
                    .hasMessage("main context 'main' cannot await " + future + ": it was cancelled")
                    .cause().isExactlyInstanceOf(CancellationException.class);
            CompletableFuture<String> g = pool.submit(() -> {
                Coroutine.await(gate);
                return "too late";
            });
            Channel<Throwable> told = new Channel<>("told", 1);
            Coroutine.create("awaiter", () -> told.send(catchThrowable(() -> Coroutine.await(g)))).switchTo();
            g.cancel(false);
            assertThat(told.receive()).as("an await cancelled while it waits").isExactlyInstanceOf(CancellationException.class)
                    .hasMessage("coroutine 'awaiter' cannot await the future of submit #2 to " + PoolName.of(pool)
                            + "[Completed exceptionally: java.util.concurrent.CancellationException]: it was cancelled")
                    .cause().isExactlyInstanceOf(CancellationException.class).hasMessageNotContaining("cannot");
            assertThat(catchThrowable(() -> new Select<String>().onComplete(f, v -> v).select()))
                    .as("an onComplete clause, which names the clause").isExactlyInstanceOf(CancellationException.class)
                    .hasMessage("main context 'main' cannot select: its clause onComplete(" + future + ") fired on a cancelled stage")
                    .cause().isExactlyInstanceOf(CancellationException.class).hasMessageNotContaining("cannot");
        } finally {
            gate.complete(null);
            close(pool);
        }
    }

    /**
     * A timed get that expires throws a {@link TimeoutException} naming the caller, the read and the
     * future, having let the thread's other coroutine run meanwhile; the body goes on, and its value
     * is there for a later join.
     */
    @Test
    void aTimedGetThatExpiresThrowsTimeoutExceptionAndTheValueComesLater() throws Exception {
        List<Object> outcome = finishing(() -> {
            CoroutinePool pool = CoroutinePool.start(1);
            try {
                Channel<String> ch = new Channel<>("requests", 0);
                CompletableFuture<String> f = pool.submit(() -> ch.receive() + " answered");
                Coroutine.create("other", () -> events.add("other runs while main waits"));
                Throwable timedOut = catchThrowable(() -> f.get(20, TimeUnit.MILLISECONDS));
                String shown = f.toString(); // as the message shows it: not complete, the expired wait's dependent left
                events.add("get timed out");
                boolean doneThen = f.isDone();
                ch.send("request");
                return List.of(timedOut, doneThen, f.join(), shown);
            } finally {
                close(pool);
            }
        });
        assertThat(outcome.get(0)).isExactlyInstanceOf(TimeoutException.class);
        assertThat(outcome.get(3)).asString().startsWith("the future of submit #1 to coro-pool-").contains("[Not completed");
        assertThat(((Throwable) outcome.get(0)).getMessage())
                .isEqualTo("main context 'main' timed out in get(20 MILLISECONDS) of " + outcome.get(3) + ": it is still not complete");
        assertThat(outcome.subList(1, 3)).containsExactly(false, "request answered");
        assertThat(events).containsExactly("other runs while main waits", "get timed out");
    }

    /**
     * Timed gets that expire, again and again, leave nothing behind: the future keeps the thread's one
     * completion callback (as for awaits interrupted by a timeout), and the thread no wait or timer.
     */
    @Test
    void timedGetsThatExpireAgainAndAgainLeaveOneCallbackOnTheFuture() throws Exception {
        List<Object> outcome = finishing(() -> {
            CoroutinePool pool = CoroutinePool.start(1);
            CompletableFuture<Void> gate = new CompletableFuture<>();
            try {
                CompletableFuture<String> f = pool.submit(() -> {
                    Coroutine.await(gate);
                    return "at last";
                });
                Coroutine.yield(); // this thread uses coro: it has a scheduler
                List<Integer> dependents = new ArrayList<>();
                for (int i = 0; i < 5; i++) {
                    Throwable t = catchThrowable(() -> f.get(1, TimeUnit.MILLISECONDS));
                    assertThat(t).isExactlyInstanceOf(TimeoutException.class).hasMessageContaining("timed out in get(1 MILLISECONDS)");
                    dependents.add(f.getNumberOfDependents());
                }
                boolean pending = Scheduler.current().loop.hasPending();
                gate.complete(null);
                return List.of(dependents, pending, f.join());
            } finally {
                gate.complete(null);
                close(pool);
            }
        });
        assertThat(outcome).containsExactly(List.of(1, 1, 1, 1, 1), false, "at last");
    }

    /**
     * Timed gets raced against bodies that end at about their timeout, many times (seeded): each gives
     * the value, or throws TimeoutException and a later join gives it; none leaves a timer, a wait
     * counted on the thread, or more than the thread's one callback on a future not complete.
     */
    @Test
    void aTimedGetRacingTheBodysEndGivesTheValueOrTimesOutAndLeavesNothingBehind() throws Exception {
        List<String> wrong = finishing(() -> {
            CoroutinePool pool = CoroutinePool.start(1);
            java.util.Random random = new java.util.Random(20261202);
            List<String> seen = new ArrayList<>();
            try {
                Coroutine.yield(); // this thread uses coro: it has a scheduler
                EventLoop loop = Scheduler.current().loop;
                for (int i = 0; i < 500; i++) {
                    long bodyNanos = TimeUnit.MICROSECONDS.toNanos(100 + random.nextInt(300));
                    long getMicros = 100 + random.nextInt(300);
                    int n = i;
                    CompletableFuture<Integer> f = pool.submit(() -> {
                        long end = System.nanoTime() + bodyNanos;
                        while (System.nanoTime() < end) {
                            Thread.onSpinWait(); // ends on the pool thread at about the get's timeout
                        }
                        return n;
                    });
                    try {
                        int v = f.get(getMicros, TimeUnit.MICROSECONDS);
                        if (v != n) {
                            seen.add(i + ": got " + v);
                        }
                    } catch (TimeoutException e) {
                        int dependents = f.getNumberOfDependents();
                        if (dependents > 1 && !f.isDone()) {
                            seen.add(i + ": " + dependents + " callbacks");
                        }
                        if (f.join() != n) {
                            seen.add(i + ": joined another value");
                        }
                    }
                    if (loop.hasTimers() || loop.hasForeignWaits()) {
                        seen.add(i + ": a timer or a wait left");
                    }
                }
                return seen;
            } finally {
                close(pool);
            }
        });
        assertThat(wrong).isEmpty();
    }

    /**
     * Reads of one future by bodies of one pool thread, one ended by the cancel of its own future (its coroutine
     * closed from this thread), one by its {@code withTimeout}: each leaves the future's queue on that thread alone,
     * and the reads beside it ({@code join()}, {@code get()}, a timed {@code get}) are each woken once with the value
     * when it comes. A read ended by {@code closeNow()} of its pool fails its body's future with the exit signal and
     * leaves the value to a later read.
     */
    @Test
    void readsOfAPoolThreadEndedByACancelATimeoutOrCloseNowLeaveTheOtherReadsTheirWakeUpAndTheValueToALaterRead()
            throws Exception {
        List<Object> outcome = finishing(() -> {
            CoroutinePool target = CoroutinePool.start(1);
            CoroutinePool readers = CoroutinePool.start(1);
            CompletableFuture<Void> gate = new CompletableFuture<>();
            CompletableFuture<Void> secondGate = new CompletableFuture<>();
            try {
                CompletableFuture<String> f = target.submit("answer", () -> {
                    Coroutine.await(gate);
                    return "value";
                });
                CountDownLatch reading = new CountDownLatch(5);
                CountDownLatch cancelledUnwound = new CountDownLatch(1);
                CompletableFuture<String> cancelled = readers.submit("cancelled join", () -> {
                    reading.countDown();
                    try {
                        return f.join();
                    } finally {
                        cancelledUnwound.countDown();
                    }
                });
                CompletableFuture<String> timedOut = readers.submitCallable("timed out get", () -> {
                    reading.countDown();
                    return Coroutine.callWithTimeout(Duration.ofMillis(20), () -> f.get());
                });
                CompletableFuture<String> joined = readers.submit("join", () -> {
                    reading.countDown();
                    return f.join();
                });
                CompletableFuture<String> got = readers.submitCallable("get", () -> {
                    reading.countDown();
                    return f.get();
                });
                CompletableFuture<String> timedGot = readers.submitCallable("timed get", () -> {
                    reading.countDown();
                    return f.get(1, TimeUnit.HOURS);
                });
                List<Object> seen = new ArrayList<>();
                seen.add(reading.await(GUARD.toSeconds(), TimeUnit.SECONDS));
                seen.add(cancelled.cancel(true));
                seen.add(cancelledUnwound.await(GUARD.toSeconds(), TimeUnit.SECONDS));
                Throwable timeout = catchThrowable(() -> Coroutine.withTimeout(GUARD, () -> Coroutine.await(timedOut)));
                seen.add(timeout.getClass().getSimpleName() + ": " + timeout.getCause().getClass().getSimpleName());
                seen.add(f.isDone());
                gate.complete(null);
                for (CompletableFuture<String> read : List.of(joined, got, timedGot)) {
                    seen.add(Coroutine.withTimeout(GUARD, () -> Coroutine.await(read)));
                }

                CompletableFuture<String> second = target.submit("second answer", () -> {
                    Coroutine.await(secondGate);
                    return "second value";
                });
                CountDownLatch closedReading = new CountDownLatch(1);
                CompletableFuture<String> closedNow = readers.submit("closed now", () -> {
                    closedReading.countDown();
                    return second.join();
                });
                seen.add(closedReading.await(GUARD.toSeconds(), TimeUnit.SECONDS));
                Coroutine.withTimeout(GUARD, readers::closeNow);
                Throwable ended = catchThrowable(closedNow::join);
                seen.add(ended.getClass().getSimpleName() + ": " + ended.getCause().getClass().getSimpleName());
                seen.add(second.isDone());
                secondGate.complete(null);
                seen.add(second.join());
                seen.add(f.join());
                return seen;
            } finally {
                gate.complete(null);
                secondGate.complete(null);
                Coroutine.withTimeout(GUARD, readers::closeNow);
                close(target);
            }
        });
        assertThat(outcome).containsExactly(true, true, true, "CompletionException: CoroutineTimeoutException", false,
                "value", "value", "value", true, "CompletionException: CoroutineExit", false, "second value", "value");
    }

    /** A join interrupted by close() of its coroutine leaves no wait on the thread, and the pool's close ends. */
    @Test
    void aJoinInterruptedByCloseOfItsCoroutineLeavesNoWaitBehind() throws Exception {
        List<Object> outcome = finishing(() -> {
            CoroutinePool pool = CoroutinePool.start(1);
            CompletableFuture<Void> gate = new CompletableFuture<>();
            try {
                CompletableFuture<String> f = pool.submit(() -> {
                    Coroutine.await(gate);
                    return "value";
                });
                List<Object> seen = new ArrayList<>();
                Coroutine joiner = Coroutine.create("joiner", () -> {
                    try {
                        f.join();
                    } catch (CoroutineExit e) {
                        seen.add("join threw " + e.getClass().getSimpleName());
                        throw e;
                    }
                });
                joiner.switchTo();
                seen.add(joiner.state());
                joiner.close();
                seen.add(joiner.state());
                seen.add(Scheduler.current().loop.hasForeignWaits());
                seen.add(f.getNumberOfDependents());
                gate.complete(null);
                seen.add(f.join());
                return seen;
            } finally {
                gate.complete(null);
                close(pool);
            }
        });
        assertThat(outcome).containsExactly(Coroutine.State.PARKED, "join threw CoroutineExit", Coroutine.State.CLOSED,
                false, 1, "value");
    }

    /** A timed get of zero or less does not wait, as the JDK's: done, its value; not done, a TimeoutException at once. */
    @Test
    void aTimedGetOfZeroOrLessDoesNotWait() throws Exception {
        List<Object> outcome = finishing(() -> {
            CoroutinePool pool = CoroutinePool.start(1);
            CompletableFuture<Void> gate = new CompletableFuture<>();
            try {
                CompletableFuture<String> done = pool.submit(() -> "done");
                CompletableFuture<String> waiting = pool.submit(() -> {
                    Coroutine.await(gate);
                    return "waited";
                });
                Coroutine.await(done);
                return List.of(done.get(0, TimeUnit.SECONDS), done.get(-1, TimeUnit.SECONDS),
                        catchThrowable(() -> waiting.get(0, TimeUnit.SECONDS)),
                        catchThrowable(() -> waiting.get(-5, TimeUnit.MILLISECONDS)));
            } finally {
                gate.complete(null);
                close(pool);
            }
        });
        assertThat(outcome.subList(0, 2)).containsExactly("done", "done");
        assertThat(outcome.subList(2, 4)).allSatisfy(t -> assertThat(t).isExactlyInstanceOf(TimeoutException.class));
    }

    /** Inside a coroutine, join() parks only it: another context of the thread runs meanwhile and lets the body finish. */
    @Test
    void joinInsideACoroutineParksOnlyThatCoroutine() throws Exception {
        finishing(() -> {
            CoroutinePool pool = CoroutinePool.start(1);
            try {
                Channel<String> go = new Channel<>("go", 0);
                CompletableFuture<String> f = pool.submit(() -> go.receive() + "!");
                CompletableFuture<Void> ended = new CompletableFuture<>();
                Coroutine joiner = Coroutine.create("joiner", () -> {
                    events.add("joiner joins");
                    events.add("joiner got " + f.join());
                    ended.complete(null);
                });
                Coroutine.yield(); // the joiner runs until its join parks it
                events.add("main sends, the joiner " + joiner.state());
                go.send("go");
                Coroutine.await(ended);
                return null;
            } finally {
                close(pool);
            }
        });
        assertThat(events).containsExactly("joiner joins", "main sends, the joiner PARKED", "joiner got go!");
    }

    /**
     * A body on a pool of one thread that submits another body and joins it: the join parks the
     * first body, so the thread starts the second (a join that blocked the thread would wait for a
     * body that thread never starts).
     */
    @Test
    void aBodyJoiningAnotherBodyOfItsOwnPoolThreadLetsThatThreadRunIt() throws Exception {
        String joined = finishing(() -> {
            CoroutinePool pool = CoroutinePool.start(1);
            try {
                CompletableFuture<String> outer = pool.submit(() -> {
                    String inner = pool.submit(() -> "inner").join();
                    return "outer joined " + inner;
                });
                return outer.join(); // this thread has no scheduler: the JDK's join
            } finally {
                close(pool);
            }
        });
        assertThat(joined).isEqualTo("outer joined inner");
    }

    /**
     * A dump names each wait by its read ({@code join}, {@code get}, {@code get(1 HOURS)}) and the future
     * by the submission it is, or is derived from, with its state; so does the signal of a withTimeout
     * that expired in a join, and the TimeoutException of a timed get.
     */
    @Test
    void aDumpATimeoutAndItsSignalNameTheReadAndTheSubmissionItWaitsFor() throws Exception {
        List<String> outcome = finishing(() -> {
            CoroutinePool pool = CoroutinePool.start(1);
            CompletableFuture<Void> gate = new CompletableFuture<>();
            try {
                CompletableFuture<String> f = pool.submit(() -> {
                    Coroutine.await(gate);
                    return "v";
                });
                Coroutine.create("joiner", f::join);
                Coroutine.create("getter", () -> catchThrowable(f::get));
                Coroutine.create("timed getter", () -> catchThrowable(() -> f.get(1, TimeUnit.HOURS)));
                Coroutine.create("derived joiner", () -> f.thenApply(v -> v).join());
                Coroutine.yield(); // each parks in its read
                String dump = Coroutine.dump();
                Throwable expired = catchThrowable(() -> Coroutine.withTimeout(Duration.ofMillis(1), f::join));
                Throwable timedOut = catchThrowable(() -> f.get(1, TimeUnit.MILLISECONDS));
                gate.complete(null);
                f.join();
                return List.of(pool.toString(), dump, expired.getCause().getMessage(), timedOut.getMessage());
            } finally {
                gate.complete(null);
                close(pool);
            }
        });
        String pool = outcome.get(0).substring("CoroutinePool[".length(), outcome.get(0).indexOf(','));
        String future = "the future of submit #1 to " + pool + "[Not completed, ";
        assertThat(outcome.get(1)).contains("coroutine 'joiner': PARKED, waits to join " + future,
                "coroutine 'getter': PARKED, waits to get " + future,
                "coroutine 'timed getter': PARKED, waits to get(1 HOURS) " + future,
                "coroutine 'derived joiner': PARKED, waits to join a stage of " + future)
                .contains("at dev.coro.PoolFuture.get(").doesNotContain("FutureWait", "parkUntilDone", "parkAtMost");
        assertThat(outcome.get(2)).contains("its join " + future);
        assertThat(outcome.get(3)).startsWith("main context 'main' timed out in get(1 MILLISECONDS) of " + future)
                .endsWith(": it is still not complete");
    }

    /**
     * A body that joins its own future waits until someone else settles it (here, the caller cancels
     * it, and its join throws CancellationException): no deadlock is reported, since another thread
     * may; meanwhile the pool thread's dump shows the body's wait as a join of that very submission,
     * from the user's call of {@code join}, with no frame of the machinery above it.
     */
    @Test
    void aBodyJoiningItsOwnFutureIsShownInTheDumpAndACancelReleasesIt() throws Exception {
        List<String> outcome = finishing(() -> {
            CoroutinePool pool = CoroutinePool.start(1);
            try {
                CompletableFuture<CompletableFuture<String>> own = new CompletableFuture<>();
                CompletableFuture<String> joinedBy = new CompletableFuture<>();
                CompletableFuture<String> f = pool.submit(() -> {
                    try {
                        return Coroutine.await(own).join();
                    } catch (CancellationException e) {
                        joinedBy.complete("the body's join threw CancellationException");
                        return "unreachable: its future was cancelled";
                    }
                });
                own.complete(f);
                String pool1 = pool.toString().substring("CoroutinePool[".length(), pool.toString().indexOf(','));
                String dump = "";
                long giveUp = System.nanoTime() + GUARD.toNanos(); // a bound in time: the pool's thread may be slow to get there
                while (!dump.contains("waits to join the future of submit #1 to " + pool1) && System.nanoTime() - giveUp < 0) {
                    dump = dev.coro.management.CoroutinesManagement.mxBean().dump(10); // until the body parks in its join
                }
                String section = dump.substring(dump.indexOf("thread '" + pool1 + "-0'"));
                f.cancel(false);
                return List.of(pool1, section.substring(0, section.indexOf("\n\n") < 0 ? section.length() : section.indexOf("\n\n")),
                        Coroutine.await(joinedBy));
            } finally {
                close(pool);
            }
        });
        assertThat(outcome.get(1)).containsPattern("waits to join the future of submit #1 to " + outcome.get(0)
                + "\\[Not completed, 1 dependents\\]\n        at dev\\.coro\\.PoolFuture\\.join\\([^\n]*\n"
                + "        at dev\\.coro\\.CoroutinePoolJoinTest\\.lambda\\$"); // the user's call of join, then the user's frames
        assertThat(outcome.get(2)).isEqualTo("the body's join threw CancellationException");
    }

    /** A join under withTimeout that expires throws CoroutineTimeoutException and leaves the future as it is. */
    @Test
    void joinUnderAnExpiredWithTimeoutThrowsCoroutineTimeoutExceptionAndLeavesTheFuture() throws Exception {
        List<Object> outcome = finishing(() -> {
            CoroutinePool pool = CoroutinePool.start(1);
            try {
                Channel<String> ch = new Channel<>("requests", 0);
                CompletableFuture<String> f = pool.submit(() -> ch.receive() + " answered");
                Throwable thrown = catchThrowable(() -> Coroutine.withTimeout(Duration.ofMillis(20), f::join));
                boolean doneThen = f.isDone();
                ch.send("request");
                return List.of(thrown, doneThen, f.join());
            } finally {
                close(pool);
            }
        });
        assertThat(outcome.get(0)).isExactlyInstanceOf(CoroutineTimeoutException.class);
        assertThat(outcome.subList(1, 3)).containsExactly(false, "request answered");
    }

    /**
     * A coroutine main created that fails while main waits in join() or get() ends that wait with the
     * failure, as it ends an await of main; the future is left as it is, and a later read gives its value.
     */
    @Test
    void aCoroutineFailingWhileMainJoinsEndsTheWaitWithItsFailureAndLeavesTheFuture() throws Exception {
        List<Object> outcome = finishing(() -> {
            CoroutinePool pool = CoroutinePool.start(1);
            try {
                Channel<String> ch = new Channel<>("requests", 0);
                CompletableFuture<String> f = pool.submit(() -> ch.receive() + " answered");
                Coroutine.create("bad", () -> {
                    throw new IllegalStateException("join");
                });
                Throwable joining = catchThrowable(f::join);
                Coroutine.create("worse", () -> {
                    throw new IllegalStateException("get");
                });
                Throwable getting = catchThrowable(f::get);
                boolean doneThen = f.isDone();
                ch.send("request");
                return List.of(String.valueOf(joining), String.valueOf(getting), doneThen, f.get());
            } finally {
                close(pool);
            }
        });
        assertThat(outcome).containsExactly(
                "dev.coro.CoroutineException: coroutine 'bad' failed: java.lang.IllegalStateException: join",
                "dev.coro.CoroutineException: coroutine 'worse' failed: java.lang.IllegalStateException: get",
                false, "request answered");
    }

    /**
     * An interrupt of the thread while its main waits in get() does not end the wait (the thread's
     * contexts share it, as for an await): get() gives the value once it comes, and the flag stays set.
     */
    @Test
    void anInterruptOfTheThreadDoesNotEndTheWaitAndStaysSet() throws Exception {
        List<Object> outcome = finishing(() -> {
            CoroutinePool pool = CoroutinePool.start(1);
            try {
                Thread self = Thread.currentThread();
                CompletableFuture<Void> gate = new CompletableFuture<>();
                CompletableFuture<String> f = pool.submit(() -> {
                    Coroutine.await(gate);
                    return "value";
                });
                Coroutine.create("interrupter", () -> new Thread(() -> { // runs once main waits in get()
                    self.interrupt();
                    gate.complete(null);
                }).start());
                String got = f.get();
                boolean interrupted = Thread.interrupted();
                return List.of(got, interrupted);
            } finally {
                close(pool);
            }
        });
        assertThat(outcome).containsExactly("value", true);
    }

    /**
     * A thread whose main waits in join(), with another coroutine parked, is idle in its event loop,
     * not blocked: the blocked-loop detector, sampled by hand over ten times its threshold, reports
     * nothing about it (a join that blocked the thread would never let the other coroutine run).
     */
    @Test
    void theBlockedLoopDetectorDoesNotReportAThreadWaitingInJoin() throws Exception {
        CompletableFuture<Scheduler> waiting = new CompletableFuture<>();
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<List<String>> reports = new CompletableFuture<>();
        Thread sampler = new Thread(() -> {
            try {
                Scheduler s = waiting.get(GUARD.toSeconds(), TimeUnit.SECONDS);
                long deadline = System.nanoTime() + GUARD.toNanos();
                while (!s.loop.isIdle() && System.nanoTime() < deadline) {
                    Thread.onSpinWait(); // until the thread has gone to sleep in its event loop
                }
                Watchdog w = Watchdog.unstarted(Duration.ofMillis(100));
                String me = "thread " + Scheduler.describe(s.owner) + " for ";
                long t = System.nanoTime();
                List<String> mine = new ArrayList<>();
                for (long ms : new long[] {0, 100, 500, 1000}) {
                    w.sample(t + TimeUnit.MILLISECONDS.toNanos(ms)).stream().filter(r -> r.contains(me)).forEach(mine::add);
                }
                reports.complete(mine);
            } catch (Throwable e) {
                reports.completeExceptionally(e);
            } finally {
                gate.complete(null);
            }
        }, "sampler");
        sampler.start();
        String joined = finishing(() -> {
            CoroutinePool pool = CoroutinePool.start(1);
            try {
                CompletableFuture<String> f = pool.submit(() -> {
                    Coroutine.await(gate);
                    return "joined";
                });
                Channel<String> never = new Channel<>("never", 0);
                Coroutine other = Coroutine.create("other", () -> {
                    waiting.complete(Scheduler.current()); // main waits in join() now
                    never.receive();
                });
                String v = f.join();
                other.close();
                return v;
            } finally {
                close(pool);
            }
        });
        assertThat(joined).isEqualTo("joined");
        assertThat(reports.get(GUARD.toSeconds(), TimeUnit.SECONDS)).isEmpty();
    }

    /**
     * A timed get inside {@link VirtualTime#run} of a body that does not end is a withTimeout around an
     * await there: it expires with the clock at its timeout, and the value comes to a later join.
     */
    @Test
    void aTimedGetInsideAVirtualTimeRunExpiresAtItsTimeoutOnTheVirtualClock() throws Exception {
        List<Object> outcome = finishing(() -> {
            CoroutinePool pool = CoroutinePool.start(1);
            CompletableFuture<Void> gate = new CompletableFuture<>();
            try {
                AtomicReference<List<Object>> seen = new AtomicReference<>();
                VirtualTime.run(() -> {
                    CompletableFuture<String> f = pool.submit(() -> {
                        Coroutine.await(gate);
                        return "at last";
                    });
                    Throwable t = catchThrowable(() -> f.get(50, TimeUnit.MILLISECONDS));
                    long at = Coroutine.nanoTime();
                    gate.complete(null);
                    seen.set(List.of(t.getClass().getSimpleName(), at, f.join()));
                });
                return seen.get();
            } finally {
                gate.complete(null);
                close(pool);
            }
        });
        assertThat(outcome).containsExactly("TimeoutException", TimeUnit.MILLISECONDS.toNanos(50), "at last");
    }

    /** A thread that never used coro blocks in join() and get() as the JDK's future does, and gets no scheduler. */
    @Test
    void aPlainThreadWithoutASchedulerStillJoinsAndGets() throws Exception {
        CoroutinePool pool = CoroutinePool.start(1);
        try {
            List<Object> outcome = finishing(() -> {
                CompletableFuture<Void> gate = new CompletableFuture<>();
                CompletableFuture<String> f = pool.submit(() -> {
                    Coroutine.await(gate);
                    return "joined";
                });
                new Thread(() -> gate.complete(null)).start();
                String joined = f.join();
                String got = pool.submit(() -> "got").get();
                return List.of(joined, got, Scheduler.currentOrNull() == null);
            });
            assertThat(outcome).containsExactly("joined", "got", true);
        } finally {
            close(pool);
        }
    }

    /** A timed get that expires on a thread without a scheduler (the JDK's wait) names the thread, the read and the future too. */
    @Test
    void aTimedGetThatExpiresOnAPlainThreadNamesTheThreadTheReadAndTheFuture() throws Exception {
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        try {
            CompletableFuture<String> f = pool.submit(() -> {
                Coroutine.await(gate);
                return "later";
            });
            List<Object> outcome = finishing(() -> List.of(catchThrowable(() -> f.get(1, TimeUnit.MILLISECONDS)),
                    Scheduler.currentOrNull() == null));
            assertThat(outcome.get(1)).as("the thread still has no scheduler").isEqualTo(true);
            assertThat(outcome.get(0)).isExactlyInstanceOf(TimeoutException.class);
            assertThat(((Throwable) outcome.get(0)).getMessage()).matches("thread 'program' \\(#\\d+\\) timed out in"
                    + " get\\(1 MILLISECONDS\\) of the future of submit #1 to coro-pool-\\d+\\[Not completed\\]: it is still not complete");
        } finally {
            gate.complete(null);
            close(pool);
        }
    }

    /**
     * A stage derived from the submission ({@code thenApply}) waits the same way, and a failure read
     * through it counts as read: close() does not report it.
     */
    @Test
    void joinOfAStageDerivedFromTheSubmissionParksToo() throws Exception {
        List<Object> outcome = finishing(() -> {
            CoroutinePool pool = CoroutinePool.start(1);
            try {
                Channel<String> ch = new Channel<>("replies", 1);
                CompletableFuture<String> f = pool.submit(() -> {
                    ch.send("sent");
                    return "value";
                });
                String derived = f.thenApply(v -> v + " derived").join();
                Channel<String> other = new Channel<>("other replies", 1);
                Throwable failed = catchThrowable(failingAfterUsing(pool, other).thenApply(v -> v + " derived")::join);
                return List.of(derived, failed);
            } finally {
                close(pool);
            }
        });
        assertThat(outcome.get(0)).isEqualTo("value derived");
        assertThat((Throwable) outcome.get(1)).isExactlyInstanceOf(CompletionException.class).cause().hasMessage("body failed");
    }

    /** A join inside {@link VirtualTime#run} is an await there: the run's coroutines run meanwhile. */
    @Test
    void joinInsideAVirtualTimeRunIsAnAwait() throws Exception {
        List<String> outcome = finishing(() -> {
            CoroutinePool pool = CoroutinePool.start(1);
            try {
                AtomicReference<List<String>> seen = new AtomicReference<>();
                VirtualTime.run(() -> {
                    Channel<String> go = new Channel<>("go", 0);
                    CompletableFuture<String> f = pool.submit(() -> go.receive() + "!");
                    Coroutine.create("sender", () -> {
                        events.add("sender sends");
                        go.send("go");
                    });
                    events.add("main joins");
                    seen.set(List.of(f.join(), "t=" + Coroutine.nanoTime()));
                });
                return seen.get();
            } finally {
                close(pool);
            }
        });
        assertThat(outcome).containsExactly("go!", "t=0");
        assertThat(events).containsExactly("main joins", "sender sends");
    }
}
