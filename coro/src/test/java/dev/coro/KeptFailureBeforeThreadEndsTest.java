package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A failure kept for main's next scheduling point (main's receive was handed a value before its channel
 * closed, and a coroutine failed before main ran again) is thrown by the first scheduling point main
 * reaches, a lone {@code Coroutine.yield()} included: what a thread that must not lose it calls before it
 * returns, since the library learns nothing of a thread's end (docs/SEMANTICS.md, How a program ends).
 */
@ExtendWith(FreshThread.class)
class KeptFailureBeforeThreadEndsTest {

    /**
     * Main parks in a receive; the coroutine sends, closes the channel and fails: main's receive returns
     * the value, the coroutine's failure kept, and main's yield, with nothing else to run, throws it.
     */
    @Test
    @Timeout(10)
    void aYieldBeforeTheThreadReturnsThrowsTheFailureKeptForMain() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        IllegalStateException failure = new IllegalStateException("after close");
        Coroutine s = Coroutine.create("s", () -> {
            ch.send(1);
            ch.close();
            throw failure;
        });

        assertThat(ch.receive()).isEqualTo(1);
        assertThat(s.state()).isEqualTo(Coroutine.State.FAILED);

        assertThatThrownBy(Coroutine::yield).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 's' failed: java.lang.IllegalStateException: after close")
                .cause().isSameAs(failure);
        Coroutine.yield(); // thrown once: nothing is kept any more
    }

    /**
     * The same on a thread that returns right after main's receive, reaching no scheduling point: the
     * failure kept for main is lost, printing nothing. The thread ends as usual (its uncaught-exception
     * handler gets nothing), and the library neither logs it nor writes it to standard error: it learns
     * nothing of a thread's end.
     */
    @Test
    @Timeout(10)
    void aThreadThatReturnsBeforeMainReachesASchedulingPointLosesTheKeptFailurePrintingNothing() throws Exception {
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        List<Throwable> uncaught = Collections.synchronizedList(new ArrayList<>());
        List<String> warnings = new ArrayList<>();
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            LoggedWarnings.during(warnings, m -> true, () -> {
                Thread t = Thread.ofPlatform().name("returns").uncaughtExceptionHandler((th, e) -> uncaught.add(e)).start(() -> {
                    Channel<Integer> ch = new Channel<>("ch", 0);
                    Coroutine s = Coroutine.create("s", () -> {
                        ch.send(1);
                        ch.close();
                        throw new IllegalStateException("lost after close");
                    });
                    seen.add("received " + ch.receive() + ", s " + s.state());
                });
                t.join();
                return null;
            });
        } finally {
            System.setErr(err);
        }
        assertThat(seen).containsExactly("received 1, s FAILED");
        assertThat(uncaught).as("the thread ended as usual").isEmpty();
        List<String> logged;
        synchronized (warnings) { // a warning of any thread is taken, added under the list's lock: so is it read
            logged = List.copyOf(warnings);
        }
        assertThat(logged).as("nothing logged").noneMatch(m -> m.contains("lost after close"));
        assertThat(captured.toString(StandardCharsets.UTF_8)).as("nothing printed").doesNotContain("lost after close");
    }
}
