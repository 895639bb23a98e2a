package dev.coro;

import java.util.function.Function;

/**
 * The stack of the thread running a scheduler's current context, taken from another thread while the
 * scheduler's thread runs on: what the dump's listing from outside ({@link MonitorSupport#outside}) and the
 * blocked-loop detector's report ({@link Watchdog}) show of a thread they do not stop.
 *
 * <p>That thread may end as its stack is taken, which leaves the stack empty: the scheduler's own, or, on the
 * thread engine, where each body has a thread of its own, the current body's, whose body ended while the
 * scheduler's thread went on to another context. A body's thread that ended so is passed over: the stack is
 * taken again, up to {@link #TRIES} times, of the thread running the context current then. Before each take,
 * a scheduler's thread that waits in its event loop after a body ended runs none of its contexts: the index of
 * the current one still holds the ended one's, now another's, whose thread is not where the scheduler's thread
 * is (on the thread engine that other's own thread, waiting for its turn); no stack is taken then.
 */
final class RunnerStack {

    /** How many times at most the stack is taken, while each taken is of a thread that had ended. */
    static final int TRIES = 3;

    /** The context current when the stack was first taken; null if none was taken. */
    final Context first;
    /** The thread whose stack was taken last; null if none was taken. */
    final Thread runner;
    /** The stack taken last; null if none was taken. */
    final StackTraceElement[] frames;
    /** Whether the scheduler's thread was found waiting in its event loop after a body ended, before a take. */
    final boolean idle;

    private RunnerStack(Context first, Thread runner, StackTraceElement[] frames, boolean idle) {
        this.first = first;
        this.runner = runner;
        this.frames = frames;
        this.idle = idle;
    }

    /**
     * The stack of the thread running {@code s}'s current context, taken with {@code stackOf} (a test puts in
     * one that lets the thread move on meanwhile, as it may of itself); taken again while the thread it was
     * taken of had ended and {@code s}'s thread lives; none taken once {@code s}'s thread has ended or is found
     * waiting in its event loop after a body ended.
     */
    static RunnerStack take(Scheduler s, Function<Thread, StackTraceElement[]> stackOf) {
        Context first = null;
        Thread runner = null;
        StackTraceElement[] frames = null;
        for (int tries = 0; tries < TRIES && (runner == null || !runner.isAlive()) && s.owner.isAlive(); tries++) {
            if (s.idleAfterEnd) {
                return new RunnerStack(first, runner, frames, true);
            }
            Context current = current(s);
            runner = s.engine.runner(current);
            frames = stackOf.apply(runner);
            if (first == null) {
                first = current;
            }
        }
        return new RunnerStack(first, runner, frames, false);
    }

    /**
     * The thread that had ended when this was taken, whose stack is nowhere: {@code s}'s own if it has ended,
     * else, unless {@link #idle}, the one whose stack was taken last if it has ended (each taken had); null if
     * neither (nor if no stack was taken while {@code s}'s thread lives).
     */
    Thread ended(Scheduler s) {
        if (!s.owner.isAlive()) {
            return s.owner;
        }
        return idle || runner == null || runner.isAlive() ? null : runner;
    }

    /** {@code s}'s current context, read from another thread as it may be now; main if none is read. */
    private static Context current(Scheduler s) {
        int size = s.runList.size();
        Context current = size == 0 ? s.main : s.runList.getRacy(s.currentIndex());
        return current == null ? s.main : current;
    }
}
