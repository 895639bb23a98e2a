package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A user-given name or object text that holds a bidirectional embedding, override or isolate is shown with
 * it escaped in messages, dumps and {@code toString()}: a viewer that lays out right-to-left text would
 * otherwise reorder the rest of the line (the state, the wait, the next name) as it shows it. Right-to-left
 * letters are shown as they are.
 */
@ExtendWith(FreshThread.class)
class BidiControlsInTextsTest {

    @Test
    void aNameHoldingABidirectionalOverrideIsShownEscapedAndRightToLeftLettersAsTheyAre() {
        Channel<String> box = new Channel<>("in\u2067box", 0);
        Coroutine waiting = Coroutine.create("waiting", () -> box.receive());
        // U+202E (right-to-left override) would show "report\u202Efdp.exe" as "reportexe.pdf"
        Coroutine override = Coroutine.create("report\u202Efdp.exe", () -> Coroutine.yield());
        Coroutine isolates = Coroutine.create("a\u2066b\u2067c\u2068d\u2069e\u202Af\u202Bg\u202Ch\u202Di", () -> { });
        Coroutine hebrew = Coroutine.create("\u05E9\u05DC\u05D5\u05DD \u200F", () -> { }); // letters and a right-to-left mark
        waiting.switchTo(); // parks: main runs on (the context before it in the run list)
        override.switchTo(); // yields: main runs on, the parked one skipped

        assertThat(override).hasToString("Coroutine[report\\u202efdp.exe, SUSPENDED]");
        assertThat(isolates).hasToString("Coroutine[a\\u2066b\\u2067c\\u2068d\\u2069e\\u202af\\u202bg\\u202ch\\u202di, NEW]");
        assertThat(hebrew).hasToString("Coroutine[\u05E9\u05DC\u05D5\u05DD \u200F, NEW]");
        assertThat(override.name()).as("the name itself stays as given").isEqualTo("report\u202Efdp.exe");
        assertThat(Coroutine.dump().lines().filter(l -> l.startsWith("  [")).toList()).containsExactly(
                "  [0] main: RUNNING (the caller)",
                "  [1] coroutine 'waiting': PARKED, waits to receive from channel 'in\\u2067box'",
                "  [2] coroutine 'report\\u202efdp.exe': SUSPENDED",
                "  [3] coroutine 'a\\u2066b\\u2067c\\u2068d\\u2069e\\u202af\\u202bg\\u202ch\\u202di': NEW",
                "  [4] coroutine '\u05E9\u05DC\u05D5\u05DD \u200F': NEW");
        for (Coroutine c : new Coroutine[] {override, isolates, hebrew, waiting}) {
            c.close();
        }
    }

    @Test
    void anAwaitedObjectWhoseTextHoldsAnOverrideIsShownEscapedInTheWaitOfTheDump() {
        CompletableFuture<String> future = new CompletableFuture<>() {
            @Override
            public String toString() {
                return "order \u202E42";
            }
        };
        Coroutine waiting = Coroutine.create("waiting", () -> Coroutine.await(future));
        waiting.switchTo();
        assertThat(Coroutine.dump().lines().filter(l -> l.startsWith("  [1]")).toList()).singleElement()
                .asString().endsWith("order \\u202e42").doesNotContain("\u202E");
        waiting.close();
    }
}
