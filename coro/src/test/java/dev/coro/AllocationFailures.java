package dev.coro;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

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
    /** Which allocations count: those for which it is true (those of one coroutine); null: all. */
    private static volatile BooleanSupplier counted;
    /** The thread asking {@link #counted} now, whose allocations meanwhile do not count; null if none. */
    private static volatile Thread asking;

    private AllocationFailures() {
    }

    /** Makes the {@code n}-th allocation from now fail (1: the next one); 0 makes none fail. */
    public static void failAt(int n) {
        failAt(n, null);
    }

    /**
     * Makes the {@code n}-th allocation from now for which {@code where} is true fail (1: the next one); 0
     * makes none fail. {@code where} tells the allocations of the operation tried from those of the coroutines
     * that run while it waits; null counts all.
     */
    public static void failAt(int n, BooleanSupplier where) {
        thrown = false;
        counted = where;
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
        if (LEFT.get() > 0 && asking != Thread.currentThread() && counts() && LEFT.decrementAndGet() == 0) {
            thrown = true;
            throw new OutOfMemoryError(MESSAGE);
        }
    }

    private static boolean counts() {
        BooleanSupplier where = counted;
        if (where == null) {
            return true;
        }
        asking = Thread.currentThread();
        try {
            return where.getAsBoolean();
        } finally {
            asking = null;
        }
    }

    /** A trial of {@link #eachInTurn}: an operation with its {@code k}-th allocation failing, and the checks after it. */
    @FunctionalInterface
    public interface Trial {
        /**
         * Runs the trial on a fresh thread.
         *
         * @param k the allocation of the operation to fail, 1 for its first; 0 for none
         * @return whether that allocation failed (false: the operation made fewer than {@code k})
         */
        boolean run(int k) throws Throwable;
    }

    /**
     * Runs {@code trial} with {@code k} = 0 (no failure: every class it uses is loaded), then 1, 2, ... until
     * a trial's {@code k}-th allocation did not fail; each on a fresh platform thread, with a fresh scheduler.
     *
     * @throws AssertionError if a trial failed, naming its {@code k}; or after 1,000 trials
     */
    public static void eachInTurn(Trial trial) throws InterruptedException {
        for (int k = 0; k < 1000; k++) {
            int at = k;
            boolean[] failed = new boolean[1];
            Throwable[] broken = new Throwable[1];
            Thread t = Thread.ofPlatform().name("trial-" + k).start(() -> {
                try {
                    failed[0] = trial.run(at);
                } catch (Throwable e) {
                    broken[0] = e;
                } finally {
                    stop();
                }
            });
            t.join();
            if (broken[0] != null) {
                throw new AssertionError("with allocation " + k + " failing: " + broken[0], broken[0]);
            }
            if (k > 0 && !failed[0]) {
                return;
            }
        }
        throw new AssertionError("the operation still allocated after 1,000 allocations failed in turn");
    }

    /**
     * Runs {@code operation} with its {@code k}-th allocation failing, and takes that failure.
     *
     * @return whether the failure was thrown (then {@code operation} stopped there)
     * @throws OutOfMemoryError if the operation threw an injected failure other than that, or one of the JVM's
     */
    public static boolean failing(int k, Runnable operation) {
        return failing(k, null, operation);
    }

    /**
     * {@link #failing(int, Runnable)} counting only the allocations for which {@code where} is true (see
     * {@link #failAt(int, BooleanSupplier)}).
     */
    public static boolean failing(int k, BooleanSupplier where, Runnable operation) {
        failAt(k, where);
        try {
            operation.run();
        } catch (OutOfMemoryError e) {
            if (!injected(e)) {
                throw e;
            }
        } finally {
            LEFT.set(0);
        }
        return thrown;
    }
}
