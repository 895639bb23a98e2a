package dev.coro;

/** The JDK refused to suspend the running coroutine; {@link #reason} says why, in plain words. */
final class PinnedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Why the coroutine could not be suspended, as a clause ("a native frame is on its stack"). */
    final String reason;

    PinnedException(String reason) {
        super(reason, null, false, false);
        this.reason = reason;
    }
}
