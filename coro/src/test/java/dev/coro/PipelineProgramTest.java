package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.management.CoroutinesManagement;
import dev.coro.management.SchedulerInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Whole programs a user would write around a pipeline of a generator, channels and a pool. */
@ExtendWith(FreshThread.class)
class PipelineProgramTest {

    /** One job of the pipeline: its input and the future of its result. */
    record Job(int n, CompletableFuture<Integer> result) {
    }

    @Test
    void aPipelineClosedWhileValuesAreInFlightDeliversEveryResultAndReportsTheFailedStage() {
        Channel<Job> jobs = new Channel<>("jobs", 4);
        List<Job> all = new ArrayList<>();
        List<SchedulerInfo> seen = new ArrayList<>();
        CoroutinePool pool = CoroutinePool.start(2);
        for (int w = 0; w < 3; w++) {
            int k = w;
            pool.execute(() -> {
                for (Job j : jobs) {
                    if (j.n() == 13) {
                        j.result().completeExceptionally(new IllegalArgumentException("unlucky " + j.n()));
                        throw new IllegalStateException("worker " + k + " gave up at " + j.n());
                    }
                    Coroutine.yield();
                    j.result().complete(j.n() * j.n());
                }
            });
        }
        Generator<Integer> numbers = Generator.of("numbers", out -> {
            for (int i = 1; i <= 40; i++) {
                out.emit(i);
            }
        });
        Coroutine producer = Coroutine.create("producer", () -> {
            try (numbers) {
                for (int n : numbers) {
                    Job j = new Job(n, new CompletableFuture<>());
                    all.add(j);
                    jobs.send(j);
                    if (n == 20) {
                        seen.addAll(CoroutinesManagement.mxBean().getSchedulers());
                    }
                }
            } finally {
                jobs.close();
            }
        });
        Throwable closed = catchThrowable(pool::close);
        assertThat(producer.isFinished()).isTrue();
        assertThat(numbers.state()).isEqualTo(Generator.State.FINISHED);
        assertThat(closed).isInstanceOf(CoroutineException.class)
                .hasMessageContaining("gave up at 13")
                .hasMessageContaining("running the body of execute #");
        assertThat(all).hasSize(40);
        int sum = 0;
        for (Job j : all) {
            if (j.n() == 13) {
                assertThat(catchThrowable(() -> Coroutine.await(j.result())))
                        .isInstanceOf(CompletionException.class).hasRootCauseMessage("unlucky 13");
            } else {
                sum += Coroutine.await(j.result());
            }
        }
        int expected = 0;
        for (int i = 1; i <= 40; i++) {
            expected += i == 13 ? 0 : i * i;
        }
        assertThat(sum).isEqualTo(expected);
        assertThat(seen).extracting(SchedulerInfo::threadName).contains(Thread.currentThread().getName());
        assertThat(pool.toString()).contains("closed");
    }

    @Test
    void aWorkerSelectLoopOverItsJobsAndAShutdownFutureTakesEveryJobOnceAndHoldsOneCallback() {
        CompletableFuture<Channel<Integer>> jobsOf = new CompletableFuture<>();
        CompletableFuture<String> shutdown = new CompletableFuture<>();
        List<Integer> dependents = new ArrayList<>();
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            CompletableFuture<Long> worker = pool.submit(() -> {
                Channel<Integer> jobs = new Channel<>("jobs", 8);
                jobsOf.complete(jobs);
                long sum = 0;
                int taken = 0;
                Select<Integer> next = new Select<Integer>().onReceive(jobs, n -> n).onComplete(shutdown, s -> -1);
                for (int i = 0; i < 10_000; i++) {
                    int n = next.select();
                    if (n < 0) {
                        break;
                    }
                    sum += n;
                    if (++taken % 100 == 0) {
                        dependents.add(shutdown.getNumberOfDependents());
                    }
                }
                return sum;
            });
            Channel<Integer> jobs = Coroutine.await(jobsOf);
            for (int i = 1; i <= 1000; i++) {
                jobs.send(i);
            }
            shutdown.complete("stop");
            assertThat(Coroutine.await(worker)).isEqualTo(1000L * 1001 / 2);
        }
        assertThat(dependents).hasSize(10).allMatch(d -> d <= 1);
    }
}
