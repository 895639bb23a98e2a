package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import dev.coro.management.CoroutinesManagement;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A dump of an HTTP server's thread, its own and the JMX view's from another thread, shows each of its
 * waits as it is: the acceptor waiting to accept on the listener, the coroutine of an idle kept-alive
 * connection waiting to read from that connection, and the coroutine writing a response larger than the
 * socket buffers to a client that does not read yet waiting to write to its connection; then the
 * client reads the whole response, every byte once in order.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
@Timeout(60)
class HttpServerDumpTest {

    private static final int LARGE = 32 << 20;

    private final List<String> log = Collections.synchronizedList(new ArrayList<>());

    @Test
    void theDumpShowsTheAcceptorTheIdleConnectionsReadAndTheLargeResponsesWriteEachWithItsConnection() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            Crew server = new Crew();
            Channel<String> answering = new Channel<>("answering", 1);
            MiniHttp.acceptLoop(listener, server, r -> {
                if (r.target().startsWith("/bytes/")) {
                    answering.send(r.target());
                }
                return MiniHttp.answer(r);
            }, log);
            TcpConnection idle = TcpConnection.connect(listener.localAddress());
            TcpConnection slow = TcpConnection.connect(listener.localAddress());
            idle.write(ByteBuffer.wrap(MiniHttp.get("/first")));
            MiniHttp.Reader idleIn = new MiniHttp.Reader(idle);
            assertThat(idleIn.response().text()).isEqualTo("GET /first ");
            slow.write(ByteBuffer.wrap(MiniHttp.get("/bytes/" + LARGE)));
            assertThat(answering.receive()).isEqualTo("/bytes/" + LARGE);

            String listening = "  [1] coroutine 'acceptor': PARKED, waits to accept on listener " + listener.localAddress();
            String reading = "  [2] coroutine 'conn-0': PARKED, waits to read from connection " + idle.remoteAddress()
                    + " -> " + idle.localAddress();
            String writing = "  [3] coroutine 'conn-1': PARKED, waits to write to connection " + slow.remoteAddress()
                    + " -> " + slow.localAddress();
            String dump = Coroutine.dump();
            for (int i = 0; i < 100 && !lines(dump).contains(writing); i++) { // until the writer has filled the buffers
                Coroutine.yield();
                dump = Coroutine.dump();
            }
            assertThat(lines(dump)).as(dump).contains(listening, reading, writing);
            String jmx = Coroutine.await(CompletableFuture.supplyAsync(() -> CoroutinesManagement.mxBean().dump(10)));
            assertThat(lines(jmx)).as(jmx).contains(listening, reading, writing);

            // the writer parked, and loses nothing: the client reads the whole response
            MiniHttp.Response response = new MiniHttp.Reader(slow).response();
            assertThat(response.body().length).isEqualTo(LARGE);
            assertThat(Arrays.equals(response.body(), MiniHttp.pattern(LARGE))).as("every byte of the response once, in order").isTrue();
            idle.close();
            slow.close();
            listener.close();
            server.join();
            assertThat(log).containsExactlyInAnyOrder("conn-0 served 1", "conn-1 served 1",
                    "acceptor: java.io.IOException: coroutine 'acceptor' cannot accept on listener " + listener.localAddress()
                            + " (closed): the listener was closed while it waited");
        }
        assertThat(LoopProbe.ioWaits()).isZero();
        assertThat(LoopProbe.registeredChannels()).isZero();
    }

    /**
     * The dump's lines; {@code (current)} left out, which the JMX view adds to the context that runs the
     * thread's idle wait (any of them), as it adds nothing to the wait that context shows.
     */
    private static List<String> lines(String dump) {
        return List.of(dump.replace(": PARKED (current), ", ": PARKED, ").split("\n"));
    }
}
