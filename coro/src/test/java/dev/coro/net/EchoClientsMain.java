package dev.coro.net;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.LoopProbe;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;

/**
 * The clients of {@link EchoStressTest}, in a JVM of their own (one process may not hold both ends of
 * ten thousand connections here): one thread, a coroutine per connection. All connections are open
 * at once before any sends; then each sends its messages from a writer coroutine while its reader
 * checks that every byte comes back in order, at most {@value #WINDOW} messages ahead. It prints a
 * summary line and exits with 0, or prints what went wrong and exits with 1.
 */
public final class EchoClientsMain {

    /** How many messages a connection's writer may be ahead of its reader. */
    static final int WINDOW = 2;
    /** How many connects may be in flight at once, so that the listener's backlog never overflows. */
    private static final int CONNECTING = 256;

    private EchoClientsMain() {
    }

    /**
     * Runs the clients.
     *
     * @param args the server's port, the number of connections, messages per connection, the largest
     *             message size and the seed
     */
    public static void main(String[] args) {
        int port = Integer.parseInt(args[0]);
        int connections = Integer.parseInt(args[1]);
        int messages = Integer.parseInt(args[2]);
        int maxSize = Integer.parseInt(args[3]);
        long seed = Long.parseLong(args[4]);
        try {
            System.out.println("engine " + LoopProbe.engine());
            long bytes = run(new InetSocketAddress("127.0.0.1", port), connections, messages, maxSize, seed);
            System.out.println("ok: " + connections + " connections, " + messages + " messages each, " + bytes
                    + " bytes echoed");
            System.exit(0);
        } catch (Throwable e) {
            System.out.println("failed: " + e);
            e.printStackTrace(System.out);
            System.exit(1);
        }
    }

    /**
     * A message size from 1 to {@code maxSize}, log-uniform: every power of two as likely, so that most
     * messages are small and some are as large as allowed.
     */
    static int size(Random r, int maxSize) {
        int bits = 32 - Integer.numberOfLeadingZeros(maxSize - 1); // maxSize <= 1 << bits
        int size = 1 + r.nextInt(1 << r.nextInt(bits + 1));
        return Math.min(size, maxSize);
    }

    /** The bytes messages are cut from: {@code maxSize} twice over, so that any offset below {@code maxSize} fits. */
    static byte[] block(int maxSize, long seed) {
        byte[] b = new byte[2 * maxSize];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static long run(InetSocketAddress server, int connections, int messages, int maxSize, long seed) {
        byte[] block = block(maxSize, seed);
        Channel<Boolean> connecting = new Channel<>("connecting", CONNECTING);
        Channel<Boolean> allConnected = new Channel<>("all-connected", 0);
        int[] connected = {0};
        long[] bytes = {0};
        Crew crew = new Crew();
        for (int i = 0; i < connections; i++) {
            int id = i;
            crew.spawn("client-" + id, () -> {
                connecting.send(true);
                TcpConnection c = TcpConnection.connect(server);
                connecting.receive();
                if (++connected[0] == connections) {
                    System.out.println("all " + connections + " connected at once");
                    allConnected.close();
                } else {
                    for (Boolean ignored : allConnected) {
                        // until the last one closes it
                    }
                }
                try (c) {
                    Channel<Boolean> window = new Channel<>("window-" + id, WINDOW);
                    crew.spawn("writer-" + id, () -> write(c, window, new Random(seed + id), block, messages, maxSize));
                    long got = read(c, window, new Random(seed + id), block, messages, maxSize, id); // parks
                    bytes[0] += got; // not "bytes[0] += read(...)": that reads bytes[0] before read() parks
                }
            });
        }
        crew.join();
        return bytes[0];
    }

    private static void write(TcpConnection c, Channel<Boolean> window, Random r, byte[] block, int messages, int maxSize)
            throws IOException {
        for (int m = 0; m < messages; m++) {
            int size = size(r, maxSize);
            int offset = r.nextInt(maxSize);
            window.send(true); // parks while WINDOW messages are not back yet
            c.write(ByteBuffer.wrap(block, offset, size));
        }
        c.shutdownOutput();
    }

    /** Reads every message back and checks it byte for byte; returns the bytes read. */
    private static long read(TcpConnection c, Channel<Boolean> window, Random r, byte[] block, int messages,
                             int maxSize, int id) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(8192);
        long total = 0;
        for (int m = 0; m < messages; m++) {
            int size = size(r, maxSize);
            int offset = r.nextInt(maxSize);
            int done = 0;
            while (done < size) {
                buf.clear().limit(Math.min(buf.capacity(), size - done));
                int n = c.read(buf);
                if (n < 0) {
                    throw new AssertionError("connection " + id + ": the stream ended in message " + m + " after "
                            + done + " of its " + size + " bytes");
                }
                int at = Arrays.mismatch(buf.array(), 0, n, block, offset + done, offset + done + n);
                if (at >= 0) {
                    throw new AssertionError("connection " + id + ": message " + m + " differs at byte " + (done + at)
                            + " of " + size);
                }
                done += n;
            }
            total += size;
            window.receive();
        }
        buf.clear();
        int n = c.read(buf);
        if (n >= 0) {
            throw new AssertionError("connection " + id + ": " + n + " bytes more than the " + messages + " messages");
        }
        return total;
    }
}
