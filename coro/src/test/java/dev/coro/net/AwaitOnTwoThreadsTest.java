package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static dev.coro.net.TcpConnectionTest.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine;
import dev.coro.Coroutine.State;
import dev.coro.CoroutinePool;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * One channel awaited with {@link Io#await} from two threads at once, each of whose event loops has a
 * selector of its own that watches it: each datagram is received by one of the waiters, none lost, each
 * thread's registration ends with its wait, and a close of the channel by another thread fails the wait
 * of each, naming it.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class AwaitOnTwoThreadsTest {

    /**
     * On each of the two threads of a pool, a coroutine 'reader-i' that receives one datagram from
     * {@code channel}, awaiting it readable while none has come, parked there before {@code parked}
     * counts down; the future of each says what it did and what its thread had registered after.
     */
    private static List<CompletableFuture<String>> readersOnTwoThreads(CoroutinePool pool, DatagramChannel channel,
                                                                        CountDownLatch parked) {
        List<CompletableFuture<String>> done = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            String name = "reader-" + i;
            done.add(pool.submit("body-" + i, () -> {
                StringBuilder result = new StringBuilder();
                Coroutine reader = Coroutine.create(name, () -> {
                    ByteBuffer buf = ByteBuffer.allocate(16);
                    try {
                        while (channel.receive(buf) == null) {
                            Io.await(channel, SelectionKey.OP_READ);
                        }
                        result.append("got '").append(text(buf)).append("'");
                    } catch (IOException e) {
                        result.append(e.getClass().getSimpleName()).append(": ").append(e.getMessage());
                    }
                });
                for (int yields = 0; reader.state() != State.PARKED && yields < 100; yields++) {
                    Coroutine.yield();
                }
                result.append(reader.state() == State.PARKED ? "" : "not parked; ");
                parked.countDown();
                reader.join();
                return result + " on " + (Thread.currentThread().getName().endsWith("-0") ? "one thread" : "the other") + ", " + LoopProbe.ioWaits() + " I/O waits and " + LoopProbe.registeredChannels()
                        + " registrations left, selector open: " + LoopProbe.selectorOpen();
            }));
        }
        return done;
    }

    @Test
    @Timeout(30)
    void eachDatagramGoesToOneOfTheWaitersOfTheTwoThreadsAndNeitherThreadKeepsARegistration() throws Exception {
        try (DatagramChannel receiver = DatagramChannel.open().bind(LOOPBACK);
             DatagramChannel sender = DatagramChannel.open().bind(LOOPBACK);
             CoroutinePool pool = CoroutinePool.start(2)) {
            receiver.configureBlocking(false);
            CountDownLatch parked = new CountDownLatch(2);
            List<CompletableFuture<String>> done = readersOnTwoThreads(pool, receiver, parked);
            assertThat(parked.await(20, TimeUnit.SECONDS)).isTrue();
            sender.send(bytes("a"), receiver.getLocalAddress());
            sender.send(bytes("b"), receiver.getLocalAddress());
            List<String> results = new ArrayList<>();
            for (CompletableFuture<String> f : done) {
                results.add(Coroutine.await(f));
            }
            String rest = ", 0 I/O waits and 0 registrations left, selector open: false";
            assertThat(results).hasSize(2).anyMatch(r -> r.contains(" on one thread, ")).anyMatch(r -> r.contains(" on the other, "));
            assertThat(results).map(r -> r.replaceFirst(" on (one thread|the other), ", ", "))
                    .containsExactlyInAnyOrder("got 'a'" + rest, "got 'b'" + rest);
            receiver.configureBlocking(true); // refused while a selector of either thread still held the channel
        }
    }

    /** The threads' loops look for channels closed behind their backs about once a second. */
    @Test
    @Timeout(30)
    void aCloseByAnotherThreadFailsTheWaitOfEachThreadNamingItsWaiter() throws Exception {
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            DatagramChannel receiver = DatagramChannel.open().bind(LOOPBACK);
            receiver.configureBlocking(false);
            CountDownLatch parked = new CountDownLatch(2);
            List<CompletableFuture<String>> done = readersOnTwoThreads(pool, receiver, parked);
            assertThat(parked.await(20, TimeUnit.SECONDS)).isTrue();
            receiver.close();
            List<String> results = new ArrayList<>();
            for (CompletableFuture<String> f : done) {
                results.add(Coroutine.await(f));
            }
            String rest = " cannot await OP_READ on " + receiver + " (closed): its channel was closed while it waited"
                    + ", 0 I/O waits and 0 registrations left, selector open: false";
            assertThat(results).anyMatch(r -> r.contains(" on one thread, ")).anyMatch(r -> r.contains(" on the other, "));
            assertThat(results).map(r -> r.replaceFirst(" on (one thread|the other), ", ", "))
                    .containsExactlyInAnyOrder("IOException: coroutine 'reader-0'" + rest, "IOException: coroutine 'reader-1'" + rest);
        }
    }
}
