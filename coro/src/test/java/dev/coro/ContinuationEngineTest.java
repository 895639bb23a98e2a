package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.coro.Coroutine.State;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.ExtendWith;

/** What is particular to the continuation engine; runs only when it is this JVM's engine. */
@ExtendWith(FreshThread.class)
@EnabledIf("continuationEngineRuns")
class ContinuationEngineTest {

    static boolean continuationEngineRuns() {
        return Engines.running().equals("continuation");
    }

    @Test
    void aBodyRunsOnTheOwnerThreadItself() {
        Thread owner = Thread.currentThread();
        AtomicReference<Thread> seen = new AtomicReference<>();
        Coroutine.create("body", () -> seen.set(Thread.currentThread())).switchTo();
        assertThat(seen.get()).isSameAs(owner);
        assertThat(Scheduler.current().engine).isInstanceOf(ContinuationEngine.class);
    }

    @Test
    void anExceptionMadeInABodyShowsBelowTheBodyTheFramesOfMainWhoseStackRunsIt() {
        AtomicReference<Throwable> made = new AtomicReference<>();
        Coroutine.create("body", () -> made.set(new Exception())).switchTo();
        assertThat(Arrays.stream(made.get().getStackTrace()).map(StackTraceElement::getMethodName))
                .contains("anExceptionMadeInABodyShowsBelowTheBodyTheFramesOfMainWhoseStackRunsIt");
    }

    @Test
    void aThreadMadeInABodyTakesTheOwnerThreadsDaemonStatusPriorityAndGroup() {
        Thread owner = Thread.currentThread();
        owner.setPriority(Thread.NORM_PRIORITY + 2);
        AtomicReference<Thread> made = new AtomicReference<>();
        Coroutine.create("maker", () -> made.set(new Thread(() -> {
        }))).switchTo();
        assertThat(made.get().isDaemon()).isEqualTo(owner.isDaemon()).isFalse();
        assertThat(made.get().getPriority()).isEqualTo(Thread.NORM_PRIORITY + 2);
        assertThat(made.get().getThreadGroup()).isSameAs(owner.getThreadGroup());
    }

    @Test
    void aBodySharesTheOwnerThreadsThreadLocals() {
        ThreadLocal<String> local = new ThreadLocal<>();
        local.set("owner's");
        AtomicReference<String> seen = new AtomicReference<>();
        Coroutine.create("body", () -> seen.set(local.get())).switchTo();
        assertThat(seen.get()).isEqualTo("owner's");
    }

    @Test
    void whatABodyAndMainWriteToAThreadLocalEachSeesAfterTheNextSwitch() {
        ThreadLocal<String> local = new ThreadLocal<>();
        List<String> bodySaw = new ArrayList<>();
        Coroutine c = Coroutine.create("writer", () -> {
            local.set("body's");
            Coroutine.yield();
            bodySaw.add(local.get());
        });
        c.switchTo();
        assertThat(local.get()).as("main, after the body wrote and yielded").isEqualTo("body's");
        local.set("main's");
        c.switchTo();
        assertThat(bodySaw).containsExactly("main's");
    }

    @Test
    void aGeneratorBodySharesItsConsumersThreadLocals() {
        ThreadLocal<String> local = new ThreadLocal<>();
        local.set("consumer's");
        List<String> seen = new ArrayList<>();
        try (Generator<String> g = Generator.of("locals", out -> {
            out.emit(local.get());
            local.set("body's");
            out.emit("set");
        })) {
            seen.add(g.next());
            seen.add(g.next());
        }
        seen.add(local.get());
        assertThat(seen).containsExactly("consumer's", "set", "body's");
    }

    @Test
    @Timeout(10)
    void aThreadMadeInABodyInheritsTheOwnerThreadsInheritableThreadLocals() {
        InheritableThreadLocal<String> inheritable = new InheritableThreadLocal<>();
        inheritable.set("owner's");
        AtomicReference<String> inherited = new AtomicReference<>();
        Coroutine.create("maker", () -> {
            Thread made = Thread.ofPlatform().start(() -> inherited.set(inheritable.get()));
            try {
                made.join();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }).switchTo();
        assertThat(inherited.get()).isEqualTo("owner's");
    }

    @Test
    void whatABodySetsOnItsCurrentThreadIsSetOnTheOwnerThreadForMainToo() {
        Thread owner = Thread.currentThread();
        Thread.UncaughtExceptionHandler handler = (t, e) -> {
        };
        Coroutine.create("setter", () -> {
            Thread.currentThread().setName("renamed by a body");
            Thread.currentThread().setUncaughtExceptionHandler(handler);
        }).switchTo();
        assertThat(owner.getName()).isEqualTo("renamed by a body");
        assertThat(owner.getUncaughtExceptionHandler()).isSameAs(handler);
    }

    @Test
    void anExceptionMadeInAGeneratorBodyShowsBelowTheBodyTheConsumersCall() {
        try (Generator<Throwable> g = Generator.of("maker", out -> out.emit(new Exception()))) {
            Throwable made = g.next();
            assertThat(Arrays.stream(made.getStackTrace()).map(StackTraceElement::getMethodName))
                    .contains("next", "anExceptionMadeInAGeneratorBodyShowsBelowTheBodyTheConsumersCall");
        }
    }

    @Test
    void aBodyAndMainShareTheOwnerThreadsOneInterruptFlagAcrossSwitches() {
        List<Boolean> bodySaw = new ArrayList<>();
        Coroutine c = Coroutine.create("flags", () -> {
            bodySaw.add(Thread.interrupted()); // main's, set before the switch
            Thread.currentThread().interrupt();
            Coroutine.yield();
            bodySaw.add(Thread.interrupted()); // cleared by main meanwhile
        });
        Thread.currentThread().interrupt();
        c.switchTo();
        assertThat(Thread.interrupted()).as("main, after the body set the flag and yielded").isTrue();
        c.switchTo();
        assertThat(bodySaw).containsExactly(true, false);
        assertThat(Thread.interrupted()).isFalse();
    }

    @Test
    void aCoroutineEntersAMonitorMainHoldsAcrossTheSwitchSinceTheyShareTheThread() {
        Object lock = new Object();
        AtomicReference<Boolean> entered = new AtomicReference<>(false);
        Coroutine c = Coroutine.create("reenters", () -> {
            synchronized (lock) {
                entered.set(true);
            }
        });
        synchronized (lock) {
            c.switchTo();
        }
        assertThat(entered.get()).isTrue();
        assertThat(c.state()).isEqualTo(State.FINISHED);
    }

    /** Its initializer switches to main: a class initializer pins the continuation engine. */
    static final class SwitchesInItsInitializer {
        static {
            Coroutine.yield();
        }

        static void load() {
        }
    }

    @Tag("once-per-jvm") // a class initializer runs once per JVM: not for PIT, which reruns tests in one JVM
    @Test
    void aSwitchUnderAClassInitializerIsRefusedAndTheCoroutineKeepsRunning() {
        AtomicReference<Throwable> refused = new AtomicReference<>();
        Coroutine c = Coroutine.create("initializer", () -> {
            refused.set(catchThrowableOfType(ExceptionInInitializerError.class, SwitchesInItsInitializer::load)
                    .getCause());
            assertThat(Coroutine.current().state()).isEqualTo(State.RUNNING);
        });
        c.switchTo();
        assertThat(refused.get()).isInstanceOf(IllegalStateException.class).hasMessage("cannot suspend coroutine 'initializer' at its yield to run main context 'main':"
                + " the JDK cannot suspend it here because a native frame is on its stack"
                + " (a JNI call, an FFM upcall, or a class initializer); it keeps running (state RUNNING)");
        assertThat(c.state()).isEqualTo(State.FINISHED);
    }
}
