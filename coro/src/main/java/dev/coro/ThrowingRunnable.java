package dev.coro;

/**
 * A body without a value that may throw a checked exception of type {@code X}: what the second form
 * of {@link Coroutine#callWithTimeout} (and of {@link Semaphore#callWithPermit}) runs, so that a body writing to a connection need not wrap its
 * {@code IOException} nor return a value it does not have.
 *
 * @param <X> the checked exception it may throw; a body that throws none infers {@code RuntimeException}
 */
@FunctionalInterface
public interface ThrowingRunnable<X extends Exception> {

    /**
     * Runs the body.
     *
     * @throws X what the body throws
     */
    void run() throws X;
}
