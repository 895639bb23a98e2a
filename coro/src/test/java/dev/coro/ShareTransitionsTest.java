package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The moves of a channel between "its own thread only", "shared" (operated on in place by other threads)
 * and back to posting while a select of its thread waits on it, raced with closes, ends of threads, try
 * calls and other threads' first operations: nothing is lost or duplicated, and a thread's deadlocks on its
 * own channels are reported as before.
 */
@ExtendWith(FreshThread.class)
class ShareTransitionsTest {

    /** How long a test waits at most for what must come; never reached unless it fails. */
    private static final Duration GUARD = Duration.ofSeconds(30);

    /** The test thread, for messages. */
    private static String testThread() {
        Thread t = Thread.currentThread();
        return "thread '" + t.getName() + "' (#" + t.threadId() + ")";
    }

    // ---- deadlocks --------------------------------------------------------------------------------

    /**
     * A select of another thread that looks at a channel of this thread no other thread had used, and fires
     * another clause, asks this thread to share the channel: that shares it, and exchanges nothing, so a
     * deadlock of this thread's contexts on its other channels is still reported, exactly, not waited on for
     * ever (the share used to count as an exchange with another thread).
     */
    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aShareAskedByAnotherThreadsSelectLeavesTheThreadsOwnDeadlockReportedExactly() throws InterruptedException {
        Channel<Integer> looked = new Channel<>("looked", 1);
        Throwable thrown = OtherThread.thrownOn("selector", () -> {
            Channel<Integer> mine = new Channel<>("mine", 1);
            mine.send(7);
            String fired = new Select<String>().onReceive(looked, v -> "looked").onReceive(mine, v -> "mine " + v).select();
            assertThat(fired).isEqualTo("mine 7");
        });
        assertThat(thrown).isNull();
        Channel<Integer> empty = new Channel<>("empty", 0);
        Coroutine.create("stuck", () -> new Channel<Integer>("never", 0).receive());
        Coroutine.yield(); // runs the share asked, and parks 'stuck'
        assertThat(looked.isSharedInPlace()).as("the share asked has run").isTrue();
        assertThatThrownBy(empty::receive).isExactlyInstanceOf(DeadlockException.class)
                .hasMessage("main context 'main' cannot receive from channel 'empty': every other context of "
                        + testThread() + " is parked and no timer is pending, so nothing could ever wake it (deadlock):\n"
                        + "  main context 'main' would wait to receive from channel 'empty'\n"
                        + "  coroutine 'stuck' waits to receive from channel 'never'");
    }
}
