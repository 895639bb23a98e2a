package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A select with two clauses of the same kind on one channel of its own thread (two {@code onReceive}, or two
 * {@code onSend}): it fires one of them, once, and the other leaves the channel's queue with it, whether a
 * partner, a close or an expired {@code withTimeout} ends its wait, or it fires at once.
 */
@ExtendWith(FreshThread.class)
@Timeout(60)
class SelectOverOneChannelTwiceTest {

    private final List<String> log = new ArrayList<>();

    @Test
    void aSendToTwoReceiveClausesOfOneChannelFiresTheFirstOnceAndLeavesNoReceiverBehind() {
        Channel<String> ch = new Channel<>("ch", 0);
        Coroutine c = Coroutine.create("c", () -> log.add(new Select<String>().onReceive(ch, v -> "first " + v)
                .onReceive(ch, v -> "second " + v).select()));
        c.switchTo();
        assertThat(c.state()).isEqualTo(Coroutine.State.PARKED);
        ch.send("a");
        assertThat(ch.trySend("b")).as("no clause left waiting on the channel").isFalse();
        c.join();
        assertThat(log).containsExactly("first a");
    }

    @Test
    void aReceiveFromTwoSendClausesOfOneChannelTakesTheFirstsValueAndTheOtherIsNotDelivered() {
        Channel<String> ch = new Channel<>("ch", 0);
        Coroutine c = Coroutine.create("c", () -> log.add(new Select<String>().onSend(ch, "a", () -> "sent a")
                .onSend(ch, "b", () -> "sent b").select()));
        c.switchTo();
        assertThat(ch.receive()).isEqualTo("a");
        assertThat(ch.tryReceive()).as("the other clause's value was not delivered").isEmpty();
        c.join();
        assertThat(log).containsExactly("sent a");
    }

    @Test
    void aCloseWhileTwoReceiveClausesOfOneChannelWaitFiresOneOfThemAsClosedOnce() {
        Channel<String> ch = new Channel<>("ch", 0);
        Coroutine c = Coroutine.create("c", () -> {
            try {
                log.add(new Select<String>().onReceive(ch, v -> "first " + v).onReceive(ch, v -> "second " + v).select());
            } catch (ChannelClosedException e) {
                log.add(e.getMessage());
            }
        });
        c.switchTo();
        ch.close();
        c.join();
        assertThat(log).containsExactly("coroutine 'c' cannot select onReceive from channel 'ch' (closed): no value is left"
                + " in it, and none can come; leave the clause out to go on");
    }

    @Test
    void aRunOfTwoReceiveClausesOfOneChannelCutByAWithTimeoutLeavesNeitherAndTheNextRunTakesTheNextValue() {
        VirtualTime.run(() -> {
            Channel<String> ch = new Channel<>("ch", 0);
            Select<String> s = new Select<String>().onReceive(ch, v -> "first " + v).onReceive(ch, v -> "second " + v);
            Coroutine c = Coroutine.create("c", () -> {
                try {
                    Coroutine.withTimeout(Duration.ofMillis(5), s::select);
                } catch (CoroutineTimeoutException e) {
                    log.add("cut at " + Coroutine.nanoTime() / 1_000_000 + " ms");
                }
                log.add(s.select());
            });
            Coroutine.sleep(Duration.ofMillis(10));
            assertThat(log).containsExactly("cut at 5 ms");
            assertThat(c.state()).as("waiting in its second run").isEqualTo(Coroutine.State.PARKED);
            ch.send("b");
            assertThat(ch.trySend("c")).as("no clause of either run left on the channel").isFalse();
            c.join();
        });
        assertThat(log).containsExactly("cut at 5 ms", "first b");
    }

    @Test
    void unbiasedRunsOfTwoReceiveClausesOfOneBufferedChannelTakeEachValueOnceInOrder() {
        VirtualTime.run(7, () -> {
            Channel<Integer> ch = new Channel<>("ch", 3);
            for (int i = 1; i <= 3; i++) {
                ch.send(i);
            }
            Select<String> s = new Select<String>().onReceive(ch, v -> "first " + v).onReceive(ch, v -> "second " + v)
                    .onDefault(() -> "none");
            for (int i = 0; i < 4; i++) {
                log.add(s.selectUnbiased());
            }
        });
        assertThat(log).hasSize(4).last().isEqualTo("none");
        assertThat(log.subList(0, 3)).map(r -> r.substring(r.indexOf(' ') + 1)).containsExactly("1", "2", "3");
    }
}
