package dev.coro;

import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.util.regex.Pattern;

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

    /**
     * The id of thread {@code index} of {@code pool} ({@code name-index}), read from the pool's own thread, for
     * tests that assert a message naming that thread as every message names one: {@code thread 'name-0' (#22)}.
     * It may be read once the pool is closed too: the thread keeps its id once it has ended.
     */
    public static long threadId(Object pool, int index) {
        try {
            Object worker = Array.get(workers(pool), index);
            Field thread = worker.getClass().getDeclaredField("thread");
            thread.setAccessible(true);
            return ((Thread) thread.get(worker)).threadId();
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("no thread " + index + " of " + pool, e);
        }
    }

    /**
     * A regular expression that matches any one thread of {@code pool} named as every message names a thread,
     * {@code 'name-0' (#22)}, each with its own id, for a message about a thread the test cannot choose.
     */
    public static String anyThreadPattern(Object pool) {
        String name = of(pool);
        StringBuilder b = new StringBuilder("(?:");
        try {
            for (int i = 0, n = Array.getLength(workers(pool)); i < n; i++) {
                b.append(i == 0 ? "" : "|").append(Pattern.quote("'" + name + "-" + i + "' (#" + threadId(pool, i) + ")"));
            }
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("no threads of " + pool, e);
        }
        return b.append(")").toString();
    }

    /** The array of {@code pool}'s workers, one for each of its threads. */
    private static Object workers(Object pool) throws ReflectiveOperationException {
        Field workers = pool.getClass().getDeclaredField("workers");
        workers.setAccessible(true);
        return workers.get(pool);
    }
}
