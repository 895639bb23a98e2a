package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Sixteen threads, each with ten thousand coroutines alive at once, run their round robins at the
 * same time without seeing each other's run lists.
 */
@Tag("stress")
class ThreadsStressTest {

    private static final int THREADS = 16;
    private static final int COROUTINES = 10_000;
    private static final int ROUNDS = 5;
    private static final boolean THREAD_ENGINE = Engines.running().equals("threads");

    /** One thread's round robin and what went wrong in it. */
    private static final class Worker implements Runnable {
        final CountDownLatch created;
        final CountDownLatch go;
        final List<Coroutine> handles = new ArrayList<>();
        final List<String> errors = new ArrayList<>();
        Thread owner;
        int lastRan;
        long steps;
        volatile Coroutine stranger;

        Worker(CountDownLatch created, CountDownLatch go) {
            this.created = created;
            this.go = go;
        }

        @Override
        public void run() {
            owner = Thread.currentThread();
            handles.add(Coroutine.current());
            for (int id = 1; id <= COROUTINES; id++) {
                int self = id;
                handles.add(Coroutine.create(() -> {
                    for (int round = 0; round < ROUNDS; round++) {
                        step(self);
                        Coroutine.yield();
                    }
                    step(self);
                }));
            }
            created.countDown();
            try {
                go.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            for (int round = 0; round <= ROUNDS; round++) {
                lastRan = COROUTINES + 1;
                Coroutine.yield();
                if (lastRan != 1) {
                    errors.add("round " + round + " ended with " + lastRan);
                }
            }
            for (Coroutine c : handles.subList(1, handles.size())) {
                if (!c.isFinished()) {
                    errors.add(c + " did not finish");
                }
            }
        }

        /** The thread coroutine {@code self}'s body must run on: the owner, or on the thread engine its own virtual thread. */
        private Thread bodyThread(int self) {
            return THREAD_ENGINE ? ThreadEngine.threadOf(handles.get(self)) : owner;
        }

        private void step(int self) {
            if (lastRan != self + 1 || Coroutine.currentId() != self || Coroutine.current() != handles.get(self)
                    || Thread.currentThread() != bodyThread(self)) {
                errors.add("coroutine " + self + " ran after " + lastRan + " at index " + Coroutine.currentId()
                        + " on " + Thread.currentThread());
            }
            lastRan = self;
            steps++;
        }
    }

    @Test
    void sixteenThreadsRunTenThousandCoroutinesEachAtOnceWithoutCrossTalk() throws Exception {
        StressFigures figures = StressFigures.start();
        CountDownLatch created = new CountDownLatch(THREADS);
        CountDownLatch go = new CountDownLatch(1);
        Queue failures = new Queue();
        List<Worker> workers = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            Worker w = new Worker(created, go);
            workers.add(w);
            Thread thread = new Thread(w, "worker-" + t);
            thread.setUncaughtExceptionHandler((th, e) -> failures.add(th.getName() + ": " + e));
            threads.add(thread);
            thread.start();
        }
        created.await();
        List<String> strangers = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            Coroutine foreign = workers.get((t + 1) % THREADS).handles.get(1);
            try {
                foreign.switchTo();
                strangers.add("switched to " + foreign + " from the test thread");
            } catch (IllegalStateException expected) {
                assertThat(expected).hasMessageContaining("it belongs to thread 'worker-" + (t + 1) % THREADS + "'");
            }
        }
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        figures.print(THREADS + " threads x " + COROUTINES + " coroutines, " + (ROUNDS + 1) + " rounds");

        assertThat(failures).isEmpty();
        assertThat(strangers).isEmpty();
        for (Worker w : workers) {
            assertThat(w.errors).isEmpty();
            assertThat(w.steps).isEqualTo((long) COROUTINES * (ROUNDS + 1));
        }
    }

    /** Failures reported by the worker threads. */
    private static final class Queue extends ConcurrentLinkedQueue<String> {
        private static final long serialVersionUID = 1L;
    }
}
