package dev.coro.bench.net;

import java.io.IOException;
import java.util.concurrent.CountDownLatch;

/**
 * An echo server under test: it listens on 127.0.0.1 and writes back every byte it reads, on the same
 * connection, until the client closes it.
 *
 * <p>Each implementation is a main class started alone in its own JVM by {@code benchmarks/net.sh}
 * ({@code main(port)}), and can also be started in-process on port 0 by a test. All of them use the same
 * listen backlog and set {@code TCP_NODELAY} on accepted connections.
 */
public interface EchoServer extends AutoCloseable {

    /** The listen backlog of every server (Linux caps it at {@code net.core.somaxconn}, 4096 by default). */
    int BACKLOG = 4096;

    /** The address every server binds: loopback only. */
    String HOST = "127.0.0.1";

    /** @return the port the server listens on (the real one when it was asked for port 0) */
    int port();

    /** Stops accepting, closes every connection and ends the server's threads. */
    @Override
    void close() throws IOException, InterruptedException;

    /**
     * The common end of every server's {@code main}: prints the ready line the runner waits for, closes the
     * server when the JVM is asked to stop (SIGTERM), and blocks until then.
     *
     * @param name the server's name, as the runner knows it
     * @param server the started server
     * @throws InterruptedException if the main thread is interrupted
     */
    static void serveUntilStopped(String name, EchoServer server) throws InterruptedException {
        CountDownLatch forever = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } catch (IOException | InterruptedException e) {
                // the JVM is going away: nothing left to do
            }
        }));
        System.out.println("READY " + name + " port=" + server.port() + " pid=" + ProcessHandle.current().pid()
                + " java=" + Runtime.version());
        System.out.flush();
        forever.await();
    }

    /**
     * Parses the port argument every server's {@code main} takes.
     *
     * @param args {@code <port>}
     * @return the port (0 for any)
     */
    static int portArgument(String[] args) {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: <server main class> <port>");
        }
        return Integer.parseInt(args[0]);
    }
}
