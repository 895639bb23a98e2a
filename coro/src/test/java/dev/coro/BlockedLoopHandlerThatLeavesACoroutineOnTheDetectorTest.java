package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A log handler of the blocked-loop detector's report that uses coro on the detector's thread, and leaves a
 * coroutine parked there, neither makes the detector report its own thread as a blocked loop nor leaves its
 * scheduler with work: the detector closes that coroutine after the sample (its {@code finally} runs), and
 * goes on reporting the thread that is blocked.
 */
@ExtendWith(FreshThread.class)
class BlockedLoopHandlerThatLeavesACoroutineOnTheDetectorTest {

    @Test
    @Timeout(30)
    void aCoroutineAReportsHandlerLeavesOnTheDetectorsThreadIsClosedAndTheDetectorNeverReportsItself() throws Exception {
        String mine = "thread " + Scheduler.describe(Thread.currentThread()) + " for ";
        Coroutine starved = Coroutine.create("starved", Coroutine::yield); // the thread has something to stall
        List<String> warnings = new ArrayList<>();
        CompletableFuture<Thread> detector = new CompletableFuture<>();
        CompletableFuture<Coroutine.State> left = new CompletableFuture<>();
        CompletableFuture<String> unwound = new CompletableFuture<>();
        boolean[] ownHasWork = new boolean[1];
        CountDownLatch third = new CountDownLatch(1);
        Logger log = Logger.getLogger("dev.coro");
        Handler h = new Handler() {
            private int reportsOfMine;

            @Override
            public void publish(LogRecord r) {
                if (r.getLevel() != Level.WARNING) {
                    return;
                }
                synchronized (warnings) {
                    warnings.add(r.getMessage());
                }
                if (!r.getMessage().contains(mine)) {
                    return;
                }
                reportsOfMine++;
                if (reportsOfMine == 1) {
                    detector.complete(Thread.currentThread());
                    Coroutine c = Coroutine.create("left by the handler", () -> {
                        try {
                            Coroutine.await(new CompletableFuture<String>()); // nobody completes it
                        } finally {
                            unwound.complete("unwound");
                        }
                    });
                    c.switchTo(); // it parks: the handler returns with it on the detector's thread
                    left.complete(c.state());
                } else if (reportsOfMine == 3) {
                    ownHasWork[0] = Watchdog.hasWork(Scheduler.current()); // the detector's own, a sample after the first
                    third.countDown();
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(h);
        boolean released;
        try {
            BlockedLoops.detect(Duration.ofMillis(2)); // reports this thread at 2 ms, 20 ms, 200 ms
            try {
                released = third.await(20, TimeUnit.SECONDS); // blocks the thread: no scheduling point (the guard only bounds a failure)
            } finally {
                BlockedLoops.stop();
            }
        } finally {
            log.removeHandler(h);
        }
        starved.close();
        assertThat(released).as("the third report of this thread came").isTrue();
        assertThat(left.get()).isEqualTo(Coroutine.State.PARKED);
        String itself = "thread " + Scheduler.describe(detector.get()) + " for ";
        synchronized (warnings) {
            assertThat(warnings).as("no report of the detector's own thread").noneMatch(m -> m.contains(itself));
            assertThat(warnings).filteredOn(m -> m.contains(mine)).first().asString()
                    .startsWith("main context 'main' has blocked " + mine);
        }
        assertThat(ownHasWork[0]).as("the detector's scheduler has work").isFalse();
        assertThat(unwound.getNow("never unwound")).as("closed by the detector").isEqualTo("unwound");
    }
}
