package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * Channels conserve values under random producers, consumers, closes, timeouts and selects on a
 * virtual clock: every value whose send succeeded is received exactly once (or is still buffered at
 * the end), and no value whose send failed or timed out is ever received.
 *
 * <p>Main creates a few coroutines, each running a random list of operations on two channels
 * (sends, receives, their timed forms, selects with a timeout, a default or neither, receives
 * relayed by a generator's body, {@code withTimeout} blocks nested up to two deep, sleeps, closes
 * of a channel or of a coroutine), and runs a list of its own. A send succeeded if {@code send} returned,
 * {@code trySend} returned true or the select's {@code onSend} clause fired; it failed if it threw
 * (closed channel, deadlock, a {@code withTimeout} that expired), returned false, or the select fired
 * another clause. A send that threw the exit signal of a close of its coroutine may or may not have
 * delivered its value (the close came after it completed, or while it waited): its value may be
 * received once, or not at all. Every value sent is unique. After {@link VirtualTime#run} (which
 * may report a deadlock of the coroutines left, and close them) the channels are drained. Once a
 * receive has been told that a channel is closed and drained, no receive that starts later (nor
 * the drain at the end) takes a value from it: a value handed over before the close may still
 * reach a receive that was waiting then, but none is left in the channel.
 */
class ChannelConservationPropertyTest {

    static final int CHANNELS = 2;
    /** A select's {@code ms} for a select with neither a timeout nor a default: it may park until a clause fires. */
    static final int NONE = -1;
    /** A select's {@code ms} for a select with {@code onDefault}: it never parks. */
    static final int DEFAULT = -2;
    /** How deep {@code withTimeout} blocks nest. */
    static final int NESTING = 2;

    /** One operation of a body. */
    sealed interface Op permits Send, TrySend, SelectSend, Receive, TryReceive, SelectReceive, RelayedReceive, Timed,
            Sleep, Yield, CloseChannel, CloseCoroutine {}

    /** {@code send}. */
    record Send(int ch) implements Op {}

    /** {@code trySend} with a timeout. */
    record TrySend(int ch, int ms) implements Op {}

    /**
     * A select: {@code onSend(ch)}, {@code onReceive(other)}, and {@code onTimeout(ms)} if {@code ms}
     * is not negative, {@code onDefault} if it is {@link #DEFAULT}, neither if it is {@link #NONE}.
     */
    record SelectSend(int ch, int other, int ms, boolean unbiased) implements Op {}

    /** {@code receive}. */
    record Receive(int ch) implements Op {}

    /** {@code tryReceive} with a timeout. */
    record TryReceive(int ch, int ms) implements Op {}

    /**
     * A select: {@code onReceive} on both channels, and {@code onTimeout(ms)} if {@code ms} is not
     * negative, {@code onDefault} if it is {@link #DEFAULT}, neither if it is {@link #NONE}.
     */
    record SelectReceive(int ms, boolean unbiased) implements Op {}

    /**
     * {@code next()} of a generator whose body emits what it receives from the channel, then the
     * generator's {@code close()}: a value its receive took reaches the consumer.
     */
    record RelayedReceive(int ch) implements Op {}

    /** {@code withTimeout(ms)} around a few operations, which may hold another (up to {@link #NESTING} deep). */
    record Timed(int ms, List<Op> ops) implements Op {}

    /** {@code Coroutine.sleep}. */
    record Sleep(int ms) implements Op {}

    /** {@code Coroutine.yield()}. */
    record Yield() implements Op {}

    /** {@code channel.close()}. */
    record CloseChannel(int ch) implements Op {}

    /** {@code close()} of coroutine {@code target % n} (1 to n): it unwinds where it is. */
    record CloseCoroutine(int target) implements Op {}

    /** A program: the channels' capacities, the coroutines' operations, and main's. */
    record Program(List<Integer> capacities, List<List<Op>> coroutines, List<Op> main) {}

    @Provide
    Arbitrary<Program> programs() {
        Arbitrary<List<Op>> body = op(0).list().ofMinSize(1).ofMaxSize(8);
        return Combinators.combine(Arbitraries.of(0, 1, 2).list().ofSize(CHANNELS), body.list().ofMinSize(1).ofMaxSize(4),
                op(0).list().ofMaxSize(6)).as(Program::new);
    }

    /** An operation inside {@code depth} {@code withTimeout} blocks. */
    private static Arbitrary<Op> op(int depth) {
        Arbitrary<Integer> ch = Arbitraries.integers().between(0, CHANNELS - 1);
        Arbitrary<Integer> ms = Arbitraries.of(0, 1, 2, 3, 5);
        Arbitrary<Integer> selectMs = Arbitraries.of(NONE, DEFAULT, 0, 1, 2, 5);
        Arbitrary<Boolean> unbiased = Arbitraries.of(false, true);
        List<Tuple.Tuple2<Integer, Arbitrary<? extends Op>>> choices = new ArrayList<>();
        choices.add(Tuple.of(5, ch.map(Send::new)));
        choices.add(Tuple.of(3, Combinators.combine(ch, ms).as(TrySend::new)));
        choices.add(Tuple.of(3, Combinators.combine(ch, ch, selectMs, unbiased).as(SelectSend::new)));
        choices.add(Tuple.of(5, ch.map(Receive::new)));
        choices.add(Tuple.of(3, Combinators.combine(ch, ms).as(TryReceive::new)));
        choices.add(Tuple.of(3, Combinators.combine(selectMs, unbiased).as(SelectReceive::new)));
        choices.add(Tuple.of(2, ch.map(RelayedReceive::new)));
        choices.add(Tuple.of(2, ms.map(Sleep::new)));
        choices.add(Tuple.of(2, Arbitraries.just(new Yield())));
        choices.add(Tuple.of(1, ch.map(CloseChannel::new)));
        choices.add(Tuple.of(2, Arbitraries.integers().between(0, 3).map(CloseCoroutine::new)));
        if (depth < NESTING) {
            choices.add(Tuple.of(3, Combinators.combine(ms, op(depth + 1).list().ofMinSize(1).ofMaxSize(3)).as(Timed::new)));
        }
        @SuppressWarnings("unchecked")
        Tuple.Tuple2<Integer, Arbitrary<? extends Op>>[] array = choices.toArray(new Tuple.Tuple2[0]);
        return Arbitraries.frequencyOf(array);
    }

    @Property(tries = 400)
    void everySentValueIsReceivedExactlyOnceAndNoFailedOneEver(@ForAll("programs") Program program)
            throws InterruptedException {
        AtomicReference<Object> result = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("property-try").unstarted(() -> {
            try {
                result.set(new Run(program).run());
            } catch (Throwable e) {
                result.set(e);
            }
        });
        t.start();
        t.join();
        if (result.get() instanceof Throwable e) {
            throw new AssertionError("the run crashed", e);
        }
        Run run = (Run) result.get();
        assertThat(run.outcome).as("VirtualTime.run's outcome").matches("ok|deadlock");
        assertThat(run.leftAlive).as("coroutines alive after VirtualTime.run").isZero();
        Set<Integer> both = new HashSet<>(run.sentOk);
        both.retainAll(run.sentFailed);
        assertThat(both).as("values both sent and not sent").isEmpty();
        assertThat(run.received).as("values received (and drained at the end)").doesNotHaveDuplicates();
        assertThat(run.received).as("values received (and drained at the end)").containsAll(run.sentOk);
        Set<Integer> allowed = new HashSet<>(run.sentOk);
        allowed.addAll(run.sentUnknown);
        assertThat(allowed).as("values sent, or whose sender was closed in the send").containsAll(run.received);
        assertThat(run.afterDrained).as("values received from a channel after a receive was told it is closed and drained")
                .isEmpty();
    }

    /** One run of a program on the calling thread, and what it sent and received. */
    static final class Run {
        final Program program;
        final List<Channel<Integer>> channels = new ArrayList<>();
        final Set<Integer> sentOk = new HashSet<>();
        final Set<Integer> sentFailed = new HashSet<>();
        /** Sends that threw the exit signal of a close of their coroutine: delivered or not, either is right. */
        final Set<Integer> sentUnknown = new HashSet<>();
        final List<Integer> received = new ArrayList<>();
        /** Per channel: whether a receive was told it is closed and drained. */
        final boolean[] toldDrained = new boolean[CHANNELS];
        /** Values taken from a channel by a receive that started after another was told it is closed and drained. */
        final List<Integer> afterDrained = new ArrayList<>();
        final List<Coroutine> coroutines = new ArrayList<>();
        String outcome;
        /** How many coroutines had not ended when {@link VirtualTime#run} was over. */
        long leftAlive;

        Run(Program program) {
            this.program = program;
        }

        Run run() {
            try {
                VirtualTime.run(() -> {
                    for (int k = 0; k < CHANNELS; k++) {
                        channels.add(new Channel<>("ch" + k, program.capacities().get(k)));
                    }
                    for (int k = 0; k < program.coroutines().size(); k++) {
                        Body body = new Body(k + 1);
                        List<Op> ops = program.coroutines().get(k);
                        coroutines.add(Coroutine.create("c" + (k + 1), () -> body.run(ops)));
                    }
                    new Body(0).run(program.main());
                });
                outcome = "ok";
            } catch (DeadlockException e) {
                outcome = "deadlock";
            }
            leftAlive = coroutines.stream().filter(c -> !c.isFinished()).count();
            for (int k = 0; k < channels.size(); k++) {
                for (Optional<Integer> v; (v = channels.get(k).tryReceive()).isPresent(); ) {
                    receivedFrom(k, v.get(), toldDrained[k]);
                }
            }
            return this;
        }

        /** {@code v} was received from channel {@code k} by a receive that started after it was told drained, or not. */
        void receivedFrom(int k, int v, boolean startedDrained) {
            received.add(v);
            if (startedDrained) {
                afterDrained.add(v);
            }
        }

        /** A receive on channel {@code k} was told it is closed and drained. */
        void drained(int k) {
            toldDrained[k] = true;
        }

        /** A body's operations; its values are {@code (id + 1) * 1000 + n} for its n-th send. */
        final class Body {
            final int id;
            int sends;

            Body(int id) {
                this.id = id;
            }

            private int nextValue() {
                return (id + 1) * 1000 + sends++;
            }

            void run(List<Op> ops) {
                for (Op op : ops) {
                    perform(op);
                }
            }

            private void perform(Op op) {
                switch (op) {
                    case Send s -> {
                        int v = nextValue();
                        attempt(v, () -> {
                            channels.get(s.ch()).send(v);
                            return true;
                        });
                    }
                    case TrySend s -> {
                        int v = nextValue();
                        attempt(v, () -> channels.get(s.ch()).trySend(v, Duration.ofMillis(s.ms())));
                    }
                    case SelectSend s -> {
                        int v = nextValue();
                        boolean startedDrained = toldDrained[s.other()];
                        attempt(v, () -> {
                            Select<Boolean> select = new Select<Boolean>()
                                    .onSend(channels.get(s.ch()), v, () -> true)
                                    .onReceive(channels.get(s.other()), x -> {
                                        receivedFrom(s.other(), x, startedDrained);
                                        return false;
                                    });
                            if (s.ms() >= 0) {
                                select.onTimeout(Duration.ofMillis(s.ms()), () -> false);
                            } else if (s.ms() == DEFAULT) {
                                select.onDefault(() -> false);
                            }
                            return s.unbiased() ? select.selectUnbiased() : select.select();
                        });
                    }
                    case Receive r -> {
                        boolean startedDrained = toldDrained[r.ch()];
                        try {
                            receivedFrom(r.ch(), channels.get(r.ch()).receive(), startedDrained);
                        } catch (ChannelClosedException e) {
                            drained(r.ch()); // nothing received: it is closed and drained
                        } catch (DeadlockException e) {
                            // nothing received
                        }
                    }
                    case TryReceive r -> {
                        boolean startedDrained = toldDrained[r.ch()];
                        channels.get(r.ch()).tryReceive(Duration.ofMillis(r.ms())).ifPresent(x -> receivedFrom(r.ch(), x, startedDrained));
                    }
                    case SelectReceive s -> {
                        Select<Void> select = new Select<>();
                        for (int k = 0; k < channels.size(); k++) {
                            int from = k;
                            boolean startedDrained = toldDrained[k];
                            select.onReceive(channels.get(k), x -> {
                                receivedFrom(from, x, startedDrained);
                                return null;
                            });
                        }
                        if (s.ms() >= 0) {
                            select.onTimeout(Duration.ofMillis(s.ms()), () -> null);
                        } else if (s.ms() == DEFAULT) {
                            select.onDefault(() -> null);
                        }
                        try {
                            if (s.unbiased()) {
                                select.selectUnbiased();
                            } else {
                                select.select();
                            }
                        } catch (ChannelClosedException e) {
                            for (int k = 0; k < channels.size(); k++) {
                                if (e.getMessage().contains("onReceive(" + channels.get(k).describe() + ")")) {
                                    drained(k); // nothing received: that clause's channel is closed and drained
                                }
                            }
                        } catch (DeadlockException e) {
                            // nothing received
                        }
                    }
                    case RelayedReceive r -> {
                        boolean startedDrained = toldDrained[r.ch()];
                        Channel<Integer> from = channels.get(r.ch());
                        Generator<Integer> relay = Generator.of("relay", out -> out.emit(from.receive()));
                        try {
                            receivedFrom(r.ch(), relay.next(), startedDrained);
                        } catch (CoroutineException e) { // its body's receive threw: nothing received
                            if (e.getCause() instanceof ChannelClosedException) {
                                drained(r.ch());
                            }
                        } finally {
                            relay.close();
                        }
                    }
                    case Timed t -> {
                        try {
                            Coroutine.withTimeout(Duration.ofMillis(t.ms()), () -> run(t.ops()));
                        } catch (CoroutineTimeoutException e) {
                            // what completed inside is accounted for; what did not, failed
                        }
                    }
                    case Sleep s -> Coroutine.sleep(Duration.ofMillis(s.ms()));
                    case Yield y -> Coroutine.yield();
                    case CloseChannel c -> channels.get(c.ch()).close();
                    case CloseCoroutine c -> {
                        try {
                            coroutines.get(c.target() % coroutines.size()).close();
                        } catch (IllegalStateException e) {
                            // it is the caller itself
                        }
                    }
                }
            }

            /** Sends {@code v} by {@code send}, which says whether it was sent; an exception means it was not. */
            private void attempt(int v, BooleanSupplier send) {
                boolean sent;
                try {
                    sent = send.getAsBoolean();
                } catch (ChannelClosedException | DeadlockException e) {
                    sent = false;
                } catch (CoroutineExit e) {
                    if (e.isTimeout()) {
                        sentFailed.add(v); // a withTimeout interrupted the wait: nothing was delivered
                    } else {
                        sentUnknown.add(v); // closed: the send may have completed just before
                    }
                    throw e;
                }
                (sent ? sentOk : sentFailed).add(v);
            }
        }
    }
}
