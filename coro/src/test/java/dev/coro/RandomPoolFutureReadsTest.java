package dev.coro;

import static dev.coro.PoolsClosed.GUARD;
import static dev.coro.PoolsClosed.thrownByClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Seeded random compositions over the futures of a pool's submissions, checked against a model of the rule of
 * docs/THREADS.md (what counts as observing a body's failure): bodies that succeed or fail (a runtime exception, a
 * checked one thrown sneakily, a {@code CompletionException} of their own, a {@code CancellationException}, an
 * {@code Error}), each once its gate opens; stages derived from their futures and from other futures ({@code thenApply},
 * {@code thenCompose}, their {@code Async} forms, {@code thenCombine}, {@code applyToEither}, {@code acceptEither},
 * {@code anyOf}, minimal stages and their {@code toCompletableFuture()}); handlers ({@code whenComplete}, {@code handle},
 * {@code exceptionally}, {@code exceptionallyCompose}, their {@code Async} forms on the JDK's default executor, a direct
 * one, the pool, one that refuses); compositions ({@code thenCompose}, {@code exceptionallyCompose}) whose function
 * returns another stage of the run, a submission's future among them; reads ({@code join}, {@code get}, a timed {@code get}, {@code getNow},
 * {@code resultNow}, {@code exceptionNow}, {@code await}, a select's {@code onComplete}), before the outcome and after;
 * and the caller's own settling ({@code cancel}, {@code complete}, {@code completeExceptionally}, {@code obtrudeValue},
 * {@code obtrudeException}, {@code orTimeout}, {@code completeOnTimeout}, expiring or not). Every read hands over the
 * outcome the model holds; {@code close()} then throws exactly the failures no read or handler was handed, the first
 * as its cause and the others suppressed in it, in the order of submission, each once, or nothing; nothing hangs.
 *
 * <p>The rule leaves no composition open: a stage that {@code applyToEither} made the argument's, as the argument was
 * complete first, is derived from the argument's future; {@code exceptionNow()} of a future that holds the body's own
 * {@code CancellationException}, which it refuses as the JDK's does for a cancelled future, has read it, as a
 * {@code resultNow()} refused on a failure has; a composed stage hands over the failure of the stage its function
 * returned.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
class RandomPoolFutureReadsTest {

    /** The first seed run: {@code -Dpool.reads.seed=S} (0 by default). */
    private static final long FIRST = Long.getLong("pool.reads.seed", 0);
    /** How many seeds are run: {@code -Dpool.reads.seeds=N} (300 by default). */
    private static final int SEEDS = Integer.getInteger("pool.reads.seeds", 300);

    @Test
    @Timeout(120)
    void closeReportsExactlyTheFailuresNoReadOrHandlerWasHandedOnceEachInTheOrderOfSubmission() {
        for (long seed = FIRST; seed < FIRST + SEEDS; seed++) {
            new Run(seed).run();
        }
    }

    /** Throws {@code t}, checked or not, as a body may (a sneaky throw). */
    @SuppressWarnings("unchecked")
    private static <E extends Throwable> RuntimeException sneakyThrow(Throwable t) throws E {
        throw (E) t;
    }

    /**
     * An outcome as the model holds it: a value, or a failure, {@code failure} as a read hands it over (a
     * {@code CompletionException}'s cause; null where the JDK made it: a cancel's, a timeout's, a refusal's), the
     * submission whose body threw it ({@code body}, or -1), and whether the future holds a bare
     * {@code CancellationException} ({@code raw}: it then counts as cancelled).
     */
    private record Outcome(boolean failed, Object value, Throwable failure, int body, boolean raw) {

        static Outcome of(Object value) {
            return new Outcome(false, value, null, -1, false);
        }

        static Outcome failed(Throwable failure, int body, boolean raw) {
            return new Outcome(true, null, failure, body, raw);
        }

        /** As a stage the JDK derives holds it: a failure wrapped in a {@code CompletionException}. */
        Outcome wrapped() {
            return failed ? failed(failure, body, false) : this;
        }

        @Override
        public String toString() {
            return failed ? "failed with " + (failure == null ? "the JDK's" : failure.toString())
                    + (body >= 0 ? " (body " + body + ")" : "") + (raw ? " (bare cancellation)" : "") : "value " + value;
        }
    }

    /** A future or stage of the run, and what the model knows of it. */
    private static final class Node {
        final int id;
        final String label;
        final CompletionStage<Object> stage;
        /** The submission whose future made it ({@code newIncompleteFuture}), or -1: a plain future, or the JDK's. */
        final int owner;
        final boolean minimal;
        /** The roots (gates and plain futures) whose settling may settle it. */
        final Set<Integer> roots;
        /** The submission it is the future of, or -1. */
        final int submission;
        Outcome outcome;
        final List<Consumer<Outcome>> dependents = new ArrayList<>();

        /** For a stage composed on a pool future, the stage its function returned, once it ran; else null. */
        Node composedFrom;

        Node(int id, String label, CompletionStage<Object> stage, int owner, boolean minimal, Set<Integer> roots, int submission) {
            this.id = id;
            this.label = label;
            this.stage = stage;
            this.owner = owner;
            this.minimal = minimal;
            this.roots = roots;
            this.submission = submission;
        }

        CompletableFuture<Object> future() {
            return (CompletableFuture<Object>) stage;
        }

        @Override
        public String toString() {
            return "#" + id + " " + label;
        }
    }

    /** A submission of the run: its gate, what its body throws (null: it returns a value), what the model counts. */
    private static final class Submission {
        final int index;
        final CompletableFuture<Void> gate = new CompletableFuture<>();
        final Throwable thrown;
        Node node;
        boolean opened;
        /** Its future was settled by its caller (or a timeout) before the body's outcome: nothing to report. */
        boolean settledFirst;
        /** Its failure was handed to a read or handler that counts. */
        boolean seen;

        Submission(int index, Throwable thrown) {
            this.index = index;
            this.thrown = thrown;
        }

        /** The failure as a read hands it over. */
        Throwable asRead() {
            return thrown instanceof CompletionException && thrown.getCause() != null ? thrown.getCause() : thrown;
        }
    }

    /** One seed's run: a pool, its submissions, the steps, the close and the checks. */
    private static final class Run {
        private final long seed;
        private final SplittableRandom random;
        private final List<String> trace = new ArrayList<>();
        private final List<Node> nodes = new ArrayList<>();
        private final List<Submission> submissions = new ArrayList<>();
        /** Plain futures the run settles itself, by root number. */
        private final List<Node> plain = new ArrayList<>();
        /**
         * For each composing function the model holds run, a future it completes as it runs: the JDK may run it later
         * (on another thread, or as the source completes there), and only once it has is its handler's read counted.
         */
        private final List<CompletableFuture<Void>> functionsRun = new ArrayList<>();
        private CoroutinePool pool;
        private int nextRoot;
        private final Executor refusing = task -> {
            throw new RejectedExecutionException("refused");
        };

        Run(long seed) {
            this.seed = seed;
            this.random = new SplittableRandom(seed);
        }

        /** Runs the seed: submits, steps, opens every gate left, settles every plain future left, closes and checks. */
        void run() {
            pool = CoroutinePool.start(1);
            String name = PoolName.of(pool);
            try {
                int count = 1 + random.nextInt(4);
                for (int i = 0; i < count; i++) {
                    submit(i);
                }
                int steps = 8 + random.nextInt(20);
                for (int s = 0; s < steps; s++) {
                    step();
                    awaitTheSettled();
                }
                for (Submission sub : submissions) {
                    if (!sub.opened) {
                        open(sub);
                        awaitTheSettled();
                    }
                }
                for (Node p : new ArrayList<>(plain)) {
                    if (p.outcome == null) {
                        trace.add("completes " + p);
                        p.future().complete("plain " + p.id);
                        settle(p, Outcome.of("plain " + p.id));
                        awaitTheSettled();
                    }
                }
                for (Node n : nodes) {
                    assertThat(n.outcome).as(context("every stage settled: " + n)).isNotNull();
                }
            } catch (Throwable t) {
                thrownByClose(pool);
                throw new AssertionError(context("the run threw"), t);
            }
            check(name, thrownByClose(pool));
        }

        /** {@code what} failed, with the seed, the engine and the run's trace so far, to replay it. */
        private String context(String what) {
            return "seed " + seed + " on the " + Engines.running() + " engine: " + what + "; the run:\n  "
                    + String.join("\n  ", trace);
        }

        /** Submits body {@code i}, which waits for its gate, then returns a value or throws one of the five kinds of failure. */
        private void submit(int i) {
            Throwable thrown = switch (random.nextInt(6)) {
                case 0 -> null;
                case 1 -> new IllegalStateException("failure " + i);
                case 2 -> new IOException("checked failure " + i);
                case 3 -> new CompletionException(new IllegalStateException("wrapped failure " + i));
                case 4 -> new CancellationException("the body's own cancellation " + i);
                default -> new Error("error " + i);
            };
            Submission sub = new Submission(i, thrown);
            CompletableFuture<Void> gate = sub.gate;
            CompletableFuture<Object> f = pool.submit(() -> {
                Coroutine.await(gate);
                if (thrown == null) {
                    return "value " + i;
                }
                throw sneakyThrow(thrown);
            });
            sub.node = add("submission " + i, f, i, false, Set.of(nextRoot++), i);
            submissions.add(sub);
            trace.add("submits " + i + ": " + (thrown == null ? "a value" : thrown.toString()));
        }

        /** A new stage of the run, which the model holds pending. */
        private Node add(String label, CompletionStage<Object> stage, int owner, boolean minimal, Set<Integer> roots, int submission) {
            Node n = new Node(nodes.size(), label, stage, owner, minimal, roots, submission);
            nodes.add(n);
            return n;
        }

        /** A new plain future, a root of its own that the run settles itself. */
        private Node plainFuture() {
            Node n = add("plain", new CompletableFuture<>(), -1, false, Set.of(nextRoot++), -1);
            plain.add(n);
            return n;
        }

        /** The model settles {@code n} with {@code o} unless it is settled already, and its dependents after it. */
        private void settle(Node n, Outcome o) {
            if (n.outcome != null) {
                return;
            }
            n.outcome = o;
            List<Consumer<Outcome>> ds = new ArrayList<>(n.dependents);
            n.dependents.clear();
            for (Consumer<Outcome> d : ds) {
                d.accept(o);
            }
            if (n.submission >= 0 && !submissions.get(n.submission).opened) {
                submissions.get(n.submission).settledFirst = true;
            }
        }

        /** Runs {@code d} with {@code n}'s outcome now if it has one, else once it settles. */
        private void whenSettled(Node n, Consumer<Outcome> d) {
            if (n.outcome != null) {
                d.accept(n.outcome);
            } else {
                n.dependents.add(d);
            }
        }

        /** Runs {@code d} with the outcome of {@code a}, or else {@code b}, now if one has it, else once the first settles. */
        private void whenEitherSettled(Node a, Node b, Consumer<Outcome> d) {
            if (a.outcome != null) {
                d.accept(a.outcome);
            } else if (b.outcome != null) {
                d.accept(b.outcome);
            } else {
                whenSettled(a, d);
                whenSettled(b, d);
            }
        }

        /**
         * {@code o} was handed to a reader or handler of {@code n}: a body's failure counts if {@code n} is its
         * submission's, or a stage composed on a pool future whose function returned one that is, at any depth.
         */
        private void handed(Node n, Outcome o, String how) {
            if (!o.failed || o.body < 0) {
                return;
            }
            Node at = n;
            while (at != null && at.owner != o.body) {
                at = at.composedFrom;
            }
            if (at == null) {
                return;
            }
            submissions.get(o.body).seen = true;
            trace.add("  (" + how + " of " + n + " hands over the failure of body " + o.body + (at == n ? "" : ", through " + at) + ")");
        }

        /**
         * {@code d}, composed on {@code p}, relays {@code r}, the stage its function returned once {@code p} had a
         * value (unless {@code d} was settled first: the JDK then never runs the function): a read of {@code d} hands
         * over {@code r}'s failure, counted as {@code r}'s if {@code p} is a pool future. The function completes
         * {@code ran} as it runs.
         */
        private void relays(Node p, Node d, Node r, CompletableFuture<Void> ran) {
            if (d.outcome != null) {
                return;
            }
            functionsRun.add(ran);
            if (p.owner >= 0) {
                d.composedFrom = r;
            }
            whenSettled(r, o -> settle(d, o.wrapped()));
        }

        /** Waits until every stage the model holds settled is complete, reading none. */
        private void awaitTheSettled() {
            List<CompletableFuture<?>> settled = new ArrayList<>(functionsRun);
            for (Node n : nodes) {
                if (n.outcome != null) {
                    settled.add(n.minimal ? n.stage.toCompletableFuture() : n.future());
                }
            }
            Throwable t = catchThrowable(() -> Coroutine.withTimeout(GUARD,
                    () -> Coroutine.await(CompletableFuture.allOf(settled.toArray(CompletableFuture<?>[]::new)).exceptionally(e -> null))));
            if (t != null) {
                throw new AssertionError(context("the stages the model holds settled did not complete"), t);
            }
        }

        /** A stage of the run; a submission's future one time in three, as most of the rule is about those. */
        private Node any() {
            if (random.nextInt(3) == 0) {
                return submissions.get(random.nextInt(submissions.size())).node;
            }
            return nodes.get(random.nextInt(nodes.size()));
        }

        /** One random step: a stage derived, a stage of two, a handler, a read, a settling, or a gate opened. */
        private void step() {
            switch (random.nextInt(10)) {
                case 0, 1 -> derive(any());
                case 2 -> combine();
                case 3, 4 -> handler(any());
                case 5 -> read(any());
                case 6 -> {
                    Node n = any();
                    if (n.outcome == null) {
                        read(n);
                    } else {
                        readFromABody(n);
                    }
                }
                case 7 -> settleOne();
                default -> {
                    List<Submission> shut = submissions.stream().filter(s -> !s.opened).toList();
                    if (shut.isEmpty()) {
                        read(any());
                    } else {
                        open(shut.get(random.nextInt(shut.size())));
                    }
                }
            }
        }

        /** Opens the gate of {@code sub}: its body returns or throws, settling its future unless its caller did first. */
        private void open(Submission sub) {
            sub.opened = true;
            trace.add("opens the gate of " + sub.index);
            Outcome o = sub.thrown == null ? Outcome.of("value " + sub.index)
                    : Outcome.failed(sub.asRead(), sub.index, sub.thrown instanceof CancellationException);
            if (sub.node.outcome != null) {
                sub.settledFirst = true;
            }
            sub.gate.complete(null);
            settle(sub.node, o);
        }

        /** A stage derived from {@code p} by one of its own methods: it holds {@code p}'s outcome, or a value. */
        private void derive(Node p) {
            Executor executor = executor(false);
            String ex = executorName(executor);
            if (p.minimal && random.nextInt(3) == 0) {
                CompletableFuture<Object> f = p.stage.toCompletableFuture();
                boolean pools = p.owner >= 0;
                Node d = add("toCompletableFuture of " + p, f, p.owner, false, p.roots, -1);
                trace.add("makes " + d);
                whenSettled(p, o -> settle(d, pools ? o : o.wrapped()));
                return;
            }
            if (!p.minimal && random.nextInt(4) == 0) {
                CompletionStage<Object> m = p.future().minimalCompletionStage();
                boolean pools = p.owner >= 0;
                Node d = add("minimal stage of " + p, m, p.owner, true, p.roots, -1);
                trace.add("makes " + d);
                whenSettled(p, o -> settle(d, pools ? o : o.wrapped()));
                return;
            }
            CompletionStage<Object> s;
            String how;
            boolean valueLost = false; // a stage of no value: thenAccept, thenRun
            Node returned = null; // the stage a thenCompose's function returns, if not a new one
            CompletableFuture<Void> ran = new CompletableFuture<>();
            switch (random.nextInt(p.minimal ? 4 : 5)) {
                case 0, 1 -> {
                    how = "thenApply" + ex;
                    s = executor == null ? p.stage.thenApply(v -> v)
                            : executor == ForDefault.EXECUTOR ? p.stage.thenApplyAsync(v -> v) : p.stage.thenApplyAsync(v -> v, executor);
                }
                case 2 -> {
                    returned = random.nextBoolean() ? any() : null;
                    Node r = returned;
                    how = r == null ? "thenCompose" : "thenCompose returning " + r;
                    s = r == null ? p.stage.thenCompose(CompletableFuture::completedFuture) : p.stage.thenCompose(v -> {
                        ran.complete(null);
                        return r.stage;
                    });
                }
                case 3 -> {
                    valueLost = true;
                    boolean accept = random.nextBoolean();
                    how = accept ? "thenAccept" : "thenRun";
                    CompletionStage<?> none = accept ? p.stage.thenAccept(v -> { }) : p.stage.thenRun(() -> { });
                    @SuppressWarnings("unchecked")
                    CompletionStage<Object> cast = (CompletionStage<Object>) none;
                    s = cast;
                }
                default -> {
                    how = "copy";
                    s = p.future().copy();
                }
            }
            Set<Integer> roots = p.roots;
            if (returned != null) {
                roots = new HashSet<>(p.roots);
                roots.addAll(returned.roots);
            }
            Node d = add(how + " of " + p, s, p.owner, p.minimal, roots, -1);
            trace.add("makes " + d);
            boolean none = valueLost;
            Node r = returned;
            whenSettled(p, o -> {
                if (r != null && !o.failed) {
                    relays(p, d, r, ran);
                } else {
                    settle(d, o.failed || !none ? o.wrapped() : Outcome.of(null));
                }
            });
        }

        /** The JDK's default executor of a stage's {@code Async} forms, told apart from the others. */
        private enum ForDefault implements Executor {
            EXECUTOR;

            @Override
            public void execute(Runnable command) {
                throw new AssertionError("a marker, never run");
            }
        }

        /** Null (no {@code Async} form), the default executor, a direct one, the pool, or (if {@code refusingToo}) one that refuses. */
        private Executor executor(boolean refusingToo) {
            return switch (random.nextInt(refusingToo ? 5 : 4)) {
                case 0 -> null;
                case 1 -> ForDefault.EXECUTOR;
                case 2 -> Runnable::run;
                case 3 -> pool;
                default -> refusing;
            };
        }

        /** How the trace names a stage made with {@code e}. */
        private String executorName(Executor e) {
            return e == null ? "" : e == ForDefault.EXECUTOR ? "Async" : e == pool ? "Async on the pool"
                    : e == refusing ? "Async on a refusing executor" : "Async on a direct executor";
        }

        /** A stage of two sources, one of them a new plain future or a stage of other roots. */
        private void combine() {
            Node first = any();
            List<Node> others = new ArrayList<>();
            for (Node n : nodes) {
                if (Collections.disjoint(n.roots, first.roots)) {
                    others.add(n);
                }
            }
            Node second = others.isEmpty() || random.nextBoolean() ? plainFuture() : others.get(random.nextInt(others.size()));
            if (random.nextBoolean()) {
                Node t = first;
                first = second;
                second = t;
            }
            Set<Integer> roots = new HashSet<>(first.roots);
            roots.addAll(second.roots);
            Node a = first;
            Node b = second;
            switch (random.nextInt(4)) {
                case 0 -> {
                    // the caller's stage, settled once both are: the caller's failure first, then the other's
                    CompletionStage<Object> s = a.stage.thenCombine(b.stage, (x, y) -> x);
                    Node d = add("thenCombine of " + a + " and " + b, s, a.owner, a.minimal, roots, -1);
                    trace.add("makes " + d);
                    // once the second is: the outcomes both hold then, an outcome obtruded on the first meanwhile
                    Runnable both = () -> {
                        if (a.outcome != null && b.outcome != null) {
                            settle(d, (a.outcome.failed ? a.outcome : b.outcome.failed ? b.outcome : Outcome.of(a.outcome.value)).wrapped());
                        }
                    };
                    whenSettled(a, o -> both.run());
                    whenSettled(b, o -> both.run());
                }
                case 1, 2 -> {
                    boolean accept = random.nextBoolean();
                    CompletionStage<?> s = accept ? a.stage.acceptEither(b.stage, v -> { }) : a.stage.applyToEither(b.stage, v -> v);
                    // the JDK makes the stage with the future of whichever source is complete, the caller's first: a
                    // stage derived from the argument's future if only the argument is complete
                    boolean argumentsFirst = a.outcome == null && b.outcome != null;
                    Node maker = argumentsFirst ? b : a;
                    boolean minimal = a.minimal && !argumentsFirst; // an argument is asked for its future
                    @SuppressWarnings("unchecked")
                    Node d = add((accept ? "acceptEither" : "applyToEither") + " of " + a + " and " + b, (CompletionStage<Object>) s,
                            maker.owner, minimal, roots, -1);
                    trace.add("makes " + d + (argumentsFirst ? " (the argument's)" : ""));
                    Consumer<Outcome> first1 = o -> settle(d, o.failed ? o.wrapped() : Outcome.of(accept ? null : o.value));
                    whenEitherSettled(a, b, first1);
                }
                default -> {
                    CompletableFuture<Object> s = CompletableFuture.anyOf(a.stage.toCompletableFuture(), b.stage.toCompletableFuture());
                    Node d = add("anyOf " + a + " and " + b, s, -1, false, roots, -1);
                    trace.add("makes " + d);
                    Consumer<Outcome> first1 = o -> settle(d, o.wrapped());
                    whenEitherSettled(a, b, first1);
                }
            }
        }

        /** A handler attached to {@code p}: it is handed {@code p}'s outcome, unless its executor refuses its task. */
        private void handler(Node p) {
            int kind = random.nextInt(4);
            Executor executor = executor(kind < 2);
            String ex = executorName(executor);
            boolean async = executor != null;
            boolean byDefault = executor == ForDefault.EXECUTOR;
            CompletionStage<Object> s;
            String how;
            Node returned = null; // the stage an exceptionallyCompose's function returns, if not a new one
            CompletableFuture<Void> ran = new CompletableFuture<>();
            switch (kind) {
                case 0 -> {
                    how = "whenComplete";
                    s = !async ? p.stage.whenComplete((v, e) -> { }) : byDefault ? p.stage.whenCompleteAsync((v, e) -> { })
                            : p.stage.whenCompleteAsync((v, e) -> { }, executor);
                }
                case 1 -> {
                    how = "handle";
                    s = !async ? p.stage.handle((v, e) -> "handled") : byDefault ? p.stage.handleAsync((v, e) -> "handled")
                            : p.stage.handleAsync((v, e) -> "handled", executor);
                }
                case 2 -> {
                    how = "exceptionally";
                    s = !async ? p.stage.exceptionally(e -> "recovered") : byDefault ? p.stage.exceptionallyAsync(e -> "recovered")
                            : p.stage.exceptionallyAsync(e -> "recovered", executor);
                }
                default -> {
                    returned = random.nextBoolean() ? any() : null;
                    Node r = returned;
                    how = r == null ? "exceptionallyCompose" : "exceptionallyCompose returning " + r + ",";
                    Function<Throwable, CompletionStage<Object>> fn = e -> {
                        ran.complete(null);
                        return r == null ? CompletableFuture.completedFuture("recovered") : r.stage;
                    };
                    s = !async ? p.stage.exceptionallyCompose(fn) : byDefault ? p.stage.exceptionallyComposeAsync(fn)
                            : p.stage.exceptionallyComposeAsync(fn, executor);
                }
            }
            Set<Integer> roots = p.roots;
            if (returned != null) {
                roots = new HashSet<>(p.roots);
                roots.addAll(returned.roots);
            }
            Node d = add(how + ex + " of " + p, s, p.owner, p.minimal, roots, -1);
            Node r = returned;
            trace.add("attaches " + d);
            boolean refused = executor == refusing;
            whenSettled(p, o -> {
                if (refused) {
                    settle(d, Outcome.failed(null, -1, false)); // never run: the JDK fails its stage with the refusal
                    return;
                }
                if (d.outcome != null) {
                    return; // its own stage settled first: the JDK never runs it, nor hands its task to an executor
                }
                handed(p, o, how + ex);
                if (r != null && o.failed) {
                    relays(p, d, r, ran);
                    return;
                }
                settle(d, switch (kind) {
                    case 0 -> o.wrapped();
                    case 1 -> Outcome.of("handled");
                    default -> o.failed ? Outcome.of("recovered") : o;
                });
            });
        }

        /** The caller settles a plain future, a stage or a submission's future, or sets a timeout on it. */
        private void settleOne() {
            List<Node> open = plain.stream().filter(n -> n.outcome == null).toList();
            if (!open.isEmpty() && random.nextInt(3) == 0) {
                Node p = open.get(random.nextInt(open.size()));
                if (random.nextBoolean()) {
                    trace.add("completes " + p);
                    p.future().complete("plain " + p.id);
                    settle(p, Outcome.of("plain " + p.id));
                } else {
                    IllegalArgumentException e = new IllegalArgumentException("plain " + p.id);
                    trace.add("fails " + p);
                    p.future().completeExceptionally(e);
                    settle(p, Outcome.failed(e, -1, false));
                }
                return;
            }
            Node n = any();
            if (n.minimal) {
                read(n);
                return;
            }
            CompletableFuture<Object> f = n.future();
            boolean pending = n.outcome == null;
            switch (random.nextInt(8)) {
                case 7 -> {
                    trace.add("completes " + n + " through completeAsync on a direct executor");
                    assertThat(f.completeAsync(() -> "supplied", Runnable::run)).isSameAs(f);
                    settle(n, Outcome.of("supplied"));
                }
                case 0 -> {
                    boolean interrupt = random.nextBoolean();
                    trace.add("cancels " + n + (interrupt ? " (may interrupt)" : ""));
                    assertThat(f.cancel(interrupt)).as(context("cancel of " + n)).isEqualTo(pending || n.outcome.raw); // true again if it holds a bare cancellation
                    settle(n, Outcome.failed(null, -1, true));
                }
                case 1 -> {
                    trace.add("completes " + n);
                    assertThat(f.complete("completed")).as(context("complete of " + n)).isEqualTo(pending);
                    settle(n, Outcome.of("completed"));
                }
                case 2 -> {
                    IllegalArgumentException e = new IllegalArgumentException("completed exceptionally " + n.id);
                    trace.add("completes exceptionally " + n);
                    assertThat(f.completeExceptionally(e)).as(context("completeExceptionally of " + n)).isEqualTo(pending);
                    settle(n, Outcome.failed(e, -1, false));
                }
                case 3 -> {
                    trace.add("obtrudes a value on " + n);
                    f.obtrudeValue("obtruded");
                    obtruded(n, Outcome.of("obtruded"));
                }
                case 4 -> {
                    IllegalArgumentException e = new IllegalArgumentException("obtruded " + n.id);
                    trace.add("obtrudes an exception on " + n);
                    f.obtrudeException(e);
                    obtruded(n, Outcome.failed(e, -1, false));
                }
                case 5 -> {
                    boolean expires = random.nextBoolean();
                    trace.add("sets an orTimeout on " + n + (expires ? " that expires" : ""));
                    assertThat(f.orTimeout(1, expires ? TimeUnit.NANOSECONDS : TimeUnit.HOURS)).isSameAs(f);
                    if (expires) {
                        settle(n, Outcome.failed(null, -1, false));
                    }
                }
                default -> {
                    boolean expires = random.nextBoolean();
                    trace.add("sets a completeOnTimeout on " + n + (expires ? " that expires" : ""));
                    assertThat(f.completeOnTimeout("timed out", 1, expires ? TimeUnit.NANOSECONDS : TimeUnit.HOURS)).isSameAs(f);
                    if (expires) {
                        settle(n, Outcome.of("timed out"));
                    }
                }
            }
        }

        /** {@code o} replaces {@code n}'s outcome; a pending {@code n} is settled by it, its dependents with it. */
        private void obtruded(Node n, Outcome o) {
            if (n.outcome == null) {
                settle(n, o);
            } else {
                n.outcome = o;
            }
        }

        /** A read of {@code n}: blocking ones only once the model holds it settled; each hands over the model's outcome. */
        private void read(Node n) {
            Outcome o = n.outcome;
            if (n.minimal) {
                int kind = random.nextInt(3);
                if (kind == 0) {
                    trace.add("joins the minimal " + n + ", refused");
                    assertThat(catchThrowable(() -> n.future().join())).as(context("join of " + n))
                            .isInstanceOf(UnsupportedOperationException.class);
                } else if (kind == 1) {
                    awaitRead(n, o);
                } else {
                    selectRead(n, o);
                }
                return;
            }
            CompletableFuture<Object> f = n.future();
            int kind = random.nextInt(9);
            if (kind == 8) {
                // reads nothing, whatever it finds
                CompletableFuture.State expected = o == null ? CompletableFuture.State.RUNNING : !o.failed ? CompletableFuture.State.SUCCESS
                        : o.raw ? CompletableFuture.State.CANCELLED : CompletableFuture.State.FAILED;
                trace.add("asks " + n + " for its state and whether it failed");
                assertThat(f.state()).as(context("state of " + n)).isEqualTo(expected);
                assertThat(f.isCompletedExceptionally()).as(context("isCompletedExceptionally of " + n)).isEqualTo(o != null && o.failed);
                return;
            }
            if (o == null) {
                switch (kind) {
                    case 0, 1 -> {
                        trace.add("polls " + n + " before its outcome");
                        assertThat(f.getNow("absent")).as(context("getNow of " + n)).isEqualTo("absent");
                    }
                    case 2 -> {
                        trace.add("gets " + n + " for a millisecond before its outcome");
                        assertThat(catchThrowable(() -> f.get(1, TimeUnit.MILLISECONDS))).as(context("timed get of " + n))
                                .isInstanceOf(TimeoutException.class);
                    }
                    case 3 -> {
                        trace.add("asks " + n + " for resultNow before its outcome");
                        assertThat(catchThrowable(f::resultNow)).as(context("resultNow of " + n)).isInstanceOf(IllegalStateException.class);
                    }
                    case 4 -> {
                        trace.add("asks " + n + " for exceptionNow before its outcome");
                        assertThat(catchThrowable(f::exceptionNow)).as(context("exceptionNow of " + n)).isInstanceOf(IllegalStateException.class);
                    }
                    case 5 -> awaitRead(n, null);
                    default -> selectRead(n, null);
                }
                return;
            }
            switch (kind) {
                case 0 -> {
                    trace.add("joins " + n);
                    Object[] v = new Object[1];
                    Throwable t = catchThrowable(() -> v[0] = f.join());
                    holds(n, o, t, v[0], "join");
                }
                case 1 -> {
                    trace.add("gets " + n);
                    Object[] v = new Object[1];
                    Throwable t = catchThrowable(() -> v[0] = f.get());
                    holds(n, o, t, v[0], "get");
                }
                case 2 -> {
                    trace.add("gets " + n + " within an hour");
                    Object[] v = new Object[1];
                    Throwable t = catchThrowable(() -> v[0] = f.get(1, TimeUnit.HOURS));
                    holds(n, o, t, v[0], "timed get");
                }
                case 3 -> {
                    trace.add("polls " + n);
                    Object[] v = new Object[1];
                    Throwable t = catchThrowable(() -> v[0] = f.getNow("absent"));
                    holds(n, o, t, v[0], "getNow");
                }
                case 4 -> {
                    trace.add("asks " + n + " for resultNow");
                    Object[] v = new Object[1];
                    Throwable t = catchThrowable(() -> v[0] = f.resultNow());
                    if (o.failed) {
                        assertThat(t).as(context("resultNow of " + n)).isInstanceOf(IllegalStateException.class);
                        handed(n, o, "resultNow");
                    } else {
                        assertThat(t).as(context("resultNow of " + n)).isNull();
                        assertThat(v[0]).as(context("resultNow of " + n)).isEqualTo(o.value);
                    }
                }
                case 5 -> {
                    trace.add("asks " + n + " for exceptionNow");
                    Object[] v = new Object[1];
                    Throwable t = catchThrowable(() -> v[0] = f.exceptionNow());
                    if (!o.failed || o.raw) {
                        assertThat(t).as(context("exceptionNow of " + n)).isInstanceOf(IllegalStateException.class);
                        if (o.failed) {
                            handed(n, o, "exceptionNow, refused on a bare cancellation,");
                        }
                    } else {
                        assertThat(t).as(context("exceptionNow of " + n)).isNull();
                        if (o.failure != null) {
                            assertThat(v[0]).as(context("exceptionNow of " + n)).isSameAs(o.failure);
                        }
                        handed(n, o, "exceptionNow");
                    }
                }
                case 6 -> awaitRead(n, o);
                default -> selectRead(n, o);
            }
        }

        /**
         * A read of {@code n}, which the model holds settled, by a body of the pool ({@code join}, {@code await}, a
         * select's {@code onComplete}): a read on another thread than the caller's, which hands over the same outcome.
         */
        private void readFromABody(Node n) {
            Outcome o = n.outcome;
            int kind = random.nextInt(n.minimal ? 2 : 3);
            String how = kind == 0 ? "await" : kind == 1 ? "onComplete" : "join";
            trace.add("reads " + n + " from a body of the pool (" + how + ")");
            CompletableFuture<Object[]> reader = pool.submit(() -> {
                Object[] read = new Object[2];
                read[1] = catchThrowable(() -> read[0] = switch (kind) {
                    case 0 -> Coroutine.await(n.stage);
                    case 1 -> new Select<Object>().onComplete(n.stage, x -> x).select();
                    default -> n.future().join();
                });
                return read;
            });
            Object[] read = Coroutine.withTimeout(GUARD, () -> Coroutine.await(reader));
            holds(n, o, (Throwable) read[1], read[0], how + " from a body");
        }

        /** An await of {@code n}: within a millisecond if the model holds it pending, which it then reads nothing of. */
        private void awaitRead(Node n, Outcome o) {
            if (o == null) {
                trace.add("awaits " + n + " for a millisecond before its outcome");
                assertThat(catchThrowable(() -> Coroutine.withTimeout(Duration.ofMillis(1), () -> Coroutine.await(n.stage))))
                        .as(context("await of " + n)).isInstanceOf(CoroutineTimeoutException.class);
                return;
            }
            trace.add("awaits " + n);
            Object[] v = new Object[1];
            Throwable t = catchThrowable(() -> v[0] = Coroutine.withTimeout(GUARD, () -> Coroutine.await(n.stage)));
            holds(n, o, t, v[0], "await");
        }

        /** A select of {@code n}'s {@code onComplete} clause: beside a default if the model holds it pending, which then fires. */
        private void selectRead(Node n, Outcome o) {
            if (o == null) {
                trace.add("selects on " + n + " with a default, before its outcome");
                assertThat(new Select<Object>().onComplete(n.stage, v -> "completed").onDefault(() -> "default").select())
                        .as(context("select of " + n)).isEqualTo("default");
                return;
            }
            trace.add("selects on " + n);
            Object[] v = new Object[1];
            Throwable t = catchThrowable(() -> v[0] = Coroutine.withTimeout(GUARD,
                    () -> new Select<Object>().onComplete(n.stage, x -> x).select()));
            holds(n, o, t, v[0], "onComplete");
        }

        /** A read of {@code n} threw {@code t} or gave {@code v}: the model's outcome {@code o}, handed over. */
        private void holds(Node n, Outcome o, Throwable t, Object v, String how) {
            if (!o.failed) {
                assertThat(t).as(context(how + " of " + n)).isNull();
                assertThat(v).as(context(how + " of " + n)).isEqualTo(o.value);
                return;
            }
            assertThat(t).as(context(how + " of " + n + ", which gave " + v)).isInstanceOfAny(CompletionException.class, ExecutionException.class,
                    CancellationException.class);
            if (o.failure != null) {
                assertThat(chain(t)).as(context(how + " of " + n + ": the failure it hands over")).anyMatch(e -> e == o.failure);
            }
            handed(n, o, how);
        }

        /** {@code t} and its causes, each once. */
        private static List<Throwable> chain(Throwable t) {
            List<Throwable> chain = new ArrayList<>();
            Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
            for (Throwable e = t; e != null && seen.add(e); e = e.getCause()) {
                chain.add(e);
            }
            return chain;
        }

        /** {@code close()} threw {@code thrown}: exactly the failures nothing was handed, in order, each once, or nothing. */
        private void check(String name, Throwable thrown) {
            List<Throwable> must = new ArrayList<>();
            List<Throwable> order = new ArrayList<>();
            for (Submission sub : submissions) {
                if (sub.thrown == null || sub.settledFirst) {
                    continue;
                }
                order.add(sub.thrown);
                if (!sub.seen) {
                    must.add(sub.thrown);
                }
            }
            trace.add("closes: expects " + must);
            if (thrown == null) {
                assertThat(must).as(context("the failures close() did not report")).isEmpty();
                return;
            }
            assertThat(thrown).as(context("what close() threw")).isExactlyInstanceOf(CoroutineException.class);
            List<Throwable> reported = new ArrayList<>();
            reported.add(thrown.getCause());
            reported.addAll(List.of(thrown.getCause().getSuppressed()));
            Set<Throwable> once = Collections.newSetFromMap(new IdentityHashMap<>());
            for (Throwable r : reported) {
                assertThat(once.add(r)).as(context("reported once: " + r)).isTrue();
                assertThat(must.contains(r)).as(context("a failure close() reported: " + r)).isTrue();
            }
            for (Throwable m : must) {
                assertThat(once.contains(m)).as(context("a failure close() did not report: " + m)).isTrue();
            }
            List<Throwable> inOrder = new ArrayList<>(order);
            inOrder.retainAll(reported);
            assertThat(reported).as(context("the report's order")).containsExactlyElementsOf(inOrder);
            int more = reported.size() - 1;
            assertThat(thrown.getMessage()).as(context("the report's message")).matches(Pattern.quote(name
                    + ": a coroutine failed and nobody observed it: coroutine 'coroutine-") + "\\d+" + Pattern.quote("' on thread '"
                    + name + "-0' (#" + PoolName.threadId(pool, 0) + "), running the body of submit #" + (indexOf(thrown.getCause()) + 1) + ", threw "
                    + thrown.getCause() + (more == 0 ? "" : "; " + more + " more failure" + (more == 1 ? "" : "s") + " suppressed")));
        }

        /** The submission whose body threw {@code thrown}, or -1. */
        private int indexOf(Throwable thrown) {
            for (Submission sub : submissions) {
                if (sub.thrown == thrown) {
                    return sub.index;
                }
            }
            return -1;
        }
    }
}
