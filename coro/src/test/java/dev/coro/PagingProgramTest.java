package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Whole programs that page through a remote service with a generator whose body awaits futures. */
@ExtendWith(FreshThread.class)
class PagingProgramTest {

    /**
     * A service on a plain thread: answers page k with k*10 .. k*10+9; pages past {@code last} are empty; {@code hang}
     * never answers. A prompt service has dealt with a call (answered it, or kept it hung) before {@link #page} returns.
     */
    static final class Service implements AutoCloseable {
        private final BlockingQueue<Object[]> calls = new LinkedBlockingQueue<>();
        private final java.util.concurrent.Semaphore dealt = new java.util.concurrent.Semaphore(0);
        private final boolean prompt;
        private final List<CompletableFuture<List<Integer>>> hung = new ArrayList<>();
        private final Thread thread;

        Service(int last, int hang) {
            this(last, hang, false);
        }

        Service(int last, int hang, boolean prompt) {
            this.prompt = prompt;
            thread = Thread.ofPlatform().name("service").start(() -> {
                try {
                    while (true) {
                        Object[] call = calls.take();
                        int page = (Integer) call[0];
                        @SuppressWarnings("unchecked")
                        CompletableFuture<List<Integer>> f = (CompletableFuture<List<Integer>>) call[1];
                        if (page < 0) {
                            return;
                        }
                        if (page == hang) {
                            hung.add(f);
                        } else {
                            List<Integer> items = new ArrayList<>();
                            for (int i = 0; page <= last && i < 10; i++) {
                                items.add(page * 10 + i);
                            }
                            f.complete(items);
                        }
                        dealt.release();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }

        CompletableFuture<List<Integer>> page(int k) {
            CompletableFuture<List<Integer>> f = new CompletableFuture<>();
            calls.add(new Object[] {k, f});
            if (prompt) {
                dealt.acquireUninterruptibly();
            }
            return f;
        }

        List<CompletableFuture<List<Integer>>> hung() throws InterruptedException {
            calls.add(new Object[] {-1, null});
            thread.join();
            return hung;
        }

        @Override
        public void close() throws InterruptedException {
            if (thread.isAlive()) {
                hung();
            }
        }
    }

    private static Generator<Integer> items(Service s, int readAhead, List<String> trace) {
        return Generator.buffered("items", readAhead, out -> {
            try {
                for (int k = 0; k < 100; k++) {
                    List<Integer> page = Coroutine.await(s.page(k));
                    if (page.isEmpty()) {
                        return;
                    }
                    for (int v : page) {
                        out.emit(v);
                    }
                }
            } finally {
                trace.add("items ended");
            }
        });
    }

    @Test
    void aGeneratorPagingThroughARemoteServiceGivesEveryItemOnceInOrderPlainAndReadAhead() throws InterruptedException {
        for (int readAhead : new int[] {1, 7, 10, 25}) {
            List<String> trace = new ArrayList<>();
            try (Service s = new Service(4, -1)) {
                Generator<Integer> g = items(s, readAhead, trace);
                List<Integer> got = new ArrayList<>();
                Coroutine consumer = Coroutine.create("consumer", () -> g.forEach(got::add));
                while (!consumer.isFinished()) {
                    Coroutine.yield();
                }
                assertThat(got).as("read-ahead %d", readAhead).hasSize(50);
                for (int i = 0; i < 50; i++) {
                    assertThat(got.get(i)).isEqualTo(i);
                }
                assertThat(g.state()).isEqualTo(Generator.State.FINISHED);
                assertThat(trace).containsExactly("items ended");
            }
        }
    }

    /**
     * The service answers on its own thread, and while the body awaits a page the virtual clock holds for as long, in
     * real time, as the timeout is away (docs/TIME.md): a page answered later than that on a loaded machine would let
     * the timeout expire before it, and the items before the hung page would not all come. The service is prompt, so
     * every page but the hung one is answered before the body awaits it, and the timeout, short, is spent on the hung
     * page alone.
     */
    @Test
    void aTimeoutWhileAGeneratorAwaitsAPageThatNeverComesClosesItKeepsTheItemsBeforeAndLeavesOneCallback()
            throws InterruptedException {
        for (int readAhead : new int[] {1, 4, 25}) {
            List<String> trace = new ArrayList<>();
            List<CompletableFuture<List<Integer>>> hung;
            List<Integer> got = new ArrayList<>();
            Throwable thrown;
            Generator<Integer> g;
            try (Service s = new Service(9, 2, true)) {
                g = items(s, readAhead, trace);
                thrown = catchThrowable(() -> VirtualTime.run(() -> Coroutine.withTimeout(Duration.ofMillis(50), () -> {
                    for (int v : g) {
                        got.add(v);
                    }
                })));
                List<Integer> after = new ArrayList<>();
                g.forEachRemaining(after::add);
                got.addAll(after);
                hung = s.hung();
            }
            assertThat(thrown).as("read-ahead %d", readAhead).isInstanceOf(CoroutineTimeoutException.class);
            assertThat(got).as("read-ahead %d: every item before the page that never came, once, in order", readAhead)
                    .isEqualTo(java.util.stream.IntStream.range(0, 20).boxed().collect(Collectors.toList()));
            assertThat(trace).containsExactly("items ended");
            assertThat(g.state()).isEqualTo(Generator.State.CLOSED);
            assertThat(hung).hasSize(1);
            assertThat(hung.get(0).getNumberOfDependents()).as("read-ahead %d", readAhead).isLessThanOrEqualTo(1);
        }
    }
}
