package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static dev.coro.net.TcpConnectionTest.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine;
import dev.coro.Coroutine.State;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link Io#await} on a socket whose non-blocking connect is in progress: the JDK reports such a socket
 * ready to read or write only once {@code finishConnect} has completed the connect, so a wait for
 * {@code OP_READ} or {@code OP_WRITE} alone is refused (it would park for good while the kernel's
 * readiness of the connected socket woke the thread's selector at every select), and a wait that has
 * {@code OP_CONNECT} among its operations is woken by the connect.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class AwaitDuringAConnectTest {

    private final List<String> log = new ArrayList<>();

    /**
     * {@code OP_WRITE}, {@code OP_READ} and both, without {@code OP_CONNECT}, on a socket whose connect
     * is in progress: each refused at once with an {@code IllegalArgumentException} naming the caller, the
     * operations and the socket, and saying what to do; nothing is registered. The wait for
     * {@code OP_WRITE} had parked for good, spinning the thread, once the kernel had connected the socket.
     */
    @Test
    @Timeout(30)
    void awaitingReadOrWriteWithoutOpConnectWhileTheConnectIsInProgressIsRefusedNamingTheCallerAndTheSocket()
            throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK); SocketChannel dialer = SocketChannel.open()) {
            dialer.configureBlocking(false);
            assertThat(dialer.connect(listener.localAddress())).as("a non-blocking connect is in progress").isFalse();
            for (int ops : new int[] {SelectionKey.OP_WRITE, SelectionKey.OP_READ, SelectionKey.OP_READ | SelectionKey.OP_WRITE}) {
                Coroutine waiter = Coroutine.create("waiter", () -> {
                    try {
                        Io.await(dialer, ops);
                        log.add("returned");
                    } catch (IllegalArgumentException | IOException e) {
                        log.add(e.getClass().getSimpleName() + ": " + e.getMessage());
                    }
                });
                Coroutine.yield(); // the waiter runs until its await throws, or parks
                State state = waiter.state();
                waiter.close(); // a no-op once it has ended
                assertThat(state).as("refused at once, not parked").isEqualTo(State.FINISHED);
                assertThat(log).containsExactly("IllegalArgumentException: coroutine 'waiter' cannot await "
                        + Io.describeOps(ops) + " on " + dialer
                        + ": its connect is in progress; await OP_CONNECT and call finishConnect first");
                log.clear();
            }
            assertThat(dialer.isConnectionPending()).as("the refusals left the connect alone").isTrue();
            assertThat(LoopProbe.ioWaits()).isZero();
            assertThat(LoopProbe.selectorOpen()).as("nothing was registered").isFalse();
        }
    }

    /**
     * A wait for {@code OP_CONNECT} with {@code OP_WRITE} on a socket whose connect is in progress is let
     * through and woken by the connect; once {@code finishConnect} has completed it, {@code OP_WRITE}
     * alone is awaited as on any connected socket, and the byte written reaches the peer.
     */
    @Test
    @Timeout(30)
    void awaitingOpConnectWithOpWriteWhileTheConnectIsInProgressIsWokenByTheConnect() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK); SocketChannel dialer = SocketChannel.open()) {
            dialer.configureBlocking(false);
            assertThat(dialer.connect(listener.localAddress())).as("a non-blocking connect is in progress").isFalse();
            Io.await(dialer, SelectionKey.OP_CONNECT | SelectionKey.OP_WRITE);
            assertThat(dialer.finishConnect()).as("woken by the connect").isTrue();
            Io.await(dialer, SelectionKey.OP_WRITE);
            assertThat(dialer.write(bytes("x"))).isEqualTo(1);
            try (TcpConnection server = listener.accept()) {
                ByteBuffer buf = ByteBuffer.allocate(1);
                assertThat(server.read(buf)).isEqualTo(1);
                assertThat(text(buf)).isEqualTo("x");
            }
            assertThat(LoopProbe.ioWaits()).isZero();
        }
        assertThat(LoopProbe.registeredChannels()).isZero();
    }
}
