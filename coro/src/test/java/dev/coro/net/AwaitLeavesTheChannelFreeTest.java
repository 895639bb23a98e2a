package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static dev.coro.net.TcpConnectionTest.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.Collected;
import dev.coro.Coroutine;
import dev.coro.Coroutine.State;
import dev.coro.CoroutineExit;
import dev.coro.CoroutinePool;
import dev.coro.CoroutineTimeoutException;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ref.WeakReference;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link Io#await} holds the thread's registration of its channel only while it waits: once the wait
 * has returned, timed out, or ended with a close of its coroutine (on its own thread, by the cancel of a pool body's
 * future, or by the {@code closeNow()} of its pool), the JDK lets the channel be put in
 * blocking mode (which it refuses while any selector still holds it), the datagram that came is left
 * for the next receive, and a registration the user made with a selector of their own stays as it was.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class AwaitLeavesTheChannelFreeTest {

    private final List<String> log = Collections.synchronizedList(new ArrayList<>());

    @Test
    @Timeout(30)
    void anAwaitThatReturnedTimedOutOrWhoseCoroutineWasClosedLeavesTheChannelToBlockingModeAndItsDatagramToTheNextReceive()
            throws Exception {
        try (DatagramChannel receiver = DatagramChannel.open().bind(LOOPBACK);
             DatagramChannel sender = DatagramChannel.open().bind(LOOPBACK)) {
            receiver.configureBlocking(false);

            Coroutine returned = Coroutine.create("returned", () -> awaitReadable(receiver));
            Coroutine.yield();
            sender.send(bytes("one"), receiver.getLocalAddress());
            returned.join();
            assertThat(receivedInBlockingMode(receiver)).isEqualTo("one");

            Coroutine timedOut = Coroutine.create("timed out", () -> {
                try {
                    Coroutine.withTimeout(Duration.ofMillis(20), () -> awaitReadable(receiver));
                } catch (CoroutineTimeoutException e) {
                    log.add("timed out");
                }
            });
            timedOut.join();
            sender.send(bytes("two"), receiver.getLocalAddress());
            assertThat(receivedInBlockingMode(receiver)).isEqualTo("two");

            Coroutine closed = Coroutine.create("closed", () -> awaitReadable(receiver));
            Coroutine.yield();
            assertThat(closed.state()).isEqualTo(State.PARKED);
            sender.send(bytes("three"), receiver.getLocalAddress()); // come, and no scheduling point has taken it in
            closed.close();
            assertThat(receivedInBlockingMode(receiver)).isEqualTo("three");

            assertThat(log).containsExactly("returned woken", "timed out");
            assertThat(LoopProbe.ioWaits()).isZero();
            assertThat(LoopProbe.selectorOpen()).isFalse();
        }
    }

    /**
     * A pool body's {@link Io#await} ended by the cancel of its future (its coroutine closed on the pool thread, which
     * lives on) or by {@code closeNow()} of its pool leaves the channel as the wait of a coroutine closed on its own
     * thread does: registered with no selector, so that the JDK lets it be put in blocking mode, and what comes next
     * on it left for the next receive. A registration the pool thread kept would hold the channel, out of blocking
     * mode, for as long as that thread lives.
     */
    @Test
    @Timeout(30)
    void anAwaitOfAPoolBodyCancelledOrWhosePoolIsClosedNowLeavesTheChannelToBlockingModeAndItsDatagramToTheNextReceive()
            throws Exception {
        try (DatagramChannel receiver = DatagramChannel.open().bind(LOOPBACK);
             DatagramChannel sender = DatagramChannel.open().bind(LOOPBACK)) {
            receiver.configureBlocking(false);
            CoroutinePool pool = CoroutinePool.start(1);
            try {
                CountDownLatch cancelledEnded = new CountDownLatch(1);
                CompletableFuture<Void> cancelled = pool.submit("cancelled", () -> {
                    try {
                        awaitReadable(receiver);
                    } finally {
                        cancelledEnded.countDown();
                    }
                    return null;
                });
                untilRegistered(receiver);
                assertThat(cancelled.cancel(true)).isTrue();
                assertThat(cancelledEnded.await(GUARD.toSeconds(), TimeUnit.SECONDS)).as("the body unwound").isTrue();
                assertThat(receiver.isRegistered()).as("registered after its wait was cancelled").isFalse();
                sender.send(bytes("one"), receiver.getLocalAddress());
                assertThat(receivedInBlockingMode(receiver)).isEqualTo("one");

                CompletableFuture<Void> closedNow = pool.submit("closed now", () -> {
                    awaitReadable(receiver);
                    return null;
                });
                untilRegistered(receiver);
                Coroutine.withTimeout(GUARD, pool::closeNow);
                assertThat(catchThrowable(closedNow::join)).isInstanceOf(CompletionException.class)
                        .cause().isInstanceOf(CoroutineExit.class);
                assertThat(receiver.isRegistered()).as("registered after its pool was closed now").isFalse();
                sender.send(bytes("two"), receiver.getLocalAddress());
                assertThat(receivedInBlockingMode(receiver)).isEqualTo("two");
                assertThat(log).as("neither wait returned").isEmpty();
            } finally {
                Coroutine.withTimeout(GUARD, pool::closeNow);
            }
        }
    }

    /** A bound for waits expected to end long before it: a guard against a hang. */
    private static final Duration GUARD = Duration.ofSeconds(20);

    /** Yields until another thread's wait has registered {@code channel} with that thread's selector. */
    private static void untilRegistered(DatagramChannel channel) {
        Coroutine.withTimeout(GUARD, () -> {
            while (!channel.isRegistered()) {
                Coroutine.yield();
            }
        });
    }

    /**
     * The loop keeps nothing of a channel once its last wait has ended: awaited by a coroutine that parked on it, then
     * closed and dropped by its user, the channel is collected while its thread lives and the loop with it (a key
     * left listed among the loop's waiting keys would hold it, and every such channel, for as long as the thread runs).
     */
    @Test
    @Timeout(30)
    void aChannelAwaitedThenClosedAndDroppedIsCollectedWhileItsThreadLives() throws Exception {
        WeakReference<DatagramChannel> dropped = awaitedClosedAndDropped();
        assertThat(LoopProbe.selectorOpen()).isFalse();
        assertThat(Collected.all(List.of(dropped))).as("the channel, awaited, closed and dropped, collected").isTrue();
    }

    private WeakReference<DatagramChannel> awaitedClosedAndDropped() throws Exception {
        try (DatagramChannel receiver = DatagramChannel.open().bind(LOOPBACK);
             DatagramChannel sender = DatagramChannel.open().bind(LOOPBACK)) {
            receiver.configureBlocking(false);
            Coroutine parked = Coroutine.create("parked", () -> awaitReadable(receiver));
            Coroutine.yield();
            assertThat(parked.state()).isEqualTo(State.PARKED);
            sender.send(bytes("one"), receiver.getLocalAddress());
            parked.join();
            assertThat(log).containsExactly("parked woken");
            return new WeakReference<>(receiver);
        }
    }

    /** Awaits {@code channel} readable and logs that the caller was woken. */
    private void awaitReadable(DatagramChannel channel) {
        try {
            Io.await(channel, SelectionKey.OP_READ);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        log.add(Coroutine.current().name() + " woken");
    }

    /** Puts {@code channel} in blocking mode (the JDK refuses while a selector holds it), receives a datagram, and back. */
    private static String receivedInBlockingMode(DatagramChannel channel) throws IOException {
        channel.configureBlocking(true);
        try {
            ByteBuffer buf = ByteBuffer.allocate(16);
            channel.receive(buf);
            return text(buf);
        } finally {
            channel.configureBlocking(false);
        }
    }

    @Test
    @Timeout(30)
    void aChannelRegisteredWithTheUsersOwnSelectorIsAwaitedAndThatRegistrationStaysAsItWas() throws Exception {
        try (DatagramChannel receiver = DatagramChannel.open().bind(LOOPBACK);
             DatagramChannel sender = DatagramChannel.open().bind(LOOPBACK);
             Selector own = Selector.open()) {
            receiver.configureBlocking(false);
            SelectionKey key = receiver.register(own, SelectionKey.OP_READ, "attachment");
            Coroutine reader = Coroutine.create("reader", () -> awaitReadable(receiver));
            Coroutine.yield();
            sender.send(bytes("x"), receiver.getLocalAddress());
            reader.join();
            assertThat(log).containsExactly("reader woken");
            assertThat(LoopProbe.registeredChannels()).as("the thread's registration ended with the wait").isZero();
            assertThat(key.isValid()).isTrue();
            assertThat(key.interestOps()).isEqualTo(SelectionKey.OP_READ);
            assertThat(key.attachment()).isEqualTo("attachment");
            assertThat(own.selectNow()).as("the user's selector still reports the datagram").isEqualTo(1);
            assertThat(own.selectedKeys()).containsExactly(key);
            ByteBuffer buf = ByteBuffer.allocate(16);
            assertThat(receiver.receive(buf)).isEqualTo(sender.getLocalAddress());
            assertThat(text(buf)).isEqualTo("x");
        }
    }
}
