package dev.coro.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine;
import dev.coro.VirtualTime;
import dev.coro.net.TcpListener;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The echo server, on a thread of its own, echoes to plain blocking sockets of the test's thread:
 * line by line on several connections at once, a megabyte whole, after a reset client; and its
 * client mode prints the echo. Every wait is bounded by a guard against a hang, not a timing threshold.
 */
class EchoServerTest {

    /** A guard against a hang (socket reads, the log queue), not a timing threshold. */
    private static final int GUARD_MILLIS = 60_000;

    /** What the server logged, in order: a line whenever a connection ends. */
    private final BlockingQueue<String> log = new LinkedBlockingQueue<>();

    private ServerThread startServer() throws Exception {
        return ServerThread.start(address -> {
            EchoServer server = EchoServer.start(address, log::add);
            return new ServerThread.Started(server.address(), server);
        });
    }

    private static Socket connect(ServerThread server) throws Exception {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", server.port()), GUARD_MILLIS);
        s.setSoTimeout(GUARD_MILLIS);
        return s;
    }

    @Test
    void threeConnectionsAtOnceGetEachOfTheirLinesBack() throws Exception {
        try (ServerThread server = startServer()) {
            List<Socket> sockets = new ArrayList<>();
            try {
                for (int k = 0; k < 3; k++) {
                    sockets.add(connect(server));
                }
                List<PrintWriter> outs = new ArrayList<>();
                List<BufferedReader> ins = new ArrayList<>();
                for (Socket s : sockets) {
                    outs.add(new PrintWriter(s.getOutputStream(), true, UTF_8));
                    ins.add(new BufferedReader(new InputStreamReader(s.getInputStream(), UTF_8)));
                }
                List<String> echoes = new ArrayList<>();
                for (int round = 0; round < 3; round++) {
                    for (int k = 0; k < 3; k++) {     // every connection has a line in flight at once
                        outs.get(k).println("line " + round + " of connection " + k);
                    }
                    for (int k = 0; k < 3; k++) {
                        echoes.add(ins.get(k).readLine());
                    }
                }
                assertThat(echoes).containsExactly(
                        "line 0 of connection 0", "line 0 of connection 1", "line 0 of connection 2",
                        "line 1 of connection 0", "line 1 of connection 1", "line 1 of connection 2",
                        "line 2 of connection 0", "line 2 of connection 1", "line 2 of connection 2");
                for (int k = 0; k < 3; k++) {
                    sockets.get(k).shutdownOutput();  // the server reads the end, logs and closes its end
                    assertThat(ins.get(k).read()).as("end of connection %d", k).isEqualTo(-1);
                }
            } finally {
                for (Socket s : sockets) {
                    s.close();
                }
            }
        }
        // each of the 3 connections: 3 lines of 23 bytes with their newlines
        assertThat(List.copyOf(log)).hasSize(3).allMatch(line -> line.matches("/127\\.0\\.0\\.1:\\d+ closed after 69 bytes"));
    }

    @Test
    void aMegabyteComesBackWholeWhileTheClientIsStillSending() throws Exception {
        byte[] sent = new byte[1 << 20];
        new Random(42).nextBytes(sent);
        try (ServerThread server = startServer(); Socket s = connect(server)) {
            // more than the socket buffers hold: the server's writes park until the test reads
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    OutputStream out = s.getOutputStream();
                    out.write(sent);
                    s.shutdownOutput();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            byte[] got = s.getInputStream().readAllBytes();
            assertThat(writer.join(java.time.Duration.ofMillis(GUARD_MILLIS))).as("the writer ended").isTrue();
            assertThat(got).hasSize(sent.length).isEqualTo(sent);
        }
        assertThat(log.poll(GUARD_MILLIS, TimeUnit.MILLISECONDS)).endsWith(" closed after 1048576 bytes");
    }

    @Test
    void aResetClientIsLoggedAndTheServerKeepsServing() throws Exception {
        try (ServerThread server = startServer()) {
            int port;
            try (Socket s = connect(server)) {
                port = s.getLocalPort();
                s.getOutputStream().write('x');
                assertThat(s.getInputStream().read()).isEqualTo('x');
                s.setSoLinger(true, 0);                   // close with a reset
            }
            String logged = log.poll(GUARD_MILLIS, TimeUnit.MILLISECONDS);
            assertThat(logged).startsWith("coroutine 'echo /127.0.0.1:" + port + "' cannot read from connection /127.0.0.1:")
                    .contains(" -> /127.0.0.1:" + port + " (open): java.net.SocketException: Connection reset");
            try (Socket s = connect(server)) {
                s.getOutputStream().write("still here\n".getBytes(UTF_8));
                assertThat(new BufferedReader(new InputStreamReader(s.getInputStream(), UTF_8)).readLine())
                        .isEqualTo("still here");
            }
        }
    }

    @Test
    void theClientModePrintsTheEchoOfItsMessage() throws Exception {
        try (ServerThread server = startServer()) {
            String printed = ReadmeSnippetsTest.printed(() -> {
                try {
                    EchoServer.main(new String[] {"client", String.valueOf(server.port()), "hello,", "echo"});
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            assertThat(printed).isEqualTo("hello, echo\n");
        }
        assertThat(log.poll(GUARD_MILLIS, TimeUnit.MILLISECONDS)).endsWith(" closed after 12 bytes");
    }

    @Test
    void aFreshServerHasEchoedNothing() throws Exception {
        try (ServerThread server = startServer(); Socket s = connect(server)) {
            InputStream in = s.getInputStream();
            s.shutdownOutput();
            assertThat(in.read()).isEqualTo(-1);
        }
        assertThat(log.poll(GUARD_MILLIS, TimeUnit.MILLISECONDS)).endsWith(" closed after 0 bytes");
    }

    /**
     * A server made with the constructor, its {@code serve()} run by a coroutine of the caller's, is
     * stopped by {@code close()} too: the accept that fails on the closed listener ends the loop,
     * which had taken it for a failure to retry (out of descriptors) and tried again every 100 ms for
     * ever. On the virtual clock, so that a second of retries takes no real time.
     */
    @Test
    @Timeout(60)
    void closeEndsAServeLoopRunByACoroutineOfTheCallerInsteadOfRetryingTheClosedListener() {
        List<String> logged = new ArrayList<>();
        List<Coroutine.State> states = new ArrayList<>();
        VirtualTime.run(() -> {
            EchoServer server;
            try {
                server = new EchoServer(TcpListener.bind(new InetSocketAddress("127.0.0.1", 0)), logged::add);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Coroutine serving = Coroutine.create("serving", server::serve);
            Coroutine.yield();                                     // it parks in accept
            states.add(serving.state());
            try {
                server.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Coroutine.sleep(Duration.ofSeconds(1));                // ten retries' worth
            states.add(serving.state());
            serving.close();                                       // a no-op once it has ended
        });
        assertThat(states).containsExactly(Coroutine.State.PARKED, Coroutine.State.FINISHED);
        assertThat(logged).isEmpty();
    }
}
