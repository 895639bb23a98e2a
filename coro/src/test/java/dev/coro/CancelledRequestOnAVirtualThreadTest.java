package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A request on a virtual thread cancelled ({@code Future.cancel(true)}: its virtual thread interrupted) while a
 * body of its handler blocks the JDK way (a latch): on the continuation engine the body runs on the request's own
 * thread and gets the interrupt; on the thread engine a coroutine's body is a virtual thread of its own and only
 * main, waiting for its turn, gets it, when it runs again (ENGINES.md, interrupts); a generator's body shares its
 * consumer's flag on both engines, so the interrupt reaches it.
 */
class CancelledRequestOnAVirtualThreadTest {

    private static boolean threadEngine() {
        return Engines.running().equals("threads");
    }

    /**
     * A request whose handler runs {@code blocking} in a body made by {@code handler}; cancelled once it blocks. If
     * {@code reachesTheBody}, the body is left to end by the interrupt alone before the latch is released (on the
     * thread engine a generator's consumer relays it to the body's thread after {@code cancel} has returned);
     * otherwise the latch is released at once, and a body that did not get the interrupt returns.
     */
    private static List<String> cancelledWhileBlocking(java.util.function.Consumer<Runnable> handler,
            boolean reachesTheBody) throws Exception {
        CountDownLatch blocked = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<String> body = new CompletableFuture<>();
        CompletableFuture<String> main = new CompletableFuture<>();
        try (ExecutorService server = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<?> request = server.submit(() -> {
                handler.accept(() -> {
                    blocked.countDown();
                    try {
                        release.await();
                        body.complete("latch returned");
                    } catch (InterruptedException e) {
                        body.complete("interrupted");
                    }
                });
                main.complete("main interrupted: " + Thread.currentThread().isInterrupted());
            });
            blocked.await();
            request.cancel(true);
            try {
                if (reachesTheBody) {
                    body.get();
                }
            } finally {
                release.countDown(); // after the interrupt: a body that got it has thrown, one that did not returns
            }
            return List.of(body.get(), main.get());
        }
    }

    @Test
    @Timeout(20)
    void theInterruptOfACancelledRequestReachesACoroutinesBlockedBodyOnTheContinuationEngineAndMainOnTheThreadEngine()
            throws Exception {
        List<String> seen = cancelledWhileBlocking(blocking -> Coroutine.create("handler", blocking::run).join(),
                !threadEngine());
        assertThat(seen).containsExactly(threadEngine() ? "latch returned" : "interrupted",
                "main interrupted: " + threadEngine());
    }

    @Test
    @Timeout(20)
    void theInterruptOfACancelledRequestReachesAGeneratorsBlockedBodyOnBothEngines() throws Exception {
        List<String> seen = cancelledWhileBlocking(blocking -> Generator.of("rows", out -> {
            blocking.run();
            out.emit(1);
        }).next(), true);
        assertThat(seen).containsExactly("interrupted", "main interrupted: false");
    }
}
