package dev.coro.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A failure of any stage of the {@code parallel_pipeline} example ends the whole pipeline and reaches
 * its caller: the generator's, a worker's, or the sink's, early or late, the others parked on full or
 * empty channels meanwhile. CI runs it once per engine, as {@link ExamplesTest}.
 */
class ParallelPipelineTest {

    /** How long a run may take before the test calls it hung: far beyond the milliseconds one takes. */
    private static final Duration HUNG = Duration.ofSeconds(60);

    @ParameterizedTest(name = "the {0} failing before number {1} ends the pipeline with its failure")
    @CsvSource({"generator, 1", "generator, 5", "generator, 12", "worker, 1", "worker, 5", "worker, 12",
        "sink, 1", "sink, 5", "sink, 12"})
    void aFailureOfAnyStageEndsThePipelineAndTheCallerGetsIt(String stage, int number) throws Exception {
        RuntimeException boom = new IllegalStateException(stage + " failed at " + number);
        Run run = runOnFreshThread((s, n) -> {
            if (s.equals(stage) && n == number) {
                throw boom;
            }
        });

        assertThat(run.failure()).as("what the caller of run() got").isSameAs(boom);
        // the refusals of the other stages, which the closes caused, carry it as their cause and are not
        // added; nor is a report of the pool's close(), as every stage's failure was read
        assertThat(boom.getSuppressed()).isEmpty();
        assertThat(run.output()).as("nothing is printed").isEmpty();
    }

    @Test
    void whenEveryWorkerFailsTheFirstFailureIsThrownWithTheOthersSuppressedInItNoneLost() throws Exception {
        Set<Throwable> thrown = ConcurrentHashMap.newKeySet();
        Run run = runOnFreshThread((s, n) -> {
            if (s.equals("worker")) {
                RuntimeException e = new IllegalStateException("worker failed at " + n);
                thrown.add(e);
                throw e;
            }
        });

        // a worker fails at its first number; the other too, unless the close reaches it first
        assertThat(thrown).as("the workers' failures").isNotEmpty().contains(run.failure());
        List<Throwable> reported = new ArrayList<>(List.of(run.failure().getSuppressed()));
        reported.add(run.failure());
        assertThat(reported).as("the first failure and those suppressed in it").containsExactlyInAnyOrderElementsOf(thrown);
        assertThat(run.output()).isEmpty();
    }

    @Test
    void withoutAFailureTheHookedRunPrintsWhatTheExamplePrints() throws Exception {
        List<String> seen = new ArrayList<>();
        Run run = runOnFreshThread((s, n) -> {
            synchronized (seen) {
                seen.add(s);
            }
        });

        assertThat(run.failure()).isNull();
        assertThat(run.output()).startsWith("generator: sent 12 numbers").contains("longest: 9 takes 19 steps");
        assertThat(seen).as("every stage met every number once").hasSize(36)
                .containsOnly("generator", "worker", "sink").filteredOn("sink"::equals).hasSize(12);
    }

    /** What a run printed, and what it threw (null if nothing). */
    private record Run(String output, Throwable failure) {
    }

    /** Runs the example on a thread of its own, so it starts with an empty run list; fails if it hangs. */
    private static Run runOnFreshThread(BiConsumer<String, Integer> step) throws InterruptedException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
                ParallelPipeline.run(out, step);
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "example-parallel_pipeline");
        t.setDaemon(true);
        t.start();
        assertThat(t.join(HUNG)).as("the pipeline ended (its thread is not left waiting)").isTrue();
        return new Run(bytes.toString(StandardCharsets.UTF_8), failure.get());
    }
}
