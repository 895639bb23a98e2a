package dev.coro;

/**
 * A coroutine's body failed: {@link #getCause()} is exactly what the body threw.
 *
 * <p>It is thrown in the context that resumes after the failure: the failed coroutine's creator
 * (main if the creator has ended or is parked), from its pending {@link Coroutine#yield()} or
 * {@link Coroutine#switchTo()} (or the wait a parked main is in); or the caller of
 * {@link Coroutine#close()} when the body threw while being unwound (main if that caller has
 * ended). A generator body that it passes through uncaught (the pending call was a
 * {@code Coroutine.yield()} in the body) passes it on as it is, and ends {@code CLOSED}.
 *
 * <p>What the body left beside its own failure at its end (a failure a wait of it kept for its next
 * scheduling point, the failure of a wait's clean-up it left unfinished) is suppressed in what it
 * threw; if that takes no suppressed exceptions (made with suppression disabled, as a preallocated
 * signal is), it is suppressed in this exception instead, which always takes them: the cause stays
 * exactly what the body threw, since the code that catches such a signal may compare it by identity.
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
     * Creates the exception.
     *
     * @param message names the coroutine and what happened
     * @param cause   what the body threw
     */
    public CoroutineException(String message, Throwable cause) {
        super(message, cause);
    }
}
