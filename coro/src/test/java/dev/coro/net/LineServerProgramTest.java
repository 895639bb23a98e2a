package dev.coro.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.CoroutinePool;
import dev.coro.CoroutineTimeoutException;
import dev.coro.Select;
import dev.coro.management.CoroutinesManagement;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Whole programs a user would write around a line-protocol TCP server, checked against the docs. */
@Tag("net")
class LineServerProgramTest {

    /** What the server counted, handed back when it has shut down. */
    record Served(int accepted, int closedInFinally, long bytesIn, List<String> failures) {
    }

    @Test
    void aLineServerOnAPoolServesThreadAndCoroutineClientsAndShutsDownMidRead() throws Exception {
        CompletableFuture<InetSocketAddress> address = new CompletableFuture<>();
        CompletableFuture<Void> stop = new CompletableFuture<>();
        ConcurrentHashMap<String, AtomicInteger> finallies = new ConcurrentHashMap<>();
        AtomicLong bytesIn = new AtomicLong(); // what the server's connections read: the pool's thread adds, the test waits for it
        // every line of the plain and the coroutine clients, the reset one's part of a line and the first idle one's
        long expected = 0;
        for (int k = 0; k < 3; k++) {
            for (int i = 0; i < 20; i++) {
                expected += ("plain " + k + " line " + i + "\n").length() + ("coro " + k + " line " + i + "\n").length();
            }
        }
        expected += "half a li".length() + "never end".length();
        String dumpSeen;
        String jmxDump;
        Served served;
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            CompletableFuture<Served> server = pool.submit(() -> {
                List<String> failures = new ArrayList<>();
                AtomicInteger closed = new AtomicInteger();
                List<Coroutine> conns = new ArrayList<>();
                TcpListener l;
                try {
                    l = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                address.complete((InetSocketAddress) l.localAddress());
                Coroutine.create("stopper", () -> {
                    Coroutine.await(stop);
                    try {
                        l.close();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    for (Coroutine c : conns) {
                        c.close();
                    }
                });
                int n = 0;
                try {
                    while (n < 100) {
                        TcpConnection c = l.accept();
                        int k = n++;
                        conns.add(Coroutine.create("conn-" + k, () -> serve(c, k, bytesIn, closed, failures, finallies)));
                    }
                } catch (IOException e) {
                    assertThat(e.getMessage()).contains("accept").contains("closed");
                }
                return new Served(n, closed.get(), bytesIn.get(), failures);
            });
            InetSocketAddress at = Coroutine.await(address);

            // three clients on plain threads, with blocking sockets
            List<Thread> plain = new ArrayList<>();
            List<String> plainReplies = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int t = 0; t < 3; t++) {
                int k = t;
                plain.add(Thread.ofPlatform().start(() -> {
                    try (Socket s = new Socket(at.getAddress(), at.getPort())) {
                        PrintWriter out = new PrintWriter(s.getOutputStream(), true, StandardCharsets.UTF_8);
                        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
                        for (int i = 0; i < 20; i++) {
                            out.println("plain " + k + " line " + i);
                            plainReplies.add(in.readLine());
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }));
            }
            // three clients as coroutines of the pool
            List<CompletableFuture<List<String>>> coroClients = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                int k = t;
                coroClients.add(pool.submit(() -> {
                    List<String> got = new ArrayList<>();
                    try (TcpConnection c = TcpConnection.connect(at)) {
                        PrintWriter out = new PrintWriter(c.output(), true, StandardCharsets.UTF_8);
                        BufferedReader in = new BufferedReader(new InputStreamReader(c.input(), StandardCharsets.UTF_8));
                        for (int i = 0; i < 20; i++) {
                            out.println("coro " + k + " line " + i);
                            got.add(in.readLine());
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    return got;
                }));
            }
            for (Thread t : plain) {
                t.join();
            }
            List<String> coroReplies = new ArrayList<>();
            for (CompletableFuture<List<String>> f : coroClients) {
                coroReplies.addAll(Coroutine.await(f));
            }
            // a client that resets the connection mid-line
            try (Socket s = new Socket(at.getAddress(), at.getPort())) {
                OutputStream o = s.getOutputStream();
                o.write("half a li".getBytes(StandardCharsets.UTF_8));
                o.flush();
                s.setSoLinger(true, 0);
            }
            // two clients left mid-line while the server shuts down
            Socket idle1 = new Socket(at.getAddress(), at.getPort());
            Socket idle2 = new Socket(at.getAddress(), at.getPort());
            idle1.getOutputStream().write("never end".getBytes(StandardCharsets.UTF_8));
            idle1.getOutputStream().flush();
            // wait until the reset connection's coroutine has ended, both idle ones are parked in a read, and the
            // first idle one's bytes were read: a connection parked in its read before they came shows so in a dump
            // until the pool's thread takes in that they came, which the stop may precede, and its close would cut
            // the read short; bounded by a time, not by a count of dumps: the pool's thread may be slow to get there
            // on a loaded machine
            String seen = "";
            long giveUp = System.nanoTime() + Duration.ofSeconds(30).toNanos(); // a guard against a hang, not a measure
            while (!(finallies.containsKey("conn-6") && seen.contains("conn-8")
                    && countOf(seen, "waits to read from connection") >= 2 && bytesIn.get() == expected)
                    && System.nanoTime() - giveUp < 0) {
                seen = CoroutinesManagement.mxBean().dump(50);
            }
            jmxDump = seen;
            dumpSeen = Coroutine.dump();
            stop.complete(null);
            served = Coroutine.await(server);
            assertThat(idle1.getInputStream().read()).isEqualTo(-1);
            assertThat(idle2.getInputStream().read()).isEqualTo(-1);
            idle1.close();
            idle2.close();

            assertThat(plainReplies).hasSize(60).allMatch(r -> r.startsWith("echo plain "));
            assertThat(coroReplies).hasSize(60).allMatch(r -> r.startsWith("echo coro "));
        }
        assertThat(jmxDump).contains("conn-8").contains("waits to read from connection");
        assertThat(dumpSeen).contains("main");
        assertThat(served.accepted()).isEqualTo(9);
        assertThat(served.closedInFinally()).isEqualTo(9);
        assertThat(finallies.values()).allMatch(a -> a.get() == 1);
        assertThat(finallies).hasSize(9);
        assertThat(served.bytesIn()).isEqualTo(expected);
        assertThat(served.failures()).hasSize(1);
        assertThat(served.failures().get(0)).contains("conn-6");
    }

    private static int countOf(String s, String part) {
        int n = 0;
        for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }

    /** A connection's coroutine: reads lines, each within a time, and answers through a select. */
    private static void serve(TcpConnection c, int k, AtomicLong bytesIn, AtomicInteger closed, List<String> failures,
                              ConcurrentHashMap<String, AtomicInteger> finallies) {
        Channel<String> replies = new Channel<>("replies-" + k, 1);
        Coroutine.create("replier-" + k, () -> {
            for (String line : replies) {
                Coroutine.yield();
            }
        });
        try {
            PrintWriter out = new PrintWriter(c.output(), true, StandardCharsets.UTF_8);
            var counting = new java.io.FilterInputStream(c.input()) {
                @Override
                public int read() throws IOException {
                    int b = super.read();
                    if (b >= 0) {
                        bytesIn.incrementAndGet();
                    }
                    return b;
                }

                @Override
                public int read(byte[] buf, int off, int len) throws IOException {
                    int n = super.read(buf, off, len);
                    if (n > 0) {
                        bytesIn.addAndGet(n);
                    }
                    return n;
                }
            };
            BufferedReader in = new BufferedReader(new InputStreamReader(counting, StandardCharsets.UTF_8));
            while (true) {
                String line;
                try {
                    line = Coroutine.withTimeout(Duration.ofSeconds(60), () -> {
                        try {
                            return in.readLine();
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    });
                } catch (CoroutineTimeoutException e) {
                    break;
                }
                if (line == null) {
                    break;
                }
                String reply = new Select<String>()
                        .onSend(replies, line, () -> "echo " + line)
                        .onTimeout(Duration.ofSeconds(60), () -> "busy")
                        .select();
                out.println(reply);
            }
        } catch (UncheckedIOException e) {
            failures.add(Coroutine.current().name() + ": " + e.getCause().getMessage());
        } finally {
            replies.close();
            try {
                c.close();
            } catch (IOException e) {
                failures.add("close: " + e);
            }
            closed.incrementAndGet();
            finallies.computeIfAbsent("conn-" + k, x -> new AtomicInteger()).incrementAndGet();
        }
    }
}
