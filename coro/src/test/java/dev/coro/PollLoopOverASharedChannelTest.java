package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A loop that polls a shared channel of its thread without ever reaching a scheduling point (docs/TIME.md, a loop
 * of calls that never wait) still meets what other threads do on it in place (docs/THREADS.md): a loop of selects
 * with a default or of {@code tryReceive()} takes every value a plain thread sends, in order; a loop of
 * {@code trySend} hands every value to a plain thread's receiver; a loop of {@code tryAcquire()} takes the permit a
 * plain thread releases.
 */
@ExtendWith(FreshThread.class)
class PollLoopOverASharedChannelTest {

    /** Values each test hands across. */
    private static final int VALUES = 20;
    /** A bound on the polls of one value: a guard against a hang, far above what a poll loop needs. */
    private static final long MAX_POLLS = 1_000_000_000L;

    /** Shares {@code ch}: one operation of another thread, which this thread serves while it awaits it. */
    private static void share(Channel<?> ch) {
        Peer.run("sharer", () -> assertThat(ch.tryReceive()).isEmpty());
    }

    /** A plain thread sending {@code 0 .. VALUES - 1} to {@code ch}, each in place: it parks until a poll takes it. */
    private static CompletableFuture<Void> sender(Channel<Integer> ch) {
        return Peer.start("sender", () -> {
            IntStream.range(0, VALUES).forEach(ch::send);
            return null;
        });
    }

    @Test
    @Timeout(20)
    void aLoopOfSelectsWithADefaultTakesEveryValueAnotherThreadSendsInOrder() {
        Channel<Integer> ch = new Channel<>("polled", 0);
        share(ch);
        CompletableFuture<Void> sender = sender(ch);
        Select<Integer> poll = new Select<Integer>().onReceive(ch, v -> v).onDefault(() -> null);
        List<Integer> got = new ArrayList<>();
        for (long polls = 0; got.size() < VALUES && polls < MAX_POLLS; polls++) {
            Integer v = poll.select();
            if (v != null) {
                got.add(v);
            }
        }
        assertThat(got).containsExactlyElementsOf(IntStream.range(0, VALUES).boxed().toList());
        Coroutine.await(sender);
    }

    @Test
    @Timeout(20)
    void aLoopOfTryReceivesTakesEveryValueAnotherThreadSendsInOrder() {
        Channel<Integer> ch = new Channel<>("polled", 0);
        share(ch);
        CompletableFuture<Void> sender = sender(ch);
        List<Integer> got = new ArrayList<>();
        for (long polls = 0; got.size() < VALUES && polls < MAX_POLLS; polls++) {
            ch.tryReceive().ifPresent(got::add);
        }
        assertThat(got).containsExactlyElementsOf(IntStream.range(0, VALUES).boxed().toList());
        Coroutine.await(sender);
    }

    @Test
    @Timeout(20)
    void aLoopOfTrySendsHandsEveryValueToAnotherThreadsReceiverInOrder() {
        Channel<Integer> ch = new Channel<>("polled", 0);
        share(ch);
        CompletableFuture<List<Integer>> receiver = Peer.start("receiver", () -> {
            List<Integer> got = new ArrayList<>();
            for (int i = 0; i < VALUES; i++) {
                got.add(ch.receive());
            }
            return got;
        });
        int sent = 0;
        for (long polls = 0; sent < VALUES && polls < MAX_POLLS; polls++) {
            if (ch.trySend(sent)) {
                sent++;
            }
        }
        assertThat(sent).isEqualTo(VALUES);
        assertThat(Coroutine.await(receiver)).containsExactlyElementsOf(IntStream.range(0, VALUES).boxed().toList());
    }

    @Test
    @Timeout(20)
    void aLoopOfTryAcquiresTakesThePermitAnotherThreadReleases() {
        Semaphore s = new Semaphore("polled", 1);
        assertThat(s.tryAcquire()).isTrue();
        Peer.run("sharer", () -> assertThat(s.tryAcquire()).isFalse());
        CompletableFuture<Void> releaser = Peer.start("releaser", () -> {
            s.release();
            return null;
        });
        boolean taken = false;
        for (long polls = 0; !taken && polls < MAX_POLLS; polls++) {
            taken = s.tryAcquire();
        }
        assertThat(taken).isTrue();
        assertThat(s.availablePermits()).isZero();
        Coroutine.await(releaser);
    }
}
