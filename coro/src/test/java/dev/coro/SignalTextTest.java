package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

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
 * caller, may suspend it, and leaves the scheduler as the rules say. A deadlock report, made in the
 * same places, runs no user code: only waits on channels can be in one (a wait on a future, a timer,
 * I/O or another thread is pending, and a thread with something pending reports no deadlock), and it
 * names them by their channels, not by the values sent.
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

    /** A value whose {@code toString()} would look at the scheduler and suspend its caller. */
    private static Object hostile(List<String> log) {
        return new Object() {
            @Override
            public String toString() {
                log.add("toString in " + Coroutine.current().name());
                Coroutine.yield();
                return "hostile";
            }
        };
    }

    @Test
    void aDeadlockReportNamesTheWaitsByTheirChannelsAndRunsNoUsersCode() {
        List<String> log = new ArrayList<>();
        Channel<Object> a = new Channel<>("a", 0);
        Channel<Object> b = new Channel<>("b", 0);
        Channel<Object> c = new Channel<>("c", 0);
        Channel<Object> d = new Channel<>("d", 0);
        Coroutine sender = Coroutine.create("sender", () -> a.send(hostile(log)));
        Coroutine selector = Coroutine.create("selector",
                () -> new Select<String>().onSend(b, hostile(log), () -> "sent").onReceive(c, v -> "got").select());
        Coroutine.yield(); // both park

        Throwable thrown = catchThrowable(() -> d.send(hostile(log)));

        assertThat(thrown).isInstanceOf(DeadlockException.class)
                .hasMessageStartingWith("main context 'main' cannot send to channel 'd': every other context of thread ");
        assertThat(((DeadlockException) thrown).waits()).containsExactly("main context 'main' would wait to send to channel 'd'",
                "coroutine 'sender' waits to send to channel 'a'",
                "coroutine 'selector' waits to select over send to channel 'b', receive from channel 'c'");
        assertThat(log).as("no toString() of a value ran").isEmpty();
        sender.close();
        selector.close();
    }

    @Test
    void aDeadlockReportMadeAsABodyEndsWithEveryoneElseParkedRunsNoUsersCode() {
        List<String> log = new ArrayList<>();
        Channel<Object> a = new Channel<>("a", 0);
        Channel<Object> d = new Channel<>("d", 0);
        Coroutine sender = Coroutine.create("sender", () -> a.send(hostile(log)));
        Coroutine.yield(); // it parks
        Coroutine.create("ender", () -> { });

        Throwable thrown = catchThrowable(() -> d.send(hostile(log))); // the ender runs, ends: main's wait is cancelled

        assertThat(thrown).isInstanceOf(DeadlockException.class)
                .hasMessage("coroutine 'ender' ended and every context left on thread " + ThreadNames.thread() + " is parked"
                        + " with no timer pending, so nothing could ever wake them; main's wait is cancelled (deadlock):\n"
                        + "  main context 'main' waits to send to channel 'd'\n  coroutine 'sender' waits to send to channel 'a'");
        assertThat(((DeadlockException) thrown).waits()).containsExactly("main context 'main' waits to send to channel 'd'",
                "coroutine 'sender' waits to send to channel 'a'");
        assertThat(log).as("no toString() of a value ran").isEmpty();
        sender.close();
    }
}
