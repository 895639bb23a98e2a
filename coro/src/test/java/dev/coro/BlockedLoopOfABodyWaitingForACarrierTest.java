package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The blocked-loop detector does not report a context whose code does not run because its virtual thread waits
 * for a carrier: on the thread engine a switch hands the turn to the body's own virtual thread, which, while
 * every carrier is busy (a virtual-thread-per-request server under load), waits to be run as long as it takes.
 * That is load, not a context holding its thread: it had been reported, the stack it showed empty (a body's
 * thread not mounted yet) or the engine's own wait for the turn, once per request. On the continuation engine a
 * body runs on its owner's thread, which the switch never leaves: there is nothing to hand over.
 *
 * <p>The carriers are held by as many virtual threads as the scheduler has carriers, each running without
 * blocking until released; the detector is sampled by hand, with a clock of the test's own, meanwhile.
 */
@ExtendWith(FreshThread.class)
class BlockedLoopOfABodyWaitingForACarrierTest {

    private static final Duration THRESHOLD = Duration.ofMillis(100);


    @Test
    @Timeout(30)
    void aCoroutineWhoseVirtualThreadWaitsForACarrierIsNotReportedAsBlockingItsThread() throws Exception {
        assumeTrue(Engines.running().equals("threads"), "only the thread engine hands a switch to another thread");
        Thread self = Thread.currentThread();
        AtomicBoolean ran = new AtomicBoolean();
        Coroutine.create("starved", () -> { }); // something the stall would keep from running
        Coroutine handler = Coroutine.create("handler", () -> ran.set(true));
        AtomicBoolean release = new AtomicBoolean();
        AtomicInteger spinning = new AtomicInteger();
        List<Thread> holders = new ArrayList<>();
        for (int i = 0; i < Carriers.count(); i++) {
            holders.add(Thread.ofVirtual().name("holder-" + i).start(() -> {
                spinning.incrementAndGet();
                while (!release.get()) {
                    Thread.onSpinWait(); // holds its carrier: a virtual thread is unmounted only where it blocks
                }
            }));
        }
        while (spinning.get() < holders.size()) {
            Thread.onSpinWait(); // every carrier held
        }
        CompletableFuture<List<Object>> sampled = new CompletableFuture<>();
        Thread sampler = Thread.ofPlatform().name("sampler").start(() -> {
            try {
                while (self.getState() != Thread.State.WAITING && self.getState() != Thread.State.TIMED_WAITING) {
                    Thread.onSpinWait(); // main waits for its turn, handed to the handler's thread
                }
                boolean ranBefore = ran.get();
                Watchdog w = Watchdog.unstarted(THRESHOLD);
                long t = System.nanoTime();
                List<String> reports = new ArrayList<>(w.sample(t));
                reports.addAll(w.sample(t + THRESHOLD.toNanos()));
                reports.addAll(w.sample(t + 10 * THRESHOLD.toNanos()));
                boolean ranMeanwhile = ran.get();
                sampled.complete(List.of(ranBefore || ranMeanwhile,
                        reports.stream().filter(r -> r.contains(Scheduler.describe(self))).toList()));
            } catch (Throwable e) {
                sampled.completeExceptionally(e);
            } finally {
                release.set(true);
            }
        });
        handler.switchTo();
        sampler.join();
        for (Thread h : holders) {
            h.join();
        }
        List<Object> seen = sampled.get();
        assumeTrue(!(Boolean) seen.get(0), "a spare carrier ran the handler before the samples: no wait to sample");
        assertThat(ran).isTrue();
        assertThat((List<?>) seen.get(1)).as("reports of the test thread").isEmpty();
    }
}
