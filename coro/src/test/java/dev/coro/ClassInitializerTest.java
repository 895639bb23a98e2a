package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.lang.reflect.InvocationTargetException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A class initializer that runs a generator or a coroutine whose body is a lambda (or a method reference)
 * written in the class being initialized never hangs: on the continuation engine it works (the body runs
 * on the initializing thread); on the thread engine, where the body's own thread may wait for the
 * initializer that waits for it, the start is refused before that thread starts, with an exception naming
 * the class, the generator or coroutine, and what to do instead; and a body so refused never runs
 * outside its turn, even once the initializer has caught the refusal and returned.
 */
@ExtendWith(FreshThread.class)
class ClassInitializerTest {

    private static boolean threadEngine() {
        return Engines.running().equals("threads");
    }

    @Test
    @Timeout(60)
    void aCoroutineOfTheClassBeingInitializedThatAnotherCoroutineRunsIsRefusedOnThatThreadAndNeverRunsOutsideItsTurn() throws Exception {
        Ran.LOG.clear();
        List<String> names = new ArrayList<>();
        Coroutine inner = (Coroutine) readFollowingTheStartedThreads(RunsACoroutineThatRunsOneOfItsClass.class, "INNER", names);
        if (!threadEngine()) {
            assertThat(Ran.LOG).containsExactly("outer body ran", "inner body ran", "after: outer SUSPENDED, inner FINISHED");
            return;
        }
        // refused on the outer coroutine's thread, which looked at main's below it; then again as the outer one
        // ended and chose it: no thread was started for it
        String why = "the body of coroutine 'inner' is a lambda or a method reference written in class"
                + " dev.coro.ClassInitializerTest$RunsACoroutineThatRunsOneOfItsClass, whose static initializer main's thread"
                + " is running, waiting below this one: no other thread can use that class until its initializer returns, and"
                + " on the thread engine every body runs on a thread of its own; create it outside that class (in a holder"
                + " class, say), or use the continuation engine";
        assertThat(Ran.LOG).containsExactly("outer body ran",
                "outer refused: cannot suspend coroutine 'outer' at its switchTo to run coroutine 'inner': " + why
                        + "; it keeps running (state RUNNING)",
                "refused, outer FINISHED, inner NEW: main context 'main' cannot run coroutine 'inner' (NEW), chosen as"
                        + " coroutine 'outer' ended, at its switchTo: " + why + "; it stays NEW, and main runs again (state RUNNING)");
        assertThat(names).containsExactly("coro outer");
        // the class is initialized now: the coroutine, still NEW, runs once, in its turn
        inner.switchTo();
        assertThat(inner.state()).isEqualTo(Coroutine.State.FINISHED);
        assertThat(Ran.LOG).hasSize(4).endsWith("inner body ran");
    }

    @Test
    void aStartLooksForAnInitializerOnlyUntilABodyOfItsCodeHasBeenInsideIt() {
        List<String> log = new ArrayList<>();
        List<Coroutine> made = new ArrayList<>();
        List<Generator<String>> gens = new ArrayList<>();
        int before = InitializerDeadlock.looksBeforeStart;
        for (int i = 0; i < 3; i++) { // one lambda class each: a body of it parks without ending, another starts after it
            int n = i;
            Coroutine c = Coroutine.create(() -> {
                log.add("coroutine " + n);
                Coroutine.yield();
                log.add("coroutine " + n + " again");
            });
            made.add(c);
            c.switchTo();
            Generator<String> g = Generator.of(out -> {
                out.emit("value " + n);
                out.emit("value " + n + " again");
            });
            gens.add(g);
            log.add(g.next());
        }
        int looks = InitializerDeadlock.looksBeforeStart - before;
        made.forEach(c -> {
            while (!c.isFinished()) {
                Coroutine.yield();
            }
        });
        gens.forEach(g -> g.forEachRemaining(log::add));
        assertThat(log).containsExactlyInAnyOrder("coroutine 0", "coroutine 0 again", "coroutine 1", "coroutine 1 again",
                "coroutine 2", "coroutine 2 again", "value 0", "value 0 again", "value 1", "value 1 again", "value 2",
                "value 2 again");
        // the thread engine looks at the first start of each code only: its body handed control back from inside
        // it (a yield, an emit), so it got past the class it was written in; the other engine never looks
        assertThat(looks).isEqualTo(threadEngine() ? 2 : 0);
    }

    /** What the refusal of a body written in the class being initialized says after that class's name. */
    private static final String REFUSED = ", whose static initializer this thread is running: no other thread can use that class"
            + " until its initializer returns, and on the thread engine every body runs on a thread of its own; create it"
            + " outside that class (in a holder class, say), or use the continuation engine";

    // Each test reads its class through FreshlyLoaded, so that the initializer runs on every run of the test.

    /** A generator consumed by a static initializer, its body a lambda of the class. */
    static final class Squares {
        static final List<Integer> SQUARES = Generator.<Integer>of("squares", out -> {
            for (int i = 1; i < 4; i++) {
                out.emit(i * i);
            }
        }).stream().toList();
    }

    /** A static initializer that runs a coroutine whose body is a lambda of the class. */
    static final class Started {
        static final List<String> LOG = new ArrayList<>();

        static {
            Coroutine c = Coroutine.create("initializing", () -> LOG.add("body ran"));
            c.switchTo();
            LOG.add("after: " + c.state());
        }
    }

    /** {@link Started} again, for a virtual thread to initialize. */
    static final class StartedOnAVirtualThread {
        static final List<String> LOG = new ArrayList<>();

        static {
            Coroutine c = Coroutine.create("virtual initializing", () -> LOG.add("body ran"));
            c.switchTo();
            LOG.add("after: " + c.state());
        }
    }

    /** {@link Squares} again, for a virtual thread to initialize. */
    static final class SquaresOnAVirtualThread {
        static final List<Integer> SQUARES = Generator.<Integer>of("virtual squares", out -> {
            for (int i = 1; i < 4; i++) {
                out.emit(i * i);
            }
        }).stream().toList();
    }

    /** A generator consumed by a static initializer, its body a method reference to a static method of the class. */
    static final class ReferencedSquares {
        static final List<Integer> SQUARES = Generator.<Integer>of("referenced squares", ReferencedSquares::squares)
                .stream().toList();

        private static void squares(Generator.Emitter<Integer, Void> out) {
            for (int i = 1; i < 4; i++) {
                out.emit(i * i);
            }
        }
    }

    /** {@link ReferencedSquares} again, for a virtual thread to initialize. */
    static final class ReferencedSquaresOnAVirtualThread {
        static final List<Integer> SQUARES = Generator.<Integer>of("virtual referenced squares",
                ReferencedSquaresOnAVirtualThread::squares).stream().toList();

        private static void squares(Generator.Emitter<Integer, Void> out) {
            for (int i = 1; i < 4; i++) {
                out.emit(i * i);
            }
        }
    }

    /**
     * A generator consumed by a static initializer, its body a method reference to a method of another
     * class: the body's code needs nothing of the class being initialized.
     */
    static final class ElsewhereSquares {
        static final List<Integer> SQUARES = Generator.<Integer>of("elsewhere squares", SquareBodies::squares)
                .stream().toList();
    }

    /** {@link ElsewhereSquares} again, for a virtual thread to initialize. */
    static final class ElsewhereSquaresOnAVirtualThread {
        static final List<Integer> SQUARES = Generator.<Integer>of("virtual elsewhere squares", SquareBodies::squares)
                .stream().toList();
    }

    /** A generator consumed by a static initializer, its body written in another class. */
    static final class HeldSquares {
        static final List<Integer> SQUARES = Generator.of("held squares", SquareBodies.SQUARES).stream().toList();
    }

    /** {@link HeldSquares} again, for a virtual thread to initialize. */
    static final class HeldSquaresOnAVirtualThread {
        static final List<Integer> SQUARES = Generator.of("virtual held squares", SquareBodies.SQUARES).stream().toList();
    }

    /** A static initializer that runs a coroutine whose body is written in another class, on a virtual thread. */
    static final class HeldStartedOnAVirtualThread {
        static final List<String> LOG = new ArrayList<>();

        static {
            Coroutine c = Coroutine.create("held", SquareBodies.SPIN);
            c.switchTo();
            LOG.add("after: " + c.state());
        }
    }

    /**
     * A static initializer that runs a coroutine whose body is a method reference to another class's
     * method ({@link Thread#onSpinWait}) written in the class itself, on a virtual thread.
     */
    static final class ElsewhereStartedOnAVirtualThread {
        static final List<String> LOG = new ArrayList<>();

        static {
            Coroutine c = Coroutine.create("elsewhere", Thread::onSpinWait);
            c.switchTo();
            LOG.add("after: " + c.state());
        }
    }

    /**
     * A static initializer that runs a coroutine whose body, written in another class, keeps the turn
     * until the initializing thread has looked for a deadlock.
     */
    static final class ElsewhereStartedLong {
        static final List<String> LOG = LongBodies.LOG;

        static {
            Coroutine c = Coroutine.create("long", LongBodies.YIELD_WHEN_LOOKED_AT);
            c.switchTo();
            LOG.add("after: " + c.state());
        }
    }

    /** {@link ElsewhereStartedLong} for a generator consumed by a static initializer. */
    static final class ElsewhereSquaresLong {
        static final List<Integer> SQUARES = Generator.<Integer>of("long squares", LongBodies.EMIT_WHEN_LOOKED_AT)
                .stream().toList();
    }

    /**
     * Bodies that run until the thread waiting for them has looked for a deadlock at least once (the
     * thread engine's look, after a stall): public, as {@link SquareBodies}.
     */
    public static final class LongBodies {
        /** What the coroutine's body did, then the initializer. */
        public static final List<String> LOG = new ArrayList<>();
        /** {@link #yieldWhenLookedAt}, as a body written here. */
        public static final Runnable YIELD_WHEN_LOOKED_AT = LongBodies::yieldWhenLookedAt;
        /** {@link #emitWhenLookedAt}, as a body written here. */
        public static final Generator.Body<Integer, Void> EMIT_WHEN_LOOKED_AT = LongBodies::emitWhenLookedAt;

        private LongBodies() {
        }

        /** On the thread engine, keeps the turn until the thread waiting for it has looked at it. */
        private static void untilLookedAt() {
            if (threadEngine()) {
                int before = InitializerDeadlock.looks;
                while (InitializerDeadlock.looks == before) {
                    Thread.onSpinWait();
                }
            }
        }

        /** Runs until looked at, then yields once. */
        public static void yieldWhenLookedAt() {
            untilLookedAt();
            LOG.add("body as " + Coroutine.current().name());
            Coroutine.yield();
            LOG.add("body resumed");
        }

        /**
         * Runs until looked at, then emits 1, 4 and 9.
         *
         * @param out the emitter
         */
        public static void emitWhenLookedAt(Generator.Emitter<Integer, Void> out) {
            untilLookedAt();
            SquareBodies.squares(out);
        }
    }

    /** The body {@link ElsewhereSquares} refers to: public, since a freshly loaded class sees only public code. */
    public static final class SquareBodies {
        /** {@link #squares}, as a body written here, not in the class whose initializer uses it. */
        public static final Generator.Body<Integer, Void> SQUARES = SquareBodies::squares;
        /** {@link Thread#onSpinWait}, as a body written here. */
        public static final Runnable SPIN = Thread::onSpinWait;

        private SquareBodies() {
        }

        /**
         * Emits 1, 4 and 9.
         *
         * @param out the emitter
         */
        public static void squares(Generator.Emitter<Integer, Void> out) {
            for (int i = 1; i < 4; i++) {
                out.emit(i * i);
            }
        }
    }


    /**
     * What the bodies of the initializers below did, kept outside their classes, which are loaded afresh
     * (so public): each body adds a line wherever it runs, on whatever thread.
     */
    public static final class Ran {
        /** The lines. */
        public static final List<String> LOG = Collections.synchronizedList(new ArrayList<>());

        private Ran() {
        }
    }

    /**
     * A static initializer that runs a coroutine whose body is a lambda of its class, and catches the
     * refusal: the class is initialized all the same, and the coroutine it keeps may run later.
     */
    static final class CatchesTheRefusalOfACoroutine {
        static final Coroutine CAUGHT;

        static {
            Coroutine c = Coroutine.create("caught", () -> Ran.LOG.add("body ran"));
            try {
                c.switchTo();
                Ran.LOG.add("after: " + c.state());
            } catch (IllegalStateException e) {
                Ran.LOG.add("refused, " + c.state() + ": " + e.getMessage());
            }
            CAUGHT = c;
        }
    }

    /** {@link CatchesTheRefusalOfACoroutine} for a generator, whose body emits nothing. */
    static final class CatchesTheRefusalOfAGenerator {
        static final Generator<Integer> CAUGHT;

        static {
            Generator<Integer> g = Generator.of("caught", out -> Ran.LOG.add("body ran"));
            try {
                Ran.LOG.add("has a value: " + g.hasNext());
            } catch (IllegalStateException e) {
                Ran.LOG.add("refused, " + g.state() + ": " + e.getMessage());
            }
            CAUGHT = g;
        }
    }

    /** Bodies written here, not in the classes whose initializers run them: public, as {@link SquareBodies}. */
    public static final class Holders {
        private Holders() {
        }

        /**
         * A body that switches to {@code inner}, saying what came of it.
         *
         * @param inner the coroutine to switch to
         * @return the body
         */
        public static Runnable switchingTo(Coroutine inner) {
            return () -> {
                Ran.LOG.add("outer body ran");
                try {
                    inner.switchTo();
                    Ran.LOG.add("outer switched");
                } catch (IllegalStateException e) {
                    Ran.LOG.add("outer refused: " + e.getMessage());
                }
            };
        }
    }

    /**
     * A static initializer that runs a coroutine written in another class, whose body switches to one
     * whose body is a lambda of the class being initialized: the thread that would start it is the outer
     * coroutine's, and main's thread, below it, runs the initializer; it catches what it meets.
     */
    static final class RunsACoroutineThatRunsOneOfItsClass {
        static final Coroutine INNER;

        static {
            Coroutine inner = Coroutine.create("inner", () -> Ran.LOG.add("inner body ran"));
            Coroutine outer = Coroutine.create("outer", Holders.switchingTo(inner));
            try {
                outer.switchTo();
                Ran.LOG.add("after: outer " + outer.state() + ", inner " + inner.state());
            } catch (IllegalStateException e) {
                Ran.LOG.add("refused, outer " + outer.state() + ", inner " + inner.state() + ": " + e.getMessage());
            }
            INNER = inner;
        }
    }

    /**
     * {@code initialized}'s field {@code field}, read after its initializer ran again, and every thread the
     * engine started meanwhile, followed to its end: a body one of them ran has run by then.
     */
    private static Object readFollowingTheStartedThreads(Class<?> initialized, String field) throws InterruptedException {
        return readFollowingTheStartedThreads(initialized, field, new ArrayList<>());
    }

    /** {@link #readFollowingTheStartedThreads(Class, String)}, adding the names of the threads started to {@code names}. */
    private static Object readFollowingTheStartedThreads(Class<?> initialized, String field, List<String> names)
            throws InterruptedException {
        List<Thread> started = new CopyOnWriteArrayList<>();
        ThreadEngine engine = threadEngine() ? (ThreadEngine) Scheduler.current().engine : null;
        Object read;
        if (engine != null) {
            engine.started = started::add;
        }
        try {
            read = FreshlyLoaded.staticField(initialized, field);
        } finally {
            if (engine != null) {
                engine.started = null;
            }
        }
        for (Thread t : started) {
            t.join();
            names.add(t.getName());
        }
        return read;
    }

    @Test
    @Timeout(60)
    void aCoroutineRefusedInTheInitializerOfTheClassOfItsBodyThatCaughtTheRefusalNeverRunsOutsideItsTurn() throws Exception {
        Ran.LOG.clear();
        Coroutine c = (Coroutine) readFollowingTheStartedThreads(CatchesTheRefusalOfACoroutine.class, "CAUGHT");
        if (!threadEngine()) {
            assertThat(Ran.LOG).containsExactly("body ran", "after: FINISHED");
            return;
        }
        // refused before any thread started: the initializer's end lets nothing run the body behind the library's back
        assertThat(Ran.LOG).containsExactly("refused, NEW: cannot suspend main context 'main' at its switchTo to run"
                + " coroutine 'caught': the body of coroutine 'caught' is a lambda or a method reference written in class"
                + " dev.coro.ClassInitializerTest$CatchesTheRefusalOfACoroutine" + REFUSED + "; it keeps running (state RUNNING)");
        // the class is initialized now: the coroutine, still NEW, runs once, in its turn
        Coroutine.yield();
        assertThat(c.state()).isEqualTo(Coroutine.State.FINISHED);
        assertThat(Ran.LOG).hasSize(2).endsWith("body ran");
    }

    @Test
    @Timeout(60)
    void aGeneratorRefusedInTheInitializerOfTheClassOfItsBodyThatCaughtTheRefusalNeverRunsOutsideItsTurn() throws Exception {
        Ran.LOG.clear();
        @SuppressWarnings("unchecked")
        Generator<Integer> g = (Generator<Integer>) readFollowingTheStartedThreads(CatchesTheRefusalOfAGenerator.class, "CAUGHT");
        if (!threadEngine()) {
            assertThat(Ran.LOG).containsExactly("body ran", "has a value: false");
            return;
        }
        assertThat(Ran.LOG).containsExactly("refused, NEW: main context 'main' cannot run the body of generator 'caught'"
                + " (NEW): the body of generator 'caught' is a lambda or a method reference written in class"
                + " dev.coro.ClassInitializerTest$CatchesTheRefusalOfAGenerator" + REFUSED + "; it stays NEW");
        // the class is initialized now: the generator, still NEW, runs its body once, in its turn
        assertThat(g.hasNext()).isFalse();
        assertThat(g.state()).isEqualTo(Generator.State.FINISHED);
        assertThat(Ran.LOG).hasSize(2).endsWith("body ran");
    }

    /**
     * {@link #list} read on a new virtual thread: the list, or what the read threw. On the thread engine that
     * thread keeps its carrier while it runs the initializer (a native frame: docs/ENGINES.md), and the bodies
     * the initializer runs are virtual threads of their own, which need another: with one carrier (a one-core
     * machine) the read never ends, and the initializing thread holds the carrier for the JVM's life, so the
     * test is skipped there.
     */
    private static Object readOnAVirtualThread(Class<?> initialized, String field) throws InterruptedException {
        Carriers.assumeASecondOnTheThreadEngine("a virtual thread running an initializer pins its carrier; the bodies it runs need a second one");
        Object[] read = new Object[1];
        Thread t = Thread.ofVirtual().start(() -> {
            try {
                read[0] = list(initialized, field);
            } catch (Throwable e) {
                read[0] = e;
            }
        });
        t.join();
        return read[0];
    }

    /** A list held by a static field of {@code initialized}, read after its initializer ran again. */
    private static List<Object> list(Class<?> initialized, String field) {
        @SuppressWarnings("unchecked")
        List<Object> l = (List<Object>) FreshlyLoaded.staticField(initialized, field);
        return l;
    }

    @Test
    void eachReadRunsTheInitializerAgainSoTheseTestsCanRunTwiceInOneJvm() {
        for (int run = 0; run < 2; run++) {
            Throwable t = catchThrowable(() -> list(Squares.class, "SQUARES"));
            if (threadEngine()) {
                assertThat(t).as("run %d", run).isInstanceOf(ExceptionInInitializerError.class);
            } else {
                assertThat(t).as("run %d", run).isNull();
            }
        }
        if (!threadEngine()) {
            assertThat(list(Squares.class, "SQUARES")).isNotSameAs(list(Squares.class, "SQUARES"));
        }
    }

    @Test
    void onAVirtualThreadTooTheInitializerOfTheClassOfACoroutinesBodyWorksOrFailsClearly() throws Exception {
        Object read = readOnAVirtualThread(StartedOnAVirtualThread.class, "LOG");
        if (!threadEngine()) {
            assertThat(read).isEqualTo(List.of("body ran", "after: FINISHED"));
            return;
        }
        assertThat(read).isInstanceOf(ExceptionInInitializerError.class);
        assertThat(((Throwable) read).getCause()).isInstanceOf(IllegalStateException.class)
                .hasMessage("cannot suspend main context 'main' at its switchTo to run coroutine 'virtual initializing': the"
                        + " body of coroutine 'virtual initializing' is a lambda or a method reference written in class"
                        + " dev.coro.ClassInitializerTest$StartedOnAVirtualThread" + REFUSED + "; it keeps running (state RUNNING)");
    }

    @Test
    void onAVirtualThreadTooTheInitializerOfTheClassOfAGeneratorsBodyWorksOrFailsClearly() throws Exception {
        Object read = readOnAVirtualThread(SquaresOnAVirtualThread.class, "SQUARES");
        if (!threadEngine()) {
            assertThat(read).isEqualTo(List.of(1, 4, 9));
            return;
        }
        assertThat(read).isInstanceOf(ExceptionInInitializerError.class);
        assertThat(((Throwable) read).getCause()).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot run the body of generator 'virtual squares' (NEW): the body of"
                        + " generator 'virtual squares' is a lambda or a method reference written in class"
                        + " dev.coro.ClassInitializerTest$SquaresOnAVirtualThread" + REFUSED + "; it stays NEW");
    }

    @Test
    void aGeneratorConsumedInTheInitializerOfTheClassOfItsBodyWorksOrFailsClearlyButNeverHangs() {
        Throwable t = catchThrowable(() -> assertThat(list(Squares.class, "SQUARES")).containsExactly(1, 4, 9));
        if (!threadEngine()) {
            assertThat(t).isNull();
            return;
        }
        assertThat(t).isInstanceOf(ExceptionInInitializerError.class);
        assertThat(t.getCause()).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot run the body of generator 'squares' (NEW): the body of generator"
                        + " 'squares' is a lambda or a method reference written in class dev.coro.ClassInitializerTest$Squares"
                        + REFUSED + "; it stays NEW");
    }

    @Test
    void aCoroutineRunByTheInitializerOfTheClassOfItsBodyWorksOrFailsClearlyButNeverHangs() {
        Throwable t = catchThrowable(() -> assertThat(list(Started.class, "LOG"))
                .containsExactly("body ran", "after: FINISHED"));
        if (!threadEngine()) {
            assertThat(t).isNull();
            return;
        }
        assertThat(t).isInstanceOf(ExceptionInInitializerError.class);
        assertThat(t.getCause()).isInstanceOf(IllegalStateException.class)
                .hasMessage("cannot suspend main context 'main' at its switchTo to run coroutine 'initializing': the body of"
                        + " coroutine 'initializing' is a lambda or a method reference written in class"
                        + " dev.coro.ClassInitializerTest$Started" + REFUSED + "; it keeps running (state RUNNING)");
        // the coroutine stayed NEW in the run list; run now, its class is erroneous: its body fails like
        // any other, and the scheduler stays usable
        assertThat(catchThrowable(Coroutine::yield)).isInstanceOf(CoroutineException.class)
                .hasMessageStartingWith("coroutine 'initializing' failed: java.lang.NoClassDefFoundError")
                .cause().isInstanceOf(NoClassDefFoundError.class);
        Coroutine after = Coroutine.create("after", () -> { });
        after.switchTo();
        assertThat(after.state()).isEqualTo(Coroutine.State.FINISHED);
        assertThat(Coroutine.dump()).contains(": 1 context, current index 0");
    }

    @Test
    void aGeneratorWhoseBodyIsAMethodReferenceToAMethodOfTheClassBeingInitializedWorksOrFailsClearly() throws Exception {
        Throwable t = catchThrowable(() -> assertThat(list(ReferencedSquares.class, "SQUARES")).containsExactly(1, 4, 9));
        Object read = readOnAVirtualThread(ReferencedSquaresOnAVirtualThread.class, "SQUARES");
        if (!threadEngine()) {
            assertThat(t).isNull();
            assertThat(read).isEqualTo(List.of(1, 4, 9));
            return;
        }
        assertThat(t).isInstanceOf(ExceptionInInitializerError.class);
        assertThat(t.getCause()).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot run the body of generator 'referenced squares' (NEW): the body of"
                        + " generator 'referenced squares' is a lambda or a method reference written in class"
                        + " dev.coro.ClassInitializerTest$ReferencedSquares" + REFUSED + "; it stays NEW");
        assertThat(read).isInstanceOf(ExceptionInInitializerError.class);
        assertThat(((Throwable) read).getCause()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("the body of generator 'virtual referenced squares' is a lambda or a method reference"
                        + " written in class dev.coro.ClassInitializerTest$ReferencedSquaresOnAVirtualThread" + REFUSED);
    }

    @Test
    void aMethodReferenceToAnotherClassWrittenInTheClassBeingInitializedIsRefusedOnTheThreadEngineOnly() throws Exception {
        // its code is a lambda class of the class being initialized, which may need that class or not: no
        // look from outside can tell (a reference to a method of the class itself is one), so it is refused too
        Throwable t = catchThrowable(() -> list(ElsewhereSquares.class, "SQUARES"));
        Object read = readOnAVirtualThread(ElsewhereSquaresOnAVirtualThread.class, "SQUARES");
        Object started = readOnAVirtualThread(ElsewhereStartedOnAVirtualThread.class, "LOG");
        if (!threadEngine()) {
            assertThat(t).isNull();
            assertThat(list(ElsewhereSquares.class, "SQUARES")).containsExactly(1, 4, 9);
            assertThat(read).isEqualTo(List.of(1, 4, 9));
            assertThat(started).isEqualTo(List.of("after: FINISHED"));
            return;
        }
        assertThat(t).isInstanceOf(ExceptionInInitializerError.class);
        assertThat(t.getCause()).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot run the body of generator 'elsewhere squares' (NEW): the body of"
                        + " generator 'elsewhere squares' is a lambda or a method reference written in class"
                        + " dev.coro.ClassInitializerTest$ElsewhereSquares" + REFUSED + "; it stays NEW");
        assertThat(((Throwable) read).getCause()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("the body of generator 'virtual elsewhere squares' is a lambda or a method reference"
                        + " written in class dev.coro.ClassInitializerTest$ElsewhereSquaresOnAVirtualThread" + REFUSED);
        assertThat(((Throwable) started).getCause()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("the body of coroutine 'elsewhere' is a lambda or a method reference"
                        + " written in class dev.coro.ClassInitializerTest$ElsewhereStartedOnAVirtualThread" + REFUSED);
    }

    @Test
    void aGeneratorWhoseBodyIsWrittenInAnotherClassWorksInAnInitializerOnBothEngines() throws Exception {
        assertThat(list(HeldSquares.class, "SQUARES")).containsExactly(1, 4, 9);
        assertThat(readOnAVirtualThread(HeldSquaresOnAVirtualThread.class, "SQUARES")).isEqualTo(List.of(1, 4, 9));
    }

    @Test
    void onAVirtualThreadACoroutineWhoseBodyIsWrittenInAnotherClassRunsInAnInitializerOnBothEngines() throws Exception {
        assertThat(readOnAVirtualThread(HeldStartedOnAVirtualThread.class, "LOG")).isEqualTo(List.of("after: FINISHED"));
    }

    @Test
    @Timeout(60)
    void aBodyWrittenInAnotherClassThatRunsPastTheLookForADeadlockWorksInAnInitializerOnBothEngines() {
        // on the thread engine the initializing thread looks after a stall of 200 ms: a body that has
        // begun is running, not waiting for the class; refused, its thread ran on as main beside main
        LongBodies.LOG.clear();
        assertThat(list(ElsewhereStartedLong.class, "LOG")).containsExactly("body as long", "after: SUSPENDED");
        Coroutine.yield();
        assertThat(LongBodies.LOG).containsExactly("body as long", "after: SUSPENDED", "body resumed");
        assertThat(Coroutine.dump()).contains(": 1 context, current index 0");
        assertThat(list(ElsewhereSquaresLong.class, "SQUARES")).containsExactly(1, 4, 9);
    }

    @Test
    void theLookForSuchADeadlockGivesBackAStackOverflowTheJdksStackWalkerWrapped() {
        // near the end of a stack the JDK's walker reports the overflow it met as an InternalError around an
        // InvocationTargetException around it: the start it stopped must fail as any call that overflows there
        StackOverflowError overflow = new StackOverflowError();
        assertThat(InitializerDeadlock.overflowIn(new InternalError(new InvocationTargetException(overflow))))
                .isSameAs(overflow);
        InternalError other = new InternalError(new InvocationTargetException(new IllegalStateException()));
        assertThat(InitializerDeadlock.overflowIn(other)).isSameAs(other);
        InternalError bare = new InternalError("no cause");
        assertThat(InitializerDeadlock.overflowIn(bare)).isSameAs(bare);
    }
}
