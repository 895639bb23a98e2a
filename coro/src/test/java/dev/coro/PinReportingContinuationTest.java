package dev.coro;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import jdk.internal.vm.Continuation.Pinned;
import org.junit.jupiter.api.Test;

/** Every reason the JDK gives for refusing a suspension becomes a {@link PinnedException} in plain words. */
class PinReportingContinuationTest {

    private static final PinReportingContinuation CONTINUATION =
            new PinReportingContinuation(ContinuationEngine.SCOPE, () -> { });

    private static void assertReason(Pinned reason, String words) {
        assertThatThrownBy(() -> CONTINUATION.onPinned(reason))
                .isInstanceOf(PinnedException.class)
                .hasMessage(words)
                .hasNoCause()
                .extracting(e -> ((PinnedException) e).reason).isEqualTo(words);
    }

    @Test
    void aNativeFrameIsReportedAsANativeFrameOnItsStack() {
        assertReason(Pinned.NATIVE, "a native frame is on its stack (a JNI call, an FFM upcall, or a class initializer)");
    }

    @Test
    void aMonitorIsReportedAsAMonitorTheJdkCannotMove() {
        assertReason(Pinned.MONITOR, "it holds a monitor the JDK cannot move off the thread");
    }

    @Test
    void aCriticalSectionIsReportedAsAJdkCriticalSection() {
        assertReason(Pinned.CRITICAL_SECTION, "it is inside a JDK critical section");
    }

    @Test
    void anExceptionInFlightIsReportedAsAnExceptionTheJvmCannotSuspend() {
        assertReason(Pinned.EXCEPTION, "the JVM is in the middle of throwing an exception it cannot suspend"
                + " (stack overflow or out of memory)");
    }
}
