package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Field;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A wait on a shared channel counts on its thread as one another thread may complete (no deadlock
 * report, a spin before blocking, no virtual-time jump past it), from its start or from the moment the
 * channel becomes shared; however it ends (completed, timed out, closed, a select won or interrupted),
 * the count goes back: after every wait has ended, none stays counted.
 */
@ExtendWith(FreshThread.class)
class ForeignWaitCountTest {

    private static int foreignWaits() {
        try {
            Field f = EventLoop.class.getDeclaredField("foreignWaits");
            f.setAccessible(true);
            return f.getInt(Scheduler.current().loop);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    private static void share(Channel<?> ch) {
        Peer.run("sharer", () -> assertThat(ch.tryReceive()).isEmpty());
    }

    /** Starts {@code body} in a coroutine that waits on {@code ch}, then has another thread share the channel. */
    private static Coroutine waitingBeforeTheFlip(Channel<Integer> ch, Runnable body) {
        Coroutine c = Coroutine.create("waiter", body);
        Coroutine.yield(); // it waits on the channel, not shared yet
        share(ch); // the wait is queued: counted at the flip
        return c;
    }

    /**
     * A timed wait that {@code body} begins on {@code ch}, not shared yet, and that another thread's
     * operation then makes shared, counted at the flip before its timer can expire, whatever that
     * thread's start takes: on the virtual clock, which stands still while main runs, the other
     * thread's posted operation is taken in here (the channel flips) with no scheduling point between.
     * Then the wait times out, and the count goes back. Run in {@link VirtualTime#run}.
     */
    private static void timedWaitFlippedThenExpires(Channel<Integer> ch, Runnable body) {
        Coroutine c = Coroutine.create("waiter", body);
        Coroutine.yield(); // it queues its wait, not shared yet, and parks with its timer pending
        EventLoop loop = Scheduler.current().loop;
        CompletableFuture<Boolean> sharer = Peer.start("sharer", () -> ch.tryReceive().isEmpty());
        while (loop.inbox.isEmpty() && !sharer.isDone()) {
            Thread.onSpinWait(); // its operation is posted here: the channel's thread runs it
        }
        loop.poll(); // runs it: the channel flips; the clock has not moved, so no timer is due
        assertThat(foreignWaits()).as("the queued wait, counted at the flip").isEqualTo(1);
        assertThat(Coroutine.nanoTime()).isZero();
        settle(c);
        assertThat(foreignWaits()).isZero();
        assertThat(Coroutine.await(sharer)).as("the other thread found the channel empty").isTrue();
    }

    /** Runs the other contexts until {@code c} has ended (its timers are taken in at every yield). */
    private static void settle(Coroutine c) {
        while (c.state() != Coroutine.State.FINISHED && c.state() != Coroutine.State.CLOSED) {
            Coroutine.yield();
        }
    }

    @Test
    void selectTimeoutWinsOnSharedChannel() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        share(ch);
        assertThat(new Select<String>().onReceive(ch, v -> "v").onTimeout(Duration.ofMillis(20), () -> "t").select()).isEqualTo("t");
        assertThat(foreignWaits()).isZero();
    }

    @Test
    void selectInterruptedByWithTimeoutOnSharedChannel() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        share(ch);
        Coroutine c = Coroutine.create("sel", () -> assertThatThrownBy(() -> Coroutine.withTimeout(Duration.ofMillis(20),
                () -> new Select<String>().onReceive(ch, v -> "v").select())).isInstanceOf(RuntimeException.class));
        settle(c);
        assertThat(foreignWaits()).isZero();
    }

    @Test
    void selectQueuedBeforeTheFlipThenTimesOut() {
        VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("ch", 0);
            timedWaitFlippedThenExpires(ch, () -> assertThat(new Select<String>().onReceive(ch, v -> "v")
                    .onTimeout(Duration.ofMillis(100), () -> "t").select()).isEqualTo("t"));
        });
    }

    @Test
    void selectQueuedBeforeTheFlipThenClosed() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine c = waitingBeforeTheFlip(ch, () -> new Select<String>().onReceive(ch, v -> "v").select());
        c.close();
        settle(c);
        assertThat(foreignWaits()).isZero();
    }

    @Test
    void selectWonByAPostedSendOnAnotherChannel() {
        Channel<Integer> a = new Channel<>("a", 0);
        Channel<Integer> b = new Channel<>("b", 0);
        share(a);
        Coroutine c = Coroutine.create("sel", () -> assertThat(new Select<String>().onReceive(a, v -> "a").onReceive(b, v -> "b")
                .select()).isEqualTo("b"));
        Coroutine.yield();
        assertThat(foreignWaits()).isEqualTo(1);
        Peer.run("sender", () -> b.send(1)); // flips b, counts its clause, then completes it
        settle(c);
        assertThat(foreignWaits()).isZero();
    }

    @Test
    void plainTimedWaitBeganBeforeTheFlipThenExpires() {
        VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("ch", 0);
            timedWaitFlippedThenExpires(ch, () -> assertThat(ch.tryReceive(Duration.ofMillis(100))).isEqualTo(Optional.empty()));
        });
    }

    @Test
    void plainWaitBeganBeforeTheFlipThenClosed() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine c = waitingBeforeTheFlip(ch, () -> ch.receive());
        c.close();
        settle(c);
        assertThat(foreignWaits()).isZero();
    }

    @Test
    void plainWaitBeganBeforeTheFlipThenCompletedFromAfarThenReused() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine c = waitingBeforeTheFlip(ch, () -> {
            ch.receive();
            ch.receive();
        });
        Peer.run("s1", () -> ch.send(1));
        Coroutine.yield();
        Peer.run("s2", () -> ch.send(2));
        settle(c);
        assertThat(foreignWaits()).isZero();
    }
}
