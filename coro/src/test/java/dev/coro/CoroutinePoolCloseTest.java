package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link CoroutinePool#close()} returns once the pool's coroutines have ended, however the close's
 * wake-up of a pool thread and their ends interleave.
 */
@ExtendWith(FreshThread.class)
class CoroutinePoolCloseTest {

    @Test
    void closeReturnsWhenTheLastBodyEndsAfterThePoolThreadTookTheCloseIn() {
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<Void> closeCalled = new CompletableFuture<>();
        AtomicBoolean ended = new AtomicBoolean();
        pool.execute(() -> {
            Coroutine.await(closeCalled);
            ended.set(true);
        });
        // runs on this thread once close() waits, after close() has posted its wake-up to the pool
        // thread: the pool thread's main takes that in while the body still waits
        Coroutine.create("after-close", () -> closeCalled.complete(null));
        pool.close();
        assertThat(ended).isTrue();
    }

    /**
     * While a close waits for a body, a dump of the pool thread names its main's wait as the end of the
     * closing pool: it said the main waited to take work, which a closing pool takes no more of.
     */
    @Test
    @Timeout(60)
    void whileACloseWaitsADumpOfThePoolThreadSaysItsMainWaitsToEndWithTheClosingPool() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<String> before = new CompletableFuture<>();
        CompletableFuture<Void> closing = new CompletableFuture<>();
        CompletableFuture<String> after = pool.submit(() -> {
            before.complete(mainsLineOfTheDump());
            Coroutine.await(closing);
            return mainsLineOfTheDump();
        });
        assertThat(Coroutine.await(before)).isEqualTo("  [0] main: PARKED, waits to take work from " + name);
        Coroutine.create("after-close", () -> closing.complete(null)); // runs once the closer waits in close()
        Coroutine.create("closer", () -> Coroutine.withTimeout(Duration.ofSeconds(30), pool::close));
        assertThat(Coroutine.await(after)).isEqualTo("  [0] main: PARKED, waits to end with " + name + ", which is closing");
        Coroutine.withTimeout(Duration.ofSeconds(30), pool::close);
        assertThat(pool.toString()).endsWith(", closed]");
    }

    /** The line of this thread's main in a dump. */
    private static String mainsLineOfTheDump() {
        return Coroutine.dump().lines().filter(l -> l.startsWith("  [0]")).findFirst().orElseThrow();
    }

    @Test
    void closeReturnsWhenACoroutineCreatedInABodyEndsLast() {
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        AtomicBoolean ended = new AtomicBoolean();
        pool.execute(() -> Coroutine.create("nested", () -> {
            Coroutine.await(gate);
            ended.set(true);
        }));
        // runs on this thread while close() waits: the nested coroutine ends after the close
        Coroutine.create("opener", () -> gate.complete(null));
        pool.close();
        assertThat(ended).isTrue();
    }

    @Test
    void closeRightAfterASubmissionStillRunsIt() {
        // the pool thread may not have taken the body in when close() begins: it must run it all the same
        // (the race is at the pool thread's start, so the test makes it many times)
        for (int i = 0; i < 50; i++) {
            CoroutinePool pool = CoroutinePool.start(1);
            AtomicBoolean ran = new AtomicBoolean();
            pool.execute(() -> ran.set(true));
            pool.close();
            assertThat(ran).as("round %d", i).isTrue();
        }
    }

    @Test
    void aCloseThatWaitsForACoroutineThatNeverEndsSaysSoInTheDumpAndInItsTimeoutsSignal() {
        CoroutinePool pool = CoroutinePool.start(2);
        String name = PoolName.of(pool);
        Channel<String> never = Coroutine.await(pool.submit(() -> new Channel<String>("never", 0)));
        Channel<String> nestedNever = Coroutine.await(pool.submit(() -> new Channel<String>("nested-never", 0)));
        CompletableFuture<String> parked = pool.submit(never::receive); // parks on its thread's channel for good
        Coroutine.await(pool.submit(() -> Coroutine.create("nested", nestedNever::receive))); // its body ended, its coroutine does not

        Throwable timedOut = org.assertj.core.api.Assertions.catchThrowable(() -> VirtualTime.run(
                () -> Coroutine.withTimeout(java.time.Duration.ofMillis(1), () -> {
                    pool.close();
                    return null;
                })));
        assertThat(timedOut).isInstanceOf(CoroutineTimeoutException.class);
        assertThat(timedOut.getCause()).hasMessage("main context 'main': its withTimeout(PT0.001S) expired; its await the close of "
                + name + " (1 submitted body has not ended) throws this signal so that the body unwinds to it");

        Coroutine closer = Coroutine.create("closer", pool::close);
        Coroutine.yield(); // it parks in close()
        assertThat(Coroutine.dump()).contains("coroutine 'closer': PARKED, waits to await the close of " + name
                + " (1 submitted body has not ended)");
        never.send("go");
        assertThat(Coroutine.await(parked)).isEqualTo("go");
        assertThat(Coroutine.dump()).contains("coroutine 'closer': PARKED, waits to await the close of " + name
                + " (every submitted body has ended, not every coroutine they created)");
        nestedNever.send("go");
        while (!closer.isFinished()) {
            Coroutine.yield();
        }
        assertThat(closer.state()).isEqualTo(Coroutine.State.FINISHED);
    }

    @Test
    void aCloseInTheFinallyOfACoroutineBeingClosedIsInterruptedLeavesThePoolClosingAndTheNextCloseReports() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        pool.execute(() -> {
            Coroutine.await(gate);
            throw new IllegalStateException("failed after the interrupted close");
        });
        java.util.List<String> seen = new java.util.ArrayList<>();
        Coroutine closer = Coroutine.create("closer", () -> {
            try {
                Coroutine.await(new CompletableFuture<Void>()); // parked until it is closed
            } finally {
                try {
                    pool.close(); // the pool's body still waits: this close would wait, so it throws the exit signal
                    seen.add("returned");
                } catch (CoroutineExit e) {
                    seen.add(e.getMessage());
                }
            }
        });
        closer.switchTo();
        closer.close();
        assertThat(closer.state()).isEqualTo(Coroutine.State.CLOSED);
        assertThat(seen).containsExactly("coroutine 'closer' is being closed: its await the close of " + name
                + " (1 submitted body has not ended) throws this signal so that it unwinds (state RUNNING, closing)");
        assertThat(pool.toString()).as("closed to submissions all the same").endsWith(", closing]");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> pool.execute(() -> { }))
                .isInstanceOf(java.util.concurrent.RejectedExecutionException.class).hasMessage("main context 'main' cannot execute on " + name
                        + " (closing): a closing pool takes no more bodies");
        gate.complete(null);
        Throwable reported = org.assertj.core.api.Assertions.catchThrowable(
                () -> Coroutine.withTimeout(java.time.Duration.ofSeconds(30), pool::close));
        assertThat(reported).as("the failure goes to the close that sees the pool end").isInstanceOf(CoroutineException.class)
                .cause().hasMessage("failed after the interrupted close");
        assertThat(pool.toString()).endsWith(", closed]");
    }

    /** The closer waits in its call of close(), as a joiner in its join(): no frame of the machinery, nor an await it never made. */
    static void closeOf(CoroutinePool pool) {
        pool.close();
    }

    @Test
    void aCloserParkedInCloseShowsItsCallOfCloseOnTopThenItsOwnFrames() {
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        pool.submit(() -> Coroutine.await(gate));
        Coroutine closer = Coroutine.create("closer", () -> closeOf(pool));
        Coroutine.yield(); // it parks in close()
        StackTraceElement[] frames = closer.stackTrace();
        String dump = Coroutine.dump();
        gate.complete(null);
        while (!closer.isFinished()) {
            Coroutine.yield();
        }
        assertThat(frames).hasSizeGreaterThanOrEqualTo(2);
        assertThat(frames[0].getClassName() + "." + frames[0].getMethodName()).isEqualTo("dev.coro.CoroutinePool.close");
        assertThat(frames[1].getClassName() + "." + frames[1].getMethodName())
                .isEqualTo("dev.coro.CoroutinePoolCloseTest.closeOf");
        assertThat(dump).contains("coroutine 'closer': PARKED, waits to await the close of " + name
                        + " (1 submitted body has not ended)\n        at dev.coro.CoroutinePool.close(")
                .doesNotContain("awaitEnded", "FutureWait", "Coroutine.await(");
    }
}
