package dev.coro.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.ChildJvmLocale;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * BlockHound with coro's integration ({@code dev.coro.CoroBlockHound}): a network exchange between
 * coroutines of one thread makes no blocking call (the thread's idle waits in its event loop, for a
 * timer and in a select, are the library's own and allowed), a {@code Thread.sleep} in a
 * coroutine while another waits fails with BlockHound's error, and one of a thread whose only posts
 * wait for nobody does not.
 *
 * <p>Each case runs in a child JVM ({@link BlockHoundProbe}): BlockHound instruments the JDK for the
 * whole JVM and for good, and needs {@code -XX:+AllowRedefinitionToAddDeleteMethods} on JDK 25.
 */
@Tag("child-jvm") // its checks run in a child JVM, which mutation testing does not mutate
class BlockHoundTest {

    @Test
    void anEchoExchangeBetweenCoroutinesMakesNoBlockingCall() throws Exception {
        assertThat(probe("echo")).endsWith("[hello 0, hello 1, woke]\n");
    }

    @Test
    void aSleepInACoroutineWhileAnotherWaitsIsABlockingCall() throws Exception {
        String blocking = System.getProperty("coro.engine", "auto").equals("threads")
                ? "java.lang.VirtualThread#sleepNanos" : "java.lang.Thread.sleepNanos0";
        assertThat(probe("sleep")).endsWith("coroutine 'sleeper' failed: reactor.blockhound.BlockingOperationError: "
                + "Blocking call! " + blocking + "\n");
    }

    /**
     * A thread whose only posts are an operation of another thread on its channel whose caller gave
     * up, and its withdrawal, stalls nobody by blocking: nobody waits for them. Counted as work, they
     * made its {@code Thread.sleep} a blocking call.
     */
    @Test
    void aSleepOfAThreadHoldingOnlyPostsThatNobodyWaitsForIsNoBlockingCall() throws Exception {
        assertThat(probe("gave-up")).endsWith("no error\n");
    }

    /** The output of {@link BlockHoundProbe} {@code mode} in a child JVM on this JVM's engine. */
    private static String probe(String mode) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(java.toString(), "-XX:+AllowRedefinitionToAddDeleteMethods",
                "-XX:+EnableDynamicAgentLoading", "--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED",
                "-Dcoro.engine=" + System.getProperty("coro.engine", "auto"),
                "-cp", System.getProperty("java.class.path"), BlockHoundProbe.class.getName(), mode));
        Path err = Files.createTempFile("coro-blockhound", ".err");
        try {
            Process child = ChildJvmLocale.processBuilder(command).redirectError(err.toFile()).start();
            String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(child.waitFor(2, TimeUnit.MINUTES)).as("the child JVM ended").isTrue();
            assertThat(child.exitValue()).as("exit status of %s, which printed:%n%s%s", command, out,
                    Files.readString(err)).isZero();
            return out;
        } finally {
            Files.delete(err);
        }
    }
}
