package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine;
import dev.coro.CoroutinePool;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An HTTP/1.1 server on {@code dev.coro.net} answers every request of a kept-alive connection once, in
 * order, byte for byte, however its bytes arrive: many requests one after the other on each connection,
 * twenty pipelined requests in one segment (the server's reads take several from one read, and leave
 * the next in its buffer), and a request that arrives one byte per segment (each read takes one byte
 * and waits for readiness again).
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
@Timeout(60)
class HttpKeepAliveAndPipeliningTest {

    private final List<String> log = Collections.synchronizedList(new ArrayList<>());

    @Test
    void everyRequestOfFourKeptAliveConnectionsIsAnsweredInOrderByteForByteByAServerOfTheSameThread() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            Crew server = new Crew();
            MiniHttp.acceptLoop(listener, server, MiniHttp::answer, log);
            Crew clients = new Crew();
            for (int i = 0; i < 4; i++) {
                int client = i;
                clients.spawn("client-" + i, () -> {
                    try (TcpConnection c = TcpConnection.connect(listener.localAddress())) {
                        MiniHttp.Reader in = new MiniHttp.Reader(c);
                        for (int r = 0; r < 25; r++) {
                            int n = (client * 25 + r) * 997 % 70_000; // from none to more than a read takes at once
                            c.write(ByteBuffer.wrap(MiniHttp.get("/bytes/" + n)));
                            MiniHttp.Response response = in.response();
                            assertThat(response.status()).isEqualTo(200);
                            assertThat(response.body()).as("the body of request %d of client %d", r, client).isEqualTo(MiniHttp.pattern(n));
                        }
                    }
                });
            }
            clients.join();
            listener.close();
            server.join();
            assertThat(log).containsExactlyInAnyOrder("conn-0 served 25", "conn-1 served 25", "conn-2 served 25", "conn-3 served 25",
                    "acceptor: java.io.IOException: coroutine 'acceptor' cannot accept on listener " + listener.localAddress()
                            + " (closed): the listener was closed while it waited");
        }
        assertThat(LoopProbe.ioWaits()).isZero();
        assertThat(LoopProbe.registeredChannels()).isZero();
        assertThat(LoopProbe.selectorOpen()).isFalse();
    }

    @Test
    void pipelinedRequestsInOneSegmentAndARequestSentOneByteAtATimeAreAnsweredInOrderByAServerOnAPool() throws Exception {
        CompletableFuture<InetSocketAddress> address = new CompletableFuture<>();
        CompletableFuture<Void> stop = new CompletableFuture<>();
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            CompletableFuture<String> server = pool.submit(() -> {
                try {
                    TcpListener listener = TcpListener.bind(LOOPBACK);
                    address.complete((InetSocketAddress) listener.localAddress());
                    Crew crew = new Crew();
                    MiniHttp.acceptLoop(listener, crew, MiniHttp::answer, log);
                    Coroutine.await(stop);
                    listener.close();
                    crew.join();
                    return "I/O waits " + LoopProbe.ioWaits() + ", channels registered " + LoopProbe.registeredChannels()
                            + ", selector open " + LoopProbe.selectorOpen();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            InetSocketAddress at = Coroutine.await(address);

            // twenty requests with bodies in one write of a blocking socket, the last asking to close
            ByteArrayOutputStream requests = new ByteArrayOutputStream();
            StringBuilder expected = new StringBuilder();
            for (int i = 0; i < 20; i++) {
                byte[] body = ("body of " + i).getBytes(StandardCharsets.ISO_8859_1);
                requests.writeBytes(MiniHttp.request("POST", "/p" + i, body, i == 19));
                String answer = "POST /p" + i + " body of " + i;
                expected.append("HTTP/1.1 200 OK\r\nContent-Length: ").append(answer.length()).append("\r\n")
                        .append(i == 19 ? "Connection: close\r\n" : "").append("\r\n").append(answer);
            }
            try (Socket s = new Socket(at.getAddress(), at.getPort())) {
                s.getOutputStream().write(requests.toByteArray());
                assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1)).isEqualTo(expected.toString());
            }

            // one request, each of its bytes a segment of its own
            try (Socket s = new Socket(at.getAddress(), at.getPort())) {
                s.setTcpNoDelay(true);
                OutputStream out = s.getOutputStream();
                for (byte b : MiniHttp.request("POST", "/slow", "0123456789".getBytes(StandardCharsets.ISO_8859_1), true)) {
                    out.write(b);
                    out.flush();
                }
                assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1))
                        .isEqualTo("HTTP/1.1 200 OK\r\nContent-Length: 21\r\nConnection: close\r\n\r\nPOST /slow 0123456789");
            }
            stop.complete(null);
            assertThat(Coroutine.await(server)).isEqualTo("I/O waits 0, channels registered 0, selector open false");
            assertThat(log).containsExactly("conn-0 served 20", "conn-1 served 1",
                    "acceptor: java.io.IOException: coroutine 'acceptor' cannot accept on listener " + at
                            + " (closed): the listener was closed while it waited");
        }
    }
}
