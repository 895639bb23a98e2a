package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Coroutine.State;
import dev.coro.net.TcpConnection;
import dev.coro.net.TcpListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A stack overflow that strikes inside a switch (a coroutine recursed to within a few frames of its
 * stack's end, then yields) reaches the right place as a failure, and the scheduler stays consistent
 * and usable: at every depth near the limit, on every engine.
 */
@ExtendWith(FreshThread.class)
@Tag("stack-edge") // CI's C1-only pass leaves it out: see .ci/run
class StackExhaustionTest {

    private static int depthReached;

    private static void recurseThenYield(int n, int target) {
        depthReached = n;
        if (n < target) {
            recurseThenYield(n + 1, target);
        } else {
            Coroutine.yield();
        }
    }

    /**
     * How deep a coroutine body got through {@code recursion}, a recursion without end that notes its depth in
     * {@link #depthReached}, when its stack overflowed (the JIT makes it deeper as it compiles). Checks that the
     * probe finished and got deeper than 500.
     */
    private static int probedLimit(Runnable recursion) {
        int[] limit = {0};
        Coroutine probe = Coroutine.create("probe", () -> {
            try {
                recursion.run();
            } catch (StackOverflowError e) {
                limit[0] = depthReached;
            }
        });
        probe.switchTo();
        assertThat(probe.state()).isEqualTo(State.FINISHED);
        assertThat(limit[0]).isGreaterThan(500);
        return limit[0];
    }

    /** How deep a coroutine body can recurse through {@link #recurseThenYield} before its stack overflows. */
    private static int measuredLimit() {
        return probedLimit(() -> recurseThenYield(0, Integer.MAX_VALUE));
    }

    /** Checks that main is the only context left on this thread. */
    private static void assertOnlyMainIsLeft() {
        assertThat(Coroutine.dump()).startsWith("thread '").contains(": 1 context, current index 0");
    }

    /**
     * A pattern of the start of the message of a call from {@code context} refused because the stack of
     * generator {@code generator} was ended by an error as the JDK entered it (its state then, in
     * parentheses, {@code NEW} or {@code SUSPENDED} as the case left it).
     */
    private static String unableToRunAgain(String generator, String context) {
        return Pattern.quote(context + " cannot run the body of generator '" + generator + "' (") + "(NEW|SUSPENDED)"
                + Pattern.quote("): an error (such as a stack overflow of its consumer's stack) struck as the JDK entered"
                + " its stack, and left it unable to run again");
    }

    /**
     * Checks that {@code e}, what a call of coroutine 'consumer' on {@code g} (named {@code name}) threw at
     * {@code at}, says the JDK could not enter the generator's stack and left it unable to run again, and that
     * {@code g} is FAILED.
     */
    private static void assertEndedOnEntry(IllegalStateException e, String at, Generator<Integer> g, String name) {
        assertThat(e).as(at).hasMessageMatching(unableToRunAgain(name, "coroutine 'consumer'") + ".*")
                .hasMessageEndingWith("; it is FAILED");
        assertThat(g.state()).as(at).isEqualTo(Generator.State.FAILED);
    }

    /**
     * Runs, in a new coroutine 'consumer', {@code g.next()} at {@code depth} frames of {@link #recurseThenNext},
     * and checks that the consumer finished.
     *
     * @return the value it took, or the stack overflow, {@link CoroutineException}, {@link NoSuchElementException}
     *     or {@link IllegalStateException} that the call threw
     */
    private static Object nextAt(int depth, Generator<Integer> g) {
        Object[] outcome = {null};
        Coroutine consumer = Coroutine.create("consumer", () -> {
            try {
                outcome[0] = recurseThenNext(0, depth, g);
            } catch (StackOverflowError | NoSuchElementException | CoroutineException | IllegalStateException e) {
                outcome[0] = e;
            }
        });
        consumer.switchTo();
        assertThat(consumer.state()).isEqualTo(State.FINISHED);
        return outcome[0];
    }

    @Test
    void aStackOverflowInsideAYieldNearTheStacksEndLeavesTheSchedulerConsistentAtEveryDepth() {
        List<String> outcomes = new ArrayList<>();
        int limit = measuredLimit();
        assertThat(limit).isGreaterThan(500);
        // from three quarters of the limit to a quarter past it, about 1,200 depths
        int from = limit * 3 / 4;
        int to = limit * 5 / 4;
        int step = Math.max(1, (to - from) / 1200);
        for (int depth = from; depth <= to; depth += step) {
            int target = depth;
            Coroutine victim = Coroutine.create("victim", () -> recurseThenYield(0, target));
            Throwable failure = null;
            try {
                victim.switchTo();
            } catch (CoroutineException e) {
                failure = e.getCause();
            }
            assertThat(Coroutine.current().isMain()).isTrue();
            assertThat(Coroutine.currentId()).isZero();
            if (failure != null) {
                assertThat(failure).as("depth " + depth).isInstanceOf(StackOverflowError.class);
                assertThat(victim.state()).isEqualTo(State.FAILED);
                outcomes.add("failed");
            } else {
                assertThat(victim.state()).as("depth " + depth).isEqualTo(State.SUSPENDED);
                try {
                    victim.close();
                    assertThat(victim.state()).isEqualTo(State.CLOSED);
                } catch (CoroutineException e) {
                    // resuming so deep overflowed in the victim itself: its own failure, while being closed
                    assertThat(e).hasMessage("coroutine 'victim' failed while being closed: " + e.getCause())
                            .cause().isInstanceOf(StackOverflowError.class);
                    assertThat(victim.state()).isEqualTo(State.FAILED);
                }
                outcomes.add("suspended");
            }
            // the scheduler is usable: a fresh coroutine runs and main is the only context left
            Coroutine after = Coroutine.create("after", Coroutine::yield);
            Coroutine.yield();
            Coroutine.yield();
            assertThat(after.state()).isEqualTo(State.FINISHED);
            assertOnlyMainIsLeft();
        }
        // which depths overflow depends on how the frames were compiled; every depth had to leave the
        // scheduler consistent above, whichever it was
        assertThat(outcomes).hasSize((to - from) / step + 1);
    }

    /** Recurses to {@code target} frames, then runs {@code op}. */
    private static void recurseThenRun(int n, int target, Runnable op) {
        depthReached = n;
        if (n < target) {
            recurseThenRun(n + 1, target, op);
        } else {
            op.run();
        }
    }

    /**
     * Runs {@code action} below {@code frames} frames of eight live longs each (some kilobytes). A coroutine that
     * {@code action} runs for the first time has its stack placed that much lower than when it is resumed from
     * above the padding later: the JDK resumes a suspended continuation only if the thread's stack has room for
     * all its frames and then some, which one suspended at its stack's very end would not have at the same place.
     */
    private static long belowPadding(int frames, Runnable action, long a, long b, long c, long d, long e, long f,
                                     long g, long h) {
        if (frames == 0) {
            action.run();
            return a;
        }
        long r = belowPadding(frames - 1, action, b, c, d, e, f, g, h, a);
        return r + a + b + c + d + e + f + g + h;
    }

    /** Runs {@code action} below the padding of {@link #belowPadding}. */
    private static void belowPadding(Runnable action) {
        belowPadding(64, action, 1, 2, 3, 4, 5, 6, 7, 8);
    }

    /** How deep a coroutine started below the padding can recurse through {@link #recurseThenRun} now. */
    private static int limitBelowPadding() {
        int[] limit = {0};
        Coroutine probe = Coroutine.create("probe", () -> {
            try {
                recurseThenRun(0, Integer.MAX_VALUE, null);
            } catch (StackOverflowError e) {
                limit[0] = depthReached;
            }
        });
        belowPadding(probe::switchTo);
        assertThat(probe.state()).isEqualTo(State.FINISHED);
        assertThat(limit[0]).isGreaterThan(500);
        return limit[0];
    }

    /**
     * A wait that nothing but a test completes, by waking its context: no queue to leave, no timer to cancel when
     * the park fails, so that a park on it tests the scheduler's park alone (a channel's wait or a sleep has a queue
     * or a timer of its own to leave then).
     */
    private static final class WakeByHand implements Wait {
        @Override
        public boolean interrupt() {
            return true;
        }

        @Override
        public String reason() {
            return "test";
        }

        @Override
        public String toString() {
            return "be woken by the test";
        }
    }

    /** A switch away from the running coroutine, made at its stack's end in {@link #switchAwayAt}. */
    private enum SwitchAway {
        YIELD("a yield to another coroutine", false),
        SWITCH_TO_A_COROUTINE("a switchTo of another coroutine", false),
        SWITCH_TO_MAIN("a switchTo of main", false),
        PARK("a park", false),
        PARK_WITH_A_TIMER_PENDING("a park while a timer is pending (it parks first, then runs the due timers)", true);

        final String what;
        /** Whether a coroutine 'sleeper' sleeps meanwhile, so that a timer is pending. */
        final boolean timerPending;

        SwitchAway(String what, boolean timerPending) {
            this.what = what;
            this.timerPending = timerPending;
        }

        /** Makes the switch from the running coroutine: 'other' is suspended, main suspended too. */
        void make(Coroutine other, Coroutine main) {
            switch (this) {
                case YIELD -> Coroutine.yield();
                case SWITCH_TO_A_COROUTINE -> other.switchTo();
                case SWITCH_TO_MAIN -> main.switchTo();
                case PARK, PARK_WITH_A_TIMER_PENDING -> Scheduler.current().park(new WakeByHand());
            }
        }
    }

    /**
     * Runs one scene of {@link #aSwitchThatOverflowsNearTheStacksEndPutsEveryStateBackAtEveryDepth}: a coroutine
     * 'victim' makes {@code how} at {@code depth} frames of {@link #recurseThenRun} while 'other' (yielding until
     * told to stop) and main are suspended, 'late' (created after the victim) is parked, and 'sleeper' sleeps if a
     * timer is to be pending. The victim starts below the padding: 'late' parks there, which runs it. If a stack
     * overflow struck the switch, the victim, catching it at its body's base, must find itself running and current
     * and everyone else as they were; then it yields (unless it found them otherwise: then it ends at once, and
     * its end fails on the states). Main wakes it if it parked, and yields until it is back from that yield,
     * 'other' still yielding so that the run list stays as it is: each of main's yields starts its search at
     * 'late', which is parked, so only the list's index of runnable entries can lead it to the victim. Then
     * everyone must end.
     *
     * @param fail takes what went wrong
     * @return {@code switched} or {@code overflowed}; {@code broken} if something escaped to main, after which the
     *     scheduler is not to be trusted
     */
    private static String switchAwayAt(int depth, SwitchAway how, Consumer<String> fail) {
        Coroutine main = Coroutine.current();
        boolean[] stop = {false};
        Coroutine other = Coroutine.create("other", () -> {
            while (!stop[0]) {
                Coroutine.yield();
            }
        });
        other.switchTo();
        Coroutine sleeper = how.timerPending ? Coroutine.create("sleeper", () -> Coroutine.sleep(Duration.ofHours(1)))
                : null;
        if (sleeper != null) {
            sleeper.switchTo();
        }
        String expected = "current 'victim'; victim RUNNING, other SUSPENDED, main SUSPENDED, late PARKED"
                + (how.timerPending ? ", sleeper PARKED" : "");
        String[] seen = {"nothing"};
        boolean[] resumedAtBase = {false};
        Coroutine[] late = {null};
        Coroutine[] self = {null};
        Coroutine victim = Coroutine.create("victim", () -> {
            try {
                recurseThenRun(0, depth, () -> how.make(other, main));
                seen[0] = "switched";
            } catch (StackOverflowError e) {
                // at the body's base: the stack is there again for the calls below
                seen[0] = "current '" + Coroutine.current().name() + "'; victim " + self[0].state() + ", other "
                        + other.state() + ", main " + main.state() + ", late " + late[0].state()
                        + (sleeper != null ? ", sleeper " + sleeper.state() : "");
            }
            if (seen[0].equals("switched") || seen[0].equals(expected)) { // no switch on a broken scheduler
                Coroutine.yield();
                resumedAtBase[0] = true;
            }
        });
        self[0] = victim;
        late[0] = Coroutine.create("late", () -> Scheduler.current().park(new WakeByHand()));
        String at = how.what + " at depth " + depth;
        try {
            belowPadding(late[0]::switchTo);
        } catch (Throwable t) {
            // the scheduler is not to be trusted after this: the scene ends here
            fail.accept(at + ": " + t + " escaped to main, after the victim found " + seen[0]);
            return "broken";
        }
        for (int i = 0; i < 10 && !resumedAtBase[0] && !victim.state().isTerminal(); i++) {
            if (victim.state() == State.PARKED) {
                Scheduler.current().unpark(victim.context);
            }
            Coroutine.yield();
        }
        boolean backFromItsYield = resumedAtBase[0];
        stop[0] = true;
        for (int i = 0; i < 10 && !(victim.state().isTerminal() && other.state().isTerminal()); i++) {
            Coroutine.yield();
        }
        if (!seen[0].equals("switched") && !seen[0].equals(expected)) {
            fail.accept(at + ": after the overflow, the victim found " + seen[0] + ", not " + expected);
        }
        if (!(backFromItsYield && victim.state() == State.FINISHED && other.state() == State.FINISHED)) {
            fail.accept(at + ", the victim found " + seen[0] + ": then "
                    + (backFromItsYield ? "" : "ten yields of main did not bring it back from its yield, ")
                    + "the victim is " + victim.state() + " and other " + other.state() + "\n" + Coroutine.dump());
        }
        late[0].close();
        if (sleeper != null) {
            sleeper.close();
        }
        return seen[0].equals("switched") ? "switched" : "overflowed";
    }

    @Test
    void aSwitchThatOverflowsNearTheStacksEndPutsEveryStateBackAtEveryDepth() {
        // the JIT makes the frames smaller as it compiles, so the limit is measured again at each depth; each
        // switch is made once first with stack to spare, so that no class is first loaded at the stack's end
        List<String> failures = new ArrayList<>();
        Consumer<String> fail = failures::add;
        for (SwitchAway how : SwitchAway.values()) {
            assertThat(switchAwayAt(10, how, fail)).isEqualTo("switched");
        }
        assertThat(failures).isEmpty();
        for (SwitchAway how : SwitchAway.values()) {
            List<String> outcomes = new ArrayList<>();
            for (int k = 300; k >= -20; k--) {
                outcomes.add(switchAwayAt(limitBelowPadding() - k, how, fail));
                if (!failures.isEmpty()) {
                    break; // the first is the one to read: the scheduler is not to be trusted after it
                }
                assertOnlyMainIsLeft();
            }
            assertThat(failures).as(how.what).isEmpty();
            // the depths reached the stack's end: the last ones are past the limit
            assertThat(outcomes).as(how.what).hasSize(321).contains("overflowed");
        }
    }

    /** A channel operation that parks, made by a coroutine at its stack's end in {@link #waitOnAChannelAt}. */
    private enum ChannelWait {
        RECEIVE("a receive", false),
        SEND("a send", true),
        TIMED_RECEIVE("a receive with a timeout (a timer to cancel too)", false),
        TIMED_SEND("a send with a timeout (a timer to cancel too)", true),
        SELECT_RECEIVE("a select's receive", false),
        SELECT_SEND_WITH_A_TIMEOUT("a select's send, with a timeout clause (a timer to cancel too)", true);

        final String what;
        /** Whether it sends: main then receives to complete it, else main sends. */
        final boolean sends;

        ChannelWait(String what, boolean sends) {
            this.what = what;
            this.sends = sends;
        }

        /** Makes the operation on {@code ch}, on which nothing waits: it parks. */
        void make(Channel<Integer> ch) {
            switch (this) {
                case RECEIVE -> ch.receive();
                case SEND -> ch.send(1);
                case TIMED_RECEIVE -> ch.tryReceive(Duration.ofHours(1));
                case TIMED_SEND -> ch.trySend(1, Duration.ofHours(1));
                case SELECT_RECEIVE -> new Select<Integer>().onReceive(ch, v -> v).select();
                case SELECT_SEND_WITH_A_TIMEOUT -> new Select<Integer>().onSend(ch, 1, () -> 1)
                        .onTimeout(Duration.ofHours(1), () -> 0).select();
            }
        }
    }

    /**
     * What main finds on {@code ch}, a rendezvous on which no coroutine should wait any more: the values a
     * {@code trySend} and a {@code tryReceive} could exchange with a waiter (none is expected), or what they threw.
     */
    private static String leftWaiting(Channel<Integer> ch, ChannelWait how) {
        try {
            return how.sends ? "a sender's value " + ch.tryReceive() : "a receiver that took a value: " + ch.trySend(7);
        } catch (Throwable t) {
            return t.toString();
        }
    }

    /**
     * Runs one scene of {@link #aChannelWaitWhoseParkOverflowsNearTheStacksEndLeavesNoWaiterBehindAtEveryDepth}:
     * a coroutine 'victim', started below the padding, makes {@code how} on a rendezvous channel at {@code depth}
     * frames of {@link #recurseThenRun}. If the park completes, main completes the wait. If a stack overflow
     * struck instead, the victim catches it at its body's base and, if {@code yieldAtBase}, yields there: main
     * must then find nothing waiting on the channel while the victim is suspended at that yield, and again once
     * it has ended; if not, main must find nothing waiting once it has ended.
     *
     * @return {@code completed} or {@code overflowed}
     */
    private static String waitOnAChannelAt(int depth, ChannelWait how, boolean yieldAtBase, Consumer<String> fail) {
        Channel<Integer> ch = new Channel<>("ch", 0);
        String[] seen = {"nothing"};
        Coroutine victim = Coroutine.create("victim", () -> {
            try {
                recurseThenRun(0, depth, () -> how.make(ch));
                seen[0] = "completed";
            } catch (StackOverflowError e) {
                seen[0] = "overflowed";
                if (yieldAtBase) {
                    Coroutine.yield();
                }
            }
        });
        String at = how.what + " at depth " + depth + (yieldAtBase ? ", then a yield at the base" : "");
        try {
            belowPadding(victim::switchTo);
        } catch (Throwable t) {
            fail.accept(at + ": " + t + " escaped to main");
            return "broken";
        }
        if (victim.state() == State.PARKED) {
            // the park completed: main completes the wait, and the victim returns from it
            if (how.sends) {
                ch.tryReceive();
            } else {
                ch.trySend(2);
            }
        } else if (seen[0].equals("overflowed") && yieldAtBase) {
            String found = leftWaiting(ch, how);
            if (!found.equals(how.sends ? "a sender's value Optional.empty" : "a receiver that took a value: false")) {
                fail.accept(at + ": while the victim is suspended at its base, main finds " + found);
            }
        }
        for (int i = 0; i < 10 && !victim.state().isTerminal(); i++) {
            Coroutine.yield();
        }
        if (victim.state() != State.FINISHED) {
            fail.accept(at + ": the victim found " + seen[0] + " and is then " + victim.state() + "\n"
                    + Coroutine.dump());
            return "broken";
        }
        String found = leftWaiting(ch, how);
        if (!found.equals(how.sends ? "a sender's value Optional.empty" : "a receiver that took a value: false")) {
            fail.accept(at + ": once the victim has ended (it found " + seen[0] + "), main finds " + found);
        }
        if (Scheduler.current().loop.hasPending()) {
            fail.accept(at + ": once the victim has ended (it found " + seen[0] + "), a timer is still pending");
        }
        return seen[0];
    }

    @Test
    void aChannelWaitWhoseParkOverflowsNearTheStacksEndLeavesNoWaiterBehindAtEveryDepth() {
        // as for the switch above: the limit measured again at each depth, each operation made once with room
        List<String> failures = new ArrayList<>();
        Consumer<String> fail = failures::add;
        for (ChannelWait how : ChannelWait.values()) {
            assertThat(waitOnAChannelAt(10, how, false, fail)).isEqualTo("completed");
        }
        assertThat(failures).isEmpty();
        for (boolean yieldAtBase : new boolean[] {false, true}) {
            for (ChannelWait how : ChannelWait.values()) {
                List<String> outcomes = new ArrayList<>();
                for (int k = 300; k >= -20; k--) {
                    outcomes.add(waitOnAChannelAt(limitBelowPadding() - k, how, yieldAtBase, fail));
                    if (!failures.isEmpty()) {
                        break; // the first is the one to read
                    }
                    assertOnlyMainIsLeft();
                }
                assertThat(failures).as(how.what).isEmpty();
                assertThat(outcomes).as(how.what).hasSize(321).contains("overflowed");
            }
        }
    }

    /**
     * Takes {@code lock} at {@code depth} frames of {@link #recurseThenRun} in a coroutine started below the
     * padding, then runs a body that overflows the stack, giving the lock back in a {@code finally} as every
     * user of it does.
     *
     * @return {@code taken} if the lock was taken (and the body overflowed), {@code overflowed} if taking it did
     */
    private static String holdASpinLockAt(int depth, SpinLock lock, Consumer<String> fail) {
        String[] seen = {"nothing"};
        Coroutine victim = Coroutine.create("victim", () -> {
            try {
                recurseThenRun(0, depth, () -> {
                    lock.lock();
                    try {
                        seen[0] = "taken";
                        recurseForever(0);
                    } finally {
                        lock.unlock();
                    }
                });
            } catch (StackOverflowError e) {
                if (seen[0].equals("nothing")) {
                    seen[0] = "overflowed";
                }
            }
        });
        belowPadding(victim::switchTo);
        if (lock.holder() != null) {
            fail.accept("a lock taken at depth " + depth + " (the victim found " + seen[0] + ") is held by "
                    + lock.holder() + " once the victim has ended");
        }
        return seen[0];
    }

    @Test
    void aSpinLockTakenNearTheStacksEndIsGivenBackByItsFinallyAtEveryDepth() {
        SpinLock lock = new SpinLock();
        List<String> failures = new ArrayList<>();
        Consumer<String> fail = failures::add;
        assertThat(holdASpinLockAt(10, lock, fail)).isEqualTo("taken");
        List<String> outcomes = new ArrayList<>();
        for (int k = 300; k >= -20; k--) {
            outcomes.add(holdASpinLockAt(limitBelowPadding() - k, lock, fail));
            if (!failures.isEmpty()) {
                break;
            }
        }
        assertThat(failures).isEmpty();
        assertThat(outcomes).hasSize(321).contains("overflowed", "taken");
    }

    /** How many holds {@code lock}'s holder has (its private count): 0 once {@code unlock()} gave its last one back. */
    private static int holds(SpinLock lock) {
        try {
            java.lang.reflect.Field f = SpinLock.class.getDeclaredField("holds");
            f.setAccessible(true);
            return f.getInt(lock);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * Takes {@code lock} at the base of a coroutine started below the padding, then gives it back at {@code depth}
     * frames of {@link #recurseThenRun}, where the release's own frames may overflow. If the overflow struck before
     * {@code unlock()} counted its hold down, the victim gives it back at its base, with room.
     *
     * @return {@code released} if the release returned, {@code overflowed} if a stack overflow struck
     */
    private static String releaseASpinLockAt(int depth, SpinLock lock, Consumer<String> fail) {
        String[] seen = {"nothing"};
        Coroutine victim = Coroutine.create("victim", () -> {
            lock.lock();
            try {
                recurseThenRun(0, depth, lock::unlock);
                seen[0] = "released";
            } catch (StackOverflowError e) {
                seen[0] = "overflowed";
                if (holds(lock) != 0) {
                    lock.unlock(); // the overflow came before the release: it is made here
                }
            }
        });
        belowPadding(victim::switchTo);
        if (lock.holder() != null) {
            fail.accept("a lock given back at depth " + depth + " (the victim found " + seen[0] + ") is held by "
                    + lock.holder() + " once the victim has ended");
        }
        return seen[0];
    }

    @Test
    void aSpinLockWhoseReleaseOverflowsNearTheStacksEndIsFreedAllTheSameAtEveryDepth() {
        SpinLock lock = new SpinLock();
        List<String> failures = new ArrayList<>();
        Consumer<String> fail = failures::add;
        assertThat(releaseASpinLockAt(10, lock, fail)).isEqualTo("released");
        List<String> outcomes = new ArrayList<>();
        for (int k = 300; k >= -20; k--) {
            outcomes.add(releaseASpinLockAt(limitBelowPadding() - k, lock, fail));
            if (!failures.isEmpty()) {
                break;
            }
        }
        assertThat(failures).isEmpty();
        assertThat(outcomes).hasSize(321).contains("overflowed", "released");
    }

    /**
     * Runs one scene of {@link #aSleepWhoseParkOverflowsNearTheStacksEndLeavesNoTimerBehindAtEveryDepth} or
     * {@link #anAwaitWhoseParkOverflowsNearTheStacksEndLeavesNothingPendingAtEveryDepth}: a coroutine 'victim',
     * started below the padding, makes {@code wait} ({@code what}), which nothing ends, at {@code depth} frames
     * of {@link #recurseThenRun}. If the park completes, main closes the victim. If a stack overflow struck
     * instead, the victim catches it at its body's base and, if {@code yieldAtBase}, yields there: nothing may be
     * left pending then (a timer, a wait for another thread), nor once it has ended: what is left behind keeps
     * the thread from seeing a deadlock, and a timer moves the virtual clock.
     *
     * @return {@code parked} or {@code overflowed}
     */
    private static String waitForGoodAt(int depth, String what, Runnable wait, boolean yieldAtBase,
                                        Consumer<String> fail) {
        String[] seen = {"nothing"};
        Coroutine victim = Coroutine.create("victim", () -> {
            try {
                recurseThenRun(0, depth, wait);
                seen[0] = "returned";
            } catch (StackOverflowError e) {
                seen[0] = "overflowed";
                if (yieldAtBase) {
                    Coroutine.yield();
                }
            }
        });
        String at = what + " at depth " + depth + (yieldAtBase ? ", then a yield at the base" : "");
        try {
            belowPadding(victim::switchTo);
        } catch (Throwable t) {
            fail.accept(at + ": " + t + " escaped to main");
            return "broken";
        }
        if (victim.state() == State.PARKED) {
            victim.close();
            return victim.state() == State.CLOSED ? "parked" : "broken";
        }
        if (seen[0].equals("overflowed") && yieldAtBase && Scheduler.current().loop.hasPending()) {
            fail.accept(at + ": while the victim is suspended at its base, something is still pending");
        }
        for (int i = 0; i < 10 && !victim.state().isTerminal(); i++) {
            Coroutine.yield();
        }
        if (victim.state() != State.FINISHED) {
            fail.accept(at + ": the victim found " + seen[0] + " and is then " + victim.state());
            return "broken";
        }
        if (Scheduler.current().loop.hasPending()) {
            fail.accept(at + ": once the victim has ended (it found " + seen[0] + "), something is still pending");
        }
        if (Scheduler.current().joinWaits() != 0) {
            fail.accept(at + ": once the victim has ended (it found " + seen[0] + "), a join still waits");
        }
        return seen[0];
    }

    @Test
    void aSleepWhoseParkOverflowsNearTheStacksEndLeavesNoTimerBehindAtEveryDepth() {
        waitForGoodAtEveryDepth("a sleep", () -> Coroutine.sleep(Duration.ofHours(1)));
    }

    @Test
    void anAwaitWhoseParkOverflowsNearTheStacksEndLeavesNothingPendingAtEveryDepth() {
        CompletableFuture<Integer> never = new CompletableFuture<>();
        waitForGoodAtEveryDepth("an await", () -> Coroutine.await(never));
    }

    @Test
    void aJoinWhoseParkOverflowsNearTheStacksEndLeavesNoJoinBehindAtEveryDepth() {
        Channel<Integer> never = new Channel<>("never", 0);
        Coroutine target = Coroutine.create("target", never::receive);
        target.switchTo(); // parked for good: a join of it ends only by the victim's close or by a stack overflow
        List<String> failures = new ArrayList<>();
        Consumer<String> fail = failures::add;
        assertThat(waitForGoodAt(10, "a join", target::join, false, fail)).isEqualTo("parked");
        assertThat(failures).isEmpty();
        for (boolean yieldAtBase : new boolean[] {false, true}) {
            List<String> outcomes = new ArrayList<>();
            for (int k = 300; k >= -20; k--) {
                outcomes.add(waitForGoodAt(limitBelowPadding() - k, "a join", target::join, yieldAtBase, fail));
                if (!failures.isEmpty()) {
                    break; // the first is the one to read
                }
                assertThat(Coroutine.dump()).contains(": 2 contexts, current index 0");
            }
            assertThat(failures).isEmpty();
            assertThat(outcomes).hasSize(321).contains("overflowed").doesNotContain("broken");
        }
        target.close();
    }

    @Test
    void anIoWaitWhoseParkOverflowsNearTheStacksEndLeavesNothingPendingAtEveryDepth() throws IOException {
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             TcpConnection quiet = TcpConnection.connect(listener.localAddress())) {
            // its peer, never accepted, writes nothing: a read of it waits until the victim is closed or overflows
            // a direct buffer: the JDK reads into a heap buffer through a per-thread cache of temporary direct
            // buffers, which an overflow inside its bookkeeping leaves broken for the thread's later reads
            // ("buf" is null), a state of the JDK's this test is not about
            ByteBuffer into = ByteBuffer.allocateDirect(1);
            waitForGoodAtEveryDepth("a read", () -> {
                try {
                    quiet.read(into);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            assertThat(into.position()).as("nothing was read").isZero();
        }
    }

    /** {@link #waitForGoodAt} at 10 frames, then at every depth near the stack's end, once without a yield at the base, once with. */
    private static void waitForGoodAtEveryDepth(String what, Runnable wait) {
        List<String> failures = new ArrayList<>();
        Consumer<String> fail = failures::add;
        assertThat(waitForGoodAt(10, what, wait, false, fail)).isEqualTo("parked");
        assertThat(failures).isEmpty();
        for (boolean yieldAtBase : new boolean[] {false, true}) {
            List<String> outcomes = new ArrayList<>();
            for (int k = 300; k >= -20; k--) {
                outcomes.add(waitForGoodAt(limitBelowPadding() - k, what, wait, yieldAtBase, fail));
                if (!failures.isEmpty()) {
                    break; // the first is the one to read
                }
                assertOnlyMainIsLeft();
            }
            assertThat(failures).isEmpty();
            assertThat(outcomes).hasSize(321).contains("overflowed").doesNotContain("broken");
        }
    }

    /**
     * Runs one scene of {@link #aWithTimeoutLeftByAStackOverflowNearTheStacksEndLeavesNoScopeNorTimerBehindAtEveryDepth}:
     * a coroutine 'victim', started below the padding, calls {@code withTimeout} of an hour at {@code depth}
     * frames of {@link #recurseThenRun}, with a body that recurses until its stack overflows. The victim catches
     * the overflow at its body's base: it must be in no {@code withTimeout} there; if {@code yieldAtBase} it
     * yields, and no timer may be pending while it is suspended there, nor once it has ended.
     *
     * @return what the victim found: {@code overflowed}
     */
    private static String withTimeoutAt(int depth, boolean yieldAtBase, Consumer<String> fail) {
        String[] seen = {"nothing"};
        Coroutine victim = Coroutine.create("victim", () -> {
            try {
                recurseThenRun(0, depth, () -> Coroutine.withTimeout(Duration.ofHours(1), () -> {
                    recurseForever(0);
                    return null;
                }));
                seen[0] = "returned";
            } catch (StackOverflowError e) {
                TimeoutScope scope = Scheduler.current().currentContext().timeouts;
                seen[0] = scope == null ? "overflowed" : "overflowed, still in withTimeout(" + scope.timeout + ")";
                if (yieldAtBase) {
                    Coroutine.yield();
                }
            }
        });
        String at = "a withTimeout at depth " + depth + (yieldAtBase ? ", then a yield at the base" : "");
        try {
            belowPadding(victim::switchTo);
        } catch (Throwable t) {
            fail.accept(at + ": " + t + " escaped to main");
            return "broken";
        }
        if (!seen[0].equals("overflowed")) {
            fail.accept(at + ": the victim found " + seen[0]);
        }
        if (yieldAtBase && Scheduler.current().loop.hasPending()) {
            fail.accept(at + ": while the victim is suspended at its base, a timer is still pending");
        }
        for (int i = 0; i < 10 && !victim.state().isTerminal(); i++) {
            Coroutine.yield();
        }
        if (victim.state() != State.FINISHED) {
            fail.accept(at + ": the victim found " + seen[0] + " and is then " + victim.state());
            return "broken";
        }
        if (Scheduler.current().loop.hasPending()) {
            fail.accept(at + ": once the victim has ended (it found " + seen[0] + "), a timer is still pending");
        }
        return seen[0];
    }

    @Test
    void aWithTimeoutLeftByAStackOverflowNearTheStacksEndLeavesNoScopeNorTimerBehindAtEveryDepth() {
        List<String> failures = new ArrayList<>();
        Consumer<String> fail = failures::add;
        assertThat(withTimeoutAt(10, false, fail)).isEqualTo("overflowed");
        assertThat(failures).isEmpty();
        for (boolean yieldAtBase : new boolean[] {false, true}) {
            for (int k = 300; k >= -20; k--) {
                withTimeoutAt(limitBelowPadding() - k, yieldAtBase, fail);
                if (!failures.isEmpty()) {
                    break; // the first is the one to read
                }
                assertOnlyMainIsLeft();
            }
            assertThat(failures).isEmpty();
        }
    }

    private static void recurseThenClose(int n, int target, Coroutine victim) {
        depthReached = n;
        if (n < target) {
            recurseThenClose(n + 1, target, victim);
        } else {
            victim.close();
        }
    }

    @Test
    void aCloseThatOverflowsBeforeItsTargetRunsLeavesTheTargetUnclosedAtEveryDepth() {
        Coroutine main = Coroutine.current();
        int limit = probedLimit(() -> recurseThenClose(0, Integer.MAX_VALUE, null));
        List<String> outcomes = new ArrayList<>();
        // the last few hundred frames before the limit and a few past it, one depth at a time
        for (int depth = limit - 300; depth <= limit + 20; depth++) {
            int target = depth;
            List<String> victimLog = new ArrayList<>();
            Coroutine victim = Coroutine.create("victim", () -> {
                try {
                    Coroutine.yield();
                    victimLog.add("resumed");
                } catch (CoroutineExit e) {
                    victimLog.add("unwound");
                }
            });
            victim.switchTo();
            StackOverflowError[] overflow = {null};
            Coroutine closer = Coroutine.create("closer", () -> {
                try {
                    recurseThenClose(0, target, victim);
                } catch (StackOverflowError e) {
                    overflow[0] = e;
                }
                main.switchTo(); // stays suspended, so that only main decides what runs next
            });
            closer.switchTo();
            if (overflow[0] != null && victim.state() == State.SUSPENDED) {
                // the close overflowed before the victim ran: it is not being closed, and runs on as before
                victim.switchTo();
                assertThat(victimLog).as("depth " + depth).containsExactly("resumed");
                assertThat(victim.state()).isEqualTo(State.FINISHED);
                assertThat(Coroutine.current().isMain()).as("depth " + depth + ": who runs after the victim ended")
                        .isTrue();
                outcomes.add("not closed");
            } else {
                assertThat(victim.state()).as("depth " + depth).isEqualTo(State.CLOSED);
                assertThat(victimLog).containsExactly("unwound");
                outcomes.add("closed");
            }
            closer.close();
            assertOnlyMainIsLeft();
        }
        assertThat(outcomes).hasSize(321);
    }
    private static Integer recurseThenNext(int n, int target, Generator<Integer> g) {
        depthReached = n;
        if (n < target) {
            return recurseThenNext(n + 1, target, g);
        }
        return g.next();
    }

    /** A generator counting 1, 2, 3, ... without end. */
    private static Generator<Integer> counting() {
        return Generator.of("counting", out -> {
            for (int i = 1; ; i++) {
                out.emit(i);
            }
        });
    }

    /** How deep a coroutine can recurse through {@link #recurseThenNext} now (the JIT makes it deeper as it compiles). */
    private static int nextLimit() {
        return probedLimit(() -> recurseThenNext(0, Integer.MAX_VALUE, null));
    }

    @Test
    void theLookForAnInitializerDeadlockBeforeABodysThreadStartsThrowsAtWorstAStackOverflowAtEveryDepth() {
        // the thread engine looks (a walk of the caller's stack) before it starts a body's thread from a
        // virtual thread: near the stack's end the JDK's walker meets the overflow inside its own code
        // the last 300 frames before the limit, one depth at a time; then, if the look overflowed at every
        // one of them (how many frames it needs depends on what the JIT has compiled of it by then),
        // shallower by 25 frames at a time until it returns once, so that the depths span the edge
        List<String> outcomes = new ArrayList<>();
        for (int k = 0; k <= 300 || k <= 5_000 && !outcomes.contains("returned"); k += k < 300 ? 1 : 25) {
            int depth = probedLimit(() -> recurseThenLook(0, Integer.MAX_VALUE)) - k;
            Object[] outcome = {"nothing"};
            Coroutine looker = Coroutine.create("looker", () -> {
                try {
                    recurseThenLook(0, depth);
                    outcome[0] = "returned";
                } catch (StackOverflowError e) {
                    outcome[0] = "overflowed";
                } catch (Throwable e) {
                    outcome[0] = e;
                }
            });
            looker.switchTo();
            assertThat(outcome[0]).as("depth " + depth).isIn("returned", "overflowed");
            outcomes.add((String) outcome[0]);
        }
        assertThat(outcomes).contains("returned", "overflowed");
    }

    private static void recurseThenLook(int n, int target) {
        depthReached = n;
        if (n < target) {
            recurseThenLook(n + 1, target);
            return;
        }
        InitializerDeadlock.runsAnInitializer();
    }

    @Test
    void aGeneratorResumedNearTheConsumersStackEndStaysUsableOrFailsNamingItselfAtEveryDepth() {
        List<String> outcomes = new ArrayList<>();
        // the last few hundred frames before the limit, one depth at a time; a generator
        // first resumed there (NEW), and one resumed there after it had emitted once (SUSPENDED)
        for (boolean started : new boolean[] {false, true}) {
            for (int k = 0; k <= 300; k++) {
                // measured again each time, as the JIT changes it: the depth k frames short of the limit
                int depth = nextLimit() - k;
                int target = depth;
                Generator<Integer> g = counting();
                if (started) {
                    assertThat(g.next()).isEqualTo(1);
                }
                Object outcome = nextAt(target, g);
                String at = (started ? "started" : "new") + " generator, depth " + depth + ", outcome " + outcome;
                int first = started ? 2 : 1;
                if (outcome instanceof Integer v) {
                    assertThat(v).as(at).isEqualTo(first);
                    outcomes.add("value");
                    first++;
                } else if (outcome instanceof CoroutineException e) {
                    // the overflow struck inside the body: the generator failed, and says so
                    assertThat(e).as(at).hasMessageStartingWith("generator 'counting' failed: ")
                            .cause().isInstanceOf(StackOverflowError.class);
                    outcomes.add("failed");
                } else if (outcome instanceof IllegalStateException e) {
                    // the overflow struck inside the JDK's entry into its stack and ended it before the body
                    // ran: it can never run, and says so at once
                    assertEndedOnEntry(e, at, g, "counting");
                    outcomes.add("ended on entry");
                } else {
                    // the consumer's own stack overflowed: before the body ran, on the way back after it
                    // emitted, or while reporting the body's failure
                    assertThat(outcome).as(at).isInstanceOf(StackOverflowError.class);
                    outcomes.add("overflowed");
                }
                if (g.state() == Generator.State.FAILED) {
                    assertThatThrownBy(g::next).as(at).isInstanceOf(NoSuchElementException.class)
                            .hasMessageContaining("generator 'counting'").hasMessageContaining("FAILED");
                } else {
                    // the body did not fail: the generator goes on where it was (a value it emitted before the
                    // overflow struck its consumer is the next one), no value lost or repeated; or it failed and
                    // the overflow struck its consumer while reporting that: the next call reports it
                    Generator.State was = g.state();
                    assertThat(was).as(at).isIn(Generator.State.NEW, Generator.State.SUSPENDED);
                    Object next;
                    try {
                        next = g.next();
                    } catch (IllegalStateException | CoroutineException e) {
                        next = e;
                    }
                    if (next instanceof CoroutineException e) {
                        assertThat(outcome).as(at).isInstanceOf(StackOverflowError.class);
                        assertThat(e).as(at).hasMessageStartingWith("generator 'counting' failed: ")
                                .cause().isInstanceOf(StackOverflowError.class);
                        assertThat(g.state()).as(at).isEqualTo(Generator.State.FAILED);
                        outcomes.set(outcomes.size() - 1, "overflowed, then reported");
                    } else if (next instanceof IllegalStateException e) {
                        // the overflow struck inside the JDK's entry into its stack and left it marked as
                        // running, or linked to the consumer it entered it for, which the JDK tells no call
                        // before it tries: the next one says so
                        assertThat(e).as(at)
                                .hasMessageMatching(unableToRunAgain("counting", "main context 'main'") + " \\(the JDK .*")
                                .hasMessageEndingWith("; it is FAILED");
                        assertThat(g.state()).as(at).isEqualTo(Generator.State.FAILED);
                        outcomes.set(outcomes.size() - 1, "refused by the JDK");
                    } else {
                        assertThat(next).as(at).isEqualTo(first);
                        assertThat(g.next()).as(at).isEqualTo(first + 1);
                    }
                }
                g.close();
                assertThat(g.state()).as(at).isIn(Generator.State.CLOSED, Generator.State.FAILED);
                assertOnlyMainIsLeft();
            }
        }
        assertThat(outcomes).hasSize(602);
    }
    @Test
    @Timeout(300)
    void aGeneratorWhoseEndIsStillToReportIsNeverLeftRunningByAnOverflowAsItReportsItAtEveryDepth() {
        // a body that fails at once (by its own exception, or by an overflow as it makes it): at a depth
        // where its consumer's stack gives out while it makes the failure (on the way back from the body),
        // the generator is SUSPENDED with its end to report. Then calls one frame deeper each time, until
        // the stack gives out before the call gets there: each reports the end, or overflows in the
        // report, or on the way in, and must leave it as it was, never RUNNING with no consumer
        // (how many depths leave one depends on what the JIT has compiled by then: none, at times)
        for (int k = 0; k <= 300; k++) {
            int depth = nextLimit() - k;
            Generator<Integer> g = Generator.of("failing", out -> {
                throw new IllegalArgumentException("the body's own failure");
            });
            Object first = nextAt(depth, g);
            if (g.state() != Generator.State.SUSPENDED) {
                assertThat(g.state()).as("depth " + depth + ", outcome " + first)
                        .isIn(Generator.State.FAILED, Generator.State.NEW);
                g.close();
                continue;
            }
            Object outcome = first;
            for (int deeper = depth; outcome instanceof StackOverflowError && deeper < depth + 200; deeper++) {
                outcome = nextAt(deeper, g);
                String at = "depth " + deeper + ", outcome " + outcome;
                if (outcome instanceof StackOverflowError) {
                    assertThat(g.state()).as(at).isEqualTo(Generator.State.SUSPENDED);
                } else {
                    assertThat(outcome).as(at).isInstanceOf(CoroutineException.class);
                    assertThat((CoroutineException) outcome).as(at)
                            .hasMessageStartingWith("generator 'failing' failed: ")
                            .cause().isInstanceOfAny(IllegalArgumentException.class, StackOverflowError.class);
                    assertThat(g.state()).as(at).isEqualTo(Generator.State.FAILED);
                }
            }
            if (g.state() == Generator.State.SUSPENDED) {
                assertThatThrownBy(g::next).as("depth " + depth).isInstanceOf(CoroutineException.class)
                        .hasMessageStartingWith("generator 'failing' failed: ")
                        .cause().isInstanceOfAny(IllegalArgumentException.class, StackOverflowError.class);
            }
            assertThat(g.state()).as("depth " + depth).isEqualTo(Generator.State.FAILED);
            assertOnlyMainIsLeft();
        }
    }

    @Test
    void aGeneratorWhoseBodyEndsNearTheConsumersStackEndReportsItsEndAtEveryDepth() {
        List<String> outcomes = new ArrayList<>();
        // the next call with stack to spare is hasNext(), or close()
        for (boolean thenClose : new boolean[] {false, true}) {
            for (int k = 0; k <= 300; k++) {
                int depth = nextLimit() - k;
                boolean[] returned = {false};
                Throwable[] threw = {null};
                Generator<Integer> g = Generator.of("once", out -> {
                    try {
                        out.emit(1);
                    } catch (Throwable t) {
                        threw[0] = t; // no call here: the stack may be exhausted still
                        throw t;
                    }
                    returned[0] = true;
                });
                assertThat(g.next()).isEqualTo(1);
                Object outcome = nextAt(depth, g);
                String at = "depth " + depth + ", outcome " + outcome;
                if (outcome instanceof NoSuchElementException e) {
                    assertThat(e).as(at).hasMessageContaining("generator 'once'").hasMessageContaining("FINISHED");
                    outcomes.add("ended");
                } else if (outcome instanceof CoroutineException e) {
                    // the overflow struck the body as it resumed, inside its emit: the body failed, and says so
                    assertThat(e).as(at).hasMessageStartingWith("generator 'once' failed: ")
                            .cause().isInstanceOf(StackOverflowError.class);
                    assertThat(g.state()).as(at).isEqualTo(Generator.State.FAILED);
                    outcomes.add("failed");
                } else {
                    // the consumer's stack overflowed on the way in, or on the way back from the body's end
                    assertThat(outcome).as(at).isInstanceOf(StackOverflowError.class);
                    outcomes.add("overflowed");
                }
                if (thenClose) {
                    closeReportsTheEnd(g, returned[0], threw[0], at);
                    assertOnlyMainIsLeft();
                    continue;
                }
                // however far the body got, the next call says it returned, or that it failed if the overflow
                // struck it as it resumed and its consumer then on the way back; unless the overflow struck
                // inside the JDK's entry into its stack before the body went on and left it marked as running,
                // or linked to the consumer it entered it for, which only a call that tries can see: then the
                // generator is FAILED, and says so
                Object next;
                try {
                    next = g.hasNext();
                } catch (CoroutineException | IllegalStateException e) {
                    next = e;
                }
                if (next instanceof CoroutineException e) {
                    assertThat(e).as(at).hasMessageStartingWith("generator 'once' failed: ")
                            .cause().isInstanceOf(StackOverflowError.class);
                } else if (next instanceof IllegalStateException e) {
                    assertThat(e).as(at)
                            .hasMessageMatching(unableToRunAgain("once", "main context 'main'") + " \\(the JDK .*")
                            .hasMessageEndingWith("; it is FAILED");
                    assertThat(g.state()).as(at).isEqualTo(Generator.State.FAILED);
                } else {
                    assertThat(next).as(at).isEqualTo(false);
                }
                assertThat(g.state()).as(at).isIn(Generator.State.FINISHED, Generator.State.FAILED);
                assertOnlyMainIsLeft();
            }
        }
        assertThat(outcomes).hasSize(2 * 301);
    }

    /**
     * Closes {@code g}, a generator 'once' after a call near its consumer's stack end, and checks that the close
     * reports its body's end as it was if the body had ended (it {@code returned}, or {@code threw}): FINISHED,
     * or its failure (not a failure while being closed); that it unwinds a body that had not got past its emit
     * (CLOSED); and that it does nothing once the generator told how its body ended. Unless the JDK left the
     * body's stack unable to run, which the close says.
     */
    private static void closeReportsTheEnd(Generator<Integer> g, boolean returned, Throwable threw, String at) {
        Generator.State before = g.state();
        Object closed = "closed";
        try {
            g.close();
        } catch (CoroutineException | IllegalStateException e) {
            closed = e;
        }
        at += ", then " + before + ", the body " + (returned ? "returned" : "threw " + threw) + ", close(): " + closed;
        if (before != Generator.State.SUSPENDED) {
            assertThat(closed).as(at).isEqualTo("closed");
            assertThat(g.state()).as(at).isEqualTo(before);
        } else if (closed instanceof IllegalStateException e) {
            assertThat(e).as(at).hasMessageMatching(unableToRunAgain("once", "main context 'main'") + " \\(the JDK .*")
                    .hasMessageEndingWith("; it is FAILED");
            assertThat(g.state()).as(at).isEqualTo(Generator.State.FAILED);
        } else if (returned) {
            assertThat(closed).as(at).isEqualTo("closed");
            assertThat(g.state()).as(at).isEqualTo(Generator.State.FINISHED);
        } else if (threw != null) {
            assertThat(closed).as(at).isInstanceOf(CoroutineException.class);
            assertThat((CoroutineException) closed).as(at).hasMessageStartingWith("generator 'once' failed: ")
                    .cause().isSameAs(threw);
            assertThat(g.state()).as(at).isEqualTo(Generator.State.FAILED);
        } else {
            assertThat(closed).as(at).isEqualTo("closed");
            assertThat(g.state()).as(at).isEqualTo(Generator.State.CLOSED);
        }
    }

    /** Recurses to {@code target} frames, then returns what {@code call} returns. */
    private static Object recurseThenCall(int n, int target, Supplier<Object> call) {
        depthReached = n;
        if (n < target) {
            return recurseThenCall(n + 1, target, call);
        }
        return call.get();
    }

    /** How deep a coroutine can recurse through {@link #recurseThenCall} now (the JIT makes it deeper as it compiles). */
    private static int callLimit() {
        return probedLimit(() -> recurseThenCall(0, Integer.MAX_VALUE, null));
    }

    /**
     * Runs, in a new coroutine 'consumer', {@code call} at {@code depth} frames of {@link #recurseThenCall}, and
     * checks that the consumer finished.
     *
     * @return what the call returned, or the stack overflow, {@link CoroutineException},
     *     {@link NoSuchElementException} or {@link IllegalStateException} that it threw
     */
    private static Object callAt(int depth, Supplier<Object> call) {
        Object[] outcome = {null};
        Coroutine consumer = Coroutine.create("consumer", () -> {
            try {
                outcome[0] = recurseThenCall(0, depth, call);
            } catch (StackOverflowError | NoSuchElementException | CoroutineException | IllegalStateException e) {
                outcome[0] = e;
            }
        });
        consumer.switchTo();
        assertThat(consumer.state()).isEqualTo(State.FINISHED);
        return outcome[0];
    }

    /**
     * A generator 'g' whose body fails, and how its consumer gets there: a plain or a read-ahead one (batches of
     * {@link #BATCH}), whose body emits 0 to {@code emits - 1} (or is closed at one of these emits) and then
     * throws; its consumer takes {@code taken} values with stack to spare, then, near its stack's end, calls
     * {@code next()}, or {@code close()} if {@code closes}.
     */
    private record FailingBody(String what, boolean readAhead, int emits, int taken, boolean closes) {

        /** The generator; its body notes what it threw in {@code threw[0]}. */
        Generator<Integer> make(RuntimeException failure, Throwable[] threw) {
            Generator.Body<Integer, Void> body = out -> {
                try {
                    try {
                        for (int i = 0; i < emits; i++) {
                            out.emit(i);
                        }
                    } catch (CoroutineExit e) {
                        // being closed: it fails instead of unwinding quietly
                    }
                    throw failure;
                } catch (Throwable t) {
                    threw[0] = t; // no call here: the stack may be exhausted still
                    throw t;
                }
            };
            return readAhead ? Generator.buffered("g", BATCH, body) : Generator.of("g", body);
        }
    }

    @Test
    void aBodysFailureReportedNearTheConsumersStackEndReachesTheConsumerOrTheNextCallAtEveryDepth() {
        List<String> outcomes = new ArrayList<>();
        // the call that runs the failing body or reports its failure, at every depth of the last few hundred
        // frames: the consumer gets the CoroutineException whose cause is what the body threw, or a stack
        // overflow, and then the generator is SUSPENDED with that failure still to report (NEW or SUSPENDED
        // as it was if the body did not run) and the next call, hasNext() or close(), reports it
        FailingBody[] bodies = {
            new FailingBody("a plain generator failing at once", false, 0, 0, false),
            new FailingBody("a plain generator failing after its first value", false, 1, 1, false),
            new FailingBody("a plain generator failing as it is closed", false, 1, 1, true),
            new FailingBody("a read-ahead generator failing at once", true, 0, 0, false),
            new FailingBody("a read-ahead generator failing after its first batch", true, BATCH, BATCH, false),
            new FailingBody("a read-ahead generator failing as it is closed", true, BATCH, BATCH, true),
            new FailingBody("a read-ahead generator whose failure waited behind its value", true, 1, 1, false),
        };
        for (FailingBody b : bodies) {
            for (boolean thenClose : new boolean[] {false, true}) {
                for (int k = 0; k <= 300; k++) {
                    int depth = callLimit() - k;
                    IllegalArgumentException failure = new IllegalArgumentException("the body's own failure");
                    Throwable[] threw = {null};
                    Generator<Integer> g = b.make(failure, threw);
                    for (int i = 0; i < b.taken(); i++) {
                        assertThat(g.next()).isEqualTo(i);
                    }
                    Object outcome = callAt(depth, b.closes() ? () -> {
                        g.close();
                        return "closed";
                    } : g::next);
                    Generator.State after = g.state();
                    Throwable ended = threw[0];
                    String at = b.what() + ", depth " + depth + ", outcome " + outcome + ", then " + after
                            + ", the body threw " + ended;
                    String failed = "generator 'g' failed" + (b.closes() ? " while being closed: " : ": ");
                    if (outcome instanceof CoroutineException e) {
                        assertThat(e).as(at).hasMessageStartingWith(failed);
                        assertIsWhatTheBodyThrew(e.getCause(), ended, at);
                        assertThat(after).as(at).isEqualTo(Generator.State.FAILED);
                        outcomes.add("failed");
                    } else if (outcome instanceof IllegalStateException e) {
                        // the overflow struck inside the JDK's entry into its stack and ended it before the body ran
                        assertEndedOnEntry(e, at, g, "g");
                        assertThat(ended).as(at).isNull();
                        outcomes.add("ended on entry");
                    } else if (outcome instanceof StackOverflowError && after == Generator.State.FAILED && ended == null) {
                        // the overflow struck inside the JDK's entry into the body's stack and ended that stack before
                        // the body ran: FAILED at once, the overflow the consumer got being how it failed
                        outcomes.add("ended on entry by the overflow");
                    } else {
                        // the consumer's own stack overflowed: before the body ran, on the way back from its end, or
                        // while reporting its failure; never RUNNING, nor FAILED with the failure untold
                        assertThat(outcome).as(at).isInstanceOf(StackOverflowError.class);
                        assertThat(after).as(at).isIn(Generator.State.NEW, Generator.State.SUSPENDED);
                        if (ended != null) {
                            assertThat(after).as(at + ": the body ended, its end still to report")
                                    .isEqualTo(Generator.State.SUSPENDED);
                        }
                        outcomes.add("overflowed, then " + nextCallReports(g, thenClose, after, threw, ended, b, at));
                    }
                    // once the failure was told, it is not told again
                    assertThat(g.hasNext()).as(at).isFalse();
                    g.close();
                    assertThat(g.state()).as(at).isIn(Generator.State.FAILED, Generator.State.CLOSED);
                    assertOnlyMainIsLeft();
                }
            }
        }
        assertThat(outcomes).hasSize(bodies.length * 2 * 301);
    }

    /**
     * Checks that {@code cause}, the cause of a generator's failure, is what its body threw ({@code threw}), or a
     * stack overflow if its body did not note what it threw (it overflowed as it was entered).
     */
    private static void assertIsWhatTheBodyThrew(Throwable cause, Throwable threw, String at) {
        if (threw != null) {
            assertThat(cause).as(at).isSameAs(threw);
        } else {
            assertThat(cause).as(at).isInstanceOf(StackOverflowError.class);
        }
    }

    /**
     * After a call of {@code b} on {@code g} overflowed its consumer's stack, makes the next call (with stack to
     * spare), {@code close()} if {@code thenClose}, else {@code hasNext()}, and checks that it reports the body's
     * failure ({@code ended}: what the body had thrown, if it had ended), as it was: not as a failure while being
     * closed if the body had ended before a close. Unless the JDK left the body's stack
     * unable to run (it had not run), or the close finds {@code g} NEW ({@code after}: its body had not run) or the
     * failure of a read-ahead body still waiting behind its values, both of which it ends as {@code CLOSED} without
     * running the body.
     *
     * @return what happened
     */
    private static String nextCallReports(Generator<Integer> g, boolean thenClose, Generator.State after,
                                          Throwable[] threw, Throwable ended, FailingBody b, String at) {
        Object next;
        try {
            if (thenClose) {
                g.close();
                next = "closed";
            } else {
                next = g.hasNext();
            }
        } catch (CoroutineException | IllegalStateException e) {
            next = e;
        }
        at += ", next " + (thenClose ? "close(): " : "hasNext(): ") + next;
        if (next instanceof IllegalStateException e) {
            assertThat(e).as(at).hasMessageMatching(unableToRunAgain("g", "main context 'main'") + " \\(the JDK .*")
                    .hasMessageEndingWith("; it is FAILED");
            assertThat(ended).as(at).isNull();
            assertThat(g.state()).as(at).isEqualTo(Generator.State.FAILED);
            return "refused by the JDK";
        }
        if (thenClose && after == Generator.State.NEW) {
            assertThat(next).as(at).isEqualTo("closed");
            assertThat(threw[0]).as(at).isNull();
            assertThat(g.state()).as(at).isEqualTo(Generator.State.CLOSED);
            return "closed unstarted";
        }
        if (thenClose && b.readAhead() && b.emits() > 0 && b.emits() < BATCH && "closed".equals(next)) {
            // the call did not get to the failure waiting behind the last value: the close drops it
            assertThat(ended).as(at).isNotNull();
            assertThat(g.state()).as(at).isEqualTo(Generator.State.CLOSED);
            return "dropped by close";
        }
        assertThat(next).as(at).isInstanceOf(CoroutineException.class);
        CoroutineException e = (CoroutineException) next;
        if (ended != null && !b.closes()) {
            // the body had ended before the close: the close tells how, not a failure while being closed
            assertThat(e).as(at).hasMessageStartingWith("generator 'g' failed: ");
        } else {
            assertThat(e).as(at).hasMessageStartingWith("generator 'g' failed");
        }
        assertIsWhatTheBodyThrew(e.getCause(), threw[0], at);
        assertThat(g.state()).as(at).isEqualTo(Generator.State.FAILED);
        return ended != null ? "reported" : "ran the body";
    }

    /** Recurses without end: a stack overflow. */
    private static int recurseForever(int n) {
        return recurseForever(n + 1) + 1;
    }

    @Test
    void rightAfterACallNearTheConsumersStackEndAGeneratorIsInTheStateItsNextCallFindsAtEveryDepth() {
        List<String> outcomes = new ArrayList<>();
        // bodies that end at once when first run (NEW) or run again after their first emit (SUSPENDED):
        // by returning, by throwing, by a stack overflow of their own. The state read right after the call
        // is the one the next call acts on: NEW or SUSPENDED only if that call can run the body or report
        // how it ended; a body that can never run is FAILED at once, as on every engine
        for (String ending : new String[] {"returns", "throws", "overflows"}) {
            for (boolean started : new boolean[] {false, true}) {
                for (int k = 0; k <= 300; k++) {
                    int depth = nextLimit() - k;
                    Generator<Integer> g = Generator.of("g", out -> {
                        if (started) {
                            out.emit(0);
                        }
                        if (ending.equals("throws")) {
                            throw new IllegalArgumentException("the body's own failure");
                        } else if (ending.equals("overflows")) {
                            recurseForever(0);
                        }
                    });
                    if (started) {
                        assertThat(g.next()).isEqualTo(0);
                    }
                    Generator.State before = g.state();
                    Object outcome = nextAt(depth, g);
                    Generator.State after = g.state();
                    String at = "a body that " + ending + ", " + before + ", depth " + depth + ", outcome " + outcome
                            + ", then " + after;
                    Class<? extends Throwable> cause = ending.equals("throws") ? IllegalArgumentException.class
                            : StackOverflowError.class;
                    if (outcome instanceof NoSuchElementException e) {
                        assertThat(e).as(at).hasMessageContaining("generator 'g'").hasMessageContaining("FINISHED");
                        assertThat(after).as(at).isEqualTo(Generator.State.FINISHED);
                        outcomes.add("finished");
                    } else if (outcome instanceof CoroutineException e) {
                        // the body failed, or an overflow struck it as it resumed
                        assertThat(e).as(at).hasMessageStartingWith("generator 'g' failed: ").cause()
                                .isInstanceOfAny(cause, StackOverflowError.class);
                        assertThat(after).as(at).isEqualTo(Generator.State.FAILED);
                        outcomes.add("failed");
                    } else if (outcome instanceof IllegalStateException e) {
                        // the overflow struck inside the JDK's entry into its stack, which can never run again
                        assertEndedOnEntry(e, at, g, "g");
                        outcomes.add("ended on entry");
                    } else {
                        // the consumer's own stack overflowed: before the body ran (as it was: the next call runs
                        // the body), on the way back from its end or while reporting it (SUSPENDED: the next call
                        // reports it), or after the state was set (FINISHED, or FAILED if the JDK ended its stack)
                        assertThat(outcome).as(at).isInstanceOf(StackOverflowError.class);
                        assertThat(after).as(at).isIn(before, Generator.State.SUSPENDED, Generator.State.FINISHED,
                                Generator.State.FAILED);
                        outcomes.add("overflowed");
                    }
                    Object next;
                    try {
                        next = g.hasNext();
                    } catch (CoroutineException | IllegalStateException e) {
                        next = e;
                    }
                    at += ", next " + next;
                    if (after == Generator.State.NEW || after == Generator.State.SUSPENDED) {
                        if (next instanceof IllegalStateException e) {
                            // what no call can see before it tries: the JDK left the stack marked as running, or
                            // linked to the consumer it entered it for; one it ended is FAILED at once
                            assertThat(e).as(at + ": reported " + after + " though its body could never run")
                                    .hasMessageContaining(" (the JDK ");
                            outcomes.set(outcomes.size() - 1, "refused by the JDK");
                        } else if (next instanceof CoroutineException e) {
                            assertThat(e).as(at).hasMessageStartingWith("generator 'g' failed: ").cause()
                                    .isInstanceOfAny(cause, StackOverflowError.class);
                        } else {
                            assertThat(next).as(at).isEqualTo(false);
                        }
                        assertThat(g.state()).as(at).isIn(Generator.State.FINISHED, Generator.State.FAILED);
                    } else {
                        assertThat(next).as(at).isEqualTo(false);
                        assertThat(g.state()).as(at).isEqualTo(after);
                    }
                    g.close();
                    assertOnlyMainIsLeft();
                }
            }
        }
        assertThat(outcomes).hasSize(3 * 2 * 301);
    }

    /** The read-ahead generators' batch: how many values their bodies run ahead. */
    private static final int BATCH = 3;

    /** What a consumer took of a read-ahead generator, and which emit of its body a stack overflow struck. */
    private static final class Track {
        /** How many values the consumer took. */
        int taken;
        /** The value whose emit the overflow struck; 0 if none. */
        int threw;
        /** How many values the consumer had taken then. */
        int takenWhenItThrew;
    }

    /**
     * A read-ahead generator counting 1, 2, 3, ... in batches of {@link #BATCH}; an emit that a stack
     * overflow struck notes it in {@code track} and lets the overflow end the body.
     */
    private static Generator<Integer> countingAhead(Track track) {
        return Generator.buffered("ahead", BATCH, out -> {
            for (int i = 1; ; i++) {
                try {
                    out.emit(i);
                } catch (StackOverflowError e) {
                    // no call here: the stack may be exhausted still
                    track.threw = i;
                    track.takenWhenItThrew = track.taken;
                    throw e;
                }
            }
        });
    }

    @Test
    void aReadAheadGeneratorResumedNearTheConsumersStackEndStaysUsableOrFailsNamingItselfAtEveryDepth() {
        List<String> outcomes = new ArrayList<>();
        // as for a plain generator: first resumed there (NEW), and resumed there for its second batch
        // after its first was taken (SUSPENDED); on the continuation engine its body runs there too, so
        // that the emit that fills its batch may overflow as it suspends
        for (boolean started : new boolean[] {false, true}) {
            for (int k = 0; k <= 300; k++) {
                int depth = nextLimit() - k;
                Track track = new Track();
                Generator<Integer> g = countingAhead(track);
                int first = 1;
                if (started) {
                    for (; first <= BATCH; first++) {
                        assertThat(g.next()).isEqualTo(first);
                        track.taken++;
                    }
                }
                Object outcome = nextAt(depth, g);
                String at = (started ? "started" : "new") + " generator, depth " + depth + ", outcome " + outcome;
                // every value the consumer gets, in order, until the body's failure if it fails
                List<Integer> taken = new ArrayList<>();
                Throwable failure = null;
                if (outcome instanceof Integer v) {
                    taken.add(v);
                    track.taken++;
                    outcomes.add("value");
                } else if (outcome instanceof CoroutineException e) {
                    failure = e;
                    outcomes.add("failed");
                } else if (outcome instanceof IllegalStateException e) {
                    // the overflow struck inside the JDK's entry into its stack and ended it before the body ran
                    assertEndedOnEntry(e, at, g, "ahead");
                    outcomes.add("ended on entry");
                } else {
                    // the consumer's own stack overflowed: before the body ran, or on the way back
                    assertThat(outcome).as(at).isInstanceOf(StackOverflowError.class);
                    outcomes.add("overflowed");
                }
                if (failure == null && g.state() != Generator.State.FAILED) {
                    assertThat(g.state()).as(at).isIn(Generator.State.NEW, Generator.State.SUSPENDED);
                    // two batches more, or up to the failure of the body (after the values emitted before it)
                    try {
                        while (taken.size() < 2 * BATCH + 1) {
                            taken.add(g.next());
                            track.taken++;
                        }
                    } catch (CoroutineException e) {
                        failure = e;
                    } catch (IllegalStateException e) {
                        // the overflow struck inside the JDK's entry into its stack and left it marked as
                        // running, or linked to the consumer it entered it for, which the JDK tells no call
                        // before it tries: the next one says so
                        assertThat(e).as(at)
                                .hasMessageMatching(unableToRunAgain("ahead", "main context 'main'") + " \\(the JDK .*")
                                .hasMessageEndingWith("; it is FAILED");
                        outcomes.set(outcomes.size() - 1, "refused by the JDK");
                    }
                }
                // no value lost or repeated, and none whose emit the overflow struck
                for (int i = 0; i < taken.size(); i++) {
                    assertThat(taken.get(i)).as(at + ", values taken " + taken).isEqualTo(first + i);
                }
                if (failure != null) {
                    assertThat(failure).as(at).hasMessageStartingWith("generator 'ahead' failed: ")
                            .cause().isInstanceOf(StackOverflowError.class);
                    // the failure comes right after the last value emitted before it. If the overflow struck an
                    // emit (not the body's own frames around it) as it suspended, that value never went out; if
                    // as it resumed, after the consumer had taken that value, it was the last one taken
                    String where = at + ", values taken " + taken + ", overflow in the emit of " + track.threw
                            + " with " + track.takenWhenItThrew + " taken";
                    int next = first + taken.size();
                    if (track.threw != 0 && track.takenWhenItThrew < track.threw) {
                        assertThat(track.threw).as(where).isEqualTo(next);
                        outcomes.set(outcomes.size() - 1, outcomes.getLast() + ", emit overflowed suspending");
                    } else if (track.threw != 0) {
                        assertThat(track.threw).as(where).isEqualTo(next - 1);
                        outcomes.set(outcomes.size() - 1, outcomes.getLast() + ", emit overflowed resuming");
                    }
                }
                if (g.state() == Generator.State.FAILED) {
                    assertThatThrownBy(g::next).as(at).isInstanceOf(NoSuchElementException.class)
                            .hasMessageContaining("generator 'ahead'").hasMessageContaining("FAILED");
                }
                g.close();
                assertThat(g.state()).as(at).isIn(Generator.State.CLOSED, Generator.State.FAILED);
                assertOnlyMainIsLeft();
            }
        }
        assertThat(outcomes).hasSize(602);
    }

    private static void recurseThenEmit(int n, int target, Generator.Emitter<Integer, Void> out, int value,
                                        boolean[] emitThrew) {
        depthReached = n;
        if (n < target) {
            recurseThenEmit(n + 1, target, out, value, emitThrew);
        } else if (out != null) {
            try {
                out.emit(value);
            } catch (StackOverflowError e) {
                emitThrew[0] = true; // no call here: the stack may be exhausted still
                throw e;
            }
        }
    }

    /** How deep a read-ahead generator's body can recurse through {@link #recurseThenEmit} now. */
    private static int emitLimit() {
        int[] limit = {0};
        Generator<Integer> probe = Generator.buffered("probe", BATCH, out -> {
            try {
                recurseThenEmit(0, Integer.MAX_VALUE, null, 0, null);
            } catch (StackOverflowError e) {
                limit[0] = depthReached;
            }
        });
        assertThat(probe.hasNext()).isFalse();
        assertThat(limit[0]).isGreaterThan(500);
        return limit[0];
    }

    @Test
    void aReadAheadBodyWhoseBatchFillingEmitOverflowsHandsThatValueNotOverAndRunsOnAtEveryDepth() {
        List<String> outcomes = new ArrayList<>();
        // the emit that fills the first batch, made by the body near its own stack's end (on the thread
        // engine the body's thread's stack, on the continuation engine its consumer's): the overflow
        // strikes before it, as it suspends, as it resumes after its consumer took the batch, or not at all
        for (int k = 0; k <= 300; k++) {
            int depth = emitLimit() - k;
            boolean[] emitThrew = {false};
            boolean[] overflowed = {false};
            boolean[] handedOver = {false};
            List<Integer> taken = new ArrayList<>();
            Generator<Integer> g = Generator.buffered("deep", BATCH, out -> {
                for (int i = 1; i <= 3 * BATCH; i++) {
                    if (i != BATCH) {
                        out.emit(i);
                        continue;
                    }
                    try {
                        recurseThenEmit(0, depth, out, i, emitThrew);
                    } catch (StackOverflowError e) {
                        // the body goes on and tells its consumer where it overflowed; its consumer had taken
                        // the value if the overflow struck as the body resumed
                        overflowed[0] = true;
                        handedOver[0] = taken.size() == BATCH;
                        out.emit(-i);
                    }
                }
            });
            String at = "depth " + depth;
            try {
                while (g.hasNext()) {
                    taken.add(g.next());
                }
            } catch (CoroutineException e) {
                throw new AssertionError(at + ": the body failed after the values " + taken, e);
            }
            at += ", values taken " + taken + ", emit threw " + emitThrew[0];
            assertThat(g.state()).as(at).isEqualTo(Generator.State.FINISHED);
            // an emit whose suspension the overflow stopped hands nothing over, and the body keeps running
            List<Integer> expected = new ArrayList<>();
            for (int i = 1; i <= 3 * BATCH; i++) {
                if (i == BATCH && overflowed[0]) {
                    if (handedOver[0]) {
                        expected.add(i);
                    }
                    expected.add(-i);
                } else {
                    expected.add(i);
                }
            }
            assertThat(taken).as(at).isEqualTo(expected);
            outcomes.add(emitThrew[0] ? (handedOver[0] ? "emit overflowed resuming" : "emit overflowed suspending")
                    : overflowed[0] ? "recursion overflowed" : "emitted");
            assertOnlyMainIsLeft();
        }
        assertThat(outcomes).hasSize(301);
    }
}
