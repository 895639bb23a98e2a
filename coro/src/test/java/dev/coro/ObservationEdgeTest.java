package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.management.CoroutinesManagement;
import dev.coro.management.SchedulerInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The observers (dumps, the JMX view, the JFR events, the blocked-loop detector) against hostile input
 * and edges: user objects whose text spans lines, is huge or dumps again, run lists that change as
 * they are listed, many threads blocked at once and ending, recordings toggled midway.
 */
@ExtendWith(FreshThread.class)
class ObservationEdgeTest {

    /** A future that prints as the text it was given. */
    static final class Printed<T> extends CompletableFuture<T> {
        private final String text;

        Printed(String text) {
            this.text = text;
        }

        @Override
        public String toString() {
            return text;
        }
    }

    /** A text that would forge a context's line in a dump if printed as it is. */
    private static final String FORGING = "line one\nline two\r\n  [9] coroutine 'fake': RUNNING\u2028end";
    /** How a dump shows {@link #FORGING}: on the line of the context that waits. */
    private static final String FORGING_SHOWN = "line one\\nline two\\r\\n  [9] coroutine 'fake': RUNNING\\u2028end";

    @Test
    void aWaitedOnObjectWhoseTextSpansLinesOrIsHugeStaysOnItsContextsLineInTheDumpsTheViewAndTheParkEvent() throws Exception {
        Printed<String> forging = new Printed<>(FORGING);
        Printed<String> huge = new Printed<>("x".repeat(100_000));
        CoroutinesManagement.mxBean(); // parks record their time from here on, for the oldest parked
        List<RecordedEvent> parks = JfrEventsTest.record(r -> r.enable("dev.coro.Park").withThreshold(Duration.ZERO), () -> {
            Coroutine.create("forged", () -> Coroutine.await(forging)).switchTo();
            Coroutine.create("huge", () -> Coroutine.await(huge)).switchTo();
            Coroutine.create("selects", () -> new Select<String>().onComplete(forging, v -> v).select()).switchTo();
            String hugeShown = "x".repeat(SafeText.NAME_LIMIT) + "\u2026(+" + (100_000 - SafeText.NAME_LIMIT) + " chars)";
            List<String> expected = List.of(
                    "  [1] coroutine 'forged': PARKED, waits to await " + FORGING_SHOWN,
                    "  [2] coroutine 'huge': PARKED, waits to await " + hugeShown,
                    "  [3] coroutine 'selects': PARKED, waits to select over completion of " + FORGING_SHOWN);
            // the view's dump lists every scheduler thread of the JVM (those earlier tests left alive too): this one's section
            String mine = CoroutinesMXBeanTest.section(CoroutinesManagement.mxBean().dump(10), Thread.currentThread().getName());
            for (String dump : List.of(Coroutine.dump(), mine)) {
                List<String> contexts = dump.lines().filter(l -> l.startsWith("  [")).toList();
                assertThat(contexts).hasSize(4);
                assertThat(contexts.subList(1, 4)).containsExactlyElementsOf(expected);
            }
            SchedulerInfo row = CoroutinesManagement.mxBean().getSchedulers().stream()
                    .filter(s -> s.threadId() == Thread.currentThread().threadId()).findFirst().orElseThrow();
            assertThat(row.oldestParked()).isEqualTo("coroutine 'forged'");
            assertThat(row.oldestParkedWaits()).isEqualTo("await " + FORGING_SHOWN);
            forging.complete("done");
            huge.complete("done");
            Coroutine.yield();
            Coroutine.yield();
            Coroutine.yield();
            assertThat(Coroutine.dump().lines().filter(l -> l.startsWith("  ["))).hasSize(1);
        }, "dev.coro.Park");
        assertThat(parks).extracting(e -> e.getString("coroutine") + ": " + e.getString("waitsFor"))
                .containsExactlyInAnyOrder(
                        "forged: await " + FORGING_SHOWN,
                        "huge: await " + "x".repeat(SafeText.NAME_LIMIT) + "\u2026(+" + (100_000 - SafeText.NAME_LIMIT) + " chars)",
                        "selects: select over completion of " + FORGING_SHOWN);
    }

    /**
     * A thread listed from outside (it did not answer a JMX dump: here one that creates and closes
     * coroutines in a loop without a scheduling point) while its run list changes under the listing:
     * every entry is a live context, each named once, and the count in the header is theirs.
     */
    @Test
    void aThreadListedFromOutsideWhileItsRunListChurnsNamesEachLiveContextOnceAndNoEndedOne() throws Exception {
        CompletableFuture<Scheduler> churning = new CompletableFuture<>();
        AtomicBoolean stop = new AtomicBoolean();
        CompletableFuture<Integer> churner = Peer.start("churner", () -> {
            for (int k = 0; k < 3; k++) {
                Coroutine.create("keep-" + k, () -> { });
            }
            churning.complete(Scheduler.current());
            int i = 0;
            while (!stop.get() && i < 20_000_000) { // no scheduling point: a create and a close of a NEW one are none
                Coroutine a = Coroutine.create("churn-" + i++, () -> { });
                Coroutine b = Coroutine.create("churn-" + i++, () -> { });
                a.close(); // b takes a's place in the run list
                b.close();
            }
            Coroutine.create("last", () -> { }).switchTo(); // a scheduling point: the keepers end
            return i;
        });
        Scheduler s = churning.join();
        String bad = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        try {
            for (int n = 0; n < 5_000 && bad == null && System.nanoTime() < deadline; n++) {
                String listing = MonitorSupport.outside(s, Integer.MAX_VALUE, "a test asked");
                List<String> entries = listing.lines().filter(l -> l.startsWith("  [")).toList();
                Set<String> names = new HashSet<>();
                for (String e : entries) {
                    String name = e.substring(e.indexOf(']') + 2, e.lastIndexOf(':'));
                    if (!names.add(name) || !e.endsWith(": NEW") && !e.endsWith(": RUNNING")) {
                        bad = listing;
                    }
                }
                if (!listing.startsWith("thread 'churner': " + entries.size() + " contexts, listed from outside (a test asked)")) {
                    bad = listing;
                }
            }
        } finally {
            stop.set(true);
        }
        assertThat(churner.join()).isPositive();
        assertThat(bad).as("a listing naming a context twice, an ended one, or counting them wrong").isNull();
    }

    /** A value whose text would forge lines. */
    record Forging() {
        @Override
        public String toString() {
            return FORGING;
        }
    }

    /**
     * The messages that name a user's object inline (a value a select could not send, a cancelled or
     * failed stage) keep it to one line too, as the dumps do.
     */
    @Test
    void aMessageNamingAUsersObjectInlineKeepsItsTextToOneLine() {
        Channel<Object> closed = new Channel<>("closed", 1);
        closed.close();
        Throwable refused = catchThrowable(() -> new Select<String>().onSend(closed, new Forging(), () -> "sent").select());
        assertThat(refused).isInstanceOf(ChannelClosedException.class).hasMessage("main context 'main' cannot select onSend("
                + FORGING_SHOWN + ") to channel 'closed' (closed): a closed channel takes no more values, and the value was not"
                + " delivered; leave the clause out to go on");
        String huge = "y".repeat(50_000);
        assertThat(catchThrowable(() -> new Select<String>().onSend(closed, huge, () -> "sent").select()))
                .hasMessageStartingWith("main context 'main' cannot select onSend(" + "y".repeat(SafeText.NAME_LIMIT)
                        + "\u2026(+" + (50_000 - SafeText.NAME_LIMIT) + " chars)) to channel 'closed' (closed): ");
        Printed<String> cancelled = new Printed<>(FORGING);
        cancelled.cancel(false);
        Throwable awaited = catchThrowable(() -> Coroutine.await(cancelled));
        assertThat(awaited).isInstanceOf(CancellationException.class)
                .hasMessage("main context 'main' cannot await " + FORGING_SHOWN + ": it was cancelled");
        Printed<String> failed = new Printed<>(FORGING);
        failed.completeExceptionally(new IllegalStateException("no"));
        Throwable selected = catchThrowable(() -> new Select<String>().onComplete(failed, v -> v).select());
        assertThat(selected).isInstanceOf(CompletionException.class)
                .hasMessage("main context 'main' cannot select: its clause onComplete(" + FORGING_SHOWN
                        + ") fired on a stage that failed: java.lang.IllegalStateException: no");
        Printed<String> cancelledToo = new Printed<>(FORGING);
        cancelledToo.cancel(false);
        Throwable selectedCancelled = catchThrowable(() -> new Select<String>().onComplete(cancelledToo, v -> v).select());
        assertThat(selectedCancelled).isInstanceOf(CancellationException.class)
                .hasMessage("main context 'main' cannot select: its clause onComplete(" + FORGING_SHOWN + ") fired on a cancelled stage");
    }

    /**
     * Several threads blocked at once, each by a coroutine that holds it with another waiting: one
     * sample reports each once, naming its coroutine, its thread and the one context it stalls,
     * though a JMX dump asked each meanwhile (a request none can run, which is not work it stalls);
     * the next sample, before ten times as long, reports none again; once they have ended the
     * detector forgets them.
     */
    @Test
    void manyThreadsBlockedAtOnceAreEachReportedOnceEvenWithADumpsRequestPendingAndForgottenOnceEnded() throws Exception {
        int n = 4;
        CountDownLatch ready = new CountDownLatch(n);
        CountDownLatch release = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            int id = k;
            threads.add(Thread.ofPlatform().name("blocked-" + k).start(() -> {
                Coroutine.create("starved-" + id, () -> { });
                Coroutine.create("blocker-" + id, () -> {
                    ready.countDown();
                    Maker.blockOn(release); // no scheduling point: main and the starved one cannot run
                }).switchTo();
            }));
        }
        try {
            ready.await();
            Watchdog w = Watchdog.unstarted(Duration.ofMillis(100));
            long t = System.nanoTime();
            assertThat(ours(w.sample(t))).isEmpty();
            String dump = CoroutinesManagement.mxBean().dump(5);
            for (int k = 0; k < n; k++) {
                assertThat(dump).contains("thread 'blocked-" + k + "': 3 contexts, listed from outside (it did not reach a"
                        + " scheduling point within 500 ms): no frames\n  [0] main: SUSPENDED\n");
            }
            List<String> reports = ours(w.sample(t + Duration.ofMillis(100).toNanos()));
            assertThat(reports).hasSize(n);
            for (int k = 0; k < n; k++) {
                String prefix = "coroutine 'blocker-" + k + "' has blocked thread " + Scheduler.describe(threads.get(k))
                        + " for 100.000 ms without reaching a scheduling point (yield, switchTo, a park, the end of its body):"
                        + " 2 other contexts cannot run meanwhile. Its stack (thread ";
                assertThat(reports).as("the report of blocked-%d", k).filteredOn(r -> r.startsWith(prefix)).hasSize(1);
            }
            assertThat(reports).allMatch(r -> r.contains("at dev.coro.Maker.blockOn("));
            assertThat(ours(w.sample(t + Duration.ofMillis(999).toNanos()))).as("not ten times as long yet").isEmpty();
            assertThat(w.watched()).containsAll(threads);
            release.countDown();
            for (Thread thread : threads) {
                thread.join();
            }
            assertThat(ours(w.sample(t + Duration.ofMillis(5000).toNanos()))).as("ended threads are not reported").isEmpty();
            assertThat(w.watched()).as("the detector forgets the threads that ended").doesNotContainAnyElementsOf(threads);
        } finally {
            release.countDown();
            for (Thread thread : threads) {
                thread.join();
            }
        }
    }

    /** The reports of a sample about this test's threads. */
    private static List<String> ours(List<String> reports) {
        return reports.stream().filter(r -> r.contains("thread 'blocked-")).toList();
    }

    /**
     * Starts and ends recorded on pool threads while another recording of the same events starts and
     * stops midway: the recording that spans the run has, for every coroutine (its scheduler thread
     * and number), exactly one start and one end, whichever way it ended; the one toggled midway has
     * no coroutine twice.
     */
    @Test
    @Timeout(60)
    void startsAndEndsPairUpAcrossAPoolWhileAnotherRecordingStartsAndStopsMidway() throws Exception {
        int bodies = 60;
        Path inner = Files.createTempFile("coro-test-inner", ".jfr");
        try {
            List<RecordedEvent> spanning = JfrEventsTest.record(r -> {
                r.enable("dev.coro.CoroutineStart");
                r.enable("dev.coro.CoroutineEnd");
            }, () -> {
                try (CoroutinePool pool = CoroutinePool.start(2); Recording toggled = new Recording()) {
                    toggled.enable("dev.coro.CoroutineStart");
                    toggled.enable("dev.coro.CoroutineEnd");
                    toggled.enable("dev.coro.Park").withThreshold(Duration.ZERO);
                    for (int i = 0; i < bodies; i++) {
                        if (i == bodies / 3) {
                            toggled.start();
                        } else if (i == 2 * bodies / 3) {
                            toggled.stop();
                            toggled.dump(inner);
                        }
                        Coroutine.await(pool.submit(() -> {
                            Channel<Integer> never = new Channel<>("never", 0);
                            Coroutine finishes = Coroutine.create("finishes", Coroutine::yield);
                            Coroutine.create("closed-new", () -> { }).close();
                            Coroutine parked = Coroutine.create("closed-parked", never::receive);
                            parked.switchTo();
                            parked.close();
                            finishes.join();
                            return null;
                        }));
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, t -> t.getJavaName().startsWith("coro-pool-"), "dev.coro.CoroutineStart", "dev.coro.CoroutineEnd");
            Map<String, List<String>> byCoroutine = new HashMap<>();
            for (RecordedEvent e : spanning) {
                byCoroutine.computeIfAbsent(e.getThread("schedulerThread").getJavaThreadId() + "#" + e.getLong("coroutineNumber"),
                        k -> new ArrayList<>()).add(e.getEventType().getName());
            }
            assertThat(byCoroutine).hasSize(bodies * 4); // each body's own coroutine, and the three it makes
            assertThat(byCoroutine.values()).allSatisfy(events ->
                    assertThat(events).containsExactly("dev.coro.CoroutineStart", "dev.coro.CoroutineEnd"));
            Map<String, Integer> toggledCounts = new HashMap<>();
            for (RecordedEvent e : RecordingFile.readAllEvents(inner)) {
                String type = e.getEventType().getName();
                if (type.equals("dev.coro.CoroutineStart") || type.equals("dev.coro.CoroutineEnd")) {
                    toggledCounts.merge(type + " " + e.getThread("schedulerThread").getJavaThreadId() + "#"
                            + e.getLong("coroutineNumber"), 1, Integer::sum);
                }
            }
            assertThat(toggledCounts).isNotEmpty();
            assertThat(toggledCounts.values()).allMatch(n -> n == 1);
        } finally {
            Files.deleteIfExists(inner);
        }
    }

    /** A future whose text is a dump of its own thread, which names the future's wait: a text made of itself. */
    static final class SelfDumping<T> extends CompletableFuture<T> {
        @Override
        public String toString() {
            return "dumps: " + Coroutine.dump();
        }
    }

    /**
     * A waited-on object whose text recurses through the dump (its {@code toString()} dumps the
     * thread, whose dump asks for its text again) until the stack overflows: the dump says what it
     * could, one line cut at its limit per level, instead of nesting every level's whole dump (half a
     * megabyte for two contexts), and the waiter runs on as if never dumped.
     */
    @Test
    void aWaitedOnObjectWhoseTextDumpsItsOwnThreadGivesADumpOfOneLinePerContext() {
        SelfDumping<String> f = new SelfDumping<>();
        Coroutine waiter = Coroutine.create("waiter", () -> Coroutine.await(f));
        waiter.switchTo();
        String dump = Coroutine.dump();
        List<String> contexts = dump.lines().filter(l -> l.startsWith("  [")).toList();
        assertThat(contexts).hasSize(2);
        String prefix = "  [1] coroutine 'waiter': PARKED, waits to await ";
        assertThat(contexts.get(1)).startsWith(prefix + "dumps: thread '" + Thread.currentThread().getName()
                + "': 2 contexts, current index 0\\n  [0] main: RUNNING (the caller)\\n");
        assertThat(contexts.get(1)).as("cut after the first %d characters of its text", SafeText.NAME_LIMIT)
                .matches(".*\u2026\\(\\+\\d+ chars\\)");
        assertThat(dump.length()).as("the dump's size: its lines, not a dump per level of the recursion").isLessThan(2_000);
        f.complete("done");
        Coroutine.yield();
        assertThat(waiter.isFinished()).isTrue();
    }

    /**
     * A waited-on object whose text is a JMX dump, made while a thread with work does not answer (it
     * blocks outside coro): the dump of the waiter's thread asks for the text, whose dump asks for it
     * again, down to a stack overflow. Each of those dumps within the first lists the other thread
     * from outside at once, saying so, instead of asking it again and waiting half a second more for it
     * at each level that got that far, while the first dump waited for them; the first one waits for it
     * as usual.
     */
    @Test
    @Timeout(120)
    void aDumpMadeWithinADumpListsTheOtherThreadsFromOutsideWithoutWaitingForThem() throws Exception {
        CountDownLatch ready = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread unanswering = Thread.ofPlatform().name("unanswering").start(() -> {
            Coroutine.create("starved", () -> { });
            ready.countDown();
            Maker.blockOn(release); // no scheduling point: it never runs a dump's request
        });
        List<String> within = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<String> f = new CompletableFuture<>() {
            @Override
            public String toString() {
                String d = CoroutinesManagement.mxBean().dump(1);
                within.add(d);
                return "jmx";
            }
        };
        try {
            ready.await();
            Coroutine waiter = Coroutine.create("waiter", () -> Coroutine.await(f));
            waiter.switchTo();
            String dump = CoroutinesManagement.mxBean().dump(2);
            assertThat(dump).contains("thread 'unanswering': 2 contexts, listed from outside (it did not reach a scheduling"
                    + " point within 500 ms): no frames\n");
            assertThat(within).as("the dumps made within it").isNotEmpty();
            assertThat(within).allSatisfy(d -> assertThat(d).contains("thread 'unanswering': 2 contexts, listed from outside ("
                    + "a dump made within a dump does not wait for other threads): no frames\n"));
            f.complete("done");
            Coroutine.yield();
            assertThat(waiter.isFinished()).isTrue();
        } finally {
            release.countDown();
            unanswering.join();
        }
    }
}
