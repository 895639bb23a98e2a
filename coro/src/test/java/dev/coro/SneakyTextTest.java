package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.Coroutine.State;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A {@code toString()} that throws a checked exception sneakily (which the compiler cannot see, as a
 * Kotlin or Lombok {@code @SneakyThrows} method throws it) is one that throws, as an unchecked one is:
 * a failure, a dump, a wait's description and a refused clause name the object's class and what it
 * threw, and nothing of the library's machinery is cut short by it.
 */
@ExtendWith(FreshThread.class)
class SneakyTextTest {

    /** Throws {@code t}, checked or not, where the compiler sees no checked exception. */
    @SuppressWarnings("unchecked")
    static <T extends Throwable, R> R sneakyThrow(Throwable t) throws T {
        throw (T) t;
    }

    /** An exception whose {@code toString()} throws a checked {@code IOException}. */
    static final class SneakyFailure extends RuntimeException {
        @Override
        public String toString() {
            return sneakyThrow(new IOException("no text for this exception"));
        }
    }

    /** A value whose {@code toString()} throws a checked {@code IOException}. */
    static final class SneakyValue {
        @Override
        public String toString() {
            return sneakyThrow(new IOException("no text for this value"));
        }
    }

    /** A future whose {@code toString()} throws a checked {@code IOException}. */
    static final class SneakyFuture<T> extends CompletableFuture<T> {
        @Override
        public String toString() {
            return sneakyThrow(new IOException("no text for this future"));
        }
    }

    /** A wait of the library whose description throws a checked {@code IOException}. */
    static final class SneakyWait implements Wait {
        @Override
        public boolean interrupt() {
            return true;
        }

        @Override
        public String reason() {
            return "channel";
        }

        @Override
        public String toString() {
            return sneakyThrow(new IOException("no text for this wait"));
        }
    }

    /** How a text names an object of {@code type} whose {@code toString()} threw an {@code IOException}, as a pattern. */
    private static String named(Class<?> type) {
        return type.getName().replace("$", "\\$") + "@[0-9a-f]+ \\(its toString\\(\\) threw java\\.io\\.IOException\\)";
    }

    @Test
    void aBodyWhoseFailureThrowsACheckedExceptionWhenAskedItsTextFailsAsAnyOtherAndLeavesTheRunList() {
        Coroutine c = Coroutine.create("sneaky", () -> {
            throw new SneakyFailure();
        });
        Throwable thrown = catchThrowable(c::switchTo);
        assertThat(thrown).isInstanceOf(CoroutineException.class).hasCauseInstanceOf(SneakyFailure.class)
                .message().matches("coroutine 'sneaky' failed: " + named(SneakyFailure.class));
        assertThat(c.state()).isEqualTo(State.FAILED);
        assertThat(Coroutine.dump()).as("the run list").startsWith("thread '" + Thread.currentThread().getName()
                + "': 1 context, current index 0\n  [0] main: RUNNING (the caller)\n");
        Coroutine next = Coroutine.create("next", () -> { });
        next.switchTo();
        assertThat(next.state()).as("the scheduler runs on").isEqualTo(State.FINISHED);
    }

    @Test
    void theDumpNamesAnAwaitedFutureWhoseToStringThrowsACheckedExceptionByItsClass() {
        SneakyFuture<String> f = new SneakyFuture<>();
        Coroutine awaiter = Coroutine.create("awaiter", () -> Coroutine.await(f));
        awaiter.switchTo();
        String dump = Coroutine.dump();
        f.complete("done");
        Coroutine.yield();
        assertThat(dump).containsPattern("\\[1] coroutine 'awaiter': PARKED, waits to await " + named(SneakyFuture.class) + "\n");
        assertThat(awaiter.state()).isEqualTo(State.FINISHED);
    }

    @Test
    void aSwitchToACoroutineParkedOnAWaitWhoseDescriptionThrowsACheckedExceptionNamesTheWaitByItsKind() {
        Coroutine parked = Coroutine.create("parked", () -> Scheduler.current().park(new SneakyWait()));
        parked.switchTo();
        assertThat(catchThrowable(parked::switchTo)).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot switchTo coroutine 'parked' (PARKED): it waits to channel"
                        + " (its description threw java.io.IOException); only what it waits for can wake it");
        parked.close();
        assertThat(parked.state()).isEqualTo(State.CLOSED);
    }

    @Test
    void anOnSendToAClosedChannelOfAValueWhoseToStringThrowsACheckedExceptionNamesTheValueByItsClass() {
        Channel<Object> ch = new Channel<>("ch", 1);
        ch.close();
        assertThat(catchThrowable(() -> new Select<String>().onSend(ch, new SneakyValue(), () -> "sent").select()))
                .isInstanceOf(ChannelClosedException.class)
                .message().matches("main context 'main' cannot select onSend\\(" + named(SneakyValue.class)
                        + "\\) to channel 'ch' \\(closed\\): a closed channel takes no more values, and the value was"
                        + " not delivered; leave the clause out to go on");
    }
}
