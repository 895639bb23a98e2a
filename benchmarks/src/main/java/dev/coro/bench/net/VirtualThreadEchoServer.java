package dev.coro.bench.net;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An echo server with a virtual thread per connection doing plain blocking reads and writes on a
 * {@link SocketChannel}, and one more virtual thread accepting.
 *
 * <p>The JDK's scheduler decides where they run: by default a carrier per core; the runner also starts it
 * with one carrier ({@code -Djdk.virtualThreadScheduler.parallelism=1 -Djdk.virtualThreadScheduler.maxPoolSize=1}),
 * the same single thread of work as the event-loop servers. Each connection owns a 1 KiB heap buffer.
 * Run alone: {@code java -cp benchmarks.jar dev.coro.bench.net.VirtualThreadEchoServer <port>}.
 */
public final class VirtualThreadEchoServer implements EchoServer {

    /** Bytes of each connection's echo buffer. */
    static final int BUFFER_BYTES = 1024;

    private final ServerSocketChannel listener;
    private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;

    private VirtualThreadEchoServer(int port) throws IOException {
        listener = ServerSocketChannel.open();
        listener.bind(new InetSocketAddress(HOST, port), BACKLOG);
        acceptor = Thread.ofVirtual().name("vt-echo-acceptor").start(this::acceptLoop);
    }

    /**
     * Starts the server: the acceptor's virtual thread is running when this returns.
     *
     * @param port the port on 127.0.0.1, 0 for any
     * @return the running server
     * @throws IOException if the port cannot be bound
     */
    public static VirtualThreadEchoServer start(int port) throws IOException {
        return new VirtualThreadEchoServer(port);
    }

    /**
     * Runs the server until the JVM is stopped.
     *
     * @param args {@code <port>}
     * @throws Exception if the server cannot start
     */
    public static void main(String[] args) throws Exception {
        EchoServer.serveUntilStopped("vt", start(EchoServer.portArgument(args)));
    }

    @Override
    public int port() {
        return listener.socket().getLocalPort();
    }

    private void acceptLoop() {
        try {
            while (true) {
                SocketChannel ch = listener.accept();
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                open.add(ch);
                Thread.ofVirtual().start(() -> echo(ch));
            }
        } catch (ClosedChannelException e) {
            // close(): stop accepting
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void echo(SocketChannel ch) {
        ByteBuffer buffer = ByteBuffer.allocate(BUFFER_BYTES);
        try (ch) {
            while (ch.read(buffer) >= 0) {
                buffer.flip();
                while (buffer.hasRemaining()) {
                    ch.write(buffer);
                }
                buffer.clear();
            }
        } catch (IOException e) {
            // reset by the peer (the load generator closes with RST), or closed by close()
        } finally {
            open.remove(ch);
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        listener.close();
        acceptor.join();
        for (SocketChannel ch : open) {
            ch.close();
        }
    }
}
