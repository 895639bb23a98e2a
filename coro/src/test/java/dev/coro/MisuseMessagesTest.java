package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Bad calls of the public API that no other test made (a semaphore's release and acquires once its
 * thread has ended, a reply to a generator that has ended, waits past the clock's range that nothing
 * could end, a clock started inside another), each refused with the caller, the call and the state
 * named in full, and nothing taken, lost or made by the refusal.
 */
@ExtendWith(FreshThread.class)
class MisuseMessagesTest {

    /**
     * Once a semaphore's thread has ended, every call of another thread on it is refused, as its Javadoc
     * says, in the words of the semaphore's other refusals: the call the user made and the semaphore with
     * its free permits. It named the operation of the channel that counts the permits instead ({@code cannot
     * trySend to channel 's (semaphore)' (open)} for a {@code release()}, {@code cannot receive from} for an
     * {@code acquire()}), calls the user never made on a channel it never made. The refusals take and give
     * back nothing: the permits free stay as they were.
     */
    @Test
    void callsOnASemaphoreWhoseThreadHasEndedAreRefusedNamingTheSemaphoreCallAndItsFreePermits() {
        AtomicReference<Semaphore> made = new AtomicReference<>();
        AtomicReference<Thread> owner = new AtomicReference<>();
        Peer.run("owner", () -> {
            owner.set(Thread.currentThread());
            Semaphore s = new Semaphore("slots", 3);
            s.acquire(); // one held as the thread ends: 2 of 3 free
            made.set(s);
        });
        Semaphore s = made.get();
        String caller = "main context 'main' of thread " + Scheduler.describe(Thread.currentThread());
        String ended = " Semaphore[slots, 2 of 3 permits free]: it belongs to thread " + Scheduler.describe(owner.get())
                + ", which has ended";
        List<String> ran = new ArrayList<>();
        assertThatThrownBy(s::release).isInstanceOf(IllegalStateException.class)
                .hasMessage(caller + " cannot release" + ended);
        assertThatThrownBy(s::acquire).isInstanceOf(IllegalStateException.class)
                .hasMessage(caller + " cannot acquire a permit of" + ended);
        assertThatThrownBy(s::tryAcquire).isInstanceOf(IllegalStateException.class)
                .hasMessage(caller + " cannot tryAcquire a permit of" + ended);
        assertThatThrownBy(() -> s.tryAcquire(Duration.ofSeconds(1))).isInstanceOf(IllegalStateException.class)
                .hasMessage(caller + " cannot tryAcquire a permit of" + ended);
        assertThatThrownBy(() -> s.withPermit(() -> ran.add("ran"))).isInstanceOf(IllegalStateException.class)
                .hasMessage(caller + " cannot acquire a permit of" + ended);
        assertThat(ran).as("bodies run").isEmpty();
        assertThat(s.availablePermits()).isEqualTo(2);
        assertThat(s).hasToString("Semaphore[slots, 2 of 3 permits free]");
    }

    /**
     * A coroutine's release of a permit of a semaphore whose thread has ended, in a {@code finally}, is
     * refused naming the coroutine with its thread and the semaphore with its free permits, which stay
     * as they were: a release too many is not made into a permit.
     */
    @Test
    void aCoroutinesReleaseOnceTheSemaphoresThreadHasEndedNamesTheCoroutineWithItsThread() {
        AtomicReference<Semaphore> made = new AtomicReference<>();
        AtomicReference<Thread> owner = new AtomicReference<>();
        Peer.run("owner", () -> {
            owner.set(Thread.currentThread());
            made.set(new Semaphore("lock", 1));
        });
        Semaphore s = made.get();
        List<String> refused = new ArrayList<>();
        Coroutine releaser = Coroutine.create("releaser", () -> {
            try {
                s.release();
            } catch (IllegalStateException e) {
                refused.add(e.getMessage());
            }
        });
        releaser.join();
        assertThat(refused).containsExactly("coroutine 'releaser' of thread " + Scheduler.describe(Thread.currentThread())
                + " cannot release Semaphore[lock, 1 of 1 permits free]: it belongs to thread " + Scheduler.describe(owner.get())
                + ", which has ended");
        assertThat(s.availablePermits()).isOne();
    }

    /**
     * {@code TwoWay.send} to a generator whose body ended without emitting after the reply names the send
     * and the generator finished; a send after that, with no emit left to reply to, says so; and neither
     * runs the body again.
     */
    @Test
    void aReplyToAGeneratorWhoseBodyHasEndedNamesTheSendAndTheGeneratorFinished() {
        List<Integer> replies = new ArrayList<>();
        Generator.TwoWay<Integer, Integer> g = Generator.twoWay("tally", out -> replies.add(out.emit(1)));
        assertThat(g.next()).isOne();
        assertThatThrownBy(() -> g.send(5)).isInstanceOf(NoSuchElementException.class)
                .hasMessage("main context 'main' cannot take the value of its send to generator 'tally' (FINISHED): its"
                        + " body ended without emitting a value after the reply");
        assertThatThrownBy(() -> g.send(6)).isInstanceOf(NoSuchElementException.class)
                .hasMessage("main context 'main' cannot send to generator 'tally' (FINISHED): it has ended, and no emit"
                        + " is left to reply to");
        assertThat(replies).containsExactly(5);
        assertThat(g.state()).isEqualTo(Generator.State.FINISHED);
    }

    /**
     * A timed acquire whose timeout is past the clock's range (no timer can end it) by the only context of
     * a thread that exchanged nothing with another is a deadlock naming the wait, not a hang; it took no
     * permit, and the one held is released as before.
     */
    @Test
    void aTimedAcquireForeverWithNothingToWakeItIsADeadlockAndTakesNoPermit() {
        Semaphore s = new Semaphore("one", 1);
        s.acquire();
        assertThatThrownBy(() -> s.tryAcquire(Duration.ofSeconds(Long.MAX_VALUE))).isInstanceOf(DeadlockException.class)
                .hasMessageStartingWith("main context 'main' cannot tryAcquire a permit of Semaphore[one, 0 of 1 permits free] for ever (a"
                        + " timeout past the clock's range): every other context of thread "
                        + Scheduler.describe(Thread.currentThread()) + " is parked and no timer is pending, so nothing"
                        + " could ever wake it (deadlock):");
        assertThat(s.availablePermits()).isZero();
        s.release();
        assertThat(s.availablePermits()).isOne();
        assertThat(s.tryAcquire()).isTrue();
    }

    /**
     * A {@code VirtualTime.run} inside another is refused naming the caller, its thread and why; the outer
     * run goes on, on its clock, and its body's coroutines are untouched.
     */
    @Test
    void aVirtualTimeRunInsideAnotherIsRefusedAndTheOuterRunGoesOn() {
        List<String> seen = new ArrayList<>();
        VirtualTime.run(() -> {
            Coroutine sleeper = Coroutine.create("sleeper", () -> {
                Coroutine.sleep(Duration.ofSeconds(5));
                seen.add("woke at " + Duration.ofNanos(Coroutine.nanoTime()).toSeconds());
            });
            Coroutine.yield();
            assertThatThrownBy(() -> VirtualTime.run(() -> seen.add("inner ran"))).isInstanceOf(IllegalStateException.class)
                    .hasMessage("main context 'main' of thread " + Scheduler.describe(Thread.currentThread())
                            + " (state RUNNING) cannot start VirtualTime.run: it already runs on a virtual clock");
            sleeper.join();
        });
        assertThat(seen).containsExactly("woke at 5");
    }

    /**
     * A pool's refusal and a semaphore's name a thread's main alike, through the one naming of the caller: a
     * thread that has no scheduler as a thread (none made for the message), the main context of one that has
     * as {@code main context 'main'}, with its thread where the semaphore is another thread's (a pool belongs
     * to no thread).
     */
    @Test
    void aPoolsRefusalAndASemaphoresNameMainAlikeOnAThreadWithOrWithoutAScheduler() {
        List<String> seen = new ArrayList<>();
        Thread plain = Thread.ofPlatform().name("plain").start(() -> {
            seen.add(refusalOf(() -> CoroutinePool.start(0)));
            seen.add(refusalOf(() -> new Semaphore(0)));
        });
        Peer.join(plain);
        String thread = "thread " + Scheduler.describe(plain);
        assertThat(seen).containsExactly(
                thread + " cannot start a coroutine pool of 0 threads: it needs at least 1",
                thread + " cannot create semaphore 'semaphore-1' with 0 permits: it needs 1 or more");

        Semaphore ours = new Semaphore("ours", 1); // this thread has a scheduler from here on
        try (CoroutinePool pool = CoroutinePool.start("p", 1)) {
            Semaphore theirs = Coroutine.await(pool.submit(() -> new Semaphore("theirs", 1)));
            assertThat(List.of(refusalOf(() -> CoroutinePool.start(0)), refusalOf(ours::release), refusalOf(theirs::release)))
                    .containsExactly(
                            "main context 'main' cannot start a coroutine pool of 0 threads: it needs at least 1",
                            "main context 'main' cannot release Semaphore[ours, 1 of 1 permits free]: all its permits are free"
                                    + " already (more releases than acquires)",
                            "main context 'main' of thread " + ThreadNames.thread() + " cannot release Semaphore[theirs, 1 of 1"
                                    + " permits free]: all its permits are free already (more releases than acquires)");
            pool.close();
            assertThat(refusalOf(() -> pool.submit(() -> 1)))
                    .isEqualTo("main context 'main' cannot submit to p (closed): a closed pool takes no more bodies");
        }
    }

    /** The message of the exception {@code call} throws; fails if it throws none. */
    private static String refusalOf(Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            return e.getMessage();
        }
        throw new AssertionError("not refused");
    }
}
