package dev.coro;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The switch of the allocation failures that {@link AllocationFailingCopy} injects: its copy of the library
 * calls {@link #allocating()} before each allocation of its own code (a {@code new}, an array made, a call
 * into the JDK that grows a collection or copies an array), and the {@code n}-th call after {@link #failAt
 * failAt(n)} throws an {@link OutOfMemoryError}, as the JVM would had the heap no room left for it. Loaded by
 * the tests' class loader, so that the copy and the tests share it.
 */
public final class AllocationFailures {

    /** The message of every injected failure, which tells it from one of the JVM's own. */
    public static final String MESSAGE = "injected: no room for this allocation";

    /** How many allocations are left before the one that fails; 0 or less: none fails. */
    private static final AtomicInteger LEFT = new AtomicInteger();
    /** Whether the failure chosen by the last {@link #failAt} was thrown. */
    private static volatile boolean thrown;

    private AllocationFailures() {
    }

    /** Makes the {@code n}-th allocation from now fail (1: the next one); 0 makes none fail. */
    public static void failAt(int n) {
        thrown = false;
        LEFT.set(n);
    }

    /** Makes no allocation fail; returns whether the one the last {@link #failAt} chose failed. */
    public static boolean stop() {
        LEFT.set(0);
        return thrown;
    }

    /** Whether {@code e} is an injected failure. */
    public static boolean injected(Throwable e) {
        return e instanceof OutOfMemoryError && MESSAGE.equals(e.getMessage());
    }

    /**
     * Called by the copy before each of its allocations.
     *
     * @throws OutOfMemoryError if this is the allocation that {@link #failAt} chose
     */
    public static void allocating() {
        if (LEFT.get() > 0 && LEFT.decrementAndGet() == 0) {
            thrown = true;
            throw new OutOfMemoryError(MESSAGE);
        }
    }
}
