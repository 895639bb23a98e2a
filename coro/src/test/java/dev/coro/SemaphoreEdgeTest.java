package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.management.CoroutinesManagement;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The edges of {@link Semaphore}: its use once its thread has ended, permits counted in the millions,
 * contexts of many threads contending for it, pools closed under it, bodies that end every way, and
 * waits no context of its own thread can end.
 */
@ExtendWith(FreshThread.class)
class SemaphoreEdgeTest {

    /**
     * Its Javadoc: an acquire from another thread once the semaphore's thread has ended is refused. A
     * permit taken then could never be given back (a release is refused too), so a {@code withPermit}
     * ran its body and then failed in its release: the permits left free were taken, one by one, by
     * acquires that each lost one. It holds for a semaphore no other thread had used before its thread
     * ended, and for one shared with this thread while it lived.
     */
    @Test
    void anAcquireFromAnotherThreadOnceTheSemaphoresThreadHasEndedIsRefusedTakingNoPermitAndRunningNoBody()
            throws InterruptedException {
        for (boolean usedHereFirst : new boolean[] {false, true}) {
            AtomicReference<Semaphore> made = new AtomicReference<>();
            CompletableFuture<Void> madeIt = new CompletableFuture<>();
            CompletableFuture<Void> end = new CompletableFuture<>();
            Thread owner = Thread.ofPlatform().name("owner").start(() -> {
                made.set(new Semaphore("slots", 2));
                madeIt.complete(null);
                Coroutine.await(end); // serves this thread's first use of the semaphore meanwhile
            });
            Coroutine.await(madeIt);
            Semaphore s = made.get();
            if (usedHereFirst) {
                s.withPermit(() -> assertThat(s.availablePermits()).isOne()); // posted to the owner: shared from now on
            }
            end.complete(null);
            owner.join();

            String caller = "main context 'main' of thread " + Scheduler.describe(Thread.currentThread());
            String ended = " Semaphore[slots, 2 of 2 permits free]: it belongs to thread " + Scheduler.describe(owner)
                    + ", which has ended";
            List<String> ran = new ArrayList<>();
            assertThatThrownBy(s::tryAcquire).isInstanceOf(IllegalStateException.class)
                    .hasMessage(caller + " cannot tryAcquire a permit of" + ended);
            assertThatThrownBy(() -> s.tryAcquire(Duration.ofMillis(5))).isInstanceOf(IllegalStateException.class)
                    .hasMessage(caller + " cannot tryAcquire a permit of" + ended);
            assertThatThrownBy(s::acquire).isInstanceOf(IllegalStateException.class)
                    .hasMessage(caller + " cannot acquire a permit of" + ended);
            assertThatThrownBy(() -> s.withPermit(() -> ran.add("ran"))).isInstanceOf(IllegalStateException.class)
                    .hasMessage(caller + " cannot acquire a permit of" + ended);
            assertThat(ran).as("bodies run").isEmpty();
            assertThat(s.availablePermits()).as("free permits, used here first: %s", usedHereFirst).isEqualTo(2);
        }
    }

    /**
     * A coroutine of another thread waiting for a permit when the semaphore's thread ends (holding the
     * permit) is refused as every use then is, never left hanging: its thread finds the semaphore's thread
     * ended at its next look (at least once a second), and the acquire took none.
     */
    @Test
    void aWaiterOfAnotherThreadWhenTheSemaphoresThreadEndsIsRefusedHoldingNone() throws InterruptedException {
        CompletableFuture<Semaphore> made = new CompletableFuture<>();
        CompletableFuture<Void> queued = new CompletableFuture<>();
        Thread owner = Thread.ofPlatform().name("owner").start(() -> {
            Semaphore s = new Semaphore("slots", 1);
            s.acquire();
            made.complete(s);
            Coroutine.await(queued); // serves the waiter's acquire, posted before queued completes
        });
        Semaphore s = Coroutine.await(made);
        List<String> outcome = new ArrayList<>();
        Coroutine waiter = Coroutine.create("waiter", () -> outcome.add(thrown(s::acquire)));
        Coroutine.yield(); // it posts its acquire to the owner and parks
        queued.complete(null); // the owner ends, holding the one permit
        waiter.join();
        owner.join();
        assertThat(outcome).containsExactly("coroutine 'waiter' of thread " + Scheduler.describe(Thread.currentThread())
                + " cannot acquire a permit of Semaphore[slots, 0 of 1 permits free]: it belongs to thread " + Scheduler.describe(owner)
                + ", which has ended");
        assertThat(s.availablePermits()).isZero();
    }

    /**
     * A semaphore of millions of permits (up to {@code Integer.MAX_VALUE}, as the JDK's allows) holds no
     * object for each: its channel's buffer counts them. It held one slot per permit, filled one by one as
     * it was made: ten million permits took seconds and hundreds of megabytes, and the largest count ran
     * out of memory.
     */
    @Test
    void aSemaphoreOfMillionsOfPermitsTakesNoRoomForThemAndCountsEachOne() {
        Semaphore wide = new Semaphore("wide", 10_000_000);
        assertThat(wide.bufferRoom()).isZero();
        assertThat(wide.availablePermits()).isEqualTo(10_000_000);

        Semaphore most = new Semaphore("most", Integer.MAX_VALUE);
        assertThat(most.bufferRoom()).isZero();
        assertThat(most.tryAcquire()).isTrue();
        most.acquire();
        Coroutine waiter = Coroutine.create("waiter", () -> most.withPermit(() -> { }));
        Coroutine.yield();
        assertThat(waiter.isFinished()).isTrue();
        assertThat(most).hasToString("Semaphore[most, 2147483645 of 2147483647 permits free]");
        most.release();
        most.release();
        assertThatThrownBy(most::release).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot release Semaphore[most, 2147483647 of 2147483647 permits free]: all"
                        + " its permits are free already (more releases than acquires)");
        assertThat(most.availablePermits()).isEqualTo(Integer.MAX_VALUE);
    }

    /**
     * A refusal names the caller, with its thread when that is not the semaphore's, the call the caller
     * made and the semaphore with its permits free. A negative timeout was refused as a {@code tryReceive}
     * from the semaphore's inner channel, {@code (open)}; a release too many from another thread named its
     * caller as {@code main context 'main'}, as if it were the semaphore's own main.
     */
    @Test
    void refusalsNameTheCallerWithItsThreadTheCallTheSemaphoreAndItsFreePermits() {
        Semaphore s = new Semaphore("s", 2);
        String negative = " cannot tryAcquire a permit of Semaphore[s, 2 of 2 permits free] with timeout PT-0.001S: a timeout"
                + " must be zero or positive";
        String tooMany = " cannot release Semaphore[s, 2 of 2 permits free]: all its permits are free already (more releases"
                + " than acquires)";
        assertThatThrownBy(() -> s.tryAcquire(Duration.ofMillis(-1))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("main context 'main' (state RUNNING)" + negative);
        List<String> here = new ArrayList<>();
        Coroutine.create("c", () -> {
            here.add(thrown(() -> s.tryAcquire(Duration.ofMillis(-1))));
            here.add(thrown(s::release));
        });
        Coroutine.yield();
        assertThat(here).containsExactly("coroutine 'c' (state RUNNING)" + negative, "coroutine 'c'" + tooMany);

        List<String> there = Peer.call("peer", () -> {
            String peer = Scheduler.describe(Thread.currentThread());
            return List.of(
                    thrown(() -> s.tryAcquire(Duration.ofMillis(-1))).replace(peer, "PEER"), // before it used coro
                    thrown(s::release).replace(peer, "PEER"), // posted to the semaphore's thread, which answers
                    thrown(s::release).replace(peer, "PEER"), // in place: the semaphore is shared now
                    thrown(() -> s.tryAcquire(Duration.ofMillis(-1))).replace(peer, "PEER"));
        });
        assertThat(there).containsExactly(
                "thread PEER" + negative,
                "main context 'main' of thread PEER" + tooMany,
                "main context 'main' of thread PEER" + tooMany,
                "main context 'main' of thread PEER (state RUNNING)" + negative);
        assertThat(s.availablePermits()).isEqualTo(2);
    }

    /** What {@code call} threw: the message of the exception, or {@code "returned"} if it did not throw. */
    private static String thrown(Runnable call) {
        try {
            call.run();
            return "returned";
        } catch (RuntimeException e) {
            return e.getMessage();
        }
    }

    /**
     * A permit on its way to a waiter (handed to it, which has not run yet) counts as held by it, so one
     * more release meanwhile is accepted, as a release of that waiter's permit. If the waiter is then
     * closed, its acquire is undone, and that release was one too many: the permit it was handed no longer
     * goes back (it did, and a semaphore of one permit had two free, taken by two contexts at once).
     */
    @Test
    void aReleaseTooManyWhileAPermitIsOnItsWayToAWaiterThatIsThenClosedMakesNoPermit() {
        Semaphore s = new Semaphore("mutex", 1);
        s.acquire();
        Coroutine waiter = Coroutine.create("waiter", s::acquire);
        Coroutine.yield(); // it waits
        s.release(); // handed to the waiter, which has not run yet
        s.release(); // accepted: as if for the waiter, which holds the one permit
        assertThat(s).hasToString("Semaphore[mutex, 1 of 1 permits free]");
        waiter.close(); // its acquire undone: the permit it was handed is not made a second one
        assertThat(s).hasToString("Semaphore[mutex, 1 of 1 permits free]");
        assertThat(s.tryAcquire()).isTrue();
        assertThat(s.tryAcquire()).as("a second holder of a mutex").isFalse();
        s.release();
        assertThat(s.availablePermits()).isOne();
    }

    /**
     * The same across threads: a permit on its way to a waiter of another thread (its wake-up posted to
     * a thread blocked outside coro), a release too many meanwhile, and the waiter then closed: its permit,
     * given back from its thread, makes no second one.
     */
    @Test
    void aReleaseTooManyWhileAPermitIsOnItsWayToAWaiterOfAnotherThreadThatIsThenClosedMakesNoPermit() {
        Semaphore s = new Semaphore("mutex", 1);
        s.acquire();
        CompletableFuture<Void> queued = new CompletableFuture<>();
        CountDownLatch releasedTwice = new CountDownLatch(1);
        CompletableFuture<Coroutine.State> peer = Peer.start("peer", () -> {
            Coroutine waiter = Coroutine.create("waiter", s::acquire);
            Coroutine.yield(); // it posts its acquire and parks
            queued.complete(null); // after the post: the semaphore's thread queues the acquire first
            Maker.blockOn(releasedTwice); // the wake-up of the waiter waits in this thread's inbox meanwhile
            waiter.close();
            return waiter.state();
        });
        Coroutine.await(queued);
        Coroutine.yield(); // takes in the acquire posted before: the await may have seen its future complete first
        s.release(); // handed to the waiter, whose thread is blocked
        s.release(); // accepted: as if for the waiter, which holds the one permit
        releasedTwice.countDown();
        assertThat(Coroutine.await(peer)).isEqualTo(Coroutine.State.CLOSED);
        assertThat(s).hasToString("Semaphore[mutex, 1 of 1 permits free]");
        assertThat(s.tryAcquire()).isTrue();
        assertThat(s.tryAcquire()).as("a second holder of a mutex").isFalse();
    }

    /**
     * A {@code tryAcquire()} from another thread that must be posted to the semaphore's thread (its first
     * use there) waits for that thread's answer, so in a {@code finally} of a coroutine being closed it
     * throws the close's signal, as a posted {@code tryReceive} does, having taken nothing (its Javadoc
     * named only the refusal once the semaphore's thread has ended).
     */
    @Test
    void aTryAcquireThatMustBePostedFromAnUnwindingCoroutineOfAnotherThreadThrowsItsSignalTakingNone() {
        Semaphore s = new Semaphore("s", 1);
        CompletableFuture<String> outcome = new CompletableFuture<>();
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            CompletableFuture<Object> body = pool.submit(() -> {
                Coroutine closed = Coroutine.create("closed", () -> {
                    try {
                        Coroutine.sleep(Duration.ofHours(1));
                    } finally {
                        try {
                            outcome.complete("took one: " + s.tryAcquire());
                        } catch (CoroutineExit e) {
                            outcome.complete(e.getMessage());
                        }
                    }
                });
                Coroutine.yield();
                closed.close();
                return null;
            });
            Coroutine.await(body);
        }
        assertThat(Coroutine.await(outcome)).isEqualTo("coroutine 'closed' is being closed: its tryAcquire a permit of"
                + " Semaphore[s, 1 of 1 permits free] of thread " + Scheduler.describe(Thread.currentThread()) + " throws this signal so that"
                + " it unwinds (state RUNNING, closing)");
        assertThat(s.availablePermits()).isOne();
    }

    /**
     * Coroutines of two platform threads and two virtual threads (each with its own scheduler), of a
     * pool's two threads, and main, the semaphore's thread, all take turns under its permits: never
     * more than it has are held at once, every turn is taken, and every permit is free at the end.
     */
    @Test
    void contextsOfPlatformVirtualAndPoolThreadsTakingTurnsHoldAtMostItsPermitsAndLoseNone() {
        Semaphore s = new Semaphore("shared", 3);
        AtomicInteger holding = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        AtomicInteger turns = new AtomicInteger();
        int rounds = 25;
        Runnable turn = () -> s.withPermit(() -> {
            turns.incrementAndGet();
            most.accumulateAndGet(holding.incrementAndGet(), Math::max);
            try {
                Coroutine.yield(); // another context of this thread runs while it holds the permit
            } finally {
                holding.decrementAndGet();
            }
        });
        List<CompletableFuture<Object>> done = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread.Builder builder = t < 2 ? Thread.ofPlatform() : Thread.ofVirtual();
            done.add(Peer.start(builder, "user-" + t, () -> {
                List<Coroutine> users = new ArrayList<>();
                for (int c = 0; c < 4; c++) {
                    users.add(Coroutine.create("c" + c, () -> {
                        for (int r = 0; r < rounds; r++) {
                            turn.run();
                        }
                    }));
                }
                for (Coroutine c : users) {
                    c.join();
                }
                return null;
            }));
        }
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            for (int b = 0; b < 8; b++) {
                done.add(pool.submit(() -> {
                    for (int r = 0; r < rounds; r++) {
                        turn.run();
                    }
                    return null;
                }));
            }
            for (int r = 0; r < rounds; r++) {
                turn.run();
            }
            for (CompletableFuture<Object> f : done) {
                Coroutine.await(f);
            }
        }
        assertThat(turns.get()).isEqualTo((4 * 4 + 8 + 1) * rounds);
        assertThat(most.get()).isBetween(1, 3);
        assertThat(holding.get()).isZero();
        assertThat(s.availablePermits()).isEqualTo(3);
    }

    /**
     * Permits given back by a thread that never used coro before (a plain thread, outside any coroutine)
     * go to the coroutines waiting on the semaphore's thread in the order they came, one each: the first
     * release is posted to the semaphore's thread, the later ones run in place on the channel it shares
     * from then on, and each wakes its waiter through that thread's event loop. The plain thread gives
     * back one at a time, and waits until a waiter has run with it before it gives back the next.
     */
    @Test
    void permitsReleasedByAThreadOutsideCoroGoToTheWaitersInTheOrderTheyCame() {
        Semaphore s = new Semaphore("s", 3);
        for (int i = 0; i < 3; i++) {
            s.acquire();
        }
        AtomicReference<CompletableFuture<String>> turn = new AtomicReference<>();
        for (String name : List.of("first", "second", "third")) {
            Coroutine.create(name, () -> {
                s.acquire();
                turn.get().complete(name + " with " + s.availablePermits() + " free");
            });
            Coroutine.yield(); // it runs and waits: they queue in the order made
        }
        CompletableFuture<List<String>> released = Peer.start("plain", () -> {
            List<String> order = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                CompletableFuture<String> taken = new CompletableFuture<>();
                turn.set(taken);
                s.release();
                order.add(taken.join()); // blocks this thread until a waiter has run with the permit
            }
            return order;
        });
        assertThat(Coroutine.await(released)) // main serves the first release, posted, and runs the waiters meanwhile
                .containsExactly("first with 0 free", "second with 0 free", "third with 0 free");
        for (int i = 0; i < 3; i++) {
            s.release(); // for the waiters, which have ended holding one each
        }
        assertThat(s.availablePermits()).isEqualTo(3);
    }

    /**
     * {@code closeNow()} of a pool whose bodies hold permits (in {@code withPermit}, or an acquire with the
     * release in a {@code finally}) and wait for them (an acquire, a timed one, {@code withPermit}) closes
     * them wherever they are: the holders give theirs back, the waiters took none, and every permit is free.
     */
    @Test
    void closeNowOfAPoolWhoseBodiesHoldAndWaitForPermitsLeavesEveryPermitFree() {
        Semaphore s = new Semaphore("slots", 2);
        int count = 12;
        AtomicInteger started = new AtomicInteger();
        CompletableFuture<Void> allStarted = new CompletableFuture<>();
        List<Runnable> kinds = List.of(
                () -> s.withPermit(() -> Coroutine.sleep(Duration.ofHours(1))),
                () -> {
                    s.acquire();
                    try {
                        Coroutine.sleep(Duration.ofHours(1));
                    } finally {
                        s.release();
                    }
                },
                () -> {
                    if (s.tryAcquire(Duration.ofHours(1))) {
                        try {
                            Coroutine.sleep(Duration.ofHours(1));
                        } finally {
                            s.release();
                        }
                    }
                });
        CoroutinePool pool = CoroutinePool.start(2);
        List<CompletableFuture<Object>> bodies = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Runnable kind = kinds.get(i % kinds.size());
            bodies.add(pool.submit(() -> {
                if (started.incrementAndGet() == count) {
                    allStarted.complete(null);
                }
                kind.run();
                return null;
            }));
        }
        Coroutine.await(allStarted); // main serves the bodies' first uses of the semaphore meanwhile
        pool.closeNow();
        Coroutine.yield(); // main runs the posts it holds: a release whose caller did not wait among them
        assertThat(bodies).allSatisfy(b -> assertThatThrownBy(() -> Coroutine.await(b))
                .isInstanceOf(CompletionException.class).cause().isInstanceOf(CoroutineExit.class));
        assertThat(s.availablePermits()).isEqualTo(2);
    }

    /**
     * {@code withPermit} and {@code callWithPermit} give the permit back exactly once however the body
     * ends: a value, a checked exception, an unchecked one, an {@code Error}, a close of its coroutine, an
     * expired {@code withTimeout} around it, one inside it that the body caught. Main holds the other
     * permit throughout, so that a permit given back twice would show as two free.
     */
    @Test
    void withPermitAndCallWithPermitGiveThePermitBackExactlyOnceHoweverTheBodyEnds() {
        List<String> log = new ArrayList<>();
        VirtualTime.run(() -> {
            Semaphore s = new Semaphore("s", 2);
            s.acquire();
            Runnable free = () -> log.add("free: " + s.availablePermits());
            log.add(s.withPermit(() -> "value"));
            free.run();
            log.add(thrown(() -> s.withPermit((Runnable) () -> {
                throw new IllegalStateException("unchecked");
            })));
            free.run();
            try {
                s.callWithPermit((ThrowingRunnable<IOException>) () -> {
                    throw new IOException("checked");
                });
            } catch (IOException e) {
                log.add(e.getMessage());
            }
            free.run();
            try {
                s.withPermit((Runnable) () -> {
                    throw new AssertionError("error");
                });
            } catch (AssertionError e) {
                log.add(e.getMessage());
            }
            free.run();
            Coroutine closed = Coroutine.create("closed", () -> s.withPermit(() -> Coroutine.sleep(Duration.ofHours(1))));
            Coroutine.yield();
            closed.close();
            free.run();
            log.add(thrown(() -> Coroutine.withTimeout(Duration.ofMillis(3),
                    () -> s.withPermit(() -> Coroutine.sleep(Duration.ofHours(1))))));
            free.run();
            s.withPermit(() -> {
                try {
                    Coroutine.withTimeout(Duration.ofMillis(3), () -> Coroutine.sleep(Duration.ofHours(1)));
                } catch (CoroutineTimeoutException e) {
                    log.add("caught inside at " + Coroutine.nanoTime() / 1_000_000);
                }
            });
            free.run();
            s.release();
            free.run();
        });
        assertThat(log).containsExactly("value", "free: 1", "unchecked", "free: 1", "checked", "free: 1", "error", "free: 1",
                "free: 1", "main context 'main' timed out: withTimeout(PT0.003S) expired before its body returned", "free: 1",
                "caught inside at 6", "free: 1", "free: 2");
    }

    /**
     * Every context of the semaphore's thread waiting for a permit that a live thread holds is no
     * deadlock: the other thread may release it, and does once the semaphore's thread has blocked; the
     * waiters then take the permit in the order they came. The view of every scheduler (JMX's) lists
     * the blocked thread's waits on the semaphore meanwhile. On a thread that never exchanged anything
     * with another the same waits are a {@code DeadlockException} ({@code SemaphoreTest}).
     */
    @Test
    void contextsOfItsThreadAllWaitingForAPermitALiveThreadHoldsAreNoDeadlockAndTakeItInTurn() {
        Thread self = Thread.currentThread();
        Semaphore s = new Semaphore("s", 1);
        CompletableFuture<Void> held = new CompletableFuture<>();
        CompletableFuture<Void> waiting = new CompletableFuture<>();
        CompletableFuture<Void> giveUp = new CompletableFuture<>();
        CompletableFuture<String> peer = Peer.start("peer", () -> {
            s.acquire(); // posted to the semaphore's thread, which serves it as it awaits held
            held.complete(null);
            while (!waiting.isDone() && !giveUp.isDone()) {
                Thread.onSpinWait();
            }
            if (!Peer.awaitBlocked(self, giveUp)) {
                return "gave up";
            }
            // the view of every scheduler, as JMX shows it: the blocked thread lists its waits on the semaphore
            String view = CoroutinesMXBeanTest.section(CoroutinesManagement.mxBean().dump(10), self.getName());
            s.release(); // every context of the semaphore's thread waits for it
            return view.lines().filter(l -> l.startsWith("  [")).toList().toString();
        });
        Coroutine.await(held);
        List<String> log = new ArrayList<>();
        Coroutine c = Coroutine.create("c", () -> {
            s.acquire();
            log.add("c");
            s.release();
        });
        try {
            waiting.complete(null);
            s.acquire(); // main waits first, then c: nothing else of this thread can run
            log.add("main");
            s.release(); // to c
            c.join();
        } finally {
            giveUp.complete(null);
        }
        assertThat(Coroutine.await(peer)).isEqualTo("[  [0] main: PARKED, waits to acquire a permit of Semaphore[s, 0 of 1 permits free],"
                + "   [1] coroutine 'c': PARKED (current), waits to acquire a permit of Semaphore[s, 0 of 1 permits free]]");
        assertThat(log).containsExactly("main", "c");
        assertThat(s.availablePermits()).isOne();
    }

    /**
     * Under virtual time the trace is the same every run: waiters queue in the order they came; a timed
     * acquire and a {@code withTimeout} due at the very instant a release comes end first (timers expire
     * before any woken context runs), taking nothing, and the release goes to the next in line; a timed
     * acquire still waiting takes the permit released before its deadline; a zero timeout never waits.
     */
    @Test
    void underVirtualTimeWaitersAreServedInOrderAndTimedWaitsDueAsAReleaseComesEndFirstAtTheirDeadline() {
        List<String> log = new ArrayList<>();
        VirtualTime.run(() -> {
            Semaphore s = new Semaphore("s", 1);
            s.acquire();
            Coroutine.create("a", () -> log.add("a " + s.tryAcquire(Duration.ofMillis(5)) + " at " + ms()));
            Coroutine.yield(); // a runs and waits: the first in line
            Coroutine.create("b", () -> {
                try {
                    Coroutine.withTimeout(Duration.ofMillis(5), s::acquire);
                    log.add("b took one");
                } catch (CoroutineTimeoutException e) {
                    log.add("b timed out at " + ms());
                }
            });
            Coroutine.yield();
            Coroutine.create("c", () -> {
                s.acquire();
                log.add("c took one at " + ms());
                Coroutine.sleep(Duration.ofMillis(2));
                s.release();
            });
            Coroutine.yield();
            Coroutine.create("d", () -> {
                boolean took = s.tryAcquire(Duration.ofMillis(10));
                log.add("d " + took + " at " + ms());
                s.release();
            });
            Coroutine.yield();
            log.add("zero: " + s.tryAcquire(Duration.ZERO) + " at " + ms());
            Coroutine.sleep(Duration.ofMillis(5));
            s.release(); // a and b have ended at this instant already (and ran first, last made first): to c
            log.add("released at " + ms());
        });
        assertThat(log).containsExactly("zero: false at 0", "b timed out at 5", "a false at 5", "released at 5",
                "c took one at 5", "d true at 7");
    }

    /**
     * A dump shows a context parked in an acquire by the semaphore's call on the semaphore, with its
     * permits free: on the semaphore's thread, inside a generator's body there, and on another thread,
     * whose wait names the semaphore's thread too.
     */
    @Test
    void aDumpShowsAnAcquireParkedOnAnyThreadAsAnAcquireOfThePermitsOfTheSemaphore() {
        Semaphore s = new Semaphore("db", 1);
        s.acquire();
        Coroutine.create("local", s::acquire);
        Coroutine.create("consumer", () -> {
            Generator<Integer> rows = Generator.of("rows", out -> s.withPermit(() -> out.emit(1)));
            rows.next();
        });
        Coroutine.yield();
        String here = Coroutine.dump();
        assertThat(here).contains("coroutine 'local': PARKED, waits to acquire a permit of Semaphore[db, 0 of 1 permits free]\n")
                .contains("coroutine 'consumer': PARKED, waits to acquire a permit of Semaphore[db, 0 of 1 permits free], inside"
                        + " generator 'rows'\n");
        String there = Peer.call("other", () -> {
            Coroutine remote = Coroutine.create("remote", s::acquire);
            Coroutine.yield(); // it posts its acquire, which the semaphore's thread queues as it awaits this call
            String dump = Coroutine.dump();
            remote.close(); // its wait withdrawn: it took none
            return dump;
        });
        assertThat(there).contains("coroutine 'remote': PARKED, waits to acquire a permit of Semaphore[db, 0 of 1 permits free] of"
                + " thread "
                + Scheduler.describe(Thread.currentThread()) + "\n");
        s.release(); // to local, the first in line
        Coroutine.yield();
        assertThat(s.availablePermits()).isZero();
    }

    private static long ms() {
        return Coroutine.nanoTime() / 1_000_000;
    }

    /**
     * A free count read from another thread without the lock may count a permit twice or overflow
     * near {@code Integer.MAX_VALUE}: it is then the semaphore's own count, never more and never negative.
     */
    @Test
    void aFreeCountReadOutOfRangeIsThePermitsItWasMadeWith() {
        assertThat(Semaphore.free(3, 3)).isEqualTo(3);
        assertThat(Semaphore.free(0, 3)).isZero();
        assertThat(Semaphore.free(2, 3)).isEqualTo(2);
        assertThat(Semaphore.free(4, 3)).as("a permit counted twice").isEqualTo(3);
        assertThat(Semaphore.free(Integer.MIN_VALUE, Integer.MAX_VALUE)).as("an overflowed sum").isEqualTo(Integer.MAX_VALUE);
        assertThat(Semaphore.free(-1, 1)).isEqualTo(1);
    }
}
