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
 * Go's fan-in ported to coro: one select over every producer's channel, a timeout a round, and a channel
 * that closes dropped from the next round's select (found by {@link ChannelClosedException#channel()},
 * where Go sets it to nil), biased and unbiased, on one thread under virtual time and across a pool's threads:
 * every value comes once, each producer's in its order, and each channel's close is met once.
 */
@ExtendWith(FreshThread.class)
@Timeout(60)
class GoFanInTest {

    /** Merges {@code inputs} until every one is closed, logging each value, idle round and close met. */
    private static List<String> merge(List<Channel<String>> inputs, boolean unbiased, Duration idle) {
        return merge(inputs, unbiased, idle, false);
    }

    /** As {@link #merge(List, boolean, Duration)}, each entry followed by the instant it was merged at if {@code stamped}. */
    private static List<String> merge(List<Channel<String>> inputs, boolean unbiased, Duration idle, boolean stamped) {
        List<String> log = new ArrayList<>();
        List<Channel<String>> open = new ArrayList<>(inputs);
        while (!open.isEmpty()) {
            Select<String> round = new Select<>();
            for (Channel<String> in : open) {
                round.onReceive(in, v -> v);
            }
            round.onTimeout(idle, () -> "idle");
            String entry;
            try {
                entry = unbiased ? round.selectUnbiased() : round.select();
            } catch (ChannelClosedException e) {
                assertThat(open.remove(e.channel())).as("the closed channel is one of the round's").isTrue();
                entry = e.channel().name() + " closed";
            }
            log.add(stamped ? entry + " (merged at " + ms() + ")" : entry);
        }
        return log;
    }

    /** Two channels holding five values each, closed. */
    private static List<Channel<String>> twoFullClosedChannels() {
        List<Channel<String>> inputs = new ArrayList<>();
        for (String name : List.of("a", "b")) {
            Channel<String> ch = new Channel<>(name, 5);
            for (int i = 1; i <= 5; i++) {
                ch.send(name + i);
            }
            ch.close();
            inputs.add(ch);
        }
        return inputs;
    }

    @Test
    void aBiasedMergeDrainsTheFirstReadyChannelFirstAndAnUnbiasedOneInterleavesAlikeOnEveryRunOfItsSeed() {
        List<List<String>> runs = new ArrayList<>();
        for (int run = 0; run < 2; run++) {
            VirtualTime.run(7, () -> {
                assertThat(merge(twoFullClosedChannels(), false, Duration.ofSeconds(1))).containsExactly(
                        "a1", "a2", "a3", "a4", "a5", "a closed", "b1", "b2", "b3", "b4", "b5", "b closed");
                runs.add(merge(twoFullClosedChannels(), true, Duration.ofSeconds(1)));
            });
        }
        List<String> unbiased = runs.get(0);
        assertThat(runs.get(1)).as("the same seed picks alike").isEqualTo(unbiased);
        assertThat(unbiased).as("every value once").containsExactlyInAnyOrder(
                "a1", "a2", "a3", "a4", "a5", "a closed", "b1", "b2", "b3", "b4", "b5", "b closed");
        assertThat(unbiased.stream().filter(v -> v.startsWith("a")).toList()).as("a's values in their order, then its close")
                .containsExactly("a1", "a2", "a3", "a4", "a5", "a closed");
        assertThat(unbiased.stream().filter(v -> v.startsWith("b")).toList()).as("b's values in their order, then its close")
                .containsExactly("b1", "b2", "b3", "b4", "b5", "b closed");
        assertThat(unbiased.subList(0, 5)).as("interleaved, not one channel drained first").anyMatch(v -> v.startsWith("b"));
    }

    @Test
    void underVirtualTimeProducersOfTheirOwnPaceAreMergedToTheInstantWithAnIdleRoundWhereNoneSends() {
        VirtualTime.run(() -> {
            List<Channel<String>> inputs = new ArrayList<>();
            int[][] paces = {{0, 70, 3}, {1, 110, 2}, {2, 250, 2}}; // capacity, period in ms, values
            for (int[] pace : paces) {
                String name = "p" + inputs.size();
                Channel<String> ch = new Channel<>(name, pace[0]);
                inputs.add(ch);
                Coroutine.create(name, () -> {
                    try {
                        for (int i = 1; i <= pace[2]; i++) {
                            Coroutine.sleep(Duration.ofMillis(pace[1]));
                            ch.send(name + "." + i + " at " + ms());
                        }
                    } finally {
                        ch.close();
                    }
                });
            }
            assertThat(merge(inputs, true, Duration.ofMillis(100), true)).containsExactly(
                    "p0.1 at 70 (merged at 70)", "p1.1 at 110 (merged at 110)", "p0.2 at 140 (merged at 140)",
                    "p0.3 at 210 (merged at 210)", "p0 closed (merged at 210)", "p1.2 at 220 (merged at 220)",
                    "p1 closed (merged at 220)", "p2.1 at 250 (merged at 250)", "idle (merged at 350)", "idle (merged at 450)",
                    "p2.2 at 500 (merged at 500)", "p2 closed (merged at 500)");
        });
    }

    @Test
    void acrossAPoolsThreadsEveryValueComesOnceInItsProducersOrderAndEachCloseIsMetOnce() {
        List<Channel<String>> inputs = new ArrayList<>();
        for (int p = 0; p < 4; p++) {
            inputs.add(new Channel<>("p" + p, p % 3));
        }
        List<String> merged;
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            List<CompletableFuture<Void>> producers = new ArrayList<>();
            for (Channel<String> ch : inputs) {
                producers.add(pool.submit(ch.name(), () -> {
                    try {
                        for (int i = 0; i < 100; i++) {
                            ch.send(ch.name() + "." + i);
                            if (i % 25 == 0) {
                                Coroutine.sleep(Duration.ofMillis(1));
                            }
                        }
                    } finally {
                        ch.close();
                    }
                    return null;
                }));
            }
            merged = merge(inputs, true, Duration.ofMillis(50));
            for (CompletableFuture<Void> p : producers) {
                Coroutine.await(p);
            }
        }
        List<String> values = merged.stream().filter(v -> !v.equals("idle")).toList();
        assertThat(values).hasSize(4 * 101).doesNotHaveDuplicates();
        for (Channel<String> ch : inputs) {
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                expected.add(ch.name() + "." + i);
            }
            expected.add(ch.name() + " closed");
            assertThat(values.stream().filter(v -> v.startsWith(ch.name() + ".") || v.equals(ch.name() + " closed")).toList())
                    .as(ch.name() + "'s values in their order, then its close, once").isEqualTo(expected);
        }
    }
}
