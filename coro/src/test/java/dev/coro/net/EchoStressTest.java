package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.LoopProbe;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Ten thousand connections open at once on one server thread, each echoing a hundred messages of
 * random sizes from 1 B to 64 KiB: every byte comes back in order, on both engines.
 *
 * <p>The server runs here, on one thread: an acceptor and a coroutine per connection. The clients run
 * in a child JVM ({@link EchoClientsMain}), one thread with a coroutine per connection: this machine's
 * limit of 20,000 descriptors per process cannot hold both ends of 10,000 connections plus the JVM's
 * own. Where the limit is lower still, the count is scaled down to fit and the test says so.
 *
 * <p>Message sizes are log-uniform (each power of two up to 64 KiB as likely): some messages are 64
 * KiB, most are small, and the run moves about 4 GB each way instead of the 32 GB uniform sizes would,
 * which keeps it to a bounded time on a small machine. Each connection's writer runs at most
 * {@value EchoClientsMain#WINDOW} messages ahead of its reader. Every handler waits until all
 * connections are accepted before it echoes, so that all are provably open at once.
 */
@Tag("stress")
class EchoStressTest {

    private static final int CONNECTIONS = 10_000;
    private static final int MESSAGES = 100;
    private static final int MAX_SIZE = 64 * 1024;
    private static final long SEED = 42;

    private final CompletableFuture<Integer> port = new CompletableFuture<>();
    private final CompletableFuture<Integer> controlPort = new CompletableFuture<>();
    private final AtomicReference<Throwable> serverFailure = new AtomicReference<>();
    private final List<String> handlerFailures = new ArrayList<>();
    private int open;
    private int maxOpen;
    private long echoed;

    @Test
    void tenThousandConnectionsOnOneServerThreadEchoEveryByteInOrder() throws Exception {
        long limit = descriptorLimit();
        long inUse = RegistrationTest.openDescriptors();
        int connections = (int) Math.min(CONNECTIONS, limit - inUse - 200);
        if (connections < CONNECTIONS) {
            System.out.println("EchoStressTest: the descriptor limit " + limit + " allows " + connections
                    + " connections per process, not " + CONNECTIONS + ": scaled down");
        }
        int messages = MESSAGES;

        Thread server = Thread.ofPlatform().name("echo-server").daemon(true).start(() -> {
            try {
                serve(connections);
            } catch (Throwable e) {
                serverFailure.set(e);
            }
        });
        long start = System.nanoTime();
        ChildJvm.Result clients = ChildJvm.run("", EchoClientsMain.class, List.of("-Xmx1g"),
                List.of(String.valueOf(port.get(1, TimeUnit.MINUTES)), String.valueOf(connections),
                        String.valueOf(messages), String.valueOf(MAX_SIZE), String.valueOf(SEED)),
                Duration.ofMinutes(20));
        if (clients.exitCode() != 0) {
            // the server stops waiting for them
            new java.net.Socket("127.0.0.1", controlPort.get(1, TimeUnit.MINUTES)).close();
        }
        server.join(TimeUnit.MINUTES.toMillis(2));
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
        System.out.println("EchoStressTest (" + LoopProbe.engine() + "): " + connections + " connections x "
                + messages + " messages, " + echoed + " bytes echoed each way in " + seconds + " s; clients: "
                + clients.lines());

        assertThat(clients.exitCode()).as("the clients' exit code; their output:\n%s", clients.output()).isZero();
        assertThat(server.isAlive()).as("the server thread ended").isFalse();
        assertThat(serverFailure.get()).isNull();
        assertThat(handlerFailures).isEmpty();
        assertThat(maxOpen).as("connections open at once on the server thread").isEqualTo(connections);
        assertThat(clients.lines()).contains("engine " + LoopProbe.engine(),
                "all " + connections + " connected at once",
                "ok: " + connections + " connections, " + messages + " messages each, " + echoed + " bytes echoed");
    }

    /** This process's soft limit of open file descriptors, from {@code /proc/self/limits} (Linux). */
    private static long descriptorLimit() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
            if (line.startsWith("Max open files")) {
                return Long.parseLong(line.substring("Max open files".length()).trim().split("\\s+")[0]);
            }
        }
        throw new AssertionError("no 'Max open files' in /proc/self/limits");
    }

    /** The server thread: accepts every connection, then lets each handler echo until the client's end of stream. */
    private void serve(int connections) throws IOException {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpListener control = TcpListener.bind(LOOPBACK)) {
            controlPort.complete(((InetSocketAddress) control.localAddress()).getPort());
            port.complete(((InetSocketAddress) listener.localAddress()).getPort());
            Channel<Boolean> allAccepted = new Channel<>("all-accepted", 0);
            List<TcpConnection> accepted = new ArrayList<>();
            Crew crew = new Crew();
            crew.spawn("acceptor", () -> {
                try {
                    for (int i = 0; i < connections; i++) {
                        TcpConnection c = listener.accept();
                        accepted.add(c);
                        maxOpen = Math.max(maxOpen, ++open);
                        crew.spawn("echo-" + i, () -> echo(c, allAccepted));
                    }
                    allAccepted.close();
                } catch (IOException e) {
                    handlerFailures.add("acceptor: " + e.getMessage());
                }
            });
            Coroutine stopper = crew.spawn("stopper", () -> {
                control.accept().close(); // the test connects here if the clients failed: stop waiting for them
                allAccepted.close();
                listener.close();
                for (TcpConnection c : accepted) {
                    c.close();
                }
            });
            while (crew.running() > 1) {
                crew.awaitOne();
            }
            stopper.close();
            crew.join();
            assertThat(LoopProbe.ioWaits()).isZero();
        }
        assertThat(LoopProbe.registeredChannels()).as("all channels closed through their owner").isZero();
    }

    private void echo(TcpConnection c, Channel<Boolean> allAccepted) {
        for (Boolean ignored : allAccepted) {
            // until every connection is accepted
        }
        ByteBuffer buf = ByteBuffer.allocate(8192);
        try (c) {
            int n;
            while ((n = c.read(buf.clear())) >= 0) {
                echoed += n;
                c.write(buf.flip());
            }
        } catch (IOException e) {
            handlerFailures.add(Coroutine.current().name() + ": " + e.getMessage());
        } finally {
            open--;
        }
    }
}
