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
 * A select whose clause runs another select, inside a {@code withTimeout} that expires while the inner one
 * waits: the dump names the inner wait, the signal names it, the value the outer clause had received stays
 * received, the inner select takes nothing, and both selects run again afterwards.
 */
@ExtendWith(FreshThread.class)
@Timeout(60)
class GoNestedSelectUnderWithTimeoutTest {

    private static long millis() {
        return Coroutine.nanoTime() / 1_000_000;
    }

    @Test
    void aWithTimeoutExpiringInTheInnerSelectCutsOnlyTheInnerWaitAndBothSelectsRunAgain() {
        VirtualTime.run(() -> {
            Channel<Integer> requests = new Channel<>("requests", 1);
            Channel<Integer> replies = new Channel<>("replies", 0);
            Coroutine client = Coroutine.create("client", () -> {
                for (int i = 1; ; i++) {
                    Coroutine.sleep(Duration.ofMillis(300));
                    requests.send(i);
                }
            });
            List<String> log = new ArrayList<>();
            List<Integer> handled = new ArrayList<>();
            Select<String> reply = new Select<String>().onReceive(replies, v -> "reply " + v)
                    .onTimeout(Duration.ofSeconds(1), () -> "no reply");
            Select<String> serve = new Select<String>()
                    .onReceive(requests, v -> {
                        handled.add(v);
                        return "request " + v + ": " + reply.select();
                    })
                    .onTimeout(Duration.ofMillis(500), () -> "no request");
            Coroutine server = Coroutine.create("server", () -> {
                CoroutineTimeoutException e = catchThrowableOfType(CoroutineTimeoutException.class,
                        () -> Coroutine.withTimeout(Duration.ofMillis(2500), () -> {
                            while (true) {
                                log.add(serve.select() + " at " + millis());
                            }
                        }));
                log.add(e.getMessage());
                log.add(e.getCause().getMessage());
                log.add("then " + serve.select() + " at " + millis());
            });
            Coroutine.sleep(Duration.ofMillis(2400));
            assertThat(Coroutine.dump().lines().filter(l -> l.startsWith("  [2]"))).containsExactly(
                    "  [2] coroutine 'server': PARKED, waits to select over receive from channel 'replies', timeout PT1S"
                            + " (t=3,300.000 ms on the virtual clock, 900.000 ms left)");
            server.join();
            client.close();
            assertThat(log).containsExactly(
                    "request 1: no reply at 1300",
                    "request 2: no reply at 2300",
                    "coroutine 'server' timed out: withTimeout(PT2.5S) expired before its body returned",
                    "coroutine 'server': its withTimeout(PT2.5S) expired; its select over receive from channel 'replies',"
                            + " timeout PT1S throws this signal so that the body unwinds to it",
                    "then request 4: no reply at 3500");
            assertThat(handled).as("request 3, received before the expiry, stays received: no request is taken twice")
                    .containsExactly(1, 2, 3, 4);
            assertThat(replies.trySend(9)).as("the inner select left no receiver").isFalse();
            assertThat(requests.tryReceive()).as("the client's next request, still there").contains(5);
        });
    }
}
