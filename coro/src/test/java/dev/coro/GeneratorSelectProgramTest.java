package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A generator whose body waits in a select with a timeout, consumed under a timeout of its consumer's. */
@ExtendWith(FreshThread.class)
class GeneratorSelectProgramTest {

    @Test
    void theConsumersTimeoutScheduledFirstWinsOverTheBodysSelectTimeoutDueAtTheSameInstant() {
        List<String> log = new ArrayList<>();
        VirtualTime.run(() -> {
            Channel<Integer> readings = new Channel<>("readings", 0);
            Generator<Integer> feed = Generator.of("feed", out -> {
                try {
                    while (true) {
                        Coroutine.sleep(Duration.ofMillis(20));
                        out.emit(new Select<Integer>()
                                .onReceive(readings, v -> v)
                                .onTimeout(Duration.ofMillis(10), () -> -1)
                                .select());
                    }
                } finally {
                    log.add("body unwound at " + Coroutine.nanoTime() / 1_000_000);
                }
            });
            try {
                Coroutine.withTimeout(Duration.ofMillis(30), () -> {
                    while (true) {
                        log.add("took " + feed.next() + " at " + Coroutine.nanoTime() / 1_000_000);
                    }
                });
            } catch (CoroutineTimeoutException e) {
                log.add("timed out at " + Coroutine.nanoTime() / 1_000_000);
            }
            log.add("feed " + feed.state());
            Coroutine.withTimeout(Duration.ofMillis(100), () -> Coroutine.sleep(Duration.ofMillis(50)));
            log.add("slept to " + Coroutine.nanoTime() / 1_000_000);
        });
        assertThat(log).containsExactly("body unwound at 30", "timed out at 30", "feed CLOSED", "slept to 80");
    }

    @Test
    void aReadAheadBodyWaitingInSelectsLeavesItsValuesToTheConsumerWhoseTimeoutUnwindsItMidBatch() {
        List<String> log = new ArrayList<>();
        VirtualTime.run(() -> {
            Channel<Integer> readings = new Channel<>("readings", 0);
            Coroutine.create("sensor", () -> {
                Coroutine.sleep(Duration.ofMillis(12));
                readings.send(7);
            });
            Generator<Integer> feed = Generator.buffered("feed", 3, out -> {
                try {
                    while (true) {
                        Coroutine.sleep(Duration.ofMillis(10));
                        out.emit(new Select<Integer>()
                                .onReceive(readings, v -> v)
                                .onTimeout(Duration.ofMillis(5), () -> -1)
                                .select());
                    }
                } finally {
                    log.add("body unwound at " + Coroutine.nanoTime() / 1_000_000);
                }
            });
            try {
                Coroutine.withTimeout(Duration.ofMillis(37), () -> {
                    log.add("took " + feed.next() + " at " + Coroutine.nanoTime() / 1_000_000);
                });
            } catch (CoroutineTimeoutException e) {
                log.add("timed out at " + Coroutine.nanoTime() / 1_000_000 + ", feed " + feed.state());
            }
            while (feed.hasNext()) {
                log.add("took " + feed.next() + " at " + Coroutine.nanoTime() / 1_000_000);
            }
            log.add("feed " + feed.state());
        });
        // 7 received at 12, the timeout at 27 (-1), then at 37 inside the third sleep: two values stay
        assertThat(log).containsExactly("body unwound at 37", "timed out at 37, feed SUSPENDED", "took 7 at 37",
                "took -1 at 37", "feed CLOSED");
    }
}
