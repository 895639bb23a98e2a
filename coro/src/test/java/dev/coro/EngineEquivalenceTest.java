package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Random programs (yields, switches, creates, closes, failures, state queries, and the errors
 * they provoke) leave the same trace on every engine: CI runs this once per engine against the
 * same traces of record, kept as one SHA-256 per seed in {@code engine-equivalence.txt}.
 *
 * <p>To see a trace, or to regenerate the record after a deliberate change of behaviour:
 * <pre>{@code
 * java --add-exports java.base/jdk.internal.vm=ALL-UNNAMED -cp coro/target/classes:coro/target/test-classes \
 *     dev.coro.EngineEquivalenceTest [seed]
 * }</pre>
 */
@ExtendWith(FreshThread.class)
class EngineEquivalenceTest {

    private static final int SEEDS = 200;

    @Test
    void randomProgramsLeaveTheTracesOfRecordOnEveryEngine() throws Exception {
        Map<Integer, String> record = record();
        assertThat(record).hasSize(SEEDS);
        List<String> differences = new ArrayList<>();
        for (int seed = 0; seed < SEEDS; seed++) {
            String trace = trace(seed);
            if (!sha256(trace).equals(record.get(seed))) {
                differences.add("seed " + seed + " on the " + Engines.running() + " engine:\n" + trace);
            }
        }
        assertThat(differences).as("traces that differ from the record").isEmpty();
    }

    /**
     * Prints the record (one {@code seed hash} line per seed), or with a seed, that seed's trace.
     *
     * @param args nothing, or a seed
     * @throws Exception if a program's thread is interrupted
     */
    public static void main(String[] args) throws Exception {
        if (args.length == 1) {
            System.out.print(trace(Integer.parseInt(args[0])));
            return;
        }
        for (int seed = 0; seed < SEEDS; seed++) {
            System.out.println(seed + " " + sha256(trace(seed)));
        }
    }

    private static Map<Integer, String> record() throws IOException {
        Map<Integer, String> record = new LinkedHashMap<>();
        try (InputStream in = EngineEquivalenceTest.class.getResourceAsStream("engine-equivalence.txt")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                String[] parts = line.strip().split(" ");
                record.put(Integer.parseInt(parts[0]), parts[1]);
            }
        }
        return record;
    }

    /** Runs the program of {@code seed} on a new platform thread (a fresh run list); its trace. */
    private static String trace(int seed) throws InterruptedException {
        RandomProgram p = new RandomProgram(seed);
        AtomicReference<Throwable> escaped = new AtomicReference<>();
        Thread owner = new Thread(p::run, "owner");
        owner.setUncaughtExceptionHandler((t, e) -> escaped.set(e));
        owner.start();
        owner.join();
        if (escaped.get() != null) {
            p.out.append("escaped: ").append(escaped.get()).append('\n');
        }
        return p.out.toString();
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** One random program: every choice comes from one seeded generator, in the order the contexts run. */
    private static final class RandomProgram {
        private final Random random;
        final StringBuilder out = new StringBuilder();
        private final List<Coroutine> all = new ArrayList<>();
        private int made;

        RandomProgram(long seed) {
            random = new Random(seed);
        }

        void run() {
            for (int i = 0; i < 3; i++) {
                create();
            }
            for (int i = 0; i < 40; i++) {
                step(false);
            }
            for (Coroutine c : List.copyOf(all)) {
                try {
                    c.close();
                } catch (RuntimeException e) {
                    log("closing " + c.name() + ": " + describe(e));
                }
            }
            for (Coroutine c : all) {
                out.append(c.name()).append(' ').append(c.state()).append('\n');
            }
        }

        private void create() {
            String name = "c" + ++made;
            all.add(Coroutine.create(name, () -> body(name)));
        }

        private void body(String name) {
            int steps = random.nextInt(8);
            try {
                for (int i = 0; i < steps; i++) {
                    step(true);
                }
            } finally {
                log("finally " + name);
            }
        }

        private void step(boolean inCoroutine) {
            try {
                switch (random.nextInt(10)) {
                    case 0, 1, 2 -> {
                        log("yield");
                        Coroutine.yield();
                    }
                    case 3, 4 -> {
                        Coroutine c = pick();
                        log("switchTo " + c.name());
                        c.switchTo();
                    }
                    case 5 -> {
                        if (made < 12) {
                            log("create c" + (made + 1));
                            create();
                        }
                    }
                    case 6 -> {
                        Coroutine c = pick();
                        log("close " + c.name());
                        c.close();
                    }
                    case 7 -> {
                        Coroutine c = pick();
                        log("state of " + c.name() + ": " + c.state() + ", finished " + c.isFinished());
                    }
                    case 8 -> {
                        if (inCoroutine) {
                            log("throw");
                            throw new ArithmeticException("thrown by " + Coroutine.current().name());
                        }
                    }
                    default -> log("current " + Coroutine.current().name());
                }
            } catch (CoroutineExit e) {
                log(describe(e));
                if (random.nextBoolean()) {
                    throw e;
                }
            } catch (IllegalStateException | CoroutineException e) {
                log(describe(e));
            }
        }

        private Coroutine pick() {
            return all.get(random.nextInt(all.size()));
        }

        private void log(String what) {
            out.append(Coroutine.current().name()).append('@').append(Coroutine.currentId())
                    .append(' ').append(what).append('\n');
        }

        /** The exception's class, message (thread ids elided: they differ from run to run) and suppressed count. */
        private static String describe(Throwable e) {
            return e.getClass().getSimpleName() + ": " + String.valueOf(e.getMessage()).replaceAll("#\\d+", "#")
                    + (e.getSuppressed().length > 0 ? " (+" + e.getSuppressed().length + " suppressed)" : "");
        }
    }
}
