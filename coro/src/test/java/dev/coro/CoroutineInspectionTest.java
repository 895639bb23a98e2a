package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Coroutine.State;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Seeing inside: every state edge, stack traces of suspended and parked contexts, and dumps. */
@ExtendWith(FreshThread.class)
class CoroutineInspectionTest {

    private final List<String> log = new ArrayList<>();
    /** Made on the test's own thread, which owns it. */
    private Channel<String> requests;

    @Test
    void stateWalksThroughEveryEdgeOfTheTable() {
        requests = new Channel<>("requests", 0);
        List<State> seen = new ArrayList<>();
        Coroutine[] self = new Coroutine[1];
        Coroutine co = Coroutine.create("walker", () -> {
            seen.add(self[0].state());
            Coroutine.yield();
            requests.receive();
        });
        self[0] = co;
        seen.add(co.state());
        co.switchTo();
        seen.add(co.state());
        Coroutine.yield();
        seen.add(co.state());
        requests.send("go");
        seen.add(co.state());
        Coroutine.yield();
        seen.add(co.state());
        assertThat(seen).containsExactly(State.NEW, State.RUNNING, State.SUSPENDED, State.PARKED,
                State.SUSPENDED, State.FINISHED);

        Coroutine failing = Coroutine.create("failing", () -> {
            throw new IllegalStateException("no");
        });
        assertThatThrownBy(Coroutine::yield).isInstanceOf(CoroutineException.class);
        assertThat(failing.state()).isEqualTo(State.FAILED);

        Coroutine closed = Coroutine.create("closed", () -> requests.receive());
        Coroutine.yield();
        assertThat(closed.state()).isEqualTo(State.PARKED);
        closed.close();
        assertThat(closed.state()).isEqualTo(State.CLOSED);
        assertThat(Coroutine.current().state()).isEqualTo(State.RUNNING);
    }

    @Test
    void theCodeOfAContextIsTheBodyTheUserGaveOrTheConsumerOfABodyWithAnArgument() {
        Runnable body = () -> log.add("ran");
        Consumer<String> consumer = log::add;
        Coroutine plain = Coroutine.create("plain", body);
        Coroutine withArgument = Coroutine.create("with-argument", consumer, "arg");
        assertThat(plain.context.code()).isSameAs(body);
        assertThat(withArgument.context.code()).isSameAs(consumer);
    }

    @Test
    void aStateEdgeOutsideTheTableFailsTheAssertionNamingTheContextAndBothStates() {
        Coroutine co = Coroutine.create("walker", () -> { });
        // the check is an assertion: tests run with -ea
        assertThatThrownBy(() -> co.context.moveTo(State.FINISHED)).isInstanceOf(AssertionError.class)
                .hasMessage("walker: NEW -> FINISHED");
        assertThat(co.state()).isEqualTo(State.NEW);
    }

    @Test
    void stackTraceOfASuspendedCoroutineStartsAtTheYieldItWaitsIn() {
        Coroutine co = Coroutine.create("sleeper", this::sleeper);
        assertThat(co.stackTrace()).as("not started").isEmpty();
        co.switchTo();
        StackTraceElement[] frames = co.stackTrace();
        assertThat(frames[0].getClassName() + "." + frames[0].getMethodName()).isEqualTo("dev.coro.Coroutine.yield");
        assertThat(frames[1].getMethodName()).isEqualTo("sleeper");
        co.close();
        assertThat(co.stackTrace()).as("ended").isEmpty();
    }

    /**
     * A body that is a method reference to the library's own method ({@code Coroutine::yield}) has no
     * frame of the user's: its stack trace and the dump still show where it is suspended, its call of
     * {@code Coroutine.yield}, as a lambda's body would show it above the lambda; one parked by
     * {@code channel::receive} its {@code Channel.receive}; one that consumes a generator by
     * {@code generator::next} the body's frames, then that call, as a consumer's lambda would show them.
     */
    @Test
    void aBodyThatIsAReferenceToTheLibrarysOwnMethodShowsTheCallItIsSuspendedIn() {
        requests = new Channel<>("requests", 0);
        Generator<Integer> ticks = Generator.of("ticks", this::tick);
        Coroutine yielder = Coroutine.create("yielder", Coroutine::yield);
        Coroutine receiver = Coroutine.create("receiver", requests::receive);
        Coroutine consumer = Coroutine.create("consumer", ticks::next);
        Coroutine.yield();
        assertThat(yielder.stackTrace()).extracting(f -> f.getClassName() + "." + f.getMethodName())
                .containsExactly("dev.coro.Coroutine.yield");
        assertThat(receiver.stackTrace()).extracting(f -> f.getClassName() + "." + f.getMethodName())
                .containsExactly("dev.coro.Channel.receive");
        assertThat(consumer.stackTrace()).extracting(f -> f.getClassName() + "." + f.getMethodName())
                .containsExactly("dev.coro.Coroutine.yield", "dev.coro.CoroutineInspectionTest.tick", "dev.coro.Generator.next");
        assertThat(withoutLineNumbers(Coroutine.dump())).endsWith("""
                  [1] coroutine 'yielder': SUSPENDED
                        at dev.coro.Coroutine.yield(Coroutine.java:_)
                  [2] coroutine 'receiver': PARKED, waits to receive from channel 'requests'
                        at dev.coro.Channel.receive(Channel.java:_)
                  [3] coroutine 'consumer': SUSPENDED, inside generator 'ticks'
                        at dev.coro.Coroutine.yield(Coroutine.java:_)
                        at dev.coro.CoroutineInspectionTest.tick(CoroutineInspectionTest.java:_)
                        at dev.coro.Generator.next(Generator.java:_)
                """);
        yielder.close();
        receiver.close();
        consumer.close();
    }

    @Test
    void stackTraceOfAParkedCoroutineStartsAtTheChannelOperation() {
        requests = new Channel<>("requests", 0);
        Coroutine co = Coroutine.create("server", this::server);
        Coroutine.yield();
        StackTraceElement[] frames = co.stackTrace();
        assertThat(frames[0].getClassName() + "." + frames[0].getMethodName()).isEqualTo("dev.coro.Channel.receive");
        assertThat(frames[1].getMethodName()).isEqualTo("server");
        co.close();
    }

    @Test
    void stackTraceOfSuspendedMainShowsTheThreadBelowTheRunningCoroutine() {
        StackTraceElement[][] mainFrames = new StackTraceElement[1][];
        Coroutine main = Coroutine.current();
        Coroutine co = Coroutine.create("inspector", () -> mainFrames[0] = main.stackTrace());
        co.switchTo();
        assertThat(mainFrames[0][0].getClassName() + "." + mainFrames[0][0].getMethodName())
                .isEqualTo("dev.coro.Coroutine.switchTo");
        assertThat(mainFrames[0][1].getMethodName()).isEqualTo("stackTraceOfSuspendedMainShowsTheThreadBelowTheRunningCoroutine");
    }

    @Test
    void stackTraceOfTheRunningCoroutineIsRefused() {
        assertThatThrownBy(() -> Coroutine.current().stackTrace()).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot take the stack trace of main context 'main' (RUNNING): it is the"
                        + " caller itself; use Thread.currentThread().getStackTrace()");
    }

    /**
     * A name holding a line break, a quote or a backslash is shown escaped, and one of thousands of
     * characters cut, in a dump, a refusal and {@code toString()}, so that a dump keeps one line a
     * context: they had been printed raw, a line break splitting the dump's lines.
     */
    @Test
    @org.junit.jupiter.api.Timeout(10)
    void aNameHoldingALineBreakOrAQuoteIsShownEscapedAndAVeryLongOneCutWhereverItIsPrinted() throws InterruptedException {
        String oddName = "two\nlines 'quoted' \\ \t\u0007";
        String odd = "two\\nlines \\'quoted\\' \\\\ \\t\\u0007";
        String big = "x".repeat(200) + "\u2026(+800 chars)";
        Channel<Integer> box = new Channel<>("in\nbox", 0);
        Coroutine waiting = Coroutine.create(oddName, () -> box.receive());
        Coroutine yielding = Coroutine.create("x".repeat(1000), () -> Coroutine.yield());
        Generator<Integer> g = Generator.of("gen\r\n", out -> out.emit(1));
        waiting.switchTo();
        yielding.switchTo();

        assertThat(Coroutine.dump().lines().filter(l -> l.startsWith("  [")).toList()).containsExactly(
                "  [0] main: RUNNING (the caller)",
                "  [1] coroutine '" + odd + "': PARKED, waits to receive from channel 'in\\nbox'",
                "  [2] coroutine '" + big + "': SUSPENDED");
        assertThat(waiting).hasToString("Coroutine[" + odd + ", PARKED]");
        assertThat(g.toString()).isEqualTo("Generator[gen\\r\\n, NEW]");
        assertThat(box.toString()).startsWith("Channel[in\\nbox, capacity 0, ");
        assertThat(waiting.name()).as("the name itself stays as given").isEqualTo(oddName);
        Throwable refused = OtherThread.thrownOn("intruder\n", yielding::switchTo);
        assertThat(refused).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("thread 'intruder\\n' (#")
                .hasMessageContaining(") cannot switchTo coroutine '" + big + "' (SUSPENDED): it belongs to thread 'test-");
        assertThat(refused.getMessage()).doesNotContain("\n");
        String pairs = "x".repeat(199) + "\uD83D\uDE00".repeat(10);
        assertThat(Coroutine.create(pairs, () -> { })).as("cut before a character of two chars, not through it")
                .hasToString("Coroutine[" + "x".repeat(199) + "\u2026(+20 chars), NEW]");
        assertThatThrownBy(() -> Generator.buffered("gen\n'", 0, out -> { })).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("main context 'main' cannot make generator 'gen\\n\\'' buffered with n = 0");
    }

    @Test
    void dumpOfASmallProgramListsEveryContextWithItsStateWaitAndTopFrames() {
        requests = new Channel<>("requests", 0);
        Coroutine.create("server", this::server);
        Coroutine sleeper = Coroutine.create("sleeper", this::sleeper);
        Coroutine.create("idle", () -> log.add("idle ran"));
        sleeper.switchTo();

        assertThat(withoutLineNumbers(Coroutine.dump())).startsWith("""
                thread 'test-dumpOfASmallProgramListsEveryContextWithItsStateWaitAndTopFrames': 4 contexts, current index 0
                  [0] main: RUNNING (the caller)
                        at dev.coro.Coroutine.dump(Coroutine.java:_)
                        at dev.coro.CoroutineInspectionTest.dumpOfASmallProgramListsEveryContextWithItsStateWaitAndTopFrames(CoroutineInspectionTest.java:_)
                """).as("after the caller's third frame and the count of the rest").endsWith(" more\n" + """
                  [1] coroutine 'server': PARKED, waits to receive from channel 'requests'
                        at dev.coro.Channel.receive(Channel.java:_)
                        at dev.coro.CoroutineInspectionTest.server(CoroutineInspectionTest.java:_)
                  [2] coroutine 'sleeper': SUSPENDED
                        at dev.coro.Coroutine.yield(Coroutine.java:_)
                        at dev.coro.CoroutineInspectionTest.sleeper(CoroutineInspectionTest.java:_)
                  [3] coroutine 'idle': NEW
                """);
    }

    /**
     * A coroutine calls the dump: main, suspended in its {@code switchTo}, shows its frames as ever;
     * the coroutine, {@code (the caller)}, its call of {@code Coroutine.dump}, then its lambda.
     */
    @Test
    void dumpFromACoroutineShowsMainSuspendedWithItsFramesAndTheCallerFromItsCallOfDump() {
        Coroutine reporter = Coroutine.create("reporter", () -> log.add(Coroutine.dump()));
        reporter.switchTo();
        assertThat(withoutLineNumbers(log.get(0))).startsWith("""
                thread 'test-dumpFromACoroutineShowsMainSuspendedWithItsFramesAndTheCallerFromItsCallOfDump': 2 contexts, current index 1
                  [0] main: SUSPENDED
                        at dev.coro.Coroutine.switchTo(Coroutine.java:_)
                        at dev.coro.CoroutineInspectionTest.dumpFromACoroutineShowsMainSuspendedWithItsFramesAndTheCallerFromItsCallOfDump(CoroutineInspectionTest.java:_)
                """).as("the reporter's frames: the public call, then its lambda; its body's entry cut").endsWith("""
                  [1] coroutine 'reporter': RUNNING (the caller)
                        at dev.coro.Coroutine.dump(Coroutine.java:_)
                        at dev.coro.CoroutineInspectionTest.lambda$dumpFromACoroutineShowsMainSuspendedWithItsFramesAndTheCallerFromItsCallOfDump$_(CoroutineInspectionTest.java:_)
                """).doesNotContain(DUMP_MACHINERY);
    }

    /**
     * Main calls the dump: under {@code (the caller)} its call of {@code Coroutine.dump}, then the
     * test method that made it; none of the dump's own frames; the others' frames as ever.
     */
    @Test
    void dumpFromMainListsTheCallersFramesFromItsCallOfDumpWithoutTheDumpsOwn() {
        requests = new Channel<>("requests", 0);
        Coroutine.create("server", this::server).switchTo();
        String dump = withoutLineNumbers(Coroutine.dump(1));
        assertThat(dump).startsWith("""
                thread 'test-dumpFromMainListsTheCallersFramesFromItsCallOfDumpWithoutTheDumpsOwn': 2 contexts, current index 0
                  [0] main: RUNNING (the caller)
                        at dev.coro.Coroutine.dump(Coroutine.java:_)
                        at dev.coro.CoroutineInspectionTest.dumpFromMainListsTheCallersFramesFromItsCallOfDumpWithoutTheDumpsOwn(CoroutineInspectionTest.java:_)
                """).endsWith("  ... and 1 more context (Coroutine.dump(2) lists them all)\n").doesNotContain(DUMP_MACHINERY);
        assertThat(withoutLineNumbers(Coroutine.dump())).contains("""
                  [1] coroutine 'server': PARKED, waits to receive from channel 'requests'
                        at dev.coro.Channel.receive(Channel.java:_)
                        at dev.coro.CoroutineInspectionTest.server(CoroutineInspectionTest.java:_)
                """);
    }

    /**
     * A pool thread's loop, which runs its main and enters each submitted body, is machinery as a
     * body's entry is: a submitted body's frames end at the body, and the pool's main, waiting for
     * work, shows its wait and no frames.
     */
    @Test
    void aPoolThreadsDumpShowsNoFrameOfThePoolsLoop() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            String dump = withoutLineNumbers(Coroutine.await(pool.submit(() -> {
                requests = new Channel<>("requests", 0);
                Coroutine server = Coroutine.create("server", this::server);
                Coroutine.yield();
                String d = Coroutine.dump();
                server.close();
                return d;
            })));
            assertThat(dump).contains("  [0] main: PARKED, waits to take work from coro-pool-")
                    .contains("  [1] coroutine 'coroutine-1': RUNNING (the caller)\n"
                            + "        at dev.coro.Coroutine.dump(Coroutine.java:_)\n"
                            + "        at dev.coro.CoroutineInspectionTest.lambda$aPoolThreadsDumpShowsNoFrameOfThePoolsLoop$")
                    .contains("""
                              [2] coroutine 'server': PARKED, waits to receive from channel 'requests'
                                    at dev.coro.Channel.receive(Channel.java:_)
                                    at dev.coro.CoroutineInspectionTest.server(CoroutineInspectionTest.java:_)
                            """).doesNotContain("CoroutinePool", "PoolWorker", "PoolFuture").doesNotContain("... ");
            assertThat(dump.lines().filter(l -> l.startsWith("        at ")).count()).as("two frames of the caller, two of the server")
                    .isEqualTo(4);
        }
    }

    @Test
    void dumpNamesTheGeneratorACoroutineIsSuspendedIn() {
        Generator<Integer> ticks = Generator.of("ticks", this::tick);
        Coroutine consumer = Coroutine.create("consumer", () -> ticks.next());
        consumer.switchTo();
        assertThat(withoutLineNumbers(Coroutine.dump()))
                .as("how the body is entered (a nested continuation, or its thread and the consumer's park) is cut"
                        + " down to the consumer's call; the last frame is the consumer's lambda")
                .startsWith("""
                thread 'test-dumpNamesTheGeneratorACoroutineIsSuspendedIn': 2 contexts, current index 0
                  [0] main: RUNNING (the caller)
                        at dev.coro.Coroutine.dump(Coroutine.java:_)
                        at dev.coro.CoroutineInspectionTest.dumpNamesTheGeneratorACoroutineIsSuspendedIn(CoroutineInspectionTest.java:_)
                """).endsWith(" more\n" + """
                  [1] coroutine 'consumer': SUSPENDED, inside generator 'ticks'
                        at dev.coro.Coroutine.yield(Coroutine.java:_)
                        at dev.coro.CoroutineInspectionTest.tick(CoroutineInspectionTest.java:_)
                        at dev.coro.Generator.next(Generator.java:_)
                        ... 1 more
                """);
        consumer.close();
    }

    /**
     * A generator's body that main consumes calls the dump: under {@code (the caller)} its call, the
     * body, then main's call of the generator, as for a context suspended in a body.
     */
    @Test
    void dumpFromInsideAGeneratorBodyListsTheBodyThenTheConsumersCall() {
        try (Generator<String> dumps = Generator.of("dumps", out -> out.emit(Coroutine.dump()))) {
            assertThat(withoutLineNumbers(dumps.next())).startsWith("""
                    thread 'test-dumpFromInsideAGeneratorBodyListsTheBodyThenTheConsumersCall': 1 context, current index 0
                      [0] main: RUNNING (the caller)
                            at dev.coro.Coroutine.dump(Coroutine.java:_)
                            at dev.coro.CoroutineInspectionTest.lambda$dumpFromInsideAGeneratorBodyListsTheBodyThenTheConsumersCall$_(CoroutineInspectionTest.java:_)
                            at dev.coro.Generator.next(Generator.java:_)
                    """);
        }
    }

    @Test
    void stackTraceOfMainSuspendedInsideAGeneratorBodyShowsTheBodyThenMain() {
        StackTraceElement[][] mainFrames = new StackTraceElement[1][];
        Coroutine main = Coroutine.current();
        Coroutine.create("inspector", () -> mainFrames[0] = main.stackTrace());
        try (Generator<Integer> ticks = Generator.of("ticks", this::tick)) {
            assertThat(ticks.next()).isEqualTo(1);
        }
        assertThat(java.util.Arrays.stream(mainFrames[0]).limit(4).map(f -> f.getClassName() + "." + f.getMethodName()))
                .containsExactly("dev.coro.Coroutine.yield", "dev.coro.CoroutineInspectionTest.tick", "dev.coro.Generator.next",
                        "dev.coro.CoroutineInspectionTest.stackTraceOfMainSuspendedInsideAGeneratorBodyShowsTheBodyThenMain");
    }

    /**
     * A coroutine suspended in a generator's body, nested one or two deep, shows the body's frames, then
     * every consumer's, at every depth of the bodies' stacks: on the continuation engine the JDK's walk
     * of its stack stopped at the entry of a body where that body's frames filled the JDK's batches of
     * frames exactly (a dozen frames deep here), and its trace and dump ended with the body's lambda,
     * without its consumer's call of {@code hasNext} and everything below it.
     */
    @Test
    @org.junit.jupiter.api.Timeout(30)
    void aCoroutineSuspendedInAGeneratorsBodyShowsItsConsumersFramesAtEveryDepth() {
        for (int nesting = 1; nesting <= 2; nesting++) {
            for (int depth = 0; depth < 70; depth++) {
                int n = nesting;
                int d = depth;
                Coroutine co = Coroutine.create("consumer", () -> consume(n, d));
                Coroutine.yield();
                List<String> expected = new ArrayList<>(List.of("dev.coro.Coroutine.yield"));
                for (int level = 0; level < n; level++) {
                    for (int k = 0; k <= d; k++) {
                        expected.add("dev.coro.CoroutineInspectionTest.descend");
                    }
                    expected.addAll(List.of("lambda", "dev.coro.Generator.hasNext", "dev.coro.CoroutineInspectionTest.consume"));
                }
                expected.add("lambda");
                assertThat(co.stackTrace()).as("nesting %d, depth %d", n, d)
                        .extracting(f -> f.getMethodName().startsWith("lambda$") ? "lambda" : f.getClassName() + "." + f.getMethodName())
                        .containsExactlyElementsOf(expected);
                assertThat(Coroutine.dump()).as("nesting %d, depth %d", n, d) // its first three frames, then how many more
                        .endsWith("\n        ... " + (expected.size() - 3) + " more\n");
                co.close();
            }
        }
    }

    /**
     * Consumes a generator whose body calls {@code depth + 1} deep, then consumes the next of
     * {@code nesting} levels the same way, or yields in the innermost.
     */
    private static void consume(int nesting, int depth) {
        Generator.of("level " + nesting, out -> descend(depth, depth, nesting - 1)).hasNext();
    }

    private static void descend(int left, int depth, int nesting) {
        if (left > 0) {
            descend(left - 1, depth, nesting);
        } else if (nesting > 0) {
            consume(nesting, depth);
        } else {
            Coroutine.yield();
        }
    }

    private void tick(Generator.Emitter<Integer, Void> out) {
        Coroutine.yield();
        out.emit(1);
    }

    @Test
    void dumpBeforeAnyCreateShowsOnlyMain() {
        assertThat(withoutLineNumbers(Coroutine.dump())).startsWith("""
                thread 'test-dumpBeforeAnyCreateShowsOnlyMain': 1 context, current index 0
                  [0] main: RUNNING (the caller)
                        at dev.coro.Coroutine.dump(Coroutine.java:_)
                        at dev.coro.CoroutineInspectionTest.dumpBeforeAnyCreateShowsOnlyMain(CoroutineInspectionTest.java:_)
                """).doesNotContain("  [1]");
    }

    /** Frames of the dump's own making: none of them is the user's. */
    private static final String[] DUMP_MACHINERY = {"ThreadDump", "StackTraces", "getStackTrace", "runningFrames",
        "trampoline", "ThreadStack", "MainStack", "Scheduler", "Context.runBody"};

    /** {@code dump} with its line numbers and lambdas' numbers as {@code _}. */
    private static String withoutLineNumbers(String dump) {
        return dump.replaceAll("\\.java:\\d+\\)", ".java:_)").replaceAll("(lambda\\$\\w+)\\$\\d+\\(", "$1\\$_(");
    }

    private void server() {
        log.add("server got " + requests.receive());
    }

    private void sleeper() {
        Coroutine.yield();
        log.add("sleeper woke");
    }
}
