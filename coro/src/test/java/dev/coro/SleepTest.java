package dev.coro;

import static dev.coro.SchedulerClock.ms;
import static dev.coro.ThreadNames.thread;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@link Coroutine#sleep} parks its caller until its timer is due, on the real clock or under {@link VirtualTime}. */
@ExtendWith(FreshThread.class)
class SleepTest {

    private final List<String> log = new ArrayList<>();

    @Test
    void aSleepingCoroutineIsParkedAndTheDumpShowsTheSleepAndItsDeadline() {
        VirtualTime.run(() -> {
            Coroutine c = Coroutine.create("sleeper", () -> Coroutine.sleep(Duration.ofMillis(100)));
            Coroutine.yield();
            assertThat(c.state()).isEqualTo(State.PARKED);
            assertThat(Coroutine.dump()).contains("\n  [1] coroutine 'sleeper': PARKED, waits to sleep 100.000 ms"
                    + " (t=100.000 ms on the virtual clock, 100.000 ms left)\n        at dev.coro.Coroutine.sleep(");
        });
    }

    @Test
    void onTheRealClockTheDumpShowsWhatIsLeftOfTheSleep() {
        Coroutine c = Coroutine.create("sleeper", () -> Coroutine.sleep(Duration.ofHours(1)));
        Coroutine.yield();
        assertThat(c.state()).isEqualTo(State.PARKED);
        assertThat(Coroutine.dump()).containsPattern("\n  \\[1] coroutine 'sleeper': PARKED, waits to sleep"
                + " 3,600,000\\.000 ms \\([\\d,]+\\.\\d{3} ms left\\)\n");
        c.close();
        assertThat(c.state()).isEqualTo(State.CLOSED);
    }

    @Test
    void theDumpOfASleepReadsTheSameInEveryLocale() {
        Locale saved = Locale.getDefault();
        try {
            Locale.setDefault(Locale.GERMANY);
            VirtualTime.run(() -> {
                Coroutine.create("observer", () -> log.add(Coroutine.dump().lines()
                        .filter(l -> l.startsWith("  [0]")).findFirst().orElseThrow()));
                Coroutine.sleep(Duration.ofMillis(1500));
            });
        } finally {
            Locale.setDefault(saved);
        }
        assertThat(log).containsExactly("  [0] main: PARKED, waits to sleep 1,500.000 ms"
                + " (t=1,500.000 ms on the virtual clock, 1,500.000 ms left)");
    }

    @Test
    void othersRunWhileACoroutineSleeps() {
        VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("ch", 0);
            Coroutine.create("sleeper", () -> {
                log.add("sleeper sleeps at " + ms());
                Coroutine.sleep(Duration.ofSeconds(1));
                log.add("sleeper wakes at " + ms());
            });
            Coroutine.create("worker", () -> {
                for (int i = 0; i < 3; i++) {
                    log.add("worker got " + ch.receive() + " at " + ms());
                }
            });
            for (int i = 1; i <= 3; i++) {
                ch.send(i);
            }
        });
        assertThat(log).containsExactly("worker got 1 at 0", "sleeper sleeps at 0", "worker got 2 at 0",
                "worker got 3 at 0", "sleeper wakes at 1000");
    }

    @Test
    void mainSleepsWhileItsCoroutinesRun() {
        VirtualTime.run(() -> {
            Coroutine main = Coroutine.current();
            Coroutine.create("worker", () -> log.add("worker runs at " + ms() + ", main " + main.state()));
            Coroutine.sleep(Duration.ofSeconds(2));
            log.add("main wakes at " + ms());
        });
        assertThat(log).containsExactly("worker runs at 0, main PARKED", "main wakes at 2000");
    }

    @Test
    void aZeroOrNegativeSleepReturnsAtOnceWithoutParking() {
        VirtualTime.run(() -> {
            Coroutine other = Coroutine.create("other", () -> log.add("other ran at " + ms()));
            Coroutine.sleep(Duration.ZERO);
            Coroutine.sleep(Duration.ofNanos(-1));
            Coroutine.sleep(Duration.ofDays(-1));
            assertThat(other.state()).as("no park ran anyone else").isEqualTo(State.NEW);
            assertThat(Coroutine.nanoTime()).isZero();
        });
        assertThat(log).containsExactly("other ran at 0");
    }

    @Test
    void timersDueAtTheSameTimeExpireInTheOrderTheyWereScheduled() {
        VirtualTime.run(() -> {
            log.add(new Select<String>().onTimeout(Duration.ofSeconds(1), () -> "a")
                    .onTimeout(Duration.ofSeconds(1), () -> "b").select());
            log.add(new Select<String>().onTimeout(Duration.ofSeconds(1), () -> "b")
                    .onTimeout(Duration.ofSeconds(1), () -> "a").select());
            try {
                Coroutine.withTimeout(Duration.ofSeconds(1), () -> {
                    Coroutine.sleep(Duration.ofSeconds(1));
                    log.add("the sleep woke first");
                });
            } catch (CoroutineTimeoutException e) {
                log.add("the timeout, scheduled first, interrupted the sleep at " + ms());
            }
        });
        assertThat(log).containsExactly("a", "b", "the timeout, scheduled first, interrupted the sleep at 3000");
    }

    /**
     * Coroutines a and b, each asleep until 1000 ms (a's timer scheduled first), each logging the
     * other's state when it wakes.
     */
    private void twoSleepersDueAtOneSecond() {
        Coroutine[] c = new Coroutine[2];
        c[0] = Coroutine.create("a", () -> {
            Coroutine.sleep(Duration.ofSeconds(1));
            log.add("a at " + ms() + ", b " + c[1].state());
        });
        c[1] = Coroutine.create("b", () -> {
            Coroutine.sleep(Duration.ofSeconds(1));
            log.add("b at " + ms() + ", a " + c[0].state());
        });
        c[0].switchTo();
        c[1].switchTo();
    }

    @Test
    void aWokenCoroutineIsSuspendedAndTheUsualOrderNotTheWakeUpOrderPicksWhoRuns() {
        VirtualTime.run(() -> {
            twoSleepersDueAtOneSecond();
            Coroutine.sleep(Duration.ofSeconds(2));
            log.add("main at " + ms());
        });
        assertThat(log).as("both woken at 1000 without a switch; main parked, so its previous entry b runs first")
                .containsExactly("b at 1000, a SUSPENDED", "a at 1000, b FINISHED", "main at 2000");
    }

    @Test
    void aYieldThatWaitsForTwoTimersRunsTheWokenInTheUsualOrderToo() {
        VirtualTime.run(() -> {
            twoSleepersDueAtOneSecond();
            Coroutine.yield(); // nothing else can run: the clock jumps, both wake
            log.add("main at " + ms());
        });
        assertThat(log).as("main yielded, so its previous entry b runs first, then a, then main")
                .containsExactly("b at 1000, a SUSPENDED", "a at 1000, b FINISHED", "main at 1000");
    }

    @Test
    void aYieldLoopInMainEndsWhileACoroutineSleepsUnderVirtualTime() {
        VirtualTime.run(() -> {
            Coroutine c = Coroutine.create("sleeper", () -> Coroutine.sleep(Duration.ofSeconds(5)));
            while (!c.isFinished()) {
                Coroutine.yield();
            }
            log.add("sleeper " + c.state() + " at " + ms());
        });
        assertThat(log).containsExactly("sleeper FINISHED at 5000");
    }

    @Test
    void aYieldLoopInMainEndsWhileACoroutineSleepsOnTheRealClock() {
        Coroutine c = Coroutine.create("sleeper", () -> Coroutine.sleep(Duration.ofMillis(5)));
        while (!c.isFinished()) {
            Coroutine.yield();
        }
        assertThat(c.state()).isEqualTo(State.FINISHED);
    }

    /**
     * TIME.md: {@code switchTo()} is a scheduling point too: due timers expire there, so a loop of
     * switches between two contexts sees a sleeper woken on the real clock, never yielding.
     */
    @Test
    void aSwitchToLoopTakesInDueTimersOnTheRealClock() {
        Coroutine main = Coroutine.current();
        Coroutine sleeper = Coroutine.create("sleeper", () -> {
            Coroutine.sleep(Duration.ofMillis(2));
            log.add("sleeper woke");
        });
        Coroutine partner = Coroutine.create("partner", () -> {
            while (true) {
                main.switchTo();
            }
        });
        sleeper.switchTo(); // it parks in its sleep; main runs again
        while (sleeper.state() == State.PARKED) {
            partner.switchTo(); // and back: no yield, no park, only switches
        }
        assertThat(sleeper.state()).as("woken by its timer, taken in at a switch").isEqualTo(State.SUSPENDED);
        sleeper.switchTo();
        assertThat(sleeper.isFinished()).isTrue();
        partner.close();
        assertThat(log).containsExactly("sleeper woke");
    }

    @Test
    void closingASleepingCoroutineUnwindsItAndCancelsItsTimer() {
        VirtualTime.run(() -> {
            Coroutine c = Coroutine.create("sleeper", () -> {
                try {
                    Coroutine.sleep(Duration.ofHours(1));
                    log.add("woke");
                } finally {
                    log.add("finally at " + ms());
                }
            });
            Coroutine.yield();
            c.close();
            assertThat(c.state()).isEqualTo(State.CLOSED);
            Channel<Integer> ch = new Channel<>("ch", 0);
            assertThatThrownBy(ch::receive).as("no timer is left that could wake anyone")
                    .isInstanceOf(DeadlockException.class)
                    .hasMessage("main context 'main' cannot receive from channel 'ch': every other context of thread "
                            + thread() + " is parked and no timer is pending, so nothing could ever wake it (deadlock):"
                            + "\n  main context 'main' would wait to receive from channel 'ch'");
            assertThat(Coroutine.nanoTime()).isZero();
        });
        assertThat(log).containsExactly("finally at 0");
    }

    @Test
    void anHourOfVirtualSleepsAmongSeveralCoroutinesGivesTheSameTraceTwice() {
        List<String> first = anHourOfSleeps();
        List<String> second = anHourOfSleeps();
        assertThat(first).hasSize(20 + 40 + 60 + 60 + 1).isEqualTo(second);
        assertThat(first.subList(0, 5)).containsExactly("c1 at 1000", "c2 at 2000", "c1 at 2000", "c3 at 3000",
                "c1 at 3000");
        assertThat(first).as("both woken at the hour; the sleeper that idled runs its previous entry, main, first")
                .endsWith("main at 3600000", "minutes at 3600000");
    }

    /** Three coroutines sleeping 1, 2 and 3 s steps and one sleeping a minute, for an hour; returns the trace. */
    private static List<String> anHourOfSleeps() {
        List<String> trace = new ArrayList<>();
        VirtualTime.run(() -> {
            for (int k = 1; k <= 3; k++) {
                int step = k;
                Coroutine.create("c" + k, () -> {
                    for (int i = 0; i < 20 * step; i++) {
                        Coroutine.sleep(Duration.ofSeconds(step));
                        trace.add("c" + step + " at " + ms());
                    }
                });
            }
            Coroutine.create("minutes", () -> {
                for (int i = 0; i < 60; i++) {
                    Coroutine.sleep(Duration.ofMinutes(1));
                    trace.add("minutes at " + ms());
                }
            });
            Coroutine.sleep(Duration.ofHours(1));
            trace.add("main at " + ms());
        });
        return trace;
    }

    @Test
    void underVirtualTimeNanoTimeStartsAtZeroAndAdvancesExactlyByTheSleeps() {
        List<Long> times = new ArrayList<>();
        VirtualTime.run(() -> {
            times.add(Coroutine.nanoTime());
            Coroutine.sleep(Duration.ofMillis(1500));
            times.add(Coroutine.nanoTime());
            Coroutine.sleep(Duration.ofNanos(1));
            times.add(Coroutine.nanoTime());
            Coroutine.create(() -> {
                Coroutine.sleep(Duration.ofDays(2));
                times.add(Coroutine.nanoTime());
            });
        });
        assertThat(times).containsExactly(0L, 1_500_000_000L, 1_500_000_001L, 1_500_000_001L + 2 * 86_400_000_000_000L);
    }

    @Test
    void aParkWithATimerPendingWaitsForTheTimerUnderVirtualTime() {
        VirtualTime.run(() -> log.add("main got " + receiveFromASleepingSender(Duration.ofSeconds(1)) + " at " + ms()));
        assertThat(log).containsExactly("main got 42 at 1000");
    }

    @Test
    void aParkWithATimerPendingWaitsForTheTimerOnTheRealClock() {
        assertThat(receiveFromASleepingSender(Duration.ofMillis(5))).isEqualTo(42);
    }

    /** Main parks while the only other context sleeps {@code d}, then sends: no deadlock, the thread waits for the timer. */
    private static int receiveFromASleepingSender(Duration d) {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine.create("sender", () -> {
            Coroutine.sleep(d);
            ch.send(42);
        });
        return ch.receive();
    }

    @Test
    void aBodyEndingWhileEveryOtherContextIsParkedWaitsForAPendingTimer() {
        VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("ch", 0);
            Coroutine.create("quick", () -> log.add("quick ends at " + ms()));
            Coroutine.create("sender", () -> {
                Coroutine.sleep(Duration.ofSeconds(1));
                ch.send(42);
            });
            log.add("main got " + ch.receive() + " at " + ms());
        });
        assertThat(log).containsExactly("quick ends at 0", "main got 42 at 1000");
    }

    @Test
    void aCoroutineFailingWhileMainSleepsEndsTheSleepWithItsFailureAndCancelsTheTimer() {
        VirtualTime.run(() -> {
            Coroutine.create("bad", () -> {
                throw new IllegalStateException("boom");
            });
            assertThatThrownBy(() -> Coroutine.sleep(Duration.ofHours(1))).isInstanceOf(CoroutineException.class)
                    .hasMessage("coroutine 'bad' failed: java.lang.IllegalStateException: boom");
            assertThatThrownBy(() -> new Channel<Integer>("idle", 0).receive()).as("no timer left")
                    .isInstanceOf(DeadlockException.class);
            assertThat(Coroutine.nanoTime()).isZero();
        });
    }

    @Test
    @Timeout(10)
    void aCoroutineWhoseChildFailsAfterItsSleepEndedButBeforeItRanAgainGetsTheFailureFromThatSleep() {
        VirtualTime.run(() -> Coroutine.create("parent", () -> {
            Coroutine.create("child", () -> {
                Coroutine.sleep(Duration.ofMillis(10));
                log.add("child fails at " + ms());
                throw new IllegalStateException("boom");
            });
            // both timers are due at 10 ms: the parent is woken first, but the child (the last runnable
            // entry, main's choice) runs first and fails while the parent has not run again
            assertThatThrownBy(() -> Coroutine.sleep(Duration.ofMillis(10))).isInstanceOf(CoroutineException.class)
                    .hasMessage("coroutine 'child' failed: java.lang.IllegalStateException: boom");
            log.add("parent's sleep threw it at " + ms());
        }));
        assertThat(log).containsExactly("child fails at 10", "parent's sleep threw it at 10");
    }

    @Test
    void anInterruptDuringARealSleepNeitherEndsItEarlyNorIsLost() {
        Coroutine.create("other", () -> log.add("other ran"));
        long start = System.nanoTime();
        Thread.currentThread().interrupt();
        Coroutine.sleep(Duration.ofMillis(5));
        long slept = System.nanoTime() - start;
        assertThat(Thread.interrupted()).as("the interrupt is kept for the thread").isTrue();
        assertThat(slept).as("the sleep lasted its whole duration").isGreaterThanOrEqualTo(5_000_000L);
        assertThat(log).containsExactly("other ran");
    }

    @Test
    void durationsPastTheNanosecondRangeSaturateInsteadOfWrapping() {
        Duration forever = Duration.ofSeconds(Long.MAX_VALUE);
        Duration longAgo = Duration.ofSeconds(Long.MIN_VALUE);
        assertThat(Scheduler.saturatedNanos(forever)).isEqualTo(Long.MAX_VALUE);
        assertThat(Scheduler.saturatedNanos(longAgo)).isEqualTo(Long.MIN_VALUE);
        VirtualTime.run(() -> {
            Coroutine.sleep(longAgo);
            assertThat(Coroutine.nanoTime()).as("a sleep of a hugely negative duration returns at once").isZero();
            int v = Coroutine.withTimeout(forever, () -> {
                Coroutine.sleep(Duration.ofDays(365));
                return 7;
            });
            assertThat(v).as("a timeout past the range never expires before a year of sleep").isEqualTo(7);
            assertThat(Coroutine.nanoTime()).isEqualTo(Duration.ofDays(365).toNanos());
        });
    }

    @Test
    void onTheRealClockADeadlineIsRoundedUpToTheLoopsTickAndSaturatesInsteadOfWrapping() {
        EventLoop loop = Scheduler.current().loop;
        for (long nanos : new long[] {1, 1_500_000, EventLoop.TICK_NANOS, 3 * EventLoop.TICK_NANOS + 1}) {
            long before = loop.now();
            long d = loop.deadlineAfter(nanos);
            long after = loop.now();
            assertThat(d % EventLoop.TICK_NANOS).as("deadline after %d ns is on a tick", nanos).isZero();
            assertThat(d).as("deadline after %d ns: never early, at most a tick late", nanos)
                    .isBetween(before + nanos, after + nanos + EventLoop.TICK_NANOS - 1);
        }
        assertThat(loop.deadlineAfter(Long.MAX_VALUE)).isEqualTo(Long.MAX_VALUE);
        VirtualTime.run(() -> {
            Coroutine.sleep(Duration.ofMillis(3));
            assertThat(loop.deadlineAfter(1)).as("virtual deadlines are exact").isEqualTo(3_000_001);
            assertThat(loop.deadlineAfter(Long.MAX_VALUE)).isEqualTo(Long.MAX_VALUE);
        });
    }

    @Test
    void anInterruptOfAThreadWhoseOnlyContextSleepsIsGivenBackWhenTheSleepEnds() {
        Thread.currentThread().interrupt();
        Coroutine.sleep(Duration.ofMillis(1)); // main alone: it idles in the event loop, then wakes
        assertThat(Thread.interrupted()).as("the interrupt the idle wait took is given back").isTrue();
    }

    @Test
    void anInterruptTakenByTheIdleWaitOfAYieldUnderVirtualTimeIsGivenBackWhenTheYieldReturns() {
        CompletableFuture<String> later = new CompletableFuture<>();
        boolean[] interruptedAfterYields = new boolean[1];
        VirtualTime.run(() -> {
            Coroutine awaiter = Coroutine.create("awaiter", () -> Coroutine.await(later));
            Coroutine sleeper = Coroutine.create("sleeper", () -> Coroutine.sleep(Duration.ofMillis(1)));
            Coroutine.yield(); // both park: one on another thread, one on a timer
            Thread.currentThread().interrupt();
            while (!sleeper.isFinished()) {
                Coroutine.yield(); // idles: waits for the other thread (1 ms, real), then the clock jumps
            }
            interruptedAfterYields[0] = Thread.interrupted();
            later.complete("done");
            while (!awaiter.isFinished()) {
                Coroutine.yield();
            }
        });
        assertThat(interruptedAfterYields[0]).as("the interrupt the idle wait took is given back").isTrue();
    }

    @Test
    void aContextKeepsOneTimerForAllItsSleeps() {
        List<Object> waits = new ArrayList<>();
        VirtualTime.run(() -> {
            Coroutine c = Coroutine.create("sleeper", () -> {
                Coroutine.sleep(Duration.ofMillis(1));
                Coroutine.sleep(Duration.ofMillis(1));
            });
            Coroutine.yield(); // c parks in its first sleep
            waits.add(c.context.waitingFor);
            Coroutine.sleep(Duration.ofNanos(1_500_000)); // c wakes at 1 ms and parks in its second sleep
            waits.add(c.context.waitingFor);
        });
        assertThat(waits.get(0)).isInstanceOf(Sleep.class);
        assertThat(waits.get(1)).as("the second sleep's timer is the first's").isSameAs(waits.get(0));
    }

    @Test
    void onceItsThreadHasSleptACoroutineGetsItsTimerWithItAndItsFirstSleepUsesIt() {
        List<Object> seen = new ArrayList<>();
        VirtualTime.run(() -> {
            Coroutine before = Coroutine.create("before", () -> Coroutine.sleep(Duration.ofMillis(1)));
            seen.add(before.context.sleep); // no context of this fresh thread has slept yet
            Coroutine.yield(); // before sleeps: its timer is made now
            Coroutine after = Coroutine.create("after", () -> Coroutine.sleep(Duration.ofMillis(1)));
            Sleep timer = after.context.sleep;
            seen.add(timer);
            Coroutine.yield(); // after parks in its first sleep
            seen.add(after.context.waitingFor == timer);
        });
        assertThat(seen.get(0)).as("made at the first sleep while its thread has never slept").isNull();
        assertThat(seen.get(1)).as("made with the coroutine once its thread has slept").isInstanceOf(Sleep.class);
        assertThat(seen.get(2)).as("its first sleep waits on the timer it was made with").isEqualTo(true);
    }
}
