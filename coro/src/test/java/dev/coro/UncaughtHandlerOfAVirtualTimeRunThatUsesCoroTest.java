package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The uncaught-exception handler that a virtual-time run hands the failures its exception cannot carry may
 * itself use coro as the thread's code after the run would (a run of its own, a pool it starts, submits to and
 * closes), or throw: either way the run throws its own exception once, as it is, the handler is called once,
 * and nothing of the handler's is left on the thread. The JVM's default handler, which a thread without a
 * handler of its own hands to, is called the same way (set here, restored after).
 */
@ExtendWith(FreshThread.class)
class UncaughtHandlerOfAVirtualTimeRunThatUsesCoroTest {

    /** A run whose body throws {@code boom}, which the run's other failure (a worker's report) holds already. */
    static Throwable runThatCannotCarryItsOtherFailure(IllegalStateException boom) {
        return catchThrowable(() -> VirtualTime.run(() -> {
            Channel<RuntimeException> errors = new Channel<>("errors", 0);
            Coroutine.create("worker", () -> {
                errors.send(boom);
                errors.close();
                throw boom;
            });
            throw errors.receive(); // the worker's report holds boom: it goes to the handler
        }));
    }

    @Test
    @Timeout(10)
    void aDefaultHandlerThatRunsVirtualTimeAndAPoolOfItsOwnIsCalledOnceAndTheRunThrowsItsCauseOnce() {
        IllegalStateException boom = new IllegalStateException("boom");
        Thread me = Thread.currentThread();
        List<String> log = new ArrayList<>();
        Thread.UncaughtExceptionHandler before = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> {
            if (t != me) {
                return; // another thread's: none of this test's
            }
            log.add("handler called for " + e.getCause().getMessage());
            VirtualTime.run(() -> {
                Coroutine.sleep(Duration.ofHours(1)); // an hour of the handler's own run's virtual clock
                log.add("its own run slept an hour");
            });
            try (CoroutinePool pool = CoroutinePool.start(1)) {
                log.add("its pool gave " + pool.submit(() -> 6 * 7).join());
            }
        });
        Throwable thrown;
        try {
            thrown = runThatCannotCarryItsOtherFailure(boom);
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(before);
        }
        assertThat(thrown).isSameAs(boom);
        assertThat(boom.getSuppressed()).isEmpty();
        assertThat(log).containsExactly("handler called for boom", "its own run slept an hour", "its pool gave 42");
        // the completion of the pool's future posts this thread a wake-up, which may come after the join saw the
        // future complete (the pool's close() waited for it to be posted): a scheduling point takes it in
        Coroutine.yield();
        assertThat(LoopProbe.hasPending()).as("nothing left on the thread").isFalse();
    }

    @Test
    @Timeout(10)
    void aHandlerThatThrowsIsCalledOnceAndTheRunStillThrowsItsOwnCause() {
        IllegalStateException boom = new IllegalStateException("boom");
        List<Throwable> reported = new ArrayList<>();
        Thread.currentThread().setUncaughtExceptionHandler((t, e) -> {
            reported.add(e);
            throw new IllegalStateException("this handler cannot report");
        });
        Throwable thrown = runThatCannotCarryItsOtherFailure(boom);
        assertThat(thrown).isSameAs(boom);
        assertThat(boom.getSuppressed()).isEmpty();
        assertThat(reported).singleElement().isInstanceOf(CoroutineException.class).extracting(Throwable::getCause).isSameAs(boom);
    }
}
