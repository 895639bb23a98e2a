package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.coro.Generator.State;
import java.io.IOException;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.concurrent.atomic.AtomicReference;
import jdk.internal.vm.Continuation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.ExtendWith;

/** The read-ahead generator of {@link Generator#buffered(String, int, Generator.Body)}, on the engine the suite runs with. */
@ExtendWith(FreshThread.class)
class BufferedGeneratorTest {

    private final List<String> log = new ArrayList<>();

    /** Emits 1 to {@code count}, logging each emit before it happens and its end. */
    private Generator<Integer> counting(String name, int n, int count) {
        return Generator.buffered(name, n, GeneratorBodies.counting(log, name, count));
    }

    @Test
    void nothingRunsBeforeTheFirstRequestThenTheBodyRunsAheadByOneBatch() {
        Generator<Integer> g = counting("g", 3, 5);
        assertThat(log).isEmpty();
        assertThat(g.state()).isEqualTo(State.NEW);

        assertThat(g.hasNext()).isTrue();
        assertThat(log).as("one resume ran the body up to its 3rd emit").containsExactly("g emits 1", "g emits 2", "g emits 3");
        assertThat(g.state()).isEqualTo(State.SUSPENDED);
        assertThat(g.next()).isEqualTo(1);
        assertThat(g.next()).isEqualTo(2);
        assertThat(g.next()).isEqualTo(3);
        assertThat(log).as("taking the batch ran nothing").hasSize(3);

        assertThat(g.next()).isEqualTo(4);
        assertThat(log).containsExactly("g emits 1", "g emits 2", "g emits 3", "g emits 4", "g emits 5", "g ends");
        assertThat(g.state()).as("the body ended, a value still waits").isEqualTo(State.SUSPENDED);
        assertThat(g.next()).isEqualTo(5);
        assertThat(g.state()).isEqualTo(State.SUSPENDED);
        assertThat(g.hasNext()).isFalse();
        assertThat(g.state()).isEqualTo(State.FINISHED);
        assertThatThrownBy(g::next).isInstanceOf(NoSuchElementException.class)
                .hasMessage("main context 'main' cannot take the next value of generator 'g' (FINISHED): it has ended,"
                        + " and no value can come");
    }

    @Test
    void sideEffectsOfTheBodyRunAheadOfTheConsumerByAtMostNValues() {
        int n = 4;
        int[] emitted = {0};
        Generator<Integer> g = Generator.buffered("ahead", n, out -> {
            for (int i = 1; i <= 30; i++) {
                emitted[0]++;
                out.emit(i);
            }
        });
        List<Integer> aheadAfterEachTake = new ArrayList<>();
        int taken = 0;
        while (g.hasNext()) {
            assertThat(g.next()).isEqualTo(++taken);
            aheadAfterEachTake.add(emitted[0] - taken);
        }
        assertThat(taken).isEqualTo(30);
        assertThat(aheadAfterEachTake).as("emitted but not yet taken, after each take")
                .allSatisfy(ahead -> assertThat(ahead).isBetween(0, n - 1));
        assertThat(aheadAfterEachTake.subList(0, 8)).as("a batch of n per resume").containsExactly(3, 2, 1, 0, 3, 2, 1, 0);
    }

    /** The values of the last batch, all taken, are held by the generator no longer once its body has ended. */
    @Test
    @Timeout(30)
    void anExhaustedBufferedGeneratorKeepsNoneOfItsValuesReachable() {
        List<WeakReference<Object>> refs = new ArrayList<>();
        Generator<Object> g = Generator.buffered("payloads", 4, out -> {
            for (int i = 0; i < 3; i++) {
                Object v = new byte[1 << 10];
                refs.add(new WeakReference<>(v));
                out.emit(v);
            }
        });
        int taken = 0;
        while (g.hasNext()) {
            assertThat(g.next()).isNotNull();
            taken++;
        }
        assertThat(taken).isEqualTo(3);
        assertThat(Collected.all(refs)).as("the values taken, with the generator still held").isTrue();
        assertThat(g.hasNext()).isFalse();
    }

    @Test
    void aFailureArrivesAfterEveryValueEmittedBeforeIt() {
        IOException boom = new IOException("disk gone");
        Generator<Integer> g = Generator.buffered("reader", 4, out -> {
            try {
                for (int i = 1; i <= 6; i++) {
                    out.emit(i);
                }
                throw boom;
            } finally {
                log.add("finally");
            }
        });
        List<Integer> seen = new ArrayList<>();
        for (int k = 0; k < 6; k++) {
            seen.add(g.next());
            assertThat(g.state()).isEqualTo(State.SUSPENDED);
        }
        assertThat(seen).containsExactly(1, 2, 3, 4, 5, 6);
        assertThat(log).as("the body ran ahead into its failure").containsExactly("finally");
        assertThatThrownBy(g::hasNext).isInstanceOf(CoroutineException.class)
                .hasMessage("generator 'reader' failed: java.io.IOException: disk gone")
                .cause().isSameAs(boom);
        assertThat(g.state()).isEqualTo(State.FAILED);
        assertThat(g.hasNext()).as("a failed generator has no more values, and the failure is told once").isFalse();
    }

    /**
     * A coroutine the body creates is its consumer's child: its failure, delivered to the consumer at
     * the body's yield and left uncaught, reaches the consumer at once (as a timeout of the consumer
     * would), not as the body's failure after the values; the values stay the consumer's.
     */
    @Test
    void aChildsFailureDeliveredToTheConsumerInsideTheBodyPassesOnAtOnceAndLeavesTheValuesForTheConsumer() {
        IllegalStateException boom = new IllegalStateException("boom");
        Generator<Integer> g = Generator.buffered("reader", 4, out -> {
            out.emit(1);
            out.emit(2);
            Coroutine.create("child", () -> {
                throw boom;
            });
            Coroutine.yield(); // main, the consumer, runs the child, which fails
            out.emit(3);
        });
        assertThatThrownBy(g::hasNext).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'child' failed: java.lang.IllegalStateException: boom")
                .cause().isSameAs(boom);
        assertThat(g.state()).isEqualTo(State.SUSPENDED);
        assertThat(g.next()).isEqualTo(1);
        assertThat(g.next()).isEqualTo(2);
        assertThat(g.hasNext()).isFalse();
        assertThat(g.state()).isEqualTo(State.CLOSED);
    }

    /**
     * That failure, once it has passed on to its consumer's own code (main caught it), is any exception
     * to a body that throws it again: a read-ahead body that throws it after emitting fails with it, the
     * consumer meeting the report naming that generator after the values, as for any failure.
     */
    @Test
    void aChildsFailureThatPassedOnWithValuesWaitingIsTheFailureOfAReadAheadBodyThatThrowsItLater() {
        IllegalStateException boom = new IllegalStateException("boom");
        Generator<Integer> g = Generator.buffered("reader", 4, out -> {
            out.emit(1);
            Coroutine.create("child", () -> {
                throw boom;
            });
            Coroutine.yield(); // main, the consumer, runs the child, which fails
            out.emit(2);
        });
        CoroutineException kept = catchThrowableOfType(CoroutineException.class, g::hasNext);
        assertThat(kept).hasMessage("coroutine 'child' failed: java.lang.IllegalStateException: boom");
        assertThat(g.next()).isEqualTo(1);
        assertThat(g.hasNext()).isFalse();
        assertThat(g.state()).isEqualTo(State.CLOSED);
        Generator<Integer> again = Generator.buffered("again", 4, out -> {
            out.emit(10);
            throw kept;
        });
        assertThat(again.next()).isEqualTo(10);
        CoroutineException failed = catchThrowableOfType(CoroutineException.class, again::next);
        assertThat(failed.getMessage()).isEqualTo("generator 'again' failed: dev.coro.CoroutineException: coroutine 'child'"
                + " failed: java.lang.IllegalStateException: boom");
        assertThat(failed.getCause()).isSameAs(kept);
        assertThat(again.state()).isEqualTo(State.FAILED);
    }

    /**
     * A read-ahead body that catches the failure delivered at its yield and emits on before it throws it
     * again fails with it, as a plain body that handed a value over does: the consumer takes every value
     * emitted before the throw, those before the yield and the one after the catch, in order, then meets
     * the report naming the generator, once.
     */
    @Test
    void aChildsFailureAReadAheadBodyCaughtAndThrowsAgainAfterEmittingIsItsFailureAfterTheValues() {
        IllegalStateException boom = new IllegalStateException("boom");
        AtomicReference<CoroutineException> kept = new AtomicReference<>();
        Generator<Integer> g = Generator.buffered("reader", 4, out -> {
            out.emit(1);
            Coroutine.create("child", () -> {
                throw boom;
            });
            try {
                Coroutine.yield(); // main, the consumer, runs the child, which fails
            } catch (CoroutineException e) {
                kept.set(e);
            }
            out.emit(2);
            throw kept.get();
        });
        assertThat(g.next()).isEqualTo(1);
        assertThat(g.state()).isEqualTo(State.SUSPENDED);
        assertThat(g.next()).isEqualTo(2);
        CoroutineException failed = catchThrowableOfType(CoroutineException.class, g::next);
        assertThat(failed).hasMessage("generator 'reader' failed: dev.coro.CoroutineException: coroutine 'child'"
                + " failed: java.lang.IllegalStateException: boom");
        assertThat(failed.getCause()).isSameAs(kept.get());
        assertThat(g.state()).isEqualTo(State.FAILED);
        assertThat(g.hasNext()).isFalse();
    }

    /**
     * The same whatever the batch held when the failure was thrown at the body's yield (nothing, or a
     * value) and whether the values emitted after the catch filled it (the body then suspends, and throws
     * the failure in a later resume): every value in order, then the report naming the generator, once;
     * as a plain generator (n of 1) gives them.
     */
    @Test
    void aChildsFailureCaughtAndThrownAgainAfterEmittingComesAfterTheValuesWhateverTheBatchHeldOrWhetherItFilled() {
        for (int before = 0; before <= 1; before++) {
            for (int after = 1; after <= 2; after++) {
                for (int n : new int[] {1, 2, 4}) {
                    int emittedBefore = before;
                    int emittedAfter = after;
                    Generator<Integer> g = Generator.buffered("reader", n, out -> {
                        for (int i = 1; i <= emittedBefore; i++) {
                            out.emit(i);
                        }
                        Coroutine.create("child", () -> {
                            throw new IllegalStateException("boom");
                        });
                        CoroutineException kept = catchThrowableOfType(CoroutineException.class, Coroutine::yield);
                        for (int i = 1; i <= emittedAfter; i++) {
                            out.emit(10 + i);
                        }
                        throw kept;
                    });
                    String as = "before " + before + ", after " + after + ", n " + n;
                    List<Integer> got = new ArrayList<>();
                    CoroutineException failed = catchThrowableOfType(CoroutineException.class, () -> g.forEachRemaining(got::add));
                    assertThat(failed).as(as).hasMessage("generator 'reader' failed: dev.coro.CoroutineException: coroutine"
                            + " 'child' failed: java.lang.IllegalStateException: boom");
                    List<Integer> expected = new ArrayList<>(before == 1 ? List.of(1) : List.of());
                    expected.addAll(after == 1 ? List.of(11) : List.of(11, 12));
                    assertThat(got).as(as).isEqualTo(expected);
                    assertThat(g.state()).as(as).isEqualTo(State.FAILED);
                    assertThat(g.hasNext()).as(as).isFalse();
                }
            }
        }
    }

    @Test
    void aFailureAtTheStartOfABatchArrivesFromTheCallThatRanIt() {
        Generator<Integer> g = Generator.buffered("g", 2, out -> {
            out.emit(1);
            out.emit(2);
            throw new IllegalArgumentException("bad");
        });
        assertThat(g.next()).isEqualTo(1);
        assertThat(g.next()).isEqualTo(2);
        assertThatThrownBy(g::next).isInstanceOf(CoroutineException.class).cause().hasMessage("bad");
        assertThat(g.state()).isEqualTo(State.FAILED);
    }

    @Test
    void closeDropsTheBufferedValuesAndUnwindsTheBodySoItsFinallyRuns() {
        Generator<Integer> g = Generator.buffered("naturals", 8, GeneratorBodies.naturals(log));
        assertThat(g.next()).isEqualTo(1);
        g.close();
        assertThat(log).containsExactly("finally");
        assertThat(g.state()).isEqualTo(State.CLOSED);
        assertThat(g.hasNext()).as("the 7 values left were dropped").isFalse();
        assertThatThrownBy(g::next).isInstanceOf(NoSuchElementException.class);
        g.close();
        assertThat(g.state()).isEqualTo(State.CLOSED);
    }

    @Test
    void closeUnwindsTheBodyFromTheEmitThatFilledItsBatch() {
        Generator<Integer> g = Generator.buffered("pairs", 2, out -> {
            try {
                for (int i = 1; ; i++) {
                    out.emit(i);
                    log.add("emit of " + i + " returned");
                }
            } finally {
                log.add("finally");
            }
        });
        assertThat(g.next()).isEqualTo(1);
        assertThat(log).as("the emit of 2 filled the batch and suspended the body").containsExactly("emit of 1 returned");
        g.close();
        assertThat(log).as("that emit threw the exit signal").containsExactly("emit of 1 returned", "finally");
        assertThat(g.state()).isEqualTo(State.CLOSED);
    }

    @Test
    void closeAfterTheBodyEndedWithValuesWaitingDropsThemAndTheFailureNotYetMet() {
        Generator<Integer> g = Generator.buffered("g", 5, out -> {
            try {
                out.emit(1);
                out.emit(2);
                throw new IOException("never seen");
            } finally {
                log.add("finally");
            }
        });
        assertThat(g.next()).isEqualTo(1);
        assertThat(log).containsExactly("finally");
        g.close();
        assertThat(g.state()).isEqualTo(State.CLOSED);
        assertThat(g.hasNext()).isFalse();
        assertThat(log).as("the body had already unwound; nothing runs again").containsExactly("finally");
    }

    @Test
    void everyEmitDuringTheUnwindingOfABufferedBodyThrowsTheExitSignalAgain() {
        Generator<Integer> g = Generator.buffered("stubborn", 3, out -> {
            try {
                for (int i = 1; ; i++) {
                    out.emit(i);
                }
            } catch (CoroutineExit swallowed) {
                log.add("swallowed");
                out.emit(-1);
                log.add("unreachable");
            }
        });
        g.next();
        g.close();
        assertThat(log).containsExactly("swallowed");
        assertThat(g.state()).isEqualTo(State.CLOSED);
    }

    @Test
    void closeOfAnUnstartedBufferedGeneratorNeverRunsItsBody() {
        GeneratorBodies.assertCloseBeforeTheFirstRequestRunsNothing(counting("g", 4, 10), log);
    }

    @Test
    void aReadAheadOfIntegerMaxValueValuesCostsOnlyWhatItsBodyEmits() {
        Generator<Integer> g = Generator.buffered("unbounded", Integer.MAX_VALUE, out -> {
            for (int i = 0; i < 3; i++) {
                out.emit(i);
            }
        });
        assertThat(g.next()).isEqualTo(0);
        assertThat(g.next()).isEqualTo(1);
        assertThat(g.next()).isEqualTo(2);
        assertThat(g.hasNext()).isFalse();
        assertThat(g.state()).isEqualTo(State.FINISHED);
    }

    @Test
    void aBatchLargerThanTheFirstRoomOfItsArrayStillSuspendsAtItsNthEmitAndLosesNothing() {
        int n = 3000;
        int[] emitted = {0};
        Generator<Integer> g = Generator.buffered("large", n, out -> {
            for (int i = 0; i < 7500; i++) {
                emitted[0]++;
                out.emit(i);
            }
        });
        assertThat(g.next()).isEqualTo(0);
        assertThat(emitted[0]).as("one batch of n values").isEqualTo(n);
        List<Integer> rest = new ArrayList<>();
        while (g.hasNext()) {
            rest.add(g.next());
            assertThat(emitted[0] - (rest.size() + 1)).as("ahead by at most n").isBetween(0, n);
        }
        assertThat(rest).hasSize(7499);
        for (int i = 0; i < rest.size(); i++) {
            assertThat(rest.get(i)).isEqualTo(i + 1);
        }
        assertThat(g.state()).isEqualTo(State.FINISHED);
    }

    @Test
    void nBelowOneIsRefusedNamingTheGeneratorAndN() {
        Coroutine.current(); // the thread has a scheduler: the refusal names its main (one without is named as a thread, ThreadConfinementTest)
        assertThatThrownBy(() -> Generator.buffered("lines", 0, out -> out.emit(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("main context 'main' cannot make generator 'lines' buffered with n = 0: it must be able to run ahead by at"
                        + " least 1 value (n >= 1)");
        assertThatThrownBy(() -> Generator.buffered(-3, out -> out.emit(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("main context 'main' cannot make generator 'generator-1' buffered with n = -3: it must be able to run ahead by"
                        + " at least 1 value (n >= 1)");
        assertThat(Generator.of(out -> out.emit(1)).name()).as("a refused generator used no default name").isEqualTo("generator-1");
    }

    @Test
    void anUnnamedBufferedGeneratorIsNumberedAndReadsAheadLikeANamedOne() {
        Generator<Integer> first = Generator.of(out -> out.emit(0));
        Generator<Integer> g = Generator.buffered(2, out -> {
            for (int i = 1; i <= 3; i++) {
                log.add("emits " + i);
                out.emit(i);
            }
        });
        assertThat(first.name()).isEqualTo("generator-1");
        assertThat(g.name()).isEqualTo("generator-2");
        assertThat(g.next()).isEqualTo(1);
        assertThat(log).as("one resume ran the body up to its 2nd emit").containsExactly("emits 1", "emits 2");
        assertThat(g.stream().toList()).containsExactly(2, 3);
        assertThat(g.state()).isEqualTo(State.FINISHED);
    }

    @Test
    @EnabledIf(value = "dev.coro.ContinuationEngineTest#continuationEngineRuns",
            disabledReason = "Continuation.pin() is the continuation engine's own primitive; the thread engine parks the body's thread")
    void anEmitThatFillsTheBatchInsideAJdkCriticalSectionThrowsAndItsValueIsNotDelivered() {
        Generator<Integer> g = Generator.buffered("critical", 2, out -> {
            out.emit(1);
            Continuation.pin();
            try {
                out.emit(2);
                log.add("emit returned inside the critical section");
            } catch (IllegalStateException e) {
                log.add(e.getMessage());
            } finally {
                Continuation.unpin();
            }
            out.emit(3);
            out.emit(4);
        });
        assertThat(g.stream().toList()).as("the body went on after the refused emit, whose value is dropped")
                .containsExactly(1, 3, 4);
        assertThat(log).containsExactly("main context 'main' cannot emit from generator 'critical' (RUNNING): the JDK"
                + " cannot suspend it here because it is inside a JDK critical section; it keeps running");
        assertThat(g.state()).isEqualTo(State.FINISHED);
    }

    @Test
    void nOfOneBehavesLikeAPlainGenerator() {
        List<String> plain = interleaving(Generator.of("g", out -> {
            for (int i = 1; i <= 3; i++) {
                log.add("g emits " + i);
                out.emit(i);
            }
        }));
        log.clear();
        List<String> one = interleaving(counting("g", 1, 3));
        one.remove("g ends");
        assertThat(one).isEqualTo(plain).containsExactly("state NEW", "g emits 1", "state SUSPENDED", "took 1",
                "g emits 2", "state SUSPENDED", "took 2", "g emits 3", "state SUSPENDED", "took 3", "state FINISHED");
    }

    /** The log of the body's emits interleaved with each state the consumer sees and each value it takes. */
    private List<String> interleaving(Generator<Integer> g) {
        log.add("state " + g.state());
        while (g.hasNext()) {
            log.add("state " + g.state());
            log.add("took " + g.next());
        }
        log.add("state " + g.state());
        return new ArrayList<>(log);
    }

    @Test
    void theStreamOfABufferedGeneratorIsLazyAndClosingItClosesTheGenerator() {
        Generator<Integer> g = Generator.buffered("naturals", 16, GeneratorBodies.naturals(log));
        GeneratorBodies.assertClosingItsStreamClosesIt(g, log, 20, "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20");
    }

    @Test
    void aParallelStreamOverABufferedGeneratorTakesEveryValueOnceInOrder() {
        GeneratorBodies.assertParallelStreamTakesEveryValueOnceInOrder(
                Generator.buffered("numbers", 64, GeneratorBodies.upTo(10_000)), 10_000);
    }

    /**
     * A read-ahead generator's {@code spliterator()} is its stream's source too: never split, so that a parallel
     * stream made of it reads ahead by its batch only and takes every value on the thread of its terminal operation.
     */
    @Test
    @Timeout(30)
    void aBufferedGeneratorsSpliteratorNeverSplitsSoAParallelStreamOverItTakesEveryValueOnceInOrder() {
        Generator<Integer> g = counting("g", 2, 3);
        Spliterator<Integer> values = g.spliterator();
        assertThat(values.hasCharacteristics(Spliterator.ORDERED)).isTrue();
        assertThat(values.trySplit()).isNull();
        assertThat(log).as("nothing ran ahead of the consumer").isEmpty();
        assertThat(values.tryAdvance(v -> log.add("took " + v))).isTrue();
        assertThat(log).as("one batch of 2").containsExactly("g emits 1", "g emits 2", "took 1");

        GeneratorBodies.assertParallelStreamOfItsSpliteratorTakesEveryValueOnceInOrder(
                Generator.buffered("numbers", 64, GeneratorBodies.upTo(10_000)), 10_000);
    }

    @Test
    void aBufferedGeneratorNestsInsideAnotherGeneratorAndHostsOne() {
        assertThat(nested()).containsExactly(111, 222, 333, 444, 555);
    }

    @Test
    void aBufferedGeneratorNestsInsideAGeneratorConsumedByACoroutine() {
        AtomicReference<List<Integer>> seen = new AtomicReference<>();
        Coroutine co = Coroutine.create("consumer", () -> seen.set(nested()));
        co.switchTo();
        assertThat(co.state()).isEqualTo(Coroutine.State.FINISHED);
        assertThat(seen.get()).containsExactly(111, 222, 333, 444, 555);
    }

    /** A buffered inner (n = 2) inside a plain middle inside a buffered outer (n = 3), each running in the body above it. */
    private List<Integer> nested() {
        Generator<Integer> outer = Generator.buffered("outer", 3, out -> {
            try (Generator<Integer> middle = Generator.of("middle", mid -> {
                try (Generator<Integer> inner = counting("inner", 2, 5)) {
                    for (int v : inner) {
                        mid.emit(v * 11);
                    }
                }
            })) {
                for (int v : middle) {
                    out.emit(v / 11 * 111);
                }
            }
        });
        List<Integer> seen = new ArrayList<>();
        outer.forEachRemaining(seen::add);
        assertThat(outer.state()).isEqualTo(State.FINISHED);
        return seen;
    }

    @Test
    void aBufferedGeneratorConsumedByACoroutineRunsInsideItAndFinishes() {
        Generator<Integer> g = counting("g", 4, 10);
        List<Integer> seen = new ArrayList<>();
        Coroutine consumer = Coroutine.create("consumer", () -> g.forEachRemaining(seen::add));
        consumer.switchTo();
        assertThat(seen).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
        assertThat(g.state()).isEqualTo(State.FINISHED);
        assertThat(consumer.state()).isEqualTo(Coroutine.State.FINISHED);
    }

    @Test
    void coroutineYieldInsideABufferedBodySuspendsTheConsumingCoroutineAndBothResumeIntact() {
        Generator<Integer> g = Generator.buffered("ticks", 3, out -> {
            for (int i = 1; i <= 4; i++) {
                out.emit(i);
                if (i == 2) {
                    log.add("body yields after emitting 2");
                    Coroutine.yield();
                    log.add("body resumed in " + Coroutine.current().name());
                }
            }
        });
        GeneratorBodies.consumeInACoroutineWhileMainYields(g, log);
        assertThat(log).containsExactly(
                "main runs, consumer is NEW, ticks is NEW",
                "body yields after emitting 2",
                "main runs, consumer is SUSPENDED, ticks is RUNNING",
                "body resumed in consumer",
                "consumer got 1",
                "consumer got 2",
                "consumer got 3",
                "consumer got 4",
                "consumer done");
    }

    @Test
    void closingTheConsumingCoroutineInsideABufferedBodyDropsItsValuesAndUnwindsIt() {
        Generator<Integer> g = Generator.buffered("g", 4, out -> {
            try {
                out.emit(1);
                out.emit(2);
                Coroutine.yield();
                out.emit(3);
            } finally {
                log.add("generator finally");
            }
        });
        Coroutine consumer = Coroutine.create("consumer", () -> {
            try {
                log.add("consumer got " + g.next());
            } finally {
                log.add("consumer finally");
            }
        });
        consumer.switchTo();
        assertThat(g.state()).isEqualTo(State.RUNNING);
        consumer.close();
        assertThat(log).containsExactly("generator finally", "consumer finally");
        assertThat(consumer.state()).isEqualTo(Coroutine.State.CLOSED);
        assertThat(g.state()).isEqualTo(State.CLOSED);
        assertThat(g.hasNext()).as("the values 1 and 2 were dropped").isFalse();
    }

    @Test
    void consumingABufferedGeneratorFromItsOwnBodyOrAnotherThreadIsRefused() throws InterruptedException {
        AtomicReference<Generator<Integer>> self = new AtomicReference<>();
        Generator<Integer> selfish = Generator.buffered("selfish", 4, out -> {
            out.emit(1);
            self.get().next();
        });
        self.set(selfish);
        assertThat(selfish.next()).as("the refusal failed the body after it emitted 1").isEqualTo(1);
        assertThatThrownBy(selfish::next).isInstanceOf(CoroutineException.class)
                .cause().isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot take the next value of generator 'selfish' (RUNNING): the call"
                        + " comes from inside its own body, which cannot resume itself");

        Generator<Integer> g = counting("g", 4, 10);
        assertThat(g.next()).isEqualTo(1);
        assertThat(OtherThread.thrownOn("intruder", g::next)).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("thread 'intruder' (#")
                .hasMessageContaining(") cannot take the next value of generator 'g' (SUSPENDED): it belongs to thread ");
        assertThat(OtherThread.thrownOn("intruder", g::close)).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("thread 'intruder' (#")
                .hasMessageContaining(") cannot close generator 'g' (SUSPENDED): it belongs to thread ");
        assertThat(g.next()).as("the refused calls took nothing").isEqualTo(2);
    }

    /**
     * As for a plain generator: an emitter handed to another thread is refused there, naming the
     * generator, its state and both threads, even where the batch has room (the value would be
     * stored without a suspension); no value of that thread reaches the consumer.
     */
    @Test
    void emittingFromAnotherThreadIsRefusedNamingTheGeneratorItsStateAndBothThreads() throws InterruptedException {
        AtomicReference<Generator.Emitter<Integer, Void>> leaked = new AtomicReference<>();
        AtomicReference<Throwable> whileRunning = new AtomicReference<>();
        Generator<Integer> g = Generator.buffered("ahead", 2, out -> {
            leaked.set(out);
            whileRunning.set(OtherThread.thrownOn("intruder", () -> out.emit(-1)));
            out.emit(1);
            out.emit(2);
            out.emit(3);
        });
        assertThat(g.next()).as("the other thread's value never reached the consumer").isEqualTo(1);
        assertThat(whileRunning.get()).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("thread 'intruder' (#")
                .hasMessageContaining(") cannot emit from generator 'ahead' (RUNNING): it belongs to thread ")
                .hasMessageContaining("it belongs to thread"
                        + " 'test-emittingFromAnotherThreadIsRefusedNamingTheGeneratorItsStateAndBothThreads' (#");
        assertThat(OtherThread.thrownOn("intruder", () -> leaked.get().emit(-2))).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("thread 'intruder' (#")
                .hasMessageContaining(") cannot emit from generator 'ahead' (SUSPENDED): it belongs to thread ");
        assertThat(g.next()).isEqualTo(2);
        assertThat(g.next()).isEqualTo(3);
        assertThat(g.hasNext()).isFalse();
    }

    @Test
    void emitOutsideTheRunningBufferedBodyIsRefused() {
        AtomicReference<Generator.Emitter<Integer, Void>> leaked = new AtomicReference<>();
        Generator<Integer> g = Generator.buffered("leaky", 2, out -> {
            leaked.set(out);
            out.emit(1);
            out.emit(2);
        });
        g.next();
        assertThatThrownBy(() -> leaked.get().emit(3)).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot emit from generator 'leaky' (SUSPENDED): emit may only be called"
                        + " by its own body while it runs");
        assertThat(g.next()).isEqualTo(2);
        assertThat(g.hasNext()).isFalse();
    }

    /**
     * While the body runs but waits (its consumer parked inside it), another coroutine of the thread
     * that calls its emitter is refused, and the value is not taken: the body's own emits, before and
     * after, are the only ones the consumer gets.
     */
    @Test
    void emitByAnotherCoroutineWhileTheRunningBodyWaitsIsRefusedAndAddsNothing() {
        AtomicReference<Generator.Emitter<Integer, Void>> leaked = new AtomicReference<>();
        Channel<Integer> go = new Channel<>("go", 0);
        Generator<Integer> g = Generator.buffered("waiting", 4, out -> {
            leaked.set(out);
            out.emit(1);
            out.emit(go.receive()); // parks its consumer, main, inside the body: the generator stays RUNNING
        });
        List<String> log = new ArrayList<>();
        Coroutine.create("intruder", () -> {
            try {
                leaked.get().emit(99);
                log.add("emitted");
            } catch (IllegalStateException e) {
                log.add(e.getMessage());
            }
            go.send(2);
        });
        List<Integer> taken = new ArrayList<>();
        g.forEachRemaining(taken::add);
        assertThat(log).containsExactly("coroutine 'intruder' cannot emit from generator 'waiting' (RUNNING): emit may"
                + " only be called by its own body while it runs");
        assertThat(taken).containsExactly(1, 2);
    }

    @Test
    void theStackTraceOfACoroutineSuspendedInsideABufferedBodyShowsTheBodyAndTheConsumersCallOnly() {
        Generator<Integer> g = Generator.buffered("g", 2, BufferedGeneratorTest::yieldingBody);
        Coroutine consumer = Coroutine.create("consumer", () -> g.next());
        consumer.switchTo();
        assertThat(java.util.Arrays.stream(consumer.stackTrace()).map(f -> f.getClassName() + "." + f.getMethodName()))
                .as("as for a plain generator: the body's frames, the consumer's call of the generator, the consumer's"
                        + " own frames; how a batch is read ahead and the body entered is cut")
                .containsExactly("dev.coro.Coroutine.yield", "dev.coro.BufferedGeneratorTest.yieldingBody",
                        "dev.coro.BufferedGenerator.next",
                        "dev.coro.BufferedGeneratorTest.lambda$theStackTraceOfACoroutineSuspendedInsideABufferedBodyShowsTheBodyAndTheConsumersCallOnly$0");
        assertThat(Coroutine.dump()).as("the dump shows the same top frames")
                .contains("  [1] coroutine 'consumer': SUSPENDED, inside generator 'g'\n"
                        + "        at dev.coro.Coroutine.yield(")
                .contains("        at dev.coro.BufferedGenerator.next(")
                .doesNotContain("refill").doesNotContain("advance");
        consumer.close();
        assertThat(g.state()).isEqualTo(State.CLOSED);
    }

    private static void yieldingBody(Generator.Emitter<Integer, Void> out) {
        Coroutine.yield();
        out.emit(1);
        out.emit(2);
    }
}
