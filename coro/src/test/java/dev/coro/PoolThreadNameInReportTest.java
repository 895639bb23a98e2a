package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The report {@link CoroutinePool#close()} throws for a failure nobody observed names the pool thread
 * the body ran on, or whose main context the failure was left to, as every message names a thread: made
 * safe for one line, as {@code Coroutine.create}'s Javadoc says of the names of threads in error messages.
 * A body that renamed its thread (after a request, say) with a line break or a quote in the name does not
 * split or mangle the report.
 */
@ExtendWith(FreshThread.class)
class PoolThreadNameInReportTest {

    /**
     * A body renames its pool thread to a name holding a line break and a quote, then fails: the report
     * of {@code close()} names the thread with the line break and the quote escaped, as in a Java literal,
     * its cause the body's exception. It gave the name as it was, the report's line split in two.
     */
    @Test
    @Timeout(10)
    void closeNamesAPoolThreadRenamedWithALineBreakOnOneLine() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        IllegalStateException thrown = new IllegalStateException("first");
        pool.execute("renamer", () -> {
            Peer.schedulerThread().setName("request\n'GET /'");
            throw thrown;
        });

        Throwable report = catchThrowable(pool::close);

        assertThat(report).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage(name + ": a coroutine failed and nobody observed it: coroutine 'renamer' on thread"
                        + " 'request\\n\\'GET /\\'' (#" + PoolName.threadId(pool, 0) + "), running the body of execute #1, threw"
                        + " java.lang.IllegalStateException: first");
        assertThat(report.getCause()).isSameAs(thrown);
    }

    /**
     * A failure left to the main context of a pool thread renamed so (a coroutine a body created fails
     * after the body returned) is reported naming that thread on one line too.
     */
    @Test
    @Timeout(10)
    void closeNamesTheRenamedThreadWhoseMainAFailureWasLeftToOnOneLine() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<Thread> thread = new CompletableFuture<>();
        pool.execute(() -> {
            thread.complete(Peer.schedulerThread());
            Peer.schedulerThread().setName("request\n'GET /'");
            Coroutine.create("nested", () -> {
                throw new IllegalStateException("lost");
            }); // the body returns before the nested coroutine runs: its failure goes to the pool thread's main
        });

        Throwable report = catchThrowable(pool::close);

        assertThat(report).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage(name + ": a coroutine failed and nobody observed it: left to main context 'main' of thread"
                        + " 'request\\n\\'GET /\\'' (#" + thread.join().threadId() + "): dev.coro.CoroutineException: coroutine 'nested' failed:"
                        + " java.lang.IllegalStateException: lost")
                .rootCause().isExactlyInstanceOf(IllegalStateException.class).hasMessage("lost");
    }
}
