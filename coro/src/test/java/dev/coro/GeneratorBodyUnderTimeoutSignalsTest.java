package dev.coro;

import static dev.coro.SchedulerClock.ms;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What ends a wait inside a generator body whose consumer runs it under a {@code withTimeout}, when the
 * consumer's timeout meets a close of the consumer, a close of the generator, or the failure of a
 * parent that has ended: the right signal or failure reaches the right context, with a message naming
 * the context, the operation and the state, the generator ends {@code CLOSED}, and nothing of the wait
 * (a timer, a clause on a channel, a wait on a future, a permit) is left behind.
 */
@ExtendWith(FreshThread.class)
class GeneratorBodyUnderTimeoutSignalsTest {

    private final List<String> log = Collections.synchronizedList(new ArrayList<>());

    /** The calling thread's event loop: its timers, and its waits for other threads' futures. */
    private static EventLoop loop() {
        return Scheduler.current().loop;
    }

    /** A future that never completes, printed as {@code never} so that messages naming it read the same on every run. */
    private static CompletableFuture<Integer> never() {
        return new CompletableFuture<>() {
            @Override
            public String toString() {
                return "never";
            }
        };
    }

    /**
     * A consumer whose {@code withTimeout} expired while it waited in a select (over a future and a
     * channel) inside a generator body, woken with the signal pending but not run yet, is closed by
     * another coroutine: the close's signal unwinds it, not the timeout's (its {@code catch} of
     * {@code CoroutineTimeoutException} never runs), the body and the consumer unwind once, both end
     * {@code CLOSED}, and neither the clause on the channel nor the wait on the future nor a timer is left.
     */
    @Test
    @Timeout(10)
    void aConsumerClosedAfterItsTimeoutWokeItInsideTheBodysSelectUnwindsByTheCloseAndLeavesNothing() {
        CompletableFuture<Integer> f = never();
        Channel<Integer> ch = new Channel<>("ch", 0);
        Generator<Integer> g = Generator.of("gen", out -> {
            try {
                out.emit(new Select<Integer>().onComplete(f, v -> v).onReceive(ch, v -> -v).select());
            } finally {
                log.add("body finally at " + ms());
            }
        });
        VirtualTime.run(() -> {
            Coroutine c = Coroutine.create("consumer", () -> {
                try {
                    log.add("got " + Coroutine.withTimeout(Duration.ofMillis(10), () -> g.next()));
                } catch (CoroutineTimeoutException e) {
                    log.add("timed out: " + e.getMessage());
                } finally {
                    log.add("consumer finally at " + ms());
                }
            });
            Coroutine closer = Coroutine.create("closer", () -> {
                Coroutine.sleep(Duration.ofMillis(10)); // its timer comes after the consumer's timeout, due at once
                log.add("closes the consumer, " + c.state());
                c.close();
                log.add("consumer " + c.state() + ", generator " + g.state());
            });
            closer.join();
        });
        assertThat(log).containsExactly("closes the consumer, SUSPENDED", "body finally at 10", "consumer finally at 10",
                "consumer CLOSED, generator CLOSED");
        assertThat(loop().futureWaits().hasWaits(f)).as("a wait left on the future").isFalse();
        assertThat(ch.trySend(1)).as("a receive clause left on the channel").isFalse();
        assertThat(loop().hasPending()).as("a timer or a wait for another thread left").isFalse();
    }

    /**
     * A child whose parent failed and ended waits in a select inside a generator body, under its own
     * {@code withTimeout}: the timeout unwinds the body ({@code CLOSED}), the child ends {@code FAILED}
     * by its {@code CoroutineTimeoutException}, and that failure goes to main, whose sleep it cuts short;
     * a {@code switchTo} of the child says its failure went to main because its creator had ended.
     */
    @Test
    @Timeout(10)
    void aTimeoutInsideTheBodyThatAChildOfAFailedParentConsumesFailsTheChildIntoMainNamingTheEndedCreator() {
        CompletableFuture<Integer> f = never();
        Channel<Integer> ch = new Channel<>("ch", 0);
        Generator<Integer> g = Generator.of("gen", out -> {
            try {
                out.emit(new Select<Integer>().onComplete(f, v -> v).onReceive(ch, v -> v).select());
            } finally {
                log.add("body finally at " + ms());
            }
        });
        VirtualTime.run(() -> {
            Coroutine[] child = new Coroutine[1];
            Coroutine parent = Coroutine.create("parent", () -> {
                child[0] = Coroutine.create("child", () ->
                        log.add("child got " + Coroutine.withTimeout(Duration.ofMillis(10), () -> g.next())));
                Coroutine.yield(); // the child parks in the body's select
                throw new IllegalStateException("parent fails");
            });
            Throwable parentFailure = catchThrowable(() -> {
                while (!parent.isFinished()) {
                    Coroutine.yield();
                }
            });
            assertThat(parentFailure).isInstanceOf(CoroutineException.class)
                    .hasMessage("coroutine 'parent' failed: java.lang.IllegalStateException: parent fails");
            assertThat(ms()).isZero();

            Throwable childFailure = catchThrowable(() -> Coroutine.sleep(Duration.ofMillis(50)));
            assertThat(childFailure).isInstanceOf(CoroutineException.class)
                    .hasMessage("coroutine 'child' failed: dev.coro.CoroutineTimeoutException: coroutine 'child' timed out:"
                            + " withTimeout(PT0.01S) expired before its body returned");
            assertThat(childFailure.getCause()).isInstanceOf(CoroutineTimeoutException.class);
            assertThat(ms()).as("main's sleep cut short by the failure").isEqualTo(10);
            assertThat(child[0].state()).isEqualTo(Coroutine.State.FAILED);
            assertThat(g.state()).isEqualTo(Generator.State.CLOSED);
            assertThat(catchThrowable(child[0]::switchTo)).isInstanceOf(IllegalStateException.class)
                    .hasMessage("main context 'main' cannot switchTo coroutine 'child' (FAILED): it has ended, its body having"
                            + " thrown; its failure was delivered to main context 'main', its creator coroutine 'parent' having ended");
            assertThat(loop().hasPending()).as("main's sleep timer, or a wait, left").isFalse();
        });
        assertThat(log).containsExactly("body finally at 10");
        assertThat(loop().futureWaits().hasWaits(f)).isFalse();
        assertThat(ch.trySend(1)).isFalse();
    }

    /**
     * A {@code close()} of a generator, made inside the consumer's {@code withTimeout}, whose body's
     * {@code finally} sleeps: the timeout expires there and its signal cuts the sleep short, an
     * {@code emit} after it throws the generator's own close signal, the generator ends {@code CLOSED},
     * and the consumer's signal passes on through {@code close()} to its {@code withTimeout}, which throws
     * {@code CoroutineTimeoutException} at the deadline; so for a plain and a read-ahead generator.
     */
    @Test
    @Timeout(10)
    void aCloseOfAGeneratorWhoseFinallyTheConsumersTimeoutCutsShortEndsItClosedAndTimesTheConsumerOut() {
        for (boolean buffered : new boolean[] {false, true}) {
            log.clear();
            String name = buffered ? "ahead" : "plain";
            Generator.Body<Integer, Void> body = out -> {
                try {
                    out.emit(1);
                    out.emit(2);
                    out.emit(3);
                } finally {
                    Throwable slept = catchThrowable(() -> Coroutine.sleep(Duration.ofMillis(5)));
                    log.add("sleep at " + ms() + ": " + slept.getMessage());
                    log.add("emit: " + catchThrowable(() -> out.emit(9)).getMessage());
                    throw (CoroutineExit) slept;
                }
            };
            Generator<Integer> g = buffered ? Generator.buffered(name, 2, body) : Generator.of(name, body);
            VirtualTime.run(() -> {
                assertThat(g.next()).isEqualTo(1);
                Throwable[] closed = new Throwable[1];
                Throwable t = catchThrowable(() -> Coroutine.withTimeout(Duration.ofMillis(3), () -> {
                    closed[0] = catchThrowable(g::close);
                    if (closed[0] != null) {
                        throw (CoroutineExit) closed[0];
                    }
                }));
                assertThat(t).isInstanceOf(CoroutineTimeoutException.class)
                        .hasMessage("main context 'main' timed out: withTimeout(PT0.003S) expired before its body returned");
                assertThat(t.getCause()).as("the signal close() passed on").isSameAs(closed[0]);
                assertThat(ms()).isEqualTo(3);
                assertThat(g.state()).isEqualTo(Generator.State.CLOSED);
                assertThat(loop().hasPending()).as("the body's sleep timer left").isFalse();
            });
            assertThat(log).as(name).containsExactly(
                    "sleep at 3: main context 'main': its withTimeout(PT0.003S) expired; its sleep 5.000 ms (t=5.000 ms on the"
                            + " virtual clock, 2.000 ms left), inside generator '" + name + "', throws this signal so that the body unwinds to it",
                    "emit: generator '" + name + "' is being closed: its emit throws this signal so that it unwinds (state"
                            + " RUNNING, closing)");
        }
    }

    /**
     * Every kind of wait inside a generator body that a consumer coroutine's {@code withTimeout} cuts
     * short (a sleep, a semaphore's acquire, timed acquire and {@code withPermit}, a join, a receive and a
     * send, timed or not, an await, a select over a future and a timeout) is named in the signal, the
     * cause of the consumer's {@code CoroutineTimeoutException}; the generator ends {@code CLOSED} each
     * time, and in the end no timer, wait or permit is left taken.
     */
    @Test
    @Timeout(20)
    void everyKindOfWaitInsideABodyThatTheConsumersTimeoutCutsShortIsNamedInTheSignalAndLeavesNothing() {
        CompletableFuture<Integer> f = never();
        VirtualTime.run(() -> {
            Semaphore sem = new Semaphore("sem", 1);
            sem.acquire();
            Channel<Integer> ch = new Channel<>("ch", 0);
            Coroutine sleeper = Coroutine.create("sleeper", () -> Coroutine.sleep(Duration.ofHours(1)));
            record Row(String named, Supplier<Object> call) {
            }
            List<Row> rows = List.of(
                    new Row("sleep 1,000.000 ms (t=1,000.000 ms on the virtual clock, 990.000 ms left)",
                            () -> { Coroutine.sleep(Duration.ofSeconds(1)); return 0; }),
                    new Row("acquire a permit of Semaphore[sem, 0 of 1 permits free]", () -> { sem.acquire(); return 0; }),
                    new Row("tryAcquire a permit of Semaphore[sem, 0 of 1 permits free]", () -> sem.tryAcquire(Duration.ofSeconds(1))),
                    new Row("acquire a permit of Semaphore[sem, 0 of 1 permits free]", () -> sem.withPermit(() -> 1)),
                    new Row("join coroutine 'sleeper'", () -> { sleeper.join(); return 0; }),
                    new Row("receive from channel 'ch'", ch::receive),
                    new Row("tryReceive from channel 'ch'", () -> ch.tryReceive(Duration.ofSeconds(1))),
                    new Row("send to channel 'ch'", () -> { ch.send(1); return 0; }),
                    new Row("trySend to channel 'ch'", () -> ch.trySend(1, Duration.ofSeconds(1))),
                    new Row("await never", () -> Coroutine.await(f)),
                    new Row("select over completion of never, timeout PT1S",
                            () -> new Select<Integer>().onComplete(f, v -> v).onTimeout(Duration.ofSeconds(1), () -> 0).select()));
            for (Row row : rows) {
                Generator<Object> g = Generator.of("gen", out -> out.emit(row.call().get()));
                Coroutine consumer = Coroutine.create("consumer", () -> {
                    long start = ms();
                    Throwable t = catchThrowable(() -> Coroutine.withTimeout(Duration.ofMillis(10), () -> g.next()));
                    assertThat(t).as(row.named()).isInstanceOf(CoroutineTimeoutException.class)
                            .hasMessage("coroutine 'consumer' timed out: withTimeout(PT0.01S) expired before its body returned");
                    assertThat(t.getCause()).as(row.named()).isInstanceOf(CoroutineExit.class)
                            .hasMessage("coroutine 'consumer': its withTimeout(PT0.01S) expired; its " + row.named()
                                    + ", inside generator 'gen', throws this signal so that the body unwinds to it");
                    assertThat(ms() - start).as(row.named()).isEqualTo(10);
                    assertThat(g.state()).as(row.named()).isEqualTo(Generator.State.CLOSED);
                });
                consumer.join();
            }
            sleeper.close();
            sem.release();
            assertThat(sem.availablePermits()).isEqualTo(1);
            assertThat(loop().hasPending()).as("a timer or a wait left").isFalse();
            assertThat(ch.trySend(1)).as("a receiver left on the channel").isFalse();
            assertThat(loop().futureWaits().hasWaits(f)).isFalse();
        });
    }
}
