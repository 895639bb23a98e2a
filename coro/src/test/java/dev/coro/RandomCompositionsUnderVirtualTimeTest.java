package dev.coro;

import static dev.coro.SchedulerClock.ms;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Random programs on one thread under virtual time in which the features meet: coroutines that send,
 * receive, select, hold permits, consume plain and read-ahead generators whose bodies wait (under
 * timeouts of their own), join and close one another, each wait under a {@code withTimeout}, nested
 * ones too. Every program traces the same on two runs of its seed; no value is received twice, every
 * value whose send completed is received, a value received that no completed send accounts for was
 * sent by a call that a close cut short after it had handed the value over, every permit comes back,
 * and nothing is left pending.
 */
@ExtendWith(FreshThread.class)
class RandomCompositionsUnderVirtualTimeTest {

    /** The first seed run: {@code -Dcompositions.seed=S} (1 by default). */
    private static final long FIRST = Long.getLong("compositions.seed", 1);
    /** How many seeds are run: {@code -Dcompositions.seeds=N} (60 by default). */
    private static final int SEEDS = Integer.getInteger("compositions.seeds", 60);

    /** The values of one run: those whose send completed, those received, and those whose send may have completed. */
    private static final class Values {
        final List<Integer> sent = new ArrayList<>();
        final List<Integer> received = new ArrayList<>();
        /** Values whose send a close or a select may have ended after it handed them over, or that a try call offered. */
        final Set<Integer> maybeSent = new HashSet<>();
        int next;
    }

    /**
     * Sixty seeds by default ({@link #SEEDS}), each run twice: the two traces are equal, and each run keeps the values and
     * permits as the class comment says.
     */
    @Test
    @Timeout(60)
    void everyProgramTracesTheSameTwiceAndLosesDoublesOrLeavesNothing() {
        for (long seed = FIRST; seed < FIRST + SEEDS; seed++) {
            List<String> first = program(seed);
            assertThat(program(seed)).as("seed " + seed + ": the second run's trace").isEqualTo(first);
        }
    }

    /** Runs the program of {@code seed} under virtual time, checks its values, and returns its trace. */
    private List<String> program(long seed) {
        List<String> trace = new ArrayList<>();
        Values values = new Values();
        SplittableRandom random = new SplittableRandom(seed);
        VirtualTime.run(seed, () -> {
            Channel<Integer> unbuffered = new Channel<>("unbuffered", 0);
            Channel<Integer> buffered = new Channel<>("buffered", 2);
            Semaphore permits = new Semaphore("permits", 2);
            List<Coroutine> workers = new ArrayList<>();
            for (int w = 0; w < 6; w++) {
                SplittableRandom r = new SplittableRandom(random.nextLong());
                workers.add(Coroutine.create("w" + w, () -> {
                    try {
                        for (int step = 0; step < 12; step++) {
                            try {
                                step(r, trace, values, unbuffered, buffered, permits, workers);
                            } catch (CoroutineTimeoutException e) {
                                trace.add(Coroutine.current().name() + " timed out at " + ms() + ": " + e.getMessage());
                            }
                        }
                    } finally {
                        trace.add(Coroutine.current().name() + " ends at " + ms());
                    }
                }));
            }
            for (Coroutine w : workers) {
                w.join();
            }
            for (Channel<Integer> ch : List.of(unbuffered, buffered)) {
                for (Optional<Integer> o; (o = ch.tryReceive()).isPresent(); ) {
                    values.received.add(o.get());
                }
            }
            assertThat(permits.availablePermits()).as("seed " + seed + ": permits free").isEqualTo(2);
            assertThat(Scheduler.current().loop.hasPending()).as("seed " + seed + ": a timer or a wait left").isFalse();
        });
        assertThat(values.received).as("seed " + seed + ": values received").doesNotHaveDuplicates()
                .containsAll(values.sent);
        List<Integer> unaccounted = new ArrayList<>(values.received);
        unaccounted.removeAll(values.sent);
        assertThat(values.maybeSent).as("seed " + seed + ": the sends of the values received beyond those sent")
                .containsAll(unaccounted);
        return trace;
    }

    /** One step of a worker, chosen by {@code r}: a wait of some kind under a {@code withTimeout}, a sleep, or a close of another worker. */
    private static void step(SplittableRandom r, List<String> trace, Values values, Channel<Integer> unbuffered,
                             Channel<Integer> buffered, Semaphore permits, List<Coroutine> workers) {
        String me = Coroutine.current().name();
        Duration d = Duration.ofMillis(r.nextInt(1, 20));
        Channel<Integer> ch = r.nextBoolean() ? unbuffered : buffered;
        switch (r.nextInt(12)) {
            case 0 -> {
                int v = values.next++;
                try {
                    Coroutine.withTimeout(d, () -> ch.send(v));
                } catch (CoroutineExit e) {
                    values.maybeSent.add(v); // a close after a receiver took it: delivered, the send unwinding
                    throw e;
                }
                values.sent.add(v);
                trace.add(me + " sent " + v + " at " + ms());
            }
            case 1 -> {
                int v = Coroutine.withTimeout(d, () -> ch.receive());
                values.received.add(v);
                trace.add(me + " received " + v + " at " + ms());
            }
            case 2 -> {
                int v = values.next++;
                values.maybeSent.add(v);
                int got = new Select<Integer>().onReceive(unbuffered, x -> x).onSend(buffered, v, () -> -1)
                        .onTimeout(d, () -> -2).select();
                if (got == -1) {
                    values.sent.add(v);
                } else if (got >= 0) {
                    values.received.add(got);
                }
                trace.add(me + " selected " + got + " at " + ms());
            }
            case 3 -> {
                Duration hold = Duration.ofMillis(r.nextInt(1, 20));
                Coroutine.withTimeout(d, () -> permits.withPermit(() -> Coroutine.sleep(hold)));
                trace.add(me + " held a permit, at " + ms());
            }
            case 4 -> {
                Generator<Integer> g = Generator.of(out -> {
                    while (true) {
                        out.emit(r.nextBoolean() ? unbuffered.receive()
                                : new Select<Integer>().onReceive(unbuffered, x -> x).onReceive(buffered, x -> x).select());
                    }
                });
                try {
                    for (int k = 0; k < 3; k++) {
                        int v = Coroutine.withTimeout(d, () -> g.next());
                        values.received.add(v);
                        trace.add(me + " took " + v + " at " + ms());
                    }
                } finally {
                    g.close();
                }
            }
            case 5 -> readAhead(r, trace, values, unbuffered, d);
            case 6 -> {
                Coroutine victim = workers.get(r.nextInt(workers.size()));
                if (victim != Coroutine.current() && !victim.isFinished()) {
                    victim.close();
                    trace.add(me + " closed " + victim.name() + " at " + ms());
                }
            }
            case 7 -> {
                Coroutine other = workers.get(r.nextInt(workers.size()));
                if (other != Coroutine.current()) {
                    Coroutine.withTimeout(d, () -> other.join());
                    trace.add(me + " joined " + other.name() + " at " + ms());
                }
            }
            case 8 -> {
                Duration inner = Duration.ofMillis(r.nextInt(1, 20));
                int v = Coroutine.withTimeout(d, () -> Coroutine.withTimeout(inner, () -> ch.receive()));
                values.received.add(v);
                trace.add(me + " received within two timeouts " + v + " at " + ms());
            }
            case 9 -> {
                Coroutine.sleep(d);
                trace.add(me + " slept to " + ms());
            }
            default -> {
                int v = values.next++;
                values.maybeSent.add(v);
                if (ch.trySend(v, d)) {
                    values.sent.add(v);
                }
                Optional<Integer> o = ch.tryReceive(d);
                o.ifPresent(values.received::add);
                trace.add(me + " tried, took " + o + " at " + ms());
            }
        }
    }

    /**
     * Takes up to four values from a read-ahead generator whose body receives under timeouts of its
     * own; after the consumer's timeout, the values the body had emitted are taken, and the values its
     * close drops (read ahead, never taken) count as received: they left the channel.
     */
    private static void readAhead(SplittableRandom r, List<String> trace, Values values, Channel<Integer> ch, Duration d) {
        String me = Coroutine.current().name();
        List<Integer> emitted = new ArrayList<>();
        List<Integer> taken = new ArrayList<>();
        Generator<Integer> g = Generator.buffered(2, out -> {
            while (true) {
                int v;
                try {
                    v = Coroutine.withTimeout(Duration.ofMillis(r.nextInt(1, 30)), () -> ch.receive());
                    emitted.add(v);
                } catch (CoroutineTimeoutException e) {
                    v = -1;
                }
                out.emit(v);
            }
        });
        try {
            for (int k = 0; k < 4; k++) {
                int v = Coroutine.withTimeout(d, () -> g.next());
                if (v >= 0) {
                    taken.add(v);
                }
                trace.add(me + " took ahead " + v + " at " + ms());
            }
        } catch (CoroutineTimeoutException e) {
            while (g.hasNext()) { // the values emitted before the timeout stay the consumer's
                int v = g.next();
                if (v >= 0) {
                    taken.add(v);
                }
            }
            throw e;
        } finally {
            g.close();
            values.received.addAll(taken);
            List<Integer> dropped = new ArrayList<>(emitted);
            dropped.removeAll(taken);
            values.received.addAll(dropped);
            trace.add(me + " took " + taken + ", the close dropped " + dropped);
        }
    }
}
