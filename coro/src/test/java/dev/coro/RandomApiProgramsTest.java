package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Seeded random programs over the whole public API of one thread under virtual time, misuse included, keep four
 * invariants: no internal exception escapes and every refusal names its caller and its call; every value whose send
 * succeeded is received exactly once and none whose send failed ever is; the program ends, or reports a deadlock
 * that names exactly the parked contexts; and a seed traces the same twice, and as recorded, on either engine.
 *
 * <p>A program is main and up to {@value #MOST_COROUTINES} coroutines (some created by others), each running a few
 * random steps on three channels (rendezvous, one and two buffered), a semaphore of two permits and three futures:
 * sends, receives and their timed and try forms, selects of {@code onReceive}, {@code onSend}, {@code onTimeout} and
 * {@code onDefault} clauses, sleeps, {@code withTimeout} and {@code tryWithTimeout} around further steps (two deep),
 * closes of channels and coroutines, {@code switchTo}, {@code yield}, {@code join}, loops over a channel, generators
 * (plain and read-ahead) whose bodies receive and take steps of their own, permits, completions, failures,
 * cancellations and awaits of the futures, a body that fails, steps in the {@code finally} of a body being unwound;
 * and misuse: a negative or zero duration, a null argument, a close of the caller itself or of main, a
 * {@code switchTo} an ended or parked coroutine, a generator's {@code next()} or {@code close()} from inside its own
 * body or while another context is inside it, a release too many, a {@code VirtualTime.run} inside the run, calls
 * from a plain thread on the program's coroutines and generators. Durations are microseconds. A program that awaits a future holds
 * the clock for other threads (TIME.md) and waits out a deadlock instead of reporting it, so in those programs
 * (one in four) each body runs inside a {@code withTimeout} of its lifetime.
 *
 * <p>Each run's trace (every step of every context, with the clock and what the step gave or threw, thread numbers
 * and identity hashes left out) is the same on a second run in the same JVM, and its digest is the one recorded in
 * {@code random-api-programs.txt}, on either engine (CI runs the suite on each). To hunt with more seeds:
 * {@code -Drandom.api.seed=S -Drandom.api.seeds=N} (the record is then not compared). To see a seed's trace, or to
 * write the record after a deliberate change of behaviour:
 * <pre>{@code
 * java --add-exports java.base/jdk.internal.vm=ALL-UNNAMED -cp coro/target/classes:coro/target/test-classes \
 *     dev.coro.RandomApiProgramsTest [record | SEED] > coro/src/test/resources/dev/coro/random-api-programs.txt
 * }</pre>
 */
class RandomApiProgramsTest {

    /** The first seed run: {@code -Drandom.api.seed=S} (0 by default, the record's). */
    private static final long FIRST = Long.getLong("random.api.seed", 0);
    /** How many seeds are run: {@code -Drandom.api.seeds=N} (the record's count by default). */
    private static final int SEEDS = Integer.getInteger("random.api.seeds", 200);
    /** The record, a digest per seed, of the first {@value #RECORDED} seeds from 0. */
    private static final String RECORD = "random-api-programs.txt";
    private static final int RECORDED = 200;

    static final int MOST_COROUTINES = 8;
    /** How long each body of a program that awaits may run, in microseconds. */
    static final int LIFETIME = 400;

    /**
     * Every seed runs twice: each run keeps the invariants, the two traces are equal, and (for the recorded seeds)
     * the trace's digest is the recorded one.
     */
    @Test
    void everyProgramKeepsTheInvariantsAndTracesTheSameTwiceAndAsRecorded() throws Exception {
        Map<Long, String> record = FIRST == 0 && SEEDS == RECORDED ? parse() : Map.of();
        for (long seed = FIRST; seed < FIRST + SEEDS; seed++) {
            Run first = Run.onFreshThread(seed);
            assertThat(first.violations).as("seed %d: violations, in the trace:%n%s", seed, first.text()).isEmpty();
            Run second = Run.onFreshThread(seed);
            assertThat(second.text()).as("seed %d: the second run's trace", seed).isEqualTo(first.text());
            if (!record.isEmpty()) {
                assertThat(first.digest()).as("seed %d on the %s engine: the recorded digest; its trace:%n%s", seed,
                        Engines.running(), first.text()).isEqualTo(record.get(seed));
            }
        }
    }

    /**
     * Prints the record ({@code record}, the default) or one seed's trace (a number).
     *
     * @param args {@code record}, or a seed
     * @throws Exception if a run's thread is interrupted
     */
    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        if (args.length > 0 && !args[0].equals("record")) {
            out.println(Run.onFreshThread(Long.parseLong(args[0])).text());
            return;
        }
        out.println("# The digests (SHA-256 of the trace, first 16 hex digits) of RandomApiProgramsTest's first " + RECORDED);
        out.println("# seeds, one 'seed digest' a line: every engine must trace each seed to exactly this digest.");
        out.println("# Regenerate with RandomApiProgramsTest.main (see its Javadoc).");
        for (long seed = 0; seed < RECORDED; seed++) {
            out.println(seed + " " + Run.onFreshThread(seed).digest());
        }
    }

    private static Map<Long, String> parse() throws IOException {
        Map<Long, String> record = new LinkedHashMap<>();
        try (InputStream in = RandomApiProgramsTest.class.getResourceAsStream(RECORD)) {
            assertThat(in).as(RECORD).isNotNull();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    String[] parts = line.trim().split(" ");
                    record.put(Long.parseLong(parts[0]), parts[1]);
                }
            }
        }
        assertThat(record).as("seeds in " + RECORD).hasSize(RECORDED);
        return record;
    }

    /** What a step of a body throws on purpose, to fail it. */
    static final class Boom extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Boom(String text) {
            super(text, null, true, false);
        }
    }

    /** One run of a seed's program, on a fresh platform thread, with its trace and what broke an invariant. */
    static final class Run {
        final long seed;
        final List<String> trace = new ArrayList<>();
        final List<String> violations = new ArrayList<>();
        final boolean awaits;
        final List<Channel<Integer>> channels = new ArrayList<>();
        final List<Coroutine> handles = new ArrayList<>();
        final List<CompletableFuture<Integer>> futures = new ArrayList<>();
        final List<Generator<Integer>> generators = new ArrayList<>();
        Semaphore permits;
        final Set<Integer> sentOk = new HashSet<>();
        final Set<Integer> sentFailed = new HashSet<>();
        /** Sends that threw a close's signal or a failure: their value may have been delivered, or not. */
        final Set<Integer> sentUnknown = new HashSet<>();
        final List<Integer> received = new ArrayList<>();
        int values;
        int held;

        private Run(long seed) {
            this.seed = seed;
            this.awaits = new SplittableRandom(seed ^ 0x5DEECE66DL).nextInt(4) == 0;
        }

        static Run onFreshThread(long seed) throws InterruptedException {
            Run run = new Run(seed);
            Thread t = Thread.ofPlatform().name("fuzz").uncaughtExceptionHandler((thread, e) -> {
                run.trace.add("the thread's handler got " + describe(e));
                run.violations.add("an exception reached the thread's handler: " + e);
            }).start(run::run);
            t.join();
            return run;
        }

        String text() {
            return String.join("\n", trace);
        }

        String digest() throws NoSuchAlgorithmException {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(text().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash, 0, 8);
        }

        private void run() {
            SplittableRandom random = new SplittableRandom(seed);
            trace.add("seed " + seed + (awaits ? ", awaits" : ""));
            try {
                VirtualTime.run(seed, () -> {
                    for (int k = 0; k < 3; k++) {
                        channels.add(new Channel<>("ch" + k, k));
                        futures.add(new CompletableFuture<>());
                    }
                    permits = new Semaphore("permits", 2);
                    handles.add(Coroutine.current());
                    for (int k = random.nextInt(4); k > 0; k--) {
                        create(random);
                    }
                    body(random, 4 + random.nextInt(10), 0);
                });
                trace.add("run returned");
            } catch (DeadlockException e) {
                trace.add("run reported " + describe(e));
                if (!e.getMessage().startsWith(VirtualTime.RUN + " cannot return: ")) {
                    violations.add("the run's deadlock names not the call: " + e);
                }
            } catch (RuntimeException | Error e) {
                trace.add("run threw " + describe(e));
                checkException(e, "main", "");
            }
            try {
                afterwards();
            } catch (RuntimeException | Error e) {
                violations.add("the checks after the run threw " + e);
            }
        }

        /** The checks once the run is over: nothing alive, the values conserved, the permits back. */
        private void afterwards() {
            for (Coroutine c : handles) {
                if (!c.isMain() && !c.isFinished()) {
                    violations.add(c + " is alive after the run");
                }
                trace.add(c.name() + " ended " + c.state());
            }
            for (Channel<Integer> ch : channels) {
                for (Optional<Integer> v; (v = ch.tryReceive()).isPresent(); ) {
                    received.add(v.get());
                    trace.add("drained " + v.get() + " from " + ch.name());
                }
            }
            Set<Integer> once = new HashSet<>();
            for (int v : received) {
                if (!once.add(v)) {
                    violations.add("value " + v + " received twice");
                }
            }
            for (int v : new TreeSet<>(sentOk)) {
                if (!once.contains(v)) {
                    violations.add("value " + v + " was sent but never received");
                }
            }
            for (int v : new TreeSet<>(once)) {
                if (!sentOk.contains(v) && !sentUnknown.contains(v)) {
                    violations.add("value " + v + " was received though its send " + (sentFailed.contains(v) ? "failed" : "never ran"));
                }
            }
            if (permits != null && permits.availablePermits() != 2) {
                violations.add(permits + " after the run, " + held + " held by the program");
            }
        }

        // ---- bodies and steps ----------------------------------------------------------------

        /** A body's steps; in a program that awaits, inside a {@code withTimeout} of its lifetime. */
        private void body(SplittableRandom r, int steps, int depth) {
            if (!awaits) {
                steps(r, steps, depth);
                return;
            }
            try {
                Coroutine.withTimeout(Duration.ofNanos(LIFETIME * 1000L), () -> steps(r, steps, depth));
            } catch (CoroutineTimeoutException e) {
                note("lifetime over: " + describe(e));
            }
        }

        private void steps(SplittableRandom r, int n, int depth) {
            for (int k = 0; k < n; k++) {
                step(r, depth);
            }
        }

        private static Duration micros(int us) {
            return Duration.ofNanos(us * 1000L);
        }

        /** A duration for a timed call: mostly a few microseconds, sometimes zero or negative. */
        private static int duration(SplittableRandom r) {
            int k = r.nextInt(20);
            return k == 0 ? -1 - r.nextInt(3) : k < 3 ? 0 : r.nextInt(1, 30);
        }

        private Channel<Integer> channel(SplittableRandom r) {
            return channels.get(r.nextInt(channels.size()));
        }

        private Coroutine handle(SplittableRandom r) {
            return handles.get(r.nextInt(handles.size()));
        }

        private void step(SplittableRandom r, int depth) {
            int op = r.nextInt(depth < 2 ? 34 : 31);
            switch (op) {
                case 0, 1, 2 -> {
                    Channel<Integer> ch = channel(r);
                    int v = values++;
                    send("send(" + v + ") to " + ch.name(), "send", v, () -> {
                        ch.send(v);
                        return true;
                    });
                }
                case 3 -> {
                    Channel<Integer> ch = channel(r);
                    int v = values++;
                    send("trySend(" + v + ") to " + ch.name(), "trySend", v, () -> ch.trySend(v));
                }
                case 4, 5 -> {
                    Channel<Integer> ch = channel(r);
                    int v = values++;
                    int d = duration(r);
                    send("trySend(" + v + ", " + d + "us) to " + ch.name(), "trySend", v, () -> ch.trySend(v, micros(d)));
                }
                case 6, 7, 8 -> {
                    Channel<Integer> ch = channel(r);
                    act("receive from " + ch.name(), "receive", () -> took(ch.receive()));
                }
                case 9 -> {
                    Channel<Integer> ch = channel(r);
                    act("tryReceive from " + ch.name(), "tryReceive", () -> tookAny(ch.tryReceive()));
                }
                case 10, 11 -> {
                    Channel<Integer> ch = channel(r);
                    int d = duration(r);
                    act("tryReceive(" + d + "us) from " + ch.name(), "tryReceive", () -> tookAny(ch.tryReceive(micros(d))));
                }
                case 12, 13, 14 -> select(r);
                case 15 -> {
                    int d = duration(r);
                    act("sleep(" + d + "us)", "sleep", () -> {
                        Coroutine.sleep(micros(d));
                        return "ok";
                    });
                }
                case 16 -> act("yield", "yield", () -> {
                    Coroutine.yield();
                    return "ok";
                });
                case 17 -> {
                    Coroutine c = handle(r);
                    act("switchTo " + c.name(), "switchTo", () -> {
                        c.switchTo();
                        return "ok";
                    });
                }
                case 18 -> {
                    Coroutine c = handle(r);
                    act("close " + c.name(), "close", () -> {
                        c.close();
                        return "ok";
                    });
                }
                case 19 -> {
                    Coroutine c = handle(r);
                    act("join " + c.name(), "join", () -> {
                        c.join();
                        return c.state().toString();
                    });
                }
                case 20, 21 -> create(r);
                case 22 -> {
                    Channel<Integer> ch = channel(r);
                    boolean withCause = r.nextBoolean();
                    act("close " + ch.name() + (withCause ? " with a cause" : ""), "close", () -> {
                        if (withCause) {
                            ch.close(new Boom("closed by " + Coroutine.current().name()));
                        } else {
                            ch.close();
                        }
                        return "ok";
                    });
                }
                case 23, 24 -> generator(r);
                case 25 -> semaphore(r);
                case 26 -> future(r);
                case 27 -> misuse(r);
                case 28 -> stranger(r);
                case 29 -> {
                    if (r.nextInt(3) == 0) {
                        String text = "boom in " + Coroutine.current().name();
                        note("throws " + text);
                        throw new Boom(text);
                    }
                    act("nanoTime", "nanoTime", () -> String.valueOf(Coroutine.nanoTime() / 1000));
                }
                case 30 -> {
                    if (awaits) {
                        future(r);
                    } else {
                        act("dump", "dump", () -> String.valueOf(Coroutine.dump().lines().count()));
                    }
                }
                default -> timed(r, depth);
            }
        }

        /** A {@code withTimeout} or {@code tryWithTimeout} around a few more steps. */
        private void timed(SplittableRandom r, int depth) {
            int d = r.nextInt(6) == 0 ? duration(r) : r.nextInt(1, 60);
            int n = 1 + r.nextInt(3);
            SplittableRandom inner = r.split();
            if (r.nextBoolean()) {
                act("withTimeout(" + d + "us) of " + n + " steps", "withTimeout", () -> {
                    try {
                        Coroutine.withTimeout(micros(d), () -> steps(inner, n, depth + 1));
                        return "returned";
                    } catch (CoroutineTimeoutException e) {
                        return "timed out: " + describe(e);
                    }
                });
            } else {
                act("tryWithTimeout(" + d + "us) of " + n + " steps", "tryWithTimeout",
                        () -> "gave " + Coroutine.tryWithTimeout(micros(d), () -> steps(inner, n, depth + 1)));
            }
        }

        private void create(SplittableRandom r) {
            if (handles.size() > MOST_COROUTINES) {
                act("yield", "yield", () -> {
                    Coroutine.yield();
                    return "ok";
                });
                return;
            }
            String name = "c" + handles.size();
            SplittableRandom mine = r.split();
            int steps = 2 + r.nextInt(9);
            int last = r.nextInt(3) == 0 ? 1 + r.nextInt(2) : 0;
            act("create " + name, "create", () -> {
                handles.add(Coroutine.create(name, () -> {
                    note("starts");
                    try {
                        body(mine, steps, 0);
                    } finally {
                        if (last > 0) {
                            note("runs " + last + " steps in its finally");
                            body(mine, last, 3); // while it is unwound too: each wait throws the signal again
                        }
                        note("ends");
                    }
                }));
                return "ok";
            });
        }

        private void select(SplittableRandom r) {
            Select<String> select = new Select<>();
            StringBuilder label = new StringBuilder("select");
            List<Integer> offered = new ArrayList<>();
            int clauses = 1 + r.nextInt(3);
            for (int k = 0; k < clauses; k++) {
                Channel<Integer> ch = channel(r);
                switch (r.nextInt(awaits ? 5 : 4)) {
                    case 4 -> {
                        int i = r.nextInt(futures.size());
                        label.append(" onComplete(f").append(i).append(")");
                        select.onComplete(futures.get(i), v -> "completed with " + v);
                    }
                    case 0, 1 -> {
                        label.append(" onReceive(").append(ch.name()).append(")");
                        select.onReceive(ch, v -> took(v));
                    }
                    case 2 -> {
                        int v = values++;
                        offered.add(v);
                        label.append(" onSend(").append(ch.name()).append(", ").append(v).append(")");
                        select.onSend(ch, v, () -> {
                            sentOk.add(v);
                            return "sent " + v;
                        });
                    }
                    default -> {
                        int d = duration(r);
                        label.append(" onTimeout(").append(d).append("us)");
                        try {
                            select.onTimeout(micros(d), () -> "timed out");
                        } catch (IllegalArgumentException e) {
                            checkException(e, Coroutine.current().name(), "onTimeout");
                            label.append(" refused: ").append(describe(e));
                        }
                    }
                }
            }
            if (r.nextInt(4) == 0) {
                label.append(" onDefault");
                select.onDefault(() -> "default");
            }
            boolean unbiased = r.nextBoolean();
            label.append(unbiased ? " unbiased" : "");
            boolean unknown = false;
            try {
                act(label.toString(), "select", () -> unbiased ? select.selectUnbiased() : select.select());
                unknown = lastThrown instanceof CoroutineException; // a failure reaching it after its value was taken
            } catch (CoroutineExit e) {
                unknown = !e.isTimeout(); // a close may come after the hand-over; a timeout interrupted the wait
                throw e;
            } finally {
                for (int v : offered) {
                    if (!sentOk.contains(v)) {
                        (unknown ? sentUnknown : sentFailed).add(v); // else another clause fired, or none did
                    }
                }
            }
        }

        private void generator(SplittableRandom r) {
            Channel<Integer> ch = channel(r);
            int n = r.nextInt(6) == 0 ? r.nextInt(-1, 2) : 1 + r.nextInt(3);
            int emits = 1 + r.nextInt(3);
            int takes = 1 + r.nextInt(4);
            boolean selfNext = r.nextInt(5) == 0;
            boolean busy = r.nextInt(3) == 0;
            String name = "g" + generators.size();
            SplittableRandom inner = r.split();
            AtomicReference<Generator<Integer>> self = new AtomicReference<>();
            Generator.Body<Integer, Void> body = out -> {
                for (int k = 0; k < emits; k++) {
                    if (selfNext) {
                        if (k % 2 == 0) {
                            act(name + ".next() in its own body", "next", () -> String.valueOf(self.get().next()));
                        } else {
                            act("close " + name + " in its own body", "close", () -> {
                                self.get().close();
                                return self.get().state().toString();
                            });
                        }
                    }
                    if (busy) {
                        steps(inner, 1, 3); // any step but a timed one, in the body
                    }
                    int v = ch.receive();
                    received.add(v);
                    note(name + " received " + v);
                    out.emit(v);
                }
            };
            Generator<Integer> g;
            try {
                g = n == 1 && r.nextBoolean() ? Generator.of(name, body) : Generator.buffered(name, n, body);
            } catch (IllegalArgumentException e) {
                checkException(e, Coroutine.current().name(), "buffered");
                note("buffered(" + n + ") of " + name + " refused: " + describe(e));
                return;
            }
            self.set(g);
            generators.add(g);
            try {
                for (int k = 0; k < takes; k++) {
                    act(name + ".next() from " + ch.name(), "next", () -> String.valueOf(g.next()));
                }
            } finally {
                if (r.nextInt(4) > 0) {
                    act("close " + name, "close", () -> {
                        g.close();
                        return g.state().toString();
                    });
                }
            }
        }

        private void semaphore(SplittableRandom r) {
            switch (r.nextInt(4)) {
                case 0 -> {
                    int d = duration(r);
                    act("withPermit, sleeping " + d + "us", "acquire", () -> {
                        permits.withPermit(() -> Coroutine.sleep(micros(d)));
                        return "ok";
                    });
                }
                case 1 -> {
                    int d = duration(r);
                    act("tryAcquire(" + d + "us), yield, release", "tryAcquire", () -> {
                        if (!permits.tryAcquire(micros(d))) {
                            return "none";
                        }
                        held++;
                        try {
                            Coroutine.yield();
                        } finally {
                            held--;
                            permits.release();
                        }
                        return "held one";
                    });
                }
                case 2 -> act("acquire, sleep, release", "acquire", () -> {
                    permits.acquire();
                    held++;
                    try {
                        Coroutine.sleep(micros(5));
                    } finally {
                        held--;
                        permits.release();
                    }
                    return "held one";
                });
                default -> {
                    if (held == 0 && permits.availablePermits() == 2) {
                        act("release too many", "release", () -> {
                            permits.release();
                            return "ok";
                        });
                    } else {
                        act("tryAcquire, release", "tryAcquire", () -> {
                            if (!permits.tryAcquire()) {
                                return "none";
                            }
                            permits.release();
                            return "held one";
                        });
                    }
                }
            }
        }

        private void future(SplittableRandom r) {
            CompletableFuture<Integer> f = futures.get(r.nextInt(futures.size()));
            String name = "f" + futures.indexOf(f);
            int k = awaits ? r.nextInt(10) : 0;
            if (k < 4) {
                int v = values++;
                act("complete " + name + " with " + v, "complete", () -> String.valueOf(f.complete(v)));
            } else if (k == 4) {
                act("fail " + name, "completeExceptionally",
                        () -> String.valueOf(f.completeExceptionally(new Boom("failed by " + Coroutine.current().name()))));
            } else if (k == 5) {
                act("cancel " + name, "cancel", () -> String.valueOf(f.cancel(false)));
            } else {
                act("await " + name, "await", () -> String.valueOf(Coroutine.await(f)));
            }
        }

        /** A call refused for its arguments or for whom it is made on. */
        private void misuse(SplittableRandom r) {
            Channel<Integer> ch = channel(r);
            if (!generators.isEmpty() && r.nextInt(3) == 0) {
                Generator<Integer> g = generators.get(r.nextInt(generators.size()));
                switch (r.nextInt(3)) {
                    case 0 -> act(g.name() + ".next() of another's", "next", () -> String.valueOf(g.next()));
                    case 1 -> act(g.name() + ".hasNext() of another's", "hasNext", () -> String.valueOf(g.hasNext()));
                    default -> act("close " + g.name() + " of another's", "close", () -> {
                        g.close();
                        return g.state().toString();
                    });
                }
                return;
            }
            switch (r.nextInt(12)) {
                case 10 -> act("VirtualTime.run inside the run", "VirtualTime.run", () -> {
                    VirtualTime.run(() -> note("the inner run's body ran"));
                    return "ok";
                });
                case 11 -> {
                    int most = 1 + r.nextInt(3);
                    act("a loop over " + ch.name() + " for at most " + most, "iterate", () -> {
                        List<Integer> got = new ArrayList<>();
                        for (int v : ch) {
                            received.add(v);
                            got.add(v);
                            if (got.size() == most) {
                                break;
                            }
                        }
                        return "took " + got;
                    });
                }
                case 0 -> act("send(null) to " + ch.name(), "value", () -> {
                    ch.send(null);
                    return "ok";
                });
                case 1 -> act("sleep(null)", "d", () -> {
                    Coroutine.sleep(null);
                    return "ok";
                });
                case 2 -> act("withTimeout(null)", "d", () -> Coroutine.withTimeout(null, () -> "ran"));
                case 3 -> act("tryReceive(null) from " + ch.name(), "timeout", () -> tookAny(ch.tryReceive(null)));
                case 4 -> act("onReceive(null)", "channel", () -> new Select<String>().onReceive(null, v -> "x").select());
                case 5 -> act("close self", "close", () -> {
                    Coroutine.current().close();
                    return "ok";
                });
                case 6 -> act("close main", "close", () -> {
                    handles.get(0).close();
                    return "ok";
                });
                case 7 -> act("select of no clause", "select", () -> new Select<String>().select());
                case 8 -> act("join self", "join", () -> {
                    Coroutine.current().join();
                    return "ok";
                });
                default -> {
                    int d = -1 - r.nextInt(5);
                    act("withTimeout(" + d + "us)", "withTimeout", () -> Coroutine.withTimeout(micros(d), () -> "ran"));
                }
            }
        }

        /** A call of a plain thread on a coroutine or a generator of this one: refused there, nothing changed here. */
        private void stranger(SplittableRandom r) {
            Coroutine c = handle(r);
            Generator<Integer> g = generators.isEmpty() ? null : generators.get(r.nextInt(generators.size()));
            int what = g == null ? r.nextInt(3) : r.nextInt(4);
            String[] ops = {"switchTo", "close", "join", "next"};
            String target = what == 3 ? g.name() : c.name();
            State before = State.of(c, g);
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            Thread t = Thread.ofPlatform().name("stranger").start(() -> {
                try {
                    switch (what) {
                        case 0 -> c.switchTo();
                        case 1 -> c.close();
                        case 2 -> c.join();
                        default -> g.next();
                    }
                } catch (Throwable e) {
                    thrown.set(e);
                }
            });
            try {
                t.join();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            String label = "a plain thread's " + ops[what] + " of " + target;
            Throwable e = thrown.get();
            if (e == null) {
                violations.add(label + " was not refused");
                note(label + " -> ok");
                return;
            }
            note(label + " !! " + describe(e));
            if (!(e instanceof IllegalStateException)) {
                violations.add(label + " threw " + e);
            } else if (!e.getMessage().contains("thread 'stranger'") || !e.getMessage().contains(ops[what])) {
                violations.add(label + ": the message names not the plain thread and the call: " + e.getMessage());
            }
            if (!State.of(c, g).equals(before)) {
                violations.add(label + " changed " + before + " into " + State.of(c, g));
            }
        }

        /** The states a stranger's refused call must leave as they were. */
        record State(Coroutine.State coroutine, Generator.State generator) {
            static State of(Coroutine c, Generator<Integer> g) {
                return new State(c.state(), g == null ? null : g.state());
            }
        }

        // ---- outcomes ------------------------------------------------------------------------

        private String took(int v) {
            received.add(v);
            return "took " + v;
        }

        private String tookAny(Optional<Integer> v) {
            return v.map(this::took).orElse("nothing");
        }

        /** A send of {@code v}, which says whether it was delivered; what it throws says so too. */
        private void send(String label, String operation, int v, Supplier<Boolean> call) {
            try {
                act(label, operation, () -> {
                    boolean sent = call.get();
                    (sent ? sentOk : sentFailed).add(v);
                    return String.valueOf(sent);
                });
            } catch (CoroutineExit e) {
                (e.isTimeout() ? sentFailed : sentUnknown).add(v); // a timeout interrupted the wait; a close may come after the hand-over
                throw e;
            }
            if (!sentOk.contains(v) && !sentFailed.contains(v)) {
                Throwable last = lastThrown;
                if (last instanceof CoroutineException) {
                    sentUnknown.add(v); // a failure reaching the sender after its value was taken
                } else {
                    sentFailed.add(v);
                }
            }
        }

        private Throwable lastThrown;

        /**
         * Runs a call of the current context, noting what it gave or threw; the exit signal of a close or a timeout
         * goes on unwinding the body, anything else is noted, checked and swallowed.
         */
        private void act(String label, String operation, Supplier<String> call) {
            lastThrown = null;
            String who = Coroutine.current().name();
            String result;
            try {
                result = call.get();
            } catch (CoroutineExit e) {
                note(label + " !! " + describe(e));
                throw e;
            } catch (Boom e) {
                throw e;
            } catch (RuntimeException | Error e) {
                lastThrown = e;
                note(label + " !! " + describe(e));
                checkException(e, who, operation);
                if (e instanceof DeadlockException d) {
                    checkDeadlock(d, label);
                }
                return;
            }
            note(label + " -> " + result);
        }

        private static final Set<Class<?>> REFUSALS = Set.of(IllegalStateException.class, IllegalArgumentException.class,
                NoSuchElementException.class, DeadlockException.class, ChannelClosedException.class, CancellationException.class);
        private static final Set<String> PARAMETERS = Set.of("value", "d", "timeout", "channel", "f", "body", "name",
                "stage", "cause", "action");

        /** Checks an exception the library threw to {@code who} for {@code operation}: the invariant (a). */
        private void checkException(Throwable e, String who, String operation) {
            for (Throwable t : chain(e)) {
                if (t instanceof CompletionException && t.getCause() instanceof Boom) {
                    continue; // a future's failure, as join() throws it
                }
                if (t instanceof Boom || t instanceof CoroutineException || t instanceof CoroutineExit
                        || t instanceof CoroutineTimeoutException) {
                    continue;
                }
                if (t instanceof NullPointerException) {
                    if (t != e || !PARAMETERS.contains(t.getMessage())) {
                        violations.add(who + " " + operation + ": a NullPointerException that names no parameter: " + t);
                    }
                    continue;
                }
                if (!REFUSALS.contains(t.getClass())) {
                    violations.add(who + " " + operation + ": an internal exception: " + t);
                    continue;
                }
                String m = t.getMessage();
                if (t == e && (m == null || !m.contains("'" + who + "'") || !m.contains(operation))) {
                    violations.add(who + " " + operation + ": a refusal that names not the caller and the call: " + t);
                }
            }
        }

        /** Invariant (c): a deadlock names exactly the contexts parked now, and the caller whose wait it refused. */
        private void checkDeadlock(DeadlockException e, String label) {
            Set<String> named = new TreeSet<>();
            Pattern p = Pattern.compile("^(?:main context|coroutine) '([^']*)'");
            for (String w : e.waits()) {
                Matcher m = p.matcher(w);
                named.add(m.find() ? m.group(1) : "?" + w);
            }
            Set<String> parked = new TreeSet<>(Set.of(Coroutine.current().name()));
            for (Coroutine c : handles) {
                if (c.state() == Coroutine.State.PARKED) {
                    parked.add(c.name());
                }
            }
            if (!named.equals(parked)) {
                violations.add(label + ": a deadlock that names " + named + " while " + parked + " are parked");
            }
        }

        private static List<Throwable> chain(Throwable e) {
            List<Throwable> all = new ArrayList<>();
            collect(e, all);
            return all;
        }

        private static void collect(Throwable e, List<Throwable> all) {
            if (e == null || all.stream().anyMatch(x -> x == e)) {
                return;
            }
            all.add(e);
            collect(e.getCause(), all);
            for (Throwable s : e.getSuppressed()) {
                collect(s, all);
            }
        }

        private void note(String text) {
            trace.add(micros() + " " + Coroutine.current().name() + ": " + text);
        }

        private static String micros() {
            return Coroutine.nanoTime() / 1000 + "us";
        }

        private static final Pattern NUMBERS = Pattern.compile("\\(#\\d+\\)|@[0-9a-f]{4,}");

        /** An exception as the trace writes it: its class, message and causes, without thread numbers or hashes. */
        static String describe(Throwable e) {
            StringBuilder b = new StringBuilder();
            Set<Throwable> seen = new HashSet<>();
            for (Throwable t = e; t != null && seen.add(t); t = t.getCause()) {
                b.append(t == e ? "" : " <- ").append(t.getClass().getSimpleName()).append(": ").append(t.getMessage());
                for (Throwable s : t.getSuppressed()) {
                    b.append(" [+").append(s.getClass().getSimpleName()).append(": ").append(s.getMessage()).append("]");
                }
            }
            return NUMBERS.matcher(b.toString().replace("\n", " | ")).replaceAll("#");
        }
    }
}
