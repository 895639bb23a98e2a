package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A shared channel (one another thread has used): every thread runs its operations on it in place,
 * under its lock, so they complete while the channel's thread does something else; a waiter of the
 * channel's thread that another thread completes is woken at its thread's next scheduling point, and
 * keeps its result against an interruption and a cancelled wait that come before that.
 */
@ExtendWith(FreshThread.class)
class SharedChannelTest {

    /** A bound for waits that are expected to complete long before it: a guard against a hang. */
    private static final long GUARD_SECONDS = 30;

    private final List<String> log = new ArrayList<>();

    /** Shares {@code ch}: one operation of another thread, which this thread serves while it awaits it. */
    private static void share(Channel<?> ch) {
        Peer.run("sharer", () -> assertThat(ch.tryReceive()).isEmpty());
    }

    /** Starts a platform thread running {@code body}; what it throws goes to {@code failures}. */
    private static Thread start(String name, List<Throwable> failures, Runnable body) {
        return Thread.ofPlatform().name(name).start(() -> {
            try {
                body.run();
            } catch (Throwable t) {
                synchronized (failures) {
                    failures.add(t);
                }
            }
        });
    }

    private static void await(CountDownLatch latch) {
        try {
            assertThat(latch.await(GUARD_SECONDS, TimeUnit.SECONDS)).as("within the guard").isTrue();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void onceSharedAnotherThreadsOperationsCompleteWhileTheChannelsThreadIsBlockedOutsideCoro() throws InterruptedException {
        Channel<Integer> ch = new Channel<>("ch", 4);
        share(ch);
        CountDownLatch sent = new CountDownLatch(1);
        List<Throwable> failures = new ArrayList<>();
        Thread producer = start("producer", failures, () -> {
            for (int i = 1; i <= 4; i++) {
                ch.send(i);
            }
            sent.countDown();
        });
        await(sent); // this thread runs no scheduling point meanwhile: the sends ran on the producer's thread
        producer.join();
        assertThat(failures).isEmpty();
        List<Integer> got = new ArrayList<>();
        for (Optional<Integer> v; (v = ch.tryReceive()).isPresent(); ) {
            got.add(v.get());
        }
        assertThat(got).containsExactly(1, 2, 3, 4);
    }

    @Test
    void aWaiterOfTheChannelsThreadThatAnotherThreadCompletesWakesAtItsThreadsNextSchedulingPoint() throws InterruptedException {
        Channel<String> ch = new Channel<>("ch", 0);
        share(ch);
        Coroutine receiver = Coroutine.create("receiver", () -> log.add("got " + ch.receive()));
        Coroutine.yield(); // it parks in its receive
        assertThat(receiver.state()).isEqualTo(State.PARKED);
        List<Throwable> failures = new ArrayList<>();
        Thread sender = start("sender", failures, () -> ch.send("v")); // meets the receiver: no wait
        sender.join();
        assertThat(failures).isEmpty();
        assertThat(receiver.state()).as("its wake-up waits in this thread's event loop").isEqualTo(State.PARKED);
        assertThat(Scheduler.current().loop.hasPending()).isTrue();
        Coroutine.yield(); // takes the wake-up in, then runs it
        assertThat(log).containsExactly("got v");
        assertThat(receiver.state()).isEqualTo(State.FINISHED);
    }

    @Test
    void aWaitThatAnotherThreadCompletedIsNotInterruptedAfterwardsAndKeepsItsValue() throws InterruptedException {
        Channel<String> ch = new Channel<>("ch", 0);
        share(ch);
        Scheduler s = Scheduler.current();
        List<Throwable> failures = new ArrayList<>();
        List<Boolean> interrupted = new ArrayList<>();
        Coroutine.create("interrupter", () -> {
            // main parks in its receive; the sender completes it from its thread, then this one
            // interrupts main's wait (as an expired withTimeout does) before the wake-up is taken in
            Thread sender = start("sender", failures, () -> ch.send("v"));
            join(sender);
            assertThat(s.main.state()).isEqualTo(State.PARKED);
            boolean was = s.main.waitingFor.interrupt();
            interrupted.add(was);
        });
        assertThat(ch.receive()).as("the value another thread handed over is kept").isEqualTo("v");
        assertThat(failures).isEmpty();
        assertThat(interrupted).containsExactly(false);
        assertThat(ch.tryReceive()).as("and it is nowhere else").isEmpty();
    }

    @Test
    void aCancelledWaitThatAnotherThreadHadCompletedGivesItsValueBackAndItsWakeUpWakesNoLaterWait() throws InterruptedException {
        Channel<String> ch = new Channel<>("ch", 0);
        share(ch);
        List<Throwable> failures = new ArrayList<>();
        CountDownLatch goOn = new CountDownLatch(1);
        Thread[] sender = new Thread[1];
        Coroutine.create("failing", () -> {
            // main parks in its receive; the sender completes it from its thread (the wake-up stays
            // in this thread's event loop), then this body fails: main's wait is cancelled by it
            CountDownLatch handed = new CountDownLatch(1);
            sender[0] = start("sender", failures, () -> {
                ch.send("v");
                handed.countDown();
                await(goOn);
                ch.send("w");
            });
            await(handed);
            throw new IllegalStateException("boom");
        });
        assertThatThrownBy(ch::receive).isInstanceOf(CoroutineException.class).hasMessageContaining("boom");
        assertThat(ch.tryReceive()).as("the value handed over went back to the channel").contains("v");
        goOn.countDown();
        assertThat(ch.receive()).as("the next wait ends with the next value, not the old wake-up").isEqualTo("w");
        sender[0].join();
        assertThat(failures).isEmpty();
        assertThat(ch.tryReceive()).isEmpty();
    }

    @Test
    void aSelectKeepsTheOperationsOfOtherThreadsOnTheChannelsThread() throws InterruptedException {
        Channel<String> ch = new Channel<>("ch", 0);
        share(ch);
        String got = new Select<String>().onReceive(ch, v -> v).onDefault(() -> "none").select();
        assertThat(got).isEqualTo("none");
        Coroutine selector = Coroutine.create("selector", () -> log.add(new Select<String>().onReceive(ch, v -> "got " + v).select()));
        Coroutine.yield(); // its clause waits in the channel
        assertThat(selector.state()).isEqualTo(State.PARKED);
        CountDownLatch sent = new CountDownLatch(1);
        List<Throwable> failures = new ArrayList<>();
        Thread sender = start("sender", failures, () -> {
            ch.send("v"); // posted: only this thread completes a select's clause
            sent.countDown();
        });
        while (sent.getCount() > 0) {
            Coroutine.yield(); // serves the posted send, which completes the clause
        }
        sender.join();
        assertThat(failures).isEmpty();
        Coroutine.yield();
        assertThat(log).containsExactly("got v");
    }

    private static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aWaitThatBeganBeforeTheChannelWasSharedCountsAsOneAnotherThreadMayCompleteOnceItIs() {
        assertReceivedWithoutAJump(true, false, ch -> assertThat(ch.receive()).isEqualTo(7), ch -> ch.send(7));
    }

    @Test
    void aSendThatBeganBeforeTheChannelWasSharedCountsAsOneAnotherThreadMayCompleteOnceItIs() {
        assertReceivedWithoutAJump(true, true, ch -> ch.send(7), ch -> assertThat(ch.receive()).isEqualTo(7));
    }

    @Test
    void aSelectWaitingOnASharedChannelCountsAsOneAnotherThreadMayComplete() {
        assertReceivedWithoutAJump(false, false, ch -> assertThat(new Select<Integer>().onReceive(ch, v -> v).select()).isEqualTo(7),
                ch -> ch.send(7));
    }

    /**
     * Under virtual time a coroutine waits on a channel with {@code wait} while this thread sleeps an
     * hour, and another thread completes it with {@code peer} once this thread blocks: the clock must
     * stand still meanwhile (the wait completes at 0), since the wait is one another thread may complete.
     *
     * @param shareAfter  whether the channel becomes shared while the coroutine already waits (else before)
     * @param waiterSends whether the coroutine's wait is a send (else a receive)
     */
    private static void assertReceivedWithoutAJump(boolean shareAfter, boolean waiterSends, java.util.function.Consumer<Channel<Integer>> wait,
                                                   java.util.function.Consumer<Channel<Integer>> peer) {
        List<Long> receivedAt = new ArrayList<>();
        List<Throwable> failures = new ArrayList<>();
        Thread self = Thread.currentThread();
        VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("ch", 0);
            if (!shareAfter) {
                share(ch);
            }
            Coroutine.create("waiter", () -> {
                wait.accept(ch);
                receivedAt.add(Coroutine.nanoTime());
            });
            Coroutine.yield(); // the waiter parks on the channel
            if (shareAfter) { // with an operation that meets nothing: a send meets no receiver, a receive no value
                Peer.run("sharer", () -> assertThat(waiterSends ? ch.trySend(-1) : ch.tryReceive().isPresent()).isFalse());
            }
            CountDownLatch sleeping = new CountDownLatch(1);
            java.util.concurrent.CompletableFuture<Void> sent = new java.util.concurrent.CompletableFuture<>();
            Thread sender = start("peer", failures, () -> {
                await(sleeping);
                long guard = System.nanoTime() + TimeUnit.SECONDS.toNanos(GUARD_SECONDS);
                while (!blocked(self) && System.nanoTime() < guard) {
                    Thread.onSpinWait(); // until this thread blocks: in its idle wait, at virtual time 0
                }
                peer.accept(ch);
                sent.complete(null);
            });
            sleeping.countDown();
            Coroutine.sleep(Duration.ofHours(1)); // the clock must not jump while the waiter may be woken from afar
            Coroutine.await(sent); // (an operation posted to this thread is served meanwhile)
            try {
                sender.join();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        assertThat(failures).isEmpty();
        assertThat(receivedAt).as("virtual time at which the wait completed").containsExactly(0L);
    }

    private static boolean blocked(Thread t) {
        Thread.State st = t.getState();
        return st == Thread.State.WAITING || st == Thread.State.TIMED_WAITING;
    }
}
