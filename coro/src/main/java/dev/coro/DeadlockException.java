package dev.coro;

/**
 * Every context of a thread is parked on a channel, so none of them could ever be woken.
 *
 * <p>It is thrown instead of hanging: from the {@link Channel} operation that would have parked the
 * last runnable context (which then does not park), or, when the last runnable coroutine's body
 * ends with everything else parked, from main's pending channel operation, whose wait is cancelled.
 * The message names every parked context and what it waits for, one per line.
 */
public final class DeadlockException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    DeadlockException(String message) {
        super(message);
    }
}
