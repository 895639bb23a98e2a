package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Spliterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The rules of {@link Channel} and of parking: sends, receives and their try forms, closing, iteration,
 * parking and waking, deadlocks, and what a cancelled wait does with its value; each test on a fresh
 * thread of its own ({@link FreshThread}).
 */
@ExtendWith(FreshThread.class)
class ChannelTest {

    private final List<String> log = new ArrayList<>();

    @Test
    void rendezvousParksTheSenderUntilTheReceiverTakesTheValue() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine producer = Coroutine.create("producer", () -> {
            for (int i = 1; i <= 3; i++) {
                log.add("send " + i);
                ch.send(i);
                log.add("sent " + i);
            }
            ch.close();
        });
        for (int v : ch) {
            log.add("main got " + v + ", producer " + producer.state());
        }
        assertThat(log).as("waking never switches: each side runs on until it must wait").containsExactly(
                "send 1", "sent 1",                      // main was parked in receive: 1 is handed over
                "send 2",                                // nobody waits: the producer parks
                "main got 1, producer PARKED",
                "main got 2, producer SUSPENDED",        // taken from the parked sender, which is woken
                "sent 2", "send 3", "sent 3",            // main parked again, so 3 is handed over
                "main got 3, producer FINISHED");
        assertThat(producer.state()).isEqualTo(State.FINISHED);
    }

    @Test
    void bufferedChannelLetsTheSenderRunAheadUpToItsCapacity() {
        Channel<Integer> ch = new Channel<>("ch", 2);
        Coroutine producer = Coroutine.create("producer", () -> {
            for (int i = 1; i <= 4; i++) {
                ch.send(i);
                log.add("sent " + i);
            }
            ch.close();
        });
        log.add("got " + ch.receive());
        assertThat(log).as("1 handed to the parked main, 2 and 3 buffered, the fourth send parks")
                .containsExactly("sent 1", "sent 2", "sent 3", "got 1");
        assertThat(producer.state()).isEqualTo(State.PARKED);
        for (int v : ch) {
            log.add("got " + v);
        }
        assertThat(log).containsExactly("sent 1", "sent 2", "sent 3", "got 1", "got 2", "got 3", "got 4", "sent 4");
    }

    /**
     * A {@code send} hands its value to the longest-waiting parked receiver, waking it without running
     * it; with none, the value goes into the buffer while it has room, and then the sender parks.
     */
    @Test
    void sendGoesToTheLongestWaitingParkedReceiverThenIntoTheBufferThenParks() {
        Channel<String> ch = new Channel<>("ch", 1);
        List<Coroutine> receivers = new ArrayList<>();
        for (String name : List.of("r1", "r2", "r3")) {
            Coroutine r = Coroutine.create(name, () -> log.add(name + " got " + ch.receive()));
            r.switchTo(); // parks: r1 waits longest
            receivers.add(r);
        }
        for (String v : List.of("a", "b", "c", "d")) {
            ch.send(v);
        }
        assertThat(receivers).as("woken, not run").allSatisfy(r -> assertThat(r.state()).isEqualTo(State.SUSPENDED));
        assertThat(log).isEmpty();
        assertThat(ch.size()).as("d is buffered").isEqualTo(1);
        Coroutine.create("taker", () -> {
            log.add("taker got " + ch.receive());
            log.add("taker got " + ch.receive());
        });
        ch.send("e"); // the buffer is full and nobody waits: main parks
        log.add("main sent e");
        assertThat(log).containsExactly("taker got d", "taker got e", "r3 got c", "r2 got b", "r1 got a",
                "main sent e");
    }

    @Test
    void trySendAndTryReceiveNeverPark() {
        Channel<String> ch = new Channel<>("ch", 1);
        assertThat(ch.tryReceive()).isEmpty();
        assertThat(ch.trySend("a")).isTrue();
        assertThat(ch.trySend("b")).as("buffer full, nobody waits").isFalse();
        assertThat(ch.tryReceive()).isEqualTo(Optional.of("a"));
        assertThat(ch.tryReceive()).isEmpty();
    }

    @Test
    void trySendHandsTheValueToAParkedReceiverAndWakesIt() {
        Channel<String> ch = new Channel<>("ch", 0);
        Coroutine receiver = Coroutine.create("receiver", () -> log.add("got " + ch.receive()));
        Coroutine.yield();
        assertThat(receiver.state()).isEqualTo(State.PARKED);
        assertThat(ch.trySend("x")).isTrue();
        assertThat(receiver.state()).as("woken, not run").isEqualTo(State.SUSPENDED);
        assertThat(log).isEmpty();
        Coroutine.yield();
        assertThat(log).containsExactly("got x");
    }

    /**
     * An iterator holds one value: two contexts waiting in its {@code hasNext()} at once would each be
     * handed a value, and the one handed first would be overwritten and lost. A second context is
     * refused while one waits there, naming both, and every value sent is received once.
     */
    @Test
    void aContextIteratingWithAnIteratorAnotherWaitsInIsRefusedAndNoValueIsLost() {
        Channel<Integer> ch = new Channel<>("jobs", 0);
        Iterator<Integer> shared = ch.iterator();
        Coroutine first = Coroutine.create("first", () -> {
            while (shared.hasNext()) {
                log.add("first took " + shared.next());
            }
        });
        Coroutine second = Coroutine.create("second", () -> log.add("second took " + shared.next()));
        first.switchTo();
        assertThatThrownBy(second::switchTo).isInstanceOf(CoroutineException.class)
                .cause().isInstanceOf(IllegalStateException.class)
                .hasMessage("coroutine 'second' cannot iterate over channel 'jobs' (open): this iterator is receiving"
                        + " already, in coroutine 'first' (state PARKED); an iterator receives for one context at a"
                        + " time, so give each context its own (each call of iterator() makes a new one)");
        assertThatThrownBy(shared::hasNext).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("main context 'main' cannot iterate over channel 'jobs' (open): this iterator"
                        + " is receiving already, in coroutine 'first' (state PARKED)");
        ch.send(1);
        ch.send(2);
        ch.close();
        Coroutine.yield();
        assertThat(log).containsExactly("first took 1", "first took 2");
        assertThat(first.isFinished()).isTrue();
    }

    /**
     * A channel's {@code spliterator()}, the source of a stream over it, receives through an iterator one value at
     * a time and never splits: a parallel stream receives every value once, in order, on the thread of its
     * terminal operation. Iterable's default split the iterator into batches, receiving values before the stream
     * took them and handing the rest of the iterator to a worker thread, which it refused.
     */
    @Test
    @Timeout(30)
    void itsSpliteratorIsOrderedNonNullAndNeverSplitsSoAParallelStreamReceivesEveryValueOnceInOrder() {
        Channel<Integer> ch = new Channel<>("jobs", 2);
        Coroutine producer = Coroutine.create("producer", () -> {
            for (int i = 1; i <= 3; i++) {
                ch.send(i);
            }
            ch.close();
        });
        Spliterator<Integer> values = ch.spliterator();
        assertThat(values.characteristics()).isEqualTo(Spliterator.ORDERED | Spliterator.NONNULL);
        assertThat(values.estimateSize()).as("unknown: as large as can be").isEqualTo(Long.MAX_VALUE);
        assertThat(values.trySplit()).isNull();
        assertThat(producer.state()).as("nothing was received: the producer has not run").isEqualTo(State.NEW);
        List<Integer> seen = new ArrayList<>();
        values.forEachRemaining(seen::add);
        assertThat(seen).containsExactly(1, 2, 3);
        assertThat(producer.isFinished()).isTrue();

        Channel<Integer> numbers = new Channel<>("numbers", 16);
        Coroutine.create("counter", () -> {
            for (int i = 0; i < 10_000; i++) {
                numbers.send(i);
            }
            numbers.close();
        });
        List<Integer> doubled = StreamSupport.stream(numbers.spliterator(), true).map(i -> i * 2).toList();
        assertThat(doubled).hasSize(10_000);
        for (int i = 0; i < doubled.size(); i++) {
            assertThat(doubled.get(i)).isEqualTo(2 * i);
        }
    }

    /** A null action given to a channel's spliterator is refused before it receives: no value is taken and lost. */
    @Test
    @Timeout(10)
    void itsSpliteratorRefusesANullActionBeforeReceivingAValue() {
        Channel<Integer> ch = new Channel<>("jobs", 2);
        ch.send(1);
        ch.send(2);
        ch.close();
        Spliterator<Integer> values = ch.spliterator();
        assertThatThrownBy(() -> values.tryAdvance(null)).isInstanceOf(NullPointerException.class).hasMessage("action");
        List<Integer> seen = new ArrayList<>();
        values.forEachRemaining(seen::add);
        assertThat(seen).containsExactly(1, 2);
    }

    /**
     * A context of another thread whose {@code hasNext()} is refused while a context of the channel's thread
     * waits in the iterator is named with its thread, as the iterator's thread is: the iterator is not
     * its thread's.
     */
    @Test
    @Timeout(30)
    void aContextOfAnotherThreadIteratingWithAnIteratorAnotherWaitsInIsRefusedNamingBothWithTheirThreads() {
        Channel<Integer> ch = new Channel<>("jobs", 0);
        Iterator<Integer> shared = ch.iterator();
        Coroutine first = Coroutine.create("first", () -> {
            while (shared.hasNext()) {
                log.add("first took " + shared.next());
            }
        });
        first.switchTo();
        String here = Scheduler.describe(Thread.currentThread());
        List<String> seen = Peer.call("peer", () -> {
            Coroutine.create("peer's", () -> { }).close(); // the peer's thread has a scheduler of its own
            String peer = Scheduler.describe(Thread.currentThread());
            String removed;
            try {
                shared.remove();
                removed = "no exception";
            } catch (UnsupportedOperationException e) {
                removed = e.getMessage();
            }
            try {
                shared.hasNext();
                return List.of(peer, "no exception", removed);
            } catch (IllegalStateException e) {
                return List.of(peer, e.getMessage(), removed);
            }
        });
        assertThat(seen.get(1)).isEqualTo("main context 'main' of thread " + seen.get(0) + " cannot iterate over channel 'jobs'"
                + " (open) through an iterator of thread " + here + ": an iterator belongs to the thread that called iterator();"
                + " call it on this thread for one of its own");
        assertThat(seen.get(2)).isEqualTo("main context 'main' of thread " + seen.get(0) + " cannot remove a value of channel 'jobs'"
                + " (open): its iterator receives each value, which leaves the channel as it is taken");
        ch.send(1);
        ch.close();
        Coroutine.yield();
        assertThat(log).containsExactly("first took 1");
        assertThat(first.isFinished()).isTrue();
    }

    @Test
    void receiveOnAClosedDrainedChannelAndSendOnAClosedChannelThrow() {
        Channel<Integer> ch = new Channel<>("numbers", 2);
        ch.send(1);
        ch.close();
        ch.close();
        assertThat(ch.isClosed()).isTrue();
        assertThatThrownBy(() -> ch.send(2)).isInstanceOf(ChannelClosedException.class)
                .hasMessage("main context 'main' cannot send to channel 'numbers' (closed): a closed channel takes no more values"
                        + ", and the value was not delivered");
        assertThat(ch.trySend(2)).as("a try call never throws for a closed channel").isFalse();
        assertThat(ch.receive()).as("buffered values outlive close").isEqualTo(1);
        assertThatThrownBy(ch::receive).isInstanceOf(ChannelClosedException.class)
                .hasMessage("main context 'main' cannot receive from channel 'numbers' (closed): no value is left in it, and none can come");
        assertThat(ch.tryReceive()).as("a try call never throws for a closed channel").isEmpty();
        assertThat(ch.iterator().hasNext()).isFalse();
        assertThatThrownBy(() -> ch.iterator().next()).isInstanceOf(java.util.NoSuchElementException.class)
                .hasMessage("main context 'main' cannot take the next value of channel 'numbers' (closed): no value is left in it, and none can come");
    }

    @Test
    @Timeout(10)
    void removeThroughAChannelsIteratorIsRefusedNamingTheCallerAndTheChannelAndTakesNothing() {
        Channel<Integer> ch = new Channel<>("numbers", 2);
        ch.send(1);
        ch.send(2);
        Iterator<Integer> it = ch.iterator();
        assertThat(it.next()).isEqualTo(1);
        assertThatThrownBy(it::remove).isInstanceOf(UnsupportedOperationException.class)
                .hasMessage("main context 'main' cannot remove a value of channel 'numbers' (open): its iterator receives"
                        + " each value, which leaves the channel as it is taken");
        assertThat(it.next()).as("nothing was taken").isEqualTo(2);
    }

    @Test
    void aChannelClosedWithACauseGivesItToEveryRefusalAndALoopOverItThrowsInsteadOfEnding() {
        IllegalStateException failure = new IllegalStateException("producer failed");
        Channel<Integer> idle = new Channel<>("idle", 0);
        Coroutine waiter = Coroutine.create("waiter", () -> {
            try {
                idle.receive();
            } catch (ChannelClosedException e) {
                log.add(e.getMessage() + " / cause " + e.getCause().getMessage());
            }
        });
        Coroutine.yield();
        assertThat(waiter.state()).isEqualTo(State.PARKED);
        idle.close(failure); // wakes the parked receiver, whose refusal carries the cause
        Coroutine.yield();
        assertThat(log).containsExactly("coroutine 'waiter' cannot receive from channel 'idle' (closed): no value is left in it,"
                + " and none can come / cause producer failed");

        Channel<Integer> numbers = new Channel<>("numbers", 2);
        numbers.send(1);
        numbers.send(2);
        numbers.close(failure);
        numbers.close(new IllegalStateException("a second close")); // only the first close counts
        numbers.close();
        assertThat(numbers.closeCause()).containsSame(failure);
        List<Integer> seen = new ArrayList<>();
        ChannelClosedException ended = catchThrowableOfType(ChannelClosedException.class, () -> {
            for (int v : numbers) {
                seen.add(v);
            }
        });
        assertThat(seen).as("the buffered values come first").containsExactly(1, 2);
        assertThat(ended).hasMessage("main context 'main' cannot iterate over channel 'numbers' (closed): no value is left in it,"
                + " and none can come").hasCause(failure);
        assertThat(ended.channel()).isSameAs(numbers);
        assertThatThrownBy(numbers::receive).isInstanceOf(ChannelClosedException.class).hasCause(failure);
        assertThatThrownBy(() -> numbers.send(3)).isInstanceOf(ChannelClosedException.class).hasCause(failure);
        assertThatThrownBy(() -> new Select<String>().onReceive(numbers, v -> "value").select())
                .isInstanceOf(ChannelClosedException.class).hasCause(failure);
        assertThatThrownBy(() -> StreamSupport.stream(numbers.spliterator(), false).toList())
                .isInstanceOf(ChannelClosedException.class).hasCause(failure);
        assertThat(numbers.tryReceive()).isEmpty(); // the try operations still never throw
        assertThat(numbers.trySend(4)).isFalse();
        assertThatThrownBy(() -> numbers.close(null)).isInstanceOf(NullPointerException.class).hasMessage("cause");

        Channel<Integer> plain = new Channel<>("plain", 1);
        plain.send(1);
        plain.close();
        assertThat(plain.closeCause()).isEmpty();
        List<Integer> all = new ArrayList<>();
        for (int v : plain) {
            all.add(v);
        }
        assertThat(all).as("a plain close ends a loop as the end of the values").containsExactly(1);
        assertThat(catchThrowableOfType(ChannelClosedException.class, plain::receive).getCause()).isNull();
        assertThat(new Channel<Integer>("open", 0).closeCause()).isEmpty();
    }

    @Test
    void closeWakesParkedReceiversAndSendersWithChannelClosedException() {
        Channel<Integer> in = new Channel<>("in", 0);
        Channel<Integer> out = new Channel<>("out", 0);
        Coroutine receiver = Coroutine.create("receiver", () -> {
            try {
                in.receive();
            } catch (ChannelClosedException e) {
                log.add(e.getMessage());
            }
        });
        Coroutine sender = Coroutine.create("sender", () -> {
            try {
                out.send(7);
            } catch (ChannelClosedException e) {
                log.add(e.getMessage());
            }
        });
        Coroutine.yield();
        assertThat(receiver.state()).isEqualTo(State.PARKED);
        assertThat(sender.state()).isEqualTo(State.PARKED);
        in.close();
        out.close();
        Coroutine.yield();
        Coroutine.yield();
        assertThat(log).containsExactly(
                "coroutine 'sender' cannot send to channel 'out' (closed): the channel was closed while it waited,"
                        + " and the value was not delivered",
                "coroutine 'receiver' cannot receive from channel 'in' (closed): no value is left in it, and none can come");
        assertThat(receiver.isFinished() && sender.isFinished()).isTrue();
    }

    @Test
    void nullIsNotAValueAndANegativeCapacityIsRefused() {
        Channel<String> ch = new Channel<>("ch", 1);
        assertThatThrownBy(() -> ch.send(null)).isInstanceOf(NullPointerException.class).hasMessage("value");
        assertThatThrownBy(() -> ch.trySend(null)).isInstanceOf(NullPointerException.class).hasMessage("value");
        assertThatThrownBy(() -> ch.trySend(null, Duration.ofSeconds(1))).isInstanceOf(NullPointerException.class).hasMessage("value");
        assertThat(ch.size()).as("no refused null took the buffer's room").isZero();
        assertThatThrownBy(() -> new Channel<String>("bad", -1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("main context 'main' cannot create channel 'bad' with capacity -1: the capacity must be 0 (rendezvous) or more");
        assertThat(new Channel<String>(3)).as("a failed creation takes no number").hasToString("Channel[channel-2, capacity 3, 0 buffered, open]");
    }

    @Test
    void everyOperationFromAnotherThreadRunsOnTheChannelsThreadWhileItWaits() {
        Channel<Integer> ch = new Channel<>("ch", 2);
        ch.send(1);
        CompletableFuture<List<String>> other = new CompletableFuture<>();
        Thread.ofPlatform().name("other").start(() -> {
            try {
                List<String> seen = new ArrayList<>();
                seen.add("trySend " + ch.trySend(2));
                seen.add("trySend when full " + ch.trySend(9));
                seen.add("receive " + ch.receive());
                seen.add("tryReceive " + ch.tryReceive().orElseThrow());
                seen.add("tryReceive when empty " + ch.tryReceive().isPresent());
                ch.send(3);
                ch.close();
                seen.add("closed " + ch.isClosed());
                Iterator<Integer> it = ch.iterator();
                seen.add("iterates " + it.next() + ", then " + it.hasNext());
                other.complete(seen);
            } catch (Throwable t) {
                other.completeExceptionally(t);
            }
        });
        assertThat(Coroutine.await(other)).as("the channel's thread serves them while it waits for the future")
                .containsExactly("trySend true", "trySend when full false", "receive 1", "tryReceive 2",
                        "tryReceive when empty false", "closed true", "iterates 3, then false");
        assertThat(ch.toString()).isEqualTo("Channel[ch, capacity 2, 0 buffered, closed]");
    }

    @Test
    void anOperationThatNeedsNoWaitAllocatesNothing() {
        Channel<Integer> ch = new Channel<>("ch", 4);
        Integer one = 1;
        Duration second = Duration.ofSeconds(1);
        long[] sum = new long[1];
        Runnable plain = () -> {
            for (int i = 0; i < 1000; i++) {
                ch.trySend(one);
                sum[0] += ch.receive();
            }
        };
        Runnable timed = () -> {
            for (int i = 0; i < 1000; i++) {
                sum[0] += ch.trySend(one, second) ? 1 : 0;
                sum[0] += ch.receive();
            }
        };
        assertThat(leastAllocatedBy(plain)).as("bytes allocated by 1,000 trySend + receive through a buffer (the thread"
                + " check builds no message unless it fails)").isZero();
        assertThat(leastAllocatedBy(timed)).as("bytes allocated by 1,000 trySend(v, 1 s) that need no wait + receive"
                + " (nor does the timeout check, unless the timeout is negative)").isZero();
        assertThat(sum[0]).as("each ran 4 times: every value went through, every timed send succeeded").isEqualTo(4 * 1000 + 4 * 2000);
    }

    @Test
    void aContextKeepsOneWaiterForAllItsWaitsAndEachNamesTheWaitItIsIn() {
        List<Object> waiters = new ArrayList<>();
        List<String> seen = new ArrayList<>();
        Channel<Integer> a = new Channel<>("a", 0);
        Channel<Integer> b = new Channel<>("b", 0);
        VirtualTime.run(() -> {
            Coroutine c = Coroutine.create("c", () -> {
                a.send(1);
                seen.add("got " + b.receive());
                seen.add("timed out: " + b.tryReceive(Duration.ofSeconds(1)).isEmpty());
                seen.add("got " + a.receive());
            });
            Runnable look = () -> {
                waiters.add(c.context.channelWaiter);
                seen.add(c.context.waitingFor.toString());
            };
            c.switchTo(); // c parks in a.send(1)
            look.run();
            seen.add("main got " + a.receive());
            Coroutine.yield(); // c parks in b.receive()
            look.run();
            b.send(2);
            Coroutine.yield(); // c parks in b.tryReceive(1 s)
            look.run();
            Coroutine.sleep(Duration.ofSeconds(2)); // its timeout passes; c parks in a.receive()
            look.run();
            assertThat(b.trySend(9)).as("the timed-out wait left b's queue, though its waiter now waits on a").isFalse();
            a.send(3);
        });
        assertThat(seen).containsExactly("send to channel 'a'", "main got 1", "receive from channel 'b'", "got 2",
                "tryReceive from channel 'b'", "timed out: true", "receive from channel 'a'", "got 3");
        assertThat(waiters).as("one waiter, used again for each wait").hasSize(4)
                .allSatisfy(w -> assertThat(w).isNotNull().isSameAs(waiters.get(0)));
    }

    /**
     * The fewest bytes the calling thread allocated in one of 3 runs of {@code r}, after one run to
     * warm up: a one-off allocation of the runtime (a class loaded, a method compiled) does not count,
     * one in every run does.
     */
    private static long leastAllocatedBy(Runnable r) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        r.run();
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            long before = threads.getCurrentThreadAllocatedBytes();
            r.run();
            least = Math.min(least, threads.getCurrentThreadAllocatedBytes() - before);
        }
        return least;
    }

    @Test
    void aNegativeTimeoutIsRefusedNamingTheCallerItsStateTheOperationAndTheChannel() {
        Channel<Integer> ch = new Channel<>("ch", 1);
        Duration negative = Duration.ofMillis(-1);
        List<String> messages = new ArrayList<>();
        Coroutine c = Coroutine.create("timed", () -> {
            for (Runnable call : List.<Runnable>of(() -> ch.tryReceive(negative), () -> ch.trySend(1, negative))) {
                try {
                    call.run();
                } catch (IllegalArgumentException e) {
                    messages.add(e.getMessage());
                }
            }
        });
        c.switchTo();
        assertThat(messages).containsExactly(
                "coroutine 'timed' (state RUNNING) cannot tryReceive from channel 'ch' (open) with timeout PT-0.001S: a timeout must be zero or positive",
                "coroutine 'timed' (state RUNNING) cannot trySend to channel 'ch' (open) with timeout PT-0.001S: a timeout must be zero or positive");
        assertThat(ch.tryReceive()).as("the refused send delivered nothing").isEmpty();
        assertThatThrownBy(() -> ch.tryReceive(null)).isInstanceOf(NullPointerException.class).hasMessage("timeout");
    }

    @Test
    void aChannelWhoseThreadHasEndedIsRefusedNamingTheThread() throws InterruptedException {
        AtomicReference<Channel<Integer>> orphan = new AtomicReference<>();
        Thread maker = Thread.ofPlatform().name("maker").start(() -> orphan.set(new Channel<>("orphan", 1)));
        maker.join();
        assertThatThrownBy(() -> orphan.get().trySend(1)).isInstanceOf(IllegalStateException.class)
                .hasMessage("thread " + Scheduler.describe(Thread.currentThread()) + " cannot trySend to" // no scheduler: none made
                        + " channel 'orphan' (open): it belongs to thread " + Scheduler.describe(maker) + ", which has ended");
        assertThat(Scheduler.currentOrNull()).as("the refusal made the thread no scheduler").isNull();
    }

    @Test
    @Timeout(10)
    void anIteratorWhoseThreadHasEndedIsRefusedSayingSoAsTheChannelIs() throws InterruptedException {
        AtomicReference<Channel<Integer>> orphan = new AtomicReference<>();
        AtomicReference<Iterator<Integer>> left = new AtomicReference<>();
        Thread maker = Thread.ofPlatform().name("maker").start(() -> {
            Channel<Integer> ch = new Channel<>("orphan", 1);
            ch.send(7);
            orphan.set(ch);
            left.set(ch.iterator());
        });
        maker.join();
        String caller = "thread " + Scheduler.describe(Thread.currentThread()); // it has no scheduler, and no refusal makes one
        String ended = "it belongs to thread " + Scheduler.describe(maker) + ", which has ended";
        assertThatThrownBy(() -> orphan.get().trySend(1)).isInstanceOf(IllegalStateException.class)
                .hasMessage(caller + " cannot trySend to channel 'orphan' (open): " + ended);
        assertThatThrownBy(() -> left.get().hasNext()).isInstanceOf(IllegalStateException.class)
                .hasMessage(caller + " cannot iterate over channel 'orphan' (open) through an iterator of thread "
                        + Scheduler.describe(maker) + ", which has ended: an iterator belongs to the thread that called"
                        + " iterator(); call it on this thread for one of its own");
        assertThatThrownBy(() -> left.get().next()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(" through an iterator of thread " + Scheduler.describe(maker) + ", which has ended: ");
        Iterator<Integer> own = orphan.get().iterator();
        assertThat(own.next()).as("the value left behind, through an iterator of this thread").isEqualTo(7);
        assertThatThrownBy(own::hasNext).isInstanceOf(IllegalStateException.class) // iterator() made it a scheduler
                .hasMessage("main context 'main' of " + caller + " cannot iterate over channel 'orphan' (open): " + ended);
    }

    @Test
    void aChannelTellsItsNameAndCapacity() {
        Channel<String> named = new Channel<>("jobs", 4);
        Channel<String> unnamed = new Channel<>(0);
        assertThat(named.name()).isEqualTo("jobs");
        assertThat(named.capacity()).isEqualTo(4);
        assertThat(unnamed.name()).isEqualTo("channel-2");
        assertThat(unnamed.capacity()).isZero();
        assertThat(named.isClosed()).isFalse();
        named.close();
        assertThat(named.isClosed()).isTrue();
    }

    @Test
    void aCoroutineBeingClosedThatWaitsOnAChannelInItsFinallyGetsTheExitSignalInsteadOfParking() {
        Channel<String> ch = new Channel<>("late", 0);
        Coroutine c = Coroutine.create("cleaner", () -> {
            try {
                Coroutine.yield();
            } finally {
                try {
                    log.add("received " + ch.receive());
                } catch (CoroutineExit e) {
                    log.add(e.getMessage());
                }
            }
        });
        c.switchTo();
        c.close();
        assertThat(log).containsExactly("coroutine 'cleaner' is being closed: its receive from channel 'late'"
                + " throws this signal so that it unwinds (state RUNNING, closing)");
        assertThat(c.state()).isEqualTo(State.CLOSED);
        assertThat(ch.trySend("nobody waits")).isFalse();
    }

    @Test
    void aThousandProducersAndOneConsumerDeliverEveryValueExactlyOnce() {
        int producers = 1000;
        Channel<Integer> ch = new Channel<>("values", 3);
        int[] running = {producers};
        for (int p = 0; p < producers; p++) {
            int base = p * 3;
            Coroutine.create("producer-" + p, () -> {
                for (int k = 0; k < 3; k++) {
                    ch.send(base + k);
                }
                if (--running[0] == 0) {
                    ch.close();
                }
            });
        }
        BitSet seen = new BitSet();
        int received = 0;
        for (int v : ch) {
            assertThat(seen.get(v)).as("value %d received twice", v).isFalse();
            seen.set(v);
            received++;
        }
        assertThat(received).isEqualTo(3 * producers);
        assertThat(seen.cardinality()).isEqualTo(3 * producers);
        assertThat(Coroutine.currentId()).isZero();
        assertThat(Coroutine.dump()).as("every producer has ended and left the run list")
                .startsWith("thread 'test-aThousandProducersAndOneConsumerDeliverEveryValueExactlyOnce': 1 context,"
                        + " current index 0\n  [0] main: RUNNING (the caller)\n        at dev.coro.Coroutine.dump(");
    }

    @Test
    void aDeadlockAmongThreeCoroutinesIsReportedNotHung() {
        Channel<String> ab = new Channel<>("ab", 0);
        Channel<String> bc = new Channel<>("bc", 0);
        Channel<String> ca = new Channel<>("ca", 0);
        Channel<String> done = new Channel<>("done", 0);
        Coroutine a = Coroutine.create("a", () -> bc.send(ab.receive()));
        Coroutine b = Coroutine.create("b", () -> ca.send(bc.receive()));
        Coroutine c = Coroutine.create("c", () -> ab.send(ca.receive()));

        assertThatThrownBy(done::receive).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'a' failed: dev.coro.DeadlockException: coroutine 'a' cannot receive from"
                        + " channel 'ab': every other context of thread 'test-aDeadlockAmongThreeCoroutinesIsReportedNotHung'"
                        + " (#" + Thread.currentThread().threadId() + ") is parked and no timer is pending, so nothing could ever wake it (deadlock):\n"
                        + "  main context 'main' waits to receive from channel 'done'\n"
                        + "  coroutine 'a' would wait to receive from channel 'ab'\n"
                        + "  coroutine 'b' waits to receive from channel 'bc'\n"
                        + "  coroutine 'c' waits to receive from channel 'ca'")
                .cause().isInstanceOf(DeadlockException.class);
        assertThat(a.state()).isEqualTo(State.FAILED);
        assertThat(b.state()).isEqualTo(State.PARKED);
        assertThat(c.state()).isEqualTo(State.PARKED);
        b.close();
        c.close();
        assertThat(Coroutine.currentId()).isZero();
    }

    @Test
    void mainWaitingWithNothingElseToRunIsADeadlock() {
        Channel<Integer> ch = new Channel<>("empty", 0);
        assertThatThrownBy(ch::receive).isInstanceOf(DeadlockException.class)
                .hasMessage("main context 'main' cannot receive from channel 'empty': every other context of thread "
                        + ThreadNames.thread() + " is parked and no timer is pending, so nothing could ever wake it"
                        + " (deadlock):\n  main context 'main' would wait to receive from channel 'empty'");
        assertThat(Coroutine.current().state()).isEqualTo(State.RUNNING);
    }

    @Test
    void aBodyEndingWithEveryoneElseParkedCancelsMainsWait() {
        Channel<Integer> never = new Channel<>("never", 0);
        Channel<Integer> done = new Channel<>("done", 0);
        Coroutine.create("quitter", () -> log.add("quitter ran"));
        Coroutine.create("stuck", () -> never.receive());
        assertThatThrownBy(done::receive).isInstanceOf(DeadlockException.class)
                .hasMessage("coroutine 'quitter' ended and every context left on thread " + ThreadNames.thread()
                        + " is parked with no timer pending, so nothing could ever wake them; main's wait is cancelled"
                        + " (deadlock):\n  main context 'main' waits to receive from channel 'done'\n"
                        + "  coroutine 'stuck' waits to receive from channel 'never'");
        assertThat(log).containsExactly("quitter ran");
        assertThat(done.trySend(1)).as("main left the channel's queue").isFalse();
    }

    @Test
    @Timeout(20)
    void theDeadlockThatCancelsMainsWaitAsABodyEndsShowsMainsCallInItsStackTraceOnEveryEngine() {
        Channel<Integer> never = new Channel<>("never", 0);
        Channel<Integer> done = new Channel<>("done", 0);
        Coroutine.create("quitter", () -> log.add("quitter ran"));
        Coroutine.create("stuck", () -> never.receive());
        DeadlockException e = catchThrowableOfType(DeadlockException.class, done::receive);
        assertThat(e.getStackTrace()).as("the deadlock's trace, made as 'quitter' ended")
                .anySatisfy(f -> assertThat(f.getClassName() + "." + f.getMethodName())
                        .isEqualTo("dev.coro.Channel.receive"))
                .anySatisfy(f -> assertThat(f.getMethodName())
                        .isEqualTo("theDeadlockThatCancelsMainsWaitAsABodyEndsShowsMainsCallInItsStackTraceOnEveryEngine"))
                .noneSatisfy(f -> assertThat(f.getClassName()).isIn("dev.coro.ThreadEngine$ThreadStack",
                        "dev.coro.ContinuationEngine$CoroutineStack"));
    }

    @Test
    void yieldSkipsParkedCoroutines() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine first = Coroutine.create("first", () -> {
            for (int i = 0; i < 3; i++) {
                log.add("first");
                Coroutine.yield();
            }
        });
        Coroutine waiter = Coroutine.create("waiter", () -> log.add("waiter got " + ch.receive()));
        Coroutine last = Coroutine.create("last", () -> {
            for (int i = 0; i < 3; i++) {
                log.add("last");
                Coroutine.yield();
            }
        });
        Coroutine.yield();
        log.add("main");
        Coroutine.yield();
        log.add("main");
        ch.send(42);
        Coroutine.yield();
        log.add("main");
        assertThat(log).containsExactly(
                "last", "first", "main",               // waiter parked on the first round, skipped
                "last", "first", "main",               // 3 -> 2 (parked, skipped) -> 1 -> 0
                "last", "waiter got 42", "first", "main");
        assertThat(waiter.isFinished()).isTrue();
        first.close();
        last.close();
    }

    /**
     * Main whose receive cannot complete is {@code PARKED} like any context, and skipped while it
     * waits: a coroutine's {@code yield()} passes over it, and a coroutine that parks runs the previous
     * entry that is not parked, past a parked one. The send that wakes main makes it {@code SUSPENDED}
     * and the sender runs on.
     */
    @Test
    void mainParkedInAReceiveIsParkedAndSkippedAndAParkRunsThePreviousEntryNotParked() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Channel<Integer> never = new Channel<>("never", 0);
        Coroutine main = Coroutine.current();
        Coroutine a = Coroutine.create("a", () -> {
            log.add("a, main " + main.state());
            Coroutine.yield();
            log.add("a sends");
            ch.send(1);
            log.add("a sent, main " + main.state());
        });
        Coroutine b = Coroutine.create("b", () -> {
            log.add("b parks");
            never.receive();
        });
        Coroutine c = Coroutine.create("c", () -> {
            log.add("c, main " + main.state());
            Coroutine.yield();
            log.add("c parks");
            never.receive();
        });
        log.add("main got " + ch.receive());
        assertThat(log).containsExactly(
                "c, main PARKED",          // main (0) parks: the previous entry, wrapping, is c (3)
                "b parks",                 // c yields to b (2), which parks: a (1) runs
                "a, main PARKED",          // a yields: main is parked and skipped, wrapping to c (3)
                "c parks",                 // c parks: b (2) is parked and skipped, so a (1) runs
                "a sends", "a sent, main SUSPENDED", // woken, not run: a runs on to its end
                "main got 1");
        assertThat(a.state()).isEqualTo(State.FINISHED);
        assertThat(b.state()).isEqualTo(State.PARKED);
        assertThat(c.state()).isEqualTo(State.PARKED);
        b.close();
        c.close();
    }

    @Test
    void theEndOfABodySkipsAParkedPreviousEntry() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine.create("other", () -> {
            log.add("other runs");
            Coroutine.yield();
            log.add("other again");
        });
        Coroutine.create("waiter", () -> log.add("waiter got " + ch.receive()));
        Coroutine.create("ender", () -> {
            log.add("ender runs");
            Coroutine.yield();
            log.add("ender ends");
        });
        Coroutine.yield();
        log.add("main");
        Coroutine.yield();
        log.add("main");
        ch.send(7);
        Coroutine.yield();
        log.add("main");
        assertThat(log).containsExactly(
                "ender runs", "other runs", "main",      // 3 -> 2 parks -> 1 -> 0
                "ender ends", "other again", "main",     // ender (3) ends: 2 is parked, so 1 runs
                "waiter got 7", "main");
    }

    /**
     * A body that returns at index {@code i} is swap-removed (the last entry moves into its place) and
     * the first entry not parked from {@code i - 1} backwards runs, wrapping past main to the last entry: with main
     * and everything below {@code i} parked, the last entry runs before the one moved into {@code i},
     * which comes last of all.
     */
    @Test
    void theEndOfABodyWithEveryEntryBelowItParkedWrapsToTheLastAndReachesTheOneMovedIntoItsPlaceLast() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Channel<Integer> never = new Channel<>("never", 0);
        Coroutine a = Coroutine.create("a", () -> log.add("a ends"));
        Coroutine b = Coroutine.create("b", () -> {
            log.add("b yields");
            Coroutine.yield();
            log.add("b parks");
            never.receive();
        });
        Coroutine c = Coroutine.create("c", () -> {
            log.add("c parks");
            never.receive();
        });
        Coroutine d = Coroutine.create("d", () -> {
            log.add("d yields");
            Coroutine.yield();
            log.add("d sends");
            ch.send(1);
            log.add("d ends");
        });
        log.add("main got " + ch.receive());
        assertThat(log).containsExactly(
                "d yields",    // main (0) parks: wrapping to d (4)
                "c parks",     // d yields to c (3), which parks: b (2) runs
                "b yields",    // b yields to a (1)
                "a ends",      // a (1) ends, d moves into 1: main is parked, so from 4 down: c parked, b (2) runs
                "b parks",     // b parks: d, now at 1, runs
                "d sends", "d ends", // main woken, d runs on and ends: main (0) runs
                "main got 1");
        assertThat(a.state()).isEqualTo(State.FINISHED);
        assertThat(d.state()).isEqualTo(State.FINISHED);
        b.close();
        c.close();
        log.clear();

        Coroutine e = Coroutine.create("e", () -> log.add("e ends"));
        Coroutine f = Coroutine.create("f", () -> {
            log.add("f parks");
            never.receive();
        });
        Coroutine g = Coroutine.create("g", () -> {
            log.add("g yields");
            Coroutine.yield();
            log.add("g sends");
            ch.send(2);
        });
        log.add("main got " + ch.receive());
        assertThat(log).containsExactly(
                "g yields",    // main (0) parks: wrapping to g (3)
                "f parks",     // g yields to f (2), which parks: e (1) runs
                "e ends",      // e (1) ends, g moves into 1: main and f (2) parked, g reached last of all
                "g sends",
                "main got 2");
        assertThat(e.state()).isEqualTo(State.FINISHED);
        f.close();
    }

    @Test
    void switchToAParkedCoroutineIsRefused() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine waiter = Coroutine.create("waiter", () -> ch.receive());
        Coroutine.yield();
        assertThatThrownBy(waiter::switchTo).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot switchTo coroutine 'waiter' (PARKED): it waits to receive"
                        + " from channel 'ch'; only what it waits for can wake it");
        waiter.close();
    }

    /** Main parked in a channel operation is refused to a coroutine's {@code switchTo()} as a parked coroutine is. */
    @Test
    void switchToAParkedMainIsRefusedAsToAParkedCoroutine() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine main = Coroutine.current();
        Coroutine.create("c", () -> {
            assertThatThrownBy(main::switchTo).isInstanceOf(IllegalStateException.class)
                    .hasMessage("coroutine 'c' cannot switchTo main context 'main' (PARKED): it waits to receive"
                            + " from channel 'ch'; only what it waits for can wake it");
            log.add("refused, main " + main.state());
            ch.send(1);
        });
        log.add("main got " + ch.receive());
        assertThat(log).containsExactly("refused, main PARKED", "main got 1");
    }

    @Test
    void closingAParkedCoroutineUnwindsItAndTakesItOffTheChannel() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine waiter = Coroutine.create("waiter", () -> {
            try {
                ch.receive();
            } finally {
                log.add("finally in " + Coroutine.current().state());
            }
        });
        Coroutine.yield();
        waiter.close();
        assertThat(log).containsExactly("finally in RUNNING");
        assertThat(waiter.state()).isEqualTo(State.CLOSED);
        assertThat(ch.trySend(1)).as("no receiver is left").isFalse();
    }

    @Test
    void theFailureOfACoroutineWhoseCreatorIsParkedGoesToMain() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine[] child = new Coroutine[1];
        Coroutine parent = Coroutine.create("parent", () -> {
            child[0] = Coroutine.create("child", () -> {
                throw new IllegalArgumentException("bad child");
            });
            ch.receive();
        });
        parent.switchTo();
        assertThat(parent.state()).as("parked; its child ran and failed while it waited").isEqualTo(State.PARKED);
        assertThatThrownBy(Coroutine::yield).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'child' failed: java.lang.IllegalArgumentException: bad child");
        assertThatThrownBy(child[0]::switchTo).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot switchTo coroutine 'child' (FAILED): it has ended, its body having"
                        + " thrown; its failure was delivered to main context 'main', its creator coroutine 'parent'"
                        + " being parked");
        parent.close();
    }

    @Test
    void aFailureForAParkedMainCancelsItsWait() {
        Channel<Integer> done = new Channel<>("done", 0);
        Channel<Integer> never = new Channel<>("never", 0);
        Coroutine parent = Coroutine.create("parent", () -> {
            Coroutine.create("child", () -> {
                throw new IllegalArgumentException("bad child");
            });
            never.receive();
        });
        assertThatThrownBy(done::receive).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'child' failed: java.lang.IllegalArgumentException: bad child");
        assertThat(done.trySend(1)).as("main left the channel's queue").isFalse();
        assertThat(parent.state()).isEqualTo(State.PARKED);
        parent.close();
    }

    @Test
    void aReceiverHandedAValueWhoseWaitIsCancelledPutsTheValueBack() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine.create("failer", () -> {
            throw new IllegalStateException("late failure");
        });
        Coroutine.create("sender", () -> {
            ch.send(5);
            log.add("sent to the parked main");
        });
        assertThatThrownBy(ch::receive).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'failer' failed: java.lang.IllegalStateException: late failure");
        assertThat(log).containsExactly("sent to the parked main");
        assertThat(ch.tryReceive()).as("nothing is lost").isEqualTo(Optional.of(5));
    }

    /**
     * CHANNELS.md: values given back by receivers whose waits were cancelled come out in the order
     * they were sent, before the values buffered after them, whatever order the receivers leave in.
     */
    @Test
    void valuesGivenBackByCancelledReceiversComeOutInTheOrderTheyWereSentBeforeTheBufferedOnes() {
        Channel<String> ch = new Channel<>("ch", 2);
        List<Coroutine> receivers = new ArrayList<>();
        for (String name : List.of("r1", "r2", "r3")) {
            Coroutine r = Coroutine.create(name, () -> log.add(name + " got " + ch.receive()));
            r.switchTo();
            receivers.add(r);
        }
        for (String v : List.of("a", "b", "c", "d", "e")) {
            assertThat(ch.trySend(v)).as("send %s", v).isTrue();
        }
        receivers.get(1).close(); // gives back b
        receivers.get(2).close(); // gives back c
        receivers.get(0).close(); // gives back a
        assertThat(log).as("no receiver ran").isEmpty();
        List<String> out = new ArrayList<>();
        for (Optional<String> v; (v = ch.tryReceive()).isPresent(); ) {
            out.add(v.get());
        }
        assertThat(out).as("the order of the sends").containsExactly("a", "b", "c", "d", "e");
    }

    /** The same for a select's receive clause handed a value, given back before a plain receiver's. */
    @Test
    void aValueASelectGaveBackComesOutBeforeOneSentAfterItThatAPlainReceiverGaveBackLater() {
        Channel<String> ch = new Channel<>("ch", 0);
        Coroutine selecting = Coroutine.create("selecting", () -> log.add(new Select<String>()
                .onReceive(ch, v -> "select got " + v).select()));
        Coroutine receiving = Coroutine.create("receiving", () -> log.add("receive got " + ch.receive()));
        selecting.switchTo();
        receiving.switchTo();
        assertThat(ch.trySend("a")).as("handed to the select").isTrue();
        assertThat(ch.trySend("b")).as("handed to the receive").isTrue();
        selecting.close();
        receiving.close();
        assertThat(log).as("neither ran").isEmpty();
        assertThat(List.of(ch.tryReceive(), ch.tryReceive(), ch.tryReceive()))
                .containsExactly(Optional.of("a"), Optional.of("b"), Optional.empty());
    }

    /**
     * CHANNELS.md: a receiver handed a value whose wait is cancelled before it runs passes the value
     * to the longest-waiting receiver still parked, not back into the buffer (where it would lie
     * beside a parked receiver that nothing wakes), nor to a later one.
     */
    @Test
    void aValueHandedToAReceiverClosedBeforeItRunsGoesToTheLongestWaitingReceiverLeft() {
        Channel<String> ch = new Channel<>("ch", 0);
        Coroutine first = Coroutine.create("first", () -> log.add("first got " + ch.receive()));
        Coroutine second = Coroutine.create("second", () -> log.add("second got " + ch.receive()));
        Coroutine third = Coroutine.create("third", () -> log.add("third got " + ch.receive()));
        first.switchTo();
        second.switchTo();
        third.switchTo();
        assertThat(ch.trySend("v")).as("handed to the first, the longest-waiting").isTrue();
        assertThat(first.state()).isEqualTo(State.SUSPENDED);
        first.close();
        assertThat(second.state()).as("the value went on to the next receiver, woken").isEqualTo(State.SUSPENDED);
        assertThat(third.state()).isEqualTo(State.PARKED);
        assertThat(ch.trySend("w")).as("the third still waits, and takes the next value").isTrue();
        while (!second.isFinished() || !third.isFinished()) {
            Coroutine.yield();
        }
        assertThat(log).containsExactlyInAnyOrder("second got v", "third got w");
        assertThat(ch.tryReceive()).as("nothing was put back into the channel").isEmpty();
    }

    /**
     * A receiver handed a value, the channel closed and found closed and drained by everyone else,
     * then the receiver closed before it ran: the value may not go back into a channel everyone was
     * told is drained, so the receiver keeps it, and the close's signal comes at its next
     * scheduling point.
     */
    @Test
    void aReceiverHandedAValueBeforeTheChannelClosedKeepsItWhenItsCoroutineIsClosedBeforeItRuns() {
        for (int capacity = 0; capacity <= 1; capacity++) {
            log.clear();
            Channel<Integer> ch = new Channel<>("ch", capacity);
            Coroutine receiver = Coroutine.create("receiver", () -> {
                try {
                    log.add("receiver got " + ch.receive());
                    Coroutine.yield();
                    log.add("not reached: the signal comes at the yield");
                } finally {
                    log.add("receiver unwound");
                }
            });
            Coroutine.yield(); // the receiver parks
            assertThat(ch.trySend(7)).as("handed to the parked receiver").isTrue();
            ch.close();
            assertThatThrownBy(ch::receive).isInstanceOf(ChannelClosedException.class)
                    .hasMessage("main context 'main' cannot receive from channel 'ch' (closed): no value is left in it, and none can come");
            assertThat(ch.tryReceive()).as("closed and drained").isEmpty();
            assertThat(ch.iterator().hasNext()).as("closed and drained").isFalse();
            receiver.close();
            assertThat(log).as("capacity " + capacity).containsExactly("receiver got 7", "receiver unwound");
            assertThat(receiver.state()).isEqualTo(State.CLOSED);
            assertThat(ch.tryReceive()).as("nothing lies in the channel everyone was told is drained").isEmpty();
        }
    }

    /**
     * As above with a failure for the receiver (its creator) instead of a close: its receive returns
     * the value it was handed, and the failure is thrown at its next scheduling point; a body that
     * ends before one fails with it.
     */
    @Test
    void aReceiverHandedAValueBeforeTheChannelClosedKeepsItWhenAFailureReachesItBeforeItRuns() {
        for (boolean yieldsAfter : new boolean[] {true, false}) {
            log.clear();
            Channel<Integer> ch = new Channel<>("ch", 0);
            Coroutine.create("receiver", () -> {
                Coroutine.create("failer", () -> {
                    throw new IllegalStateException("late failure");
                });
                try {
                    log.add("receiver got " + ch.receive());
                    if (yieldsAfter) {
                        Coroutine.yield();
                        log.add("not reached: the failure comes at the yield");
                    }
                } catch (CoroutineException e) {
                    log.add("receiver caught " + e.getMessage());
                }
            });
            Coroutine.yield(); // the receiver creates the failer and parks
            assertThat(ch.trySend(7)).as("handed to the parked receiver").isTrue();
            ch.close();
            assertThat(ch.tryReceive()).as("closed and drained").isEmpty();
            if (yieldsAfter) {
                Coroutine.yield(); // the failer runs and fails: its failure goes to the receiver, which has not run
                assertThat(log).containsExactly("receiver got 7",
                        "receiver caught coroutine 'failer' failed: java.lang.IllegalStateException: late failure");
            } else {
                assertThatThrownBy(Coroutine::yield).as("the receiver's body ended first: it fails with the failure")
                        .isInstanceOf(CoroutineException.class)
                        .hasMessage("coroutine 'receiver' failed: dev.coro.CoroutineException: coroutine 'failer' failed:"
                                + " java.lang.IllegalStateException: late failure");
                assertThat(log).containsExactly("receiver got 7");
            }
            assertThat(ch.tryReceive()).as("nothing lies in the channel everyone was told is drained").isEmpty();
        }
    }

    /**
     * Main's receive, handed a value before the channel closed, keeps it when a failure reaches main
     * before it runs; the failure comes at main's next scheduling point, and if none comes before
     * {@code VirtualTime.run} returns, that call throws it: it is not lost either.
     */
    @Test
    void aFailureKeptForMainsNextSchedulingPointIsThrownByVirtualTimeRunWhenNoneComes() {
        List<Integer> got = new ArrayList<>();
        assertThatThrownBy(() -> VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("ch", 0);
            Coroutine.create("sender", () -> {
                ch.send(7); // to main, parked in its receive
                ch.close();
                throw new IllegalStateException("late failure");
            });
            got.add(ch.receive());
        })).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'sender' failed: java.lang.IllegalStateException: late failure");
        assertThat(got).as("main's receive returned the value it was handed").containsExactly(7);
    }

    @Test
    void aSenderWhoseValueWasTakenThrowsAFailureDeliveredBeforeItRunsAndTheValueStaysDelivered() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine.create("failer", () -> {
            throw new IllegalStateException("late failure");
        });
        Coroutine.create("receiver", () -> log.add("receiver got " + ch.receive()));
        // main parks in send; the receiver takes 5 (main's send is complete), then the failer throws to main
        assertThatThrownBy(() -> ch.send(5)).isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'failer' failed: java.lang.IllegalStateException: late failure");
        assertThat(log).as("the value was delivered although the send threw").containsExactly("receiver got 5");
        assertThat(ch.tryReceive()).as("and not twice").isEmpty();
    }

    /**
     * As a parked send: a select whose {@code onSend} clause a receiver took, a failure delivered to it
     * before it runs again, throws the failure instead of running the clause's function, and the value
     * stays delivered: the receiver keeps it, nothing is sent again.
     */
    @Test
    void aSelectWhoseSendClauseWasTakenThrowsAFailureDeliveredBeforeItRunsAndTheValueStaysDelivered() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine.create("failer", () -> {
            throw new IllegalStateException("late failure");
        });
        Coroutine.create("receiver", () -> log.add("receiver got " + ch.receive()));
        // main parks in the select; the receiver takes 5 (the clause fired), then the failer throws to main
        assertThatThrownBy(() -> new Select<String>().onSend(ch, 5, () -> "sent").select())
                .isInstanceOf(CoroutineException.class)
                .hasMessage("coroutine 'failer' failed: java.lang.IllegalStateException: late failure");
        assertThat(log).as("the value was delivered although the select threw").containsExactly("receiver got 5");
        assertThat(ch.tryReceive()).as("and not twice").isEmpty();
    }

    @Test
    void aValuePutBackIntoAFullChannelDoesNotLetAParkedSenderThroughBeforeItsOwnValueIsTaken() {
        for (int capacity = 0; capacity <= 2; capacity++) {
            log.clear();
            Channel<String> ch = new Channel<>("ch", capacity);
            Channel<String> gate = new Channel<>("gate", 1);
            Coroutine sender = Coroutine.create("sender", () -> {
                gate.receive();
                ch.send("last");
                log.add("sender sent");
            });
            Coroutine receiver = Coroutine.create("receiver", () -> log.add("receiver got " + ch.receive()));
            receiver.switchTo(); // the receiver parks on ch, the sender on the gate
            assertThat(ch.trySend("handed")).isTrue();
            assertThat(receiver.state()).as("handed a value, not run yet").isEqualTo(State.SUSPENDED);
            for (int i = 0; i < capacity; i++) {
                assertThat(ch.trySend("b" + i)).isTrue();
            }
            assertThat(gate.trySend("go")).isTrue();
            sender.switchTo();
            assertThat(sender.state()).as("the buffer is full").isEqualTo(State.PARKED);
            receiver.close(); // "handed" goes back to the head of the full buffer
            assertThat(ch.receive()).isEqualTo("handed");
            assertThat(sender.state()).as("capacity " + capacity + ": the buffer is full again without its value")
                    .isEqualTo(State.PARKED);
            assertThat(ch).hasToString("Channel[ch, capacity " + capacity + ", " + capacity + " buffered, open]");
            for (int i = 0; i < capacity; i++) {
                assertThat(ch.receive()).isEqualTo("b" + i);
            }
            assertThat(ch.receive()).isEqualTo("last");
            assertThat(sender.state()).as("its value was taken").isEqualTo(State.SUSPENDED);
            Coroutine.yield();
            assertThat(log).containsExactly("sender sent");
            assertThat(sender.state()).isEqualTo(State.FINISHED);
        }
    }

    @Test
    void yieldReturnsAtOnceWhenEveryOtherContextIsParked() {
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine a = Coroutine.create("a", () -> ch.receive());
        Coroutine b = Coroutine.create("b", () -> ch.receive());
        Coroutine.yield();
        assertThat(a.state()).isEqualTo(State.PARKED);
        assertThat(b.state()).isEqualTo(State.PARKED);
        Coroutine.yield();
        assertThat(Coroutine.currentId()).isZero();
        a.close();
        b.close();
    }

    @Test
    void closingAParkedSenderWithdrawsItsValue() {
        Channel<String> ch = new Channel<>("ch", 0);
        Coroutine sender = Coroutine.create("sender", () -> ch.send("never delivered"));
        Coroutine.yield();
        assertThat(sender.state()).isEqualTo(State.PARKED);
        sender.close();
        assertThat(ch.tryReceive()).isEmpty();
    }

    @Test
    void aDeadlockAmongManyParkedContextsHasABoundedMessageAndListsThemAllThroughWaits() {
        Channel<Integer> ch = new Channel<>("never", 0);
        int n = 1000;
        for (int k = 0; k < n; k++) {
            Coroutine.create("waiter-" + k, () -> ch.receive());
        }
        Coroutine.yield(); // every waiter parks; main runs again
        DeadlockException e = org.junit.jupiter.api.Assertions.assertThrows(DeadlockException.class, ch::receive);
        assertThat(e.waits()).hasSize(n + 1);
        assertThat(e.waits().get(0)).isEqualTo("main context 'main' would wait to receive from channel 'never'");
        assertThat(e.waits()).contains("coroutine 'waiter-999' waits to receive from channel 'never'");
        assertThat(e.getMessage().lines()).hasSize(1 + DeadlockException.SHOWN + 1);
        assertThat(e.getMessage()).endsWith("\n  ... and " + (n + 1 - DeadlockException.SHOWN)
                + " more parked (DeadlockException.waits() lists them all)");
        // the rule's numbers as the row states them: the first 20 waits in the order of waits(), then a count
        assertThat(e.getMessage().lines().skip(1).limit(20).map(String::strip).toList())
                .isEqualTo(e.waits().subList(0, 20));
        assertThat(e.getMessage()).contains("\n  coroutine 'waiter-18' waits to receive from channel 'never'\n"
                + "  ... and 981 more parked (DeadlockException.waits() lists them all)");
    }

    @Test
    void theDumpOfManyContextsIsBoundedAndDumpWithALimitListsAsManyAsAsked() {
        Channel<Integer> ch = new Channel<>("never", 0);
        for (int k = 0; k < 200; k++) {
            Coroutine.create("waiter-" + k, () -> ch.receive());
        }
        Coroutine.yield();
        String dump = Coroutine.dump();
        assertThat(dump).startsWith("thread '").contains(": 201 contexts, current index 0\n")
                .contains("[49] coroutine 'waiter-48': PARKED, waits to receive from channel 'never'")
                .doesNotContain("[50]")
                .endsWith("  ... and 151 more contexts (Coroutine.dump(201) lists them all)\n");
        String all = Coroutine.dump(Integer.MAX_VALUE);
        assertThat(all).contains("[200] coroutine 'waiter-199': PARKED").doesNotContain("... and");
        assertThat(Coroutine.dump(0)).endsWith("  ... and 201 more contexts (Coroutine.dump(201) lists them all)\n");
        assertThat(Coroutine.dump(200)).endsWith("  ... and 1 more context (Coroutine.dump(201) lists them all)\n");
        assertThatThrownBy(() -> Coroutine.dump(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("main context 'main' cannot dump -1 contexts: the count must be 0 or more");
    }

    @Test
    void yieldSkipsAnyNumberOfParkedContextsInRunListOrder() {
        Channel<Integer> ch = new Channel<>("never", 0);
        List<String> ran = new ArrayList<>();
        Coroutine first = Coroutine.create("first", () -> {
            for (int i = 0; i < 3; i++) {
                ran.add("first");
                Coroutine.yield();
            }
        });
        for (int k = 0; k < 5000; k++) {
            Coroutine.create("waiter-" + k, () -> {
                try {
                    ch.receive();
                } catch (ChannelClosedException e) {
                    ran.add("woken");
                }
            });
        }
        Coroutine last = Coroutine.create("last", () -> {
            for (int i = 0; i < 3; i++) {
                ran.add("last");
                Coroutine.yield();
            }
        });
        while (!first.isFinished() || !last.isFinished()) {
            Coroutine.yield();
            ran.add("main");
        }
        // round one parks every waiter on its way down from 'last' to 'first'; then they are skipped
        assertThat(ran).containsExactly("last", "first", "main", "last", "first", "main", "last", "first", "main",
                "main");
        ch.close();
        Coroutine.yield();
        assertThat(ran).hasSize(10 + 5000);
        assertThat(Coroutine.dump()).contains(": 1 context, current index 0");
    }

    @Test
    @Timeout(30)
    void aBufferABurstFilledGivesItsRoomBackOnceEmptiedAndKeepsTheOrder() {
        Channel<Integer> ch = new Channel<>("burst", 1_000_000);
        int burst = 300_000;
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < burst; i++) {
                assertThat(ch.trySend(i)).isTrue();
            }
            assertThat(ch.bufferRoom()).isGreaterThanOrEqualTo(burst);
            for (int i = 0; i < burst; i++) {
                assertThat(ch.receive()).isEqualTo(i);
            }
            assertThat(ch.tryReceive()).isEmpty();
            // an array that never shrinks would keep the burst's room (1.2 MB of references) for the channel's life
            assertThat(ch.bufferRoom()).isLessThanOrEqualTo(1024);
        }
        // a buffer that wraps round its ring keeps the order: take and add in turn while it holds a few
        for (int i = 0; i < 10; i++) {
            ch.send(i);
        }
        for (int i = 10; i < 100; i++) {
            assertThat(ch.receive()).isEqualTo(i - 10);
            ch.send(i);
        }
        for (int i = 90; i < 100; i++) {
            assertThat(ch.receive()).isEqualTo(i);
        }
    }

    @Test
    @Timeout(10)
    void sizeCountsTheBufferedValuesFromAnyThreadAndNoneOnARendezvous() throws InterruptedException {
        Channel<String> ch = new Channel<>("queue", 3);
        assertThat(ch.size()).isZero();
        ch.send("a");
        ch.send("b");
        ch.send("c");
        assertThat(ch.size()).isEqualTo(3);
        Coroutine blocked = Coroutine.create(() -> ch.send("d")); // the buffer is full: it parks, not buffered
        blocked.switchTo();
        assertThat(blocked.state()).isEqualTo(State.PARKED);
        assertThat(ch.size()).isEqualTo(3);
        AtomicReference<Integer> seen = new AtomicReference<>();
        assertThat(OtherThread.thrownOn("reader", () -> seen.set(ch.size()))).isNull();
        assertThat(seen.get()).isEqualTo(3);
        assertThat(ch.receive()).isEqualTo("a"); // the parked sender's value takes the room
        assertThat(ch.size()).isEqualTo(3);
        ch.close();
        assertThat(ch.size()).as("a closed channel keeps the values left for its receivers").isEqualTo(3);
        assertThat(ch.toString()).isEqualTo("Channel[queue, capacity 3, 3 buffered, closed]");

        Channel<String> rendezvous = new Channel<>(0);
        Coroutine sender = Coroutine.create(() -> rendezvous.send("x"));
        sender.switchTo();
        assertThat(sender.state()).isEqualTo(State.PARKED);
        assertThat(rendezvous.size()).isZero();
        assertThat(rendezvous.receive()).isEqualTo("x");
    }

    @Test
    @Timeout(10)
    void aClosedChannelsRefusalSaysWhichChannelItWasSoThatASelectCanDropItsClause() {
        Channel<String> a = new Channel<>("a", 1);
        Channel<String> b = new Channel<>("b", 1);
        a.close();
        assertThat(catchThrowableOfType(ChannelClosedException.class, () -> a.send("x")).channel()).isSameAs(a);
        assertThat(catchThrowableOfType(ChannelClosedException.class, a::receive).channel()).isSameAs(a);
        // a sender parked when the channel closes
        Channel<String> full = new Channel<>("full", 0);
        AtomicReference<ChannelClosedException> parked = new AtomicReference<>();
        Coroutine sender = Coroutine.create(() -> parked.set(catchThrowableOfType(ChannelClosedException.class, () -> full.send("y"))));
        sender.switchTo();
        full.close();
        Coroutine.yield();
        assertThat(sender.isFinished()).isTrue();
        assertThat(parked.get().channel()).isSameAs(full);
        // a select over both: the refusal names the closed one, whose clause the loop then drops
        b.send("from b");
        List<Channel<String>> open = new ArrayList<>(List.of(a, b));
        List<String> got = new ArrayList<>();
        while (got.isEmpty()) {
            Select<String> s = new Select<>();
            open.forEach(ch -> s.onReceive(ch, v -> v));
            try {
                got.add(s.select());
            } catch (ChannelClosedException e) {
                assertThat(e.channel()).isSameAs(a);
                open.remove(e.channel());
            }
        }
        assertThat(got).containsExactly("from b");
        assertThat(open).containsExactly(b);
        ChannelClosedException onSend = catchThrowableOfType(ChannelClosedException.class,
                () -> new Select<String>().onSend(a, "z", () -> "sent").select());
        assertThat(onSend.channel()).isSameAs(a);
    }
}
