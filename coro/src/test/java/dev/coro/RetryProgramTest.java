package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Whole programs a user would write around retries with back-off, on a virtual clock.
 *
 * <p>The backend answers on its own thread, so while an attempt awaits it the virtual clock holds for as long, in
 * real time, as the attempt's timeout is away (docs/TIME.md): a timeout of a second lets a loaded machine take its
 * time to answer, where one of 200 milliseconds let the clock jump past an answer that was late, and an attempt that
 * should have failed or succeeded timed out. The dropped call holds the clock that second of real time by design.
 */
@ExtendWith(FreshThread.class)
class RetryProgramTest {

    /** A backend on a plain thread: the n-th call fails, is dropped or succeeds as the script says. */
    static final class Backend implements AutoCloseable {
        private final BlockingQueue<CompletableFuture<String>> calls = new LinkedBlockingQueue<>();
        private final Thread thread;

        Backend(List<String> script) {
            thread = Thread.ofPlatform().name("backend").start(() -> {
                try {
                    for (String what : script) {
                        CompletableFuture<String> f = calls.take();
                        switch (what) {
                            case "fail" -> f.completeExceptionally(new IllegalStateException("503"));
                            case "drop" -> { }
                            default -> f.complete(what);
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }

        CompletableFuture<String> call() {
            CompletableFuture<String> f = new CompletableFuture<>();
            calls.add(f);
            return f;
        }

        @Override
        public void close() throws InterruptedException {
            thread.join();
        }
    }

    private static String ms() {
        return Coroutine.nanoTime() / 1_000_000 + " ms";
    }

    private static List<String> retryProgram(boolean withSelect) throws InterruptedException {
        List<String> trace = new ArrayList<>();
        try (Backend backend = new Backend(List.of("fail", "fail", "drop", "ok"))) {
            VirtualTime.run(() -> {
                String result = Coroutine.withTimeout(Duration.ofSeconds(10), () -> {
                    for (int attempt = 0; attempt < 6; attempt++) {
                        try {
                            CompletableFuture<String> f = backend.call();
                            String r = withSelect
                                    ? new Select<String>()
                                            .onComplete(f, v -> v)
                                            .onTimeout(Duration.ofSeconds(1), () -> {
                                                throw new IllegalStateException("no answer");
                                            })
                                            .select()
                                    : Coroutine.withTimeout(Duration.ofSeconds(1), () -> Coroutine.await(f));
                            trace.add("attempt " + attempt + " ok at " + ms());
                            return r;
                        } catch (CoroutineTimeoutException | IllegalStateException e) {
                            trace.add("attempt " + attempt + " timed out at " + ms());
                        } catch (CompletionException e) {
                            trace.add("attempt " + attempt + " failed with " + e.getCause().getMessage() + " at " + ms());
                        }
                        Coroutine.sleep(Duration.ofMillis(100L << attempt));
                    }
                    return "gave up";
                });
                trace.add(result + " at " + ms());
            });
        }
        return trace;
    }

    @Test
    void retriesWithBackOffAroundAwaitGiveTheSameTraceOnEveryRun() throws InterruptedException {
        List<String> first = retryProgram(false);
        assertThat(first).containsExactly("attempt 0 failed with 503 at 0 ms", "attempt 1 failed with 503 at 100 ms",
                "attempt 2 timed out at 1300 ms", "attempt 3 ok at 1700 ms", "ok at 1700 ms");
        assertThat(retryProgram(false)).isEqualTo(first);
    }

    @Test
    void retriesWithBackOffAroundASelectOnCompleteGiveTheSameTraceOnEveryRun() throws InterruptedException {
        List<String> first = retryProgram(true);
        assertThat(first).containsExactly("attempt 0 failed with 503 at 0 ms", "attempt 1 failed with 503 at 100 ms",
                "attempt 2 timed out at 1300 ms", "attempt 3 ok at 1700 ms", "ok at 1700 ms");
        assertThat(retryProgram(true)).isEqualTo(first);
    }
}
