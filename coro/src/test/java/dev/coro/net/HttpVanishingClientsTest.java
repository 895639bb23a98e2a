package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine;
import dev.coro.CoroutineTimeoutException;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The clients an HTTP server meets that go away or never speak end only their own connection's
 * coroutine, with a failure that names it, the call and the connection, and give back its descriptor:
 * a client that resets its connection in the middle of a request (the server's read fails), one that
 * resets it in the middle of a response larger than the socket buffers (the server's parked write
 * fails), and one that never sends, dropped by an idle timeout (a {@code withTimeout} around the read).
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
@Timeout(60)
class HttpVanishingClientsTest {

    private final List<String> log = Collections.synchronizedList(new ArrayList<>());

    @Test
    void aClientResetMidRequestOrMidResponseFailsOnlyItsServerCoroutineNamingTheConnectionAndFreesItsDescriptor() throws Exception {
        resetMidRequestAndMidResponse(); // the descriptors the JDK opens at its first use of a thing, open before counting
        long before = RegistrationTest.openDescriptors();
        resetMidRequestAndMidResponse();
        assertThat(RegistrationTest.openDescriptors()).isLessThanOrEqualTo(before);
    }

    private void resetMidRequestAndMidResponse() throws Exception {
        log.clear();
        SocketAddress midRequest;
        SocketAddress midResponse;
        SocketAddress server;
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            server = listener.localAddress();
            Crew crew = new Crew();
            MiniHttp.acceptLoop(listener, crew, MiniHttp::answer, log);
            try (TcpConnection c = TcpConnection.connect(server)) {
                midRequest = c.localAddress();
                c.write(ByteBuffer.wrap("GET /x HTTP/1.1\r\nHo".getBytes(StandardCharsets.ISO_8859_1)));
                c.setOption(StandardSocketOptions.SO_LINGER, 0); // the close resets
                String waiting = "coroutine 'conn-0': PARKED, waits to read from connection " + server + " -> " + midRequest;
                for (int i = 0; i < 100 && !Coroutine.dump().contains(waiting); i++) {
                    Coroutine.yield(); // until the server has accepted the connection and waits to read from it
                }
                assertThat(Coroutine.dump()).contains(waiting);
            }
            try (TcpConnection c = TcpConnection.connect(server)) {
                midResponse = c.localAddress();
                c.write(ByteBuffer.wrap(MiniHttp.get("/bytes/" + (16 << 20))));
                ByteBuffer some = ByteBuffer.allocate(100_000);
                while (some.hasRemaining() && c.read(some) >= 0) {
                    // part of the response
                }
                c.setOption(StandardSocketOptions.SO_LINGER, 0);
            }
            while (log.size() < 2) {
                crew.awaitOne();
            }
            assertThat(log).containsExactly(
                    "conn-0: java.net.SocketException: coroutine 'conn-0' cannot read from connection " + server + " -> " + midRequest
                            + " (open): java.net.SocketException: Connection reset",
                    "conn-1: java.net.SocketException: coroutine 'conn-1' cannot write to connection " + server + " -> " + midResponse
                            + " (open): java.io.IOException: Connection reset by peer");
            assertThat(LoopProbe.ioWaits()).as("the acceptor's alone").isEqualTo(1);
            listener.close();
            crew.join();
        }
        assertThat(log).hasSize(3).last().isEqualTo("acceptor: java.io.IOException: coroutine 'acceptor' cannot accept on listener "
                + server + " (closed): the listener was closed while it waited");
        assertThat(LoopProbe.ioWaits()).isZero();
        assertThat(LoopProbe.registeredChannels()).isZero();
        assertThat(LoopProbe.selectorOpen()).isFalse();
    }

    @Test
    void aClientThatNeverSendsIsDroppedByAnIdleTimeoutAroundTheReadWhichEndsItsCoroutineAndFreesItsDescriptor() throws Exception {
        silentAndHalfRequestDropped(); // the descriptors the JDK opens at its first use of a thing, open before counting
        long before = RegistrationTest.openDescriptors();
        silentAndHalfRequestDropped();
        assertThat(RegistrationTest.openDescriptors()).isLessThanOrEqualTo(before);
    }

    private void silentAndHalfRequestDropped() throws Exception {
        log.clear();
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            Crew crew = new Crew();
            crew.spawn("conn", () -> {
                try (TcpConnection c = listener.accept()) {
                    MiniHttp.Reader in = new MiniHttp.Reader(c);
                    try {
                        Coroutine.callWithTimeout(Duration.ofMillis(50), in::request);
                        log.add("a request came");
                    } catch (CoroutineTimeoutException e) {
                        log.add(e.getMessage() + "; read " + in.bytesRead);
                    }
                }
            });
            try (TcpConnection silent = TcpConnection.connect(listener.localAddress());
                 TcpConnection half = TcpConnection.connect(listener.localAddress())) {
                half.write(ByteBuffer.wrap("GET / HT".getBytes(StandardCharsets.ISO_8859_1)));
                assertThat(silent.read(ByteBuffer.allocate(1))).as("the server's close").isEqualTo(-1);
                crew.join();
                assertThat(log).containsExactly("coroutine 'conn' timed out: withTimeout(PT0.05S) expired before its body returned; read 0");
                // the other connection, never accepted, is still served as a second one would be
                crew.spawn("conn-2", () -> {
                    try (TcpConnection c = listener.accept()) {
                        MiniHttp.Reader in = new MiniHttp.Reader(c);
                        try {
                            Coroutine.callWithTimeout(Duration.ofMillis(50), in::request);
                        } catch (CoroutineTimeoutException e) {
                            log.add(e.getMessage() + "; read " + in.bytesRead);
                        }
                    }
                });
                assertThat(half.read(ByteBuffer.allocate(1))).isEqualTo(-1);
                crew.join();
            }
        }
        assertThat(log).containsExactly("coroutine 'conn' timed out: withTimeout(PT0.05S) expired before its body returned; read 0",
                "coroutine 'conn-2' timed out: withTimeout(PT0.05S) expired before its body returned; read 8");
        assertThat(LoopProbe.ioWaits()).isZero();
        assertThat(LoopProbe.registeredChannels()).isZero();
        assertThat(LoopProbe.selectorOpen()).isFalse();
    }
}
