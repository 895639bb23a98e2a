package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
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
            String ended = " channel 'slots (semaphore)' (open): it belongs to thread " + Scheduler.describe(owner)
                    + ", which has ended";
            List<String> ran = new ArrayList<>();
            assertThatThrownBy(s::tryAcquire).isInstanceOf(IllegalStateException.class)
                    .hasMessage(caller + " cannot tryReceive from" + ended);
            assertThatThrownBy(() -> s.tryAcquire(java.time.Duration.ofMillis(5))).isInstanceOf(IllegalStateException.class)
                    .hasMessage(caller + " cannot tryReceive from" + ended);
            assertThatThrownBy(s::acquire).isInstanceOf(IllegalStateException.class)
                    .hasMessage(caller + " cannot receive from" + ended);
            assertThatThrownBy(() -> s.withPermit(() -> ran.add("ran"))).isInstanceOf(IllegalStateException.class)
                    .hasMessage(caller + " cannot receive from" + ended);
            assertThat(ran).as("bodies run").isEmpty();
            assertThat(s.availablePermits()).as("free permits, used here first: %s", usedHereFirst).isEqualTo(2);
        }
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
        assertThatThrownBy(() -> s.tryAcquire(java.time.Duration.ofMillis(-1))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("main context 'main' (state RUNNING)" + negative);
        List<String> here = new ArrayList<>();
        Coroutine.create("c", () -> {
            here.add(thrown(() -> s.tryAcquire(java.time.Duration.ofMillis(-1))));
            here.add(thrown(s::release));
        });
        Coroutine.yield();
        assertThat(here).containsExactly("coroutine 'c' (state RUNNING)" + negative, "coroutine 'c'" + tooMany);

        List<String> there = Peer.call("peer", () -> {
            String peer = Scheduler.describe(Thread.currentThread());
            return List.of(
                    thrown(() -> s.tryAcquire(java.time.Duration.ofMillis(-1))).replace(peer, "PEER"), // before it used coro
                    thrown(s::release).replace(peer, "PEER"), // posted to the semaphore's thread, which answers
                    thrown(s::release).replace(peer, "PEER"), // in place: the semaphore is shared now
                    thrown(() -> s.tryAcquire(java.time.Duration.ofMillis(-1))).replace(peer, "PEER"));
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
}
