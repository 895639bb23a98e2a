package dev.coro;

import dev.coro.internal.SharedThreads;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * The blocked-loop detector's thread ({@link BlockedLoops}): samples every registered scheduler's
 * count of scheduling points and of idle waits begun each quarter of the threshold, and reports a
 * scheduler whose count has not moved for the threshold while it was not idle and had something to stall.
 *
 * <p>One per JVM, started only while detection is on. Its state about each scheduler is its own:
 * it reads the schedulers' fields without synchronization (the count with opaque reads), and never
 * stops or slows their threads.
 */
final class Watchdog implements Runnable {

    private static final VarHandle POINTS;
    private static final VarHandle IDLE_WAITS;
    private static final VarHandle HANDOFFS;

    static {
        try {
            POINTS = MethodHandles.lookup().findVarHandle(Scheduler.class, "schedulingPoints", long.class);
            IDLE_WAITS = MethodHandles.lookup().findVarHandle(EventLoop.class, "idleWaits", long.class);
            HANDOFFS = MethodHandles.lookup().findVarHandle(Scheduler.class, "generatorHandoffs", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Frames a report shows before it says how many more there are. */
    static final int FRAMES = 48;
    /**
     * How a detector's thread is started: {@link Thread#start()}, or a test's that fails as the JVM does when
     * it can start no more threads.
     */
    static Consumer<Thread> starter = Thread::start;
    /** The detector running now; null while detection is off. Guarded by the class. */
    private static Watchdog running;
    /** The detector started last, running or stopped (its thread may still be ending); guarded by the class. */
    private static Watchdog latest;

    private final long thresholdNanos;
    private final Duration threshold;
    private final Thread thread;
    private volatile boolean stopped;
    /**
     * The detector started before this one if its thread was still ending then, whose end
     * {@link #stop()} waits for too; ended ones are left out of the chain ({@link #stillEnding}).
     */
    private volatile Watchdog previous;
    /**
     * What this thread remembers of each scheduler, held weakly: a thread that ends between two
     * samples (a quarter of the threshold apart, which may be long) leaves its scheduler, and the
     * coroutines it left unfinished, to be collected, not kept until the next sample drops it. Only
     * this thread touches it.
     */
    private final WeakIdentityMap<Scheduler, Watch> watches = new WeakIdentityMap<>();
    /**
     * How a report takes the stack of the thread running the blocking context: {@link Thread#getStackTrace()}.
     * A test puts in one that lets the thread move on meanwhile, as it may of itself.
     */
    Function<Thread, StackTraceElement[]> stackOf = Thread::getStackTrace;

    /** One scheduler as the detector last saw it. */
    private static final class Watch {
        /**
         * Its count of scheduling points and of idle waits begun (their sum: both only grow) at the last
         * sample; "its count" below. A thread that waited in its event loop between two samples was not
         * blocked across them, though it passed no scheduling point.
         */
        long points;
        /**
         * Whether every sample since {@link #since} saw it busy (not idle, with something to stall) at
         * {@link #points}: a stall under way, which counts from {@link #since}.
         */
        boolean stalled;
        /**
         * The first sample that saw it busy at {@link #points}, with no sample since that saw it idle or
         * with nothing to stall; valid while {@link #stalled}. The stall began at that sample at the
         * latest, and may have begun only after the sample before it (the thread passed its last
         * scheduling point, or woke from its idle wait, or the work came, after that one): counted from
         * here, it is never longer than it has lasted.
         */
        long since;
        /** How long it had been blocked when last reported; 0 if not reported since the stall began. */
        long reported;
        /**
         * Its count of generator handoffs ({@link Scheduler#generatorHandoffs}) at the last sample: one that has
         * moved since says that the context's code went on through its generators, a thread of theirs parked in
         * the handoff being no wait for a carrier.
         */
        long handoffs;
    }

    private Watchdog(Duration threshold) {
        this.threshold = threshold;
        this.thresholdNanos = Scheduler.saturatedNanos(threshold);
        // nothing inherited from whichever thread turned detection on (a request's trace id, its priority or group): the
        // detector's reports, and their log handlers, run for every scheduler of the JVM
        this.thread = SharedThreads.unstarted("coro-blocked-loop-detector", this);
    }

    /** A detector whose thread is not started: its samples are taken by a test, with a clock of its own. */
    static Watchdog unstarted(Duration threshold) {
        return new Watchdog(threshold);
    }

    /**
     * Starts detection with {@code threshold}, replacing the detector running, if any: that one has
     * ended when this returns ({@link #stop()}), or throws. If the detector running has that threshold already,
     * nothing changes: it goes on watching the stalls under way (replacing it would start them afresh,
     * and a caller that sets the same threshold more often than the threshold would hide every stall).
     *
     * @throws OutOfMemoryError if the JVM cannot start the detector's thread (out of threads, or of memory
     *                          for their stacks): detection is then off, the detector it replaced stopped and
     *                          ended, as when this returns
     */
    static void start(Duration threshold) {
        Watchdog before;
        OutOfMemoryError failed = null;
        synchronized (Watchdog.class) {
            if (running != null && running.threshold.equals(threshold) && running.thread.isAlive()) {
                return;
            }
            signalStop();
            before = latest;
            Watchdog w = new Watchdog(threshold);
            w.previous = stillEnding(before);
            running = latest = w;
            try {
                starter.accept(w.thread);
            } catch (OutOfMemoryError e) {
                running = null; // never started: detection is off, as threshold() says
                latest = before;
                failed = e;
            }
        }
        // also if the new one never started: the one signalled to stop above has ended, no report of it to come, when this throws
        awaitEnd(before);
        if (failed != null) {
            throw failed;
        }
    }

    /**
     * Stops detection; nothing if it is off. When it returns, the detector's thread has ended, so no
     * report comes after it: a report being made meanwhile (a log handler running) is finished first,
     * also that of a detector stopped already but still ending. Called from the detector's own thread
     * (a log handler of a report), it cannot wait for itself: the detector then ends once that report
     * returns.
     */
    static void stop() {
        Watchdog last;
        synchronized (Watchdog.class) {
            signalStop();
            last = latest;
        }
        awaitEnd(last);
    }

    /** Of the chain from {@code w} through {@link #previous}, the detectors whose threads are alive; under the class's lock. */
    private static Watchdog stillEnding(Watchdog w) {
        while (w != null && !w.thread.isAlive()) {
            w = w.previous;
        }
        if (w != null) {
            w.previous = stillEnding(w.previous);
        }
        return w;
    }

    /** Tells the running detector, if any, to stop. Under the class's lock. */
    private static void signalStop() {
        Watchdog w = running;
        if (w != null) {
            running = null;
            w.stopped = true;
            LockSupport.unpark(w.thread);
        }
    }

    /**
     * Waits, outside the class's lock (a log handler of the report being made may ask for the
     * threshold), until the thread of {@code w} and of every detector started before it has ended,
     * except the caller's own; an interrupt meanwhile is kept for the caller.
     */
    private static void awaitEnd(Watchdog w) {
        for (; w != null; w = w.previous) {
            if (w.thread != Thread.currentThread()) {
                Joins.uninterruptibly(w.thread);
            }
        }
    }

    /** The threshold while detection is on, else null. */
    static synchronized Duration threshold() {
        return running == null ? null : running.threshold;
    }

    /**
     * Samples every quarter of the threshold until stopped, closing after each sample what a log handler of
     * its reports left on this thread ({@link #closeLeftByHandlers}). Nothing a sample meets ends the thread: a
     * failure (a log handler of the user's that throws is caught in {@link #report} already) is
     * printed once and the next sample comes as usual. Nor does an interrupt of the thread: it is
     * dropped, and the thread parks again.
     */
    @Override
    public void run() {
        long period = Math.max(1_000_000, thresholdNanos / 4);
        while (!stopped) {
            LockSupport.parkNanos(this, period);
            if (Thread.interrupted()) {
                // only stop() ends the detector; an interrupt (of a log handler in a report, or of code
                // that interrupts every thread) left set would make every later park return at once
                continue;
            }
            if (!stopped) {
                try {
                    sample(System::nanoTime);
                } catch (Throwable e) {
                    survived("a sample", e);
                }
                try {
                    closeLeftByHandlers();
                } catch (Throwable e) {
                    survived("closing what a log handler of a report left on this thread", e);
                }
            }
        }
    }

    /** Whether a failure was printed already: only the first is, as {@code java.util.logging.ErrorManager} does. */
    private static volatile boolean failurePrinted;

    /**
     * The detector met {@code e} in {@code what} and goes on: the first such failure of the JVM is
     * printed to {@code System.err} (the logger may be what fails), the later ones are not.
     */
    private static void survived(String what, Throwable e) {
        if (failurePrinted) {
            return;
        }
        failurePrinted = true;
        try {
            System.err.println("coro-blocked-loop-detector: " + what + " threw " + SafeText.of(e)
                    + "; the detector goes on (later failures are not printed)");
            e.printStackTrace();
        } catch (Throwable ignored) {
            // nowhere left to say it
        }
    }

    /**
     * One look at every scheduler, at time {@code now} ({@link System#nanoTime()} terms). A stall
     * counts from the first sample that saw its scheduler busy (not idle, with something to stall) at
     * its count of scheduling points and idle waits, and is reported once it has lasted the threshold,
     * every sample since having seen it so: it may have begun only after the sample before that one,
     * when the thread passed its last scheduling point, woke from its idle wait, or was given something
     * to stall.
     *
     * @return the messages of the reports it made, each also logged and recorded
     */
    List<String> sample(long now) {
        return sample(() -> now);
    }

    /**
     * {@link #sample(long)} with the time read from {@code clock} ({@link System#nanoTime()} terms) as
     * it looks at each scheduler: a sample may take long before it comes to one (a log handler of a
     * report it made of another, many stacks to take), and a stall it finds beginning there began after
     * the sample did. Counted from the sample's start it was reported at the next sample as longer, by
     * as long as the sample took, than it had lasted.
     *
     * @return the messages of the reports it made, each also logged and recorded (none that nobody would see:
     *         {@link #report})
     */
    List<String> sample(LongSupplier clock) {
        List<String> reports = new ArrayList<>();
        List<Scheduler> live = Monitoring.live();
        Set<Scheduler> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        seen.addAll(live);
        List<Scheduler> gone = new ArrayList<>();
        watches.forEach((s, w) -> {
            if (!seen.contains(s)) {
                gone.add(s); // its thread has ended, though something still holds the scheduler
            }
        });
        gone.forEach(watches::remove);
        for (Scheduler s : live) {
            if (stopped) {
                break; // stop() waits for this sample: no more reports from it
            }
            if (s.owner == thread) {
                continue; // the detector's own, made by a log handler of a report: it samples, never runs a loop, is never blocked
            }
            long now = clock.getAsLong(); // the time of this look at it, not of the sample's start
            Watch w = watches.get(s);
            long points = (long) POINTS.getOpaque(s) + (long) IDLE_WAITS.getOpaque(s.loop);
            if (w == null) {
                w = new Watch();
                watches.put(s, w);
            }
            long handoffs = (long) HANDOFFS.getOpaque(s);
            boolean handedOff = handoffs != w.handoffs; // since the sample before: its code went on, through a generator
            w.handoffs = handoffs;
            if (points != w.points) {
                w.points = points; // it moved, or waited in its event loop: a stall seen before has ended
                w.stalled = false;
            }
            if (s.loop.isIdle() || !hasWork(s)) {
                w.stalled = false; // no stall now: one that comes begins after this sample
            } else if (!w.stalled) {
                // the first sample that sees it busy at this count: a stall, if it is one, began by now,
                // but not necessarily by the sample before (that saw it idle, or it has moved since)
                w.stalled = true;
                w.since = now;
                w.reported = 0;
            } else {
                long blocked = now - w.since;
                if (blocked >= thresholdNanos && (w.reported == 0 || blocked / 10 >= w.reported)) {
                    w.reported = blocked;
                    String report = report(s, w, blocked, points, handedOff);
                    if (report != null) {
                        reports.add(report);
                    }
                }
            }
        }
        return reports;
    }

    /** The threads of the schedulers this detector remembers now; for tests. Only from the thread that samples. */
    List<Thread> watched() {
        List<Thread> threads = new ArrayList<>();
        watches.forEach((s, w) -> threads.add(s.owner));
        return threads;
    }

    /**
     * Whether {@code s} has anything that a blocked thread stalls: another context, a timer, I/O, a
     * post that someone waits for (not a completion that wakes nobody, nor an operation its caller gave up, a close excepted,
     * nor a dump's request: see
     * {@link EventLoop#hasPendingForMainAlone}); from any thread.
     */
    static boolean hasWork(Scheduler s) {
        return s.runList.size() > 1 || s.loop.hasPendingForMainAlone();
    }

    /**
     * Reports {@code s}, blocked for {@code nanos} at {@code points} scheduling points and idle waits,
     * through the {@code dev.coro} logger and the JFR event; returns the message. The stack is taken
     * while the thread runs on: if it has reached a scheduling point (or an idle wait) by the time the
     * stack is taken, the stall is over and the frames may be of what the thread ran next, which the
     * report then says instead of passing them off as the stall's. A logger that throws (a handler of
     * the user's) loses that report's log line only: the event is recorded, and the detector goes on. If
     * nobody would see the report (the logger's level is above {@code WARNING} and no recording takes the
     * event), it is not made: no stack taken (a handshake with the blocked thread), no text; null then.
     * Nor is it made if the stack shows a virtual thread that waits for the JVM to run it, not code of the
     * context's ({@link #waitsToBeRun}): then no stall is under way, and {@code w} counts afresh from the next sample;
     * unless the context resumed a generator's body since the sample before ({@code handedOff}, on the thread engine):
     * its code goes on then, by turns on the body's thread and its own, and a look finds one of them parked in the
     * handoff as often as not, which is no scheduling point (the stall goes on, and is reported with that stack).
     * Nor if the scheduler's thread has ended by the time its stack is taken: it stalls nothing any more, and its
     * stack is empty; the next sample forgets it, as it does every thread that ended. On the thread engine the
     * stack is of the context's own thread, which ends if its body does as the stack is taken, while the scheduler's
     * thread goes on: the stack is taken again of the thread running the context current then, and the report says
     * the loop moved on ({@link RunnerStack}). If the scheduler's thread is found waiting in its event loop after a
     * body ended, none of its contexts running, the stall is over and no stack of a context is there to show: no
     * report, and {@code w} counts afresh from the next sample; nor is one made if every thread whose stack it took
     * had ended.
     */
    private String report(Scheduler s, Watch w, long nanos, long points, boolean handedOff) {
        boolean logged = warningsLogged();
        boolean recorded = Monitoring.jfr && BlockedLoop.enabled();
        if (!logged && !recorded) {
            return null;
        }
        int size = s.runList.size();
        // on the thread engine a body's thread that ends as its stack is taken is passed over for the thread
        // running the context current then, as the dump's listing from outside does
        RunnerStack taken = RunnerStack.take(s, stackOf);
        if (!s.owner.isAlive()) {
            return null; // it ended as its stack was taken: it stalls nothing any more, and has no stack to show
        }
        if (taken.idle) {
            // it waits in its event loop after a body ended, none of its contexts running: the stall is over, and
            // there is no stack of a context to show; as if it had been seen idle, it counts afresh
            w.stalled = false;
            w.reported = 0;
            return null;
        }
        if (taken.ended(s) != null) {
            return null; // each thread it took the stack of had ended: the stall is over, and no stack is left to show
        }
        Context c = taken.first;
        Thread runner = taken.runner;
        StackTraceElement[] frames = taken.frames;
        if (waitsToBeRun(runner, frames) && !handedOff) {
            w.stalled = false;
            w.reported = 0;
            return null;
        }
        boolean movedOn = (long) POINTS.getOpaque(s) + (long) IDLE_WAITS.getOpaque(s.loop) != points;
        int others = Math.max(0, size - 1);
        String stack = frames(frames);
        String message = c.describe() + " has blocked thread " + Scheduler.describe(s.owner) + " for "
                + EventLoop.millis(nanos) + " without reaching a scheduling point (yield, switchTo, a park, the end of its body): "
                + others + (others == 1 ? " other context cannot" : " other contexts cannot") + " run meanwhile"
                // only posts someone waits for: not an operation whose caller gave up, nor a dump's request
                + (s.loop.hasAwaitedPending(size <= 1) ? ", nor can its timers, I/O and posts from other threads be served" : "")
                + (movedOn ? ". It moved on as its stack was taken (a scheduling point or an idle wait came): the stack"
                        + " (thread " + Scheduler.describe(runner) + ") may be of what it ran next, not of the stall:\n"
                        : ". Its stack (thread " + Scheduler.describe(runner) + "):\n") + stack;
        if (logged) {
            try {
                System.getLogger("dev.coro").log(System.Logger.Level.WARNING, message);
            } catch (Throwable e) {
                survived("the dev.coro logger, given a report,", e); // a handler of the user's: the report still goes to JFR
            }
        }
        if (recorded) {
            BlockedLoop.record(c, s.owner, runner, nanos, others, stack, movedOn);
        }
        return message;
    }

    /**
     * After a sample of the running detector, on its thread: closes the coroutines that a log handler of a
     * report, which uses coro, left on this thread (created there and left suspended or parked), so that the
     * detector's own scheduler is left with no work: nothing would ever run them again on this thread,
     * whose main never reaches a scheduling point, so that a wait of theirs never ended, and whatever waits for
     * them waited for good, and the thread would seem a blocked loop itself. Unwound as {@link Coroutine#close()}
     * unwinds one, their {@code finally} blocks run; a close that throws is survived as a failure of the handler.
     */
    private static void closeLeftByHandlers() {
        Scheduler own = Scheduler.currentOrNull(); // null unless a handler used coro on this thread
        if (own == null || own.runList.size() <= 1) {
            return;
        }
        List<Throwable> failures = new ArrayList<>();
        try {
            own.closeCoroutines(failures);
        } catch (Throwable e) {
            failures.add(e);
        }
        for (Throwable e : failures) {
            survived("closing a coroutine a log handler of a report left on this thread", e);
        }
    }

    /**
     * Whether the {@code dev.coro} logger takes warnings now; true if it cannot tell (a logger of the user's that
     * throws), whose log call then says what fails ({@link #survived}).
     */
    private static boolean warningsLogged() {
        try {
            return System.getLogger("dev.coro").isLoggable(System.Logger.Level.WARNING);
        } catch (Throwable e) {
            return true;
        }
    }

    /**
     * Whether {@code runner}, whose stack is {@code frames}, is a virtual thread waiting for the JVM to run it
     * rather than running (or blocked in) the context's code: on the thread engine, where each body has a
     * virtual thread of its own, a body's thread that has not been mounted on a carrier yet (no frames: its
     * body never ran), or one parked in the engine's wait for its turn ({@link Turn}: the turn was handed to it,
     * or to a generator's consumer, whose thread has not run since). With every carrier busy (more virtual
     * threads ready than carriers) such a hand-over waits for a carrier as long as it takes: load, not a
     * context that holds its thread. The context has reached its scheduling point; a stall of its code, once it
     * runs, has frames of its own. Not so of a context that goes on through its generator's {@code next()} and
     * {@code emit}, which hand the turn between the body's thread and its consumer's with no scheduling point:
     * {@link #report} tells those by {@link Scheduler#generatorHandoffs}.
     */
    static boolean waitsToBeRun(Thread runner, StackTraceElement[] frames) {
        if (!runner.isVirtual()) {
            return false;
        }
        for (StackTraceElement f : frames) {
            String c = f.getClassName();
            if (!c.startsWith("java.") && !c.startsWith("jdk.")) {
                return c.equals(TURN);
            }
        }
        return true; // no frames, or only the JDK's: a virtual thread not mounted yet, its task not begun
    }

    /** The engine's wait for the turn, as a frame names its class. */
    private static final String TURN = Turn.class.getName();

    /** The first {@link #FRAMES} of {@code frames}, one {@code at} line each, then how many more. */
    static String frames(StackTraceElement[] frames) {
        StringBuilder b = new StringBuilder();
        int shown = Math.min(FRAMES, frames.length);
        for (int k = 0; k < shown; k++) {
            b.append("    at ").append(frames[k]).append('\n');
        }
        if (frames.length > shown) {
            b.append("    ... ").append(frames.length - shown).append(" more\n");
        }
        return b.toString();
    }
}
