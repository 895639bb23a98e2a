package dev.coro.bench.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Every echo server returns every byte the load generator sends, on the right connection, and the load
 * generator counts and checks them all. Bounded by count (C = 4, 200 echoes); the deadline only guards
 * against a hang.
 */
class EchoLoadTest {

    private static final long GUARD = TimeUnit.SECONDS.toNanos(60);

    @Test
    void nioServerEchoesEveryByte() throws Exception {
        try (EchoServer server = NioEchoServer.start(0)) {
            exchange(server);
        }
    }

    @Test
    void nettyServerEchoesEveryByte() throws Exception {
        try (EchoServer server = NettyEchoServer.start(0)) {
            exchange(server);
        }
    }

    @Test
    void virtualThreadServerEchoesEveryByte() throws Exception {
        try (EchoServer server = VirtualThreadEchoServer.start(0)) {
            exchange(server);
        }
    }

    @Test
    void coroServerEchoesEveryByte() throws Exception {
        try (EchoServer server = CoroEchoServer.start(0)) {
            exchange(server);
        }
    }

    @Test
    void coroServerClosedFromAnotherThreadWhileConnectionsAreOpenStopsListening() throws Exception {
        EchoServer server = CoroEchoServer.start(0);
        try (EchoLoad load = new EchoLoad(EchoServer.HOST, server.port(), 4)) {
            load.connect(GUARD);
            assertThat(load.exchange(20, GUARD)).isEqualTo(20);
            server.close(); // this thread is not the server's: four connection coroutines are parked in read
            server.close(); // twice is fine
            try (SocketChannel ch = SocketChannel.open()) {
                assertThatThrownBy(() -> ch.connect(new InetSocketAddress(EchoServer.HOST, server.port())))
                        .isInstanceOf(ConnectException.class);
            }
        }
    }

    @Test
    void idleModeHoldsConnectionsAfterOneEchoEach() throws Exception {
        try (EchoServer server = NioEchoServer.start(0);
             EchoLoad load = new EchoLoad(EchoServer.HOST, server.port(), 8)) {
            load.connect(GUARD);
            IdleResult r = load.idle("nio", 1, 8, 0, -1, -1);
            assertThat(r.errors()).isZero();
            assertThat(load.checkedBytes()).isEqualTo(8L * EchoLoad.REQUEST_BYTES);
        }
    }

    @Test
    void aCorruptedEchoIsCounted() throws Exception {
        try (ServerSocketChannel listener = ServerSocketChannel.open()) {
            listener.bind(new InetSocketAddress(EchoServer.HOST, 0));
            Thread server = Thread.ofVirtual().start(() -> { // echoes one request with its first byte flipped
                try (SocketChannel ch = listener.accept()) {
                    ByteBuffer b = ByteBuffer.allocate(EchoLoad.REQUEST_BYTES);
                    while (b.hasRemaining() && ch.read(b) >= 0) {
                        // until the whole request is in
                    }
                    b.put(0, (byte) ~b.get(0)).flip();
                    while (b.hasRemaining()) {
                        ch.write(b);
                    }
                    ch.read(ByteBuffer.allocate(1)); // until the client closes
                } catch (IOException e) {
                    // the client resets the connection when it closes
                }
            });
            try (EchoLoad load = new EchoLoad(EchoServer.HOST, listener.socket().getLocalPort(), 1)) {
                load.connect(GUARD);
                assertThat(load.exchange(1, GUARD)).isEqualTo(1);
                assertThat(load.errors()).isEqualTo(1);
            }
            server.join();
        }
    }

    private static void exchange(EchoServer server) throws Exception {
        try (EchoLoad load = new EchoLoad(EchoServer.HOST, server.port(), 4)) {
            load.connect(GUARD);
            assertThat(load.exchange(200, GUARD)).isEqualTo(200);
            assertThat(load.errors()).isZero();
            assertThat(load.checkedBytes()).isEqualTo(200L * EchoLoad.REQUEST_BYTES);
            assertThat(load.histogram().count()).isEqualTo(200);
        }
    }
}
