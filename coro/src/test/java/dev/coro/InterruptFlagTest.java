package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The interrupt flags that both engines share: a generator's body and its consumer share one flag,
 * and a body that ends with its flag set leaves it to the context that runs next. (How a coroutine
 * that switches keeps its flag differs by engine: docs/ENGINES.md.)
 */
@ExtendWith(FreshThread.class)
class InterruptFlagTest {

    @Test
    void anInterruptABodyLeavesSetAsItReturnsIsSeenByTheContextThatRunsNext() {
        Coroutine.create("restoresTheFlag", () -> Thread.currentThread().interrupt()).switchTo();
        assertThat(Thread.interrupted()).isTrue();
    }

    @Test
    void anInterruptABodyLeavesSetAsItFailsIsSeenByTheContextItsFailureGoesTo() {
        Coroutine c = Coroutine.create("failsInterrupted", () -> {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        });
        assertThatThrownBy(c::switchTo).isInstanceOf(CoroutineException.class);
        assertThat(Thread.interrupted()).isTrue();
    }

    @Test
    void anInterruptABodyLeavesSetAsCloseUnwindsItIsSeenByItsCloser() {
        Coroutine c = Coroutine.create("interruptsInFinally", () -> {
            try {
                Coroutine.yield();
            } finally {
                Thread.currentThread().interrupt();
            }
        });
        c.switchTo();
        assertThat(Thread.interrupted()).as("main, before the close").isFalse();
        c.close();
        assertThat(c.state()).isEqualTo(Coroutine.State.CLOSED);
        assertThat(Thread.interrupted()).as("main, after the close").isTrue();
    }

    @Test
    void anInterruptAGeneratorBodyLeavesSetAsCloseUnwindsItIsSeenByItsConsumer() {
        Generator<Integer> g = Generator.of("interruptsInFinally", out -> {
            try {
                out.emit(1);
                out.emit(2);
            } finally {
                Thread.currentThread().interrupt();
            }
        });
        assertThat(g.next()).isEqualTo(1);
        assertThat(Thread.interrupted()).as("the consumer, before the close").isFalse();
        g.close();
        assertThat(Thread.interrupted()).as("the consumer, after the close").isTrue();
    }

    @Test
    @Timeout(10)
    void anInterruptABodyLeavesSetAsItEndsWhileMainWaitsInVirtualTimeRunIsSeenByTheContextThatRunsNext() {
        AtomicReference<Boolean> sleeperSaw = new AtomicReference<>();
        VirtualTime.run(() -> {
            Coroutine.create("sleeper", () -> {
                Coroutine.sleep(Duration.ofMillis(10));
                sleeperSaw.set(Thread.interrupted());
            });
            Coroutine.yield(); // the sleeper parks
            Coroutine.create("setter", () -> Thread.currentThread().interrupt());
        }); // the setter ends with main waiting in the run, which then wakes the sleeper
        assertThat(sleeperSaw.get()).as("the sleeper, which ran next").isTrue();
        assertThat(Thread.interrupted()).as("main, after the run").isFalse();
    }

    @Test
    @Timeout(10)
    void anInterruptABodyLeavesSetAsAVirtualTimeRunClosesItIsSeenByTheCoroutineItClosesNext() {
        AtomicReference<Boolean> secondSaw = new AtomicReference<>();
        assertThatThrownBy(() -> VirtualTime.run(() -> {
            Coroutine first = Coroutine.create("first", () -> {
                try {
                    Coroutine.yield();
                } finally {
                    Thread.currentThread().interrupt();
                }
            });
            Coroutine second = Coroutine.create("second", () -> {
                try {
                    Coroutine.yield();
                } finally {
                    secondSaw.set(Thread.interrupted());
                }
            });
            first.switchTo();
            second.switchTo();
            throw new IllegalStateException("the run's body failed");
        })).isInstanceOf(IllegalStateException.class).hasMessage("the run's body failed");
        assertThat(secondSaw.get()).as("the second coroutine closed, after the first").isTrue();
        assertThat(Thread.interrupted()).as("main, after the run").isFalse();
    }

    @Test
    void aGeneratorBodyAndItsConsumerShareOneInterruptFlag() {
        List<Boolean> bodySaw = new ArrayList<>();
        List<Boolean> consumerSaw = new ArrayList<>();
        try (Generator<Integer> g = Generator.of("flags", out -> {
            bodySaw.add(Thread.interrupted()); // the consumer's, set before its first next()
            Thread.currentThread().interrupt();
            out.emit(1);
            bodySaw.add(Thread.interrupted()); // cleared by the consumer meanwhile
            Thread.currentThread().interrupt();
        })) {
            Thread.currentThread().interrupt();
            g.next();
            consumerSaw.add(Thread.interrupted()); // the body's
            consumerSaw.add(g.hasNext());
            consumerSaw.add(Thread.interrupted()); // left set by the body as it ended
        }
        assertThat(bodySaw).containsExactly(true, false);
        assertThat(consumerSaw).containsExactly(true, false, true);
    }

    @Test
    @Timeout(10)
    void anInterruptOfTheConsumersThreadWhileTheBodyRunsEndsABlockingCallInTheBody() throws InterruptedException {
        Thread consumer = Thread.currentThread();
        CountDownLatch blocking = new CountDownLatch(1);
        Thread canceller = Thread.ofPlatform().name("canceller").start(() -> {
            try {
                blocking.await();
                consumer.interrupt(); // as a Future.cancel(true) of a task that consumes the generator
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        BlockingQueue<String> empty = new LinkedBlockingQueue<>();
        try (Generator<String> g = Generator.of("blocking", out -> {
            blocking.countDown();
            try {
                out.emit(empty.take());
            } catch (InterruptedException e) {
                out.emit("take interrupted, the flag then " + Thread.currentThread().isInterrupted());
            }
        })) {
            assertThat(g.next()).isEqualTo("take interrupted, the flag then false");
            assertThat(Thread.interrupted()).as("the consumer, once the body took the interrupt").isFalse();
        }
        canceller.join();
    }
}
