package dev.coro.bench.net;

import static org.assertj.core.api.Assertions.assertThat;

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
    void idleModeHoldsConnectionsAfterOneEchoEach() throws Exception {
        try (EchoServer server = NioEchoServer.start(0);
             EchoLoad load = new EchoLoad(EchoServer.HOST, server.port(), 8)) {
            load.connect(GUARD);
            IdleResult r = load.idle("nio", 1, 8, 0, -1, -1);
            assertThat(r.errors()).isZero();
            assertThat(load.checkedBytes()).isEqualTo(8L * EchoLoad.REQUEST_BYTES);
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
