package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.ref.Reference;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A {@code dev.coro} log handler that uses the library when it gets one of the warnings the class initializers find
 * (the fallback to the thread engine, a {@code coro.seed} or {@code coro.spinNanos} it cannot read) works: it gets
 * them once the thread's scheduler is made, outside the initializers, so a coroutine it runs on its own thread runs,
 * and one it runs on another thread, which it waits for, does not wait for the initializer that waits for it. Checked
 * in child JVMs, where the library's classes are initialized afresh.
 */
@Tag("child-jvm") // its checks run in child JVMs, which mutation testing does not mutate
class SetUpWarningHandlerUsesTheLibraryTest {

    @Test
    @Timeout(180)
    void aHandlerRunsCoroutinesOnItsThreadAndWaitsForAnotherThreadsOnEachSetUpWarning() throws Exception {
        // no exports flag: the automatic choice falls back to the thread engine and warns
        String out = child("-Dcoro.seed=x", "-Dcoro.spinNanos=y");
        assertThat(out.lines()).as("it printed:%n%s", out).containsExactly(
                "warning on main: coro.seed must be a whole number (a long), not 'x'; seeding with 0 instead",
                "  on its thread: FINISHED",
                "  on another thread: FINISHED",
                "warning on main: coro.spinNanos must be a whole number of nanoseconds (0 or more), not 'y'; spinning 100000 ns instead",
                "  on its thread: FINISHED",
                "  on another thread: FINISHED",
                "warning on main: coro runs on its thread engine: jdk.internal.vm is not exported to this library, so each"
                        + " coroutine runs on a virtual thread of its own and every switch costs a virtual-thread park/unpark"
                        + " handoff (several times the continuation engine's switch, tens of times when main is a platform"
                        + " thread). Add the JVM flag --add-exports java.base/jdk.internal.vm=ALL-UNNAMED for the continuation"
                        + " engine, or set -Dcoro.engine=threads to choose this engine and silence this warning.",
                "  on its thread: FINISHED",
                "  on another thread: FINISHED",
                "main: FINISHED");
    }

    @Test
    @Timeout(180)
    void withNoEngineToRunTheWarningsAreLoggedStillAndTheHandlersUseIsRefusedNamingTheFlag() throws Exception {
        String out = child("-Dcoro.engine=continuation", "-Dcoro.seed=x");
        String refusal = "java.lang.UnsupportedOperationException: cannot use the continuation engine asked for by"
                + " -Dcoro.engine='continuation': add the JVM flag --add-exports java.base/jdk.internal.vm=ALL-UNNAMED"
                + " (the package jdk.internal.vm is not exported to this library), or remove the property to fall back"
                + " to the thread engine";
        assertThat(out.lines()).as("it printed:%n%s", out).containsExactly(
                "warning on main: coro.seed must be a whole number (a long), not 'x'; seeding with 0 instead",
                "  on its thread: threw " + refusal,
                "  on another thread: threw " + refusal,
                "main: threw " + refusal);
    }

    /** Runs {@link HandlerUsingCoro} in a child JVM with {@code properties} and no exports flag; returns what it printed. */
    private static String child(String... properties) throws IOException, InterruptedException {
        return ChildJvms.runWithOnly(HandlerUsingCoro.class, List.of(properties));
    }

    /** The child: a {@code dev.coro} handler that uses the library at each warning, then main's first coroutine. */
    static final class HandlerUsingCoro {

        /**
         * Installs the handler, then runs a coroutine, printing its end state or what was thrown.
         *
         * @param args ignored
         */
        public static void main(String[] args) {
            Logger log = Logger.getLogger("dev.coro");
            log.setUseParentHandlers(false);
            log.addHandler(new Handler() {
                @Override
                public void publish(LogRecord r) {
                    System.out.println("warning on " + Thread.currentThread().getName() + ": " + r.getMessage());
                    System.out.println("  on its thread: " + runOne());
                    String[] other = {"did not end within 10 s (it waits for the thread that logs)"};
                    Thread t = new Thread(() -> other[0] = runOne());
                    t.setDaemon(true);
                    t.start();
                    try {
                        t.join(10_000); // a bound for the child, lest it hang: it ends at once unless it waits for this thread
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                    System.out.println("  on another thread: " + other[0]);
                }

                @Override
                public void flush() {
                }

                @Override
                public void close() {
                }
            });
            System.out.println("main: " + runOne());
            Reference.reachabilityFence(log); // a logger nothing holds may be collected, its handler with it
        }

        /** Creates a coroutine, runs it to its end, and says its state, or what was thrown. */
        private static String runOne() {
            try {
                Coroutine c = Coroutine.create(Coroutine::yield);
                c.switchTo();
                c.switchTo();
                return c.state().toString();
            } catch (RuntimeException e) {
                return "threw " + e;
            }
        }
    }
}
