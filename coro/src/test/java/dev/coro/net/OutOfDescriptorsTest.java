package dev.coro.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.LoopProbe;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * An accept that finds no free file descriptor fails with an {@link java.io.IOException} saying the
 * process is out of them, the listener stays open, and the waiting connection is accepted once some
 * are free. A JVM cannot lower its own descriptor limit, so the scenario ({@link OutOfDescriptorsMain})
 * runs in a child JVM started under {@code ulimit -n 64}, on this JVM's engine.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@Tag("child-jvm") // its checks run in a child JVM, which mutation testing does not mutate
class OutOfDescriptorsTest {

    @Test
    void anAcceptWithNoFreeDescriptorFailsSayingSoAndTheListenerAcceptsOnceSomeAreFree() throws Exception {
        ChildJvm.Result child = ChildJvm.run("ulimit -n 64", OutOfDescriptorsMain.class,
                List.of("-Xmx64m"), List.of(), Duration.ofMinutes(2));
        child.succeeded();

        List<String> lines = child.lines();
        String listener = child.after("listener ");
        assertThat(listener).as(child.output()).startsWith("/127.0.0.1:");
        assertThat(lines).as(child.output()).containsSubsequence(
                "engine " + LoopProbe.engine(),
                // with descriptors to spare
                "spare: acceptor [1] coroutine 'acceptor': PARKED, waits to accept on listener " + listener,
                "first accept: accepted",
                "bind and connect with some left: no failure",
                "a first wait of a thread with some left: no failure",
                "a connect of a thread with some left: no failure",
                "then: read 'ping'",
                // with none left
                "exhausted: acceptor [1] coroutine 'acceptor': PARKED, waits to accept on listener " + listener,
                "first accept: failed: coroutine 'acceptor' cannot accept on listener " + listener
                        + " (open): java.io.IOException: Too many open files; the process is out of file descriptors:"
                        + " the listener stays open, and accepts again once some are closed",
                "listener after the failure: TcpListener[" + listener + ", open]",
                // a socket cannot even be opened: the failure still names the caller and the address, of the JDK's class
                "connect with none left: java.net.SocketException: main context 'main' cannot connect to " + listener
                        + ": java.net.SocketException: Too many open files",
                "bind with none left: java.net.SocketException: main context 'main' cannot bind a listener to /127.0.0.1:0"
                        + ": java.net.SocketException: Too many open files",
                // nor can the selector of a thread's first wait: the failure names the caller and the wait
                "a first wait of a thread with none left: java.io.IOException: main context 'main' cannot"
                        + " await OP_READ on SOURCE (open): java.io.IOException: Too many open files",
                "a first read of a thread with none left: java.io.IOException: main context 'main' cannot"
                        + " read from connection CONNECTION (open): java.io.IOException: Too many open files",
                // nor can an accept's (one left: no connection waits): a scheduling point, as its failure to accept is, saying so
                "a first accept of a thread with one left: other ran, then java.io.IOException: main context"
                        + " 'main' cannot accept on listener LISTENER (open): java.io.IOException: Too many open"
                        + " files; the process is out of file descriptors: the listener stays open, and accepts"
                        + " again once some are closed",
                // a connect whose socket takes the last descriptor, its selector none: said once, as the others
                "a connect of a thread with one left: java.io.IOException: main context 'main' cannot connect to"
                        + " SERVER: java.io.IOException: Too many open files",
                "then: accepted on the second try",
                "then: read 'ping'",
                "done");
        assertThat(lines).as(child.output())
                .anyMatch(l -> l.matches("opening files failed after \\d+: /dev/null \\(Too many open files\\)"));
    }
}
