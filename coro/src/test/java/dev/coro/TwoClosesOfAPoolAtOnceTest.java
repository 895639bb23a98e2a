package dev.coro;

import static dev.coro.PoolsClosed.GUARD;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two threads that close one pool at once, both waiting while a body still runs, both return once the
 * pool's threads have ended, and the failure nobody observed (an {@code Error} a body threw) is reported
 * by exactly one of them, once.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
@Timeout(60)
class TwoClosesOfAPoolAtOnceTest {

    @Test
    void twoClosesWaitingAtOnceBothReturnAndTheFailureOfABodyIsReportedByOneOfThemOnce() throws InterruptedException {
        CoroutinePool pool = CoroutinePool.start(2);
        String name = PoolName.of(pool);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CompletableFuture<Void> started = new CompletableFuture<>();
        pool.execute("failing", () -> {
            started.complete(null);
            Coroutine.await(gate);
            throw new AssertionError("broken invariant");
        });
        started.join();
        List<AtomicReference<Throwable>> thrown = List.of(new AtomicReference<>(), new AtomicReference<>());
        List<String> states = new ArrayList<>();
        List<Thread> closers = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            AtomicReference<Throwable> mine = thrown.get(i);
            closers.add(Thread.ofPlatform().name("closer-" + i).start(() -> {
                try {
                    pool.close();
                } catch (Throwable t) {
                    mine.set(t);
                }
                synchronized (states) {
                    states.add(pool.toString());
                }
            }));
        }
        for (Thread c : closers) {
            while (c.getState() != Thread.State.WAITING) { // parked in its close, waiting for the body
                assertThat(c.isAlive()).as("%s still waits in its close", c.getName()).isTrue();
                Thread.onSpinWait();
            }
        }
        assertThat(pool.toString()).endsWith("closing]");
        gate.complete(null);
        for (Thread c : closers) {
            assertThat(c.join(GUARD)).as("%s returned", c.getName()).isTrue();
        }
        assertThat(states).containsOnly("CoroutinePool[" + name + ", 2 threads, closed]");
        List<Throwable> reports = thrown.stream().map(AtomicReference::get).filter(t -> t != null).toList();
        assertThat(reports).hasSize(1);
        assertThat(reports.get(0)).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage(name + ": a coroutine failed and nobody observed it: coroutine 'failing' on thread '" + name
                        + "-0' (#" + PoolName.threadId(pool, 0) + "), running the body of execute #1, threw java.lang.AssertionError: broken invariant")
                .cause().isExactlyInstanceOf(AssertionError.class).hasMessage("broken invariant");
        assertThat(PoolsClosed.thrownByClose(pool)).as("a third close, once the pool has ended").isNull();
    }
}
