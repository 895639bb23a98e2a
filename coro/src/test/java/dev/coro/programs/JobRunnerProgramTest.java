package dev.coro.programs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.CoroutinePool;
import dev.coro.FreshThread;
import dev.coro.PoolsClosed;
import dev.coro.Semaphore;
import dev.coro.VirtualTime;
import dev.coro.programs.JobRunner.Job;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A job runner a user would write (JobRunner), run on a virtual clock for its whole trace and on pool threads for its ledger. */
@ExtendWith({FreshThread.class, PoolsClosed.class})
class JobRunnerProgramTest {

    private static Supplier<Integer> part(JobRunner r, String name, long ms, int value) {
        return () -> {
            try {
                Coroutine.sleep(Duration.ofMillis(ms));
                return value;
            } finally {
                r.note(name + " ends");
            }
        };
    }

    private static Supplier<String> replica(long ms, String value) {
        return () -> {
            Coroutine.sleep(Duration.ofMillis(ms));
            return value;
        };
    }

    private static List<String> onOneThread() {
        List<String> trace = new ArrayList<>();
        VirtualTime.run(() -> {
            JobRunner r = new JobRunner(new Semaphore("workers", 3), Duration.ofSeconds(1), 3, Duration.ofMillis(100), trace);
            Channel<Job> jobs = new Channel<>("jobs", 2);
            List<Job> all = List.of(
                    new Job("a", (run, n) -> replica(50, "A").get()),
                    new Job("b", (run, n) -> {
                        Coroutine.sleep(Duration.ofMillis(10));
                        if (n < 2) {
                            throw new IllegalStateException("503");
                        }
                        return "B";
                    }),
                    new Job("c", (run, n) -> {
                        throw new IllegalStateException("down");
                    }),
                    new Job("d", (run, n) -> replica(10_000, "D").get()),
                    new Job("e", (run, n) -> String.valueOf(run.fanOut("e", List.of(
                            part(run, "e/0", 30, 1), part(run, "e/1", 10, 2), part(run, "e/2", 20, 3))))),
                    new Job("f", (run, n) -> String.valueOf(run.fanOut("f", List.of(
                            part(run, "f/0", 30, 1),
                            () -> {
                                Coroutine.sleep(Duration.ofMillis(5));
                                if (n == 0) {
                                    throw new IllegalStateException("part lost");
                                }
                                return 2;
                            })))),
                    new Job("g", (run, n) -> run.hedge("g", replica(500, "P"), replica(100, "B"), Duration.ofMillis(300))),
                    new Job("h", (run, n) -> run.hedge("h", replica(5000, "P"), replica(5000, "B"), Duration.ofMillis(200))),
                    new Job("i", (run, n) -> String.valueOf(run.fanOut("i", List.of(
                            part(run, "i/0", 10_000, 1), part(run, "i/1", 10_000, 2))))));
            Coroutine.create("producer", () -> {
                for (Job j : all) {
                    jobs.send(j);
                    r.note("queued " + j.id());
                }
                jobs.close();
            });
            Coroutine.create("operator", () -> {
                Coroutine.sleep(Duration.ofMillis(1500));
                r.note("cancel i: " + r.cancel("i"));
            });
            r.runHere(jobs);
            r.note("all joined");
            assertThat(r.ledger.duplicates).isEmpty();
            assertThat(r.ledger.outcomes).containsOnlyKeys("a", "b", "c", "d", "e", "f", "g", "h", "i");
        });
        return trace;
    }

    @Test
    void theWholeTraceOfAJobRunnerOnAVirtualClockIsTheSameOnEveryRun() {
        List<String> first = onOneThread();
        assertThat(first).containsExactly(
                "0 ms queued a", "0 ms queued b", "0 ms queued c", "0 ms c attempt 0 failed: down",
                "0 ms queued d", "0 ms queued e", "0 ms queued f", "0 ms queued g", "0 ms queued h", "0 ms queued i",
                "10 ms b attempt 0 failed: 503", "100 ms c attempt 1 failed: down", "120 ms b attempt 1 failed: 503",
                "300 ms c attempt 2 failed: down", "300 ms c failed after 3 attempts",
                "330 ms b completed B", "350 ms a completed A", "450 ms g completed backup B",
                "455 ms f/0 ends",
                "455 ms f attempt 0 failed: coroutine 'job f' cannot receive from channel 'f results' (closed): "
                        + "no value is left in it, and none can come",
                "530 ms h completed none",
                "540 ms e/1 ends", "550 ms e/2 ends", "560 ms e/0 ends", "560 ms e completed [2, 3, 1]",
                "585 ms f/0 ends", "585 ms f completed [2, 1]",
                "1000 ms d timed out",
                "1500 ms i/0 ends", "1500 ms i/1 ends", "1500 ms i cancelled", "1500 ms cancel i: true",
                "1500 ms all joined");
        assertThat(onOneThread()).isEqualTo(first);
    }

    @Test
    void jobsFromPlainAndPoolThreadsRunOnAPoolAndEachEndsInTheLedgerOnceWithACancelFromAnotherThread() throws Exception {
        List<String> trace = new CopyOnWriteArrayList<>();
        CompletableFuture<Integer> never = new CompletableFuture<>();
        CountDownLatch doomedStarted = new CountDownLatch(2);
        CountDownLatch doomedUnwound = new CountDownLatch(2);
        CountDownLatch holdersStarted = new CountDownLatch(2);
        CompletableFuture<String> gate = new CompletableFuture<>();
        CoroutinePool pool = CoroutinePool.start(2);
        Thread operator = null;
        List<Thread> producers = new ArrayList<>();
        try {
            Semaphore permits = new Semaphore("workers", 3);
            JobRunner r = new JobRunner(permits, PoolsClosed.GUARD, 3, Duration.ofMillis(1), trace);
            Channel<Job> jobs = new Channel<>("jobs", 4);
            AtomicInteger producing = new AtomicInteger(5);
            Function<String, Runnable> producer = name -> () -> {
                for (int i = 0; i < 5; i++) {
                    String id = name + "-" + i;
                    jobs.send(switch (i) {
                        case 0 -> new Job(id, (run, n) -> id);
                        case 1 -> new Job(id, (run, n) -> {
                            if (n < 2) {
                                throw new IllegalStateException("503");
                            }
                            return "ok";
                        });
                        case 2 -> new Job(id, (run, n) -> {
                            throw new IllegalStateException("down");
                        });
                        case 3 -> new Job(id, Duration.ofMillis(20), (run, n) -> String.valueOf(Coroutine.await(never)));
                        default -> new Job(id, (run, n) -> String.valueOf(run.fanOutOn(pool, id,
                                List.of(() -> 1, () -> 2, () -> 3))));
                    });
                }
                if (name.equals("pool-1")) {
                    for (String holder : List.of("holder-0", "holder-1")) {
                        jobs.send(new Job(holder, (run, n) -> {
                            holdersStarted.countDown();
                            return Coroutine.await(gate);
                        }));
                    }
                }
                if (name.equals("plain-0")) {
                    jobs.send(new Job("hedged", (run, n) -> run.hedge("hedged",
                            () -> String.valueOf(Coroutine.await(never)), () -> "B", PoolsClosed.GUARD)));
                    jobs.send(new Job("doomed", (run, n) -> String.valueOf(run.fanOutOn(pool, "doomed", List.of(
                            doomedPart(never, doomedStarted, doomedUnwound), doomedPart(never, doomedStarted, doomedUnwound))))));
                }
                if (producing.decrementAndGet() == 0) {
                    jobs.close();
                }
            };
            for (int k = 0; k < 2; k++) {
                producers.add(Thread.ofPlatform().name("plain-" + k).start(producer.apply("plain-" + k)));
                pool.execute("producer " + k, producer.apply("pool-" + k));
            }
            operator = Thread.ofPlatform().name("operator").start(() -> {
                try {
                    doomedStarted.await();
                    holdersStarted.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                // the holders and the doomed job hold every permit: the waiter has not started or waits for one
                jobs.send(new Job("waiter", (run, n) -> "ran"));
                trace.add("cancel waiter: " + r.cancel("waiter"));
                if (producing.decrementAndGet() == 0) {
                    jobs.close();
                }
                trace.add("cancel doomed: " + r.cancel("doomed"));
                gate.complete("held");
            });
            List<CompletableFuture<Void>> started = r.runOn(pool, jobs);
            int cancelled = 0;
            for (CompletableFuture<Void> f : started) {
                try {
                    Coroutine.await(f);
                } catch (CancellationException e) {
                    cancelled++;
                }
            }
            operator.join();
            for (Thread t : producers) {
                t.join();
            }
            PoolsClosed.close(pool);
            assertThat(doomedUnwound.getCount()).isZero();
            assertThat(cancelled).as("%s %s", trace, r.ledger.outcomes).isEqualTo(2);
            assertThat(started).hasSize(25);
            assertThat(r.ledger.duplicates).isEmpty();
            assertThat(permits.availablePermits()).isEqualTo(3);
            Map<String, String> expected = new HashMap<>();
            for (String name : List.of("plain-0", "plain-1", "pool-0", "pool-1")) {
                expected.put(name + "-0", "completed " + name + "-0");
                expected.put(name + "-1", "completed ok");
                expected.put(name + "-2", "failed after 3 attempts");
                expected.put(name + "-3", "timed out");
                expected.put(name + "-4", "completed [1, 2, 3]");
            }
            expected.put("hedged", "completed backup B");
            expected.put("doomed", "cancelled");
            expected.put("holder-0", "completed held");
            expected.put("holder-1", "completed held");
            expected.put("waiter", r.ledger.outcomes.get("waiter"));
            assertThat(r.ledger.outcomes).isEqualTo(expected);
            // cancelled before its body started, or in its wait for a permit; or the permit came first and the
            // body, with no scheduling point left before its end, ran on to it (a cancel(true) closes at the next one)
            assertThat(r.ledger.outcomes.get("waiter")).isIn("cancelled before it started", "cancelled", "completed ran");
            assertThat(trace).contains("cancel waiter: true", "cancel doomed: true");
        } finally {
            gate.complete("held");
            for (Thread t : producers) {
                t.join();
            }
            PoolsClosed.close(pool);
        }
    }

    @Test
    void hedgedJobsAcrossPoolThreadsCancelledAtRandomFromAnotherThreadEachEndOnceAndLeaveThePoolsCloseNothingToReport()
            throws Exception {
        for (int round = 0; round < 20; round++) {
            CoroutinePool pool = CoroutinePool.start(2);
            Thread producer = null;
            Thread canceller = null;
            try {
                Semaphore permits = new Semaphore("workers", 2);
                JobRunner r = new JobRunner(permits, PoolsClosed.GUARD, 3, Duration.ofMillis(1), new CopyOnWriteArrayList<>());
                Channel<Job> jobs = new Channel<>("jobs", 2);
                int count = 32;
                producer = Thread.ofPlatform().name("producer").start(() -> {
                    for (int i = 0; i < count; i++) {
                        int k = i;
                        // the replicas yield a few times each, so that either may answer first; some backups fail
                        jobs.send(new Job("j" + k, (run, n) -> run.hedgeOn(pool, "j" + k, () -> {
                            yieldTimes(k % 5);
                            return "P";
                        }, () -> {
                            yieldTimes(k % 3);
                            if (k % 7 == 0 && n == 0) {
                                throw new IllegalStateException("backup failed");
                            }
                            return "B";
                        }, PoolsClosed.GUARD)));
                    }
                    jobs.close();
                });
                canceller = Thread.ofPlatform().name("canceller").start(() -> {
                    for (int i = 0; i < count; i += 4) {
                        r.cancel("j" + (i + ThreadLocalRandom.current().nextInt(4)));
                    }
                });
                List<CompletableFuture<Void>> started = r.runOn(pool, jobs);
                for (CompletableFuture<Void> f : started) {
                    try {
                        Coroutine.await(f);
                    } catch (CancellationException e) {
                        // its outcome is in the ledger: cancelled, or whatever its body came to first
                    }
                }
                producer.join();
                canceller.join();
                PoolsClosed.close(pool);
                assertThat(r.ledger.duplicates).isEmpty();
                assertThat(r.ledger.outcomes).hasSize(count);
                assertThat(r.ledger.outcomes.values()).allSatisfy(o -> assertThat(o).isIn("completed primary P",
                        "completed backup B", "cancelled", "cancelled before it started"));
                assertThat(permits.availablePermits()).isEqualTo(2);
            } finally {
                if (producer != null) {
                    producer.join();
                }
                if (canceller != null) {
                    canceller.join();
                }
                PoolsClosed.close(pool);
            }
        }
    }

    private static void yieldTimes(int n) {
        for (int i = 0; i < n; i++) {
            Coroutine.yield();
        }
    }

    /** A part of the doomed job: it waits for ever, counting its start and its unwinding. */
    private static Supplier<Integer> doomedPart(CompletableFuture<Integer> never, CountDownLatch started, CountDownLatch unwound) {
        return () -> {
            try {
                started.countDown();
                return Coroutine.await(never);
            } finally {
                unwound.countDown();
            }
        };
    }
}
