package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Submissions made at once from several threads are each counted on a thread that has the fewest live
 * bodies when it is counted there: submitters that all chose the same thread before any of them counted
 * its body do not all land there, so long-lived bodies stay within one of each other across the threads.
 */
@ExtendWith(FreshThread.class)
class CoroutinePoolConcurrentPlacementTest {

    @Test
    @Timeout(20)
    void threeSubmittersThatAllChoseTheSameIdleThreadAtOnceEndUpBalanced() throws Exception {
        CoroutinePool pool = CoroutinePool.start(2);
        String name = pool.toString().substring("CoroutinePool[".length(), pool.toString().indexOf(','));
        CompletableFuture<Void> gate = new CompletableFuture<>();
        List<CompletableFuture<String>> bodies = new ArrayList<>();
        try {
            bodies.add(pool.submit(() -> held(gate))); // thread 0: one live body; thread 1 none
            // every submitter below has chosen its thread before any goes on to count its body there
            CountDownLatch chosen = new CountDownLatch(3);
            CoroutinePool.racing = p -> {
                if (p == pool) {
                    chosen.countDown();
                    try {
                        chosen.await();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }
            };
            List<CompletableFuture<CompletableFuture<String>>> submitted = new ArrayList<>();
            List<Thread> submitters = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                CompletableFuture<CompletableFuture<String>> f = new CompletableFuture<>();
                submitted.add(f);
                submitters.add(Thread.ofPlatform().name("submitter-" + i).start(() -> f.complete(pool.submit(() -> held(gate)))));
            }
            for (Thread t : submitters) {
                t.join();
            }
            CoroutinePool.racing = null;
            for (CompletableFuture<CompletableFuture<String>> f : submitted) {
                bodies.add(f.join());
            }
        } finally {
            CoroutinePool.racing = null;
            gate.complete(null);
            pool.close();
        }
        Map<String, Integer> perThread = new TreeMap<>();
        for (CompletableFuture<String> b : bodies) {
            perThread.merge(b.join(), 1, Integer::sum);
        }
        assertThat(perThread).as("four long-lived bodies on two threads: two each, not one and three")
                .isEqualTo(Map.of(name + "-0", 2, name + "-1", 2));
    }

    /**
     * Four threads submit 24 long-lived bodies each at once (a plain thread's main, a coroutine of a
     * plain thread, by {@code submit}, {@code execute} and {@code submitCallable} in turn): on three
     * pool threads they end up 32 each, since no thread is ever more than one body above another.
     */
    @Test
    @Timeout(20)
    void bodiesSubmittedAtOnceFromFourThreadsByEveryCallEndUpEvenlySpread() throws Exception {
        int submitters = 4;
        int each = 24;
        CoroutinePool pool = CoroutinePool.start(3);
        String name = pool.toString().substring("CoroutinePool[".length(), pool.toString().indexOf(','));
        CompletableFuture<Void> gate = new CompletableFuture<>();
        List<CompletableFuture<String>> placed = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.CyclicBarrier together = new java.util.concurrent.CyclicBarrier(submitters);
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        try {
            for (int s = 0; s < submitters; s++) {
                boolean inCoroutine = s % 2 == 1;
                threads.add(Thread.ofPlatform().name("submitter-" + s).start(() -> {
                    Runnable submitAll = () -> {
                        try {
                            together.await();
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                        for (int i = 0; i < each; i++) {
                            CompletableFuture<String> where = new CompletableFuture<>();
                            placed.add(where);
                            switch (i % 3) {
                                case 0 -> pool.submit(() -> held(where, gate));
                                case 1 -> pool.execute(() -> held(where, gate));
                                default -> pool.submitCallable(() -> held(where, gate));
                            }
                        }
                    };
                    try {
                        if (inCoroutine) {
                            Coroutine.create("submitting", submitAll).join();
                        } else {
                            submitAll.run();
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            assertThat(failures).isEmpty();
            Map<String, Integer> perThread = new TreeMap<>();
            for (CompletableFuture<String> where : placed) {
                perThread.merge(Coroutine.await(where), 1, Integer::sum);
            }
            assertThat(perThread).isEqualTo(Map.of(name + "-0", 32, name + "-1", 32, name + "-2", 32));
        } finally {
            gate.complete(null);
            pool.close();
        }
    }

    /** Says which pool thread the body runs on, then waits for {@code gate}. */
    private static String held(CompletableFuture<String> where, CompletableFuture<Void> gate) {
        where.complete(Scheduler.current().owner.getName());
        Coroutine.await(gate);
        return null;
    }

    /** Waits for {@code gate}, then names the pool thread the body ran on. */
    private static String held(CompletableFuture<Void> gate) {
        Coroutine.await(gate);
        return Scheduler.current().owner.getName();
    }
}
