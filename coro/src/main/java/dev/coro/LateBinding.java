package dev.coro;

/**
 * The binding of a thread-engine body's thread to the scheduler it runs as, made by the body's first call
 * of the library rather than before the body starts, so that a body whose start was refused never gets it.
 *
 * <p>A body whose code is a lambda of a class that the starting thread is still initializing waits, on its
 * own thread, in the JVM's wait for that initialization; the starting thread finds it there after a stall,
 * gives that thread up and refuses the start ({@link InitializerDeadlock}). Nothing can stop the thread in
 * the JVM's wait: if the initializer catches the refusal and returns, the thread runs the body then, outside
 * any turn, while the coroutine stays {@code NEW} (it starts afresh on a new thread if run) or the generator
 * is {@code FAILED}. Bound before the body started, that thread would act as its scheduler's at every call
 * of coro, beside the context that holds the turn. Bound late, its first call finds it given up
 * ({@link Body#givenUpIn}) and throws {@link #refusal} instead; so does every later one, since it never
 * gets bound. Its own plain Java (what it writes, prints, or hands to other threads) nothing can stop.
 *
 * <p>The look-ups that bind the thread never throw for want of memory ({@link #bindTo}): some of them are made in the
 * middle of an operation, where the library relies on a look-up's answer and nothing else.
 *
 * <p>Cost: a body's thread pays a look-up and a removal of {@link #PENDING} at its first call of the library
 * that needs the scheduler (or as its body ends, if it made none), none after; a thread that is no body's, only
 * on this engine and only where the library finds it without a scheduler (a thread-local look-up there). The continuation engine never reads it: the
 * callers test {@link Engines#THREAD_ENGINE}, a constant (the look-ups of the calling thread's scheduler, only
 * once a scheduler was made in the JVM: see {@code Scheduler.made}).
 */
final class LateBinding {

    /** The stack of the body the calling thread runs, from the thread's start until it is bound; null on other threads. */
    private static final ThreadLocal<Body> PENDING = new ThreadLocal<>();

    private LateBinding() {
    }

    /** A body's stack on the thread engine, as its thread sees it before it is bound. */
    interface Body {
        /**
         * On the body's thread: the class in whose static initializer its start was refused, if its thread was
         * given up then; null if it runs as it should.
         */
        String givenUpIn();

        /** On the body's thread, not given up: the scheduler it runs as now; null if none (between a generator's turns). */
        Scheduler runsAs();

        /** A phrase naming the coroutine or generator, e.g. {@code coroutine 'reader'}. */
        String describe();

        /** The state its start's refusal left it in, which the refusal reported: {@code NEW}, {@code FAILED}. */
        String leftAs();
    }

    /** Called on a body's thread before its body can start: that thread's binding waits for the body's first call. */
    static void expect(Body b) {
        PENDING.set(b);
    }

    /**
     * The scheduler the calling thread runs as, bound now, if it runs a body whose thread is not bound yet;
     * null if it runs none (or none now).
     *
     * @throws IllegalStateException {@link #refusal} if that body's thread was given up, naming the public call
     *                               its frames show
     */
    static Scheduler bind() {
        return bind(null, null, null);
    }

    /**
     * {@link #bind()} for a caller that names what was attempted: {@code op} on {@code target}, in state
     * {@code state}, as its refusal says; with a null {@code op}, the refusal names the public call the
     * frames show.
     */
    static Scheduler bind(String op, String target, Object state) {
        Body b = PENDING.get();
        if (b == null) {
            return null;
        }
        String host = b.givenUpIn();
        if (host != null) {
            String call = op != null ? op + " " + target + " (" + state + ")" : StackTraces.apiCallOnTop(Thread.currentThread().getStackTrace());
            throw refusal(b, host, op != null ? call : call != null ? "call " + call : "use coro");
        }
        return bindTo(b.runsAs());
    }

    /**
     * {@link #bind()} for a caller that only asks (an observer, a message): null, not a refusal, on a thread
     * given up, which has no scheduler.
     */
    static Scheduler bindQuietly() {
        Body b = PENDING.get();
        if (b == null || b.givenUpIn() != null) {
            return null;
        }
        return bindTo(b.runsAs());
    }

    /**
     * Binds the calling thread to {@code s}, its body's scheduler, if not null, for good: {@link #PENDING} is
     * cleared, so that nothing binds it again once the library has unbound it a while (a dump it makes while it
     * waits in its event loop, see {@code Scheduler.observe}). Returns {@code s} even if the JVM has no room for
     * the binding: the answer holds, and the next look-up binds the thread (an {@link OutOfMemoryError} here
     * would strike the library's calls that look the scheduler up in the middle of an operation).
     */
    static Scheduler bindTo(Scheduler s) {
        if (s != null) {
            try {
                Scheduler.bind(s);
                PENDING.remove();
            } catch (OutOfMemoryError e) {
                // unbound still, PENDING kept: the next look-up binds it
            }
        }
        return s;
    }

    /** {@link #bindTo(Scheduler) bindTo(s)} if the calling thread is a body's not bound yet (its body never called coro). */
    static void bindIfPending(Scheduler s) {
        if (PENDING.get() != null) {
            bindTo(s);
        }
    }

    /**
     * The refusal of {@code call} to the body of {@code b}, whose thread was given up in the initializer of
     * {@code host}, e.g. {@code the body of coroutine 'c' cannot call Coroutine.yield: its start was refused in
     * the static initializer of class C, whose lambda it is, and that initializer returned all the same; the
     * body runs now on the thread given up then, outside its scheduler, and may not use coro (coroutine 'c'
     * was left NEW)}. Made of plain text only: no call of the library's, which would refuse again.
     */
    static IllegalStateException refusal(Body b, String host, String call) {
        return new IllegalStateException("the body of " + b.describe() + " cannot " + call + ": its start was refused in"
                + " the static initializer of class " + host + ", whose lambda it is, and that initializer returned all"
                + " the same; the body runs now on the thread given up then, outside its scheduler, and may not use"
                + " coro (" + b.describe() + " was left " + b.leftAs() + ")");
    }
}
