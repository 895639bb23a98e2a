package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine.State;
import dev.coro.Step.Close;
import dev.coro.Step.Create;
import dev.coro.Step.Script;
import dev.coro.Step.SwitchTo;
import dev.coro.Step.Throw;
import dev.coro.Step.Yield;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * Random programs run on the library and on a reference model of docs/SEMANTICS.md give the same trace.
 *
 * <p>A program is a {@link Script} for main: a list of {@link Step}s, where a {@link Create} step
 * carries the script of the new coroutine (so coroutines create coroutines). Each coroutine's body
 * interprets its script one step at a time; after each step it notes who ran, the step, how it
 * ended (normally, or which exception surfaced there), {@code currentId()}, {@code current()} and
 * the state of every coroutine. When main's script is done, main closes every coroutine still
 * alive, oldest first. The {@link Model} interprets the same script by the rules alone, without
 * stacks; the two traces must be equal, line for line.
 *
 * <p>Each try runs on a fresh thread, so it starts with a fresh scheduler: a platform thread, and
 * in a second property a virtual one.
 */
class SchedulingPropertyTest {

    // ---- programs ------------------------------------------------------------------------------

    // The steps and the script of a body are the records of Step, shared with TimePropertyTest.

    /** What a {@link Throw} step throws: names the coroutine that threw. */
    static final class Boom extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int id;

        Boom(int id) {
            super("boom c" + id, null, false, false);
            this.id = id;
        }
    }

    @Provide
    Arbitrary<Script> programs() {
        return script(3, 12, false);
    }

    private static Arbitrary<Script> script(int depth, int maxSteps, boolean mayThrow) {
        List<Tuple.Tuple2<Integer, Arbitrary<? extends Step>>> choices = new ArrayList<>();
        choices.add(Tuple.of(5, Arbitraries.just(new Yield())));
        choices.add(Tuple.of(3, Arbitraries.integers().between(0, 7).map(SwitchTo::new)));
        choices.add(Tuple.of(2, Arbitraries.integers().between(0, 7).map(Close::new)));
        if (mayThrow) {
            choices.add(Tuple.of(1, Arbitraries.just(new Throw())));
        }
        if (depth > 0) {
            choices.add(Tuple.of(3, Arbitraries.lazy(() -> script(depth - 1, 6, true)).map(Create::new)));
        }
        @SuppressWarnings("unchecked")
        Tuple.Tuple2<Integer, Arbitrary<? extends Step>>[] array = choices.toArray(new Tuple.Tuple2[0]);
        Arbitrary<Step> step = Arbitraries.frequencyOf(array);
        Arbitrary<Boolean> swallows = mayThrow ? Arbitraries.of(false, false, true) : Arbitraries.just(false);
        return Combinators.combine(step.list().ofMaxSize(maxSteps), swallows).as(Script::new);
    }

    // ---- the property --------------------------------------------------------------------------

    @Property(tries = 1000)
    void theLibraryInterleavesLikeTheModelOfTheSemantics(@ForAll("programs") Script program) throws InterruptedException {
        List<String> expected = new Model().run(program);
        List<String> actual = runOnFreshThread(Thread.ofPlatform(), program);
        assertThat(String.join("\n", actual)).isEqualTo(String.join("\n", expected));
    }

    /** Coroutines of a virtual thread are continuations nested in the virtual thread's own. */
    @Property(tries = 250)
    void onAVirtualThreadTheLibraryInterleavesLikeTheModelToo(@ForAll("programs") Script program)
            throws InterruptedException {
        List<String> expected = new Model().run(program);
        List<String> actual = runOnFreshThread(Thread.ofVirtual(), program);
        assertThat(String.join("\n", actual)).isEqualTo(String.join("\n", expected));
    }

    private static List<String> runOnFreshThread(Thread.Builder builder, Script program) throws InterruptedException {
        AtomicReference<List<String>> trace = new AtomicReference<>();
        Thread t = builder.name("property-try").unstarted(() -> {
            Real real = new Real();
            try {
                real.run(program);
            } catch (Throwable e) {
                real.trace.add("main crashed: " + e);
            }
            trace.set(real.trace);
        });
        t.start();
        t.join();
        return trace.get();
    }

    // ---- outcomes, written the same way by both sides ------------------------------------------

    static String letter(State s) {
        return switch (s) {
            case NEW -> "N";
            case RUNNING -> "R";
            case SUSPENDED -> "S";
            case PARKED -> "P";
            case FINISHED -> "F";
            case FAILED -> "X";
            case CLOSED -> "C";
        };
    }

    static String name(int id) {
        return id == 0 ? "main" : "c" + id;
    }

    /** A step as the trace writes it: with the target it resolved to when it started. */
    static String label(Step step, int handles) {
        return switch (step) {
            case SwitchTo s -> "switchTo(" + name(s.target() % handles) + ")";
            case Close c -> "close(" + name(c.target() % handles) + ")";
            default -> step.toString();
        };
    }

    static String line(int self, String text, int currentId, String currentName, String states) {
        return name(self) + ": " + text + " | id=" + currentId + " cur=" + currentName + " states=" + states;
    }

    // ---- the library ---------------------------------------------------------------------------

    /** Runs a program on the library, on the calling thread. */
    static final class Real {
        final List<String> trace = new ArrayList<>();
        final List<Coroutine> handles = new ArrayList<>();

        void run(Script program) {
            handles.add(Coroutine.current());
            note(0, "start");
            steps(0, program);
            drain();
        }

        private void drain() {
            for (int k = firstAlive(); k > 0; k = firstAlive()) {
                String outcome = "ok";
                try {
                    handles.get(k).close();
                } catch (RuntimeException e) {
                    outcome = describe(e);
                }
                note(0, "drain close(" + name(k) + ") -> " + outcome);
            }
        }

        private int firstAlive() {
            for (int k = 1; k < handles.size(); k++) {
                if (!handles.get(k).isFinished()) {
                    return k;
                }
            }
            return -1;
        }

        private void body(int self, Script script) {
            note(self, "start");
            try {
                steps(self, script);
            } finally {
                note(self, "end");
            }
        }

        private void steps(int self, Script script) {
            for (Step step : script.steps()) {
                String label = label(step, handles.size());
                String outcome = "ok";
                try {
                    perform(self, step);
                } catch (CoroutineException | IllegalStateException e) {
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

        private void perform(int self, Step step) {
            switch (step) {
                case Yield y -> Coroutine.yield();
                case SwitchTo s -> handles.get(s.target() % handles.size()).switchTo();
                case Close c -> handles.get(c.target() % handles.size()).close();
                case Throw t -> throw new Boom(self);
                case Create c -> {
                    int id = handles.size();
                    handles.add(Coroutine.create(name(id), () -> body(id, c.body())));
                }
                case TimePropertyTest.TimeStep t -> throw new AssertionError("not a step of these programs: " + t);
            }
        }

        private void note(int self, String text) {
            StringBuilder states = new StringBuilder();
            for (Coroutine h : handles) {
                State s = h.state();
                if (h.isFinished() != s.isTerminal()) {
                    throw new AssertionError(h + ": isFinished() disagrees with its state");
                }
                states.append(letter(s));
            }
            trace.add(line(self, text, Coroutine.currentId(), Coroutine.current().name(), states.toString()));
        }

        static String describe(Throwable e) {
            String suppressed = "";
            for (Throwable s : e.getSuppressed()) {
                suppressed += "[+" + describe(s) + "]";
            }
            return switch (e) {
                case CoroutineException ce -> (ce.getMessage().contains("while being closed")
                        ? "CoroutineException-closing(" : "CoroutineException(")
                        + (ce.getCause() instanceof Boom b ? b.getMessage() : String.valueOf(ce.getCause()))
                        + ")" + suppressed;
                case CoroutineExit x -> "CoroutineExit" + suppressed;
                case IllegalStateException x -> "IllegalStateException";
                default -> String.valueOf(e);
            };
        }
    }

    // ---- the model -----------------------------------------------------------------------------

    /**
     * docs/SEMANTICS.md as an interpreter of scripts: a run list of plain records, no stacks. Each
     * context remembers the step it is suspended in; resuming it completes that step.
     */
    static final class Model {

        /** A thrown exception, as the trace writes it. */
        record Thrown(String kind, boolean exit) {
            Thrown withSuppressed(Thrown s) {
                return new Thrown(kind + "[+" + s.kind + "]", exit);
            }
        }

        static final Thrown ISE = new Thrown("IllegalStateException", false);
        static final Thrown EXIT = new Thrown("CoroutineExit", true);

        static final class Ctx {
            final int id;
            final Script script;
            State state;
            final Ctx creator;
            int index = -1;
            boolean closing;
            Ctx closer;
            Thrown pending;
            /** The step it runs or is suspended in; past the end: main drains. */
            int pc;
            /** Main while draining: the coroutine it is closing. */
            int drainTarget;
            /** The step it runs or is suspended in, as the trace writes it. */
            String label;

            Ctx(int id, Script script, State state, Ctx creator) {
                this.id = id;
                this.script = script;
                this.state = state;
                this.creator = creator;
            }

            boolean ended() {
                return state == State.FINISHED || state == State.FAILED || state == State.CLOSED;
            }
        }

        /** Where control goes: {@code ctx} runs, starting its body or resuming its suspended step. */
        record Go(Ctx ctx, boolean start) {}

        final List<String> trace = new ArrayList<>();
        final List<Ctx> handles = new ArrayList<>();
        final List<Ctx> list = new ArrayList<>();
        int i;
        Ctx main;

        List<String> run(Script program) {
            main = new Ctx(0, program, State.RUNNING, null);
            handles.add(main);
            note(main, "start");
            Go go = new Go(main, true);
            while (go != null) {
                go = go.start() ? advance(go.ctx(), null, true) : advance(go.ctx(), resumed(go.ctx()), false);
            }
            return trace;
        }

        private Ctx current() {
            return list.isEmpty() ? main : list.get(i);
        }

        /** What a context's pending suspension throws as it resumes; null: it returns normally. */
        private static Thrown resumed(Ctx c) {
            Thrown pending = c.pending;
            c.pending = null;
            return pending;
        }

        /**
         * Runs {@code c} from its start, or completes the step it is suspended in with
         * {@code outcome}, then runs its next steps until control leaves it.
         *
         * @return where control goes next; null when main is done
         */
        private Go advance(Ctx c, Thrown outcome, boolean start) {
            if (start && c != main) {
                note(c, "start");
            }
            if (!start) {
                if (c.pc >= c.script.steps().size()) {
                    note(main, "drain close(" + name(main.drainTarget) + ") -> " + text(outcome));
                } else if (!complete(c, outcome)) {
                    return bodyEnded(c, outcome);
                }
                c.pc++;
            }
            for (; c.pc < c.script.steps().size(); c.pc++) {
                Step step = c.script.steps().get(c.pc);
                if (step instanceof Throw) {
                    return bodyEnded(c, new Thrown("boom c" + c.id, false));
                }
                c.label = label(step, handles.size());
                Object effect = perform(c, step);
                if (effect instanceof Go go) {
                    return go;
                }
                if (!complete(c, (Thrown) effect)) {
                    return bodyEnded(c, (Thrown) effect);
                }
            }
            if (c != main) {
                return bodyEnded(c, null);
            }
            for (int k = firstAlive(); k > 0; k = firstAlive()) {
                main.drainTarget = k;
                Object effect = close(main, handles.get(k));
                if (effect instanceof Go go) {
                    return go;
                }
                note(main, "drain close(" + name(k) + ") -> " + text((Thrown) effect));
            }
            return null;
        }

        private int firstAlive() {
            for (int k = 1; k < handles.size(); k++) {
                if (!handles.get(k).ended()) {
                    return k;
                }
            }
            return -1;
        }

        /** Notes a finished step; false if its exception ends the body (an exit it does not swallow). */
        private boolean complete(Ctx c, Thrown outcome) {
            note(c, c.label + " -> " + text(outcome));
            return outcome == null || !outcome.exit() || c.script.swallowsExit();
        }

        private static String text(Thrown t) {
            return t == null ? "ok" : t.kind();
        }

        /** Performs a step: a {@link Go} if control moves, else what it threw (null: nothing). */
        private Object perform(Ctx c, Step step) {
            return switch (step) {
                case Yield y -> {
                    if (list.size() <= 1) {
                        yield null;
                    }
                    if (c.closing) {
                        yield EXIT;
                    }
                    yield transfer(c, list.get(i == 0 ? list.size() - 1 : i - 1));
                }
                case SwitchTo s -> {
                    Ctx to = handles.get(s.target() % handles.size());
                    if (c.closing) {
                        yield EXIT;
                    }
                    if (to == c) {
                        yield null;
                    }
                    yield to.ended() ? ISE : transfer(c, to);
                }
                case Close cl -> close(c, handles.get(cl.target() % handles.size()));
                case Create cr -> {
                    if (list.isEmpty()) {
                        add(main);
                        i = 0;
                    }
                    Ctx co = new Ctx(handles.size(), cr.body(), State.NEW, current());
                    handles.add(co);
                    add(co);
                    yield null;
                }
                case Throw t -> throw new AssertionError("handled by advance");
                case TimePropertyTest.TimeStep t -> throw new AssertionError("not a step of these programs: " + t);
            };
        }

        private Object close(Ctx c, Ctx target) {
            if (target.ended()) {
                return null;
            }
            if (target == main || target == c) {
                return ISE;
            }
            if (target.state == State.NEW) {
                remove(target);
                target.state = State.CLOSED;
                return null;
            }
            target.closing = true;
            target.closer = c;
            target.pending = EXIT; // delivered once, at the resume that starts the unwinding
            return transfer(c, target);
        }

        private Go transfer(Ctx from, Ctx to) {
            boolean start = to.state == State.NEW;
            from.state = State.SUSPENDED;
            to.state = State.RUNNING;
            i = to.index;
            return new Go(to, start);
        }

        /** The body of {@code c} ended, normally ({@code failure} null) or by {@code failure}. */
        private Go bodyEnded(Ctx c, Thrown failure) {
            note(c, "end");
            Ctx next;
            if (c.closing) {
                boolean clean = failure == null || failure.exit();
                c.state = clean ? State.CLOSED : State.FAILED;
                remove(c);
                next = c.closer.ended() ? main : c.closer;
                if (!clean) {
                    leave(next, new Thrown("CoroutineException-closing(" + failure.kind() + ")", false));
                }
            } else if (failure == null) {
                c.state = State.FINISHED;
                int at = i;
                remove(c);
                next = list.get(at - 1);
            } else {
                c.state = State.FAILED;
                remove(c);
                next = c.creator.ended() ? main : c.creator;
                leave(next, new Thrown("CoroutineException(" + failure.kind() + ")", false));
            }
            boolean start = next.state == State.NEW;
            next.state = State.RUNNING;
            i = next.index;
            return new Go(next, start);
        }

        private static void leave(Ctx target, Thrown e) {
            target.pending = target.pending == null ? e : target.pending.withSuppressed(e);
        }

        private void add(Ctx c) {
            c.index = list.size();
            list.add(c);
        }

        /** Swap-remove: the last entry takes the slot; if the current context moved, {@code i} follows it. */
        private void remove(Ctx c) {
            int k = c.index;
            int last = list.size() - 1;
            Ctx moved = list.remove(last);
            if (moved != c) {
                list.set(k, moved);
                moved.index = k;
                if (i == last) {
                    i = k;
                }
            }
            c.index = -1;
        }

        private void note(Ctx self, String text) {
            StringBuilder states = new StringBuilder();
            for (Ctx h : handles) {
                states.append(letter(h.state));
            }
            trace.add(line(self.id, text, list.isEmpty() ? 0 : i, name(current().id), states.toString()));
        }
    }
}
