package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A select, and a semaphore's {@code withPermit}, in a {@code finally} of a coroutine being closed (unwinding,
 * its exit signal pending) complete if they need no wait, as a timed {@code trySend} there does: a ready clause
 * fires ({@code select} and {@code selectUnbiased}), a default or a zero timeout fires, a free permit is taken and
 * given back. One that would wait throws the signal again, naming its wait, before anything is done: no clause
 * is left on its channel, no timer pending, no permit moved.
 */
@ExtendWith(FreshThread.class)
@Timeout(10)
class SelectAndPermitInTheFinallyOfAClosedCoroutineTest {

    /** What {@code body} adds to a list, run in the {@code finally} of coroutine 'c', which main closes while it is suspended. */
    private static List<Object> inTheFinallyOfAClosedCoroutine(java.util.function.Consumer<List<Object>> body) {
        List<Object> out = new ArrayList<>();
        Coroutine c = Coroutine.create("c", () -> {
            try {
                Coroutine.yield();
            } finally {
                body.accept(out);
            }
        });
        c.switchTo();
        c.close();
        assertThat(c.state()).isEqualTo(Coroutine.State.CLOSED);
        return out;
    }

    @Test
    void aSelectOrAPermitThatNeedsNoWaitCompletesInTheFinally() {
        Channel<Integer> room = new Channel<>("room", 4);
        Channel<Integer> idle = new Channel<>("idle", 0);
        Semaphore s = new Semaphore("s", 1);
        List<Object> out = inTheFinallyOfAClosedCoroutine(o -> {
            o.add(new Select<String>().onReceive(idle, v -> "received").onSend(room, 1, () -> "sent")
                    .onTimeout(Duration.ofSeconds(1), () -> "timed out").select());
            o.add(new Select<String>().onReceive(idle, v -> "received").onSend(room, 2, () -> "sent").selectUnbiased());
            o.add(new Select<String>().onReceive(room, v -> "received " + v).select());
            o.add(new Select<String>().onReceive(idle, v -> "received").onDefault(() -> "default").select());
            o.add(new Select<String>().onReceive(idle, v -> "received").onTimeout(Duration.ZERO, () -> "timed out at once").select());
            o.add(s.withPermit(() -> "held, " + s.availablePermits() + " free"));
        });
        assertThat(out).containsExactly("sent", "sent", "received 1", "default", "timed out at once", "held, 0 free");
        assertThat(room.tryReceive()).hasValue(2);
        assertThat(room.tryReceive()).isEmpty();
        assertThat(idle.trySend(9)).as("no clause left on its channel").isFalse();
        assertThat(s.availablePermits()).isEqualTo(1);
        assertThat(Scheduler.current().loop.timerCount()).isZero();
    }

    @Test
    void aSelectOrAPermitThatWouldWaitThrowsTheSignalNamingItsWaitAndLeavesNothing() {
        Channel<Integer> idle = new Channel<>("idle", 0);
        Channel<Integer> full = new Channel<>("full", 0);
        Semaphore s = new Semaphore("s", 1);
        s.acquire();
        List<String> ran = new ArrayList<>();
        List<Object> out = inTheFinallyOfAClosedCoroutine(o -> {
            o.add(catchThrowable(() -> new Select<String>().onReceive(idle, v -> "received").onSend(full, 1, () -> "sent").select()));
            o.add(catchThrowable(() -> s.withPermit(() -> ran.add("held"))));
        });
        assertThat(out).hasSize(2).allSatisfy(e -> assertThat(e).isInstanceOf(CoroutineExit.class));
        assertThat(((Throwable) out.get(0)).getMessage()).isEqualTo("coroutine 'c' is being closed: its select over receive from"
                + " channel 'idle', send to channel 'full' throws this signal so that it unwinds (state RUNNING, closing)");
        assertThat(((Throwable) out.get(1)).getMessage()).isEqualTo("coroutine 'c' is being closed: its acquire a permit of"
                + " Semaphore[s, 0 of 1 permits free] throws this signal so that it unwinds (state RUNNING, closing)");
        assertThat(ran).as("the body of withPermit never ran").isEmpty();
        assertThat(idle.trySend(9)).as("no receive clause left").isFalse();
        assertThat(full.tryReceive()).as("no send clause left").isEmpty();
        assertThat(s.availablePermits()).as("no permit moved").isZero();
        s.release();
        assertThat(s.tryAcquire()).as("no acquirer left queued to take it").isTrue();
        assertThat(Scheduler.current().loop.timerCount()).isZero();
    }
}
