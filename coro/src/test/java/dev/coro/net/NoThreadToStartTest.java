package dev.coro.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.LoopProbe;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The library's own threads when the JVM can start no thread: the JVM's first socket, which starts the
 * socket cleaner's thread, is opened all the same (going without that safety net) and the cleaner
 * starts with a later one; a connect by host name fails with an {@link java.net.UnknownHostException}
 * naming the caller, the connect and the host, the JVM's {@code OutOfMemoryError} its cause, and is
 * served by a look-up thread that runs idle if there is one; turning the blocked-loop detector on throws
 * the JVM's {@code OutOfMemoryError} and leaves it off (its threshold empty), and the next call turns it on. A JVM cannot take its own room for
 * threads away without harming itself, so the scenario ({@link NoThreadToStartMain}) runs in a child
 * JVM started under a limit of its address space, which it then fills, on this JVM's engine.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@Tag("child-jvm") // its checks run in a child JVM, which mutation testing does not mutate
class NoThreadToStartTest {

    /** The JVM's own failure to start a thread, as it tells it. */
    private static final String NO_THREAD = "java.lang.OutOfMemoryError: unable to create native thread:"
            + " possibly out of memory or process/resource limits reached";

    @Test
    @Timeout(120)
    void whenNoThreadCanStartTheFirstSocketOpensALookUpFailsNamingTheCallerOrRunsOnAnIdleLookUpThreadAndTheDetectorStaysOff() throws Exception {
        // small reservations of the JVM's own (heap, classes, code, malloc's arenas), so that the limit
        // leaves room to start and to fill; interpreted, so that no compiler thread needs memory while it is full
        ChildJvm.Result child = ChildJvm.run("ulimit -v 4000000 && export MALLOC_ARENA_MAX=2", NoThreadToStartMain.class,
                List.of("-Xint", "-Xms64m", "-Xmx64m", "-XX:+UseSerialGC", "-XX:CompressedClassSpaceSize=64m",
                        "-XX:ReservedCodeCacheSize=32m"),
                List.of(), Duration.ofMinutes(2));
        child.succeeded();

        List<String> lines = child.lines();
        String port = child.after("port ");
        assertThat(lines).as(child.output()).containsSubsequence(
                "engine " + LoopProbe.engine(),
                // the address space full: no thread of any kind can start
                "a thread with no room left: " + NO_THREAD,
                // the socket cleaner's thread cannot start: the listener goes without it, and a later socket starts it
                "the first bind of the JVM with no room left: TcpListener[LISTENER, open]",
                "the socket cleaner runs: false",
                "a connect to an address with room: connected",
                "the socket cleaner runs: true",
                // full again, no look-up thread running
                "look-up threads running: 0",
                "a connect by name with no room left: java.net.UnknownHostException: main context 'main' cannot connect to"
                        + " db.test/<unresolved>:" + port + ": the look-up of host 'db.test' could not start: no look-up thread"
                        + " runs and the JVM could start none (" + NO_THREAD + "), caused by " + NO_THREAD,
                // room again: the next look-up starts a thread
                "a connect by name with room again: connected",
                // full again: the look-up thread that started, idle, takes the look-up the JVM can start no thread for
                "look-up threads running: 1",
                "a connect by name with no room left: connected",
                // the detector's thread cannot start: detection stays off, and the next call starts it
                "the detector's threshold with room: Optional.empty, MBeans true",
                "the detector turned on with no room left: " + NO_THREAD,
                "the detector's threshold then: Optional.empty",
                "the detector turned on with room again: on, threshold Optional[PT30S]",
                "done");
    }
}
