package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.name;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Collected;
import dev.coro.Coroutine;
import dev.coro.Coroutine.State;
import dev.coro.CoroutinePool;
import dev.coro.CoroutineTimeoutException;
import dev.coro.FreshThread;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ref.WeakReference;
import java.net.ConnectException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A connection or a listener closed from another thread while its own thread runs, as Go's
 * {@code conn.Close()} from any goroutine and Netty's {@code channel.close()} from any thread: the close
 * is posted to the owner's thread and waited for, as a channel's first close from another thread is, and
 * the coroutine parked there in a read or an accept fails as for a close on its own thread. A second close
 * returns at once, and one whose caller's {@code withTimeout} expires while the owner's thread is blocked
 * throws the timeout with nothing done yet, the owner closing it once it runs again.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class CloseFromAnotherThreadTest {

    /** What a read parked on the connection, closed meanwhile, fails with. */
    private static String closedWhileReading(TcpConnection c) {
        return "IOException: coroutine 'reader' cannot read from " + name(c) + " (closed): the connection was closed while it waited";
    }

    /**
     * On {@code pool}'s one thread: connects to {@code server}, hands the connection over through {@code made}
     * once a coroutine 'reader' is parked in a read of it, and returns what that read did.
     */
    private static CompletableFuture<String> readerParkedOn(CoroutinePool pool, ServerSocketChannel server,
                                                            CompletableFuture<TcpConnection> made) {
        return pool.submit("owner", () -> {
            try {
                TcpConnection c = TcpConnection.connect(server.getLocalAddress());
                StringBuilder result = new StringBuilder();
                Coroutine reader = Coroutine.create("reader", () -> {
                    try {
                        int n = c.read(ByteBuffer.allocate(1));
                        result.append("read ").append(n);
                    } catch (IOException e) {
                        result.append("IOException: ").append(e.getMessage());
                    }
                });
                while (reader.state() != State.PARKED) {
                    Coroutine.yield();
                }
                made.complete(c);
                reader.join();
                return result.toString();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    @Test
    @Timeout(30)
    void aReadParkedOnOnePoolThreadFailsWhenACoroutineOfAnotherPoolThreadClosesTheConnection() throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(LOOPBACK);
             CoroutinePool a = CoroutinePool.start("a", 1);
             CoroutinePool b = CoroutinePool.start("b", 1)) {
            CompletableFuture<TcpConnection> made = new CompletableFuture<>();
            CompletableFuture<String> read = readerParkedOn(a, server, made);
            try (SocketChannel peer = server.accept()) {
                TcpConnection c = made.get();
                boolean open = b.submit("closer", () -> {
                    try {
                        c.close();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    return c.isOpen();
                }).get();
                assertThat(open).as("closed once close() returned").isFalse();
                assertThat(read.get()).isEqualTo(closedWhileReading(c));
                assertThat(peer.read(ByteBuffer.allocate(1))).as("the peer reads the end of the stream").isEqualTo(-1);
            }
        }
    }

    @Test
    @Timeout(30)
    void aReadParkedOnAPoolThreadFailsWhenAPlainThreadClosesTheConnection() throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(LOOPBACK);
             CoroutinePool a = CoroutinePool.start("a", 1)) {
            CompletableFuture<TcpConnection> made = new CompletableFuture<>();
            CompletableFuture<String> read = readerParkedOn(a, server, made);
            try (SocketChannel peer = server.accept()) {
                TcpConnection c = made.get();
                CompletableFuture<String> closed = new CompletableFuture<>();
                Thread.ofPlatform().name("closer").start(() -> {
                    try {
                        c.close();
                        closed.complete("open after close: " + c.isOpen());
                    } catch (Throwable e) {
                        closed.complete(e.toString());
                    }
                });
                assertThat(closed.get()).isEqualTo("open after close: false");
                assertThat(read.get()).isEqualTo(closedWhileReading(c));
                assertThat(peer.read(ByteBuffer.allocate(1))).as("the peer reads the end of the stream").isEqualTo(-1);
            }
        }
    }

    @Test
    @Timeout(30)
    void anAcceptParkedOnOnePoolThreadFailsWhenACoroutineOfAnotherPoolThreadClosesTheListener() throws Exception {
        try (CoroutinePool a = CoroutinePool.start("a", 1);
             CoroutinePool b = CoroutinePool.start("b", 1)) {
            CompletableFuture<TcpListener> made = new CompletableFuture<>();
            CompletableFuture<String> accepted = a.submit("owner", () -> {
                try {
                    TcpListener l = TcpListener.bind(LOOPBACK);
                    StringBuilder result = new StringBuilder();
                    Coroutine acceptor = Coroutine.create("acceptor", () -> {
                        try {
                            TcpConnection c = l.accept();
                            result.append("accepted ").append(c);
                        } catch (IOException e) {
                            result.append("IOException: ").append(e.getMessage());
                        }
                    });
                    while (acceptor.state() != State.PARKED) {
                        Coroutine.yield();
                    }
                    made.complete(l);
                    acceptor.join();
                    return result.toString();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            TcpListener l = made.get();
            boolean open = b.submit("closer", () -> {
                try {
                    l.close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                return l.isOpen();
            }).get();
            assertThat(open).as("closed once close() returned").isFalse();
            assertThat(accepted.get()).isEqualTo("IOException: coroutine 'acceptor' cannot accept on listener "
                    + l.localAddress() + " (closed): the listener was closed while it waited");
        }
    }

    /**
     * Once a close from another thread has closed the connection on its thread, a second one returns at
     * once, posting nothing: the owner's thread, blocked outside the library meanwhile, need not run.
     */
    @Test
    @Timeout(30)
    void aSecondCloseFromAnotherThreadReturnsAtOnceWhileTheOwnersThreadIsBlocked() throws Exception {
        CountDownLatch hold = new CountDownLatch(1);
        CountDownLatch blocking = new CountDownLatch(1);
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(LOOPBACK);
             CoroutinePool a = CoroutinePool.start("a", 1)) {
            CompletableFuture<TcpConnection> made = new CompletableFuture<>();
            CompletableFuture<Void> closedOnce = new CompletableFuture<>();
            CompletableFuture<Boolean> owner = a.submit("owner", () -> {
                try {
                    TcpConnection c = TcpConnection.connect(server.getLocalAddress());
                    made.complete(c);
                    Coroutine.await(closedOnce); // parked: the first close runs here meanwhile
                    blocking.countDown();
                    hold.await(); // blocked outside the library: nothing posted here runs now
                    return c.isOpen();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            try (SocketChannel peer = server.accept()) {
                TcpConnection c = made.get();
                c.close();
                assertThat(c.isOpen()).isFalse();
                closedOnce.complete(null);
                blocking.await();
                c.close(); // would wait for the blocked thread if it posted
                assertThat(c.isOpen()).isFalse();
                hold.countDown();
                assertThat(owner.get()).as("open, as its own thread sees it").isFalse();
                assertThat(peer.read(ByteBuffer.allocate(1))).as("the peer reads the end of the stream").isEqualTo(-1);
            }
        }
    }

    /**
     * A close from another thread whose caller's {@code withTimeout} expires while the owner's thread is
     * blocked outside the library throws the timeout with nothing done yet (the connection still open);
     * the close stays posted, and the owner's thread closes the connection at its next scheduling point, as
     * a channel's close posted so closes it all the same.
     */
    @Test
    @Timeout(30)
    void aCloseWhoseWithTimeoutExpiresWhileTheOwnerIsBlockedThrowsTheTimeoutAndTheOwnerClosesItLater() throws Exception {
        CountDownLatch hold = new CountDownLatch(1);
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(LOOPBACK);
             CoroutinePool a = CoroutinePool.start("a", 1);
             CoroutinePool b = CoroutinePool.start("b", 1)) {
            CompletableFuture<TcpConnection> made = new CompletableFuture<>();
            CompletableFuture<String> owner = a.submit("owner", () -> {
                try {
                    TcpConnection c = TcpConnection.connect(server.getLocalAddress());
                    made.complete(c);
                    hold.await(); // blocked outside the library: the close posted meanwhile waits
                    String seen = "open after the hold: " + c.isOpen();
                    Coroutine.yield(); // a scheduling point: the thread runs what was posted to it
                    return seen + "; after a yield: " + c.isOpen();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            try (SocketChannel peer = server.accept()) {
                TcpConnection c = made.get();
                String closer;
                try {
                    closer = b.submit("closer", () -> {
                    try {
                        Coroutine.withTimeout(Duration.ofMillis(20), () -> {
                            try {
                                c.close();
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                        });
                        return "returned";
                    } catch (CoroutineTimeoutException e) {
                        return e.getClass().getSimpleName() + ": " + e.getMessage() + "; open: " + c.isOpen();
                    }
                }).get();
                } finally {
                    hold.countDown(); // else the pools' close would wait for the blocked thread
                }
                assertThat(closer).isEqualTo("CoroutineTimeoutException: coroutine 'closer' timed out: withTimeout(PT0.02S) expired before its body returned; open: true");
                assertThat(owner.get()).isEqualTo("open after the hold: true; after a yield: false");
                assertThat(c.isOpen()).isFalse();
                assertThat(peer.read(ByteBuffer.allocate(1))).as("the peer reads the end of the stream").isEqualTo(-1);
            }
        }
    }

    /**
     * A close from another thread that its caller, being unwound, posts without waiting for it, to a thread blocked
     * outside the library that then ends without running it, keeps nothing of that thread: the listener, the
     * coroutine parked in its accept and the thread's loop become unreachable together, and the cleaning thread
     * stops the listening, as for a thread that ended leaving them with nobody to close them (SEMANTICS).
     */
    @Test
    @Timeout(60)
    void aCloseNobodyWaitsForThatTheOwnersThreadEndedWithoutRunningKeepsNothingOfThatThreadReachable() throws Exception {
        CountDownLatch hold = new CountDownLatch(1);
        AtomicReference<TcpListener> handed = new AtomicReference<>();
        CompletableFuture<List<WeakReference<?>>> made = new CompletableFuture<>();
        Thread owner = Thread.ofPlatform().name("io-owner").start(() -> {
            try {
                TcpListener l = TcpListener.bind(LOOPBACK);
                Coroutine acceptor = Coroutine.create("acceptor", () -> {
                    try {
                        l.accept().close();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                Coroutine.yield(); // it parks in its accept
                handed.set(l);
                made.complete(List.of(new WeakReference<>(l), new WeakReference<>(acceptor)));
                hold.await(); // blocked outside the library: the close posted meanwhile never runs
            } catch (Throwable e) {
                made.completeExceptionally(e);
            }
        });
        List<WeakReference<?>> dropped = made.get();
        SocketAddress address = handed.get().localAddress();
        postACloseNobodyWaitsFor(handed);
        hold.countDown();
        owner.join();
        assertThat(Collected.all(dropped))
                .as("the listener and the coroutine parked in its accept, of a thread that ended, nothing else holding them")
                .isTrue();
        while (listens(address)) { // the cleaning thread closes the socket, then the selector's own cleaning deregisters it
            Thread.yield();
        }
    }

    /**
     * Closes the listener {@code handed} holds (taking it out) from a coroutine 'closer' of this thread being unwound
     * by its close: in its {@code finally}, where the close is posted to the listener's thread and not waited for.
     */
    private static void postACloseNobodyWaitsFor(AtomicReference<TcpListener> handed) {
        Coroutine closer = Coroutine.create("closer", () -> {
            try {
                Coroutine.sleep(Duration.ofDays(1));
            } finally {
                try {
                    handed.getAndSet(null).close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        });
        Coroutine.yield(); // it parks in its sleep
        closer.close();
        assertThat(closer.state()).isEqualTo(State.CLOSED);
    }

    /** Whether something accepts a connection at {@code address} (the connection is closed at once). */
    private static boolean listens(SocketAddress address) throws IOException {
        try {
            SocketChannel.open(address).close();
            return true;
        } catch (ConnectException e) {
            return false;
        }
    }
}
