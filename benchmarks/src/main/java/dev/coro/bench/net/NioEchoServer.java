package dev.coro.bench.net;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.function.Consumer;

/**
 * An echo server written by hand on one thread: a non-blocking NIO selector loop that accepts, reads into
 * one shared buffer and writes straight back — the floor of what one thread can do with the JDK's NIO.
 *
 * <p>Per connection it keeps nothing but its selection key, plus, only while the socket's send buffer is
 * full, a copy of the bytes not yet written (the connection stops being read until they are gone).
 * Run alone: {@code java -cp benchmarks.jar dev.coro.bench.net.NioEchoServer <port>}.
 */
public final class NioEchoServer implements EchoServer {

    private final Selector selector;
    private final ServerSocketChannel listener;
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(64 * 1024);
    private final Consumer<SelectionKey> onReady = this::ready;
    private final Thread loop;
    private volatile boolean stopping;

    private NioEchoServer(int port) throws IOException {
        selector = Selector.open();
        listener = ServerSocketChannel.open();
        listener.bind(new InetSocketAddress(HOST, port), BACKLOG);
        listener.configureBlocking(false);
        listener.register(selector, SelectionKey.OP_ACCEPT);
        loop = Thread.ofPlatform().name("nio-echo").start(this::run);
    }

    /**
     * Starts the server and its loop thread.
     *
     * @param port the port on 127.0.0.1, 0 for any
     * @return the running server
     * @throws IOException if the port cannot be bound
     */
    public static NioEchoServer start(int port) throws IOException {
        return new NioEchoServer(port);
    }

    /**
     * Runs the server until the JVM is stopped.
     *
     * @param args {@code <port>}
     * @throws Exception if the server cannot start
     */
    public static void main(String[] args) throws Exception {
        EchoServer.serveUntilStopped("nio", start(EchoServer.portArgument(args)));
    }

    @Override
    public int port() {
        return listener.socket().getLocalPort();
    }

    private void run() {
        try {
            while (!stopping) {
                selector.select(onReady);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } finally {
            for (SelectionKey key : selector.keys()) {
                closeQuietly(key);
            }
            try {
                selector.close();
            } catch (IOException e) {
                // stopping anyway
            }
        }
    }

    private void ready(SelectionKey key) {
        try {
            if (key.isAcceptable()) {
                accept();
                return;
            }
            if (key.isWritable()) {
                drain(key);
            } else if (key.isReadable()) {
                echo(key);
            }
        } catch (IOException e) {
            closeQuietly(key); // reset by the peer (the load generator closes with RST) or a write failure
        }
    }

    private void accept() throws IOException {
        SocketChannel ch;
        while ((ch = listener.accept()) != null) {
            ch.configureBlocking(false);
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ch.register(selector, SelectionKey.OP_READ);
        }
    }

    private void echo(SelectionKey key) throws IOException {
        SocketChannel ch = (SocketChannel) key.channel();
        buffer.clear();
        int n = ch.read(buffer);
        if (n < 0) {
            closeQuietly(key);
            return;
        }
        buffer.flip();
        ch.write(buffer);
        if (buffer.hasRemaining()) { // the send buffer is full: keep the rest and stop reading until it is out
            ByteBuffer pending = ByteBuffer.allocate(buffer.remaining());
            pending.put(buffer).flip();
            key.attach(pending);
            key.interestOps(SelectionKey.OP_WRITE);
        }
    }

    private static void drain(SelectionKey key) throws IOException {
        ByteBuffer pending = (ByteBuffer) key.attachment();
        ((SocketChannel) key.channel()).write(pending);
        if (!pending.hasRemaining()) {
            key.attach(null);
            key.interestOps(SelectionKey.OP_READ);
        }
    }

    private static void closeQuietly(SelectionKey key) {
        key.cancel();
        try {
            key.channel().close();
        } catch (IOException e) {
            // already gone
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        stopping = true;
        selector.wakeup();
        loop.join();
    }
}
