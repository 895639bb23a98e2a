package dev.coro;

import java.time.Duration;

/**
 * Thrown by {@link Coroutine#withTimeout} when its deadline passed before its body returned: the
 * body was interrupted at a wait or a scheduling point and has unwound (its {@code finally} blocks
 * ran). The message names the coroutine and the timeout; the cause, if any, is the signal that
 * unwound the body, whose stack trace shows where it was interrupted.
 */
public final class CoroutineTimeoutException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The timeout that expired. */
    private final Duration timeout;

    CoroutineTimeoutException(String context, Duration timeout, Throwable signal) {
        super(context + " timed out: withTimeout(" + timeout + ") expired before its body returned"
                + (signal == null ? " (a zero timeout expires at once: the body did not run)" : ""), signal);
        this.timeout = timeout;
    }

    /**
     * The timeout that expired.
     *
     * @return the duration given to {@code withTimeout}
     */
    public Duration timeout() {
        return timeout;
    }
}
