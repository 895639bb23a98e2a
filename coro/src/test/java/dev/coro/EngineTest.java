package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The engine is chosen once per JVM; without the JDK's continuations it says which flag to add. */
class EngineTest {

    /** Run by {@link #withoutTheExportsFlagCreatingACoroutineSaysWhichFlagToAdd} in a JVM lacking the flag. */
    public static void main(String[] args) {
        try {
            Coroutine.create(() -> { });
            System.out.print("created");
        } catch (UnsupportedOperationException e) {
            System.out.print(e.getMessage());
        }
    }

    @Test
    void onTheClassPathTheFlagExportsToAllUnnamed() {
        assertThat(Engine.exportsFlag()).isEqualTo("--add-exports java.base/jdk.internal.vm=ALL-UNNAMED");
        assertThat(Engine.continuationsExported()).isTrue();
        assertThat(Engine.get()).isInstanceOf(ContinuationEngine.class).isSameAs(Engine.get());
    }

    @Test
    void withoutTheExportsFlagCreatingACoroutineSaysWhichFlagToAdd() throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
                EngineTest.class.getName())).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

        assertThat(p.waitFor()).isZero();
        assertThat(out).startsWith("coro needs the JDK's continuations: add the JVM flag --add-exports"
                + " java.base/jdk.internal.vm=ALL-UNNAMED (the package jdk.internal.vm is not exported to unnamed"
                + " module @");
    }
}
