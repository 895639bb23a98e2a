package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.ReentrantLock;
import jdk.internal.vm.Continuation;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Switching where the JDK pins: under a native frame, in a critical section, holding locks.
 *
 * <p>On the continuation engine the JDK cannot suspend a coroutine under a native frame or in a
 * critical section: the suspension throws an exception naming the coroutine and the reason in plain
 * words, and the coroutine and its scheduler stay usable. Those tests run only there. On the thread
 * engine the same switch suspends like any other, but the coroutine's virtual thread parks pinned to
 * its carrier until it resumes ({@code docs/ENGINES.md}); its tests run only there, resume or close
 * every such coroutine before they end (a pinned park left behind blocks a carrier for the JVM's
 * life: enough of them stall every virtual thread, which is how this class once hung the suite), and
 * need at least two carriers, since the coroutine switched to needs one while the pinned one parks.
 *
 * <p>Native frames are made with an FFM upcall: libc's {@code qsort} calls back a Java comparator
 * that tries to suspend. An exception must not escape an upcall (the JVM would exit), so the
 * comparators catch and keep what they caught.
 */
@ExtendWith(FreshThread.class)
class PinningTest {

    /** Why a test of the continuation engine's refusals does not run on the thread engine. */
    private static final String REFUSALS = "only the continuation engine refuses to suspend here; on the thread engine"
            + " the switch suspends, pinning a carrier (the onTheThreadEngine tests)";

    static boolean continuationEngineRuns() {
        return Engines.running().equals("continuation");
    }

    static boolean threadEngineRuns() {
        return Engines.running().equals("threads");
    }


    /** What the comparator upcalls of this thread's sorts caught, in order. */
    private static final ThreadLocal<List<Throwable>> CAUGHT = ThreadLocal.withInitial(ArrayList::new);

    /** Sorts {3, 1, 2} with libc's qsort, running {@code action} inside every comparator upcall ({@link Upcalls}). */
    private static int[] sortCallingBack(Runnable action) {
        List<Object> outcomes = new ArrayList<>();
        int[] sorted = Upcalls.sortCallingBack(() -> {
            action.run();
            return null;
        }, outcomes, 3, 1, 2);
        for (Object o : outcomes) {
            if (o instanceof Throwable e) {
                CAUGHT.get().add(e);
            }
        }
        return sorted;
    }

    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = REFUSALS)
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
                .hasMessage("cannot suspend coroutine 'sorter' at its yield to run coroutine 'other': the JDK cannot suspend it"
                        + " here because a native frame is on its stack (a JNI call, an FFM upcall, or a class"
                        + " initializer); it keeps running (state RUNNING)"));
        assertThat(log).containsExactly("sorted 123 id=2", "other ran");
        assertThat(sorter.state()).isEqualTo(State.SUSPENDED);
    }

    @Test
    @Timeout(10)
    @EnabledIf(value = "continuationEngineRuns", disabledReason = REFUSALS)
    void aWaitInsideAnUpcallIsRefusedNamingTheWaitAndLeavesNothingWaiting() {
        String why = " to run coroutine 'other': the JDK cannot suspend it here because a native frame is on its stack"
                + " (a JNI call, an FFM upcall, or a class initializer); it keeps running (state RUNNING)";
        List<String> log = new ArrayList<>();
        List<Throwable> received = new ArrayList<>();
        List<Throwable> joined = new ArrayList<>();
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine other = Coroutine.create("other", () -> log.add("other ran"));
        Coroutine sorter = Coroutine.create("sorter", () -> {
            sortCallingBack(ch::receive);
            received.addAll(CAUGHT.get());
            CAUGHT.get().clear();
            sortCallingBack(other::join);
            joined.addAll(CAUGHT.get());
            CAUGHT.get().clear();
            sortCallingBack(() -> Coroutine.sleep(Duration.ofSeconds(1)));
            log.add("sorted: " + Coroutine.current().state() + ", a receiver left: " + ch.trySend(1)
                    + ", timers left: " + Scheduler.current().loop.timerCount() + ", joins left: "
                    + Scheduler.current().joinWaits());
            Coroutine.yield();
            log.add("sorter resumed");
        });

        sorter.switchTo();

        assertThat(received).isNotEmpty().allSatisfy(e -> assertThat(e).isInstanceOf(IllegalStateException.class)
                .hasMessage("cannot suspend coroutine 'sorter' at its receive from channel 'ch'" + why));
        assertThat(joined).isNotEmpty().allSatisfy(e -> assertThat(e).isInstanceOf(IllegalStateException.class)
                .hasMessage("cannot suspend coroutine 'sorter' at its join coroutine 'other'" + why));
        assertThat(CAUGHT.get()).isNotEmpty().allSatisfy(e -> assertThat(e).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("cannot suspend coroutine 'sorter' at its sleep 1,000.000 ms (")
                .hasMessageEndingWith(why));
        assertThat(log).containsExactly("sorted: RUNNING, a receiver left: false, timers left: 0, joins left: 0", "other ran");
        sorter.switchTo();
        assertThat(log).endsWith("sorter resumed");
        assertThat(sorter.state()).isEqualTo(State.FINISHED);
    }

    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = REFUSALS)
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
                .hasMessage("cannot suspend coroutine 'sorter' at its switchTo to run coroutine 'other': the JDK cannot suspend"
                        + " it here because a native frame is on its stack (a JNI call, an FFM upcall, or a class"
                        + " initializer); it keeps running (state RUNNING)"));
        assertThat(Coroutine.currentId()).isZero();
        assertThat(sorter.state()).isEqualTo(State.SUSPENDED);

        sorter.switchTo();
        assertThat(log).endsWith("other first", "sorter resumed", "other second");
        assertThat(sorter.isFinished()).isTrue();
        assertThat(other.isFinished()).isTrue();
    }

    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = REFUSALS)
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
                .hasMessage("cannot suspend coroutine 'sorter' at its close to run coroutine 'target': the JDK cannot suspend it"
                        + " here because a native frame is on its stack (a JNI call, an FFM upcall, or a class"
                        + " initializer); it keeps running (state RUNNING)"));
        assertThat(target.state()).isEqualTo(State.SUSPENDED);
        target.switchTo();
        assertThat(log).containsExactly("target resumed normally");
        assertThat(target.state()).isEqualTo(State.FINISHED);
        sorter.close();
    }

    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = REFUSALS)
    void closeInsideAnUpcallLeavesAParkedTargetParkedAndItsWaitIntact() {
        List<String> log = new ArrayList<>();
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine target = Coroutine.create("target", () -> {
            try {
                log.add("target got " + ch.receive());
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
                .hasMessage("cannot suspend coroutine 'sorter' at its close to run coroutine 'target': the JDK cannot suspend it"
                        + " here because a native frame is on its stack (a JNI call, an FFM upcall, or a class"
                        + " initializer); it keeps running (state RUNNING)"));
        // parked again, and skipped by a yield as a parked coroutine is: only its receive can wake it
        assertThat(target.state()).isEqualTo(State.PARKED);
        Coroutine.yield();
        assertThat(log).isEmpty();
        assertThat(target.state()).isEqualTo(State.PARKED);
        ch.send(7);
        Coroutine.yield();
        assertThat(log).containsExactly("target got 7");
        assertThat(target.state()).isEqualTo(State.FINISHED);
        sorter.close();
    }

    /**
     * A parked target of a refused close is parked again in the run list's index of runnable entries, level by level
     * only as far as its word's clearing empties it: with more than 64 contexts a search from the second word down
     * reads the first word's summary bit, which must stay set while the closer and main are runnable there, so that
     * main's yield still finds the closer.
     */
    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = REFUSALS)
    void closeInsideAnUpcallOfAParkedTargetKeepsTheOtherRunnableEntriesOfItsWordFoundFromBeyondIt() {
        Channel<Integer> never = new Channel<>("never", 0);
        Channel<Integer> gate = new Channel<>("gate", 0);
        Coroutine main = Coroutine.current();
        Coroutine target = Coroutine.create("target", never::receive);
        Coroutine sorter = Coroutine.create("sorter", () -> {
            gate.receive();
            sortCallingBack(target::close);
            main.switchTo();
        });
        List<Coroutine> parked = new ArrayList<>();
        for (int k = 0; k < 70; k++) { // entries 3 to 72: the whole second word of the index parked
            parked.add(Coroutine.create("parked-" + k, never::receive));
        }
        Coroutine.yield(); // every coroutine runs and parks, the sorter in its gate, the target in its receive
        assertThat(sorter.state()).isEqualTo(State.PARKED);
        gate.send(1);
        sorter.switchTo(); // each close of the target its callbacks make is refused, and it switches back to main
        assertThat(CAUGHT.get()).isNotEmpty().allSatisfy(e -> assertThat(e).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("cannot suspend coroutine 'sorter' at its close to run coroutine 'target'"));
        assertThat(target.state()).isEqualTo(State.PARKED);
        assertThat(sorter.state()).isEqualTo(State.SUSPENDED);
        Coroutine.yield(); // from the last entry down: none runnable in the second word, the sorter in the first
        assertThat(sorter.state()).as("the sorter, found by main's yield through the first word's summary bit")
                .isEqualTo(State.FINISHED);
        assertThat(parked).allSatisfy(c -> assertThat(c.state()).isEqualTo(State.PARKED));
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

    @Tag("once-per-jvm") // a class initializer runs once per JVM: not for PIT, which reruns tests in one JVM
    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = REFUSALS)
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
                .hasMessage("cannot suspend coroutine 'initializer' at its yield to run coroutine 'other': the JDK cannot suspend"
                        + " it here because a native frame is on its stack (a JNI call, an FFM upcall, or a class"
                        + " initializer); it keeps running (state RUNNING)");
        assertThat(log).containsExactly("initialized with IllegalStateException", "other ran");
        initializer.switchTo();
        assertThat(log).endsWith("initializer resumed");
        assertThat(initializer.isFinished()).isTrue();
    }

    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = "Continuation.pin() is the continuation engine's own primitive; without the exports flag it cannot even be called")
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
        assertThat(log).containsExactly("cannot suspend coroutine 'critical' at its yield to run main context 'main': the JDK"
                + " cannot suspend it here because it is inside a JDK critical section; it keeps running"
                + " (state RUNNING)");
        assertThat(critical.state()).isEqualTo(State.SUSPENDED);
        critical.switchTo();
        assertThat(log).endsWith("critical resumed");
    }

    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = "Continuation.pin() is the continuation engine's own primitive; without the exports flag it cannot even be called")
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

    /**
     * A generator's body runs on its consumer's stack here, and JDK 25 moves the thread's whole lock
     * stack into the body's continuation as it suspends: a monitor the consumer holds around {@code next()}
     * is the body's until the body runs again (docs/ENGINES.md says what leaving the block meanwhile does).
     */
    @Test
    @Timeout(10)
    @EnabledIf(value = "continuationEngineRuns", disabledReason = "on the thread engine the body runs on a thread of its own: see the onTheThreadEngine test")
    void aMonitorAGeneratorsConsumerHoldsAcrossAnEmitIsTheBodysUntilItRunsAgainOnTheContinuationEngine() throws InterruptedException {
        Object lock = new Object();
        List<String> log = new ArrayList<>();
        Generator<Integer> g = Generator.of("g", out -> {
            out.emit(1);
            out.emit(2);
        });
        Coroutine consumer = Coroutine.create("consumer", () -> {
            synchronized (lock) {
                log.add("took " + g.next() + ", holds " + Thread.holdsLock(lock));
                log.add("took " + g.next() + ", holds " + Thread.holdsLock(lock));
                log.add("more " + g.hasNext() + ", holds " + Thread.holdsLock(lock));
            }
        });
        consumer.switchTo();
        assertThat(log).containsExactly("took 1, holds false", "took 2, holds false", "more false, holds true");
        assertThat(consumer.state()).isEqualTo(State.FINISHED);
        Thread other = Thread.ofPlatform().start(() -> {
            synchronized (lock) {
                log.add("another thread entered it");
            }
        });
        other.join();
        assertThat(log).endsWith("another thread entered it");
    }

    @Test
    @EnabledIf(value = "threadEngineRuns", disabledReason = "on the continuation engine the body's suspension takes the consumer's monitor: see the test above")
    void onTheThreadEngineAGeneratorsConsumerKeepsItsMonitorAcrossTheBodysEmits() {
        Object lock = new Object();
        List<String> log = new ArrayList<>();
        Generator<Integer> g = Generator.of("g", out -> {
            out.emit(1);
            out.emit(2);
        });
        Coroutine consumer = Coroutine.create("consumer", () -> {
            synchronized (lock) {
                log.add("took " + g.next() + ", holds " + Thread.holdsLock(lock));
                log.add("took " + g.next() + ", holds " + Thread.holdsLock(lock));
                log.add("more " + g.hasNext() + ", holds " + Thread.holdsLock(lock));
            }
        });
        consumer.switchTo();
        assertThat(log).containsExactly("took 1, holds true", "took 2, holds true", "more false, holds true");
        assertThat(consumer.state()).isEqualTo(State.FINISHED);
    }

    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = "on the thread engine main's lock is its thread's alone: see the onTheThreadEngine test")
    void aReentrantLockMainHoldsAcrossASwitchIsReenteredByTheCoroutineOnTheContinuationEngine() {
        ReentrantLock lock = new ReentrantLock();
        List<String> log = new ArrayList<>();
        lock.lock();
        try {
            Coroutine.create("taker", () -> {
                if (lock.tryLock()) {
                    log.add("taker took main's lock, hold count " + lock.getHoldCount());
                    lock.unlock();
                }
            }).switchTo();
        } finally {
            lock.unlock();
        }
        assertThat(log).containsExactly("taker took main's lock, hold count 2");
        assertThat(lock.isLocked()).isFalse();
    }

    @Test
    @EnabledIf(value = "threadEngineRuns", disabledReason = "on the continuation engine a coroutine re-enters main's lock: see the test above")
    void onTheThreadEngineAReentrantLockMainHoldsAcrossASwitchIsNotTheCoroutines() {
        ReentrantLock lock = new ReentrantLock();
        List<String> log = new ArrayList<>();
        lock.lock();
        try {
            Coroutine.create("taker", () -> log.add("taker took main's lock: " + lock.tryLock())).switchTo();
            log.add("main's hold count " + lock.getHoldCount());
        } finally {
            lock.unlock();
        }
        assertThat(log).containsExactly("taker took main's lock: false", "main's hold count 1");
        assertThat(lock.isLocked()).isFalse();
    }

    /**
     * A generator's body runs on its consumer's thread here: it holds the monitors and locks its consumer
     * holds around {@code next()}, and enters them again (before it first suspends: see the test above for
     * what an emit does to a monitor the consumer holds).
     */
    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = "on the thread engine the body runs on a thread of its own: see the onTheThreadEngine test")
    void aGeneratorBodyHoldsAndReentersTheMonitorAndTheLockItsConsumerHoldsOnTheContinuationEngine() {
        Object monitor = new Object();
        ReentrantLock lock = new ReentrantLock();
        List<String> log = new ArrayList<>();
        try (Generator<Integer> g = Generator.of("reenters", out -> {
            log.add("body holds the monitor: " + Thread.holdsLock(monitor));
            synchronized (monitor) {
                log.add("body entered the monitor");
            }
            log.add("body holds the lock: " + lock.isHeldByCurrentThread());
            if (lock.tryLock()) {
                log.add("body took the lock, hold count " + lock.getHoldCount());
                lock.unlock();
            }
        })) {
            synchronized (monitor) {
                lock.lock();
                try {
                    log.add("more " + g.hasNext());
                } finally {
                    lock.unlock();
                }
            }
        }
        assertThat(log).containsExactly("body holds the monitor: true", "body entered the monitor",
                "body holds the lock: true", "body took the lock, hold count 2", "more false");
    }

    /**
     * A generator's body runs on a thread of its own here: the monitors and locks its consumer holds
     * around {@code next()} are another thread's, so the body's {@code synchronized} on one, or its
     * {@code lock()}, would wait for a consumer that waits for the body: a deadlock nothing reports.
     */
    @Test
    @EnabledIf(value = "threadEngineRuns", disabledReason = "on the continuation engine the body runs on its consumer's thread: see the test above")
    void onTheThreadEngineAGeneratorBodyHoldsNeitherTheMonitorNorTheLockItsConsumerHolds() {
        Object monitor = new Object();
        ReentrantLock lock = new ReentrantLock();
        List<String> log = new ArrayList<>();
        try (Generator<Integer> g = Generator.of("cannotReenter", out -> {
            log.add("body holds the monitor: " + Thread.holdsLock(monitor));
            log.add("body holds the lock: " + lock.isHeldByCurrentThread());
            log.add("body took the lock: " + lock.tryLock());
        })) {
            synchronized (monitor) {
                lock.lock();
                try {
                    log.add("more " + g.hasNext());
                    log.add("consumer holds both: " + (Thread.holdsLock(monitor) && lock.isHeldByCurrentThread()));
                } finally {
                    lock.unlock();
                }
            }
        }
        assertThat(log).containsExactly("body holds the monitor: false", "body holds the lock: false",
                "body took the lock: false", "more false", "consumer holds both: true");
    }

    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = "on the thread engine each coroutine is a thread of its own, so the lock is the holder's alone (and lock() would block for good): see the onTheThreadEngine test")
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

    @Test
    @EnabledIf(value = "threadEngineRuns", disabledReason = "on the continuation engine each coroutine of a thread"
            + " shares the thread's locks: see the test above")
    void onTheThreadEngineAReentrantLockHeldAcrossAYieldIsTheHoldersAlone() {
        ReentrantLock lock = new ReentrantLock();
        List<String> log = new ArrayList<>();
        Coroutine.create("taker", () -> log.add("taker got the lock: " + lock.tryLock()));
        Coroutine holder = Coroutine.create("holder", () -> {
            lock.lock();
            try {
                Coroutine.yield();
                log.add("holder resumed, hold count " + lock.getHoldCount());
            } finally {
                lock.unlock();
            }
        });

        holder.switchTo();
        assertThat(log).as("the lock belongs to the holder's virtual thread").containsExactly("taker got the lock: false");
        assertThat(lock.isLocked()).isTrue();
        holder.switchTo();
        assertThat(log).endsWith("holder resumed, hold count 1");
        assertThat(lock.isLocked()).isFalse();
    }

    @Test
    @EnabledIf(value = "threadEngineRuns", disabledReason = REFUSALS)
    void onTheThreadEngineAYieldInsideAnUpcallSuspendsAndResumesInsideIt() throws InterruptedException {
        assumeTrue(Carriers.count() >= 2, "a coroutine parked under a native frame pins its carrier; the others need a second one");
        List<String> log = new ArrayList<>();
        Coroutine other = Coroutine.create("other", () -> {
            for (int round = 0; ; round++) {
                log.add("other " + round);
                Coroutine.yield();
            }
        });
        Coroutine sorter = Coroutine.create("sorter", () -> {
            int[] sorted = sortCallingBack(() -> {
                log.add("sorter in upcall, id=" + Coroutine.currentId());
                Coroutine.yield();
            });
            log.add("sorted " + sorted[0] + sorted[1] + sorted[2] + ", caught " + CAUGHT.get());
        });

        sorter.switchTo();
        assertThat(log).containsExactly("sorter in upcall, id=2", "other 0");
        assertThat(sorter.state()).as("suspended inside the upcall").isEqualTo(State.SUSPENDED);
        Thread sorterThread = ThreadEngine.threadOf(sorter);
        while (!sorter.isFinished()) {
            sorter.switchTo();
        }

        assertThat(log).as("finished, then other ran on").contains("sorted 123, caught []").last().asString().startsWith("other ");
        assertThat(log.stream().filter(line -> line.startsWith("sorter in upcall")).count())
                .as("each comparator call suspended and resumed inside qsort").isGreaterThanOrEqualTo(2);
        assertThat(sorter.state()).isEqualTo(State.FINISHED);
        other.close();
        assertThat(sorterThread.join(java.time.Duration.ofMinutes(1))).as("the sorter's thread ended").isTrue();
    }

    @Test
    @EnabledIf(value = "threadEngineRuns", disabledReason = REFUSALS)
    void onTheThreadEngineCloseUnwindsACoroutineSuspendedInsideAnUpcallThroughTheNativeFrame() throws InterruptedException {
        assumeTrue(Carriers.count() >= 2, "a coroutine parked under a native frame pins its carrier; main's coroutines need a second one");
        List<String> log = new ArrayList<>();
        Coroutine sorter = Coroutine.create("sorter", () -> {
            try {
                sortCallingBack(Coroutine::yield);
                log.add("sorted, the comparator caught " + CAUGHT.get().stream()
                        .map(e -> e.getClass().getSimpleName()).distinct().toList());
                Coroutine.yield();
                log.add("yield after close returned");
            } finally {
                log.add("sorter unwound");
            }
        });

        sorter.switchTo();
        assertThat(sorter.state()).isEqualTo(State.SUSPENDED);
        Thread sorterThread = ThreadEngine.threadOf(sorter);
        sorter.close();

        assertThat(log).as("the exit signal cannot leave the upcall: the comparator caught it, qsort returned,"
                + " and the next yield threw it again").containsExactly("sorted, the comparator caught [CoroutineExit]",
                "sorter unwound");
        assertThat(sorter.state()).isEqualTo(State.CLOSED);
        assertThat(sorterThread.join(java.time.Duration.ofMinutes(1))).as("the sorter's thread ended").isTrue();
    }

    @Test
    void aRefusalBecauseTheTargetIsStuckSaysSoAndMarksItsBodyAsNeverRunning() {
        PinnedException e = PinnedException.stuck("the body of coroutine 'a' waits for the class being initialized");
        assertThat(e.stuck).isTrue();
        assertThat(e.reason).isEqualTo("the body of coroutine 'a' waits for the class being initialized");
        assertThat(e.why).isEqualTo(e.reason);
        assertThat(e).hasMessage(e.reason);
    }

    @Test
    void aRefusedThreadStartNamesWhoseBodyCouldNotStartAndWhy() {
        PinnedException e = PinnedException.noThread("coroutine 'a'", new RejectedExecutionException("no room"));
        assertThat(e.stuck).as("a later start may succeed").isFalse();
        assertThat(e.reason).isEqualTo("no virtual thread could be started for coroutine 'a'"
                + " (java.util.concurrent.RejectedExecutionException: no room)");
        assertThat(e).hasMessage(e.reason);
    }
}
