package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.management.CoroutinesManagement;
import dev.coro.management.SchedulerInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every text that describes a wait for a permit of a {@link Semaphore} (a dump's wait line, the signal of a
 * {@code withTimeout} that interrupts it or of a close it cannot wait under, a deadlock report, the JMX view, the
 * JFR park event)
 * names the semaphore's own call on the semaphore with its permits free ({@code acquire a permit of
 * Semaphore[s, 0 of 1 permits free]}), in the words of the semaphore's refusals, on its thread and from
 * others, never the operation of the channel that counts its permits underneath.
 */
@ExtendWith(FreshThread.class)
class SemaphoreWaitTextsTest {

    @Test
    void aWithTimeoutThatExpiresInAnAcquireNamesTheSemaphoresCallInItsSignal() {
        List<String> signals = new ArrayList<>();
        VirtualTime.run(() -> {
            Semaphore s = new Semaphore("s", 1);
            s.acquire();
            for (Runnable call : List.<Runnable>of(s::acquire, () -> s.tryAcquire(Duration.ofHours(1)),
                    () -> s.withPermit(() -> { }))) {
                Throwable t = catchThrowable(() -> Coroutine.withTimeout(Duration.ofMillis(5), call));
                assertThat(t).isInstanceOf(CoroutineTimeoutException.class);
                signals.add(t.getCause().getMessage());
            }
            s.release();
            assertThat(s.availablePermits()).isOne();
        });
        assertThat(signals).containsExactly(
                "main context 'main': its withTimeout(PT0.005S) expired; its acquire a permit of Semaphore[s, 0 of 1"
                        + " permits free] throws this signal so that the body unwinds to it",
                "main context 'main': its withTimeout(PT0.005S) expired; its tryAcquire a permit of Semaphore[s, 0 of 1"
                        + " permits free] throws this signal so that the body unwinds to it",
                "main context 'main': its withTimeout(PT0.005S) expired; its acquire a permit of Semaphore[s, 0 of 1"
                        + " permits free] throws this signal so that the body unwinds to it");
    }

    /** An acquire that must wait, in a {@code finally} of a coroutine being closed, throws the close's signal naming it. */
    @Test
    void anAcquireThatMustWaitInACoroutineBeingClosedNamesTheSemaphoresCallInTheSignal() {
        Semaphore s = new Semaphore("s", 1);
        s.acquire();
        CompletableFuture<String> signal = new CompletableFuture<>();
        Coroutine c = Coroutine.create("c", () -> {
            try {
                Coroutine.yield();
            } finally {
                try {
                    s.acquire();
                } catch (CoroutineExit e) {
                    signal.complete(e.getMessage());
                }
            }
        });
        c.switchTo();
        c.close();
        assertThat(signal.getNow("none")).isEqualTo("coroutine 'c' is being closed: its acquire a permit of"
                + " Semaphore[s, 0 of 1 permits free] throws this signal so that it unwinds (state RUNNING, closing)");
        s.release();
        assertThat(s.availablePermits()).isOne();
    }

    /**
     * Coroutines left waiting for permits when a {@link VirtualTime#run} body returns can never end: the
     * deadlock it reports names each wait as the semaphore's call.
     */
    @Test
    void theDeadlockOfCoroutinesLeftWaitingForPermitsNamesTheSemaphoresCalls() {
        assertThatThrownBy(() -> VirtualTime.run(() -> {
            Semaphore s = new Semaphore("s", 1);
            s.acquire();
            Coroutine.create("a", s::acquire);
            Coroutine.create("b", () -> s.tryAcquire(Duration.ofSeconds(Long.MAX_VALUE)));
        })).isInstanceOf(DeadlockException.class)
                .hasMessage("VirtualTime.run cannot return: every coroutine left on thread "
                        + Scheduler.describe(Thread.currentThread()) + " is parked and no timer is pending, so nothing could"
                        + " ever wake them (deadlock):\n"
                        + "  coroutine 'a' waits to acquire a permit of Semaphore[s, 0 of 1 permits free]\n"
                        + "  coroutine 'b' waits to tryAcquire a permit of Semaphore[s, 0 of 1 permits free] for ever (a timeout"
                        + " past the clock's range)");
    }

    @Test
    void theJmxViewNamesTheOldestWaitForAPermitAsTheSemaphoresCall() {
        CoroutinesManagement.register(); // park times are recorded from now on
        Semaphore s = new Semaphore("s", 1);
        s.acquire();
        Coroutine waiter = Coroutine.create("waiter", s::acquire);
        waiter.switchTo(); // it parks in its acquire
        SchedulerInfo row = CoroutinesManagement.mxBean().getSchedulers().stream()
                .filter(r -> r.threadName().equals(Peer.schedulerThread().getName())).findFirst().orElseThrow();
        assertThat(row.oldestParked()).isEqualTo("coroutine 'waiter'");
        assertThat(row.oldestParkedWaits()).isEqualTo("acquire a permit of Semaphore[s, 0 of 1 permits free]");
        s.release(); // to the waiter
        waiter.join();
        s.release();
        assertThat(s.availablePermits()).isOne();
    }

    /**
     * The JFR park event of a wait for a permit gives {@code semaphore} as its kind and the semaphore's call as
     * what it waited for; on another thread its kind is {@code thread}, as for another thread's channel, and the
     * call names the semaphore's thread. The text is made as the event is written, once the waiter took the
     * permit.
     */
    @Test
    @Timeout(20)
    void theJfrParkEventOfAWaitForAPermitNamesTheSemaphoreAsItsKindAndItsCall() throws Exception {
        Semaphore s = new Semaphore("s", 1);
        s.acquire();
        List<RecordedEvent> here = JfrEventsTest.record(r -> r.enable("dev.coro.Park").withThreshold(Duration.ZERO), () -> {
            Coroutine waiter = Coroutine.create("waiter", s::acquire);
            waiter.switchTo(); // it parks in its acquire
            s.release(); // to the waiter
            waiter.join();
        }, "dev.coro.Park");
        assertThat(here).extracting(e -> e.getString("coroutine") + " / " + e.getString("reason") + " / "
                + e.getString("waitsFor")).contains("waiter / semaphore / acquire a permit of Semaphore[s, 0 of 1 permits free]")
                .noneMatch(t -> t.contains("channel"));
        CountDownLatch go = new CountDownLatch(1);
        CompletableFuture<Void> done = new CompletableFuture<>();
        CompletableFuture<Semaphore> made = new CompletableFuture<>();
        Thread owner = busyOwner(1, 1, made, go, done, Semaphore::release);
        try {
            Semaphore theirs = Coroutine.await(made);
            List<RecordedEvent> there = JfrEventsTest.record(r -> r.enable("dev.coro.Park").withThreshold(Duration.ZERO), () -> {
                Coroutine acquirer = Coroutine.create("acquirer", theirs::acquire);
                acquirer.switchTo(); // it posts its acquire and parks for the answer
                go.countDown(); // the owner releases its permit, then serves the acquire
                acquirer.join();
            }, "dev.coro.Park");
            assertThat(there).extracting(e -> e.getString("coroutine") + " / " + e.getString("reason") + " / "
                    + e.getString("waitsFor")).contains("acquirer / thread / acquire a permit of Semaphore[s, 0 of 1 permits"
                    + " free] of thread " + Scheduler.describe(owner));
            theirs.release();
            assertThat(theirs.availablePermits()).isOne();
        } finally {
            go.countDown();
            done.complete(null);
            Peer.join(owner);
        }
    }

    /**
     * A context of another thread whose calls must be posted to the semaphore's thread, which has not run them
     * yet (it is busy), waits for each as the semaphore's call on the semaphore of that thread: a release, an
     * acquire, and a {@code tryAcquire()} waiting for that thread's answer. Then that thread runs them, and no
     * permit is lost or made.
     */
    @Test
    @Timeout(60)
    void callsOfAnotherThreadPostedToTheSemaphoresBusyThreadAreShownWaitingAsTheSemaphoresCalls() throws Exception {
        CompletableFuture<Semaphore> made = new CompletableFuture<>();
        CountDownLatch go = new CountDownLatch(1);
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread owner = busyOwner(2, 1, made, go, done, theirs -> { });
        try {
            Semaphore s = Coroutine.await(made);
            List<String> log = new ArrayList<>();
            Coroutine releaser = Coroutine.create("releaser", () -> {
                s.release();
                log.add("released");
            });
            Coroutine acquirer = Coroutine.create("acquirer", () -> {
                s.acquire();
                log.add("acquired");
            });
            Coroutine trier = Coroutine.create("trier", () -> log.add("tried: " + s.tryAcquire()));
            for (int i = 0; i < 10 && !(parked(releaser) && parked(acquirer) && parked(trier)); i++) {
                Coroutine.yield(); // each posts its call and parks for the answer
            }
            String of = " of thread " + Scheduler.describe(owner);
            assertThat(Coroutine.dump())
                    .contains("coroutine 'releaser': PARKED, waits to release Semaphore[s, 1 of 2 permits free]" + of + "\n")
                    .contains("coroutine 'acquirer': PARKED, waits to acquire a permit of Semaphore[s, 1 of 2 permits free]"
                            + of + "\n")
                    .contains("coroutine 'trier': PARKED, waits to tryAcquire a permit of Semaphore[s, 1 of 2 permits free]"
                            + of + "\n");
            go.countDown();
            releaser.join();
            acquirer.join();
            trier.join();
            assertThat(log).containsExactlyInAnyOrder("released", "acquired", "tried: true");
            assertThat(s.availablePermits()).isZero();
            s.release();
            s.release();
            assertThat(s.availablePermits()).isEqualTo(2);
        } finally {
            go.countDown();
            done.complete(null);
            Peer.join(owner);
        }
    }

    /**
     * Starts thread {@code owner}, which makes semaphore {@code s} of {@code permits}, takes {@code held} of them,
     * completes {@code made} with it, and is busy until {@code go} is counted down: it serves no post meanwhile.
     * Then it runs {@code then} on the semaphore and serves the posts of other threads until {@code done}.
     */
    private static Thread busyOwner(int permits, int held, CompletableFuture<Semaphore> made, CountDownLatch go,
            CompletableFuture<Void> done, Consumer<Semaphore> then) {
        return Thread.ofPlatform().name("owner").start(() -> {
            Semaphore s = new Semaphore("s", permits);
            for (int i = 0; i < held; i++) {
                s.acquire();
            }
            made.complete(s);
            try {
                go.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            then.accept(s);
            Coroutine.await(done);
        });
    }

    private static boolean parked(Coroutine c) {
        return c.state() == Coroutine.State.PARKED;
    }
}
