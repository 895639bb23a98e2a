package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.management.CoroutinesManagement;
import dev.coro.management.SchedulerInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A pool started with a name of its own ({@link CoroutinePool#start(String, int)}) is named so wherever
 * {@code coro-pool-N} would be: its description, its threads, the report of its failures, its refusals and
 * the futures of its submissions; a name that is null is refused before the count of threads, one that spans
 * lines or holds a quote is shown escaped, an empty one is taken as it is, and two pools of one name each work
 * and leave no thread behind once closed. {@link CoroutinePool#name()} gives the name as it was given, not escaped
 * nor cut as messages show it, or {@code coro-pool-N} for a pool {@link CoroutinePool#start(int)} started; the same
 * from any thread, while the pool runs and once it is closed.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
@Timeout(60)
class NamedPoolTest {

    /** A bound for a close, below the class's timeout, so that a close that hangs fails as the close's own timeout. */
    private static final Duration GUARD = Duration.ofSeconds(30);

    /** Closes {@code pool}, failing rather than hanging if the close does not end within {@link #GUARD}. */
    private static void close(CoroutinePool pool) {
        Coroutine.withTimeout(GUARD, pool::close);
    }

    /** The pool thread a body runs on, on either engine (on the thread engine the body runs on a virtual thread of its own). */
    private static Thread poolThread() {
        return Scheduler.current().owner;
    }

    private static boolean threadEngine() {
        return Engines.running().equals("threads");
    }

    @Test
    void aNamedPoolsDescriptionAndThreadsCarryItsNameAndNoThreadOfItIsLeftOnceClosed() {
        CoroutinePool pool = CoroutinePool.start("ingest", 2);
        List<Thread> threads = new ArrayList<>();
        try {
            assertThat(pool).hasToString("CoroutinePool[ingest, 2 threads, running]");
            for (int i = 0; i < 2; i++) {
                threads.add(Coroutine.await(pool.submit(NamedPoolTest::poolThread)));
            }
            assertThat(threads).extracting(Thread::getName).containsExactly("ingest-0", "ingest-1");
            String seen = Coroutine.await(pool.submit("reader", () -> Thread.currentThread().getName()));
            assertThat(seen).as("Thread.currentThread() in a body").isEqualTo(threadEngine() ? "coro reader" : "ingest-0");
        } finally {
            close(pool);
        }
        assertThat(pool).hasToString("CoroutinePool[ingest, 2 threads, closed]");
        assertThat(threads).noneMatch(Thread::isAlive);
        assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName).doesNotContain("ingest-0", "ingest-1");
    }

    @Test
    void theReportOfANamedPoolsUnobservedFailureNamesThePoolAndItsThread() {
        CoroutinePool pool = CoroutinePool.start("ingest", 1);
        pool.execute(() -> {
            throw new IllegalStateException("boom");
        });
        assertThat(catchThrowable(() -> close(pool))).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage("ingest: a coroutine failed and nobody observed it: coroutine 'coroutine-1' on thread 'ingest-0' (#"
                        + PoolName.threadId(pool, 0) + "), running the body of execute #1, threw java.lang.IllegalStateException: boom");
    }

    @Test
    void aNamedPoolsRefusalsAndTheFuturesOfItsSubmissionsNameIt() {
        CoroutinePool pool = CoroutinePool.start("ingest", 1);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<Void> waiting;
        try {
            waiting = pool.submit("acceptor", () -> Coroutine.await(gate));
            assertThat(waiting).hasToString("the future of submit #1 (coroutine 'acceptor') to ingest[Not completed]");
            String ownThread = Coroutine.await(pool.submit(() -> catchThrowable(pool::close).getMessage()));
            assertThat(ownThread).matches("coroutine 'coroutine-2' cannot close ingest \\(running\\) from its own thread"
                    + " 'ingest-0' \\(#\\d+\\): it would wait for itself");
        } finally {
            gate.complete(null);
            close(pool);
        }
        assertThat(Coroutine.await(waiting)).isNull();
        assertThatThrownBy(() -> pool.execute(() -> { }))
                .isExactlyInstanceOf(RejectedExecutionException.class)
                .hasMessage("main context 'main' cannot execute on ingest (closed): a closed pool takes no more bodies");
    }

    @Test
    void aDumpNamesAWaitOnANamedPoolByItsName() {
        CoroutinePool pool = CoroutinePool.start("ingest", 1);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        try {
            String poolMain = Coroutine.await(pool.submit(() -> Coroutine.dump().lines()
                    .filter(l -> l.startsWith("  [0]")).findFirst().orElseThrow()));
            assertThat(poolMain).isEqualTo("  [0] main: PARKED, waits to take work from ingest");
            pool.execute(() -> Coroutine.await(gate));
            Coroutine closer = Coroutine.create("closer", () -> close(pool));
            closer.switchTo(); // it parks in close(), waiting for the body
            assertThat(Coroutine.dump()).contains("coroutine 'closer': PARKED, waits to await the close of ingest"
                    + " (1 submitted body has not ended)");
            gate.complete(null);
            closer.join();
        } finally {
            gate.complete(null);
            close(pool);
        }
    }

    @Test
    void aNullNameIsRefusedNamingTheParameterBeforeTheCountOfThreadsIsChecked() {
        assertThatThrownBy(() -> CoroutinePool.start(null, 1)).isExactlyInstanceOf(NullPointerException.class).hasMessage("name");
        assertThatThrownBy(() -> CoroutinePool.start(null, 0)).isExactlyInstanceOf(NullPointerException.class).hasMessage("name");
        assertThat(CoroutinePool.openPools()).isZero();
    }

    @Test
    void aNamedPoolOfLessThanOneThreadIsRefusedNamingThePool() throws InterruptedException {
        assertThat(OtherThread.thrownOn("starter", () -> CoroutinePool.start("ingest", 0)))
                .isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessageMatching("thread 'starter' \\(#\\d+\\) cannot start ingest of 0 threads: it needs at least 1");
        Coroutine.create("starter", () -> assertThatThrownBy(() -> CoroutinePool.start("in\ngest", -3))
                .isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessage("coroutine 'starter' cannot start in\\ngest of -3 threads: it needs at least 1")).switchTo();
        assertThat(CoroutinePool.openPools()).isZero();
    }

    /** A count of threads the JVM has no room for is refused as {@code start(n)} refuses it, naming the pool and the count. */
    @Test
    void aNamedPoolOfMoreThreadsThanTheJvmHasRoomForIsRefusedNamingThePoolAndTheCountAndStartsNothing() {
        List<Throwable> refused = new ArrayList<>();
        Coroutine.create("starter", () -> refused.add(catchThrowable(() -> CoroutinePool.start("in\ngest", Integer.MAX_VALUE))))
                .switchTo();
        Throwable e = refused.get(0);
        assertThat(e).isExactlyInstanceOf(IllegalStateException.class).hasCauseExactlyInstanceOf(OutOfMemoryError.class)
                .hasMessage("coroutine 'starter' cannot start in\\ngest of 2147483647 threads: the JVM has no memory left to make"
                        + " them: " + e.getCause());
        assertThat(CoroutinePool.openPools()).isZero();
        assertThat(Thread.getAllStackTraces().keySet()).as("no thread of it started").noneMatch(t -> t.getName().startsWith("in\ngest-"));
    }

    /** A thread the JVM cannot start is refused as {@code start(n)} refuses it, naming the pool and the thread, both escaped. */
    @Test
    void aNamedPoolWhoseThreadCannotBeStartedIsRefusedNamingThePoolAndTheThreadAndEndsTheOneItStarted() throws InterruptedException {
        List<Thread> started = new ArrayList<>();
        CoroutinePool.starter = CoroutinePoolTest.startingTheFirstOnly(started);
        Throwable e;
        try {
            e = OtherThread.thrownOn("starter", () -> CoroutinePool.start("in\ngest", 2));
        } finally {
            CoroutinePool.starter = Thread::start;
        }
        assertThat(e).isExactlyInstanceOf(IllegalStateException.class).hasCauseExactlyInstanceOf(OutOfMemoryError.class)
                .hasMessageMatching("thread 'starter' \\(#\\d+\\) cannot start in\\\\ngest: its thread 'in\\\\ngest-1' \\(#\\d+\\) could not be"
                        + " started: java.lang.OutOfMemoryError: unable to create native thread: refused for a test");
        assertThat(started).extracting(Thread::getName).containsExactly("in\ngest-0");
        started.get(0).join();
        assertThat(CoroutinePool.openPools()).as("the pool that failed to start is not open").isZero();
    }

    @Test
    void aNameThatSpansLinesOrHoldsAQuoteIsShownEscapedAndItsThreadsTakeItAsItIs() {
        CoroutinePool pool = CoroutinePool.start("in\ngest's", 1);
        String described;
        String thread;
        Throwable report;
        try {
            described = pool.toString();
            thread = Coroutine.await(pool.submit(() -> poolThread().getName()));
            pool.execute(() -> {
                throw new IllegalStateException("boom");
            });
        } finally {
            report = catchThrowable(() -> close(pool));
        }
        assertThat(described).isEqualTo("CoroutinePool[in\\ngest\\'s, 1 thread, running]");
        assertThat(thread).isEqualTo("in\ngest's-0");
        assertThat(report).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage("in\\ngest\\'s: a coroutine failed and nobody observed it: coroutine 'coroutine-2' on thread"
                        + " 'in\\ngest\\'s-0' (#" + PoolName.threadId(pool, 0) + "), running the body of execute #2, threw"
                        + " java.lang.IllegalStateException: boom");
    }

    @Test
    void anEmptyNameIsTakenAsItIs() {
        CoroutinePool pool = CoroutinePool.start("", 1);
        try {
            assertThat(pool).hasToString("CoroutinePool[, 1 thread, running]");
            assertThat(Coroutine.await(pool.submit(() -> poolThread().getName()))).isEqualTo("-0");
        } finally {
            close(pool);
        }
    }

    @Test
    void aNamedPoolTakesNoNumberSoThePoolsWithoutANameAroundItAreNumberedOneAfterTheOther() {
        CoroutinePool before = CoroutinePool.start(1);
        CoroutinePool named = CoroutinePool.start("ingest", 1);
        CoroutinePool after = CoroutinePool.start(1);
        String first = PoolName.of(before);
        String second = PoolName.of(after);
        close(before);
        close(named);
        close(after);
        long n = Long.parseLong(first.substring("coro-pool-".length()));
        assertThat(second).isEqualTo("coro-pool-" + (n + 1));
    }

    /**
     * Two pools may share a name, as threads may: each runs its own bodies, the JMX view lists the threads of both
     * under that name, and closing one leaves the other running.
     */
    @Test
    void twoPoolsOfOneNameEachWorkAndTheJmxViewListsTheThreadsOfBoth() {
        CoroutinePool one = CoroutinePool.start("twin", 1);
        CoroutinePool other = CoroutinePool.start("twin", 1);
        try {
            Thread first = Coroutine.await(one.submit(NamedPoolTest::poolThread));
            Thread second = Coroutine.await(other.submit(NamedPoolTest::poolThread));
            assertThat(first).isNotSameAs(second);
            assertThat(List.of(first.getName(), second.getName())).containsOnly("twin-0");
            List<SchedulerInfo> rows = CoroutinesManagement.mxBean().getSchedulers().stream()
                    .filter(r -> r.threadName().equals("twin-0")).toList();
            assertThat(rows).extracting(SchedulerInfo::threadId).containsExactlyInAnyOrder(first.threadId(), second.threadId());
            close(one);
            assertThat(one).hasToString("CoroutinePool[twin, 1 thread, closed]");
            assertThat(other).hasToString("CoroutinePool[twin, 1 thread, running]");
            assertThat(Coroutine.await(other.submit(() -> "still served"))).isEqualTo("still served");
        } finally {
            close(one);
            close(other);
        }
    }

    @Test
    void aNamedPoolsNameIsTheNameGivenAsItIsThePrefixOfItsThreadsNamesBeforeAndAfterItsClose() {
        String given = "in\ngest's \\ " + "x".repeat(250);
        CoroutinePool pool = CoroutinePool.start(given, 1);
        String seenInABody;
        String threadName;
        try {
            assertThat(pool.name()).isEqualTo(given);
            seenInABody = Coroutine.await(pool.submit(pool::name));
            threadName = Coroutine.await(pool.submit(() -> Scheduler.current().owner.getName()));
        } finally {
            close(pool);
        }
        assertThat(seenInABody).as("read on a thread of the pool").isEqualTo(given);
        assertThat(threadName).isEqualTo(given + "-0");
        assertThat(pool.name()).as("once closed").isEqualTo(given);
        assertThat(pool).as("the description shows it escaped and cut")
                .hasToString("CoroutinePool[in\\ngest\\'s \\\\ " + "x".repeat(188) + "\u2026(+62 chars), 1 thread, closed]");
    }

    @Test
    void anEmptyNameIsGivenBackEmpty() {
        CoroutinePool pool = CoroutinePool.start("", 1);
        try {
            assertThat(pool.name()).isEmpty();
        } finally {
            close(pool);
        }
    }

    @Test
    void aPoolStartedWithoutANameIsNamedCoroPoolNItsThreadsNamedAfterIt() {
        CoroutinePool pool = CoroutinePool.start(1);
        String thread;
        try {
            thread = Coroutine.await(pool.submit(() -> Scheduler.current().owner.getName()));
        } finally {
            close(pool);
        }
        assertThat(pool.name()).matches("coro-pool-\\d+").isEqualTo(PoolName.of(pool));
        assertThat(thread).isEqualTo(pool.name() + "-0");
    }

    /**
     * A pool named as an unnamed one is (or will be) is a pool of its own: nothing is kept under a name, so each
     * reports its own failure at its own close, and the count of unnamed pools goes on past it.
     */
    @Test
    void aPoolNamedAsAnUnnamedPoolIsAPoolOfItsOwnAndTheCountGoesOnPastIt() {
        CoroutinePool unnamed = CoroutinePool.start(1);
        CoroutinePool named = CoroutinePool.start(unnamed.name(), 1);
        long n = Long.parseLong(unnamed.name().substring("coro-pool-".length()));
        CoroutinePool next = CoroutinePool.start(1);
        CoroutinePool namedAsTheNext = CoroutinePool.start("coro-pool-" + (n + 2), 1);
        CoroutinePool afterIt = CoroutinePool.start(1);
        Throwable report;
        try {
            assertThat(named.name()).isEqualTo(unnamed.name());
            assertThat(next.name()).isEqualTo("coro-pool-" + (n + 1));
            assertThat(afterIt.name()).as("a pool given a name takes no number").isEqualTo(namedAsTheNext.name());
            named.execute(() -> {
                throw new IllegalStateException("the named one's");
            });
        } finally {
            close(unnamed);
            close(next);
            close(namedAsTheNext);
            close(afterIt);
            report = catchThrowable(() -> close(named));
        }
        assertThat(report).as("the named pool's close reports its own failure").isExactlyInstanceOf(CoroutineException.class)
                .hasMessage(unnamed.name() + ": a coroutine failed and nobody observed it: coroutine 'coroutine-1' on thread '"
                        + unnamed.name() + "-0' (#" + PoolName.threadId(named, 0) + "), running the body of execute #1, threw java.lang.IllegalStateException: the named one's");
    }
}
