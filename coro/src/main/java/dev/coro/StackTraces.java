package dev.coro;

import java.util.Arrays;
import java.util.Set;

/** The frames of suspended and parked contexts as their user sees them: the library's machinery cut off both ends. */
final class StackTraces {

    /** The library's classes whose frames form the machinery on top of a suspended stack. */
    private static final Set<String> LIBRARY = Set.of("dev.coro.Coroutine", "dev.coro.Scheduler",
            "dev.coro.Engine", "dev.coro.ContinuationEngine", "dev.coro.Channel", "dev.coro.Generator",
            "dev.coro.GeneratorContinuation", "dev.coro.PinReportingContinuation");
    /** The public types whose methods the user called: the top frame kept when the machinery is cut. */
    private static final Set<String> API = Set.of("dev.coro.Coroutine", "dev.coro.Channel", "dev.coro.Generator");
    private static final StackTraceElement[] NONE = new StackTraceElement[0];

    private StackTraces() {
    }

    /**
     * The frames of {@code c}, which is {@code SUSPENDED} or {@code PARKED}, innermost first: its
     * innermost call of the public API, then the caller's frames, down to its body.
     */
    static StackTraceElement[] of(Coroutine c) {
        StackTraceElement[] frames = c.isMain() ? mainFrames() : c.strand.stackTrace();
        return userFrames(frames);
    }

    /**
     * Main's frames while it is suspended: the calling thread's own stack below main's trampoline
     * (everything running now runs on top of main's stack).
     */
    private static StackTraceElement[] mainFrames() {
        StackTraceElement[] all = Thread.currentThread().getStackTrace();
        String engine = ContinuationEngine.class.getName();
        for (int k = 0; k < all.length; k++) {
            if (all[k].getClassName().equals(engine) && all[k].getMethodName().equals("trampoline")) {
                return Arrays.copyOfRange(all, k + 1, all.length);
            }
        }
        return NONE;
    }

    /**
     * Cuts off the leading machinery frames, keeping the last one that belongs to the public API,
     * and the trailing ones (how a coroutine's body is entered).
     */
    private static StackTraceElement[] userFrames(StackTraceElement[] frames) {
        int from = 0;
        int api = -1;
        while (from < frames.length && isLibrary(frames[from])) {
            if (API.contains(outerClass(frames[from]))) {
                api = from;
            }
            from++;
        }
        int to = frames.length;
        while (to > from && isLibrary(frames[to - 1])) {
            to--;
        }
        return Arrays.copyOfRange(frames, api >= 0 ? api : from, to);
    }

    private static boolean isLibrary(StackTraceElement f) {
        return f.getClassName().startsWith("jdk.internal.vm.") || LIBRARY.contains(outerClass(f));
    }

    private static String outerClass(StackTraceElement f) {
        String n = f.getClassName();
        int dollar = n.indexOf('$');
        return dollar < 0 ? n : n.substring(0, dollar);
    }
}
