package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The blocked-loop detector under {@link VirtualTime}: it measures real time and scheduling points, so
 * the virtual clock's jumps (hours of sleeps that take no real time) are no stall, nor is a real wait
 * of the run for another thread, while a context that holds the thread inside the run is reported as
 * anywhere, its report naming the timers it stalls. Sampled by hand with the test's own clock.
 */
@ExtendWith(FreshThread.class)
class BlockedLoopUnderVirtualTimeTest {

    private static final Duration THRESHOLD = Duration.ofMillis(100);

    @Test
    void hoursOfVirtualSleepsAreNoStallAndAContextHoldingTheThreadInsideTheRunIsReportedInFull() {
        Watchdog w = Watchdog.unstarted(THRESHOLD);
        StackTraceElement blocking = new StackTraceElement("app.Blocker", "lookup", "Blocker.java", 8);
        w.stackOf = thread -> new StackTraceElement[] {blocking}; // the frames a blocked thread would show
        String me = Scheduler.describe(Thread.currentThread());
        long t = System.nanoTime();
        List<String> reports = new ArrayList<>();
        long[] k = {0};
        VirtualTime.run(() -> {
            Coroutine.create("sleeper", () -> {
                for (int i = 0; i < 10; i++) {
                    Coroutine.sleep(Duration.ofHours(1));
                }
            });
            for (int i = 0; i < 10; i++) {
                // a sample a whole threshold after the last one each time: the clock's jump of an hour
                // between two came at a scheduling point, as every sleep's park is one
                reports.addAll(mine(w.sample(t + ms(THRESHOLD.toMillis() * k[0]++)), me));
                Coroutine.sleep(Duration.ofMinutes(30));
            }
            assertThat(Coroutine.nanoTime()).isEqualTo(Duration.ofHours(5).toNanos());
            assertThat(reports).as("no stall across the virtual clock's jumps").isEmpty();
            // main holds the thread across two samples a threshold apart, the sleeper and its timer waiting
            reports.addAll(mine(w.sample(t + ms(THRESHOLD.toMillis() * k[0]++)), me));
            reports.addAll(mine(w.sample(t + ms(THRESHOLD.toMillis() * k[0]++)), me));
        });
        assertThat(reports).containsExactly("main context 'main' has blocked thread " + me + " for 100.000 ms without"
                + " reaching a scheduling point (yield, switchTo, a park, the end of its body): 1 other context cannot run"
                + " meanwhile, nor can its timers, I/O and posts from other threads be served. Its stack (thread " + me + "):\n"
                + "    at app.Blocker.lookup(Blocker.java:8)\n");
    }

    /**
     * A run whose context waits for another thread waits for real, in its event loop, the virtual clock
     * standing still: idle, not blocked, however long it lasts.
     */
    @Test
    @Timeout(30)
    void aRunThatWaitsForAnotherThreadForRealIsIdleNotBlocked() throws Exception {
        Watchdog w = Watchdog.unstarted(THRESHOLD);
        CompletableFuture<String> answer = new CompletableFuture<>();
        AtomicReference<Scheduler> its = new AtomicReference<>();
        Thread virtual = Thread.ofPlatform().name("virtual").start(() -> VirtualTime.run(() -> {
            its.set(Scheduler.current());
            Coroutine.create("sleeper", () -> Coroutine.sleep(Duration.ofHours(1)));
            assertThat(Coroutine.await(answer)).isEqualTo("late");
        }));
        String of = "thread " + Scheduler.describe(virtual) + " for ";
        while (its.get() == null || !its.get().loop.isIdle()) {
            Thread.onSpinWait();
        }
        long t = System.nanoTime();
        List<String> reports = new ArrayList<>();
        for (int k = 0; k <= 20; k++) {
            reports.addAll(mine(w.sample(t + ms(THRESHOLD.toMillis() * k)), of));
        }
        answer.complete("late");
        virtual.join();
        assertThat(reports).as("two seconds of samples of a thread idle in its run's real wait").isEmpty();
    }

    private static long ms(long millis) {
        return TimeUnit.MILLISECONDS.toNanos(millis);
    }

    /** The reports that name {@code thread}. */
    private static List<String> mine(List<String> reports, String thread) {
        return reports.stream().filter(r -> r.contains(thread)).toList();
    }
}
