package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Random programs (yields, switches, creates, closes, failures, state queries, and the errors
 * they provoke) leave the same trace on every engine. Two checks, both in plain text:
 * <ul>
 *   <li>the first {@value #RECORDED} programs' traces are kept in {@code engine-equivalence.txt}, one
 *       {@code == program N} section each, for a reviewer to read; every engine must print them exactly
 *       (CI runs the suite once per engine);</li>
 *   <li>all {@value #PROGRAMS} programs run again in a child JVM on the other engine, and every trace must
 *       be the same text as in this JVM.</li>
 * </ul>
 *
 * <p>To see a trace, or to regenerate the record after a deliberate change of behaviour:
 * <pre>{@code
 * java --add-exports java.base/jdk.internal.vm=ALL-UNNAMED -cp coro/target/classes:coro/target/test-classes \
 *     dev.coro.EngineEquivalenceTest [record | all | N] > coro/src/test/resources/dev/coro/engine-equivalence.txt
 * }</pre>
 */
@ExtendWith(FreshThread.class)
class EngineEquivalenceTest {

    /** How many random programs run on each engine. */
    private static final int PROGRAMS = 200;
    /** How many of them the record file spells out. */
    private static final int RECORDED = 10;
    private static final String SECTION = "== program ";

    @Test
    void theRecordedProgramsLeaveTheirTracesOfRecordOnThisEngine() throws Exception {
        Map<Integer, String> record = parse(resource());
        assertThat(record.keySet()).as("programs in the record").containsExactlyElementsOf(range(RECORDED));
        for (int seed = 0; seed < RECORDED; seed++) {
            assertThat(trace(seed)).as("trace of program %d on the %s engine", seed, Engines.running())
                    .isEqualTo(record.get(seed));
        }
    }

    @Test
    void everyProgramLeavesTheSameTraceOnTheOtherEngine() throws Exception {
        String other = Engines.running().equals("threads") ? "continuation" : "threads";
        Map<Integer, String> there = parse(runOnEngine(other));
        assertThat(there.keySet()).as("programs run on the %s engine", other).containsExactlyElementsOf(range(PROGRAMS));
        for (int seed = 0; seed < PROGRAMS; seed++) {
            assertThat(there.get(seed)).as("trace of program %d on the %s engine against the %s engine", seed, other,
                    Engines.running()).isEqualTo(trace(seed));
        }
    }

    /**
     * Prints the record file ({@code record}, the default), every program's trace in the same format
     * ({@code all}), or one program's trace (a number).
     *
     * @param args {@code record}, {@code all}, or a program's number
     * @throws Exception if a program's thread is interrupted
     */
    public static void main(String[] args) throws Exception {
        String what = args.length == 0 ? "record" : args[0];
        switch (what) {
            case "record" -> {
                System.out.println("# The traces of record of EngineEquivalenceTest's first " + RECORDED + " random programs:");
                System.out.println("# every engine must print exactly these. A line is CONTEXT@INDEX ACTION (what that");
                System.out.println("# context did or saw), then after the run each coroutine's final state.");
                System.out.println("# Regenerate with EngineEquivalenceTest.main (see its Javadoc).");
                print(RECORDED);
            }
            case "all" -> print(PROGRAMS);
            default -> System.out.print(trace(Integer.parseInt(what)));
        }
    }

    private static void print(int programs) throws InterruptedException {
        StringBuilder out = new StringBuilder();
        for (int seed = 0; seed < programs; seed++) {
            out.append(SECTION).append(seed).append('\n').append(trace(seed));
        }
        System.out.print(out);
    }

    private static List<Integer> range(int n) {
        List<Integer> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            all.add(i);
        }
        return all;
    }

    private static String resource() throws IOException {
        try (InputStream in = EngineEquivalenceTest.class.getResourceAsStream("engine-equivalence.txt")) {
            assertThat(in).as("engine-equivalence.txt").isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The traces in {@code text} by program: {@code # } lines are comments, {@code == program N} opens a trace. */
    private static Map<Integer, String> parse(String text) {
        Map<Integer, String> traces = new LinkedHashMap<>();
        Integer seed = null;
        StringBuilder trace = new StringBuilder();
        String[] lines = text.split("\n", -1);
        for (int n = 0; n < lines.length; n++) {
            String line = lines[n];
            if (n == lines.length - 1 && line.isEmpty()) {
                break; // after the last line's newline
            }
            if (line.startsWith(SECTION)) {
                if (seed != null) {
                    traces.put(seed, trace.toString());
                }
                seed = Integer.valueOf(line.substring(SECTION.length()).strip());
                trace.setLength(0);
            } else if (seed != null) {
                trace.append(line).append('\n');
            } else if (!line.startsWith("#")) {
                throw new AssertionError("a line outside any program: " + line);
            }
        }
        if (seed != null) {
            traces.put(seed, trace.toString());
        }
        return traces;
    }

    /** Every program's traces as printed by {@code main("all")} in a child JVM on {@code engine}. */
    private static String runOnEngine(String engine) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(java.toString(),
                "--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED", "-Dcoro.engine=" + engine,
                "-cp", System.getProperty("java.class.path"), EngineEquivalenceTest.class.getName(), "all"));
        Process child = ChildJvmLocale.processBuilder(command).redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(5, TimeUnit.MINUTES)).as("the child JVM ended").isTrue();
        assertThat(child.exitValue()).as("exit status of %s, which printed:%n%s", command, out).isZero();
        return out;
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
