package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Ties between the threads with the fewest live bodies go round-robin among those threads, also while
 * another thread is busier: the turn passes from the thread last chosen to the next tied one, so a
 * thread that follows a busy one wins no more ties than the others.
 */
@ExtendWith(FreshThread.class)
class CoroutinePoolTieRoundRobinTest {

    @Test
    @Timeout(20)
    void tiedThreadsTakeTurnsWhileAnotherThreadKeepsALiveBody() {
        try (CoroutinePool pool = CoroutinePool.start(3)) {
            CompletableFuture<Void> gate = new CompletableFuture<>();
            CompletableFuture<String> held = pool.submit(() -> {
                String t = poolThread();
                Coroutine.await(gate);
                return t;
            });
            // each awaited before the next is submitted: threads 1 and 2 are tied at 0 live bodies each time
            List<String> short_ = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                short_.add(Coroutine.await(pool.submit(CoroutinePoolTieRoundRobinTest::poolThread)));
            }
            gate.complete(null);
            String name = pool.toString().substring("CoroutinePool[".length(), pool.toString().indexOf(','));
            assertThat(Coroutine.await(held)).isEqualTo(name + "-0");
            assertThat(short_).as("threads 1 and 2 take turns; thread 1 follows the busy thread 0 and wins no more ties")
                    .containsExactly(name + "-1", name + "-2", name + "-1", name + "-2");
        }
    }

    @Test
    @Timeout(20)
    void executeSubmitAndSubmitCallableShareOneTurnAmongTiedThreads() {
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            String name = pool.toString().substring("CoroutinePool[".length(), pool.toString().indexOf(','));
            List<String> placed = new ArrayList<>();
            placed.add(Coroutine.await(pool.submitCallable(CoroutinePoolTieRoundRobinTest::poolThread)));
            placed.add(Coroutine.await(pool.submit(CoroutinePoolTieRoundRobinTest::poolThread)));
            CompletableFuture<String> viaExecute = new CompletableFuture<>();
            pool.execute(() -> viaExecute.complete(poolThread()));
            placed.add(Coroutine.await(viaExecute));
            assertThat(placed).containsExactly(name + "-0", name + "-1", name + "-0");
        }
    }

    /** The pool thread the calling coroutine belongs to (on the thread engine it runs on a virtual thread of its own). */
    private static String poolThread() {
        return Scheduler.current().owner.getName();
    }
}
