package dev.coro.examples;

import dev.coro.net.Io;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A coro server on a platform thread of its own, for tests that talk to it from the test's thread
 * with plain blocking sockets; {@link #close()} stops it from the test's thread.
 *
 * <p>The server thread's main starts the server (its coroutines), then parks in {@link Io#await} on
 * the read end of a pipe: the server's coroutines run meanwhile. Coro objects belong to their thread,
 * so {@code close()} only writes a byte into the pipe; main wakes, closes the server there, and the
 * thread ends. A failure of the server (a coroutine's exception reaches main) is rethrown by {@code close()}.
 */
final class ServerThread implements AutoCloseable {

    /** Starts a server bound to the given address, on the calling (server) thread. */
    interface Starter {
        /**
         * Starts the server.
         *
         * @param address 127.0.0.1, port 0
         * @return the running server and where it listens
         * @throws IOException if it cannot bind
         */
        Started start(SocketAddress address) throws IOException;
    }

    /**
     * A started server.
     *
     * @param address where it listens
     * @param server  closing it stops it
     */
    record Started(SocketAddress address, Closeable server) {
    }

    /** A guard against a hang, not a timing threshold. */
    private static final long GUARD_SECONDS = 60;

    private final Pipe stop;
    private final Thread thread;
    private final CompletableFuture<SocketAddress> address = new CompletableFuture<>();
    private final CompletableFuture<Void> ended = new CompletableFuture<>();

    private ServerThread(Starter starter) throws IOException {
        stop = Pipe.open();
        stop.source().configureBlocking(false);
        thread = Thread.ofPlatform().name("coro-server").start(() -> run(starter));
    }

    /**
     * Starts a server on a new thread, and returns once it listens.
     *
     * @param starter starts the server on that thread
     * @return the running server thread
     * @throws Exception if the server could not start
     */
    static ServerThread start(Starter starter) throws Exception {
        ServerThread t = new ServerThread(starter);
        try {
            t.address.get(GUARD_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            t.thread.join();
            throw (Exception) e.getCause();
        }
        return t;
    }

    private void run(Starter starter) {
        Started started;
        try {
            started = starter.start(new InetSocketAddress("127.0.0.1", 0));
        } catch (Throwable e) {
            address.completeExceptionally(e);
            ended.completeExceptionally(e);
            return;
        }
        try (Closeable server = started.server()) {
            address.complete(started.address());
            ByteBuffer one = ByteBuffer.allocate(1);
            while (stop.source().read(one) == 0) {
                Io.await(stop.source(), SelectionKey.OP_READ);  // the server's coroutines run meanwhile
            }
            // leaving the try closes the server: its coroutines unwind, its listener closes
        } catch (Throwable e) {
            ended.completeExceptionally(e);
            return;
        }
        ended.complete(null);
    }

    /** @return the port the server listens on */
    int port() {
        return ((InetSocketAddress) address.join()).getPort();
    }

    /**
     * Stops the server from the calling thread and waits for its thread to end.
     *
     * @throws Exception what the server thread failed with, if it did
     */
    @Override
    public void close() throws Exception {
        try {
            stop.sink().write(ByteBuffer.wrap(new byte[] {1}));
            ended.get(GUARD_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("the server thread failed", e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError("the server thread did not stop within " + GUARD_SECONDS + " s");
        } finally {
            thread.join(TimeUnit.SECONDS.toMillis(GUARD_SECONDS));
            stop.source().close();
            stop.sink().close();
        }
    }
}
