package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Whole programs on a pool and on virtual time, watched through JFR recordings read back from a file. */
@ExtendWith(FreshThread.class)
class ObservedProgramTest {

    @Test
    void everyCoroutineOfAPoolAndAVirtualTimeProgramHasOneStartAndOneEndSayingHowItEnded() throws Exception {
        int bodies = 6;
        List<RecordedEvent> events = JfrEventsTest.record(r -> {
            r.enable("dev.coro.CoroutineStart");
            r.enable("dev.coro.CoroutineEnd");
        }, () -> {
            try (CoroutinePool pool = CoroutinePool.start(2)) {
                List<CompletableFuture<Integer>> results = new ArrayList<>();
                for (int b = 0; b < bodies; b++) {
                    int k = b;
                    results.add(pool.submit(() -> {
                        Coroutine.create("obs-fin-" + k, Coroutine::yield);
                        Coroutine failer = Coroutine.create("obs-fail-" + k, () -> {
                            throw new IllegalStateException("no " + k);
                        });
                        assertThat(catchThrowable(failer::switchTo)).isInstanceOf(CoroutineException.class);
                        Coroutine.create("obs-never-" + k, () -> { }).close();
                        Coroutine looper = Coroutine.create("obs-closed-" + k, () -> {
                            while (true) {
                                Coroutine.sleep(Duration.ofMillis(1));
                            }
                        });
                        looper.switchTo();
                        Generator<Integer> g = Generator.of("obs-gen-" + k, out -> {
                            Channel<Integer> ch = new Channel<>("inside-" + k, 0);
                            Coroutine.create("obs-ingen-" + k, () -> ch.send(k));
                            out.emit(ch.receive());
                        });
                        int v;
                        try (g) {
                            v = g.next();
                        }
                        Coroutine.withTimeout(Duration.ofMillis(5), () -> Coroutine.yield());
                        looper.close();
                        return v;
                    }));
                }
                int sum = 0;
                for (CompletableFuture<Integer> f : results) {
                    sum += Coroutine.await(f);
                }
                assertThat(sum).isEqualTo(bodies * (bodies - 1) / 2);
            }
            Throwable left = catchThrowable(() -> VirtualTime.run(() -> {
                Channel<Integer> never = new Channel<>("never", 0);
                Coroutine.create("obs-vt-parked", never::receive);
                Coroutine.create("obs-vt-sleeper", () -> Coroutine.sleep(Duration.ofHours(1)));
                Coroutine.yield();
                Coroutine.create("obs-vt-new", () -> { });
                throw new IllegalArgumentException("body gave up");
            }));
            assertThat(left).isInstanceOf(IllegalArgumentException.class);
            // a thread that exchanged nothing with another: its deadlock is reported, not waited out
            Throwable[] dead = new Throwable[1];
            Thread fresh = new Thread(() -> dead[0] = catchThrowable(() -> VirtualTime.run(() -> {
                Channel<Integer> never = new Channel<>("never2", 0);
                Coroutine.create("obs-vt-dead", never::receive);
            })), "obs-fresh");
            fresh.start();
            try {
                fresh.join();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            assertThat(dead[0]).isInstanceOf(DeadlockException.class);
        }, t -> true, "dev.coro.CoroutineStart", "dev.coro.CoroutineEnd");
        Map<String, List<String>> seen = new TreeMap<>();
        for (RecordedEvent e : events) {
            String name = e.getString("coroutine");
            if (!name.startsWith("obs-")) {
                continue;
            }
            String what = e.getEventType().getName().equals("dev.coro.CoroutineStart") ? "start" : e.getString("ending");
            seen.computeIfAbsent(name, n -> new ArrayList<>()).add(what);
        }
        Map<String, List<String>> expected = new TreeMap<>();
        for (int k = 0; k < bodies; k++) {
            expected.put("obs-fin-" + k, List.of("start", "FINISHED"));
            expected.put("obs-fail-" + k, List.of("start", "FAILED"));
            expected.put("obs-never-" + k, List.of("start", "CLOSED"));
            expected.put("obs-closed-" + k, List.of("start", "CLOSED"));
            expected.put("obs-ingen-" + k, List.of("start", "FINISHED"));
        }
        expected.put("obs-vt-parked", List.of("start", "CLOSED"));
        expected.put("obs-vt-sleeper", List.of("start", "CLOSED"));
        expected.put("obs-vt-new", List.of("start", "CLOSED"));
        expected.put("obs-vt-dead", List.of("start", "CLOSED"));
        assertThat(seen).isEqualTo(expected);
    }

    @Test
    void everyParkOfAPoolProgramIsOneEventWithItsCoroutineReasonAndWait() throws Exception {
        List<RecordedEvent> parks = JfrEventsTest.record(r -> r.enable("dev.coro.Park").withThreshold(Duration.ZERO), () -> {
            try (CoroutinePool pool = CoroutinePool.start(2)) {
                List<CompletableFuture<Integer>> all = new ArrayList<>();
                for (int b = 0; b < 4; b++) {
                    int k = b;
                    all.add(pool.submit(() -> {
                        Channel<Integer> ch = new Channel<>("park-ch-" + k, 0);
                        Coroutine.create("park-sender-" + k, () -> {
                            for (int i = 0; i < 3; i++) {
                                Coroutine.sleep(Duration.ofMillis(1));
                                ch.send(i);
                            }
                        });
                        int sum = 0;
                        for (int i = 0; i < 3; i++) {
                            sum += ch.receive();
                        }
                        return sum;
                    }));
                }
                for (CompletableFuture<Integer> f : all) {
                    assertThat(Coroutine.await(f)).isEqualTo(3);
                }
            }
        }, t -> true, "dev.coro.Park");
        Map<String, Integer> counts = new TreeMap<>();
        for (RecordedEvent e : parks) {
            String who = e.getString("coroutine");
            String waits = e.getString("waitsFor");
            if (who.startsWith("park-sender-")) {
                counts.merge(who + " " + e.getString("reason") + " " + waits.replaceAll("[0-9.]+ ms", "T"), 1, Integer::sum);
            } else if (waits.startsWith("receive from channel 'park-ch-")) {
                counts.merge("body " + e.getString("reason") + " " + waits, 1, Integer::sum);
            }
        }
        Map<String, Integer> expected = new TreeMap<>();
        for (int k = 0; k < 4; k++) {
            expected.put("park-sender-" + k + " sleep sleep T (due)", 3);
            expected.put("body channel receive from channel 'park-ch-" + k + "'", 3);
        }
        assertThat(counts).isEqualTo(expected);
    }
}
