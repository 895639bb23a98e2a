package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A read-ahead generator and a plain one over the same body agree on everything a consumer sees: seeded random
 * sequences of {@code hasNext()}, {@code next()}, a {@code forEachRemaining} its action cuts short, {@code close()}
 * and a stream cut short by {@code limit} give the same values, refusals and failures (with their messages) and
 * the same states after each call, and by the final {@code close()} the body's {@code finally} has run as many
 * times in both, once if the body started; only when it ran may differ, the read-ahead body running ahead of its
 * consumer.
 */
@ExtendWith(FreshThread.class)
class ReadAheadAgreesWithPlainGeneratorTest {

    private static final int PROGRAMS = 2_000;
    private static final int CALLS = 12;

    /** The body: emits 0 to {@code count - 1}, then returns or fails; its {@code finally} logs. */
    private static Generator.Body<Integer, Void> body(int count, boolean fails, List<String> finallies) {
        return out -> {
            try {
                for (int i = 0; i < count; i++) {
                    out.emit(i);
                }
                if (fails) {
                    throw new IllegalStateException("bad");
                }
            } finally {
                finallies.add("finally");
            }
        };
    }

    /** What the consumer sees of {@code g} through the calls {@code seed} picks, then a close. */
    private static List<String> consume(Generator<Integer> g, long seed, List<String> finallies) {
        SplittableRandom random = new SplittableRandom(seed);
        List<String> seen = new ArrayList<>();
        for (int call = 0; call < CALLS; call++) {
            String what;
            try {
                what = switch (random.nextInt(10)) {
                    case 0, 1, 2 -> "hasNext " + g.hasNext();
                    case 3, 4, 5, 6 -> "next " + g.next();
                    case 7 -> forEachRemainingCutShort(g, random.nextInt(3));
                    case 8 -> {
                        g.close();
                        yield "closed";
                    }
                    default -> "stream " + g.stream().limit(random.nextInt(3)).toList();
                };
            } catch (RuntimeException e) {
                what = e.getClass().getSimpleName() + ": " + e.getMessage();
            }
            seen.add(what + ", then " + g.state());
        }
        g.close();
        seen.add("closed at last, then " + g.state() + ", finally run " + finallies.size() + " time(s)");
        return seen;
    }

    /** A {@code forEachRemaining} whose action throws once it has taken more than {@code most} values. */
    private static String forEachRemainingCutShort(Generator<Integer> g, int most) {
        List<Integer> taken = new ArrayList<>();
        try {
            g.forEachRemaining(v -> {
                taken.add(v);
                if (taken.size() > most) {
                    throw new ArithmeticException("enough");
                }
            });
            return "forEachRemaining " + taken;
        } catch (ArithmeticException e) {
            return "forEachRemaining cut short " + taken;
        }
    }

    @Test
    void everyRandomSequenceOfCallsSeesTheSameOfAReadAheadAndAPlainGenerator() {
        for (long seed = 0; seed < PROGRAMS; seed++) {
            SplittableRandom random = new SplittableRandom(~seed);
            int count = random.nextInt(6);
            boolean fails = random.nextBoolean();
            int n = 2 + random.nextInt(4);
            List<String> plainFinallies = new ArrayList<>();
            List<String> aheadFinallies = new ArrayList<>();
            List<String> plain = consume(Generator.of("g", body(count, fails, plainFinallies)), seed, plainFinallies);
            List<String> ahead = consume(Generator.buffered("g", n, body(count, fails, aheadFinallies)), seed, aheadFinallies);
            assertThat(ahead).as("seed %d: %d values, %s, read-ahead %d", seed, count, fails ? "then fails" : "then returns", n)
                    .isEqualTo(plain);
            assertThat(plain.getLast()).as("seed %d", seed).matches(".*finally run [01] time\\(s\\)");
        }
    }
}
