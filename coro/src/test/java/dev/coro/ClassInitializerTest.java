package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.lang.reflect.InvocationTargetException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A class initializer that runs a generator or a coroutine whose body is a lambda of the class being
 * initialized never hangs: on the continuation engine it works (the body runs on the initializing
 * thread); on the thread engine, where the body's own thread would wait for the initializer that
 * waits for it, the wait ends with an exception naming the class, the generator or coroutine, and
 * what to do instead.
 */
@ExtendWith(FreshThread.class)
class ClassInitializerTest {

    private static boolean threadEngine() {
        return Engines.running().equals("threads");
    }

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

    /**
     * A static initializer that runs a coroutine whose body is a method reference to another class's
     * method ({@link Thread#onSpinWait}), on a virtual thread.
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
     * A static initializer that runs a coroutine whose body is a method reference to another class's
     * method that keeps the turn until the initializing thread has looked for a deadlock.
     */
    static final class ElsewhereStartedLong {
        static final List<String> LOG = LongBodies.LOG;

        static {
            Coroutine c = Coroutine.create("long", LongBodies::yieldWhenLookedAt);
            c.switchTo();
            LOG.add("after: " + c.state());
        }
    }

    /** {@link ElsewhereStartedLong} for a generator consumed by a static initializer. */
    static final class ElsewhereSquaresLong {
        static final List<Integer> SQUARES = Generator.<Integer>of("long squares", LongBodies::emitWhenLookedAt)
                .stream().toList();
    }

    /**
     * Bodies that run until the thread waiting for them has looked for a deadlock at least once (the
     * thread engine's look, after a stall): public, as {@link SquareBodies}.
     */
    public static final class LongBodies {
        /** What the coroutine's body did, then the initializer. */
        public static final List<String> LOG = new ArrayList<>();

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

    /**
     * A static initializer that runs a coroutine whose body is a lambda of the class, catches the refusal
     * and returns: on the thread engine the body's thread, given up as it waited for this initializer, runs
     * the body then. The body tries calls of coro one by one, noting what each did, and stops at the first
     * that returns (a call that acts as the scheduler's from there would run on with it); then it notes what
     * an observer reads of the initializer's channel, completes {@link #RUN} with the log, its thread and what
     * that thread's uncaught-exception handler got, and fails.
     */
    static final class CaughtAndReturned {
        static final List<String> LOG = new CopyOnWriteArrayList<>();
        static final List<Throwable> UNCAUGHT = new CopyOnWriteArrayList<>();
        static final CompletableFuture<Object[]> RUN = new CompletableFuture<>();
        static final Channel<String> LETTERS = new Channel<>("letters", 2);

        static {
            LETTERS.send("kept");
            Coroutine c = Coroutine.create("caught", () -> {
                Thread.currentThread().setUncaughtExceptionHandler((t, e) -> UNCAUGHT.add(e));
                LOG.add("body ran");
                AbandonedBodies.tryEach(LOG, List.of(
                        AbandonedBodies.call("Coroutine.current()", () -> Coroutine.current().name()),
                        AbandonedBodies.call("Coroutine.create", () -> Coroutine.create("made by the body", () -> { }).name()),
                        AbandonedBodies.call("send", () -> {
                            LETTERS.send("from the body");
                            return "";
                        }),
                        AbandonedBodies.call("receive", LETTERS::receive),
                        AbandonedBodies.call("Coroutine.yield()", () -> {
                            Coroutine.yield();
                            return "";
                        })));
                LOG.add("size " + LETTERS.size());
                RUN.complete(new Object[] {LOG, Thread.currentThread(), UNCAUGHT});
                throw new IllegalStateException("the body's own failure");
            });
            try {
                c.switchTo();
            } catch (CoroutineException failed) {
                LOG.add("failed: " + failed.getCause().getMessage());
            } catch (IllegalStateException refused) {
                LOG.add("refused");
            }
            LOG.add("after: " + c.state());
        }
    }

    /** {@link CaughtAndReturned} for a generator consumed by the initializer. */
    static final class CaughtAndReturnedGenerator {
        static final List<String> LOG = new CopyOnWriteArrayList<>();
        static final CompletableFuture<List<String>> RUN = new CompletableFuture<>();

        static {
            Generator<Integer> g = Generator.of("caught squares", out -> {
                LOG.add("body ran");
                AbandonedBodies.tryEach(LOG, List.of(
                        AbandonedBodies.call("Coroutine.current()", () -> Coroutine.current().name()),
                        AbandonedBodies.call("Coroutine.yield()", () -> {
                            Coroutine.yield();
                            return "";
                        }),
                        AbandonedBodies.call("Generator.of", () -> Generator.of(o -> { }).toString()),
                        AbandonedBodies.call("emit", () -> {
                            out.emit(1);
                            return "";
                        })));
                RUN.complete(LOG);
            });
            try {
                LOG.add("has next: " + g.hasNext());
            } catch (IllegalStateException refused) {
                LOG.add("refused");
            }
            LOG.add("after: " + g.state());
        }
    }

    /**
     * A static initializer that runs a coroutine whose body belongs to another class, which consumes a generator whose
     * body is a lambda of the class being initialized: the generator's body waits for the initializer, the coroutine
     * for the generator, and the initializer for the coroutine.
     */
    static final class ConsumedInACoroutine {
        static final List<String> LOG = new CopyOnWriteArrayList<>();
        /** The log once the generator's body has run, if it does; the log as the initializer returns. */
        static final List<CompletableFuture<List<String>>> RUN_AND_INITIALIZED = List.of(new CompletableFuture<>(),
                new CompletableFuture<>());

        static {
            Generator<Integer> g = Generator.of("inner squares", out -> {
                LOG.add("generator body ran");
                AbandonedBodies.tryEach(LOG, List.<Object[]>of(AbandonedBodies.call("emit", () -> {
                    out.emit(1);
                    return "";
                })));
                RUN_AND_INITIALIZED.get(0).complete(LOG);
            });
            Coroutine c = Coroutine.create("consumer", ConsumerBodies.consume(g, LOG));
            try {
                c.switchTo();
            } catch (RuntimeException e) {
                LOG.add("initializer caught " + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
            LOG.add("after: consumer " + c.state() + ", generator " + g.state());
            RUN_AND_INITIALIZED.get(1).complete(List.copyOf(LOG));
        }
    }

    /** {@link ConsumedInACoroutine} again, for a virtual thread to initialize. */
    static final class ConsumedInACoroutineOnAVirtualThread {
        static final List<String> LOG = new CopyOnWriteArrayList<>();
        /** The log once the generator's body has run, if it does; the log as the initializer returns. */
        static final List<CompletableFuture<List<String>>> RUN_AND_INITIALIZED = List.of(new CompletableFuture<>(),
                new CompletableFuture<>());

        static {
            Generator<Integer> g = Generator.of("virtual inner squares", out -> {
                LOG.add("generator body ran");
                AbandonedBodies.tryEach(LOG, List.<Object[]>of(AbandonedBodies.call("emit", () -> {
                    out.emit(1);
                    return "";
                })));
                RUN_AND_INITIALIZED.get(0).complete(LOG);
            });
            Coroutine c = Coroutine.create("virtual consumer", ConsumerBodies.consume(g, LOG));
            try {
                c.switchTo();
            } catch (RuntimeException e) {
                LOG.add("initializer caught " + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
            LOG.add("after: consumer " + c.state() + ", generator " + g.state());
            RUN_AND_INITIALIZED.get(1).complete(List.copyOf(LOG));
        }
    }

    /** {@link ConsumedInACoroutine} with a generator of another class as the consumer: a generator's body consumes it. */
    static final class ConsumedInAGenerator {
        static final List<String> LOG = new CopyOnWriteArrayList<>();
        /** The log once the generator's body has run, if it does; the log as the initializer returns. */
        static final List<CompletableFuture<List<String>>> RUN_AND_INITIALIZED = List.of(new CompletableFuture<>(),
                new CompletableFuture<>());

        static {
            Generator<Integer> g = Generator.of("nested squares", out -> {
                LOG.add("generator body ran");
                AbandonedBodies.tryEach(LOG, List.<Object[]>of(AbandonedBodies.call("emit", () -> {
                    out.emit(1);
                    return "";
                })));
                RUN_AND_INITIALIZED.get(0).complete(LOG);
            });
            Generator<Integer> consumer = Generator.of("consuming generator", ConsumerBodies.consumeAndEmit(g, LOG));
            try {
                LOG.add("initializer got " + consumer.next());
            } catch (RuntimeException e) {
                LOG.add("initializer caught " + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
            LOG.add("after: consumer " + consumer.state() + ", generator " + g.state());
            RUN_AND_INITIALIZED.get(1).complete(List.copyOf(LOG));
        }
    }

    /** {@link ConsumedInAGenerator} again, for a virtual thread to initialize. */
    static final class ConsumedInAGeneratorOnAVirtualThread {
        static final List<String> LOG = new CopyOnWriteArrayList<>();
        /** The log once the generator's body has run, if it does; the log as the initializer returns. */
        static final List<CompletableFuture<List<String>>> RUN_AND_INITIALIZED = List.of(new CompletableFuture<>(),
                new CompletableFuture<>());

        static {
            Generator<Integer> g = Generator.of("virtual nested squares", out -> {
                LOG.add("generator body ran");
                AbandonedBodies.tryEach(LOG, List.<Object[]>of(AbandonedBodies.call("emit", () -> {
                    out.emit(1);
                    return "";
                })));
                RUN_AND_INITIALIZED.get(0).complete(LOG);
            });
            Generator<Integer> consumer = Generator.of("virtual consuming generator", ConsumerBodies.consumeAndEmit(g, LOG));
            try {
                LOG.add("initializer got " + consumer.next());
            } catch (RuntimeException e) {
                LOG.add("initializer caught " + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
            LOG.add("after: consumer " + consumer.state() + ", generator " + g.state());
            RUN_AND_INITIALIZED.get(1).complete(List.copyOf(LOG));
        }
    }

    /** The bodies of the consumers of {@link ConsumedInACoroutine} and {@link ConsumedInAGenerator}: lambdas of this class, public as {@link SquareBodies}. */
    public static final class ConsumerBodies {
        private ConsumerBodies() {
        }

        /**
         * A body that asks {@code g} for a value, logging the answer or the refusal, and then what it runs as.
         *
         * @param g   the generator
         * @param log the log
         * @return the body
         */
        public static Runnable consume(Generator<Integer> g, List<String> log) {
            return () -> {
                try {
                    log.add("has next: " + g.hasNext());
                } catch (IllegalStateException e) {
                    log.add("consumer refused: " + e.getMessage());
                }
                log.add("consumer goes on as " + Coroutine.current().name());
            };
        }

        /**
         * A generator's body that does what {@link #consume} does, then emits 7.
         *
         * @param g   the generator
         * @param log the log
         * @return the body
         */
        public static Generator.Body<Integer, Void> consumeAndEmit(Generator<Integer> g, List<String> log) {
            return out -> {
                consume(g, log).run();
                out.emit(7);
            };
        }
    }

    /** What the bodies of {@link CaughtAndReturned} and {@link CaughtAndReturnedGenerator} call: public, as {@link SquareBodies}. */
    public static final class AbandonedBodies {
        private AbandonedBodies() {
        }

        /**
         * A call named {@code name}.
         *
         * @param name what the log calls it
         * @param call the call; what it returns is logged
         * @return the pair
         */
        public static Object[] call(String name, Callable<String> call) {
            return new Object[] {name, call};
        }

        /**
         * Makes each call in turn, logging what it returned or threw, up to the first that returns.
         *
         * @param log   the log
         * @param calls pairs made by {@link #call}
         */
        public static void tryEach(List<String> log, List<Object[]> calls) {
            for (Object[] c : calls) {
                try {
                    log.add(c[0] + " returned " + ((Callable<?>) c[1]).call());
                    return;
                } catch (Exception e) {
                    log.add(c[0] + " threw " + e.getClass().getSimpleName() + ": " + e.getMessage());
                }
            }
        }
    }

    /** The body {@link ElsewhereSquares} refers to: public, since a freshly loaded class sees only public code. */
    public static final class SquareBodies {
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
                .hasMessageContaining("the body of coroutine 'virtual initializing' is a lambda of class"
                        + " dev.coro.ClassInitializerTest$StartedOnAVirtualThread, whose static initializer this"
                        + " thread is running");
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
                .hasMessageContaining("the body of generator 'virtual squares' is a lambda of class"
                        + " dev.coro.ClassInitializerTest$SquaresOnAVirtualThread, whose static initializer this"
                        + " thread is running")
                .hasMessageEndingWith("; it is FAILED");
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
                        + " 'squares' is a lambda of class dev.coro.ClassInitializerTest$Squares, whose static initializer"
                        + " this thread is running: no other thread can run the body until that initializer returns,"
                        + " and it waits for the body (on the thread engine every body runs on a thread of its own);"
                        + " create it outside the initializer (in a holder class, say), or use the continuation engine;"
                        + " it is FAILED");
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
                .hasMessage("cannot suspend main context 'main' at its switchTo to run coroutine 'initializing': the body of coroutine"
                        + " 'initializing' is a lambda of class dev.coro.ClassInitializerTest$Started, whose static"
                        + " initializer this thread is running: no other thread can run the body until that initializer"
                        + " returns, and it waits for the body (on the thread engine every body runs on a thread of its"
                        + " own); create it outside the initializer (in a holder class, say), or use the continuation"
                        + " engine; it keeps running (state RUNNING)");
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
                .hasMessageStartingWith("main context 'main' cannot run the body of generator 'referenced squares' (NEW):"
                        + " the body of generator 'referenced squares' is a lambda of class"
                        + " dev.coro.ClassInitializerTest$ReferencedSquares, whose static initializer this thread is running");
        assertThat(read).isInstanceOf(ExceptionInInitializerError.class);
        assertThat(((Throwable) read).getCause()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("the body of generator 'virtual referenced squares' is a lambda of class"
                        + " dev.coro.ClassInitializerTest$ReferencedSquaresOnAVirtualThread, whose static initializer");
    }

    @Test
    void aGeneratorWhoseBodyIsAMethodReferenceToAnotherClassWorksInAnInitializerOnBothEngines() throws Exception {
        assertThat(list(ElsewhereSquares.class, "SQUARES")).containsExactly(1, 4, 9);
        assertThat(readOnAVirtualThread(ElsewhereSquaresOnAVirtualThread.class, "SQUARES")).isEqualTo(List.of(1, 4, 9));
    }

    @Test
    void onAVirtualThreadACoroutineWhoseBodyIsAMethodReferenceToAnotherClassRunsInAnInitializerOnBothEngines() throws Exception {
        assertThat(readOnAVirtualThread(ElsewhereStartedOnAVirtualThread.class, "LOG")).isEqualTo(List.of("after: FINISHED"));
    }

    @Test
    @Timeout(60)
    void aBodyThatIsAMethodReferenceToAnotherClassAndRunsPastTheLookForADeadlockWorksInAnInitializerOnBothEngines() {
        // on the thread engine the initializing thread looks after a stall of 200 ms: a body that has
        // begun is running, not waiting for the class; refused, its thread ran on as main beside main
        LongBodies.LOG.clear();
        assertThat(list(ElsewhereStartedLong.class, "LOG")).containsExactly("body as long", "after: SUSPENDED");
        Coroutine.yield();
        assertThat(LongBodies.LOG).containsExactly("body as long", "after: SUSPENDED", "body resumed");
        assertThat(Coroutine.dump()).contains(": 1 context, current index 0");
        assertThat(list(ElsewhereSquaresLong.class, "SQUARES")).containsExactly(1, 4, 9);
    }

    /** What the refusal of every call of coro by the given-up body of {@code what} says, after the call. */
    private static String outside(String what, String host, String left) {
        return ": its start was refused in the static initializer of class dev.coro.ClassInitializerTest$" + host
                + ", whose lambda it is, and that initializer returned all the same; the body runs now on the thread"
                + " given up then, outside its scheduler, and may not use coro (" + what + " was left " + left + ")";
    }

    @Test
    @Timeout(60)
    void aCoroutineWhoseStartItsClassInitializerRefusedAndCaughtRunsItsBodyLaterOutsideItsSchedulerWhereEveryCallOfCoroThrows()
            throws InterruptedException {
        @SuppressWarnings("unchecked")
        CompletableFuture<Object[]> run = (CompletableFuture<Object[]>) FreshlyLoaded.staticField(CaughtAndReturned.class, "RUN");
        Object[] ran = run.join();
        @SuppressWarnings("unchecked")
        List<String> live = (List<String>) ran[0];
        @SuppressWarnings("unchecked")
        List<Throwable> uncaught = (List<Throwable>) ran[2];
        List<String> log = List.copyOf(live);
        if (!threadEngine()) {
            // the body runs in the initializer, as its coroutine, and its failure reaches the initializer
            assertThat(log).containsExactly("body ran", "Coroutine.current() returned caught", "size 1",
                    "failed: the body's own failure", "after: FAILED");
            assertThat(uncaught).isEmpty();
            return;
        }
        String why = outside("coroutine 'caught'", "CaughtAndReturned", "NEW");
        // its side effects come after the initializer returned; no call of coro acts as the scheduler's: main's
        // channel keeps its one value, nothing was created, and main's run list is as the initializer left it
        assertThat(log).containsExactly("refused", "after: NEW", "body ran",
                "Coroutine.current() threw IllegalStateException: the body of coroutine 'caught' cannot call Coroutine.current" + why,
                "Coroutine.create threw IllegalStateException: the body of coroutine 'caught' cannot call Coroutine.create" + why,
                "send threw IllegalStateException: the body of coroutine 'caught' cannot call Channel.send" + why,
                "receive threw IllegalStateException: the body of coroutine 'caught' cannot call Channel.receive" + why,
                "Coroutine.yield() threw IllegalStateException: the body of coroutine 'caught' cannot call Coroutine.yield" + why,
                "size 1");
        // the failure its thread ended with is reported nowhere: not to main, nor to that thread's handler
        ((Thread) ran[1]).join();
        assertThat(uncaught).isEmpty();
        assertThat(Coroutine.dump()).contains(": 2 contexts, current index 0").contains("coroutine 'caught'")
                .doesNotContain("made by the body");
        // run now, the coroutine starts afresh on a thread of its own, its body runs as any, and its failure reaches main
        assertThat(catchThrowable(Coroutine::yield)).isInstanceOf(CoroutineException.class)
                .hasMessageStartingWith("coroutine 'caught' failed: java.lang.IllegalStateException: the body's own failure");
        assertThat(live).endsWith("body ran", "Coroutine.current() returned caught", "size 1");
        assertThat(uncaught).isEmpty();
        assertThat(Coroutine.dump()).contains(": 1 context, current index 0");
    }

    @Test
    @Timeout(60)
    void aGeneratorWhoseStartItsClassInitializerRefusedAndCaughtRunsItsBodyLaterOutsideItsSchedulerWhereEveryCallOfCoroThrows() {
        @SuppressWarnings("unchecked")
        CompletableFuture<List<String>> run = (CompletableFuture<List<String>>) FreshlyLoaded.staticField(
                CaughtAndReturnedGenerator.class, "RUN");
        List<String> log = List.copyOf(run.join());
        if (!threadEngine()) {
            // the body runs in the initializer, inside its consumer, main; it ends without a value
            assertThat(log).containsExactly("body ran", "Coroutine.current() returned main", "has next: false", "after: FINISHED");
            return;
        }
        String why = outside("generator 'caught squares'", "CaughtAndReturnedGenerator", "FAILED");
        assertThat(log).containsExactly("refused", "after: FAILED", "body ran",
                "Coroutine.current() threw IllegalStateException: the body of generator 'caught squares' cannot call Coroutine.current" + why,
                "Coroutine.yield() threw IllegalStateException: the body of generator 'caught squares' cannot call Coroutine.yield" + why,
                "Generator.of threw IllegalStateException: the body of generator 'caught squares' cannot call Generator.of" + why,
                "emit threw IllegalStateException: the body of generator 'caught squares' cannot emit from generator 'caught squares'"
                        + " (FAILED)" + why);
        assertThat(Coroutine.dump()).contains(": 1 context, current index 0");
    }

    @Test
    @Timeout(60)
    void aGeneratorStuckForTheInitializerWhileACoroutineOfAnotherClassConsumesItFailsThatConsumersCallAndTheCoroutineRunsOn() {
        List<Object> futures = list(ConsumedInACoroutine.class, "RUN_AND_INITIALIZED");
        @SuppressWarnings("unchecked")
        List<String> log = ((CompletableFuture<List<String>>) futures.get(1)).join();
        if (!threadEngine()) {
            // one thread: the generator's body runs in the coroutine, inside the initializer, and waits at its emit
            assertThat(log).containsExactly("generator body ran", "has next: true", "consumer goes on as consumer",
                    "after: consumer FINISHED, generator SUSPENDED");
            return;
        }
        // the generator is the one that can never run: its consumer's call fails, and the coroutine runs on in its turn;
        // the initializer's wait for the coroutine ends as the coroutine does, with nothing refused to it
        String host = "dev.coro.ClassInitializerTest$ConsumedInACoroutine";
        assertThat(log).containsExactly("consumer refused: coroutine 'consumer' cannot run the body of generator"
                + " 'inner squares' (NEW): the body of generator"
                + " 'inner squares' is a lambda of class " + host + ", whose static initializer this thread is running: no other"
                + " thread can run the body until that initializer returns, and it waits for the body (on the thread engine"
                + " every body runs on a thread of its own); create it outside the initializer (in a holder class, say), or"
                + " use the continuation engine; it is FAILED",
                "consumer goes on as consumer", "after: consumer FINISHED, generator FAILED");
        // its body runs once the class is initialized, on the thread given up, where it may not use coro
        @SuppressWarnings("unchecked")
        CompletableFuture<List<String>> run = (CompletableFuture<List<String>>) futures.get(0);
        assertThat(run.join()).endsWith("generator body ran", "emit threw IllegalStateException: the body of generator"
                + " 'inner squares' cannot emit from generator 'inner squares' (FAILED)"
                + outside("generator 'inner squares'", "ConsumedInACoroutine", "FAILED"));
        assertThat(Coroutine.dump()).contains(": 1 context, current index 0");
    }

    @Test
    @Timeout(120)
    void onAVirtualThreadTooAGeneratorStuckForTheInitializerWhileACoroutineOfAnotherClassConsumesItFailsThatConsumersCall()
            throws Exception {
        withThreeCarriers(ConsumedInACoroutineOnAVirtualThreadWithThreeCarriers.class,
                ClassInitializerTest::consumedInACoroutineOnAVirtualThread);
    }

    /**
     * Runs {@code check}, or, on the thread engine in a JVM of fewer than three carriers, {@code child}'s main (which
     * runs it and prints how many carriers it had) in a child JVM of three: there the initializing thread and the
     * generator's, which waits for the class, each keep their carrier, and the coroutine or generator refused its
     * call needs a third to run on (here the check would hang, and keep two carriers for the rest of the run).
     */
    private static void withThreeCarriers(Class<?> child, ThrowingRunnable<InterruptedException> check) throws Exception {
        if (threadEngine() && Carriers.count() < 3) {
            String out = ChildJvms.run(child, "-Djdk.virtualThreadScheduler.parallelism=3");
            assertThat(out).as("it printed:%n%s", out).endsWith("checked with 3 carriers\n");
            return;
        }
        check.run();
    }

    /** Runs the check of {@link ConsumedInACoroutineOnAVirtualThread} in a JVM of three carriers. */
    static final class ConsumedInACoroutineOnAVirtualThreadWithThreeCarriers {
        public static void main(String[] args) throws InterruptedException {
            consumedInACoroutineOnAVirtualThread();
            System.out.println("checked with " + Carriers.count() + " carriers");
        }
    }

    /**
     * Initializes {@link ConsumedInACoroutineOnAVirtualThread} on a virtual thread and asserts what its
     * coroutine, its generator and the generator's body did (on the thread engine, with three carriers).
     */
    @SuppressWarnings("unchecked")
    private static void consumedInACoroutineOnAVirtualThread() throws InterruptedException {
        Object read = readOnAVirtualThread(ConsumedInACoroutineOnAVirtualThread.class, "RUN_AND_INITIALIZED");
        assertThat(read).isInstanceOf(List.class);
        @SuppressWarnings("unchecked")
        List<String> log = ((List<CompletableFuture<List<String>>>) read).get(1).join();
        if (!threadEngine()) {
            assertThat(log).containsExactly("generator body ran", "has next: true", "consumer goes on as virtual consumer",
                    "after: consumer FINISHED, generator SUSPENDED");
            return;
        }
        String host = "dev.coro.ClassInitializerTest$ConsumedInACoroutineOnAVirtualThread";
        assertThat(log).containsExactly("consumer refused: coroutine 'virtual consumer' cannot run the body of generator"
                + " 'virtual inner squares' (NEW): the body of generator"
                + " 'virtual inner squares' is a lambda of class " + host + ", whose static initializer this thread is running: no other"
                + " thread can run the body until that initializer returns, and it waits for the body (on the thread engine"
                + " every body runs on a thread of its own); create it outside the initializer (in a holder class, say), or"
                + " use the continuation engine; it is FAILED",
                "consumer goes on as virtual consumer", "after: consumer FINISHED, generator FAILED");
        assertThat(((List<CompletableFuture<List<String>>>) read).get(0).join()).endsWith("generator body ran",
                "emit threw IllegalStateException: the body of generator 'virtual inner squares' cannot emit from generator"
                + " 'virtual inner squares' (FAILED)" + outside("generator 'virtual inner squares'",
                        "ConsumedInACoroutineOnAVirtualThread", "FAILED"));
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

    @Test
    @Timeout(60)
    void aGeneratorStuckForTheInitializerWhileAGeneratorOfAnotherClassConsumesItFailsThatConsumersCall() {
        assertConsumedInAGenerator(list(ConsumedInAGenerator.class, "RUN_AND_INITIALIZED"), "ConsumedInAGenerator", "nested squares");
    }

    @Test
    @Timeout(120)
    void onAVirtualThreadTooAGeneratorStuckForTheInitializerWhileAGeneratorOfAnotherClassConsumesItFailsThatConsumersCall()
            throws Exception {
        withThreeCarriers(ConsumedInAGeneratorOnAVirtualThreadWithThreeCarriers.class,
                ClassInitializerTest::consumedInAGeneratorOnAVirtualThread);
    }

    /** Runs the check of {@link ConsumedInAGeneratorOnAVirtualThread} in a JVM of three carriers. */
    static final class ConsumedInAGeneratorOnAVirtualThreadWithThreeCarriers {
        public static void main(String[] args) throws InterruptedException {
            consumedInAGeneratorOnAVirtualThread();
            System.out.println("checked with " + Carriers.count() + " carriers");
        }
    }

    /** Initializes {@link ConsumedInAGeneratorOnAVirtualThread} on a virtual thread and asserts what it logged. */
    @SuppressWarnings("unchecked")
    private static void consumedInAGeneratorOnAVirtualThread() throws InterruptedException {
        Object read = readOnAVirtualThread(ConsumedInAGeneratorOnAVirtualThread.class, "RUN_AND_INITIALIZED");
        assertThat(read).isInstanceOf(List.class);
        assertConsumedInAGenerator((List<Object>) read, "ConsumedInAGeneratorOnAVirtualThread", "virtual nested squares");
    }

    /**
     * Asserts what the initializer of {@code host} (a class of this one), which consumes a generator whose body
     * consumes {@code inner}, a generator of {@code host}, logged: {@code futures} holds its two logs.
     */
    @SuppressWarnings("unchecked")
    private static void assertConsumedInAGenerator(List<Object> futures, String host, String inner) {
        List<String> log = ((CompletableFuture<List<String>>) futures.get(1)).join();
        if (!threadEngine()) {
            // one thread: the inner body runs in the consuming generator's, inside the initializer, and waits at its emit
            assertThat(log).containsExactly("generator body ran", "has next: true", "consumer goes on as main",
                    "initializer got 7", "after: consumer SUSPENDED, generator SUSPENDED");
            return;
        }
        // the inner generator is the one that can never run: the call of the body that consumes it fails, and that
        // body runs on and emits; the initializer's wait for it ends with the value, nothing refused to the initializer
        assertThat(log).containsExactly("consumer refused: main context 'main' cannot run the body of generator"
                + " '" + inner + "' (NEW): the body of generator"
                + " '" + inner + "' is a lambda of class dev.coro.ClassInitializerTest$" + host + ", whose static initializer"
                + " this thread is running: no other"
                + " thread can run the body until that initializer returns, and it waits for the body (on the thread engine"
                + " every body runs on a thread of its own); create it outside the initializer (in a holder class, say), or"
                + " use the continuation engine; it is FAILED",
                "consumer goes on as main", "initializer got 7", "after: consumer SUSPENDED, generator FAILED");
        // its body runs once the class is initialized, on the thread given up, where it may not use coro
        CompletableFuture<List<String>> run = (CompletableFuture<List<String>>) futures.get(0);
        assertThat(run.join()).endsWith("generator body ran", "emit threw IllegalStateException: the body of generator"
                + " '" + inner + "' cannot emit from generator '" + inner + "' (FAILED)"
                + outside("generator '" + inner + "'", host, "FAILED"));
    }
}
