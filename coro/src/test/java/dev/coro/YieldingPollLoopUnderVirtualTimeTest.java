package dev.coro;

import static dev.coro.SchedulerClock.ms;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Under virtual time a poll loop that yields waits for nothing the clock knows of (docs/TIME.md): polling a
 * shared channel for another thread's value, with nothing else to run, its yield lets the clock jump to the next
 * timer at once, before the value has come; a receive of the same channel is a wait for the other thread and
 * holds the clock until the value comes, a timer pending meanwhile.
 */
@ExtendWith(FreshThread.class)
class YieldingPollLoopUnderVirtualTimeTest {

    /** A bound on the loop: a guard against a hang, far above the two rounds it takes. */
    private static final int MAX_ROUNDS = 1_000;

    private final List<String> log = new ArrayList<>();

    @Test
    @Timeout(10)
    void aYieldOfAPollLoopLetsTheClockJumpPastTheValueAnotherThreadHasNotSentYetWhereAReceiveHoldsIt() {
        VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("replies", 0);
            Peer.run("sharer", () -> assertThat(ch.tryReceive()).isEmpty()); // another thread has used it
            boolean[] late = {false};
            Coroutine.create("deadline", () -> {
                Coroutine.sleep(Duration.ofSeconds(1));
                late[0] = true;
                log.add("deadline at " + ms());
            });
            CompletableFuture<Void> go = new CompletableFuture<>();
            CompletableFuture<Void> sender = Peer.start("sender", () -> {
                go.join(); // sends only once the poll loop has ended
                ch.send(7);
                return null;
            });
            Select<Integer> poll = new Select<Integer>().onReceive(ch, v -> v).onDefault(() -> null);
            Integer polled = null;
            for (int round = 0; polled == null && !late[0] && round < MAX_ROUNDS; round++) {
                polled = poll.select();
                if (polled == null) {
                    Coroutine.yield(); // the deadline parks in its sleep; then nothing else to run: the clock jumps
                }
            }
            log.add("poll loop ended at " + ms() + " with " + polled);

            Coroutine.create("an hour later", () -> {
                Coroutine.sleep(Duration.ofHours(1));
                log.add("an hour later at " + ms());
            });
            Coroutine.yield(); // it parks in its sleep: a timer pending while main receives
            go.complete(null);
            log.add("received " + ch.receive() + " at " + ms()); // a wait another thread ends: the clock holds
            Coroutine.await(sender);
        });
        assertThat(log).containsExactly("deadline at 1000", "poll loop ended at 1000 with null", "received 7 at 1000",
                "an hour later at 3601000");
    }
}
