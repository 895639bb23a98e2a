package dev.coro.bench.net;

import dev.coro.Coroutine;
import dev.coro.net.TcpConnection;
import dev.coro.net.TcpListener;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * An echo server on coro: one platform thread whose main accepts in a loop on a {@link TcpListener}
 * and creates a coroutine per connection, which reads into its own 1 KiB heap buffer and writes it
 * back with {@link TcpConnection}; every wait parks a coroutine on the thread's event loop.
 *
 * <p>On the continuation engine by default (the JVM needs
 * {@code --add-exports=java.base/jdk.internal.vm=ALL-UNNAMED}); {@code -Dcoro.engine=threads} runs the
 * same code on the thread engine (each coroutine a virtual thread, strict handoff). The buffer is the
 * virtual-thread server's size. {@code TCP_NODELAY} is on ({@code TcpConnection} sets it) and the
 * backlog is {@link TcpListener#BACKLOG}, the same as {@link EchoServer#BACKLOG}.
 *
 * <p>Stopping: coro objects belong to their thread, so {@link #close()}, called from any other thread,
 * sets a volatile flag and then connects to the listener; that connection wakes main from
 * {@code accept()}, main sees the flag, closes it, closes every connection's coroutine (each unwinds
 * and closes its connection), closes the listener and ends the thread, which {@code close()} joins.
 * Run alone: {@code java --add-exports=java.base/jdk.internal.vm=ALL-UNNAMED -cp benchmarks.jar
 * dev.coro.bench.net.CoroEchoServer <port>}.
 */
public final class CoroEchoServer implements EchoServer {

    /** Bytes of each connection's echo buffer, as in {@link VirtualThreadEchoServer}. */
    static final int BUFFER_BYTES = VirtualThreadEchoServer.BUFFER_BYTES;

    private final CompletableFuture<Integer> bound = new CompletableFuture<>();
    private final Thread loop;
    private final int port;
    /** Set by {@link #close()} before its wake-up connection: main stops at the next accept. */
    private volatile boolean stopping;

    private CoroEchoServer(int port) throws IOException {
        loop = Thread.ofPlatform().name("coro-echo").start(() -> serve(port));
        try {
            this.port = bound.get();
        } catch (ExecutionException e) {
            joinQuietly();
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while the coro echo server was binding");
        }
    }

    /**
     * Starts the server: its thread is bound and about to accept when this returns.
     *
     * @param port the port on 127.0.0.1, 0 for any
     * @return the running server
     * @throws IOException if the port cannot be bound
     */
    public static CoroEchoServer start(int port) throws IOException {
        return new CoroEchoServer(port);
    }

    /**
     * Runs the server until the JVM is stopped.
     *
     * @param args {@code <port>}
     * @throws Exception if the server cannot start
     */
    public static void main(String[] args) throws Exception {
        String engine = System.getProperty("coro.engine", "auto");
        EchoServer.serveUntilStopped(engine.equals("threads") ? "coro-threads" : "coro",
                start(EchoServer.portArgument(args)));
    }

    @Override
    public int port() {
        return port;
    }

    /** The server thread's main: accepts until {@link #stopping}, a coroutine per connection. */
    private void serve(int requestedPort) {
        Set<Coroutine> open = new HashSet<>();
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress(HOST, requestedPort))) {
            bound.complete(((InetSocketAddress) listener.localAddress()).getPort());
            while (true) {
                TcpConnection c = listener.accept();        // parks main; the connections run meanwhile
                if (stopping) {
                    c.close();                              // close()'s wake-up connection, or one that raced it
                    break;
                }
                open.add(Coroutine.create(() -> echo(c, open)));
            }
            for (Coroutine c : List.copyOf(open)) {
                c.close();                                  // unwinds it out of its read or write
            }
        } catch (IOException e) {
            if (!bound.completeExceptionally(e)) {
                throw new UncheckedIOException(e);          // accept failed: the thread dies, and says why
            }
        }
    }

    /** A connection's coroutine: reads and writes back until the client closes or resets the connection. */
    private static void echo(TcpConnection c, Set<Coroutine> open) {
        ByteBuffer buffer = ByteBuffer.allocate(BUFFER_BYTES);
        try (c) {
            while (c.read(buffer.clear()) >= 0) {
                c.write(buffer.flip());
            }
        } catch (IOException e) {
            // reset by the peer (the load generator closes with RST)
        } finally {
            open.remove(Coroutine.current());
        }
    }

    /**
     * Stops the server from any thread but its own: sets the flag, wakes main with a connection, and
     * waits for the server's thread to end. Calling it twice is fine.
     */
    @Override
    public void close() throws InterruptedException {
        if (!stopping) {
            stopping = true;
            try (SocketChannel wake = SocketChannel.open(new InetSocketAddress(HOST, port))) {
                // connected: main will accept it (or an earlier connection) and see the flag
            } catch (IOException e) {
                // nothing listens any more: the server's thread has ended already
            }
        }
        loop.join();
    }

    private void joinQuietly() {
        try {
            loop.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
