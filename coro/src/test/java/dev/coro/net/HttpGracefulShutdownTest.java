package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.CoroutinePool;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
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
 * An HTTP server on a pool thread shut down gracefully: its listener closed while five requests are in
 * flight (their handlers waiting), the accept loop ends with the documented exception, the port is
 * refused from then on, every in-flight request is still answered whole, the server's coroutines all
 * end, and its thread's loop is left with nothing: no wait, no registration, no selector, and the
 * process with no descriptor more than before.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
@Timeout(60)
class HttpGracefulShutdownTest {

    private static final int IN_FLIGHT = 5;

    private final List<String> log = Collections.synchronizedList(new ArrayList<>());

    @Test
    void closingTheListenerWithRequestsInFlightLetsEachBeAnsweredEndsTheAcceptLoopAndLeavesNothingOpen() throws Exception {
        serve(1); // the JDK's descriptors opened lazily, before counting
        log.clear();
        long before = RegistrationTest.openDescriptors();
        InetSocketAddress at = serve(IN_FLIGHT);
        assertThat(RegistrationTest.openDescriptors()).isLessThanOrEqualTo(before);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < IN_FLIGHT; i++) {
            expected.add("conn-" + i + " served 1");
        }
        expected.add("acceptor: java.io.IOException: coroutine 'acceptor' cannot accept on listener " + at
                + " (closed): the listener was closed while it waited");
        assertThat(log).containsExactlyInAnyOrderElementsOf(expected);
    }

    /** Serves {@code clients} requests in flight at once on a pool thread, shuts down, checks what is left; the address it served. */
    private InetSocketAddress serve(int clients) throws Exception {
        CompletableFuture<InetSocketAddress> address = new CompletableFuture<>();
        CompletableFuture<Void> stop = new CompletableFuture<>();
        Channel<String> inFlight = new Channel<>("in flight", clients);
        InetSocketAddress at;
        try (CoroutinePool servers = CoroutinePool.start(1); CoroutinePool users = CoroutinePool.start(1)) {
            CompletableFuture<String> server = servers.submit(() -> {
                try {
                    TcpListener listener = TcpListener.bind(LOOPBACK);
                    address.complete((InetSocketAddress) listener.localAddress());
                    CompletableFuture<Void> release = new CompletableFuture<>();
                    Crew crew = new Crew();
                    Coroutine acceptor = MiniHttp.acceptLoop(listener, crew, r -> {
                        inFlight.send(r.target());
                        Coroutine.await(release); // in flight until the listener is closed
                        return MiniHttp.answer(r);
                    }, log);
                    Coroutine.await(stop);
                    for (int i = 0; i < 100 && acceptor.state() != Coroutine.State.PARKED; i++) {
                        Coroutine.yield(); // until it waits in accept again after the last connection
                    }
                    listener.close();
                    release.complete(null);
                    crew.join();
                    return "I/O waits " + LoopProbe.ioWaits() + ", channels registered " + LoopProbe.registeredChannels()
                            + ", selector open " + LoopProbe.selectorOpen();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            at = Coroutine.await(address);
            List<CompletableFuture<String>> answers = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                int k = i;
                answers.add(users.submit(() -> {
                    try (TcpConnection c = TcpConnection.connect(at)) {
                        c.write(ByteBuffer.wrap(MiniHttp.request("POST", "/r" + k, ("body " + k).getBytes(StandardCharsets.ISO_8859_1), true)));
                        MiniHttp.Reader in = new MiniHttp.Reader(c);
                        String answer = in.response().text();
                        return answer + ", then " + c.read(ByteBuffer.allocate(1));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }));
            }
            for (int i = 0; i < clients; i++) {
                inFlight.receive();
            }
            stop.complete(null);
            for (int i = 0; i < clients; i++) {
                assertThat(Coroutine.await(answers.get(i))).isEqualTo("POST /r" + i + " body " + i + ", then -1");
            }
            assertThat(Coroutine.await(server)).isEqualTo("I/O waits 0, channels registered 0, selector open false");
            assertThatThrownBy(() -> TcpConnection.connect(at)).isInstanceOf(ConnectException.class)
                    .hasMessage("main context 'main' cannot connect to " + at + ": java.net.ConnectException: Connection refused");
            assertThat(LoopProbe.registeredChannels()).as("the refused connect's socket").isZero();
            assertThat(LoopProbe.selectorOpen()).isFalse();
        }
        return at;
    }
}
