package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A worker pool a user would write: jobs on one channel, a shared rate limit, timeouts, results through futures. */
@ExtendWith(FreshThread.class)
class WorkerPoolProgramTest {

    /** A job: its number, whether its backend never answers, and the future of its result. */
    record Job(int n, boolean hangs, CompletableFuture<Integer> result) {
    }

    @Test
    void jobsLimitedByATokenBucketAndCutShortByTimeoutsEachCompleteOnceAndTheSelectLoopHoldsOneCallbackPerFuture() {
        int count = 40;
        Channel<Job> jobs = new Channel<>("jobs", 4);
        Channel<Integer> tokens = new Channel<>("tokens", 3);
        CompletableFuture<Integer> never = new CompletableFuture<>();
        Map<Integer, String> workerOf = new ConcurrentHashMap<>();
        List<Job> all = new ArrayList<>();
        int[] refills = {0};
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            for (int w = 0; w < 4; w++) {
                pool.execute(() -> {
                    for (Job j : jobs) {
                        tokens.receive();
                        workerOf.put(j.n(), Coroutine.current().name());
                        try {
                            int r = Coroutine.withTimeout(Duration.ofMillis(j.hangs() ? 10 : 10_000), () -> {
                                Coroutine.sleep(Duration.ofMillis(j.n() % 3));
                                return j.hangs() ? Coroutine.await(never) : j.n() * 2;
                            });
                            j.result().complete(r);
                        } catch (CoroutineTimeoutException e) {
                            j.result().completeExceptionally(e);
                        }
                    }
                });
            }
            Coroutine refiller = Coroutine.create("refiller", () -> {
                while (true) {
                    Coroutine.sleep(Duration.ofMillis(1));
                    if (tokens.trySend(1)) {
                        refills[0]++;
                    }
                }
            });
            Coroutine feeder = Coroutine.create("feeder", () -> {
                for (int i = 0; i < count; i++) {
                    Job j = new Job(i, i % 7 == 3, new CompletableFuture<>());
                    all.add(j);
                    jobs.send(j);
                }
                jobs.close();
            });
            Map<Integer, String> outcome = new HashMap<>();
            int idle = 0;
            while (outcome.size() < count) {
                Select<String> s = new Select<>();
                List<Job> pending = new ArrayList<>();
                for (Job j : all) {
                    if (!outcome.containsKey(j.n())) {
                        pending.add(j);
                        s.onComplete(j.result(), v -> j.n() + "=" + v);
                    }
                }
                s.onTimeout(Duration.ofMillis(5), () -> null);
                String r;
                try {
                    r = s.select();
                } catch (CompletionException e) {
                    // the job whose failure the select threw: another may have failed since, on a pool thread
                    Job failed = pending.stream().filter(j -> j.result().isCompletedExceptionally()
                            && j.result().exceptionNow() == e.getCause()).findFirst().orElseThrow();
                    assertThat(e.getCause()).isInstanceOf(CoroutineTimeoutException.class)
                            .hasMessageStartingWith("coroutine '" + workerOf.get(failed.n()) + "' timed out: withTimeout(PT0.01S)");
                    r = failed.n() + "=timed out";
                }
                if (r == null) {
                    idle++;
                } else {
                    String[] kv = r.split("=");
                    assertThat(outcome.put(Integer.parseInt(kv[0]), kv[1])).as(r).isNull();
                }
                for (Job j : pending) {
                    assertThat(j.result().getNumberOfDependents()).as("callbacks on job %d", j.n()).isLessThanOrEqualTo(1);
                }
                assertThat(idle).isLessThan(100_000);
            }
            assertThat(feeder.isFinished()).isTrue();
            refiller.close();
        }
        for (int i = 0; i < count; i++) {
            assertThat(outcomeOf(i, all)).isEqualTo(i % 7 == 3 ? "timed out" : String.valueOf(i * 2));
        }
        assertThat(never.getNumberOfDependents()).isLessThanOrEqualTo(2);
        assertThat(refills[0]).isGreaterThanOrEqualTo(count - 3);
    }

    /** What became of job {@code n}: its value, or {@code timed out}. */
    private static String outcomeOf(int n, List<Job> all) {
        CompletableFuture<Integer> f = all.get(n).result();
        return f.isCompletedExceptionally() ? "timed out" : String.valueOf(f.join());
    }
}
