package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.management.CoroutinesMXBean;
import dev.coro.management.CoroutinesManagement;
import dev.coro.management.SchedulerInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The JMX view read from another thread while a pool program makes and ends coroutines by the thousand. */
@ExtendWith(FreshThread.class)
class ViewWhileChurningProgramTest {

    @Test
    void theViewReadFromAnotherThreadWhileCoroutinesComeAndGoAlwaysAnswersWithCountsThatAddUp() throws Exception {
        CoroutinesMXBean view = CoroutinesManagement.mxBean();
        AtomicBoolean stop = new AtomicBoolean();
        List<String> wrong = new ArrayList<>();
        int[] reads = {0};
        Thread reader = new Thread(() -> {
            try {
                for (int i = 0; i < 100_000 && (!stop.get() || i < 20); i++) {
                    for (SchedulerInfo s : view.getSchedulers()) {
                        int sum = s.created() + s.running() + s.suspended() + s.parked();
                        if (sum != s.contexts() || s.contexts() < 1 || s.oldestParkedMillis() < -1
                                || (s.oldestParkedMillis() == -1) != s.oldestParked().isEmpty()
                                || s.oldestParked().isEmpty() != s.oldestParkedWaits().isEmpty()) {
                            wrong.add(s.toString());
                        }
                    }
                    if (view.getCoroutineCount() < 0) {
                        wrong.add("count " + view.getCoroutineCount());
                    }
                    if (i % 10 == 0 && !view.dump(3).contains("scheduler thread")) {
                        wrong.add("dump without its heading");
                    }
                    reads[0]++;
                }
            } catch (RuntimeException e) {
                wrong.add(e.toString());
            }
        }, "view-reader");
        reader.start();
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            List<CompletableFuture<Integer>> all = new ArrayList<>();
            for (int b = 0; b < 40; b++) {
                all.add(pool.submit(() -> {
                    Channel<Integer> ch = new Channel<>("churn", 1);
                    int sum = 0;
                    for (int round = 0; round < 50; round++) {
                        int k = round;
                        Coroutine.create("producer", () -> ch.send(k));
                        Coroutine.create("idler", Coroutine::yield);
                        sum += ch.receive();
                    }
                    return sum;
                }));
            }
            for (CompletableFuture<Integer> f : all) {
                assertThat(Coroutine.await(f)).isEqualTo(49 * 50 / 2);
            }
        } finally {
            stop.set(true);
            reader.join();
        }
        assertThat(wrong).isEmpty();
        assertThat(reads[0]).isGreaterThanOrEqualTo(20);
    }
}
