package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.coro.Coroutine.State;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every rule of SEMANTICS.md, through the public API. It runs on whichever engine the JVM chose,
 * and CI runs it once per engine, so each rule is proven on both.
 */
@ExtendWith(FreshThread.class)
class SchedulerTest {

    private final List<String> trace = new ArrayList<>();

    private void log(String what) {
        trace.add(what + "@" + Coroutine.currentId());
    }

    // ---- the seed's rules ------------------------------------------------------------------

    @Test
    void createAppendsTheCoroutineWithoutRunningIt() {
        Coroutine c = Coroutine.create("c", () -> log("c"));
        assertThat(trace).isEmpty();
        assertThat(c.state()).isEqualTo(State.NEW);
        assertThat(Coroutine.currentId()).isZero();
        assertThat(Coroutine.current().isMain()).isTrue();
        c.close();
    }

    @Test
    void yieldRunsMainThenTheLastCreatedDownToTheFirstThenMain() {
        for (String name : List.of("a", "b", "c")) {
            Coroutine.create(name, () -> {
                log(name);
                Coroutine.yield();
                log(name);
            });
        }
        Coroutine.yield();
        log("main");
        assertThat(trace).containsExactly("c@3", "b@2", "a@1", "main@0");
    }

    @Test
    void aVirtualThreadHasARunListOfItsOwn() throws InterruptedException {
        Coroutine.create("platform's", () -> log("platform's"));
        Thread virtual = Thread.ofVirtual().start(() -> {
            Coroutine.create("a", () -> log("a"));
            Coroutine.create("b", () -> log("b"));
            Coroutine.yield();
            Coroutine.yield();
            log("virtual main");
        });
        virtual.join();
        assertThat(trace).containsExactly("b@2", "a@1", "virtual main@0");
        Coroutine.yield();
        assertThat(trace).containsExactly("b@2", "a@1", "virtual main@0", "platform's@1");
    }

    @Test
    void yieldBeforeAnyCreateOrWithOnlyMainLeftReturnsAtOnce() {
        Coroutine.yield();
        assertThat(Coroutine.currentId()).isZero();
        assertThat(Coroutine.current().isMain()).isTrue();
        Coroutine c = Coroutine.create("c", () -> log("c"));
        Coroutine.yield();
        Coroutine.yield();
        assertThat(trace).containsExactly("c@1");
        assertThat(c.isFinished()).isTrue();
    }

    @Test
    void switchToRunsTheCoroutineAndSwitchingToTheRunningOneReturnsAtOnce() {
        Coroutine a = Coroutine.create("a", () -> {
            log("a");
            Coroutine.current().switchTo();
            log("a");
        });
        Coroutine.create("b", () -> log("b"));
        a.switchTo();
        assertThat(trace).containsExactly("a@1", "a@1");
        Coroutine.current().switchTo();
    }

    @Test
    void aReturningBodyIsSwapRemovedAndThePreviousIndexRunsNext() {
        Coroutine first = Coroutine.create("first", () -> log("first"));
        Coroutine.create("second", () -> {
            log("second");
            Coroutine.yield();
            log("second");
        });
        Coroutine third = Coroutine.create("third", () -> log("third"));
        first.switchTo();
        // first (index 1) returned: third moved into slot 1, and index 0 (main) resumed
        assertThat(trace).containsExactly("first@1");
        assertThat(first.state()).isEqualTo(State.FINISHED);
        third.switchTo();
        assertThat(trace).containsExactly("first@1", "third@1");
        Coroutine.yield();
        assertThat(trace).containsExactly("first@1", "third@1", "second@1");
        Coroutine.yield();
        assertThat(trace).containsExactly("first@1", "third@1", "second@1", "second@1");
    }

    @Test
    void theEntryBeforeAnEndedBodyRunsNextEvenIfItNeverRan() {
        Coroutine.create("never ran", () -> log("never ran"));
        Coroutine.create("ends", () -> log("ends"));
        Coroutine.yield();
        assertThat(trace).containsExactly("ends@2", "never ran@1");
        assertThat(Coroutine.currentId()).isZero();
    }

    @Test
    void currentIdFollowsTheCoroutineWhenASwapRemoveMovesIt() {
        Coroutine a = Coroutine.create("a", () -> {
        });
        Coroutine.create("b", () -> {
            log("b");
            a.close();
            log("b");
        }).switchTo();
        assertThat(trace).containsExactly("b@2", "b@1");
    }

    @Test
    void isFinishedBecomesTrueOnceTheBodyHasEnded() {
        Coroutine c = Coroutine.create("c", Coroutine::yield);
        assertThat(c.isFinished()).isFalse();
        c.switchTo();
        assertThat(c.isFinished()).isFalse();
        c.switchTo();
        assertThat(c.isFinished()).isTrue();
    }

    @Test
    void aCoroutineCreatedInsideACoroutineJoinsTheSameRunList() {
        Coroutine outer = Coroutine.create("outer", () -> {
            Coroutine inner = Coroutine.create("inner", () -> log("inner"));
            log("outer");
            inner.switchTo();
            log("outer");
        });
        outer.switchTo();
        assertThat(trace).containsExactly("outer@1", "inner@2", "outer@1");
    }

    // ---- where the C runtime crashes: the Java rules --------------------------------------

    @Test
    void switchToAFinishedCoroutineThrowsNamingItAndItsState() {
        Coroutine c = Coroutine.create("done", () -> {
        });
        c.switchTo();
        assertThatThrownBy(c::switchTo)
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("cannot switchTo coroutine 'done': it is FINISHED");
    }

    @Test
    void switchToAFailedCoroutineSaysWhereItsFailureWent() {
        Coroutine c = Coroutine.create("bad", () -> {
            throw new IllegalArgumentException("boom");
        });
        assertThatThrownBy(c::switchTo).isInstanceOf(CoroutineException.class);
        assertThatThrownBy(c::switchTo)
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("cannot switchTo coroutine 'bad': it is FAILED (its failure was delivered to its creator)");
    }

    @Test
    void aCallFromAnotherThreadThrowsNamingBothThreads() throws InterruptedException {
        Coroutine c = Coroutine.create("mine", () -> {
        });
        Thread owner = Thread.currentThread();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread other = new Thread(() -> thrown.set(catchThrowableOfType(IllegalStateException.class, c::switchTo)),
                "intruder");
        other.start();
        other.join();
        assertThat(thrown.get()).hasMessage("cannot switchTo coroutine 'mine' (state NEW) from thread "
                + Scheduler.describe(other) + ": it belongs to thread " + Scheduler.describe(owner));
        c.close();
    }

    @Test
    void aCallFromACoroutineOfAnotherThreadNamesThatCoroutinesThread() throws InterruptedException {
        Coroutine mine = Coroutine.create("mine", () -> {
        });
        Thread owner = Thread.currentThread();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread other = new Thread(() -> Coroutine.create("theirs",
                () -> thrown.set(catchThrowableOfType(IllegalStateException.class, mine::state))).switchTo(), "other");
        other.start();
        other.join();
        assertThat(thrown.get()).hasMessage("cannot state coroutine 'mine' (state NEW) from thread "
                + Scheduler.describe(other) + ": it belongs to thread " + Scheduler.describe(owner));
        mine.close();
    }

    @Test
    void aFailingBodyIsSwapRemovedAndItsCreatorResumesWithTheFailure() {
        IllegalArgumentException boom = new IllegalArgumentException("boom");
        AtomicReference<Coroutine> child = new AtomicReference<>();
        Coroutine creator = Coroutine.create("creator", () -> {
            child.set(Coroutine.create("child", () -> {
                throw boom;
            }));
            Coroutine.create("last", () -> {
            });
            log("creator");
            CoroutineException e = catchThrowableOfType(CoroutineException.class, () -> child.get().switchTo());
            log("creator");
            assertThat(e).hasMessage("coroutine 'child' failed: java.lang.IllegalArgumentException: boom")
                    .hasCause(boom);
        });
        creator.switchTo();
        assertThat(trace).containsExactly("creator@1", "creator@1");
        assertThat(child.get().state()).isEqualTo(State.FAILED);
        assertThat(child.get().isFinished()).isTrue();
    }

    @Test
    void aFailureGoesToMainWhenItsCreatorHasEnded() {
        AtomicReference<Coroutine> orphan = new AtomicReference<>();
        Coroutine.create("parent", () -> orphan.set(Coroutine.create("orphan", () -> {
            Coroutine.yield();
            throw new IllegalStateException("late");
        }))).switchTo();
        orphan.get().switchTo();
        assertThatThrownBy(() -> orphan.get().switchTo())
                .isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'orphan' failed: java.lang.IllegalStateException: late")
                .cause().hasMessage("late");
        assertThat(Coroutine.currentId()).isZero();
    }

    @Test
    void anErrorThrownByABodyIsDeliveredLikeAnException() {
        Coroutine c = Coroutine.create("deep", SchedulerTest::recurseForever);
        assertThatThrownBy(c::switchTo)
                .isInstanceOf(CoroutineException.class)
                .hasCauseInstanceOf(StackOverflowError.class);
        assertThat(c.state()).isEqualTo(State.FAILED);
    }

    private static void recurseForever() {
        recurseForever();
    }

    @Test
    void closeOfAFinishedCoroutineIsANoOpAndTwiceIsFine() {
        Coroutine c = Coroutine.create("c", () -> {
        });
        c.switchTo();
        c.close();
        c.close();
        assertThat(c.state()).isEqualTo(State.FINISHED);
    }

    @Test
    void closeOfACoroutineThatNeverRanRemovesItAndTheCallerKeepsRunning() {
        Coroutine a = Coroutine.create("a", () -> log("a"));
        Coroutine b = Coroutine.create("b", () -> log("b"));
        a.close();
        assertThat(a.state()).isEqualTo(State.CLOSED);
        assertThat(Coroutine.current().isMain()).isTrue();
        Coroutine.yield();
        assertThat(trace).containsExactly("b@1");
        assertThat(b.isFinished()).isTrue();
    }

    @Test
    void closeOfASuspendedCoroutineUnwindsItsFinallyBlocksAndReturnsToTheCaller() {
        Coroutine c = Coroutine.create("held", () -> {
            try {
                log("body");
                Coroutine.yield();
                log("never");
            } finally {
                log("finally");
                CoroutineExit again = catchThrowableOfType(CoroutineExit.class, Coroutine::yield);
                assertThat(again).hasMessage("coroutine 'held' is being closed: its yield throws this signal"
                        + " so that it unwinds (state RUNNING, closing)");
                log("finally");
            }
        });
        c.switchTo();
        c.close();
        assertThat(trace).containsExactly("body@1", "finally@1", "finally@1");
        assertThat(c.state()).isEqualTo(State.CLOSED);
        assertThat(Coroutine.current().isMain()).isTrue();
    }

    @Test
    void closeThrowsTheExitSignalFromThePendingSwitch() {
        AtomicReference<Throwable> seen = new AtomicReference<>();
        Coroutine c = Coroutine.create("waiting", () -> {
            try {
                Coroutine.current().switchTo();
                Coroutine.yield();
            } catch (CoroutineExit e) {
                seen.set(e);
                throw e;
            }
        });
        c.switchTo();
        c.close();
        assertThat(seen.get()).hasMessage("coroutine 'waiting' is being closed: its resume throws this signal"
                + " so that it unwinds (state RUNNING, closing)");
    }

    @Test
    void closeReturnsToTheCoroutineThatClosed() {
        Coroutine victim = Coroutine.create("victim", Coroutine::yield);
        Coroutine closer = Coroutine.create("closer", () -> {
            victim.close();
            log("closer");
        });
        victim.switchTo();
        closer.switchTo();
        assertThat(trace).containsExactly("closer@1");
        assertThat(victim.state()).isEqualTo(State.CLOSED);
    }

    @Test
    void aBodyThatThrowsWhileBeingClosedFailsAndClosePassesItOn() {
        Coroutine c = Coroutine.create("stubborn", () -> {
            try {
                Coroutine.yield();
            } finally {
                throw new IllegalStateException("in finally");
            }
        });
        c.switchTo();
        assertThatThrownBy(c::close)
                .isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'stubborn' failed while being closed: java.lang.IllegalStateException: in finally");
        assertThat(c.state()).isEqualTo(State.FAILED);
    }

    @Test
    void closeOfTheRunningCoroutineOrOfMainThrows() {
        Coroutine main = Coroutine.current();
        AtomicReference<Throwable> self = new AtomicReference<>();
        AtomicReference<Throwable> ofMain = new AtomicReference<>();
        Coroutine c = Coroutine.create("me", () -> {
            self.set(catchThrowableOfType(IllegalStateException.class, () -> Coroutine.current().close()));
            ofMain.set(catchThrowableOfType(IllegalStateException.class, main::close));
        });
        c.switchTo();
        assertThat(self.get()).hasMessage("cannot close coroutine 'me': it is RUNNING;"
                + " a coroutine cannot close itself (return from its body instead)");
        assertThat(ofMain.get()).hasMessage("cannot close main context 'main' of thread "
                + Scheduler.describe(Thread.currentThread())
                + ": it is SUSPENDED and is the thread itself; only coroutines can be closed");
    }

    @Test
    void closeUnwindsTryWithResources() {
        Coroutine c = Coroutine.create("resourceful", () -> {
            try (AutoCloseable ignored = () -> log("resource")) {
                Coroutine.yield();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        c.switchTo();
        c.close();
        assertThat(trace).containsExactly("resource@1");
    }

    @Test
    void aMonitorHeldAcrossASwitchStaysTheCoroutinesUntilItsBodyLeavesIt() {
        Object lock = new Object();
        Coroutine c = Coroutine.create("holder", () -> {
            synchronized (lock) {
                Coroutine.yield();
                log("holder");
            }
        });
        c.switchTo();
        assertThat(Thread.holdsLock(lock)).isFalse();
        assertThat(c.state()).isEqualTo(State.SUSPENDED);
        c.close();
        synchronized (lock) {
            assertThat(Thread.holdsLock(lock)).isTrue();
        }
        assertThat(trace).isEmpty();
    }
}
