package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.management.CoroutinesMXBean;
import dev.coro.management.CoroutinesManagement;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.stream.Stream;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The blocked-loop detector: a context that holds its thread past the threshold is reported once
 * (logger and JFR event) with its name, how long and its stack; a yielding one and an idle loop are not.
 *
 * <p>The thread blocks for real here ({@code Thread.sleep} in a coroutine is the blocking being
 * detected), and the detector runs on its own thread; the rules of the reports themselves are
 * tested on a detector sampled by hand with a clock of the test's own.
 */
@ExtendWith(FreshThread.class)
class BlockedLoopsTest {

    /** Long enough that the detector samples the blocked thread several times, short enough for a test. */
    private static final Duration THRESHOLD = Duration.ofMillis(100);
    private static final long BLOCK_MILLIS = 500;

    @Test
    void aCoroutineThatBlocksItsThreadIsReportedOnceWithItsNameHowLongAndItsStack() throws Exception {
        Coroutine starved = Coroutine.create("starved", () -> { });
        Coroutine blocker = Coroutine.create("blocker", BlockedLoopsTest::blockTheThread);
        List<String> logged = new ArrayList<>();
        List<RecordedEvent> events = detecting(logged, () -> blocker.switchTo());
        String me = Scheduler.describe(Thread.currentThread());
        assertThat(events).hasSize(1);
        RecordedEvent e = events.get(0);
        assertThat(e.getString("coroutine")).isEqualTo("blocker");
        assertThat(e.getLong("coroutineNumber")).isEqualTo(2); // its thread's second creation, after 'starved'
        assertThat(e.getDuration("blockedFor")).isGreaterThanOrEqualTo(THRESHOLD);
        assertThat(e.getInt("otherContexts")).isEqualTo(2);
        Thread runner = Engines.running().equals("threads") ? null : Thread.currentThread();
        if (runner != null) {
            assertThat(e.getThread("runningThread").getJavaThreadId()).isEqualTo(runner.threadId());
        } else {
            assertThat(e.getThread("runningThread").getJavaName()).isEqualTo("coro blocker");
        }
        assertThat(e.getString("stack")).contains("at java.base/java.lang.Thread.sleep(")
                .contains("at dev.coro.BlockedLoopsTest.blockTheThread(");
        assertThat(e.getBoolean("movedOn")).as("its stack was taken during the stall").isFalse();
        assertThat(logged).hasSize(1);
        assertThat(logged.get(0)).startsWith("coroutine 'blocker' has blocked thread " + me + " for ")
                .contains(" ms without reaching a scheduling point (yield, switchTo, a park, the end of its body): "
                        + "2 other contexts cannot run meanwhile. Its stack (thread ")
                .contains("at dev.coro.BlockedLoopsTest.blockTheThread(");
        assertThat(starved.isFinished()).as("it ran after the blocker ended").isTrue();
    }

    private static void blockTheThread() {
        try {
            Thread.sleep(BLOCK_MILLIS);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The whole text of a report of a coroutine holding its thread: its name, the thread, how long, how many
     * contexts stall, and the stack of the thread running its code (the scheduler thread on the continuation
     * engine, its own virtual thread on the thread engine). Sampled by hand from inside the stall, with the
     * test's own clock and the frames a blocked lookup would show.
     */
    @Test
    void aReportOfACoroutineHoldingItsThreadNamesItTheThreadTheStallAndTheStackOfTheThreadRunningIt() {
        Coroutine starved = Coroutine.create("starved", () -> { });
        Watchdog w = Watchdog.unstarted(THRESHOLD);
        w.stackOf = thread -> new StackTraceElement[] {new StackTraceElement("app.Blocker", "lookup", "Blocker.java", 8)};
        String me = "thread " + Scheduler.describe(Thread.currentThread()) + " for ";
        long t = System.nanoTime();
        List<String> reports = new ArrayList<>();
        String[] runner = new String[1];
        Coroutine blocker = Coroutine.create("blocker", () -> {
            runner[0] = Scheduler.describe(Thread.currentThread());
            reports.addAll(mine(w.sample(t), me));
            reports.addAll(mine(w.sample(t + ms(THRESHOLD.toMillis())), me)); // no scheduling point in between
        });
        blocker.switchTo();
        assertThat(reports).containsExactly("coroutine 'blocker' has blocked " + me + "100.000 ms without reaching a"
                + " scheduling point (yield, switchTo, a park, the end of its body): 2 other contexts cannot run meanwhile."
                + " Its stack (thread " + runner[0] + "):\n"
                + "    at app.Blocker.lookup(Blocker.java:8)\n");
        if (Engines.running().equals("threads")) {
            assertThat(runner[0]).startsWith("'coro blocker' (#").endsWith(", virtual)");
        } else {
            assertThat(runner[0]).isEqualTo(Scheduler.describe(Thread.currentThread()));
        }
        Coroutine.yield();
        assertThat(starved.isFinished()).isTrue();
    }

    @Test
    void aCoroutineThatYieldsInALoopForAsLongIsNotReported() {
        // sampled by hand with the test's own clock: on a loaded machine the kernel may take the
        // thread's core for longer than the threshold, which the detector cannot tell from a stall
        Coroutine spinner = Coroutine.create("spinner", () -> {
            while (true) {
                Coroutine.yield();
            }
        });
        Watchdog w = Watchdog.unstarted(THRESHOLD);
        String me = "thread " + Scheduler.describe(Thread.currentThread()) + " for ";
        long t = System.nanoTime();
        long step = THRESHOLD.toNanos() / 4; // the detector's own period
        List<String> reports = new ArrayList<>();
        for (int k = 0; k <= 4 * BLOCK_MILLIS / THRESHOLD.toMillis(); k++) {
            reports.addAll(mine(w.sample(t + k * step), me));
            Coroutine.yield(); // main and the spinner take turns between two samples, as long as the block of the tests above
        }
        assertThat(reports).isEmpty();
        spinner.close();
    }

    @Test
    void aThreadWaitingInItsEventLoopIsIdleNotBlocked() throws Exception {
        Channel<Integer> never = new Channel<>("never", 0);
        Coroutine waiter = Coroutine.create("waiter", () -> never.receive());
        waiter.switchTo();
        List<String> logged = new ArrayList<>();
        List<RecordedEvent> events = detecting(logged, () -> Coroutine.sleep(Duration.ofMillis(BLOCK_MILLIS)));
        assertThat(events).isEmpty();
        assertThat(logged).isEmpty();
        waiter.close();
    }

    @Test
    void aThreadWithNothingToStallIsNotReported() throws Exception {
        Coroutine.create("done", () -> { }).switchTo(); // the thread has a scheduler, and nothing left on it
        List<String> logged = new ArrayList<>();
        List<RecordedEvent> events = detecting(logged, BlockedLoopsTest::blockTheThread);
        assertThat(events).isEmpty();
        assertThat(logged).isEmpty();
    }

    @Test
    void aBlockedThreadIsReportedAgainOnlyOnceTenTimesAsLongHasPassed() {
        Coroutine other = Coroutine.create("other", () -> {
            while (true) {
                Coroutine.yield();
            }
        });
        Watchdog w = Watchdog.unstarted(Duration.ofMillis(100));
        String me = "thread " + Scheduler.describe(Thread.currentThread()) + " for ";
        long t = System.nanoTime();
        assertThat(mine(w.sample(t), me)).isEmpty();                            // first look
        assertThat(mine(w.sample(t + ms(99)), me)).isEmpty();                   // not yet the threshold
        assertThat(mine(w.sample(t + ms(100)), me)).singleElement().asString()
                .startsWith("main context 'main' has blocked " + me + "100.000 ms without reaching a scheduling point");
        assertThat(mine(w.sample(t + ms(500)), me)).isEmpty();
        assertThat(mine(w.sample(t + ms(999)), me)).isEmpty();                  // not yet 10 x 100 ms
        assertThat(mine(w.sample(t + ms(1000)), me)).singleElement().asString().contains(me + "1,000.000 ms");
        assertThat(mine(w.sample(t + ms(9999)), me)).isEmpty();
        assertThat(mine(w.sample(t + ms(10000)), me)).singleElement().asString().contains(me + "10,000.000 ms");
        Coroutine.yield();                                                      // a scheduling point: it moved
        assertThat(mine(w.sample(t + ms(10050)), me)).isEmpty();
        assertThat(mine(w.sample(t + ms(10149)), me)).isEmpty();
        assertThat(mine(w.sample(t + ms(10150)), me)).singleElement().asString().contains(me + "100.000 ms");
        other.close();
    }

    /**
     * A context blocked inside a generator's body is run, on the thread engine, by the body's own
     * virtual thread: the event's runningThread is that thread, whose frames are the report's, and the
     * field's description (what JDK Mission Control and {@code jfr metadata} show) says so, as
     * docs/OBSERVING.md does. Sampled by hand with the test's own clock while the thread blocks.
     */
    @Test
    @Timeout(30)
    void aContextBlockedInsideAGeneratorsBodyIsRunByTheThreadTheRunningThreadFieldSays() throws Exception {
        CountDownLatch inBody = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread stuck = Thread.ofPlatform().name("stuck-in-body").start(() -> {
            Coroutine.create("other", () -> { }); // it stalls
            Generator<Integer> lines = Generator.of("lines", out -> {
                inBody.countDown();
                Maker.blockOn(release);
                out.emit(1);
            });
            lines.next();
            Coroutine.yield();
        });
        List<RecordedEvent> events;
        try {
            inBody.await();
            String it = "thread " + Scheduler.describe(stuck) + " for ";
            events = JfrEventsTest.record(r -> r.enable("dev.coro.BlockedLoop"), () -> {
                Watchdog w = Watchdog.unstarted(THRESHOLD);
                long t = System.nanoTime();
                assertThat(mine(w.sample(t), it)).isEmpty();
                assertThat(mine(w.sample(t + ms(100)), it)).singleElement().asString()
                        .startsWith("main context 'main' has blocked " + it + "100.000 ms");
            }, th -> th.getJavaThreadId() == stuck.threadId(), "dev.coro.BlockedLoop");
        } finally {
            release.countDown();
            stuck.join();
        }
        assertThat(events).hasSize(1);
        RecordedEvent e = events.get(0);
        assertThat(e.getThread("runningThread").getJavaName())
                .isEqualTo(Engines.running().equals("threads") ? "coro generator lines" : "stuck-in-body");
        assertThat(e.getString("stack")).contains("at dev.coro.Maker.blockOn(");
        assertThat(e.getEventType().getField("runningThread").getDescription()).isEqualTo("The thread running the"
                + " context's code: the scheduler thread, or on the thread engine the coroutine's own virtual thread,"
                + " or that of the generator body it is inside");
    }

    /**
     * The first failure the detector survives (a log handler that throws at a report) is printed to
     * standard error, with what threw and what it threw; the later ones are not.
     */
    @Test
    @Timeout(30)
    void theFirstFailureOfALogHandlerIsPrintedToStandardErrorAndTheLaterOnesAreNot() throws Exception {
        Coroutine other = Coroutine.create("other", () -> {
            while (true) {
                Coroutine.yield();
            }
        });
        Watchdog w = Watchdog.unstarted(Duration.ofMillis(100));
        String me = "thread " + Scheduler.describe(Thread.currentThread()) + " for ";
        java.lang.reflect.Field printed = Watchdog.class.getDeclaredField("failurePrinted");
        printed.setAccessible(true);
        boolean printedBefore = printed.getBoolean(null); // once per JVM: an earlier test may have printed it
        java.io.PrintStream err = System.err;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        AtomicInteger thrown = new AtomicInteger();
        long t = System.nanoTime();
        printed.setBoolean(null, false);
        System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            withThrowingHandler(m -> m.contains(me), thrown::incrementAndGet, () -> {
                assertThat(mine(w.sample(t), me)).isEmpty();
                assertThat(mine(w.sample(t + ms(100)), me)).hasSize(1);
                assertThat(mine(w.sample(t + ms(1000)), me)).hasSize(1);
            });
        } finally {
            System.setErr(err);
            printed.setBoolean(null, printedBefore);
            other.close();
        }
        assertThat(thrown.get()).as("the handler threw at each report").isEqualTo(2);
        assertThat(captured.toString(java.nio.charset.StandardCharsets.UTF_8).lines()
                .filter(l -> l.startsWith("coro-blocked-loop-detector: "))).as("printed once, for the first failure")
                .containsExactly("coro-blocked-loop-detector: the dev.coro logger, given a report, threw"
                        + " java.lang.IllegalStateException: this handler cannot publish; the detector goes on"
                        + " (later failures are not printed)");
    }

    @Test
    void aLogHandlerThatThrowsDoesNotStopTheReportsOfASample() throws Exception {
        Coroutine other = Coroutine.create("other", () -> {
            while (true) {
                Coroutine.yield();
            }
        });
        Watchdog w = Watchdog.unstarted(Duration.ofMillis(100));
        String me = "thread " + Scheduler.describe(Thread.currentThread()) + " for ";
        AtomicInteger thrown = new AtomicInteger();
        long t = System.nanoTime();
        List<RecordedEvent> events = JfrEventsTest.record(r -> r.enable("dev.coro.BlockedLoop"),
                () -> withThrowingHandler(m -> m.contains(me), thrown::incrementAndGet, () -> {
                    assertThat(mine(w.sample(t), me)).isEmpty();
                    assertThat(mine(w.sample(t + ms(100)), me)).as("made, though its logging threw").singleElement()
                            .asString().startsWith("main context 'main' has blocked " + me + "100.000 ms");
                    assertThat(mine(w.sample(t + ms(1000)), me)).singleElement().asString().contains(me + "1,000.000 ms");
                }), "dev.coro.BlockedLoop");
        assertThat(thrown.get()).as("the handler threw at each report").isEqualTo(2);
        assertThat(events).as("each report recorded, though its logging threw")
                .extracting(e -> e.getString("coroutine") + " " + e.getDuration("blockedFor").toMillis() + " ms")
                .containsExactly("main 100 ms", "main 1000 ms");
        other.close();
    }

    @Test
    void theDetectorThreadSurvivesALogHandlerThatThrowsAndReportsTheNextBlockedLoop() throws Exception {
        String me = "thread " + Scheduler.describe(Thread.currentThread()) + " for ";
        CountDownLatch firstReport = new CountDownLatch(1);
        CountDownLatch secondReport = new CountDownLatch(2);
        boolean[] reported = new boolean[2];
        Coroutine starved = Coroutine.create("starved", () -> {
            while (true) {
                Coroutine.yield();
            }
        });
        withThrowingHandler(m -> m.contains(me), () -> {
            firstReport.countDown();
            secondReport.countDown();
        }, () -> {
            BlockedLoops.detect(THRESHOLD);
            try {
                // each blocks its thread until the detector has reported it (the guard only bounds a failure)
                Coroutine.create("first", () -> reported[0] = awaitGuarded(firstReport)).switchTo();
                Coroutine.yield(); // a scheduling point: the thread moved
                Coroutine.create("second", () -> reported[1] = awaitGuarded(secondReport)).switchTo();
            } finally {
                BlockedLoops.stop();
            }
        });
        assertThat(reported[0]).as("the first blocked loop was reported").isTrue();
        assertThat(reported[1]).as("the second, after the handler threw at the first").isTrue();
        starved.close();
    }

    @Test
    void stopReturnsOnlyOnceAReportBeingMadeHasEndedAndTheDetectorsThreadWithIt() throws Exception {
        List<String> logged = new ArrayList<>();
        EndedInAReport ended = endedInAReport("stopper", BlockedLoops::stop, logged);
        assertThat(ended.reported()).as("the blocked loop was reported").isTrue();
        assertThat(ended.waited()).as("stop() waited while the report was being made").isTrue();
        assertThat(ended.detectorsAfter()).as("once stop() returned, the detector's thread had ended").isZero();
        assertThat(logged).as("the report was made once, and none after stop()").hasSize(1);
        assertThat(BlockedLoops.threshold()).isEmpty();
    }

    /**
     * A {@code detect} with another threshold replaces the detector as {@code stop()} ends it: it returns only once
     * the report the detector it replaces is making has ended, and that detector's thread with it, so no report of
     * the old threshold comes after it.
     */
    @Test
    void aDetectThatReplacesTheDetectorReturnsOnlyOnceAReportBeingMadeHasEndedAndTheOldDetectorsThreadWithIt() throws Exception {
        List<String> logged = new ArrayList<>();
        EndedInAReport ended = endedInAReport("replacer", () -> BlockedLoops.detect(Duration.ofSeconds(100)), logged);
        assertThat(ended.reported()).as("the blocked loop was reported").isTrue();
        assertThat(ended.waited()).as("detect() waited while the report of the detector it replaces was being made").isTrue();
        assertThat(ended.detectorsAfter()).as("once detect() returned, the replaced detector's thread had ended: the new one only")
                .isEqualTo(1L);
        assertThat(logged).as("the report was made once, and none by the replaced detector after detect()").hasSize(1);
        assertThat(BlockedLoops.threshold()).isEmpty();
    }

    /**
     * A {@code detect} that would replace the detector but cannot start its thread (the JVM can start no more
     * threads) throws the JVM's error with detection off, and has ended the detector it replaced as a {@code detect}
     * that replaces it does: it returns only once that detector's report being made has ended, and its thread with
     * it, so no report comes after it, though nothing is on.
     */
    @Test
    void aDetectThatCannotStartTheDetectorItWouldReplaceItWithThrowsOnlyOnceTheOldDetectorsReportAndThreadHaveEnded() throws Exception {
        List<String> logged = new ArrayList<>();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        EndedInAReport ended = endedInAReport("failing replacer", () -> {
            Watchdog.starter = t -> {
                throw new OutOfMemoryError("unable to create native thread: refused for a test");
            };
            try {
                BlockedLoops.detect(Duration.ofSeconds(100));
            } catch (Throwable e) {
                thrown.set(e);
            } finally {
                Watchdog.starter = Thread::start;
            }
        }, logged);
        assertThat(thrown.get()).isExactlyInstanceOf(OutOfMemoryError.class)
                .hasMessage("unable to create native thread: refused for a test");
        assertThat(ended.reported()).as("the blocked loop was reported").isTrue();
        assertThat(ended.waited()).as("detect() waited while the report of the detector it replaces was being made").isTrue();
        assertThat(ended.detectorsAfter()).as("once detect() threw, the replaced detector's thread had ended, and none was started")
                .isZero();
        assertThat(logged).as("the report was made once, and none by the replaced detector after detect()").hasSize(1);
        assertThat(BlockedLoops.threshold()).isEmpty();
    }

    /**
     * What {@link #endedInAReport} saw: whether the blocked loop was reported, whether the call that ends the
     * detector was still waiting while the report was being made, and how many detector threads lived once it returned.
     */
    private record EndedInAReport(boolean reported, boolean waited, long detectorsAfter) {
    }

    /**
     * Turns the detector on, blocks this thread until the detector is inside its report of it (the report is made
     * until the test lets it end), then runs {@code ender} (a call that ends the detector) on a platform thread named
     * {@code name}, lets the report end once that thread waits, and joins it; the detector is stopped at the end. The
     * report's lines for this thread go to {@code logged}.
     */
    private static EndedInAReport endedInAReport(String name, Runnable ender, List<String> logged) throws Exception {
        String me = "thread " + Scheduler.describe(Thread.currentThread()) + " for ";
        CountDownLatch inReport = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        EndedInAReport[] seen = new EndedInAReport[1];
        Coroutine starved = Coroutine.create("starved", () -> {
            while (true) {
                Coroutine.yield();
            }
        });
        LoggedWarnings.during(logged, m -> m.contains(me), () -> {
            withHandler(m -> m.contains(me), () -> {
                inReport.countDown();
                awaitGuarded(release); // the report is being made until the test lets it end
            }, () -> {
                BlockedLoops.detect(THRESHOLD);
                try {
                    Coroutine.create("blocker", () -> {
                        boolean reported = awaitGuarded(inReport);
                        Thread t = Thread.ofPlatform().name(name).start(ender);
                        while (t.isAlive() && t.getState() != Thread.State.WAITING) {
                            Thread.onSpinWait();
                        }
                        boolean waited = t.isAlive(); // waiting for the report to end, not returned already
                        release.countDown();
                        Joins.uninterruptibly(t);
                        seen[0] = new EndedInAReport(reported, waited, detectorThreads());
                    }).switchTo();
                } finally {
                    BlockedLoops.stop();
                }
            });
            return null;
        });
        starved.close();
        return seen[0];
    }

    @Test
    @Timeout(30)
    void anInterruptOfTheDetectorsThreadIsDroppedAndTheThreadParksAgainInsteadOfSpinning() {
        BlockedLoops.detect(Duration.ofHours(1)); // a sample every quarter of an hour: none while this runs
        try {
            Thread detector = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().equals("coro-blocked-loop-detector") && t.isAlive()).findFirst().orElseThrow();
            // as a log handler of a report that restores an interrupt it caught, or code that interrupts every thread
            detector.interrupt();
            while (detector.isInterrupted() || detector.getState() != Thread.State.TIMED_WAITING) {
                Thread.onSpinWait(); // until it has dropped the interrupt and parks again (with it set, no park would last)
            }
            assertThat(detector.isAlive()).as("the interrupt did not end the detector").isTrue();
            assertThat(BlockedLoops.threshold()).contains(Duration.ofHours(1));
        } finally {
            BlockedLoops.stop();
        }
        assertThat(detectorThreads()).isZero();
    }

    @Test
    void aLogHandlerMayStopTheDetectorFromItsReport() throws Exception {
        String me = "thread " + Scheduler.describe(Thread.currentThread()) + " for ";
        CountDownLatch stopped = new CountDownLatch(1);
        boolean[] seen = new boolean[1];
        Coroutine starved = Coroutine.create("starved", () -> {
            while (true) {
                Coroutine.yield();
            }
        });
        withHandler(m -> m.contains(me), () -> {
            BlockedLoops.stop(); // on the detector's own thread: it cannot wait for itself
            stopped.countDown();
        }, () -> {
            BlockedLoops.detect(THRESHOLD);
            try {
                Coroutine.create("blocker", () -> seen[0] = awaitGuarded(stopped)).switchTo();
            } finally {
                BlockedLoops.stop();
            }
        });
        assertThat(seen[0]).as("the handler's stop() returned").isTrue();
        assertThat(BlockedLoops.threshold()).isEmpty();
        assertThat(detectorThreads()).isZero();
        starved.close();
    }

    @Test
    void turningTheDetectorOnAgainWithTheSameThresholdKeepsWatchingAStallAlreadyUnderWay() throws Exception {
        String me = "thread " + Scheduler.describe(Thread.currentThread()) + " for ";
        CountDownLatch reported = new CountDownLatch(1);
        Coroutine starved = Coroutine.create("starved", () -> { });
        // a configuration reloader that applies the same setting over and over, as often as it likes
        Thread reloader = Thread.ofPlatform().name("reloader").unstarted(() -> {
            while (reported.getCount() > 0) {
                BlockedLoops.detect(THRESHOLD);
            }
        });
        boolean[] seen = new boolean[1];
        withHandler(m -> m.contains(me), reported::countDown, () -> {
            BlockedLoops.detect(THRESHOLD);
            try {
                reloader.start();
                Coroutine.create("blocker", () -> seen[0] = awaitGuarded(reported)).switchTo();
            } finally {
                reported.countDown();
                Joins.uninterruptibly(reloader);
                BlockedLoops.stop();
            }
        });
        assertThat(seen[0]).as("the stall was reported although the same threshold was set again and again meanwhile").isTrue();
        assertThat(detectorThreads()).isZero();
        starved.close();
    }

    /** What a request's thread may hold, as a trace id kept in an inheritable thread local. */
    private static final InheritableThreadLocal<String> TRACE = new InheritableThreadLocal<>();

    @Test
    void aReportDoesNotCarryTheInheritableThreadLocalsOfTheThreadThatTurnedTheDetectorOn() throws Exception {
        String me = "thread " + Scheduler.describe(Thread.currentThread()) + " for ";
        CountDownLatch reported = new CountDownLatch(1);
        String[] seenByTheReport = {"no report"};
        Coroutine starved = Coroutine.create("starved", () -> { });
        withHandler(m -> m.contains(me), () -> {
            seenByTheReport[0] = TRACE.get();
            reported.countDown();
        }, () -> {
            TRACE.set("request-42");
            try {
                BlockedLoops.detect(THRESHOLD);
                Coroutine.create("blocker", () -> awaitGuarded(reported)).switchTo();
            } finally {
                BlockedLoops.stop();
                TRACE.remove();
            }
        });
        assertThat(seenByTheReport[0]).as("the report's log handler, on the detector's thread, sees none of the"
                + " starting thread's inheritable thread locals (it would stamp every later report with them, and keep them)")
                .isNull();
        starved.close();
    }

    /** Runs {@code body} with a handler on the {@code dev.coro} logger that runs {@code then} for every message {@code which} accepts. */
    private static void withHandler(Predicate<String> which, Runnable then, Runnable body) {
        Logger log = Logger.getLogger("dev.coro");
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (which.test(r.getMessage())) {
                    then.run();
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(h);
        try {
            body.run();
        } finally {
            log.removeHandler(h);
        }
    }

    /** Blocks the thread until {@code latch} opens; false if the hang guard ran out first. */
    private static boolean awaitGuarded(CountDownLatch latch) {
        try {
            return latch.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Runs {@code body} with a handler on the {@code dev.coro} logger that runs {@code then} and throws
     * for every message {@code which} accepts.
     */
    private static void withThrowingHandler(Predicate<String> which, Runnable then, Runnable body) {
        withHandler(which, () -> {
            then.run();
            throw new IllegalStateException("this handler cannot publish");
        }, body);
    }

    /**
     * A thread whose await timed out, and that has gone on to work outside the library, has nothing to
     * stall: the future completing later posts its completion to the thread, where it wakes nobody
     * and waits for a scheduling point the thread may never reach again. Sampled by hand with the
     * test's own clock, a second apart, while the thread blocks.
     */
    @Test
    @Timeout(30)
    void aThreadThatMovedOnAfterAnAwaitTimedOutIsNotReportedWhenItsFutureCompletesLate() throws Exception {
        CompletableFuture<String> late = new CompletableFuture<>();
        CountDownLatch movedOn = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        List<String> outcome = new ArrayList<>();
        Thread worker = Thread.ofPlatform().name("moved-on").start(() -> {
            try {
                Coroutine.withTimeout(Duration.ofMillis(1), () -> Coroutine.await(late));
            } catch (CoroutineTimeoutException e) {
                outcome.add("timed out");
            }
            movedOn.countDown();
            Maker.blockOn(release); // work outside the library: no coroutine, nothing pending
        });
        assertNotReportedOnceMovedOn(worker, movedOn, release,
                () -> late.complete("late")); // its completion is posted to the thread, for no wait
        assertThat(outcome).containsExactly("timed out");
    }

    /**
     * Once {@code worker} has moved on to work outside the library and {@code completeLate} has posted
     * it completions for no wait, two samples a second apart (the test's own clock) report nothing
     * of it; then it is released and joined.
     */
    private static void assertNotReportedOnceMovedOn(Thread worker, CountDownLatch movedOn, CountDownLatch release,
            Runnable completeLate) throws InterruptedException {
        try {
            movedOn.await();
            completeLate.run();
            Watchdog w = Watchdog.unstarted(THRESHOLD);
            String it = "thread " + Scheduler.describe(worker) + " for ";
            long t = System.nanoTime();
            assertThat(mine(w.sample(t), it)).isEmpty();
            assertThat(mine(w.sample(t + ms(1000)), it)).as("a second without a scheduling point, with nothing to stall").isEmpty();
        } finally {
            release.countDown();
            worker.join();
        }
    }

    /**
     * As above with many awaits: a thread whose awaits of 100 futures all timed out, and which went on
     * to work outside the library, has 100 completions posted to it when the futures complete, each
     * for no wait. The detector's look at such posts gave up after 64 and counted the thread as having
     * work: it was reported as blocked. Sampled by hand with the test's own clock, a second apart.
     */
    @Test
    @Timeout(30)
    void aThreadThatMovedOnAfterManyAwaitsTimedOutIsNotReportedWhenAllTheirFuturesCompleteLate() throws Exception {
        List<CompletableFuture<String>> late = new ArrayList<>();
        for (int k = 0; k < 100; k++) {
            late.add(new CompletableFuture<>());
        }
        CountDownLatch movedOn = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger timedOut = new AtomicInteger();
        Thread worker = Thread.ofPlatform().name("moved-on-from-many").start(() -> {
            for (CompletableFuture<String> f : late) {
                try {
                    Coroutine.withTimeout(Duration.ofMillis(1), () -> Coroutine.await(f));
                } catch (CoroutineTimeoutException e) {
                    timedOut.incrementAndGet();
                }
            }
            movedOn.countDown();
            Maker.blockOn(release); // work outside the library: no coroutine, nothing pending
        });
        assertNotReportedOnceMovedOn(worker, movedOn, release,
                () -> late.forEach(f -> f.complete("late"))); // each completion is posted to the thread, for no wait
        assertThat(timedOut.get()).isEqualTo(100);
    }

    /**
     * A thread that made a channel and went on to work outside the library has nothing to stall once
     * the receive of another thread on that channel has timed out: the operation posted to the
     * thread, and the withdrawal of it, wait for a scheduling point the thread may never reach again,
     * for nobody. The detector reported the thread as blocked for them. Sampled by hand with the
     * test's own clock, a second apart, while the thread blocks.
     */
    @Test
    @Timeout(30)
    void aThreadWhoseChannelAnotherThreadGaveUpReceivingFromIsNotReported() throws Exception {
        CountDownLatch made = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        List<Channel<String>> channel = new ArrayList<>();
        Thread owner = Thread.ofPlatform().name("channel-owner").start(() -> {
            channel.add(new Channel<>("jobs", 0));
            made.countDown();
            Maker.blockOn(release); // work outside the library: no coroutine, nothing pending
        });
        List<String> outcome = new ArrayList<>();
        try {
            made.await();
            Thread receiver = Thread.ofPlatform().name("gave-up").start(() -> {
                try {
                    Coroutine.withTimeout(Duration.ofMillis(1), () -> channel.get(0).receive());
                } catch (CoroutineTimeoutException e) {
                    outcome.add("timed out");
                }
            });
            receiver.join();
            assertThat(outcome).containsExactly("timed out");
            Watchdog w = Watchdog.unstarted(THRESHOLD);
            String it = "thread " + Scheduler.describe(owner) + " for ";
            long t = System.nanoTime();
            assertThat(mine(w.sample(t), it)).isEmpty();
            assertThat(mine(w.sample(t + ms(1000)), it)).as("a second without a scheduling point, with nothing to stall").isEmpty();
        } finally {
            release.countDown();
            owner.join();
        }
    }

    /**
     * A thread blocked while a coroutine of it waits is reported, whatever its posts; but its report
     * says that posts from other threads cannot be served only if one of them is waited for: not for an
     * operation of another thread on one of its channels whose caller gave up (its receive timed out),
     * nor that operation's withdrawal, which nobody waits for. A receive of another thread still waiting
     * is. Sampled by hand with the test's own clock while the thread blocks.
     */
    @Test
    @Timeout(30)
    void aReportSaysPostsCannotBeServedOnlyIfSomeoneWaitsForOne() throws Exception {
        CountDownLatch made = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<Scheduler> its = new AtomicReference<>();
        AtomicReference<Channel<String>> jobs = new AtomicReference<>();
        Thread owner = Thread.ofPlatform().name("posts-owner").start(() -> {
            Channel<String> never = new Channel<>("never", 0);
            Coroutine waiter = Coroutine.create("waiter", () -> never.receive());
            waiter.switchTo(); // parked: a context the block stalls
            jobs.set(new Channel<>("jobs", 0));
            its.set(Scheduler.current());
            made.countDown();
            Maker.blockOn(release);
            jobs.get().close();
            Coroutine.yield(); // a scheduling point: the posts run, the receive still waiting finds the channel closed
            waiter.close();
        });
        List<String> outcome = new ArrayList<>();
        Thread waiting = null;
        try {
            made.await();
            Thread gaveUp = Thread.ofPlatform().name("gave-up").start(() -> {
                try {
                    Coroutine.withTimeout(Duration.ofMillis(1), () -> jobs.get().receive());
                } catch (CoroutineTimeoutException e) {
                    outcome.add("timed out");
                }
            });
            gaveUp.join();
            assertThat(outcome).containsExactly("timed out");
            String it = "thread " + Scheduler.describe(owner) + " for ";
            Watchdog w = Watchdog.unstarted(THRESHOLD);
            long t = System.nanoTime();
            assertThat(mine(w.sample(t), it)).isEmpty();
            assertThat(mine(w.sample(t + ms(100)), it)).as("only posts that nobody waits for").singleElement().asString()
                    .startsWith("main context 'main' has blocked " + it + "100.000 ms")
                    .contains(": 1 other context cannot run meanwhile. Its stack");
            int posts = posts(its.get().loop.inbox);
            waiting = Thread.ofPlatform().name("waiting").start(() -> {
                try {
                    jobs.get().receive();
                } catch (ChannelClosedException e) {
                    outcome.add("closed");
                }
            });
            while (posts(its.get().loop.inbox) == posts) {
                Thread.onSpinWait(); // until the receive is posted to the thread, which it waits for
            }
            Watchdog again = Watchdog.unstarted(THRESHOLD);
            assertThat(mine(again.sample(t), it)).isEmpty();
            assertThat(mine(again.sample(t + ms(100)), it)).as("a receive waiting").singleElement().asString()
                    .contains(": 1 other context cannot run meanwhile, nor can its timers, I/O and posts from other threads be served. Its stack");
        } finally {
            release.countDown();
            owner.join();
            if (waiting != null) {
                waiting.join();
            }
        }
        assertThat(outcome).containsExactly("timed out", "closed");
    }

    /** How many posts {@code inbox} holds, read from another thread while its owner is blocked. */
    private static int posts(Inbox inbox) {
        int n = 0;
        for (Posted p = inbox.head; p != null; p = p.nextPosted()) {
            n++;
        }
        return n;
    }

    /**
     * A thread dumped through the JMX view while a coroutine of it ran its last stretch, which went on
     * to work outside the library once that coroutine ended, has nothing to stall: the dump's request
     * posted to it waits for a scheduling point the thread may never reach again, and nobody waits
     * for it (the dump listed the thread from outside after its 500 ms). The detector counted that
     * request as work and reported the thread as blocked, and every later dump waited 500 ms for it.
     * Sampled by hand with the test's own clock, a second apart, while the thread blocks.
     */
    @Test
    @Timeout(30)
    void aThreadThatMovedOnAfterADumpAskedForItsOwnIsNotReportedForThatRequest() throws Exception {
        CountDownLatch inBody = new CountDownLatch(1);
        CountDownLatch dumped = new CountDownLatch(1);
        CountDownLatch movedOn = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread worker = Thread.ofPlatform().name("dumped").start(() -> {
            Coroutine job = Coroutine.create("job", () -> {
                inBody.countDown();
                Maker.blockOn(dumped); // past its last scheduling point: the dump's request waits
            });
            job.switchTo(); // returns as the body ends: no scheduling point of the thread runs the request
            movedOn.countDown();
            Maker.blockOn(release); // work outside the library: no coroutine, nothing pending
        });
        try {
            inBody.await();
            String first = dev.coro.management.CoroutinesManagement.mxBean().dump(5);
            assertThat(first).contains("thread 'dumped': 2 contexts, listed from outside (it did not reach a scheduling point within 500 ms)");
            dumped.countDown();
            movedOn.await();
            Watchdog w = Watchdog.unstarted(THRESHOLD);
            String it = "thread " + Scheduler.describe(worker) + " for ";
            long t = System.nanoTime();
            assertThat(mine(w.sample(t), it)).isEmpty();
            assertThat(mine(w.sample(t + ms(1000)), it)).as("a second without a scheduling point, with nothing to stall").isEmpty();
            assertThat(dev.coro.management.CoroutinesManagement.mxBean().dump(5))
                    .as("the next dump does not wait for the thread either")
                    .contains("thread 'dumped': 1 context, listed from outside (it has no coroutine)");
        } finally {
            release.countDown();
            worker.join();
        }
    }

    /**
     * A thread that a sample saw idle in its event loop (every context parked), which then woke and
     * blocked, has been blocked since it woke, after that sample: the stall counts from the next sample,
     * the first that saw it busy, not from the one that saw it idle, which made it up to a sampling
     * period longer than it was (reported at the sample a threshold after the idle one, as blocked for
     * the whole threshold). Sampled by hand with the test's own clock.
     */
    @Test
    @Timeout(30)
    void aStallAfterAnIdleWaitCountsFromTheFirstSampleThatSawTheThreadBusy() throws Exception {
        CompletableFuture<String> wake = new CompletableFuture<>();
        CountDownLatch blocking = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<Scheduler> its = new AtomicReference<>();
        Thread worker = Thread.ofPlatform().name("woke-and-blocked").start(() -> {
            Channel<String> never = new Channel<>("never", 0);
            Coroutine waiter = Coroutine.create("waiter", () -> never.receive());
            waiter.switchTo(); // parked: a context the block stalls
            its.set(Scheduler.current());
            Coroutine.await(wake); // every context parked: the thread waits in its event loop
            blocking.countDown();
            Maker.blockOn(release);
            waiter.close();
        });
        try {
            while (its.get() == null || !its.get().loop.isIdle()) {
                Thread.onSpinWait(); // until it waits in its event loop
            }
            Watchdog w = Watchdog.unstarted(THRESHOLD);
            String it = "thread " + Scheduler.describe(worker) + " for ";
            long t = System.nanoTime();
            assertThat(mine(w.sample(t), it)).as("idle").isEmpty();
            wake.complete("wake");
            blocking.await();
            assertThat(mine(w.sample(t + ms(100)), it)).as("blocked since it woke, after the sample that saw it idle").isEmpty();
            assertThat(mine(w.sample(t + ms(199)), it)).isEmpty();
            assertThat(mine(w.sample(t + ms(200)), it)).singleElement().asString()
                    .startsWith("main context 'main' has blocked " + it + "100.000 ms without reaching a scheduling point");
        } finally {
            release.countDown();
            worker.join();
        }
    }

    /**
     * A thread that waited in its event loop between two samples was not blocked across them, though
     * both samples saw it busy (not idle) at one count of scheduling points: its event loop wakes for a
     * post that wakes none of its contexts (the late completion of a future whose await timed out, an
     * operation of another thread whose caller gave up) or for its own periodic checks, does that and
     * waits again, passing no scheduling point; a sample that comes while it is awake, spinning for a
     * post or running one, sees it busy. Here two tasks posted to the thread hold it awake in its event
     * loop at each sample, and it waits in its event loop between them. The detector reported it as blocked across the two samples; it now
     * counts the stall from the second, and reports the second task, which does block the thread, a
     * threshold later. Sampled by hand with the test's own clock.
     */
    @Test
    @Timeout(30)
    void aThreadThatWaitedInItsEventLoopBetweenTwoSamplesWasNotBlockedAcrossThem() throws Exception {
        CompletableFuture<String> done = new CompletableFuture<>();
        AtomicReference<Scheduler> its = new AtomicReference<>();
        Thread worker = Thread.ofPlatform().name("woken-in-its-loop").start(() -> {
            Channel<String> never = new Channel<>("never", 0);
            Coroutine waiter = Coroutine.create("waiter", () -> never.receive());
            waiter.switchTo(); // parked: a context a block would stall
            its.set(Scheduler.current());
            Coroutine.await(done); // every context parked: the thread waits in its event loop
            waiter.close();
        });
        CountDownLatch inFirst = new CountDownLatch(1);
        CountDownLatch releaseFirst = new CountDownLatch(1);
        CountDownLatch inSecond = new CountDownLatch(1);
        CountDownLatch releaseSecond = new CountDownLatch(1);
        try {
            awaitIdle(its);
            Watchdog w = Watchdog.unstarted(THRESHOLD);
            String it = "thread " + Scheduler.describe(worker) + " for ";
            long t = System.nanoTime();
            its.get().loop.post(() -> {
                inFirst.countDown();
                Maker.blockOn(releaseFirst);
            });
            inFirst.await();
            assertThat(mine(w.sample(t), it)).isEmpty();
            releaseFirst.countDown();
            awaitIdle(its); // it waits in its event loop again
            its.get().loop.post(() -> {
                inSecond.countDown();
                Maker.blockOn(releaseSecond);
            });
            inSecond.await();
            assertThat(mine(w.sample(t + ms(100)), it)).as("it waited in its event loop meanwhile").isEmpty();
            assertThat(mine(w.sample(t + ms(199)), it)).isEmpty();
            assertThat(mine(w.sample(t + ms(200)), it)).singleElement().asString()
                    .startsWith("main context 'main' has blocked " + it + "100.000 ms without reaching a scheduling point");
        } finally {
            releaseFirst.countDown();
            releaseSecond.countDown();
            done.complete("done");
            worker.join();
        }
    }

    /**
     * A sample that takes long before it looks at a scheduler (a slow log handler of a report it made
     * of another, or many stacks to take) looks at that scheduler later than the sample began: a stall
     * it finds beginning there began after the sample began. The detector read the clock once per
     * sample, so it counted such a stall from the sample's start, and reported it at its next sample
     * as blocked for as much longer as the sample had taken. Here the first thread's report takes a
     * second of the test's clock, during which the second thread wakes from its idle wait and blocks.
     * Sampled by hand with the test's own clock.
     */
    @Test
    @Timeout(30)
    void aStallFoundLateInASampleCountsFromWhenTheSampleLookedAtItsThread() throws Exception {
        CountDownLatch releaseFirst = new CountDownLatch(1);
        CountDownLatch firstBlocks = new CountDownLatch(1);
        Thread first = Thread.ofPlatform().name("reported-slowly").start(() -> {
            Coroutine starved = Coroutine.create("starved", () -> { }); // made first: its scheduler is looked at first
            firstBlocks.countDown();
            Maker.blockOn(releaseFirst);
            starved.close();
        });
        firstBlocks.await();
        CompletableFuture<String> wake = new CompletableFuture<>();
        CountDownLatch secondBlocks = new CountDownLatch(1);
        CountDownLatch releaseSecond = new CountDownLatch(1);
        AtomicReference<Scheduler> its = new AtomicReference<>();
        Thread second = Thread.ofPlatform().name("found-late").start(() -> {
            Channel<String> never = new Channel<>("never", 0);
            Coroutine waiter = Coroutine.create("waiter", () -> never.receive());
            waiter.switchTo(); // parked: a context the block stalls
            its.set(Scheduler.current());
            Coroutine.await(wake); // every context parked: the thread waits in its event loop
            secondBlocks.countDown();
            Maker.blockOn(releaseSecond);
            waiter.close();
        });
        String firstIt = "thread " + Scheduler.describe(first) + " for ";
        String it = "thread " + Scheduler.describe(second) + " for ";
        AtomicLong clock = new AtomicLong(System.nanoTime());
        long t = clock.get();
        try {
            awaitIdle(its);
            Watchdog w = Watchdog.unstarted(THRESHOLD);
            assertThat(w.sample(clock::get)).isEmpty();
            // the first thread's report takes a second, and meanwhile the second thread wakes and blocks
            withHandler(m -> m.contains(firstIt), () -> {
                clock.addAndGet(ms(1000));
                wake.complete("wake");
                awaitGuarded(secondBlocks);
            }, () -> {
                clock.set(t + ms(100));
                List<String> reports = w.sample(clock::get);
                assertThat(mine(reports, firstIt)).singleElement();
                assertThat(mine(reports, it)).isEmpty();
            });
            clock.set(t + ms(1150));
            assertThat(mine(w.sample(clock::get), it)).as("blocked since the sample looked at it, at 1,100 ms").isEmpty();
            clock.set(t + ms(1200));
            assertThat(mine(w.sample(clock::get), it)).singleElement().asString()
                    .startsWith("main context 'main' has blocked " + it + "100.000 ms without reaching a scheduling point");
        } finally {
            releaseFirst.countDown();
            releaseSecond.countDown();
            wake.complete("wake");
            first.join();
            second.join();
        }
    }

    /** Until the scheduler {@code its} holds (once it holds one) waits in its event loop. */
    private static void awaitIdle(AtomicReference<Scheduler> its) {
        while (its.get() == null || !its.get().loop.isIdle()) {
            Thread.onSpinWait();
        }
    }

    /**
     * A thread that a sample saw with nothing to stall (no coroutine besides main, nothing pending: it
     * works outside the library), to which another thread then posts an operation that it waits for,
     * stalls that operation only from the post on: the stall counts from the first sample that saw the
     * post, not from the one that saw the thread with nothing to stall. Sampled by hand with the test's
     * own clock.
     */
    @Test
    @Timeout(30)
    void aStallThatBeginsWhenWorkArrivesCountsFromTheFirstSampleThatSawTheWork() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<Scheduler> its = new AtomicReference<>();
        AtomicReference<Channel<String>> jobs = new AtomicReference<>();
        Thread owner = Thread.ofPlatform().name("work-arrives").start(() -> {
            Channel<String> c = new Channel<>("jobs", 0);
            its.set(Scheduler.current());
            jobs.set(c);
            Maker.blockOn(release); // work outside the library: no coroutine, nothing pending
            c.send("job"); // a scheduling point: the receive posted meanwhile is served
        });
        List<String> received = new ArrayList<>();
        Thread receiver = null;
        try {
            while (jobs.get() == null) {
                Thread.onSpinWait();
            }
            Watchdog w = Watchdog.unstarted(THRESHOLD);
            String it = "thread " + Scheduler.describe(owner) + " for ";
            long t = System.nanoTime();
            assertThat(mine(w.sample(t), it)).as("nothing to stall").isEmpty();
            receiver = Thread.ofPlatform().name("receiver").start(() -> received.add(jobs.get().receive()));
            while (its.get().loop.inbox.isEmpty()) {
                Thread.onSpinWait(); // until the receive is posted to the owner, which it waits for
            }
            assertThat(mine(w.sample(t + ms(100)), it)).as("stalling the receive since it was posted, after the sample").isEmpty();
            assertThat(mine(w.sample(t + ms(199)), it)).isEmpty();
            assertThat(mine(w.sample(t + ms(200)), it)).singleElement().asString()
                    .startsWith("main context 'main' has blocked " + it + "100.000 ms without reaching a scheduling point");
        } finally {
            release.countDown();
            owner.join();
            if (receiver != null) {
                receiver.join();
            }
        }
        assertThat(received).containsExactly("job");
    }

    /**
     * A detector samples every quarter of its threshold, a quarter of an hour for a threshold of an
     * hour: what it remembers of a scheduler must not keep that scheduler, and the coroutines its
     * thread left, alive until the next sample once the thread has ended.
     */
    @Test
    @Timeout(30)
    void theDetectorKeepsNothingOfASchedulerWhoseThreadHasEndedBeforeItsNextSample() throws Exception {
        Watchdog w = Watchdog.unstarted(Duration.ofHours(1));
        List<WeakReference<Object>> left = new ArrayList<>();
        CountDownLatch made = new CountDownLatch(1);
        CountDownLatch sampled = new CountDownLatch(1);
        Thread ender = Thread.ofPlatform().name("ender").start(() -> {
            Coroutine c = Coroutine.create("left", () -> Coroutine.yield());
            c.switchTo(); // suspended in its yield: the thread ends with it unfinished
            left.add(new WeakReference<>(Scheduler.current()));
            left.add(new WeakReference<>(c));
            made.countDown();
            Maker.blockOn(sampled);
        });
        made.await();
        w.sample(System.nanoTime()); // the detector sees the thread's scheduler once
        sampled.countDown();
        ender.join();
        assertThat(Collected.all(left)).as("the scheduler of the ended thread and its coroutine are collected").isTrue();
        assertThat(w.sample(System.nanoTime())).as("nothing is reported of the ended thread").isEmpty();
    }

    /**
     * A thread that ends as its report is made (its stack taken once it has ended) is not reported: it stalls
     * nothing any more, and it has no stack to show. Reports stop with the thread, on both engines, as they do
     * from the next sample on. Sampled by hand with the test's own clock.
     */
    @Test
    @Timeout(30)
    void aThreadThatEndsAsItsStackIsTakenIsNotReported() throws Exception {
        Watchdog w = Watchdog.unstarted(THRESHOLD);
        CountDownLatch made = new CountDownLatch(1);
        CountDownLatch end = new CountDownLatch(1);
        Thread ender = Thread.ofPlatform().name("ender").start(() -> {
            Coroutine.create("stalled", () -> { }); // what its block stalls
            made.countDown();
            Maker.blockOn(end); // blocked outside coro, then it ends with the coroutine left
        });
        made.await();
        String of = "thread " + Scheduler.describe(ender) + " for ";
        long t = System.nanoTime();
        assertThat(mine(w.sample(t), of)).isEmpty(); // the first look at it, busy
        w.stackOf = thread -> {
            end.countDown();
            Joins.uninterruptibly(ender); // it ends as its stack is taken
            return thread.getStackTrace();
        };
        List<String> reports = new ArrayList<>();
        List<RecordedEvent> events = JfrEventsTest.record(r -> r.enable("dev.coro.BlockedLoop"),
                () -> reports.addAll(mine(w.sample(t + ms(THRESHOLD.toMillis())), of)),
                thread -> thread.getJavaThreadId() == ender.threadId(), "dev.coro.BlockedLoop");
        assertThat(reports).isEmpty();
        assertThat(events).as("nor is the event recorded").isEmpty();
        assertThat(ender.isAlive()).isFalse();
    }

    /**
     * On the thread engine the stalled coroutine's body runs on a thread of its own: a body that ends as that
     * thread's stack is taken leaves its thread ended, its stack empty, while the scheduler's thread lives and goes
     * on to another context. The report takes the stack again of the thread running the context current then, as
     * the dump's listing from outside does (MonitorSupportTest), and says the loop moved on, as on the continuation
     * engine, where the scheduler's thread runs every context: not nothing, as a body's thread not yet run would.
     * The JFR event names the thread it went on to as the one running, and says the loop moved on.
     */
    @Test
    void aCoroutineWhoseBodysThreadEndsAsItsStackIsTakenIsReportedWhereTheThreadWentOn() throws Exception {
        Watchdog w = Watchdog.unstarted(THRESHOLD);
        CountDownLatch blocked = new CountDownLatch(1);
        CountDownLatch unblock = new CountDownLatch(1);
        CountDownLatch wentOn = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Thread mover = Thread.ofPlatform().name("mover").start(() -> {
            Channel<Integer> never = new Channel<>("never", 0);
            Coroutine.create("left", never::receive).switchTo(); // parked: what the block stalls
            Coroutine.create("blocker", () -> {
                blocked.countDown();
                Maker.blockOn(unblock); // blocked outside coro in its body, then it ends
            }).switchTo();
            wentOn.countDown();
            Maker.blockOn(done);
        });
        String of = "thread " + Scheduler.describe(mover) + " for ";
        StackTraceElement[] at = {new StackTraceElement("app.Blocker", "lookup", "Blocker.java", 8)};
        List<String> reports = new ArrayList<>();
        List<RecordedEvent> events;
        try {
            blocked.await();
            long t = System.nanoTime();
            assertThat(mine(w.sample(t), of)).isEmpty(); // the first look at it, busy
            w.stackOf = thread -> {
                unblock.countDown();
                if (thread != mover) {
                    Joins.uninterruptibly(thread); // the body's thread ends as its stack is taken
                }
                Maker.blockOn(wentOn);
                return thread == mover ? at : thread.getStackTrace();
            };
            events = JfrEventsTest.record(r -> r.enable("dev.coro.BlockedLoop"),
                    () -> reports.addAll(mine(w.sample(t + ms(THRESHOLD.toMillis())), of)),
                    thread -> thread.getJavaThreadId() == mover.threadId(), "dev.coro.BlockedLoop");
        } finally {
            unblock.countDown();
            done.countDown();
            mover.join();
        }
        assertThat(reports).containsExactly("coroutine 'blocker' has blocked " + of + "100.000 ms without reaching a"
                + " scheduling point (yield, switchTo, a park, the end of its body): 2 other contexts cannot run meanwhile."
                + " It moved on as its stack was taken (a scheduling point or an idle wait came): the stack (thread "
                + Scheduler.describe(mover) + ") may be of what it ran next, not of the stall:\n"
                + "    at app.Blocker.lookup(Blocker.java:8)\n");
        // the event says the same: the thread it went on to runs now, and the stall was over
        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.getString("coroutine")).isEqualTo("blocker");
            assertThat(e.getLong("runningThreadId")).isEqualTo(mover.threadId());
            assertThat(e.getDuration("blockedFor")).isEqualTo(THRESHOLD);
            assertThat(e.getInt("otherContexts")).isEqualTo(2);
            assertThat(e.getString("stack")).isEqualTo("    at app.Blocker.lookup(Blocker.java:8)\n");
            assertThat(e.getBoolean("movedOn")).isTrue();
        });
    }

    @Test
    void theDetectorIsTurnedOnAndOffAndRefusesAThresholdBelowAMillisecond() {
        try {
            BlockedLoops.detect(Duration.ofMillis(250));
            assertThat(BlockedLoops.threshold()).contains(Duration.ofMillis(250));
            assertThat(detectorThreads()).isEqualTo(1);
            BlockedLoops.detect(Duration.ofSeconds(2));
            assertThat(BlockedLoops.threshold()).contains(Duration.ofSeconds(2));
            BlockedLoops.detect(Duration.ofMillis(1)); // the shortest threshold taken: a millisecond itself
            assertThat(BlockedLoops.threshold()).contains(Duration.ofMillis(1));
        } finally {
            BlockedLoops.stop();
        }
        assertThat(BlockedLoops.threshold()).isEmpty();
        BlockedLoops.stop();
        assertThatThrownBy(() -> BlockedLoops.detect(Duration.ofNanos(999_999)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("thread " + ThreadNames.thread() + " cannot detect blocked loops with threshold PT0.000999999S:"
                        + " the threshold must be at least 1 ms");
        Coroutine refused = Coroutine.create("configurer", () -> BlockedLoops.detect(Duration.ZERO));
        assertThatThrownBy(refused::switchTo).isInstanceOf(CoroutineException.class).cause()
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("coroutine 'configurer' cannot detect blocked loops with threshold PT0S: the threshold must be at"
                        + " least 1 ms");
        assertThatThrownBy(() -> BlockedLoops.detect(null)).isInstanceOf(NullPointerException.class);
        assertThat(BlockedLoops.threshold()).isEmpty();
    }

    /**
     * Threads that turn the detector on and off at once, through the API and the JMX attribute, each with a
     * threshold of its own, leave one detector at most once they have returned: its thread alive exactly while
     * the threshold says it is on, the attribute saying the same; and none once it is stopped.
     */
    @Test
    @Timeout(60)
    void threadsTurningTheDetectorOnAndOffAtOnceLeaveOneDetectorAtMostAndTheThresholdSaysWhich() throws Exception {
        CoroutinesMXBean view = CoroutinesManagement.mxBean();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> turners = new ArrayList<>();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        try {
            for (int k = 0; k < 4; k++) {
                int own = k;
                turners.add(Thread.ofPlatform().name("turner-" + k).start(() -> {
                    try {
                        go.await();
                        for (int i = 0; i < 100; i++) {
                            switch ((i + own) % 4) {
                                case 0 -> BlockedLoops.detect(Duration.ofSeconds(10 + own));
                                case 1 -> BlockedLoops.stop();
                                case 2 -> view.setBlockedThresholdMillis(20_000 + own);
                                default -> view.setBlockedThresholdMillis(0);
                            }
                        }
                    } catch (Throwable e) {
                        failed.compareAndSet(null, e);
                    }
                }));
            }
            go.countDown();
            for (Thread t : turners) {
                t.join();
            }
            assertThat(failed.get()).isNull();
            assertThat(detectorThreads()).isEqualTo(BlockedLoops.threshold().isPresent() ? 1 : 0);
            assertThat(view.getBlockedThresholdMillis()).isEqualTo(BlockedLoops.threshold().map(Duration::toMillis).orElse(0L));
        } finally {
            BlockedLoops.stop();
        }
        assertThat(detectorThreads()).isZero();
        assertThat(view.getBlockedThresholdMillis()).isZero();
    }

    @Test
    void thePropertyTakesMillisecondsOrSeconds() {
        assertThat(BlockedLoops.parse("200ms")).isEqualTo(Duration.ofMillis(200));
        assertThat(BlockedLoops.parse(" 2s ")).isEqualTo(Duration.ofSeconds(2));
        assertThat(BlockedLoops.parse("150")).isEqualTo(Duration.ofMillis(150));
        // blanks before the unit are ignored as those around the value are; the units are read in lower case only
        assertThat(Stream.of("200 ms", "2 s", "200MS", "2S", "200Ms").map(BlockedLoopsTest::parsed))
                .containsExactly("PT0.2S", "PT2S", "refused", "refused", "refused");
        // the largest counts whose milliseconds still have a thousandfold range left
        assertThat(BlockedLoops.parse("9223372036854775ms")).isEqualTo(Duration.ofMillis(9_223_372_036_854_775L));
        assertThat(BlockedLoops.parse("9223372036854s")).isEqualTo(Duration.ofSeconds(9_223_372_036_854L));
        for (String bad : List.of("0ms", "-5", "fast", "2 m", "", "9223372036854776ms", "9223372036855s")) { // quoted: a blank shows
            assertThatThrownBy(() -> BlockedLoops.parse(bad)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("-Dcoro.blockedThreshold='" + bad
                            + "' is not a threshold: write a positive count of milliseconds or seconds, e.g. 200ms or 2s");
        }
        assertThatThrownBy(() -> BlockedLoops.parse("fa\nst")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("-Dcoro.blockedThreshold='fa\\nst' is not a threshold: write a positive count of milliseconds"
                        + " or seconds, e.g. 200ms or 2s"); // a line break cannot split the warning
    }

    @Test
    void aThreadThatMovesOnWhileItsStackIsTakenIsReportedSayingTheStackMayBeOfWhatItRanNext() throws Exception {
        Coroutine other = Coroutine.create("other", () -> {
            while (true) {
                Coroutine.yield();
            }
        });
        Watchdog w = Watchdog.unstarted(Duration.ofMillis(100));
        String me = "thread " + Scheduler.describe(Thread.currentThread()) + " for ";
        String stackOf = "(thread " + Scheduler.describe(Thread.currentThread()) + ")";
        long t = System.nanoTime();
        assertThat(mine(w.sample(t), me)).isEmpty();
        // the stall ends as its stack is taken: the thread reaches a scheduling point meanwhile
        w.stackOf = thread -> {
            Coroutine.yield();
            return thread.getStackTrace();
        };
        List<RecordedEvent> events = JfrEventsTest.record(r -> r.enable("dev.coro.BlockedLoop"),
                () -> assertThat(mine(w.sample(t + ms(100)), me)).singleElement().asString()
                        .startsWith("main context 'main' has blocked " + me + "100.000 ms without reaching a scheduling point")
                        .contains("1 other context cannot run meanwhile. It moved on as its stack was taken (a scheduling point"
                                + " or an idle wait came): the stack " + stackOf + " may be of what it ran next, not of the stall:\n")
                        .doesNotContain("Its stack"),
                "dev.coro.BlockedLoop");
        assertThat(events).singleElement().satisfies(e -> assertThat(e.getBoolean("movedOn")).isTrue());
        // a stall whose stack is taken while it lasts is reported as before
        w.stackOf = Thread::getStackTrace;
        assertThat(mine(w.sample(t + ms(200)), me)).isEmpty(); // the first look at the new count
        assertThat(mine(w.sample(t + ms(300)), me)).singleElement().asString()
                .contains("1 other context cannot run meanwhile. Its stack " + stackOf + ":\n")
                .doesNotContain("moved on");
        other.close();
    }

    /** What {@code -Dcoro.blockedThreshold=value} sets: the threshold, or {@code refused}. */
    private static String parsed(String value) {
        try {
            return BlockedLoops.parse(value).toString();
        } catch (IllegalArgumentException e) {
            return "refused";
        }
    }

    private static long ms(long millis) {
        return TimeUnit.MILLISECONDS.toNanos(millis);
    }

    /** The reports about the calling thread. */
    private static List<String> mine(List<String> reports, String me) {
        return reports.stream().filter(r -> r.contains(me)).toList();
    }

    /** How many detector threads are alive. */
    private static long detectorThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("coro-blocked-loop-detector") && t.isAlive()).count();
    }

    /**
     * Runs {@code body} on the calling thread with the detector on ({@link #THRESHOLD}); returns the
     * {@code BlockedLoop} events about this thread, and adds to {@code logged} the messages the
     * {@code dev.coro} logger got about it.
     */
    private static List<RecordedEvent> detecting(List<String> logged, Runnable body) throws Exception {
        String me = "thread " + Scheduler.describe(Thread.currentThread()) + " for ";
        return LoggedWarnings.during(logged, m -> m.contains(me), () -> JfrEventsTest.record(
                r -> r.enable("dev.coro.BlockedLoop"), () -> {
                    BlockedLoops.detect(THRESHOLD);
                    try {
                        body.run();
                    } finally {
                        BlockedLoops.stop();
                    }
                }, "dev.coro.BlockedLoop"));
    }
}
