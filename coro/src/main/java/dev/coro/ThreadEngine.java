package dev.coro;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.reflect.UndeclaredThrowableException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.locks.LockSupport;

/**
 * The engine on public API only: each coroutine's body runs on a virtual thread of its own, and a
 * strict handoff lets exactly one context of a scheduler run at any moment.
 *
 * <p>The turn is the scheduler's {@link Scheduler#next} field, read and written here with
 * acquire/release semantics: only the context it names may run code. A switch from A to B is a
 * direct handoff: A gives the turn to B and unparks B's thread (started first, the first time; it
 * waits for its turn), then parks until the turn comes back to A. Main never sits in between; it stays the owner thread.
 * No allocation per switch in this class.
 *
 * <p>The rules are all the {@link Scheduler}'s: a body's end, failure or unwinding goes through
 * {@link Scheduler#runToEnd} exactly as on the continuation engine; this engine only provides the
 * stacks. Nothing refuses a switch here: a coroutine may switch while it holds a monitor or sits
 * under a native frame, since its thread simply parks; under a native frame the JDK pins that
 * thread to its carrier while it is parked (see {@code docs/ENGINES.md}, also for monitors).
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
        startIfNew(s, to);
        handOff(s, to);
        awaitTurn(s, from);
        if (from == s.main) {
            rethrowCrash(s);
        }
    }

    /**
     * Starts {@code to}'s thread if it has none yet (it then waits for its turn); on return, the
     * thread of every context but main is set.
     *
     * @throws PinnedException if the JVM cannot start a thread now; nothing was transferred
     */
    private static void startIfNew(Scheduler s, Coroutine to) {
        if (to == s.main || ((ThreadStrand) to.strand).thread != null) {
            return;
        }
        ThreadStrand t = (ThreadStrand) to.strand;
        try {
            t.thread = shared(s).start(t);
        } catch (OutOfMemoryError | RejectedExecutionException e) {
            throw new PinnedException("no virtual thread could be started for " + to.describe() + " (" + e + ")");
        }
    }

    /** Gives the turn to {@code to} and wakes its thread; on return, {@code to} may run (the caller must not). */
    private static void handOff(Scheduler s, Coroutine to) {
        TURN.setRelease(s, to);
        LockSupport.unpark(to == s.main ? s.owner : ((ThreadStrand) to.strand).thread);
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

    /** The scheduler's share of this engine, created on first use. */
    private static Shared shared(Scheduler s) {
        Shared sh = (Shared) s.engineState;
        if (sh == null) {
            sh = new Shared();
            s.engineState = sh;
        }
        return sh;
    }

    /**
     * Throws, in main, what escaped the scheduler on a coroutine's thread as its body ended (a bug,
     * or no thread could be started for the context chosen next; not a body's failure, which the
     * scheduler delivers itself): the continuation engine's trampoline would throw it in main too.
     */
    private static void rethrowCrash(Scheduler s) {
        Shared sh = (Shared) s.engineState;
        Throwable crash = sh == null ? null : sh.crash;
        if (crash != null) {
            sh.crash = null;
            if (crash instanceof RuntimeException e) {
                throw e;
            }
            if (crash instanceof Error e) {
                throw e;
            }
            throw new UndeclaredThrowableException(crash);
        }
    }

    /**
     * What the engine keeps per scheduler: a thread-per-task executor that starts the coroutine
     * threads in a thread container of its own, which the JVM holds only weakly (the JVM's root
     * container would keep an abandoned coroutine's parked thread forever), and a crash for main.
     * Used only by the context holding the turn.
     */
    private static final class Shared implements ThreadFactory {
        private final Thread.Builder builder = Thread.ofVirtual().inheritInheritableThreadLocals(false);
        private final ExecutorService executor = Executors.newThreadPerTaskExecutor(this);
        /** The thread {@link #newThread} made during the current {@link #start}. */
        private Thread made;
        /** What escaped the scheduler on a coroutine's thread, for main to throw. */
        Throwable crash;

        /** Starts a thread named after the coroutine running {@code t}; on return it runs or waits for its turn. */
        Thread start(ThreadStrand t) {
            builder.name("coro " + t.co.name());
            executor.execute(t);
            Thread started = made;
            made = null;
            return started;
        }

        @Override
        public Thread newThread(Runnable task) {
            made = builder.unstarted(task);
            return made;
        }
    }

    /** A coroutine's virtual thread: runs its body, then hands the turn to whoever the scheduler chose. */
    static final class ThreadStrand implements Strand, Runnable {
        private final Scheduler s;
        final Coroutine co;
        /** The thread, once started; set by the context that started it, before it gave the turn. */
        Thread thread;

        ThreadStrand(Scheduler s, Coroutine co) {
            this.s = s;
            this.co = co;
        }

        @Override
        public void run() {
            Scheduler.bind(s);
            awaitTurn(s, co);
            Coroutine next;
            try {
                next = s.runToEnd(co);
                startIfNew(s, next);
            } catch (Throwable t) {
                shared(s).crash = t;
                next = s.main;
            }
            handOff(s, next);
        }

        @Override
        public StackTraceElement[] stackTrace() {
            return thread != null ? thread.getStackTrace() : new StackTraceElement[0];
        }
    }
}
