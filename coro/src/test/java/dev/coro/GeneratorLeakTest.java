package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.ref.WeakReference;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Generators dropped without {@code close()} become unreachable with what their bodies' frames held,
 * whatever generators they consumed, on the engine the suite runs with.
 *
 * <p>Each check builds its objects in a helper that returns only weak references, so no strong
 * reference stays in the test's own frame; then it collects garbage a bounded number of times
 * ({@link Collected}).
 */
@ExtendWith(FreshThread.class)
class GeneratorLeakTest {

    /**
     * A generator whose body holds a payload in a frame, takes one value of {@code consumed} (if not
     * null) and emits; it is taken once, so it is left suspended at its first emit, and dropped.
     */
    private static List<WeakReference<?>> droppedSuspended(Generator<Integer> consumed) {
        AtomicReference<WeakReference<Object>> held = new AtomicReference<>();
        Generator<Integer> dropped = Generator.of("dropped", out -> {
            Object payload = new byte[1 << 20];
            held.set(new WeakReference<>(payload));
            if (consumed != null) {
                consumed.next();
            }
            out.emit(1);
            if (payload.hashCode() == 0) {
                throw new AssertionError("unreachable: keeps payload live across the emit");
            }
        });
        assertThat(dropped.next()).isEqualTo(1);
        assertThat(dropped.state()).isEqualTo(Generator.State.SUSPENDED);
        return List.of(new WeakReference<>(dropped), held.get());
    }

    /**
     * The exit signal of a closed generator refers to nothing of it: held after the body ended (by the
     * test, which the body handed it to as it unwound), it keeps neither the generator nor what its
     * body's frames held.
     */
    @Test
    void aClosedGeneratorsExitSignalHeldAfterItsBodyEndedKeepsNothingOfItReachable() {
        AtomicReference<CoroutineExit> kept = new AtomicReference<>();
        List<WeakReference<?>> refs = closedHandingOverItsSignal(kept);
        assertThat(kept.get()).hasMessageStartingWith("generator 'keeper' is being closed: its ");
        assertThat(Collected.all(refs)).isTrue();
    }

    /**
     * A generator whose body holds a payload in a frame across its first emit, and hands the exit signal
     * it is closed with to {@code kept} as it unwinds; it is taken once, then closed.
     */
    private static List<WeakReference<?>> closedHandingOverItsSignal(AtomicReference<CoroutineExit> kept) {
        AtomicReference<WeakReference<Object>> held = new AtomicReference<>();
        Generator<Integer> closed = Generator.of("keeper", out -> {
            Object payload = new byte[1 << 20];
            held.set(new WeakReference<>(payload));
            try {
                out.emit(1);
            } catch (CoroutineExit e) {
                kept.set(e);
                throw e;
            }
            if (payload.hashCode() == 0) {
                throw new AssertionError("unreachable: keeps payload live across the emit");
            }
        });
        assertThat(closed.next()).isEqualTo(1);
        closed.close();
        assertThat(closed.state()).as("the signal it threw was its own close's").isEqualTo(Generator.State.CLOSED);
        return List.of(new WeakReference<>(closed), held.get());
    }

    @Test
    void aSuspendedGeneratorDroppedWithoutCloseBecomesUnreachableWithWhatItsFramesHeld() {
        assertThat(Collected.all(droppedSuspended(null))).isTrue();
    }

    @Test
    void aGeneratorDroppedWithoutCloseIsNotKeptByALiveGeneratorItConsumedInsideItsBody() {
        Generator<Integer> longLived = Generator.of("long-lived", out -> {
            for (int k = 1; ; k++) {
                out.emit(k);
            }
        });
        List<WeakReference<?>> refs = droppedSuspended(longLived);
        assertThat(Collected.all(refs))
                .as("the dropped generator and its payload are garbage while the generator it consumed lives on")
                .isTrue();
        assertThat(longLived.next()).as("and that one goes on where it was").isEqualTo(2);
        longLived.close();
    }

    @Test
    void aGeneratorDroppedWithoutCloseIsNotKeptByALiveGeneratorItConsumedInsideACoroutine() {
        Generator<Integer> longLived = Generator.of("long-lived", out -> {
            for (int k = 1; ; k++) {
                out.emit(k);
            }
        });
        AtomicReference<List<WeakReference<?>>> refs = new AtomicReference<>();
        Coroutine.create("consumer", () -> refs.set(droppedSuspended(longLived))).switchTo();
        assertThat(Collected.all(refs.get())).isTrue();
        assertThat(longLived.next()).isEqualTo(2);
        longLived.close();
    }

    /**
     * On a new thread that ends: a coroutine left suspended inside a generator's body, and a generator
     * left suspended at an emit; returns weak references to them and to the thread's scheduler.
     */
    private static List<WeakReference<?>> leftByAnEndedThread(Thread.Builder builder) throws InterruptedException {
        List<WeakReference<?>> refs = new java.util.ArrayList<>();
        Thread t = builder.unstarted(() -> {
            refs.add(new WeakReference<>(Scheduler.current()));
            Generator<Integer> yielding = Generator.of("yielding", out -> {
                Coroutine.yield();
                out.emit(1);
            });
            Coroutine inside = Coroutine.create("inside", yielding::next);
            inside.switchTo();
            assertThat(yielding.state()).isEqualTo(Generator.State.RUNNING);
            refs.add(new WeakReference<>(yielding));
            refs.add(new WeakReference<>(inside));
            refs.addAll(droppedSuspended(null));
        });
        t.start();
        t.join();
        assertThat(refs).hasSize(5);
        return refs;
    }

    /**
     * On a new thread that ends: generators a user keeps, new, suspended at an emit, read ahead, and
     * finished; returns a weak reference to the thread's scheduler.
     */
    private static WeakReference<?> schedulerOfAThreadThatEndsLeavingGeneratorsKept(Thread.Builder builder,
            List<Generator<Integer>> kept) throws InterruptedException {
        AtomicReference<WeakReference<?>> ref = new AtomicReference<>();
        Thread t = builder.name("maker").unstarted(() -> {
            ref.set(new WeakReference<>(Scheduler.current()));
            Generator<Integer> fresh = Generator.of("new", out -> out.emit(1));
            Generator<Integer> suspended = Generator.of("suspended", out -> {
                out.emit(1);
                out.emit(2);
            });
            suspended.next();
            Generator<Integer> ahead = Generator.buffered("ahead", 4, out -> {
                for (int i = 0; ; i++) {
                    out.emit(i);
                }
            });
            ahead.next();
            Generator<Integer> finished = Generator.of("finished", out -> out.emit(1));
            finished.next();
            assertThat(finished.hasNext()).isFalse();
            kept.addAll(List.of(fresh, suspended, ahead, finished));
        });
        t.start();
        t.join();
        assertThat(kept).hasSize(4);
        return ref.get();
    }

    /** Generators kept after their thread ended: the scheduler goes, and each still refuses every use naming that thread. */
    private static void keptGeneratorsDoNotKeepTheSchedulerOfTheirEndedThread(Thread.Builder builder) throws InterruptedException {
        List<Generator<Integer>> kept = new java.util.ArrayList<>();
        WeakReference<?> scheduler = schedulerOfAThreadThatEndsLeavingGeneratorsKept(builder, kept);
        assertThat(Collected.all(List.of(scheduler))).as("the ended thread's scheduler is garbage").isTrue();
        assertThat(kept).extracting(Generator::name).containsExactly("new", "suspended", "ahead", "finished");
        for (Generator<Integer> g : kept) {
            assertThatThrownBy(g::next).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(" cannot take the next value of " + g.toString().replace("Generator[", "generator '")
                            .replaceFirst(", ", "' (").replace("]", ")") + ": it belongs to thread 'maker' (#")
                    .hasMessageEndingWith("), which has ended");
            assertThatThrownBy(g::close).isInstanceOf(IllegalStateException.class).hasMessageContaining(" cannot close ")
                    .hasMessageEndingWith("), which has ended");
            assertThatThrownBy(g::state).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(" cannot read the state of ").hasMessageEndingWith("), which has ended");
        }
    }

    @Test
    void generatorsKeptAfterTheirPlatformThreadEndedDoNotKeepItsSchedulerReachable() throws InterruptedException {
        keptGeneratorsDoNotKeepTheSchedulerOfTheirEndedThread(Thread.ofPlatform());
    }

    @Test
    void generatorsKeptAfterTheirVirtualThreadEndedDoNotKeepItsSchedulerReachable() throws InterruptedException {
        keptGeneratorsDoNotKeepTheSchedulerOfTheirEndedThread(Thread.ofVirtual());
    }

    @Test
    void aPlatformThreadThatEndsWithACoroutineInsideAGeneratorsBodyLeavesNothingReachable() throws InterruptedException {
        assertThat(Collected.all(leftByAnEndedThread(Thread.ofPlatform()))).isTrue();
    }

    @Test
    void aVirtualThreadThatEndsWithACoroutineInsideAGeneratorsBodyLeavesNothingReachable() throws InterruptedException {
        assertThat(Collected.all(leftByAnEndedThread(Thread.ofVirtual()))).isTrue();
    }
}
