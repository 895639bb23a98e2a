package dev.coro.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.LoopProbe;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * How a program that uses coro ends when it ends untidily: main returning with coroutines never
 * closed and the library's shared threads started, {@code System.exit} inside a coroutine, a
 * generator's body, a {@code VirtualTime.run} or a pool body while a shutdown hook uses coro, and a
 * pool never closed. Whether a JVM exits can only be seen from outside, so each program
 * ({@link ProgramEndMain}) runs in a child JVM on this JVM's engine.
 */
@Tag("net") // the library's shared threads include the name look-ups' and the socket cleaner
@Tag("child-jvm") // its checks run in a child JVM, which mutation testing does not mutate
class ProgramEndTest {

    /** A guard against a child that hangs, far above what a run takes. */
    private static final Duration GUARD = Duration.ofMinutes(1);

    private static ChildJvm.Result run(String scenario) throws Exception {
        return ChildJvm.run("", ProgramEndMain.class, List.of("-Xmx64m"), List.of(scenario), GUARD);
    }

    @Test
    @Timeout(120)
    void mainReturningWithCoroutinesAndAGeneratorLeftSuspendedParkedOrAsleepEndsTheJvmRunningNoFinallyBlockAndPrintingNothing()
            throws Exception {
        ChildJvm.Result child = run("leftovers");

        assertThat(child.lines()).as(child.output()).containsExactly(
                "looked up localhost, connect refused",
                "numbers gave 0 and 1",
                "main returns on the " + LoopProbe.engine() + " engine: SUSPENDED, PARKED, PARKED, SUSPENDED");
        assertThat(child.exitCode()).as(child.output()).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"exit-in-coroutine", "exit-in-generator", "exit-in-virtual-time"})
    @Timeout(120)
    void systemExitInsideABodyEndsTheJvmWithItsStatusRunningNoFinallyBlockWhileAHookStillUsesCoro(String where)
            throws Exception {
        ChildJvm.Result child = run(where);

        List<String> before = where.equals("exit-in-generator") ? List.of("emitted 1") : List.of();
        assertThat(child.lines()).as(child.output()).containsExactlyElementsOf(Stream.concat(before.stream(), Stream.of(
                where + ": exits",
                "hook slept PT5S on a virtual clock",
                "finally of the pool's body",
                "hook closed CoroutinePool[coro-pool-1, 1 thread, closed]")).toList());
        assertThat(child.exitCode()).as(child.output()).isEqualTo(3);
    }

    @Test
    @Timeout(120)
    void aPoolBodyInSystemExitNeverEndsSoAHookThatClosesItsPoolBoundsTheCloseAndTheJvmExitsWithTheBodysStatus()
            throws Exception {
        ChildJvm.Result child = run("exit-in-pool-body");

        assertThat(child.lines()).as(child.output()).containsExactly(
                "hook gave up: main context 'main' timed out: withTimeout(PT0.1S) expired before its body returned; "
                        + "main context 'main': its withTimeout(PT0.1S) expired; its await the close of coro-pool-1"
                        + " (1 submitted body has not ended) throws this signal so that the body unwinds to it",
                "pool CoroutinePool[coro-pool-1, 1 thread, closing]");
        assertThat(child.exitCode()).as(child.output()).isEqualTo(5);
    }

    @Test
    @Timeout(120)
    void aChannelOfAThreadInSystemExitIsNeverClosedForAHookSoTheHookBoundsItsCloseAndTheJvmExitsWithTheStatus()
            throws Exception {
        ChildJvm.Result child = run("exit-in-main");

        assertThat(child.lines()).as(child.output()).containsExactly(
                "hook gave up: main context 'main': its withTimeout(PT0.1S) expired; its close channel 'jobs' of thread"
                        + " 'main' (#N) throws this signal so that the body unwinds to it",
                "channel Channel[jobs, capacity 0, 0 buffered, open]");
        assertThat(child.exitCode()).as(child.output()).isEqualTo(7);
    }

    @Test
    @Timeout(120)
    void aPoolADaemonThreadStartedAndNobodyClosedLetsTheJvmExitCuttingItsBodiesShortAndReportingItsFailureNowhere()
            throws Exception {
        ChildJvm.Result child = run("daemon-pool-never-closed");

        assertThat(child.lines()).as(child.output()).containsExactly(
                "started CoroutinePool[coro-pool-1, 1 thread, running], its threads daemons: true",
                "main returns");
        assertThat(child.exitCode()).as(child.output()).isZero();
    }
}
