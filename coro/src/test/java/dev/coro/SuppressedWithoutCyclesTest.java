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
                .hasMessage("VirtualTime.run in main context 'main' of thread " + Scheduler.describe(me)
                        + " (state RUNNING): its body threw java.lang.IllegalStateException: boom, which the run's other failure holds already"
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
        TwoFailures failed = closeAfterTwoFailures(
                first -> new IllegalArgumentException("second, as the first failed", first));
        Throwable thrown = failed.thrown();
        IllegalStateException first = failed.first();
        assertThat(thrown).isExactlyInstanceOf(CoroutineException.class).hasMessage(failed.report()).cause().isSameAs(first);
        assertThat(first.getSuppressed()).isEmpty();
        assertThat(thrown.getSuppressed()).hasSize(1);
        assertThat(thrown.getSuppressed()[0]).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("second, as the first failed").cause().isSameAs(first);
        assertNoCycle(thrown);
    }
    /** An exception that takes no suppressed ones, as a preallocated signal is made. */
    private static final class Unsuppressible extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Unsuppressible(String message) {
            super(message, null, false, true);
        }
    }

    /**
     * Runs, on a virtual clock, a body that leaves a coroutine parked for each of {@code failures}, whose
     * unwinding throws it, then throws {@code thrown}: the run closes them, and each close fails. Returns
     * what the run threw and what it handed the thread's uncaught-exception handler.
     */
    private static List<Throwable> runFailingAsItClosesCoroutinesThatThrow(RuntimeException thrown, RuntimeException... failures) {
        List<Throwable> reported = new ArrayList<>();
        Thread.currentThread().setUncaughtExceptionHandler((t, e) -> reported.add(e));
        Throwable caught = catchThrowable(() -> VirtualTime.run(() -> {
            Channel<String> never = new Channel<>("never", 0);
            for (int k = 0; k < failures.length; k++) {
                RuntimeException failure = failures[k];
                Coroutine.create("w" + k, () -> {
                    try {
                        never.receive();
                    } finally {
                        throw failure;
                    }
                });
            }
            Coroutine.yield(); // every one parks
            throw thrown;
        }));
        assertThat(reported).hasSize(1);
        return List.of(caught, reported.get(0));
    }

    /** The start of the report of a virtual-time run whose body threw {@code thrown}, on this thread. */
    private static String report(String thrown) {
        return "VirtualTime.run in main context 'main' of thread " + Scheduler.describe(Thread.currentThread())
                + " (state RUNNING): its body threw " + thrown + ", which ";
    }

    /**
     * A virtual-time run whose body threw an exception that one of its two other failures holds: the other
     * is suppressed in it, the one that holds it in the report, which says how many of them hold it.
     */
    @Test
    @Timeout(10)
    void aVirtualTimeRunsReportSaysHowManyOfItsOtherFailuresHoldWhatTheBodyThrew() {
        IllegalStateException boom = new IllegalStateException("boom");
        IllegalArgumentException holding = new IllegalArgumentException("after boom", boom);
        IllegalArgumentException unrelated = new IllegalArgumentException("unrelated");
        List<Throwable> outcome = runFailingAsItClosesCoroutinesThatThrow(boom, holding, unrelated);
        assertThat(outcome.get(0)).isSameAs(boom);
        assertThat(boom.getSuppressed()).extracting(Throwable::getCause).containsExactly(unrelated);
        assertThat(outcome.get(1)).isInstanceOf(CoroutineException.class).hasCause(boom)
                .hasMessage(report("java.lang.IllegalStateException: boom") + "1 of the run's 2 other failures holds already (as a"
                        + " cause or a suppressed exception), so that suppressed there it would make a cycle; it is suppressed"
                        + " in this report instead");
        assertThat(outcome.get(1).getSuppressed()).extracting(Throwable::getCause).containsExactly(holding);
        assertThat(outcome.get(1).getSuppressed()[0])
                .hasMessage("coroutine 'w0' failed while being closed: java.lang.IllegalArgumentException: after boom");
        assertNoCycle(outcome.get(1));
    }

    @Test
    @Timeout(10)
    void aVirtualTimeRunsReportOfOtherFailuresThatAllHoldWhatTheBodyThrewSaysTheyDo() {
        IllegalStateException boom = new IllegalStateException("boom");
        IllegalArgumentException first = new IllegalArgumentException("after boom", boom);
        IllegalArgumentException second = new IllegalArgumentException("after boom too", boom);
        List<Throwable> outcome = runFailingAsItClosesCoroutinesThatThrow(boom, first, second);
        assertThat(outcome.get(0)).isSameAs(boom);
        assertThat(boom.getSuppressed()).isEmpty();
        assertThat(outcome.get(1)).isInstanceOf(CoroutineException.class).hasCause(boom)
                .hasMessage(report("java.lang.IllegalStateException: boom") + "the run's 2 other failures hold already (as a"
                        + " cause or a suppressed exception), so that suppressed there they would make a cycle; they are"
                        + " suppressed in this report instead");
        assertThat(outcome.get(1).getSuppressed()).extracting(Throwable::getCause).containsExactlyInAnyOrder(first, second);
        assertNoCycle(outcome.get(1));
    }

    @Test
    @Timeout(10)
    void aVirtualTimeRunsReportOfOtherFailuresThatTheBodysExceptionCannotTakeSaysSo() {
        Unsuppressible signal = new Unsuppressible("no room");
        IllegalArgumentException first = new IllegalArgumentException("first");
        IllegalArgumentException second = new IllegalArgumentException("second");
        List<Throwable> outcome = runFailingAsItClosesCoroutinesThatThrow(signal, first, second);
        assertThat(outcome.get(0)).isSameAs(signal);
        assertThat(outcome.get(1)).isInstanceOf(CoroutineException.class).hasCause(signal)
                .hasMessage(report("dev.coro.SuppressedWithoutCyclesTest$Unsuppressible: no room") + "takes no suppressed"
                        + " exceptions; the run's 2 other failures are suppressed in this report instead");
        assertThat(outcome.get(1).getSuppressed()).extracting(Throwable::getCause).containsExactlyInAnyOrder(first, second);
    }

    /** What {@link #closeAfterTwoFailures} gives: what {@code close()} threw, the first body's exception, and the report it should make. */
    record TwoFailures(Throwable thrown, IllegalStateException first, String report) {
    }

    /**
     * Two bodies of a pool of one fail and nobody reads their futures: the first with {@code IllegalStateException("first")},
     * the later one with what {@code second} makes of the first's exception (holding it, as its cause); then the pool is
     * closed. The report expected names the first and says the later one, which holds it, is suppressed in the report.
     */
    static TwoFailures closeAfterTwoFailures(java.util.function.Function<IllegalStateException, RuntimeException> second) {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<IllegalStateException> thrownFirst = new CompletableFuture<>();
        pool.execute(() -> {
            IllegalStateException first = new IllegalStateException("first");
            thrownFirst.complete(first);
            throw first;
        });
        pool.execute(() -> {
            throw second.apply(Coroutine.await(thrownFirst));
        });
        Throwable thrown = catchThrowable(() -> Coroutine.withTimeout(GUARD, pool::close));
        return new TwoFailures(thrown, thrownFirst.join(), name + ": a coroutine failed and nobody observed it: coroutine"
                + " 'coroutine-1' on thread '" + name + "-0' (#" + PoolName.threadId(pool, 0) + "), running the body of execute #1, threw java.lang.IllegalStateException:"
                + " first; 1 more failure suppressed in this report (it holds the first as a cause or a suppressed exception)");
    }
}
