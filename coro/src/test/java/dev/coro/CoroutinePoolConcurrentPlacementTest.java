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

    /** Waits for {@code gate}, then names the pool thread the body ran on. */
    private static String held(CompletableFuture<Void> gate) {
        Coroutine.await(gate);
        return Scheduler.current().owner.getName();
    }
}
