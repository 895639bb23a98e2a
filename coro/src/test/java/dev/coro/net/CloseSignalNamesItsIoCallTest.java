package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.name;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine;
import dev.coro.Coroutine.State;
import dev.coro.CoroutineExit;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The exit signal a close throws into a coroutine parked on the network names the call it ends, as a dump
 * names that wait ({@code its read from connection A -> B throws this signal}, {@code its accept on listener A},
 * {@code its write to connection A -> B}), on both engines, where it said only {@code its suspended call}; the
 * wait is left (no I/O wait remains).
 */
@Tag("net")
@ExtendWith(FreshThread.class)
class CloseSignalNamesItsIoCallTest {

    private final List<String> log = new ArrayList<>();

    /** A call that may throw anything, for {@link #parkIn}. */
    @FunctionalInterface
    private interface Call {
        void run() throws Exception;
    }

    /** Starts coroutine {@code name} running {@code call}, logging the message of the exit signal that ends it, and lets it park. */
    private Coroutine parkIn(String name, Call call) {
        Coroutine c = Coroutine.create(name, () -> {
            try {
                call.run();
                log.add("returned");
            } catch (CoroutineExit e) {
                log.add(e.getMessage());
                throw e;
            } catch (Exception e) {
                log.add("threw " + e);
            }
        });
        for (int i = 0; i < 100 && c.state() != State.PARKED; i++) {
            Coroutine.yield(); // until its wait parks it (a write fills the socket's buffers first)
        }
        assertThat(c.state()).isEqualTo(State.PARKED);
        return c;
    }

    /** The message of the close's signal of coroutine {@code name} thrown from {@code call}. */
    private static String signal(String name, String call) {
        return "coroutine '" + name + "' is being closed: its " + call + " throws this signal so that it unwinds"
                + " (state RUNNING, closing)";
    }

    @Test
    @Timeout(10)
    void theSignalOfACoroutineClosedInAReadNamesTheReadAndTheConnection() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection c = listener.accept()) {
            Coroutine reader = parkIn("reader", () -> c.read(ByteBuffer.allocate(16))); // the peer sends nothing
            reader.close();
            assertThat(reader.state()).isEqualTo(State.CLOSED);
            assertThat(log).containsExactly(signal("reader", "read from " + name(c)));
            assertThat(LoopProbe.ioWaits()).isZero();
        }
    }

    @Test
    @Timeout(10)
    void theSignalOfACoroutineClosedInAWriteNamesTheWriteAndTheConnection() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection c = listener.accept()) {
            Coroutine writer = parkIn("writer", () -> c.write(ByteBuffer.allocate(64 << 20))); // the peer never reads
            writer.close();
            assertThat(writer.state()).isEqualTo(State.CLOSED);
            assertThat(log).containsExactly(signal("writer", "write to " + name(c)));
            assertThat(LoopProbe.ioWaits()).isZero();
        }
    }

    @Test
    @Timeout(10)
    void theSignalOfACoroutineClosedInAnAcceptNamesTheAcceptAndTheListener() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            Coroutine acceptor = parkIn("acceptor", listener::accept); // nobody connects
            acceptor.close();
            assertThat(acceptor.state()).isEqualTo(State.CLOSED);
            assertThat(log).containsExactly(signal("acceptor", "accept on listener " + listener.localAddress()));
            assertThat(LoopProbe.ioWaits()).isZero();
        }
    }
}
