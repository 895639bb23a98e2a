package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A whole program: a fan-out of calls to a backend on a plain executor, a semaphore bounding how many
 * are in flight, a fan-in selecting over the results and a cancellation, on a virtual clock.
 *
 * <p>A call runs on a thread of the executor, so while a job awaits it the virtual clock holds for as long, in
 * real time, as the next timer is away (docs/TIME.md): the next jobs' sleeps, a step of the program. A step of a
 * second lets a loaded machine take its time to run the call, where one of ten milliseconds let the clock jump
 * past a call that was late, and its job's result came a step later. The last step, jobs 7 to 9 awaiting calls
 * that never complete until the deadline, holds the clock a second of real time by design.
 */
@ExtendWith(FreshThread.class)
class FanOutProgramTest {

    @Test
    void aDeadlineCancelsTheCallsInFlightClosesTheJobsWaitingForAPermitAndLosesNoPermit() throws Exception {
        int jobs = 20;
        int limit = 3;
        CountDownLatch neverBefore = new CountDownLatch(1);
        AtomicReferenceArray<CompletableFuture<Integer>> calls = new AtomicReferenceArray<>(jobs);
        List<String> trace = new ArrayList<>();
        ExecutorService backend = Executors.newFixedThreadPool(limit + 1);
        try {
            VirtualTime.run(() -> {
                Semaphore permits = new Semaphore("backend", limit);
                Channel<String> results = new Channel<>("results", 4);
                Channel<String> cancel = new Channel<>("cancel", 0);
                int[] inFlight = {0, 0};
                List<Coroutine> workers = new ArrayList<>();
                // main's first park runs the last coroutine created: jobs 19, 18, 17 take the permits first,
                // and the others queue for them in the order they ran, 16 down to 0
                for (int i = 0; i < jobs; i++) {
                    int n = i;
                    workers.add(Coroutine.create("job " + n, () -> {
                        String outcome;
                        try {
                            outcome = permits.withPermit(() -> {
                                inFlight[1] = Math.max(inFlight[1], ++inFlight[0]);
                                try {
                                    Coroutine.sleep(Duration.ofSeconds(1)); // a second: see the class comment
                                    CompletableFuture<Integer> call = CompletableFuture.supplyAsync(() -> {
                                        if (n < 10) {
                                            try {
                                                neverBefore.await();
                                            } catch (InterruptedException e) {
                                                Thread.currentThread().interrupt();
                                            }
                                        }
                                        return n * n;
                                    }, backend);
                                    calls.set(n, call);
                                    return "ok " + n + "=" + Coroutine.await(call) + " at " + ms();
                                } finally {
                                    inFlight[0]--;
                                }
                            });
                        } catch (CancellationException e) {
                            outcome = e.getMessage();
                        }
                        results.send(outcome);
                    }));
                }
                Coroutine.create("deadline", () -> {
                    Coroutine.sleep(Duration.ofSeconds(6));
                    cancel.send("deadline");
                });
                Select<String> next = new Select<String>()
                        .onReceive(results, r -> r)
                        .onReceive(cancel, why -> "cancel: " + why + " at " + ms());
                List<String> ok = new ArrayList<>();
                String dump = null;
                for (int round = 0; round < jobs + 1; round++) {
                    String r = next.select();
                    trace.add(r);
                    if (r.startsWith("cancel")) {
                        dump = Coroutine.dump();
                        break;
                    }
                    ok.add(r);
                }
                assertThat(ok).hasSize(10);
                assertThat(dump).contains("coroutine 'job 9': PARKED, waits to await java.util.concurrent.CompletableFuture@",
                        "coroutine 'job 6': PARKED, waits to acquire a permit of Semaphore[backend, 0 of 3 permits free]");
                int closed = 0;
                for (int i = 0; i < jobs; i++) {
                    if (calls.get(i) == null) {
                        workers.get(i).close();
                        closed++;
                    }
                }
                assertThat(closed).isEqualTo(7);
                for (int i = 0; i < jobs; i++) {
                    CompletableFuture<Integer> call = calls.get(i);
                    if (call != null && !call.isDone()) {
                        call.cancel(true);
                    }
                }
                for (int i = 0; i < 3; i++) {
                    trace.add(results.receive());
                }
                for (Coroutine w : workers) {
                    w.join();
                }
                assertThat(permits.availablePermits()).isEqualTo(limit);
                assertThat(inFlight).containsExactly(0, limit);
                assertThat(results.tryReceive()).isEmpty();
            });
        } finally {
            neverBefore.countDown();
            backend.close();
        }
        assertThat(trace.subList(0, 10)).containsExactlyInAnyOrder(
                "ok 19=361 at 1000", "ok 18=324 at 1000", "ok 17=289 at 1000",
                "ok 16=256 at 2000", "ok 15=225 at 2000", "ok 14=196 at 2000",
                "ok 13=169 at 3000", "ok 12=144 at 3000", "ok 11=121 at 3000",
                "ok 10=100 at 4000");
        assertThat(trace.get(10)).isEqualTo("cancel: deadline at 6000");
        assertThat(trace.subList(11, 14)).allSatisfy(r -> assertThat(r)
                .matches("coroutine 'job [789]' cannot await java.util.concurrent.CompletableFuture@.*: it was cancelled"));
        assertThat(trace).hasSize(14);
    }

    private static String ms() {
        return String.valueOf(Coroutine.nanoTime() / 1_000_000);
    }
}
