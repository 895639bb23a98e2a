package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.coro.Coroutine.State;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A Go pipeline ported to coro, whose last stage stops early: it closes its input with a cause
 * ({@link Channel#close(Throwable)}), each earlier stage is refused with that cause and closes its own
 * input with it, so every stage unwinds, none is left parked, and every value whose send returned is
 * received exactly once (by the next stage, or left in the closed channel for a drain).
 */
@ExtendWith(FreshThread.class)
@Timeout(60)
class GoPipelineStoppedEarlyTest {

    /** The lines of {@code dump} that name a context and its state, without their frames. */
    private static List<String> contexts(String dump) {
        return dump.lines().filter(l -> l.startsWith("  [")).toList();
    }

    /** What is left in {@code ch} (closed), taken with {@code tryReceive} until none is. */
    private static <T> List<T> drain(Channel<T> ch) {
        List<T> left = new ArrayList<>();
        for (Optional<T> v; (v = ch.tryReceive()).isPresent(); ) {
            left.add(v.get());
        }
        return left;
    }

    @Test
    void underVirtualTimeTheStagesUnwindInTurnWithTheSinksCauseAndEverySentValueIsReceivedOnce() {
        VirtualTime.run(() -> {
            Channel<Integer> numbers = new Channel<>("numbers", 0);
            Channel<Integer> squares = new Channel<>("squares", 2);
            IllegalStateException enough = new IllegalStateException("the sink has enough");
            List<Integer> sent = new ArrayList<>();
            List<Integer> taken = new ArrayList<>();
            List<Integer> passedOn = new ArrayList<>();
            List<String> ends = new ArrayList<>();
            Coroutine generator = Coroutine.create("generator", () -> {
                try {
                    for (int i = 1; ; i++) {
                        numbers.send(i);
                        sent.add(i);
                    }
                } catch (ChannelClosedException e) {
                    ends.add(e.getMessage() + (e.getCause() == enough ? " (the sink's cause)" : " (another cause)"));
                }
            });
            Coroutine square = Coroutine.create("square", () -> {
                try {
                    for (int n : numbers) {
                        taken.add(n);
                        squares.send(n * n);
                        passedOn.add(n * n);
                    }
                } catch (ChannelClosedException e) {
                    ends.add(e.getMessage() + (e.getCause() == enough ? " (the sink's cause)" : " (another cause)"));
                    numbers.close(e.getCause()); // Go's "defer close", with the reason: the generator stops too
                }
            });
            List<Integer> received = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                received.add(squares.receive());
            }
            assertThat(contexts(Coroutine.dump())).as("the earlier stages as the sink stops").containsExactly(
                    "  [0] main: RUNNING (the caller)",
                    "  [1] coroutine 'generator': PARKED, waits to send to channel 'numbers'",
                    "  [2] coroutine 'square': SUSPENDED");
            squares.close(enough);
            generator.join();
            square.join();

            assertThat(received).containsExactly(1, 4, 9, 16, 25);
            assertThat(ends).containsExactly(
                    "coroutine 'square' cannot send to channel 'squares' (closed): a closed channel takes no more values"
                            + ", and the value was not delivered (the sink's cause)",
                    "coroutine 'generator' cannot send to channel 'numbers' (closed): the channel was closed while it"
                            + " waited, and the value was not delivered (the sink's cause)");
            assertThat(generator.state()).isEqualTo(State.FINISHED);
            assertThat(square.state()).isEqualTo(State.FINISHED);
            assertThat(contexts(Coroutine.dump())).as("no stage is left").containsExactly("  [0] main: RUNNING (the caller)");
            List<Integer> numbersLeft = drain(numbers);
            List<Integer> squaresLeft = drain(squares);
            assertThat(sent).as("the generator's sends that returned").containsExactly(1, 2, 3, 4, 5, 6, 7);
            assertThat(taken).as("each received once by the square stage, nothing left").isEqualTo(sent);
            assertThat(numbersLeft).isEmpty();
            assertThat(passedOn).as("the square stage's sends that returned; it took 7 and dropped it as it stopped")
                    .containsExactly(1, 4, 9, 16, 25, 36);
            List<Integer> sinkSide = new ArrayList<>(received);
            sinkSide.addAll(squaresLeft);
            assertThat(sinkSide).as("received by the sink, or left in the closed channel").isEqualTo(passedOn);
            ChannelClosedException drained = catchThrowableOfType(ChannelClosedException.class, numbers::receive);
            assertThat(drained).hasMessage("main context 'main' cannot receive from channel 'numbers' (closed): no value"
                    + " is left in it, and none can come").hasCause(enough);
        });
    }

    @Test
    void onAPoolTheStagesUnwindWithTheSinksCauseAndEverySentValueIsReceivedOnceWhateverTheCapacities() {
        for (int round = 0; round < 9; round++) {
            Channel<Integer> numbers = new Channel<>("numbers", round % 3);
            Channel<Integer> squares = new Channel<>("squares", round / 3);
            IllegalStateException enough = new IllegalStateException("the sink has enough");
            List<Integer> sent = Collections.synchronizedList(new ArrayList<>());
            List<Integer> taken = Collections.synchronizedList(new ArrayList<>());
            List<Integer> passedOn = Collections.synchronizedList(new ArrayList<>());
            List<Integer> dropped = Collections.synchronizedList(new ArrayList<>());
            List<Throwable> causes = Collections.synchronizedList(new ArrayList<>());
            int wanted = 1 + 7 * round;
            List<Integer> received = new ArrayList<>();
            try (CoroutinePool pool = CoroutinePool.start(2)) {
                CompletableFuture<Void> generator = pool.submit("generator", () -> {
                    try {
                        for (int i = 1; ; i++) {
                            numbers.send(i);
                            sent.add(i);
                        }
                    } catch (ChannelClosedException e) {
                        causes.add(e.getCause());
                    }
                    return null;
                });
                List<CompletableFuture<Void>> workers = new ArrayList<>();
                for (int w = 0; w < 2; w++) {
                    workers.add(pool.submit("square-" + w, () -> {
                        Integer holding = null;
                        try {
                            for (int n : numbers) {
                                holding = n;
                                taken.add(n);
                                squares.send(n * 1000);
                                passedOn.add(n);
                                holding = null;
                            }
                        } catch (ChannelClosedException e) {
                            if (holding != null) {
                                dropped.add(holding);
                            }
                            causes.add(e.getCause());
                            numbers.close(e.getCause());
                        }
                        return null;
                    }));
                }
                for (int i = 0; i < wanted; i++) {
                    received.add(squares.receive() / 1000);
                }
                squares.close(enough);
                Coroutine.await(generator);
                for (CompletableFuture<Void> w : workers) {
                    Coroutine.await(w);
                }
            }
            String at = "round " + round + " (capacities " + numbers.capacity() + " and " + squares.capacity() + ")";
            assertThat(causes).as(at + ": every stage ended with the sink's cause").hasSize(3).allMatch(c -> c == enough);
            List<Integer> intoSquareStage = new ArrayList<>(taken);
            intoSquareStage.addAll(drain(numbers));
            assertThat(sorted(intoSquareStage)).as(at + ": each number sent was taken once or left").isEqualTo(sorted(sent));
            List<Integer> intoSink = new ArrayList<>(received);
            intoSink.addAll(drain(squares).stream().map(v -> v / 1000).toList());
            assertThat(sorted(intoSink)).as(at + ": each square sent was received once or left").isEqualTo(sorted(passedOn));
            assertThat(taken).as(at + ": every number taken was passed on or dropped as its stage stopped")
                    .hasSize(passedOn.size() + dropped.size());
            assertThat(received).as(at).hasSize(wanted).doesNotHaveDuplicates();
        }
    }

    private static List<Integer> sorted(List<Integer> values) {
        List<Integer> s = new ArrayList<>(values);
        Collections.sort(s);
        return s;
    }
}
