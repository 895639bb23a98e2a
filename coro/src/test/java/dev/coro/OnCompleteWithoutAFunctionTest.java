package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A select's {@code onComplete} given a null function is refused at once, naming the parameter, before
 * anything happens: the stage is not asked for its future (which leaves a callback on a stage that is not
 * its own future), and a thread without a scheduler is not given one, as every null argument of the API is
 * refused before any effect.
 */
@Timeout(10)
class OnCompleteWithoutAFunctionTest {

    /** A stage of a class of its own that counts how often it is asked for its future, and answers a new one. */
    static final class CountingStage extends CompletableFuture<String> {
        int asked;

        @Override
        public CompletableFuture<String> toCompletableFuture() {
            asked++;
            return thenApply(v -> v);
        }
    }

    @Test
    void aNullFunctionIsRefusedBeforeTheStageIsAskedForItsFutureAndWithoutMakingTheThreadAScheduler() throws Exception {
        CountingStage stage = new CountingStage();
        AtomicReference<Throwable> refusal = new AtomicReference<>();
        AtomicReference<Scheduler> made = new AtomicReference<>();
        Thread plain = new Thread(() -> {
            refusal.set(catchThrowable(() -> new Select<String>().onComplete(stage, null)));
            made.set(Scheduler.currentOrNull());
        }, "plain");
        plain.start();
        plain.join();
        assertThat(refusal.get()).isInstanceOf(NullPointerException.class).hasMessage("f");
        assertThat(stage.asked).as("times the stage was asked for its future").isZero();
        assertThat(stage.getNumberOfDependents()).as("callbacks left on the stage").isZero();
        assertThat(made.get()).as("the scheduler of the plain thread").isNull();
    }

    @Test
    void aNullStageIsRefusedNamingItBeforeTheFunctionIsLookedAt() {
        assertThat(catchThrowable(() -> new Select<String>().onComplete(null, null)))
                .isInstanceOf(NullPointerException.class).hasMessage("stage");
    }
}
