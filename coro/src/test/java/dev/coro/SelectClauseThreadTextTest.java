package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A select's {@code onReceive} and {@code onSend} clauses over a channel of another thread than the select's are
 * named with that thread, in the very words of a plain {@code receive} and {@code send} waiting on the same
 * channel ({@code receive from channel 'jobs' of thread 'test-…' (#27)}), before the channel is shared, once it
 * is, and after its thread has ended; a clause over a channel of the select's own thread (shared or not) names
 * no thread, as a plain wait there does. Two threads' channels of one name are told apart so.
 */
@ExtendWith(FreshThread.class)
class SelectClauseThreadTextTest {

    /** The line of {@code Coroutine.dump()} for each of {@code names}, in that order, without its index. */
    private static List<String> waitsOf(String... names) {
        String dump = Coroutine.dump();
        return java.util.Arrays.stream(names).map(n -> dump.lines().filter(l -> l.contains("coroutine '" + n + "'"))
                .findFirst().orElseThrow(() -> new AssertionError("no " + n + " in " + dump))
                .replaceFirst("^ *\\[\\d+] ", "")).toList();
    }

    /**
     * A pool coroutine waiting in a select over channels of main's thread and one of its own: the dump names
     * main's thread in the {@code onReceive} and the {@code onSend} clause, as in the plain receive and send of
     * the same pool thread waiting on those channels, and no thread in the clause over the pool thread's own
     * channel; a channel of the pool thread named as main's is told apart.
     */
    @Test
    @Timeout(60)
    void aPoolCoroutinesSelectOverMainsChannelsNamesMainsThreadInEachClauseAsItsPlainReceiveAndSendDo() {
        Channel<Integer> jobs = new Channel<>("jobs", 0);
        Channel<Integer> results = new Channel<>("results", 0);
        String main = Scheduler.describe(Thread.currentThread());
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            List<String> waits = Coroutine.await(pool.submit(() -> {
                Channel<Integer> own = new Channel<>("jobs", 0); // its own channel, named as main's
                Select<String> sel = new Select<String>().onReceive(jobs, v -> "job").onSend(results, 7, () -> "sent")
                        .onReceive(own, v -> "own");
                List<Coroutine> parked = List.of(Coroutine.create("selector", sel::select),
                        Coroutine.create("receiver", jobs::receive), Coroutine.create("sender", () -> results.send(8)),
                        Coroutine.create("local", own::receive));
                Coroutine.yield();
                for (Coroutine c : parked) {
                    assertThat(c.state()).as(c.toString()).isEqualTo(Coroutine.State.PARKED);
                }
                List<String> w = waitsOf("selector", "receiver", "sender", "local");
                parked.forEach(Coroutine::close);
                return w;
            }));
            assertThat(waits).containsExactly(
                    "coroutine 'selector': PARKED, waits to select over receive from channel 'jobs' of thread " + main
                            + ", send to channel 'results' of thread " + main + ", receive from channel 'jobs'",
                    "coroutine 'receiver': PARKED, waits to receive from channel 'jobs' of thread " + main,
                    "coroutine 'sender': PARKED, waits to send to channel 'results' of thread " + main,
                    "coroutine 'local': PARKED, waits to receive from channel 'jobs'");
        }
    }

    /**
     * The text is made only when it is asked for, not as the select runs and parks: a dump taken after the thread
     * of a clause's channel was renamed names that thread by its new name, as it names the plain receive waiting
     * on the same channel.
     */
    @Test
    @Timeout(60)
    void aClauseNamesTheThreadOfItsChannelAsItIsWhenTheTextIsAskedForNotAsItWasWhenTheSelectParked() {
        Channel<Integer> jobs = new Channel<>("jobs", 0);
        Thread mainThread = Thread.currentThread();
        String name = mainThread.getName();
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            List<String> waits = Coroutine.await(pool.submit(() -> {
                Select<String> sel = new Select<String>().onReceive(jobs, v -> "job");
                List<Coroutine> parked = List.of(Coroutine.create("selector", sel::select),
                        Coroutine.create("receiver", jobs::receive));
                Coroutine.yield();
                for (Coroutine c : parked) {
                    assertThat(c.state()).as(c.toString()).isEqualTo(Coroutine.State.PARKED);
                }
                List<String> w;
                mainThread.setName(name + "-renamed");
                try {
                    w = waitsOf("selector", "receiver");
                } finally {
                    mainThread.setName(name);
                }
                parked.forEach(Coroutine::close);
                return w;
            }));
            String renamed = "'" + name + "-renamed' (#" + mainThread.threadId() + ")";
            assertThat(waits).containsExactly(
                    "coroutine 'selector': PARKED, waits to select over receive from channel 'jobs' of thread " + renamed,
                    "coroutine 'receiver': PARKED, waits to receive from channel 'jobs' of thread " + renamed);
        }
    }

    /**
     * Main's select over two channels of a plain thread (a receive and a send clause) and one of its own, shared:
     * the dump names the plain thread in both clauses while the channels are not shared yet (that thread blocked
     * outside coro, the posts waiting), once that thread has served the posts and shared them, and after it has
     * ended (before a liveness check fails the waits), each time as the plain receive and send waiting on those
     * channels are named; the clause over main's own shared channel names no thread, as a plain receive there.
     */
    @Test
    @Timeout(60)
    void clausesOverAnotherThreadsChannelNameItAsPlainWaitsDoBeforeTheShareAfterItAndOnceThatThreadEnded() {
        CompletableFuture<List<Channel<Integer>>> made = new CompletableFuture<>();
        CompletableFuture<Void> serve = new CompletableFuture<>();
        CompletableFuture<Thread> served = new CompletableFuture<>();
        CompletableFuture<Void> end = new CompletableFuture<>();
        Peer.start("maker", () -> {
            made.complete(List.of(new Channel<>("in", 0), new Channel<>("out", 0)));
            serve.join(); // outside coro: the posts of main's waits wait
            Coroutine.yield(); // runs them: both channels are shared from now on
            served.complete(Thread.currentThread());
            end.join();
            return null;
        });
        List<Channel<Integer>> ch = Coroutine.await(made);
        Channel<Integer> in = ch.get(0);
        Channel<Integer> out = ch.get(1);
        Channel<Integer> mine = new Channel<>("mine", 0);
        assertThat(Peer.call("sharer", () -> mine.trySend(0))).as("no receiver waits on mine yet").isFalse();
        assertThat(mine.isSharedInPlace()).as("mine shared by another thread's operation").isTrue();
        Select<String> sel = new Select<String>().onReceive(in, v -> "in").onSend(out, 1, () -> "out")
                .onReceive(mine, v -> "mine");
        List<Coroutine> parked = List.of(Coroutine.create("selector", () -> tolerateEndedThread(sel::select)),
                Coroutine.create("receiver", () -> tolerateEndedThread(in::receive)),
                Coroutine.create("sender", () -> tolerateEndedThread(() -> {
                    out.send(2);
                    return null;
                })),
                Coroutine.create("local", mine::receive));
        Coroutine.yield();
        List<String> beforeTheShare = waitsOf("selector", "receiver", "sender", "local");
        assertThat(in.isSharedInPlace() || out.isSharedInPlace()).as("not shared yet").isFalse();
        serve.complete(null);
        Thread maker = Coroutine.await(served);
        assertThat(in.isSharedInPlace() && out.isSharedInPlace()).as("shared now").isTrue();
        List<String> shared = waitsOf("selector", "receiver", "sender", "local");
        end.complete(null);
        Peer.join(maker);
        List<String> ended = waitsOf("selector", "receiver", "sender", "local");
        parked.forEach(Coroutine::close);
        String m = Scheduler.describe(maker);
        List<String> expected = List.of(
                "coroutine 'selector': PARKED, waits to select over receive from channel 'in' of thread " + m
                        + ", send to channel 'out' of thread " + m + ", receive from channel 'mine'",
                "coroutine 'receiver': PARKED, waits to receive from channel 'in' of thread " + m,
                "coroutine 'sender': PARKED, waits to send to channel 'out' of thread " + m,
                "coroutine 'local': PARKED, waits to receive from channel 'mine'");
        assertThat(beforeTheShare).as("before the share").isEqualTo(expected);
        assertThat(shared).as("shared").isEqualTo(expected);
        assertThat(ended).as("the channels' thread ended").isEqualTo(expected);
    }

    /**
     * A select not run yet belongs to no thread, so its text names none; once it ran on one thread (a pool
     * thread, its default firing), a clause over a channel of another thread names that thread, on receive
     * and send alike, and a clause over the pool thread's own channel none.
     */
    @Test
    @Timeout(60)
    void aSelectNamesTheThreadOfEachClauseOverAnotherThreadsChannelOnceItRanOnAThreadAndNoneBefore() {
        Channel<Integer> jobs = new Channel<>("jobs", 0);
        Channel<Integer> results = new Channel<>("results", 0);
        String main = Scheduler.describe(Thread.currentThread());
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            List<String> texts = Coroutine.await(pool.submit(() -> {
                Channel<Integer> own = new Channel<>("own", 0);
                Select<String> sel = new Select<String>().onReceive(jobs, v -> "job").onSend(results, 7, () -> "sent")
                        .onReceive(own, v -> "own").onDefault(() -> "none");
                String before = sel.toString();
                assertThat(sel.select()).isEqualTo("none");
                return List.of(before, sel.toString());
            }));
            assertThat(texts).containsExactly(
                    "Select[receive from channel 'jobs', send to channel 'results', receive from channel 'own', default]",
                    "Select[receive from channel 'jobs' of thread " + main + ", send to channel 'results' of thread "
                            + main + ", receive from channel 'own', default]");
        }
    }

    /** Runs {@code wait}; a wait that a liveness check ended, its channel's thread having ended, is fine here. */
    private static <T> void tolerateEndedThread(java.util.function.Supplier<T> wait) {
        try {
            wait.get();
        } catch (IllegalStateException e) {
            assertThat(e).hasMessageContaining("which has ended");
        }
    }
}
