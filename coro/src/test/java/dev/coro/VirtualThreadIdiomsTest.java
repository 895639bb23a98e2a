package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Code written for virtual threads ported to coro, one idiom a test, as docs/COMING-FROM.md's virtual-thread rows
 * name them: starting one, a {@code SynchronousQueue} and an {@code ArrayBlockingQueue}, {@code Thread.sleep},
 * {@code Future.get}, an interrupt that ends a blocked thread, and an executor closed in try-with-resources.
 */
@ExtendWith(FreshThread.class)
@Timeout(60)
class VirtualThreadIdiomsTest {

    private final List<String> log = new ArrayList<>();

    /**
     * {@code Thread.ofVirtual().start(r)}: {@code Coroutine.create(name, r)} runs nothing yet; the body starts at its
     * creator's next scheduling point, on the creator's thread, and the coroutines created last run first.
     */
    @Test
    void aCoroutineStartsAtItsCreatorsNextSchedulingPointOnTheCreatorsThread() {
        Thread mine = Thread.currentThread();
        for (String name : List.of("first", "second")) {
            Coroutine.create(name, () -> log.add(name + " on the creator's thread: " + (Coroutine.current().thread() == mine)));
        }
        log.add("created");
        Coroutine.yield();
        Coroutine.yield();
        assertThat(log).containsExactly("created", "second on the creator's thread: true", "first on the creator's thread: true");
    }

    /**
     * {@code SynchronousQueue.put} / {@code take}: a rendezvous channel, whose send parks until a receiver takes the
     * value and which holds none meanwhile; the producer's {@code close()} ends the consumer's loop, where a queue
     * needs a poison pill.
     */
    @Test
    void aProducerAndAConsumerOverASynchronousQueueAreARendezvousChannel() {
        Channel<Integer> queue = new Channel<>("queue", 0);
        Coroutine producer = Coroutine.create("producer", () -> {
            try {
                for (int i = 1; i <= 3; i++) {
                    queue.send(i);                                  // put: parks until taken
                    log.add("put " + i);
                }
            } finally {
                queue.close();                                      // no poison pill
            }
        });
        Coroutine consumer = Coroutine.create("consumer", () -> {
            for (int v : queue) {                                   // take, until closed and drained
                log.add("took " + v + ", " + queue.size() + " held");
            }
            log.add("consumer done");
        });
        consumer.join();
        assertThat(producer.state()).isEqualTo(State.FINISHED);
        assertThat(log).as("a put returns once its value is handed over: to a consumer waiting already (1 and 3, "
                + "which it logs when it next runs: waking never switches), or taken from the parked producer (2)")
                .containsExactly("put 1", "took 1, 0 held", "took 2, 0 held", "put 2", "put 3", "took 3, 0 held",
                        "consumer done");
    }

    /**
     * {@code ArrayBlockingQueue(n)}: a channel of capacity {@code n}; {@code offer} is {@code trySend}, {@code offer}
     * with a timeout {@code trySend(v, d)} and {@code poll} with one {@code tryReceive(d)}, each delivering or taking
     * nothing when it gives up; {@code put} parks while it is full.
     */
    @Test
    void anArrayBlockingQueueIsABoundedChannelWhoseOfferAndPollAreItsTryForms() {
        VirtualTime.run(() -> {
            Channel<String> queue = new Channel<>("queue", 2);
            log.add("offer a " + queue.trySend("a") + ", offer b " + queue.trySend("b") + ", offer c " + queue.trySend("c"));
            log.add("timed offer d " + queue.trySend("d", Duration.ofMillis(100)) + " at "
                    + Coroutine.nanoTime() / 1_000_000 + " ms");
            log.add("poll " + queue.tryReceive(Duration.ofMillis(10)).orElse("-") + ", "
                    + queue.tryReceive(Duration.ofMillis(10)).orElse("-") + ", "
                    + queue.tryReceive(Duration.ofMillis(10)).orElse("-") + " at " + Coroutine.nanoTime() / 1_000_000 + " ms");
        });
        assertThat(log).containsExactly("offer a true, offer b true, offer c false", "timed offer d false at 100 ms",
                "poll a, b, - at 110 ms");
    }

    /**
     * {@code Thread.sleep} in many virtual threads: {@code Coroutine.sleep} in many coroutines of one thread; their
     * sleeps overlap, so three sleeps of 100 ms end together at 100 ms (under {@code VirtualTime}, exactly).
     */
    @Test
    void sleepsOfCoroutinesOfOneThreadOverlapAsVirtualThreadsSleepsDo() {
        long end = VirtualTime.call(() -> {
            List<Coroutine> sleepers = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                sleepers.add(Coroutine.create("sleeper " + i, () -> Coroutine.sleep(Duration.ofMillis(100))));
            }
            for (Coroutine c : sleepers) {
                c.join();
            }
            return Coroutine.nanoTime() / 1_000_000;
        });
        assertThat(end).isEqualTo(100);
    }

    /**
     * {@code Future.get()}: {@code Coroutine.await(future)} parks the awaiting coroutine alone, main runs meanwhile,
     * and the value another thread completes the future with comes to the coroutine on its own thread.
     */
    @Test
    void aFutureGetIsAnAwaitThatParksTheCallerAloneAndNotItsThread() throws Exception {
        CompletableFuture<String> future = new CompletableFuture<>();
        Coroutine getter = Coroutine.create("getter", () -> log.add("got " + Coroutine.await(future)));
        Coroutine.yield();
        assertThat(getter.state()).isEqualTo(State.PARKED);
        log.add("main ran meanwhile");
        Thread completer = Thread.ofPlatform().start(() -> future.complete("value"));
        completer.join();
        getter.join();
        assertThat(log).containsExactly("main ran meanwhile", "got value");
    }

    /**
     * {@code Thread.interrupt()} of a thread blocked in {@code take()}: {@code close()} of the coroutine parked in a
     * {@code receive}, which unwinds it at once through its {@code finally}, the receive having taken nothing; the
     * value sent afterwards stays in the channel.
     */
    @Test
    void anInterruptOfABlockedThreadIsACloseThatUnwindsTheCoroutineParkedInAReceiveThroughItsFinally() {
        Channel<String> queue = new Channel<>("queue", 1);
        Coroutine taker = Coroutine.create("taker", () -> {
            try {
                log.add("took " + queue.receive());
            } finally {
                log.add("finally ran");
            }
        });
        Coroutine.yield();
        assertThat(taker.state()).isEqualTo(State.PARKED);
        taker.close();                                              // returns once the coroutine has unwound
        log.add("close returned, taker " + taker.state());
        assertThat(queue.trySend("later")).isTrue();
        assertThat(queue.tryReceive()).isEqualTo(Optional.of("later"));
        assertThat(log).containsExactly("finally ran", "close returned, taker CLOSED");
    }

    /**
     * {@code newVirtualThreadPerTaskExecutor()} in try-with-resources: a {@code CoroutinePool} whose {@code close()}
     * waits for every body, as {@code ExecutorService.close()} waits for every task, and then throws the failure
     * nobody observed (where an executor leaves it in the task's future); a failure whose future was read is not
     * thrown again.
     */
    @Test
    void aPoolInTryWithResourcesWaitsForEveryBodyAndItsCloseThrowsTheFailureNobodyObserved() {
        List<String> done = Collections.synchronizedList(new ArrayList<>());
        CoroutineException e = catchThrowableOfType(CoroutineException.class, () -> {
            try (CoroutinePool pool = CoroutinePool.start("tasks", 2)) {
                CompletableFuture<Object> observed = pool.submit(() -> {
                    throw new IllegalStateException("observed");
                });
                pool.execute("slow", () -> {
                    for (int i = 0; i < 100; i++) {
                        Coroutine.yield();
                    }
                    done.add("slow body ended");
                });
                pool.execute("lost", () -> {
                    throw new IllegalStateException("nobody looked");
                });
                Throwable seen = catchThrowableOfType(CompletionException.class, () -> Coroutine.await(observed));
                done.add("awaited: " + (seen == null ? "nothing" : seen.getCause().getMessage()));
            }
        });
        assertThat(done).containsExactlyInAnyOrder("awaited: observed", "slow body ended");
        assertThat(e).as("close() throws the failure nobody observed").isNotNull();
        assertThat(e.getCause()).isInstanceOf(IllegalStateException.class).hasMessage("nobody looked");
        assertThat(e.getSuppressed()).isEmpty();
        assertThat(e.getMessage()).startsWith("tasks: a coroutine failed and nobody observed it: coroutine 'lost'");
    }
}
