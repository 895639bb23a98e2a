package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The delivery of a wait completed by another thread: handed to its thread's spin if that spin
 * watches it, posted to its inbox otherwise; exactly once either way, however the two race. The
 * event loop's spin marks the wait watched only while it spins: however the spin ends, the wait is
 * unwatched when it returns, a hand-over has run by then and counts as a post caught, and a thread
 * blocked in its idle wait never has its wait marked watched (a completer would hand it to nobody).
 */
class PostedWaitTest {

    /** A guard against a hang (a wake-up handed to a thread that blocks), not a performance threshold. */
    private static final Duration GUARD = Duration.ofSeconds(60);

    private final Inbox inbox = new Inbox();

    /** A wait that counts its deliveries. */
    private static class Counted extends PostedWait<Counted> {
        final AtomicInteger deliveries = new AtomicInteger();

        @Override
        void delivered() {
            deliveries.incrementAndGet();
        }

        @Override
        public boolean interrupt() {
            return false;
        }

        @Override
        public String reason() {
            return "thread";
        }
    }

    @Test
    void aWaitWatchedByItsSpinIsHandedOverWithoutAPostAndRunsWhenTheSpinEnds() {
        Counted w = new Counted();
        w.watch();
        assertThat(w.deliver(inbox)).isTrue();
        assertThat(inbox.isEmpty()).as("handed over: the inbox is not touched").isTrue();
        assertThat(w.completedAfar()).as("the spin sees it").isTrue();
        assertThat(w.deliveries).as("it runs on its own thread, when the spin ends").hasValue(0);
        assertThat(w.unwatch()).isTrue();
        assertThat(w.deliveries).hasValue(1);
        assertThat(w.completedAfar()).as("delivered: free for another wait").isFalse();
        inbox.drain();
        assertThat(w.deliveries).hasValue(1);
    }

    @Test
    void aWaitNoSpinWatchesIsPostedAndASpinThatBeginsAfterwardsDoesNotTakeItOver() {
        Counted w = new Counted();
        assertThat(w.deliver(inbox)).isTrue();
        assertThat(inbox.isEmpty()).isFalse();
        w.watch();
        assertThat(w.completedAfar()).as("posted: the spin sees its completion").isTrue();
        assertThat(w.unwatch()).as("the post, not the spin, runs it").isFalse();
        assertThat(w.deliveries).hasValue(0);
        inbox.drain();
        assertThat(w.deliveries).hasValue(1);
        assertThat(w.completedAfar()).isFalse();
    }

    @Test
    void aSpinThatEndedBeforeTheCompletionLeavesItToThePost() {
        Counted w = new Counted();
        w.watch();
        assertThat(w.unwatch()).isFalse();
        assertThat(w.deliver(inbox)).isTrue();
        assertThat(inbox.isEmpty()).isFalse();
        inbox.drain();
        assertThat(w.deliveries).hasValue(1);
    }

    @Test
    void aPostRefusedByAClosedInboxIsReported() {
        Counted w = new Counted();
        inbox.close();
        assertThat(w.deliver(inbox)).isFalse();
    }

    /**
     * Another thread delivers each of many waits while this one watches it for a spin of a varying
     * length (so the delivery falls before, during and after the spin): each is delivered exactly
     * once, by the spin or by the inbox, and the spin runs only what was handed to it.
     */
    @Test
    void deliveriesRacingTheSpinsEndAreNeitherLostNorRepeated() throws InterruptedException {
        int waits = 20_000;
        Counted[] all = new Counted[waits];
        for (int i = 0; i < waits; i++) {
            all[i] = new Counted();
        }
        AtomicInteger published = new AtomicInteger(-1);
        AtomicLong refused = new AtomicLong();
        Thread completer = new Thread(() -> {
            for (int i = 0; i < waits; i++) {
                while (published.get() < i) {
                    Thread.onSpinWait();
                }
                if (!all[i].deliver(inbox)) {
                    refused.incrementAndGet();
                }
            }
        }, "completer");
        completer.start();
        for (int i = 0; i < waits; i++) {
            Counted w = all[i];
            if ((i & 1) == 0) {
                w.watch(); // half the waits are watched before the completer may deliver them
            }
            published.set(i);
            if ((i & 1) != 0) {
                w.watch();
            }
            for (int k = 0, spins = i % 64; k < spins && !w.completedAfar(); k++) {
                Thread.onSpinWait();
            }
            if (w.unwatch()) {
                assertThat(w.deliveries).as("wait %d handed over runs once, at once", i).hasValue(1);
            }
            inbox.drain();
        }
        completer.join();
        inbox.drain();
        assertThat(refused).hasValue(0);
        for (int i = 0; i < waits; i++) {
            assertThat(all[i].deliveries).as("wait %d", i).hasValue(1);
        }
    }

    /** The delivery mark of {@code w} (a volatile read), as its thread's spin and its completers read it. */
    private static int delivery(PostedWait<?> w) throws ReflectiveOperationException {
        Field f = PostedWait.class.getDeclaredField("delivery");
        f.setAccessible(true);
        return f.getInt(w);
    }

    /** The value of the delivery mark named {@code name}: {@code IDLE}, {@code WATCHING}, {@code HANDED} or {@code POSTED}. */
    private static int mark(String name) throws ReflectiveOperationException {
        Field f = PostedWait.class.getDeclaredField(name);
        f.setAccessible(true);
        return f.getInt(null);
    }

    /**
     * A completer hands the watched wait over at the spin's first look: the spin ends, the wait has
     * run on the spinning thread before the spin returns (nothing is posted), it is unwatched, and the
     * spin counts as one that caught a post, so the loop does not block.
     */
    @Test
    void aWaitHandedOverWhileTheLoopSpinsHasRunWhenTheSpinReturnsAndIsUnwatched() throws Exception {
        assertThat(EventLoop.SPIN_NANOS).as("the spin is on (coro.spinNanos unset)").isPositive();
        EventLoop loop = new EventLoop();
        AtomicBoolean handed = new AtomicBoolean();
        Counted w = new Counted() {
            @Override
            public boolean completedAfar() {
                if (handed.compareAndSet(false, true)) {
                    assertThat(deliver(loop.inbox)).isTrue(); // the completer, while the spin watches
                }
                return super.completedAfar();
            }
        };
        loop.watched = w;
        assertThat(loop.spin(EventLoop.SPIN_NANOS)).as("a hand-over is a post caught").isTrue();
        assertThat(w.deliveries).as("run by the spin, before it returned").hasValue(1);
        assertThat(loop.inbox.isEmpty()).as("handed over: nothing posted").isTrue();
        assertThat(delivery(w)).as("unwatched once the spin is over").isEqualTo(mark("IDLE"));
    }

    /**
     * A completer hands the watched wait over after the spin's last look at it: the spin itself saw
     * nothing, yet it counts as one that caught a post, since the wait has run as it ended (and woken
     * its context); a loop that blocked then would block with that context runnable, nothing left to
     * wake it.
     */
    @Test
    void aWaitHandedOverAfterTheSpinsLastLookHasRunAndCountsAsAPostCaught() throws Exception {
        assertThat(EventLoop.SPIN_NANOS).as("the spin is on (coro.spinNanos unset)").isPositive();
        EventLoop loop = new EventLoop();
        AtomicBoolean handed = new AtomicBoolean();
        Counted w = new Counted() {
            @Override
            public boolean completedAfar() {
                if (handed.compareAndSet(false, true)) {
                    assertThat(deliver(loop.inbox)).isTrue();
                }
                return false; // every look answered before the hand-over landed: the spin runs its whole bound
            }
        };
        loop.watched = w;
        assertThat(loop.spin(EventLoop.SPIN_NANOS)).as("handed over late: a post caught all the same").isTrue();
        assertThat(w.deliveries).as("run as the spin ended").hasValue(1);
        assertThat(loop.inbox.isEmpty()).as("handed over: nothing posted").isTrue();
        assertThat(delivery(w)).isEqualTo(mark("IDLE"));
    }

    /**
     * However a spin that marked the wait watched ends without a hand-over (another post came, or it
     * ran its bound in vain), and when the loop skips the spin, the wait is not watched afterwards,
     * when the loop goes on to block: a completion that comes then is posted to the inbox, where it
     * wakes the thread, instead of being handed to a spin that is over.
     */
    @Test
    void aSpinThatEndsWithoutAHandOverLeavesTheWaitUnwatchedSoThatItsCompletionIsPosted() throws Exception {
        assertThat(EventLoop.SPIN_NANOS).as("the spin is on (coro.spinNanos unset)").isPositive();
        EventLoop loop = new EventLoop();
        int idle = mark("IDLE");

        Counted ended = new Counted(); // by another post
        loop.watched = ended;
        loop.post(() -> { });
        assertThat(loop.spin(EventLoop.SPIN_NANOS)).isTrue();
        assertThat(delivery(ended)).as("unwatched after a spin another post ended").isEqualTo(idle);
        loop.inbox.drain();

        Counted inVain = new Counted();
        loop.watched = inVain;
        assertThat(loop.spin(EventLoop.SPIN_NANOS)).isFalse();
        assertThat(delivery(inVain)).as("unwatched after a spin in vain").isEqualTo(idle);
        assertThat(loop.spinsToSkip).as("the next block skips its spin").isPositive();

        Counted skipped = new Counted();
        loop.watched = skipped;
        assertThat(loop.spin(EventLoop.SPIN_NANOS)).isFalse();
        assertThat(delivery(skipped)).as("never watched by a spin skipped").isEqualTo(idle);

        for (Counted w : new Counted[] {ended, inVain, skipped}) {
            assertThat(w.deliver(loop.inbox)).isTrue();
            assertThat(loop.inbox.isEmpty()).as("posted, not handed to a spin that is over").isFalse();
            loop.inbox.drain();
            assertThat(w.deliveries).hasValue(1);
        }
    }

    /**
     * A thread whose only parked context waits for another thread goes through its idle wait: it
     * spins watching the wait, then blocks. Once it is blocked, its wait is not marked watched; a
     * completion then is posted, wakes the thread, and runs there once. A thread blocked with its wait
     * watched would take a completion handed over to it only after its next wake-up, which might never come.
     */
    @Test
    void aThreadBlockedInItsIdleWaitHasItsWaitUnwatchedAndACompletionThenWakesIt() throws Exception {
        assertThat(EventLoop.SPIN_NANOS).as("the spin is on (coro.spinNanos unset)").isPositive();
        EventLoop loop = new EventLoop();
        Counted w = new Counted();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread waiter = Thread.ofPlatform().name("waiter").daemon(true).start(() -> {
            try {
                loop.foreignWaitStarted(); // the wait counts as one another thread completes: the loop spins first
                loop.watched = w;
                while (w.deliveries.get() == 0) {
                    loop.idle(); // it may return having done nothing (a spurious wake-up): callers loop
                }
                loop.watched = null;
                loop.foreignWaitEnded();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        while (!loop.isIdle()) {
            Thread.onSpinWait(); // the waiter's spin runs its bound in vain, then it blocks
        }
        assertThat(delivery(w)).as("the waiter blocks: its wait is not watched").isNotEqualTo(mark("WATCHING"));
        assertThat(w.deliver(loop.inbox)).isTrue();
        waiter.join(GUARD.toMillis());
        assertThat(waiter.isAlive()).as("the completion woke the waiter").isFalse();
        assertThat(failure.get()).isNull();
        assertThat(w.deliveries).as("delivered once, on the waiter's thread").hasValue(1);
    }
}
