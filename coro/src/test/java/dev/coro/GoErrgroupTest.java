package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Go's errgroup ported to coro: the first failure of a group's coroutines ends its siblings (by their
 * {@code close()}, or by a {@code done} channel closed with the failure as its cause), the caller joins each,
 * and the failure reaches it with its cause, every sibling's wait named truthfully on the way.
 */
@ExtendWith(FreshThread.class)
@Timeout(60)
class GoErrgroupTest {

    /** The lines of {@code dump} that name a context and its state, without their frames. */
    private static List<String> contexts(String dump) {
        return dump.lines().filter(l -> l.startsWith("  [")).toList();
    }

    /**
     * Makes the group's three members, in {@code group}: g0 receives from {@code work}, g1 sleeps a second and
     * then runs {@code g1Ends} (which fails), g2 sleeps ten seconds; each logs its unwinding with the clock.
     */
    private static void members(List<Coroutine> group, Channel<Integer> work, List<String> log, Runnable g1Ends) {
        for (int k = 0; k < 3; k++) {
            int id = k;
            group.add(Coroutine.create("g" + k, () -> {
                try {
                    switch (id) {
                        case 0 -> work.receive();
                        case 1 -> {
                            Coroutine.sleep(Duration.ofSeconds(1));
                            g1Ends.run();
                        }
                        default -> Coroutine.sleep(Duration.ofSeconds(10));
                    }
                } finally {
                    log.add("g" + id + " unwound at " + Coroutine.nanoTime() / 1_000_000 + " ms");
                }
            }));
        }
    }

    @Test
    void theFirstFailureEndsTheCallersJoinWhichClosesTheSiblingsAndThenJoinsEachAtOnce() {
        VirtualTime.run(() -> {
            IllegalStateException broke = new IllegalStateException("g1 broke");
            Channel<Integer> work = new Channel<>("work", 0);
            List<String> log = new ArrayList<>();
            List<Coroutine> group = new ArrayList<>();
            members(group, work, log, () -> {
                throw broke;
            });
            CoroutineException first = catchThrowableOfType(CoroutineException.class, () -> group.get(0).join());
            assertThat(first).as("g1's failure ends the caller's join of g0").hasMessage(
                    "coroutine 'g1' failed: java.lang.IllegalStateException: g1 broke").hasCause(broke);
            assertThat(contexts(Coroutine.dump())).as("the siblings as the failure comes").containsExactly(
                    "  [0] main: RUNNING (the caller)",
                    "  [1] coroutine 'g0': PARKED, waits to receive from channel 'work'",
                    "  [2] coroutine 'g2': PARKED, waits to sleep 10,000.000 ms (t=10,000.000 ms on the virtual clock,"
                            + " 9,000.000 ms left)");
            for (Coroutine c : group) {
                c.close();
            }
            for (Coroutine c : group) {
                c.join();
            }
            assertThat(group).extracting(Coroutine::state).containsExactly(State.CLOSED, State.FAILED, State.CLOSED);
            assertThat(log).containsExactly("g1 unwound at 1000 ms", "g0 unwound at 1000 ms", "g2 unwound at 1000 ms");
            assertThat(Coroutine.nanoTime()).as("no sibling slept on").isEqualTo(1_000_000_000L);
            assertThat(work.trySend(1)).as("g0 left the channel as it unwound").isFalse();
        });
    }

    @Test
    void aDoneChannelClosedWithTheFirstFailureEndsEverySiblingWithItAsTheCause() {
        VirtualTime.run(() -> {
            Channel<Void> done = new Channel<>("done", 0);
            List<RuntimeException> errors = new ArrayList<>();
            List<Coroutine> group = new ArrayList<>();
            IllegalStateException broke = new IllegalStateException("g1 broke");
            for (int k = 0; k < 3; k++) {
                int id = k;
                group.add(Coroutine.create("g" + k, () -> {
                    try { // errgroup's Go(f): the first error cancels the group's context, here its done channel
                        if (id == 1) {
                            Coroutine.sleep(Duration.ofSeconds(1));
                            throw broke;
                        }
                        new Select<String>().onReceive(done, v -> "cancelled")
                                .onTimeout(Duration.ofSeconds(10), () -> "finished").select();
                    } catch (RuntimeException e) {
                        errors.add(e);
                        done.close(e); // only the first close counts
                    }
                }));
            }
            for (Coroutine c : group) { // errgroup's Wait
                c.join();
            }
            assertThat(Coroutine.nanoTime()).as("the siblings ended with the failure").isEqualTo(1_000_000_000L);
            assertThat(group).extracting(Coroutine::state).containsOnly(State.FINISHED);
            assertThat(errors).hasSize(3).first().isSameAs(broke);
            assertThat(done.closeCause()).containsSame(broke);
            assertThat(errors.subList(1, 3)).extracting(Throwable::getMessage).containsExactly(
                    "coroutine 'g0' cannot select onReceive from channel 'done' (closed): no value is left in it, and none"
                            + " can come; leave the clause out to go on",
                    "coroutine 'g2' cannot select onReceive from channel 'done' (closed): no value is left in it, and none"
                            + " can come; leave the clause out to go on");
            assertThat(errors.subList(1, 3)).allSatisfy(e -> assertThat(e).isInstanceOf(ChannelClosedException.class)
                    .hasCause(broke));
        });
    }

    @Test
    void aMemberThatClosesItsSiblingsAndThenFailsHasItsFailureThrownOnceFromTheJoinThatWasPendingThoughThatSiblingHadEnded() {
        VirtualTime.run(() -> {
            IllegalStateException broke = new IllegalStateException("g1 broke");
            Channel<Integer> work = new Channel<>("work", 0);
            List<String> log = new ArrayList<>();
            List<Coroutine> group = new ArrayList<>();
            members(group, work, log, () -> {
                for (Coroutine sibling : group) { // the failing member cancels the others itself
                    if (sibling != Coroutine.current()) {
                        sibling.close();
                    }
                }
                throw broke;
            });
            List<Throwable> thrown = new ArrayList<>();
            for (Coroutine c : group) {
                try {
                    c.join();
                    log.add("joined " + c);
                } catch (CoroutineException e) {
                    thrown.add(e);
                    log.add("the join of " + c + " threw " + e.getMessage());
                }
            }
            Coroutine.yield(); // nothing is kept for a later scheduling point: the failure came once
            assertThat(log).containsExactly("g0 unwound at 1000 ms", "g2 unwound at 1000 ms", "g1 unwound at 1000 ms",
                    "the join of Coroutine[g0, CLOSED] threw coroutine 'g1' failed: java.lang.IllegalStateException: g1 broke",
                    "joined Coroutine[g1, FAILED]", "joined Coroutine[g2, CLOSED]");
            assertThat(thrown).hasSize(1);
            assertThat(thrown.get(0)).hasCause(broke);
            assertThat(Coroutine.nanoTime()).isEqualTo(1_000_000_000L);
        });
    }
}
