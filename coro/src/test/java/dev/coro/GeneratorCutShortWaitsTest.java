package dev.coro;

import static dev.coro.SchedulerClock.ms;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.Generator.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Generator bodies whose waits are cut short: a body parked in an await of a future another thread
 * completes, a select, a join, a semaphore or a sleep of its own {@code withTimeout}, when its consumer's
 * {@code withTimeout} expires (nested ones too), its consumer is closed, its pool is closed now, or another
 * thread calls it meanwhile. Each time the body unwinds once, nothing of its wait is left behind (no wait on
 * the future, no clause on a channel, no timer, no join), no value or permit is lost or given twice, and the
 * messages name the caller, the generator and its state; a deadlock names the generator each wait is in.
 * Random programs mixing all of it (and a cross-thread relay) check the same at scale, on either engine.
 */
@ExtendWith(FreshThread.class)
class GeneratorCutShortWaitsTest {

    /** A bound for waits that are expected to end long before it: a guard against a hang. */
    private static final Duration GUARD = Duration.ofSeconds(30);

    private final List<String> log = Collections.synchronizedList(new ArrayList<>());

    /** The calling thread's event loop: its timers, and its waits for other threads' futures. */
    private static EventLoop loop() {
        return Scheduler.current().loop;
    }

    /**
     * A consumer's {@code withTimeout} that expires while the body awaits a future unwinds the body
     * once, leaves no wait on the future and nothing pending; the generator is {@code CLOSED}, and the
     * future completed later by another thread wakes nothing of it: a fresh generator awaiting the same
     * future gets the value.
     */
    @Test
    @Timeout(30)
    void aConsumersTimeoutWhileTheBodyAwaitsAFutureUnwindsItOnceAndLeavesNoWaitOnTheFuture() {
        CompletableFuture<Integer> f = new CompletableFuture<>();
        Generator<Integer> g = Generator.of("awaiting", out -> {
            try {
                out.emit(Coroutine.await(f));
                out.emit(-1);
            } finally {
                log.add("body finally at " + ms());
            }
        });
        VirtualTime.run(() -> {
            Throwable t = catchThrowable(() -> Coroutine.withTimeout(Duration.ofMillis(20), () -> g.next()));
            assertThat(t).isInstanceOf(CoroutineTimeoutException.class)
                    .hasMessage("main context 'main' timed out: withTimeout(PT0.02S) expired before its body returned");
        });
        assertThat(log).containsExactly("body finally at 20");
        assertThat(g.state()).isEqualTo(State.CLOSED);
        assertThat(loop().futureWaits().hasWaits(f)).as("a wait left on the future").isFalse();
        assertThat(loop().hasPending()).as("a timer or a wait for another thread left").isFalse();
        assertThat(catchThrowable(g::next)).isInstanceOf(NoSuchElementException.class)
                .hasMessage("main context 'main' cannot take the next value of generator 'awaiting' (CLOSED): it has"
                        + " ended, and no value can come");

        Generator<Integer> fresh = Generator.of("fresh", out -> out.emit(Coroutine.await(f)));
        Coroutine completer = Coroutine.create("completer", () -> Peer.call("completer", () -> f.complete(7)));
        assertThat(fresh.next()).as("parked in the fresh body's await while another thread completes it").isEqualTo(7);
        while (!completer.isFinished()) {
            Coroutine.yield();
        }
        assertThat(log).as("the closed body was not run again").containsExactly("body finally at 20");
        assertThat(g.state()).isEqualTo(State.CLOSED);
    }

    /**
     * While a coroutine waits inside a body's select over a future and a channel, another context's
     * {@code close()} of the generator is refused naming that consumer and the select it waits in; closing
     * the consumer unwinds the body once, and neither clause is left behind: the channel has no receiver
     * for a later {@code trySend}, the future no wait.
     */
    @Test
    @Timeout(10)
    void closingTheConsumerWhileTheBodySelectsOverAFutureAndAChannelUnwindsItAndLeavesNoClauseBehind() {
        CompletableFuture<Integer> f = new CompletableFuture<>();
        Channel<Integer> ch = new Channel<>("ch", 0);
        Generator<Integer> g = Generator.of("selecting", out -> {
            try {
                out.emit(new Select<Integer>().onComplete(f, v -> v).onReceive(ch, v -> -v).select());
            } finally {
                log.add("body finally");
            }
        });
        Coroutine consumer = Coroutine.create("consumer", () -> {
            try {
                log.add("consumer took " + g.next());
            } finally {
                log.add("consumer finally, g " + g.state());
            }
        });
        Coroutine.yield();
        assertThat(consumer.state()).isEqualTo(Coroutine.State.PARKED);
        assertThat(catchThrowable(g::close)).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot close generator 'selecting' (RUNNING): its body is suspended, at a"
                        + " yield, a switchTo or a wait, inside its consumer coroutine 'consumer' (PARKED), which waits to"
                        + " select over completion of " + f + ", receive from channel 'ch'; only that consumer can resume it");
        assertThat(g.state()).as("the refusal changed nothing").isEqualTo(State.RUNNING);
        assertThat(loop().futureWaits().hasWaits(f)).isTrue();

        consumer.close();
        assertThat(log).containsExactly("body finally", "consumer finally, g CLOSED");
        assertThat(consumer.state()).isEqualTo(Coroutine.State.CLOSED);
        assertThat(ch.trySend(1)).as("a receive clause left on the channel").isFalse();
        assertThat(loop().futureWaits().hasWaits(f)).as("a wait left on the future").isFalse();
        assertThat(loop().hasPending()).isFalse();
        f.complete(5);
        Coroutine.yield();
        assertThat(log).as("the completion woke nothing").containsExactly("body finally", "consumer finally, g CLOSED");
    }

    /**
     * {@code closeNow()} of a pool whose coroutine waits inside a generator's body, in an await of a
     * future that never completes, closes that coroutine there: the body unwinds once, then the
     * coroutine, with the generator {@code CLOSED} and no wait left on the future; the submission ends
     * with the coroutine's exit signal.
     */
    @Test
    @Timeout(30)
    void closeNowOfAPoolWhoseCoroutineWaitsInsideAGeneratorsBodyUnwindsTheBodyOnceAndLeavesNoWait() {
        CompletableFuture<Integer> never = new CompletableFuture<>() {
            @Override
            public String toString() {
                return "never"; // one text, as the signal names it
            }
        };
        CompletableFuture<Void> parked = new CompletableFuture<>();
        CoroutinePool pool = CoroutinePool.start(1);
        CompletableFuture<String> submitted = pool.submit("taker", () -> {
            Generator<Integer> g = Generator.of("awaiting", out -> {
                try {
                    parked.complete(null);
                    out.emit(Coroutine.await(never));
                } finally {
                    log.add("body finally");
                }
            });
            try {
                return "took " + g.next();
            } finally {
                log.add("taker finally: g " + g.state() + ", a wait on the future " + loop().futureWaits().hasWaits(never));
            }
        });
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(parked));
        Coroutine.withTimeout(GUARD, pool::closeNow);
        assertThat(log).containsExactly("body finally", "taker finally: g CLOSED, a wait on the future false");
        assertThat(catchThrowable(submitted::join)).isInstanceOf(CompletionException.class).cause()
                .isInstanceOf(CoroutineExit.class)
                .hasMessage("coroutine 'taker' is being closed: its await never, inside generator 'awaiting', throws this"
                        + " signal so that it unwinds (state RUNNING, closing)");
    }

    /**
     * While its consumer waits inside its body for another thread's result, a generator is refused to every
     * other thread (a plain thread, a pool's coroutine) naming that caller, the call, the generator,
     * {@code RUNNING} and its owner thread; the refusals change nothing, and the consumer gets the value.
     */
    @Test
    @Timeout(30)
    void whileItsBodyAwaitsAGeneratorIsRefusedToOtherThreadsNamingTheCallerAndItsConsumerStillGetsTheValue()
            throws InterruptedException {
        CompletableFuture<Integer> f = new CompletableFuture<>();
        Generator<Integer> g = Generator.of("awaiting", out -> out.emit(Coroutine.await(f)));
        Coroutine consumer = Coroutine.create("consumer", () -> log.add("consumer took " + g.next()));
        Coroutine.yield();
        String owner = ThreadNames.thread();
        assertThat(OtherThread.thrownOn("intruder", g::next)).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("thread 'intruder' (#")
                .hasMessageEndingWith(") cannot take the next value of generator 'awaiting' (RUNNING): it belongs to thread " + owner);
        assertThat(OtherThread.thrownOn("intruder", g::close)).isInstanceOf(IllegalStateException.class)
                .hasMessageEndingWith(") cannot close generator 'awaiting' (RUNNING): it belongs to thread " + owner);
        assertThat(OtherThread.thrownOn("intruder", g::state)).isInstanceOf(IllegalStateException.class)
                .hasMessageEndingWith(") cannot read the state of generator 'awaiting' (RUNNING): it belongs to thread " + owner);
        CoroutinePool pool = CoroutinePool.start(1);
        String poolThread = Coroutine.withTimeout(GUARD, () -> Coroutine.await(pool.submit(() -> {
            Thread t = Peer.schedulerThread(); // the pool's thread, also where a coroutine runs on a thread of its own
            return "'" + t.getName() + "' (#" + t.threadId() + ")";
        })));
        Throwable fromPool = catchThrowable(() -> Coroutine.withTimeout(GUARD, () -> Coroutine.await(pool.submit("taker", g::next))));
        Coroutine.withTimeout(GUARD, pool::close);
        assertThat(fromPool).isInstanceOf(CompletionException.class).cause().isInstanceOf(IllegalStateException.class)
                .hasMessage("coroutine 'taker' of thread " + poolThread + " cannot take the next value of generator"
                        + " 'awaiting' (RUNNING): it belongs to thread " + owner);
        assertThat(g.state()).isEqualTo(State.RUNNING);
        assertThat(consumer.state()).isEqualTo(Coroutine.State.PARKED);
        Peer.call("completer", () -> f.complete(3));
        while (!consumer.isFinished()) {
            Coroutine.yield();
        }
        assertThat(log).containsExactly("consumer took 3");
        assertThat(g.state()).isEqualTo(State.SUSPENDED);
        g.close();
        assertThat(g.state()).isEqualTo(State.CLOSED);
    }

    /**
     * An inner {@code withTimeout} that expires while a read-ahead body waits on a channel unwinds the body
     * and leaves the values it had emitted to the consumer, which takes each once inside the outer
     * {@code withTimeout}; the outer one then expires at its own deadline, and no timer is left.
     */
    @Test
    void anInnerTimeoutKeepsTheValuesAReadAheadBodyEmittedAndTheOuterOneExpiresOnTime() {
        Channel<Integer> ch = new Channel<>("ch", 4);
        Generator<Integer> g = Generator.buffered("relay", 3, out -> {
            try {
                while (true) {
                    out.emit(ch.receive());
                }
            } finally {
                log.add("body finally at " + ms());
            }
        });
        VirtualTime.run(() -> {
            assertThat(ch.trySend(1)).isTrue();
            assertThat(ch.trySend(2)).isTrue();
            Throwable outer = catchThrowable(() -> Coroutine.withTimeout(Duration.ofSeconds(2), () -> {
                Throwable inner = catchThrowable(() -> Coroutine.withTimeout(Duration.ofSeconds(1), () -> g.next()));
                assertThat(inner).isInstanceOf(CoroutineTimeoutException.class)
                        .hasMessage("main context 'main' timed out: withTimeout(PT1S), inside 1 enclosing withTimeout,"
                                + " expired before its body returned");
                log.add("inner expired, g " + g.state());
                while (g.hasNext()) {
                    log.add("took " + g.next() + " at " + ms());
                }
                log.add("g " + g.state());
                Coroutine.sleep(Duration.ofSeconds(5));
                log.add("not reached");
            }));
            assertThat(outer).isInstanceOf(CoroutineTimeoutException.class)
                    .hasMessage("main context 'main' timed out: withTimeout(PT2S) expired before its body returned");
            log.add("outer expired at " + ms());
            assertThat(loop().timerCount()).isZero();
        });
        assertThat(log).containsExactly("body finally at 1000", "inner expired, g SUSPENDED", "took 1 at 1000",
                "took 2 at 1000", "g CLOSED", "outer expired at 2000");
        assertThat(ch.tryReceive()).as("nothing went back into the channel").isEmpty();
    }

    /**
     * Generators nested three deep, the innermost body awaiting a future: the consumer's timeout unwinds
     * every body once, innermost first, and each ends {@code CLOSED} (the signal was their consumer's, not
     * a failure of theirs); meanwhile the dump names the innermost generator as the one the wait is in.
     */
    @Test
    @Timeout(30)
    void aConsumersTimeoutUnwindsThreeNestedBodiesOnceEachInnermostFirstWhileTheInnermostAwaits() {
        CompletableFuture<Integer> never = new CompletableFuture<>();
        List<Generator<Integer>> made = new ArrayList<>();
        Generator<Integer> outer = Generator.of("outer", out -> {
            Generator<Integer> middle = Generator.of("middle", mid -> {
                Generator<Integer> inner = Generator.of("inner", in -> {
                    try {
                        in.emit(Coroutine.await(never));
                    } finally {
                        log.add("inner finally at " + ms());
                    }
                });
                made.add(inner);
                try {
                    mid.emit(inner.next());
                } finally {
                    log.add("middle finally");
                }
            });
            made.add(middle);
            try {
                out.emit(middle.next());
            } finally {
                log.add("outer finally");
            }
        });
        VirtualTime.run(() -> {
            Coroutine consumer = Coroutine.create("consumer", () -> {
                Throwable t = catchThrowable(() -> Coroutine.withTimeout(Duration.ofMillis(20), () -> outer.next()));
                log.add("consumer: " + t.getMessage());
            });
            Coroutine.yield();
            assertThat(Coroutine.dump()).contains("  [1] coroutine 'consumer': PARKED, waits to await " + never
                    + ", inside generator 'inner'\n");
            while (!consumer.isFinished()) {
                Coroutine.yield();
            }
        });
        assertThat(log).containsExactly("inner finally at 20", "middle finally", "outer finally",
                "consumer: coroutine 'consumer' timed out: withTimeout(PT0.02S) expired before its body returned");
        assertThat(outer.state()).isEqualTo(State.CLOSED);
        assertThat(made).extracting(Generator::state).containsExactly(State.CLOSED, State.CLOSED);
        assertThat(loop().futureWaits().hasWaits(never)).isFalse();
        assertThat(loop().hasPending()).isFalse();
    }

    /**
     * A body's {@code join()} of a coroutine, cut short by its consumer's timeout, leaves no join behind:
     * when that coroutine ends later, the consumer, parked elsewhere by then, is not woken.
     */
    @Test
    void aJoinInsideTheBodyThatItsConsumersTimeoutCutsShortLeavesNoJoinThatWakesTheConsumerLater() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        VirtualTime.run(() -> {
            Coroutine worker = Coroutine.create("worker", () -> {
                Coroutine.sleep(Duration.ofSeconds(5));
                log.add("worker ends at " + ms());
            });
            Generator<String> g = Generator.of("joining", out -> {
                try {
                    worker.join();
                    out.emit("joined");
                } finally {
                    log.add("body finally at " + ms());
                }
            });
            Coroutine consumer = Coroutine.create("consumer", () -> {
                Throwable t = catchThrowable(() -> Coroutine.withTimeout(Duration.ofSeconds(1), () -> g.next()));
                log.add("consumer " + t.getClass().getSimpleName() + ", g " + g.state());
                log.add("consumer received " + ch.receive() + " at " + ms());
            });
            Coroutine.yield();
            assertThat(Coroutine.dump()).contains("  [2] coroutine 'consumer': PARKED, waits to join coroutine 'worker',"
                    + " inside generator 'joining'\n");
            Coroutine.sleep(Duration.ofSeconds(8));
            assertThat(consumer.state()).as("still parked in its receive").isEqualTo(Coroutine.State.PARKED);
            ch.send(1);
        });
        assertThat(log).containsExactly("body finally at 1000", "consumer CoroutineTimeoutException, g CLOSED",
                "worker ends at 5000", "consumer received 1 at 8000");
    }

    /**
     * A body waiting for a semaphore's permit, cut short by its consumer's timeout, takes no permit; the
     * permit released later is the semaphore's again, once.
     */
    @Test
    void aPermitTheBodyWaitedForIsNeitherTakenNorLostWhenItsConsumersTimeoutCutsTheWaitShort() {
        Semaphore permits = new Semaphore("permits", 1);
        VirtualTime.run(() -> {
            Generator<Integer> g = Generator.of("guarded", out -> {
                permits.acquire();
                try {
                    out.emit(1);
                } finally {
                    permits.release();
                    log.add("body released");
                }
            });
            Coroutine holder = Coroutine.create("holder", () -> {
                permits.acquire();
                Coroutine.sleep(Duration.ofSeconds(2));
                permits.release();
                log.add("holder released at " + ms());
            });
            Coroutine.yield(); // the holder takes the one permit
            Throwable t = catchThrowable(() -> Coroutine.withTimeout(Duration.ofSeconds(1), () -> g.next()));
            assertThat(t).isInstanceOf(CoroutineTimeoutException.class);
            assertThat(g.state()).isEqualTo(State.CLOSED);
            holder.join();
        });
        assertThat(log).as("the body never held a permit").containsExactly("holder released at 2000");
        assertThat(permits.tryAcquire()).as("the one permit is back").isTrue();
        assertThat(permits.tryAcquire()).as("and only one").isFalse();
    }

    /**
     * Closing a consumer while the body sleeps inside a {@code withTimeout} the body opened unwinds the
     * body once and cancels both timers, the sleep's and the scope's.
     */
    @Test
    void closingTheConsumerWhileTheBodySleepsInsideItsOwnWithTimeoutCancelsBothTimers() {
        VirtualTime.run(() -> {
            Generator<Integer> g = Generator.of("napping", out -> {
                try {
                    Coroutine.withTimeout(Duration.ofSeconds(10), () -> Coroutine.sleep(Duration.ofSeconds(5)));
                    out.emit(1);
                } finally {
                    log.add("body finally at " + ms());
                }
            });
            Coroutine consumer = Coroutine.create("consumer", () -> log.add("took " + g.next()));
            Coroutine.yield();
            assertThat(loop().timerCount()).as("the body's scope and its sleep").isEqualTo(2);
            consumer.close();
            assertThat(loop().timerCount()).isZero();
            assertThat(g.state()).isEqualTo(State.CLOSED);
            assertThat(consumer.state()).isEqualTo(Coroutine.State.CLOSED);
        });
        assertThat(log).containsExactly("body finally at 0");
    }

    /**
     * A {@code VirtualTime.run} that ends with its coroutine waiting inside a generator's body reports the
     * deadlock naming that generator, and closes the coroutine, which unwinds the body once: the generator
     * is {@code CLOSED}.
     */
    @Test
    void aRunThatEndsInADeadlockInsideABodyNamesTheGeneratorAndUnwindsTheBodyOnce() {
        Channel<Integer> never = new Channel<>("never", 0);
        List<Generator<Integer>> made = new ArrayList<>();
        Throwable t = catchThrowable(() -> VirtualTime.run(() -> {
            Generator<Integer> g = Generator.of("stuck", out -> {
                try {
                    out.emit(never.receive());
                } finally {
                    log.add("body finally");
                }
            });
            made.add(g);
            Coroutine.create("taker", () -> log.add("took " + g.next()));
        }));
        assertThat(t).isInstanceOf(DeadlockException.class)
                .hasMessage("VirtualTime.run cannot return: every coroutine left on thread " + ThreadNames.thread()
                        + " is parked and no timer is pending, so nothing could ever wake them (deadlock):\n"
                        + "  coroutine 'taker' waits to receive from channel 'never', inside generator 'stuck'");
        assertThat(log).containsExactly("body finally");
        assertThat(made.get(0).state()).isEqualTo(State.CLOSED);
    }

    /**
     * A deadlock met in read-ahead bodies names the generator each wait is in, as the dump does: a
     * coroutine parked inside a read-ahead body nested in another, and main, whose own read-ahead body
     * would wait; that deadlock is the body's failure, told after the value it had emitted before.
     */
    @Test
    @Timeout(10)
    void aDeadlockMetInReadAheadBodiesNamesTheGeneratorEachWaitIsInAndComesAfterTheValuesEmittedBefore() {
        Channel<Integer> never = new Channel<>("never", 0);
        Generator<Integer> outer = Generator.buffered("outer", 2, out -> {
            Generator<Integer> inner = Generator.buffered("inner", 2, in -> in.emit(never.receive()));
            for (int v : inner) {
                out.emit(v);
            }
        });
        Coroutine taker = Coroutine.create("taker", () -> outer.next());
        Coroutine.yield();
        assertThat(Coroutine.dump()).contains(
                "  [1] coroutine 'taker': PARKED, waits to receive from channel 'never', inside generator 'inner'\n");
        Generator<Integer> ahead = Generator.buffered("ahead", 3, out -> {
            out.emit(1);
            out.emit(never.receive());
        });
        assertThat(ahead.next()).as("the value emitted before the deadlock comes first").isEqualTo(1);
        assertThat(ahead.state()).isEqualTo(State.SUSPENDED);
        Throwable t = catchThrowable(ahead::next);
        assertThat(t).isInstanceOf(CoroutineException.class).cause().isInstanceOf(DeadlockException.class)
                .hasMessage("main context 'main' cannot receive from channel 'never': every other context of thread "
                        + ThreadNames.thread() + " is parked and no timer is pending, so nothing could ever wake it (deadlock):\n"
                        + "  main context 'main' would wait to receive from channel 'never', inside generator 'ahead'\n"
                        + "  coroutine 'taker' waits to receive from channel 'never', inside generator 'inner'");
        assertThat(ahead.state()).isEqualTo(State.FAILED);
        taker.close();
        assertThat(outer.state()).isEqualTo(State.CLOSED);
    }

    /**
     * A failure of main's child that cancels main's await inside a read-ahead body unwinds the body and
     * reaches main as it is, leaving no wait on the future; the value the body had emitted before stays
     * main's, and the generator then ends {@code CLOSED}.
     */
    @Test
    void aChildsFailureThatCancelsMainsAwaitInsideAReadAheadBodyLeavesNoWaitAndKeepsTheValueEmitted() {
        CompletableFuture<Integer> never = new CompletableFuture<>();
        IllegalStateException boom = new IllegalStateException("boom");
        Generator<Integer> g = Generator.buffered("ahead", 3, out -> {
            try {
                out.emit(1);
                Coroutine.create("child", () -> {
                    throw boom;
                });
                out.emit(Coroutine.await(never));
            } finally {
                log.add("body finally");
            }
        });
        Throwable t = catchThrowable(g::next);
        assertThat(t).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'child' failed: java.lang.IllegalStateException: boom");
        assertThat(t.getCause()).isSameAs(boom);
        assertThat(log).containsExactly("body finally");
        assertThat(loop().futureWaits().hasWaits(never)).isFalse();
        assertThat(loop().hasPending()).isFalse();
        assertThat(g.state()).isEqualTo(State.SUSPENDED);
        assertThat(g.next()).isEqualTo(1);
        assertThat(g.hasNext()).isFalse();
        assertThat(g.state()).isEqualTo(State.CLOSED);
    }

    /**
     * Every value another thread sends reaches the consumer exactly once and in order, through relay
     * generators (plain and read-ahead, their bodies receiving, selecting, or selecting with an
     * {@code onTimeout}) whose consumer's short {@code withTimeout}s keep cutting their waits short on the
     * real clock: a value handed to a body's wait just before the deadline is emitted and taken, one a
     * read-ahead body emitted before it is taken after it, and each unwound body is replaced by a fresh one.
     * Each body's {@code finally} runs once.
     */
    @Test
    @Timeout(120)
    void valuesAnotherThreadSendsThroughRelaysWhoseWaitsTimeoutsCutShortArriveOnceEachInOrder() {
        int timeouts = 0;
        for (int seed = 0; seed < 8; seed++) {
            timeouts += relayAll(seed, 1500);
        }
        System.out.println("[generator relays] " + timeouts + " timeouts cut a body's wait short");
    }

    /** One run of {@link #valuesAnotherThreadSendsThroughRelaysWhoseWaitsTimeoutsCutShortArriveOnceEachInOrder}; returns the timeouts. */
    private static int relayAll(int seed, int n) {
        SplittableRandom random = new SplittableRandom(seed);
        Channel<Integer> ch = new Channel<>("ch", seed % 2);
        Channel<Integer> idle = new Channel<>("idle", 0);
        CompletableFuture<Void> fed = Peer.start("feeder-" + seed, () -> {
            SplittableRandom pace = new SplittableRandom(seed + 1000L);
            for (int i = 1; i <= n; i++) {
                for (int k = pace.nextInt(200); k > 0; k--) {
                    Thread.onSpinWait();
                }
                ch.send(i);
            }
            ch.close();
            return null;
        });
        List<Integer> got = new ArrayList<>();
        int[] unwound = {0};
        int made = 0;
        int timeouts = 0;
        Generator<Integer> g = null;
        while (true) {
            if (g == null) {
                int kind = random.nextInt(3);
                Generator.Body<Integer, Void> body = out -> {
                    try {
                        while (true) {
                            int v = switch (kind) {
                                case 0 -> ch.receive();
                                case 1 -> new Select<Integer>().onReceive(idle, x -> -x).onReceive(ch, x -> x).select();
                                default -> new Select<Integer>().onReceive(ch, x -> x)
                                        .onTimeout(Duration.ofNanos(50_000), () -> 0).select();
                            };
                            if (v != 0) {
                                out.emit(v);
                            }
                        }
                    } catch (ChannelClosedException e) {
                        // every value was sent
                    } finally {
                        unwound[0]++;
                    }
                };
                int ahead = 1 + random.nextInt(3);
                g = ahead == 1 ? Generator.of("relay", body) : Generator.buffered("relay", ahead, body);
                made++;
            }
            Generator<Integer> relay = g;
            int take = 1 + random.nextInt(4);
            try {
                Coroutine.withTimeout(Duration.ofNanos(1_000 + random.nextInt(300_000)), () -> {
                    for (int k = 0; k < take && relay.hasNext(); k++) {
                        got.add(relay.next());
                    }
                });
            } catch (CoroutineTimeoutException e) {
                timeouts++;
                assertThat(relay.state()).as("seed " + seed).isIn(State.CLOSED, State.SUSPENDED);
                while (relay.hasNext()) { // the values a read-ahead body emitted before the timeout
                    got.add(relay.next());
                }
                assertThat(relay.state()).as("seed " + seed).isEqualTo(State.CLOSED);
                g = null;
                continue;
            }
            if (relay.state() == State.FINISHED) {
                break;
            }
        }
        fed.join();
        assertThat(unwound[0]).as("seed " + seed + ": bodies ended").isEqualTo(made);
        List<Integer> sent = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            sent.add(i);
        }
        assertThat(got).as("seed " + seed).containsExactlyElementsOf(sent);
        return timeouts;
    }

    /** What a refusal to another context of a generator whose consumer is suspended inside its body says. */
    private static final Pattern REFUSAL = Pattern.compile("coroutine 'c\\d' cannot"
            + " (hasNext on|take the next value of|close) generator 'g\\d' \\(RUNNING\\): its body is suspended, at a yield,"
            + " a switchTo or a wait, inside its consumer coroutine 'c\\d' \\((SUSPENDED\\)|PARKED\\), which waits to .+);"
            + " only that consumer can resume it");

    /**
     * Random programs under virtual time, the same on either engine: four generators (plain and read-ahead,
     * some consuming others in their bodies) whose bodies yield, sleep, receive inside a {@code withTimeout}
     * of their own, select with an {@code onTimeout}, and swallow an exit signal now and then; four
     * coroutines that consume them inside nested {@code withTimeout}s, close them, feed their channel;
     * main closes coroutines and the channel at random. Every call refused while another coroutine is
     * suspended inside a body names the caller, the call, the generator, {@code RUNNING} and that consumer
     * with what it waits for; and once the run is over and every suspended generator is closed, every body
     * that started has run its {@code finally} exactly once and every generator has ended.
     */
    @Test
    @Timeout(120)
    void inRandomProgramsEveryBodyThatStartedEndsOnceAndEveryRefusalNamesTheConsumer() {
        for (int seed = 0; seed < 1000; seed++) {
            mixedProgram(seed);
        }
    }

    /** One program of {@link #inRandomProgramsEveryBodyThatStartedEndsOnceAndEveryRefusalNamesTheConsumer}. */
    private static void mixedProgram(int seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int count = 4;
        List<Generator<Integer>> gens = new ArrayList<>();
        int[] started = new int[count];
        int[] ended = new int[count];
        List<String> odd = new ArrayList<>();
        VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("ch", random.nextInt(2));
            for (int i = 0; i < count; i++) {
                int id = i;
                SplittableRandom steps = random.split();
                Generator.Body<Integer, Void> body = out -> {
                    started[id]++;
                    try {
                        for (int k = 0; k < 12; k++) {
                            switch (steps.nextInt(8)) {
                                case 0 -> Coroutine.yield();
                                case 1 -> Coroutine.sleep(Duration.ofMillis(steps.nextInt(5)));
                                case 2 -> {
                                    int v;
                                    try {
                                        v = Coroutine.withTimeout(Duration.ofMillis(1 + steps.nextInt(4)), () -> ch.receive());
                                    } catch (CoroutineTimeoutException e) {
                                        v = -1;
                                    }
                                    out.emit(v);
                                }
                                case 3 -> out.emit(new Select<Integer>().onReceive(ch, v -> v)
                                        .onTimeout(Duration.ofMillis(steps.nextInt(4)), () -> -2).select());
                                case 4 -> {
                                    if (id > 0) {
                                        Generator<Integer> inner = gens.get(steps.nextInt(id));
                                        try {
                                            if (inner.hasNext()) {
                                                out.emit(inner.next());
                                            }
                                        } catch (IllegalStateException | NoSuchElementException | CoroutineException e) {
                                            // refused (its consumer is inside it), ended, or failed
                                        }
                                    }
                                }
                                case 5 -> {
                                    try {
                                        Coroutine.sleep(Duration.ofMillis(steps.nextInt(3)));
                                    } catch (CoroutineExit swallowed) {
                                        // the next wait or emit throws it again
                                    }
                                }
                                case 6 -> {
                                    try {
                                        out.emit(-7);
                                    } catch (CoroutineExit swallowed) {
                                        // likewise
                                    }
                                }
                                default -> out.emit(k);
                            }
                        }
                    } finally {
                        ended[id]++;
                    }
                };
                String name = "g" + i;
                gens.add(random.nextBoolean() ? Generator.of(name, body) : Generator.buffered(name, 1 + random.nextInt(3), body));
            }
            List<Coroutine> consumers = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                SplittableRandom steps = random.split();
                consumers.add(Coroutine.create("c" + c, () -> {
                    for (int k = 0; k < 25; k++) {
                        Generator<Integer> g = gens.get(steps.nextInt(count));
                        try {
                            switch (steps.nextInt(5)) {
                                case 0 -> Coroutine.withTimeout(Duration.ofMillis(steps.nextInt(6)), () -> {
                                    try {
                                        Coroutine.withTimeout(Duration.ofMillis(steps.nextInt(6)), () -> {
                                            if (g.hasNext()) {
                                                g.next();
                                            }
                                        });
                                    } catch (CoroutineTimeoutException e) {
                                        // the inner one expired: on to the outer one
                                    }
                                    if (g.hasNext()) {
                                        g.next();
                                    }
                                });
                                case 1 -> {
                                    if (g.hasNext()) {
                                        g.next();
                                    }
                                }
                                case 2 -> ch.trySend(steps.nextInt(100));
                                case 3 -> g.close();
                                default -> Coroutine.sleep(Duration.ofMillis(steps.nextInt(3)));
                            }
                        } catch (IllegalStateException e) {
                            if (!REFUSAL.matcher(String.valueOf(e.getMessage())).matches()) {
                                odd.add(String.valueOf(e));
                            }
                        } catch (NoSuchElementException | CoroutineException | CoroutineTimeoutException e) {
                            // ended, failed (its channel closed), or timed out
                        }
                    }
                }));
            }
            for (int k = 0; k < 30; k++) {
                switch (random.nextInt(4)) {
                    case 0 -> consumers.get(random.nextInt(consumers.size())).close();
                    case 1 -> Coroutine.sleep(Duration.ofMillis(random.nextInt(3)));
                    case 2 -> {
                        ch.trySend(1000 + k);
                        if (random.nextInt(40) == 0) {
                            ch.close();
                        }
                    }
                    default -> Coroutine.yield();
                }
            }
            consumers.forEach(Coroutine::close);
        });
        // a body that swallows its close's signal runs on, and may resume a generator closed before it: closed again
        for (int pass = 0; pass < count && gens.stream().anyMatch(g -> g.state() == State.SUSPENDED); pass++) {
            for (Generator<Integer> g : gens) {
                if (g.state() == State.SUSPENDED) {
                    try {
                        g.close();
                    } catch (CoroutineException e) {
                        // its body's failure, still to tell
                    }
                }
            }
        }
        assertThat(odd).as("seed " + seed + ": refusals that do not name the consumer").isEmpty();
        for (int i = 0; i < count; i++) {
            String as = "seed " + seed + ", " + gens.get(i);
            assertThat(gens.get(i).state()).as(as).isIn(State.NEW, State.FINISHED, State.FAILED, State.CLOSED);
            assertThat(started[i]).as(as).isLessThanOrEqualTo(1);
            assertThat(ended[i]).as(as + ": its finally").isEqualTo(started[i]);
        }
    }
}
