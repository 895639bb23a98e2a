package dev.coro;

import jdk.internal.vm.Continuation;
import jdk.internal.vm.ContinuationScope;

/**
 * A generator's stack on the JDK's continuations: a continuation of its own scope, run by the
 * consumer and yielded by {@code emit}.
 *
 * <p>The consumer runs it on top of its own stack, so a {@code Coroutine.yield()} inside the body
 * yields {@link ContinuationEngine#SCOPE}: the consumer's continuation freezes with this one nested
 * inside it, and both resume intact. With main as consumer, main's trampoline simply runs on top of
 * this continuation. Nested generators nest their continuations; {@code emit} yields the innermost.
 */
final class GeneratorContinuation extends PinReportingContinuation implements GeneratorStack {

    /** The scope of every generator's continuation, distinct from the coroutines' scope. */
    static final ContinuationScope SCOPE = new ContinuationScope("dev.coro.generator");

    /** Suspends a generator body's continuation: back to its consumer. */
    private static final Runnable YIELD = () -> Continuation.yield(SCOPE);

    /** Why a continuation that an error broke on the way in can never run. */
    private static final String BROKEN = "an error (such as a stack overflow of its consumer's stack) struck as"
            + " the JDK entered its stack, and left it unable to run again";

    /**
     * The refusal of a continuation that an error ended on the way in: made in advance, as the consumer's
     * stack may be too short to make anything when it happens (it carries no stack trace).
     */
    private static final PinnedException ENDED = PinnedException.stuck(BROKEN);

    private final ScopedBindings bindings;
    private final Runnable run = this::run;
    /** The continuation's code. */
    private final Entry entry;

    /** A continuation for {@code body}, which starts with no scoped-value bindings, as a coroutine's does. */
    GeneratorContinuation(ScopedBindings bindings, Runnable body) {
        this(bindings, new Entry(bindings, body));
    }

    private GeneratorContinuation(ScopedBindings bindings, Entry entry) {
        super(SCOPE, entry);
        this.bindings = bindings;
        this.entry = entry;
    }

    /**
     * {@inheritDoc}
     *
     * @throws PinnedException (stuck) if an error (such as a stack overflow of the consumer's stack) struck
     *                         as the JDK entered this continuation, now or before, and left it unable to
     *                         run: ended before the body's own code ran (said by the resume it struck), or
     *                         marked as running, or still linked to the consumer it was entered for, which
     *                         the JDK says only when a resume tries (from another consumer, for the latter)
     */
    @Override
    public void resume() {
        if (isDone()) {
            throw ENDED;
        }
        try {
            if (bindings.bare()) {
                run();
                bindings.back();
            } else {
                bindings.fenced(run);
            }
        } catch (IllegalStateException e) {
            // the body catches all it throws: this is the JDK refusing to enter a continuation that an
            // earlier error left marked as running ("Mounted"), or linked to the consumer it was entered for
            // (no message: the error struck after the JDK linked it, and skipped the unlinking)
            throw PinnedException.stuck(BROKEN + (e.getMessage() != null ? " (the JDK says: " + e.getMessage() + ")"
                    : " (the JDK refuses to enter it for any consumer but the one it was entered for then)"));
        } catch (Error e) {
            // an error of the consumer's stack on the way in or out. If it ended the continuation before the
            // body returned, it struck before the body's own code ran (which catches all it throws): the
            // body can never run, and says so now, as the thread engine says of a body that cannot. Only
            // the one call needed here: the stack may be exhausted still
            if (isDone() && !entry.returned) {
                throw ENDED;
            }
            throw e;
        }
    }

    @Override
    public void suspend() {
        if (bindings.bare()) {
            Continuation.yield(SCOPE);
            bindings.back();
        } else {
            bindings.fenced(YIELD);
        }
    }

    /**
     * Whether this continuation is on the calling thread's stack, the innermost one of its scope or one
     * that runs it: not so where another copy of the library (another class loader's, whose scopes are
     * others) suspended it, with the coroutine of that copy it runs in, and the thread runs other code.
     */
    @Override
    public boolean runsTheCaller() {
        for (Continuation c = Continuation.getCurrentContinuation(SCOPE); c != null; c = c.getParent()) {
            if (c == this) {
                return true;
            }
        }
        return false;
    }

    /** None: the body runs on its consumer's stack. */
    @Override
    public Thread thread() {
        return null;
    }

    /** A generator continuation's code: the body, on a thread with no scoped-value bindings. */
    private static final class Entry implements Runnable {
        private final ScopedBindings bindings;
        private final Runnable body;
        /** The body returned: it catches all it throws, so it returns once its own code has run. */
        boolean returned;

        Entry(ScopedBindings bindings, Runnable body) {
            this.bindings = bindings;
            this.body = body;
        }

        @Override
        public void run() {
            bindings.enter();
            try {
                // the consumer's walkers, for a stack trace of it suspended in this body (CoroutineStack.frames)
                bindWalkers(Continuation.getCurrentContinuation(SCOPE).getParent());
            } catch (Throwable e) {
                // the consumer's stack gave out: the body says so as it runs. Without the walkers, such a
                // stack trace is the JDK's alone, which may end at a body's entry
            }
            body.run();
            returned = true;
        }
    }
}
