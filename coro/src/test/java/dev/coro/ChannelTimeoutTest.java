package dev.coro;

import static dev.coro.SchedulerClock.ms;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@link Channel#tryReceive(Duration)} and {@link Channel#trySend(Object, Duration)} wait at most their timeout, and lose nothing. */
@ExtendWith(FreshThread.class)
class ChannelTimeoutTest {

    private final List<String> log = new ArrayList<>();

    private static Duration millis(long ms) {
        return Duration.ofMillis(ms);
    }

    @Test
    void aTimedOutReceiveTookNothingAndLaterSendsGoToOthers() {
        VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("ch", 0);
            Coroutine.create("late", () -> {
                log.add("late got " + ch.tryReceive(millis(1000)) + " at " + ms());
                Coroutine.sleep(Duration.ofHours(1));
            });
            Coroutine.sleep(millis(2000));
            assertThat(ch.trySend(1)).as("no receiver is left in the queue").isFalse();
            Coroutine.create("taker", () -> log.add("taker got " + ch.receive() + " at " + ms()));
            ch.send(42);
        });
        assertThat(log).containsExactly("late got Optional.empty at 1000", "taker got 42 at 2000");
    }

    @Test
    void aTimedOutSendDeliveredNothing() {
        List<Integer> received = new ArrayList<>();
        VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("ch", 0);
            Coroutine.create("sender", () -> {
                log.add("sent 5: " + ch.trySend(5, millis(1000)) + " at " + ms());
                ch.send(6);
            });
            Coroutine.sleep(millis(2000));
            received.add(ch.receive());
            ch.tryReceive().ifPresent(received::add);
        });
        assertThat(log).containsExactly("sent 5: false at 1000");
        assertThat(received).containsExactly(6);
    }

    @Test
    void aReceiveThatSucceedsBeforeTheDeadlineReturnsTheValueAndLeavesNoTimer() {
        VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("ch", 0);
            Coroutine.create("sender", () -> {
                Coroutine.sleep(millis(1000));
                ch.send(42);
            });
            log.add("got " + ch.tryReceive(millis(5000)) + " at " + ms());
            assertNoTimerLeft();
        });
        assertThat(log).containsExactly("got Optional[42] at 1000");
    }

    @Test
    void aSendThatSucceedsBeforeTheDeadlineReturnsTrueAndLeavesNoTimer() {
        VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("ch", 0);
            Coroutine.create("receiver", () -> {
                Coroutine.sleep(millis(1000));
                log.add("receiver got " + ch.receive() + " at " + ms());
            });
            log.add("sent: " + ch.trySend(7, millis(5000)) + " at " + ms());
            assertNoTimerLeft();
        });
        assertThat(log).containsExactly("receiver got 7 at 1000", "sent: true at 1000");
    }

    /** Main parks with nothing else alive: with no timer pending that is a deadlock at once, the clock unmoved. */
    private static void assertNoTimerLeft() {
        long before = Coroutine.nanoTime();
        assertThatThrownBy(() -> new Channel<Integer>("idle", 0).receive()).isInstanceOf(DeadlockException.class);
        assertThat(Coroutine.nanoTime()).isEqualTo(before);
    }

    @Test
    void onTheRealClockTheyTimeOutToo() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        assertThat(ch.tryReceive(millis(3))).isEmpty();
        assertThat(ch.trySend(1, millis(3))).isFalse();
        Coroutine c = Coroutine.create("c", () -> log.add("c got " + ch.tryReceive(millis(3))));
        assertThat(ch.trySend(2, Duration.ofHours(1))).as("c takes it").isTrue();
        assertThat(ch.trySend(3, millis(3))).isFalse();
        assertThat(c.state()).isEqualTo(State.FINISHED);
        assertThat(log).containsExactly("c got Optional[2]");
    }

    @Test
    void onAClosedChannelTheyNeverThrowNorWait() {
        VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("ch", 1);
            ch.send(1);
            ch.close();
            assertThat(ch.trySend(2, millis(1000))).isFalse();
            assertThat(ch.tryReceive(millis(1000))).as("the buffered value is still there").contains(1);
            assertThat(ch.tryReceive(millis(1000))).isEmpty();
            assertThat(Coroutine.nanoTime()).isZero();
        });
    }

    @Test
    void aChannelClosedWhileTheyWaitEndsTheWaitWithEmptyOrFalse() {
        VirtualTime.run(() -> {
            Channel<Integer> in = new Channel<>("in", 0);
            Channel<Integer> out = new Channel<>("out", 0);
            Coroutine.create("closer", () -> {
                Coroutine.sleep(millis(1000));
                in.close();
                Coroutine.sleep(millis(1000));
                out.close();
            });
            log.add("received " + in.tryReceive(millis(5000)) + " at " + ms());
            log.add("sent " + out.trySend(3, millis(5000)) + " at " + ms());
        });
        assertThat(log).containsExactly("received Optional.empty at 1000", "sent false at 2000");
    }

    @Test
    void aNegativeTimeoutThrowsNamingTheCallerItsStateTheOperationAndTheChannelWithItsState() {
        Channel<Integer> ch = new Channel<>("ch", 1);
        assertThatThrownBy(() -> ch.tryReceive(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("main context 'main' (state RUNNING) cannot tryReceive from channel 'ch' (open) with timeout"
                        + " PT-1S: a timeout must be zero or positive");
        Coroutine c = Coroutine.create("worker", () -> assertThatThrownBy(() -> ch.trySend(1, millis(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("coroutine 'worker' (state RUNNING) cannot trySend to channel 'ch' (open) with timeout"
                        + " PT-0.001S: a timeout must be zero or positive"));
        c.switchTo();
        assertThat(c.state()).isEqualTo(State.FINISHED);
        ch.close();
        assertThatThrownBy(() -> ch.tryReceive(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("main context 'main' (state RUNNING) cannot tryReceive from channel 'ch' (closed) with timeout"
                        + " PT-1S: a timeout must be zero or positive");
        assertThat(ch.tryReceive()).as("nothing was sent").isEmpty();
        ch.close();
        assertThatThrownBy(() -> ch.trySend(1, millis(-1))).as("checked also on a closed channel")
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aZeroTimeoutIsAnImmediateTry() {
        VirtualTime.run(() -> {
            Channel<Integer> rendezvous = new Channel<>("rendezvous", 0);
            Coroutine receiver = Coroutine.create("receiver", () -> log.add("receiver got " + rendezvous.receive()));
            assertThat(rendezvous.tryReceive(Duration.ZERO)).isEmpty();
            assertThat(rendezvous.trySend(1, Duration.ZERO)).isFalse();
            assertThat(receiver.state()).as("no park ran anyone else").isEqualTo(State.NEW);
            Coroutine.yield();
            assertThat(rendezvous.trySend(2, Duration.ZERO)).as("a parked receiver takes it").isTrue();
            Channel<Integer> buffered = new Channel<>("buffered", 1);
            assertThat(buffered.trySend(3, Duration.ZERO)).isTrue();
            assertThat(buffered.trySend(4, Duration.ZERO)).isFalse();
            assertThat(buffered.tryReceive(Duration.ZERO)).contains(3);
            assertThat(Coroutine.nanoTime()).isZero();
        });
        assertThat(log).containsExactly("receiver got 2");
    }

    @Test
    void aReceiverClosedAfterItWasHandedAValuePutsItBackInTheChannel() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine receiver = Coroutine.create("receiver", () -> log.add("receiver got " + ch.tryReceive(Duration.ofHours(1))));
        Coroutine.yield();
        assertThat(ch.trySend(7)).isTrue();
        assertThat(receiver.state()).isEqualTo(State.SUSPENDED);
        receiver.close();
        assertThat(log).isEmpty();
        assertThat(ch.tryReceive()).contains(7);
        assertThat(ch.tryReceive()).isEmpty();
    }

    /**
     * A value handed to a timed receiver whose wait then ends (its coroutine closed before it ran again)
     * goes to the next receiver waiting, a timed one too, not into the channel: that receiver gets it, and
     * nothing is left in the channel; neither leaves a timer.
     */
    @Test
    void aValueHandedToATimedReceiverClosedBeforeItRanGoesToTheNextTimedReceiverWaiting() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine first = Coroutine.create("first", () -> log.add("first got " + ch.tryReceive(Duration.ofHours(1))));
        Coroutine next = Coroutine.create("next", () -> log.add("next got " + ch.tryReceive(Duration.ofHours(1))));
        first.switchTo(); // it parks first, the longest-waiting
        next.switchTo();
        assertThat(ch.trySend(7)).isTrue();
        assertThat(first.state()).isEqualTo(State.SUSPENDED);
        first.close();
        assertThat(next.state()).as("handed the value the first was given").isEqualTo(State.SUSPENDED);
        assertThat(ch.tryReceive()).as("nothing lies in the channel").isEmpty();
        Coroutine.yield();
        assertThat(log).containsExactly("next got Optional[7]");
        assertThat(Scheduler.current().loop.timerCount()).as("no timer left").isZero();
    }

    @Test
    void aTimedReceiverHandedAValueBeforeTheChannelClosedKeepsItWhenItIsClosedBeforeItRuns() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine receiver = Coroutine.create("receiver", () -> log.add("receiver got " + ch.tryReceive(Duration.ofHours(1))));
        Coroutine.yield();
        assertThat(ch.trySend(7)).isTrue();
        ch.close();
        assertThat(ch.tryReceive()).as("closed and drained").isEmpty();
        receiver.close();
        assertThat(log).as("the value handed over before the close is the receiver's").containsExactly("receiver got Optional[7]");
        assertThat(ch.tryReceive()).as("nothing lies in the channel everyone was told is drained").isEmpty();
    }

    @Test
    void aSenderClosedAfterItsValueWasTakenDeliveredItOnceAndOneClosedWhileWaitingDeliveredNothing() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine taken = Coroutine.create("taken", () -> ch.trySend(1, Duration.ofHours(1)));
        Coroutine.yield();
        assertThat(ch.tryReceive()).contains(1);
        taken.close();
        Coroutine waiting = Coroutine.create("waiting", () -> ch.trySend(2, Duration.ofHours(1)));
        Coroutine.yield();
        assertThat(waiting.state()).isEqualTo(State.PARKED);
        waiting.close();
        assertThat(ch.tryReceive()).as("neither 1 again nor 2").isEmpty();
        assertThat(taken.state()).isEqualTo(State.CLOSED);
        assertThat(waiting.state()).isEqualTo(State.CLOSED);
    }

    @Test
    void nothingIsLostOrDuplicatedWhenWaitsTimeOutTheChannelClosesAndWaitersAreClosed() {
        Set<Integer> attempted = new HashSet<>();
        Set<Integer> confirmed = new HashSet<>();
        List<Integer> received = new ArrayList<>();
        int[] outcomes = new int[4]; // timed-out sends, timed-out receives, closes of a context parked on ch, sends to ch closed
        VirtualTime.run(() -> {
            Random random = new Random(7);
            Channel<Integer> ch = new Channel<>("ch", 2);
            List<Coroutine> all = new ArrayList<>();
            for (int p = 0; p < 4; p++) {
                int id = p;
                all.add(Coroutine.create("producer" + p, () -> {
                    for (int k = 0; k < 60; k++) {
                        int v = 100 * id + k;
                        attempted.add(v);
                        if (ch.trySend(v, millis(random.nextInt(30)))) {
                            confirmed.add(v);
                        } else if (ch.isClosed()) {
                            outcomes[3]++;
                        } else {
                            outcomes[0]++;
                        }
                        Coroutine.sleep(millis(random.nextInt(10)));
                    }
                }));
            }
            for (int c = 0; c < 3; c++) {
                all.add(Coroutine.create("consumer" + c, () -> {
                    while (true) {
                        Optional<Integer> v = ch.tryReceive(millis(random.nextInt(40)));
                        if (v.isPresent()) {
                            received.add(v.get());
                        } else if (ch.isClosed()) {
                            return;
                        } else {
                            outcomes[1]++;
                        }
                        Coroutine.sleep(millis(random.nextInt(15)));
                    }
                }));
            }
            for (int round = 0; round < 6; round++) {
                Coroutine.sleep(millis(20));
                all.stream().filter(c -> c.state() == State.PARKED && c.context.waitingFor instanceof ChannelWaiter<?>)
                        .findFirst().ifPresent(victim -> {
                            outcomes[2]++;
                            victim.close();
                        });
            }
            Coroutine.sleep(millis(50));
            ch.close();
            Coroutine.sleep(millis(100));
            for (Optional<Integer> v; (v = ch.tryReceive()).isPresent(); ) {
                received.add(v.get());
            }
            for (Coroutine c : all) {
                c.close();
            }
        });
        assertThat(received).doesNotHaveDuplicates();
        assertThat(attempted).containsAll(received);
        assertThat(received).containsAll(confirmed);
        assertThat(java.util.Arrays.stream(outcomes).boxed().toList()).as("every way of ending a wait happened")
                .allSatisfy(n -> assertThat(n).isPositive());
    }
}
