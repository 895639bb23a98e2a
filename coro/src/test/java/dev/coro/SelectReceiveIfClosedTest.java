package dev.coro;

import static dev.coro.SchedulerClock.ms;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An {@code onReceive} clause given {@code ifClosed} ({@link Select#onReceive(Channel, Function, Function)}): where
 * the plain clause throws {@link ChannelClosedException} (its channel closed and drained), the select hands that
 * very exception to {@code ifClosed} and returns its result; in all else it is the plain clause, on the caller's
 * channels and on other threads' alike.
 */
@ExtendWith(FreshThread.class)
class SelectReceiveIfClosedTest {

    private final List<String> log = new ArrayList<>();

    /** What the plain clause throws, and the new one hands over, for a receive from channel {@code name} by main. */
    private static String closedMessage(String caller, String name) {
        return caller + " cannot select onReceive from channel '" + name + "' (closed): no value is left in it, and none can come;"
                + " leave the clause out to go on";
    }

    /** The outcome {@code ifClosed} makes: the exception's message, with whether it carries the channel and what its cause is. */
    private static Function<ChannelClosedException, String> outcome(Channel<?> ch) {
        return e -> "closed [" + e.getMessage() + "] channel " + (e.channel() == ch ? "same" : "other")
                + " cause " + (e.getCause() == null ? "none" : e.getCause().getMessage());
    }

    @Test
    void aClauseOnAChannelClosedBeforeTheRunIsReadyAtOnceAndReturnsWhatIfClosedMakesOfTheExceptionThePlainClauseThrows() {
        Channel<String> open = new Channel<>("open", 0);
        Channel<String> closed = new Channel<>("closed", 1);
        closed.close(new IOException("producer failed"));
        Throwable plain = catchThrowable(() -> new Select<String>().onReceive(open, v -> v).onReceive(closed, v -> v).select());
        assertThat(plain).isInstanceOf(ChannelClosedException.class).hasMessage(closedMessage("main context 'main'", "closed"));
        Select<String> sel = new Select<String>().onReceive(open, v -> "open " + v)
                .onReceive(closed, v -> "got " + v, outcome(closed));
        String expected = "closed [" + plain.getMessage() + "] channel same cause producer failed";
        assertThat(sel.select()).as("ready at once: main would have had nothing to wait for").isEqualTo(expected);
        assertThat(sel.selectUnbiased()).isEqualTo(expected);
        assertThat(new Select<String>().onReceive(closed, v -> "got " + v, outcome(closed)).onDefault(() -> "default").select())
                .as("ready, so the default does not fire").isEqualTo(expected);
        assertThat(open.trySend("z")).as("the open clause left nothing queued").isFalse();
    }

    @Test
    void anEarlierReadyClauseWinsOverAClosedOneInABiasedSelectAndALaterOneLoses() {
        Channel<String> ready = new Channel<>("ready", 2);
        ready.send("x");
        ready.send("y");
        Channel<String> closed = new Channel<>("closed", 0);
        closed.close();
        Select<String> readyFirst = new Select<String>().onReceive(ready, v -> "ready " + v)
                .onReceive(closed, v -> "got " + v, e -> "closed");
        assertThat(readyFirst.select()).isEqualTo("ready x");
        Select<String> closedFirst = new Select<String>().onReceive(closed, v -> "got " + v, e -> "closed")
                .onReceive(ready, v -> "ready " + v);
        assertThat(closedFirst.select()).isEqualTo("closed");
        assertThat(ready.size()).as("the later ready clause took nothing").isEqualTo(1);
        assertThat(readyFirst.select()).isEqualTo("ready y");
        assertThat(readyFirst.select()).as("the earlier clause no longer ready").isEqualTo("closed");
    }

    @Test
    void aChannelClosedWhileTheSelectWaitsWakesItWithTheClosedOutcomeAndTheOtherClausesLeaveNoTrace() {
        Channel<String> other = new Channel<>("other", 0);
        Channel<String> in = new Channel<>("in", 0);
        VirtualTime.run(() -> {
            Coroutine.create("closer", () -> {
                Coroutine.sleep(Duration.ofSeconds(1));
                in.close(new IOException("gone"));
            });
            log.add(new Select<String>().onReceive(other, v -> "other " + v)
                    .onReceive(in, v -> "in " + v, outcome(in)).select() + " at " + ms());
            Coroutine waiter = Coroutine.create("waiter", () -> log.add(new Select<String>().onReceive(other, v -> "other " + v)
                    .onReceive(in, v -> "in " + v, e -> "closed again").onTimeout(Duration.ofHours(1), () -> "timeout").select()));
            waiter.join();
        });
        assertThat(log).containsExactly("closed [" + closedMessage("main context 'main'", "in") + "] channel same cause gone at 1000",
                "closed again");
        assertThat(other.trySend("z")).as("the other clause left nothing queued").isFalse();
    }

    @Test
    void theValuesBufferedBeforeTheCloseAreReceivedFirstThenTheClosedOutcomeEveryRun() {
        Channel<String> ch = new Channel<>("ch", 2);
        List<String> got = new ArrayList<>();
        VirtualTime.run(() -> {
            Coroutine.create("producer", () -> {
                for (String v : List.of("a", "b", "c")) {
                    ch.send(v); // "c" waits for room, taken into the buffer as "a" is received
                }
                ch.close();
            });
            Select<String> sel = new Select<String>().onReceive(ch, v -> "got " + v, e -> "closed");
            for (int i = 0; i < 5; i++) {
                got.add(sel.select());
                Coroutine.yield();
            }
        });
        assertThat(got).containsExactly("got a", "got b", "got c", "closed", "closed");
    }

    /**
     * The closed outcome lets the select's channels go before {@code ifClosed} runs, as a fired clause's function
     * does: a shared channel of another clause is operated on in place again while it runs.
     */
    @Test
    void ifClosedRunsWithTheSelectsChannelsOperatedOnInPlaceAgain() throws Exception {
        Channel<Integer> other = new Channel<>("other", 1);
        SelectSharingTest.share(other);
        Channel<Integer> closed = new Channel<>("closed", 0);
        closed.close();
        List<Boolean> inPlace = new ArrayList<>();
        Select<String> sel = new Select<String>().onReceive(other, v -> "other " + v)
                .onReceive(closed, v -> "got " + v, e -> {
                    inPlace.add(other.isSharedInPlace());
                    return "closed";
                })
                .onTimeout(Duration.ofHours(1), () -> "timeout");
        assertThat(sel.select()).isEqualTo("closed");
        assertThat(sel.selectUnbiased()).isIn("closed");
        assertThat(inPlace).as("in place while ifClosed ran").containsExactly(true, true);
        assertThat(other.isSharedInPlace()).isTrue();
    }

    @Test
    void whatIfClosedThrowsTheSelectThrowsAsItIsAndTheSelectRunsAgain() {
        Channel<String> ch = new Channel<>("ch", 1);
        ch.send("v");
        ch.close();
        IllegalArgumentException mine = new IllegalArgumentException("mine");
        Error error = new AssertionError("an error");
        List<ChannelClosedException> seen = new ArrayList<>();
        Select<String> sel = new Select<String>().onReceive(ch, v -> "got " + v, e -> {
            seen.add(e);
            if (seen.size() == 1) {
                throw mine;
            }
            throw error;
        });
        assertThat(sel.select()).as("the value before the close").isEqualTo("got v");
        assertThat(catchThrowable(sel::select)).isSameAs(mine);
        assertThat(catchThrowable(sel::select)).as("run again").isSameAs(error);
        assertThat(seen).hasSize(2).allSatisfy(e -> assertThat(e).hasMessage(closedMessage("main context 'main'", "ch")));
        Channel<String> in = new Channel<>("in", 0);
        VirtualTime.run(() -> {
            Coroutine.create("closer", () -> {
                Coroutine.sleep(Duration.ofMillis(5));
                in.close();
            });
            assertThatThrownBy(() -> new Select<String>().onReceive(in, v -> v, e -> {
                throw new IllegalStateException("after " + ms() + " ms", e);
            }).select()).as("closed while it waited").isInstanceOf(IllegalStateException.class).hasMessage("after 5 ms")
                    .cause().isInstanceOf(ChannelClosedException.class).hasMessage(closedMessage("main context 'main'", "in"));
        });
    }

    @Test
    void nullArgumentsAreRefusedNamingTheParameterAndAddNoClause() {
        Channel<String> ch = new Channel<>("ch", 0);
        Select<String> sel = new Select<>();
        assertThatThrownBy(() -> sel.onReceive((Channel<String>) null, v -> v, e -> "closed")).isInstanceOf(NullPointerException.class).hasMessage("channel");
        assertThatThrownBy(() -> sel.onReceive(ch, null, e -> "closed")).isInstanceOf(NullPointerException.class).hasMessage("f");
        assertThatThrownBy(() -> sel.onReceive(ch, v -> v, null)).isInstanceOf(NullPointerException.class).hasMessage("ifClosed");
        assertThat(sel).hasToString("Select[]");
        sel.onReceive(ch, v -> v, e -> "closed");
        assertThat(sel).as("named as the plain clause").hasToString("Select[receive from channel 'ch']");
    }

    /** The picks of {@code runs} unbiased runs over a ready channel and a closed one, under virtual time of {@code seed}. */
    private static List<String> unbiasedPicks(long seed, boolean ifClosed, int runs) {
        return VirtualTime.call(seed, () -> {
            Channel<Integer> ready = new Channel<>("ready", runs);
            for (int i = 0; i < runs; i++) {
                ready.send(i);
            }
            Channel<Integer> closed = new Channel<>("closed", 0);
            closed.close();
            Select<String> sel = new Select<String>().onReceive(ready, v -> "ready " + v);
            if (ifClosed) {
                sel.onReceive(closed, v -> "got " + v, e -> "closed");
            } else {
                sel.onReceive(closed, v -> "got " + v);
            }
            List<String> picks = new ArrayList<>();
            for (int i = 0; i < runs; i++) {
                try {
                    picks.add(sel.selectUnbiased());
                } catch (ChannelClosedException e) {
                    picks.add("closed");
                }
            }
            return picks;
        });
    }

    @Test
    void anUnbiasedSelectChoosesAmongAClosedClauseAndAReadyOneReproduciblyAsItDoesForThePlainClause() {
        List<String> picks = unbiasedPicks(42, true, 16);
        assertThat(picks).as("both are chosen").contains("closed").anyMatch(p -> p.startsWith("ready"));
        assertThat(picks.stream().filter(p -> p.startsWith("ready")).toList()).as("the ready values in order")
                .isEqualTo(picks.stream().filter(p -> p.startsWith("ready")).sorted((a, b) ->
                        Integer.compare(Integer.parseInt(a.substring(6)), Integer.parseInt(b.substring(6)))).toList());
        assertThat(unbiasedPicks(42, true, 16)).as("the same seed, the same picks").isEqualTo(picks);
        assertThat(unbiasedPicks(42, false, 16)).as("as the plain clause's, whose closed outcome is caught").isEqualTo(picks);
    }

    @Test
    void aFanInOverProducersChannelsDropsEachClosedOneFromTheNextSelectAndReceivesEveryValueOnce() {
        int producers = 5;
        int values = 20;
        List<Integer> got = new ArrayList<>();
        List<String> closedInOrder = new ArrayList<>();
        VirtualTime.run(() -> {
            List<Channel<Integer>> open = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                int id = p;
                Channel<Integer> ch = new Channel<>("p" + p, p % 3);
                open.add(ch);
                Coroutine.create("producer " + p, () -> {
                    for (int i = 0; i < values + id * 3; i++) {
                        ch.send(id * 1000 + i);
                        Coroutine.sleep(Duration.ofMillis(id + 1));
                    }
                    ch.close();
                });
            }
            while (!open.isEmpty()) {
                Select<Boolean> s = new Select<>();
                for (Channel<Integer> ch : open) {
                    s.onReceive(ch, got::add, e -> {
                        closedInOrder.add(e.channel().name());
                        return open.remove(ch);
                    });
                }
                assertThat(s.selectUnbiased()).isTrue();
            }
        });
        List<Integer> expected = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            for (int i = 0; i < values + p * 3; i++) {
                expected.add(p * 1000 + i);
            }
            int id = p;
            assertThat(got.stream().filter(v -> v / 1000 == id).toList()).as("producer %d's values in order", p)
                    .isEqualTo(expected.subList(expected.size() - values - p * 3, expected.size()));
        }
        assertThat(got).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(closedInOrder).as("each closed once, the fastest first").containsExactly("p0", "p1", "p2", "p3", "p4");
    }

    // ---- channels of another thread -----------------------------------------------------------

    private static String ofThisThread() {
        return " of thread " + Scheduler.describe(Thread.currentThread());
    }

    @Test
    @Timeout(60)
    void aChannelOfAPoolThreadClosedBeforeTheRunGivesTheClosedOutcomeInEveryKindOfRun() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<Integer> ch = Coroutine.await(pool.submit(() -> {
                Channel<Integer> c = new Channel<>("a", 2);
                c.send(1);
                c.close(new IOException("done"));
                return c;
            }));
            Channel<Integer> local = new Channel<>("local", 0);
            Select<String> waits = new Select<String>().onReceive(local, v -> "local " + v)
                    .onReceive(ch, v -> "got " + v, outcome(ch));
            String closed = "closed [" + closedMessage("main context 'main'" + ofThisThread(), "a") + "] channel same cause done";
            assertThat(waits.select()).as("the value before the close").isEqualTo("got 1");
            assertThat(waits.select()).as("not shared yet: asked of its thread").isEqualTo(closed);
            assertThat(waits.selectUnbiased()).as("and again").isEqualTo(closed);
            assertThat(new Select<String>().onReceive(ch, v -> "got " + v, outcome(ch)).onDefault(() -> "default").select())
                    .as("a run that never waits, the channel shared").isEqualTo(closed);
            Channel<Integer> b = Coroutine.await(pool.submit(() -> {
                Channel<Integer> c = new Channel<>("b", 0);
                c.close();
                return c;
            }));
            assertThat(new Select<String>().onReceive(b, v -> "got " + v, e -> e.getMessage()).onDefault(() -> "default").select())
                    .as("a run that never waits, the channel not shared yet: as a tryReceive of this thread")
                    .isEqualTo(closedMessage("main context 'main'" + ofThisThread(), "b"));
            assertThat(local.trySend(0)).as("nothing left queued on the local channel").isFalse();
        }
    }

    @Test
    @Timeout(60)
    void aChannelOfAPoolThreadClosedWhileTheSelectWaitsWakesItWithTheClosedOutcome() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<Integer> ch = Coroutine.await(pool.submit(() -> new Channel<Integer>("a", 1)));
            Channel<Integer> local = new Channel<>("local", 0);
            Select<String> sel = new Select<String>().onReceive(local, v -> "local " + v)
                    .onReceive(ch, v -> "got " + v, outcome(ch));
            CompletableFuture<Void> waiting = new CompletableFuture<>();
            CompletableFuture<Object> closer = pool.submit(() -> {
                ch.send(1);
                Coroutine.await(waiting);
                ch.close(new IOException("closed while it waited"));
                return null;
            });
            assertThat(sel.select()).isEqualTo("got 1");
            Select.beforeParkAcross = claim -> waiting.complete(null); // once every clause waits
            try {
                assertThat(sel.select()).isEqualTo("closed [" + closedMessage("main context 'main'" + ofThisThread(), "a")
                        + "] channel same cause closed while it waited");
            } finally {
                Select.beforeParkAcross = null;
            }
            assertThat(waiting).as("it waited").isDone();
            Coroutine.await(closer);
            assertThat(local.trySend(0)).as("nothing left queued on the local channel").isFalse();
        }
    }

    @Test
    @Timeout(60)
    void aFanInOverChannelsOfPoolThreadsEndsOnceAllAreClosedHavingReceivedEveryValueOnce() {
        int producers = 4;
        int values = 200;
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            List<Channel<Integer>> open = new ArrayList<>();
            List<CompletableFuture<Object>> done = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                int id = p;
                CompletableFuture<Channel<Integer>> made = new CompletableFuture<>();
                done.add(pool.submit(() -> {
                    Channel<Integer> ch = new Channel<>("p" + id, id % 2);
                    made.complete(ch);
                    for (int i = 0; i < values; i++) {
                        ch.send(id * 1000 + i);
                    }
                    ch.close();
                    return null;
                }));
                open.add(Coroutine.await(made));
            }
            List<Integer> got = new ArrayList<>();
            int closedOutcomes = 0;
            while (!open.isEmpty()) {
                Select<Boolean> s = new Select<>();
                for (Channel<Integer> ch : open) {
                    s.onReceive(ch, v -> !got.add(v), e -> open.remove(ch));
                }
                if (got.size() % 2 == 0 ? s.select() : s.selectUnbiased()) {
                    closedOutcomes++;
                }
            }
            done.forEach(Coroutine::await);
            List<Integer> expected = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                for (int i = 0; i < values; i++) {
                    expected.add(p * 1000 + i);
                }
                int id = p;
                assertThat(got.stream().filter(v -> v / 1000 == id).toList()).as("producer %d's values in order", p)
                        .isEqualTo(expected.subList(p * values, (p + 1) * values));
            }
            assertThat(got).hasSize(producers * values).containsExactlyInAnyOrderElementsOf(expected);
            assertThat(closedOutcomes).isEqualTo(producers);
        }
    }
}
