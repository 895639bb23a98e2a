package dev.coro;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.reflect.UndeclaredThrowableException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
 * <p>Generators: each generator's body runs on a virtual thread of its own too
 * ({@link ThreadGeneratorStack}), handing off to its consumer the same strict way. While a body runs
 * it runs its consuming context's code, so a context's code may run on the innermost such thread
 * instead of its own: {@link #handOff} wakes that thread, and a {@code Coroutine.yield()} inside a
 * body parks the body's thread in the handoff while its consumer's thread stays parked below it.
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

    /**
     * Gives the turn to {@code to} and wakes the thread that runs its code now (its own, or the thread
     * of the innermost generator body it is suspended in); on return, {@code to} may run (the caller must not).
     */
    private static void handOff(Scheduler s, Coroutine to) {
        Thread runner = runner(s, to);
        TURN.setRelease(s, to);
        LockSupport.unpark(runner);
    }

    /**
     * The thread that runs {@code c}'s code now, or would if it had the turn: the innermost generator
     * body's thread while {@code c} consumes a generator, else {@code c}'s own thread (the owner for main).
     */
    private static Thread runner(Scheduler s, Coroutine c) {
        ThreadGeneratorStack g = innermost(s, c);
        return g != null ? g.thread : ownThread(s, c);
    }

    /** {@code c}'s own thread: the owner for main, else its virtual thread (null before its first switch). */
    private static Thread ownThread(Scheduler s, Coroutine c) {
        return c == s.main ? s.owner : ((ThreadStrand) c.strand).thread;
    }

    /** The innermost generator stack whose body runs {@code c}'s code now; null while {@code c}'s own thread does. */
    private static ThreadGeneratorStack innermost(Scheduler s, Coroutine c) {
        if (c == s.main) {
            Shared sh = (Shared) s.engineState;
            return sh == null ? null : sh.mainRunner;
        }
        return ((ThreadStrand) c.strand).runner;
    }

    /** Makes {@code g}'s body (null: {@code c}'s own thread) the one that runs {@code c}'s code from now on. */
    private static void setInnermost(Scheduler s, Coroutine c, ThreadGeneratorStack g) {
        if (c == s.main) {
            shared(s).mainRunner = g;
        } else {
            ((ThreadStrand) c.strand).runner = g;
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
        /** The innermost generator stack whose body runs main's code now; null while the owner thread does. */
        ThreadGeneratorStack mainRunner;

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
        /** The innermost generator stack whose body runs this coroutine's code now; null while {@link #thread} does. */
        ThreadGeneratorStack runner;

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

    /** A generator's body on a virtual thread of its own, {@code coro generator NAME}, not started. */
    @Override
    GeneratorStack newGeneratorStack(Scheduler s, String name, Runnable body) {
        return new ThreadGeneratorStack(s, name, body);
    }

    /**
     * The frames of the suspended or parked context {@code c}, innermost first, as one stack: those of
     * the thread that runs its code now, then, for each generator body it is inside, those of the
     * thread that consumes that generator, down to {@code c}'s own thread (the owner for main).
     */
    @Override
    StackTraceElement[] rawFrames(Scheduler s, Coroutine c) {
        Thread own = ownThread(s, c);
        if (own == null) {
            return new StackTraceElement[0];
        }
        List<StackTraceElement> all = new ArrayList<>();
        for (ThreadGeneratorStack g = innermost(s, c); g != null; g = g.outer) {
            all.addAll(Arrays.asList(g.thread.getStackTrace()));
        }
        all.addAll(Arrays.asList(own.getStackTrace()));
        return all.toArray(new StackTraceElement[0]);
    }

    /**
     * A generator's stack on this engine: the body runs on a virtual thread of its own, started at
     * the first resume, and a strict handoff lets either the body or its consumer run, never both.
     *
     * <p>{@link #resume()} gives the body the turn, unparks its thread and parks the consumer's until
     * the body suspends or ends; {@link #suspend()} does the reverse. While the body runs, its thread
     * runs the consuming context's code: it is that context's runner, so a {@code Coroutine.yield()}
     * in the body parks the body's thread in the scheduler's handoff and a later switch to the
     * consumer wakes that thread, not the consumer's own. The thread ends right after the body
     * ends (returned, failed, or unwound by {@code close()}); a generator closed before it ran never
     * starts one; a suspended one dropped unclosed leaves its thread parked, garbage once nothing
     * refers to it, as for coroutines.
     */
    static final class ThreadGeneratorStack implements GeneratorStack, Runnable {
        private final Scheduler s;
        private final String name;
        private final Runnable body;
        /** Whose turn it is: true while the body runs, false while its consumer does. */
        private volatile boolean bodyTurn;
        /** The body's thread, once started. */
        private Thread thread;
        /**
         * Starts the body's thread: an executor of this generator's own, so that only the generator
         * refers to a suspended body's thread (its thread container is held weakly by the JVM) and a
         * generator dropped unclosed is garbage with its thread even while its owner thread lives.
         */
        private ExecutorService executor;
        /** Set on the body's thread once the body has ended, before it hands the turn back for good. */
        private volatile boolean ended;
        /** The context consuming the generator while resumed. */
        private Coroutine consumer;
        /** While resumed: the generator stack whose body called {@link #resume()}; null if the consumer's own thread did. */
        private ThreadGeneratorStack outer;

        /** A stack for {@code body}, a generator of {@code s} named {@code name}; no thread yet. */
        ThreadGeneratorStack(Scheduler s, String name, Runnable body) {
            this.s = s;
            this.name = name;
            this.body = body;
        }

        /** The body's virtual thread, or null before the first resume; for tests that check none outlives it. */
        Thread thread() {
            return thread;
        }

        /**
         * {@inheritDoc}
         *
         * @throws PinnedException if no virtual thread could be started for the body; it did not run
         */
        @Override
        public void resume() {
            Coroutine here = s.currentContext();
            if (thread == null) {
                try {
                    Thread.Builder builder = Thread.ofVirtual().name("coro generator " + name)
                            .inheritInheritableThreadLocals(false);
                    executor = Executors.newThreadPerTaskExecutor(task -> thread = builder.unstarted(task));
                    executor.execute(this);
                } catch (OutOfMemoryError | RejectedExecutionException e) {
                    thread = null;
                    executor = null;
                    throw new PinnedException("no virtual thread could be started for generator '" + name + "' (" + e + ")");
                }
            }
            consumer = here;
            outer = innermost(s, here);
            setInnermost(s, here, this);
            bodyTurn = true;
            LockSupport.unpark(thread);
            awaitBodyTurn(false);
            if (ended) {
                executor.shutdown();
            }
        }

        @Override
        public void suspend() {
            handBack();
            awaitBodyTurn(true);
        }

        /** The body's thread: waits for the first resume, runs the body, hands the turn back for good. */
        @Override
        public void run() {
            Scheduler.bind(s);
            awaitBodyTurn(true);
            try {
                body.run();
            } finally {
                ended = true;
                handBack();
            }
        }

        /** Makes the consumer's thread its context's runner again, gives it the turn and wakes it. */
        private void handBack() {
            Coroutine c = consumer;
            ThreadGeneratorStack o = outer;
            consumer = null;
            outer = null;
            setInnermost(s, c, o);
            Thread to = o != null ? o.thread : ownThread(s, c);
            bodyTurn = false;
            LockSupport.unpark(to);
        }

        /** Parks until {@code bodyTurn} has the value {@code wanted}; keeps an interrupt for the thread, as the turn's wait does. */
        private void awaitBodyTurn(boolean wanted) {
            boolean interrupted = false;
            while (bodyTurn != wanted) {
                LockSupport.park();
                if (bodyTurn != wanted && Thread.interrupted()) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
