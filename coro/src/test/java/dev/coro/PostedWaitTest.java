package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The delivery of a wait completed by another thread: handed to its thread's spin if that spin
 * watches it, posted to its inbox otherwise; exactly once either way, however the two race.
 */
class PostedWaitTest {

    private final Inbox inbox = new Inbox();

    /** A wait that counts its deliveries. */
    private static final class Counted extends PostedWait<Counted> {
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
}
