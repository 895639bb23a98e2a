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

    GeneratorContinuation(Runnable body) {
        super(SCOPE, body);
    }

    @Override
    public void resume() {
        run();
    }

    @Override
    public void suspend() {
        Continuation.yield(SCOPE);
    }

    /** None: the body runs on its consumer's stack. */
    @Override
    public Thread thread() {
        return null;
    }
}
