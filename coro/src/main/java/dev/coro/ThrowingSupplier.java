package dev.coro;

/**
 * A body that returns a value and may throw a checked exception of type {@code X}: what
 * {@link Coroutine#callWithTimeout} and {@link Semaphore#callWithPermit} run, so that a body reading a
 * connection need not wrap its {@code IOException}.
 *
 * @param <T> the type of its value
 * @param <X> the checked exception it may throw; a body that throws none infers {@code RuntimeException}
 */
@FunctionalInterface
public interface ThrowingSupplier<T, X extends Exception> {

    /**
     * Runs the body.
     *
     * @return its value
     * @throws X what the body throws
     */
    T get() throws X;
}
