package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Go's time-driven patterns ported to coro under virtual time: a ticker and a bursty rate limiter made of
 * sleeps and {@code trySend}, and a select loop with a timeout per round inside an overall {@code withTimeout};
 * each traces to the exact instant, and the wait the overall timeout cuts short takes nothing.
 */
@ExtendWith(FreshThread.class)
@Timeout(60)
class GoTickerAndTimeoutsTest {

    private static long millis() {
        return Coroutine.nanoTime() / 1_000_000;
    }

    @Test
    void aTickerMadeOfSleepsPacesItsReceiverAndDropsTheTicksASlowReceiverMissesAsGosTickerDoes() {
        VirtualTime.run(() -> {
            Channel<Long> ticks = new Channel<>("ticks", 1); // Go's ticker channel holds one tick
            Coroutine ticker = Coroutine.create("ticker", () -> {
                while (true) {
                    Coroutine.sleep(Duration.ofMillis(100));
                    ticks.trySend(millis()); // a tick nobody has room for is dropped
                }
            });
            List<String> log = new ArrayList<>();
            for (int request = 1; request <= 3; request++) {
                long tick = ticks.receive();
                log.add("request " + request + " on the tick of " + tick + " ms at " + millis() + " ms");
            }
            Coroutine.sleep(Duration.ofMillis(550)); // busy elsewhere from 300 to 850 ms
            long kept = ticks.receive();
            long next = ticks.receive();
            log.add("after the pause: the tick of " + kept + " ms, then of " + next + " ms at " + millis() + " ms");
            assertThat(Coroutine.dump().lines().filter(l -> l.startsWith("  [1]"))).containsExactly(
                    "  [1] coroutine 'ticker': PARKED, waits to sleep 100.000 ms (t=1,000.000 ms on the virtual clock,"
                            + " 100.000 ms left)");
            ticker.close();
            assertThat(log).containsExactly(
                    "request 1 on the tick of 100 ms at 100 ms",
                    "request 2 on the tick of 200 ms at 200 ms",
                    "request 3 on the tick of 300 ms at 300 ms",
                    "after the pause: the tick of 400 ms, then of 900 ms at 900 ms");
        });
    }

    @Test
    void aBurstyRateLimiterOfSleepsLetsABurstThroughAtOnceThenOneATick() {
        VirtualTime.run(() -> {
            Channel<Boolean> tokens = new Channel<>("tokens", 3);
            for (int i = 0; i < 3; i++) {
                tokens.send(true);
            }
            Coroutine refill = Coroutine.create("refill", () -> {
                while (true) {
                    Coroutine.sleep(Duration.ofMillis(100));
                    tokens.trySend(true); // a full bucket drops the token
                }
            });
            List<Long> starts = new ArrayList<>();
            for (int request = 0; request < 6; request++) {
                tokens.receive();
                starts.add(millis());
            }
            Coroutine.sleep(Duration.ofMillis(1000));
            int burst = 0;
            while (tokens.tryReceive().isPresent()) {
                burst++;
            }
            refill.close();
            assertThat(starts).containsExactly(0L, 0L, 0L, 100L, 200L, 300L);
            assertThat(burst).as("an idle second refills the bucket, never past its size").isEqualTo(3);
        });
    }

    @Test
    void aSelectLoopWithATimeoutPerRoundInsideAnOverallWithTimeoutTracesExactlyAndItsLastWaitTakesNothing() {
        VirtualTime.run(() -> {
            Channel<Integer> in = new Channel<>("in", 0);
            Coroutine producer = Coroutine.create("producer", () -> {
                int[] gaps = {150, 300, 450, 600};
                for (int i = 0; i < gaps.length; i++) {
                    Coroutine.sleep(Duration.ofMillis(gaps[i]));
                    in.send(i);
                }
            });
            List<String> rounds = new ArrayList<>();
            Select<String> round = new Select<String>().onReceive(in, v -> "got " + v)
                    .onTimeout(Duration.ofMillis(200), () -> "idle"); // Go's time.After, counted from each run
            CoroutineTimeoutException expired = catchThrowableOfType(CoroutineTimeoutException.class,
                    () -> Coroutine.withTimeout(Duration.ofSeconds(1), () -> {
                        while (true) {
                            rounds.add(round.select() + " at " + millis());
                        }
                    }));
            assertThat(rounds).containsExactly("got 0 at 150", "idle at 350", "got 1 at 450", "idle at 650",
                    "idle at 850", "got 2 at 900");
            assertThat(expired).hasMessage("main context 'main' timed out: withTimeout(PT1S) expired before its body returned");
            assertThat(expired.getCause()).isInstanceOf(CoroutineExit.class).hasMessage("main context 'main': its"
                    + " withTimeout(PT1S) expired; its select over receive from channel 'in', timeout PT0.2S throws this signal"
                    + " so that the body unwinds to it");
            assertThat(millis()).isEqualTo(1000);
            assertThat(in.receive()).as("the value sent after the expiry was not taken by the select cut short").isEqualTo(3);
            assertThat(millis()).isEqualTo(1500);
            producer.join();
        });
    }
}
