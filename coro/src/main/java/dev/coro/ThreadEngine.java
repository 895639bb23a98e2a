package dev.coro;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.LockSupport;

/**
 * The engine on public API only: each coroutine's body runs on a virtual thread of its own, and a
 * strict handoff lets exactly one context of a scheduler run at any moment.
 *
 * <p>The turn is the scheduler's {@link Scheduler#next} field, read and written here with
 * acquire/release semantics: only the context it names may run code. A switch from A to B is a
 * direct handoff: A gives the turn to B, unparks B's thread (or starts it, the first time), then
 * parks until the turn comes back to A. Main never sits in between; it stays the owner thread.
 * No allocation per switch in this class.
 *
 * <p>The rules are all the {@link Scheduler}'s: a body's end, failure or unwinding goes through
 * {@link Scheduler#runToEnd} exactly as on the continuation engine; this engine only provides the
 * stacks. Nothing pins here: a coroutine may switch while it holds a monitor or sits under a native
 * frame, since its thread simply parks (see {@code docs/ENGINES.md} for what that means for monitors).
 *
 * <p>Thread life: a coroutine's thread starts at its first switch and ends when its body ends
 * (returned, failed or unwound by {@code close()}), right after it hands the turn on. A coroutine
 * closed before it ran never starts one. A suspended coroutine that is never closed keeps its
 * thread parked, as a suspended continuation keeps its frames; once its owner thread has ended and
 * nothing refers to the coroutine, that parked thread is garbage and the collector reclaims it like
 * a continuation (its {@code finally} blocks do not run, on either engine). This holds because the
 * threads are started by a per-scheduler thread-per-task executor, whose thread container the JVM
 * holds only weakly, rather than in the JVM's root container, which would keep them forever.
 */
final class ThreadEngine extends Engine {

    /** The turn: {@link Scheduler#next}, with acquire/release access. */
    private static final VarHandle TURN;

    static {
        try {
            TURN = MethodHandles.lookup().findVarHandle(Scheduler.class, "next", Coroutine.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @Override
    String name() {
        return "threads";
    }

    @Override
    Strand newStrand(Scheduler s, Coroutine co) {
        return new ThreadStrand(s, co);
    }

    @Override
    void transfer(Scheduler s, Coroutine from, Coroutine to) {
        handOff(s, to);
        awaitTurn(s, from);
    }

    /** Gives the turn to {@code to} and wakes its thread; on return, {@code to} may run (the caller must not). */
    private static void handOff(Scheduler s, Coroutine to) {
        TURN.setRelease(s, to);
        if (to == s.main) {
            LockSupport.unpark(s.owner);
        } else {
            ((ThreadStrand) to.strand).wake();
        }
    }

    /**
     * Parks until the turn is {@code self}'s; on return it is, and everything the previous holder
     * did is visible. An interrupt that arrives meanwhile is kept for the thread, not lost, and
     * does not make the wait spin. No park blocker: the frames of this method already say what
     * the thread waits for, and the switch stays as lean as a raw handoff.
     */
    private static void awaitTurn(Scheduler s, Coroutine self) {
        boolean interrupted = false;
        while (TURN.getAcquire(s) != self) {
            LockSupport.park();
            // woken without the turn: clear an interrupt, or every later park would return at once
            if (TURN.getAcquire(s) != self && Thread.interrupted()) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** The virtual thread of a started coroutine, or null; for tests that check no thread outlives its coroutine. */
    static Thread threadOf(Coroutine co) {
        return co.strand instanceof ThreadStrand t ? t.thread : null;
    }

    /**
     * The scheduler's executor, created on first use: it starts one virtual thread per task and
     * keeps them in a thread container of its own rather than the JVM's root container, so threads
     * of a scheduler nobody can reach any more are garbage, like continuations would be.
     */
    private static ExecutorService executor(Scheduler s) {
        ExecutorService e = (ExecutorService) s.engineState;
        if (e == null) {
            e = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().factory());
            s.engineState = e;
        }
        return e;
    }

    /** A coroutine's virtual thread: runs its body, then hands the turn to whoever the scheduler chose. */
    static final class ThreadStrand implements Strand, Runnable {
        private final Scheduler s;
        private final Coroutine co;
        /** The thread, once it started; written by that thread, read by whoever holds the turn after it. */
        Thread thread;
        /** Whether the thread was started; touched only by the context holding the turn. */
        boolean started;

        ThreadStrand(Scheduler s, Coroutine co) {
            this.s = s;
            this.co = co;
        }

        /** Starts the thread the first time, unparks it after; on return it will see the turn. */
        void wake() {
            if (started) {
                LockSupport.unpark(thread);
            } else {
                started = true;
                executor(s).execute(this);
            }
        }

        @Override
        public void run() {
            thread = Thread.currentThread();
            thread.setName("coro " + co.name());
            Scheduler.bind(s);
            awaitTurn(s, co);
            handOff(s, s.runToEnd(co));
        }

        @Override
        public StackTraceElement[] stackTrace() {
            return thread != null ? thread.getStackTrace() : new StackTraceElement[0];
        }
    }
}
