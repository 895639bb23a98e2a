package dev.coro;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * The engine on public API only: each coroutine's body runs on a virtual thread of its own, and a
 * strict handoff lets exactly one context of a scheduler run at any moment.
 *
 * <p>The scheduler's {@link Turn} names the stack whose code may run. A switch from A to B is a
 * direct handoff: A starts B's thread the first time (it waits for its turn), gives the turn to B and
 * wakes the thread that runs B's code, then waits until the turn comes back to A. Main never
 * sits in between; it stays the owner thread. No allocation per switch.
 *
 * <p>The rules are all the {@link Scheduler}'s: a body's end, failure or unwinding goes through
 * {@link Scheduler#runToEnd} exactly as on the continuation engine; this engine only provides the
 * stacks. Nothing refuses a switch here: a coroutine may switch while it holds a monitor or sits
 * under a native frame, since its thread simply parks; under a native frame the JDK pins that
 * thread to its carrier while it is parked (see {@code docs/ENGINES.md}, also for monitors).
 *
 * <p>Generators: each generator's body runs on a virtual thread of its own too
 * ({@link ThreadGeneratorStack}). While a body runs, its thread runs its consuming context's code, so
 * the thread that runs a context's code is that of the innermost generator it consumes, if any
 * ({@link ThreadStack#runner()}): a {@code Coroutine.yield()} inside a body parks the body's thread in
 * the handoff while the consumer's thread stays parked below it.
 *
 * <p>Thread life: a coroutine's thread starts at its first switch and ends when its body ends,
 * right after it hands the turn on. A coroutine closed before it ran never starts one. A suspended
 * coroutine that is never closed keeps its thread parked, as a suspended continuation keeps its
 * frames; once nothing refers to it, that parked thread is garbage like a continuation (its
 * {@code finally} blocks do not run, on either engine). This holds because every thread is started
 * by a thread-per-task executor of its own ({@link #start}), whose thread container the JVM holds
 * only weakly, rather than in the JVM's root container, which would keep it forever.
 */
final class ThreadEngine implements Engine {

    private final Scheduler scheduler;
    /** Whose code may run: the stack holding it. */
    private final Turn turn = new Turn();
    /** What escaped the scheduler on a coroutine's thread as its body ended (a bug), for main to throw. */
    private Throwable crash;
    /** How many of the next thread starts to refuse as if the JVM could start no thread; for tests. */
    int refuseStarts;

    static {
        InitializerDeadlock.prepare(); // here, with room on the stack: not at a body started near its end
    }

    ThreadEngine(Scheduler scheduler) {
        this.scheduler = scheduler;
    }

    @Override
    public Stack newStack(Context c) {
        return new ThreadStack(c, c.isMain() ? scheduler.owner : null);
    }

    @Override
    public GeneratorStack newGeneratorStack(String name, Object code, Runnable body) {
        return new ThreadGeneratorStack(name, code, body);
    }

    /** The thread of {@code c}'s stack (or of the generator body it is inside); the owner if it has none yet. */
    @Override
    public Thread runner(Context c) {
        Thread t = c.stack instanceof ThreadStack s ? s.runner() : null;
        return t != null ? t : scheduler.owner;
    }

    /**
     * Starts a virtual thread named {@code name} running {@code task}, through an executor of its own
     * (see the class comment); the one way this engine starts threads.
     *
     * @param what a phrase naming whose body it runs, for the exception
     * @throws PinnedException if the JVM cannot start a thread now; nothing was started
     */
    Thread start(String name, Runnable task, String what) {
        Thread.Builder builder = Thread.ofVirtual().name(name).inheritInheritableThreadLocals(false);
        Thread[] made = new Thread[1];
        try {
            if (refuseStarts > 0) {
                refuseStarts--;
                throw new RejectedExecutionException("refused for a test");
            }
            Executors.newThreadPerTaskExecutor(r -> made[0] = builder.unstarted(r)).execute(task);
        } catch (OutOfMemoryError | RejectedExecutionException e) {
            throw PinnedException.noThread(what, e);
        }
        return made[0];
    }

    /**
     * Gives {@code to} the calling thread's context class loader, before the calling thread hands it the
     * turn: on the continuation engine every context runs on the owner thread, so all of them share its
     * one context class loader, and a body sees (and sets) the one its owner thread has when it runs.
     */
    static void handLoader(Thread to) {
        to.setContextClassLoader(Thread.currentThread().getContextClassLoader());
    }

    /**
     * {@link #handLoader}, and the calling thread's interrupt too (it is cleared here, set on
     * {@code to}): for threads that stand for one thread of the continuation engine in turn, and so
     * share its one interrupt flag: a generator's body and its consumer, at each handoff between them,
     * and a body that ended and the context that runs next.
     */
    static void handLoaderAndInterrupt(Thread to) {
        handLoader(to);
        if (Thread.interrupted()) {
            to.interrupt();
        }
    }

    /** The virtual thread of a started coroutine, or null; for tests that check no thread outlives its coroutine. */
    static Thread threadOf(Coroutine co) {
        return co.context.stack instanceof ThreadStack t && !co.isMain() ? t.thread : null;
    }

    /** Hands an interrupt of a pool thread's main, waiting for its turn, to the holder's thread ({@link #relayToHolder()}). */
    private final BooleanSupplier relayToHolder = this::relayToHolder;

    /**
     * While a pool thread's main (the pool's loop, which runs none of the user's code) waits for its turn: an
     * interrupt of the pool thread goes to the thread that runs the code of the context holding the turn (a
     * coroutine's, or the generator body's it is inside), as the continuation engine's one flag is that
     * context's; false if the turn is held by none of them (then main keeps it, and hands it with the turn to
     * the context it runs next). One that reaches a thread as it hands the turn on stays that context's own.
     */
    private boolean relayToHolder() {
        synchronized (turn) { // a body that ends hands the turn on under it: see ThreadStack.run
            Thread to = switch (turn.holder()) {
                case ThreadStack h -> h.runner();
                case ThreadGeneratorStack g -> g.thread();
                case null, default -> null;
            };
            if (to == null || to == Thread.currentThread()) {
                return false;
            }
            to.interrupt();
            return true;
        }
    }

    /** A context's stack on this engine: its own virtual thread, or the owner thread for main. */
    final class ThreadStack implements Stack, Runnable, LateBinding.Body {
        private final Context context;
        /** The thread, once started; set by the context that started it, before it gave the turn. Null again if abandoned. */
        private Thread thread;
        /**
         * The class in whose static initializer this context's start was last refused, its thread abandoned
         * ({@link #checkStall}); read by that thread, if the initializer returns, for its refusals ({@link LateBinding}).
         */
        private String abandonedIn;
        /** Looks for a wait that can never end, after a stall. */
        private final Runnable stalled = this::checkStall;
        /**
         * Whether a virtual thread started this context's thread inside a static initializer: the waits of
         * the contexts that switch to it are watched for that initializer's deadlock, as a platform thread's
         * always are ({@link InitializerDeadlock#runsAnInitializer}).
         */
        private boolean watched;

        ThreadStack(Context context, Thread thread) {
            this.context = context;
            this.thread = thread;
        }

        @Override
        public void transferTo(Stack to) {
            StackProbe.probe();
            boolean machinery = context.isMain() && scheduler.mainRunsNoUserCode();
            if (machinery && to instanceof ThreadStack t) {
                t.resume(true); // main only runs VirtualTime.run's or the pool's own code: its interrupt is no context's own
            } else {
                to.resume();
            }
            if (to instanceof ThreadStack t && t.watched) {
                turn.awaitWatched(this, stalled);
            } else if (machinery && scheduler.mainIsAPoolLoop) {
                turn.awaitRelaying(this, stalled, false, relayToHolder);
            } else {
                turn.await(this, stalled);
            }
            rethrowCrash();
        }

        /**
         * While this context waits for the turn: if the holder's body can never run (a class-initializer
         * deadlock), abandons the holder's thread (the holder will be started afresh if run again) and
         * throws, so the wait ends as a transfer that did not happen. A holder inside a generator's
         * {@code next()} has begun: if that generator's body can never run, the generator is refused, in
         * the holder, which runs on ({@link ThreadGeneratorStack#abandonIfStuck}), and this wait goes on.
         */
        private void checkStall() {
            if (turn.holder() instanceof ThreadStack holder) {
                if (holder.context.innermostGenerator instanceof Generator<?> g && g.stack instanceof ThreadGeneratorStack gs) {
                    gs.abandonIfStuck(); // the holder waits for a generator's body: that one is refused, in the holder
                    return;
                }
                String host = InitializerDeadlock.waitedFor(holder.runner(), holder.context.code());
                if (host != null) {
                    PinnedException e = InitializerDeadlock.stuck(host, holder.context.describe());
                    holder.abandonedIn = host;
                    holder.thread = null;
                    turn.give(this); // taken back, so that a thread started afresh for the holder waits for it
                    throw e;
                }
            }
        }

        /**
         * Starts this context's thread, the first time it is resumed (it then waits for its turn). The name and
         * the description it is made with, and what {@link #start} allocates before it starts the thread, are
         * made in a guard: an {@code OutOfMemoryError} there is refused as a thread the JVM could not start
         * ({@link PinnedException#noThread}), as one in starting the thread is, nothing started, instead of
         * escaping the resuming thread's switch (a pool thread's main then ended, its bodies with it).
         */
        private void startThread() {
            String name;
            String what;
            try {
                watched = Thread.currentThread().isVirtual() && InitializerDeadlock.runsAnInitializer();
                name = "coro " + context.name();
                what = context.describe();
            } catch (OutOfMemoryError e) {
                throw PinnedException.noThread("a coroutine", e);
            }
            Thread started;
            try {
                started = start(name, this, what);
            } catch (OutOfMemoryError e) { // its builder or array: start() refuses only a failure of the start itself
                throw PinnedException.noThread(what, e);
            }
            thread = started;
        }

        /** Starts this context's thread the first time (it then waits for its turn), gives it the turn and wakes its runner. */
        @Override
        public void resume() {
            resume(false);
        }

        /**
         * {@link #resume()}; with {@code interrupt}, the calling thread's interrupt passes to this
         * context's runner too (see {@link #handLoaderAndInterrupt}), once its thread is started.
         */
        private void resume(boolean interrupt) {
            if (thread == null) {
                startThread();
            }
            Thread r = runner();
            if (interrupt) {
                handLoaderAndInterrupt(r);
            } else {
                handLoader(r);
            }
            turn.give(this);
            LockSupport.unpark(r);
        }

        /**
         * The thread that runs this context's code now, or would if it had the turn: the innermost
         * generator body's thread while the context consumes a generator, else its own.
         */
        Thread runner() {
            Generator<?> g = context.innermostGenerator;
            return g != null ? g.stackThread() : thread;
        }

        /** The coroutine's thread: waits for its first turn, runs the body, hands the turn to whoever the scheduler chose. */
        @Override
        public void run() {
            LateBinding.expect(this); // bound at the body's first call: not if the thread is abandoned before the body begins
            turn.await(this);
            Context next;
            try {
                Throwable thrown;
                try {
                    context.runBody();
                    thrown = null;
                } catch (Throwable t) {
                    thrown = t;
                }
                if (thread != Thread.currentThread()) {
                    return; // abandoned by its owner while it could not run: it must not touch the scheduler, nor its context
                }
                LateBinding.bindIfPending(scheduler); // a body that never called coro was never bound
                next = scheduler.bodyEnded(context, Scheduler.keptAfter(context, thrown));
            } catch (Throwable t) {
                crash = t;
                next = scheduler.main;
            }
            // an interrupt the body left set passes to whoever runs next, as the one flag of the
            // continuation engine's thread would stay set for it; under the lock of relayToHolder, so that
            // an interrupt a pool thread's main relays reaches this thread before it hands the turn on, or
            // the next holder's after, never this thread as it ends
            synchronized (turn) {
                try {
                    ((ThreadStack) next.stack).resume(true);
                } catch (PinnedException e) {
                    ((ThreadStack) scheduler.cannotRun(next, context, e).stack).resume(true);
                }
            }
        }

        @Override
        public String givenUpIn() {
            return thread != Thread.currentThread() ? String.valueOf(abandonedIn) : null;
        }

        @Override
        public Scheduler runsAs() {
            return scheduler;
        }

        @Override
        public String describe() {
            return context.describe();
        }

        @Override
        public String leftAs() {
            return "NEW";
        }

        /**
         * The frames of this suspended context as one stack, innermost first: those of the thread that
         * runs its code now, then, for each generator body it is inside, those of the thread that
         * consumes that generator, down to its own thread.
         */
        @Override
        public StackTraceElement[] frames() {
            if (thread == null) {
                return new StackTraceElement[0];
            }
            List<StackTraceElement> all = new ArrayList<>();
            for (Generator<?> g = context.innermostGenerator; g != null; g = g.outerGenerator()) {
                all.addAll(Arrays.asList(g.stackThread().getStackTrace()));
            }
            all.addAll(Arrays.asList(thread.getStackTrace()));
            return all.toArray(new StackTraceElement[0]);
        }

        /**
         * Throws, in main, what escaped the scheduler on a coroutine's thread as its body ended (a bug,
         * not a body's failure, which the scheduler delivers itself): the continuation engine's
         * trampoline would throw it in main too.
         */
        private void rethrowCrash() {
            Throwable t = crash;
            if (t != null && context.isMain()) {
                crash = null;
                if (t instanceof RuntimeException e) {
                    throw e;
                }
                throw (Error) t;
            }
        }
    }
}
