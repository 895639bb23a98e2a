package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every call that runs a body for its value takes a body typed for a subtype of the value it gives (a
 * {@code Supplier<Integer>} where a {@code Number} is asked for), as the JDK's {@code supplyAsync} does,
 * and a generator takes a body emitting a subtype of its values and, two-way, taking replies of a
 * supertype of those its consumer sends; the value comes through unchanged. A body held in a variable
 * of the narrower type, or given with an explicit type argument, was refused by the compiler before.
 */
@ExtendWith(FreshThread.class)
@Timeout(10)
class BodiesOfASubtypeOfTheResultTest {

    private final Supplier<Integer> answer = () -> 42;
    private final Callable<String> word = () -> "word";

    @Test
    void aPoolSubmissionOfABodyOfASubtypeGivesAFutureOfTheWiderType() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            CompletableFuture<Number> number = pool.submit(answer);
            CompletableFuture<Number> named = pool.submit("answer", answer);
            CompletableFuture<CharSequence> text = pool.submitCallable(word);
            CompletableFuture<CharSequence> namedText = pool.submitCallable("word", word);
            assertThat(List.of(Coroutine.await(number), Coroutine.await(named))).containsExactly(42, 42);
            assertThat(List.of(Coroutine.await(text), Coroutine.await(namedText))).containsExactly("word", "word");
        }
    }

    @Test
    void aTimeoutOrAPermitAroundABodyOfASubtypeGivesTheWiderType() throws IOException {
        ThrowingSupplier<Integer, IOException> read = () -> 7;
        Number timed = Coroutine.<Number>withTimeout(Duration.ofSeconds(1), answer);
        Number timedCall = Coroutine.<Number, IOException>callWithTimeout(Duration.ofSeconds(1), read);
        Semaphore permits = new Semaphore("permits", 1);
        Number held = permits.<Number>withPermit(answer);
        Number heldCall = permits.<Number, IOException>callWithPermit(read);
        assertThat(List.of(timed, timedCall, held, heldCall)).containsExactly(42, 7, 42, 7);
        assertThat(permits.availablePermits()).isEqualTo(1);
    }

    @Test
    void aGeneratorOfABodyEmittingASubtypeGivesItsValuesAsTheWiderType() {
        Generator.Body<Integer, Void> squares = out -> {
            for (int i = 1; i <= 3; i++) {
                out.emit(i * i);
            }
        };
        try (Generator<Number> plain = Generator.of(squares);
             Generator<Number> named = Generator.of("squares", squares);
             Generator<Number> ahead = Generator.buffered(2, squares);
             Generator<Number> namedAhead = Generator.buffered("ahead", 2, squares)) {
            assertThat(plain.stream().toList()).containsExactly(1, 4, 9);
            assertThat(named.stream().toList()).containsExactly(1, 4, 9);
            assertThat(ahead.stream().toList()).containsExactly(1, 4, 9);
            assertThat(namedAhead.stream().toList()).containsExactly(1, 4, 9);
        }
    }

    @Test
    void aTwoWayGeneratorOfABodyTakingRepliesOfASupertypeGetsTheRepliesItsConsumerSends() {
        Generator.Body<Integer, Number> total = out -> {
            int sum = 0;
            while (true) {
                Number reply = out.emit(sum);
                sum += reply == null ? 0 : reply.intValue();
            }
        };
        try (Generator.TwoWay<Number, Integer> plain = Generator.twoWay(total);
             Generator.TwoWay<Number, Integer> named = Generator.twoWay("total", total)) {
            assertThat(plain.next()).isEqualTo(0);
            assertThat(plain.send(5)).isEqualTo(5);
            assertThat(plain.send(2)).isEqualTo(7);
            assertThat(named.next()).isEqualTo(0);
            assertThat(named.send(3)).isEqualTo(3);
        }
    }
}
