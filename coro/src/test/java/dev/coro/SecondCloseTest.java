package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A second {@code close()} of a channel, a coroutine or a generator changes nothing, as {@link AutoCloseable}
 * asks of a close: whatever state the first left it in (never started, unwound from a park or an
 * {@code emit}, ended, or failed while being unwound, which the first close reported), it throws nothing,
 * runs no {@code finally} again and keeps the state; each test on a fresh thread of its own
 * ({@link FreshThread}).
 */
@ExtendWith(FreshThread.class)
class SecondCloseTest {

    private final List<String> log = new ArrayList<>();

    @Test
    void aSecondCloseOfAChannelWithACauseOrNotChangesNothingAndLeavesItsBufferedValues() {
        Channel<Integer> ch = new Channel<>("numbers", 2);
        ch.send(1);
        ch.close();
        ch.close();
        ch.close(new IllegalStateException("too late"));
        assertThat(ch.isClosed()).isTrue();
        assertThat(ch.closeCause()).as("only the first close counts").isEmpty();
        assertThat(ch.receive()).isEqualTo(1);
        assertThat(ch.iterator().hasNext()).as("drained: the end, not the later close's cause").isFalse();
    }

    @Test
    void aSecondCloseOfACoroutineChangesNothingWhateverTheFirstLeftItIn() {
        Channel<Integer> never = new Channel<>("never", 0); // nobody sends: a coroutine receiving from it stays parked
        Coroutine parked = Coroutine.create("parked", () -> {
            try {
                never.receive();
            } finally {
                log.add("parked unwound");
            }
        });
        Coroutine leaky = Coroutine.create("leaky", () -> {
            try {
                never.receive();
            } finally {
                log.add("leaky unwound");
                throw new IllegalStateException("from its finally");
            }
        });
        Coroutine done = Coroutine.create("done", () -> log.add("done ran"));
        done.join();
        assertThat(List.of(parked.state(), leaky.state())).containsOnly(Coroutine.State.PARKED);
        Coroutine fresh = Coroutine.create("fresh", () -> log.add("fresh ran"));
        log.clear();

        fresh.close();
        parked.close();
        assertThatThrownBy(leaky::close).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'leaky' failed while being closed: java.lang.IllegalStateException: from its finally");
        done.close();
        assertThat(log).containsExactly("parked unwound", "leaky unwound");
        for (Coroutine c : List.of(fresh, parked, leaky, done)) {
            c.close();
        }
        assertThat(log).as("no body ran again").containsExactly("parked unwound", "leaky unwound");
        assertThat(List.of(fresh.state(), parked.state(), leaky.state(), done.state())).containsExactly(
                Coroutine.State.CLOSED, Coroutine.State.CLOSED, Coroutine.State.FAILED, Coroutine.State.FINISHED);
    }

    @Test
    void aSecondCloseOfAGeneratorChangesNothingWhateverTheFirstLeftItIn() {
        Generator<Integer> fresh = Generator.of("fresh", out -> log.add("fresh ran"));
        Generator<Integer> suspended = Generator.of("suspended", out -> {
            try {
                out.emit(1);
            } finally {
                log.add("suspended unwound");
            }
        });
        Generator<Integer> ahead = Generator.buffered("ahead", 2, out -> {
            try {
                for (int i = 1; ; i++) {
                    out.emit(i);
                }
            } finally {
                log.add("ahead unwound");
            }
        });
        Generator<Integer> leaky = Generator.of("leaky", out -> {
            try {
                out.emit(1);
            } finally {
                log.add("leaky unwound");
                throw new IllegalStateException("from its finally");
            }
        });
        Generator<Integer> done = Generator.of("done", out -> out.emit(1));
        suspended.next();
        ahead.next();
        leaky.next();
        done.forEachRemaining(v -> { });

        fresh.close();
        suspended.close();
        ahead.close();
        assertThatThrownBy(leaky::close).isInstanceOf(CoroutineException.class)
                .hasMessage("generator 'leaky' failed while being closed: java.lang.IllegalStateException: from its finally");
        done.close();
        assertThat(log).containsExactly("suspended unwound", "ahead unwound", "leaky unwound");
        for (Generator<Integer> g : List.of(fresh, suspended, ahead, leaky, done)) {
            g.close();
            assertThat(g.hasNext()).as(g.name()).isFalse();
        }
        assertThat(log).as("no body ran again").containsExactly("suspended unwound", "ahead unwound", "leaky unwound");
        assertThat(List.of(fresh.state(), suspended.state(), ahead.state(), leaky.state(), done.state())).containsExactly(
                Generator.State.CLOSED, Generator.State.CLOSED, Generator.State.CLOSED, Generator.State.FAILED,
                Generator.State.FINISHED);
    }
}
