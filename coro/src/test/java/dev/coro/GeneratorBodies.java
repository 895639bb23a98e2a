package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Generator.State;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/** Generator bodies, and checks of what a consumer sees, that the tests of plain and buffered generators share. */
final class GeneratorBodies {

    private GeneratorBodies() {
    }

    /**
     * A body that emits 1 to {@code count}, adding {@code "<name> emits <i>"} to {@code log} before each emit
     * and {@code "<name> ends"} once it has emitted them all.
     */
    static Generator.Body<Integer, Void> counting(List<String> log, String name, int count) {
        return out -> {
            for (int i = 1; i <= count; i++) {
                log.add(name + " emits " + i);
                out.emit(i);
            }
            log.add(name + " ends");
        };
    }

    /** A body that emits 1, 2, 3 ... without end, adding {@code "finally"} to {@code log} as it unwinds. */
    static Generator.Body<Integer, Void> naturals(List<String> log) {
        return out -> {
            try {
                for (int i = 1; ; i++) {
                    out.emit(i);
                }
            } finally {
                log.add("finally");
            }
        };
    }

    /** A body that emits 0 to {@code count - 1}. */
    static Generator.Body<Integer, Void> upTo(int count) {
        return out -> {
            for (int i = 0; i < count; i++) {
                out.emit(i);
            }
        };
    }

    /**
     * Takes the first {@code limit} values of {@code g} (a generator of {@link #naturals}) through its stream,
     * closes the stream, and checks that they are {@code expected} (joined by commas), that the body unwound
     * ({@code log} holds just {@code "finally"}) and that {@code g} is CLOSED.
     */
    static void assertClosingItsStreamClosesIt(Generator<Integer> g, List<String> log, int limit, String expected) {
        try (Stream<Integer> s = g.stream()) {
            assertThat(s.limit(limit).map(String::valueOf).collect(Collectors.joining(","))).isEqualTo(expected);
        }
        assertThat(log).containsExactly("finally");
        assertThat(g.state()).isEqualTo(State.CLOSED);
    }

    /**
     * Doubles every value of {@code g} (a generator of {@link #upTo upTo(count)}) through a parallel stream and
     * checks that each of 0 to {@code count - 1} came once, in order, and that {@code g} is FINISHED.
     */
    static void assertParallelStreamTakesEveryValueOnceInOrder(Generator<Integer> g, int count) {
        try (Stream<Integer> s = g.stream()) {
            List<Integer> doubled = s.parallel().map(i -> i * 2).toList();
            assertThat(doubled).hasSize(count);
            for (int i = 0; i < doubled.size(); i++) {
                assertThat(doubled.get(i)).isEqualTo(2 * i);
            }
        }
        assertThat(g.state()).isEqualTo(State.FINISHED);
    }

    /**
     * Doubles every value of {@code g} (a generator of {@link #upTo upTo(count)}) through a parallel stream made of
     * its {@code spliterator()} and checks that each of 0 to {@code count - 1} came once, in order, and that
     * {@code g} is FINISHED.
     */
    static void assertParallelStreamOfItsSpliteratorTakesEveryValueOnceInOrder(Generator<Integer> g, int count) {
        List<Integer> doubled = StreamSupport.stream(g.spliterator(), true).map(i -> i * 2).toList();
        assertThat(doubled).hasSize(count);
        for (int i = 0; i < doubled.size(); i++) {
            assertThat(doubled.get(i)).isEqualTo(2 * i);
        }
        assertThat(g.state()).isEqualTo(State.FINISHED);
    }

    /**
     * Closes {@code g} before anything asked it for a value, and checks that it is CLOSED, has no values, and
     * that its body never ran (it logs to {@code log}, which stays empty).
     */
    static void assertCloseBeforeTheFirstRequestRunsNothing(Generator<Integer> g, List<String> log) {
        g.close();
        assertThat(g.state()).isEqualTo(State.CLOSED);
        assertThat(g.hasNext()).isFalse();
        assertThat(log).isEmpty();
    }

    /**
     * Consumes {@code g} in a new coroutine 'consumer', which adds {@code "consumer got <v>"} to {@code log}
     * for each value and {@code "consumer done"} at the end, while main adds
     * {@code "main runs, consumer is <state>, <g's name> is <g's state>"} and yields, until the consumer
     * finished.
     */
    static void consumeInACoroutineWhileMainYields(Generator<Integer> g, List<String> log) {
        Coroutine consumer = Coroutine.create("consumer", () -> {
            for (int v : g) {
                log.add("consumer got " + v);
            }
            log.add("consumer done");
        });
        while (!consumer.isFinished()) {
            log.add("main runs, consumer is " + consumer.state() + ", " + g.name() + " is " + g.state());
            Coroutine.yield();
        }
    }
}
