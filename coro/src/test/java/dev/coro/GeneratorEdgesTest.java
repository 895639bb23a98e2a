package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.coro.Generator.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.function.Consumer;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Generators, plain and read-ahead, at the edges of their use: failures met through every way of reading,
 * closes from the consumer's own code and from the body, waits cut short, and the virtual clock.
 */
@ExtendWith(FreshThread.class)
class GeneratorEdgesTest {

    private final List<String> log = new ArrayList<>();

    /** A plain generator ({@code n} of 1) or a read-ahead one of {@code n}. */
    private static <T> Generator<T> make(String name, int n, Generator.Body<T, Void> body) {
        return n == 1 ? Generator.of(name, body) : Generator.buffered(name, n, body);
    }

    /** Emits 1 to {@code k}, then throws {@code bad after k}; logs its {@code finally}. */
    private Generator.Body<Integer, Void> failingAfter(int k) {
        return out -> {
            try {
                for (int i = 1; i <= k; i++) {
                    out.emit(i);
                }
                throw new IllegalStateException("bad after " + k);
            } finally {
                log.add("finally");
            }
        };
    }

    /**
     * A body that throws after emitting k values gives each value once, in order, then its failure once,
     * as a {@code CoroutineException} naming the generator, through {@code next()}, a {@code for} loop,
     * {@code forEachRemaining}, {@code forEach} and a stream alike; then it is {@code FAILED}, {@code hasNext()}
     * is false and {@code next()} throws {@code NoSuchElementException}; its {@code finally} ran once.
     * So for a plain and a read-ahead generator (whose batch holds them all), k being 0 or 2.
     */
    @Test
    void aBodyThatFailsAfterKValuesGivesEachOnceThenItsFailureOnceThroughEveryWayOfReading() {
        List<Function<Generator<Integer>, Consumer<List<Integer>>>> ways = List.of(
                g -> got -> {
                    while (true) {
                        got.add(g.next());
                    }
                },
                g -> got -> {
                    for (int v : g) {
                        got.add(v);
                    }
                },
                g -> got -> g.forEachRemaining(got::add),
                g -> got -> g.forEach(got::add),
                g -> got -> g.stream().forEachOrdered(got::add));
        for (int n : new int[] {1, 3}) {
            for (int k : new int[] {0, 2}) {
                for (int way = 0; way < ways.size(); way++) {
                    log.clear();
                    String name = "g" + n + "-" + k + "-" + way;
                    Generator<Integer> g = make(name, n, failingAfter(k));
                    List<Integer> got = new ArrayList<>();
                    Consumer<List<Integer>> read = ways.get(way).apply(g);
                    CoroutineException failed = catchThrowableOfType(CoroutineException.class, () -> read.accept(got));
                    assertThat(failed).as(name).hasMessage("generator '" + name + "' failed: java.lang.IllegalStateException: bad after " + k);
                    assertThat(got).as(name).isEqualTo(k == 0 ? List.of() : List.of(1, 2));
                    assertThat(log).as(name).containsExactly("finally");
                    assertThat(g.state()).as(name).isEqualTo(State.FAILED);
                    assertThat(g.hasNext()).as(name).isFalse();
                    assertThat(catchThrowable(g::next)).as(name).isInstanceOf(NoSuchElementException.class)
                            .hasMessage("main context 'main' cannot take the next value of generator '" + name + "' (FAILED): it has"
                                    + " ended, and no value can come");
                    g.close();
                    assertThat(g.state()).as("a close after the failure keeps it").isEqualTo(State.FAILED);
                }
            }
        }
    }

    /**
     * An exception of the consumer's own code between two values (in a {@code for} loop's body) leaves
     * the generator {@code SUSPENDED}, its {@code finally} not run, with the next value for the next call:
     * no value is taken twice or skipped; a stream in a {@code try}-with-resources closes it, its
     * {@code finally} running once. So for a plain and a read-ahead generator.
     */
    @Test
    void anExceptionOfTheConsumersCodeBetweenTwoValuesLeavesTheRestAndATryWithResourcesStreamClosesIt() {
        for (int n : new int[] {1, 3}) {
            log.clear();
            Generator<Integer> g = make("g" + n, n, GeneratorBodies.naturals(log));
            RuntimeException consumers = new RuntimeException("the consumer fails at 2");
            Throwable thrown = catchThrowable(() -> {
                for (int v : g) {
                    if (v == 2) {
                        throw consumers;
                    }
                }
            });
            assertThat(thrown).isSameAs(consumers);
            assertThat(g.state()).isEqualTo(State.SUSPENDED);
            assertThat(log).isEmpty();
            assertThat(g.next()).as("the value after the one the consumer failed at").isEqualTo(3);
            g.close();
            assertThat(log).containsExactly("finally");

            log.clear();
            Generator<Integer> h = make("h" + n, n, GeneratorBodies.naturals(log));
            List<Integer> got = new ArrayList<>();
            thrown = catchThrowable(() -> {
                try (var values = h.stream()) {
                    values.forEach(v -> {
                        got.add(v);
                        if (v == 2) {
                            throw consumers;
                        }
                    });
                }
            });
            assertThat(thrown).isSameAs(consumers);
            assertThat(got).containsExactly(1, 2);
            assertThat(h.state()).isEqualTo(State.CLOSED);
            assertThat(log).containsExactly("finally");
        }
    }

    /**
     * A loop's action that closes the generator it iterates (a {@code for} loop, {@code forEachRemaining},
     * a stream's {@code forEach}) ends the loop after that value, without an exception: the body unwound
     * once there (a read-ahead one's values not taken dropped), the generator {@code CLOSED}.
     */
    @Test
    void aLoopWhoseActionClosesTheGeneratorEndsAfterThatValueAndTheBodyUnwindsOnce() {
        for (int n : new int[] {1, 3}) {
            for (int way = 0; way < 3; way++) {
                log.clear();
                Generator<Integer> g = make("g", n, GeneratorBodies.naturals(log));
                List<Integer> got = new ArrayList<>();
                Consumer<Integer> action = v -> {
                    got.add(v);
                    if (v == 2) {
                        g.close();
                    }
                };
                switch (way) {
                    case 0 -> {
                        for (int v : g) {
                            action.accept(v);
                        }
                    }
                    case 1 -> g.forEachRemaining(action);
                    default -> g.stream().forEach(action);
                }
                assertThat(got).as("n " + n + ", way " + way).containsExactly(1, 2);
                assertThat(log).containsExactly("finally");
                assertThat(g.state()).isEqualTo(State.CLOSED);
            }
        }
    }

    /**
     * A body that closes its own generator is refused (it cannot unwind itself from inside), naming the
     * caller, the close, the generator and {@code RUNNING}; caught, the body goes on and emits; uncaught,
     * it is the body's failure, its {@code finally} run once.
     */
    @Test
    void aBodyThatClosesItsOwnGeneratorIsRefusedAndMayGoOnOrFailWithTheRefusal() {
        for (int n : new int[] {1, 3}) {
            log.clear();
            String refusal = "main context 'main' cannot close generator 'self' (RUNNING): the call comes from inside its own"
                    + " body, which cannot resume itself";
            @SuppressWarnings("unchecked")
            Generator<Integer>[] self = new Generator[1];
            self[0] = make("self", n, out -> {
                log.add("caught: " + catchThrowable(self[0]::close).getMessage());
                out.emit(1);
                try {
                    self[0].close();
                } finally {
                    log.add("finally");
                }
            });
            assertThat(self[0].next()).isEqualTo(1);
            CoroutineException failed = catchThrowableOfType(CoroutineException.class, self[0]::next);
            assertThat(failed).hasMessage("generator 'self' failed: java.lang.IllegalStateException: " + refusal);
            assertThat(self[0].state()).isEqualTo(State.FAILED);
            assertThat(log).containsExactly("caught: " + refusal, "finally");
        }
    }

    /**
     * Two bodies that consume each other: the inner one's call on the outer generator, which is running
     * (its body is the inner's consumer), is refused; uncaught, it fails the inner generator, whose
     * failure fails the outer one.
     */
    @Test
    void twoBodiesThatConsumeEachOtherAreRefusedAndBothFail() {
        @SuppressWarnings("unchecked")
        Generator<Integer>[] gs = new Generator[2];
        gs[0] = Generator.of("a", out -> out.emit(gs[1].next()));
        gs[1] = Generator.buffered("b", 2, out -> out.emit(gs[0].next()));
        CoroutineException failed = catchThrowableOfType(CoroutineException.class, gs[0]::next);
        assertThat(failed).hasMessage("generator 'a' failed: dev.coro.CoroutineException: generator 'b' failed:"
                + " java.lang.IllegalStateException: main context 'main' cannot take the next value of generator 'a' (RUNNING):"
                + " the call comes from inside its own body, which cannot resume itself");
        assertThat(gs[0].state()).isEqualTo(State.FAILED);
        assertThat(gs[1].state()).isEqualTo(State.FAILED);
    }

    /**
     * A generator's {@code finally} that waits while {@code close()} unwinds it parks the closer, which
     * is its consumer for that close, until the wait is over (unlike a closed coroutine's, whose waits throw
     * its signal again, the closer is not being unwound); meanwhile another close is refused naming the
     * closer and what it waits for, and changes nothing; the {@code finally} runs once, to its end, and a
     * close after it is a no-op. So for a plain and a read-ahead generator.
     */
    @Test
    void aFinallyThatWaitsWhileCloseUnwindsTheBodyRunsOnceToItsEndAndAnotherCloseMeanwhileIsRefused() {
        VirtualTime.run(() -> {
            for (int n : new int[] {1, 2}) {
                log.clear();
                Generator<Integer> g = make("g", n, out -> {
                    try {
                        out.emit(1);
                        out.emit(2);
                        out.emit(3);
                    } finally {
                        log.add("finally sleeps at " + ms());
                        Coroutine.sleep(Duration.ofSeconds(1));
                        log.add("finally slept to " + ms());
                    }
                });
                assertThat(g.next()).isEqualTo(1);
                long start = ms();
                Coroutine closer = Coroutine.create("closer", () -> {
                    g.close();
                    log.add("close returned at " + ms());
                });
                Coroutine.yield(); // the closer parks in the body's finally
                assertThat(catchThrowable(g::close)).isInstanceOf(IllegalStateException.class)
                        .hasMessage("main context 'main' cannot close generator 'g' (RUNNING): its body is suspended, at a yield,"
                                + " a switchTo or a wait, inside its consumer coroutine 'closer' (PARKED), which waits to sleep"
                                + " 1,000.000 ms (t=" + String.format(Locale.ROOT, "%,d", start + 1000) + ".000 ms on the virtual"
                                + " clock, 1,000.000 ms left); only that consumer can resume it");
                closer.join();
                assertThat(log).as("n " + n).containsExactly("finally sleeps at " + start, "finally slept to " + (start + 1000),
                        "close returned at " + (start + 1000));
                assertThat(g.state()).isEqualTo(State.CLOSED);
                g.close();
                assertThat(log).hasSize(3);
            }
        });
    }

    /**
     * A consumer closed while suspended outside the body, whose try-with-resources closes the generator:
     * the body's {@code finally} runs once, its wait throwing the consumer's signal again (the consumer is
     * being unwound), a signal of its own, naming that wait, which the try-with-resources suppresses in
     * the one unwinding it (no self-suppression); the generator and the consumer end {@code CLOSED} and
     * the consumer's close throws nothing. So for a plain and a read-ahead generator.
     */
    @Test
    void aConsumerBeingClosedWhoseTryWithResourcesClosesAGeneratorWhoseFinallyWaitsEndsClosedWithTheWaitsSignalSuppressed() {
        VirtualTime.run(() -> {
            for (int n : new int[] {1, 3}) {
                log.clear();
                Generator<Integer> g = make("g", n, out -> {
                    try {
                        out.emit(1);
                        out.emit(2);
                        out.emit(3);
                    } finally {
                        log.add("finally at " + ms());
                        Coroutine.sleep(Duration.ofSeconds(1));
                        log.add("not reached: the sleep throws the consumer's signal");
                    }
                });
                Throwable[] unwound = new Throwable[1];
                Coroutine consumer = Coroutine.create("consumer", () -> {
                    try (g) {
                        log.add("took " + g.next());
                        Coroutine.yield();
                    } catch (CoroutineExit e) {
                        unwound[0] = e;
                        throw e;
                    }
                });
                consumer.switchTo();
                long start = ms();
                consumer.close();
                assertThat(log).as("n " + n).containsExactly("took 1", "finally at " + start);
                assertThat(consumer.state()).isEqualTo(Coroutine.State.CLOSED);
                assertThat(g.state()).isEqualTo(State.CLOSED);
                assertThat(ms()).as("the virtual clock did not move for the cut sleep").isEqualTo(start);
                assertThat(unwound[0]).hasMessage("coroutine 'consumer' is being closed: its yield throws this signal so that it"
                        + " unwinds (state RUNNING, closing)");
                assertThat(unwound[0].getSuppressed()).singleElement().isInstanceOf(CoroutineExit.class).isNotSameAs(unwound[0])
                        .extracting(Throwable::getMessage).asString()
                        .startsWith("coroutine 'consumer' is being closed: its sleep 1,000.000 ms");
            }
        });
    }

    /**
     * A value handed to the receive of a body whose consumer is closed before it runs again is not lost:
     * the channel being open, it goes back to it, and the next receiver takes it, once; the body and the
     * consumer unwind once each, the generator {@code CLOSED}. So for a plain and a read-ahead body.
     */
    @Test
    void aValueHandedToTheReceiveOfABodyWhoseConsumerIsClosedBeforeItRunsGoesBackToTheOpenChannel() {
        for (int n : new int[] {1, 3}) {
            log.clear();
            Channel<String> ch = new Channel<>("in", 0);
            Generator<String> g = make("relay", n, out -> {
                try {
                    for (String v : ch) {
                        out.emit(v);
                    }
                } finally {
                    log.add("body finally");
                }
            });
            Coroutine consumer = Coroutine.create("consumer", () -> {
                try {
                    for (String v : g) {
                        log.add("consumer took " + v);
                    }
                } finally {
                    log.add("consumer finally");
                }
            });
            Coroutine.yield(); // the consumer parks in the body's receive
            assertThat(ch.trySend("a")).as("handed to the parked receive").isTrue();
            consumer.close();
            assertThat(consumer.state()).isEqualTo(Coroutine.State.CLOSED);
            assertThat(g.state()).isEqualTo(State.CLOSED);
            Coroutine other = Coroutine.create("other", () -> log.add("other took " + ch.receive()));
            other.join();
            assertThat(log).as("n " + n).containsExactly("body finally", "consumer finally", "other took a");
            assertThat(ch.tryReceive()).isEmpty();
        }
    }

    /**
     * A generator made outside a {@code VirtualTime.run} and resumed inside it sleeps on the virtual clock
     * there, and on the real one after it: its body runs on the clock of the call that resumes it. One
     * made inside the run (numbered as the run's first) and left suspended goes on after the run, on the
     * real clock, where it stopped.
     */
    @Test
    void aGeneratorHeldAcrossAVirtualTimeRunRunsOnTheClockOfTheCallThatResumesIt() {
        Generator<Long> g = Generator.of("outside", out -> {
            out.emit(Coroutine.nanoTime());
            Coroutine.sleep(Duration.ofSeconds(5));
            out.emit(Coroutine.nanoTime());
            out.emit(Coroutine.nanoTime());
        });
        long before = System.nanoTime();
        assertThat(g.next()).isGreaterThanOrEqualTo(before);
        assertThat(VirtualTime.call(g::next)).as("slept 5 s on the run's clock").isEqualTo(5_000_000_000L);
        assertThat(g.next()).as("after the run, the real clock again").isGreaterThanOrEqualTo(before);
        assertThat(g.state()).isEqualTo(State.SUSPENDED);

        @SuppressWarnings("unchecked")
        Generator<String>[] inside = new Generator[1];
        String first = VirtualTime.call(() -> {
            inside[0] = Generator.of(out -> {
                out.emit("made at " + Coroutine.nanoTime());
                out.emit("then at the real clock: " + (Coroutine.nanoTime() >= before));
            });
            Coroutine.sleep(Duration.ofSeconds(2));
            return inside[0].next();
        });
        assertThat(first).isEqualTo("made at 2000000000");
        assertThat(inside[0].name()).isEqualTo("generator-1");
        assertThat(inside[0].next()).isEqualTo("then at the real clock: true");
        assertThat(inside[0].hasNext()).isFalse();
        assertThat(inside[0].state()).isEqualTo(State.FINISHED);
    }

    /** The virtual clock of the running {@code VirtualTime.run}, in milliseconds. */
    private static long ms() {
        return Coroutine.nanoTime() / 1_000_000;
    }
}
