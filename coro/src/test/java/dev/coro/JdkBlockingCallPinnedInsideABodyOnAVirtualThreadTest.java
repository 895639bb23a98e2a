package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A JDK blocking call ({@code Thread.sleep}, {@code Object.wait}, {@code LockSupport.parkNanos},
 * {@code Thread.yield}, {@code Future.get()}, a pool future's {@code join()}) made by a coroutine's or a
 * generator's body on a virtual thread where the JDK cannot unmount that virtual thread (a class initializer,
 * a native frame) blocks the virtual thread on its carrier and returns, as the same call does on a virtual
 * thread that uses no coroutine: the refusal of the virtual thread's own yield is the JDK's to handle, not a
 * refused switch of coro's to throw out of the JDK's call. On the continuation engine the body's
 * continuation is the innermost one when the virtual thread yields, and the JDK hands it the refusal.
 *
 * <p>Each initializer runs once per JVM (tag {@code once-per-jvm}) and records what each call did.
 */
@Tag("once-per-jvm") // a class initializer runs once per JVM: not for PIT, which reruns tests in one JVM
class JdkBlockingCallPinnedInsideABodyOnAVirtualThreadTest {

    /** A future a helper thread completes with {@code value} once something waits for it (it has a dependent). */
    private static CompletableFuture<String> completedOnceWaitedFor(String value) {
        CompletableFuture<String> f = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("completer").start(() -> {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10); // a guard: the get waits long before it
            while (f.getNumberOfDependents() == 0 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            f.complete(value);
        });
        return f;
    }

    /** The future {@link BlocksInItsInitializer} gets. */
    private static CompletableFuture<String> gotByTheInitializer;

    /** Makes, in its initializer (under a native frame), every kind of JDK blocking call, and records each outcome. */
    static final class BlocksInItsInitializer {
        static final List<String> OUTCOMES = List.of(
                outcome("sleep", () -> Thread.sleep(1)),
                outcome("wait", () -> {
                    Object monitor = new Object();
                    synchronized (monitor) {
                        monitor.wait(1);
                    }
                }),
                outcome("parkNanos", () -> LockSupport.parkNanos(1_000)),
                outcome("yield", Thread::yield),
                "get: " + call(() -> "returned " + gotByTheInitializer.get()));
    }

    /** The future {@link BlocksInAGeneratorsBody} gets. */
    private static CompletableFuture<String> gotByTheGeneratorsInitializer;

    /** {@link BlocksInItsInitializer} for a generator's body. */
    static final class BlocksInAGeneratorsBody {
        static final List<String> OUTCOMES = List.of(
                outcome("sleep", () -> Thread.sleep(1)),
                outcome("wait", () -> {
                    Object monitor = new Object();
                    synchronized (monitor) {
                        monitor.wait(1);
                    }
                }),
                outcome("parkNanos", () -> LockSupport.parkNanos(1_000)),
                outcome("yield", Thread::yield),
                "get: " + call(() -> "returned " + gotByTheGeneratorsInitializer.get()));
    }

    /** The pool future {@link JoinsAPoolFutureInItsInitializer} joins. */
    private static CompletableFuture<String> joinedByTheInitializer;

    /** Joins a pool's future in its initializer, where the join falls back to the JDK's blocking wait (PINNING.md). */
    static final class JoinsAPoolFutureInItsInitializer {
        static final String JOINED = call(() -> joinedByTheInitializer.join());
    }

    /** A blocking call. */
    private interface Call {
        void run() throws Exception;
    }

    /** A blocking call that gives a value. */
    private interface Value {
        String get() throws Exception;
    }

    /** {@code name} and what {@code call} did: {@code "sleep: returned"}, or what it threw. */
    private static String outcome(String name, Call call) {
        return name + ": " + call(() -> {
            call.run();
            return "returned";
        });
    }

    /** What {@code call} returned, or what it threw. */
    private static String call(Value call) {
        try {
            return call.get();
        } catch (Throwable e) {
            return "threw " + e;
        }
    }

    @Test
    @Timeout(60)
    void aCoroutinesBodyBlockingTheJdkWayInAClassInitializerOnAVirtualThreadBlocksItAndReturns() throws Exception {
        List<String> outcomes = Peer.start(Thread.ofVirtual(), "request", () -> {
            gotByTheInitializer = completedOnceWaitedFor("x");
            Coroutine c = Coroutine.create("handler", () -> {
                assertThat(BlocksInItsInitializer.OUTCOMES).isNotNull();
            });
            c.join();
            assertThat(c.state()).isEqualTo(Coroutine.State.FINISHED);
            return BlocksInItsInitializer.OUTCOMES;
        }).get(30, TimeUnit.SECONDS);
        assertThat(outcomes).containsExactly("sleep: returned", "wait: returned", "parkNanos: returned",
                "yield: returned", "get: returned x");
    }

    @Test
    @Timeout(60)
    void aGeneratorsBodyBlockingTheJdkWayInAClassInitializerOnAVirtualThreadBlocksItAndReturns() throws Exception {
        Carriers.assumeASecondOnTheThreadEngine("a virtual thread running an initializer pins its carrier; the body's needs a second one");
        List<String> outcomes = Peer.start(Thread.ofVirtual(), "request", () -> {
            gotByTheGeneratorsInitializer = completedOnceWaitedFor("y");
            Generator<List<String>> rows = Generator.of("rows", e -> e.emit(BlocksInAGeneratorsBody.OUTCOMES));
            return rows.next();
        }).get(30, TimeUnit.SECONDS);
        assertThat(outcomes).containsExactly("sleep: returned", "wait: returned", "parkNanos: returned", "yield: returned",
                "get: returned y");
    }

    @Test
    @Timeout(60)
    void aPoolFuturesJoinInAClassInitializerInsideACoroutineOnAVirtualThreadGivesTheValue() throws Exception {
        Carriers.assumeASecondOnTheThreadEngine("a virtual thread running an initializer pins its carrier; the pool's body needs a second one");
        String joined = Peer.start(Thread.ofVirtual(), "request", () -> {
            try (CoroutinePool pool = CoroutinePool.start(1)) {
                CompletableFuture<String> opened = new CompletableFuture<>();
                joinedByTheInitializer = pool.submit(() -> {
                    Coroutine.await(opened);
                    return "v";
                });
                Thread.ofPlatform().daemon().name("opener").start(() -> {
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10); // a guard, as above
                    while (joinedByTheInitializer.getNumberOfDependents() == 0 && System.nanoTime() < deadline) {
                        Thread.onSpinWait();
                    }
                    opened.complete(null);
                });
                Coroutine c = Coroutine.create("handler", () -> {
                    assertThat(JoinsAPoolFutureInItsInitializer.JOINED).isNotNull();
                });
                c.join();
                return JoinsAPoolFutureInItsInitializer.JOINED;
            }
        }).get(30, TimeUnit.SECONDS);
        assertThat(joined).isEqualTo("v");
    }
}
