package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Timed operations repeated many times, as a server's loops repeat them, leave the thread's scheduler
 * as they found it: selects whose {@code onTimeout} never fires and whose channel clauses lose, timed
 * channel calls and semaphore acquires that succeed at once or time out, and {@code withTimeout}s around
 * fast bodies or waits that expire leave no timer pending, a timer queue no larger than a new one's, and
 * no waiter in any channel's queues; so do timed calls and selects of another thread on this thread's
 * channel.
 */
@ExtendWith(FreshThread.class)
class RepeatedTimedOperationsLeaveNothingTest {

    private static Object field(Object o, Class<?> c, String name) {
        try {
            Field f = c.getDeclaredField(name);
            f.setAccessible(true);
            return f.get(o);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    /** The calling thread's timer queue. */
    private static TimerQueue timers() {
        return (TimerQueue) field(Scheduler.current().loop, EventLoop.class, "timers");
    }

    /** Whether neither of {@code ch}'s queues holds a waiter. */
    private static boolean noWaiterIn(Channel<?> ch) {
        return ((WaitQueue<?>) field(ch, Channel.class, "senders")).isEmpty()
                && ((WaitQueue<?>) field(ch, Channel.class, "receivers")).isEmpty();
    }

    /** No timer pending, and the queue's arrays as small as a new queue's. */
    private static void noTimerLeft() {
        TimerQueue q = timers();
        assertThat(q.size()).as("timers pending").isZero();
        assertThat(q.footprint()).as("the timer queue").startsWith("heap 16, table 16, ");
        assertThat(Scheduler.current().loop.hasPending()).as("anything pending").isFalse();
    }

    @Test
    @Timeout(60)
    void selectsWhoseOnTimeoutNeverFiresAndWhoseChannelClausesLoseLeaveNoTimerAndNoWaiter() {
        VirtualTime.run(() -> {
            Channel<Integer> never = new Channel<>("never", 0);
            Channel<Integer> values = new Channel<>("values", 0);
            int n = 10_000;
            Coroutine sender = Coroutine.create("sender", () -> {
                for (int i = 0; i < n; i++) {
                    values.send(i);
                }
            });
            long sum = 0;
            for (int i = 0; i < n; i++) {
                sum += new Select<Integer>().onReceive(never, v -> -1).onSend(never, i, () -> -2).onReceive(values, v -> v)
                        .onTimeout(Duration.ofHours(1).plusMillis(i), () -> -3).select(); // a new deadline each time
            }
            assertThat(sum).as("every value received once, no other clause fired").isEqualTo((long) n * (n - 1) / 2);
            sender.join();
            assertThat(Coroutine.nanoTime()).as("no timeout fired").isZero();
            noTimerLeft();
            assertThat(noWaiterIn(never)).isTrue();
            assertThat(noWaiterIn(values)).isTrue();
        });
    }

    @Test
    @Timeout(60)
    void timedCallsAndWithTimeoutsThatSucceedAtOnceOrExpireLeaveNoTimerAndNoWaiter() {
        VirtualTime.run(() -> {
            Channel<Integer> empty = new Channel<>("empty", 0);
            Channel<Integer> buffered = new Channel<>("buffered", 4);
            Semaphore held = new Semaphore("held", 1);
            Semaphore free = new Semaphore("free", 1);
            held.acquire();
            int n = 5_000;
            int timedOut = 0;
            for (int i = 0; i < n; i++) {
                assertThat(empty.tryReceive(Duration.ofMillis(1))).isEmpty();
                assertThat(empty.trySend(i, Duration.ofMillis(1))).isFalse();
                assertThat(held.tryAcquire(Duration.ofMillis(1))).isFalse();
                try {
                    Coroutine.withTimeout(Duration.ofMillis(1), () -> empty.receive());
                } catch (CoroutineTimeoutException e) {
                    timedOut++;
                }
                try {
                    Coroutine.withTimeout(Duration.ofMillis(1), held::acquire);
                } catch (CoroutineTimeoutException e) {
                    timedOut++;
                }
                int v = i;
                Optional<Integer> got = Coroutine.withTimeout(Duration.ofHours(1), () -> {
                    assertThat(buffered.trySend(v, Duration.ofHours(1))).isTrue();
                    assertThat(free.tryAcquire(Duration.ofHours(1))).isTrue();
                    free.release();
                    return buffered.tryReceive(Duration.ofHours(1));
                });
                assertThat(got).contains(i);
            }
            assertThat(timedOut).isEqualTo(2 * n);
            assertThat(Coroutine.nanoTime()).as("five waits of 1 ms each expired, n times").isEqualTo(5L * n * 1_000_000);
            noTimerLeft();
            assertThat(noWaiterIn(empty)).isTrue();
            assertThat(noWaiterIn(buffered)).isTrue();
            assertThat(buffered.size()).isZero();
            held.release();
            assertThat(held.availablePermits()).isEqualTo(1);
            assertThat(free.availablePermits()).isEqualTo(1);
        });
    }

    @Test
    @Timeout(60)
    void timedCallsAndSelectsOfAnotherThreadOnThisThreadsChannelLeaveNoWaiterHereAndNothingThere() {
        Channel<Integer> mine = new Channel<>("mine", 0);
        CompletableFuture<String> other = Peer.start("other", () -> {
            Channel<Integer> its = new Channel<>("its", 1);
            for (int k = 0; k < 100; k++) {
                int i = k;
                assertThat(mine.tryReceive(Duration.ofMillis(1))).isEmpty();
                assertThat(mine.trySend(i, Duration.ofMillis(1))).isFalse();
                assertThat(new Select<Integer>().onReceive(mine, v -> -1).onTimeout(Duration.ofMillis(1), () -> i).select())
                        .isEqualTo(i);
                its.send(i);
                assertThat(new Select<Integer>().onReceive(mine, v -> -1).onReceive(its, v -> v)
                        .onTimeout(Duration.ofHours(1), () -> -3).select()).isEqualTo(i);
            }
            noTimerLeft();
            assertThat(Scheduler.current().loop.hasRemoteWaits()).isFalse();
            return "done";
        });
        assertThat(Coroutine.await(other)).isEqualTo("done");
        Coroutine.yield(); // runs what the other thread posted last, if anything
        assertThat(noWaiterIn(mine)).isTrue();
        noTimerLeft();
    }
}
