package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A user's exception whose {@code getCause()} throws, in a failure the library adds to another as suppressed,
 * neither breaks the body's end nor is lost: the library's check that adding it makes no cycle passes over a
 * cause it cannot read.
 */
@ExtendWith(FreshThread.class)
class FailureWhoseGetCauseThrowsTest {

    /** A failure whose cause cannot be read, as a proxy's or a badly written exception's may be. */
    static final class UnreadableCause extends RuntimeException {
        UnreadableCause(String message) {
            super(message);
        }

        @Override
        public synchronized Throwable getCause() {
            throw new UnsupportedOperationException("no cause here");
        }
    }

    @Test
    @Timeout(10)
    void aKeptReportOfAFailureWhoseGetCauseThrowsIsSuppressedInWhatTheBodyThrew() {
        Channel<String> done = new Channel<>("done", 0);
        UnreadableCause odd = new UnreadableCause("odd");
        IllegalStateException own = new IllegalStateException("relay's own");
        Coroutine relay = Coroutine.create("relay", () -> {
            Coroutine.create("worker", () -> {
                done.send("sent");
                done.close();
                throw odd;
            });
            done.receive();
            throw own;
        });
        Throwable thrown = catchThrowable(relay::join);
        assertThat(thrown).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'relay' failed: java.lang.IllegalStateException: relay's own").cause().isSameAs(own);
        assertThat(own.getSuppressed()).hasSize(1);
        assertThat(own.getSuppressed()[0]).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'worker' failed: dev.coro.FailureWhoseGetCauseThrowsTest$UnreadableCause: odd");
    }
}
