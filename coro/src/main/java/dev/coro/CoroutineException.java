package dev.coro;

import java.lang.ref.WeakReference;

/**
 * A coroutine's body failed: {@link #getCause()} is exactly what the body threw.
 *
 * <p>It is thrown in the context that resumes after the failure: the failed coroutine's creator
 * (main if the creator has ended or is parked), from its pending {@link Coroutine#yield()} or
 * {@link Coroutine#switchTo()} (or the wait a parked main is in, or its {@link Coroutine#join()} of the
 * failed coroutine); or the caller of {@link Coroutine#close()} when the body threw while being unwound
 * (main if that caller has ended). A generator body that it passes through uncaught (the pending call was a
 * {@code Coroutine.yield()} in the body) passes it on as it is, and ends {@code CLOSED}, as does one that
 * catches it and throws it again before it emits; a body that throws it after it reached its context's own
 * code (caught there and kept), after the body caught it and emitted a value, or throws a failure delivered
 * to another context, fails with it as with any exception.
 *
 * <p>A {@link Generator}'s body that throws is reported the same way to its consumer, by the call that
 * ran it ({@code hasNext()}, {@code next()}, {@code send}, {@code close()}), the message naming the
 * generator ({@code generator 'lines' failed: …}). Two reports of the library are this exception too,
 * its cause a failure nobody caught: {@link CoroutinePool#close()} throws one for the first failure of
 * the pool that nobody observed, and {@link VirtualTime#run} (or {@link VirtualTime#call}) hands one to the thread's uncaught-exception
 * handler for the failures that its body's exception could not carry.
 *
 * <p>What the body left beside its own failure at its end (a failure a wait of it kept for its next
 * scheduling point, the failure of a wait's clean-up it left unfinished) is suppressed in what it
 * threw; if that takes no suppressed exceptions (made with suppression disabled, as a preallocated
 * signal is), it is suppressed in this exception instead, which always takes them: the cause stays
 * exactly what the body threw, since the code that catches such a signal may compare it by identity. So
 * is a failure that holds what the body threw already, as its cause or a suppressed one (the report of a
 * coroutine that threw that very exception, which the body received and threw again): suppressed there,
 * it would make that exception its own suppressed exception's cause, a cycle. The library never adds an
 * exception as suppressed where it would make one.
 */
public class CoroutineException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Set on a coroutine's failure that the scheduler delivers to a context (the failed coroutine's
     * creator, its closer, or main): it belongs to that context, so a generator body that it passes through
     * uncaught (the context's pending call was inside the body) does not fail with it but passes it on.
     */
    transient boolean delivered;

    /**
     * While a {@link #delivered} failure passes, uncaught, out of the generator bodies its context was
     * inside when its pending call threw it: that context, held weakly (a failure kept after it ended
     * keeps nothing of it); null once the failure has reached the context's own code (thrown there, or
     * passed on out of the outermost body), so that a body that kept it and throws it again later, or
     * one of another consumer, fails with it as with any exception ({@link Generator#consumers}); so does
     * a body that caught it and emitted since, which each body notes for itself as it is thrown.
     */
    transient WeakReference<Context> passingTo;

    /**
     * Marks {@code pending}, about to be thrown at a pending call of {@code at}, as passing through the
     * generator bodies {@code at} is inside, if it is a delivered failure; as at its context's own code if
     * {@code at} is inside none.
     */
    static void throwingAt(Throwable pending, Context at) {
        if (pending instanceof CoroutineException e && e.delivered) {
            e.passingTo = at.innermostGenerator != null ? new WeakReference<>(at) : null;
            // each body it would pass out of notes it for its current resume: one that catches it and
            // emits before throwing it again fails with it (Generator#consumers)
            for (Generator<?> g = at.innermostGenerator; g != null; g = g.outerGenerator()) {
                g.failureThrownInside(e);
            }
        }
    }

    /**
     * Creates the exception.
     *
     * @param message names the coroutine and what happened
     * @param cause   what the body threw
     */
    public CoroutineException(String message, Throwable cause) {
        super(message, cause);
    }
}
