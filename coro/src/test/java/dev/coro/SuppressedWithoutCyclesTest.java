package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A failure the library adds to another as suppressed never makes a cycle: when it holds that exception
 * already (it is the report of a coroutine that threw it, say), it is suppressed in the library's own
 * report instead, so that no exception is its own suppressed exception's cause (a log or a serializer that
 * walks the chain would loop), and none is lost.
 */
@ExtendWith(FreshThread.class)
class SuppressedWithoutCyclesTest {

    private static final Duration GUARD = Duration.ofSeconds(30);

    /** Whether {@code t} reaches itself again through causes and suppressed exceptions. */
    private static boolean cyclic(Throwable t, Set<Throwable> path) {
        if (!path.add(t)) {
            return true;
        }
        List<Throwable> next = new ArrayList<>(List.of(t.getSuppressed()));
        if (t.getCause() != null) {
            next.add(t.getCause());
        }
        for (Throwable n : next) {
            if (cyclic(n, path)) {
                return true;
            }
        }
        path.remove(t);
        return false;
    }

    private static void assertNoCycle(Throwable t) {
        assertThat(cyclic(t, Collections.newSetFromMap(new IdentityHashMap<>()))).as("a cycle in the chain of %s", t).isFalse();
    }

    /**
     * A child hands its failure to its creator through a channel it then closes, and throws it: the creator's
     * receive keeps the value and the child's report for its next scheduling point, and the creator throws
     * the failure it received before it reaches one. The report, whose cause is that very failure, is
     * suppressed in the creator's own report, not in the failure.
     */
    @Test
    @Timeout(10)
    void aKeptReportWhoseCauseTheBodyThrowsIsSuppressedInTheBodysReportNotInThatCause() {
        Channel<RuntimeException> errors = new Channel<>("errors", 0);
        IllegalStateException boom = new IllegalStateException("boom");
        Coroutine relay = Coroutine.create("relay", () -> {
            Coroutine.create("worker", () -> {
                errors.send(boom);
                errors.close();
                throw boom;
            });
            throw errors.receive();
        });
        Throwable thrown = catchThrowable(relay::join);
        assertThat(thrown).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'relay' failed: java.lang.IllegalStateException: boom").cause().isSameAs(boom);
        assertThat(boom.getSuppressed()).isEmpty();
        assertThat(thrown.getSuppressed()).hasSize(1);
        assertThat(thrown.getSuppressed()[0]).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'worker' failed: java.lang.IllegalStateException: boom").cause().isSameAs(boom);
        assertNoCycle(thrown);
    }

    /**
     * A virtual-time run's body throws the failure its receive was handed, while the report of the coroutine
     * that threw it was kept for main's next scheduling point: the run throws the failure itself, bare, and
     * the report goes to the thread's uncaught-exception handler, as the failures a body's exception cannot
     * carry do.
     */
    @Test
    @Timeout(10)
    void aVirtualTimeRunsKeptReportWhoseCauseTheBodyThrowsGoesToTheUncaughtExceptionHandler() {
        IllegalStateException boom = new IllegalStateException("boom");
        List<Throwable> reported = new ArrayList<>();
        Thread me = Thread.currentThread();
        me.setUncaughtExceptionHandler((t, e) -> reported.add(e));
        Throwable thrown = catchThrowable(() -> VirtualTime.run(() -> {
            Channel<RuntimeException> errors = new Channel<>("errors", 0);
            Coroutine.create("worker", () -> {
                errors.send(boom);
                errors.close();
                throw boom;
            });
            throw errors.receive();
        }));
        assertThat(thrown).isSameAs(boom);
        assertThat(boom.getSuppressed()).isEmpty();
        assertThat(reported).hasSize(1);
        assertThat(reported.get(0)).isInstanceOf(CoroutineException.class).hasCause(boom)
                .hasMessage("VirtualTime.run in main context 'main' (state RUNNING) of thread " + Scheduler.describe(me)
                        + ": its body threw java.lang.IllegalStateException: boom, which the run's other failure holds already"
                        + " (as a cause or a suppressed exception), so that suppressed there it would make a cycle; it is"
                        + " suppressed in this report instead");
        assertThat(reported.get(0).getSuppressed()).hasSize(1);
        assertThat(reported.get(0).getSuppressed()[0]).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'worker' failed: java.lang.IllegalStateException: boom").cause().isSameAs(boom);
        assertNoCycle(reported.get(0));
    }

    /**
     * Two bodies of a pool fail and nobody reads their futures; the later one's exception has the first's as
     * its cause. {@code close()} reports the first, and suppresses the later one in its report, not in the
     * first's exception.
     */
    @Test
    @Timeout(30)
    void aPoolsLaterUnobservedFailureCausedByTheFirstIsSuppressedInTheReportNotInTheFirst() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<IllegalStateException> thrownFirst = new CompletableFuture<>();
        pool.execute(() -> {
            IllegalStateException first = new IllegalStateException("first");
            thrownFirst.complete(first);
            throw first;
        });
        pool.execute(() -> {
            throw new IllegalArgumentException("second, as the first failed", Coroutine.await(thrownFirst));
        });
        Throwable thrown = catchThrowable(() -> Coroutine.withTimeout(GUARD, pool::close));
        IllegalStateException first = thrownFirst.join();
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class)
                .hasMessage(name + ": a coroutine failed and nobody observed it: coroutine 'coroutine-1' on thread '" + name
                        + "-0', running the body of execute #1, threw java.lang.IllegalStateException: first;"
                        + " 1 more failure suppressed in this report (it holds the first as a cause or a suppressed exception)")
                .cause().isSameAs(first);
        assertThat(first.getSuppressed()).isEmpty();
        assertThat(thrown.getSuppressed()).hasSize(1);
        assertThat(thrown.getSuppressed()[0]).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("second, as the first failed").cause().isSameAs(first);
        assertNoCycle(thrown);
    }
}
