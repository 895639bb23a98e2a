package dev.coro;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import jdk.internal.vm.Continuation.Pinned;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

/** Every reason the JDK gives for refusing a suspension becomes a {@link PinnedException} in plain words. */
@EnabledIf(value = "dev.coro.Engines#continuationsExported",
        disabledReason = "jdk.internal.vm is not exported: no continuation can even be made (the thread engine runs)")
class PinReportingContinuationTest {

    private static void assertReason(Pinned reason, String words) {
        Check.assertReason(reason, words);
    }

    /**
     * The check itself, apart: JUnit reflects on the test class's methods to discover it even when
     * it is skipped, and without the flag no signature there may name {@link PinReportingContinuation},
     * whose class cannot be loaded then.
     */
    private static final class Check {
        static void assertReason(Pinned reason, String words) {
            PinReportingContinuation continuation = new PinReportingContinuation(ContinuationEngine.SCOPE, () -> { });
            assertThatThrownBy(() -> continuation.onPinned(reason))
                    .isInstanceOf(PinnedException.class)
                    .hasMessage("the JDK cannot suspend it here because " + words)
                    .hasNoCause()
                    .extracting(e -> ((PinnedException) e).reason).isEqualTo(words);
        }
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
