package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The {@link Iterator} and {@link Iterable} contracts of {@link Channel} and {@link Generator}: a repeated
 * {@code hasNext()} takes one value, {@code next()} past the end and {@code remove()} are refused naming
 * what, and a loop cut short, timed out, or ended by a close from elsewhere loses no value; each test on a
 * fresh thread of its own ({@link FreshThread}).
 */
@ExtendWith(FreshThread.class)
class IterationContractTest {

    @Test
    void aRepeatedHasNextOnAChannelIteratorTakesOneValueAndNextHandsThatOneOver() {
        Channel<Integer> ch = new Channel<>("numbers", 4);
        ch.send(1);
        ch.send(2);
        Iterator<Integer> it = ch.iterator();
        assertThat(it.hasNext()).isTrue();
        assertThat(it.hasNext()).isTrue();
        assertThat(it.hasNext()).isTrue();
        assertThat(ch.size()).as("the repeated hasNext took one value only").isEqualTo(1);
        assertThat(it.next()).isEqualTo(1);
        assertThat(it.next()).as("next without hasNext receives").isEqualTo(2);
        assertThat(ch.size()).isZero();
    }

    @Test
    void nextPastTheEndOfAChannelThrowsNamingTheCallerTheChannelAndItsStateEachTime() {
        Channel<Integer> ch = new Channel<>("numbers", 2);
        ch.send(7);
        ch.close();
        Iterator<Integer> it = ch.iterator();
        assertThat(it.next()).isEqualTo(7);
        for (int i = 0; i < 2; i++) {
            assertThatThrownBy(it::next).isInstanceOf(NoSuchElementException.class)
                    .hasMessage("main context 'main' cannot take the next value of channel 'numbers' (closed): no value is"
                            + " left in it, and none can come");
            assertThat(it.hasNext()).isFalse();
        }
        Coroutine c = Coroutine.create("reader", () -> ch.iterator().next());
        assertThatThrownBy(c::switchTo).isInstanceOf(CoroutineException.class).cause()
                .isInstanceOf(NoSuchElementException.class)
                .hasMessage("coroutine 'reader' cannot take the next value of channel 'numbers' (closed): no value is"
                        + " left in it, and none can come");
    }

    @Test
    void removeThroughAChannelIteratorIsRefusedAndTakesNothing() {
        Channel<Integer> ch = new Channel<>("numbers", 2);
        ch.send(1);
        Iterator<Integer> it = ch.iterator();
        assertThat(it.hasNext()).isTrue();
        assertThatThrownBy(it::remove).isInstanceOf(UnsupportedOperationException.class)
                .hasMessage("main context 'main' cannot remove a value of channel 'numbers' (open): its iterator receives"
                        + " each value, which leaves the channel as it is taken");
        ch.send(2);
        assertThat(it.next()).isEqualTo(1);
        assertThat(it.next()).isEqualTo(2);
    }

    /**
     * A null action given to {@code forEach} of a channel or a generator, or to {@code forEachRemaining} of a
     * channel's iterator, is refused naming the parameter, as the generator's own {@code forEachRemaining}, the
     * spliterators and every other null argument of the library are (the JDK's defaults named nothing), before any
     * value is taken: the channel keeps its values, the body has not run, and the one iteration of the generator is
     * left to its consumer.
     */
    @Test
    void aNullActionGivenToForEachOrForEachRemainingIsRefusedNamingItBeforeAnyValueIsTaken() {
        Channel<Integer> ch = new Channel<>("numbers", 4);
        ch.send(1);
        ch.send(2);
        Iterator<Integer> it = ch.iterator();
        assertThat(it.hasNext()).isTrue();
        List<String> log = new ArrayList<>();
        Generator<Integer> g = Generator.of("g", out -> {
            log.add("ran");
            out.emit(3);
        });
        for (org.assertj.core.api.ThrowableAssert.ThrowingCallable call : List.<org.assertj.core.api.ThrowableAssert.ThrowingCallable>of(
                () -> ch.forEach(null), () -> it.forEachRemaining(null), () -> g.forEach(null))) {
            assertThatThrownBy(call).isExactlyInstanceOf(NullPointerException.class).hasMessage("action");
        }
        assertThat(ch.size()).as("the channel kept the value its iterator did not hold").isEqualTo(1);
        assertThat(it.next()).as("the value the iterator held").isEqualTo(1);
        assertThat(log).as("the body did not run").isEmpty();
        List<Integer> seen = new ArrayList<>();
        g.forEach(seen::add);
        ch.close();
        ch.forEach(seen::add);
        assertThat(seen).containsExactly(3, 2);
    }

    /**
     * The spliterator of a channel, of a generator and of a read-ahead generator keeps {@link Spliterator}'s
     * contract past the end: each later {@code tryAdvance} returns false without calling its action, and
     * {@code forEachRemaining} calls it for nothing; its characteristics (never {@code SIZED}) are the same before
     * the first value and after the last, and it never splits. Its estimated size is unknown ({@code Long.MAX_VALUE})
     * until it has seen the end, then 0, as the JDK's spliterators say once they are exhausted; its exact size stays
     * unknown ({@code -1}), as it is not {@code SIZED}.
     */
    @Test
    void aSpliteratorPastTheEndReturnsFalseEachTimeKeepsItsCharacteristicsAndEstimatesNoValueLeft() {
        Channel<Integer> ch = new Channel<>("numbers", 2);
        ch.send(1);
        ch.send(2);
        ch.close();
        List<Spliterator<Integer>> sources = List.of(ch.spliterator(),
                Generator.of("g", GeneratorBodies.upTo(2)).spliterator(),
                Generator.buffered("ahead", 4, GeneratorBodies.upTo(2)).spliterator());
        List<Integer> expected = List.of(Spliterator.ORDERED | Spliterator.NONNULL, Spliterator.ORDERED, Spliterator.ORDERED);
        for (int i = 0; i < sources.size(); i++) {
            Spliterator<Integer> values = sources.get(i);
            assertThat(values.characteristics()).as("source %d", i).isEqualTo(expected.get(i));
            assertThat(values.estimateSize()).isEqualTo(Long.MAX_VALUE);
            assertThat(values.getExactSizeIfKnown()).isEqualTo(-1);
            List<Integer> seen = new ArrayList<>();
            values.forEachRemaining(seen::add);
            assertThat(seen).as("source %d", i).hasSize(2);
            for (int k = 0; k < 2; k++) {
                assertThat(values.tryAdvance(v -> seen.add(-1))).as("source %d past the end", i).isFalse();
            }
            values.forEachRemaining(v -> seen.add(-2));
            assertThat(seen).as("source %d: no action called past the end", i).hasSize(2);
            assertThat(values.characteristics()).isEqualTo(expected.get(i));
            assertThat(values.estimateSize()).as("source %d past the end", i).isZero();
            assertThat(values.getExactSizeIfKnown()).isEqualTo(-1);
            assertThat(values.trySplit()).isNull();
        }
    }

    @Test
    void aForEachCutShortLeavesTheRestOfTheChannelToTheNextLoop() {
        Channel<Integer> ch = new Channel<>("numbers", 8);
        for (int i = 1; i <= 6; i++) {
            ch.send(i);
        }
        ch.close();
        List<Integer> first = new ArrayList<>();
        for (int v : ch) {
            first.add(v);
            if (v == 2) {
                break;
            }
        }
        List<Integer> rest = new ArrayList<>();
        for (int v : ch) {
            rest.add(v);
        }
        assertThat(first).containsExactly(1, 2);
        assertThat(rest).as("each value once, none lost to the loop cut short").containsExactly(3, 4, 5, 6);
    }

    @Test
    void aForEachParkedInHasNextEndsAfterTheBufferWhenAnotherCoroutineClosesTheChannel() {
        Channel<Integer> ch = new Channel<>("numbers", 4);
        List<Integer> seen = new ArrayList<>();
        Coroutine reader = Coroutine.create("reader", () -> {
            for (int v : ch) {
                seen.add(v);
            }
        });
        reader.switchTo();
        assertThat(reader.state()).isEqualTo(Coroutine.State.PARKED);
        Coroutine closer = Coroutine.create("closer", () -> {
            ch.send(1);
            ch.send(2);
            ch.send(3);
            ch.close();
        });
        closer.join();
        reader.join();
        assertThat(seen).containsExactly(1, 2, 3);
    }

    @Test
    @Timeout(30)
    void aForEachParkedInHasNextEndsAfterTheBufferWhenAnotherThreadClosesTheChannel() throws InterruptedException {
        Channel<Integer> ch = new Channel<>("numbers", 4);
        CompletableFuture<Void> closed = new CompletableFuture<>();
        Thread other = Thread.ofPlatform().name("closer").unstarted(() -> {
            try {
                ch.send(1);
                ch.send(2);
                ch.close();
                closed.complete(null);
            } catch (Throwable t) {
                closed.completeExceptionally(t);
            }
        });
        List<Integer> seen = new ArrayList<>();
        Coroutine reader = Coroutine.create("reader", () -> {
            for (int v : ch) {
                seen.add(v);
            }
        });
        reader.switchTo();
        other.start();
        Coroutine.await(closed); // waits for the other thread, whose operations this thread runs meanwhile
        reader.join();
        other.join();
        assertThat(seen).containsExactly(1, 2);
    }

    @Test
    void aTimeoutExpiringInAForEachsHasNextLosesNoValue() {
        VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("numbers", 0);
            List<Integer> seen = new ArrayList<>();
            AtomicInteger sent = new AtomicInteger();
            Coroutine producer = Coroutine.create("producer", () -> {
                for (int i = 1; i <= 5; i++) {
                    Coroutine.sleep(Duration.ofMillis(10));
                    ch.send(i);
                    sent.incrementAndGet();
                }
                ch.close();
            });
            Iterator<Integer> it = ch.iterator();
            Throwable timedOut = null;
            try {
                Coroutine.withTimeout(Duration.ofMillis(25), () -> {
                    while (it.hasNext()) {
                        seen.add(it.next());
                    }
                });
            } catch (CoroutineTimeoutException e) {
                timedOut = e;
            }
            assertThat(timedOut).as("the loop waited past its timeout").isNotNull();
            assertThat(seen).containsExactly(1, 2);
            Coroutine.create("other", () -> {
                while (it.hasNext()) { // the timed-out wait left the iterator free for another context
                    seen.add(it.next());
                }
            }).join();
            producer.join();
            assertThat(seen).as("every value sent received once").containsExactly(1, 2, 3, 4, 5);
            assertThat(sent.get()).isEqualTo(5);
        });
    }

    @Test
    void aRepeatedHasNextOnAGeneratorRunsTheBodyOnceAndNextHandsThatValueOver() {
        List<String> log = new ArrayList<>();
        Generator<Integer> g = Generator.of("g", out -> {
            for (int i = 1; i <= 2; i++) {
                log.add("emit " + i);
                out.emit(i);
            }
        });
        assertThat(g.hasNext()).isTrue();
        assertThat(g.hasNext()).isTrue();
        assertThat(log).containsExactly("emit 1");
        assertThat(g.next()).isEqualTo(1);
        assertThat(g.next()).isEqualTo(2);
        assertThat(g.hasNext()).isFalse();
        for (int i = 0; i < 2; i++) {
            assertThatThrownBy(g::next).isInstanceOf(NoSuchElementException.class)
                    .hasMessage("main context 'main' cannot take the next value of generator 'g' (FINISHED): it has ended,"
                            + " and no value can come");
        }
        assertThatThrownBy(g::remove).isInstanceOf(UnsupportedOperationException.class)
                .hasMessage("main context 'main' cannot remove a value of generator 'g' (FINISHED): a generator hands its"
                        + " values out and holds none to remove");
    }

    @Test
    void aGeneratorForEachCutShortLeavesTheRestToItsIteratorButASecondLoopIsRefused() {
        Generator<Integer> g = Generator.of("g", out -> {
            for (int i = 1; i <= 4; i++) {
                out.emit(i);
            }
        });
        List<Integer> seen = new ArrayList<>();
        for (int v : g) {
            seen.add(v);
            if (v == 2) {
                break;
            }
        }
        assertThatThrownBy(g::iterator).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot iterate over generator 'g' (SUSPENDED): it was already iterated,"
                        + " and a generator can be iterated only once");
        assertThatThrownBy(g::stream).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot stream generator 'g' (SUSPENDED): it was already iterated,"
                        + " and a generator can be iterated only once");
        g.forEachRemaining(seen::add);
        assertThat(seen).as("each value once").containsExactly(1, 2, 3, 4);
        assertThat(g.state()).isEqualTo(Generator.State.FINISHED);
    }

    @Test
    void aGeneratorBodysFailureSurfacesFromTheHasNextThatRanItOnceThenTheLoopEnds() {
        IllegalArgumentException boom = new IllegalArgumentException("boom");
        Generator<Integer> g = Generator.of("g", out -> {
            out.emit(1);
            throw boom;
        });
        assertThat(g.hasNext()).isTrue();
        assertThat(g.next()).isEqualTo(1);
        assertThatThrownBy(g::hasNext).isInstanceOf(CoroutineException.class).hasCause(boom);
        assertThat(g.state()).isEqualTo(Generator.State.FAILED);
        assertThat(g.hasNext()).as("the failure is thrown once").isFalse();
        assertThatThrownBy(g::next).isInstanceOf(NoSuchElementException.class)
                .hasMessage("main context 'main' cannot take the next value of generator 'g' (FAILED): it has ended,"
                        + " and no value can come");

        Generator<Integer> h = Generator.of("h", out -> {
            throw boom;
        });
        assertThatThrownBy(h::next).as("a next that ran the body throws its failure, not NoSuchElement")
                .isInstanceOf(CoroutineException.class).hasCause(boom);
        assertThat(h.hasNext()).isFalse();

        Generator<Integer> ahead = Generator.buffered("ahead", 4, out -> {
            out.emit(1);
            out.emit(2);
            throw boom;
        });
        List<Integer> seen = new ArrayList<>();
        assertThatThrownBy(() -> {
            for (int v : ahead) {
                seen.add(v);
            }
        }).as("the values emitted before the failure come first").isInstanceOf(CoroutineException.class).hasCause(boom);
        assertThat(seen).containsExactly(1, 2);
        assertThat(ahead.state()).isEqualTo(Generator.State.FAILED);
        assertThat(ahead.hasNext()).isFalse();
        assertThatThrownBy(ahead::next).isInstanceOf(NoSuchElementException.class)
                .hasMessage("main context 'main' cannot take the next value of generator 'ahead' (FAILED): it has ended,"
                        + " and no value can come");
    }

    @Test
    void aGeneratorBodyLoopingOverAChannelHandsEachValueOnceAndACutShortConsumerLeavesTheRestInTheChannel() {
        Channel<Integer> ch = new Channel<>("numbers", 0);
        Coroutine producer = Coroutine.create("producer", () -> {
            for (int i = 1; i <= 5; i++) {
                ch.send(i);
            }
            ch.close();
        });
        List<Integer> seen = new ArrayList<>();
        Coroutine consumer = Coroutine.create("consumer", () -> {
            try (Generator<Integer> g = Generator.of("relay", out -> {
                for (int v : ch) {
                    out.emit(v);
                }
            })) {
                for (int v : g) {
                    seen.add(v);
                    if (v == 2) {
                        break;
                    }
                }
            }
        });
        consumer.join();
        for (int v : ch) {
            seen.add(v);
        }
        producer.join();
        assertThat(seen).containsExactly(1, 2, 3, 4, 5);
    }

    @Test
    void aChannelClosedWithACauseMakesEveryLaterHasNextAndNextOfItsIteratorThrowIt() {
        Channel<Integer> ch = new Channel<>("numbers", 2);
        ch.send(1);
        IllegalStateException cause = new IllegalStateException("producer failed");
        ch.close(cause);
        Iterator<Integer> it = ch.iterator();
        assertThat(it.hasNext()).isTrue();
        assertThat(it.next()).isEqualTo(1);
        String refusal = "main context 'main' cannot iterate over channel 'numbers' (closed): no value is left in it,"
                + " and none can come";
        for (int i = 0; i < 2; i++) {
            assertThatThrownBy(it::hasNext).isInstanceOf(ChannelClosedException.class).hasMessage(refusal).hasCause(cause);
            assertThatThrownBy(it::next).isInstanceOf(ChannelClosedException.class).hasMessage(refusal).hasCause(cause);
        }
        assertThatThrownBy(() -> StreamSupport.stream(ch.spliterator(), false).toList()).isInstanceOf(ChannelClosedException.class).hasCause(cause);
    }

    @Test
    void aValueHandedToARelayBodysLoopBeforeItsConsumerIsClosedReachesTheConsumersLoop() {
        for (int capacity = 0; capacity <= 1; capacity++) {
            Channel<Integer> ch = new Channel<>("numbers", capacity);
            List<String> log = new ArrayList<>();
            Coroutine consumer = Coroutine.create("consumer", () -> {
                try (Generator<Integer> relay = Generator.of("relay", out -> {
                    for (int v : ch) {
                        out.emit(v);
                    }
                })) {
                    for (int v : relay) {
                        log.add("consumer got " + v);
                        Coroutine.yield();
                        log.add("not reached: the signal comes at the yield");
                    }
                } finally {
                    log.add("consumer unwound");
                }
            });
            Coroutine.yield(); // the consumer parks inside the relay's body
            assertThat(ch.trySend(7)).as("handed to the parked loop").isTrue();
            ch.close();
            consumer.close();
            assertThat(log).as("capacity " + capacity).containsExactly("consumer got 7", "consumer unwound");
            assertThat(consumer.state()).isEqualTo(Coroutine.State.CLOSED);
            assertThat(ch.tryReceive()).isEmpty();
        }
    }

    /**
     * A {@code remove()} from another thread than the generator's, by a context of that thread, named that
     * context without its thread: {@code main context 'main'}, as if the generator's own main had called.
     */
    @Test
    @Timeout(10)
    void aRemoveFromAnotherThreadNamesTheCallersContextAndItsThreadAsEveryRefusalDoes() throws InterruptedException {
        Generator<Integer> g = Generator.of("g", out -> out.emit(1));
        Channel<Integer> ch = new Channel<>("numbers", 1);
        Iterator<Integer> it = ch.iterator();
        String thread = Scheduler.describe(Thread.currentThread());
        String[] intruder = new String[1];
        Throwable fromGenerator = OtherThread.thrownOn("intruder", () -> {
            Scheduler.current(); // a thread that has used coro: it has a main context of its own
            intruder[0] = Scheduler.describe(Thread.currentThread());
            g.remove();
        });
        assertThat(fromGenerator).isInstanceOf(UnsupportedOperationException.class)
                .hasMessage("main context 'main' of thread " + intruder[0] + " cannot remove a value of generator 'g' (NEW):"
                        + " a generator hands its values out and holds none to remove");
        Throwable fromIterator = OtherThread.thrownOn("intruder", () -> {
            Scheduler.current();
            intruder[0] = Scheduler.describe(Thread.currentThread());
            it.remove();
        });
        assertThat(fromIterator).isInstanceOf(UnsupportedOperationException.class)
                .hasMessage("main context 'main' of thread " + intruder[0] + " cannot remove a value of channel 'numbers'"
                        + " (open): its iterator receives each value, which leaves the channel as it is taken");
        Throwable withoutScheduler = OtherThread.thrownOn("bare", () -> {
            intruder[0] = Scheduler.describe(Thread.currentThread());
            g.remove();
        });
        assertThat(withoutScheduler).isInstanceOf(UnsupportedOperationException.class)
                .hasMessage("thread " + intruder[0] + " cannot remove a value of generator 'g' (NEW):"
                        + " a generator hands its values out and holds none to remove");
        assertThatThrownBy(g::remove).isInstanceOf(UnsupportedOperationException.class)
                .hasMessage("main context 'main' cannot remove a value of generator 'g' (NEW):"
                        + " a generator hands its values out and holds none to remove");
        assertThat(thread).isNotEqualTo(intruder[0]);
        assertThat(g.next()).as("the refusals took nothing").isEqualTo(1);
    }

    @Test
    void aChannelIteratorMadeInsideAGeneratorBodyServesItsConsumerAndItsContexts() {
        Channel<Integer> ch = new Channel<>("numbers", 4);
        Generator<Iterator<Integer>> maker = Generator.of("maker", out -> out.emit(ch.iterator()));
        Iterator<Integer> it = maker.next();
        ch.send(1);
        ch.send(2);
        ch.close();
        assertThat(it.next()).isEqualTo(1);
        List<Integer> seen = new ArrayList<>();
        Coroutine.create("reader", () -> it.forEachRemaining(seen::add)).join();
        assertThat(seen).containsExactly(2);
        assertThat(it.hasNext()).isFalse();
    }
}
