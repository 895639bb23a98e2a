package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.net.Io;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The quiet of the virtual clock: while a context waits for another thread or for I/O, the clock
 * jumps to the next timer only once nothing has come for as long, in real time, as that timer is
 * away (TIME.md). A result that comes starts the quiet again, whichever way it comes: a post, a
 * readiness report (taken in by the idle wait or at a scheduling point alike), or the end of a wait that the
 * waiting thread finds over itself: one on a thread that has ended, one on I/O whose channel another thread closed. A quiet left over from before such a result would let the clock jump past a later wait
 * without giving it its time: the timer of a short {@code withTimeout} would fire without the
 * selector even being asked, although the bytes awaited are there.
 */
@Tag("no-frames") // left out of the interpreted-only and C1-only passes of CI: its time is real waits, not frames
@ExtendWith(FreshThread.class)
class VirtualTimeQuietTest {

    private final List<String> log = new ArrayList<>();

    @Test
    void theEndOfAWaitOnAThreadThatEndedStartsTheQuietAgainSoAReadyPipeIsReadBeforeALaterTimeout() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Maker<String> maker = Maker.start(() -> new Channel<>("made", 0), () -> Maker.blockOn(release));
        Pipe pipe = Pipe.open();
        try (Pipe.SourceChannel source = pipe.source(); Pipe.SinkChannel sink = pipe.sink()) {
            source.configureBlocking(false);
            VirtualTime.run(() -> {
                Coroutine.create("sleeper", () -> Coroutine.sleep(Duration.ofHours(1))); // a timer far away
                Coroutine.create("releaser", release::countDown); // runs once main waits: the maker's thread ends
                try {
                    maker.channel().receive(); // posted to the maker's thread, which never runs it
                    log.add("received");
                } catch (IllegalStateException e) {
                    log.add("receive refused at t=" + Coroutine.nanoTime() + ": " + e.getMessage().endsWith(maker.ended()));
                }
                Coroutine.create("writer", () -> {
                    try {
                        sink.write(ByteBuffer.wrap(new byte[] {42}));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                try {
                    Coroutine.withTimeout(Duration.ofNanos(1), () -> { // due at once, but after the selector was asked
                        try {
                            Io.await(source, SelectionKey.OP_READ); // the writer writes once it parks here
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    });
                    log.add("ready at t=" + Coroutine.nanoTime());
                } catch (CoroutineTimeoutException e) {
                    log.add("timed out at t=" + Coroutine.nanoTime());
                }
            });
        }
        assertThat(log).containsExactly("receive refused at t=0: true", "ready at t=0");
    }

    @Test
    void theEndOfAnIoWaitWhoseChannelAnotherThreadClosedStartsTheQuietAgainSoAReadyPipeIsReadBeforeALaterTimeout()
            throws Exception {
        CountDownLatch parked = new CountDownLatch(1);
        Pipe closed = Pipe.open();
        Pipe pipe = Pipe.open();
        Thread closer = Thread.ofPlatform().name("closer").start(() -> {
            Maker.blockOn(parked);
            try {
                closed.source().close(); // behind the waiting thread's back: only its scan finds it
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        try (Pipe.SinkChannel closedSink = closed.sink(); Pipe.SourceChannel source = pipe.source();
             Pipe.SinkChannel sink = pipe.sink()) {
            closed.source().configureBlocking(false);
            source.configureBlocking(false);
            VirtualTime.run(() -> {
                Coroutine.create("sleeper", () -> Coroutine.sleep(Duration.ofHours(1))); // a timer far away
                Coroutine.create("releaser", parked::countDown); // runs once main waits: the closer closes
                try {
                    Io.await(closed.source(), SelectionKey.OP_READ);
                    log.add("ready");
                } catch (IOException e) {
                    log.add("await failed at t=" + Coroutine.nanoTime());
                }
                Coroutine.create("writer", () -> {
                    try {
                        sink.write(ByteBuffer.wrap(new byte[] {42}));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                try {
                    Coroutine.withTimeout(Duration.ofNanos(1), () -> { // due at once, but after the selector was asked
                        try {
                            Io.await(source, SelectionKey.OP_READ); // the writer writes once it parks here
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    });
                    log.add("ready at t=" + Coroutine.nanoTime());
                } catch (CoroutineTimeoutException e) {
                    log.add("timed out at t=" + Coroutine.nanoTime());
                }
            });
        }
        closer.join();
        assertThat(log).containsExactly("await failed at t=0", "ready at t=0");
    }

    /**
     * A yield with nothing else to run waits in the event loop while a context waits for another
     * thread, and may return without a result and without a jump: here after a second, when the loop
     * looks whether the thread of a remote wait has ended. The quiet counted so far is not the due of a
     * timer scheduled after it: a {@code withTimeout} that main opens then, around a read of a pipe
     * whose byte is there already, gets its whole time, and the selector is asked before the clock
     * jumps to it.
     */
    @Test
    @Timeout(30)
    void aQuietLeftByAYieldThatWaitedWithoutAJumpDoesNotLetTheClockJumpPastALaterTimerSoAReadyPipeIsRead()
            throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Maker<String> maker = Maker.start(() -> new Channel<>("made", 0), () -> Maker.blockOn(release));
        Pipe pipe = Pipe.open();
        try (Pipe.SourceChannel source = pipe.source(); Pipe.SinkChannel sink = pipe.sink()) {
            source.configureBlocking(false);
            VirtualTime.run(() -> {
                Coroutine sleeper = Coroutine.create("sleeper", () -> Coroutine.sleep(Duration.ofHours(1))); // a timer far away
                Coroutine receiver = Coroutine.create("receiver", () -> maker.channel().receive()); // posted, never run
                Coroutine.yield(); // both park
                Coroutine.yield(); // nothing else to run: waits a second for the maker's thread, which lives on
                log.add("yielded at t=" + Coroutine.nanoTime());
                try {
                    sink.write(ByteBuffer.wrap(new byte[] {42}));
                    Coroutine.withTimeout(Duration.ofMillis(100), () -> {
                        try {
                            Io.await(source, SelectionKey.OP_READ); // ready already
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    });
                    log.add("ready at t=" + Coroutine.nanoTime());
                } catch (CoroutineTimeoutException e) {
                    log.add("timed out at t=" + Coroutine.nanoTime());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                receiver.close();
                sleeper.close();
            });
        } finally {
            release.countDown();
            maker.thread().join();
        }
        assertThat(log).containsExactly("yielded at t=0", "ready at t=0");
    }

    /**
     * A quiet left by a yield that waited (here a second, the longest select of the idle wait, while a
     * coroutine's read under a 1.5 s timeout waits for bytes that never come) is not counted against a
     * timer scheduled after it that is not sooner than the pending one: main's read of a pipe under a
     * 2 s timeout, opened then, waits 2 s of real time before it times out, as TIME.md promises of a
     * {@code withTimeout} around a read that nothing reaches, and not 2 s less that second. The
     * coroutine's earlier timeout may fire that much later in real time: the clock never jumps while
     * the I/O of a wait may still come within the wait's own time.
     */
    @Test
    @Timeout(30)
    void aQuietLeftByAYieldThatWaitedIsNotCountedAgainstALaterTimeoutScheduledAfterIt() throws Exception {
        Pipe first = Pipe.open();
        Pipe second = Pipe.open();
        long[] waited = new long[1];
        try (Pipe.SourceChannel firstSource = first.source(); Pipe.SinkChannel firstSink = first.sink();
             Pipe.SourceChannel secondSource = second.source(); Pipe.SinkChannel secondSink = second.sink()) {
            firstSource.configureBlocking(false);
            secondSource.configureBlocking(false);
            VirtualTime.run(() -> {
                Coroutine.create("reader", () -> {
                    try {
                        Coroutine.withTimeout(Duration.ofMillis(1500), () -> awaitReadable(firstSource));
                        log.add("reader ready");
                    } catch (CoroutineTimeoutException e) {
                        log.add("reader timed out at t=" + Coroutine.nanoTime());
                    }
                });
                Coroutine.yield(); // the reader parks
                Coroutine.yield(); // nothing else to run: waits a second in the selector, and comes back with nothing
                log.add("yielded at t=" + Coroutine.nanoTime());
                long start = System.nanoTime();
                try {
                    Coroutine.withTimeout(Duration.ofSeconds(2), () -> awaitReadable(secondSource)); // nothing comes
                    log.add("main ready");
                } catch (CoroutineTimeoutException e) {
                    waited[0] = System.nanoTime() - start;
                    log.add("main timed out at t=" + Coroutine.nanoTime());
                }
            });
        }
        assertThat(log).containsExactly("yielded at t=0", "reader timed out at t=1500000000", "main timed out at t=2000000000");
        assertThat(waited[0]).as("real nanoseconds main's read waited").isGreaterThanOrEqualTo(Duration.ofSeconds(2).toNanos());
    }

    /**
     * A post of another thread taken in at a scheduling point, not in the idle wait, is a result that came as much
     * as one the idle wait takes in: it starts the quiet again. Here main's yield with nothing else to run waits a
     * second (the longest select of the idle wait, while a coroutine's receive waits on another thread) and comes
     * back with neither a result nor a jump, a quiet of a second counted against the timer pending (a coroutine's
     * await of a future that never completes, under a 1.5 s timeout); then a completion is posted while main runs,
     * and main's next yield takes it in. The timed await then gets its whole 1.5 s of real time before the clock
     * jumps to its deadline, not 1.5 s less the second counted before the result came.
     */
    @Test
    @Timeout(30)
    void aPostTakenInAtASchedulingPointStartsTheQuietAgainSoALaterWaitGetsItsWholeTime() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Maker<String> maker = Maker.start(() -> new Channel<>("made", 0), () -> Maker.blockOn(release));
        CompletableFuture<String> completed = new CompletableFuture<>();
        CompletableFuture<String> never = new CompletableFuture<>();
        EventLoop loop = Scheduler.current().loop;
        long[] quiet = new long[2];
        long[] waited = new long[1];
        try {
            VirtualTime.run(() -> {
                Coroutine receiver = Coroutine.create("receiver", () -> maker.channel().receive()); // posted, never run
                Coroutine.create("timed", () -> {
                    try {
                        Coroutine.withTimeout(Duration.ofMillis(1500), () -> Coroutine.await(never));
                    } catch (CoroutineTimeoutException e) {
                        log.add("timed out at t=" + Coroutine.nanoTime());
                    }
                });
                Coroutine.create("awaiter", () -> log.add("awaited " + Coroutine.await(completed) + " at t=" + Coroutine.nanoTime()));
                Coroutine.yield(); // the three park
                Coroutine.yield(); // nothing else to run: waits a second for the maker's thread, which lives on
                quiet[0] = loop.quietNanos;
                Peer.join(Thread.ofPlatform().name("completer").start(() -> completed.complete("v"))); // posted while main runs
                long start = System.nanoTime();
                Coroutine.yield(); // takes the post in: the awaiter runs
                quiet[1] = loop.quietNanos;
                while (!log.contains("timed out at t=1500000000")) {
                    Coroutine.yield(); // nothing else to run: waits with the timed await until the clock jumps
                }
                waited[0] = System.nanoTime() - start;
                receiver.close();
            });
        } finally {
            release.countDown();
            maker.thread().join();
        }
        assertThat(log).containsExactly("awaited v at t=0", "timed out at t=1500000000");
        assertThat(quiet[0]).as("the quiet the yield that waited counted").isPositive();
        assertThat(waited[0]).as("real nanoseconds the timed await waited after the post came")
                .isGreaterThanOrEqualTo(Duration.ofMillis(1500).toNanos());
        assertThat(quiet[1]).as("the quiet once the post came").isZero();
    }

    /**
     * A readiness the selector reports at a scheduling point (every 64th, while contexts stay runnable), not in the
     * idle wait, is a result that came too: it starts the quiet again. Here main's yield with nothing else to run
     * waits a second in the selector (a coroutine waits to read a pipe) and comes back with neither a result nor a
     * jump, a quiet of a second counted against the timer pending (a coroutine's await of a future that never
     * completes, under a 1.5 s timeout); then main writes the pipe, and a coroutine that yields keeps main from
     * idling until the selector, asked at a scheduling point, reports the pipe readable. The timed await then gets
     * its whole 1.5 s of real time before the clock jumps to its deadline.
     */
    @Test
    @Timeout(30)
    void aReadinessTakenInAtASchedulingPointStartsTheQuietAgainSoALaterWaitGetsItsWholeTime() throws Exception {
        CompletableFuture<String> never = new CompletableFuture<>();
        EventLoop loop = Scheduler.current().loop;
        long[] quiet = new long[2];
        long[] waited = new long[1];
        Pipe pipe = Pipe.open();
        try (Pipe.SourceChannel source = pipe.source(); Pipe.SinkChannel sink = pipe.sink()) {
            source.configureBlocking(false);
            VirtualTime.run(() -> {
                Coroutine.create("timed", () -> {
                    try {
                        Coroutine.withTimeout(Duration.ofMillis(1500), () -> Coroutine.await(never));
                    } catch (CoroutineTimeoutException e) {
                        log.add("timed out at t=" + Coroutine.nanoTime());
                    }
                });
                Coroutine.create("reader", () -> {
                    awaitReadable(source);
                    log.add("readable at t=" + Coroutine.nanoTime());
                });
                Coroutine.yield(); // both park
                Coroutine.yield(); // nothing else to run: waits a second in the selector, and comes back with nothing
                quiet[0] = loop.quietNanos;
                try {
                    sink.write(ByteBuffer.wrap(new byte[] {42}));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                long start = System.nanoTime();
                Coroutine.create("spinner", () -> {
                    while (!log.contains("readable at t=0")) {
                        Coroutine.yield(); // main stays runnable: the selector is asked at a scheduling point
                    }
                });
                while (!log.contains("readable at t=0")) {
                    Coroutine.yield();
                }
                quiet[1] = loop.quietNanos;
                while (!log.contains("timed out at t=1500000000")) {
                    Coroutine.yield(); // nothing else to run: waits with the timed await until the clock jumps
                }
                waited[0] = System.nanoTime() - start;
            });
        }
        assertThat(log).containsExactly("readable at t=0", "timed out at t=1500000000");
        assertThat(quiet[0]).as("the quiet the yield that waited counted").isPositive();
        assertThat(waited[0]).as("real nanoseconds the timed await waited after the readiness came")
                .isGreaterThanOrEqualTo(Duration.ofMillis(1500).toNanos());
        assertThat(quiet[1]).as("the quiet once the readiness came").isZero();
    }

    /**
     * A yield with nothing else to run while main awaits a future waits in the event loop until the quiet reaches
     * the next timer, and then the clock jumps: a wake-up of the waiting thread that brings nothing (a permit
     * {@code LockSupport.unpark} left it, as the JDK lets any park return early) neither ends that wait nor lets the
     * yield return at the same instant. It did: the yield came back at t=0 with the clock unmoved, the coroutine
     * completed the future, and main's await got the value its 1 ms timeout should have ended it before (on the
     * thread engine its own hand-offs may leave such a permit, so a seed traced one way or the other from run to run).
     */
    @Test
    void aWakeUpThatBringsNothingDoesNotCutShortTheWaitOfAYieldSoTheClockStillJumps() {
        VirtualTime.run(() -> {
            CompletableFuture<Integer> f = new CompletableFuture<>();
            Coroutine.create("completer", () -> {
                LockSupport.unpark(Thread.currentThread()); // a permit left on the thread that waits in the yield
                Coroutine.yield(); // main awaits: nothing else to run
                log.add("completer's yield returned at t=" + Coroutine.nanoTime());
                f.complete(1);
            });
            Optional<Integer> got = Coroutine.tryWithTimeout(Duration.ofMillis(1), () -> Coroutine.await(f));
            log.add("main's await gave " + got + " at t=" + Coroutine.nanoTime());
        });
        assertThat(log).containsExactly("main's await gave Optional.empty at t=1000000", "completer's yield returned at t=1000000");
    }

    private static void awaitReadable(Pipe.SourceChannel source) {
        try {
            Io.await(source, SelectionKey.OP_READ);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
