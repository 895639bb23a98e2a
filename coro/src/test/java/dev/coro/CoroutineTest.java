package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every rule of docs/SEMANTICS.md, one test (or a few) per rule, each on a fresh thread and so with a
 * fresh scheduler. The nested classes follow the document's tables.
 */
@ExtendWith(FreshThread.class)
class CoroutineTest {

    /**
     * The exit signal of a coroutine of the calling thread closed while suspended, which its body
     * caught, kept and threw on: for the tests of a body that throws such a signal again.
     */
    static CoroutineExit exitSignalKeptFromAClosedCoroutine() {
        AtomicReference<CoroutineExit> kept = new AtomicReference<>();
        Coroutine closed = Coroutine.create("closed", () -> {
            try {
                Coroutine.yield();
            } catch (CoroutineExit e) {
                kept.set(e);
                throw e;
            }
        });
        closed.switchTo();
        closed.close();
        return kept.get();
    }

    /** What ran, in order: "name@currentId" entries. */
    private final List<String> trace = new ArrayList<>();

    private void mark(String what) {
        trace.add(what + "@" + Coroutine.currentId());
    }

    /** A body that marks each of its steps and yields between them. */
    private Runnable steps(String name, int count) {
        return () -> {
            for (int k = 0; k < count; k++) {
                mark(name + k);
                Coroutine.yield();
            }
        };
    }

    @Nested
    @ExtendWith(FreshThread.class)
    class StatePerThread {

        @Test
        void mainIsContextZeroBeforeAnyCreate() {
            assertThat(Coroutine.currentId()).isZero();
            Coroutine main = Coroutine.current();
            assertThat(main.isMain()).isTrue();
            assertThat(main.name()).isEqualTo("main");
            assertThat(main.state()).isEqualTo(State.RUNNING);
            assertThat(Coroutine.current()).isSameAs(main);
        }

        @Test
        void mainJoinsTheRunListAtIndexZeroOnTheFirstCreate() {
            Coroutine main = Coroutine.current();
            AtomicReference<Coroutine> seenInside = new AtomicReference<>();
            Coroutine a = Coroutine.create(() -> {
                seenInside.set(Coroutine.current());
                mark("a");
            });
            assertThat(Coroutine.currentId()).isZero();
            assertThat(Coroutine.current()).isSameAs(main);
            a.switchTo();
            assertThat(trace).containsExactly("a@1");
            assertThat(seenInside.get()).isSameAs(a);
        }

        @Test
        void eachThreadHasItsOwnRunList() throws Exception {
            Coroutine.create(steps("here", 1));
            Coroutine.create(steps("here", 1));
            List<String> other = new ArrayList<>();
            Thread t = new Thread(() -> {
                other.add("id=" + Coroutine.currentId());
                Coroutine c = Coroutine.create(() -> other.add("ran@" + Coroutine.currentId()));
                Coroutine.yield();
                other.add("finished=" + c.isFinished());
            });
            t.start();
            t.join();
            assertThat(other).containsExactly("id=0", "ran@1", "finished=true");
        }

        @Test
        void aVirtualThreadHasItsOwnSchedulerToo() throws Exception {
            CompletableFuture<List<String>> result = new CompletableFuture<>();
            Thread.ofVirtual().start(() -> {
                List<String> seen = new ArrayList<>();
                Coroutine a = Coroutine.create(() -> {
                    seen.add("a@" + Coroutine.currentId() + " on virtual=" + Thread.currentThread().isVirtual());
                    Coroutine.yield();
                    seen.add("a again");
                });
                Coroutine.yield();
                seen.add("main");
                Coroutine.yield();
                seen.add("done=" + a.isFinished());
                result.complete(seen);
            }).join();
            assertThat(result.get()).containsExactly("a@1 on virtual=true", "main", "a again", "done=true");
        }
    }

    @Nested
    @ExtendWith(FreshThread.class)
    class Create {

        @Test
        void createAppendsWithoutRunningTheBody() {
            Coroutine a = Coroutine.create(steps("a", 1));
            assertThat(trace).isEmpty();
            assertThat(a.state()).isEqualTo(State.NEW);
            assertThat(a.isFinished()).isFalse();
            assertThat(Coroutine.currentId()).isZero();
        }

        @Test
        void anUnnamedCoroutineGetsItsArgumentAndADefaultName() {
            List<String> got = new ArrayList<>();
            Coroutine c = Coroutine.create((String s) -> got.add(s + " in " + Coroutine.current().name()), "hello");
            c.switchTo();
            assertThat(got).containsExactly("hello in coroutine-1");
            assertThat(c.isFinished()).isTrue();
        }

        @Test
        void aNamedCoroutineGetsItsArgumentAndKeepsItsName() {
            List<Integer> got = new ArrayList<>();
            Coroutine c = Coroutine.create("adder", (Integer n) -> got.add(n + 1), 41);
            c.switchTo();
            assertThat(got).containsExactly(42);
            assertThat(c.name()).isEqualTo("adder");
            assertThat(c).hasToString("Coroutine[adder, FINISHED]");
        }

        @Test
        void defaultNamesCountTheThreadsCreationsFromOne() {
            Coroutine a = Coroutine.create(() -> { });
            Coroutine b = Coroutine.create(x -> { }, "arg");
            Coroutine named = Coroutine.create("worker", () -> { });
            Coroutine c = Coroutine.create(() -> { });
            assertThat(List.of(a.name(), b.name(), named.name(), c.name()))
                    .containsExactly("coroutine-1", "coroutine-2", "worker", "coroutine-4");
        }

        @Test
        void createRejectsNullBodiesAndNames() {
            assertThatThrownBy(() -> Coroutine.create((Runnable) null)).isInstanceOf(NullPointerException.class)
                    .hasMessage("body");
            assertThatThrownBy(() -> Coroutine.create(null, 1)).isInstanceOf(NullPointerException.class)
                    .hasMessage("body");
            assertThatThrownBy(() -> Coroutine.create((String) null, () -> { }))
                    .isInstanceOf(NullPointerException.class).hasMessage("name");
            assertThatThrownBy(() -> Coroutine.create("n", (Runnable) null))
                    .isInstanceOf(NullPointerException.class).hasMessage("body");
            assertThatThrownBy(() -> Coroutine.create(null, x -> { }, 1))
                    .isInstanceOf(NullPointerException.class).hasMessage("name");
            assertThatThrownBy(() -> Coroutine.create("n", null, 1))
                    .isInstanceOf(NullPointerException.class).hasMessage("body");
        }

        @Test
        void aCoroutineCanCreateCoroutinesThatJoinTheSameRunList() {
            Coroutine.create(() -> {
                mark("outer");
                Coroutine.create(() -> mark("inner"));
                Coroutine.yield(); // runs index 0 (main)
                mark("outer-again");
            });
            Coroutine.yield(); // main -> last = outer (1)
            assertThat(trace).containsExactly("outer@1");
            Coroutine.yield(); // main -> last = inner (2), which returns -> index 1 = outer
            assertThat(trace).containsExactly("outer@1", "inner@2", "outer-again@1");
        }
    }

    @Nested
    @ExtendWith(FreshThread.class)
    class Yield {

        @Test
        void yieldRunsThePreviousIndexWrappingFromMainToTheLast() {
            Coroutine.create(steps("a", 2));
            Coroutine.create(steps("b", 2));
            Coroutine.create(steps("c", 2));
            Coroutine.yield();
            mark("main");
            Coroutine.yield();
            mark("main");
            assertThat(trace).containsExactly("c0@3", "b0@2", "a0@1", "main@0", "c1@3", "b1@2", "a1@1", "main@0");
        }

        @Test
        void yieldBeforeAnyCreateReturnsAtOnce() {
            Coroutine.yield();
            assertThat(Coroutine.currentId()).isZero();
            assertThat(Coroutine.current().state()).isEqualTo(State.RUNNING);
        }

        @Test
        void yieldWithOnlyMainLeftReturnsAtOnce() {
            Coroutine a = Coroutine.create(() -> mark("a"));
            Coroutine.yield();
            assertThat(a.isFinished()).isTrue();
            Coroutine.yield();
            assertThat(trace).containsExactly("a@1");
            assertThat(Coroutine.currentId()).isZero();
        }

        @Test
        void aSuspendedCoroutineResumesWhereItYielded() {
            List<Integer> values = new ArrayList<>();
            Coroutine.create(() -> {
                int local = 1;
                for (int k = 0; k < 3; k++) {
                    values.add(local);
                    local *= 10;
                    Coroutine.yield();
                }
            });
            for (int k = 0; k < 4; k++) {
                Coroutine.yield();
            }
            assertThat(values).containsExactly(1, 10, 100);
        }
    }

    @Nested
    @ExtendWith(FreshThread.class)
    class SwitchTo {

        @Test
        void switchToRunsTheGivenCoroutineAndSetsItsIndex() {
            Coroutine.create(steps("a", 1));
            Coroutine b = Coroutine.create(() -> {
                mark("b");
                Coroutine.current().switchTo(); // to itself: returns at once
                mark("b-still");
            });
            Coroutine.create(steps("c", 1));
            b.switchTo();
            assertThat(trace).containsExactly("b@2", "b-still@2", "a0@1");
        }

        @Test
        void switchingToTheCurrentContextReturnsAtOnce() {
            Coroutine.create(steps("a", 1));
            Coroutine.current().switchTo();
            assertThat(trace).isEmpty();
            assertThat(Coroutine.currentId()).isZero();
        }

        @Test
        void aCoroutineCanSwitchToMain() {
            Coroutine main = Coroutine.current();
            Coroutine a = Coroutine.create(() -> {
                mark("a");
                main.switchTo();
                mark("a-again");
            });
            a.switchTo();
            mark("main");
            assertThat(a.state()).isEqualTo(State.SUSPENDED);
            a.switchTo();
            assertThat(trace).containsExactly("a@1", "main@0", "a-again@1");
        }

        @Test
        void switchToAFinishedCoroutineThrowsNamingItAndItsState() {
            Coroutine a = Coroutine.create("done", () -> { });
            a.switchTo();
            assertThatThrownBy(a::switchTo).isInstanceOf(IllegalStateException.class)
                    .hasMessage("main context 'main' cannot switchTo coroutine 'done' (FINISHED):"
                            + " it has ended, its body having returned");
        }

        @Test
        void switchToAClosedCoroutineThrowsNamingItAndItsState() {
            Coroutine a = Coroutine.create("gone", () -> { });
            a.close();
            a.close(); // closing a closed coroutine is a no-op
            assertThatThrownBy(a::switchTo).isInstanceOf(IllegalStateException.class)
                    .hasMessage("main context 'main' cannot switchTo coroutine 'gone' (CLOSED): it has ended, closed");
        }

        @Test
        void switchToAFailedCoroutineThrowsNamingItAndItsState() {
            Coroutine a = Coroutine.create("broken", () -> {
                throw new IllegalArgumentException("boom");
            });
            assertThatThrownBy(a::switchTo).isInstanceOf(CoroutineException.class)
                    .hasMessage("coroutine 'broken' failed: java.lang.IllegalArgumentException: boom");
            assertThatThrownBy(a::switchTo).isInstanceOf(IllegalStateException.class)
                    .hasMessage("main context 'main' cannot switchTo coroutine 'broken' (FAILED): it has ended,"
                            + " its body having thrown; its failure was delivered to its creator, main context 'main'");
        }

        @Test
        @Timeout(10)
        void switchToAFailedCoroutineNamesItsCloserWhenTheFailureWentThere() {
            Coroutine leaky = Coroutine.create("leaky", () -> {
                try {
                    Coroutine.yield();
                } finally {
                    throw new IllegalStateException("cleanup failed");
                }
            });
            Coroutine closer = Coroutine.create("closer", () -> assertThatThrownBy(leaky::close)
                    .isInstanceOf(CoroutineException.class).hasMessageContaining("cleanup failed"));
            leaky.switchTo();
            closer.switchTo();
            assertThat(closer.state()).isEqualTo(State.FINISHED);
            assertThatThrownBy(leaky::switchTo).isInstanceOf(IllegalStateException.class)
                    .hasMessage("main context 'main' cannot switchTo coroutine 'leaky' (FAILED): it has ended,"
                            + " its body having thrown; its failure was delivered to its closer, coroutine 'closer'");
        }

        @Test
        @Timeout(10)
        void switchToAFailedCoroutineNamesMainAndWhyWhenItsCreatorHadEnded() {
            Coroutine[] child = new Coroutine[1];
            Coroutine parent = Coroutine.create("parent", () -> child[0] = Coroutine.create("orphan", () -> {
                throw new UnsupportedOperationException("nope");
            }));
            parent.switchTo();
            assertThatThrownBy(child[0]::switchTo).isInstanceOf(CoroutineException.class);
            Coroutine other = Coroutine.create("other", () -> assertThatThrownBy(child[0]::switchTo)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("coroutine 'other' cannot switchTo coroutine 'orphan' (FAILED): it has ended, its body"
                            + " having thrown; its failure was delivered to main context 'main', its creator"
                            + " coroutine 'parent' having ended"));
            other.switchTo();
            assertThat(other.state()).isEqualTo(State.FINISHED);
        }

        @Test
        @Timeout(10)
        void switchToAFailedCoroutineNamesMainAndWhyWhenItsCloserHadEnded() {
            Coroutine[] closer = new Coroutine[1];
            Coroutine closed = Coroutine.create("closed", () -> {
                try {
                    Coroutine.yield();
                } catch (CoroutineExit e) {
                    closer[0].close();
                    throw new IllegalStateException("after its closer");
                }
            });
            closer[0] = Coroutine.create("closer", () -> closed.close());
            closed.switchTo();
            assertThatThrownBy(closer[0]::switchTo).isInstanceOf(CoroutineException.class)
                    .hasMessageContaining("after its closer");
            assertThat(closer[0].state()).isEqualTo(State.CLOSED);
            assertThatThrownBy(closed::switchTo).isInstanceOf(IllegalStateException.class)
                    .hasMessage("main context 'main' cannot switchTo coroutine 'closed' (FAILED): it has ended, its body"
                            + " having thrown; its failure was delivered to main context 'main', its closer"
                            + " coroutine 'closer' having ended");
        }
    }

    @Nested
    @ExtendWith(FreshThread.class)
    class BodyReturns {

        @Test
        void aFinishedCoroutineIsSwapRemovedAndThePreviousIndexRuns() {
            // L = [main, a, b, c]; main switches to b; b returns: c takes slot 2, then index 1 (a) runs,
            // not main, who switched in.
            Coroutine a = Coroutine.create(() -> {
                mark("a");
                Coroutine.yield();
                mark("a-again");
            });
            Coroutine b = Coroutine.create(() -> mark("b"));
            Coroutine c = Coroutine.create(steps("c", 2));
            b.switchTo();
            mark("main");
            assertThat(trace).containsExactly("b@2", "a@1", "main@0");
            assertThat(b.isFinished()).isTrue();
            assertThat(b.state()).isEqualTo(State.FINISHED);
            Coroutine.yield(); // main -> last = c, now at index 2
            assertThat(trace).endsWith("c0@2", "a-again@1");
            assertThat(a.isFinished()).isTrue();
            assertThat(c.isFinished()).isFalse();
        }

        @Test
        void theLastCoroutineFinishingRunsTheOneBeforeIt() {
            Coroutine.create(steps("a", 2));
            Coroutine.create(() -> mark("b"));
            Coroutine.yield();
            assertThat(trace).containsExactly("b@2", "a0@1");
        }

        @Test
        void currentIdFollowsACoroutineMovedByASwapRemove() {
            // The cpt example: when the first coroutine finishes, the second takes its index.
            Coroutine.create(steps("a", 1));
            Coroutine b = Coroutine.create(steps("b", 3));
            while (!b.isFinished()) {
                Coroutine.yield();
            }
            assertThat(trace).containsExactly("b0@2", "a0@1", "b1@2", "b2@1");
        }
    }

    @Nested
    @ExtendWith(FreshThread.class)
    class BodyThrows {

        @Test
        void anExitSignalOfAnotherCoroutineThatABodyThrowsAgainIsItsFailureDeliveredToItsCreator() {
            CoroutineExit signal = CoroutineTest.exitSignalKeptFromAClosedCoroutine();
            Coroutine rethrows = Coroutine.create("rethrows", () -> {
                throw signal;
            });
            assertThatThrownBy(rethrows::switchTo).isInstanceOf(CoroutineException.class)
                    .hasMessageStartingWith("coroutine 'rethrows' failed: dev.coro.CoroutineExit: coroutine 'closed'")
                    .cause().isSameAs(signal);
            assertThat(rethrows.state()).isEqualTo(State.FAILED);
            assertThat(Coroutine.currentId()).isZero();
        }

        @Test
        @Timeout(10)
        void theSignalOfAWithTimeoutItHasLeftThatABodyThrowsAgainIsItsFailureDeliveredToItsCreator() {
            Channel<Integer> never = new Channel<>("never", 0);
            VirtualTime.run(() -> {
                Coroutine rethrows = Coroutine.create("rethrows", () -> {
                    try {
                        Coroutine.withTimeout(Duration.ofMillis(10), () -> never.receive());
                    } catch (CoroutineTimeoutException e) {
                        throw (CoroutineExit) e.getCause(); // its scope is left: the signal unwinds nothing now
                    }
                });
                assertThatThrownBy(() -> Coroutine.sleep(Duration.ofMillis(20))).isInstanceOf(CoroutineException.class)
                        .hasMessage("coroutine 'rethrows' failed: dev.coro.CoroutineExit: coroutine 'rethrows': its"
                                + " withTimeout(PT0.01S) expired; its receive from channel 'never' throws this signal so"
                                + " that the body unwinds to it")
                        .cause().isInstanceOf(CoroutineExit.class);
                assertThat(rethrows.state()).isEqualTo(State.FAILED);
            });
        }

        @Test
        void aFailureReachesTheCreatorsPendingYieldWithTheOriginalAsCause() {
            IllegalArgumentException boom = new IllegalArgumentException("boom");
            Coroutine a = Coroutine.create("bad", () -> {
                throw boom;
            });
            assertThatThrownBy(Coroutine::yield).isInstanceOf(CoroutineException.class)
                    .hasMessage("coroutine 'bad' failed: java.lang.IllegalArgumentException: boom")
                    .cause().isSameAs(boom);
            assertThat(a.state()).isEqualTo(State.FAILED);
            assertThat(a.isFinished()).isTrue();
            assertThat(Coroutine.currentId()).isZero();
        }

        @Test
        void aFailureGoesToTheCreatorNotToWhoeverSwitchedIn() {
            List<String> caught = new ArrayList<>();
            Coroutine[] child = new Coroutine[1];
            Coroutine parent = Coroutine.create("parent", () -> {
                child[0] = Coroutine.create("child", () -> {
                    throw new IllegalStateException("child broke");
                });
                mark("parent");
                try {
                    Coroutine.yield(); // -> main
                } catch (CoroutineException e) {
                    caught.add(e.getCause().getMessage() + "@" + Coroutine.currentId());
                }
            });
            Coroutine.create(steps("other", 3));
            parent.switchTo();          // parent creates child (index 3), yields to main
            child[0].switchTo();        // main switches to child; it throws
            // child was swap-removed; control went to parent (the creator), whose yield threw,
            // then parent returned: swap-remove, index 0 (main) runs.
            assertThat(caught).containsExactly("child broke@1");
            assertThat(trace).containsExactly("parent@1");
            assertThat(parent.isFinished()).isTrue();
        }

        @Test
        void aFailureWhoseCreatorHasEndedGoesToMain() {
            Coroutine[] child = new Coroutine[1];
            Coroutine parent = Coroutine.create(() -> child[0] = Coroutine.create("orphan", () -> {
                throw new UnsupportedOperationException("nope");
            }));
            parent.switchTo();
            assertThat(parent.isFinished()).isTrue();
            assertThatThrownBy(child[0]::switchTo).isInstanceOf(CoroutineException.class)
                    .hasMessageContaining("coroutine 'orphan' failed")
                    .cause().isInstanceOf(UnsupportedOperationException.class);
            assertThat(Coroutine.currentId()).isZero();
        }

        @Test
        void aFailureWhoseCreatorHasEndedGoesToMainNotToTheCoroutineThatSwitchedToItNorThePreviousEntry() {
            List<String> trace = new ArrayList<>();
            Coroutine[] orphan = new Coroutine[1];
            Coroutine other = Coroutine.create("other", () -> {
                trace.add("other switches to orphan");
                orphan[0].switchTo();
                trace.add("other resumed");
            });
            Coroutine parent = Coroutine.create("parent", () -> orphan[0] = Coroutine.create("orphan", () -> {
                throw new UnsupportedOperationException("nope");
            }));
            // parent ends, the previous entry (other) runs and switches to the orphan, which fails
            assertThatThrownBy(parent::switchTo).isInstanceOf(CoroutineException.class)
                    .hasMessage("coroutine 'orphan' failed: java.lang.UnsupportedOperationException: nope");
            assertThat(parent.state()).isEqualTo(State.FINISHED);
            assertThat(Coroutine.currentId()).isZero();
            assertThat(trace).containsExactly("other switches to orphan");
            assertThat(other.state()).isEqualTo(State.SUSPENDED);
            assertThatThrownBy(orphan[0]::switchTo).isInstanceOf(IllegalStateException.class)
                    .hasMessage("main context 'main' cannot switchTo coroutine 'orphan' (FAILED): it has ended, its body"
                            + " having thrown; its failure was delivered to main context 'main', its creator"
                            + " coroutine 'parent' having ended");
            other.switchTo();
            assertThat(trace).containsExactly("other switches to orphan", "other resumed");
            assertThat(other.state()).isEqualTo(State.FINISHED);
        }

        @Test
        void theCreatorResumesAtItsOwnIndexAfterTheFailure() {
            List<Integer> idAtCatch = new ArrayList<>();
            Coroutine.create("filler", steps("f", 3));
            Coroutine parent = Coroutine.create("parent", () -> {
                Coroutine bad = Coroutine.create("bad", () -> {
                    throw new RuntimeException("x");
                });
                try {
                    bad.switchTo();
                } catch (CoroutineException e) {
                    idAtCatch.add(Coroutine.currentId());
                }
            });
            parent.switchTo();
            assertThat(idAtCatch).containsExactly(2);
        }

        @Test
        void checkedAndErrorFailuresAreDeliveredToo() {
            Coroutine.create(() -> {
                throw new StackOverflowError("deep");
            });
            assertThatThrownBy(Coroutine::yield).isInstanceOf(CoroutineException.class)
                    .cause().isInstanceOf(StackOverflowError.class).hasMessage("deep");
            java.io.IOException checked = new java.io.IOException("unreadable");
            Coroutine reader = Coroutine.create("reader", () -> {
                throw Coroutine.<RuntimeException>passOn(checked); // a checked exception, as a Callable's
            });
            assertThatThrownBy(Coroutine::yield).isExactlyInstanceOf(CoroutineException.class)
                    .hasMessage("coroutine 'reader' failed: java.io.IOException: unreadable")
                    .cause().isSameAs(checked);
            assertThat(reader.state()).isEqualTo(State.FAILED);
            assertThat(Coroutine.currentId()).isZero();
            Coroutine a = Coroutine.create(() -> mark("after"));
            a.switchTo();
            assertThat(trace).containsExactly("after@1");
        }
    }

    @Nested
    @ExtendWith(FreshThread.class)
    class Close {

        @Test
        void closingAFinishedCoroutineIsANoOpEvenTwice() {
            Coroutine a = Coroutine.create(() -> { });
            a.switchTo();
            a.close();
            a.close();
            assertThat(a.state()).isEqualTo(State.FINISHED);
        }

        @Test
        void closingAFailedCoroutineIsANoOpEvenTwice() {
            Coroutine a = Coroutine.create("broken", () -> {
                throw new IllegalArgumentException("boom");
            });
            assertThatThrownBy(a::switchTo).isInstanceOf(CoroutineException.class);
            a.close();
            a.close();
            assertThat(a.state()).isEqualTo(State.FAILED);
            assertThat(a.isFinished()).isTrue();
            assertThat(Coroutine.currentId()).isZero();
        }

        @Test
        void closingANeverRunCoroutineRemovesItAndTheCallerKeepsRunning() {
            Coroutine a = Coroutine.create(steps("a", 1));
            Coroutine b = Coroutine.create(steps("b", 1));
            Coroutine c = Coroutine.create(steps("c", 1));
            a.close();
            assertThat(a.state()).isEqualTo(State.CLOSED);
            assertThat(a.isFinished()).isTrue();
            assertThat(Coroutine.currentId()).isZero();
            a.close(); // twice is fine
            // c took a's slot: L = [main, c, b]
            Coroutine.yield();
            assertThat(trace).containsExactly("b0@2", "c0@1");
            assertThat(b.isFinished()).isFalse();
            assertThat(c.isFinished()).isFalse();
        }

        @Test
        void whenTheCurrentContextIsMovedByARemovalItsIndexFollowsIt() {
            Coroutine a = Coroutine.create(steps("a", 1));
            Coroutine.create(steps("b", 1));
            Coroutine c = Coroutine.create(() -> {
                mark("c-before");
                a.close(); // c is last: it moves into a's slot 1 and keeps running
                mark("c-after");
            });
            c.switchTo();
            assertThat(trace).startsWith("c-before@3", "c-after@1");
        }

        @Test
        void closingASuspendedCoroutineRunsItsFinallyBlocksAndReturnsToTheCaller() {
            Coroutine a = Coroutine.create("a", () -> {
                try {
                    mark("a");
                    Coroutine.yield();
                    mark("never");
                } finally {
                    mark("finally");
                }
            });
            Coroutine.yield();
            a.close();
            mark("main");
            assertThat(trace).containsExactly("a@1", "finally@1", "main@0");
            assertThat(a.state()).isEqualTo(State.CLOSED);
            assertThat(a.isFinished()).isTrue();
            assertThat(Coroutine.dump()).as("removed: main is alone in the run list").doesNotContain("'a'");
            Coroutine.yield(); // only main left: returns at once
            assertThat(trace).containsExactly("a@1", "finally@1", "main@0");
            assertThat(Coroutine.currentId()).isZero();
        }

        @Test
        void thePendingCallOfAClosedCoroutineThrowsTheExitSignal() {
            List<Throwable> seen = new ArrayList<>();
            Coroutine a = Coroutine.create("a", () -> {
                try {
                    Coroutine.yield();
                } catch (CoroutineExit e) {
                    seen.add(e);
                    throw e;
                }
            });
            Coroutine.yield();
            a.close();
            assertThat(seen).singleElement().isInstanceOf(CoroutineExit.class).extracting(Throwable::getMessage)
                    .isEqualTo("coroutine 'a' is being closed: its yield throws this signal so that it unwinds"
                            + " (state RUNNING, closing)");
        }

        @Test
        void everySuspensionDuringUnwindingThrowsTheSignalAgain() {
            List<String> seen = new ArrayList<>();
            Coroutine main = Coroutine.current();
            Coroutine a = Coroutine.create("stubborn", () -> {
                try {
                    Coroutine.yield();
                } catch (CoroutineExit first) {
                    try {
                        Coroutine.yield();
                    } catch (CoroutineExit second) {
                        seen.add(second.getMessage());
                    }
                    try {
                        main.switchTo();
                    } catch (CoroutineExit third) {
                        seen.add(third.getMessage());
                    }
                    try {
                        Coroutine.current().switchTo();
                    } catch (CoroutineExit fourth) {
                        seen.add("self");
                    }
                }
                mark("returned-anyway");
            });
            Coroutine.yield();
            a.close();
            assertThat(seen).containsExactly(
                    "coroutine 'stubborn' is being closed: its yield throws this signal so that it unwinds"
                            + " (state RUNNING, closing)",
                    "coroutine 'stubborn' is being closed: its switchTo throws this signal so that it unwinds"
                            + " (state RUNNING, closing)",
                    "self");
            assertThat(trace).containsExactly("returned-anyway@1");
            assertThat(a.state()).isEqualTo(State.CLOSED);
        }

        @Test
        void closingReleasesTheMonitorsTheCoroutineHolds() throws Exception {
            Object lock = new Object();
            Coroutine a = Coroutine.create(() -> {
                synchronized (lock) {
                    Coroutine.yield();
                }
            });
            Coroutine.yield();
            a.close();
            CompletableFuture<Boolean> acquired = new CompletableFuture<>();
            Thread other = new Thread(() -> {
                synchronized (lock) {
                    acquired.complete(true);
                }
            });
            other.start();
            other.join();
            assertThat(acquired.get()).isTrue();
        }

        @Test
        void closeRunsTryWithResourcesOfNestedFrames() {
            Coroutine a = Coroutine.create(() -> deep(3));
            Coroutine.yield();
            a.close();
            assertThat(trace).containsExactly("closed1@1", "closed2@1", "closed3@1");
        }

        private void deep(int n) {
            if (n == 0) {
                Coroutine.yield();
                return;
            }
            try (AutoCloseable r = () -> mark("closed" + n)) {
                deep(n - 1);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }

        @Test
        void closingTheRunningCoroutineThrows() {
            List<String> messages = new ArrayList<>();
            Coroutine a = Coroutine.create("self", () -> {
                try {
                    Coroutine.current().close();
                } catch (IllegalStateException e) {
                    messages.add(e.getMessage());
                }
            });
            a.switchTo();
            assertThat(messages).containsExactly(
                    "coroutine 'self' cannot close coroutine 'self' (RUNNING): a coroutine cannot close itself"
                            + " (return from its body instead)");
            assertThat(a.state()).isEqualTo(State.FINISHED);
        }

        @Test
        void closingMainThrows() {
            Coroutine main = Coroutine.current();
            assertThatThrownBy(main::close).isInstanceOf(IllegalStateException.class)
                    .hasMessage("main context 'main' cannot close main context 'main' (RUNNING) of thread " + ThreadNames.thread()
                            + ": it is the thread itself; only coroutines can be closed");
            Coroutine a = Coroutine.create("closer", main::close);
            assertThatThrownBy(a::switchTo).isInstanceOf(CoroutineException.class)
                    .cause().isInstanceOf(IllegalStateException.class)
                    .hasMessage("coroutine 'closer' cannot close main context 'main' (SUSPENDED) of thread " + ThreadNames.thread()
                            + ": it is the thread itself; only coroutines can be closed");
        }

        @Test
        void aBodyThatThrowsWhileUnwindingMakesCloseThrowWithThatCause() {
            Coroutine a = Coroutine.create("leaky", () -> {
                try {
                    Coroutine.yield();
                } finally {
                    throw new IllegalStateException("cleanup failed");
                }
            });
            Coroutine.yield();
            assertThatThrownBy(a::close).isInstanceOf(CoroutineException.class)
                    .hasMessage("coroutine 'leaky' failed while being closed:"
                            + " java.lang.IllegalStateException: cleanup failed")
                    .cause().hasMessage("cleanup failed");
            assertThat(a.state()).isEqualTo(State.FAILED);
            assertThat(Coroutine.currentId()).isZero();
        }

        @Test
        @Timeout(10)
        void aBodyThatThrowsAnotherCoroutinesExitSignalWhileUnwindingFailsAndCloseThrowsItAsAnyFailure() {
            CoroutineExit signal = CoroutineTest.exitSignalKeptFromAClosedCoroutine();
            Coroutine a = Coroutine.create("rethrows", () -> {
                try {
                    Coroutine.yield();
                } finally {
                    throw signal;
                }
            });
            Coroutine.yield();
            assertThatThrownBy(a::close).isInstanceOf(CoroutineException.class)
                    .hasMessageStartingWith("coroutine 'rethrows' failed while being closed: dev.coro.CoroutineExit:"
                            + " coroutine 'closed' is being closed")
                    .cause().isSameAs(signal);
            assertThat(a.state()).isEqualTo(State.FAILED);
            assertThat(Coroutine.currentId()).isZero();
        }

        @Test
        void aCoroutineCanCloseAnotherAndIsResumedWhenItHasUnwound() {
            Coroutine victim = Coroutine.create("victim", () -> {
                try {
                    Coroutine.yield();
                } finally {
                    mark("victim-finally");
                }
            });
            Coroutine closer = Coroutine.create("closer", () -> {
                mark("closer");
                victim.close();
                mark("closer-after");
            });
            victim.switchTo(); // victim yields -> index 0 (main)
            closer.switchTo();
            // the victim unwinds at its own index; then it is removed and closer takes slot 1
            assertThat(trace).containsExactly("closer@2", "victim-finally@1", "closer-after@1");
        }

        @Test
        void anUnwindingCoroutineMayCloseOthers() {
            Coroutine child = Coroutine.create("child", () -> {
                try {
                    Coroutine.yield();
                } finally {
                    mark("child-finally");
                }
            });
            Coroutine owner = Coroutine.create("owner", () -> {
                try {
                    Coroutine.yield();
                } finally {
                    child.close();
                    mark("owner-finally");
                }
            });
            Coroutine.yield(); // owner yields to child, child yields to main
            owner.close();
            assertThat(child.state()).isEqualTo(State.CLOSED);
            assertThat(owner.state()).isEqualTo(State.CLOSED);
            assertThat(trace).containsExactly("child-finally@1", "owner-finally@1");
        }
    }

    @Nested
    @ExtendWith(FreshThread.class)
    class ThreadConfinement {

        @Test
        void everyCallFromAnotherThreadThrowsNamingBothThreads() throws Exception {
            Coroutine a = Coroutine.create("mine", () -> { });
            String owner = Thread.currentThread().getName();
            for (String op : List.of("switchTo", "close", "ask isFinished() of", "read the state of")) {
                Runnable call = switch (op) {
                    case "switchTo" -> a::switchTo;
                    case "close" -> a::close;
                    case "ask isFinished() of" -> a::isFinished;
                    default -> a::state;
                };
                assertThat(OtherThread.thrownOn("intruder", call)).as(op).isInstanceOf(IllegalStateException.class)
                        .hasMessageStartingWith("thread 'intruder' (#")
                        .hasMessageContaining(") cannot " + op + " coroutine 'mine' (NEW): it belongs to thread '" + owner + "' (#");
            }
            assertThat(a.state()).isEqualTo(State.NEW);
        }

        @Test
        void nameAndToStringWorkFromAnyThread() throws Exception {
            Coroutine a = Coroutine.create("visible", () -> { });
            AtomicReference<String> seen = new AtomicReference<>();
            Thread t = new Thread(() -> seen.set(a.name() + " " + a));
            t.start();
            t.join();
            assertThat(seen.get()).isEqualTo("visible Coroutine[visible, NEW]");
        }
    }

    @Nested
    @ExtendWith(FreshThread.class)
    class States {

        @Test
        void aCoroutineMovesThroughItsStatesAsDocumented() {
            List<State> seen = new ArrayList<>();
            Coroutine main = Coroutine.current();
            Coroutine[] self = new Coroutine[1];
            self[0] = Coroutine.create(() -> {
                seen.add(self[0].state());
                seen.add(main.state());
                Coroutine.yield();
                seen.add(self[0].state());
            });
            seen.add(self[0].state());
            self[0].switchTo();
            seen.add(self[0].state());
            self[0].switchTo();
            seen.add(self[0].state());
            assertThat(seen).containsExactly(State.NEW, State.RUNNING, State.SUSPENDED, State.SUSPENDED,
                    State.RUNNING, State.FINISHED);
        }

        @Test
        void toStringShowsNameAndState() {
            Coroutine a = Coroutine.create("ping", () -> Coroutine.yield());
            assertThat(a).hasToString("Coroutine[ping, NEW]");
            a.switchTo();
            assertThat(a).hasToString("Coroutine[ping, SUSPENDED]");
            assertThat(Coroutine.current()).hasToString("Coroutine[main, RUNNING]");
        }

        @Test
        void theTransitionTableAllowsExactlyTheDocumentedEdges() {
            List<String> edges = new ArrayList<>();
            for (State from : State.values()) {
                for (State to : State.values()) {
                    if (from.canMoveTo(to)) {
                        edges.add(from + "->" + to);
                    }
                }
            }
            assertThat(edges).containsExactly("NEW->RUNNING", "NEW->CLOSED", "RUNNING->SUSPENDED",
                    "RUNNING->PARKED", "RUNNING->FINISHED", "RUNNING->FAILED", "RUNNING->CLOSED",
                    "SUSPENDED->RUNNING", "PARKED->RUNNING", "PARKED->SUSPENDED");
        }

        @Test
        void isFinishedIsTrueInEachEndedStateAndFalseInTheOthers() {
            Coroutine main = Coroutine.current();
            Coroutine returned = Coroutine.create("returned", () -> { });
            returned.switchTo();
            Coroutine failed = Coroutine.create("failed", () -> {
                throw new IllegalArgumentException("boom");
            });
            assertThatThrownBy(failed::switchTo).isInstanceOf(CoroutineException.class);
            Coroutine closed = Coroutine.create("closed", main::switchTo);
            closed.switchTo();
            closed.close();
            Channel<Integer> never = new Channel<>("never", 0);
            Coroutine parked = Coroutine.create("parked", never::receive);
            parked.switchTo(); // parks: main, the entry before it, runs
            Coroutine suspended = Coroutine.create("suspended", main::switchTo);
            suspended.switchTo();
            Coroutine fresh = Coroutine.create("fresh", () -> { });
            List<String> seen = new ArrayList<>();
            for (Coroutine c : List.of(returned, failed, closed, parked, suspended, fresh, main)) {
                seen.add(c.name() + " " + c.state() + " " + c.isFinished());
            }
            assertThat(seen).containsExactly("returned FINISHED true", "failed FAILED true", "closed CLOSED true",
                    "parked PARKED false", "suspended SUSPENDED false", "fresh NEW false", "main RUNNING false");
            parked.close();
            suspended.close();
            fresh.close();
        }

        @Test
        void onlyEndedStatesAreTerminal() {
            List<State> terminal = new ArrayList<>();
            for (State s : State.values()) {
                if (s.isTerminal()) {
                    terminal.add(s);
                }
            }
            assertThat(terminal).containsExactly(State.FINISHED, State.FAILED, State.CLOSED);
        }
    }

    @Test
    void engineNamesTheExportsFlagForTheClassPath() {
        assertThat(Engines.exportsFlag()).isEqualTo("--add-exports java.base/jdk.internal.vm=ALL-UNNAMED");
        boolean flagGiven = java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()
                .contains("--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED");
        assertThat(Engines.continuationsExported()).as("exported exactly when this JVM got the flag (CI also runs without it)")
                .isEqualTo(flagGiven);
    }
}
