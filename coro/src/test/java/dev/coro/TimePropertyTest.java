package dev.coro;

import static dev.coro.SchedulingPropertyTest.letter;
import static dev.coro.SchedulingPropertyTest.name;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine.State;
import dev.coro.SchedulingPropertyTest.Boom;
import dev.coro.Step.Close;
import dev.coro.Step.Create;
import dev.coro.Step.Script;
import dev.coro.Step.SwitchTo;
import dev.coro.Step.Throw;
import dev.coro.Step.Yield;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * Random programs with sleeps, channels, timeouts and selects run under {@link VirtualTime} on the
 * library and on a reference model of the scheduling and time rules give the same trace.
 *
 * <p>A program is a set of channel capacities and a {@link Script} for main; its steps are those of
 * {@link SchedulingPropertyTest} (yield, switchTo, close, throw, create) and the time and channel
 * steps: sleep, send, receive, tryReceive and trySend with a timeout, closing a channel, a
 * {@code withTimeout} block of steps, and a select. One interpreter ({@link Interp}) runs a program
 * against a {@link Runtime}: the library ({@link Real}) or the {@link Model}, which implements the
 * rules on plain lists, a sorted list of timers and its own hand-off between threads, sharing no
 * code with the library. After each step the interpreter notes who ran, the step, its outcome,
 * {@code currentId()}, {@code current()}, every coroutine's state, the virtual time and every
 * channel's fill and whether it is closed; the two traces must be equal, line for line.
 *
 * <p>Main's script runs as the body of {@link VirtualTime#run}, which then waits until every
 * coroutine has ended (or reports a deadlock and closes the rest); its outcome is the last line.
 */
class TimePropertyTest {

    /** How many channels a program has. */
    static final int CHANNELS = 2;

    // ---- programs ------------------------------------------------------------------------------

    /**
     * The time and channel steps, beside the scheduling steps of {@link Step} (yield, switchTo, close,
     * throw, create) that this test shares with {@link SchedulingPropertyTest}.
     */
    sealed interface TimeStep extends Step permits Sleep, Send, Receive, TryReceive, TrySend, CloseChannel, WithTimeout,
            SelectStep {}

    /** {@code Coroutine.sleep(ms)}. */
    record Sleep(int ms) implements TimeStep {
        @Override
        public String toString() {
            return "sleep(" + ms + ")";
        }
    }

    /** {@code channel.send(value)}. */
    record Send(int ch, int value) implements TimeStep {
        @Override
        public String toString() {
            return "send(ch" + ch + ", " + value + ")";
        }
    }

    /** {@code channel.receive()}. */
    record Receive(int ch) implements TimeStep {
        @Override
        public String toString() {
            return "receive(ch" + ch + ")";
        }
    }

    /** {@code channel.tryReceive(ms)}. */
    record TryReceive(int ch, int ms) implements TimeStep {
        @Override
        public String toString() {
            return "tryReceive(ch" + ch + ", " + ms + ")";
        }
    }

    /** {@code channel.trySend(value, ms)}. */
    record TrySend(int ch, int value, int ms) implements TimeStep {
        @Override
        public String toString() {
            return "trySend(ch" + ch + ", " + value + ", " + ms + ")";
        }
    }

    /** {@code channel.close()}. */
    record CloseChannel(int ch) implements TimeStep {
        @Override
        public String toString() {
            return "closeChannel(ch" + ch + ")";
        }
    }

    /** {@code Coroutine.withTimeout(ms, () -> steps)}: a nested block of the same body. */
    record WithTimeout(int ms, List<Step> steps) implements TimeStep {
        @Override
        public String toString() {
            return "withTimeout(" + ms + ")" + steps.stream().map(Step::toString)
                    .collect(Collectors.joining(", ", "{", "}"));
        }
    }

    /** A clause of a {@link SelectStep}. */
    sealed interface Clause permits OnReceive, OnSend, OnTimeout {}

    /** {@code onReceive(channel, ...)}. */
    record OnReceive(int ch) implements Clause {
        @Override
        public String toString() {
            return "onReceive(ch" + ch + ")";
        }
    }

    /** {@code onSend(channel, value, ...)}. */
    record OnSend(int ch, int value) implements Clause {
        @Override
        public String toString() {
            return "onSend(ch" + ch + ", " + value + ")";
        }
    }

    /** {@code onTimeout(ms, ...)}. */
    record OnTimeout(int ms) implements Clause {
        @Override
        public String toString() {
            return "onTimeout(" + ms + ")";
        }
    }

    /** A select over {@code clauses}, with an {@code onDefault} or not, biased or unbiased. */
    record SelectStep(List<Clause> clauses, boolean withDefault, boolean unbiased) implements TimeStep {
        @Override
        public String toString() {
            return (unbiased ? "selectUnbiased" : "select") + clauses + (withDefault ? "+default" : "");
        }
    }

    /** A program: the capacities of its channels and main's script. */
    record Program(List<Integer> capacities, Script main) {}

    @Provide
    Arbitrary<Program> programs() {
        return Combinators.combine(Arbitraries.of(0, 1, 2).list().ofSize(CHANNELS), script(2, 3, 12, false))
                .as(Program::new);
    }

    private static Arbitrary<Integer> millis() {
        return Arbitraries.of(0, 1, 2, 2, 3, 5);
    }

    private static Arbitrary<Integer> channel() {
        return Arbitraries.integers().between(0, CHANNELS - 1);
    }

    private static Arbitrary<Integer> value() {
        return Arbitraries.integers().between(1, 99);
    }

    /**
     * A script of {@code minSteps} to {@code maxSteps} steps, which create coroutines down to
     * {@code creates} levels; every body may nest withTimeout blocks two deep.
     */
    private static Arbitrary<Script> script(int creates, int minSteps, int maxSteps, boolean mayThrow) {
        Arbitrary<Boolean> swallows = mayThrow ? Arbitraries.of(false, false, false, true) : Arbitraries.just(false);
        return Combinators.combine(step(creates, 2, mayThrow).list().ofMinSize(minSteps).ofMaxSize(maxSteps), swallows)
                .as(Script::new);
    }

    private static Arbitrary<Step> step(int creates, int nesting, boolean mayThrow) {
        List<Tuple.Tuple2<Integer, Arbitrary<? extends Step>>> choices = new ArrayList<>();
        choices.add(Tuple.of(4, Arbitraries.just(new Yield())));
        choices.add(Tuple.of(2, Arbitraries.integers().between(0, 7).map(SwitchTo::new)));
        choices.add(Tuple.of(2, Arbitraries.integers().between(0, 7).map(Close::new)));
        if (mayThrow) {
            choices.add(Tuple.of(1, Arbitraries.just(new Throw())));
        }
        choices.add(Tuple.of(3, millis().map(Sleep::new)));
        choices.add(Tuple.of(3, Combinators.combine(channel(), value()).as(Send::new)));
        choices.add(Tuple.of(3, channel().map(Receive::new)));
        choices.add(Tuple.of(2, Combinators.combine(channel(), millis()).as(TryReceive::new)));
        choices.add(Tuple.of(2, Combinators.combine(channel(), value(), millis()).as(TrySend::new)));
        choices.add(Tuple.of(1, channel().map(CloseChannel::new)));
        choices.add(Tuple.of(3, select()));
        if (creates > 0) {
            choices.add(Tuple.of(5, Arbitraries.lazy(() -> script(creates - 1, 1, 6, true)).map(Create::new)));
        }
        if (nesting > 0) {
            choices.add(Tuple.of(3, Combinators.combine(millis(),
                    Arbitraries.lazy(() -> step(Math.min(creates, 1), nesting - 1, mayThrow)).list().ofMinSize(1).ofMaxSize(4))
                    .as(WithTimeout::new)));
        }
        @SuppressWarnings("unchecked")
        Tuple.Tuple2<Integer, Arbitrary<? extends Step>>[] array = choices.toArray(new Tuple.Tuple2[0]);
        return Arbitraries.frequencyOf(array);
    }

    private static Arbitrary<Step> select() {
        Arbitrary<Clause> clause = Arbitraries.frequencyOf(
                Tuple.of(3, channel().map(OnReceive::new)),
                Tuple.of(3, Combinators.combine(channel(), value()).as(OnSend::new)),
                Tuple.of(2, millis().map(OnTimeout::new)));
        return Combinators.combine(clause.list().ofMaxSize(3), Arbitraries.of(false, false, false, true),
                Arbitraries.of(false, true)).as(SelectStep::new);
    }

    // ---- the property --------------------------------------------------------------------------

    @Property(tries = 300)
    void underVirtualTimeTheLibraryRunsLikeTheModelOfTheRules(@ForAll("programs") Program program)
            throws InterruptedException {
        List<String> expected = Model.trace(program);
        List<String> actual = runOnFreshThread(program);
        assertThat(String.join("\n", actual)).isEqualTo(String.join("\n", expected));
    }

    /**
     * A program the random ones reach about once in many thousand tries: c2 hands a value to c1, its
     * creator, parked in a receive, closes the channel and fails; c1 keeps the value and the failure
     * for its next scheduling point, and throws first. Its exception takes no suppressed ones (a
     * {@link Boom}), so the kept failure is suppressed in the report main gets instead.
     */
    @Example
    void aFailureKeptByABodyWhoseOwnExceptionTakesNoSuppressedOnesIsInTheReportOfItsFailure()
            throws InterruptedException {
        Script c2 = new Script(List.of(new Send(0, 7), new CloseChannel(0), new Throw()), false);
        Script c1 = new Script(List.of(new Create(c2), new Receive(0), new Throw()), false);
        Program program = new Program(List.of(0, 0), new Script(List.of(new Create(c1)), false));
        List<String> expected = Model.trace(program);
        List<String> actual = runOnFreshThread(program);
        assertThat(String.join("\n", actual)).isEqualTo(String.join("\n", expected))
                .contains("CoroutineException(boom c1)[+CoroutineException(boom c2)]");
    }

    private static List<String> runOnFreshThread(Program program) throws InterruptedException {
        AtomicReference<List<String>> trace = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("property-try").unstarted(() -> trace.set(Real.trace(program)));
        t.start();
        t.join();
        return trace.get();
    }

    // ---- the interpreter, shared by both sides -------------------------------------------------

    /** What a program asks of a scheduler; implemented by the library and by the model. */
    interface Runtime {
        /** How many handles there are (main and every coroutine created). */
        int handles();

        void yieldNow();

        void switchTo(int k);

        void close(int k);

        /** Creates coroutine number {@code id} running {@code body}. */
        void create(int id, Runnable body);

        void sleep(int ms);

        void send(int ch, int value);

        int receive(int ch);

        /** The value; null if none came in time. */
        Integer tryReceive(int ch, int ms);

        boolean trySend(int ch, int value, int ms);

        void closeChannel(int ch);

        void withTimeout(int ms, Runnable body);

        /** Runs the select; says which clause fired and with what, e.g. {@code #1 got 7}, or {@code default}. */
        String select(SelectStep s);

        /** Runs {@code body} as the body of {@code VirtualTime.run}. */
        void runVirtual(Runnable body);

        /** The state every trace line ends with. */
        String snapshot();
    }

    /** Runs programs against a {@link Runtime} and writes the trace. */
    static final class Interp {
        final Runtime rt;
        final List<String> trace = new ArrayList<>();

        Interp(Runtime rt) {
            this.rt = rt;
        }

        void run(Program program) {
            try {
                rt.runVirtual(() -> {
                    note(0, "start");
                    steps(0, program.main().steps(), program.main());
                    note(0, "script done");
                });
                note(0, "VirtualTime.run -> ok");
            } catch (RuntimeException e) {
                note(0, "VirtualTime.run -> " + describe(e));
            }
        }

        void body(int self, Script script) {
            note(self, "start");
            try {
                steps(self, script.steps(), script);
            } finally {
                note(self, "end");
            }
        }

        private void steps(int self, List<Step> steps, Script script) {
            for (Step step : steps) {
                String label = label(step);
                String outcome;
                try {
                    outcome = perform(self, step, script);
                } catch (Boom e) {
                    throw e;
                } catch (RuntimeException e) {
                    outcome = describe(e);
                } catch (CoroutineExit e) {
                    note(self, label + " -> " + describe(e));
                    if (!script.swallowsExit()) {
                        throw e;
                    }
                    continue;
                }
                note(self, label + " -> " + outcome);
            }
        }

        private String label(Step step) {
            return switch (step) {
                case SwitchTo s -> "switchTo(" + name(s.target() % rt.handles()) + ")";
                case Close c -> "close(" + name(c.target() % rt.handles()) + ")";
                case Create c -> "create(" + name(rt.handles()) + ")";
                case WithTimeout w -> "withTimeout(" + w.ms() + ") }";
                default -> step.toString();
            };
        }

        private String perform(int self, Step step, Script script) {
            switch (step) {
                case Yield y -> rt.yieldNow();
                case SwitchTo s -> rt.switchTo(s.target() % rt.handles());
                case Close c -> rt.close(c.target() % rt.handles());
                case Throw t -> throw new Boom(self);
                case Create c -> {
                    int id = rt.handles();
                    rt.create(id, () -> body(id, c.body()));
                }
                case Sleep s -> rt.sleep(s.ms());
                case Send s -> rt.send(s.ch(), s.value());
                case Receive r -> {
                    return "got " + rt.receive(r.ch());
                }
                case TryReceive r -> {
                    Integer v = rt.tryReceive(r.ch(), r.ms());
                    return v == null ? "empty" : "got " + v;
                }
                case TrySend s -> {
                    return String.valueOf(rt.trySend(s.ch(), s.value(), s.ms()));
                }
                case CloseChannel c -> rt.closeChannel(c.ch());
                case WithTimeout w -> {
                    note(self, "withTimeout(" + w.ms() + ") {");
                    rt.withTimeout(w.ms(), () -> steps(self, w.steps(), script));
                }
                case SelectStep s -> {
                    return rt.select(s);
                }
            }
            return "ok";
        }

        void note(int self, String text) {
            trace.add(name(self) + ": " + text + " | " + rt.snapshot());
        }
    }

    /** An exception as the trace writes it, the same for the library's and the model's. */
    static String describe(Throwable e) {
        StringBuilder suppressed = new StringBuilder();
        for (Throwable s : e.getSuppressed()) {
            suppressed.append("[+").append(describe(s)).append("]");
        }
        String text = switch (e) {
            case CoroutineTimeoutException t -> "Timeout(" + t.timeout().toMillis() + "ms"
                    + (t.getCause() == null ? ", at once" : "") + ")";
            case CoroutineException ce -> (ce.getMessage().contains("while being closed")
                    ? "CoroutineException-closing(" : "CoroutineException(")
                    + (ce.getCause() instanceof Boom b ? b.getMessage() : String.valueOf(ce.getCause())) + ")";
            case CoroutineExit x -> "Exit(" + switch (x.isTimeout() ? x.timeoutScope() : x.source) {
                case TimeoutScope s -> "timeout@" + depth(s);
                case Model.Scope s -> "timeout@" + s.depth;
                default -> "close";
            } + ")";
            case DeadlockException d -> "Deadlock" + d.waits().stream().map(TimePropertyTest::waiter)
                    .collect(Collectors.joining(",", "[", "]"));
            case ChannelClosedException c -> "ChannelClosed";
            case IllegalStateException x -> "IllegalState";
            default -> String.valueOf(e);
        };
        return text + suppressed;
    }

    private static int depth(TimeoutScope s) {
        int d = 0;
        for (TimeoutScope p = s.parent; p != null; p = p.parent) {
            d++;
        }
        return d;
    }

    private static final Pattern QUOTED = Pattern.compile("'([^']*)'");

    /** A line of {@link DeadlockException#waits()} as the trace writes it: the name, starred for the caller. */
    private static String waiter(String line) {
        Matcher m = QUOTED.matcher(line);
        return (m.find() ? m.group(1) : line) + (line.contains(" would wait ") ? "*" : "");
    }

    // ---- the library ---------------------------------------------------------------------------

    /** The library as a {@link Runtime}. */
    static final class Real implements Runtime {
        private static final Pattern FILL = Pattern.compile("(\\d+) buffered, (open|closed)");

        final List<Coroutine> handles = new ArrayList<>();
        final List<Channel<Integer>> channels = new ArrayList<>();
        private final List<Integer> capacities;

        Real(List<Integer> capacities) {
            this.capacities = capacities;
        }

        /** Runs {@code program} on the library, on the calling thread, and returns its trace. */
        static List<String> trace(Program program) {
            Real real = new Real(program.capacities());
            Interp interp = new Interp(real);
            try {
                interp.run(program);
            } catch (Throwable e) {
                interp.trace.add("main crashed: " + e);
            }
            return interp.trace;
        }

        @Override
        public void runVirtual(Runnable body) {
            VirtualTime.run(() -> {
                handles.add(Coroutine.current());
                for (int k = 0; k < capacities.size(); k++) {
                    channels.add(new Channel<>("ch" + k, capacities.get(k)));
                }
                body.run();
            });
        }

        @Override
        public int handles() {
            return handles.size();
        }

        @Override
        public void yieldNow() {
            Coroutine.yield();
        }

        @Override
        public void switchTo(int k) {
            handles.get(k).switchTo();
        }

        @Override
        public void close(int k) {
            handles.get(k).close();
        }

        @Override
        public void create(int id, Runnable body) {
            handles.add(Coroutine.create(name(id), body));
        }

        @Override
        public void sleep(int ms) {
            Coroutine.sleep(Duration.ofMillis(ms));
        }

        @Override
        public void send(int ch, int value) {
            channels.get(ch).send(value);
        }

        @Override
        public int receive(int ch) {
            return channels.get(ch).receive();
        }

        @Override
        public Integer tryReceive(int ch, int ms) {
            return channels.get(ch).tryReceive(Duration.ofMillis(ms)).orElse(null);
        }

        @Override
        public boolean trySend(int ch, int value, int ms) {
            return channels.get(ch).trySend(value, Duration.ofMillis(ms));
        }

        @Override
        public void closeChannel(int ch) {
            channels.get(ch).close();
        }

        @Override
        public void withTimeout(int ms, Runnable body) {
            Coroutine.withTimeout(Duration.ofMillis(ms), body);
        }

        @Override
        public String select(SelectStep s) {
            Select<String> select = new Select<>();
            for (int k = 0; k < s.clauses().size(); k++) {
                String tag = "#" + k;
                switch (s.clauses().get(k)) {
                    case OnReceive r -> select.onReceive(channels.get(r.ch()), v -> tag + " got " + v);
                    case OnSend o -> select.onSend(channels.get(o.ch()), o.value(), () -> tag + " sent");
                    case OnTimeout t -> select.onTimeout(Duration.ofMillis(t.ms()), () -> tag + " timeout");
                }
            }
            if (s.withDefault()) {
                select.onDefault(() -> "default");
            }
            return s.unbiased() ? select.selectUnbiased() : select.select();
        }

        @Override
        public String snapshot() {
            StringBuilder b = new StringBuilder("id=").append(Coroutine.currentId())
                    .append(" cur=").append(Coroutine.current().name()).append(" states=");
            for (Coroutine h : handles) {
                State s = h.state();
                if (h.isFinished() != s.isTerminal()) {
                    throw new AssertionError(h + ": isFinished() disagrees with its state");
                }
                b.append(letter(s));
            }
            EventLoop loop = Scheduler.current().loop;
            b.append(" t=").append(loop.isVirtual() ? String.valueOf(Coroutine.nanoTime() / 1_000_000) : "-");
            b.append(" ch=");
            for (Channel<Integer> c : channels) {
                Matcher m = FILL.matcher(c.toString());
                if (!m.find()) {
                    throw new AssertionError("unexpected " + c);
                }
                b.append(m.group(1)).append(m.group(2).equals("open") ? "o" : "c");
            }
            return b.toString();
        }
    }

    // ---- the model -----------------------------------------------------------------------------

    /**
     * The rules (docs/SEMANTICS.md, and the class comments of {@link VirtualTime}, {@link Channel},
     * {@link Select} and {@link Coroutine#withTimeout}) as a reference scheduler: a run list of plain records, a list of timers
     * searched for the earliest (deadline, then order of scheduling), channels as deques, and a
     * virtual clock in milliseconds. Each context's body runs on a thread of its own, and exactly
     * one runs at a time: a transfer releases the target's baton and waits on its own, so the
     * interpreter's nested blocks and exceptions work as they do on the library.
     */
    static final class Model implements Runtime {

        /** What a parked context waits for. */
        interface Wait {
            /** Ends the wait without completing it: it leaves every queue and cancels its timers. */
            void interrupt();
        }

        /** A pending wake-up at {@link #deadline} (ms); equal deadlines expire in the order of {@link #seq}. */
        abstract static class Timer {
            long deadline;
            long seq;
            boolean pending;

            abstract void expire();
        }

        static final class Ctx {
            final int id;
            final Ctx creator;
            final Runnable body;
            final Semaphore baton = new Semaphore(0);
            State state;
            int index = -1;
            boolean closing;
            Ctx closer;
            Throwable pending;
            /**
             * What the body kept for a scheduling point that never came, when its own exception takes no
             * suppressed ones: suppressed in the report of its failure instead.
             */
            Throwable uncarried;
            Wait waitingFor;
            /** The innermost active withTimeout scope. */
            Scope scope;

            Ctx(int id, State state, Ctx creator, Runnable body) {
                this.id = id;
                this.state = state;
                this.creator = creator;
                this.body = body;
            }

            boolean ended() {
                return state == State.FINISHED || state == State.FAILED || state == State.CLOSED;
            }

            String describe() {
                return (id == 0 ? "main context '" : "coroutine '") + name(id) + "'";
            }
        }

        /** A withTimeout of a context: expired once its deadline passed. */
        final class Scope extends Timer {
            final Ctx ctx;
            final int ms;
            final Scope parent;
            final int depth;
            boolean expired;

            Scope(Ctx ctx, int ms, Scope parent) {
                this.ctx = ctx;
                this.ms = ms;
                this.parent = parent;
                this.depth = parent == null ? 0 : parent.depth + 1;
            }

            @Override
            void expire() {
                expired = true;
                if (ctx.state == State.PARKED && ctx.pending == null) {
                    ctx.pending = signal(this);
                    ctx.waitingFor.interrupt();
                    ctx.state = State.SUSPENDED;
                }
            }
        }

        static final class Chan {
            final int capacity;
            final ArrayDeque<Integer> buffer = new ArrayDeque<>();
            final ArrayDeque<Waiter> senders = new ArrayDeque<>();
            final ArrayDeque<Waiter> receivers = new ArrayDeque<>();
            boolean closed;

            Chan(int capacity) {
                this.capacity = capacity;
            }
        }

        /** A context waiting on a channel: a sender with its value, or a receiver to be handed one; or a select's clause. */
        final class Waiter implements Wait {
            final Chan ch;
            final boolean sender;
            final Ctx ctx;
            Integer value;
            boolean done;
            boolean closed;
            /** The select run and clause index, if a select's clause. */
            final SelectRun select;
            final int clause;

            Waiter(Chan ch, boolean sender, Ctx ctx, Integer value, SelectRun select, int clause) {
                this.ch = ch;
                this.sender = sender;
                this.ctx = ctx;
                this.value = value;
                this.select = select;
                this.clause = clause;
            }

            void complete(boolean byClose) {
                if (select != null) {
                    select.won(clause);
                }
                done = true;
                closed = byClose;
                ctx.state = State.SUSPENDED;
            }

            ArrayDeque<Waiter> queue() {
                return sender ? ch.senders : ch.receivers;
            }

            @Override
            public void interrupt() {
                queue().remove(this);
            }
        }

        /** One run of a select that waits: its registered clauses and which one won. */
        final class SelectRun implements Wait {
            final SelectStep step;
            final Object[] registered;
            int winner = -1;

            SelectRun(SelectStep step) {
                this.step = step;
                this.registered = new Object[step.clauses().size()];
            }

            void won(int k) {
                winner = k;
                for (int j = 0; j < registered.length; j++) {
                    if (j != k) {
                        unregister(j);
                    }
                }
            }

            void unregister(int j) {
                switch (registered[j]) {
                    case Waiter w -> w.queue().remove(w);
                    case Timer t -> cancel(t);
                    default -> throw new AssertionError(registered[j]);
                }
            }

            @Override
            public void interrupt() {
                for (int j = 0; j < registered.length; j++) {
                    unregister(j);
                }
            }
        }

        static final long SEED = Long.getLong("coro.seed", 0L);

        final List<Ctx> handles = new ArrayList<>();
        final List<Ctx> list = new ArrayList<>();
        final List<Chan> channels = new ArrayList<>();
        final List<Timer> timers = new ArrayList<>();
        final Ctx main = new Ctx(0, State.RUNNING, null, null);
        int i;
        long now;
        long scheduled;
        boolean virtual;
        long random;

        Model(List<Integer> capacities) {
            handles.add(main);
            for (int c : capacities) {
                channels.add(new Chan(c));
            }
        }

        /** Runs {@code program} on the model and returns its trace. */
        static List<String> trace(Program program) {
            Model model = new Model(program.capacities());
            Interp interp = new Interp(model);
            interp.run(program);
            return interp.trace;
        }

        private Ctx current() {
            return list.isEmpty() ? main : list.get(i);
        }

        @Override
        public int handles() {
            return handles.size();
        }

        @Override
        public String snapshot() {
            StringBuilder b = new StringBuilder("id=").append(list.isEmpty() ? 0 : i)
                    .append(" cur=").append(name(current().id)).append(" states=");
            for (Ctx h : handles) {
                b.append(letter(h.state));
            }
            b.append(" t=").append(virtual ? String.valueOf(now) : "-").append(" ch=");
            for (Chan c : channels) {
                b.append(c.buffer.size()).append(c.closed ? "c" : "o");
            }
            return b.toString();
        }

        // -- timers

        void schedule(Timer t, int ms) {
            t.deadline = now + ms;
            t.seq = scheduled++;
            t.pending = true;
            timers.add(t);
        }

        void cancel(Timer t) {
            if (t.pending) {
                t.pending = false;
                timers.remove(t);
            }
        }

        private Timer earliest() {
            Timer first = null;
            for (Timer t : timers) {
                if (first == null || t.deadline < first.deadline || (t.deadline == first.deadline && t.seq < first.seq)) {
                    first = t;
                }
            }
            return first;
        }

        /** Expires every due timer, earliest first. */
        void runDue() {
            for (Timer t = earliest(); t != null && t.deadline <= now; t = earliest()) {
                cancel(t);
                t.expire();
            }
        }

        /** A yield with nothing else to run: the clock jumps to the next timer, if any; then who runs now, if anyone. */
        private Ctx idleInYield(Ctx from) {
            if (!timers.isEmpty()) {
                idle();
            }
            checkSignals(from);
            return list.size() <= 1 ? null : previousRunnable(i - 1, list.size() - 1);
        }

        /** Whether no context but the running one could run: as a yield counts, main waiting in VirtualTime.run for the rest. */
        private boolean nothingElseRunnable() {
            int n = list.size();
            if (n <= 1) {
                return true;
            }
            Ctx other = previousRunnable(i - 1, n - 1);
            return other == null || other == main && mainAwaits && previousRunnable(n - 1, n - 1 - i) == null;
        }

        /** Whether main only waits in VirtualTime.run for the coroutines to end. */
        private boolean mainAwaits;

        /** Nothing can run: the clock jumps to the earliest timer, then what is due expires. */
        void idle() {
            now = Math.max(now, earliest().deadline);
            runDue();
        }

        // -- the run list

        private void add(Ctx c) {
            c.index = list.size();
            list.add(c);
        }

        /** Swap-remove; if the current context was the last entry and moved, {@code i} follows it. */
        private int remove(Ctx c) {
            int k = c.index;
            int last = list.size() - 1;
            Ctx moved = list.remove(last);
            if (moved != c) {
                list.set(k, moved);
                moved.index = k;
            }
            if (i == last && k != i) {
                i = k;
            }
            c.index = -1;
            return k;
        }

        /** The first entry not parked among {@code count} entries counted backwards from {@code start}, wrapping. */
        private Ctx previousRunnable(int start, int count) {
            int n = list.size();
            int k = start < 0 ? start + n : start;
            for (int s = 0; s < count; s++) {
                Ctx c = list.get(k);
                if (c.state != State.PARKED) {
                    return c;
                }
                k = k == 0 ? n - 1 : k - 1;
            }
            return null;
        }

        // -- moving control

        private void transfer(Ctx from, Ctx to, State fromBecomes) {
            boolean start = to.state == State.NEW;
            from.state = fromBecomes;
            to.state = State.RUNNING;
            i = to.index;
            handOff(to, start);
            from.baton.acquireUninterruptibly();
            resumed(from);
        }

        private void handOff(Ctx to, boolean start) {
            if (start) {
                Thread.ofVirtual().name("model-" + name(to.id)).start(() -> runBody(to));
            } else {
                to.baton.release();
            }
        }

        private static void resumed(Ctx c) {
            Throwable p = c.pending;
            if (p != null) {
                c.pending = null;
                if (p instanceof Error e) {
                    throw e;
                }
                throw (RuntimeException) p;
            }
        }

        private void runBody(Ctx c) {
            Throwable thrown = null;
            try {
                c.body.run();
            } catch (Throwable t) {
                thrown = t;
            }
            Throwable kept = c.pending; // kept for a scheduling point that never came: the body ends by it
            if (kept != null) {
                c.pending = null;
                if (thrown == null || endsClosed(c, thrown)) {
                    thrown = kept; // the body would end cleanly: nothing would carry it
                } else if (thrown != kept && !Scheduler.addedAsSuppressed(thrown, kept)) {
                    c.uncarried = kept;
                }
            }
            bodyEnded(c, thrown);
        }

        /** Whether {@code thrown}, out of {@code c}'s body, ends it {@code CLOSED}: its close's or a timeout's signal. */
        private static boolean endsClosed(Ctx c, Throwable thrown) {
            return thrown instanceof CoroutineExit x && (c.closing || x.source != c);
        }

        private void bodyEnded(Ctx c, Throwable thrown) {
            boolean closing = c.closing;
            State ending;
            if (thrown == null) {
                ending = closing ? State.CLOSED : State.FINISHED;
            } else if (endsClosed(c, thrown)) {
                ending = State.CLOSED;
            } else {
                ending = State.FAILED;
            }
            c.state = ending;
            int k = remove(c);
            Ctx next;
            if (closing) {
                boolean clean = ending == State.CLOSED;
                if (c.closer != null && !c.closer.ended()) {
                    next = c.closer;
                } else if (!clean || main.state != State.PARKED) {
                    next = main;
                } else {
                    next = previousRunnableOrMain(c, k);
                }
                if (!clean) {
                    leave(next, failure(c, thrown));
                }
            } else if (ending == State.FINISHED) {
                next = previousRunnableOrMain(c, k);
            } else {
                Ctx creator = c.creator;
                next = !creator.ended() && creator.state != State.PARKED ? creator : main;
                leave(next, failure(c, thrown));
            }
            boolean start = next.state == State.NEW;
            i = next.index;
            next.state = State.RUNNING;
            handOff(next, start);
        }

        private Ctx previousRunnableOrMain(Ctx ended, int k) {
            Ctx next;
            while ((next = previousRunnable(k - 1, list.size())) == null && !timers.isEmpty()) {
                idle();
            }
            if (next != null) {
                return next;
            }
            leave(main, deadlock(ended.describe() + " ended and every context left is parked", null));
            return main;
        }

        private static CoroutineException failure(Ctx c, Throwable thrown) {
            CoroutineException report = new CoroutineException(c.describe()
                    + (c.closing ? " failed while being closed: " : " failed: ") + thrown, thrown);
            if (c.uncarried != null) {
                report.addSuppressed(c.uncarried);
                c.uncarried = null;
            }
            return report;
        }

        /** A timeout's signal pending for {@code target} gives way to {@code e}: its scope stays expired. */
        private static void leave(Ctx target, RuntimeException e) {
            if (target.pending == null || target.pending instanceof CoroutineExit x && x.source instanceof Scope) {
                target.pending = e;
            } else {
                target.pending.addSuppressed(e);
            }
        }

        private DeadlockException deadlock(String headline, Ctx caller) {
            List<String> waits = new ArrayList<>();
            for (Ctx c : list.isEmpty() ? List.of(main) : list) {
                if (c == caller) {
                    waits.add(c.describe() + " would wait to do something");
                } else if (c.state == State.PARKED) {
                    waits.add(c.describe() + " waits to do something");
                }
            }
            return new DeadlockException(headline, waits);
        }

        // -- signals

        /**
         * At a scheduling point: what a completed wait kept for it ({@link #keep}), else the exit
         * signal if closing, else the signal of the outermost expired scope.
         */
        private void checkSignals(Ctx c) {
            resumed(c);
            throwSignalIfAny(c);
        }

        /** The exit signal if {@code c} is closing, else the signal of its outermost expired scope, if any. */
        private static void throwSignalIfAny(Ctx c) {
            if (c.closing) {
                throw exit(c);
            }
            Scope outermost = outermostExpired(c.scope);
            if (outermost != null) {
                throw signal(outermost);
            }
        }

        /** The outermost expired scope from {@code innermost} outwards; null if none has expired. */
        private static Scope outermostExpired(Scope innermost) {
            Scope outermost = null;
            for (Scope s = innermost; s != null; s = s.parent) {
                if (s.expired) {
                    outermost = s;
                }
            }
            return outermost;
        }

        /**
         * {@code t} ended the wait of {@code c}, which keeps what it was handed (a value, on a channel
         * closed since): {@code t} comes at its next scheduling point; a close's or a timeout's signal
         * comes there by itself.
         */
        private static void keep(Ctx c, Throwable t) {
            if (!(t instanceof CoroutineExit && (c.closing || outermostExpired(c.scope) != null))) {
                c.pending = t;
            }
        }

        private static CoroutineExit exit(Ctx c) {
            return new CoroutineExit(c, c.describe() + " is being closed");
        }

        private static CoroutineExit signal(Scope s) {
            return new CoroutineExit(s, s.ctx.describe() + ": its withTimeout(" + s.ms + "ms) expired");
        }

        /**
         * Parks the current context on {@code wait}: due timers expire, then the previous runnable
         * context runs; if none, the parker itself if a timer woke it, else the clock jumps to the next
         * timer; with no timer, a deadlock (the caller does not park).
         */
        private void park(Wait wait) {
            Ctx from = current();
            checkSignals(from);
            from.waitingFor = wait;
            try {
                from.state = State.PARKED;
                runDue();
                while (true) {
                    Ctx to = list.size() <= 1 ? null : previousRunnable(i - 1, list.size() - 1);
                    if (to != null) {
                        State becomes = from.state;
                        transfer(from, to, becomes);
                        return;
                    }
                    if (from.state != State.PARKED) {
                        from.state = State.RUNNING;
                        resumed(from);
                        return;
                    }
                    if (timers.isEmpty()) {
                        from.state = State.RUNNING;
                        throw deadlock(from.describe() + " cannot wait", from);
                    }
                    idle();
                }
            } finally {
                from.waitingFor = null;
            }
        }

        // -- the operations

        @Override
        public void runVirtual(Runnable body) {
            virtual = true;
            now = 0;
            random = SEED;
            try {
                body.run();
                mainAwaits = true;
                try {
                    while (list.size() > 1) {
                        if (timers.isEmpty() && previousRunnable(i - 1, list.size() - 1) == null) {
                            throw deadlock("VirtualTime.run cannot return", null);
                        }
                        yieldNow();
                    }
                } finally {
                    mainAwaits = false;
                }
                resumed(main); // what a completed wait of main kept for a scheduling point that never came
            } catch (RuntimeException | Error t) {
                // every coroutine left, and those their finally blocks create, each closed once
                Set<Ctx> tried = Collections.newSetFromMap(new IdentityHashMap<>());
                boolean found = true;
                while (found) {
                    found = false;
                    for (Ctx c : list.isEmpty() ? List.of(main) : List.copyOf(list)) {
                        if (c != main && !c.ended() && tried.add(c)) {
                            found = true;
                            try {
                                close(c);
                            } catch (RuntimeException | Error e) {
                                t.addSuppressed(e);
                            }
                        }
                    }
                }
                throw t;
            } finally {
                timers.clear();
                virtual = false;
            }
        }

        @Override
        public void yieldNow() {
            runDue();
            int n = list.size();
            if (n <= 1) {
                if (!timers.isEmpty()) {
                    idle();
                }
                checkSignals(main);
                return;
            }
            Ctx from = list.get(i);
            checkSignals(from);
            Ctx to = previousRunnable(i - 1, n - 1);
            if (to == main && mainAwaits && previousRunnable(n - 1, n - 1 - i) == null) {
                // main only waits in VirtualTime.run for the rest: a yield that finds nothing else is an idle point
                to = idleInYield(from);
            }
            if (to == null && (to = idleInYield(from)) == null) {
                return;
            }
            transfer(from, to, State.SUSPENDED);
        }

        @Override
        public void switchTo(int k) {
            runDue();
            Ctx from = current();
            checkSignals(from);
            Ctx to = handles.get(k);
            if (to == from) {
                if (!timers.isEmpty() && nothingElseRunnable()) {
                    // a switch to itself with nothing else to run is an idle point, as such a yield is
                    idle();
                    checkSignals(from);
                }
                return;
            }
            if (to.state != State.SUSPENDED && to.state != State.NEW) {
                throw new IllegalStateException("cannot switchTo " + to.describe() + ": it is " + to.state);
            }
            transfer(from, to, State.SUSPENDED);
        }

        @Override
        public void close(int k) {
            close(handles.get(k));
        }

        private void close(Ctx target) {
            if (target.ended()) {
                return;
            }
            Ctx from = current();
            if (target == main || target == from) {
                throw new IllegalStateException("cannot close " + target.describe());
            }
            if (target.state == State.NEW) {
                remove(target);
                target.state = State.CLOSED;
                return;
            }
            target.closing = true;
            target.closer = from;
            target.pending = exit(target);
            transfer(from, target, State.SUSPENDED);
        }

        @Override
        public void create(int id, Runnable body) {
            if (list.isEmpty()) {
                add(main);
                i = 0;
            }
            Ctx co = new Ctx(id, State.NEW, current(), body);
            handles.add(co);
            add(co);
        }

        /** A sleep's timer: wakes its context if it still sleeps on it. */
        final class SleepTimer extends Timer implements Wait {
            final Ctx ctx;

            SleepTimer(Ctx ctx) {
                this.ctx = ctx;
            }

            @Override
            void expire() {
                if (ctx.state == State.PARKED && ctx.waitingFor == this) {
                    ctx.state = State.SUSPENDED;
                }
            }

            @Override
            public void interrupt() {
            }
        }

        @Override
        public void sleep(int ms) {
            if (ms <= 0) {
                return;
            }
            SleepTimer t = new SleepTimer(current());
            schedule(t, ms);
            try {
                park(t);
            } finally {
                cancel(t);
            }
        }

        @Override
        public void withTimeout(int ms, Runnable body) {
            Ctx self = current();
            Duration d = Duration.ofMillis(ms);
            if (ms == 0) {
                throwSignalIfAny(self); // what a scheduling point would throw comes first; only then a timeout of its own
                throw new CoroutineTimeoutException(self.describe(), d, null);
            }
            Scope scope = new Scope(self, ms, self.scope);
            schedule(scope, ms);
            self.scope = scope;
            try {
                body.run();
            } catch (CoroutineExit e) {
                if (e.source != scope) {
                    throw e;
                }
                Scope outer = outermostExpired(scope.parent);
                if (outer != null) {
                    throw signal(outer);
                }
                throw new CoroutineTimeoutException(self.describe(), d, e);
            } finally {
                cancel(scope);
                self.scope = scope.parent;
            }
        }

        /** Hands {@code v} to the oldest receiver or buffers it, on an open channel; false if neither can be done. */
        private boolean offer(Chan c, int v) {
            Waiter r = c.receivers.poll();
            if (r != null) {
                r.value = v;
                r.complete(false);
                return true;
            }
            if (c.buffer.size() < c.capacity) {
                c.buffer.add(v);
                return true;
            }
            return false;
        }

        /** Takes the oldest value (refilling the buffer from the oldest sender); null if none. */
        private Integer poll(Chan c) {
            Integer v = c.buffer.poll();
            if (v != null && c.buffer.size() >= c.capacity) {
                return v; // a value given back overfilled it: still full, no sender's value joins it
            }
            Waiter s = c.senders.poll();
            if (s == null) {
                return v;
            }
            if (v == null) {
                v = s.value;
            } else {
                c.buffer.add(s.value);
            }
            s.complete(false);
            return v;
        }

        /**
         * A wait ended without completing: the waiter leaves its queue, or a value it was handed goes
         * back; on a closed channel it keeps the value (true).
         */
        private boolean giveUp(Waiter w) {
            if (!w.done) {
                w.queue().remove(w);
            } else if (!w.sender && w.value != null) {
                if (!giveBack(w.ch, w.value)) {
                    return true;
                }
                w.value = null;
            }
            return false;
        }

        /**
         * A value handed to a receiver whose wait then ended: the oldest waiting receiver takes it, else
         * the buffer's head; nothing goes back into a closed channel (false: the receiver keeps it).
         */
        private boolean giveBack(Chan c, int v) {
            if (c.closed) {
                return false;
            }
            Waiter r = c.receivers.poll();
            if (r != null) {
                r.value = v;
                r.complete(false);
            } else {
                c.buffer.addFirst(v);
            }
            return true;
        }

        private void await(Waiter w) {
            try {
                park(w);
            } catch (RuntimeException | Error t) {
                if (!giveUp(w)) {
                    throw t;
                }
                keep(w.ctx, t);
            }
        }

        private boolean awaitAtMost(Waiter w, int ms) {
            Timer expiry = new Timer() {
                @Override
                void expire() {
                    if (!w.done && w.ctx.state == State.PARKED) {
                        w.queue().remove(w);
                        w.ctx.state = State.SUSPENDED;
                    }
                }
            };
            schedule(expiry, ms);
            try {
                park(w);
            } catch (RuntimeException | Error t) {
                if (!giveUp(w)) {
                    throw t;
                }
                keep(w.ctx, t);
            } finally {
                cancel(expiry);
            }
            return w.done;
        }

        @Override
        public void send(int ch, int value) {
            Chan c = channels.get(ch);
            if (c.closed) {
                throw new ChannelClosedException("closed", null);
            }
            if (offer(c, value)) {
                return;
            }
            Waiter w = new Waiter(c, true, current(), value, null, -1);
            c.senders.add(w);
            await(w);
            if (w.closed) {
                throw new ChannelClosedException("closed while waiting", null);
            }
        }

        @Override
        public int receive(int ch) {
            Chan c = channels.get(ch);
            Integer v = poll(c);
            if (v == null && !c.closed) {
                Waiter w = new Waiter(c, false, current(), null, null, -1);
                c.receivers.add(w);
                await(w);
                v = w.value;
            }
            if (v == null) {
                throw new ChannelClosedException("closed and drained", null);
            }
            return v;
        }

        @Override
        public Integer tryReceive(int ch, int ms) {
            Chan c = channels.get(ch);
            Integer v = poll(c);
            if (v != null || c.closed || ms == 0) {
                return v;
            }
            Waiter w = new Waiter(c, false, current(), null, null, -1);
            c.receivers.add(w);
            return awaitAtMost(w, ms) && !w.closed ? w.value : null;
        }

        @Override
        public boolean trySend(int ch, int value, int ms) {
            Chan c = channels.get(ch);
            if (c.closed) {
                return false;
            }
            if (offer(c, value)) {
                return true;
            }
            if (ms == 0) {
                return false;
            }
            Waiter w = new Waiter(c, true, current(), value, null, -1);
            c.senders.add(w);
            return awaitAtMost(w, ms) && !w.closed;
        }

        @Override
        public void closeChannel(int ch) {
            Chan c = channels.get(ch);
            if (c.closed) {
                return;
            }
            c.closed = true;
            for (Waiter w; (w = c.receivers.poll()) != null; ) {
                w.complete(true);
            }
            for (Waiter w; (w = c.senders.poll()) != null; ) {
                w.complete(true);
            }
        }

        private int nextRandom(int bound) {
            long z = (random += 0x9E3779B97F4A7C15L);
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z ^= z >>> 31;
            return (int) ((z >>> 33) % bound);
        }

        private boolean ready(Clause clause) {
            return switch (clause) {
                case OnReceive r -> {
                    Chan c = channels.get(r.ch());
                    yield !c.buffer.isEmpty() || !c.senders.isEmpty() || c.closed;
                }
                case OnSend o -> {
                    Chan c = channels.get(o.ch());
                    yield c.closed || !c.receivers.isEmpty() || c.buffer.size() < c.capacity;
                }
                case OnTimeout t -> t.ms() == 0;
            };
        }

        @Override
        public String select(SelectStep s) {
            List<Clause> clauses = s.clauses();
            if (clauses.isEmpty() && !s.withDefault()) {
                throw new IllegalStateException("no clause");
            }
            List<Integer> ready = new ArrayList<>();
            for (int k = 0; k < clauses.size(); k++) {
                if (ready(clauses.get(k))) {
                    ready.add(k);
                }
            }
            if (!ready.isEmpty()) {
                int k = ready.get(s.unbiased() ? nextRandom(ready.size()) : 0);
                String tag = "#" + k;
                return switch (clauses.get(k)) {
                    case OnReceive r -> {
                        Integer v = poll(channels.get(r.ch()));
                        if (v == null) {
                            throw new ChannelClosedException("onReceive fired on a closed and drained channel", null);
                        }
                        yield tag + " got " + v;
                    }
                    case OnSend o -> {
                        Chan c = channels.get(o.ch());
                        if (c.closed || !offer(c, o.value())) {
                            throw new ChannelClosedException("onSend fired on a closed channel", null);
                        }
                        yield tag + " sent";
                    }
                    case OnTimeout t -> tag + " timeout";
                };
            }
            if (s.withDefault()) {
                return "default";
            }
            Ctx self = current();
            SelectRun run = new SelectRun(s);
            for (int k = 0; k < clauses.size(); k++) {
                int clause = k;
                switch (clauses.get(k)) {
                    case OnReceive r -> {
                        Waiter w = new Waiter(channels.get(r.ch()), false, self, null, run, k);
                        run.registered[k] = w;
                        w.queue().add(w);
                    }
                    case OnSend o -> {
                        Waiter w = new Waiter(channels.get(o.ch()), true, self, o.value(), run, k);
                        run.registered[k] = w;
                        w.queue().add(w);
                    }
                    case OnTimeout t -> {
                        Timer timer = new Timer() {
                            @Override
                            void expire() {
                                if (self.state == State.PARKED) {
                                    run.won(clause);
                                    self.state = State.SUSPENDED;
                                }
                            }
                        };
                        run.registered[k] = timer;
                        schedule(timer, t.ms());
                    }
                }
            }
            try {
                park(run);
            } catch (RuntimeException | Error t) {
                int w = run.winner;
                run.interrupt();
                if (!(w >= 0 && run.registered[w] instanceof Waiter r && !r.sender && r.value != null && !r.closed
                        && !giveBack(r.ch, r.value))) {
                    throw t;
                }
                keep(self, t); // its clause keeps the value it was handed: it fires
            }
            int k = run.winner;
            String tag = "#" + k;
            return switch (run.registered[k]) {
                case Waiter w when w.closed -> throw new ChannelClosedException("clause fired on a closed channel", null);
                case Waiter w when w.sender -> tag + " sent";
                case Waiter w -> tag + " got " + w.value;
                default -> tag + " timeout";
            };
        }
    }
}
