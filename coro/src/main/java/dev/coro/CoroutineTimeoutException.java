package dev.coro;

import java.time.Duration;

/**
 * Thrown by {@link Coroutine#withTimeout} when its deadline passed before its body returned: the
 * body was interrupted at a wait or a scheduling point and has unwound (its {@code finally} blocks
 * ran). The message names the coroutine and the timeout, and for a {@code withTimeout} nested inside
 * others how many enclose it ({@code coroutine 'c' timed out: withTimeout(PT1S), inside 1 enclosing
 * withTimeout, expired before its body returned}), so that nested scopes of the same timeout are told
 * apart; the cause, if any, is the signal that unwound the body, whose stack trace shows where it was
 * interrupted.
 */
public final class CoroutineTimeoutException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The timeout that expired. */
    private final Duration timeout;

    CoroutineTimeoutException(String context, TimeoutScope scope, Throwable signal) {
        this(context, scope.describe(), scope.timeout, signal);
    }

    /** That of an outermost {@code withTimeout(timeout)}. */
    CoroutineTimeoutException(String context, Duration timeout, Throwable signal) {
        this(context, "withTimeout(" + timeout + ")", timeout, signal);
    }

    private CoroutineTimeoutException(String context, String scope, Duration timeout, Throwable signal) {
        super(context + " timed out: " + scope + " expired before its body returned"
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
