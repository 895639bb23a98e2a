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

    private final ScopedBindings bindings;
    private final Runnable run = this::run;

    /** A continuation for {@code body}, which starts with no scoped-value bindings, as a coroutine's does. */
    GeneratorContinuation(ScopedBindings bindings, Runnable body) {
        super(SCOPE, () -> {
            bindings.enter();
            body.run();
        });
        this.bindings = bindings;
    }

    /**
     * {@inheritDoc}
     *
     * @throws PinnedException (stuck) if an error (such as a stack overflow of the consumer's stack) struck
     *                         as the JDK entered this continuation before, and left it unable to run: ended
     *                         before the body's own code ran, or marked as running
     */
    @Override
    public void resume() {
        if (isDone()) {
            throw PinnedException.stuck(BROKEN);
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
            // earlier error left marked as running ("Mounted")
            throw PinnedException.stuck(BROKEN + " (the JDK says: " + e.getMessage() + ")");
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

    /** None: the body runs on its consumer's stack. */
    @Override
    public Thread thread() {
        return null;
    }
}
