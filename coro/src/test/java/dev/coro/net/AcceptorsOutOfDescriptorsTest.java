package dev.coro.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.LoopProbe;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Several coroutines waiting in {@code accept()} when the process runs out of file descriptors are
 * each told so, once, naming themselves and the listener: none is left waiting on connections it
 * cannot take, the library retries nothing, and the thread's selector stops reporting the listener
 * while nobody accepts (no spin); once descriptors are free, each accepts. A JVM cannot lower its own
 * descriptor limit, so the scenario ({@link AcceptorsOutOfDescriptorsMain}) runs in a child JVM
 * started under {@code ulimit -n 64}, on this JVM's engine.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@Tag("child-jvm") // its checks run in a child JVM, which mutation testing does not mutate
class AcceptorsOutOfDescriptorsTest {

    @Test
    @Timeout(120)
    void everyAcceptorWaitingWhenDescriptorsRunOutIsToldOnceAndTheListenerIsNotReportedAgainUntilOneAccepts() throws Exception {
        ChildJvm.Result child = ChildJvm.run("ulimit -n 64", AcceptorsOutOfDescriptorsMain.class,
                List.of("-Xmx64m"), List.of(), Duration.ofMinutes(2));
        child.succeeded();

        List<String> lines = child.lines();
        String listener = child.after("listener ");
        assertThat(listener).as(child.output()).startsWith("/127.0.0.1:");
        String outOfDescriptors = " cannot accept on listener " + listener + " (open): java.io.IOException: Too many open"
                + " files; the process is out of file descriptors: the listener stays open, and accepts again once some are closed";
        assertThat(lines).as(child.output()).containsSubsequence(
                "engine " + LoopProbe.engine(),
                // the accepts failing as the JDK's do, with descriptors to spare: every class loaded, as a class file needs one
                "faked: a1 failed: coroutine 'a1'" + outOfDescriptors,
                "faked: a2 failed: coroutine 'a2'" + outOfDescriptors,
                "faked: then a1 accepted",
                "faked: then a2 accepted",
                // each woken in turn, each told once, the listener left for the next select to report to the next
                "exhausted: a1 failed: coroutine 'a1'" + outOfDescriptors,
                "exhausted: a2 failed: coroutine 'a2'" + outOfDescriptors,
                "exhausted: accept attempts of the woken acceptors: 2",
                "exhausted: readiness reports in 8 selects with nobody accepting: at most one: true",
                "exhausted: listener after the failures: TcpListener[" + listener + ", open]",
                "exhausted: then a1 accepted",
                "exhausted: then a2 accepted",
                "listener at the end: TcpListener[" + listener + ", open]",
                "done");
    }
}
