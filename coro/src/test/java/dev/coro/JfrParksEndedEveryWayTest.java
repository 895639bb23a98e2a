package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A park is recorded however it ends (woken, timed out, its coroutine closed, its channel closed with a
 * cause), on a pool thread as on any, with its coroutine's name whole and as given, however odd; and only a
 * park that begins and ends while a recording runs is recorded in it.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
class JfrParksEndedEveryWayTest {

    @Test
    void parksOnAPoolThreadEndedByATimeoutACloseOrAChannelsFailureAreRecordedWithTheirWaits() throws Exception {
        String[] pool = new String[1];
        List<RecordedEvent> events = JfrEventsTest.record(r -> {
            r.enable("dev.coro.Park").withThreshold(Duration.ZERO);
            r.enable("dev.coro.CoroutineEnd");
        }, () -> {
            CoroutinePool p = CoroutinePool.start("parks", 1);
            pool[0] = PoolName.of(p);
            try {
                p.submit("body", () -> {
                    Channel<Integer> jobs = new Channel<>("jobs", 0);
                    Channel<Integer> doomed = new Channel<>("doomed", 0);
                    Coroutine.create("timed", () -> assertThat(jobs.tryReceive(Duration.ofMillis(1))).isEmpty());
                    Coroutine closed = Coroutine.create("closed", jobs::receive);
                    Coroutine failed = Coroutine.create("failed", () -> {
                        try {
                            doomed.receive();
                        } catch (ChannelClosedException e) {
                            assertThat(e.getCause()).hasMessage("gone");
                        }
                    });
                    Coroutine.yield(); // each parks
                    closed.close();
                    doomed.close(new IllegalStateException("gone"));
                    failed.join();
                    Coroutine.sleep(Duration.ofMillis(2)); // the timed one's wait ends meanwhile
                    return null;
                }).join();
            } finally {
                PoolsClosed.close(p);
            }
        }, t -> t.getJavaName().startsWith(pool[0] + "-"), "dev.coro.Park", "dev.coro.CoroutineEnd");
        List<String> parks = events.stream().filter(e -> e.getEventType().getName().equals("dev.coro.Park"))
                .filter(e -> !e.getString("reason").equals("pool")) // the pool thread's main waiting for work
                .map(e -> e.getString("coroutine") + " #" + e.getLong("coroutineNumber") + " / " + e.getString("reason")
                        + " / " + e.getString("waitsFor"))
                .toList();
        assertThat(parks).containsExactlyInAnyOrder("timed #2 / channel / tryReceive from channel 'jobs'",
                "closed #3 / channel / receive from channel 'jobs'", "failed #4 / channel / receive from channel 'doomed'",
                "body #1 / join / join coroutine 'failed'", "body #1 / sleep / sleep 2.000 ms (due)");
        List<String> ends = events.stream().filter(e -> e.getEventType().getName().equals("dev.coro.CoroutineEnd"))
                .map(e -> e.getString("coroutine") + " " + e.getString("ending")).toList();
        assertThat(ends).containsExactlyInAnyOrder("timed FINISHED", "closed CLOSED", "failed FINISHED", "body FINISHED");
        assertThat(events).allSatisfy(e -> assertThat(e.getDuration().isNegative()).isFalse());
    }

    /**
     * Every timed wait ending by its own deadline (a timed receive and acquire, a select's timeout, a sleep in a
     * generator's body, the inner of two nested timeouts cutting an await), and a wait closed under a timeout
     * of its own, is one park each, of its kind and its call, the generator's wait named with the generator;
     * each start has its one end, and a coroutine its consumer creates inside a generator's body is created by
     * that consumer. Under virtual time, so that the deadlines come in their order whatever the machine's load.
     */
    @Test
    void timedWaitsEndedByTheirDeadlinesOrACloseUnderATimeoutAreOneParkEachAndEveryStartHasItsEnd() throws Exception {
        List<RecordedEvent> events = JfrEventsTest.record(r -> {
            r.enable("dev.coro.Park").withThreshold(Duration.ZERO);
            r.enable("dev.coro.CoroutineStart");
            r.enable("dev.coro.CoroutineEnd");
        }, () -> VirtualTime.run(() -> {
            Channel<Integer> jobs = new Channel<>("jobs", 0);
            Semaphore db = new Semaphore("db", 1);
            db.acquire();
            CompletableFuture<String> never = new CompletableFuture<>() {
                @Override
                public String toString() {
                    return "never";
                }
            };
            Coroutine.create("nested", () -> Coroutine.withTimeout(Duration.ofSeconds(10), () ->
                    assertThat(Coroutine.tryWithTimeout(Duration.ofMillis(2), () -> {
                        Coroutine.await(never);
                    })).isFalse()));
            Coroutine.create("selector", () -> assertThat(new Select<String>().onReceive(jobs, v -> "value")
                    .onTimeout(Duration.ofMillis(3), () -> "timeout").select()).isEqualTo("timeout"));
            Coroutine.create("receiver", () -> assertThat(jobs.tryReceive(Duration.ofMillis(4))).isEmpty());
            Coroutine.create("acquirer", () -> assertThat(db.tryAcquire(Duration.ofMillis(5))).isFalse());
            Generator<Integer> lines = Generator.of("lines", out -> {
                Coroutine.create("inner", () -> Coroutine.sleep(Duration.ofMillis(1)));
                out.emit(1);
                Coroutine.sleep(Duration.ofMillis(6));
                out.emit(2);
            });
            Coroutine.create("consumer", () -> {
                lines.next();
                lines.next();
            });
            Coroutine closed = Coroutine.create("closed", () -> Coroutine.withTimeout(Duration.ofSeconds(9), () -> {
                jobs.receive();
            }));
            Coroutine.yield(); // each parks
            closed.close();
            Coroutine.sleep(Duration.ofMillis(30)); // every deadline comes meanwhile
        }), "dev.coro.Park", "dev.coro.CoroutineStart", "dev.coro.CoroutineEnd");
        List<String> parks = events.stream().filter(e -> e.getEventType().getName().equals("dev.coro.Park"))
                .map(e -> e.getString("coroutine") + " #" + e.getLong("coroutineNumber") + " / " + e.getString("reason")
                        + " / " + e.getString("waitsFor").replaceAll(" \\(t=.*\\)", ""))
                .toList();
        assertThat(parks).containsExactlyInAnyOrder("nested #1 / thread / await never",
                "selector #2 / select / select over receive from channel 'jobs', timeout PT0.003S",
                "receiver #3 / channel / tryReceive from channel 'jobs'",
                "acquirer #4 / semaphore / tryAcquire a permit of Semaphore[db, 0 of 1 permits free]",
                "consumer #5 / sleep / sleep 6.000 ms, inside generator 'lines'",
                "closed #6 / channel / receive from channel 'jobs'",
                "inner #7 / sleep / sleep 1.000 ms",
                "main #0 / sleep / sleep 30.000 ms");
        List<String> starts = events.stream().filter(e -> e.getEventType().getName().equals("dev.coro.CoroutineStart"))
                .map(e -> e.getString("coroutine") + " #" + e.getLong("coroutineNumber") + " by " + e.getString("creator")
                        + " #" + e.getLong("creatorNumber"))
                .toList();
        assertThat(starts).containsExactlyInAnyOrder("nested #1 by main #0", "selector #2 by main #0",
                "receiver #3 by main #0", "acquirer #4 by main #0", "consumer #5 by main #0", "closed #6 by main #0",
                "inner #7 by consumer #5");
        List<String> ends = events.stream().filter(e -> e.getEventType().getName().equals("dev.coro.CoroutineEnd"))
                .map(e -> e.getString("coroutine") + " #" + e.getLong("coroutineNumber") + " " + e.getString("ending"))
                .toList();
        assertThat(ends).containsExactlyInAnyOrder("nested #1 FINISHED", "selector #2 FINISHED", "receiver #3 FINISHED",
                "acquirer #4 FINISHED", "consumer #5 FINISHED", "closed #6 CLOSED", "inner #7 FINISHED");
    }

    @Test
    void aCoroutinesNameIsRecordedWholeAndAsGivenWhereTheDumpEscapesAndCutsIt() throws Exception {
        String odd = "odd\nname\u0000\u202e" + "x".repeat(250);
        String[] dumped = new String[1];
        List<RecordedEvent> events = JfrEventsTest.record(r -> {
            r.enable("dev.coro.Park").withThreshold(Duration.ZERO);
            r.enable("dev.coro.CoroutineStart");
            r.enable("dev.coro.CoroutineEnd");
        }, () -> {
            Channel<Integer> ch = new Channel<>("ch", 0);
            Coroutine.create(odd, ch::receive).switchTo();
            dumped[0] = Coroutine.dump();
            ch.send(1);
            Coroutine.yield();
        }, "dev.coro.CoroutineStart", "dev.coro.Park", "dev.coro.CoroutineEnd");
        assertThat(events).extracting(e -> e.getEventType().getName()).containsExactly("dev.coro.CoroutineStart",
                "dev.coro.Park", "dev.coro.CoroutineEnd");
        assertThat(events).allSatisfy(e -> assertThat(e.getString("coroutine")).isEqualTo(odd));
        assertThat(dumped[0]).contains("  [1] coroutine 'odd\\nname\\u0000\\u202e" + "x".repeat(190)
                + "…(+60 chars)': PARKED, waits to receive from channel 'ch'\n");
    }

    /**
     * A park that began before a recording started, or ends after it stopped, is not in it: the event is
     * begun at the park only if a recording takes it then, and committed only if one still does.
     */
    @Test
    void onlyAParkThatBeginsAndEndsWhileARecordingRunsIsRecordedInIt() throws Exception {
        Channel<Integer> ch = new Channel<>("ch", 0);
        CompletableFuture<Void> lateWoken = new CompletableFuture<>();
        Coroutine.create("early", ch::receive).switchTo(); // parks before the recording starts
        List<RecordedEvent> parks = JfrEventsTest.record(r -> r.enable("dev.coro.Park").withThreshold(Duration.ZERO), () -> {
            ch.send(1); // wakes 'early' within the recording
            Coroutine.yield();
            Coroutine.create("inside", ch::receive).switchTo();
            ch.send(2);
            Coroutine.yield();
            Coroutine.create("late", () -> {
                ch.receive();
                lateWoken.complete(null);
            }).switchTo(); // parks, woken once the recording has stopped
        }, "dev.coro.Park");
        ch.send(3);
        Coroutine.yield();
        assertThat(lateWoken).isDone();
        assertThat(parks).extracting(e -> e.getString("coroutine")).containsExactly("inside");
        assertThat(parks.get(0).getDuration()).isPositive();
    }
}
