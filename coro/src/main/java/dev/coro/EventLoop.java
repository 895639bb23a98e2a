package dev.coro;

import java.io.Closeable;
import java.io.IOException;
import java.lang.ref.Cleaner;
import java.lang.ref.WeakReference;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * A thread's event loop: its clock, its pending timers, its I/O waits, and the one place where the
 * thread waits when none of its contexts can run.
 *
 * <p>Its {@link Scheduler} asks it at every scheduling point whether anything is pending
 * ({@link #hasPending()} is a field read, so a yield pays nothing while nothing is), and then lets it
 * {@link #poll()}: expire due timers, and every 64th time (parks on I/O not counted) also ask the
 * selector (without waiting) which channels are ready, so that I/O is served even while some context
 * is always runnable. When every context is parked and something can still wake one, the scheduler
 * calls {@link #idle()}: the thread blocks in one {@code select} until the next timer (or, without I/O
 * waits, parks until it; under virtual time with no I/O wait the clock simply jumps there, and with
 * one it jumps once nothing has come for as long in real time), then
 * completes what is ready; when another thread may wake it, it first spins on its inbox for a
 * bounded, adaptive while ({@link #SPIN_NANOS}), so that a prompt post costs no unpark.
 * The selector is opened on the first I/O wait and closed when no channel is registered any more, or
 * when it fails (its waits failing with it: {@link #selectorFailed}).
 * The listeners and connections of the thread are kept weakly until closed ({@link OpenResource}):
 * one its user dropped unclosed is closed once the garbage collector finds it unreachable, and a loop
 * that ends for good ({@link #close()}, a pool thread leaving it) closes those still open, and its selector.
 * Time is kept in nanoseconds from the loop's origin, so deadlines never wrap;
 * {@link #nanoTime()} gives the user the scheduler's clock in {@link System#nanoTime()}'s terms.
 */
final class EventLoop {

    /**
     * The real clock's tick: a deadline on the real clock is rounded up to a multiple of it (65.536
     * µs), so that timers due close together share one entry of the {@link TimerQueue}; a timer's
     * deadline is at most one tick later than asked (while a context waits on I/O, the idle wait's
     * select counts whole milliseconds, and a timer may fire up to one later). Virtual deadlines are kept exact.
     */
    static final long TICK_NANOS = 1L << 16;

    private final TimerQueue timers = new TimerQueue();
    /** Loop time 0 on the real clock, in {@link System#nanoTime()} terms. */
    private final long origin = System.nanoTime();
    /** How many timers and I/O waits are pending: what can still wake a context. */
    private int pending;
    /** How many contexts wait on I/O. */
    private int ioWaits;
    /** How many contexts wait for another thread: a future, a channel of another thread, a shared channel. */
    private int foreignWaits;
    /** Tasks posted by other threads: wake-ups, and operations on this thread's channels. */
    final Inbox inbox = new Inbox();
    /**
     * The waits of this thread's contexts for operations on other threads' channels: while idle the
     * loop checks, at least once a second, that each of those threads is alive (one that ended
     * without running or completing the operation never will).
     */
    private final WaitQueue<ForeignWait> remoteWaits = new WaitQueue<>();
    /**
     * The wait of the one context parked while nothing else of this thread can run, set around its
     * idle wait: the spin before a block watches its state besides the inbox, so that its completion
     * is seen as soon as the completing thread writes it; a {@link PostedWait} is marked as watched
     * for the time of the spin, so that the completing thread hands it over instead of posting it.
     * Null if none.
     */
    Wait watched;
    /** The futures this thread's contexts wait for; null until the first such wait. */
    private FutureWaits futureWaits;
    /** How many spins before a park in a row ran their whole bound without a post (at most {@link #MAX_SPINS_IN_VAIN}). */
    private int spinsInVain;
    /** How many blocks park at once, without a spin, after a spin in vain (read by the test of this back-off). */
    int spinsToSkip;
    /** An interrupt that arrived during idle waits, given back to the thread when its wait ends. */
    private boolean interrupted;
    /** The selector; null until the first I/O wait, and again once no channel is registered. */
    private Selector selector;
    /**
     * The registered channels' keys, by channel. The selector's keys carry no attachment: it reaches no
     * wait, hence no context, so the {@link SelectorBox} that this loop's cleaning holds keeps nothing
     * alive that the frames of a context reach, this loop included (see {@link OpenResource}).
     */
    private final IdentityHashMap<SelectableChannel, IoKey> registered = new IdentityHashMap<>();
    /** {@link #selector}, as this loop's cleaning reaches it once this loop is gone. */
    private final SelectorBox selectorBox = new SelectorBox();
    /**
     * Closes {@link #selectorBox}'s selector once this loop is unreachable (its thread ended with a
     * context still waiting on I/O, so the selector was never closed); null until the first selector, and
     * while the cleaning thread cannot be started ({@link OpenResource#register}).
     */
    private Cleaner.Cleanable selectorCleaning;
    /** This loop, held weakly: how its listeners and connections reach it without keeping it alive. */
    final WeakReference<EventLoop> weakSelf = new WeakReference<>(this);
    /** The keys on which some context waits, for the periodic check for channels closed under them. */
    private final WaitQueue<IoKey> waitingKeys = new WaitQueue<>();
    /**
     * The listeners and connections of this thread not closed yet, each held weakly by its entry,
     * closed by {@link #close()}; null until the first. Owner thread only, and once it has ended, under
     * the loop's lock.
     */
    private Set<OpenResource> owned;
    /** Set once the loop has ended for good ({@link #close()}): its thread runs nothing of it any more. */
    private volatile boolean ended;
    /** How many readiness reports the selector has made to this loop, for tests. */
    long readyReports;
    /** How many times a selector of this loop has failed ({@link #selectorFailed}): its waits failed, a result for the virtual clock's quiet. */
    private long selectorFailures;
    /**
     * The selector's callback for a ready key: a result that came, wherever the selector was asked (the idle wait,
     * or a scheduling point while contexts stay runnable), so the virtual clock's quiet starts again.
     */
    private final Consumer<SelectionKey> onReady = k -> {
        readyReports++;
        quietNanos = 0;
        registered.get(k.channel()).ready(k.readyOps());
    };
    /** Counts polls, so that only every 64th asks the selector (and looks at the remote waits). */
    private int polls;
    /**
     * How many idle waits the loop has begun (a spin for a post, a park or a select: {@link #block}).
     * The blocked-loop detector reads it from its own thread ({@link Watchdog}): a thread that waited
     * in its event loop between two samples was not blocked across them, though it passed no
     * scheduling point (woken by a post that woke none of its contexts, or for its own periodic
     * checks, it waits again). One plain increment each.
     */
    long idleWaits;
    /** When the waiting keys were last checked for closed channels, in {@link System#nanoTime()} terms. */
    private long lastScan = System.nanoTime();
    /** When a busy thread's scheduling points last checked its remote waits for ended threads, in {@link System#nanoTime()} terms. */
    private long lastRemoteScan = System.nanoTime();
    /** Whether the clock is virtual ({@link VirtualTime#run}). */
    private boolean virtual;
    /** The virtual clock's time, while {@link #virtual}. */
    private long virtualNow;
    /**
     * Under virtual time, how long (real nanoseconds) the idle wait has waited for other threads or
     * for I/O in a row without a result arriving; reset when one arrives (a post, taken in by the idle wait or at a scheduling point, a readiness report,
     * or a wait that this thread ends itself: one on a thread that has ended, one on a channel found
     * closed, or every I/O wait when the selector fails) or the clock moves, and when a timer is scheduled (the quiet so far was counted against
     * the timers pending before it: a yield that waited with nothing else to run came back without a
     * result, and its context went on; counted against the new one, whether sooner than them or not,
     * it would cut short the real time of the wait that timer bounds). A post that only observes the
     * thread ({@link Inbox.Observation}) does not reset it. Left over from before a result, or from
     * before a timer was scheduled, it would let the clock jump past the next wait before that wait
     * had its time.
     */
    long quietNanos;

    /**
     * Whether a timer, an I/O wait, a wait for another thread, or a post from another thread is
     * pending; a field read and a volatile read, for every scheduling point.
     */
    boolean hasPending() {
        return pending != 0 || !inbox.isEmpty();
    }

    /**
     * Whether a scheduling point has nothing to take in now: no post, no due timer, and no I/O wait or
     * wait for another thread's operation whose checks count scheduling points ({@link #poll(boolean)}),
     * so that a {@link #poll} would do nothing. A few field reads, a volatile read, and the clock while
     * a timer is pending.
     */
    boolean nothingDue() {
        return ioWaits == 0 && inbox.isEmpty() && remoteWaits.isEmpty()
                && (timers.size() == 0 || timers.firstDeadline() > now());
    }

    /** Whether anything but a timer can wake a context: an I/O wait, a wait for another thread. */
    private boolean outsideCanWake() {
        return ioWaits != 0 || foreignWaits != 0;
    }

    /** Whether any timer is pending. */
    boolean hasTimers() {
        return timers.size() != 0;
    }

    /** How many contexts wait on I/O. */
    int ioWaitCount() {
        return ioWaits;
    }

    /**
     * {@link #hasPending()} for an observer on another thread about a thread with no coroutine besides
     * main, leaving out the posts that nobody waits for ({@link Inbox#holdsAwaitedPost()}): with main
     * alone and running, no context waits for any future or any other thread, so a completion posted
     * to it wakes nobody (its wait ended otherwise, by a timeout or a close, and the future or the
     * other thread completed it later), nor does an operation of another thread whose caller gave up,
     * or its withdrawal (a close excepted: it still closes, and may wake waiters of other threads), nor a
     * dump's request (the JMX view's, posted while a coroutine still ran); and such a post stays until the thread's next scheduling point, which a
     * thread that has moved on to other work may never reach.
     */
    boolean hasPendingForMainAlone() {
        return pending != 0 || inbox.holdsAwaitedPost();
    }

    /**
     * Whether a timer, an I/O wait, a wait for another thread, or a post from another thread that
     * someone waits for is pending ({@link Inbox#holdsAwaitedPost(boolean)}: not an operation whose
     * caller gave up, nor its withdrawal, nor a dump's request, nor, with {@code mainAlone}, a
     * completion); for an observer on another thread, or for the owner outside a scheduling point.
     */
    boolean hasAwaitedPending(boolean mainAlone) {
        return pending != 0 || inbox.holdsAwaitedPost(mainAlone);
    }

    /** Whether the owner blocks in its idle wait now: nothing of its own to do. Read by the blocked-loop watchdog. */
    boolean isIdle() {
        return inbox.isSleeping();
    }

    /** How many timers are pending. */
    int timerCount() {
        return timers.size();
    }

    /** Whether a context of this thread waits for something another thread may complete (its spin before a block watches for it). */
    boolean hasForeignWaits() {
        return foreignWaits != 0;
    }

    /** Whether a context of this thread waits for an operation another thread runs for it. */
    boolean hasRemoteWaits() {
        return !remoteWaits.isEmpty();
    }

    /** Whether the clock is virtual. */
    boolean isVirtual() {
        return virtual;
    }

    /** The loop's time: nanoseconds since its origin, or the virtual clock. */
    long now() {
        return virtual ? virtualNow : System.nanoTime() - origin;
    }

    /** The user's clock ({@link Coroutine#nanoTime()}): {@link System#nanoTime()}, or the virtual clock. */
    long nanoTime() {
        return virtual ? virtualNow : System.nanoTime();
    }

    /**
     * The loop time {@code nanos} (positive) from now, saturating instead of wrapping; on the real
     * clock rounded up to the next {@link #TICK_NANOS tick}.
     */
    long deadlineAfter(long nanos) {
        if (virtual) {
            long d = virtualNow + nanos;
            return d < virtualNow ? Long.MAX_VALUE : d;
        }
        long now = System.nanoTime() - origin;
        long d = now + nanos + (TICK_NANOS - 1);
        return d < now ? Long.MAX_VALUE : d & -TICK_NANOS;
    }

    /**
     * Schedules {@code t}, which is not pending, to expire at loop time {@code deadline}, after every
     * timer already scheduled for the same deadline. A deadline of {@code Long.MAX_VALUE}, past the
     * clock's range ({@link #deadlineAfter} saturates there), never comes: {@code t} is not queued and
     * stays not pending, so the virtual clock never jumps to the end of its range (after which every
     * later deadline would saturate too, and every later sleep would end at once).
     */
    void schedule(Timer t, long deadline) {
        t.deadline = deadline;
        if (deadline == Long.MAX_VALUE) {
            return;
        }
        if (virtual) {
            // the quiet so far was counted against the timers pending before this one (a yield that waited
            // came back without a result): this one gets its whole time, and they, if anything, more
            quietNanos = 0;
        }
        timers.add(t);
        pending++;
    }

    /** Cancels {@code t} if it is pending; nothing if it expired already. */
    void cancel(Timer t) {
        if (t.isPending()) {
            timers.remove(t);
            pending--;
        }
    }

    /**
     * Expires every due timer, earliest deadline first, ties in the order they were scheduled.
     */
    void runDue() {
        if (timers.size() == 0) {
            return;
        }
        long now = now();
        if (timers.firstDeadline() > now) {
            return;
        }
        do {
            Timer t = timers.poll();
            pending--;
            t.expire();
        } while (timers.size() != 0 && timers.firstDeadline() <= now);
    }

    /**
     * At a scheduling point: expires due timers and, every 64th time while a context waits on I/O,
     * completes the I/O waits whose channels are ready now (and, at most once a second, fails those
     * whose channels were closed behind the loop's back); every 64th time while a context waits for
     * an operation of another thread, at most once a second, ends those waits whose thread has ended.
     */
    void poll() {
        poll(true);
    }

    /**
     * Runs the posts that have come, if any, as a {@link #poll} does first: for a body's end, whose
     * idle wait comes with no poll before it. Under virtual time the clock then jumps past no
     * operation of another thread that came while the body ran (which the idle wait would otherwise
     * run only after its jump, at the next timer's deadline).
     */
    void takeInPosts() {
        if (!inbox.isEmpty()) {
            takeIn();
        }
    }

    /**
     * Runs the posts that have come, if any: at a scheduling point, at a body's end, or after the idle wait. Under
     * virtual time they are a result that came, as those the idle wait takes in are, unless every one
     * only observes the thread (a dump's request): the quiet starts again ({@link #quietNanos}), so that a quiet
     * counted before them (a yield that waited and came back without a result) does not cut short the real time of
     * the waits after them.
     */
    private void takeIn() {
        if (quietNanos != 0 && !inbox.isEmpty() && !inbox.onlyObservations()) {
            quietNanos = 0;
        }
        inbox.drain();
    }

    /**
     * {@link #poll()}, where {@code counts} says whether this scheduling point counts toward the
     * selector check. A park on I/O does not: the check is there for contexts that stay runnable
     * (yielding, or waking each other), and parks on I/O cannot keep the thread busy, since only the
     * selector wakes them again; once the runnable ones are done, the idle wait selects. Counting them
     * would ask the selector in the middle of a batch of connections it has just reported ready, and it
     * would report again every one of them not yet served.
     */
    void poll(boolean counts) {
        if (!inbox.isEmpty()) {
            takeIn();
        }
        if (timers.size() != 0) {
            runDue();
        }
        if (counts && (ioWaits != 0 || !remoteWaits.isEmpty()) && (++polls & 63) == 0) {
            if (ioWaits != 0) {
                select(-1);
                scanIfDue(); // a thread that never idles must find channels closed behind its back too
            }
            if (!remoteWaits.isEmpty()) {
                endRemoteWaitsOfEndedThreadsIfDue(); // and waits on channels of threads that have ended
            }
        }
    }

    /**
     * The idle wait: blocks until the earliest timer is due, a channel is ready, or another thread
     * posts (whichever comes first), then runs the posts, completes what is ready and expires every
     * due timer. Under virtual time with nothing but timers pending, the clock jumps to the earliest
     * deadline at once (the callers have run the posts that came before, {@link #poll} or
     * {@link #takeInPosts}); with an I/O wait or a wait for another thread the wait is real and the
     * clock does not move, unless nothing comes for as long as the next timer is away
     * ({@link #awaitOthersOnVirtualTime}). Something must be pending. It may return having done
     * nothing (callers loop); an interrupt does not end it, and is given back by {@link #restoreInterrupt()}.
     */
    void idle() {
        long first = timers.firstDeadline();
        if (virtual && !outsideCanWake() && timers.size() != 0) {
            if (first > virtualNow) {
                virtualNow = first;
            }
            quietNanos = 0;
        } else if (virtual && timers.size() != 0) {
            awaitOthersOnVirtualTime(first);
        } else {
            long left = timers.size() == 0 || virtual ? Long.MAX_VALUE : first - now();
            if (!remoteWaits.isEmpty()) {
                left = Math.min(left, SCAN_MILLIS * 1_000_000);
            }
            if (left > 0) {
                block(left, foreignWaits != 0 && !virtual);
            }
        }
        takeIn(); // a post come after the virtual wait's look at the inbox starts the quiet again too
        if (ioWaits != 0) {
            scanIfDue();
        }
        if (!remoteWaits.isEmpty()) {
            endRemoteWaitsOfEndedThreads();
        }
        runDue();
    }

    /**
     * The idle wait under virtual time while contexts wait for other threads or for I/O and a timer
     * is pending: the clock stands still while another thread or a channel may still wake a context
     * (so a result that comes keeps the readings of the clock reproducible), but not forever: once no
     * post and no readiness report has come for as long, in real time, as the next timer is away on
     * the virtual clock, the clock jumps to it. A {@code withTimeout} around an await of a future that
     * never completes, or around a read that no byte reaches, thus expires after its duration of real
     * time instead of blocking forever. But a future awaited that is complete has come, though the
     * post of its completion has not (the completing thread runs the newer callbacks of a future
     * first, and a slow one holds the post back): before the clock jumps, the waits on every such
     * future are woken, as the post will, and the clock stays. A park that returns early with nothing come (a
     * permit {@code LockSupport.unpark} left the thread, a spurious wake-up) waits on for the rest of its time:
     * it is no result, and a yield that came back from it with the clock unmoved would make the trace depend on
     * the JDK's wake-ups.
     */
    private void awaitOthersOnVirtualTime(long first) {
        long away = first - virtualNow;
        long left = away - quietNanos;
        if (!remoteWaits.isEmpty()) {
            left = Math.min(left, SCAN_MILLIS * 1_000_000); // and look for ended threads meanwhile
        }
        long start = System.nanoTime();
        long reports = readyReports;
        long failures = selectorFailures;
        if (left > 0) {
            long end = start + left;
            boolean parked;
            do {
                parked = ioWaits == 0; // else it waits in the selector, whose early returns are readiness or a post
                block(left, false); // virtual time: no spin; in the selector while a context waits on I/O
                left = end - System.nanoTime();
            } while (parked && left > 0 && inbox.isEmpty()); // a park woken by nothing (a stale permit) waits on
        }
        if (!inbox.onlyObservations() || readyReports != reports || selectorFailures != failures) { // a dump's request is no answer: the quiet goes on
            quietNanos = 0;
            return;
        }
        quietNanos += System.nanoTime() - start;
        if (quietNanos >= away) {
            quietNanos = 0;
            if (futureWaits != null && futureWaits.takeInCompleted()) {
                return; // a future awaited has completed, its post held back: that result came, the clock stays
            }
            virtualNow = Math.max(virtualNow, first);
        }
    }

    /**
     * With nothing pending here, waits for another thread: blocks until a post arrives, or a second
     * has passed (the caller checks again whether another thread may still wake it), then runs the posts.
     */
    void awaitOthers() {
        block(SCAN_MILLIS * 1_000_000, !virtual);
        inbox.drain();
        if (!remoteWaits.isEmpty()) {
            endRemoteWaitsOfEndedThreads();
        }
        runDue();
    }

    /** A context starts waiting for {@code w}, an operation on another thread's channel, until {@link #remoteWaitEnded}. */
    void remoteWaitStarted(ForeignWait w) {
        remoteWaits.add(w);
    }

    /** The wait {@code w} ended (completed, interrupted or ended). */
    void remoteWaitEnded(ForeignWait w) {
        remoteWaits.remove(w);
    }

    /** At most once a second: {@link #endRemoteWaitsOfEndedThreads}, for a thread that stays busy and never idles. */
    private void endRemoteWaitsOfEndedThreadsIfDue() {
        long now = System.nanoTime();
        if (now - lastRemoteScan >= SCAN_MILLIS * 1_000_000) {
            lastRemoteScan = now;
            endRemoteWaitsOfEndedThreads();
        }
    }

    /**
     * Ends every remote wait whose completer thread has ended: it will never run or complete the
     * operation, and the waiter's operation fails instead of waiting forever.
     */
    private void endRemoteWaitsOfEndedThreads() {
        for (ForeignWait w = remoteWaits.first(), next; w != null; w = next) {
            next = remoteWaits.next(w);
            if (w.completerEnded()) {
                w.end();
                quietNanos = 0; // a result came (the wait fails): the virtual clock's quiet starts again
            }
        }
        inbox.drain(); // the wake-ups just posted
    }

    /**
     * Blocks for at most {@code nanos} ({@code Long.MAX_VALUE}: until woken), in the selector if I/O
     * waits exist. With {@code spin} (another thread may post the wake-up) it first polls the inbox
     * for at most {@link #SPIN_NANOS}: a post that comes meanwhile costs its poster no unpark, and
     * this thread no trip through the kernel; only then does it publish that it sleeps ({@link Inbox#sleeping(Selector)}).
     */
    private void block(long nanos, boolean spin) {
        idleWaits++;
        if (Thread.interrupted()) {
            interrupted = true;
        }
        if (spin && SPIN_NANOS > 0 && spin(nanos)) {
            return;
        }
        Selector s = ioWaits != 0 ? selector : null;
        inbox.sleeping(s);
        try {
            if (!inbox.isEmpty()) {
                return;
            }
            if (Thread.currentThread() instanceof ForkJoinWorkerThread) {
                waitCompensated(s, nanos);
            } else {
                waitOnce(s, nanos);
            }
        } finally {
            inbox.awake();
            if (Thread.interrupted()) {
                interrupted = true;
            }
        }
    }

    /** One wait of {@link #block}: in the selector {@code s} if not null, else parked, for at most {@code nanos}. */
    private void waitOnce(Selector s, long nanos) {
        if (s != null) {
            select(nanos >= SCAN_MILLIS * 1_000_000 ? SCAN_MILLIS : (nanos + 999_999) / 1_000_000);
        } else if (nanos == Long.MAX_VALUE) {
            LockSupport.park(this);
        } else {
            LockSupport.parkNanos(this, nanos);
        }
    }

    /**
     * {@link #waitOnce} on a worker of a {@code ForkJoinPool} (a scheduler made there, e.g. by an await
     * in a {@code supplyAsync} task), as a managed block: the pool may start another worker meanwhile,
     * as it does while a {@code CompletableFuture.join()} waits there. A wait it does not know of keeps
     * the worker counted busy, and the tasks this thread waits for, queued on the same pool, would never
     * run once every worker waits so (at once on a pool of one worker). A pool that can add no worker
     * (at its limit of spares), or that is stopping (its managed blocks then throw at once), gets the plain wait.
     */
    private void waitCompensated(Selector s, long nanos) {
        try {
            ForkJoinPool.managedBlock(new ForkJoinPool.ManagedBlocker() {
                @Override
                public boolean block() {
                    waitOnce(s, nanos);
                    return true;
                }

                @Override
                public boolean isReleasable() {
                    return !inbox.isEmpty();
                }
            });
        } catch (InterruptedException e) {
            // block() throws none: the pool is stopping (shutdownNow), and throws this at once, nothing waited
            // for, at every managed block from now on; the plain wait, or every idle wait would return at once
            // and the loop spin until what it waits for came (an interrupt of the thread is the flag's, kept by block)
            waitOnce(s, nanos);
        } catch (RejectedExecutionException e) {
            waitOnce(s, nanos);
        }
    }

    /**
     * The adaptive spin before a park: polls the inbox for at most {@link #SPIN_NANOS} (or
     * {@code nanos}, if a timer is due sooner), unless recent spins were in vain. A spin that ran its
     * whole bound for nothing makes the next 1, 3, 7 ... 63 blocks park at once (the count doubling
     * with each spin in vain in a row); one that catches a post resets that. So a loop whose partner
     * answers within the bound spins every time, and one whose wake-ups come late (a loaded machine,
     * where the spinner only takes the CPU its partner needs, or a thread idle for long) hardly spins.
     *
     * @return whether a post arrived
     */
    boolean spin(long nanos) {
        if (spinsToSkip > 0) {
            spinsToSkip--;
            return false;
        }
        if (spinForPost(Math.min(nanos, SPIN_NANOS))) {
            spinsInVain = 0;
            return true;
        }
        if (nanos >= SPIN_NANOS) { // cut short by a timer, it says nothing about the partner
            spinsInVain = Math.min(spinsInVain + 1, MAX_SPINS_IN_VAIN);
            spinsToSkip = (1 << spinsInVain) - 1;
        }
        return false;
    }

    /** After this many spins in vain in a row, a loop spins only before one block in 2^this. */
    private static final int MAX_SPINS_IN_VAIN = 6;

    /**
     * Polls the inbox (and the {@link #watched} wait) for at most {@code nanos} with
     * {@link Thread#onSpinWait()}, without publishing that it sleeps: posters meanwhile only queue.
     *
     * @return whether a post arrived, or the watched wait completed
     */
    private boolean spinForPost(long nanos) {
        Wait w = watched;
        if (w instanceof PostedWait<?> p) {
            p.watch();
            boolean seen;
            try {
                seen = spinUntilPosted(nanos, w);
            } catch (Throwable t) { // an error of the thread's stack: the wait is left unwatched all the same
                p.unwatch();
                throw t;
            }
            return p.unwatch() | seen; // handed over: it has run, as its post would have
        }
        return spinUntilPosted(nanos, w);
    }

    /** The loop of {@link #spinForPost}: polls the inbox and {@code w} (if not null). */
    private boolean spinUntilPosted(long nanos, Wait w) {
        long start = System.nanoTime();
        for (int i = 1; ; i++) {
            if (!inbox.isEmpty() || w != null && w.completedAfar()) {
                return true;
            }
            Thread.onSpinWait();
            if ((i & 15) == 0 && System.nanoTime() - start >= nanos) {
                return !inbox.isEmpty();
            }
        }
    }

    /** Gives back to the thread an interrupt that arrived while it was idle; called when its wait ends. */
    void restoreInterrupt() {
        if (interrupted) {
            interrupted = false;
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Posts {@code task} to run on the owner thread at its next scheduling point or idle wait, waking
     * the owner if it is idle; from any thread.
     */
    void post(Runnable task) {
        if (!inbox.post(task)) {
            refused(task);
        }
    }

    /** The futures this thread's contexts wait for, one callback per future (owner thread only). */
    FutureWaits futureWaits() {
        FutureWaits w = futureWaits;
        if (w == null) {
            w = futureWaits = new FutureWaits(this);
        }
        return w;
    }

    /**
     * The owner's scheduler ends (a pool thread leaves its loop): posts are refused from now on, and
     * those that arrived since the last scheduling point are dropped unrun; an operation of another
     * thread among them fails its caller (the channel's thread has ended) instead of never being served.
     * Then every listener and connection of the thread still open is closed (quietly: the thread has
     * nobody to tell), and the selector too, as an event-loop group's shutdown closes its channels:
     * nobody could close them any more, nor select again to release a closed channel's descriptor. An
     * {@code Error} of the JDK's in a close (its selector cannot wake, say) is thrown once all are closed.
     */
    void close() {
        Posted next;
        for (Posted n = inbox.closeTaking(); n != null; n = next) { // allocating nothing: none is left unrefused
            next = Inbox.after(n); // first: a refused poster may post it again
            refused(Inbox.task(n));
        }
        closeForGood();
    }

    /** {@link #close()}'s second half, under the lock that {@link #closeAbandoned} takes. */
    private synchronized void closeForGood() {
        ended = true;
        Error first = null;
        if (owned != null) {
            for (OpenResource e : owned.toArray(new OpenResource[0])) {
                Closeable c = e.get();
                try {
                    if (c != null) {
                        c.close(); // on the owner thread: the owner's close, which disowns it
                    } else { // collected, and its cleaning action has not reached the loop
                        e.closed();
                        e.closeChannel(); // unless another resource took it over
                    }
                } catch (IOException | RuntimeException x) {
                    // the JDK failed to close a socket of a thread that ends: nobody is left to tell
                } catch (Error x) {
                    // the JDK's selector failed (it cannot write its wake-up, say): the others are closed
                    // all the same, and the first such failure is thrown once they are
                    if (first == null) {
                        first = x;
                    } else {
                        first.addSuppressed(x);
                    }
                }
            }
            owned = null;
        }
        closeSelector();
        if (first != null) {
            throw first;
        }
    }

    /** Closes the selector, if open: every registration ends, and a channel closed while registered loses its descriptor now. */
    private void closeSelector() {
        Selector s = selector;
        if (s != null) {
            selector = null;
            selectorBox.selector = null;
            registered.clear();
            try {
                s.close();
            } catch (IOException e) {
                // its descriptors go either way
            }
        }
    }

    /**
     * The loop's selector in a box of its own, which the loop's cleaning holds: once the thread has
     * ended leaving a context waiting on I/O (or a listener or connection held by its own contexts
     * alone, which hold the loop only weakly: {@link OpenResource}), the loop and those contexts become
     * unreachable together, and the cleaning closes the selector through this box, whose registrations
     * would otherwise hold their channels' descriptors (a listener's port) for good. It reaches nothing
     * but the selector, which reaches no context, so it keeps nothing of the loop alive.
     */
    static final class SelectorBox {
        /** The loop's selector, or null; written by the loop, read by the cleaning thread once the loop is gone. */
        volatile Selector selector;

        /** Closes the selector of a loop that is gone with its thread, if it had one. */
        void close() {
            Selector s = selector;
            if (s != null) {
                selector = null;
                try {
                    s.close();
                } catch (IOException e) {
                    // its descriptors go either way
                }
            }
        }
    }

    /**
     * {@code resource}, a listener or connection of this thread whose socket is {@code channel}, is
     * closed by {@link #close()} unless {@link #disown disowned} first, and by the cleaning thread if it
     * becomes unreachable unclosed. Owner thread only.
     *
     * @return the loop's entry for it, to {@link #disown} it by
     */
    OpenResource adopt(Closeable resource, SelectableChannel channel, Thread owner) {
        OpenResource e = new OpenResource(resource, channel, this, owner);
        Set<OpenResource> o = owned;
        if (o == null) {
            o = owned = new HashSet<>();
        }
        o.add(e);
        return e;
    }

    /** The resource of {@code entry} was closed: the loop forgets it, and so does the cleaning thread. */
    void disown(OpenResource entry) {
        if (owned != null) {
            owned.remove(entry);
        }
        entry.closed();
    }

    /**
     * The resource of {@code entry} hands its open {@code channel} on (a connection's {@code detach()}), nobody
     * waiting on it: its registration ends now ({@link #release}: the key cancelled and dropped by a
     * {@code selectNow} that serves what it reports, so the channel can be registered elsewhere or made blocking),
     * and the loop and the cleaning thread forget the resource without closing the channel; the entry is marked
     * handed off first, so that a close from another thread once this thread has ended leaves the channel alone
     * ({@link #closeAbandoned}). Owner thread only.
     */
    void handOff(OpenResource entry, SelectableChannel channel) {
        release(channel);
        entry.handedOff();
        disown(entry);
    }

    /**
     * The cleaning thread found the resource of {@code entry} unreachable, unclosed: no context waits
     * on its channel (a wait names the resource) and nobody can use it again. Posts the entry, so that
     * the owner thread forgets it and ends the channel's registration at its next scheduling point
     * ({@link #closeCollected}), then closes the channel: its peer reads the end of the stream at once,
     * though a channel registered with the selector keeps its descriptor until that registration ends.
     * A channel another resource took over meanwhile ({@link OpenResource#takeOver}) is left alone: only the
     * entry is forgotten.
     * If the owner has ended, or its loop has, nobody will take the post: the channel's registration
     * ends with the selector, closed here under the loop's lock (see {@link #closeAbandoned}).
     */
    void collected(OpenResource entry) {
        boolean posted;
        try {
            posted = inbox.postAsNode(entry);
        } finally {
            // also when waking the owner throws (the JDK's selector cannot write its wake-up): the post
            // is in, and the socket must not stay open behind it
            try {
                entry.closeChannel(); // unless another resource took it over
            } catch (IOException e) {
                // nobody holds the resource any more to be told
            }
        }
        if (!posted || ended || !entry.owner.isAlive()) {
            forgetCollected(entry);
        }
    }

    /** {@link #collected}'s end when the owner may take no post: under the lock, once it has ended. */
    private synchronized void forgetCollected(OpenResource entry) {
        if (ended || !entry.owner.isAlive()) {
            if (owned != null) {
                owned.remove(entry);
            }
            closeSelector();
        } // else the loop is ending now (its inbox closed, not yet its resources): its end closes them all
    }

    /**
     * The owner thread takes the post of {@link #collected}: forgets the entry, ends its channel's
     * registration (nobody waits on it), which releases the descriptor of a channel the cleaning
     * thread has closed already, closes the selector if nothing else is registered, and closes the channel;
     * unless another resource took the channel over ({@link OpenResource#takeOver}), perhaps one of this thread
     * registered with this selector: then it only forgets the entry.
     */
    void closeCollected(OpenResource entry) {
        if (owned != null) {
            owned.remove(entry);
        }
        if (entry.isTakenOver()) {
            return; // another resource's now, perhaps of this thread and registered for it: left alone
        }
        release(entry.channel);
        try {
            entry.closeChannel();
        } catch (IOException e) {
            // nobody holds the resource any more to be told
        }
    }

    /** Whether the loop has ended for good ({@link #close()}): its thread runs nothing of it any more. */
    boolean hasEnded() {
        return ended;
    }

    /**
     * Whether the loop is ending or has ended ({@link #close()}): its inbox refuses every post, and its thread,
     * alive still for a moment, runs none of its coroutines again; it is left to close what they left open, under
     * the lock {@link #closeAbandoned} takes. From any thread.
     */
    boolean isEnding() {
        return ended || inbox.isClosed();
    }

    /**
     * Another thread closes {@code entry}'s resource, which belongs to this loop, whose owner thread
     * has ended (or whose loop has): it closes the channel, then the selector, since the
     * JDK closes the descriptor of a channel still registered only when its selector next selects or is
     * closed, and this one will never select again. The ended thread's other channels stay open,
     * unregistered, until they are closed too. Closes under the loop's lock, so that closes by several
     * threads, and the end of a pool thread's loop, take turns.
     *
     * A resource whose channel was {@link #handOff handed off} is closed already, and its channel, another's now,
     * is left alone.
     *
     * @return false, having done nothing, while the owner thread still runs this loop (its inbox open: a pool
     *         thread whose inbox is closed is leaving its loop, and closes the rest it left open after this)
     */
    synchronized boolean closeAbandoned(OpenResource entry) throws IOException {
        if (!isEnding() && entry.owner.isAlive()) {
            return false;
        }
        if (entry.isHandedOff()) {
            return true; // its channel was handed on before the thread ended: another's now, left open
        }
        disown(entry); // the owner's writes are visible: it has ended, or wrote them under this lock
        try {
            entry.channel.close();
        } finally {
            closeSelector();
        }
        return true;
    }

    /**
     * A post this loop will never run: an operation of another thread on one of its channels fails its caller,
     * and a pool's body handed to a thread whose loop ended fails ({@link Posted#postRefused}).
     */
    private static void refused(Object task) {
        if (task instanceof RemoteOp<?> op) {
            op.ownerEnded();
        } else if (task instanceof Posted p) {
            p.postRefused();
        }
    }

    /** A context starts waiting for another thread: the thread does not report a deadlock meanwhile. */
    void foreignWaitStarted() {
        foreignWaits++;
        pending++;
    }

    /** A wait for another thread ended. */
    void foreignWaitEnded() {
        foreignWaits--;
        pending--;
    }

    /**
     * How long a loop that is about to block, and may be woken by another thread, first polls its
     * inbox ({@code coro.spinNanos}, in nanoseconds; 0: never): see docs/THREADS.md.
     */
    static final long SPIN_NANOS = configuredSpin();

    /** {@code coro.spinNanos}, or the default (with a warning) if it is not a valid bound. */
    private static long configuredSpin() {
        try {
            return spinNanos(System.getProperty(SPIN_PROPERTY));
        } catch (IllegalArgumentException e) {
            Warnings.defer(e.getMessage() + "; spinning " + DEFAULT_SPIN_NANOS + " ns instead"); // logged once a scheduler is made
            return DEFAULT_SPIN_NANOS;
        }
    }

    /** The system property that bounds the spin before a loop parks. */
    static final String SPIN_PROPERTY = "coro.spinNanos";

    /**
     * The spin bound given by {@code value} (the property's text; null: the default).
     *
     * @throws IllegalArgumentException if it is not a whole number of nanoseconds from 0 to {@link #MAX_SPIN_NANOS}; one that
     *         is not a whole number is quoted as {@link SafeText#name} shows a user-given name: blanks around it show, a line
     *         break cannot split the warning
     */
    static long spinNanos(String value) {
        if (value == null) {
            return DEFAULT_SPIN_NANOS;
        }
        long n;
        try {
            n = Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("coro.spinNanos must be a whole number of nanoseconds (0 or more), not '"
                    + SafeText.name(value) + "'", e);
        }
        if (n < 0) {
            throw new IllegalArgumentException("coro.spinNanos must be 0 (never spin) or more nanoseconds, not " + n);
        }
        if (n > MAX_SPIN_NANOS) {
            throw new IllegalArgumentException("coro.spinNanos must be at most " + MAX_SPIN_NANOS + " nanoseconds (1 s: a"
                    + " longer spin holds a core while its thread has nothing to do, and a wake-up never takes that long), not " + n);
        }
        return n;
    }

    /**
     * The longest spin {@code coro.spinNanos} may ask for: a second, ten thousand times the longest wake-up through
     * the kernel measured on a virtual machine; a larger value is a slip of the unit (a count of microseconds or
     * milliseconds written as nanoseconds gives far less), and would keep an idle pool thread's core busy for that long.
     */
    static final long MAX_SPIN_NANOS = 1_000_000_000L;

    /** The default spin before a loop parks, when another thread may wake it. */
    static final long DEFAULT_SPIN_NANOS = 100_000;

    /** The longest a select blocks, so that waits on channels closed under them are found. */
    private static final long SCAN_MILLIS = 1000;

    /**
     * One select: {@code millis} -1 for none (just what is ready now), else at most that long.
     * Completes the waits of every ready channel; if the selector fails, fails them all ({@link #selectorFailed}).
     */
    private void select(long millis) {
        try {
            SelectorHook hook = beforeSelecting;
            if (hook != null) {
                hook.accept(selector);
            }
            if (millis < 0) {
                selector.selectNow(onReady);
            } else {
                selector.select(onReady, millis);
            }
        } catch (IOException e) {
            selectorFailed(e);
        }
    }

    /**
     * The selector failed with {@code e} (a select or a {@code selectNow} threw it): no wait on it can
     * be trusted to complete any more. Every I/O wait fails, its context throwing an
     * {@link IOException} that names it, its wait and the state of what it waited on, with {@code e}
     * as its cause ({@link IoSupport}), as a wait that cannot open the selector does; the selector is
     * closed, which ends every registration with it, and the next wait opens a new one. The failure
     * is reported to the waiters, not thrown from whichever call of the loop met it (a close, the idle
     * wait of some context), whose caller has nothing to do with it.
     */
    private void selectorFailed(IOException e) {
        for (IoKey k; (k = waitingKeys.first()) != null; ) {
            k.selectorFailed(e); // its last wait leaving takes it off the waiting keys
            if (waitingKeys.first() == k) {
                waitingKeys.remove(k); // listed while a stack overflow stopped a wait that listed it (IoKey.add)
            }
        }
        selectorFailures++;
        quietNanos = 0; // a result came (the waits fail): the virtual clock's quiet starts again
        closeSelector();
    }

    /**
     * At most once a second: fails the waits on channels that were closed without telling the loop, and
     * ends the watch for {@code OP_CONNECT} of sockets whose connect is over ({@link #connectOverIfWatched}).
     */
    private void scanIfDue() {
        long now = System.nanoTime();
        if (now - lastScan < SCAN_MILLIS * 1_000_000) {
            return;
        }
        lastScan = now;
        for (IoKey k = waitingKeys.first(), next; k != null; k = next) {
            next = waitingKeys.next(k);
            if (!k.channel.isOpen() || !k.key.isValid()) {
                k.fail("its channel was closed while it waited");
                quietNanos = 0; // a result came (the wait fails): the virtual clock's quiet starts again
            } else {
                connectOverIfWatched(k);
            }
        }
    }

    /**
     * If the selector watches {@code OP_CONNECT} on {@code k}'s socket and its connect is over (another
     * context called {@code finishConnect} while an {@code Io.await} of {@code OP_CONNECT} was parked,
     * or woken and not yet run): the JDK never reports {@code OP_CONNECT} on a connected socket, while
     * the kernel reports it writable at every select, so the waits for it would park for good and the
     * thread's selects would return at once, spinning the thread. Completes those waits, as readiness
     * would (a connect over is what they waited for), and stops watching {@code OP_CONNECT}, which no
     * wait can ask for again on that socket.
     */
    private void connectOverIfWatched(IoKey k) {
        if (k.channel instanceof SocketChannel socket && !socket.isConnectionPending()) {
            int interest;
            try {
                interest = k.key.interestOps();
            } catch (CancelledKeyException e) {
                return; // closed since: the next scan fails its waits
            }
            if ((interest & SelectionKey.OP_CONNECT) != 0) {
                k.connectOver();
                quietNanos = 0; // a result came: the virtual clock's quiet starts again
            }
        }
    }

    // ---- I/O waits -----------------------------------------------------------------------------

    /**
     * Starts the wait of {@code context} for {@code channel} (non-blocking) to be ready for {@code ops}:
     * registers the channel with the selector if needed and queues the wait on its key, last or, if
     * {@code first}, ahead of the others.
     *
     * @param operation what the context is doing, for dumps and messages
     * @throws ClosedChannelException if the channel is closed, also by another thread while it registers
     * @throws java.nio.channels.IllegalBlockingModeException if the channel was put in blocking mode
     *         since the caller's check (the JDK's refusal, with no message: the caller words it)
     * @throws java.nio.channels.IllegalSelectorException if the channel is no channel the default
     *         provider made, though it names that provider (the JDK's refusal, with no message)
     */
    IoWait register(SelectableChannel channel, int ops, Context context, Object operation, boolean first)
            throws IOException {
        if (selector == null) {
            selector = selectorBox.selector = Selector.open();
            if (selectorCleaning == null) {
                // a thread that ends with a context parked here leaves the selector open: close it once the loop is
                // gone (null if the cleaning thread could not be started: tried again with the next selector)
                selectorCleaning = OpenResource.register(this, selectorBox::close);
            }
        }
        SelectionKey k = channel.keyFor(selector);
        if (k != null && !k.isValid()) {
            try {
                selector.selectNow(onReady); // a key cancelled but not yet deregistered: flush it
            } catch (IOException e) {
                selectorFailed(e); // the other waiters are told; the caller's wait, not started, fails with e
                throw e;
            }
            k = null;
        }
        IoKey key;
        if (k == null) {
            k = channel.register(selector, 0);
            key = new IoKey(this, channel, k);
            registered.put(channel, key);
        } else {
            key = registered.get(channel);
        }
        IoWait w = key.take(context, ops, operation);
        Consumer<SelectableChannel> hook = beforeWatching;
        if (hook != null) {
            hook.accept(channel);
        }
        key.add(w, first);
        ioWaits++;
        pending++;
        return w;
    }

    /**
     * For tests: run by {@link #register} once the channel is registered, just before its key is told
     * to watch the wait's operations, where another thread may close the channel; null (the default): nothing.
     */
    static Consumer<SelectableChannel> beforeWatching;

    /** A wait left its key's queue (completed or interrupted). */
    void ioWaitEnded() {
        ioWaits--;
        pending--;
    }

    /** {@code key} has a wait now. */
    void keyWaiting(IoKey key) {
        if (!key.queued) { // it is already if a stack overflow stopped the wait that listed it (IoKey.add)
            waitingKeys.add(key);
        }
    }

    /** {@code key} has no wait any more. */
    void keyIdle(IoKey key) {
        waitingKeys.remove(key);
    }

    /**
     * {@code channel} is about to be closed by its owner: every wait on it fails with an exception
     * saying {@code why}, and its registration ends now, so that the close that follows closes the
     * socket at once; the selector closes once no channel is left.
     *
     * <p>The JDK closes a channel that is still registered with a selector (its key cancelled but not
     * yet dropped) only when that selector next selects: until then its descriptor stays open and a
     * listening socket keeps accepting connections into its backlog. So the key is dropped here by a
     * {@code selectNow}, whose readiness reports are served as any select's are. Ignoring them would
     * cost a storm of closes (10,000 peers reset at once) one report of every ready channel per close,
     * quadratic; served, a ready channel's waits complete and a channel nobody waits on leaves the
     * interest set, so each is reported once or twice.
     */
    void closing(SelectableChannel channel, String why) {
        SelectionKey k = keyOf(channel);
        if (k == null) {
            return;
        }
        IoKey key = registered.remove(channel);
        if (key != null) { // null: a release the selector failed in had forgotten it, its key cancelled already
            key.fail(why);
        }
        deregister(k);
    }

    /**
     * The caller is done with {@code channel} (an {@code Io.await} on it returned or threw): unless a
     * context still waits on it, its registration ends now. The loop never hears of a close by the
     * channel's user, so a registration kept for later would keep the selector, and its descriptors,
     * open after the channel is gone, and after the thread has ended.
     */
    void release(SelectableChannel channel) {
        if (selector == null) {
            return;
        }
        SelectionKey k = channel.keyFor(selector);
        if (k != null) {
            // no IoKey for a key that is still there: a drop that the selector failed in unchecked (its
            // failure thrown to the caller then) left it cancelled, its channel forgotten
            IoKey key = registered.get(channel);
            if (key != null && key.hasWaits()) {
                return;
            }
            k.cancel();
        }
        registered.remove(channel);
        dropCancelled(); // also when a select dropped the key already: a channel closed while it was awaited
    }

    /**
     * An acceptor of the listening {@code channel}, woken in its turn, took a connection: the next
     * acceptor waiting on it, if any, is woken to take the next ({@link IoKey#passAccept}).
     */
    void passAccept(SelectableChannel channel) {
        IoKey key = selector == null ? null : registered.get(channel);
        if (key != null) {
            key.passAccept();
        }
    }

    /** How many contexts wait on {@code channel}, queued on its key; 0 if it is not registered. */
    int waitsOn(SelectableChannel channel) {
        IoKey key = selector == null ? null : registered.get(channel);
        return key == null ? 0 : key.waitCount();
    }

    /**
     * {@code channel} stays registered, but the selector stops watching {@code ops} on it (nobody waits
     * for them): a change of the key's interest, no new registration; nothing if it is not registered.
     */
    void unwatch(SelectableChannel channel, int ops) {
        IoKey key = selector == null ? null : registered.get(channel);
        if (key != null && !key.hasWaits()) {
            key.unwatch(ops);
        }
    }

    /** {@code channel}'s key with this loop's selector; null if it has none. */
    private SelectionKey keyOf(SelectableChannel channel) {
        return selector == null ? null : channel.keyFor(selector);
    }

    /** Ends the registration {@code k} at once (see {@link #closing}). */
    private void deregister(SelectionKey k) {
        k.cancel();
        dropCancelled();
    }

    /**
     * Drops the cancelled keys now, by a {@code selectNow} that serves what it reports (see
     * {@link #closing}); then closes the selector if no channel is registered and nobody waits. If the
     * selector fails with an {@code IOException}, its waiters are told and it is closed
     * ({@link #selectorFailed}): the registrations end all the same, and the caller goes on.
     */
    private void dropCancelled() {
        try {
            SelectorHook hook = beforeDropping;
            if (hook != null) {
                hook.accept(selector);
            }
            selector.selectNow(onReady);
        } catch (IOException e) {
            selectorFailed(e); // closed with every registration: nothing is left to drop
            return;
        }
        if (ioWaits == 0 && selector.keys().isEmpty()) {
            try {
                selector.close();
            } catch (IOException e) {
                // nothing is registered any more: the selector's own descriptors go either way
            }
            selector = selectorBox.selector = null;
            registered.clear();
        }
    }

    /**
     * For tests: run by {@link #dropCancelled} just before its {@code selectNow}, where a test fakes the
     * selector's failure by throwing (an {@code IOException} as the {@code selectNow} would); null (the default): nothing.
     */
    static SelectorHook beforeDropping;

    /**
     * For tests: run by {@link #select} (a scheduling point's or the idle wait's) just before it selects,
     * where a test fakes the selector's failure by throwing; null (the default): nothing.
     */
    static SelectorHook beforeSelecting;

    /** What a test runs with the selector at a seam of the loop, and may fail as the selector would. */
    @FunctionalInterface
    interface SelectorHook {
        /** Runs with {@code selector}. */
        void accept(Selector selector) throws IOException;
    }

    /** Switches to a virtual clock at 0; no timer may be pending. */
    void startVirtual() {
        virtual = true;
        virtualNow = 0;
        quietNanos = 0;
    }

    /** Back to the real clock; timers left on the virtual clock are dropped. */
    void stopVirtual() {
        while (timers.size() != 0) {
            timers.poll();
            pending--;
        }
        virtual = false;
    }

    /**
     * A deadline for messages: what is left until it, e.g. {@code 42.000 ms left}, and under virtual
     * time the clock reading too, e.g. {@code t=1,250.000 ms on the virtual clock, 42.000 ms left};
     * {@code never} for a deadline past the clock's range.
     */
    String describeDeadline(long deadline) {
        if (deadline == Long.MAX_VALUE) {
            return "never";
        }
        long left = deadline - now();
        String rest = left > 0 ? millis(left) + " left" : "due";
        return virtual ? "t=" + millis(deadline) + " on the virtual clock, " + rest : rest;
    }

    /**
     * Nanoseconds as milliseconds, e.g. {@code 1,012.500 ms}, the same in every locale: the text of
     * {@code String.format(Locale.ROOT, "%,.3f ms", nanos / 1e6)}, written out without a formatter
     * (it describes every park a recording keeps, and a formatter costs microseconds) wherever the
     * double of the division keeps every digit the text shows, as it does below 2<sup>50</sup> ns (13 days).
     */
    static String millis(long nanos) {
        if (nanos == Long.MAX_VALUE) {
            return "never";
        }
        if (nanos <= -EXACT_NANOS || nanos >= EXACT_NANOS) {
            return String.format(Locale.ROOT, "%,.3f ms", nanos / 1e6);
        }
        long n = Math.abs(nanos);
        long micros = n / 1000 + (n % 1000 >= 500 ? 1 : 0); // half up, as the format rounds
        StringBuilder b = new StringBuilder(24);
        if (nanos < 0) {
            b.append('-');
        }
        String whole = Long.toString(micros / 1000);
        int head = whole.length() % 3 == 0 ? 3 : whole.length() % 3;
        b.append(whole, 0, head);
        for (int i = head; i < whole.length(); i += 3) {
            b.append(',').append(whole, i, i + 3);
        }
        int frac = (int) (micros % 1000);
        b.append('.').append((char) ('0' + frac / 100)).append((char) ('0' + frac / 10 % 10)).append((char) ('0' + frac % 10));
        return b.append(" ms").toString();
    }

    /** Below this many nanoseconds, in magnitude, the double of their milliseconds rounds to the same three decimals as the long. */
    private static final long EXACT_NANOS = 1L << 50;
}
