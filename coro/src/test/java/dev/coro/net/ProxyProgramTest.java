package dev.coro.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Channel;
import dev.coro.Coroutine;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** A whole program: a TCP proxy, two pumping coroutines per client, between blocking peers on plain threads. */
@Tag("net")
class ProxyProgramTest {

    /** Copies {@code from} to {@code to} until the end of the stream, then half-closes {@code to}; counts the bytes. */
    private static void pump(TcpConnection from, TcpConnection to, AtomicLong count) {
        ByteBuffer buf = ByteBuffer.allocate(7919); // odd-sized, to cut writes anywhere
        try {
            while (from.read(buf.clear()) >= 0) {
                count.addAndGet(buf.flip().remaining());
                to.write(buf);
            }
            to.shutdownOutput();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void aProxyCarriesEveryByteBothWaysInOrderAndPassesEachHalfCloseOn() throws Exception {
        int clients = 4;
        int size = 3 << 20; // past the socket buffers both ways, so every pump parks in its writes too
        try (ServerSocket upstream = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            // upstream: reverses nothing, echoes every byte, then closes once its client half-closed
            Thread echo = Thread.ofPlatform().start(() -> {
                List<Thread> handlers = new ArrayList<>();
                try {
                    for (int i = 0; i < clients; i++) {
                        Socket s = upstream.accept();
                        handlers.add(Thread.ofPlatform().start(() -> {
                            try (s) {
                                s.setSoTimeout(60_000); // a guard: a broken proxy fails the test instead of hanging it
                                s.getInputStream().transferTo(s.getOutputStream());
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                        }));
                    }
                    for (Thread h : handlers) {
                        h.join();
                    }
                } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            CompletableFuture<InetSocketAddress> proxyAddress = new CompletableFuture<>();
            AtomicLong up = new AtomicLong();
            AtomicLong down = new AtomicLong();
            Thread proxy = Thread.ofPlatform().start(() -> {
                try (TcpListener l = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0))) {
                    proxyAddress.complete((InetSocketAddress) l.localAddress());
                    List<Coroutine> pumps = new ArrayList<>();
                    Channel<String> done = new Channel<>("done", 2 * clients);
                    for (int i = 0; i < clients; i++) {
                        TcpConnection client = l.accept();
                        TcpConnection server = TcpConnection.connect(upstream.getLocalSocketAddress());
                        pumps.add(Coroutine.create("up " + i, () -> {
                            try {
                                pump(client, server, up);
                            } finally {
                                done.send("up");
                            }
                        }));
                        pumps.add(Coroutine.create("down " + i, () -> {
                            try (client; server) {
                                pump(server, client, down);
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            } finally {
                                done.send("down");
                            }
                        }));
                    }
                    for (int i = 0; i < 2 * clients; i++) {
                        done.receive(); // parks while the pumps wait on their sockets
                    }
                    Coroutine.yield();
                    assertThat(pumps).allMatch(Coroutine::isFinished);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            InetSocketAddress at = proxyAddress.get();
            List<Thread> users = new ArrayList<>();
            List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int i = 0; i < clients; i++) {
                long seed = i;
                users.add(Thread.ofPlatform().start(() -> {
                    byte[] sent = new byte[size];
                    new Random(seed).nextBytes(sent);
                    try (Socket s = new Socket(at.getAddress(), at.getPort())) {
                        s.setSoTimeout(60_000); // a guard, as above
                        Thread writer = Thread.ofPlatform().start(() -> {
                            try {
                                OutputStream o = s.getOutputStream(); // closing it would close the socket
                                for (int off = 0; off < size; off += 100_003) {
                                    o.write(sent, off, Math.min(100_003, size - off));
                                }
                                s.shutdownOutput();
                            } catch (IOException e) {
                                failures.add(e);
                            }
                        });
                        InputStream in = s.getInputStream();
                        byte[] got = in.readAllBytes(); // up to the proxy passing the upstream's close on
                        writer.join();
                        assertThat(got.length).isEqualTo(size);
                        assertThat(java.util.Arrays.equals(got, sent)).as("every byte back, in order").isTrue();
                    } catch (IOException | InterruptedException | AssertionError e) {
                        failures.add(e);
                    }
                }));
            }
            for (Thread u : users) {
                u.join();
            }
            proxy.join();
            echo.join();
            assertThat(failures).isEmpty();
            assertThat(up.get()).isEqualTo((long) clients * size);
            assertThat(down.get()).isEqualTo((long) clients * size);
        }
    }
}
