package dev.coro;

import jdk.internal.vm.Continuation;
import jdk.internal.vm.ContinuationScope;

/** A continuation that reports a refused suspension as a {@link PinnedException} in plain words. */
class PinReportingContinuation extends Continuation {

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
}
