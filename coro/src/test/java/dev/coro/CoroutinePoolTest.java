package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link CoroutinePool}: where submitted bodies run, what runs on a pool thread, and what
 * {@code close()} waits for, ends and reports.
 *
 * <p>Every test closes its pool: while one is open no thread of the JVM reports a deadlock.
 */
@ExtendWith(FreshThread.class)
class CoroutinePoolTest {

    /** A bound for waits that are expected to end long before it: a guard against a hang. */
    private static final Duration GUARD = Duration.ofSeconds(30);

    private final List<String> events = Collections.synchronizedList(new ArrayList<>());

    /** Closes {@code pool}, failing rather than hanging if the close does not end. */
    private static void close(CoroutinePool pool) {
        Coroutine.withTimeout(GUARD, pool::close);
    }

    /** The pool's name, e.g. {@code coro-pool-3}, from its description. */
    private static String nameOf(CoroutinePool pool) {
        String s = pool.toString();
        return s.substring("CoroutinePool[".length(), s.indexOf(','));
    }

    // ---- placement ------------------------------------------------------------------------------

    @Test
    void twoLongWaitingBodiesLandOnDifferentThreads() {
        CoroutinePool pool = CoroutinePool.start(2);
        String name = nameOf(pool);
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
        String name = nameOf(pool);
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
        String name = nameOf(pool);
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
        assertThat(events.getFirst()).isEqualTo("feeder runs while " + pool);
        assertThat(events.subList(1, 4)).containsExactlyInAnyOrder("nested got x", "nested ends", "body ends");
        assertThat(events.indexOf("nested got x")).isLessThan(events.indexOf("nested ends"));
        assertThat(pool.toString()).endsWith("closing]");
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
    void closeThrowsAFailureANestedCoroutineLeftToItsThreadsMain() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = nameOf(pool);
        pool.execute(() -> Coroutine.create("nested", () -> {
            throw new IllegalStateException("lost");
        })); // the body returns before the nested coroutine runs: its failure goes to the pool's main
        Throwable thrown = catchThrowableOf(() -> close(pool));
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage(name + ": a coroutine failed and nobody observed it: dev.coro.CoroutineException:"
                        + " coroutine 'nested' failed: java.lang.IllegalStateException: lost")
                .rootCause().isExactlyInstanceOf(IllegalStateException.class).hasMessage("lost");
    }

    @Test
    void closeFromAPoolThreadIsRefused() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = nameOf(pool);
        try {
            CompletableFuture<String> refused = pool.submit(() -> {
                try {
                    pool.close();
                    return "closed";
                } catch (IllegalStateException e) {
                    return e.getMessage() + " / thread " + Scheduler.describe(Peer.schedulerThread());
                }
            });
            String r = Coroutine.withTimeout(GUARD, () -> Coroutine.await(refused));
            String thread = r.substring(r.indexOf(" / thread ") + " / thread ".length());
            assertThat(thread).startsWith("'" + name + "-0' (#");
            assertThat(r).isEqualTo("cannot close " + name + " from its own thread " + thread + ": it would wait for itself"
                    + " / thread " + thread);
            assertThat(pool.toString()).endsWith("running]");
        } finally {
            close(pool);
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
}
