package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The signal of an expired {@code withTimeout} names the wait it interrupts, and that text may be the
 * user's code: an awaited future's {@code toString()}. It is made in the context the signal unwinds,
 * once that context runs again, not while the timer expires (in the park of another context, or at
 * the end of another's body, with the run list half updated): code there sees that context as the
 * caller, may suspend it, and leaves the scheduler as the rules say.
 */
@ExtendWith(FreshThread.class)
class SignalTextTest {

    /**
     * A future whose {@code toString()} looks at the scheduler and runs {@code inside}; called again
     * from there (a dump that names the wait on it), it just says its name.
     */
    static final class Looking<T> extends CompletableFuture<T> {
        private final List<String> log;
        private final Runnable inside;
        private boolean looking;

        Looking(List<String> log, Runnable inside) {
            this.log = log;
            this.inside = inside;
        }

        @Override
        public String toString() {
            if (looking) {
                return "Looking";
            }
            looking = true;
            try {
                log.add("toString in " + Coroutine.current().name() + " (" + Coroutine.current().state() + ", index "
                        + Coroutine.currentId() + ")");
                inside.run();
                log.add("toString returns in " + Coroutine.current().name());
                return "Looking";
            } finally {
                looking = false;
            }
        }
    }

    /** The signal the awaiter's timeout throws, as {@link #awaiter} reports it. */
    private static final String SIGNAL = "coroutine 'awaiter': its withTimeout(PT0.01S) expired; its await Looking"
            + " throws this signal so that the body unwinds to it";

    /** The line of the dump that names the caller. */
    private static String callerLine() {
        return Coroutine.dump().lines().filter(l -> l.contains("(the caller)")).findFirst().orElse("no caller in the dump");
    }

    /**
     * Creates coroutine 'awaiter', which awaits {@code f} within a {@code withTimeout} of 10 ms and
     * sends what its timeout's signal says to {@code done}.
     */
    private static Coroutine awaiter(CompletableFuture<String> f, Channel<String> done) {
        return Coroutine.create("awaiter", () -> {
            try {
                Coroutine.withTimeout(Duration.ofMillis(10), () -> Coroutine.await(f));
            } catch (CoroutineTimeoutException e) {
                done.send(e.getCause().getMessage());
            }
        });
    }

    @Test
    void theToStringOfAnAwaitedFutureInATimeoutsSignalRunsInTheContextItUnwindsNotInTheParkOfAnother() {
        List<String> log = new ArrayList<>();
        Channel<String> done = new Channel<>("done", 1);
        awaiter(new Looking<>(log, () -> log.add(callerLine())), done);
        Coroutine.yield(); // the awaiter parks in its await
        String signal = done.receive(); // main parks: the timeout expires while the thread waits in main's park

        assertThat(signal).isEqualTo(SIGNAL);
        assertThat(log).containsExactly("toString in awaiter (RUNNING, index 1)",
                "  [1] coroutine 'awaiter': RUNNING (the caller)", "toString returns in awaiter");
    }

    @Test
    void theToStringOfAnAwaitedFutureInATimeoutsSignalRunsInTheContextItUnwindsNotAtTheEndOfAnothersBody() {
        List<String> log = new ArrayList<>();
        Channel<String> done = new Channel<>("done", 1);
        awaiter(new Looking<>(log, () -> log.add(callerLine())), done);
        Coroutine.yield(); // the awaiter parks in its await
        Coroutine ender = Coroutine.create("ender", () -> { });
        // main parks; the ender runs and ends with every other context parked: the thread waits for the
        // timer there, with the ender already out of the run list
        String signal = done.receive();

        assertThat(signal).isEqualTo(SIGNAL);
        assertThat(log).containsExactly("toString in awaiter (RUNNING, index 1)",
                "  [1] coroutine 'awaiter': RUNNING (the caller)", "toString returns in awaiter");
        assertThat(ender.state()).isEqualTo(State.FINISHED);
    }

    @Test
    void aYieldInsideTheToStringOfAnAwaitedFutureInATimeoutsSignalThrowsThatSignalAndTheTextNamesTheClass() {
        List<String> log = new ArrayList<>();
        Channel<String> done = new Channel<>("done", 1);
        awaiter(new Looking<>(log, Coroutine::yield), done);
        Coroutine.yield(); // the awaiter parks in its await
        String signal = done.receive(); // main parks: the timeout expires while the thread waits in main's park

        // the awaiter's scope has expired: a scheduling point inside it throws its signal, so the
        // toString cannot suspend there, and the text falls back to the class, as for any toString
        // that throws
        assertThat(log).containsExactly("toString in awaiter (RUNNING, index 1)");
        assertThat(signal).matches("coroutine 'awaiter': its withTimeout\\(PT0.01S\\) expired; its await "
                + Looking.class.getName().replace("$", "\\$") + "@[0-9a-f]+ \\(its toString\\(\\) threw dev.coro.CoroutineExit\\)"
                + " throws this signal so that the body unwinds to it");
    }
}
