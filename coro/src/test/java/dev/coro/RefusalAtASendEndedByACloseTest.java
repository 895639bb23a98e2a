package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The refusal main gets, on the thread engine, when the context chosen next cannot be started while main
 * waits in a send that the channel's close ended: no receiver took its value, so the refusal says main's
 * wait is cancelled, never that its value was delivered (which it says only for a send whose value a
 * receiver took, {@link ChannelWaiter#sentItsValue}). Runs only when the thread engine is this JVM's.
 */
@ExtendWith(FreshThread.class)
@EnabledIf("threadEngineRuns")
class RefusalAtASendEndedByACloseTest {

    static boolean threadEngineRuns() {
        return Engines.running().equals("threads");
    }

    @Test
    @Timeout(20)
    void mainWhoseSendWasEndedByTheChannelsCloseBeforeTheContextChosenCouldNotRunGetsARefusalSayingItsWaitIsCancelled() {
        Channel<String> ch = new Channel<>("ch", 0);
        List<String> ran = new ArrayList<>();
        Coroutine.create("waiting", () -> ran.add("waiting ran"));
        Coroutine.create("ending", () -> {
            ch.close(); // ends main's send: its value was not taken
            ran.add("ending closed ch");
            ((ThreadEngine) Scheduler.current().engine).refuseStarts = 1;
        });
        IllegalStateException e = catchThrowableOfType(IllegalStateException.class, () -> ch.send("sent"));
        assertThat(e).hasMessage("main context 'main' cannot run coroutine 'waiting' (NEW), chosen as coroutine 'ending' ended,"
                        + " at its send to channel 'ch': no virtual thread could be started for coroutine 'waiting'"
                        + " (java.util.concurrent.RejectedExecutionException: refused for a test); it stays NEW, and main's wait"
                        + " is cancelled (state RUNNING)")
                .cause().isInstanceOf(PinnedException.class);
        assertThat(ran).containsExactly("ending closed ch");
        Coroutine.yield();
        assertThat(ran).containsExactly("ending closed ch", "waiting ran");
        assertThat(ch.isClosed()).isTrue();
    }
}
