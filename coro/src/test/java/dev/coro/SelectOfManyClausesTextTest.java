package dev.coro;

import static dev.coro.ThreadNames.thread;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A select over thousands of channels (a fan-in) is named by its first twenty clauses and a count of the rest,
 * wherever a text names it: its {@code toString()}, the dump of a context parked in it, a deadlock report of its
 * wait and the signal of a timeout that cuts it short. Each of those texts listed every clause, so a fan-in over
 * ten thousand channels made every dump line and deadlock report of its wait hundreds of kilobytes long. The
 * select itself still waits on every channel: a value sent on the last one fires its clause.
 */
@ExtendWith(FreshThread.class)
@Timeout(60)
class SelectOfManyClausesTextTest {

    private static final int CHANNELS = 10_000;

    /** How the first twenty receive clauses over channels {@code c0}, {@code c1}, … are named. */
    private static final String FIRST_TWENTY = IntStream.range(0, 20).mapToObj(i -> "receive from channel 'c" + i + "'")
            .collect(Collectors.joining(", "));

    /** A receive clause on each of {@link #CHANNELS} rendezvous channels {@code c0}, {@code c1}, …, saying which fired. */
    private static Select<String> fanIn(List<Channel<String>> channels) {
        Select<String> select = new Select<>();
        for (int i = 0; i < CHANNELS; i++) {
            Channel<String> ch = new Channel<>("c" + i, 0);
            channels.add(ch);
            int k = i;
            select.onReceive(ch, v -> "c" + k + " gave " + v);
        }
        return select;
    }

    @Test
    void aCoroutineParkedInASelectOverTenThousandChannelsIsDumpedWithItsFirstTwentyClausesThenACountAndFiresOnTheLast() {
        List<Channel<String>> channels = new ArrayList<>();
        Select<String> select = fanIn(channels);
        List<String> got = new ArrayList<>();
        Coroutine fanIn = Coroutine.create("fan-in", () -> got.add(select.select()));
        Coroutine.yield(); // it parks on every channel

        assertThat(Coroutine.dump()).contains("\n  [1] coroutine 'fan-in': PARKED, waits to select over " + FIRST_TWENTY
                + ", \u2026(+9980 more clauses)\n");
        assertThat(select).hasToString("Select[" + FIRST_TWENTY + ", \u2026(+9980 more clauses)]");
        assertThat(channels.getLast().trySend("last")).as("the last clause waits on its channel").isTrue();
        Coroutine.yield();
        assertThat(fanIn.isFinished()).isTrue();
        assertThat(got).containsExactly("c9999 gave last");
    }

    @Test
    void theDeadlockOfMainAloneInASelectOverTenThousandChannelsNamesItsFirstTwentyClausesThenACount() {
        Select<String> select = fanIn(new ArrayList<>());
        String wait = "select over " + FIRST_TWENTY + ", \u2026(+9980 more clauses)";

        Throwable t = catchThrowable(select::select);

        assertThat(t).isInstanceOf(DeadlockException.class).hasMessage("main context 'main' cannot " + wait
                + ": every other context of thread " + thread() + " is parked and no timer is pending, so nothing could"
                + " ever wake it (deadlock):\n  main context 'main' would wait to " + wait);
        assertThat(((DeadlockException) t).waits()).containsExactly("main context 'main' would wait to " + wait);
    }

    @Test
    void theSignalOfATimeoutCuttingShortASelectOverTenThousandChannelsNamesItsFirstTwentyClausesThenACount() {
        Select<String> select = fanIn(new ArrayList<>());
        VirtualTime.run(() -> {
            Throwable t = catchThrowable(() -> Coroutine.withTimeout(Duration.ofSeconds(1), select::select));
            assertThat(t).isExactlyInstanceOf(CoroutineTimeoutException.class);
            assertThat(t.getCause()).hasMessage("main context 'main': its withTimeout(PT1S) expired; its select over "
                    + FIRST_TWENTY + ", \u2026(+9980 more clauses) throws this signal so that the body unwinds to it");
        });
    }

    @Test
    void aSelectOfTwentyOneClausesCountsTheLastAsOneMoreAndItsDefaultComesAfterTheCount() {
        Select<String> select = new Select<>();
        for (int i = 0; i < 21; i++) {
            select.onReceive(new Channel<String>("c" + i, 0), v -> v);
        }
        assertThat(select).hasToString("Select[" + FIRST_TWENTY + ", \u2026(+1 more clause)]");
        assertThat(select.onDefault(() -> "none").select()).isEqualTo("none");
        assertThat(select).hasToString("Select[" + FIRST_TWENTY + ", \u2026(+1 more clause), default]");
    }
}
