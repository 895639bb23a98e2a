package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.name;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Channel;
import dev.coro.Collected;
import dev.coro.Coroutine;
import dev.coro.Coroutine.State;
import dev.coro.CoroutinePool;
import dev.coro.CoroutineTimeoutException;
import dev.coro.DeadlockException;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.lang.ref.WeakReference;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
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
 * throws the timeout with nothing done yet, the owner closing it once it runs again. The caller may be a
 * coroutine of another pool thread, a plain thread or a virtual thread; two callers at once both wait (the dump
 * naming that wait) and both return; a close the owner's own overtakes closes nothing twice; the owner's close
 * failing there is thrown as it is to the caller whose close was the first, and to it alone; an owner whose thread ends, or whose pool closes, before it
 * runs the close leaves it to be made all the same; a write parked there fails and loses no byte; and a close
 * nobody waits for that the owner's thread never ran keeps nothing of that thread reachable.
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
    void aReadParkedOnAPoolThreadFailsWhenAPlainOrAVirtualThreadClosesTheConnection() throws Exception {
        for (Thread.Builder closer : List.of(Thread.ofPlatform(), Thread.ofVirtual())) {
            readParkedOnAPoolThreadFailsWhenClosedBy(closer);
        }
    }

    private static void readParkedOnAPoolThreadFailsWhenClosedBy(Thread.Builder closer) throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(LOOPBACK);
             CoroutinePool a = CoroutinePool.start("a", 1)) {
            CompletableFuture<TcpConnection> made = new CompletableFuture<>();
            CompletableFuture<String> read = readerParkedOn(a, server, made);
            try (SocketChannel peer = server.accept()) {
                TcpConnection c = made.get();
                CompletableFuture<String> closed = new CompletableFuture<>();
                closer.name("closer").start(() -> {
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
            CompletableFuture<String> owner = heldOwner(a, server, made, hold);
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
        while (Listening.at(address)) { // the cleaning thread closes the socket, then the selector's own cleaning deregisters it
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

    /**
     * A coroutine 'owner' on {@code pool} that connects to {@code server}, hands the connection to {@code made}, then
     * blocks its thread outside the library until {@code hold} opens (so a close posted meanwhile waits), and gives
     * whether the connection was open after the hold and after the yield that runs what was posted.
     */
    private static CompletableFuture<String> heldOwner(CoroutinePool pool, ServerSocketChannel server,
                                                       CompletableFuture<TcpConnection> made, CountDownLatch hold) {
        return pool.submit("owner", () -> {
            try {
                TcpConnection c = TcpConnection.connect(server.getLocalAddress());
                made.complete(c);
                hold.await(); // blocked outside the library: what is posted meanwhile waits
                String seen = "open after the hold: " + c.isOpen();
                Coroutine.yield(); // a scheduling point: the thread runs what was posted to it
                return seen + "; after a yield: " + c.isOpen();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /**
     * The owner's own close of its socket fails (faked) as another thread's close runs there: that caller, which
     * waited for it, is thrown the very exception the owner's close threw, as a close on the owner's thread
     * throws it (CloseFailureIsRawTest), and the connection is closed all the same; a second close returns.
     */
    @Test
    @Timeout(30)
    void aCloseFromAnotherThreadWhoseSocketFailsToCloseOnItsThreadThrowsThatFailureAsItIsAndTheConnectionIsClosed()
            throws Exception {
        IOException faked = new IOException("faked: the close failed");
        CloseFailureIsRawTest.UnclosableSocket socket = new CloseFailureIsRawTest.UnclosableSocket(faked);
        try (CoroutinePool a = CoroutinePool.start("a", 1)) {
            TcpConnection c;
            TcpConnection.opener = () -> socket;
            try {
                c = a.submit("owner", () -> {
                    try {
                        return TcpConnection.connect(new InetSocketAddress("127.0.0.1", 1));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }).get();
            } finally {
                TcpConnection.opener = SocketChannel::open;
            }
            assertThatThrownBy(c::close).isSameAs(faked);
            assertThat(faked.getSuppressed()).isEmpty();
            assertThat(socket.isOpen()).isFalse();
            assertThat(c.isOpen()).isFalse();
            assertThat(c).hasToString("TcpConnection[/127.0.0.1:2 -> /127.0.0.1:1, closed]");
            c.close(); // twice is fine: nothing is closed again, nothing thrown again
        }
    }

    /**
     * Two callers of other threads close the connection whose socket fails to close on its thread: the failure is
     * thrown to the caller whose close was the first, the one that posted the close and waited for it, and to it
     * alone, as the JDK throws a close's failure to the caller whose close performed it. The second caller found
     * the connection open, and reaches its close once the owner has run the first, before the first caller has
     * read its answer: it returns normally, as a second close does. The first caller is a coroutine of the
     * test's thread, held from reading its answer while that thread waits for the second, a plain thread.
     */
    @Test
    @Timeout(30)
    void aCloseFailureIsThrownToTheFirstOfTwoCallersOfOtherThreadsAloneThoughTheSecondReturnsBeforeTheFirstReadsIt()
            throws Exception {
        twoCallersOfACloseThatFails(false);
    }

    /**
     * As above, the second caller's close posted too while the owner's thread is blocked, behind the first: the
     * owner runs both, the first failing to close the socket and the second finding the connection closed, and
     * only the first caller is thrown the failure, though the second reads its answer first.
     */
    @Test
    @Timeout(30)
    void aCloseFailureIsThrownToTheFirstOfTwoCallersOfOtherThreadsAloneThoughBothPostedAndTheSecondReadsItsAnswerFirst()
            throws Exception {
        twoCallersOfACloseThatFails(true);
    }

    /**
     * A connection of a pool thread whose socket fails to close is closed by 'closer-1', a coroutine of the test's
     * thread, and then by 'closer-2', a plain thread, while the test's thread waits for that one: with
     * {@code bothPosted}, the second's close is posted behind the first while the owner's thread is blocked; else it
     * found the connection open and reaches its close once the owner has run the first. Only the first is thrown
     * the failure.
     */
    private static void twoCallersOfACloseThatFails(boolean bothPosted) throws Exception {
        IOException faked = new IOException("faked: the close failed");
        CountDownLatch closing = new CountDownLatch(1);
        CloseFailureIsRawTest.UnclosableSocket socket = new CloseFailureIsRawTest.UnclosableSocket(faked, closing::countDown);
        CountDownLatch hold = new CountDownLatch(1);
        try (CoroutinePool a = CoroutinePool.start("a", 1)) {
            CompletableFuture<TcpConnection> made = new CompletableFuture<>();
            TcpConnection.opener = () -> socket;
            CompletableFuture<Boolean> owner;
            try {
                owner = a.submit("owner", () -> {
                    try {
                        TcpConnection c = TcpConnection.connect(new InetSocketAddress("127.0.0.1", 1));
                        made.complete(c);
                        hold.await(); // blocked outside the library: the closes posted meanwhile wait
                        Coroutine.yield(); // a scheduling point: the thread runs them
                        return c.isOpen();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                });
                made.get();
            } finally {
                TcpConnection.opener = SocketChannel::open;
            }
            TcpConnection c = made.get();
            List<String> first = new ArrayList<>();
            Coroutine closer = Coroutine.create("closer-1", () -> closeLogging(c, "closer-1", first));
            while (closer.state() != State.PARKED) {
                Coroutine.yield(); // it posts its close and parks for the answer
            }
            List<String> second = new ArrayList<>();
            try {
                if (bothPosted) {
                    LoopProbe.beforeParkAcross(() -> { // the second caller, its close posted behind the first
                        LoopProbe.beforeParkAcross(null);
                        hold.countDown();
                    });
                } else {
                    LoopProbe.afterLivenessCheck(() -> { // the second caller, having found the connection open
                        LoopProbe.afterLivenessCheck(null);
                        hold.countDown(); // the owner runs the first close, whose socket fails to close
                        try {
                            closing.await();
                        } catch (InterruptedException e) {
                            throw new AssertionError(e);
                        }
                    });
                }
                Thread.ofPlatform().name("closer-2").start(() -> closeLogging(c, "closer-2", second)).join();
            } finally {
                LoopProbe.beforeParkAcross(null);
                LoopProbe.afterLivenessCheck(null);
                hold.countDown();
            }
            closer.join(); // the test's thread runs again: the first caller reads its answer only now
            assertThat(second).containsExactly("closer-2 returned; open: false");
            assertThat(first).containsExactly("closer-1 threw " + faked);
            assertThat(owner.get()).isFalse();
            assertThat(socket.isOpen()).isFalse();
            c.close(); // a third close: nothing is closed again, nothing thrown again
        }
    }

    /** As above, for a listener whose socket fails to close on its thread. */
    @Test
    @Timeout(30)
    void aCloseFromAnotherThreadWhoseListenersSocketFailsToCloseOnItsThreadThrowsThatFailureAsItIsAndTheListenerIsClosed()
            throws Exception {
        IOException faked = new IOException("faked: the close failed");
        CloseFailureIsRawTest.UnclosableServerSocket socket = new CloseFailureIsRawTest.UnclosableServerSocket(faked);
        try (CoroutinePool a = CoroutinePool.start("a", 1)) {
            TcpListener l = a.submit("owner", () -> {
                try {
                    return TcpListener.bind(LOOPBACK, false, () -> socket);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).get();
            assertThatThrownBy(l::close).isSameAs(faked);
            assertThat(faked.getSuppressed()).isEmpty();
            assertThat(socket.isOpen()).isFalse();
            assertThat(l.isOpen()).isFalse();
            assertThat(l).hasToString("TcpListener[" + LOOPBACK + ", closed]");
            l.close(); // twice is fine: nothing is closed again, nothing thrown again
        }
    }

    /**
     * Two coroutines of another thread close the connection at once while its thread is blocked outside the
     * library: each posts its close and waits, the dump naming that wait with the connection's thread (and showing the
     * call of {@code close()} on top of the caller's frames, as for any wait), and once that thread runs again both
     * return, the connection closed once.
     */
    @Test
    @Timeout(30)
    void twoClosesFromAnotherThreadAtOnceBothWaitNamedSoInTheDumpAndBothReturnOnceTheOwnerRunsAgain() throws Exception {
        CountDownLatch hold = new CountDownLatch(1);
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(LOOPBACK);
             CoroutinePool a = CoroutinePool.start("a", 1)) {
            CompletableFuture<TcpConnection> made = new CompletableFuture<>();
            CompletableFuture<String> owner = heldOwner(a, server, made, hold);
            try (SocketChannel peer = server.accept()) {
                TcpConnection c = made.get();
                List<String> log = new ArrayList<>();
                Coroutine first = Coroutine.create("closer-1", () -> closeLogging(c, "closer-1", log));
                Coroutine second = Coroutine.create("closer-2", () -> closeLogging(c, "closer-2", log));
                try {
                    for (int i = 0; i < 10 && !(first.state() == State.PARKED && second.state() == State.PARKED); i++) {
                        Coroutine.yield(); // each posts its close and parks for the answer
                    }
                    // the pool's thread, whose number the test does not know (on the thread engine the body runs on a thread of its own)
                    String waits = " waits to close " + name(c) + " of thread 'a-0' (#";
                    assertThat(Coroutine.dump())
                            .contains("coroutine 'closer-1': PARKED," + waits)
                            .contains("coroutine 'closer-2': PARKED," + waits);
                    assertThat(first.stackTrace()).as("the close the user called on top, then the user's frames")
                            .extracting(f -> f.getClassName() + "." + f.getMethodName()).startsWith(
                                    "dev.coro.net.TcpConnection.close", CloseFromAnotherThreadTest.class.getName() + ".closeLogging");
                } finally {
                    hold.countDown();
                }
                first.join();
                second.join();
                assertThat(log).containsExactlyInAnyOrder("closer-1 returned; open: false", "closer-2 returned; open: false");
                assertThat(owner.get()).isEqualTo("open after the hold: true; after a yield: false");
                assertThat(peer.read(ByteBuffer.allocate(1))).as("the peer reads the end of the stream").isEqualTo(-1);
            }
        }
    }

    /** Closes {@code c}, adding to {@code log} what became of the close of {@code who}. */
    private static void closeLogging(TcpConnection c, String who, List<String> log) {
        try {
            c.close();
            log.add(who + " returned; open: " + c.isOpen());
        } catch (Throwable e) {
            log.add(who + " threw " + e);
        }
    }

    /**
     * The owner closes the connection itself after another thread's close was posted to it, before it runs that
     * post: the posted close finds it closed and does nothing more; its caller returns, and a read parked there
     * failed once, for the owner's close.
     */
    @Test
    @Timeout(30)
    void aCloseFromAnotherThreadThatTheOwnersOwnCloseOvertakesReturnsHavingClosedNothingTwice() throws Exception {
        CountDownLatch hold = new CountDownLatch(1);
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(LOOPBACK);
             CoroutinePool a = CoroutinePool.start("a", 1)) {
            CompletableFuture<TcpConnection> made = new CompletableFuture<>();
            CompletableFuture<String> owner = a.submit("owner", () -> {
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
                    Coroutine.yield(); // it parks in its read
                    made.complete(c);
                    hold.await(); // blocked outside the library: the close posted meanwhile waits
                    c.close(); // the owner's own, first
                    reader.join(); // scheduling points: the posted close runs too
                    return result.toString();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            try (SocketChannel peer = server.accept()) {
                TcpConnection c = made.get();
                List<String> log = new ArrayList<>();
                Coroutine closer = Coroutine.create("closer", () -> closeLogging(c, "closer", log));
                try {
                    for (int i = 0; i < 10 && closer.state() != State.PARKED; i++) {
                        Coroutine.yield(); // it posts its close and parks for the answer
                    }
                    assertThat(closer.state()).isEqualTo(State.PARKED);
                } finally {
                    hold.countDown();
                }
                closer.join();
                assertThat(log).containsExactly("closer returned; open: false");
                assertThat(owner.get()).isEqualTo(closedWhileReading(c));
                assertThat(peer.read(ByteBuffer.allocate(1))).as("the peer reads the end of the stream").isEqualTo(-1);
            }
        }
    }

    /**
     * A plain thread that owns the connection ends, blocked outside the library until then, with the close of
     * another thread posted and never run: that close's caller, which waits for the answer, learns the thread
     * has ended (at its next check of the threads it waits for) and closes the connection itself, returning.
     */
    @Test
    @Timeout(30)
    void aCloseWhoseOwnersThreadEndsBeforeRunningItIsMadeByItsCallerAndReturns() throws Exception {
        CountDownLatch hold = new CountDownLatch(1);
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(LOOPBACK)) {
            CompletableFuture<TcpConnection> made = new CompletableFuture<>();
            Thread owner = Thread.ofPlatform().name("owner").start(() -> {
                try {
                    made.complete(TcpConnection.connect(server.getLocalAddress()));
                    hold.await(); // blocked outside the library, then it ends: the close posted meanwhile never runs there
                } catch (Throwable e) {
                    made.completeExceptionally(e);
                }
            });
            try (SocketChannel peer = server.accept()) {
                TcpConnection c = made.get();
                List<String> log = new ArrayList<>();
                Coroutine closer = Coroutine.create("closer", () -> closeLogging(c, "closer", log));
                try {
                    for (int i = 0; i < 10 && closer.state() != State.PARKED; i++) {
                        Coroutine.yield(); // it posts its close and parks for the answer
                    }
                    assertThat(closer.state()).isEqualTo(State.PARKED);
                } finally {
                    hold.countDown();
                }
                owner.join();
                closer.join();
                assertThat(log).containsExactly("closer returned; open: false");
                assertThat(peer.read(ByteBuffer.allocate(1))).as("the peer reads the end of the stream").isEqualTo(-1);
            }
        }
    }

    /**
     * The pool that owns the connection is closed while its thread is blocked outside the library with the close
     * of another thread posted to it: the thread leaves its loop without running that post, and the close is
     * made all the same, by the loop's end or by its caller, which returns.
     */
    @Test
    @Timeout(30)
    void aCloseWhoseOwnersPoolClosesBeforeRunningItIsMadeAllTheSameAndReturns() throws Exception {
        CountDownLatch hold = new CountDownLatch(1);
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(LOOPBACK)) {
            CoroutinePool a = CoroutinePool.start("a", 1);
            CompletableFuture<TcpConnection> made = new CompletableFuture<>();
            a.execute(() -> {
                try {
                    made.complete(TcpConnection.connect(server.getLocalAddress()));
                    hold.await(); // blocked outside the library: the close posted meanwhile is not run before the pool closes
                } catch (Throwable e) {
                    made.completeExceptionally(e);
                }
            });
            try (SocketChannel peer = server.accept()) {
                TcpConnection c = made.get();
                List<String> log = new ArrayList<>();
                Coroutine closer = Coroutine.create("closer", () -> closeLogging(c, "closer", log));
                CompletableFuture<Void> poolClosed = new CompletableFuture<>();
                try {
                    for (int i = 0; i < 10 && closer.state() != State.PARKED; i++) {
                        Coroutine.yield(); // it posts its close and parks for the answer
                    }
                    assertThat(closer.state()).isEqualTo(State.PARKED);
                    Thread.ofPlatform().name("pool-closer").start(() -> {
                        a.close(); // waits for the body, then the thread leaves its loop
                        poolClosed.complete(null);
                    });
                } finally {
                    hold.countDown();
                }
                closer.join();
                poolClosed.get();
                assertThat(log).containsExactly("closer returned; open: false");
                assertThat(peer.read(ByteBuffer.allocate(1))).as("the peer reads the end of the stream").isEqualTo(-1);
            }
        }
    }

    /**
     * A write parked on a full socket (the peer reads nothing yet) fails when another thread closes the
     * connection, as for a close on its own thread; nothing is lost: the peer then reads exactly the bytes the
     * writes said they wrote, the parked one's part included (its buffer's position), then the end of the stream.
     */
    @Test
    @Timeout(30)
    void aWriteParkedOnAFullSocketFailsWhenAnotherThreadClosesAndThePeerReadsExactlyTheBytesItWasToldOf()
            throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(LOOPBACK);
             CoroutinePool a = CoroutinePool.start("a", 1)) {
            CompletableFuture<TcpConnection> made = new CompletableFuture<>();
            AtomicLong written = new AtomicLong();
            CompletableFuture<String> wrote = a.submit("owner", () -> {
                try {
                    TcpConnection c = TcpConnection.connect(server.getLocalAddress());
                    StringBuilder result = new StringBuilder();
                    Coroutine writer = Coroutine.create("writer", () -> {
                        ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
                        try {
                            for (int i = 0; i < 256; i++) {
                                c.write(chunk.clear());
                                written.addAndGet(chunk.capacity());
                            }
                            result.append("wrote everything");
                        } catch (IOException e) {
                            written.addAndGet(chunk.position());
                            result.append("IOException: ").append(e.getMessage());
                        }
                    });
                    while (writer.state() != State.PARKED) {
                        Coroutine.yield();
                    }
                    made.complete(c);
                    writer.join();
                    return result.toString();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            try (SocketChannel peer = server.accept()) {
                TcpConnection c = made.get();
                c.close();
                assertThat(c.isOpen()).isFalse();
                assertThat(wrote.get()).isEqualTo("IOException: coroutine 'writer' cannot write to " + name(c)
                        + " (closed): the connection was closed while it waited");
                long read = 0;
                ByteBuffer in = ByteBuffer.allocate(1 << 16);
                for (int n; (n = peer.read(in.clear())) >= 0; ) {
                    read += n;
                }
                assertThat(read).as("the bytes the peer read, then the end of the stream").isEqualTo(written.get());
            }
        }
    }

    /**
     * A buffering wrapper's {@code close()} flushes before it closes: from another thread while the connection's
     * thread runs, the empty flush is let through as the close is, so the wrapper (a {@code BufferedOutputStream}, an
     * {@code OutputStreamWriter}) closes the connection without a refusal, the reader parked there failing as for any
     * close from afar; a wrapper holding bytes still has its write refused, the close made all the same.
     */
    @Test
    @Timeout(30)
    void aBufferingWrapperClosedFromAnotherThreadWhileTheOwnerRunsClosesTheConnectionWithoutARefusal() throws Exception {
        for (int wrapper = 0; wrapper < 3; wrapper++) {
            try (ServerSocketChannel server = ServerSocketChannel.open().bind(LOOPBACK);
                 CoroutinePool a = CoroutinePool.start("a", 1)) {
                CompletableFuture<TcpConnection> made = new CompletableFuture<>();
                CompletableFuture<String> read = readerParkedOn(a, server, made);
                try (SocketChannel peer = server.accept()) {
                    TcpConnection c = made.get();
                    Closeable closeable = switch (wrapper) {
                        case 0 -> new BufferedOutputStream(c.output());
                        case 1 -> new OutputStreamWriter(c.output(), StandardCharsets.UTF_8);
                        default -> {
                            BufferedOutputStream holding = new BufferedOutputStream(c.output());
                            holding.write('x'); // buffered: its close's flush writes it, from the wrong thread
                            yield holding;
                        }
                    };
                    CompletableFuture<String> closed = new CompletableFuture<>();
                    Thread closer = Thread.ofPlatform().name("closer").start(() -> {
                        try {
                            closeable.close();
                            closed.complete("closed");
                        } catch (Throwable e) {
                            closed.complete(e.getClass().getSimpleName() + ": " + e.getMessage());
                        }
                    });
                    closer.join();
                    String described = "thread 'closer' (#" + closer.threadId() + ")";
                    if (wrapper < 2) {
                        assertThat(closed.get()).as("wrapper " + wrapper).isEqualTo("closed");
                    } else {
                        assertThat(closed.get()).as("its buffered byte is a write, the owner's")
                                .startsWith("IllegalStateException: " + described + " cannot write to " + name(c)
                                        + " (open): it belongs to thread 'a-0' (#");
                    }
                    assertThat(c.isOpen()).as("closed through the wrapper " + wrapper).isFalse();
                    assertThat(read.get()).isEqualTo(closedWhileReading(c));
                    assertThat(peer.read(ByteBuffer.allocate(1))).as("the peer reads the end of the stream").isEqualTo(-1);
                }
            }
        }
    }

    /**
     * A close from another thread exchanges nothing with the connection's thread (no value can come through it
     * afterwards): that thread's deadlocks are still reported, as after a close of its own, where they would wait
     * for ever for a wake-up from another thread.
     */
    @Test
    @Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a deadlock not reported waits for ever
    void theOwnersDeadlockAfterAConnectionOfItsWasClosedFromAnotherThreadIsStillReported() throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(LOOPBACK)) {
            TcpConnection c = TcpConnection.connect(server.getLocalAddress());
            try (SocketChannel peer = server.accept()) {
                Thread closer = Thread.ofPlatform().name("closer").start(() -> {
                    try {
                        c.close();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                while (c.isOpen()) {
                    Coroutine.yield(); // a scheduling point: the thread runs the close posted to it
                }
                closer.join();
                Channel<String> idle = new Channel<>("idle", 0);
                Thread self = Thread.currentThread();
                assertThatThrownBy(idle::receive).isExactlyInstanceOf(DeadlockException.class)
                        .hasMessage("main context 'main' cannot receive from channel 'idle': every other context of thread '"
                                + self.getName() + "' (#" + self.threadId() + ") is parked and no timer is pending, so nothing"
                                + " could ever wake it (deadlock):\n  main context 'main' would wait to receive from channel 'idle'");
            }
        }
    }

    /**
     * Nor does the caller exchange anything with the connection's thread through its close, which it waited for:
     * the caller's own deadlocks are still reported afterwards (no pool being open, which another thread could
     * hand work from).
     */
    @Test
    @Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a deadlock not reported waits for ever
    void theCallersDeadlockAfterItClosedAConnectionOfAnotherThreadIsStillReported() throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(LOOPBACK)) {
            CompletableFuture<TcpConnection> made = new CompletableFuture<>();
            Thread owner = Thread.ofPlatform().name("owner").start(() -> {
                try {
                    TcpConnection c = TcpConnection.connect(server.getLocalAddress());
                    made.complete(c);
                    while (c.isOpen()) {
                        Coroutine.yield(); // a scheduling point: the thread runs the close posted to it
                    }
                } catch (Throwable e) {
                    made.completeExceptionally(e);
                }
            });
            try (SocketChannel peer = server.accept()) {
                TcpConnection c = made.get();
                c.close();
                owner.join();
                Channel<String> idle = new Channel<>("idle", 0);
                Thread self = Thread.currentThread();
                assertThatThrownBy(idle::receive).isExactlyInstanceOf(DeadlockException.class)
                        .hasMessage("main context 'main' cannot receive from channel 'idle': every other context of thread '"
                                + self.getName() + "' (#" + self.threadId() + ") is parked and no timer is pending, so nothing"
                                + " could ever wake it (deadlock):\n  main context 'main' would wait to receive from channel 'idle'");
            }
        }
    }
}
