package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.coro.Generator.State;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import jdk.internal.vm.Continuation;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.ExtendWith;

/** The plain and two-way generators of {@link Generator}, on the engine the suite runs with. */
@ExtendWith(FreshThread.class)
class GeneratorTest {

    private final List<String> log = new ArrayList<>();

    /** Emits 1 to {@code n}, logging each emit before it happens and its end. */
    private Generator<Integer> counting(String name, int n) {
        return Generator.of(name, GeneratorBodies.counting(log, name, n));
    }

    @Test
    void bodyRunsOnlyUpToEachEmitWhenTheConsumerAsks() {
        Generator<Integer> g = counting("g", 2);
        assertThat(log).as("nothing runs before the first request").isEmpty();
        assertThat(g.state()).isEqualTo(State.NEW);

        assertThat(g.next()).isEqualTo(1);
        assertThat(log).containsExactly("g emits 1");
        assertThat(g.state()).isEqualTo(State.SUSPENDED);

        assertThat(g.hasNext()).isTrue();
        assertThat(g.hasNext()).as("hasNext twice runs nothing more").isTrue();
        assertThat(log).containsExactly("g emits 1", "g emits 2");
        assertThat(g.next()).isEqualTo(2);

        assertThat(g.hasNext()).isFalse();
        assertThat(log).containsExactly("g emits 1", "g emits 2", "g ends");
        assertThat(g.state()).isEqualTo(State.FINISHED);
        assertThatThrownBy(g::next).isInstanceOf(NoSuchElementException.class)
                .hasMessage("main context 'main' cannot take the next value of generator 'g' (FINISHED): it has ended,"
                        + " and no value can come");
        Coroutine reader = Coroutine.create("reader", () -> assertThatThrownBy(g::next)
                .isInstanceOf(NoSuchElementException.class)
                .hasMessage("coroutine 'reader' cannot take the next value of generator 'g' (FINISHED): it has ended,"
                        + " and no value can come"));
        reader.switchTo();
        assertThat(reader.state()).isEqualTo(Coroutine.State.FINISHED);
    }

    /**
     * The body runs inside the call that asks for a value, as part of its caller: {@code Coroutine.current()}
     * there is that caller (main, or a coroutine) and {@code Coroutine.current().thread()} the caller's thread;
     * {@code Thread.currentThread()} is the thread its caller's code runs on on the continuation engine, and on
     * the thread engine a virtual thread of the body's own, {@code coro generator NAME}, while the caller waits
     * in its call (ENGINES.md).
     */
    @Test
    void theBodyRunsInsideTheCallThatAsksAsItsCallerOnItsCallersThreadOrOnTheThreadEnginesVirtualThreadOfItsOwn() {
        boolean ownThreads = Engines.running().equals("threads");
        List<Object> seen = new ArrayList<>();
        Generator<Integer> g = Generator.of("g", out -> {
            for (int i = 1; i <= 2; i++) {
                seen.add(Coroutine.current());
                seen.add(Coroutine.current().thread());
                seen.add(Thread.currentThread());
                out.emit(i);
            }
        });
        Thread owner = Thread.currentThread();
        assertThat(g.next()).isEqualTo(1);
        List<Object> reader = new ArrayList<>();
        Coroutine c = Coroutine.create("reader", () -> {
            reader.add(Thread.currentThread());
            assertThat(g.next()).isEqualTo(2);
        });
        c.switchTo();
        assertThat(c.state()).isEqualTo(Coroutine.State.FINISHED);
        assertThat(seen.get(0)).as("the caller of the first next()").isSameAs(Coroutine.current());
        assertThat(seen.get(1)).isSameAs(owner);
        assertThat(seen.get(3)).as("the caller of the second next()").isSameAs(c);
        assertThat(seen.get(4)).isSameAs(owner);
        Thread inMain = (Thread) seen.get(2);
        Thread inReader = (Thread) seen.get(5);
        if (ownThreads) {
            assertThat(inMain).isNotSameAs(owner).isSameAs(inReader).isNotSameAs(reader.get(0));
            assertThat(inMain.isVirtual()).isTrue();
            assertThat(inMain.getName()).isEqualTo("coro generator g");
        } else {
            assertThat(inMain).isSameAs(owner);
            assertThat(inReader).isSameAs(reader.get(0)).isSameAs(owner);
        }
        g.close();
    }

    /**
     * A generator is not in the run list: making one, running its body and leaving it suspended (or
     * inside a yield of its body) adds no context, changes no index, and a yield never runs it.
     */
    @Test
    void aGeneratorIsNotInTheRunList() {
        Coroutine worker = Coroutine.create("worker", () -> {
            log.add("worker runs");
            Coroutine.yield();
            log.add("worker again");
        });
        Generator<Integer> g = Generator.of("g", out -> {
            log.add("body runs");
            out.emit(1);
            log.add("body after emit");
            out.emit(2);
        });
        assertThat(g.next()).isEqualTo(1);
        assertThat(Coroutine.dump()).contains(": 2 contexts, current index 0").doesNotContain("'g'");
        Coroutine.yield(); // main -> the last entry: the worker, not the suspended generator
        assertThat(Coroutine.currentId()).isZero();
        Coroutine.yield();
        assertThat(worker.isFinished()).isTrue();
        assertThat(Coroutine.dump()).contains(": 1 context, current index 0");
        assertThat(log).containsExactly("body runs", "worker runs", "worker again");
        assertThat(g.state()).isEqualTo(State.SUSPENDED);
        g.close();
    }

    @Test
    void forEachLoopDrainsItAndASecondIterationIsRefused() {
        Generator<Integer> g = counting("g", 3);
        List<Integer> seen = new ArrayList<>();
        for (int v : g) {
            seen.add(v);
        }
        assertThat(seen).containsExactly(1, 2, 3);
        assertThatThrownBy(g::iterator).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot iterate over generator 'g' (FINISHED): it was already iterated,"
                        + " and a generator can be iterated only once");
    }

    /**
     * Each way of iterating takes the one iteration, {@code forEach} too (through the iterator, as a {@code for}
     * loop): after any of them, a {@code for} loop, {@code forEach}, {@code stream()} and {@code spliterator()} are
     * each refused naming the caller, the call, the generator and its state, and take nothing.
     */
    @Test
    void everyWayOfIteratingTakesTheOneIterationAndASecondOfAnyIsRefused() {
        Map<String, Consumer<Generator<Integer>>> firsts = new LinkedHashMap<>();
        firsts.put("a for loop", g -> {
            for (int v : g) {
                log.add("took " + v);
                break;
            }
        });
        firsts.put("forEach", g -> g.forEach(v -> log.add("took " + v)));
        firsts.put("stream", g -> log.add("took " + g.stream().findFirst().orElseThrow()));
        firsts.put("spliterator", g -> g.spliterator().tryAdvance(v -> log.add("took " + v)));
        // each second way: what it is, the call its refusal names, and the call
        List<Object[]> seconds = List.of(
                new Object[] {"a for loop", "iterate over", (Consumer<Generator<Integer>>) g -> {
                    for (int v : g) {
                        log.add("second took " + v);
                    }
                }},
                new Object[] {"forEach", "iterate over", (Consumer<Generator<Integer>>) g -> g.forEach(v -> log.add("second took " + v))},
                new Object[] {"stream", "stream", (Consumer<Generator<Integer>>) Generator::stream},
                new Object[] {"spliterator", "take a spliterator of", (Consumer<Generator<Integer>>) Generator::spliterator});
        for (var first : firsts.entrySet()) {
            for (Object[] second : seconds) {
                String what = first.getKey() + ", then " + second[0];
                @SuppressWarnings("unchecked")
                Consumer<Generator<Integer>> call = (Consumer<Generator<Integer>>) second[2];
                log.clear();
                Generator<Integer> g = Generator.of("g", out -> {
                    for (int i = 1; i <= 3; i++) {
                        out.emit(i);
                    }
                });
                first.getValue().accept(g);
                boolean drained = first.getKey().equals("forEach");
                assertThatThrownBy(() -> call.accept(g)).as(what).isInstanceOf(IllegalStateException.class)
                        .hasMessage("main context 'main' cannot " + second[1] + " generator 'g' (" + (drained ? "FINISHED" : "SUSPENDED")
                                + "): it was already iterated, and a generator can be iterated only once");
                assertThat(log).as(what).containsExactlyElementsOf(drained ? List.of("took 1", "took 2", "took 3") : List.of("took 1"));
                if (!drained) {
                    assertThat(g.next()).as("%s: nothing taken", what).isEqualTo(2);
                    g.close();
                }
            }
        }
    }

    @Test
    @Timeout(10)
    void removeIsRefusedNamingTheCallerTheGeneratorAndItsStateAndTakesNothing() {
        Generator<Integer> g = counting("g", 2);
        assertThat(g.next()).isEqualTo(1);
        assertThatThrownBy(g::remove).isInstanceOf(UnsupportedOperationException.class)
                .hasMessage("main context 'main' cannot remove a value of generator 'g' (SUSPENDED): a generator hands"
                        + " its values out and holds none to remove");
        assertThat(g.next()).as("nothing was taken").isEqualTo(2);
    }

    @Test
    void closingTheStreamClosesTheGeneratorAndRunsItsFinally() {
        Generator<Integer> g = Generator.of("naturals", GeneratorBodies.naturals(log));
        GeneratorBodies.assertClosingItsStreamClosesIt(g, log, 4, "1,2,3,4");
    }

    /**
     * A stream's terminal operation never closes it, so one that stops early ({@code findFirst}, {@code limit},
     * {@code anyMatch}) leaves the generator suspended at the emit of the value after the last it took, its
     * {@code finally} blocks not run, until the stream (or the generator) is closed; a second close of the stream
     * changes nothing. A stream made of {@code spliterator()} has no close of its own to close the generator: only
     * the generator's {@code close()} does. So for a plain and a read-ahead generator.
     */
    @Test
    void aStreamStoppedEarlyLeavesTheGeneratorSuspendedUntilTheStreamOrTheGeneratorIsClosed() {
        for (int ahead = 0; ahead <= 4; ahead += 4) {
            String kind = ahead == 0 ? "plain" : "read-ahead";
            Generator<Integer> first = naturals(ahead);
            Stream<Integer> s = first.stream();
            assertThat(s.findFirst()).contains(1);
            assertThat(first.state()).as(kind).isEqualTo(State.SUSPENDED);
            assertThat(log).as("%s: its finally has not run", kind).isEmpty();
            s.close();
            assertThat(first.state()).as(kind).isEqualTo(State.CLOSED);
            assertThat(log).containsExactly("finally");
            s.close();
            assertThat(log).as("%s: a second close of the stream changes nothing", kind).containsExactly("finally");
            log.clear();

            Generator<Integer> limited = naturals(ahead);
            try (Stream<Integer> t = limited.stream()) {
                assertThat(t.limit(2).toList()).containsExactly(1, 2);
                assertThat(t.isParallel()).isFalse();
                assertThat(limited.state()).as(kind).isEqualTo(State.SUSPENDED);
                assertThat(limited.hasNext()).as("%s: the values after the stream's are the generator's still", kind).isTrue();
                assertThat(limited.next()).isEqualTo(3);
            }
            assertThat(limited.state()).as(kind).isEqualTo(State.CLOSED);
            assertThat(log).containsExactly("finally");
            log.clear();

            Generator<Integer> split = naturals(ahead);
            try (Stream<Integer> u = StreamSupport.stream(split.spliterator(), false)) {
                assertThat(u.anyMatch(v -> v == 2)).isTrue();
            }
            assertThat(split.state()).as("%s: its spliterator's stream closed, the generator not", kind).isEqualTo(State.SUSPENDED);
            assertThat(log).isEmpty();
            split.close();
            assertThat(log).containsExactly("finally");
            log.clear();
        }
    }

    /** A generator of {@link GeneratorBodies#naturals} logging to {@link #log}: plain if {@code ahead} is 0, else reading ahead by it. */
    private Generator<Integer> naturals(int ahead) {
        return ahead == 0 ? Generator.of("naturals", GeneratorBodies.naturals(log))
                : Generator.buffered("naturals", ahead, GeneratorBodies.naturals(log));
    }

    @Test
    void unnamedGeneratorsAreNumberedInTheOrderTheirThreadCreatedThem() {
        Generator<Integer> first = Generator.of(out -> out.emit(1));
        Generator<Integer> named = Generator.of("named", out -> out.emit(2));
        Generator.TwoWay<Integer, String> third = Generator.twoWay(out -> out.emit(3));
        assertThat(first.name()).isEqualTo("generator-1");
        assertThat(named.name()).isEqualTo("named");
        assertThat(third.name()).isEqualTo("generator-3");
        assertThat(first.toString()).isEqualTo("Generator[generator-1, NEW]");
        assertThat(third.next()).isEqualTo(3);
        assertThat(third.toString()).isEqualTo("Generator[generator-3, SUSPENDED]");
        third.close();
        assertThat(third.toString()).isEqualTo("Generator[generator-3, CLOSED]");
    }

    @Test
    void aStreamedGeneratorCannotBeStreamedOrIteratedAgain() {
        Generator<Integer> g = counting("g", 3);
        try (Stream<Integer> s = g.stream()) {
            assertThat(s.findFirst()).contains(1);
        }
        assertThatThrownBy(g::stream).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot stream generator 'g' (CLOSED): it was already iterated,"
                        + " and a generator can be iterated only once");
        assertThatThrownBy(g::iterator).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("main context 'main' cannot iterate over generator 'g' (CLOSED): it was already iterated");
    }

    @Test
    void aGeneratorsStreamIsOrderedAndOfUnknownSizeAndNeverSplits() {
        Generator<Integer> g = counting("g", 3);
        try (Stream<Integer> s = g.stream()) {
            java.util.Spliterator<Integer> values = s.spliterator();
            assertThat(values.hasCharacteristics(java.util.Spliterator.ORDERED)).isTrue();
            assertThat(values.hasCharacteristics(java.util.Spliterator.SIZED)).isFalse();
            assertThat(values.estimateSize()).as("unknown: as large as can be").isEqualTo(Long.MAX_VALUE);
            assertThat(values.getExactSizeIfKnown()).isEqualTo(-1);
            assertThat(values.trySplit()).isNull();
            List<Integer> seen = new ArrayList<>();
            values.forEachRemaining(seen::add);
            assertThat(seen).containsExactly(1, 2, 3);
        }
    }

    /**
     * {@code spliterator()}, which {@code Iterable} gives a generator, is the source of its stream: ordered and never
     * split, so that {@code StreamSupport.stream(g.spliterator(), true)} takes every value once, in order, on the
     * thread of its terminal operation. Iterable's default split the iterator into batches, running the body
     * ahead of its consumer and handing the rest to a worker thread, which the generator refused.
     */
    @Test
    @Timeout(30)
    void itsSpliteratorIsOrderedAndNeverSplitsSoAParallelStreamOverItTakesEveryValueOnceInOrder() {
        Generator<Integer> g = counting("g", 3);
        Spliterator<Integer> values = g.spliterator();
        assertThat(values.hasCharacteristics(Spliterator.ORDERED)).isTrue();
        assertThat(values.estimateSize()).as("unknown: as large as can be").isEqualTo(Long.MAX_VALUE);
        assertThat(values.trySplit()).isNull();
        assertThat(log).as("nothing ran ahead of the consumer").isEmpty();
        List<Integer> seen = new ArrayList<>();
        values.forEachRemaining(seen::add);
        assertThat(seen).containsExactly(1, 2, 3);
        assertThatThrownBy(g::spliterator).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot take a spliterator of generator 'g' (FINISHED): it was already"
                        + " iterated, and a generator can be iterated only once");

        GeneratorBodies.assertParallelStreamOfItsSpliteratorTakesEveryValueOnceInOrder(
                Generator.of("numbers", GeneratorBodies.upTo(10_000)), 10_000);
    }

    /** A null action given to its spliterator is refused before anything runs: no value is taken and lost. */
    @Test
    @Timeout(10)
    void itsSpliteratorRefusesANullActionBeforeTakingAValue() {
        Generator<Integer> g = counting("g", 2);
        Spliterator<Integer> values = g.spliterator();
        assertThatThrownBy(() -> values.tryAdvance(null)).isInstanceOf(NullPointerException.class).hasMessage("action");
        assertThat(log).as("the body did not run").isEmpty();
        List<Integer> seen = new ArrayList<>();
        values.forEachRemaining(seen::add);
        assertThat(seen).containsExactly(1, 2);
    }

    @Test
    void sendingFromAnotherThreadOrFromInsideTheBodyIsRefused() throws InterruptedException {
        AtomicReference<Generator.TwoWay<Integer, String>> self = new AtomicReference<>();
        Generator.TwoWay<Integer, String> g = Generator.twoWay("echo", out -> {
            String reply = out.emit(1);
            log.add("reply " + reply);
            try {
                self.get().send("from inside");
            } catch (IllegalStateException e) {
                log.add(e.getMessage());
            }
            out.emit(2);
        });
        self.set(g);
        assertThat(g.next()).isEqualTo(1);
        assertThat(OtherThread.thrownOn("intruder", () -> g.send("x"))).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("thread 'intruder' (#")
                .hasMessageContaining(") cannot send to generator 'echo' (SUSPENDED): it belongs to thread ");
        assertThat(log).as("the body did not run").isEmpty();
        assertThat(g.send("ok")).isEqualTo(2);
        assertThat(log).containsExactly("reply ok",
                "main context 'main' cannot send to generator 'echo' (RUNNING): the call comes from inside its own body,"
                        + " which cannot resume itself");
    }

    @Test
    void whileResumedAGeneratorKnowsTheOneOutsideItAndTheThreadItsBodyRunsOn() {
        boolean ownThreads = Engines.running().equals("threads");
        AtomicReference<Generator<Integer>> outerRef = new AtomicReference<>();
        AtomicReference<Generator<Integer>> innerRef = new AtomicReference<>();
        List<Object> seen = new ArrayList<>();
        Generator<Integer> inner = Generator.of("inner", out -> {
            seen.add(innerRef.get().outerGenerator());
            seen.add(innerRef.get().stackThread() == (ownThreads ? Thread.currentThread() : null));
            out.emit(1);
        });
        Generator<Integer> outer = Generator.of("outer", out -> {
            seen.add(outerRef.get().outerGenerator() == null);
            out.emit(inner.next() * 10);
        });
        innerRef.set(inner);
        outerRef.set(outer);
        assertThat(outer.next()).isEqualTo(10);
        assertThat(seen).containsExactly(true, outer, true);
        assertThat((Object) outer.outerGenerator()).as("once suspended").isNull();
        outer.close();
        inner.close();
        assertThat(inner.stackThread()).as("once closed").isNull();
    }

    @Test
    void twoWayGeneratorReturnsEachReplyFromEmit() {
        Generator.TwoWay<Integer, Integer> total = Generator.twoWay("total", out -> {
            int sum = 0;
            while (true) {
                Integer add = out.emit(sum);
                sum += add == null ? 100 : add;
            }
        });
        assertThat(total.next()).isEqualTo(0);
        assertThat(total.send(5)).isEqualTo(5);
        assertThat(total.send(2)).isEqualTo(7);
        assertThat(total.next()).as("next() replies null").isEqualTo(107);
        assertThat(total.hasNext()).isTrue();
        assertThat(total.next()).as("hasNext() replies null").isEqualTo(207);
        total.close();
        assertThat(total.state()).isEqualTo(State.CLOSED);
    }

    @Test
    void sendWithoutAPendingEmitIsRefused() {
        Generator.TwoWay<Integer, String> g = Generator.twoWay("echo", out -> {
            String s = out.emit(1);
            out.emit(s.length());
            out.emit(3);
        });
        assertThatThrownBy(() -> g.send("x")).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot send to generator 'echo' (NEW): it has no pending emit to reply to;"
                        + " take its first value with next()");
        assertThat(g.next()).isEqualTo(1);
        assertThat(g.send("four")).isEqualTo(4);
        assertThat(g.hasNext()).isTrue();
        assertThatThrownBy(() -> g.send("late")).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot send to generator 'echo' (SUSPENDED): hasNext() already resumed it"
                        + " past its emit (replying null); take that value with next()");
    }

    @Test
    void sendAfterHasNextRanTheBodyToItsFirstEmitSaysSoNotThatAnEmitWasRepliedTo() {
        Generator.TwoWay<Integer, String> g = Generator.twoWay("echo", out -> {
            String s = out.emit(1);
            out.emit(s.length());
            out.emit(3);
        });
        assertThat(g.hasNext()).isTrue();
        assertThat(g.hasNext()).isTrue();
        assertThatThrownBy(() -> g.send("x")).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot send to generator 'echo' (SUSPENDED): hasNext() ran it to its first emit,"
                        + " whose value is not taken yet; take that value with next(), then send replies to that emit");
        assertThat(g.next()).isEqualTo(1);
        assertThat(g.send("four")).as("the first emit takes the reply").isEqualTo(4);
        assertThat(g.hasNext()).isTrue();
        assertThatThrownBy(() -> g.send("late")).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot send to generator 'echo' (SUSPENDED): hasNext() already resumed it"
                        + " past its emit (replying null); take that value with next()");

        Generator.TwoWay<Integer, String> streamed = Generator.twoWay("streamed", out -> {
            out.emit(1);
            out.emit(2);
        });
        assertThat(streamed.hasNext()).isTrue();
        assertThat(streamed.stream().limit(1).toList()).containsExactly(1);
        assertThat(streamed.hasNext()).isTrue();
        assertThatThrownBy(() -> streamed.send("late")).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot send to generator 'streamed' (SUSPENDED): hasNext() already resumed"
                        + " it past its emit (replying null); take that value with next()");
    }

    /**
     * A {@code hasNext()} refused to another context while the consumer's own {@code hasNext()} runs the body
     * to its first emit (the consumer suspended inside it) changes nothing: a send before that first value is
     * taken still says so, where the refused call had made it say that an emit was replied to.
     */
    @Test
    @Timeout(10)
    void aHasNextRefusedWhileTheConsumerRunsTheBodyToItsFirstEmitLeavesTheSendsRefusalSayingSo() {
        Generator.TwoWay<Integer, String> g = Generator.twoWay("echo", out -> {
            Coroutine.yield();
            out.emit(1);
        });
        Coroutine consumer = Coroutine.create("consumer", () -> {
            log.add("hasNext " + g.hasNext());
            try {
                g.send("x");
            } catch (IllegalStateException e) {
                log.add(e.getMessage());
            }
        });
        consumer.switchTo();
        assertThatThrownBy(g::hasNext).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("main context 'main' cannot hasNext on generator 'echo' (RUNNING): its body is"
                        + " suspended");
        consumer.switchTo();
        assertThat(log).containsExactly("hasNext true",
                "coroutine 'consumer' cannot send to generator 'echo' (SUSPENDED): hasNext() ran it to its first emit,"
                        + " whose value is not taken yet; take that value with next(), then send replies to that emit");
        assertThat(g.next()).isEqualTo(1);
    }

    @Test
    void sendToAnEndedGeneratorThrowsNoSuchElementNamingItsState() {
        Generator.TwoWay<Integer, String> finished = Generator.twoWay("finished", out -> out.emit(1));
        assertThat(finished.next()).isEqualTo(1);
        assertThat(finished.hasNext()).isFalse();
        assertThatThrownBy(() -> finished.send("late")).isInstanceOf(NoSuchElementException.class)
                .hasMessage("main context 'main' cannot send to generator 'finished' (FINISHED): it has ended, and no emit"
                        + " is left to reply to");
        assertThat(finished.state()).isEqualTo(State.FINISHED);

        Generator.TwoWay<Integer, String> closed = Generator.twoWay("closed", out -> out.emit(1));
        closed.next();
        closed.close();
        assertThatThrownBy(() -> closed.send("late")).isInstanceOf(NoSuchElementException.class)
                .hasMessage("main context 'main' cannot send to generator 'closed' (CLOSED): it has ended, and no emit"
                        + " is left to reply to");
    }

    @Test
    @Timeout(10)
    void aSendRefusedForWantOfAPendingEmitNamesTheCallingCoroutine() {
        Generator.TwoWay<Integer, String> fresh = Generator.twoWay("fresh", out -> out.emit(1));
        Generator.TwoWay<Integer, String> waiting = Generator.twoWay("waiting", out -> out.emit(1));
        Generator.TwoWay<Integer, String> ended = Generator.twoWay("ended", out -> out.emit(1));
        assertThat(waiting.hasNext()).isTrue();
        assertThat(ended.next()).isEqualTo(1);
        assertThat(ended.hasNext()).isFalse();
        Coroutine sender = Coroutine.create("sender", () -> {
            assertThatThrownBy(() -> fresh.send("x")).isInstanceOf(IllegalStateException.class)
                    .hasMessage("coroutine 'sender' cannot send to generator 'fresh' (NEW): it has no pending emit"
                            + " to reply to; take its first value with next()");
            assertThatThrownBy(() -> waiting.send("x")).isInstanceOf(IllegalStateException.class)
                    .hasMessage("coroutine 'sender' cannot send to generator 'waiting' (SUSPENDED): hasNext()"
                            + " ran it to its first emit, whose value is not taken yet; take that value with next(),"
                            + " then send replies to that emit");
            assertThatThrownBy(() -> ended.send("x")).isInstanceOf(NoSuchElementException.class)
                    .hasMessage("coroutine 'sender' cannot send to generator 'ended' (FINISHED): it has ended, and no emit"
                            + " is left to reply to");
        });
        sender.switchTo();
        assertThat(sender.state()).as("every refusal was as expected").isEqualTo(Coroutine.State.FINISHED);
        assertThat(List.of(fresh.state(), waiting.state(), ended.state()))
                .as("a refused send changes no state").containsExactly(State.NEW, State.SUSPENDED, State.FINISHED);
    }

    @Test
    void aSendWhoseReplyEndsTheBodyThrowsNoSuchElementNamingTheCallerTheSendAndTheState() {
        Generator.TwoWay<Integer, String> g = Generator.twoWay("last", out -> out.emit(1));
        assertThat(g.next()).isEqualTo(1);
        assertThatThrownBy(() -> g.send("bye")).isInstanceOf(NoSuchElementException.class)
                .hasMessage("main context 'main' cannot take the value of its send to generator 'last' (FINISHED):"
                        + " its body ended without emitting a value after the reply");
        assertThat(g.state()).isEqualTo(State.FINISHED);

        Generator.TwoWay<Integer, String> other = Generator.twoWay("other", out -> out.emit(1));
        other.next();
        Coroutine sender = Coroutine.create("sender", () -> assertThatThrownBy(() -> other.send("bye"))
                .isInstanceOf(NoSuchElementException.class)
                .hasMessage("coroutine 'sender' cannot take the value of its send to generator 'other' (FINISHED):"
                        + " its body ended without emitting a value after the reply"));
        sender.switchTo();
        assertThat(sender.state()).isEqualTo(Coroutine.State.FINISHED);
    }

    @Test
    void closeUnwindsASuspendedBodySoItsFinallyRuns() {
        Generator<Integer> g = Generator.of("g", out -> {
            try {
                out.emit(1);
                log.add("after emit");
            } finally {
                log.add("finally");
            }
        });
        assertThat(g.next()).isEqualTo(1);
        g.close();
        assertThat(log).containsExactly("finally");
        assertThat(g.state()).isEqualTo(State.CLOSED);
        assertThat(g.hasNext()).isFalse();
        g.close();
    }

    /** CHANNELS.md: {@code close()} of a generator that has ended does nothing: it keeps its state. */
    @Test
    void closeOfAFinishedOrFailedGeneratorDoesNothing() {
        Generator<Integer> finished = Generator.of("finished", out -> out.emit(1));
        assertThat(finished.next()).isEqualTo(1);
        assertThat(finished.hasNext()).isFalse();
        finished.close();
        assertThat(finished.state()).isEqualTo(State.FINISHED);
        Generator<Integer> failed = Generator.of("failed", out -> {
            try {
                out.emit(1);
                throw new IOException("disk gone");
            } finally {
                log.add("finally");
            }
        });
        assertThat(failed.next()).isEqualTo(1);
        assertThatThrownBy(failed::hasNext).isInstanceOf(CoroutineException.class);
        failed.close();
        failed.close();
        assertThat(failed.state()).isEqualTo(State.FAILED);
        assertThat(failed.hasNext()).isFalse();
        assertThat(log).as("the body ran its finally once, as it failed").containsExactly("finally");
    }

    @Test
    void closeOfAnUnstartedGeneratorNeverRunsItsBody() {
        GeneratorBodies.assertCloseBeforeTheFirstRequestRunsNothing(counting("g", 3), log);
    }

    @Test
    void anEmitThatSwallowsTheExitSignalIsInterruptedAgain() {
        Generator<Integer> g = Generator.of("stubborn", out -> {
            try {
                out.emit(1);
            } catch (CoroutineExit swallowed) {
                log.add("swallowed");
                out.emit(2);
                log.add("unreachable");
            }
        });
        g.next();
        g.close();
        assertThat(log).containsExactly("swallowed");
        assertThat(g.state()).isEqualTo(State.CLOSED);
    }

    @Test
    void anExitSignalOfACoroutineThatABodyThrowsAgainIsItsFailureNotItsConsumersSignal() {
        CoroutineExit signal = CoroutineTest.exitSignalKeptFromAClosedCoroutine();
        Generator<Integer> g = Generator.of("rethrows", out -> {
            out.emit(1);
            throw signal;
        });
        assertThat(g.next()).isEqualTo(1);
        assertThatThrownBy(g::hasNext).isInstanceOf(CoroutineException.class)
                .hasMessageStartingWith("generator 'rethrows' failed: dev.coro.CoroutineExit: coroutine 'closed'")
                .cause().isSameAs(signal);
        assertThat(g.state()).isEqualTo(State.FAILED);
    }

    @Test
    @Timeout(10)
    void anExitSignalOfACoroutineThatABodyThrowsAgainWhileItIsClosedIsItsFailureAndCloseThrowsIt() {
        CoroutineExit signal = CoroutineTest.exitSignalKeptFromAClosedCoroutine();
        Generator<Integer> g = Generator.of("rethrows", out -> {
            try {
                out.emit(1);
            } finally {
                throw signal;
            }
        });
        assertThat(g.next()).isEqualTo(1);
        assertThatThrownBy(g::close).isInstanceOf(CoroutineException.class)
                .hasMessageStartingWith("generator 'rethrows' failed while being closed: dev.coro.CoroutineExit:"
                        + " coroutine 'closed' is being closed")
                .cause().isSameAs(signal);
        assertThat(g.state()).isEqualTo(State.FAILED);
        assertThat(g.hasNext()).isFalse();
    }

    @Test
    void anExitSignalOfAnotherGeneratorThatABodyThrowsAgainIsItsFailure() {
        AtomicReference<CoroutineExit> kept = new AtomicReference<>();
        Generator<Integer> closed = Generator.of("closed", out -> {
            try {
                out.emit(1);
            } catch (CoroutineExit e) {
                kept.set(e);
                throw e;
            }
        });
        closed.next();
        closed.close();
        CoroutineExit signal = kept.get();
        Generator<Integer> g = Generator.of("rethrows", out -> {
            throw signal;
        });
        assertThatThrownBy(g::hasNext).isInstanceOf(CoroutineException.class)
                .hasMessageStartingWith("generator 'rethrows' failed: dev.coro.CoroutineExit: generator 'closed'")
                .cause().isSameAs(signal);
        assertThat(g.state()).isEqualTo(State.FAILED);
        Coroutine c = Coroutine.create("consumer", () -> {
            try (Generator<Integer> h = Generator.buffered("readAhead", 2, out -> {
                out.emit(1);
                throw signal;
            })) {
                h.next();
                h.hasNext();
            }
        });
        assertThatThrownBy(c::switchTo).isInstanceOf(CoroutineException.class)
                .hasMessageStartingWith("coroutine 'consumer' failed: dev.coro.CoroutineException: generator 'readAhead' failed");
    }

    @Test
    void bodyExceptionReachesTheConsumerWithItsCauseAndFinishesTheGenerator() {
        IOException boom = new IOException("disk gone");
        Generator<Integer> g = Generator.of("reader", out -> {
            out.emit(1);
            throw boom;
        });
        assertThat(g.next()).isEqualTo(1);
        assertThatThrownBy(g::hasNext).isInstanceOf(CoroutineException.class)
                .hasMessage("generator 'reader' failed: java.io.IOException: disk gone")
                .cause().isSameAs(boom);
        assertThat(g.state()).isEqualTo(State.FAILED);
        assertThat(g.hasNext()).as("a failed generator has no more values").isFalse();
    }

    @Test
    void generatorsNestThreeDeep() {
        assertThat(nestedThreeDeep()).containsExactly(111, 222, 333);
    }

    @Test
    void generatorsNestThreeDeepInsideACoroutine() {
        AtomicReference<List<Integer>> seen = new AtomicReference<>();
        Coroutine co = Coroutine.create("consumer", () -> seen.set(nestedThreeDeep()));
        co.switchTo();
        assertThat(co.state()).isEqualTo(Coroutine.State.FINISHED);
        assertThat(seen.get()).containsExactly(111, 222, 333);
    }

    /** inner emits 1..3; middle emits 11*x; outer emits 111*x / 11 via middle: each level runs inside the previous body. */
    private List<Integer> nestedThreeDeep() {
        Generator<Integer> outer = Generator.of("outer", out -> {
            Generator<Integer> middle = Generator.of("middle", mid -> {
                try (Generator<Integer> inner = counting("inner", 3)) {
                    for (int v : inner) {
                        mid.emit(v * 11);
                    }
                }
            });
            for (int v : middle) {
                out.emit(v / 11 * 111);
            }
        });
        List<Integer> seen = new ArrayList<>();
        outer.forEachRemaining(seen::add);
        return seen;
    }

    @Test
    void coroutineYieldInsideTheBodySuspendsTheConsumingCoroutineAndBothResumeIntact() {
        Generator<Integer> g = Generator.of("ticks", out -> {
            for (int i = 1; i <= 3; i++) {
                log.add("body before yield " + i);
                Coroutine.yield();
                log.add("body after yield " + i + " in " + Coroutine.current().name());
                out.emit(i);
            }
        });
        GeneratorBodies.consumeInACoroutineWhileMainYields(g, log);
        assertThat(log).containsExactly(
                "main runs, consumer is NEW, ticks is NEW",
                "body before yield 1",
                "main runs, consumer is SUSPENDED, ticks is RUNNING",
                "body after yield 1 in consumer",
                "consumer got 1",
                "body before yield 2",
                "main runs, consumer is SUSPENDED, ticks is RUNNING",
                "body after yield 2 in consumer",
                "consumer got 2",
                "body before yield 3",
                "main runs, consumer is SUSPENDED, ticks is RUNNING",
                "body after yield 3 in consumer",
                "consumer got 3",
                "consumer done");
    }

    @Test
    void coroutineYieldInsideTheBodyOfAGeneratorConsumedByMainRunsTheOtherCoroutines() {
        Coroutine worker = Coroutine.create("worker", () -> {
            for (int i = 1; i <= 2; i++) {
                log.add("worker " + i);
                Coroutine.yield();
            }
        });
        Generator<String> g = Generator.of("g", out -> {
            Coroutine.yield();
            out.emit("a");
            Coroutine.yield();
            out.emit("b");
        });
        for (String v : g) {
            log.add("main got " + v);
        }
        assertThat(log).containsExactly("worker 1", "main got a", "worker 2", "main got b");
        assertThat(worker.state()).isEqualTo(Coroutine.State.SUSPENDED);
        worker.close();
    }

    @Test
    void nextFromInsideItsOwnBodyIsRefused() {
        AtomicReference<Generator<Integer>> self = new AtomicReference<>();
        Generator<Integer> g = Generator.of("selfish", out -> self.get().next());
        self.set(g);
        assertThatThrownBy(g::next).isInstanceOf(CoroutineException.class)
                .cause().isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot take the next value of generator 'selfish' (RUNNING): the call"
                        + " comes from inside its own body, which cannot resume itself");
    }

    @Test
    @Timeout(10)
    void aRefusedNextNamesTheNextItsCallerMadeAndARefusedHasNextTheHasNext() throws InterruptedException {
        for (int n : new int[] {1, 4}) {
            AtomicReference<Generator<Integer>> self = new AtomicReference<>();
            List<String> refusals = new ArrayList<>();
            Generator<Integer> g = Generator.buffered("g" + n, n, out -> {
                for (Runnable call : List.<Runnable>of(() -> self.get().hasNext(), () -> self.get().next())) {
                    try {
                        call.run();
                    } catch (IllegalStateException e) {
                        refusals.add(e.getMessage());
                    }
                }
                Coroutine.yield();
                out.emit(1);
            });
            self.set(g);
            Coroutine consumer = Coroutine.create("consumer", () -> g.next());
            consumer.switchTo();
            assertThat(refusals).as("from inside its own body").containsExactly(
                    "coroutine 'consumer' cannot hasNext on generator 'g" + n + "' (RUNNING): the call comes from inside"
                            + " its own body, which cannot resume itself",
                    "coroutine 'consumer' cannot take the next value of generator 'g" + n + "' (RUNNING): the call comes"
                            + " from inside its own body, which cannot resume itself");
            String whileInside = " generator 'g" + n + "' (RUNNING): its body is suspended, at a yield, a switchTo or a"
                    + " wait, inside its consumer coroutine 'consumer' (SUSPENDED); only that consumer can resume it";
            assertThatThrownBy(g::hasNext).isInstanceOf(IllegalStateException.class)
                    .hasMessage("main context 'main' cannot hasNext on" + whileInside);
            assertThatThrownBy(g::next).isInstanceOf(IllegalStateException.class)
                    .hasMessage("main context 'main' cannot take the next value of" + whileInside);
            assertThat(OtherThread.thrownOn("intruder", g::hasNext)).isInstanceOf(IllegalStateException.class)
                    .hasMessageStartingWith("thread 'intruder' (#")
                    .hasMessageContaining(") cannot hasNext on generator 'g" + n + "' (RUNNING): it belongs to thread ");
            assertThat(OtherThread.thrownOn("intruder", g::next)).isInstanceOf(IllegalStateException.class)
                    .hasMessageStartingWith("thread 'intruder' (#")
                    .hasMessageContaining(") cannot take the next value of generator 'g" + n + "' (RUNNING): it belongs to thread ");
            consumer.switchTo();
            assertThat(consumer.state()).as("the refusals harmed nothing").isEqualTo(Coroutine.State.FINISHED);
        }
    }

    @Test
    @Timeout(10)
    void aRefusedForEachRemainingNamesTheForEachRemainingNotTheHasNextItRuns() throws InterruptedException {
        for (int n : new int[] {1, 4}) {
            AtomicReference<Generator<Integer>> self = new AtomicReference<>();
            List<String> refusals = new ArrayList<>();
            Generator<Integer> g = Generator.buffered("g" + n, n, out -> {
                try {
                    self.get().forEachRemaining(v -> { });
                } catch (IllegalStateException e) {
                    refusals.add(e.getMessage());
                }
                Coroutine.yield();
                out.emit(1);
            });
            self.set(g);
            assertThat(OtherThread.thrownOn("intruder", () -> g.forEachRemaining(v -> { })))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageStartingWith("thread 'intruder' (#")
                    .hasMessageContaining(") cannot forEachRemaining on generator 'g" + n + "' (NEW): it belongs to thread ");
            Coroutine consumer = Coroutine.create("consumer", () -> g.next());
            consumer.switchTo();
            assertThat(refusals).as("from inside its own body").containsExactly(
                    "coroutine 'consumer' cannot forEachRemaining on generator 'g" + n + "' (RUNNING): the call comes"
                            + " from inside its own body, which cannot resume itself");
            assertThatThrownBy(() -> g.forEachRemaining(v -> { })).isInstanceOf(IllegalStateException.class)
                    .hasMessage("main context 'main' cannot forEachRemaining on generator 'g" + n + "' (RUNNING): its body"
                            + " is suspended, at a yield, a switchTo or a wait, inside its consumer coroutine 'consumer'"
                            + " (SUSPENDED); only that consumer can resume it");
            consumer.switchTo();
            g.close();
            assertThat(OtherThread.thrownOn("intruder", () -> g.forEachRemaining(v -> { })))
                    .as("on a closed generator").isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(") cannot forEachRemaining on generator 'g" + n + "' (CLOSED): it belongs to thread ");
            List<Integer> none = new ArrayList<>();
            g.forEachRemaining(none::add);
            assertThat(none).isEmpty();
        }
        Generator<Integer> counted = Generator.buffered("counted", 3, GeneratorBodies.upTo(7));
        List<Integer> all = new ArrayList<>();
        counted.forEachRemaining(all::add);
        assertThat(all).containsExactly(0, 1, 2, 3, 4, 5, 6);
        assertThat(counted.state()).isEqualTo(State.FINISHED);
    }

    @Test
    void consumingFromAnotherThreadIsRefused() throws InterruptedException {
        Generator<Integer> g = counting("g", 2);
        assertThat(OtherThread.thrownOn("intruder", () -> g.next())).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("thread 'intruder' (#")
                .hasMessageContaining(") cannot take the next value of generator 'g' (NEW): it belongs to thread ")
                .hasMessageContaining("it belongs to thread 'test-consumingFromAnotherThreadIsRefused' (#");
        assertThat(log).isEmpty();
    }

    /**
     * A refusal to another thread names its calling context as every refusal names the caller: a
     * coroutine of that thread, or its main context, with the thread.
     */
    @Test
    @Timeout(10)
    void aRefusalToAContextOfAnotherThreadNamesThatContextAndItsThread() throws InterruptedException {
        Generator<Integer> g = counting("g", 2);
        String owner = ThreadNames.thread();
        List<String> refusals = new ArrayList<>();
        assertThat(OtherThread.thrownOn("intruder", () -> {
            String intruder = ThreadNames.thread();
            Coroutine.create("taker", () -> {
                try {
                    g.next();
                } catch (IllegalStateException e) {
                    refusals.add(e.getMessage().replace(intruder, "<intruder>"));
                }
            }).switchTo();
            try {
                g.close();
            } catch (IllegalStateException e) {
                refusals.add(e.getMessage().replace(intruder, "<intruder>"));
            }
        })).isNull();
        assertThat(refusals).containsExactly(
                "coroutine 'taker' of thread <intruder> cannot take the next value of generator 'g' (NEW): it belongs to thread " + owner,
                "main context 'main' of thread <intruder> cannot close generator 'g' (NEW): it belongs to thread " + owner);
        assertThat(log).isEmpty();
        assertThat(g.next()).isEqualTo(1);
    }

    /**
     * Taking the iterator or the stream is the start of consuming: another thread is refused, naming
     * the generator, its state and both threads, and the refusal leaves the generator to be iterated
     * by its owner (it did not count as its one iteration).
     */
    @Test
    void iteratingOrStreamingFromAnotherThreadIsRefusedAndLeavesTheOneIterationToTheOwner() throws InterruptedException {
        Generator<Integer> g = counting("g", 2);
        assertThat(OtherThread.thrownOn("intruder", g::iterator)).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("thread 'intruder' (#")
                .hasMessageContaining(") cannot iterate over generator 'g' (NEW): it belongs to thread ");
        assertThat(OtherThread.thrownOn("intruder", g::stream)).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("thread 'intruder' (#")
                .hasMessageContaining(") cannot stream generator 'g' (NEW): it belongs to thread ");
        List<Integer> seen = new ArrayList<>();
        for (int v : g) {
            seen.add(v);
        }
        assertThat(seen).containsExactly(1, 2);
    }

    /**
     * As a coroutine's: a generator's state is its thread's to read (it changes as that thread runs
     * the body), so another thread is refused, naming the generator, its state and both threads; its
     * name and its description answer any thread.
     */
    @Test
    void readingTheStateFromAnotherThreadIsRefusedWhileTheNameAndToStringAnswer() throws InterruptedException {
        Generator<Integer> g = counting("g", 2);
        assertThat(g.next()).isEqualTo(1);
        assertThat(OtherThread.thrownOn("intruder", g::state)).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("thread 'intruder' (#")
                .hasMessageContaining(") cannot read the state of generator 'g' (SUSPENDED): it belongs to thread ")
                .hasMessageContaining("it belongs to thread"
                        + " 'test-readingTheStateFromAnotherThreadIsRefusedWhileTheNameAndToStringAnswer' (#");
        AtomicReference<String> seen = new AtomicReference<>();
        assertThat(OtherThread.thrownOn("reader", () -> seen.set(g.name() + " " + g))).isNull();
        assertThat(seen.get()).isEqualTo("g Generator[g, SUSPENDED]");
        assertThat(g.state()).isEqualTo(State.SUSPENDED);
    }

    /**
     * An emitter handed to another thread is refused there, both while the body runs (waiting for
     * that thread) and while it is suspended at an emit, naming the generator, its state and both
     * threads: no value of that thread reaches the consumer, and the body goes on.
     */
    @Test
    void emittingFromAnotherThreadIsRefusedNamingTheGeneratorItsStateAndBothThreads() throws InterruptedException {
        AtomicReference<Generator.Emitter<Integer, Void>> leaked = new AtomicReference<>();
        AtomicReference<Throwable> whileRunning = new AtomicReference<>();
        Generator<Integer> g = Generator.of("g", out -> {
            leaked.set(out);
            whileRunning.set(OtherThread.thrownOn("intruder", () -> out.emit(-1)));
            out.emit(1);
            out.emit(2);
        });
        assertThat(g.next()).as("the other thread's value never reached the consumer").isEqualTo(1);
        assertThat(whileRunning.get()).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("thread 'intruder' (#")
                .hasMessageContaining(") cannot emit from generator 'g' (RUNNING): it belongs to thread ")
                .hasMessageContaining("it belongs to thread"
                        + " 'test-emittingFromAnotherThreadIsRefusedNamingTheGeneratorItsStateAndBothThreads' (#");
        assertThat(OtherThread.thrownOn("intruder", () -> leaked.get().emit(-2))).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("thread 'intruder' (#")
                .hasMessageContaining(") cannot emit from generator 'g' (SUSPENDED): it belongs to thread ");
        assertThat(g.next()).isEqualTo(2);
        assertThat(g.hasNext()).isFalse();
    }

    @Test
    void consumingWhileAnotherConsumerIsSuspendedInsideItIsRefused() {
        Generator<Integer> g = Generator.of("shared", out -> {
            Coroutine.yield();
            out.emit(1);
        });
        Coroutine first = Coroutine.create("first", () -> g.next());
        first.switchTo();
        assertThat(g.state()).isEqualTo(State.RUNNING);
        assertThatThrownBy(g::next).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot take the next value of generator 'shared' (RUNNING): its body"
                        + " is suspended, at a yield, a switchTo or a wait, inside its consumer coroutine 'first'"
                        + " (SUSPENDED); only that consumer can resume it");
        assertThatThrownBy(g::close).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("main context 'main' cannot close generator 'shared' (RUNNING): its body is suspended");
        first.switchTo();
        assertThat(first.state()).isEqualTo(Coroutine.State.FINISHED);
        assertThat(g.state()).isEqualTo(State.SUSPENDED);
    }

    /**
     * A generator whose consumer waits inside its body in a sleep, or has switched from there to another
     * coroutine, is refused to every other context naming that consumer, its state and what it waits for:
     * the refusal said the consumer was inside a {@code Coroutine.yield()} or a channel wait, whatever it
     * waited in.
     */
    @Test
    @Timeout(30)
    void aRefusalWhileTheConsumerIsSuspendedInsideTheBodyNamesTheConsumerAndItsStateWhateverItWaitsIn() {
        VirtualTime.run(() -> {
            Generator<Integer> sleepy = Generator.of("sleepy", out -> {
                Coroutine.sleep(java.time.Duration.ofSeconds(1));
                out.emit(1);
            });
            Coroutine sleeper = Coroutine.create("sleeper", () -> log.add("sleeper took " + sleepy.next()));
            Coroutine.yield();
            assertThat(sleeper.state()).isEqualTo(Coroutine.State.PARKED);
            assertThatThrownBy(sleepy::close).isInstanceOf(IllegalStateException.class)
                    .hasMessage("main context 'main' cannot close generator 'sleepy' (RUNNING): its body is suspended,"
                            + " at a yield, a switchTo or a wait, inside its consumer coroutine 'sleeper' (PARKED), which"
                            + " waits to sleep 1,000.000 ms (t=1,000.000 ms on the virtual clock, 1,000.000 ms left);"
                            + " only that consumer can resume it");

            AtomicReference<Generator<Integer>> handing = new AtomicReference<>();
            Coroutine other = Coroutine.create("other", () -> {
                try {
                    handing.get().next();
                } catch (IllegalStateException e) {
                    log.add(e.getMessage());
                }
            });
            handing.set(Generator.of("handing", out -> {
                other.switchTo();
                out.emit(2);
            }));
            Coroutine switcher = Coroutine.create("switcher", () -> log.add("switcher took " + handing.get().next()));
            switcher.switchTo();
            switcher.switchTo();
        });
        assertThat(log).containsExactly(
                "coroutine 'other' cannot take the next value of generator 'handing' (RUNNING): its body is suspended,"
                        + " at a yield, a switchTo or a wait, inside its consumer coroutine 'switcher' (SUSPENDED);"
                        + " only that consumer can resume it",
                "switcher took 2", "sleeper took 1");
    }

    /**
     * Taking the iterator or the stream is the start of consuming: from inside the generator's own
     * body, or from another context while its consumer is suspended inside it, it is refused as
     * {@code next()} is, and the refusal leaves the one iteration to the consumer.
     */
    @Test
    void iteratingOrStreamingWhileTheBodyRunsIsRefusedAndLeavesTheOneIterationToTheConsumer() {
        AtomicReference<Generator<Integer>> self = new AtomicReference<>();
        List<String> refusedInBody = new ArrayList<>();
        Generator<Integer> g = Generator.of("busy", out -> {
            try {
                self.get().iterator();
            } catch (IllegalStateException e) {
                refusedInBody.add(e.getMessage());
            }
            try {
                self.get().stream();
            } catch (IllegalStateException e) {
                refusedInBody.add(e.getMessage());
            }
            Coroutine.yield();
            out.emit(1);
            out.emit(2);
        });
        self.set(g);
        Coroutine first = Coroutine.create("first", () -> log.add("first took " + g.next()));
        first.switchTo();
        assertThat(g.state()).isEqualTo(State.RUNNING);
        assertThatThrownBy(g::iterator).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot iterate over generator 'busy' (RUNNING): its body is suspended,"
                        + " at a yield, a switchTo or a wait, inside its consumer coroutine 'first' (SUSPENDED);"
                        + " only that consumer can resume it");
        assertThatThrownBy(g::stream).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("main context 'main' cannot stream generator 'busy' (RUNNING): its body is suspended");
        first.switchTo();
        assertThat(refusedInBody).containsExactly(
                "coroutine 'first' cannot iterate over generator 'busy' (RUNNING): the call comes from inside its own"
                        + " body, which cannot resume itself",
                "coroutine 'first' cannot stream generator 'busy' (RUNNING): the call comes from inside its own body,"
                        + " which cannot resume itself");
        for (int v : g) {
            log.add("main took " + v);
        }
        assertThat(log).containsExactly("first took 1", "main took 2");
    }

    @Test
    void emitOutsideTheRunningBodyIsRefused() {
        AtomicReference<Generator.Emitter<Integer, Void>> leaked = new AtomicReference<>();
        Generator<Integer> g = Generator.of("leaky", out -> {
            leaked.set(out);
            out.emit(1);
        });
        g.next();
        assertThatThrownBy(() -> leaked.get().emit(2)).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot emit from generator 'leaky' (SUSPENDED): emit may only be called"
                        + " by its own body while it runs");
    }

    /**
     * An outer generator's emitter called from the body of a generator it consumes is refused naming
     * that body as the caller, not the context that consumes the outer one; the outer body, which
     * catches the failure, goes on.
     */
    @Test
    void emitOfAnOuterGeneratorFromTheBodyOfAnInnerOneIsRefusedNamingTheInnerBody() {
        Generator<Integer> outer = Generator.of("outer", out -> {
            Generator<Integer> inner = Generator.of("inner", in -> out.emit(-1));
            try {
                inner.next();
            } catch (CoroutineException e) {
                log.add(e.getCause().getMessage());
            }
            out.emit(1);
        });
        assertThat(outer.next()).isEqualTo(1);
        assertThat(log).containsExactly("the body of generator 'inner' (run by main context 'main') cannot emit from"
                + " generator 'outer' (RUNNING): emit may only be called by its own body while it runs");
    }

    @Test
    void closingTheConsumingCoroutineUnwindsTheGeneratorBodyInsideIt() {
        Generator<Integer> g = Generator.of("g", out -> {
            try {
                Coroutine.yield();
                out.emit(1);
            } finally {
                log.add("generator finally");
            }
        });
        Coroutine consumer = Coroutine.create("consumer", () -> {
            try {
                g.next();
            } finally {
                log.add("consumer finally");
            }
        });
        consumer.switchTo();
        consumer.close();
        assertThat(log).containsExactly("generator finally", "consumer finally");
        assertThat(consumer.state()).isEqualTo(Coroutine.State.CLOSED);
        assertThat(g.state()).isEqualTo(State.CLOSED);
    }

    /**
     * A coroutine the body creates is its consumer's child (a generator is no context): the child's
     * failure is delivered to the consumer, at the consumer's pending call, which is the body's yield.
     * Left uncaught, it unwinds the body and reaches the consumer as it is: the body did not fail.
     */
    @Test
    void aChildsFailureDeliveredToTheConsumerInsideTheBodyPassesThroughToTheConsumerAndTheGeneratorIsClosed() {
        IllegalStateException boom = new IllegalStateException("boom");
        Generator<String> g = Generator.of("g", out -> {
            try {
                Coroutine.create("child", () -> {
                    throw boom;
                });
                Coroutine.yield();
                out.emit("after the yield");
            } finally {
                log.add("body finally");
            }
        });
        Coroutine consumer = Coroutine.create("consumer", () -> {
            try {
                log.add("consumer took " + g.next());
            } catch (CoroutineException e) {
                log.add("consumer caught: " + e.getMessage() + " (cause is boom: " + (e.getCause() == boom) + ")");
            }
        });
        consumer.switchTo(); // the body yields back to main
        Coroutine.yield(); // runs the child, which fails: its creator, the consumer, gets the failure
        assertThat(log).containsExactly("body finally",
                "consumer caught: coroutine 'child' failed: java.lang.IllegalStateException: boom (cause is boom: true)");
        assertThat(g.state()).isEqualTo(State.CLOSED);
        assertThat(g.hasNext()).isFalse();
        assertThat(consumer.state()).isEqualTo(Coroutine.State.FINISHED);
    }

    /** The same with main as the consumer: main's pending call is the body's yield. */
    @Test
    void aChildsFailureDeliveredToMainInsideTheBodyOfTheGeneratorItConsumesPassesThroughToMain() {
        IllegalStateException boom = new IllegalStateException("boom");
        Generator<String> g = Generator.of("g", out -> {
            Coroutine.create("child", () -> {
                throw boom;
            });
            Coroutine.yield();
            out.emit("after the yield");
        });
        assertThatThrownBy(g::next).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'child' failed: java.lang.IllegalStateException: boom")
                .cause().isSameAs(boom);
        assertThat(g.state()).isEqualTo(State.CLOSED);
    }

    /**
     * A coroutine's failure that reached its context's own code (main caught it at its yield) and that a
     * body throws later is that body's failure, as any exception it throws: the generator is {@code FAILED}
     * and its consumer gets the report naming it, the failure as its cause; the body did not pass on a
     * failure of its consumer.
     */
    @Test
    void aChildsFailureMainCaughtThatABodyThrowsLaterIsTheBodysFailure() {
        IllegalStateException boom = new IllegalStateException("boom");
        Coroutine.create("child", () -> {
            throw boom;
        });
        CoroutineException kept = catchThrowableOfType(CoroutineException.class, Coroutine::yield);
        assertThat(kept).hasMessage("coroutine 'child' failed: java.lang.IllegalStateException: boom");
        Generator<String> g = Generator.of("g", out -> {
            out.emit("a");
            throw kept;
        });
        assertThat(g.next()).isEqualTo("a");
        CoroutineException failed = catchThrowableOfType(CoroutineException.class, g::next);
        assertThat(failed.getMessage()).isEqualTo("generator 'g' failed: dev.coro.CoroutineException: coroutine 'child'"
                + " failed: java.lang.IllegalStateException: boom");
        assertThat(failed.getCause()).isSameAs(kept);
        assertThat(g.state()).isEqualTo(State.FAILED);
    }

    /**
     * The same for a failure delivered to another coroutine, which caught it inside the body of a generator
     * it consumed and kept it: the body of a generator that main consumes and that throws it fails with it,
     * and so does the body that caught it and throws it once it has handed a value over.
     */
    @Test
    void aChildsFailureKeptByAnotherCoroutinesBodyThatABodyThrowsLaterIsTheBodysFailure() {
        IllegalStateException boom = new IllegalStateException("boom");
        AtomicReference<CoroutineException> kept = new AtomicReference<>();
        Generator<String> catching = Generator.of("catching", out -> {
            Coroutine.create("child", () -> {
                throw boom;
            });
            try {
                Coroutine.yield();
            } catch (CoroutineException e) {
                kept.set(e);
            }
            out.emit("caught");
            throw kept.get();
        });
        Coroutine consumer = Coroutine.create("consumer", () -> log.add("consumer took " + catching.next()));
        consumer.switchTo(); // the body yields back to main
        Coroutine.yield(); // runs the child, whose failure the consumer's yield, in the body, throws: the body catches it
        assertThat(log).containsExactly("consumer took caught");
        assertThat(consumer.state()).isEqualTo(Coroutine.State.FINISHED);
        Generator<String> g = Generator.of("g", out -> {
            throw kept.get();
        });
        CoroutineException failed = catchThrowableOfType(CoroutineException.class, g::next);
        assertThat(failed.getMessage()).isEqualTo("generator 'g' failed: dev.coro.CoroutineException: coroutine 'child'"
                + " failed: java.lang.IllegalStateException: boom");
        assertThat(failed.getCause()).isSameAs(kept.get());
        assertThat(g.state()).isEqualTo(State.FAILED);
        failed = catchThrowableOfType(CoroutineException.class, catching::next);
        assertThat(failed.getMessage()).isEqualTo("generator 'catching' failed: dev.coro.CoroutineException: coroutine 'child'"
                + " failed: java.lang.IllegalStateException: boom");
        assertThat(failed.getCause()).isSameAs(kept.get());
        assertThat(catching.state()).isEqualTo(State.FAILED);
    }

    /**
     * A child's failure delivered to main inside the innermost of two nested bodies passes on through
     * both, each {@code CLOSED}; once it has reached main's own code, a body that throws it fails with it.
     */
    @Test
    void aChildsFailurePassesOnThroughNestedBodiesToMainAndIsTheFailureOfABodyThatThrowsItAfterwards() {
        IllegalStateException boom = new IllegalStateException("boom");
        Generator<String> inner = Generator.of("inner", out -> {
            Coroutine.create("child", () -> {
                throw boom;
            });
            Coroutine.yield();
            out.emit("after the yield");
        });
        Generator<String> outer = Generator.of("outer", out -> out.emit(inner.next()));
        CoroutineException kept = catchThrowableOfType(CoroutineException.class, outer::next);
        assertThat(kept).hasMessage("coroutine 'child' failed: java.lang.IllegalStateException: boom");
        assertThat(inner.state()).isEqualTo(State.CLOSED);
        assertThat(outer.state()).isEqualTo(State.CLOSED);
        Generator<String> g = Generator.of("g", out -> {
            throw kept;
        });
        CoroutineException failed = catchThrowableOfType(CoroutineException.class, g::next);
        assertThat(failed.getMessage()).isEqualTo("generator 'g' failed: dev.coro.CoroutineException: coroutine 'child'"
                + " failed: java.lang.IllegalStateException: boom");
        assertThat(failed.getCause()).isSameAs(kept);
        assertThat(g.state()).isEqualTo(State.FAILED);
    }

    /**
     * A child's failure delivered to the consumer at the body's yield, which the body catches, is the
     * body's once it has handed a value over: thrown again at the same consumer's next call, it fails the
     * generator with the report naming it, as it would at another consumer's; the consumer's call it was
     * delivered to returned that value, so nothing of the consumer's passes through the body any more.
     * So for main, a coroutine and an outer body that caught it as it passed out of the inner one.
     */
    @Test
    void aChildsFailureABodyCaughtAndDroppedIsNotKeptByTheGeneratorWhileItStaysSuspended() {
        for (int capacity : new int[] {0, 4}) { // a plain generator and a read-ahead one
            List<java.lang.ref.WeakReference<CoroutineException>> caught = new ArrayList<>();
            Generator.Body<String, Void> body = out -> {
                Coroutine.create("child", () -> {
                    throw new IllegalStateException("boom");
                });
                try {
                    Coroutine.yield(); // main, the consumer, runs the child, whose failure this yield throws
                } catch (CoroutineException e) {
                    caught.add(new java.lang.ref.WeakReference<>(e)); // dropped: the body goes on without it
                }
                out.emit("caught");
                for (int i = 0; i < 10; i++) { // more than a read-ahead batch holds: the body stays suspended
                    out.emit("more " + i);
                }
            };
            Generator<String> g = capacity == 0 ? Generator.of("g", body) : Generator.buffered("g", capacity, body);
            assertThat(g.next()).isEqualTo("caught");
            assertThat(caught).hasSize(1);
            assertThat(Collected.all(caught))
                    .as("the failure the body dropped is collected while the generator (capacity %d) stays suspended", capacity)
                    .isTrue();
            List<String> rest = new ArrayList<>();
            g.forEachRemaining(rest::add);
            assertThat(rest).hasSize(10).startsWith("more 0").endsWith("more 9");
            assertThat(g.state()).isEqualTo(State.FINISHED);
        }
    }

    @Test
    void aChildsFailureABodyCaughtAndThrowsAgainAfterHandingAValueOverIsTheBodysFailureAtTheSameConsumer() {
        IllegalStateException boom = new IllegalStateException("boom");
        String report = "generator 'g' failed: dev.coro.CoroutineException: coroutine 'child' failed:"
                + " java.lang.IllegalStateException: boom";
        AtomicReference<CoroutineException> kept = new AtomicReference<>();
        Generator<String> g = Generator.of("g", out -> {
            Coroutine.create("child", () -> {
                throw boom;
            });
            try {
                Coroutine.yield(); // main, the consumer, runs the child, whose failure this yield throws
            } catch (CoroutineException e) {
                kept.set(e);
            }
            out.emit("caught");
            throw kept.get();
        });
        assertThat(g.next()).isEqualTo("caught");
        CoroutineException failed = catchThrowableOfType(CoroutineException.class, g::next);
        assertThat(failed).hasMessage(report);
        assertThat(failed.getCause()).isSameAs(kept.get());
        assertThat(g.state()).isEqualTo(State.FAILED);

        Generator<String> byACoroutine = Generator.of("g", out -> {
            Coroutine.create("child", () -> {
                throw boom;
            });
            CoroutineException caught = catchThrowableOfType(CoroutineException.class, Coroutine::yield);
            out.emit("caught");
            throw caught;
        });
        Coroutine consumer = Coroutine.create("consumer", () -> {
            log.add("consumer took " + byACoroutine.next());
            log.add("consumer caught: " + catchThrowableOfType(CoroutineException.class, byACoroutine::next).getMessage());
        });
        consumer.switchTo(); // the body yields back to main
        Coroutine.yield(); // runs the child, whose failure the consumer's yield, in the body, throws: the body catches it
        assertThat(log).containsExactly("consumer took caught", "consumer caught: " + report);
        assertThat(byACoroutine.state()).isEqualTo(State.FAILED);
        assertThat(consumer.state()).isEqualTo(Coroutine.State.FINISHED);

        Generator<String> inner = Generator.of("inner", out -> {
            Coroutine.create("child", () -> {
                throw boom;
            });
            Coroutine.yield();
            out.emit("after the yield");
        });
        Generator<String> outer = Generator.of("outer", out -> {
            CoroutineException caught = catchThrowableOfType(CoroutineException.class, inner::next);
            out.emit("caught");
            throw caught;
        });
        assertThat(outer.next()).isEqualTo("caught");
        assertThat(inner.state()).as("the failure passed out of the inner body uncaught").isEqualTo(State.CLOSED);
        failed = catchThrowableOfType(CoroutineException.class, outer::next);
        assertThat(failed).hasMessage("generator 'outer' failed: dev.coro.CoroutineException: coroutine 'child' failed:"
                + " java.lang.IllegalStateException: boom");
        assertThat(outer.state()).isEqualTo(State.FAILED);
    }

    /**
     * A {@code finally} that emits while that failure passes through it uncaught hands its value over (the
     * failure is no signal of the consumer's, which would make the emit throw it again): the consumer's
     * call returns that value, and the failure, going on at its next call, is the body's, as one the body
     * caught and threw after an emit; the generator {@code FAILED}.
     */
    @Test
    void aChildsFailurePassingThroughAFinallyThatEmitsIsTheBodysFailureAtTheNextCall() {
        IllegalStateException boom = new IllegalStateException("boom");
        Generator<String> g = Generator.of("g", out -> {
            try {
                Coroutine.create("child", () -> {
                    throw boom;
                });
                Coroutine.yield(); // main, the consumer, runs the child, whose failure this yield throws
            } finally {
                out.emit("from the finally");
            }
            out.emit("not reached");
        });
        assertThat(g.next()).isEqualTo("from the finally");
        CoroutineException failed = catchThrowableOfType(CoroutineException.class, g::next);
        assertThat(failed).hasMessage("generator 'g' failed: dev.coro.CoroutineException: coroutine 'child' failed:"
                + " java.lang.IllegalStateException: boom");
        assertThat(failed.getCause()).hasCauseReference(boom);
        assertThat(g.state()).isEqualTo(State.FAILED);
    }

    /**
     * A body that catches that failure and throws it again before it emits (a log-and-rethrow, a
     * try-with-resources whose resource it closes, another yield between) passes it on as one left
     * uncaught: the consumer's call it was delivered to throws it as it is, the generator {@code CLOSED}.
     */
    @Test
    void aChildsFailureABodyCatchesAndThrowsAgainBeforeItEmitsPassesOnToTheConsumerAndTheGeneratorIsClosed() {
        IllegalStateException boom = new IllegalStateException("boom");
        Generator<String> g = Generator.of("g", out -> {
            try (AutoCloseable resource = () -> log.add("resource closed")) {
                Coroutine.create("child", () -> {
                    throw boom;
                });
                try {
                    Coroutine.yield();
                } catch (CoroutineException e) {
                    log.add("body caught " + e.getMessage());
                    Coroutine.yield(); // another scheduling point, no emit: still the consumer's call
                    throw e;
                }
            }
            out.emit("after the yield");
        });
        CoroutineException passed = catchThrowableOfType(CoroutineException.class, g::next);
        assertThat(passed).hasMessage("coroutine 'child' failed: java.lang.IllegalStateException: boom");
        assertThat(passed.getCause()).isSameAs(boom);
        assertThat(log).containsExactly("body caught coroutine 'child' failed: java.lang.IllegalStateException: boom",
                "resource closed");
        assertThat(g.state()).isEqualTo(State.CLOSED);
        assertThat(g.hasNext()).isFalse();
    }

    /** A generator's failure thrown in another generator's body, uncaught, is that body's failure: it is not delivered to a context. */
    @Test
    void aNestedGeneratorsFailureUncaughtInTheOuterBodyFailsTheOuterGenerator() {
        IllegalStateException boom = new IllegalStateException("boom");
        Generator<String> inner = Generator.of("inner", out -> {
            throw boom;
        });
        Generator<String> outer = Generator.of("outer", out -> out.emit(inner.next()));
        assertThatThrownBy(outer::next).isInstanceOf(CoroutineException.class)
                .hasMessage("generator 'outer' failed: dev.coro.CoroutineException: generator 'inner' failed:"
                        + " java.lang.IllegalStateException: boom")
                .cause().hasCauseReference(boom);
        assertThat(outer.state()).isEqualTo(State.FAILED);
        assertThat(inner.state()).isEqualTo(State.FAILED);
    }

    @Test
    void anEmitInTheFinallyOfABodyThatAClosedConsumerUnwindsThrowsTheExitAgainAndLeavesNothingForALaterConsumer() {
        Generator<String> g = Generator.of("g", out -> {
            try {
                Coroutine.yield();
                out.emit("normal");
            } finally {
                try {
                    out.emit("cleanup");
                    log.add("emit in finally returned");
                } catch (CoroutineExit e) {
                    log.add("emit in finally threw the exit");
                }
            }
        });
        Coroutine consumer = Coroutine.create("consumer", () -> {
            try {
                log.add("consumer took " + g.next());
            } finally {
                log.add("consumer finally");
            }
        });
        consumer.switchTo();
        consumer.close();
        assertThat(consumer.state()).isEqualTo(Coroutine.State.CLOSED);
        assertThat(log).containsExactly("emit in finally threw the exit", "consumer finally");
        assertThat(g.state()).isEqualTo(State.CLOSED);
        assertThat(g.hasNext()).as("main, a later consumer, meets no signal of the closed one").isFalse();
    }

    /**
     * A body's receive that was handed a value, its channel closed and then its consumer closed
     * before it ran, keeps the value (nothing goes back into a closed channel) and the close's signal
     * comes at the consumer's next scheduling point: the body's emit of it is no such point, so the
     * consumer gets the value and the value is not lost between the channel and the consumer.
     */
    @Test
    void aValueTheBodyReceivedBeforeItsChannelAndItsConsumerWereClosedReachesTheConsumer() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Generator<Integer> relay = Generator.of("relay", out -> {
            while (true) {
                out.emit(ch.receive());
            }
        });
        Coroutine consumer = Coroutine.create("consumer", () -> {
            try {
                log.add("consumer took " + relay.next());
                Coroutine.yield();
                log.add("not reached");
            } finally {
                log.add("consumer finally");
            }
        });
        Coroutine.yield();
        assertThat(consumer.state()).as("parked in the body's receive").isEqualTo(Coroutine.State.PARKED);
        assertThat(ch.trySend(7)).as("handed to the body's receive").isTrue();
        ch.close();
        consumer.close();
        assertThat(log).as("the value the send delivered is received, once").containsExactly("consumer took 7", "consumer finally");
        assertThat(consumer.state()).isEqualTo(Coroutine.State.CLOSED);
        assertThat(relay.state()).as("suspended at the emit whose value was taken").isEqualTo(State.SUSPENDED);
        relay.close();
        assertThat(relay.state()).isEqualTo(State.CLOSED);
    }

    /**
     * The same through a select: the receive clause handed the value keeps it once the channel has
     * closed, the select fires it, and the body's emit of it reaches the consumer.
     */
    @Test
    void aValueTheBodysSelectReceivedBeforeItsChannelAndItsConsumerWereClosedReachesTheConsumer() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Channel<Integer> idle = new Channel<>("idle", 0);
        Generator<Integer> relay = Generator.of("relay", out -> {
            while (true) {
                out.emit(new Select<Integer>().onReceive(idle, v -> -v).onReceive(ch, v -> v).select());
            }
        });
        Coroutine consumer = Coroutine.create("consumer", () -> {
            try {
                log.add("consumer took " + relay.next());
                Coroutine.yield();
                log.add("not reached");
            } finally {
                log.add("consumer finally");
            }
        });
        Coroutine.yield();
        assertThat(consumer.state()).as("parked in the body's select").isEqualTo(Coroutine.State.PARKED);
        assertThat(ch.trySend(7)).as("handed to the body's select").isTrue();
        ch.close();
        consumer.close();
        assertThat(log).as("the value the send delivered is received, once").containsExactly("consumer took 7", "consumer finally");
        assertThat(idle.trySend(1)).as("the select left no clause queued").isFalse();
        relay.close();
        assertThat(relay.state()).isEqualTo(State.CLOSED);
    }

    /**
     * A consumer whose close is held back (its receive kept a value of a channel closed since) is not
     * unwinding yet: a generator it resumes then is unwound by that close as by one that arises while
     * the consumer is inside it. Its body's first scheduling point throws the exit, every emit after it
     * (in a {@code finally} too) throws it again, and nothing of the signal stays in the body for a
     * later consumer.
     */
    @Test
    void aGeneratorResumedByAConsumerWhoseCloseIsHeldBackIsUnwoundWithItAndLeavesNothingForALaterConsumer() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Channel<Integer> idle = new Channel<>("idle", 0);
        Generator<String> g = Generator.of("g", out -> {
            try {
                idle.receive(); // a scheduling point: the held-back exit is thrown here
                out.emit("normal");
            } finally {
                try {
                    out.emit("cleanup");
                    log.add("emit in finally returned");
                } catch (CoroutineExit e) {
                    log.add("emit in finally threw the exit");
                }
            }
        });
        Coroutine consumer = Coroutine.create("consumer", () -> {
            try {
                log.add("consumer received " + ch.receive());
                log.add("consumer took " + g.next());
            } finally {
                log.add("consumer finally");
            }
        });
        Coroutine.yield();
        assertThat(consumer.state()).as("parked in its receive").isEqualTo(Coroutine.State.PARKED);
        assertThat(ch.trySend(7)).isTrue();
        ch.close();
        consumer.close();
        assertThat(consumer.state()).isEqualTo(Coroutine.State.CLOSED);
        assertThat(log).containsExactly("consumer received 7", "emit in finally threw the exit", "consumer finally");
        assertThat(g.state()).isEqualTo(State.CLOSED);
        assertThat(g.hasNext()).as("main, a later consumer, meets no signal of the closed one").isFalse();
    }

    @Test
    void aCoroutineBeingClosedMayStillConsumeAGeneratorInAFinallyBlock() {
        Generator<Integer> before = Generator.of("before", out -> {
            for (int i = 1; i <= 3; i++) {
                out.emit(i);
            }
        });
        Coroutine consumer = Coroutine.create("consumer", () -> {
            try {
                log.add("took " + before.next());
                Coroutine.yield();
            } finally {
                Generator<Integer> fresh = Generator.of("fresh", out -> {
                    out.emit(10);
                    out.emit(20);
                });
                List<Integer> rest = new ArrayList<>();
                before.forEachRemaining(rest::add);
                fresh.forEachRemaining(rest::add);
                log.add("finally took " + rest);
            }
        });
        consumer.switchTo();
        consumer.close();
        assertThat(log).containsExactly("took 1", "finally took [2, 3, 10, 20]");
        assertThat(consumer.state()).isEqualTo(Coroutine.State.CLOSED);
    }

    @Test
    void coroutineYieldInTheInnermostOfThreeNestedGeneratorsSuspendsTheWholeStack() {
        Generator<Integer> outer = Generator.of("outer", out -> {
            Generator<Integer> middle = Generator.of("middle", mid -> {
                Generator<Integer> inner = Generator.of("inner", in -> {
                    for (int i = 1; i <= 2; i++) {
                        Coroutine.yield();
                        in.emit(i);
                    }
                });
                for (int v : inner) {
                    mid.emit(v * 10);
                }
            });
            for (int v : middle) {
                out.emit(v * 10);
            }
        });
        Coroutine consumer = Coroutine.create("consumer", () -> {
            for (int v : outer) {
                log.add("consumer got " + v);
            }
        });
        while (!consumer.isFinished()) {
            log.add("main, outer is " + outer.state());
            Coroutine.yield();
        }
        assertThat(log).containsExactly("main, outer is NEW", "main, outer is RUNNING", "consumer got 100",
                "main, outer is RUNNING", "consumer got 200");
        assertThat(outer.state()).isEqualTo(State.FINISHED);
    }

    @Test
    void aBodyWaitingOnAChannelParksItsConsumerWithTheGeneratorInside() {
        Channel<String> words = new Channel<>("words", 0);
        Generator<String> shout = Generator.of("shout", out -> {
            for (String w : words) {
                out.emit(w.toUpperCase());
            }
        });
        Coroutine.create("feeder", () -> {
            log.add("shout " + shout.state());
            log.add(Coroutine.dump().lines().filter(l -> l.contains("[0] main")).findFirst().orElseThrow().strip());
            words.send("hey");
            words.send("you");
            words.close();
        });
        List<String> seen = new ArrayList<>();
        shout.forEachRemaining(seen::add);
        assertThat(seen).as("main parked inside the body, the feeder ran on top of it").containsExactly("HEY", "YOU");
        assertThat(log).as("main parked in the body's loop over the channel, the generator inside it").containsExactly("shout RUNNING",
                "[0] main: PARKED, waits to iterate over channel 'words', inside generator 'shout'");
    }

    @Test
    @Timeout(10)
    void aDeadlockReportNamesTheGeneratorWhoseBodyEachContextWaitsInAsTheDumpDoes() {
        Channel<Integer> doors = new Channel<>("doors", 0);
        Channel<Integer> counter = new Channel<>("counter", 0);
        Generator<Integer> arrivals = Generator.of("arrivals", out -> out.emit(doors.receive()));
        Coroutine arrivalProcess = Coroutine.create("arrival-process", () -> {
            for (int customer : arrivals) {
                counter.send(customer);
            }
        });
        Coroutine teller = Coroutine.create("teller", () -> counter.receive());
        Coroutine.yield(); // the teller parks at the counter, the arrival process inside its generator's body
        assertThat(Coroutine.dump()).contains(
                "  [1] coroutine 'arrival-process': PARKED, waits to receive from channel 'doors', inside generator 'arrivals'\n");
        Generator<Integer> tickets = Generator.of("tickets", out -> out.emit(counter.receive()));
        CoroutineException failed = catchThrowableOfType(CoroutineException.class, tickets::next);
        assertThat(failed.getCause()).isInstanceOf(DeadlockException.class);
        assertThat(((DeadlockException) failed.getCause()).waits()).as("each wait is a body's, not its context's own code's")
                .containsExactly(
                        "main context 'main' would wait to receive from channel 'counter', inside generator 'tickets'",
                        "coroutine 'arrival-process' waits to receive from channel 'doors', inside generator 'arrivals'",
                        "coroutine 'teller' waits to receive from channel 'counter'");
        assertThat(failed.getCause()).hasMessage("main context 'main' cannot receive from channel 'counter': every other"
                + " context of thread '" + Thread.currentThread().getName() + "' (#" + Thread.currentThread().threadId()
                + ") is parked and no timer is pending, so nothing could ever wake it (deadlock):\n"
                + "  main context 'main' would wait to receive from channel 'counter', inside generator 'tickets'\n"
                + "  coroutine 'arrival-process' waits to receive from channel 'doors', inside generator 'arrivals'\n"
                + "  coroutine 'teller' waits to receive from channel 'counter'");
        arrivalProcess.close();
        teller.close();
        assertThat(arrivals.state()).isEqualTo(State.CLOSED);
    }

    @Test
    void theStackTraceOfACoroutineSuspendedInsideAGeneratorShowsTheBody() {
        Generator<Integer> g = Generator.of("g", this::yieldingBody);
        Coroutine consumer = Coroutine.create("consumer", () -> g.next());
        consumer.switchTo();
        StackTraceElement[] frames = consumer.stackTrace();
        assertThat(java.util.Arrays.stream(frames).map(f -> f.getClassName() + "." + f.getMethodName()))
                .as("the body's frames, then the consumer's call of the generator and the consumer's own frames;"
                        + " how the body is entered (a nested continuation, or its thread and the consumer's park) is cut")
                .containsExactly("dev.coro.Coroutine.yield", "dev.coro.GeneratorTest.yieldingBody",
                        "dev.coro.Generator.next",
                        "dev.coro.GeneratorTest.lambda$theStackTraceOfACoroutineSuspendedInsideAGeneratorShowsTheBody$0");
        consumer.close();
        assertThat(g.state()).isEqualTo(State.CLOSED);
    }

    private void yieldingBody(Generator.Emitter<Integer, Void> out) {
        Coroutine.yield();
        out.emit(1);
    }

    @Test
    void emitWhileHoldingAMonitorSuspendsAndResumesTheBody() {
        Object lock = new Object();
        Generator<Integer> g = Generator.of("locked", out -> {
            synchronized (lock) {
                out.emit(1);
                out.emit(2);
            }
        });
        assertThat(g.next()).isEqualTo(1);
        assertThat(g.next()).isEqualTo(2);
        assertThat(g.hasNext()).isFalse();
    }

    /** Set just before {@link EmitsWhileInitialized} is initialized: its initializer emits through it. */
    static Generator.Emitter<Integer, Void> emitterForInitializer;
    /** What {@link EmitsWhileInitialized}'s initializer caught. */
    static RuntimeException caughtInInitializer;

    /** A class whose initializer emits: the JDK cannot suspend a class initializer. */
    static final class EmitsWhileInitialized {
        static {
            try {
                emitterForInitializer.emit(1);
            } catch (RuntimeException e) {
                caughtInInitializer = e;
            }
        }

        static void touch() {
        }
    }

    @Tag("once-per-jvm") // a class initializer runs once per JVM: not for PIT, which reruns tests in one JVM
    @Test
    @EnabledIf(value = "dev.coro.ContinuationEngineTest#continuationEngineRuns",
            disabledReason = "only continuations refuse to suspend under a native frame; the thread engine parks the body's thread")
    void emitWhereTheJdkCannotSuspendThrowsAndTheBodyKeepsRunning() {
        Generator<Integer> g = Generator.of("pinned", out -> {
            emitterForInitializer = out;
            EmitsWhileInitialized.touch();
            out.emit(2);
        });
        assertThat(g.next()).as("the body went on after the refused emit").isEqualTo(2);
        assertThat(caughtInInitializer).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot emit from generator 'pinned' (RUNNING): the JDK cannot suspend it"
                        + " here because a native frame is on its stack (a JNI call, an FFM upcall, or a class initializer);"
                        + " it keeps running");
    }

    @Test
    @EnabledIf(value = "dev.coro.ContinuationEngineTest#continuationEngineRuns",
            disabledReason = "Continuation.pin() is the continuation engine's own primitive; the thread engine parks the body's thread")
    void emitInsideAJdkCriticalSectionThrowsAndTheBodyKeepsRunning() {
        Generator<Integer> g = Generator.of("critical", out -> {
            Continuation.pin();
            try {
                out.emit(1);
                log.add("emit returned inside the critical section");
            } catch (IllegalStateException e) {
                log.add(e.getMessage());
            } finally {
                Continuation.unpin();
            }
            out.emit(2);
        });
        assertThat(g.next()).as("the body went on after the refused emit").isEqualTo(2);
        assertThat(log).containsExactly("main context 'main' cannot emit from generator 'critical' (RUNNING): the JDK"
                + " cannot suspend it here because it is inside a JDK critical section; it keeps running");
        assertThat(g.hasNext()).isFalse();
        assertThat(g.state()).isEqualTo(State.FINISHED);
    }

    /** Set just before {@link EmitsWhileInitializedOnThreads} is initialized: its initializer emits through it. */
    static Generator.Emitter<Integer, Void> emitterForThreadsInitializer;

    /** A class whose initializer emits, for the thread engine: its body's thread simply parks there. */
    static final class EmitsWhileInitializedOnThreads {
        static {
            emitterForThreadsInitializer.emit(1);
        }

        static void touch() {
        }
    }

    @Tag("once-per-jvm") // a class initializer runs once per JVM: not for PIT, which reruns tests in one JVM
    @Test
    @EnabledIf(value = "dev.coro.ThreadEngineTest#threadEngineRuns",
            disabledReason = "on the continuation engine such an emit is refused (the test above)")
    void onTheThreadEngineEmitInsideAClassInitializerSuspendsLikeAnyOther() {
        List<String> log = new ArrayList<>();
        Generator<Integer> g = Generator.of("initializing", out -> {
            emitterForThreadsInitializer = out;
            EmitsWhileInitializedOnThreads.touch();
            log.add("initialized");
            out.emit(2);
        });
        assertThat(g.next()).isEqualTo(1);
        assertThat(log).as("suspended inside the initializer").isEmpty();
        assertThat(g.next()).isEqualTo(2);
        assertThat(log).containsExactly("initialized");
        assertThat(g.hasNext()).isFalse();
        assertThat(g.state()).isEqualTo(State.FINISHED);
    }

    @Test
    void aCoroutineClosedWhileInsideTheCloseOfAGeneratorStopsThereAndTheGeneratorEndsClosed() {
        Generator<Integer> g = Generator.of("g", out -> {
            try {
                out.emit(1);
            } finally {
                log.add("g unwinds");
                Coroutine.yield();
                log.add("g after yield");
            }
        });
        Coroutine x = Coroutine.create("x", () -> {
            g.next();
            g.close();
            log.add("x runs on after close");
        });
        x.switchTo();
        assertThat(log).containsExactly("g unwinds");
        x.close();
        assertThat(log).as("x's exit signal unwinds g's finally and then x; nothing runs on").containsExactly("g unwinds");
        assertThat(x.state()).isEqualTo(Coroutine.State.CLOSED);
        assertThat(g.state()).isEqualTo(State.CLOSED);
    }

    @Test
    void aParallelStreamOverAGeneratorTakesEveryValueOnceInOrder() {
        GeneratorBodies.assertParallelStreamTakesEveryValueOnceInOrder(
                Generator.of("numbers", GeneratorBodies.upTo(10_000)), 10_000);
    }

    @Test
    void aParallelStreamSumOverAGeneratorIsExact() {
        Generator<Long> g = Generator.of(out -> {
            for (long i = 1; i <= 100_000; i++) {
                out.emit(i);
            }
        });
        try (Stream<Long> s = g.stream()) {
            assertThat(s.parallel().mapToLong(Long::longValue).sum()).isEqualTo(100_000L * 100_001 / 2);
        }
    }

    @Test
    void aGeneratorStreamThatAnotherStreamHandsWholeToAnotherThreadIsRefusedThereAndStillWorksOnItsOwn()
            throws InterruptedException {
        Generator<Integer> g = Generator.of("numbers", GeneratorBodies.upTo(3));
        Spliterator<Integer> concat = Stream.concat(g.stream(), Stream.of(-1)).spliterator();
        Spliterator<Integer> first = concat.trySplit(); // the part a parallel concat may run as a task on a worker
        assertThat(OtherThread.thrownOn("worker", () -> first.tryAdvance(v -> { })))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(") cannot take the next value of generator 'numbers' (NEW): it belongs to thread ")
                .hasMessageStartingWith("thread 'worker' (#");
        Generator<Integer> read = Generator.buffered("read-ahead", 2, GeneratorBodies.upTo(3));
        Spliterator<Integer> split = Stream.concat(read.stream(), Stream.of(-1)).spliterator().trySplit();
        assertThat(OtherThread.thrownOn("worker", () -> split.tryAdvance(v -> { })))
                .isInstanceOf(IllegalStateException.class).as("the stream took a value: it called no hasNext")
                .hasMessageContaining(") cannot take the next value of generator 'read-ahead' (NEW): it belongs to thread ");
        read.close();
        List<Integer> got = new ArrayList<>();
        first.forEachRemaining(got::add);
        concat.forEachRemaining(got::add);
        assertThat(got).containsExactly(0, 1, 2, -1);
    }

    private static Generator<Integer> nested(int depth) {
        if (depth == 0) {
            return Generator.of("leaf", out -> {
                out.emit(1);
                throw new IllegalStateException("deep failure");
            });
        }
        Generator<Integer> inner = nested(depth - 1);
        return Generator.of("g" + depth, out -> {
            for (Integer v : inner) {
                out.emit(v);
            }
        });
    }

    @Test
    void generatorsNestedAThousandDeepDeliverTheirValuesOrFailWithTheRealCauseAndNothingIsPoisoned() {
        Generator<Integer> g = nested(1000);
        Throwable failure = null;
        List<Integer> values = new ArrayList<>();
        try {
            while (g.hasNext()) {
                values.add(g.next());
            }
        } catch (CoroutineException e) {
            failure = e;
        }
        assertThat(failure).as("the leaf's failure, or the stack's end, reaches the consumer").isNotNull();
        Throwable root = failure;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        if (Engines.running().equals("threads")) {
            // every body has a thread of its own: no depth limit; the leaf's failure comes through every level
            assertThat(values).containsExactly(1);
            assertThat(root).isInstanceOf(IllegalStateException.class).hasMessage("deep failure");
        } else {
            // every body runs on its consumer's stack: the thread's stack bounds the nesting, and its end is
            // reported as what it is: the overflow itself, or the refusal to enter a body's stack that an
            // overflow broke on the way in (an IllegalStateException whose cause says so)
            assertThat(root).isInstanceOfAny(StackOverflowError.class, IllegalStateException.class, PinnedException.class);
            if (root instanceof PinnedException) {
                assertThat(root).hasMessageContaining("stack overflow");
            }
        }
        assertThat(failure).isInstanceOf(CoroutineException.class).hasMessageStartingWith("generator '");
        assertThat(g.state()).isEqualTo(State.FAILED);
        // nothing the library uses was left broken: messages are still built, generators still run
        assertThat("depth " + values.size()).startsWith("depth ");
        assertThat(counting("after", 2).stream().toList()).containsExactly(1, 2);
    }
}
