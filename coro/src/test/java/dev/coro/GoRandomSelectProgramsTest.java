package dev.coro;

import static dev.coro.SchedulerClock.ms;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Random Go-style select programs on one thread under virtual time, in the shapes a Go programmer writes
 * that the other random programs leave out: selects over both ends of one channel, biased and unbiased, a
 * select run from another select's clause, clause functions that throw, channels closed with a cause
 * halfway, each wait maybe under a {@code withTimeout}. Every program traces the same on two runs of its
 * seed, receives no value twice and no value whose send did not complete, receives (or leaves in a closed
 * channel) every value whose send completed, and leaves nothing pending.
 */
@ExtendWith(FreshThread.class)
class GoRandomSelectProgramsTest {

    /** How many seeds are run: {@code -Dgo.selects.seeds=N} (80 by default). */
    private static final int SEEDS = Integer.getInteger("go.selects.seeds", 80);

    /** The values of one run: those whose send completed, and those received. */
    private static final class Values {
        final List<Integer> sent = new ArrayList<>();
        final List<Integer> received = new ArrayList<>();
        int next;
    }

    /** What a clause function throws to test that the select throws it as it is, the operation done. */
    private static final class Boom extends RuntimeException {
        Boom(String message) {
            super(message);
        }
    }

    @Test
    @Timeout(60)
    void everyProgramTracesTheSameTwiceAndReceivesEveryCompletedSendExactlyOnce() {
        for (long seed = 1; seed <= SEEDS; seed++) {
            List<String> first = program(seed);
            assertThat(program(seed)).as("seed " + seed + ": the second run's trace").isEqualTo(first);
        }
    }

    /** Runs the program of {@code seed} under virtual time, checks its values, and returns its trace. */
    private static List<String> program(long seed) {
        List<String> trace = new ArrayList<>();
        Values values = new Values();
        SplittableRandom random = new SplittableRandom(seed);
        VirtualTime.run(seed, () -> {
            List<Channel<Integer>> channels = new ArrayList<>();
            for (int c = 0; c < 3; c++) {
                channels.add(new Channel<>("c" + c, random.nextInt(3)));
            }
            List<Coroutine> workers = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                SplittableRandom r = new SplittableRandom(random.nextLong());
                workers.add(Coroutine.create("w" + w, () -> {
                    for (int step = 0; step < 15; step++) {
                        String me = Coroutine.current().name();
                        try {
                            Runnable op = () -> step(r, trace, values, channels);
                            if (r.nextBoolean()) {
                                Coroutine.withTimeout(Duration.ofMillis(r.nextInt(1, 300)), op);
                            } else {
                                op.run();
                            }
                        } catch (CoroutineTimeoutException e) {
                            trace.add(me + " timed out at " + ms());
                        } catch (ChannelClosedException e) {
                            trace.add(me + " at " + ms() + ": " + e.getMessage() + " (cause " + e.getCause().getMessage() + ")");
                        } catch (Boom e) {
                            trace.add(me + " at " + ms() + ": " + e.getMessage());
                        }
                    }
                    trace.add(Coroutine.current().name() + " ends at " + ms());
                }));
            }
            Coroutine.sleep(Duration.ofSeconds(60)); // past every bounded wait: what still waits, waits for ever
            for (Channel<Integer> ch : channels) {
                ch.close(new IllegalStateException("the program ends"));
            }
            for (Coroutine w : workers) {
                w.join();
            }
            for (Channel<Integer> ch : channels) {
                for (Optional<Integer> o; (o = ch.tryReceive()).isPresent(); ) {
                    values.received.add(o.get());
                }
            }
            assertThat(Scheduler.current().loop.hasPending()).as("seed " + seed + ": a timer or a wait left").isFalse();
        });
        assertThat(values.received).as("seed " + seed + ": values received").doesNotHaveDuplicates();
        List<Integer> received = new ArrayList<>(values.received);
        List<Integer> sent = new ArrayList<>(values.sent);
        Collections.sort(received);
        Collections.sort(sent);
        assertThat(received).as("seed " + seed + ": received, or left in a closed channel, against those whose send completed")
                .isEqualTo(sent);
        return trace;
    }

    /** One step of a worker, chosen by {@code r}. */
    private static void step(SplittableRandom r, List<String> trace, Values values, List<Channel<Integer>> channels) {
        String me = Coroutine.current().name();
        Channel<Integer> ch = channels.get(r.nextInt(channels.size()));
        switch (r.nextInt(8)) {
            case 0, 1 -> {
                int v = values.next++;
                ch.send(v);
                values.sent.add(v);
                trace.add(me + " sent " + v + " to " + ch.name() + " at " + ms());
            }
            case 2 -> {
                int v = ch.receive();
                values.received.add(v);
                trace.add(me + " received " + v + " from " + ch.name() + " at " + ms());
            }
            case 3 -> {
                Optional<Integer> v = ch.tryReceive(Duration.ofMillis(r.nextInt(0, 100)));
                v.ifPresent(values.received::add);
                trace.add(me + " tried to receive from " + ch.name() + ": " + v + " at " + ms());
            }
            case 4 -> {
                Coroutine.sleep(Duration.ofMillis(r.nextInt(1, 200)));
                trace.add(me + " slept to " + ms());
            }
            case 5 -> {
                if (r.nextInt(12) == 0) {
                    ch.close(new IllegalStateException(me + " closed " + ch.name()));
                    trace.add(me + " closed " + ch.name() + " at " + ms());
                }
            }
            default -> trace.add(me + " selected " + select(r, values, channels, 0) + " at " + ms());
        }
    }

    /**
     * A select of two to four clauses on random channels (both ends of one channel among them, often), maybe a
     * timeout or a default, run biased or not; a clause function may throw, or (at {@code depth} 0) run a select
     * of its own.
     */
    private static String select(SplittableRandom r, Values values, List<Channel<Integer>> channels, int depth) {
        Select<String> s = new Select<>();
        int clauses = r.nextInt(2, 5);
        for (int i = 0; i < clauses; i++) {
            Channel<Integer> ch = channels.get(r.nextInt(channels.size()));
            int then = r.nextInt(6); // 0: throw, 1: a select of its own, else return
            if (r.nextBoolean()) {
                s.onReceive(ch, v -> {
                    values.received.add(v);
                    return then(r, then, "received " + v + " from " + ch.name(), values, channels, depth);
                });
            } else {
                int v = values.next++;
                s.onSend(ch, v, () -> {
                    values.sent.add(v);
                    return then(r, then, "sent " + v + " to " + ch.name(), values, channels, depth);
                });
            }
        }
        switch (r.nextInt(4)) {
            case 0 -> s.onTimeout(Duration.ofMillis(r.nextInt(0, 150)), () -> "timeout");
            case 1 -> s.onDefault(() -> "default");
            default -> {
            }
        }
        return r.nextBoolean() ? s.selectUnbiased() : s.select();
    }

    private static String then(SplittableRandom r, int then, String done, Values values, List<Channel<Integer>> channels,
                               int depth) {
        if (then == 0) {
            throw new Boom("a clause function threw after it " + done);
        }
        if (then == 1 && depth == 0) {
            return done + ", then " + select(r, values, channels, depth + 1);
        }
        return done;
    }
}
