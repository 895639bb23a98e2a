package dev.coro;

import static dev.coro.PoolsClosed.GUARD;
import static dev.coro.PoolsClosed.close;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link CoroutinePool}: where submitted bodies run, what runs on a pool thread, and what
 * {@code close()} waits for, ends and reports.
 *
 * <p>Every test closes its pool: while one is open no thread of the JVM reports a deadlock ({@link PoolsClosed}
 * checks it after each test).
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
class CoroutinePoolTest {

    private final List<String> events = Collections.synchronizedList(new ArrayList<>());

    @Test
    void aBodyThatThrowsAgainAnExitSignalKeptFromAnotherCoroutineFailsItsFutureAsAnyFailureAndCloseReportsItOnlyIfUnread() {
        CoroutineExit signal = CoroutineTest.exitSignalKeptFromAClosedCoroutine();
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<Object> read = pool.submit(() -> {
            throw signal;
        });
        assertThat(catchThrowable(read::join)).isInstanceOf(CompletionException.class).cause().isSameAs(signal);
        close(pool); // read: nothing to report
        CoroutinePool other = CoroutinePool.start(1);
        other.execute(() -> {
            throw signal;
        });
        assertThat(catchThrowable(() -> close(other))).isInstanceOf(CoroutineException.class)
                .hasMessageContaining("dev.coro.CoroutineExit: coroutine 'closed'")
                .cause().isSameAs(signal);
    }

    @Test
    @Timeout(60)
    void theFutureOfANamedSubmissionAndItsStagesNameItsCoroutine() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<String> worker = pool.submit("worker\n3", () -> {
            Coroutine.await(gate);
            return "done";
        });
        CompletableFuture<String> plain = pool.submit(() -> "plain");
        assertThat(worker.toString()).isEqualTo("the future of submit #1 (coroutine 'worker\\n3') to " + name + "[Not completed]");
        assertThat(worker.thenApply(v -> v).toString())
                .isEqualTo("a stage of the future of submit #1 (coroutine 'worker\\n3') to " + name + "[Not completed]");
        assertThat(Coroutine.await(plain)).isEqualTo("plain");
        assertThat(plain.toString()).startsWith("the future of submit #2 to " + name + "[Completed normally");
        gate.complete(null);
        assertThat(Coroutine.await(worker)).isEqualTo("done");
        close(pool);
    }

    @Test
    void thePoolsThreadsDoNotInheritTheInheritableThreadLocalsOfTheThreadThatStartedIt() {
        InheritableThreadLocal<String> traceId = new InheritableThreadLocal<>();
        traceId.set("request-7 of the thread that started the pool");
        CoroutinePool pool;
        try {
            pool = CoroutinePool.start(2);
        } finally {
            traceId.remove();
        }
        try (pool) {
            List<String> seen = Collections.synchronizedList(new ArrayList<>());
            List<CompletableFuture<Void>> bodies = new ArrayList<>();
            CompletableFuture<Void> placed = new CompletableFuture<>();
            for (int i = 0; i < 4; i++) { // the fewest live bodies, ties round-robin: both threads get some
                bodies.add(pool.submit(() -> {
                    seen.add(Scheduler.current().owner.getName() + ": " + traceId.get());
                    Coroutine.await(placed); // each stays live until all are placed, however fast the others run
                    return null;
                }));
            }
            placed.complete(null);
            bodies.forEach(CompletableFuture::join);
            assertThat(seen).hasSize(4).allSatisfy(line -> assertThat(line).endsWith(": null"));
            assertThat(seen.stream().map(line -> line.substring(0, line.indexOf(':'))).distinct()).hasSize(2);
        }
    }

    /**
     * A pool started by a daemon thread, in a coroutine of it, has daemon threads of that thread's
     * priority: the pool's threads take the starting owner thread's daemon status, whichever it is.
     */
    @Test
    @Timeout(60)
    void aPoolStartedByADaemonThreadHasDaemonThreadsOfItsPriority() {
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        Thread starter = Thread.ofPlatform().name("daemon-starter").daemon(true).priority(Thread.NORM_PRIORITY - 2)
                .unstarted(() -> {
                    CoroutinePool[] started = {null};
                    Coroutine.create("starter", () -> started[0] = CoroutinePool.start(1)).switchTo();
                    try (CoroutinePool pool = started[0]) {
                        Thread poolThread = Coroutine.await(pool.submit(() -> Scheduler.current().owner));
                        seen.add("daemon " + poolThread.isDaemon() + ", priority " + poolThread.getPriority());
                    }
                });
        starter.start();
        Peer.join(starter);
        assertThat(seen).containsExactly("daemon true, priority " + (Thread.NORM_PRIORITY - 2));
    }

    @Test
    @Timeout(60)
    void aPoolStartedInACoroutineHasThreadsOfTheOwnerThreadsDaemonStatusPriorityAndGroupOnBothEngines() {
        // as on the continuation engine, where the body runs on the owner thread itself: on the thread
        // engine the body's virtual thread is a daemon of normal priority, in the virtual threads' group,
        // and its pool's threads, taking those, let the JVM exit while it works
        Thread owner = Thread.currentThread();
        owner.setPriority(Thread.NORM_PRIORITY + 2);
        assertThat(owner.isDaemon()).isFalse();
        CoroutinePool[] started = {null};
        Coroutine.create("starter", () -> started[0] = CoroutinePool.start(1)).switchTo();
        CoroutinePool pool = started[0];
        try {
            Thread poolThread = pool.submit(() -> Scheduler.current().owner).join();
            assertThat(poolThread.getName()).isEqualTo(PoolName.of(pool) + "-0");
            assertThat(poolThread.isDaemon()).isFalse();
            assertThat(poolThread.getPriority()).isEqualTo(Thread.NORM_PRIORITY + 2);
            assertThat(poolThread.getThreadGroup()).isSameAs(owner.getThreadGroup());
        } finally {
            close(pool);
        }
    }

    @Test
    void submitGivesTheBodysValueAndExecuteRunsTheBody() {
        CoroutinePool pool = CoroutinePool.start(2);
        String name = PoolName.of(pool);
        assertThat(name).matches("coro-pool-\\d+");
        assertThat(pool.threads()).isEqualTo(2);
        assertThat(pool).hasToString("CoroutinePool[" + name + ", 2 threads, running]");
        try {
            assertThat(Coroutine.await(pool.submit(() -> 6 * 7))).isEqualTo(42);
            assertThat(pool.submit(() -> "joined").join()).isEqualTo("joined");
            CompletableFuture<Void> ran = new CompletableFuture<>();
            pool.execute(() -> ran.complete(null));
            Coroutine.await(ran);
            assertThatThrownBy(() -> Coroutine.await(pool.submit(() -> {
                throw new IllegalStateException("boom");
            }))).isExactlyInstanceOf(CompletionException.class).cause().isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessage("boom");
        } finally {
            close(pool);
        }
        assertThat(pool).hasToString("CoroutinePool[" + name + ", 2 threads, closed]");
    }

    /**
     * A body that throws a checked exception runs through {@code submitCallable}: its value completes
     * the future; what it throws fails the future as it is ({@code join()} and an await wrap it in a
     * {@code CompletionException}, {@code get()} in an {@code ExecutionException}), and {@code close()}
     * reports it, the very exception, when nobody read it; the named form names the body's coroutine.
     */
    @Test
    void submitCallableRunsABodyThatThrowsACheckedExceptionAndFailsItsFutureWithIt() throws Exception {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        IOException read = new IOException("read: disk gone");
        IOException unread = new IOException("unread: disk gone");
        try {
            assertThat(Coroutine.await(pool.submitCallable(() -> 6 * 7))).isEqualTo(42);
            assertThat(pool.submitCallable("reader", () -> Coroutine.current().name()).get()).isEqualTo("reader");
            CompletableFuture<String> failed = pool.submitCallable(() -> {
                throw read;
            });
            assertThatThrownBy(() -> Coroutine.await(failed)).isExactlyInstanceOf(CompletionException.class).cause().isSameAs(read);
            assertThatThrownBy(failed::join).isExactlyInstanceOf(CompletionException.class).cause().isSameAs(read);
            assertThatThrownBy(failed::get).isExactlyInstanceOf(ExecutionException.class).cause().isSameAs(read);
            CompletableFuture<String> named = pool.submitCallable("loader", () -> {
                throw unread;
            });
            assertThat(named.toString()).startsWith("the future of submit #4 (coroutine 'loader') to " + name + "[");
            assertThatThrownBy(() -> pool.submitCallable(null)).isExactlyInstanceOf(NullPointerException.class).hasMessage("body");
            assertThatThrownBy(() -> pool.submitCallable(null, () -> 1)).isExactlyInstanceOf(NullPointerException.class).hasMessage("name");
        } catch (Throwable t) {
            Throwable closing = catchThrowable(() -> close(pool));
            if (closing != null) {
                t.addSuppressed(closing);
            }
            throw t;
        }
        Throwable thrown = catchThrowable(() -> close(pool));
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage(name + ": a coroutine failed and nobody observed it: coroutine 'loader' on thread '" + name
                        + "-0' (#" + PoolName.threadId(pool, 0) + "), running the body of submit #4, threw java.io.IOException: unread: disk gone");
        assertThat(thrown.getCause()).isSameAs(unread);
        assertThatThrownBy(() -> pool.submitCallable(() -> 1)).isExactlyInstanceOf(RejectedExecutionException.class)
                .hasMessage("main context 'main' cannot submit to " + name + " (closed): a closed pool takes no more bodies");
    }

    /**
     * The description gives the pool's state as it is: {@code running}, {@code closing} while a
     * close waits for a body, and {@code closed} once the close has returned and no thread of the
     * pool is alive (not {@code closing} for ever).
     */
    @Test
    void theDescriptionSaysClosingWhileACloseWaitsAndClosedOnceItReturned() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<Void> body = pool.submit(() -> Coroutine.await(gate));
        Coroutine closer = Coroutine.create("closer", () -> close(pool));
        closer.switchTo(); // it parks in close(), waiting for the body
        assertThat(closer.state()).isEqualTo(Coroutine.State.PARKED);
        assertThat(pool).hasToString("CoroutinePool[" + name + ", 1 thread, closing]");
        gate.complete(null);
        Coroutine.await(body);
        while (!closer.isFinished()) {
            Coroutine.yield();
        }
        assertThat(closer.state()).isEqualTo(Coroutine.State.FINISHED);
        assertThat(pool).hasToString("CoroutinePool[" + name + ", 1 thread, closed]");
    }

    // ---- placement ------------------------------------------------------------------------------

    @Test
    void twoLongWaitingBodiesLandOnDifferentThreads() {
        CoroutinePool pool = CoroutinePool.start(2);
        String name = PoolName.of(pool);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        try {
            CompletableFuture<Thread> a = new CompletableFuture<>();
            CompletableFuture<Thread> b = new CompletableFuture<>();
            pool.execute(() -> {
                a.complete(Peer.schedulerThread());
                Coroutine.await(gate);
            });
            pool.execute(() -> {
                b.complete(Peer.schedulerThread());
                Coroutine.await(gate);
            });
            assertThat(List.of(Coroutine.await(a).getName(), Coroutine.await(b).getName()))
                    .containsExactly(name + "-0", name + "-1");
        } finally {
            gate.complete(null);
            close(pool);
        }
    }

    @Test
    void aBodyGoesToTheThreadWithTheFewestLiveBodiesNotTheNextInTurn() {
        CoroutinePool pool = CoroutinePool.start(2);
        String name = PoolName.of(pool);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        try {
            CompletableFuture<String> a = pool.submit(() -> {
                String t = Peer.schedulerThread().getName();
                Coroutine.await(gate);
                return t;
            });
            String b = Coroutine.await(pool.submit(() -> Peer.schedulerThread().getName()));
            // round-robin would now pick thread 0; but thread 1's only body has ended, thread 0's waits
            String c = Coroutine.await(pool.submit(() -> Peer.schedulerThread().getName()));
            gate.complete(null);
            assertThat(List.of(Coroutine.await(a), b, c)).containsExactly(name + "-0", name + "-1", name + "-1");
        } finally {
            gate.complete(null);
            close(pool);
        }
    }

    @Test
    void aBodyWhoseFutureHasCompletedNoLongerCountsAsLive() {
        CoroutinePool pool = CoroutinePool.start(2);
        String name = PoolName.of(pool);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<Void> release = new CompletableFuture<>();
        try {
            CompletableFuture<String> a = pool.submit(() -> {
                String t = Peer.schedulerThread().getName();
                Coroutine.await(gate);
                return t;
            });
            CompletableFuture<String> b = pool.submit(() -> {
                String t = Peer.schedulerThread().getName();
                Coroutine.await(release);
                return t;
            });
            // a chain: the next body is submitted as b's future completes, on b's thread
            CompletableFuture<String> c = b.thenCompose(t -> pool.submit(() -> Peer.schedulerThread().getName()));
            release.complete(null);
            String placed = Coroutine.await(c);
            gate.complete(null);
            assertThat(List.of(Coroutine.await(a), Coroutine.await(b), placed))
                    .as("b had returned, so its thread had no live body: c goes there, not to a's")
                    .containsExactly(name + "-0", name + "-1", name + "-1");
        } finally {
            gate.complete(null);
            release.complete(null);
            close(pool);
        }
    }

    /**
     * A body that leaves its thread's interrupt set as it ends hands it to the context that runs next
     * (docs/ENGINES.md): on a pool thread that is the thread's main, which must not pass it on to the
     * next body, another submitter's, whose blocking calls would then fail at once; on the continuation
     * engine, where main and the bodies share the one flag of the thread, it did.
     */
    @Test
    @Timeout(20)
    void aBodyStartsWithItsInterruptClearWhateverTheBodyBeforeItLeftSet() {
        CoroutinePool pool = CoroutinePool.start(1);
        try {
            Coroutine.await(pool.submit(() -> {
                Thread.currentThread().interrupt();
                return null;
            }));
            assertThat(Coroutine.await(pool.submit(() -> Thread.currentThread().isInterrupted())))
                    .as("the next body's interrupt").isFalse();
            assertThat(Coroutine.await(pool.submit(() -> {
                Thread.currentThread().interrupt();
                Coroutine.yield();
                return Thread.interrupted();
            }))).as("a body's own interrupt, kept across its switches").isTrue();
        } finally {
            close(pool);
        }
    }

    @Test
    void coroutinesCreatedInsideABodyStayOnItsThreadAndInterleaveByTheUsualRules() {
        CoroutinePool pool = CoroutinePool.start(2);
        try {
            List<String> seen = Coroutine.await(pool.submit(() -> {
                List<String> log = new ArrayList<>();
                Thread self = Peer.schedulerThread();
                Coroutine n1 = Coroutine.create("n1", () -> log.add("n1 on its body's thread: " + (Peer.schedulerThread() == self)));
                Coroutine n2 = Coroutine.create("n2", () -> log.add("n2 on its body's thread: " + (Peer.schedulerThread() == self)));
                Coroutine.yield(); // the previous entry is the pool's parked main: wraps to the last created
                log.add("n1 " + n1.state() + ", n2 " + n2.state());
                return log;
            }));
            assertThat(seen).containsExactly("n2 on its body's thread: true", "n1 on its body's thread: true",
                    "n1 FINISHED, n2 FINISHED");
        } finally {
            close(pool);
        }
    }

    @Test
    void sleepSelectChannelsAwaitAndDumpWorkOnAPoolThread() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<String> fromTest = new CompletableFuture<>();
        try {
            CompletableFuture<List<String>> seen = pool.submit(() -> {
                List<String> log = new ArrayList<>();
                long t0 = Coroutine.nanoTime();
                Coroutine.sleep(Duration.ofMillis(2));
                log.add("slept at least 2 ms: " + (Coroutine.nanoTime() - t0 >= 2_000_000));
                Channel<String> ch = new Channel<>("local", 0);
                Coroutine.create("sender", () -> ch.send("hi"));
                log.add(new Select<String>().onReceive(ch, v -> "selected " + v)
                        .onTimeout(GUARD, () -> "timed out").select());
                log.add("awaited " + Coroutine.await(fromTest));
                log.addAll(Coroutine.dump().lines().limit(2).toList());
                log.add(Coroutine.dump().lines().filter(l -> l.startsWith("  [")).toList().getLast());
                return log;
            });
            fromTest.complete("from the test thread");
            assertThat(Coroutine.await(seen)).containsExactly("slept at least 2 ms: true", "selected hi",
                    "awaited from the test thread",
                    "thread '" + name + "-0': 2 contexts, current index 1",
                    "  [0] main: PARKED, waits to take work from " + name,
                    "  [1] coroutine 'coroutine-1': RUNNING (the caller)");
        } finally {
            close(pool);
        }
    }

    @Test
    void aVirtualThreadAnotherPoolsThreadAndAGeneratorBodySubmitToAPoolAndCloseOne() throws InterruptedException {
        CoroutinePool pool = CoroutinePool.start(2);
        CoroutinePool other = CoroutinePool.start(1);
        CoroutinePool closedByVirtual = CoroutinePool.start(1);
        CoroutinePool closedByOther = CoroutinePool.start(1);
        CoroutinePool closedByGenerator = CoroutinePool.start(1);
        try {
            AtomicReference<Object> fromVirtual = new AtomicReference<>();
            Thread virtual = Thread.ofVirtual().start(() -> {
                fromVirtual.set(pool.submit(() -> "from a virtual thread").join());
                closedByVirtual.close();
            });
            Peer.join(virtual);
            assertThat(fromVirtual.get()).isEqualTo("from a virtual thread");
            assertThat(closedByVirtual.toString()).endsWith(", closed]");

            assertThat(Coroutine.await(other.submit(() -> {
                String v = Coroutine.await(pool.submit(() -> "from another pool's thread"));
                closedByOther.close();
                return v;
            }))).isEqualTo("from another pool's thread");
            assertThat(closedByOther.toString()).endsWith(", closed]");

            List<String> emitted = new ArrayList<>();
            for (String v : Generator.<String>of("submitter", out -> {
                out.emit(Coroutine.await(pool.submit(() -> "from a generator body")));
                closedByGenerator.close();
                out.emit(closedByGenerator.toString());
            })) {
                emitted.add(v);
            }
            assertThat(emitted).containsExactly("from a generator body", closedByGenerator.toString());
            assertThat(closedByGenerator.toString()).endsWith(", closed]");
        } finally {
            close(pool);
            close(other);
        }
    }

    // ---- close ----------------------------------------------------------------------------------

    @Test
    void closeWaitsForEveryCoroutineIncludingNestedOnesThenTheThreadsHaveEnded() {
        CoroutinePool pool = CoroutinePool.start(2);
        Channel<String> feed = new Channel<>("feed", 1);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        List<Thread> threads = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Void> placed = new CompletableFuture<>();
        pool.execute(() -> {
            threads.add(Peer.schedulerThread());
            Coroutine.create("nested", () -> {
                events.add("nested got " + feed.receive());
                events.add("nested ends");
            });
            // the body returns at once; the nested coroutine waits on the test thread's channel
        });
        pool.execute(() -> {
            threads.add(Peer.schedulerThread());
            placed.complete(null);
            Coroutine.await(gate);
            events.add("body ends");
        });
        Coroutine.await(placed);
        Coroutine.create("feeder", () -> { // runs only once main waits in close()
            events.add("feeder runs while " + pool);
            feed.send("x");
            gate.complete(null);
        });
        close(pool);
        assertThat(events).hasSize(4);
        assertThat(events.getFirst()).isEqualTo("feeder runs while CoroutinePool[" + PoolName.of(pool) + ", 2 threads, closing]");
        assertThat(events.subList(1, 4)).containsExactlyInAnyOrder("nested got x", "nested ends", "body ends");
        assertThat(events.indexOf("nested got x")).isLessThan(events.indexOf("nested ends"));
        assertThat(pool.toString()).endsWith("closed]");
        assertThat(threads).hasSize(2).doesNotHaveDuplicates();
        assertThat(threads).as("every pool thread has ended").noneMatch(Thread::isAlive);
    }

    @Test
    void afterCloseEveryPoolThreadHasEnded() {
        for (int round = 0; round < 20; round++) {
            CoroutinePool pool = CoroutinePool.start(2);
            CompletableFuture<Thread> a = pool.submit(Peer::schedulerThread);
            CompletableFuture<Thread> b = pool.submit(Peer::schedulerThread);
            List<Thread> threads = List.of(Coroutine.await(a), Coroutine.await(b));
            close(pool);
            assertThat(threads).as("round " + round).doesNotHaveDuplicates().noneMatch(Thread::isAlive);
        }
    }

    /**
     * A body whose future its caller cancelled or completed before the body started never runs, as the
     * supplier of a {@code supplyAsync} or a task of an executor cancelled before it ran; a body that
     * has started runs to its end (a cancel interrupts nothing, as {@code CompletableFuture.cancel}
     * does not), its future keeping the caller's outcome, and {@code close()} waits for it.
     */
    @Test
    @Timeout(20)
    void aBodyWhoseFutureItsCallerSettledBeforeItStartedNeverRunsAndOneStartedRunsToItsEndUnlessInterrupted() throws InterruptedException {
        CoroutinePool pool = CoroutinePool.start(1);
        CountDownLatch hold = new CountDownLatch(1);
        CompletableFuture<Void> holding = new CompletableFuture<>();
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<String> started = pool.submit(() -> {
            holding.complete(null);
            try {
                hold.await(); // holds the pool's one thread: the bodies submitted meanwhile wait to start
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            Coroutine.await(gate);
            events.add("the started body ends");
            return "the body's own";
        });
        Coroutine.await(holding);
        CompletableFuture<String> cancelled = pool.submit(() -> {
            events.add("the cancelled body runs");
            return "the body's own";
        });
        CompletableFuture<String> completed = pool.submit(() -> {
            events.add("the completed body runs");
            return "the body's own";
        });
        CompletableFuture<Void> after = new CompletableFuture<>();
        pool.execute(() -> {
            events.add("the body after them runs");
            after.complete(null);
        });
        assertThat(cancelled.cancel(false)).isTrue();
        assertThat(completed.complete("the caller's own")).isTrue();
        assertThat(started.cancel(false)).isTrue(); // without interrupting: the body runs to its end
        hold.countDown();
        Coroutine.await(after);
        Coroutine.create("opener", () -> { // runs once main waits in close()
            events.add("opener runs");
            gate.complete(null);
        });
        close(pool);
        assertThat(events).containsExactly("the body after them runs", "opener runs", "the started body ends");
        assertThat(cancelled.isCancelled()).isTrue();
        assertThat(started.isCancelled()).isTrue();
        assertThat(completed.join()).isEqualTo("the caller's own");
    }

    @Test
    void aCancelWithInterruptOfAStartedBodysFutureClosesItsCoroutineAndOneWithoutLetsItRun() {
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<Void> aParked = new CompletableFuture<>();
        CompletableFuture<Void> bParked = new CompletableFuture<>();
        CompletableFuture<Void> aUnwound = new CompletableFuture<>();
        CompletableFuture<Void> never = new CompletableFuture<>();
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<String> a = pool.submit(() -> {
            try {
                aParked.complete(null);
                Coroutine.await(never);
                return "a ends";
            } finally {
                events.add("a's finally, " + Coroutine.current().name());
                aUnwound.complete(null);
            }
        });
        CompletableFuture<String> b = pool.submit(() -> {
            bParked.complete(null);
            Coroutine.await(gate);
            events.add("b ends");
            return "b's own";
        });
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(aParked, bParked)));
        assertThat(a.cancel(true)).isTrue();
        assertThat(b.cancel(false)).isTrue();
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(aUnwound));
        assertThat(events).containsExactly("a's finally, coroutine-1");
        gate.complete(null);
        close(pool);
        assertThat(events).containsExactly("a's finally, coroutine-1", "b ends");
        assertThat(a.isCancelled()).isTrue();
        assertThat(b.isCancelled()).isTrue();
    }

    @Test
    void closeNowClosesEveryCoroutineOfThePoolAndNeverStartsTheBodiesWaitingToStart() {
        CoroutinePool pool = CoroutinePool.start(1);
        CountDownLatch hold = new CountDownLatch(1);
        CompletableFuture<Void> holding = new CompletableFuture<>();
        AtomicReference<Thread> poolThread = new AtomicReference<>();
        CompletableFuture<String> first = pool.submit(() -> {
            poolThread.set(Peer.schedulerThread());
            Channel<String> quiet = new Channel<>("quiet", 0);
            Coroutine.create("child", () -> {
                try {
                    quiet.receive();
                } finally {
                    events.add("child unwound");
                }
            }).switchTo();
            holding.complete(null);
            try {
                hold.await(); // holds the pool's one thread: the body submitted meanwhile waits to start
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            try {
                Coroutine.await(new CompletableFuture<Void>()); // never completed: only a close ends it
                return "first ends";
            } finally {
                events.add("first unwound");
            }
        });
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(holding));
        CompletableFuture<String> waiting = pool.submit(() -> {
            events.add("the waiting body runs");
            return "waiting's own";
        });
        Coroutine.create("opener", () -> { // runs once main waits in closeNow()
            events.add("opener runs");
            hold.countDown();
        });
        Coroutine.withTimeout(GUARD, pool::closeNow);
        assertThat(events).containsExactlyInAnyOrder("opener runs", "first unwound", "child unwound");
        assertThat(events.get(0)).isEqualTo("opener runs");
        assertThat(waiting.isCancelled()).as("never started").isTrue();
        assertThat(first).isCompletedExceptionally();
        assertThat(catchThrowable(first::join)).isInstanceOf(CompletionException.class).hasCauseInstanceOf(CoroutineExit.class);
        assertThat(poolThread.get().isAlive()).isFalse();
        assertThat(pool.toString()).endsWith("closed]");
        Coroutine.withTimeout(GUARD, pool::closeNow); // twice is fine
    }

    /**
     * A body unwound by {@code closeNow()} whose resources' closes throw as it unwinds fails with the first of those
     * failures; those it cannot carry (it takes no suppressed exceptions) are reported beside it, each of them: as
     * many as there were, for a submission whose future nobody read as for an {@code execute}. (The report once kept
     * one of them at most, keyed by the body's place in the order of reports as the failure of its future was: the
     * later overwrote the earlier, and the future's failure, nobody having read it, overwrote the last.)
     */
    @Test
    void everyFailureThatABodyClosedNowCannotCarryIsReportedBesideItsFirst() {
        for (boolean submit : new boolean[] {true, false}) {
            CoroutinePool pool = CoroutinePool.start(1);
            String name = PoolName.of(pool);
            RuntimeException first = new Unsuppressible("first");
            CompletableFuture<Void> parked = new CompletableFuture<>();
            Runnable body = () -> {
                try (AutoCloseable a = () -> {
                    throw new IllegalStateException("third");
                }; AutoCloseable b = () -> {
                    throw new IllegalArgumentException("second");
                }; AutoCloseable c = () -> {
                    throw first;
                }) {
                    parked.complete(null);
                    Coroutine.await(new CompletableFuture<Void>()); // never completed: only the close ends it
                } catch (Exception e) {
                    throw new AssertionError("a close of a resource threw what only the unwinding may carry", e);
                }
            };
            CompletableFuture<Void> future = submit ? pool.submit(() -> {
                body.run();
                return null;
            }) : null;
            if (!submit) {
                pool.execute(body);
            }
            Coroutine.withTimeout(GUARD, () -> Coroutine.await(parked));
            Throwable thrown = catchThrowableOf(() -> Coroutine.withTimeout(GUARD, pool::closeNow));
            String op = submit ? "submit" : "execute";
            assertThat(thrown).as(op).isExactlyInstanceOf(CoroutineException.class)
                    .hasMessageStartingWith(name + ": a coroutine failed and nobody observed it: coroutine 'coroutine-1' on thread '"
                            + name + "-0' (#" + PoolName.threadId(pool, 0) + "), running the body of " + op + " #1, threw dev.coro.CoroutinePoolTest$Unsuppressible: first;"
                            + " 2 more failures suppressed in this report")
                    .cause().isSameAs(first);
            assertThat(thrown.getSuppressed()).as(op).extracting(Throwable::getMessage).containsExactly("second", "third");
            if (submit) {
                assertThat(catchThrowable(future::join)).isInstanceOf(CompletionException.class).cause().isSameAs(first);
            }
        }
    }

    /**
     * A pool thread makes the coroutine of each body that has arrived before it runs any of them: a
     * {@code closeNow()} that comes between the making of a body's coroutine and its first turn finds a
     * body that has not started. It never runs, its future is cancelled, as for a body still waiting to
     * start, and the close ends; the coroutine closed unstarted once left the body counted live for
     * good, the future never completed and the close waited for ever.
     */
    @Test
    @Timeout(60)
    void aBodyWhoseCoroutineWasMadeButHadNotRunWhenCloseNowCameNeverRunsItsFutureIsCancelledAndTheCloseEnds() {
        CoroutinePool pool = CoroutinePool.start(1);
        java.util.function.BiFunction<Scheduler, Runnable, Context> maker = CoroutinePool.maker;
        CoroutinePool.maker = (s, body) -> {
            Context made = maker.apply(s, body);
            // the coroutine is made and has not run: hold the pool thread here until closeNow() has begun
            while (!pool.toString().endsWith("closing]")) {
                Thread.onSpinWait();
            }
            return made;
        };
        try {
            CompletableFuture<String> body = pool.submit(() -> {
                events.add("the body runs");
                return "ran";
            });
            Coroutine.withTimeout(GUARD, pool::closeNow);
            assertThat(events).as("the body never ran").isEmpty();
            assertThat(body.isCancelled()).as("never started").isTrue();
            assertThat(pool.toString()).endsWith("closed]");
        } finally {
            CoroutinePool.maker = maker;
        }
    }

    @Test
    void closeNowFromAPoolThreadIsRefusedNamingTheCallerAndThePool() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        try {
            CompletableFuture<String> refused = pool.submit(() -> {
                try {
                    pool.closeNow();
                    return "closed";
                } catch (IllegalStateException e) {
                    return e.getMessage() + " / thread " + Scheduler.describe(Peer.schedulerThread());
                }
            });
            String r = Coroutine.withTimeout(GUARD, () -> Coroutine.await(refused));
            String thread = r.substring(r.indexOf(" / thread ") + " / thread ".length());
            assertThat(r).isEqualTo("coroutine 'coroutine-1' cannot closeNow " + name + " (running) from its own thread " + thread
                    + ": it would wait for itself / thread " + thread);
            assertThat(pool.toString()).endsWith("running]");
        } finally {
            close(pool);
        }
    }

    @Test
    void aNamedSubmissionsCoroutineBearsItsNameInItsBodyTheDumpAndTheReportOfItsFailure() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<String> dumped = pool.submit("acceptor", () -> {
            Coroutine.create("connection 1", () -> Coroutine.await(gate)).switchTo();
            return Coroutine.current().name() + " / " + Coroutine.dump();
        });
        String r = Coroutine.withTimeout(GUARD, () -> Coroutine.await(dumped));
        assertThat(r).startsWith("acceptor / ").contains("coroutine 'acceptor': RUNNING").contains("coroutine 'connection 1': PARKED");
        gate.complete(null);
        pool.execute("worker", () -> {
            throw new IllegalStateException("failed");
        });
        assertThatThrownBy(() -> pool.submit(null, () -> "x")).isInstanceOf(NullPointerException.class).hasMessage("name");
        assertThatThrownBy(() -> pool.execute(null, () -> { })).isInstanceOf(NullPointerException.class).hasMessage("name");
        Throwable thrown = catchThrowable(() -> close(pool));
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage(name + ": a coroutine failed and nobody observed it: coroutine 'worker' on thread '" + name
                        + "-0' (#" + PoolName.threadId(pool, 0) + "), running the body of execute #2, threw java.lang.IllegalStateException: failed");
    }

    @Test
    void closeWaitsForABodyThatEndsAfterTheCloseStarted() {
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<Void> parked = new CompletableFuture<>();
        AtomicReference<Thread> thread = new AtomicReference<>();
        pool.execute(() -> {
            thread.set(Peer.schedulerThread());
            parked.complete(null);
            Coroutine.await(gate);
            events.add("body ends");
        });
        Coroutine.await(parked);
        Coroutine.create("opener", () -> { // runs once main waits in close()
            events.add("opener runs");
            gate.complete(null);
        });
        close(pool);
        assertThat(events).containsExactly("opener runs", "body ends");
        assertThat(thread.get().isAlive()).isFalse();
    }

    /**
     * The minimal stage of a submission's future refuses what is not a {@code CompletionStage}'s, as the
     * JDK's does, but names the caller, the call and the stage where the JDK's exception says nothing;
     * its {@code toCompletableFuture()} still reads the value.
     */
    @Test
    @Timeout(20)
    void theMinimalStageOfASubmitsFutureRefusesWhatIsNotAStagesNamingTheCallerTheCallAndTheStage() {
        CoroutinePool pool = CoroutinePool.start(1);
        try {
            String name = PoolName.of(pool);
            CompletableFuture<Integer> f = pool.submit(() -> 7);
            assertThat(Coroutine.await(f)).isEqualTo(7);
            CompletableFuture<Integer> minimal = (CompletableFuture<Integer>) f.minimalCompletionStage();
            String why = ": a minimal stage offers only the methods of CompletionStage; use toCompletableFuture() for the others";
            assertThatThrownBy(minimal::join).isExactlyInstanceOf(UnsupportedOperationException.class)
                    .hasMessage("main context 'main' cannot join a stage of the future of submit #1 to " + name
                            + "[Completed normally]" + why);
            assertThatThrownBy(() -> minimal.complete(8)).isExactlyInstanceOf(UnsupportedOperationException.class)
                    .hasMessage("main context 'main' cannot complete a stage of the future of submit #1 to " + name
                            + "[Completed normally]" + why);
            assertThat(minimal.toCompletableFuture().join()).isEqualTo(7);
        } finally {
            pool.close();
        }
    }

    @Test
    void theFutureOfASubmitAnswersEveryReadAsACompletableFutureDoes() throws Exception {
        CoroutinePool pool = CoroutinePool.start(1);
        try {
            CompletableFuture<String> ok = pool.submit(() -> "v");
            CompletableFuture<String> bad = pool.submit(() -> {
                throw new IllegalStateException("boom");
            });
            assertThat(Coroutine.withTimeout(GUARD, () -> Coroutine.await(ok))).isEqualTo("v");
            assertThat(List.of(ok.get(), ok.get(1, java.util.concurrent.TimeUnit.SECONDS), ok.getNow("absent"),
                    ok.resultNow(), ok.join(), ok.whenComplete((v, e) -> { }).join(), ok.handle((v, e) -> v + "!").join(),
                    ok.exceptionally(e -> "none").join())).containsExactly("v", "v", "v", "v", "v", "v", "v!", "v");
            assertThat(Coroutine.withTimeout(GUARD, () -> Coroutine.await(bad.exceptionally(e -> "recovered from " + e.getMessage()))))
                    .isEqualTo("recovered from boom");
            assertThat(List.of(bad.handle((v, e) -> e.getMessage()).join(), bad.exceptionNow().getMessage(),
                    bad.whenComplete((v, e) -> { }).exceptionNow().getMessage())).containsExactly("boom", "boom", "boom");
        } finally {
            close(pool); // every failure was read: nothing to throw
        }
    }

    /** Runs a body on {@code pool} that waits for {@code gate}, then adds "body ends"; returns once it waits. */
    private void executeGated(CoroutinePool pool, CompletableFuture<Void> gate) {
        CompletableFuture<Void> parked = new CompletableFuture<>();
        pool.execute(() -> {
            parked.complete(null);
            Coroutine.await(gate);
            events.add("body ends");
        });
        Coroutine.await(parked);
    }

    @Test
    void aSecondCloseWaitsLikeTheFirst() {
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        executeGated(pool, gate);
        List<CompletableFuture<Void>> returned = new ArrayList<>();
        for (String closer : List.of("a", "b")) {
            CompletableFuture<Void> r = new CompletableFuture<>();
            returned.add(r);
            Coroutine.create(closer, () -> {
                close(pool);
                events.add("a close returns");
                r.complete(null);
            });
        }
        Coroutine.yield(); // b closes, a closes again: both wait
        events.add("gate opens");
        gate.complete(null);
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(returned.toArray(CompletableFuture[]::new))));
        assertThat(events).containsExactly("gate opens", "body ends", "a close returns", "a close returns");
    }

    @Test
    void aCloserInterruptedBeforeItClosesStillWaitsAndKeepsItsInterrupt() {
        CoroutinePool pool = CoroutinePool.start(2);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        executeGated(pool, gate);
        Coroutine.create("opener", () -> { // runs once main waits in close()
            events.add("opener runs");
            gate.complete(null);
        });
        Thread.currentThread().interrupt();
        close(pool);
        assertThat(Thread.interrupted()).as("the interrupt is kept").isTrue();
        assertThat(events).containsExactly("opener runs", "body ends");
    }

    @Test
    void aThreadWithNoCoroutineLeftServesItsChannelsUntilThePoolsLastCoroutineHasEnded() {
        for (int round = 0; round < 10; round++) {
            CoroutinePool pool = CoroutinePool.start(2);
            String name = PoolName.of(pool);
            CompletableFuture<Void> go = new CompletableFuture<>();
            // a channel of thread 0, whose only body returns at once
            Channel<String> ch = Coroutine.await(pool.submit(() -> new Channel<>("of-thread-0", 0)));
            CompletableFuture<String> got = pool.submit(() -> { // on thread 1: two operations on thread 0's channel
                Coroutine.await(go);
                Coroutine.create("sender", () -> ch.send("x"));
                return Peer.schedulerThread().getName() + " got " + ch.receive();
            });
            Coroutine.create("opener", () -> go.complete(null)); // runs once main waits in close()
            close(pool);
            assertThat(got).as("round " + round).isCompletedWithValue(name + "-1 got x");
        }
    }

    @Test
    void aBodySubmittedJustBeforeCloseStillRuns() {
        for (int round = 0; round < 20; round++) {
            CoroutinePool pool = CoroutinePool.start(1);
            CompletableFuture<Integer> submitted = pool.submit(() -> 7);
            CompletableFuture<String> executed = new CompletableFuture<>();
            pool.execute(() -> executed.complete("ran"));
            close(pool);
            assertThat(submitted).as("round " + round).isCompletedWithValue(7);
            assertThat(executed).as("round " + round).isCompletedWithValue("ran");
        }
    }

    @Test
    void closeThrowsTheFirstUnobservedFailureWithTheLaterOnesSuppressed() {
        CoroutinePool pool = CoroutinePool.start(2);
        String name = PoolName.of(pool);
        pool.execute(() -> {
            throw new IllegalStateException("first");
        });
        pool.submit(() -> {
            throw new IllegalArgumentException("second");
        });
        pool.submit(() -> {
            throw new ArithmeticException("third");
        });
        CompletableFuture<Object> joined = pool.submit(() -> {
            throw new UnsupportedOperationException("joined");
        });
        assertThatThrownBy(joined::join).isExactlyInstanceOf(CompletionException.class)
                .hasCauseExactlyInstanceOf(UnsupportedOperationException.class);
        CompletableFuture<Object> awaited = pool.submit(() -> {
            throw new UnsupportedOperationException("awaited");
        });
        assertThatThrownBy(() -> Coroutine.await(awaited)).isExactlyInstanceOf(CompletionException.class);
        Throwable thrown = catchThrowableOf(() -> close(pool));
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage(name + ": a coroutine failed and nobody observed it: coroutine 'coroutine-1' on thread '" + name
                        + "-0' (#" + PoolName.threadId(pool, 0) + "), running the body of execute #1, threw java.lang.IllegalStateException: first; 2 more failures suppressed")
                .cause().isExactlyInstanceOf(IllegalStateException.class).hasMessage("first");
        assertThat(thrown.getCause().getSuppressed()).extracting(Throwable::getMessage).containsExactly("second", "third");
        close(pool); // closing again: nothing left to report
    }

    @Test
    void theReportOfAnUnobservedFailureNamesTheCoroutineItsThreadAndTheSubmissionThatFailed() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<Integer> fine = pool.submit(() -> 1); // submission 1, coroutine-1
        pool.execute(() -> {
            throw new IllegalStateException("first");
        }); // submission 2, coroutine-2
        pool.submit(() -> {
            throw new IllegalArgumentException("second");
        }); // submission 3, coroutine-3
        assertThat(Coroutine.await(fine)).isEqualTo(1);
        Throwable thrown = catchThrowableOf(() -> close(pool));
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage(name + ": a coroutine failed and nobody observed it: coroutine 'coroutine-2' on thread '" + name
                        + "-0' (#" + PoolName.threadId(pool, 0) + "), running the body of execute #2, threw java.lang.IllegalStateException: first;"
                        + " 1 more failure suppressed")
                .cause().hasMessage("first");
        assertThat(thrown.getCause().getSuppressed()).extracting(Throwable::getMessage).containsExactly("second");
    }

    @Test
    void theLaterFailuresAreSuppressedInTheReportWhenTheFirstTakesNoSuppressedExceptions() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        RuntimeException first = new Unsuppressible("first");
        pool.execute(() -> {
            throw first;
        });
        pool.submit(() -> {
            throw new IllegalArgumentException("second");
        });
        pool.execute(() -> {
            throw new ArithmeticException("third");
        });
        Throwable thrown = catchThrowableOf(() -> close(pool));
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage(name + ": a coroutine failed and nobody observed it: coroutine 'coroutine-1' on thread '" + name
                        + "-0' (#" + PoolName.threadId(pool, 0) + "), running the body of execute #1, threw dev.coro.CoroutinePoolTest$Unsuppressible: first;"
                        + " 2 more failures suppressed in this report (the first takes no suppressed exceptions)")
                .cause().isSameAs(first);
        assertThat(first.getSuppressed()).isEmpty();
        assertThat(thrown.getSuppressed()).extracting(Throwable::getMessage).containsExactly("second", "third");
    }

    @Test
    void anExceptionSeveralBodiesThrewIsSuppressedOnceInTheReport() {
        CoroutinePool pool = CoroutinePool.start(1);
        IllegalStateException shared = new IllegalStateException("shared");
        pool.execute(() -> {
            throw new IllegalArgumentException("first");
        });
        for (int i = 0; i < 3; i++) {
            pool.execute(() -> {
                throw shared;
            });
        }
        Throwable thrown = catchThrowableOf(() -> close(pool));
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class).hasMessageEndingWith("first; 1 more failure suppressed");
        assertThat(thrown.getCause().getSuppressed()).containsExactly(shared);
    }

    /**
     * A failure that a failure reported before it carries, as its cause or a suppressed exception at any depth, is
     * not reported a second time beside it: it shows there already. One that carries a failure reported before it is
     * reported, in the report itself (suppressed in the first it would make a cycle); a cycle of causes the bodies'
     * code made, and a {@code getCause()} that throws, end the search without failing the close.
     */
    @Test
    void aFailureThatAFailureReportedBeforeItCarriesIsNotReportedAgainAndOneThatCarriesAnEarlierIs() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        IllegalStateException carried = new IllegalStateException("carried");
        IllegalStateException cyclic = new IllegalStateException("cyclic");
        IllegalStateException carrier = new IllegalStateException("carrier", new RuntimeException("wrapper", carried));
        carried.initCause(cyclic);
        cyclic.initCause(carrier); // carrier -> wrapper -> carried -> cyclic -> carrier
        RuntimeException unreadable = new RuntimeException("unreadable cause") {
            @Override
            public synchronized Throwable getCause() {
                throw new UnsupportedOperationException("getCause");
            }
        };
        IllegalArgumentException holdsTheFirst = new IllegalArgumentException("holds the first", carrier);
        for (RuntimeException thrown : List.of(carrier, carried, unreadable, cyclic, holdsTheFirst)) {
            pool.execute(() -> {
                throw thrown;
            });
        }
        Throwable report = catchThrowableOf(() -> close(pool));
        assertThat(report).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage(name + ": a coroutine failed and nobody observed it: coroutine 'coroutine-1' on thread '" + name
                        + "-0' (#" + PoolName.threadId(pool, 0) + "), running the body of execute #1, threw java.lang.IllegalStateException: carrier;"
                        + " 2 more failures suppressed in this report (one of them holds the first as a cause or a suppressed exception)")
                .cause().isSameAs(carrier);
        assertThat(report.getSuppressed()).containsExactly(unreadable, holdsTheFirst);
        assertThat(carrier.getSuppressed()).isEmpty();
    }

    /**
     * An exception of the user's whose {@code getCause()} makes a new exception at each call, an endless chain of
     * causes, ends close's search of what a failure carries after a bounded walk, as one that carries nothing more:
     * the close reports both failures, the later suppressed in the first, having asked for no more causes than the
     * walk's bound.
     */
    @Test
    void aFailureWhoseGetCauseMakesANewExceptionAtEachCallEndsTheSearchAfterABoundedWalk() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        AtomicInteger causesMade = new AtomicInteger();
        RuntimeException endless = new FailureWithAnEndlessChainOfCausesTest.EndlessCause("endless", causesMade);
        IllegalStateException other = new IllegalStateException("other");
        for (RuntimeException thrown : List.of(endless, other)) {
            pool.execute(() -> {
                throw thrown;
            });
        }
        Throwable report = catchThrowableOf(() -> close(pool));
        assertThat(report).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage(name + ": a coroutine failed and nobody observed it: coroutine 'coroutine-1' on thread '" + name
                        + "-0' (#" + PoolName.threadId(pool, 0) + "), running the body of execute #1, threw dev.coro.FailureWithAnEndlessChainOfCausesTest$EndlessCause: endless;"
                        + " 1 more failure suppressed")
                .cause().isSameAs(endless);
        assertThat(endless.getSuppressed()).containsExactly(other);
        assertThat(causesMade.get()).isLessThanOrEqualTo(Scheduler.MOST_WALKED);
    }

    @Test
    void closeReportsTheFailuresOfSubmitAndExecuteInTheOrderTheyWereSubmitted() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<Object> submitted = pool.submit(() -> {
            throw new IllegalStateException("submitted first");
        });
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(submitted).exceptionally(e -> null))); // allOf reads none of its futures
        CompletableFuture<Void> failing = new CompletableFuture<>();
        pool.execute(() -> {
            failing.complete(null);
            throw new IllegalStateException("executed second");
        });
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(failing));
        // a submit after the execute: a report that put every submit's failure before every execute's, or after,
        // would not keep the order of submission
        CompletableFuture<Object> third = pool.submit(() -> {
            throw new IllegalStateException("submitted third");
        });
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(third).exceptionally(e -> null)));
        Throwable thrown = catchThrowableOf(() -> close(pool));
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage(name + ": a coroutine failed and nobody observed it: coroutine 'coroutine-1' on thread '" + name
                        + "-0' (#" + PoolName.threadId(pool, 0) + "), running the body of submit #1, threw java.lang.IllegalStateException: submitted first;"
                        + " 2 more failures suppressed");
        assertThat(thrown.getCause().getSuppressed()).extracting(Throwable::getMessage)
                .containsExactly("executed second", "submitted third");
    }

    @Test
    void closeDoesNotThrowFailuresWhoseFuturesWereRead() {
        CoroutinePool pool = CoroutinePool.start(2);
        List<CompletableFuture<Object>> futures = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            String message = "failure " + i;
            futures.add(pool.submit(() -> {
                throw new IllegalStateException(message);
            }));
        }
        assertThatThrownBy(() -> futures.get(0).join()).hasRootCauseMessage("failure 0");
        assertThatThrownBy(() -> futures.get(1).get()).hasRootCauseMessage("failure 1");
        assertThatThrownBy(() -> Coroutine.await(futures.get(2))).hasRootCauseMessage("failure 2");
        futures.get(3).exceptionally(e -> null);
        futures.get(4).handle((v, e) -> null);
        futures.get(5).whenComplete((v, e) -> { });
        assertThatThrownBy(() -> futures.get(6).get(1, TimeUnit.MINUTES)).hasRootCauseMessage("failure 6");
        // allOf reads none of them: it waits until the last two have failed
        Coroutine.await(CompletableFuture.allOf(futures.get(7), futures.get(8)).exceptionally(e -> null));
        assertThatThrownBy(() -> futures.get(7).getNow(null)).hasRootCauseMessage("failure 7");
        assertThatThrownBy(() -> futures.get(8).resultNow()).isInstanceOf(IllegalStateException.class);
        close(pool);
    }

    @Test
    void aLongLivedPoolKeepsOnlyTheFuturesOfFailuresNobodyRead() {
        CoroutinePool pool = CoroutinePool.start(2);
        String name = PoolName.of(pool);
        int n = 20_000;
        List<CompletableFuture<Integer>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int k = i;
            futures.add(pool.submit(() -> {
                if (k % 2 == 1) {
                    throw new IllegalStateException("failure " + k);
                }
                return k;
            }));
        }
        // allOf reads none of them; its own future fails with the first failure
        Coroutine.await(CompletableFuture.allOf(futures.toArray(CompletableFuture<?>[]::new)).exceptionally(e -> null));
        for (int k = 5; k < n; k += 2) {
            assertThat(futures.get(k).exceptionNow()).hasMessage("failure " + k); // read: no longer kept
        }
        assertThat(pool.retainedFutures()).as("the two failures nobody read; none of the values").isEqualTo(2);
        futures.clear();
        Throwable thrown = catchThrowableOf(() -> close(pool));
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class)
                .hasMessageMatching(name + ": a coroutine failed and nobody observed it: coroutine 'coroutine-\\d+' on thread '" + name
                        + "(-0' \\(#" + PoolName.threadId(pool, 0) + "\\)|-1' \\(#" + PoolName.threadId(pool, 1) + "\\)), running the body of"
                        + " submit #2, threw java.lang.IllegalStateException: failure 1; 1 more failure suppressed");
        assertThat(thrown.getCause().getSuppressed()).extracting(Throwable::getMessage).containsExactly("failure 3");
        assertThat(pool.retainedFutures()).isZero();
    }

    /**
     * Failures nobody observes (submissions never read, execute bodies) would otherwise be kept until
     * close() however many there are: the pool keeps the first {@value CoroutinePool#KEPT_FAILURES} by
     * the order of submission and counts the rest, and one counted so that is read later is not reported.
     */
    @Test
    @Timeout(60)
    void aLongLivedPoolKeepsTheFirstHundredFailuresNobodyObservedAndCountsTheRest() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        List<CompletableFuture<Integer>> futures = new ArrayList<>();
        for (int k = 1; k <= 150; k++) { // #1 to #150
            int n = k;
            futures.add(pool.submit(() -> {
                throw new IllegalStateException("failure " + n);
            }));
        }
        Coroutine.await(CompletableFuture.allOf(futures.toArray(CompletableFuture<?>[]::new)).exceptionally(e -> null));
        assertThat(pool.keptFailures()).as("failures kept of 150 nobody read").isEqualTo(100);
        assertThat(futures.get(149).exceptionNow()).hasMessage("failure 150"); // counted, not kept: no longer counted
        assertThat(futures.get(0).exceptionNow()).hasMessage("failure 1"); // kept: no longer kept
        assertThat(pool.keptFailures()).isEqualTo(99);
        for (int k = 151; k <= 160; k++) { // #151 to #160: the first is kept, the others counted
            int n = k;
            pool.execute(() -> {
                throw new IllegalStateException("failure " + n);
            });
        }
        Throwable thrown = catchThrowableOf(() -> close(pool));
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class)
                .hasMessageMatching(name + ": a coroutine failed and nobody observed it: coroutine 'coroutine-\\d+' on thread '" + name
                        + "-0' \\(#" + PoolName.threadId(pool, 0) + "\\), running the body of submit #2, threw java.lang.IllegalStateException: failure 2; 99 more failures"
                        + " suppressed; 58 more not kept \\(a pool keeps the first 100 failures nobody observed\\)");
        List<String> suppressed = new ArrayList<>();
        for (Throwable t : thrown.getCause().getSuppressed()) {
            suppressed.add(t.getMessage());
        }
        assertThat(suppressed).hasSize(99).startsWith("failure 3").endsWith("failure 100", "failure 151");
        assertThat(pool.keptFailures()).isZero();
    }

    @Test
    void aFailureIsKeptForCloseBeforeItsFutureWakesAnyone() {
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<Void> go = new CompletableFuture<>();
        CompletableFuture<Integer> failing = pool.submit(() -> {
            Coroutine.await(go);
            throw new IllegalStateException("failure nobody read");
        });
        // allOf reads nothing; its callback runs on the pool's thread as the submission fails
        CompletableFuture<Integer> keptWhenWoken = CompletableFuture.allOf(failing)
                .handle((v, e) -> pool.retainedFutures());
        go.complete(null);
        assertThat(Coroutine.await(keptWhenWoken)).as("failures kept for close() when the failure woke its first waiter").isEqualTo(1);
        Throwable thrown = catchThrowableOf(() -> close(pool));
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class).rootCause().hasMessage("failure nobody read");
    }

    @Test
    void closeThrowsAFailureANestedCoroutineLeftToItsThreadsMain() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        Thread thread = Coroutine.await(pool.submit(Peer::schedulerThread));
        pool.execute(() -> Coroutine.create("nested", () -> {
            throw new IllegalStateException("lost");
        })); // the body returns before the nested coroutine runs: its failure goes to the pool's main
        Throwable thrown = catchThrowableOf(() -> close(pool));
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage(name + ": a coroutine failed and nobody observed it: left to main context 'main' of thread '" + name
                        + "-0' (#" + thread.threadId() + "): dev.coro.CoroutineException:"
                        + " coroutine 'nested' failed: java.lang.IllegalStateException: lost")
                .rootCause().isExactlyInstanceOf(IllegalStateException.class).hasMessage("lost");
    }

    @Test
    void aFailureLeftToAThreadsMainTakesNoSubmissionNumberAndIsReportedBetweenTheSubmissionsAroundIt() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<Void> thrown = new CompletableFuture<>();
        Thread thread = Coroutine.await(pool.submit(() -> { // #1
            Coroutine.create("nested", () -> {
                Coroutine.await(gate);
                thrown.complete(null);
                throw new IllegalStateException("left to main"); // its creator has ended: to the pool thread's main
            });
            return Peer.schedulerThread();
        }));
        gate.complete(null);
        Coroutine.await(thrown);
        Coroutine.await(pool.submit(() -> null)); // #2: runs once the failure has reached main
        CompletableFuture<Object> third = pool.submit(() -> {
            throw new IllegalStateException("third");
        });
        assertThat(third.toString()).startsWith("the future of submit #3 to " + name);
        Throwable report = catchThrowable(() -> close(pool));
        assertThat(report).isExactlyInstanceOf(CoroutineException.class)
                .hasMessageStartingWith(name + ": a coroutine failed and nobody observed it: left to main context 'main' of thread '"
                        + name + "-0' (#" + thread.threadId() + "): ")
                .hasMessageEndingWith("; 1 more failure suppressed");
        assertThat(report.getCause().getSuppressed()).extracting(Throwable::getMessage).containsExactly("third");
    }

    @Test
    void submitAndExecuteAfterCloseAreRejected() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        close(pool);
        assertThatThrownBy(() -> pool.submit(() -> 1)).isExactlyInstanceOf(RejectedExecutionException.class)
                .hasMessage("main context 'main' cannot submit to " + name + " (closed): a closed pool takes no more bodies");
        assertThatThrownBy(() -> pool.execute(() -> { })).isExactlyInstanceOf(RejectedExecutionException.class)
                .hasMessage("main context 'main' cannot execute on " + name + " (closed): a closed pool takes no more bodies");
        List<String> refused = new ArrayList<>();
        Coroutine.create("submitter", () -> refused.add(catchThrowable(() -> pool.submit(() -> 1)).getMessage())).switchTo();
        assertThat(refused).containsExactly("coroutine 'submitter' cannot submit to " + name + " (closed): a closed pool takes no more bodies");
        Thread plain = Thread.ofPlatform().name("plain").unstarted(
                () -> refused.add(catchThrowable(() -> pool.execute(() -> { })).getMessage()
                        + (Scheduler.currentOrNull() == null ? "" : " (a scheduler was made)")));
        plain.start();
        Peer.join(plain);
        assertThat(refused).as("a thread that never used coroutines is named, and gets no scheduler for it").last()
                .isEqualTo("thread " + Scheduler.describe(plain) + " cannot execute on " + name + " (closed): a closed pool takes no more bodies");
    }

    @Test
    void closeFromAPoolThreadIsRefused() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        try {
            CompletableFuture<String> refused = pool.submit(() -> {
                AtomicReference<String> outcome = new AtomicReference<>();
                Coroutine.create("closer", () -> {
                    try {
                        pool.close();
                        outcome.set("closed");
                    } catch (IllegalStateException e) {
                        outcome.set(e.getMessage());
                    }
                }).switchTo();
                return outcome.get() + " / thread " + Scheduler.describe(Peer.schedulerThread());
            });
            String r = Coroutine.withTimeout(GUARD, () -> Coroutine.await(refused));
            String thread = r.substring(r.indexOf(" / thread ") + " / thread ".length());
            assertThat(thread).startsWith("'" + name + "-0' (#");
            assertThat(r).isEqualTo("coroutine 'closer' cannot close " + name + " (running) from its own thread " + thread
                    + ": it would wait for itself / thread " + thread);
            assertThat(pool.toString()).endsWith("running]");
        } finally {
            close(pool);
        }
    }

    @Test
    void aPoolOfLessThanOneThreadIsRefused() throws InterruptedException {
        assertThat(OtherThread.thrownOn("starter", () -> CoroutinePool.start(0)))
                .isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessageMatching("thread 'starter' \\(#\\d+\\) cannot start a coroutine pool of 0 threads: it needs at least 1");
        Coroutine.create("starter", () -> assertThatThrownBy(() -> CoroutinePool.start(-3))
                .isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessage("coroutine 'starter' cannot start a coroutine pool of -3 threads: it needs at least 1")).switchTo();
        assertThat(CoroutinePool.openPools()).as("no pool was left open").isZero();
    }

    /**
     * A starter of pool threads that starts the first and adds it to {@code started}, then refuses every
     * other as the JVM refuses a thread it cannot start ({@code OutOfMemoryError}).
     */
    static Consumer<Thread> startingTheFirstOnly(List<Thread> started) {
        return t -> {
            if (!started.isEmpty()) {
                throw new OutOfMemoryError("unable to create native thread: refused for a test");
            }
            t.start();
            started.add(t);
        };
    }

    /**
     * A pool whose second thread the JVM cannot start (it can make no more threads) refuses to start,
     * naming that thread, and the thread it did start ends: nothing can close a pool {@code start}
     * never returned, so it must not stay open, keeping every thread of the JVM from reporting a
     * deadlock, nor keep a thread waiting for its work for good.
     */
    @Test
    @Timeout(20)
    void aPoolWhoseThreadCannotBeStartedEndsTheThreadItStartedAndDoesNotStayOpen() throws InterruptedException {
        List<Thread> started = new ArrayList<>();
        CoroutinePool.starter = startingTheFirstOnly(started);
        try {
            assertThatThrownBy(() -> CoroutinePool.start(2))
                    .isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessageMatching("thread 'test-aPoolWhoseThreadCannotBeStartedEndsTheThreadItStartedAndDoesNotStayOpen'"
                            + " \\(#\\d+\\) cannot start (coro-pool-\\d+): its thread '\\1-1' \\(#\\d+\\) could not be started:"
                            + " java.lang.OutOfMemoryError: unable to create native thread: refused for a test")
                    .cause().isExactlyInstanceOf(OutOfMemoryError.class);
        } finally {
            CoroutinePool.starter = Thread::start;
        }
        assertThat(started).extracting(Thread::getName).singleElement().asString().endsWith("-0");
        started.get(0).join();
        assertThat(CoroutinePool.openPools()).as("the pool that failed to start is not open").isZero();
        assertThat(Peer.call("after", CoroutinePoolTest::waitAloneOnAChannel))
                .startsWith("DeadlockException: main context 'main' cannot receive from channel 'alone'");
    }

    /**
     * A body whose coroutine cannot be made (the JVM has no memory left for it) fails its future saying
     * so, on either engine; the pool thread lives on and serves, and {@code close()} ends and reports
     * such a body run by {@code execute}.
     */
    @Test
    @Timeout(20)
    void aBodyWhoseCoroutineCannotBeMadeFailsItsFutureAndThePoolThreadServesOn() {
        CoroutinePool pool = CoroutinePool.start(2);
        String name = PoolName.of(pool);
        java.util.concurrent.atomic.AtomicInteger refusals = new java.util.concurrent.atomic.AtomicInteger();
        java.util.function.BiFunction<Scheduler, Runnable, Context> maker = CoroutinePool.maker;
        CoroutinePool.maker = (s, body) -> {
            if (refusals.getAndDecrement() > 0) {
                throw new OutOfMemoryError("Java heap space: refused for a test");
            }
            return maker.apply(s, body);
        };
        try {
            refusals.set(1);
            CompletableFuture<String> refused = pool.submit(() -> "never"); // #1
            assertThat(catchThrowable(refused::join)).isExactlyInstanceOf(CompletionException.class).cause()
                    .isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessage(name + ": thread '" + name + "-0' (#" + PoolName.threadId(pool, 0) + ") could not run the body of submit #1: its coroutine could not be made"
                            + " (java.lang.OutOfMemoryError: Java heap space: refused for a test)")
                    .cause().isExactlyInstanceOf(OutOfMemoryError.class);
            assertThat(Coroutine.await(pool.submit(() -> Scheduler.current().owner.getName()))).as("#2, on the next thread in turn")
                    .isEqualTo(name + "-1");
            assertThat(Coroutine.await(pool.submit(() -> Scheduler.current().owner.getName()))).as("#3, on the refusing thread, serving on")
                    .isEqualTo(name + "-0");
            refusals.set(1);
            pool.execute(() -> { }); // #4: refused too, and nobody reads it
            Throwable thrown = catchThrowableOf(() -> close(pool));
            assertThat(thrown).isExactlyInstanceOf(CoroutineException.class)
                    .hasMessage(name + ": a coroutine failed and nobody observed it: the body of execute #4 never ran:"
                            + " java.lang.IllegalStateException: " + name + ": thread '" + name + "-1' (#" + PoolName.threadId(pool, 1) + ") could not run the body of execute #4:"
                            + " its coroutine could not be made (java.lang.OutOfMemoryError: Java heap space: refused for a test)");
        } finally {
            CoroutinePool.maker = maker;
        }
    }

    /**
     * On the thread engine a body's coroutine runs on a virtual thread of its own, which the JVM may be
     * unable to start (threads or memory exhausted): the body's future fails saying so, the pool thread
     * lives on and serves, and {@code close()} ends and reports such a body run by {@code execute}.
     */
    @Test
    @Timeout(20)
    @EnabledIf(value = "dev.coro.ThreadEngineTest#threadEngineRuns", disabledReason = "a coroutine of the continuation engine starts no thread")
    void aBodyWhoseThreadCannotBeStartedFailsItsFutureAndThePoolThreadServesOn() {
        CoroutinePool pool = CoroutinePool.start(2);
        String name = PoolName.of(pool);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<Void> held = pool.submit(() -> Coroutine.await(gate)); // #1, on one thread: the others go to the other
        CompletableFuture<Thread> armed = pool.submit(() -> { // #2
            ((ThreadEngine) Scheduler.current().engine).refuseStarts = 1;
            return Scheduler.current().owner;
        });
        Thread owner = Coroutine.await(armed);
        String thread = owner.getName();
        CompletableFuture<String> refused = pool.submit(() -> "never"); // #3: its thread is refused
        Throwable failure = catchThrowable(refused::join);
        assertThat(failure).isExactlyInstanceOf(CompletionException.class).cause()
                .isExactlyInstanceOf(IllegalStateException.class)
                .hasMessageMatching(name + ": thread '" + thread + "' \\(#" + owner.threadId() + "\\) could not run the body of submit #3:"
                        + " no virtual thread could be"
                        + " started for coroutine 'coroutine-\\d+' \\(java.util.concurrent.RejectedExecutionException: refused for a test\\)");
        assertThat(Coroutine.await(pool.submit(() -> Scheduler.current().owner.getName()))).as("the same thread, serving on")
                .isEqualTo(thread);
        Coroutine.await(pool.submit(() -> {
            ((ThreadEngine) Scheduler.current().engine).refuseStarts = 1;
            return null;
        }));
        pool.execute(() -> { }); // #6: refused too, and nobody reads it
        gate.complete(null);
        Coroutine.await(held);
        Throwable thrown = catchThrowableOf(() -> close(pool));
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class)
                .hasMessageMatching(name + ": a coroutine failed and nobody observed it: the body of execute #6 never ran:"
                        + " java.lang.IllegalStateException: " + name + ": thread '" + thread
                        + "' \\(#" + owner.threadId() + "\\) could not run the body of execute #6: no virtual thread could be started for"
                        + " coroutine 'coroutine-\\d+'"
                        + " \\(java.util.concurrent.RejectedExecutionException: refused for a test\\)")
                .cause().isExactlyInstanceOf(IllegalStateException.class);
    }

    /**
     * A coroutine a body created, which the pool thread's main chose as the body ended and whose thread
     * cannot be started, is closed, never having run, and reported once by {@code close()}: the main
     * would otherwise choose it again at once, and again, for as long as no thread can be started.
     */
    @Test
    @Timeout(20)
    @EnabledIf(value = "dev.coro.ThreadEngineTest#threadEngineRuns", disabledReason = "a coroutine of the continuation engine starts no thread")
    void aCoroutineABodyCreatedWhoseThreadCannotBeStartedIsClosedAndReportedOnce() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        List<String> ran = Collections.synchronizedList(new ArrayList<>());
        AtomicReference<Coroutine> inner = new AtomicReference<>();
        Thread owner = Coroutine.await(pool.submit(() -> {
            inner.set(Coroutine.create("inner", () -> ran.add("inner")));
            ((ThreadEngine) Scheduler.current().engine).refuseStarts = Integer.MAX_VALUE; // no thread can be started from now on
            return Scheduler.current().owner;
        }));
        String thread = owner.getName();
        Throwable thrown = catchThrowableOf(() -> close(pool));
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage(name + ": a coroutine failed and nobody observed it: left to main context 'main' of thread '" + thread
                        + "' (#" + owner.threadId() + "):"
                        + " java.lang.IllegalStateException: " + name + ": thread '" + thread + "' (#" + owner.threadId() + ") closed coroutine"
                        + " 'inner', which a body"
                        + " created, never run: no virtual thread could be started for coroutine 'inner'"
                        + " (java.util.concurrent.RejectedExecutionException: refused for a test)");
        assertThat(inner.get().context.state()).as("read from another thread, once the pool has ended").isEqualTo(Coroutine.State.CLOSED);
        assertThat(ran).isEmpty();
    }

    @Test
    void whileAPoolIsOpenAThreadWithNothingToRunWaitsInsteadOfReportingADeadlock() {
        assertThat(CoroutinePool.openPools()).as("no pool is open before: the first wait below is a deadlock only then").isZero();
        assertThat(Peer.call("before", CoroutinePoolTest::waitAloneOnAChannel))
                .startsWith("DeadlockException: main context 'main' cannot receive from channel 'alone'");
        CoroutinePool pool = CoroutinePool.start(1);
        try {
            CompletableFuture<Thread> waiter = new CompletableFuture<>();
            CompletableFuture<Channel<String>> published = new CompletableFuture<>();
            CompletableFuture<String> got = Peer.start("while-open", () -> {
                waiter.complete(Thread.currentThread());
                Channel<String> alone = new Channel<>("alone", 0);
                published.complete(alone);
                return alone.receive(); // no exchange with anyone yet: only the open pool keeps this a wait
            });
            Thread t = Coroutine.await(waiter);
            Channel<String> alone = Coroutine.await(published);
            assertThat(Peer.awaitBlocked(t, got)).as("it blocks").isTrue();
            alone.send("woken"); // from this thread: the send is served on the waiter's thread
            assertThat(Coroutine.await(got)).isEqualTo("woken");
        } finally {
            close(pool);
        }
        assertThat(Peer.call("after", CoroutinePoolTest::waitAloneOnAChannel))
                .startsWith("DeadlockException: main context 'main' cannot receive from channel 'alone'");
    }

    /** On a thread that has exchanged nothing: receives on a channel nobody else knows. */
    private static String waitAloneOnAChannel() {
        try {
            return new Channel<String>("alone", 0).receive();
        } catch (DeadlockException e) {
            return "DeadlockException: " + e.getMessage();
        }
    }

    /** An exception made with suppression disabled: {@code addSuppressed} does nothing on it. */
    private static final class Unsuppressible extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Unsuppressible(String message) {
            super(message, null, false, true);
        }
    }

    private static Throwable catchThrowableOf(Runnable r) {
        try {
            r.run();
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    /** The heap in use once the garbage collector has run (a few times, so that the figure settles). */
    private static long heapInUse() {
        Runtime rt = Runtime.getRuntime();
        for (int k = 0; k < 5; k++) {
            System.gc();
        }
        return rt.totalMemory() - rt.freeMemory();
    }

    @Test
    @Tag("heap") // a figure of the heap: CI's interpreted-only and C1-only passes leave it out (see .ci/run)
    @Timeout(120)
    void aBurstOfSubmissionsOnceRunLeavesNothingOfItsSizeOnThePoolThread() {
        int burst = 300_000;
        CoroutinePool pool = CoroutinePool.start(1);
        try {
            // as many coroutines at once on the thread as the burst makes, with no submission waiting:
            // what grows with them alone (the run list, the JDK's own tables of threads) has grown already
            assertThat(pool.submit(() -> {
                Channel<Integer> gate = new Channel<>(0);
                for (int i = 0; i < burst + 1; i++) {
                    Coroutine.create(() -> gate.iterator().hasNext()).switchTo(); // false once it is closed
                }
                gate.close();
                return 0;
            }).join()).isZero();
            assertThat(pool.submit(() -> 1).join()).isEqualTo(1);
            // one burst first, so that what its path makes once for good (compiled code, classes, the
            // engine's own caches) is in the figure before: what the second one leaves is what a burst keeps.
            // Room that the first burst took and nothing gives back is in that figure too, and the second
            // burst reuses it: CoroutinePoolQueueRoomTest checks the room of the queue of waiting bodies itself
            queuedBurst(pool, burst);
            // what a burst keeps is kept by every burst: a second measured one, taken only if the first kept too
            // much, must keep it again. What is kept once only is the JDK's: on the thread engine its scheduler
            // of virtual threads may grow, once for good, a work queue of its own that the burst before did not
            // use (2.9 MB was seen once, in a run of several pool test classes, and never again in the same run)
            long kept = Long.MAX_VALUE;
            for (int round = 0; round < 2 && kept >= 1 << 19; round++) {
                long before = heapInUse();
                queuedBurst(pool, burst);
                kept = heapInUse() - before;
            }
            assertThat(kept).as("bytes the pool thread kept after a burst of %d submissions", burst).isLessThan(1 << 19);
        } finally {
            close(pool);
        }
    }

    /**
     * Queues {@code burst} submissions on {@code pool}'s one thread while a body blocks it, then lets them
     * all run, and checks each ran.
     */
    private static void queuedBurst(CoroutinePool pool, int burst) {
        CountDownLatch held = new CountDownLatch(1);
        CompletableFuture<Integer> holding = pool.submit(() -> {
            try {
                held.await(); // blocks the pool thread: the burst queues up meanwhile
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            return 0;
        });
        CompletableFuture<Integer> last = null;
        for (int i = 0; i < burst; i++) {
            last = pool.submit(() -> 1);
        }
        held.countDown();
        assertThat(holding.join()).isZero();
        assertThat(last.join()).isEqualTo(1);
        assertThat(pool.submit(() -> 2).join()).isEqualTo(2);
    }
}
