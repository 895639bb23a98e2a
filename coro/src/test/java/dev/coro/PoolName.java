package dev.coro;

/**
 * The name of a {@link CoroutinePool} (e.g. {@code coro-pool-3}), read from its description
 * {@code CoroutinePool[coro-pool-3, 2 threads, running]}, for tests that assert messages naming it.
 *
 * <p>It takes any object, so that scenarios running in a copy of the library ({@link AllocationFailingCopy}),
 * whose pools are of the copy's class and whose classes are in a package of their own at run time (so it
 * is public), share it too.
 */
public final class PoolName {

    private PoolName() {
    }

    /** The name of {@code pool}, read from its {@code toString()}. */
    public static String of(Object pool) {
        String d = pool.toString();
        return d.substring("CoroutinePool[".length(), d.indexOf(','));
    }
}
