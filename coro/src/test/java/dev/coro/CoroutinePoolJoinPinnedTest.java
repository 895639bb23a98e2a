package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A pool future's {@code join()}, {@code get()} and timed {@code get} where the JDK cannot suspend the
 * caller (a native frame on its stack: a class initializer, an FFM upcall; docs/PINNING.md) still give
 * the value: on the continuation engine the park is refused and the read falls back to the JDK's
 * blocking wait, the attempt leaving no wait behind; on the thread engine the caller parks, its
 * virtual thread keeping its carrier. Main is a context too, and parks there on both engines.
 *
 * <p>Each program runs on a thread of its own, bounded by {@link #GUARD}, so that a hang fails the
 * test. The bodies wait for a gate that a helper thread opens once someone waits for their future,
 * so that the read really waits, and the value never needs the caller's thread.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
class CoroutinePoolJoinPinnedTest {

    /** A bound for programs that are expected to end long before it: a guard against a hang. */
    private static final Duration GUARD = CoroutinePoolJoinTest.GUARD;

    /**
     * On the thread engine a coroutine or a generator's body parked under a native frame keeps its carrier
     * (docs/ENGINES.md), and the pool's body it waits for runs on a virtual thread of its own, which needs
     * another: with one carrier (a one-core machine) the program cannot end, and the parked context would hold
     * that carrier for the JVM's life, every later test needing one hanging too.
     */
    private static void assumeASecondCarrierOnTheThreadEngine() {
        Carriers.assumeASecondOnTheThreadEngine("a coroutine parked under a native frame pins its carrier; the pool's body needs a second one");
    }

    /** Closes {@code pool} under {@link #GUARD} ({@link CoroutinePoolJoinTest#close}). */
    private static void close(CoroutinePool pool) {
        CoroutinePoolJoinTest.close(pool);
    }

    /** Runs {@code program} on a thread of its own, bounded by {@link #GUARD} ({@link CoroutinePoolJoinTest#finishing}). */
    private static <T> T finishing(Callable<T> program) throws Exception {
        return CoroutinePoolJoinTest.finishing(program);
    }

    /**
     * A body on {@code pool} that returns {@code value} once a helper thread opens its gate, which it
     * does once someone waits for the body's future (it has a dependent).
     */
    private static CompletableFuture<String> openedOnceWaitedFor(CoroutinePool pool, String value) {
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<String> f = pool.submit(() -> {
            Coroutine.await(gate);
            return value;
        });
        Thread opener = new Thread(() -> {
            long deadline = System.nanoTime() + GUARD.toNanos();
            while (f.getNumberOfDependents() == 0 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            gate.complete(null);
        }, "opener");
        opener.setDaemon(true);
        opener.start();
        return f;
    }

    /** Runs {@code body} as coroutine {@code name} (main switching to it, so that a park of it would switch back) to its end. */
    private static <T> T inACoroutine(String name, Supplier<T> body) {
        List<T> result = new ArrayList<>();
        Coroutine c = Coroutine.create(name, () -> result.add(body.get()));
        c.switchTo();
        while (!c.isFinished()) {
            Coroutine.yield();
        }
        return result.getFirst();
    }

    /** Whether the calling thread's loop counts a wait for another thread: none is left once every read returned. */
    private static boolean waitsLeft() {
        return Scheduler.current().loop.hasForeignWaits();
    }

    // ---- class initializers ----------------------------------------------------------------

    /** The future {@link JoinsInItsInitializer} joins. */
    private static CompletableFuture<String> joinedByAnInitializer;

    /** Joins {@link #joinedByAnInitializer} while the JVM initializes it: its initializer runs under a native frame. */
    static final class JoinsInItsInitializer {
        static final Object JOINED;

        static {
            Object joined;
            try {
                joined = joinedByAnInitializer.join();
            } catch (Throwable e) {
                joined = e;
            }
            JOINED = joined;
        }
    }

    @Tag("once-per-jvm") // a class initializer runs once per JVM: not for PIT, which reruns tests in one JVM
    @Test
    void aCoroutineJoiningInsideAClassInitializerGetsTheValueAndLeavesNoWait() throws Exception {
        assumeASecondCarrierOnTheThreadEngine();
        List<Object> outcome = finishing(() -> {
            CoroutinePool pool = CoroutinePool.start(1);
            try {
                joinedByAnInitializer = openedOnceWaitedFor(pool, "joined");
                Object joined = inACoroutine("initializer", () -> JoinsInItsInitializer.JOINED);
                return List.of(joined, waitsLeft());
            } finally {
                close(pool);
            }
        });
        assertThat(outcome).containsExactly("joined", false);
    }

    /** The future {@link MainJoinsInItsInitializer} joins, whose body uses a channel of main's thread. */
    private static CompletableFuture<String> joinedByMainsInitializer;

    /** Joins {@link #joinedByMainsInitializer} while main initializes it. */
    static final class MainJoinsInItsInitializer {
        static final Object JOINED;

        static {
            Object joined;
            try {
                joined = joinedByMainsInitializer.join();
            } catch (Throwable e) {
                joined = e;
            }
            JOINED = joined;
        }
    }

    /**
     * Main inside a class initializer is no continuation: its join parks it there, so a body whose
     * first send on main's channel main's thread runs finishes (a blocking wait would hang it).
     */
    @Tag("once-per-jvm")
    @Test
    void mainJoiningInsideAClassInitializerParksAndABodyUsingItsChannelFinishes() throws Exception {
        List<Object> outcome = finishing(() -> {
            CoroutinePool pool = CoroutinePool.start(1);
            try {
                Channel<String> ch = new Channel<>("mains", 1);
                joinedByMainsInitializer = pool.submit(() -> {
                    ch.send("sent");
                    return "joined";
                });
                return List.of(MainJoinsInItsInitializer.JOINED, ch.receive(), waitsLeft());
            } finally {
                close(pool);
            }
        });
        assertThat(outcome).containsExactly("joined", "sent", false);
    }

    /** The pool {@link ClosesInItsInitializer} closes. */
    private static CoroutinePool closedByAnInitializer;

    /** Closes {@link #closedByAnInitializer} while the JVM initializes it: what the close gave or threw. */
    static final class ClosesInItsInitializer {
        static final Object CLOSED;

        static {
            Object closed;
            try {
                closedByAnInitializer.close();
                closed = "closed";
            } catch (Throwable e) {
                closed = e;
            }
            CLOSED = closed;
        }
    }

    /**
     * A close is a wait for the pool's threads, like a join: inside a class initializer, where the JDK
     * refuses the park, it blocks the thread as on the thread engine, and reports as any close, instead
     * of throwing the refusal (which left the pool closing and its failures unreported).
     */
    @Tag("once-per-jvm")
    @Test
    void aCoroutineClosingThePoolInsideAClassInitializerWaitsForItsBodiesAndReportsTheirFailure() throws Exception {
        assumeASecondCarrierOnTheThreadEngine();
        List<Object> outcome = finishing(() -> {
            CoroutinePool pool = CoroutinePool.start(1);
            try {
                pool.execute(() -> {
                    Coroutine.sleep(Duration.ofMillis(5));
                    throw new IllegalStateException("unobserved");
                });
                closedByAnInitializer = pool;
                Object closed = inACoroutine("initializer", () -> ClosesInItsInitializer.CLOSED);
                return List.of(closed instanceof CoroutineException e ? e.getCause().getMessage() : closed,
                        pool.toString(), waitsLeft());
            } finally {
                close(pool);
            }
        });
        assertThat(outcome).hasSize(3);
        assertThat(outcome.get(0)).isEqualTo("unobserved");
        assertThat((String) outcome.get(1)).endsWith(", 1 thread, closed]");
        assertThat(outcome.get(2)).isEqualTo(false);
    }

    /** What {@code action} gives or throws inside an FFM upcall ({@link Upcalls}). */
    private static Object insideAnUpcall(Callable<Object> action) {
        return Upcalls.inAnUpcall(action::call);
    }

    @Test
    void aCoroutineJoiningAndGettingInsideAnUpcallGetsTheValueAndLeavesNoWait() throws Exception {
        assumeASecondCarrierOnTheThreadEngine();
        List<Object> outcome = finishing(() -> {
            CoroutinePool pool = CoroutinePool.start(1);
            try {
                CompletableFuture<String> joined = openedOnceWaitedFor(pool, "joined");
                CompletableFuture<String> got = openedOnceWaitedFor(pool, "got");
                CompletableFuture<String> gotInTime = openedOnceWaitedFor(pool, "got in time");
                List<Object> seen = inACoroutine("sorter", () -> List.of(insideAnUpcall(joined::join),
                        insideAnUpcall(got::get), insideAnUpcall(() -> gotInTime.get(GUARD.toSeconds(), TimeUnit.SECONDS))));
                return List.of(seen, waitsLeft());
            } finally {
                close(pool);
            }
        });
        assertThat(outcome).containsExactly(List.of("joined", "got", "got in time"), false);
    }

    @Test
    void aCoroutineClosingThePoolInsideAnUpcallWaitsForItsBodiesAndReportsTheirFailure() throws Exception {
        assumeASecondCarrierOnTheThreadEngine();
        List<Object> outcome = finishing(() -> {
            CoroutinePool pool = CoroutinePool.start(1);
            try {
                pool.execute(() -> {
                    Coroutine.sleep(Duration.ofMillis(5));
                    throw new IllegalStateException("unobserved");
                });
                Object closed = inACoroutine("sorter", () -> insideAnUpcall(() -> {
                    try {
                        pool.close();
                        return "closed";
                    } catch (CoroutineException e) {
                        return e.getCause().getMessage();
                    }
                }));
                return List.of(closed, pool.toString(), waitsLeft());
            } finally {
                close(pool);
            }
        });
        assertThat(outcome).hasSize(3);
        assertThat(outcome.get(0)).isEqualTo("unobserved");
        assertThat((String) outcome.get(1)).endsWith(", 1 thread, closed]");
        assertThat(outcome.get(2)).isEqualTo(false);
    }

    /** A timed get that expires inside an upcall throws the TimeoutException of any timed get: caller, read, future. */
    @Test
    void aTimedGetThatExpiresInsideAnUpcallNamesTheCallerTheReadAndTheFuture() throws Exception {
        List<Object> outcome = finishing(() -> {
            CoroutinePool pool = CoroutinePool.start(1);
            CompletableFuture<Void> gate = new CompletableFuture<>();
            try {
                CompletableFuture<String> f = pool.submit(() -> {
                    Coroutine.await(gate);
                    return "later";
                });
                Object thrown = inACoroutine("sorter", () -> insideAnUpcall(() -> f.get(20, TimeUnit.MILLISECONDS)));
                gate.complete(null);
                return List.of(thrown, f.join(), waitsLeft());
            } finally {
                gate.complete(null);
                close(pool);
            }
        });
        assertThat(outcome.get(0)).isInstanceOf(TimeoutException.class);
        assertThat(((Throwable) outcome.get(0)).getMessage())
                .startsWith("coroutine 'sorter' timed out in get(20 MILLISECONDS) of ")
                .contains("[Not completed").endsWith(": it is still not complete");
        assertThat(outcome.subList(1, 3)).containsExactly("later", false);
    }

    @Test
    void aGeneratorBodyJoiningInsideAnUpcallGetsTheValue() throws Exception {
        assumeASecondCarrierOnTheThreadEngine();
        List<Object> outcome = finishing(() -> {
            CoroutinePool pool = CoroutinePool.start(1);
            try {
                CompletableFuture<String> f = openedOnceWaitedFor(pool, "joined");
                Object seen = inACoroutine("consumer", () -> {
                    Generator<Object> g = Generator.of(e -> e.emit(insideAnUpcall(f::join)));
                    return g.next();
                });
                return List.of(seen, waitsLeft());
            } finally {
                close(pool);
            }
        });
        assertThat(outcome).containsExactly("joined", false);
    }

    /** Main inside an upcall parks in join on both engines: another coroutine runs meanwhile. */
    @Test
    void mainJoiningInsideAnUpcallParksAndTheThreadsOtherCoroutineRuns() throws Exception {
        List<Object> outcome = finishing(() -> {
            CoroutinePool pool = CoroutinePool.start(1);
            try {
                Channel<String> ch = new Channel<>("mains", 1);
                CompletableFuture<String> f = pool.submit(() -> {
                    ch.send("sent");
                    return "joined";
                });
                List<String> events = new ArrayList<>();
                Coroutine.create("other", () -> events.add("other ran"));
                Object joined = insideAnUpcall(f::join);
                return List.of(joined, events, ch.receive(), waitsLeft());
            } finally {
                close(pool);
            }
        });
        assertThat(outcome).containsExactly("joined", List.of("other ran"), "sent", false);
    }
}
