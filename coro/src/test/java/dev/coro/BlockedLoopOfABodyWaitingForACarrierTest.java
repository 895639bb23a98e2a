package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
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
 *
 * <p>A thread parked in the turn's handoff between a generator's body and its consumer, while the context goes
 * on through them, is no such wait: the context holds its thread, and is reported.
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
    /**
     * A context that takes values from its generator in a loop, with no scheduling point (a generator's
     * {@code next()} and {@code emit} are none), holds its thread: it is reported on the thread engine as on the
     * continuation engine. There its code runs by turns on the body's thread and its own, handing the turn from
     * one to the other at each value, so a look at the thread running it often finds that thread parked in the
     * handoff, its turn passed to the other side; that is no wait for a carrier, and the stall goes on. Each pair
     * of looks is a fresh detector's, sampled by hand with a clock of the test's own, the second once the loop
     * has taken more values (it went through the handoff since the first).
     */
    @Test
    @Timeout(60)
    void aContextLoopingOverItsGeneratorWithoutASchedulingPointIsReportedAtEveryPairOfLooksOnBothEngines() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong taken = new AtomicLong();
        CountDownLatch looping = new CountDownLatch(1);
        Thread loop = Thread.ofPlatform().name("looping").start(() -> {
            Coroutine.create("other", () -> { }); // it stalls
            Generator<Integer> numbers = Generator.of("numbers", out -> {
                int i = 0;
                while (true) {
                    out.emit(i++);
                }
            });
            looping.countDown();
            while (!stop.get()) {
                numbers.next();
                taken.incrementAndGet();
            }
            numbers.close();
            Coroutine.yield();
        });
        List<String> missed = new ArrayList<>();
        try {
            looping.await();
            String it = "thread " + Scheduler.describe(loop) + " for ";
            for (int k = 0; k < 20; k++) {
                Watchdog w = Watchdog.unstarted(THRESHOLD);
                long t = System.nanoTime();
                w.sample(t);
                long before = taken.get();
                while (taken.get() < before + 2) {
                    Thread.onSpinWait(); // a whole next() since the first look: the turn went to the body and back
                }
                List<String> reports = w.sample(t + THRESHOLD.toNanos()).stream().filter(r -> r.contains(it)).toList();
                if (reports.size() != 1 || !reports.get(0).startsWith("main context 'main' has blocked " + it + "100.000 ms")) {
                    missed.add("pair " + k + ": " + reports);
                }
            }
        } finally {
            stop.set(true);
            loop.join();
        }
        assertThat(missed).as("pairs of looks that did not report the loop").isEmpty();
    }
}
