package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.net.TcpConnection;
import dev.coro.net.TcpListener;
import java.io.Closeable;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A listener or a connection closed from another thread just as its pool thread leaves its loop: the thread's
 * inbox is closed, so the post of the close is refused, while the thread is alive still and its loop has not
 * ended (it has not closed what its coroutines left open yet). The close is made all the same, as once that
 * thread has ended, and returns: it is never refused as an operation on a channel of a thread that has ended,
 * since nothing refuses a close then.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class ACloseFromAnotherThreadAsItsPoolThreadLeavesItsLoopTest {

    @Test
    @Timeout(30)
    void aConnectionClosedFromAnotherThreadAsItsPoolThreadLeavesItsLoopIsClosedAndTheCloseReturns() throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            CoroutinePool pool = CoroutinePool.start("leaving", 1);
            CompletableFuture<TcpConnection> made = new CompletableFuture<>();
            CompletableFuture<Scheduler> owner = new CompletableFuture<>();
            pool.execute(() -> {
                owner.complete(Scheduler.current());
                try {
                    made.complete(TcpConnection.connect(server.getLocalAddress()));
                } catch (Exception e) {
                    made.completeExceptionally(e);
                }
            });
            TcpConnection c = made.get();
            try (SocketChannel peer = server.accept()) {
                assertThat(closedAsItsThreadLeavesItsLoop(pool, owner.get(), c)).isEqualTo("returned; open: false");
                assertThat(peer.read(ByteBuffer.allocate(1))).as("the peer reads the end of the stream").isEqualTo(-1);
            }
        }
    }

    @Test
    @Timeout(30)
    void aListenerClosedFromAnotherThreadAsItsPoolThreadLeavesItsLoopIsClosedAndTheCloseReturns() throws Exception {
        CoroutinePool pool = CoroutinePool.start("leaving", 1);
        CompletableFuture<TcpListener> made = new CompletableFuture<>();
        CompletableFuture<Scheduler> owner = new CompletableFuture<>();
        pool.execute(() -> {
            owner.complete(Scheduler.current());
            try {
                made.complete(TcpListener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)));
            } catch (Exception e) {
                made.completeExceptionally(e);
            }
        });
        TcpListener l = made.get();
        assertThat(closedAsItsThreadLeavesItsLoop(pool, owner.get(), l)).isEqualTo("returned; open: false");
    }

    /**
     * Closes {@code resource}, of {@code pool}'s one thread (whose scheduler is {@code owner}), from a plain thread
     * 'closer', once that close found the thread alive: then the pool is closed, and its thread, leaving its loop,
     * closes its inbox and waits for the loop's lock, which a thread 'holder' takes first, until the close has
     * returned or thrown, or waits for that lock in its turn. What the close did, and whether the resource is open.
     */
    private static String closedAsItsThreadLeavesItsLoop(CoroutinePool pool, Scheduler owner, Closeable resource)
            throws Exception {
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread holder = Thread.ofPlatform().name("holder").unstarted(() -> {
            synchronized (owner.loop) {
                held.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }
        });
        CompletableFuture<Void> poolClosed = new CompletableFuture<>();
        Channel.afterLivenessCheck = () -> {
            Channel.afterLivenessCheck = null;
            holder.start();
            try {
                held.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            Thread.ofPlatform().name("pool-closer").start(() -> {
                pool.close();
                poolClosed.complete(null);
            });
            while (owner.owner.getState() != Thread.State.BLOCKED) {
                Thread.onSpinWait(); // its inbox closed, it waits for the loop's lock to close what is left open
            }
        };
        CompletableFuture<String> outcome = new CompletableFuture<>();
        try {
            Thread closer = Thread.ofPlatform().name("closer").start(() -> {
                try {
                    resource.close();
                    outcome.complete("returned; open: " + (resource instanceof TcpConnection c ? c.isOpen() : ((TcpListener) resource).isOpen()));
                } catch (Throwable e) {
                    outcome.complete(e.toString());
                }
            });
            while (!outcome.isDone() && closer.getState() != Thread.State.BLOCKED) {
                Thread.onSpinWait();
            }
        } finally {
            Channel.afterLivenessCheck = null;
            release.countDown();
        }
        poolClosed.get();
        holder.join();
        return outcome.get();
    }
}
