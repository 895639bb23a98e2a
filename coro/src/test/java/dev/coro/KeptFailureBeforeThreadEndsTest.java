package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
}
