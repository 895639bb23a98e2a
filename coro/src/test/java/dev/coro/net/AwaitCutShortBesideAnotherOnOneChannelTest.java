package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine;
import dev.coro.Coroutine.State;
import dev.coro.CoroutineTimeoutException;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An {@link Io#await} for {@code OP_WRITE} cut short by its timeout while another coroutine of the thread
 * awaits {@code OP_READ} on the same socket: the reader's wait and the channel's registration stay, the
 * reader is woken by the bytes that come, and once it has returned nothing is left registered.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class AwaitCutShortBesideAnotherOnOneChannelTest {

    @Test
    @Timeout(30)
    void aWriterTimedOutBesideAWaitingReaderLeavesTheReadersWaitWhichTheNextBytesWake() throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(LOOPBACK);
             SocketChannel socket = SocketChannel.open(server.getLocalAddress());
             SocketChannel peer = server.accept()) {
            socket.configureBlocking(false);
            ByteBuffer chunk = ByteBuffer.allocate(1 << 16);
            long written = 0;
            for (int n; (n = socket.write(chunk)) > 0; chunk.clear()) {
                written += n; // until the socket's buffers are full: a wait for OP_WRITE parks
            }
            List<String> log = new ArrayList<>();
            Coroutine reader = Coroutine.create("reader", () -> {
                try {
                    Io.await(socket, SelectionKey.OP_READ);
                    log.add("reader woken");
                } catch (IOException e) {
                    log.add("reader failed: " + e);
                }
            });
            Coroutine writer = Coroutine.create("writer", () -> {
                try {
                    Coroutine.callWithTimeout(Duration.ofMillis(20), () -> {
                        Io.await(socket, SelectionKey.OP_WRITE);
                        return null;
                    });
                    log.add("writer woken");
                } catch (CoroutineTimeoutException e) {
                    log.add("writer timed out");
                } catch (IOException e) {
                    log.add("writer failed: " + e);
                }
            });
            writer.join();
            assertThat(reader.state()).isEqualTo(State.PARKED);
            assertThat(LoopProbe.ioWaits()).as("the reader's wait alone").isEqualTo(1);
            assertThat(LoopProbe.validKeys()).as("the reader still holds the registration").isEqualTo(1);

            ByteBuffer drain = ByteBuffer.allocate(1 << 16);
            for (long read = 0; read < written; drain.clear()) {
                read += peer.read(drain); // the peer takes every byte: the socket turns writable, nobody waits for that
            }
            peer.write(bytes("y"));
            reader.join();
            assertThat(log).containsExactly("writer timed out", "reader woken");
            assertThat(LoopProbe.ioWaits()).isZero();
            assertThat(LoopProbe.selectorOpen()).isFalse();
            socket.configureBlocking(true); // refused while a selector of the thread still held the socket
        }
    }
}
