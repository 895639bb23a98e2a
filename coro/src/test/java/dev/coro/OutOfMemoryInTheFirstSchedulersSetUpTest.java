package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An {@link OutOfMemoryError} in what the JVM's first scheduler turns on (the listener that registers the
 * Flight Recorder events, the blocked-loop detector and the JMX view the properties ask for) is thrown from
 * that thread's first use, which leaves the thread its scheduler, and leaves the set-up to the next scheduler
 * made, which does it, instead of those staying off for the JVM's life. The first allocation of the set-up is
 * made to fail ({@link AllocationFailingCopy}), in a copy of the library whose first scheduler it is.
 */
@Timeout(60)
class OutOfMemoryInTheFirstSchedulersSetUpTest {

    @Test
    void aFirstSchedulersSetUpThatFailedForWantOfMemoryIsDoneByTheNextSchedulerMade() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "firstSetUp");
    }

    /** Runs in the copy. */
    static final class Scenario {

        private Scenario() {
        }

        /** Whether the allocation being made is one of the first scheduler's set-up. */
        private static boolean inFirstScheduler() {
            return StackWalker.getInstance().walk(frames -> frames.anyMatch(f -> f.getMethodName().equals("firstScheduler")
                    && f.getClassName().equals(Monitoring.class.getName())));
        }

        /** Code run on a thread of its own. */
        @FunctionalInterface
        interface Body {
            /** Runs it. */
            void run() throws Exception;
        }

        /** Runs {@code body} on a new platform thread named {@code name}; what it throws is thrown here. */
        private static void onThread(String name, Body body) throws Throwable {
            Throwable[] broken = new Throwable[1];
            Thread t = Thread.ofPlatform().name(name).start(() -> {
                try {
                    body.run();
                } catch (Throwable e) {
                    broken[0] = e;
                }
            });
            t.join();
            if (broken[0] != null) {
                throw broken[0];
            }
        }

        static void firstSetUp() throws Throwable {
            Field listener = Monitoring.class.getDeclaredField("listener");
            listener.setAccessible(true);
            try {
                onThread("first", () -> {
                    Thread self = Thread.currentThread();
                    AllocationFailures.failAt(1, Scenario::inFirstScheduler);
                    Throwable thrown = null;
                    try {
                        Coroutine.create("a", () -> { });
                    } catch (OutOfMemoryError e) {
                        thrown = e;
                    }
                    assertThat(AllocationFailures.stop()).as("the set-up's allocation failed").isTrue();
                    assertThat(AllocationFailures.injected(thrown)).as("the first use threw it: " + thrown).isTrue();
                    assertThat(listener.get(null)).as("no listener handed to Flight Recorder").isNull();
                    Scheduler s = Scheduler.current();
                    assertThat(Monitoring.live().stream().filter(x -> x.owner == self).toList()).containsExactly(s);
                    Coroutine a = Coroutine.create("a", () -> { });
                    a.join();
                    assertThat(a.name()).isEqualTo("a");
                });
                onThread("next", () -> {
                    Coroutine.create("b", () -> { }).join();
                    assertThat(listener.get(null)).as("the listener handed to Flight Recorder by the next scheduler made").isNotNull();
                });
            } finally {
                Monitoring.release(); // Flight Recorder gives back the listener, and with it this copy
            }
        }
    }
}
