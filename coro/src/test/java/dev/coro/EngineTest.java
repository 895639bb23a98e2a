package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Engines.Choice;
import java.io.IOException;
import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** How the engine is chosen: every case of {@link Engine#select}, and the one this JVM chose. */
@ExtendWith(FreshThread.class)
class EngineTest {

    private static final String FLAG = "--add-exports java.base/jdk.internal.vm=dev.coro";

    @Test
    void theEngineThatRunsIsTheOneTheBuildAskedFor() {
        String asked = System.getProperty(Engines.PROPERTY, "auto");
        String expected = asked.equals("auto") ? (Engines.continuationsExported() ? "continuation" : "threads") : asked;
        assertThat(Engines.running()).isEqualTo(expected);
        assertThat(Scheduler.current().engine).isInstanceOf(expected.equals("threads") ? ThreadEngine.class : ContinuationEngine.class);
    }

    @Test
    void theExportsFlagNamesAllUnnamedOnTheClassPath() {
        assertThat(Engines.exportsFlag()).isEqualTo("--add-exports java.base/jdk.internal.vm=ALL-UNNAMED");
    }

    @Test
    void theAutomaticChoiceIsTheContinuationEngineWhenItsPackageIsExported() {
        assertThat(Engines.select(null, true, true, FLAG, null)).isEqualTo(new Choice("continuation", null, null));
        assertThat(Engines.select("auto", true, true, FLAG, null)).isEqualTo(new Choice("continuation", null, null));
        assertThat(Engines.select(" ", true, true, FLAG, null)).isEqualTo(new Choice("continuation", null, null));
    }

    @Test
    void theAutomaticChoiceFallsBackToTheThreadEngineWithAWarningNamingTheFlagAndTheCost() {
        Choice c = Engines.select(null, false, false, FLAG, null);
        assertThat(c.engine()).isEqualTo("threads");
        assertThat(c.failure()).isNull();
        assertThat(c.warning())
                .startsWith("coro runs on its thread engine: jdk.internal.vm is not exported to this library")
                .contains("every switch costs a virtual-thread park/unpark handoff")
                .contains("Add the JVM flag " + FLAG + " for the continuation engine")
                .endsWith("or set -Dcoro.engine=threads to choose this engine and silence this warning.");
        assertThat(Engines.select("AUTO", false, false, FLAG, null)).isEqualTo(c);
    }

    @Test
    void forcingTheContinuationEngineUsesItWhenItsPackageIsExported() {
        assertThat(Engines.select("continuation", true, true, FLAG, null)).isEqualTo(new Choice("continuation", null, null));
    }

    @Test
    void forcingTheContinuationEngineWithoutTheFlagFailsNamingTheFlag() {
        Choice c = Engines.select("continuation", false, false, FLAG, null);
        assertThat(c.engine()).isNull();
        assertThat(c.warning()).isNull();
        assertThat(c.failure()).isEqualTo("cannot use the continuation engine asked for by -Dcoro.engine='continuation':"
                + " add the JVM flag " + FLAG + " (the package jdk.internal.vm is not exported to this library),"
                + " or remove the property to fall back to the thread engine");
    }

    @Test
    @Timeout(60)
    void theNamesAreReadWhateverTheirCaseAndARefusalQuotesThePropertyAsGiven() {
        assertThat(Engines.select(" Continuation", true, true, FLAG, null)).isEqualTo(new Choice("continuation", null, null));
        assertThat(Engines.select("THREADS", false, false, FLAG, null)).isEqualTo(new Choice("threads", null, null));
        assertThat(Engines.select("CONTINUATION", false, false, FLAG, null).failure())
                .isEqualTo("cannot use the continuation engine asked for by -Dcoro.engine='CONTINUATION':"
                        + " add the JVM flag " + FLAG + " (the package jdk.internal.vm is not exported to this library),"
                        + " or remove the property to fall back to the thread engine");
    }

    @Test
    void theClassPathsFlagGivenWhileTheLibraryIsAModuleIsNamedInTheWarningAndTheRefusalAsReachingTheClassPathOnly() {
        String why = Engines.whyNotExported("dev.coro", true, true);
        assertThat(why).isEqualTo("--add-exports java.base/jdk.internal.vm=ALL-UNNAMED exports it to the class path only,"
                + " and this library is the module dev.coro");
        assertThat(Engines.select(null, false, false, FLAG, why)).isEqualTo(new Choice("threads", null,
                "coro runs on its thread engine: jdk.internal.vm is not exported to this library (" + why + "), so each"
                        + " coroutine runs on a virtual thread of its own and every switch costs a virtual-thread park/unpark"
                        + " handoff (several times the continuation engine's switch, tens of times when main is a platform"
                        + " thread). Add the JVM flag " + FLAG + " for the continuation engine, or set -Dcoro.engine=threads"
                        + " to choose this engine and silence this warning."));
        assertThat(Engines.select("continuation", false, false, FLAG, why)).isEqualTo(new Choice(null,
                "cannot use the continuation engine asked for by -Dcoro.engine='continuation': add the JVM flag " + FLAG
                        + " (the package jdk.internal.vm is not exported to this library: " + why + "), or remove the"
                        + " property to fall back to the thread engine", null));
        assertThat(Engines.select("threads", false, false, FLAG, why)).isEqualTo(new Choice("threads", null, null));
    }

    @Test
    void aModuleInALayerOtherThanTheBootLayerIsToldToBeLoadedFromTheModulePathWhichTheFlagReaches() {
        String why = "this library is the module dev.coro of a module layer other than the boot layer, which no JVM flag"
                + " reaches: load it from the module path";
        assertThat(Engines.whyNotExported("dev.coro", false, false)).isEqualTo(why);
        assertThat(Engines.whyNotExported("dev.coro", false, true)).isEqualTo(why);
        assertThat(Engines.whyNotExported("dev.coro", true, false)).isNull();
    }

    @Test
    void onTheClassPathTheFlagAloneTellsWhyTheContinuationsAreNotExported() {
        assertThat(Engines.whyNotExported()).isNull();
    }

    @Test
    void onAJvmWithoutContinuationsTheAutomaticChoiceFallsBackToTheThreadEngineSayingWhyAndContinuationIsRefused() {
        String unsupported = "this JVM does not support the JDK's continuations (it runs with -XX:-VMContinuations, or is"
                + " a port of the JDK without them)";
        assertThat(Engines.select(null, true, false, FLAG, null)).isEqualTo(new Choice("threads", null,
                "coro runs on its thread engine: " + unsupported + ", so each coroutine runs on a virtual thread of its own"
                        + " (which such a JVM backs with a platform thread of its own). Set -Dcoro.engine=threads to choose"
                        + " this engine and silence this warning."));
        assertThat(Engines.select(" Continuation", true, false, FLAG, null)).isEqualTo(new Choice(null,
                "cannot use the continuation engine asked for by -Dcoro.engine=' Continuation': " + unsupported
                        + "; remove the property to fall back to the thread engine", null));
        assertThat(Engines.select("threads", true, false, FLAG, null)).isEqualTo(new Choice("threads", null, null));
    }

    @Test
    @Tag("child-jvm") // the choice and its warning are made once per JVM, by Engines' initializer
    @Timeout(300)
    void withTheFlagOnAJvmWithoutContinuationsCoroutinesRunOnTheThreadEngineAfterAWarningSayingWhy()
            throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = List.of(java.toString(), "-XX:+UnlockExperimentalVMOptions", "-XX:-VMContinuations",
                "--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED", "-Djava.util.logging.SimpleFormatter.format=%4$s: %5$s%n",
                "-cp", System.getProperty("java.class.path"), WithoutVmContinuations.class.getName());
        Process child = ChildJvmLocale.processBuilder(command).redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(5, TimeUnit.MINUTES)).as("the child JVM ended").isTrue();
        assertThat(out.lines()).as("it printed:%n%s", out).containsExactly(
                "WARNING: coro runs on its thread engine: this JVM does not support the JDK's continuations (it runs with"
                        + " -XX:-VMContinuations, or is a port of the JDK without them), so each coroutine runs on a virtual"
                        + " thread of its own (which such a JVM backs with a platform thread of its own). Set"
                        + " -Dcoro.engine=threads to choose this engine and silence this warning.",
                "ran FINISHED", "ran FINISHED");
        assertThat(child.exitValue()).as("exit status; it printed:%n%s", out).isZero();
    }

    /** The child: creates a coroutine twice, on a JVM without continuations. */
    static final class WithoutVmContinuations {

        /**
         * Runs a coroutine twice, printing its end state or what was thrown.
         *
         * @param args ignored
         */
        public static void main(String[] args) {
            runTwice();
        }
    }

    @Test
    void blanksOfAnyKindAroundANameAreIgnoredAndAnEmptyValueIsTheDefault() {
        assertThat(Engines.select("\tthreads \n", true, true, FLAG, null)).isEqualTo(new Choice("threads", null, null));
        assertThat(Engines.select(" Auto\t", true, true, FLAG, null)).isEqualTo(new Choice("continuation", null, null));
        assertThat(Engines.select("", true, true, FLAG, null)).isEqualTo(new Choice("continuation", null, null));
        assertThat(Engines.select("", false, false, FLAG, null)).isEqualTo(Engines.select(null, false, false, FLAG, null));
        assertThat(Engines.select("thread", true, true, FLAG, null)).isEqualTo(new Choice(null,
                "cannot choose a coroutine engine: -Dcoro.engine='thread' is not one of auto, continuation, threads", null));
    }

    @Test
    void forcingTheThreadEngineUsesItWithoutAWarningWhetherOrNotTheFlagIsGiven() {
        assertThat(Engines.select("threads", true, true, FLAG, null)).isEqualTo(new Choice("threads", null, null));
        assertThat(Engines.select("threads", false, false, FLAG, null)).isEqualTo(new Choice("threads", null, null));
    }

    @Test
    @Tag("child-jvm") // the choice and its warning are made once per JVM, by Engines' initializer
    @Timeout(300)
    void aLogHandlerThatThrowsLeavesTheLibraryWorkingAndItsWarningsOnStandardError() throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        // no exports flag: the automatic choice falls back to the thread engine and warns; and three properties it cannot read
        List<String> command = List.of(java.toString(), "-Dcoro.seed=x", "-Dcoro.spinNanos=-1", "-Dcoro.blockedThreshold=abc",
                "-cp", System.getProperty("java.class.path"), ThrowingLogHandler.class.getName());
        Process child = ChildJvmLocale.processBuilder(command).redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(5, TimeUnit.MINUTES)).as("the child JVM ended").isTrue();
        String threw = "WARNING (the dev.coro logger threw java.lang.IllegalStateException: a broken handler): ";
        assertThat(out.lines().filter(l -> !l.startsWith(threw)))
                .as("it printed:%n%s", out).containsExactly("ran FINISHED", "ran FINISHED");
        assertThat(out.lines().filter(l -> l.startsWith(threw)).map(l -> l.substring(threw.length())))
                .as("it printed:%n%s", out)
                .anySatisfy(l -> assertThat(l).startsWith("coro runs on its thread engine: jdk.internal.vm is not exported"))
                .anySatisfy(l -> assertThat(l).isEqualTo("coro.seed must be a whole number (a long), not 'x'; seeding with 0 instead"))
                .anySatisfy(l -> assertThat(l).startsWith("coro.spinNanos must be 0 (never spin) or more nanoseconds, not -1"))
                .anySatisfy(l -> assertThat(l).startsWith("coro does not detect blocked loops: -Dcoro.blockedThreshold='abc' is not a threshold"))
                .hasSize(4);
        assertThat(child.exitValue()).as("exit status; it printed:%n%s", out).isZero();
    }

    /** The child: a handler of the {@code dev.coro} logger that throws at every record, then two coroutines. */
    static final class ThrowingLogHandler {

        /**
         * Runs a coroutine twice, printing its end state or what was thrown.
         *
         * @param args ignored
         */
        public static void main(String[] args) {
            Logger log = Logger.getLogger("dev.coro");
            log.setUseParentHandlers(false);
            log.addHandler(new Handler() {
                @Override
                public void publish(LogRecord r) {
                    throw new IllegalStateException("a broken handler");
                }

                @Override
                public void flush() {
                }

                @Override
                public void close() {
                }
            });
            runTwice();
            Reference.reachabilityFence(log); // a logger nothing holds may be collected, its handler with it
        }
    }

    @Test
    @Tag("child-jvm") // a runtime without the module jdk.jfr
    @Timeout(300)
    void onARuntimeWithoutJfrEveryCallIsRefusedNamingTheModuleToAdd() throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        // as a runtime image made by jlink without jdk.jfr, with the library on the class path
        List<String> command = List.of(java.toString(), "--limit-modules", "java.base,java.logging,java.management",
                "-cp", System.getProperty("java.class.path"), WithoutJfr.class.getName());
        Process child = ChildJvmLocale.processBuilder(command).redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(5, TimeUnit.MINUTES)).as("the child JVM ended").isTrue();
        String refusal = "coro cannot run on this Java runtime: it lacks the module jdk.jfr, whose classes the library's JFR"
                + " events extend (they cost nothing until a recording starts); add it to the runtime image"
                + " (jlink --add-modules jdk.jfr,...)";
        assertThat(out.lines()).as("it printed:%n%s", out).containsExactly(
                "threw java.lang.UnsupportedOperationException: " + refusal,
                "threw java.lang.UnsupportedOperationException: " + refusal);
        assertThat(child.exitValue()).as("exit status; it printed:%n%s", out).isZero();
    }

    /** The child: creates a coroutine twice, on a runtime without the module {@code jdk.jfr}. */
    static final class WithoutJfr {

        /**
         * Runs a coroutine twice, printing its end state or what was thrown.
         *
         * @param args ignored
         */
        public static void main(String[] args) {
            runTwice();
        }
    }

    /** What the child JVMs do: create and run a coroutine twice, printing its end state or what was thrown. */
    static void runTwice() {
        for (int i = 0; i < 2; i++) {
            try {
                Coroutine c = Coroutine.create("worker", () -> { });
                c.switchTo();
                System.out.println("ran " + c.state());
            } catch (Throwable t) {
                System.out.println("threw " + t);
            }
        }
    }

    @Test
    void anUnknownEngineNameFailsListingTheKnownOnes() {
        assertThat(Engines.select("fibers", true, true, FLAG, null)).isEqualTo(new Choice(null,
                "cannot choose a coroutine engine: -Dcoro.engine='fibers' is not one of auto, continuation, threads", null));
    }

    @Test
    void aRefusalQuotesTheValueAsANameSoThatItsBlanksShowAndAControlCharacterOrAQuoteInItIsEscaped() {
        assertThat(Engines.select(" fibers\t", true, true, FLAG, null).failure()).isEqualTo(
                "cannot choose a coroutine engine: -Dcoro.engine=' fibers\\t' is not one of auto, continuation, threads");
        assertThat(Engines.select("threads\nlevel=SEVERE x", true, true, FLAG, null).failure()).isEqualTo(
                "cannot choose a coroutine engine: -Dcoro.engine='threads\\nlevel=SEVERE x' is not one of auto,"
                        + " continuation, threads");
        assertThat(Engines.select("it's", true, true, FLAG, null).failure()).isEqualTo(
                "cannot choose a coroutine engine: -Dcoro.engine='it\\'s' is not one of auto, continuation, threads");
        assertThat(Engines.select("continuation\r\n", true, false, FLAG, null).failure()).isEqualTo(
                "cannot use the continuation engine asked for by -Dcoro.engine='continuation\\r\\n': this JVM does not"
                        + " support the JDK's continuations (it runs with -XX:-VMContinuations, or is a port of the JDK"
                        + " without them); remove the property to fall back to the thread engine");
    }
}
