package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A JDK blocking call (a latch, a {@code Condition}, a {@code BlockingQueue.take}, {@code Future.get()}, a
 * blocking socket read on loopback) made by a generator's
 * body inside a coroutine, on virtual threads of a thread-per-request executor, unmounts each virtual thread as
 * a handler without coro would: more requests than the scheduler has carriers all block so at once, and the
 * virtual thread that releases them still gets a carrier and runs; each request's body then goes on and its
 * coroutine finishes with the value, on whichever carrier resumes it, on both engines. (A monitor is another
 * matter on the continuation engine: {@code MonitorInsideABodyOnAVirtualThreadTest}.)
 */
class JdkBlockingCallInsideABodyOnAVirtualThreadUnmountsItTest {

    /** More requests than carriers: were each blocked one to hold its carrier, the releaser would never run. */
    private static final int REQUESTS = Carriers.count() + 2;

    /** One way of blocking: a body's call that waits until {@link #release} runs, for request {@code i}. */
    private interface Blocking {
        /** Blocks until released, then returns what it was handed. */
        String block(int i) throws Exception;

        /** Releases every request's block, from another virtual thread. */
        void release() throws Exception;
    }

    /**
     * Runs {@link #REQUESTS} requests on virtual threads, each a coroutine consuming a generator whose body
     * blocks in {@code blocking}; once every request's virtual thread waits, a virtual thread releases them.
     *
     * @return what each request's coroutine got from its generator
     */
    private static List<String> requestsBlockingIn(Blocking blocking) throws Exception {
        List<Thread> threads = new ArrayList<>();
        List<Future<String>> answers = new ArrayList<>();
        try (ExecutorService server = Executors.newVirtualThreadPerTaskExecutor()) {
            List<CompletableFuture<Thread>> bodies = new ArrayList<>();
            for (int r = 0; r < REQUESTS; r++) {
                int i = r;
                CompletableFuture<Thread> thread = new CompletableFuture<>();
                CompletableFuture<Thread> body = new CompletableFuture<>();
                bodies.add(body);
                answers.add(server.submit(() -> {
                    thread.complete(Thread.currentThread());
                    Generator<String> rows = Generator.of("rows", out -> {
                        body.complete(Thread.currentThread()); // the request's own, or on the thread engine the body's
                        out.emit(blocking.block(i));
                    });
                    List<String> got = new ArrayList<>();
                    Coroutine handler = Coroutine.create("handler", () -> got.add(rows.next()));
                    handler.join();
                    return handler.state() + " " + got;
                }));
                threads.add(thread.get());
            }
            for (CompletableFuture<Thread> body : bodies) {
                threads.add(body.get());
            }
            awaitAllWaiting(threads);
            Thread releaser = Thread.ofVirtual().name("releaser").start(() -> {
                try {
                    blocking.release();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            releaser.join();
            List<String> got = new ArrayList<>();
            for (Future<String> a : answers) {
                got.add(a.get());
            }
            return got;
        }
    }

    /**
     * Waits until every request's virtual thread, and every body's thread (on the thread engine a virtual thread
     * of its own, which the request's waits for), is parked; bounded by the test's timeout.
     */
    private static void awaitAllWaiting(List<Thread> threads) {
        while (!threads.stream().allMatch(t -> t.getState() == Thread.State.WAITING)) {
            Thread.onSpinWait();
        }
    }

    /** The values the requests got: each its own, its coroutine finished. */
    private static List<String> expected(Function<Integer, String> value) {
        List<String> all = new ArrayList<>();
        for (int i = 0; i < REQUESTS; i++) {
            all.add("FINISHED [" + value.apply(i) + "]");
        }
        return all;
    }

    @Test
    @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a carrier held for good would hang the executor's close
    void aLatchAwaitedInsideBodiesOfMoreRequestsThanCarriersUnmountsEach() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        assertThat(requestsBlockingIn(new Blocking() {
            @Override
            public String block(int i) throws InterruptedException {
                gate.await();
                return "latch " + i;
            }

            @Override
            public void release() {
                gate.countDown();
            }
        })).isEqualTo(expected(i -> "latch " + i));
    }

    @Test
    @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a carrier held for good would hang the executor's close
    void aConditionAwaitedInsideBodiesOfMoreRequestsThanCarriersUnmountsEach() throws Exception {
        ReentrantLock lock = new ReentrantLock();
        Condition open = lock.newCondition();
        boolean[] opened = {false};
        assertThat(requestsBlockingIn(new Blocking() {
            @Override
            public String block(int i) throws InterruptedException {
                lock.lock();
                try {
                    while (!opened[0]) {
                        open.await();
                    }
                } finally {
                    lock.unlock();
                }
                return "condition " + i;
            }

            @Override
            public void release() {
                lock.lock();
                try {
                    opened[0] = true;
                    open.signalAll();
                } finally {
                    lock.unlock();
                }
            }
        })).isEqualTo(expected(i -> "condition " + i));
    }

    @Test
    @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a carrier held for good would hang the executor's close
    void aQueueTakenFromAndAFutureGotInsideBodiesOfMoreRequestsThanCarriersUnmountEach() throws Exception {
        BlockingQueue<String> queue = new LinkedBlockingQueue<>();
        CompletableFuture<String> future = new CompletableFuture<>();
        assertThat(requestsBlockingIn(new Blocking() {
            @Override
            public String block(int i) throws Exception {
                return i % 2 == 0 ? queue.take() + " " + i : future.get() + " " + i;
            }

            @Override
            public void release() {
                for (int i = 0; i < REQUESTS; i++) {
                    queue.add("taken");
                }
                future.complete("got");
            }
        })).isEqualTo(expected(i -> (i % 2 == 0 ? "taken " : "got ") + i));
    }

    @Test
    @Tag("net")
    @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a carrier held for good would hang the executor's close
    void aSocketReadInsideBodiesOfMoreRequestsThanCarriersUnmountsEach() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, REQUESTS, InetAddress.getLoopbackAddress())) {
            List<Socket> clients = new ArrayList<>();
            List<Socket> accepted = new ArrayList<>();
            try {
                for (int i = 0; i < REQUESTS; i++) {
                    clients.add(new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort()));
                    accepted.add(listener.accept());
                }
                assertThat(requestsBlockingIn(new Blocking() {
                    @Override
                    public String block(int i) throws IOException {
                        InputStream in = accepted.get(i).getInputStream();
                        return "read " + in.read();
                    }

                    @Override
                    public void release() {
                        for (int i = 0; i < REQUESTS; i++) {
                            try {
                                clients.get(i).getOutputStream().write(i);
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                        }
                    }
                })).isEqualTo(expected(i -> "read " + i));
            } finally {
                for (Socket s : clients) {
                    s.close();
                }
                for (Socket s : accepted) {
                    s.close();
                }
            }
        }
    }
}
