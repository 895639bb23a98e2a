package dev.coro;

import static dev.coro.PoolsClosed.GUARD;
import static dev.coro.PoolsClosed.thrownByClose;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A {@code cancel(true)} from a thread outside the pool, at any moment of a body's life (before it is handed
 * to its thread, as it starts, while it steps through scheduling points of every kind on its pool thread),
 * always cancels the future, and the body never gets past a scheduling point after it: one that had not
 * started never runs, one that had is unwound by the {@code CoroutineExit} of its close at its next scheduling
 * point, its {@code finally} run once. The bodies here can end no other way (each loops for ever), so a body
 * the cancel left running would keep the pool's close waiting, and the guard would fail the test.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
@Timeout(120)
class PoolCancelFromAnotherThreadWhileTheBodyRunsTest {

    private static final int BODIES = 200;

    @Test
    void aCancelWithInterruptFromAnotherThreadAtAnyMomentEitherKeepsTheBodyFromRunningOrUnwindsItAtItsNextSchedulingPoint() throws InterruptedException {
        Random random = new Random(20261206L);
        CoroutinePool pool = CoroutinePool.start(2);
        AtomicIntegerArray runs = new AtomicIntegerArray(BODIES);
        AtomicReferenceArray<Throwable> unwoundBy = new AtomicReferenceArray<>(BODIES);
        CompletableFuture<Void> never = new CompletableFuture<>();
        List<CompletableFuture<Void>> started = new ArrayList<>();
        List<CompletableFuture<Integer>> futures = new ArrayList<>();
        List<Boolean> answers = new ArrayList<>();
        ConcurrentHashMap.KeySetView<Thread, Boolean> poolThreads = ConcurrentHashMap.newKeySet();
        ConcurrentHashMap.KeySetView<Thread, Boolean> bodyThreads = ConcurrentHashMap.newKeySet();
        for (int i = 0; i < BODIES; i++) {
            int id = i;
            CompletableFuture<Void> s = new CompletableFuture<>();
            started.add(s);
            CompletableFuture<Integer> f = pool.submit("body " + id, () -> {
                runs.incrementAndGet(id);
                poolThreads.add(Peer.schedulerThread());
                bodyThreads.add(Thread.currentThread()); // the pool thread, or on the thread engine the body's virtual thread
                try {
                    s.complete(null);
                    Channel<Integer> own = new Channel<>("own " + id, 1);
                    for (int step = 0; ; step++) {
                        switch ((id + step) % 5) { // every kind of scheduling point, in turn
                            case 0 -> Coroutine.yield();
                            case 1 -> Coroutine.sleep(Duration.ofMillis(1));
                            case 2 -> Coroutine.tryCallWithTimeout(Duration.ofMillis(1), () -> Coroutine.await(never));
                            case 3 -> new Select<Void>()
                                    .onComplete(never, v -> v)
                                    .onTimeout(Duration.ofMillis(1), () -> null)
                                    .select();
                            default -> own.tryReceive(Duration.ofMillis(1));
                        }
                    }
                } catch (Throwable e) {
                    unwoundBy.set(id, e);
                    throw e;
                }
            });
            futures.add(f);
            switch (random.nextInt(3)) {
                case 0 -> answers.add(f.cancel(true)); // as it is handed over, or as it starts
                case 1 -> {
                    Coroutine.withTimeout(GUARD, () -> Coroutine.await(s)); // while it steps on its pool thread
                    answers.add(f.cancel(true));
                }
                default -> answers.add(null); // cancelled below, once later bodies have been submitted
            }
        }
        for (int i = 0; i < BODIES; i++) {
            if (answers.get(i) == null) {
                answers.set(i, futures.get(i).cancel(true));
            }
        }
        assertThat(thrownByClose(pool)).as("what close reported (it waits for every body: one left running would hang it)").isNull();
        int ran = 0;
        for (int i = 0; i < BODIES; i++) {
            assertThat(answers.get(i)).as("cancel of body %d", i).isTrue();
            assertThat(futures.get(i).isCancelled()).as("future of body %d", i).isTrue();
            assertThat(runs.get(i)).as("runs of body %d", i).isLessThanOrEqualTo(1);
            if (runs.get(i) == 1) {
                ran++;
                assertThat(unwoundBy.get(i)).as("what unwound body %d", i).isInstanceOf(CoroutineExit.class)
                        .hasMessageStartingWith("coroutine 'body " + i + "' is being closed: its ");
            } else {
                assertThat(started.get(i)).as("body %d, never run", i).isNotDone();
            }
        }
        assertThat(ran).as("bodies that had started when cancelled").isPositive();
        assertThat(poolThreads).as("the pool's threads, after the close").hasSize(2).noneMatch(Thread::isAlive);
        for (Thread t : bodyThreads) { // a body's virtual thread ends just after its body has, as ENGINES.md says
            assertThat(t.join(GUARD)).as("%s has ended", t).isTrue();
        }
    }
}
