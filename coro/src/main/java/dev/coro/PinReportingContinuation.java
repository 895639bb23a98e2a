package dev.coro;

import java.util.EnumSet;
import jdk.internal.vm.Continuation;
import jdk.internal.vm.ContinuationScope;

/**
 * A continuation that reports a refused suspension as a {@link PinnedException} in plain words, and
 * that can list its own frames apart from those of the continuations nested in it.
 */
class PinReportingContinuation extends Continuation {

    /**
     * A walker of this continuation's own frames alone; null until a generator's body first ran
     * nested in it ({@link #bindWalkers}). The JDK binds a walker to the innermost continuation
     * nested in this one when it is made, so it is made while none is: while this one runs.
     */
    private StackWalker walker;

    PinReportingContinuation(ContinuationScope scope, Runnable target) {
        super(scope, target);
    }

    @Override
    protected void onPinned(Pinned reason) {
        throw PinnedException.pinned(switch (reason) {
            case NATIVE -> "a native frame is on its stack (a JNI call, an FFM upcall, or a class initializer)";
            case MONITOR -> "it holds a monitor the JDK cannot move off the thread";
            case CRITICAL_SECTION -> "it is inside a JDK critical section";
            case EXCEPTION -> "the JVM is in the middle of throwing an exception it cannot suspend (stack overflow or out of memory)";
        });
    }

    /**
     * Makes the walkers of {@code c} and of the continuations of this library it runs nested in, those
     * not made yet: called by a generator's body as it starts, on the stack of its first consumer, which
     * runs them all (none has a continuation nested in it but the one it runs). Once per continuation, so
     * that switches and resumes pay nothing.
     */
    static void bindWalkers(Continuation c) {
        for (; c instanceof PinReportingContinuation p; c = c.getParent()) {
            if (p.walker == null) {
                p.walker = p.stackWalker(EnumSet.of(StackWalker.Option.SHOW_REFLECT_FRAMES));
            }
        }
    }

    /**
     * This continuation's own frames, innermost first, as {@link #getStackTrace()} lists them, without
     * those of the continuation nested in it that it is suspended in; null if it has no walker (no
     * generator's body started nested in it).
     */
    StackTraceElement[] ownFrames() {
        StackWalker w = walker;
        return w == null ? null : w.walk(s -> s.map(StackWalker.StackFrame::toStackTraceElement).toArray(StackTraceElement[]::new));
    }
}
