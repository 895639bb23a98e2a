package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Coroutine.State;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import jdk.internal.vm.Continuation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Where the JDK cannot suspend a coroutine, the suspension throws an exception naming the coroutine
 * and the reason in plain words, and the coroutine and its scheduler stay usable.
 *
 * <p>Native frames are made with an FFM upcall: libc's {@code qsort} calls back a Java comparator
 * that tries to suspend. An exception must not escape an upcall (the JVM would exit), so the
 * comparators catch and keep what they caught.
 */
@ExtendWith(FreshThread.class)
class PinningTest {

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle QSORT = LINKER.downcallHandle(
            LINKER.defaultLookup().find("qsort").orElseThrow(),
            FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.ADDRESS));
    private static final FunctionDescriptor COMPARATOR = FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS.withTargetLayout(ValueLayout.JAVA_INT),
            ValueLayout.ADDRESS.withTargetLayout(ValueLayout.JAVA_INT));

    /** What the current comparator does before comparing; set by each test on its own thread. */
    private static final ThreadLocal<Runnable> IN_UPCALL = new ThreadLocal<>();
    /** What the comparator caught, in order. */
    private static final ThreadLocal<List<Throwable>> CAUGHT = ThreadLocal.withInitial(ArrayList::new);

    static int compare(MemorySegment a, MemorySegment b) {
        try {
            IN_UPCALL.get().run();
        } catch (Throwable e) {
            CAUGHT.get().add(e);
        }
        return Integer.compare(a.get(ValueLayout.JAVA_INT, 0), b.get(ValueLayout.JAVA_INT, 0));
    }

    /** Sorts {3, 1, 2} with libc's qsort, running {@code action} inside every comparator upcall. */
    private static int[] sortCallingBack(Runnable action) {
        IN_UPCALL.set(action);
        try (Arena arena = Arena.ofConfined()) {
            MethodHandle compare = MethodHandles.lookup().findStatic(PinningTest.class, "compare",
                    MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class));
            MemorySegment comparator = LINKER.upcallStub(compare, COMPARATOR, arena);
            MemorySegment array = arena.allocateFrom(ValueLayout.JAVA_INT, 3, 1, 2);
            QSORT.invokeExact(array, 3L, 4L, comparator);
            return array.toArray(ValueLayout.JAVA_INT);
        } catch (Throwable e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void yieldInsideAnUpcallThrowsNamingTheCoroutineAndTheNativeFrame() {
        List<String> log = new ArrayList<>();
        Coroutine.create("other", () -> log.add("other ran"));
        Coroutine sorter = Coroutine.create("sorter", () -> {
            int[] sorted = sortCallingBack(Coroutine::yield);
            log.add("sorted " + sorted[0] + sorted[1] + sorted[2] + " id=" + Coroutine.currentId());
            Coroutine.yield();
            log.add("sorter resumed");
        });

        sorter.switchTo();

        assertThat(CAUGHT.get()).isNotEmpty().allSatisfy(e -> assertThat(e)
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("cannot suspend coroutine 'sorter' to run coroutine 'other': the JDK cannot suspend it"
                        + " here because a native frame is on its stack (a JNI call, an FFM upcall, or a class"
                        + " initializer); it keeps running (state RUNNING)"));
        assertThat(log).containsExactly("sorted 123 id=2", "other ran");
        assertThat(sorter.state()).isEqualTo(State.SUSPENDED);
    }

    @Test
    void aCoroutinePinnedByAnUpcallKeepsRunningAndCanSuspendAfterwards() {
        List<String> log = new ArrayList<>();
        Coroutine other = Coroutine.create("other", () -> {
            log.add("other first");
            Coroutine.yield();
            log.add("other second");
        });
        Coroutine sorter = Coroutine.create("sorter", () -> {
            sortCallingBack(() -> {
                log.add("in upcall: " + Coroutine.current().name() + " " + Coroutine.current().state()
                        + " id=" + Coroutine.currentId() + ", other " + other.state());
                other.switchTo();
            });
            log.add("after upcall: other " + other.state());
            other.switchTo();
            log.add("sorter resumed");
        });

        sorter.switchTo();
        assertThat(log).startsWith("in upcall: sorter RUNNING id=2, other NEW")
                .contains("after upcall: other NEW", "other first");
        assertThat(CAUGHT.get()).isNotEmpty().allSatisfy(e -> assertThat(e)
                .hasMessageContaining("cannot suspend coroutine 'sorter' to run coroutine 'other'"));
        assertThat(Coroutine.currentId()).isZero();
        assertThat(sorter.state()).isEqualTo(State.SUSPENDED);

        sorter.switchTo();
        assertThat(log).endsWith("other first", "sorter resumed", "other second");
        assertThat(sorter.isFinished()).isTrue();
        assertThat(other.isFinished()).isTrue();
    }

    @Test
    void closeInsideAnUpcallLeavesTheTargetSuspendedAndUntouched() {
        List<String> log = new ArrayList<>();
        Coroutine target = Coroutine.create("target", () -> {
            try {
                Coroutine.yield();
                log.add("target resumed normally");
            } catch (CoroutineExit e) {
                log.add("target unwound");
                throw e;
            }
        });
        Coroutine main = Coroutine.current();
        Coroutine sorter = Coroutine.create("sorter", () -> {
            sortCallingBack(target::close);
            main.switchTo();
        });

        target.switchTo();
        sorter.switchTo();

        assertThat(CAUGHT.get()).isNotEmpty().allSatisfy(e -> assertThat(e)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("cannot suspend coroutine 'sorter' to run coroutine 'target'"));
        assertThat(target.state()).isEqualTo(State.SUSPENDED);
        target.switchTo();
        assertThat(log).containsExactly("target resumed normally");
        assertThat(target.state()).isEqualTo(State.FINISHED);
        sorter.close();
    }

    @Test
    void mainCanSwitchToCoroutinesFromInsideAnUpcall() {
        List<String> log = new ArrayList<>();
        Coroutine worker = Coroutine.create("worker", () -> {
            for (int round = 0; ; round++) {
                log.add("round " + round);
                Coroutine.yield();
            }
        });

        int[] sorted = sortCallingBack(worker::switchTo);

        assertThat(CAUGHT.get()).isEmpty();
        assertThat(sorted).containsExactly(1, 2, 3);
        assertThat(log).isNotEmpty().first().isEqualTo("round 0");
        assertThat(worker.state()).isEqualTo(State.SUSPENDED);
        worker.close();
    }

    /** Yields while the JVM initializes it: its initializer runs under a native frame. */
    static final class YieldsInItsInitializer {
        static final Throwable CAUGHT;

        static {
            Throwable caught = null;
            try {
                Coroutine.yield();
            } catch (Throwable e) {
                caught = e;
            }
            CAUGHT = caught;
        }
    }

    @Test
    void yieldInsideAClassInitializerThrowsAndTheCoroutineGoesOn() {
        List<String> log = new ArrayList<>();
        Coroutine.create("other", () -> log.add("other ran"));
        Coroutine initializer = Coroutine.create("initializer", () -> {
            log.add("initialized with " + YieldsInItsInitializer.CAUGHT.getClass().getSimpleName());
            Coroutine.yield();
            log.add("initializer resumed");
        });

        initializer.switchTo();

        assertThat(YieldsInItsInitializer.CAUGHT)
                .hasMessage("cannot suspend coroutine 'initializer' to run coroutine 'other': the JDK cannot suspend"
                        + " it here because a native frame is on its stack (a JNI call, an FFM upcall, or a class"
                        + " initializer); it keeps running (state RUNNING)");
        assertThat(log).containsExactly("initialized with IllegalStateException", "other ran");
        initializer.switchTo();
        assertThat(log).endsWith("initializer resumed");
        assertThat(initializer.isFinished()).isTrue();
    }

    @Test
    void yieldInsideACriticalSectionThrowsNamingTheCriticalSection() {
        List<String> log = new ArrayList<>();
        Coroutine critical = Coroutine.create("critical", () -> {
            Continuation.pin();
            try {
                Coroutine.yield();
                log.add("yield returned inside the critical section");
            } catch (IllegalStateException e) {
                log.add(e.getMessage());
            } finally {
                Continuation.unpin();
            }
            Coroutine.yield();
            log.add("critical resumed");
        });

        critical.switchTo();
        assertThat(log).containsExactly("cannot suspend coroutine 'critical' to run main context 'main': the JDK"
                + " cannot suspend it here because it is inside a JDK critical section; it keeps running"
                + " (state RUNNING)");
        assertThat(critical.state()).isEqualTo(State.SUSPENDED);
        critical.switchTo();
        assertThat(log).endsWith("critical resumed");
    }

    @Test
    void switchingToTheRunningCoroutineInsideACriticalSectionReturnsAtOnceWithoutTryingToSuspend() {
        List<String> log = new ArrayList<>();
        Coroutine self = Coroutine.create("self", () -> {
            Continuation.pin();
            try {
                Coroutine.current().switchTo();
                log.add("returned at once");
            } finally {
                Continuation.unpin();
            }
        });

        self.switchTo();

        assertThat(log).containsExactly("returned at once");
        assertThat(self.isFinished()).isTrue();
    }

    @Test
    void yieldWhileHoldingAMonitorSuspendsAndKeepsTheMonitor() {
        Object lock = new Object();
        List<String> log = new ArrayList<>();
        Coroutine holder = Coroutine.create("holder", () -> {
            synchronized (lock) {
                log.add("holds before yield: " + Thread.holdsLock(lock));
                Coroutine.yield();
                log.add("holds after yield: " + Thread.holdsLock(lock));
            }
        });

        holder.switchTo();
        assertThat(holder.state()).isEqualTo(State.SUSPENDED);
        assertThat(Thread.holdsLock(lock)).as("main does not own the suspended coroutine's monitor").isFalse();
        holder.switchTo();

        assertThat(log).containsExactly("holds before yield: true", "holds after yield: true");
        assertThat(holder.isFinished()).isTrue();
    }

    @Test
    void aReentrantLockHeldAcrossAYieldCanBeTakenByAnotherCoroutineOfTheSameThread() {
        ReentrantLock lock = new ReentrantLock();
        List<String> log = new ArrayList<>();
        Coroutine.create("taker", () -> {
            lock.lock();
            try {
                log.add("taker holds the lock, hold count " + lock.getHoldCount());
            } finally {
                lock.unlock();
            }
        });
        Coroutine holder = Coroutine.create("holder", () -> {
            lock.lock();
            try {
                Coroutine.yield();
            } finally {
                lock.unlock();
            }
        });

        holder.switchTo();

        assertThat(log).as("the lock is owned by the thread, not by the suspended coroutine")
                .containsExactly("taker holds the lock, hold count 2");
        holder.switchTo();
        assertThat(lock.isLocked()).isFalse();
    }
}
