package dev.coro;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Helpers that the scenarios of {@link AllocationFailingCopy} share: loaded into each copy with the scenario
 * (as its own classes are), so that they see the copy's classes and its package-private members.
 */
final class InTheCopy {

    private InTheCopy() {
    }

    /** Whether the allocation being made is the calling coroutine's: what runs while it waits does not count. */
    static BooleanSupplier here() {
        Context c = Coroutine.current().context;
        return () -> {
            try {
                Scheduler s = Scheduler.currentOrNull();
                return s != null && s.currentContext() == c;
            } catch (RuntimeException e) {
                return false; // asked in the middle of a switch
            }
        };
    }

    /** Whether the allocation being made is the calling thread's (any of its contexts'), not a pool thread's. */
    static BooleanSupplier thisThread() {
        Thread caller = Thread.currentThread();
        return () -> Thread.currentThread() == caller;
    }

    /** Whether the allocation being made is {@code poolThread}'s main's, not a body's it runs. */
    static BooleanSupplier outsideBodies(Thread poolThread) {
        return () -> Thread.currentThread() == poolThread && !inABody();
    }

    /** Whether the calling thread runs a body now (its allocations are the body's, not its thread's main's). */
    private static boolean inABody() {
        return StackWalker.getInstance().walk(frames -> frames.anyMatch(f -> f.getMethodName().equals("runBody")));
    }

    /** A scenario given the list of what reached the JVM's default uncaught-exception handler. */
    interface NotingUncaught {
        /** Runs the scenario; {@code uncaught} holds each failure handed to the handler, as "thread: failure". */
        void run(List<String> uncaught) throws InterruptedException;
    }

    /** Runs {@code scenario} with a default uncaught-exception handler that notes what it gets, restored after. */
    static void notingUncaught(NotingUncaught scenario) throws InterruptedException {
        Thread.UncaughtExceptionHandler before = Thread.getDefaultUncaughtExceptionHandler();
        List<String> uncaught = Collections.synchronizedList(new ArrayList<>());
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> uncaught.add(t.getName() + ": " + e));
        try {
            scenario.run(uncaught);
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(before);
        }
    }
}
