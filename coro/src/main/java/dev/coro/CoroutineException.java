package dev.coro;

/**
 * A coroutine's body failed: {@link #getCause()} is exactly what the body threw.
 *
 * <p>It is thrown in the context that resumes after the failure: the failed coroutine's creator
 * (main if the creator has ended), from its pending {@link Coroutine#yield()} or
 * {@link Coroutine#switchTo()}; or the caller of {@link Coroutine#close()} when the body threw
 * while being unwound.
 */
public class CoroutineException extends RuntimeException {
    private static final long serialVersionUID = 1L;

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
