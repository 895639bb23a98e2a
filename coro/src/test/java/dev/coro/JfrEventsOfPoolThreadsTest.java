package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The events of coroutines that bodies of a pool of two threads create: each start, park and end names the
 * coroutine and the pool thread whose scheduler it belongs to, whichever thread committed it (the pool
 * thread, or on the thread engine the coroutine's own virtual thread), and each start pairs with one end by
 * that thread and the coroutine's number.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
class JfrEventsOfPoolThreadsTest {

    @Test
    @Timeout(60)
    void theEventsOfCoroutinesOfPoolBodiesNameThemAndTheirPoolThreadAndEachStartPairsWithItsEnd() throws Exception {
        Map<String, String> threadOf = new ConcurrentHashMap<>(); // coroutine -> pool thread
        List<RecordedEvent> events = JfrEventsTest.record(r -> {
            r.enable("dev.coro.CoroutineStart");
            r.enable("dev.coro.CoroutineEnd");
            r.enable("dev.coro.Park").withThreshold(Duration.ZERO);
        }, () -> {
            CoroutinePool pool = CoroutinePool.start("attributed", 2);
            try {
                List<CompletableFuture<Void>> bodies = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    String name = "inner-" + i;
                    bodies.add(pool.submit("body-" + i, () -> {
                        Channel<Integer> ch = new Channel<>("ch-" + name, 0);
                        Coroutine inner = Coroutine.create(name, () -> {
                            ch.receive();
                        });
                        inner.switchTo(); // parks on its channel
                        threadOf.put(name, Scheduler.current().owner.getName()); // the pool thread, on either engine
                        ch.send(1);
                        inner.join();
                        return null;
                    }));
                }
                for (CompletableFuture<Void> body : bodies) {
                    body.join();
                }
            } finally {
                PoolsClosed.close(pool);
            }
        }, t -> t.getJavaName() != null && t.getJavaName().startsWith("attributed-"),
                "dev.coro.CoroutineStart", "dev.coro.CoroutineEnd", "dev.coro.Park");
        boolean threads = Engines.running().equals("threads");
        List<RecordedEvent> ofInner = events.stream().filter(e -> e.getString("coroutine").startsWith("inner-")).toList();
        assertThat(ofInner).extracting(e -> e.getEventType().getName() + " " + e.getString("coroutine"))
                .containsExactlyInAnyOrder(
                        "dev.coro.CoroutineStart inner-0", "dev.coro.Park inner-0", "dev.coro.CoroutineEnd inner-0",
                        "dev.coro.CoroutineStart inner-1", "dev.coro.Park inner-1", "dev.coro.CoroutineEnd inner-1",
                        "dev.coro.CoroutineStart inner-2", "dev.coro.Park inner-2", "dev.coro.CoroutineEnd inner-2",
                        "dev.coro.CoroutineStart inner-3", "dev.coro.Park inner-3", "dev.coro.CoroutineEnd inner-3");
        for (RecordedEvent e : ofInner) {
            String name = e.getString("coroutine");
            assertThat(e.getThread("schedulerThread").getJavaName()).as("the scheduler of %s", name).isEqualTo(threadOf.get(name));
            assertThat(e.getDuration().isNegative()).isFalse();
            if (e.getEventType().getName().equals("dev.coro.Park")) {
                assertThat(e.getString("reason") + " / " + e.getString("waitsFor")).isEqualTo("channel / receive from channel 'ch-" + name + "'");
                // its own code parked: the pool thread on the continuation engine, its own virtual thread on the thread engine
                assertThat(e.getThread().getJavaName()).isEqualTo(threads ? "coro " + name : threadOf.get(name));
            }
            if (e.getEventType().getName().equals("dev.coro.CoroutineStart")) {
                assertThat(e.getString("creator")).isEqualTo("body-" + name.substring("inner-".length()));
            }
        }
        Function<RecordedEvent, String> key = e -> e.getThread("schedulerThread").getJavaName() + " #" + e.getLong("coroutineNumber")
                + " " + e.getString("coroutine");
        Map<String, Long> starts = events.stream().filter(e -> e.getEventType().getName().equals("dev.coro.CoroutineStart"))
                .collect(Collectors.groupingBy(key, Collectors.counting()));
        Map<String, Long> ends = events.stream().filter(e -> e.getEventType().getName().equals("dev.coro.CoroutineEnd"))
                .collect(Collectors.groupingBy(key, Collectors.counting()));
        assertThat(starts).as("each start pairs with one end, bodies and the coroutines they made alike")
                .hasSize(8).allSatisfy((k, n) -> assertThat(n).isOne()).isEqualTo(ends);
    }
}
