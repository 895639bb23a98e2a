package dev.coro;

import static dev.coro.PoolsClosed.GUARD;
import static dev.coro.PoolsClosed.close;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A {@code close()} or {@code closeNow()} of a pool from any context of one of its own threads (a body,
 * a coroutine a body created, the body of a generator a body reads, plain or buffered) is refused naming the
 * caller, the pool and its state, on both engines, instead of waiting for the thread it runs on. A generator's
 * body runs as the context that reads it, so the refusal names that context, the body here.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
@Timeout(60)
class CloseOfAPoolFromEveryKindOfContextOfItsThreadTest {

    @Test
    void aCloseFromABodyItselfIsRefused() {
        refusedFrom(call -> call.run(), "coroutine 'body'", "close");
    }

    @Test
    void aCloseNowFromACoroutineABodyCreatedIsRefused() {
        refusedFrom(call -> Coroutine.create("inner", call).switchTo(), "coroutine 'inner'", "closeNow");
    }

    @Test
    void aCloseFromTheBodyOfAGeneratorABodyReadsIsRefused() {
        refusedFrom(call -> {
            try (Generator<Integer> g = Generator.of("gen", out -> {
                call.run();
                out.emit(1);
            })) {
                assertThat(g.next()).isEqualTo(1);
            }
        }, "coroutine 'body'", "close");
    }

    @Test
    void aCloseNowFromTheBodyOfABufferedGeneratorABodyReadsIsRefused() {
        refusedFrom(call -> {
            try (Generator<Integer> g = Generator.buffered("gen", 2, out -> {
                call.run();
                out.emit(1);
            })) {
                assertThat(g.next()).isEqualTo(1);
            }
        }, "coroutine 'body'", "closeNow");
    }

    /**
     * Runs {@code where} in a body named {@code body} of a pool of one thread, handing it a call of {@code op}
     * on that pool that keeps what it threw, and checks it was refused naming {@code caller}.
     */
    private static void refusedFrom(Consumer<Runnable> where, String caller, String op) {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        try {
            CompletableFuture<String> outcome = pool.submit("body", () -> {
                StringBuilder seen = new StringBuilder();
                where.accept(() -> {
                    try {
                        if (op.equals("close")) {
                            pool.close();
                        } else {
                            pool.closeNow();
                        }
                        seen.append("returned");
                    } catch (IllegalStateException e) {
                        seen.append(e.getMessage());
                    }
                });
                return seen + " / thread " + Scheduler.describe(Peer.schedulerThread());
            });
            String r = Coroutine.withTimeout(GUARD, () -> Coroutine.await(outcome));
            String thread = r.substring(r.indexOf(" / thread ") + " / thread ".length());
            assertThat(thread).startsWith("'" + name + "-0' (#");
            assertThat(r).isEqualTo(caller + " cannot " + op + " " + name + " (running) from its own thread " + thread
                    + ": it would wait for itself / thread " + thread);
            assertThat(pool.toString()).endsWith("running]");
        } finally {
            close(pool);
        }
    }
}
