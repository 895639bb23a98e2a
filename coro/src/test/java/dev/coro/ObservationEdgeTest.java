package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.management.CoroutinesManagement;
import dev.coro.management.SchedulerInfo;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The observers (dumps, the JMX view, the park event, the blocked-loop detector) against hostile
 * input and edges: user objects whose text spans lines or is huge, threads observed as they end.
 */
@ExtendWith(FreshThread.class)
class ObservationEdgeTest {

    /** A future that prints as the text it was given. */
    static final class Printed<T> extends CompletableFuture<T> {
        private final String text;

        Printed(String text) {
            this.text = text;
        }

        @Override
        public String toString() {
            return text;
        }
    }

    /** A text that would forge a context's line in a dump if printed as it is. */
    private static final String FORGING = "line one\nline two\r\n  [9] coroutine 'fake': RUNNING\u2028end";
    /** How a dump shows {@link #FORGING}: on the line of the context that waits. */
    private static final String FORGING_SHOWN = "line one\\nline two\\r\\n  [9] coroutine 'fake': RUNNING\\u2028end";

    @Test
    void aWaitedOnObjectWhoseTextSpansLinesOrIsHugeStaysOnItsContextsLineInTheDumpsTheViewAndTheParkEvent() throws Exception {
        Printed<String> forging = new Printed<>(FORGING);
        Printed<String> huge = new Printed<>("x".repeat(100_000));
        CoroutinesManagement.mxBean(); // parks record their time from here on, for the oldest parked
        List<RecordedEvent> parks = JfrEventsTest.record(r -> r.enable("dev.coro.Park").withThreshold(Duration.ZERO), () -> {
            Coroutine.create("forged", () -> Coroutine.await(forging)).switchTo();
            Coroutine.create("huge", () -> Coroutine.await(huge)).switchTo();
            Coroutine.create("selects", () -> new Select<String>().onComplete(forging, v -> v).select()).switchTo();
            String hugeShown = "x".repeat(SafeText.NAME_LIMIT) + "\u2026(+" + (100_000 - SafeText.NAME_LIMIT) + " chars)";
            List<String> expected = List.of(
                    "  [1] coroutine 'forged': PARKED, waits to await " + FORGING_SHOWN,
                    "  [2] coroutine 'huge': PARKED, waits to await " + hugeShown,
                    "  [3] coroutine 'selects': PARKED, waits to select over completion of " + FORGING_SHOWN);
            for (String dump : List.of(Coroutine.dump(), CoroutinesManagement.mxBean().dump(10))) {
                List<String> contexts = dump.lines().filter(l -> l.startsWith("  [")).toList();
                assertThat(contexts).hasSize(4);
                assertThat(contexts.subList(1, 4)).containsExactlyElementsOf(expected);
            }
            SchedulerInfo row = CoroutinesManagement.mxBean().getSchedulers().stream()
                    .filter(s -> s.threadId() == Thread.currentThread().threadId()).findFirst().orElseThrow();
            assertThat(row.oldestParked()).isEqualTo("coroutine 'forged'");
            assertThat(row.oldestParkedWaits()).isEqualTo("await " + FORGING_SHOWN);
            forging.complete("done");
            huge.complete("done");
            Coroutine.yield();
            Coroutine.yield();
            Coroutine.yield();
            assertThat(Coroutine.dump().lines().filter(l -> l.startsWith("  ["))).hasSize(1);
        }, "dev.coro.Park");
        assertThat(parks).extracting(e -> e.getString("coroutine") + ": " + e.getString("waitsFor"))
                .containsExactlyInAnyOrder(
                        "forged: await " + FORGING_SHOWN,
                        "huge: await " + "x".repeat(SafeText.NAME_LIMIT) + "\u2026(+" + (100_000 - SafeText.NAME_LIMIT) + " chars)",
                        "selects: select over completion of " + FORGING_SHOWN);
    }
}
