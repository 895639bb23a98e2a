package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.coro.Coroutine.State;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
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
