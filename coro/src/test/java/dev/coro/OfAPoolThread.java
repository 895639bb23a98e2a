package dev.coro;

import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;

/**
 * What the tests of operations across threads make on the one thread of a {@link CoroutinePool}: a channel or a
 * semaphore of that thread, that thread held outside the library while a test posts to it, and a caller on the
 * test's thread whose park gets no thread on the thread engine.
 */
final class OfAPoolThread {

    private OfAPoolThread() {
    }

    /**
     * A channel {@code 'theirs'} of room 4, made on {@code pool}'s thread and holding {@code values}.
     *
     * @param pool   a pool of one thread
     * @param values what the channel holds, in order
     * @return the channel
     */
    static Channel<String> channel(CoroutinePool pool, String... values) {
        return pool.submit(() -> {
            Channel<String> ch = new Channel<String>("theirs", 4);
            for (String v : values) {
                ch.send(v);
            }
            return ch;
        }).join();
    }

    /**
     * A semaphore {@code 'theirs'} of one permit, made on {@code pool}'s thread, which took the permit.
     *
     * @param pool a pool of one thread
     * @return the semaphore, no permit free
     */
    static Semaphore semaphoreTaken(CoroutinePool pool) {
        return pool.submit(() -> {
            Semaphore s = new Semaphore("theirs", 1);
            s.acquire();
            return s;
        }).join();
    }

    /**
     * Runs {@code body} with the one thread of {@code pool} held outside the library, so that what is posted to
     * it waits until {@code body} has returned.
     *
     * @param pool a pool of one thread
     * @param body what runs meanwhile
     * @throws InterruptedException if interrupted while the thread is being held
     */
    static void held(CoroutinePool pool, Runnable body) throws InterruptedException {
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        pool.execute(() -> {
            held.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        held.await();
        try {
            body.run();
        } finally {
            release.countDown();
        }
    }

    /**
     * On the thread engine: what a coroutine {@code name} gets from {@code call}, whose park (switching to the
     * coroutine 'other', NEW) is refused because 'other' gets no thread; 'other' runs afterwards.
     *
     * @param name the caller's name
     * @param call what it calls
     * @return what the call returned, or the runtime exception it threw
     */
    static Object ofACoroutineWhoseParkGetsNoThread(String name, Supplier<?> call) {
        Coroutine.create("other", () -> { });
        Object[] outcome = new Object[1];
        ThreadEngine engine = (ThreadEngine) Scheduler.current().engine;
        Coroutine.create(name, () -> {
            engine.refuseStarts = 1; // 'other', chosen by the park, gets no thread
            try {
                outcome[0] = call.get();
            } catch (RuntimeException e) {
                outcome[0] = e;
            } finally {
                engine.refuseStarts = 0;
            }
        }).switchTo();
        Coroutine.yield(); // the other runs and ends
        return outcome[0];
    }
}
