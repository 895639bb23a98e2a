package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A select with an {@code onSend} and an {@code onReceive} of the same channel, as a Go program writes
 * {@code select { case ch <- v: … case w := <-ch: … }}: a select never meets itself, on a buffered channel it
 * sends into room or receives from a full buffer, and two such selects exchange exactly one value a round.
 */
@ExtendWith(FreshThread.class)
@Timeout(60)
class GoSelectOverBothEndsOfOneChannelTest {

    /** The line of {@code dump} that names context {@code index}, without its frames. */
    private static String context(String dump, int index) {
        return dump.lines().filter(l -> l.startsWith("  [" + index + "]")).findFirst().orElseThrow();
    }

    @Test
    void aLoneSelectOverBothEndsOfARendezvousChannelNeverMeetsItselfAndItsTimeoutFires() {
        VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("ch", 0);
            List<String> log = new ArrayList<>();
            Coroutine loner = Coroutine.create("loner", () -> {
                String r = new Select<String>().onReceive(ch, v -> "received " + v).onSend(ch, 7, () -> "sent")
                        .onTimeout(Duration.ofSeconds(1), () -> "timed out").select();
                log.add(r + " at " + Coroutine.nanoTime() / 1_000_000 + " ms");
            });
            Coroutine.yield();
            assertThat(context(Coroutine.dump(), 1)).isEqualTo("  [1] coroutine 'loner': PARKED, waits to select over receive"
                    + " from channel 'ch', send to channel 'ch', timeout PT1S (t=1,000.000 ms on the virtual clock, 1,000.000 ms left)");
            loner.join();
            assertThat(log).containsExactly("timed out at 1000 ms");
            assertThat(ch.trySend(1)).as("no receive clause left on the channel").isFalse();
            assertThat(ch.tryReceive()).as("no send clause left on the channel").isEmpty();
        });
    }

    @Test
    void onABufferedChannelItSendsIntoRoomAndReceivesFromTheFullBufferWithoutWaiting() {
        VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("ch", 1);
            Select<String> both = new Select<String>().onReceive(ch, v -> "received " + v).onSend(ch, 7, () -> "sent")
                    .onTimeout(Duration.ofSeconds(1), () -> "timed out");
            List<String> log = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                log.add(both.select() + ", " + ch.size() + " buffered");
            }
            assertThat(log).containsExactly("sent, 1 buffered", "received 7, 0 buffered", "sent, 1 buffered",
                    "received 7, 0 buffered");
            assertThat(Coroutine.nanoTime()).as("it never waited").isZero();
        });
    }

    @Test
    void twoSelectsOverBothEndsOfOneChannelExchangeExactlyOneValueARound() {
        VirtualTime.run(42, () -> {
            Channel<Integer> ch = new Channel<>("ch", 0);
            int rounds = 6;
            List<List<String>> results = List.of(new ArrayList<>(), new ArrayList<>());
            List<Integer> sent = new ArrayList<>();
            List<Integer> received = new ArrayList<>();
            List<Coroutine> peers = new ArrayList<>();
            for (int p = 0; p < 2; p++) {
                int id = p;
                peers.add(Coroutine.create("peer-" + p, () -> {
                    for (int r = 0; r < rounds; r++) {
                        int mine = 100 * id + r;
                        String outcome = new Select<String>()
                                .onReceive(ch, v -> {
                                    received.add(v);
                                    return "received";
                                })
                                .onSend(ch, mine, () -> {
                                    sent.add(mine);
                                    return "sent";
                                })
                                .onTimeout(Duration.ofSeconds(1), () -> "timed out")
                                .selectUnbiased();
                        results.get(id).add(outcome);
                    }
                }));
            }
            for (Coroutine c : peers) {
                c.join();
            }
            assertThat(Coroutine.nanoTime()).as("each round found its partner: no timeout").isZero();
            assertThat(received).as("every value sent was received once, in order").isEqualTo(sent).hasSize(rounds);
            for (int r = 0; r < rounds; r++) {
                assertThat(List.of(results.get(0).get(r), results.get(1).get(r))).as("round " + r)
                        .containsExactlyInAnyOrder("sent", "received");
            }
            assertThat(ch.trySend(1)).isFalse();
            assertThat(ch.tryReceive()).isEmpty();
        });
    }

    @Test
    void aCloseWhileItWaitsOnBothEndsFiresOneClauseWithTheCauseAndDeliversNothing() {
        VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("ch", 0);
            IllegalStateException gone = new IllegalStateException("the peer has gone");
            List<Throwable> failures = new ArrayList<>();
            Coroutine waiter = Coroutine.create("waiter", () -> {
                try {
                    new Select<String>().onReceive(ch, v -> "received " + v).onSend(ch, 7, () -> "sent").select();
                } catch (ChannelClosedException e) {
                    failures.add(e);
                }
            });
            Coroutine.yield();
            ch.close(gone);
            waiter.join();
            assertThat(failures).hasSize(1);
            assertThat(failures.get(0)).isInstanceOf(ChannelClosedException.class)
                    .hasMessage("coroutine 'waiter' cannot select onReceive from channel 'ch' (closed): no value is left in it,"
                            + " and none can come; leave the clause out to go on")
                    .hasCause(gone);
            assertThat(((ChannelClosedException) failures.get(0)).channel()).isSameAs(ch);
            assertThat(ch.size()).as("the send clause delivered nothing").isZero();
        });
    }
}
