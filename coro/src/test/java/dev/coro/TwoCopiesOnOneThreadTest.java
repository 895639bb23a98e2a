package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two copies of the library, each loaded by a class loader of its own (two applications of one server),
 * run coroutines on one thread: one after the other, and nested, a coroutine of one copy making and
 * running coroutines of the other; each copy keeps its own scheduler and order. A switch of one copy that
 * the other copy made impossible (it suspended the first copy's running coroutine along with its own) is
 * refused in plain words (a yield, a switch, a park alike), and both copies run on afterwards. A close
 * of one copy's coroutine that unwinds the other copy's nested in it is reported as that one's failure;
 * a generator whose body the other copy suspended refuses other callers saying so.
 */
@ExtendWith(FreshThread.class)
@Timeout(60)
class TwoCopiesOnOneThreadTest {

    private static boolean threadEngine() {
        return Engines.running().equals("threads");
    }

    @Test
    void coroutinesOfTwoCopiesRunOneAfterTheOtherOnOneThreadEachCopyInItsOwnOrder() {
        LibraryCopy a = LibraryCopy.load("app-a");
        LibraryCopy b = LibraryCopy.load("app-b");
        List<String> log = new ArrayList<>();
        Object a1 = a.create("a1", () -> { // main's join runs a2 first, as one library alone does
            log.add("a1 starts");
            a.yield();
            log.add("a1 ends");
        });
        Object a2 = a.create("a2", () -> log.add("a2 runs"));
        Object b1 = b.create("b1", () -> {
            log.add("b1 starts");
            b.yield();
            log.add("b1 ends");
        });
        LibraryCopy.on(a1, "join");
        assertThat(LibraryCopy.on(b1, "state")).as("copy a ran none of copy b's coroutines").hasToString("NEW");
        LibraryCopy.on(b1, "join");
        assertThat(log).containsExactly("a2 runs", "a1 starts", "a1 ends", "b1 starts", "b1 ends");
        assertThat(LibraryCopy.on(a2, "isFinished")).isEqualTo(true);
    }

    @Test
    void aCoroutineOfOneCopyMakesRunsAndJoinsCoroutinesOfTheOtherInItsBody() {
        LibraryCopy a = LibraryCopy.load("app-a");
        LibraryCopy b = LibraryCopy.load("app-b");
        List<String> log = new ArrayList<>();
        Object a1 = a.create("a1", () -> {
            Object b1 = b.create("b1", () -> {
                log.add("b1 starts");
                b.yield();
                log.add("b1 ends");
            });
            b.yield(); // copy b's main here is a1's body: b1 runs to its yield
            log.add("a1 after b's yield");
            LibraryCopy.on(b1, "join");
            log.add("a1 joined b1");
        });
        Object a2 = a.create("a2", () -> log.add("a2 runs"));
        LibraryCopy.on(a1, "join");
        assertThat(log).containsExactly("a2 runs", "b1 starts", "a1 after b's yield", "b1 ends", "a1 joined b1");
        assertThat(LibraryCopy.on(a2, "isFinished")).isEqualTo(true);
    }

    /**
     * On the continuation engine a coroutine of copy b runs on the stack of whatever ran it, here a
     * coroutine of copy a; a yield of copy a there suspends both. Copy b still holds its coroutine
     * running, and a switch of copy b from the next coroutine of copy a cannot suspend it (the thread is
     * not on its stack): the JDK's bare {@code Not in scope dev.coro} came out of the switch, and is now
     * a refusal that names the coroutine, the call and why. Nothing moved: once copy a resumes the first
     * coroutine, copy b's coroutine goes on and ends. On the thread engine every coroutine runs on a
     * virtual thread of its own, which is a thread of its own to the other copy: that switch finds a
     * scheduler of copy b with nothing else to run there, and returns.
     */
    @Test
    void aSwitchOfACopyWhoseRunningCoroutineTheOtherCopySuspendedIsRefusedNamingItAndNothingMoves() {
        LibraryCopy a = LibraryCopy.load("app-a");
        LibraryCopy b = LibraryCopy.load("app-b");
        List<String> log = new ArrayList<>();
        Object a1 = a.create("a1", () -> {
            Object b1 = b.create("b1", () -> {
                log.add("b1 starts");
                a.yield(); // suspends a1, and b1 with it on the continuation engine
                log.add("b1 after a's yield");
                b.yield();
                log.add("b1 ends");
            });
            b.yield();
            log.add("a1 after b's yield");
            LibraryCopy.on(b1, "join");
            log.add("a1 joined b1");
        });
        Object a2 = a.create("a2", () -> {
            a.yield(); // a1 runs first, to b1's yield of copy a
            try {
                b.yield();
                log.add("a2's yield of copy b returned");
            } catch (IllegalStateException e) {
                log.add("a2's yield of copy b refused: " + e.getMessage());
            }
            Object b2 = b.create("b2", () -> log.add("b2 runs"));
            try {
                LibraryCopy.on(b2, "switchTo");
                log.add("a2's switch to b2 returned");
            } catch (IllegalStateException e) {
                log.add("a2's switch to b2 refused: " + e.getMessage());
            }
            Object jobs = b.make("Channel", "jobs", 0);
            b.create("sender", () -> LibraryCopy.on(jobs, "send", 1));
            try {
                log.add("a2 received " + LibraryCopy.on(jobs, "receive")); // a park until the sender runs
            } catch (IllegalStateException e) {
                log.add("a2's receive of copy b refused: " + e.getMessage());
            }
        });
        LibraryCopy.on(a1, "join");
        LibraryCopy.on(a2, "join");
        String why = ": the thread is not on its stack: another copy of coro (loaded by another class loader) suspended it,"
                + " with the coroutine of that copy it runs in, and runs other code now; this copy's contexts of the"
                + " thread can switch again once that coroutine runs again (the JDK says: Not in scope dev.coro);"
                + " it keeps running (state RUNNING)";
        if (threadEngine()) {
            assertThat(log).containsExactly("b1 starts", "b1 after a's yield", "a1 after b's yield", "b1 ends", "a1 joined b1",
                    "a2's yield of copy b returned", "b2 runs", "a2's switch to b2 returned", "a2 received 1");
        } else {
            assertThat(log).containsExactly("b1 starts",
                    "a2's yield of copy b refused: cannot suspend coroutine 'b1' at its yield to run main context 'main'" + why,
                    "a2's switch to b2 refused: cannot suspend coroutine 'b1' at its switchTo to run coroutine 'b2'" + why,
                    "a2's receive of copy b refused: cannot suspend coroutine 'b1' at its receive from channel 'jobs' to run main context 'main'" + why,
                    "b1 after a's yield", "a1 after b's yield", "b2 runs", "b1 ends", "a1 joined b1");
        }
    }

    /**
     * Closing a coroutine of copy a while a coroutine of copy b runs nested in it, suspended with it by
     * copy a's yield (the continuation engine): copy a's unwinding signal is thrown in copy b's
     * coroutine, to which it is no signal of its own but a failure; that coroutine fails with it, copy b
     * throws that failure into its main, the closed coroutine's body, which fails with it, and the close
     * reports the failure instead of ending the coroutine {@code CLOSED}. So close the other copy's
     * coroutines first. On the thread engine the two coroutines are on threads of their own and the
     * close unwinds the coroutine of copy a alone.
     */
    @Test
    void aCloseOfACoroutineWithACoroutineOfTheOtherCopySuspendedInsideItReportsThatCoroutinesFailureOnTheContinuationEngine() {
        LibraryCopy a = LibraryCopy.load("app-a");
        LibraryCopy b = LibraryCopy.load("app-b");
        List<String> log = new ArrayList<>();
        Object a1 = a.create("a1", () -> {
            b.create("b1", () -> {
                try {
                    a.yield();
                } finally {
                    log.add("b1 unwinds");
                }
            });
            try {
                b.yield();
                a.yield();
            } finally {
                log.add("a1 unwinds");
            }
        });
        a.yield(); // a1 runs to b1's yield of copy a (on the thread engine, to its own)
        if (threadEngine()) {
            LibraryCopy.on(a1, "close");
            assertThat(LibraryCopy.on(a1, "state")).hasToString("CLOSED");
            assertThat(log).containsExactly("b1 unwinds", "a1 unwinds");
            return;
        }
        String exit = "dev.coro.CoroutineExit: coroutine 'a1' is being closed: its yield throws this signal so"
                + " that it unwinds (state RUNNING, closing)";
        assertThatThrownBy(() -> LibraryCopy.on(a1, "close"))
                .hasMessage("coroutine 'a1' failed while being closed: dev.coro.CoroutineException: coroutine 'b1' failed: " + exit);
        assertThat(LibraryCopy.on(a1, "state")).hasToString("FAILED");
        assertThat(log).containsExactly("b1 unwinds", "a1 unwinds");
    }

    /**
     * A generator of copy b consumed by a coroutine of copy a, whose body copy a's yield suspends along
     * with that coroutine (the continuation engine): another coroutine of copy a that asks it for a value
     * is refused, in words that say so, where it was told the call came from inside the body itself. On
     * the thread engine the generator belongs to the thread of the coroutine that made it, and a call
     * from another coroutine's thread is refused as any call from another thread.
     */
    @Test
    void aGeneratorWhoseBodyTheOtherCopySuspendedRefusesAnotherCoroutineSayingSo() {
        LibraryCopy a = LibraryCopy.load("app-a");
        LibraryCopy b = LibraryCopy.load("app-b");
        List<String> log = new ArrayList<>();
        Object[] numbers = new Object[1];
        long[] threads = new long[2];
        Object a1 = a.create("a1", () -> {
            threads[0] = Thread.currentThread().threadId();
            numbers[0] = b.generator("numbers", emit -> {
                emit.accept(1);
                a.yield(); // suspends a1, and the body with it on the continuation engine
                emit.accept(2);
            });
            log.add("a1 takes " + LibraryCopy.on(numbers[0], "next"));
            log.add("a1 takes " + LibraryCopy.on(numbers[0], "next"));
            a.yield(); // on the thread engine a2 runs here, while a1's thread lives
        });
        Object a2 = a.create("a2", () -> {
            a.yield(); // a1 runs first, into the body's yield of copy a
            threads[1] = Thread.currentThread().threadId();
            try {
                log.add("a2 takes " + LibraryCopy.on(numbers[0], "next"));
            } catch (IllegalStateException e) {
                log.add("a2 refused: " + e.getMessage());
            }
        });
        LibraryCopy.on(a1, "join");
        LibraryCopy.on(a2, "join");
        if (threadEngine()) {
            assertThat(log).containsExactly("a1 takes 1", "a1 takes 2", "a2 refused: thread 'coro a2' (#" + threads[1]
                    + ", virtual) cannot take the next value of generator 'numbers' (SUSPENDED): it belongs to thread 'coro a1' (#"
                    + threads[0] + ", virtual)");
        } else {
            assertThat(log).containsExactly("a1 takes 1",
                    "a2 refused: main context 'main' cannot take the next value of generator 'numbers' (RUNNING): the thread is"
                            + " not on its body's stack: another copy of coro (loaded by another class loader) suspended the body,"
                            + " with the coroutine of that copy it runs in, and runs other code now; the body goes on once that"
                            + " coroutine runs again",
                    "a1 takes 2");
        }
    }
}
