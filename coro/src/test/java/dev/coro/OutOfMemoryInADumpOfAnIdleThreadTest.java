package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An {@link OutOfMemoryError} as a thread that waits in its event loop sets up, or ends, a dump another thread
 * asked of it (its scheduler unbound meanwhile, so that the user's code in the dump cannot suspend it) leaves
 * the thread with its one scheduler: the next look-up finds that scheduler, bound again, instead of refusing
 * for good as if the dump still ran, or making a second scheduler; and its main, which the dump marked,
 * yields, creates and joins as before. Each allocation of the setting up and ending is made to fail in turn
 * ({@link AllocationFailingCopy}), each time on a fresh thread.
 */
@Timeout(60)
class OutOfMemoryInADumpOfAnIdleThreadTest {

    @Test
    void aDumpOfAnIdleThreadThatFailedForWantOfMemoryLeavesTheThreadItsOneSchedulerBound() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "dumpWhileIdle");
    }

    /** Runs in the copy. */
    static final class Scenario {

        private Scenario() {
        }

        /** Whether the allocation being made is one of the dump's setting up or ending, not of the dump itself. */
        private static boolean inObserveIdle() {
            return StackWalker.getInstance().walk(frames -> frames
                    .filter(f -> f.getClassName().startsWith("dev.coro.") && !f.getClassName().startsWith(AllocationFailures.class.getName())
                            && !f.getClassName().startsWith(Scenario.class.getName()))
                    .findFirst().map(f -> f.getClassName().equals(Scheduler.class.getName()) && f.getMethodName().equals("observeIdle"))
                    .orElse(false));
        }

        /** Asks the calling thread's scheduler for its dump, as another thread's dump does, and waits for it in the event loop. */
        private static String dumpWhileWaiting(Scheduler s) {
            CompletableFuture<String> answer = new CompletableFuture<>();
            MonitorSupport.DumpRequest.ask(s, answer, 10);
            return Coroutine.await(answer); // main parks: the request runs in the idle wait
        }

        static void dumpWhileIdle() throws InterruptedException {
            AtomicInteger failedTrials = new AtomicInteger();
            AllocationFailures.eachInTurn(k -> {
                Thread self = Thread.currentThread();
                Scheduler s = Scheduler.current();
                boolean failed = AllocationFailures.failing(k, Scenario::inObserveIdle, () -> dumpWhileWaiting(s));
                if (failed) {
                    failedTrials.incrementAndGet();
                }
                assertThat(Scheduler.current()).as("the thread's scheduler").isSameAs(s);
                assertThat(Scheduler.currentOrNull()).isSameAs(s);
                assertThat(Monitoring.live().stream().filter(x -> x.owner == self).count()).as("schedulers of the thread").isEqualTo(1);
                Coroutine c = Coroutine.create("c", Coroutine::yield);
                Coroutine.yield();
                c.join();
                assertThat(dumpWhileWaiting(s)).startsWith("thread '" + self.getName() + "': ").contains("main: PARKED (current), waits to await");
                return failed;
            });
            // the scheduler's thread-local is set as the dump starts and set back as it ends: two allocations
            assertThat(failedTrials.get()).as("allocations that failed in turn").isEqualTo(2);
        }
    }
}
