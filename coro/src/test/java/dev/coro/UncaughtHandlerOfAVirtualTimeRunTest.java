package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The thread's uncaught-exception handler that a virtual-time run hands the failures its exception cannot
 * carry is called once the run is over, and may use coro there as the thread's own code after the run: a
 * coroutine it creates and leaves asleep is the thread's, on the real clock, and wakes; the run's dropped
 * timers are none of its.
 */
@ExtendWith(FreshThread.class)
class UncaughtHandlerOfAVirtualTimeRunTest {

    @Test
    @Timeout(10)
    void aCoroutineTheHandlerCreatesAndLeavesAsleepIsTheThreadsAfterTheRunAndWakes() {
        IllegalStateException boom = new IllegalStateException("boom");
        Thread me = Thread.currentThread();
        List<String> log = new ArrayList<>();
        Coroutine[] logger = new Coroutine[1];
        me.setUncaughtExceptionHandler((t, e) -> {
            log.add("handler on a virtual clock: " + Scheduler.current().loop.isVirtual());
            logger[0] = Coroutine.create("logger", () -> {
                Coroutine.sleep(Duration.ofMillis(20));
                log.add("logged " + e.getMessage());
            });
            logger[0].switchTo(); // it sleeps: the handler returns with its timer pending
        });
        Throwable thrown = UncaughtHandlerOfAVirtualTimeRunThatUsesCoroTest.runThatCannotCarryItsOtherFailure(boom);
        assertThat(thrown).isSameAs(boom);
        logger[0].join();
        assertThat(log).containsExactly("handler on a virtual clock: false",
                "logged VirtualTime.run in main context 'main' of thread " + Scheduler.describe(me)
                        + " (state RUNNING): its body threw java.lang.IllegalStateException: boom, which the run's other failure holds"
                        + " already (as a cause or a suppressed exception), so that suppressed there it would make a"
                        + " cycle; it is suppressed in this report instead");
        assertThat(LoopProbe.hasPending()).as("no timer left").isFalse();
    }
}
