package dev.coro;

import static dev.coro.SchedulerClock.ms;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@link Coroutine#withTimeout} interrupts its body at its next wait or scheduling point once its deadline has passed. */
@ExtendWith(FreshThread.class)
class WithTimeoutTest {

    private final List<String> log = new ArrayList<>();

    private static final Duration ONE_SECOND = Duration.ofSeconds(1);

    /** The message of main's timeout of one second. */
    private static final String MAIN_TIMED_OUT =
            "main context 'main' timed out: withTimeout(PT1S) expired before its body returned";

    /**
     * Runs {@code wait} in main under a one-second timeout and virtual time: asserts it throws the
     * timeout at 1000 ms, its {@code finally} having run.
     */
    private void assertInterruptedAtOneSecond(Runnable wait) {
        VirtualTime.run(() -> {
            assertThatThrownBy(() -> Coroutine.withTimeout(ONE_SECOND, () -> {
                try {
                    wait.run();
                    log.add("not reached");
                } finally {
                    log.add("finally at " + ms());
                }
            })).isInstanceOf(CoroutineTimeoutException.class).hasMessage(MAIN_TIMED_OUT);
            log.add("after at " + ms());
        });
        assertThat(log).containsExactly("finally at 1000", "after at 1000");
    }

    @Test
    void aZeroWithTimeoutInTheFinallyOfACoroutineBeingClosedThrowsTheCloseSignalAndTheCloseStaysAClose() {
        closeAWorkerWhoseFinallyRuns(() -> Coroutine.withTimeout(Duration.ZERO, () -> log.add("zero-budget clean-up ran")));
        assertThat(log).containsExactly("coroutine 'worker' is being closed: its withTimeout throws this signal so"
                + " that it unwinds (state RUNNING, closing)");
    }

    /** The try form alike: its zero timeout in a context being closed throws the close's signal, naming it. */
    @Test
    void aZeroTryWithTimeoutInTheFinallyOfACoroutineBeingClosedThrowsTheCloseSignalAndTheCloseStaysAClose() {
        closeAWorkerWhoseFinallyRuns(() -> Coroutine.tryWithTimeout(Duration.ZERO, () -> log.add("zero-budget clean-up ran")));
        assertThat(log).containsExactly("coroutine 'worker' is being closed: its tryWithTimeout throws this signal so"
                + " that it unwinds (state RUNNING, closing)");
    }

    /**
     * Under virtual time, closes coroutine 'worker' parked in a receive, whose {@code finally} runs
     * {@code cleanUp}; logs the message of the signal that comes out of it, and asserts the worker ends
     * {@code CLOSED}.
     */
    private void closeAWorkerWhoseFinallyRuns(Runnable cleanUp) {
        VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("ch", 0);
            Coroutine c = Coroutine.create("worker", () -> {
                try {
                    ch.receive();
                } finally {
                    try {
                        cleanUp.run();
                    } catch (CoroutineExit e) {
                        log.add(e.getMessage());
                        throw e;
                    }
                }
            });
            Coroutine.yield();
            c.close();
            assertThat(c.state()).isEqualTo(State.CLOSED);
        });
    }

    @Test
    void aBodyThatReturnsInTimeGivesItsValueAndLeavesNoTimer() {
        VirtualTime.run(() -> {
            int v = Coroutine.withTimeout(ONE_SECOND, () -> {
                Coroutine.sleep(Duration.ofMillis(500));
                return 7;
            });
            Coroutine.withTimeout(ONE_SECOND, () -> {
                log.add("runnable body ran");
            });
            assertThat(v).isEqualTo(7);
            assertThatThrownBy(() -> new Channel<Integer>("idle", 0).receive()).as("no timer left")
                    .isInstanceOf(DeadlockException.class);
            assertThat(ms()).isEqualTo(500);
        });
        assertThat(log).containsExactly("runnable body ran");
    }

    @Test
    void expiryInterruptsASleep() {
        assertInterruptedAtOneSecond(() -> Coroutine.sleep(Duration.ofHours(1)));
    }

    @Test
    void expiryInterruptsAReceiveWhichThenTookNothing() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        assertInterruptedAtOneSecond(ch::receive);
        assertThat(ch.trySend(1)).as("no receiver left in the queue").isFalse();
    }

    @Test
    void expiryInterruptsASendWhichThenDeliveredNothing() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        assertInterruptedAtOneSecond(() -> ch.send(5));
        assertThat(ch.tryReceive()).as("no sender left in the queue").isEmpty();
        Coroutine.create("receiver", () -> log.add("receiver got " + ch.receive()));
        ch.send(6);
        assertThat(log).endsWith("receiver got 6");
    }

    @Test
    void expiryInterruptsASelectWhichThenLeavesNoClauseBehind() {
        Channel<Integer> in = new Channel<>("in", 0);
        Channel<Integer> out = new Channel<>("out", 0);
        assertInterruptedAtOneSecond(() -> new Select<String>().onReceive(in, v -> "got").onSend(out, 5, () -> "sent")
                .onTimeout(Duration.ofHours(1), () -> "timeout").select());
        assertThat(in.trySend(1)).isFalse();
        assertThat(out.tryReceive()).isEmpty();
    }

    @Test
    void expiryInterruptsAYieldLoopInMainAtItsNextYield() {
        assertInterruptedAtOneSecond(() -> {
            while (true) {
                Coroutine.yield();
            }
        });
    }

    @Test
    void expiryInterruptsAYieldLoopInACoroutineAtItsNextYield() {
        VirtualTime.run(() -> Coroutine.create("spinner", () -> {
            int[] yields = new int[1];
            Throwable e = catchThrowable(() -> Coroutine.withTimeout(ONE_SECOND, () -> {
                while (true) {
                    Coroutine.yield();
                    yields[0]++;
                }
            }));
            log.add(e.getMessage() + " at " + ms() + " after " + yields[0] + " yields");
        }));
        assertThat(log).containsExactly("coroutine 'spinner' timed out: withTimeout(PT1S) expired before its body"
                + " returned at 1000 after 0 yields");
    }

    @Test
    void onTheRealClockExpiryInterruptsAWaitToo() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        assertThatThrownBy(() -> Coroutine.withTimeout(Duration.ofMillis(3), () -> ch.receive()))
                .isInstanceOf(CoroutineTimeoutException.class)
                .hasMessage("main context 'main' timed out: withTimeout(PT0.003S) expired before its body returned");
        assertThat(ch.trySend(1)).isFalse();
    }

    @Test
    void theExceptionNamesTheCoroutineAndTheTimeoutAndItsCauseIsTheSignal() {
        Duration quarter = Duration.ofMillis(250);
        List<Throwable> thrown = new ArrayList<>();
        VirtualTime.run(() -> Coroutine.create("worker", () -> thrown.add(catchThrowable(
                () -> Coroutine.withTimeout(quarter, () -> Coroutine.sleep(ONE_SECOND))))));
        CoroutineTimeoutException e = (CoroutineTimeoutException) thrown.get(0);
        assertThat(e).hasMessage("coroutine 'worker' timed out: withTimeout(PT0.25S) expired before its body returned");
        assertThat(e.timeout()).isEqualTo(quarter);
        assertThat(e.getCause()).isInstanceOf(CoroutineExit.class).hasMessage("coroutine 'worker': its"
                + " withTimeout(PT0.25S) expired; its sleep 1,000.000 ms (t=1,000.000 ms on the virtual clock,"
                + " 750.000 ms left) throws this signal so that the body unwinds to it");
    }

    /**
     * TIME.md: a deadline that passes while the context runs is thrown at its next scheduling point,
     * a {@code switchTo()} too: a body that only switches to another context and back is interrupted.
     */
    @Test
    void aBodyThatOnlySwitchesIsInterruptedAtASwitchOnTheRealClock() {
        Coroutine main = Coroutine.current();
        Coroutine partner = Coroutine.create("partner", () -> {
            while (true) {
                main.switchTo();
            }
        });
        // how many switches come before the deadline depends on the machine's load (under a heavy one, none):
        // what holds is that the signal never comes before the deadline, and that it comes at a switch
        long start = Coroutine.nanoTime();
        Throwable t = catchThrowable(() -> Coroutine.withTimeout(Duration.ofMillis(2), () -> {
            while (true) {
                partner.switchTo();
            }
        }));
        long elapsed = Coroutine.nanoTime() - start;
        assertThat(t).isInstanceOf(CoroutineTimeoutException.class).hasCauseInstanceOf(CoroutineExit.class);
        assertThat(t.getCause().getStackTrace()).as("the signal came out of a switch")
                .anyMatch(f -> f.getClassName().equals(Coroutine.class.getName()) && f.getMethodName().equals("switchTo"));
        assertThat(elapsed).as("it ran until the deadline passed").isGreaterThanOrEqualTo(Duration.ofMillis(2).toNanos());
        partner.close();
    }

    @Test
    void aZeroTimeoutThrowsAtOnceWithoutRunningTheBody() {
        CoroutineTimeoutException e = (CoroutineTimeoutException) catchThrowable(
                () -> Coroutine.withTimeout(Duration.ZERO, () -> log.add("body ran")));
        assertThat(e).hasMessage("main context 'main' timed out: withTimeout(PT0S) expired before its body returned"
                + " (a zero timeout expires at once: the body did not run)").hasNoCause();
        assertThat(e.timeout()).isZero();
        assertThat(log).isEmpty();
    }

    /** A checked exception of {@code callWithTimeout}'s body comes out as it is: the same object, its {@code finally} run, no timer left. */
    @Test
    void callWithTimeoutThrowsItsBodysCheckedExceptionAsItIs() {
        java.io.IOException thrown = new java.io.IOException("the peer is gone");
        VirtualTime.run(() -> {
            Throwable t = catchThrowable(() -> Coroutine.callWithTimeout(ONE_SECOND, () -> {
                try {
                    Coroutine.sleep(Duration.ofMillis(300));
                    throw thrown;
                } finally {
                    log.add("finally at " + ms());
                }
            }));
            assertThat(t).isSameAs(thrown);
            assertThat(LoopProbe.hasPending()).as("no timer left").isFalse();
            log.add("after at " + ms());
        });
        assertThat(log).containsExactly("finally at 300", "after at 300");
    }

    /**
     * The form without a value: a body that returns in time ran whole; one that throws a checked
     * exception throws it as it is; one cut short throws the same timeout as {@code withTimeout}.
     */
    @Test
    void callWithTimeoutWithoutAValueRunsItsBodyThrowsItsCheckedExceptionAsItIsAndTimesOutAsWithTimeoutDoes() {
        java.io.IOException thrown = new java.io.IOException("the peer is gone");
        VirtualTime.run(() -> {
            Coroutine.callWithTimeout(ONE_SECOND, () -> {
                Coroutine.sleep(Duration.ofMillis(999));
                log.add("in time at " + ms());
            });
            assertThat(catchThrowable(() -> Coroutine.callWithTimeout(ONE_SECOND, () -> {
                failWith(thrown);
            }))).isSameAs(thrown);
            assertThatThrownBy(() -> Coroutine.callWithTimeout(ONE_SECOND, () -> {
                Coroutine.sleep(Duration.ofMinutes(1));
            })).isInstanceOf(CoroutineTimeoutException.class)
                    .hasMessage("main context 'main' timed out: withTimeout(PT1S) expired before its body returned");
            log.add("after at " + ms());
            assertThat(LoopProbe.hasPending()).as("no timer left").isFalse();
        });
        assertThat(log).containsExactly("in time at 999", "after at 1999");
    }

    /** Throws {@code e}: a call of a {@code void} method that throws a checked exception. */
    private static void failWith(java.io.IOException e) throws java.io.IOException {
        throw e;
    }

    /** {@code callWithTimeout} is the same scope as {@code withTimeout}: a value in time, the same timeout and message after. */
    @Test
    void callWithTimeoutGivesItsBodysValueInTimeAndTimesOutAsWithTimeoutDoes() {
        VirtualTime.run(() -> log.add(Coroutine.callWithTimeout(ONE_SECOND, () -> {
            Coroutine.sleep(Duration.ofMillis(999));
            return "in time at " + ms();
        })));
        assertInterruptedAtOneSecondBy(wait -> Coroutine.callWithTimeout(ONE_SECOND, () -> {
            wait.run();
            return null;
        }));
    }

    /** {@link #assertInterruptedAtOneSecond}, the timeout given by {@code timeout} around a sleep of a minute. */
    private void assertInterruptedAtOneSecondBy(java.util.function.Consumer<Runnable> timeout) {
        VirtualTime.run(() -> {
            assertThatThrownBy(() -> timeout.accept(() -> {
                try {
                    Coroutine.sleep(Duration.ofMinutes(1));
                    log.add("not reached");
                } finally {
                    log.add("finally at " + ms());
                }
            })).isInstanceOf(CoroutineTimeoutException.class).hasMessage(MAIN_TIMED_OUT);
            log.add("after at " + ms());
        });
        assertThat(log).containsExactly("in time at 999", "finally at 1000", "after at 1000");
    }

    /**
     * A blocking JDK call in {@code callWithTimeout}'s body (here a latch's {@code await}, which throws
     * the checked {@code InterruptedException}) is not cut short, in main or in a coroutine: the deadline
     * passes while the thread blocks, the call returns, and the body keeps its value; no timer, no
     * interrupt and no signal are left behind.
     */
    @Test
    @Timeout(60)
    void callWithTimeoutDoesNotCutShortABlockingJdkCallAndTheBodyKeepsItsValue() {
        log.add("main: " + awaitPastTheDeadline());
        Coroutine c = Coroutine.create("c", () -> log.add("c: " + awaitPastTheDeadline()));
        c.join();
        assertThat(log).containsExactly("main: awaited, not interrupted, nothing pending, yield fine",
                "c: awaited, not interrupted, nothing pending, yield fine");
    }

    /**
     * Runs {@code callWithTimeout(1 ms)} around a latch's {@code await} that another thread releases once
     * the deadline (rounded up to the tick) has passed; says what came of it.
     */
    private static String awaitPastTheDeadline() {
        java.util.concurrent.CountDownLatch released = new java.util.concurrent.CountDownLatch(1);
        String value;
        try {
            value = Coroutine.callWithTimeout(Duration.ofMillis(1), () -> {
                Thread releaser = Thread.ofPlatform().name("releaser").start(() -> {
                    passRealTime(Duration.ofMillis(1).plusNanos(EventLoop.TICK_NANOS)); // the deadline passes meanwhile
                    released.countDown();
                });
                released.await(); // a blocking JDK call: the thread blocks, no scheduling point
                releaser.join();
                return "awaited";
            });
        } catch (InterruptedException e) {
            return "interrupted: " + e;
        }
        String interrupted = Thread.currentThread().isInterrupted() ? "interrupted" : "not interrupted";
        String pending = LoopProbe.hasPending() ? "a timer left" : "nothing pending";
        Coroutine.yield();
        return value + ", " + interrupted + ", " + pending + ", yield fine";
    }

    @Test
    void callWithTimeoutRefusesANegativeTimeoutAndNullArgumentsWithoutRunningTheBody() {
        Coroutine.current(); // the thread has a scheduler: the refusal names its main (one without is named as a thread, ThreadConfinementTest)
        assertThatThrownBy(() -> Coroutine.callWithTimeout(Duration.ofSeconds(-1), () -> log.add("body ran")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("main context 'main' (state RUNNING) cannot withTimeout with timeout PT-1S:"
                        + " a timeout must be zero or positive");
        assertThatThrownBy(() -> Coroutine.callWithTimeout(null, () -> log.add("body ran")))
                .isExactlyInstanceOf(NullPointerException.class).hasMessage("d");
        assertThatThrownBy(() -> Coroutine.callWithTimeout(ONE_SECOND, (ThrowingSupplier<Object, RuntimeException>) null))
                .isExactlyInstanceOf(NullPointerException.class).hasMessage("body");
        assertThatThrownBy(() -> Coroutine.callWithTimeout(ONE_SECOND, (ThrowingRunnable<RuntimeException>) null))
                .isExactlyInstanceOf(NullPointerException.class).hasMessage("body");
        assertThatThrownBy(() -> Coroutine.callWithTimeout(Duration.ofSeconds(-1), () -> {
            log.add("body without a value ran");
        })).isInstanceOf(IllegalArgumentException.class).hasMessage("main context 'main' (state RUNNING) cannot withTimeout"
                + " with timeout PT-1S: a timeout must be zero or positive");
        assertThat(log).isEmpty();
    }

    @Test
    void aNegativeTimeoutThrowsIllegalArgumentWithoutRunningTheBody() {
        Coroutine.current(); // the thread has a scheduler: the refusal names its main (one without is named as a thread, ThreadConfinementTest)
        assertThatThrownBy(() -> Coroutine.withTimeout(Duration.ofSeconds(-1), () -> log.add("body ran")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("main context 'main' (state RUNNING) cannot withTimeout with timeout PT-1S:"
                        + " a timeout must be zero or positive");
        assertThat(log).isEmpty();
    }

    /** A null argument is refused naming the parameter as the Javadoc names it ({@code d}, {@code body}), both forms alike. */
    @Test
    void aNullArgumentIsRefusedNamingItsParameterWithoutRunningTheBody() {
        assertThatThrownBy(() -> Coroutine.withTimeout(null, () -> log.add("body ran")))
                .isExactlyInstanceOf(NullPointerException.class).hasMessage("d");
        assertThatThrownBy(() -> Coroutine.withTimeout(null, () -> { log.add("body ran"); }))
                .isExactlyInstanceOf(NullPointerException.class).hasMessage("d");
        assertThatThrownBy(() -> Coroutine.withTimeout(ONE_SECOND, (Runnable) null))
                .isExactlyInstanceOf(NullPointerException.class).hasMessage("body");
        assertThatThrownBy(() -> Coroutine.withTimeout(ONE_SECOND, (java.util.function.Supplier<Object>) null))
                .isExactlyInstanceOf(NullPointerException.class).hasMessage("body");
        assertThat(log).isEmpty();
    }

    @Test
    void anInnerTimeoutExpiresAloneAndTheOuterBodyGoesOn() {
        VirtualTime.run(() -> log.add(Coroutine.withTimeout(Duration.ofSeconds(10), () -> {
            try {
                Coroutine.withTimeout(ONE_SECOND, () -> Coroutine.sleep(Duration.ofHours(1)));
            } catch (CoroutineTimeoutException e) {
                log.add("inner timed out at " + ms() + " after " + e.timeout());
            }
            Coroutine.sleep(Duration.ofSeconds(2));
            return "outer returns at " + ms();
        })));
        assertThat(log).containsExactly("inner timed out at 1000 after PT1S", "outer returns at 3000");
    }

    @Test
    void anOuterTimeoutExpiringInsideAnInnerOneUnwindsThroughItAndIsNeverSwallowed() {
        VirtualTime.run(() -> {
            Throwable e = catchThrowable(() -> Coroutine.withTimeout(ONE_SECOND, () -> {
                try {
                    Coroutine.withTimeout(Duration.ofSeconds(10), () -> {
                        try {
                            Coroutine.sleep(Duration.ofHours(1));
                        } finally {
                            log.add("inner finally at " + ms());
                        }
                    });
                } catch (CoroutineTimeoutException inner) {
                    log.add("inner caught " + inner.timeout());
                }
                log.add("outer body goes on");
            }));
            assertThat(e).isInstanceOf(CoroutineTimeoutException.class).hasMessage(MAIN_TIMED_OUT);
        });
        assertThat(log).containsExactly("inner finally at 1000");
    }

    @Test
    void whenBothExpireAtOnceTheOuterOneWins() {
        VirtualTime.run(() -> {
            Throwable e = catchThrowable(() -> Coroutine.withTimeout(Duration.ofMillis(1000), () -> {
                try {
                    Coroutine.withTimeout(Duration.ofMillis(1000), () -> Coroutine.sleep(Duration.ofHours(1)));
                } catch (CoroutineTimeoutException inner) {
                    log.add("inner caught");
                }
                log.add("outer body goes on");
            }));
            assertThat(e).isInstanceOf(CoroutineTimeoutException.class).hasMessage(MAIN_TIMED_OUT);
            log.add("outer timed out at " + ms());
        });
        assertThat(log).containsExactly("outer timed out at 1000");
    }

    @Test
    void whenTheInnerExpiresFirstAndTheOuterLaterEachThrowsItsOwn() {
        VirtualTime.run(() -> {
            Throwable e = catchThrowable(() -> Coroutine.withTimeout(Duration.ofSeconds(2), () -> {
                try {
                    Coroutine.withTimeout(ONE_SECOND, () -> Coroutine.sleep(Duration.ofHours(1)));
                } catch (CoroutineTimeoutException inner) {
                    log.add("inner " + inner.timeout() + " at " + ms());
                }
                Coroutine.sleep(Duration.ofHours(1));
            }));
            log.add("outer " + ((CoroutineTimeoutException) e).timeout() + " at " + ms());
        });
        assertThat(log).containsExactly("inner PT1S at 1000", "outer PT2S at 2000");
    }

    @Test
    void aValueDueAtTheSameTickAsTheTimeoutIsNeverLostItStaysInTheChannel() {
        List<Integer> received = new ArrayList<>();
        sendSevenAtTheDeadlineOfAReceiver(received, ch -> {
            try {
                Coroutine.withTimeout(ONE_SECOND, () -> received.add(ch.receive()));
            } catch (CoroutineTimeoutException e) {
                log.add("receiver timed out at " + ms());
            }
        });
        assertThat(log).containsExactly("sender sent at 1000", "receiver timed out at 1000");
        assertThat(received).as("received exactly once").containsExactly(7);
    }

    /** {@link #aValueDueAtTheSameTickAsTheTimeoutIsNeverLostItStaysInTheChannel} for the try form: empty, the value left in the channel. */
    @Test
    void aValueDueAtTheSameTickAsTheTryFormsTimeoutIsNeverLostItGivesEmptyAndTheValueStaysInTheChannel() {
        List<Integer> received = new ArrayList<>();
        sendSevenAtTheDeadlineOfAReceiver(received, ch -> log.add("receiver gave "
                + Coroutine.tryWithTimeout(ONE_SECOND, () -> ch.receive()) + " at " + ms()));
        assertThat(log).containsExactly("sender sent at 1000", "receiver gave Optional.empty at 1000");
        assertThat(received).as("received exactly once").containsExactly(7);
    }

    /**
     * Under virtual time, runs {@code receiver} on a channel of one slot in a coroutine whose timeout is
     * one second, and a sender that sends 7 at one second; main then takes into {@code received} what the
     * channel still holds.
     */
    private void sendSevenAtTheDeadlineOfAReceiver(List<Integer> received, java.util.function.Consumer<Channel<Integer>> receiver) {
        VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("ch", 1);
            Coroutine.create("receiver", () -> receiver.accept(ch));
            Coroutine.create("sender", () -> {
                Coroutine.sleep(ONE_SECOND);
                ch.send(7);
                log.add("sender sent at " + ms());
            });
            Coroutine.sleep(Duration.ofSeconds(2));
            ch.tryReceive().ifPresent(received::add);
        });
    }

    @Test
    void aValueReceivedBeforeTheTimeoutStaysReceivedAndTheSignalComesAtTheNextSchedulingPoint() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        List<Integer> received = new ArrayList<>();
        handSevenToAReceiverAsItsDeadlinePasses(ch, () -> {
            try {
                Coroutine.withTimeout(Duration.ofMillis(25), () -> {
                    received.add(ch.receive());
                    Coroutine.yield();
                    log.add("not reached");
                });
            } catch (CoroutineTimeoutException e) {
                log.add("receiver timed out");
            }
        });
        assertThat(received).containsExactly(7);
        assertThat(log).containsExactly("receiver timed out");
        assertThat(ch.tryReceive()).isEmpty();
    }

    /**
     * The try form's body that returns a value it received before its deadline, the deadline passing
     * before it runs again, returns it without reaching another scheduling point: the try form gives it.
     */
    @Test
    void aValueReceivedBeforeTheTryFormsDeadlineIsGivenWhenTheBodyReturnsIt() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        handSevenToAReceiverAsItsDeadlinePasses(ch, () -> log.add("gave "
                + Coroutine.tryWithTimeout(Duration.ofMillis(25), () -> ch.receive())));
        assertThat(log).containsExactly("gave Optional[7]");
        assertThat(ch.tryReceive()).isEmpty();
    }

    /**
     * Starts coroutine 'receiver' running {@code body}, which receives from {@code ch} (of no buffer) under a
     * timeout of 25 ms, hands it 7 once it is parked, and lets its deadline pass on the real clock before it
     * runs again; then lets it run.
     */
    private void handSevenToAReceiverAsItsDeadlinePasses(Channel<Integer> ch, Runnable body) {
        Coroutine receiver;
        do { // a thread stalled 25 ms before the receiver parked lets it time out first: then again
            log.clear();
            receiver = Coroutine.create("receiver", body);
            Coroutine.yield();
        } while (receiver.state() != State.PARKED);
        assertThat(ch.trySend(7)).isTrue();
        assertThat(receiver.state()).as("handed the value, not yet run").isEqualTo(State.SUSPENDED);
        passRealTime(Duration.ofMillis(25).plusNanos(EventLoop.TICK_NANOS)); // its deadline (rounded up to the tick) passes before it runs again
        Coroutine.yield();
    }

    @Test
    @Timeout(10)
    void aSelectThatFiresAtOnceIsNoSchedulingPointAndTheSignalComesAtTheNextOne() {
        Channel<String> ch = new Channel<>("ch", 2);
        ch.send("x");
        ch.send("y");
        assertThatThrownBy(() -> Coroutine.withTimeout(Duration.ofMillis(1), () -> {
            passRealTime(Duration.ofMillis(1).plusNanos(EventLoop.TICK_NANOS)); // the deadline passes while the body runs
            log.add(new Select<String>().onReceive(ch, v -> "took " + v).select());
            log.add(new Select<String>().onReceive(new Channel<String>("empty", 0), v -> v).onDefault(() -> "default").select());
            Coroutine.yield();
            log.add("not reached");
        })).isInstanceOf(CoroutineTimeoutException.class).cause().hasMessageEndingWith(
                "its yield throws this signal so that the body unwinds to it");
        Coroutine closed = Coroutine.create("closed", () -> {
            try {
                Coroutine.yield();
            } finally {
                log.add(new Select<String>().onReceive(ch, v -> "closed took " + v).select());
                Coroutine.yield(); // the close's signal again
                log.add("not reached either");
            }
        });
        Coroutine.yield();
        closed.close();
        assertThat(closed.state()).isEqualTo(State.CLOSED);
        assertThat(log).containsExactly("took x", "default", "closed took y");
    }

    @Test
    void aBodyThatReturnsWithoutASchedulingPointAfterItsDeadlineKeepsItsValue() {
        assertThat(Coroutine.withTimeout(Duration.ofMillis(1), () -> {
            passRealTime(Duration.ofMillis(1));
            return 7;
        })).isEqualTo(7);
    }

    /** Lets at least {@code d} pass on the real clock without reaching a scheduling point. */
    private static void passRealTime(Duration d) {
        long end = System.nanoTime() + d.toNanos();
        while (System.nanoTime() - end <= 0) {
            Thread.onSpinWait();
        }
    }

    @Test
    void eachContextHasItsOwnTimeouts() {
        VirtualTime.run(() -> {
            Coroutine.create("worker", () -> {
                try {
                    Coroutine.withTimeout(ONE_SECOND, () -> Coroutine.sleep(Duration.ofHours(1)));
                } catch (CoroutineTimeoutException e) {
                    log.add(e.getMessage() + " at " + ms());
                }
            });
            log.add(Coroutine.withTimeout(Duration.ofSeconds(5), () -> {
                Coroutine.sleep(Duration.ofSeconds(2));
                return "main returns at " + ms();
            }));
        });
        assertThat(log).containsExactly(
                "coroutine 'worker' timed out: withTimeout(PT1S) expired before its body returned at 1000",
                "main returns at 2000");
    }

    @Test
    void aSwallowedSignalIsThrownAgainAtEveryNextSchedulingPoint() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        VirtualTime.run(() -> assertThatThrownBy(() -> Coroutine.withTimeout(ONE_SECOND, () -> {
            try {
                Coroutine.sleep(Duration.ofHours(1));
            } catch (Throwable t) {
                log.add("sleep threw " + t.getClass().getSimpleName() + " at " + ms());
            }
            try {
                Coroutine.yield();
            } catch (Throwable t) {
                log.add("yield threw " + t.getClass().getSimpleName());
            }
            ch.receive();
            log.add("not reached");
        })).isInstanceOf(CoroutineTimeoutException.class).hasMessage(MAIN_TIMED_OUT));
        assertThat(log).containsExactly("sleep threw CoroutineExit at 1000", "yield threw CoroutineExit");
    }

    /**
     * Main (under a one-second timeout) and a coroutine it created both wake at 1000 ms, the coroutine's
     * sleep first in the timers' order, so it runs first and fails while main's wait is interrupted and
     * its signal is pending; {@code inside} runs in main's timed body after the interrupted sleep threw.
     */
    private Throwable failureWhileTheSignalIsPending(Runnable inside) {
        Throwable[] got = {null};
        VirtualTime.run(() -> {
            Coroutine.create("failer", () -> {
                Coroutine.sleep(ONE_SECOND); // scheduled before main's timeout, so it expires first
                log.add("failer throws at " + ms());
                throw new IllegalStateException("failer fails");
            });
            Coroutine.yield();
            got[0] = catchThrowable(() -> Coroutine.withTimeout(ONE_SECOND, () -> {
                try {
                    Coroutine.sleep(Duration.ofSeconds(2));
                } catch (CoroutineException e) {
                    log.add("the sleep threw " + e.getMessage() + " at " + ms());
                    inside.run();
                }
                log.add("not reached");
            }));
        });
        return got[0];
    }

    @Test
    void aFailureThatReachesAContextWhoseWaitItsTimeoutInterruptedIsThrownInsteadOfTheSignal() {
        Throwable t = failureWhileTheSignalIsPending(() -> {
            throw new IllegalArgumentException("the body gives up");
        });
        assertThat(t).isInstanceOf(IllegalArgumentException.class).hasMessage("the body gives up");
        assertThat(log).containsExactly("failer throws at 1000",
                "the sleep threw coroutine 'failer' failed: java.lang.IllegalStateException: failer fails at 1000");
    }

    @Test
    void theSignalOfATimeoutWhoseInterruptedWaitThrewAFailureInsteadComesAgainAtTheNextSchedulingPoint() {
        Throwable t = failureWhileTheSignalIsPending(Coroutine::yield);
        assertThat(t).isInstanceOf(CoroutineTimeoutException.class).hasMessage(MAIN_TIMED_OUT);
        assertThat(t.getCause().getSuppressed()).isEmpty();
        assertThat(log).containsExactly("failer throws at 1000",
                "the sleep threw coroutine 'failer' failed: java.lang.IllegalStateException: failer fails at 1000");
    }
}
