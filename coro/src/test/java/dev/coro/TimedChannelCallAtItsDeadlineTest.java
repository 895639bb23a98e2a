package dev.coro;

import static dev.coro.SchedulerClock.ms;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Under virtual time, a timed {@code trySend} on a full buffered channel, or a timed {@code tryReceive} on an
 * empty one, whose partner comes at the very instant of its deadline (woken by a timer due then) ends first,
 * whichever timer was scheduled first: due timers expire before any woken context runs, so the timed call leaves
 * the queue having delivered or taken nothing, and the partner finds the channel as if no one had waited. A
 * partner one nanosecond sooner wins.
 */
@ExtendWith(FreshThread.class)
class TimedChannelCallAtItsDeadlineTest {

    private static final Duration SECOND = Duration.ofSeconds(1);

    private final List<String> log = new ArrayList<>();

    @Test
    void aTimedSendOnAFullBufferEndsFirstWhenAReceiveComesAtItsDeadlineWhicheverTimerCameFirst() {
        VirtualTime.run(() -> {
            Channel<String> first = new Channel<>("first", 1);
            first.send("buffered");
            Coroutine.create("receiver", () -> { // its sleep's timer comes before the send's
                Coroutine.sleep(SECOND);
                log.add("receiver got " + first.receive() + " at " + ms());
            });
            Coroutine.yield();
            log.add("sent late: " + first.trySend("late", SECOND) + " at " + ms());
            Coroutine.yield();
            log.add("then " + first.tryReceive() + ", size " + first.size());

            Channel<String> second = new Channel<>("second", 1);
            second.send("buffered");
            Coroutine.create("sender", () -> log.add("sent later: " + second.trySend("later", SECOND) + " at " + ms()));
            Coroutine.yield(); // the send's timer comes before the receive's sleep's
            Coroutine.sleep(SECOND);
            log.add("main got " + second.receive() + " at " + ms());
            Coroutine.yield();
            log.add("then " + second.tryReceive() + ", size " + second.size());
        });
        assertThat(log).containsExactly(
                "receiver got buffered at 1000", "sent late: false at 1000", "then Optional.empty, size 0",
                "sent later: false at 2000", "main got buffered at 2000", "then Optional.empty, size 0");
    }

    @Test
    void aTimedReceiveOnAnEmptyBufferEndsFirstWhenASendComesAtItsDeadlineWhicheverTimerCameFirst() {
        VirtualTime.run(() -> {
            Channel<String> empty = new Channel<>("empty", 1);
            Coroutine.create("sender", () -> { // its sleep's timer comes before the receive's
                Coroutine.sleep(SECOND);
                log.add("sent first: " + empty.trySend("first") + " at " + ms() + ", size " + empty.size());
            });
            Coroutine.yield();
            log.add("received " + empty.tryReceive(SECOND) + " at " + ms());
            log.add("then " + empty.tryReceive());
            Coroutine.create("receiver", () -> log.add("receiver got " + empty.tryReceive(SECOND) + " at " + ms()));
            Coroutine.yield(); // the receive's timer comes before the send's sleep's
            Coroutine.sleep(SECOND);
            log.add("sent second: " + empty.trySend("second") + " at " + ms() + ", size " + empty.size());
            Coroutine.yield();
            log.add("then " + empty.tryReceive());
        });
        assertThat(log).containsExactly(
                "sent first: true at 1000, size 1",
                "received Optional.empty at 1000",
                "then Optional[first]",
                "receiver got Optional.empty at 2000",
                "sent second: true at 2000, size 1",
                "then Optional[second]");
    }

    @Test
    void aPartnerOneNanosecondBeforeTheDeadlineWins() {
        VirtualTime.run(() -> {
            Channel<String> full = new Channel<>("full", 1);
            full.send("buffered");
            Coroutine.create("receiver", () -> {
                Coroutine.sleep(SECOND.minusNanos(1));
                log.add("receiver got " + full.receive());
            });
            log.add("sent: " + full.trySend("late", SECOND) + " at " + Coroutine.nanoTime() + " ns");
            Channel<String> empty = new Channel<>("empty", 1);
            Coroutine.create("sender", () -> {
                Coroutine.sleep(SECOND.minusNanos(1));
                empty.send("early");
            });
            long start = Coroutine.nanoTime();
            log.add("received " + empty.tryReceive(SECOND) + " after " + (Coroutine.nanoTime() - start) + " ns");
            log.add("then " + full.tryReceive() + ", " + empty.tryReceive());
        });
        assertThat(log).containsExactly("receiver got buffered", "sent: true at 999999999 ns",
                "received Optional[early] after 999999999 ns", "then Optional[late], Optional.empty");
    }
}
