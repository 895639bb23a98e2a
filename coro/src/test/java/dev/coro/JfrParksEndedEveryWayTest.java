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
