package dev.coro;

import dev.coro.Coroutine.State;
import dev.coro.internal.MonitorBridge;
import dev.coro.management.SchedulerInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/** The schedulers' side of the {@link MonitorBridge}: what the JMX view reads of them. */
final class MonitorSupport extends MonitorBridge {

    static {
        MonitorBridge.install(new MonitorSupport());
    }

    /** How long a dump waits for the threads to dump themselves before it lists them from outside. */
    static final long DUMP_WAIT_MILLIS = 500;

    private MonitorSupport() {
    }

    @Override
    public String caller() {
        return Scheduler.describeCaller();
    }

    @Override
    public void recordParkTimes() {
        Monitoring.parkTimes = true;
    }

    @Override
    public List<SchedulerInfo> schedulers() {
        List<SchedulerInfo> rows = new ArrayList<>();
        List<Scheduler> live = Monitoring.live();
        // asked only of a JVM that has a scheduler, hence an engine: one where none can run has no row, not a failure
        String engine = live.isEmpty() ? null : Engines.running();
        for (Scheduler s : live) {
            SchedulerCensus c = SchedulerCensus.of(s);
            Context oldest = c.oldestParked;
            Wait waits = c.oldestParkedWait; // as the count read it: the context may have run again since
            rows.add(new SchedulerInfo(s.owner.getName(), s.owner.threadId(), s.owner.isVirtual(), engine,
                    c.contexts, c.fresh, c.running, c.suspended, c.parked, c.schedulingPoints, c.timers, c.ioWaits,
                    oldest == null ? "" : oldest.describe(),
                    waits == null ? "" : describeRacy(waits) + ThreadDump.inside(oldest), // a body's wait, not its own code's
                    oldest == null ? -1 : parkedMillis(c.oldestParkedSince, System.nanoTime())));
        }
        return rows;
    }

    /**
     * For how long a context that parked at {@code since} has been parked at {@code now} (both in
     * {@link System#nanoTime()} terms), in milliseconds, never negative: the owner records its parks
     * while the view reads them, so a park may come after the clock reading it is measured against
     * (and a clock read on another thread need not be later); such a park has lasted no time yet.
     */
    static long parkedMillis(long since, long now) {
        return TimeUnit.NANOSECONDS.toMillis(Math.max(0, now - since));
    }

    /**
     * The description of a wait read from another thread while its owner may change it: its text,
     * or its kind if the text cannot be had now.
     */
    static String describeRacy(Wait w) {
        try {
            return String.valueOf(w);
        } catch (RuntimeException | Error e) {
            return w.reason();
        }
    }

    @Override
    public long blockedThresholdMillis() {
        Duration d = Watchdog.threshold();
        if (d == null) {
            return 0;
        }
        try {
            return d.toMillis();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE; // a threshold past the range of milliseconds: never, in effect
        }
    }

    @Override
    public void setBlockedThresholdMillis(long millis) {
        if (millis == 0) {
            BlockedLoops.stop();
        } else if (millis != blockedThresholdMillis()) {
            BlockedLoops.detect(Duration.ofMillis(millis));
        } // else the threshold the attribute shows, set again: the detector goes on as it is, with a
          // threshold finer than a millisecond (or past their range) kept and the stalls under way watched
    }

    /** Why a thread that ended while a dump waited for it is listed from outside. */
    static final String ENDED = "its thread ended before it answered";

    /**
     * Every live scheduler's dump: a thread with coroutines or pending work is asked to dump itself
     * at its next scheduling point (a post to its event loop, which wakes an idle one), and those
     * that have not answered within {@link #DUMP_WAIT_MILLIS} are listed from outside
     * ({@link #outside}); one whose thread ends first is listed so at once ({@link #watchEnd});
     * the caller's own scheduler is dumped at once, its calling context with its frames as
     * {@link Coroutine#dump()} lists it (from its call of the view's {@code dump} on).
     */
    @Override
    public String dump(int maxPerThread) {
        if (DUMPING.get() != null) {
            return dumpWithin(maxPerThread);
        }
        DUMPING.set(Boolean.TRUE);
        try {
            return dumpAsking(maxPerThread);
        } finally {
            DUMPING.remove();
        }
    }

    /**
     * Set on a thread while it makes a dump: the JMX view's, or its own for a request of one. A dump
     * asked for meanwhile on that thread comes from within it (a {@code toString()} of an object a wait
     * names that dumps again) and asks no other thread ({@link #dumpWithin}).
     */
    private static final ThreadLocal<Boolean> DUMPING = new ThreadLocal<>();

    /** Why a thread is listed from outside by a dump made within another dump. */
    static final String WITHIN = "a dump made within a dump does not wait for other threads";

    /**
     * A dump asked for while the calling thread makes one (a {@code toString()} of an object a wait
     * names, which dumps again): the caller's own scheduler dumped at once, every other listed from
     * outside. Asked, another thread may not answer (the thread whose dump asked this one's waits for it,
     * or one blocked), and each level of a recursion that ends only with a stack overflow would wait
     * {@link #DUMP_WAIT_MILLIS} for it.
     */
    private static String dumpWithin(int maxPerThread) {
        List<Scheduler> live = Monitoring.live();
        StringBuilder b = new StringBuilder();
        b.append(live.size()).append(live.size() == 1 ? " scheduler thread" : " scheduler threads").append('\n');
        for (Scheduler s : live) {
            b.append('\n').append(s.isCaller() ? ThreadDump.of(s, maxPerThread) : outside(s, maxPerThread, WITHIN));
        }
        return b.toString();
    }

    /** {@link #dump}, not within another dump of the calling thread: every thread with work is asked. */
    private static String dumpAsking(int maxPerThread) {
        List<Scheduler> live = Monitoring.live();
        List<CompletableFuture<String>> answers = new ArrayList<>();
        List<Thread> watchers = new ArrayList<>();
        try {
            for (Scheduler s : live) {
                CompletableFuture<String> answer = new CompletableFuture<>();
                if (s.isCaller()) {
                    answer.complete(ThreadDump.of(s, maxPerThread));
                } else if (Watchdog.hasWork(s)) {
                    DumpRequest.ask(s, answer, maxPerThread);
                    watchers.add(watchEnd(s, answer));
                } else {
                    answer.complete(outside(s, maxPerThread, "it has no coroutine"));
                }
                answers.add(answer);
            }
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DUMP_WAIT_MILLIS);
            StringBuilder b = new StringBuilder();
            b.append(live.size()).append(live.size() == 1 ? " scheduler thread" : " scheduler threads").append('\n');
            for (int k = 0; k < live.size(); k++) {
                b.append('\n').append(answer(live.get(k), answers.get(k), deadline, maxPerThread));
            }
            return b.toString();
        } finally {
            for (Thread w : watchers) {
                w.interrupt(); // its thread has answered, or the dump gave up on it: nothing left to watch
            }
        }
    }

    /**
     * Starts a virtual thread that completes {@code answer} with null, the mark of a thread that
     * ended, once {@code s}'s thread ends, unless the answer came first: a thread that ends before
     * its next scheduling point never runs the request (nothing drains the inbox of a plain thread
     * that ends), and the dump need not wait out {@link #DUMP_WAIT_MILLIS} for it. The dump
     * interrupts it once it no longer waits for that answer.
     */
    private static Thread watchEnd(Scheduler s, CompletableFuture<String> answer) {
        Thread owner = s.owner;
        return Thread.ofVirtual().name("coro-dump-watch").start(() -> {
            try {
                owner.join();
                answer.complete(null);
            } catch (InterruptedException e) {
                // the dump no longer waits for this answer
            }
        });
    }

    /**
     * A request posted to a scheduler's thread to dump itself, for every dump that asked while it
     * waited: a thread that does not reach a scheduling point for a long time holds one request,
     * however many dumps asked meanwhile, and that request holds only the dumps still waiting for it
     * (and the last one). Its answers are guarded by the class.
     */
    static final class DumpRequest implements Inbox.Observation {
        private final Scheduler scheduler;
        /** The dumps waiting for this request, each with its bound; null once the request ran. */
        private List<Map.Entry<CompletableFuture<String>, Integer>> answers = new ArrayList<>();

        private DumpRequest(Scheduler scheduler) {
            this.scheduler = scheduler;
        }

        /**
         * Asks {@code s} to complete {@code answer} with its dump of {@code max} contexts at its next
         * scheduling point: through the request posted already if it has not run yet, else a new one.
         */
        static void ask(Scheduler s, CompletableFuture<String> answer, int max) {
            DumpRequest r;
            synchronized (DumpRequest.class) {
                r = s.dumpRequest;
                if (r != null) {
                    // the dumps that gave up waiting (answered from outside) go: a thread stuck for days,
                    // dumped every minute, holds the dumps still waiting, not one entry per dump ever made
                    r.answers.removeIf(a -> a.getKey().isDone());
                    r.answers.add(Map.entry(answer, max));
                    return;
                }
                r = new DumpRequest(s);
                r.answers.add(Map.entry(answer, max));
                s.dumpRequest = r;
            }
            s.loop.post(r);
        }

        /** How many dumps this request holds, answered or not; for tests. Under the class's lock. */
        int answers() {
            synchronized (DumpRequest.class) {
                return answers == null ? 0 : answers.size();
            }
        }

        /**
         * On the scheduler's thread: dumps for every answer still wanted; what fails goes to the answer, never into
         * the thread, and the user's code a dump runs may not suspend a thread that waits in its event loop
         * ({@link Scheduler#observe}).
         */
        @Override
        public void run() {
            List<Map.Entry<CompletableFuture<String>, Integer>> mine;
            synchronized (DumpRequest.class) {
                mine = answers;
                answers = null;
                if (scheduler.dumpRequest == this) {
                    scheduler.dumpRequest = null;
                }
            }
            boolean outer = DUMPING.get() == null;
            if (outer) {
                DUMPING.set(Boolean.TRUE); // a dump asked for within this one lists the other threads from outside
            }
            try {
                scheduler.observe(() -> answer(mine)); // the user's code in it may not suspend a thread that idles
            } finally {
                if (outer) {
                    DUMPING.remove();
                }
            }
        }

        /** On the scheduler's thread: dumps for every answer of {@code mine} still wanted; what fails goes to the answer, never into the thread. */
        private void answer(List<Map.Entry<CompletableFuture<String>, Integer>> mine) {
            for (Map.Entry<CompletableFuture<String>, Integer> a : mine) {
                if (!a.getKey().isDone()) {
                    try {
                        a.getKey().complete(ThreadDump.of(scheduler, a.getValue(), "(current)"));
                    } catch (RuntimeException | Error e) { // never into the asked thread, which runs the user's code
                        a.getKey().completeExceptionally(e);
                    }
                }
            }
        }
    }

    /**
     * What the dump says of {@code s}: its own dump if it came by {@code deadline}, else {@code s}
     * listed from outside, saying why: its thread ended first (the answer is null), it did not
     * answer in time, the dump was interrupted, or its own dump failed.
     */
    private static String answer(Scheduler s, CompletableFuture<String> answer, long deadline, int max) {
        try {
            String text = answer.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            return text != null ? text : outside(s, max, ENDED);
        } catch (TimeoutException e) {
            if (answer.complete(null)) { // too late: the thread must not dump for nobody
                return outside(s, max, s.owner.isAlive() ? "it did not reach a scheduling point within "
                        + DUMP_WAIT_MILLIS + " ms" : ENDED);
            }
            return answer(s, answer, deadline, max); // it came meanwhile: done, so no wait
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            answer.complete(null);
            return outside(s, max, "the dump was interrupted");
        } catch (ExecutionException e) {
            return outside(s, max, "its own dump failed: " + e.getCause());
        }
    }

    /**
     * {@code s} listed from another thread without stopping it: its first {@code max} contexts with
     * name, state, wait and the generator whose body it is in (read as they may be now), each live one
     * once though the owner moves them meanwhile, none that had ended when it was met, one at most as
     * running (read as the JMX view counts them: {@link SchedulerCensus#listing}), no frames; then the stack of the thread
     * running its current context, since a thread that did not answer is probably blocked there; that
     * thread's again if it ended as its stack was taken while the scheduler's thread lives (a body's thread
     * on the thread engine: the thread moved on to another context), or that it ended; or, if the thread
     * waits in its event loop after a body ended, that it does, no context running (as its own dump says).
     */
    static String outside(Scheduler s, int max, String why) {
        return outside(s, max, why, Thread::getStackTrace);
    }

    /**
     * {@link #outside(Scheduler, int, String)}, the stack of the thread taken with {@code stackOf}: a test
     * puts in one that lets the thread move on meanwhile, as it may of itself.
     */
    static String outside(Scheduler s, int max, String why, Function<Thread, StackTraceElement[]> stackOf) {
        // read as the JMX view counts them, while the owner goes on: each live context once, and one running at most
        List<SchedulerCensus.Reading> all = SchedulerCensus.listing(s);
        StringBuilder b = new StringBuilder();
        b.append(ThreadDump.header(s.owner)).append(": ").append(all.size())
                .append(all.size() == 1 ? " context" : " contexts").append(", listed from outside (")
                .append(why).append("): no frames\n");
        int shown = Math.min(max, all.size());
        for (int k = 0; k < shown; k++) {
            SchedulerCensus.Reading r = all.get(k);
            Context c = r.context;
            b.append("  [").append(k).append("] ").append(c.isMain() ? "main" : "coroutine '" + SafeText.name(c.name()) + "'")
                    .append(": ").append(r.state);
            if (r.state == State.PARKED && r.wait != null) {
                b.append(", waits to ").append(describeRacy(r.wait));
            }
            // as the thread's own dump names it: without it, a wait inside a generator's body reads as one
            // of the context's own code, and no frames here show the body
            b.append(ThreadDump.inside(c)).append('\n');
        }
        if (all.size() > shown) {
            int more = all.size() - shown;
            b.append("  ... and ").append(more).append(more == 1 ? " more context\n" : " more contexts\n");
        }
        if (Watchdog.hasWork(s) && s.owner.isAlive()) { // an ended thread is nowhere
            RunnerStack r = RunnerStack.take(s, stackOf);
            Thread ended = r.ended(s);
            if (r.idle && ended == null) {
                b.append("  thread ").append(Scheduler.describe(s.owner))
                        .append(" waits in its event loop after a body ended: none of its contexts runs\n");
            } else if (ended == null) {
                b.append("  thread ").append(Scheduler.describe(r.runner)).append(" is at:\n")
                        .append(Watchdog.frames(r.frames).indent(4));
            } else { // its stack, taken once it had ended, is empty: it is nowhere now
                b.append("  thread ").append(Scheduler.describe(ended)).append(" ended as it was listed: no stack\n");
            }
        }
        return b.toString();
    }
}
