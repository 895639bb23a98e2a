package dev.coro;

import dev.coro.CoroutinePool.Failure;
import dev.coro.CoroutinePool.Task;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/** One pool thread: its main context starts submitted bodies as coroutines and otherwise waits in the event loop. */
final class PoolWorker implements Wait {
    final CoroutinePool pool;
    final PoolThread thread;
    final AtomicInteger live = new AtomicInteger();
    /** The bodies submitted to it and not started yet, oldest first; the room a burst took is given back once they have started. */
    final Fifo<Task> tasks = new Fifo<>();
    /**
     * The started bodies whose futures were cancelled with {@code cancel(true)}, the last asked first, linked
     * through {@link Task#nextToClose}: main closes their coroutines. A stack pushed with a compare-and-set
     * from any thread, so that a request allocates nothing (a cancel that fails for want of memory does not
     * leave the body it cancelled running, for {@link CoroutinePool#close()} to wait for).
     */
    private final AtomicReference<Task> toClose = new AtomicReference<>();
    /** Whether it has told the pool it has no coroutine left (while closing, or once its loop ended: {@link #died}). */
    private boolean idle;
    /**
     * What ended its loop while it served (an {@code Error} of its machinery, see {@link #died}): from then on
     * no body is placed here, and one that was is refused, failing; null while it serves, and after an
     * ordinary end.
     */
    volatile Throwable endedBy;
    /** The body whose coroutine main is making now (set and read on this thread); null otherwise. */
    private Task making;
    private volatile Scheduler scheduler;
    final CompletableFuture<Scheduler> started = new CompletableFuture<>();
    /** Whether {@link #wakeAgainPost} is posted and has not run yet. */
    private final AtomicBoolean wakeAgainPosted = new AtomicBoolean();
    /** The post of {@link #wakeAgain}, made with the worker: the wake-up of a refused body allocates nothing. */
    private final Posted wakeAgainPost = new Inbox.Node(() -> {
        wakeAgainPosted.set(false); // first: a count given back after this is woken for by a post of its own
        wake();
    });

    /**
     * A worker whose thread takes the daemon status, priority and thread group of {@code startedBy}, the
     * thread that started the pool, or whose scheduler did: a pool started in a body has threads of its
     * owner thread's, as on the continuation engine, not of the body's virtual thread (a daemon).
     */
    PoolWorker(CoroutinePool pool, String name, Thread startedBy) {
        this.pool = pool;
        // nothing inherited from the thread that started the pool (a request's trace id, say): its
        // threads serve every submitter, and the thread engine's coroutines inherit nothing either
        this.thread = new PoolThread(startedBy.getThreadGroup(), this::run, name);
        this.thread.setDaemon(startedBy.isDaemon());
        this.thread.setPriority(startedBy.getPriority());
        // the starter's loader, as a thread it made itself would have (and an executor's threads do): a
        // thread built without inherited thread locals starts with the system class loader otherwise
        this.thread.setContextClassLoader(startedBy.getContextClassLoader());
    }

    EventLoop loop() {
        Scheduler s = scheduler;
        return s != null ? s.loop : started.join().loop;
    }

    /**
     * On this thread: a submitted body arrives. If the queue of bodies waiting to start cannot grow for
     * it (more than its room wait, and the JVM has no memory left), the body never runs: it fails as one
     * whose coroutine could not be made, instead of being lost with its future never completed and its
     * count left for {@link CoroutinePool#close()} to wait for.
     */
    void accept(Task task) {
        try {
            tasks.add(task); // allocates only as the queue grows: a burst of more bodies than its room
        } catch (OutOfMemoryError e) {
            notQueued(task, e);
            return;
        }
        wake();
    }

    /**
     * {@code t} could not be queued to start ({@code e}): it never runs, and fails so. Its count is given
     * back first, before anything is allocated; if the JVM has no memory for the failure's report either,
     * it fails with {@code e} itself ({@link #failedWithoutReport}).
     */
    private void notQueued(Task t, OutOfMemoryError e) {
        live.decrementAndGet(); // before the future completes, as for a body that ran
        try {
            failUnrun(t, "its queue of bodies waiting to start could not grow (" + e + ")", e);
        } catch (OutOfMemoryError again) {
            failedWithoutReport(t, e);
        }
    }

    /**
     * {@code t}'s body never ran ({@code cause}), and the JVM had no memory for the report of that failure
     * ({@link #failUnrun}): its future, if it has one, fails with {@code cause} itself, and the pool keeps it
     * for close() to report, allocating nothing, so that neither a future is left never completed nor an
     * {@code execute}'s failure lost (nor is the error thrown on, which would end this thread, its other
     * bodies with it).
     */
    private void failedWithoutReport(Task t, Throwable cause) {
        pool.failedUnreported(t, cause); // first: whatever the failure wakes finds it kept already
        if (t.future != null) {
            t.future.completeExceptionally(cause); // false if failUnrun completed it before it failed, or its caller settled it
        }
    }

    /**
     * From any thread: {@code t}'s future was cancelled with {@code cancel(true)}; if its body has
     * started and not ended, main closes its coroutine. Nothing if this thread has ended (so has the body).
     */
    void requestClose(Task t) {
        if (!Task.CLOSE_ASKED.compareAndSet(t, false, true)) {
            return; // two cancels racing: the first asked already
        }
        Task top;
        do {
            top = toClose.get();
            t.nextToClose = top;
        } while (!toClose.compareAndSet(top, t));
        wakeAgain(); // a post made with the worker: the request allocates nothing
    }

    /**
     * On this thread, in main: closes the coroutines asked for, and, once {@link CoroutinePool#closeNow()} was
     * called, every coroutine of the thread, until none is left (a {@code finally} block may create
     * more), the bodies waiting to start cancelled instead of run.
     */
    private void closeRequested(Scheduler s) {
        Task t;
        for (Task asked = toClose.getAndSet(null); asked != null; ) {
            t = asked;
            asked = t.nextToClose;
            t.nextToClose = null;
            Context c = t.context;
            if (c != null) {
                closeOne(s, c);
            }
        }
        if (!pool.closingNow) {
            return;
        }
        while ((t = tasks.poll()) != null) {
            cancelUnstarted(t);
        }
        Set<Context> refused = Collections.newSetFromMap(new IdentityHashMap<>());
        while (true) {
            Context c = null;
            for (int k = 0; k < s.runList.size() && c == null; k++) {
                Context e = s.runList.get(k);
                if (e != s.main && !refused.contains(e)) {
                    c = e;
                }
            }
            if (c == null) {
                return;
            }
            if (!closeOne(s, c)) {
                refused.add(c);
            }
        }
    }

    /**
     * {@link #closeRequested}, whose failure for want of memory (a set of the coroutines it could not
     * close, say) is left to this thread's main instead of ending the thread, its coroutines unclosed and
     * their bodies' futures never completed, for the thread's uncaught-exception handler. False then: main
     * tries again (what is left to close still stands: {@code closingNow}, or requests not taken yet).
     */
    private boolean closedRequested(Scheduler s) {
        try {
            closeRequested(s);
            return true;
        } catch (OutOfMemoryError e) {
            pool.failedInMain(thread, e);
            return false;
        }
    }

    /** A body {@code closeNow()} ends before it started: no longer live, its future cancelled. */
    private void cancelUnstarted(Task t) {
        live.decrementAndGet(); // before the future completes, as for a body that ran
        if (t.future != null) {
            t.future.cancel(false);
        }
    }

    /**
     * Closes {@code c} from main; false if it could not be (the JDK could not suspend it: reported, left as it was).
     * The coroutine of a body made and not run yet (main makes those of every body that has arrived before
     * any runs) is closed unrun: its body has not started, and never runs, as one still waiting to start.
     */
    private boolean closeOne(Scheduler s, Context c) {
        Task unstarted = c.state() == Coroutine.State.NEW && c.code() instanceof Start start && start.worker == this
                ? start.task : null; // read before the close releases it
        try {
            s.close(c);
            if (unstarted != null) {
                cancelUnstarted(unstarted);
            }
            return true;
        } catch (CoroutineException e) {
            pool.failedInMain(thread, e); // its unwinding threw: a failure, as one left to main
            return true;
        } catch (IllegalStateException e) {
            pool.failedInMain(thread, e);
            return c.state().isTerminal();
        }
    }

    /** On this thread, a coroutine of it ended: while the pool closes, main checks whether the thread may end. */
    void coroutineEnded() {
        if (pool.closing && live.get() == 0 && scheduler.runList.size() <= 1) {
            wake();
        }
    }

    /**
     * From any thread: main is woken on this thread, to look again at what it waits for (the pool began
     * to close, or every thread is idle in a closing pool, or a body counted here was refused because the
     * pool began to close meanwhile, or a {@code cancel(true)} asks for a body's close). Its post is made
     * once, with the worker, so that this allocates nothing: what was written before the call (a count
     * given back, the pool marked closing) is never left without the wake-up that a thread parked for
     * work waits for to see it, for want of memory for a post. A post still waiting to run serves (it
     * runs after every write made before this call).
     */
    void wakeAgain() {
        if (wakeAgainPosted.compareAndSet(false, true)) {
            loop().inbox.postAsNode(wakeAgainPost); // refused only once the loop ended: nothing to wake
        }
    }

    /** On this thread: main, if it waits for work, is woken. */
    void wake() {
        Context main = scheduler.main;
        if (main.state() == Coroutine.State.PARKED && main.waitingFor == this) {
            scheduler.unpark(main);
        }
    }

    private void run() {
        Scheduler s;
        try {
            s = Scheduler.current();
        } catch (RuntimeException | Error e) {
            started.completeExceptionally(e); // start() reports it
            pool.workerEnded();
            return;
        }
        s.connected = true;
        s.mainIsAPoolLoop = true; // an interrupt of this thread is its bodies', as on the continuation engine
        thread.scheduler(s);
        s.onEnded = this::coroutineEnded; // main parks while coroutines live; the last one's end wakes it
        scheduler = s;
        started.complete(s);
        try {
            while (true) {
                if ((pool.closingNow || toClose.get() != null) && !closedRequested(s)) {
                    continue; // tried again: the requests stand
                }
                Task t = tasks.poll();
                if (t != null && t.future != null && t.future.isDone()) {
                    // its caller settled the future before the body started (cancel, complete): as
                    // supplyAsync's and an executor's cancelled task, the body never runs
                    t.future.task = null; // nor does the future, which its caller may keep, keep the body
                    live.decrementAndGet();
                    continue;
                }
                if (t != null) {
                    making = t; // an Error in the making ends the loop: died() fails it then
                    try {
                        CoroutinePool.maker.apply(s, new Start(this, t));
                    } catch (OutOfMemoryError | RuntimeException e) {
                        notRun(t, "its coroutine could not be made (" + e + ")", e); // the thread serves on
                    }
                    making = null;
                    continue;
                }
                if (pool.closing && live.get() == 0 && s.runList.size() <= 1) {
                    // live counts a body from its submission: none is on its way here either. The
                    // thread still serves its channels to the coroutines of the other threads until
                    // none is left anywhere in the pool.
                    if (!idle) {
                        idle = true;
                        pool.workerIdle();
                    }
                    if (pool.allIdle) {
                        return;
                    }
                }
                s.loop.foreignWaitStarted();
                try {
                    s.park(this);
                } catch (CoroutineException | DeadlockException e) {
                    pool.failedInMain(thread, e); // a failure left to this thread's main
                } catch (IllegalStateException e) {
                    if (!(e.getCause() instanceof PinnedException p)) {
                        throw e;
                    }
                    cannotRun(s, p, e); // no thread could be started for a coroutine (the thread engine)
                } finally {
                    s.loop.foreignWaitEnded();
                }
            }
        } catch (Throwable e) {
            died(s, e); // not to the thread's uncaught-exception handler: close() reports it
        } finally {
            try {
                s.loop.close(); // an operation of another thread posted from now on fails instead of never being served
            } catch (Throwable e) {
                // the JDK failed in closing what the coroutines left open (its selector, say), or there was no
                // memory left to list it: close() reports it, as any failure of the pool's threads
                pool.failedInLoop(thread, e, true);
            } finally {
                pool.workerEnded(); // also if the JDK failed in that close: the pool's close waits for this
            }
        }
    }

    /**
     * On this thread: its loop ended by {@code e} (an {@code Error} of its machinery) while the pool may still
     * hand it bodies. It serves no more, and loses nothing: {@code e} is reported by close(), as a failure left
     * to this thread's main is; no body is placed here from now on, and every body it holds fails, its count
     * given back (one that never ran as one whose coroutine could not be made, one that had started as one
     * that never ended); the bodies still on their way here fail as they arrive at the closed loop
     * ({@link Task#postRefused}) or are refused by it ({@link CoroutinePool#place}); and it counts as idle, so that
     * close() does not wait for it. The coroutines the bodies created are left where they are, never to run again.
     */
    private void died(Scheduler s, Throwable e) {
        endedBy = e; // first: a placement from now on skips this thread
        pool.failedInLoop(thread, e, false);
        String why = "its loop ended";
        String whileRan = "its loop ended while the body ran";
        try {
            why = "its loop ended (" + e + ")";
            whileRan = "its loop ended while the body ran (" + e + ")";
        } catch (OutOfMemoryError again) {
            // no memory for the texts: every body still fails, its count given back
        }
        Task inHand = making;
        making = null;
        if (inHand != null) {
            notRun(inHand, why, e);
        }
        Task t;
        while ((t = tasks.poll()) != null) {
            if (t.future != null && t.future.isDone()) {
                live.decrementAndGet(); // settled by its caller: it would never have run, as in the loop
            } else {
                notRun(t, why, e);
            }
        }
        for (int k = 0; k < s.runList.size(); k++) {
            if (s.runList.get(k).code() instanceof Start start && start.worker == this && start.task != inHand) {
                Task body = start.task;
                if (body.context == null) {
                    notRun(body, why, e); // made, never started
                } else {
                    body.context = null; // nothing for a cancel(true) to close any more
                    live.decrementAndGet();
                    try {
                        failUnrun(body, true, whileRan, e);
                    } catch (OutOfMemoryError again) {
                        failedWithoutReport(body, e);
                    }
                }
            }
        }
        if (!idle) {
            idle = true;
            pool.workerIdle();
        }
    }

    /**
     * From any thread: {@code t}, placed here, arrives once this thread's loop has ended ({@link #died}): it
     * fails, never run, as one whose coroutine could not be made.
     */
    void notRunThere(Task t) {
        Throwable e = endedBy;
        notRun(t, e == null ? "its loop ended" : "its loop ended (" + e + ")", e);
    }

    /**
     * A coroutine chosen to run could not be (no thread could be started for it, {@code p}; the refusal
     * {@code e}): it is closed, never having run, as this thread's main, which has no code of its own
     * to decide, would choose it again at once, and again, for as long as no thread can be started. If
     * it was to run a body, the body fails as one that threw, naming the pool, this thread and the
     * submission; another (one a body created) is a failure left to this thread's main, naming it. The
     * thread serves on.
     */
    private void cannotRun(Scheduler s, PinnedException p, IllegalStateException e) {
        Context c = s.unrunnable;
        s.unrunnable = null;
        if (c == null || c.state() != Coroutine.State.NEW) {
            pool.failedInMain(thread, e);
            return;
        }
        Task body = c.code() instanceof Start start && start.worker == this ? start.task : null; // read before the close releases it
        s.close(c);
        if (body != null) {
            notRun(body, p.why, p);
        } else {
            pool.failedInMain(thread, new IllegalStateException(pool.name + ": thread " + Scheduler.describe(thread) + " closed "
                    + c.describe() + ", which a body created, never run: " + p.why, p));
        }
    }

    /**
     * {@code t}'s body will never run ({@code why}, because of {@code cause}): it fails as one that threw,
     * with an {@link IllegalStateException} naming the pool, this thread and the submission; if the JVM
     * has no memory for that report, with {@code cause} itself ({@link #failedWithoutReport}).
     */
    private void notRun(Task t, String why, Throwable cause) {
        live.decrementAndGet(); // before the future completes, as for a body that ran
        try {
            failUnrun(t, why, cause);
        } catch (OutOfMemoryError again) {
            failedWithoutReport(t, cause);
        }
    }

    /** {@link #notRun}, its count given back already. */
    private void failUnrun(Task t, String why, Throwable cause) {
        failUnrun(t, false, why, cause);
    }

    /**
     * {@link #failUnrun(Task, String, Throwable)}; if {@code started}, the body had started and never ends
     * ({@link #died}): {@code could not run the body of submit #2 to its end}, reported as one that {@code never ended}.
     */
    private void failUnrun(Task t, boolean started, String why, Throwable cause) {
        IllegalStateException failure = new IllegalStateException(pool.name + ": thread " + Scheduler.describe(thread)
                + " could not run the body of " + t.op + " #" + t.seq + (started ? " to its end: " : ": ") + why, cause);
        Failure f = new Failure("the body of " + t.op + " #" + t.seq + (started ? " never ended: " : " never ran: "), failure);
        if (t.future == null) {
            pool.failed(t.order, f);
        } else {
            pool.retainUnlessObserved(t.future, f);
            if (!t.future.completeExceptionally(failure)) {
                pool.forget(t.future); // its caller settled it first
            }
        }
    }

    private void runBody(Task t) {
        Object value = null;
        Throwable failure = null;
        String where = null;
        boolean unwound = false;
        List<Throwable> uncarried = null; // made only for a body whose signal carries failures
        // an interrupt another body left set as it ended passed to the context that ran next (the
        // thread's main, or this body): no body starts with one, on either engine, as no task of a
        // ThreadPoolExecutor does
        Thread.interrupted();
        t.context = Scheduler.current().currentContext(); // a cancel(true) of its future closes it
        try {
            // settled between main's look and this start: not run, as one settled before it started; a
            // cancel(true) after this look sees the context set, and has main close the body
            if (t.future == null || !t.future.isDone()) {
                value = t.body.get();
            }
        } catch (Throwable e) {
            failure = e;
            where = Scheduler.describeCaller(); // the body's coroutine, while it is still the current one
            // a close of its coroutine; an exit signal the body kept from another and threw again is its failure
            Context self = Scheduler.current().currentContext();
            unwound = e instanceof CoroutineExit exit && self.unwoundBy(exit);
            if (unwound && self.carriesFailures(e)) {
                // its close's signal carries failures (a resource whose close failed as it unwound the body):
                // the body failed with the first, as one whose finally throws; those it cannot carry reported apart
                uncarried = new ArrayList<>(0);
                failure = Fiber.firstCarried(e, uncarried);
                unwound = false;
            }
        } finally {
            t.context = null; // nothing to close any more, and the future keeps no context alive
            if (t.future != null) {
                t.future.task = null; // nor the body
            }
            live.decrementAndGet(); // before the future completes: whatever it sets off sees the body gone
        }
        if (t.future != null) {
            if (failure == null) {
                t.future.complete(value);
            } else if (unwound) {
                t.future.completeExceptionally(failure); // a close unwound the body: its future says so, but
                // that is no failure to report, as for execute
            } else {
                pool.retainUnlessObserved(t.future, failure(t, where, failure)); // first: whatever the failure wakes
                // (a join, an allOf) finds it kept already
                if (!t.future.completeExceptionally(failure)) {
                    pool.forget(t.future); // its caller settled it first (cancel, complete): the outcome is not the body's
                }
            }
        } else if (failure != null && !unwound) {
            pool.failed(t.order, failure(t, where, failure));
        }
        if (uncarried != null) {
            for (Throwable u : uncarried) {
                pool.failed(t.order, failure(t, where, u));
            }
        }
        if (unwound) {
            throw (CoroutineExit) failure;
        }
    }

    /** How close() reports {@code thrown}, the failure of {@code t}'s body in coroutine {@code caller} (its description). */
    private Failure failure(Task t, String caller, Throwable thrown) {
        // named as every message names a thread (its name made safe for one line: a body may have renamed it)
        return new Failure(caller + " on thread " + Scheduler.describe(thread) + ", running the body of " + t.op
                + " #" + t.seq + ", threw ", thrown);
    }

    @Override
    public boolean interrupt() {
        return true;
    }

    @Override
    public String reason() {
        return "pool";
    }

    @Override
    public String toString() {
        // a dump: "waits to take work from coro-pool-1"; once closing it takes none, and waits until it may end
        return pool.closing ? "end with " + pool.name + ", which is closing" : "take work from " + pool.name;
    }

    /** The body of a coroutine that runs a submitted body on {@code worker}'s thread. */
    record Start(PoolWorker worker, Task task) implements Runnable {
        @Override
        public void run() {
            worker.runBody(task);
        }
    }
}
