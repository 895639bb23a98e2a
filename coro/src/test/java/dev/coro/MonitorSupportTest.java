package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.coro.Coroutine.State;
import dev.coro.management.CoroutinesManagement;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * How a scheduler thread is listed from outside when it does not answer a dump, and how a stack is
 * shortened in reports.
 */
@ExtendWith(FreshThread.class)
class MonitorSupportTest {

    /** A context's state field while suspended, as the tests set it to show what a racing listing reads. */
    private static final byte SUSPENDED = (byte) State.SUSPENDED.ordinal();
    /** The frame a listing's stub takes as the stack of the thread it lists. */
    private static final StackTraceElement[] AT = {new StackTraceElement("app.Blocker", "lookup", "Blocker.java", 8)};

    /**
     * One context runs on a thread at a time, but a switch moves the one leaving and the one arriving with
     * plain writes while the thread is listed: reading the one that left before it left and the one that
     * arrived after, the listing showed two contexts running. It reads them as the JMX view's count does
     * (CoroutinesMXBeanTest): the first one read as running is read again, and one that still reads so
     * leaves the second unlisted (missed, as a context that moves may be), so one is shown running, never two.
     */
    @Test
    void twoContextsReadAsRunningAreListedAsOneRunningTheOtherMissed() {
        Coroutine yielder = Coroutine.create("yielder", () -> {
            while (true) {
                Coroutine.yield();
            }
        });
        yielder.switchTo(); // it yields back: main runs, the yielder is suspended
        yielder.context.state = Context.RUNNING; // as a listing racing a switch from main to it reads it
        String listed;
        try {
            listed = MonitorSupport.outside(Scheduler.current(), 5, "asked", thread -> AT);
        } finally {
            yielder.context.state = SUSPENDED;
        }
        Thread me = Thread.currentThread();
        assertEquals("thread '" + me.getName() + "': 1 context, listed from outside (asked): no frames\n"
                + "  [0] main: RUNNING\n"
                + "  thread " + Scheduler.describe(me) + " is at:\n"
                + "        at app.Blocker.lookup(Blocker.java:8)\n", listed);
        yielder.close();
    }

    /**
     * A switch from main to another context made between the reading of main's state and the reading of the
     * other's: both read as running. The first read is the staler; read again, main is listed as what it is
     * now (suspended), the other as the one running. The switch is made here by the wait of a parked
     * coroutine that stands between the two in the run list, as the listing reads its reason.
     */
    @Test
    void aContextReadAsRunningThatLeftBeforeTheNextWasReadAsRunningIsListedAsWhatItReadsAgain() {
        CoroutinesManagement.register(); // park times are recorded from now on: the wait's reason is read
        String listed;
        try (SwitchAsAWaitIsRead scene = new SwitchAsAWaitIsRead()) {
            listed = MonitorSupport.outside(Scheduler.current(), 5, "asked", thread -> AT);
        }
        Thread me = Thread.currentThread();
        assertEquals("thread '" + me.getName() + "': 3 contexts, listed from outside (asked): no frames\n"
                + "  [0] main: SUSPENDED\n"
                + "  [1] coroutine 'waiter': PARKED, waits to receive from channel 'jobs'\n"
                + "  [2] coroutine 'yielder': RUNNING\n"
                + "  thread " + Scheduler.describe(me) + " is at:\n"
                + "        at app.Blocker.lookup(Blocker.java:8)\n", listed);
    }

    /**
     * A thread that ends as it is listed from outside (its stack taken once it has ended) is said to have
     * ended, where it was said to be at no frame at all: the stack of an ended thread is empty. As the
     * blocked-loop detector does not report such a thread (BlockedLoopsTest).
     */
    @Test
    @Timeout(30)
    void aThreadThatEndsAsItsStackIsTakenIsListedAsEnded() throws Exception {
        CountDownLatch made = new CountDownLatch(1);
        CountDownLatch end = new CountDownLatch(1);
        Thread ender = Thread.ofPlatform().name("ender").start(() -> {
            Coroutine.create("left", Coroutine::yield).switchTo(); // the thread has work: its stack is shown
            made.countDown();
            Maker.blockOn(end); // blocked outside coro, then it ends with the coroutine left
        });
        made.await();
        String listed = MonitorSupport.outside(schedulerOf(ender), 5, "asked", thread -> {
            end.countDown();
            Joins.uninterruptibly(ender); // it ends as its stack is taken
            return thread.getStackTrace();
        });
        assertEquals("thread 'ender': 2 contexts, listed from outside (asked): no frames\n"
                + "  [0] main: RUNNING\n"
                + "  [1] coroutine 'left': SUSPENDED\n"
                + "  thread " + Scheduler.describe(ender) + " ended as it was listed: no stack\n", listed);
    }

    /**
     * The stack shown is that of the thread running the current context's code: on the thread engine, a body's
     * own thread. One whose body ends as its stack is taken has an empty stack, while the scheduler's thread
     * lives on: it was said to be at no frame at all. The listing takes the stack again, of the thread running
     * the context current now (here main, on the scheduler's thread), which the continuation engine shows from
     * the first (there every context runs on the scheduler's thread).
     */
    @Test
    @Timeout(30)
    void aThreadWhoseCurrentBodyEndsAsItsStackIsTakenIsShownWhereItWentOn() throws Exception {
        CountDownLatch blocked = new CountDownLatch(1);
        CountDownLatch unblock = new CountDownLatch(1);
        CountDownLatch wentOn = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Thread mover = Thread.ofPlatform().name("mover").start(() -> {
            Channel<Integer> never = new Channel<>("never", 0);
            Coroutine.create("left", never::receive).switchTo(); // parked: main alone runs once the blocker ends
            Coroutine.create("blocker", () -> {
                blocked.countDown();
                Maker.blockOn(unblock); // blocked outside coro in its body, then it ends
            }).switchTo();
            wentOn.countDown();
            Maker.blockOn(done);
        });
        String listed;
        try {
            blocked.await();
            listed = MonitorSupport.outside(schedulerOf(mover), 5, "asked", thread -> {
                unblock.countDown();
                if (thread != mover) {
                    Joins.uninterruptibly(thread); // the body's thread ends as its stack is taken
                }
                Maker.blockOn(wentOn);
                return thread == mover ? AT : thread.getStackTrace();
            });
        } finally {
            unblock.countDown();
            done.countDown();
            mover.join();
        }
        assertEquals("thread 'mover': 3 contexts, listed from outside (asked): no frames\n"
                + "  [0] main: SUSPENDED\n"
                + "  [1] coroutine 'left': PARKED, waits to receive from channel 'never'\n"
                + "  [2] coroutine 'blocker': RUNNING\n"
                + "  thread " + Scheduler.describe(mover) + " is at:\n"
                + "        at app.Blocker.lookup(Blocker.java:8)\n", listed);
    }

    /**
     * A thread that waits in its event loop after a body ended runs none of its contexts: the index of the
     * current one still holds the ended one's, now another's. The listing showed the stack of the thread of
     * that other context, on the thread engine a body's own thread waiting for its turn, as if the thread
     * were there; it says instead where the thread is, as its own dump's header does, on both engines.
     */
    @Test
    @Timeout(30)
    void aThreadWaitingInItsEventLoopAfterABodyEndedIsSaidToWaitThereNotAtAnotherContextsStack() throws Exception {
        CompletableFuture<Void> release = new CompletableFuture<>() {
            @Override
            public String toString() {
                return "the release";
            }
        };
        CountDownLatch made = new CountDownLatch(1);
        Thread idler = Thread.ofPlatform().name("idler").start(() -> {
            Channel<Integer> never = new Channel<>("never", 0);
            Coroutine.create("brief", () -> { });
            Coroutine parked = Coroutine.create("parked", never::receive);
            made.countDown();
            // main parks, then 'parked' (run before 'brief', the previous runnable entry), then 'brief' ends:
            // nothing is runnable, and the thread waits in its event loop after that body's end
            Coroutine.await(release);
            parked.close();
        });
        String listed;
        try {
            made.await();
            Scheduler s = schedulerOf(idler);
            while (!s.loop.isIdle() || s.runList.size() != 2) { // 'brief' has left the run list, and the thread idles
                Thread.onSpinWait();
            }
            listed = MonitorSupport.outside(s, 5, "asked");
        } finally {
            release.complete(null);
            idler.join();
        }
        assertEquals("thread 'idler': 2 contexts, listed from outside (asked): no frames\n"
                + "  [0] main: PARKED, waits to await the release\n"
                + "  [1] coroutine 'parked': PARKED, waits to receive from channel 'never'\n"
                + "  thread " + Scheduler.describe(idler) + " waits in its event loop after a body ended: none of its"
                + " contexts runs\n", listed);
    }

    @Test
    void aThreadListedFromOutsideShowsItsFirstContextsTheirWaitsHowManyMoreAndWhereItsThreadIs() throws Exception {
        CompletableFuture<Void> release = new CompletableFuture<>();
        CountDownLatch ready = new CountDownLatch(1);
        Thread helper = Thread.ofPlatform().name("idle-helper").start(() -> {
            Channel<Integer> tick = new Channel<>("tick", 0);
            Coroutine ticker = Coroutine.create("ticker", () -> tick.receive());
            ticker.switchTo();
            ready.countDown();
            Coroutine.await(release);
            ticker.close();
        });
        String one;
        String both;
        try {
            ready.await();
            Scheduler s = schedulerOf(helper);
            awaitParked(s);
            one = MonitorSupport.outside(s, 1, "asked");
            both = MonitorSupport.outside(s, 2, "asked");
        } finally {
            release.complete(null);
            helper.join();
        }
        String head = "thread 'idle-helper': 2 contexts, listed from outside (asked): no frames\n"
                + "  [0] main: PARKED, waits to await java.util.concurrent.CompletableFuture@";
        String at = "  thread 'idle-helper' (#" + helper.threadId() + ") is at:\n        at ";
        assertThat(one).startsWith(head).contains("\n  ... and 1 more context\n" + at);
        assertThat(both).startsWith(head).doesNotContain("more contexts")
                .contains("\n  [1] coroutine 'ticker': PARKED, waits to receive from channel 'tick'\n" + at);
    }

    @Test
    void aThreadWithOnlyItsMainAndNothingPendingIsListedWithoutItsStack() throws Exception {
        CountDownLatch used = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Thread lone = Thread.ofPlatform().name("lone").start(() -> {
            Coroutine.current();
            used.countDown();
            blockOn(done);
        });
        try {
            used.await();
            assertThat(MonitorSupport.outside(schedulerOf(lone), 3, "asked"))
                    .isEqualTo("thread 'lone': 1 context, listed from outside (asked): no frames\n  [0] main: RUNNING\n");
        } finally {
            done.countDown();
            lone.join();
        }
    }

    /** Waits until {@code latch} opens, blocking the thread outside the library; an interrupt fails the caller. */
    private static void blockOn(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Starts a platform thread named {@code name} that switches to a coroutine 'left' that yields (so it
     * stays SUSPENDED), counts {@code ready} down, blocks outside the library until {@code unstick} opens (it
     * cannot answer a dump meanwhile), then switches to 'left' again: a scheduling point, where a request
     * left in its inbox runs, for nobody.
     */
    private static Thread stuckWithACoroutineLeft(String name, CountDownLatch ready, CountDownLatch unstick) {
        return Thread.ofPlatform().name(name).start(() -> {
            Coroutine left = Coroutine.create("left", Coroutine::yield);
            left.switchTo();
            ready.countDown();
            blockOn(unstick);
            left.switchTo();
        });
    }

    @Test
    void anUnnamedVirtualThreadIsToldApartInTheDumpsByItsId() throws Exception {
        CountDownLatch unstick = new CountDownLatch(1);
        CountDownLatch ready = new CountDownLatch(1);
        String[] own = new String[1];
        Thread stuck = Thread.ofVirtual().start(() -> { // unnamed, as those of a virtual-thread-per-task executor
            Coroutine left = Coroutine.create("left", Coroutine::yield);
            left.switchTo();
            own[0] = Coroutine.dump();
            ready.countDown();
            blockOn(unstick);
            left.switchTo();
        });
        String dump;
        try {
            ready.await();
            dump = CoroutinesManagement.mxBean().dump(5);
        } finally {
            unstick.countDown();
            stuck.join();
        }
        String header = "thread '' (#" + stuck.threadId() + ", virtual): 2 contexts";
        assertThat(own[0]).as("its own dump").startsWith(header + ", current index 0\n");
        assertThat(dump).as("the JMX dump, which lists it from outside").contains("\n" + header + ", listed from outside (");
    }

    @Test
    void aDumpByAnInterruptedCallerListsTheThreadsYetToAnswerFromOutsideAndKeepsTheInterrupt() throws Exception {
        CountDownLatch unstick = new CountDownLatch(1);
        CountDownLatch ready = new CountDownLatch(1);
        Thread stuck = stuckWithACoroutineLeft("stuck-while-interrupted", ready, unstick);
        String dump;
        boolean interrupted;
        try {
            ready.await();
            Thread.currentThread().interrupt();
            dump = CoroutinesManagement.mxBean().dump(5);
            interrupted = Thread.interrupted();
        } finally {
            unstick.countDown();
            stuck.join();
        }
        assertThat(interrupted).as("the caller's interrupt is kept").isTrue();
        assertThat(CoroutinesMXBeanTest.section(dump, "stuck-while-interrupted")).startsWith("thread 'stuck-while-interrupted': 2 contexts,"
                + " listed from outside (the dump was interrupted): no frames\n"
                + "  [0] main: RUNNING\n"
                + "  [1] coroutine 'left': SUSPENDED\n");
    }

    @Test
    void aThreadWhoseCoroutinesHaveEndedIsListedFromOutsideAtOnceAndOneWhoseMainAloneWaitsAnswersItself() throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        CountDownLatch ready = new CountDownLatch(2);
        CompletableFuture<Void> release = new CompletableFuture<>();
        Thread ended = Thread.ofPlatform().name("coroutines-ended").start(() -> {
            Coroutine.create("brief", () -> { }).switchTo();
            ready.countDown();
            blockOn(done);
        });
        Thread awaiting = Thread.ofPlatform().name("main-awaits").start(() -> {
            Coroutine.current(); // its scheduler exists before the test looks for it
            ready.countDown();
            Coroutine.await(release);
        });
        String dump;
        try {
            ready.await();
            awaitParked(schedulerOf(awaiting));
            dump = CoroutinesManagement.mxBean().dump(5);
        } finally {
            done.countDown();
            release.complete(null);
            ended.join();
            awaiting.join();
        }
        int threads = Integer.parseInt(dump.substring(0, dump.indexOf(' ')));
        assertThat(dump).startsWith(threads + (threads == 1 ? " scheduler thread\n" : " scheduler threads\n"));
        assertThat(CoroutinesMXBeanTest.section(dump, "coroutines-ended")).isEqualTo("thread 'coroutines-ended': 1 context, listed from"
                + " outside (it has no coroutine): no frames\n  [0] main: RUNNING\n");
        assertThat(CoroutinesMXBeanTest.section(dump, "main-awaits")).startsWith("thread 'main-awaits': ")
                .contains("main: PARKED (current), waits to await java.util.concurrent.CompletableFuture@")
                .doesNotContain("listed from outside");
    }

    /**
     * A thread whose await timed out before its future completed has, once the future completes, that
     * completion posted to it for no wait: with no coroutine and nothing else pending, the dump lists it
     * at once as having no coroutine, as it would without that post, instead of asking it and waiting
     * half a second for a thread that has gone on to other work.
     */
    @Test
    @Timeout(30)
    void aThreadWhoseAwaitTimedOutBeforeItsFutureCompletedIsListedAtOnceAsHavingNoCoroutine() throws Exception {
        CompletableFuture<String> late = new CompletableFuture<>();
        CountDownLatch movedOn = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Thread worker = Thread.ofPlatform().name("awaited-too-long").start(() -> {
            try {
                Coroutine.withTimeout(Duration.ofMillis(1), () -> Coroutine.await(late));
            } catch (CoroutineTimeoutException e) {
                movedOn.countDown();
            }
            blockOn(done);
        });
        String dump;
        try {
            movedOn.await();
            late.complete("late");
            dump = CoroutinesManagement.mxBean().dump(5);
        } finally {
            done.countDown();
            worker.join();
        }
        assertThat(CoroutinesMXBeanTest.section(dump, "awaited-too-long")).isEqualTo("thread 'awaited-too-long': 1 context,"
                + " listed from outside (it has no coroutine): no frames\n  [0] main: RUNNING\n");
    }

    /**
     * A thread that made a channel and went on to other work, and on whose channel another thread's
     * receive timed out before the thread ran it, holds that operation and its withdrawal for nobody:
     * the dump lists it at once as having no coroutine, instead of asking it and waiting for a thread
     * that has gone on to other work.
     */
    @Test
    @Timeout(30)
    void aThreadWhoseChannelAnotherThreadGaveUpReceivingFromIsListedAtOnceAsHavingNoCoroutine() throws Exception {
        CountDownLatch made = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        List<Channel<String>> channel = new ArrayList<>();
        Thread owner = Thread.ofPlatform().name("gave-up-on").start(() -> {
            channel.add(new Channel<>("jobs", 0));
            made.countDown();
            blockOn(done);
        });
        List<String> outcome = new ArrayList<>();
        String dump;
        try {
            made.await();
            Thread receiver = Thread.ofPlatform().name("receiver").start(() -> {
                try {
                    Coroutine.withTimeout(Duration.ofMillis(1), () -> channel.get(0).receive());
                } catch (CoroutineTimeoutException e) {
                    outcome.add("timed out");
                }
            });
            receiver.join();
            dump = CoroutinesManagement.mxBean().dump(5);
        } finally {
            done.countDown();
            owner.join();
        }
        assertThat(outcome).containsExactly("timed out");
        assertThat(CoroutinesMXBeanTest.section(dump, "gave-up-on")).isEqualTo("thread 'gave-up-on': 1 context,"
                + " listed from outside (it has no coroutine): no frames\n  [0] main: RUNNING\n");
    }

    /**
     * A thread asked for a dump that ends before it reaches a scheduling point (it leaves a coroutine
     * suspended, so it is asked, then returns) never answers: the dump says at once that it ended,
     * instead of waiting out the time a live thread is given and saying it did not answer. The dump
     * runs on another thread; the asked thread is let end only once the request is posted to it.
     */
    @Test
    void aThreadThatEndsWhileTheDumpWaitsForItIsListedAsEnded() throws Exception {
        CountDownLatch ready = new CountDownLatch(1);
        CountDownLatch end = new CountDownLatch(1);
        Thread ending = Thread.ofPlatform().name("ends-while-dumped").start(() -> {
            Coroutine.create("left", Coroutine::yield).switchTo();
            ready.countDown();
            blockOn(end);
        }); // returns with 'left' suspended, without another scheduling point
        CompletableFuture<String> dump = new CompletableFuture<>();
        Thread dumper;
        try {
            ready.await();
            Scheduler s = schedulerOf(ending);
            dumper = Thread.ofPlatform().name("dumper").start(() -> dump.complete(CoroutinesManagement.mxBean().dump(2)));
            while (!requested(s)) { // until the request is posted to it: the dump waits for its answer
                Thread.onSpinWait();
            }
        } finally {
            end.countDown();
        }
        ending.join();
        dumper.join();
        assertThat(CoroutinesMXBeanTest.section(dump.join(), "ends-while-dumped")).isEqualTo("thread 'ends-while-dumped':"
                + " 2 contexts, listed from outside (its thread ended before it answered): no frames\n"
                + "  [0] main: RUNNING\n"
                + "  [1] coroutine 'left': SUSPENDED\n");
    }

    @Test
    void aStackInAReportIsCutAfterItsFirstFramesWithHowManyMore() {
        StackTraceElement[] stack = new StackTraceElement[Watchdog.FRAMES + 3];
        for (int k = 0; k < stack.length; k++) {
            stack[k] = new StackTraceElement("C", "m" + k, "C.java", k);
        }
        String all = Watchdog.frames(Arrays.copyOf(stack, Watchdog.FRAMES));
        assertThat(all.lines()).hasSize(Watchdog.FRAMES).startsWith("    at C.m0(C.java:0)")
                .endsWith("    at C.m" + (Watchdog.FRAMES - 1) + "(C.java:" + (Watchdog.FRAMES - 1) + ")");
        assertThat(Watchdog.frames(stack)).isEqualTo(all + "    ... 3 more\n");
        assertThat(Watchdog.frames(new StackTraceElement[0])).isEmpty();
    }

    @Test
    void dumpsOfAThreadThatNeverAnswersLeaveOneRequestWithItNotOnePerDump() throws Exception {
        CountDownLatch unstick = new CountDownLatch(1);
        CountDownLatch ready = new CountDownLatch(1);
        Thread stuck = stuckWithACoroutineLeft("stuck-for-dumps", ready, unstick);
        List<String> sections = new ArrayList<>();
        int waiting;
        try {
            ready.await();
            Scheduler s = schedulerOf(stuck);
            for (int k = 0; k < 3; k++) {
                sections.add(CoroutinesMXBeanTest.section(CoroutinesManagement.mxBean().dump(2), "stuck-for-dumps"));
            }
            waiting = 0;
            for (Posted n = s.loop.inbox.head; n != null && waiting < 100; n = n.nextPosted()) {
                waiting++;
            }
            assertThat(s.dumpRequest.answers()).as("the request keeps no dump that gave up on it: its size stays bounded"
                    + " however often the stuck thread is dumped").isLessThanOrEqualTo(1);
        } finally {
            unstick.countDown();
            stuck.join();
        }
        assertThat(waiting).as("requests waiting in the stuck thread's inbox after three dumps").isEqualTo(1);
        assertThat(sections).hasSize(3).allSatisfy(d -> assertThat(d).startsWith("thread 'stuck-for-dumps': 2 contexts,"
                + " listed from outside (it did not reach a scheduling point within 500 ms): no frames\n"));
    }

    @Test
    void aDumpOfAThreadWaitingForAnotherOnVirtualTimeDoesNotRestartTheQuietWaitAfterWhichItsClockJumps() throws Exception {
        CompletableFuture<Void> release = new CompletableFuture<>();
        CountDownLatch ready = new CountDownLatch(1);
        Thread waiter = Thread.ofPlatform().name("virtual-waiter").start(() -> VirtualTime.run(() -> {
            ready.countDown();
            // a timer pending and a wait for another thread: the clock stands still while that thread may answer
            Coroutine.withTimeout(Duration.ofHours(1), () -> Coroutine.await(release));
        }));
        long quiet;
        try {
            ready.await();
            Scheduler s = schedulerOf(waiter);
            while (!s.loop.isIdle()) {
                Thread.onSpinWait();
            }
            assertThat(CoroutinesMXBeanTest.section(CoroutinesManagement.mxBean().dump(1), "virtual-waiter"))
                    .as("it made its own dump").startsWith("thread 'virtual-waiter': 1 context, current index 0\n");
            quiet = s.loop.quietNanos; // written before the dump ran, on the same thread
        } finally {
            release.complete(null);
            waiter.join();
        }
        assertThat(quiet).as("how long it has waited without a post that could wake a context, after the dump's").isPositive();
    }

    /** Whether a dump's request to {@code s} is posted and has not run yet. */
    private static boolean requested(Scheduler s) {
        synchronized (MonitorSupport.DumpRequest.class) {
            return s.dumpRequest != null;
        }
    }

    private static Scheduler schedulerOf(Thread t) {
        return Monitoring.live().stream().filter(s -> s.owner == t).findFirst().orElseThrow();
    }

    /** Waits until {@code s}'s main has parked (its thread is then idle in its event loop). */
    private static void awaitParked(Scheduler s) throws InterruptedException {
        while (s.main.state() != State.PARKED) {
            Thread.onSpinWait();
        }
    }
}
