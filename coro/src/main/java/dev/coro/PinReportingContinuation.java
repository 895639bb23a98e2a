package dev.coro;

import java.util.EnumSet;
import jdk.internal.vm.Continuation;
import jdk.internal.vm.ContinuationScope;

/**
 * A continuation that reports a refused suspension as a {@link PinnedException} in plain words, and
 * that can list its own frames apart from those of the continuations nested in it.
 *
 * <p>On a virtual thread the JDK's own yield (a {@code Thread.sleep}, a lock's park, a {@code Future.get()}
 * in a body) unmounts the virtual thread with this continuation nested in it, and reports its refusal to
 * the innermost continuation, this one: that refusal is not this library's to report, and the JDK then
 * parks the virtual thread on its carrier, as it does a virtual thread pinned outside coro.
 */
class PinReportingContinuation extends Continuation {

    /** The JDK's class whose yield unmounts a virtual thread ({@code yieldContinuation}, a hidden frame). */
    private static final String VIRTUAL_THREAD = "java.lang.VirtualThread";
    /** The class whose {@code yield} reports a refusal through {@link #onPinned}. */
    private static final String CONTINUATION = Continuation.class.getName();
    /** A walker that shows the JDK's hidden frames, among them the virtual thread's yield. */
    private static final StackWalker HIDDEN_FRAMES = StackWalker.getInstance(StackWalker.Option.SHOW_HIDDEN_FRAMES);

    /**
     * A walker of this continuation's own frames alone; null until a generator's body first ran
     * nested in it ({@link #bindWalkers}). The JDK binds a walker to the innermost continuation
     * nested in this one when it is made, so it is made while none is: while this one runs.
     */
    private StackWalker walker;

    PinReportingContinuation(ContinuationScope scope, Runnable target) {
        super(scope, target);
    }

    /**
     * Throws the refusal as a {@link PinnedException}, unless it is that of the virtual thread's own yield
     * ({@link #virtualThreadsYield()}): then it returns, the JDK's yield returns false, and the JDK parks (or
     * sleeps, or yields to no one) on the carrier, as for any pinned virtual thread (and records its
     * {@code jdk.VirtualThreadPinned} event). Thrown there, the refusal came out of the JDK's blocking call
     * ({@code Thread.sleep}, {@code LockSupport.park}) that the body made.
     */
    @Override
    protected void onPinned(Pinned reason) {
        if (Thread.currentThread().isVirtual() && virtualThreadsYield()) {
            return;
        }
        throw PinnedException.pinned(switch (reason) {
            case NATIVE -> "a native frame is on its stack (a JNI call, an FFM upcall, or a class initializer)";
            case MONITOR -> "it holds a monitor the JDK cannot move off the thread";
            case CRITICAL_SECTION -> "it is inside a JDK critical section";
            case EXCEPTION -> "the JVM is in the middle of throwing an exception it cannot suspend (stack overflow or out of memory)";
        });
    }

    /**
     * Whether the refused yield is the virtual thread's, not this library's: the frame that called the
     * JDK's {@code Continuation.yield} is of {@code java.lang.VirtualThread}. Walked only on a refusal,
     * never on a switch.
     */
    private static boolean virtualThreadsYield() {
        return HIDDEN_FRAMES.walk(frames -> frames.map(StackWalker.StackFrame::getClassName)
                .dropWhile(c -> !c.equals(CONTINUATION))
                .dropWhile(c -> c.equals(CONTINUATION))
                .findFirst()
                .map(VIRTUAL_THREAD::equals)
                .orElse(false));
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
