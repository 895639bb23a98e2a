package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.management.CoroutinesMXBean;
import dev.coro.management.CoroutinesManagement;
import dev.coro.management.SchedulerInfo;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A server that runs each request on a virtual thread of its own, each handler using coro once (a generator
 * streaming rows into a channel a coroutine fills, a select with a timeout, a sleep, an await of a body on a
 * pool all requests share, coroutines left parked on a channel and on a long sleep as the handler returns),
 * keeps nothing of the requests once they have ended: every request's scheduler and its thread are collected,
 * and the JMX view, read meanwhile and after, lists none of them once they have ended.
 */
class EndedRequestsOnVirtualThreadsLeaveNothingTest {

    private static final int REQUESTS = 500;

    @Test
    @Timeout(60)
    void theSchedulersOfFiveHundredEndedRequestsAreCollectedAndTheJmxViewListsNone() throws Exception {
        List<WeakReference<?>> left = Collections.synchronizedList(new ArrayList<>());
        Set<Long> ids = Collections.synchronizedSet(new HashSet<>());
        CoroutinesMXBean view = CoroutinesManagement.mxBean(); // the JMX view, unregistered
        List<String> answers = Collections.synchronizedList(new ArrayList<>());
        try (CoroutinePool shared = CoroutinePool.start(1)) {
            // no futures kept: a virtual thread's future holds its thread
            try (ExecutorService server = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int r = 0; r < REQUESTS; r++) {
                    int i = r;
                    server.execute(() -> {
                        try {
                            answers.add(handle(i, shared, left, ids));
                        } catch (Throwable e) {
                            answers.add("threw " + e);
                        }
                    });
                    if (r % 100 == 0) {
                        assertThat(view.getSchedulers()).isNotNull(); // read while requests come and go
                    }
                }
            }
        }
        assertThat(answers).hasSize(REQUESTS).allMatch(a -> a.equals("3 rows, ready, pooled"));
        assertThat(Collected.all(left)).as("every request's scheduler and thread, and what its coroutines held").isTrue();
        assertThat(view.getSchedulers()).extracting(SchedulerInfo::threadId).doesNotContainAnyElementsOf(ids);
    }

    /** One request's handler on its own virtual thread; what it leaves is added to {@code left}. */
    private static String handle(int i, CoroutinePool shared, List<WeakReference<?>> left, Set<Long> ids) {
        ids.add(Thread.currentThread().threadId());
        left.add(new WeakReference<>(Scheduler.current()));
        left.add(new WeakReference<>(Thread.currentThread()));
        Generator<Integer> rows = Generator.of("rows", out -> {
            for (int k = 0; k < 3; k++) {
                out.emit(k);
            }
        });
        Channel<Integer> relay = new Channel<>("relay", 1);
        Coroutine.create("filler", () -> {
            for (int row : rows) {
                relay.send(row);
            }
            relay.close();
        });
        int count = 0;
        for (int row : relay) {
            count++;
        }
        Channel<String> ready = new Channel<>("ready", 1);
        ready.trySend("ready");
        String selected = new Select<String>().onReceive(ready, v -> v).onTimeout(Duration.ofDays(1), () -> "timeout").select();
        Coroutine.sleep(Duration.ofNanos(1));
        String pooled = Coroutine.await(shared.submit(() -> "pooled"));
        Channel<String> never = new Channel<>("never", 0);
        left.add(new WeakReference<>(Coroutine.create("left-receiving", () -> never.receive())));
        left.add(new WeakReference<>(Coroutine.create("left-sleeping", () -> Coroutine.sleep(Duration.ofDays(1)))));
        Coroutine.yield(); // both park, and stay parked as the handler returns
        return count + " rows, " + selected + ", " + pooled;
    }
}
