package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Engines.Choice;
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
        assertThat(Engines.select(null, true, FLAG)).isEqualTo(new Choice("continuation", null, null));
        assertThat(Engines.select("auto", true, FLAG)).isEqualTo(new Choice("continuation", null, null));
        assertThat(Engines.select(" ", true, FLAG)).isEqualTo(new Choice("continuation", null, null));
    }

    @Test
    void theAutomaticChoiceFallsBackToTheThreadEngineWithAWarningNamingTheFlagAndTheCost() {
        Choice c = Engines.select(null, false, FLAG);
        assertThat(c.engine()).isEqualTo("threads");
        assertThat(c.failure()).isNull();
        assertThat(c.warning())
                .startsWith("coro runs on its thread engine: jdk.internal.vm is not exported to this library")
                .contains("every switch costs a virtual-thread park/unpark handoff")
                .contains("Add the JVM flag " + FLAG + " for the continuation engine")
                .endsWith("or set -Dcoro.engine=threads to choose this engine and silence this warning.");
        assertThat(Engines.select("AUTO", false, FLAG)).isEqualTo(c);
    }

    @Test
    void forcingTheContinuationEngineUsesItWhenItsPackageIsExported() {
        assertThat(Engines.select("continuation", true, FLAG)).isEqualTo(new Choice("continuation", null, null));
    }

    @Test
    void forcingTheContinuationEngineWithoutTheFlagFailsNamingTheFlag() {
        Choice c = Engines.select("continuation", false, FLAG);
        assertThat(c.engine()).isNull();
        assertThat(c.warning()).isNull();
        assertThat(c.failure()).isEqualTo("cannot use the continuation engine asked for by -Dcoro.engine=continuation:"
                + " add the JVM flag " + FLAG + " (the package jdk.internal.vm is not exported to this library),"
                + " or remove the property to fall back to the thread engine");
    }

    @Test
    @Timeout(60)
    void theNamesAreReadWhateverTheirCaseAndARefusalQuotesThePropertyAsGiven() {
        assertThat(Engines.select(" Continuation", true, FLAG)).isEqualTo(new Choice("continuation", null, null));
        assertThat(Engines.select("THREADS", false, FLAG)).isEqualTo(new Choice("threads", null, null));
        assertThat(Engines.select("CONTINUATION", false, FLAG).failure())
                .isEqualTo("cannot use the continuation engine asked for by -Dcoro.engine=CONTINUATION:"
                        + " add the JVM flag " + FLAG + " (the package jdk.internal.vm is not exported to this library),"
                        + " or remove the property to fall back to the thread engine");
    }

    @Test
    void forcingTheThreadEngineUsesItWithoutAWarningWhetherOrNotTheFlagIsGiven() {
        assertThat(Engines.select("threads", true, FLAG)).isEqualTo(new Choice("threads", null, null));
        assertThat(Engines.select("threads", false, FLAG)).isEqualTo(new Choice("threads", null, null));
    }

    @Test
    void anUnknownEngineNameFailsListingTheKnownOnes() {
        assertThat(Engines.select("fibers", true, FLAG)).isEqualTo(new Choice(null,
                "cannot choose a coroutine engine: -Dcoro.engine=fibers is not one of auto, continuation, threads", null));
    }
}
