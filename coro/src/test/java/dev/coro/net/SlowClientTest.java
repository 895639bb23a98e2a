package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.name;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine;
import dev.coro.Coroutine.State;
import dev.coro.FreshThread;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A client that never reads parks only the server coroutine that writes to it: the same server
 * thread serves a hundred other clients in full meanwhile.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class SlowClientTest {

    /** What the slow client sends: more than the socket buffers of both directions hold on loopback. */
    private static final int SLOW_BYTES = 16 << 20;
    private static final int CLIENTS = 100;
    private static final int CLIENT_BYTES = 20_000;

    private final Map<String, IOException> echoFailures = new TreeMap<>();
    private final List<Coroutine> handlers = new ArrayList<>();
    /** The bytes each echo handler has written back, by its number. */
    private final long[] echoed = new long[CLIENTS + 1];

    @Test
    void aClientThatNeverReadsParksTheWriterToItWhileAHundredOthersAreServed() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            Crew server = new Crew();
            Crew clients = new Crew();
            List<TcpConnection> accepted = new ArrayList<>();
            server.spawn("acceptor", () -> {
                for (int i = 0; i <= CLIENTS; i++) {
                    TcpConnection c = listener.accept();
                    accepted.add(c);
                    int id = i;
                    handlers.add(server.spawn("echo-" + i, () -> echo(c, id)));
                }
            });

            TcpConnection[] slow = new TcpConnection[1];
            long[] slowSent = {0};
            IOException[] slowFailure = new IOException[1];
            Coroutine slowClient = clients.spawn("slow-client", () -> {
                slow[0] = TcpConnection.connect(listener.localAddress());
                ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
                try {
                    while (slowSent[0] < SLOW_BYTES) {
                        slow[0].write(chunk.clear());
                        slowSent[0] += chunk.capacity();
                    }
                } catch (IOException e) {
                    slowFailure[0] = e;
                }
            });
            // until the server's writer to it has filled the buffers and parked (bounded; each round
            // parks main for a millisecond, so the loop serves I/O meanwhile): parked in a write at two
            // rounds in a row, having echoed nothing between them. A write that waits its turn (every 65th
            // in a row that the socket takes at once) is parked too, but on a socket ready to write, which
            // the selector reports in the round after it, so the writer runs and echoes again there
            String parkedInWrite = null;
            String line = "coroutine 'echo-0': PARKED, waits to write to ";
            long echoedAtLastPark = -1;
            for (int round = 0; round < 60_000 && parkedInWrite == null; round++) {
                Coroutine.sleep(Duration.ofMillis(1));
                if (handlers.size() == 1 && handlers.get(0).state() == State.PARKED
                        && Coroutine.dump().contains(line + name(accepted.get(0)))) {
                    if (echoed[0] == echoedAtLastPark) {
                        parkedInWrite = line + name(accepted.get(0));
                    }
                    echoedAtLastPark = echoed[0];
                } else {
                    echoedAtLastPark = -1;
                }
            }
            assertThat(parkedInWrite).as("echo-0 parked in write; the slow client sent %d bytes", slowSent[0]).isNotNull();
            assertThat(slowSent[0]).as("the slow client is held up too").isLessThan(SLOW_BYTES);

            int[] served = {0};
            for (int k = 1; k <= CLIENTS; k++) {
                int id = k;
                clients.spawn("client-" + id, () -> {
                    try (TcpConnection c = TcpConnection.connect(listener.localAddress())) {
                        byte[] sent = payload(id);
                        c.write(ByteBuffer.wrap(sent));
                        c.shutdownOutput();
                        ByteBuffer back = ByteBuffer.allocate(CLIENT_BYTES + 1);
                        while (c.read(back) >= 0) {
                            // until the server closes its side
                        }
                        assertThat(Arrays.copyOf(back.array(), back.position())).isEqualTo(sent);
                        served[0]++;
                    }
                });
            }
            while (clients.running() > 1) {
                clients.awaitOne();
            }
            clients.check();
            assertThat(served[0]).isEqualTo(CLIENTS);
            assertThat(Coroutine.dump(Integer.MAX_VALUE)).contains(parkedInWrite);
            assertThat(slowClient.state()).isEqualTo(State.PARKED);

            slow[0].close(); // fails the slow client's write; the server's write then fails on the reset
            clients.join();
            server.join();
            assertThat(slowFailure[0]).hasMessage("coroutine 'slow-client' cannot write to " + name(slow[0])
                    + " (closed): the connection was closed while it waited");
            assertThat(echoFailures).containsOnlyKeys("echo-0");
            assertThat(echoFailures.get("echo-0").getMessage())
                    .startsWith("coroutine 'echo-0' cannot write to " + name(accepted.get(0)) + " (open): java.");
        }
    }

    /** Echoes until the end of the stream, then closes, counting the bytes in {@code echoed[id]}; an I/O failure is recorded. */
    private void echo(TcpConnection c, int id) {
        ByteBuffer buf = ByteBuffer.allocate(8192);
        try (c) {
            while (c.read(buf.clear()) >= 0) {
                c.write(buf.flip());
                echoed[id] += buf.limit();
            }
        } catch (IOException e) {
            echoFailures.put(Coroutine.current().name(), e);
        }
    }

    private static byte[] payload(int id) {
        byte[] b = new byte[CLIENT_BYTES];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i * 31 + id);
        }
        return b;
    }
}
