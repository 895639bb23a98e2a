package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.coro.Coroutine.State;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.ExtendWith;

/** What is particular to the thread engine; runs only when it is this JVM's engine. */
@ExtendWith(FreshThread.class)
@EnabledIf("threadEngineRuns")
class ThreadEngineTest {

    static boolean threadEngineRuns() {
        return Engines.running().equals("threads");
    }

    /** Waits for {@code t} to end; a thread that outlives its coroutine fails the test instead of hanging it. */
    private static void assertEnds(Thread t) throws InterruptedException {
        assertThat(t.join(Duration.ofMinutes(1))).as("%s has ended", t).isTrue();
        assertThat(t.isAlive()).isFalse();
    }

    @Test
    void aBodyRunsOnAVirtualThreadOfItsOwnAndMainStaysTheOwnerThread() {
        Thread owner = Thread.currentThread();
        AtomicReference<Thread> seen = new AtomicReference<>();
        Coroutine c = Coroutine.create("body", () -> {
            seen.set(Thread.currentThread());
            Coroutine.yield();
        });
        c.switchTo();
        assertThat(Thread.currentThread()).isSameAs(owner);
        assertThat(seen.get()).isNotSameAs(owner).isSameAs(ThreadEngine.threadOf(c));
        assertThat(seen.get().isVirtual()).isTrue();
        assertThat(seen.get().getName()).isEqualTo("coro body");
        assertThat(Scheduler.current().engine).isInstanceOf(ThreadEngine.class);
        c.close();
    }

    @Test
    void anExceptionMadeInABodyEndsAtItsVirtualThreadsEntryWithNoFrameOfMain() {
        AtomicReference<Throwable> made = new AtomicReference<>();
        Coroutine.create("body", () -> made.set(new Exception())).switchTo();
        StackTraceElement[] frames = made.get().getStackTrace();
        assertThat(Arrays.stream(frames).map(StackTraceElement::getMethodName))
                .doesNotContain("anExceptionMadeInABodyEndsAtItsVirtualThreadsEntryWithNoFrameOfMain");
        assertThat(frames[frames.length - 1].getClassName()).isEqualTo("java.lang.VirtualThread");
    }

    @Test
    void aThreadMadeInABodyTakesTheDaemonStatusPriorityAndGroupOfTheBodysVirtualThread() {
        Thread owner = Thread.currentThread();
        owner.setPriority(Thread.NORM_PRIORITY + 2);
        AtomicReference<Thread> made = new AtomicReference<>();
        AtomicReference<ThreadGroup> bodys = new AtomicReference<>();
        Coroutine.create("maker", () -> {
            bodys.set(Thread.currentThread().getThreadGroup());
            made.set(new Thread(() -> {
            }));
        }).switchTo();
        assertThat(owner.isDaemon()).isFalse();
        assertThat(made.get().isDaemon()).isTrue();
        assertThat(made.get().getPriority()).isEqualTo(Thread.NORM_PRIORITY);
        assertThat(made.get().getThreadGroup()).isSameAs(bodys.get()).isNotSameAs(owner.getThreadGroup());
    }

    @Test
    void theCoroutinesThreadSeesItsScheduler() {
        AtomicReference<Coroutine> current = new AtomicReference<>();
        Coroutine c = Coroutine.create("body", () -> {
            current.set(Coroutine.current());
            Coroutine.current().state();
        });
        c.switchTo();
        assertThat(current.get()).isSameAs(c);
    }

    /** Which context runs, as each context sees it; plain fields on purpose: the handoff orders them. */
    private Coroutine running;
    private int overlaps;

    @Test
    void onlyTheContextHoldingTheTurnRunsAtAnyMoment() {
        int rounds = 2_000;
        for (int k = 0; k < 4; k++) {
            Coroutine.create("worker-" + k, () -> {
                for (int i = 0; i < rounds; i++) {
                    enter();
                    Thread.onSpinWait();
                    leave();
                    Coroutine.yield();
                }
            });
        }
        for (int i = 0; i <= rounds; i++) {
            enter();
            leave();
            Coroutine.yield();
        }
        assertThat(overlaps).isZero();
    }

    private void enter() {
        if (running != null) {
            overlaps++;
        }
        running = Coroutine.current();
    }

    private void leave() {
        if (running != Coroutine.current()) {
            overlaps++;
        }
        running = null;
    }

    @Test
    void noVirtualThreadOutlivesCoroutinesThatFinishedFailedOrWereClosed() throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        Coroutine main = Coroutine.current();
        Coroutine finishes = Coroutine.create("finishes", main::switchTo);
        Coroutine fails = Coroutine.create("fails", () -> {
            main.switchTo();
            throw new IllegalStateException("boom");
        });
        Coroutine closed = Coroutine.create("closed", main::switchTo);
        Coroutine neverRan = Coroutine.create("neverRan", () -> {
        });
        for (Coroutine c : List.of(finishes, fails, closed)) {
            c.switchTo();
            threads.add(ThreadEngine.threadOf(c));
        }
        assertThat(threads).allMatch(Thread::isAlive);
        assertThat(ThreadEngine.threadOf(neverRan)).isNull();

        finishes.switchTo();
        assertThatThrownBy(fails::switchTo).isInstanceOf(CoroutineException.class);
        closed.close();
        neverRan.close();

        assertThat(List.of(finishes, fails, closed, neverRan)).allMatch(Coroutine::isFinished);
        for (Thread t : threads) {
            assertEnds(t);
        }
    }

    @Test
    @Timeout(60)
    void aSuspendedCoroutineNeverClosedIsGarbageOnceItsOwnerThreadHasEnded() throws InterruptedException {
        AtomicReference<WeakReference<Thread>> thread = new AtomicReference<>();
        Thread owner = new Thread(() -> {
            Coroutine c = Coroutine.create("abandoned", () -> {
                thread.set(new WeakReference<>(Thread.currentThread()));
                Coroutine.yield();
            });
            c.switchTo();
        }, "short-lived owner");
        owner.start();
        owner.join();
        // the abandoned coroutine's virtual thread is collected; its carrier holds it a moment longer, until it has parked
        Collected.until(() -> thread.get().refersTo(null));
    }

    /** Its initializer switches to main: nothing pins the thread engine. */
    static final class SwitchesInItsInitializer {
        static {
            Coroutine.yield();
        }

        static void load() {
        }
    }

    @Tag("once-per-jvm") // a class initializer runs once per JVM: not for PIT, which reruns tests in one JVM
    @Test
    void aSwitchUnderAClassInitializerSuspendsLikeAnyOther() {
        Coroutine c = Coroutine.create("initializer", SwitchesInItsInitializer::load);
        c.switchTo();
        assertThat(c.state()).isEqualTo(State.SUSPENDED);
        c.switchTo();
        assertThat(c.state()).isEqualTo(State.FINISHED);
    }

    @Test
    void aBodyHasThreadLocalsOfItsOwnAndInheritsNone() {
        ThreadLocal<String> local = new ThreadLocal<>();
        InheritableThreadLocal<String> inheritable = new InheritableThreadLocal<>();
        local.set("owner's");
        inheritable.set("owner's");
        List<String> seen = new ArrayList<>();
        Coroutine.create("body", () -> {
            seen.add(local.get());
            seen.add(inheritable.get());
            local.set("body's");
        }).switchTo();
        assertThat(seen).containsExactly(null, null);
        assertThat(local.get()).isEqualTo("owner's");
    }

    @Test
    void aBodyAndMainEachKeepWhatTheyWroteToAThreadLocalAcrossSwitches() {
        ThreadLocal<String> local = new ThreadLocal<>();
        List<String> bodySaw = new ArrayList<>();
        Coroutine c = Coroutine.create("writer", () -> {
            local.set("body's");
            Coroutine.yield();
            bodySaw.add(local.get());
        });
        c.switchTo();
        assertThat(local.get()).as("main, after the body wrote and yielded").isNull();
        local.set("main's");
        c.switchTo();
        assertThat(bodySaw).containsExactly("body's");
        assertThat(local.get()).isEqualTo("main's");
    }

    @Test
    void aGeneratorBodyHasThreadLocalsOfItsOwnAndInheritsNone() {
        ThreadLocal<String> local = new ThreadLocal<>();
        InheritableThreadLocal<String> inheritable = new InheritableThreadLocal<>();
        local.set("consumer's");
        inheritable.set("consumer's");
        List<String> seen = new ArrayList<>();
        try (Generator<String> g = Generator.of("locals", out -> {
            out.emit(local.get());
            out.emit(inheritable.get());
            local.set("body's");
            out.emit(local.get());
            out.emit(local.get()); // kept across the emit before: the body's thread lives on while it is suspended
        })) {
            while (g.hasNext()) {
                seen.add(g.next());
            }
        }
        seen.add(local.get());
        assertThat(seen).containsExactly(null, null, "body's", "body's", "consumer's");
    }

    @Test
    @Timeout(10)
    void aThreadMadeInABodyInheritsOnlyTheInheritableThreadLocalsTheBodySetNotTheOwnerThreads() {
        InheritableThreadLocal<String> owners = new InheritableThreadLocal<>();
        InheritableThreadLocal<String> bodys = new InheritableThreadLocal<>();
        owners.set("owner's");
        List<String> inherited = new ArrayList<>();
        Coroutine.create("maker", () -> {
            bodys.set("body's");
            Thread made = Thread.ofPlatform().start(() -> {
                inherited.add(owners.get());
                inherited.add(bodys.get());
            });
            try {
                made.join();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }).switchTo();
        assertThat(inherited).containsExactly(null, "body's");
    }

    @Test
    void whatABodySetsOnItsCurrentThreadStaysWithItsVirtualThreadAndMainNeverSeesIt() {
        Thread owner = Thread.currentThread();
        String ownersName = owner.getName();
        Thread.UncaughtExceptionHandler ownersHandler = owner.getUncaughtExceptionHandler();
        Thread.UncaughtExceptionHandler handler = (t, e) -> {
        };
        Coroutine c = Coroutine.create("setter", () -> {
            Thread.currentThread().setName("renamed by a body");
            Thread.currentThread().setUncaughtExceptionHandler(handler);
            Coroutine.yield();
        });
        c.switchTo();
        assertThat(owner.getName()).isEqualTo(ownersName);
        assertThat(owner.getUncaughtExceptionHandler()).isSameAs(ownersHandler).isNotSameAs(handler);
        Thread bodys = ThreadEngine.threadOf(c);
        assertThat(bodys.getName()).isEqualTo("renamed by a body");
        assertThat(bodys.getUncaughtExceptionHandler()).isSameAs(handler);
        c.close();
    }

    @Test
    void anExceptionMadeInAGeneratorBodyEndsAtItsVirtualThreadsEntryWithNoFrameOfTheConsumer() {
        try (Generator<Throwable> g = Generator.of("maker", out -> out.emit(new Exception()))) {
            StackTraceElement[] frames = g.next().getStackTrace();
            assertThat(Arrays.stream(frames).map(StackTraceElement::getMethodName))
                    .doesNotContain("next", "anExceptionMadeInAGeneratorBodyEndsAtItsVirtualThreadsEntryWithNoFrameOfTheConsumer");
            assertThat(frames[frames.length - 1].getClassName()).isEqualTo("java.lang.VirtualThread");
        }
    }

    @Test
    void aBodyAndMainEachKeepTheirOwnInterruptFlagAcrossSwitches() {
        List<Boolean> bodySaw = new ArrayList<>();
        Coroutine c = Coroutine.create("flags", () -> {
            bodySaw.add(Thread.interrupted()); // its own, clear: main's stays main's
            Thread.currentThread().interrupt();
            Coroutine.yield();
            bodySaw.add(Thread.interrupted()); // its own, kept while main ran
        });
        Thread.currentThread().interrupt();
        c.switchTo();
        assertThat(Thread.interrupted()).as("main, its own flag set before the switch").isTrue();
        assertThat(Thread.interrupted()).as("main, after clearing its own").isFalse();
        c.switchTo();
        assertThat(bodySaw).containsExactly(false, true);
        assertThat(Thread.interrupted()).isFalse();
    }

    @Test
    void anInterruptOfAParkedContextIsKeptForItsThread() {
        Thread owner = Thread.currentThread();
        AtomicReference<Boolean> bodyInterrupted = new AtomicReference<>();
        Coroutine c = Coroutine.create("body", () -> {
            owner.interrupt();
            Coroutine.yield();
            bodyInterrupted.set(Thread.interrupted());
        });
        c.switchTo();
        assertThat(Thread.interrupted()).isTrue();
        ThreadEngine.threadOf(c).interrupt();
        c.switchTo();
        assertThat(bodyInterrupted.get()).isTrue();
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    @Test
    void anInterruptThatWakesAContextWaitingForTheTurnIsKeptUntilItHasTheTurn() {
        Thread owner = Thread.currentThread();
        AtomicReference<Boolean> bodyInterrupted = new AtomicReference<>();
        Coroutine c = Coroutine.create("body", () -> {
            owner.interrupt();
            while (owner.isInterrupted()) {
                Thread.onSpinWait(); // until main, woken without the turn, has taken the interrupt in
            }
            Coroutine.yield();
            bodyInterrupted.set(Thread.interrupted());
        });
        c.switchTo();
        assertThat(Thread.interrupted()).as("main's interrupt, given back with the turn").isTrue();
        Thread body = ThreadEngine.threadOf(c);
        body.interrupt();
        while (body.isInterrupted()) {
            Thread.onSpinWait(); // until the body's thread, woken without the turn, has taken it in
        }
        c.switchTo();
        assertThat(bodyInterrupted.get()).as("the body's interrupt, given back with the turn").isTrue();
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    @Test
    void aCoroutineThatHasNotStartedHasNoThreadAndNoFrames() {
        Coroutine c = Coroutine.create("new", () -> { });
        assertThat(ThreadEngine.threadOf(c)).isNull();
        assertThat(c.context.stack.frames()).isEmpty();
        c.switchTo();
        assertThat(c.state()).isEqualTo(State.FINISHED);
    }

    /** The virtual thread of {@code g}'s body, or null if it never started one. */
    private static Thread bodyThreadOf(Generator<?> g) {
        return g.stackThread();
    }

    @Test
    void aGeneratorBodyRunsOnAVirtualThreadOfItsOwnNamedAfterIt() {
        AtomicReference<Thread> seen = new AtomicReference<>();
        try (Generator<Integer> g = Generator.of("numbers", out -> {
            seen.set(Thread.currentThread());
            out.emit(1);
        })) {
            assertThat(g.next()).isEqualTo(1);
            assertThat(seen.get()).isNotSameAs(Thread.currentThread());
            assertThat(seen.get().isVirtual()).isTrue();
            assertThat(seen.get().getName()).isEqualTo("coro generator numbers");
        }
    }

    @Test
    void noVirtualThreadOutlivesGeneratorsThatFinishedFailedOrWereClosed() throws Exception {
        Generator<Integer> finishes = Generator.of("finishes", out -> out.emit(1));
        Generator<Integer> fails = Generator.of("fails", out -> {
            out.emit(1);
            throw new IllegalStateException("boom");
        });
        List<String> log = new ArrayList<>();
        Generator<Integer> closed = Generator.of("closed", out -> {
            try {
                out.emit(1);
            } finally {
                log.add("closed unwound");
            }
        });
        Generator<Integer> neverRan = Generator.of("neverRan", out -> out.emit(1));
        List<Thread> threads = new ArrayList<>();
        for (Generator<Integer> g : List.of(finishes, fails, closed)) {
            assertThat(g.next()).isEqualTo(1);
            threads.add(bodyThreadOf(g));
        }
        assertThat(threads).doesNotContainNull().allMatch(Thread::isAlive);
        assertThat(bodyThreadOf(neverRan)).isNull();

        assertThat(finishes.hasNext()).isFalse();
        assertThatThrownBy(fails::hasNext).isInstanceOf(CoroutineException.class).hasRootCauseMessage("boom");
        closed.close();
        neverRan.close();

        assertThat(List.of(finishes, fails, closed, neverRan)).extracting(Generator::state)
                .containsExactly(Generator.State.FINISHED, Generator.State.FAILED, Generator.State.CLOSED,
                        Generator.State.CLOSED);
        assertThat(log).containsExactly("closed unwound");
        for (Thread t : threads) {
            assertEnds(t);
        }
    }

    @Test
    void noVirtualThreadOutlivesThreeNestedGeneratorsWhoseInnermostYieldedInsideAClosedCoroutine() throws Exception {
        List<Thread> threads = new ArrayList<>();
        List<String> log = new ArrayList<>();
        Coroutine consumer = Coroutine.create("consumer", () -> {
            try (Generator<Integer> outer = Generator.of("outer", o -> {
                try (Generator<Integer> middle = Generator.of("middle", m -> {
                    try (Generator<Integer> inner = Generator.of("inner", i -> {
                        threads.add(Thread.currentThread());
                        try {
                            Coroutine.yield();
                            i.emit(1);
                        } finally {
                            log.add("inner unwound");
                        }
                    })) {
                        threads.add(Thread.currentThread());
                        m.emit(inner.next());
                    }
                })) {
                    threads.add(Thread.currentThread());
                    o.emit(middle.next());
                }
            })) {
                outer.next();
            }
        });
        consumer.switchTo();
        assertThat(consumer.state()).isEqualTo(State.SUSPENDED);
        assertThat(threads).hasSize(3).allMatch(Thread::isAlive);
        threads.add(ThreadEngine.threadOf(consumer));
        consumer.close();
        assertThat(consumer.state()).isEqualTo(State.CLOSED);
        assertThat(log).containsExactly("inner unwound");
        for (Thread t : threads) {
            assertEnds(t);
        }
    }

    @Test
    @Timeout(60)
    void aSuspendedGeneratorDroppedWithoutCloseIsGarbageWithItsThread() {
        AtomicReference<WeakReference<Thread>> thread = new AtomicReference<>();
        dropSuspendedGenerator(thread);
        // the dropped generator's virtual thread is collected; its carrier holds it a moment longer, until it has parked
        Collected.until(() -> thread.get().refersTo(null));
    }

    /** Starts a generator, leaves it suspended at its first emit, and drops it. */
    private static void dropSuspendedGenerator(AtomicReference<WeakReference<Thread>> thread) {
        Generator<Integer> g = Generator.of("dropped", out -> {
            thread.set(new WeakReference<>(Thread.currentThread()));
            out.emit(1);
            out.emit(2);
        });
        assertThat(g.next()).isEqualTo(1);
    }

    @Test
    void whenNoThreadCanBeStartedForTheContextChosenAfterABodyEndsMainGetsTheFailureAndThatContextStaysNew() {
        List<String> ran = new ArrayList<>();
        Coroutine waiting = Coroutine.create("waiting", () -> ran.add("waiting"));
        Coroutine ending = Coroutine.create("ending", () -> {
            ran.add("ending");
            ((ThreadEngine) Scheduler.current().engine).refuseStarts = 1;
        });
        // ending runs and returns; the scheduler chooses 'waiting' (index 1), whose thread cannot start
        assertThatThrownBy(ending::switchTo).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot run coroutine 'waiting' (NEW), chosen as coroutine 'ending' ended, at its"
                        + " switchTo: no virtual thread could be started for coroutine 'waiting' (java.util.concurrent.RejectedExecutionException:"
                        + " refused for a test); it stays NEW, and main runs again (state RUNNING)")
                .cause().isInstanceOf(PinnedException.class);
        assertThat(ran).containsExactly("ending");
        assertThat(ending.state()).isEqualTo(State.FINISHED);
        assertThat(waiting.state()).isEqualTo(State.NEW);
        assertThat(Coroutine.current().isMain()).isTrue();
        assertThat(Coroutine.currentId()).isZero();
        Coroutine.yield();
        assertThat(ran).containsExactly("ending", "waiting");
        assertThat(waiting.state()).isEqualTo(State.FINISHED);
    }

    /** The refusal main gets when 'waiting' cannot run after 'ending' ended, at its {@code call}. */
    private static String refusedAt(String call, String outcome) {
        return "main context 'main' cannot run coroutine 'waiting' (NEW), chosen as coroutine 'ending' ended, at its " + call + ":"
                + " no virtual thread could be started for coroutine 'waiting' (java.util.concurrent.RejectedExecutionException:"
                + " refused for a test); it stays NEW, and " + outcome + " (state RUNNING)";
    }

    /**
     * Makes 'waiting' (it runs {@code waiting}), then 'ending', which refuses the next thread start and
     * returns, so that 'waiting', chosen next, cannot run: main's pending {@code call} throws why.
     */
    private static IllegalStateException refusedWhile(Runnable waiting, Runnable call) {
        Coroutine.create("waiting", waiting);
        Coroutine.create("ending", () -> ((ThreadEngine) Scheduler.current().engine).refuseStarts = 1);
        return catchThrowableOfType(IllegalStateException.class, call::run);
    }

    @Test
    @Timeout(20)
    void mainWaitingInAReceiveWhenTheContextChosenCannotRunLeavesTheChannelAndGetsTheRefusalNamingItsReceive() {
        Channel<String> ch = new Channel<>("ch", 0);
        IllegalStateException e = refusedWhile(() -> ch.send("sent"), ch::receive);
        assertThat(e).hasMessage(refusedAt("receive from channel 'ch'", "main's wait is cancelled"))
                .cause().isInstanceOf(PinnedException.class);
        assertThat(Coroutine.dump()).contains("[1] coroutine 'waiting': NEW");
        assertThat(ch.receive()).as("the value sent to the receive made after, the first having left the channel").isEqualTo("sent");
    }

    /**
     * SEMANTICS: a sender whose value was taken and whose wait is then ended before it runs throws what
     * ended it, the value delivered all the same; the refusal of a context that gets no thread says so
     * (it said main's wait was cancelled, from a send whose value had gone).
     */
    @Test
    @Timeout(20)
    void mainWhoseSendsValueWasTakenBeforeTheContextChosenCouldNotRunGetsARefusalSayingTheValueWasDelivered() {
        Channel<String> ch = new Channel<>("ch", 0);
        List<String> got = new ArrayList<>();
        Coroutine.create("waiting", () -> got.add("waiting ran"));
        Coroutine.create("ending", () -> {
            got.add(ch.receive()); // takes main's value: main's wait has completed
            ((ThreadEngine) Scheduler.current().engine).refuseStarts = 1;
        });
        IllegalStateException e = catchThrowableOfType(IllegalStateException.class, () -> ch.send("sent"));
        assertThat(e).hasMessage(refusedAt("send to channel 'ch'", "main's wait ends here, its value delivered all the same"))
                .cause().isInstanceOf(PinnedException.class);
        assertThat(got).containsExactly("sent");
        Coroutine.yield();
        assertThat(got).containsExactly("sent", "waiting ran");
        assertThat(ch.tryReceive()).as("sent once").isEmpty();
    }

    @Test
    @Timeout(20)
    void mainWhoseSelectsSendWasTakenBeforeTheContextChosenCouldNotRunGetsARefusalSayingTheValueWasDelivered() {
        Channel<String> ch = new Channel<>("ch", 0);
        List<String> got = new ArrayList<>();
        Coroutine.create("waiting", () -> got.add("waiting ran"));
        Coroutine.create("ending", () -> {
            got.add(ch.receive()); // takes the value of main's onSend: its select has fired
            ((ThreadEngine) Scheduler.current().engine).refuseStarts = 1;
        });
        Select<String> select = new Select<String>().onSend(ch, "sent", () -> "fired");
        IllegalStateException e = catchThrowableOfType(IllegalStateException.class, select::select);
        assertThat(e).hasMessage(refusedAt("select over send to channel 'ch'", "main's wait ends here, its value delivered all the same"));
        assertThat(got).containsExactly("sent");
        Coroutine.yield();
        assertThat(got).containsExactly("sent", "waiting ran");
    }

    @Test
    @Timeout(20)
    void mainWaitingInASleepWhenTheContextChosenCannotRunLeavesNoTimerAndGetsTheRefusalNamingItsSleep() {
        List<String> ran = new ArrayList<>();
        IllegalStateException e = refusedWhile(() -> ran.add("waiting"), () -> Coroutine.sleep(Duration.ofHours(1)));
        assertThat(e.getMessage()).startsWith("main context 'main' cannot run coroutine 'waiting' (NEW), chosen as coroutine 'ending'"
                        + " ended, at its sleep 3,600,000.000 ms (")
                .endsWith(" left): no virtual thread could be started for coroutine 'waiting'"
                        + " (java.util.concurrent.RejectedExecutionException: refused for a test); it stays NEW, and main's wait is"
                        + " cancelled (state RUNNING)");
        assertThat(Scheduler.current().loop.timerCount()).as("the sleep's timer").isZero();
        Coroutine.yield();
        assertThat(ran).containsExactly("waiting");
    }

    @Test
    @Timeout(20)
    void mainWaitingInAnAwaitWhenTheContextChosenCannotRunGetsTheRefusalNamingItsAwait() {
        CompletableFuture<String> f = new CompletableFuture<>();
        IllegalStateException e = refusedWhile(() -> f.complete("done"), () -> Coroutine.await(f));
        assertThat(e).hasMessage(refusedAt("await " + f, "main's wait is cancelled"));
        assertThat(Coroutine.await(f)).isEqualTo("done");
    }

    @Test
    @Timeout(20)
    void mainWaitingInASelectWhenTheContextChosenCannotRunLeavesItsChannelsAndTimerAndGetsTheRefusal() {
        Channel<String> ch = new Channel<>("ch", 0);
        Select<String> select = new Select<String>().onReceive(ch, v -> v).onTimeout(Duration.ofHours(1), () -> "timed out");
        IllegalStateException e = refusedWhile(() -> ch.send("sent"), select::select);
        assertThat(e.getMessage()).startsWith("main context 'main' cannot run coroutine 'waiting' (NEW), chosen as coroutine 'ending'"
                        + " ended, at its select over receive from channel 'ch', timeout PT1H (")
                .endsWith(" left): no virtual thread could be started for coroutine 'waiting' (java.util.concurrent.RejectedExecutionException:"
                        + " refused for a test); it stays NEW, and main's wait is cancelled (state RUNNING)");
        assertThat(Scheduler.current().loop.timerCount()).as("the select's timer").isZero();
        assertThat(ch.receive()).isEqualTo("sent");
    }

    @Test
    @Timeout(20)
    void mainWaitingForTheCoroutinesOfAVirtualTimeRunWhenTheContextChosenCannotRunEndsTheRunWithTheRefusal() {
        List<String> ran = new ArrayList<>();
        IllegalStateException e = catchThrowableOfType(IllegalStateException.class, () -> VirtualTime.run(() -> {
            Coroutine.create("waiting", () -> ran.add("waiting"));
            Coroutine.create("ending", () -> ((ThreadEngine) Scheduler.current().engine).refuseStarts = 1);
        }));
        assertThat(e).hasMessage(refusedAt("VirtualTime.run (waiting for the coroutines to end)", "main's wait is cancelled"));
        assertThat(ran).isEmpty();
        assertThat(Coroutine.dump()).startsWith("thread 'test-mainWaitingForTheCoroutinesOfAVirtualTimeRunWhenTheContextChosenCannotRunEndsTheRunWithTheRefusal': 1 context,");
    }

    @Test
    @Timeout(20)
    void mainWaitingForTheCoroutinesOfAVirtualTimeCallWhenTheContextChosenCannotRunEndsTheCallWithTheRefusalNamingCall() {
        List<String> ran = new ArrayList<>();
        IllegalStateException e = catchThrowableOfType(IllegalStateException.class, () -> VirtualTime.call(() -> {
            Coroutine.create("waiting", () -> ran.add("waiting"));
            Coroutine.create("ending", () -> ((ThreadEngine) Scheduler.current().engine).refuseStarts = 1);
            return "lost";
        }));
        assertThat(e).hasMessage(refusedAt("VirtualTime.call (waiting for the coroutines to end)", "main's wait is cancelled"));
        assertThat(ran).isEmpty();
    }

    @Test
    @Timeout(20)
    void aCoroutineThatCannotGetAThreadStaysNewAndRunnableEachCallThatChoosesItRefusingUntilOneStartsItOrItIsClosed() {
        List<String> ran = new ArrayList<>();
        Channel<String> ch = new Channel<>("ch", 0);
        Coroutine waiting = Coroutine.create("waiting", () -> ran.add("waiting"));
        Coroutine.create("ending", () -> ((ThreadEngine) Scheduler.current().engine).refuseStarts = 3);
        assertThatThrownBy(ch::receive).hasMessageStartingWith("main context 'main' cannot run coroutine 'waiting' (NEW), chosen as"
                + " coroutine 'ending' ended, at its receive from channel 'ch': ");
        assertThatThrownBy(Coroutine::yield).hasMessageStartingWith("cannot suspend main context 'main' at its yield to run coroutine 'waiting': ");
        assertThatThrownBy(ch::receive).hasMessageStartingWith("cannot suspend main context 'main' at its receive from channel 'ch' to run"
                + " coroutine 'waiting': ");
        assertThat(waiting.state()).isEqualTo(State.NEW);
        Coroutine.yield(); // a thread can be started again
        assertThat(ran).containsExactly("waiting");
        Coroutine given = Coroutine.create("given up", () -> ran.add("given up"));
        ((ThreadEngine) Scheduler.current().engine).refuseStarts = Integer.MAX_VALUE;
        assertThatThrownBy(given::switchTo).hasMessageStartingWith("cannot suspend main context 'main' at its switchTo to run coroutine 'given up': ");
        given.close();
        assertThat(given.state()).isEqualTo(State.CLOSED);
        Coroutine.yield(); // nothing left to run, nothing to refuse
        ((ThreadEngine) Scheduler.current().engine).refuseStarts = 0;
        assertThat(ran).containsExactly("waiting");
    }

    @Test
    @Timeout(20)
    void aVirtualTimeRunWhoseWaitForTheCoroutinesCannotStartOnesThreadEndsWithTheRefusalNamingThatWaitNotAYield() {
        List<String> ran = new ArrayList<>();
        IllegalStateException e = catchThrowableOfType(IllegalStateException.class, () -> VirtualTime.run(() -> {
            Coroutine.create("waiting", () -> ran.add("waiting"));
            ((ThreadEngine) Scheduler.current().engine).refuseStarts = 1;
        }));
        assertThat(e).hasMessage("cannot suspend main context 'main' at its VirtualTime.run (waiting for the coroutines to end) to run"
                + " coroutine 'waiting': no virtual thread could be started for coroutine 'waiting'"
                + " (java.util.concurrent.RejectedExecutionException: refused for a test); it keeps running (state RUNNING)");
        assertThat(ran).isEmpty();
        assertThat(Coroutine.dump()).contains(": 1 context,");
    }

    @Test
    @Timeout(20)
    void aVirtualTimeCallWhoseWaitForTheCoroutinesCannotStartOnesThreadEndsWithTheRefusalNamingThatWaitNotAYield() {
        List<String> ran = new ArrayList<>();
        IllegalStateException e = catchThrowableOfType(IllegalStateException.class, () -> VirtualTime.call(() -> {
            Coroutine.create("waiting", () -> ran.add("waiting"));
            ((ThreadEngine) Scheduler.current().engine).refuseStarts = 1;
            return "lost";
        }));
        assertThat(e).hasMessage("cannot suspend main context 'main' at its VirtualTime.call (waiting for the coroutines to end) to run"
                + " coroutine 'waiting': no virtual thread could be started for coroutine 'waiting'"
                + " (java.util.concurrent.RejectedExecutionException: refused for a test); it keeps running (state RUNNING)");
        assertThat(ran).isEmpty();
    }

    @Test
    @Timeout(20)
    void theFailureMainGetsWhenNoThreadCanBeStartedForTheContextChosenAfterABodyEndsShowsMainsCall() {
        Coroutine.create("waiting", () -> { });
        Coroutine ending = Coroutine.create("ending", () -> ((ThreadEngine) Scheduler.current().engine).refuseStarts = 1);
        IllegalStateException e = catchThrowableOfType(IllegalStateException.class, ending::switchTo);
        assertThat(e.getStackTrace()).as("the refusal's trace, made as 'ending' ended")
                .anySatisfy(f -> assertThat(f.getClassName() + "." + f.getMethodName()).isEqualTo("dev.coro.Coroutine.switchTo"))
                .anySatisfy(f -> assertThat(f.getMethodName())
                        .isEqualTo("theFailureMainGetsWhenNoThreadCanBeStartedForTheContextChosenAfterABodyEndsShowsMainsCall"))
                .noneSatisfy(f -> assertThat(f.getClassName()).isEqualTo("dev.coro.ThreadEngine$ThreadStack"));
        Coroutine.yield();
    }

    @Test
    @Timeout(20)
    void aCoroutineChosenAfterABodyEndedThatCouldNotRunIsGarbageOnceItHasRunAndEnded() {
        assertThat(Collected.all(List.of(refusedAfterABodyEndedThenRun()))).as("the coroutine refused once, then ended").isTrue();
    }

    /** A coroutine chosen as a body ended, refused a thread once, then run to its end and dropped. */
    private static WeakReference<Coroutine> refusedAfterABodyEndedThenRun() {
        Coroutine waiting = Coroutine.create("waiting", () -> { });
        Coroutine ending = Coroutine.create("ending", () -> ((ThreadEngine) Scheduler.current().engine).refuseStarts = 1);
        assertThatThrownBy(ending::switchTo).isInstanceOf(IllegalStateException.class);
        Coroutine.yield();
        assertThat(waiting.state()).isEqualTo(State.FINISHED);
        return new WeakReference<>(waiting);
    }

    @Test
    @Timeout(20)
    void aCoroutineThatMainsParkCouldNotRunIsGarbageOnceItHasRunAndEnded() {
        assertThat(Collected.all(List.of(refusedToMainsParkThenRun()))).as("the coroutine refused once, then ended").isTrue();
    }

    /** A coroutine main's receive chose, refused a thread once, then run to its end and dropped. */
    private static WeakReference<Coroutine> refusedToMainsParkThenRun() {
        Channel<String> ch = new Channel<>("ch", 0);
        Coroutine target = Coroutine.create("target", () -> ch.send("sent"));
        ((ThreadEngine) Scheduler.current().engine).refuseStarts = 1;
        assertThatThrownBy(ch::receive).isInstanceOf(IllegalStateException.class);
        assertThat(ch.receive()).isEqualTo("sent");
        assertThat(target.state()).isEqualTo(State.FINISHED);
        return new WeakReference<>(target);
    }

    @Test
    void whenNoThreadCanBeStartedForASwitchTargetNothingIsTransferredAndTheCallerKeepsRunning() {
        Coroutine target = Coroutine.create("target", () -> { });
        ((ThreadEngine) Scheduler.current().engine).refuseStarts = 1;
        assertThatThrownBy(target::switchTo).isInstanceOf(IllegalStateException.class)
                .hasMessage("cannot suspend main context 'main' at its switchTo to run coroutine 'target': no virtual thread could be"
                        + " started for coroutine 'target' (java.util.concurrent.RejectedExecutionException: refused for"
                        + " a test); it keeps running (state RUNNING)");
        assertThat(target.state()).isEqualTo(State.NEW);
        target.switchTo();
        assertThat(target.state()).isEqualTo(State.FINISHED);
    }
}
