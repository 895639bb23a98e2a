package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.management.CoroutinesMXBean;
import dev.coro.management.CoroutinesManagement;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.management.Attribute;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.RuntimeMBeanException;
import javax.management.openmbean.CompositeData;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The JMX view, read through the platform MBean server as JConsole would: attributes and the dump operation. */
@ExtendWith(FreshThread.class)
class CoroutinesMXBeanTest {

    private static final MBeanServer SERVER = ManagementFactory.getPlatformMBeanServer();
    /** A context's state field while suspended, as the tests set it to show what a racing count reads. */
    private static final byte SUSPENDED = (byte) Coroutine.State.SUSPENDED.ordinal();

    /**
     * {@code mxBean()} is the view itself, as its Javadoc says: the same object at every call, before
     * any registration as after it, and the one that {@code register()} registers (a program reading
     * the view without JMX gets one view, not a new one per call).
     */
    @Test
    void mxBeanIsOneViewAtEveryCallAndTheOneRegistered() throws Exception {
        CoroutinesMXBean first = CoroutinesManagement.mxBean();
        assertThat(CoroutinesManagement.mxBean()).isSameAs(first);
        ObjectName name = CoroutinesManagement.register();
        assertThat(CoroutinesManagement.mxBean()).isSameAs(first);
        assertThat(ManagementFactory.getPlatformMBeanServer().isRegistered(name)).isTrue();
    }

    @Test
    void eachSchedulerThreadIsARowWithItsContextsByStateAndItsOldestParkedCoroutine() throws Exception {
        ObjectName name = CoroutinesManagement.register();
        assertThat(name).isEqualTo(new ObjectName("dev.coro:type=Coroutines"));
        assertThat(CoroutinesManagement.register()).as("a second registration does nothing").isEqualTo(name);
        assertThat(SERVER.isRegistered(name)).isTrue();
        Channel<Integer> jobs = new Channel<>("jobs", 0);
        Coroutine waiter = Coroutine.create("waiter", () -> jobs.receive());
        Coroutine yielder = Coroutine.create("yielder", () -> {
            while (true) {
                Coroutine.yield();
            }
        });
        waiter.switchTo();                      // it parks, and main runs again
        Coroutine.sleep(Duration.ofMillis(20)); // the yielder runs meanwhile; the waiter has parked longer
        Coroutine.create("fresh", () -> { });

        CompositeData row = myRow((CompositeData[]) SERVER.getAttribute(name, "Schedulers"));
        Map<String, Object> counts = new LinkedHashMap<>();
        for (String k : List.of("threadName", "virtualThread", "engine", "contexts", "created", "running",
                "suspended", "parked", "timers", "ioWaits", "oldestParked", "oldestParkedWaits")) {
            counts.put(k, row.get(k));
        }
        assertThat(counts).containsExactlyEntriesOf(linked("threadName", Thread.currentThread().getName(),
                "virtualThread", false, "engine", Engines.running(), "contexts", 4, "created", 1, "running", 1,
                "suspended", 1, "parked", 1, "timers", 0, "ioWaits", 0, "oldestParked", "coroutine 'waiter'",
                "oldestParkedWaits", "receive from channel 'jobs'"));
        assertThat((long) row.get("oldestParkedMillis")).isGreaterThanOrEqualTo(20);
        assertThat((long) row.get("schedulingPoints")).isEqualTo(Scheduler.current().schedulingPoints);
        assertThat((int) SERVER.getAttribute(name, "CoroutineCount")).isGreaterThanOrEqualTo(3);
        jobs.send(1);
        yielder.close();
    }

    @Test
    void aThreadThatNeverCreatedACoroutineIsARowWithItsMainRunning() throws Exception {
        ObjectName name = CoroutinesManagement.register();
        Coroutine.yield(); // the thread's scheduler exists from its first call; nothing else to run
        CompositeData row = myRow((CompositeData[]) SERVER.getAttribute(name, "Schedulers"));
        assertThat(List.of(row.get("contexts"), row.get("created"), row.get("running"), row.get("suspended"),
                row.get("parked"))).containsExactly(1, 0, 1, 0, 0);
    }

    @Test
    void theOldestParkedIsTheOneThatParkedFirstWhereverItStandsInTheRunList() {
        CoroutinesManagement.register(); // park times are recorded from now on
        Channel<Integer> a = new Channel<>("a", 0);
        Channel<Integer> b = new Channel<>("b", 0);
        Coroutine.create("created first", () -> {
            Coroutine.sleep(Duration.ofMillis(5));
            a.receive(); // parks 5 ms after the other, though it comes first in the run list
        });
        Coroutine createdSecond = Coroutine.create("created second", () -> b.receive());
        createdSecond.switchTo(); // parks first
        Coroutine.sleep(Duration.ofMillis(10));
        SchedulerCensus census = SchedulerCensus.of(Scheduler.current());
        assertThat(census.parked).isEqualTo(2);
        assertThat(census.oldestParked.describe()).isEqualTo("coroutine 'created second'");
        a.send(1);
        b.send(2);
    }

    /**
     * The oldest parked context's wait is named with the generator whose body it waits in, as a dump
     * names it: the row has no frames to show that the channel is the body's, not the context's own code's.
     */
    @Test
    void theOldestParkedsWaitNamesTheGeneratorWhoseBodyItWaitsInAsADumpDoes() throws Exception {
        ObjectName name = CoroutinesManagement.register(); // park times are recorded from now on
        Channel<String> input = new Channel<>("input", 0);
        Generator<String> lines = Generator.of("lines", out -> out.emit(input.receive()));
        Coroutine reader = Coroutine.create("reader", () -> lines.next());
        reader.switchTo(); // parks inside the body of 'lines'
        CompositeData row = myRow((CompositeData[]) SERVER.getAttribute(name, "Schedulers"));
        assertThat(row.get("oldestParked")).isEqualTo("coroutine 'reader'");
        assertThat(row.get("oldestParkedWaits")).isEqualTo("receive from channel 'input', inside generator 'lines'");
        assertThat(Coroutine.dump()).contains("  [1] coroutine 'reader': PARKED, waits to "
                + row.get("oldestParkedWaits") + "\n");
        reader.close();
    }

    /**
     * A pool thread's main waits for work whenever no body of it runs, and parks for it again as it
     * takes each body: it parked just before the coroutines of the last body, so as the oldest parked
     * it hid every coroutine of the thread stuck since. That wait is the thread's idle one; the row
     * names the oldest parked coroutine, and the main only when nothing else is parked.
     */
    @Test
    @Timeout(30)
    void aPoolThreadsOldestParkedIsItsStuckCoroutineNotItsMainWaitingForWork() throws Exception {
        ObjectName name = CoroutinesManagement.register(); // park times are recorded from now on
        CompletableFuture<Void> release = new CompletableFuture<>();
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            try { // released before the close, which waits for 'stuck'
                String thread = PoolName.of(pool) + "-0";
                assertThat(pool.submit(() -> "warm").join()).isEqualTo("warm");
                assertThat(row(name, thread).get("oldestParked")).as("nothing else parked: its main").isEqualTo("main context 'main'");
                assertThat(row(name, thread).get("oldestParkedWaits")).isEqualTo("take work from " + PoolName.of(pool));
                pool.submit(() -> {
                    Coroutine.create("stuck", () -> Coroutine.await(release));
                    Coroutine.yield(); // 'stuck' parks
                    return null;
                }).join();
                CompositeData row = row(name, thread);
                assertThat(row.get("parked")).isEqualTo(2);
                assertThat(row.get("oldestParked")).isEqualTo("coroutine 'stuck'");
                assertThat((String) row.get("oldestParkedWaits")).startsWith("await java.util.concurrent.CompletableFuture@");
            } finally {
                release.complete(null);
            }
        }
    }

    private static CompositeData row(ObjectName name, String thread) throws Exception {
        return Arrays.stream((CompositeData[]) SERVER.getAttribute(name, "Schedulers"))
                .filter(r -> r.get("threadName").equals(thread)).findFirst().orElseThrow();
    }

    /**
     * The view reads a thread's park times without stopping it, so a context may park after the view
     * read its clock: its park time is then later than that reading. Such a park has lasted no time
     * yet, not a negative one.
     */
    @Test
    void aParkRecordedAfterTheViewReadItsClockCountsAsParkedForNoTimeNeverANegativeOne() throws Exception {
        ObjectName name = CoroutinesManagement.register(); // park times are recorded from now on
        Channel<Integer> jobs = new Channel<>("jobs", 0);
        Coroutine waiter = Coroutine.create("waiter", () -> jobs.receive());
        waiter.switchTo();
        waiter.context.parkedSince = System.nanoTime() + TimeUnit.HOURS.toNanos(1); // as if it parked after the reading
        CompositeData row = myRow((CompositeData[]) SERVER.getAttribute(name, "Schedulers"));
        assertThat(row.get("oldestParked")).isEqualTo("coroutine 'waiter'");
        assertThat((long) row.get("oldestParkedMillis")).isZero();
        jobs.send(1);
    }

    /**
     * The view counts a thread's contexts while they move: a context read as parked may run again
     * before its wait is read. The row named it the oldest parked with no wait
     * ({@code oldestParked=coroutine 'first', oldestParkedWaits=}), a row no parked context can have;
     * the oldest parked named is one whose wait was read, with that wait.
     */
    @Test
    void theOldestParkedIsNamedOnlyWithItsWaitEvenIfTheFirstParkedRanAgainAsItWasCounted() throws Exception {
        ObjectName name = CoroutinesManagement.register(); // park times are recorded from now on
        Channel<Integer> jobs = new Channel<>("jobs", 0);
        Channel<Integer> other = new Channel<>("other", 0);
        Coroutine first = Coroutine.create("first", () -> jobs.receive());
        Coroutine second = Coroutine.create("second", () -> other.receive());
        first.switchTo();
        second.switchTo();
        Wait firstsWait = first.context.waitingFor;
        first.context.waitingFor = null; // as if it ran again between the reading of its state and of its wait
        CompositeData row;
        try {
            row = myRow((CompositeData[]) SERVER.getAttribute(name, "Schedulers"));
        } finally {
            first.context.waitingFor = firstsWait;
        }
        assertThat(row.get("parked")).isEqualTo(2);
        assertThat(row.get("oldestParked")).isEqualTo("coroutine 'second'");
        assertThat(row.get("oldestParkedWaits")).isEqualTo("receive from channel 'other'");
        assertThat((long) row.get("oldestParkedMillis")).isNotNegative();
        jobs.send(1);
        other.send(2);
        first.join();
        second.join();
    }

    /**
     * One context runs on a thread at a time, but a switch moves the one leaving and the one arriving
     * with plain writes while the view counts: reading the one that left before it left and the one that
     * arrived after, the row said {@code running=2}. The count re-reads the first one it read as running:
     * one that still reads so leaves the second uncounted (missed, as a context that moves may be), so the
     * row says one running, never two.
     */
    @Test
    void twoContextsReadAsRunningCountAsOneRunningTheOtherMissed() throws Exception {
        ObjectName name = CoroutinesManagement.register();
        Coroutine yielder = Coroutine.create("yielder", () -> {
            while (true) {
                Coroutine.yield();
            }
        });
        yielder.switchTo(); // it yields back: main runs, the yielder is suspended
        yielder.context.state = Context.RUNNING; // as a count racing a switch from main to it reads it
        CompositeData row;
        try {
            row = myRow((CompositeData[]) SERVER.getAttribute(name, "Schedulers"));
        } finally {
            yielder.context.state = SUSPENDED;
        }
        assertThat(List.of(row.get("contexts"), row.get("created"), row.get("running"), row.get("suspended"),
                row.get("parked"))).containsExactly(1, 0, 1, 0, 0);
        yielder.close();
    }

    /**
     * A switch from main to another context made between the reading of main's state and the reading of
     * the other's: both read as running. The first read is the staler; read again, main is counted as
     * what it is now (suspended), and the other as the one running. The switch is made here by the wait
     * of a parked coroutine that stands between the two in the run list, as the count reads its reason.
     */
    @Test
    void aContextReadAsRunningThatLeftBeforeTheNextWasReadAsRunningIsCountedAsWhatItReadsAgain() throws Exception {
        ObjectName name = CoroutinesManagement.register(); // park times are recorded from now on: the wait is read
        CompositeData row;
        try (SwitchAsAWaitIsRead scene = new SwitchAsAWaitIsRead()) {
            row = myRow((CompositeData[]) SERVER.getAttribute(name, "Schedulers"));
        }
        assertThat(List.of(row.get("contexts"), row.get("created"), row.get("running"), row.get("suspended"),
                row.get("parked"))).containsExactly(3, 0, 1, 1, 1);
    }

    @Test
    void theDumpListsEveryThreadBoundedEachDumpedByItselfOrFromOutsideIfItDoesNotAnswer() throws Exception {
        ObjectName name = CoroutinesManagement.register();
        for (String n : List.of("a", "b", "c")) {
            Coroutine.create(n, () -> { });
        }
        // 'helper' waits in its event loop (main awaits a future): it answers, with the frames of its coroutines
        CompletableFuture<Void> release = new CompletableFuture<>();
        CountDownLatch helperReady = new CountDownLatch(1);
        Thread helper = Thread.ofPlatform().name("helper").start(() -> {
            Channel<Integer> tick = new Channel<>("tick", 0);
            Coroutine ticker = Coroutine.create("ticker", () -> tick.receive());
            ticker.switchTo();
            helperReady.countDown();
            Coroutine.await(release);
            ticker.close();
        });
        // 'stuck' blocks outside the library with a coroutine left: it cannot answer
        CountDownLatch unstick = new CountDownLatch(1);
        CountDownLatch stuckReady = new CountDownLatch(1);
        Thread stuck = Thread.ofPlatform().name("stuck").start(() -> {
            Coroutine left = Coroutine.create("left", Coroutine::yield);
            left.switchTo();
            stuckReady.countDown();
            try {
                unstick.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            left.switchTo();
        });
        helperReady.await();
        stuckReady.await();
        String dump;
        try {
            dump = (String) SERVER.invoke(name, "dump", new Object[] {2}, new String[] {"int"});
        } finally {
            release.complete(null);
            unstick.countDown();
            helper.join();
            stuck.join();
        }
        assertThat(dump).matches("(?s)\\d+ scheduler threads?\n.*");
        assertThat(section(dump, Thread.currentThread().getName())).startsWith(
                "thread '" + Thread.currentThread().getName() + "': 4 contexts, current index 0\n"
                        + "  [0] main: RUNNING (the caller)\n"
                        + "        at dev.coro.management.CoroutinesManagement$View.dump(")
                .endsWith(" more\n"
                        + "  [1] coroutine 'a': NEW\n"
                        + "  ... and 2 more contexts (Coroutine.dump(4) lists them all)\n");
        assertThat(section(dump, "helper")).startsWith("thread 'helper': 2 contexts, current index 0\n"
                        + "  [0] main: PARKED (current), waits to await java.util.concurrent.CompletableFuture@")
                .contains("\n  [1] coroutine 'ticker': PARKED, waits to receive from channel 'tick'\n"
                        + "        at dev.coro.Channel.receive(");
        assertThat(section(dump, "stuck")).startsWith("thread 'stuck': 2 contexts, listed from outside (it did not"
                        + " reach a scheduling point within 500 ms): no frames\n"
                        + "  [0] main: RUNNING\n"
                        + "  [1] coroutine 'left': SUSPENDED\n"
                        + "  thread 'stuck' (#" + stuck.threadId() + ") is at:\n")
                .contains("at java.base/java.util.concurrent.CountDownLatch.await(");
        assertThatThrownBy(() -> SERVER.invoke(name, "dump", new Object[] {-1}, new String[] {"int"}))
                .isInstanceOf(RuntimeMBeanException.class).cause().isInstanceOf(IllegalArgumentException.class)
                .hasMessage("main context 'main' cannot dump -1 contexts per thread: the count must be 0 or more");
    }

    /**
     * A thread listed from outside names, as its own dump does, the generator whose body each context
     * is in: a coroutine parked inside a body waits on the body's channel, not one of its own code's,
     * and main blocked inside a body holds the thread there; no frames of the listing show either.
     */
    @Test
    @Timeout(30)
    void aThreadListedFromOutsideNamesTheGeneratorWhoseBodyEachContextIsInAsItsOwnDumpDoes() throws Exception {
        CountDownLatch unstick = new CountDownLatch(1);
        CountDownLatch stuckReady = new CountDownLatch(1);
        String[] own = new String[1];
        Thread stuck = Thread.ofPlatform().name("stuck-in-bodies").start(() -> {
            Channel<String> input = new Channel<>("input", 0);
            Generator<String> lines = Generator.of("lines", out -> out.emit(input.receive()));
            Coroutine reader = Coroutine.create("reader", () -> lines.next());
            reader.switchTo(); // parks inside the body of 'lines'
            own[0] = Coroutine.dump();
            Generator<Integer> blocking = Generator.of("blocking", out -> {
                stuckReady.countDown();
                try {
                    unstick.await(); // main holds the thread inside the body of 'blocking'
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                out.emit(1);
            });
            blocking.next();
            reader.close();
        });
        String dump;
        try {
            stuckReady.await();
            dump = CoroutinesManagement.mxBean().dump(5);
        } finally {
            unstick.countDown();
            stuck.join();
        }
        String parked = "  [1] coroutine 'reader': PARKED, waits to receive from channel 'input', inside generator 'lines'\n";
        assertThat(own[0]).contains(parked);
        assertThat(section(dump, "stuck-in-bodies")).startsWith("thread 'stuck-in-bodies': 2 contexts, listed from outside"
                + " (it did not reach a scheduling point within 500 ms): no frames\n"
                + "  [0] main: RUNNING, inside generator 'blocking'\n"
                + parked);
    }

    /**
     * A thread's own dump, made in its idle wait while the context current there is parked inside a
     * generator's body, names that generator after the wait, as it does for every other context and as
     * the listing from outside, the row's oldest parked wait and the park event do: the wait is the
     * body's, not one of the context's own code. It named the wait alone for the current context.
     */
    @Test
    @Timeout(30)
    void aThreadsOwnDumpNamesTheGeneratorWhoseBodyTheCurrentContextIsParkedIn() throws Exception {
        CompletableFuture<String> line = new CompletableFuture<>();
        CountDownLatch inBody = new CountDownLatch(1);
        String[] got = new String[1];
        Thread waiting = Thread.ofPlatform().name("waits-in-a-body").start(() -> {
            Generator<String> lines = Generator.of("lines", out -> {
                inBody.countDown();
                out.emit(Coroutine.await(line)); // parks inside the body: then the thread idles, 'reader' current
            });
            Coroutine reader = Coroutine.create("reader", () -> got[0] = lines.next());
            reader.join();
        });
        String dump;
        try {
            inBody.await();
            dump = CoroutinesManagement.mxBean().dump(5);
        } finally {
            line.complete("a line");
            waiting.join();
        }
        assertThat(got[0]).isEqualTo("a line");
        String section = section(dump, "waits-in-a-body");
        assertThat(section).startsWith("thread 'waits-in-a-body': 2 contexts, current index 1\n");
        assertThat(section.lines().filter(l -> l.startsWith("  [1] ")).findFirst().orElseThrow())
                .startsWith("  [1] coroutine 'reader': PARKED (current), waits to await java.util.concurrent.CompletableFuture@")
                .endsWith(", inside generator 'lines'");
    }

    /**
     * The view's dump of its caller's own thread lists the caller, {@code (the caller)}, with its
     * frames as {@code Coroutine.dump} does: its call of the view's {@code dump} first, then where it
     * made it, none of the dump's own; from main and from a coroutine, called on the view or through
     * the MBean server.
     */
    @Test
    void theDumpOfTheCallersOwnThreadListsTheCallersFramesFromItsCallOfTheViewsDump() throws Exception {
        ObjectName name = CoroutinesManagement.register();
        CoroutinesMXBean view = CoroutinesManagement.mxBean();
        String me = Thread.currentThread().getName();
        String test = "dev.coro.CoroutinesMXBeanTest.theDumpOfTheCallersOwnThreadListsTheCallersFramesFromItsCallOfTheViewsDump";
        String viewsDump = "        at dev.coro.management.CoroutinesManagement$View.dump(CoroutinesManagement.java:_)\n";
        List<String> dumps = new ArrayList<>();
        Coroutine reporter = Coroutine.create("reporter", () -> dumps.add(view.dump(2)));
        assertThat(withoutLineNumbers(section(view.dump(2), me))).startsWith(
                "thread '" + me + "': 2 contexts, current index 0\n"
                        + "  [0] main: RUNNING (the caller)\n"
                        + viewsDump
                        + "        at " + test + "(CoroutinesMXBeanTest.java:_)\n")
                .contains("  [1] coroutine 'reporter': NEW\n").doesNotContain(DUMP_MACHINERY);
        reporter.switchTo();
        assertThat(withoutLineNumbers(section(dumps.get(0), me))).as("a coroutine's: its body's entry cut")
                .contains("  [0] main: SUSPENDED\n        at dev.coro.Coroutine.switchTo(Coroutine.java:_)\n")
                .endsWith("  [1] coroutine 'reporter': RUNNING (the caller)\n"
                        + viewsDump
                        + "        at " + test.replace(".theDump", ".lambda$theDump") + "$_(CoroutinesMXBeanTest.java:_)\n")
                .doesNotContain(DUMP_MACHINERY);
        String served = (String) SERVER.invoke(name, "dump", new Object[] {1}, new String[] {"int"});
        assertThat(withoutLineNumbers(section(served, me))).as("through the server: its call of the view's dump first")
                .startsWith("thread '" + me + "': 1 context, current index 0\n"
                        + "  [0] main: RUNNING (the caller)\n"
                        + viewsDump)
                .doesNotContain(DUMP_MACHINERY);
    }

    /** Frames of the dump's own making: none of them is the caller's. */
    private static final String[] DUMP_MACHINERY = {"ThreadDump", "StackTraces", "MonitorSupport", "getStackTrace",
        "runningFrames", "trampoline", "ThreadStack", "MainStack", "Scheduler", "Context.runBody"};

    /** {@code dump} with its line numbers and lambdas' numbers as {@code _}. */
    private static String withoutLineNumbers(String dump) {
        return dump.replaceAll("\\.java:\\d+\\)", ".java:_)").replaceAll("(lambda\\$\\w+)\\$\\d+\\(", "$1\\$_(");
    }

    @Test
    void theBlockedThresholdAttributeTurnsTheDetectorOnAndOff() throws Exception {
        ObjectName name = CoroutinesManagement.register();
        try {
            SERVER.setAttribute(name, new Attribute("BlockedThresholdMillis", 300L));
            assertThat(BlockedLoops.threshold()).contains(Duration.ofMillis(300));
            assertThat(SERVER.getAttribute(name, "BlockedThresholdMillis")).isEqualTo(300L);
        } finally {
            SERVER.setAttribute(name, new Attribute("BlockedThresholdMillis", 0L));
        }
        assertThat(BlockedLoops.threshold()).isEmpty();
        assertThat(SERVER.getAttribute(name, "BlockedThresholdMillis")).isEqualTo(0L);
        assertThatThrownBy(() -> SERVER.setAttribute(name, new Attribute("BlockedThresholdMillis", -5L)))
                .isInstanceOf(RuntimeMBeanException.class).cause().isInstanceOf(IllegalArgumentException.class)
                .hasMessage("thread '" + Thread.currentThread().getName() + "' (#" + Thread.currentThread().threadId()
                        + ") cannot set the blocked-loop threshold to -5 ms: it must be positive, or 0 to turn the detector off");
        assertThat(Scheduler.currentOrNull()).as("the refusal made the thread no scheduler").isNull();
    }

    /**
     * The view's refusals name their caller, as every refusal of the library does (they named none): a coroutine as
     * itself, a thread that has no scheduler as a thread, none being made for the message.
     */
    @Test
    void theViewsRefusalsNameTheCallerAThreadWithoutASchedulerAsAThreadAndMakeItNone() throws Exception {
        CoroutinesMXBean view = CoroutinesManagement.mxBean();
        List<String> messages = new ArrayList<>();
        List<Runnable> calls = List.of(() -> view.setBlockedThresholdMillis(-5), () -> view.dump(-1));
        CompletableFuture<Boolean> scheduler = new CompletableFuture<>();
        Thread plain = Thread.ofPlatform().name("plain").start(() -> {
            for (Runnable call : calls) {
                Throwable e = org.assertj.core.api.Assertions.catchThrowable(call::run);
                messages.add(e.getClass().getSimpleName() + ": " + e.getMessage());
            }
            scheduler.complete(Scheduler.currentOrNull() != null);
        });
        plain.join();
        Coroutine.create("operator", () -> {
            for (Runnable call : calls) {
                Throwable e = org.assertj.core.api.Assertions.catchThrowable(call::run);
                messages.add(e.getClass().getSimpleName() + ": " + e.getMessage());
            }
        }).switchTo();
        assertThat(scheduler).as("no refusal made the thread a scheduler").isCompletedWithValue(false);
        String threshold = " cannot set the blocked-loop threshold to -5 ms: it must be positive, or 0 to turn the detector off";
        String dump = " cannot dump -1 contexts per thread: the count must be 0 or more";
        String caller = "IllegalArgumentException: thread 'plain' (#" + plain.threadId() + ")";
        String operator = "IllegalArgumentException: coroutine 'operator'";
        assertThat(messages).containsExactly(caller + threshold, caller + dump, operator + threshold, operator + dump);
        assertThat(view.getBlockedThresholdMillis()).isZero();
    }

    @Test
    void aThresholdTooLongToCountInMillisecondsReadsAsTheLargestCount() throws Exception {
        ObjectName name = CoroutinesManagement.register();
        try {
            BlockedLoops.detect(Duration.ofSeconds(Long.MAX_VALUE)); // "never", in effect
            assertThat(SERVER.getAttribute(name, "BlockedThresholdMillis")).isEqualTo(Long.MAX_VALUE);
        } finally {
            BlockedLoops.stop();
        }
    }

    /**
     * The threshold the attribute shows set again changes nothing, as the same threshold given to
     * {@code BlockedLoops.detect} again does: one finer than a millisecond stays as it is.
     */
    @Test
    @Timeout(20)
    void theThresholdTheAttributeShowsSetAgainKeepsAThresholdFinerThanAMillisecond() throws Exception {
        ObjectName name = CoroutinesManagement.register();
        try {
            BlockedLoops.detect(Duration.ofNanos(1_500_000));
            Object shown = SERVER.getAttribute(name, "BlockedThresholdMillis");
            assertThat(shown).isEqualTo(1L);
            SERVER.setAttribute(name, new Attribute("BlockedThresholdMillis", shown));
            assertThat(BlockedLoops.threshold()).contains(Duration.ofNanos(1_500_000));
            SERVER.setAttribute(name, new Attribute("BlockedThresholdMillis", 2L));
            assertThat(BlockedLoops.threshold()).contains(Duration.ofMillis(2));
        } finally {
            BlockedLoops.stop();
        }
    }

    @Test
    void theViewReadWithoutJmxIsTheRegisteredOneAndItsDumpTakesZeroContextsPerThread() throws Exception {
        ObjectName name = CoroutinesManagement.register();
        assertThat(SERVER.isRegistered(name)).isTrue();
        assertThat(CoroutinesManagement.register()).isEqualTo(name);
        CoroutinesMXBean view = CoroutinesManagement.mxBean();
        assertThat(view).isNotNull().isSameAs(CoroutinesManagement.mxBean());
        Coroutine.create("unlisted", () -> { });
        assertThat(section(view.dump(0), Thread.currentThread().getName())).isEqualTo(
                "thread '" + Thread.currentThread().getName() + "': 2 contexts, current index 0\n"
                        + "  ... and 2 more contexts (Coroutine.dump(2) lists them all)\n");
    }

    @Test
    void aViewUnregisteredFromTheServerIsRegisteredAgainByTheNextRegistration() throws Exception {
        ObjectName name = CoroutinesManagement.register();
        SERVER.unregisterMBean(name); // as a container undeploying an application, or a test cleaning up, does
        assertThat(SERVER.isRegistered(name)).isFalse();
        assertThat(CoroutinesManagement.register()).isEqualTo(name);
        assertThat(SERVER.isRegistered(name)).as("register() leaves the view registered, whatever happened before").isTrue();
        assertThat(SERVER.getAttribute(name, "CoroutineCount")).isEqualTo(CoroutinesManagement.mxBean().getCoroutineCount());
        assertThat(CoroutinesManagement.mxBean()).as("the same view as before").isSameAs(CoroutinesManagement.mxBean());
        SERVER.unregisterMBean(name);
        BlockedLoops.detect(Duration.ofSeconds(100));
        try {
            assertThat(SERVER.isRegistered(name)).as("turning the detector on registers the view, as it says").isTrue();
        } finally {
            BlockedLoops.stop();
        }
    }

    @Test
    @Tag("child-jvm") // its checks run in child JVMs, which mutation testing does not mutate
    void nothingIsRegisteredUnlessAskedAndThePropertiesTurnTheViewAndTheDetectorOnAtTheFirstScheduler() throws Exception {
        assertThat(probe()).isEqualTo("registered=false detector=Optional.empty detectorThread=false\n");
        assertThat(probe("-Dcoro.jmx=true")).isEqualTo("registered=true detector=Optional.empty detectorThread=false\n");
        assertThat(probe("-Dcom.sun.management.jmxremote")).startsWith("registered=true ");
        assertThat(probe("-Dcoro.blockedThreshold=150ms"))
                .isEqualTo("registered=true detector=Optional[PT0.15S] detectorThread=true\n");
        assertThat(probe("-Dcoro.blockedThreshold=fast")).contains("WARNING: coro does not detect blocked loops: "
                        + "-Dcoro.blockedThreshold='fast' is not a threshold: write a positive count of milliseconds"
                        + " or seconds, e.g. 200ms or 2s")
                .endsWith("registered=false detector=Optional.empty detectorThread=false\n");
    }

    @Test
    @Tag("child-jvm") // the engine is chosen once per JVM
    @Timeout(300)
    void inAJvmWhereNoEngineCanRunTheViewShowsNoSchedulerInsteadOfFailing() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = List.of(java.toString(), "-Dcoro.engine=fibers", "-cp", System.getProperty("java.class.path"),
                ViewWithoutEngine.class.getName());
        Process child = ChildJvmLocale.processBuilder(command).redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(5, TimeUnit.MINUTES)).as("the child JVM ended").isTrue();
        assertThat(out).as("it printed:%n%s", out).isEqualTo("""
                create threw java.lang.UnsupportedOperationException: cannot choose a coroutine engine: -Dcoro.engine='fibers' \
                is not one of auto, continuation, threads
                Schedulers: 0 rows
                CoroutineCount: 0
                dump: 0 scheduler threads
                """);
        assertThat(child.exitValue()).as("exit status; it printed:%n%s", out).isZero();
    }

    /** A program of a JVM whose engine cannot run: a coroutine refused, then the view read as JConsole reads it. */
    static final class ViewWithoutEngine {
        public static void main(String[] args) throws Exception {
            try {
                Coroutine.create("first", () -> { });
            } catch (UnsupportedOperationException e) {
                System.out.println("create threw " + e);
            }
            ObjectName name = CoroutinesManagement.register();
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            for (String attribute : List.of("Schedulers", "CoroutineCount")) {
                try {
                    Object v = server.getAttribute(name, attribute);
                    System.out.println(attribute + ": " + (v instanceof CompositeData[] rows ? rows.length + " rows" : v));
                } catch (Exception e) {
                    System.out.println(attribute + " threw " + e);
                }
            }
            System.out.println("dump: " + ((String) server.invoke(name, "dump", new Object[] {5}, new String[] {"int"})).strip());
        }
    }

    /** What {@link Probe} prints in a child JVM started with {@code flags}: its standard error, then its output. */
    private static String probe(String... flags) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(java.toString(), "--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED",
                "-Dcoro.engine=" + System.getProperty("coro.engine", "auto")));
        command.addAll(Arrays.asList(flags));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Probe.class.getName()));
        Path err = Files.createTempFile("coro-probe", ".err");
        try {
            Process child = ChildJvmLocale.processBuilder(command).redirectError(err.toFile()).start();
            String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(child.waitFor(2, TimeUnit.MINUTES)).as("the child JVM ended").isTrue();
            String all = Files.readString(err) + out;
            assertThat(child.exitValue()).as("exit status of %s, which printed:%n%s", command, all).isZero();
            return all;
        } finally {
            Files.delete(err);
        }
    }

    /** A program that creates its first coroutine, then says whether the view and the detector are on. */
    static final class Probe {
        public static void main(String[] args) throws Exception {
            Coroutine.create("first", () -> { }).switchTo();
            boolean registered = ManagementFactory.getPlatformMBeanServer()
                    .isRegistered(new ObjectName(CoroutinesManagement.OBJECT_NAME));
            boolean thread = Thread.getAllStackTraces().keySet().stream()
                    .anyMatch(t -> t.getName().equals("coro-blocked-loop-detector"));
            System.out.println("registered=" + registered + " detector=" + BlockedLoops.threshold() + " detectorThread=" + thread);
        }
    }

    /** The dump's section about thread {@code name}: from its header line to the next blank line. */
    static String section(String dump, String name) {
        int start = dump.indexOf("\nthread '" + name + "': ");
        assertThat(start).as("a section for thread '%s' in:%n%s", name, dump).isNotNegative();
        int end = dump.indexOf("\n\n", start + 1);
        return dump.substring(start + 1, end < 0 ? dump.length() : end + 1);
    }

    private static CompositeData myRow(CompositeData[] rows) {
        long me = Thread.currentThread().threadId();
        return Arrays.stream(rows).filter(r -> (long) r.get("threadId") == me).findFirst().orElseThrow();
    }

    private static Map<String, Object> linked(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    /**
     * A dump the view asks of a thread that waits in its event loop after a body ended (before the
     * next context runs) marks no context {@code (current)}, and shows each parked one with its own
     * frames: the index of the ended context belongs to another by then.
     */
    @Test
    void aDumpMadeWhileTheThreadIdlesAfterABodyEndedMarksNoContextCurrentAndShowsEachOnesFrames() throws Exception {
        CoroutinesMXBean view = CoroutinesManagement.mxBean();
        Scheduler mine = Scheduler.current();
        CompletableFuture<Void> go = new CompletableFuture<>();
        CompletableFuture<Void> ending = new CompletableFuture<>();
        CompletableFuture<String> dumped = new CompletableFuture<>();
        Channel<Integer> ch = new Channel<>("never", 0);
        Coroutine ender = Coroutine.create("ender", () -> {
            Coroutine.await(go);
            ending.complete(null);
        });
        Coroutine waiter = Coroutine.create("waiter", () -> ch.receive());
        ender.switchTo(); // the ender parks in its await, the waiter runs and parks, then main runs again
        Thread other = Thread.ofPlatform().name("asker").start(() -> {
            go.complete(null); // the ender runs to its end while main and the waiter are parked
            ending.join();
            while (!mine.loop.isIdle()) { // the thread waits in its event loop after the ender's end
                Thread.onSpinWait();
            }
            dumped.complete(view.dump(5));
        });
        String dump = Coroutine.await(dumped);
        other.join();
        waiter.close();
        assertThat(dump).as(dump).doesNotContain("(current)");
        String waiterSection = dump.substring(dump.indexOf("  [1] coroutine 'waiter'"));
        assertThat(waiterSection).as(dump).startsWith("  [1] coroutine 'waiter': PARKED, waits to receive from channel 'never'\n")
                .contains("at dev.coro.Channel.receive(");
    }

    /**
     * A pool thread waiting for work after a body ended has no current context: its dump's header says
     * so rather than give the ended body's index, which is past the end of its one-context list.
     */
    @Test
    @Timeout(20)
    void aDumpOfAPoolThreadWaitingForWorkAfterABodyEndedNamesNoCurrentIndexPastItsContexts() throws Exception {
        try (CoroutinePool p = CoroutinePool.start(1)) {
            assertThat(p.submit(() -> "x").join()).isEqualTo("x");
            String name = PoolName.of(p);
            String dump;
            do {
                dump = CoroutinesManagement.mxBean().dump(5);
            } while (!dump.contains("waits to take work from " + name));
            String section = dump.substring(dump.indexOf("thread '" + name));
            assertThat(section).as(dump)
                    .startsWith("thread '" + name + "-0': 1 context, none current (the thread waits in its event loop after a body ended)\n"
                            + "  [0] main: PARKED, waits to take work from " + name + "\n");
        }
    }
}
