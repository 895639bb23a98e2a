package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.net.TcpConnection;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An operation on another thread's channel refused before anything was looked at or moved (its channel closed, its
 * thread ended, a pool closed, a stage that has no future) exchanges nothing with that thread: it leaves the caller's
 * thread as connected as it was (docs/THREADS.md), so that a wait of that thread with nothing else to run is still
 * reported as a deadlock after it, instead of waiting for ever for a wake-up nothing can send.
 */
@ExtendWith(FreshThread.class)
class ARefusalAcrossThreadsIsNoExchangeTest {

    /**
     * Runs {@code refused} on a new thread that has a scheduler of its own (it made channel 'mine'), then has that
     * thread receive from 'mine', which nothing can wake: what the refusal threw, whether the thread counts as
     * connected after it, and what the receive threw. A connected thread's receive would wait for ever: it is not made.
     * Meanwhile the test's thread waits in its event loop, so that it answers what is asked of its channels.
     */
    private static List<String> refusedThenReceivesAlone(Consumer<Channel<Integer>> refused) {
        CompletableFuture<List<String>> seen = new CompletableFuture<>();
        Thread.ofPlatform().name("caller").start(() -> {
            List<String> out = new ArrayList<>();
            try {
                Channel<Integer> mine = new Channel<>("mine", 1);
                try {
                    refused.accept(mine);
                    out.add("not refused");
                } catch (RuntimeException e) {
                    out.add(e.getClass().getSimpleName() + ": " + e.getMessage());
                }
                boolean connected = Scheduler.current().connected;
                out.add(connected ? "connected" : "not connected");
                if (!connected) {
                    try {
                        mine.receive();
                        out.add("received");
                    } catch (DeadlockException e) {
                        out.add("deadlock reported");
                    }
                }
                seen.complete(out);
            } catch (Throwable t) {
                seen.completeExceptionally(t);
            }
        });
        return Coroutine.await(seen);
    }

    /** A channel of the test's thread, closed with nothing left in it. */
    private static Channel<Integer> closed() {
        Channel<Integer> ch = new Channel<>("jobs", 1);
        ch.close();
        return ch;
    }

    private static final String CALLER = "main context 'main' of thread 'caller'";
    private static final String NOT_DELIVERED = "a closed channel takes no more values, and the value was not delivered";
    private static final String NONE_LEFT = "no value is left in it, and none can come";

    @Test
    @Timeout(10)
    void aSelectRefusedByAnotherThreadsClosedChannelLeavesItsThreadUnconnected() {
        Channel<Integer> jobs = closed();
        String onSend = "ChannelClosedException: " + CALLER + " \\(#\\d+\\) cannot select onSend\\(1\\) to channel 'jobs' \\(closed\\)"
                + ": " + NOT_DELIVERED + "; leave the clause out to go on";
        String onReceive = "ChannelClosedException: " + CALLER + " \\(#\\d+\\) cannot select onReceive from channel 'jobs' \\(closed\\)"
                + ": " + NONE_LEFT + "; leave the clause out to go on";
        assertRefusedUnconnected(onSend, mine -> new Select<String>().onSend(jobs, 1, () -> "sent").select());
        assertRefusedUnconnected(onReceive, mine -> new Select<String>().onReceive(jobs, v -> "got " + v).select());
        assertRefusedUnconnected(onReceive, mine -> new Select<String>().onReceive(jobs, v -> "got " + v).selectUnbiased());
        assertRefusedUnconnected(onSend, mine -> new Select<String>().onSend(jobs, 1, () -> "sent")
                .onDefault(() -> "default").select());
        assertRefusedUnconnected(onReceive, mine -> new Select<String>().onReceive(jobs, v -> "got " + v)
                .onTimeout(Duration.ZERO, () -> "timed out").select());
        // a clause on its own channel, or a timer, met first: nothing of another thread was looked at
        assertRefusedUnconnected(onSend, mine -> new Select<String>().onReceive(mine, v -> "mine " + v)
                .onTimeout(Duration.ofSeconds(1), () -> "timed out").onSend(jobs, 1, () -> "sent").select());
        // refused by a closed channel of its own, met before a clause on another thread's open channel
        Channel<Integer> open = new Channel<>("open", 1);
        assertRefusedUnconnected("ChannelClosedException: main context 'main' cannot select onSend\\(2\\) to channel 'gone'"
                + " \\(closed\\): " + NOT_DELIVERED + "; leave the clause out to go on", mine -> {
                    Channel<Integer> gone = new Channel<>("gone", 1);
                    gone.close();
                    new Select<String>().onSend(gone, 2, () -> "sent").onReceive(open, v -> "got " + v).select();
                });
    }

    /**
     * Inside a {@code VirtualTime.run}, which starts as a thread that exchanged nothing, a select refused by another
     * thread's closed channel leaves it so: the run's deadlock is still reported, the clock unmoved, not waited out.
     */
    @Test
    @Timeout(10)
    void underVirtualTimeASelectRefusedByAnotherThreadsClosedChannelLeavesTheRunsDeadlockReported() throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        CompletableFuture<Channel<Integer>> made = new CompletableFuture<>();
        Thread owner = Thread.ofPlatform().name("owner").start(() -> {
            Channel<Integer> ch = new Channel<>("jobs", 1);
            ch.close();
            made.complete(ch);
            try {
                done.await(); // the channel's thread lives on, outside coro
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        List<String> seen = new ArrayList<>();
        try {
            Channel<Integer> jobs = made.join();
            VirtualTime.run(() -> {
                Channel<Integer> mine = new Channel<>("mine", 1);
                try {
                    new Select<String>().onSend(jobs, 1, () -> "sent").onReceive(mine, v -> "mine " + v).select();
                    seen.add("not refused");
                } catch (ChannelClosedException e) {
                    seen.add("refused");
                }
                boolean connected = Scheduler.current().connected;
                seen.add(connected ? "connected" : "not connected");
                if (!connected) {
                    long before = Coroutine.nanoTime();
                    try {
                        mine.receive();
                        seen.add("received");
                    } catch (DeadlockException e) {
                        seen.add("deadlock reported, the clock " + (Coroutine.nanoTime() == before ? "unmoved" : "moved"));
                    }
                }
            });
        } finally {
            done.countDown();
            owner.join();
        }
        assertThat(seen).containsExactly("refused", "not connected", "deadlock reported, the clock unmoved");
    }

    /**
     * A select whose run asked another thread's open channel first (a run that never waits asks that thread, as a try call
     * does), then met a clause on a closed channel, did exchange something: it stays connected though it is refused.
     */
    @Test
    @Timeout(10)
    void aSelectThatAskedAnotherThreadBeforeItsRefusalStaysConnected() {
        Channel<Integer> jobs = closed();
        Channel<Integer> open = new Channel<>("open", 1);
        List<String> seen = refusedThenReceivesAlone(mine -> new Select<String>().onReceive(open, v -> "got " + v)
                .onSend(jobs, 1, () -> "sent").onDefault(() -> "default").select());
        assertThat(seen).hasSize(2);
        assertThat(seen.get(0)).startsWith("ChannelClosedException: " + CALLER).contains("cannot select onSend(1) to channel 'jobs'");
        assertThat(seen.get(1)).isEqualTo("connected");
    }

    /**
     * An {@code onReceive} with {@code ifClosed} that fires on another thread's closed, drained channel read in place
     * exchanged nothing, as a {@code tryReceive} there answers empty having exchanged nothing: the select's value is what
     * {@code ifClosed} made, and the thread is left unconnected, unless a clause met before it was on another thread's
     * open channel. A connection that {@code ifClosed}'s own code makes is kept.
     */
    @Test
    @Timeout(10)
    void anIfClosedThatFiresOnAnotherThreadsClosedChannelLeavesItsThreadUnconnected() {
        Channel<Integer> jobs = closed();
        for (boolean unbiased : new boolean[] {false, true}) {
            assertRefusedUnconnected("not refused", mine -> {
                Select<String> s = new Select<String>().onReceive(jobs, v -> "got " + v, e -> "closed");
                assertThat(unbiased ? s.selectUnbiased() : s.select()).isEqualTo("closed");
            });
        }
        assertRefusedUnconnected("not refused", mine -> assertThat(new Select<String>().onReceive(mine, v -> "mine " + v)
                .onTimeout(Duration.ofSeconds(1), () -> "timed out").onReceive(jobs, v -> "got " + v, e -> "closed")
                .select()).isEqualTo("closed"));
        assertRefusedUnconnected("not refused", mine -> assertThat(new Select<String>().onReceive(jobs, v -> "got " + v, e -> "closed")
                .onDefault(() -> "default").select()).isEqualTo("closed"));
        Channel<Integer> open = new Channel<>("open", 1);
        List<String> asked = refusedThenReceivesAlone(mine -> assertThat(new Select<String>().onReceive(open, v -> "got " + v)
                .onReceive(jobs, v -> "got " + v, e -> "closed").onDefault(() -> "default").select()).isEqualTo("closed"));
        assertThat(asked).as("another thread's open channel asked first").containsExactly("not refused", "connected");
        List<String> madeByIfClosed = refusedThenReceivesAlone(mine -> assertThat(new Select<String>()
                .onReceive(jobs, v -> "got " + v, e -> open.trySend(7) ? "closed, sent" : "closed").select()).isEqualTo("closed, sent"));
        assertThat(madeByIfClosed).as("ifClosed sent to another thread's channel").containsExactly("not refused", "connected");
        assertThat(open.tryReceive()).contains(7);
    }

    /** The plain operations on another thread's closed channel, refused or answered in place, leave it unconnected too. */
    @Test
    @Timeout(10)
    void theOperationsRefusedOnAnotherThreadsClosedChannelLeaveItsThreadUnconnected() {
        Channel<Integer> jobs = closed();
        String send = "ChannelClosedException: " + CALLER + " \\(#\\d+\\) cannot send to channel 'jobs' \\(closed\\)"
                + ": " + NOT_DELIVERED;
        String receive = "ChannelClosedException: " + CALLER + " \\(#\\d+\\) cannot receive from channel 'jobs' \\(closed\\)"
                + ": " + NONE_LEFT;
        assertRefusedUnconnected(send, mine -> jobs.send(1));
        assertRefusedUnconnected(receive, mine -> jobs.receive());
        assertRefusedUnconnected("not refused", mine -> assertThat(jobs.trySend(1)).isFalse());
        assertRefusedUnconnected("not refused", mine -> assertThat(jobs.trySend(1, Duration.ofSeconds(1))).isFalse());
        assertRefusedUnconnected("not refused", mine -> assertThat(jobs.tryReceive()).isEmpty());
        assertRefusedUnconnected("not refused", mine -> assertThat(jobs.tryReceive(Duration.ofSeconds(1))).isEmpty());
        assertRefusedUnconnected("not refused", mine -> assertThat(jobs.iterator().hasNext()).isFalse());
        assertRefusedUnconnected("not refused", mine -> jobs.close());
    }

    /**
     * An operation on a channel whose thread has ended leaving it open, with nothing in it to take, is refused: nothing
     * can come from that thread any more, and nothing was exchanged with it. So is a select that never waits (a default,
     * a zero timeout) whose clause meets such a channel, and a semaphore's acquire and release once its thread ended.
     */
    @Test
    @Timeout(10)
    void theOperationsRefusedOnAChannelWhoseThreadEndedLeaveItsThreadUnconnected() throws InterruptedException {
        List<Channel<Integer>> left = new ArrayList<>();
        Thread maker = Thread.ofPlatform().name("maker").start(() -> left.add(new Channel<>("orphan", 1)));
        maker.join();
        Channel<Integer> orphan = left.get(0);
        String ended = ": it belongs to thread 'maker' \\(#" + maker.threadId() + "\\), which has ended";
        assertRefusedUnconnected("IllegalStateException: " + CALLER + " \\(#\\d+\\) cannot send to channel 'orphan' \\(open\\)" + ended,
                mine -> orphan.send(1));
        assertRefusedUnconnected("IllegalStateException: " + CALLER + " \\(#\\d+\\) cannot receive from channel 'orphan' \\(open\\)"
                + ended, mine -> orphan.receive());
        assertRefusedUnconnected("IllegalStateException: " + CALLER + " \\(#\\d+\\) cannot close channel 'orphan' \\(open\\)" + ended,
                mine -> orphan.close());
        assertRefusedUnconnected("IllegalStateException: " + CALLER + " \\(#\\d+\\) cannot select a send to channel 'orphan' \\(open\\)"
                + ended, mine -> new Select<String>().onSend(orphan, 1, () -> "sent").onDefault(() -> "default").select());
        assertRefusedUnconnected("IllegalStateException: " + CALLER + " \\(#\\d+\\) cannot select a receive from channel 'orphan' \\(open\\)"
                + ended, mine -> new Select<String>().onReceive(orphan, v -> "got " + v).onTimeout(Duration.ZERO, () -> "none")
                .select());
        // a select that may wait meets the channel as it starts to wait: refused then, having exchanged nothing either
        assertRefusedUnconnected("IllegalStateException: " + CALLER + " \\(#\\d+\\) cannot select a send to channel 'orphan' \\(open\\)"
                + ended, mine -> new Select<String>().onSend(orphan, 1, () -> "sent").select());
        assertRefusedUnconnected("IllegalStateException: " + CALLER + " \\(#\\d+\\) cannot select a receive from channel 'orphan' \\(open\\)"
                + ended, mine -> new Select<String>().onReceive(orphan, v -> "got " + v).selectUnbiased());
        assertRefusedUnconnected("IllegalStateException: " + CALLER + " \\(#\\d+\\) cannot select a receive from channel 'orphan' \\(open\\)"
                + ended, mine -> new Select<String>().onReceive(mine, v -> "mine " + v).onReceive(orphan, v -> "got " + v)
                .onTimeout(Duration.ofSeconds(1), () -> "timed out").select());
        // a clause on the channel of a thread that lives, met before or after, was looked at or asked: an exchange
        Channel<Integer> open = new Channel<>("open", 1);
        for (boolean openFirst : new boolean[] {true, false}) {
            List<String> seen = refusedThenReceivesAlone(mine -> {
                Select<String> s = new Select<String>();
                if (openFirst) {
                    s.onReceive(open, v -> "open " + v);
                }
                s.onReceive(orphan, v -> "got " + v);
                if (!openFirst) {
                    s.onReceive(open, v -> "open " + v);
                }
                s.select();
            });
            assertThat(seen.get(0)).as("open first: " + openFirst).matches("IllegalStateException: " + CALLER
                    + " \\(#\\d+\\) cannot select a receive from channel 'orphan' \\(open\\)" + ended);
            assertThat(seen.subList(1, seen.size())).as("open first: " + openFirst).containsExactly("connected");
        }
        assertThat(open.tryReceive()).isEmpty();
        List<Semaphore> semaphores = new ArrayList<>();
        Thread holder = Thread.ofPlatform().name("holder").start(() -> semaphores.add(new Semaphore("slots", 2)));
        holder.join();
        Semaphore slots = semaphores.get(0);
        String slotsEnded = ": it belongs to thread 'holder' \\(#" + holder.threadId() + "\\), which has ended";
        assertRefusedUnconnected("IllegalStateException: " + CALLER + " \\(#\\d+\\) cannot acquire a permit of Semaphore\\[slots, 2 of 2"
                + " permits free\\]" + slotsEnded, mine -> slots.acquire());
        assertRefusedUnconnected("IllegalStateException: " + CALLER + " \\(#\\d+\\) cannot release Semaphore\\[slots, 2 of 2"
                + " permits free\\]" + slotsEnded, mine -> slots.release());
    }

    /** A pool closed refuses a body, and an await of a stage that has no future is refused: neither is an exchange. */
    @Test
    @Timeout(10)
    void aClosedPoolsRefusalAndAnAwaitOfAStageWithoutAFutureLeaveItsThreadUnconnected() {
        CoroutinePool pool = CoroutinePool.start("workers", 1);
        pool.close();
        assertRefusedUnconnected("RejectedExecutionException: main context 'main' cannot submit to workers \\(closed\\)"
                + ": a closed pool takes no more bodies", mine -> pool.submit(() -> 1));
        @SuppressWarnings("unchecked")
        CompletionStage<Integer> noFuture = (CompletionStage<Integer>) Proxy.newProxyInstance(
                CompletionStage.class.getClassLoader(), new Class<?>[] {CompletionStage.class}, (proxy, method, args) -> {
                    throw new IllegalStateException("no future here (" + method.getName() + ")");
                });
        assertRefusedUnconnected("IllegalStateException: no future here \\(toCompletableFuture\\)",
                mine -> Coroutine.await(noFuture));
    }

    /** A connection refuses a call from another thread than its own before it touches the socket: no exchange either. */
    @Test
    @Timeout(10)
    void aConnectionsRefusalOfACallFromAnotherThreadLeavesItsThreadUnconnected() throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            TcpConnection c = TcpConnection.connect(server.getLocalAddress()); // the test's thread's
            try (SocketChannel peer = server.accept()) {
                String belongs = " \\(open\\): it belongs to thread '" + Thread.currentThread().getName() + "' \\(#"
                        + Thread.currentThread().threadId() + "\\)";
                assertRefusedUnconnected("IllegalStateException: " + CALLER + " \\(#\\d+\\) cannot read from connection .*" + belongs,
                        mine -> {
                    try {
                        c.read(ByteBuffer.allocate(8));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                assertRefusedUnconnected("IllegalStateException: " + CALLER + " \\(#\\d+\\) cannot write to connection .*" + belongs,
                        mine -> {
                    try {
                        c.write(ByteBuffer.wrap(new byte[] {1}));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            } finally {
                c.close();
            }
        }
    }

    /** {@link #refusedThenReceivesAlone}: refused as {@code refusal} (a pattern) says, unconnected, its deadlock reported. */
    private static void assertRefusedUnconnected(String refusal, Consumer<Channel<Integer>> refused) {
        List<String> seen = refusedThenReceivesAlone(refused);
        assertThat(seen.get(0)).matches(refusal);
        assertThat(seen.subList(1, seen.size())).containsExactly("not connected", "deadlock reported");
    }
}
